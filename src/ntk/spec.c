/* The `ntk:` section: its schema table, the list keys (ensemble_sizes, covariance.grid), the
 * checks that involve several keys, the target permutation and the description.
 *
 *   k, sigma_w, parametrisation (ntk | standard), width, members, epochs, tolerance,
 *   learning_rate, eval_min_weight, eval_max_weight, ensemble_sizes: [1, 2, 5, ...] or null,
 *   delta, members_per_step,
 *   covariance: {enabled, max_weight, block_size, grid: [rows, cols] or null, samples,
 *                spectrum, ensemble_sizes}
 *
 * Training defaults are the ensemble module's recommendation (ntk_ensemble.h): learning_rate is
 * dimensionless, in units of the fastest stable step of the linearised model 2 / (lambda_min +
 * lambda_max), so 1 suits every k, width and parametrisation; tolerance 1e-24 on the training
 * MSE makes the training inputs round exactly; 1000 epochs is a cap (k = 10, width 4096
 * converges in about 40 epochs in the NTK parametrisation, 80 in the standard one). */
#include "ntk/spec.h"

#include "job/schema.h"
#include "symbatch/core.h"
#include "symbatch/ntk_cov.h"
#include "symbatch/ntk_ensemble.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define P_SIZES     "ntk.ensemble_sizes"
#define P_GRID      "ntk.covariance.grid"
#define P_COV_SIZES "ntk.covariance.ensemble_sizes"

/* Stream of the counter-based generator that draws the target permutation from the seed. */
#define PERM_STREAM 0x6e746b7065726dULL /* "ntkperm" */

/* Defaults per parametrisation (the same today; see the comment at the top). */
#define NTK_EPOCHS        1000
#define NTK_LEARNING_RATE 1.0
#define STD_EPOCHS        1000
#define STD_LEARNING_RATE 1.0

static const char *const param_names[] = {"ntk", "standard", NULL};

/* ---- list keys ------------------------------------------------------------------------------ */

/* A list of 1..SB_NTK_SIZES_MAX increasing integers >= 1 into *out. */
static int parse_sizes_at(sb_job *job, const sb_ynode *node, const char *path, int64_t **out,
                          int *count)
{
    if (sb_ynode_kind(node) != SB_Y_SEQ)
        return sb_job_error_at(job, node, path,
                               "must be a list of increasing ensemble sizes like [1, 10, 100] "
                               "(got %s)",
                               sb_ynode_describe(node));
    size_t n = sb_ynode_count(node);
    if (n < 1 || n > SB_NTK_SIZES_MAX)
        return sb_job_error_at(job, node, path, "must list 1..%d ensemble sizes (got %zu)",
                               SB_NTK_SIZES_MAX, n);
    int64_t *v = calloc(n, sizeof *v);
    if (!v)
        return SB_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        sb_ynode item = sb_yseq_item(node, i);
        char ipath[SB_PATH_MAX];
        sb_job_path(ipath, path, NULL, (long)i);
        sb_job_note(job, ipath, &item);
        if (sb_job_int_value(job, ipath, &item, 1, (int64_t)1 << 40, &v[i]) != 0)
            rc = SB_EINPUT;
        else if (i > 0 && rc == 0 && v[i] <= v[i - 1])
            rc = sb_job_error_at(job, &item, ipath,
                                 "ensemble sizes must increase (%" PRId64 " after %" PRId64 ")",
                                 v[i], v[i - 1]);
    }
    if (rc) {
        free(v);
        return rc;
    }
    free(*out);
    *out = v;
    *count = (int)n;
    return 0;
}

static int parse_sizes(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_ntk_spec *s = target;
    return parse_sizes_at(job, node, P_SIZES, &s->sizes, &s->nsizes);
}

static int parse_cov_sizes(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_ntk_spec *s = target;
    return parse_sizes_at(job, node, P_COV_SIZES, &s->cov_sizes, &s->ncov_sizes);
}

