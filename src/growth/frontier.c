/* Frontier-mode BFS: hash-owned layers of packed states, exchanged in bounded rounds.
 *
 * Each rank owns the states whose hash maps to it.  Per layer every rank expands its share of
 * the current layer, routes each neighbour to its owner through the exchange object, and the
 * owner keeps the neighbours that are in no earlier layer it holds: the last two layers when
 * the generators are inverse-closed (an edge from layer k only reaches k-1, k or k+1), every
 * layer when they are not (directed growth).  Deduplication compares whole states. */
#include "growth/engine.h"
#include "growth/frontier_impl.h"
#include "growth/lastlayer.h"
#include "growth/stateset.h"

#include "symbatch/codec.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/growth.h"

#include <stdlib.h>
#include <string.h>

static int owner_of(const uint64_t *state, int nw, int size)
{
    return (int)(((unsigned __int128)sb_state_hash(state, nw) * (unsigned)size) >> 64);
}

/* Returns what freeing the exchange returned (this rank's verdict only). */
static int frontier_free(frontier *f)
{
    for (int g = 0; g < f->ngens && f->progs; g++)
        sb_genprog_free(&f->progs[g]);
    free(f->progs);
    sb_sarr_free(&f->prev);
    sb_sarr_free(&f->cur);
    sb_sarr_free(&f->next);
    sb_sarr_free(&f->tmp);
    for (int r = 0; r < f->nruns; r++)
        sb_sarr_free(&f->runs[r]);
    free(f->runs);
    return sb_xchg_destroy(f->x);
}

static int frontier_init(frontier *f, const sb_growth_spec *spec, const sb_ctx *ctx)
{
    memset(f, 0, sizeof *f);
    f->ctx = ctx;
    const sb_genset *gs = &spec->gens;
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    int maxv = 0;
    for (int i = 0; i < gs->m; i++)
        maxv = central[i] > maxv ? central[i] : maxv;
    int err = sb_codec_init(&f->codec, gs->m, maxv);
    f->nw = f->codec.nw;
    f->ngens = gs->ngens;
    f->directed = !gs->inverse_closed;
    f->progs = err ? NULL : calloc((size_t)gs->ngens, sizeof *f->progs);
    if (!err && !f->progs)
        err = SB_ENOMEM;
    for (int g = 0; g < gs->ngens && !err; g++)
        err = sb_genprog_compile(&f->codec, gs->perm + (size_t)g * gs->m, &f->progs[g]);
    sb_sarr_init(&f->prev, f->nw);
    sb_sarr_init(&f->cur, f->nw);
    sb_sarr_init(&f->next, f->nw);
    sb_sarr_init(&f->tmp, f->nw);
    /* Creating the exchange is collective: a local failure is agreed first, so every rank
     * creates it or none does. */
    err = sb_ctx_agree(ctx, err);
    if (!err)
        err = sb_xchg_create(&f->x, ctx, (size_t)f->nw * sizeof(uint64_t), XCHG_STATES);
    if (!err) {
        uint64_t root[SB_MAX_WORDS];
        sb_codec_pack(&f->codec, central, root);
        if (owner_of(root, f->nw, ctx->size) == ctx->rank)
            err = sb_sarr_append(&f->cur, root, 1);
    }
    return err;
}

/* Drops duplicates from next's sorted tail and what earlier layers already hold. */
static void filter_visited(frontier *f, size_t from)
{
    const sb_sarr *filters[SB_MAX_FILTERS];
    int nf = 0;
    filters[nf++] = &f->cur;
    if (!f->directed)
        filters[nf++] = &f->prev;
    for (int r = 0; f->directed && r < f->nruns; r++)
        filters[nf++] = &f->runs[r];
    sb_sarr_filter_tail(&f->next, from, filters, nf);
}

/* Sorts, deduplicates and filters the tail of next, then merges it into the clean head. */
static int compact_next(frontier *f)
{
    size_t from = f->next_clean;
    int err = sb_sarr_sort_tail(&f->next, from, &f->tmp);
    if (err)
        return err;
    filter_visited(f, from);
    err = sb_sarr_merge_tail(&f->next, from, &f->tmp);
    f->next_clean = f->next.n;
    return err;
}

/* Compacts next once its unsorted tail is at least as large as the clean head: amortised,
 * each candidate is sorted once and memory stays near twice the distinct states. */
static int maybe_compact(frontier *f)
{
    size_t tail = f->next.n - f->next_clean;
    if (tail >= COMPACT_MIN && tail >= f->next_clean)
        return compact_next(f);
    return 0;
}

static int receive_candidates(void *arg, const void *items, size_t count)
{
    frontier *f = arg;
    int err = sb_sarr_append(&f->next, items, count);
    return err ? err : maybe_compact(f);
}

/* Neighbours this rank owns skip the exchange and go straight into next (the caller has
 * reserved room for ngens more states). */
