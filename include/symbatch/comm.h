/* The MPI context every module receives, and the batched all-to-all exchange object. */
#ifndef SYMBATCH_COMM_H
#define SYMBATCH_COMM_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A duplicated communicator plus what modules keep asking about it.  Nothing in the library
 * uses MPI_COMM_WORLD: main.c passes a communicator in, tests pass MPI_COMM_SELF or WORLD.
 * Both communicators return errors instead of aborting (MPI_ERRORS_RETURN): every MPI call's
 * result is checked and becomes SB_EMPI. */
typedef struct sb_ctx {
    MPI_Comm comm; /* private duplicate of the caller's communicator */
    int rank, size;
    /* The ranks of this node (MPI_COMM_TYPE_SHARED), or of this pseudo-node under
     * SB_TEST_NODES.  Whoever asks "same node?" asks this, never host names or its own split. */
    MPI_Comm node_comm;
    int node_rank, node_size;
    int num_nodes;
    /* Where library code writes its messages (rank 0 mostly): the stream the caller passed to
     * sb_cli_main, stderr by default.  Never NULL after sb_ctx_init. */
    FILE *err;
} sb_ctx;

/* Test-only: SB_TEST_NODES=K splits the ranks into K pseudo-nodes of ceil(size / K) consecutive
 * ranks each (each also within one real node, so shared windows keep working), so that the
 * multi-node paths (cross-node exchange, per-node shared blocks) run on one machine.  num_nodes,
 * node_rank, node_size and node_comm follow it.  Not for production runs. */
#define SB_TEST_NODES_ENV "SB_TEST_NODES"

/* Collective.  Returns 0, SB_EMPI, or SB_EINPUT (on every rank) when SB_TEST_NODES is set but
 * is not an integer in 1..size; ctx->err does not exist yet, so the caller prints the message.
 * On failure nothing is left to free. */
int sb_ctx_init(sb_ctx *ctx, MPI_Comm parent);
/* Collective; 0, or SB_EMPI on this rank when MPI could not free a communicator. */
int sb_ctx_free(sb_ctx *ctx);

/* Every rank passes its local status (0 or a negative sb_err); every rank gets back the same
 * verdict: 0 if all succeeded, else the most severe (lowest) error, or SB_EPEER for ranks
 * whose own status was fine.  Call it before any collective that depends on a local check. */
int sb_ctx_agree(const sb_ctx *ctx, int local_err);

/* Collective: sb_ctx_agree that also says why.  Every rank passes its status and what went
 * wrong (detail may be NULL); rank 0 prints "symbatch: DETAIL" of the lowest rank with the most
 * severe error of its own (a rank that only saw SB_EPEER from a round is never the one named).
 * Returns that error on every rank, so rank 0 reports "out of memory", not "another rank
 * failed"; 0 when every rank passed 0. */
int sb_ctx_agree_report(const sb_ctx *ctx, int local_err, const char *detail);

/* Test-only fault injection: SB_FAULT_ALLOC_RANK=R makes rank R's large allocations (the full
 * engine's state arrays, an exchange's buffers) fail as if the memory were not there, so that
 * the report of a rank out of memory can be tested.  Not for production runs. */
#define SB_ALLOC_FAULT_ENV "SB_FAULT_ALLOC_RANK"
/* Not collective: whether SB_FAULT_ALLOC_RANK names this rank. */
int sb_fault_alloc(const sb_ctx *ctx);

/* The host names of all ranks, comma-separated and deduplicated, into buf on rank 0
 * (collective; the verdict is the same on every rank).  For reports only: what shares a node
 * is node_comm's business. */
int sb_ctx_hosts(const sb_ctx *ctx, char *buf, size_t size);

/* ---- node-shared memory -------------------------------------------------------------------
 *
 * Every rank allocates a segment (an MPI-3 shared window over ctx->node_comm, backed by
 * /dev/shm) that the other ranks on its node can load from and store to directly.  The memory
 * is zero-filled.  Callers separate phases that write and read each other's segments with a
 * collective over ctx->comm and call sb_shm_sync() on both sides of it (the window's memory
 * barrier).  Creation fails cleanly, on every rank alike, when the node cannot provide the
 * memory (including too little room in /dev/shm), so callers can fall back to private memory. */
