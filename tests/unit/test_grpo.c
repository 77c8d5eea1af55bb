/* Numerics of the grpo kind (include/symbatch/grpo.h; src/grpo/mlp.c, objective.c, adam.c):
 * every hand-checked value of /work/shared/reference/grpo.md (advantages of each variant, k3
 * and its gradient, the four clipping cases), all-equal groups under every option, central
 * finite-difference checks of the MLP and of a whole GRPO loss assembled from the library's
 * pieces, forward determinism, and Adam / AdamW against hand-computed steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/grpo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.12g, want %.12g (tolerance %g)", what, got, want, tol);
}

static void near_vec(const double *got, const double *want, int n, double tol, const char *what)
{
    for (int i = 0; i < n; i++)
        near(got[i], want[i], tol, what);
}

/* ---- advantages: grpo.md "Hand-checked values" ------------------------------------------- */

static const double one_of_four[4] = {1, 0, 0, 0};
static const double three_of_four[4] = {1, 1, 1, 0};

static sb_adv_cfg grpo_pop(void)
{
    sb_adv_cfg c = {.std_normalise = true, .unbiased_std = false, .eps = 1e-6, .alpha = 1.0};
    return c;
}

static void test_adv_grpo_variants(void **state)
{
    (void)state;
    double a[4];
    sb_adv_cfg c = grpo_pop();
    sb_grpo_advantages(&c, one_of_four, 4, 0.0, a);
    near_vec(a, (double[]){1.7321, -0.5774, -0.5774, -0.5774}, 4, 1e-4, "GRPO population");
    double sum_abs = 0;
    for (int i = 0; i < 4; i++)
        sum_abs += fabs(a[i]);
    near(sum_abs, 3.4641, 1e-4, "sum |A| = 2G sqrt(p(1-p))");
    sb_grpo_advantages(&c, three_of_four, 4, 0.0, a);
    near_vec(a, (double[]){0.5774, 0.5774, 0.5774, -1.7321}, 4, 1e-4, "GRPO population 3/4");

    c.unbiased_std = true;
    sb_grpo_advantages(&c, one_of_four, 4, 0.0, a);
    near_vec(a, (double[]){1.5, -0.5, -0.5, -0.5}, 4, 1e-5, "GRPO N-1 std");

    c.std_normalise = false;
    sb_grpo_advantages(&c, one_of_four, 4, 0.0, a);
    near_vec(a, (double[]){0.75, -0.25, -0.25, -0.25}, 4, 1e-15, "Dr. GRPO");
    /* omega and the A-GRAE parameters are ignored while both A-GRAE switches are off */
    sb_grpo_advantages(&c, one_of_four, 4, 0.3, a);
    near_vec(a, (double[]){0.75, -0.25, -0.25, -0.25}, 4, 1e-15, "Dr. GRPO, omega");
}

static void test_adv_agrae(void **state)
{
    (void)state;
    double a[4];
    sb_adv_cfg c = grpo_pop();
    c.agrae_sample = c.agrae_group = true;
    sb_grpo_advantages(&c, one_of_four, 4, 0.25, a);
    near_vec(a, (double[]){0.2958, -0.3943, -0.3943, -0.3943}, 4, 1e-4, "A-GRAE 0.25 [1000]");
    near(a[0] + a[1] + a[2] + a[3], -0.8873, 2e-4, "A-GRAE 0.25 sum");
    sb_grpo_advantages(&c, one_of_four, 4, 0.5, a);
    near_vec(a, (double[]){0.6830, -0.4553, -0.4553, -0.4553}, 4, 1e-4, "A-GRAE 0.5 [1000]");
    sb_grpo_advantages(&c, three_of_four, 4, 0.25, a);
    near_vec(a, (double[]){0.1291, 0.1291, 0.1291, -1.5490}, 4, 1e-4, "A-GRAE 0.25 [1110]");
    sb_grpo_advantages(&c, three_of_four, 4, 0.9, a);
    near_vec(a, (double[]){0.3220, 0.3220, 0.3220, -1.0732}, 4, 1e-4, "A-GRAE 0.9 [1110]");

    /* the two parts are separate switches: Eq. 12 alone keeps the positive advantage whole
     * (1.7321 x (0.125 / 0.5 + 0.375 / sqrt 0.75) = 1.1830), Eq. 13 alone only scales it */
    c.agrae_group = false;
    sb_grpo_advantages(&c, one_of_four, 4, 0.25, a);
    near_vec(a, (double[]){1.1830, -0.3943, -0.3943, -0.3943}, 4, 1e-4, "Eq. 12 only");
    c.agrae_sample = false;
    c.agrae_group = true;
    sb_grpo_advantages(&c, one_of_four, 4, 0.25, a);
    near_vec(a, (double[]){0.4330, -0.5774, -0.5774, -0.5774}, 4, 1e-4, "Eq. 13 only");
    c.alpha = 0.5; /* min(1, 0.25 / 0.5) */
    sb_grpo_advantages(&c, one_of_four, 4, 0.25, a);
    near(a[0], 0.8660, 1e-4, "Eq. 13, alpha 0.5");
    sb_grpo_advantages(&c, one_of_four, 4, 0.75, a); /* omega >= alpha: no suppression */
    near(a[0], 1.7321, 1e-4, "Eq. 13, omega > alpha");
}

