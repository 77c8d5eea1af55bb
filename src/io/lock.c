/* The output lock (lock.h). */
#include "symbatch/lock.h"

#include "io/durable.h"
#include "symbatch/ckpt.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Attempts when the lock file keeps being replaced under us (each one means another run took
 * or released it in the same instant, so a few are plenty). */
#define LOCK_TRIES   20
/* A holder writes who it is right after locking: a reader that finds the file empty looks again
 * for up to READ_TRIES * READ_WAIT_MS. */
#define READ_TRIES   25
#define READ_WAIT_MS 20
/* Messages name two paths of up to 4 KiB each. */
#define LOCK_DETAIL  9000
/* The "try again" verdict of one attempt (never returned to callers). */
#define AGAIN        1

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether `path` still names the file open as `fd`: a run that releases the lock removes the
 * file first, and a lock on a removed file protects nothing. */
static bool still_at_path(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

static int try_flock(int fd)
{
    if (getenv(SB_LOCK_NOFLOCK_ENV)) {
        errno = ENOLCK;
        return -1;
    }
    return flock(fd, LOCK_EX | LOCK_NB);
}

/* The errors of a file system that has no locks at all (Lustre without -o flock says ENOSYS). */
static bool no_locks_here(int e)
{
    return e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS;
}

/* Records this run as the holder: "HOST PID START\n". */
static int write_holder(const sb_lock *lk, char *detail, size_t size)
{
    char host[256] = "", since[64], line[400];
    if (gethostname(host, sizeof host) != 0 || !host[0])
        snprintf(host, sizeof host, "unknown-host");
    host[sizeof host - 1] = '\0';
    sb_utc_iso8601(since, sizeof since);
    int n = snprintf(line, sizeof line, "%s %ld %s\n", host, (long)getpid(), since);
    if (ftruncate(lk->fd, 0) != 0 || pwrite(lk->fd, line, (size_t)n, 0) != n) {
        snprintf(detail, size, "cannot write lock file '%s': %s", lk->path, strerror(errno));
        return SB_EIO;
    }
    return 0;
}

/* Who holds the lock, from its file ("host H, pid P, since T"). */
static void read_holder(int fd, char *who, size_t size)
{
    char buf[512], host[256], since[64];
    long pid = 0;
    for (int i = 0; i < READ_TRIES; i++) {
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        if (sscanf(buf, "%255s %ld %63s", host, &pid, since) == 3) {
            snprintf(who, size, "host %s, pid %ld, since %s", host, pid, since);
            return;
        }
        sleep_ms(READ_WAIT_MS);
    }
    snprintf(who, size, "its lock file does not say which");
}

/* Another run holds the lock: says who, and what to do.  Closes fd. */
static int refuse_held(const sb_lock *lk, int fd, char *detail, size_t size)
{
    char who[512];
    read_holder(fd, who, sizeof who);
    close(fd);
    if (!lk->exclusive) {
        snprintf(detail, size,
                 "output '%s' is in use by another run (%s; lock file '%s'): wait for it to "
                 "finish, or choose another output",
                 lk->output, who, lk->path);
    } else {
        snprintf(detail, size,
                 "output '%s' is in use by another run (%s; lock file '%s'): wait for it to "
                 "finish, or choose another output.  This file system has no file locks, so a "
                 "run that died leaves its lock file behind: if that run is gone, remove '%s'",
                 lk->output, who, lk->path, lk->path);
    }
    return SB_EBUSY;
}

/* One attempt with the file just opened (`created`: by this open, exclusively).  Returns 0
 * (held), AGAIN (the file was replaced meanwhile), or a negative sb_err; closes fd unless
 * held. */
static int claim(sb_lock *lk, int fd, bool created, char *detail, size_t size)
{
    int e = try_flock(fd) == 0 ? 0 : errno;
    if (no_locks_here(e)) {
        /* No locks here: creating the file exclusively was the lock. */
        lk->exclusive = true;
        e = created ? 0 : EWOULDBLOCK;
    }
    if (e == 0 || e == EWOULDBLOCK) {
        if (!still_at_path(fd, lk->path)) {
            close(fd); /* released (removed) since we opened it */
            return AGAIN;
        }
        if (e == EWOULDBLOCK)
            return refuse_held(lk, fd, detail, size);
        lk->fd = fd;
        lk->held = true;
        return write_holder(lk, detail, size);
    }
    close(fd);
    snprintf(detail, size, "cannot lock '%s': %s", lk->path, strerror(e));
    return SB_EIO;
}

/* Rank 0: opens (or creates) the lock file and claims it, again while it is being replaced. */
static int take_local(sb_lock *lk, char *detail, size_t size)
{
    for (int t = 0; t < LOCK_TRIES; t++) {
        bool created = true;
        int fd = open(lk->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
            created = false;
            fd = open(lk->path, O_RDWR | O_CLOEXEC);
            if (fd < 0 && errno == ENOENT)
                continue; /* removed by its holder in between */
        }
        if (fd < 0) {
            snprintf(detail, size, "cannot open lock file '%s': %s", lk->path, strerror(errno));
            return SB_EIO;
        }
        int rc = claim(lk, fd, created, detail, size);
        if (rc != AGAIN)
            return rc;
    }
    snprintf(detail, size, "cannot lock '%s': other runs keep replacing it", lk->path);
    return SB_EIO;
}

/* Agrees on rank 0's verdict; rank 0 prints its message. */
static int agree(const sb_ctx *ctx, int local, const char *detail)
{
    sb_verdict v;
    int rc = sb_io_agree(ctx, local, NULL, &v);
    if (rc && ctx->rank == 0)
        fprintf(ctx->err, "symbatch: %s\n", local && detail[0] ? detail : sb_strerror(rc));
    return rc;
}

int sb_lock_take(sb_lock *lk, const sb_ctx *ctx, const char *output)
{
    memset(lk, 0, sizeof *lk);
    lk->ctx = ctx;
    lk->fd = -1;
    char *detail = NULL;
    int local = 0;
    if (ctx->rank == 0) {
        size_t len = output ? strlen(output) : 0;
        detail = calloc(1, LOCK_DETAIL);
        if (!detail)
            local = SB_ENOMEM;
        else if (len == 0 || len >= sizeof lk->output) {
            snprintf(detail, LOCK_DETAIL, "output path is empty or too long");
            local = SB_EINPUT;
        } else {
            memcpy(lk->output, output, len + 1);
            snprintf(lk->path, sizeof lk->path, "%s.lock", output);
            local = take_local(lk, detail, LOCK_DETAIL);
        }
    }
    int rc = agree(ctx, local, detail ? detail : "");
    free(detail);
    if (rc)
        sb_lock_release(lk); /* rank 0 may hold it while an MPI failure failed the agreement */
    return rc;
}

/* Rank 0: removes one leftover temporary file, if there is one. */
static int remove_leftover(FILE *err, const char *path, char *detail, size_t size)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (unlink(path) != 0) {
        snprintf(detail, size, "cannot remove leftover '%s' of a run that did not finish: %s", path,
                 strerror(errno));
        return SB_EIO;
    }
    fprintf(err, "symbatch: removed leftover '%s' of a run that did not finish\n", path);
    return 0;
}

