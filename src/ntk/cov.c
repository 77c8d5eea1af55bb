/* The ntk job kind's dense joint covariance on a ScaLAPACK grid (ntk_cov.h).
 *
 * Stages, each freeing its matrices before the next starts, so that a rank holds about one
 * matrix at a time (the spectrum needs pdsyevd's eigenvector matrix and workspace besides):
 *   1. build the covariance over the non-training inputs from the O(k^3) distinct entries and
 *      factor it (pdpotrf, lower);
 *   2. draws in batches: a block-cyclic Z of standard normals keyed by (seed, draw, row), so a
 *      draw does not depend on the grid or the batch; X = L Z (pdtrmm) is the noise of the
 *      ensemble mean times sqrt(M); a draw counts for M when output coordinate 0 rounds right on
 *      every input (an MPI reduction of per-draw flags over the grid);
 *   3. the spectrum of the covariance with the training inputs (pdsyevd).
 * Every local failure (allocation, ScaLAPACK's info) is agreed on before the next collective,
 * so all ranks return the same error. */
#include "symbatch/ntk_cov.h"

#include "ntk/blacs.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/matrix.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Draws per batch when the configuration leaves it open: Z is n x 1024, a small fraction of the
 * factor for any n worth distributing, and wide enough for pdtrmm to run at GEMM speed. */
#define DEFAULT_BATCH 1024
/* Seconds between progress notes while drawing. */
#define NOTE_EVERY    10.0

static const double pi = 3.14159265358979323846;

typedef struct run {
    const sb_ctx *ctx;
    const sb_ntk_cov_cfg *cfg;
    sb_step *step;
    sb_ntk_grid grid;
    uint64_t held, peak; /* bytes this rank holds now, and at most */
} run;

static void hold(run *R, uint64_t bytes)
{
    R->held += bytes;
    if (R->held > R->peak)
        R->peak = R->held;
}

static void release(run *R, uint64_t bytes)
{
    R->held -= bytes;
}

static double elapsed_max(const run *R, double t0)
{
    double mine = MPI_Wtime() - t0, all = mine;
    MPI_Allreduce(&mine, &all, 1, MPI_DOUBLE, MPI_MAX, R->ctx->comm);
    return all;
}

/* ---- configuration --------------------------------------------------------------------------- */

int64_t sb_ntk_cov_order(int k, int max_weight, bool with_training)
{
    if (k < 2 || k > SB_NTK_COV_K_MAX || max_weight < 2 || max_weight > k)
        return -1;
    unsigned __int128 c = 1, sum = 0;
    for (int h = 1; h <= max_weight; h++) {
        c = c * (unsigned)(k - h + 1) / (unsigned)h; /* C(k, h), exact */
        if (h >= 2 || with_training)
            sum += c;
    }
    return sum > (unsigned __int128)INT64_MAX ? -1 : (int64_t)sum;
}

/* The squarest rows x cols = ranks with rows <= cols. */
static void squarest(int ranks, int *rows, int *cols)
{
    int r = 1;
    for (int d = 1; (int64_t)d * d <= ranks; d++)
        if (ranks % d == 0)
            r = d;
    *rows = r;
    *cols = ranks / r;
}

static void grid_shape(const sb_ntk_cov_cfg *cfg, int ranks, int *rows, int *cols)
{
    if (cfg->grid_rows == 0 && cfg->grid_cols == 0)
        squarest(ranks, rows, cols);
    else {
        *rows = cfg->grid_rows;
        *cols = cfg->grid_cols;
    }
}

static int64_t batch_of(const sb_ntk_cov_cfg *cfg)
{
    int64_t b = cfg->sample_batch > 0 ? cfg->sample_batch : DEFAULT_BATCH;
    return b < cfg->samples ? b : (cfg->samples > 0 ? cfg->samples : 1);
}

static bool sampling(const sb_ntk_cov_cfg *cfg)
{
    return cfg->samples > 0 && cfg->nM > 0;
}

