/* The growth job kind: the table entry that ties the schema (spec.c), the engines and the
 * result file together. */
#include "growth/engine.h"
#include "growth/spec.h"

#include "symbatch/bsgs.h"
#include "symbatch/ckpt.h"
#include "symbatch/codec.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/gap.h"
#include "symbatch/growth.h"
#include "symbatch/io.h"
#include "symbatch/json.h"
#include "symbatch/run.h"
#include "symbatch/step.h"

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

/* The engines, by the mode that selects them. */
typedef struct growth_engine {
    int mode; /* sb_growth_mode */
    const char *name;
    int (*run)(const sb_growth_spec *spec, const sb_ctx *ctx, sb_step *step, sb_growth_result *r);
} growth_engine;

static const growth_engine engines[] = {
    {SB_MODE_FULL, "full", sb_growth_full},
    {SB_MODE_FRONTIER, "frontier", sb_growth_frontier},
};

/* The engine for a mode; frontier for anything else (it handles every state space). */
static const growth_engine *engine_of(int mode)
{
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
        if (engines[i].mode == mode)
            return &engines[i];
    return &engines[1];
}

/* Chooses the engine.  full when asked for; frontier when asked for; auto: full whenever the
 * whole state space fits the budget (it is exact, 2 bits per state, and much faster), else
 * frontier.  A distance table needs full mode. */
static int choose_engine(const sb_job *job, int nranks, uint64_t budget, sb_mem_estimate *out)
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

/* The stabiliser chain behind rank scheme "bsgs", so that a reader can unrank without symbatch:
 * the chain is rebuilt here from the generators (the construction is deterministic: the same
 * chain the engine ranked with). */
static int write_bsgs(sb_h5 *h, const sb_genset *gs)
{
    sb_bsgs b;
    int err = sb_ctx_agree(h->ctx, sb_bsgs_init(&b, gs->m, gs->ngens, gs->perm));
    if (err)
        return err;
    const int L = b.nlevels, m = b.m;
    uint64_t rows = 0, sizes[256];
    uint8_t base[256];
    for (int i = 0; i < L; i++) {
        base[i] = b.levels[i].point;
        sizes[i] = (uint64_t)b.levels[i].size;
        rows += sizes[i];
    }
    uint8_t *reps = malloc(rows * (uint64_t)m + 1);
    err = sb_ctx_agree(h->ctx, reps ? 0 : SB_ENOMEM);
    for (uint64_t i = 0, at = 0; !err && i < (uint64_t)L; at += sizes[i] * (uint64_t)m, i++)
        memcpy(reps + at, b.levels[i].rep, sizes[i] * (uint64_t)m);
    if (!err)
        err = sb_h5_write_u8_rows_root(h, "/growth/bsgs/base", base, 1, (uint64_t)L, "points",
                                       "base points b_0..b_{L-1} of the stabiliser chain");
    if (!err)
        err = sb_h5_write_u64(h, "/growth/bsgs/orbit_sizes", sizes, (uint64_t)L, "points",
                              "r_i: the orbit of b_i under the stabiliser of b_0..b_{i-1}");
    if (!err)
        err = sb_h5_write_u8_rows_root(
            h, "/growth/bsgs/transversals", reps, rows, (uint64_t)m, "positions",
            "coset representatives, level by level (r_0 rows, then r_1, ...): row k of level i "
            "maps b_i to its k-th orbit point; row 0 is the identity");
    if (!err)
        err = sb_h5_attr_str(
            h, "/growth/bsgs", "ranking",
            "a state s is the element g = c^-1 o s (c the central state; (a o b)[i] = a[b[i]]); "
            "g = u_0[k_0] o u_1[k_1] o ... o u_{L-1}[k_{L-1}] with u_i[k] row k of level i; "
            "rank = mixed radix with k_0 most significant: (...(k_0 r_1 + k_1) r_2 ...) + "
            "k_{L-1}; unrank by composing the rows");
    free(reps);
    sb_bsgs_free(&b);
    return err;
}

/* The distance table: one byte per state, indexed by the state's rank under the recorded
 * scheme, each rank writing its own block collectively. */
static int growth_estimate(const sb_job *job, int nranks, uint64_t budget, sb_mem_estimate *out)
{
    int err = choose_engine(job, nranks, budget, out);
    out->engine = strcmp(out->mode, "full") == 0 ? SB_MODE_FULL : SB_MODE_FRONTIER;
    return err;
}

static int write_distances(sb_h5 *h, const sb_genset *gs, const sb_growth_result *r)
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
            "state; signed-perm-lex: perm-lex(s[i] mod n, i < n) * 2^n + sum_i [s[i] >= n] 2^i; "
            "bsgs: see /growth/bsgs");
    if (!err && strcmp(r->rank_scheme, "bsgs") == 0)
        err = write_bsgs(h, gs);
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
    /* The generators' names, one a line (kept under HDF5's 64 KiB attribute header). */
    char *names = err ? NULL : sb_genset_names_text(gs, 60000);
    if (names)
        err = sb_h5_attr_str(h, "/growth/generators", "names", names);
    free(names);
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
    char order[600];
    if (!err && sb_group_order_string(gs->m, gs->ngens, gs->perm, order, sizeof order) == 0)
        err = sb_h5_attr_str(h, "/growth", "group_order", order);
    if (!err && spec->store_distances)
        err = write_distances(h, gs, r);
    return err;
}

