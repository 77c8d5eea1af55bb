#include "symbatch/rank.h"
#include "symbatch/bsgs.h"
#include "symbatch/neighbour.h"

#include "symbatch/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- choosing the space ------------------------------------------------------------------ */

/* Do positions i and n+i always hold a pair {v, v+n} after every generator, starting from the
 * identity?  Then the reachable states are signed permutations of n. */
static bool keeps_signed_pairs(const uint8_t *central, int m, int ngens, const uint8_t *perms)
{
    if (m % 2 != 0 || m < 2)
        return false;
    int n = m / 2;
    for (int i = 0; i < m; i++)
        if (central[i] != i)
            return false;
    for (int g = 0; g < ngens; g++) {
        const uint8_t *p = perms + (size_t)g * m;
        for (int i = 0; i < n; i++)
            if (p[i] % n != p[n + i] % n || p[i] == p[n + i])
                return false;
    }
    return true;
}

static void set_factorials(sb_space *s)
{
    s->fact[0] = 1;
    for (int i = 1; i <= SB_RANK_MAX_PERM; i++)
        s->fact[i] = s->fact[i - 1] * (uint64_t)i;
}

static int init_multiset(sb_space *s, const uint8_t *central, int m, char *why, int why_size)
{
    int count[256] = {0};
    for (int i = 0; i < m; i++)
        count[central[i]]++;
    double lg = lgamma(m + 1.0);
    s->nvalues = 0;
    for (int v = 0; v < 256; v++) {
        if (!count[v])
            continue;
        s->values[s->nvalues] = (uint8_t)v;
        s->mult[s->nvalues++] = (uint8_t)count[v];
        lg -= lgamma(count[v] + 1.0);
    }
    if (lg > 43.6) { /* ln(2^63) */
        snprintf(why, (size_t)why_size,
                 "the coset space has about %.3g states, beyond a 63-bit rank", exp(lg));
        return SB_ELIMIT;
    }
    /* Exact size: multiply up m! / prod(mult!) one factor at a time in 128 bits. */
    unsigned __int128 size = 1;
    int placed = 0;
    for (int k = 0; k < s->nvalues; k++)
        for (int j = 1; j <= s->mult[k]; j++) {
            placed++;
            size = size * (unsigned)placed / (unsigned)j;
        }
    s->size = (uint64_t)size;
    return 0;
}

static void perm_digits(uint64_t rank, int m, uint8_t *digit);
static void perm_unrank_elems(uint64_t rank, int m, uint8_t *e);

/* Suffix tables of the prefix path of the unranker (rank.h). */
static void set_suffix_tables(sb_space *s)
{
    const int n = s->n, k = n < SB_SUFFIX ? n : SB_SUFFIX, p = n - k;
    for (uint64_t j = 0; j < s->fact[k]; j++) {
        uint8_t idx[SB_SUFFIX], dig[SB_SUFFIX];
        perm_unrank_elems(j, k, idx);
        perm_digits(j, k, dig);
        s->suf_idx[j] = 0;
        s->suf_sl[j] = s->suf_sr[j] = 0;
        memset(s->suf_dig[j], 0, sizeof s->suf_dig[j]);
        for (int t = 0; t < k; t++) {
            s->suf_idx[j] |= (uint32_t)idx[t] << (4 * t);
            s->suf_dig[j][t] = dig[t];
            s->suf_sl[j] += dig[t] * s->wl[p + t];
            s->suf_sr[j] += dig[t] * s->wr[p + t];
        }
    }
}

/* Weights and subset-sum tables for neighbour ranks from Lehmer digits (neighbour.h). */
static void set_digit_tables(sb_space *s)
{
    const int n = s->n;
    for (int r = 1; r <= SB_RANK_MAX_PERM; r++)
        s->recip[r] = UINT64_MAX / (uint64_t)r;
    for (int j = 0; j < SB_RANK_MAX_PERM; j++) {
        s->wl[j] = (j >= 1 && j < n) ? s->fact[n - j] : 0;
        s->wr[j] = (j <= n - 2) ? s->fact[n - 2 - j] : 0;
    }
    for (int mask = 0; mask < 256; mask++) {
        for (int parity = 0; parity < 2; parity++) {
            uint64_t l = 0, r = 0;
            for (int b = 0; b < 8; b++) {
                int pos = 2 * b + parity;
                if ((mask >> b) & 1 && pos < SB_RANK_MAX_PERM) {
                    l += s->wl[pos];
                    r += s->wr[pos];
                }
            }
            s->gt_l[parity][mask] = l;
            s->gt_r[parity][mask] = r;
        }
    }
}