/* What is wrong with cfg on `ranks` ranks, or NULL. */
static const char *cfg_problem(const sb_ntk_cov_cfg *cfg, int ranks)
{
    const sb_ntk_gp *gp = &cfg->gp;
    if (gp->k < 2 || gp->k > SB_NTK_COV_K_MAX)
        return "k must lie in 2..64";
    if (!(gp->sigma_w > 0.0) || !isfinite(gp->sigma_w) ||
        (gp->kind != SB_NTK_NTKGP && gp->kind != SB_NTK_NNGP))
        return "bad Gaussian process (sigma_w > 0, kind ntkgp or nngp)";
    if (cfg->max_weight < 2 || cfg->max_weight > gp->k)
        return "max_weight must lie in 2..k";
    int64_t n = sb_ntk_cov_order(gp->k, cfg->max_weight, true);
    if (n < 0 || n > INT_MAX)
        return "more than 2^31 - 1 inputs (ScaLAPACK's indices are 32-bit)";
    if (cfg->block_size < 1)
        return "block_size must be positive";
    if ((cfg->grid_rows == 0) != (cfg->grid_cols == 0) || cfg->grid_rows < 0 || cfg->grid_cols < 0)
        return "grid rows and columns must both be 0 (automatic) or both positive";
    if ((int64_t)cfg->grid_rows * cfg->grid_cols > ranks)
        return "the process grid has more places than there are ranks";
    if (cfg->samples < 0 || cfg->sample_batch < 0 || cfg->sample_batch > INT_MAX)
        return "samples and sample_batch must be >= 0 (sample_batch below 2^31)";
    if (cfg->nM < 0 || (cfg->nM > 0 && !cfg->M))
        return "nM must be >= 0 and M given when it is positive";
    for (int i = 0; i < cfg->nM; i++)
        if (!(cfg->M[i] > 0.0) || !isfinite(cfg->M[i]))
            return "every ensemble size M must be positive and finite";
    if (sampling(cfg) && (int64_t)cfg->nM * batch_of(cfg) > INT_MAX)
        return "nM x sample_batch must stay below 2^31 (one reduction of per-draw flags)";
    return NULL;
}

/* ---- memory ---------------------------------------------------------------------------------- */

typedef struct shape {
    int rows, cols;
    int64_t n, N; /* factored order, order with the training inputs */
} shape;

static shape shape_of(const sb_ntk_cov_cfg *cfg, int ranks)
{
    shape s;
    grid_shape(cfg, ranks, &s.rows, &s.cols);
    s.n = sb_ntk_cov_order(cfg->gp.k, cfg->max_weight, false);
    s.N = sb_ntk_cov_order(cfg->gp.k, cfg->max_weight, true);
    return s;
}

static uint64_t table_bytes(int k)
{
    return (uint64_t)(k + 1) * (k + 1) * (k + 1) * sizeof(double);
}

/* A matrix of the given order and its inputs, at process (0, 0), which holds the most. */
static uint64_t matrix_bytes(const sb_ntk_cov_cfg *cfg, const shape *s, int64_t order)
{
    return sb_ntk__dmat_bytes(order, order, cfg->block_size, 0, 0, s->rows, s->cols) +
           (uint64_t)order * sizeof(uint64_t);
}

/* Z, the local rows' means and targets, the per-draw flags and their reduction. */
static uint64_t bytes_draws(const sb_ntk_cov_cfg *cfg, const shape *s)
{
    int64_t b = batch_of(cfg), mloc = sb_numroc(s->n, cfg->block_size, 0, 0, s->rows);
    return sb_ntk__dmat_bytes(s->n, b, cfg->block_size, 0, 0, s->rows, s->cols) +
           (uint64_t)mloc * (sizeof(double) + 1) + 2 * (uint64_t)cfg->nM * (uint64_t)b +
           (uint64_t)cfg->nM * sizeof(int64_t);
}

/* The spectrum's block size: pdsyevd (ScaLAPACK 2.2) fails inside PDLASRT and PDORMTR, with
 * one process leaving a collective the others then wait in forever, or reports an illegal
 * LWORK on stdout, when blocks are wide for the order and the grid (order 63: blocks of 40 or
 * more on 1 x 2, of 24 or more on 2 x 2).  Blocks of at most order / (2 max(rows, cols)) give
 * every process several and passed every case tried (orders 63 and 127 on 1 x 2, 1 x 3, 2 x 2
 * with blocks from 5 to 1000).  Large orders keep the job's block size. */
static int spectrum_block(int nb, int64_t order, int rows, int cols)
{
    int64_t side = rows > cols ? rows : cols;
    int64_t most = order / (2 * side) > 1 ? order / (2 * side) : 1;
    return most < nb ? (int)most : nb;
}

/* pdsyevd hands PDLASRT its workspace after 4 N doubles of its own, and PDLASRT needs
 * max(N, NP (NB + NQ)) with this process's local sizes.  ScaLAPACK 2.2's workspace query does
 * not cover that where the last block column is narrow (order 63 in blocks of 57 on a 1 x 2
 * grid): PDLASRT then fails on one process while the others wait for it forever. */
