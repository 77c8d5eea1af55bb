#!/usr/bin/env bash
# From a fresh Debian 12 machine to a first result: installs the missing Debian packages,
# builds symbatch, runs jobs/quickstart.yaml (LRX S_10) on 2 ranks, prints the growth and plots
# it (symbatch-plot prints the path of the PNG it wrote).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/lib/deps.sh"
sb_install_packages $SB_BUILD_PACKAGES $SB_PLOT_PACKAGES
sb_mpi_env
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build/release" -j "$(nproc)" --target symbatch >/dev/null
cd "$root"
mkdir -p results
echo "== mpirun -n 2 symbatch run jobs/quickstart.yaml --force"
mpirun -n 2 build/release/symbatch run jobs/quickstart.yaml --force
echo "== symbatch inspect results/quickstart-lrx-10.h5"
build/release/symbatch inspect results/quickstart-lrx-10.h5
echo "== symbatch-plot results/quickstart-lrx-10.h5"
build/release/symbatch-plot results/quickstart-lrx-10.h5
