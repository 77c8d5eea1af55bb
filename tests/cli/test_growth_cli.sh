#!/usr/bin/env bash
# The growth CLI end to end: --help, --version, generators, validate, then every example job
# (jobs/quickstart.yaml, jobs/growth-*.yaml) run on 1, 2 and 4 ranks with the results read back
# with h5dump and h5py and compared with known values and across rank counts; re-running
# without and with --force; inspect; the same job twice gives the same result.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

JOBS=$SB_SOURCE_DIR/jobs
RES=$SB_SCRATCH/results
mkdir -p "$RES"
PY=/usr/bin/python3
cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"

# The results are read back with both tools; without one of them the test did not happen, so it
# is skipped as a whole (exit 77, shown as skipped by ctest), never passed.
if ! command -v h5dump >/dev/null 2>&1; then
    skip "h5dump is not installed: the results cannot be read back (tests/run.sh installs hdf5-tools)"
    exit 77
fi
if ! have_h5py; then
    skip "h5py and numpy are not importable by $PY: the results cannot be read back (tests/run.sh installs python3-h5py)"
    exit 77
fi

# --- --help, --version -------------------------------------------------------------------

expect_rc 0 "$SB_BINARY" --help
for verb in run validate inspect generators; do
    check_matches "--help mentions $verb" "$SB_OUT" "^ +$verb( |$)"
done
check_contains "--help lists the exit codes" "$SB_OUT" "2 bad input"
expect_rc 0 "$SB_BINARY" --version
check_matches "--version prints 'symbatch VERSION'" "$SB_OUT" '^symbatch [0-9]+\.[0-9]+'
version=$(sed -n 's/^symbatch \([^ ]*\).*/\1/p' "$SB_OUT" | head -n 1)

# --- generators --------------------------------------------------------------------------

expect_rc 0 "$SB_BINARY" generators
check_contains "generators: table header has the inverse-closed column" "$SB_OUT" "inverse-closed"
for fam in lrx lx top_spin coxeter pancake burnt_pancake all_transpositions stars \
    three_cycles derangements prefix_cycles larx; do
    check_matches "generators lists $fam" "$SB_OUT" "^$fam "
done
for fam in lx larx prefix_cycles; do
    check_matches "generators: $fam is not inverse-closed" "$SB_OUT" "^$fam .* no( |$)"
done
for fam in lrx pancake coxeter; do
    check_matches "generators: $fam is inverse-closed" "$SB_OUT" "^$fam .* yes$"
done

expect_rc 0 "$SB_BINARY" generators lrx 5
check_matches "generators lrx 5: header" "$SB_OUT" '^# lrx n=5 .*3 generators.* inverse-closed'
check_matches "generators lrx 5: L" "$SB_OUT" '^L +\[1,2,3,4,0\]$'
check_matches "generators lrx 5: R" "$SB_OUT" '^R +\[4,0,1,2,3\]$'
check_matches "generators lrx 5: X" "$SB_OUT" '^X +\[1,0,2,3,4\]$'
check_eq "generators lrx 5: exactly 3 generator lines" 3 "$(grep -c '^[A-Z] *\[' "$SB_OUT")"
expect_rc 0 "$SB_BINARY" generators lx 5
check_contains "generators lx 5: not inverse-closed" "$SB_OUT" "not inverse-closed"
expect_rc 2 "$SB_BINARY" generators lrx 2
check_eq "generators lrx 2: the family, the key n, its range and the value given" \
    "symbatch: generators: lrx: n must satisfy 3 <= n <= 255 (got n = 2)" "$(cat "$SB_ERR")"
check_eq "generators lrx 2: nothing on stdout" "" "$(cat "$SB_OUT")"
expect_rc 2 "$SB_BINARY" generators nosuchfamily 5
check_eq "generators nosuchfamily 5: names the unknown family" \
    "symbatch: generators: unknown generator family 'nosuchfamily'" "$(cat "$SB_ERR")"
expect_rc 2 "$SB_BINARY" generators lrx five
check_eq "generators lrx five: says N must be an integer" \
    "symbatch: generators: N and K must be integers" "$(cat "$SB_ERR")"

