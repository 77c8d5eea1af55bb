/* Closed forms of ntk.md (src/ntk/closed.c): every check value of
 * /work/shared/reference/ntk.md that the closed forms determine, a dense check that builds the
 * kernel matrices of the k basis vectors and solves them by Gaussian elimination written here,
 * and a Monte Carlo check of P(all inputs exact) that uses the joint covariance. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/error.h"
#include "symbatch/ntk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KMAX 12

static sb_ntk_gp gp_of(int k, sb_ntk_kind kind)
{
    sb_ntk_gp gp = {.k = k, .sigma_w = 1.0, .kind = kind};
    return gp;
}

static sb_ntk_stats stats_of(int k, int h, sb_ntk_kind kind)
{
    sb_ntk_gp gp = gp_of(k, kind);
    sb_ntk_stats s;
    assert_int_equal(sb_ntk_stats_at(&gp, h, &s), 0);
    return s;
}

static void near(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.12g, want %.12g (tolerance %g)", what, got, want, tol);
}

/* ---- check values of ntk.md ------------------------------------------------------------- */

/* ntk.md, "Check values", the table of k*K and k*Theta at u = 0, 1/sqrt 3, 1/sqrt 2, 1. */
static void test_kernel_table(void **state)
{
    (void)state;
    const double u[4] = {0.0, 1.0 / sqrt(3.0), 1.0 / sqrt(2.0), 1.0};
    const double kk[4] = {0.159155, 0.330842, 0.377705, 0.5};
    const double kt[4] = {0.159155, 0.531735, 0.642870, 1.0};
    for (int i = 0; i < 4; i++) {
        near(7 * sb_ntk_nngp(u[i], 7, 1.0), kk[i], 1e-6, "k*K");
        near(7 * sb_ntk_theta(u[i], 7, 1.0), kt[i], 1e-6, "k*Theta");
        /* ntk.md "Closed forms": K = kappa1/k, Theta = (kappa1 + u kappa0)/k. */
        near(sb_ntk_nngp(u[i], 1, 1.0), sb_ntk_kappa1(u[i]), 1e-15, "K = kappa1 at k = 1");
        near(sb_ntk_theta(u[i], 1, 1.0), sb_ntk_kappa1(u[i]) + u[i] * sb_ntk_kappa0(u[i]), 1e-15,
             "Theta");
        /* sigma_w enters as sigma_w^4 ("sigma^2 scales as sigma_w^4/k"). */
        near(sb_ntk_nngp(u[i], 7, 2.0), 16 * sb_ntk_nngp(u[i], 7, 1.0), 1e-14, "K(sigma_w=2)");
        near(sb_ntk_theta(u[i], 7, 2.0), 16 * sb_ntk_theta(u[i], 7, 1.0), 1e-14, "Theta(2)");
    }
    near(sb_ntk_kappa0(0.0), 0.25, 1e-15, "kappa0(0)");
    near(sb_ntk_kappa0(1.0), 0.5, 1e-15, "kappa0(1)");
    near(sb_ntk_kappa1(1.0 + 1e-15), 0.5, 1e-15, "kappa1 clamps rounding above 1");
}

/* ntk.md, "Check values": "k = 10, NTK-GP: h = 2: mu_in 0.5654, mu_out -0.00985, sigma^2
 * 6.52e-3; h = 3: 0.4216, -0.02155, 9.15e-3; h = 5: 0.2837, -0.04071, 1.25e-2; h = 10: mu_in
 * 0.1404, sigma^2 1.89e-2".  Tolerances are half a unit of the last digit given. */
