/* Writing a dense float64 matrix distributed 2-D block-cyclically (ScaLAPACK's layout) into a
 * result file as one 2-D dataset of shape (M, N), row-major: h5py's A[i, j] is global element
 * (i, j) whichever ranks held it.
 *
 * Layout (ScaLAPACK's descriptor with the first block on process row and column 0): global
 * row i lies in row block i / mb, which belongs to process row (i / mb) % nprow; columns alike.
 * A rank in the grid keeps its rows and columns in a column-major local array: local element
 * (li, lj) at local[li + lj * lld], with numroc(M, mb, myrow, 0, nprow) local rows and
 * numroc(N, nb, mycol, 0, npcol) local columns.  Ranks outside the grid (myrow = mycol = -1, as
 * BLACS reports them) hold nothing and join the collective writes with empty selections. */
#ifndef SYMBATCH_MATRIX_H
#define SYMBATCH_MATRIX_H

#include "symbatch/io.h"

#include <stdint.h>

typedef struct sb_bc_layout {
    int64_t m, n;     /* global rows and columns (>= 0) */
    int64_t mb, nb;   /* block rows and columns (>= 1) */
    int nprow, npcol; /* process grid (nprow * npcol <= ranks) */
    int myrow, mycol; /* this rank's place in the grid, or -1, -1 outside it */
    int64_t lld;      /* leading dimension of the local array (>= max(1, local rows)) */
} sb_bc_layout;

/* ScaLAPACK's NUMROC: how many of n rows (or columns), dealt in blocks of nb over nprocs
 * processes starting at process isrc, process iproc holds. */
int64_t sb_numroc(int64_t n, int64_t nb, int iproc, int isrc, int nprocs);

/* Collective.  Writes the global M x N matrix as the float64 dataset `path` (parent groups
 * created) with attributes "units" and "meaning" (either may be NULL).  Every rank passes the
 * same m, n, mb, nb, nprow, npcol; each grid position must be held by exactly one rank.  A bad
 * layout is SB_EINPUT on every rank (rank 0 says why).  No rank moves more than 1 GiB per
 * HDF5 call. */
int sb_h5_write_matrix_bc(sb_h5 *h, const char *path, const sb_bc_layout *L, const double *local,
                          const char *units, const char *meaning);

/* Internal, exposed for tests: the same with at most `piece_bytes` per rank and call (at least
 * one band of mb local rows is moved per call: SB_ELIMIT when that is more). */
int sb_h5__write_matrix_bc_pieces(sb_h5 *h, const char *path, const sb_bc_layout *L,
                                  const double *local, const char *units, const char *meaning,
                                  uint64_t piece_bytes);

#endif
