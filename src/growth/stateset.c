#include "growth/stateset.h"

#include "symbatch/codec.h"
#include "symbatch/error.h"

#include <stdlib.h>
#include <string.h>

void sb_sarr_init(sb_sarr *a, int nw)
{
    memset(a, 0, sizeof *a);
    a->nw = nw;
}

void sb_sarr_free(sb_sarr *a)
{
    free(a->w);
    a->w = NULL;
    a->n = a->cap = 0;
}

int sb_sarr_reserve(sb_sarr *a, size_t n)
{
    if (n <= a->cap)
        return 0;
    size_t cap = a->cap ? a->cap : 1024;
    while (cap < n)
        cap += cap / 2;
    uint64_t *w = realloc(a->w, cap * (size_t)a->nw * sizeof *w);
    if (!w)
        return SB_ENOMEM;
    a->w = w;
    a->cap = cap;
    return 0;
}

int sb_sarr_append(sb_sarr *a, const uint64_t *states, size_t count)
{
    if (count == 0)
        return 0;
    if (sb_sarr_reserve(a, a->n + count) != 0)
        return SB_ENOMEM;
    memcpy(a->w + a->n * (size_t)a->nw, states, count * (size_t)a->nw * sizeof *states);
    a->n += count;
    return 0;
}

void sb_sarr_swap(sb_sarr *a, sb_sarr *b)
{
    sb_sarr t = *a;
    *a = *b;
    *b = t;
}

/* One LSD pass on byte `byte` of word `word`: scatter src into dst by the digit. */
static void radix_pass(const uint64_t *src, uint64_t *dst, size_t n, int nw, int word, int byte,
                       const size_t *hist)
{
    size_t offs[256], sum = 0;
    for (int d = 0; d < 256; d++) {
        offs[d] = sum;
        sum += hist[d];
    }
    const int shift = 8 * byte;
    if (nw == 1) {
        for (size_t i = 0; i < n; i++) {
            uint64_t v = src[i];
            dst[offs[(v >> shift) & 0xff]++] = v;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const uint64_t *s = src + i * (size_t)nw;
        size_t o = offs[(s[word] >> shift) & 0xff]++;
        memcpy(dst + o * (size_t)nw, s, (size_t)nw * sizeof *s);
    }
}

/* One-word keys: LSD passes of up to 11-bit digits over only the bits that vary (n = 11 at
 * 4 bits: 44 bits, 4 passes instead of 6 byte passes).  2048 counters stay in L1. */
static int sort_words(uint64_t *keys, uint64_t *tmp, size_t n)
{
    uint64_t varying = 0;
    for (size_t i = 1; i < n; i++)
        varying |= keys[i] ^ keys[0];
    if (!varying)
        return 0;
    int lo = __builtin_ctzll(varying), hi = 63 - __builtin_clzll(varying);
    int bits = hi - lo + 1, passes = (bits + 10) / 11, width = (bits + passes - 1) / passes;
    size_t(*hist)[2048] = calloc((size_t)passes, sizeof *hist);
    if (!hist)
        return SB_ENOMEM;
    const uint64_t dmask = (1ULL << width) - 1;
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < passes; p++)
            hist[p][(keys[i] >> (lo + p * width)) & dmask]++;
    uint64_t *src = keys, *dst = tmp;
    for (int p = 0; p < passes; p++) {
        size_t sum = 0;
        for (size_t d = 0; d <= dmask; d++) {
            size_t c = hist[p][d];
            hist[p][d] = sum;
            sum += c;
        }
        const int shift = lo + p * width;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = src[i];
            dst[hist[p][(v >> shift) & dmask]++] = v;
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != keys)
        memcpy(keys, src, n * sizeof *keys);
    free(hist);
    return 0;
}

int sb_sarr_sort_tail(sb_sarr *a, size_t from, sb_sarr *tmp)
{
    const size_t n = a->n - from;
    const int nw = a->nw;
    if (n < 2)
        return 0;
    if (sb_sarr_reserve(tmp, n) != 0)
        return SB_ENOMEM;
    if (nw == 1)
        return sort_words(a->w + from, tmp->w, n);
    size_t(*hist)[256] = calloc((size_t)nw * 8, sizeof *hist);
    if (!hist)
        return SB_ENOMEM;
    uint64_t *src = a->w + from * (size_t)nw, *dst = tmp->w;
    /* All histograms in one read pass. */
    for (size_t i = 0; i < n; i++) {
        const uint64_t *s = src + i * (size_t)nw;
        for (int w = 0; w < nw; w++)
            for (int b = 0; b < 8; b++)
                hist[w * 8 + b][(s[w] >> (8 * b)) & 0xff]++;
    }
    int passes = 0;
    for (int w = 0; w < nw; w++) {
        for (int b = 0; b < 8; b++) {
            const size_t *h = hist[w * 8 + b];
            /* Every key has the same digit here: the pass would not move anything. */
            if (h[(src[w] >> (8 * b)) & 0xff] == n)
                continue;
            radix_pass(src, dst, n, nw, w, b, h);
            uint64_t *t = src;
            src = dst;
            dst = t;
            passes++;
        }
    }
    if (passes % 2 == 1)
        memcpy(a->w + from * (size_t)nw, src, n * (size_t)nw * sizeof *src);
    free(hist);
    return 0;
}

