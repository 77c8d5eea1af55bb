/* Full-mode engine state, shared by full.c (the BFS) and full_ckpt.c (checkpoints). */
#ifndef SB_GROWTH_FULL_IMPL_H
#define SB_GROWTH_FULL_IMPL_H

#include "symbatch/comm.h"
#include "symbatch/neighbour.h"
#include "symbatch/rank.h"

#include <stddef.h>
#include <stdint.h>

struct sb_ckpt;

#define CHUNK_SHIFT    14 /* 16384 states (4 KB of bits) per "has current states" flag */
#define XCHG_ITEMS     (1u << 20)
#define LOCAL_BATCH    128 /* ring of pending local marks (a power of two) */
#define PREFETCH_AHEAD 64  /* marks in flight: about what the core's miss buffers hold */
#define FIELDS_LO      0x5555555555555555ULL

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
    uint64_t nchunks;
    unsigned cur, next; /* codes of the current and next layer: 1 and 2, swapped each layer */
    uint64_t next_count;
    int item_bytes;
    sb_xchg *x;
    uint64_t pending[LOCAL_BATCH];
    int npending, pending_head;
    uint8_t *dist;
    int layer;
    uint64_t expanded; /* states expanded in this layer */
    sb_unranker unranker;
    sb_shape *shapes; /* per generator; all generic unless one-word permutations */
} full;

/* Checkpoint hooks (full_ckpt.c): the 2-bit array, the distance table, the layer codes. */
int sb_full_save(void *engine, struct sb_ckpt *ck);
int sb_full_load(void *engine, struct sb_ckpt *ck);

#endif
