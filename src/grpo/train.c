/* The grpo update loop over MPI ranks (grpo.md; the numerics are symbatch/grpo.h's).
 *
 * One update: every rank rolls out its own groups (groups are never split: rank r owns groups
 * [r B, (r + 1) B), B = groups / ranks), the integer totals (tokens, rewards, all-equal
 * groups) are summed exactly, advantages follow per group (A-GRAE's omega is the global mean
 * reward), then mu gradient steps and Adam.
 *
 * Bitwise the same for any number of ranks, because:
 *   - random numbers are positional: (seed, stream = purpose and update, position = group,
 *     draw, trajectory, step), never a generator's running state;
 *   - every BLAS call's shape depends on one group only: a group's G trajectories step
 *     together as one batch in the rollout, and its steps form one batch in training;
 *   - per-group gradient and metric vectors are summed in group order by a chain over the
 *     ranks: rank 0 adds its groups to zero and passes the sum on, rank 1 adds its groups in
 *     order, ... the last rank broadcasts.  That is the one-rank loop's order of additions;
 *   - integer totals travel as integers; parameters and Adam's moments are replicated, and
 *     every rank applies the same step to the same numbers.
 *
 * Rewards are 1[solved], plus with shaping C (d_start - d_end) / d_start from the distance
 * table (a potential-based progress term: a function of the states alone, so still
 * positional and deterministic).  Solve rates and A-GRAE's omega count solved only. */
#include "grpo/grpo_impl.h"

#include "symbatch/ckpt.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables --------------------------------------------------------------------------------- */

const sb_column sb_grpo_metric_cols[] = {
    {"update", SB_COL_I64, "update (from 0)"},
    {"reward_mean", SB_COL_F64, "reward"},
    {"reward_std", SB_COL_F64, "reward"},
    {"solve_rate", SB_COL_F64, "fraction of trajectories"},
    {"all_solved_frac", SB_COL_F64, "fraction of groups"},
    {"all_failed_frac", SB_COL_F64, "fraction of groups"},
    {"entropy", SB_COL_F64, "nats per step"},
    {"kl", SB_COL_F64, "nats per step (0 when kl.beta = 0)"},
    {"clip_low_frac", SB_COL_F64, "fraction of steps"},
    {"clip_high_frac", SB_COL_F64, "fraction of steps"},
    {"grad_norm", SB_COL_F64, "before clipping"},
    {"length_mean", SB_COL_F64, "moves"},
    {"truncated_frac", SB_COL_F64, "fraction of trajectories"},
    {"adv_pos_sum", SB_COL_F64, "advantage"},
    {"adv_neg_sum", SB_COL_F64, "advantage"},
    {"omega", SB_COL_F64, "solve rate of the update (A-GRAE)"},
    {"lr", SB_COL_F64, "learning rate"},
    {"steps_per_second", SB_COL_F64, "policy steps per second, all ranks"},
    {"loss", SB_COL_F64, "objective"},
    {"tokens", SB_COL_I64, "policy steps"},
    {"distance_mean", SB_COL_F64, "start distance"},
    {"resampled", SB_COL_I64, "groups drawn again (dynamic sampling)"},
};
const int sb_grpo_metric_ncols = (int)(sizeof sb_grpo_metric_cols / sizeof sb_grpo_metric_cols[0]);

enum {
    C_UPDATE,
    C_REWARD_MEAN,
    C_REWARD_STD,
    C_SOLVE,
    C_ALL_SOLVED,
    C_ALL_FAILED,
    C_ENTROPY,
    C_KL,
    C_CLIP_LOW,
    C_CLIP_HIGH,
    C_GRAD_NORM,
    C_LENGTH,
    C_TRUNCATED,
    C_ADV_POS,
    C_ADV_NEG,
    C_OMEGA,
    C_LR,
    C_SPS,
    C_LOSS,
    C_TOKENS,
    C_DISTANCE,
    C_RESAMPLED,
    C_NCOLS
};

/* Float sums per group, added after the gradient in the chained vector. */
enum {
    M_ENTROPY,
    M_KL,
    M_ADV_POS,
    M_ADV_NEG,
    M_CLIP_LOW,
    M_CLIP_HIGH,
    M_LOSS,
    M_REWARD,    /* sum of the (shaped) rewards */
    M_REWARD_SQ, /* and of their squares */
    M_N
};
/* Integer totals per update, summed exactly. */
enum { I_TOKENS, I_SOLVED, I_ALL_SOLVED, I_ALL_FAILED, I_RESAMPLED, I_DISTANCE, I_N };

