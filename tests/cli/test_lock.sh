#!/usr/bin/env bash
# One run at a time per output (<output>.lock), end to end with `mpirun symbatch run`:
#  - two runs on one output at 1, 2 and 4 ranks (the second with --force at 2 ranks, while a
#    checkpoint of the first exists): the second exits 2 at once naming the host, pid and start
#    of the first (what the first wrote into its lock file); the first exits 0 with a complete
#    result (file and JSON); no lock, checkpoint or temporary file left; `validate` meanwhile
#    is not refused;
#  - two runs resuming one checkpoint (made with SIGUSR1): the second is refused, the first
#    finishes with the uninterrupted run's result;
#  - a lock file that nobody holds (a run that died) does not block; leftover temporary files
#    (<output>.partial, <output>.ckpt.h5.partial) are removed with a message;
#  - kill -9 of every rank of a run: its lock file stays but the next run starts and finishes;
#  - without flock (test-only SB_FAULT_NO_FLOCK): the lock file created exclusively is the
#    lock; the second run is refused, and a lock file left behind blocks, saying how to remove
#    it.
# The first run is slowed down with the test-only SB_TEST_STEP_DELAY_MS so that it lasts.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"
W=$SB_SCRATCH/w
mkdir -p "$W"
# LRX n=10 in full mode has 46 layers: about 7 s at this delay per layer.
DELAY_MS=150
OUT=$W/same.h5
HOST=$(hostname)

# job NAME EVERY: writes $W/NAME.yaml with output $OUT and checkpoints every EVERY seconds.
job() {
    cat >"$W/$1.yaml" <<EOF
kind: growth
output: $OUT
checkpoint: { every_seconds: $2 }
growth:
  generators: { family: lrx, n: 10 }
  mode: full
EOF
}
job same 0
job every 0.3

# start_first NP PREFIX ARGS...: starts a slowed-down run in the background ($FIRST: its
# mpirun) and waits for its first progress line.
start_first() {
    local np=$1 prefix=$2
    shift 2
    rm -f "$prefix".*
    SB_TEST_STEP_DELAY_MS=$DELAY_MS "$SB_MPIEXEC" -n "$np" "$SB_BINARY" run "$@" \
        >"$prefix.out" 2>"$prefix.err" </dev/null &
    FIRST=$!
    cleanup_hook "kill -9 $FIRST 2>/dev/null"
    wait_for "$prefix.err" '^layer ' 120
}

# wait_first WHAT PREFIX: the first run exits 0.
wait_first() {
    local rc=0
    wait "$FIRST" || rc=$?
    [ "$rc" = 0 ] || fail "$1: the first run exited $rc
$(show_file stderr "$2.err")"
    pass "$1: the first run exits 0"
}

# complete WHAT PREFIX: the first run's result is the reference's, in the file and the JSON.
complete() {
    local what=$1 prefix=$2
    check_file "$what: result written" "$OUT"
    check_eq "$what: layer sizes in the file" "$REF_SIZES" "$(h5_data "$OUT" /growth/layer_sizes)"
    check_eq "$what: num_states in the file" 3628800 "$(h5_data "$OUT" /growth/num_states)"
    check_contains "$what: JSON summary complete" "$prefix.out" '"completed":true,'
    check_contains "$what: JSON summary's states" "$prefix.out" '"num_states":3628800,'
    check_contains "$what: JSON summary's layers" "$prefix.out" "\"layer_sizes\":[$REF_SIZES]"
    check_absent "$what: no lock file left" "$OUT.lock"
    check_absent "$what: no checkpoint left" "$OUT.ckpt.h5"
    check_absent "$what: no temporary result left" "$OUT.partial"
    check_absent "$what: no temporary checkpoint left" "$OUT.ckpt.h5.partial"
}