/* grpo.md: with population std, Eq. 12 gives sum |A_i| = omega G sqrt(1-p) + (1-omega) G
 * sqrt(p), for every success rate p strictly inside (0, 1). */
static void test_adv_agrae_mass(void **state)
{
    (void)state;
    sb_adv_cfg c = grpo_pop();
    c.eps = 0.0;
    c.agrae_sample = true;
    double r[8], a[8];
    for (int k = 1; k < 8; k++) {
        for (int i = 0; i < 8; i++)
            r[i] = i < k ? 1.0 : 0.0;
        double p = k / 8.0;
        for (double omega = 0.0; omega <= 1.0; omega += 0.125) {
            sb_grpo_advantages(&c, r, 8, omega, a);
            double s = 0;
            for (int i = 0; i < 8; i++)
                s += fabs(a[i]);
            near(s, omega * 8 * sqrt(1 - p) + (1 - omega) * 8 * sqrt(p), 1e-12, "sum |A|");
        }
    }
}

static void test_adv_all_equal(void **state)
{
    (void)state;
    const double levels[] = {0.0, 1.0, 0.1, 0.7, -3.3, 1e300};
    const int sizes[] = {1, 2, 4, 7};
    const double omegas[] = {0.0, 0.1, 1.0};
    for (int opt = 0; opt < 64; opt++) {
        sb_adv_cfg c = {.std_normalise = opt & 1,
                        .unbiased_std = (opt >> 1) & 1,
                        .eps = (opt >> 2) & 1 ? 1e-6 : 0.0,
                        .agrae_sample = (opt >> 3) & 1,
                        .agrae_group = (opt >> 4) & 1,
                        .alpha = (opt >> 5) & 1 ? 0.5 : 1.0};
        for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++)
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
                for (size_t o = 0; o < sizeof omegas / sizeof omegas[0]; o++) {
                    double r[8], a[8];
                    for (int i = 0; i < sizes[s]; i++) {
                        r[i] = levels[l];
                        a[i] = NAN;
                    }
                    sb_grpo_advantages(&c, r, sizes[s], omegas[o], a);
                    for (int i = 0; i < sizes[s]; i++)
                        if (a[i] != 0.0)
                            fail_msg("all-equal group, options %d, reward %g, g %d: A = %g", opt,
                                     levels[l], sizes[s], a[i]);
                }
    }
    /* and a non-equal group is not caught by the all-equal test */
    sb_adv_cfg c = grpo_pop();
    double a[2];
    sb_grpo_advantages(&c, (double[]){0.1, 0.1 + 1e-9}, 2, 0.0, a);
    assert_true(a[0] < 0 && a[1] > 0 && isfinite(a[0]));
}

/* ---- KL, clipping, softmax, weights ------------------------------------------------------- */

static void test_kl(void **state)
{
    (void)state;
    double d;
    near(sb_grpo_kl(SB_KL_K3, -1.0, -1.2, &d), 0.018731, 1e-6, "k3");
    near(d, 0.181269, 1e-6, "d k3 / d lp");
    near(sb_grpo_kl(SB_KL_K3, -0.7, -0.7, &d), 0.0, 0.0, "k3 at equal policies");
    near(d, 0.0, 0.0, "d k3 at equal policies");
    near(sb_grpo_kl(SB_KL_K1, -1.0, -1.2, &d), 0.2, 1e-15, "k1");
    near(d, 1.0, 0.0, "d k1");
    near(sb_grpo_kl(SB_KL_K2, -1.0, -1.2, &d), 0.02, 1e-15, "k2");
    near(d, 0.2, 1e-15, "d k2");
    /* every derivative against central differences, both sides of lr */
    for (int k = SB_KL_K1; k <= SB_KL_K3; k++)
        for (double lp = -2.5; lp <= 0.0; lp += 0.5) {
            double h = 1e-6, dd, dummy;
            sb_grpo_kl((sb_kl_kind)k, lp, -1.3, &dd);
            double fd = (sb_grpo_kl((sb_kl_kind)k, lp + h, -1.3, &dummy) -
                         sb_grpo_kl((sb_kl_kind)k, lp - h, -1.3, &dummy)) /
                        (2 * h);
            near(dd, fd, 1e-8, "KL derivative");
        }
    /* k3 stays non-negative for tiny differences (no cancellation to a negative value) */
    assert_true(sb_grpo_kl(SB_KL_K3, -1.0, -1.0 + 1e-12, &d) >= 0.0);
}

