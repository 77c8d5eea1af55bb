/* The batched all-to-all exchange (see comm.h).  Graph500's redistribute in four steps: count
 * per destination, MPI_Alltoall of the counts, prefix sums, MPI_Alltoallv of the payload. */
#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The high bit of each exchanged count carries the sender's "more" flag. */
#define MORE_FLAG (1ULL << 63)

int sb_xchg_create(sb_xchg **out, const sb_ctx *ctx, size_t item_size, size_t capacity_items)
{
    *out = NULL;
    if (item_size == 0 || capacity_items == 0)
        return SB_EINTERNAL;
    /* Alltoallv counts and displacements are ints in bytes: keep one round below 2 GiB. */
    if (capacity_items > (size_t)INT_MAX / item_size)
        capacity_items = (size_t)INT_MAX / item_size;
    sb_xchg *x = calloc(1, sizeof *x);
    if (!x)
        return SB_ENOMEM;
    size_t p = (size_t)ctx->size;
    x->ctx = ctx;
    x->item_size = item_size;
    x->capacity = capacity_items;
    x->stage = malloc(capacity_items * item_size);
    x->stage_dest = malloc(capacity_items * sizeof *x->stage_dest);
    x->sendbuf = malloc(capacity_items * item_size);
    x->recv_cap = capacity_items;
    x->recvbuf = malloc(capacity_items * item_size);
    x->sendcounts = calloc(p, sizeof(int));
    x->sdispls = calloc(p, sizeof(int));
    x->recvcounts = calloc(p, sizeof(int));
    x->rdispls = calloc(p, sizeof(int));
    x->counts_out = calloc(p, sizeof(uint64_t));
    x->counts_in = calloc(p, sizeof(uint64_t));
    if (!x->stage || !x->stage_dest || !x->sendbuf || !x->recvbuf || !x->sendcounts ||
        !x->sdispls || !x->recvcounts || !x->rdispls || !x->counts_out || !x->counts_in) {
        sb_xchg_destroy(x);
        return SB_ENOMEM;
    }
    *out = x;
    return SB_OK;
}

void sb_xchg_destroy(sb_xchg *x)
{
    if (!x)
        return;
    free(x->stage);
    free(x->stage_dest);
    free(x->sendbuf);
    free(x->recvbuf);
    free(x->sendcounts);
    free(x->sdispls);
    free(x->recvcounts);
    free(x->rdispls);
    free(x->counts_out);
    free(x->counts_in);
    free(x);
}

sb_xchg_stats sb_xchg_get_stats(const sb_xchg *x)
{
    return x->stats;
}

/* Counting sort of the staged items by destination into sendbuf. */
static void pack_by_destination(sb_xchg *x)
{
    const int p = x->ctx->size;
    for (int r = 0; r < p; r++)
        x->counts_out[r] = 0;
    for (size_t i = 0; i < x->staged; i++)
        x->counts_out[x->stage_dest[i]]++;
    size_t offset = 0;
    for (int r = 0; r < p; r++) {
        x->sdispls[r] = (int)(offset * x->item_size);
        x->sendcounts[r] = (int)(x->counts_out[r] * x->item_size);
        offset += x->counts_out[r];
    }
    /* sdispls doubles as the write cursor (in bytes) and is rebuilt afterwards. */
    const size_t sz = x->item_size;
    for (size_t i = 0; i < x->staged; i++) {
        int d = x->stage_dest[i];
        if (sz == 4)
            memcpy(x->sendbuf + x->sdispls[d], x->stage + i * 4, 4);
        else if (sz == 8)
            memcpy(x->sendbuf + x->sdispls[d], x->stage + i * 8, 8);
        else
            memcpy(x->sendbuf + x->sdispls[d], x->stage + i * sz, sz);
        x->sdispls[d] += (int)sz;
    }
    for (int r = 0; r < p; r++)
        x->sdispls[r] -= x->sendcounts[r];
}

static int ensure_recv(sb_xchg *x, size_t items)
{
    if (items <= x->recv_cap)
        return 0;
    unsigned char *b = realloc(x->recvbuf, items * x->item_size);
    if (!b)
        return SB_ENOMEM;
    x->recvbuf = b;
    x->recv_cap = items;
    return 0;
}

int sb_xchg_round(sb_xchg *x, int more_local, sb_xchg_sink sink, void *arg, int *more_any)
{
    const sb_ctx *ctx = x->ctx;
    const int p = ctx->size;
    double t0 = sb_now();
    pack_by_destination(x);
    for (int r = 0; r < p; r++)
        x->counts_out[r] |= more_local ? MORE_FLAG : 0;
    if (MPI_Alltoall(x->counts_out, 1, MPI_UINT64_T, x->counts_in, 1, MPI_UINT64_T, ctx->comm) !=
        MPI_SUCCESS)
        return SB_EMPI;
    size_t total = 0;
    int any = more_local;
    for (int r = 0; r < p; r++) {
        if (x->counts_in[r] & MORE_FLAG)
            any = 1;
        uint64_t c = x->counts_in[r] & ~MORE_FLAG;
        x->rdispls[r] = (int)(total * x->item_size);
        x->recvcounts[r] = (int)(c * x->item_size);
        total += c;
    }
    /* A receiver can get up to ranks * capacity items; its byte counts must still fit an int. */
    int err = total > (size_t)INT_MAX / x->item_size ? SB_ELIMIT : ensure_recv(x, total);
    err = sb_ctx_agree(ctx, err);
    if (err)
        return err;
    if (MPI_Alltoallv(x->sendbuf, x->sendcounts, x->sdispls, MPI_BYTE, x->recvbuf, x->recvcounts,
                      x->rdispls, MPI_BYTE, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    uint64_t self = x->counts_out[ctx->rank] & ~MORE_FLAG;
    x->stats.items_sent += x->staged;
    x->stats.items_remote += x->staged - self;
    x->stats.bytes_remote += (x->staged - self) * x->item_size;
    x->stats.rounds++;
    x->staged = 0;
    x->stats.seconds += sb_now() - t0;
    err = total ? sink(arg, x->recvbuf, total) : 0;
    *more_any = any;
    return sb_ctx_agree(ctx, err);
}
