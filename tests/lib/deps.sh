# Installs the Debian packages symbatch needs, only those missing.  Sourced by tests/run.sh
# and jobs/quickstart.sh.  Needs root (or sudo) the first time on a fresh machine.
SB_BUILD_PACKAGES="build-essential cmake pkg-config libopenmpi-dev openmpi-bin libhdf5-openmpi-dev
  hdf5-tools libscalapack-openmpi-dev libopenblas-dev liblapacke-dev libyaml-dev libcmocka-dev"
# symbatch-plot (src/plot) runs on Debian's /usr/bin/python3 with these.
SB_PLOT_PACKAGES="python3-h5py python3-matplotlib"
SB_TEST_PACKAGES="$SB_PLOT_PACKAGES python3-numpy time slurm-wlm munge"

# sb_missing_packages PACKAGE...: prints the ones that are not installed, on one line.
sb_missing_packages() {
    local p missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    echo "${missing[*]}"
}

sb_install_packages() {
    local missing
    read -r -a missing <<<"$(sb_missing_packages "$@")"
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    echo "symbatch: installing missing Debian packages with apt-get (this takes a few minutes): ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "symbatch: need root or sudo to install ${missing[*]}" >&2; return 1; }
        sudo=sudo
    fi
    $sudo apt-get update -q >/dev/null || return 1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || return 1
}

# mpirun as root needs these; more ranks than cores needs oversubscription.
sb_mpi_env() {
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
}
