#!/usr/bin/env bash
# Signals sent to mpirun itself (Open MPI 4.1), end to end:
#  - SIGTERM to mpirun started with `--mca odls_base_sigkill_timeout T`, full mode on 1, 2 and 4
#    ranks and frontier mode on 1, 2 and 4 ranks: rank 0 alone prints "SIGTERM received: writing
#    a checkpoint ..." once, the ranks stop at the end of a layer with a checkpoint, no result and
#    no temporary file are left, and --resume gives the uninterrupted run's layer sizes;
#  - SIGUSR1 to mpirun: forwarded at once, and mpirun itself exits 75;
#  - SIGINT (Ctrl-C) to a run without mpirun (a singleton in its own process group, as in a
#    terminal): handled like SIGTERM, exit 75 with a checkpoint;
#  - SIGTERM to mpirun with the default timeout (1 s) while a rank cannot reach the end of its
#    layer (it is stopped, as a rank in a long layer would be busy): the ranks are killed, there
#    is no checkpoint, and the temporary result <output>.partial is left behind.
#
# What Open MPI 4.1's mpirun does on SIGTERM or SIGINT (Ctrl-C), found by experiment and in
# orte/mca/odls/base/odls_base_default_fns.c (kill_local_procs): it sends the ranks SIGCONT at
# once, sleeps odls_base_sigkill_timeout seconds, sends SIGTERM (never SIGINT), sleeps as long
# again, sends SIGKILL, and exits 1 whatever the ranks do (it set its exit status to 1 when the
# signal came).  It sleeps in the thread that also serves the ranks, so meanwhile their output
# is not forwarded and a rank that has written its checkpoint waits in MPI_Finalize until the
# SIGKILL: under SIGTERM to mpirun no process exits 75, and the checkpoint and the messages are
# what tells that the run stopped well.  The timeout both delays the ranks' SIGTERM and bounds
# the time they have to answer it: the test uses T = 2 s (with T = 60 these small jobs would
# finish before the signal reached them, and mpirun would still exit 1, 120 s later).  SIGUSR1 is
# forwarded at once (it is in Open MPI's default ess_base_forward_signals) and mpirun then exits
# with the ranks' 75.
# Jobs are slowed down with the test-only SB_TEST_STEP_DELAY_MS (100 ms a layer, LRX n=10: 46
# layers, 4.6 s at least) so that they are still running when the signal arrives.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"
if ! "$SB_MPIEXEC" --version 2>/dev/null | grep -qE 'Open MPI\) 4\.'; then
    skip "$SB_MPIEXEC is not Open MPI 4.x's mpirun: its signal handling is what this tests"
    exit 77
fi
W=$SB_SCRATCH/w
mkdir -p "$W"
DELAY_MS=100
KILL_TIMEOUT=2
NOTICE="symbatch: SIGTERM received: writing a checkpoint at the end of the current layer, then exiting with 75"

# job NAME MODE: writes $W/NAME.yaml (LRX n=10) with output $W/NAME.h5.
job() {
    cat >"$W/$1.yaml" <<EOF
kind: growth
output: $W/$1.h5
checkpoint: { every_seconds: 0 }
growth:
  generators: { family: lrx, n: 10 }
  mode: $2
EOF
}
job full full
job front frontier

# start NAME NP [mpirun options]: starts the slowed-down job in the background, its output in
# $W/NAME.run.{out,err}, and waits for its layer 2.  Sets MP to mpirun's pid.
start() {
    local name=$1 np=$2 prefix=$W/$1.run
    shift 2
    rm -f "$prefix".* "$W/$name.h5" "$W/$name.h5".*
    SB_TEST_STEP_DELAY_MS=$DELAY_MS "$SB_MPIEXEC" -n "$np" "$@" \
        "$SB_BINARY" run "$W/$name.yaml" >"$prefix.out" 2>"$prefix.err" </dev/null &
    MP=$!
    cleanup_hook "kill -9 $MP 2>/dev/null"
    wait_for "$prefix.err" '^layer +2 ' 60
}

# finish_run NAME: waits for mpirun; its exit status goes to $W/NAME.run.rc.
finish_run() {
    local rc=0
    wait "$MP" || rc=$?
    echo "$rc" >"$W/$1.run.rc"
}

# resume_check WHAT NAME NP: --resume on NP ranks gives the reference's layer sizes.
resume_check() {
    local what=$1 name=$2 np=$3
    expect_rc 0 mpirun_sb "$np" run "$W/$name.yaml" --resume
    check_contains "$what: says where it resumed" "$SB_ERR" "resumed from checkpoint"
    check_eq "$what: layer sizes of the uninterrupted run" \
        "$(h5_data "$W/$name.ref.h5" /growth/layer_sizes)" \
        "$(h5_data "$W/$name.h5" /growth/layer_sizes)"
    check_eq "$what: last layer of the uninterrupted run" \
        "$(h5_data "$W/$name.ref.h5" /growth/last_layer)" \
        "$(h5_data "$W/$name.h5" /growth/last_layer)"
    check_absent "$what: checkpoint removed after success" "$W/$name.h5.ckpt.h5"
}

# --- uninterrupted references ------------------------------------------------------------

for name in full front; do
    expect_rc 0 mpirun_sb 2 run "$W/$name.yaml" --quiet
    mv "$W/$name.h5" "$W/$name.ref.h5"
done
[ -n "$(h5_data "$W/full.ref.h5" /growth/layer_sizes)" ] || fail "no layer sizes in the reference"
pass "reference runs"

# --- SIGTERM to mpirun with a long enough odls_base_sigkill_timeout ----------------------