static int parse_grid(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_ntk_spec *s = target;
    if (sb_ynode_kind(node) != SB_Y_SEQ || sb_ynode_count(node) != 2)
        return sb_job_error_at(job, node, P_GRID,
                               "must be [rows, cols] (a process grid of rows x cols ranks) or "
                               "null (got %s)",
                               sb_ynode_describe(node));
    int rc = 0;
    for (size_t i = 0; i < 2; i++) {
        sb_ynode item = sb_yseq_item(node, i);
        char ipath[SB_PATH_MAX];
        sb_job_path(ipath, P_GRID, NULL, (long)i);
        sb_job_note(job, ipath, &item);
        if (sb_job_int_value(job, ipath, &item, 1, 65536, &s->cov_grid[i]) != 0)
            rc = SB_EINPUT;
    }
    s->cov_grid_set = rc == 0;
    return rc;
}

static void print_list(FILE *out, const int64_t *v, int n, const char *unset)
{
    if (!v) {
        fprintf(out, "null  # %s", unset);
        return;
    }
    fputc('[', out);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%" PRId64, i ? ", " : "", v[i]);
    fputc(']', out);
}

static void print_sizes(FILE *out, const void *target)
{
    const sb_ntk_spec *s = target;
    print_list(out, s->sizes, s->nsizes, "default: 1, 2, 3, 5, 7, 10, 15, 20, 30, ... members");
}

static void print_cov_sizes(FILE *out, const void *target)
{
    const sb_ntk_spec *s = target;
    print_list(out, s->cov_sizes, s->ncov_sizes,
               "default: the ensemble's sizes (1, 2, 3, 5, ... 10000 without members)");
}

static void print_grid(FILE *out, const void *target)
{
    const sb_ntk_spec *s = target;
    print_list(out, s->cov_grid_set ? s->cov_grid : NULL, 2,
               "default: the squarest rows x cols = ranks");
}

/* ---- the schema ----------------------------------------------------------------------------- */

static const sb_field covariance_fields[] = {
    {.key = "enabled",
     .type = SB_F_BOOL,
     .offset = offsetof(sb_ntk_spec, cov_enabled),
     .set_offset = SIZE_MAX,
     .help = "compute the dense joint covariance with ScaLAPACK"},
    {.key = "max_weight",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, cov_max_weight),
     .set_offset = SIZE_MAX,
     .nullable = true,
     .min = 2,
     .max = SB_NTK_JOB_K_MAX,
     .help = "default: eval_max_weight"},
    {.key = "block_size",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, cov_block_size),
     .set_offset = SIZE_MAX,
     .min = 1,
     .max = 4096,
     .help = "ScaLAPACK block size"},
    {.key = "grid",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .nullable = true,
     .custom = parse_grid,
     .print = print_grid,
     .help = "process grid [rows, cols]"},
    {.key = "samples",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, cov_samples),
     .set_offset = SIZE_MAX,
     .min = 0,
     .max = 1e12,
     .help = "joint draws of the ensemble mean for P(all exact); 0: none"},
    {.key = "spectrum",
     .type = SB_F_BOOL,
     .offset = offsetof(sb_ntk_spec, cov_spectrum),
     .set_offset = SIZE_MAX,
     .help = "eigenvalues (pdsyevd), numerical rank and condition number"},
    {.key = "ensemble_sizes",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .nullable = true,
     .custom = parse_cov_sizes,
     .print = print_cov_sizes,
     .help = "ensemble sizes M for P(all exact)"},
    {.key = NULL},
};