static void expand_one(frontier *f, const uint64_t *s)
{
    uint64_t nb[SB_MAX_WORDS];
    const int p = f->ctx->size, me = f->ctx->rank, nw = f->nw;
    for (int g = 0; g < f->ngens; g++) {
        if (nw == 1)
            nb[0] = sb_genprog_apply1(&f->progs[g], s[0]);
        else
            sb_genprog_apply(&f->progs[g], nw, s, nb);
        int dest = owner_of(nb, nw, p);
        if (dest == me) {
            memcpy(f->next.w + f->next.n * (size_t)nw, nb, (size_t)nw * sizeof *nb);
            f->next.n++;
        } else {
            sb_xchg_put(f->x, dest, nb);
        }
    }
}

static uint64_t frontier_bytes(const frontier *f);

/* The sink, noting how many states next is asked to hold, for the report of a rank out of
 * memory. */
typedef struct noted_sink {
    frontier *f;
    size_t want;
} noted_sink;

static int receive_noted(void *arg, const void *items, size_t count)
{
    noted_sink *a = arg;
    if (!sb_xchg_error(a->f->x)) /* keep the request that failed */
        a->want = a->f->next.n + count;
    return receive_candidates(a->f, items, count);
}

/* Collective: the layer's verdict; rank 0 names a rank that ran out of memory and the bytes. */
static int agree_layer(frontier *f, int err, size_t want)
{
    char detail[256] = "";
    if (err == SB_ENOMEM) {
        uint64_t bytes = (uint64_t)want * (uint64_t)f->nw * 8u;
        char b[32], held[32];
        sb_fmt_bytes(b, sizeof b, (double)bytes);
        sb_fmt_bytes(held, sizeof held, (double)frontier_bytes(f));
        snprintf(detail, sizeof detail,
                 "rank %d of %d is out of memory in frontier mode: it asked for %s (%llu bytes) "
                 "to hold %zu states of the next layer, beside the %s it held",
                 f->ctx->rank, f->ctx->size, b, (unsigned long long)bytes, want, held);
    }
    return sb_ctx_agree_report(f->ctx, err, detail);
}

/* Expands the current layer; afterwards next holds this rank's share of the next layer. */
static int expand_layer(frontier *f)
{
    size_t i = 0;
    int more_any = 1, err = 0;
    noted_sink sink = {f, 0};
    f->next.n = 0;
    f->next_clean = 0;
    while (more_any) {
        /* A batch: as many states as the exchange can take, next reserved for all of them. */
        size_t batch = sb_xchg_room(f->x) / (size_t)f->ngens;
        if (batch > f->cur.n - i)
            batch = f->cur.n - i;
        sink.want = f->next.n + batch * (size_t)f->ngens;
        err = sb_sarr_reserve(&f->next, sink.want);
        for (size_t end = i + batch; !err && i < end; i++)
            expand_one(f, sb_sarr_at(&f->cur, i));
        if (!err)
            err = maybe_compact(f);
        /* A local failure still takes part in the round, which then fails on every rank. */
        sb_xchg_fail(f->x, err);
        err = sb_xchg_round(f->x, i < f->cur.n, receive_noted, &sink, &more_any);
        if (err)
            break;
    }
    if (!err)
        err = sb_xchg_error(f->x);
    if (!err) {
        sink.want = f->next.n;
        err = compact_next(f);
    }
    return agree_layer(f, err, sink.want);
}

/* Directed growth keeps every layer: push cur as a run, merging runs of similar size so that
 * at most O(log layers) runs are searched per candidate. */
static int retire_current_directed(frontier *f)
{
    if (f->nruns == f->runs_cap) {
        int cap = f->runs_cap ? 2 * f->runs_cap : 8;
        sb_sarr *r = realloc(f->runs, (size_t)cap * sizeof *r);
        if (!r)
            return SB_ENOMEM;
        f->runs = r;
        f->runs_cap = cap;
    }
    f->runs[f->nruns++] = f->cur;
    sb_sarr_init(&f->cur, f->nw);
    while (f->nruns >= 2 && f->runs[f->nruns - 2].n <= 2 * f->runs[f->nruns - 1].n) {
        sb_sarr *a = &f->runs[f->nruns - 2], *b = &f->runs[f->nruns - 1];
        size_t mid = a->n;
        int err = sb_sarr_append(a, b->w, b->n);
        if (!err)
            err = sb_sarr_merge_tail(a, mid, &f->tmp);
        if (err)
            return err;
        sb_sarr_free(b);
        f->nruns--;
    }
    return 0;
}

static int advance(frontier *f)
{
    if (f->directed) {
        int err = retire_current_directed(f);
        if (err)
            return err;
        sb_sarr_swap(&f->cur, &f->next);
        return 0;
    }
    /* prev <- cur <- next; the old prev's buffer is reused for the next layer. */
    sb_sarr_swap(&f->prev, &f->cur);
    sb_sarr_swap(&f->cur, &f->next);
    return 0;
}

