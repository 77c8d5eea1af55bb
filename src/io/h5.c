/* Parallel HDF5 result files (io.h).
 *
 * Every public function here is collective and returns the same verdict on every rank: each
 * step that can fail locally is followed by an agreement (MPI_Allreduce) before the next
 * collective HDF5 call, so one rank's failure never leaves the others waiting inside HDF5.
 * HDF5's own error printing is switched off while we are inside; rank 0 prints one line per
 * failure instead, naming the file and the operation. */
#include "io/durable.h"
#include "io/h5err.h"
#include "io/h5op.h"
#include "symbatch/io.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* HDF5 1.10.8's MPI-IO driver passes byte counts to MPI as int: an independent write of more
 * than 2 GiB fails ("can't convert from size to size_i"), and HDF5 may turn a collective
 * request into independent ones.  So large writes go in pieces of at most 1 GiB per rank. */
#define PIECE_BYTES ((uint64_t)1 << 30)

/* Room for the comma-separated host list of a large allocation. */
#define HOSTS_MAX 65536

/* ---- error handling ------------------------------------------------------------------------ */

/* One public operation: what rank 0 says when it fails. */
typedef struct op {
    const sb_ctx *ctx;
    const char *verb;   /* "create", "write", "close" */
    const char *object; /* dataset or attribute path; NULL: the file itself */
    const char *file;
    const char *hint; /* appended to "HDF5 error", may be "" */
    char detail[512]; /* the innermost HDF5 or system message seen on this rank */
    int reported;
} op;

static op op_start(const sb_h5 *h, const char *verb, const char *object, const char *hint)
{
    op o;
    memset(&o, 0, sizeof o);
    o.ctx = h->ctx;
    o.verb = verb;
    o.object = object;
    o.file = h->temp_path[0] ? h->temp_path : h->final_path;
    o.hint = hint ? hint : "";
    return o;
}

/* Records the innermost message of HDF5's error stack (the most specific one) and returns
 * SB_EHDF5.  Call right after the failing HDF5 call: the next call clears the stack. */
static int h5_failed(op *o)
{
    if (!o->detail[0])
        sb_h5_innermost(o->detail, sizeof o->detail);
    return SB_EHDF5;
}

/* Rank 0 says once why an operation failed, with the failing rank's own message. */
static void report(op *o, const sb_verdict *v)
{
    if (v->code >= 0 || o->ctx->rank != 0 || o->reported)
        return;
    o->reported = 1;
    const char *why = sb_strerror(v->code);
    const char *hint = v->code == SB_EHDF5 ? o->hint : "";
    char where[48] = "";
    if (v->rank != 0)
        snprintf(where, sizeof where, " (on rank %d)", v->rank);
    const char *sep = v->msg[0] ? ": " : "";
    if (o->object)
        fprintf(o->ctx->err, "symbatch: cannot %s '%s' in '%s': %s%s%s%s%s\n", o->verb, o->object,
                o->file, why, hint, sep, v->msg, where);
    else
        fprintf(o->ctx->err, "symbatch: cannot %s '%s': %s%s%s%s%s\n", o->verb, o->file, why, hint,
                sep, v->msg, where);
}

/* Agreement (durable.h): every rank gets the most severe error of all ranks, so every rank
 * returns the same code and the CLI's exit code does not depend on which rank failed. */
static int agree(op *o, int local)
{
    sb_verdict v;
    int worst = sb_io_agree(o->ctx, local, o->detail, &v);
    report(o, &v);
    return worst;
}

static void close_id(hid_t *id, herr_t (*closer)(hid_t))
{
    if (*id > 0)
        closer(*id);
    *id = H5I_INVALID_HID;
}

/* ---- attributes ---------------------------------------------------------------------------- */

/* Strings are variable-length UTF-8: h5py reads them as str, h5dump prints them, and a long job
 * text lives in the global heap rather than in the object header (which holds 64 KiB). */
