/* The ntk job kind: the closed forms of the infinite-width GPs (always; cheap), then the
 * finite-width ensemble through the step controller (members_per_step members a step, progress
 * and checkpoints between steps), then the dense joint covariance on a ScaLAPACK grid when
 * enabled.  The science is in symbatch/ntk.h, ntk_ensemble.h and ntk_cov.h; this file builds
 * their configurations from the job, drives them, and writes /ntk. */
#include "ntk/spec.h"

#include "symbatch/ckpt.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/io.h"
#include "symbatch/json.h"
#include "symbatch/matrix.h"
#include "symbatch/ntk.h"
#include "symbatch/ntk_cov.h"
#include "symbatch/ntk_ensemble.h"
#include "symbatch/run.h"
#include "symbatch/step.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NKINDS           2 /* SB_NTK_NTKGP, SB_NTK_NNGP */
/* Points per decade of M of the predictions drawn as curves (/ntk/theory/curve_M). */
#define CURVE_PER_DECADE 24
static const char *const gp_names[NKINDS] = {"ntk", "nngp"};
static const char *const param_names[] = {"ntk", "standard"};

/* The closed forms for one GP: per weight, and the predictions on the theory M grid. */
typedef struct gp_theory {
    double mu_in[SB_NTK_JOB_K_MAX], mu_out[SB_NTK_JOB_K_MAX], var[SB_NTK_JOB_K_MAX];
    double one[SB_NTK_JOB_K_MAX]; /* ensemble size for one input of weight h at delta */
    double size[3];               /* one input (worst weight), all per weight, all crude */
    double size90;                /* P(exact on a weight-2 input) >= 0.9; NaN at k = 2 */
    double *p_exact;              /* nM x k: P(exact on an input of weight h) */
    double *accuracy, *p_all_product, *p_all_union; /* nM, over the test inputs */
    double *curve[3]; /* the same three at every curve_M, ncurve each */
} gp_theory;

typedef struct ntk_result {
    gp_theory gp[NKINDS];
    int nM;          /* theory grid */
    double *curve_M; /* dense log grid from 1 to the largest M of the job */
    int ncurve;
    bool have_ens, have_cov;
    sb_ntk_ens_result ens;
    double ens_seconds, members_per_second;
    int64_t members_this_run;
    sb_ntk_cov_result cov;
    double cov_seconds;
} ntk_result;

/* ---- configurations ------------------------------------------------------------------------- */

static void train_cfg(const sb_job *job, sb_ntk_train_cfg *c)
{
    const sb_ntk_spec *s = job->spec;
    *c = (sb_ntk_train_cfg){.k = (int)s->k,
                            .width = (int)s->width,
                            .param = (sb_ntk_param)s->param,
                            .sigma_w = s->sigma_w,
                            .learning_rate = sb_ntk_learning_rate(s),
                            .epochs = sb_ntk_epochs(s),
                            .tolerance = s->tolerance,
                            .seed = (uint64_t)job->seed,
                            .perm = s->perm};
}

static void ens_cfg(const sb_job *job, sb_ntk_ens_cfg *c)
{
    const sb_ntk_spec *s = job->spec;
    memset(c, 0, sizeof *c);
    train_cfg(job, &c->train);
    c->min_weight = (int)s->eval_min_weight;
    c->max_weight = sb_ntk_eval_max(s);
    c->members = s->members;
    c->M = s->M;
    c->nM = s->nM;
}

static void cov_cfg(const sb_job *job, sb_ntk_cov_cfg *c)
{
    const sb_ntk_spec *s = job->spec;
    *c = (sb_ntk_cov_cfg){.gp = {.k = (int)s->k, .sigma_w = s->sigma_w, .kind = sb_ntk_gp_of(s)},
                          .max_weight = sb_ntk_cov_max(s),
                          .block_size = (int)s->cov_block_size,
                          .grid_rows = s->cov_grid_set ? (int)s->cov_grid[0] : 0,
                          .grid_cols = s->cov_grid_set ? (int)s->cov_grid[1] : 0,
                          .samples = s->cov_samples,
                          .M = s->cov_M,
                          .nM = s->ncov_M,
                          .spectrum = s->cov_spectrum,
                          .seed = (uint64_t)job->seed};
}

/* ---- memory --------------------------------------------------------------------------------- */

