/* The batched all-to-all exchange (see comm.h).  Graph500's redistribute: count per
 * destination, MPI_Alltoall of the counts, prefix sums, MPI_Alltoallv of the payload; items are
 * staged straight into per-destination blocks, so there is no packing pass.  Pipelined rounds
 * send each block with MPI_Isend (header and used slots), the count travelling in the header,
 * and receive whole-block-sized MPI_Irecv. */
#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The two high bits of each count carry the sender's "more" and "failed" flags. */
#define MORE_FLAG  (1ULL << 63)
#define ERR_FLAG   (1ULL << 62)
#define COUNT_MASK (~(MORE_FLAG | ERR_FLAG))

/* Slots per destination for the requested capacity, or 0 when not even one fits. */
static size_t slots_per_dest(size_t p, size_t item_size, size_t capacity_items)
{
    size_t per_dest = capacity_items / p;
    if (per_dest < 1024 && capacity_items >= 1024)
        per_dest = 1024;
    if (per_dest == 0)
        per_dest = 1;
    /* Counts and displacements are ints in bytes: keep one round below 2 GiB. */
    if ((8 + per_dest * item_size) * p > (size_t)INT_MAX)
        per_dest = ((size_t)INT_MAX / p - 8) / item_size;
    return per_dest;
}

/* Severity for the agreement: real errors first (the lowest wins), SB_EPEER after them. */
static int severity(int err)
{
    return err == 0 ? 0 : err == SB_EPEER ? -1 : err - 64;
}

