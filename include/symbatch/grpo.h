/* Numerics of the grpo job kind (/work/shared/reference/grpo.md): the policy network, its
 * optimiser and the GRPO-family objectives.  Pure serial functions without MPI: the kind
 * (src/grpo/) spreads groups over ranks and combines what these return.
 *
 * Bitwise reproducibility for any number of ranks rests on two rules kept here: every function
 * is deterministic for given inputs, and the shapes of every BLAS call depend only on the
 * arguments (the rows of one group), never on how many groups a rank holds. */
#ifndef SYMBATCH_GRPO_H
#define SYMBATCH_GRPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- policy: MLP over the one-hot state, logits over the generators ------------------------ */

#define SB_MLP_MAX_LAYERS 8

/* nlayers weight layers; sizes[0] is the one-hot input width (positions x values), sizes[l]
 * the hidden widths, sizes[nlayers] the number of generators.  ReLU after every layer but the
 * last. */
typedef struct sb_mlp_shape {
    int nlayers;
    int sizes[SB_MLP_MAX_LAYERS + 1];
} sb_mlp_shape;

/* Parameters are one flat double array: for each layer l, W_l (sizes[l+1] rows x sizes[l]
 * columns, row-major) then b_l (sizes[l+1]).  0 for a bad shape. */
size_t sb_mlp_nparams(const sb_mlp_shape *s);
size_t sb_mlp_offset_w(const sb_mlp_shape *s, int layer);
size_t sb_mlp_offset_b(const sb_mlp_shape *s, int layer);

/* Initial parameters: hidden layers W ~ N(0, 2 / fan_in) (He), the last layer W ~ N(0,
 * last_std^2) (grpo.md: 0.01, so the first policy is near uniform), biases 0.  Normals from
 * sb_rand_unit(seed, stream, index) (core.h), so the same seed gives the same network. */
void sb_mlp_init(const sb_mlp_shape *s, double *params, uint64_t seed, uint64_t stream,
                 double last_std);

/* Work space for a batch of up to max_rows states, holding the activations of the last forward
 * pass for the backward pass. */
typedef struct sb_mlp_batch sb_mlp_batch;
int sb_mlp_batch_create(sb_mlp_batch **out, const sb_mlp_shape *s, int max_rows);
void sb_mlp_batch_free(sb_mlp_batch *b);

/* Forward pass of `rows` (1..max_rows) one-hot states.  Row r has `nactive` ones, at input
 * indices idx[r * nactive + j] (in [0, sizes[0]); a state s of m positions over v values has
 * nactive = m and indices i * v + value(s[i])).  The first layer sums columns of W_0 instead of
 * multiplying by the one-hot matrix; later layers are GEMMs.  Returns the logits, rows x
 * sizes[nlayers] row-major, owned by b and valid until the next forward; NULL when rows is
 * outside 1..max_rows, nactive outside 0..sizes[0] or an index outside [0, sizes[0]) (a
 * backward pass after a failed forward adds nothing). */
const double *sb_mlp_forward(sb_mlp_batch *b, const double *params, const int32_t *idx,
                             int nactive, int rows);

/* Backward pass of the last forward: given dL/dlogits (rows x outputs), ADDS dL/dparams to
 * grad (nparams doubles, same layout as params). */
void sb_mlp_backward(sb_mlp_batch *b, const double *params, const double *dlogits,
                     double *grad);

/* ---- softmax ------------------------------------------------------------------------------- */

/* out[i] = z[i] / tau - logsumexp(z / tau) over n logits, tau > 0 (stable for large z). */
void sb_log_softmax(const double *z, int n, double tau, double *out);
/* Entropy -sum p log p of a distribution given by its log-probabilities. */
double sb_entropy(const double *logp, int n);
/* dL/dz of one row given dL/d logp(a), for logp = log_softmax(z / tau):
 * dz[i] = dl_dlp * ([i == a] - p_i) / tau.  Written, not added. */
void sb_logp_grad(const double *logp, int n, int a, double dl_dlp, double tau, double *dz);
/* dH/dz of the entropy H of logp = log_softmax(z / tau): dz[i] = -p_i (logp_i + H) / tau.
 * Written, not added (an entropy bonus is one option of the objective). */
void sb_entropy_grad(const double *logp, int n, double tau, double *dz);