static void test_k10_table(void **state)
{
    (void)state;
    const int h[4] = {2, 3, 5, 10};
    const double mi[4] = {0.5654, 0.4216, 0.2837, 0.1404};
    const double mo[4] = {-0.00985, -0.02155, -0.04071, 0};
    const double var[4] = {6.52e-3, 9.15e-3, 1.25e-2, 1.89e-2};
    const double tmi[4] = {5e-5, 5e-5, 5e-5, 5e-5}, tmo[4] = {5e-6, 5e-6, 5e-6, 0};
    const double tvar[4] = {5e-6, 5e-6, 5e-5, 5e-5};
    for (int i = 0; i < 4; i++) {
        sb_ntk_stats s = stats_of(10, h[i], SB_NTK_NTKGP);
        near(s.mu_in, mi[i], tmi[i], "mu_in");
        if (h[i] < 10)
            near(s.mu_out, mo[i], tmo[i], "mu_out");
        near(s.var, var[i], tvar[i], "variance");
    }
    /* ntk.md "Closed forms": mu_out = 0 and sigma^2 = 0 at h = 1, mu_out < 0 for h >= 2. */
    for (int k = 2; k <= 20; k++) {
        for (int kind = 0; kind < 2; kind++) {
            sb_ntk_stats s = stats_of(k, 1, (sb_ntk_kind)kind);
            assert_true(s.mu_out == 0.0 && s.var == 0.0);
            near(s.mu_in, 1.0, 1e-14, "mu_in(1)");
            for (int hh = 2; hh < k; hh++) {
                s = stats_of(k, hh, (sb_ntk_kind)kind);
                assert_true(s.mu_in > 0 && s.mu_out < 0 && s.var > 0);
            }
        }
    }
    /* ntk.md "Ensemble of M": z_out = mu_out^2/sigma^2 of weight 2 is about 0.0149 at k = 10 and
     * about 0.352/k for large k (0.3528/k at k = 1000). */
    sb_ntk_stats s = stats_of(10, 2, SB_NTK_NTKGP);
    near(s.mu_out * s.mu_out / s.var, 0.0149, 5e-5, "z_out at k = 10");
    s = stats_of(1000, 2, SB_NTK_NTKGP);
    near(1000 * s.mu_out * s.mu_out / s.var, 0.352, 1e-3, "k z_out at k = 1000");
    /* Means do not depend on sigma_w, variances scale as sigma_w^4. */
    sb_ntk_gp gp = {.k = 10, .sigma_w = 1.5, .kind = SB_NTK_NTKGP};
    sb_ntk_stats s2;
    assert_int_equal(sb_ntk_stats_at(&gp, 3, &s2), 0);
    s = stats_of(10, 3, SB_NTK_NTKGP);
    near(s2.mu_in, s.mu_in, 1e-14, "mu_in(sigma_w)");
    near(s2.var, pow(1.5, 4) * s.var, 1e-14, "var(sigma_w)");
}

/* ntk.md, "Check values", finite width: theory "-0.0133, 1.098e-2" (NTK-GP, k = 6, h = 2) and
 * "NNGP theory -0.0347". */
static void test_finite_width_theory(void **state)
{
    (void)state;
    sb_ntk_stats s = stats_of(6, 2, SB_NTK_NTKGP);
    near(s.mu_out, -0.0133, 5e-5, "NTK mu_out k=6");
    near(s.var, 1.098e-2, 5e-6, "NTK variance k=6");
    s = stats_of(6, 2, SB_NTK_NNGP);
    near(s.mu_out, -0.0347, 5e-5, "NNGP mu_out k=6");
}

/* ntk.md, "Check values": "Single input, k = 3, h = 2, NTK-GP: P(exact) = 0.6497 (M = 10), 0.8881
 * (M = 100), 0.99994 (M = 1000)". */
static void test_p_exact_single(void **state)
{
    (void)state;
    sb_ntk_gp gp = gp_of(3, SB_NTK_NTKGP);
    double p;
    assert_int_equal(sb_ntk_p_exact(&gp, 2, 10, &p), 0);
    near(p, 0.6497, 5e-5, "M = 10");
    assert_int_equal(sb_ntk_p_exact(&gp, 2, 100, &p), 0);
    near(p, 0.8881, 5e-5, "M = 100");
    assert_int_equal(sb_ntk_p_exact(&gp, 2, 1000, &p), 0);
    near(p, 0.99994, 5e-6, "M = 1000");
    assert_int_equal(sb_ntk_p_exact(&gp, 1, 1, &p), 0);
    assert_true(p == 1.0);
}

