#include "growth/engine.h"

#include "symbatch/core.h"
#include "symbatch/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int sb_bfs_drive(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec, const sb_ctx *ctx,
                 sb_growth_progress *prog, sb_growth_result *r)
{
    const double t0 = sb_now();
    uint64_t size, rss_max, edges_local_total = 0;
    snprintf(r->mode, sizeof r->mode, "%s", ops->name);
    r->m = spec->gens.m;
    sb_growth_central(spec, r->central);
    int err = layer_totals(ctx, ops->local_size(engine), &size, &rss_max);
    if (!err)
        err = sb_ctx_agree(ctx, record_layer(r, size, sb_now() - t0));
    if (!err && ctx->rank == 0 && prog && prog->out)
        print_progress(prog, ctx, r, 0, rss_max);
    const char *stop = NULL;
    while (!err && !(stop = stop_rule(spec, r))) {
        double t = sb_now();
        uint64_t edges = 0, edges_sum = 0;
        err = ops->expand(engine, &edges);
        edges_local_total += edges;
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
    }
    if (err)
        return err;
    r->completed = stop == NULL;
    snprintf(r->stop_reason, sizeof r->stop_reason, "%s", stop ? stop : "complete");
    MPI_Allreduce(&edges_local_total, &r->edges, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    err = ops->last_layer(engine, (uint64_t)spec->store_last_layer, r);
    r->seconds = sb_now() - t0;
    uint64_t peak = sb_mem_peak();
    MPI_Allreduce(&peak, &r->peak_mem_max, 1, MPI_UINT64_T, MPI_MAX, ctx->comm);
    return err;
}
