#!/usr/bin/env bash
# Small things that used to lie or lose, end to end, with the full messages:
#   - the job file as its own output is refused, even with --force (the job file is untouched);
#   - a second file for run, validate or inspect is refused, not ignored;
#   - an unknown command is named as one, with or without a file after it;
#   - generators: N or K outside int range, or negative, is refused with the family's range
#     (strtol into an int used to wrap 4294967306 to 10);
#   - the budget refusal counts nodes as well as ranks;
#   - validate of a job whose output exists succeeds with a note, and warns about a checkpoint;
#   - a rank out of memory is named, with the bytes it asked for (SB_FAULT_ALLOC_RANK, a
#     test-only setting, fails one rank's large allocation), at 2 and 4 ranks;
#   - bytes of a path that are not UTF-8 are printed as \xNN.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

W=$SB_SCRATCH/work
mkdir -p "$W"
cd "$W" || fail "cannot enter $W"

# job NAME LINES...: writes NAME.yaml (kind: growth, output: NAME.h5, then LINES).
job() {
    local name=$1
    shift
    { printf 'kind: growth\noutput: %s.h5\n' "$name"; printf '%s\n' "$@"; } >"$name.yaml"
}

# stderr without mpirun's own report of a rank's exit status.
own_err() {
    grep -vE '^(-+|Primary job .*|a non-zero exit code.*|mpirun detected .*|the job to be .*|  Process name:.*|  Exit code:.*|)$' "$SB_ERR"
}

# check_said WHAT TEXT: stderr is exactly TEXT and stdout is empty.
check_said() {
    check_eq "$1: the message" "$2" "$(own_err)"
    check_eq "$1: nothing on stdout" "" "$(cat "$SB_OUT")"
}

# --- the job file as its own output -------------------------------------------------------
note "the job file as its own output"
printf 'kind: growth\noutput: self.yaml\ngrowth:\n  generators: {family: lrx, n: 5}\n' >self.yaml
sum=$(cksum <self.yaml)
expect_rc 2 "$SB_BINARY" run self.yaml --force
check_said "run --force onto the job file" \
    "self.yaml: output 'self.yaml' is the job file 'self.yaml' itself; name another result file (--force does not change this)"
check_eq "run --force: the job file untouched" "$sum" "$(cksum <self.yaml)"
expect_rc 2 mpirun_sb 2 run self.yaml --force
check_contains "2 ranks: refused too" "$SB_ERR" "is the job file 'self.yaml' itself"
check_eq "2 ranks: said once" 1 "$(grep -c "is the job file" "$SB_ERR")"
check_eq "2 ranks: the job file untouched" "$sum" "$(cksum <self.yaml)"
mkdir sub
expect_rc 2 "$SB_BINARY" run sub/../self.yaml --output "./sub/../self.yaml" --force
check_said "another spelling of the same path" \
    "sub/../self.yaml: output './sub/../self.yaml' is the job file 'sub/../self.yaml' itself; name another result file (--force does not change this)"
ln -s ../self.yaml sub/link.yaml
expect_rc 2 "$SB_BINARY" validate self.yaml --output sub/link.yaml
check_contains "a link to the job file (validate)" "$SB_ERR" \
    "self.yaml: output 'sub/link.yaml' is the job file 'self.yaml' itself"
check_eq "all of it: the job file untouched" "$sum" "$(cksum <self.yaml)"
check_absent "no partial result" self.yaml.partial

# --- one file per command ------------------------------------------------------------------
note "one file per command"
job two "growth:" "  generators: {family: lrx, n: 5}"
for verb in run validate; do
    expect_rc 2 "$SB_BINARY" $verb two.yaml self.yaml
    check_said "$verb with two files" "symbatch: $verb takes one job file, got 'two.yaml' and 'self.yaml'"
done
expect_rc 2 mpirun_sb 2 run two.yaml self.yaml
check_said "run with two files on 2 ranks" "symbatch: run takes one job file, got 'two.yaml' and 'self.yaml'"
expect_rc 2 "$SB_BINARY" inspect a.h5 b.h5 c.h5
check_said "inspect with three files" "symbatch: inspect takes one result file, got 'a.h5' and 'b.h5' and more"
check_absent "run with two files: nothing written" two.h5

# --- unknown commands ------------------------------------------------------------------------
note "unknown commands"
unknown="symbatch: unknown command 'frobnicate'; commands: run, validate, inspect, generators (see symbatch --help)"
expect_rc 2 "$SB_BINARY" frobnicate
check_said "frobnicate alone (it used to say it needs a file)" "$unknown"
expect_rc 2 "$SB_BINARY" frobnicate two.yaml
check_said "frobnicate with a file" "$unknown"

# --- generators: N and K in int range --------------------------------------------------------
note "generators: parameters"
expect_rc 2 "$SB_BINARY" generators lrx 4294967306
check_said "N past int range (used to wrap to 10)" \
    "symbatch: generators: lrx: N must be an integer from 3 to 255 (got '4294967306')"
expect_rc 2 "$SB_BINARY" generators lrx -5
check_said "negative N" "symbatch: generators: lrx: N must be an integer from 3 to 255 (got '-5')"
expect_rc 2 "$SB_BINARY" generators lrx 99999999999999999999999
check_said "N past long range" \
    "symbatch: generators: lrx: N must be an integer from 3 to 255 (got '99999999999999999999999')"
expect_rc 2 "$SB_BINARY" generators lrx 6 4294967298
check_said "K past int range" \
    "symbatch: generators: lrx: K must be an integer with n >= 3, 1 <= k < n: X swaps positions 0 and k (default k = 1) (got '4294967298')"
