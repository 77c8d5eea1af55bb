/* Schreier-Sims and the perfect hash of a permutation group (include/symbatch/bsgs.h). */
#include "symbatch/bsgs.h"

#include <stdlib.h>
#include <string.h>

/* Table lookups x -> v[x] over a row vectorise into byte-by-byte gathers (pinsrb) that GCC 12
 * makes 1.5-2x slower than plain loads in rank and unrank. */
#if defined(__GNUC__) && !defined(__clang__)
#define SB_SCALAR __attribute__((optimize("no-tree-vectorize")))
#else
#define SB_SCALAR
#endif

/* ---- storage ------------------------------------------------------------------------------ */

static const uint8_t *strong_row(const sb_bsgs *b, int gid)
{
    return b->strong + (size_t)gid * (size_t)b->m;
}

static const uint8_t *rep_row(const sb_bsgs *b, const sb_bsgs_level *lv, int k)
{
    return lv->rep + (size_t)k * (size_t)b->m;
}

static const uint8_t *inv_row(const sb_bsgs *b, const sb_bsgs_level *lv, int k)
{
    return lv->inv + (size_t)k * (size_t)b->m;
}

static bool is_identity(const uint8_t *p, int m)
{
    for (int i = 0; i < m; i++)
        if (p[i] != i)
            return false;
    return true;
}

static int first_moved(const uint8_t *p, int m)
{
    for (int i = 0; i < m; i++)
        if (p[i] != i)
            return i;
    return -1;
}

static void *grow(void *ptr, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return ptr;
    int c = *cap ? *cap : 4;
    while (c < need)
        c *= 2;
    void *q = realloc(ptr, (size_t)c * elem);
    if (q)
        *cap = c;
    return q;
}

/* Grows the orbit rows of a level to hold `need` points (all five arrays together). */
static int level_reserve(sb_bsgs *b, sb_bsgs_level *lv, int need)
{
    if (need <= lv->cap)
        return 0;
    int c = lv->cap ? lv->cap : 8;
    while (c < need)
        c *= 2;
    if (c > b->m)
        c = b->m;
    size_t m = (size_t)b->m;
    uint8_t *orbit = realloc(lv->orbit, (size_t)c);
    if (orbit)
        lv->orbit = orbit;
    uint8_t *rep = realloc(lv->rep, (size_t)c * m);
    if (rep)
        lv->rep = rep;
    uint8_t *inv = realloc(lv->inv, (size_t)c * m);
    if (inv)
        lv->inv = inv;
    int *from = realloc(lv->from, (size_t)c * sizeof *from);
    if (from)
        lv->from = from;
    int *via = realloc(lv->via, (size_t)c * sizeof *via);
    if (via)
        lv->via = via;
    if (!orbit || !rep || !inv || !from || !via)
        return SB_ENOMEM;
    lv->cap = c;
    return 0;
}

/* Appends a level with base point `point`: orbit {point}, identity representative. */
static int add_level(sb_bsgs *b, int point)
{
    sb_bsgs_level *lv = &b->levels[b->nlevels];
    memset(lv, 0, sizeof *lv);
    memset(lv->index, SB_BSGS_NONE, sizeof lv->index);
    lv->point = (uint8_t)point;
    int rc = level_reserve(b, lv, 1);
    if (rc)
        return rc;
    b->nlevels++;
    lv->orbit[0] = (uint8_t)point;
    lv->index[point] = 0;
    for (int x = 0; x < b->m; x++)
        lv->rep[x] = lv->inv[x] = (uint8_t)x;
    lv->from[0] = lv->via[0] = -1;
    lv->size = 1;
    return 0;
}

static int add_strong(sb_bsgs *b, const uint8_t *g)
{
    uint8_t *s = grow(b->strong, &b->strong_cap, b->nstrong + 1, (size_t)b->m);
    if (!s)
        return SB_ENOMEM;
    b->strong = s;
    memcpy(s + (size_t)b->nstrong * (size_t)b->m, g, (size_t)b->m);
    return b->nstrong++;
}

