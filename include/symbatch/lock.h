/* The output lock: one run at a time per output (and so per checkpoint).
 *
 * Two runs writing one output would overwrite each other's temporary files and checkpoints, so
 * a run holds "<output>.lock" from before it looks at the checkpoint until after it removed it.
 * Rank 0 takes it for all ranks:
 *   - open "<output>.lock" (created when absent) and flock(LOCK_EX | LOCK_NB) it.  The kernel
 *     releases the lock when the process dies however it dies, so a killed run leaves a file
 *     that is not locked, which the next run simply takes over;
 *   - a run that releases removes the file while still holding it, so a run that locked a file
 *     which is no longer at the path (stat and fstat disagree) tries again;
 *   - the holder writes "HOST PID START" (START in UTC, ISO 8601) into it, so that a run that
 *     finds it locked says who holds it and since when.
 * Where the file system has no locks (flock fails with ENOLCK, EOPNOTSUPP or ENOSYS), creating
 * the file exclusively (O_EXCL) is the lock instead: then a run that died leaves its lock file
 * behind, and the refusal says to remove it once that run is gone. */
#ifndef SYMBATCH_LOCK_H
#define SYMBATCH_LOCK_H

#include "symbatch/comm.h"

#include <stdbool.h>

/* Test-only: with this variable set, flock behaves as on a file system without locks
 * (ENOLCK), so the O_EXCL fallback runs.  Used by tests; not for users. */
#define SB_LOCK_NOFLOCK_ENV "SB_FAULT_NO_FLOCK"

typedef struct sb_lock {
    const sb_ctx *ctx;
    int fd;         /* rank 0 while held: the lock file (flock mode: the lock itself) */
    bool held;      /* rank 0: the lock file is this run's, to remove at release */
    bool exclusive; /* held by O_EXCL creation (no flock on this file system) */
    char output[4096];
    char path[4096 + 8]; /* "<output>.lock" */
} sb_lock;

/* Collective: takes the lock of `output` (see above).  Returns 0, or on every rank SB_EINPUT
 * when another run holds it (rank 0 prints who, since when, and the lock file's path) or the
 * path is too long, SB_EIO when the lock file cannot be created or locked.  sb_lock_release is
 * safe after a failure. */
int sb_lock_take(sb_lock *lk, const sb_ctx *ctx, const char *output);

/* Collective, under the lock: removes the temporary files that a run which did not finish left
 * ("<output>.partial", "<output>.ckpt.h5.partial"), saying so on ctx->err.  Only a run holding
 * the lock may, since those names are a live run's files while it runs.  Returns 0, or SB_EIO
 * on every rank when one cannot be removed. */
int sb_lock_remove_leftovers(const sb_lock *lk);

/* Rank 0 removes the lock file, then releases the lock (in that order: see above); other ranks
 * do nothing.  Not collective; safe on a lock that was not taken. */
void sb_lock_release(sb_lock *lk);

#endif