#define MAX_TRIES_BITS 11 /* dynamic_tries <= 1024 */
#define TAG_CHAIN      7301

/* ---- state ---------------------------------------------------------------------------------- */

/* One group's rollouts, kept on the rank that owns it until the update is done. */
typedef struct group {
    int rows; /* policy steps */
    int32_t *idx;
    int32_t *act; /* moves: generator sets may have thousands */
    uint16_t *traj;
    int *len, *solved;
    double *reward, *adv, *lp_old, *lp_ref;
    int distance, tries;
} group;

typedef struct trainer {
    const sb_grpo_spec *spec;
    uint64_t seed;
    const sb_ctx *ctx;
    sb_step *step;
    sb_grpo_env env;
    sb_mlp_shape shape;
    size_t np, veclen;
    double *params, *ref, *vecs, *acc, *dz, *logp;
    sb_adam adam;
    sb_adam_cfg acfg;
    sb_adv_cfg advcfg;
    sb_mlp_batch *roll, *train;
    int G, T, nloc, g0;
    group *groups;
    uint8_t *states, *next;
    int32_t *ridx;
    int *active, *done;
    double *dist_cdf; /* cumulative weights of the distances lo..hi */
    sb_grpo_result *r;
    int64_t u; /* updates done */
} trainer;

/* ---- setup ---------------------------------------------------------------------------------- */

static int alloc_group(group *g, int G, int T, int m)
{
    size_t rows = (size_t)G * (size_t)T;
    g->idx = malloc(rows * (size_t)m * sizeof *g->idx);
    g->act = malloc(rows * sizeof *g->act);
    g->traj = malloc(rows * sizeof *g->traj);
    g->lp_old = malloc(rows * sizeof *g->lp_old);
    g->lp_ref = malloc(rows * sizeof *g->lp_ref);
    g->len = calloc((size_t)G, sizeof *g->len);
    g->solved = calloc((size_t)G, sizeof *g->solved);
    g->reward = calloc((size_t)G, sizeof *g->reward);
    g->adv = calloc((size_t)G, sizeof *g->adv);
    bool ok = g->idx && g->act && g->traj && g->lp_old && g->lp_ref && g->len && g->solved &&
              g->reward && g->adv;
    return ok ? 0 : SB_ENOMEM;
}

static void free_group(group *g)
{
    free(g->idx);
    free(g->act);
    free(g->traj);
    free(g->lp_old);
    free(g->lp_ref);
    free(g->len);
    free(g->solved);
    free(g->reward);
    free(g->adv);
}

static int make_cdf(trainer *t)
{
    const sb_grpo_spec *s = t->spec;
    int n = (int)(s->distance[1] - s->distance[0] + 1);
    t->dist_cdf = malloc((size_t)n * sizeof *t->dist_cdf);
    if (!t->dist_cdf)
        return SB_ENOMEM;
    double total = 0;
    for (int i = 0; i < n; i++)
        total += s->weights ? s->weights[i] : 1.0;
    double run = 0;
    for (int i = 0; i < n; i++) {
        run += s->weights ? s->weights[i] : 1.0;
        t->dist_cdf[i] = run / total;
    }
    t->dist_cdf[n - 1] = 1.0;
    return 0;
}

