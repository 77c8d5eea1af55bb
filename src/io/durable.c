/* The durable collective file core (durable.h). */
#include "io/durable.h"

#include "symbatch/core.h"
#include "symbatch/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int sb_io_agree(const sb_ctx *ctx, int local, const char *detail, sb_verdict *v)
{
    struct {
        int value, rank;
    } in = {local, ctx->rank}, out = {0, 0};
    v->code = 0;
    v->rank = 0;
    v->msg[0] = '\0';
    if (MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, ctx->comm) != MPI_SUCCESS) {
        v->code = SB_EMPI;
        snprintf(v->msg, sizeof v->msg, "MPI_Allreduce failed while agreeing on a verdict");
        return v->code;
    }
    if (out.value >= 0)
        return 0;
    if (ctx->rank == out.rank)
        snprintf(v->msg, sizeof v->msg, "%s", detail && detail[0] ? detail : "");
    /* The message travels whole (fixed size): every rank prints or records the same text. */
    if (MPI_Bcast(v->msg, (int)sizeof v->msg, MPI_CHAR, out.rank, ctx->comm) != MPI_SUCCESS)
        snprintf(v->msg, sizeof v->msg, "(the failing rank's message was lost)");
    v->msg[sizeof v->msg - 1] = '\0';
    v->code = out.value;
    v->rank = out.rank;
    return v->code;
}

int sb_io_fsync_path(const char *path, bool folder, char *detail, size_t size)
{
    int fd = open(path, O_RDONLY | (folder ? O_DIRECTORY : 0));
    if (fd < 0) {
        snprintf(detail, size, "cannot open '%s': %s", path, strerror(errno));
        return SB_EIO;
    }
    int rc = 0;
    if (fsync(fd) != 0 && !(folder && (errno == EINVAL || errno == EBADF))) {
        snprintf(detail, size, "cannot fsync '%s': %s", path, strerror(errno));
        rc = SB_EIO;
    }
    close(fd);
    return rc;
}

/* Rank 0: the rename and the folder flush that makes it durable. */
static int rename_durably(const char *temp, const char *final, char *detail, size_t size)
{
    if (rename(temp, final) != 0) {
        snprintf(detail, size, "cannot rename '%s' to '%s': %s", temp, final, strerror(errno));
        return SB_EIO;
    }
    char folder[4200];
    sb_path_folder(final, folder, sizeof folder);
    return sb_io_fsync_path(folder, true, detail, size);
}

int sb_io_publish(const sb_ctx *ctx, const char *temp, const char *final, sb_verdict *v)
{
    char detail[SB_IO_DETAIL] = "";
    int rc = sb_io_agree(ctx, sb_io_fsync_path(temp, false, detail, sizeof detail), detail, v);
    if (rc)
        return rc;
    int local = ctx->rank == 0 ? rename_durably(temp, final, detail, sizeof detail) : 0;
    return sb_io_agree(ctx, local, detail, v);
}

/* Bytes available to this user on the file system holding `folder` (0 when unknown). */
static uint64_t free_bytes(const char *folder)
{
    struct statvfs fs;
    if (statvfs(folder, &fs) != 0)
        return 0;
    return (uint64_t)fs.f_bavail * (uint64_t)fs.f_frsize;
}

static int no_room(const char *path, uint64_t bytes, int errnum, char *detail, size_t size)
{
    char folder[4200], need[32], have[32];
    sb_path_folder(path, folder, sizeof folder);
    sb_fmt_bytes(need, sizeof need, (double)bytes);
    sb_fmt_bytes(have, sizeof have, (double)free_bytes(folder));
    snprintf(detail, size, "it needs about %s but only %s are free on '%s' (%s)", need, have,
             folder, strerror(errnum));
    return SB_EIO;
}

int sb_io_reserve(const char *path, uint64_t bytes, char *detail, size_t size)
{
    if (bytes == 0)
        return 0;
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        snprintf(detail, size, "cannot open '%s': %s", path, strerror(errno));
        return SB_EIO;
    }
    int rc = 0;
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes) != 0) {
        int e = errno;
        char folder[4200];
        sb_path_folder(path, folder, sizeof folder);
        if (e == ENOSPC || e == EDQUOT || e == EFBIG)
            rc = no_room(path, bytes, e, detail, size);
        else if (free_bytes(folder) < bytes) /* cannot reserve here: at least look */
            rc = no_room(path, bytes, ENOSPC, detail, size);
    }
    close(fd);
    return rc;
}
