/* Evaluation of a grpo policy on a fixed seeded set of start states per distance: greedy
 * (the most probable move at every step) and, as an option, beam search of width W over the
 * policy's log-probabilities (it solves what greedy misses).
 *
 * The set is cut into chunks of EVAL_CHUNK states; chunk c runs on rank c mod ranks, greedy as
 * one batch per chunk and beam search as one batch per state, so that no forward pass's shape
 * depends on the number of ranks; the counts per distance are integers, summed exactly. */
#include "grpo/grpo_impl.h"

#include "symbatch/core.h"
#include "symbatch/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_CHUNK 32

const sb_column sb_grpo_eval_cols[] = {
    {"update", SB_COL_I64, "updates done"},
    {"distance", SB_COL_I64, "moves (true distance, or random-walk length without a table)"},
    {"states", SB_COL_I64, "states"},
    {"solved", SB_COL_I64, "states"},
    {"solve_rate", SB_COL_F64, "fraction of states"},
    {"excess_length_mean", SB_COL_F64, "moves beyond the distance, over solved states"},
};
const int sb_grpo_eval_ncols = (int)(sizeof sb_grpo_eval_cols / sizeof sb_grpo_eval_cols[0]);

typedef struct workspace {
    const sb_grpo_env *env;
    const double *params;
    int T, W, cap;
    sb_mlp_batch *b;
    int32_t *idx;
    uint8_t *states, *cand, *next;
    int *len, *active;
    double *logp, *score, *cscore;
    int *order;
} workspace;

static int ws_init(workspace *w, const sb_grpo_env *env, const sb_mlp_shape *shape,
                   const double *params, int T, int W)
{
    memset(w, 0, sizeof *w);
    w->env = env;
    w->params = params;
    w->T = T;
    w->W = W;
    w->cap = W > 1 ? W : EVAL_CHUNK;
    const size_t m = (size_t)env->m, g = (size_t)env->ngens, cap = (size_t)w->cap;
    int err = sb_mlp_batch_create(&w->b, shape, w->cap);
    w->idx = malloc(cap * m * sizeof *w->idx);
    w->states = malloc(cap * m);
    w->cand = malloc(cap * g * m);
    w->next = malloc(m);
    w->len = malloc((cap > EVAL_CHUNK ? cap : EVAL_CHUNK) * sizeof *w->len);
    w->active = malloc(cap * sizeof *w->active);
    w->logp = malloc(cap * g * sizeof *w->logp);
    w->score = malloc(cap * sizeof *w->score);
    w->cscore = malloc(cap * g * sizeof *w->cscore);
    w->order = malloc(cap * g * sizeof *w->order);
    if (!err && !(w->idx && w->states && w->cand && w->next && w->len && w->active && w->logp &&
                  w->score && w->cscore && w->order))
        err = SB_ENOMEM;
    return err;
}

static void ws_free(workspace *w)
{
    sb_mlp_batch_free(w->b);
    free(w->idx);
    free(w->states);
    free(w->cand);
    free(w->next);
    free(w->len);
    free(w->active);
    free(w->logp);
    free(w->score);
    free(w->cscore);
    free(w->order);
}

/* ---- greedy ------------------------------------------------------------------------------- */

static int argmax(const double *z, int n)
{
    int best = 0;
    for (int a = 1; a < n; a++)
        if (z[a] > z[best])
            best = a;
    return best;
}

