/* The ntk covariance on a ScaLAPACK grid (ntk_cov.h) against the serial LAPACKE ground truth of
 * ntk.h: the gathered matrix and its Cholesky factor (several blocks per rank, square, flat and
 * tall grids, grids that leave ranks idle), max_weight < k, the spectrum and its rank 2^k - 1 - k,
 * P(all exact) at k = 3 and 4 against ntk.md's exact values, draws that depend neither on the
 * grid nor on the batch and equal a serial count with the same normals, the memory estimate
 * against what a run held, and bad configurations refused alike on every rank.
 *
 * Run at 1, 2 and 4 ranks.  A failed check prints where and aborts every rank. */
#include "abortcheck.h"

#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/ntk.h"
#include "symbatch/ntk_cov.h"
#include "symbatch/step.h"

#include <lapacke.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double pi = 3.14159265358979323846;

static sb_ntk_cov_cfg base_cfg(int k, sb_ntk_kind kind)
{
    sb_ntk_cov_cfg c = {.gp = {.k = k, .sigma_w = 1.0, .kind = kind},
                        .max_weight = k,
                        .block_size = 4,
                        .seed = 12345};
    return c;
}

/* The grids to try at this rank count: automatic, flat, tall, and any that fits with idle
 * ranks. */
typedef struct grid {
    int rows, cols;
} grid;

static int grids_for(int size, grid *g)
{
    int n = 0;
    g[n++] = (grid){0, 0};
    g[n++] = (grid){1, size};
    if (size > 1)
        g[n++] = (grid){size, 1};
    if (size == 4) {
        g[n++] = (grid){2, 2};
        g[n++] = (grid){1, 2}; /* two ranks idle */
        g[n++] = (grid){3, 1}; /* one rank idle */
    }
    return n;
}

/* The masks of the dense ground truth's rows (increasing, training ones skipped or not). */
static int dense_masks(int k, int lo, int hi, unsigned *masks)
{
    int n = 0;
    for (unsigned x = 1; x < (1u << k); x++) {
        int h = __builtin_popcount(x);
        if (h >= lo && h <= hi)
            masks[n++] = x;
    }
    return n;
}

/* The row-major covariance over the inputs of weight 2..hi (of all 2^k - 1 - k rows), its lower
 * Cholesky factor by LAPACKE with the upper triangle zeroed. */
static double *serial_factor(const sb_ntk_gp *gp, int hi, int *n_out)
{
    int N = sb_ntk_dense_n(gp->k, 0);
    double *full = malloc((size_t)N * N * sizeof *full);
    unsigned all[4096], keep[4096];
    CHECK(full != NULL);
    CHECK_RC(sb_ntk_dense_cov(gp, 0, full), 0);
    CHECK(dense_masks(gp->k, 2, gp->k, all) == N);
    int n = dense_masks(gp->k, 2, hi, keep);
    double *a = malloc((size_t)n * n * sizeof *a);
    CHECK(a != NULL);
    for (int i = 0, ii = 0; i < N; i++) {
        if (__builtin_popcount(all[i]) > hi)
            continue;
        for (int j = 0, jj = 0; j < N; j++)
            if (__builtin_popcount(all[j]) <= hi)
                a[(size_t)ii * n + jj++] = full[(size_t)i * N + j];
        ii++;
    }
    free(full);
    CHECK(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, a, n) == 0);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            a[(size_t)i * n + j] = 0.0;
    *n_out = n;
    return a;
}

static double max_diff(const double *a, const double *b, size_t n)
{
    double d = 0.0;
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs(a[i] - b[i]));
    return d;
}

/* The gathered factor equals LAPACKE's at every grid (k = 7: 120 rows in blocks of 4, so many
 * blocks per rank), and the gathered matrix with the training inputs equals
 * sb_ntk_dense_cov's entry for entry. */