/* ntk.md, "Closed forms": rounding the GP mean at SB_NTK_ROUND_EPS recovers P x on every
 * nonzero input ("sign-based features"), for both GPs and every k <= 12.  An input's mean
 * depends only on its weight h and each coordinate's target (mu_in or mu_out; test_dense_stats
 * shows the closed forms equal the dense solve on scattered supports), so rounding both at
 * every weight covers all 2^k - 1 inputs and their k coordinates. */
static void test_rounded_mean_exact(void **state)
{
    (void)state;
    for (int kind = SB_NTK_NTKGP; kind <= SB_NTK_NNGP; kind++)
        for (int k = 1; k <= SB_NTK_DENSE_K_MAX; k++) {
            sb_ntk_gp gp = gp_of(k, (sb_ntk_kind)kind);
            long wrong = 0;
            for (int h = 1; h <= k; h++) {
                sb_ntk_stats st;
                assert_int_equal(sb_ntk_stats_at(&gp, h, &st), 0);
                /* C(k, h) inputs of weight h: h coordinates with target 1, k - h with 0 */
                if (!(st.mu_in > SB_NTK_ROUND_EPS))
                    wrong++;
                if (h < k && !(st.mu_out <= SB_NTK_ROUND_EPS))
                    wrong++;
            }
            if (wrong)
                fail_msg("k = %d, %s: %ld weights round wrong", k, kind ? "NNGP" : "NTK-GP", wrong);
        }
}

/* ntk.md, "Check values": "Ensemble size for 90% accuracy on weight-2 inputs ... NNGP theory 58,
 * 121, 190; NTK-GP theory 333, 579, 840" (k = 10, 20, 30). */
static void test_ensemble_90(void **state)
{
    (void)state;
    const int k[3] = {10, 20, 30};
    const double nngp[3] = {58, 121, 190}, ntk[3] = {333, 579, 840};
    for (int i = 0; i < 3; i++) {
        sb_ntk_gp g1 = gp_of(k[i], SB_NTK_NNGP), g2 = gp_of(k[i], SB_NTK_NTKGP);
        double m, p;
        assert_int_equal(sb_ntk_ensemble_for_prob(&g1, 2, 0.9, &m), 0);
        near(m, nngp[i], 0, "NNGP ensemble for 90%");
        assert_int_equal(sb_ntk_ensemble_for_prob(&g2, 2, 0.9, &m), 0);
        near(m, ntk[i], 0, "NTK-GP ensemble for 90%");
        /* the smallest: one model fewer falls short */
        assert_int_equal(sb_ntk_p_exact(&g2, 2, m - 1, &p), 0);
        assert_true(p < 0.9);
        assert_int_equal(sb_ntk_p_exact(&g2, 2, m, &p), 0);
        assert_true(p >= 0.9);
    }
}

/* ntk.md, "Ensemble of M": "k = 100, delta = 0.1: 9,167 vs 47,098 models" (per-weight union
 * bound vs the crude 2^k one), and the one-input formula (2 sigma^2/mu^2) ln(k / 2 delta). */
static void test_ensemble_bounds(void **state)
{
    (void)state;
    sb_ntk_gp gp = gp_of(100, SB_NTK_NTKGP);
    double crude, weights, one;
    assert_int_equal(sb_ntk_ensemble_all_crude(&gp, 0.1, &crude), 0);
    assert_int_equal(sb_ntk_ensemble_all_weights(&gp, 0.1, &weights), 0);
    near(crude, 47098, 0.5, "crude bound");
    near(weights, 9167, 0.5, "per-weight bound");
    /* one input of weight 2: its z_out is the smallest z at k = 100 */
    sb_ntk_stats s = stats_of(100, 2, SB_NTK_NTKGP);
    assert_int_equal(sb_ntk_ensemble_one(&gp, 2, 0.1, &one), 0);
    near(one, 2 * s.var / (s.mu_out * s.mu_out) * log(100 / 0.2), 1e-9 * one, "one input");
    assert_true(one < weights && weights < crude);
    /* the one-input size does make that input fail with probability below delta */
    double p;
    assert_int_equal(sb_ntk_p_exact(&gp, 2, one, &p), 0);
    assert_true(1 - p < 0.1);
    assert_int_equal(sb_ntk_ensemble_one(&gp, 1, 0.1, &one), 0);
    assert_true(one == 0.0);
    gp.k = 1;
    assert_int_equal(sb_ntk_ensemble_all_weights(&gp, 0.1, &weights), 0);
    assert_true(weights == 0.0);
}