static void test_clipping(void **state)
{
    (void)state;
    double d;
    int cl;
    /* grpo.md: eps 0.2; A = +1, rho = 1.3 and A = -1, rho = 0.7 are cut (zero gradient) */
    double t = sb_grpo_surrogate(log(1.3), 0.0, 1.0, 0.2, 0.2, &d, &cl);
    near(t, 1.2, 1e-12, "term A+ rho 1.3");
    assert_true(d == 0.0 && cl == 1);
    t = sb_grpo_surrogate(log(0.7), 0.0, -1.0, 0.2, 0.2, &d, &cl);
    near(t, -0.8, 1e-12, "term A- rho 0.7");
    assert_true(d == 0.0 && cl == -1);
    /* A = +1 with rho = 0.7 and A = -1 with rho = 1.3 keep the gradient rho A */
    t = sb_grpo_surrogate(log(0.7), 0.0, 1.0, 0.2, 0.2, &d, &cl);
    near(t, 0.7, 1e-12, "term A+ rho 0.7");
    near(d, 0.7, 1e-12, "grad A+ rho 0.7");
    assert_int_equal(cl, 0);
    t = sb_grpo_surrogate(log(1.3), 0.0, -1.0, 0.2, 0.2, &d, &cl);
    near(t, -1.3, 1e-12, "term A- rho 1.3");
    near(d, -1.3, 1e-12, "grad A- rho 1.3");
    assert_int_equal(cl, 0);
    /* inside the trust region: the unclipped branch, gradient rho A */
    t = sb_grpo_surrogate(-1.0 + log(1.1), -1.0, 2.0, 0.2, 0.2, &d, &cl);
    near(t, 2.2, 1e-12, "term inside");
    near(d, 2.2, 1e-12, "grad inside");
    assert_int_equal(cl, 0);
    /* DAPO clip-higher: eps_high 0.28 lets rho = 1.25 through that eps 0.2 cuts */
    sb_grpo_surrogate(log(1.25), 0.0, 1.0, 0.2, 0.28, &d, &cl);
    assert_true(d > 0.0 && cl == 0);
    sb_grpo_surrogate(log(1.25), 0.0, 1.0, 0.2, 0.2, &d, &cl);
    assert_true(d == 0.0 && cl == 1);
    /* and the low side uses eps_low: rho 0.75 with A < 0 is cut at eps_low 0.2, not at 0.3 */
    sb_grpo_surrogate(log(0.75), 0.0, -1.0, 0.2, 0.28, &d, &cl);
    assert_true(d == 0.0 && cl == -1);
    sb_grpo_surrogate(log(0.75), 0.0, -1.0, 0.3, 0.28, &d, &cl);
    assert_true(d < 0.0 && cl == 0);
    /* A = 0: no term, no gradient, nothing counted as clipped */
    t = sb_grpo_surrogate(log(2.0), 0.0, 0.0, 0.2, 0.2, &d, &cl);
    assert_true(t == 0.0 && d == 0.0 && cl == 0);
}

static void test_softmax(void **state)
{
    (void)state;
    double lp[5], z[5] = {0.3, -1.0, 2.0, 0.0, 1.5};
    /* entropy of uniform logits is ln n, at any temperature */
    for (int n = 1; n <= 5; n++) {
        double u[5] = {4, 4, 4, 4, 4};
        sb_log_softmax(u, n, 0.7, lp);
        near(sb_entropy(lp, n), log((double)n), 1e-14, "entropy of uniform logits");
    }
    double u3[3] = {0, 0, 0};
    sb_log_softmax(u3, 3, 1.0, lp);
    near(sb_entropy(lp, 3), 1.0986122886681098, 1e-14, "ln 3 (grpo.md: first entropy)");
    /* probabilities sum to one; temperature divides the logits */
    sb_log_softmax(z, 5, 2.0, lp);
    double s = 0;
    for (int i = 0; i < 5; i++)
        s += exp(lp[i]);
    near(s, 1.0, 1e-14, "sum p");
    near(lp[2] - lp[1], (2.0 + 1.0) / 2.0, 1e-14, "tau");
    /* stable for large logits */
    double big[3] = {1000.0, 1001.0, 999.0};
    sb_log_softmax(big, 3, 1.0, lp);
    near(lp[1], -log(1 + exp(-1.0) + exp(-2.0)), 1e-12, "large logits");
    assert_true(isfinite(sb_entropy(lp, 3)));
    /* a probability that underflows to 0 adds nothing to the entropy and its gradient */
    double far[2] = {0.0, -1e6};
    sb_log_softmax(far, 2, 1.0, lp);
    near(sb_entropy(lp, 2), 0.0, 1e-300, "entropy of a point mass");
    double dz[5];
    sb_entropy_grad(lp, 2, 1.0, dz);
    assert_true(isfinite(dz[0]) && isfinite(dz[1]));
}