# --- validate ----------------------------------------------------------------------------

expect_rc 0 "$SB_BINARY" validate "$JOBS/quickstart.yaml" --output "$RES/validate-only.h5"
check_contains "validate quickstart: says valid" "$SB_OUT" "valid growth job"
check_matches "validate quickstart: effective job has mode: auto" "$SB_OUT" '^ +mode: auto( |$)'
check_matches "validate quickstart: effective job has the family" "$SB_OUT" 'family: lrx, n: 10'
check_matches "validate quickstart: prints a memory estimate" "$SB_OUT" '^# memory estimate: .* per rank'
check_absent "validate wrote no result" "$RES/validate-only.h5"
check_absent "validate wrote no .partial" "$RES/validate-only.h5.partial"
expect_rc 0 mpirun_sb 2 validate "$JOBS/quickstart.yaml" --output "$RES/validate-only.h5"
check_matches "validate on 2 ranks: estimate over 2 ranks" "$SB_OUT" '^# memory estimate: .* over 2 ranks'
check_eq "validate on 2 ranks: printed once" 1 "$(grep -c 'valid growth job' "$SB_OUT")"

# --- the example jobs on 1, 2 and 4 ranks ------------------------------------------------

jobs=("$JOBS/quickstart.yaml")
for j in "$JOBS"/growth-*.yaml; do
    [ -f "$j" ] && jobs+=("$j")
done
[ "${#jobs[@]}" -ge 6 ] || fail "example jobs
  expected: jobs/quickstart.yaml and at least 5 jobs/growth-*.yaml
  got:      ${jobs[*]}"
pass "example jobs found"

# check_json FILE NP OUTPUT: FILE holds exactly one line, a JSON summary of a growth run on NP
# ranks writing OUTPUT; prints its layer sizes comma-separated.
check_json() {
    local lines
    lines=$(wc -l <"$1")
    [ "$lines" = 1 ] || fail "stdout of a run
  expected: exactly one line (the JSON summary)
  got:      $lines lines: $(head -c 400 "$1")"
    local out
    out=$("$PY" - "$1" "$2" "$3" <<'EOF' 2>&1
import json, sys
text = open(sys.argv[1]).read()
try:
    s = json.loads(text)
except ValueError as e:
    sys.exit(f"not JSON ({e}): {text[:300]}")
want = {"kind": "growth", "ranks": int(sys.argv[2]), "output": sys.argv[3]}
for k, v in want.items():
    if s.get(k) != v:
        sys.exit(f"summary field {k}: expected {v!r}, got {s.get(k)!r}")
ls = s.get("layer_sizes")
if not isinstance(ls, list) or not ls:
    sys.exit(f"summary layer_sizes: expected a non-empty list, got {ls!r}")
if s.get("num_states") != sum(ls):
    sys.exit(f"summary num_states: expected sum(layer_sizes) = {sum(ls)}, got {s.get('num_states')}")
if s.get("diameter") != len(ls) - 1:
    sys.exit(f"summary diameter: expected len(layer_sizes) - 1 = {len(ls) - 1}, got {s.get('diameter')}")
print(",".join(str(x) for x in ls))
EOF
    ) || fail "JSON summary on stdout: $out"
    pass "JSON summary parses and matches the run"
    JSON_SIZES=$out
}

