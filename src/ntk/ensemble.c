/* One finite-width network of the ntk job kind (ntk_ensemble.h): test inputs, initialisation
 * from (seed, member), full-batch gradient descent on the k basis vectors, and evaluation on
 * every test input.
 *
 * Evaluation never multiplies a dense input matrix: a test input x = 1_S / sqrt(|S|) has the
 * pre-activation W1 x = (sum of the columns of W1 in S) / sqrt(|S|), and the inputs come in
 * increasing order of their masks, so consecutive inputs share their highest bits.  The sum of
 * the columns of an input's t highest bits is kept for every t (partial sums, from the highest
 * bit down), and only the levels below the first bit that differs from the previous input are
 * recomputed: about one vector addition per input when the set is every nonzero input.  Each
 * sum is therefore exactly the left-to-right sum over the bits in decreasing order, whatever
 * the previous input was, so the outputs do not depend on which inputs are evaluated.  The
 * readout of a block of inputs is one GEMM. */
#include "symbatch/ntk_ensemble.h"

#include "symbatch/core.h"
#include "symbatch/error.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Inputs per readout GEMM: the block of hidden activations (EVAL_BLOCK x width doubles) stays
 * in the L2/L3 cache at the widths of ntk.md (4096: 2 MB). */
#define EVAL_BLOCK 64
/* Most test inputs accepted (their masks, weights and one member's outputs are held). */
#define INPUTS_MAX ((int64_t)1 << 31)

/* ---- test inputs ---------------------------------------------------------------------------- */

/* C(k, h) for k <= 62, saturating at INT64_MAX. */
static int64_t binom(int k, int h)
{
    if (h < 0 || h > k)
        return 0;
    unsigned __int128 c = 1;
    for (int i = 1; i <= h; i++) {
        c = c * (unsigned)(k - h + i) / (unsigned)i; /* exact: C(k - h + i, i) */
        if (c > INT64_MAX)
            return INT64_MAX;
    }
    return (int64_t)c;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int sb_ntk_inputs_build(sb_ntk_inputs *in, int k, int min_weight, int max_weight)
{
    if (!in)
        return SB_EINPUT;
    memset(in, 0, sizeof *in);
    if (k < 2 || k > 62 || min_weight < 1 || max_weight < min_weight || max_weight > k)
        return SB_EINPUT;
    int64_t n = 0;
    for (int h = min_weight; h <= max_weight; h++) {
        int64_t c = binom(k, h);
        if (c > INPUTS_MAX || n + c > INPUTS_MAX)
            return SB_ELIMIT;
        n += c;
    }
    in->mask = malloc((size_t)n * sizeof *in->mask);
    in->weight = malloc((size_t)n);
    if (!in->mask || !in->weight) {
        sb_ntk_inputs_free(in);
        return SB_ENOMEM;
    }
    /* Every h-subset by Gosper's hack (next larger integer with the same number of ones). */
    int64_t i = 0;
    for (int h = min_weight; h <= max_weight; h++) {
        uint64_t x = ((uint64_t)1 << h) - 1, top = (uint64_t)1 << k;
        while (x < top) {
            in->mask[i++] = x;
            uint64_t lo = x & (~x + 1), r = x + lo;
            if (r == 0)
                break;
            x = (((r ^ x) >> 2) / lo) | r;
        }
    }
    qsort(in->mask, (size_t)n, sizeof *in->mask, cmp_u64);
    for (int64_t j = 0; j < n; j++)
        in->weight[j] = (uint8_t)__builtin_popcountll(in->mask[j]);
    in->k = k;
    in->n = n;
    return 0;
}

void sb_ntk_inputs_free(sb_ntk_inputs *in)
{
    if (!in)
        return;
    free(in->mask);
    free(in->weight);
    memset(in, 0, sizeof *in);
}

/* ---- networks --------------------------------------------------------------------------- */

static int cfg_valid(const sb_ntk_train_cfg *c)
{
    if (!c || c->k < 2 || c->k > 62 || c->width < 1 || c->width > (1 << 24) || !(c->sigma_w > 0) ||
        !isfinite(c->sigma_w) || !(c->learning_rate > 0) || !isfinite(c->learning_rate) ||
        c->epochs < 0 || !(c->tolerance >= 0) || !c->perm ||
        (c->param != SB_NTK_PARAM_NTK && c->param != SB_NTK_PARAM_STANDARD))
        return 0;
    uint64_t seen = 0;
    for (int i = 0; i < c->k; i++) {
        if (c->perm[i] < 0 || c->perm[i] >= c->k || (seen >> c->perm[i] & 1))
            return 0;
        seen |= (uint64_t)1 << c->perm[i];
    }
    return 1;
}

int sb_ntk_net_alloc(sb_ntk_net *net, const sb_ntk_train_cfg *c)
{
    if (!net)
        return SB_EINPUT;
    memset(net, 0, sizeof *net);
    if (!cfg_valid(c))
        return SB_EINPUT;
    size_t wk = (size_t)c->width * (size_t)c->k;
    net->k = c->k;
    net->width = c->width;
    net->param = c->param;
    net->sigma_w = c->sigma_w;
    net->w1 = malloc(wk * sizeof(double));
    net->w2 = malloc(wk * sizeof(double));
    int ok = net->w1 && net->w2;
    if (c->param == SB_NTK_PARAM_STANDARD) {
        net->b1 = calloc((size_t)c->width, sizeof(double));
        net->b2 = calloc((size_t)c->k, sizeof(double));
        ok = ok && net->b1 && net->b2;
    }
    if (!ok) {
        sb_ntk_net_free(net);
        return SB_ENOMEM;
    }
    return 0;
}

void sb_ntk_net_free(sb_ntk_net *net)
{
    if (!net)
        return;
    free(net->w1);
    free(net->w2);
    free(net->b1);
    free(net->b2);
    memset(net, 0, sizeof *net);
}

/* Standard normals of member `member`, number q of them at positions 2 floor(q/2) and
 * 2 floor(q/2) + 1 of stream `member` (Box-Muller: both the cosine and the sine of a pair). */
static void normals(uint64_t seed, int64_t member, uint64_t first, size_t count, double scale,
                    double *out)
{
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t i = 0; i < count; i += 2) {
        uint64_t q = first + i;
        double u1 = sb_rand_unit(seed, (uint64_t)member, q);
        double u2 = sb_rand_unit(seed, (uint64_t)member, q + 1);
        double r = sqrt(-2.0 * log1p(-u1)) * scale; /* 1 - u1 in (0, 1]: never log(0) */
        out[i] = r * cos(two_pi * u2);
        if (i + 1 < count)
            out[i + 1] = r * sin(two_pi * u2);
    }
}

