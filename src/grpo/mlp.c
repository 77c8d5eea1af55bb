/* The policy network of the grpo kind (include/symbatch/grpo.h): an MLP over one-hot states.
 *
 * The input is one-hot, so the first layer is a gather (a sum of the W_0 columns that the active
 * indices select) and its gradient a scatter-add; the dense layers after it are OpenBLAS GEMMs.
 * Every loop and every GEMM shape depends only on the arguments (`rows`, `nactive`), and the
 * work space holds nothing that a later call reads before writing it, so equal inputs give
 * bitwise equal outputs whatever was computed before. */
#include "symbatch/grpo.h"

#include "symbatch/core.h"
#include "symbatch/error.h"

#include <cblas.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sb_mlp_batch {
    sb_mlp_shape shape;
    int max_rows;
    int rows;     /* of the last forward pass (0: none yet) */
    int nactive;  /* of the last forward pass */
    int32_t *idx; /* copy of the last forward's indices: the caller may reuse its array */
    /* act[l], l = 1..nlayers: the output of layer l - 1 (after the ReLU for hidden layers),
     * max_rows x sizes[l]; act[nlayers] holds the logits. */
    double *act[SB_MLP_MAX_LAYERS + 1];
    double *delta[2]; /* backward: dL/d(pre-activation), max_rows x widest hidden layer */
};

static int shape_ok(const sb_mlp_shape *s)
{
    if (!s || s->nlayers < 1 || s->nlayers > SB_MLP_MAX_LAYERS)
        return 0;
    for (int l = 0; l <= s->nlayers; l++)
        if (s->sizes[l] < 1)
            return 0;
    return 1;
}

static size_t layer_params(const sb_mlp_shape *s, int l)
{
    return (size_t)s->sizes[l + 1] * (size_t)s->sizes[l] + (size_t)s->sizes[l + 1];
}

size_t sb_mlp_nparams(const sb_mlp_shape *s)
{
    if (!shape_ok(s))
        return 0;
    size_t n = 0;
    for (int l = 0; l < s->nlayers; l++)
        n += layer_params(s, l);
    return n;
}

size_t sb_mlp_offset_w(const sb_mlp_shape *s, int layer)
{
    size_t off = 0;
    for (int l = 0; l < layer; l++)
        off += layer_params(s, l);
    return off;
}

size_t sb_mlp_offset_b(const sb_mlp_shape *s, int layer)
{
    return sb_mlp_offset_w(s, layer) + (size_t)s->sizes[layer + 1] * (size_t)s->sizes[layer];
}

/* Standard normal number `index` of (seed, stream) by Box-Muller, cosine branch only: each
 * parameter has its own pair of uniforms (2 index, 2 index + 1), so a parameter's initial value
 * depends on its position alone. */
