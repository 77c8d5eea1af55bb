/* Closed forms of the infinite-width Gaussian processes of ntk.md (see include/symbatch/ntk.h).
 * With the training inputs X = I_k, every kernel matrix is (a - b) I + b 11^T, whose inverse is
 * explicit, so means and covariances reduce to sums over the few classes of positions (in S, in
 * S', in both, in neither) and nothing is ever inverted. */
#include "symbatch/ntk.h"

#include "symbatch/core.h"
#include "symbatch/error.h"

#include <lapacke.h>

#include <math.h>
#include <stdlib.h>

static const double pi = 3.14159265358979323846;

static double clamp_unit(double u)
{
    return u < -1.0 ? -1.0 : (u > 1.0 ? 1.0 : u);
}

double sb_ntk_kappa0(double u)
{
    u = clamp_unit(u);
    return (pi - acos(u)) / (2.0 * pi);
}

double sb_ntk_kappa1(double u)
{
    u = clamp_unit(u);
    return (sqrt(1.0 - u * u) + (pi - acos(u)) * u) / (2.0 * pi);
}

double sb_ntk_nngp(double u, int k, double sigma_w)
{
    double s2 = sigma_w * sigma_w;
    return s2 * s2 * sb_ntk_kappa1(u) / k;
}

double sb_ntk_theta(double u, int k, double sigma_w)
{
    double s2 = sigma_w * sigma_w;
    return s2 * s2 * (sb_ntk_kappa1(u) + clamp_unit(u) * sb_ntk_kappa0(u)) / k;
}

static int gp_ok(const sb_ntk_gp *gp)
{
    return gp && gp->k >= 1 && gp->k <= SB_NTK_K_MAX && gp->sigma_w > 0.0 &&
           isfinite(gp->sigma_w) && (gp->kind == SB_NTK_NTKGP || gp->kind == SB_NTK_NNGP);
}

/* The kernel that gives the mean: Theta for the trained network, K for the NNGP posterior. */
static double mean_kernel(const sb_ntk_gp *gp, double u)
{
    if (gp->kind == SB_NTK_NNGP)
        return sb_ntk_nngp(u, gp->k, gp->sigma_w);
    return sb_ntk_theta(u, gp->k, gp->sigma_w);
}

/* mu = Theta(x, X) Theta^-1 e_i for i in S (mu_in) and i not in S (mu_out), ntk.md's closed form
 * with a = Theta(1), b = Theta(0), t1 = Theta(1/sqrt h), D = a + (k - 1) b. */
static void means(const sb_ntk_gp *gp, int h, double *mu_in, double *mu_out)
{
    int k = gp->k;
    double a = mean_kernel(gp, 1.0), b = mean_kernel(gp, 0.0);
    double t1 = mean_kernel(gp, 1.0 / sqrt((double)h));
    double den = (a - b) * (a + (k - 1) * b);
    *mu_in = (t1 * (a - b) + (k - h) * b * (t1 - b)) / den;
    *mu_out = b * ((a - b) - h * (t1 - b)) / den;
}

/* ntk.md's joint covariance.  The same expression serves both limits: with Theta = K the general
 * form K(x,x') + m K(X,X) m'^T - m K(X,x') - m' K(X,x) reduces to K(x,x') - K(x,X) K^-1 K(X,x'). */
