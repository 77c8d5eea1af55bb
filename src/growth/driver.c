/* The layer loop shared by the BFS engines (engine.h): stop rules, the growth result, and what
 * a growth checkpoint holds beside the engine's state.  When to checkpoint, signals, progress
 * lines and timers are the step controller's (step.h): this file holds only the layer logic.
 *
 * Checkpoints are taken at layer boundaries only (after `advance`, when the engine holds the
 * current layer and nothing half-expanded), so that a checkpoint is the state an uninterrupted
 * run passes through, and a resumed run computes exactly the same layers. */
#include "growth/engine.h"

#include "symbatch/ckpt.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/step.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A checkpoint with more layers than this is damaged (distances fit a byte in full mode; even
 * frontier runs do not come near). */
#define MAX_LAYERS (1u << 24)

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

/* The growth fields of the progress line (the step controller adds memory and times). */
static int progress(sb_step *step, const sb_ctx *ctx, const sb_growth_result *r,
                    uint64_t edges_layer, bool last)
{
    if (!step)
        return 0;
    int k = r->nlayers - 1;
    double dt = r->layer_seconds[k];
    double rate = dt > 0 ? (double)r->layer_sizes[k] / dt : 0;
    double erate = dt > 0 ? (double)edges_layer / dt / ctx->size : 0;
    char fields[160];
    snprintf(fields, sizeof fields,
             "size %15" PRIu64 "  total %15" PRIu64 "  %9.3g states/s  %9.3g edges/s/rank",
             r->layer_sizes[k], r->num_states, rate, erate);
    return sb_step_progress(step, k, fields, last);
}