static int setup(trainer *t)
{
    const sb_grpo_spec *s = t->spec;
    const int m = s->env.gens.m, ngens = s->env.gens.ngens;
    t->G = (int)s->group_size;
    t->T = (int)s->horizon;
    t->nloc = (int)(s->groups / t->ctx->size);
    t->g0 = t->ctx->rank * t->nloc;
    sb_grpo_shape(s, &t->shape);
    t->np = sb_mlp_nparams(&t->shape);
    t->veclen = t->np + M_N;
    sb_grpo_adam_cfg(s, &t->acfg);
    sb_grpo_adv_cfg(s, &t->advcfg);
    size_t rows = (size_t)t->G * (size_t)t->T;
    int err = t->np ? 0 : SB_EINTERNAL;
    if (!err)
        err = sb_adam_init(&t->adam, t->np);
    if (!err)
        err = sb_mlp_batch_create(&t->roll, &t->shape, t->G);
    if (!err)
        err = sb_mlp_batch_create(&t->train, &t->shape, (int)rows);
    t->params = malloc(t->np * sizeof *t->params);
    t->ref = s->kl_beta > 0 ? malloc(t->np * sizeof *t->ref) : NULL;
    t->vecs = malloc((size_t)(t->nloc ? t->nloc : 1) * t->veclen * sizeof *t->vecs);
    t->acc = malloc(t->veclen * sizeof *t->acc);
    t->dz = malloc(rows * (size_t)ngens * sizeof *t->dz);
    t->logp = malloc((size_t)ngens * sizeof *t->logp);
    t->states = malloc((size_t)t->G * (size_t)m);
    t->next = malloc((size_t)m);
    t->ridx = malloc((size_t)t->G * (size_t)m * sizeof *t->ridx);
    t->active = malloc((size_t)t->G * sizeof *t->active);
    t->done = malloc((size_t)t->G * sizeof *t->done);
    t->groups = calloc((size_t)(t->nloc ? t->nloc : 1), sizeof *t->groups);
    if (!t->params || (s->kl_beta > 0 && !t->ref) || !t->vecs || !t->acc || !t->dz || !t->logp ||
        !t->states || !t->next || !t->ridx || !t->active || !t->done || !t->groups)
        err = err ? err : SB_ENOMEM;
    for (int g = 0; g < t->nloc && !err; g++)
        err = alloc_group(&t->groups[g], t->G, t->T, m);
    if (!err)
        err = make_cdf(t);
    return sb_ctx_agree_report(t->ctx, err, "cannot set up the trainer (out of memory?)");
}

static void teardown(trainer *t)
{
    for (int g = 0; t->groups && g < t->nloc; g++)
        free_group(&t->groups[g]);
    free(t->groups);
    sb_adam_free(&t->adam);
    sb_mlp_batch_free(t->roll);
    sb_mlp_batch_free(t->train);
    free(t->ref);
    free(t->vecs);
    free(t->acc);
    free(t->dz);
    free(t->logp);
    free(t->states);
    free(t->next);
    free(t->ridx);
    free(t->active);
    free(t->done);
    free(t->dist_cdf);
    sb_grpo_env_close(&t->env);
}

/* ---- rollouts ------------------------------------------------------------------------------- */

/* An action drawn from log-probabilities by inverse CDF with a uniform u in [0, 1). */
static int draw(const double *logp, int n, double u)
{
    double c = 0;
    for (int a = 0; a < n; a++) {
        c += exp(logp[a]);
        if (u < c)
            return a;
    }
    return n - 1;
}

static int start_distance(const trainer *t, int64_t gid, int try)
{
    const sb_grpo_spec *s = t->spec;
    uint64_t pos = ((uint64_t)gid << MAX_TRIES_BITS | (uint64_t)try) << 1;
    double u = sb_rand_unit(t->seed, sb_grpo_stream(SB_GRPO_STREAM_START, (uint64_t)t->u), pos);
    int n = (int)(s->distance[1] - s->distance[0] + 1), i = 0;
    while (i < n - 1 && u >= t->dist_cdf[i])
        i++;
    return (int)s->distance[0] + i;
}

/* One step of the active trajectories of a group, as one batch. */
static void rollout_step(trainer *t, group *g, int64_t gid, int try, int step, int n)
{
    const int m = t->env.m, ngens = t->env.ngens;
    const double tau = t->spec->temperature;
    const uint64_t stream = sb_grpo_stream(SB_GRPO_STREAM_ROLL, (uint64_t)t->u);
    const double *logits = sb_mlp_forward(t->roll, t->params, t->ridx, m, n);
    for (int j = 0; j < n; j++) {
        int i = t->active[j];
        uint64_t pos =
            ((((uint64_t)gid << MAX_TRIES_BITS | (uint64_t)try) * (uint64_t)t->G + (uint64_t)i) *
             (uint64_t)t->T) +
            (uint64_t)step;
        sb_log_softmax(logits + (size_t)j * (size_t)ngens, ngens, tau, t->logp);
        int a = draw(t->logp, ngens, sb_rand_unit(t->seed, stream, pos));
        memcpy(g->idx + (size_t)g->rows * (size_t)m, t->ridx + (size_t)j * (size_t)m,
               (size_t)m * sizeof *g->idx);
        g->act[g->rows] = a;
        g->traj[g->rows] = (uint16_t)i;
        g->rows++;
        uint8_t *s = t->states + (size_t)i * (size_t)m;
        sb_grpo_env_move(&t->env, a, s, t->next);
        memcpy(s, t->next, (size_t)m);
        g->len[i]++;
        if (sb_grpo_env_solved(&t->env, s))
            g->solved[i] = 1;
        t->done[i] = g->solved[i] || g->len[i] >= t->T;
    }
}

