/* `symbatch inspect`: a human summary of a result or checkpoint file.
 *
 * Serial HDF5 (the default file driver), read-only, HDF5's error printing off: a file that is
 * damaged or of another program gives one clear line, and whatever can be read is shown.
 * Nothing here assumes that an object exists: files of older versions, of runs that stopped
 * early, and checkpoints all lack something. */
#include "io/h5err.h"
#include "symbatch/io.h"
#include "symbatch/error.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Elements of an array attribute shown. */
#define ATTR_SHOWN 16

/* Appends printf output to buf (which holds `used` characters), never overflowing. */
static size_t append(char *buf, size_t size, size_t used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t size, size_t used, const char *fmt, ...)
{
    if (used + 1 >= size)
        return used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return used;
    return used + (size_t)n < size ? used + (size_t)n : size - 1;
}

/* ---- describing types, shapes and values ---------------------------------------------------- */

static void type_name(hid_t type, char *buf, size_t size)
{
    size_t bits = 8 * H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_INTEGER:
        snprintf(buf, size, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
        break;
    case H5T_FLOAT:
        snprintf(buf, size, "float%zu", bits);
        break;
    case H5T_STRING:
        snprintf(buf, size, "string");
        break;
    case H5T_COMPOUND:
        snprintf(buf, size, "compound(%d fields)", H5Tget_nmembers(type));
        break;
    case H5T_ENUM:
        snprintf(buf, size, "enum");
        break;
    case H5T_ARRAY:
        snprintf(buf, size, "array");
        break;
    default:
        snprintf(buf, size, "other");
        break;
    }
}

/* "scalar", "empty" or "(rows, cols)"; returns the number of elements. */
static hssize_t shape_text(hid_t space, char *buf, size_t size)
{
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    if (cls == H5S_SCALAR) {
        snprintf(buf, size, "scalar");
        return 1;
    }
    if (cls != H5S_SIMPLE) {
        snprintf(buf, size, "empty");
        return 0;
    }
    hsize_t dims[H5S_MAX_RANK];
    int nd = H5Sget_simple_extent_dims(space, dims, NULL);
    size_t used = append(buf, size, 0, "(");
    for (int i = 0; i < nd; i++)
        used = append(buf, size, used, "%s%" PRIu64, i ? ", " : "", (uint64_t)dims[i]);
    append(buf, size, used, nd == 1 ? ",)" : ")"); /* as numpy and h5py write shapes */
    return H5Sget_simple_extent_npoints(space);
}

/* The value of an attribute or dataset (`is_attr` says which) as text: strings as they are,
 * numbers in decimal, arrays as "[a, b, ...]" (first ATTR_SHOWN elements).  Returns 0 when
 * read, -1 otherwise. */
