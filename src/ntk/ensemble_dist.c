/* The distributed ensemble of ntk_ensemble.h.
 *
 * An advance runs in rounds of up to `size` consecutive members: in a round rank r trains and
 * evaluates member base + r, and the outputs (plus the fit) are gathered to rank 0, which folds
 * them in member order.  A round is all or nothing (one agreement before the gather), so after
 * a failure `done` counts exactly the members folded and the state stays consistent.
 *
 * Rank 0's state, for n inputs and k outputs:
 *   sum, sumsq   n x k: sums over members of y and y^2 (the prefix ensemble is sum / done);
 *   gsum         nM x n x k: the open group of each grid size M (members since it last closed);
 *   per M: members in the open group, groups closed, exact inputs summed over closed groups
 *   (overall and per weight), groups exact on every input;
 *   size90 per weight, epochs summed, the largest loss, members not converged.
 * Everything is folded serially in member order, so results are bitwise identical for any
 * number of ranks and any split of the members into advances. */
#include "symbatch/ntk_ensemble.h"

#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/ntk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NM_MAX 64

/* Rank 0's integer and scalar state, saved as one dataset. */
typedef struct fold_ints {
    int64_t open[NM_MAX], groups[NM_MAX], exact[NM_MAX], all_exact[NM_MAX];
    int64_t exact_w[NM_MAX][64]; /* column h - 1 */
    int64_t size90[64];
    int64_t epochs, not_converged;
    double loss_max;
} fold_ints;

struct sb_ntk_ens {
    const sb_ctx *ctx;
    sb_ntk_ens_cfg cfg;
    int perm[64];
    int64_t M[NM_MAX];
    sb_ntk_inputs in;
    uint64_t *target; /* n: bitmask of P x */
    int64_t n_w[64];  /* inputs of weight h at h - 1 */
    int64_t done;
    size_t nk; /* n k */
    sb_ntk_net net;
    double *mine; /* nk + 3: this rank's outputs and fit (epochs, loss, converged) */
    /* rank 0 */
    double *sum, *sumsq, *gsum; /* one block: (2 + nM) nk */
    double *gathered;           /* size x (nk + 3) */
    fold_ints fi;
    MPI_Datatype row; /* nk + 3 doubles */
};