/* 1[solved], plus C times the fraction of the start's distance covered by the final state
 * (t->states) with shaping; solved means d_end = 0, a reward of 1 + C. */
static void shaped_rewards(trainer *t, group *g, const uint8_t *start)
{
    const double c = t->spec->shaping_distance;
    const int d0 = c > 0 ? sb_grpo_env_distance(&t->env, start) : 0;
    for (int i = 0; i < t->G; i++) {
        g->reward[i] = g->solved[i];
        if (d0 <= 0) /* off, or a start at the goal (distances are >= 1: not reached) */
            continue;
        int d = g->solved[i]
                    ? 0
                    : sb_grpo_env_distance(&t->env, t->states + (size_t)i * (size_t)t->env.m);
        d = d < 0 || d > SB_GRPO_MAX_DIST ? d0 : d; /* not in the table: no progress */
        g->reward[i] += c * (double)(d0 - d) / (double)d0;
    }
}

/* The G trajectories of group gid (draw `try`), stepping together. */
static void rollout_group(trainer *t, group *g, int64_t gid, int try)
{
    const int m = t->env.m;
    uint8_t start[SB_MAX_ELEMS];
    g->distance = start_distance(t, gid, try);
    uint64_t pos = ((uint64_t)gid << MAX_TRIES_BITS | (uint64_t)try) << 1 | 1;
    sb_grpo_env_sample(&t->env, g->distance, t->seed,
                       sb_grpo_stream(SB_GRPO_STREAM_START, (uint64_t)t->u), pos, start);
    g->rows = 0;
    for (int i = 0; i < t->G; i++) {
        memcpy(t->states + (size_t)i * (size_t)m, start, (size_t)m);
        g->len[i] = 0;
        g->solved[i] = sb_grpo_env_solved(&t->env, start);
        t->done[i] = g->solved[i];
    }
    for (int step = 0; step < t->T; step++) {
        int n = 0;
        for (int i = 0; i < t->G; i++)
            if (!t->done[i]) {
                sb_grpo_env_encode(&t->env, t->states + (size_t)i * (size_t)m,
                                   t->ridx + (size_t)n * (size_t)m);
                t->active[n++] = i;
            }
        if (n == 0)
            break;
        rollout_step(t, g, gid, try, step, n);
    }
    shaped_rewards(t, g, start);
}

static bool all_equal(const group *g, int G)
{
    for (int i = 1; i < G; i++)
        if (g->reward[i] != g->reward[0])
            return false;
    return true;
}

/* Rolls out the local groups; dynamic sampling draws a slot again (a fresh start state) while
 * its rewards are all equal, up to dynamic_tries draws. */
static void rollout_all(trainer *t, int64_t *ints)
{
    const sb_grpo_spec *s = t->spec;
    for (int k = 0; k < t->nloc; k++) {
        group *g = &t->groups[k];
        const int64_t gid = t->g0 + k;
        int try = 0;
        rollout_group(t, g, gid, try);
        while (s->dynamic_sampling && all_equal(g, t->G) && try + 1 < s->dynamic_tries) {
            rollout_group(t, g, gid, ++try);
            ints[I_RESAMPLED]++;
        }
        g->tries = try + 1;
        int solved = 0;
        for (int i = 0; i < t->G; i++)
            solved += g->solved[i];
        ints[I_TOKENS] += g->rows;
        ints[I_SOLVED] += solved;
        ints[I_ALL_SOLVED] += solved == t->G;
        ints[I_ALL_FAILED] += solved == 0;
        ints[I_DISTANCE] += g->distance;
    }
}

/* ---- gradient ------------------------------------------------------------------------------- */

typedef struct totals {
    int64_t tokens, ntraj;
    double omega;
} totals;

