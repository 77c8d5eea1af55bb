#!/usr/bin/env bash
# A real single-node Slurm cluster for the tests, from Debian's slurm-wlm and munge (no systemd:
# the daemons are started by hand and stopped by the PIDs recorded here).
#
#   tests/slurm/cluster.sh start [--owner PID] [DIR]
#       Installs slurm-wlm and munge with apt-get when missing, writes DIR/slurm.conf for this
#       machine (CPUs = nproc, RealMemory = MemTotal minus a margin, MpiDefault=pmix, free ports),
#       starts munged (its own socket and key under DIR), slurmctld and slurmd, and waits until the
#       node is idle.  DIR defaults to a new /tmp/sb-slurm.XXXXXX.  Prints DIR on stdout (nothing
#       else); DIR/env exports SLURM_CONF for the clients (sbatch, srun, scontrol, sinfo).
#       With --owner PID a watchdog stops the cluster when that process ends; in any case it
#       stops the cluster after SB_SLURM_MAX_SECONDS (default 3600).
#   tests/slurm/cluster.sh stop DIR
#       Cancels every job of the cluster, then ends exactly the processes whose PIDs start
#       recorded in DIR/pids (TERM, then KILL after 10 s).  DIR (logs, state) is left in place.
#   tests/slurm/cluster.sh logs DIR
#       The end of every daemon log, to show when a test fails.
#
# Exit status: 0; 77 when Slurm or munge is not installed and cannot be installed (printed as a
# SKIP); 1 on any other failure (the daemon logs are printed).
# Needs root (munged runs as the munge user, slurmctld and slurmd as root).  Several clusters may
# run at once (several builds testing in parallel): each picks its own ports under a lock file.
set -u

SB_SLURM_PACKAGES=(slurm-wlm munge)
SB_SLURM_LOCK=${SB_SLURM_LOCK:-/tmp/symbatch-slurm-cluster.lock}
SB_SLURM_MAX_SECONDS=${SB_SLURM_MAX_SECONDS:-3600}

