/* Distributed ntk ensembles (ntk_ensemble.h): the results at the running number of ranks are
 * bitwise those of a serial recomputation (every rank redoes the whole ensemble alone on
 * MPI_COMM_SELF), whatever the sizes of the advances; a checkpoint saved part-way and loaded
 * into a fresh ensemble (on all ranks, or on one rank alone) continues to the same bits; and
 * the numbers are sane (fractions in [0, 1], training inputs exact from one member on).
 *
 * Run at 1, 2 and 4 ranks.  A failed check prints where and aborts every rank. */
#define _GNU_SOURCE /* mkdtemp */

#include "abortcheck.h"

#include "symbatch/ckpt.h"
#include "symbatch/comm.h"
#include "symbatch/error.h"
#include "symbatch/ntk_ensemble.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define K       5
#define MEMBERS 23

static const int PERM[K] = {3, 0, 4, 2, 1};
static const int64_t GRID[] = {1, 2, 5, 7};

static sb_ntk_ens_cfg config(sb_ntk_param param, int min_w, int max_w)
{
    sb_ntk_ens_cfg c = {.train = {.k = K,
                                  .width = 96,
                                  .param = param,
                                  .sigma_w = 1.0,
                                  .learning_rate = 1.0,
                                  .epochs = 1000,
                                  .tolerance = 1e-24,
                                  .seed = 99,
                                  .perm = PERM},
                        .min_weight = min_w,
                        .max_weight = max_w,
                        .members = MEMBERS,
                        .M = GRID,
                        .nM = 4};
    return c;
}

/* The ensemble after advances of the given sizes (ending at 0). */
static void run(const sb_ntk_ens_cfg *c, const sb_ctx *ctx, const int64_t *steps,
                sb_ntk_ens_result *r)
{
    sb_ntk_ens *e = NULL;
    CHECK_RC(sb_ntk_ens_create(&e, c, ctx), 0);
    for (int i = 0; steps[i]; i++)
        CHECK_RC(sb_ntk_ens_advance(e, steps[i], NULL), 0);
    CHECK_RC(sb_ntk_ens_result_get(e, r), 0);
    sb_ntk_ens_free(e);
}

#define SAME(a, b, n) CHECK(memcmp((a), (b), (size_t)(n) * sizeof *(a)) == 0)

/* Every array and number of the result, bit for bit. */
static void check_same_result(const sb_ntk_ens_result *a, const sb_ntk_ens_result *b)
{
    CHECK(a->k == b->k && a->nM == b->nM && a->members == b->members);
    const int k = a->k, nM = a->nM;
    SAME(a->M, b->M, nM);
    SAME(a->groups, b->groups, nM);
    SAME(a->accuracy, b->accuracy, nM);
    SAME(a->p_all_exact, b->p_all_exact, nM);
    SAME(a->accuracy_by_weight, b->accuracy_by_weight, nM * k);
    SAME(a->mean_by_weight, b->mean_by_weight, 2 * k);
    SAME(a->variance_by_weight, b->variance_by_weight, 2 * k);
    SAME(a->size90_by_weight, b->size90_by_weight, k);
    SAME(&a->epochs_mean, &b->epochs_mean, 1);
    SAME(&a->loss_max, &b->loss_max, 1);
    CHECK(a->not_converged == b->not_converged);
}

/* Identical on every rank: rank 0's result broadcast and compared. */
static void check_everywhere_same(const sb_ctx *ctx, const sb_ntk_ens_result *r)
{
    double d[4] = {r->accuracy[r->nM - 1], r->p_all_exact[0], r->mean_by_weight[3],
                   r->variance_by_weight[3]};
    double d0[4];
    memcpy(d0, d, sizeof d);
    MPI_Bcast(d0, 4, MPI_DOUBLE, 0, ctx->comm);
    CHECK(memcmp(d, d0, sizeof d) == 0);
}

