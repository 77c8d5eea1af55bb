#include "growth/lastlayer.h"

#include "symbatch/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int sb_topk_init(sb_topk *t, uint64_t k, int m)
{
    memset(t, 0, sizeof *t);
    t->k = k;
    t->m = m;
    t->rows = malloc((k ? k : 1) * (size_t)m);
    t->scratch = malloc((size_t)m);
    if (!t->rows || !t->scratch) {
        sb_topk_free(t);
        return SB_ENOMEM;
    }
    return 0;
}

void sb_topk_free(sb_topk *t)
{
    free(t->rows);
    free(t->scratch);
    memset(t, 0, sizeof *t);
}

static uint8_t *row_at(const sb_topk *t, uint64_t i)
{
    return t->rows + i * (size_t)t->m;
}

static void swap_rows(sb_topk *t, uint64_t a, uint64_t b)
{
    memcpy(t->scratch, row_at(t, a), (size_t)t->m);
    memcpy(row_at(t, a), row_at(t, b), (size_t)t->m);
    memcpy(row_at(t, b), t->scratch, (size_t)t->m);
}

static void sift_up(sb_topk *t, uint64_t i)
{
    while (i > 0) {
        uint64_t p = (i - 1) / 2;
        if (memcmp(row_at(t, p), row_at(t, i), (size_t)t->m) >= 0)
            break;
        swap_rows(t, p, i);
        i = p;
    }
}

static void sift_down(sb_topk *t, uint64_t i)
{
    for (;;) {
        uint64_t l = 2 * i + 1, r = l + 1, big = i;
        if (l < t->n && memcmp(row_at(t, l), row_at(t, big), (size_t)t->m) > 0)
            big = l;
        if (r < t->n && memcmp(row_at(t, r), row_at(t, big), (size_t)t->m) > 0)
            big = r;
        if (big == i)
            return;
        swap_rows(t, i, big);
        i = big;
    }
}

void sb_topk_offer(sb_topk *t, const uint8_t *row)
{
    if (t->k == 0)
        return;
    if (t->n < t->k) {
        memcpy(row_at(t, t->n), row, (size_t)t->m);
        sift_up(t, t->n++);
        return;
    }
    if (memcmp(row, row_at(t, 0), (size_t)t->m) >= 0)
        return;
    memcpy(row_at(t, 0), row, (size_t)t->m);
    sift_down(t, 0);
}

/* Heap sort of the kept rows into ascending order (in place: pop the largest to the end). */
static void topk_sort(sb_topk *t)
{
    uint64_t n = t->n;
    while (t->n > 1) {
        swap_rows(t, 0, t->n - 1);
        t->n--;
        sift_down(t, 0);
    }
    t->n = n;
}

int sb_topk_gather(sb_topk *t, const sb_ctx *ctx, uint8_t **rows, uint64_t *nrows)
{
    *rows = NULL;
    *nrows = 0;
    const size_t m = (size_t)t->m;
    int err = 0;
    /* K rows per rank must fit int counts in the gather. */
    if (t->k * m * (uint64_t)ctx->size > (uint64_t)INT_MAX)
        err = SB_ELIMIT;
    err = sb_ctx_agree(ctx, err);
    if (err)
        return err;
    int mine = (int)(t->n * m);
    int *counts = NULL, *displs = NULL;
    uint8_t *all = NULL;
    int total = 0;
    if (ctx->rank == 0) {
        counts = calloc((size_t)ctx->size, sizeof *counts);
        displs = calloc((size_t)ctx->size, sizeof *displs);
        if (!counts || !displs)
            err = SB_ENOMEM;
    }
    err = sb_ctx_agree(ctx, err);
    if (err)
        goto done;
    /* A failed collective fails on every rank that takes part: no agreement needed. */
    if (MPI_Gather(&mine, 1, MPI_INT, counts, 1, MPI_INT, 0, ctx->comm) != MPI_SUCCESS) {
        err = SB_EMPI;
        goto done;
    }
    if (ctx->rank == 0) {
        for (int r = 0; r < ctx->size; r++) {
            displs[r] = total;
            total += counts[r];
        }
        all = malloc(total ? (size_t)total : 1);
        if (!all)
            err = SB_ENOMEM;
    }
    err = sb_ctx_agree(ctx, err);
    if (err)
        goto done;
    int rc = MPI_Gatherv(t->rows, mine, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, ctx->comm);
    uint64_t keep = 0;
    if (rc != MPI_SUCCESS)
        err = SB_EMPI;
    if (ctx->rank == 0 && !err) {
        sb_topk best;
        err = sb_topk_init(&best, t->k, t->m);
        if (!err) {
            for (uint64_t i = 0; i < (uint64_t)total / m; i++)
                sb_topk_offer(&best, all + i * m);
            topk_sort(&best);
            keep = best.n;
            *rows = best.rows;
            best.rows = NULL;
            sb_topk_free(&best);
        }
    }
    err = sb_ctx_agree(ctx, err);
    if (err)
        goto done;
    if (MPI_Bcast(&keep, 1, MPI_UINT64_T, 0, ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    else
        *nrows = keep;
done:
    free(all);
    free(counts);
    free(displs);
    return err;
}