typedef struct sb_shm sb_shm;

/* Test-only fault injection: with this variable set, every node reports no room for shared
 * memory, so callers take their fallback path. */
#define SB_SHM_FAULT_ENV "SB_FAULT_SHM_FULL"

/* Collective over ctx->comm; bytes may be 0.  Returns 0, or a negative sb_err on every rank. */
int sb_shm_create(sb_shm **out, const sb_ctx *ctx, size_t bytes);
/* Collective over the node; NULL is fine.  Frees everything even when MPI reports an error
 * (returned as SB_EMPI, on this rank only: agree on it before relying on it). */
int sb_shm_destroy(sb_shm *s);
/* The segment of world rank `rank`, or NULL when that rank is on another node. */
void *sb_shm_segment(const sb_shm *s, int rank);
/* The node's non-empty segments as one array in node-rank order (they are allocated back to
 * back), or NULL when they are not adjacent. */
void *sb_shm_node_array(const sb_shm *s);
/* Local; 0 or SB_EMPI (this rank only: fold it into the next agreement). */
int sb_shm_sync(sb_shm *s);

/* ---- batched all-to-all exchange ----------------------------------------------------------
 *
 * Items of a fixed size are staged in per-destination slots, then one collective round
 * exchanges the counts with MPI_Alltoall, builds prefix sums and moves the payload with
 * MPI_Alltoallv.  The slots have a fixed capacity, so memory stays bounded however large a
 * layer is: callers stage at most sb_xchg_room() items (room left in the fullest destination),
 * then call sb_xchg_round().  Rounds are collective; a rank with nothing
 * left still takes part with an empty batch until no rank has more (the "more" flag travels
 * with the counts, so deciding costs no extra collective).
 *
 * Every exchange object has its own duplicate of ctx->comm, so several live exchanges never
 * take each other's messages, and pipelined rounds of different exchanges may interleave in
 * any order (blocking rounds are collectives: every rank must call them in the same order).
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

/* capacity_items is spread over the destinations (at least 1024 slots each).  Collective over
 * ctx->comm (it duplicates it); the verdict is the same on every rank. */
int sb_xchg_create(sb_xchg **out, const sb_ctx *ctx, size_t item_size, size_t capacity_items);
/* Collective (frees the exchange's communicator); NULL is fine.  Frees everything even when MPI
 * reports an error (returned as SB_EMPI, on this rank only: agree on it before relying on it). */
int sb_xchg_destroy(sb_xchg *x);

/* Items that can still be staged before a round is needed. */
static inline size_t sb_xchg_room(const sb_xchg *x);

/* Stages one item for rank `dest`; the caller guarantees sb_xchg_room(x) > 0.  put4/put8 are
 * for exchanges created with item_size 4 or 8. */
static inline void sb_xchg_put(sb_xchg *x, int dest, const void *item);
static inline void sb_xchg_put4(sb_xchg *x, int dest, uint32_t item);
static inline void sb_xchg_put8(sb_xchg *x, int dest, uint64_t item);

/* One collective round.  `more_local` says whether this rank will stage more items after this
 * round; `*more_any` returns whether any rank will.  A failure of the sink on any rank is
 * returned on every rank in the following round (SB_EPEER on the others); after the last
 * round, agree on sb_xchg_error() (e.g. with sb_ctx_agree) before trusting the result.
 * A pipelined round that cannot post a message records SB_EMPI the same way; an MPI call that
 * fails while completing or in a blocking round's collectives returns SB_EMPI at once. */
