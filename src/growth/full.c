/* Full-mode BFS: Korf's two-bit breadth-first search over a perfect hash of the state space.
 *
 * Every state has a rank in [0, N) (src/perm/rank.c); rank r lives on the rank owning the block
 * that contains r and takes 2 bits there: 0 unseen, 3 closed, and 1/2 for "current" and "next",
 * whose meanings swap every layer so that starting a layer costs nothing.  Per layer a rank scans
 * its block for current states (skipping chunks known to hold none), unranks each one
 * (sequentially: consecutive ranks share most Lehmer digits), applies the generators to the
 * packed word, ranks the neighbours and marks them next on their owner: locally right away in
 * prefetched batches, remotely through the exchange object as block offsets (4 bytes when a
 * block has fewer than 2^32 states).  Marking only ever turns "unseen" into "next", so no rank
 * needs to know whether the graph is directed.  At the end of a layer the current states become
 * closed, chunk by chunk. */
#include "growth/engine.h"
#include "growth/full_impl.h"
#include "growth/lastlayer.h"

#include "symbatch/codec.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/growth.h"
#include "symbatch/rank.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- ownership --------------------------------------------------------------------------- */

static inline int owner_of(const full *f, uint64_t r)
{
    uint64_t q = (uint64_t)(((unsigned __int128)r * f->inv_block) >> 64);
    while (r - q * f->block >= f->block)
        q++;
    return (int)q;
}

/* ---- marking ----------------------------------------------------------------------------- */

static inline void mark(full *f, uint64_t off)
{
    uint64_t *w = &f->bits[off >> 5];
    const unsigned sh = (unsigned)(off & 31) * 2;
    if (((*w >> sh) & 3u) == 0) {
        *w |= (uint64_t)f->next << sh;
        f->next_count++;
        f->flag_next[off >> CHUNK_SHIFT] = 1;
        if (f->dist)
            f->dist[off] = (uint8_t)(f->layer + 1);
    }
}

/* Random updates of a large array, software-pipelined: each offset is prefetched when it
 * arrives and marked PREFETCH_AHEAD arrivals later, so a steady number of misses is in flight.
 * (Prefetching a batch of 256 back to back overflows the core's miss buffers, and the dropped
 * prefetches turn into full-latency misses: measured 25% slower at n = 12.) */
static void flush_local(full *f)
{
    for (int i = 0; i < f->npending; i++)
        mark(f, f->pending[(f->pending_head + i) & (LOCAL_BATCH - 1)]);
    f->npending = 0;
    f->pending_head = 0;
}

static inline void mark_local(full *f, uint64_t off)
{
    __builtin_prefetch(&f->bits[off >> 5], 1);
    if (f->npending == PREFETCH_AHEAD) {
        mark(f, f->pending[f->pending_head]);
        f->pending_head = (f->pending_head + 1) & (LOCAL_BATCH - 1);
        f->npending--;
    }
    f->pending[(f->pending_head + f->npending) & (LOCAL_BATCH - 1)] = off;
    f->npending++;
}

/* Feeds offsets (4 or 8 bytes each) into the marking pipeline. */
static void mark_offsets_nf(full *f, const unsigned char *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t off;
        if (f->item_bytes == 4) {
            uint32_t o;
            memcpy(&o, items + 4 * i, 4);
            off = o;
        } else {
            memcpy(&off, items + 8 * i, 8);
        }
        mark_local(f, off);
    }
}

static void mark_offsets(full *f, const unsigned char *items, size_t count)
{
    mark_offsets_nf(f, items, count);
    flush_local(f);
}

/* Received offsets wait in a queue and are marked a few at a time between expansions, so that
 * their cache misses overlap with computing instead of being paid back to back in the sink
 * (which cost 7.5 ns a mark at n = 12 on two ranks). */
