/* The step controller (include/symbatch/step.h) on its own, with a toy "kind": checkpoint
 * headers and fingerprints, stops after a step or a signal on one rank, timed checkpoints, a
 * failing save on one rank, progress lines with an ETA, and timers reduced over ranks.
 * Run at 1, 2 and 4 ranks. */
#define _POSIX_C_SOURCE 200809L
#include "mpicheck.h"

#include "symbatch/ckpt.h"
#include "symbatch/comm.h"
#include "symbatch/error.h"
#include "symbatch/signals.h"
#include "symbatch/step.h"

#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct toy {
    const sb_ctx *ctx;
    uint64_t value; /* the kind's state */
    int fail_rank;  /* this rank's save fails (-1: none) */
} toy;

static int toy_save(void *arg, sb_ckpt *ck)
{
    toy *t = arg;
    if (t->ctx->rank == t->fail_rank)
        return sb_ctx_agree(t->ctx, SB_EIO);
    int err = sb_ctx_agree(t->ctx, 0);
    if (!err)
        err = sb_ckpt_write(ck, "/toy/value", SB_CKPT_U64, 1, 0, t->ctx->rank == 0, &t->value);
    return err;
}

static sb_step make_step(const sb_ctx *ctx, const char *path)
{
    sb_step s;
    sb_step_init(&s, ctx, "toy", "update");
    s.path = path;
    s.job_text = "kind: toy\n";
    sb_fp_add(&s.fp, "toy.size", "%d", 12);
    sb_fp_add(&s.fp, "toy.rule", "%s", "plain");
    return s;
}

/* stop_after: a checkpoint at that step, SB_ESIGNAL, and a header a resume can check. */
static void test_stop_and_header(mpicheck *mc, const sb_ctx *ctx, const char *path)
{
    sb_step s = make_step(ctx, path);
    s.stop_after = 3;
    toy t = {ctx, 0, -1};
    int rc = 0;
    int64_t k = 0;
    for (; k < 10 && rc == 0; k++) {
        t.value = (uint64_t)k * 7;
        rc = sb_step_boundary(&s, k, toy_save, &t);
    }
    CHECK(mc, rc == SB_ESIGNAL && k == 4 && s.written == 1, "stop: rc %d at %lld, %d written", rc,
          (long long)k, s.written);
    sb_ckpt ck;
    CHECK(mc, sb_ckpt_open(&ck, ctx, path) == 0, "open the checkpoint");
    char kind[32] = "", rule[32] = "", text[64] = "";
    uint64_t value = 0;
    CHECK(mc, sb_ckpt_get_str(&ck, "kind", kind, sizeof kind) == 0 && !strcmp(kind, "toy"),
          "kind '%s'", kind);
    CHECK(mc,
          sb_ckpt_get_str(&ck, "fingerprint.toy.rule", rule, sizeof rule) == 0 &&
              !strcmp(rule, "plain"),
          "fingerprint '%s'", rule);
    CHECK(mc,
          sb_ckpt_read(&ck, "/job/text", SB_CKPT_U8, 0, 10, text) == 0 &&
              !memcmp(text, "kind: toy\n", 10),
          "job text");
    CHECK(mc, sb_ckpt_read(&ck, "/toy/value", SB_CKPT_U64, 0, 1, &value) == 0 && value == 21,
          "the kind's state: %llu", (unsigned long long)value);
    char why[512] = "";
    sb_step same = make_step(ctx, path);
    CHECK(mc, sb_step_check_fingerprint(&same, &ck, why, sizeof why) == 0, "same job: %s", why);
    sb_step other;
    sb_step_init(&other, ctx, "toy", "update");
    sb_fp_add(&other.fp, "toy.size", "%d", 12);
    sb_fp_add(&other.fp, "toy.rule", "%s", "fancy");
    CHECK(mc, sb_step_check_fingerprint(&other, &ck, why, sizeof why) == SB_ECKPT, "changed job");
    CHECK(mc,
          strstr(why, "toy.rule differs") && strstr(why, "checkpoint: plain") &&
              strstr(why, "this job: fancy"),
          "names the key: %s", why);
    same.resume = &ck;
    sb_step_resumed(&same, 3, 0.01);
    CHECK(mc, same.resumed_step == 3 && same.resumed_ranks == ctx->size, "resumed at %lld, %d",
          (long long)same.resumed_step, same.resumed_ranks);
    sb_ckpt_close(&ck);
    sb_ckpt_remove(ctx, path);
}

