/* State spaces with a perfect hash: every reachable state gets a rank in [0, size).
 *
 * Three kinds, chosen from the central state and the generators:
 *   perm      m distinct values: permutations of 0..m-1, lexicographic rank (Lehmer code;
 *             digits by popcount over a bitmask of used values), size m!, m <= 20;
 *   multiset  repeated values (coset graphs): lexicographic rank among the distinct
 *             arrangements, size m! / prod(mult!), below 2^63;
 *   signed    2n elements where position i and n+i always hold a pair {v, v+n}
 *             (burnt_pancake, signed_reversals, and any generator set that keeps such pairs):
 *             rank = perm_rank(values mod n) * 2^n + flip bits, size 2^n n!;
 *   bsgs      m distinct values whose generators make a group smaller than all of S_m (or
 *             m > 20): the group's own perfect hash from its stabiliser chain (bsgs.h), size
 *             |G| below 2^63.  A state s = c o g (c the central state) has the rank of the
 *             element g = c^-1 o s.
 * Ranks index the full-mode bit array and the distance table, so the scheme is recorded in the
 * result file for other programs to look states up. */
#ifndef SYMBATCH_RANK_H
#define SYMBATCH_RANK_H

#include "symbatch/codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SB_RANK_MAX_PERM 20

typedef enum { SB_SPACE_PERM = 0, SB_SPACE_MULTISET, SB_SPACE_SIGNED, SB_SPACE_BSGS } sb_space_kind;

struct sb_bsgs;

typedef struct sb_space {
    sb_space_kind kind;
    int m;          /* elements per state */
    int n;          /* ranked elements: m (perm, multiset) or m / 2 (signed) */
    uint64_t size;  /* number of ranks */
    sb_codec codec; /* packed layout of states */
    uint64_t fact[SB_RANK_MAX_PERM + 1];
    /* multiset: distinct values in increasing order and their multiplicities */
    int nvalues;
    uint8_t values[256];
    uint8_t mult[256];
    /* perm, n <= 16: weights and tables for neighbour ranks from Lehmer digits (neighbour.h):
     * wl[j] = (n-j)! for 1 <= j < n, wr[k] = (n-2-k)! for k <= n-2, else 0; gt_l[0][mask] sums
     * wl over the even positions 2b in mask, gt_l[1] over the odd positions 2b+1; gt_r alike. */
    uint64_t wl[SB_RANK_MAX_PERM], wr[SB_RANK_MAX_PERM];
    uint64_t gt_l[2][256], gt_r[2][256];
    uint64_t recip[SB_RANK_MAX_PERM + 1]; /* floor((2^64 - 1) / r) for digit stepping */
    /* perm, n <= 16: the last k = min(n, SB_SUFFIX) positions come from tables indexed by
     * rank mod k!: which remaining value goes where (nibble t of suf_idx), their Lehmer digits,
     * and their shares of the digit sums. */
    uint32_t suf_idx[120];
    uint8_t suf_dig[120][8];
    uint64_t suf_sl[120], suf_sr[120];
    /* bsgs: the group (owned; sb_space_free) and the central state and its inverse */
    struct sb_bsgs *group;
    uint8_t central[256], cinv[256];
    uint8_t *gen_base; /* ngens rows of L: row g = generator g at the base points */
} sb_space;

#define SB_SUFFIX 5 /* suffix positions decoded by table (5! = 120 entries) */

/* Chooses the space for BFS from `central` (m values) under the given generators.  Returns
 * SB_ELIMIT (with a reason in `why`) when no perfect hash fits 63 bits. */
int sb_space_init(sb_space *s, const uint8_t *central, int m, int ngens, const uint8_t *perms,
                  char *why, int why_size);
const char *sb_space_name(const sb_space *s);
/* Releases what sb_space_init allocated (the bsgs group); harmless on a zeroed space. */
void sb_space_free(sb_space *s);

uint64_t sb_space_rank(const sb_space *s, const uint64_t *words);
void sb_space_unrank(const sb_space *s, uint64_t rank, uint64_t *words);

/* Fast paths for one-word permutations (m <= 16, 4 bits per element). */
uint64_t sb_perm_rank1(uint64_t word, int m, const uint64_t *fact);

/* k! as an expression that folds into an immediate when k is a compile-time constant. */
static inline __attribute__((always_inline)) uint64_t sb_fact(int k)
{
    uint64_t f = 1;
    for (int i = 2; i <= k; i++)
        f *= (uint64_t)i;
    return f;
}

/* The same rank with m a compile-time constant at the call site: fully unrolled, factorials as
 * immediates, about 3x faster than the loop.  d_i = number of unused values below v_i. */
static inline __attribute__((always_inline)) uint64_t sb_perm_rank1_fixed(uint64_t word,
                                                                          const int m)
{
    uint64_t rank = 0;
    uint32_t unused = (1u << m) - 1u;
#pragma GCC unroll 16
    for (int i = 0; i < m - 1; i++) {
        unsigned v = (unsigned)(word >> (4 * i)) & 15u;
        rank += (uint64_t)__builtin_popcount(unused & ((1u << v) - 1u)) * sb_fact(m - 1 - i);
        unused &= ~(1u << v);
    }
    return rank;
}

/* Sequential unranking: steps through increasing ranks cheaply by adding the gap to the
 * mixed-radix digits and rebuilding only the changed suffix of the permutation.  Used by the
 * full-mode scan, which visits ranks in increasing order. */
