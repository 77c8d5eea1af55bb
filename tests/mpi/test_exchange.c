/* The batched exchange delivers every item exactly once to its destination, in bounded rounds,
 * and the "more" flag keeps ranks with different amounts of work in step.  Two live exchanges
 * never take each other's messages, and ranks must agree on pipelining. */
#define _GNU_SOURCE /* setenv */
#include "mpicheck.h"

#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct item {
    uint32_t src, dest;
    uint64_t seq;
} item;

typedef struct sink_state {
    int rank;
    uint64_t received, checksum, misrouted, unordered;
    int last_src;
} sink_state;

static int sink(void *arg, const void *items, size_t count)
{
    sink_state *s = arg;
    const item *it = items;
    int prev = -1;
    for (size_t i = 0; i < count; i++) {
        s->misrouted += it[i].dest != (uint32_t)s->rank;
        /* delivered grouped by source rank, in rank order */
        s->unordered += (int)it[i].src < prev;
        prev = (int)it[i].src;
        s->checksum += sb_mix64(it[i].seq * 131 + it[i].src);
        s->received++;
    }
    return 0;
}

/* Rank r sends (r+1) * per items, to pseudo-random destinations; capacity forces many rounds. */
static void run_case(mpicheck *mc, const sb_ctx *ctx, uint64_t per, size_t capacity, int piped)
{
    sb_xchg *x;
    CHECK(mc, sb_xchg_create(&x, ctx, sizeof(item), capacity) == 0, "create");
    CHECK(mc, sb_xchg_set_pipelined(x, piped) == 0, "set_pipelined");
    sink_state s = {.rank = ctx->rank};
    uint64_t mine = per * (uint64_t)(ctx->rank + 1), next = 0;
    uint64_t sent_to[64] = {0}, sent_sum[64] = {0};
    int more_any = 1, rounds = 0;
    while (more_any) {
        while (next < mine && sb_xchg_room(x) > 0) {
            item it = {.src = (uint32_t)ctx->rank, .seq = next};
            it.dest = (uint32_t)(sb_rand64(5, (uint64_t)ctx->rank, next) % (uint64_t)ctx->size);
            sent_to[it.dest]++;
            sent_sum[it.dest] += sb_mix64(it.seq * 131 + it.src);
            sb_xchg_put(x, (int)it.dest, &it);
            next++;
        }
        CHECK(mc, sb_xchg_round(x, next < mine, sink, &s, &more_any) == 0, "round");
        rounds++;
    }
    uint64_t want_count = 0, want_sum = 0;
    MPI_Reduce_scatter_block(sent_to, &want_count, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    MPI_Reduce_scatter_block(sent_sum, &want_sum, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    CHECK(mc, s.received == want_count, "received %lu want %lu", (unsigned long)s.received,
          (unsigned long)want_count);
    CHECK(mc, s.checksum == want_sum, "checksum");
    CHECK(mc, s.misrouted == 0 && s.unordered == 0, "misrouted %lu unordered %lu",
          (unsigned long)s.misrouted, (unsigned long)s.unordered);
    /* Everybody stops together, after at least the rounds the busiest rank needs (its items
     * over the capacity of one destination's slots, destinations being random). */
    int rmin = 0, rmax = 0;
    MPI_Allreduce(&rounds, &rmin, 1, MPI_INT, MPI_MIN, ctx->comm);
    MPI_Allreduce(&rounds, &rmax, 1, MPI_INT, MPI_MAX, ctx->comm);
    uint64_t most = per * (uint64_t)ctx->size, slots = x->per_dest * (uint64_t)ctx->size;
    uint64_t lower = most ? (most + slots - 1) / slots : 1;
    CHECK(mc, rmin == rmax, "ranks disagree on rounds: %d..%d", rmin, rmax);
    CHECK(mc, (uint64_t)rounds >= lower, "rounds %d, fewer than %lu", rounds, (unsigned long)lower);
    sb_xchg_stats st = sb_xchg_get_stats(x);
    CHECK(mc, st.items_sent == mine, "stats");
    sb_xchg_destroy(x);
}

/* One rank fails in the middle: every rank's next round returns an error, none hangs. */
static void test_failure(mpicheck *mc, const sb_ctx *ctx, int piped)
{
    sb_xchg *x;
    CHECK(mc, sb_xchg_create(&x, ctx, sizeof(item), 64) == 0, "create");
    CHECK(mc, sb_xchg_set_pipelined(x, piped) == 0, "set_pipelined");
    sink_state s = {.rank = ctx->rank};
    int more_any = 1, rounds = 0, rc = 0;
    while (more_any && rc == 0) {
        item it = {.src = (uint32_t)ctx->rank, .dest = 0, .seq = (uint64_t)rounds};
        sb_xchg_put(x, 0, &it);
        if (rounds == 3 && ctx->rank == ctx->size - 1)
            sb_xchg_fail(x, SB_ENOMEM);
        rc = sb_xchg_round(x, 1, sink, &s, &more_any);
        sb_xchg_progress(x);
        rounds++;
    }
    /* pipelined rounds see the flag one round later */
    CHECK(mc, rounds == 4 + piped, "stopped after %d rounds, want %d", rounds, 4 + piped);
    CHECK(mc, rc == (ctx->rank == ctx->size - 1 ? SB_ENOMEM : SB_EPEER), "round returned %d", rc);
    sb_xchg_destroy(x);
}

/* Items of two exchanges at once: each carries the exchange it was staged in. */
typedef struct tagged {
    uint32_t src, xid;
    uint64_t seq;
} tagged;

typedef struct tagged_sink {
    uint32_t xid;
    uint64_t received, foreign, checksum;
} tagged_sink;

static int tagged_deliver(void *arg, const void *items, size_t count)
{
    tagged_sink *s = arg;
    const tagged *it = items;
    for (size_t i = 0; i < count; i++) {
        s->foreign += it[i].xid != s->xid;
        s->checksum += sb_mix64(it[i].seq * 131 + it[i].src + 7919u * it[i].xid);
        s->received++;
    }
    return 0;
}

/* Stages up to `room` items of exchange `xid` (rank r sends `per` items to every rank). */
static void stage_tagged(sb_xchg *x, const sb_ctx *ctx, uint32_t xid, uint64_t per, uint64_t *next)
{
    const uint64_t total = per * (uint64_t)ctx->size;
    while (*next < total && sb_xchg_room(x) > 0) {
        tagged it = {.src = (uint32_t)ctx->rank, .xid = xid, .seq = *next};
        sb_xchg_put(x, (int)(*next % (uint64_t)ctx->size), &it);
        (*next)++;
    }
}

/* Two pipelined exchanges, both with rounds in flight at once, called in opposite orders on
 * even and odd ranks: an odd rank's first message is for exchange B while an even rank's first
 * receive is for exchange A.  On one shared communicator and tag the blocks land in the wrong
 * exchange; on their own communicators every item reaches the exchange that staged it. */
static void test_two_live(mpicheck *mc, const sb_ctx *ctx)
{
    sb_xchg *x[2] = {NULL, NULL};
    tagged_sink s[2] = {{.xid = 0}, {.xid = 1}};
    uint64_t next[2] = {0, 0};
    int more[2] = {1, 1}, err = 0;
    const uint64_t per = 3000; /* items per destination; 64 slots each: many rounds */
    for (int i = 0; i < 2; i++) {
        CHECK(mc, sb_xchg_create(&x[i], ctx, sizeof(tagged), 64 * (size_t)ctx->size) == 0,
              "create %d", i);
        CHECK(mc, sb_xchg_set_pipelined(x[i], 1) == 0, "set_pipelined %d", i);
    }
    const int first = ctx->rank % 2;
    while ((more[0] || more[1]) && !err) {
        for (int k = 0; k < 2 && !err; k++) {
            int i = first ^ k;
            if (!more[i])
                continue;
            stage_tagged(x[i], ctx, (uint32_t)i, per, &next[i]);
            int left = next[i] < per * (uint64_t)ctx->size;
            err = sb_xchg_round(x[i], left, tagged_deliver, &s[i], &more[i]);
        }
    }
    CHECK(mc, err == 0, "two live exchanges: round returned %d", err);
    uint64_t want_sum[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        for (int r = 0; r < ctx->size; r++)
            for (uint64_t q = 0; q < per; q++) {
                uint64_t seq = q * (uint64_t)ctx->size + (uint64_t)ctx->rank;
                want_sum[i] += sb_mix64(seq * 131 + (uint64_t)r + 7919u * (uint64_t)i);
            }
        CHECK(mc, s[i].foreign == 0, "exchange %d received %lu items of the other one", i,
              (unsigned long)s[i].foreign);
        CHECK(mc, s[i].received == per * (uint64_t)ctx->size && s[i].checksum == want_sum[i],
              "exchange %d received %lu items (want %lu) or a wrong checksum", i,
              (unsigned long)s[i].received, (unsigned long)(per * (uint64_t)ctx->size));
        sb_xchg_destroy(x[i]);
    }
}

/* Ranks that disagree about pipelining are refused on every rank, nobody hangs. */
static void test_pipelined_disagree(mpicheck *mc, const sb_ctx *ctx)
{
    sb_xchg *x;
    CHECK(mc, sb_xchg_create(&x, ctx, 8, 1024) == 0, "create");
    int rc = sb_xchg_set_pipelined(x, ctx->rank == ctx->size - 1);
    int want = ctx->size > 1 ? SB_EINTERNAL : 0;
    CHECK(mc, rc == want, "disagreeing set_pipelined returned %d, want %d", rc, want);
    CHECK(mc, sb_xchg_set_pipelined(x, 0) == 0, "agreeing set_pipelined");
    sb_xchg_destroy(x);
}

/* sb_ctx_init under SB_TEST_NODES=value (this rank's value); returns its verdict. */
static int ctx_with_nodes(const char *value, sb_ctx *c)
{
    setenv(SB_TEST_NODES_ENV, value, 1);
    return sb_ctx_init(c, MPI_COMM_WORLD);
}

/* SB_TEST_NODES: pseudo-nodes of consecutive ranks; a bad value fails on every rank alike. */
static void test_pseudo_nodes(mpicheck *mc, const sb_ctx *ctx)
{
    const char *saved = getenv(SB_TEST_NODES_ENV);
    char keep[32] = "", value[32];
    if (saved)
        snprintf(keep, sizeof keep, "%s", saved);
    sb_ctx c;
    snprintf(value, sizeof value, "%d", ctx->size + 1);
    const char *bad[] = {"0", "-1", "two", "2x", "", value};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = ctx_with_nodes(bad[i], &c);
        CHECK(mc, rc == SB_EINPUT, "SB_TEST_NODES='%s': sb_ctx_init returned %d", bad[i], rc);
    }
    /* bad on the last rank only: still refused everywhere, nobody hangs */
    int rc = ctx_with_nodes(ctx->rank == ctx->size - 1 ? "0" : "1", &c);
    CHECK(mc, rc == SB_EINPUT, "SB_TEST_NODES bad on one rank: sb_ctx_init returned %d", rc);
    for (int k = 1; k <= ctx->size; k++) {
        snprintf(value, sizeof value, "%d", k);
        if (ctx_with_nodes(value, &c) != 0) {
            CHECK(mc, 0, "SB_TEST_NODES=%d refused", k);
            continue;
        }
        const int per = (ctx->size + k - 1) / k, want_nodes = (ctx->size + per - 1) / per;
        int first = ctx->rank / per * per,
            want_size = ctx->size - first < per ? ctx->size - first : per;
        /* one real node under ctest; on a real cluster a pseudo-node never spans two */
        if (ctx->num_nodes == 1) {
            CHECK(mc, c.num_nodes == want_nodes, "SB_TEST_NODES=%d: %d nodes, want %d", k,
                  c.num_nodes, want_nodes);
            CHECK(mc, c.node_size == want_size && c.node_rank == ctx->rank - first,
                  "SB_TEST_NODES=%d: node rank %d of %d, want %d of %d", k, c.node_rank,
                  c.node_size, ctx->rank - first, want_size);
        }
        sb_ctx_free(&c);
    }
    if (saved)
        setenv(SB_TEST_NODES_ENV, keep, 1);
    else
        unsetenv(SB_TEST_NODES_ENV);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    sb_ctx_init(&ctx, MPI_COMM_WORLD);
    mpicheck mc = {.rank = ctx.rank};
    for (int piped = 0; piped < 2; piped++) {
        run_case(&mc, &ctx, 0, 16, piped);    /* nothing to send: one empty round */
        run_case(&mc, &ctx, 1, 1, piped);     /* one item per round */
        run_case(&mc, &ctx, 1000, 64, piped); /* many rounds, uneven work per rank */
        run_case(&mc, &ctx, 100000, 1 << 16, piped);
        test_failure(&mc, &ctx, piped);
    }
    test_two_live(&mc, &ctx);
    test_pipelined_disagree(&mc, &ctx);
    test_pseudo_nodes(&mc, &ctx);
    /* Agreement: one rank's error becomes every rank's verdict. */
    int verdict = sb_ctx_agree(&ctx, ctx.rank == ctx.size - 1 ? SB_ENOMEM : 0);
    CHECK(&mc, verdict == (ctx.rank == ctx.size - 1 ? SB_ENOMEM : SB_EPEER), "agree %d", verdict);
    int rc = mpicheck_finish(&mc, ctx.comm, "test_exchange");
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