/* ---- orbits ------------------------------------------------------------------------------- */

/* Image of orbit point a under generator gid; a new point gets representative s * u_a. */
static int orbit_step(sb_bsgs *b, sb_bsgs_level *lv, int a, int gid)
{
    const uint8_t *s = strong_row(b, gid);
    uint8_t img = s[lv->orbit[a]];
    if (lv->index[img] != SB_BSGS_NONE)
        return 0;
    int rc = level_reserve(b, lv, lv->size + 1);
    if (rc)
        return rc;
    int k = lv->size++;
    const uint8_t *ua = rep_row(b, lv, a);
    uint8_t *uk = lv->rep + (size_t)k * (size_t)b->m, *vk = lv->inv + (size_t)k * (size_t)b->m;
    for (int x = 0; x < b->m; x++) {
        uk[x] = s[ua[x]];
        vk[uk[x]] = (uint8_t)x;
    }
    lv->orbit[k] = img;
    lv->index[img] = (uint8_t)k;
    lv->from[k] = a;
    lv->via[k] = gid;
    return 0;
}

/* Adds strong generator gid to level l and closes the orbit: old points under the new
 * generator, new points under all of them. */
static int level_add_gen(sb_bsgs *b, int l, int gid)
{
    sb_bsgs_level *lv = &b->levels[l];
    int *g = grow(lv->gens, &lv->gens_cap, lv->ngens + 1, sizeof *g);
    if (!g)
        return SB_ENOMEM;
    lv->gens = g;
    lv->gens[lv->ngens++] = gid;
    lv->version++;
    int old = lv->size;
    for (int a = 0; a < lv->size; a++)
        for (int j = a < old ? lv->ngens - 1 : 0; j < lv->ngens; j++) {
            int rc = orbit_step(b, lv, a, lv->gens[j]);
            if (rc)
                return rc;
        }
    return 0;
}

/* ---- sifting ------------------------------------------------------------------------------ */

/* Sifts h (in place) through levels from..L-1.  Returns -1 when h sifts to the identity, the
 * level whose orbit misses the image of its base point, or L when the residue fixes the whole
 * base but is not the identity. */
static int sift(const sb_bsgs *b, uint8_t *h, int from)
{
    const int m = b->m;
    for (int l = from; l < b->nlevels; l++) {
        const sb_bsgs_level *lv = &b->levels[l];
        unsigned k = lv->index[h[lv->point]];
        if (k == SB_BSGS_NONE)
            return l;
        if (k == 0)
            continue;
        const uint8_t *v = inv_row(b, lv, (int)k);
        for (int x = 0; x < m; x++)
            h[x] = v[h[x]];
    }
    return is_identity(h, m) ? -1 : b->nlevels;
}

/* A residue that failed at level `fail` (sifted from level `top` + 1) becomes a strong
 * generator of levels top+1..fail, with a new base point when it fixes the whole base. */
static int add_residue(sb_bsgs *b, const uint8_t *h, int top, int fail)
{
    int rc;
    if (fail == b->nlevels && (rc = add_level(b, first_moved(h, b->m))) != 0)
        return rc;
    int gid = add_strong(b, h);
    if (gid < 0)
        return gid;
    for (int l = top + 1; l <= fail; l++)
        if ((rc = level_add_gen(b, l, gid)) != 0)
            return rc;
    return 0;
}

/* Schreier generator of level i for orbit point a and generator gid into h:
 * u_{s(d)}^-1 * s * u_d, which fixes b_0..b_i.  False when it is the identity by construction. */