static double normal_at(uint64_t seed, uint64_t stream, uint64_t index)
{
    const double two_pi = 6.28318530717958647692;
    double u1 = 1.0 - sb_rand_unit(seed, stream, 2 * index); /* (0, 1]: log is finite */
    double u2 = sb_rand_unit(seed, stream, 2 * index + 1);
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

void sb_mlp_init(const sb_mlp_shape *s, double *params, uint64_t seed, uint64_t stream,
                 double last_std)
{
    if (!shape_ok(s))
        return;
    for (int l = 0; l < s->nlayers; l++) {
        size_t w0 = sb_mlp_offset_w(s, l), b0 = sb_mlp_offset_b(s, l);
        double sd = l == s->nlayers - 1 ? last_std : sqrt(2.0 / s->sizes[l]);
        for (size_t i = w0; i < b0; i++)
            params[i] = sd * normal_at(seed, stream, i);
        memset(params + b0, 0, (size_t)s->sizes[l + 1] * sizeof(double));
    }
}

static double *alloc_doubles(size_t n)
{
    /* 64-byte aligned (a cache line; what the GEMM kernels load best); aligned_alloc wants a
     * size that is a multiple of the alignment */
    size_t bytes = (n * sizeof(double) + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes ? bytes : 64);
}

int sb_mlp_batch_create(sb_mlp_batch **out, const sb_mlp_shape *s, int max_rows)
{
    *out = NULL;
    if (!shape_ok(s) || max_rows < 1)
        return SB_EINPUT;
    sb_mlp_batch *b = calloc(1, sizeof *b);
    if (!b)
        return SB_ENOMEM;
    b->shape = *s;
    b->max_rows = max_rows;
    int widest = 1;
    for (int l = 1; l < s->nlayers; l++)
        widest = s->sizes[l] > widest ? s->sizes[l] : widest;
    int ok = (b->idx = malloc((size_t)max_rows * (size_t)s->sizes[0] * sizeof(int32_t))) != NULL;
    for (int l = 1; l <= s->nlayers; l++)
        ok &= (b->act[l] = alloc_doubles((size_t)max_rows * (size_t)s->sizes[l])) != NULL;
    for (int k = 0; k < 2; k++)
        ok &= (b->delta[k] = alloc_doubles((size_t)max_rows * (size_t)widest)) != NULL;
    if (!ok) {
        sb_mlp_batch_free(b);
        return SB_ENOMEM;
    }
    *out = b;
    return 0;
}

void sb_mlp_batch_free(sb_mlp_batch *b)
{
    if (!b)
        return;
    free(b->idx);
    for (int l = 0; l <= SB_MLP_MAX_LAYERS; l++)
        free(b->act[l]);
    free(b->delta[0]);
    free(b->delta[1]);
    free(b);
}

/* Layer 0: out[r][o] = b[o] + sum_j W_0[o][idx[r][j]], the one-hot product without the zeros.
 * The sum runs over j in the order given, so it is fixed by the arguments.  Output neurons are
 * the outer loop: a column gather touches one cache line per row of W_0 (all of W_0 per state),
 * so each row of W_0 is read once for the whole batch while it sits in L1. */
static void first_layer(const sb_mlp_batch *b, const double *params, int rows, int relu)
{
    const sb_mlp_shape *s = &b->shape;
    const int in = s->sizes[0], outw = s->sizes[1], na = b->nactive;
    const double *w = params + sb_mlp_offset_w(s, 0), *bias = params + sb_mlp_offset_b(s, 0);
    double *out = b->act[1];
    for (int i = 0; i < outw; i++) {
        const double *wi = w + (size_t)i * in;
        int r = 0;
        /* four rows at a time: four independent chains of adds hide the add latency (each
         * chain still sums in j order, so the result is the same as one row at a time) */
        for (; r + 4 <= rows; r += 4) {
            const int32_t *x0 = b->idx + (size_t)r * na, *x1 = x0 + na, *x2 = x1 + na,
                          *x3 = x2 + na;
            double z0 = bias[i], z1 = bias[i], z2 = bias[i], z3 = bias[i];
            for (int j = 0; j < na; j++) {
                z0 += wi[x0[j]];
                z1 += wi[x1[j]];
                z2 += wi[x2[j]];
                z3 += wi[x3[j]];
            }
            out[(size_t)r * outw + i] = relu && z0 < 0.0 ? 0.0 : z0;
            out[(size_t)(r + 1) * outw + i] = relu && z1 < 0.0 ? 0.0 : z1;
            out[(size_t)(r + 2) * outw + i] = relu && z2 < 0.0 ? 0.0 : z2;
            out[(size_t)(r + 3) * outw + i] = relu && z3 < 0.0 ? 0.0 : z3;
        }
        for (; r < rows; r++) {
            const int32_t *ix = b->idx + (size_t)r * na;
            double z = bias[i];
            for (int j = 0; j < na; j++)
                z += wi[ix[j]];
            out[(size_t)r * outw + i] = relu && z < 0.0 ? 0.0 : z;
        }
    }
}

/* Layer l >= 1: Z = A W^T + b (the bias is written first and the GEMM adds to it). */
static void dense_layer(const sb_mlp_batch *b, const double *params, int l, int rows, int relu)
{
    const sb_mlp_shape *s = &b->shape;
    const int in = s->sizes[l], outw = s->sizes[l + 1];
    const double *w = params + sb_mlp_offset_w(s, l), *bias = params + sb_mlp_offset_b(s, l);
    double *z = b->act[l + 1];
    for (int r = 0; r < rows; r++)
        memcpy(z + (size_t)r * outw, bias, (size_t)outw * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, outw, in, 1.0, b->act[l], in, w, in,
                1.0, z, outw);
    if (relu)
        for (size_t i = 0; i < (size_t)rows * outw; i++)
            z[i] = z[i] < 0.0 ? 0.0 : z[i];
}

const double *sb_mlp_forward(sb_mlp_batch *b, const double *params, const int32_t *idx, int nactive,
                             int rows)
{
    const sb_mlp_shape *s = &b->shape;
    b->rows = 0; /* until this pass succeeds: a backward pass must not use an older one */
    if (rows < 1 || rows > b->max_rows || nactive < 0 || nactive > s->sizes[0])
        return NULL;
    /* an index out of range would read (and in backward, write) outside the parameters */
    for (size_t k = 0; k < (size_t)rows * (size_t)nactive; k++)
        if (idx[k] < 0 || idx[k] >= s->sizes[0])
            return NULL;
    b->rows = rows;
    b->nactive = nactive;
    memcpy(b->idx, idx, (size_t)rows * (size_t)nactive * sizeof(int32_t));
    first_layer(b, params, rows, s->nlayers > 1);
    for (int l = 1; l < s->nlayers; l++)
        dense_layer(b, params, l, rows, l < s->nlayers - 1);
    return b->act[s->nlayers];
}

/* grad_b[o] += sum_r dz[r][o], rows in order. */
static void add_bias_grad(const double *dz, int rows, int outw, double *gb)
{
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < outw; i++)
            gb[i] += dz[(size_t)r * outw + i];
}

