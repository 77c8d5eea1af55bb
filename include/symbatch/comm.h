/* The MPI context every module receives, and the batched all-to-all exchange object. */
#ifndef SYMBATCH_COMM_H
#define SYMBATCH_COMM_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A duplicated communicator plus what modules keep asking about it.  Nothing in the library
 * uses MPI_COMM_WORLD: main.c passes a communicator in, tests pass MPI_COMM_SELF or WORLD. */
typedef struct sb_ctx {
    MPI_Comm comm; /* private duplicate of the caller's communicator */
    int rank, size;
    MPI_Comm node_comm; /* ranks sharing this node (MPI_COMM_TYPE_SHARED) */
    int node_rank, node_size;
    int num_nodes;
} sb_ctx;

int sb_ctx_init(sb_ctx *ctx, MPI_Comm parent);
void sb_ctx_free(sb_ctx *ctx);

/* Every rank passes its local status (0 or a negative sb_err); every rank gets back the same
 * verdict: 0 if all succeeded, else the most severe (lowest) error, or SB_EPEER for ranks
 * whose own status was fine.  Call it before any collective that depends on a local check. */
int sb_ctx_agree(const sb_ctx *ctx, int local_err);

/* Rank 0's host names, comma-separated and deduplicated, into buf (collective). */
int sb_ctx_hosts(const sb_ctx *ctx, char *buf, size_t size);

/* ---- batched all-to-all exchange ----------------------------------------------------------
 *
 * Items of a fixed size are staged locally with their destination rank, then one collective
 * round sorts them by destination (counting sort), exchanges the counts with MPI_Alltoall,
 * builds prefix sums and moves the payload with MPI_Alltoallv.  The staging area has a fixed
 * capacity, so memory stays bounded however large a layer is: callers stage at most
 * sb_xchg_room() items, then call sb_xchg_round().  Rounds are collective; a rank with nothing
 * left still takes part with an empty batch until no rank has more (the "more" flag travels
 * with the counts, so deciding costs no extra collective).
 *
 * Typical loop:
 *     do {
 *         while (have_work && sb_xchg_room(x) >= max_items_per_step)  stage items;
 *         rc = sb_xchg_round(x, have_work, sink, arg, &any_more);
 *     } while (rc == 0 && any_more);
 */
typedef struct sb_xchg sb_xchg;

/* Receives the items from one round: `count` items in `items`, grouped by source rank in rank
 * order (so the delivery order does not depend on timing).  Returns 0 or a negative sb_err. */
typedef int (*sb_xchg_sink)(void *arg, const void *items, size_t count);

int sb_xchg_create(sb_xchg **out, const sb_ctx *ctx, size_t item_size, size_t capacity_items);
void sb_xchg_destroy(sb_xchg *x);

/* Items that can still be staged before a round is needed. */
static inline size_t sb_xchg_room(const sb_xchg *x);

/* Stages one item for rank `dest`; the caller guarantees sb_xchg_room(x) > 0.  put4/put8 are
 * for exchanges created with item_size 4 or 8. */
static inline void sb_xchg_put(sb_xchg *x, int dest, const void *item);
static inline void sb_xchg_put4(sb_xchg *x, int dest, uint32_t item);
static inline void sb_xchg_put8(sb_xchg *x, int dest, uint64_t item);

/* One collective round.  `more_local` says whether this rank will stage more items after this
 * round; `*more_any` returns whether any rank will.  Errors are agreed over all ranks. */
int sb_xchg_round(sb_xchg *x, int more_local, sb_xchg_sink sink, void *arg, int *more_any);

/* Statistics since creation: items and bytes sent to other ranks, rounds, seconds spent in the
 * collectives. */
typedef struct sb_xchg_stats {
    uint64_t items_sent, items_remote, bytes_remote, rounds;
    double seconds;
} sb_xchg_stats;
sb_xchg_stats sb_xchg_get_stats(const sb_xchg *x);

/* Internal layout shown so that sb_xchg_put can be inlined in hot loops; use the functions. */
struct sb_xchg {
    const sb_ctx *ctx;
    size_t item_size, capacity, staged;
    unsigned char *stage; /* capacity * item_size */
    int32_t *stage_dest;  /* capacity */
    unsigned char *sendbuf, *recvbuf;
    size_t recv_cap;                                  /* items */
    int *sendcounts, *sdispls, *recvcounts, *rdispls; /* in bytes, size ranks each */
    uint64_t *counts_out, *counts_in;                 /* item counts + more flag */
    sb_xchg_stats stats;
};

static inline void sb_xchg_put(sb_xchg *x, int dest, const void *item)
{
    memcpy(x->stage + x->staged * x->item_size, item, x->item_size);
    x->stage_dest[x->staged++] = dest;
}

static inline size_t sb_xchg_room(const sb_xchg *x)
{
    return x->capacity - x->staged;
}

/* Constant-size variants for 4- and 8-byte items, which stay inlined in hot loops. */
static inline void sb_xchg_put4(sb_xchg *x, int dest, uint32_t item)
{
    memcpy(x->stage + x->staged * 4, &item, 4);
    x->stage_dest[x->staged++] = dest;
}

static inline void sb_xchg_put8(sb_xchg *x, int dest, uint64_t item)
{
    memcpy(x->stage + x->staged * 8, &item, 8);
    x->stage_dest[x->staged++] = dest;
}

#endif
