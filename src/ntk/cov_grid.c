/* The grid, block-cyclic matrix and covariance fill under the ntk covariance (blacs.h). */
#include "ntk/blacs.h"

#include "symbatch/error.h"
#include "symbatch/matrix.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_ntk__grid_open(const sb_ctx *ctx, int nprow, int npcol, sb_ntk_grid *g)
{
    g->handle = Csys2blacs_handle(ctx->comm);
    g->context = g->handle;
    g->nprow = nprow;
    g->npcol = npcol;
    g->myrow = g->mycol = -1;
    Cblacs_gridinit(&g->context, "Row", nprow, npcol);
    if (g->context >= 0) {
        int r, c;
        Cblacs_gridinfo(g->context, &r, &c, &g->myrow, &g->mycol);
    }
}

void sb_ntk__grid_close(sb_ntk_grid *g)
{
    if (g->context >= 0)
        Cblacs_gridexit(g->context);
    Cfree_blacs_system_handle(g->handle);
    g->context = -1;
}

uint64_t sb_ntk__dmat_bytes(int64_t m, int64_t n, int nb, int myrow, int mycol, int nprow,
                            int npcol)
{
    if (myrow < 0 || mycol < 0)
        return 0;
    int64_t mloc = sb_numroc(m, nb, myrow, 0, nprow), nloc = sb_numroc(n, nb, mycol, 0, npcol);
    return (uint64_t)(mloc > 1 ? mloc : 1) * (uint64_t)(nloc > 1 ? nloc : 1) * sizeof(double);
}

static int describe(const sb_ntk_grid *g, sb_ntk_dmat *d, char *why, size_t size)
{
    int zero = 0, info = 0;
    descinit_(d->desc, &d->m, &d->n, &d->nb, &d->nb, &zero, &zero, &g->context, &d->lld, &info);
    if (info != 0) {
        snprintf(why, size, "descinit failed with info = %d for a %d x %d matrix in %d blocks",
                 info, d->m, d->n, d->nb);
        return SB_EINTERNAL;
    }
    return 0;
}

int sb_ntk__dmat_alloc(const sb_ntk_grid *g, int m, int n, int nb, sb_ntk_dmat *d, char *why,
                       size_t size)
{
    memset(d, 0, sizeof *d);
    d->m = m;
    d->n = n;
    d->nb = nb;
    d->lld = 1;
    if (!sb_ntk__in_grid(g))
        return 0;
    d->mloc = (int)sb_numroc(m, nb, g->myrow, 0, g->nprow);
    d->nloc = (int)sb_numroc(n, nb, g->mycol, 0, g->npcol);
    d->lld = d->mloc > 1 ? d->mloc : 1;
    uint64_t bytes = sb_ntk__dmat_bytes(m, n, nb, g->myrow, g->mycol, g->nprow, g->npcol);
    d->a = bytes <= SIZE_MAX ? malloc((size_t)bytes) : NULL;
    if (!d->a) {
        snprintf(why, size, "out of memory: %.3g GB for a %d x %d block of a %d x %d matrix",
                 (double)bytes / 1e9, d->mloc, d->nloc, m, n);
        return SB_ENOMEM;
    }
    int rc = describe(g, d, why, size);
    if (rc != 0)
        sb_ntk__dmat_free(d);
    return rc;
}

void sb_ntk__dmat_free(sb_ntk_dmat *d)
{
    free(d->a);
    d->a = NULL;
}

int sb_ntk__dmat_narrow(const sb_ntk_grid *g, sb_ntk_dmat *d, int n, char *why, size_t size)
{
    d->n = n;
    if (!sb_ntk__in_grid(g))
        return 0;
    d->nloc = (int)sb_numroc(n, d->nb, g->mycol, 0, g->npcol);
    return describe(g, d, why, size);
}

/* ---- the inputs and the entries -------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* C(k, h), or 0 when it exceeds INT_MAX (too many inputs for ScaLAPACK anyway). */
static int64_t binomial_small(int k, int h)
{
    int64_t c = 1;
    for (int i = 1; i <= h; i++) {
        c = c * (k - h + i) / i; /* exact: c * (k - h + i) is i times C(k - h + i, i) */
        if (c > INT_MAX)
            return 0;
    }
    return c;
}

int sb_ntk__masks(int k, int lo, int hi, uint64_t **masks, int64_t *n)
{
    if (k < 1 || k > 64 || lo < 1 || hi > k || lo > hi)
        return SB_EINPUT;
    int64_t total = 0;
    for (int h = lo; h <= hi; h++) {
        int64_t c = binomial_small(k, h);
        if (c == 0 || (total += c) > INT_MAX)
            return SB_EINPUT;
    }
    uint64_t *m = malloc((size_t)total * sizeof *m);
    if (!m)
        return SB_ENOMEM;
    int64_t i = 0;
    for (int h = lo; h <= hi; h++) {
        /* Gosper's hack: the next larger mask of the same weight, C(k, h) of them. */
        uint64_t x = h == 64 ? ~0ULL : (1ULL << h) - 1;
        for (int64_t c = binomial_small(k, h); c > 0; c--) {
            m[i++] = x;
            if (c > 1) {
                uint64_t low = x & -x, r = x + low;
                x = (((r ^ x) >> 2) / low) | r;
            }
        }
    }
    qsort(m, (size_t)total, sizeof *m, cmp_u64);
    *masks = m;
    *n = total;
    return 0;
}

