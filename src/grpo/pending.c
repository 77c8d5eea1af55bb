/* TEMPORARY placeholders of symbatch/grpo.h (naive loops, no BLAS) so that the grpo kind links
 * until the numerics (mlp.c, objective.c, adam.c) are merged.  Deleted at that merge. */
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/grpo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t sb_mlp_nparams(const sb_mlp_shape *s)
{
    if (s->nlayers < 1 || s->nlayers > SB_MLP_MAX_LAYERS)
        return 0;
    size_t n = 0;
    for (int l = 0; l < s->nlayers; l++)
        n += (size_t)s->sizes[l + 1] * (size_t)s->sizes[l] + (size_t)s->sizes[l + 1];
    return n;
}

size_t sb_mlp_offset_w(const sb_mlp_shape *s, int layer)
{
    size_t n = 0;
    for (int l = 0; l < layer; l++)
        n += (size_t)s->sizes[l + 1] * (size_t)s->sizes[l] + (size_t)s->sizes[l + 1];
    return n;
}

size_t sb_mlp_offset_b(const sb_mlp_shape *s, int layer)
{
    return sb_mlp_offset_w(s, layer) + (size_t)s->sizes[layer + 1] * (size_t)s->sizes[layer];
}

void sb_mlp_init(const sb_mlp_shape *s, double *params, uint64_t seed, uint64_t stream,
                 double last_std)
{
    memset(params, 0, sb_mlp_nparams(s) * sizeof *params);
    uint64_t k = 0;
    for (int l = 0; l < s->nlayers; l++) {
        double sd = l == s->nlayers - 1 ? last_std : sqrt(2.0 / s->sizes[l]);
        size_t w = sb_mlp_offset_w(s, l), nw = (size_t)s->sizes[l + 1] * (size_t)s->sizes[l];
        for (size_t i = 0; i < nw; i++, k += 2) {
            double u1 = sb_rand_unit(seed, stream, k), u2 = sb_rand_unit(seed, stream, k + 1);
            params[w + i] = sd * sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
        }
    }
}

struct sb_mlp_batch {
    sb_mlp_shape s;
    int max_rows, rows, nactive;
    int32_t *idx;
    double *act[SB_MLP_MAX_LAYERS + 1]; /* act[l]: output of layer l (after ReLU but last) */
};

int sb_mlp_batch_create(sb_mlp_batch **out, const sb_mlp_shape *s, int max_rows)
{
    sb_mlp_batch *b = calloc(1, sizeof *b);
    if (!b)
        return SB_ENOMEM;
    b->s = *s;
    b->max_rows = max_rows;
    b->idx = malloc((size_t)max_rows * (size_t)s->sizes[0] * sizeof *b->idx);
    for (int l = 1; l <= s->nlayers; l++)
        b->act[l] = malloc((size_t)max_rows * (size_t)s->sizes[l] * sizeof(double));
    *out = b;
    return 0;
}

void sb_mlp_batch_free(sb_mlp_batch *b)
{
    if (!b)
        return;
    free(b->idx);
    for (int l = 1; l <= b->s.nlayers; l++)
        free(b->act[l]);
    free(b);
}

const double *sb_mlp_forward(sb_mlp_batch *b, const double *params, const int32_t *idx, int nactive,
                             int rows)
{
    const sb_mlp_shape *s = &b->s;
    b->rows = rows;
    b->nactive = nactive;
    memcpy(b->idx, idx, (size_t)rows * (size_t)nactive * sizeof *idx);
    for (int l = 0; l < s->nlayers; l++) {
        const int in = s->sizes[l], o = s->sizes[l + 1];
        const double *W = params + sb_mlp_offset_w(s, l), *bias = params + sb_mlp_offset_b(s, l);
        for (int r = 0; r < rows; r++) {
            double *y = b->act[l + 1] + (size_t)r * (size_t)o;
            for (int j = 0; j < o; j++) {
                double z = bias[j];
                if (l == 0)
                    for (int k = 0; k < nactive; k++)
                        z += W[(size_t)j * (size_t)in + (size_t)idx[r * nactive + k]];
                else
                    for (int k = 0; k < in; k++)
                        z += W[(size_t)j * (size_t)in + (size_t)k] *
                             b->act[l][(size_t)r * (size_t)in + (size_t)k];
                y[j] = (l < s->nlayers - 1 && z < 0) ? 0 : z;
            }
        }
    }
    return b->act[s->nlayers];
}