/* One group's gradient and metric sums into vec (veclen doubles, zeroed here). */
static void group_gradient(trainer *t, group *g, int k, const totals *tt, double *vec)
{
    const sb_grpo_spec *s = t->spec;
    const int m = t->env.m, ngens = t->env.ngens;
    const double tau = s->temperature, beta = s->kl_beta;
    const double norm = s->agg_norm_set ? s->agg_norm : (double)s->horizon;
    double *met = vec + t->np;
    memset(vec, 0, t->veclen * sizeof *vec);
    for (int i = 0; i < t->G && k == 0; i++) {
        met[M_ADV_POS] += g->adv[i] > 0 ? g->adv[i] : 0;
        met[M_ADV_NEG] += g->adv[i] < 0 ? g->adv[i] : 0;
        met[M_REWARD] += g->reward[i];
        met[M_REWARD_SQ] += g->reward[i] * g->reward[i];
    }
    if (g->rows == 0)
        return;
    if (k == 0 && beta > 0) {
        const double *lz = sb_mlp_forward(t->train, t->ref, g->idx, m, g->rows);
        for (int r = 0; r < g->rows; r++) {
            sb_log_softmax(lz + (size_t)r * (size_t)ngens, ngens, tau, t->logp);
            g->lp_ref[r] = t->logp[g->act[r]];
        }
    }
    const double *z = sb_mlp_forward(t->train, t->params, g->idx, m, g->rows);
    for (int r = 0; r < g->rows; r++) {
        const int a = g->act[r], i = g->traj[r];
        sb_log_softmax(z + (size_t)r * (size_t)ngens, ngens, tau, t->logp);
        const double lp = t->logp[a];
        if (k == 0) {
            g->lp_old[r] = lp; /* pi_old is the policy that rolled out: ratio 1 at step 0 */
            met[M_ENTROPY] += sb_entropy(t->logp, ngens);
        }
        double dterm = 0, dkl = 0, kl = 0;
        int clipped = 0;
        double term = sb_grpo_surrogate(lp, g->lp_old[r], g->adv[i], s->eps_low, s->eps_high,
                                        &dterm, &clipped);
        if (beta > 0)
            kl = sb_grpo_kl((sb_kl_kind)s->kl_estimator, lp, g->lp_ref[r], &dkl);
        double w =
            sb_grpo_step_weight((sb_loss_agg)s->loss_agg, g->len[i], tt->tokens, tt->ntraj, norm);
        met[M_CLIP_LOW] += clipped < 0;
        met[M_CLIP_HIGH] += clipped > 0;
        if (k == 0) {
            met[M_KL] += kl;
            met[M_LOSS] -= w * (term - beta * kl);
        }
        sb_logp_grad(t->logp, ngens, a, -w * (dterm - beta * dkl), tau,
                     t->dz + (size_t)r * (size_t)ngens);
    }
    sb_mlp_backward(t->train, t->params, t->dz, vec);
}

