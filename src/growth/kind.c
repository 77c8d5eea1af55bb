/* The growth job kind: the table entry that ties the schema (spec.c), the engines and the
 * result file together. */
#include "growth/spec.h"

#include "symbatch/codec.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/growth.h"
#include "symbatch/io.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Number of distinct arrangements of the central state: m! / prod(mult!) (the state space of a
 * Cayley or coset graph is at most this).  Returns HUGE_VAL beyond double range. */
static double arrangements(const uint8_t *central, int m)
{
    int mult[256] = {0};
    double lg = lgamma((double)m + 1);
    for (int i = 0; i < m; i++)
        mult[central[i]]++;
    for (int v = 0; v < 256; v++)
        lg -= lgamma((double)mult[v] + 1);
    return exp(lg);
}

double sb_growth_space_bound(const sb_growth_spec *spec)
{
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    return floor(arrangements(central, spec->gens.m) + 0.5);
}

/* Frontier mode holds sorted shares of a few layers plus candidates and a sort buffer: at
 * worst every state once (directed: all layers) with about 3x overhead for candidates and
 * radix-sort space.  An upper bound, since layer sizes are unknown before the run. */
static int estimate_frontier(const sb_growth_spec *spec, int nranks, sb_mem_estimate *out)
{
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    int maxv = 0;
    for (int i = 0; i < spec->gens.m; i++)
        maxv = central[i] > maxv ? central[i] : maxv;
    sb_codec codec;
    if (sb_codec_init(&codec, spec->gens.m, maxv) != 0)
        return SB_ELIMIT;
    double states = sb_growth_space_bound(spec);
    double bytes_state = 8.0 * codec.nw;
    double exchange = 2.0 * (1u << 20) * bytes_state * 2; /* staging + send + receive */
    double per_rank = 3.0 * states * bytes_state / nranks + exchange;
    out->bytes_per_rank = per_rank > 1.8e19 ? UINT64_MAX : (uint64_t)per_rank;
    out->bytes_total = per_rank * nranks > 1.8e19 ? UINT64_MAX : (uint64_t)(per_rank * nranks);
    snprintf(out->mode, sizeof out->mode, "frontier");
    snprintf(out->detail, sizeof out->detail,
             "frontier: worst case every one of %.4g states held once, %d bytes each, x3 for "
             "candidates and sorting, over %d ranks, + exchange buffers",
             states, (int)bytes_state, nranks);
    return 0;
}

static int growth_estimate(const sb_job *job, int nranks, sb_mem_estimate *out)
{
    const sb_growth_spec *spec = job->spec;
    memset(out, 0, sizeof *out);
    return estimate_frontier(spec, nranks, out);
}

static int write_growth(sb_h5 *h, const sb_growth_spec *spec, const sb_growth_result *r)
{
    const sb_genset *gs = &spec->gens;
    uint64_t diameter = r->nlayers > 0 ? (uint64_t)r->nlayers - 1 : 0;
    int err = sb_h5_group(h, "/growth");
    if (!err)
        err = sb_h5_write_u64(h, "/growth/layer_sizes", r->layer_sizes, (uint64_t)r->nlayers,
                              "states",
                              "number of states at distance d from the central state, "
                              "d = 0..diameter (out-distance for directed growth)");
    if (!err)
        err = sb_h5_write_f64(h, "/growth/layer_seconds", r->layer_seconds, (uint64_t)r->nlayers,
                              "s", "wall time to compute each layer");
    if (!err)
        err = sb_h5_write_scalar_u64(h, "/growth/diameter", diameter, "edges",
                                     "largest distance reached (the diameter when completed)");
    if (!err)
        err = sb_h5_write_scalar_u64(h, "/growth/num_states", r->num_states, "states",
                                     "states reached, sum of layer_sizes");
    if (!err)
        err = sb_h5_write_scalar_u64(h, "/growth/completed", r->completed ? 1 : 0, "bool",
                                     "1 when the BFS ran until no new state was found");
    if (!err)
        err = sb_h5_write_u8_rows_root(h, "/growth/last_layer", r->last_layer, r->last_layer_rows,
                                       (uint64_t)r->m, "element values",
                                       "lexicographically smallest states of the last layer, "
                                       "one row per state (antipodes when completed)");
    if (!err)
        err = sb_h5_write_u8_rows_root(h, "/growth/central_state", r->central, 1, (uint64_t)r->m,
                                       "element values", "the BFS root");
    if (!err)
        err = sb_h5_write_u8_rows_root(h, "/growth/generators", gs->perm, (uint64_t)gs->ngens,
                                       (uint64_t)gs->m, "positions",
                                       "generator g maps state s to s' with s'[i] = s[p[i]]");
    const char *attrs[][2] = {{"stop_reason", r->stop_reason},
                              {"mode", r->mode},
                              {"family", gs->family},
                              {"graph", gs->inverse_closed ? "undirected" : "directed"}};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0] && !err; i++)
        err = sb_h5_attr_str(h, "/growth", attrs[i][0], attrs[i][1]);
    if (!err)
        err = sb_h5_attr_i64(h, "/growth", "n", gs->n);
    if (!err)
        err = sb_h5_attr_i64(h, "/growth", "k", gs->k);
    if (!err)
        err = sb_h5_attr_i64(h, "/growth", "num_generators", gs->ngens);
    if (!err)
        err = sb_h5_attr_f64(h, "/growth", "bfs_seconds", r->seconds);
    if (!err)
        err = sb_h5_attr_i64(h, "/growth", "edges", (int64_t)r->edges);
    return err;
}