static int ntk_estimate(const sb_job *job, int nranks, uint64_t budget, sb_mem_estimate *out)
{
    (void)budget;
    const sb_ntk_spec *s = job->spec;
    uint64_t ens = 0, cov = 0;
    if (s->members > 0) {
        sb_ntk_ens_cfg ec;
        ens_cfg(job, &ec);
        uint64_t r0 = sb_ntk_ens_bytes(&ec, nranks, s->members_per_step, true);
        uint64_t rx = nranks > 1 ? sb_ntk_ens_bytes(&ec, nranks, s->members_per_step, false) : 0;
        ens = r0 > rx ? r0 : rx;
    }
    char ens_text[32], cov_text[32] = "";
    sb_fmt_bytes(ens_text, sizeof ens_text, (double)ens);
    int64_t order = 0;
    if (s->cov_enabled) {
        if (s->cov_grid_set && s->cov_grid[0] * s->cov_grid[1] != nranks) {
            snprintf(out->note, sizeof out->note,
                     "ntk.covariance.grid: a %" PRId64 " x %" PRId64 " process grid needs %" PRId64
                     " ranks, but this run has %d (run on %" PRId64
                     " ranks, or set grid: null for the squarest grid)",
                     s->cov_grid[0], s->cov_grid[1], s->cov_grid[0] * s->cov_grid[1], nranks,
                     s->cov_grid[0] * s->cov_grid[1]);
            return SB_EINPUT;
        }
        sb_ntk_cov_cfg cc;
        cov_cfg(job, &cc);
        cov = sb_ntk_cov_bytes_per_rank(&cc, nranks);
        order = sb_ntk_cov_order((int)s->k, sb_ntk_cov_max(s), false);
        sb_fmt_bytes(cov_text, sizeof cov_text, (double)cov);
    }
    out->bytes_fixed = ens;
    out->bytes_per_rank = ens + cov;
    out->bytes_total = (ens + cov) * (uint64_t)nranks;
    out->enforce = true;
    out->engine = 0;
    snprintf(out->mode, sizeof out->mode, "%s",
             s->cov_enabled ? (s->members > 0 ? "ensemble+covariance" : "covariance")
                            : (s->members > 0 ? "ensemble" : "closed forms"));
    if (s->cov_enabled)
        snprintf(out->detail, sizeof out->detail,
                 "ensemble %s per rank; covariance of order %" PRId64
                 " (weights <= %d) block-cyclic over %d ranks: %s per rank",
                 ens_text, order, sb_ntk_cov_max(s), nranks, cov_text);
    else
        snprintf(out->detail, sizeof out->detail, "ensemble %s per rank (sums on rank 0)",
                 ens_text);
    return 0;
}

/* ---- closed forms --------------------------------------------------------------------------- */

/* Predictions at ensemble size m over the test inputs (weights lo..hi).  P(all exact) is given
 * two ways: the union bound 1 - sum_x P(x not exact), a rigorous lower bound whatever the
 * correlations, and the product over inputs, exact if inputs were independent (they are not:
 * the covariance section measures the truth). */
static int predict(const sb_ntk_gp *gp, int lo, int hi, double m, double *p_exact, double *acc,
                   double *product, double *unionb)
{
    double count = 0, hits = 0, logp = 0, fail = 0, c = 1; /* c = C(k, h) */
    for (int h = 1; h <= gp->k; h++) {
        c = c * (double)(gp->k - h + 1) / (double)h;
        double p = 1;
        int err = sb_ntk_p_exact(gp, h, m, &p);
        if (err)
            return err;
        p_exact[h - 1] = p;
        if (h < lo || h > hi)
            continue;
        count += c;
        hits += c * p;
        logp += p > 0 ? c * log(p) : -INFINITY;
        fail += c * (1 - p);
    }
    *acc = count > 0 ? hits / count : NAN;
    *product = exp(logp);
    *unionb = fail < 1 ? 1 - fail : 0;
    return 0;
}

/* The predictions on the dense grid, for smooth curves in plots. */
static int theory_curve(const sb_ntk_spec *s, const sb_ntk_gp *gp, const ntk_result *r,
                        gp_theory *t)
{
    double p_exact[SB_NTK_JOB_K_MAX];
    int err = 0;
    for (int c = 0; c < 3 && !err; c++)
        if (!(t->curve[c] = calloc((size_t)r->ncurve + 1, sizeof(double))))
            err = SB_ENOMEM;
    for (int i = 0; i < r->ncurve && !err; i++)
        err = predict(gp, (int)s->eval_min_weight, sb_ntk_eval_max(s), r->curve_M[i], p_exact,
                      &t->curve[0][i], &t->curve[1][i], &t->curve[2][i]);
    return err;
}

static int theory_one(const sb_ntk_spec *s, sb_ntk_kind kind, const ntk_result *r, gp_theory *t)
{
    const sb_ntk_gp gp = {.k = (int)s->k, .sigma_w = s->sigma_w, .kind = kind};
    const int k = (int)s->k, nM = s->ntheory_M;
    int err = 0;
    t->size[0] = 0;
    for (int h = 1; h <= k && !err; h++) {
        sb_ntk_stats st;
        err = sb_ntk_stats_at(&gp, h, &st);
        if (!err)
            err = sb_ntk_ensemble_one(&gp, h, s->delta, &t->one[h - 1]);
        t->mu_in[h - 1] = st.mu_in;
        t->mu_out[h - 1] = h < k ? st.mu_out : NAN; /* no coordinate is "out" at h = k */
        t->var[h - 1] = st.var;
        if (!err && t->one[h - 1] > t->size[0])
            t->size[0] = t->one[h - 1];
    }
    if (!err)
        err = sb_ntk_ensemble_all_weights(&gp, s->delta, &t->size[1]);
    if (!err)
        err = sb_ntk_ensemble_all_crude(&gp, s->delta, &t->size[2]);
    t->size90 = NAN;
    if (!err && k > 2)
        err = sb_ntk_ensemble_for_prob(&gp, 2, 0.9, &t->size90);
    t->p_exact = calloc((size_t)nM * (size_t)k + 1, sizeof(double));
    t->accuracy = calloc((size_t)nM + 1, sizeof(double));
    t->p_all_product = calloc((size_t)nM + 1, sizeof(double));
    t->p_all_union = calloc((size_t)nM + 1, sizeof(double));
    if (!err && (!t->p_exact || !t->accuracy || !t->p_all_product || !t->p_all_union))
        err = SB_ENOMEM;
    for (int i = 0; i < nM && !err; i++)
        err = predict(&gp, (int)s->eval_min_weight, sb_ntk_eval_max(s), s->theory_M[i],
                      t->p_exact + (size_t)i * (size_t)k, &t->accuracy[i], &t->p_all_product[i],
                      &t->p_all_union[i]);
    return err ? err : theory_curve(s, &gp, r, t);
}

