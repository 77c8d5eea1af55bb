/* Driver of tests/bench/ntk_cov_bench.sh (a measurement, never a test; built by the script).
 *   ntk_cov_bench chol K NB [ROWS COLS]     pdpotrf of the non-training covariance (ntk_cov.h)
 *   ntk_cov_bench lapacke K                 LAPACKE_dpotrf of the same matrix (one rank)
 *   ntk_cov_bench dgemm N                   cblas_dgemm N x N x N
 *   ntk_cov_bench draws K NB S BATCH M...   Cholesky, then S draws for each M
 * One line of key=value pairs on rank 0 (seconds, GFLOP/s). */
#include "symbatch/comm.h"
#include "symbatch/error.h"
#include "symbatch/ntk_cov.h"

#include <cblas.h>
#include <lapacke.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sb_ntk_cov_cfg cfg_for(int k, int nb)
{
    sb_ntk_cov_cfg c = {.gp = {.k = k, .sigma_w = 1.0, .kind = SB_NTK_NTKGP},
                        .max_weight = k,
                        .block_size = nb,
                        .seed = 1};
    return c;
}

static int chol(const sb_ctx *ctx, int argc, char **argv)
{
    sb_ntk_cov_cfg c = cfg_for(atoi(argv[2]), atoi(argv[3]));
    if (argc >= 6) {
        c.grid_rows = atoi(argv[4]);
        c.grid_cols = atoi(argv[5]);
    }
    sb_ntk_cov_result r;
    double t0 = MPI_Wtime();
    int rc = sb_ntk_cov_run(ctx, &c, NULL, &r);
    if (rc != 0)
        return rc;
    if (ctx->rank == 0)
        printf("what=pdpotrf k=%d n=%lld nb=%d grid=%dx%d seconds=%.3f gflops=%.2f total=%.3f\n",
               c.gp.k, (long long)r.n, c.block_size, r.grid_rows, r.grid_cols, r.cholesky_seconds,
               r.cholesky_gflops, MPI_Wtime() - t0);
    sb_ntk_cov_result_free(&r);
    return 0;
}

static int lapacke(const sb_ctx *ctx, char **argv)
{
    sb_ntk_cov_cfg c = cfg_for(atoi(argv[2]), 64);
    int64_t n = sb_ntk_cov_order(c.gp.k, c.max_weight, false);
    double *a = malloc((size_t)n * n * sizeof *a);
    if (!a)
        return SB_ENOMEM;
    int rc = sb_ntk_cov__gather(ctx, &c, false, false, a);
    if (rc == 0 && ctx->rank == 0) {
        double t0 = MPI_Wtime();
        /* symmetric: the row-major matrix is its own column-major transpose */
        int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (int)n, a, (int)n);
        double s = MPI_Wtime() - t0, f = (double)n * n * n / 3.0;
        printf("what=lapacke_dpotrf k=%d n=%lld info=%d seconds=%.3f gflops=%.2f\n", c.gp.k,
               (long long)n, info, s, f / s / 1e9);
    }
    free(a);
    return rc;
}

static int dgemm(const sb_ctx *ctx, char **argv)
{
    int n = atoi(argv[2]);
    double *a = malloc(3 * (size_t)n * n * sizeof *a);
    if (!a)
        return SB_ENOMEM;
    for (size_t i = 0; i < 3 * (size_t)n * n; i++)
        a[i] = (double)(i % 7) / 7.0 - 0.4;
    double *b = a + (size_t)n * n, *cc = b + (size_t)n * n;
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, 256, 256, 256, 1.0, a, n, b, n, 0.0, cc,
                n); /* warm up */
    double t0 = MPI_Wtime();
    cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, cc, n);
    double s = MPI_Wtime() - t0;
    if (ctx->rank == 0)
        printf("what=dgemm n=%d core=%s seconds=%.3f gflops=%.2f\n", n, openblas_get_corename(), s,
               2.0 * n * n * n / s / 1e9);
    free(a);
    return 0;
}

static int draws(const sb_ctx *ctx, int argc, char **argv)
{
    sb_ntk_cov_cfg c = cfg_for(atoi(argv[2]), atoi(argv[3]));
    c.samples = atoll(argv[4]);
    c.sample_batch = atoll(argv[5]);
    double M[16];
    c.nM = argc - 6 < 16 ? argc - 6 : 16;
    for (int i = 0; i < c.nM; i++)
        M[i] = atof(argv[6 + i]);
    c.M = M;
    sb_ntk_cov_result r;
    double t0 = MPI_Wtime();
    int rc = sb_ntk_cov_run(ctx, &c, NULL, &r);
    if (rc != 0)
        return rc;
    if (ctx->rank == 0) {
        printf("what=draws k=%d n=%lld nb=%d grid=%dx%d bytes_per_rank=%llu cholesky=%.3f "
               "gflops=%.2f samples=%lld sample_seconds=%.3f total=%.3f",
               c.gp.k, (long long)r.n, c.block_size, r.grid_rows, r.grid_cols,
               (unsigned long long)sb_ntk_cov_bytes_per_rank(&c, ctx->size), r.cholesky_seconds,
               r.cholesky_gflops, (long long)c.samples, r.sample_seconds, MPI_Wtime() - t0);
        for (int i = 0; i < r.nM; i++)
            printf(" P(M=%g)=%.5f[%.5f,%.5f]", r.M[i], r.p_all_exact[i], r.p_ci_low[i],
                   r.p_ci_high[i]);
        printf("\n");
    }
    sb_ntk_cov_result_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    int rc = sb_ctx_init(&ctx, MPI_COMM_WORLD);
    if (rc == 0) {
        const char *what = argc > 2 ? argv[1] : "";
        if (strcmp(what, "chol") == 0 && argc >= 4)
            rc = chol(&ctx, argc, argv);
        else if (strcmp(what, "lapacke") == 0)
            rc = lapacke(&ctx, argv);
        else if (strcmp(what, "dgemm") == 0)
            rc = dgemm(&ctx, argv);
        else if (strcmp(what, "draws") == 0 && argc >= 7)
            rc = draws(&ctx, argc, argv);
        else {
            rc = SB_EINPUT;
            if (ctx.rank == 0)
                fprintf(stderr, "usage: see tests/bench/ntk_cov_bench.c\n");
        }
        if (rc != 0 && ctx.rank == 0)
            fprintf(stderr, "ntk_cov_bench: %s\n", sb_strerror(rc));
        sb_ctx_free(&ctx);
    }
    MPI_Finalize();
    return rc == 0 ? 0 : 1;
}