static void print_summary(FILE *out, const sb_job *job, const char *output,
                          const sb_growth_result *r, const sb_ctx *ctx)
{
    const sb_growth_spec *spec = job->spec;
    double erate = r->seconds > 0 ? (double)r->edges / r->seconds / ctx->size : 0;
    fprintf(out,
            "{\"kind\":\"growth\",\"output\":\"%s\",\"family\":\"%s\",\"n\":%d,\"mode\":\"%s\","
            "\"ranks\":%d,\"completed\":%s,\"stop_reason\":\"%s\",\"diameter\":%d,"
            "\"num_states\":%" PRIu64 ",\"layer_sizes\":[",
            output, spec->gens.family, spec->gens.n, r->mode, ctx->size,
            r->completed ? "true" : "false", r->stop_reason, r->nlayers - 1, r->num_states);
    for (int i = 0; i < r->nlayers; i++)
        fprintf(out, "%s%" PRIu64, i ? "," : "", r->layer_sizes[i]);
    fprintf(out,
            "],\"seconds\":%.3f,\"states_per_second\":%.4g,\"edges_per_second_per_rank\":%.4g,"
            "\"peak_rss_per_rank\":%" PRIu64 "}\n",
            r->seconds, r->seconds > 0 ? (double)r->num_states / r->seconds : 0, erate,
            r->peak_mem_max);
    fflush(out);
}

static int growth_run(const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts)
{
    const sb_growth_spec *spec = job->spec;
    const char *output = opts->output_override ? opts->output_override : job->output;
    sb_h5 h;
    int err = sb_h5_create(&h, ctx, job, output, opts->force);
    if (err)
        return err;
    sb_growth_result r;
    memset(&r, 0, sizeof r);
    sb_growth_progress prog = {.out = opts->quiet ? NULL : opts->progress, .t_start = sb_now()};
    if (ctx->rank == 0 && prog.out)
        fprintf(prog.out, "symbatch: growth of %s n=%d (%d generators, %s) on %d ranks, %s mode\n",
                spec->gens.family, spec->gens.n, spec->gens.ngens,
                spec->gens.inverse_closed ? "undirected" : "directed", ctx->size, "frontier");
    err = sb_growth_frontier(spec, ctx, &prog, &r);
    if (!err)
        err = write_growth(&h, spec, &r);
    if (!err)
        err = sb_h5_commit(&h, 0);
    else
        sb_h5_abort(&h);
    if (!err && ctx->rank == 0 && opts->summary)
        print_summary(opts->summary, job, output, &r, ctx);
    sb_growth_result_free(&r);
    return err;
}

void sb_growth_result_free(sb_growth_result *r)
{
    free(r->layer_sizes);
    free(r->layer_seconds);
    free(r->last_layer);
    memset(r, 0, sizeof *r);
}

void sb_growth_central(const sb_growth_spec *spec, uint8_t *out)
{
    for (int i = 0; i < spec->gens.m; i++)
        out[i] = spec->central ? spec->central[i] : (uint8_t)i;
}

const sb_job_kind sb_growth_kind = {
    .name = "growth",
    .summary = "BFS growth function of a Cayley or Schreier coset graph of a permutation group",
    .section = "growth",
    .schema = sb_growth_schema,
    .spec_size = sizeof(sb_growth_spec),
    .spec_init = sb_growth_spec_init,
    .spec_free = sb_growth_spec_free,
    .validate = sb_growth_validate,
    .estimate_memory = growth_estimate,
    .run = growth_run,
    .describe = sb_growth_describe,
};