/* ---- advantages ------------------------------------------------------------------------------
 * GRPO (DeepSeekMath): (r - mean) / (std + eps), population or N-1 std; Dr. GRPO: r - mean (no
 * std).  A-GRAE (grpo.md, "A-GRAE"), applied after the group-relative advantage Â:
 *   sample level (Eq. 12), p = the group's success rate, skipped when p is 0 or 1:
 *     A_i = (omega / 2) Â_i / sqrt(p) + ((1 - omega) / 2) Â_i / sqrt(1 - p)
 *   group level (Eq. 13): A_i * min(1, omega / alpha) when A_i > 0, else A_i.
 * omega is the mean reward of every trajectory of the update (all ranks).  A group whose rewards
 * are all equal gets advantages exactly 0 (no NaN), whatever the options. */
typedef struct sb_adv_cfg {
    bool std_normalise; /* GRPO: true; Dr. GRPO: false */
    bool unbiased_std;  /* N-1 std instead of the population std */
    double eps;         /* added to the std */
    bool agrae_sample;  /* Eq. 12 */
    bool agrae_group;   /* Eq. 13 */
    double alpha;       /* Eq. 13, in (0, 1] */
} sb_adv_cfg;

/* Advantages of one group of g >= 1 rewards (binary rewards for A-GRAE's p; any real rewards
 * otherwise: p is then the mean reward clamped to [0, 1]). */
void sb_grpo_advantages(const sb_adv_cfg *c, const double *rewards, int g, double omega,
                        double *adv);

/* ---- per-step objective ----------------------------------------------------------------------
 * Clipped surrogate of one step: rho = exp(lp - lp_old),
 *   term = min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A),
 * *dterm_dlp = rho A where the unclipped branch is taken, else 0.  *clipped is +1 when the
 * gradient is cut at the high side (A > 0, rho > 1 + eps_high), -1 at the low side (A < 0,
 * rho < 1 - eps_low), else 0.  Returns term. */
double sb_grpo_surrogate(double lp, double lp_old, double adv, double eps_low, double eps_high,
                         double *dterm_dlp, int *clipped);

/* KL to the reference policy from lp = log pi_theta(a|s) and lr = log pi_ref(a|s):
 * k1 = lp - lr, k2 = (lp - lr)^2 / 2, k3 = exp(lr - lp) - (lr - lp) - 1 (grpo.md).  Returns
 * the estimate and writes d/d lp. */
typedef enum { SB_KL_K1 = 0, SB_KL_K2 = 1, SB_KL_K3 = 2 } sb_kl_kind;
double sb_grpo_kl(sb_kl_kind kind, double lp, double lr, double *dkl_dlp);

/* How the per-step terms are averaged into the loss (grpo.md, "loss_agg"):
 *   token-mean: every step of the global batch weighs 1 / total_tokens (DAPO);
 *   seq-mean-token-mean: step of trajectory i weighs 1 / (ntraj * len_i) (DeepSeekMath);
 *   seq-mean-token-sum-norm: 1 / (ntraj * norm), norm a constant (Dr. GRPO: the horizon T). */
typedef enum {
    SB_AGG_TOKEN_MEAN = 0,
    SB_AGG_SEQ_MEAN_TOKEN_MEAN = 1,
    SB_AGG_SEQ_MEAN_TOKEN_SUM_NORM = 2
} sb_loss_agg;
/* 0 when the denominator it needs is not positive. */
double sb_grpo_step_weight(sb_loss_agg agg, int64_t len, int64_t total_tokens, int64_t ntraj,
                           double norm);

/* ---- optimiser ------------------------------------------------------------------------------ */

typedef struct sb_adam_cfg {
    double lr;           /* peak learning rate */
    double beta1, beta2; /* 0.9, 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0: none */
    bool decoupled;      /* AdamW (decay applied to the parameters) rather than L2 in the grad */
    int64_t warmup;      /* updates of linear warm-up: lr_t = lr min(1, (t + 1) / warmup); 0: none */
    double clip_norm;    /* global gradient-norm clip; <= 0: none */
} sb_adam_cfg;

typedef struct sb_adam {
    size_t n;
    double *m, *v; /* first and second moments */
    int64_t t;     /* steps taken */
} sb_adam;

int sb_adam_init(sb_adam *a, size_t n);
void sb_adam_free(sb_adam *a);
/* One step on params from grad (grad is scaled in place when clipped).  Returns the global
 * gradient norm before clipping; *lr_used (may be NULL) receives the learning rate applied.
 * A non-finite norm skips the step: params, grad, moments and t are left as they were. */
double sb_adam_step(sb_adam *a, const sb_adam_cfg *c, double *params, double *grad,
                    double *lr_used);

#endif
