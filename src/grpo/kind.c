/* The grpo job kind: the table entry that ties the section (spec.c), the trainer (train.c) and
 * the result file together. */
#include "grpo/grpo_impl.h"

#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/io.h"
#include "symbatch/json.h"
#include "symbatch/run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Memory per rank: the distance table (one copy per node, counted whole for the rank that may
 * be alone on its node), its block counts, and the trainer's buffers. */
static int grpo_estimate(const sb_job *job, int nranks, uint64_t budget, sb_mem_estimate *out)
{
    (void)budget;
    const sb_grpo_spec *s = job->spec;
    memset(out, 0, sizeof *out);
    snprintf(out->mode, sizeof out->mode, "%s", s->distances_from ? "table" : "random-walk");
    if (s->groups % nranks != 0) {
        snprintf(out->note, sizeof out->note,
                 "grpo.groups: %" PRId64 " groups cannot be split evenly over %d ranks (groups "
                 "are never split: give a multiple of the number of ranks)",
                 s->groups, nranks);
        return SB_EINPUT;
    }
    sb_mlp_shape shape;
    sb_grpo_shape(s, &shape);
    const uint64_t np = sb_mlp_nparams(&shape), rows = (uint64_t)(s->group_size * s->horizon);
    uint64_t width = 0;
    for (int l = 0; l <= shape.nlayers; l++)
        width += (uint64_t)shape.sizes[l];
    const uint64_t nloc = (uint64_t)(s->groups / nranks);
    const uint64_t policy = np * 8 * (6 + nloc) + rows * width * 8 * 3 +
                            nloc * rows * ((uint64_t)s->env.gens.m * 4 + 24);
    const int lo =
        (int)(s->distance[0] < s->eval_distance[0] ? s->distance[0] : s->eval_distance[0]);
    const int hi =
        (int)(s->distance[1] > s->eval_distance[1] ? s->distance[1] : s->eval_distance[1]);
    const uint64_t N = s->distances_from ? s->table_states : 0;
    const uint64_t counts = N ? (uint64_t)(hi - lo + 1) * (N / SB_GRPO_BLOCK + 2) * 8 : 0;
    /* Nothing shrinks with more ranks: the table is per node and the buffers per rank. */
    out->bytes_per_rank = policy + counts + ((uint64_t)16 << 20) + N;
    out->bytes_fixed = out->bytes_per_rank;
    out->bytes_total = out->bytes_per_rank * (uint64_t)nranks;
    out->enforce = true;
    char t[32], p[32];
    sb_fmt_bytes(t, sizeof t, (double)N);
    sb_fmt_bytes(p, sizeof p, (double)(out->bytes_per_rank - N));
    snprintf(out->detail, sizeof out->detail,
             "distance table %s per node (shared by its ranks) + policy, optimiser and "
             "rollout buffers %s",
             t, p);
    return 0;
}

/* ---- the result file ---------------------------------------------------------------------- */

static int write_policy(sb_h5 *h, const sb_grpo_result *r, int encoding)
{
    uint64_t sizes[SB_MLP_MAX_LAYERS + 1];
    for (int l = 0; l <= r->shape.nlayers; l++)
        sizes[l] = (uint64_t)r->shape.sizes[l];
    int err = sb_h5_group(h, "/grpo/policy");
    if (!err)
        err = sb_h5_write_f64(h, "/grpo/policy/parameters", r->params, r->nparams, "-",
                              "the final policy: for each layer l, W_l (sizes[l+1] rows x "
                              "sizes[l] columns, row-major) then b_l");
    if (!err)
        err = sb_h5_write_u64(h, "/grpo/policy/layer_sizes", sizes, (uint64_t)r->shape.nlayers + 1,
                              "units", "input (positions x values, one-hot), hidden widths, moves");
    const char *input[] = {"input index i * values + column(s[i]) for every position i",
                           "input index column(s[i]) * m + i for every position i (m positions)"};
    char net[512];
    snprintf(net, sizeof net,
             "MLP: ReLU after every layer but the last; softmax over the moves; %s, columns = "
             "the distinct values of the central state in increasing order",
             input[encoding]);
    if (!err)
        err = sb_h5_attr_str(h, "/grpo/policy", "network", net);
    if (!err)
        err = sb_h5_attr_str(h, "/grpo/policy", "encoding",
                             encoding ? "position_of_value" : "value_at_position");
    return err;
}

static int write_attrs(sb_h5 *h, const sb_job *job, const sb_grpo_result *r)
{
    const sb_grpo_spec *s = job->spec;
    const sb_genset *gs = &s->env.gens;
    char src[4200];
    if (s->distances_from)
        snprintf(src, sizeof src, "distance table %s", s->table_path);
    else
        snprintf(src, sizeof src, "random walk");
    const char *adv[] = {"grpo", "dr_grpo"}, *agrae[] = {"none", "sample", "group", "both"};
    int err = sb_h5_attr_str(h, "/grpo", "family", gs->family);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "n", gs->n);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "num_generators", gs->ngens);
    if (!err)
        err = sb_h5_attr_str(h, "/grpo", "start_states", src);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "distance_lo", s->distance[0]);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "distance_hi", s->distance[1]);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "horizon", s->horizon);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "seed", job->seed);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "updates", r->updates_done);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "groups", s->groups);
    if (!err)
        err = sb_h5_attr_i64(h, "/grpo", "group_size", s->group_size);
    if (!err)
        err = sb_h5_attr_str(h, "/grpo", "advantage", adv[s->advantage]);
    if (!err)
        err = sb_h5_attr_str(h, "/grpo", "agrae", agrae[s->agrae]);
    if (!err)
        err = sb_h5_attr_f64(h, "/grpo", "alpha", s->alpha);
    if (!err) /* 0: reward 1[solved]; C > 0: + C (d_start - d_end) / d_start */
        err = sb_h5_attr_f64(h, "/grpo", "shaping_distance", s->shaping_distance);
    if (!err)
        err = sb_h5_attr_f64(h, "/grpo", "final_greedy_solve_rate", r->final_greedy);
    return err;
}