/* W1 takes normals 0 .. width k - 1 and W2 width k more from position width k rounded up to
 * even, so that both start a Box-Muller pair (width k is odd when k and width both are). */
static void net_init(sb_ntk_net *net, uint64_t seed, int64_t member)
{
    size_t wk = (size_t)net->width * (size_t)net->k;
    double s1 = 1, s2 = 1;
    if (net->param == SB_NTK_PARAM_STANDARD) {
        s1 = net->sigma_w / sqrt((double)net->k);
        s2 = net->sigma_w / sqrt((double)net->width);
        memset(net->b1, 0, (size_t)net->width * sizeof(double));
        memset(net->b2, 0, (size_t)net->k * sizeof(double));
    }
    uint64_t w2_first = (uint64_t)wk + (wk & 1);
    normals(seed, member, 0, wk, s1, net->w1);
    normals(seed, member, w2_first, wk, s2, net->w2);
}

void sb_ntk_gram_eigen(const sb_ntk_train_cfg *c, double *lambda_min, double *lambda_max)
{
    const double k = c->k, m = c->width, s2 = c->sigma_w * c->sigma_w;
    const double inv2pi = 0.15915494309189533577; /* kappa1(0) */
    if (c->param == SB_NTK_PARAM_NTK) {
        /* Theta(X, X) = (a - b) I + b 11^T, a = s^4 / k, b = s^4 / (2 pi k). */
        *lambda_min = s2 * s2 * (1.0 - inv2pi) / k;
        *lambda_max = s2 * s2 * (1.0 + (k - 1.0) * inv2pi) / k;
        return;
    }
    /* Sums of the parts (readout weights m s^2 kappa1(u) / k, readout bias 1, first-layer
     * weights s^2 u kappa0(u), first-layer bias s^2 kappa0(u)), each (a - b) I + b 11^T, so all
     * share the eigenvector 11^T and its complement. */
    *lambda_min = m * s2 * (0.5 - inv2pi) / k + 0.5 * s2 + 0.25 * s2;
    *lambda_max =
        m * s2 * (0.5 + (k - 1.0) * inv2pi) / k + k + 0.5 * s2 + s2 * (0.5 + (k - 1.0) / 4.0);
}

double sb_ntk_gd_step(const sb_ntk_train_cfg *c)
{
    double lo, hi;
    sb_ntk_gram_eigen(c, &lo, &hi);
    return c->learning_rate * 2.0 / (lo + hi);
}

/* Training runs on transposed copies, so that every loop is a unit-stride pass over `width`
 * doubles: u1 = W1^T (k x width, row i the weights of input i), h = relu(s1 u1 + b1) (row i
 * the hidden layer on e_i), g its gradient, and f (k x k: f[c][i] the output c on e_i, then
 * the residual). */
typedef struct train_ws {
    double *u1, *h, *g, *f;
} train_ws;

