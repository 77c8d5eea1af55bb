#!/usr/bin/env bash
# Groups beyond S_n, end to end: the cube family's keys (metric, fixed_corner), group orders in
# `generators` and `validate` (Schreier-Sims), full mode over the group's own perfect hash for
# the 2x2x2 cube with a fixed corner at 1, 2 and 4 ranks (the published row), and its distance
# table read back with h5py through /growth/bsgs alone (unrank, rank, neighbours one apart).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

have_h5py || {
    skip "python3-h5py missing: the distance table cannot be read back"
    exit 77
}
cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"

expect_rc 0 "$SB_BINARY" generators cube_htm 3
check_contains "3x3x3 group order" "$SB_OUT" "# group order: 43252003274489856000"
expect_rc 0 "$SB_BINARY" generators cube 2
check_contains "cube 2: quarter turns" "$SB_OUT" "12 generators on states of 24 elements"
check_contains "2x2x2 group order (with cube rotations)" "$SB_OUT" "# group order: 88179840"

printf '%s\n' "kind: growth" "output: $SB_SCRATCH/pocket.h5" "growth:" \
    "  generators: { family: cube, n: 2, metric: htm, fixed_corner: true }" \
    "  central_state: [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]" \
    "  mode: full" "  store_distances: true" >pocket.yaml
expect_rc 0 "$SB_BINARY" validate pocket.yaml
check_contains "validate: group order" "$SB_OUT" "# group order: 3674160"
check_contains "validate: bsgs ranking" "$SB_OUT" "3.674e+06 states (bsgs ranking)"
for np in 1 2 4; do
    expect_rc 0 mpirun_sb "$np" run pocket.yaml --force --quiet
    check_contains "pocket cube, $np ranks: the published row" "$SB_OUT" \
        '"layer_sizes":[1,9,54,321,1847,9992,50136,227536,870072,1887748,623800,2644]'
    check_contains "pocket cube, $np ranks: full mode" "$SB_OUT" '"mode":"full"'
done
check_eq "rank scheme" bsgs "$(h5_attr pocket.h5 /growth/rank_scheme)"
check_eq "group order attribute" 3674160 "$(h5_attr pocket.h5 /growth/group_order)"
/usr/bin/python3 - pocket.h5 >reader.out 2>&1 <<'PY' || fail "reading the bsgs table: $(cat reader.out)"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = f["/growth/bsgs"]
base = [int(x) for x in g["base"][0]]
sizes = [int(x) for x in g["orbit_sizes"][:]]
T = g["transversals"][:]
starts = [sum(sizes[:i]) for i in range(len(sizes))]
def unrank(r):
    ks = []
    for s in reversed(sizes):
        ks.append(r % s)
        r //= s
    ks.reverse()
    p = np.arange(T.shape[1])
    for i in reversed(range(len(sizes))):
        p = T[starts[i] + ks[i]][p]
    return p
def rank(p):
    r, t = 0, p.copy()
    for i in range(len(sizes)):
        rows = T[starts[i]:starts[i] + sizes[i]]
        k = [j for j in range(sizes[i]) if rows[j][base[i]] == t[base[i]]][0]
        t = np.argsort(rows[k])[t]
        r = r * sizes[i] + k
    return r
d, gens = f["/growth/distances"], f["/growth/generators"][:]
order = 1
for s in sizes:
    order *= s
assert order == 3674160, order
for r in [0, 1, 777, 123456, order - 1]:
    p = unrank(r)
    assert rank(p) == r, r
    for gen in gens:
        assert abs(int(d[rank(p[gen])]) - int(d[r])) <= 1
assert d[0] == 0 and max(d[:]) == 11
print("ok")
PY
pass "the distance table read back through /growth/bsgs alone"
finish
