#!/usr/bin/env bash
# Growth benchmark (a measurement, never a test): wall time, states/s, edge rate and peak memory
# per rank for LRX at the given sizes, modes and rank counts, each case repeated; prints the
# median and every run.  Usage:
#   tests/bench/growth_bench.sh [-b BUILD] [-r REPEATS] [-f FAMILY] MODE:N:RANKS ...
#   tests/bench/growth_bench.sh frontier:11:1 frontier:11:2 frontier:12:1 frontier:12:2
# Peak memory per rank is /usr/bin/time -v's "Maximum resident set size" of each rank process;
# it counts pages shared between ranks (full mode's node-shared blocks) once per rank.  The
# column "peak sum" counts them once: the largest sum of the ranks' proportional set sizes
# (Pss in /proc/PID/smaps_rollup), sampled every second (more often slows the run: each
# sample walks the page tables of every rank).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/release"
repeats=3
family=lrx
while getopts "b:r:f:" o; do
    case $o in
    b) build=$OPTARG ;;
    r) repeats=$OPTARG ;;
    f) family=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- frontier:11:1 frontier:11:2 frontier:12:1 frontier:12:2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Samples the summed Pss of the running symbatch processes until killed; prints the peak (kB).
pss_peak() {
    local peak=0 sum pid
    trap 'echo $peak; exit 0' TERM
    while :; do
        sum=0
        for pid in $(pgrep -f "$build/symbatch run" || true); do
            sum=$((sum + $(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0)))
        done
        [ "$sum" -gt "$peak" ] && peak=$sum
        sleep 1
    done
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf "%-10s %-4s %-3s %5s | %9s %9s %9s | %11s %13s %12s %12s | runs (s)\n" \
    family n np mode "wall_med" "wall_min" "wall_max" "states/s" "edges/s/rank" "peak/rank" \
    "peak sum"
for case in "$@"; do
    IFS=: read -r mode n np <<<"$case"
    job="$work/$family-$n-$mode.yaml"
    printf "kind: growth\noutput: %s/out.h5\ngrowth:\n  generators: { family: %s, n: %s }\n  mode: %s\n  store_last_layer: 10\n" \
        "$work" "$family" "$n" "$mode" >"$job"
    walls=() peaks=() sums=() summary=""
    for ((i = 0; i < repeats; i++)); do
        rm -f "$work"/time.* "$work/out.h5"
        pss_peak >"$work/pss" &
        sampler=$!
        start=$(date +%s.%N)
        summary=$(mpirun -n "$np" bash -c '/usr/bin/time -v -o '"$work"'/time.$OMPI_COMM_WORLD_RANK "$@"' _ \
            "$build/symbatch" run "$job" --quiet --force)
        end=$(date +%s.%N)
        kill -TERM $sampler
        wait $sampler || true
        sums+=("$(cat "$work/pss")")
        walls+=("$(echo "$end - $start" | bc -l)")
        peaks+=("$(grep -h "Maximum resident" "$work"/time.* | awk '{print $NF}' | sort -n | tail -1)")
    done
    wmed=$(printf "%s\n" "${walls[@]}" | median)
    wmin=$(printf "%s\n" "${walls[@]}" | sort -g | head -1)
    wmax=$(printf "%s\n" "${walls[@]}" | sort -g | tail -1)
    pmax=$(printf "%s\n" "${peaks[@]}" | sort -n | tail -1)
    smax=$(printf "%s\n" "${sums[@]}" | sort -n | tail -1)
    states=$(echo "$summary" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["num_states"])')
    erate=$(echo "$summary" | /usr/bin/python3 -c 'import json,sys; print("%.3g" % json.load(sys.stdin)["edges_per_second_per_rank"])')
    printf "%-10s %-4s %-3s %5s | %9.2f %9.2f %9.2f | %11.3g %13s %9.0f MB %9.0f MB | %s\n" \
        "$family" "$n" "$np" "$mode" "$wmed" "$wmin" "$wmax" "$(echo "$states / $wmed" | bc -l)" \
        "$erate" "$(echo "$pmax / 1000" | bc -l)" "$(echo "$smax / 1000" | bc -l)" \
        "$(printf "%.2f " "${walls[@]}")"
done
