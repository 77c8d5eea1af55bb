/* Checkpoint files (ckpt.h): parallel HDF5 by the book (MPI-IO driver, collective metadata,
 * collective transfers), datasets guarded by per-segment checksums, published by rename.
 *
 * Every public function is collective and agrees on a verdict after each step that can fail
 * locally, before the next collective call, so one rank's failure never leaves the others
 * waiting inside HDF5.  The message of the failing rank travels to rank 0, which prints it. */
#include "io/durable.h"
#include "io/h5err.h"
#include "io/h5op.h"
#include "symbatch/ckpt.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Checksums are defined on the stored little-endian bytes, which are the bytes in memory. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "checkpoints need a little-endian host");

/* HDF5 1.10's MPI-IO driver passes byte counts as int, so one rank moves at most this much per
 * collective call (a multiple of SB_CKPT_SEGMENT). */
#define PIECE_BYTES ((uint64_t)1 << 28)
#define DETAIL_MAX  640
#define ATTR_MAX    65536
#define WORD_KEY    0x9e3779b97f4a7c15ULL

/* ---- checksums ------------------------------------------------------------------------------ */

uint64_t sb_ckpt_sum(const void *data, uint64_t len, uint64_t pos)
{
    const unsigned char *p = data;
    const uint64_t j0 = pos / 8, n = len / 8;
    uint64_t s0 = 0, s1 = 0, i = 0;
    /* Two independent sums keep both multipliers busy. */
    for (; i + 2 <= n; i += 2) {
        uint64_t w0, w1;
        memcpy(&w0, p + 8 * i, 8);
        memcpy(&w1, p + 8 * i + 8, 8);
        s0 += sb_mix64(w0 ^ ((j0 + i) * WORD_KEY));
        s1 += sb_mix64(w1 ^ ((j0 + i + 1) * WORD_KEY));
    }
    for (; i < n; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);
        s0 += sb_mix64(w ^ ((j0 + i) * WORD_KEY));
    }
    if (len % 8) {
        uint64_t w = 0;
        memcpy(&w, p + 8 * n, len % 8);
        s0 += sb_mix64(w ^ ((j0 + n) * WORD_KEY));
    }
    return s0 + s1;
}

/* ---- errors --------------------------------------------------------------------------------- */

/* Describes a failed HDF5 call ("cannot <what>: <innermost HDF5 message>") and returns `code`:
 * SB_EHDF5 while writing, SB_ECKPT while reading (a file that HDF5 cannot read is damaged). */
static int h5_fail(char *detail, int code, const char *what)
{
    char inner[256] = "";
    sb_h5_innermost(inner, sizeof inner);
    /* A failed MPI-IO write leaves HDF5's stack without the system's reason: errno has it. */
    if (!inner[0] && (errno == ENOSPC || errno == EDQUOT || errno == EFBIG || errno == EIO))
        snprintf(inner, sizeof inner, "%s", strerror(errno));
    snprintf(detail, DETAIL_MAX, "cannot %s%s%s", what, inner[0] ? ": " : "", inner);
    return code;
}

static int sys_fail(char *detail, const char *call, const char *path)
{
    snprintf(detail, DETAIL_MAX, "%s '%s': %s", call, path, strerror(errno));
    return SB_EIO;
}

static int report(sb_ckpt *ck, const sb_verdict *v)
{
    if (v->code >= 0)
        return 0;
    ck->damaged |= v->code == SB_ECKPT;
    if (ck->ctx->rank == 0 && !ck->reported) {
        ck->reported = 1;
        char where[48] = "";
        if (v->rank != 0)
            snprintf(where, sizeof where, " (on rank %d)", v->rank);
        fprintf(ck->ctx->err, "symbatch: checkpoint '%s': %s%s\n", ck->path,
                v->msg[0] ? v->msg : sb_strerror(v->code), where);
    }
    return v->code;
}

/* Every rank passes its status and what went wrong; every rank gets the most severe status
 * (durable.h).  Rank 0 prints the message of the lowest failing rank, once per handle. */
static int agree(sb_ckpt *ck, int local, const char *detail)
{
    sb_verdict v;
    const char *why = detail && detail[0] ? detail : local < 0 ? sb_strerror(local) : "";
    sb_io_agree(ck->ctx, local, why, &v);
    return report(ck, &v);
}

static void close_id(hid_t *id, herr_t (*closer)(hid_t))
{
    if (*id > 0)
        closer(*id);
    *id = H5I_INVALID_HID;
}

static void init_handle(sb_ckpt *ck, const sb_ctx *ctx, const char *path)
{
    memset(ck, 0, sizeof *ck);
    ck->ctx = ctx;
    ck->file = H5I_INVALID_HID;
    ck->dxpl = H5I_INVALID_HID;
    snprintf(ck->path, sizeof ck->path, "%s", path ? path : "");
    snprintf(ck->temp_path, sizeof ck->temp_path, "%s.partial", ck->path);
}

