/* Softmax helpers, advantages and per-step objective terms of the grpo kind
 * (include/symbatch/grpo.h, /work/shared/reference/grpo.md). */
#include "symbatch/grpo.h"

#include <math.h>

/* ---- softmax ------------------------------------------------------------------------------- */

void sb_log_softmax(const double *z, int n, double tau, double *out)
{
    double m = z[0] / tau;
    for (int i = 1; i < n; i++)
        m = fmax(m, z[i] / tau);
    /* shifting by the largest logit keeps every exp in (0, 1]: no overflow for large z */
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += exp(z[i] / tau - m);
    double lse = m + log(s);
    for (int i = 0; i < n; i++)
        out[i] = z[i] / tau - lse;
}

double sb_entropy(const double *logp, int n)
{
    double h = 0.0;
    for (int i = 0; i < n; i++) {
        double p = exp(logp[i]);
        if (p > 0.0) /* 0 log 0 = 0 (logp = -inf would give NaN) */
            h -= p * logp[i];
    }
    return h;
}

void sb_logp_grad(const double *logp, int n, int a, double dl_dlp, double tau, double *dz)
{
    double c = dl_dlp / tau;
    for (int i = 0; i < n; i++)
        dz[i] = c * ((i == a ? 1.0 : 0.0) - exp(logp[i]));
}

void sb_entropy_grad(const double *logp, int n, double tau, double *dz)
{
    double h = sb_entropy(logp, n);
    for (int i = 0; i < n; i++) {
        double p = exp(logp[i]);
        dz[i] = p > 0.0 ? -p * (logp[i] + h) / tau : 0.0;
    }
}

/* ---- advantages ---------------------------------------------------------------------------- */

static int all_equal(const double *r, int g)
{
    for (int i = 1; i < g; i++)
        if (r[i] != r[0])
            return 0;
    return 1;
}

/* Group-relative advantage Â: r - mean, divided by std + eps when asked. */
static void group_relative(const sb_adv_cfg *c, const double *r, int g, double *adv)
{
    double mean = 0.0;
    for (int i = 0; i < g; i++)
        mean += r[i];
    mean /= g;
    double ss = 0.0;
    for (int i = 0; i < g; i++) {
        adv[i] = r[i] - mean;
        ss += adv[i] * adv[i];
    }
    if (!c->std_normalise)
        return;
    double sd = sqrt(ss / (c->unbiased_std ? g - 1 : g)); /* g >= 2 here: not all equal */
    double den = sd + c->eps;
    for (int i = 0; i < g; i++) /* den is 0 only if every square underflowed: no signal */
        adv[i] = den > 0.0 ? adv[i] / den : 0.0;
}

/* Eq. 12: the weight of the group's Â moves with omega between 1/sqrt(p) and 1/sqrt(1-p). */
static void agrae_sample(const double *r, int g, double omega, double *adv)
{
    double p = 0.0;
    for (int i = 0; i < g; i++)
        p += r[i];
    p /= g;
    p = p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
    if (p <= 0.0 || p >= 1.0)
        return;
    double f = 0.5 * omega / sqrt(p) + 0.5 * (1.0 - omega) / sqrt(1.0 - p);
    for (int i = 0; i < g; i++)
        adv[i] *= f;
}

/* Eq. 13: positive advantages shrink by min(1, omega / alpha) while the batch accuracy is low.
 * alpha <= 0 is outside the equation's range: Eq. 13 is then skipped rather than dividing by
 * it. */
static void agrae_group(double alpha, int g, double omega, double *adv)
{
    if (!(alpha > 0.0))
        return;
    double f = fmin(1.0, omega / alpha);
    for (int i = 0; i < g; i++)
        if (adv[i] > 0.0)
            adv[i] *= f;
}

void sb_grpo_advantages(const sb_adv_cfg *c, const double *rewards, int g, double omega,
                        double *adv)
{
    if (g < 1)
        return;
    /* tested, not left to r - mean: the mean of equal non-dyadic rewards can differ from them
     * in the last bit, and 0 / (0 + eps) stays 0 only if the difference is exactly 0 */
    if (all_equal(rewards, g)) {
        for (int i = 0; i < g; i++)
            adv[i] = 0.0;
        return;
    }
    group_relative(c, rewards, g, adv);
    if (c->agrae_sample)
        agrae_sample(rewards, g, omega, adv);
    if (c->agrae_group)
        agrae_group(c->alpha, g, omega, adv);
}

/* ---- per-step objective -------------------------------------------------------------------- */

double sb_grpo_surrogate(double lp, double lp_old, double adv, double eps_low, double eps_high,
                         double *dterm_dlp, int *clipped)
{
    double rho = exp(lp - lp_old);
    double lo = 1.0 - eps_low, hi = 1.0 + eps_high;
    double unclipped = rho * adv;
    double cut = (rho < lo ? lo : (rho > hi ? hi : rho)) * adv;
    if (cut < unclipped) {
        /* the clipped branch is a constant in lp: no gradient */
        *dterm_dlp = 0.0;
        *clipped = rho > 1.0 ? 1 : -1;
        return cut;
    }
    *dterm_dlp = unclipped; /* d(rho A)/d lp = rho A */
    *clipped = 0;
    return unclipped;
}

double sb_grpo_kl(sb_kl_kind kind, double lp, double lr, double *dkl_dlp)
{
    double d = lp - lr;
    switch (kind) {
    case SB_KL_K1:
        *dkl_dlp = 1.0;
        return d;
    case SB_KL_K2:
        *dkl_dlp = d;
        return 0.5 * d * d;
    case SB_KL_K3:
    default: {
        /* k3 = e^{-d} + d - 1 >= 0; expm1 keeps it accurate (and >= 0) when d is tiny */
        double e = expm1(-d);
        *dkl_dlp = -e; /* 1 - e^{-d} */
        return e + d;
    }
    }
}

double sb_grpo_step_weight(sb_loss_agg agg, int64_t len, int64_t total_tokens, int64_t ntraj,
                           double norm)
{
    switch (agg) {
    case SB_AGG_TOKEN_MEAN:
        return total_tokens > 0 ? 1.0 / (double)total_tokens : 0.0;
    case SB_AGG_SEQ_MEAN_TOKEN_MEAN:
        return ntraj > 0 && len > 0 ? 1.0 / ((double)ntraj * (double)len) : 0.0;
    case SB_AGG_SEQ_MEAN_TOKEN_SUM_NORM:
        return ntraj > 0 && norm > 0.0 ? 1.0 / ((double)ntraj * norm) : 0.0;
    }
    return 0.0;
}
