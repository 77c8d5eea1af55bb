/* The layer loop shared by the BFS engines (engine.h): stop rules, timings, progress lines,
 * checkpoints and resume.
 *
 * Checkpoints are taken at layer boundaries only (after `advance`, when the engine holds the
 * current layer and nothing half-expanded), so that a checkpoint is the state an uninterrupted
 * run passes through, and a resumed run computes exactly the same layers. */
#include "growth/engine.h"

#include "symbatch/ckpt.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/signals.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Test-only: SB_TEST_LAYER_DELAY_MS=N sleeps N milliseconds at every layer boundary of a run
 * with checkpoints, so that tests can interrupt a small job at a chosen layer.  Not for users. */
#define LAYER_DELAY_ENV "SB_TEST_LAYER_DELAY_MS"
/* A checkpoint with more layers than this is damaged (distances fit a byte in full mode; even
 * frontier runs do not come near). */
#define MAX_LAYERS      (1u << 24)

static int record_layer(sb_growth_result *r, uint64_t size, double seconds)
{
    uint64_t *ls = realloc(r->layer_sizes, (size_t)(r->nlayers + 1) * sizeof *ls);
    if (ls)
        r->layer_sizes = ls;
    double *sec = realloc(r->layer_seconds, (size_t)(r->nlayers + 1) * sizeof *sec);
    if (sec)
        r->layer_seconds = sec;
    if (!ls || !sec)
        return SB_ENOMEM;
    r->layer_sizes[r->nlayers] = size;
    r->layer_seconds[r->nlayers] = seconds;
    r->nlayers++;
    r->num_states += size;
    return 0;
}

static void print_progress(const sb_growth_progress *prog, const sb_ctx *ctx,
                           const sb_growth_result *r, uint64_t edges_layer, uint64_t rss_max)
{
    int k = r->nlayers - 1;
    double dt = r->layer_seconds[k];
    double elapsed = sb_now() - prog->t_start;
    char mem[32];
    sb_fmt_bytes(mem, sizeof mem, (double)rss_max);
    double rate = dt > 0 ? (double)r->layer_sizes[k] / dt : 0;
    double erate = dt > 0 ? (double)edges_layer / dt / ctx->size : 0;
    fprintf(prog->out,
            "layer %4d  size %15" PRIu64 "  total %15" PRIu64
            "  %9.3g states/s  %9.3g edges/s/rank  mem/rank %9s  elapsed %8.1f s\n",
            k, r->layer_sizes[k], r->num_states, rate, erate, mem, elapsed);
    fflush(prog->out);
}