# check_h5py FILE NP JOB STORE_LAST_LAYER: the file read back with h5py.
check_h5py() {
    local out
    out=$("$PY" - "$@" <<'EOF' 2>&1
import sys
import h5py, numpy as np
fn, nranks, job, store = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
errs = []
def check(ok, what, expected, got):
    if not ok:
        errs.append(f"{what}: expected {expected}, got {got}")
def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)
with h5py.File(fn, "r") as f:
    g = f["/growth"]
    ls = g["layer_sizes"]
    check(ls.dtype == np.uint64, "/growth/layer_sizes dtype", "uint64", ls.dtype)
    check(ls.ndim == 1 and ls.shape[0] >= 1, "/growth/layer_sizes shape", "(layers,)", ls.shape)
    sizes = ls[()]
    for name in ("diameter", "num_states", "completed"):
        d = g[name]
        check(d.dtype == np.uint64 and d.shape == (), f"/growth/{name}", "a uint64 scalar",
              f"{d.dtype} {d.shape}")
    check(int(g["num_states"][()]) == int(sizes.sum()), "num_states", "sum(layer_sizes)",
          int(g["num_states"][()]))
    check(int(g["diameter"][()]) == len(sizes) - 1, "diameter", len(sizes) - 1,
          int(g["diameter"][()]))
    secs = g["layer_seconds"]
    check(secs.dtype == np.float64 and secs.shape == sizes.shape, "/growth/layer_seconds",
          f"float64 {sizes.shape}", f"{secs.dtype} {secs.shape}")
    central = g["central_state"][()]
    m = central.shape[-1]
    n = int(g["generators"].shape[1])  # the state length (6 n^2 for a cube, n for most)
    check(m == n, "state length: the central state's and the generators'", f"{n}", m)
    ll = g["last_layer"]
    rows = ll.shape[0]
    check(ll.dtype == np.uint8 and ll.ndim == 2 and ll.shape[1] == n, "/growth/last_layer",
          f"uint8 (rows, {n})", f"{ll.dtype} {ll.shape}")
    check(rows <= store, "last_layer rows", f"<= store_last_layer = {store}", rows)
    check(rows == min(store, int(sizes[-1])), "last_layer rows",
          f"min(store_last_layer, size of the last layer) = {min(store, int(sizes[-1]))}", rows)
    lst = [tuple(r) for r in ll[()]]
    check(lst == sorted(set(lst)), "last_layer rows", "distinct and in lexicographic order",
          lst[:3])
    want = sorted(central.reshape(-1).tolist())
    bad = [r for r in lst if sorted(r) != want]
    check(not bad, "last_layer rows", "rearrangements of the central state", bad[:2])
    gens = g["generators"]
    check(gens.shape == (int(g.attrs["num_generators"]), m), "/growth/generators shape",
          (int(g.attrs["num_generators"]), m), gens.shape)
    sr = text(g.attrs["stop_reason"])
    done = int(g["completed"][()])
    check((sr == "complete") == (done == 1), "stop_reason vs completed", "consistent",
          f"{sr!r}, completed = {done}")
    for a in ("mode", "family", "graph"):
        check(a in g.attrs, f"/growth attribute {a}", "present", "missing")
    check(text(g.attrs.get("graph", "")) in ("directed", "undirected"), "graph attribute",
          "directed or undirected", g.attrs.get("graph"))
    r = f.attrs
    for a in ("symbatch_version", "git_commit", "kind", "job_text", "job_file", "job_hash",
              "ranks", "nodes", "hosts", "start_utc", "end_utc", "exit_status", "wall_seconds"):
        check(a in r, f"root attribute {a}", "present", "missing")
    check(int(r.get("ranks", -1)) == nranks, "root attribute ranks", nranks, r.get("ranks"))
    check(text(r.get("kind", "")) == "growth", "root attribute kind", "growth", r.get("kind"))
    check(int(r.get("exit_status", -1)) == 0, "root attribute exit_status", 0, r.get("exit_status"))
    check(text(r.get("job_file", "")) == job, "root attribute job_file", job, r.get("job_file"))
    jt = text(r.get("job_text", ""))
    raw = open(job, "rb").read().decode()
    check(jt == raw, "root attribute job_text", "the job file's bytes",
          f"{len(jt)} characters differing from the file's {len(raw)}")
    check(int(r.get("nodes", 0)) >= 1, "root attribute nodes", ">= 1", r.get("nodes"))
    check(float(r.get("wall_seconds", -1)) >= 0, "root attribute wall_seconds", ">= 0",
          r.get("wall_seconds"))
    for a in ("start_utc", "end_utc"):
        v = text(r.get(a, ""))
        check(len(v) == 20 and v[10] == "T" and v.endswith("Z"), f"root attribute {a}",
              "YYYY-MM-DDTHH:MM:SSZ", v)
    print("\n".join(errs) if errs else "ok")
    print(text(r.get("symbatch_version", "")))
EOF
    ) || fail "h5py could not read $1:
