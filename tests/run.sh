#!/usr/bin/env bash
# The test command: installs what is missing (Debian packages), builds symbatch, runs every test
# with ctest, then builds and runs the suite once more under AddressSanitizer and
# UndefinedBehaviorSanitizer.  Usage: tests/run.sh [--no-sanitize] [ctest arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tests/lib/deps.sh"
sanitize=1
if [ "${1:-}" = "--no-sanitize" ]; then
    sanitize=0
    shift
fi
sb_install_packages $SB_BUILD_PACKAGES $SB_TEST_PACKAGES
sb_mpi_env
jobs=$(nproc)

build_and_test() {
    local dir=$1 label=$2
    shift 2
    echo "== $label: configure and build in $dir"
    cmake -S "$root" -B "$dir" "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
    if ! cmake --build "$dir" -j "$jobs" >"$dir.build.log" 2>&1; then
        cat "$dir.build.log"
        return 1
    fi
    if grep -E "warning:|error:" "$dir.build.log"; then
        echo "== $label: the build has warnings (see above); symbatch builds warning-free"
        return 1
    fi
    echo "== $label: ctest"
    (cd "$dir" && ctest --output-on-failure -j "$jobs" ${SB_CTEST_ARGS:-})
}

mkdir -p "$root/build"
build_and_test "$root/build/release" "release" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "$sanitize" = 1 ]; then
    # The sanitizer pass looks for memory errors, not at sizes: SB_TEST_QUICK trims the largest
    # cases (the release pass ran them), and tests labelled slow are skipped.
    SB_TEST_QUICK=1 SB_CTEST_ARGS="-LE slow" build_and_test "$root/build/asan" "asan+ubsan" \
        -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON
fi
echo "== all tests passed"