static int receive_offsets(void *arg, const void *items, size_t count)
{
    full *f = arg;
    const size_t sz = (size_t)f->item_bytes, left = f->rq_n - f->rq_head;
    if (f->rq_head > 0) {
        memmove(f->rq, f->rq + f->rq_head * sz, left * sz);
        f->rq_head = 0;
        f->rq_n = left;
    }
    if (left + count > f->rq_cap) {
        size_t cap = (left + count) * 2;
        unsigned char *q = realloc(f->rq, cap * sz);
        if (!q) {
            mark_offsets(f, items, count); /* no room to queue: mark them now */
            return 0;
        }
        f->rq = q;
        f->rq_cap = cap;
    }
    memcpy(f->rq + f->rq_n * sz, items, count * sz);
    f->rq_n += count;
    return 0;
}

/* Marks up to k queued received offsets. */
static void mark_received(full *f, size_t k)
{
    size_t n = f->rq_n - f->rq_head;
    if (n > k)
        n = k;
    mark_offsets_nf(f, f->rq + f->rq_head * (size_t)f->item_bytes, n);
    f->rq_head += n;
}

/* ---- expansion --------------------------------------------------------------------------- */

static inline void send_neighbour(full *f, uint64_t r)
{
    int dest = f->ctx->size == 1 ? 0 : owner_of(f, r);
    uint64_t off = r - (uint64_t)dest * f->block;
    if (dest == f->ctx->rank) {
        mark_local(f, off);
    } else if (f->item_bytes == 4) {
        sb_xchg_put4(f->x, dest, (uint32_t)off);
    } else {
        sb_xchg_put8(f->x, dest, off);
    }
}

/* One-word permutations with m fixed at compile time (instantiated per m by the switch).
 * Rotations and adjacent swaps get their ranks from the unranker's digits (neighbour.h). */
static inline __attribute__((always_inline)) void expand_perm1(full *f, uint64_t r, const int m)
{
    const sb_unranker *u = &f->unranker;
    const uint64_t s = sb_unranker_seek_perm(&f->unranker, r, m);
    for (int g = 0; g < f->ngens; g++) {
        uint64_t nb;
        switch (f->shapes[g].kind) {
        case SB_SHAPE_ROT_LEFT:
            nb = sb_rank_rot_left(u, s);
            break;
        case SB_SHAPE_ROT_RIGHT:
            nb = sb_rank_rot_right(u, s);
            break;
        case SB_SHAPE_ADJ_SWAP:
            nb = sb_rank_adj_swap(u, s, f->shapes[g].pos);
            break;
        default:
            nb = sb_perm_rank1_fixed(sb_genprog_apply1(&f->progs[g], s), m);
        }
        send_neighbour(f, nb);
    }
}

#define EXPAND_CASE(M)                                                                             \
    case M:                                                                                        \
        expand_perm1(f, r, M);                                                                     \
        return;

static void expand_state(full *f, uint64_t r)
{
    uint64_t s[SB_MAX_WORDS], nb[SB_MAX_WORDS];
    const sb_space *sp = &f->space;
    if (sp->kind == SB_SPACE_PERM && sp->codec.nw == 1 && sp->codec.width == 4) {
        switch (sp->m) {
            EXPAND_CASE(4)
            EXPAND_CASE(5)
            EXPAND_CASE(6)
            EXPAND_CASE(7)
            EXPAND_CASE(8)
            EXPAND_CASE(9)
            EXPAND_CASE(10)
            EXPAND_CASE(11)
            EXPAND_CASE(12)
            EXPAND_CASE(13)
            EXPAND_CASE(14)
            EXPAND_CASE(15)
            EXPAND_CASE(16)
        default:
            break;
        }
    }
    sb_unranker_seek(&f->unranker, r, s);
    for (int g = 0; g < f->ngens; g++) {
        sb_genprog_apply(&f->progs[g], sp->codec.nw, s, nb);
        send_neighbour(f, sb_space_rank(sp, nb));
    }
}

/* Bit i*2 set for every 2-bit field of x equal to code. */
static inline uint64_t fields_equal(uint64_t x, unsigned code)
{
    uint64_t y = x ^ (FIELDS_LO * code);
    return ~(y | (y >> 1)) & FIELDS_LO;
}

/* An exchange round in the middle of the scan (collective; the others join from wherever they
 * are in theirs). */
static int round_mid_scan(full *f)
{
    int more_any;
    flush_local(f);
    return sb_xchg_round(f->x, 1, receive_offsets, f, &more_any);
}

