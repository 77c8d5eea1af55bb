/* Adam / AdamW with linear warm-up and global gradient-norm clipping (include/symbatch/grpo.h).
 * The update follows PyTorch's Adam and AdamW: bias-corrected moments, eps added to the square
 * root of the corrected second moment, AdamW's decay scaled by the learning rate. */
#include "symbatch/grpo.h"

#include "symbatch/error.h"

#include <math.h>
#include <stdlib.h>

int sb_adam_init(sb_adam *a, size_t n)
{
    if (!a)
        return SB_EINPUT;
    a->n = n;
    a->t = 0;
    a->m = calloc(n ? n : 1, sizeof(double));
    a->v = calloc(n ? n : 1, sizeof(double));
    if (!a->m || !a->v) {
        sb_adam_free(a);
        return SB_ENOMEM;
    }
    return 0;
}

void sb_adam_free(sb_adam *a)
{
    if (!a)
        return;
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

/* lr_t = lr min(1, (t + 1) / warmup) for the update that follows t earlier ones. */
static double warmup_lr(const sb_adam_cfg *c, int64_t t)
{
    if (c->warmup <= 0 || t + 1 >= c->warmup)
        return c->lr;
    return c->lr * (double)(t + 1) / (double)c->warmup;
}

static double global_norm(const double *g, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) /* one fixed order: the same bits on every rank */
        s += g[i] * g[i];
    return sqrt(s);
}

double sb_adam_step(sb_adam *a, const sb_adam_cfg *c, double *params, double *grad, double *lr_used)
{
    double norm = global_norm(grad, a->n);
    double lr = warmup_lr(c, a->t);
    if (lr_used)
        *lr_used = lr;
    /* a NaN or infinite gradient would poison every parameter and both moments for good: the
     * step is skipped and the caller sees the norm */
    if (!isfinite(norm))
        return norm;
    if (c->clip_norm > 0.0 && norm > c->clip_norm) {
        double s = c->clip_norm / norm;
        for (size_t i = 0; i < a->n; i++)
            grad[i] *= s;
    }
    a->t++;
    double bc1 = 1.0 - pow(c->beta1, (double)a->t), bc2 = 1.0 - pow(c->beta2, (double)a->t);
    double wd = c->weight_decay;
    for (size_t i = 0; i < a->n; i++) {
        double g = grad[i];
        if (wd != 0.0) {
            if (c->decoupled)
                params[i] -= lr * wd * params[i];
            else
                g += wd * params[i]; /* L2: the decay joins the gradient (after clipping) */
        }
        a->m[i] = c->beta1 * a->m[i] + (1.0 - c->beta1) * g;
        a->v[i] = c->beta2 * a->v[i] + (1.0 - c->beta2) * g * g;
        double mhat = a->m[i] / bc1, vhat = a->v[i] / bc2;
        params[i] -= lr * mhat / (sqrt(vhat) + c->eps);
    }
    return norm;
}