/* 1, 10^(1/CURVE_PER_DECADE), ... up to the largest M of the theory and covariance grids
 * (which ends the grid). */
static int curve_grid(const sb_ntk_spec *s, ntk_result *r)
{
    double top = 1;
    for (int i = 0; i < s->ntheory_M; i++)
        top = s->theory_M[i] > top ? s->theory_M[i] : top;
    for (int i = 0; i < s->ncov_M; i++)
        top = s->cov_M[i] > top ? s->cov_M[i] : top;
    int n = (int)floor(log10(top) * CURVE_PER_DECADE + 1e-9) + 1;
    r->curve_M = malloc(((size_t)n + 1) * sizeof *r->curve_M);
    if (!r->curve_M)
        return SB_ENOMEM;
    for (int i = 0; i < n; i++)
        r->curve_M[i] = pow(10.0, (double)i / CURVE_PER_DECADE);
    r->ncurve = n;
    if (r->curve_M[n - 1] < top * (1 - 1e-12))
        r->curve_M[r->ncurve++] = top;
    return 0;
}

static void theory_free(gp_theory *t)
{
    free(t->p_exact);
    free(t->accuracy);
    free(t->p_all_product);
    free(t->p_all_union);
    for (int c = 0; c < 3; c++)
        free(t->curve[c]);
}

/* ---- the ensemble --------------------------------------------------------------------------- */

typedef struct ens_loop {
    sb_ntk_ens *e;
    const sb_ntk_spec *s;
    sb_step *step;
    double t0;
    double t_line; /* rank 0: when the last progress line was asked for */
    int64_t done0; /* members done when this process started (resume) */
} ens_loop;

static int save_ensemble(void *arg, sb_ckpt *ck)
{
    const ens_loop *l = arg;
    return sb_ntk_ens_save(l->e, ck);
}

/* Whether a progress line is due: the step controller prints about once a second (every step
 * when tests slow the steps down), and the accuracy behind a line costs a pass over the sums, so
 * it is computed only then.  Rank 0's clock decides for every rank. */