static int scan_chunk(full *f, uint64_t c)
{
    const uint64_t w0 = (c << CHUNK_SHIFT) >> 5;
    uint64_t w1 = ((c + 1) << CHUNK_SHIFT) >> 5, nwords = (f->count + 31) / 32;
    if (w1 > nwords)
        w1 = nwords;
    for (uint64_t wi = w0; wi < w1; wi++) {
        uint64_t match = fields_equal(f->bits[wi], f->cur);
        while (match) {
            if (sb_xchg_room(f->x) < (size_t)f->ngens) {
                int err = round_mid_scan(f);
                if (err)
                    return err;
            }
            uint64_t off = wi * 32 + (unsigned)__builtin_ctzll(match) / 2;
            match &= match - 1;
            expand_state(f, f->lo + off);
            if (f->rq_head < f->rq_n)
                mark_received(f, (size_t)f->ngens);
            /* let a pipelined exchange progress while this rank computes */
            if ((++f->expanded & 1023) == 0)
                sb_xchg_progress(f->x);
        }
    }
    return 0;
}

static int full_expand(void *engine, uint64_t *edges)
{
    full *f = engine;
    int err = 0, more_any = 1;
    f->next_count = 0;
    f->expanded = 0;
    /* Distances are stored in a byte; 255 means unreached. */
    if (f->dist && f->layer + 1 >= 255)
        err = SB_ELIMIT;
    sb_unranker_init(&f->unranker, &f->space);
    for (uint64_t c = 0; c < f->nchunks && !err; c++) {
        if (f->flag_cur[c])
            err = scan_chunk(f, c);
    }
    /* Finish: rounds until no rank has anything left to send.  A rank that failed still joins
     * the rounds so that nobody waits for it; the error is agreed at the end. */
    while (more_any) {
        mark_received(f, SIZE_MAX);
        flush_local(f);
        int rc = sb_xchg_round(f->x, 0, receive_offsets, f, &more_any);
        if (rc) {
            err = err ? err : rc;
            break;
        }
    }
    mark_received(f, SIZE_MAX);
    flush_local(f);
    *edges = f->expanded * (uint64_t)f->ngens;
    if (!err)
        err = sb_xchg_error(f->x);
    return sb_ctx_agree(f->ctx, err);
}

/* ---- layer bookkeeping ------------------------------------------------------------------- */

static uint64_t count_code(const full *f, unsigned code, const uint8_t *flags)
{
    uint64_t n = 0, nwords = (f->count + 31) / 32;
    for (uint64_t c = 0; c < f->nchunks; c++) {
        if (!flags[c])
            continue;
        uint64_t w1 = ((c + 1) << CHUNK_SHIFT) >> 5;
        for (uint64_t wi = (c << CHUNK_SHIFT) >> 5; wi < w1 && wi < nwords; wi++)
            n += (uint64_t)__builtin_popcountll(fields_equal(f->bits[wi], code));
    }
    return n;
}

static uint64_t full_local_size(void *engine)
{
    full *f = engine;
    return count_code(f, f->cur, f->flag_cur);
}

static uint64_t full_next_size(void *engine)
{
    return ((full *)engine)->next_count;
}

/* Current states become closed; next becomes current by swapping the codes. */
static int full_advance(void *engine)
{
    full *f = engine;
    uint64_t nwords = (f->count + 31) / 32;
    for (uint64_t c = 0; c < f->nchunks; c++) {
        if (!f->flag_cur[c])
            continue;
        uint64_t w1 = ((c + 1) << CHUNK_SHIFT) >> 5;
        for (uint64_t wi = (c << CHUNK_SHIFT) >> 5; wi < w1 && wi < nwords; wi++) {
            uint64_t m = fields_equal(f->bits[wi], f->cur);
            f->bits[wi] |= m | (m << 1);
        }
    }
    uint8_t *t = f->flag_cur;
    f->flag_cur = f->flag_next;
    f->flag_next = t;
    memset(f->flag_next, 0, f->nchunks);
    unsigned code = f->cur;
    f->cur = f->next;
    f->next = code;
    f->layer++;
    return 0;
}

