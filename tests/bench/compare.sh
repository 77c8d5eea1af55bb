#!/usr/bin/env bash
# A/B benchmark (a measurement, never a test): runs the same growth job with several symbatch
# binaries and settings, the cases alternated in every round so that a drifting machine
# affects them alike, and prints each case's wall times (whole mpirun: start-up, BFS, HDF5)
# with the median.  Usage:
#   tests/bench/compare.sh [-r ROUNDS] [-f FAMILY] [-n N] [-m MODE] [-j JOB] LABEL=BINARY:RANKS[:NODES] ...
#   tests/bench/compare.sh -n 12 before=/tmp/before/symbatch:2 after=build/release/symbatch:2 \
#       nodes2=build/release/symbatch:4:2
#   tests/bench/compare.sh -r 3 -j jobs/growth-cube.yaml pocket=build/release/symbatch:2
# NODES sets SB_TEST_NODES (pseudo-nodes of consecutive ranks, a test-only switch) for that case.
# -j JOB runs that job file (output in a scratch folder) instead of FAMILY N in MODE.
set -euo pipefail
rounds=3
family=lrx
n=12
mode=full
jobfile=
while getopts "r:f:n:m:j:" o; do
    case $o in
    r) rounds=$OPTARG ;;
    f) family=$OPTARG ;;
    n) n=$OPTARG ;;
    m) mode=$OPTARG ;;
    j) jobfile=$(realpath "$OPTARG") ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { sed -n '2,9p' "$0"; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
job=${jobfile:-$work/job.yaml} # a job file runs in place (its relative paths hold)
if [ -z "$jobfile" ]; then
cat >"$work/job.yaml" <<EOF
kind: growth
output: $work/out.h5
checkpoint: { every_seconds: 0 }
growth:
  generators: { family: $family, n: $n }
  mode: $mode
EOF
fi

declare -A times
for r in $(seq "$rounds"); do
    for c in "$@"; do
        label=${c%%=*}
        IFS=: read -r bin ranks nodes <<<"${c#*=}"
        t0=$(date +%s.%N)
        env ${nodes:+SB_TEST_NODES=$nodes} mpirun -n "$ranks" "$bin" run "$job" \
            --output "$work/out.h5" --force --quiet >"$work/$label.json"
        t=$(echo "$(date +%s.%N) - $t0" | bc)
        times[$label]="${times[$label]:-} $t"
        printf '%-10s round %d: %6.2f s  %s\n' "$label" "$r" "$t" \
            "$(grep -o '"nodes":[0-9]*\|"exchange_bytes_rank0":[0-9]*' "$work/$label.json" | tr '\n' ' ')"
    done
done
echo
printf '%-10s %8s   %s\n' case median "runs (s)"
for c in "$@"; do
    label=${c%%=*}
    med=$(tr ' ' '\n' <<<"${times[$label]}" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-10s %8.2f  %s\n' "$label" "$med" "${times[$label]}"
done
