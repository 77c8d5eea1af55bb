# Every dependency is a Debian package; a missing one stops the configure step with the
# package to install, so a user never has to guess from a linker error.

macro(sb_require found pkg what)
  if(NOT ${found})
    message(FATAL_ERROR "symbatch needs ${what}: install the Debian package '${pkg}' "
                        "(apt-get install ${pkg}), or run tests/run.sh which installs everything.")
  endif()
endmacro()

find_package(MPI COMPONENTS C)
sb_require(MPI_C_FOUND libopenmpi-dev "Open MPI")

set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 COMPONENTS C)
sb_require(HDF5_FOUND libhdf5-openmpi-dev "parallel HDF5")
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "symbatch needs the parallel (MPI) flavour of HDF5: install the Debian "
                      "package 'libhdf5-openmpi-dev' (found a serial HDF5 instead).")
endif()

find_package(PkgConfig)
sb_require(PKG_CONFIG_FOUND pkg-config "pkg-config")
# Job files are read with libyaml's document API: every node keeps its line and column, so a
# range error found after parsing can still name file:line:column (libcyaml cannot do that).
pkg_check_modules(YAML IMPORTED_TARGET yaml-0.1)
sb_require(YAML_FOUND libyaml-dev "libyaml")
# Debian's scalapack CMake config points at a missing file: pkg-config is the reliable way.
pkg_check_modules(SCALAPACK IMPORTED_TARGET scalapack-openmpi)
sb_require(SCALAPACK_FOUND libscalapack-openmpi-dev "ScaLAPACK (Open MPI flavour)")
pkg_check_modules(LAPACKE IMPORTED_TARGET lapacke)
sb_require(LAPACKE_FOUND liblapacke-dev "LAPACKE")
set(BLA_VENDOR OpenBLAS)
find_package(BLAS)
sb_require(BLAS_FOUND libopenblas-dev "OpenBLAS")

if(SB_BUILD_TESTS)
  find_package(cmocka CONFIG QUIET)
  if(NOT cmocka_FOUND)
    pkg_check_modules(CMOCKA cmocka)
    set(cmocka_FOUND ${CMOCKA_FOUND})
  endif()
  sb_require(cmocka_FOUND libcmocka-dev "cmocka (unit tests)")
  find_program(H5DUMP h5dump)
  sb_require(H5DUMP hdf5-tools "h5dump (tests read results back with it)")
endif()
