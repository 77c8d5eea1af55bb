#!/usr/bin/env bash
# ntk benchmark (a measurement, never a test): the issue's table "ensemble size for 90%
# accuracy on weight-2 inputs vs k" from finite-width ensembles in both parametrisations, next
# to the NTK-GP and NNGP predictions and the authors' measurements (ntk.md: v1 code, one run
# each).  For each k a job of closed forms only gives the GP predictions; then, per
# parametrisation, an ensemble evaluated on the weight-2 inputs only, with members = FACTOR x
# the matching GP's prediction (at most MAX): its size90 is the smallest M whose prefix
# ensemble (members 0..M-1) is exact on at least 90% of the weight-2 inputs ("-" when no prefix
# reaches 90%, "(n/a)" when the run was skipped).  Usage:
#   tests/bench/ntk_bench.sh [-b BUILD] [-n RANKS] [-w WIDTH] [-e EPOCHS] [-f FACTOR]
#                            [-m MAX_MEMBERS] [-p "ntk standard"] [K ...]
#   tests/bench/ntk_bench.sh -n 2 -w 1024 5 10          # a quick look
#   tests/bench/ntk_bench.sh 5 10 15 20 25 30           # the whole table (hours on 2 cores)
# Each row also gives the wall time of the two ensemble runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/release"
np=2
width=4096
epochs=1000
factor=1.5
max_members=2000
params="ntk standard"
while getopts "b:n:w:e:f:m:p:" o; do
    case $o in
    b) build=$OPTARG ;;
    n) np=$OPTARG ;;
    w) width=$OPTARG ;;
    e) epochs=$OPTARG ;;
    f) factor=$OPTARG ;;
    m) max_members=$OPTARG ;;
    p) params=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 5 10 15 20 25 30
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ntk.md, "Check values": the authors' v1 measurements (standard parametrisation, one run each).
declare -A authors=([10]=69 [20]=117 [30]=175)

# read PATH... from a result: prints the values, space-separated ("nan" when absent).
h5get() {
    "$PY" - "$@" <<'EOF'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    out = []
    for p in sys.argv[2:]:
        v = f[p][()] if p in f else float("nan")
        out.append(f"{float(v[1] if hasattr(v, '__len__') else v):.0f}")
    print(" ".join(out))
EOF
}

printf "# ensemble size for 90%% accuracy on weight-2 inputs (width %s, %s ranks, members = %s x the GP's size, at most %s)\n" \
    "$width" "$np" "$factor" "$max_members"
printf "%4s | %8s %8s | %10s %8s | %10s %8s | %8s\n" k NTK-GP NNGP "ens(ntk)" "s" \
    "ens(std)" "s" authors
for k in "$@"; do
    cat >"$work/theory.yaml" <<EOF
kind: ntk
output: $work/theory.h5
ntk: { k: $k, members: 0 }
EOF
    rm -f "$work/theory.h5"
    "$build/symbatch" run "$work/theory.yaml" --quiet >/dev/null
    read -r gp_ntk gp_nngp < <(h5get "$work/theory.h5" /ntk/theory/ntk/size90_weight2 \
        /ntk/theory/nngp/size90_weight2)
    declare -A got=([ntk]="(n/a)" [standard]="(n/a)") secs=([ntk]="" [standard]="")
    for param in $params; do
        pred=$gp_ntk
        [ "$param" = standard ] && pred=$gp_nngp
        members=$(awk -v p="$pred" -v f="$factor" -v m="$max_members" \
            'BEGIN { n = int(p * f + 0.999); if (n > m) n = m; if (n < 2) n = 2; print n }')
        cat >"$work/ens.yaml" <<EOF
kind: ntk
output: $work/ens.h5
seed: $k
checkpoint: { every_seconds: 0 }
ntk: { k: $k, parametrisation: $param, width: $width, members: $members, epochs: $epochs,
       eval_min_weight: 2, eval_max_weight: 2, ensemble_sizes: [$members] }
EOF
        rm -f "$work/ens.h5"
        start=$(date +%s.%N)
        mpirun -n "$np" "$build/symbatch" run "$work/ens.yaml" --quiet >/dev/null
        secs[$param]=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')
        v=$(h5get "$work/ens.h5" /ntk/ensemble/size90_by_weight)
        [ "$v" = "-1" ] && v="-(>$members)"
        got[$param]=$v
    done
    printf "%4s | %8s %8s | %10s %8s | %10s %8s | %8s\n" "$k" "$gp_ntk" "$gp_nngp" \
        "${got[ntk]}" "${secs[ntk]}" "${got[standard]}" "${secs[standard]}" "${authors[$k]:--}"
done