static void check_sane(const sb_ntk_ens_result *r, int min_w, int max_w)
{
    CHECK(r->members == MEMBERS && r->not_converged == 0 && r->loss_max <= 1e-24);
    CHECK(r->epochs_mean > 5 && r->epochs_mean < 300);
    for (int g = 0; g < r->nM; g++) {
        CHECK(r->M[g] == GRID[g] && r->groups[g] == MEMBERS / GRID[g]);
        CHECK(r->accuracy[g] >= 0 && r->accuracy[g] <= 1);
        CHECK(r->p_all_exact[g] >= 0 && r->p_all_exact[g] <= 1);
        CHECK(r->p_all_exact[g] <= r->accuracy[g]);
        for (int h = 1; h <= K; h++) {
            double a = r->accuracy_by_weight[g * K + h - 1];
            CHECK(h < min_w || h > max_w ? isnan(a) : (a >= 0 && a <= 1));
        }
    }
    /* Larger ensembles are more accurate (a sanity check of the grouping, not a theorem for
     * every draw; these seeds give a clear margin). */
    CHECK(r->accuracy[r->nM - 1] > r->accuracy[0]);
    for (int h = min_w; h <= max_w; h++) {
        CHECK(r->mean_by_weight[2 * (h - 1)] > 0.05); /* coordinates whose target is 1 */
        CHECK(r->variance_by_weight[2 * (h - 1)] > 0);
        if (h < K)
            CHECK(r->mean_by_weight[2 * (h - 1) + 1] < 0.05);
        else
            CHECK(isnan(r->mean_by_weight[2 * (h - 1) + 1])); /* no target-0 coordinate */
        int64_t s = r->size90_by_weight[h - 1];
        CHECK(s == -1 || (s >= 1 && s <= MEMBERS));
    }
    if (min_w == 1) {
        /* Training inputs: every residual is below the rounding threshold, so exact at once. */
        CHECK(r->size90_by_weight[0] == 1);
        for (int g = 0; g < r->nM; g++)
            CHECK(r->accuracy_by_weight[g * K] == 1.0);
        CHECK(fabs(r->mean_by_weight[0] - 1) < 1e-9 && fabs(r->mean_by_weight[1]) < 1e-9);
    }
}

static void save_after(const sb_ntk_ens_cfg *c, const sb_ctx *ctx, const char *path, int64_t n)
{
    sb_ntk_ens *e = NULL;
    CHECK_RC(sb_ntk_ens_create(&e, c, ctx), 0);
    CHECK_RC(sb_ntk_ens_advance(e, n, NULL), 0);
    sb_ckpt ck;
    CHECK_RC(sb_ckpt_create(&ck, ctx, path, 1), 0);
    CHECK_RC(sb_ntk_ens_save(e, &ck), 0);
    CHECK_RC(sb_ckpt_commit(&ck), 0);
    sb_ntk_ens_free(e);
}

/* A fresh ensemble loads the checkpoint and finishes the members. */
static void resume(const sb_ntk_ens_cfg *c, const sb_ctx *ctx, const char *path, int64_t at,
                   sb_ntk_ens_result *r)
{
    sb_ntk_ens *e = NULL;
    CHECK_RC(sb_ntk_ens_create(&e, c, ctx), 0);
    sb_ckpt ck;
    CHECK_RC(sb_ckpt_open(&ck, ctx, path), 0);
    CHECK_RC(sb_ntk_ens_load(e, &ck), 0);
    sb_ckpt_close(&ck);
    CHECK(sb_ntk_ens_done(e) == at);
    CHECK_RC(sb_ntk_ens_advance(e, MEMBERS - at, NULL), 0);
    CHECK_RC(sb_ntk_ens_result_get(e, r), 0);
    sb_ntk_ens_free(e);
}

/* A checkpoint of another shape (other weights) is refused, on every rank. */
static void check_refused(const sb_ctx *ctx, const char *path)
{
    sb_ntk_ens_cfg other = config(SB_NTK_PARAM_NTK, 2, 3);
    sb_ntk_ens *e = NULL;
    CHECK_RC(sb_ntk_ens_create(&e, &other, ctx), 0);
    sb_ctx quiet = *ctx;
    FILE *err = tmpfile();
    CHECK(err != NULL);
    quiet.err = err;
    sb_ckpt ck;
    CHECK_RC(sb_ckpt_open(&ck, &quiet, path), 0);
    int rc = sb_ntk_ens_load(e, &ck);
    check_same(ctx, rc);
    CHECK(rc == SB_ECKPT);
    CHECK(sb_ntk_ens_done(e) == 0);
    sb_ckpt_close(&ck);
    fclose(err);
    sb_ntk_ens_free(e);
}