static int full_last_layer(void *engine, uint64_t k, sb_growth_result *res)
{
    full *f = engine;
    sb_topk t;
    int err = sb_topk_init(&t, k, f->space.m);
    if (err)
        return sb_ctx_agree(f->ctx, err);
    uint64_t nwords = (f->count + 31) / 32, s[SB_MAX_WORDS];
    uint8_t row[SB_MAX_WORDS * 64];
    for (uint64_t c = 0; c < f->nchunks && k > 0; c++) {
        if (!f->flag_cur[c])
            continue;
        uint64_t w1 = ((c + 1) << CHUNK_SHIFT) >> 5;
        for (uint64_t wi = (c << CHUNK_SHIFT) >> 5; wi < w1 && wi < nwords; wi++) {
            for (uint64_t m = fields_equal(f->bits[wi], f->cur); m; m &= m - 1) {
                sb_space_unrank(&f->space, f->lo + wi * 32 + (unsigned)__builtin_ctzll(m) / 2, s);
                sb_codec_unpack(&f->space.codec, s, row);
                sb_topk_offer(&t, row);
            }
        }
    }
    err = sb_topk_gather(&t, f->ctx, &res->last_layer, &res->last_layer_rows);
    sb_topk_free(&t);
    return err;
}

static uint64_t full_bytes(void *engine)
{
    full *f = engine;
    return f->bits_bytes + 2 * f->nchunks + (f->dist ? f->count : 0);
}

/* ---- setup ------------------------------------------------------------------------------- */

static void full_free(full *f)
{
    for (int g = 0; g < f->ngens && f->progs; g++)
        sb_genprog_free(&f->progs[g]);
    free(f->progs);
    free(f->shapes);
    free(f->rq);
    if (f->bits)
        munmap(f->bits, f->bits_bytes);
    free(f->flag_cur);
    free(f->flag_next);
    free(f->dist);
    sb_xchg_destroy(f->x);
}

/* The bit array comes straight from mmap (zero-filled, lazily backed) with transparent huge
 * pages requested: random updates over gigabytes miss the TLB far less on 2 MB pages. */
