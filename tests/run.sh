#!/usr/bin/env bash
# The test command: installs what is missing (Debian packages, Slurm and munge among them; it
# says which before it starts), builds symbatch showing progress, runs every test with ctest,
# then builds and runs the suite once more under AddressSanitizer and UndefinedBehaviorSanitizer.
# It leaves no lock file in /tmp.  Usage: tests/run.sh [--no-sanitize] [ctest arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/lib/deps.sh"
sanitize=1
if [ "${1:-}" = "--no-sanitize" ]; then
    sanitize=0
    shift
fi
# Say up front what this will do to the machine, before doing it.
missing=$(sb_missing_packages $SB_BUILD_PACKAGES $SB_TEST_PACKAGES)
echo "== tests/run.sh: builds symbatch (release$([ "$sanitize" = 1 ] && echo ", then ASan+UBSan")) and runs every test"
echo "   The Slurm test starts a private Slurm cluster (slurmctld, slurmd, munged) and stops it."
if [ -n "$missing" ]; then
    echo "   It installs these missing Debian packages first (root or sudo), Slurm and munge among"
    echo "   them when missing: $missing"
else
    echo "   Every Debian package it needs (the build's, Slurm and munge, h5py) is installed."
fi
sb_install_packages $SB_BUILD_PACKAGES $SB_TEST_PACKAGES
sb_mpi_env
# The Slurm test's lock (several builds picking ports at once) goes where lock files belong,
# not into /tmp, where it would stay after the run.
if [ -z "${SB_SLURM_LOCK:-}" ] && [ -d /run/lock ] && [ -w /run/lock ]; then
    export SB_SLURM_LOCK=/run/lock/symbatch-slurm-cluster.lock
fi
jobs=$(nproc)

# Build progress: every tenth percent of cmake's "[ 42%] ..." lines (the whole log stays in
# DIR.build.log).
progress() {
    awk -v label="$1" '/^\[ *[0-9]+%\]/ {
        p = substr($0, 2, index($0, "%") - 2) + 0
        if (p >= next_p) { printf "   %s: built %d%%\n", label, p; fflush(); next_p = p - p % 10 + 10 }
    }'
}

build_and_test() {
    local dir=$1 label=$2
    shift 2
    echo "== $label: configure and build in $dir"
    cmake -S "$root" -B "$dir" "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
    echo "== $label: build (-j $jobs; log in $dir.build.log)"
    if ! cmake --build "$dir" -j "$jobs" 2>&1 | tee "$dir.build.log" | progress "$label"; then
        cat "$dir.build.log"
        return 1
    fi
    if grep -E "warning:|error:" "$dir.build.log"; then
        echo "== $label: the build has warnings (see above); symbatch builds warning-free"
        return 1
    fi
    echo "== $label: ctest"
    (cd "$dir" && ctest --output-on-failure -j "$jobs" ${SB_CTEST_ARGS:-})
}

mkdir -p "$root/build"
build_and_test "$root/build/release" "release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "$sanitize" = 1 ]; then
    # The sanitizer pass looks for memory errors, not at sizes: SB_TEST_QUICK trims the largest
    # cases (the release pass ran them), and tests labelled slow are skipped.
    SB_TEST_QUICK=1 SB_CTEST_ARGS="-LE slow" build_and_test "$root/build/asan" "asan+ubsan" \
        -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON
fi
echo "== all tests passed"
