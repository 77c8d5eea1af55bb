/* The batched exchange delivers every item exactly once to its destination, in bounded rounds,
 * and the "more" flag keeps ranks with different amounts of work in step. */
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
    sb_xchg_set_pipelined(x, piped);
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
    sb_xchg_set_pipelined(x, piped);
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
    /* Agreement: one rank's error becomes every rank's verdict. */
    int verdict = sb_ctx_agree(&ctx, ctx.rank == ctx.size - 1 ? SB_ENOMEM : 0);
    CHECK(&mc, verdict == (ctx.rank == ctx.size - 1 ? SB_ENOMEM : SB_EPEER), "agree %d", verdict);
    int rc = mpicheck_finish(&mc, ctx.comm, "test_exchange");
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