typedef struct sb_unranker {
    const sb_space *space;
    uint64_t rank;
    bool valid;
    uint8_t digit[SB_RANK_MAX_PERM];
    uint64_t avail[SB_RANK_MAX_PERM + 1]; /* unused values (4 bits each) before position i */
    uint64_t word[SB_RANK_MAX_PERM + 1];  /* packed prefix of positions < i */
    /* prefix sums of digit * wl and digit * wr over positions < i (neighbour.h) */
    uint64_t sl[SB_RANK_MAX_PERM + 1], sr[SB_RANK_MAX_PERM + 1];
    uint32_t flips;  /* signed: flip bits */
    bool pvalid;     /* the prefix path (sb_unranker_seek_perm) is initialised */
    uint64_t prefix; /* rank / k! of the prefix path */
} sb_unranker;

void sb_unranker_init(sb_unranker *u, const sb_space *s);
/* Packs the state of `rank` into words (any rank; increasing ranks are the fast case). */
static inline void sb_unranker_seek(sb_unranker *u, uint64_t rank, uint64_t *words);

/* ---- inline part of the sequential unranker (hot in the full-mode scan) ---- */

/* The general path: a fresh unrank, digits and prefixes recomputed. */
void sb_unranker_restart(sb_unranker *u, uint64_t prank);
/* Slow path for spaces without 4-bit one-word states. */
void sb_unranker_seek_general(sb_unranker *u, uint64_t rank, uint64_t *words);

/* Rebuilds positions from..n-1 from the digits: position i takes the digit-th unused value
 * (avail lists the unused values as nibbles in increasing order) and removes it. */
static inline __attribute__((always_inline)) void sb_unranker_rebuild(sb_unranker *u, int n,
                                                                      int from)
{
    const uint64_t *wl = u->space->wl, *wr = u->space->wr;
    for (int i = from; i < n; i++) {
        unsigned d = u->digit[i];
        uint64_t a = u->avail[i], keep = (1ULL << (4 * d)) - 1;
        u->word[i + 1] = u->word[i] | (((a >> (4 * d)) & 15u) << (4 * i));
        u->avail[i + 1] = (a & keep) | ((a >> 4) & ~keep);
        u->sl[i + 1] = u->sl[i] + d * wl[i];
        u->sr[i + 1] = u->sr[i] + d * wr[i];
    }
}

/* Restarts the prefix path: digits of the prefix index, positions 0..p-1 rebuilt. */
void sb_unranker_restart_prefix(sb_unranker *u, uint64_t prefix, int p, int k);

/* Adds delta to the digits at positions top, top-1, ... (digit i has radix n - i); returns the
 * most significant position that changed. */
static inline __attribute__((always_inline)) int sb_unranker_add_at(sb_unranker *u, int n, int top,
                                                                    uint64_t delta)
{
    int lowest = top + 1;
    for (int i = top; i >= 0 && delta; i--) {
        uint64_t radix = (uint64_t)(n - i), t = u->digit[i] + delta;
        if (t < radix) {
            u->digit[i] = (uint8_t)t;
            delta = 0;
        } else if (t < 2 * radix) {
            u->digit[i] = (uint8_t)(t - radix);
            delta = 1;
        } else {
            uint64_t q = (uint64_t)(((unsigned __int128)t * u->space->recip[radix]) >> 64);
            uint64_t r = t - q * radix;
            while (r >= radix) {
                q++;
                r -= radix;
            }
            u->digit[i] = (uint8_t)r;
            delta = q;
        }
        lowest = i;
    }
    return lowest;
}

/* Adds delta to all the digits (the last one, of radix 1, is always 0). */
static inline __attribute__((always_inline)) int sb_unranker_add(sb_unranker *u, int n,
                                                                 uint64_t delta)
{
    return sb_unranker_add_at(u, n, n - 2, delta);
}

/* The one-word permutation path, with n a compile-time constant at the call site.  The rank
 * splits into a prefix index (rank / k!) stepped incrementally like an odometer, and a suffix
 * index (rank mod k!) decoded by table: consecutive current states mostly share the prefix, so
 * the common case is a table lookup and k nibble moves.  Returns the packed state; digits and
 * digit sums are left in u for neighbour.h. */
static inline __attribute__((always_inline)) uint64_t
sb_unranker_seek_perm(sb_unranker *u, uint64_t rank, const int n)
{
    const sb_space *s = u->space;
    const int k = n < SB_SUFFIX ? n : SB_SUFFIX, p = n - k;
    const uint64_t kf = sb_fact(k);
    const uint64_t q = rank / kf, j = rank - q * kf;
    if (!u->pvalid || q < u->prefix) {
        sb_unranker_restart_prefix(u, q, p, k);
    } else if (q > u->prefix) {
        sb_unranker_rebuild(u, p, sb_unranker_add_at(u, n, p - 1, q - u->prefix));
        u->prefix = q;
    }
    const uint64_t a = u->avail[p];
    const uint32_t idx = s->suf_idx[j];
    uint64_t w = u->word[p];
#pragma GCC unroll 8
    for (int t = 0; t < k; t++)
        w |= ((a >> (4 * ((idx >> (4 * t)) & 15u))) & 15u) << (4 * (p + t));
    memcpy(&u->digit[p], s->suf_dig[j], 8);
    u->sl[n] = u->sl[p] + s->suf_sl[j];
    u->sr[n] = u->sr[p] + s->suf_sr[j];
    u->rank = rank;
    return w;
}

static inline void sb_unranker_seek(sb_unranker *u, uint64_t rank, uint64_t *words)
{
    const sb_space *s = u->space;
    if (s->kind != SB_SPACE_PERM || s->codec.nw != 1 || s->codec.width != 4) {
        sb_unranker_seek_general(u, rank, words);
        return;
    }
    if (!u->valid || rank < u->rank)
        sb_unranker_restart(u, rank);
    else if (rank > u->rank)
        sb_unranker_rebuild(u, s->n, sb_unranker_add(u, s->n, rank - u->rank));
    u->rank = rank;
    words[0] = u->word[s->n];
}

#endif