for case in "full 1" "full 2" "full 4" "front 1" "front 2" "front 4"; do
    read -r name np <<<"$case"
    what="SIGTERM to mpirun, $name mode, $np rank(s)"
    err=$W/$name.run.err
    start "$name" "$np" --mca odls_base_sigkill_timeout "$KILL_TIMEOUT"
    kill -TERM "$MP"
    finish_run "$name"
    # Open MPI 4.1's own choice, whatever the ranks do (see the top of this file).
    check_eq "$what: mpirun exits 1" 1 "$(cat "$W/$name.run.rc")"
    check_eq "$what: the notice, once (rank 0 alone)" 1 "$(grep -cxF "$NOTICE" "$err")"
    check_contains "$what: stopped at a layer's end" "$err" "SIGTERM: stopped after layer"
    # The line symbatch prints as it returns 75 (before MPI_Finalize, where mpirun keeps it).
    check_contains "$what: symbatch's exit 75" "$err" "stopped by a signal after writing a checkpoint"
    # The notice comes when the signal does, before the checkpoint.
    first=$(grep -nF -e "$NOTICE" -e "checkpoint: layer" "$err" | head -n 1)
    case $first in *"received:"*) pass "$what: notice before the checkpoint" ;;
    *) fail "$what: the notice came after the checkpoint line: $first" ;; esac
    check_file "$what: checkpoint written" "$W/$name.h5.ckpt.h5"
    check_absent "$what: no result file" "$W/$name.h5"
    check_absent "$what: no temporary result" "$W/$name.h5.partial"
    check_absent "$what: no temporary checkpoint" "$W/$name.h5.ckpt.h5.partial"
    resume_check "$what, resumed" "$name" "$np"
done

# --- SIGUSR1 to mpirun: forwarded at once, mpirun exits 75 -------------------------------

what="SIGUSR1 to mpirun"
start front 2
kill -USR1 "$MP"
finish_run front
check_eq "$what: mpirun exits 75" 75 "$(cat "$W/front.run.rc")"
check_eq "$what: the notice, once" 1 \
    "$(grep -cxF "${NOTICE/SIGTERM/SIGUSR1}" "$W/front.run.err")"
check_contains "$what: stopped at a layer's end" "$W/front.run.err" "SIGUSR1: stopped after layer"
check_absent "$what: no temporary result" "$W/front.h5.partial"
resume_check "$what, resumed" front 2

# --- SIGINT to a singleton run: handled like SIGTERM ------------------------------------

# Under mpirun the ranks never get SIGINT (each rank has its own process group, and mpirun
# turns Ctrl-C into the SIGTERM sequence above); without mpirun, Ctrl-C reaches symbatch itself.
what="SIGINT to a run without mpirun"
prefix=$W/front.run
rm -f "$prefix".* "$W/front.h5" "$W/front.h5".*
SB_TEST_STEP_DELAY_MS=$DELAY_MS setsid "$SB_BINARY" run "$W/front.yaml" >"$prefix.out" \
    2>"$prefix.err" </dev/null &
MP=$!
cleanup_hook "kill -9 $MP 2>/dev/null"
wait_for "$prefix.err" '^layer +2 ' 60
kill -INT "$MP"
finish_run front
check_eq "$what: exit 75" 75 "$(cat "$W/front.run.rc")"
check_eq "$what: the notice, once" 1 "$(grep -cF "${NOTICE/SIGTERM/SIGINT}" "$prefix.err")"
check_contains "$what: a second Ctrl-C stops at once" "$prefix.err" "SIGINT again: stop at once"
check_contains "$what: stopped at a layer's end" "$prefix.err" "SIGINT: stopped after layer"
check_absent "$what: no temporary result" "$W/front.h5.partial"
resume_check "$what, resumed" front 2

# --- SIGTERM to mpirun with the default timeout: a rank busy for more than 1 s is killed -----

# The last rank is stopped (SIGSTOP) after mpirun's immediate SIGCONT, as a rank in the middle of
# a layer longer than the timeout would be busy: rank 0 gets SIGTERM 1 s later and prints the
# notice, then waits for that rank at the end of its layer until SIGKILL comes 1 s after.
what="SIGTERM to mpirun, default timeout, a rank busy"
start full 2
last=$(rank_pids "$MP" | tail -n 1)
[ -n "$last" ] || fail "$what: no rank found under mpirun $MP"
kill -TERM "$MP"
for ((i = 0; i < 200; i++)); do
    # Stop it again should mpirun's SIGCONT come after a stop; SIGTERM follows the SIGCONT by
    # 1 s, and rank 0's notice tells that it was sent.
    sleep 0.05
    kill -0 "$last" 2>/dev/null || break
    case $(ps -o stat= -p "$last" 2>/dev/null) in T*) ;; *) kill -STOP "$last" 2>/dev/null ;; esac
    grep -qxF "$NOTICE" "$W/full.run.err" && break
done
finish_run full
rc=$(cat "$W/full.run.rc")
if [ "$rc" = 0 ] || [ "$rc" = 75 ]; then
    fail "$what: mpirun exited $rc (the ranks were not killed)"
fi
pass "$what: mpirun fails ($rc)"
check_eq "$what: rank 0 printed the notice" 1 "$(grep -cxF "$NOTICE" "$W/full.run.err")"
check_not_contains "$what: never reached the end of the layer" "$W/full.run.err" "stopped after"
check_absent "$what: no checkpoint" "$W/full.h5.ckpt.h5"
check_absent "$what: no result" "$W/full.h5"
# A killed rank cleans up nothing: the temporary result stays (a later run cleans it).
if [ -e "$W/full.h5.partial" ]; then
    note "left behind by the killed run: $(cd "$W" && find . -name 'full.h5*' | tr '\n' ' ')"
fi

finish