static void axpy(double alpha, const double *x, double *y, int n)
{
    for (int j = 0; j < n; j++)
        y[j] += alpha * x[j];
}

/* Forward pass on the k basis vectors: H = relu(s1 W1 + b1), F = s2 W2 H + b2 (one GEMM).
 * Returns the MSE over the k x k outputs, with the residual F - Y left in f. */
static double forward(const sb_ntk_net *net, const int *perm, double s1, double s2, train_ws *w)
{
    const int k = net->k, m = net->width;
    for (int i = 0; i < k; i++) {
        const double *u = w->u1 + (size_t)i * m;
        double *h = w->h + (size_t)i * m;
        if (net->b1)
            for (int j = 0; j < m; j++) {
                double z = u[j] + net->b1[j];
                h[j] = z > 0 ? z : 0.0;
            }
        else
            for (int j = 0; j < m; j++) {
                double z = s1 * u[j]; /* computed first: the select below becomes a max */
                h[j] = z > 0 ? z : 0.0;
            }
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, k, k, m, s2, net->w2, m, w->h, m, 0.0,
                w->f, k);
    double sse = 0;
    for (int c = 0; c < k; c++)
        for (int i = 0; i < k; i++) {
            double r = w->f[c * k + i] + (net->b2 ? net->b2[c] : 0.0) - (perm[i] == c ? 1.0 : 0.0);
            w->f[c * k + i] = r;
            sse += r * r;
        }
    return sse / ((double)k * k);
}

/* One gradient step of L = 1/2 sum_i |f(e_i) - y_i|^2 with step eta, from the residual R in f
 * (R[c][i]).  dL/dz for input i is s2 (R^T W2)[i] where the unit is active (with the old W2);
 * x = e_i, so dL/dW1[j][i] = s1 dL/dz[i][j]; then W2 -= eta s2 R H and b2 -= eta R 1. */
static void backward(sb_ntk_net *net, double s1, double s2, double eta, train_ws *w)
{
    const int k = net->k, m = net->width;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, m, k, s2, w->f, k, net->w2, m, 0.0,
                w->g, m);
    for (int i = 0; i < k; i++) {
        double *g = w->g + (size_t)i * m, *u = w->u1 + (size_t)i * m;
        const double *h = w->h + (size_t)i * m;
        for (int j = 0; j < m; j++) {
            g[j] = h[j] > 0 ? g[j] : 0.0;
            u[j] -= eta * s1 * g[j];
        }
        if (net->b1)
            axpy(-eta, g, net->b1, m);
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, k, m, k, -eta * s2, w->f, k, w->h, m,
                1.0, net->w2, m);
    if (net->b2)
        for (int c = 0; c < k; c++) {
            double gb = 0;
            for (int i = 0; i < k; i++)
                gb += w->f[c * k + i];
            net->b2[c] -= eta * gb;
        }
}

static void transpose(const double *a, double *t, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            t[(size_t)c * rows + r] = a[(size_t)r * cols + c];
}

int sb_ntk_member_train(const sb_ntk_train_cfg *c, int64_t member, sb_ntk_net *net, sb_ntk_fit *fit)
{
    if (!cfg_valid(c) || !net || !fit || member < 0 || net->k != c->k || net->width != c->width ||
        net->param != c->param || !net->w1 || !net->w2 ||
        (c->param == SB_NTK_PARAM_STANDARD && (!net->b1 || !net->b2)))
        return SB_EINPUT;
    net->sigma_w = c->sigma_w;
    const size_t wk = (size_t)c->width * (size_t)c->k;
    train_ws w;
    w.u1 = malloc((3 * wk + (size_t)c->k * c->k) * sizeof(double));
    if (!w.u1)
        return SB_ENOMEM;
    w.h = w.u1 + wk;
    w.g = w.h + wk;
    w.f = w.g + wk;
    net_init(net, c->seed, member);
    transpose(net->w1, w.u1, c->width, c->k);
    double s1 = 1, s2 = 1;
    if (c->param == SB_NTK_PARAM_NTK) {
        s1 = c->sigma_w / sqrt((double)c->k);
        s2 = c->sigma_w / sqrt((double)c->width);
    }
    const double eta = sb_ntk_gd_step(c);
    int64_t e = 0;
    double loss = forward(net, c->perm, s1, s2, &w);
    while (!(loss <= c->tolerance) && e < c->epochs && isfinite(loss)) {
        backward(net, s1, s2, eta, &w);
        e++;
        loss = forward(net, c->perm, s1, s2, &w);
    }
    transpose(w.u1, net->w1, c->k, c->width);
    fit->epochs = e;
    fit->loss = loss;
    fit->converged = loss <= c->tolerance;
    free(w.u1);
    return 0;
}

