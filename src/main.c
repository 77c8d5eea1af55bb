/* symbatch: thin main.  Everything else lives in the library and takes a communicator. */
#include "symbatch/cli.h"

#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
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
