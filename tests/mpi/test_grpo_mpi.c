/* The grpo kind over MPI (run at 1, 2 and 4 ranks): a growth job writes the distance table of
 * LRX S_6, then
 *   - the environment's start states lie at the requested distance (by the table, and by an
 *     independent reference BFS), and every state at that distance can come up;
 *   - training on all ranks gives bitwise the parameters and metric rows (all columns but the
 *     wall-clock steps_per_second) and evaluation rows of a serial run on MPI_COMM_SELF, for
 *     GRPO and for A-GRAE with KL, mu = 2 and dynamic sampling;
 *   - 10 updates + checkpoint + resume + 10 updates equal 20 straight, also resumed on another
 *     number of ranks (MPI_COMM_SELF);
 *   - groups whose rewards are all equal (every episode fails) give zero advantages and no NaN.
 * A failed check prints where and aborts every rank. */
#define _GNU_SOURCE /* mkdtemp */

#include "abortcheck.h"
#include "refbfs.h"

#include "grpo/grpo_impl.h"
#include "symbatch/ckpt.h"
#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/job.h"
#include "symbatch/run.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char folder[256];

/* A job from text (every rank parses the same text; problems abort). */
static void parse(sb_job *job, const char *text)
{
    sb_diag d;
    sb_diag_init(&d);
    int rc = sb_job_parse(job, "test.yaml", text, strlen(text), &d);
    if (rc != 0)
        fprintf(stderr, "%s\n", sb_diag_text(&d));
    sb_diag_free(&d);
    CHECK(rc == 0);
}

/* The growth job that writes the table. */
static void make_table(const sb_ctx *ctx, const char *path)
{
    char text[1024];
    snprintf(text, sizeof text,
             "kind: growth\noutput: %s\ngrowth:\n  generators: {family: lrx, n: 6}\n"
             "  mode: full\n  store_distances: true\n",
             path);
    sb_job job;
    parse(&job, text);
    sb_mem_estimate est;
    sb_diag d;
    sb_diag_init(&d);
    CHECK_RC(sb_job_check_budget(&job, ctx, &est, &d), 0);
    sb_run_opts opts = {.force = true, .quiet = true, .estimate = &est};
    CHECK_RC(sb_job_run(&job, ctx, &opts), 0);
    sb_diag_free(&d);
    sb_job_free(&job);
}

/* A small grpo job: LRX S_6 from the table (or random walks), an MLP [24], 4 groups of 4. */
static void grpo_job(sb_job *job, const char *extra, bool table, int updates)
{
    char text[2048];
    snprintf(text, sizeof text,
             "kind: grpo\noutput: %s/unused.h5\nseed: 7\ngrpo:\n"
             "  generators: {family: lrx, n: 6}\n"
             "  start_states: {distances_from: %s%s, distance: [1, 5]}\n"
             "  horizon: 8\n  layers: [24]\n  groups: 4\n  group_size: 4\n"
             "  updates: %d\n  learning_rate: 0.01\n"
             "  eval: {every: 3, states_per_distance: 10, distances: [1, 6], beam_width: 4}\n"
             "%s",
             folder, table ? folder : "null", table ? "/t.h5" : "", updates, extra);
    parse(job, text);
}

/* ---- the environment ----------------------------------------------------------------------- */