static int progress_due(ens_loop *l, bool last, bool *due)
{
    const double now = sb_now();
    int want = last || l->step->delay_ms > 0 || now - l->t_line >= 1.0;
    if (MPI_Bcast(&want, 1, MPI_INT, 0, l->step->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (want)
        l->t_line = now;
    *due = want;
    return 0;
}

/* "members 128/1000  accuracy(M=100) 0.9423  P(all, M=100) 0.120  37.1 members/s": accuracy at
 * the largest M with at least one complete group. */
static int progress(ens_loop *l, bool last)
{
    bool due = false;
    int err = l->step->show ? progress_due(l, last, &due) : 0;
    if (err || !due)
        return err;
    const int64_t done = sb_ntk_ens_done(l->e);
    sb_ntk_ens_result r;
    err = sb_ntk_ens_result_get(l->e, &r);
    if (err)
        return err;
    char acc[64] = "";
    for (int i = r.nM - 1; i >= 0; i--) {
        if (r.groups[i] > 0) {
            snprintf(acc, sizeof acc, "  accuracy(M=%" PRId64 ") %.4f  P(all, M=%" PRId64 ") %.3f",
                     r.M[i], r.accuracy[i], r.M[i], r.p_all_exact[i]);
            break;
        }
    }
    sb_ntk_ens_result_free(&r);
    double dt = sb_now() - l->t0;
    char fields[200];
    snprintf(fields, sizeof fields, "members %" PRId64 "/%" PRId64 "%s  %.3g members/s", done,
             l->s->members, acc, dt > 0 ? (double)(done - l->done0) / dt : 0.0);
    return sb_step_progress(l->step, done - 1, fields, last);
}

static int ensemble_resume(ens_loop *l)
{
    double t = sb_now();
    int err = sb_ntk_ens_load(l->e, l->step->resume);
    if (err)
        return err;
    int64_t done = sb_ntk_ens_done(l->e);
    if (done < 0 || done > l->s->members) {
        if (l->step->ctx->rank == 0)
            fprintf(l->step->ctx->err,
                    "symbatch: checkpoint '%s': %" PRId64 " members done, but this job has %" PRId64
                    "\n",
                    l->step->resume->path, done, l->s->members);
        return SB_ECKPT;
    }
    sb_step_resumed(l->step, done - 1, sb_now() - t);
    l->done0 = done;
    return 0;
}

/* Steps of members_per_step members; the step controller's step index is the last member done
 * (counted from 0), so its messages read "member 127" and its ETA runs to member members-1. */
static int ensemble_loop(ens_loop *l)
{
    const int64_t members = l->s->members;
    int err = 0;
    while (!err && sb_ntk_ens_done(l->e) < members) {
        int64_t done = sb_ntk_ens_done(l->e);
        int64_t count =
            members - done < l->s->members_per_step ? members - done : l->s->members_per_step;
        err = sb_ntk_ens_advance(l->e, count, l->step);
        if (!err)
            err = progress(l, sb_ntk_ens_done(l->e) == members);
        if (!err)
            err = sb_step_boundary(l->step, sb_ntk_ens_done(l->e) - 1, save_ensemble, l);
    }
    return err;
}

/* The ensemble stays in *lp (the caller frees it): a signal during the covariance that follows
 * checkpoints it again. */
static int run_ensemble(sb_run *run, ntk_result *r, ens_loop *l)
{
    const sb_ntk_spec *s = run->job->spec;
    sb_ntk_ens_cfg cfg;
    ens_cfg(run->job, &cfg);
    *l = (ens_loop){.s = s, .step = &run->step, .t0 = sb_now()};
    int err = sb_ntk_ens_create(&l->e, &cfg, run->ctx);
    if (err)
        return err;
    run->step.total = s->members;
    sb_step_note(&run->step,
                 "symbatch: ntk ensemble: %" PRId64 " members of width %" PRId64
                 " (%s parametrisation), %d ranks, %" PRId64 " members a step",
                 s->members, s->width, param_names[s->param], run->ctx->size, s->members_per_step);
    if (run->step.resume)
        err = ensemble_resume(l);
    if (!err)
        err = ensemble_loop(l);
    if (!err)
        err = sb_ntk_ens_result_get(l->e, &r->ens);
    if (!err) {
        r->have_ens = true;
        r->ens_seconds = sb_now() - l->t0;
        r->members_this_run = s->members - l->done0;
        r->members_per_second =
            r->ens_seconds > 0 ? (double)r->members_this_run / r->ens_seconds : 0;
    }
    return err;
}

/* ---- the run -------------------------------------------------------------------------------- */

static int run_theory(sb_run *run, ntk_result *r)
{
    const sb_ntk_spec *s = run->job->spec;
    double t = sb_now();
    int err = 0;
    r->nM = s->ntheory_M;
    err = curve_grid(s, r);
    for (int kind = 0; kind < NKINDS && !err; kind++)
        err = theory_one(s, (sb_ntk_kind)kind, r, &r->gp[kind]);
    sb_step_time(&run->step, "theory", sb_now() - t);
    const gp_theory *g = &r->gp[sb_ntk_gp_of(s)];
    if (!err)
        sb_step_note(&run->step,
                     "symbatch: ntk k=%" PRId64 ": %s theory: weight 2 mu_in %.4g mu_out %.4g "
                     "variance %.4g; ensemble sizes (delta %g): one input %.0f, all inputs %.0f",
                     s->k, sb_ntk_gp_of(s) == SB_NTK_NNGP ? "NNGP" : "NTK-GP", g->mu_in[1],
                     g->mu_out[1], g->var[1], s->delta, ceil(g->size[0]), ceil(g->size[1]));
    return sb_ctx_agree(run->ctx, err);
}

/* A step boundary between the covariance's stages and batches of draws: a signal (or the
 * checkpoint interval) writes the complete ensemble's checkpoint again, and after a signal the
 * run stops (exit 75); --resume then recomputes the covariance, which keeps no state. */
static int cov_boundary(void *arg)
{
    ens_loop *l = arg;
    int err = sb_step_boundary(l->step, sb_ntk_ens_done(l->e) - 1, save_ensemble, l);
    if (err == SB_ESIGNAL)
        sb_step_note(l->step, "symbatch: the covariance stopped; --resume recomputes it from the "
                              "checkpointed ensemble");
    return err;
}

static int run_covariance(sb_run *run, ntk_result *r, ens_loop *l)
{
    sb_ntk_cov_cfg cfg;
    cov_cfg(run->job, &cfg);
    if (l->e) {
        cfg.boundary = cov_boundary;
        cfg.boundary_arg = l;
    }
    double t = sb_now();
    sb_step_note(&run->step, "symbatch: ntk covariance: order %" PRId64 " on %d ranks",
                 sb_ntk_cov_order(cfg.gp.k, cfg.max_weight, false), run->ctx->size);
    int err = sb_ntk_cov_run(run->ctx, &cfg, &run->step, &r->cov);
    r->cov_seconds = sb_now() - t;
    r->have_cov = err == 0;
    return err;
}

static int ntk_run(sb_run *run)
{
    const sb_ntk_spec *s = run->job->spec;
    ntk_result *r = calloc(1, sizeof *r);
    int err = sb_ctx_agree(run->ctx, r ? 0 : SB_ENOMEM);
    if (err) {
        free(r);
        return err;
    }
    run->result = r;
    err = run_theory(run, r);
    ens_loop l = {.e = NULL};
    if (!err && s->members > 0)
        err = run_ensemble(run, r, &l);
    if (!err && s->cov_enabled)
        err = run_covariance(run, r, &l);
    sb_ntk_ens_free(l.e);
    return err;
}

static void ntk_result_free(sb_run *run)
{
    ntk_result *r = run->result;
    if (!r)
        return;
    for (int kind = 0; kind < NKINDS; kind++)
        theory_free(&r->gp[kind]);
    free(r->curve_M);
    if (r->have_ens)
        sb_ntk_ens_result_free(&r->ens);
    if (r->have_cov)
        sb_ntk_cov_result_free(&r->cov);
    free(r);
    run->result = NULL;
}

static void ntk_fingerprint(const sb_job *job, int engine, sb_fingerprint *fp)
{
    (void)engine;
    const sb_ntk_spec *s = job->spec;
    memset(fp, 0, sizeof *fp);
    sb_fp_add(fp, "ntk.network", "k=%" PRId64 " width=%" PRId64 " parametrisation=%s sigma_w=%.17g",
              s->k, s->width, param_names[s->param], s->sigma_w);
    sb_fp_add(fp, "ntk.training", "epochs=%" PRId64 " tolerance=%.17g learning_rate=%.17g",
              sb_ntk_epochs(s), s->tolerance, sb_ntk_learning_rate(s));
    sb_fp_add(fp, "seed", "%" PRId64, job->seed);
    sb_fp_add(fp, "ntk.members", "%" PRId64, s->members);
    sb_fp_add(fp, "ntk.eval_weights", "%" PRId64 "..%d", s->eval_min_weight, sb_ntk_eval_max(s));
    uint64_t h = sb_fnv1a64(s->M, (size_t)s->nM * sizeof *s->M, SB_FNV1A64_INIT);
    sb_fp_add(fp, "ntk.ensemble_sizes", "%d sizes (fnv1a64 %016" PRIx64 ")", s->nM, h);
}

/* ---- the result file ------------------------------------------------------------------------ */

/* A small rows x cols float64 matrix that every rank holds (row-major), as one 2-D dataset:
 * rank 0 holds it whole as a 1 x 1 process grid, the others join with nothing. */
static int write_2d(sb_h5 *h, const char *path, const double *rowmajor, int64_t rows, int64_t cols,
                    const char *units, const char *meaning)
{
    const bool root = h->ctx->rank == 0;
    double *local = root ? malloc((size_t)(rows * cols + 1) * sizeof *local) : NULL;
    int err = sb_ctx_agree(h->ctx, root && !local ? SB_ENOMEM : 0);
    if (err) {
        free(local);
        return err;
    }
    for (int64_t i = 0; root && i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            local[i + j * rows] = rowmajor[i * cols + j];
    sb_bc_layout L = {.m = rows,
                      .n = cols,
                      .mb = rows > 0 ? rows : 1,
                      .nb = cols > 0 ? cols : 1,
                      .nprow = 1,
                      .npcol = 1,
                      .myrow = root ? 0 : -1,
                      .mycol = root ? 0 : -1,
                      .lld = rows > 0 ? rows : 1};
    err = sb_h5_write_matrix_bc(h, path, &L, local, units, meaning);
    free(local);
    return err;
}

static int write_curves(sb_h5 *h, const ntk_result *r, const gp_theory *t, const char *name)
{
    static const char *const leaf[3] = {"curve_accuracy", "curve_p_all_exact_product",
                                        "curve_p_all_exact_union"};
    static const char *const meaning[3] = {
        "predicted accuracy at each /ntk/theory/curve_M (as accuracy, on a dense grid for plots)",
        "P(all test inputs exact), product over inputs, at each /ntk/theory/curve_M",
        "P(all test inputs exact), union bound, at each /ntk/theory/curve_M"};
    int err = 0;
    for (int c = 0; c < 3 && !err; c++) {
        char p[128];
        snprintf(p, sizeof p, "/ntk/theory/%s/%s", name, leaf[c]);
        err = sb_h5_write_f64(h, p, t->curve[c], (uint64_t)r->ncurve,
                              c ? "probability" : "fraction", meaning[c]);
    }
    return err;
}

static int write_gp(sb_h5 *h, const sb_ntk_spec *s, const ntk_result *r, const gp_theory *t,
                    const char *name)
{
    char p[128];
    const uint64_t k = (uint64_t)s->k, nM = (uint64_t)s->ntheory_M;
    const struct {
        const char *leaf;
        const double *v;
        uint64_t n;
        const char *units, *meaning;
    } rows[] = {
        {"mu_in", t->mu_in, k, "output",
         "GP mean of an output coordinate whose target is 1, for inputs of weight h = index + 1"},
        {"mu_out", t->mu_out, k, "output",
         "GP mean of an output coordinate whose target is 0, for weight h = index + 1 (NaN at "
         "h = k)"},
        {"variance", t->var, k, "output^2",
         "GP variance of one output coordinate of one network, weight h = index + 1"},
        {"ensemble_one", t->one, k, "networks",
         "ensemble size for one input of weight h = index + 1 at the job's delta (Gaussian tail "
         "and a union over its k coordinates)"},
        {"accuracy", t->accuracy, nM, "fraction",
         "predicted accuracy at each /ntk/theory/M: P(exact on x) averaged over the test inputs"},
        {"p_all_exact_product", t->p_all_product, nM, "probability",
         "P(all test inputs exact) at each /ntk/theory/M as the product of P(exact on x) over "
         "inputs (as if inputs were independent; an approximation)"},
        {"p_all_exact_union", t->p_all_union, nM, "probability",
         "P(all test inputs exact) at each /ntk/theory/M by the union bound 1 - sum_x P(x not "
         "exact), clamped at 0: a rigorous lower bound"},
    };
    int err = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && !err; i++) {
        snprintf(p, sizeof p, "/ntk/theory/%s/%s", name, rows[i].leaf);
        err = sb_h5_write_f64(h, p, rows[i].v, rows[i].n, rows[i].units, rows[i].meaning);
    }
    snprintf(p, sizeof p, "/ntk/theory/%s/p_exact", name);
    if (!err)
        err = write_2d(h, p, t->p_exact, (int64_t)nM, (int64_t)k, "probability",
                       "P(exact on x) for an ensemble of M = /ntk/theory/M[row] networks and an "
                       "input of weight h = column + 1");
    snprintf(p, sizeof p, "/ntk/theory/%s/size90_weight2", name);
    if (!err)
        err = sb_h5_write_scalar_f64(h, p, t->size90, "networks",
                                     "smallest M with P(exact on one weight-2 input) >= 0.9 (the "
                                     "ensemble size for 90% accuracy on weight-2 inputs); NaN at "
                                     "k = 2");
    return err ? err : write_curves(h, r, t, name);
}

static int write_theory(sb_h5 *h, const sb_ntk_spec *s, const ntk_result *r)
{
    int err = sb_h5_group(h, "/ntk/theory");
    for (int kind = 0; kind < NKINDS && !err; kind++)
        err = write_gp(h, s, r, &r->gp[kind], gp_names[kind]);
    if (!err)
        err = sb_h5_write_f64(h, "/ntk/theory/M", s->theory_M, (uint64_t)s->ntheory_M, "networks",
                              "ensemble sizes of the predictions (the ensemble's M grid, else "
                              "the covariance's, else a log grid to 10000)");
    if (!err)
        err = sb_h5_write_f64(h, "/ntk/theory/curve_M", r->curve_M, (uint64_t)r->ncurve, "networks",
                              "a dense log grid of M (24 a decade) up to the job's largest M, "
                              "where the curve_* predictions are given");
    double sizes[NKINDS * 3];
    for (int kind = 0; kind < NKINDS; kind++)
        memcpy(sizes + 3 * kind, r->gp[kind].size, sizeof r->gp[kind].size);
    if (!err)
        err = write_2d(h, "/ntk/theory/ensemble_size", sizes, NKINDS, 3, "networks",
                       "ensemble sizes at failure probability delta (attribute); rows: NTK-GP, "
                       "NNGP; columns: one input (the hardest weight), all inputs by a union "
                       "bound per weight, all inputs by the crude (2^k - 1) k union bound; real "
                       "numbers (an ensemble needs the ceiling)");
    if (!err)
        err = sb_h5_attr_f64(h, "/ntk/theory/ensemble_size", "delta", s->delta);
    if (!err)
        err = sb_h5_attr_str(h, "/ntk/theory/ensemble_size", "columns",
                             "one_input, all_inputs_per_weight, all_inputs_crude");
    if (!err)
        err = sb_h5_attr_str(h, "/ntk/theory/ensemble_size", "rows", "ntk, nngp");
    return err;
}

/* One float64 dataset of a result: 1-D when cols is 0, else rows x cols (row-major). */
typedef struct f64_item {
    const char *path;
    const double *data;
    int64_t rows, cols;
    const char *units, *meaning;
} f64_item;

static int write_items(sb_h5 *h, const f64_item *items, size_t n)
{
    int err = 0;
    for (size_t i = 0; i < n && !err; i++)
        err = items[i].cols
                  ? write_2d(h, items[i].path, items[i].data, items[i].rows, items[i].cols,
                             items[i].units, items[i].meaning)
                  : sb_h5_write_f64(h, items[i].path, items[i].data, (uint64_t)items[i].rows,
                                    items[i].units, items[i].meaning);
    return err;
}

static int write_ensemble_attrs(sb_h5 *h, const ntk_result *r)
{
    const sb_ntk_ens_result *e = &r->ens;
    const struct {
        const char *name;
        double v;
    } attrs[] = {{"epochs_mean", e->epochs_mean},
                 {"loss_max", e->loss_max},
                 {"seconds", r->ens_seconds},
                 {"members_per_second", r->members_per_second}};
    int err = 0;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0] && !err; i++)
        err = sb_h5_attr_f64(h, "/ntk/ensemble", attrs[i].name, attrs[i].v);
    if (!err)
        err = sb_h5_attr_i64(h, "/ntk/ensemble", "members", e->members);
    if (!err)
        err = sb_h5_attr_i64(h, "/ntk/ensemble", "not_converged", e->not_converged);
    return err;
}