static bool schreier_gen(const sb_bsgs *b, const sb_bsgs_level *lv, int a, int gid, uint8_t *h)
{
    const uint8_t *s = strong_row(b, gid);
    int j = lv->index[s[lv->orbit[a]]];
    if (lv->from[j] == a && lv->via[j] == gid)
        return false;
    const uint8_t *ua = rep_row(b, lv, a), *vj = inv_row(b, lv, j);
    for (int x = 0; x < b->m; x++)
        h[x] = vj[s[ua[x]]];
    return true;
}

/* Tests the untested Schreier generators of level i.  *next is the deepest level changed by a
 * new strong generator (the caller goes there and climbs back), or i - 1 when all sift.  Level
 * i itself never changes here, so an interrupted pass resumes at its cursor. */
static int test_level(sb_bsgs *b, int i, uint8_t *h, int *next)
{
    sb_bsgs_level *lv = &b->levels[i];
    int k0 = 0, a0 = 0;
    if (lv->cursor_version == lv->version) {
        k0 = lv->cursor_gen;
        a0 = lv->cursor_pt;
    }
    for (int k = k0; k < lv->ngens; k++)
        for (int a = k == k0 ? a0 : 0; a < lv->size; a++) {
            if (k < lv->tested_gens && a < lv->tested_pts)
                continue;
            if (!schreier_gen(b, lv, a, lv->gens[k], h))
                continue;
            b->sifts++;
            int fail = sift(b, h, i + 1);
            if (fail < 0)
                continue;
            lv->cursor_gen = k;
            lv->cursor_pt = a + 1;
            lv->cursor_version = lv->version;
            *next = fail;
            return add_residue(b, h, i, fail);
        }
    lv->tested_gens = lv->ngens;
    lv->tested_pts = lv->size;
    lv->cursor_version = lv->version + 1; /* no resume point */
    *next = i - 1;
    return 0;
}

/* Base points for the generators (each must move one) and their levels 0..first moved. */
static int seed_generators(sb_bsgs *b, int ngens, const uint8_t *perms)
{
    const int m = b->m;
    for (int g = 0; g < ngens; g++) {
        const uint8_t *p = perms + (size_t)g * (size_t)m;
        if (is_identity(p, m))
            continue;
        int l = 0;
        while (l < b->nlevels && p[b->levels[l].point] == b->levels[l].point)
            l++;
        int rc;
        if (l == b->nlevels && (rc = add_level(b, first_moved(p, m))) != 0)
            return rc;
        int gid = add_strong(b, p);
        if (gid < 0)
            return gid;
        for (int j = 0; j <= l; j++)
            if ((rc = level_add_gen(b, j, gid)) != 0)
                return rc;
    }
    return 0;
}

static void set_order(sb_bsgs *b)
{
    b->order = 1;
    b->order_overflow = false;
    for (int l = 0; l < b->nlevels; l++) {
        sb_u128 r = (sb_u128)b->levels[l].size;
        if (b->order > ~(sb_u128)0 / r)
            b->order_overflow = true;
        b->order *= r;
    }
    if (b->order_overflow)
        b->order = 0;
}

int sb_bsgs_init(sb_bsgs *b, int m, int ngens, const uint8_t *perms)
{
    memset(b, 0, sizeof *b);
    if (m < 1 || m > SB_BSGS_MAX_POINTS || ngens < 0)
        return SB_EINPUT;
    for (int g = 0; g < ngens; g++) {
        uint8_t seen[256] = {0};
        const uint8_t *p = perms + (size_t)g * (size_t)m;
        for (int i = 0; i < m; i++) {
            if (p[i] >= m || seen[p[i]])
                return SB_EINPUT;
            seen[p[i]] = 1;
        }
    }
    b->m = m;
    b->levels = calloc((size_t)m, sizeof *b->levels);
    uint8_t *h = malloc((size_t)m);
    int rc = (b->levels && h) ? seed_generators(b, ngens, perms) : SB_ENOMEM;
    for (int i = b->nlevels - 1; rc == 0 && i >= 0;)
        rc = test_level(b, i, h, &i);
    free(h);
    if (rc) {
        sb_bsgs_free(b);
        return rc;
    }
    set_order(b);
    return 0;
}

