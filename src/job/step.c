/* The step controller (step.h): checkpoints, signals, progress lines and timers at step
 * boundaries, for every job kind.
 *
 * Checkpoints are taken at step boundaries only, where the kind holds a consistent state that an
 * uninterrupted run also passes through, so that a resumed run computes exactly the same steps. */
#include "symbatch/step.h"

#include "symbatch/ckpt.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/signals.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Test-only: SB_TEST_STEP_DELAY_MS=N sleeps N milliseconds at every step boundary of a run with
 * checkpoints, so that tests can interrupt a small job at a chosen step.  Not for users. */
#define STEP_DELAY_ENV "SB_TEST_STEP_DELAY_MS"

void sb_fp_add(sb_fingerprint *fp, const char *key, const char *fmt, ...)
{
    if (fp->n >= SB_FP_MAX)
        return;
    snprintf(fp->key[fp->n], sizeof fp->key[fp->n], "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fp->value[fp->n], sizeof fp->value[fp->n], fmt, ap);
    va_end(ap);
    fp->n++;
}

void sb_step_init(sb_step *s, const sb_ctx *ctx, const char *kind, const char *unit)
{
    memset(s, 0, sizeof *s);
    s->ctx = ctx;
    s->kind = kind;
    s->unit = unit;
    s->total = -1;
    s->resumed_step = -1;
    s->printed_step = -1;
    s->t_start = s->t_last = sb_now();
    const char *delay = getenv(STEP_DELAY_ENV);
    s->delay_ms = delay ? atoi(delay) : 0;
}

void sb_step_note(const sb_step *s, const char *fmt, ...)
{
    if (!s || !s->show || s->ctx->rank != 0 || !s->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->out, fmt, ap);
    va_end(ap);
    fputc('\n', s->out);
    fflush(s->out);
}

/* ---- timers --------------------------------------------------------------------------------- */

static int timer_find(const sb_timers *t, const char *phase)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->name[i], phase) == 0)
            return i;
    return -1;
}

void sb_step_time(sb_step *s, const char *phase, double seconds)
{
    sb_timers *t = &s->timers;
    int i = timer_find(t, phase);
    if (i < 0 && t->n < SB_TIMERS_MAX) {
        i = t->n++;
        snprintf(t->name[i], sizeof t->name[i], "%s", phase);
        t->seconds[i] = 0;
    }
    if (i >= 0)
        t->seconds[i] += seconds;
}

int sb_step_timer_stats(const sb_step *s, sb_timer_stats *out)
{
    memset(out, 0, sizeof *out);
    out->n = s->timers.n;
    memcpy(out->name, s->timers.name, sizeof out->name);
    const MPI_Comm comm = s->ctx->comm;
    if (MPI_Bcast(&out->n, 1, MPI_INT, 0, comm) != MPI_SUCCESS ||
        MPI_Bcast(out->name, (int)sizeof out->name, MPI_CHAR, 0, comm) != MPI_SUCCESS)
        return SB_EMPI;
    double mine[SB_TIMERS_MAX] = {0};
    for (int i = 0; i < out->n; i++) {
        int j = timer_find(&s->timers, out->name[i]);
        mine[i] = j >= 0 ? s->timers.seconds[j] : 0;
    }
    if (MPI_Allreduce(mine, out->min, out->n, MPI_DOUBLE, MPI_MIN, comm) != MPI_SUCCESS ||
        MPI_Allreduce(mine, out->max, out->n, MPI_DOUBLE, MPI_MAX, comm) != MPI_SUCCESS)
        return SB_EMPI;
    return 0;
}

/* ---- progress ------------------------------------------------------------------------------- */

/* Seconds between progress lines, unless a step takes longer. */
#define PROGRESS_EVERY 1.0