/* every: a checkpoint at each boundary once the interval has passed; none with path NULL. */
static void test_interval(mpicheck *mc, const sb_ctx *ctx, const char *path)
{
    sb_step s = make_step(ctx, path);
    s.every = 1e-9;
    toy t = {ctx, 5, -1};
    int rc = 0;
    for (int64_t k = 0; k < 4 && rc == 0; k++)
        rc = sb_step_boundary(&s, k, toy_save, &t);
    CHECK(mc, rc == 0 && s.written == 4, "interval: rc %d, %d written", rc, s.written);
    sb_step none = make_step(ctx, NULL);
    none.every = 1e-9;
    CHECK(mc, sb_step_boundary(&none, 0, NULL, NULL) == 0 && none.written == 0, "no path");
    sb_ckpt_remove(ctx, path);
}

/* A save that fails on the last rank fails on every rank and keeps the previous checkpoint. */
static void test_failed_save(mpicheck *mc, const sb_ctx *ctx, const char *path)
{
    sb_step s = make_step(ctx, path);
    s.every = 1e-9;
    toy t = {ctx, 99, -1};
    CHECK(mc, sb_step_boundary(&s, 0, toy_save, &t) == 0, "first checkpoint");
    t.value = 100;
    t.fail_rank = ctx->size - 1;
    /* periodic: a warning, and the run goes on */
    int rc = sb_step_boundary(&s, 1, toy_save, &t);
    CHECK(mc, rc == 0 && s.written == 1, "failed periodic save: %d, %d written", rc, s.written);
    /* at a stop: the run fails */
    s.stop_after = 2;
    rc = sb_step_boundary(&s, 2, toy_save, &t);
    CHECK(mc, rc == (ctx->rank == ctx->size - 1 ? SB_EIO : SB_EPEER), "failed save: %d", rc);
    sb_ckpt ck;
    uint64_t value = 0;
    CHECK(mc, sb_ckpt_open(&ck, ctx, path) == 0, "the previous checkpoint opens");
    CHECK(mc, sb_ckpt_read(&ck, "/toy/value", SB_CKPT_U64, 0, 1, &value) == 0 && value == 99,
          "the previous checkpoint is intact: %llu", (unsigned long long)value);
    sb_ckpt_close(&ck);
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    CHECK(mc, access(partial, F_OK) != 0, "no temporary file left");
    CHECK(mc, H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "failed save: HDF5 ids left open");
    sb_ckpt_remove(ctx, path);
}

/* No room for a checkpoint (more than any disk holds): a periodic one is skipped with a warning
 * and the run goes on; the previous checkpoint stays; nothing is left open or on disk. */
static void test_no_room(mpicheck *mc, const sb_ctx *ctx, const char *path)
{
    sb_step s = make_step(ctx, path);
    s.every = 1e-9;
    toy t = {ctx, 7, -1};
    CHECK(mc, sb_step_boundary(&s, 0, toy_save, &t) == 0, "first checkpoint");
    s.ckpt_bytes_local = (uint64_t)1 << 60; /* an exabyte per rank */
    t.value = 8;
    CHECK(mc, sb_step_boundary(&s, 1, toy_save, &t) == 0 && s.written == 1,
          "no room, periodic: the run goes on, %d written", s.written);
    CHECK(mc, H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0, "no room: HDF5 ids left open");
    s.stop_after = 2;
    CHECK(mc, sb_step_boundary(&s, 2, toy_save, &t) == SB_EIO, "no room at a stop: SB_EIO");
    sb_ckpt ck;
    uint64_t value = 0;
    CHECK(mc, sb_ckpt_open(&ck, ctx, path) == 0, "the previous checkpoint opens");
    CHECK(mc, sb_ckpt_read(&ck, "/toy/value", SB_CKPT_U64, 0, 1, &value) == 0 && value == 7,
          "the previous checkpoint is intact: %llu", (unsigned long long)value);
    sb_ckpt_close(&ck);
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    CHECK(mc, access(partial, F_OK) != 0, "no room: no temporary file left");
    sb_ckpt_remove(ctx, path);
}

/* SIGUSR1 on the last rank only: every rank stops at the boundary and knows the signal. */
static void test_signal(mpicheck *mc, const sb_ctx *ctx, const char *path)
{
    sb_signals *sig = NULL;
    CHECK(mc, sb_signals_install(&sig) == 0, "install handlers");
    if (ctx->rank == ctx->size - 1)
        raise(SIGUSR1);
    sb_step s = make_step(ctx, path);
    toy t = {ctx, 1, -1};
    int rc = sb_step_boundary(&s, 0, toy_save, &t);
    sb_signals_restore(sig);
    sb_signals_clear();
    CHECK(mc, rc == SB_ESIGNAL && s.stopped_by == SIGUSR1 && s.written == 1,
          "signal: rc %d, stopped by %d", rc, s.stopped_by);
    sb_ckpt_remove(ctx, path);
}

