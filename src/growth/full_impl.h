/* Full-mode engine state, shared by full.c (the BFS) and full_ckpt.c (checkpoints). */
#ifndef SB_GROWTH_FULL_IMPL_H
#define SB_GROWTH_FULL_IMPL_H

#include "symbatch/comm.h"
#include "symbatch/neighbour.h"
#include "symbatch/rank.h"

#include <stddef.h>
#include <stdint.h>

struct sb_ckpt;

#define CHUNK_SHIFT    14         /* 16384 states (4 KB of bits) per "has current states" flag */
#define XCHG_ITEMS_MAX (1u << 22) /* exchange slots per rank: 16 MB of 4-byte offsets */
#define LOCAL_BATCH    128        /* ring of pending local marks (a power of two) */
#define PREFETCH_AHEAD 64         /* marks in flight: about what the core's miss buffers hold */
#define FIELDS_LO      0x5555555555555555ULL
#define TASK_CHUNKS    16 /* chunks per task of the shared-memory scan */

/* One rank's arrays.  With shared memory they live in a node-shared segment, and the other
 * ranks on the node mark states in them directly. */
typedef struct full_seg {
    uint64_t *ctr; /* the node leader's: task counters of the shared scan */
    uint64_t *bits;
    uint8_t *flags[2]; /* "has states" per chunk; flags[fl_next] collects the next layer */
    uint8_t *dist;
} full_seg;

typedef struct full {
    const sb_ctx *ctx;
    sb_space space;
    int ngens;
    sb_genprog *progs;
    uint64_t block, inv_block; /* states per block; floor((2^64 - 1) / block) */
    uint64_t lo, count;        /* this rank's block */
    uint64_t *bits;
    size_t bits_bytes;
    uint8_t *flag_cur, *flag_next;
    int fl_next;     /* flag_next == own flags[fl_next] */
    sb_shm *shm;     /* node-shared segments, or NULL (private memory, marks through x) */
    full_seg *seg;   /* shm: every world rank's arrays (bits NULL off this node) */
    int *node_ranks; /* shm: world ranks on this node, ascending */
    uint64_t *node_ctr;
    uint64_t nchunks;
    unsigned cur, next; /* codes of the current and next layer: 1 and 2, swapped each layer */
    uint64_t next_count;
    int item_bytes;
    sb_xchg *x;
    uint64_t pending[LOCAL_BATCH];
    int pending_dst[LOCAL_BATCH]; /* shm: whose block each pending mark is in */
    int npending, pending_head;
    unsigned char *rq; /* received offsets not marked yet: [rq_head, rq_n) of rq_cap items */
    size_t rq_head, rq_n, rq_cap;
    uint8_t *dist;
    int layer;
    uint64_t expanded; /* states expanded in this layer */
    sb_unranker unranker;
    sb_shape *shapes; /* per generator; all generic unless one-word permutations */
} full;

/* Exchange slots for a block of `block` states: big rounds for big blocks (fewer
 * synchronisations), small ones for small spaces (every pipelined round moves its whole
 * buffer). */
static inline size_t sb_full_xchg_items(uint64_t block)
{
    uint64_t items = block / 16;
    if (items < 4096)
        items = 4096;
    if (items > XCHG_ITEMS_MAX)
        items = XCHG_ITEMS_MAX;
    return (size_t)items;
}

/* Checkpoint hooks (full_ckpt.c): the 2-bit array, the distance table, the layer codes. */
int sb_full_save(void *engine, struct sb_ckpt *ck);
int sb_full_load(void *engine, struct sb_ckpt *ck);

#endif
