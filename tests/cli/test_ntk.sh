#!/usr/bin/env bash
# The ntk job kind end to end with `mpirun symbatch run`:
#  - a small job (k = 6, width 256, 40 members, the covariance over all inputs) on 1, 2 and 4
#    ranks: every /ntk dataset but the timings bitwise identical (h5py; the covariance's
#    eigenvalues and condition number, from pdsyevd on another grid, to 1e-9), the layout of the
#    issue present with units and meaning on every dataset, the JSON summary and `inspect`;
#  - a k = 10 job of closed forms only: mu_in, mu_out and variance at h = 2, 3, 5 equal the
#    k = 10 table of ntk.md (NTK-GP), and the NNGP's 90% ensemble size at weight 2 is 58;
#  - SIGUSR1 to one rank in the middle of the ensemble: exit 75 and a checkpoint; --resume
#    (on 1 rank) gives the same /ntk datasets as the uninterrupted run;
#  - the example jobs jobs/ntk-*.yaml validate;
#  - a k = 16 covariance (34 GB) on one 24 GB rank is refused before any work, naming the
#    ranks it would fit on; a process grid that does not match the ranks is refused.
# Skips (77) when /usr/bin/python3 cannot import h5py and numpy.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PY=/usr/bin/python3
W=$SB_SCRATCH/w
mkdir -p "$W"
cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"
if ! have_h5py; then
    skip "$PY cannot import h5py and numpy (Debian: python3-h5py)"
    exit 77
fi

# small NAME [EXTRA YAML LINES...]: the small job, output $W/NAME.h5.
small() {
    local name=$1
    shift
    {
        cat <<EOF
kind: ntk
output: $W/$name.h5
seed: 11
checkpoint: { every_seconds: 0 }
ntk:
  k: 6
  width: 256
  members: 40
  members_per_step: 4
  covariance: { enabled: true, samples: 2000, block_size: 16 }
EOF
        printf '%s\n' "$@"
    } >"$W/$name.yaml"
}

# same_ntk WHAT REF GOT: every dataset under /ntk of REF exists in GOT with the same shape,
# type and bits (timings excepted), and GOT has no other dataset.
same_ntk() {
    local out
    out=$("$PY" - "$2" "$3" <<'EOF' 2>&1
import sys, h5py, numpy as np
TIMINGS = ("seconds", "gflops")
# pdsyevd's rounding depends on the process grid: the spectrum agrees to rounding only.
SPECTRUM = ("covariance/eigenvalues", "covariance/condition")
def datasets(f):
    out = {}
    f["ntk"].visititems(lambda n, o: out.__setitem__(n, o) if isinstance(o, h5py.Dataset) else None)
    return out
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    da, db = datasets(a), datasets(b)
    if sorted(da) != sorted(db):
        sys.exit(f"datasets differ: {sorted(set(da) ^ set(db))}")
    for name in da:
        if name.endswith(TIMINGS):
            continue
        x, y = da[name][()], db[name][()]
        if da[name].dtype != db[name].dtype or np.shape(x) != np.shape(y):
            sys.exit(f"/ntk/{name}: {da[name].dtype}{np.shape(x)} vs {db[name].dtype}{np.shape(y)}")
        if name in SPECTRUM:
            x, y = np.asarray(x, float), np.asarray(y, float)
            scale = np.max(np.abs(x[np.isfinite(x)]), initial=0.0)
            if not np.allclose(x, y, rtol=1e-9, atol=1e-13 * scale, equal_nan=True):
                sys.exit(f"/ntk/{name} differs beyond rounding:\n  {x}\n  {y}")
        elif np.asarray(x).tobytes() != np.asarray(y).tobytes():
            sys.exit(f"/ntk/{name} differs:\n  {x}\n  {y}")
    print(len(da))
EOF
    ) || fail "$1: $out"
    pass "$1 ($out datasets)"
}

# --- rank-count invariance, layout, summary, inspect ----------------------------------------