static int check_path(const char *path, char *detail)
{
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || len >= sizeof((sb_ckpt *)0)->path) {
        snprintf(detail, DETAIL_MAX, "checkpoint path is empty or too long");
        return SB_EINPUT;
    }
    return 0;
}

/* ---- paths ---------------------------------------------------------------------------------- */

int sb_ckpt_path(char *buf, size_t size, const char *output)
{
    int n = snprintf(buf, size, "%s.ckpt.h5", output ? output : "");
    return n < 0 || (size_t)n >= size || !output || !output[0] ? SB_EINPUT : 0;
}

int sb_ckpt_exists(const sb_ctx *ctx, const char *path, bool *exists)
{
    int found = 0;
    struct stat st;
    if (ctx->rank == 0)
        found = path && stat(path, &st) == 0;
    if (MPI_Bcast(&found, 1, MPI_INT, 0, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    *exists = found != 0;
    return 0;
}

int sb_ckpt_remove(const sb_ctx *ctx, const char *path)
{
    sb_ckpt ck;
    init_handle(&ck, ctx, path);
    char detail[DETAIL_MAX] = "";
    int local = check_path(path, detail);
    if (!local && ctx->rank == 0) {
        unlink(ck.temp_path);
        if (unlink(ck.path) != 0 && errno != ENOENT)
            local = sys_fail(detail, "cannot remove", ck.path);
    }
    return agree(&ck, local, detail);
}

/* ---- attributes ----------------------------------------------------------------------------- */

/* Strings are fixed-length so that they live in the (checksummed) object header, not in the
 * global heap, which has no checksum. */
static int put_attr(hid_t obj, const char *name, hid_t type, const void *value, char *detail)
{
    hid_t space = H5Screate(H5S_SCALAR), attr = H5I_INVALID_HID;
    int rc = 0;
    if (space < 0)
        rc = h5_fail(detail, SB_EHDF5, "create an attribute");
    if (!rc && H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0)
        rc = h5_fail(detail, SB_EHDF5, "replace an attribute");
    if (!rc)
        attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (!rc && (attr < 0 || H5Awrite(attr, type, value) < 0)) {
        char what[300];
        snprintf(what, sizeof what, "write attribute '%s'", name);
        rc = h5_fail(detail, SB_EHDF5, what);
    }
    close_id(&attr, H5Aclose);
    close_id(&space, H5Sclose);
    return rc;
}

static int put_str(hid_t obj, const char *name, const char *value, char *detail)
{
    size_t len = strlen(value ? value : "");
    hid_t type = H5Tcopy(H5T_C_S1);
    int rc = 0;
    if (type < 0 || H5Tset_size(type, len + 1) < 0 || H5Tset_strpad(type, H5T_STR_NULLTERM) < 0)
        rc = h5_fail(detail, SB_EHDF5, "make a string type");
    if (!rc)
        rc = put_attr(obj, name, type, value ? value : "", detail);
    close_id(&type, H5Tclose);
    return rc;
}

static int put_i64(hid_t obj, const char *name, int64_t value, char *detail)
{
    hid_t type = H5Tcopy(H5T_STD_I64LE);
    int rc = type < 0 ? h5_fail(detail, SB_EHDF5, "make an integer type") : 0;
    if (!rc)
        rc = put_attr(obj, name, type, &value, detail);
    close_id(&type, H5Tclose);
    return rc;
}

static int missing_attr(char *detail, const char *name)
{
    snprintf(detail, DETAIL_MAX, "attribute '%s' is missing or unreadable (damaged file?)", name);
    return SB_ECKPT;
}

static int get_str(hid_t obj, const char *name, char *buf, size_t size, char *detail)
{
    hid_t attr = H5I_INVALID_HID, ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
    char *tmp = NULL;
    int rc = 0;
    if (H5Aexists(obj, name) <= 0 || (attr = H5Aopen(obj, name, H5P_DEFAULT)) < 0 ||
        (ftype = H5Aget_type(attr)) < 0 || H5Tget_class(ftype) != H5T_STRING ||
        H5Tis_variable_str(ftype) != 0) {
        rc = missing_attr(detail, name);
        goto done;
    }
    size_t len = H5Tget_size(ftype);
    tmp = len > 0 && len < ATTR_MAX ? calloc(1, len + 1) : NULL;
    mtype = H5Tcopy(H5T_C_S1);
    if (!tmp || mtype < 0 || H5Tset_size(mtype, len) < 0 || H5Aread(attr, mtype, tmp) < 0) {
        rc = missing_attr(detail, name);
        goto done;
    }
    if (strlen(tmp) >= size) {
        snprintf(detail, DETAIL_MAX, "attribute '%s' is too long", name);
        rc = SB_ECKPT;
        goto done;
    }
    memcpy(buf, tmp, strlen(tmp) + 1);
done:
    free(tmp);
    close_id(&mtype, H5Tclose);
    close_id(&ftype, H5Tclose);
    close_id(&attr, H5Aclose);
    return rc;
}

static int get_i64(hid_t obj, const char *name, int64_t *value, char *detail)
{
    hid_t attr = H5I_INVALID_HID, ftype = H5I_INVALID_HID;
    int rc = 0;
    if (H5Aexists(obj, name) <= 0 || (attr = H5Aopen(obj, name, H5P_DEFAULT)) < 0 ||
        (ftype = H5Aget_type(attr)) < 0 || H5Tget_class(ftype) != H5T_INTEGER ||
        H5Aread(attr, H5T_NATIVE_INT64, value) < 0)
        rc = missing_attr(detail, name);
    close_id(&ftype, H5Tclose);
    close_id(&attr, H5Aclose);
    return rc;
}

int sb_ckpt_put_str(sb_ckpt *ck, const char *name, const char *value)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    char detail[DETAIL_MAX] = "";
    int rc = agree(ck, put_str(ck->file, name, value, detail), detail);
    sb_h5_quiet_end(q);
    return rc;
}

int sb_ckpt_put_i64(sb_ckpt *ck, const char *name, int64_t value)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    char detail[DETAIL_MAX] = "";
    int rc = agree(ck, put_i64(ck->file, name, value, detail), detail);
    sb_h5_quiet_end(q);
    return rc;
}

