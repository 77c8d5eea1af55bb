# shellcheck shell=bash
# Helpers for the CLI tests in tests/cli, sourced by each script:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# ctest runs every tests/cli/*.sh, this file included: run directly, it tests its own helpers.
#
# Environment (set by tests/CMakeLists.txt; defaults make the scripts runnable by hand):
#   SB_BINARY      the symbatch executable (required)
#   SB_SOURCE_DIR  the repository root (default: two folders above this file)
#   SB_MPIEXEC     the MPI launcher (default: mpirun)
#   SB_CLI_TIMEOUT seconds one command may take before it counts as hung (default 300)
#   SB_CLI_VERBOSE set to 1 to print every passing check
set -u

SB_SOURCE_DIR=${SB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SB_MPIEXEC=${SB_MPIEXEC:-mpirun}
SB_CLI_TIMEOUT=${SB_CLI_TIMEOUT:-300}
SB_CLI_VERBOSE=${SB_CLI_VERBOSE:-0}
# What ctest sets, for runs by hand: root in containers, 4 ranks on 2 cores.
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1}
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

SB_CHECKS=0
SB_TEST_NAME=$(basename "$0" .sh)
SB_START_SECONDS=$SECONDS

# Every script gets a scratch folder, removed on exit whatever happens (chmod first: a test may
# leave a read-only folder behind).
SB_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/sb-cli-$SB_TEST_NAME.XXXXXX") || {
    echo "FAIL: cannot create a scratch folder" >&2
    exit 1
}
SB_CLEANUP_HOOKS=()
sb_on_exit() {
    local hook
    for hook in "${SB_CLEANUP_HOOKS[@]+"${SB_CLEANUP_HOOKS[@]}"}"; do
        eval "$hook" || true
    done
    chmod -R u+rwx "$SB_SCRATCH" 2>/dev/null
    rm -rf "$SB_SCRATCH"
}
trap sb_on_exit EXIT
trap 'exit 130' INT TERM
# cleanup_hook 'shell command': also run on exit (before the scratch folder goes).
cleanup_hook() { SB_CLEANUP_HOOKS+=("$1"); }

# Captured output of the last expect_rc / run_capture: files, and the exit status.
SB_OUT=$SB_SCRATCH/.last.out
SB_ERR=$SB_SCRATCH/.last.err
SB_RC=0

fail() {
    echo "FAIL [$SB_TEST_NAME]: $*" >&2
    echo "$SB_TEST_NAME: $SB_CHECKS passed, 1 failed ($((SECONDS - SB_START_SECONDS)) s)"
    exit 1
}

pass() {
    SB_CHECKS=$((SB_CHECKS + 1))
    if [ "$SB_CLI_VERBOSE" = 1 ]; then
        echo "ok $SB_CHECKS - $*"
    fi
    return 0
}

skip() { echo "SKIP [$SB_TEST_NAME]: $* ********************************************"; }

note() { echo "== $*"; }

finish() {
    echo "$SB_TEST_NAME: $SB_CHECKS passed, 0 failed ($((SECONDS - SB_START_SECONDS)) s)"
    exit 0
}

# Shows a captured file in a failure message (its end, indented).
show_file() {
    local label=$1 file=$2
    if [ -s "$file" ]; then
        echo "  --- $label ($file), last 15 lines:"
        tail -n 15 "$file" | sed 's/^/  | /'
    else
        echo "  --- $label: empty"
    fi
}
last_io() { show_file stdout "$SB_OUT"; show_file stderr "$SB_ERR"; }

# run_capture PREFIX cmd...: runs cmd (stdin from /dev/null, under a hang timeout) with stdout in
# PREFIX.out, stderr in PREFIX.err and the exit status in PREFIX.rc.  Never fails itself, so it
# can run in background jobs.
run_capture() {
    local prefix=$1
    shift
    local rc=0
    if declare -F "$1" >/dev/null; then
        "$@" >"$prefix.out" 2>"$prefix.err" </dev/null || rc=$? # a helper: it has its own timeout
    else
        timeout -k 10 "$SB_CLI_TIMEOUT" "$@" >"$prefix.out" 2>"$prefix.err" </dev/null || rc=$?
    fi
    echo "$rc" >"$prefix.rc"
    return 0
}

# expect_rc N cmd...: runs cmd, captures stdout in $SB_OUT and stderr in $SB_ERR, fails unless it
# exits with N.
expect_rc() {
    local want=$1
    shift
    run_capture "$SB_SCRATCH/.last" "$@"
    SB_RC=$(cat "$SB_SCRATCH/.last.rc")
    if [ "$SB_RC" != "$want" ]; then
        local why=
        [ "$SB_RC" = 124 ] || [ "$SB_RC" = 137 ] && why=" (timed out after $SB_CLI_TIMEOUT s?)"
        fail "exit status of: $*
  expected: $want
  got:      $SB_RC$why
$(last_io)"
    fi
    pass "exit $want: $*"
}

# mpirun_sb NP args...: symbatch on NP ranks.
mpirun_sb() {
    local np=$1
    shift
    timeout -k 10 "$SB_CLI_TIMEOUT" "$SB_MPIEXEC" -n "$np" "$SB_BINARY" "$@"
}

# check_eq WHAT EXPECTED GOT
check_eq() {
    if [ "$2" != "$3" ]; then
        fail "$1
  expected: $2
  got:      $3"
    fi
    pass "$1"
}

