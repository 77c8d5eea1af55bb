#!/usr/bin/env bash
# grpo benchmark (a measurement, never a test): the reference configuration S8-LRX-D10
# (jobs/grpo-lrx8.yaml) per seed: wall time, policy steps per second per rank, the first
# update's mean reward (grpo.md: 0.0979 for the uniform policy) and entropy (ln 3 = 1.099), and
# the greedy solve rate on d <= 10 after 100, 300, 400 and 600 updates.  Usage:
#   tests/bench/grpo_bench.sh [-b BUILD] [-n RANKS] [-u UPDATES] [-j JOB] [SEED ...]
#   tests/bench/grpo_bench.sh -n 2 1 2 3 4 5
# The job's table (its distances_from) is made first with jobs/grpo-lrx8-distances.yaml when the
# job reads results/lrx8-distances.h5 (jobs/grpo-lrx8.yaml, jobs/grpo-lrx8-inverse.yaml).
# Needs /usr/bin/python3 with h5py for the per-update numbers.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/release"
ranks=2
updates=
job="$root/jobs/grpo-lrx8.yaml"
while getopts "b:n:u:j:" o; do
    case $o in
    b) build=$(cd "$OPTARG" && pwd) ;;
    n) ranks=$OPTARG ;;
    u) updates=$OPTARG ;;
    j) job=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/results"
if grep -q "distances_from: results/lrx8-distances.h5" "$job"; then
    (cd "$work" && "$build/symbatch" run "$root/jobs/grpo-lrx8-distances.yaml" --quiet >/dev/null)
fi
printf '%-5s %6s %9s %14s %10s %8s %7s %7s %7s %7s\n' seed ranks seconds "steps/s/rank" \
    reward0 H0 "@100" "@300" "@400" "@600"
for seed in "$@"; do
    j=$work/seed$seed.yaml
    sed -e "s|^seed:.*|seed: $seed|" -e "s|^output:.*|output: $work/seed$seed.h5|" "$job" >"$j"
    [ -z "$updates" ] || sed -i "s|^  updates:.*|  updates: $updates|" "$j"
    start=$(date +%s.%N)
    (cd "$work" && mpirun -n "$ranks" "$build/symbatch" run "$j" --quiet >"$work/seed$seed.json")
    end=$(date +%s.%N)
    /usr/bin/python3 - "$work/seed$seed.h5" "$work/seed$seed.json" "$seed" "$ranks" \
        "$(echo "$end - $start" | bc)" <<'EOF'
import json, sys, h5py
path, js, seed, ranks, secs = sys.argv[1:]
s = json.load(open(js))
with h5py.File(path, "r") as f:
    m, ev = f["/grpo/metrics"], f["/grpo/eval"][()]
    hi = int(f["/grpo"].attrs["distance_hi"])
    def at(u):
        rows = ev[(ev["update"] == u) & (ev["distance"] <= hi)]
        return "%.3f" % (rows["solved"].sum() / rows["states"].sum()) if len(rows) else "-"
    print("%-5s %6s %9.1f %14.4g %10.4f %8.4f %7s %7s %7s %7s" % (
        seed, ranks, float(secs), s["policy_steps_per_second_per_rank"], m["reward_mean"][0],
        m["entropy"][0], at(100), at(300), at(400), at(600)))
EOF
done
