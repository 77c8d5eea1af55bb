/* Frontier-mode engine state, shared by frontier.c (the BFS) and frontier_ckpt.c. */
#ifndef SB_GROWTH_FRONTIER_IMPL_H
#define SB_GROWTH_FRONTIER_IMPL_H

#include "growth/stateset.h"

#include "symbatch/codec.h"
#include "symbatch/comm.h"

#include <stddef.h>
#include <stdint.h>

struct sb_ckpt;

/* States staged per exchange round, per rank: 2^20 states of one word = 8 MB. */
#define XCHG_STATES (1u << 20)
/* Received candidates are sorted and filtered once the unsorted tail reaches this size (or the
 * size of the already-filtered head, whichever is larger), bounding memory to about twice the
 * distinct new states. */
#define COMPACT_MIN (1u << 22)

typedef struct frontier {
    const sb_ctx *ctx;
    sb_codec codec;
    int nw, ngens;
    sb_genprog *progs;
    int directed;
    sb_sarr prev, cur, next, tmp;
    size_t next_clean; /* next[0, next_clean) is sorted, unique and filtered */
    sb_sarr *runs;     /* directed: earlier layers as a few sorted runs */
    int nruns, runs_cap;
    sb_xchg *x;
} frontier;

/* Checkpoint hooks (frontier_ckpt.c): the layers each rank holds, repartitioned by owner when
 * the number of ranks changed. */
int sb_frontier_save(void *engine, struct sb_ckpt *ck);
int sb_frontier_load(void *engine, struct sb_ckpt *ck);

#endif
