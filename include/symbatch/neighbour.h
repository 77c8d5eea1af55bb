/* Neighbour ranks without ranking: for generators of common shapes, the lexicographic rank of
 * a neighbour follows from the Lehmer digits the sequential unranker already holds.
 *
 *   rotation left  (new[i] = old[i+1]):  d'_i = d_{i+1} + [v_{i+1} > v_0], so
 *       rank' = sum_{j>=1} d_j (n-j)!  +  sum_{j>=1, v_j > v_0} (n-j)!
 *   rotation right (new[i] = old[i-1]):  d'_0 = v_{n-1}, d'_i = d_{i-1} - [v_{i-1} > v_{n-1}], so
 *       rank' = v_{n-1} (n-1)!  +  sum_{k<=n-2} d_k (n-2-k)!  -  sum_{k<=n-2, v_k > v_{n-1}}
 * (n-2-k)! swap of positions i, i+1: only d_i and d_{i+1} change (by the comparison of v_i,
 * v_{i+1}). The digit sums are prefix sums the unranker keeps; the comparison sums come from a SWAR
 * "which nibbles exceed x" mask and two 256-entry tables.  LRX, top_spin's rotations, coxeter
 * and cyclic_coxeter's adjacent swaps all take these paths (for one-word permutations). */
#ifndef SYMBATCH_NEIGHBOUR_H
#define SYMBATCH_NEIGHBOUR_H

#include "symbatch/rank.h"

#include <stdint.h>

typedef enum {
    SB_SHAPE_GENERIC = 0,
    SB_SHAPE_ROT_LEFT,
    SB_SHAPE_ROT_RIGHT,
    SB_SHAPE_ADJ_SWAP
} sb_shape_kind;

typedef struct sb_shape {
    sb_shape_kind kind;
    int pos; /* SB_SHAPE_ADJ_SWAP: swaps pos and pos + 1 */
} sb_shape;

/* Recognises the shape of generator p on n positions. */
sb_shape sb_shape_of(const uint8_t *p, int n);

/* Bit b of *even: [v_{2b} > x]; bit b of *odd: [v_{2b+1} > x] (nibbles beyond n are 0). */
static inline __attribute__((always_inline)) void sb_nibbles_above(uint64_t w, unsigned x,
                                                                   unsigned *even, unsigned *odd)
{
    const uint64_t lo = 0x0F0F0F0F0F0F0F0FULL, hi = 0x8080808080808080ULL;
    const uint64_t k = (uint64_t)(0x7Fu - x) * 0x0101010101010101ULL;
    uint64_t e = (((w & lo) + k) & hi) >> 7, o = ((((w >> 4) & lo) + k) & hi) >> 7;
    *even = (unsigned)((e * 0x0102040810204080ULL) >> 56);
    *odd = (unsigned)((o * 0x0102040810204080ULL) >> 56);
}

static inline __attribute__((always_inline)) uint64_t sb_rank_rot_left(const sb_unranker *u,
                                                                       uint64_t w)
{
    const sb_space *s = u->space;
    unsigned e, o;
    sb_nibbles_above(w, (unsigned)(w & 15u), &e, &o);
    return u->sl[s->n] + s->gt_l[0][e] + s->gt_l[1][o];
}

static inline __attribute__((always_inline)) uint64_t sb_rank_rot_right(const sb_unranker *u,
                                                                        uint64_t w)
{
    const sb_space *s = u->space;
    const int n = s->n;
    unsigned last = (unsigned)(w >> (4 * (n - 1))) & 15u, e, o;
    sb_nibbles_above(w, last, &e, &o);
    return (uint64_t)last * s->fact[n - 1] + u->sr[n] - s->gt_r[0][e] - s->gt_r[1][o];
}

static inline __attribute__((always_inline)) uint64_t sb_rank_adj_swap(const sb_unranker *u,
                                                                       uint64_t w, int i)
{
    const sb_space *s = u->space;
    const int n = s->n;
    uint64_t di = u->digit[i], dj = u->digit[i + 1];
    unsigned vi = (unsigned)(w >> (4 * i)) & 15u, vj = (unsigned)(w >> (4 * (i + 1))) & 15u;
    uint64_t ni, nj;
    if (vi < vj) {
        ni = dj + 1;
        nj = di;
    } else {
        ni = dj;
        nj = di - 1;
    }
    return u->rank + (ni - di) * s->fact[n - 1 - i] + (nj - dj) * s->fact[n - 2 - i];
}

#endif
