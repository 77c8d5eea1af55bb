/* Packed states: m elements of `width` bits in 64-bit words, and generators compiled into
 * shift-and-mask programs that act on packed words directly.
 *
 * Element i lives in word i / per_word at bit (i % per_word) * width.  Elements never straddle a
 * word, so a generator compiles into one (src word, dst word, shift, mask) step per distinct
 * displacement: LRX's L is two steps for any n <= 16, not n. */
#ifndef SYMBATCH_CODEC_H
#define SYMBATCH_CODEC_H

#include <stdint.h>
#include <string.h>

#define SB_MAX_WORDS 32

typedef struct sb_codec {
    int m;        /* elements */
    int width;    /* bits per element: ceil(log2(max value + 1)), at least 1 */
    int per_word; /* elements per word */
    int nw;       /* words per state */
} sb_codec;

/* Chooses the narrowest width for values 0..max_value.  Returns SB_ELIMIT when the state would
 * need more than SB_MAX_WORDS words. */
int sb_codec_init(sb_codec *c, int m, int max_value);

static inline void sb_codec_pack(const sb_codec *c, const uint8_t *elems, uint64_t *words)
{
    memset(words, 0, (size_t)c->nw * sizeof *words);
    for (int i = 0; i < c->m; i++)
        words[i / c->per_word] |= (uint64_t)elems[i] << ((i % c->per_word) * c->width);
}

static inline void sb_codec_unpack(const sb_codec *c, const uint64_t *words, uint8_t *elems)
{
    const uint64_t mask = (c->width == 64) ? ~0ULL : ((1ULL << c->width) - 1);
    for (int i = 0; i < c->m; i++)
        elems[i] = (uint8_t)((words[i / c->per_word] >> ((i % c->per_word) * c->width)) & mask);
}

typedef struct sb_genop {
    uint64_t mask;  /* bits of the source word that move */
    int16_t shift;  /* > 0: right shift, < 0: left shift */
    uint8_t rs, ls; /* the same as two shifts, one of them 0: no branch in the hot loop */
    uint8_t src, dst;
} sb_genop;

typedef struct sb_genprog {
    int nops;
    sb_genop *ops; /* sorted by dst word */
} sb_genprog;

/* Compiles generator p (c->m entries, new[i] = old[p[i]]). */
int sb_genprog_compile(const sb_codec *c, const uint8_t *p, sb_genprog *prog);
void sb_genprog_free(sb_genprog *prog);

/* out = p applied to in (nw words each; out must not alias in). */
static inline void sb_genprog_apply(const sb_genprog *prog, int nw, const uint64_t *in,
                                    uint64_t *out)
{
    for (int w = 0; w < nw; w++)
        out[w] = 0;
    for (int i = 0; i < prog->nops; i++) {
        const sb_genop *op = &prog->ops[i];
        out[op->dst] |= ((in[op->src] & op->mask) >> op->rs) << op->ls;
    }
}

/* One-word special case for the hot loops of n <= 16. */
static inline uint64_t sb_genprog_apply1(const sb_genprog *prog, uint64_t in)
{
    uint64_t out = 0;
    for (int i = 0; i < prog->nops; i++) {
        const sb_genop *op = &prog->ops[i];
        out |= ((in & op->mask) >> op->rs) << op->ls;
    }
    return out;
}

/* Hash of a packed state, used only to choose its owner rank (deduplication always compares
 * whole states). */
static inline uint64_t sb_state_hash(const uint64_t *w, int nw)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    for (int i = 0; i < nw; i++) {
        h ^= w[i];
        h *= 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
    }
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
}

/* Compares two packed states in symbatch's canonical order (most significant word last). */
static inline int sb_state_cmp(const uint64_t *a, const uint64_t *b, int nw)
{
    for (int i = nw - 1; i >= 0; i--) {
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

#endif