static void check_config(const sb_ctx *world, const sb_ctx *self, const char *dir,
                         sb_ntk_param param, int min_w, int max_w)
{
    sb_ntk_ens_cfg c = config(param, min_w, max_w);
    const int64_t all[] = {MEMBERS, 0}, pieces[] = {3, 1, 8, 4, 7, 0};
    sb_ntk_ens_result straight, serial, split, resumed, resumed_self;
    run(&c, world, all, &straight);
    check_sane(&straight, min_w, max_w);
    check_everywhere_same(world, &straight);

    run(&c, self, pieces, &serial); /* every rank alone, in other pieces */
    check_same_result(&straight, &serial);
    run(&c, world, pieces, &split);
    check_same_result(&straight, &split);

    /* Saved on all ranks after 9 members; resumed on all ranks, and on every rank alone. */
    char path[4200];
    snprintf(path, sizeof path, "%s/ens-%d.ckpt.h5", dir, (int)param);
    save_after(&c, world, path, 9);
    resume(&c, world, path, 9, &resumed);
    check_same_result(&straight, &resumed);
    resume(&c, self, path, 9, &resumed_self);
    check_same_result(&straight, &resumed_self);
    check_refused(world, path);
    CHECK_RC(sb_ckpt_remove(world, path), 0);

    sb_ntk_ens_result_free(&straight);
    sb_ntk_ens_result_free(&serial);
    sb_ntk_ens_result_free(&split);
    sb_ntk_ens_result_free(&resumed);
    sb_ntk_ens_result_free(&resumed_self);
}

/* Bad configurations and advances are refused on every rank. */
static void check_bad(const sb_ctx *ctx)
{
    sb_ntk_ens *e = NULL;
    sb_ntk_ens_cfg c = config(SB_NTK_PARAM_NTK, 1, K);
    int64_t bad_grid[] = {2, 2};
    c.M = bad_grid;
    c.nM = 2;
    CHECK_RC(sb_ntk_ens_create(&e, &c, ctx), SB_EINPUT);
    c = config(SB_NTK_PARAM_NTK, 1, K);
    c.members = 6; /* below the largest M */
    CHECK_RC(sb_ntk_ens_create(&e, &c, ctx), SB_EINPUT);
    c = config(SB_NTK_PARAM_NTK, 1, K);
    int perm[K] = {0, 0, 1, 2, 3};
    c.train.perm = perm;
    CHECK_RC(sb_ntk_ens_create(&e, &c, ctx), SB_EINPUT);
    c = config(SB_NTK_PARAM_NTK, 1, K);
    CHECK_RC(sb_ntk_ens_create(&e, &c, ctx), 0);
    CHECK_RC(sb_ntk_ens_advance(e, MEMBERS + 1, NULL), SB_EINPUT);
    CHECK(sb_ntk_ens_done(e) == 0);
    sb_ntk_ens_free(e);
    CHECK(sb_ntk_ens_bytes(&c, 2, 10, true) > sb_ntk_ens_bytes(&c, 2, 10, false));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx world, self;
    CHECK_RC(sb_ctx_init(&world, MPI_COMM_WORLD), 0);
    CHECK_RC(sb_ctx_init(&self, MPI_COMM_SELF), 0);
    char dir[256] = "/tmp/sb-test-ntk-ens-XXXXXX";
    if (world.rank == 0)
        CHECK(mkdtemp(dir) != NULL);
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, world.comm);

    check_config(&world, &self, dir, SB_NTK_PARAM_NTK, 1, K);
    check_config(&world, &self, dir, SB_NTK_PARAM_STANDARD, 2, 4);
    check_bad(&world);

    MPI_Barrier(world.comm);
    if (world.rank == 0) {
        rmdir(dir);
        printf("test_ntk_ensemble_mpi: passed at %d ranks\n", world.size);
    }
    sb_ctx_free(&self);
    sb_ctx_free(&world);
    MPI_Finalize();
    return 0;
}