static int write_ensemble(sb_h5 *h, const sb_ntk_spec *s, const ntk_result *r)
{
    const sb_ntk_ens_result *e = &r->ens;
    const int64_t nM = e->nM, k = s->k;
    double size90[SB_NTK_JOB_K_MAX];
    for (int64_t i = 0; i < k; i++)
        size90[i] = (double)e->size90_by_weight[i];
    const f64_item items[] = {
        {"/ntk/ensemble/accuracy", e->accuracy, nM, 0, "fraction",
         "fraction of test inputs on which the rounded mean of M networks is exact, averaged "
         "over the groups (NaN: no complete group)"},
        {"/ntk/ensemble/p_all_exact", e->p_all_exact, nM, 0, "probability",
         "fraction of groups of M networks exact on every test input"},
        {"/ntk/ensemble/accuracy_by_weight", e->accuracy_by_weight, nM, k, "fraction",
         "accuracy at M = row's M on test inputs of weight h = column + 1 (NaN: no test input "
         "of that weight)"},
        {"/ntk/ensemble/mean_by_weight", e->mean_by_weight, k, 2, "output",
         "mean output of one network over all members, for inputs of weight h = row + 1; column "
         "0: coordinates whose target is 1, column 1: target 0 (compare /ntk/theory/*/mu_in, "
         "mu_out)"},
        {"/ntk/ensemble/variance_by_weight", e->variance_by_weight, k, 2, "output^2",
         "variance of one network's output across members, pooled over inputs of weight h = "
         "row + 1 and coordinates; columns as mean_by_weight (compare /ntk/theory/*/variance)"},
        {"/ntk/ensemble/size90_by_weight", size90, k, 0, "networks",
         "smallest M whose prefix ensemble (members 0..M-1) is exact on at least 90% of the "
         "inputs of weight h = index + 1; -1: none"},
    };
    int err = sb_h5_group(h, "/ntk/ensemble");
    if (!err)
        err = sb_h5_write_u64(h, "/ntk/ensemble/M", (const uint64_t *)e->M, (uint64_t)nM,
                              "networks", "ensemble sizes M");
    if (!err)
        err = sb_h5_write_u64(h, "/ntk/ensemble/groups", (const uint64_t *)e->groups, (uint64_t)nM,
                              "ensembles",
                              "disjoint groups of M consecutive members behind each estimate");
    if (!err)
        err = write_items(h, items, sizeof items / sizeof items[0]);
    if (!err)
        err = write_ensemble_attrs(h, r);
    return err;
}

