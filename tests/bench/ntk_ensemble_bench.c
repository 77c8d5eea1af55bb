/* Throughput of the ntk ensembles (ntk_ensemble.h): members trained and evaluated per second
 * per rank.  Built and run by ntk_ensemble_bench.sh:
 *   ntk_ensemble_bench K WIDTH MEMBERS PARAM(ntk|standard) [LR EPOCHS TOL MINW MAXW]
 * Prints, on rank 0, the seconds, members per second per rank, the timers and the fit. */
#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/ntk_ensemble.h"
#include "symbatch/step.h"

#include <mpi.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc < 5) {
        fprintf(stderr, "usage: %s K WIDTH MEMBERS ntk|standard [LR EPOCHS TOL]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    sb_ctx ctx;
    if (sb_ctx_init(&ctx, MPI_COMM_WORLD))
        return 1;
    int k = atoi(argv[1]), perm[64];
    for (int i = 0; i < k; i++)
        perm[i] = (i + 1) % k;
    int64_t M[] = {1, 10};
    sb_ntk_ens_cfg c = {
        .train = {.k = k,
                  .width = atoi(argv[2]),
                  .param = strcmp(argv[4], "ntk") ? SB_NTK_PARAM_STANDARD : SB_NTK_PARAM_NTK,
                  .sigma_w = 1.0,
                  .learning_rate = argc > 5 ? atof(argv[5]) : 1.0,
                  .epochs = argc > 6 ? atoll(argv[6]) : 1000,
                  .tolerance = argc > 7 ? atof(argv[7]) : 1e-24,
                  .seed = 7,
                  .perm = perm},
        .min_weight = argc > 8 ? atoi(argv[8]) : 1,
        .max_weight = argc > 9 ? atoi(argv[9]) : k,
        .members = atoll(argv[3]),
        .M = M,
        .nM = 2};
    sb_ntk_ens *e = NULL;
    sb_step step;
    sb_step_init(&step, &ctx, "ntk", "member");
    int rc = sb_ntk_ens_create(&e, &c, &ctx);
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    double t0 = sb_now();
    if (!rc)
        rc = sb_ntk_ens_advance(e, c.members, &step);
    double secs = sb_now() - t0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    /* CPU seconds of the slowest rank: on a shared machine wall time also counts the others. */
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    MPI_Allreduce(MPI_IN_PLACE, &cpu, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    sb_ntk_ens_result r;
    if (!rc)
        rc = sb_ntk_ens_result_get(e, &r);
    sb_timer_stats ts;
    if (!rc)
        rc = sb_step_timer_stats(&step, &ts);
    if (!rc && ctx.rank == 0) {
        printf("k %d width %d members %lld param %s ranks %d: %.2f s, %.2f members/s/rank "
               "(%.1f ms per member per rank)\n",
               k, c.train.width, (long long)c.members, argv[4], ctx.size, secs,
               c.members / secs / ctx.size, 1e3 * secs * ctx.size / c.members);
        printf("  cpu    max %.2f s (%.1f ms per member per rank)\n", cpu,
               1e3 * cpu * ctx.size / c.members);
        for (int i = 0; i < ts.n; i++)
            printf("  %-6s max %.2f s\n", ts.name[i], ts.max[i]);
        printf("  epochs mean %.1f, loss max %.3g, not converged %lld, accuracy(M=%lld) %.4f\n",
               r.epochs_mean, r.loss_max, (long long)r.not_converged, (long long)M[1],
               r.accuracy[1]);
        printf("  size90 by weight:");
        for (int h = c.min_weight; h <= c.max_weight; h++)
            printf(" %d:%lld", h, (long long)r.size90_by_weight[h - 1]);
        printf("\n");
    }
    if (!rc)
        sb_ntk_ens_result_free(&r);
    if (rc && ctx.rank == 0)
        fprintf(stderr, "failed: %s\n", sb_strerror(rc));
    sb_ntk_ens_free(e);
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc ? 1 : 0;
}
