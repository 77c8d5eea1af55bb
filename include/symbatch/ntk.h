/* Closed forms for the ntk job kind (/work/shared/reference/ntk.md, "Closed forms"): a two-layer
 * ReLU network k -> ReLU(m) -> k without biases, trained to convergence on the k basis vectors
 * e_i with targets P e_i, and evaluated on every nonzero binary x scaled to unit norm.  In the
 * infinite-width limit an ensemble of such networks is a Gaussian process; this module gives its
 * mean and covariance on the test inputs without forming any matrix, and the ensemble sizes that
 * follow from them.
 *
 * Both limits of ntk.md are exposed: SB_NTK_NTKGP (NTK parametrisation trained by gradient
 * descent, Lee et al. 2019, neural-tangents get='ntk') and SB_NTK_NNGP (the readout-dominated
 * standard parametrisation: the NNGP posterior, get='nngp').
 *
 * sigma_w is the weight standard deviation of both layers, so K and Theta carry sigma_w^4: means
 * do not depend on it and variances scale as sigma_w^4 / k (ntk.md).  There is no bias variance:
 * ntk.md gives every closed form without bias, so sigma_b is not a parameter.
 *
 * By symmetry a test input matters only through its weight h = |S| (number of ones, 1..k), and a
 * pair of inputs through (h, h', t = |S n S'|).  Output coordinate c of input x has the target
 * (P x)_c = 1 ("in": P^-1(c) in S) or 0 ("out"); every "in" coordinate has mean mu_in(h), every
 * "out" one mu_out(h), all with the same variance; coordinates are independent. */
#ifndef SYMBATCH_NTK_H
#define SYMBATCH_NTK_H

/* Largest k accepted: the sums over weights are O(k) and kept in log space, so this bound is
 * only a guard against nonsense, not a numerical limit. */
#define SB_NTK_K_MAX 1000000

typedef enum {
    SB_NTK_NTKGP = 0, /* trained network, NTK parametrisation: mean by Theta, covariance by K */
    SB_NTK_NNGP = 1   /* NNGP posterior (readout only): mean and covariance by K alone */
} sb_ntk_kind;

typedef struct sb_ntk_gp {
    int k;          /* input and output dimension, 1..SB_NTK_K_MAX */
    double sigma_w; /* weight standard deviation of both layers, > 0 (ntk.md uses 1) */
    sb_ntk_kind kind;
} sb_ntk_gp;

/* Posterior of one input of weight h: per output coordinate mean and shared variance. */
typedef struct sb_ntk_stats {
    double mu_in;  /* mean of a coordinate whose target is 1 (> 0) */
    double mu_out; /* mean of a coordinate whose target is 0 (0 at h = 1, < 0 for h >= 2);
                      meaningless at h = k, where no coordinate is "out" */
    double var;    /* variance of every coordinate (exactly 0 at h = 1: training points) */
} sb_ntk_stats;

/* Arc-cosine kernels of degree 0 and 1 for unit-variance inputs with correlation u (values
 * outside [-1, 1] by rounding are clamped):
 * kappa0(u) = (pi - arccos u) / (2 pi), kappa1(u) = [sqrt(1 - u^2) + (pi - arccos u) u] / (2 pi).
 */
double sb_ntk_kappa0(double u);
double sb_ntk_kappa1(double u);
/* NNGP kernel K(u) = sigma_w^4 kappa1(u) / k and NTK Theta(u) = sigma_w^4 [kappa1(u) +
 * u kappa0(u)] / k of two unit-norm inputs with x.x' = u (ntk.md, "Closed forms"). */
double sb_ntk_nngp(double u, int k, double sigma_w);
double sb_ntk_theta(double u, int k, double sigma_w);

/* mu_in, mu_out and the variance for weight h (1..k).  Returns 0, SB_EINPUT for a bad gp or h. */
int sb_ntk_stats_at(const sb_ntk_gp *gp, int h, sb_ntk_stats *out);

/* Covariance Sigma(x, x') of one output coordinate for inputs of weights h, h2 with overlap t,
 * where x's coordinate has mean mu_in(h) or mu_out(h) as its target says (ntk.md's joint form:
 * the covariance is the same for every coordinate).  t must lie in [max(0, h + h2 - k),
 * min(h, h2)].  Returns 0 or SB_EINPUT. */
int sb_ntk_joint_cov(const sb_ntk_gp *gp, int h, int h2, int t, double *cov);

/* P(exact on x) for an ensemble of m networks (m > 0, real so that it can be solved for):
 * Phi(mu_in sqrt(m / var))^h * Phi(-mu_out sqrt(m / var))^(k - h); 1 at h = 1.
 * Returns 0 or SB_EINPUT. */
int sb_ntk_p_exact(const sb_ntk_gp *gp, int h, double m, double *p);

