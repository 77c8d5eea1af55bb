/* Full mode over a group's own perfect hash (rank scheme "bsgs"): the 2x2x2 cube with a fixed
 * corner (HTM, 9 generators) as a Cayley graph, 3,674,160 states, the published distance row,
 * the same layers as frontier mode; top_spin(9, 4), whose group is A_9, in a table of 9!/2
 * states instead of 9!; the distance table's histogram equals the layer sizes.  At 1, 2 and 4
 * ranks.  SB_TEST_QUICK (the sanitizer pass) leaves out the cube. */
#define _GNU_SOURCE /* mkdtemp */
#include "mpicheck.h"

#include "symbatch/ckpt.h"
#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/growth.h"
#include "symbatch/perm.h"
#include "symbatch/step.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run_step(const sb_ctx *ctx, const char *family, int n, int k, int mode, bool distances,
                    sb_step *step, sb_growth_result *r)
{
    sb_growth_spec spec;
    memset(&spec, 0, sizeof spec);
    sb_diag d;
    sb_diag_init(&d);
    int err = sb_genset_family(&spec.gens, family, n, k, &d);
    sb_diag_free(&d);
    if (err)
        return err;
    uint8_t central[SB_MAX_ELEMS];
    for (int i = 0; i < spec.gens.m; i++)
        central[i] = (uint8_t)i; /* the group itself, not the puzzle's colourings */
    spec.central = central;
    spec.central_len = spec.gens.m;
    spec.mode = mode;
    spec.max_layers = spec.max_layer_size = -1;
    spec.store_last_layer = 4;
    spec.store_distances = distances;
    spec.shared_memory = true;
    memset(r, 0, sizeof *r);
    err = mode == SB_MODE_FULL ? sb_growth_full(&spec, ctx, step, r)
                               : sb_growth_frontier(&spec, ctx, step, r);
    sb_genset_free(&spec.gens);
    return err;
}

static int run(const sb_ctx *ctx, const char *family, int n, int k, int mode, bool distances,
               sb_growth_result *r)
{
    return run_step(ctx, family, n, k, mode, distances, NULL, r);
}

/* A bsgs-ranked run stopped after layer 6 and resumed from its checkpoint gives the layers and
 * the distance table of an uninterrupted one. */