static int64_t lasrt_work(int64_t N, int nb, int64_t np, int64_t nq)
{
    int64_t sort = np * (nb + nq);
    return 4 * N + (sort > N ? sort : N) + 1;
}

/* pdsyevd's documented minimum workspace at process (0, 0), which holds the most (its
 * workspace query asks for exactly this). */
static void syevd_work(int64_t N, int nb, int rows, int cols, int64_t *lwork, int64_t *liwork)
{
    int64_t np = sb_numroc(N, nb, 0, 0, rows), nq = sb_numroc(N, nb, 0, 0, cols);
    int64_t tri = 3 * N + (nb * (np + 1) > 3 * nb ? nb * (np + 1) : 3 * nb);
    int64_t main = 1 + 6 * N + 2 * np * nq;
    *lwork = (main > tri ? main : tri) + 2 * N;
    int64_t sort = lasrt_work(N, nb, np, nq);
    if (sort > *lwork)
        *lwork = sort;
    *liwork = 7 * N + 8 * (int64_t)cols + 2;
}

/* Besides the matrix: the eigenvectors, the workspace, the eigenvalues. */
static uint64_t bytes_spectrum(const sb_ntk_cov_cfg *cfg, const shape *s)
{
    int64_t lwork, liwork;
    int nb = spectrum_block(cfg->block_size, s->N, s->rows, s->cols);
    syevd_work(s->N, nb, s->rows, s->cols, &lwork, &liwork);
    return sb_ntk__dmat_bytes(s->N, s->N, nb, 0, 0, s->rows, s->cols) +
           (uint64_t)lwork * sizeof(double) + (uint64_t)liwork * sizeof(int) +
           (uint64_t)s->N * sizeof(double);
}

/* The most of the stages: building (the entry table besides), factor and a batch of draws, the
 * spectrum (its build needs less than its solve). */
uint64_t sb_ntk_cov_bytes_per_rank(const sb_ntk_cov_cfg *cfg, int nranks)
{
    if (!cfg || nranks < 1 || cfg_problem(cfg, nranks))
        return 0;
    shape s = shape_of(cfg, nranks);
    uint64_t most = matrix_bytes(cfg, &s, s.n) + table_bytes(cfg->gp.k);
    if (sampling(cfg)) {
        uint64_t d = matrix_bytes(cfg, &s, s.n) + bytes_draws(cfg, &s);
        most = d > most ? d : most;
    }
    if (cfg->spectrum) {
        uint64_t e = matrix_bytes(cfg, &s, s.N) + bytes_spectrum(cfg, &s);
        most = e > most ? e : most;
    }
    return most;
}

/* ---- stage 1: build and factor --------------------------------------------------------------- */

/* Collective: the covariance over the inputs of weight lo..max_weight into A (allocated here),
 * and the inputs in *masks (kept: the draws need them).  Agreed. */
static int build(run *R, int lo, sb_ntk_dmat *A, uint64_t **masks, int64_t *n)
{
    const sb_ntk_cov_cfg *cfg = R->cfg;
    double t0 = MPI_Wtime(), *table = NULL;
    char why[256] = "";
    int k = cfg->gp.k;
    *masks = NULL;
    memset(A, 0, sizeof *A);
    int err = sb_ntk__masks(k, lo, cfg->max_weight, masks, n);
    if (err == 0)
        err = sb_ntk__cov_table(&cfg->gp, lo, cfg->max_weight, &table);
    if (err != 0)
        snprintf(why, sizeof why, "ntk cov: the inputs or the entries (k = %d): %s", k,
                 sb_strerror(err));
    else {
        hold(R, (uint64_t)*n * sizeof(uint64_t) + table_bytes(k));
        int nb = lo == 1 ? spectrum_block(cfg->block_size, *n, R->grid.nprow, R->grid.npcol)
                         : cfg->block_size;
        err = sb_ntk__dmat_alloc(&R->grid, (int)*n, (int)*n, nb, A, why, sizeof why);
        if (err == 0 && A->a)
            hold(R, (uint64_t)A->lld * (A->nloc > 1 ? A->nloc : 1) * 8);
        if (err == 0)
            sb_ntk__cov_fill(k, *masks, table, &R->grid, A);
        free(table);
        release(R, table_bytes(k));
    }
    err = sb_ctx_agree_report(R->ctx, err, why);
    if (err != 0) {
        sb_ntk__dmat_free(A);
        free(*masks);
        *masks = NULL;
    }
    if (R->step)
        sb_step_time(R->step, "cov_build", MPI_Wtime() - t0);
    return err;
}

