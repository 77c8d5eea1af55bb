#!/usr/bin/env bash
# Checkpoints and resume, end to end with `mpirun symbatch run`:
#  - SIGUSR1 (full mode) and SIGTERM (frontier mode) sent to one rank of a running 2-rank job:
#    exit 75, a checkpoint, no result file, no temporary file;
#  - --resume on 2 ranks and on 1 and 4 ranks (both modes): exit 0, every /growth dataset but
#    layer_seconds equal (h5diff) to an uninterrupted run's, the /growth attributes but
#    bfs_seconds equal, and the checkpoint removed;
#  - kill -9 of one rank in the middle of a layer after the first timed checkpoint: the resume
#    gives the same result;
#  - a truncated checkpoint and one with a flipped byte: exit 2, and nothing in the folder
#    changed; a fresh run while a checkpoint exists: exit 2; a job whose n changed: exit 2;
#    --resume without a checkpoint: exit 2;
#  - a full disk while writing a checkpoint (test-only SB_FAULT_CKPT_ENOSPC): a periodic one is
#    skipped with a warning and the run ends with the right result; after a signal, exit 1
#    naming the checkpoint, the previous checkpoint unchanged and still resumable.
# Small jobs are slowed down with the test-only SB_TEST_STEP_DELAY_MS so that a signal lands at
# a known point.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"
W=$SB_SCRATCH/w
mkdir -p "$W"
DELAY_MS=60

# job NAME FAMILY N MODE EVERY [EXTRA]: writes $W/NAME.yaml with output $W/NAME.h5.
job() {
    cat >"$W/$1.yaml" <<EOF
kind: growth
output: $W/${7:-$1}.h5
checkpoint: { every_seconds: $5 }
growth:
  generators: { family: $2, n: $3 }
  mode: $4
  store_distances: ${6:-false}
EOF
}

job full lrx 10 full 0 true
job front lrx 9 frontier 0
# Frontier mode for the kill test: its middle layers of n = 11 take 0.3 s or more even on a fast
# machine, so a kill right after a progress line lands inside a layer.
job kill lrx 11 frontier 1
# The same run as `full` (same output, so the same checkpoint), with timed checkpoints or n
# changed.
job full_every lrx 10 full 0.2 true full
job full_n9 lrx 9 full 0 true full

# interrupt NAME SIGNAL WHEN-ERE: starts `mpirun -n 2 symbatch run NAME.yaml` in the background,
# waits for a progress line matching WHEN-ERE, sends SIGNAL to the last rank, waits; the exit
# status goes to $W/NAME.run.rc.
interrupt() {
    local name=$1 sig=$2 when=$3 prefix=$W/$1.run
    rm -f "$prefix".*
    SB_TEST_STEP_DELAY_MS=$DELAY_MS "$SB_MPIEXEC" -n 2 "$SB_BINARY" run "$W/$name.yaml" \
        >"$prefix.out" 2>"$prefix.err" </dev/null &
    local mp=$!
    cleanup_hook "kill -9 $mp 2>/dev/null"
    wait_for "$prefix.err" "$when" 60
    local pids
    pids=$(rank_pids "$mp")
    [ "$(echo "$pids" | wc -w)" = 2 ] || fail "expected 2 ranks under mpirun $mp, found: $pids"
    kill -s "$sig" "$(echo "$pids" | tail -n 1)"
    local rc=0
    wait "$mp" || rc=$?
    echo "$rc" >"$prefix.rc"
}

# same_result WHAT REF GOT: every /growth dataset but layer_seconds equal, attributes too.
same_result() {
    local what=$1 ref=$2 got=$3 d a
    check_file "$what: result written" "$got"
    for d in $(h5ls "$ref/growth" | awk '{ print $1 }'); do
        [ "$d" = layer_seconds ] && continue
        # h5diff calls datasets of different shapes "not comparable" and exits 0: shapes and
        # types are compared first.
        local equal=0
        if [ "$(h5_shape "$ref" "/growth/$d") $(h5_type "$ref" "/growth/$d")" = \
            "$(h5_shape "$got" "/growth/$d") $(h5_type "$got" "/growth/$d")" ] &&
            h5diff -q "$ref" "$got" "/growth/$d" "/growth/$d" >/dev/null 2>&1; then
            equal=1
        fi
        [ "$equal" = 1 ] || fail "$what: /growth/$d differs from the uninterrupted run's
  expected: $(h5_data "$ref" "/growth/$d" | head -c 300)
  got:      $(h5_data "$got" "/growth/$d" | head -c 300)"
    done
    for a in stop_reason mode family graph n k num_generators edges rank_scheme; do
        [ "$(h5_attr "$ref" "/growth/$a")" = "$(h5_attr "$got" "/growth/$a")" ] ||
            fail "$what: attribute /growth/$a
  expected: $(h5_attr "$ref" "/growth/$a")
  got:      $(h5_attr "$got" "/growth/$a")"
    done
    pass "$what: same result as the uninterrupted run"
}