$out"
    [ "$(head -n 1 <<<"$out")" = ok ] || fail "$1 read back with h5py (job $3, $2 ranks):
$out"
    pass "$1: h5py read-back"
    check_eq "$1: symbatch_version attribute matches --version" "$version" "$(tail -n 1 <<<"$out")"
}

# Known values of the example jobs: "dataset-or-attribute=value ..." (h5dump notation).
declare -A KNOWN=(
    [quickstart]="num_states=3628800 diameter=45 completed=1 graph=undirected stop_reason=complete"
    [growth-coset]="num_states=210 diameter=17 completed=1
                    layer_sizes=1,3,4,6,11,16,19,23,31,29,20,14,10,10,6,3,3,1"
    [growth-explicit]="num_states=5040 completed=1 graph=undirected family=explicit"
    [growth-directed]="num_states=362880 diameter=45 completed=1 graph=directed family=lx"
    [growth-family]="num_states=362880 diameter=10 completed=1 family=pancake"
    [growth-partial]="completed=0 stop_reason=max_layers layers=20 diameter=19"
    [growth-distances]="num_states=362880 diameter=36 completed=1 mode=full"
    [growth-gap]="num_states=120 completed=1 graph=directed family=explicit"
    [growth-cube]="num_states=3674160 diameter=11 completed=1 mode=full rank_scheme=bsgs
                   group_order=3674160 layer_sizes=1,9,54,321,1847,9992,50136,227536,870072,1887748,623800,2644"
)

# h5_value FILE KEY: a known-value key read with h5dump.
h5_value() {
    case $2 in
    layers) h5_data "$1" /growth/layer_sizes | tr ',' '\n' | grep -c . ;;
    graph | stop_reason | family | mode | rank_scheme | group_order) h5_attr "$1" "/growth/$2" ;;
    *) h5_data "$1" "/growth/$2" ;;
    esac
}

declare -A SIZES LAST
for job in "${jobs[@]}"; do
    name=$(basename "$job" .yaml)
    # The effective store_last_layer, from validate (which also must accept every example).
    expect_rc 0 "$SB_BINARY" validate "$job" --output "$RES/$name-validate.h5"
    store=$(sed -n 's/^ *store_last_layer: *\([0-9][0-9]*\).*/\1/p' "$SB_OUT" | head -n 1)
    [ -n "$store" ] || fail "validate $name: no 'store_last_layer: N' line in the effective job
$(last_io)"
    for np in 1 2 4; do
        res=$RES/$name-np$np.h5
        t0=$SECONDS
        expect_rc 0 mpirun_sb "$np" run "$job" --output "$res"
        note "$name on $np ranks: $((SECONDS - t0)) s"
        what="$name on $np ranks"
        check_json "$SB_OUT" "$np" "$res"
        check_matches "$what: progress header on stderr" "$SB_ERR" '^symbatch: growth of '
        check_eq "$what: progress printed by rank 0 only" 1 "$(grep -c '^symbatch: growth of ' "$SB_ERR")"
        check_matches "$what: per-layer progress on stderr" "$SB_ERR" '^layer +0 +size +1 '
        check_file "$what: result file" "$res"
        check_absent "$what: no .partial left" "$res.partial"
        expect_rc 0 h5dump "$res"
        check_contains "$what: h5dump shows the layer_sizes dataset" "$SB_OUT" 'DATASET "layer_sizes"'
        check_eq "$what: layer_sizes type" H5T_STD_U64LE "$(h5_type "$res" /growth/layer_sizes)"
        sizes=$(h5_data "$res" /growth/layer_sizes)
        check_eq "$what: layer_sizes in the file = layer_sizes in the summary" "$JSON_SIZES" "$sizes"
        check_eq "$what: ranks attribute" "$np" "$(h5_attr "$res" /ranks)"
        last=$(h5_data "$res" /growth/last_layer)
        check_eq "$what: last_layer rows are states (h5dump shapes)" \
            "$(h5_shape "$res" /growth/central_state | cut -d, -f2)" \
            "$(h5_shape "$res" /growth/last_layer | cut -d, -f2)"
        if [ "$np" = 1 ]; then
            SIZES[$name]=$sizes
            LAST[$name]=$last
        else
            check_eq "$what: layer_sizes same as on 1 rank" "${SIZES[$name]}" "$sizes"
            check_eq "$what: last_layer same as on 1 rank" "${LAST[$name]}" "$last"
        fi
        for kv in ${KNOWN[$name]:-}; do
            check_eq "$what: ${kv%%=*}" "${kv#*=}" "$(h5_value "$res" "${kv%%=*}")"
        done
        check_h5py "$res" "$np" "$job" "$store"
    done
