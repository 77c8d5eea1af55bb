/* The job runner every kind shares.
 *
 * sb_job_run does for any kind what a batch job needs around the science: the output path; an
 * existing checkpoint refused unless --resume (continue) or --force (start over); the result
 * file created under a temporary name, committed when complete or removed on failure; signal
 * handlers installed only while the kind runs; the checkpoint removed after success; per-phase
 * timers reduced over ranks into the result file and the JSON summary; the JSON summary itself.
 * A kind (job.h) provides only its science: run, write, summary, fingerprint. */
#ifndef SYMBATCH_RUN_H
#define SYMBATCH_RUN_H

#include "symbatch/ckpt.h"
#include "symbatch/io.h"
#include "symbatch/job.h"
#include "symbatch/step.h"

/* One run of a job, as a kind sees it. */
struct sb_run {
    const sb_job *job;
    const sb_ctx *ctx;
    const sb_run_opts *opts;
    const sb_mem_estimate *estimate; /* may be NULL (then engine 0) */
    const char *output;              /* the result file's final path */
    char ckpt_path[4200];            /* "<output>.ckpt.h5" */
    int engine;                      /* the kind's engine (estimate's, or the checkpoint's) */
    sb_step step;                    /* checkpoints, signals, resume, progress, timers */
    sb_ckpt resume_ck;               /* open while resuming (step.resume points at it) */
    void *result;                    /* the kind's result, from run to write and summary */
};

/* Collective: runs the job (see above).  Returns 0, or a negative sb_err identical on every
 * rank (SB_ESIGNAL after a checkpoint on a signal: exit 75). */
int sb_job_run(const sb_job *job, const sb_ctx *ctx, const sb_run_opts *opts);

#endif
