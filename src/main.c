/* symbatch: thin main.  Everything else lives in the library and takes a communicator. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "symbatch/cli.h"
#include "symbatch/core.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    /* Open MPI's MPI-IO opens a shared-file-pointer component for every file; its "lockedfile"
     * one copies the whole path into a fixed buffer (paths from about 230 bytes abort with
     * "buffer overflow detected", or hang) and symbatch never uses shared file pointers.  Set
     * before MPI_Init, which reads it; a user's own setting wins.  Other MPIs ignore it. */
    setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
    /* OpenBLAS chose its generic kernels on a CPU it does not know: start again with the ones
     * the CPU supports (read only when the library loads).  Before MPI_Init, so nothing of MPI
     * is lost; if exec fails the run goes on with the slow kernels. */
    sb_blas_reexec(argv);
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "symbatch: MPI_Init failed\n");
        return 1;
    }
    int code = sb_cli_main(argc, argv, MPI_COMM_WORLD, stdout, stderr);
    fflush(stdout);
    fflush(stderr);
    MPI_Finalize();
    return code;
}
