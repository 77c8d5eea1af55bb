#!/usr/bin/env bash
# symbatch-plot end to end: --help; a small growth job on 2 ranks plotted to the default PNG
# (checked as an image: signature, IHDR size, the title in its metadata, decoded pixels that are
# not blank) and to SVG (parsed as XML, the title in its metadata); then every bad input (a text
# file, a truncated copy, an HDF5 file without `kind`, an unknown kind, a growth file without its
# datasets, a missing file, an unknown output extension) gives exit 2, one line on stderr naming
# the file and the problem, and no output file; an ntk job on 2 ranks plotted to SVG (the GP's
# accuracy line read back against the result on a log-x scale, the ensemble's markers one per
# M) and an ntk file without /ntk/theory refused.  Skips (77) when /usr/bin/python3 cannot import
# h5py, numpy and matplotlib.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PY=/usr/bin/python3
PLOT=$(dirname "$SB_BINARY")/symbatch-plot
W=$SB_SCRATCH/work
mkdir -p "$W"
cd "$SB_SCRATCH" || fail "cannot enter $SB_SCRATCH"

if ! "$PY" -c 'import h5py, numpy, matplotlib' >/dev/null 2>&1; then
    skip "$PY cannot import h5py, numpy and matplotlib (Debian: python3-h5py python3-matplotlib)"
    exit 77
fi
[ -x "$PLOT" ] || fail "symbatch-plot next to symbatch
  expected: an executable file at $PLOT (the build copies src/plot/symbatch-plot there)
  got:      $(ls -ld "$PLOT" 2>&1)"
pass "symbatch-plot is built next to symbatch"

# --- --help ------------------------------------------------------------------------------

expect_rc 0 "$PLOT" --help
check_matches "--help: usage line" "$SB_OUT" '^usage: symbatch-plot RESULT\.h5'
check_contains "--help: exit codes" "$SB_OUT" "Exit codes"
check_eq "--help: nothing on stderr" "" "$(cat "$SB_ERR")"

# --- a growth result, plotted ------------------------------------------------------------

cat >"$W/lrx6.yaml" <<EOF
kind: growth
output: $W/lrx6.h5
growth:
  generators: { family: lrx, n: 6 }
  mode: full
EOF
expect_rc 0 mpirun_sb 2 run "$W/lrx6.yaml" --quiet
check_file "the growth job wrote its result" "$W/lrx6.h5"
TITLE="lrx n=6: full mode, 2 ranks"

expect_rc 0 "$PLOT" "$W/lrx6.h5"
check_eq "default output: prints RESULT.png (RESULT without .h5)" "$W/lrx6.png" "$(cat "$SB_OUT")"
check_eq "default output: nothing on stderr" "" "$(cat "$SB_ERR")"
check_file "default output: the PNG exists" "$W/lrx6.png"

# check_png FILE TITLE: a PNG (signature, IHDR first with nonzero size, a tEXt Title equal to
# TITLE) whose decoded pixels hold more than a blank page; prints WIDTHxHEIGHT.
check_png() {
    local out
    out=$("$PY" - "$1" "$2" <<'EOF' 2>&1
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"no PNG signature: {data[:8]!r}")
chunks, pos = {}, 8
while pos + 8 <= len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
    if zlib.crc32(kind + body) != crc:
        sys.exit(f"chunk {kind!r} at byte {pos}: bad CRC")
    if pos == 8 and kind != b"IHDR":
        sys.exit(f"first chunk is {kind!r}, not IHDR")
    chunks.setdefault(kind, []).append(body)
    pos += 12 + length
if b"IEND" not in chunks:
    sys.exit("no IEND chunk (truncated PNG)")
w, h = struct.unpack(">II", chunks[b"IHDR"][0][:8])
if w == 0 or h == 0:
    sys.exit(f"IHDR size {w}x{h}")
texts = dict(t.split(b"\0", 1) for t in chunks.get(b"tEXt", []))
if texts.get(b"Title", b"").decode() != sys.argv[2]:
    sys.exit(f"tEXt Title: expected {sys.argv[2]!r}, got {texts.get(b'Title')!r}")
import matplotlib
matplotlib.use("Agg")
import matplotlib.image
import numpy as np
img = matplotlib.image.imread(sys.argv[1])
if img.shape[:2] != (h, w):
    sys.exit(f"decoded size {img.shape} differs from IHDR {w}x{h}")
colours = np.unique(img.reshape(-1, img.shape[-1]), axis=0)
if len(colours) < 10:
    sys.exit(f"only {len(colours)} distinct colours: a blank figure?")
print(f"{w}x{h}")
EOF
    ) || fail "$1 is a readable PNG with the title '$2': $out"
    pass "$1 is a readable PNG ($out) with the title '$2'"
}
check_png "$W/lrx6.png" "$TITLE"