static void drop(run *R, sb_ntk_dmat *A, uint64_t **masks, int64_t n)
{
    if (A->a)
        release(R, (uint64_t)A->lld * (A->nloc > 1 ? A->nloc : 1) * 8);
    sb_ntk__dmat_free(A);
    free(*masks);
    *masks = NULL;
    release(R, (uint64_t)n * sizeof(uint64_t));
}

/* Collective: pdpotrf of A (lower), timed.  Agreed. */
static int factor(run *R, sb_ntk_dmat *A, sb_ntk_cov_result *out)
{
    char why[256] = "";
    int info = 0, one = 1;
    MPI_Barrier(R->ctx->comm);
    double t0 = MPI_Wtime();
    if (sb_ntk__in_grid(&R->grid) && A->m > 0)
        pdpotrf_("L", &A->m, A->a, &one, &one, A->desc, &info);
    if (R->step)
        sb_step_time(R->step, "cholesky", MPI_Wtime() - t0);
    out->cholesky_seconds = elapsed_max(R, t0);
    double n = A->m;
    out->cholesky_gflops =
        out->cholesky_seconds > 0 ? n * n * n / 3.0 / out->cholesky_seconds / 1e9 : 0.0;
    if (info > 0)
        snprintf(why, sizeof why,
                 "ntk cov: pdpotrf failed with info = %d: the leading minor of order %d of the "
                 "%d x %d covariance is not positive definite",
                 info, info, A->m, A->m);
    else if (info < 0)
        snprintf(why, sizeof why, "ntk cov: pdpotrf failed with info = %d (illegal argument)",
                 info);
    return sb_ctx_agree_report(R->ctx, info != 0 ? SB_EINTERNAL : 0, why);
}

/* ---- stage 2: draws -------------------------------------------------------------------------- */

/* Standard normal `row` of draw `draw`: Box-Muller's cosine branch, each number with its own pair
 * of uniforms (the same keys as sb_ntk_mc_all_exact's coordinate 0). */
static double normal_at(uint64_t seed, uint64_t draw, uint64_t row)
{
    double u1 = 1.0 - sb_rand_unit(seed, draw, 2 * row); /* (0, 1]: log is finite */
    double u2 = sb_rand_unit(seed, draw, 2 * row + 1);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * pi * u2);
}

typedef struct draws {
    int nM, b;                    /* ensemble sizes; draws in this batch */
    double *scale;                /* 1 / sqrt(M) */
    double *mu;                   /* local rows: coordinate 0's mean */
    unsigned char *target;        /* local rows: coordinate 0's target bit */
    unsigned char *bad, *bad_all; /* nM x batch: some input rounds wrong */
    int64_t *hits;                /* exact draws per M */
} draws;

/* Coordinate 0 of input x: target 1 when x contains position 0 (mu_in of its weight), else 0. */
static int row_means(const run *R, const sb_ntk_dmat *Z, const uint64_t *masks, draws *D)
{
    for (int li = 0; li < Z->mloc; li++) {
        uint64_t x = masks[sb_ntk__l2g(li, Z->nb, R->grid.myrow, R->grid.nprow)];
        sb_ntk_stats s;
        int rc = sb_ntk_stats_at(&R->cfg->gp, __builtin_popcountll(x), &s);
        if (rc != 0)
            return rc;
        D->target[li] = x & 1u;
        D->mu[li] = D->target[li] ? s.mu_in : s.mu_out;
    }
    return 0;
}

static void fill_normals(const run *R, sb_ntk_dmat *Z, int64_t d0)
{
    for (int lj = 0; lj < Z->nloc; lj++) {
        uint64_t draw = (uint64_t)(d0 + sb_ntk__l2g(lj, Z->nb, R->grid.mycol, R->grid.npcol));
        double *col = Z->a + (size_t)lj * Z->lld;
        for (int li = 0; li < Z->mloc; li++)
            col[li] = normal_at(R->cfg->seed, draw,
                                (uint64_t)sb_ntk__l2g(li, Z->nb, R->grid.myrow, R->grid.nprow));
    }
}

/* Flags the local draws of this batch in which some local input rounds wrong, for every M. */
static void flag_local(const run *R, const sb_ntk_dmat *X, draws *D)
{
    memset(D->bad, 0, (size_t)D->nM * D->b);
    for (int lj = 0; lj < X->nloc; lj++) {
        int64_t j = sb_ntk__l2g(lj, X->nb, R->grid.mycol, R->grid.npcol);
        const double *col = X->a + (size_t)lj * X->lld;
        for (int m = 0; m < D->nM; m++) {
            unsigned char bad = 0;
            for (int li = 0; li < X->mloc && !bad; li++)
                bad = (D->mu[li] + D->scale[m] * col[li] > SB_NTK_ROUND_EPS) != D->target[li];
            D->bad[(size_t)m * D->b + j] = bad;
        }
    }
}

