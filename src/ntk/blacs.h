/* Private to src/ntk/cov*.c: the BLACS and ScaLAPACK entry points the covariance uses, and a thin
 * layer over them (a process grid on a communicator, a block-cyclic matrix, the covariance's
 * inputs and its fill).
 *
 * Debian's libscalapack-openmpi ships no C header, so the prototypes are declared here.  The
 * Fortran routines take every argument by reference; their CHARACTER arguments have length 1,
 * so the hidden length arguments gfortran appends are never read and are left out.  INTEGER is
 * 32 bits (the LP64 build).  The Cblacs_* functions are BLACS's own C interface: a system
 * handle comes from an MPI communicator (Csys2blacs_handle takes Open MPI's MPI_Comm as it is),
 * and a process outside a grid gets the context -1 from Cblacs_gridinit. */
#ifndef SB_NTK_BLACS_H
#define SB_NTK_BLACS_H

#include "symbatch/comm.h"
#include "symbatch/ntk.h"

#include <stdbool.h>
#include <stdint.h>

int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int *context, const char *order, int nprow, int npcol);
void Cblacs_gridinfo(int context, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int context);

void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb,
               const int *irsrc, const int *icsrc, const int *context, const int *lld, int *info);
void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja,
              const int *desca, int *info);
void pdtrmm_(const char *side, const char *uplo, const char *transa, const char *diag, const int *m,
             const int *n, const double *alpha, const double *a, const int *ia, const int *ja,
             const int *desca, double *b, const int *ib, const int *jb, const int *descb);
void pdsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *ia,
              const int *ja, const int *desca, double *w, double *z, const int *iz, const int *jz,
              const int *descz, double *work, const int *lwork, int *iwork, const int *liwork,
              int *info);
void pdlaset_(const char *uplo, const int *m, const int *n, const double *alpha, const double *beta,
              double *a, const int *ia, const int *ja, const int *desca);

/* ---- the layer ------------------------------------------------------------------------------- */

/* A BLACS grid over ctx->comm, row-major (rank r at r / npcol, r % npcol).  Ranks beyond
 * nprow x npcol are outside it: context -1, myrow = mycol = -1. */
typedef struct sb_ntk_grid {
    int handle;  /* BLACS system handle of ctx->comm */
    int context; /* -1 outside the grid */
    int nprow, npcol, myrow, mycol;
} sb_ntk_grid;

/* Collective over ctx->comm; nprow * npcol <= ctx->size.  Cannot fail (BLACS aborts instead). */
void sb_ntk__grid_open(const sb_ctx *ctx, int nprow, int npcol, sb_ntk_grid *g);
/* Collective over the grid's ranks (others return at once). */
void sb_ntk__grid_close(sb_ntk_grid *g);
static inline bool sb_ntk__in_grid(const sb_ntk_grid *g)
{
    return g->context >= 0;
}

/* A global m x n matrix in square nb x nb blocks, first block on process (0, 0); this rank's
 * part column-major in a (lld x nloc) array, lld = max(1, mloc). */
typedef struct sb_ntk_dmat {
    int m, n, nb;
    int mloc, nloc, lld;
    int desc[9];
    double *a; /* NULL outside the grid */
} sb_ntk_dmat;

/* Local bytes a rank at grid position (myrow, mycol) needs for an m x n matrix. */
uint64_t sb_ntk__dmat_bytes(int64_t m, int64_t n, int nb, int myrow, int mycol, int nprow,
                            int npcol);
/* Local: allocates this rank's part (nothing outside the grid) and its descriptor.  Returns 0,
 * SB_ENOMEM or SB_EINTERNAL (descinit failed), with a line in `why`. */
int sb_ntk__dmat_alloc(const sb_ntk_grid *g, int m, int n, int nb, sb_ntk_dmat *d, char *why,
                       size_t size);
void sb_ntk__dmat_free(sb_ntk_dmat *d);
/* Local: changes the global column count to n (<= the allocated one), keeping the array; for a
 * last, narrower batch.  0 or SB_EINTERNAL (descinit). */
int sb_ntk__dmat_narrow(const sb_ntk_grid *g, sb_ntk_dmat *d, int n, char *why, size_t size);
/* Global index of local row (or column) l, dealt in blocks of nb over nprocs from process 0. */
static inline int64_t sb_ntk__l2g(int64_t l, int nb, int me, int nprocs)
{
    return (l / nb * nprocs + me) * nb + l % nb;
}

/* The covariance's inputs: every mask of weight lo..hi over k positions (k <= 64), in increasing
 * order.  *masks is malloc'ed; *n their number.  0, SB_ENOMEM or SB_EINPUT (too many). */
int sb_ntk__masks(int k, int lo, int hi, uint64_t **masks, int64_t *n);

/* The O(k^3) distinct entries sb_ntk_joint_cov(h, h2, t) for h, h2 in lo..hi, at
 * table[(h * (k + 1) + h2) * (k + 1) + t]; malloc'ed.  0, SB_ENOMEM or SB_EINPUT. */
int sb_ntk__cov_table(const sb_ntk_gp *gp, int lo, int hi, double **table);
/* Local: fills this rank's part of the square matrix over `masks` from the table. */
void sb_ntk__cov_fill(int k, const uint64_t *masks, const double *table, const sb_ntk_grid *g,
                      sb_ntk_dmat *d);

/* Collective over ctx->comm: the whole matrix on rank 0, row-major m x n in `full` (ignored
 * elsewhere).  0, SB_ENOMEM, SB_ELIMIT (over 2^31 doubles) or SB_EMPI, on every rank. */
int sb_ntk__dmat_gather(const sb_ctx *ctx, const sb_ntk_grid *g, const sb_ntk_dmat *d,
                        double *full);

#endif