/* A permutation central state whose generators make a proper subgroup of S_m (or m > 20, where
 * perm-lex cannot rank): the group's own perfect hash, |G| ranks instead of m!.  Returns 1 when
 * chosen, 0 when perm-lex is the space (the whole S_m, m <= 20: perm-lex is 2-3x faster per
 * rank), or an error with the reason. */
static int try_bsgs(sb_space *s, const uint8_t *central, int m, int ngens, const uint8_t *perms,
                    char *why, int why_size)
{
    sb_bsgs *g = calloc(1, sizeof *g);
    if (!g || sb_bsgs_init(g, m, ngens, perms) != 0) {
        free(g);
        snprintf(why, (size_t)why_size, "cannot build the group's stabiliser chain");
        return SB_ENOMEM;
    }
    sb_u128 mfact = 1; /* m! while it fits 128 bits (m <= 34), else 0 */
    for (int i = 2; i <= m && mfact; i++)
        mfact = mfact <= (~(sb_u128)0) / (sb_u128)i ? mfact * (sb_u128)i : 0;
    bool whole = !g->order_overflow && g->order == mfact;
    /* Test-only (benchmarks): SB_TEST_FORCE_BSGS=1 ranks all of S_m by its chain too, to
     * measure what perm-lex saves. */
    const char *force = getenv("SB_TEST_FORCE_BSGS");
    if (force && force[0] == '1' && sb_bsgs_fits63(g))
        whole = false;
    if ((whole && m <= SB_RANK_MAX_PERM) || !sb_bsgs_fits63(g)) {
        char order[64] = "";
        if (sb_bsgs_order_string(g, order, sizeof order) != 0)
            snprintf(order, sizeof order, "more than 10^60");
        sb_bsgs_free(g);
        free(g);
        if (whole && m <= SB_RANK_MAX_PERM)
            return 0;
        if (whole)
            snprintf(why, (size_t)why_size, "%d! states do not fit a 63-bit rank", m);
        else
            snprintf(why, (size_t)why_size, "the group has %s elements: no 63-bit perfect hash",
                     order);
        return SB_ELIMIT;
    }
    const int L = g->nlevels;
    s->gen_base = malloc((size_t)(ngens > 0 ? ngens : 1) * (size_t)(L > 0 ? L : 1));
    if (!s->gen_base) {
        sb_bsgs_free(g);
        free(g);
        snprintf(why, (size_t)why_size, "out of memory");
        return SB_ENOMEM;
    }
    for (int k = 0; k < ngens; k++)
        for (int j = 0; j < L; j++)
            s->gen_base[k * L + j] = perms[(size_t)k * (size_t)m + g->levels[j].point];
    s->kind = SB_SPACE_BSGS;
    s->n = m;
    s->size = (uint64_t)g->order;
    s->group = g;
    for (int i = 0; i < m; i++) {
        s->central[i] = central[i];
        s->cinv[central[i]] = (uint8_t)i;
    }
    return 1;
}

void sb_space_free(sb_space *s)
{
    free(s->gen_base);
    s->gen_base = NULL;
    if (s->group) {
        sb_bsgs_free(s->group);
        free(s->group);
        s->group = NULL;
    }
}

