#!/bin/sh
# Throughput of the ntk ensembles: members trained and evaluated per second per rank.
#   tests/bench/ntk_ensemble_bench.sh [BUILD_DIR] [RANKS] [K WIDTH MEMBERS PARAM LR EPOCHS TOL MINW MAXW]
# Builds tests/bench/ntk_ensemble_bench.c against BUILD_DIR's library (default build/release,
# which must be built) with the link line of test_ntk, and runs it under mpirun.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/release}
ranks=${2:-1}
shift 2 2>/dev/null || shift $#
link=$build/tests/CMakeFiles/test_ntk.dir/link.txt
[ -f "$link" ] || { echo "build test_ntk in $build first" >&2; exit 77; }
libs=$(sed -e 's/^.* -o test_ntk//' -e 's#libsb_testutil.a##' -e 's#[^ ]*libcmocka[^ ]*##' \
       -e 's#\.\./libsymbatch.a#'"$build"'/libsymbatch.a#' "$link")
exe=$build/ntk_ensemble_bench
mpicc -O3 -march=x86-64-v2 -I"$root/include" -I/usr/include/hdf5/openmpi "$root/tests/bench/ntk_ensemble_bench.c" \
      -o "$exe" $libs
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
if [ $# -eq 0 ]; then set -- 10 4096 100 ntk; fi
mpirun -np "$ranks" "$exe" "$@"
