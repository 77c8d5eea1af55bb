#!/usr/bin/env bash
# A real full disk (a 20 MB tmpfs mounted by the test; it needs root, else it is skipped):
#   - a result that cannot fit (LRX 11's 40 MB distance table): refused at the start, before
#     any work, exit 1 in bounded time naming the output and the sizes, nothing left behind;
#   - periodic checkpoints that cannot fit: a warning each, the run goes on and its result is
#     right, nothing left behind;
#   - the checkpoint after a signal cannot fit: exit 1 naming it, nothing left behind;
# at 1, 2 and 4 ranks.  Each command runs under the suite's hang timeout.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

disk=$SB_SCRATCH/disk
mkdir -p "$disk"
if ! mount -t tmpfs -o size=20m tmpfs "$disk" 2>"$SB_SCRATCH/mount.err"; then
    skip "cannot mount a tmpfs (needs root): $(cat "$SB_SCRATCH/mount.err")"
    exit 77
fi
cleanup_hook "umount -l '$disk'"

# job NAME N MODE EVERY DISTANCES: $SB_SCRATCH/NAME.yaml writing $disk/NAME.h5
job() {
    printf '%s\n' "kind: growth" "output: $disk/$1.h5" "checkpoint: { every_seconds: $4 }" \
        "growth:" "  generators: { family: lrx, n: $2 }" "  mode: $3" \
        "  store_distances: $5" >"$SB_SCRATCH/$1.yaml"
}
job table 11 full 0 true
job periodic 11 full 0.2 false
job signal 11 full 0 false

check_empty_disk() { check_eq "$1: nothing left on the disk" "filler" "$(ls -A "$disk" | tr '\n' ' ' | sed 's/ $//')"; }

# Leaves about 5 MB free: LRX 11's checkpoints need about 10 MB.
dd if=/dev/zero of="$disk/filler" bs=1M count=15 status=none || fail "cannot fill the tmpfs"

for np in 1 2 4; do
    t0=$SECONDS
    expect_rc 1 mpirun_sb "$np" run "$SB_SCRATCH/table.yaml" --quiet
    check_contains "result too large, $np ranks: names the output" "$SB_ERR" "'$disk/table.h5'"
    check_matches "result too large, $np ranks: says the sizes" "$SB_ERR" \
        "needs about 41.0 MB but only [0-9.]+ MB are free on '$disk'"
    check_contains "result too large, $np ranks: nothing computed" "$SB_ERR" \
        "nothing was computed or written"
    check_not_contains "result too large, $np ranks: no layer computed" "$SB_ERR" "layer    1"
    [ $((SECONDS - t0)) -lt 60 ] || fail "result too large, $np ranks: took $((SECONDS - t0)) s"
    check_empty_disk "result too large, $np ranks"

    expect_rc 0 env SB_TEST_STEP_DELAY_MS=20 "$SB_MPIEXEC" -n "$np" "$SB_BINARY" run \
        "$SB_SCRATCH/periodic.yaml" --quiet
    check_contains "periodic checkpoints, $np ranks: 11! states" "$SB_OUT" '"num_states":39916800'
    check_matches "periodic checkpoints, $np ranks: says why" "$SB_ERR" \
        "checkpoint '$disk/periodic.h5.ckpt.h5': it needs about [0-9.]+ MB but only"
    check_contains "periodic checkpoints, $np ranks: goes on" "$SB_ERR" "warning: the run goes on"
    check_file "periodic checkpoints, $np ranks: result" "$disk/periodic.h5"
    rm -f "$disk/periodic.h5"
    check_empty_disk "periodic checkpoints, $np ranks"

    prefix=$SB_SCRATCH/signal.$np
    SB_TEST_STEP_DELAY_MS=100 "$SB_MPIEXEC" -n "$np" "$SB_BINARY" run "$SB_SCRATCH/signal.yaml" \
        >"$prefix.out" 2>"$prefix.err" </dev/null &
    mp=$!
    cleanup_hook "kill -9 $mp 2>/dev/null"
    wait_for "$prefix.err" '^layer +5 ' 60
    kill -s USR1 "$(rank_pids "$mp" | tail -n 1)"
    rc=0
    wait "$mp" || rc=$?
    check_eq "checkpoint after a signal, $np ranks: exit 1" 1 "$rc"
    check_matches "checkpoint after a signal, $np ranks: says why" "$prefix.err" \
        "checkpoint '$disk/signal.h5.ckpt.h5': it needs about [0-9.]+ MB but only"
    check_empty_disk "checkpoint after a signal, $np ranks"
done
finish
