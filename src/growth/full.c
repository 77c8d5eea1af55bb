/* Full-mode BFS: Korf's two-bit breadth-first search over a perfect hash of the state space.
 *
 * Every state has a rank in [0, N) (src/perm/rank.c); rank r lives on the rank owning the block
 * that contains r and takes 2 bits there: 0 unseen, 3 closed, and 1/2 for "current" and "next",
 * whose meanings swap every layer so that starting a layer costs nothing.  The blocks of the
 * ranks on one node form one array in node-shared memory (full_impl.h; without it, each rank's
 * block alone).  Per layer the node's ranks scan that array for current states in tasks from a
 * shared counter (skipping chunks known to hold none), unrank each one (sequentially:
 * consecutive ranks share most Lehmer digits), apply the generators to the packed word, rank
 * the neighbours and mark them next: in the node's array directly, through a prefetching delay
 * line, or on another node through the exchange object as block offsets (4 bytes when a block
 * has fewer than 2^32 states).  Marking only ever turns "unseen" into "next", so no rank needs
 * to know whether the graph is directed.  At the end of a layer each rank closes the current
 * states of its own block, chunk by chunk. */
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

/* The memory barrier of the node's windows.  It is local, so a failure waits in f->mpi_err
 * for the next agreement rather than making this rank leave the others' collectives. */
static void shm_sync(full *f)
{
    for (int i = 0; i < 3; i++) {
        int err = f->shm[i] ? sb_shm_sync(f->shm[i]) : 0;
        if (err && !f->mpi_err)
            f->mpi_err = err;
    }
}

/* ---- ownership --------------------------------------------------------------------------- */

static inline int owner_of(const full *f, uint64_t r)
{
    uint64_t q = (uint64_t)(((unsigned __int128)r * f->inv_block) >> 64);
    while (r - q * f->block >= f->block)
        q++;
    return (int)q;
}

/* Where rank `rank`'s block starts: rank * block, but never past the end of the space.  The
 * rounding of blocks up to whole words leaves the last ranks of a small space (fewer than
 * ranks * 32 states) nothing; their empty blocks sit at N, so that [lo, lo + count) is inside
 * [0, N) for every rank, as the distance table's writer and the checkpoints require. */
static inline uint64_t block_start(const full *f, int rank)
{
    const uint64_t lo = f->block * (uint64_t)rank;
    return lo < f->space.size ? lo : f->space.size;
}

/* ---- marking ----------------------------------------------------------------------------- */

/* Marks node offset o "next" if it is unseen.  In shared memory the other ranks of the node
 * mark in the same words: a field only ever goes from 0 to the next-layer code during an
 * expansion, so a plain load that sees it non-zero is final; otherwise an atomic
 * bit-test-and-set of the code's one bit decides which rank counts the state (about one
 * atomic per state, not per edge).  Relaxed atomic loads and stores compile to plain moves. */
static inline void mark(full *f, uint64_t o)
{
    uint64_t *w = &f->nbits[o >> 5];
    const unsigned sh = (unsigned)(o & 31) * 2;
    const uint64_t bit = (uint64_t)f->next << sh; /* next is 1 or 2: a single bit */
    if (((__atomic_load_n(w, __ATOMIC_RELAXED) >> sh) & 3u) != 0)
        return;
    if (f->shared) {
        if (__atomic_fetch_or(w, bit, __ATOMIC_RELAXED) & bit)
            return;
    } else {
        *w |= bit;
    }
    f->next_count++;
    uint8_t *flag = &f->fnext[o >> CHUNK_SHIFT];
    if (!__atomic_load_n(flag, __ATOMIC_RELAXED))
        __atomic_store_n(flag, 1, __ATOMIC_RELAXED);
    if (f->ndist)
        f->ndist[o] = (uint8_t)(f->layer + 1);
}