small np1
small np2
expect_rc 0 mpirun_sb 1 run "$W/np1.yaml" --quiet
expect_rc 0 mpirun_sb 2 run "$W/np2.yaml"
check_contains "progress: members done and accuracy" "$SB_ERR" "members 40/40  accuracy(M=40)"
check_matches "progress: members per second" "$SB_ERR" 'members/s'
check_not_contains "no ScaLAPACK complaint" "$SB_ERR" "illegal value"
check_matches "JSON summary: ntk fields" "$SB_OUT" '"kind":"ntk".*"theory":\{"mu_in_weight2"'
check_matches "JSON summary: the ensemble at M = 40" "$SB_OUT" '"ensemble":\{"members":40,.*"M":40'
check_matches "JSON summary: the covariance" "$SB_OUT" '"covariance":\{"n":57,'
same_ntk "1 and 2 ranks give bitwise identical /ntk datasets" "$W/np1.h5" "$W/np2.h5"
small np4
expect_rc 0 mpirun_sb 4 run "$W/np4.yaml" --quiet
same_ntk "1 and 4 ranks (a 2 x 2 grid) give the same /ntk datasets" "$W/np1.h5" "$W/np4.h5"

# The comparison must tell results apart: another seed gives another ensemble.
small seed12 'seed_unused: 0'
sed -i -e 's/^seed: 11/seed: 12/' -e '/seed_unused/d' "$W/seed12.yaml"
expect_rc 0 mpirun_sb 1 run "$W/seed12.yaml" --quiet
(same_ntk "self-check" "$W/np1.h5" "$W/seed12.h5") >/dev/null 2>&1 &&
    fail "same_ntk finds no difference between seeds 11 and 12"
pass "same_ntk tells different seeds apart"

out=$("$PY" - "$W/np2.h5" <<'EOF' 2>&1
import sys, h5py
want = ["ntk/permutation", "ntk/theory/M", "ntk/theory/ensemble_size",
        "ntk/ensemble/M", "ntk/ensemble/accuracy", "ntk/ensemble/p_all_exact",
        "ntk/ensemble/mean_by_weight", "ntk/ensemble/variance_by_weight",
        "ntk/ensemble/groups", "ntk/ensemble/accuracy_by_weight", "ntk/ensemble/size90_by_weight",
        "ntk/covariance/M", "ntk/covariance/p_all_exact", "ntk/covariance/p_all_exact_ci"]
for gp in ("ntk", "nngp"):
    want += [f"ntk/theory/{gp}/{d}" for d in ("mu_in", "mu_out", "variance", "accuracy",
             "p_all_exact_product", "p_all_exact_union", "p_exact", "ensemble_one")]
with h5py.File(sys.argv[1], "r") as f:
    for name in want:
        if name not in f:
            sys.exit(f"missing /{name}")
    bad = []
    f["ntk"].visititems(lambda n, o: bad.append(n) if isinstance(o, h5py.Dataset) and
                        not ("units" in o.attrs and "meaning" in o.attrs) else None)
    if bad:
        sys.exit(f"datasets without units and meaning: {bad}")
    k = f["ntk"].attrs["k"]
    for gp in ("ntk", "nngp"):
        if f[f"ntk/theory/{gp}/mu_in"].shape != (k,):
            sys.exit(f"/ntk/theory/{gp}/mu_in has shape {f[f'ntk/theory/{gp}/mu_in'].shape}")
    if f["ntk/ensemble/mean_by_weight"].shape != (k, 2):
        sys.exit(f"mean_by_weight shape {f['ntk/ensemble/mean_by_weight'].shape}")
    perm = sorted(int(x) for x in f["ntk/permutation"][()])
    if perm != list(range(k)):
        sys.exit(f"/ntk/permutation is not a permutation of 0..{k - 1}: {perm}")
    if list(f["ntk/ensemble/M"][()]) != [1, 2, 3, 5, 7, 10, 15, 20, 30, 40]:
        sys.exit(f"default M grid: {list(f['ntk/ensemble/M'][()])}")
print("ok")
EOF
) || fail "result layout: $out"
pass "result layout: the issue's datasets, each with units and meaning"

expect_rc 0 "$SB_BINARY" inspect "$W/np2.h5"
check_contains "inspect: the ntk group" "$SB_OUT" "/ntk"
check_contains "inspect: theory table" "$SB_OUT" "theory (ntk GP), per input weight h:"
check_contains "inspect: ensemble against the GP" "$SB_OUT" "ensemble against the ntk GP:"
check_contains "inspect: covariance" "$SB_OUT" "covariance: order 57"

