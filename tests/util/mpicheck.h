/* Minimal checks for MPI test programs: every rank counts its failures, prints them with its
 * rank, and the test's exit code is agreed over all ranks at the end. */
#ifndef SB_TEST_MPICHECK_H
#define SB_TEST_MPICHECK_H

#include <mpi.h>
#include <stdio.h>

typedef struct mpicheck {
    int rank, failures, checks;
} mpicheck;

#define CHECK(mc, cond, ...)                                                                       \
    do {                                                                                           \
        (mc)->checks++;                                                                            \
        if (!(cond)) {                                                                             \
            (mc)->failures++;                                                                      \
            fprintf(stderr, "[rank %d] %s:%d: check failed: %s: ", (mc)->rank, __FILE__, __LINE__, \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

/* Returns the process exit code: 0 when no rank failed. */
static inline int mpicheck_finish(mpicheck *mc, MPI_Comm comm, const char *name)
{
    int total = 0, checks = 0;
    MPI_Allreduce(&mc->failures, &total, 1, MPI_INT, MPI_SUM, comm);
    MPI_Allreduce(&mc->checks, &checks, 1, MPI_INT, MPI_SUM, comm);
    if (mc->rank == 0)
        printf("%s: %d checks, %d failed\n", name, checks, total);
    return total ? 1 : 0;
}

#endif