# resume_check WHAT NP NAME REF SAVED: resumes NAME from a copy of SAVED on NP ranks.
resume_check() {
    local what=$1 np=$2 name=$3 ref=$4 saved=$5
    rm -f "$W/$name.h5"
    cp "$saved" "$W/$name.h5.ckpt.h5"
    expect_rc 0 mpirun_sb "$np" run "$W/$name.yaml" --resume
    check_contains "$what: says where it resumed" "$SB_ERR" "resumed from checkpoint"
    same_result "$what" "$ref" "$W/$name.h5"
    check_absent "$what: checkpoint removed after success" "$W/$name.h5.ckpt.h5"
}

# --- uninterrupted references ------------------------------------------------------------

for name in full front; do
    expect_rc 0 mpirun_sb 2 run "$W/$name.yaml" --quiet
    mv "$W/$name.h5" "$W/$name.ref.h5"
done
pass "reference runs"
# The comparison itself must tell different results apart.
(same_result "self-check" "$W/full.ref.h5" "$W/front.ref.h5") >/dev/null 2>&1 &&
    fail "same_result finds no difference between LRX n=10 and n=9"
pass "same_result tells different results apart"

# --- SIGUSR1 to one rank, full mode ------------------------------------------------------

interrupt full USR1 '^layer +12 '
check_eq "SIGUSR1 to one rank: exit 75" 75 "$(cat "$W/full.run.rc")"
check_contains "SIGUSR1: says so" "$W/full.run.err" "SIGUSR1: stopped after layer"
check_file "SIGUSR1: checkpoint written" "$W/full.h5.ckpt.h5"
check_absent "SIGUSR1: no result file" "$W/full.h5"
check_absent "SIGUSR1: no temporary result" "$W/full.h5.partial"
check_absent "SIGUSR1: no temporary checkpoint" "$W/full.h5.ckpt.h5.partial"
cp "$W/full.h5.ckpt.h5" "$W/full.saved"
[ "$(h5_attr "$W/full.saved" /format)" = symbatch-checkpoint ] || fail "checkpoint format attribute"
pass "checkpoint has its format attribute"

for np in 2 1 4; do
    resume_check "full mode, resumed on $np ranks" "$np" full "$W/full.ref.h5" "$W/full.saved"
done

# --- SIGTERM to one rank, frontier mode --------------------------------------------------

interrupt front TERM '^layer +8 '
check_eq "SIGTERM to one rank: exit 75" 75 "$(cat "$W/front.run.rc")"
check_contains "SIGTERM: says so" "$W/front.run.err" "SIGTERM: stopped after layer"
check_absent "SIGTERM: no result file" "$W/front.h5"
check_file "SIGTERM: checkpoint written" "$W/front.h5.ckpt.h5"
cp "$W/front.h5.ckpt.h5" "$W/front.saved"
for np in 2 1 4; do
    resume_check "frontier mode, resumed on $np ranks" "$np" front "$W/front.ref.h5" "$W/front.saved"
done

# --- damaged checkpoints, refusals -------------------------------------------------------

# refused WHAT NAME MESSAGE cmd...: exit 2 with MESSAGE, and no file in $W changed (the
# folder's own time may: MPI-IO can create and remove a lock file beside a file it opens).
refused() {
    local what=$1 msg=$3
    shift 3
    local before after
    before=$(tree_snapshot "$W" | grep -v -e '\.run\.' -e ' \.$')
    expect_rc 2 "$@"
    check_contains "$what: message" "$SB_ERR" "$msg"
    after=$(tree_snapshot "$W" | grep -v -e '\.run\.' -e ' \.$')
    [ "$before" = "$after" ] || fail "$what: the folder changed
$(diff <(echo "$before") <(echo "$after"))"
    pass "$what: nothing changed"
}

rm -f "$W/full.h5"
cp "$W/full.saved" "$W/full.h5.ckpt.h5"
truncate -s $(($(stat -c %s "$W/full.saved") / 2)) "$W/full.h5.ckpt.h5"
refused "truncated checkpoint" full "truncated" mpirun_sb 2 run "$W/full.yaml" --resume

cp "$W/full.saved" "$W/full.h5.ckpt.h5"
offset=$(h5dump -p -H -d /full/bits "$W/full.saved" | sed -n 's/.*OFFSET \([0-9]*\).*/\1/p' | head -n 1)
[ -n "$offset" ] || fail "cannot find /full/bits in the checkpoint"
pos=$((offset + 100000))
byte=$(od -An -tu1 -j "$pos" -N 1 "$W/full.saved" | tr -d ' ')
# shellcheck disable=SC2059
printf "\\$(printf %o $((byte ^ 32)))" | dd of="$W/full.h5.ckpt.h5" bs=1 seek="$pos" conv=notrunc 2>/dev/null
cmp -s "$W/full.saved" "$W/full.h5.ckpt.h5" && fail "the byte flip changed nothing"
refused "checkpoint with a flipped byte" full "fails its checksum" \
    mpirun_sb 2 run "$W/full.yaml" --resume