# --- closed forms at k = 10 against ntk.md ---------------------------------------------------

cat >"$W/k10.yaml" <<EOF
kind: ntk
output: $W/k10.h5
ntk: { k: 10, members: 0 }
EOF
expect_rc 0 mpirun_sb 2 run "$W/k10.yaml" --quiet
out=$("$PY" - "$W/k10.h5" <<'EOF' 2>&1
import sys, h5py
# ntk.md, "Check values": k = 10, NTK-GP; tolerance half a unit of the last digit given.
table = {2: (0.5654, -0.00985, 6.52e-3), 3: (0.4216, -0.02155, 9.15e-3),
         5: (0.2837, -0.04071, 1.25e-2)}
tol = {2: (5e-5, 5e-6, 5e-6), 3: (5e-5, 5e-6, 5e-6), 5: (5e-5, 5e-6, 5e-5)}
with h5py.File(sys.argv[1], "r") as f:
    g = f["ntk/theory/ntk"]
    for h, want in table.items():
        got = (g["mu_in"][h - 1], g["mu_out"][h - 1], g["variance"][h - 1])
        for name, w, x, t in zip(("mu_in", "mu_out", "variance"), want, got, tol[h]):
            if abs(w - x) > t:
                sys.exit(f"h = {h}: {name} {x:.6g}, ntk.md {w}")
    # ntk.md: ensemble size for 90% on weight-2 inputs, NNGP theory 58, NTK-GP 333 at k = 10.
    for gp, want in (("nngp", 58), ("ntk", 333)):
        got = f[f"ntk/theory/{gp}/size90_weight2"][()]
        if abs(got - want) > 1:
            sys.exit(f"{gp} size90_weight2 {got}, ntk.md {want}")
    if "ensemble" in f["ntk"]:
        sys.exit("members: 0 wrote an /ntk/ensemble group")
print("ok")
EOF
) || fail "k = 10 closed forms: $out"
pass "k = 10 closed forms equal ntk.md's table (mu_in, mu_out, variance at h = 2, 3, 5; size90)"

# Fewer members than the default members_per_step (16): the default follows them.
cat >"$W/few.yaml" <<EOF
kind: ntk
output: $W/few.h5
ntk: { k: 4, width: 32, members: 3, ensemble_sizes: [1, 3] }
EOF
expect_rc 0 mpirun_sb 2 run "$W/few.yaml" --quiet
check_matches "3 members, members_per_step unset: all done" "$SB_OUT" '"ensemble":\{"members":3,'

# --- SIGUSR1 in the middle of the ensemble, then --resume -------------------------------------

small sig
expect_rc 0 mpirun_sb 2 run "$W/sig.yaml" --quiet
mv "$W/sig.h5" "$W/sig.ref.h5"
# Steps slowed down (test-only) so that the signal lands in the middle of the ensemble.
SB_TEST_STEP_DELAY_MS=250 "$SB_MPIEXEC" -n 2 "$SB_BINARY" run "$W/sig.yaml" \
    >"$W/sig.out" 2>"$W/sig.err" </dev/null &
mp=$!
cleanup_hook "kill -9 $mp 2>/dev/null"
wait_for "$W/sig.err" '^member +15 ' 60
pids=$(rank_pids "$mp")
[ "$(echo "$pids" | wc -w)" = 2 ] || fail "expected 2 ranks under mpirun $mp, found: $pids"
kill -s USR1 "$(echo "$pids" | tail -n 1)"
rc=0
wait "$mp" || rc=$?
check_eq "SIGUSR1 mid-ensemble: exit 75" 75 "$rc"
check_contains "SIGUSR1: says where it stopped" "$W/sig.err" "stopped after member"
check_file "SIGUSR1: a checkpoint" "$W/sig.h5.ckpt.h5"
check_absent "SIGUSR1: no result" "$W/sig.h5"
stopped=$(sed -n 's/.*stopped after member \([0-9]*\).*/\1/p' "$W/sig.err")
[ -n "$stopped" ] && [ "$stopped" -lt 39 ] || fail "SIGUSR1: stopped after member '$stopped', expected before 39"
pass "SIGUSR1: stopped mid-ensemble, after member $stopped"
expect_rc 0 mpirun_sb 1 run "$W/sig.yaml" --resume
check_contains "resume: says where" "$SB_ERR" "resumed from checkpoint"
check_contains "resume: continues at the next member" "$SB_ERR" "at member $stopped"
same_ntk "resumed on 1 rank = uninterrupted on 2" "$W/sig.ref.h5" "$W/sig.h5"
check_absent "resume: checkpoint removed" "$W/sig.h5.ckpt.h5"