/* Sums a per-rank counter and takes the maximum of RSS in one place. */
static int layer_totals(const sb_ctx *ctx, uint64_t local, uint64_t *sum, uint64_t *rss_max)
{
    uint64_t rss = sb_mem_rss();
    if (MPI_Allreduce(&local, sum, 1, MPI_UINT64_T, MPI_SUM, ctx->comm) != MPI_SUCCESS ||
        MPI_Allreduce(&rss, rss_max, 1, MPI_UINT64_T, MPI_MAX, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    return 0;
}

/* Returns the stop reason when a stop rule ends the run before the next layer, else NULL. */
static const char *stop_rule(const sb_growth_spec *spec, const sb_growth_result *r)
{
    if (spec->max_layers > 0 && r->nlayers >= spec->max_layers)
        return "max_layers";
    if (spec->max_layer_size > 0 && r->layer_sizes[r->nlayers - 1] > (uint64_t)spec->max_layer_size)
        return "max_layer_size";
    return NULL;
}

/* ---- fingerprint ---------------------------------------------------------------------------- */

void sb_growth_fingerprint(const sb_growth_spec *spec, const char *mode, sb_growth_fp *fp)
{
    const sb_genset *gs = &spec->gens;
    uint64_t h = sb_fnv1a64(gs->perm, (size_t)gs->ngens * (size_t)gs->m, SB_FNV1A64_INIT);
    memset(fp, 0, sizeof *fp);
    fp->key[0] = "growth.generators";
    snprintf(fp->value[0], sizeof fp->value[0],
             "%s n=%d k=%d: %d generators on %d elements (fnv1a64 %016" PRIx64 ")", gs->family,
             gs->n, gs->k, gs->ngens, gs->m, h);
    fp->key[1] = "growth.central_state";
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    size_t used = 0;
    for (int i = 0; i < gs->m && used < sizeof fp->value[1] - 5; i++)
        used += (size_t)snprintf(fp->value[1] + used, sizeof fp->value[1] - used, "%s%u",
                                 i ? "," : "", central[i]);
    fp->key[2] = "growth.mode";
    snprintf(fp->value[2], sizeof fp->value[2], "%s", mode);
    fp->key[3] = "growth.store_distances";
    snprintf(fp->value[3], sizeof fp->value[3], "%s", spec->store_distances ? "true" : "false");
}

static int write_fingerprint(sb_ckpt *c, const sb_growth_fp *fp)
{
    int err = 0;
    for (int i = 0; i < SB_GROWTH_FP_ITEMS && !err; i++) {
        char name[128];
        snprintf(name, sizeof name, "fingerprint.%s", fp->key[i]);
        err = sb_ckpt_put_str(c, name, fp->value[i]);
    }
    return err;
}

int sb_growth_fp_check(sb_ckpt *c, const sb_growth_fp *fp, char *why, size_t size)
{
    char theirs[sizeof fp->value[0]];
    for (int i = 0; i < SB_GROWTH_FP_ITEMS; i++) {
        char name[128];
        snprintf(name, sizeof name, "fingerprint.%s", fp->key[i]);
        int err = sb_ckpt_get_str(c, name, theirs, sizeof theirs);
        if (err)
            return err;
        if (strcmp(theirs, fp->value[i]) != 0) {
            snprintf(why, size, "%s %s from the checkpoint's (checkpoint: %s; this job: %s)",
                     fp->key[i], i == 0 ? "differ" : "differs", theirs, fp->value[i]);
            return SB_ECKPT;
        }
    }
    return 0;
}

/* ---- writing checkpoints -------------------------------------------------------------------- */

/* What the loop itself tracks, beside the engine's state. */
typedef struct loop_state {
    uint64_t edges_local; /* generator applications of this rank (rank 0: plus the resumed) */
    double prior_seconds; /* BFS seconds before the resume */
    double t_last;        /* when the last checkpoint was written (or the run started) */
    int delay_ms;         /* test-only layer delay */
} loop_state;

static int write_header(sb_ckpt *c, const sb_growth_ckpt *g, const sb_growth_spec *spec,
                        const char *mode)
{
    sb_growth_fp fp;
    sb_growth_fingerprint(spec, mode, &fp);
    int root = c->ctx->rank == 0;
    const char *text = g->job && g->job->text ? g->job->text : "";
    uint64_t len = strlen(text);
    int err = sb_ckpt_put_str(c, "kind", "growth");
    if (!err)
        err = write_fingerprint(c, &fp);
    if (!err)
        err = sb_ckpt_write(c, "/job/text", SB_CKPT_U8, len, 0, root ? len : 0, text);
    return err;
}

static int write_loop_state(sb_ckpt *c, const sb_growth_result *r, uint64_t edges_total,
                            double seconds)
{
    const int root = c->ctx->rank == 0;
    const uint64_t n = (uint64_t)r->nlayers;
    uint64_t counters[3] = {n, r->num_states, edges_total};
    int err = sb_ckpt_write(c, "/growth/counters", SB_CKPT_U64, 3, 0, root ? 3 : 0, counters);
    if (!err)
        err = sb_ckpt_write(c, "/growth/layer_sizes", SB_CKPT_U64, n, 0, root ? n : 0,
                            r->layer_sizes);
    if (!err)
        err = sb_ckpt_write(c, "/growth/layer_seconds", SB_CKPT_F64, n, 0, root ? n : 0,
                            r->layer_seconds);
    if (!err)
        err = sb_ckpt_write(c, "/growth/bfs_seconds", SB_CKPT_F64, 1, 0, root ? 1 : 0, &seconds);
    return err;
}

static void report_written(const sb_growth_progress *prog, const sb_ctx *ctx,
                           const sb_growth_ckpt *g, const sb_growth_result *r, uint64_t bytes,
                           double dt)
{
    if (ctx->rank != 0 || !prog->out)
        return;
    char size[32];
    sb_fmt_bytes(size, sizeof size, (double)bytes);
    fprintf(prog->out, "checkpoint: layer %d written to '%s' (%s in %.2f s, %.3g GB/s)\n",
            r->nlayers - 1, g->path, size, dt, dt > 0 ? (double)bytes / dt / 1e9 : 0.0);
    fflush(prog->out);
}

static int write_checkpoint(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec,
                            const sb_ctx *ctx, const sb_growth_progress *prog,
                            const sb_growth_result *r, const loop_state *ls, double t0)
{
    sb_growth_ckpt *g = prog->ckpt;
    const double t = sb_now();
    uint64_t edges_total = 0, bytes = 0;
    if (MPI_Allreduce(&ls->edges_local, &edges_total, 1, MPI_UINT64_T, MPI_SUM, ctx->comm))
        return SB_EMPI;
    sb_ckpt c;
    int err = ops->save ? sb_ckpt_create(&c, ctx, g->path, g->written + 1) : SB_EINTERNAL;
    if (err)
        return err;
    err = write_header(&c, g, spec, ops->name);
    if (!err)
        err = write_loop_state(&c, r, edges_total, ls->prior_seconds + (t - t0));
    if (!err)
        err = ops->save(engine, &c);
    if (!err)
        err = sb_ckpt_commit(&c);
    else
        sb_ckpt_abort(&c);
    MPI_Allreduce(&c.bytes, &bytes, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    if (err) {
        if (ctx->rank == 0)
            fprintf(stderr,
                    "symbatch: checkpoint '%s' at layer %d was not written (%s); the previous "
                    "checkpoint, if any, is unchanged\n",
                    g->path, r->nlayers - 1, sb_strerror(err));
        return err;
    }
    g->written++;
    g->write_seconds += sb_now() - t;
    g->write_bytes += c.bytes;
    report_written(prog, ctx, g, r, bytes, sb_now() - t);
    return 0;
}

/* ---- layer boundaries ----------------------------------------------------------------------- */

static void test_delay(int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short, which is fine */
}

/* At a layer boundary: checkpoint when any rank caught a signal or rank 0's clock says the
 * interval has passed (one MPI_Allreduce, so all ranks decide alike), and stop after a signal.
 * Returns 0 to go on, SB_ESIGNAL once the checkpoint is written, or an error. */
static int boundary(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec,
                    const sb_ctx *ctx, const sb_growth_progress *prog, const sb_growth_result *r,
                    loop_state *ls, double t0)
{
    sb_growth_ckpt *g = prog->ckpt;
    test_delay(ls->delay_ms);
    const double now = sb_now();
    int want[2] = {sb_signals_caught(), 0}, all[2];
    if (ctx->rank == 0 && g->every > 0 && now - ls->t_last >= g->every)
        want[1] = 1;
    if (MPI_Allreduce(want, all, 2, MPI_INT, MPI_MAX, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    const bool stop = all[0] > 0 || (g->stop_after_layer > 0 && r->nlayers > g->stop_after_layer);
    if (!stop && !all[1])
        return 0;
    int err = write_checkpoint(ops, engine, spec, ctx, prog, r, ls, t0);
    ls->t_last = sb_now();
    if (err || !stop)
        return err;
    g->stopped_by = all[0];
    if (ctx->rank == 0)
        fprintf(stderr,
                "symbatch: %s: stopped after layer %d with a checkpoint in '%s'; continue with "
                "`symbatch run JOB --resume`\n",
                all[0] ? sb_signal_name(all[0]) : "stop requested", r->nlayers - 1, g->path);
    return SB_ESIGNAL;
}

/* ---- resume --------------------------------------------------------------------------------- */

static int damaged(const sb_ctx *ctx, const sb_ckpt *c, const char *what)
{
    if (ctx->rank == 0)
        fprintf(stderr, "symbatch: checkpoint '%s': %s\n", c->path, what);
    return SB_ECKPT;
}

/* A resumed run must give what an uninterrupted run of this job gives: refused when this job's
 * stop rules would have ended the run before the checkpoint's last layer. */
static int check_stop_rules(const sb_ctx *ctx, const sb_ckpt *c, const sb_growth_spec *spec,
                            const sb_growth_result *r)
{
    sb_growth_result prefix = *r;
    for (prefix.nlayers = 1; prefix.nlayers < r->nlayers; prefix.nlayers++) {
        const char *stop = stop_rule(spec, &prefix);
        if (stop) {
            char why[256];
            snprintf(why, sizeof why,
                     "it holds %d layers, but growth.%s of this job stops after layer %d: "
                     "an uninterrupted run would give another result",
                     r->nlayers, stop, prefix.nlayers - 1);
            return damaged(ctx, c, why);
        }
    }
    return 0;
}

static int read_layers(const sb_ctx *ctx, sb_ckpt *c, sb_growth_result *r, uint64_t *edges,
                       double *seconds)
{
    uint64_t counters[3], n, sum = 0;
    int err = sb_ckpt_read(c, "/growth/counters", SB_CKPT_U64, 0, 3, counters);
    if (err)
        return err;
    n = counters[0];
    if (n < 1 || n > MAX_LAYERS)
        return damaged(ctx, c, "inconsistent layer count");
    r->layer_sizes = calloc(n, sizeof *r->layer_sizes);
    r->layer_seconds = calloc(n, sizeof *r->layer_seconds);
    err = sb_ctx_agree(ctx, r->layer_sizes && r->layer_seconds ? 0 : SB_ENOMEM);
    if (!err)
        err = sb_ckpt_read(c, "/growth/layer_sizes", SB_CKPT_U64, 0, n, r->layer_sizes);
    if (!err)
        err = sb_ckpt_read(c, "/growth/layer_seconds", SB_CKPT_F64, 0, n, r->layer_seconds);
    if (!err)
        err = sb_ckpt_read(c, "/growth/bfs_seconds", SB_CKPT_F64, 0, 1, seconds);
    if (err)
        return err;
    r->nlayers = (int)n;
    for (uint64_t i = 0; i < n; i++)
        sum += r->layer_sizes[i];
    r->num_states = counters[1];
    *edges = counters[2];
    if (sum != counters[1] || r->layer_sizes[n - 1] == 0)
        return damaged(ctx, c, "layer sizes do not add up to the number of states");
    return 0;
}

static int resume(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec,
                  const sb_ctx *ctx, sb_growth_progress *prog, sb_growth_result *r, loop_state *ls)
{
    sb_growth_ckpt *g = prog->ckpt;
    sb_ckpt *c = g->resume;
    const double t = sb_now();
    uint64_t edges = 0;
    int64_t ranks = 0;
    int err = ops->load ? 0 : SB_EINTERNAL;
    if (!err)
        err = sb_ckpt_get_i64(c, "ranks", &ranks);
    if (!err)
        err = read_layers(ctx, c, r, &edges, &ls->prior_seconds);
    if (!err)
        err = check_stop_rules(ctx, c, spec, r);
    if (!err)
        err = ops->load(engine, c);
    if (err)
        return err;
    /* The edges before the checkpoint count once: on rank 0. */
    ls->edges_local = ctx->rank == 0 ? edges : 0;
    g->resumed_layer = r->nlayers - 1;
    g->resumed_ranks = (int)ranks;
    g->read_seconds = sb_now() - t;
    g->read_bytes = c->bytes;
    if (ctx->rank == 0 && prog->out) {
        fprintf(prog->out,
                "resumed from checkpoint '%s' at layer %d (written on %" PRId64
                " ranks, read in %.2f s)\n",
                c->path, r->nlayers - 1, ranks, g->read_seconds);
        fflush(prog->out);
    }
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static int first_layer(const sb_bfs_ops *ops, void *engine, const sb_ctx *ctx,
                       const sb_growth_progress *prog, sb_growth_result *r, double t0)
{
    uint64_t size, rss_max;
    int err = layer_totals(ctx, ops->local_size(engine), &size, &rss_max);
    if (!err)
        err = sb_ctx_agree(ctx, record_layer(r, size, sb_now() - t0));
    if (!err && ctx->rank == 0 && prog && prog->out)
        print_progress(prog, ctx, r, 0, rss_max);
    return err;
}

static loop_state loop_init(const sb_growth_progress *prog, double t0)
{
    loop_state ls = {.t_last = t0};
    const char *delay = getenv(LAYER_DELAY_ENV);
    if (prog && prog->ckpt && delay)
        ls.delay_ms = atoi(delay);
    if (prog && prog->ckpt) {
        prog->ckpt->resumed_layer = -1;
        prog->ckpt->stopped_by = 0;
    }
    return ls;
}

int sb_bfs_drive(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec, const sb_ctx *ctx,
                 sb_growth_progress *prog, sb_growth_result *r)
{
    const double t0 = sb_now();
    uint64_t size, rss_max;
    loop_state ls = loop_init(prog, t0);
    const bool ckpt = prog && prog->ckpt;
    snprintf(r->mode, sizeof r->mode, "%s", ops->name);
    r->m = spec->gens.m;
    sb_growth_central(spec, r->central);
    int err = ckpt && prog->ckpt->resume ? resume(ops, engine, spec, ctx, prog, r, &ls)
                                         : first_layer(ops, engine, ctx, prog, r, t0);
    ls.t_last = sb_now();
    const char *stop = NULL;
    while (!err && !(stop = stop_rule(spec, r))) {
        double t = sb_now();
        uint64_t edges = 0, edges_sum = 0;
        err = ops->expand(engine, &edges);
        ls.edges_local += edges;
        if (!err)
            err = layer_totals(ctx, ops->next_size(engine), &size, &rss_max);
        if (!err)
            MPI_Allreduce(&edges, &edges_sum, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
        if (err || size == 0)
            break;
        err = ops->advance(engine);
        if (!err)
            err = sb_ctx_agree(ctx, record_layer(r, size, sb_now() - t));
        if (!err && ctx->rank == 0 && prog && prog->out)
            print_progress(prog, ctx, r, edges_sum, rss_max);
        if (!err && ckpt)
            err = boundary(ops, engine, spec, ctx, prog, r, &ls, t0);
    }
    if (err)
        return err;
    r->completed = stop == NULL;
    snprintf(r->stop_reason, sizeof r->stop_reason, "%s", stop ? stop : "complete");
    MPI_Allreduce(&ls.edges_local, &r->edges, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    err = ops->last_layer(engine, (uint64_t)spec->store_last_layer, r);
    r->seconds = ls.prior_seconds + (sb_now() - t0);
    uint64_t peak = sb_mem_peak();
    MPI_Allreduce(&peak, &r->peak_mem_max, 1, MPI_UINT64_T, MPI_MAX, ctx->comm);
    return err;
}