static void test_bad_input(void **state)
{
    (void)state;
    sb_ntk_gp gp = gp_of(5, SB_NTK_NTKGP);
    sb_ntk_stats s;
    double v;
    assert_int_equal(sb_ntk_stats_at(&gp, 0, &s), SB_EINPUT);
    assert_int_equal(sb_ntk_stats_at(&gp, 6, &s), SB_EINPUT);
    assert_int_equal(sb_ntk_joint_cov(&gp, 4, 4, 2, &v), SB_EINPUT); /* overlap >= 3 at k = 5 */
    assert_int_equal(sb_ntk_joint_cov(&gp, 2, 3, 3, &v), SB_EINPUT);
    assert_int_equal(sb_ntk_p_exact(&gp, 2, 0, &v), SB_EINPUT);
    assert_int_equal(sb_ntk_ensemble_one(&gp, 2, 1.0, &v), SB_EINPUT);
    assert_int_equal(sb_ntk_ensemble_for_prob(&gp, 2, 1.0, &v), SB_EINPUT);
    gp.sigma_w = 0;
    assert_int_equal(sb_ntk_stats_at(&gp, 2, &s), SB_EINPUT);
    gp = gp_of(0, SB_NTK_NTKGP);
    assert_int_equal(sb_ntk_ensemble_all_crude(&gp, 0.1, &v), SB_EINPUT);
}

/* ---- dense check: kernel matrices of the basis vectors, solved here ---------------------- */

/* Solves A w = b (n x n, row-major, copied) by Gaussian elimination with partial pivoting. */
static void solve(int n, const double *a_in, const double *b, double *w)
{
    double a[KMAX * KMAX], r[KMAX];
    memcpy(a, a_in, sizeof(double) * n * n);
    memcpy(r, b, sizeof(double) * n);
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(a[i * n + c]) > fabs(a[p * n + c]))
                p = i;
        for (int j = 0; j < n; j++) {
            double t = a[c * n + j];
            a[c * n + j] = a[p * n + j];
            a[p * n + j] = t;
        }
        double t = r[c];
        r[c] = r[p];
        r[p] = t;
        for (int i = c + 1; i < n; i++) {
            double f = a[i * n + c] / a[c * n + c];
            for (int j = c; j < n; j++)
                a[i * n + j] -= f * a[c * n + j];
            r[i] -= f * r[c];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = r[i];
        for (int j = i + 1; j < n; j++)
            s -= a[i * n + j] * w[j];
        w[i] = s / a[i * n + i];
    }
}

static double dot(int n, const double *x, const double *y)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* A unit-norm binary input with the ones at positions where in[] is 1. */
static void input(int k, const int *in, double *x)
{
    int h = 0;
    for (int j = 0; j < k; j++)
        h += in[j];
    for (int j = 0; j < k; j++)
        x[j] = in[j] / sqrt((double)h);
}

typedef double (*kernel_fn)(double u, int k, double sigma_w);

/* The dense posterior of ntk.md "Closed forms" between x and y: the mean vectors
 * mx = Theta(x,X) Theta^-1 (for the NNGP: K(x,X) K^-1) and the covariance, the NTK-GP one
 * K(x,y) + mx K(X,X) my^T - mx K(X,y) - my K(X,x), the NNGP one K(x,y) - K(x,X) K^-1 K(X,y). */