void sb_sarr_unique_tail(sb_sarr *a, size_t from)
{
    const int nw = a->nw;
    if (a->n - from < 2)
        return;
    size_t out = from + 1;
    for (size_t i = from + 1; i < a->n; i++) {
        const uint64_t *s = sb_sarr_at(a, i);
        if (sb_state_cmp(s, sb_sarr_at(a, out - 1), nw) != 0) {
            if (out != i)
                memcpy(a->w + out * (size_t)nw, s, (size_t)nw * sizeof *s);
            out++;
        }
    }
    a->n = out;
}

/* First index in b[lo, n) whose state is >= s (galloping then binary search). */
static size_t lower_bound_from(const sb_sarr *b, size_t lo, const uint64_t *s)
{
    size_t step = 1, hi = lo;
    while (hi < b->n && sb_state_cmp(sb_sarr_at(b, hi), s, b->nw) < 0) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    if (hi > b->n)
        hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sb_state_cmp(sb_sarr_at(b, mid), s, b->nw) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sb_sarr_subtract_tail(sb_sarr *a, size_t from, const sb_sarr *b)
{
    const int nw = a->nw;
    if (b->n == 0)
        return;
    size_t out = from, j = 0;
    /* Galloping keeps this O(|a| log(|b|/|a|)) when b is much larger than a, and linear when
     * both are of similar size. */
    for (size_t i = from; i < a->n; i++) {
        const uint64_t *s = sb_sarr_at(a, i);
        j = lower_bound_from(b, j, s);
        if (j < b->n && sb_state_cmp(sb_sarr_at(b, j), s, nw) == 0)
            continue;
        if (out != i)
            memcpy(a->w + out * (size_t)nw, s, (size_t)nw * sizeof *s);
        out++;
    }
    a->n = out;
}

/* Advances a cursor in sorted f to the first state >= s: a few linear steps first (dense
 * case), then galloping (when f is much larger than the tail being filtered). */
static size_t advance_cursor(const sb_sarr *f, size_t j, const uint64_t *s)
{
    for (int step = 0; step < 8; step++, j++) {
        if (j >= f->n || sb_state_cmp(sb_sarr_at(f, j), s, f->nw) >= 0)
            return j;
    }
    return lower_bound_from(f, j, s);
}

static size_t advance_cursor1(const uint64_t *f, size_t n, size_t j, uint64_t s)
{
    for (int step = 0; step < 8; step++, j++) {
        if (j >= n || f[j] >= s)
            return j;
    }
    size_t lo = j, hi = j, gap = 1;
    while (hi < n && f[hi] < s) {
        lo = hi + 1;
        hi += gap;
        gap *= 2;
    }
    if (hi > n)
        hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f[mid] < s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void filter_words(sb_sarr *a, size_t from, const sb_sarr *const *filters, int nf)
{
    size_t cur[SB_MAX_FILTERS] = {0}, out = from;
    uint64_t *w = a->w;
    for (size_t i = from; i < a->n; i++) {
        uint64_t s = w[i];
        if (out > from && w[out - 1] == s)
            continue;
        int seen = 0;
        for (int f = 0; f < nf && !seen; f++) {
            cur[f] = advance_cursor1(filters[f]->w, filters[f]->n, cur[f], s);
            seen = cur[f] < filters[f]->n && filters[f]->w[cur[f]] == s;
        }
        if (!seen)
            w[out++] = s;
    }
    a->n = out;
}

void sb_sarr_filter_tail(sb_sarr *a, size_t from, const sb_sarr *const *filters, int nf)
{
    const int nw = a->nw;
    if (nw == 1) {
        filter_words(a, from, filters, nf);
        return;
    }
    size_t cur[SB_MAX_FILTERS] = {0}, out = from;
    for (size_t i = from; i < a->n; i++) {
        const uint64_t *s = sb_sarr_at(a, i);
        if (out > from && sb_state_cmp(sb_sarr_at(a, out - 1), s, nw) == 0)
            continue;
        int seen = 0;
        for (int f = 0; f < nf && !seen; f++) {
            cur[f] = advance_cursor(filters[f], cur[f], s);
            seen =
                cur[f] < filters[f]->n && sb_state_cmp(sb_sarr_at(filters[f], cur[f]), s, nw) == 0;
        }
        if (!seen) {
            if (out != i)
                memcpy(a->w + out * (size_t)nw, s, (size_t)nw * sizeof *s);
            out++;
        }
    }
    a->n = out;
}

int sb_sarr_merge_tail(sb_sarr *a, size_t mid, sb_sarr *tmp)
{
    const int nw = a->nw;
    if (mid == 0 || mid == a->n)
        return 0;
    if (sb_sarr_reserve(tmp, a->n) != 0)
        return SB_ENOMEM;
    size_t i = 0, j = mid, o = 0;
    const size_t sz = (size_t)nw * sizeof(uint64_t);
    while (i < mid || j < a->n) {
        const uint64_t *s;
        if (j >= a->n || (i < mid && sb_state_cmp(sb_sarr_at(a, i), sb_sarr_at(a, j), nw) <= 0))
            s = sb_sarr_at(a, i++);
        else
            s = sb_sarr_at(a, j++);
        if (o > 0 && sb_state_cmp(tmp->w + (o - 1) * (size_t)nw, s, nw) == 0)
            continue;
        memcpy(tmp->w + o * (size_t)nw, s, sz);
        o++;
    }
    tmp->n = o;
    sb_sarr_swap(a, tmp);
    tmp->n = 0;
    return 0;
}

int sb_sarr_contains(const sb_sarr *a, const uint64_t *state)
{
    size_t i = lower_bound_from(a, 0, state);
    return i < a->n && sb_state_cmp(sb_sarr_at(a, i), state, a->nw) == 0;
}