# holder WHAT PREFIX: the running first run's lock file names this host and one of its ranks;
# sets HOLDER_PID and HOLDER_SINCE.
holder() {
    local what=$1 h pid since rest
    check_file "$what: lock file while running" "$OUT.lock"
    read -r h pid since rest <"$OUT.lock"
    check_eq "$what: lock file names this host" "$HOST" "$h"
    check_eq "$what: lock file has three fields" "" "$rest"
    [[ $since =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
        fail "$what: lock file's start time
  expected: an ISO 8601 UTC time
  got:      $since"
    rank_pids "$FIRST" | grep -qx "$pid" ||
        fail "$what: lock file's pid
  expected: one of the ranks $(rank_pids "$FIRST" | tr '\n' ' ')
  got:      $pid"
    pass "$what: lock file names a rank of the first run"
    HOLDER_PID=$pid
    HOLDER_SINCE=$since
}

# refused_second WHAT ARGS...: a second run is refused at once (exit 2) naming the holder.
refused_second() {
    local what=$1
    shift
    local t0=$SECONDS
    expect_rc 2 "$@"
    [ $((SECONDS - t0)) -le 20 ] || fail "$what: the second run took $((SECONDS - t0)) s to refuse"
    check_contains "$what: says the output is in use" "$SB_ERR" \
        "output '$OUT' is in use by another run (host $HOST, pid $HOLDER_PID, since $HOLDER_SINCE; lock file '$OUT.lock')"
    kill -0 "$FIRST" 2>/dev/null || fail "$what: the first run ended before the second was refused"
    pass "$what: refused while the first run runs"
}

# --- the reference -----------------------------------------------------------------------

expect_rc 0 mpirun_sb 2 run "$W/same.yaml" --quiet
REF_SIZES=$(h5_data "$OUT" /growth/layer_sizes)
[ -n "$REF_SIZES" ] || fail "reference run: no /growth/layer_sizes"
check_absent "a finished run leaves no lock file" "$OUT.lock"
rm -f "$OUT"

# --- two runs, one output ----------------------------------------------------------------

for np in 1 2 4; do
    what="two runs at $np ranks"
    start_first "$np" "$W/first$np" "$W/same.yaml"
    holder "$what" "$W/first$np"
    refused_second "$what" mpirun_sb "$np" run "$W/same.yaml"
    if [ "$np" = 2 ]; then
        expect_rc 0 "$SB_BINARY" validate "$W/same.yaml"
        check_contains "validate is not refused while a run holds the lock" "$SB_OUT" "valid growth job"
    fi
    wait_first "$what" "$W/first$np"
    complete "$what" "$W/first$np"
    rm -f "$OUT"
done

# --force does not take the lock away, nor the checkpoint the first run is writing.
what="--force while another run writes checkpoints"
start_first 2 "$W/force" "$W/every.yaml"
wait_for "$W/force.err" '^checkpoint: layer' 60
holder "$what" "$W/force"
check_file "$what: the first run's checkpoint exists" "$OUT.ckpt.h5"
refused_second "$what" mpirun_sb 2 run "$W/every.yaml" --force
check_file "$what: the first run's checkpoint is still there" "$OUT.ckpt.h5"
wait_first "$what" "$W/force"
complete "$what" "$W/force"
rm -f "$OUT"

# --- two runs resuming one checkpoint ----------------------------------------------------

SB_TEST_STEP_DELAY_MS=$DELAY_MS "$SB_MPIEXEC" -n 2 "$SB_BINARY" run "$W/same.yaml" \
    >"$W/usr1.out" 2>"$W/usr1.err" </dev/null &
FIRST=$!
cleanup_hook "kill -9 $FIRST 2>/dev/null"
wait_for "$W/usr1.err" '^layer +8 ' 60
kill -s USR1 "$(rank_pids "$FIRST" | tail -n 1)"
rc=0
wait "$FIRST" || rc=$?
check_eq "SIGUSR1: exit 75" 75 "$rc"
check_file "SIGUSR1: checkpoint written" "$OUT.ckpt.h5"
check_absent "SIGUSR1: lock file removed" "$OUT.lock"
mv "$OUT.ckpt.h5" "$W/saved.ckpt.h5"
for np in 2 4; do
    what="two resumes at $np ranks"
    cp "$W/saved.ckpt.h5" "$OUT.ckpt.h5"
    start_first "$np" "$W/resume$np" "$W/same.yaml" --resume
    check_contains "$what: the first resumed" "$W/resume$np.err" "resumed from checkpoint"
    holder "$what" "$W/resume$np"
    refused_second "$what" mpirun_sb "$np" run "$W/same.yaml" --resume
    check_file "$what: the checkpoint is still there" "$OUT.ckpt.h5"
    wait_first "$what" "$W/resume$np"
    complete "$what" "$W/resume$np"
    rm -f "$OUT"
done

# --- a lock file nobody holds; leftovers -------------------------------------------------

echo "deadhost 4194999 2020-01-01T00:00:00Z" >"$OUT.lock"
echo "not HDF5" >"$OUT.partial"
echo "not HDF5" >"$OUT.ckpt.h5.partial"
expect_rc 0 mpirun_sb 2 run "$W/same.yaml"
check_contains "leftover result: removed with a message" "$SB_ERR" \
    "symbatch: removed leftover '$OUT.partial' of a run that did not finish"
check_contains "leftover checkpoint: removed with a message" "$SB_ERR" \
    "symbatch: removed leftover '$OUT.ckpt.h5.partial' of a run that did not finish"
check_not_contains "a stale lock file is not a refusal" "$SB_ERR" "in use by another run"
cp "$SB_OUT" "$W/stale.out"
complete "stale lock file and leftovers" "$W/stale"
rm -f "$OUT"
expect_rc 0 mpirun_sb 1 run "$W/same.yaml" --quiet
check_not_contains "no leftovers: no message" "$SB_ERR" "leftover"
rm -f "$OUT"

# --- kill -9 of every rank ---------------------------------------------------------------

start_first 2 "$W/killed" "$W/same.yaml"
pids=$(rank_pids "$FIRST")
[ "$(echo "$pids" | wc -w)" = 2 ] || fail "expected 2 ranks under mpirun $FIRST, found: $pids"
# shellcheck disable=SC2086 # one pid per word
kill -9 $pids
rc=0
wait "$FIRST" || rc=$?
[ "$rc" != 0 ] || fail "kill -9: mpirun exited 0 (the run was not killed)"
pass "kill -9 of every rank: the run fails ($rc)"
check_file "kill -9: the dead run's lock file stays" "$OUT.lock"
check_file "kill -9: the dead run's temporary result stays" "$OUT.partial"
expect_rc 0 mpirun_sb 2 run "$W/same.yaml"
check_contains "after kill -9: its temporary result removed" "$SB_ERR" \
    "removed leftover '$OUT.partial'"
cp "$SB_OUT" "$W/afterkill.out"
complete "the run after kill -9" "$W/afterkill"
rm -f "$OUT"

# --- no flock: the exclusively created file is the lock ----------------------------------

export SB_FAULT_NO_FLOCK=1
what="two runs without flock"
start_first 2 "$W/noflock" "$W/same.yaml"
holder "$what" "$W/noflock"
refused_second "$what" mpirun_sb 2 run "$W/same.yaml"
check_contains "$what: says how to remove a lock file left behind" "$SB_ERR" \
    "if that run is gone, remove '$OUT.lock'"
wait_first "$what" "$W/noflock"
complete "$what" "$W/noflock"
rm -f "$OUT"
echo "deadhost 4194999 2020-01-01T00:00:00Z" >"$OUT.lock"
expect_rc 2 mpirun_sb 2 run "$W/same.yaml"
check_contains "without flock, a lock file left behind blocks" "$SB_ERR" \
    "host deadhost, pid 4194999, since 2020-01-01T00:00:00Z"
check_contains "without flock: says how to remove it" "$SB_ERR" \
    "if that run is gone, remove '$OUT.lock'"
check_file "without flock: the refused run leaves the lock file" "$OUT.lock"
rm -f "$OUT.lock"
expect_rc 0 mpirun_sb 2 run "$W/same.yaml" --quiet
check_absent "without flock: a finished run removes its lock file" "$OUT.lock"
unset SB_FAULT_NO_FLOCK

finish
