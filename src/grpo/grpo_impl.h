/* Private: the grpo job kind's parts.  spec.c reads the `grpo:` section, env.c is the puzzle
 * (moves, start states from a growth distance table or random walks), train.c the update loop
 * over MPI ranks, eval.c the greedy and beam evaluations, kind.c ties them to the runner. */
#ifndef SB_GRPO_IMPL_H
#define SB_GRPO_IMPL_H

#include "symbatch/comm.h"
#include "symbatch/growth.h"
#include "symbatch/grpo.h"
#include "symbatch/job.h"
#include "symbatch/rank.h"
#include "symbatch/step.h"
#include "symbatch/table.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the `grpo:` section ------------------------------------------------------------------ */

typedef enum { SB_ADV_GRPO = 0, SB_ADV_DR_GRPO = 1 } sb_grpo_adv_kind;
typedef enum { SB_STD_POPULATION = 0, SB_STD_UNBIASED = 1 } sb_grpo_std_kind;
typedef enum { SB_AGRAE_NONE = 0, SB_AGRAE_SAMPLE, SB_AGRAE_GROUP, SB_AGRAE_BOTH } sb_agrae_kind;
typedef enum { SB_OPT_ADAM = 0, SB_OPT_ADAMW = 1 } sb_opt_kind;
/* The policy's one-hot input: the value at each position (any state, cosets included), or the
 * position of each value (permutations only: the inverse permutation, one hot). */
typedef enum { SB_ENC_VALUE_AT_POSITION = 0, SB_ENC_POSITION_OF_VALUE = 1 } sb_grpo_encoding;

#define SB_GRPO_MAX_DIST 254 /* distances are bytes in the table; 255 = unreached */

typedef struct sb_grpo_spec {
    sb_growth_spec env; /* generators:, central_state: (growth's keys and checks) */
    /* start_states */
    char *distances_from; /* growth result with /growth/distances; NULL: random walks */
    int64_t distance[2];  /* [lo, hi] */
    double *weights;      /* NULL, or hi - lo + 1 weights of the distances */
    int nweights;
    int64_t horizon;                   /* T */
    int64_t layers[SB_MLP_MAX_LAYERS]; /* hidden widths */
    int nlayers_hidden;
    bool layers_set;
    double init_last_std;
    int encoding; /* sb_grpo_encoding */
    /* batch */
    int64_t groups, group_size;
    double temperature;
    int64_t updates;
    double learning_rate;
    /* optimiser */
    int optimizer; /* sb_opt_kind */
    double beta1, beta2, adam_eps, weight_decay, clip_norm;
    int64_t warmup;
    /* estimator */
    int advantage; /* sb_grpo_adv_kind */
    int std;       /* sb_grpo_std_kind */
    double std_eps;
    int agrae; /* sb_agrae_kind */
    double alpha;
    int loss_agg; /* sb_loss_agg */
    double agg_norm;
    bool agg_norm_set;
    double eps_low, eps_high;
    double kl_beta;
    int kl_estimator; /* sb_kl_kind */
    int64_t mu;
    bool dynamic_sampling;
    int64_t dynamic_tries;
    /* shaping: reward + C (d_start - d_end) / d_start from the table; 0: off */
    double shaping_distance;
    /* evaluation */
    int64_t eval_every, eval_states;
    int64_t eval_distance[2];
    int64_t beam_width;
    /* Filled by validation: the table's path as opened (relative to the job file's folder),
     * its size and largest distance (0 without a table). */
    char table_path[4096];
    uint64_t table_states;
    int table_max_distance;
    char table_scheme[32];
} sb_grpo_spec;

extern const sb_field sb_grpo_schema[];
void sb_grpo_spec_init(void *spec);
void sb_grpo_spec_free(void *spec);
int sb_grpo_validate(sb_job *job);
void sb_grpo_describe(const sb_job *job, FILE *out);
void sb_grpo_fingerprint(const sb_job *job, int engine, sb_fingerprint *fp);
/* The network's shape for a validated spec (input: positions x distinct values). */
void sb_grpo_shape(const sb_grpo_spec *spec, sb_mlp_shape *shape);
/* The optimiser and advantage settings of a spec. */
void sb_grpo_adam_cfg(const sb_grpo_spec *spec, sb_adam_cfg *c);
void sb_grpo_adv_cfg(const sb_grpo_spec *spec, sb_adv_cfg *c);

/* ---- the environment ---------------------------------------------------------------------- */

/* Distance tables are read in blocks of this many states, and start states are drawn by
 * cumulative per-block counts (no per-state index). */
#define SB_GRPO_BLOCK 4096

typedef struct sb_grpo_env {
    int m, ngens, nvalues;
    const uint8_t *perm; /* ngens rows of m: s'[i] = s[perm[g][i]] */
    uint8_t central[SB_MAX_ELEMS];
    uint8_t value_col[256]; /* value -> its index among the distinct values */
    int encoding;           /* sb_grpo_encoding */
    /* Distance table (has_table), or random walks. */
    bool has_table;
    bool shared; /* the table is in node-shared memory */
    sb_space space;
    bool space_init;
    uint64_t nstates, nblocks;
    const uint8_t *dist;
    struct sb_shm *shm;
    uint8_t *priv;
    int dlo, dhi;        /* distances with cumulative counts */
    uint64_t **cum;      /* cum[d - dlo][b]: states at distance d in blocks < b (nblocks + 1) */
    double read_seconds; /* loading the table */
} sb_grpo_env;