static int value_text(hid_t id, bool is_attr, char *buf, size_t size)
{
    hid_t type = is_attr ? H5Aget_type(id) : H5Dget_type(id);
    hid_t space = is_attr ? H5Aget_space(id) : H5Dget_space(id);
    hid_t mem = H5I_INVALID_HID;
    void *data = NULL;
    size_t strings = 0;
    int rc = -1;
    buf[0] = '\0';
    if (type < 0 || space < 0)
        goto done;
    hssize_t npoints = H5Sget_simple_extent_npoints(space);
    if (npoints < 0)
        goto done;
    size_t n = (size_t)npoints;
    H5T_class_t cls = H5Tget_class(type);
    bool vlen_str = cls == H5T_STRING && H5Tis_variable_str(type) > 0;
    size_t elem = 0;
    if (cls == H5T_STRING && vlen_str) {
        /* HDF5 converts no character sets: the memory type takes the file's. */
        mem = H5Tcopy(H5T_C_S1);
        if (mem >= 0 && H5Tset_size(mem, H5T_VARIABLE) >= 0 &&
            H5Tset_cset(mem, H5Tget_cset(type)) >= 0)
            elem = sizeof(char *);
    } else if (cls == H5T_STRING) {
        mem = H5Tcopy(type);
        elem = H5Tget_size(type);
    } else if (cls == H5T_INTEGER) {
        mem = H5Tcopy(H5Tget_sign(type) == H5T_SGN_NONE ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64);
        elem = sizeof(uint64_t);
    } else if (cls == H5T_FLOAT) {
        mem = H5Tcopy(H5T_NATIVE_DOUBLE);
        elem = sizeof(double);
    } else {
        char tn[64];
        type_name(type, tn, sizeof tn);
        snprintf(buf, size, "(%s)", tn);
        rc = 0;
        goto done;
    }
    /* Datasets can be huge: only scalars and short arrays are read. */
    if (mem < 0 || elem == 0 || (!is_attr && n > ATTR_SHOWN))
        goto done;
    data = calloc(n ? n : 1, elem + 1);
    if (!data)
        goto done;
    herr_t e =
        is_attr ? H5Aread(id, mem, data) : H5Dread(id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (e < 0)
        goto done;
    strings = vlen_str ? n : 0; /* HDF5 allocated them: freed below */
    size_t used = 0;
    bool list = H5Sget_simple_extent_type(space) == H5S_SIMPLE;
    if (list)
        used = append(buf, size, used, "[");
    for (size_t i = 0; i < n && i < ATTR_SHOWN; i++) {
        const char *sep = i ? ", " : "";
        if (vlen_str) {
            const char *s = ((char **)data)[i];
            used = append(buf, size, used, list ? "%s\"%s\"" : "%s%s", sep, s ? s : "");
        } else if (cls == H5T_STRING) {
            used = append(buf, size, used, list ? "%s\"%.*s\"" : "%s%.*s", sep, (int)elem,
                          (const char *)data + i * elem);
        } else if (cls == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE) {
            used = append(buf, size, used, "%s%" PRIu64, sep, ((uint64_t *)data)[i]);
        } else if (cls == H5T_INTEGER) {
            used = append(buf, size, used, "%s%" PRId64, sep, ((int64_t *)data)[i]);
        } else {
            used = append(buf, size, used, "%s%.6g", sep, ((double *)data)[i]);
        }
    }
    if (list)
        append(buf, size, used, "%s]", n > ATTR_SHOWN ? ", ..." : "");
    rc = 0;
done:
    for (size_t i = 0; i < strings; i++)
        H5free_memory(((char **)data)[i]);
    free(data);
    if (mem > 0)
        H5Tclose(mem);
    if (space > 0)
        H5Sclose(space);
    if (type > 0)
        H5Tclose(type);
    return rc;
}

/* An attribute of `obj` as text; returns 0 when present and readable. */
int sb_inspect_attr_text(hid_t obj, const char *name, char *buf, size_t size)
{
    buf[0] = '\0';
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int rc = value_text(a, true, buf, size);
    H5Aclose(a);
    return rc;
}

static int attr_f64(hid_t obj, const char *name, double *v)
{
    if (H5Aexists(obj, name) <= 0)
        return -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    hid_t space = H5Aget_space(a);
    int rc = -1;
    if (space >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
        H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0)
        rc = 0;
    if (space >= 0)
        H5Sclose(space);
    H5Aclose(a);
    return rc;
}

/* ---- root attributes ------------------------------------------------------------------------ */

static const char *const root_known[] = {
    "symbatch_version", "git_commit",  "kind",         "job_text", "job_file",
    "job_hash",         "ranks",       "nodes",        "hosts",    "start_utc",
    "end_utc",          "exit_status", "wall_seconds", NULL,
};

static bool in_list(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

typedef struct attr_walk {
    FILE *out;
    const char *const *skip;
    const char *indent;
} attr_walk;

static herr_t other_attr(hid_t obj, const char *name, const H5A_info_t *info, void *arg)
{
    (void)info;
    attr_walk *w = arg;
    if (w->skip && in_list(w->skip, name))
        return 0;
    char value[512];
    if (sb_inspect_attr_text(obj, name, value, sizeof value) != 0)
        snprintf(value, sizeof value, "(unreadable)");
    fprintf(w->out, "%s%-15s %s\n", w->indent, name, value);
    return 0;
}

static void print_root(hid_t file, const char *path, FILE *out)
{
    char a[512], b[512], c[512];
    fprintf(out, "%-14s%s\n", "file", path);
    if (sb_inspect_attr_text(file, "kind", a, sizeof a) == 0)
        fprintf(out, "%-14s%s\n", "kind", a);
    else
        fprintf(out, "%-14s%s\n", "kind", "(no symbatch attributes: not written by symbatch?)");
    if (sb_inspect_attr_text(file, "symbatch_version", a, sizeof a) == 0) {
        if (sb_inspect_attr_text(file, "git_commit", b, sizeof b) != 0)
            snprintf(b, sizeof b, "?");
        fprintf(out, "%-14s%s (git %s)\n", "symbatch", a, b);
    }
    if (sb_inspect_attr_text(file, "ranks", a, sizeof a) == 0) {
        if (sb_inspect_attr_text(file, "nodes", b, sizeof b) != 0)
            snprintf(b, sizeof b, "?");
        if (sb_inspect_attr_text(file, "hosts", c, sizeof c) != 0)
            c[0] = '\0';
        fprintf(out, "%-14s%s on %s node(s)%s%s%s\n", "ranks", a, b, c[0] ? " (" : "", c,
                c[0] ? ")" : "");
    }
    if (sb_inspect_attr_text(file, "job_file", a, sizeof a) == 0) {
        if (sb_inspect_attr_text(file, "job_hash", b, sizeof b) != 0)
            b[0] = '\0';
        fprintf(out, "%-14s%s%s%s%s  (text in attribute /job_text)\n", "job file",
                a[0] ? a : "(none)", b[0] ? " (hash " : "", b, b[0] ? ")" : "");
    }
    if (sb_inspect_attr_text(file, "start_utc", a, sizeof a) == 0)
        fprintf(out, "%-14s%s\n", "start", a);
    if (sb_inspect_attr_text(file, "end_utc", a, sizeof a) == 0)
        fprintf(out, "%-14s%s\n", "end", a);
    else if (sb_inspect_attr_text(file, "start_utc", a, sizeof a) == 0)
        fprintf(out, "%-14s%s\n", "end", "(not recorded: the run did not finish)");
    double wall = 0;
    if (attr_f64(file, "wall_seconds", &wall) == 0)
        fprintf(out, "%-14s%.3f s\n", "wall", wall);
    if (sb_inspect_attr_text(file, "exit_status", a, sizeof a) == 0)
        fprintf(out, "%-14s%s\n", "exit status", a);
    attr_walk w = {out, root_known, ""};
    H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, other_attr, &w);
}

/* ---- datasets -------------------------------------------------------------------------------- */

/* One line per dataset: name, shape, type, the value of small ones, units and meaning. */
static void print_dataset_line(hid_t dset, const char *name, const char *indent, FILE *out)
{
    char shape[128] = "?", tn[64] = "?", value[512] = "", units[256] = "", meaning[512] = "";
    hid_t space = H5Dget_space(dset), type = H5Dget_type(dset);
    hssize_t n = space >= 0 ? shape_text(space, shape, sizeof shape) : 0;
    if (type >= 0)
        type_name(type, tn, sizeof tn);
    if (n >= 1 && n <= 4 && value_text(dset, false, value, sizeof value) != 0)
        value[0] = '\0';
    sb_inspect_attr_text(dset, "units", units, sizeof units);
    sb_inspect_attr_text(dset, "meaning", meaning, sizeof meaning);
    char line[2048];
    snprintf(line, sizeof line, "%s%-28s %-14s %-8s%s%s%s%s%s%s%s", indent, name, shape, tn,
             value[0] ? " = " : "", value, units[0] ? " [" : "", units, units[0] ? "]" : "",
             meaning[0] ? "  " : "", meaning);
    size_t len = strlen(line);
    while (len > 0 && line[len - 1] == ' ')
        line[--len] = '\0';
    fprintf(out, "%s\n", line);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
}

typedef struct dset_walk {
    FILE *out;
    const char *prefix;      /* the group's path, for full names */
    const char *const *skip; /* names (relative to the group) not to list */
    const char *indent;
    int count;
} dset_walk;

static herr_t list_dataset(hid_t group, const char *name, const H5L_info_t *info, void *arg)
{
    dset_walk *w = arg;
    if (info->type != H5L_TYPE_HARD || (w->skip && in_list(w->skip, name)))
        return 0;
    hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
    if (obj < 0)
        return 0;
    if (H5Iget_type(obj) == H5I_DATASET) {
        char full[1024];
        snprintf(full, sizeof full, "%s/%s", strcmp(w->prefix, "/") ? w->prefix : "", name);
        print_dataset_line(obj, full, w->indent, w->out);
        w->count++;
    }
    H5Oclose(obj);
    return 0;
}

void sb_inspect_attrs(hid_t obj, const char *const *skip, const char *indent, FILE *out)
{
    attr_walk aw = {out, skip, indent};
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, other_attr, &aw);
}