static double joint(const sb_ntk_gp *gp, int h, int h2, int t)
{
    int k = gp->k;
    double w = gp->sigma_w;
    double k1 = sb_ntk_nngp(1.0, k, w), k0 = sb_ntk_nngp(0.0, k, w);
    double kxx = sb_ntk_nngp(t / sqrt((double)h * h2), k, w);
    double kh = sb_ntk_nngp(1.0 / sqrt((double)h), k, w);
    double kh2 = sb_ntk_nngp(1.0 / sqrt((double)h2), k, w);
    double mi, mo, mi2, mo2;
    means(gp, h, &mi, &mo);
    means(gp, h2, &mi2, &mo2);
    int both = t, only1 = h - t, only2 = h2 - t, none = k - h - h2 + t;
    double dot = both * mi * mi2 + only1 * mi * mo2 + only2 * mo * mi2 + none * mo * mo2;
    double sum1 = h * mi + (k - h) * mo, sum2 = h2 * mi2 + (k - h2) * mo2;
    double cross1 = kh2 * (both * mi + only2 * mo) + k0 * (only1 * mi + none * mo);
    double cross2 = kh * (both * mi2 + only1 * mo2) + k0 * (only2 * mi2 + none * mo2);
    return kxx + (k1 - k0) * dot + k0 * sum1 * sum2 - cross1 - cross2;
}

int sb_ntk_stats_at(const sb_ntk_gp *gp, int h, sb_ntk_stats *out)
{
    if (!gp_ok(gp) || h < 1 || h > gp->k || !out)
        return SB_EINPUT;
    means(gp, h, &out->mu_in, &out->mu_out);
    /* A training point is interpolated: its variance is 0, not the rounding noise of the sum. */
    out->var = h == 1 ? 0.0 : joint(gp, h, h, h);
    return 0;
}

int sb_ntk_joint_cov(const sb_ntk_gp *gp, int h, int h2, int t, double *cov)
{
    if (!gp_ok(gp) || h < 1 || h > gp->k || h2 < 1 || h2 > gp->k || !cov)
        return SB_EINPUT;
    int tmin = h + h2 - gp->k > 0 ? h + h2 - gp->k : 0;
    if (t < tmin || t > (h < h2 ? h : h2))
        return SB_EINPUT;
    *cov = joint(gp, h, h2, t);
    return 0;
}

static double phi_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

static double p_exact(int k, int h, const sb_ntk_stats *s, double m)
{
    if (h == 1)
        return 1.0;
    double scale = sqrt(m / s->var);
    double p = pow(phi_cdf(s->mu_in * scale), h);
    if (h < k)
        p *= pow(phi_cdf(-s->mu_out * scale), k - h);
    return p;
}

int sb_ntk_p_exact(const sb_ntk_gp *gp, int h, double m, double *p)
{
    sb_ntk_stats s;
    if (!p || !(m > 0.0) || !isfinite(m) || sb_ntk_stats_at(gp, h, &s) != 0)
        return SB_EINPUT;
    if (h > 1 && !(s.var > 0.0))
        return SB_EINTERNAL;
    *p = p_exact(gp->k, h, &s, m);
    return 0;
}

int sb_ntk_ensemble_for_prob(const sb_ntk_gp *gp, int h, double p, double *m)
{
    sb_ntk_stats s;
    if (!m || !(p > 0.0 && p < 1.0) || sb_ntk_stats_at(gp, h, &s) != 0)
        return SB_EINPUT;
    if (h == 1) {
        *m = 1.0;
        return 0;
    }
    if (!(s.var > 0.0) || !(s.mu_in > 0.0) || (h < gp->k && !(s.mu_out < 0.0)))
        return SB_EINTERNAL;
    /* P(exact) rises with m: double until it is reached, then bisect on the integers. */
    double lo = 0.0, hi = 1.0, limit = 9007199254740992.0;
    while (p_exact(gp->k, h, &s, hi) < p) {
        lo = hi;
        hi *= 2.0;
        if (hi > limit)
            return SB_ELIMIT;
    }
    while (hi - lo > 1.0) {
        double mid = floor((lo + hi) / 2.0);
        if (p_exact(gp->k, h, &s, mid) < p)
            lo = mid;
        else
            hi = mid;
    }
    *m = hi;
    return 0;
}