void sb_bsgs_free(sb_bsgs *b)
{
    if (b->levels)
        for (int l = 0; l < b->m; l++) {
            sb_bsgs_level *lv = &b->levels[l];
            free(lv->orbit);
            free(lv->rep);
            free(lv->inv);
            free(lv->from);
            free(lv->via);
            free(lv->gens);
        }
    free(b->levels);
    free(b->strong);
    memset(b, 0, sizeof *b);
}

/* ---- membership and order ----------------------------------------------------------------- */

bool sb_bsgs_contains(const sb_bsgs *b, const uint8_t *p)
{
    uint8_t h[256];
    memcpy(h, p, (size_t)b->m);
    return sift(b, h, 0) < 0;
}

int sb_u128_string(sb_u128 v, char *buf, size_t size)
{
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    if (size == 0)
        return SB_ELIMIT;
    if ((size_t)n + 1 > size) {
        buf[0] = '\0';
        return SB_ELIMIT;
    }
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return 0;
}

int sb_bsgs_order_string(const sb_bsgs *b, char *buf, size_t size)
{
    if (!b->order_overflow)
        return sb_u128_string(b->order, buf, size);
    /* Limbs of 9 decimal digits, least significant first: 255! needs 57 of them. */
    enum { LIMBS = 64 };
    uint32_t limb[LIMBS] = {1};
    int n = 1;
    for (int l = 0; l < b->nlevels; l++) {
        uint64_t carry = 0;
        for (int i = 0; i < n; i++) {
            uint64_t t = (uint64_t)limb[i] * (uint64_t)b->levels[l].size + carry;
            limb[i] = (uint32_t)(t % 1000000000u);
            carry = t / 1000000000u;
        }
        if (carry && n < LIMBS)
            limb[n++] = (uint32_t)carry;
    }
    char tmp[LIMBS * 9 + 1];
    int len = 0;
    for (int i = n - 1; i >= 0; i--) {
        uint32_t v = limb[i];
        char d[9];
        for (int j = 8; j >= 0; j--) {
            d[j] = (char)('0' + v % 10);
            v /= 10;
        }
        for (int j = 0; j < 9; j++)
            if (len > 0 || d[j] != '0' || (i == 0 && j == 8))
                tmp[len++] = d[j];
    }
    if (size == 0)
        return SB_ELIMIT;
    if ((size_t)len + 1 > size) {
        buf[0] = '\0';
        return SB_ELIMIT;
    }
    memcpy(buf, tmp, (size_t)len);
    buf[len] = '\0';
    return 0;
}

/* ---- rank and unrank ---------------------------------------------------------------------- */

/* Representative indices k_0..k_{L-1} of p, from the images of the base points only: t[j]
 * holds the current image of b_j (j >= level) and each level maps the rest through u_k^-1.
 * False when an image falls outside its orbit. */
SB_SCALAR static bool digits_of_images(const sb_bsgs *b, uint8_t *t, uint8_t *k)
{
    /* Locals, not b->...: byte stores to t may alias anything, which would reload b's fields. */
    const int L = b->nlevels;
    const size_t m = (size_t)b->m;
    const sb_bsgs_level *lv = b->levels;
    for (int i = 0; i < L; i++) {
        unsigned d = lv[i].index[t[i]];
        if (d == SB_BSGS_NONE)
            return false;
        k[i] = (uint8_t)d;
        const uint8_t *v = lv[i].inv + d * m; /* row 0 is the identity: no test for d == 0 */
#pragma GCC unroll 4
        for (int j = i + 1; j < L; j++)
            t[j] = v[t[j]];
    }
    return true;
}

SB_SCALAR static bool digits(const sb_bsgs *b, const uint8_t *p, uint8_t *k)
{
    uint8_t t[256];
    for (int j = 0; j < b->nlevels; j++)
        t[j] = p[b->levels[j].point];
    return digits_of_images(b, t, k);
}