int sb_space_init(sb_space *s, const uint8_t *central, int m, int ngens, const uint8_t *perms,
                  char *why, int why_size)
{
    memset(s, 0, sizeof *s);
    set_factorials(s);
    s->m = m;
    int maxv = 0;
    bool distinct = true;
    uint8_t seen[256] = {0};
    for (int i = 0; i < m; i++) {
        maxv = central[i] > maxv ? central[i] : maxv;
        distinct = distinct && !seen[central[i]]++;
    }
    int err;
    if (keeps_signed_pairs(central, m, ngens, perms) && m / 2 <= 16) {
        s->kind = SB_SPACE_SIGNED;
        s->n = m / 2;
        s->size = s->fact[s->n] << s->n;
        err = 0;
    } else if (distinct && maxv == m - 1 &&
               (err = try_bsgs(s, central, m, ngens, perms, why, why_size)) != 0) {
        if (err < 0)
            return err;
        err = 0;
    } else if (distinct && maxv == m - 1) {
        s->kind = SB_SPACE_PERM;
        s->n = m;
        s->size = s->fact[m];
        err = 0;
    } else {
        s->kind = SB_SPACE_MULTISET;
        s->n = m;
        err = init_multiset(s, central, m, why, why_size);
    }
    if (err)
        return err;
    /* Permutation-like spaces use 4-bit elements whenever they fit one word, which the fast
     * ranking paths assume. */
    int width_value = (s->kind != SB_SPACE_MULTISET && m <= 16) ? 15 : maxv;
    if (sb_codec_init(&s->codec, m, width_value) != 0) {
        snprintf(why, (size_t)why_size, "states of %d elements are too wide", m);
        sb_space_free(s);
        return SB_ELIMIT;
    }
    if (s->kind == SB_SPACE_PERM || s->kind == SB_SPACE_SIGNED)
        set_digit_tables(s);
    if ((s->kind == SB_SPACE_PERM || s->kind == SB_SPACE_SIGNED) && s->n <= 16)
        set_suffix_tables(s);
    return 0;
}

const char *sb_space_name(const sb_space *s)
{
    switch (s->kind) {
    case SB_SPACE_PERM:
        return "perm-lex";
    case SB_SPACE_SIGNED:
        return "signed-perm-lex";
    case SB_SPACE_MULTISET:
        return "multiset-lex";
    case SB_SPACE_BSGS:
        return "bsgs";
    }
    return "unknown";
}

/* ---- permutations ------------------------------------------------------------------------ */

/* Lehmer digits are independent once the used-value masks are known, so the rank is a sum of
 * independent products rather than a chain of multiply-adds (about 3x faster at n = 12). */
uint64_t sb_perm_rank1(uint64_t word, int m, const uint64_t *fact)
{
    uint64_t rank = 0;
    uint32_t used = 0;
    for (int i = 0; i < m; i++) {
        unsigned v = (unsigned)(word >> (4 * i)) & 15u;
        unsigned less = (unsigned)__builtin_popcount(used & ((1u << v) - 1u));
        rank += (uint64_t)(v - less) * fact[m - 1 - i];
        used |= 1u << v;
    }
    return rank;
}

static uint64_t perm_rank_elems(const uint8_t *e, int m)
{
    uint64_t rank = 0;
    uint32_t used = 0;
    for (int i = 0; i < m; i++) {
        unsigned v = e[i];
        unsigned less = (unsigned)__builtin_popcount(used & ((1u << v) - 1u));
        rank = rank * (uint64_t)(m - i) + (v - less);
        used |= 1u << v;
    }
    return rank;
}

/* Lehmer digits of a rank: digit i has radix m - i. */
static void perm_digits(uint64_t rank, int m, uint8_t *digit)
{
    for (int i = m - 1; i >= 0; i--) {
        uint64_t radix = (uint64_t)(m - i);
        digit[i] = (uint8_t)(rank % radix);
        rank /= radix;
    }
}

static void perm_unrank_elems(uint64_t rank, int m, uint8_t *e)
{
    uint8_t digit[SB_RANK_MAX_PERM], avail[SB_RANK_MAX_PERM];
    perm_digits(rank, m, digit);
    for (int i = 0; i < m; i++)
        avail[i] = (uint8_t)i;
    for (int i = 0; i < m; i++) {
        int d = digit[i];
        e[i] = avail[d];
        memmove(avail + d, avail + d + 1, (size_t)(m - i - d - 1));
    }
}

/* ---- multisets --------------------------------------------------------------------------- */