int sb_xchg_round(sb_xchg *x, int more_local, sb_xchg_sink sink, void *arg, int *more_any);
/* Pipelined rounds: sb_xchg_round posts this round's exchange without waiting for it and
 * delivers the previous round's items instead, so a rank that finishes a batch early goes on
 * with the next one rather than waiting for the slowest rank at every round.  The blocks go as
 * non-blocking point-to-point messages (header and used slots only; receives are posted for a
 * full block), one per other rank and round: for moderate rank counts.  Collective; call
 * before the first round.  Every rank must pass the same `on` (0 or non-zero): ranks that
 * disagree would wait for each other's rounds forever, so that is refused with SB_EINTERNAL on
 * every rank (a caller's bug), leaving the mode unchanged.  Returns 0, or a negative sb_err on
 * every rank (SB_ENOMEM for the second buffer; SB_EPEER where another rank failed). */
int sb_xchg_set_pipelined(sb_xchg *x, int on);
/* Lets MPI move a pipelined exchange along while the caller computes (MPI progresses
 * non-blocking collectives only inside MPI calls).  Cheap; call every few thousand items.  An
 * MPI failure here is recorded like sb_xchg_fail(x, SB_EMPI). */
void sb_xchg_progress(sb_xchg *x);
/* The failure this rank recorded (its sink's, or one given to sb_xchg_fail), or 0. */
int sb_xchg_error(const sb_xchg *x);
/* Records a local failure: the next round returns an error on every rank, so a rank that
 * cannot go on still stops in step with the others (no rank is left waiting in a round). */
void sb_xchg_fail(sb_xchg *x, int err);

/* Statistics since creation: items and bytes sent to other ranks, rounds, seconds spent in the
 * collectives. */
typedef struct sb_xchg_stats {
    uint64_t items_sent, items_remote, bytes_remote, rounds;
    double seconds;
} sb_xchg_stats;
sb_xchg_stats sb_xchg_get_stats(const sb_xchg *x);

/* Internal layout shown so that sb_xchg_put can be inlined in hot loops; use the functions.
 * Items are staged straight into per-destination slots of the send buffer, so a round needs no
 * packing pass: the slots are the MPI_Alltoallv send layout. */
struct sb_xchg {
    const sb_ctx *ctx;
    MPI_Comm comm; /* this exchange's own duplicate of ctx->comm */
    size_t item_size;
    size_t per_dest;        /* slots per destination */
    size_t stride;          /* bytes per destination block: an 8-byte header, then per_dest items */
    size_t fullest;         /* fill of the fullest destination */
    size_t *fill;           /* items staged per destination */
    unsigned char *sendbuf; /* the block being staged: destination d at d * stride */
    unsigned char *spare;   /* pipelined: the block in flight */
    unsigned char *recvbuf; /* ranks * stride */
    int pipelined, inflight; /* sb_xchg_set_pipelined; an exchange is in flight */
    MPI_Request *requests;   /* pipelined: receives then sends, ranks - 1 each */
    int nrequests;
    int *sendcounts, *sdispls, *recvcounts, *rdispls; /* in bytes, size ranks each */
    uint64_t *counts_out, *counts_in;                 /* item counts + flags */
    int err; /* the sink's or the caller's failure, if any */
    sb_xchg_stats stats;
};

static inline size_t sb_xchg_room(const sb_xchg *x)
{
    return x->per_dest - x->fullest;
}

static inline unsigned char *sb_xchg__slot(sb_xchg *x, int dest)
{
    size_t f = x->fill[dest]++;
    if (f + 1 > x->fullest)
        x->fullest = f + 1;
    return x->sendbuf + (size_t)dest * x->stride + 8 + f * x->item_size;
}

static inline void sb_xchg_put(sb_xchg *x, int dest, const void *item)
{
    memcpy(sb_xchg__slot(x, dest), item, x->item_size);
}

/* Constant-size variants for 4- and 8-byte items, which stay inlined in hot loops. */
static inline void sb_xchg_put4(sb_xchg *x, int dest, uint32_t item)
{
    memcpy(sb_xchg__slot(x, dest), &item, 4);
}

static inline void sb_xchg_put8(sb_xchg *x, int dest, uint64_t item)
{
    memcpy(sb_xchg__slot(x, dest), &item, 8);
}

#endif
