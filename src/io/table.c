/* Appendable tables (table.h): the in-memory table, its compound dataset in result files, and
 * its checkpoint form.
 *
 * The collective functions follow io/h5.c: each step that can fail locally is followed by an
 * agreement (MPI_Allreduce) before the next collective HDF5 call, so every rank returns the
 * same verdict and none is left waiting inside HDF5; the failing rank's message travels to
 * rank 0, which prints it once. */
#include "io/h5err.h"
#include "io/h5op.h"
#include "symbatch/table.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HDF5 1.10's MPI-IO driver fails on more than 2 GiB per rank and call (see io/h5.c). */
#define PIECE_BYTES ((uint64_t)1 << 30)
/* Chunks of about 64 KiB: large enough for fast appends, small enough for short tables. */
#define CHUNK_BYTES 65536
/* Room for the "name:type," list of the most columns a table may have. */
#define SCHEMA_MAX  (SB_TABLE_COLS_MAX * (SB_TABLE_NAME_MAX + 5) + 1)

struct sb_table {
    int ncols;
    char (*names)[SB_TABLE_NAME_MAX];
    char **units; /* NULL entries: no unit */
    sb_col_type *types;
    sb_cell *cells; /* rows x ncols, row-major: the memory layout of the compound type */
    uint64_t rows, cap;
};

/* ---- the table in memory -------------------------------------------------------------------- */

static int check_columns(const sb_column *cols, int ncols, sb_diag *diag)
{
    if (!cols || ncols < 1 || ncols > SB_TABLE_COLS_MAX)
        return sb_diag_fail(diag, "a table needs 1 to %d columns (got %d)", SB_TABLE_COLS_MAX,
                            ncols);
    for (int i = 0; i < ncols; i++) {
        const char *name = cols[i].name;
        size_t len = name ? strlen(name) : 0;
        if (len == 0 || len >= SB_TABLE_NAME_MAX || strpbrk(name, ",:"))
            return sb_diag_fail(diag, "column %d: name '%s' is empty, too long or has ',' or ':'",
                                i, name ? name : "");
        if (cols[i].type != SB_COL_F64 && cols[i].type != SB_COL_I64)
            return sb_diag_fail(diag, "column '%s': unknown type %d", name, (int)cols[i].type);
        for (int j = 0; j < i; j++)
            if (strcmp(cols[j].name, name) == 0)
                return sb_diag_fail(diag, "column '%s' appears twice", name);
    }
    return 0;
}

