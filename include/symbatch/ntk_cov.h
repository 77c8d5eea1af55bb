/* The dense joint covariance of the ntk job kind on a ScaLAPACK process grid
 * (/work/shared/reference/ntk.md, "Where the distributed dense algebra is the right tool").
 *
 * The covariance of one output coordinate over the test inputs (sb_ntk_joint_cov entries) is
 * built block-cyclically, factored by pdpotrf over the non-training inputs (positive definite:
 * no jitter), and joint draws of an M-ensemble's mean are made through the factor in batches.
 * Coordinates are independent with a shared covariance, and relabelling positions maps one
 * coordinate's event "exact on every input" onto another's, so P(all exact) = p^k where p is
 * one coordinate's probability; each draw is one column, normals keyed by (seed, draw, row).
 * The spectrum (pdsyevd) is taken over the inputs including the k training ones, whose rows
 * are zero: its numerical rank is n - k. */
#ifndef SYMBATCH_NTK_COV_H
#define SYMBATCH_NTK_COV_H

#include "symbatch/comm.h"
#include "symbatch/ntk.h"
#include "symbatch/step.h"

#include <stdbool.h>
#include <stdint.h>

/* Largest k: an input is a 64-bit mask.  (With every weight the order passes ScaLAPACK's
 * 32-bit indices from k = 31 on; small max_weight keeps a large k affordable.) */
#define SB_NTK_COV_K_MAX 64

typedef struct sb_ntk_cov_cfg {
    sb_ntk_gp gp;
    int max_weight; /* inputs of weight <= max_weight (2..k) */
    int block_size; /* ScaLAPACK block size nb > 0 */
    int grid_rows;  /* process grid; 0 and 0: the squarest rows x cols = ranks */
    int grid_cols;
    int64_t samples;      /* joint draws; 0: none */
    int64_t sample_batch; /* draws per pdtrmm batch; 0: a default */
    const double *M;      /* ensemble sizes for P(all exact) */
    int nM;               /* 0: no draws */
    bool spectrum;        /* eigenvalues by pdsyevd */
    /* May be NULL.  Collective: called after the factorisation, after every batch of draws and
     * before the spectrum; a nonzero return (the kind's step boundary: SB_ESIGNAL once it has
     * checkpointed after a signal) stops the run with that value. */
    int (*boundary)(void *arg);
    void *boundary_arg;
    uint64_t seed;
} sb_ntk_cov_cfg;

typedef struct sb_ntk_cov_result {
    int64_t n; /* non-training inputs (order of the factored matrix) */
    int grid_rows, grid_cols, block_size;
    double *eigenvalues; /* n + k ascending (training inputs included); NULL without spectrum */
    int64_t rank;        /* eigenvalues above 1e-10 x the largest; -1 without spectrum */
    double condition;    /* largest / smallest eigenvalue of the non-training matrix; NaN
                            without spectrum */
    int nM;
    double *M, *p_all_exact, *p_ci_low, *p_ci_high; /* 95% interval (Wilson's for p, to the k) */
    double *p_coordinate; /* one coordinate's probability p, nM (all NaN without draws) */
    double cholesky_seconds, cholesky_gflops, sample_seconds, spectrum_seconds;
} sb_ntk_cov_result;

/* Collective: builds, factors, samples and (when asked) takes the spectrum.  step may be NULL;
 * it receives progress notes and the timers "cov_build", "cholesky", "samples", "spectrum".
 * Returns 0, SB_EINPUT (bad configuration, with a message on rank 0 through ctx->err),
 * SB_ENOMEM, or SB_EINTERNAL when ScaLAPACK fails (a message names the routine and info).
 * The error is the same on every rank, and on error *out holds nothing to free.  Results
 * (times included: the slowest rank's) are identical on every rank.  A grid of fewer places
 * than ranks leaves the rest idle. */
int sb_ntk_cov_run(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg, sb_step *step,
                   sb_ntk_cov_result *out);
void sb_ntk_cov_result_free(sb_ntk_cov_result *r);
/* Bytes per rank the run needs on nranks ranks (largest rank), for memory estimates: the most
 * of its stages (factor; factor and a batch of draws; the spectrum's matrix, eigenvectors and
 * pdsyevd's workspace, about four local matrices).  0 for a configuration the run refuses. */
uint64_t sb_ntk_cov_bytes_per_rank(const sb_ntk_cov_cfg *cfg, int nranks);
/* Matrix order for k and max_weight: inputs of weight 2..max_weight (with_training: 1..).
 * -1 for k outside 2..SB_NTK_COV_K_MAX or max_weight outside 2..k. */
int64_t sb_ntk_cov_order(int k, int max_weight, bool with_training);

/* Internal, exposed for tests: the covariance over cfg's inputs (with the training ones or
 * not) on cfg's grid, its lower Cholesky factor when `factored` (upper triangle zeroed),
 * gathered on rank 0 into `full`, row-major n x n (ignored elsewhere).  Collective; errors as
 * sb_ntk_cov_run's. */
int sb_ntk_cov__gather(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg, bool with_training,
                       bool factored, double *full);
/* Internal, exposed for tests: sb_ntk_cov_run that also gives the most bytes any rank held at
 * once (matrices, workspace, inputs, flags), to compare with sb_ntk_cov_bytes_per_rank. */
int sb_ntk_cov__run_peak(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg, sb_step *step,
                         sb_ntk_cov_result *out, uint64_t *peak);

#endif