static int value_index(const sb_space *s, uint8_t v)
{
    for (int k = 0; k < s->nvalues; k++)
        if (s->values[k] == v)
            return k;
    return -1;
}

static uint64_t multiset_rank(const sb_space *s, const uint8_t *e)
{
    int count[256];
    for (int k = 0; k < s->nvalues; k++)
        count[k] = s->mult[k];
    /* total: arrangements of what is left; the states starting with value k number
     * total * count[k] / left, so the ones with a smaller first value number total * below / left
     */
    unsigned __int128 total = s->size, rank = 0;
    for (int i = 0, left = s->m; i < s->m; i++, left--) {
        int k = value_index(s, e[i]);
        unsigned below = 0;
        for (int j = 0; j < k; j++)
            below += (unsigned)count[j];
        rank += total * below / (unsigned)left;
        total = total * (unsigned)count[k] / (unsigned)left;
        count[k]--;
    }
    return (uint64_t)rank;
}

static void multiset_unrank(const sb_space *s, uint64_t r, uint8_t *e)
{
    int count[256];
    for (int k = 0; k < s->nvalues; k++)
        count[k] = s->mult[k];
    unsigned __int128 total = s->size, rank = r;
    for (int i = 0, left = s->m; i < s->m; i++, left--) {
        for (int k = 0; k < s->nvalues; k++) {
            if (!count[k])
                continue;
            unsigned __int128 with_k = total * (unsigned)count[k] / (unsigned)left;
            if (rank < with_k) {
                e[i] = s->values[k];
                total = with_k;
                count[k]--;
                break;
            }
            rank -= with_k;
        }
    }
}

/* ---- signed permutations ----------------------------------------------------------------- */

static uint64_t signed_rank(const sb_space *s, const uint8_t *e)
{
    const int n = s->n;
    uint8_t base[SB_RANK_MAX_PERM];
    uint64_t flips = 0;
    for (int i = 0; i < n; i++) {
        base[i] = (uint8_t)(e[i] % n);
        flips |= (uint64_t)(e[i] >= n) << i;
    }
    return (perm_rank_elems(base, n) << n) | flips;
}

static void signed_unrank(const sb_space *s, uint64_t rank, uint8_t *e)
{
    const int n = s->n;
    uint8_t base[SB_RANK_MAX_PERM];
    perm_unrank_elems(rank >> n, n, base);
    for (int i = 0; i < n; i++) {
        int flip = (int)((rank >> i) & 1);
        e[i] = (uint8_t)(base[i] + (flip ? n : 0));
        e[n + i] = (uint8_t)(base[i] + (flip ? 0 : n));
    }
}

/* bsgs: the state s = c o g ranks as the element g = c^-1 o s. */
static uint64_t bsgs_rank(const sb_space *s, const uint8_t *e)
{
    uint8_t g[256];
    for (int i = 0; i < s->m; i++)
        g[i] = s->cinv[e[i]];
    return sb_bsgs_rank64(s->group, g);
}

static void bsgs_unrank(const sb_space *s, uint64_t rank, uint8_t *e)
{
    uint8_t g[256];
    sb_bsgs_unrank64(s->group, rank, g);
    for (int i = 0; i < s->m; i++)
        e[i] = s->central[g[i]];
}

/* ---- dispatch ---------------------------------------------------------------------------- */

uint64_t sb_space_rank(const sb_space *s, const uint64_t *words)
{
    if (s->kind == SB_SPACE_PERM && s->codec.nw == 1 && s->codec.width == 4)
        return sb_perm_rank1(words[0], s->m, s->fact);
    uint8_t e[SB_MAX_WORDS * 64];
    sb_codec_unpack(&s->codec, words, e);
    switch (s->kind) {
    case SB_SPACE_PERM:
        return perm_rank_elems(e, s->m);
    case SB_SPACE_SIGNED:
        return signed_rank(s, e);
    case SB_SPACE_MULTISET:
        return multiset_rank(s, e);
    case SB_SPACE_BSGS:
        return bsgs_rank(s, e);
    }
    return 0;
}