# The SVG is read as XML and its drawn data compared with the result file: the group
# "layer_sizes" (the line's vertices: x linear in the distance, y linear in log10 of the size)
# and one group "layer_seconds_D" per layer (a bar whose height is proportional to the seconds).
expect_rc 0 "$PLOT" "$W/lrx6.h5" -o "$W/figure.svg"
check_eq "-o FILE.svg: prints the path" "$W/figure.svg" "$(cat "$SB_OUT")"
check_file "-o FILE.svg: the SVG exists" "$W/figure.svg"
out=$("$PY" - "$W/figure.svg" "$TITLE" "$W/lrx6.h5" <<'EOF' 2>&1
import math, re, sys, xml.etree.ElementTree as ET
import h5py
SVG, DC = "{http://www.w3.org/2000/svg}", "{http://purl.org/dc/elements/1.1/}"
root = ET.parse(sys.argv[1]).getroot()
if root.tag != SVG + "svg":
    sys.exit(f"root element {root.tag}, not svg")
titles = [e.text for e in root.iter(DC + "title")]
if sys.argv[2] not in titles:
    sys.exit(f"dc:title: expected {sys.argv[2]!r} among {titles}")
with h5py.File(sys.argv[3], "r") as f:
    sizes = [int(x) for x in f["growth/layer_sizes"][:]]
    seconds = [float(x) for x in f["growth/layer_seconds"][:]]
groups = {g.get("id"): g for g in root.iter(SVG + "g") if g.get("id")}

def vertices(group_id):
    if group_id not in groups:
        sys.exit(f"no group {group_id!r} in the SVG")
    path = groups[group_id].find(SVG + "path")
    if path is None:
        sys.exit(f"group {group_id!r} has no path")
    nums = [float(v) for v in re.findall(r"-?[0-9.]+(?:e-?[0-9]+)?", path.get("d"))]
    return list(zip(nums[0::2], nums[1::2]))

pts = vertices("layer_sizes")
if len(pts) != len(sizes):
    sys.exit(f"layer_sizes line: {len(pts)} vertices for {len(sizes)} layers")
lo, hi = sizes.index(min(sizes)), sizes.index(max(sizes))
if lo == hi:
    sys.exit("the test job needs layers of different sizes")
slope = (pts[hi][1] - pts[lo][1]) / (math.log10(sizes[hi]) - math.log10(sizes[lo]))
for d, (x, y) in enumerate(pts):
    want_x = pts[0][0] + d * (pts[1][0] - pts[0][0])
    want_y = pts[lo][1] + slope * (math.log10(sizes[d]) - math.log10(sizes[lo]))
    if abs(x - want_x) > 0.05 or abs(y - want_y) > 0.05:
        sys.exit(f"layer {d} (size {sizes[d]}) drawn at ({x}, {y}), expected ({want_x:.3f}, "
                 f"{want_y:.3f}) on a log scale")
heights = [abs(vertices(f"layer_seconds_{d}")[0][1] - vertices(f"layer_seconds_{d}")[2][1])
           for d in range(len(sizes))]
if f"layer_seconds_{len(sizes)}" in groups:
    sys.exit(f"more bars than the {len(sizes)} layers")
k = max(heights) / max(seconds)
for d, h in enumerate(heights):
    if abs(h - k * seconds[d]) > 0.01 + 0.01 * h:
        sys.exit(f"layer {d}: bar height {h}, expected {k * seconds[d]:.4f} for {seconds[d]} s")
print(len(sizes))
EOF
) || fail "the SVG parses as XML, has the title '$TITLE' and draws the result's layers: $out"
pass "the SVG parses as XML, has the title '$TITLE' and draws the result's $out layers"

expect_rc 0 "$PLOT" --output "$W/other.png" "$W/lrx6.h5"
check_png "$W/other.png" "$TITLE"

# --- bad input: exit 2, one line naming the file and the problem, no output ---------------

# refused WHAT FILE PHRASE [ARGS...]: symbatch-plot FILE ARGS exits 2 with exactly one line on
# stderr, "symbatch-plot: FILE: ..." containing PHRASE; nothing on stdout; neither the default
# PNG nor $W/refused.png (written by the second try, with -o) exist afterwards, and no
# temporary file is left in $W.
refused() {
    local what=$1 file=$2 phrase=$3
    shift 3
    local default=${file%.h5}.png
    expect_rc 2 "$PLOT" "$file" "$@"
    check_eq "$what: one line on stderr" 1 "$(wc -l <"$SB_ERR")"
    check_contains "$what: stderr names the file" "$SB_ERR" "symbatch-plot: $file: "
    check_contains "$what: stderr says why" "$SB_ERR" "$phrase"
    check_eq "$what: nothing on stdout" "" "$(cat "$SB_OUT")"
    check_absent "$what: no default output" "$default"
    expect_rc 2 "$PLOT" "$file" -o "$W/refused.png"
    check_absent "$what: no -o output" "$W/refused.png"
    check_eq "$what: no temporary file left" "" "$(ls -A "$W" | grep '^\.symbatch-plot' || true)"
}

