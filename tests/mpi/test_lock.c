/* The output lock (lock.h), at whatever number of ranks mpiexec gives (ctest: 1, 2 and 4).
 *
 * A second take of a held lock is refused with SB_EBUSY on every rank (not SB_EPEER on all
 * but rank 0), naming this host and process; release removes the file, and a lock file that
 * nobody holds is taken over.  A lock file replaced by hand while held is left alone at
 * release.  Leftover temporary files are removed with a message, and absent ones say nothing.
 * Without flock (SB_FAULT_NO_FLOCK) the exclusive creation is the lock: a second take and a
 * file left behind are refused, saying how to remove it.  Bad paths: too long (SB_EINPUT) and
 * a missing folder (SB_EIO), on every rank. */
#define _GNU_SOURCE /* mkdtemp, setenv */
#include "mpicheck.h"

#include "symbatch/comm.h"
#include "symbatch/error.h"
#include "symbatch/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct env {
    mpicheck *mc;
    sb_ctx ctx; /* the test's context, with err going to `log` on rank 0 */
    FILE *log;
    char dir[256], out[320], lock[330];
} env;

/* Rank 0's messages since the last call (empty on other ranks). */
static void take_log(env *e, char *buf, size_t size)
{
    buf[0] = '\0';
    if (e->ctx.rank != 0)
        return;
    fflush(e->log);
    rewind(e->log);
    size_t n = fread(buf, 1, size - 1, e->log);
    buf[n] = '\0';
    rewind(e->log);
    if (ftruncate(fileno(e->log), 0) != 0)
        buf[0] = '\0';
}

/* Rank 0 writes `text` to `path` (NULL: removes it); every rank waits for it. */
static void put_file(const env *e, const char *path, const char *text)
{
    if (e->ctx.rank == 0) {
        if (!text) {
            unlink(path);
        } else {
            FILE *f = fopen(path, "w");
            if (f) {
                fputs(text, f);
                fclose(f);
            }
        }
    }
    MPI_Barrier(e->ctx.comm);
}

/* Whether `path` exists, as rank 0 sees it (on every rank). */
static int exists(const env *e, const char *path)
{
    int found = e->ctx.rank == 0 && access(path, F_OK) == 0;
    MPI_Bcast(&found, 1, MPI_INT, 0, e->ctx.comm);
    return found;
}

static void test_second_refused(env *e)
{
    mpicheck *mc = e->mc;
    char log[4096], want[512], host[256] = "";
    sb_lock a, b;
    gethostname(host, sizeof host);
    CHECK(mc, sb_lock_take(&a, &e->ctx, e->out) == 0, "first take");
    CHECK(mc, exists(e, e->lock), "lock file while held");
    int rc = sb_lock_take(&b, &e->ctx, e->out);
    CHECK(mc, rc == SB_EBUSY, "second take: %s on every rank", sb_err_name(rc));
    take_log(e, log, sizeof log);
    snprintf(want, sizeof want, "is in use by another run (host %s, pid %ld, since ", host,
             (long)getpid());
    CHECK(mc, e->ctx.rank != 0 || strstr(log, want), "the refusal names the holder: %s", log);
    sb_lock_release(&b);
    CHECK(mc, exists(e, e->lock), "releasing a refused lock leaves the holder's file");
    sb_lock_release(&a);
    MPI_Barrier(e->ctx.comm);
    CHECK(mc, !exists(e, e->lock), "release removes the lock file");
    CHECK(mc, sb_lock_take(&b, &e->ctx, e->out) == 0, "taken again after release");
    sb_lock_release(&b);
    MPI_Barrier(e->ctx.comm);
}

static void test_stale_and_replaced(env *e)
{
    mpicheck *mc = e->mc;
    char log[4096];
    sb_lock a;
    put_file(e, e->lock, "deadhost 4194999 2020-01-01T00:00:00Z\n");
    CHECK(mc, sb_lock_take(&a, &e->ctx, e->out) == 0, "a lock file nobody holds is taken over");
    take_log(e, log, sizeof log);
    CHECK(mc, log[0] == '\0', "taking over says nothing: %s", log);
    /* Replaced by hand while held: not ours any more, so release leaves it. */
    put_file(e, e->lock, NULL);
    put_file(e, e->lock, "someone else\n");
    sb_lock_release(&a);
    MPI_Barrier(e->ctx.comm);
    CHECK(mc, exists(e, e->lock), "release leaves a lock file that is not its own");
    put_file(e, e->lock, NULL);
}