int sb_ckpt_get_str(sb_ckpt *ck, const char *name, char *buf, size_t size)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    char detail[DETAIL_MAX] = "";
    int rc = agree(ck, get_str(ck->file, name, buf, size, detail), detail);
    sb_h5_quiet_end(q);
    return rc;
}

int sb_ckpt_get_i64(sb_ckpt *ck, const char *name, int64_t *value)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    char detail[DETAIL_MAX] = "";
    int rc = agree(ck, get_i64(ck->file, name, value, detail), detail);
    sb_h5_quiet_end(q);
    return rc;
}

/* ---- create, commit, abort ------------------------------------------------------------------ */

/* File access: MPI-IO with collective metadata, and the 1.10 file format, whose object headers
 * and indexes carry checksums (the 1.0 format, HDF5's default, has none). */
static hid_t make_fapl(const sb_ctx *ctx)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return H5I_INVALID_HID;
    if (H5Pset_fapl_mpio(fapl, ctx->comm, MPI_INFO_NULL) < 0 ||
        H5Pset_all_coll_metadata_ops(fapl, true) < 0 ||
        H5Pset_coll_metadata_write(fapl, true) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) {
        H5Pclose(fapl);
        return H5I_INVALID_HID;
    }
    return fapl;
}

static int make_dxpl(sb_ckpt *ck, char *detail, int code)
{
    ck->dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (ck->dxpl < 0 || H5Pset_dxpl_mpio(ck->dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        return h5_fail(detail, code, "set up collective transfers");
    return 0;
}

/* The format attributes; values are rank 0's (the time) so that every rank writes the same. */
static int format_attributes(sb_ckpt *ck, int seq, char *detail)
{
    char utc[32] = "";
    if (ck->ctx->rank == 0)
        sb_utc_iso8601(utc, sizeof utc);
    if (MPI_Bcast(utc, sizeof utc, MPI_CHAR, 0, ck->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    hid_t f = ck->file;
    int rc = put_str(f, "format", SB_CKPT_FORMAT, detail);
    if (!rc)
        rc = put_i64(f, "format_version", SB_CKPT_VERSION, detail);
    if (!rc)
        rc = put_str(f, "symbatch_version", sb_version(), detail);
    if (!rc)
        rc = put_str(f, "git_commit", sb_git_commit(), detail);
    if (!rc)
        rc = put_str(f, "written_utc", utc, detail);
    if (!rc)
        rc = put_i64(f, "ranks", ck->ctx->size, detail);
    if (!rc)
        rc = put_i64(f, "sequence", seq, detail);
    return rc;
}

/* Test-only fault injection (see SB_CKPT_FAULT_ENV in ckpt.h): armed on rank 0 only, as a real
 * full disk usually hits one writer. */
static bool fault_armed(const sb_ctx *ctx, int seq)
{
    const char *v = getenv(SB_CKPT_FAULT_ENV);
    return ctx->rank == 0 && v && v[0] && atoi(v) == seq;
}

int sb_ckpt_create(sb_ckpt *ck, const sb_ctx *ctx, const char *path, int seq)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    init_handle(ck, ctx, path);
    char detail[DETAIL_MAX] = "";
    hid_t fapl = H5I_INVALID_HID;
    int rc = agree(ck, check_path(path, detail), detail);
    if (rc)
        goto done;
    fapl = make_fapl(ctx);
    rc = agree(ck, fapl < 0 ? h5_fail(detail, SB_EHDF5, "set up MPI-IO file access") : 0, detail);
    if (rc)
        goto done;
    /* A leftover temporary file is from a run that died while writing: ours to overwrite. */
    ck->file = H5Fcreate(ck->temp_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    char what[sizeof ck->temp_path + 32];
    snprintf(what, sizeof what, "create '%s'", ck->temp_path);
    rc = agree(ck, ck->file < 0 ? h5_fail(detail, SB_EHDF5, what) : 0, detail);
    if (rc)
        goto done;
    ck->writing = true;
    rc = agree(ck, make_dxpl(ck, detail, SB_EHDF5), detail);
    if (!rc)
        rc = agree(ck, format_attributes(ck, seq, detail), detail);
    ck->fault = fault_armed(ctx, seq);
done:
    close_id(&fapl, H5Pclose);
    sb_h5_quiet_end(q);
    if (rc && ck->writing)
        sb_ckpt_abort(ck);
    return rc;
}

int sb_ckpt_commit(sb_ckpt *ck)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    char detail[DETAIL_MAX] = "";
    int rc = agree(ck, ck->writing && ck->file > 0 ? 0 : SB_EINTERNAL, "not open for writing");
    if (!rc) {
        close_id(&ck->dxpl, H5Pclose);
        int local = H5Fclose(ck->file) < 0 ? h5_fail(detail, SB_EHDF5, "close the file") : 0;
        ck->file = H5I_INVALID_HID;
        rc = agree(ck, local, detail);
    }
    /* Each rank flushes what it wrote, then rank 0 renames (durable.h). */
    if (!rc) {
        sb_verdict v;
        sb_io_publish(ck->ctx, ck->temp_path, ck->path, &v);
        rc = report(ck, &v);
    }
    sb_h5_quiet_end(q);
    if (rc)
        sb_ckpt_abort(ck);
    ck->writing = false;
    return rc;
}

int sb_ckpt_reserve(sb_ckpt *ck, uint64_t bytes)
{
    char detail[DETAIL_MAX] = "";
    int local = ck->writing && ck->file > 0 ? 0 : SB_EINTERNAL;
    if (!local && ck->ctx->rank == 0)
        local = sb_io_reserve(ck->temp_path, bytes, detail, sizeof detail);
    return agree(ck, local, detail);
}

void sb_ckpt_abort(sb_ckpt *ck)
{
    if (!ck || !ck->ctx)
        return;
    sb_h5_quiet q = sb_h5_quiet_begin();
    sb_io_discard(ck->ctx, &ck->file, &ck->dxpl, ck->writing ? ck->temp_path : NULL);
    ck->writing = false;
    sb_h5_quiet_end(q);
}

/* ---- open, close ---------------------------------------------------------------------------- */

static int check_exists(const sb_ckpt *ck, char *detail)
{
    struct stat st;
    if (stat(ck->path, &st) != 0) {
        snprintf(detail, DETAIL_MAX, "not found (%s): nothing to resume from", strerror(errno));
        return SB_ECKPT;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(detail, DETAIL_MAX, "not a regular file");
        return SB_ECKPT;
    }
    return 0;
}

static int check_format(sb_ckpt *ck, char *detail)
{
    char format[64] = "";
    int64_t version = 0;
    if (get_str(ck->file, "format", format, sizeof format, detail)) {
        snprintf(detail, DETAIL_MAX,
                 "cannot read its 'format' attribute: damaged, or not a symbatch checkpoint");
        return SB_ECKPT;
    }
    if (strcmp(format, SB_CKPT_FORMAT) != 0) {
        snprintf(detail, DETAIL_MAX, "not a symbatch checkpoint (format '%s', expected '%s')",
                 format, SB_CKPT_FORMAT);
        return SB_ECKPT;
    }
    int rc = get_i64(ck->file, "format_version", &version, detail);
    if (!rc && version != SB_CKPT_VERSION) {
        snprintf(detail, DETAIL_MAX,
                 "format version %" PRId64 ", but this symbatch reads version %d", version,
                 SB_CKPT_VERSION);
        rc = SB_ECKPT;
    }
    return rc;
}

int sb_ckpt_open(sb_ckpt *ck, const sb_ctx *ctx, const char *path)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    init_handle(ck, ctx, path);
    char detail[DETAIL_MAX] = "";
    hid_t fapl = H5I_INVALID_HID;
    int local = check_path(path, detail);
    if (!local && ctx->rank == 0)
        local = check_exists(ck, detail);
    int rc = agree(ck, local, detail);
    if (rc)
        goto done;
    fapl = make_fapl(ctx);
    rc = agree(ck, fapl < 0 ? h5_fail(detail, SB_EHDF5, "set up MPI-IO file access") : 0, detail);
    if (rc)
        goto done;
    ck->file = H5Fopen(ck->path, H5F_ACC_RDONLY, fapl);
    rc = agree(ck, ck->file < 0 ? h5_fail(detail, SB_ECKPT, "open it (truncated or damaged?)") : 0,
               detail);
    if (!rc)
        rc = agree(ck, make_dxpl(ck, detail, SB_ECKPT), detail);
    if (!rc)
        rc = agree(ck, check_format(ck, detail), detail);
done:
    close_id(&fapl, H5Pclose);
    sb_h5_quiet_end(q);
    if (rc)
        sb_ckpt_close(ck);
    return rc;
}

void sb_ckpt_close(sb_ckpt *ck)
{
    if (!ck || !ck->ctx)
        return;
    sb_h5_quiet q = sb_h5_quiet_begin();
    close_id(&ck->dxpl, H5Pclose);
    close_id(&ck->file, H5Fclose);
    sb_h5_quiet_end(q);
    /* HDF5 1.10 cannot release the cached metadata of a file that failed its checks and, at
     * exit, prints "HDF5: infinite loop closing library" when automatic error printing is on.
     * The run is ending with a clear message already, so printing stays off. */
    if (ck->damaged)
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* ---- datasets: shared pieces ---------------------------------------------------------------- */

typedef struct tinfo {
    hid_t file_type, mem_type;
    size_t size;
    H5T_class_t cls;
} tinfo;

static tinfo type_info(sb_ckpt_type t)
{
    switch (t) {
    case SB_CKPT_U64:
        return (tinfo){H5T_STD_U64LE, H5T_NATIVE_UINT64, 8, H5T_INTEGER};
    case SB_CKPT_F64:
        return (tinfo){H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 8, H5T_FLOAT};
    default:
        return (tinfo){H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, H5T_INTEGER};
    }
}

static uint64_t nsegments(uint64_t bytes, uint64_t seg)
{
    return (bytes + seg - 1) / seg;
}

/* One collective transfer: this rank's elements [first, first + n) (none when n == 0). */
static int transfer(sb_ckpt *ck, hid_t dset, hid_t mem_type, uint64_t first, uint64_t n, void *buf,
                    bool write)
{
    static unsigned char nothing[8]; /* HDF5 wants a buffer even for an empty selection */
    hid_t fsel = H5Dget_space(dset), msel = H5I_INVALID_HID;
    hsize_t start = first, count = n ? n : 1;
    int rc = fsel < 0 ? -1 : 0;
    if (!rc)
        msel = H5Screate_simple(1, &count, NULL);
    if (!rc && n == 0)
        rc = msel < 0 || H5Sselect_none(msel) < 0 || H5Sselect_none(fsel) < 0 ? -1 : 0;
    else if (!rc)
        rc = msel < 0 || H5Sselect_hyperslab(fsel, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0
                 ? -1
                 : 0;
    if (!rc && write)
        rc = H5Dwrite(dset, mem_type, msel, fsel, ck->dxpl, n ? buf : nothing) < 0 ? -1 : 0;
    else if (!rc)
        rc = H5Dread(dset, mem_type, msel, fsel, ck->dxpl, n ? buf : nothing) < 0 ? -1 : 0;
    close_id(&msel, H5Sclose);
    close_id(&fsel, H5Sclose);
    return rc;
}

/* ---- writing -------------------------------------------------------------------------------- */

static int create_dset(hid_t file, const char *name, hid_t type, uint64_t total, hid_t *dset,
                       char *detail)
{
    hsize_t dims = total;
    hid_t space = H5Screate_simple(1, &dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
    int rc = 0;
    /* Fill values would be written only to be overwritten. */
    if (space < 0 || dcpl < 0 || lcpl < 0 || H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
        H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
        (*dset = H5Dcreate2(file, name, type, space, lcpl, dcpl, H5P_DEFAULT)) < 0) {
        char what[300];
        snprintf(what, sizeof what, "create dataset '%s'", name);
        rc = h5_fail(detail, SB_EHDF5, what);
    }
    close_id(&lcpl, H5Pclose);
    close_id(&dcpl, H5Pclose);
    close_id(&space, H5Sclose);
    return rc;
}

/* Creates a dataset and writes this rank's elements in pieces of at most PIECE_BYTES. */
static int write_raw(sb_ckpt *ck, const char *name, tinfo t, uint64_t total, uint64_t offset,
                     uint64_t count, const void *data)
{
    char detail[DETAIL_MAX] = "";
    hid_t dset = H5I_INVALID_HID;
    int rc = agree(ck, create_dset(ck->file, name, t.file_type, total, &dset, detail), detail);
    const uint64_t per = PIECE_BYTES / t.size;
    uint64_t mine = (count + per - 1) / per, pieces = 0;
    if (!rc && MPI_Allreduce(&mine, &pieces, 1, MPI_UINT64_T, MPI_MAX, ck->ctx->comm))
        rc = SB_EMPI;
    for (uint64_t p = 0; !rc && p < pieces; p++) {
        uint64_t lo = p * per, n = lo < count ? count - lo : 0;
        n = n < per ? n : per;
        void *buf = (unsigned char *)(uintptr_t)data + lo * t.size;
        errno = 0; /* h5_fail reports it when HDF5 does not say why */
        int local = transfer(ck, dset, t.mem_type, offset + lo, n, buf, true);
        char what[300];
        snprintf(what, sizeof what, "write dataset '%s'", name);
        rc = agree(ck, local ? h5_fail(detail, SB_EHDF5, what) : 0, detail);
    }
    close_id(&dset, H5Dclose);
    return rc;
}

/* This rank's part of every segment its bytes [a, a + len) touch, summed over ranks on rank 0
 * (sums has nseg entries, zero outside this rank's range). */
static int segment_sums(sb_ckpt *ck, const unsigned char *data, uint64_t a, uint64_t len,
                        uint64_t *sums, uint64_t nseg)
{
    for (uint64_t s = a / SB_CKPT_SEGMENT; len && s <= (a + len - 1) / SB_CKPT_SEGMENT; s++) {
        uint64_t lo = s * SB_CKPT_SEGMENT > a ? s * SB_CKPT_SEGMENT : a;
        uint64_t hi = (s + 1) * SB_CKPT_SEGMENT < a + len ? (s + 1) * SB_CKPT_SEGMENT : a + len;
        sums[s] += sb_ckpt_sum(data + (lo - a), hi - lo, lo);
    }
    void *in = ck->ctx->rank == 0 ? MPI_IN_PLACE : sums;
    int rc = MPI_Reduce(in, sums, (int)nseg, MPI_UINT64_T, MPI_SUM, 0, ck->ctx->comm);
    return rc == MPI_SUCCESS ? 0 : SB_EMPI;
}

static int check_write(const sb_ckpt *ck, tinfo t, uint64_t total, uint64_t offset, uint64_t count,
                       const void *data, char *detail)
{
    if (!ck->writing || ck->file <= 0)
        snprintf(detail, DETAIL_MAX, "not open for writing");
    else if (offset > total || count > total - offset)
        snprintf(detail, DETAIL_MAX, "block outside the dataset");
    else if ((offset * t.size) % 8 != 0)
        snprintf(detail, DETAIL_MAX, "block does not start on an 8-byte boundary");
    else if (count && !data)
        snprintf(detail, DETAIL_MAX, "no data");
    else if (nsegments(total * t.size, SB_CKPT_SEGMENT) > INT32_MAX)
        snprintf(detail, DETAIL_MAX, "dataset too large");
    else
        return 0;
    return SB_EINTERNAL;
}

static int write_sums(sb_ckpt *ck, const char *name, const uint64_t *sums, uint64_t nseg)
{
    char path[1100], detail[DETAIL_MAX] = "";
    snprintf(path, sizeof path, "%s.sum", name);
    int rc =
        write_raw(ck, path, type_info(SB_CKPT_U64), nseg, 0, ck->ctx->rank == 0 ? nseg : 0, sums);
    hid_t d = rc ? H5I_INVALID_HID : H5Dopen2(ck->file, path, H5P_DEFAULT);
    int local = rc || d >= 0 ? 0 : h5_fail(detail, SB_EHDF5, "reopen a checksum dataset");
    if (!rc && !local)
        local = put_i64(d, "segment_bytes", (int64_t)SB_CKPT_SEGMENT, detail);
    if (!rc && !local)
        local = put_str(d, "checksum",
                        "per segment: sum mod 2^64 over its 8-byte little-endian words w_j "
                        "(j = word index in the dataset, last word zero-padded) of "
                        "splitmix64(w_j ^ j * 0x9e3779b97f4a7c15)",
                        detail);
    close_id(&d, H5Dclose);
    return rc ? rc : agree(ck, local, detail);
}

int sb_ckpt_write(sb_ckpt *ck, const char *name, sb_ckpt_type type, uint64_t total, uint64_t offset,
                  uint64_t count, const void *data)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    tinfo t = type_info(type);
    char detail[DETAIL_MAX] = "";
    uint64_t *sums = NULL, nseg = nsegments(total * t.size, SB_CKPT_SEGMENT);
    int local = check_write(ck, t, total, offset, count, data, detail);
    if (!local && ck->fault && ck->datasets == 2) {
        errno = ENOSPC;
        snprintf(detail, DETAIL_MAX,
                 "cannot write dataset '%s' to '%s': %s (injected by %s, a test-only switch)", name,
                 ck->temp_path, strerror(ENOSPC), SB_CKPT_FAULT_ENV);
        local = SB_EIO;
    }
    if (!local && !(sums = calloc(nseg ? nseg : 1, sizeof *sums)))
        local = SB_ENOMEM;
    int rc = agree(ck, local, detail);
    if (!rc)
        rc = write_raw(ck, name, t, total, offset, count, data);
    if (!rc)
        rc = agree(ck, segment_sums(ck, data, offset * t.size, count * t.size, sums, nseg), "");
    if (!rc)
        rc = write_sums(ck, name, sums, nseg);
    if (!rc) {
        ck->datasets++;
        ck->bytes += count * t.size;
    }
    free(sums);
    sb_h5_quiet_end(q);
    return rc;
}

/* ---- reading -------------------------------------------------------------------------------- */

/* An open dataset and its checksums. */
typedef struct rdset {
    hid_t d, sums;
    uint64_t total, nseg, seg; /* elements; checksum segments; bytes per segment */
} rdset;

static void rdset_close(rdset *r)
{
    close_id(&r->d, H5Dclose);
    close_id(&r->sums, H5Dclose);
}

/* True when every group on the way to `path` and the object itself exist. */
static bool path_exists(hid_t file, const char *path)
{
    char prefix[1100];
    size_t len = strlen(path);
    if (len >= sizeof prefix)
        return false;
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        if (H5Lexists(file, prefix, H5P_DEFAULT) <= 0)
            return false;
    }
    return true;
}

/* Length of a 1-D dataset of the given class and element size, or -1. */
static int64_t dset_length(hid_t d, H5T_class_t cls, size_t size)
{
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    hsize_t dims = 0;
    int64_t len = -1;
    if (type >= 0 && space >= 0 && H5Tget_class(type) == cls && H5Tget_size(type) == size &&
        H5Sget_simple_extent_ndims(space) == 1 &&
        H5Sget_simple_extent_dims(space, &dims, NULL) == 1)
        len = (int64_t)dims;
    close_id(&type, H5Tclose);
    close_id(&space, H5Sclose);
    return len;
}

static int open_sums(hid_t file, const char *name, tinfo t, rdset *r, char *detail)
{
    char path[1100];
    snprintf(path, sizeof path, "%s.sum", name);
    int64_t seg = 0;
    if (!path_exists(file, path) || (r->sums = H5Dopen2(file, path, H5P_DEFAULT)) < 0 ||
        get_i64(r->sums, "segment_bytes", &seg, detail)) {
        snprintf(detail, DETAIL_MAX, "dataset '%s' has no checksums (damaged file?)", name);
        return SB_ECKPT;
    }
    r->seg = (uint64_t)seg;
    int64_t n = dset_length(r->sums, H5T_INTEGER, 8);
    if (seg < 8 || seg % 8 || seg > (int64_t)PIECE_BYTES || PIECE_BYTES % r->seg ||
        n != (int64_t)nsegments(r->total * t.size, r->seg)) {
        snprintf(detail, DETAIL_MAX, "checksums of dataset '%s' do not match its shape", name);
        return SB_ECKPT;
    }
    r->nseg = (uint64_t)n;
    return 0;
}

static int open_dset(hid_t file, const char *name, tinfo t, rdset *r, char *detail)
{
    r->d = r->sums = H5I_INVALID_HID;
    r->total = r->nseg = 0;
    if (!path_exists(file, name) || (r->d = H5Dopen2(file, name, H5P_DEFAULT)) < 0) {
        snprintf(detail, DETAIL_MAX, "dataset '%s' is missing or unreadable (damaged file?)", name);
        return SB_ECKPT;
    }
    int64_t len = dset_length(r->d, t.cls, t.size);
    if (len < 0) {
        snprintf(detail, DETAIL_MAX, "dataset '%s' has an unexpected type or shape", name);
        return SB_ECKPT;
    }
    r->total = (uint64_t)len;
    return open_sums(file, name, t, r, detail);
}

int sb_ckpt_length(sb_ckpt *ck, const char *name, sb_ckpt_type type, bool *exists, uint64_t *total)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    char detail[DETAIL_MAX] = "";
    *exists = path_exists(ck->file, name);
    *total = 0;
    rdset r = {H5I_INVALID_HID, H5I_INVALID_HID, 0, 0, 0};
    int local = *exists ? open_dset(ck->file, name, type_info(type), &r, detail) : 0;
    *total = r.total;
    rdset_close(&r);
    int rc = agree(ck, local, detail);
    sb_h5_quiet_end(q);
    return rc;
}

/* A collective read of whole segments [lo, hi) (bytes), into `dst` directly or, for segments
 * that this rank needs only part of, into a bounce buffer. */
typedef struct piece {
    uint64_t lo, hi;
    bool bounce;
} piece;

/* Cuts [A, B) (segment-aligned, B may be the end of the dataset) into pieces: segments that
 * [a, b) covers only partly each get a bounce piece; runs of fully covered segments become
 * direct pieces of at most PIECE_BYTES.  Returns the number of pieces (at most cap). */
static int plan_pieces(uint64_t a, uint64_t b, uint64_t end, uint64_t seg, piece *out, int cap)
{
    int n = 0;
    if (a >= b)
        return 0;
    uint64_t pos = a / seg * seg, stop = (b + seg - 1) / seg * seg;
    stop = stop < end ? stop : end;
    while (pos < stop && n < cap) {
        uint64_t se = pos + seg < end ? pos + seg : end;
        if (pos >= a && se <= b) {
            uint64_t e = se;
            while (e < stop && e - pos < PIECE_BYTES && (e + seg < end ? e + seg : end) <= b)
                e = e + seg < end ? e + seg : end;
            out[n++] = (piece){pos, e, false};
            pos = e;
        } else {
            out[n++] = (piece){pos, se, true};
            pos = se;
        }
    }
    return n;
}

static int verify(const unsigned char *buf, uint64_t lo, uint64_t hi, const rdset *r,
                  const uint64_t *sums, const char *name, char *detail)
{
    for (uint64_t s = lo / r->seg; s * r->seg < hi; s++) {
        uint64_t slo = s * r->seg, shi = slo + r->seg < hi ? slo + r->seg : hi;
        if (sb_ckpt_sum(buf + (slo - lo), shi - slo, slo) != sums[s]) {
            snprintf(detail, DETAIL_MAX,
                     "dataset '%s': segment %" PRIu64 " (bytes %" PRIu64 "..%" PRIu64
                     ") fails its checksum: the file is damaged",
                     name, s, slo, shi);
            return SB_ECKPT;
        }
    }
    return 0;
}

typedef struct rplan {
    piece *p;
    int n;
    unsigned char *bounce;
    uint64_t *sums;
} rplan;

static int read_plan(const rdset *r, tinfo t, uint64_t offset, uint64_t count, rplan *pl,
                     char *detail)
{
    if (offset > r->total || count > r->total - offset) {
        snprintf(detail, DETAIL_MAX, "read outside the dataset (damaged file?)");
        return SB_ECKPT;
    }
    const uint64_t a = offset * t.size, b = a + count * t.size, end = r->total * t.size;
    int cap = (int)((b - a) / PIECE_BYTES) + 4;
    pl->p = calloc((size_t)cap, sizeof *pl->p);
    pl->bounce = malloc(r->seg);
    pl->sums = malloc((r->nseg ? r->nseg : 1) * sizeof *pl->sums);
    if (!pl->p || !pl->bounce || !pl->sums)
        return SB_ENOMEM;
    pl->n = plan_pieces(a, b, end, r->seg, pl->p, cap);
    return 0;
}

/* Reads one piece (or joins with nothing), verifies it and copies out what this rank wants. */
static int read_piece(sb_ckpt *ck, const rdset *r, tinfo t, const rplan *pl, int i, uint64_t a,
                      uint64_t b, unsigned char *dst, const char *name, char *detail)
{
    const piece *p = i < pl->n ? &pl->p[i] : NULL;
    unsigned char *buf = !p ? NULL : p->bounce ? pl->bounce : dst + (p->lo - a);
    uint64_t first = p ? p->lo / t.size : 0, n = p ? (p->hi - p->lo) / t.size : 0;
    char what[300];
    snprintf(what, sizeof what, "read dataset '%s'", name);
    if (transfer(ck, r->d, t.mem_type, first, n, buf, false))
        return h5_fail(detail, SB_ECKPT, what);
    if (!p)
        return 0;
    int rc = verify(buf, p->lo, p->hi, r, pl->sums, name, detail);
    if (!rc && p->bounce) {
        uint64_t lo = p->lo > a ? p->lo : a, hi = p->hi < b ? p->hi : b;
        memcpy(dst + (lo - a), buf + (lo - p->lo), hi - lo);
    }
    return rc;
}

static int read_sums(sb_ckpt *ck, const rdset *r, rplan *pl, char *detail)
{
    /* An empty dataset has no storage to read from (every rank knows nseg from metadata). */
    if (r->nseg == 0)
        return 0;
    if (transfer(ck, r->sums, H5T_NATIVE_UINT64, 0, r->nseg, pl->sums, false))
        return h5_fail(detail, SB_ECKPT, "read checksums");
    return 0;
}

int sb_ckpt_read(sb_ckpt *ck, const char *name, sb_ckpt_type type, uint64_t offset, uint64_t count,
                 void *data)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    tinfo t = type_info(type);
    char detail[DETAIL_MAX] = "";
    rdset r = {H5I_INVALID_HID, H5I_INVALID_HID, 0, 0, 0};
    rplan pl = {NULL, 0, NULL, NULL};
    int local = ck->file > 0 ? open_dset(ck->file, name, t, &r, detail) : SB_EINTERNAL;
    if (!local)
        local = read_plan(&r, t, offset, count, &pl, detail);
    int rc = agree(ck, local, detail);
    if (!rc)
        rc = agree(ck, read_sums(ck, &r, &pl, detail), detail);
    int pieces = 0;
    if (!rc && MPI_Allreduce(&pl.n, &pieces, 1, MPI_INT, MPI_MAX, ck->ctx->comm) != MPI_SUCCESS)
        rc = SB_EMPI;
    const uint64_t a = offset * t.size, b = a + count * t.size;
    for (int i = 0; !rc && i < pieces; i++)
        rc = agree(ck, read_piece(ck, &r, t, &pl, i, a, b, data, name, detail), detail);
    if (!rc)
        ck->bytes += count * t.size;
    free(pl.p);
    free(pl.bounce);
    free(pl.sums);
    rdset_close(&r);
    sb_h5_quiet_end(q);
    return rc;
}