int sb_step_progress(sb_step *s, int64_t k, const char *fields, bool last)
{
    if (!s || !s->show)
        return 0;
    uint64_t rss = sb_mem_rss(), rss_max = 0;
    if (MPI_Allreduce(&rss, &rss_max, 1, MPI_UINT64_T, MPI_MAX, s->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (s->ctx->rank != 0 || !s->out || k == s->printed_step)
        return 0;
    const double now = sb_now();
    /* Tests that slow steps down (SB_TEST_STEP_DELAY_MS) wait for the line of a given step. */
    if (!last && s->printed_step >= 0 && now - s->t_printed < PROGRESS_EVERY && s->delay_ms <= 0)
        return 0;
    s->t_printed = now;
    s->printed_step = k;
    const double elapsed = sb_now() - s->t_start;
    char mem[32], eta[96] = "";
    sb_fmt_bytes(mem, sizeof mem, (double)rss_max);
    if (s->total > 0) {
        /* Steps done by this process so far, at their average rate. */
        int64_t done = k - s->t0_step, left = s->total - 1 - k;
        if (done > 0 && left >= 0)
            snprintf(eta, sizeof eta, "  ETA %8.1f s to %s %" PRId64,
                     elapsed / (double)done * (double)left, s->unit, s->total - 1);
    }
    fprintf(s->out, "%s %4" PRId64 "  %s  mem/rank %9s  elapsed %8.1f s%s\n", s->unit, k,
            fields ? fields : "", mem, elapsed, eta);
    fflush(s->out);
    return 0;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

static int write_header(sb_step *s, sb_ckpt *c)
{
    const int root = s->ctx->rank == 0;
    const char *text = s->job_text ? s->job_text : "";
    uint64_t len = strlen(text);
    int err = sb_ckpt_put_str(c, "kind", s->kind ? s->kind : "none");
    for (int i = 0; i < s->fp.n && !err; i++) {
        char name[96];
        snprintf(name, sizeof name, "fingerprint.%s", s->fp.key[i]);
        err = sb_ckpt_put_str(c, name, s->fp.value[i]);
    }
    if (!err)
        err = sb_ckpt_write(c, "/job/text", SB_CKPT_U8, len, 0, root ? len : 0, text);
    return err;
}

static int write_checkpoint(sb_step *s, int64_t k, sb_step_save_fn save, void *arg)
{
    const double t = sb_now();
    const sb_ctx *ctx = s->ctx;
    uint64_t bytes = 0, want = 0;
    if (MPI_Allreduce(&s->ckpt_bytes_local, &want, 1, MPI_UINT64_T, MPI_SUM, ctx->comm))
        return SB_EMPI;
    sb_ckpt c;
    int err = save ? sb_ckpt_create(&c, ctx, s->path, s->written + 1) : SB_EINTERNAL;
    if (err)
        return err;
    /* The payload, its checksums (8 bytes a MiB) and HDF5's metadata. */
    err = sb_ckpt_reserve(&c, want ? want + want / 64 + ((uint64_t)1 << 20) : 0);
    if (!err)
        err = write_header(s, &c);
    if (!err)
        err = save(arg, &c);
    if (!err)
        err = sb_ckpt_commit(&c);
    else
        sb_ckpt_abort(&c);
    if (MPI_Allreduce(&c.bytes, &bytes, 1, MPI_UINT64_T, MPI_SUM, ctx->comm) != MPI_SUCCESS && !err)
        err = SB_EMPI;
    const double dt = sb_now() - t;
    sb_step_time(s, "checkpoint", dt);
    if (err) {
        if (ctx->rank == 0)
            fprintf(ctx->err,
                    "symbatch: checkpoint '%s' at %s %" PRId64 " was not written (%s); the "
                    "previous checkpoint, if any, is unchanged\n",
                    s->path, s->unit, k, sb_strerror(err));
        return err;
    }
    s->written++;
    s->write_seconds += dt;
    s->write_bytes += c.bytes;
    char size[32];
    sb_fmt_bytes(size, sizeof size, (double)bytes);
    sb_step_note(s, "checkpoint: %s %" PRId64 " written to '%s' (%s in %.2f s, %.3g GB/s)", s->unit,
                 k, s->path, size, dt, dt > 0 ? (double)bytes / dt / 1e9 : 0.0);
    return 0;
}

/* Collective: whether a failed checkpoint failed only for I/O on some rank (a full disk, a
 * quota, a file system error) and nothing worse anywhere; the ranks that did not fail
 * themselves see SB_EPEER. */
static bool only_io_failed(const sb_ctx *ctx, int err)
{
    int worse = err && err != SB_EIO && err != SB_EHDF5 && err != SB_EPEER, any = 1;
    if (MPI_Allreduce(&worse, &any, 1, MPI_INT, MPI_MAX, ctx->comm) != MPI_SUCCESS)
        return false;
    return err != 0 && !any;
}

static void test_delay(int ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short, which is fine */
}

int sb_step_boundary(sb_step *s, int64_t k, sb_step_save_fn save, void *arg)
{
    if (!s || !s->path)
        return 0;
    const sb_ctx *ctx = s->ctx;
    test_delay(s->delay_ms);
    const double now = sb_now();
    int want[2] = {sb_signals_caught(), 0}, all[2] = {0, 0};
    if (ctx->rank == 0 && s->every > 0 && now - s->t_last >= s->every)
        want[1] = 1;
    if (MPI_Allreduce(want, all, 2, MPI_INT, MPI_MAX, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    const bool stop = all[0] > 0 || (s->stop_after > 0 && k >= s->stop_after);
    if (!stop && !all[1])
        return 0;
    int err = write_checkpoint(s, k, save, arg);
    s->t_last = sb_now();
    if (err && !stop && only_io_failed(ctx, err)) {
        /* A periodic checkpoint is insurance, not the result: the run goes on, and tries again
         * at the next interval (after a signal there is no next time: that fails the run). */
        if (ctx->rank == 0)
            fprintf(ctx->err, "symbatch: warning: the run goes on; next checkpoint try in %g s\n",
                    s->every);
        return 0;
    }
    if (err || !stop)
        return err;
    s->stopped_by = all[0];
    if (ctx->rank == 0)
        fprintf(ctx->err,
                "symbatch: %s: stopped after %s %" PRId64 " with a checkpoint in '%s'; continue "
                "with `symbatch run JOB --resume`\n",
                all[0] ? sb_signal_name(all[0]) : "stop requested", s->unit, k, s->path);
    return SB_ESIGNAL;
}

int sb_step_check_fingerprint(const sb_step *s, sb_ckpt *ck, char *why, size_t size)
{
    char theirs[SB_FP_VALUE];
    for (int i = 0; i < s->fp.n; i++) {
        char name[96];
        snprintf(name, sizeof name, "fingerprint.%s", s->fp.key[i]);
        int err = sb_ckpt_get_str(ck, name, theirs, sizeof theirs);
        if (err)
            return err;
        if (strcmp(theirs, s->fp.value[i]) != 0) {
            /* "generators differ", "central_state differs" */
            size_t kl = strlen(s->fp.key[i]);
            const char *verb = kl > 0 && s->fp.key[i][kl - 1] == 's' ? "differ" : "differs";
            snprintf(why, size, "%s %s from the checkpoint's (checkpoint: %s; this job: %s)",
                     s->fp.key[i], verb, theirs, s->fp.value[i]);
            return SB_ECKPT;
        }
    }
    return 0;
}

void sb_step_resumed(sb_step *s, int64_t k, double read_seconds)
{
    int64_t ranks = 0;
    if (s->resume)
        sb_ckpt_get_i64(s->resume, "ranks", &ranks);
    s->resumed_step = k;
    s->resumed_ranks = (int)ranks;
    s->t0_step = k;
    s->read_seconds = read_seconds;
    s->read_bytes = s->resume ? s->resume->bytes : 0;
    s->t_last = sb_now();
    sb_step_time(s, "resume", read_seconds);
    sb_step_note(s,
                 "resumed from checkpoint '%s' at %s %" PRId64 " (written on %" PRId64
                 " ranks, read in %.2f s)",
                 s->resume ? s->resume->path : "?", s->unit, k, ranks, read_seconds);
}