/* sb_logp_grad and sb_entropy_grad against central differences of log_softmax / entropy. */
static void test_softmax_grads(void **state)
{
    (void)state;
    double z[4] = {0.4, -0.9, 1.7, 0.2}, lp[4], dz[4], tau = 0.8, h = 1e-6;
    sb_log_softmax(z, 4, tau, lp);
    for (int a = 0; a < 4; a++) {
        sb_logp_grad(lp, 4, a, 1.7, tau, dz);
        for (int i = 0; i < 4; i++) {
            double zp[4], zm[4], lpp[4], lpm[4];
            memcpy(zp, z, sizeof z);
            memcpy(zm, z, sizeof z);
            zp[i] += h;
            zm[i] -= h;
            sb_log_softmax(zp, 4, tau, lpp);
            sb_log_softmax(zm, 4, tau, lpm);
            near(dz[i], 1.7 * (lpp[a] - lpm[a]) / (2 * h), 1e-8, "d logp(a) / dz");
        }
    }
    sb_entropy_grad(lp, 4, tau, dz);
    for (int i = 0; i < 4; i++) {
        double zp[4], zm[4], lpp[4], lpm[4];
        memcpy(zp, z, sizeof z);
        memcpy(zm, z, sizeof z);
        zp[i] += h;
        zm[i] -= h;
        sb_log_softmax(zp, 4, tau, lpp);
        sb_log_softmax(zm, 4, tau, lpm);
        near(dz[i], (sb_entropy(lpp, 4) - sb_entropy(lpm, 4)) / (2 * h), 1e-8, "dH / dz");
    }
}

static void test_step_weight(void **state)
{
    (void)state;
    near(sb_grpo_step_weight(SB_AGG_TOKEN_MEAN, 7, 200, 16, 20.0), 1.0 / 200, 1e-18, "token");
    near(sb_grpo_step_weight(SB_AGG_SEQ_MEAN_TOKEN_MEAN, 7, 200, 16, 20.0), 1.0 / 112, 1e-18,
         "seq-mean-token-mean");
    near(sb_grpo_step_weight(SB_AGG_SEQ_MEAN_TOKEN_SUM_NORM, 7, 200, 16, 20.0), 1.0 / 320, 1e-18,
         "seq-mean-token-sum-norm");
    /* seq-mean-token-mean: every trajectory weighs 1 / ntraj in all, whatever its length */
    double total = 0;
    for (int len = 1; len <= 4; len++)
        for (int t = 0; t < len; t++)
            total += sb_grpo_step_weight(SB_AGG_SEQ_MEAN_TOKEN_MEAN, len, 10, 4, 0.0);
    near(total, 1.0, 1e-15, "sequence weights sum to 1");
    assert_true(sb_grpo_step_weight(SB_AGG_TOKEN_MEAN, 1, 0, 1, 1.0) == 0.0);
    assert_true(sb_grpo_step_weight(SB_AGG_SEQ_MEAN_TOKEN_SUM_NORM, 1, 1, 1, 0.0) == 0.0);
}

/* ---- MLP ------------------------------------------------------------------------------------ */

#define NPOS 3
#define NVAL 4

static void random_params(const sb_mlp_shape *s, double *p, uint64_t seed)
{
    sb_mlp_init(s, p, seed, 0, 0.5);
    /* init leaves the biases 0; give them values so that their gradients are checked */
    for (int l = 0; l < s->nlayers; l++)
        for (int i = 0; i < s->sizes[l + 1]; i++)
            p[sb_mlp_offset_b(s, l) + i] = sb_rand_unit(seed, 99, (uint64_t)(l * 1000 + i)) - 0.5;
}

/* Row r: position i holds a pseudo-random value, index i * NVAL + value. */
static void random_states(int32_t *idx, int rows, uint64_t seed)
{
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < NPOS; i++)
            idx[r * NPOS + i] = i * NVAL + (int32_t)(sb_rand64(seed, r, i) % NVAL);
}

static void test_mlp_layout(void **state)
{
    (void)state;
    sb_mlp_shape ref = {.nlayers = 3, .sizes = {64, 128, 128, 3}};
    assert_int_equal(sb_mlp_nparams(&ref), 64 * 128 + 128 + 128 * 128 + 128 + 128 * 3 + 3);
    assert_int_equal(sb_mlp_offset_w(&ref, 0), 0);
    assert_int_equal(sb_mlp_offset_b(&ref, 0), 64 * 128);
    assert_int_equal(sb_mlp_offset_w(&ref, 1), 64 * 128 + 128);
    assert_int_equal(sb_mlp_offset_b(&ref, 2), 64 * 128 + 128 + 128 * 128 + 128 + 128 * 3);
    sb_mlp_shape bad = {.nlayers = 0};
    assert_int_equal(sb_mlp_nparams(&bad), 0);
    bad.nlayers = SB_MLP_MAX_LAYERS + 1;
    assert_int_equal(sb_mlp_nparams(&bad), 0);
    sb_mlp_shape zero = {.nlayers = 2, .sizes = {4, 0, 2}};
    assert_int_equal(sb_mlp_nparams(&zero), 0);
    sb_mlp_batch *b;
    assert_int_equal(sb_mlp_batch_create(&b, &zero, 4), SB_EINPUT);
    assert_int_equal(sb_mlp_batch_create(&b, &ref, 0), SB_EINPUT);
}