int sb_ctx_agree_report(const sb_ctx *ctx, int local_err, const char *detail)
{
    struct {
        int key, rank;
    } in = {severity(local_err), ctx->rank}, out = {0, 0};
    if (MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (out.key == 0)
        return 0;
    /* The message travels whole (fixed size) from the rank that failed to rank 0. */
    char msg[640] = "";
    if (ctx->rank == out.rank && detail)
        snprintf(msg, sizeof msg, "%s", detail);
    if (MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, out.rank, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    msg[sizeof msg - 1] = '\0';
    if (ctx->rank == 0 && msg[0])
        fprintf(ctx->err, "symbatch: %s\n", msg);
    return out.key == -1 ? SB_EPEER : out.key + 64;
}

int sb_fault_alloc(const sb_ctx *ctx)
{
    const char *r = getenv(SB_ALLOC_FAULT_ENV);
    char *end;
    long v = r && *r ? strtol(r, &end, 10) : -1;
    return r && *r && *end == '\0' && v == ctx->rank;
}

/* The buffers of an exchange; on failure `detail` names this rank and the bytes. */
static int alloc_buffers(sb_xchg *x, size_t p, char *detail, size_t size)
{
    x->stride = (8 + x->per_dest * x->item_size + 7) / 8 * 8;
    x->fill = calloc(p, sizeof *x->fill);
    x->sendbuf = sb_fault_alloc(x->ctx) ? NULL : malloc(x->stride * p);
    x->recvbuf = malloc(x->stride * p);
    x->sendcounts = calloc(p, sizeof(int));
    x->sdispls = calloc(p, sizeof(int));
    x->recvcounts = calloc(p, sizeof(int));
    x->rdispls = calloc(p, sizeof(int));
    x->counts_out = calloc(p, sizeof(uint64_t));
    x->counts_in = calloc(p, sizeof(uint64_t));
    if (!x->fill || !x->sendbuf || !x->recvbuf || !x->sendcounts || !x->sdispls || !x->recvcounts ||
        !x->rdispls || !x->counts_out || !x->counts_in) {
        char b[32];
        sb_fmt_bytes(b, sizeof b, 2.0 * (double)(x->stride * p));
        snprintf(detail, size,
                 "rank %d of %d is out of memory: it asked for %s (%zu bytes) for the exchange "
                 "buffers",
                 x->ctx->rank, x->ctx->size, b, 2 * x->stride * p);
        return SB_ENOMEM;
    }
    return 0;
}

int sb_xchg_create(sb_xchg **out, const sb_ctx *ctx, size_t item_size, size_t capacity_items)
{
    *out = NULL;
    const size_t p = (size_t)ctx->size;
    int err = item_size == 0 || capacity_items == 0 ? SB_EINTERNAL : 0;
    size_t per_dest = err ? 0 : slots_per_dest(p, item_size, capacity_items);
    if (!err && per_dest == 0)
        err = SB_ELIMIT;
    char detail[256] = "";
    sb_xchg *x = err ? NULL : calloc(1, sizeof *x);
    if (!err && !x)
        err = SB_ENOMEM;
    if (x) {
        x->ctx = ctx;
        x->comm = MPI_COMM_NULL;
        x->item_size = item_size;
        x->per_dest = per_dest;
        err = alloc_buffers(x, p, detail, sizeof detail);
    }
    /* The duplication is collective: every rank reaches it, or none does.  Its own
     * communicator keeps this exchange's messages apart from every other exchange's. */
    err = sb_ctx_agree_report(ctx, err, detail);
    if (!err)
        err = sb_ctx_agree(ctx, MPI_Comm_dup(ctx->comm, &x->comm) == MPI_SUCCESS ? 0 : SB_EMPI);
    if (err) {
        sb_xchg_destroy(x);
        return err;
    }
    *out = x;
    return SB_OK;
}

int sb_xchg_set_pipelined(sb_xchg *x, int on)
{
    const size_t p = (size_t)x->ctx->size;
    on = on != 0;
    int err = 0;
    if (on && !x->spare && !(x->spare = malloc(x->stride * p)))
        err = SB_ENOMEM;
    if (on && !x->requests && !(x->requests = malloc(2 * p * sizeof *x->requests)))
        err = SB_ENOMEM;
    char detail[256] = "", b[32];
    sb_fmt_bytes(b, sizeof b, (double)(x->stride * p));
    if (err)
        snprintf(detail, sizeof detail,
                 "rank %d of %d is out of memory: it asked for %s (%zu bytes) for the second "
                 "exchange buffer of pipelined rounds",
                 x->ctx->rank, x->ctx->size, b, x->stride * p);
    int agreed = sb_ctx_agree_report(x->ctx, err, detail);
    if (agreed)
        return agreed;
    /* One reduction answers everything: the lowest error, and the lowest and highest `on`. */
    int in[3] = {err, on, -on}, low[3];
    if (MPI_Allreduce(in, low, 3, MPI_INT, MPI_MIN, x->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (low[0] < 0)
        return err ? err : SB_EPEER;
    if (low[1] != -low[2])
        return SB_EINTERNAL; /* the ranks disagree */
    x->pipelined = on;
    return 0;
}

void sb_xchg_progress(sb_xchg *x)
{
    int done = 0;
    /* Completed requests are now MPI_REQUEST_NULL; the Waitall of the next round skips them.
     * A failure goes out with the next round's headers, so every rank stops together. */
    if (x->inflight &&
        MPI_Testall(x->nrequests, x->requests, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        sb_xchg_fail(x, SB_EMPI);
}

int sb_xchg_destroy(sb_xchg *x)
{
    if (!x)
        return 0;
    int err = 0;
    /* An exchange still in flight (after an error) is finished before its buffers go. */
    if (x->inflight && MPI_Waitall(x->nrequests, x->requests, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        err = SB_EMPI;
    if (x->comm != MPI_COMM_NULL && MPI_Comm_free(&x->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    free(x->requests);
    free(x->fill);
    free(x->sendbuf);
    free(x->spare);
    free(x->recvbuf);
    free(x->sendcounts);
    free(x->sdispls);
    free(x->recvcounts);
    free(x->rdispls);
    free(x->counts_out);
    free(x->counts_in);
    free(x);
    return err;
}

sb_xchg_stats sb_xchg_get_stats(const sb_xchg *x)
{
    return x->stats;
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

/* Headers and bookkeeping of the staged blocks; returns the flags sent with them. */
static uint64_t seal_blocks(sb_xchg *x, int more_local, size_t *staged)
{
    const int p = x->ctx->size;
    const uint64_t flags = (more_local ? MORE_FLAG : 0) | (x->err ? ERR_FLAG : 0);
    *staged = 0;
    for (int r = 0; r < p; r++) {
        uint64_t h = x->fill[r] | flags;
        memcpy(x->sendbuf + (size_t)r * x->stride, &h, 8);
        x->counts_out[r] = h;
        x->sdispls[r] = (int)((size_t)r * x->stride + 8);
        x->sendcounts[r] = (int)(x->fill[r] * x->item_size);
        *staged += x->fill[r];
    }
    return flags;
}

static void count_round(sb_xchg *x, size_t staged)
{
    uint64_t self = x->fill[x->ctx->rank];
    x->stats.items_sent += staged;
    x->stats.items_remote += staged - self;
    x->stats.bytes_remote += (staged - self) * x->item_size;
    x->stats.rounds++;
    memset(x->fill, 0, (size_t)x->ctx->size * sizeof *x->fill);
    x->fullest = 0;
}

/* Reads the headers that arrived: whether any rank has more, whether any failed. */
static void read_headers(const sb_xchg *x, const uint64_t *hdr, int *any, int *failed)
{
    for (int r = 0; r < x->ctx->size; r++) {
        *any |= (hdr[r] & MORE_FLAG) != 0;
        *failed |= (hdr[r] & ERR_FLAG) != 0;
    }
}

/* Hands items to the sink; a sink failure is carried to the others in the next headers. */
static void deliver(sb_xchg *x, const unsigned char *items, size_t count, sb_xchg_sink sink,
                    void *arg)
{
    int err = count ? sink(arg, items, count) : 0;
    if (err && !x->err)
        x->err = err;
}

static int round_sync(sb_xchg *x, int more_local, sb_xchg_sink sink, void *arg, int *more_any)
{
    const sb_ctx *ctx = x->ctx;
    const int p = ctx->size;
    double t0 = sb_now();
    size_t staged;
    seal_blocks(x, more_local, &staged);
    if (MPI_Alltoall(x->counts_out, 1, MPI_UINT64_T, x->counts_in, 1, MPI_UINT64_T, x->comm) !=
        MPI_SUCCESS)
        return SB_EMPI;
    /* Every rank sees every header, so a failure flagged by any rank stops all of them in the
     * same round: no extra collective is needed to agree. */
    int any = more_local, failed = x->err != 0;
    read_headers(x, x->counts_in, &any, &failed);
    if (failed)
        return x->err ? x->err : SB_EPEER;
    size_t total = 0;
    for (int r = 0; r < p; r++) {
        x->rdispls[r] = (int)(total * x->item_size);
        x->recvcounts[r] = (int)((x->counts_in[r] & COUNT_MASK) * x->item_size);
        total += x->counts_in[r] & COUNT_MASK;
    }
    if (MPI_Alltoallv(x->sendbuf, x->sendcounts, x->sdispls, MPI_BYTE, x->recvbuf, x->recvcounts,
                      x->rdispls, MPI_BYTE, x->comm) != MPI_SUCCESS)
        return SB_EMPI;
    count_round(x, staged);
    x->stats.seconds += sb_now() - t0;
    deliver(x, x->recvbuf, total, sink, arg);
    *more_any = any;
    return 0;
}

/* Completes the exchange in flight and delivers it, block by block in source order. */
static int complete_inflight(sb_xchg *x, sb_xchg_sink sink, void *arg, int *any, int *failed)
{
    const int p = x->ctx->size;
    double t0 = sb_now();
    int rc = MPI_Waitall(x->nrequests, x->requests, MPI_STATUSES_IGNORE);
    x->inflight = 0;
    x->stats.seconds += sb_now() - t0;
    if (rc != MPI_SUCCESS)
        return SB_EMPI;
    for (int r = 0; r < p; r++)
        memcpy(&x->counts_in[r], x->recvbuf + (size_t)r * x->stride, 8);
    read_headers(x, x->counts_in, any, failed);
    if (*failed)
        return 0;
    for (int r = 0; r < p; r++)
        deliver(x, x->recvbuf + (size_t)r * x->stride + 8, x->counts_in[r] & COUNT_MASK, sink, arg);
    return 0;
}

/* Posts this round's blocks: a receive of a whole block from every other rank, a send of the
 * header and the used slots to every other rank; this rank's own block is copied.  Messages of
 * one pair on the exchange's own communicator arrive in order, so rounds cannot mix.  A call
 * that fails does not stop the others (the peers wait for them): it is recorded, and the next
 * round's headers stop every rank. */
static void post_blocks(sb_xchg *x)
{
    const sb_ctx *ctx = x->ctx;
    const int p = ctx->size, me = ctx->rank, tag = 7;
    int n = 0, failed = 0;
    for (int r = 0; r < p; r++) {
        if (r == me)
            continue;
        if (MPI_Irecv(x->recvbuf + (size_t)r * x->stride, (int)x->stride, MPI_BYTE, r, tag, x->comm,
                      &x->requests[n]) != MPI_SUCCESS) {
            x->requests[n] = MPI_REQUEST_NULL; /* nothing to wait for */
            failed = 1;
        }
        n++;
    }
    for (int r = 0; r < p; r++) {
        size_t bytes = 8 + x->fill[r] * x->item_size;
        unsigned char *block = x->sendbuf + (size_t)r * x->stride;
        if (r == me) {
            memcpy(x->recvbuf + (size_t)r * x->stride, block, bytes);
            continue;
        }
        if (MPI_Isend(block, (int)bytes, MPI_BYTE, r, tag, x->comm, &x->requests[n]) !=
            MPI_SUCCESS) {
            x->requests[n] = MPI_REQUEST_NULL;
            failed = 1;
        }
        n++;
    }
    x->nrequests = n;
    if (failed)
        sb_xchg_fail(x, SB_EMPI);
}

/* Pipelined: deliver round k-1, post round k.  When round k-1 shows that no rank has more,
 * nothing is posted (nobody staged anything since) and the exchange is over. */
static int round_pipelined(sb_xchg *x, int more_local, sb_xchg_sink sink, void *arg, int *more_any)
{
    if (x->inflight) {
        int any = 0, failed = 0;
        int rc = complete_inflight(x, sink, arg, &any, &failed);
        if (rc)
            return rc;
        if (failed)
            return x->err ? x->err : SB_EPEER;
        if (!any) {
            if (x->fullest > 0 && !x->err)
                x->err = SB_EINTERNAL; /* staged after promising not to */
            *more_any = 0;
            return 0;
        }
    }
    double t0 = sb_now();
    size_t staged;
    seal_blocks(x, more_local, &staged);
    post_blocks(x);
    x->inflight = 1;
    unsigned char *t = x->sendbuf;
    x->sendbuf = x->spare;
    x->spare = t;
    count_round(x, staged);
    x->stats.seconds += sb_now() - t0;
    *more_any = 1;
    return 0;
}

int sb_xchg_round(sb_xchg *x, int more_local, sb_xchg_sink sink, void *arg, int *more_any)
{
    if (x->pipelined)
        return round_pipelined(x, more_local, sink, arg, more_any);
    return round_sync(x, more_local, sink, arg, more_any);
}