static void test_resume(mpicheck *mc, const sb_ctx *ctx, const sb_growth_result *want)
{
    char dir[256] = "", path[300];
    if (ctx->rank == 0) {
        snprintf(dir, sizeof dir, "%s/sb-groups-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
            dir[0] = '\0';
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx->comm);
    snprintf(path, sizeof path, "%s/ts.ckpt.h5", dir);
    sb_step s;
    sb_step_init(&s, ctx, "growth", "layer");
    s.path = path;
    s.stop_after = 6;
    sb_growth_result r;
    CHECK(mc, run_step(ctx, "top_spin", 9, 4, SB_MODE_FULL, true, &s, &r) == SB_ESIGNAL,
          "resume: the stopped run");
    sb_growth_result_free(&r);
    sb_ckpt ck;
    CHECK(mc, sb_ckpt_open(&ck, ctx, path) == 0, "resume: open the checkpoint");
    sb_step_init(&s, ctx, "growth", "layer");
    s.path = path;
    s.resume = &ck;
    CHECK(mc, run_step(ctx, "top_spin", 9, 4, SB_MODE_FULL, true, &s, &r) == 0, "resume: run");
    sb_ckpt_close(&ck);
    CHECK(mc,
          s.resumed_step == 6 && r.nlayers == want->nlayers &&
              !memcmp(r.layer_sizes, want->layer_sizes, (size_t)r.nlayers * 8),
          "resume: the same layers (resumed at %lld)", (long long)s.resumed_step);
    uint64_t local = 0, all = 0, wlocal = 0, wall = 0;
    for (uint64_t i = 0; i < r.dist_count; i++)
        local += sb_mix64((r.dist_offset + i) * 1000 + r.distances[i]);
    for (uint64_t i = 0; i < want->dist_count; i++)
        wlocal += sb_mix64((want->dist_offset + i) * 1000 + want->distances[i]);
    MPI_Allreduce(&local, &all, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    MPI_Allreduce(&wlocal, &wall, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    CHECK(mc, all == wall, "resume: the same distance table");
    sb_growth_result_free(&r);
    sb_ckpt_remove(ctx, path);
    if (ctx->rank == 0)
        rmdir(dir);
}

/* The distance table's histogram (over all ranks) equals the layer sizes. */
static void check_histogram(mpicheck *mc, const sb_ctx *ctx, const sb_growth_result *r,
                            const char *what)
{
    uint64_t local[256] = {0}, all[256] = {0};
    for (uint64_t i = 0; i < r->dist_count; i++)
        local[r->distances[i]]++;
    MPI_Allreduce(local, all, 256, MPI_UINT64_T, MPI_SUM, ctx->comm);
    for (int d = 0; d < r->nlayers; d++)
        CHECK(mc, all[d] == r->layer_sizes[d],
              "%s: %" PRIu64 " states at distance %d, want %" PRIu64, what, all[d], d,
              r->layer_sizes[d]);
    CHECK(mc, all[255] == 0, "%s: %" PRIu64 " unreached ranks", what, all[255]);
}

static void test_cube(mpicheck *mc, const sb_ctx *ctx)
{
    const uint64_t want[] = {1,     9,      54,     321,     1847,   9992,
                             50136, 227536, 870072, 1887748, 623800, 2644};
    sb_growth_result full, front;
    CHECK(mc, run(ctx, "cube_fixed_htm", 2, -1, SB_MODE_FULL, true, &full) == 0, "cube full");
    CHECK(mc, !strcmp(full.rank_scheme, "bsgs") && full.space_size == 3674160,
          "cube: %s ranking of %" PRIu64 " states", full.rank_scheme, full.space_size);
    CHECK(mc, full.nlayers == 12 && !memcmp(full.layer_sizes, want, sizeof want),
          "cube: the published row");
    check_histogram(mc, ctx, &full, "cube");
    CHECK(mc, run(ctx, "cube_fixed_htm", 2, -1, SB_MODE_FRONTIER, false, &front) == 0,
          "cube frontier");
    CHECK(mc,
          front.nlayers == full.nlayers &&
              !memcmp(front.layer_sizes, full.layer_sizes, 12 * sizeof(uint64_t)),
          "cube: frontier mode agrees");
    if (ctx->rank == 0)
        CHECK(mc,
              front.last_layer_rows == full.last_layer_rows &&
                  !memcmp(front.last_layer, full.last_layer, full.last_layer_rows * 24),
              "cube: the same last layer");
    sb_growth_result_free(&full);
    sb_growth_result_free(&front);
}

static void test_top_spin(mpicheck *mc, const sb_ctx *ctx)
{
    sb_growth_result r;
    CHECK(mc, run(ctx, "top_spin", 9, 4, SB_MODE_FULL, true, &r) == 0, "top_spin full");
    CHECK(mc, !strcmp(r.rank_scheme, "bsgs") && r.space_size == 181440,
          "top_spin(9,4): %s ranking of %" PRIu64 " states, want bsgs of 9!/2", r.rank_scheme,
          r.space_size);
    CHECK(mc, r.num_states == 181440 && r.completed, "top_spin(9,4): %" PRIu64 " states",
          r.num_states);
    check_histogram(mc, ctx, &r, "top_spin");
    test_resume(mc, ctx, &r);
    sb_growth_result_free(&r);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    sb_ctx_init(&ctx, MPI_COMM_WORLD);
    mpicheck mc = {.rank = ctx.rank};
    test_top_spin(&mc, &ctx);
    const char *quick = getenv("SB_TEST_QUICK");
    if (!(quick && quick[0] == '1'))
        test_cube(&mc, &ctx);
    int rc = mpicheck_finish(&mc, ctx.comm, "test_groups");
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