static void check_factor(const sb_ctx *ctx, int k, int max_weight, sb_ntk_kind kind)
{
    sb_ntk_cov_cfg cfg = base_cfg(k, kind);
    cfg.max_weight = max_weight;
    int n = 0;
    double *want = serial_factor(&cfg.gp, max_weight, &n);
    CHECK(n == sb_ntk_cov_order(k, max_weight, false));
    int N = sb_ntk_dense_n(k, 1);
    double *dense = malloc((size_t)N * N * sizeof *dense);
    double *got = malloc((size_t)N * N * sizeof *got);
    CHECK(dense && got);
    CHECK_RC(sb_ntk_dense_cov(&cfg.gp, 1, dense), 0);
    grid g[8];
    int ng = grids_for(ctx->size, g);
    for (int i = 0; i < ng; i++) {
        cfg.grid_rows = g[i].rows;
        cfg.grid_cols = g[i].cols;
        memset(got, 0, (size_t)N * N * sizeof *got);
        CHECK_RC(sb_ntk_cov__gather(ctx, &cfg, false, true, got), 0);
        if (ctx->rank == 0) {
            double d = max_diff(got, want, (size_t)n * n);
            if (!(d <= 1e-10))
                fprintf(stderr, "k %d, max_weight %d, grid %dx%d: factor off by %g\n", k,
                        max_weight, g[i].rows, g[i].cols, d);
            CHECK(d <= 1e-10);
        }
        if (max_weight == k) {
            CHECK_RC(sb_ntk_cov__gather(ctx, &cfg, true, false, got), 0);
            /* exactly symmetric, and sb_ntk_dense_cov's entries up to the rounding of the
             * closed form's two argument orders */
            if (ctx->rank == 0) {
                CHECK(max_diff(got, dense, (size_t)N * N) <= 1e-15);
                for (int r = 0; r < N; r++)
                    for (int c = 0; c < r; c++)
                        CHECK(got[(size_t)r * N + c] == got[(size_t)c * N + r]);
            }
        }
    }
    free(want);
    free(dense);
    free(got);
}

/* Eigenvalues against LAPACKE_dsyevd, the rank 2^k - 1 - k and the condition number. */
static void check_spectrum(const sb_ctx *ctx, int k, int rows, int cols, int nb)
{
    sb_ntk_cov_cfg cfg = base_cfg(k, SB_NTK_NTKGP);
    cfg.spectrum = true;
    cfg.block_size = nb;
    cfg.grid_rows = rows;
    cfg.grid_cols = cols;
    int N = sb_ntk_dense_n(k, 1);
    double *a = malloc((size_t)N * N * sizeof *a), *w = malloc((size_t)N * sizeof *w);
    CHECK(a && w);
    CHECK_RC(sb_ntk_dense_cov(&cfg.gp, 1, a), 0);
    CHECK(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', N, a, N, w) == 0);
    sb_ntk_cov_result r;
    CHECK_RC(sb_ntk_cov_run(ctx, &cfg, NULL, &r), 0);
    CHECK(r.eigenvalues != NULL && r.n == N - k);
    double d = max_diff(r.eigenvalues, w, (size_t)N);
    if (!(d <= 1e-10))
        fprintf(stderr, "k %d grid %dx%d: eigenvalues off by %g\n", k, rows, cols, d);
    CHECK(d <= 1e-10);
    for (int i = 1; i < N; i++)
        CHECK(r.eigenvalues[i - 1] <= r.eigenvalues[i]);
    CHECK(r.rank == (1 << k) - 1 - k);
    CHECK(fabs(r.condition / (w[N - 1] / w[k]) - 1.0) < 1e-6);
    CHECK(r.condition >= 1.0 && isfinite(r.condition));
    sb_ntk_cov_result_free(&r);
    free(a);
    free(w);
}

static double normal_at(uint64_t seed, uint64_t draw, uint64_t row)
{
    double u1 = 1.0 - sb_rand_unit(seed, draw, 2 * row);
    double u2 = sb_rand_unit(seed, draw, 2 * row + 1);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * pi * u2);
}