printf 'layer_sizes: 1 3 6\n' >"$W/text.h5"
refused "a text file" "$W/text.h5" "not an HDF5 file"

size=$(stat -c %s "$W/lrx6.h5")
head -c $((size / 2)) "$W/lrx6.h5" >"$W/truncated.h5"
refused "a truncated result" "$W/truncated.h5" "truncated"

refused "a missing file" "$W/missing.h5" "no such file"

"$PY" - "$W" <<'EOF' || fail "making the HDF5 test files with h5py"
import shutil, sys, h5py, numpy as np
w = sys.argv[1]
with h5py.File(f"{w}/nokind.h5", "w") as f:
    f["layer_sizes"] = np.array([1, 3, 6], dtype=np.uint64)
    f.attrs["ranks"] = 2
shutil.copy(f"{w}/lrx6.h5", f"{w}/otherkind.h5")
with h5py.File(f"{w}/otherkind.h5", "r+") as f:
    f.attrs["kind"] = "nosuchkind"
shutil.copy(f"{w}/lrx6.h5", f"{w}/noseconds.h5")
with h5py.File(f"{w}/noseconds.h5", "r+") as f:
    del f["growth/layer_seconds"]
shutil.copy(f"{w}/lrx6.h5", f"{w}/nogroup.h5")
with h5py.File(f"{w}/nogroup.h5", "r+") as f:
    del f["growth"]
EOF
pass "HDF5 test files made with h5py"
refused "an HDF5 file without kind" "$W/nokind.h5" "no root attribute 'kind'"
refused "an unknown kind" "$W/otherkind.h5" "kind 'nosuchkind'"
refused "a growth file without layer_seconds" "$W/noseconds.h5" "/growth/layer_seconds"
refused "a growth file without /growth" "$W/nogroup.h5" "/growth"

# A failed plot leaves an existing figure as it was (written to a temporary file, renamed last).
printf 'an older figure\n' >"$W/kept.png"
expect_rc 2 "$PLOT" "$W/truncated.h5" -o "$W/kept.png"
check_eq "a refused plot leaves an existing output untouched" "an older figure" "$(cat "$W/kept.png")"

# An unknown output extension is refused before anything is read or written.
expect_rc 2 "$PLOT" "$W/lrx6.h5" -o "$W/figure.pdf"
check_contains "unknown extension: says so" "$SB_ERR" "unknown output format '.pdf'"
check_absent "unknown extension: no output" "$W/figure.pdf"
expect_rc 2 "$PLOT" "$W/lrx6.h5" -o "$W/figure"
check_absent "no extension: no output" "$W/figure"
expect_rc 2 "$PLOT"
check_contains "no arguments: says a result file is needed" "$SB_ERR" "no result file"
expect_rc 2 "$PLOT" "$W/lrx6.h5" --colour red
check_contains "unknown option: says so" "$SB_ERR" "unknown option --colour"

# --- grpo: one result, and several on the same axes ------------------------------------------

grpo_job() {
    cat >"$W/$1.yaml" <<EOF
kind: grpo
output: $W/$1.h5
seed: $2
grpo:
  generators: { family: lrx, n: 5 }
  horizon: 6
  layers: [16]
  groups: 2
  group_size: 4
  updates: 4
  eval: { every: 2, states_per_distance: 4, distances: [1, 4] }
EOF
    expect_rc 0 mpirun_sb 2 run "$W/$1.yaml" --quiet
}
grpo_job grpo-a 1
grpo_job grpo-b 2
expect_rc 0 "$PLOT" "$W/grpo-a.h5" -o "$W/grpo.svg"
expect_rc 0 "$PLOT" "$W/grpo-a.h5" "$W/grpo-b.h5" -o "$W/grpo2.svg"
out=$("$PY" - "$W/grpo.svg" "$W/grpo2.svg" <<'EOF' 2>&1
import sys, xml.etree.ElementTree as ET
def gids(path):
    return {e.get("id") for e in ET.parse(path).getroot().iter() if e.get("id")}
one, two = gids(sys.argv[1]), gids(sys.argv[2])
for g in ("solve_rate_0", "reward_0", "final_0"):
    if g not in one or g not in two:
        sys.exit(f"no element {g}")
if "solve_rate_1" in one or "solve_rate_1" not in two or "reward_1" not in two:
    sys.exit("one line per result file expected")
EOF
) || fail "grpo figures: $out"
pass "grpo: solve rate, reward and solve rate per distance; one line per file when comparing"
expect_rc 2 "$PLOT" "$W/grpo-a.h5" "$W/lrx6.h5" -o "$W/mixed.png"
check_contains "grpo with growth: refused" "$SB_ERR" "no comparison of several files for result kind 'growth'"
check_absent "grpo with growth: no output" "$W/mixed.png"