/* z_in and z_out = mu^2 / var for weight h >= 2 (z_out is infinite at h = k: no such event). */
static int zvalues(const sb_ntk_gp *gp, int h, double *zin, double *zout)
{
    sb_ntk_stats s;
    int rc = sb_ntk_stats_at(gp, h, &s);
    if (rc != 0)
        return rc;
    if (!(s.var > 0.0))
        return SB_EINTERNAL;
    *zin = s.mu_in * s.mu_in / s.var;
    *zout = h < gp->k ? s.mu_out * s.mu_out / s.var : INFINITY;
    return 0;
}

static int delta_ok(double delta)
{
    return delta > 0.0 && delta < 1.0;
}

int sb_ntk_ensemble_one(const sb_ntk_gp *gp, int h, double delta, double *m)
{
    if (!m || !delta_ok(delta) || !gp_ok(gp) || h < 1 || h > gp->k)
        return SB_EINPUT;
    if (h == 1) {
        *m = 0.0;
        return 0;
    }
    double zin, zout;
    int rc = zvalues(gp, h, &zin, &zout);
    if (rc != 0)
        return rc;
    double zmin = zin < zout ? zin : zout;
    double v = 2.0 / zmin * log(gp->k / (2.0 * delta));
    *m = v > 0.0 ? v : 0.0;
    return 0;
}

/* The smallest z over every event of every weight 2..k. */
static int zstar(const sb_ntk_gp *gp, double *z)
{
    *z = INFINITY;
    for (int h = 2; h <= gp->k; h++) {
        double zin, zout;
        int rc = zvalues(gp, h, &zin, &zout);
        if (rc != 0)
            return rc;
        *z = fmin(*z, fmin(zin, zout));
    }
    return 0;
}

int sb_ntk_ensemble_all_crude(const sb_ntk_gp *gp, double delta, double *m)
{
    if (!m || !delta_ok(delta) || !gp_ok(gp))
        return SB_EINPUT;
    double z;
    int rc = zstar(gp, &z);
    if (rc != 0)
        return rc;
    if (gp->k == 1) {
        *m = 0.0;
        return 0;
    }
    int k = gp->k;
    /* ln((2^k - 1) k / (2 delta)) without forming 2^k, which overflows from k = 1024. */
    double lg = k * log(2.0) + log1p(-ldexp(1.0, -k)) + log((double)k) - log(2.0 * delta);
    *m = lg > 0.0 ? 2.0 / z * lg : 0.0;
    return 0;
}

/* ln of the per-weight union bound at ensemble size m, each term in log space because C(k, h)
 * overflows a double from k = 1030. */
static double log_union(int k, const double *zin, const double *zout, double m)
{
    double terms_max = -INFINITY, sum = 0.0;
    /* Two passes (max, then sum of exp(term - max)) keep the sum from overflowing. */
    for (int pass = 0; pass < 2; pass++) {
        for (int h = 2; h <= k; h++) {
            double lc = lgamma(k + 1.0) - lgamma(h + 1.0) - lgamma(k - h + 1.0) - log(2.0);
            double ti = lc + log((double)h) - m * zin[h] / 2.0;
            double to = h < k ? lc + log((double)(k - h)) - m * zout[h] / 2.0 : -INFINITY;
            if (pass == 0)
                terms_max = fmax(terms_max, fmax(ti, to));
            else
                sum += exp(ti - terms_max) + exp(to - terms_max);
        }
    }
    return terms_max + log(sum);
}

/* Bisection between 0 and the crude bound, where the per-weight sum is at most delta because
 * every one of its terms uses a z no smaller than z* and there are at most (2^k - 1) k of them. */
