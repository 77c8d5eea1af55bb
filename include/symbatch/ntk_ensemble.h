/* Finite-width ensembles for the ntk job kind (/work/shared/reference/ntk.md, "Setup"):
 * independently initialised two-layer ReLU networks k -> ReLU(width) -> k, trained full batch on
 * the k basis vectors e_i with targets e_{perm[i]}, evaluated on nonzero binary inputs scaled to
 * unit norm, and averaged.
 *
 * Reproducibility: member j's random numbers are keyed by (seed, j) alone, and the sums over
 * members are folded on rank 0 in member order, so every result is bitwise identical for any
 * number of ranks and across a checkpoint and resume. */
#ifndef SYMBATCH_NTK_ENSEMBLE_H
#define SYMBATCH_NTK_ENSEMBLE_H

#include "symbatch/ckpt.h"
#include "symbatch/comm.h"
#include "symbatch/step.h"

#include <stdbool.h>
#include <stdint.h>

/* The two parametrisations of ntk.md. */
typedef enum {
    SB_NTK_PARAM_NTK = 0,     /* f = W2 relu(W1 x sigma_w / sqrt(k)) sigma_w / sqrt(width),
                                 W ~ N(0, 1), no biases, full-batch gradient descent */
    SB_NTK_PARAM_STANDARD = 1 /* the authors' v1 code: W1 ~ N(0, sigma_w^2 / k), W2 ~ N(0,
                                 sigma_w^2 / width), zero-initialised trainable biases, SGD */
} sb_ntk_param;

/* Training (both parametrisations): full-batch gradient descent (the "SGD" of the standard
 * parametrisation is full batch too: one batch of all k training inputs, so a member's result
 * does not depend on any sample order) on L = 1/2 sum_i |f(e_i) - y_i|^2, with the step
 *     eta = learning_rate * 2 / (lambda_min + lambda_max)       (sb_ntk_gd_step),
 * lambda_min, lambda_max the extreme eigenvalues of the infinite-width tangent-kernel Gram
 * matrix of the training inputs (sb_ntk_gram_eigen), i.e. the slowest and fastest rates of the
 * linearised dynamics in function space.  So learning_rate is dimensionless and 1 is the
 * fastest step for the linearised model whatever k, width, sigma_w and parametrisation: every
 * mode then contracts by at least (lambda_max - lambda_min) / (lambda_max + lambda_min) per
 * epoch (k = 10: 0.49 NTK, 0.70 standard at width 4096), and the linearised model is stable up
 * to learning_rate 1 + lambda_min / lambda_max.  The tolerance applies to the MSE,
 * sum_i |f(e_i) - y_i|^2 / k^2; at tolerance 1e-24 every training residual is below
 * k 1e-12 < SB_NTK_ROUND_EPS, so the training inputs (weight 1) round exactly from one member
 * on.  Recommended job defaults, both parametrisations: learning_rate 1, tolerance 1e-24,
 * epochs 1000 (a cap: k = 10, width 4096 converges in about 40 (NTK) and 80 (standard)
 * epochs).  A member's initial weights are standard normals by Box-Muller (the cosine and the
 * sine of a pair) from sb_rand_unit(seed, member, q): W1's width k values first (row-major),
 * then W2's from position width k rounded up to even. */
typedef struct sb_ntk_train_cfg {
    int k;     /* inputs and outputs, 2..62 */
    int width; /* hidden units */
    sb_ntk_param param;
    double sigma_w;
    double learning_rate;
    int64_t epochs;   /* cap on epochs */
    double tolerance; /* stop once the training MSE is at most this */
    uint64_t seed;
    const int *perm; /* k entries: the target of e_i is e_{perm[i]} */
} sb_ntk_train_cfg;

/* Test inputs: every nonzero x with min_weight <= |x| <= max_weight, in increasing order of
 * the bitmask (bit i = position i), with their weights. */
typedef struct sb_ntk_inputs {
    int k;
    int64_t n;
    uint64_t *mask;
    uint8_t *weight;
} sb_ntk_inputs;
int sb_ntk_inputs_build(sb_ntk_inputs *in, int k, int min_weight, int max_weight);
void sb_ntk_inputs_free(sb_ntk_inputs *in);

/* One network (weights row-major: w1 width x k, w2 k x width; b1, b2 NULL in the NTK
 * parametrisation). */
typedef struct sb_ntk_net {
    int k, width;
    sb_ntk_param param;
    double sigma_w;
    double *w1, *b1, *w2, *b2;
} sb_ntk_net;
typedef struct sb_ntk_fit {
    int64_t epochs;
    double loss; /* final training MSE */
    bool converged;
} sb_ntk_fit;
int sb_ntk_net_alloc(sb_ntk_net *net, const sb_ntk_train_cfg *c);
/* The eigenvalues of the training comment above (no check of c).  NTK parametrisation:
 * sigma_w^4 (1 - 1/(2 pi)) / k and sigma_w^4 (1 + (k - 1) / (2 pi)) / k.  Standard: the
 * readout weights' width sigma_w^2 (1/2 - 1/(2 pi)) / k, (1/2 + (k - 1) / (2 pi)) / k plus the
 * small parts of the readout bias and the first layer (the readout dominates). */