static void check_env(const sb_ctx *ctx)
{
    sb_job job;
    grpo_job(&job, "", true, 1);
    const sb_grpo_spec *spec = job.spec;
    sb_grpo_env env;
    CHECK_RC(sb_grpo_env_open(&env, spec, ctx, 1, 15), 0);
    CHECK(env.has_table && env.nstates == 720);
    ref_bfs ref;
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(&spec->env, central);
    CHECK(ref_bfs_run(&ref, 6, spec->env.gens.ngens, spec->env.gens.perm, central, 1000) == 0);
    for (int d = 1; d <= 15; d++) {
        /* The counts are the layer sizes; every state of a small layer comes up. */
        CHECK(sb_grpo_env_count(&env, d) == ref.layer_sizes[d]);
        uint64_t n = ref.layer_sizes[d];
        uint8_t seen[720] = {0};
        uint64_t distinct = 0;
        for (uint64_t j = 0; j < 40 * n; j++) {
            uint8_t s[SB_MAX_ELEMS];
            sb_grpo_env_sample(&env, d, 11, 3, (uint64_t)d << 20 | j, s);
            CHECK(sb_grpo_env_distance(&env, s) == d);
            CHECK(ref_bfs_distance(&ref, s) == d);
            uint64_t words[SB_MAX_WORDS];
            sb_codec_pack(&env.space.codec, s, words);
            uint64_t r = sb_space_rank(&env.space, words);
            distinct += !seen[r];
            seen[r] = 1;
        }
        if (n <= 20)
            CHECK(distinct == n);
    }
    ref_bfs_free(&ref);
    sb_grpo_env_close(&env);
    sb_job_free(&job);

    /* Random walks: d moves from the goal, so at most d away. */
    grpo_job(&job, "", false, 1);
    CHECK_RC(sb_grpo_env_open(&env, job.spec, ctx, 1, 5), 0);
    CHECK(!env.has_table && sb_grpo_env_count(&env, 3) == 0);
    CHECK(ref_bfs_run(&ref, 6, env.ngens, env.perm, env.central, 1000) == 0);
    for (uint64_t j = 0; j < 200; j++) {
        uint8_t s[SB_MAX_ELEMS];
        sb_grpo_env_sample(&env, 5, 11, 3, j, s);
        int d = ref_bfs_distance(&ref, s);
        CHECK(d >= 0 && d <= 5 && d % 2 == 1); /* every LRX move of S_6 is odd */
    }
    ref_bfs_free(&ref);
    sb_grpo_env_close(&env);
    sb_job_free(&job);
}

/* A coset puzzle (repeated values in the central state): multiset ranks, one-hot over the
 * distinct values.  (LRX n = 8 on "00112233": 2520 states; growth's full mode refuses the
 * 90-state "001122" on 4 ranks when it writes the table.) */
static void check_env_coset(const sb_ctx *ctx)
{
    char path[300], text[1024];
    snprintf(path, sizeof path, "%s/coset.h5", folder);
    snprintf(text, sizeof text,
             "kind: growth\noutput: %s\ngrowth:\n  generators: {family: lrx, n: 8}\n"
             "  central_state: \"00112233\"\n  mode: full\n  store_distances: true\n",
             path);
    sb_job job;
    parse(&job, text);
    sb_mem_estimate est;
    CHECK_RC(sb_job_check_budget(&job, ctx, &est, NULL), 0);
    sb_run_opts opts = {.force = true, .quiet = true, .estimate = &est};
    CHECK_RC(sb_job_run(&job, ctx, &opts), 0);
    sb_job_free(&job);
    snprintf(text, sizeof text,
             "kind: grpo\noutput: %s/unused.h5\ngrpo:\n  generators: {family: lrx, n: 8}\n"
             "  central_state: \"00112233\"\n"
             "  start_states: {distances_from: %s, distance: [1, 4]}\n"
             "  eval: {distances: [1, 4]}\n",
             folder, path);
    parse(&job, text);
    const sb_grpo_spec *spec = job.spec;
    sb_mlp_shape shape;
    sb_grpo_shape(spec, &shape);
    CHECK(shape.sizes[0] == 8 * 4);
    sb_grpo_env env;
    CHECK_RC(sb_grpo_env_open(&env, spec, ctx, 1, 4), 0);
    CHECK(env.nstates == 2520 && env.nvalues == 4);
    ref_bfs ref;
    CHECK(ref_bfs_run(&ref, 8, env.ngens, env.perm, env.central, 3000) == 0);
    for (int d = 1; d <= 4; d++) {
        CHECK(sb_grpo_env_count(&env, d) == ref.layer_sizes[d]);
        for (uint64_t j = 0; j < 100; j++) {
            uint8_t st[SB_MAX_ELEMS];
            sb_grpo_env_sample(&env, d, 5, 9, j, st);
            CHECK(ref_bfs_distance(&ref, st) == d && sb_grpo_env_distance(&env, st) == d);
        }
    }
    ref_bfs_free(&ref);
    sb_grpo_env_close(&env);
    sb_job_free(&job);
    MPI_Barrier(ctx->comm);
    if (ctx->rank == 0)
        unlink(path);
}