# --- SIGUSR1 during the covariance: the complete ensemble is checkpointed, exit 75 -------------

small covsig
sed -i 's/samples: 2000/samples: 4000/' "$W/covsig.yaml"
expect_rc 0 mpirun_sb 2 run "$W/covsig.yaml" --quiet
mv "$W/covsig.h5" "$W/covsig.ref.h5"
SB_TEST_STEP_DELAY_MS=250 "$SB_MPIEXEC" -n 2 "$SB_BINARY" run "$W/covsig.yaml" \
    >"$W/covsig.out" 2>"$W/covsig.err" </dev/null &
mp=$!
cleanup_hook "kill -9 $mp 2>/dev/null"
wait_for "$W/covsig.err" '^ntk cov: cholesky' 120
kill -s USR1 "$(rank_pids "$mp" | tail -n 1)"
rc=0
wait "$mp" || rc=$?
check_eq "SIGUSR1 during the covariance: exit 75" 75 "$rc"
check_contains "SIGUSR1 during the covariance: says so" "$W/covsig.err" \
    "the covariance stopped; --resume recomputes it"
check_file "SIGUSR1 during the covariance: a checkpoint" "$W/covsig.h5.ckpt.h5"
check_absent "SIGUSR1 during the covariance: no result" "$W/covsig.h5"
expect_rc 0 mpirun_sb 2 run "$W/covsig.yaml" --resume
check_contains "resume after the covariance's signal: every member was done" "$SB_ERR" "at member 39"
same_ntk "resumed covariance = uninterrupted" "$W/covsig.ref.h5" "$W/covsig.h5"

# --- the example jobs validate ----------------------------------------------------------------

for job in ntk-k10 ntk-k10-standard ntk-scalapack-k12; do
    expect_rc 0 "$SB_BINARY" validate "$SB_SOURCE_DIR/jobs/$job.yaml" --output "$W/$job.h5"
    check_contains "jobs/$job.yaml: a valid ntk job" "$SB_OUT" "valid ntk job"
done
check_contains "jobs/ntk-scalapack-k12.yaml: the covariance's order" "$SB_OUT" \
    "covariance: order 4083 (inputs of weight 2..12)"

# --- refusals before any work ----------------------------------------------------------------

cat >"$W/k16.yaml" <<EOF
kind: ntk
output: $W/k16.h5
memory_per_rank: 24GB
ntk:
  k: 16
  members: 0
  covariance: { enabled: true, samples: 1000, spectrum: false }
EOF
# The matrix alone is 34.4 GB (n = 65519); the estimate adds the module's workspace.
expect_rc 2 "$SB_BINARY" validate "$W/k16.yaml"
check_matches "k = 16 covariance on 24 GB: refused with the memory needed" "$SB_ERR" \
    'memory: covariance mode needs (3[4-9]|[4-9][0-9])\.[0-9] GB per rank on 1 ranks'
check_matches "k = 16 covariance on 24 GB: names the ranks that would fit" "$SB_ERR" \
    'it would fit on [2-9] ranks'
expect_rc 2 mpirun_sb 1 run "$W/k16.yaml"
check_matches "k = 16 run: refused" "$SB_ERR" 'it would fit on [2-9] ranks'
check_absent "k = 16 run: nothing written" "$W/k16.h5"
check_absent "k = 16 run: no partial file" "$W/k16.h5.partial"

small grid 'memory_per_rank: 1GB'
sed -i 's/covariance: { enabled: true, samples: 2000, block_size: 16 }/covariance: { enabled: true, grid: [2, 2] }/' \
    "$W/grid.yaml"
expect_rc 2 mpirun_sb 2 run "$W/grid.yaml"
check_contains "grid 2 x 2 on 2 ranks: refused at the key" "$SB_ERR" \
    "ntk.covariance.grid: a 2 x 2 process grid needs 4 ranks, but this run has 2"
check_absent "grid mismatch: nothing written" "$W/grid.h5"

finish