void sb_space_unrank(const sb_space *s, uint64_t rank, uint64_t *words)
{
    uint8_t e[SB_MAX_WORDS * 64];
    switch (s->kind) {
    case SB_SPACE_PERM:
        perm_unrank_elems(rank, s->m, e);
        break;
    case SB_SPACE_SIGNED:
        signed_unrank(s, rank, e);
        break;
    case SB_SPACE_MULTISET:
        multiset_unrank(s, rank, e);
        break;
    case SB_SPACE_BSGS:
        bsgs_unrank(s, rank, e);
        break;
    }
    sb_codec_pack(&s->codec, e, words);
}

/* ---- sequential unranking ---------------------------------------------------------------- */

void sb_unranker_init(sb_unranker *u, const sb_space *s)
{
    memset(u, 0, sizeof *u);
    u->space = s;
}

void sb_unranker_restart(sb_unranker *u, uint64_t prank)
{
    const int n = u->space->n;
    perm_digits(prank, n, u->digit);
    u->avail[0] = 0xfedcba9876543210ULL;
    u->word[0] = 0;
    u->sl[0] = u->sr[0] = 0;
    sb_unranker_rebuild(u, n, 0);
    u->valid = true;
    u->rank = prank;
}

void sb_unranker_restart_prefix(sb_unranker *u, uint64_t prefix, int p, int k)
{
    const sb_space *s = u->space;
    perm_digits(prefix * s->fact[k], s->n, u->digit);
    u->avail[0] = 0xfedcba9876543210ULL;
    u->word[0] = 0;
    u->sl[0] = u->sr[0] = 0;
    sb_unranker_rebuild(u, p, 0);
    u->pvalid = true;
    u->prefix = prefix;
}

/* Spreads the low 16 bits of x into the low bit of 16 nibbles. */
static uint64_t spread_nibbles(uint64_t x)
{
    x &= 0xffff;
    x = (x | (x << 24)) & 0x000000ff000000ffULL;
    x = (x | (x << 12)) & 0x000f000f000f000fULL;
    x = (x | (x << 6)) & 0x0303030303030303ULL;
    x = (x | (x << 3)) & 0x1111111111111111ULL;
    return x;
}

/* Signed spaces step through the permutation part incrementally and add the flips; others
 * unrank directly. */
void sb_unranker_seek_general(sb_unranker *u, uint64_t rank, uint64_t *words)
{
    const sb_space *s = u->space;
    if (s->kind != SB_SPACE_SIGNED || s->codec.nw != 1 || s->codec.width != 4) {
        sb_space_unrank(s, rank, words);
        return;
    }
    const int n = s->n;
    uint64_t prank = rank >> n;
    if (!u->valid || prank < u->rank)
        sb_unranker_restart(u, prank);
    else if (prank > u->rank)
        sb_unranker_rebuild(u, n, sb_unranker_add(u, n, prank - u->rank));
    u->rank = prank;
    uint64_t w = u->word[n];
    uint64_t lowmask = (1ULL << (4 * n)) - 1;
    uint64_t flips = spread_nibbles(rank & ((1ULL << n) - 1));
    uint64_t stay = 0x1111111111111111ULL & lowmask & ~flips;
    uint64_t low = w + (uint64_t)n * flips, high = w + (uint64_t)n * stay;
    words[0] = low | (high << (4 * n));
}

sb_shape sb_shape_of(const uint8_t *p, int n)
{
    sb_shape sh = {SB_SHAPE_GENERIC, 0};
    int left = 1, right = 1, moved = 0, first = -1;
    for (int i = 0; i < n; i++) {
        left = left && p[i] == (i + 1) % n;
        right = right && p[i] == (i + n - 1) % n;
        if (p[i] != i) {
            moved++;
            if (first < 0)
                first = i;
        }
    }
    if (n >= 2 && left)
        sh.kind = SB_SHAPE_ROT_LEFT;
    else if (n >= 2 && right)
        sh.kind = SB_SHAPE_ROT_RIGHT;
    else if (moved == 2 && first + 1 < n && p[first] == first + 1 && p[first + 1] == first) {
        sh.kind = SB_SHAPE_ADJ_SWAP;
        sh.pos = first;
    }
    return sh;
}
