/* Checks for MPI tests that stop at the first failure: the failing rank prints where and aborts
 * every rank, so a failure never turns into a hang.  (mpicheck.h counts failures instead.) */
#ifndef SB_TEST_ABORTCHECK_H
#define SB_TEST_ABORTCHECK_H

#include "symbatch/comm.h"
#include "symbatch/error.h"

#include <mpi.h>
#include <stdio.h>

static inline void check_failed(const char *file, int line, const char *expr)
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "rank %d: %s:%d: check failed: %s\n", rank, file, line, expr);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_failed(__FILE__, __LINE__, #cond);                                               \
    } while (0)

#define CHECK_RC(expr, want)                                                                       \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "%s returned %s, wanted %s\n", #expr, sb_err_name(rc_),                \
                    sb_err_name(want));                                                            \
            check_failed(__FILE__, __LINE__, #expr);                                               \
        }                                                                                          \
    } while (0)

/* Every rank must return the same verdict. */
static inline void check_same(const sb_ctx *ctx, int rc)
{
    int lo = rc, hi = rc;
    MPI_Allreduce(&rc, &lo, 1, MPI_INT, MPI_MIN, ctx->comm);
    MPI_Allreduce(&rc, &hi, 1, MPI_INT, MPI_MAX, ctx->comm);
    CHECK(lo == hi);
}

#endif