static int count_batch(const run *R, draws *D)
{
    int cnt = D->nM * D->b;
    if (MPI_Allreduce(D->bad, D->bad_all, cnt, MPI_UNSIGNED_CHAR, MPI_MAX, R->ctx->comm) !=
        MPI_SUCCESS)
        return SB_EMPI;
    for (int m = 0; m < D->nM; m++)
        for (int d = 0; d < D->b; d++)
            D->hits[m] += !D->bad_all[(size_t)m * D->b + d];
    return 0;
}

/* One batch: normals, X = L Z, flags, the reduction.  Collective; agreed. */
static int one_batch(run *R, const sb_ntk_dmat *L, sb_ntk_dmat *Z, int64_t d0, draws *D)
{
    char why[256] = "";
    int err = 0, one = 1;
    if (Z->n != D->b)
        err = sb_ntk__dmat_narrow(&R->grid, Z, D->b, why, sizeof why);
    if (err == 0 && sb_ntk__in_grid(&R->grid) && L->m > 0) {
        double alpha = 1.0;
        fill_normals(R, Z, d0);
        pdtrmm_("L", "L", "N", "N", &L->m, &D->b, &alpha, L->a, &one, &one, L->desc, Z->a, &one,
                &one, Z->desc);
        flag_local(R, Z, D);
    } else
        memset(D->bad, 0, (size_t)D->nM * D->b);
    err = sb_ctx_agree_report(R->ctx, err, why);
    return err ? err : sb_ctx_agree_report(R->ctx, count_batch(R, D), "ntk cov: MPI_Allreduce");
}

static int draws_alloc(run *R, const sb_ntk_dmat *L, const uint64_t *masks, sb_ntk_dmat *Z,
                       draws *D, char *why, size_t size)
{
    const sb_ntk_cov_cfg *cfg = R->cfg;
    int64_t b = batch_of(cfg);
    memset(D, 0, sizeof *D);
    D->nM = cfg->nM;
    D->b = (int)b;
    int err = sb_ntk__dmat_alloc(&R->grid, L->m, (int)b, cfg->block_size, Z, why, size);
    if (err != 0)
        return err;
    size_t rows = (size_t)(Z->mloc > 0 ? Z->mloc : 1), flags = (size_t)cfg->nM * (size_t)b;
    D->scale = malloc((size_t)cfg->nM * sizeof *D->scale);
    D->mu = malloc(rows * sizeof *D->mu);
    D->target = malloc(rows);
    D->bad = malloc(flags);
    D->bad_all = malloc(flags);
    D->hits = calloc((size_t)cfg->nM, sizeof *D->hits);
    if (!D->scale || !D->mu || !D->target || !D->bad || !D->bad_all || !D->hits) {
        snprintf(why, size, "ntk cov: out of memory for the draws' flags (%zu bytes)", 2 * flags);
        return SB_ENOMEM;
    }
    hold(R, (Z->a ? (uint64_t)Z->lld * (Z->nloc > 1 ? Z->nloc : 1) * 8 : 0) +
                rows * (sizeof(double) + 1) + 2 * flags + (uint64_t)cfg->nM * sizeof(int64_t));
    for (int m = 0; m < cfg->nM; m++)
        D->scale[m] = 1.0 / sqrt(cfg->M[m]);
    return row_means(R, Z, masks, D);
}

static void draws_free(sb_ntk_dmat *Z, draws *D)
{
    sb_ntk__dmat_free(Z);
    free(D->scale);
    free(D->mu);
    free(D->target);
    free(D->bad);
    free(D->bad_all);
    free(D->hits);
}

/* The training inputs have no noise: exact when their means round right (ntk.md: they do).
 * For coordinate 0 that is e_0 (target 1, mean mu_in(1)) and the others (target 0, mu_out(1)). */
static bool training_exact(const sb_ntk_gp *gp)
{
    sb_ntk_stats s;
    return sb_ntk_stats_at(gp, 1, &s) == 0 && s.mu_in > SB_NTK_ROUND_EPS &&
           !(s.mu_out > SB_NTK_ROUND_EPS);
}

/* Wilson's 95% interval for a binomial proportion. */
static void wilson(double p, double n, double *lo, double *hi)
{
    const double z = 1.959963984540054;
    double den = 1.0 + z * z / n, centre = (p + z * z / (2.0 * n)) / den;
    double half = z / den * sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n));
    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
}