/* Progress lines: unit, step of total, the kind's fields, memory, elapsed, ETA when known. */
static void test_progress(mpicheck *mc, const sb_ctx *ctx)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = ctx->rank == 0 ? open_memstream(&text, &len) : NULL;
    sb_step s = make_step(ctx, NULL);
    s.show = true;
    s.out = out;
    s.total = 5;
    /* at most one line a second: steps 1..3 come within a second of step 0 and are not shown,
     * unless `last` asks */
    for (int64_t k = 0; k < 4; k++)
        CHECK(mc, sb_step_progress(&s, k, "loss 0.5", false) == 0, "progress %lld", (long long)k);
    s.t_printed -= 2.0;             /* as if two seconds had passed */
    for (int64_t k = 0; k < 3; k++) /* step 2 is shown; 0 was shown already */
        CHECK(mc, sb_step_progress(&s, 2, "loss 0.5", false) == 0, "progress 2");
    CHECK(mc, sb_step_progress(&s, 3, "loss 0.5", true) == 0, "progress 3, last");
    CHECK(mc, sb_step_progress(&s, 3, "loss 0.5", true) == 0, "progress 3 again");
    s.total = -1;
    CHECK(mc, sb_step_progress(&s, 5, "loss 0.25", true) == 0, "progress without a total");
    if (out) {
        fclose(out);
        CHECK(mc, strstr(text, "update    2  loss 0.5  mem/rank") != NULL, "line: %s", text);
        CHECK(mc, strstr(text, "update    0  ") && !strstr(text, "update    1  "), "throttled: %s",
              text);
        int lines = 0;
        for (const char *p = text; (p = strchr(p, '\n')); p++)
            lines++;
        CHECK(mc, lines == 4, "4 lines (steps 0, 2, 3 and 5): %s", text);
        CHECK(mc, strstr(text, "ETA ") && strstr(text, " s to update 4\n"),
              "an ETA with a total: %s", text);
        const char *last = strstr(text, "update    5  loss 0.25");
        CHECK(mc, last && !strstr(last, "ETA"), "no ETA without a total: %s", text);
        free(text);
    }
}

/* Timers: min and max over ranks, by name, a phase only rank 0 timed counts 0 elsewhere. */
static void test_timers(mpicheck *mc, const sb_ctx *ctx)
{
    sb_step s = make_step(ctx, NULL);
    sb_step_time(&s, "compute", ctx->rank + 1.0);
    sb_step_time(&s, "compute", 0.5);
    if (ctx->rank == 0)
        sb_step_time(&s, "only0", 5.0);
    sb_timer_stats ts;
    CHECK(mc, sb_step_timer_stats(&s, &ts) == 0, "reduce");
    CHECK(mc, ts.n == 2 && !strcmp(ts.name[0], "compute") && !strcmp(ts.name[1], "only0"),
          "%d phases", ts.n);
    CHECK(mc, ts.min[0] == 1.5 && ts.max[0] == ctx->size + 0.5, "compute %g..%g", ts.min[0],
          ts.max[0]);
    CHECK(mc, ts.max[1] == 5.0 && ts.min[1] == (ctx->size > 1 ? 0.0 : 5.0), "only0 %g..%g",
          ts.min[1], ts.max[1]);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    sb_ctx_init(&ctx, MPI_COMM_WORLD);
    mpicheck mc = {.rank = ctx.rank};
    char dir[256] = "", path[512];
    if (ctx.rank == 0) {
        snprintf(dir, sizeof dir, "%s/sb-step-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir))
            dir[0] = '\0';
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx.comm);
    CHECK(&mc, dir[0] != '\0', "scratch folder");
    snprintf(path, sizeof path, "%s/toy.ckpt.h5", dir);
    test_stop_and_header(&mc, &ctx, path);
    test_interval(&mc, &ctx, path);
    test_failed_save(&mc, &ctx, path);
    test_no_room(&mc, &ctx, path);
    test_signal(&mc, &ctx, path);
    test_progress(&mc, &ctx);
    test_timers(&mc, &ctx);
    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0)
        rmdir(dir);
    int rc = mpicheck_finish(&mc, ctx.comm, "test_step");
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