static void test_mlp_init(void **state)
{
    (void)state;
    sb_mlp_shape s = {.nlayers = 3, .sizes = {64, 128, 128, 3}};
    size_t n = sb_mlp_nparams(&s);
    double *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    assert_non_null(p);
    assert_non_null(q);
    sb_mlp_init(&s, p, 5, 1, 0.01);
    sb_mlp_init(&s, q, 5, 1, 0.01);
    assert_memory_equal(p, q, n * sizeof *p);
    sb_mlp_init(&s, q, 5, 2, 0.01); /* another stream, another network */
    assert_true(memcmp(p, q, n * sizeof *p) != 0);
    for (int l = 0; l < 3; l++) {
        size_t w = sb_mlp_offset_w(&s, l), b = sb_mlp_offset_b(&s, l);
        double m1 = 0, m2 = 0;
        for (size_t i = w; i < b; i++) {
            m1 += p[i];
            m2 += p[i] * p[i];
        }
        double cnt = (double)(b - w), var = m2 / cnt - (m1 / cnt) * (m1 / cnt);
        double want = l < 2 ? 2.0 / s.sizes[l] : 1e-4; /* He, then last_std^2 */
        /* the sample variance of cnt normals has relative sd sqrt(2 / cnt) (<= 0.073 here) */
        near(var / want, 1.0, 4 * sqrt(2.0 / cnt), "initial weight variance");
        near(m1 / cnt, 0.0, 4 * sqrt(want / cnt), "initial weight mean");
        for (int i = 0; i < s.sizes[l + 1]; i++)
            assert_true(p[b + i] == 0.0);
    }
    free(p);
    free(q);
}

/* loss = sum_r w_r . logits_r; its gradient against central differences for every parameter,
 * for nets of 1, 2 and 3 weight layers. */
static void test_mlp_gradient(void **state)
{
    (void)state;
    const sb_mlp_shape shapes[] = {{.nlayers = 3, .sizes = {NPOS * NVAL, 7, 6, 4}},
                                   {.nlayers = 2, .sizes = {NPOS * NVAL, 9, 3}},
                                   {.nlayers = 1, .sizes = {NPOS * NVAL, 5}}};
    enum { ROWS = 5 };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const sb_mlp_shape *s = &shapes[k];
        int nout = s->sizes[s->nlayers];
        size_t n = sb_mlp_nparams(s);
        double *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g);
        double w[ROWS * 8];
        int32_t idx[ROWS * NPOS];
        sb_mlp_batch *b;
        assert_non_null(p);
        assert_non_null(g);
        assert_int_equal(sb_mlp_batch_create(&b, s, ROWS), 0);
        random_params(s, p, 11 + k);
        random_states(idx, ROWS, 3);
        for (int i = 0; i < ROWS * nout; i++)
            w[i] = sb_rand_unit(4, 0, i) - 0.5;
        for (size_t i = 0; i < n; i++)
            g[i] = 1.0; /* backward adds: the result must be 1 + dL/dp */
        assert_non_null(sb_mlp_forward(b, p, idx, NPOS, ROWS));
        sb_mlp_backward(b, p, w, g);
        double err2 = 0, ref2 = 0;
        for (size_t i = 0; i < n; i++) {
            double keep = p[i], h = 1e-5, lo = 0, hi = 0;
            p[i] = keep + h;
            const double *z = sb_mlp_forward(b, p, idx, NPOS, ROWS);
            for (int j = 0; j < ROWS * nout; j++)
                hi += w[j] * z[j];
            p[i] = keep - h;
            z = sb_mlp_forward(b, p, idx, NPOS, ROWS);
            for (int j = 0; j < ROWS * nout; j++)
                lo += w[j] * z[j];
            p[i] = keep;
            double fd = (hi - lo) / (2 * h), an = g[i] - 1.0;
            err2 += (fd - an) * (fd - an);
            ref2 += an * an;
            near(an, fd, 1e-6 * fmax(fabs(fd), 1e-3), "MLP gradient element");
        }
        if (!(sqrt(err2 / ref2) < 1e-6))
            fail_msg("MLP gradient, %d layers: relative error %g", s->nlayers, sqrt(err2 / ref2));
        sb_mlp_batch_free(b);
        free(p);
        free(g);
    }
}

/* What grpo.h promises: outputs depend only on the arguments.  Rows are not promised to be
 * independent of the batch they are in: OpenBLAS's kernels sum in an order that depends on the
 * matrix shape, so a row alone and the same row in a batch of 3 may differ in the last bits;
 * they are only checked to agree to rounding. */