static void record_p(const run *R, const draws *D, sb_ntk_cov_result *out)
{
    double k = R->cfg->gp.k, n = (double)R->cfg->samples;
    bool train = training_exact(&R->cfg->gp);
    for (int m = 0; m < D->nM; m++) {
        double p = train ? (double)D->hits[m] / n : 0.0, lo, hi;
        wilson(p, n, &lo, &hi);
        out->p_coordinate[m] = p;
        out->p_all_exact[m] = pow(p, k);
        out->p_ci_low[m] = pow(lo, k);
        out->p_ci_high[m] = pow(hi, k);
    }
}

/* Collective: the caller's step boundary (signals, checkpoints), when it gave one. */
static int at_boundary(const run *R)
{
    return R->cfg->boundary ? R->cfg->boundary(R->cfg->boundary_arg) : 0;
}

/* Collective: the draws through the factor L.  Agreed. */
static int sample(run *R, const sb_ntk_dmat *L, const uint64_t *masks, sb_ntk_cov_result *out)
{
    char why[256] = "";
    sb_ntk_dmat Z;
    draws D;
    uint64_t before = R->held;
    MPI_Barrier(R->ctx->comm);
    double t0 = MPI_Wtime(), last = t0;
    int err = sb_ctx_agree_report(R->ctx, draws_alloc(R, L, masks, &Z, &D, why, sizeof why), why);
    int64_t S = R->cfg->samples, full_b = D.b;
    for (int64_t d0 = 0; err == 0 && d0 < S; d0 += full_b) {
        D.b = (int)(S - d0 < full_b ? S - d0 : full_b);
        err = one_batch(R, L, &Z, d0, &D);
        if (err == 0)
            err = at_boundary(R);
        if (MPI_Wtime() - last > NOTE_EVERY) {
            last = MPI_Wtime();
            sb_step_note(R->step, "ntk cov: %" PRId64 " of %" PRId64 " draws (%.0f s)", d0 + D.b, S,
                         last - t0);
        }
    }
    if (err == 0)
        record_p(R, &D, out);
    draws_free(&Z, &D);
    R->held = before;
    if (R->step)
        sb_step_time(R->step, "samples", MPI_Wtime() - t0);
    out->sample_seconds = elapsed_max(R, t0);
    if (err == 0)
        sb_step_note(R->step, "ntk cov: %" PRId64 " draws in %.2f s", S, out->sample_seconds);
    return err;
}

/* ---- stage 3: spectrum ----------------------------------------------------------------------- */

typedef struct eig {
    sb_ntk_dmat Z;
    double *work;
    int *iwork;
    int lwork, liwork;
} eig;

/* pdsyevd's eigenvector matrix and workspace (sized by its own query).  Local. */
static int eig_alloc(run *R, sb_ntk_dmat *A, double *w, eig *E, char *why, size_t size)
{
    memset(E, 0, sizeof *E);
    int err = sb_ntk__dmat_alloc(&R->grid, A->m, A->m, A->nb, &E->Z, why, size);
    if (err != 0 || !sb_ntk__in_grid(&R->grid))
        return err;
    hold(R, (uint64_t)E->Z.lld * (E->Z.nloc > 1 ? E->Z.nloc : 1) * 8);
    int one = 1, query = -1, info = 0, iq = 0;
    double wq = 0.0;
    pdsyevd_("V", "L", &A->m, A->a, &one, &one, A->desc, w, E->Z.a, &one, &one, E->Z.desc, &wq,
             &query, &iq, &query, &info);
    if (info != 0 || !(wq < INT_MAX)) {
        snprintf(why, size, "ntk cov: pdsyevd's workspace query failed with info = %d", info);
        return SB_EINTERNAL;
    }
    int64_t np = sb_numroc(A->m, A->nb, R->grid.myrow, 0, R->grid.nprow);
    int64_t nq = sb_numroc(A->m, A->nb, R->grid.mycol, 0, R->grid.npcol);
    int64_t sort = lasrt_work(A->m, A->nb, np, nq);
    if (sort > INT_MAX) {
        snprintf(why, size, "ntk cov: pdsyevd's workspace exceeds 2^31 doubles");
        return SB_EINTERNAL;
    }
    E->lwork = (int)wq > sort ? (int)wq : (int)sort;
    E->liwork = iq;
    E->work = malloc((size_t)E->lwork * sizeof *E->work);
    E->iwork = malloc((size_t)E->liwork * sizeof *E->iwork);
    if (!E->work || !E->iwork) {
        snprintf(why, size, "ntk cov: out of memory for pdsyevd's workspace (%.3g GB)",
                 (double)E->lwork * 8 / 1e9);
        return SB_ENOMEM;
    }
    hold(R, (uint64_t)E->lwork * 8 + (uint64_t)E->liwork * sizeof(int));
    return 0;
}

