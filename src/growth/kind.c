/* The growth job kind: the table entry that ties the schema (spec.c), the engines and the
 * result file together. */
#include "growth/engine.h"
#include "growth/spec.h"

#include "symbatch/ckpt.h"
#include "symbatch/codec.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/growth.h"
#include "symbatch/io.h"
#include "symbatch/signals.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
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
    fprintf(
        out,
        "],\"seconds\":%.3f,\"states_per_second\":%.4g,\"edges_per_second_per_rank\":%.4g,"
        "\"peak_rss_per_rank\":%" PRIu64 ",\"shared_memory\":%s,\"exchange_seconds_rank0\":%.3f,"
        "\"exchange_bytes_rank0\":%" PRIu64 "}\n",
        r->seconds, r->seconds > 0 ? (double)r->num_states / r->seconds : 0, erate, r->peak_mem_max,
        r->shared_memory ? "true" : "false", r->exchange_seconds, r->exchange_bytes);
    fflush(out);
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

/* Rank 0 says why a run cannot start from (or next to) a checkpoint; every rank returns
 * SB_ECKPT.  The callers' conditions are identical on every rank. */
static int refuse(const sb_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(const sb_ctx *ctx, const char *fmt, ...)
{
    if (ctx->rank == 0) {
        va_list ap;
        va_start(ap, fmt);
        fputs("symbatch: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    return SB_ECKPT;
}

/* The engine of a resumed run is the checkpoint's.  Under mode auto a frontier checkpoint
 * resumes in frontier mode even where full mode would now fit; a full checkpoint needs full
 * mode, which auto chose against only because it does not fit the budget on these ranks. */
static int resume_mode(const sb_growth_spec *spec, const sb_ctx *ctx, sb_ckpt *c,
                       const sb_mem_estimate *est, const char **mode)
{
    char theirs[32];
    int err = sb_ckpt_get_str(c, "fingerprint.growth.mode", theirs, sizeof theirs);
    if (err || spec->mode != SB_MODE_AUTO || strcmp(theirs, *mode) == 0)
        return err;
    if (strcmp(theirs, "frontier") == 0) {
        *mode = "frontier";
        return 0;
    }
    return refuse(ctx,
                  "cannot resume from '%s': it was written in full mode, which does not fit the "
                  "memory budget on %d ranks (%s); resume on more ranks or raise memory_per_rank",
                  c->path, ctx->size, est && est->note[0] ? est->note : "auto chose frontier");
}

/* Opens the checkpoint to resume from and checks that it belongs to this job. */
static int open_resume(const sb_job *job, const sb_ctx *ctx, const sb_mem_estimate *est, sb_ckpt *c,
                       const char *path, const char **mode)
{
    char kind[32], why[2600];
    int err = sb_ckpt_open(c, ctx, path);
    if (err)
        return err;
    err = sb_ckpt_get_str(c, "kind", kind, sizeof kind);
    if (!err && strcmp(kind, "growth") != 0)
        err = refuse(ctx, "cannot resume from '%s': it is a checkpoint of a %s job", path, kind);
    if (!err)
        err = resume_mode(job->spec, ctx, c, est, mode);
    sb_growth_fp fp;
    sb_growth_fingerprint(job->spec, *mode, &fp);
    if (!err && sb_growth_fp_check(c, &fp, why, sizeof why) == SB_ECKPT)
        err = refuse(ctx, "cannot resume from '%s': %s", path, why);
    if (err)
        sb_ckpt_close(c);
    return err;
}

/* Before any work: --resume opens the checkpoint; a fresh run is refused while one exists
 * (--force removes it: the user asked to start over). */
static int prepare_checkpoint(const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts,
                              sb_ckpt *c, const char *path, const char **mode)
{
    if (opts->resume)
        return open_resume(job, ctx, opts->estimate, c, path, mode);
    bool exists = false;
    int err = sb_ckpt_exists(ctx, path, &exists);
    if (err || !exists)
        return err;
    if (!opts->force)
        return refuse(ctx,
                      "checkpoint '%s' exists: pass --resume to continue, or --force to start "
                      "over",
                      path);
    return sb_ckpt_remove(ctx, path);
}

static void print_start(const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts,
                        const char *mode, FILE *out)
{
    const sb_growth_spec *spec = job->spec;
    const sb_mem_estimate *est = opts->estimate;
    if (ctx->rank != 0 || !out)
        return;
    fprintf(out, "symbatch: growth of %s n=%d (%d generators, %s) on %d ranks, %s mode\n",
            spec->gens.family, spec->gens.n, spec->gens.ngens,
            spec->gens.inverse_closed ? "undirected" : "directed", ctx->size, mode);
    if (est && est->note[0])
        fprintf(out, "symbatch: %s\n", est->note);
}

/* Runs the engine with the signal handlers in place (SIGTERM, SIGUSR1: checkpoint and stop). */
static int run_engine(const sb_growth_spec *spec, const sb_ctx *ctx, const char *mode,
                      sb_growth_progress *prog, sb_growth_result *r)
{
    sb_signals *sig = NULL;
    int err = sb_ctx_agree(ctx, sb_signals_install(&sig));
    if (!err && strcmp(mode, "full") == 0)
        err = sb_growth_full(spec, ctx, prog, r);
    else if (!err)
        err = sb_growth_frontier(spec, ctx, prog, r);
    sb_signals_restore(sig);
    return err;
}

/* The result is complete: its checkpoint is not needed any more. */
static void remove_checkpoint(const sb_ctx *ctx, const char *path)
{
    if (sb_ckpt_remove(ctx, path) != 0 && ctx->rank == 0)
        fprintf(stderr,
                "symbatch: warning: the result is complete, but checkpoint '%s' could "
                "not be removed; remove it before running this job again\n",
                path);
}

static int growth_run(const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts)
{
    const sb_growth_spec *spec = job->spec;
    const char *output = opts->output_override ? opts->output_override : job->output;
    const sb_mem_estimate *est = opts->estimate;
    const char *mode = est && strcmp(est->mode, "full") == 0 ? "full" : "frontier";
    char ckpath[4096 + 16];
    sb_ckpt resume;
    memset(&resume, 0, sizeof resume);
    if (sb_ckpt_path(ckpath, sizeof ckpath, output))
        return SB_EINPUT;
    int err = prepare_checkpoint(job, ctx, opts, &resume, ckpath, &mode);
    if (err)
        return err;
    sb_h5 h;
    err = sb_h5_create(&h, ctx, job, output, opts->force);
    if (err) {
        sb_ckpt_close(&resume);
        return err;
    }
    sb_growth_ckpt g = {.path = ckpath,
                        .every = job->checkpoint_every,
                        .job = job,
                        .resume = opts->resume ? &resume : NULL};
    sb_growth_progress prog = {
        .out = opts->quiet ? NULL : opts->progress, .t_start = sb_now(), .ckpt = &g};
    sb_growth_result r;
    memset(&r, 0, sizeof r);
    print_start(job, ctx, opts, mode, prog.out);
    err = run_engine(spec, ctx, mode, &prog, &r);
    sb_ckpt_close(&resume);
    if (!err)
        err = write_growth(&h, spec, &r);
    if (!err)
        err = sb_h5_commit(&h, 0);
    else
        sb_h5_abort(&h);
    if (!err)
        remove_checkpoint(ctx, ckpath);
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