static void test_mlp_determinism(void **state)
{
    (void)state;
    sb_mlp_shape s = {.nlayers = 3, .sizes = {NPOS * NVAL, 32, 32, 3}};
    size_t n = sb_mlp_nparams(&s);
    double *p = malloc(n * sizeof *p), *g1 = calloc(n, sizeof *g1), *g2 = calloc(n, sizeof *g2);
    assert_non_null(p);
    assert_non_null(g1);
    assert_non_null(g2);
    random_params(&s, p, 21);
    int32_t idx[16 * NPOS], other[16 * NPOS];
    random_states(idx, 16, 5);
    random_states(other, 16, 6);
    sb_mlp_batch *b, *c;
    assert_int_equal(sb_mlp_batch_create(&b, &s, 16), 0);
    assert_int_equal(sb_mlp_batch_create(&c, &s, 3), 0);
    assert_null(sb_mlp_forward(b, p, idx, NPOS, 17));
    assert_null(sb_mlp_forward(b, p, idx, NPOS, 0));
    assert_null(sb_mlp_forward(b, p, idx, NPOS * NVAL + 1, 1));
    int32_t bad_idx[NPOS] = {0, NPOS * NVAL, 1};
    assert_null(sb_mlp_forward(b, p, bad_idx, NPOS, 1));
    bad_idx[1] = -1;
    assert_non_null(sb_mlp_forward(b, p, idx, NPOS, 1));
    assert_null(sb_mlp_forward(b, p, bad_idx, NPOS, 1));
    double dl1[3] = {1, 1, 1};
    sb_mlp_backward(b, p, dl1, g1); /* after a failed forward: nothing added */
    for (size_t i = 0; i < n; i++)
        assert_true(g1[i] == 0.0);

    double first[3 * 3], dl[3 * 3];
    memcpy(first, sb_mlp_forward(b, p, idx, NPOS, 3), sizeof first);
    for (int i = 0; i < 9; i++)
        dl[i] = sb_rand_unit(8, 0, i) - 0.5;
    sb_mlp_backward(b, p, dl, g1);
    /* other work in between: another batch size, other states, another gradient */
    sb_mlp_forward(b, p, other, NPOS, 16);
    double junk[16 * 3];
    for (int i = 0; i < 48; i++)
        junk[i] = 1.0;
    sb_mlp_backward(b, p, junk, g2);
    memset(g2, 0, n * sizeof *g2);
    /* the same three rows again, and in a batch object of another capacity */
    assert_memory_equal(sb_mlp_forward(b, p, idx, NPOS, 3), first, sizeof first);
    sb_mlp_backward(b, p, dl, g2);
    assert_memory_equal(g1, g2, n * sizeof *g1);
    assert_memory_equal(sb_mlp_forward(c, p, idx, NPOS, 3), first, sizeof first);
    memset(g2, 0, n * sizeof *g2);
    sb_mlp_backward(c, p, dl, g2);
    assert_memory_equal(g1, g2, n * sizeof *g1);
    /* a row alone agrees with its place in the batch to rounding */
    for (int r = 0; r < 3; r++) {
        const double *z = sb_mlp_forward(c, p, idx + r * NPOS, NPOS, 1);
        for (int k = 0; k < 3; k++)
            near(z[k], first[r * 3 + k], 1e-12 * (1 + fabs(z[k])), "row alone vs in a batch");
    }
    sb_mlp_batch_free(b);
    sb_mlp_batch_free(c);
    free(p);
    free(g1);
    free(g2);
}

/* ---- a whole GRPO loss -------------------------------------------------------------------
 * One group of 4 trajectories (lengths 3, 2, 4, 1), rewards [1, 0, 1, 0] (N-1 std), logits at
 * temperature 0.8, clipped surrogate with ratios set away from 1 so that both clip sides and the
 * unclipped branch occur, k3 KL (beta 0.1) to fixed reference log-probs, an entropy bonus
 * (0.01), token-mean weights:
 *   L = -sum_t w_t (surrogate_t - beta kl_t + c H_t). */

enum { LTRAJ = 4, LSTEPS = 10 };
static const int traj_len[LTRAJ] = {3, 2, 4, 1};
static const double target_rho[LSTEPS] = {1.5, 0.6, 1.1, 0.9, 1.4, 0.7, 1.05, 0.5, 1.3, 0.6};

typedef struct loss_case {
    const sb_mlp_shape *s;
    sb_mlp_batch *b;
    int32_t idx[LSTEPS * NPOS];
    int act[LSTEPS];
    double adv[LSTEPS], lp_old[LSTEPS], lr[LSTEPS];
    double tau, beta, ent, eps;
} loss_case;

/* L at params; with dlogits non-NULL also dL/dlogits, and the clip counts. */
static double grpo_loss(loss_case *lc, const double *params, double *dlogits, int counts[3])
{
    int nout = lc->s->sizes[lc->s->nlayers];
    const double *z = sb_mlp_forward(lc->b, params, lc->idx, NPOS, LSTEPS);
    double loss = 0;
    for (int t = 0; t < LSTEPS; t++) {
        double lp[8], dz[8], dzh[8], dterm, dkl;
        int clipped;
        sb_log_softmax(z + t * nout, nout, lc->tau, lp);
        double w = sb_grpo_step_weight(SB_AGG_TOKEN_MEAN, 0, LSTEPS, LTRAJ, 0.0);
        double term = sb_grpo_surrogate(lp[lc->act[t]], lc->lp_old[t], lc->adv[t], lc->eps, lc->eps,
                                        &dterm, &clipped);
        double kl = sb_grpo_kl(SB_KL_K3, lp[lc->act[t]], lc->lr[t], &dkl);
        double h = sb_entropy(lp, nout);
        loss -= w * (term - lc->beta * kl + lc->ent * h);
        if (!dlogits)
            continue;
        counts[clipped + 1]++;
        sb_logp_grad(lp, nout, lc->act[t], -w * (dterm - lc->beta * dkl), lc->tau, dz);
        sb_entropy_grad(lp, nout, lc->tau, dzh);
        for (int k = 0; k < nout; k++)
            dlogits[t * nout + k] = dz[k] - w * lc->ent * dzh[k];
    }
    return loss;
}