static int sum_u64(const sb_ctx *ctx, uint64_t local, uint64_t *sum)
{
    return MPI_Allreduce(&local, sum, 1, MPI_UINT64_T, MPI_SUM, ctx->comm) == MPI_SUCCESS ? 0
                                                                                          : SB_EMPI;
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

void sb_growth_fingerprint(const sb_growth_spec *spec, const char *mode, sb_fingerprint *fp)
{
    const sb_genset *gs = &spec->gens;
    uint64_t h = sb_fnv1a64(gs->perm, (size_t)gs->ngens * (size_t)gs->m, SB_FNV1A64_INIT);
    memset(fp, 0, sizeof *fp);
    sb_fp_add(fp, "growth.generators",
              "%s n=%d k=%d: %d generators on %d elements (fnv1a64 %016" PRIx64 ")", gs->family,
              gs->n, gs->k, gs->ngens, gs->m, h);
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    char text[SB_FP_VALUE];
    size_t used = 0;
    text[0] = '\0';
    for (int i = 0; i < gs->m && used < sizeof text - 5; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%u", i ? "," : "", central[i]);
    sb_fp_add(fp, "growth.central_state", "%s", text);
    sb_fp_add(fp, "growth.mode", "%s", mode);
    sb_fp_add(fp, "growth.store_distances", "%s", spec->store_distances ? "true" : "false");
}

/* ---- writing checkpoints -------------------------------------------------------------------- */

/* What the loop itself tracks, beside the engine's state. */
typedef struct loop_state {
    const sb_bfs_ops *ops;
    void *engine;
    const sb_ctx *ctx;
    const sb_growth_result *r;
    uint64_t edges_local; /* generator applications of this rank (rank 0: plus the resumed) */
    uint64_t edges_layer; /* generator applications of the last layer, all ranks */
    double prior_seconds; /* BFS seconds before the resume */
    double t0;            /* when this process's loop started */
} loop_state;

/* The step controller's save callback: the layer sizes and counters, then the engine. */
static int save_layers(void *arg, sb_ckpt *c)
{
    const loop_state *ls = arg;
    const sb_growth_result *r = ls->r;
    const int root = c->ctx->rank == 0;
    const uint64_t n = (uint64_t)r->nlayers;
    uint64_t edges_total = 0;
    int err = sum_u64(ls->ctx, ls->edges_local, &edges_total);
    double seconds = ls->prior_seconds + (sb_now() - ls->t0);
    uint64_t counters[3] = {n, r->num_states, edges_total};
    if (!err)
        err = sb_ckpt_write(c, "/growth/counters", SB_CKPT_U64, 3, 0, root ? 3 : 0, counters);
    if (!err)
        err = sb_ckpt_write(c, "/growth/layer_sizes", SB_CKPT_U64, n, 0, root ? n : 0,
                            r->layer_sizes);
    if (!err)
        err = sb_ckpt_write(c, "/growth/layer_seconds", SB_CKPT_F64, n, 0, root ? n : 0,
                            r->layer_seconds);
    if (!err)
        err = sb_ckpt_write(c, "/growth/bfs_seconds", SB_CKPT_F64, 1, 0, root ? 1 : 0, &seconds);
    if (!err)
        err = ls->ops->save ? ls->ops->save(ls->engine, c) : SB_EINTERNAL;
    return err;
}

/* ---- resume --------------------------------------------------------------------------------- */

static int damaged(const sb_ctx *ctx, const sb_ckpt *c, const char *what)
{
    if (ctx->rank == 0)
        fprintf(ctx->err, "symbatch: checkpoint '%s': %s\n", c->path, what);
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

static int resume(sb_step *step, const sb_growth_spec *spec, sb_growth_result *r, loop_state *ls)
{
    sb_ckpt *c = step->resume;
    const double t = sb_now();
    uint64_t edges = 0;
    int err = ls->ops->load ? 0 : SB_EINTERNAL;
    if (!err)
        err = read_layers(ls->ctx, c, r, &edges, &ls->prior_seconds);
    if (!err)
        err = check_stop_rules(ls->ctx, c, spec, r);
    if (!err)
        err = ls->ops->load(ls->engine, c);
    if (err)
        return err;
    /* The edges before the checkpoint count once: on rank 0. */
    ls->edges_local = ls->ctx->rank == 0 ? edges : 0;
    sb_step_resumed(step, r->nlayers - 1, sb_now() - t);
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static int first_layer(sb_step *step, sb_growth_result *r, const loop_state *ls)
{
    uint64_t size = 0;
    int err = sum_u64(ls->ctx, ls->ops->local_size(ls->engine), &size);
    if (!err)
        err = sb_ctx_agree(ls->ctx, record_layer(r, size, sb_now() - ls->t0));
    if (!err)
        err = progress(step, ls->ctx, r, 0, false);
    return err;
}

/* One layer: expand, count, advance, report, checkpoint.  *size gets the new layer's size (0:
 * the BFS is complete and nothing was advanced). */
static int next_layer(sb_step *step, sb_growth_result *r, loop_state *ls, uint64_t *size)
{
    const sb_ctx *ctx = ls->ctx;
    double t = sb_now();
    uint64_t edges = 0, edges_sum = 0;
    int err = ls->ops->expand(ls->engine, &edges);
    ls->edges_local += edges;
    if (step)
        sb_step_time(step, "expand", sb_now() - t);
    if (!err)
        err = sum_u64(ctx, ls->ops->next_size(ls->engine), size);
    if (!err)
        err = sum_u64(ctx, edges, &edges_sum);
    if (err || *size == 0)
        return err;
    double ta = sb_now();
    err = ls->ops->advance(ls->engine);
    if (step)
        sb_step_time(step, "advance", sb_now() - ta);
    if (!err)
        err = sb_ctx_agree(ctx, record_layer(r, *size, sb_now() - t));
    ls->edges_layer = edges_sum;
    if (!err)
        err = progress(step, ctx, r, edges_sum, false);
    if (!err && step) {
        step->ckpt_bytes_local = ls->ops->ckpt_bytes ? ls->ops->ckpt_bytes(ls->engine) : 0;
        err = sb_step_boundary(step, r->nlayers - 1, save_layers, ls);
    }
    return err;
}

/* After the last layer: the result's totals and the last layer's states. */
static int finish(sb_step *step, const sb_growth_spec *spec, sb_growth_result *r,
                  const loop_state *ls, const char *stop)
{
    const sb_ctx *ctx = ls->ctx;
    int err = progress(step, ctx, r, ls->edges_layer, true); /* the last layer's line */
    r->completed = stop == NULL;
    snprintf(r->stop_reason, sizeof r->stop_reason, "%s", stop ? stop : "complete");
    if (!err)
        err = sum_u64(ctx, ls->edges_local, &r->edges);
    double t = sb_now();
    if (!err)
        err = ls->ops->last_layer(ls->engine, (uint64_t)spec->store_last_layer, r);
    if (step)
        sb_step_time(step, "last_layer", sb_now() - t);
    r->seconds = ls->prior_seconds + (sb_now() - ls->t0);
    uint64_t peak = sb_mem_peak();
    if (!err && MPI_Allreduce(&peak, &r->peak_mem_max, 1, MPI_UINT64_T, MPI_MAX, ctx->comm))
        err = SB_EMPI;
    return err;
}

int sb_bfs_drive(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec, const sb_ctx *ctx,
                 sb_step *step, sb_growth_result *r)
{
    loop_state ls = {.ops = ops, .engine = engine, .ctx = ctx, .r = r, .t0 = sb_now()};
    snprintf(r->mode, sizeof r->mode, "%s", ops->name);
    r->m = spec->gens.m;
    sb_growth_central(spec, r->central);
    /* Engines driven without the job runner (tests, tools) still write complete headers. */
    if (step && step->fp.n == 0)
        sb_growth_fingerprint(spec, ops->name, &step->fp);
    int err = step && step->resume ? resume(step, spec, r, &ls) : first_layer(step, r, &ls);
    const char *stop = NULL;
    uint64_t size = 1;
    while (!err && !(stop = stop_rule(spec, r)) && size > 0)
        err = next_layer(step, r, &ls, &size);
    if (err)
        return err;
    return finish(step, spec, r, &ls, size > 0 ? stop : NULL);
}