static int write_cov_scalars(sb_h5 *h, const sb_ntk_cov_result *c)
{
    const struct {
        const char *name, *units, *meaning;
        double v;
    } rows[] = {
        {"condition", "1",
         "largest / smallest eigenvalue over the non-training inputs (NaN "
         "without spectrum)",
         c->condition},
        {"cholesky_seconds", "s", "wall time of pdpotrf", c->cholesky_seconds},
        {"cholesky_gflops", "GFLOP/s", "pdpotrf rate over all ranks (n^3 / 3 flops)",
         c->cholesky_gflops},
        {"sample_seconds", "s", "wall time of the joint draws", c->sample_seconds},
        {"spectrum_seconds", "s", "wall time of pdsyevd", c->spectrum_seconds},
    };
    int err = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && !err; i++) {
        char p[96];
        snprintf(p, sizeof p, "/ntk/covariance/%s", rows[i].name);
        err = sb_h5_write_scalar_f64(h, p, rows[i].v, rows[i].units, rows[i].meaning);
    }
    return err;
}

static int write_covariance(sb_h5 *h, const sb_ntk_spec *s, const ntk_result *r)
{
    const sb_ntk_cov_result *c = &r->cov;
    const uint64_t nM = (uint64_t)c->nM;
    double *ci = malloc((nM + 1) * 2 * sizeof *ci);
    int err = sb_ctx_agree(h->ctx, ci ? 0 : SB_ENOMEM);
    for (uint64_t i = 0; !err && i < nM; i++) {
        ci[2 * i] = c->p_ci_low[i];
        ci[2 * i + 1] = c->p_ci_high[i];
    }
    if (!err)
        err = sb_h5_group(h, "/ntk/covariance");
    if (!err)
        err = sb_h5_write_f64(h, "/ntk/covariance/M", c->M, nM, "networks", "ensemble sizes M");
    if (!err)
        err = sb_h5_write_f64(h, "/ntk/covariance/p_all_exact", c->p_all_exact, nM, "probability",
                              "P(all test inputs of weight <= max_weight exact) by joint draws "
                              "of the M-ensemble mean through the Cholesky factor: p^k, p one "
                              "coordinate's probability (coordinates are independent and "
                              "exchangeable)");
    if (!err)
        err = write_2d(h, "/ntk/covariance/p_all_exact_ci", ci, (int64_t)nM, 2, "probability",
                       "95% confidence interval [low, high] of p_all_exact");
    if (!err)
        err = sb_h5_write_f64(h, "/ntk/covariance/p_coordinate", c->p_coordinate, nM, "probability",
                              "one output coordinate's P(exact on every input)");
    if (!err)
        err = sb_h5_write_scalar_u64(h, "/ntk/covariance/n", (uint64_t)c->n, "inputs",
                                     "order of the factored matrix: non-training test inputs");
    if (!err && c->eigenvalues)
        err = sb_h5_write_f64(h, "/ntk/covariance/eigenvalues", c->eigenvalues,
                              (uint64_t)(c->n + s->k), "output^2",
                              "eigenvalues (ascending) of one coordinate's covariance over the "
                              "test inputs of weight 1..max_weight (training inputs included)");
    if (!err && c->rank >= 0)
        err = sb_h5_write_scalar_u64(h, "/ntk/covariance/rank", (uint64_t)c->rank, "1",
                                     "numerical rank: eigenvalues above 1e-10 x the largest "
                                     "(ntk.md: 2^k - 1 - k over all inputs)");
    if (!err)
        err = write_cov_scalars(h, c);
    const char *ia[] = {"grid_rows", "grid_cols", "block_size", "max_weight"};
    const int64_t iv[] = {c->grid_rows, c->grid_cols, c->block_size, sb_ntk_cov_max(s)};
    for (size_t i = 0; i < 4 && !err; i++)
        err = sb_h5_attr_i64(h, "/ntk/covariance", ia[i], iv[i]);
    if (!err)
        err = sb_h5_attr_i64(h, "/ntk/covariance", "samples", s->cov_samples);
    free(ci);
    return err;
}