void sb_ntk_gram_eigen(const sb_ntk_train_cfg *c, double *lambda_min, double *lambda_max);
/* The gradient step eta = learning_rate * 2 / (lambda_min + lambda_max). */
double sb_ntk_gd_step(const sb_ntk_train_cfg *c);
void sb_ntk_net_free(sb_ntk_net *net);
/* Initialises member `member` from (seed, member) and trains it.  0, SB_EINPUT, SB_ENOMEM. */
int sb_ntk_member_train(const sb_ntk_train_cfg *c, int64_t member, sb_ntk_net *net,
                        sb_ntk_fit *fit);
/* Outputs on the inputs, out[i * k + c] (n x k).  Hidden pre-activations are built
 * incrementally (an input is a scaled sum of columns of W1), not by a dense GEMM per input. */
int sb_ntk_net_eval(const sb_ntk_net *net, const sb_ntk_inputs *in, double *out);

/* ---- distributed ensemble ------------------------------------------------------------------ */

typedef struct sb_ntk_ens_cfg {
    sb_ntk_train_cfg train;
    int min_weight, max_weight; /* test inputs */
    int64_t members;            /* ensemble members in all */
    /* Ensemble sizes at which accuracy and P(all exact) are estimated, increasing, each <=
     * members: over the floor(members / M) disjoint groups of M consecutive members.  At most
     * 64 sizes (nM <= 64). */
    const int64_t *M;
    int nM;
} sb_ntk_ens_cfg;

typedef struct sb_ntk_ens sb_ntk_ens;

/* Collective.  0, SB_EINPUT, SB_ENOMEM (identical on every rank). */
int sb_ntk_ens_create(sb_ntk_ens **out, const sb_ntk_ens_cfg *cfg, const sb_ctx *ctx);
void sb_ntk_ens_free(sb_ntk_ens *e);
/* Collective: trains and evaluates members [done, done + count), spread over the ranks, and
 * folds their outputs into the sums on rank 0 in member order.  done + count must not exceed
 * cfg->members (SB_EINPUT).  Members go in rounds of one per rank; after an error `done`
 * counts the rounds folded, and the state is consistent.  step (may be NULL) receives
 * the timers "train", "eval" and "fold". */
int sb_ntk_ens_advance(sb_ntk_ens *e, int64_t count, sb_step *step);
int64_t sb_ntk_ens_done(const sb_ntk_ens *e);
/* Bytes rank 0 and the other ranks hold for a given configuration and count per advance (for
 * the kind's memory estimate). */
uint64_t sb_ntk_ens_bytes(const sb_ntk_ens_cfg *cfg, int nranks, int64_t count, bool rank0);

typedef struct sb_ntk_ens_result {
    int k, nM;
    int64_t members; /* members folded */
    int64_t *M, *groups;
    double *accuracy;           /* nM: mean fraction of exact inputs over the groups (NaN
                                   while no group of that size has closed) */
    double *p_all_exact;        /* nM: fraction of groups exact on every input (NaN likewise) */
    double *accuracy_by_weight; /* nM x k (column h - 1), NaN where no input has weight h */
    /* Over all members, per weight h (row h - 1) and target (column 0: coordinates whose
     * target is 1, column 1: target 0): mean of one member's output, and its variance across
     * members (pooled over inputs and coordinates).  NaN where there is no such coordinate. */
    double *mean_by_weight;     /* k x 2 */
    double *variance_by_weight; /* k x 2 */
    /* Smallest M whose prefix ensemble (members 0..M-1) is exact on at least 90% of the inputs
     * of weight h; -1 when none up to `members`.  k entries. */
    int64_t *size90_by_weight;
    /* Over the members folded: mean epochs trained (NaN with none), the largest final
     * training MSE (0 with none; NaN once a member diverged), members that reached the epoch
     * cap above the tolerance.  mean_by_weight is NaN with no member, variance_by_weight with
     * fewer than 2 (sample variance, divisor members - 1). */
    double epochs_mean, loss_max;
    int64_t not_converged;
} sb_ntk_ens_result;
/* Collective: the results so far, identical on every rank. */
int sb_ntk_ens_result_get(const sb_ntk_ens *e, sb_ntk_ens_result *out);
void sb_ntk_ens_result_free(sb_ntk_ens_result *r);

/* Collective: the state (members done, sums, counters) into / from a checkpoint; a checkpoint
 * written on any number of ranks loads on any other.  SB_ECKPT when missing or damaged. */
int sb_ntk_ens_save(const sb_ntk_ens *e, sb_ckpt *ck);
int sb_ntk_ens_load(sb_ntk_ens *e, sb_ckpt *ck);

#endif
