/* The batched all-to-all exchange (see comm.h).  Graph500's redistribute in four steps: count
 * per destination, MPI_Alltoall of the counts, prefix sums, MPI_Alltoallv of the payload. */
#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The two high bits of each exchanged count carry the sender's "more" and "failed" flags. */
#define MORE_FLAG (1ULL << 63)
#define ERR_FLAG  (1ULL << 62)

int sb_xchg_create(sb_xchg **out, const sb_ctx *ctx, size_t item_size, size_t capacity_items)
{
    *out = NULL;
    if (item_size == 0 || capacity_items == 0)
        return SB_EINTERNAL;
    size_t p = (size_t)ctx->size;
    size_t per_dest = capacity_items / p;
    if (per_dest < 1024 && capacity_items >= 1024)
        per_dest = 1024;
    if (per_dest == 0)
        per_dest = 1;
    /* Alltoallv counts and displacements are ints in bytes: keep one round below 2 GiB. */
    if (per_dest * p > (size_t)INT_MAX / item_size)
        per_dest = (size_t)INT_MAX / item_size / p;
    if (per_dest == 0)
        return SB_ELIMIT;
    sb_xchg *x = calloc(1, sizeof *x);
    if (!x)
        return SB_ENOMEM;
    x->ctx = ctx;
    x->item_size = item_size;
    x->per_dest = per_dest;
    x->fill = calloc(p, sizeof *x->fill);
    x->sendbuf = malloc(per_dest * p * item_size);
    x->recv_cap = per_dest * p;
    x->recvbuf = malloc(x->recv_cap * item_size);
    x->sendcounts = calloc(p, sizeof(int));
    x->sdispls = calloc(p, sizeof(int));
    x->recvcounts = calloc(p, sizeof(int));
    x->rdispls = calloc(p, sizeof(int));
    x->counts_out = calloc(p, sizeof(uint64_t));
    x->counts_in = calloc(p, sizeof(uint64_t));
    if (!x->fill || !x->sendbuf || !x->recvbuf || !x->sendcounts || !x->sdispls || !x->recvcounts ||
        !x->rdispls || !x->counts_out || !x->counts_in) {
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
    free(x->fill);
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

/* The send layout is the slots themselves: counts and displacements only. */
static size_t describe_sends(sb_xchg *x)
{
    const int p = x->ctx->size;
    size_t staged = 0;
    for (int r = 0; r < p; r++) {
        x->counts_out[r] = x->fill[r];
        x->sdispls[r] = (int)((size_t)r * x->per_dest * x->item_size);
        x->sendcounts[r] = (int)(x->fill[r] * x->item_size);
        staged += x->fill[r];
    }
    return staged;
}

int sb_xchg_round(sb_xchg *x, int more_local, sb_xchg_sink sink, void *arg, int *more_any)
{
    const sb_ctx *ctx = x->ctx;
    const int p = ctx->size;
    double t0 = sb_now();
    size_t staged = describe_sends(x);
    const uint64_t flags = (more_local ? MORE_FLAG : 0) | (x->err ? ERR_FLAG : 0);
    for (int r = 0; r < p; r++)
        x->counts_out[r] |= flags;
    if (MPI_Alltoall(x->counts_out, 1, MPI_UINT64_T, x->counts_in, 1, MPI_UINT64_T, ctx->comm) !=
        MPI_SUCCESS)
        return SB_EMPI;
    /* Every rank sees every header, so a failure flagged by any rank stops all of them in the
     * same round: no extra collective is needed to agree. */
    size_t total = 0;
    int any = more_local, failed = x->err != 0;
    for (int r = 0; r < p; r++) {
        any |= (x->counts_in[r] & MORE_FLAG) != 0;
        failed |= (x->counts_in[r] & ERR_FLAG) != 0;
        uint64_t c = x->counts_in[r] & ~(MORE_FLAG | ERR_FLAG);
        x->rdispls[r] = (int)(total * x->item_size);
        x->recvcounts[r] = (int)(c * x->item_size);
        total += c;
    }
    if (failed)
        return x->err ? x->err : SB_EPEER;
    /* Each source sends at most per_dest items: the receive buffer (per_dest * ranks) holds a
     * round whatever happens, so nothing is allocated here. */
    if (MPI_Alltoallv(x->sendbuf, x->sendcounts, x->sdispls, MPI_BYTE, x->recvbuf, x->recvcounts,
                      x->rdispls, MPI_BYTE, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    uint64_t self = x->fill[ctx->rank];
    x->stats.items_sent += staged;
    x->stats.items_remote += staged - self;
    x->stats.bytes_remote += (staged - self) * x->item_size;
    x->stats.rounds++;
    memset(x->fill, 0, (size_t)p * sizeof *x->fill);
    x->fullest = 0;
    x->stats.seconds += sb_now() - t0;
    /* A sink failure is carried to the others in the next round's headers (and by
     * sb_xchg_error for the last round). */
    int err = total ? sink(arg, x->recvbuf, total) : 0;
    if (err && !x->err)
        x->err = err;
    *more_any = any;
    return 0;
}

int sb_xchg_error(const sb_xchg *x)
{
    return x->err;
}

void sb_xchg_fail(sb_xchg *x, int err)
{
    if (err && !x->err)
        x->err = err;
}