static double solve_union(int k, const double *zin, const double *zout, double delta, double hi)
{
    double lo = 0.0, target = log(delta);
    if (log_union(k, zin, zout, lo) <= target)
        return 0.0;
    while (hi - lo > 1e-12 * hi) {
        double mid = (lo + hi) / 2.0;
        if (log_union(k, zin, zout, mid) > target)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

int sb_ntk_ensemble_all_weights(const sb_ntk_gp *gp, double delta, double *m)
{
    double crude;
    int rc = sb_ntk_ensemble_all_crude(gp, delta, &crude);
    if (rc != 0)
        return rc;
    if (gp->k == 1) {
        *m = 0.0;
        return 0;
    }
    int k = gp->k;
    double *z = malloc(2 * ((size_t)k + 1) * sizeof *z);
    if (!z)
        return SB_ENOMEM;
    double *zin = z, *zout = z + k + 1;
    for (int h = 2; h <= k && rc == 0; h++)
        rc = zvalues(gp, h, &zin[h], &zout[h]);
    if (rc == 0)
        *m = solve_union(k, zin, zout, delta, crude);
    free(z);
    return rc;
}

/* ---- dense joint covariance and Monte Carlo ------------------------------------------------ */

static int is_training(unsigned mask)
{
    return (mask & (mask - 1)) == 0;
}

int sb_ntk_dense_n(int k, int with_training)
{
    if (k < 1 || k > SB_NTK_DENSE_K_MAX)
        return 0;
    int n = (1 << k) - 1;
    return with_training ? n : n - k;
}

/* The bitmasks of the dense rows, in increasing order; returns their number. */
static int dense_masks(int k, int with_training, unsigned *masks)
{
    int n = 0;
    for (unsigned x = 1; x < (1u << k); x++)
        if (with_training || !is_training(x))
            masks[n++] = x;
    return n;
}

static int dense_ok(const sb_ntk_gp *gp)
{
    return gp_ok(gp) && gp->k <= SB_NTK_DENSE_K_MAX;
}

int sb_ntk_dense_cov(const sb_ntk_gp *gp, int with_training, double *cov)
{
    if (!dense_ok(gp) || !cov)
        return SB_EINPUT;
    unsigned masks[1u << SB_NTK_DENSE_K_MAX];
    int n = dense_masks(gp->k, with_training, masks);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
            int h = __builtin_popcount(masks[i]), h2 = __builtin_popcount(masks[j]);
            int t = __builtin_popcount(masks[i] & masks[j]);
            double v = joint(gp, h, h2, t);
            cov[(size_t)i * n + j] = v;
            cov[(size_t)j * n + i] = v;
        }
    }
    return 0;
}

int sb_ntk_dense_rank(const sb_ntk_gp *gp, double rtol, int *rank)
{
    if (!dense_ok(gp) || !rank || !(rtol >= 0.0))
        return SB_EINPUT;
    int n = sb_ntk_dense_n(gp->k, 1);
    double *a = malloc(((size_t)n * n + n) * sizeof *a);
    if (!a)
        return SB_ENOMEM;
    double *w = a + (size_t)n * n;
    int rc = sb_ntk_dense_cov(gp, 1, a);
    if (rc == 0 && LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'L', n, a, n, w) != 0)
        rc = SB_EINTERNAL;
    if (rc == 0) {
        /* eigenvalues come ascending; the largest magnitude is at one end */
        double big = fmax(fabs(w[0]), fabs(w[n - 1]));
        *rank = 0;
        for (int i = 0; i < n; i++)
            *rank += fabs(w[i]) > rtol * big;
    }
    free(a);
    return rc;
}

/* Standard normal number `index` of draw `sample`, by Box-Muller (cosine branch only, so each
 * number has its own pair of uniforms and its own key). */
static double normal_at(uint64_t seed, uint64_t sample, uint64_t index)
{
    double u1 = 1.0 - sb_rand_unit(seed, sample, 2 * index); /* (0, 1]: log is finite */
    double u2 = sb_rand_unit(seed, sample, 2 * index + 1);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * pi * u2);
}

/* The mean of output coordinate c at input mask x: the target bit c of x (identity
 * permutation) picks mu_in or mu_out of x's weight. */
static double mean_at(const double *mu_in, const double *mu_out, unsigned x, int c)
{
    int h = __builtin_popcount(x);
    return (x >> c) & 1u ? mu_in[h] : mu_out[h];
}