done

# --- an existing result: refused without --force, replaced with it -----------------------

job=$JOBS/growth-coset.yaml
res=$RES/growth-coset-np2.h5
sum=$(cksum <"$res")
expect_rc 2 mpirun_sb 2 run "$job" --output "$res"
check_contains "rerun without --force: names the output and says it exists" "$SB_ERR" \
    "output '$res' exists; pass --force to overwrite it"
check_eq "rerun without --force: no summary" "" "$(cat "$SB_OUT")"
check_eq "rerun without --force: result unchanged" "$sum" "$(cksum <"$res")"
check_absent "rerun without --force: no .partial" "$res.partial"
expect_rc 0 mpirun_sb 2 run "$job" --output "$res" --force --quiet
check_json "$SB_OUT" 2 "$res"
check_not_contains "--quiet: no progress header" "$SB_ERR" "symbatch: growth of"
if grep -qE '^layer +[0-9]' "$SB_ERR"; then
    fail "--quiet: stderr
  expected: no per-layer progress lines
  got:      $(grep -E '^layer' "$SB_ERR" | head -n 2)"
fi
pass "--quiet: no per-layer progress"
check_absent "rerun with --force: no .partial" "$res.partial"
check_eq "rerun with --force: same layer sizes" "${SIZES[growth-coset]}" "$(h5_data "$res" /growth/layer_sizes)"

# --- the JSON summary escapes what it prints -------------------------------------------------

odd="$SB_SCRATCH/we\"ird\\dir"
mkdir -p "$odd"
expect_rc 0 "$SB_BINARY" run "$job" --quiet --output "$odd/a.h5"
check_eq "JSON summary with quotes and backslashes in the output path" "$odd/a.h5" \
    "$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["output"])' <"$SB_OUT")"

# --- inspect -----------------------------------------------------------------------------

expect_rc 0 "$SB_BINARY" inspect "$res"
check_matches "inspect: the coset diameter is 17" "$SB_OUT" '^ *diameter +17$'
check_matches "inspect: the number of states" "$SB_OUT" '^ *num_states +210$'
expect_rc 0 mpirun_sb 2 inspect "$RES/quickstart-np2.h5"
check_matches "inspect on 2 ranks: diameter 45" "$SB_OUT" '^ *diameter +45$'
check_eq "inspect on 2 ranks: printed once" 1 "$(grep -cE '^ *diameter ' "$SB_OUT")"
expect_rc 2 "$SB_BINARY" inspect "$job"
check_contains "inspect on a job file (not HDF5): names the file and says why" "$SB_ERR" \
    "$job: not a readable HDF5 file"
check_eq "inspect on a job file: nothing on stdout" "" "$(cat "$SB_OUT")"
expect_rc 2 "$SB_BINARY" inspect "$RES/does-not-exist.h5"
check_contains "inspect of a missing file: names it and says why" "$SB_ERR" \
    "$RES/does-not-exist.h5: not a readable HDF5 file"
check_absent "inspect of a missing file does not create it" "$RES/does-not-exist.h5"

# --- the same job and seed twice: the same result ----------------------------------------

det=$SB_SCRATCH/det
mkdir -p "$det"
cat >"$det/job.yaml" <<'EOF'
# Written by tests/cli/test_growth_cli.sh: a seeded job, run twice.
kind: growth
output: det-a.h5
seed: 424242
growth:
  generators: { family: pancake, n: 8 }
  store_last_layer: 50