static int write_group(sb_h5 *h, const sb_job *job)
{
    const sb_ntk_spec *s = job->spec;
    uint64_t perm[SB_NTK_JOB_K_MAX];
    for (int i = 0; i < s->k; i++)
        perm[i] = (uint64_t)s->perm[i];
    int err = sb_h5_group(h, "/ntk");
    if (!err)
        err = sb_h5_write_u64(h, "/ntk/permutation", perm, (uint64_t)s->k, "positions",
                              "the target permutation P: the target of e_i is e_perm[i], drawn "
                              "from the job's seed (Fisher-Yates over sb_rand64)");
    const struct {
        const char *name;
        int64_t v;
    } ia[] = {{"k", s->k},
              {"width", s->width},
              {"members", s->members},
              {"epochs", sb_ntk_epochs(s)},
              {"seed", job->seed},
              {"eval_min_weight", s->eval_min_weight},
              {"eval_max_weight", sb_ntk_eval_max(s)},
              {"members_per_step", s->members_per_step}};
    for (size_t i = 0; i < sizeof ia / sizeof ia[0] && !err; i++)
        err = sb_h5_attr_i64(h, "/ntk", ia[i].name, ia[i].v);
    const struct {
        const char *name;
        double v;
    } fa[] = {{"sigma_w", s->sigma_w},
              {"learning_rate", sb_ntk_learning_rate(s)},
              {"tolerance", s->tolerance},
              {"delta", s->delta}};
    for (size_t i = 0; i < sizeof fa / sizeof fa[0] && !err; i++)
        err = sb_h5_attr_f64(h, "/ntk", fa[i].name, fa[i].v);
    if (!err)
        err = sb_h5_attr_str(h, "/ntk", "parametrisation", param_names[s->param]);
    if (!err)
        err = sb_h5_attr_str(h, "/ntk", "gp", gp_names[sb_ntk_gp_of(s)]);
    return err;
}