/* Greedy rollouts of the n states in w->states; len[i] = moves to the goal, or -1. */
static void greedy(workspace *w, int n)
{
    const sb_grpo_env *e = w->env;
    const int m = e->m;
    int done[EVAL_CHUNK];
    for (int i = 0; i < n; i++) {
        done[i] = sb_grpo_env_solved(e, w->states + (size_t)i * (size_t)m);
        w->len[i] = done[i] ? 0 : -1;
    }
    for (int t = 0; t < w->T; t++) {
        int rows = 0;
        for (int i = 0; i < n; i++)
            if (!done[i]) {
                sb_grpo_env_encode(e, w->states + (size_t)i * (size_t)m,
                                   w->idx + (size_t)rows * (size_t)m);
                w->active[rows++] = i;
            }
        if (rows == 0)
            return;
        const double *z = sb_mlp_forward(w->b, w->params, w->idx, m, rows);
        for (int r = 0; r < rows; r++) {
            int i = w->active[r];
            uint8_t *s = w->states + (size_t)i * (size_t)m;
            sb_grpo_env_move(e, argmax(z + (size_t)r * (size_t)e->ngens, e->ngens), s, w->next);
            memcpy(s, w->next, (size_t)m);
            if (sb_grpo_env_solved(e, s)) {
                done[i] = 1;
                w->len[i] = t + 1;
            }
        }
    }
}

/* ---- beam search ------------------------------------------------------------------------- */

/* Candidates by score, highest first; equal scores by index (deterministic). */
static void sort_candidates(const double *score, int *order, int n)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) { /* insertion sort: n is W x generators, small */
        int x = order[i], j = i - 1;
        while (j >= 0 &&
               (score[order[j]] < score[x] || (score[order[j]] == score[x] && order[j] > x))) {
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = x;
    }
}

/* Beam search from one start state (w->states row 0): moves to the goal, or -1. */
static int beam(workspace *w, const uint8_t *start)
{
    const sb_grpo_env *e = w->env;
    const int m = e->m, ng = e->ngens;
    if (sb_grpo_env_solved(e, start))
        return 0;
    memcpy(w->states, start, (size_t)m);
    w->score[0] = 0;
    int nb = 1;
    for (int t = 0; t < w->T; t++) {
        for (int b = 0; b < nb; b++)
            sb_grpo_env_encode(e, w->states + (size_t)b * (size_t)m,
                               w->idx + (size_t)b * (size_t)m);
        const double *z = sb_mlp_forward(w->b, w->params, w->idx, m, nb);
        for (int b = 0; b < nb; b++) {
            sb_log_softmax(z + (size_t)b * (size_t)ng, ng, 1.0, w->logp + (size_t)b * (size_t)ng);
            for (int a = 0; a < ng; a++) {
                int c = b * ng + a;
                uint8_t *s = w->cand + (size_t)c * (size_t)m;
                sb_grpo_env_move(e, a, w->states + (size_t)b * (size_t)m, s);
                if (sb_grpo_env_solved(e, s))
                    return t + 1;
                w->cscore[c] = w->score[b] + w->logp[(size_t)b * (size_t)ng + (size_t)a];
            }
        }
        sort_candidates(w->cscore, w->order, nb * ng);
        int kept = 0;
        for (int k = 0; k < nb * ng && kept < w->W; k++) {
            const uint8_t *s = w->cand + (size_t)w->order[k] * (size_t)m;
            bool dup = false;
            for (int j = 0; j < kept && !dup; j++)
                dup = memcmp(w->states + (size_t)j * (size_t)m, s, (size_t)m) == 0;
            if (dup)
                continue;
            memmove(w->states + (size_t)kept * (size_t)m, s, (size_t)m);
            w->score[kept++] = w->cscore[w->order[k]];
        }
        nb = kept;
    }
    return -1;
}

/* ---- the evaluation set ------------------------------------------------------------------ */

static void eval_state(const sb_grpo_env *e, uint64_t seed, int d, int64_t j, uint8_t *s)
{
    sb_grpo_env_sample(e, d, seed, sb_grpo_stream(SB_GRPO_STREAM_EVAL, 0),
                       (uint64_t)d << 32 | (uint64_t)j, s);
}

