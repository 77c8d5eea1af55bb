/* Checkpoint files: parallel HDF5, written aside and renamed into place, every dataset guarded
 * by checksums that any number of ranks can verify.
 *
 * Life of a checkpoint: sb_ckpt_create opens "<path>.partial"; datasets and attributes are
 * written collectively; sb_ckpt_commit closes it, fsyncs it, renames it over <path> and fsyncs
 * the folder, so the previous checkpoint stays valid until the new one is complete.  Readers
 * (sb_ckpt_open) check the format and its version before anything else.
 *
 * Checksums.  A dataset's bytes (little-endian, as stored) are cut into segments of
 * SB_CKPT_SEGMENT bytes.  Segment s's checksum is the sum modulo 2^64, over the 8-byte words
 * w_j of the segment (j = global word index, the last word zero-padded), of
 * sb_mix64(w_j ^ j * 0x9e3779b97f4a7c15): word by word, position-keyed, and additive, so that
 * each writer contributes the part of a segment it holds and the parts are summed with one
 * MPI_Reduce.  The checksums of dataset D are the uint64 dataset "D.sum", with the segment size
 * in its attribute "segment_bytes".  A reader verifies every segment it reads (reading whole
 * segments), so no rank ever uses a byte that was not checked.
 *
 * Every function is collective over the context's communicator and returns the same verdict on
 * every rank; rank 0 prints one line per failure, naming the checkpoint.  Problems with a file
 * being read (missing, truncated, damaged, other format) are SB_ECKPT; problems writing are
 * SB_EIO or SB_EHDF5. */
#ifndef SYMBATCH_CKPT_H
#define SYMBATCH_CKPT_H

#include "symbatch/comm.h"

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_CKPT_FORMAT  "symbatch-checkpoint"
#define SB_CKPT_VERSION 1
/* Bytes per checksum segment (a multiple of 8). */
#define SB_CKPT_SEGMENT ((uint64_t)1 << 20)

/* Test-only fault injection: with SB_FAULT_CKPT_ENOSPC=N in the environment, the N-th checkpoint
 * that this process writes (N = 1: the first) fails on rank 0 after part of the temporary file
 * was written, as if the disk were full.  Used by tests/cli/test_resume.sh; not for users. */
#define SB_CKPT_FAULT_ENV "SB_FAULT_CKPT_ENOSPC"

typedef struct sb_ckpt {
    const sb_ctx *ctx;
    hid_t file, dxpl;
    bool writing;
    bool fault;     /* test-only: fail the next dataset write as if the disk were full */
    int datasets;   /* datasets written so far */
    int reported;   /* rank 0 printed a failure already */
    bool damaged;   /* a read found the file damaged */
    uint64_t bytes; /* payload bytes this rank wrote or read */
    char path[4096];
    char temp_path[4096 + 16];
} sb_ckpt;

/* The checkpoint path of a result file: "<output>.ckpt.h5".  Returns SB_EINPUT when too long. */
int sb_ckpt_path(char *buf, size_t size, const char *output);
/* Collective: rank 0 looks; every rank gets the answer. */
int sb_ckpt_exists(const sb_ctx *ctx, const char *path, bool *exists);
/* Collective: removes the checkpoint and any leftover temporary file (absent is fine). */
int sb_ckpt_remove(const sb_ctx *ctx, const char *path);

/* Collective.  Creates "<path>.partial" and writes the format attributes; seq is the number of
 * this checkpoint within the run (1 = first), recorded and used by the fault injection. */
int sb_ckpt_create(sb_ckpt *ck, const sb_ctx *ctx, const char *path, int seq);
/* Collective.  Closes the temporary file, makes it durable and renames it over <path>.  On
 * failure the temporary file is removed and <path> is untouched. */
int sb_ckpt_commit(sb_ckpt *ck);
/* Collective.  Reserves disk room for `bytes` of the file being written (rank 0), so that the
 * writes that follow cannot run out of space half-way (Open MPI's collective writes do not
 * always report a full disk).  SB_EIO with the sizes when the room is not there. */
int sb_ckpt_reserve(sb_ckpt *ck, uint64_t bytes);
/* Collective.  Closes and removes the temporary file. */
void sb_ckpt_abort(sb_ckpt *ck);

/* Collective.  Opens <path> read-only and checks its format and version (SB_ECKPT when it is
 * missing, unreadable, truncated, or of another format or version). */
int sb_ckpt_open(sb_ckpt *ck, const sb_ctx *ctx, const char *path);
/* Collective. */
void sb_ckpt_close(sb_ckpt *ck);

/* Root attributes: fixed-length strings and integers (identical values on every rank).  A
 * missing attribute is SB_ECKPT. */
int sb_ckpt_put_str(sb_ckpt *ck, const char *name, const char *value);
int sb_ckpt_put_i64(sb_ckpt *ck, const char *name, int64_t value);
int sb_ckpt_get_str(sb_ckpt *ck, const char *name, char *buf, size_t size);
int sb_ckpt_get_i64(sb_ckpt *ck, const char *name, int64_t *value);

typedef enum { SB_CKPT_U8 = 0, SB_CKPT_U64, SB_CKPT_F64 } sb_ckpt_type;

/* Collective: a 1-D dataset of `total` elements (and its checksums) to which this rank
 * contributes elements [offset, offset + count).  Ranges of different ranks must not overlap,
 * and offset * element size must be a multiple of 8 bytes (writers own whole words).  Data
 * that every rank holds identically is written by rank 0 alone (count 0 elsewhere). */
int sb_ckpt_write(sb_ckpt *ck, const char *name, sb_ckpt_type type, uint64_t total, uint64_t offset,
                  uint64_t count, const void *data);
/* Collective: whether a dataset exists, and its number of elements (SB_ECKPT when it has
 * another type or shape, or its checksums are missing). */
int sb_ckpt_length(sb_ckpt *ck, const char *name, sb_ckpt_type type, bool *exists, uint64_t *total);
/* Collective: reads elements [offset, offset + count) (any range on any rank, count 0 allowed)
 * and verifies every segment touched; SB_ECKPT when one fails its checksum. */
int sb_ckpt_read(sb_ckpt *ck, const char *name, sb_ckpt_type type, uint64_t offset, uint64_t count,
                 void *data);

/* The checksum of bytes [0, len) of a segment whose first byte is byte `pos` of its dataset
 * (pos a multiple of 8).  Exposed for tests. */
uint64_t sb_ckpt_sum(const void *data, uint64_t len, uint64_t pos);

#endif