/* Layer 0's weight gradient: the one-hot input makes dL/dW_0 = dZ^T X a scatter-add of each
 * row's dz into the columns its indices select.  Output neurons outermost, as in the forward
 * pass; each gradient element still receives its terms in (row, j) order. */
static void first_layer_grad(const sb_mlp_batch *b, const double *dz, double *grad)
{
    const sb_mlp_shape *s = &b->shape;
    const int in = s->sizes[0], outw = s->sizes[1], na = b->nactive;
    double *gw = grad + sb_mlp_offset_w(s, 0);
    for (int i = 0; i < outw; i++) {
        double *gi = gw + (size_t)i * in;
        for (int r = 0; r < b->rows; r++) {
            const int32_t *ix = b->idx + (size_t)r * na;
            double d = dz[(size_t)r * outw + i];
            for (int j = 0; j < na; j++)
                gi[ix[j]] += d;
        }
    }
    add_bias_grad(dz, b->rows, outw, grad + sb_mlp_offset_b(s, 0));
}

/* Dense layer l >= 1: dW_l += dZ^T A_l, db_l += colsum dZ, and (into dprev) the gradient at
 * layer l's input masked by the ReLU that produced A_l. */
static void dense_layer_grad(const sb_mlp_batch *b, const double *params, int l, const double *dz,
                             double *dprev, double *grad)
{
    const sb_mlp_shape *s = &b->shape;
    const int in = s->sizes[l], outw = s->sizes[l + 1], rows = b->rows;
    const double *a = b->act[l];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, outw, in, rows, 1.0, dz, outw, a, in, 1.0,
                grad + sb_mlp_offset_w(s, l), in);
    add_bias_grad(dz, rows, outw, grad + sb_mlp_offset_b(s, l));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, in, outw, 1.0, dz, outw,
                params + sb_mlp_offset_w(s, l), in, 0.0, dprev, in);
    /* A_l = relu(Z): its derivative is 1 exactly where A_l > 0 */
    for (size_t i = 0; i < (size_t)rows * in; i++)
        dprev[i] = a[i] > 0.0 ? dprev[i] : 0.0;
}

void sb_mlp_backward(sb_mlp_batch *b, const double *params, const double *dlogits, double *grad)
{
    if (b->rows < 1)
        return;
    const double *dz = dlogits;
    for (int l = b->shape.nlayers - 1; l >= 1; l--) {
        double *dprev = b->delta[l & 1];
        dense_layer_grad(b, params, l, dz, dprev, grad);
        dz = dprev;
    }
    first_layer_grad(b, dz, grad);
}