int sb_inspect_datasets(hid_t group, const char *prefix, const char *const *skip,
                        const char *indent, FILE *out)
{
    dset_walk dw = {out, prefix, skip, indent, 0};
    H5Lvisit(group, H5_INDEX_NAME, H5_ITER_INC, list_dataset, &dw);
    return dw.count;
}

/* Lists every dataset below `path` (recursively) and the group's own attributes. */
static void print_group_generic(hid_t file, const char *path, FILE *out)
{
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    if (g < 0)
        return;
    fprintf(out, "\n%s\n", path);
    sb_inspect_attrs(g, NULL, "  ", out);
    if (sb_inspect_datasets(g, path, NULL, "  ", out) == 0)
        fprintf(out, "  (no datasets)\n");
    H5Gclose(g);
}

/* ---- reading values ----------------------------------------------------------------------------
 */

int sb_inspect_read_u64(hid_t file, const char *path, uint64_t *v)
{
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t space = H5Dget_space(d);
    int rc = -1;
    if (space >= 0 && H5Sget_simple_extent_npoints(space) == 1 &&
        H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)
        rc = 0;
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(d);
    return rc;
}

void *sb_inspect_read_vector(hid_t file, const char *path, hid_t mem_type, size_t elem, uint64_t *n)
{
    *n = 0;
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0)
        return NULL;
    hid_t space = H5Dget_space(d);
    void *data = NULL;
    if (space >= 0 && H5Sget_simple_extent_ndims(space) == 1) {
        hssize_t np = H5Sget_simple_extent_npoints(space);
        data = np >= 0 ? malloc((size_t)(np ? np : 1) * elem) : NULL;
        if (data && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0) {
            *n = (uint64_t)np;
        } else {
            free(data);
            data = NULL;
        }
    }
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(d);
    return data;
}