/* Collective.  Builds the environment; with a table, loads it (one copy per node when shared
 * memory works) and counts the states at distances [dlo, dhi].  Errors are reported by rank 0
 * (named with the file) and agreed. */
int sb_grpo_env_open(sb_grpo_env *e, const sb_grpo_spec *spec, const sb_ctx *ctx, int dlo, int dhi);
/* Collective. */
void sb_grpo_env_close(sb_grpo_env *e);
/* States at distance d in the table (0 without a table or outside [dlo, dhi]). */
uint64_t sb_grpo_env_count(const sb_grpo_env *e, int d);
/* A start state: uniform among the states at distance d (table), or the end of a random walk
 * of d moves from the central state; random numbers from (seed, stream, pos, ...). */
void sb_grpo_env_sample(const sb_grpo_env *e, int d, uint64_t seed, uint64_t stream, uint64_t pos,
                        uint8_t *state);
/* The table's distance of a state (-1 without a table). */
int sb_grpo_env_distance(const sb_grpo_env *e, const uint8_t *state);

static inline void sb_grpo_env_move(const sb_grpo_env *e, int g, const uint8_t *in, uint8_t *out)
{
    const uint8_t *p = e->perm + (size_t)g * (size_t)e->m;
    for (int i = 0; i < e->m; i++)
        out[i] = in[p[i]];
}

static inline bool sb_grpo_env_solved(const sb_grpo_env *e, const uint8_t *s)
{
    for (int i = 0; i < e->m; i++)
        if (s[i] != e->central[i])
            return false;
    return true;
}

/* The one-hot input of a state, m indices: i * nvalues + column(s[i]) for the value at each
 * position, or column(s[i]) * m + i for the position of each value (distinct values). */
static inline void sb_grpo_env_encode(const sb_grpo_env *e, const uint8_t *s, int32_t *idx)
{
    if (e->encoding == SB_ENC_POSITION_OF_VALUE)
        for (int i = 0; i < e->m; i++)
            idx[e->value_col[s[i]]] = e->value_col[s[i]] * e->m + i;
    else
        for (int i = 0; i < e->m; i++)
            idx[i] = i * e->nvalues + e->value_col[s[i]];
}

/* ---- random streams: (seed, stream, position), keyed by update, group, trajectory, step ---- */

enum {
    SB_GRPO_STREAM_INIT = 1,  /* network weights */
    SB_GRPO_STREAM_START = 2, /* start distance and state of a group */
    SB_GRPO_STREAM_ROLL = 3,  /* actions */
    SB_GRPO_STREAM_EVAL = 4,  /* the evaluation set */
};
static inline uint64_t sb_grpo_stream(int purpose, uint64_t update)
{
    return ((uint64_t)purpose << 56) ^ update;
}

/* ---- training ----------------------------------------------------------------------------- */

/* Columns of /grpo/metrics and /grpo/eval (kind.c writes them; train.c fills them). */
extern const sb_column sb_grpo_metric_cols[];
extern const int sb_grpo_metric_ncols;
extern const sb_column sb_grpo_eval_cols[];
extern const int sb_grpo_eval_ncols;

typedef struct sb_grpo_result {
    sb_mlp_shape shape;
    size_t nparams;
    double *params;
    sb_table *metrics, *eval, *eval_beam;
    int64_t updates_done;
    double seconds;        /* wall time of the loop in this process (resumed runs: since resume) */
    double train_seconds;  /* the part spent in updates (rollouts and training), not evaluations */
    uint64_t policy_steps; /* rollout steps of every rank, this process */
    double final_greedy;   /* greedy solve rate over the evaluation distances in training range */
    double final_greedy_all;
    bool has_table;
    uint64_t table_states;
    bool shared_table;
} sb_grpo_result;

/* Collective: trains (continuing from step->resume when set) and evaluates.  step may be a
 * silent controller (sb_step_init) without checkpoints.  r is filled on every rank alike. */
int sb_grpo_train(const sb_grpo_spec *spec, uint64_t seed, const sb_ctx *ctx, sb_step *step,
                  sb_grpo_result *r);
void sb_grpo_result_free(sb_grpo_result *r);

/* ---- evaluation --------------------------------------------------------------------------- */

/* Collective: greedy (beam_width <= 1) or beam search evaluation of the fixed seeded set
 * (states_per_distance states at each distance of eval.distances), appending one row per
 * distance to `table` labelled `update` (the number of updates done). */
int sb_grpo_evaluate(const sb_grpo_spec *spec, uint64_t seed, const sb_grpo_env *env,
                     const sb_ctx *ctx, const sb_mlp_shape *shape, const double *params,
                     int beam_width, int64_t update, sb_table *table);
/* The solve rate of the table's last evaluation over its distances <= hi, and over all its
 * distances (0 when the table is empty). */
void sb_grpo_last_rates(const sb_table *table, int hi, double *rate_hi, double *rate_all);

/* ---- inspect ------------------------------------------------------------------------------ */
void sb_grpo_inspect(hid_t file, FILE *out);

extern const sb_job_kind sb_grpo_kind;

#endif