int sb_table_create(sb_table **out, const sb_column *cols, int ncols, sb_diag *diag)
{
    if (!out)
        return SB_EINTERNAL;
    *out = NULL;
    int rc = check_columns(cols, ncols, diag);
    if (rc)
        return rc;
    sb_table *t = calloc(1, sizeof *t);
    if (!t)
        return SB_ENOMEM;
    t->ncols = ncols;
    t->names = calloc((size_t)ncols, sizeof *t->names);
    t->units = calloc((size_t)ncols, sizeof *t->units);
    t->types = calloc((size_t)ncols, sizeof *t->types);
    rc = t->names && t->units && t->types ? 0 : SB_ENOMEM;
    for (int i = 0; !rc && i < ncols; i++) {
        snprintf(t->names[i], SB_TABLE_NAME_MAX, "%s", cols[i].name);
        t->types[i] = cols[i].type;
        if (cols[i].unit && !(t->units[i] = strdup(cols[i].unit)))
            rc = SB_ENOMEM;
    }
    if (rc) {
        sb_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void sb_table_free(sb_table *t)
{
    if (!t)
        return;
    for (int i = 0; t->units && i < t->ncols; i++)
        free(t->units[i]);
    free(t->units);
    free(t->names);
    free(t->types);
    free(t->cells);
    free(t);
}

int sb_table_ncols(const sb_table *t)
{
    return t ? t->ncols : 0;
}

uint64_t sb_table_rows(const sb_table *t)
{
    return t ? t->rows : 0;
}

sb_column sb_table_column(const sb_table *t, int i)
{
    sb_column c = {NULL, SB_COL_F64, NULL};
    if (t && i >= 0 && i < t->ncols) {
        c.name = t->names[i];
        c.type = t->types[i];
        c.unit = t->units[i];
    }
    return c;
}

int sb_table_find(const sb_table *t, const char *name)
{
    for (int i = 0; t && name && i < t->ncols; i++)
        if (strcmp(t->names[i], name) == 0)
            return i;
    return -1;
}

/* Room for `rows` rows, growing geometrically so that appending one row at a time is cheap. */
static int reserve(sb_table *t, uint64_t rows)
{
    if (rows <= t->cap)
        return 0;
    uint64_t cap = t->cap ? t->cap : 16;
    while (cap < rows)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof(sb_cell) / (uint64_t)t->ncols)
        return SB_ENOMEM;
    sb_cell *c = realloc(t->cells, (size_t)cap * (size_t)t->ncols * sizeof *c);
    if (!c)
        return SB_ENOMEM;
    t->cells = c;
    t->cap = cap;
    return 0;
}

int sb_table_append_cells(sb_table *t, const sb_cell *cells)
{
    if (!t || !cells)
        return SB_EINTERNAL;
    int rc = reserve(t, t->rows + 1);
    if (rc)
        return rc;
    memcpy(t->cells + t->rows * (uint64_t)t->ncols, cells, (size_t)t->ncols * sizeof *cells);
    t->rows++;
    return 0;
}

int sb_table_append(sb_table *t, const double *values)
{
    if (!t || !values)
        return SB_EINTERNAL;
    sb_cell row[SB_TABLE_COLS_MAX];
    for (int i = 0; i < t->ncols; i++) {
        double v = values[i];
        if (t->types[i] == SB_COL_F64) {
            row[i].f = v;
            continue;
        }
        /* 2^63 is exact as a double; NaN fails both comparisons. */
        if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0) || (double)(int64_t)v != v)
            return SB_EINPUT;
        row[i].i = (int64_t)v;
    }
    return sb_table_append_cells(t, row);
}

sb_cell sb_table_cell(const sb_table *t, uint64_t row, int col)
{
    sb_cell c = {.i = 0};
    if (t && row < t->rows && col >= 0 && col < t->ncols)
        c = t->cells[row * (uint64_t)t->ncols + (uint64_t)col];
    return c;
}

double sb_table_value(const sb_table *t, uint64_t row, int col)
{
    sb_cell c = sb_table_cell(t, row, col);
    if (t && col >= 0 && col < t->ncols && t->types[col] == SB_COL_I64)
        return (double)c.i;
    return c.f;
}

int sb_table_truncate(sb_table *t, uint64_t rows)
{
    if (!t)
        return SB_EINTERNAL;
    if (rows > t->rows)
        return SB_EINPUT;
    t->rows = rows;
    return 0;
}

/* "name:f64,name:i64,...": the columns as stored in checkpoints and compared across ranks. */
static void schema(const sb_table *t, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ncols && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s:%s", i ? "," : "", t->names[i],
                                t->types[i] == SB_COL_I64 ? "i64" : "f64");
}

/* ---- agreement ------------------------------------------------------------------------------ */

/* One collective operation: what rank 0 says when it fails. */

static int fail(sb_io_op *o, int err, const char *why)
{
    if (!o->detail[0])
        snprintf(o->detail, sizeof o->detail, "%s", why);
    return err;
}

/* Local check of a table (NULL on a rank is a caller's bug), then the check that every rank
 * holds the same columns and row count (one agreement either way, so no rank is left out). */