int sb_lock_remove_leftovers(const sb_lock *lk)
{
    const sb_ctx *ctx = lk->ctx;
    char detail[LOCK_DETAIL / 2] = "";
    int local = 0;
    if (ctx->rank == 0 && lk->held) {
        char ckpt[4096 + 16], temp[4096 + 32];
        snprintf(temp, sizeof temp, "%s.partial", lk->output);
        local = remove_leftover(ctx->err, temp, detail, sizeof detail);
        if (!local && sb_ckpt_path(ckpt, sizeof ckpt, lk->output) == 0) {
            snprintf(temp, sizeof temp, "%s.partial", ckpt);
            local = remove_leftover(ctx->err, temp, detail, sizeof detail);
        }
    }
    return agree(ctx, local, detail);
}

void sb_lock_release(sb_lock *lk)
{
    if (!lk->held)
        return;
    /* Removed before it is unlocked: whoever locks it next finds it gone and starts over on a
     * new file.  A file that is no longer ours (removed by hand, then taken) is left alone. */
    if (still_at_path(lk->fd, lk->path) && unlink(lk->path) != 0 && lk->exclusive)
        fprintf(lk->ctx->err,
                "symbatch: warning: cannot remove lock file '%s' (%s): remove it before the "
                "next run of this output\n",
                lk->path, strerror(errno));
    close(lk->fd);
    lk->fd = -1;
    lk->held = false;
}