cp "$W/full.saved" "$W/full.h5.ckpt.h5"
refused "fresh run while a checkpoint exists" full "exists: pass --resume to continue, or --force" \
    mpirun_sb 2 run "$W/full.yaml"
refused "resume with n changed" full "growth.generators differ from the checkpoint's" \
    mpirun_sb 2 run "$W/full_n9.yaml" --resume
rm -f "$W/full.h5.ckpt.h5"
refused "resume without a checkpoint" full "nothing to resume from" \
    mpirun_sb 2 run "$W/full.yaml" --resume

# --- a full disk while writing a checkpoint ----------------------------------------------

# A periodic checkpoint that cannot be written is skipped with a warning: the run goes on and
# its result is the uninterrupted run's.
cp "$W/full.saved" "$W/full.h5.ckpt.h5"
expect_rc 0 env SB_FAULT_CKPT_ENOSPC=1 SB_TEST_STEP_DELAY_MS=$DELAY_MS \
    "$SB_MPIEXEC" -n 2 "$SB_BINARY" run "$W/full_every.yaml" --resume
check_contains "disk full, periodic: names the checkpoint" "$SB_ERR" "checkpoint '$W/full.h5.ckpt.h5'"
check_contains "disk full, periodic: says why" "$SB_ERR" "No space left on device"
check_contains "disk full, periodic: goes on" "$SB_ERR" "warning: the run goes on"
check_absent "disk full, periodic: no temporary checkpoint" "$W/full.h5.ckpt.h5.partial"
same_result "disk full, periodic" "$W/full.ref.h5" "$W/full.h5"
check_absent "disk full, periodic: checkpoint removed after success" "$W/full.h5.ckpt.h5"
rm -f "$W/full.h5"

# The checkpoint after a signal cannot be written: exit 1 naming it, the previous checkpoint
# unchanged and still resumable.
cp "$W/full.saved" "$W/full.h5.ckpt.h5"
prefix=$W/nospace.run
SB_FAULT_CKPT_ENOSPC=1 SB_TEST_STEP_DELAY_MS=$DELAY_MS "$SB_MPIEXEC" -n 2 "$SB_BINARY" run \
    "$W/full.yaml" --resume >"$prefix.out" 2>"$prefix.err" </dev/null &
mp=$!
cleanup_hook "kill -9 $mp 2>/dev/null"
wait_for "$prefix.err" '^layer +[0-9]+ ' 60
kill -s USR1 "$(rank_pids "$mp" | tail -n 1)"
rc=0
wait "$mp" || rc=$?
check_eq "disk full after a signal: exit 1" 1 "$rc"
check_contains "disk full after a signal: names the checkpoint" "$prefix.err" "checkpoint '$W/full.h5.ckpt.h5'"
check_contains "disk full after a signal: says why" "$prefix.err" "No space left on device"
cmp -s "$W/full.saved" "$W/full.h5.ckpt.h5" || fail "disk full: the previous checkpoint changed"
pass "disk full after a signal: the previous checkpoint is unchanged"
check_absent "disk full: no temporary checkpoint" "$W/full.h5.ckpt.h5.partial"
check_absent "disk full: no result" "$W/full.h5"
resume_check "after a failed checkpoint write" 2 full "$W/full.ref.h5" "$W/full.saved"

# --- kill -9 of one rank in the middle of a layer ----------------------------------------

expect_rc 0 mpirun_sb 2 run "$W/kill.yaml" --quiet
mv "$W/kill.h5" "$W/kill.ref.h5"
prefix=$W/kill.run
"$SB_MPIEXEC" -n 2 "$SB_BINARY" run "$W/kill.yaml" >"$prefix.out" 2>"$prefix.err" </dev/null &
mp=$!
cleanup_hook "kill -9 $mp 2>/dev/null"
wait_for "$prefix.err" '^checkpoint: layer' 60
# The next progress line after the checkpoint: the ranks are then inside the following layer.
seen=$(grep -cE '^layer ' "$prefix.err")
for ((i = 0; i < 1200; i++)); do
    [ "$(grep -cE '^layer ' "$prefix.err")" -gt "$seen" ] && break
    sleep 0.05
done
sleep 0.05
kill -9 "$(rank_pids "$mp" | tail -n 1)"
rc=0
wait "$mp" || rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 75 ]; then
    fail "kill -9: mpirun exited $rc (the run was not killed)"
fi
pass "kill -9 of one rank: the run fails ($rc)"
check_file "kill -9: the checkpoint survives" "$W/kill.h5.ckpt.h5"
cp "$W/kill.h5.ckpt.h5" "$W/kill.saved"
resume_check "resumed after kill -9" 2 kill "$W/kill.ref.h5" "$W/kill.saved"

finish