const sb_field sb_ntk_schema[] = {
    {.key = "k",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, k),
     .set_offset = SIZE_MAX,
     .required = true,
     .min = SB_NTK_JOB_K_MIN,
     .max = SB_NTK_JOB_K_MAX,
     .help = "input and output bits"},
    {.key = "sigma_w",
     .type = SB_F_FLOAT,
     .offset = offsetof(sb_ntk_spec, sigma_w),
     .set_offset = SIZE_MAX,
     .min = 1e-3,
     .max = 1e3,
     .help = "weight standard deviation of both layers"},
    {.key = "parametrisation",
     .type = SB_F_ENUM,
     .offset = offsetof(sb_ntk_spec, param),
     .set_offset = SIZE_MAX,
     .enum_names = param_names,
     .help = "ntk (GD, follows the NTK-GP) or standard (authors' v1 code, follows the NNGP)"},
    {.key = "width",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, width),
     .set_offset = SIZE_MAX,
     .min = 1,
     .max = 1 << 24,
     .help = "hidden units"},
    {.key = "members",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, members),
     .set_offset = SIZE_MAX,
     .min = 0,
     .max = 1e9,
     .help = "networks trained; 0: closed forms (and covariance) only"},
    {.key = "epochs",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, epochs),
     .set_offset = SIZE_MAX,
     .nullable = true,
     .min = 1,
     .max = 1e9,
     .help = "default: 1000 (a cap; training stops at the tolerance)"},
    {.key = "tolerance",
     .type = SB_F_FLOAT,
     .offset = offsetof(sb_ntk_spec, tolerance),
     .set_offset = SIZE_MAX,
     .min = 0,
     .max = 1,
     .help = "stop a member at this training MSE (sum of squares / k^2); 0: all epochs"},
    {.key = "learning_rate",
     .type = SB_F_FLOAT,
     .offset = offsetof(sb_ntk_spec, learning_rate),
     .set_offset = offsetof(sb_ntk_spec, learning_rate_set),
     .nullable = true,
     .min = 1e-9,
     .max = 10,
     .help = "default: 1 (units of the optimal step 2 / (lambda_min + lambda_max))"},
    {.key = "eval_min_weight",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, eval_min_weight),
     .set_offset = SIZE_MAX,
     .min = 1,
     .max = SB_NTK_JOB_K_MAX,
     .help = "test inputs have at least this many ones"},
    {.key = "eval_max_weight",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, eval_max_weight),
     .set_offset = SIZE_MAX,
     .nullable = true,
     .min = 1,
     .max = SB_NTK_JOB_K_MAX,
     .help = "default: k for k <= 20, else 3"},
    {.key = "ensemble_sizes",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .nullable = true,
     .custom = parse_sizes,
     .print = print_sizes,
     .help = "ensemble sizes M for accuracy and P(all exact)"},
    {.key = "delta",
     .type = SB_F_FLOAT,
     .offset = offsetof(sb_ntk_spec, delta),
     .set_offset = SIZE_MAX,
     .min = 1e-12,
     .max = 0.999999,
     .help = "failure probability of the theoretical ensemble sizes"},
    {.key = "members_per_step",
     .type = SB_F_INT,
     .offset = offsetof(sb_ntk_spec, members_per_step),
     .set_offset = offsetof(sb_ntk_spec, members_per_step_set),
     .min = 1,
     .max = 1e6,
     .help = "members per step: progress and checkpoints come between steps"},
    {.key = "covariance",
     .type = SB_F_MAP,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .sub = covariance_fields,
     .help = "the dense joint covariance on a ScaLAPACK process grid"},
    {.key = NULL},
};

void sb_ntk_spec_init(void *target)
{
    sb_ntk_spec *s = target;
    memset(s, 0, sizeof *s);
    s->k = 0;
    s->sigma_w = 1.0;
    s->param = SB_NTK_PARAM_NTK;
    s->width = 4096;
    s->members = 100;
    s->epochs = -1;
    s->tolerance = 1e-24;
    s->learning_rate = NAN;
    s->eval_min_weight = 1;
    s->eval_max_weight = -1;
    s->delta = 0.1;
    s->members_per_step = 16;
    s->cov_enabled = false;
    s->cov_max_weight = -1;
    s->cov_block_size = 256;
    s->cov_samples = 10000;
    s->cov_spectrum = true;
}

void sb_ntk_spec_free(void *target)
{
    sb_ntk_spec *s = target;
    free(s->sizes);
    free(s->cov_sizes);
    free(s->M);
    free(s->cov_M);
    free(s->theory_M);
    memset(s, 0, sizeof *s);
}

/* ---- effective values ----------------------------------------------------------------------- */

