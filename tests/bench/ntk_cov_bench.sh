#!/usr/bin/env bash
# ntk covariance benchmark (a measurement, never a test): pdpotrf GFLOP/s of the non-training
# covariance at k (default 13: order 8178) on 1 and 2 ranks, LAPACKE_dpotrf of the same matrix on
# one core, and the machine's cblas_dgemm rate per core (4096^3), each the median of REPEATS runs
# (every run printed).  With -x, also one run of k = 15 (order 32752, 8.6 GB) at 2 ranks:
# Cholesky plus 10^4 joint draws for M = 1000, 3000, 10000.  One BLAS thread per rank.  Usage:
#   tests/bench/ntk_cov_bench.sh [-b BUILD] [-r REPEATS] [-k K] [-n NB] [-c CORETYPE] [-x]
# -c sets OPENBLAS_CORETYPE: OpenBLAS before 0.3.25 does not know recent Intel models (this
# machine's family 6 model 207, Emerald Rapids) and falls back to its generic Prescott kernels
# (OpenBLAS issue 4267), about 4x slower than SkylakeX's AVX-512 ones here; the dgemm line
# names the kernels in use.
# BUILD holds libsymbatch.a (default build/release); the driver tests/bench/ntk_cov_bench.c is
# compiled against it here.  NB defaults to 256: at 64 pdpotrf ran at half the rate here.
#
# 2026-11-29, 2-core VM (Emerald Rapids, AVX-512) under load 3-7 from other jobs, -c SkylakeX:
#   dgemm 4096 44.8 GFLOP/s per core; LAPACKE_dpotrf k=13 (order 8178) 33.8; pdpotrf nb=256
#   27.1 at 1 rank, 30.4 at 2 (nb=64: 13.2 and 14.4); without -c (Prescott kernels): dgemm 6.0,
#   LAPACKE_dpotrf 12.3, pdpotrf nb=64 6.0 and 4.9.  k = 15 at 2 ranks (-x): Cholesky 350 s
#   (33.5 GFLOP/s), 10^4 draws 413 s, 4.43 GB per rank.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/release"
repeats=3
k=13
nb=256
big=0
while getopts "b:r:k:n:c:x" o; do
    case $o in
    b) build=$OPTARG ;;
    r) repeats=$OPTARG ;;
    k) k=$OPTARG ;;
    n) nb=$OPTARG ;;
    c) export OPENBLAS_CORETYPE=$OPTARG ;;
    x) big=1 ;;
    *) exit 2 ;;
    esac
done
[ -f "$build/libsymbatch.a" ] || { echo "no $build/libsymbatch.a: build first" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpicc -O2 -std=c11 -I"$root/include" -I"$root/src" "$root/tests/bench/ntk_cov_bench.c" \
    -o "$work/bench" "$build/libsymbatch.a" $(pkg-config --libs scalapack-openmpi lapacke) \
    $(pkg-config --libs hdf5-openmpi) -lyaml -lopenblas -lm
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

# case NAME NP ARGS...: REPEATS runs, the median GFLOP/s and seconds, every run's line.
bench_case() {
    local name=$1 np=$2
    shift 2
    : >"$work/runs"
    for _ in $(seq "$repeats"); do
        mpirun -np "$np" "$work/bench" "$@" | tee -a "$work/runs" >"$work/last"
    done
    printf "%-24s np %d  GFLOP/s median %8.2f  seconds median %8.3f  (runs: %s)\n" "$name" "$np" \
        "$(field gflops <"$work/runs" | median)" "$(field seconds <"$work/runs" | median)" \
        "$(field gflops <"$work/runs" | tr '\n' ' ')"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(git -C "$root" rev-parse --short=12 HEAD), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
bench_case "cblas_dgemm 4096" 1 dgemm 4096
head -1 "$work/last"
bench_case "LAPACKE_dpotrf k=$k" 1 lapacke "$k"
bench_case "pdpotrf k=$k nb=$nb" 1 chol "$k" "$nb"
bench_case "pdpotrf k=$k nb=$nb" 2 chol "$k" "$nb"
head -1 "$work/last"
if [ "$big" = 1 ]; then
    mpirun -np 2 "$work/bench" draws 15 "$nb" 10000 1024 1000 3000 10000
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