static int ntk_write(sb_run *run, sb_h5 *h)
{
    const sb_ntk_spec *s = run->job->spec;
    const ntk_result *r = run->result;
    int err = write_group(h, run->job);
    if (!err)
        err = write_theory(h, s, r);
    if (!err && r->have_ens)
        err = write_ensemble(h, s, r);
    if (!err && r->have_cov)
        err = write_covariance(h, s, r);
    return err;
}

/* ---- the JSON summary ----------------------------------------------------------------------- */

static void summary_ensemble(const ntk_result *r, const gp_theory *g, sb_json *j)
{
    const sb_ntk_ens_result *e = &r->ens;
    const int last = e->nM - 1;
    sb_json_open(j, "ensemble");
    sb_json_i64(j, "members", e->members);
    sb_json_f64(j, "seconds", "%.3f", r->ens_seconds);
    sb_json_f64(j, "members_per_second", "%.4g", r->members_per_second);
    if (last >= 0) {
        sb_json_i64(j, "M", e->M[last]);
        sb_json_f64(j, "accuracy", "%.6g", e->accuracy[last]);
        sb_json_f64(j, "p_all_exact", "%.6g", e->p_all_exact[last]);
        sb_json_f64(j, "gp_accuracy", "%.6g", g->accuracy[last]);
        sb_json_f64(j, "gp_p_all_exact_product", "%.6g", g->p_all_product[last]);
    }
    if (e->k >= 2) {
        sb_json_f64(j, "mu_out_weight2", "%.6g", e->mean_by_weight[2 + 1]);
        sb_json_f64(j, "variance_weight2", "%.6g", e->variance_by_weight[2 + 1]);
        sb_json_i64(j, "size90_weight2", e->size90_by_weight[1]);
    }
    sb_json_i64(j, "not_converged", e->not_converged);
    sb_json_close(j);
}

static void summary_covariance(const sb_ntk_cov_result *c, sb_json *j)
{
    sb_json_open(j, "covariance");
    sb_json_i64(j, "n", c->n);
    sb_json_i64(j, "grid_rows", c->grid_rows);
    sb_json_i64(j, "grid_cols", c->grid_cols);
    if (c->nM > 0) {
        sb_json_f64(j, "M", "%.0f", c->M[c->nM - 1]);
        sb_json_f64(j, "p_all_exact", "%.6g", c->p_all_exact[c->nM - 1]);
    }
    sb_json_i64(j, "rank", c->rank);
    sb_json_f64(j, "condition", "%.4g", c->condition);
    sb_json_f64(j, "cholesky_seconds", "%.3f", c->cholesky_seconds);
    sb_json_f64(j, "cholesky_gflops", "%.4g", c->cholesky_gflops);
    sb_json_close(j);
}

static void ntk_summary(const sb_run *run, sb_json *j)
{
    const sb_ntk_spec *s = run->job->spec;
    const ntk_result *r = run->result;
    const gp_theory *g = &r->gp[sb_ntk_gp_of(s)];
    sb_json_i64(j, "k", s->k);
    sb_json_str(j, "parametrisation", param_names[s->param]);
    sb_json_str(j, "gp", gp_names[sb_ntk_gp_of(s)]);
    sb_json_i64(j, "width", s->width);
    sb_json_open(j, "theory");
    sb_json_f64(j, "mu_in_weight2", "%.6g", g->mu_in[1]);
    sb_json_f64(j, "mu_out_weight2", "%.6g", g->mu_out[1]);
    sb_json_f64(j, "variance_weight2", "%.6g", g->var[1]);
    sb_json_f64(j, "ensemble_one_input", "%.6g", g->size[0]);
    sb_json_f64(j, "ensemble_all_inputs_per_weight", "%.6g", g->size[1]);
    sb_json_f64(j, "ensemble_all_inputs_crude", "%.6g", g->size[2]);
    sb_json_f64(j, "size90_weight2", "%.6g", g->size90);
    sb_json_close(j);
    if (r->have_ens)
        summary_ensemble(r, g, j);
    if (r->have_cov)
        summary_covariance(&r->cov, j);
}

const sb_job_kind sb_ntk_job_kind = {
    .name = "ntk",
    .summary = "ensembles of two-layer ReLU networks learning a permutation, against the "
               "infinite-width Gaussian processes",
    .section = "ntk",
    .schema = sb_ntk_schema,
    .spec_size = sizeof(sb_ntk_spec),
    .spec_init = sb_ntk_spec_init,
    .spec_free = sb_ntk_spec_free,
    .validate = sb_ntk_validate,
    .estimate_memory = ntk_estimate,
    .describe = sb_ntk_describe,
    .step_unit = "member",
    .fingerprint = ntk_fingerprint,
    .run = ntk_run,
    .write = ntk_write,
    .summary_fields = ntk_summary,
    .result_free = ntk_result_free,
    .inspect = sb_ntk_inspect,
};