static void eig_free(eig *E)
{
    sb_ntk__dmat_free(&E->Z);
    free(E->work);
    free(E->iwork);
}

static int eig_solve(run *R, sb_ntk_dmat *A, double *w, eig *E)
{
    char why[256] = "";
    int info = 0, one = 1;
    if (sb_ntk__in_grid(&R->grid))
        pdsyevd_("V", "L", &A->m, A->a, &one, &one, A->desc, w, E->Z.a, &one, &one, E->Z.desc,
                 E->work, &E->lwork, E->iwork, &E->liwork, &info);
    if (info != 0)
        snprintf(why, sizeof why, "ntk cov: pdsyevd failed with info = %d on the %d x %d matrix",
                 info, A->m, A->m);
    int err = sb_ctx_agree_report(R->ctx, info != 0 ? SB_EINTERNAL : 0, why);
    /* Rank 0 is always in the grid (place 0, 0); ranks outside it get the values from it. */
    if (err == 0 && MPI_Bcast(w, A->m, MPI_DOUBLE, 0, R->ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    return sb_ctx_agree_report(R->ctx, err, "ntk cov: MPI_Bcast of the eigenvalues");
}

/* Rank and condition from the ascending eigenvalues; the k smallest belong to the training
 * inputs' zero rows. */
static void spectrum_numbers(int k, int64_t N, const double *w, sb_ntk_cov_result *out)
{
    double big = fmax(fabs(w[0]), fabs(w[N - 1]));
    out->rank = 0;
    for (int64_t i = 0; i < N; i++)
        out->rank += fabs(w[i]) > 1e-10 * big;
    out->condition = N > k ? w[N - 1] / w[k] : NAN;
}

static int spectrum(run *R, sb_ntk_cov_result *out)
{
    uint64_t *masks = NULL, before = R->held;
    int64_t N = 0;
    sb_ntk_dmat A;
    char why[256] = "";
    int err = build(R, 1, &A, &masks, &N);
    if (err != 0)
        return err;
    double t1 = MPI_Wtime();
    sb_step_note(R->step, "ntk cov: spectrum of the %" PRId64 " x %" PRId64 " covariance", N, N);
    eig E;
    memset(&E, 0, sizeof E);
    out->eigenvalues = malloc((size_t)N * sizeof *out->eigenvalues);
    err = out->eigenvalues ? eig_alloc(R, &A, out->eigenvalues, &E, why, sizeof why) : SB_ENOMEM;
    hold(R, (uint64_t)N * sizeof(double));
    err = sb_ctx_agree_report(R->ctx, err, why);
    if (err == 0)
        err = eig_solve(R, &A, out->eigenvalues, &E);
    if (err == 0)
        spectrum_numbers(R->cfg->gp.k, N, out->eigenvalues, out);
    eig_free(&E);
    drop(R, &A, &masks, N);
    R->held = before;
    if (R->step)
        sb_step_time(R->step, "spectrum", MPI_Wtime() - t1);
    out->spectrum_seconds = elapsed_max(R, t1);
    return err;
}

/* ---- the run --------------------------------------------------------------------------------- */

static int result_init(const sb_ntk_cov_cfg *cfg, sb_ntk_cov_result *out)
{
    memset(out, 0, sizeof *out);
    out->rank = -1;
    out->condition = NAN;
    out->nM = cfg->nM;
    out->block_size = cfg->block_size;
    size_t m = (size_t)(cfg->nM > 0 ? cfg->nM : 1);
    out->M = malloc(m * sizeof(double));
    out->p_all_exact = malloc(m * sizeof(double));
    out->p_ci_low = malloc(m * sizeof(double));
    out->p_ci_high = malloc(m * sizeof(double));
    out->p_coordinate = malloc(m * sizeof(double));
    if (!out->M || !out->p_all_exact || !out->p_ci_low || !out->p_ci_high || !out->p_coordinate)
        return SB_ENOMEM;
    for (int i = 0; i < cfg->nM; i++) {
        out->M[i] = cfg->M[i];
        out->p_all_exact[i] = out->p_ci_low[i] = out->p_ci_high[i] = NAN;
        out->p_coordinate[i] = NAN;
    }
    return 0;
}

void sb_ntk_cov_result_free(sb_ntk_cov_result *r)
{
    if (!r)
        return;
    free(r->eigenvalues);
    free(r->M);
    free(r->p_all_exact);
    free(r->p_ci_low);
    free(r->p_ci_high);
    free(r->p_coordinate);
    r->eigenvalues = r->M = r->p_all_exact = r->p_ci_low = r->p_ci_high = r->p_coordinate = NULL;
}

/* Collective: checks cfg (agreed, rank 0 says why) and opens the grid. */
static int start(run *R, sb_ntk_cov_result *out)
{
    const char *why = R->cfg ? cfg_problem(R->cfg, R->ctx->size) : "no configuration";
    char line[300] = "";
    if (why)
        snprintf(line, sizeof line, "ntk cov: %s", why);
    int err = sb_ctx_agree_report(R->ctx, why ? SB_EINPUT : 0, line);
    if (err != 0)
        return err;
    err = sb_ctx_agree_report(R->ctx, result_init(R->cfg, out), "ntk cov: out of memory");
    if (err != 0) {
        sb_ntk_cov_result_free(out);
        return err;
    }
    shape s = shape_of(R->cfg, R->ctx->size);
    sb_ntk__grid_open(R->ctx, s.rows, s.cols, &R->grid);
    out->grid_rows = s.rows;
    out->grid_cols = s.cols;
    out->n = s.n;
    char b[32];
    sb_fmt_bytes(b, sizeof b, (double)sb_ntk_cov_bytes_per_rank(R->cfg, R->ctx->size));
    sb_step_note(R->step,
                 "ntk cov: %" PRId64 " inputs (weights 2..%d of k = %d) on a %d x %d grid, "
                 "blocks of %d, %s per rank",
                 s.n, R->cfg->max_weight, R->cfg->gp.k, s.rows, s.cols, R->cfg->block_size, b);
    return 0;
}

static int factor_and_sample(run *R, sb_ntk_cov_result *out)
{
    sb_ntk_dmat A;
    uint64_t *masks = NULL;
    int64_t n = 0;
    int err = build(R, 2, &A, &masks, &n);
    if (err != 0)
        return err;
    err = factor(R, &A, out);
    if (err == 0)
        sb_step_note(R->step, "ntk cov: cholesky of order %" PRId64 " in %.2f s (%.1f GFLOP/s)", n,
                     out->cholesky_seconds, out->cholesky_gflops);
    if (err == 0)
        err = at_boundary(R);
    if (err == 0 && sampling(R->cfg))
        err = sample(R, &A, masks, out);
    drop(R, &A, &masks, n);
    return err;
}

int sb_ntk_cov__run_peak(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg, sb_step *step,
                         sb_ntk_cov_result *out, uint64_t *peak)
{
    run R = {.ctx = ctx, .cfg = cfg, .step = step};
    int err = start(&R, out);
    if (err != 0)
        return err;
    err = factor_and_sample(&R, out);
    if (err == 0 && cfg->spectrum)
        err = at_boundary(&R);
    if (err == 0 && cfg->spectrum)
        err = spectrum(&R, out);
    sb_ntk__grid_close(&R.grid);
    if (err != 0)
        sb_ntk_cov_result_free(out);
    if (peak) {
        *peak = R.peak;
        MPI_Allreduce(&R.peak, peak, 1, MPI_UINT64_T, MPI_MAX, ctx->comm);
    }
    return err;
}

int sb_ntk_cov_run(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg, sb_step *step,
                   sb_ntk_cov_result *out)
{
    return sb_ntk_cov__run_peak(ctx, cfg, step, out, NULL);
}

int sb_ntk_cov__gather(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg, bool with_training,
                       bool factored, double *full)
{
    sb_ntk_cov_result out;
    run R = {.ctx = ctx, .cfg = cfg};
    int err = start(&R, &out);
    if (err != 0)
        return err;
    sb_ntk_dmat A;
    uint64_t *masks = NULL;
    int64_t n = 0;
    err = build(&R, with_training ? 1 : 2, &A, &masks, &n);
    if (err == 0 && factored)
        err = factor(&R, &A, &out);
    if (err == 0 && factored && sb_ntk__in_grid(&R.grid) && n > 1) {
        /* pdpotrf leaves the strictly upper triangle as it was */
        int m = (int)n - 1, one = 1, two = 2;
        double zero = 0.0;
        pdlaset_("U", &m, &m, &zero, &zero, A.a, &one, &two, A.desc);
    }
    if (err == 0)
        err = sb_ntk__dmat_gather(ctx, &R.grid, &A, full);
    if (masks)
        drop(&R, &A, &masks, n);
    sb_ntk__grid_close(&R.grid);
    sb_ntk_cov_result_free(&out);
    return err;
}