int sb_ntk__cov_table(const sb_ntk_gp *gp, int lo, int hi, double **table)
{
    int k = gp->k, w = k + 1;
    double *t = calloc((size_t)w * w * w, sizeof *t);
    if (!t)
        return SB_ENOMEM;
    int rc = 0;
    /* Computed once per unordered pair: the closed form is symmetric only up to rounding, and
     * the matrix should be exactly symmetric. */
    for (int h = lo; h <= hi && rc == 0; h++)
        for (int h2 = h; h2 <= hi && rc == 0; h2++) {
            int tmin = h + h2 - k > 0 ? h + h2 - k : 0, tmax = h < h2 ? h : h2;
            for (int s = tmin; s <= tmax && rc == 0; s++) {
                rc = sb_ntk_joint_cov(gp, h, h2, s, &t[((size_t)h * w + h2) * w + s]);
                t[((size_t)h2 * w + h) * w + s] = t[((size_t)h * w + h2) * w + s];
            }
        }
    if (rc != 0) {
        free(t);
        return rc;
    }
    *table = t;
    return 0;
}

void sb_ntk__cov_fill(int k, const uint64_t *masks, const double *table, const sb_ntk_grid *g,
                      sb_ntk_dmat *d)
{
    if (!sb_ntk__in_grid(g))
        return;
    size_t w = (size_t)k + 1;
    for (int lj = 0; lj < d->nloc; lj++) {
        uint64_t mj = masks[sb_ntk__l2g(lj, d->nb, g->mycol, g->npcol)];
        const double *tj = table + (size_t)__builtin_popcountll(mj) * w;
        double *col = d->a + (size_t)lj * d->lld;
        for (int li = 0; li < d->mloc; li++) {
            uint64_t mi = masks[sb_ntk__l2g(li, d->nb, g->myrow, g->nprow)];
            col[li] = tj[(size_t)__builtin_popcountll(mi) * w * w +
                         (size_t)__builtin_popcountll(mi & mj)];
        }
    }
}

/* ---- gather (tests) -------------------------------------------------------------------------- */

/* Rank 0: places rank r's packed (column-major, mloc x nloc) part into the row-major matrix. */
static void place(const sb_ntk_dmat *d, const int *info, const double *part, double *full)
{
    int row = info[0], col = info[1], mloc = info[2], nloc = info[3];
    for (int lj = 0; lj < nloc; lj++) {
        int64_t j = sb_ntk__l2g(lj, d->nb, col, info[5]);
        for (int li = 0; li < mloc; li++)
            full[sb_ntk__l2g(li, d->nb, row, info[4]) * d->n + j] = part[(size_t)lj * mloc + li];
    }
}

int sb_ntk__dmat_gather(const sb_ctx *ctx, const sb_ntk_grid *g, const sb_ntk_dmat *d, double *full)
{
    int in = sb_ntk__in_grid(g);
    int mine[6] = {g->myrow, g->mycol, in ? d->mloc : 0, in ? d->nloc : 0, g->nprow, g->npcol};
    int64_t cnt = (int64_t)mine[2] * mine[3], total = 0;
    int p = ctx->size, err = (int64_t)d->m * d->n > INT_MAX ? SB_ELIMIT : 0;
    double *packed = malloc((size_t)(cnt > 0 ? cnt : 1) * sizeof *packed);
    int *infos = ctx->rank == 0 ? malloc((size_t)p * 6 * sizeof *infos) : NULL;
    int *counts = ctx->rank == 0 ? malloc((size_t)p * 2 * sizeof *counts) : NULL;
    double *all = ctx->rank == 0 ? malloc(((size_t)d->m * d->n + 1) * sizeof *all) : NULL;
    if (!packed || (ctx->rank == 0 && (!infos || !counts || !all)))
        err = SB_ENOMEM;
    err = sb_ctx_agree_report(ctx, err, NULL);
    if (err == 0) {
        for (int lj = 0; lj < mine[3]; lj++)
            memcpy(packed + (size_t)lj * mine[2], d->a + (size_t)lj * d->lld,
                   (size_t)mine[2] * sizeof *packed);
        int c = (int)cnt;
        if (MPI_Gather(mine, 6, MPI_INT, infos, 6, MPI_INT, 0, ctx->comm) != MPI_SUCCESS ||
            MPI_Gather(&c, 1, MPI_INT, counts, 1, MPI_INT, 0, ctx->comm) != MPI_SUCCESS)
            err = SB_EMPI;
        if (err == 0 && ctx->rank == 0)
            for (int r = 0; r < p; r++) {
                counts[p + r] = (int)total; /* displacements */
                total += counts[r];
            }
        if (err == 0 && MPI_Gatherv(packed, c, MPI_DOUBLE, all, counts, counts + p, MPI_DOUBLE, 0,
                                    ctx->comm) != MPI_SUCCESS)
            err = SB_EMPI;
        if (err == 0 && ctx->rank == 0)
            for (int r = 0; r < p; r++)
                if (infos[6 * r] >= 0)
                    place(d, infos + 6 * r, all + counts[p + r], full);
        err = sb_ctx_agree_report(ctx, err, NULL);
    }
    free(packed);
    free(infos);
    free(counts);
    free(all);
    return err;
}