/* The sum of every group's vector in group order (see the top of the file). */
static int chain_sum(trainer *t)
{
    const sb_ctx *ctx = t->ctx;
    const int n = (int)t->veclen;
    if (ctx->rank == 0)
        memset(t->acc, 0, t->veclen * sizeof *t->acc);
    else if (MPI_Recv(t->acc, n, MPI_DOUBLE, ctx->rank - 1, TAG_CHAIN, ctx->comm,
                      MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return SB_EMPI;
    for (int g = 0; g < t->nloc; g++) {
        const double *v = t->vecs + (size_t)g * t->veclen;
        for (size_t j = 0; j < t->veclen; j++)
            t->acc[j] += v[j];
    }
    if (ctx->rank + 1 < ctx->size &&
        MPI_Send(t->acc, n, MPI_DOUBLE, ctx->rank + 1, TAG_CHAIN, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    return MPI_Bcast(t->acc, n, MPI_DOUBLE, ctx->size - 1, ctx->comm) == MPI_SUCCESS ? 0 : SB_EMPI;
}

/* ---- one update ------------------------------------------------------------------------------ */

static int append_metrics(trainer *t, const int64_t *ints, const double *met, double gnorm,
                          double lr, double omega, double seconds)
{
    const double ntraj = (double)(t->spec->groups * t->spec->group_size);
    const double tokens = (double)ints[I_TOKENS], p = (double)ints[I_SOLVED] / ntraj;
    const double steps = tokens > 0 ? tokens : 1, ng = (double)t->spec->groups;
    sb_cell c[C_NCOLS];
    c[C_UPDATE].i = t->u;
    if (t->spec->shaping_distance > 0) { /* shaped: the group-ordered float sums */
        const double mean = met[M_REWARD] / ntraj, var = met[M_REWARD_SQ] / ntraj - mean * mean;
        c[C_REWARD_MEAN].f = mean;
        c[C_REWARD_STD].f = sqrt(var > 0 ? var : 0);
    } else {
        c[C_REWARD_MEAN].f = p;
        c[C_REWARD_STD].f = sqrt(p * (1 - p));
    }
    c[C_SOLVE].f = p;
    c[C_ALL_SOLVED].f = (double)ints[I_ALL_SOLVED] / ng;
    c[C_ALL_FAILED].f = (double)ints[I_ALL_FAILED] / ng;
    c[C_ENTROPY].f = met[M_ENTROPY] / steps;
    c[C_KL].f = met[M_KL] / steps;
    c[C_CLIP_LOW].f = met[M_CLIP_LOW] / (steps * (double)t->spec->mu);
    c[C_CLIP_HIGH].f = met[M_CLIP_HIGH] / (steps * (double)t->spec->mu);
    c[C_GRAD_NORM].f = gnorm;
    c[C_LENGTH].f = tokens / ntraj;
    c[C_TRUNCATED].f = 1 - p;
    c[C_ADV_POS].f = met[M_ADV_POS];
    c[C_ADV_NEG].f = met[M_ADV_NEG];
    c[C_OMEGA].f = omega;
    c[C_LR].f = lr;
    c[C_SPS].f = seconds > 0 ? tokens / seconds : 0;
    c[C_LOSS].f = met[M_LOSS];
    c[C_TOKENS].i = ints[I_TOKENS];
    c[C_DISTANCE].f = (double)ints[I_DISTANCE] / ng;
    c[C_RESAMPLED].i = ints[I_RESAMPLED];
    return sb_table_append_cells(t->r->metrics, c);
}

static int update(trainer *t)
{
    const double t0 = sb_now();
    const sb_ctx *ctx = t->ctx;
    int64_t local[I_N] = {0}, ints[I_N] = {0};
    rollout_all(t, local);
    sb_step_time(t->step, "rollout", sb_now() - t0);
    if (MPI_Allreduce(local, ints, I_N, MPI_INT64_T, MPI_SUM, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    totals tt = {ints[I_TOKENS], t->spec->groups * t->spec->group_size, 0};
    tt.omega = (double)ints[I_SOLVED] / (double)tt.ntraj;
    for (int k = 0; k < t->nloc; k++)
        sb_grpo_advantages(&t->advcfg, t->groups[k].reward, t->G, tt.omega, t->groups[k].adv);
    double met[M_N] = {0}, gnorm = 0, lr = 0;
    for (int k = 0; k < t->spec->mu; k++) {
        double tg = sb_now();
        for (int g = 0; g < t->nloc; g++)
            group_gradient(t, &t->groups[g], k, &tt, t->vecs + (size_t)g * t->veclen);
        double tc = sb_now();
        sb_step_time(t->step, "gradient", tc - tg);
        int err = chain_sum(t);
        sb_step_time(t->step, "reduce", sb_now() - tc);
        if (err)
            return err;
        for (int j = 0; j < M_N; j++)
            met[j] += k == 0 || j == M_CLIP_LOW || j == M_CLIP_HIGH ? t->acc[t->np + j] : 0;
        gnorm = sb_adam_step(&t->adam, &t->acfg, t->params, t->acc, &lr);
    }
    double dt = sb_now() - t0, dt_max = dt;
    if (MPI_Allreduce(&dt, &dt_max, 1, MPI_DOUBLE, MPI_MAX, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    t->r->policy_steps += (uint64_t)ints[I_TOKENS];
    return append_metrics(t, ints, met, gnorm, lr, tt.omega, dt_max);
}

/* ---- evaluation between updates ---------------------------------------------------------------
 */

static int evaluate(trainer *t)
{
    const sb_grpo_spec *s = t->spec;
    const double t0 = sb_now();
    int err =
        sb_grpo_evaluate(s, t->seed, &t->env, t->ctx, &t->shape, t->params, 1, t->u, t->r->eval);
    if (!err && s->beam_width > 1)
        err = sb_grpo_evaluate(s, t->seed, &t->env, t->ctx, &t->shape, t->params,
                               (int)s->beam_width, t->u, t->r->eval_beam);
    sb_step_time(t->step, "eval", sb_now() - t0);
    sb_grpo_last_rates(t->r->eval, (int)s->distance[1], &t->r->final_greedy,
                       &t->r->final_greedy_all);
    return err;
}

static bool eval_due(const trainer *t)
{
    return t->u == 0 || t->u % t->spec->eval_every == 0 || t->u == t->spec->updates;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

static int save(void *arg, sb_ckpt *ck)
{
    trainer *t = arg;
    const int root = t->ctx->rank == 0;
    const uint64_t n = t->np;
    uint64_t counters[3] = {(uint64_t)t->u, (uint64_t)t->adam.t, n};
    int err = sb_ckpt_write(ck, "/grpo/counters", SB_CKPT_U64, 3, 0, root ? 3 : 0, counters);
    if (!err)
        err = sb_ckpt_write(ck, "/grpo/params", SB_CKPT_F64, n, 0, root ? n : 0, t->params);
    if (!err)
        err = sb_ckpt_write(ck, "/grpo/adam_m", SB_CKPT_F64, n, 0, root ? n : 0, t->adam.m);
    if (!err)
        err = sb_ckpt_write(ck, "/grpo/adam_v", SB_CKPT_F64, n, 0, root ? n : 0, t->adam.v);
    if (!err && t->ref)
        err = sb_ckpt_write(ck, "/grpo/reference", SB_CKPT_F64, n, 0, root ? n : 0, t->ref);
    if (!err)
        err = sb_table_save(t->r->metrics, ck, "grpo_metrics");
    if (!err)
        err = sb_table_save(t->r->eval, ck, "grpo_eval");
    if (!err && t->r->eval_beam)
        err = sb_table_save(t->r->eval_beam, ck, "grpo_eval_beam");
    return err;
}

static int resume(trainer *t)
{
    sb_ckpt *ck = t->step->resume;
    const double t0 = sb_now();
    const uint64_t n = t->np;
    uint64_t counters[3] = {0, 0, 0};
    int err = sb_ckpt_read(ck, "/grpo/counters", SB_CKPT_U64, 0, 3, counters);
    if (!err && counters[2] == n && counters[0] > (uint64_t)t->spec->updates) {
        if (t->ctx->rank == 0)
            fprintf(t->ctx->err,
                    "symbatch: checkpoint '%s' holds %" PRIu64 " updates, more than this job's "
                    "grpo.updates (%" PRId64 "): raise it to continue\n",
                    ck->path, counters[0], t->spec->updates);
        err = SB_ECKPT;
    }
    if (!err && (counters[2] != n || counters[0] < 1 || counters[0] > (uint64_t)INT64_MAX)) {
        if (t->ctx->rank == 0)
            fprintf(t->ctx->err,
                    "symbatch: checkpoint '%s': %" PRIu64 " parameters, this job's policy has "
                    "%zu\n",
                    ck->path, counters[2], t->np);
        err = SB_ECKPT;
    }
    if (!err)
        err = sb_ckpt_read(ck, "/grpo/params", SB_CKPT_F64, 0, n, t->params);
    if (!err)
        err = sb_ckpt_read(ck, "/grpo/adam_m", SB_CKPT_F64, 0, n, t->adam.m);
    if (!err)
        err = sb_ckpt_read(ck, "/grpo/adam_v", SB_CKPT_F64, 0, n, t->adam.v);
    if (!err && t->ref)
        err = sb_ckpt_read(ck, "/grpo/reference", SB_CKPT_F64, 0, n, t->ref);
    if (!err)
        err = sb_table_load(t->r->metrics, ck, "grpo_metrics");
    if (!err)
        err = sb_table_load(t->r->eval, ck, "grpo_eval");
    if (!err && t->r->eval_beam)
        err = sb_table_load(t->r->eval_beam, ck, "grpo_eval_beam");
    if (err)
        return err;
    t->u = (int64_t)counters[0];
    t->adam.t = (int64_t)counters[1];
    sb_step_resumed(t->step, t->u - 1, sb_now() - t0);
    sb_grpo_last_rates(t->r->eval, (int)t->spec->distance[1], &t->r->final_greedy,
                       &t->r->final_greedy_all);
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------------- */

static int progress(trainer *t)
{
    const sb_table *mt = t->r->metrics;
    const uint64_t row = sb_table_rows(mt) - 1;
    char fields[256];
    snprintf(fields, sizeof fields,
             "reward %.4f  H %.4f  kl %.3g  |g| %.3g  len %5.2f  greedy %.3f  %.3g steps/s",
             sb_table_value(mt, row, C_REWARD_MEAN), sb_table_value(mt, row, C_ENTROPY),
             sb_table_value(mt, row, C_KL), sb_table_value(mt, row, C_GRAD_NORM),
             sb_table_value(mt, row, C_LENGTH), t->r->final_greedy, sb_table_value(mt, row, C_SPS));
    return sb_step_progress(t->step, t->u - 1, fields, t->u == t->spec->updates);
}

static int loop(trainer *t)
{
    int err = 0;
    const double t0 = sb_now();
    if (t->u == 0)
        err = evaluate(t);
    while (!err && t->u < t->spec->updates) {
        double tu = sb_now();
        err = update(t);
        t->r->train_seconds += sb_now() - tu;
        sb_step_time(t->step, "update", sb_now() - tu);
        if (err)
            break;
        t->u++;
        if (eval_due(t))
            err = evaluate(t);
        if (!err)
            err = progress(t);
        if (!err)
            err = sb_step_boundary(t->step, t->u - 1, save, t);
    }
    t->r->updates_done = t->u;
    t->r->seconds = sb_now() - t0;
    return err;
}

static int make_tables(sb_grpo_result *r, bool beam)
{
    int err = sb_table_create(&r->metrics, sb_grpo_metric_cols, sb_grpo_metric_ncols, NULL);
    if (!err)
        err = sb_table_create(&r->eval, sb_grpo_eval_cols, sb_grpo_eval_ncols, NULL);
    if (!err && beam)
        err = sb_table_create(&r->eval_beam, sb_grpo_eval_cols, sb_grpo_eval_ncols, NULL);
    return err;
}

int sb_grpo_train(const sb_grpo_spec *spec, uint64_t seed, const sb_ctx *ctx, sb_step *step,
                  sb_grpo_result *r)
{
    trainer t;
    memset(&t, 0, sizeof t);
    memset(r, 0, sizeof *r);
    t.spec = spec;
    t.seed = seed;
    t.ctx = ctx;
    t.step = step;
    t.r = r;
    if (spec->groups % ctx->size != 0) {
        if (ctx->rank == 0)
            fprintf(ctx->err,
                    "symbatch: grpo.groups: %" PRId64 " groups cannot be split over %d "
                    "ranks\n",
                    spec->groups, ctx->size);
        return SB_EINPUT;
    }
    int lo = (int)(spec->distance[0] < spec->eval_distance[0] ? spec->distance[0]
                                                              : spec->eval_distance[0]);
    int hi = (int)(spec->distance[1] > spec->eval_distance[1] ? spec->distance[1]
                                                              : spec->eval_distance[1]);
    int err = sb_grpo_env_open(&t.env, spec, ctx, lo, hi);
    if (!err)
        err = sb_ctx_agree(ctx, make_tables(r, spec->beam_width > 1));
    if (!err)
        err = setup(&t);
    if (!err) {
        sb_step_time(step, "table", t.env.read_seconds);
        r->has_table = t.env.has_table;
        r->table_states = t.env.nstates;
        r->shared_table = t.env.shared;
        sb_mlp_init(&t.shape, t.params, seed, sb_grpo_stream(SB_GRPO_STREAM_INIT, 0),
                    spec->init_last_std);
        if (t.ref)
            memcpy(t.ref, t.params, t.np * sizeof *t.ref);
        step->total = spec->updates;
        step->ckpt_bytes_local = ctx->rank == 0 ? (uint64_t)t.np * 8 * 4 + (1u << 20) : 0;
        if (step->resume)
            err = resume(&t);
    }
    if (!err)
        err = loop(&t);
    r->shape = t.shape;
    r->nparams = t.np;
    r->params = t.params;
    t.params = NULL;
    teardown(&t);
    return err;
}

void sb_grpo_result_free(sb_grpo_result *r)
{
    free(r->params);
    sb_table_free(r->metrics);
    sb_table_free(r->eval);
    sb_table_free(r->eval_beam);
    memset(r, 0, sizeof *r);
}