static int64_t imin(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int cfg_check(const sb_ntk_ens_cfg *c)
{
    if (!c || c->members < 0 || c->nM < 0 || c->nM > NM_MAX || (c->nM && !c->M))
        return SB_EINPUT;
    for (int g = 0; g < c->nM; g++)
        if (c->M[g] < 1 || c->M[g] > c->members || (g && c->M[g] <= c->M[g - 1]))
            return SB_EINPUT;
    const sb_ntk_train_cfg *t = &c->train;
    if (t->k < 2 || t->k > 62 || c->min_weight < 1 || c->max_weight < c->min_weight ||
        c->max_weight > t->k)
        return SB_EINPUT;
    sb_ntk_net probe;
    int rc = sb_ntk_net_alloc(&probe, t); /* validates the training configuration */
    sb_ntk_net_free(&probe);
    return rc;
}

/* Everything a rank holds apart from rank 0's fold arrays: the inputs, targets, network,
 * training and evaluation scratch (see ensemble.c) and its own outputs. */
static uint64_t local_bytes(int k, int width, int64_t n)
{
    uint64_t wk = (uint64_t)width * (uint64_t)k, nk = (uint64_t)n * (uint64_t)k;
    uint64_t net = 2 * wk + (uint64_t)width + (uint64_t)k;
    uint64_t scratch = 3 * wk + (uint64_t)k * k;                           /* training */
    uint64_t eval = wk + (uint64_t)(k + 1) * width + 64 * (uint64_t)width; /* evaluation */
    return 8 * (net + (scratch > eval ? scratch : eval) + nk + 3) + 17 * (uint64_t)n;
}

static int64_t count_inputs(int k, int lo, int hi)
{
    /* Pascal's rule in doubles is exact up to 2^53; the callers only size memory. */
    double n = 0;
    for (int h = lo; h <= hi; h++) {
        double c = 1;
        for (int i = 1; i <= h; i++)
            c = c * (k - h + i) / i;
        n += c;
    }
    return n > 9e18 ? INT64_MAX : (int64_t)llround(n);
}

uint64_t sb_ntk_ens_bytes(const sb_ntk_ens_cfg *cfg, int nranks, int64_t count, bool rank0)
{
    if (!cfg || cfg->train.k < 2 || cfg->train.k > 62 || cfg->min_weight < 1 ||
        cfg->max_weight > cfg->train.k || cfg->min_weight > cfg->max_weight || nranks < 1)
        return 0;
    const int k = cfg->train.k;
    int64_t n = count_inputs(k, cfg->min_weight, cfg->max_weight);
    uint64_t b = local_bytes(k, cfg->train.width, n);
    if (rank0) {
        uint64_t nk = (uint64_t)n * (uint64_t)k;
        uint64_t round = (uint64_t)imin(count > 0 ? count : 1, nranks);
        b += 8 * ((2 + (uint64_t)cfg->nM) * nk + round * (nk + 3)) + sizeof(fold_ints);
    }
    return b;
}

static void ens_free_arrays(sb_ntk_ens *e)
{
    sb_ntk_inputs_free(&e->in);
    sb_ntk_net_free(&e->net);
    free(e->target);
    free(e->mine);
    free(e->sum);
    free(e->gathered);
}

static void targets(sb_ntk_ens *e)
{
    for (int64_t i = 0; i < e->in.n; i++) {
        uint64_t t = 0, m = e->in.mask[i];
        for (int b = 0; b < e->in.k; b++)
            if (m >> b & 1)
                t |= (uint64_t)1 << e->perm[b];
        e->target[i] = t;
        e->n_w[e->in.weight[i] - 1]++;
    }
}

static void fold_reset(sb_ntk_ens *e)
{
    memset(&e->fi, 0, sizeof e->fi);
    for (int h = 0; h < 64; h++)
        e->fi.size90[h] = -1;
    if (e->sum)
        memset(e->sum, 0, (2 + (size_t)e->cfg.nM) * e->nk * sizeof(double));
}

static int ens_alloc(sb_ntk_ens *e)
{
    const sb_ntk_ens_cfg *c = &e->cfg;
    int rc = sb_ntk_inputs_build(&e->in, c->train.k, c->min_weight, c->max_weight);
    if (!rc && (uint64_t)e->in.n * (uint64_t)c->train.k + 3 > (uint64_t)INT32_MAX)
        rc = SB_ELIMIT; /* one member's row is one MPI element of nk + 3 doubles */
    if (!rc)
        rc = sb_ntk_net_alloc(&e->net, &c->train);
    if (rc)
        return rc;
    e->nk = (size_t)e->in.n * (size_t)c->train.k;
    e->target = malloc((size_t)e->in.n * sizeof *e->target);
    e->mine = malloc((e->nk + 3) * sizeof(double));
    if (!e->target || !e->mine)
        return SB_ENOMEM;
    if (e->ctx->rank == 0) {
        e->sum = malloc((2 + (size_t)c->nM) * e->nk * sizeof(double));
        e->gathered = malloc((size_t)e->ctx->size * (e->nk + 3) * sizeof(double));
        if (!e->sum || !e->gathered)
            return SB_ENOMEM;
        e->sumsq = e->sum + e->nk;
        e->gsum = e->sum + 2 * e->nk;
    }
    targets(e);
    fold_reset(e);
    return 0;
}

int sb_ntk_ens_create(sb_ntk_ens **out, const sb_ntk_ens_cfg *cfg, const sb_ctx *ctx)
{
    if (!out || !ctx)
        return SB_EINPUT;
    *out = NULL;
    int rc = cfg_check(cfg);
    sb_ntk_ens *e = rc ? NULL : calloc(1, sizeof *e);
    if (!rc && !e)
        rc = SB_ENOMEM;
    if (e) {
        e->ctx = ctx;
        e->cfg = *cfg;
        memcpy(e->perm, cfg->train.perm, (size_t)cfg->train.k * sizeof(int));
        e->cfg.train.perm = e->perm;
        if (cfg->nM)
            memcpy(e->M, cfg->M, (size_t)cfg->nM * sizeof(int64_t));
        e->cfg.M = e->M;
        e->row = MPI_DATATYPE_NULL;
        rc = ens_alloc(e);
    }
    if (!rc && (MPI_Type_contiguous((int)(e->nk + 3), MPI_DOUBLE, &e->row) != MPI_SUCCESS ||
                MPI_Type_commit(&e->row) != MPI_SUCCESS))
        rc = SB_EMPI;
    rc = sb_ctx_agree(ctx, rc);
    if (rc) {
        sb_ntk_ens_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

void sb_ntk_ens_free(sb_ntk_ens *e)
{
    if (!e)
        return;
    if (e->row != MPI_DATATYPE_NULL)
        MPI_Type_free(&e->row);
    ens_free_arrays(e);
    free(e);
}

int64_t sb_ntk_ens_done(const sb_ntk_ens *e)
{
    return e ? e->done : 0;
}

/* ---- folding (rank 0) ------------------------------------------------------------------- */

/* Whether the ensemble mean sum / count rounds to P x on input i (ntk.md: bit = mean > eps). */
static bool exact_at(const sb_ntk_ens *e, const double *sum, double count, int64_t i)
{
    const int k = e->in.k;
    const double *s = sum + (size_t)i * k;
    uint64_t bits = 0;
    for (int c = 0; c < k; c++)
        if (s[c] / count > SB_NTK_ROUND_EPS)
            bits |= (uint64_t)1 << c;
    return bits == e->target[i];
}

/* Exact inputs of the ensemble sum / count, overall and per weight (by_w at h - 1). */
static int64_t count_exact(const sb_ntk_ens *e, const double *sum, double count, int64_t *by_w)
{
    int64_t all = 0;
    for (int64_t i = 0; i < e->in.n; i++)
        if (exact_at(e, sum, count, i)) {
            all++;
            by_w[e->in.weight[i] - 1]++;
        }
    return all;
}

/* The prefix ensemble of `members` members: the first size that reaches 90% per weight. */
static void check_size90(sb_ntk_ens *e, int64_t members)
{
    int open = 0;
    for (int h = 0; h < e->in.k; h++)
        open += e->n_w[h] > 0 && e->fi.size90[h] < 0;
    if (!open)
        return;
    int64_t by_w[64] = {0};
    count_exact(e, e->sum, (double)members, by_w);
    for (int h = 0; h < e->in.k; h++)
        if (e->n_w[h] > 0 && e->fi.size90[h] < 0 && 10 * by_w[h] >= 9 * e->n_w[h])
            e->fi.size90[h] = members;
}

static void close_group(sb_ntk_ens *e, int g)
{
    double *gs = e->gsum + (size_t)g * e->nk;
    int64_t by_w[64] = {0};
    int64_t exact = count_exact(e, gs, (double)e->M[g], by_w);
    fold_ints *f = &e->fi;
    f->groups[g]++;
    f->exact[g] += exact;
    f->all_exact[g] += exact == e->in.n;
    for (int h = 0; h < e->in.k; h++)
        f->exact_w[g][h] += by_w[h];
    f->open[g] = 0;
    memset(gs, 0, e->nk * sizeof(double));
}

/* Folds member `member` (outputs y, then epochs, loss, converged). */
static void fold_one(sb_ntk_ens *e, const double *y, int64_t member)
{
    const size_t nk = e->nk;
    for (size_t a = 0; a < nk; a++) {
        e->sum[a] += y[a];
        e->sumsq[a] += y[a] * y[a];
    }
    for (int g = 0; g < e->cfg.nM; g++) {
        double *gs = e->gsum + (size_t)g * nk;
        for (size_t a = 0; a < nk; a++)
            gs[a] += y[a];
        if (++e->fi.open[g] == e->M[g])
            close_group(e, g);
    }
    check_size90(e, member + 1);
    e->fi.epochs += (int64_t)y[nk];
    if (!isnan(e->fi.loss_max) && !(y[nk + 1] <= e->fi.loss_max)) /* a NaN loss sticks */
        e->fi.loss_max = y[nk + 1];
    e->fi.not_converged += y[nk + 2] == 0.0;
}

/* ---- advancing -------------------------------------------------------------------------- */

static int run_member(sb_ntk_ens *e, int64_t member, sb_step *step)
{
    sb_ntk_fit fit;
    double t0 = sb_now();
    int rc = sb_ntk_member_train(&e->cfg.train, member, &e->net, &fit);
    double t1 = sb_now();
    if (!rc)
        rc = sb_ntk_net_eval(&e->net, &e->in, e->mine);
    if (step) {
        sb_step_time(step, "train", t1 - t0);
        sb_step_time(step, "eval", sb_now() - t1);
    }
    e->mine[e->nk] = (double)fit.epochs;
    e->mine[e->nk + 1] = fit.loss;
    e->mine[e->nk + 2] = fit.converged ? 1.0 : 0.0;
    return rc;
}

/* One round: members [base, base + cnt), cnt <= size, member base + r on rank r. */
static int round_run(sb_ntk_ens *e, int64_t base, int cnt, sb_step *step)
{
    const sb_ctx *ctx = e->ctx;
    const bool have = ctx->rank < cnt;
    int rc = have ? run_member(e, base + ctx->rank, step) : 0;
    rc = sb_ctx_agree(ctx, rc);
    if (rc)
        return rc;
    int *counts = NULL, *displs = NULL;
    if (ctx->rank == 0) {
        counts = malloc(2 * (size_t)ctx->size * sizeof(int));
        if (!counts)
            rc = SB_ENOMEM;
        else {
            displs = counts + ctx->size;
            for (int r = 0; r < ctx->size; r++) {
                counts[r] = r < cnt;
                displs[r] = r;
            }
        }
    }
    rc = sb_ctx_agree(ctx, rc);
    if (!rc && MPI_Gatherv(e->mine, have ? 1 : 0, e->row, e->gathered, counts, displs, e->row, 0,
                           ctx->comm) != MPI_SUCCESS)
        rc = SB_EMPI;
    free(counts);
    if (!rc && ctx->rank == 0) {
        double t = sb_now();
        for (int r = 0; r < cnt; r++)
            fold_one(e, e->gathered + (size_t)r * (e->nk + 3), base + r);
        if (step)
            sb_step_time(step, "fold", sb_now() - t);
    }
    return rc;
}

int sb_ntk_ens_advance(sb_ntk_ens *e, int64_t count, sb_step *step)
{
    if (!e)
        return SB_EINPUT;
    if (count < 0 || count > e->cfg.members - e->done)
        return SB_EINPUT;
    const int64_t end = e->done + count;
    while (e->done < end) {
        int cnt = (int)imin(end - e->done, e->ctx->size);
        int rc = round_run(e, e->done, cnt, step);
        if (rc)
            return rc;
        e->done += cnt;
    }
    return 0;
}

/* ---- results ---------------------------------------------------------------------------- */

static void result_free_arrays(sb_ntk_ens_result *r)
{
    free(r->M);
    free(r->accuracy);
    free(r->size90_by_weight);
}

/* Mean and pooled variance per weight and target, from sum and sumsq (rank 0). */
static void moments(const sb_ntk_ens *e, double members, double *mean, double *var)
{
    const int k = e->in.k;
    double s[64][2] = {{0}}, v[64][2] = {{0}};
    int64_t cnt[64][2] = {{0}};
    for (int64_t i = 0; i < e->in.n; i++) {
        int h = e->in.weight[i] - 1;
        for (int c = 0; c < k; c++) {
            size_t a = (size_t)i * k + c;
            int t = (e->target[i] >> c & 1) ? 0 : 1;
            s[h][t] += e->sum[a];
            v[h][t] += (e->sumsq[a] - e->sum[a] * e->sum[a] / members) / (members - 1);
            cnt[h][t]++;
        }
    }
    for (int h = 0; h < k; h++)
        for (int t = 0; t < 2; t++) {
            mean[h * 2 + t] = cnt[h][t] && members > 0 ? s[h][t] / (members * cnt[h][t]) : NAN;
            var[h * 2 + t] = cnt[h][t] && members > 1 ? v[h][t] / cnt[h][t] : NAN;
        }
}

static void result_fill(const sb_ntk_ens *e, sb_ntk_ens_result *r)
{
    const int k = e->in.k, nM = e->cfg.nM;
    const fold_ints *f = &e->fi;
    for (int g = 0; g < nM; g++) {
        double groups = (double)f->groups[g];
        r->groups[g] = f->groups[g];
        r->accuracy[g] = groups > 0 ? (double)f->exact[g] / (groups * (double)e->in.n) : NAN;
        r->p_all_exact[g] = groups > 0 ? (double)f->all_exact[g] / groups : NAN;
        for (int h = 0; h < k; h++)
            r->accuracy_by_weight[g * k + h] =
                groups > 0 && e->n_w[h] ? (double)f->exact_w[g][h] / (groups * e->n_w[h]) : NAN;
    }
    moments(e, (double)e->done, r->mean_by_weight, r->variance_by_weight);
    memcpy(r->size90_by_weight, f->size90, (size_t)k * sizeof(int64_t));
    r->epochs_mean = e->done ? (double)f->epochs / (double)e->done : NAN;
    r->loss_max = f->loss_max;
    r->not_converged = f->not_converged;
}

int sb_ntk_ens_result_get(const sb_ntk_ens *e, sb_ntk_ens_result *out)
{
    if (!e || !out)
        return SB_EINPUT;
    memset(out, 0, sizeof *out);
    const int k = e->in.k, nM = e->cfg.nM;
    /* Doubles: accuracy, p_all_exact (nM each), accuracy_by_weight (nM k), mean and variance
     * (2k each), epochs_mean, loss_max; integers: M, groups (nM each), size90 (k),
     * not_converged. */
    size_t nd = 2 * (size_t)nM + (size_t)nM * k + 4 * (size_t)k + 2;
    out->M = malloc((2 * (size_t)nM + 1) * sizeof(int64_t));
    out->accuracy = malloc(nd * sizeof(double));
    out->size90_by_weight = malloc(((size_t)k + 1) * sizeof(int64_t));
    int rc = out->M && out->accuracy && out->size90_by_weight ? 0 : SB_ENOMEM;
    rc = sb_ctx_agree(e->ctx, rc);
    if (rc) {
        result_free_arrays(out);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->k = k;
    out->nM = nM;
    out->members = e->done;
    out->groups = out->M + nM;
    out->p_all_exact = out->accuracy + nM;
    out->accuracy_by_weight = out->p_all_exact + nM;
    out->mean_by_weight = out->accuracy_by_weight + (size_t)nM * k;
    out->variance_by_weight = out->mean_by_weight + 2 * (size_t)k;
    if (nM)
        memcpy(out->M, e->M, (size_t)nM * sizeof(int64_t));
    if (e->ctx->rank == 0)
        result_fill(e, out);
    /* Every rank gets rank 0's numbers: doubles (with epochs_mean and loss_max after the
     * variances) and integers (groups, size90, not_converged) broadcast as two blocks. */
    double *d = out->accuracy;
    d[nd - 2] = out->epochs_mean;
    d[nd - 1] = out->loss_max;
    int64_t ints[2 * NM_MAX + 65];
    if (nM)
        memcpy(ints, out->groups, (size_t)nM * sizeof(int64_t));
    memcpy(ints + nM, out->size90_by_weight, (size_t)k * sizeof(int64_t));
    ints[nM + k] = out->not_converged;
    if (MPI_Bcast(d, (int)nd, MPI_DOUBLE, 0, e->ctx->comm) != MPI_SUCCESS ||
        MPI_Bcast(ints, nM + k + 1, MPI_INT64_T, 0, e->ctx->comm) != MPI_SUCCESS)
        rc = SB_EMPI;
    rc = sb_ctx_agree(e->ctx, rc);
    if (rc) {
        sb_ntk_ens_result_free(out);
        return rc;
    }
    out->epochs_mean = d[nd - 2];
    out->loss_max = d[nd - 1];
    if (nM)
        memcpy(out->groups, ints, (size_t)nM * sizeof(int64_t));
    memcpy(out->size90_by_weight, ints + nM, (size_t)k * sizeof(int64_t));
    out->not_converged = ints[nM + k];
    return 0;
}

void sb_ntk_ens_result_free(sb_ntk_ens_result *r)
{
    if (!r)
        return;
    result_free_arrays(r);
    memset(r, 0, sizeof *r);
}

/* ---- checkpoints ------------------------------------------------------------------------ */

/* /ntk_ens/shape: what the state's arrays depend on, compared on load. */
enum { SH_K, SH_N, SH_MINW, SH_MAXW, SH_NM, SH_DONE, SH_COUNT };

static void shape_of(const sb_ntk_ens *e, uint64_t *sh)
{
    sh[SH_K] = (uint64_t)e->in.k;
    sh[SH_N] = (uint64_t)e->in.n;
    sh[SH_MINW] = (uint64_t)e->cfg.min_weight;
    sh[SH_MAXW] = (uint64_t)e->cfg.max_weight;
    sh[SH_NM] = (uint64_t)e->cfg.nM;
    sh[SH_DONE] = (uint64_t)e->done;
    for (int g = 0; g < e->cfg.nM; g++)
        sh[SH_COUNT + g] = (uint64_t)e->M[g];
}

int sb_ntk_ens_save(const sb_ntk_ens *e, sb_ckpt *ck)
{
    if (!e || !ck)
        return SB_EINPUT;
    const bool root = e->ctx->rank == 0;
    const uint64_t nsh = SH_COUNT + (uint64_t)e->cfg.nM, nfi = sizeof(fold_ints) / 8;
    const uint64_t nsum = (2 + (uint64_t)e->cfg.nM) * e->nk;
    uint64_t sh[SH_COUNT + NM_MAX];
    shape_of(e, sh);
    int rc = sb_ckpt_put_str(ck, "ntk_ens.encoding",
                             "/ntk_ens/shape: k, inputs, min_weight, max_weight, nM, members "
                             "done, M[nM]; /ntk_ens/fold: open, groups, exact, all_exact [64 "
                             "each], exact_by_weight [64 x 64], size90 [64], epochs, not "
                             "converged, loss_max (f64 bits); /ntk_ens/sums: sum, sum of "
                             "squares, open group sums, each inputs x k");
    if (!rc)
        rc = sb_ckpt_write(ck, "/ntk_ens/shape", SB_CKPT_U64, nsh, 0, root ? nsh : 0, sh);
    if (!rc)
        rc = sb_ckpt_write(ck, "/ntk_ens/fold", SB_CKPT_U64, nfi, 0, root ? nfi : 0, &e->fi);
    if (!rc)
        rc = sb_ckpt_write(ck, "/ntk_ens/sums", SB_CKPT_F64, nsum, 0, root ? nsum : 0, e->sum);
    return rc;
}

static int expect_length(sb_ckpt *ck, const char *name, sb_ckpt_type type, uint64_t want)
{
    bool exists = false;
    uint64_t total = 0;
    int rc = sb_ckpt_length(ck, name, type, &exists, &total);
    if (!rc && (!exists || total != want))
        rc = SB_ECKPT;
    return rc;
}

int sb_ntk_ens_load(sb_ntk_ens *e, sb_ckpt *ck)
{
    if (!e || !ck)
        return SB_EINPUT;
    const bool root = e->ctx->rank == 0;
    const uint64_t nsh = SH_COUNT + (uint64_t)e->cfg.nM, nfi = sizeof(fold_ints) / 8;
    const uint64_t nsum = (2 + (uint64_t)e->cfg.nM) * e->nk;
    uint64_t sh[SH_COUNT + NM_MAX], mine[SH_COUNT + NM_MAX];
    int rc = expect_length(ck, "/ntk_ens/shape", SB_CKPT_U64, nsh);
    if (!rc)
        rc = sb_ckpt_read(ck, "/ntk_ens/shape", SB_CKPT_U64, 0, nsh, sh);
    if (!rc) {
        shape_of(e, mine);
        mine[SH_DONE] = sh[SH_DONE];
        if (memcmp(sh, mine, nsh * sizeof *sh) != 0 || sh[SH_DONE] > (uint64_t)e->cfg.members)
            rc = SB_ECKPT;
        if (rc && root)
            fprintf(ck->ctx->err,
                    "symbatch: %s: the ntk ensemble's shape (k, inputs, weights, "
                    "ensemble sizes) differs from this job's\n",
                    ck->path);
    }
    if (!rc)
        rc = expect_length(ck, "/ntk_ens/fold", SB_CKPT_U64, nfi);
    if (!rc)
        rc = expect_length(ck, "/ntk_ens/sums", SB_CKPT_F64, nsum);
    /* Read aside, so that a failed load leaves the ensemble as it was. */
    fold_ints fi;
    double *sums = NULL;
    if (!rc && root) {
        sums = malloc(nsum * sizeof(double));
        rc = sums ? 0 : SB_ENOMEM;
    }
    rc = sb_ctx_agree(e->ctx, rc);
    if (!rc)
        rc = sb_ckpt_read(ck, "/ntk_ens/fold", SB_CKPT_U64, 0, root ? nfi : 0, &fi);
    if (!rc)
        rc = sb_ckpt_read(ck, "/ntk_ens/sums", SB_CKPT_F64, 0, root ? nsum : 0, sums);
    if (!rc) {
        e->done = (int64_t)sh[SH_DONE];
        if (root) {
            e->fi = fi;
            memcpy(e->sum, sums, nsum * sizeof(double));
        }
    }
    free(sums);
    return rc;
}
