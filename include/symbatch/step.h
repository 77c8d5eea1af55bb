/* The step controller every job kind shares: what happens at a step boundary (a BFS layer, a
 * GRPO update, a batch of ensemble members), whatever the kind.
 *
 *   - Checkpoints.  At each boundary one collective agrees on "a signal was caught on some rank,
 *     or the checkpoint interval has passed (rank 0's clock)"; then every rank writes the
 *     checkpoint: a header (kind, job text, fingerprint as key/value pairs) and the kind's own
 *     state through its save callback.  After a signal the run stops with SB_ESIGNAL (exit 75).
 *   - Resume.  The fingerprint of this job is compared with the checkpoint's, naming the key
 *     that differs.
 *   - Progress.  Rank 0 prints one line per step: the kind's own fields, memory per rank (the
 *     largest), elapsed time and, when the number of steps is known, an ETA.
 *   - Timers.  Seconds per named phase, accumulated on every rank and reported as min / max
 *     over ranks.
 *
 * A step controller belongs to one run and is driven by the kind's loop; every function marked
 * collective must be called by all ranks in the same order. */
#ifndef SYMBATCH_STEP_H
#define SYMBATCH_STEP_H

#include "symbatch/comm.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sb_ckpt;

/* What must not change between a checkpoint and the run that resumes from it, as key/value
 * pairs named after the job keys they come from ("growth.generators").  Stored in checkpoints
 * as root attributes "fingerprint.<key>". */
#define SB_FP_MAX   8
#define SB_FP_VALUE 1100
typedef struct sb_fingerprint {
    int n;
    char key[SB_FP_MAX][64];
    char value[SB_FP_MAX][SB_FP_VALUE];
} sb_fingerprint;

/* Appends one pair (ignored beyond SB_FP_MAX; values are truncated to SB_FP_VALUE - 1). */
void sb_fp_add(sb_fingerprint *fp, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Named phase timers of this rank. */
#define SB_TIMERS_MAX 16
typedef struct sb_timers {
    int n;
    char name[SB_TIMERS_MAX][32];
    double seconds[SB_TIMERS_MAX];
} sb_timers;

/* Timers after the reduction over ranks (identical on every rank). */
typedef struct sb_timer_stats {
    int n;
    char name[SB_TIMERS_MAX][32];
    double min[SB_TIMERS_MAX], max[SB_TIMERS_MAX];
} sb_timer_stats;

/* The kind's part of a checkpoint: writes its state into the open checkpoint (collective). */
typedef int (*sb_step_save_fn)(void *arg, struct sb_ckpt *ck);

typedef struct sb_step {
    const sb_ctx *ctx;
    /* Progress: rank 0's stream (NULL elsewhere); `show` is identical on every rank and says
     * whether progress lines are printed at all (they cost one collective each). */
    FILE *out;
    bool show;
    const char *unit; /* "layer", "update", "member" */
    int64_t total;    /* steps the run takes when known (an ETA is printed), else -1 */
    /* Checkpoints: path NULL means none. */
    const char *path;
    double every;           /* seconds between checkpoints; 0: only on signals */
    const char *kind;       /* recorded in the header */
    const char *job_text;   /* recorded in the header (NULL: "") */
    sb_fingerprint fp;      /* recorded in the header; compared on resume */
    struct sb_ckpt *resume; /* open checkpoint to continue from, or NULL (the caller closes it) */
    /* This rank's share of the next checkpoint, in bytes, as far as the kind knows (0: unknown):
     * the room for a checkpoint is reserved before it is written. */
    uint64_t ckpt_bytes_local;
    /* > 0: checkpoint and stop with SB_ESIGNAL once this step is done, as if a signal had come
     * (tests and tools that need a checkpoint at a given step). */
    int64_t stop_after;
    /* Clocks. */
    double t_start;       /* when this process's run started */
    double t_last;        /* last checkpoint (or the start) */
    int64_t t0_step;      /* the step this process started at (0, or the resumed one), for ETAs */
    int delay_ms;         /* test-only: SB_TEST_STEP_DELAY_MS (see step.c) */
    double t_printed;     /* rank 0: when the last progress line was printed */
    int64_t printed_step; /* the step of that line (-1: none) */
    /* Filled by the run: */
    int written;          /* checkpoints written */
    int stopped_by;       /* signal that stopped the run (0: none) */
    int64_t resumed_step; /* step the run continued from; -1 for a fresh run */
    int resumed_ranks;    /* ranks that wrote the checkpoint resumed from */
    double write_seconds; /* time writing checkpoints */
    double read_seconds;  /* time loading the checkpoint resumed from */
    uint64_t write_bytes; /* payload bytes this rank wrote (all checkpoints) */
    uint64_t read_bytes;  /* payload bytes this rank read */
    sb_timers timers;
} sb_step;

/* A silent controller without checkpoints for `unit` steps (fields may then be set). */
void sb_step_init(sb_step *s, const sb_ctx *ctx, const char *kind, const char *unit);

/* Collective, at the boundary after step k (k counts from 0): checkpoints when a signal was
 * caught on any rank, when `every` seconds have passed, or when k == stop_after.  Returns 0 to
 * go on, SB_ESIGNAL once the stopping checkpoint is written, or an error (a failed checkpoint
 * leaves the previous one in place).  save may be NULL when s->path is NULL. */
int sb_step_boundary(sb_step *s, int64_t k, sb_step_save_fn save, void *arg);

/* Collective (when s->show): rank 0 prints "<unit> k  <fields>  mem/rank M  elapsed E s" and,
 * when the total is known, "  ETA T s to <unit> N"; fields is the kind's text (rank 0's).
 * Lines come at most about once a second (the first step always; a step that took longer
 * always), so that a fast run does not flood the log; `last` prints the final step whatever
 * the clock says (nothing when that step was printed already). */
int sb_step_progress(sb_step *s, int64_t k, const char *fields, bool last);

/* Rank 0 prints one line of `fmt` on the progress stream (when shown). */
void sb_step_note(const sb_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Collective: compares s->fp with the checkpoint's.  SB_ECKPT when an item differs, with a line
 * in `why` such as "growth.generators differ from the checkpoint's (checkpoint: ...; this job:
 * ...)", identical on every rank. */
int sb_step_check_fingerprint(const sb_step *s, struct sb_ckpt *ck, char *why, size_t size);

/* Called by the kind after it loaded its state from s->resume: records the step resumed from
 * and the ranks and time it took, and prints where the run continues. */
void sb_step_resumed(sb_step *s, int64_t k, double read_seconds);

/* Adds seconds to a named phase of this rank (created on first use). */
void sb_step_time(sb_step *s, const char *phase, double seconds);

/* Collective: min and max over ranks of every phase (rank 0's phase list decides the order; a
 * phase another rank never timed counts 0 there). */
int sb_step_timer_stats(const sb_step *s, sb_timer_stats *out);

#endif
