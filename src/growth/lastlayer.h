/* Choosing which states of the last layer go into /growth/last_layer.
 *
 * The K lexicographically smallest states (as rows of element values), so that the stored rows
 * are the same for any number of ranks: each rank keeps its own K smallest in a bounded
 * max-heap, rank 0 gathers at most K rows per rank and keeps the K smallest overall. */
#ifndef SB_GROWTH_LASTLAYER_H
#define SB_GROWTH_LASTLAYER_H

#include "symbatch/comm.h"

#include <stdint.h>

typedef struct sb_topk {
    uint64_t k, n; /* capacity, rows held */
    int m;
    uint8_t *rows; /* max-heap on lexicographic order: rows[0] is the largest kept */
    uint8_t *scratch;
} sb_topk;

int sb_topk_init(sb_topk *t, uint64_t k, int m);
void sb_topk_free(sb_topk *t);
/* Offers one row; keeps it if it is among the K smallest so far. */
void sb_topk_offer(sb_topk *t, const uint8_t *row);
/* Collective: on rank 0, *rows (malloc'd, sorted ascending) and *nrows receive the K smallest
 * rows over all ranks; elsewhere *rows = NULL, *nrows = the same count. */
int sb_topk_gather(sb_topk *t, const sb_ctx *ctx, uint8_t **rows, uint64_t *nrows);

#endif