/* ---- evaluation ------------------------------------------------------------------------- */

typedef struct eval_ws {
    double *cols;    /* k x width: column b of W1 (row-major W1 is width x k) */
    double *partial; /* (k + 1) x width: sums of the t highest bits' columns, t = 0..k */
    double *hid;     /* EVAL_BLOCK x width: hidden activations of a block of inputs */
    int bits[64];    /* bits of the previous input, highest first */
    int nbits;
} eval_ws;

/* The column sum of `mask` into ws->partial[popcount], reusing the levels it shares with the
 * previous input. */
static const double *column_sum(eval_ws *ws, uint64_t mask, int width)
{
    int bits[64], h = 0;
    for (uint64_t x = mask; x; h++) {
        int b = 63 - __builtin_clzll(x);
        bits[h] = b;
        x &= ~((uint64_t)1 << b);
    }
    int same = 0;
    while (same < h && same < ws->nbits && bits[same] == ws->bits[same])
        same++;
    for (int t = same; t < h; t++) {
        const double *prev = ws->partial + (size_t)t * width,
                     *col = ws->cols + (size_t)bits[t] * width;
        double *next = ws->partial + (size_t)(t + 1) * width;
        for (int j = 0; j < width; j++)
            next[j] = prev[j] + col[j];
        ws->bits[t] = bits[t];
    }
    ws->nbits = h;
    return ws->partial + (size_t)h * width;
}

/* Hidden row of input `mask` of weight h: NTK relu(S) (the 1/sqrt(h) and s1 are applied to the
 * outputs: relu is positively homogeneous), standard relu(S / sqrt(h) + b1). */
static void hidden_row(const sb_ntk_net *net, eval_ws *ws, uint64_t mask, int h, double *row)
{
    const int m = net->width;
    const double *s = column_sum(ws, mask, m);
    if (net->param == SB_NTK_PARAM_NTK) {
        for (int j = 0; j < m; j++)
            row[j] = s[j] > 0 ? s[j] : 0.0;
    } else {
        const double inv = 1.0 / sqrt((double)h);
        for (int j = 0; j < m; j++) {
            double z = s[j] * inv + net->b1[j];
            row[j] = z > 0 ? z : 0.0;
        }
    }
}

/* Readout of inputs [i0, i0 + b): one GEMM out = hid W2^T, then the per-input scale (NTK) or
 * the readout bias (standard). */
static void readout(const sb_ntk_net *net, const sb_ntk_inputs *in, eval_ws *ws, int64_t i0, int b,
                    double *out)
{
    const int k = net->k, m = net->width;
    double *o = out + (size_t)i0 * k;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, k, m, 1.0, ws->hid, m, net->w2, m, 0.0,
                o, k);
    if (net->param == SB_NTK_PARAM_NTK) {
        const double s = net->sigma_w * net->sigma_w / sqrt((double)k * (double)m);
        for (int r = 0; r < b; r++) {
            double f = s / sqrt((double)in->weight[i0 + r]);
            for (int c = 0; c < k; c++)
                o[(size_t)r * k + c] *= f;
        }
    } else {
        for (int r = 0; r < b; r++)
            for (int c = 0; c < k; c++)
                o[(size_t)r * k + c] += net->b2[c];
    }
}

int sb_ntk_net_eval(const sb_ntk_net *net, const sb_ntk_inputs *in, double *out)
{
    if (!net || !in || !out || !net->w1 || !net->w2 || in->k != net->k ||
        (net->param == SB_NTK_PARAM_STANDARD && (!net->b1 || !net->b2)))
        return SB_EINPUT;
    const int k = net->k, m = net->width;
    eval_ws ws = {.nbits = 0};
    ws.cols = malloc((size_t)k * m * sizeof(double));
    ws.partial = calloc((size_t)(k + 1) * m, sizeof(double)); /* level 0 stays zero */
    ws.hid = malloc((size_t)EVAL_BLOCK * m * sizeof(double));
    int rc = (ws.cols && ws.partial && ws.hid) ? 0 : SB_ENOMEM;
    if (!rc) {
        for (int j = 0; j < m; j++)
            for (int b = 0; b < k; b++)
                ws.cols[(size_t)b * m + j] = net->w1[(size_t)j * k + b];
        for (int64_t i0 = 0; i0 < in->n; i0 += EVAL_BLOCK) {
            int b = in->n - i0 < EVAL_BLOCK ? (int)(in->n - i0) : EVAL_BLOCK;
            for (int r = 0; r < b; r++)
                hidden_row(net, &ws, in->mask[i0 + r], in->weight[i0 + r], ws.hid + (size_t)r * m);
            readout(net, in, &ws, i0, b, out);
        }
    }
    free(ws.cols);
    free(ws.partial);
    free(ws.hid);
    return rc;
}