/* ---- top level ---------------------------------------------------------------------------------
 */

typedef struct top_walk {
    FILE *out;
    hid_t file;
    const sb_inspector *kinds;
} top_walk;

static sb_inspect_fn inspector_of(const sb_inspector *kinds, const char *group)
{
    for (int i = 0; kinds && kinds[i].group; i++)
        if (strcmp(kinds[i].group, group) == 0)
            return kinds[i].fn;
    return NULL;
}

static herr_t top_object(hid_t root, const char *name, const H5L_info_t *info, void *arg)
{
    top_walk *w = arg;
    if (info->type != H5L_TYPE_HARD)
        return 0;
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj < 0)
        return 0;
    H5I_type_t t = H5Iget_type(obj);
    char path[1024];
    snprintf(path, sizeof path, "/%s", name);
    sb_inspect_fn fn = t == H5I_GROUP ? inspector_of(w->kinds, name) : NULL;
    if (fn)
        fn(w->file, w->out);
    else if (t == H5I_GROUP)
        print_group_generic(w->file, path, w->out);
    else if (t == H5I_DATASET)
        print_dataset_line(obj, path, "", w->out);
    H5Oclose(obj);
    return 0;
}

int sb_inspect(const char *path, FILE *out, sb_diag *diag, const sb_inspector *kinds)
{
    sb_h5_quiet q = sb_h5_quiet_begin();
    hid_t file = H5I_INVALID_HID;
    int rc = 0;
    if (!path || H5Fis_hdf5(path) <= 0 || (file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        if (diag)
            sb_diag_add(diag, "%s: not a readable HDF5 file", path ? path : "(null)");
        rc = SB_EINPUT;
        goto done;
    }
    print_root(file, path, out);
    top_walk w = {out, file, kinds};
    if (H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, NULL, top_object, &w) < 0) {
        if (diag)
            sb_diag_add(diag, "%s: HDF5 file is damaged (cannot list its objects)", path);
        rc = SB_EINPUT;
    }
done:
    if (file >= 0)
        H5Fclose(file);
    sb_h5_quiet_end(q);
    return rc;
}