say() { echo "cluster.sh: $*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

have_packages() {
    local p
    for p in "${SB_SLURM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
    done
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null
}

install_packages() {
    have_packages && return 0
    say "installing Debian packages: ${SB_SLURM_PACKAGES[*]}"
    if [ "$(id -u)" != 0 ]; then
        say "SKIP: slurm-wlm/munge are missing and installing them needs root ***************"
        exit 77
    fi
    # Try the local package lists first (fast); update them only when that fails.
    # (waiting up to 2 minutes for dpkg's lock: another build may be installing at the same time)
    local apt=(apt-get -o DPkg::Lock::Timeout=120 -y -q --no-install-recommends)
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${SB_SLURM_PACKAGES[@]}" \
        >/dev/null 2>&1; then
        apt-get -o DPkg::Lock::Timeout=120 update -q >/dev/null 2>&1
        if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${SB_SLURM_PACKAGES[@]}" \
            >/dev/null 2>&1; then
            say "SKIP: cannot install ${SB_SLURM_PACKAGES[*]} with apt-get ****************************"
            exit 77
        fi
    fi
    have_packages || {
        say "SKIP: ${SB_SLURM_PACKAGES[*]} installed but slurmctld/slurmd/munged not found ***********"
        exit 77
    }
}

# A port nobody listens on or uses (any TCP state).
port_free() { [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]; }

# Two consecutive free ports from 17000-17999, starting at a place that depends on our PID so that
# parallel starters rarely try the same pair (the lock makes it safe anyway).
pick_ports() {
    local i p
    for ((i = 0; i < 500; i++)); do
        p=$((17000 + (($$ + i) % 500) * 2))
        if port_free "$p" && port_free $((p + 1)); then
            echo "$p"
            return 0
        fi
    done
    return 1
}

munge_key() {
    local key=/etc/munge/munge.key
    if [ ! -s "$key" ]; then
        say "creating the munge key $key"
        mkdir -p /etc/munge
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$key" >&2 || die "mungekey failed"
        else
            dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null || die "cannot write $key"
        fi
        chown munge:munge /etc/munge "$key"
        chmod 0700 /etc/munge
        chmod 0400 "$key"
    fi
    echo "$key"
}

write_conf() {
    local dir=$1 port=$2 cpus mem_kb mem_mb margin
    cpus=$(nproc)
    mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
    mem_mb=$((mem_kb / 1024))
    margin=$((mem_mb / 10 > 1024 ? mem_mb / 10 : 1024)) # slurmd drains a node that has less
    ((mem_mb - margin > 256)) && mem_mb=$((mem_mb - margin)) || mem_mb=256
    cat >"$dir/slurm.conf" <<EOF
# Written by tests/slurm/cluster.sh: a single-node test cluster (no cgroups, no accounting).
ClusterName=sbtest$port
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_DIR/munge.socket,cred_expire=10
MailProg=/bin/true
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$dir/state/ctld
SlurmdSpoolDir=$dir/state/d
SlurmctldPidFile=$dir/state/slurmctld.pid
SlurmdPidFile=$dir/state/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldPort=$port
SlurmdPort=$((port + 1))
# Per-cluster TmpFS (srun --mpi=pmix makes TmpFS/spmix_appdir_<uid>_<job>.<step>) and job ids
# of their own, so that clusters running side by side never share a path.
TmpFS=$dir/tmp
FirstJobId=$(((port - 17000) * 10000 + 1))
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
KillWait=5
MinJobAge=300
NodeName=localhost CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

# start_daemon NAME cmd...: runs cmd in the background with its output in DIR/log/NAME.out and
# records "NAME PID" in DIR/pids.  The daemons must not hold the caller's stdout or stderr open
# (ctest and $(...) wait for those to close).
start_daemon() {
    local name=$1
    shift
    "$@" </dev/null >"$DIR/log/$name.out" 2>&1 &
    echo "$name $!" >>"$DIR/pids"
}

pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$DIR/pids" 2>/dev/null | tail -n 1; }

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

show_logs() {
    local f
    for f in "$DIR"/log/* ${MUNGE_DIR:+"$MUNGE_DIR/munged.log"}; do
        [ -s "$f" ] || continue
        echo "  --- $f (last 20 lines)"
        tail -n 20 "$f" | sed 's/^/  | /'
    done
}

start_fail() {
    say "ERROR: $*"
    show_logs >&2
    stop_cluster
    exit 1
}

start_cluster() {
    install_packages
    command -v ss >/dev/null || die "ss (iproute2) is needed to choose free ports"
    local key port i state
    key=$(munge_key)
    mkdir -p "$DIR" || die "cannot create $DIR"
    DIR=$(cd "$DIR" && pwd)
    mkdir -p "$DIR/state/ctld" "$DIR/state/d" "$DIR/log" "$DIR/tmp"
    : >"$DIR/pids"
    # munged runs as the munge user, which must reach its folder (DIR may sit in a private one)
    # and refuses folders that others can write: its own folder under /tmp, removed by stop.
    MUNGE_DIR=$(mktemp -d /tmp/sb-munge.XXXXXX) || die "mktemp failed"
    echo "$MUNGE_DIR" >"$DIR/munge-dir"
    chown munge:munge "$MUNGE_DIR"
    chmod 0755 "$MUNGE_DIR"

    # Ports are chosen and taken under the lock, so that two clusters never pick the same pair.
    exec 9>>"$SB_SLURM_LOCK"
    flock -w 300 9 || die "could not take the lock $SB_SLURM_LOCK in 300 s"
    port=$(pick_ports) || die "no two free consecutive ports in 17000-17999"
    write_conf "$DIR" "$port"
    {
        echo "export SLURM_CONF='$DIR/slurm.conf'"
        echo "SB_CLUSTER_DIR='$DIR'"
    } >"$DIR/env"

    # munged: its own socket, so that it neither needs nor disturbs a system munged.
    local munge_cmd=(munged -F --socket="$MUNGE_DIR/munge.socket" --key-file="$key"
        --pid-file="$MUNGE_DIR/munged.pid" --log-file="$MUNGE_DIR/munged.log"
        --seed-file="$MUNGE_DIR/munged.seed")
    start_daemon munged setpriv --reuid=munge --regid=munge --init-groups "${munge_cmd[@]}"
    for ((i = 0; i < 100; i++)); do
        [ -S "$MUNGE_DIR/munge.socket" ] && break
        alive "$(pid_of munged)" || break
        sleep 0.1
    done
    [ -S "$MUNGE_DIR/munge.socket" ] || start_fail "munged did not create its socket"
    munge -S "$MUNGE_DIR/munge.socket" -n </dev/null | unmunge -S "$MUNGE_DIR/munge.socket" \
        >/dev/null 2>&1 || start_fail "munge/unmunge round trip through munged failed"

    export SLURM_CONF=$DIR/slurm.conf
    start_daemon slurmctld slurmctld -D -i -f "$SLURM_CONF"
    start_daemon slurmd slurmd -D -N localhost -f "$SLURM_CONF"
    state=
    for ((i = 0; i < 300; i++)); do # 30 s
        state=$(sinfo -h -o %t 2>/dev/null)
        [ "$state" = idle ] && break
        alive "$(pid_of slurmctld)" || start_fail "slurmctld exited"
        alive "$(pid_of slurmd)" || start_fail "slurmd exited"
        sleep 0.1
    done
    [ "$state" = idle ] || start_fail "the node is not idle after 30 s (sinfo says '$state')"
    flock -u 9
    exec 9>&-

    start_watchdog
    say "cluster up in $DIR (ports $port and $((port + 1)), $(nproc) CPUs)"
    echo "$DIR"
}

# The watchdog stops the cluster when the owner process ends, or after SB_SLURM_MAX_SECONDS, so
# that a test killed without its cleanup leaves no daemons behind.
start_watchdog() {
    local self
    self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
    (
        trap - EXIT
        end=$((SECONDS + SB_SLURM_MAX_SECONDS))
        while ((SECONDS < end)); do
            if [ -n "$OWNER" ] && ! kill -0 "$OWNER" 2>/dev/null; then
                break
            fi
            sleep 2
        done
        echo "watchdog: stopping the cluster (owner '$OWNER' gone or $SB_SLURM_MAX_SECONDS s up)"
        SB_SLURM_FROM_WATCHDOG=1 bash "$self" stop "$DIR"
    ) </dev/null >"$DIR/log/watchdog.out" 2>&1 &
    echo "watchdog $!" >>"$DIR/pids"
}

stop_cluster() {
    [ -f "$DIR/pids" ] || return 0
    local name pid i left
    if [ -f "$DIR/slurm.conf" ] && alive "$(pid_of slurmctld)"; then
        # Cancel the jobs first so that no job step outlives slurmd.
        SLURM_CONF=$DIR/slurm.conf scancel --full --quiet --user="$(id -un)" 2>/dev/null
        SLURM_CONF=$DIR/slurm.conf scancel --quiet --user="$(id -un)" 2>/dev/null
        for ((i = 0; i < 150; i++)); do # 15 s
            left=$(SLURM_CONF=$DIR/slurm.conf squeue -h -t all -o %T 2>/dev/null |
                grep -cE 'RUNNING|COMPLETING|CONFIGURING|SUSPENDED|STOPPED|SIGNALING')
            [ "${left:-0}" = 0 ] && break
            sleep 0.1
        done
    fi
    # Exactly the recorded processes, newest first (slurmd before slurmctld before munged).
    local pids=()
    while read -r name pid; do
        [ "$name" = watchdog ] && [ "${SB_SLURM_FROM_WATCHDOG:-0}" = 1 ] && continue
        pids=("$pid" "${pids[@]+"${pids[@]}"}")
    done <"$DIR/pids"
    for pid in "${pids[@]+"${pids[@]}"}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for ((i = 0; i < 100; i++)); do
        left=0
        for pid in "${pids[@]+"${pids[@]}"}"; do
            alive "$pid" && left=1
        done
        [ "$left" = 0 ] && break
        sleep 0.1
    done
    for pid in "${pids[@]+"${pids[@]}"}"; do
        if alive "$pid"; then
            say "pid $pid did not stop on TERM: KILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    mv "$DIR/pids" "$DIR/pids.stopped"
    if [ -f "$DIR/munge-dir" ]; then
        local m
        m=$(cat "$DIR/munge-dir")
        case $m in /tmp/sb-munge.*) cp "$m/munged.log" "$DIR/log/munged.log" 2>/dev/null; rm -rf "$m" ;; esac
    fi
}

OWNER=
MUNGE_DIR=
cmd=${1:-}
shift || true
if [ "${1:-}" = --owner ]; then
    OWNER=${2:?--owner needs a PID}
    shift 2
fi
case $cmd in
start)
    DIR=${1:-}
    if [ -z "$DIR" ]; then
        DIR=$(mktemp -d /tmp/sb-slurm.XXXXXX) || die "mktemp failed"
    fi
    start_cluster
    ;;
stop)
    DIR=${1:?usage: cluster.sh stop DIR}
    stop_cluster
    ;;
logs)
    DIR=${1:?usage: cluster.sh logs DIR}
    show_logs
    ;;
*)
    echo "usage: $0 start [--owner PID] [DIR] | stop DIR | logs DIR" >&2
    exit 2
    ;;
esac