static int same_table(sb_io_op *o, const sb_table *t)
{
    int local = t ? 0 : fail(o, SB_EINTERNAL, "no table");
    uint64_t v[3] = {0, 0, 0}, lo[3], hi[3];
    if (t) {
        char s[SCHEMA_MAX];
        schema(t, s, sizeof s);
        v[0] = (uint64_t)t->ncols;
        v[1] = t->rows;
        v[2] = sb_fnv1a64(s, strlen(s), SB_FNV1A64_INIT);
    }
    if (MPI_Allreduce(v, lo, 3, MPI_UINT64_T, MPI_MIN, o->ctx->comm) != MPI_SUCCESS ||
        MPI_Allreduce(v, hi, 3, MPI_UINT64_T, MPI_MAX, o->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (!local && memcmp(lo, hi, sizeof lo) != 0)
        local = fail(o, SB_EINTERNAL, "ranks hold different tables (columns or rows)");
    return sb_io_op_agree(o, local);
}

/* ---- result files --------------------------------------------------------------------------- */

/* The compound type of a row: in memory (native types) or in the file (little-endian); the
 * same offsets either way, 8 bytes per column. */
static hid_t row_type(const sb_table *t, bool file)
{
    hid_t type = H5Tcreate(H5T_COMPOUND, (size_t)t->ncols * sizeof(sb_cell));
    for (int i = 0; type >= 0 && i < t->ncols; i++) {
        hid_t f = t->types[i] == SB_COL_I64 ? (file ? H5T_STD_I64LE : H5T_NATIVE_INT64)
                                            : (file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
        if (H5Tinsert(type, t->names[i], (size_t)i * sizeof(sb_cell), f) < 0) {
            H5Tclose(type);
            type = H5I_INVALID_HID;
        }
    }
    return type;
}

/* "step: 1; loss: nats; ..." with "-" for a column without a unit. */
static char *units_text(const sb_table *t)
{
    size_t size = 1;
    for (int i = 0; i < t->ncols; i++)
        size += strlen(t->names[i]) + (t->units[i] ? strlen(t->units[i]) : 1) + 4;
    char *s = malloc(size);
    size_t len = 0;
    for (int i = 0; s && i < t->ncols; i++)
        len += (size_t)snprintf(s + len, size - len, "%s%s: %s", i ? "; " : "", t->names[i],
                                t->units[i] ? t->units[i] : "-");
    if (s && t->ncols == 0)
        s[0] = '\0';
    return s;
}

/* Collective: writes rows [first, first + count) of the table into rows of the same numbers of
 * the dataset (already that long).  Rank 0 writes; the others join every call with an empty
 * selection.  count is the same on every rank, so every rank makes the same number of calls. */
static int write_rows(sb_io_op *o, const sb_h5 *h, hid_t dset, hid_t mtype, const sb_table *t,
                      uint64_t first, uint64_t count)
{
    const uint64_t row_bytes = (uint64_t)t->ncols * sizeof(sb_cell);
    const uint64_t per = PIECE_BYTES / row_bytes;
    int rc = 0;
    for (uint64_t lo = 0; !rc && lo < count; lo += per) {
        hsize_t n = count - lo < per ? count - lo : per, one = 1, start = first + lo;
        bool mine = h->ctx->rank == 0;
        hid_t fsel = H5Dget_space(dset);
        hid_t msp = H5Screate_simple(1, mine ? &n : &one, NULL);
        int local = fsel < 0 || msp < 0 ? sb_io_op_h5_failed(o) : 0;
        if (!local && mine && H5Sselect_hyperslab(fsel, H5S_SELECT_SET, &start, NULL, &n, NULL) < 0)
            local = sb_io_op_h5_failed(o);
        if (!local && !mine && (H5Sselect_none(fsel) < 0 || H5Sselect_none(msp) < 0))
            local = sb_io_op_h5_failed(o);
        rc = sb_io_op_agree(o, local);
        const sb_cell *buf = t->rows ? t->cells + (first + lo) * (uint64_t)t->ncols : NULL;
        static const sb_cell nothing; /* HDF5 wants a buffer even for no data */
        if (!rc && H5Dwrite(dset, mtype, msp, fsel, h->dxpl, mine ? buf : &nothing) < 0)
            local = sb_io_op_h5_failed(o);
        if (!rc)
            rc = sb_io_op_agree(o, local);
        sb_io_close_id(&msp, H5Sclose);
        sb_io_close_id(&fsel, H5Sclose);
    }
    return rc;
}

static sb_io_op table_op(const sb_h5 *h, const char *verb, const char *path)
{
    sb_io_op o;
    memset(&o, 0, sizeof o);
    o.ctx = h->ctx;
    snprintf(o.what, sizeof o.what, "cannot %s table '%s' in '%s'", verb, path ? path : "?",
             h->temp_path[0] ? h->temp_path : h->final_path);
    return o;
}

/* The new dataset: rows long, extendible without limit, chunked (which extending needs). */
static int create_dataset(sb_io_op *o, const sb_h5 *h, const char *path, const sb_table *t,
                          hid_t ftype, hid_t *dset)
{
    hsize_t dims = t->rows, maxdims = H5S_UNLIMITED;
    hsize_t chunk = CHUNK_BYTES / ((uint64_t)t->ncols * sizeof(sb_cell));
    if (chunk < 1)
        chunk = 1;
    hid_t space = H5Screate_simple(1, &dims, &maxdims);
    int rc = sb_io_op_create_dset(o, h->file, path, ftype, space, &chunk, dset);
    sb_io_close_id(&space, H5Sclose);
    return rc;
}

static int write_attributes(sb_io_op *o, hid_t dset, const sb_table *t, const char *meaning)
{
    char *units = units_text(t);
    int local = units ? 0 : fail(o, SB_ENOMEM, "out of memory");
    if (!local)
        local = sb_io_op_put_attr_str(o, dset, "units", units);
    if (!local && meaning)
        local = sb_io_op_put_attr_str(o, dset, "meaning", meaning);
    free(units);
    return sb_io_op_agree(o, local);
}

int sb_table_write(sb_h5 *h, const char *path, const sb_table *t, const char *meaning)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    sb_h5_quiet q = sb_h5_quiet_begin();
    sb_io_op o = table_op(h, "write", path);
    hid_t ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID, dset = H5I_INVALID_HID;
    int rc = sb_io_op_agree(&o, h->file > 0 && path ? 0 : fail(&o, SB_EINTERNAL, "file not open"));
    if (!rc)
        rc = same_table(&o, t);
    if (!rc) {
        ftype = row_type(t, true);
        mtype = row_type(t, false);
        rc = sb_io_op_agree(&o, ftype < 0 || mtype < 0 ? sb_io_op_h5_failed(&o) : 0);
    }
    if (!rc)
        rc = create_dataset(&o, h, path, t, ftype, &dset);
    if (!rc)
        rc = write_rows(&o, h, dset, mtype, t, 0, t->rows);
    if (!rc)
        rc = write_attributes(&o, dset, t, meaning);
    sb_io_close_id(&dset, H5Dclose);
    sb_io_close_id(&mtype, H5Tclose);
    sb_io_close_id(&ftype, H5Tclose);
    sb_h5_quiet_end(q);
    return rc;
}

/* Whether the stored dataset has this table's columns, in order, with the same kinds. */
static int check_stored_columns(sb_io_op *o, hid_t dset, const sb_table *t)
{
    hid_t type = H5Dget_type(dset);
    if (type < 0)
        return sb_io_op_h5_failed(o);
    int rc = 0;
    int n = H5Tget_class(type) == H5T_COMPOUND ? H5Tget_nmembers(type) : -1;
    if (n != t->ncols) {
        snprintf(o->detail, sizeof o->detail, "the dataset has %d columns, the table %d", n,
                 t->ncols);
        rc = SB_EINPUT;
    }
    for (int i = 0; !rc && i < n; i++) {
        char *name = H5Tget_member_name(type, (unsigned)i);
        H5T_class_t cls = H5Tget_member_class(type, (unsigned)i);
        H5T_class_t want = t->types[i] == SB_COL_I64 ? H5T_INTEGER : H5T_FLOAT;
        if (!name || strcmp(name, t->names[i]) != 0 || cls != want) {
            snprintf(o->detail, sizeof o->detail,
                     "column %d is '%s' in the dataset but '%s' (%s) in the table", i,
                     name ? name : "?", t->names[i], t->types[i] == SB_COL_I64 ? "i64" : "f64");
            rc = SB_EINPUT;
        }
        H5free_memory(name);
    }
    H5Tclose(type);
    return rc;
}

/* The dataset's current length, checked against the table's. */
static int stored_rows(sb_io_op *o, hid_t dset, const sb_table *t, uint64_t *rows)
{
    hid_t space = H5Dget_space(dset);
    hsize_t dims = 0;
    int rc = space < 0 || H5Sget_simple_extent_ndims(space) != 1 ? sb_io_op_h5_failed(o) : 0;
    if (!rc && H5Sget_simple_extent_dims(space, &dims, NULL) < 0)
        rc = sb_io_op_h5_failed(o);
    sb_io_close_id(&space, H5Sclose);
    if (!rc && dims > t->rows) {
        snprintf(o->detail, sizeof o->detail,
                 "the dataset holds %" PRIu64 " rows, more than the table's %" PRIu64,
                 (uint64_t)dims, t->rows);
        rc = SB_EINPUT;
    }
    *rows = dims;
    return rc;
}

int sb_table_append_file(sb_h5 *h, const char *path, const sb_table *t)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    sb_h5_quiet q = sb_h5_quiet_begin();
    sb_io_op o = table_op(h, "append to", path);
    hid_t mtype = H5I_INVALID_HID, dset = H5I_INVALID_HID;
    uint64_t have = 0;
    int rc = sb_io_op_agree(&o, h->file > 0 && path ? 0 : fail(&o, SB_EINTERNAL, "file not open"));
    if (!rc)
        rc = same_table(&o, t);
    if (!rc) {
        dset = H5Dopen2(h->file, path, H5P_DEFAULT);
        rc = sb_io_op_agree(&o, dset < 0 ? sb_io_op_h5_failed(&o) : 0);
    }
    if (!rc) {
        int local = check_stored_columns(&o, dset, t);
        if (!local)
            local = stored_rows(&o, dset, t, &have);
        if (!local && (mtype = row_type(t, false)) < 0)
            local = sb_io_op_h5_failed(&o);
        rc = sb_io_op_agree(&o, local);
    }
    if (!rc && have < t->rows) {
        hsize_t dims = t->rows;
        rc = sb_io_op_agree(&o, H5Dset_extent(dset, &dims) < 0 ? sb_io_op_h5_failed(&o) : 0);
        if (!rc)
            rc = write_rows(&o, h, dset, mtype, t, have, t->rows - have);
    }
    sb_io_close_id(&dset, H5Dclose);
    sb_io_close_id(&mtype, H5Tclose);
    sb_h5_quiet_end(q);
    return rc;
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

static sb_io_op ckpt_op(const sb_ckpt *ck, const char *name)
{
    sb_io_op o;
    memset(&o, 0, sizeof o);
    o.ctx = ck->ctx;
    snprintf(o.what, sizeof o.what, "checkpoint '%s': table '%s'", ck->path, name ? name : "?");
    return o;
}

static int attr_name(sb_io_op *o, const char *name, char *buf, size_t size)
{
    int n = name ? snprintf(buf, size, "%s.columns", name) : -1;
    return n > 0 && (size_t)n < size ? 0 : fail(o, SB_EINTERNAL, "bad table name");
}

int sb_table_save(const sb_table *t, sb_ckpt *ck, const char *name)
{
    if (!ck || !ck->ctx)
        return SB_EINTERNAL;
    sb_io_op o = ckpt_op(ck, name);
    char attr[600], *cols = malloc(SCHEMA_MAX);
    int rc = sb_io_op_agree(&o, cols ? attr_name(&o, name, attr, sizeof attr) : SB_ENOMEM);
    if (!rc)
        rc = same_table(&o, t);
    if (!rc) {
        schema(t, cols, SCHEMA_MAX);
        rc = sb_ckpt_put_str(ck, attr, cols);
    }
    if (!rc) {
        /* Every rank holds the rows; rank 0 writes them, as the bits of each cell. */
        uint64_t total = t->rows * (uint64_t)t->ncols;
        rc = sb_ckpt_write(ck, name, SB_CKPT_U64, total, 0, ck->ctx->rank == 0 ? total : 0,
                           t->cells);
    }
    free(cols);
    return rc;
}

/* Column by column comparison of the stored "name:type,..." list with the table's, naming the
 * first column that differs. */
static int compare_schema(sb_io_op *o, const sb_table *t, const char *stored)
{
    const char *p = stored;
    for (int i = 0; i < t->ncols; i++) {
        const char *type = t->types[i] == SB_COL_I64 ? "i64" : "f64";
        size_t len = strcspn(p, ",");
        char want[SB_TABLE_NAME_MAX + 8];
        snprintf(want, sizeof want, "%s:%s", t->names[i], type);
        if (len == 0) {
            snprintf(o->detail, sizeof o->detail,
                     "column %d '%s' (%s) of this run is missing from the checkpoint", i,
                     t->names[i], type);
            return SB_ECKPT;
        }
        if (len != strlen(want) || strncmp(p, want, len) != 0) {
            snprintf(o->detail, sizeof o->detail,
                     "column %d is '%.*s' in the checkpoint but '%s' in this run", i, (int)len, p,
                     want);
            return SB_ECKPT;
        }
        p += len + (p[len] == ',');
    }
    if (*p) {
        snprintf(o->detail, sizeof o->detail,
                 "the checkpoint has more columns than this run's %d, from '%.*s' on", t->ncols,
                 (int)strcspn(p, ","), p);
        return SB_ECKPT;
    }
    return 0;
}

/* The number of rows stored, checked against the number of columns. */
static int stored_length(sb_io_op *o, sb_ckpt *ck, const char *name, const sb_table *t,
                         uint64_t *rows)
{
    bool exists = false;
    uint64_t total = 0;
    int rc = sb_ckpt_length(ck, name, SB_CKPT_U64, &exists, &total);
    if (rc)
        return rc;
    int local = 0;
    if (!exists)
        local = fail(o, SB_ECKPT, "the rows are missing");
    else if (total % (uint64_t)t->ncols != 0)
        local = fail(o, SB_ECKPT, "the rows do not fill the columns (damaged file?)");
    *rows = total / (uint64_t)t->ncols;
    return sb_io_op_agree(o, local);
}

int sb_table_load(sb_table *t, sb_ckpt *ck, const char *name)
{
    if (!ck || !ck->ctx)
        return SB_EINTERNAL;
    sb_io_op o = ckpt_op(ck, name);
    char attr[600], *cols = malloc(SCHEMA_MAX);
    uint64_t rows = 0;
    int rc = sb_io_op_agree(&o, cols ? attr_name(&o, name, attr, sizeof attr) : SB_ENOMEM);
    if (!rc)
        rc = sb_io_op_agree(&o, t ? 0 : fail(&o, SB_EINTERNAL, "no table"));
    if (!rc)
        rc = sb_ckpt_get_str(ck, attr, cols, SCHEMA_MAX);
    if (!rc)
        rc = sb_io_op_agree(&o, compare_schema(&o, t, cols));
    if (!rc)
        rc = stored_length(&o, ck, name, t, &rows);
    /* Read aside, so that a failed load leaves the table as it was. */
    sb_cell *cells = NULL;
    if (!rc) {
        size_t n = (size_t)(rows ? rows : 1) * (size_t)t->ncols;
        cells =
            rows < SIZE_MAX / sizeof *cells / (uint64_t)t->ncols ? malloc(n * sizeof *cells) : NULL;
        rc = sb_io_op_agree(&o, cells ? 0 : fail(&o, SB_ENOMEM, "out of memory"));
    }
    if (!rc)
        rc = sb_ckpt_read(ck, name, SB_CKPT_U64, 0, rows * (uint64_t)t->ncols, cells);
    if (!rc) {
        free(t->cells);
        t->cells = cells;
        t->cap = rows ? rows : 1;
        t->rows = rows;
        cells = NULL;
    }
    free(cells);
    free(cols);
    return rc;
}