expect_rc 2 "$SB_BINARY" generators lrx 6 -1
check_contains "negative K (it used to mean the default)" "$SB_ERR" "K must be an integer with"
expect_rc 0 "$SB_BINARY" generators lrx 6 2
check_contains "a good K still works" "$SB_OUT" "# lrx n=6 k=2: 3 generators"

# --- the budget refusal counts nodes ---------------------------------------------------------
note "budget refusal: ranks and nodes"
job big 'memory_per_rank: "100 MB"' "growth:" "  generators: {family: lrx, n: 12}" "  mode: full"
fits1="it would fit on 3 ranks (3 nodes of 1 rank like this one, 98.7 MB per node), or raise memory_per_rank"
expect_rc 2 "$SB_BINARY" validate big.yaml
check_contains "1 rank per node: 3 nodes" "$SB_ERR" "$fits1"
expect_rc 2 mpirun_sb 2 validate big.yaml
check_contains "2 ranks per node: 2 nodes" "$SB_ERR" \
    "it would fit on 3 ranks (2 nodes of 2 ranks like this one, 197 MB per node), or raise memory_per_rank"
expect_rc 2 env SB_TEST_NODES=2 "$SB_MPIEXEC" -x SB_TEST_NODES -n 2 "$SB_BINARY" validate big.yaml
check_contains "as 2 nodes of 1 rank: 3 nodes" "$SB_ERR" "$fits1"

# --- validate: an existing output is a note; a checkpoint a warning ---------------------------
note "validate with an existing output and checkpoint"
job exists "growth:" "  generators: {family: lrx, n: 5}"
printf 'old result\n' >exists.h5
expect_rc 0 "$SB_BINARY" validate exists.yaml
check_said_note() {
    check_contains "$1: valid" "$SB_OUT" "# exists.yaml: valid growth job"
    check_eq "$1: stderr" "$2" "$(own_err)"
}
check_said_note "existing output" "symbatch: note: output 'exists.h5' exists: run will refuse it without --force"
expect_rc 0 "$SB_BINARY" validate exists.yaml --force
check_said_note "existing output, --force" "symbatch: note: output 'exists.h5' exists: run --force will replace it"
printf 'old checkpoint\n' >exists.h5.ckpt.h5
expect_rc 0 mpirun_sb 2 validate exists.yaml
check_said_note "existing output and checkpoint on 2 ranks" "symbatch: note: output 'exists.h5' exists: run will refuse it without --force
symbatch: warning: checkpoint 'exists.h5.ckpt.h5' exists: run will refuse to start without --resume (continue from it) or --force (start over)"
rm exists.h5
expect_rc 0 "$SB_BINARY" validate exists.yaml --resume
check_said_note "checkpoint with --resume: nothing to say" ""
expect_rc 2 "$SB_BINARY" run exists.yaml
check_contains "run refuses what validate warned about" "$SB_ERR" "checkpoint 'exists.h5.ckpt.h5' exists"
check_eq "the files untouched" "old checkpoint" "$(cat exists.h5.ckpt.h5)"

# --- a rank out of memory is named with the bytes ---------------------------------------------
note "a rank out of memory (SB_FAULT_ALLOC_RANK)"
# oom NP RANK MODE SHARED EXPECTED: rank RANK's large allocation fails; rank 0 names it.
oom() {
    local np=$1 rank=$2 mode=$3 shared=$4 want=$5 label="$3 mode, shared_memory $4, rank $2 of $1"
    job oom "growth:" "  generators: {family: lrx, n: 8}" "  mode: $mode" "  shared_memory: $shared"
    expect_rc 1 env SB_FAULT_ALLOC_RANK="$rank" "$SB_MPIEXEC" -x SB_FAULT_ALLOC_RANK -n "$np" \
        "$SB_BINARY" run oom.yaml
    check_contains "$label: the rank and the bytes" "$SB_ERR" "symbatch: $want"
    check_eq "$label: said once" 1 "$(grep -c "is out of memory" "$SB_ERR")"
    check_contains "$label: the verdict" "$SB_ERR" "symbatch: oom.yaml: out of memory"
    check_not_contains "$label: not just 'another rank failed'" "$SB_ERR" "another rank failed"
    check_absent "$label: no result" oom.h5
    check_absent "$label: no partial result" oom.h5.partial
}
oom 2 1 full false "rank 1 of 2 is out of memory: it asked for 5.04 kB (5040 bytes) for its block of the state bits"
oom 4 3 full false "rank 3 of 4 is out of memory: it asked for 2.52 kB (2520 bytes) for its block of the state bits"
oom 4 2 full true "rank 2 of 4 is out of memory: it asked for 32.8 kB (32832 bytes) for the exchange buffers"
oom 2 1 frontier true "rank 1 of 2 is out of memory: it asked for 16.8 MB (16777248 bytes) for the exchange buffers"
oom 4 0 frontier true "rank 0 of 4 is out of memory: it asked for 16.8 MB (16777280 bytes) for the exchange buffers"

# --- bytes that are not UTF-8 ----------------------------------------------------------------
note "bytes that are not UTF-8"
expect_rc 2 "$SB_BINARY" validate "$(printf 'ba\377d.yaml')"
check_said "a path with byte 0xff" 'ba\xffd.yaml: cannot read job file: No such file or directory'
expect_rc 2 "$SB_BINARY" "$(printf 'fr\303\251ob\376')"
check_said "a command with é (valid) and 0xfe (not)" \
    "symbatch: unknown command 'fréob\\xfe'; commands: run, validate, inspect, generators (see symbatch --help)"

finish