void sb_mlp_backward(sb_mlp_batch *b, const double *params, const double *dlogits, double *grad)
{
    const sb_mlp_shape *s = &b->s;
    int maxw = 0;
    for (int l = 0; l <= s->nlayers; l++)
        maxw = s->sizes[l] > maxw ? s->sizes[l] : maxw;
    double *d = malloc((size_t)b->rows * (size_t)maxw * sizeof *d);
    double *dn = malloc((size_t)b->rows * (size_t)maxw * sizeof *dn);
    memcpy(d, dlogits, (size_t)b->rows * (size_t)s->sizes[s->nlayers] * sizeof *d);
    for (int l = s->nlayers - 1; l >= 0; l--) {
        const int in = s->sizes[l], o = s->sizes[l + 1];
        const double *W = params + sb_mlp_offset_w(s, l);
        double *gW = grad + sb_mlp_offset_w(s, l), *gb = grad + sb_mlp_offset_b(s, l);
        for (int r = 0; r < b->rows; r++)
            for (int j = 0; j < o; j++) {
                double g = d[(size_t)r * (size_t)o + (size_t)j];
                gb[j] += g;
                if (l == 0)
                    for (int k = 0; k < b->nactive; k++)
                        gW[(size_t)j * (size_t)in + (size_t)b->idx[r * b->nactive + k]] += g;
                else
                    for (int k = 0; k < in; k++)
                        gW[(size_t)j * (size_t)in + (size_t)k] +=
                            g * b->act[l][(size_t)r * (size_t)in + (size_t)k];
            }
        if (l == 0)
            break;
        for (int r = 0; r < b->rows; r++)
            for (int k = 0; k < in; k++) {
                double x = 0;
                for (int j = 0; j < o; j++)
                    x += d[(size_t)r * (size_t)o + (size_t)j] *
                         W[(size_t)j * (size_t)in + (size_t)k];
                dn[(size_t)r * (size_t)in + (size_t)k] =
                    b->act[l][(size_t)r * (size_t)in + (size_t)k] > 0 ? x : 0;
            }
        double *t = d;
        d = dn;
        dn = t;
    }
    free(d);
    free(dn);
}

void sb_log_softmax(const double *z, int n, double tau, double *out)
{
    double mx = z[0] / tau, s = 0;
    for (int i = 1; i < n; i++)
        mx = z[i] / tau > mx ? z[i] / tau : mx;
    for (int i = 0; i < n; i++)
        s += exp(z[i] / tau - mx);
    double l = mx + log(s);
    for (int i = 0; i < n; i++)
        out[i] = z[i] / tau - l;
}

double sb_entropy(const double *logp, int n)
{
    double h = 0;
    for (int i = 0; i < n; i++)
        h -= exp(logp[i]) * logp[i];
    return h;
}

void sb_logp_grad(const double *logp, int n, int a, double dl_dlp, double tau, double *dz)
{
    for (int i = 0; i < n; i++)
        dz[i] = dl_dlp * ((i == a) - exp(logp[i])) / tau;
}

void sb_entropy_grad(const double *logp, int n, double tau, double *dz)
{
    double h = sb_entropy(logp, n);
    for (int i = 0; i < n; i++)
        dz[i] = -exp(logp[i]) * (logp[i] + h) / tau;
}