static void loss_case_setup(loss_case *lc, const double *params)
{
    int nout = lc->s->sizes[lc->s->nlayers];
    random_states(lc->idx, LSTEPS, 9);
    sb_adv_cfg c = {.std_normalise = true, .unbiased_std = true, .eps = 1e-6};
    double traj_adv[LTRAJ];
    sb_grpo_advantages(&c, (double[]){1, 0, 1, 0}, LTRAJ, 0.0, traj_adv);
    const double *z = sb_mlp_forward(lc->b, params, lc->idx, NPOS, LSTEPS);
    for (int i = 0, t = 0; i < LTRAJ; i++)
        for (int k = 0; k < traj_len[i]; k++, t++) {
            double lp[8];
            lc->act[t] = (int)(sb_rand64(10, t, 0) % (uint64_t)nout);
            lc->adv[t] = traj_adv[i];
            sb_log_softmax(z + t * nout, nout, lc->tau, lp);
            /* the old policy's log-prob that puts the ratio at target_rho */
            lc->lp_old[t] = lp[lc->act[t]] - log(target_rho[t]);
            lc->lr[t] = lp[lc->act[t]] + 0.6 * (sb_rand_unit(10, t, 1) - 0.5);
        }
}

static void test_grpo_loss_gradient(void **state)
{
    (void)state;
    sb_mlp_shape s = {.nlayers = 3, .sizes = {NPOS * NVAL, 8, 8, 3}};
    size_t n = sb_mlp_nparams(&s);
    double *p = malloc(n * sizeof *p), *g = calloc(n, sizeof *g), dl[LSTEPS * 3];
    assert_non_null(p);
    assert_non_null(g);
    loss_case lc = {.s = &s, .tau = 0.8, .beta = 0.1, .ent = 0.01, .eps = 0.2};
    assert_int_equal(sb_mlp_batch_create(&lc.b, &s, LSTEPS), 0);
    random_params(&s, p, 31);
    loss_case_setup(&lc, p);
    int counts[3] = {0, 0, 0};
    grpo_loss(&lc, p, dl, counts);
    /* target_rho and the advantage signs put 2 steps above the high clip (A > 0), 1 below the
     * low clip (A < 0), and the rest unclipped */
    assert_int_equal(counts[2], 2);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 7);
    sb_mlp_forward(lc.b, p, lc.idx, NPOS, LSTEPS);
    sb_mlp_backward(lc.b, p, dl, g);
    double err2 = 0, ref2 = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = p[i], h = 1e-5;
        p[i] = keep + h;
        double hi = grpo_loss(&lc, p, NULL, NULL);
        p[i] = keep - h;
        double lo = grpo_loss(&lc, p, NULL, NULL);
        p[i] = keep;
        double fd = (hi - lo) / (2 * h);
        err2 += (fd - g[i]) * (fd - g[i]);
        ref2 += g[i] * g[i];
    }
    if (!(sqrt(err2 / ref2) < 1e-6))
        fail_msg("GRPO loss gradient: relative error %g", sqrt(err2 / ref2));
    sb_mlp_batch_free(lc.b);
    free(p);
    free(g);
}

/* ---- Adam --------------------------------------------------------------------------------- */

static sb_adam_cfg adam_cfg(void)
{
    sb_adam_cfg c = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    return c;
}

/* Two steps by hand (lr 0.1): step 1 moves each parameter by lr g / (|g| + eps); step 2 has
 * m = 0.9 m + 0.1 g, v = 0.999 v + 0.001 g^2, corrected by 1 - 0.9^2 = 0.19 and 1 - 0.999^2 =
 * 0.001999:
 *   p0: m 0.055, v 0.00025975 -> 0.9 - 0.1 (0.055/0.19) / sqrt(0.00025975/0.001999) = 0.8196959
 *   p1: m -0.07, v 0.001039 -> -1.9 + 0.1 (0.07/0.19) / sqrt(0.001039/0.001999) = -1.8488974 */
