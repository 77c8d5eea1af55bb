/* The growth job kind: the table entry that ties the schema (spec.c), the engines and the
 * result file together. */
#include "growth/engine.h"
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

/* Chooses the engine.  full when asked for; frontier when asked for; auto: full whenever the
 * whole state space fits the budget (it is exact, 2 bits per state, and much faster), else
 * frontier.  A distance table needs full mode. */
static int growth_estimate(const sb_job *job, int nranks, uint64_t budget, sb_mem_estimate *out)
{
    const sb_growth_spec *spec = job->spec;
    sb_mem_estimate full, frontier;
    int full_rc = sb_full_estimate(spec, nranks, &full);
    int front_rc = sb_frontier_estimate(spec, nranks, &frontier);
    char need[32], have[32];
    sb_fmt_bytes(need, sizeof need, (double)full.bytes_per_rank);
    sb_fmt_bytes(have, sizeof have, (double)budget);
    if (spec->mode == SB_MODE_FULL || (spec->mode == SB_MODE_AUTO && spec->store_distances)) {
        *out = full;
        if (full_rc)
            snprintf(out->note, sizeof out->note, "growth.mode: full mode is not possible: %s%s",
                     full.note, spec->store_distances ? " (store_distances needs full mode)" : "");
        return full_rc ? SB_EINPUT : 0;
    }
    if (spec->mode == SB_MODE_FRONTIER) {
        *out = frontier;
        if (spec->store_distances) {
            snprintf(out->note, sizeof out->note,
                     "growth.store_distances: a distance table needs mode full or auto");
            return SB_EINPUT;
        }
        return front_rc;
    }
    if (!full_rc && full.bytes_per_rank <= budget) {
        *out = full;
        snprintf(out->note, sizeof out->note,
                 "auto: full mode (needs %s per rank, budget %s per rank)", need, have);
        return 0;
    }
    *out = frontier;
    if (full_rc)
        snprintf(out->note, sizeof out->note, "auto: frontier mode, since %s", full.note);
    else
        snprintf(out->note, sizeof out->note,
                 "auto: frontier mode, since full mode needs %s per rank and the budget is %s "
                 "per rank",
                 need, have);
    return front_rc;
}

/* The distance table: one byte per state, indexed by the state's rank under the recorded
 * scheme, each rank writing its own block collectively. */
static int write_distances(sb_h5 *h, const sb_growth_result *r)
{
    const char *path = "/growth/distances";
    int err = sb_h5_write_u8_blocks(
        h, path, r->space_size, r->dist_offset, r->dist_count, r->distances, "edges",
        "distance of every state from the central state, indexed by the state's rank "
        "(see rank_scheme); 255 = not reachable");
    if (!err)
        err = sb_h5_attr_str(h, path, "rank_scheme", r->rank_scheme);
    if (!err)
        err = sb_h5_attr_str(h, path, "encoding", "uint8 per state; 255 = unreached");
    if (!err)
        err = sb_h5_attr_str(
            h, path, "ranking",
            "perm-lex: rank = sum_i d_i (m-1-i)!, d_i = number of values after position i "
            "smaller than s[i] (lexicographic order of permutations of 0..m-1); "
            "multiset-lex: lexicographic index among the distinct arrangements of the central "
            "state; signed-perm-lex: perm-lex(s[i] mod n, i < n) * 2^n + sum_i [s[i] >= n] 2^i");
    return err;
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
    if (!err && r->rank_scheme[0])
        err = sb_h5_attr_str(h, "/growth", "rank_scheme", r->rank_scheme);
    if (!err && spec->store_distances)
        err = write_distances(h, r);
    return err;
}

/* Writes s as a JSON string literal (paths may hold quotes, backslashes, control bytes). */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void print_summary(FILE *out, const sb_job *job, const char *output,
                          const sb_growth_result *r, const sb_ctx *ctx)
{
    const sb_growth_spec *spec = job->spec;
    double erate = r->seconds > 0 ? (double)r->edges / r->seconds / ctx->size : 0;
    fprintf(out, "{\"kind\":\"growth\",\"output\":");
    json_string(out, output);
    fprintf(out,
            ",\"family\":\"%s\",\"n\":%d,\"mode\":\"%s\",\"ranks\":%d,\"completed\":%s,"
            "\"stop_reason\":\"%s\",\"diameter\":%d,\"num_states\":%" PRIu64 ",\"layer_sizes\":[",
            spec->gens.family, spec->gens.n, r->mode, ctx->size, r->completed ? "true" : "false",
            r->stop_reason, r->nlayers - 1, r->num_states);
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
    const sb_mem_estimate *est = opts->estimate;
    bool use_full = est && strcmp(est->mode, "full") == 0;
    if (ctx->rank == 0 && prog.out) {
        fprintf(prog.out, "symbatch: growth of %s n=%d (%d generators, %s) on %d ranks, %s mode\n",
                spec->gens.family, spec->gens.n, spec->gens.ngens,
                spec->gens.inverse_closed ? "undirected" : "directed", ctx->size,
                use_full ? "full" : "frontier");
        if (est && est->note[0])
            fprintf(prog.out, "symbatch: %s\n", est->note);
    }
    if (use_full)
        err = sb_growth_full(spec, ctx, &prog, &r);
    else
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
    free(r->distances);
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