/* Exact draws of coordinate 0 counted serially with the same normals (keyed by draw and row). */
static long serial_hits(const sb_ntk_gp *gp, double m, long samples, uint64_t seed)
{
    int n = 0, k = gp->k;
    double *L = serial_factor(gp, k, &n);
    unsigned masks[4096];
    CHECK(dense_masks(k, 2, k, masks) == n);
    double z[4096];
    long hits = 0;
    for (long s = 0; s < samples; s++) {
        for (int i = 0; i < n; i++)
            z[i] = normal_at(seed, (uint64_t)s, (uint64_t)i);
        int ok = 1;
        for (int i = 0; i < n && ok; i++) {
            double x = 0.0;
            for (int j = 0; j <= i; j++)
                x += L[(size_t)i * n + j] * z[j];
            sb_ntk_stats st;
            CHECK_RC(sb_ntk_stats_at(gp, __builtin_popcount(masks[i]), &st), 0);
            int target = masks[i] & 1u;
            double v = (target ? st.mu_in : st.mu_out) + x / sqrt(m);
            ok = (v > SB_NTK_ROUND_EPS) == target;
        }
        hits += ok;
    }
    free(L);
    return hits;
}

/* ntk.md's exact P(all exact) within 3 standard errors of p^k, the standard error by the delta
 * method at the true p: k p^(k-1) sqrt(p (1 - p) / samples). */
static void check_probabilities(const sb_ctx *ctx, int k, const double *want)
{
    const double M[3] = {50, 200, 800};
    sb_ntk_cov_cfg cfg = base_cfg(k, SB_NTK_NTKGP);
    cfg.samples = 40000;
    cfg.M = M;
    cfg.nM = 3;
    sb_ntk_cov_result r;
    CHECK_RC(sb_ntk_cov_run(ctx, &cfg, NULL, &r), 0);
    CHECK(r.nM == 3);
    for (int i = 0; i < 3; i++) {
        double p0 = pow(want[i], 1.0 / k);
        double se = k * pow(p0, k - 1) * sqrt(p0 * (1.0 - p0) / (double)cfg.samples);
        double got = r.p_all_exact[i];
        if (ctx->rank == 0)
            printf("test_ntk_cov: k %d M %g: P(all exact) %.5f [%.5f, %.5f], ntk.md %.5f "
                   "(%.1f se)\n",
                   k, M[i], got, r.p_ci_low[i], r.p_ci_high[i], want[i], (got - want[i]) / se);
        CHECK(fabs(got - want[i]) <= 3.0 * se);
        CHECK(r.M[i] == M[i]);
        CHECK(fabs(pow(r.p_coordinate[i], k) - got) <= 1e-12);
        CHECK(r.p_ci_low[i] <= got && got <= r.p_ci_high[i]);
        CHECK(r.p_ci_high[i] - r.p_ci_low[i] < 8.0 * se + 1e-3);
    }
    sb_ntk_cov_result_free(&r);
}