int64_t sb_ntk_epochs(const sb_ntk_spec *s)
{
    if (s->epochs > 0)
        return s->epochs;
    return s->param == SB_NTK_PARAM_STANDARD ? STD_EPOCHS : NTK_EPOCHS;
}

double sb_ntk_learning_rate(const sb_ntk_spec *s)
{
    if (s->learning_rate_set)
        return s->learning_rate;
    return s->param == SB_NTK_PARAM_STANDARD ? STD_LEARNING_RATE : NTK_LEARNING_RATE;
}

int sb_ntk_eval_max(const sb_ntk_spec *s)
{
    if (s->eval_max_weight > 0)
        return (int)s->eval_max_weight;
    return s->k <= SB_NTK_EVAL_ALL_K ? (int)s->k : (s->k < 3 ? (int)s->k : 3);
}

int sb_ntk_cov_max(const sb_ntk_spec *s)
{
    return s->cov_max_weight > 0 ? (int)s->cov_max_weight : sb_ntk_eval_max(s);
}

double sb_ntk_count_inputs(int k, int lo, int hi)
{
    double total = 0, c = 1; /* c = C(k, h) */
    for (int h = 0; h <= hi && h <= k; h++) {
        if (h > 0)
            c = c * (double)(k - h + 1) / (double)h;
        if (h >= lo)
            total += c;
    }
    return floor(total + 0.5);
}

sb_ntk_kind sb_ntk_gp_of(const sb_ntk_spec *s)
{
    return s->param == SB_NTK_PARAM_STANDARD ? SB_NTK_NNGP : SB_NTK_NTKGP;
}

/* ---- validation ----------------------------------------------------------------------------- */

/* The default M grid: 1, 2, 3, 5, 7, then 1, 1.5, 2, 3, 5, 7 times each power of ten, below
 * top, then top itself.  Returns the count (out may be NULL to count). */
static int log_grid(int64_t top, int64_t *out)
{
    static const int tenths[] = {10, 15, 20, 30, 50, 70};
    int n = 0;
    for (int64_t p = 1; p <= top; p *= 10) {
        for (size_t i = 0; i < sizeof tenths / sizeof tenths[0]; i++) {
            int64_t v = tenths[i] * p / 10;
            if (v * 10 != tenths[i] * p || v >= top || (n > 0 && out && v <= out[n - 1]))
                continue; /* 1.5 below ten, and what is not below top */
            if (out)
                out[n] = v;
            n++;
        }
        if (p > INT64_MAX / 10)
            break;
    }
    if (out)
        out[n] = top;
    return n + 1;
}

static int grid_or_default(const int64_t *given, int ngiven, int64_t top, int64_t **out, int *n)
{
    int count = given ? ngiven : log_grid(top, NULL);
    int64_t *v = calloc((size_t)count + 1, sizeof *v);
    if (!v)
        return SB_ENOMEM;
    if (given)
        memcpy(v, given, (size_t)count * sizeof *v);
    else
        log_grid(top, v);
    *out = v;
    *n = count;
    return 0;
}

