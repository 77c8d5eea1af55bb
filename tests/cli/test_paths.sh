#!/usr/bin/env bash
# Long output paths: any path the OS accepts works, or is refused at validation with the reason.
#   - output paths of 200, 300 (through folders) and 4000 bytes, and file names of 225 and 239
#     bytes (which used to hang or abort inside Open MPI's MPI-IO), with a checkpoint at every
#     layer, at 1, 2 and 4 ranks: exit 0, the right layer sizes read back with h5dump, nothing
#     left beside the result;
#   - a file name that leaves no room for '<name>.ckpt.h5.partial' under the file system's name
#     limit: validate and run refuse it (exit 2) naming the limit, and create nothing.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v h5dump >/dev/null 2>&1 || {
    skip "h5dump missing: results cannot be read back"
    exit 77
}
cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"

# long_folder LEN: a folder under the scratch folder whose path is LEN bytes (made here).
long_folder() {
    local d=$SB_SCRATCH/p
    while [ ${#d} -lt "$1" ]; do d=$d/$(printf 'd%.0s' $(seq 60)); done
    d=${d:0:$1}
    d=${d%/}
    mkdir -p "$d" || fail "cannot make a ${#d}-byte folder"
    echo "$d"
}

# run_path WHAT OUTPUT: LRX 7 with a checkpoint at every layer, on 1, 2 and 4 ranks.
run_path() {
    local what=$1 out=$2 np
    printf '%s\n' "kind: growth" "output: $out" "checkpoint: { every_seconds: 0.000001 }" \
        "growth:" "  generators: { family: lrx, n: 7 }" "  mode: frontier" >job.yaml
    for np in 1 2 4; do
        rm -f "$out"
        expect_rc 0 mpirun_sb "$np" run job.yaml --quiet
        check_contains "$what, $np ranks: 7! states" "$SB_OUT" '"num_states":5040'
        check_eq "$what, $np ranks: layer sizes read back" \
            "1,3,6,12,22,42,73,124,203,303,425,559,678,713,746,611,355,122,28,10,3,1" \
            "$(h5_data "$out" /growth/layer_sizes)"
        local left
        left=$(find "$(dirname "$out")" -maxdepth 1 -newer job.yaml ! -path "$out" ! -type d ! -name '.last.*')
        check_eq "$what, $np ranks: nothing left beside the result" "" "$left"
    done
}

run_path "200-byte path" "$(long_folder 190)/r.h5"
run_path "300-byte path through folders" "$(long_folder 290)/r.h5"
run_path "4000-byte path" "$(long_folder 3990)/r.h5"
run_path "225-byte name" "$SB_SCRATCH/$(printf 'n%.0s' $(seq 222)).h5"
run_path "239-byte name" "$SB_SCRATCH/$(printf 'n%.0s' $(seq 236)).h5"

# A name with no room for the checkpoint's: refused before anything is made.
mkdir -p "$SB_SCRATCH/q"
out=$SB_SCRATCH/q/$(printf 'x%.0s' $(seq 245)).h5
printf '%s\n' "kind: growth" "output: $out" "growth:" "  generators: { family: lrx, n: 7 }" \
    >long.yaml
before=$(tree_snapshot "$SB_SCRATCH/q")
expect_rc 2 "$SB_BINARY" validate long.yaml
check_contains "248-byte name: validate says why" "$SB_ERR" \
    "the file name is 248 bytes; the run also writes '<name>.ckpt.h5.partial' beside it, so the name may have at most 239 bytes"
expect_rc 2 mpirun_sb 2 run long.yaml
check_contains "248-byte name: run says why" "$SB_ERR" "may have at most 239 bytes"
check_eq "248-byte name: nothing created" "$before" "$(tree_snapshot "$SB_SCRATCH/q")"
finish