void sb_grpo_advantages(const sb_adv_cfg *c, const double *r, int g, double omega, double *adv)
{
    double mean = 0, var = 0;
    for (int i = 0; i < g; i++)
        mean += r[i];
    mean /= g;
    bool equal = true;
    for (int i = 0; i < g; i++) {
        var += (r[i] - mean) * (r[i] - mean);
        equal = equal && r[i] == r[0];
    }
    if (equal) {
        memset(adv, 0, (size_t)g * sizeof *adv);
        return;
    }
    double sd = sqrt(var / (c->unbiased_std && g > 1 ? g - 1 : g));
    double p = mean < 0 ? 0 : mean > 1 ? 1 : mean;
    for (int i = 0; i < g; i++) {
        double a = r[i] - mean;
        if (c->std_normalise)
            a /= sd + c->eps;
        if (c->agrae_sample && p > 0 && p < 1)
            a = omega / 2 * a / sqrt(p) + (1 - omega) / 2 * a / sqrt(1 - p);
        if (c->agrae_group && a > 0)
            a *= omega / c->alpha < 1 ? omega / c->alpha : 1;
        adv[i] = a;
    }
}

double sb_grpo_surrogate(double lp, double lp_old, double adv, double eps_low, double eps_high,
                         double *dterm_dlp, int *clipped)
{
    double rho = exp(lp - lp_old);
    double cl = rho < 1 - eps_low ? 1 - eps_low : rho > 1 + eps_high ? 1 + eps_high : rho;
    double u = rho * adv, c = cl * adv;
    *clipped = 0;
    if (u <= c) {
        *dterm_dlp = u;
        return u;
    }
    *dterm_dlp = 0;
    *clipped = adv > 0 ? 1 : -1;
    return c;
}

double sb_grpo_kl(sb_kl_kind kind, double lp, double lr, double *d)
{
    double x = lp - lr;
    if (kind == SB_KL_K1) {
        *d = 1;
        return x;
    }
    if (kind == SB_KL_K2) {
        *d = x;
        return x * x / 2;
    }
    *d = 1 - exp(lr - lp);
    return exp(lr - lp) - (lr - lp) - 1;
}

double sb_grpo_step_weight(sb_loss_agg agg, int64_t len, int64_t total, int64_t ntraj, double norm)
{
    if (agg == SB_AGG_TOKEN_MEAN)
        return total > 0 ? 1.0 / (double)total : 0;
    if (agg == SB_AGG_SEQ_MEAN_TOKEN_MEAN)
        return len > 0 ? 1.0 / ((double)ntraj * (double)len) : 0;
    return 1.0 / ((double)ntraj * norm);
}

int sb_adam_init(sb_adam *a, size_t n)
{
    a->n = n;
    a->m = calloc(n ? n : 1, sizeof *a->m);
    a->v = calloc(n ? n : 1, sizeof *a->v);
    a->t = 0;
    return a->m && a->v ? 0 : SB_ENOMEM;
}

void sb_adam_free(sb_adam *a)
{
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}

double sb_adam_step(sb_adam *a, const sb_adam_cfg *c, double *p, double *g, double *lr_used)
{
    double nn = 0;
    for (size_t i = 0; i < a->n; i++)
        nn += g[i] * g[i];
    double norm = sqrt(nn);
    if (c->clip_norm > 0 && norm > c->clip_norm)
        for (size_t i = 0; i < a->n; i++)
            g[i] *= c->clip_norm / norm;
    double lr = c->lr;
    if (c->warmup > 0 && (double)(a->t + 1) < (double)c->warmup)
        lr *= (double)(a->t + 1) / (double)c->warmup;
    a->t++;
    double b1 = 1 - pow(c->beta1, (double)a->t), b2 = 1 - pow(c->beta2, (double)a->t);
    for (size_t i = 0; i < a->n; i++) {
        double gi = g[i] + (c->decoupled ? 0 : c->weight_decay * p[i]);
        a->m[i] = c->beta1 * a->m[i] + (1 - c->beta1) * gi;
        a->v[i] = c->beta2 * a->v[i] + (1 - c->beta2) * gi * gi;
        if (c->decoupled)
            p[i] -= lr * c->weight_decay * p[i];
        p[i] -= lr * (a->m[i] / b1) / (sqrt(a->v[i] / b2) + c->eps);
    }
    if (lr_used)
        *lr_used = lr;
    return norm;
}