/* The mixed-radix number of the digits, level 0 most significant (|G| < 2^64). */
static uint64_t radix64(const sb_bsgs *b, const uint8_t *k)
{
    uint64_t r = 0;
    for (int i = 0; i < b->nlevels; i++)
        r = r * (uint64_t)b->levels[i].size + k[i];
    return r;
}

uint64_t sb_bsgs_rank64_images(const sb_bsgs *b, const uint8_t *images)
{
    uint8_t t[256], k[256];
    memcpy(t, images, (size_t)b->nlevels);
    return digits_of_images(b, t, k) ? radix64(b, k) : UINT64_MAX;
}

sb_u128 sb_bsgs_rank(const sb_bsgs *b, const uint8_t *p)
{
    uint8_t k[256];
    if (!digits(b, p, k))
        return SB_BSGS_NOT_MEMBER;
    sb_u128 r = 0;
    for (int i = 0; i < b->nlevels; i++)
        r = r * (sb_u128)b->levels[i].size + k[i];
    return r;
}

uint64_t sb_bsgs_rank64(const sb_bsgs *b, const uint8_t *p)
{
    uint8_t k[256];
    return digits(b, p, k) ? radix64(b, k) : UINT64_MAX;
}

/* p = u_{k_0} * u_{k_1} * ... * u_{k_{L-1}}, built from the last level up. */
SB_SCALAR static void compose_digits(const sb_bsgs *b, const uint8_t *k, uint8_t *p)
{
    const int m = b->m;
    for (int x = 0; x < m; x++)
        p[x] = (uint8_t)x;
    for (int i = b->nlevels - 1; i >= 0; i--) {
        if (k[i] == 0)
            continue;
        const uint8_t *u = rep_row(b, &b->levels[i], k[i]);
        for (int x = 0; x < m; x++)
            p[x] = u[p[x]];
    }
}

void sb_bsgs_unrank64(const sb_bsgs *b, uint64_t r, uint8_t *p)
{
    uint8_t k[256];
    for (int i = b->nlevels - 1; i >= 0; i--) {
        uint64_t size = (uint64_t)b->levels[i].size;
        k[i] = (uint8_t)(r % size);
        r /= size;
    }
    compose_digits(b, k, p);
}

/* r mod d into the result, r / d into r, for d < 2^8: three 64-bit divisions instead of the
 * 128-bit library call (the remainders stay below d, so each step's dividend fits 40 bits). */
static unsigned divmod_small(sb_u128 *r, unsigned d)
{
    uint64_t hi = (uint64_t)(*r >> 64), lo = (uint64_t)*r;
    uint64_t qh = hi / d, rem = hi % d;
    uint64_t x = (rem << 32) | (lo >> 32), q1 = x / d;
    rem = x % d;
    x = (rem << 32) | (lo & 0xFFFFFFFFu);
    uint64_t q0 = x / d;
    *r = ((sb_u128)qh << 64) | (q1 << 32) | q0;
    return (unsigned)(x % d);
}

void sb_bsgs_unrank(const sb_bsgs *b, sb_u128 r, uint8_t *p)
{
    uint8_t k[256];
    int i = b->nlevels - 1;
    for (; i >= 0 && (r >> 64) != 0; i--)
        k[i] = (uint8_t)divmod_small(&r, (unsigned)b->levels[i].size);
    uint64_t r64 = (uint64_t)r;
    for (; i >= 0; i--) {
        uint64_t size = (uint64_t)b->levels[i].size;
        k[i] = (uint8_t)(r64 % size);
        r64 /= size;
    }
    compose_digits(b, k, p);
}

