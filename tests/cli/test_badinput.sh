#!/usr/bin/env bash
# Bad input, end to end: every job file of tests/badinput through `symbatch validate` and
# `mpirun -n 2 symbatch run` (and `-n 1` for a few), from a clean scratch working folder.
# Each must exit 2, print the diagnostic named by the file's `# expect:` line (prefixed with
# FILE:LINE:COL from `# expect-location:`), print no JSON summary, print only valid UTF-8 (bytes
# of the file that are not are escaped as \xNN), and write nothing: no file in the working
# folder, none at the job's output path.  Files with `# setup:` name their output folder
# /tmp/sb-badinput-out; they run from a copy that names a folder in this run's scratch folder
# instead (so that two builds' test runs never share it, and nothing is left in /tmp), prepared
# first.  An existing output is a note for `validate` (exit 0), a refusal for `run`.  Then the
# command-line mistakes: --output onto an existing file,
# unknown options and verbs, a missing job file, `run` without a file.  Generated in the scratch
# folder (too big, or too slow to keep as corpus data): job files over 1 MiB, files of 60k
# unknown or duplicate keys (50 problems printed, then a count), 200k nested mappings.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CORPUS=$SB_SOURCE_DIR/tests/badinput
CORPUS_SETUP_ROOT=/tmp/sb-badinput-out # as the corpus files name it
SETUP_ROOT=$SB_SCRATCH/badinput-out     # what the copies run here name instead
# Corpus files also run on one rank (the rest run on two).
NP1_CASES=" 01-yaml-syntax 05-unknown-family 13-missing-output 30-empty-file 40-three-problems
            50-existing-output 53-output-folder-missing "
# Concurrent cases in the background (on top of the setup cases in the foreground): mpirun
# spends most of a failing run waiting, not computing.
POOL=${SB_CLI_JOBS:-4}
LOGS=$SB_SCRATCH/logs
WORK=$SB_SCRATCH/work
mkdir -p "$LOGS" "$WORK"

# header FILE KEY: the value of a `# KEY: value` line (kept verbatim, trailing spaces too).
header() { sed -n "s/^# $2: //p" "$1" | head -n 1; }

# job_output FILE: the job's top-level output path when it is a plain scalar, else nothing.
job_output() {
    local v
    v=$(sed -n 's/^output:[[:space:]]*//p' "$1" | head -n 1 | sed 's/[[:space:]]#.*$//')
    case $v in
    '&'*) v=${v#* } ;; # an anchor: &name path
    esac
    case $v in
    '' | '['* | '{'* | '"'* | "'"* | '*'*) v= ;;
    esac
    printf '%s' "$v"
}

# check_bad_run LABEL PREFIX JOB: the captured run exited 2 with the expected diagnostic, and
# printed no summary.
check_bad_run() {
    local label=$1 prefix=$2 job=$3
    local expect loc rc
    expect=$(header "$job" expect)
    loc=$(header "$job" expect-location)
    local SB_OUT=$prefix.out SB_ERR=$prefix.err # for last_io
    rc=$(cat "$prefix.rc")
    [ "$rc" = 2 ] || fail "$label: exit status
  expected: 2 (bad input)
  got:      $rc
$(last_io)"
    pass "$label: exit 2"
    check_contains "$label: stderr has the '# expect:' text" "$prefix.err" "$expect"
    if [ -n "$loc" ]; then
        # The location and the expected text on one line: "FILE:LINE:COL: key: message".
        if ! grep -F -- "$job:$loc: " "$prefix.err" | grep -qF -- "$expect"; then
            fail "$label: diagnostic location
  expected: a line starting '$job:$loc: ' and containing '$expect'
  got:
$(show_file stderr "$prefix.err")"
        fi
        pass "$label: stderr has $job:$loc"
    else
        check_contains "$label: the diagnostic names the job file" "$prefix.err" "$job"
    fi
    local n
    n=$(grep -cF -- "$expect" "$prefix.err")
    check_eq "$label: the diagnostic is printed once (by rank 0 only)" 1 "$n"
    if grep -qE '^[[:space:]]*\{|"kind"' "$prefix.out"; then
        fail "$label: stdout
  expected: no JSON summary
  got:      $(head -c 300 "$prefix.out")"
    fi
    pass "$label: no JSON summary on stdout"
    iconv -f UTF-8 -t UTF-8 "$prefix.err" >/dev/null 2>&1 || fail "$label: stderr
  expected: valid UTF-8 (other bytes escaped as \\xNN)
  got:      $(od -c "$prefix.err" | head -n 5)"
    pass "$label: stderr is valid UTF-8"
    check_not_contains "$label: validate did not call it valid" "$prefix.out" "valid growth job"
}

