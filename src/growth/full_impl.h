/* Full-mode engine state, shared by full.c (the BFS) and full_ckpt.c (checkpoints). */
#ifndef SB_GROWTH_FULL_IMPL_H
#define SB_GROWTH_FULL_IMPL_H

#include "symbatch/comm.h"
#include "symbatch/neighbour.h"
#include "symbatch/bsgs.h"
#include "symbatch/rank.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sb_ckpt;

#define CHUNK_SHIFT    14         /* 16384 states (4 KB of bits) per "has current states" flag */
#define XCHG_ITEMS_MAX (1u << 22) /* exchange slots per rank: 16 MB of 4-byte offsets */
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD 64 /* marks in flight (a power of two): about what the miss buffers hold */
#endif
#define NO_MARK     UINT64_MAX /* an empty slot of the marking delay line */
#define FIELDS_LO   0x5555555555555555ULL
#define TASK_CHUNKS 16 /* chunks per task of the scan (shared by the node's ranks) */

/* The arrays are kept per node: the blocks of the node's ranks back to back (node ranks are
 * consecutive world ranks), in shared memory that every rank of the node marks directly.
 * Without shared memory the "node" is this rank alone and the same code runs on private
 * arrays.  Node offset o is state node_lo + o. */
typedef struct full {
    const sb_ctx *ctx;
    sb_space space;
    int ngens;
    sb_genprog *progs;
    uint64_t block, inv_block; /* states per block; floor((2^64 - 1) / block) */
    uint64_t lo, count;        /* this rank's block */
    uint64_t node_lo, node_n;  /* the node's states */
    uint64_t *nbits;           /* node's 2-bit array (4 states a byte, 32 a word) */
    uint8_t *nflags[3];        /* per node chunk: may hold layer L's states, at [L % 3] */
    uint8_t *ndist;            /* node's distances, or NULL */
    uint64_t nchunks;          /* node chunks */
    uint64_t *task_ctr;        /* two task counters of the scan, by layer parity */
    uint64_t own_ctr[2];       /* ... when not shared */
    bool shared;               /* node arrays in shared memory: atomic marks */
    sb_shm *shm[3];            /* bits, flags, distances */
    uint64_t *bits;            /* this rank's words of nbits (checkpoints) */
    uint8_t *dist;             /* this rank's part of ndist (NULL on a node with no states) */
    bool has_dist;             /* distances kept: the same on every rank, unlike dist */
    size_t bits_bytes;
    unsigned cur, next; /* codes of the current and next layer: 1 and 2, swapped each layer */
    uint64_t next_count;
    int item_bytes;
    sb_xchg *x;
    uint64_t pending[PREFETCH_AHEAD]; /* prefetched node offsets waiting to be marked */
    unsigned ppos;
    uint8_t *fnext;    /* flags of the next layer */
    unsigned char *rq; /* received offsets not marked yet: [rq_head, rq_n) of rq_cap items */
    size_t rq_head, rq_n, rq_cap;
    int layer;
    uint64_t expanded; /* states expanded in this layer */
    sb_unranker unranker;
    sb_bsgs_unranker bsgs_unranker; /* bsgs spaces: the scan's elements, in rank order */
    sb_shape *shapes;               /* per generator; all generic unless one-word permutations */
    int mpi_err; /* a local MPI failure not agreed yet: folded into the next agreement */
} full;

/* Bit i*2 set for every 2-bit field of x equal to code. */
static inline uint64_t fields_equal(uint64_t x, unsigned code)
{
    uint64_t y = x ^ (FIELDS_LO * code);
    return ~(y | (y >> 1)) & FIELDS_LO;
}

static inline uint8_t *sb_full_flags_cur(const full *f)
{
    return f->nflags[f->layer % 3];
}

static inline uint8_t *sb_full_flags_next(const full *f)
{
    return f->nflags[(f->layer + 1) % 3];
}

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

/* Zeroes every chunk flag of the node (collective over the node when shared).  Returns 0 or
 * SB_EMPI on this rank only: agree on it. */
int sb_full_flags_clear(full *f);

/* Checkpoint hooks (full_ckpt.c): the 2-bit array, the distance table, the layer codes. */
int sb_full_save(void *engine, struct sb_ckpt *ck);
int sb_full_load(void *engine, struct sb_ckpt *ck);

#endif