/* One chunk of states [q0, q0 + n) of the set, adding to counts[2 * (d - lo) + {0, 1}]. */
static void run_chunk(workspace *w, const sb_grpo_spec *s, uint64_t seed, int64_t q0, int n,
                      int64_t *counts)
{
    const int m = w->env->m, lo = (int)s->eval_distance[0];
    uint8_t start[SB_MAX_ELEMS];
    int dist[EVAL_CHUNK];
    for (int i = 0; i < n; i++) {
        int64_t q = q0 + i;
        dist[i] = lo + (int)(q / s->eval_states);
        eval_state(w->env, seed, dist[i], q % s->eval_states,
                   w->W > 1 ? start : w->states + (size_t)i * (size_t)m);
        if (w->W > 1)
            w->len[i] = beam(w, start);
    }
    if (w->W <= 1)
        greedy(w, n);
    for (int i = 0; i < n; i++) {
        if (w->len[i] < 0)
            continue;
        counts[2 * (dist[i] - lo)]++;
        counts[2 * (dist[i] - lo) + 1] += w->len[i] - dist[i];
    }
}

static int append_rows(const sb_grpo_spec *s, int64_t update, const int64_t *counts,
                       sb_table *table)
{
    int nd = (int)(s->eval_distance[1] - s->eval_distance[0] + 1);
    for (int i = 0; i < nd; i++) {
        sb_cell c[6];
        int64_t solved = counts[2 * i];
        c[0].i = update;
        c[1].i = s->eval_distance[0] + i;
        c[2].i = s->eval_states;
        c[3].i = solved;
        c[4].f = (double)solved / (double)s->eval_states;
        c[5].f = solved ? (double)counts[2 * i + 1] / (double)solved : NAN;
        int err = sb_table_append_cells(table, c);
        if (err)
            return err;
    }
    return 0;
}

int sb_grpo_evaluate(const sb_grpo_spec *s, uint64_t seed, const sb_grpo_env *env,
                     const sb_ctx *ctx, const sb_mlp_shape *shape, const double *params,
                     int beam_width, int64_t update, sb_table *table)
{
    const int nd = (int)(s->eval_distance[1] - s->eval_distance[0] + 1);
    const int64_t total = nd * s->eval_states;
    const int64_t nchunks = (total + EVAL_CHUNK - 1) / EVAL_CHUNK;
    int64_t *local = calloc((size_t)nd * 2, sizeof *local);
    int64_t *counts = calloc((size_t)nd * 2, sizeof *counts);
    workspace w;
    int err = ws_init(&w, env, shape, params, (int)s->horizon, beam_width);
    err = sb_ctx_agree_report(ctx,
                              err               ? err
                              : local && counts ? 0
                                                : SB_ENOMEM,
                              "no memory for the evaluation");
    for (int64_t c = ctx->rank; !err && c < nchunks; c += ctx->size) {
        int64_t q0 = c * EVAL_CHUNK;
        int n = (int)(total - q0 < EVAL_CHUNK ? total - q0 : EVAL_CHUNK);
        run_chunk(&w, s, seed, q0, n, local);
    }
    if (!err &&
        MPI_Allreduce(local, counts, nd * 2, MPI_INT64_T, MPI_SUM, ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    if (!err)
        err = append_rows(s, update, counts, table);
    ws_free(&w);
    free(local);
    free(counts);
    return err;
}

void sb_grpo_last_rates(const sb_table *t, int hi, double *rate_hi, double *rate_all)
{
    *rate_hi = *rate_all = 0;
    uint64_t rows = t ? sb_table_rows(t) : 0;
    if (rows == 0)
        return;
    const int64_t last = sb_table_cell(t, rows - 1, 0).i;
    int64_t n_hi = 0, s_hi = 0, n_all = 0, s_all = 0;
    for (uint64_t r = rows; r-- > 0 && sb_table_cell(t, r, 0).i == last;) {
        int64_t d = sb_table_cell(t, r, 1).i, n = sb_table_cell(t, r, 2).i;
        int64_t solved = sb_table_cell(t, r, 3).i;
        n_all += n;
        s_all += solved;
        if (d <= hi) {
            n_hi += n;
            s_hi += solved;
        }
    }
    *rate_hi = n_hi ? (double)s_hi / (double)n_hi : 0;
    *rate_all = n_all ? (double)s_all / (double)n_all : 0;
}
