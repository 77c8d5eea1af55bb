/* Frontier-mode checkpoints (frontier_impl.h): the layers each rank holds, as global datasets
 * of concatenated per-rank shards (states of nw uint64 words) with the shard offsets.
 *
 *   /frontier/state          nw, directed, number of /frontier/seen/K sets
 *   /frontier/cur            the current layer        (+ cur_offsets: shard k is states
 *   /frontier/prev           undirected: the layer before   [offsets[k], offsets[k+1]))
 *   /frontier/seen/K         directed: earlier layers, one set per run of the writer
 *
 * Loading on the number of ranks that wrote it, a rank reads its own shard; on another number,
 * an even share of each set.  Either way every state goes to its owner under the current number
 * of ranks through the exchange object, and each set is sorted again. */
#include "growth/frontier_impl.h"

#include "symbatch/ckpt.h"
#include "symbatch/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { ST_NW, ST_DIRECTED, ST_NSEEN, ST_COUNT };

/* The owner of a state: must be frontier.c's owner_of, which routes the BFS. */
static int owner_of(const uint64_t *state, int nw, int size)
{
    return (int)(((unsigned __int128)sb_state_hash(state, nw) * (unsigned)size) >> 64);
}

static int refuse(const frontier *f, const struct sb_ckpt *ck, const char *why)
{
    if (f->ctx->rank == 0)
        fprintf(f->ctx->err, "symbatch: checkpoint '%s': %s\n", ck->path, why);
    return SB_ECKPT;
}

/* ---- saving --------------------------------------------------------------------------------- */