/* Smallest integer ensemble size with P(exact on x) >= p for weight h, p in (0, 1).
 * Returns 0, SB_EINPUT, SB_ELIMIT when it would exceed 2^53, SB_EINTERNAL when the means have the
 * wrong sign (then no ensemble is exact; ntk.md says this does not happen). */
int sb_ntk_ensemble_for_prob(const sb_ntk_gp *gp, int h, double p, double *m);

/* Ensemble sizes at failure probability delta (0 < delta < 1), as real numbers (an ensemble
 * needs the ceiling); all are 0 when no input can fail (k = 1, or h = 1).  With z = mu^2 / var:
 * - one input of weight h: (2 / z_min(h)) ln(k / (2 delta)), z_min the smallest z among the
 *   coordinates of that input (the Gaussian tail bound Phi(-s) <= exp(-s^2 / 2) / 2 and a union
 *   over k coordinates; ntk.md "One input"), clamped at 0;
 * - all inputs, crude: (2 / z*) ln((2^k - 1) k / (2 delta)), z* the smallest z over every weight
 *   (union over all (2^k - 1) k events; O(k^2), the paper's claim);
 * - all inputs, per weight: the M that solves sum_{h>=2} C(k,h) [h e^{-M z_in(h)/2} +
 *   (k - h) e^{-M z_out(h)/2}] / 2 = delta (the same union bound with each event's own z;
 *   about O(k log k)).  At k = 100, delta = 0.1 these give ntk.md's 47,098 and 9,167.
 * Return 0, SB_EINPUT, or SB_EINTERNAL when a variance is not positive (cannot happen for
 * h >= 2 in exact arithmetic). */
int sb_ntk_ensemble_one(const sb_ntk_gp *gp, int h, double delta, double *m);
int sb_ntk_ensemble_all_crude(const sb_ntk_gp *gp, double delta, double *m);
int sb_ntk_ensemble_all_weights(const sb_ntk_gp *gp, double delta, double *m);

/* ---- dense joint covariance and Monte Carlo (ntk.md, "Where the distributed dense algebra is
 * the right tool"): a serial ground truth for small k. */

/* Largest k for the dense functions: N = 2^k - 1 inputs, an N x N matrix (k = 12: 134 MB). */
#define SB_NTK_DENSE_K_MAX 12

/* Threshold of ntk.md's rounding: a bit is 1 when the ensemble mean exceeds it. */
#define SB_NTK_ROUND_EPS 1e-10

/* Number of inputs the dense functions cover: 2^k - 1 with the training inputs, 2^k - 1 - k
 * without.  Returns 0 for k outside 1..SB_NTK_DENSE_K_MAX. */
int sb_ntk_dense_n(int k, int with_training);

/* The covariance of one output coordinate over the nonzero inputs, row-major n x n with
 * n = sb_ntk_dense_n(k, with_training).  Row i is the i-th input in increasing order of its
 * bitmask (bit j = position j); without training the k masks 1 << j are skipped.  Entries are
 * sb_ntk_joint_cov as computed, training rows included (they are zero up to rounding).
 * The joint covariance over (input, output coordinate) pairs is this matrix times I_k: ntk.md's
 * GP has independent output coordinates with a shared kernel, so different coordinates have
 * covariance exactly 0 and every coordinate has this same matrix.
 * Returns 0 or SB_EINPUT (bad gp, k > SB_NTK_DENSE_K_MAX, NULL cov). */
int sb_ntk_dense_cov(const sb_ntk_gp *gp, int with_training, double *cov);

/* Numerical rank of the covariance over all 2^k - 1 nonzero inputs: the number of eigenvalues
 * (LAPACKE_dsyevd) above rtol times the largest one's magnitude; ntk.md says 2^k - 1 - k.
 * Returns 0, SB_EINPUT, SB_ENOMEM or SB_EINTERNAL when LAPACK fails. */
int sb_ntk_dense_rank(const sb_ntk_gp *gp, double rtol, int *rank);

/* Monte Carlo estimate of P(all inputs exact) for an ensemble of m networks (m > 0): Cholesky
 * L of the covariance over the non-training inputs (LAPACKE_dpotrf; the training inputs have
 * zero variance and are exact at their means), then `samples` draws of the ensemble mean, for
 * every output coordinate c independently, mu_c + L z / sqrt(m).  The target is taken as the
 * identity permutation: relabelling output coordinates does not change the probability, since
 * all coordinates share one covariance.  z is standard normal by Box-Muller from
 * sb_rand_unit(seed, sample, 2 index) and (..., 2 index + 1), index = c n + row, so a run is
 * reproducible and does not depend on evaluation order.  *p is the fraction of exact draws and
 * *se its binomial standard error sqrt(p (1 - p) / samples).
 * Returns 0, SB_EINPUT, SB_ENOMEM, or SB_EINTERNAL when the covariance is not positive definite. */
int sb_ntk_mc_all_exact(const sb_ntk_gp *gp, double m, long samples, unsigned long long seed,
                        double *p, double *se);

#endif