static int rounds_right(double v, unsigned x, int c)
{
    return (v > SB_NTK_ROUND_EPS) == (int)((x >> c) & 1u);
}

/* The training inputs carry no noise: exact when their means round right (ntk.md: they do). */
static int training_exact(int k, const double *mu_in, const double *mu_out)
{
    for (int j = 0; j < k; j++)
        for (int c = 0; c < k; c++)
            if (!rounds_right(mean_at(mu_in, mu_out, 1u << j, c), 1u << j, c))
                return 0;
    return 1;
}

typedef struct mc_ctx {
    int k, n;
    const unsigned *masks;
    const double *chol; /* lower Cholesky factor, row-major n x n */
    const double *mu_in, *mu_out;
    double scale; /* 1 / sqrt(m) */
    uint64_t seed;
} mc_ctx;

/* One joint draw: every coordinate of every non-training input, stopping at the first wrong
 * bit (the keys make the stop harmless to reproducibility).  z holds one coordinate's normals. */
static int draw_exact(const mc_ctx *c, uint64_t sample, double *z)
{
    int n = c->n;
    for (int coord = 0; coord < c->k; coord++) {
        for (int i = 0; i < n; i++)
            z[i] = normal_at(c->seed, sample, (uint64_t)coord * n + i);
        for (int i = 0; i < n; i++) {
            const double *row = c->chol + (size_t)i * n;
            double noise = 0.0;
            for (int j = 0; j <= i; j++)
                noise += row[j] * z[j];
            unsigned x = c->masks[i];
            double v = mean_at(c->mu_in, c->mu_out, x, coord) + c->scale * noise;
            if (!rounds_right(v, x, coord))
                return 0;
        }
    }
    return 1;
}

/* Fills the per-weight means and the Cholesky factor of the non-training covariance. */
static int mc_setup(const sb_ntk_gp *gp, double *mu_in, double *mu_out, double *chol)
{
    for (int h = 1; h <= gp->k; h++)
        means(gp, h, &mu_in[h], &mu_out[h]);
    int n = sb_ntk_dense_n(gp->k, 0);
    int rc = sb_ntk_dense_cov(gp, 0, chol);
    if (rc != 0)
        return rc;
    if (n > 0 && LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, chol, n) != 0)
        return SB_EINTERNAL;
    for (int i = 0; i < n; i++) /* dpotrf leaves the upper triangle as it was */
        for (int j = i + 1; j < n; j++)
            chol[(size_t)i * n + j] = 0.0;
    return 0;
}

int sb_ntk_mc_all_exact(const sb_ntk_gp *gp, double m, long samples, unsigned long long seed,
                        double *p, double *se)
{
    if (!dense_ok(gp) || !(m > 0.0) || !isfinite(m) || samples < 1 || !p || !se)
        return SB_EINPUT;
    int k = gp->k, n = sb_ntk_dense_n(k, 0);
    double mu_in[SB_NTK_DENSE_K_MAX + 1], mu_out[SB_NTK_DENSE_K_MAX + 1];
    unsigned masks[1u << SB_NTK_DENSE_K_MAX];
    dense_masks(k, 0, masks);
    double *buf = malloc(((size_t)n * n + n + 1) * sizeof *buf);
    if (!buf)
        return SB_ENOMEM;
    int rc = mc_setup(gp, mu_in, mu_out, buf);
    if (rc == 0) {
        mc_ctx c = {.k = k,
                    .n = n,
                    .masks = masks,
                    .chol = buf,
                    .mu_in = mu_in,
                    .mu_out = mu_out,
                    .scale = 1.0 / sqrt(m),
                    .seed = seed};
        long hits = 0;
        if (training_exact(k, mu_in, mu_out))
            for (long s = 0; s < samples; s++)
                hits += draw_exact(&c, (uint64_t)s, buf + (size_t)n * n);
        *p = (double)hits / samples;
        *se = sqrt(*p * (1.0 - *p) / samples);
    }
    free(buf);
    return rc;
}