# check_contains WHAT FILE SUBSTRING: FILE has SUBSTRING (fixed string) somewhere.
check_contains() {
    if ! grep -qF -- "$3" "$2"; then
        fail "$1
  expected: a line containing '$3' in $2
  got:
$(show_file "$(basename "$2")" "$2")"
    fi
    pass "$1"
}

# check_not_contains WHAT FILE SUBSTRING
check_not_contains() {
    if grep -qF -- "$3" "$2"; then
        fail "$1
  expected: no line containing '$3' in $2
  got:      $(grep -nF -- "$3" "$2" | head -n 3)"
    fi
    pass "$1"
}

# check_matches WHAT FILE ERE: some line of FILE matches the extended regular expression.
check_matches() {
    if ! grep -qE -- "$3" "$2"; then
        fail "$1
  expected: a line matching /$3/ in $2
  got:
$(show_file "$(basename "$2")" "$2")"
    fi
    pass "$1"
}

check_file() {
    if [ ! -f "$2" ]; then
        fail "$1
  expected: a file at $2
  got:      $(ls -ld "$2" 2>&1)"
    fi
    pass "$1"
}

check_absent() {
    if [ -e "$2" ] || [ -L "$2" ]; then
        fail "$1
  expected: nothing at $2
  got:      $(ls -ld "$2" 2>&1)"
    fi
    pass "$1"
}

# rank_pids PID: the symbatch processes below PID (the ranks of an mpirun).
rank_pids() {
    local pids=$1 all
    all=$(ps -e -o pid=,ppid=,comm=)
    for _ in 1 2 3 4 5; do
        pids="$pids $(echo "$all" | awk -v p=" $pids " 'index(p, " " $2 " ") { print $1 }' |
            tr '\n' ' ')"
    done
    echo "$all" | awk -v p=" $pids " 'index(p, " " $1 " ") && $3 == "symbatch" { print $1 }' |
        sort -u
}

# wait_for FILE ERE SECONDS: waits until a line of FILE matches.
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "waited $3 s for /$2/ in $1
$(show_file "$(basename "$1")" "$1")"
}

# A listing of every path under a folder, with type and size, to compare before and after.
tree_snapshot() { (cd "$1" && find . -printf '%y %m %s %T@ %p\n' | LC_ALL=C sort); }

# h5_data FILE DATASET: the values of a dataset, comma-separated on one line (via h5dump).
h5_data() {
    h5dump -A 0 -d "$2" -y -w 0 "$1" 2>/dev/null |
        awk '/^ *DATA \{/ { on = 1; next } on && /^ *\}/ { exit } on { print }' | tr -d ' \n'
}

# h5_shape FILE DATASET: the dimensions, like "1000,20" ("" for a scalar).
h5_shape() {
    h5dump -H -A 0 -d "$2" "$1" 2>/dev/null | sed -n 's/.*DATASPACE *SIMPLE { ( \([0-9, ]*\) ).*/\1/p' |
        tr -d ' '
}

# h5_type FILE DATASET: the HDF5 type name, like H5T_STD_U64LE.
h5_type() {
    h5dump -H -A 0 -d "$2" "$1" 2>/dev/null | sed -n 's/^ *DATATYPE *\(H5T_[A-Z0-9_]*\).*/\1/p' |
        head -n 1
}

# h5_attr FILE /PATH/TO/ATTR: a scalar attribute's value, string quotes removed.
h5_attr() {
    h5dump -a "$2" -y -w 0 "$1" 2>/dev/null |
        awk '/^ *DATA \{/ { on = 1; next } on && /^ *\}/ { exit } on { print }' |
        sed -e 's/^ *//' -e 's/^"//' -e 's/"$//'
}

# True when /usr/bin/python3 can import h5py and numpy.
have_h5py() { /usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1; }

[ -n "${SB_BINARY:-}" ] || fail "SB_BINARY is not set (ctest sets it to the symbatch executable)"
[ -x "$SB_BINARY" ] || fail "SB_BINARY=$SB_BINARY is not an executable file"

# Run directly (ctest's cli_lib): test the helpers themselves on a trivial command.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    expect_rc 0 true
    expect_rc 3 bash -c 'echo out; echo err >&2; exit 3'
    check_eq "expect_rc captures stdout" out "$(cat "$SB_OUT")"
    check_eq "expect_rc captures stderr" err "$(cat "$SB_ERR")"
    # fail must exit 1 and say what it expected.
    out=$(SB_BINARY=$SB_BINARY bash -c '. "$1"; check_eq "a value" 1 2' _ "${BASH_SOURCE[0]}" 2>&1)
    rc=$?
    check_eq "fail exits 1" 1 "$rc"
    case $out in
    *"expected: 1"*"got:      2"*) pass "fail prints expected and got" ;;
    *) fail "fail's message
  expected: 'expected: 1' and 'got:      2'
  got:      $out" ;;
    esac
    expect_rc 0 mpirun_sb 2 --version
    check_matches "symbatch --version on 2 ranks prints one version line" "$SB_OUT" '^symbatch '
    check_eq "only rank 0 prints the version" 1 "$(grep -c '^symbatch ' "$SB_OUT")"
    [ -d "$SB_SCRATCH" ] || fail "scratch folder $SB_SCRATCH missing"
    finish
fi
