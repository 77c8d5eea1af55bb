/* Appendable tables (one row per step, named typed columns) and the distributed block-cyclic
 * matrix writer: the result formats of the grpo and ntk kinds.
 *
 * A table lives in memory on every rank identically: every rank appends the same row at every
 * step, so a table needs no communication until it is written.  Columns are float64 or int64;
 * every cell is 8 bytes, and int64 cells are stored exactly (not through a double).
 *
 * In a result file a table is a 1-D compound dataset with one field per column, named as the
 * column (float64 as H5T_IEEE_F64LE, int64 as H5T_STD_I64LE), chunked and extendible, so that
 * later rows can be appended to it (sb_table_append_file).  h5py reads a column as
 * f[path]["column"]; h5dump prints the rows.  Attributes: "meaning", and "units", one string
 * listing every column as "column: unit" pairs separated by "; " ("-" for no unit).
 *
 * In a checkpoint a table is the uint64 dataset <name> (rows x columns cells, row-major, the
 * bits of each cell) and the root attribute "<name>.columns" ("name:f64,name:i64,...").  Loading
 * checks the columns against the table's own, so a resumed run cannot mix up columns, and works
 * at any rank count. */
#ifndef SYMBATCH_TABLE_H
#define SYMBATCH_TABLE_H

#include "symbatch/ckpt.h"
#include "symbatch/io.h"

#include <stdint.h>

typedef enum { SB_COL_F64 = 0, SB_COL_I64 = 1 } sb_col_type;

/* One column: a name (unique, non-empty, at most SB_TABLE_NAME_MAX - 1 bytes, no ',' or ':'),
 * its type, and its unit (NULL: none). */
typedef struct sb_column {
    const char *name;
    sb_col_type type;
    const char *unit;
} sb_column;

#define SB_TABLE_NAME_MAX 64
#define SB_TABLE_COLS_MAX 256

/* One cell: which member is meaningful depends on the column's type. */
typedef union sb_cell {
    double f;
    int64_t i;
} sb_cell;

typedef struct sb_table sb_table;

/* Creates an empty table with a copy of the columns.  SB_EINPUT for bad columns (a message in
 * diag when not NULL), SB_ENOMEM. */
int sb_table_create(sb_table **out, const sb_column *cols, int ncols, sb_diag *diag);
void sb_table_free(sb_table *t);

int sb_table_ncols(const sb_table *t);
uint64_t sb_table_rows(const sb_table *t);
/* Column i's description (the table's own copies of the strings). */
sb_column sb_table_column(const sb_table *t, int i);
/* The index of the column called `name`, or -1. */
int sb_table_find(const sb_table *t, const char *name);

/* Appends one row given as doubles, one per column.  A value for an int64 column must be an
 * integer in [-2^63, 2^63) (SB_EINPUT otherwise, and nothing is appended); integers above 2^53
 * cannot be given exactly this way: use sb_table_append_cells. */
int sb_table_append(sb_table *t, const double *values);
/* Appends one row given as cells (.f for float64 columns, .i for int64 columns): exact. */
int sb_table_append_cells(sb_table *t, const sb_cell *cells);

/* A cell (zero when out of range), and the same as a double (int64 converted). */
sb_cell sb_table_cell(const sb_table *t, uint64_t row, int col);
double sb_table_value(const sb_table *t, uint64_t row, int col);

/* Keeps the first `rows` rows (resume: drop the rows of steps after the checkpoint).  SB_EINPUT
 * when the table has fewer rows. */
int sb_table_truncate(sb_table *t, uint64_t rows);

/* Collective.  Writes the table as a new dataset `path` (parent groups created), rank 0
 * writing the rows and the others joining with an empty selection.  Every rank must hold the
 * same columns and row count (SB_EINTERNAL otherwise).  `meaning` may be NULL. */
int sb_table_write(sb_h5 *h, const char *path, const sb_table *t, const char *meaning);
/* Collective.  Brings the dataset `path` written earlier from this table (same columns) up to
 * date: if it holds K rows, extends it to the table's rows and writes rows [K, rows).
 * SB_EINPUT when the dataset's columns differ or it holds more rows than the table. */
int sb_table_append_file(sb_h5 *h, const char *path, const sb_table *t);

/* Collective.  Stores the rows and columns in a checkpoint under `name` (a valid dataset
 * name). */
int sb_table_save(const sb_table *t, sb_ckpt *ck, const char *name);
/* Collective.  Replaces the table's rows with the checkpoint's (any number of ranks may load
 * what any number saved).  SB_ECKPT when the table is missing or damaged, or its columns differ
 * from `t`'s (rank 0's message names the column); after a failure `t` is unchanged. */
int sb_table_load(sb_table *t, sb_ckpt *ck, const char *name);

#endif