/* p does not depend on the batch or the grid, and equals the serial count with the same keys. */
static void check_reproducible(const sb_ctx *ctx)
{
    const double M[2] = {50, 200};
    sb_ntk_cov_cfg cfg = base_cfg(4, SB_NTK_NTKGP);
    cfg.samples = 3000;
    cfg.M = M;
    cfg.nM = 2;
    double first[2] = {0, 0};
    grid g[8];
    int ng = grids_for(ctx->size, g);
    const int64_t batches[3] = {0, 7, 1000};
    for (int i = 0; i < ng; i++)
        for (int b = 0; b < 3; b++) {
            cfg.grid_rows = g[i].rows;
            cfg.grid_cols = g[i].cols;
            cfg.sample_batch = batches[b];
            sb_ntk_cov_result r;
            CHECK_RC(sb_ntk_cov_run(ctx, &cfg, NULL, &r), 0);
            for (int m = 0; m < 2; m++) {
                if (i == 0 && b == 0)
                    first[m] = r.p_coordinate[m];
                CHECK(r.p_coordinate[m] == first[m]);
            }
            sb_ntk_cov_result_free(&r);
        }
    for (int m = 0; m < 2; m++) {
        long hits = serial_hits(&cfg.gp, M[m], (long)cfg.samples, cfg.seed);
        if (hits != lround(first[m] * (double)cfg.samples))
            fprintf(stderr, "M %g: serial %ld exact draws, distributed %.0f\n", M[m], hits,
                    first[m] * (double)cfg.samples);
        CHECK(hits == lround(first[m] * (double)cfg.samples));
        CHECK(hits > 0 && hits < cfg.samples);
    }
    /* another seed gives other draws */
    cfg.seed = 99;
    cfg.sample_batch = 0;
    cfg.grid_rows = cfg.grid_cols = 0;
    sb_ntk_cov_result r;
    CHECK_RC(sb_ntk_cov_run(ctx, &cfg, NULL, &r), 0);
    CHECK(r.p_coordinate[0] != first[0] || r.p_coordinate[1] != first[1]);
    sb_ntk_cov_result_free(&r);
}

/* One run's peak against the estimate: equal up to 1%. */
static void check_peak(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg, sb_step *step)
{
    sb_ntk_cov_result r;
    uint64_t peak = 0, est = sb_ntk_cov_bytes_per_rank(cfg, ctx->size);
    CHECK_RC(sb_ntk_cov__run_peak(ctx, cfg, step, &r, &peak), 0);
    if (ctx->rank == 0)
        printf("test_ntk_cov: k %d at %d ranks (spectrum %d, batch %lld): held %llu bytes, "
               "estimate %llu\n",
               cfg->gp.k, ctx->size, cfg->spectrum, (long long)cfg->sample_batch,
               (unsigned long long)peak, (unsigned long long)est);
    CHECK(peak > 0 && peak <= est && est - peak <= est / 100);
    sb_ntk_cov_result_free(&r);
}

/* The estimate is what a run held at most, whichever stage decides (the spectrum; the draws
 * with a wide batch; the build); k = 16 does not fit on one 24 GB machine; more ranks need
 * less.  The step gets the four timers. */
static void check_memory(const sb_ctx *ctx)
{
    const double M[3] = {100, 200, 400};
    sb_ntk_cov_cfg cfg = base_cfg(7, SB_NTK_NTKGP);
    cfg.samples = 600;
    cfg.sample_batch = 64;
    cfg.M = M;
    cfg.nM = 3;
    cfg.spectrum = true;
    sb_step step;
    sb_step_init(&step, ctx, "ntk", "batch");
    step.show = true;
    step.out = ctx->rank == 0 ? tmpfile() : NULL;
    CHECK(ctx->rank != 0 || step.out);
    check_peak(ctx, &cfg, &step);
    if (ctx->rank == 0) {
        char notes[4096] = "";
        rewind(step.out);
        size_t got = fread(notes, 1, sizeof notes - 1, step.out);
        notes[got] = '\0';
        fclose(step.out);
        CHECK(strstr(notes, "ntk cov: 120 inputs") && strstr(notes, "cholesky of order 120") &&
              strstr(notes, "600 draws in") && strstr(notes, "spectrum of the 127 x 127"));
    }
    const char *phases[4] = {"cov_build", "cholesky", "samples", "spectrum"};
    for (int i = 0; i < 4; i++) {
        int found = 0;
        for (int t = 0; t < step.timers.n; t++)
            found |= strcmp(step.timers.name[t], phases[i]) == 0;
        CHECK(found);
    }
    cfg.spectrum = false;
    cfg.sample_batch = 500; /* Z wider than the matrix */
    check_peak(ctx, &cfg, NULL);
    cfg.samples = 0;
    check_peak(ctx, &cfg, NULL);

    sb_ntk_cov_cfg big = base_cfg(16, SB_NTK_NTKGP);
    big.block_size = 64;
    uint64_t one = sb_ntk_cov_bytes_per_rank(&big, 1), four = sb_ntk_cov_bytes_per_rank(&big, 4);
    CHECK(one > 24e9 && one < 40e9); /* one 65519^2 matrix: 34.3 GB */
    CHECK(four < one / 3 && four > one / 5);
    big.spectrum = true;
    CHECK(sb_ntk_cov_bytes_per_rank(&big, 1) > 3 * one); /* pdsyevd: Z and its workspace */
    big.max_weight = 3;
    CHECK(sb_ntk_cov_bytes_per_rank(&big, 1) < one / 50);
    big.max_weight = 1;
    CHECK(sb_ntk_cov_bytes_per_rank(&big, 1) == 0);
}