/* Fisher-Yates from the counter-based generator: the same permutation on every rank and run. */
static void draw_permutation(int k, uint64_t seed, int *perm)
{
    for (int i = 0; i < k; i++)
        perm[i] = i;
    for (int i = k - 1; i > 0; i--) {
        int j = (int)(sb_rand64(seed, PERM_STREAM, (uint64_t)i) % (uint64_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static int check_weights(sb_job *job, const sb_ntk_spec *s)
{
    int rc = 0, k = (int)s->k, hi = sb_ntk_eval_max(s);
    if (s->eval_max_weight > k)
        rc = sb_job_error(job, "ntk.eval_max_weight", "must be at most k = %d (got %" PRId64 ")", k,
                          s->eval_max_weight);
    else if (s->eval_min_weight > hi)
        rc = sb_job_error(job, "ntk.eval_min_weight",
                          "must be at most eval_max_weight = %d (got %" PRId64 ")", hi,
                          s->eval_min_weight);
    else if (s->members > 0 &&
             sb_ntk_count_inputs(k, (int)s->eval_min_weight, hi) > (double)SB_NTK_EVAL_MAX)
        rc = sb_job_error(job, s->eval_max_weight > 0 ? "ntk.eval_max_weight" : "ntk.k",
                          "%.4g test inputs of weight %" PRId64 "..%d at k = %d; at most %" PRId64
                          " are evaluated (lower eval_max_weight)",
                          sb_ntk_count_inputs(k, (int)s->eval_min_weight, hi), s->eval_min_weight,
                          hi, k, SB_NTK_EVAL_MAX);
    return rc;
}

static int check_sizes(sb_job *job, const sb_ntk_spec *s)
{
    if (!s->sizes)
        return 0;
    if (s->members == 0)
        return sb_job_error(job, P_SIZES, "needs members > 0 (this job trains no ensemble)");
    if (s->sizes[s->nsizes - 1] > s->members) {
        char path[SB_PATH_MAX];
        sb_job_path(path, P_SIZES, NULL, s->nsizes - 1);
        return sb_job_error(job, path,
                            "ensemble size %" PRId64 " is larger than members = %" PRId64,
                            s->sizes[s->nsizes - 1], s->members);
    }
    return 0;
}

static int check_covariance(sb_job *job, const sb_ntk_spec *s)
{
    int rc = 0;
    if (!s->cov_enabled)
        return 0;
    if (s->cov_max_weight > s->k)
        rc = sb_job_error(job, "ntk.covariance.max_weight",
                          "must be at most k = %" PRId64 " (got %" PRId64 ")", s->k,
                          s->cov_max_weight);
    else if (sb_ntk_cov_max(s) < 2)
        rc = sb_job_error(job, "ntk.covariance.max_weight",
                          "must be at least 2: inputs of weight 1 are the training inputs, "
                          "whose variance is 0");
    if (s->cov_samples == 0 && !s->cov_spectrum)
        rc = sb_job_error(job, "ntk.covariance.samples",
                          "covariance is enabled with no samples and no spectrum: nothing to "
                          "compute (set samples > 0 or spectrum: true)");
    return rc;
}

/* The M grid of the GP predictions: the ensemble's, else the covariance's, else the default. */
static int theory_grid(sb_ntk_spec *s)
{
    int64_t *v = NULL;
    int n = 0;
    free(s->theory_M);
    s->theory_M = NULL;
    s->ntheory_M = 0;
    if (s->nM == 0 && s->ncov_M == 0 && grid_or_default(NULL, 0, 10000, &v, &n))
        return SB_ENOMEM;
    int count = s->nM ? s->nM : (s->ncov_M ? s->ncov_M : n);
    s->theory_M = malloc((size_t)count * sizeof *s->theory_M);
    for (int i = 0; s->theory_M && i < count; i++)
        s->theory_M[i] = s->nM ? (double)s->M[i] : (s->ncov_M ? s->cov_M[i] : (double)v[i]);
    free(v);
    if (!s->theory_M)
        return SB_ENOMEM;
    s->ntheory_M = count;
    return 0;
}

int sb_ntk_validate(sb_job *job)
{
    sb_ntk_spec *s = job->spec;
    if (s->k < SB_NTK_JOB_K_MIN)
        return SB_EINPUT; /* missing or out of range: reported by the schema pass */
    int rc = check_weights(job, s);
    if (check_sizes(job, s))
        rc = SB_EINPUT;
    if (check_covariance(job, s))
        rc = SB_EINPUT;
    if (!s->members_per_step_set && s->members > 0 && s->members_per_step > s->members)
        s->members_per_step = s->members; /* the default never asks for more than there are */
    if (s->members > 0 && s->members_per_step > s->members)
        rc = sb_job_error(job, "ntk.members_per_step",
                          "must be at most members = %" PRId64 " (got %" PRId64 ")", s->members,
                          s->members_per_step);
    if (rc)
        return rc;
    draw_permutation((int)s->k, (uint64_t)job->seed, s->perm);
    free(s->M);
    free(s->cov_M);
    s->M = NULL;
    s->cov_M = NULL;
    s->nM = s->ncov_M = 0;
    if (s->members > 0 && grid_or_default(s->sizes, s->nsizes, s->members, &s->M, &s->nM))
        return SB_ENOMEM;
    int64_t *cov = NULL;
    int ncov = 0;
    if (s->cov_enabled &&
        grid_or_default(s->cov_sizes ? s->cov_sizes : s->M, s->cov_sizes ? s->ncov_sizes : s->nM,
                        s->members > 0 ? s->members : 10000, &cov, &ncov))
        return SB_ENOMEM;
    if (ncov > 0) {
        s->cov_M = malloc((size_t)ncov * sizeof *s->cov_M);
        for (int i = 0; s->cov_M && i < ncov; i++)
            s->cov_M[i] = (double)cov[i];
        s->ncov_M = s->cov_M ? ncov : 0;
    }
    free(cov);
    if (ncov > 0 && !s->cov_M)
        return SB_ENOMEM;
    return theory_grid(s);
}

/* ---- description ---------------------------------------------------------------------------- */

static void describe_theory(const sb_ntk_spec *s, FILE *out)
{
    const char *names[2] = {"NTK-GP", "NNGP"};
    for (int kind = 0; kind < 2; kind++) {
        sb_ntk_gp gp = {.k = (int)s->k, .sigma_w = s->sigma_w, .kind = (sb_ntk_kind)kind};
        double one = 0, all = 0, crude = 0, m90 = NAN;
        sb_ntk_ensemble_one(&gp, 2, s->delta, &one);
        sb_ntk_ensemble_all_weights(&gp, s->delta, &all);
        sb_ntk_ensemble_all_crude(&gp, s->delta, &crude);
        if (s->k > 2)
            sb_ntk_ensemble_for_prob(&gp, 2, 0.9, &m90);
        fprintf(out,
                "# %s ensemble sizes at delta = %g: one input of weight 2 %.0f, all inputs %.0f "
                "(per-weight union bound) or %.0f (crude 2^k bound); 90%% on a weight-2 input: "
                "%.0f\n",
                names[kind], s->delta, ceil(one), ceil(all), ceil(crude), m90);
    }
}

void sb_ntk_describe(const sb_job *job, FILE *out)
{
    const sb_ntk_spec *s = job->spec;
    if (!s || s->k < SB_NTK_JOB_K_MIN)
        return;
    int k = (int)s->k, hi = sb_ntk_eval_max(s);
    fprintf(out, "# target permutation (from seed %" PRId64 "): e_i -> e_perm[i], perm = [",
            job->seed);
    for (int i = 0; i < k; i++)
        fprintf(out, "%s%d", i ? ", " : "", s->perm[i]);
    fprintf(out, "]\n");
    fprintf(out,
            "# %s parametrisation: follows the %s; %" PRId64 " epochs at most, learning "
            "rate %g x the optimal step, tolerance %g\n",
            param_names[s->param], sb_ntk_gp_of(s) == SB_NTK_NNGP ? "NNGP" : "NTK-GP",
            sb_ntk_epochs(s), sb_ntk_learning_rate(s), s->tolerance);
    if (s->members > 0) {
        fprintf(out, "# test inputs: %.0f of weight %" PRId64 "..%d; ensemble sizes M = ",
                sb_ntk_count_inputs(k, (int)s->eval_min_weight, hi), s->eval_min_weight, hi);
        for (int i = 0; i < s->nM; i++)
            fprintf(out, "%s%" PRId64, i ? ", " : "", s->M[i]);
        fprintf(out, "\n");
    } else {
        fprintf(out, "# no ensemble (members: 0): closed forms%s only\n",
                s->cov_enabled ? " and the covariance" : "");
    }
    if (s->cov_enabled)
        fprintf(out, "# covariance: order %" PRId64 " (inputs of weight 2..%d)\n",
                sb_ntk_cov_order(k, sb_ntk_cov_max(s), false), sb_ntk_cov_max(s));
    describe_theory(s, out);
}