static hid_t string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return H5I_INVALID_HID;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* Writes a scalar attribute, replacing one of the same name.  Not collective by itself; every
 * rank must call it with the same values (HDF5 metadata is identical on all ranks). */
static int put_attr(op *o, hid_t obj, const char *name, hid_t type, hid_t mem_type,
                    const void *value)
{
    hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    int rc = 0;
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0 || (exists > 0 && H5Adelete(obj, name) < 0)) {
        rc = h5_failed(o);
        goto done;
    }
    space = H5Screate(H5S_SCALAR);
    if (space < 0) {
        rc = h5_failed(o);
        goto done;
    }
    attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, mem_type, value) < 0)
        rc = h5_failed(o);
done:
    close_id(&attr, H5Aclose);
    close_id(&space, H5Sclose);
    return rc;
}

static int put_attr_str(op *o, hid_t obj, const char *name, const char *value)
{
    const char *v = value ? value : "";
    hid_t type = string_type();
    if (type < 0)
        return h5_failed(o);
    int rc = put_attr(o, obj, name, type, type, &v);
    H5Tclose(type);
    return rc;
}

static int put_attr_i64(op *o, hid_t obj, const char *name, int64_t value)
{
    return put_attr(o, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

static int put_attr_f64(op *o, hid_t obj, const char *name, double value)
{
    return put_attr(o, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

/* Broadcasts rank 0's string into buf (all ranks must write identical attribute values). */
static int bcast_string(const sb_ctx *ctx, char *buf, size_t size)
{
    int len = ctx->rank == 0 ? (int)strnlen(buf, size - 1) : 0;
    if (MPI_Bcast(&len, 1, MPI_INT, 0, ctx->comm) != MPI_SUCCESS ||
        MPI_Bcast(buf, len, MPI_CHAR, 0, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    buf[len] = '\0';
    return 0;
}

static int root_attributes(op *o, const sb_h5 *h, const sb_provenance *prov, const char *hosts)
{
    const char *kind = prov && prov->kind ? prov->kind : "none";
    char hash[17] = "";
    if (prov)
        snprintf(hash, sizeof hash, "%016" PRIx64, prov->job_hash);
    hid_t f = h->file;
    int rc = 0;
    if (!rc)
        rc = put_attr_str(o, f, "symbatch_version", sb_version());
    if (!rc)
        rc = put_attr_str(o, f, "git_commit", sb_git_commit());
    if (!rc)
        rc = put_attr_str(o, f, "kind", kind);
    if (!rc)
        rc = put_attr_str(o, f, "job_text", prov && prov->job_text ? prov->job_text : "");
    if (!rc)
        rc = put_attr_str(o, f, "job_file", prov && prov->job_path ? prov->job_path : "");
    if (!rc)
        rc = put_attr_str(o, f, "job_hash", hash);
    if (!rc)
        rc = put_attr_i64(o, f, "ranks", h->ctx->size);
    if (!rc)
        rc = put_attr_i64(o, f, "nodes", h->ctx->num_nodes);
    if (!rc)
        rc = put_attr_str(o, f, "hosts", hosts);
    if (!rc)
        rc = put_attr_str(o, f, "start_utc", h->start_utc);
    return rc;
}

/* ---- create, commit, abort ----------------------------------------------------------------- */

/* Rank 0's check of the final name: refuses to overwrite without force, and never renames a
 * result over a folder. */
static int check_final(FILE *err, const char *path, bool force)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0; /* absent (or unreachable: creating the temporary file will say why) */
    if (S_ISDIR(st.st_mode)) {
        fprintf(err, "symbatch: output '%s' is a folder\n", path);
        return SB_EINPUT;
    }
    if (!force) {
        fprintf(err, "symbatch: output '%s' exists (use --force to overwrite)\n", path);
        return SB_EEXIST;
    }
    return 0;
}

int sb_h5_create(sb_h5 *h, const sb_ctx *ctx, const sb_provenance *prov, const char *final_path,
                 bool force)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    hid_t fapl = H5I_INVALID_HID;
    char *hosts = NULL;
    bool attempted = false;
    int rc = 0;

    memset(h, 0, sizeof *h);
    h->file = H5I_INVALID_HID;
    h->dxpl = H5I_INVALID_HID;
    h->ctx = ctx;
    size_t len = final_path ? strlen(final_path) : 0;
    if (len > 0 && len < sizeof h->final_path) {
        memcpy(h->final_path, final_path, len + 1);
        snprintf(h->temp_path, sizeof h->temp_path, "%s.partial", final_path);
    }
    op o = op_start(h, "create", NULL, " (disk full or folder not writable?)");

    /* Decided before any HDF5 call: an existing result is not touched, not even truncated. */
    int local = 0;
    if (len == 0 || len >= sizeof h->final_path) {
        local = SB_EINPUT;
        snprintf(o.detail, sizeof o.detail, "output path is empty or too long");
    } else if (ctx->rank == 0) {
        local = check_final(ctx->err, h->final_path, force);
        o.reported = local != 0;
    }
    rc = agree(&o, local);
    if (rc)
        goto done;

    /* Values that go into attributes must be identical on every rank: rank 0's. */
    hosts = calloc(1, HOSTS_MAX);
    local = hosts ? 0 : SB_ENOMEM;
    rc = agree(&o, local);
    if (rc)
        goto done;
    local = sb_ctx_hosts(ctx, hosts, HOSTS_MAX);
    h->t_start = sb_now();
    if (ctx->rank == 0)
        sb_utc_iso8601(h->start_utc, sizeof h->start_utc);
    if (!local)
        local = bcast_string(ctx, hosts, HOSTS_MAX);
    if (!local)
        local = bcast_string(ctx, h->start_utc, sizeof h->start_utc);
    rc = agree(&o, local);
    if (rc)
        goto done;

    fapl = H5Pcreate(H5P_FILE_ACCESS);
    local = 0;
    if (fapl < 0 || H5Pset_fapl_mpio(fapl, ctx->comm, MPI_INFO_NULL) < 0 ||
        H5Pset_all_coll_metadata_ops(fapl, true) < 0 || H5Pset_coll_metadata_write(fapl, true) < 0)
        local = h5_failed(&o);
    rc = agree(&o, local);
    if (rc)
        goto done;

    /* A leftover ".partial" is from a run that died: it is ours to overwrite. */
    attempted = true;
    h->file = H5Fcreate(h->temp_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    rc = agree(&o, h->file < 0 ? h5_failed(&o) : 0);
    if (rc)
        goto done;

    h->dxpl = H5Pcreate(H5P_DATASET_XFER);
    local = 0;
    if (h->dxpl < 0 || H5Pset_dxpl_mpio(h->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        local = h5_failed(&o);
    rc = agree(&o, local);
    if (rc)
        goto done;

    o.verb = "write root attributes of";
    rc = agree(&o, root_attributes(&o, h, prov, hosts));

done:
    if (rc) {
        sb_io_discard(ctx, &h->file, &h->dxpl, attempted ? h->temp_path : NULL);
        h->temp_path[0] = '\0';
    }
    close_id(&fapl, H5Pclose);
    free(hosts);
    sb_h5_quiet_end(q);
    return rc;
}

int sb_h5_commit(sb_h5 *h, int exit_status)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    sb_h5_quiet q = sb_h5_quiet_begin();
    const sb_ctx *ctx = h->ctx;
    op o = op_start(h, "write end attributes of", NULL, NULL);
    bool closed = false;

    int local = h->file > 0 ? 0 : SB_EINTERNAL;
    if (local)
        snprintf(o.detail, sizeof o.detail, "file is not open");
    int rc = agree(&o, local);
    if (rc)
        goto done;

    char end_utc[32] = "";
    double wall = 0;
    if (ctx->rank == 0) {
        sb_utc_iso8601(end_utc, sizeof end_utc);
        wall = sb_now() - h->t_start;
    }
    local = bcast_string(ctx, end_utc, sizeof end_utc);
    if (!local && MPI_Bcast(&wall, 1, MPI_DOUBLE, 0, ctx->comm) != MPI_SUCCESS)
        local = SB_EMPI;
    if (!local)
        local = put_attr_str(&o, h->file, "end_utc", end_utc);
    if (!local)
        local = put_attr_i64(&o, h->file, "exit_status", exit_status);
    if (!local)
        local = put_attr_f64(&o, h->file, "wall_seconds", wall);
    rc = agree(&o, local);
    if (rc)
        goto done;

    o.verb = "close";
    close_id(&h->dxpl, H5Pclose);
    local = H5Fclose(h->file) < 0 ? h5_failed(&o) : 0;
    h->file = H5I_INVALID_HID;
    rc = agree(&o, local);
    if (rc)
        goto done;
    closed = true;

    o.verb = "publish";
    sb_verdict v;
    rc = sb_io_publish(ctx, h->temp_path, h->final_path, &v);
    report(&o, &v);
    if (!rc)
        h->temp_path[0] = '\0';

done:
    /* After a failure before the close the data is not complete: remove it.  A complete file
     * that could not be renamed is kept under its temporary name for the user to rescue. */
    if (rc && !closed) {
        sb_io_discard(ctx, &h->file, &h->dxpl, h->temp_path);
    } else if (rc && ctx->rank == 0 && h->temp_path[0] && access(h->temp_path, F_OK) == 0) {
        fprintf(ctx->err, "symbatch: the complete results are kept in '%s'\n", h->temp_path);
    }
    h->temp_path[0] = '\0'; /* the handle is finished: sb_h5_abort now does nothing */
    MPI_Barrier(ctx->comm);
    sb_h5_quiet_end(q);
    return rc;
}

void sb_h5_abort(sb_h5 *h)
{
    if (!h || !h->ctx)
        return;
    sb_h5_quiet q = sb_h5_quiet_begin();
    sb_io_discard(h->ctx, &h->file, &h->dxpl, h->temp_path);
    h->temp_path[0] = '\0';
    sb_h5_quiet_end(q);
}

int sb_h5_reserve(sb_h5 *h, uint64_t bytes)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    op o = op_start(h, "reserve space for", NULL, NULL);
    o.file = h->final_path;
    int local = h->file > 0 ? 0 : SB_EINTERNAL;
    if (!local && h->ctx->rank == 0)
        local = sb_io_reserve(h->temp_path, bytes, o.detail, sizeof o.detail);
    if (local == SB_EIO) {
        size_t len = strlen(o.detail);
        snprintf(o.detail + len, sizeof o.detail - len, "; nothing was computed or written");
    }
    return agree(&o, local);
}

/* ---- groups -------------------------------------------------------------------------------- */

int sb_h5_group(sb_h5 *h, const char *path)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    sb_h5_quiet q = sb_h5_quiet_begin();
    op o = op_start(h, "create group", path, NULL);
    char prefix[1024];
    int local = 0;
    if (h->file <= 0 || !path || strlen(path) >= sizeof prefix) {
        local = SB_EINTERNAL;
        snprintf(o.detail, sizeof o.detail, "file not open or path too long");
    }
    /* Walks "/a", "/a/b", ... creating what is missing, so that the call is idempotent. */
    for (size_t i = 1; !local && path[i - 1]; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        if (strcmp(prefix, "/") == 0)
            continue;
        htri_t exists = H5Lexists(h->file, prefix, H5P_DEFAULT);
        if (exists < 0) {
            local = h5_failed(&o);
        } else if (!exists) {
            hid_t g = H5Gcreate2(h->file, prefix, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (g < 0)
                local = h5_failed(&o);
            else
                H5Gclose(g);
        }
    }
    int rc = agree(&o, local);
    sb_h5_quiet_end(q);
    return rc;
}

/* ---- datasets ------------------------------------------------------------------------------ */

/* A dataset to write: its shape, and the rows that this rank contributes. */
typedef struct dset_spec {
    const char *path;
    hid_t file_type, mem_type;
    size_t elem_size;
    int ndims;       /* 0 (scalar), 1 or 2 */
    hsize_t dims[2]; /* rows (x cols) */
    uint64_t first;  /* this rank's rows: [first, first + nrows); scalars: nrows 0 or 1 */
    uint64_t nrows;
    const void *data; /* this rank's first row */
    const char *units, *meaning;
} dset_spec;

static uint64_t row_bytes(const dset_spec *s)
{
    return (uint64_t)s->elem_size * (s->ndims == 2 ? s->dims[1] : 1);
}

static int check_spec(op *o, const sb_h5 *h, const dset_spec *s)
{
    const char *why = NULL;
    int rc = SB_EINTERNAL;
    if (h->file <= 0 || !s->path)
        why = "file not open";
    else if (s->ndims > 0 && (s->first > s->dims[0] || s->nrows > s->dims[0] - s->first))
        why = "block outside the dataset";
    else if (s->nrows > 0 && row_bytes(s) > 0 && !s->data)
        why = "no data";
    else if (row_bytes(s) > PIECE_BYTES) {
        why = "row larger than 1 GiB";
        rc = SB_ELIMIT;
    }
    if (!why)
        return 0;
    snprintf(o->detail, sizeof o->detail, "%s", why);
    return rc;
}

/* One collective H5Dwrite of piece `p`: this rank's rows [p * per, (p + 1) * per), or an empty
 * selection when it has none left. */
static int write_piece(op *o, const sb_h5 *h, hid_t dset, hid_t fspace, const dset_spec *s,
                       uint64_t p, uint64_t per)
{
    static const unsigned char nothing = 0; /* HDF5 wants a buffer even for no data */
    hid_t mspace = H5I_INVALID_HID, fsel = H5I_INVALID_HID;
    uint64_t lo = p * per;
    uint64_t n = lo < s->nrows ? s->nrows - lo : 0;
    if (n > per)
        n = per;
    const void *buf = &nothing;
    int local = 0;

    fsel = H5Scopy(fspace);
    if (fsel < 0) {
        local = h5_failed(o);
    } else if (n == 0 || row_bytes(s) == 0) {
        hsize_t one = 1;
        mspace = H5Screate_simple(1, &one, NULL);
        if (mspace < 0 || H5Sselect_none(mspace) < 0 || H5Sselect_none(fsel) < 0)
            local = h5_failed(o);
    } else if (s->ndims == 0) {
        mspace = H5Screate(H5S_SCALAR);
        if (mspace < 0 || H5Sselect_all(fsel) < 0)
            local = h5_failed(o);
        buf = s->data;
    } else {
        hsize_t count[2] = {n, s->ndims == 2 ? s->dims[1] : 1};
        hsize_t start[2] = {s->first + lo, 0};
        mspace = H5Screate_simple(s->ndims, count, NULL);
        if (mspace < 0 || H5Sselect_hyperslab(fsel, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
            local = h5_failed(o);
        buf = (const unsigned char *)s->data + lo * row_bytes(s);
    }
    int rc = agree(o, local);
    if (!rc)
        rc = agree(o,
                   H5Dwrite(dset, s->mem_type, mspace, fsel, h->dxpl, buf) < 0 ? h5_failed(o) : 0);
    close_id(&mspace, H5Sclose);
    close_id(&fsel, H5Sclose);
    return rc;
}

static int write_dataset(sb_h5 *h, const dset_spec *s)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    op o = op_start(h, "write", s->path, NULL);
    hid_t fspace = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, lcpl = H5I_INVALID_HID;
    hid_t dset = H5I_INVALID_HID;

    int rc = agree(&o, check_spec(&o, h, s));
    if (rc)
        goto done;

    /* Every rank loops the same number of times: the largest number of pieces of any rank. */
    uint64_t per = row_bytes(s) ? PIECE_BYTES / row_bytes(s) : 1;
    uint64_t mine = row_bytes(s) ? (s->nrows + per - 1) / per : 0, pieces = 0;
    if (MPI_Allreduce(&mine, &pieces, 1, MPI_UINT64_T, MPI_MAX, h->ctx->comm) != MPI_SUCCESS) {
        rc = agree(&o, SB_EMPI);
        goto done;
    }

    int local = 0;
    fspace = s->ndims ? H5Screate_simple(s->ndims, s->dims, NULL) : H5Screate(H5S_SCALAR);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    /* Fill values would be written only to be overwritten. */
    if (fspace < 0 || dcpl < 0 || lcpl < 0 || H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
        H5Pset_create_intermediate_group(lcpl, 1) < 0)
        local = h5_failed(&o);
    rc = agree(&o, local);
    if (rc)
        goto done;

    dset = H5Dcreate2(h->file, s->path, s->file_type, fspace, lcpl, dcpl, H5P_DEFAULT);
    rc = agree(&o, dset < 0 ? h5_failed(&o) : 0);
    for (uint64_t p = 0; !rc && p < pieces; p++)
        rc = write_piece(&o, h, dset, fspace, s, p, per);
    if (rc)
        goto done;

    local = 0;
    if (s->units)
        local = put_attr_str(&o, dset, "units", s->units);
    if (!local && s->meaning)
        local = put_attr_str(&o, dset, "meaning", s->meaning);
    rc = agree(&o, local);

done:
    close_id(&dset, H5Dclose);
    close_id(&lcpl, H5Pclose);
    close_id(&dcpl, H5Pclose);
    close_id(&fspace, H5Sclose);
    sb_h5_quiet_end(q);
    return rc;
}

/* Rank 0's value of a shape, so that every rank creates the same dataset. */
static int bcast_u64(const sb_h5 *h, uint64_t *v, int n)
{
    return MPI_Bcast(v, n, MPI_UINT64_T, 0, h->ctx->comm) == MPI_SUCCESS ? 0 : SB_EMPI;
}

static int write_root_vector(sb_h5 *h, const char *path, hid_t file_type, hid_t mem_type,
                             size_t elem_size, const void *data, uint64_t rows, const char *units,
                             const char *meaning)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    if (bcast_u64(h, &rows, 1))
        return SB_EMPI;
    dset_spec s = {
        .path = path,
        .file_type = file_type,
        .mem_type = mem_type,
        .elem_size = elem_size,
        .ndims = 1,
        .dims = {rows, 0},
        .first = 0,
        .nrows = h->ctx->rank == 0 ? rows : 0,
        .data = data,
        .units = units,
        .meaning = meaning,
    };
    return write_dataset(h, &s);
}

int sb_h5_write_u64(sb_h5 *h, const char *path, const uint64_t *data, uint64_t rows,
                    const char *units, const char *meaning)
{
    return write_root_vector(h, path, H5T_STD_U64LE, H5T_NATIVE_UINT64, sizeof *data, data, rows,
                             units, meaning);
}

int sb_h5_write_f64(sb_h5 *h, const char *path, const double *data, uint64_t rows,
                    const char *units, const char *meaning)
{
    return write_root_vector(h, path, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sizeof *data, data, rows,
                             units, meaning);
}

int sb_h5_write_u8_rows_root(sb_h5 *h, const char *path, const uint8_t *data, uint64_t rows,
                             uint64_t cols, const char *units, const char *meaning)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    uint64_t shape[2] = {rows, cols};
    if (bcast_u64(h, shape, 2))
        return SB_EMPI;
    dset_spec s = {
        .path = path,
        .file_type = H5T_STD_U8LE,
        .mem_type = H5T_NATIVE_UINT8,
        .elem_size = 1,
        .ndims = 2,
        .dims = {shape[0], shape[1]},
        .first = 0,
        .nrows = h->ctx->rank == 0 ? shape[0] : 0,
        .data = data,
        .units = units,
        .meaning = meaning,
    };
    return write_dataset(h, &s);
}

int sb_h5_write_u8_blocks(sb_h5 *h, const char *path, uint64_t total, uint64_t offset,
                          uint64_t count, const uint8_t *data, const char *units,
                          const char *meaning)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    if (bcast_u64(h, &total, 1))
        return SB_EMPI;
    dset_spec s = {
        .path = path,
        .file_type = H5T_STD_U8LE,
        .mem_type = H5T_NATIVE_UINT8,
        .elem_size = 1,
        .ndims = 1,
        .dims = {total, 0},
        .first = offset,
        .nrows = count,
        .data = data,
        .units = units,
        .meaning = meaning,
    };
    return write_dataset(h, &s);
}

int sb_h5_write_scalar_u64(sb_h5 *h, const char *path, uint64_t value, const char *units,
                           const char *meaning)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    dset_spec s = {
        .path = path,
        .file_type = H5T_STD_U64LE,
        .mem_type = H5T_NATIVE_UINT64,
        .elem_size = sizeof value,
        .ndims = 0,
        .nrows = h->ctx->rank == 0,
        .data = &value,
        .units = units,
        .meaning = meaning,
    };
    return write_dataset(h, &s);
}

int sb_h5_write_scalar_f64(sb_h5 *h, const char *path, double value, const char *units,
                           const char *meaning)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    dset_spec s = {
        .path = path,
        .file_type = H5T_IEEE_F64LE,
        .mem_type = H5T_NATIVE_DOUBLE,
        .elem_size = sizeof value,
        .ndims = 0,
        .nrows = h->ctx->rank == 0,
        .data = &value,
        .units = units,
        .meaning = meaning,
    };
    return write_dataset(h, &s);
}

/* ---- attributes on existing objects -------------------------------------------------------- */

typedef enum { ATTR_STR, ATTR_I64, ATTR_F64 } attr_kind;

static int set_attr(sb_h5 *h, const char *obj, const char *name, attr_kind kind, const char *s,
                    int64_t i, double d)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    sb_h5_quiet q = sb_h5_quiet_begin();
    char what[300];
    snprintf(what, sizeof what, "%s' attribute '%s", obj ? obj : "?", name ? name : "?");
    op o = op_start(h, "write", what, NULL);
    hid_t id = H5I_INVALID_HID;
    int local = 0;
    if (h->file <= 0 || !obj || !name) {
        local = SB_EINTERNAL;
        snprintf(o.detail, sizeof o.detail, "file not open or no name");
    }
    if (!local) {
        id = H5Oopen(h->file, obj, H5P_DEFAULT);
        if (id < 0)
            local = h5_failed(&o);
    }
    if (!local && kind == ATTR_STR)
        local = put_attr_str(&o, id, name, s);
    else if (!local && kind == ATTR_I64)
        local = put_attr_i64(&o, id, name, i);
    else if (!local)
        local = put_attr_f64(&o, id, name, d);
    close_id(&id, H5Oclose);
    int rc = agree(&o, local);
    sb_h5_quiet_end(q);
    return rc;
}

int sb_h5_attr_str(sb_h5 *h, const char *obj, const char *name, const char *value)
{
    return set_attr(h, obj, name, ATTR_STR, value, 0, 0);
}

int sb_h5_attr_i64(sb_h5 *h, const char *obj, const char *name, int64_t value)
{
    return set_attr(h, obj, name, ATTR_I64, NULL, value, 0);
}

int sb_h5_attr_f64(sb_h5 *h, const char *obj, const char *name, double value)
{
    return set_attr(h, obj, name, ATTR_F64, NULL, 0, value);
}