static void expect_bad(const sb_ctx *ctx, const sb_ntk_cov_cfg *cfg)
{
    sb_ntk_cov_result r;
    int rc = sb_ntk_cov_run(ctx, cfg, NULL, &r);
    check_same(ctx, rc);
    CHECK(rc == SB_EINPUT);
    CHECK(sb_ntk_cov_bytes_per_rank(cfg, ctx->size) == 0);
}

static void check_bad(const sb_ctx *ctx)
{
    const double M[2] = {50, -1};
    sb_ntk_cov_cfg good = base_cfg(4, SB_NTK_NTKGP), c = good;
    c.max_weight = 1;
    expect_bad(ctx, &c);
    c = good;
    c.max_weight = 5;
    expect_bad(ctx, &c);
    c = good;
    c.block_size = 0;
    expect_bad(ctx, &c);
    c = good;
    c.grid_rows = ctx->size + 1;
    c.grid_cols = 1;
    expect_bad(ctx, &c);
    c = good;
    c.grid_rows = 1; /* cols left 0 */
    expect_bad(ctx, &c);
    c = good;
    c.samples = 10;
    c.M = M;
    c.nM = 2;
    expect_bad(ctx, &c);
    c = good;
    c.gp.k = 65;
    c.max_weight = 2;
    expect_bad(ctx, &c);
    c = good;
    c.gp.sigma_w = 0.0;
    expect_bad(ctx, &c);

    CHECK(sb_ntk_cov_order(6, 6, false) == 57 && sb_ntk_cov_order(6, 6, true) == 63);
    CHECK(sb_ntk_cov_order(6, 3, false) == 35 && sb_ntk_cov_order(6, 3, true) == 41);
    CHECK(sb_ntk_cov_order(13, 13, false) == 8191 - 13);
    CHECK(sb_ntk_cov_order(64, 2, false) == 2016);
    CHECK(sb_ntk_cov_order(6, 1, false) == -1 && sb_ntk_cov_order(1, 2, true) == -1);
    /* a large k with small weights: 100 choose 2 inputs would pass 64-bit masks */
    CHECK(sb_ntk_cov_order(65, 2, false) == -1);
}

/* A large k with small weights runs (k = 40, weights 2: 780 inputs, masks past 32 bits). */
static void check_large_k(const sb_ctx *ctx)
{
    /* weight-2 zeros have z_out = 0.352 / k: at M = 400 about 3% of them fail each draw, at
     * M = 20000 none */
    const double M[2] = {400, 20000};
    sb_ntk_cov_cfg cfg = base_cfg(40, SB_NTK_NTKGP);
    cfg.max_weight = 2;
    cfg.block_size = 32;
    cfg.samples = 64;
    cfg.M = M;
    cfg.nM = 2;
    sb_ntk_cov_result r;
    CHECK_RC(sb_ntk_cov_run(ctx, &cfg, NULL, &r), 0);
    CHECK(r.n == 780);
    CHECK(r.p_coordinate[0] < 0.1 && r.p_coordinate[1] == 1.0);
    sb_ntk_cov_result_free(&r);
}