/* The large part of a result: the distance table, one byte per state of the space. */
static uint64_t growth_output_bytes(const sb_job *job, int engine)
{
    const sb_growth_spec *spec = job->spec;
    uint64_t bytes = (uint64_t)(spec->store_last_layer > 0 ? spec->store_last_layer : 0) *
                     (uint64_t)spec->gens.m;
    if (engine == SB_MODE_FULL && spec->store_distances)
        bytes += (uint64_t)sb_growth_space_bound(spec);
    return bytes;
}

static int growth_write(sb_run *run, sb_h5 *h)
{
    return write_growth(h, run->job->spec, run->result);
}

static void growth_summary(const sb_run *run, sb_json *j)
{
    const sb_growth_spec *spec = run->job->spec;
    const sb_growth_result *r = run->result;
    const double secs = r->seconds;
    sb_json_str(j, "family", spec->gens.family);
    sb_json_i64(j, "n", spec->gens.n);
    sb_json_str(j, "mode", r->mode);
    sb_json_bool(j, "completed", r->completed);
    sb_json_str(j, "stop_reason", r->stop_reason);
    sb_json_i64(j, "diameter", r->nlayers - 1);
    sb_json_u64(j, "num_states", r->num_states);
    sb_json_u64_array(j, "layer_sizes", r->layer_sizes, (size_t)r->nlayers);
    sb_json_f64(j, "seconds", "%.3f", secs);
    sb_json_f64(j, "states_per_second", "%.4g", secs > 0 ? (double)r->num_states / secs : 0);
    sb_json_f64(j, "edges_per_second_per_rank", "%.4g",
                secs > 0 ? (double)r->edges / secs / run->ctx->size : 0);
    sb_json_u64(j, "peak_rss_per_rank", r->peak_mem_max);
    sb_json_bool(j, "shared_memory", r->shared_memory);
    sb_json_f64(j, "exchange_seconds_rank0", "%.3f", r->exchange_seconds);
    sb_json_u64(j, "exchange_bytes_rank0", r->exchange_bytes);
}

/* The engine of a resumed run is the checkpoint's.  Under mode auto a frontier checkpoint
 * resumes in frontier mode even where full mode would now fit; a full checkpoint needs full
 * mode, which auto chose against only because it does not fit the budget on these ranks. */
static int growth_resume_prepare(sb_run *run)
{
    const sb_growth_spec *spec = run->job->spec;
    const sb_ctx *ctx = run->ctx;
    char theirs[32];
    int err = sb_ckpt_get_str(&run->resume_ck, "fingerprint.growth.mode", theirs, sizeof theirs);
    if (err || spec->mode != SB_MODE_AUTO || strcmp(theirs, engine_of(run->engine)->name) == 0)
        return err;
    if (strcmp(theirs, "frontier") == 0) {
        run->engine = SB_MODE_FRONTIER;
        return 0;
    }
    const sb_mem_estimate *est = run->estimate;
    if (ctx->rank == 0)
        fprintf(ctx->err,
                "symbatch: cannot resume from '%s': it was written in full mode, which does not "
                "fit the memory budget on %d ranks (%s); resume on more ranks or raise "
                "memory_per_rank\n",
                run->ckpt_path, ctx->size, est && est->note[0] ? est->note : "auto chose frontier");
    return SB_ECKPT;
}

static void growth_fingerprint(const sb_job *job, int engine, sb_fingerprint *fp)
{
    sb_growth_fingerprint(job->spec, engine_of(engine)->name, fp);
}

static int growth_run(sb_run *run)
{
    const sb_growth_spec *spec = run->job->spec;
    const sb_ctx *ctx = run->ctx;
    const growth_engine *e = engine_of(run->engine);
    sb_growth_result *r = calloc(1, sizeof *r);
    int err = sb_ctx_agree(ctx, r ? 0 : SB_ENOMEM);
    if (err) {
        free(r);
        return err;
    }
    run->result = r;
    sb_step_note(&run->step, "symbatch: growth of %s n=%d (%d generators, %s) on %d ranks, %s mode",
                 spec->gens.family, spec->gens.n, spec->gens.ngens,
                 spec->gens.inverse_closed ? "undirected" : "directed", ctx->size, e->name);
    if (run->estimate && run->estimate->note[0])
        sb_step_note(&run->step, "symbatch: %s", run->estimate->note);
    if (spec->max_layers > 0)
        run->step.total = spec->max_layers;
    err = e->run(spec, ctx, &run->step, r);
    sb_step_time(&run->step, "exchange", r->exchange_seconds);
    return err;
}

static void growth_result_free(sb_run *run)
{
    if (run->result)
        sb_growth_result_free(run->result);
    free(run->result);
    run->result = NULL;
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
    if (!spec->central && sb_genset_default_central(&spec->gens, out))
        return; /* a puzzle's solved colouring */
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
    .describe = sb_growth_describe,
    .step_unit = "layer",
    .fingerprint = growth_fingerprint,
    .resume_prepare = growth_resume_prepare,
    .output_bytes = growth_output_bytes,
    .run = growth_run,
    .write = growth_write,
    .summary_fields = growth_summary,
    .result_free = growth_result_free,
    .inspect = sb_growth_inspect,
};
