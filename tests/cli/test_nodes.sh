#!/usr/bin/env bash
# Multi-node paths on one machine: a full-mode job at 4 ranks split into 2 and 4 pseudo-nodes
# (SB_TEST_NODES, test-only; see include/symbatch/comm.h) gives the layer sizes of 1 rank, and
# the JSON summary and the result file's root attribute say how many nodes the run saw.  Marks
# for other nodes go through the exchange: exchange_bytes_rank0 > 0 as 4 nodes (rank 0 alone
# scans its block), 0 as one node.  As 2 nodes of 2 ranks rank 0 may send nothing (which rank
# of the node scans a task is a race); tests/mpi/test_ckpt.c checks the sum over the ranks.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v h5dump >/dev/null 2>&1 || {
    skip "h5dump missing: the result file's nodes attribute cannot be read"
    exit 77
}

j=$SB_SCRATCH/nodes.yaml
printf '%s\n' "kind: growth" "output: $SB_SCRATCH/nodes.h5" "growth:" \
    "  generators: { family: lrx, n: 9 }" "  mode: full" >"$j"

json_field() { # json_field NAME: the value of a top-level scalar or list field of $SB_OUT
    grep -oE "\"$1\":(\[[^]]*\]|[^,}]*)" "$SB_OUT" | head -n 1 | cut -d: -f2-
}

expect_rc 0 mpirun_sb 1 run "$j" --force
want=$(json_field layer_sizes)
[ -n "$want" ] || fail "1 rank: no layer_sizes in the JSON summary"
check_contains "1 rank: 9! states" "$SB_OUT" '"num_states":362880'
check_contains "1 rank: one node" "$SB_OUT" '"nodes":1'
check_eq "1 rank: result file attribute nodes" 1 "$(h5_attr "$SB_SCRATCH/nodes.h5" /nodes)"

for k in 2 4; do
    expect_rc 0 env SB_TEST_NODES=$k timeout -k 10 "$SB_CLI_TIMEOUT" "$SB_MPIEXEC" -n 4 \
        "$SB_BINARY" run "$j" --force
    check_eq "4 ranks as $k nodes: layer sizes of 1 rank" "$want" "$(json_field layer_sizes)"
    check_contains "4 ranks as $k nodes: JSON nodes" "$SB_OUT" "\"nodes\":$k"
    check_eq "4 ranks as $k nodes: result file attribute nodes" "$k" \
        "$(h5_attr "$SB_SCRATCH/nodes.h5" /nodes)"
    shared=$([ "$k" -eq 2 ] && echo true || echo false)
    check_contains "4 ranks as $k nodes: node-shared blocks $shared" "$SB_OUT" \
        "\"shared_memory\":$shared"
done
bytes=$(json_field exchange_bytes_rank0)
[ "${bytes:-0}" -gt 0 ] || fail "4 ranks as 4 nodes: exchange_bytes_rank0 is '$bytes', want > 0"
pass "4 ranks as 4 nodes: marks for other nodes went through the exchange ($bytes bytes)"

# One node of 4 ranks: everything marked in shared memory, nothing exchanged.
expect_rc 0 env SB_TEST_NODES=1 timeout -k 10 "$SB_CLI_TIMEOUT" "$SB_MPIEXEC" -n 4 \
    "$SB_BINARY" run "$j" --force
check_eq "4 ranks as 1 node: layer sizes of 1 rank" "$want" "$(json_field layer_sizes)"
check_contains "4 ranks as 1 node: JSON nodes" "$SB_OUT" '"nodes":1'
check_contains "4 ranks as 1 node: nothing exchanged" "$SB_OUT" '"exchange_bytes_rank0":0'

# A value that is not a node count is refused before any work, on every rank.
expect_rc 2 env SB_TEST_NODES=5 timeout -k 10 "$SB_CLI_TIMEOUT" "$SB_MPIEXEC" -n 4 \
    "$SB_BINARY" run "$j" --force
check_contains "SB_TEST_NODES=5 on 4 ranks: says why" "$SB_ERR" \
    "SB_TEST_NODES (a test-only setting) must be an integer from 1 to 4"
finish