/* ScaLAPACK's failure is an error value on every rank with a message naming the routine and
 * info: with the training inputs the matrix is singular, and its first pivot (input e_0, whose
 * variance is 0 as computed) stops pdpotrf at info = 1. */
static void check_failure(sb_ctx *ctx)
{
    sb_ntk_cov_cfg cfg = base_cfg(7, SB_NTK_NTKGP);
    double v = 1.0;
    CHECK_RC(sb_ntk_joint_cov(&cfg.gp, 1, 1, 1, &v), 0);
    CHECK(v <= 0.0);
    int N = sb_ntk_dense_n(7, 1);
    double *full = malloc((size_t)N * N * sizeof *full);
    CHECK(full != NULL);
    FILE *saved = ctx->err, *log = ctx->rank == 0 ? tmpfile() : NULL;
    CHECK(ctx->rank != 0 || log);
    if (log)
        ctx->err = log;
    int rc = sb_ntk_cov__gather(ctx, &cfg, true, true, full);
    ctx->err = saved;
    check_same(ctx, rc);
    CHECK(rc == SB_EINTERNAL);
    if (log) {
        char text[1024] = "";
        rewind(log);
        text[fread(text, 1, sizeof text - 1, log)] = '\0';
        fclose(log);
        CHECK(strstr(text, "pdpotrf failed with info = 1") != NULL);
    }
    free(full);
}

/* The grid lives on ctx->comm, not on MPI_COMM_WORLD: two halves of the ranks (alone at one
 * rank) run their own grids at the same time. */
static void check_subcomm(const sb_ctx *world)
{
    MPI_Comm half;
    CHECK(MPI_Comm_split(world->comm, world->rank % 2, world->rank, &half) == MPI_SUCCESS);
    sb_ctx ctx;
    CHECK_RC(sb_ctx_init(&ctx, half), 0);
    check_factor(&ctx, 6, 6, SB_NTK_NTKGP);
    check_spectrum(&ctx, 5, 0, 0, 4);
    sb_ctx_free(&ctx);
    MPI_Comm_free(&half);
}

int main(int argc, char **argv)
{
    sb_blas_reexec(argv); /* the kernels symbatch itself runs (core.h) */
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    CHECK_RC(sb_ctx_init(&ctx, MPI_COMM_WORLD), 0);
    ctx.err = stdout; /* the refusals' messages go with the test's output */

    check_bad(&ctx);
    check_factor(&ctx, 7, 7, SB_NTK_NTKGP);
    check_factor(&ctx, 6, 6, SB_NTK_NNGP);
    check_factor(&ctx, 6, 3, SB_NTK_NTKGP);
    check_spectrum(&ctx, 2, 0, 0, 4); /* one non-training input, fewer rows than ranks */
    check_spectrum(&ctx, 3, 0, 0, 4);
    check_spectrum(&ctx, 6, 0, 0, 4);
    check_spectrum(&ctx, 7, 1, ctx.size, 4);
    /* Blocks as wide as the matrix: pdsyevd used to fail on one process and hang the others. */
    check_spectrum(&ctx, 6, 0, 0, 57);
    check_spectrum(&ctx, 6, 1, ctx.size, 1000);
    if (ctx.size == 4)
        check_spectrum(&ctx, 6, 2, 2, 4);
    const double k3[3] = {0.5219, 0.8773, 0.99913}, k4[3] = {0.1007, 0.6406, 0.99776};
    check_probabilities(&ctx, 3, k3);
    check_probabilities(&ctx, 4, k4);
    check_reproducible(&ctx);
    check_memory(&ctx);
    check_large_k(&ctx);
    check_failure(&ctx);
    check_subcomm(&ctx);
    if (ctx.rank == 0)
        printf("test_ntk_cov: passed at %d ranks\n", ctx.size);
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return 0;
}
