/* The job runner (run.h): everything a run needs around a kind's science. */
#include "symbatch/run.h"

#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/json.h"
#include "symbatch/lock.h"
#include "symbatch/signals.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rank 0 says why a run cannot start from (or next to) a checkpoint; every rank returns
 * SB_ECKPT.  The callers' conditions are identical on every rank. */
static int refuse(const sb_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int refuse(const sb_ctx *ctx, const char *fmt, ...)
{
    if (ctx->rank == 0) {
        va_list ap;
        va_start(ap, fmt);
        fputs("symbatch: ", ctx->err);
        vfprintf(ctx->err, fmt, ap);
        fputc('\n', ctx->err);
        va_end(ap);
    }
    return SB_ECKPT;
}

/* ---- checkpoints before the run ------------------------------------------------------------- */

/* Opens the checkpoint to resume from and checks that it belongs to this job: its kind, the
 * kind's engine choice, then the fingerprint, naming the key that differs. */
static int open_resume(sb_run *run)
{
    const sb_job_kind *kind = run->job->kind;
    sb_ckpt *c = &run->resume_ck;
    char theirs[64], why[2 * SB_FP_VALUE + 200];
    int err = sb_ckpt_open(c, run->ctx, run->ckpt_path);
    if (err)
        return err;
    err = sb_ckpt_get_str(c, "kind", theirs, sizeof theirs);
    if (!err && strcmp(theirs, kind->name) != 0)
        err = refuse(run->ctx, "cannot resume from '%s': it is a checkpoint of a %s job",
                     run->ckpt_path, theirs);
    if (!err && kind->resume_prepare)
        err = kind->resume_prepare(run);
    if (!err) {
        kind->fingerprint(run->job, run->engine, &run->step.fp);
        if (sb_step_check_fingerprint(&run->step, c, why, sizeof why) == SB_ECKPT)
            err = refuse(run->ctx, "cannot resume from '%s': %s", run->ckpt_path, why);
    }
    if (err)
        sb_ckpt_close(c);
    else
        run->step.resume = c;
    return err;
}

/* Before any work: --resume opens the checkpoint; a fresh run is refused while one exists
 * (--force removes it: the user asked to start over). */
static int prepare_checkpoint(sb_run *run)
{
    if (run->opts->resume)
        return open_resume(run);
    run->job->kind->fingerprint(run->job, run->engine, &run->step.fp);
    bool exists = false;
    int err = sb_ckpt_exists(run->ctx, run->ckpt_path, &exists);
    if (err || !exists)
        return err;
    if (!run->opts->force)
        return refuse(run->ctx,
                      "checkpoint '%s' exists: pass --resume to continue, or --force to start "
                      "over",
                      run->ckpt_path);
    return sb_ckpt_remove(run->ctx, run->ckpt_path);
}

/* The result is complete: its checkpoint is not needed any more. */
static void remove_checkpoint(const sb_run *run)
{
    if (sb_ckpt_remove(run->ctx, run->ckpt_path) != 0 && run->ctx->rank == 0)
        fprintf(run->ctx->err,
                "symbatch: warning: the result is complete, but checkpoint '%s' could "
                "not be removed; remove it before running this job again\n",
                run->ckpt_path);
}

/* Reserves the result's room on disk before any work (a full disk is found now, not after the
 * computation), with a megabyte for metadata and the small datasets. */
static int reserve_output(const sb_run *run, sb_h5 *h)
{
    const sb_job_kind *kind = run->job->kind;
    if (!kind->output_bytes)
        return 0;
    return sb_h5_reserve(h, kind->output_bytes(run->job, run->engine) + ((uint64_t)1 << 20));
}

/* ---- the run -------------------------------------------------------------------------------- */

static const char *output_of(const sb_job *job, const sb_run_opts *opts)
{
    return opts->output_override ? opts->output_override : job->output;
}

static int setup(sb_run *run, const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts)
{
    memset(run, 0, sizeof *run);
    run->job = job;
    run->ctx = ctx;
    run->opts = opts;
    run->estimate = opts->estimate;
    run->engine = opts->estimate ? opts->estimate->engine : 0;
    run->output = output_of(job, opts);
    if (sb_ckpt_path(run->ckpt_path, sizeof run->ckpt_path, run->output))
        return SB_EINPUT;
    sb_step *s = &run->step;
    sb_step_init(s, ctx, job->kind->name, job->kind->step_unit);
    s->show = !opts->quiet && opts->progress;
    s->out = s->show && ctx->rank == 0 ? opts->progress : NULL;
    s->path = run->ckpt_path;
    s->every = job->checkpoint_every;
    s->job_text = job->text;
    return 0;
}

/* The kind's run with the signal handlers in place (SIGTERM, SIGUSR1, SIGINT: checkpoint and
 * stop); rank 0 says at once that a signal arrived, in the kind's step unit. */
static int run_kind(sb_run *run)
{
    sb_signals *sig = NULL;
    const int fd = run->ctx->rank == 0 ? fileno(run->ctx->err) : -1;
    int err =
        sb_ctx_agree(run->ctx, sb_signals_install_notify(&sig, fd, run->job->kind->step_unit));
    if (!err)
        err = run->job->kind->run(run);
    sb_signals_restore(sig);
    return err;
}

/* /timers/<phase>: [min, max] over ranks of the seconds this run spent in each phase. */
static int write_timers(sb_h5 *h, const sb_timer_stats *ts)
{
    int err = sb_h5_group(h, "/timers");
    for (int i = 0; i < ts->n && !err; i++) {
        char path[64];
        snprintf(path, sizeof path, "/timers/%s", ts->name[i]);
        double v[2] = {ts->min[i], ts->max[i]};
        err = sb_h5_write_f64(h, path, v, 2, "s",
                              "[min, max] over ranks of the seconds spent in this phase");
    }
    if (!err)
        err = sb_h5_attr_i64(h, "/timers", "ranks", h->ctx->size);
    return err;
}

/* Collective: the kind's group, then the timers (the writing itself included, up to them). */
static int write_result(sb_run *run, sb_h5 *h, sb_timer_stats *ts)
{
    double t = sb_now();
    int err = run->job->kind->write(run, h);
    sb_step_time(&run->step, "write", sb_now() - t);
    if (!err)
        err = sb_step_timer_stats(&run->step, ts);
    if (!err)
        err = write_timers(h, ts);
    return err;
}

static void print_summary(const sb_run *run, const sb_timer_stats *ts)
{
    FILE *out = run->opts->summary;
    if (run->ctx->rank != 0 || !out)
        return;
    sb_json j;
    sb_json_begin(&j, out);
    sb_json_str(&j, "kind", run->job->kind->name);
    sb_json_str(&j, "output", run->output);
    sb_json_i64(&j, "ranks", run->ctx->size);
    sb_json_i64(&j, "nodes", run->ctx->num_nodes);
    run->job->kind->summary_fields(run, &j);
    sb_json_open(&j, "timers");
    for (int i = 0; i < ts->n; i++) {
        sb_json_open(&j, ts->name[i]);
        sb_json_f64(&j, "min", "%.4g", ts->min[i]);
        sb_json_f64(&j, "max", "%.4g", ts->max[i]);
        sb_json_close(&j);
    }
    sb_json_close(&j);
    sb_json_finish(&j);
}

/* sb_job_run, under the output's lock. */
static int run_locked(const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts)
{
    sb_run run;
    int err = setup(&run, job, ctx, opts);
    if (!err)
        err = prepare_checkpoint(&run);
    if (err)
        return err;
    const sb_provenance prov = {.kind = job->kind->name,
                                .job_text = job->text,
                                .job_path = job->path,
                                .job_hash = job->text_hash};
    sb_h5 h;
    err = sb_h5_create(&h, ctx, &prov, run.output, opts->force);
    if (!err && (err = reserve_output(&run, &h)) != 0)
        sb_h5_abort(&h);
    if (err) {
        if (run.step.resume)
            sb_ckpt_close(&run.resume_ck);
        return err;
    }
    err = run_kind(&run);
    if (run.step.resume)
        sb_ckpt_close(&run.resume_ck);
    run.step.resume = NULL;
    sb_timer_stats ts;
    memset(&ts, 0, sizeof ts);
    if (!err)
        err = write_result(&run, &h, &ts);
    if (!err)
        err = sb_h5_commit(&h, 0);
    else
        sb_h5_abort(&h);
    if (!err)
        remove_checkpoint(&run);
    if (!err)
        print_summary(&run, &ts);
    job->kind->result_free(&run);
    return err;
}

/* The lock comes first: before the checkpoint is looked at (so --force cannot remove one that
 * another run is writing) and before a leftover temporary file is taken for a dead run's. */
int sb_job_run(const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts)
{
    sb_lock lock;
    int err = sb_lock_take(&lock, ctx, output_of(job, opts));
    if (!err)
        err = sb_lock_remove_leftovers(&lock);
    if (!err)
        err = run_locked(job, ctx, opts);
    sb_lock_release(&lock);
    return err;
}