# --- an ntk result, plotted ----------------------------------------------------------------

# Accuracy and P(all exact) against M: the ensemble's points and the GP's lines (the dense
# /ntk/theory/curve_* predictions), read back from the SVG (log x: the vertices' x must be
# linear in log10 M; y linear in the value).
cat >"$W/ntk5.yaml" <<EOF
kind: ntk
output: $W/ntk5.h5
ntk: { k: 5, width: 128, members: 20, members_per_step: 10, epochs: 200 }
EOF
expect_rc 0 mpirun_sb 2 run "$W/ntk5.yaml" --quiet
expect_rc 0 "$PLOT" "$W/ntk5.h5" -o "$W/ntk5.svg"
check_file "ntk: the SVG exists" "$W/ntk5.svg"
out=$("$PY" - "$W/ntk5.svg" "$W/ntk5.h5" <<'EOF' 2>&1
import math, re, sys, xml.etree.ElementTree as ET
import h5py
SVG, DC = "{http://www.w3.org/2000/svg}", "{http://purl.org/dc/elements/1.1/}"
root = ET.parse(sys.argv[1]).getroot()
titles = [e.text for e in root.iter(DC + "title")]
want_title = "ntk k=5: ntk parametrisation, width 128, 20 members, 2 ranks"
if want_title not in titles:
    sys.exit(f"dc:title: expected {want_title!r} among {titles}")
groups = {g.get("id"): g for g in root.iter(SVG + "g") if g.get("id")}
with h5py.File(sys.argv[2], "r") as f:
    M = [float(x) for x in f["ntk/theory/curve_M"][()]]
    gp = [float(x) for x in f["ntk/theory/ntk/curve_accuracy"][()]]
    eM = [float(x) for x in f["ntk/ensemble/M"][()]]

def line(gid):
    if gid not in groups:
        sys.exit(f"no group {gid!r} in the SVG (groups: {sorted(groups)})")
    path = groups[gid].find(SVG + "path")
    nums = [float(v) for v in re.findall(r"-?[0-9.]+(?:e-?[0-9]+)?", path.get("d"))]
    return list(zip(nums[0::2], nums[1::2]))

pts = line("gp_accuracy")
if len(pts) != len(M):
    sys.exit(f"gp_accuracy: {len(pts)} vertices for {len(M)} ensemble sizes")
last = len(M) - 1
sx = (pts[last][0] - pts[0][0]) / (math.log10(M[last]) - math.log10(M[0]))
lo, hi = gp.index(min(gp)), gp.index(max(gp))
sy = (pts[hi][1] - pts[lo][1]) / (gp[hi] - gp[lo])
for (x, y), m, v in zip(pts, M, gp):
    wx = pts[0][0] + sx * (math.log10(m) - math.log10(M[0]))
    wy = pts[lo][1] + sy * (v - gp[lo])
    if abs(x - wx) > 0.05 or abs(y - wy) > 0.05:
        sys.exit(f"gp_accuracy: M = {m}, accuracy {v} drawn at ({x}, {y}), expected "
                 f"({wx:.3f}, {wy:.3f}) on a log-x scale")
for gid in ("gp_p_all_exact", "ensemble_p_all_exact", "other_gp_accuracy"):
    if gid not in groups:
        sys.exit(f"no group {gid!r} in the SVG")
# The ensemble's points are markers: one <use> per M.
uses = groups["ensemble_accuracy"].findall(".//" + SVG + "use") if "ensemble_accuracy" in groups else []
if len(uses) != len(eM):
    sys.exit(f"ensemble_accuracy: {len(uses)} markers for {len(eM)} ensemble sizes")
print(len(M))
EOF
) || fail "the ntk SVG draws the result's GP accuracy line and ensemble points: $out"
pass "the ntk SVG draws the GP's accuracy curve ($out points) and the ensemble's points"
"$PY" - "$W" <<'EOF' || fail "making the ntk test file without /ntk/theory"
import shutil, sys, h5py
w = sys.argv[1]
shutil.copy(f"{w}/ntk5.h5", f"{w}/ntk-notheory.h5")
with h5py.File(f"{w}/ntk-notheory.h5", "r+") as f:
    del f["ntk/theory"]
EOF
refused "an ntk file without /ntk/theory" "$W/ntk-notheory.h5" "/ntk/theory"

finish