static double dense_cov(int k, sb_ntk_kind kind, const double *x, const double *y, double *mx,
                        double *my)
{
    double kxx[KMAX * KMAX] = {0}, txx[KMAX * KMAX] = {0}, kx[KMAX] = {0}, ky[KMAX] = {0};
    double tx[KMAX] = {0}, ty[KMAX] = {0};
    double sw = 1.3; /* sigma_w other than 1: the closed forms must carry it the same way */
    kernel_fn mean_k = kind == SB_NTK_NNGP ? sb_ntk_nngp : sb_ntk_theta;
    for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
            double u = i == j ? 1.0 : 0.0; /* e_i . e_j */
            kxx[i * k + j] = sb_ntk_nngp(u, k, sw);
            txx[i * k + j] = mean_k(u, k, sw);
        }
        kx[i] = sb_ntk_nngp(x[i], k, sw); /* x . e_i = x_i */
        ky[i] = sb_ntk_nngp(y[i], k, sw);
        tx[i] = mean_k(x[i], k, sw);
        ty[i] = mean_k(y[i], k, sw);
    }
    solve(k, txx, tx, mx); /* Theta symmetric: Theta^-1 Theta(X,x) = (Theta(x,X) Theta^-1)^T */
    solve(k, txx, ty, my);
    double kxy = sb_ntk_nngp(dot(k, x, y), k, sw);
    if (kind == SB_NTK_NNGP)
        return kxy - dot(k, kx, my);
    double kmy[KMAX];
    for (int i = 0; i < k; i++)
        kmy[i] = dot(k, &kxx[i * k], my);
    return kxy + dot(k, mx, kmy) - dot(k, mx, ky) - dot(k, my, kx);
}

/* Every k = 3..12, every weight h, both limits: mu_in, mu_out and the variance of the closed
 * forms equal the dense solve to 1e-12.  The support is scattered, not the first h positions. */
static void test_dense_stats(void **state)
{
    (void)state;
    for (int k = 3; k <= KMAX; k++) {
        for (int h = 1; h <= k; h++) {
            int in[KMAX] = {0}, step = k % 5 == 0 ? 7 : 5; /* step coprime to k */
            for (int j = 0; j < h; j++)
                in[(2 + j * step) % k] = 1;
            double x[KMAX], mx[KMAX], my[KMAX];
            input(k, in, x);
            for (int kind = 0; kind < 2; kind++) {
                sb_ntk_gp gp = {.k = k, .sigma_w = 1.3, .kind = (sb_ntk_kind)kind};
                sb_ntk_stats s;
                assert_int_equal(sb_ntk_stats_at(&gp, h, &s), 0);
                double var = dense_cov(k, (sb_ntk_kind)kind, x, x, mx, my);
                near(s.var, var, 1e-12, "variance vs dense");
                for (int j = 0; j < k; j++)
                    near(in[j] ? s.mu_in : s.mu_out, mx[j], 1e-12, "mean vs dense");
            }
        }
    }
}

/* Two inputs with weights h, h2 and overlap t (positions 0..t-1 shared, then h - t only in the
 * first, then h2 - t only in the second): the closed joint covariance equals the dense one. */