/* Shard offsets in states (size + 1 entries), written by rank 0. */
static int save_offsets(const frontier *f, struct sb_ckpt *ck, const char *name, uint64_t n)
{
    const int p = f->ctx->size, root = f->ctx->rank == 0;
    uint64_t *off = root ? calloc((size_t)p + 1, sizeof *off) : NULL;
    int err = sb_ctx_agree(f->ctx, root && !off ? SB_ENOMEM : 0);
    if (!err && MPI_Gather(&n, 1, MPI_UINT64_T, off ? off + 1 : NULL, 1, MPI_UINT64_T, 0,
                           f->ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    for (int k = 1; !err && root && k <= p; k++)
        off[k] += off[k - 1];
    char path[128];
    snprintf(path, sizeof path, "%s_offsets", name);
    if (!err)
        err = sb_ckpt_write(ck, path, SB_CKPT_U64, (uint64_t)p + 1, 0, root ? (uint64_t)p + 1 : 0,
                            off);
    free(off);
    return err;
}

static int save_set(const frontier *f, struct sb_ckpt *ck, const char *name, const sb_sarr *a)
{
    uint64_t n = a ? a->n : 0, before = 0, total = 0;
    const uint64_t nw = (uint64_t)f->nw;
    if (MPI_Exscan(&n, &before, 1, MPI_UINT64_T, MPI_SUM, f->ctx->comm) != MPI_SUCCESS ||
        MPI_Allreduce(&n, &total, 1, MPI_UINT64_T, MPI_SUM, f->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (f->ctx->rank == 0)
        before = 0; /* MPI_Exscan leaves rank 0's result undefined */
    int err = save_offsets(f, ck, name, n);
    if (!err)
        err =
            sb_ckpt_write(ck, name, SB_CKPT_U64, total * nw, before * nw, n * nw, a ? a->w : NULL);
    return err;
}

int sb_frontier_save(void *engine, struct sb_ckpt *ck)
{
    frontier *f = engine;
    int nseen = 0;
    if (MPI_Allreduce(&f->nruns, &nseen, 1, MPI_INT, MPI_MAX, f->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    nseen = f->directed ? nseen : 0;
    uint64_t state[ST_COUNT] = {(uint64_t)f->nw, (uint64_t)f->directed, (uint64_t)nseen};
    const int root = f->ctx->rank == 0;
    int err =
        sb_ckpt_write(ck, "/frontier/state", SB_CKPT_U64, ST_COUNT, 0, root ? ST_COUNT : 0, state);
    if (!err)
        err = save_set(f, ck, "/frontier/cur", &f->cur);
    if (!err && !f->directed)
        err = save_set(f, ck, "/frontier/prev", &f->prev);
    for (int k = 0; !err && k < nseen; k++) {
        char name[64];
        snprintf(name, sizeof name, "/frontier/seen/%d", k);
        err = save_set(f, ck, name, k < f->nruns ? &f->runs[k] : NULL);
    }
    return err;
}

/* ---- loading -------------------------------------------------------------------------------- */

static int sink_append(void *arg, const void *items, size_t count)
{
    return sb_sarr_append(arg, items, count);
}

/* Sends every state of w to its owner; the owner appends it to out. */
static int route(frontier *f, const uint64_t *w, size_t n, sb_sarr *out)
{
    const int nw = f->nw, me = f->ctx->rank, p = f->ctx->size;
    size_t i = 0;
    int more_any = 1, err = sb_sarr_reserve(out, out->n + n);
    while (more_any) {
        for (; !err && i < n && sb_xchg_room(f->x) > 0; i++) {
            const uint64_t *s = w + i * (size_t)nw;
            int dest = owner_of(s, nw, p);
            if (dest == me)
                err = sb_sarr_append(out, s, 1);
            else
                sb_xchg_put(f->x, dest, s);
        }
        /* A local failure still takes part in the round, which then fails on every rank. */
        sb_xchg_fail(f->x, err);
        int rc = sb_xchg_round(f->x, i < n, sink_append, out, &more_any);
        if (rc) {
            err = err ? err : rc;
            break;
        }
    }
    if (!err)
        err = sb_xchg_error(f->x);
    return sb_ctx_agree(f->ctx, err);
}

/* The states this rank reads of a set of `total` states: its own shard when the writer had as
 * many ranks, else an even share. */
static int my_range(frontier *f, struct sb_ckpt *ck, const char *name, uint64_t total, int writers,
                    uint64_t *lo, uint64_t *hi)
{
    const uint64_t p = (uint64_t)f->ctx->size, r = (uint64_t)f->ctx->rank;
    if (writers != f->ctx->size) {
        *lo = (uint64_t)(((unsigned __int128)total * r) / p);
        *hi = (uint64_t)(((unsigned __int128)total * (r + 1)) / p);
        return 0;
    }
    char path[128];
    uint64_t off[2];
    snprintf(path, sizeof path, "%s_offsets", name);
    int err = sb_ckpt_read(ck, path, SB_CKPT_U64, r, 2, off);
    if (err)
        return err;
    bool bad = off[0] > off[1] || off[1] > total;
    if (sb_ctx_agree(f->ctx, bad ? SB_ECKPT : 0))
        return refuse(f, ck, "shard offsets are inconsistent (damaged file?)");
    *lo = off[0];
    *hi = off[1];
    return 0;
}

/* Reads set `name` (appending to out, unsorted). */
static int load_set(frontier *f, struct sb_ckpt *ck, const char *name, int writers, sb_sarr *out)
{
    bool exists = false;
    uint64_t words = 0, lo = 0, hi = 0;
    const uint64_t nw = (uint64_t)f->nw;
    int err = sb_ckpt_length(ck, name, SB_CKPT_U64, &exists, &words);
    if (!err && (!exists || words % nw)) {
        char why[160];
        snprintf(why, sizeof why, "dataset '%s' is missing or has a wrong length", name);
        return refuse(f, ck, why);
    }
    if (!err)
        err = my_range(f, ck, name, words / nw, writers, &lo, &hi);
    if (err)
        return err;
    uint64_t *buf = malloc((hi - lo) * nw * sizeof *buf + 8);
    err = sb_ctx_agree(f->ctx, buf ? 0 : SB_ENOMEM);
    if (!err)
        err = sb_ckpt_read(ck, name, SB_CKPT_U64, lo * nw, (hi - lo) * nw, buf);
    if (!err)
        err = route(f, buf, (size_t)(hi - lo), out);
    free(buf);
    return err;
}

static int sort_set(frontier *f, sb_sarr *a)
{
    int err = sb_sarr_sort_tail(a, 0, &f->tmp);
    if (!err)
        sb_sarr_unique_tail(a, 0);
    f->tmp.n = 0;
    return sb_ctx_agree(f->ctx, err);
}

static int read_state(frontier *f, struct sb_ckpt *ck, int *nseen, int *writers)
{
    uint64_t st[ST_COUNT];
    int64_t ranks = 0;
    int err = sb_ckpt_read(ck, "/frontier/state", SB_CKPT_U64, 0, ST_COUNT, st);
    if (!err)
        err = sb_ckpt_get_i64(ck, "ranks", &ranks);
    if (err)
        return err;
    if (st[ST_NW] != (uint64_t)f->nw || st[ST_DIRECTED] != (uint64_t)(f->directed != 0) ||
        st[ST_NSEEN] > 4096 || ranks < 1 || ranks > INT32_MAX)
        return refuse(f, ck, "/frontier/state does not match this run (damaged file?)");
    *nseen = (int)st[ST_NSEEN];
    *writers = (int)ranks;
    return 0;
}

/* Directed growth: all earlier layers become one run. */
static int load_seen(frontier *f, struct sb_ckpt *ck, int nseen, int writers)
{
    f->runs = calloc(8, sizeof *f->runs);
    int err = sb_ctx_agree(f->ctx, f->runs ? 0 : SB_ENOMEM);
    if (err)
        return err;
    f->runs_cap = 8;
    f->nruns = 1;
    sb_sarr_init(&f->runs[0], f->nw);
    for (int k = 0; !err && k < nseen; k++) {
        char name[64];
        snprintf(name, sizeof name, "/frontier/seen/%d", k);
        err = load_set(f, ck, name, writers, &f->runs[0]);
    }
    return err ? err : sort_set(f, &f->runs[0]);
}

int sb_frontier_load(void *engine, struct sb_ckpt *ck)
{
    frontier *f = engine;
    int nseen = 0, writers = 0;
    int err = read_state(f, ck, &nseen, &writers);
    if (err)
        return err;
    /* frontier_init put the root into cur: start from empty sets. */
    f->cur.n = f->prev.n = f->next.n = 0;
    f->next_clean = 0;
    err = load_set(f, ck, "/frontier/cur", writers, &f->cur);
    if (!err)
        err = sort_set(f, &f->cur);
    if (!err && !f->directed)
        err = load_set(f, ck, "/frontier/prev", writers, &f->prev);
    if (!err && !f->directed)
        err = sort_set(f, &f->prev);
    if (!err && f->directed)
        err = load_seen(f, ck, nseen, writers);
    return err;
}