static void test_adam_two_steps(void **state)
{
    (void)state;
    sb_adam a;
    assert_int_equal(sb_adam_init(&a, 2), 0);
    sb_adam_cfg c = adam_cfg();
    double p[2] = {1.0, -2.0}, g[2] = {0.5, -1.0}, lr;
    near(sb_adam_step(&a, &c, p, g, &lr), sqrt(1.25), 1e-15, "norm");
    near(lr, 0.1, 0, "lr");
    near(p[0], 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-15, "step 1 p0");
    near(p[1], -2.0 + 0.1 * 1.0 / (1.0 + 1e-8), 1e-15, "step 1 p1");
    g[0] = 0.1;
    g[1] = 0.2;
    sb_adam_step(&a, &c, p, g, NULL);
    near(p[0], 0.8196959063846518, 1e-12, "step 2 p0");
    near(p[1], -1.8488973939904947, 1e-12, "step 2 p1");
    near(a.m[0], 0.055, 1e-15, "m");
    near(a.v[1], 0.001039, 1e-15, "v");
    assert_int_equal(a.t, 2);
    sb_adam_free(&a);
}

static void test_adam_decay(void **state)
{
    (void)state;
    sb_adam a;
    sb_adam_cfg c = adam_cfg();
    c.weight_decay = 0.5;
    /* AdamW: p <- p (1 - lr wd), then the Adam step on the raw gradient */
    c.decoupled = true;
    assert_int_equal(sb_adam_init(&a, 1), 0);
    double p = 2.0, g = 0.3;
    sb_adam_step(&a, &c, &p, &g, NULL);
    near(p, 2.0 * (1 - 0.05) - 0.1 * 0.3 / (0.3 + 1e-8), 1e-14, "AdamW");
    sb_adam_free(&a);
    /* L2: the gradient becomes g + wd p = 1.3; on step 1 the move is lr sign(g + wd p) */
    c.decoupled = false;
    assert_int_equal(sb_adam_init(&a, 1), 0);
    p = 2.0;
    g = -0.3;
    sb_adam_step(&a, &c, &p, &g, NULL);
    near(p, 2.0 - 0.1 * 0.7 / (0.7 + 1e-8), 1e-15, "Adam L2");
    near(g, -0.3, 0, "grad not changed by the L2 term");
    sb_adam_free(&a);
}

static void test_adam_warmup(void **state)
{
    (void)state;
    sb_adam a;
    sb_adam_cfg c = adam_cfg();
    c.lr = 1e-3;
    c.warmup = 4;
    assert_int_equal(sb_adam_init(&a, 1), 0);
    const double want[6] = {0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3, 1e-3};
    for (int t = 0; t < 6; t++) {
        double p = 0, g = 1, lr;
        sb_adam_step(&a, &c, &p, &g, &lr);
        near(lr, want[t], 1e-18, "warm-up lr");
        /* while the ratio m_hat / sqrt(v_hat) of a constant gradient is 1, the move is lr */
        near(p, -want[t], 1e-10, "warm-up move");
    }
    sb_adam_free(&a);
    c.warmup = 0;
    assert_int_equal(sb_adam_init(&a, 1), 0);
    double p = 0, g = 1, lr;
    sb_adam_step(&a, &c, &p, &g, &lr);
    near(lr, 1e-3, 0, "no warm-up");
    sb_adam_free(&a);
}

static void test_adam_clip(void **state)
{
    (void)state;
    sb_adam a;
    sb_adam_cfg c = adam_cfg();
    c.clip_norm = 1.0;
    assert_int_equal(sb_adam_init(&a, 3), 0);
    double p[3] = {0, 0, 0}, g[3] = {3, 0, -4};
    near(sb_adam_step(&a, &c, p, g, NULL), 5.0, 1e-15, "norm before clipping");
    near_vec(g, (double[]){0.6, 0, -0.8}, 3, 1e-15, "clipped to norm 1");
    near(a.m[0], 0.1 * 0.6, 1e-15, "moments see the clipped gradient");
    /* under the clip norm nothing changes */
    double g2[3] = {0.3, 0.4, 0};
    c.clip_norm = 10;
    near(sb_adam_step(&a, &c, p, g2, NULL), 0.5, 1e-15, "norm");
    near_vec(g2, (double[]){0.3, 0.4, 0}, 3, 0, "not clipped");
    /* a non-finite gradient leaves everything as it was */
    double keep[3] = {p[0], p[1], p[2]}, m0 = a.m[0];
    double bad[3] = {1, NAN, 0};
    assert_true(isnan(sb_adam_step(&a, &c, p, bad, NULL)));
    near_vec(p, keep, 3, 0, "params kept");
    near(a.m[0], m0, 0, "moments kept");
    assert_int_equal(a.t, 2);
    sb_adam_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adv_grpo_variants),
        cmocka_unit_test(test_adv_agrae),
        cmocka_unit_test(test_adv_agrae_mass),
        cmocka_unit_test(test_adv_all_equal),
        cmocka_unit_test(test_kl),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_softmax_grads),
        cmocka_unit_test(test_step_weight),
        cmocka_unit_test(test_mlp_layout),
        cmocka_unit_test(test_mlp_init),
        cmocka_unit_test(test_mlp_gradient),
        cmocka_unit_test(test_mlp_determinism),
        cmocka_unit_test(test_grpo_loss_gradient),
        cmocka_unit_test(test_adam_two_steps),
        cmocka_unit_test(test_adam_decay),
        cmocka_unit_test(test_adam_warmup),
        cmocka_unit_test(test_adam_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
