/* Parallel HDF5 result files.
 *
 * A result is written under a temporary name beside the final one ("<output>.partial") and
 * renamed into place only when complete, so a crash never leaves a half-written file under the
 * final name.  Every write is collective: ranks with nothing to write join with an empty
 * selection.  Datasets carry "units" and "meaning" attributes; files read with h5dump and h5py. */
#ifndef SYMBATCH_IO_H
#define SYMBATCH_IO_H

#include "symbatch/comm.h"
#include "symbatch/error.h"

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

/* The most bytes a name derived from an output name adds to it: "<output>.ckpt.h5.partial". */
#define SB_OUTPUT_SUFFIX_MAX 16

typedef struct sb_h5 {
    hid_t file;
    hid_t dxpl; /* collective transfer property list */
    const sb_ctx *ctx;
    char final_path[4096];
    char temp_path[4096 + 16];
    double t_start;
    char start_utc[32];
} sb_h5;

/* Where a result came from, recorded as root attributes.  io knows nothing of job files: the
 * job layer fills this in. */
typedef struct sb_provenance {
    const char *kind;     /* job kind ("growth"); NULL: "none" */
    const char *job_text; /* the job file's bytes */
    const char *job_path; /* the job file as given on the command line */
    uint64_t job_hash;    /* FNV-1a 64 of job_text */
} sb_provenance;

/* Collective.  Creates the temporary file for `final_path` and writes the root attributes that
 * are known at the start (version, git commit, job kind, job text, ranks, hosts, start time).
 * Refuses (SB_EEXIST) when final_path exists and !force.  prov may be NULL (kind "none"). */
int sb_h5_create(sb_h5 *h, const sb_ctx *ctx, const sb_provenance *prov, const char *final_path,
                 bool force);
/* Collective.  Reserves disk room for `bytes` more of the file (rank 0), so that a long run
 * does not end with a result that cannot be written: SB_EIO, with a message naming the file,
 * the size and the free space, when the room is not there.  Nothing is written. */
int sb_h5_reserve(sb_h5 *h, uint64_t bytes);
/* Collective.  Writes end time and exit status, closes, and renames the file into place. */
int sb_h5_commit(sb_h5 *h, int exit_status);
/* Collective.  Closes and removes the temporary file (after an error). */
void sb_h5_abort(sb_h5 *h);

/* Creates group "/name" (and parents) collectively. */
int sb_h5_group(sb_h5 *h, const char *path);

/* Collective writes of data that every rank holds identically (rank 0 writes, others join with
 * an empty selection).  rows x cols; cols = 0 means a 1-D dataset of `rows` entries. */
int sb_h5_write_u64(sb_h5 *h, const char *path, const uint64_t *data, uint64_t rows,
                    const char *units, const char *meaning);
int sb_h5_write_f64(sb_h5 *h, const char *path, const double *data, uint64_t rows,
                    const char *units, const char *meaning);
/* A 2-D uint8 dataset (rows x cols) whose data only rank 0 holds (`data` ignored elsewhere). */
int sb_h5_write_u8_rows_root(sb_h5 *h, const char *path, const uint8_t *data, uint64_t rows,
                             uint64_t cols, const char *units, const char *meaning);
/* A 1-D uint8 dataset of `total` entries to which each rank contributes `count` entries at
 * `offset` (blocks of a distributed array, e.g. a distance table). */
int sb_h5_write_u8_blocks(sb_h5 *h, const char *path, uint64_t total, uint64_t offset,
                          uint64_t count, const uint8_t *data, const char *units,
                          const char *meaning);
/* Scalars, written as 0-d datasets. */
int sb_h5_write_scalar_u64(sb_h5 *h, const char *path, uint64_t value, const char *units,
                           const char *meaning);
int sb_h5_write_scalar_f64(sb_h5 *h, const char *path, double value, const char *units,
                           const char *meaning);
/* Attributes on an existing object ("/" or "/growth/layer_sizes"). */
int sb_h5_attr_str(sb_h5 *h, const char *obj, const char *name, const char *value);
int sb_h5_attr_i64(sb_h5 *h, const char *obj, const char *name, int64_t value);
int sb_h5_attr_f64(sb_h5 *h, const char *obj, const char *name, double value);

/* `symbatch inspect`: prints a human summary of any symbatch result or checkpoint file: the root
 * attributes, then every top-level group, each by the inspector registered for its name (a job
 * kind summarises its own group) or listed generically.  Not collective (serial HDF5 access).
 * Returns SB_EINPUT when the file cannot be read. */
typedef void (*sb_inspect_fn)(hid_t file, FILE *out);
typedef struct sb_inspector {
    const char *group; /* top-level group name ("growth"); NULL ends a table */
    sb_inspect_fn fn;
} sb_inspector;
int sb_inspect(const char *path, FILE *out, sb_diag *diag, const sb_inspector *kinds);

/* Helpers for inspectors.  None fails loudly: what cannot be read is skipped or marked. */
/* An attribute as text; 0 when present and readable. */
int sb_inspect_attr_text(hid_t obj, const char *name, char *buf, size_t size);
/* Prints "name value" for every attribute of obj not in skip (NULL-terminated, may be NULL). */
void sb_inspect_attrs(hid_t obj, const char *const *skip, const char *indent, FILE *out);
/* Prints one line per dataset below group (recursively), except names in skip; returns how
 * many.  prefix is the group's path, for full names. */
int sb_inspect_datasets(hid_t group, const char *prefix, const char *const *skip,
                        const char *indent, FILE *out);
/* A scalar (one element) dataset as uint64; 0 when readable. */
int sb_inspect_read_u64(hid_t file, const char *path, uint64_t *v);
/* A whole 1-D dataset converted to mem_type (malloc'd; NULL when absent or unreadable). */
void *sb_inspect_read_vector(hid_t file, const char *path, hid_t mem_type, size_t elem,
                             uint64_t *n);

#endif