static void test_dense_joint(void **state)
{
    (void)state;
    const int cases[][4] = {{5, 2, 2, 0},  {5, 2, 2, 1},  {5, 2, 3, 0},   {6, 3, 4, 2},
                            {7, 2, 5, 1},  {8, 4, 4, 4},  {9, 1, 3, 1},   {9, 1, 3, 0},
                            {10, 5, 6, 1}, {12, 7, 9, 5}, {12, 12, 3, 3}, {4, 3, 3, 2}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int k = cases[c][0], h = cases[c][1], h2 = cases[c][2], t = cases[c][3];
        int a[KMAX] = {0}, b[KMAX] = {0};
        for (int j = 0; j < t; j++)
            a[j] = b[j] = 1;
        for (int j = t; j < h; j++)
            a[j] = 1;
        for (int j = h; j < h + h2 - t; j++)
            b[j] = 1;
        double x[KMAX], y[KMAX], mx[KMAX], my[KMAX];
        input(k, a, x);
        input(k, b, y);
        for (int kind = 0; kind < 2; kind++) {
            sb_ntk_gp gp = {.k = k, .sigma_w = 1.3, .kind = (sb_ntk_kind)kind};
            double cov, cov2;
            assert_int_equal(sb_ntk_joint_cov(&gp, h, h2, t, &cov), 0);
            assert_int_equal(sb_ntk_joint_cov(&gp, h2, h, t, &cov2), 0);
            double want = dense_cov(k, (sb_ntk_kind)kind, x, y, mx, my);
            near(cov, want, 1e-12, "joint covariance vs dense");
            near(cov2, want, 1e-12, "joint covariance is symmetric");
        }
    }
}

/* ---- dense covariance over all inputs, rank, Monte Carlo ---------------------------------- */

/* Cholesky written here (row-major, lower): returns the smallest pivot^2 relative to the
 * largest diagonal entry, or -1 when a pivot is not positive. */
static double cholesky_min_pivot(int n, double *a)
{
    double dmax = 0, pmin = INFINITY;
    for (int i = 0; i < n; i++)
        dmax = fmax(dmax, a[i * n + i]);
    for (int j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int l = 0; l < j; l++)
            d -= a[j * n + l] * a[j * n + l];
        if (!(d > 0))
            return -1;
        pmin = fmin(pmin, d / dmax);
        double r = sqrt(d);
        a[j * n + j] = r;
        for (int i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (int l = 0; l < j; l++)
                v -= a[i * n + l] * a[j * n + l];
            a[i * n + j] = v / r;
        }
    }
    return pmin;
}

/* ntk.md: "The covariance over all nonzero inputs has rank exactly 2^k - 1 - k": the k training
 * rows vanish and the rest is positive definite.  k = 3..8, relative tolerance 1e-10. */
static void test_dense_rank(void **state)
{
    (void)state;
    for (int k = 3; k <= 8; k++) {
        sb_ntk_gp gp = gp_of(k, SB_NTK_NTKGP);
        int rank = -1, n = (1 << k) - 1;
        assert_int_equal(sb_ntk_dense_n(k, 1), n);
        assert_int_equal(sb_ntk_dense_n(k, 0), n - k);
        assert_int_equal(sb_ntk_dense_rank(&gp, 1e-10, &rank), 0);
        if (rank != n - k)
            fail_msg("k = %d: rank %d, want %d", k, rank, n - k);
        double *all = malloc(sizeof(double) * n * n), *sub = malloc(sizeof(double) * n * n);
        assert_non_null(all);
        assert_non_null(sub);
        assert_int_equal(sb_ntk_dense_cov(&gp, 1, all), 0);
        assert_int_equal(sb_ntk_dense_cov(&gp, 0, sub), 0);
        for (int x = 1; x <= n; x++) {
            sb_ntk_stats s;
            int h = __builtin_popcount((unsigned)x);
            assert_int_equal(sb_ntk_stats_at(&gp, h, &s), 0);
            if (h > 1)
                near(all[(x - 1) * n + (x - 1)], s.var, 1e-15, "diagonal = variance");
            for (int y = 1; y <= n && h == 1; y++) /* training rows vanish */
                near(all[(x - 1) * n + (y - 1)], 0, 1e-15, "training row");
        }
        /* the non-training matrix is the all-inputs one without the training rows, and it is
         * positive definite (pivots well above rounding) */
        int m = n - k, i = 0;
        for (int x = 1; x <= n; x++) {
            if (__builtin_popcount((unsigned)x) == 1)
                continue;
            int j = 0;
            for (int y = 1; y <= n; y++)
                if (__builtin_popcount((unsigned)y) != 1)
                    assert_true(sub[i * m + j++] == all[(x - 1) * n + (y - 1)]);
            i++;
        }
        double pmin = cholesky_min_pivot(m, sub);
        if (!(pmin > 1e-8))
            fail_msg("k = %d: non-training covariance not positive definite (%g)", k, pmin);
        free(all);
        free(sub);
    }
    int rank;
    sb_ntk_gp big = gp_of(SB_NTK_DENSE_K_MAX + 1, SB_NTK_NTKGP);
    assert_int_equal(sb_ntk_dense_rank(&big, 1e-10, &rank), SB_EINPUT);
    assert_int_equal(sb_ntk_dense_n(SB_NTK_DENSE_K_MAX + 1, 1), 0);
}