/* ---- training ---------------------------------------------------------------------------------
 */

static void same_table(const sb_table *a, const sb_table *b, const char *skip)
{
    CHECK(sb_table_rows(a) == sb_table_rows(b) && sb_table_ncols(a) == sb_table_ncols(b));
    int skipped = skip ? sb_table_find(a, skip) : -1;
    for (uint64_t r = 0; r < sb_table_rows(a); r++)
        for (int c = 0; c < sb_table_ncols(a); c++) {
            sb_cell x = sb_table_cell(a, r, c), y = sb_table_cell(b, r, c);
            if (c != skipped && memcmp(&x, &y, sizeof x) != 0) {
                fprintf(stderr, "row %llu column %s: %.17g vs %.17g\n", (unsigned long long)r,
                        sb_table_column(a, c).name, x.f, y.f);
                CHECK(!"tables differ");
            }
        }
}

static void same_result(const sb_grpo_result *a, const sb_grpo_result *b)
{
    CHECK(a->nparams == b->nparams && a->updates_done == b->updates_done);
    CHECK(memcmp(a->params, b->params, a->nparams * sizeof *a->params) == 0);
    same_table(a->metrics, b->metrics, "steps_per_second");
    same_table(a->eval, b->eval, NULL);
    CHECK(!a->eval_beam == !b->eval_beam);
    if (a->eval_beam)
        same_table(a->eval_beam, b->eval_beam, NULL);
}

static void train(const sb_job *job, const sb_ctx *ctx, sb_step *step, sb_grpo_result *r)
{
    sb_step silent;
    if (!step) {
        sb_step_init(&silent, ctx, "grpo", "update");
        step = &silent;
    }
    CHECK_RC(sb_grpo_train(job->spec, (uint64_t)job->seed, ctx, step, r), 0);
}

static void all_finite(const sb_grpo_result *r)
{
    for (size_t i = 0; i < r->nparams; i++)
        CHECK(isfinite(r->params[i]));
    for (uint64_t row = 0; row < sb_table_rows(r->metrics); row++)
        for (int c = 0; c < sb_table_ncols(r->metrics); c++)
            CHECK(isfinite(sb_table_value(r->metrics, row, c)));
}

/* All ranks against a serial run of the same job on MPI_COMM_SELF. */
static void check_invariance(const sb_ctx *world, const sb_ctx *self, const char *extra)
{
    sb_job job;
    grpo_job(&job, extra, true, 7);
    sb_grpo_result par, ser;
    train(&job, world, NULL, &par);
    train(&job, self, NULL, &ser);
    same_result(&par, &ser);
    all_finite(&par);
    CHECK(sb_table_rows(par.metrics) == 7);
    CHECK(sb_table_rows(par.eval) == 6 * 4); /* after 0, 3, 6 and 7 updates */
    /* The first update's rewards come from the initial policy: not all 0 or 1 at d <= 5. */
    double r0 = sb_table_value(par.metrics, 0, 1);
    CHECK(r0 > 0 && r0 < 1);
    sb_grpo_result_free(&par);
    sb_grpo_result_free(&ser);
    sb_job_free(&job);
}

/* 10 updates, a checkpoint (stop_after), then a resume to 20 updates, on `resume_ctx`. */
static void check_resume(const sb_ctx *world, const sb_ctx *self, const sb_ctx *resume_ctx)
{
    sb_job job;
    grpo_job(&job, "  kl: {beta: 0.05}\n", true, 20);
    sb_grpo_result straight, first, resumed;
    train(&job, self, NULL, &straight);

    char ck[300];
    snprintf(ck, sizeof ck, "%s/r.ckpt.h5", folder);
    sb_step step;
    sb_step_init(&step, world, "grpo", "update");
    step.path = ck;
    step.stop_after = 9; /* the checkpoint after update 9: 10 updates done */
    CHECK_RC(sb_grpo_train(job.spec, (uint64_t)job.seed, world, &step, &first), SB_ESIGNAL);
    CHECK(first.updates_done == 10 && sb_table_rows(first.metrics) == 10);
    sb_grpo_result_free(&first);

    /* Every rank resumes its own run on resume_ctx: one at a time when that is MPI_COMM_SELF
     * (they read the same checkpoint). */
    sb_ckpt c;
    CHECK_RC(sb_ckpt_open(&c, resume_ctx, ck), 0);
    sb_step_init(&step, resume_ctx, "grpo", "update");
    step.resume = &c;
    train(&job, resume_ctx, &step, &resumed);
    sb_ckpt_close(&c);
    CHECK(step.resumed_step == 9);
    same_result(&straight, &resumed);
    sb_grpo_result_free(&straight);
    sb_grpo_result_free(&resumed);
    sb_job_free(&job);
    MPI_Barrier(world->comm);
    if (world->rank == 0)
        unlink(ck);
    MPI_Barrier(world->comm);
}