static int frontier_last_layer(frontier *f, uint64_t k, sb_growth_result *res)
{
    sb_topk t;
    int err = sb_topk_init(&t, k, f->codec.m);
    if (err)
        return sb_ctx_agree(f->ctx, err);
    uint8_t row[SB_MAX_ELEMS];
    for (size_t i = 0; i < f->cur.n; i++) {
        sb_codec_unpack(&f->codec, sb_sarr_at(&f->cur, i), row);
        sb_topk_offer(&t, row);
    }
    err = sb_topk_gather(&t, f->ctx, &res->last_layer, &res->last_layer_rows);
    sb_topk_free(&t);
    return err;
}

static uint64_t frontier_bytes(const frontier *f)
{
    size_t words = f->prev.cap + f->cur.cap + f->next.cap + f->tmp.cap;
    for (int r = 0; r < f->nruns; r++)
        words += f->runs[r].cap;
    return (uint64_t)words * (uint64_t)f->nw * 8u;
}

static uint64_t local_size(void *engine)
{
    return ((frontier *)engine)->cur.n;
}

static int expand(void *engine, uint64_t *edges)
{
    frontier *f = engine;
    *edges = (uint64_t)f->cur.n * (uint64_t)f->ngens;
    return expand_layer(f);
}

static uint64_t next_size(void *engine)
{
    return ((frontier *)engine)->next.n;
}

static int advance_layer(void *engine)
{
    frontier *f = engine;
    return sb_ctx_agree(f->ctx, advance(f));
}

static int last_layer(void *engine, uint64_t k, sb_growth_result *res)
{
    return frontier_last_layer(engine, k, res);
}

static uint64_t bytes_held(void *engine)
{
    return frontier_bytes(engine);
}

/* The layers a checkpoint holds: current, previous (undirected) and every earlier run
 * (directed), whole states. */
static uint64_t ckpt_bytes(void *engine)
{
    const frontier *f = engine;
    uint64_t states = f->cur.n + f->prev.n;
    for (int r = 0; r < f->nruns; r++)
        states += f->runs[r].n;
    return states * (uint64_t)f->nw * 8u;
}

/* Frontier mode holds sorted shares of a few layers plus candidates and a sort buffer: at
 * worst every state once (directed: all layers) with about 3x overhead for candidates and
 * radix-sort space.  An upper bound only, since layer sizes are unknown before the run. */
int sb_frontier_estimate(const sb_growth_spec *spec, int nranks, sb_mem_estimate *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->mode, sizeof out->mode, "frontier");
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    int maxv = 0;
    for (int i = 0; i < spec->gens.m; i++)
        maxv = central[i] > maxv ? central[i] : maxv;
    sb_codec codec;
    if (sb_codec_init(&codec, spec->gens.m, maxv) != 0)
        return SB_ELIMIT;
    double states = sb_growth_space_bound(spec);
    double bytes_state = 8.0 * codec.nw;
    double fixed = 2.0 * XCHG_STATES * bytes_state;
    double per_rank = 3.0 * states * bytes_state / nranks + fixed;
    out->bytes_fixed = (uint64_t)fixed;
    out->bytes_per_rank = per_rank > 1.8e19 ? UINT64_MAX : (uint64_t)per_rank;
    out->bytes_total = per_rank * nranks > 1.8e19 ? UINT64_MAX : (uint64_t)(per_rank * nranks);
    snprintf(out->detail, sizeof out->detail,
             "worst case: all %.4g states held once at %d bytes, x3 for candidates and sorting, "
             "over %d ranks, + exchange buffers; real use is the largest few layers",
             states, (int)bytes_state, nranks);
    return 0;
}

int sb_growth_frontier(const sb_growth_spec *spec, const sb_ctx *ctx, struct sb_step *step,
                       sb_growth_result *result)
{
    frontier f;
    int err = sb_ctx_agree(ctx, frontier_init(&f, spec, ctx));
    if (!err) {
        const sb_bfs_ops ops = {.name = "frontier",
                                .local_size = local_size,
                                .expand = expand,
                                .next_size = next_size,
                                .advance = advance_layer,
                                .last_layer = last_layer,
                                .bytes_held = bytes_held,
                                .ckpt_bytes = ckpt_bytes,
                                .save = sb_frontier_save,
                                .load = sb_frontier_load};
        err = sb_bfs_drive(&ops, &f, spec, ctx, step, result);
        sb_xchg_stats st = sb_xchg_get_stats(f.x);
        result->exchange_seconds = st.seconds;
        result->exchange_bytes = st.bytes_remote;
    }
    int freed = frontier_free(&f);
    return sb_ctx_agree(ctx, err ? err : freed);
}