static int grpo_write(sb_run *run, sb_h5 *h)
{
    const sb_grpo_spec *s = run->job->spec;
    const sb_grpo_result *r = run->result;
    const sb_genset *gs = &s->env.gens;
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(&s->env, central);
    int err = sb_h5_group(h, "/grpo");
    if (!err)
        err = sb_table_write(h, "/grpo/metrics", r->metrics, "one row per update");
    if (!err)
        err = sb_table_write(h, "/grpo/eval", r->eval,
                             "greedy evaluation: one row per (evaluation, distance) on a fixed "
                             "seeded set of start states");
    if (!err && r->eval_beam)
        err = sb_table_write(h, "/grpo/eval_beam", r->eval_beam,
                             "beam search evaluation (eval.beam_width) on the same states");
    if (!err)
        err = write_policy(h, r, s->encoding);
    if (!err)
        err = sb_h5_write_u8_rows_root(h, "/grpo/generators", gs->perm, (uint64_t)gs->ngens,
                                       (uint64_t)gs->m, "positions",
                                       "move g maps state s to s' with s'[i] = s[p[i]]");
    if (!err)
        err = sb_h5_write_u8_rows_root(h, "/grpo/central_state", central, 1, (uint64_t)gs->m,
                                       "element values", "the goal state");
    if (!err)
        err = write_attrs(h, run->job, r);
    return err;
}

static void grpo_summary(const sb_run *run, sb_json *j)
{
    const sb_grpo_spec *s = run->job->spec;
    const sb_grpo_result *r = run->result;
    sb_json_str(j, "family", s->env.gens.family);
    sb_json_i64(j, "n", s->env.gens.n);
    sb_json_str(j, "start_states", s->distances_from ? "distance table" : "random walk");
    sb_json_i64(j, "updates", r->updates_done);
    sb_json_u64(j, "parameters", r->nparams);
    sb_json_f64(j, "final_greedy_solve_rate", "%.4f", r->final_greedy);
    sb_json_f64(j, "final_greedy_solve_rate_all_distances", "%.4f", r->final_greedy_all);
    uint64_t rows = sb_table_rows(r->metrics);
    if (rows > 0)
        sb_json_f64(j, "final_reward_mean", "%.4f", sb_table_value(r->metrics, rows - 1, 1));
    sb_json_f64(j, "seconds", "%.3f", r->seconds);
    sb_json_f64(j, "train_seconds", "%.3f", r->train_seconds);
    sb_json_f64(j, "policy_steps_per_second_per_rank", "%.4g",
                r->train_seconds > 0 ? (double)r->policy_steps / r->train_seconds / run->ctx->size
                                     : 0);
    sb_json_bool(j, "shared_memory", r->shared_table);
}

static int grpo_run(sb_run *run)
{
    const sb_grpo_spec *s = run->job->spec;
    sb_grpo_result *r = calloc(1, sizeof *r);
    int err = sb_ctx_agree(run->ctx, r ? 0 : SB_ENOMEM);
    if (err) {
        free(r);
        return err;
    }
    run->result = r;
    sb_step_note(&run->step,
                 "symbatch: grpo on %s n=%d (%d moves), start states %s, %" PRId64
                 " groups x %" PRId64 " per update on %d ranks",
                 s->env.gens.family, s->env.gens.n, s->env.gens.ngens,
                 s->distances_from ? s->table_path : "by random walks", s->groups, s->group_size,
                 run->ctx->size);
    return sb_grpo_train(s, (uint64_t)run->job->seed, run->ctx, &run->step, r);
}

static void grpo_result_free(sb_run *run)
{
    if (run->result)
        sb_grpo_result_free(run->result);
    free(run->result);
    run->result = NULL;
}

const sb_job_kind sb_grpo_kind = {
    .name = "grpo",
    .summary = "policy optimisation (GRPO, Dr. GRPO, A-GRAE) on Cayley-graph sorting puzzles",
    .section = "grpo",
    .schema = sb_grpo_schema,
    .spec_size = sizeof(sb_grpo_spec),
    .spec_init = sb_grpo_spec_init,
    .spec_free = sb_grpo_spec_free,
    .validate = sb_grpo_validate,
    .estimate_memory = grpo_estimate,
    .describe = sb_grpo_describe,
    .step_unit = "update",
    .fingerprint = sb_grpo_fingerprint,
    .run = grpo_run,
    .write = grpo_write,
    .summary_fields = grpo_summary,
    .result_free = grpo_result_free,
    .inspect = sb_grpo_inspect,
};