/* Every episode fails (one move, start states 5 or 6 away): all-equal groups, zero advantages,
 * no NaN, parameters unchanged up to Adam's zero step; dynamic sampling draws again. */
static void check_all_equal(const sb_ctx *world)
{
    sb_job job;
    const char *extra = "  horizon: 1\n  dynamic_sampling: true\n  dynamic_tries: 3\n";
    char text[2048];
    snprintf(text, sizeof text,
             "kind: grpo\noutput: %s/unused.h5\nseed: 3\ngrpo:\n"
             "  generators: {family: lrx, n: 6}\n"
             "  start_states: {distances_from: %s/t.h5, distance: [5, 6]}\n"
             "  layers: [8]\n  groups: 4\n  group_size: 4\n  updates: 3\n"
             "  eval: {every: 3, states_per_distance: 4, distances: [1, 2]}\n%s",
             folder, folder, extra);
    parse(&job, text);
    sb_grpo_result r;
    train(&job, world, NULL, &r);
    all_finite(&r);
    for (uint64_t row = 0; row < 3; row++) {
        CHECK(sb_table_value(r.metrics, row, sb_table_find(r.metrics, "all_failed_frac")) == 1);
        CHECK(sb_table_value(r.metrics, row, sb_table_find(r.metrics, "adv_pos_sum")) == 0);
        CHECK(sb_table_value(r.metrics, row, sb_table_find(r.metrics, "adv_neg_sum")) == 0);
        CHECK(sb_table_value(r.metrics, row, sb_table_find(r.metrics, "grad_norm")) == 0);
        CHECK(sb_table_cell(r.metrics, row, sb_table_find(r.metrics, "resampled")).i == 4 * 2);
    }
    sb_grpo_result_free(&r);
    sb_job_free(&job);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx world, self;
    CHECK_RC(sb_ctx_init(&world, MPI_COMM_WORLD), 0);
    CHECK_RC(sb_ctx_init(&self, MPI_COMM_SELF), 0);
    if (world.rank == 0) {
        snprintf(folder, sizeof folder, "%s/sb-test-grpo-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        CHECK(mkdtemp(folder) != NULL);
    }
    MPI_Bcast(folder, sizeof folder, MPI_CHAR, 0, MPI_COMM_WORLD);
    char table[300];
    snprintf(table, sizeof table, "%s/t.h5", folder);
    make_table(&world, table);

    check_env(&world);
    check_env_coset(&world);
    check_invariance(&world, &self, "");
    check_invariance(&world, &self,
                     "  agrae: both\n  alpha: 0.5\n  kl: {beta: 0.1, estimator: k3}\n  mu: 2\n"
                     "  dynamic_sampling: true\n  eps_high: 0.28\n  loss_agg: "
                     "seq_mean_token_mean\n  std: population\n");
    check_invariance(&world, &self, "  advantage: dr_grpo\n  loss_agg: seq_mean_token_sum_norm\n");
    check_resume(&world, &self, &world);
    check_resume(&world, &self, &self);
    check_all_equal(&world);

    MPI_Barrier(MPI_COMM_WORLD);
    if (world.rank == 0) {
        unlink(table);
        rmdir(folder);
        printf("test_grpo_mpi: all checks passed on %d ranks\n", world.size);
    }
    sb_ctx_free(&self);
    sb_ctx_free(&world);
    MPI_Finalize();
    return 0;
}