static void test_leftovers(env *e)
{
    mpicheck *mc = e->mc;
    char log[4096], part[400], ckpart[400], want[600];
    snprintf(part, sizeof part, "%s.partial", e->out);
    snprintf(ckpart, sizeof ckpart, "%s.ckpt.h5.partial", e->out);
    put_file(e, part, "junk");
    put_file(e, ckpart, "junk");
    sb_lock a;
    CHECK(mc, sb_lock_take(&a, &e->ctx, e->out) == 0, "take");
    CHECK(mc, sb_lock_remove_leftovers(&a) == 0, "leftovers removed");
    CHECK(mc, !exists(e, part) && !exists(e, ckpart), "both leftovers gone");
    take_log(e, log, sizeof log);
    snprintf(want, sizeof want, "removed leftover '%s' of a run that did not finish", part);
    CHECK(mc, e->ctx.rank != 0 || strstr(log, want), "message for the result: %s", log);
    snprintf(want, sizeof want, "removed leftover '%s' of a run that did not finish", ckpart);
    CHECK(mc, e->ctx.rank != 0 || strstr(log, want), "message for the checkpoint: %s", log);
    CHECK(mc, sb_lock_remove_leftovers(&a) == 0, "no leftovers");
    take_log(e, log, sizeof log);
    CHECK(mc, log[0] == '\0', "no leftovers: no message: %s", log);
    sb_lock_release(&a);
    MPI_Barrier(e->ctx.comm);
}

static void test_no_flock(env *e)
{
    mpicheck *mc = e->mc;
    char log[4096], want[512];
    sb_lock a, b;
    setenv(SB_LOCK_NOFLOCK_ENV, "1", 1);
    snprintf(want, sizeof want, "if that run is gone, remove '%s'", e->lock);
    CHECK(mc, sb_lock_take(&a, &e->ctx, e->out) == 0, "no flock: first take");
    int rc = sb_lock_take(&b, &e->ctx, e->out);
    CHECK(mc, rc == SB_EBUSY, "no flock: second take: %s", sb_err_name(rc));
    take_log(e, log, sizeof log);
    CHECK(mc, e->ctx.rank != 0 || strstr(log, want), "no flock: how to remove it: %s", log);
    sb_lock_release(&a);
    MPI_Barrier(e->ctx.comm);
    CHECK(mc, !exists(e, e->lock), "no flock: release removes the lock file");
    put_file(e, e->lock, "deadhost 4194999 2020-01-01T00:00:00Z\n");
    rc = sb_lock_take(&b, &e->ctx, e->out);
    CHECK(mc, rc == SB_EBUSY, "no flock: a file left behind blocks: %s", sb_err_name(rc));
    take_log(e, log, sizeof log);
    CHECK(mc, e->ctx.rank != 0 || strstr(log, "host deadhost, pid 4194999"), "names it: %s", log);
    CHECK(mc, exists(e, e->lock), "no flock: a refused take leaves the file");
    put_file(e, e->lock, NULL);
    unsetenv(SB_LOCK_NOFLOCK_ENV);
}

static void test_bad_paths(env *e)
{
    mpicheck *mc = e->mc;
    char log[4096], missing[400], *longpath = malloc(5000);
    sb_lock a;
    memset(longpath, 'x', 4999);
    longpath[4999] = '\0';
    int rc = sb_lock_take(&a, &e->ctx, longpath);
    CHECK(mc, rc == SB_EINPUT, "too long: %s", sb_err_name(rc));
    sb_lock_release(&a);
    free(longpath);
    snprintf(missing, sizeof missing, "%s/no-such-folder/o.h5", e->dir);
    rc = sb_lock_take(&a, &e->ctx, missing);
    CHECK(mc, rc == SB_EIO, "missing folder: %s", sb_err_name(rc));
    sb_lock_release(&a);
    take_log(e, log, sizeof log);
    CHECK(mc, e->ctx.rank != 0 || strstr(log, "cannot open lock file"), "says why: %s", log);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    env e = {0};
    sb_ctx_init(&e.ctx, MPI_COMM_WORLD);
    mpicheck mc = {.rank = e.ctx.rank};
    e.mc = &mc;
    if (e.ctx.rank == 0) {
        snprintf(e.dir, sizeof e.dir, "%s/sb-lock-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(e.dir))
            e.dir[0] = '\0';
        e.log = tmpfile();
        if (e.log)
            e.ctx.err = e.log;
    }
    MPI_Bcast(e.dir, sizeof e.dir, MPI_CHAR, 0, e.ctx.comm);
    snprintf(e.out, sizeof e.out, "%s/o.h5", e.dir);
    snprintf(e.lock, sizeof e.lock, "%s.lock", e.out);
    int ready = e.dir[0] != '\0' && (e.ctx.rank != 0 || e.log);
    MPI_Allreduce(MPI_IN_PLACE, &ready, 1, MPI_INT, MPI_MIN, e.ctx.comm);
    CHECK(&mc, ready, "scratch folder and log");

    if (ready) {
        test_second_refused(&e);
        test_stale_and_replaced(&e);
        test_leftovers(&e);
        test_no_flock(&e);
        test_bad_paths(&e);
    }

    MPI_Barrier(e.ctx.comm);
    if (e.ctx.rank == 0) {
        rmdir(e.dir);
        if (e.log)
            fclose(e.log);
    }
    int rc = mpicheck_finish(&mc, e.ctx.comm, "test_lock");
    sb_ctx_free(&e.ctx);
    MPI_Finalize();
    return rc;
}