EOF
# Once through the job's own relative output path (from the working folder), once via --output.
(cd "$det" && expect_rc 0 mpirun_sb 2 run job.yaml --quiet) || exit 1
pass "seeded job, first run"
check_file "the job's relative output lands in the working folder" "$det/det-a.h5"
expect_rc 0 mpirun_sb 4 run "$det/job.yaml" --output "$det/det-b.h5" --quiet
for dset in /growth/layer_sizes /growth/last_layer; do
    a=$(h5dump -A 0 -d "$dset" "$det/det-a.h5" | tail -n +2)
    b=$(h5dump -A 0 -d "$dset" "$det/det-b.h5" | tail -n +2)
    [ -n "$a" ] || fail "h5dump of $dset in det-a.h5 printed nothing"
    check_eq "same job and seed twice: h5dump of $dset identical" "$a" "$b"
done
check_eq "seeded pancake 8: the pancake number P(8) = 9" 9 "$(h5_data "$det/det-a.h5" /growth/diameter)"
check_eq "seeded pancake 8: 8! states" 40320 "$(h5_data "$det/det-a.h5" /growth/num_states)"

# --- distance tables of spaces smaller than the ranks' blocks -------------------------------

# Blocks are whole words of 32 states, so on 4 ranks a space of fewer than 4 x 32 states leaves
# the last ranks empty (their blocks once started past the end: "block outside the dataset"),
# and as 2 pseudo-nodes of 2 ranks a whole node can hold nothing.  /growth/distances is
# compared state by state with a BFS in Python (lrx: L new[i] = old[i+1], R = L^-1, X swaps
# positions 0 and 1; ranks are the lexicographic indices of the distinct arrangements).
tiny=$SB_SCRATCH/tiny
mkdir -p "$tiny"
check_tiny_distances() { # FILE N CENTRAL
    "$PY" - "$@" <<'PYEOF'
import itertools, sys
import h5py
path, n, central = sys.argv[1], int(sys.argv[2]), sys.argv[3]
start = tuple(central) if central else tuple(range(n))
states = sorted(set(itertools.permutations(start)))
index = {s: i for i, s in enumerate(states)}
gens = [lambda s: s[1:] + s[:1], lambda s: s[-1:] + s[:-1], lambda s: (s[1], s[0]) + s[2:]]
dist = [255] * len(states)
dist[index[start]] = 0
layer = [start]
while layer:
    nxt = []
    for s in layer:
        for g in gens:
            t = g(s)
            if dist[index[t]] == 255:
                dist[index[t]] = dist[index[s]] + 1
                nxt.append(t)
    layer = nxt
with h5py.File(path, "r") as f:
    got = [int(x) for x in f["/growth/distances"][:]]
if got != dist:
    sys.exit("distances %s\n     BFS %s" % (got, dist))
PYEOF
}
for spec in 6:001122 4:0011 4: 5:; do
    n=${spec%%:*} central=${spec#*:}
    {
        echo "kind: growth"
        echo "output: unused.h5"
        echo "growth:"
        echo "  generators: { family: lrx, n: $n }"
        [ -n "$central" ] && echo "  central_state: \"$central\""
        echo "  mode: full"
        echo "  store_distances: true"
    } >"$tiny/lrx$n-$central.yaml"
    for nodes in 1 2; do
        what="lrx n=$n from '${central:-identity}' on 4 ranks, $nodes node(s)"
        res=$tiny/lrx$n-$central-nodes$nodes.h5
        expect_rc 0 env SB_TEST_NODES=$nodes "$SB_MPIEXEC" -n 4 "$SB_BINARY" run \
            "$tiny/lrx$n-$central.yaml" --output "$res" --quiet
        if out=$(check_tiny_distances "$res" "$n" "$central" 2>&1); then
            pass "$what: /growth/distances = the BFS's"
        else
            fail "$what: /growth/distances differ from a BFS:
$out"
        fi
    done
done

finish
