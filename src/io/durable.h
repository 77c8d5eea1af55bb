/* The durable collective file core shared by result files (h5.c) and checkpoints (ckpt.c).
 *
 * Both write a file collectively under a temporary name and publish it by rename, so that a
 * crash never leaves a half-written file under the final name.  What they share, and what must
 * not drift between them:
 *   - agreement: after every step that can fail locally, all ranks learn the most severe
 *     status and the message of the lowest rank that failed (so rank 0 can print why, even when
 *     another rank failed);
 *   - publishing: every rank that wrote flushes the closed file to stable storage (on a
 *     parallel file system dirty pages are per client), then rank 0 renames it into place and
 *     flushes the folder, so the rename itself survives a crash. */
#ifndef SB_IO_DURABLE_H
#define SB_IO_DURABLE_H

#include "symbatch/comm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_IO_DETAIL 640

/* The outcome of an agreement, identical on every rank. */
typedef struct sb_verdict {
    int code;               /* 0, or the most severe (lowest) sb_err of any rank */
    int rank;               /* the lowest rank that reported `code` */
    char msg[SB_IO_DETAIL]; /* that rank's message ("" when it gave none) */
} sb_verdict;

/* Collective: every rank passes its status and what went wrong (detail may be NULL or "").
 * Returns v->code.  An MPI failure of the agreement itself is SB_EMPI on the ranks that see it. */
int sb_io_agree(const sb_ctx *ctx, int local, const char *detail, sb_verdict *v);

/* Flushes a file or folder to stable storage.  Returns 0 or SB_EIO with errno's message in
 * detail.  Folders that cannot be fsynced (EINVAL on some file systems) count as flushed. */
int sb_io_fsync_path(const char *path, bool folder, char *detail, size_t size);

/* Reserves `bytes` of disk blocks for the file at `path` without changing its size
 * (fallocate with FALLOC_FL_KEEP_SIZE), so that writes into that room cannot run out of space
 * later.  Where the file system cannot reserve, only checks the free space (statvfs).  Returns
 * 0, or SB_EIO with "it needs about X but only Y are free on 'FOLDER'" in detail. */
int sb_io_reserve(const char *path, uint64_t bytes, char *detail, size_t size);

/* Collective: publishes a closed temporary file: fsync on every rank, agreement, rename by rank
 * 0 over `final`, folder fsync, agreement.  Returns the verdict's code; on failure v says why
 * and the temporary file is left in place (the caller decides whether to remove it). */
int sb_io_publish(const sb_ctx *ctx, const char *temp, const char *final, sb_verdict *v);

#endif
