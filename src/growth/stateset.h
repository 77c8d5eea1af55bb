/* Sorted arrays of packed states (frontier mode's layers and candidate sets).
 *
 * A state is nw consecutive 64-bit words; arrays are ordered by sb_state_cmp (word nw-1 most
 * significant).  Sorting is an LSD radix sort that skips byte positions on which all keys agree
 * (n = 12 at 4 bits uses 6 of 8 bytes), which beats comparison sorts by a wide margin here. */
#ifndef SB_GROWTH_STATESET_H
#define SB_GROWTH_STATESET_H

#include <stddef.h>
#include <stdint.h>

typedef struct sb_sarr {
    uint64_t *w; /* n * nw words */
    size_t n, cap;
    int nw;
} sb_sarr;

void sb_sarr_init(sb_sarr *a, int nw);
void sb_sarr_free(sb_sarr *a);
int sb_sarr_reserve(sb_sarr *a, size_t n);
int sb_sarr_append(sb_sarr *a, const uint64_t *states, size_t count);
static inline const uint64_t *sb_sarr_at(const sb_sarr *a, size_t i)
{
    return a->w + i * (size_t)a->nw;
}

/* Sorts states [from, n) of a (in place; tmp grows to hold them).  Returns 0 or SB_ENOMEM. */
int sb_sarr_sort_tail(sb_sarr *a, size_t from, sb_sarr *tmp);
/* Removes adjacent duplicates from the sorted range [from, n). */
void sb_sarr_unique_tail(sb_sarr *a, size_t from);
/* Removes from the sorted range [from, n) of a every state present in sorted b. */
void sb_sarr_subtract_tail(sb_sarr *a, size_t from, const sb_sarr *b);
/* Most filters sb_sarr_filter_tail takes (directed growth keeps O(log layers) runs). */
#define SB_MAX_FILTERS 64
/* One pass over the sorted range [from, n) of a: drops duplicates and every state present in
 * one of the sorted filters (the earlier layers). */
void sb_sarr_filter_tail(sb_sarr *a, size_t from, const sb_sarr *const *filters, int nf);
/* Merges the sorted ranges [0, mid) and [mid, n) of a, dropping duplicates, using tmp. */
int sb_sarr_merge_tail(sb_sarr *a, size_t mid, sb_sarr *tmp);
/* Binary search. */
int sb_sarr_contains(const sb_sarr *a, const uint64_t *state);
void sb_sarr_swap(sb_sarr *a, sb_sarr *b);

#endif