int sb_bsgs_rank_checked(const sb_bsgs *b, const uint8_t *p, sb_u128 *r)
{
    if (b->order_overflow)
        return SB_ELIMIT;
    uint8_t seen[256] = {0};
    for (int i = 0; i < b->m; i++) {
        if (p[i] >= b->m || seen[p[i]])
            return SB_EINPUT;
        seen[p[i]] = 1;
    }
    if (!sb_bsgs_contains(b, p))
        return SB_EINPUT;
    *r = sb_bsgs_rank(b, p);
    return 0;
}

int sb_bsgs_unrank_checked(const sb_bsgs *b, sb_u128 r, uint8_t *p)
{
    if (b->order_overflow)
        return SB_ELIMIT;
    if (r >= b->order)
        return SB_EINPUT;
    sb_bsgs_unrank(b, r, p);
    return 0;
}

/* ---- sequential unranking ----------------------------------------------------------------- */

int sb_bsgs_unranker_init(sb_bsgs_unranker *u, const sb_bsgs *b)
{
    memset(u, 0, sizeof *u);
    u->b = b;
    if (b->nlevels > 0) {
        u->prefix = malloc((size_t)b->nlevels * (size_t)b->m);
        if (!u->prefix)
            return SB_ENOMEM;
    }
    return 0;
}

void sb_bsgs_unranker_free(sb_bsgs_unranker *u)
{
    free(u->prefix);
    u->prefix = NULL;
    u->valid = false;
}

/* Adds delta to the mixed-radix digits; returns the shallowest level that changed (L when
 * none did). */
static int add_to_digits(sb_bsgs_unranker *u, uint64_t delta)
{
    const sb_bsgs_level *lv = u->b->levels;
    int low = u->b->nlevels;
    for (int i = u->b->nlevels - 1; i >= 0 && delta; i--) {
        uint64_t radix = (uint64_t)lv[i].size, t = u->digit[i] + delta;
        if (t < radix) {
            u->digit[i] = (uint8_t)t;
            delta = 0;
        } else {
            u->digit[i] = (uint8_t)(t % radix);
            delta = t / radix;
        }
        low = i;
    }
    return low;
}

/* Prefix rows from..L-1: row i = row i-1 * u_{k_i}. */
SB_SCALAR static void rebuild_prefix(sb_bsgs_unranker *u, int from)
{
    const sb_bsgs *b = u->b;
    const size_t m = (size_t)b->m;
    for (int i = from; i < b->nlevels; i++) {
        const uint8_t *rep = b->levels[i].rep + u->digit[i] * m;
        uint8_t *row = u->prefix + (size_t)i * m;
        if (i == 0) {
            memcpy(row, rep, m);
        } else {
            const uint8_t *prev = row - m;
            for (size_t x = 0; x < m; x++)
                row[x] = prev[rep[x]];
        }
    }
}

void sb_bsgs_unranker_seek(sb_bsgs_unranker *u, uint64_t r, uint8_t *p)
{
    const sb_bsgs *b = u->b;
    const int L = b->nlevels;
    int from;
    if (!u->valid || r < u->rank) {
        uint64_t rest = r;
        for (int i = L - 1; i >= 0; i--) {
            uint64_t size = (uint64_t)b->levels[i].size;
            u->digit[i] = (uint8_t)(rest % size);
            rest /= size;
        }
        from = 0;
        u->valid = true;
    } else {
        from = add_to_digits(u, r - u->rank);
    }
    u->rank = r;
    rebuild_prefix(u, from);
    if (L == 0)
        for (int x = 0; x < b->m; x++)
            p[x] = (uint8_t)x;
    else
        memcpy(p, u->prefix + (size_t)(L - 1) * (size_t)b->m, (size_t)b->m);
}

int sb_group_order_string(int m, int ngens, const uint8_t *perms, char *buf, size_t size)
{
    sb_bsgs b;
    int err = sb_bsgs_init(&b, m, ngens, perms);
    if (!err)
        err = sb_bsgs_order_string(&b, buf, size);
    sb_bsgs_free(&b);
    return err;
}