/* ntk.md, "Check values": "P(all inputs exact), NTK-GP (exact orthant probabilities): k = 3:
 * 0.5219 (M = 50), 0.8773 (M = 200), 0.99913 (M = 800); k = 4: 0.1007, 0.6406, 0.99776".
 * The Monte Carlo estimate must lie within 3 standard errors, the standard error taken at the
 * reference value (the estimate's own would be 0 if no draw failed). */
static void test_mc_all_exact(void **state)
{
    (void)state;
    const double mm[3] = {50, 200, 800};
    const double want[2][3] = {{0.5219, 0.8773, 0.99913}, {0.1007, 0.6406, 0.99776}};
    const long samples = 40000;
    for (int k = 3; k <= 4; k++) {
        sb_ntk_gp gp = gp_of(k, SB_NTK_NTKGP);
        for (int i = 0; i < 3; i++) {
            double p, se, w = want[k - 3][i];
            assert_int_equal(sb_ntk_mc_all_exact(&gp, mm[i], samples, 12345 + i, &p, &se), 0);
            double se0 = sqrt(w * (1 - w) / samples);
            if (!(fabs(p - w) <= 3 * se0))
                fail_msg("k = %d, M = %g: P(all exact) %.5f +- %.5f, want %.5f", k, mm[i], p, se0,
                         w);
            near(se, sqrt(p * (1 - p) / samples), 1e-15, "standard error");
        }
    }
    /* reproducible: same seed, same answer; another seed, another sample */
    sb_ntk_gp gp = gp_of(4, SB_NTK_NTKGP);
    double p1, p2, p3, se;
    assert_int_equal(sb_ntk_mc_all_exact(&gp, 200, 2000, 7, &p1, &se), 0);
    assert_int_equal(sb_ntk_mc_all_exact(&gp, 200, 2000, 7, &p2, &se), 0);
    assert_int_equal(sb_ntk_mc_all_exact(&gp, 200, 2000, 8, &p3, &se), 0);
    assert_true(p1 == p2);
    assert_true(p1 != p3);
    /* the joint probability is below the product bound's single worst input, and far below 1 at
     * small M: k = 4, M = 1 almost never gets every input right */
    assert_int_equal(sb_ntk_mc_all_exact(&gp, 1, 2000, 7, &p1, &se), 0);
    assert_true(p1 < 0.01);
    assert_int_equal(sb_ntk_mc_all_exact(&gp, 0, 10, 7, &p1, &se), SB_EINPUT);
    assert_int_equal(sb_ntk_mc_all_exact(&gp, 10, 0, 7, &p1, &se), SB_EINPUT);
    gp.k = SB_NTK_DENSE_K_MAX + 1;
    assert_int_equal(sb_ntk_mc_all_exact(&gp, 10, 10, 7, &p1, &se), SB_EINPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_table),        cmocka_unit_test(test_k10_table),
        cmocka_unit_test(test_finite_width_theory), cmocka_unit_test(test_p_exact_single),
        cmocka_unit_test(test_rounded_mean_exact),  cmocka_unit_test(test_ensemble_90),
        cmocka_unit_test(test_ensemble_bounds),     cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_dense_stats),         cmocka_unit_test(test_dense_joint),
        cmocka_unit_test(test_dense_rank),          cmocka_unit_test(test_mc_all_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