static int alloc_bits(full *f)
{
    f->bits_bytes = ((f->count + 31) / 32) * sizeof(uint64_t);
    if (f->bits_bytes == 0)
        f->bits_bytes = sizeof(uint64_t);
    void *p = mmap(NULL, f->bits_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return SB_ENOMEM;
    madvise(p, f->bits_bytes, MADV_HUGEPAGE);
    f->bits = p;
    return 0;
}

static int full_init(full *f, const sb_growth_spec *spec, const sb_ctx *ctx, sb_growth_result *r)
{
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    const sb_genset *gs = &spec->gens;
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    char why[160];
    int err = sb_space_init(&f->space, central, gs->m, gs->ngens, gs->perm, why, sizeof why);
    if (err)
        return err;
    snprintf(r->rank_scheme, sizeof r->rank_scheme, "%s", sb_space_name(&f->space));
    r->space_size = f->space.size;
    const uint64_t N = f->space.size, P = (uint64_t)ctx->size;
    /* Blocks are whole 64-bit words of the bit array (32 states), so that a checkpoint can be
     * cut into byte ranges and read back by a different number of ranks. */
    f->block = ((N + P - 1) / P + 31) / 32 * 32;
    f->inv_block = UINT64_MAX / f->block;
    f->lo = f->block * (uint64_t)ctx->rank;
    f->count = f->lo >= N ? 0 : (N - f->lo < f->block ? N - f->lo : f->block);
    f->item_bytes = f->block <= (1ULL << 32) ? 4 : 8;
    f->nchunks = (f->count >> CHUNK_SHIFT) + 1;
    f->cur = 1;
    f->next = 2;
    f->ngens = gs->ngens;
    f->progs = calloc((size_t)gs->ngens, sizeof *f->progs);
    f->shapes = calloc((size_t)gs->ngens, sizeof *f->shapes);
    if (!f->shapes)
        return SB_ENOMEM;
    bool fast =
        f->space.kind == SB_SPACE_PERM && f->space.codec.nw == 1 && f->space.codec.width == 4;
    for (int g = 0; fast && g < gs->ngens; g++)
        f->shapes[g] = sb_shape_of(gs->perm + (size_t)g * gs->m, gs->m);
    f->flag_cur = calloc(f->nchunks, 1);
    f->flag_next = calloc(f->nchunks, 1);
    if (!f->progs || !f->flag_cur || !f->flag_next)
        return SB_ENOMEM;
    for (int g = 0; g < gs->ngens && !err; g++)
        err = sb_genprog_compile(&f->space.codec, gs->perm + (size_t)g * gs->m, &f->progs[g]);
    if (!err)
        err = alloc_bits(f);
    if (!err && spec->store_distances) {
        f->dist = malloc(f->count ? f->count : 1);
        if (!f->dist)
            return SB_ENOMEM;
        memset(f->dist, 255, f->count);
    }
    if (!err)
        err = sb_xchg_create(&f->x, ctx, (size_t)f->item_bytes, sb_full_xchg_items(f->block));
    /* Pipelined rounds let a rank that finishes its batch early go on with the next one. */
    if (!err && ctx->size > 1)
        sb_xchg_set_pipelined(f->x, 1);
    if (err)
        return err;
    uint64_t root[SB_MAX_WORDS];
    sb_codec_pack(&f->space.codec, central, root);
    uint64_t rr = sb_space_rank(&f->space, root);
    if (owner_of(f, rr) == ctx->rank) {
        uint64_t off = rr - f->lo;
        f->bits[off >> 5] |= (uint64_t)f->cur << ((off & 31) * 2);
        f->flag_cur[off >> CHUNK_SHIFT] = 1;
        if (f->dist)
            f->dist[off] = 0;
    }
    return 0;
}

int sb_full_estimate(const sb_growth_spec *spec, int nranks, sb_mem_estimate *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->mode, sizeof out->mode, "full");
    out->enforce = true;
    sb_space space;
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    const sb_genset *gs = &spec->gens;
    if (sb_space_init(&space, central, gs->m, gs->ngens, gs->perm, out->note,
                      (int)sizeof out->note) != 0)
        return SB_ELIMIT;
    uint64_t block = (space.size + (uint64_t)nranks - 1) / (uint64_t)nranks;
    int item = block <= (1ULL << 32) ? 4 : 8;
    /* the send slots (two when pipelined) and the receive buffer of one round, small tables */
    uint64_t fixed = (uint64_t)sb_full_xchg_items(block) * (uint64_t)(3 * item) + (8u << 20);
    double per_state = 0.25 + 2.0 / (1u << CHUNK_SHIFT) + (spec->store_distances ? 1.0 : 0.0);
    double per_rank = (double)block * per_state + (double)fixed;
    out->bytes_fixed = fixed;
    out->bytes_per_rank = (uint64_t)per_rank;
    out->bytes_total = (uint64_t)(per_rank * nranks);
    snprintf(out->detail, sizeof out->detail,
             "%s bits x %.4g states (%s ranking) / %d ranks%s + exchange buffers", "2",
             (double)space.size, sb_space_name(&space), nranks,
             spec->store_distances ? " + 1 byte per state for distances" : "");
    return 0;
}

int sb_growth_full(const sb_growth_spec *spec, const sb_ctx *ctx, sb_growth_progress *prog,
                   sb_growth_result *result)
{
    full f;
    int err = sb_ctx_agree(ctx, full_init(&f, spec, ctx, result));
    if (!err) {
        const sb_bfs_ops ops = {.name = "full",
                                .local_size = full_local_size,
                                .expand = full_expand,
                                .next_size = full_next_size,
                                .advance = full_advance,
                                .last_layer = full_last_layer,
                                .bytes_held = full_bytes,
                                .save = sb_full_save,
                                .load = sb_full_load};
        err = sb_bfs_drive(&ops, &f, spec, ctx, prog, result);
        sb_xchg_stats st = sb_xchg_get_stats(f.x);
        result->exchange_seconds = st.seconds;
        result->exchange_bytes = st.bytes_remote;
    }
    if (!err && f.dist) {
        result->distances = f.dist;
        result->dist_offset = f.lo;
        result->dist_count = f.count;
        f.dist = NULL;
    }
    full_free(&f);
    return err;
}