/* Random updates of a large array, software-pipelined: each offset is prefetched when it
 * arrives and marked PREFETCH_AHEAD arrivals later, so a steady number of misses is in flight.
 * (Prefetching a batch of 256 back to back overflows the core's miss buffers, and the dropped
 * prefetches turn into full-latency misses: measured 25% slower at n = 12.) */
static void flush_local(full *f)
{
    for (int i = 0; i < PREFETCH_AHEAD; i++) {
        if (f->pending[i] != NO_MARK)
            mark(f, f->pending[i]);
        f->pending[i] = NO_MARK;
    }
}

/* A delay line: the slot that receives o held the offset prefetched PREFETCH_AHEAD marks ago. */
static inline void mark_local(full *f, uint64_t o)
{
    __builtin_prefetch(&f->nbits[o >> 5], 1);
    uint64_t *slot = &f->pending[f->ppos++ & (PREFETCH_AHEAD - 1)];
    const uint64_t due = *slot;
    *slot = o;
    if (due != NO_MARK)
        mark(f, due);
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
        mark_local(f, f->lo - f->node_lo + off);
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

/* Neighbour r: marked here when it is in this node's arrays, else sent to its owner as an
 * offset into the owner's block. */
static inline void send_neighbour(full *f, uint64_t r)
{
    const uint64_t o = r - f->node_lo;
    if (o < f->node_n) {
        mark_local(f, o);
        return;
    }
    const int dest = owner_of(f, r);
    const uint64_t off = r - (uint64_t)dest * f->block;
    if (f->item_bytes == 4)
        sb_xchg_put4(f->x, dest, (uint32_t)off);
    else
        sb_xchg_put8(f->x, dest, off);
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

/* bsgs spaces: the element of rank r (sequential, the scan's order), and each neighbour's rank
 * from its images of the base points alone (sb_bsgs_rank64_images): no state is packed. */
static void expand_bsgs(full *f, uint64_t r)
{
    const sb_space *sp = &f->space;
    const int L = sp->group->nlevels;
    uint8_t e[256], t[256];
    sb_bsgs_unranker_seek(&f->bsgs_unranker, r, e);
    for (int g = 0; g < f->ngens; g++) {
        const uint8_t *gb = sp->gen_base + (size_t)g * (size_t)L;
        for (int j = 0; j < L; j++)
            t[j] = e[gb[j]];
        send_neighbour(f, sb_bsgs_rank64_images(sp->group, t));
    }
}

static void expand_state(full *f, uint64_t r)
{
    uint64_t s[SB_MAX_WORDS], nb[SB_MAX_WORDS];
    const sb_space *sp = &f->space;
    if (sp->kind == SB_SPACE_BSGS) {
        expand_bsgs(f, r);
        return;
    }
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

/* An exchange round in the middle of the scan (collective; the others join from wherever they
 * are in theirs). */
static int round_mid_scan(full *f)
{
    int more_any;
    flush_local(f);
    return sb_xchg_round(f->x, 1, receive_offsets, f, &more_any);
}

/* Expands the current states of node chunk c.  Words are loaded atomically because other
 * ranks of the node may be marking in them; current-layer fields do not change meanwhile. */
static int scan_chunk(full *f, uint64_t c)
{
    const uint64_t w0 = (c << CHUNK_SHIFT) >> 5, nwords = (f->node_n + 31) / 32;
    uint64_t w1 = ((c + 1) << CHUNK_SHIFT) >> 5;
    if (w1 > nwords)
        w1 = nwords;
    const uint64_t *bits = f->nbits;
    const unsigned cur = f->cur;
    const size_t ng = (size_t)f->ngens;
    size_t budget = sb_xchg_room(f->x) / ng; /* states that fit the send slots */
    for (uint64_t wi = w0; wi < w1; wi++) {
        uint64_t match = fields_equal(__atomic_load_n(&bits[wi], __ATOMIC_RELAXED), cur);
        while (match) {
            if (budget == 0) {
                if (sb_xchg_room(f->x) < ng) {
                    int err = round_mid_scan(f);
                    if (err)
                        return err;
                }
                budget = sb_xchg_room(f->x) / ng;
            }
            budget--;
            uint64_t o = wi * 32 + (unsigned)__builtin_ctzll(match) / 2;
            match &= match - 1;
            expand_state(f, f->node_lo + o);
            if (f->rq_head < f->rq_n)
                mark_received(f, ng);
            /* let a pipelined exchange progress while this rank computes */
            if ((++f->expanded & 1023) == 0)
                sb_xchg_progress(f->x);
        }
    }
    return 0;
}

/* The node's ranks expand the current states of all the node's blocks together: tasks of
 * TASK_CHUNKS chunks handed out by an atomic counter, so that a layer whose states crowd into
 * one block still keeps every core busy.  Two counters alternate by layer; the node leader
 * zeroes the one for the next layer (nobody uses it during this one), and likewise the flags
 * of layer L + 2, last read in the previous layer. */
static int scan_node(full *f)
{
    uint64_t *ctr = &f->task_ctr[f->layer & 1];
    if (!f->shared || f->ctx->node_rank == 0) {
        __atomic_store_n(&f->task_ctr[(f->layer + 1) & 1], 0, __ATOMIC_RELAXED);
        memset(f->nflags[(f->layer + 2) % 3], 0, f->nchunks);
    }
    const uint8_t *flags = sb_full_flags_cur(f);
    const uint64_t ntasks = (f->nchunks + TASK_CHUNKS - 1) / TASK_CHUNKS;
    for (;;) {
        uint64_t t = __atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
        if (t >= ntasks)
            return 0;
        uint64_t c = t * TASK_CHUNKS;
        for (uint64_t end = c + TASK_CHUNKS; c < end && c < f->nchunks; c++) {
            if (!__atomic_load_n(&flags[c], __ATOMIC_RELAXED))
                continue;
            int err = scan_chunk(f, c);
            if (err)
                return err;
        }
    }
}

static int full_expand(void *engine, uint64_t *edges)
{
    full *f = engine;
    int err = 0, more_any = 1;
    f->next_count = 0;
    f->expanded = 0;
    /* Distances are stored in a byte; 255 means unreached. */
    if (f->has_dist && f->layer + 1 >= 255)
        err = SB_ELIMIT;
    shm_sync(f); /* see the other ranks' advance */
    f->fnext = sb_full_flags_next(f);
    sb_unranker_init(&f->unranker, &f->space);
    if (!err)
        err = scan_node(f);
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
    shm_sync(f); /* publish marks in other blocks before the agreement ... */
    err = sb_ctx_agree(f->ctx, err ? err : f->mpi_err);
    shm_sync(f); /* ... and see theirs in this block after it */
    return err;
}

/* ---- layer bookkeeping ------------------------------------------------------------------- */

/* This rank's words of the node array, [w_lo, w_hi), and the node chunks [c_lo, c_hi) that
 * hold them (node chunks may straddle two blocks: each rank handles its own words). */
typedef struct own_range {
    uint64_t w_lo, w_hi, c_lo, c_hi;
} own_range;

static own_range own_words(const full *f)
{
    own_range r;
    r.w_lo = (f->lo - f->node_lo) / 32;
    r.w_hi = r.w_lo + (f->count + 31) / 32;
    r.c_lo = (r.w_lo * 32) >> CHUNK_SHIFT;
    r.c_hi = r.w_hi > r.w_lo ? ((r.w_hi * 32 - 1) >> CHUNK_SHIFT) + 1 : r.c_lo;
    return r;
}

/* The words of chunk c that belong to this rank: [*a, *b). */
static void chunk_words(const own_range *r, uint64_t c, uint64_t *a, uint64_t *b)
{
    *a = (c << CHUNK_SHIFT) / 32;
    *b = ((c + 1) << CHUNK_SHIFT) / 32;
    if (*a < r->w_lo)
        *a = r->w_lo;
    if (*b > r->w_hi)
        *b = r->w_hi;
}

static uint64_t full_local_size(void *engine)
{
    full *f = engine;
    uint64_t n = 0, a, b;
    const uint8_t *flags = sb_full_flags_cur(f);
    const own_range r = own_words(f);
    for (uint64_t c = r.c_lo; c < r.c_hi; c++) {
        if (!flags[c])
            continue;
        chunk_words(&r, c, &a, &b);
        for (uint64_t wi = a; wi < b; wi++)
            n += (uint64_t)__builtin_popcountll(fields_equal(f->nbits[wi], f->cur));
    }
    return n;
}

static uint64_t full_next_size(void *engine)
{
    return ((full *)engine)->next_count;
}

/* Current states of this rank's block become closed; next becomes current by swapping the
 * codes, and the flags rotate with the layer number. */
static int full_advance(void *engine)
{
    full *f = engine;
    const uint8_t *flags = sb_full_flags_cur(f);
    const own_range r = own_words(f);
    uint64_t a, b;
    for (uint64_t c = r.c_lo; c < r.c_hi; c++) {
        if (!flags[c])
            continue;
        chunk_words(&r, c, &a, &b);
        for (uint64_t wi = a; wi < b; wi++) {
            uint64_t m = fields_equal(f->nbits[wi], f->cur);
            f->nbits[wi] |= m | (m << 1);
        }
    }
    shm_sync(f); /* the driver's next collective separates this from expanding */
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
    uint64_t s[SB_MAX_WORDS];
    uint8_t row[SB_MAX_WORDS * 64];
    const uint8_t *flags = sb_full_flags_cur(f);
    const own_range r = own_words(f);
    uint64_t a, b;
    for (uint64_t c = r.c_lo; c < r.c_hi && k > 0; c++) {
        if (!flags[c])
            continue;
        chunk_words(&r, c, &a, &b);
        for (uint64_t wi = a; wi < b; wi++) {
            for (uint64_t m = fields_equal(f->nbits[wi], f->cur); m; m &= m - 1) {
                uint64_t o = wi * 32 + (unsigned)__builtin_ctzll(m) / 2;
                sb_space_unrank(&f->space, f->node_lo + o, s);
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
    return f->bits_bytes + 3 * ((f->count >> CHUNK_SHIFT) + 1) + (f->has_dist ? f->count : 0);
}

/* ---- setup ------------------------------------------------------------------------------- */

/* Returns the first MPI failure of freeing (this rank's verdict only). */
static int full_free(full *f)
{
    int err = 0, rc;
    for (int g = 0; g < f->ngens && f->progs; g++)
        sb_genprog_free(&f->progs[g]);
    free(f->progs);
    free(f->shapes);
    free(f->rq);
    if (f->shared) {
        for (int i = 0; i < 3; i++)
            if ((rc = sb_shm_destroy(f->shm[i])) != 0 && !err)
                err = rc;
    } else {
        if (f->nbits)
            munmap(f->nbits, f->bits_bytes);
        free(f->task_ctr); /* the start of the flags buffer */
        free(f->ndist);
    }
    rc = sb_xchg_destroy(f->x);
    sb_bsgs_unranker_free(&f->bsgs_unranker);
    sb_space_free(&f->space);
    return err ? err : rc;
}

static size_t align64(uint64_t n)
{
    return (size_t)((n + 63) / 64 * 64);
}

/* Points the flag arrays and task counters into one zeroed buffer of flags_bytes(f). */
static size_t flags_bytes(const full *f)
{
    return 64 + 3 * align64(f->nchunks);
}

static void place_flags(full *f, unsigned char *p)
{
    f->task_ctr = (uint64_t *)p;
    for (int i = 0; i < 3; i++)
        f->nflags[i] = p + 64 + (size_t)i * align64(f->nchunks);
}

/* What this rank could not allocate, for the report rank 0 prints. */
static int no_memory(const full *f, const char *what, uint64_t bytes, char *detail, size_t size)
{
    char b[32];
    sb_fmt_bytes(b, sizeof b, (double)bytes);
    snprintf(detail, size, "rank %d of %d is out of memory: it asked for %s (%llu bytes) for %s",
             f->ctx->rank, f->ctx->size, b, (unsigned long long)bytes, what);
    return SB_ENOMEM;
}

/* The bit array comes straight from mmap (zero-filled, lazily backed) with transparent huge
 * pages requested: random updates over gigabytes miss the TLB far less on 2 MB pages. */
static int alloc_private(full *f, bool dist, char *detail, size_t size)
{
    f->node_lo = f->lo;
    f->node_n = f->count;
    f->nchunks = (f->node_n >> CHUNK_SHIFT) + 1;
    void *p = sb_fault_alloc(f->ctx) ? MAP_FAILED
                                     : mmap(NULL, f->bits_bytes, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return no_memory(f, "its block of the state bits", f->bits_bytes, detail, size);
    madvise(p, f->bits_bytes, MADV_HUGEPAGE);
    f->nbits = p;
    unsigned char *fl = calloc(1, flags_bytes(f));
    if (!fl)
        return no_memory(f, "the chunk flags", flags_bytes(f), detail, size);
    place_flags(f, fl);
    if (dist && !(f->ndist = malloc(f->count ? f->count : 1)))
        return no_memory(f, "its block of the distance table", f->count, detail, size);
    return 0;
}

/* Whether this node's ranks are consecutive world ranks (then their blocks are one range of
 * states): returns 0 when they are, SB_ELIMIT when not, SB_EMPI; the same on every rank. */
static int node_is_range(const full *f, int *first)
{
    const sb_ctx *ctx = f->ctx;
    int lo = ctx->rank, hi = -ctx->rank, in[2] = {ctx->rank, -ctx->rank}, low[2];
    /* The lowest and (negated) highest world rank of the node in one reduction. */
    int err =
        MPI_Allreduce(in, low, 2, MPI_INT, MPI_MIN, ctx->node_comm) == MPI_SUCCESS ? 0 : SB_EMPI;
    if (!err) {
        lo = low[0];
        hi = -low[1];
    }
    bool ok = !err && hi - lo + 1 == ctx->node_size && ctx->rank - lo == ctx->node_rank;
    *first = lo;
    err = sb_ctx_agree(ctx, err);
    if (err)
        return err;
    err = sb_ctx_agree(ctx, ok ? 0 : SB_ELIMIT);
    return err == SB_EPEER ? SB_ELIMIT : err;
}

static void drop_shared(full *f)
{
    for (int i = 0; i < 3; i++) {
        int err = sb_shm_destroy(f->shm[i]);
        if (err && !f->mpi_err)
            f->mpi_err = err;
        f->shm[i] = NULL;
    }
    f->shared = false;
}

/* The node's arrays in shared memory: the ranks' bit and distance segments are allocated back
 * to back, so that together they are the node's arrays; the leader holds the flags.  Returns
 * non-zero on every rank when that is not possible (the caller then uses private memory). */
static int alloc_shared(full *f, bool dist)
{
    const sb_ctx *ctx = f->ctx;
    int first, err = node_is_range(f, &first);
    if (err)
        return err;
    f->node_lo = block_start(f, first);
    f->node_n = block_start(f, first + ctx->node_size) - f->node_lo;
    f->nchunks = (f->node_n >> CHUNK_SHIFT) + 1;
    f->shared = true;
    err = sb_shm_create(&f->shm[0], ctx, f->count ? f->bits_bytes : 0);
    if (!err)
        err = sb_shm_create(&f->shm[1], ctx, ctx->node_rank == 0 ? flags_bytes(f) : 0);
    if (!err && dist)
        err = sb_shm_create(&f->shm[2], ctx, f->count);
    if (!err) {
        f->nbits = sb_shm_node_array(f->shm[0]);
        f->ndist = dist ? sb_shm_node_array(f->shm[2]) : NULL;
        bool ok = f->node_n == 0 || (f->nbits && (!dist || f->ndist));
        err = sb_ctx_agree(ctx, ok ? 0 : SB_ELIMIT);
    }
    if (err) {
        drop_shared(f);
        return err;
    }
    place_flags(f, sb_shm_segment(f->shm[1], first));
    return 0;
}

/* The arrays, shared with the node's other ranks when that is asked for and possible. */
static int alloc_arrays(full *f, const sb_growth_spec *spec, int err)
{
    f->bits_bytes = ((f->count + 31) / 32) * sizeof(uint64_t);
    if (f->bits_bytes == 0)
        f->bits_bytes = sizeof(uint64_t);
    const sb_ctx *ctx = f->ctx;
    err = sb_ctx_agree(ctx, err);
    if (err)
        return err;
    bool dist = spec->store_distances;
    char detail[256] = "";
    /* Shared arrays when asked for and some node has several ranks (asked so that every rank
     * gives the same answer: node sizes may differ, and a rank alone on its node still takes
     * part).  When they cannot be had, private ones (same verdict on every rank), unless MPI
     * itself failed somewhere. */
    if (spec->shared_memory && ctx->num_nodes < ctx->size) {
        int rc = alloc_shared(f, dist);
        err = sb_ctx_agree(ctx, rc == SB_EMPI || f->mpi_err ? SB_EMPI : 0);
        if (err)
            return err;
        if (rc)
            err = alloc_private(f, dist, detail, sizeof detail);
    } else {
        err = alloc_private(f, dist, detail, sizeof detail);
    }
    /* Every rank reaches this (the shared verdict above is the same everywhere): rank 0 names
     * the rank that could not allocate, and the bytes. */
    err = sb_ctx_agree_report(ctx, err, detail);
    if (err)
        return err;
    f->bits = f->nbits + (f->lo - f->node_lo) / 32;
    /* A node whose blocks are all empty (a space smaller than the ranks' blocks) has no
     * distance array, but its ranks still take part in writing the table: has_dist says
     * whether it is kept, and is the same everywhere. */
    f->has_dist = dist;
    f->dist = f->ndist ? f->ndist + (f->lo - f->node_lo) : NULL;
    if (f->dist)
        memset(f->dist, 255, f->count);
    return 0;
}

int sb_full_flags_clear(full *f)
{
    int err = 0;
    shm_sync(f);
    /* nobody still reads or sets a flag (both barriers are reached even after a failure) */
    if (f->shared && MPI_Barrier(f->ctx->node_comm) != MPI_SUCCESS)
        err = SB_EMPI;
    if (!f->shared || f->ctx->node_rank == 0)
        memset(f->nflags[0], 0, 3 * align64(f->nchunks));
    shm_sync(f);
    if (f->shared && MPI_Barrier(f->ctx->node_comm) != MPI_SUCCESS)
        err = SB_EMPI;
    return err ? err : f->mpi_err;
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
    if (!err && f->space.kind == SB_SPACE_BSGS)
        err = sb_bsgs_unranker_init(&f->bsgs_unranker, f->space.group);
    if (err)
        return err;
    snprintf(r->rank_scheme, sizeof r->rank_scheme, "%s", sb_space_name(&f->space));
    r->space_size = f->space.size;
    const uint64_t N = f->space.size, P = (uint64_t)ctx->size;
    /* Blocks are whole 64-bit words of the bit array (32 states), so that a checkpoint can be
     * cut into byte ranges and read back by a different number of ranks. */
    f->block = ((N + P - 1) / P + 31) / 32 * 32;
    f->inv_block = UINT64_MAX / f->block;
    f->lo = block_start(f, ctx->rank);
    f->count = block_start(f, ctx->rank + 1) - f->lo;
    f->item_bytes = f->block <= (1ULL << 32) ? 4 : 8;
    f->cur = 1;
    f->next = 2;
    memset(f->pending, 0xff, sizeof f->pending); /* NO_MARK */
    f->ngens = gs->ngens;
    f->progs = calloc((size_t)gs->ngens, sizeof *f->progs);
    f->shapes = calloc((size_t)gs->ngens, sizeof *f->shapes);
    if (!f->shapes || !f->progs)
        err = SB_ENOMEM; /* agreed in alloc_arrays, which every rank must reach */
    bool fast = !err && f->space.kind == SB_SPACE_PERM && f->space.codec.nw == 1 &&
                f->space.codec.width == 4;
    for (int g = 0; fast && g < gs->ngens; g++)
        f->shapes[g] = sb_shape_of(gs->perm + (size_t)g * gs->m, gs->m);
    for (int g = 0; g < gs->ngens && !err; g++)
        err = sb_genprog_compile(&f->space.codec, gs->perm + (size_t)g * gs->m, &f->progs[g]);
    err = alloc_arrays(f, spec, err);
    /* With every rank on one shared node nothing goes through the exchange: small buffers. */
    size_t items = f->shared && ctx->num_nodes == 1 ? 4096 : sb_full_xchg_items(f->block);
    if (!err)
        err = sb_xchg_create(&f->x, ctx, (size_t)f->item_bytes, items);
    /* Pipelined rounds let a rank that finishes its batch early go on with the next one
     * (ctx->size is the same on every rank, so all ask alike, as they must). */
    if (!err && ctx->size > 1)
        err = sb_xchg_set_pipelined(f->x, 1);
    if (err)
        return err;
    uint64_t root[SB_MAX_WORDS];
    sb_codec_pack(&f->space.codec, central, root);
    uint64_t rr = sb_space_rank(&f->space, root);
    if (owner_of(f, rr) == ctx->rank) {
        uint64_t o = rr - f->node_lo;
        f->nbits[o >> 5] |= (uint64_t)f->cur << ((o & 31) * 2);
        sb_full_flags_cur(f)[o >> CHUNK_SHIFT] = 1;
        if (f->ndist)
            f->ndist[o] = 0;
    }
    shm_sync(f); /* published by the collectives before the first expansion */
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
    sb_space_free(&space);
    return 0;
}

int sb_growth_full(const sb_growth_spec *spec, const sb_ctx *ctx, struct sb_step *step,
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
                                .ckpt_bytes = full_bytes,
                                .save = sb_full_save,
                                .load = sb_full_load};
        err = sb_bfs_drive(&ops, &f, spec, ctx, step, result);
        sb_xchg_stats st = sb_xchg_get_stats(f.x);
        result->exchange_seconds = st.seconds;
        result->shared_memory = f.shared;
        result->exchange_bytes = st.bytes_remote;
    }
    if (!err && f.has_dist) {
        /* the caller owns and frees the table: out of a shared segment it must be copied */
        uint8_t *d = f.shared ? malloc(f.count ? f.count : 1) : f.dist;
        if (d && f.shared && f.count)
            memcpy(d, f.dist, f.count);
        char detail[256] = "";
        if (!d)
            no_memory(&f, "its copy of the distance table", f.count, detail, sizeof detail);
        err = sb_ctx_agree_report(ctx, d ? 0 : SB_ENOMEM, detail);
        if (!err) {
            result->distances = d;
            result->dist_offset = f.lo;
            result->dist_count = f.count;
            if (!f.shared)
                f.ndist = NULL; /* handed over */
        } else if (f.shared) {
            free(d);
        }
    }
    int freed = full_free(&f);
    return sb_ctx_agree(ctx, err ? err : freed ? freed : f.mpi_err);
}