# --- corpus files without setup: run in a background pool, checked afterwards ---------------

run_plain_case() {
    local name=$1 job=$2
    cd "$WORK/$name" || exit 1
    run_capture "$LOGS/$name.validate" "$SB_BINARY" validate "$job"
    run_capture "$LOGS/$name.np2" mpirun_sb 2 run "$job"
    case $NP1_CASES in
    *" $name "*) run_capture "$LOGS/$name.np1" mpirun_sb 1 run "$job" ;;
    esac
}

plain_jobs=()
setup_jobs=()
mkdir -p "$SB_SCRATCH/setup-corpus"
for job in "$CORPUS"/*.yaml; do
    if [ -n "$(header "$job" setup)" ]; then
        copy=$SB_SCRATCH/setup-corpus/$(basename "$job")
        sed "s#$CORPUS_SETUP_ROOT#$SETUP_ROOT#g" "$job" >"$copy"
        setup_jobs+=("$copy")
    else
        plain_jobs+=("$job")
    fi
done
[ "${#plain_jobs[@]}" -ge 40 ] || fail "corpus size
  expected: at least 40 job files without setup in $CORPUS
  got:      ${#plain_jobs[@]}"
pass "corpus found"
[ "${#setup_jobs[@]}" -ge 4 ] || fail "corpus setup files
  expected: at least 4 files with '# setup:' in $CORPUS
  got:      ${#setup_jobs[@]}"
pass "setup files found"

# Output paths that already exist next to the corpus (relative paths must not be resolved there,
# and nothing may appear there either).
declare -A existed_near_corpus
for job in "${plain_jobs[@]}"; do
    out=$(job_output "$job")
    if [ -n "$out" ] && [ "${out#/}" = "$out" ] && [ -e "$CORPUS/$out" ]; then
        existed_near_corpus[$out]=1
    fi
done

for job in "${plain_jobs[@]}"; do
    name=$(basename "$job" .yaml)
    mkdir "$WORK/$name"
    tree_snapshot "$WORK/$name" >"$LOGS/$name.before"
done

note "corpus: ${#plain_jobs[@]} files in the background ($POOL at a time), ${#setup_jobs[@]} with setup"
(
    # On a failure the main script stops the pool: stop the cases in flight with it.
    trap 'kill $(jobs -p) 2>/dev/null; exit 143' TERM
    running=0
    for job in "${plain_jobs[@]}"; do
        run_plain_case "$(basename "$job" .yaml)" "$job" &
        running=$((running + 1))
        if [ "$running" -ge "$POOL" ]; then
            wait -n
            running=$((running - 1))
        fi
    done
    wait
) &
pool_pid=$!
# shellcheck disable=SC2016 # expanded when the hook runs
cleanup_hook 'kill "$pool_pid" 2>/dev/null && wait "$pool_pid" 2>/dev/null'

# --- corpus files with setup: one at a time, in the foreground -------------------------------

clean_setup_root() {
    if [ -e "$SETUP_ROOT" ]; then
        chmod -R u+rwx "$SETUP_ROOT" 2>/dev/null
        rm -rf "$SETUP_ROOT"
    fi
}

# setup_case LABEL JOB cmd...: prepares /tmp/sb-badinput-out per the `# setup:` line, runs cmd
# from a fresh working folder, checks the run and that the output folder is as prepared.
setup_case() {
    local label=$1 job=$2
    shift 2
    local kind out dir name work ref
    kind=$(header "$job" setup)
    out=$(job_output "$job")
    [ -n "$out" ] || fail "$job: cannot read its output path"
    dir=$(dirname "$out")
    name=$(basename "$job" .yaml)
    work=$WORK/$name.$label
    ref=$LOGS/$name.$label.ref
    mkdir "$work"
    clean_setup_root
    mkdir -p "$SETUP_ROOT"
    case $kind in
    existing-output)
        printf 'not an HDF5 file: %s\n' "$name" >"$out"
        cp "$out" "$ref"
        ;;
    readonly-dir)
        mkdir -p "$dir"
        chmod 0555 "$dir"
        ;;
    output-is-dir) mkdir -p "$out" ;;
    missing-dir) rm -rf "$dir" ;;
    *) fail "$job: unknown '# setup: $kind'" ;;
    esac
    local before_root before_work
    before_root=$(tree_snapshot "$SETUP_ROOT")
    before_work=$(tree_snapshot "$work")
    (cd "$work" && run_capture "$LOGS/$name.$label" "$@")
    check_bad_run "$name ($label)" "$LOGS/$name.$label" "$job"
    check_eq "$name ($label): $SETUP_ROOT unchanged (names, modes, sizes, mtimes)" \
        "$before_root" "$(tree_snapshot "$SETUP_ROOT")"
    check_eq "$name ($label): working folder unchanged" "$before_work" "$(tree_snapshot "$work")"
    check_absent "$name ($label): no .partial file" "$out.partial"
    check_absent "$name ($label): no checkpoint file" "$out.ckpt.h5"
    case $kind in
    existing-output)
        cmp -s "$ref" "$out" || fail "$name ($label): existing output
  expected: byte-identical to what the test wrote ($(cat "$ref"))
  got:      $(head -c 200 "$out" 2>&1)"
        pass "$name ($label): existing output untouched"
        ;;
    readonly-dir)
        check_eq "$name ($label): read-only folder still empty" "" "$(ls -A "$dir")"
        ;;
    output-is-dir)
        [ -d "$out" ] || fail "$name ($label): $out is no longer a directory"
        check_eq "$name ($label): the directory at the output path is still empty" "" "$(ls -A "$out")"
        ;;
    missing-dir)
        check_absent "$name ($label): missing folder not created" "$dir"
        ;;
    esac
    clean_setup_root
}

# setup_validate_existing JOB: validate of a job whose output exists succeeds with a note, and
# leaves the file alone.
setup_validate_existing() {
    local job=$1 out
    out=$(job_output "$job")
    clean_setup_root
    mkdir -p "$SETUP_ROOT"
    printf 'not an HDF5 file\n' >"$out"
    local sum
    sum=$(cksum <"$out")
    expect_rc 0 "$SB_BINARY" validate "$job"
    check_contains "$(basename "$job") (validate): a note, not a refusal" "$SB_ERR" \
        "symbatch: note: output '$out' exists: run will refuse it without --force"
    check_contains "$(basename "$job") (validate): valid" "$SB_OUT" "valid growth job"
    check_eq "$(basename "$job") (validate): existing output untouched" "$sum" "$(cksum <"$out")"
    clean_setup_root
}

for job in "${setup_jobs[@]}"; do
    name=$(basename "$job" .yaml)
    if [ "$(header "$job" setup)" = existing-output ]; then
        setup_validate_existing "$job"
    else
        setup_case validate "$job" "$SB_BINARY" validate "$job"
    fi
    setup_case np2 "$job" mpirun_sb 2 run "$job"
    case $NP1_CASES in
    *" $name "*) setup_case np1 "$job" mpirun_sb 1 run "$job" ;;
    esac
done

# --- generated hostile files: too big for the corpus, or too many problems -----------------

# Job files above 1 MiB are refused before parsing (the first line is a syntax error that a
# parse would report) with the file, its size and the limit; a sparse 2 GiB file is refused
# without being read.  Files of ~60k bad keys under 1 MiB print 50 problems and one count line,
# and finish well within a generous time (validation is linear; this only catches a hang).
note "generated hostile files"
GEN=$SB_SCRATCH/gen
mkdir -p "$GEN"
cd "$GEN" || fail "cannot enter $GEN"
LIMIT=1048576
HEAD='kind: growth
output: gen.h5
growth:
  generators: {family: lrx, n: 5}'

# gen_job NAME: writes $GEN/NAME.yaml: HEAD, then the lines on stdin.
gen_job() { { printf '%s\n' "$HEAD"; cat; } >"$GEN/$1.yaml"; }

# check_too_big LABEL JOB SIZE_TEXT cmd...
check_too_big() {
    local label=$1 job=$2 size=$3
    shift 3
    SB_CLI_TIMEOUT=60 expect_rc 2 "$@"
    check_contains "$label: names the file and its size" "$SB_ERR" "$job: job file is $size bytes"
    check_contains "$label: names the limit" "$SB_ERR" "over the limit of $LIMIT bytes (1 MiB"
    check_not_contains "$label: refused before parsing" "$SB_ERR" "YAML syntax error"
    check_eq "$label: said once (by rank 0 only)" 1 "$(grep -c "job file is" "$SB_ERR")"
    check_absent "$label: nothing written" "$GEN/gen.h5"
}

big=$GEN/big.yaml
{
    printf 'kind: [unclosed\n'
    head -c $((LIMIT + 1000)) /dev/zero | tr '\0' '#'
} >"$big"
big_size=$(stat -c %s "$big")
check_too_big "file over 1 MiB (validate)" "$big" "$big_size" "$SB_BINARY" validate "$big"
check_too_big "file over 1 MiB (run, 2 ranks)" "$big" "$big_size" mpirun_sb 2 run "$big"
huge=$GEN/huge.yaml
truncate -s 2G "$huge" || fail "truncate -s 2G failed"
check_too_big "sparse 2 GiB file (validate)" "$huge" 2147483648 "$SB_BINARY" validate "$huge"
rm -f "$huge"
# shellcheck disable=SC2016 # $0 is expanded by the inner shell
check_too_big "more than 1 MiB from a pipe" /dev/stdin "more than $LIMIT" \
    bash -c 'head -c 2000000 /dev/zero | tr "\0" "#" | "$0" validate /dev/stdin' "$SB_BINARY"

# check_many LABEL JOB PROBLEMS cmd...: exit 2, exactly 50 located problems, then the count of
# the rest, in a generous time.
check_many() {
    local label=$1 job=$2 problems=$3
    shift 3
    local size
    size=$(stat -c %s "$job")
    [ "$size" -le "$LIMIT" ] || fail "$label: generated $size bytes, over the limit"
    SB_CLI_TIMEOUT=60 expect_rc 2 "$@"
    check_eq "$label: 50 problems printed" 50 "$(grep -c "^$job:[0-9]*:[0-9]*: " "$SB_ERR")"
    check_contains "$label: the count of the others" "$SB_ERR" \
        "... and $((problems - 50)) more problems"
    check_eq "$label: one count line" 1 "$(grep -c "more problems" "$SB_ERR")"
    check_eq "$label: no other problem lines" 50 "$(grep -c "unknown key\|duplicate key" "$SB_ERR")"
    check_absent "$label: nothing written" "$GEN/gen.h5"
}

seq -f 'key%06g: 1' 0 59999 | gen_job top-keys
check_many "60k unknown top-level keys (validate)" "$GEN/top-keys.yaml" 60000 \
    "$SB_BINARY" validate "$GEN/top-keys.yaml"
check_contains "60k unknown top-level keys: the first one at its place" "$SB_ERR" \
    "$GEN/top-keys.yaml:5:1: key000000: unknown key 'key000000'"
check_many "60k unknown top-level keys (run, 2 ranks)" "$GEN/top-keys.yaml" 60000 \
    mpirun_sb 2 run "$GEN/top-keys.yaml"
seq -f '  key%06g: 1' 0 59999 | gen_job section-keys
check_many "60k unknown keys in one section" "$GEN/section-keys.yaml" 60000 \
    "$SB_BINARY" validate "$GEN/section-keys.yaml"
check_contains "60k unknown keys in one section: the path" "$SB_ERR" \
    "$GEN/section-keys.yaml:5:3: growth.key000000: unknown key"
# One good mode, then 60k duplicates of it.
yes '  mode: full' | head -n 60001 | gen_job duplicates
check_many "60k duplicate keys" "$GEN/duplicates.yaml" 60000 \
    "$SB_BINARY" validate "$GEN/duplicates.yaml"
check_contains "60k duplicate keys: where the first was" "$SB_ERR" \
    "$GEN/duplicates.yaml:6:3: growth.mode: duplicate key 'mode' (first given on line 5)"
# 200k nested flow mappings (libyaml's scanner is quadratic in the depth): refused at depth 33.
{
    printf '%s\nx: ' "$HEAD"
    yes '{a: ' | head -n 200000 | tr -d '\n'
    yes '}' | head -n 200000 | tr -d '\n'
    echo
} >"$GEN/deep.yaml"
[ "$(stat -c %s "$GEN/deep.yaml")" -le "$LIMIT" ] || fail "deep.yaml: generated over the limit"
SB_CLI_TIMEOUT=60 expect_rc 2 "$SB_BINARY" validate "$GEN/deep.yaml"
check_contains "200k nested mappings: refused at the 33rd level" "$SB_ERR" \
    "$GEN/deep.yaml:5:128: lists and mappings are nested more than 32 levels deep"
rm -f "$GEN"/*.yaml

# --- command-line mistakes ----------------------------------------------------------------

note "command-line mistakes (while the pool runs)"
misc=$WORK/misc
mkdir "$misc"
cd "$misc" || fail "cannot enter $misc"
good_job=$SB_SOURCE_DIR/jobs/growth-coset.yaml
existing=$SB_SCRATCH/existing.h5
printf 'precious bytes, not HDF5\n' >"$existing"
sum_before=$(cksum <"$existing")
before_misc=$(tree_snapshot "$misc")

# validate notes an existing output (exit 0); run refuses it.
expect_rc 0 "$SB_BINARY" validate "$good_job" --output "$existing"
check_contains "validate --output onto an existing file: a note" "$SB_ERR" \
    "symbatch: note: output '$existing' exists: run will refuse it without --force"
check_eq "validate --output onto an existing file: file untouched" "$sum_before" "$(cksum <"$existing")"
for how in run-np1 run-np2; do
    case $how in
    run-np1) expect_rc 2 "$SB_BINARY" run "$good_job" --output "$existing" ;;
    run-np2) expect_rc 2 mpirun_sb 2 run "$good_job" --output "$existing" ;;
    esac
    check_contains "$how --output onto an existing file: says so" "$SB_ERR" "exists; pass --force"
    check_eq "$how --output onto an existing file: file untouched" "$sum_before" "$(cksum <"$existing")"
    check_eq "$how --output onto an existing file: no summary" "" "$(grep '^{' "$SB_OUT")"
    check_absent "$how --output onto an existing file: no .partial" "$existing.partial"
done
# validate never writes, even with --force.
expect_rc 0 "$SB_BINARY" validate "$good_job" --output "$existing" --force
check_eq "validate --force: file untouched" "$sum_before" "$(cksum <"$existing")"

expect_rc 2 "$SB_BINARY" run "$good_job" --output "$existing" --bogus
check_contains "unknown option: named" "$SB_ERR" "unknown option '--bogus'"
expect_rc 2 mpirun_sb 2 validate "$good_job" -x
check_contains "unknown option on 2 ranks: named" "$SB_ERR" "unknown option '-x'"
check_eq "unknown option on 2 ranks: reported once" 1 "$(grep -c "unknown option" "$SB_ERR")"

expect_rc 2 "$SB_BINARY" frobnicate "$good_job"
check_contains "unknown verb: named" "$SB_ERR" "unknown command 'frobnicate'"
expect_rc 2 mpirun_sb 2 runn "$good_job"
check_contains "unknown verb on 2 ranks: named" "$SB_ERR" "unknown command 'runn'"

expect_rc 2 "$SB_BINARY" validate nothere.yaml
check_contains "missing job file (validate): named" "$SB_ERR" "nothere.yaml"
expect_rc 2 mpirun_sb 2 run "$misc/nothere.yaml"
check_contains "missing job file (run, 2 ranks): named" "$SB_ERR" "$misc/nothere.yaml"
check_eq "missing job file: no summary" "" "$(grep '^{' "$SB_OUT")"

expect_rc 2 "$SB_BINARY" run
check_contains "run without a file: says it needs one" "$SB_ERR" "needs a file"
expect_rc 2 mpirun_sb 2 run
check_contains "run without a file on 2 ranks: says it needs one" "$SB_ERR" "needs a file"
expect_rc 2 "$SB_BINARY" run "$good_job" --output
check_contains "--output without a path: says so" "$SB_ERR" "needs a path"
expect_rc 2 "$SB_BINARY"
check_contains "no arguments: prints the usage" "$SB_ERR" "usage: symbatch"

check_eq "command-line mistakes wrote nothing in the working folder" "$before_misc" "$(tree_snapshot "$misc")"
check_eq "command-line mistakes left the existing file alone" "$sum_before" "$(cksum <"$existing")"

# --- check the background results ---------------------------------------------------------

note "checking the background results"
wait "$pool_pid" || fail "the background pool of corpus runs failed (exit $?)"
for job in "${plain_jobs[@]}"; do
    name=$(basename "$job" .yaml)
    labels="validate np2"
    case $NP1_CASES in
    *" $name "*) labels="$labels np1" ;;
    esac
    for label in $labels; do
        [ -f "$LOGS/$name.$label.rc" ] || fail "$name ($label): the run left no exit status"
        check_bad_run "$name ($label)" "$LOGS/$name.$label" "$job"
    done
    check_eq "$name: working folder unchanged (nothing written)" \
        "$(cat "$LOGS/$name.before")" "$(tree_snapshot "$WORK/$name")"
    out=$(job_output "$job")
    if [ -n "$out" ]; then
        if [ "${out#/}" = "$out" ]; then
            check_absent "$name: nothing at the output path $out" "$WORK/$name/$out"
            check_absent "$name: no $out.partial" "$WORK/$name/$out.partial"
            if [ -z "${existed_near_corpus[$out]:-}" ]; then
                check_absent "$name: nothing at $out next to the job file" "$CORPUS/$out"
            fi
        else
            check_absent "$name: nothing at the output path" "$out"
        fi
    fi
done

finish
