/* One collective HDF5 operation of the io writers (tables, matrices): what went wrong on this
 * rank, the agreement over ranks (durable.h) and rank 0's single message naming the operation. */
#ifndef SB_IO_H5OP_H
#define SB_IO_H5OP_H

#include "io/durable.h"

#include <hdf5.h>
#include <stdbool.h>

typedef struct sb_io_op {
    const sb_ctx *ctx;
    char what[600];            /* "cannot write table '/grpo/metrics' in 'x.h5.partial'" */
    char detail[SB_IO_DETAIL]; /* this rank's reason, if it failed */
    int reported;              /* rank 0 printed the failure already */
} sb_io_op;

/* Collective: the most severe status of all ranks; rank 0 prints the failing rank's message
 * once per operation. */
int sb_io_op_agree(sb_io_op *o, int local);
/* Records the innermost HDF5 message (once) and returns SB_EHDF5. */
int sb_io_op_h5_failed(sb_io_op *o);
/* A variable-length UTF-8 string attribute, replacing one of the same name (not collective by
 * itself: every rank calls it with the same value). */
int sb_io_op_put_attr_str(sb_io_op *o, hid_t obj, const char *name, const char *value);
/* Collective: creates dataset `path` (and missing groups) of `type` over `space`, chunked by
 * `chunk` (one entry per dimension) when it is not NULL, without fill values (every element
 * is written).  *dset is open on success. */
int sb_io_op_create_dset(sb_io_op *o, hid_t file, const char *path, hid_t type, hid_t space,
                         const hsize_t *chunk, hid_t *dset);
/* Collective: closes a temporary file that will not be kept and removes it (rank 0).  Its room
 * is given back first (rank 0 truncates it): closing flushes HDF5's metadata, which on a full
 * disk would fail and leave the file open inside HDF5, to crash MPI_Finalize later.  Returns
 * when no rank holds the file open any more and it is gone. */
void sb_io_discard(const sb_ctx *ctx, hid_t *file, hid_t *dxpl, const char *temp);
/* Closes an id if it is open and marks it closed. */
void sb_io_close_id(hid_t *id, herr_t (*closer)(hid_t));

#endif
