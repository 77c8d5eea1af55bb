/* Collective HDF5 operations of the io writers (h5op.h). */
#include "io/h5op.h"

#include "io/h5err.h"
#include "symbatch/error.h"

#include <stdio.h>
#include <unistd.h>

int sb_io_op_agree(sb_io_op *o, int local)
{
    sb_verdict v;
    const char *why = o->detail[0] ? o->detail : local < 0 ? sb_strerror(local) : "";
    int rc = sb_io_agree(o->ctx, local, why, &v);
    if (rc < 0 && o->ctx->rank == 0 && !o->reported) {
        o->reported = 1;
        char where[48] = "";
        if (v.rank != 0)
            snprintf(where, sizeof where, " (on rank %d)", v.rank);
        fprintf(o->ctx->err, "symbatch: %s: %s%s\n", o->what, v.msg[0] ? v.msg : sb_strerror(rc),
                where);
    }
    return rc;
}

int sb_io_op_h5_failed(sb_io_op *o)
{
    if (!o->detail[0])
        sb_h5_innermost(o->detail, sizeof o->detail);
    if (!o->detail[0])
        snprintf(o->detail, sizeof o->detail, "HDF5 error");
    return SB_EHDF5;
}

void sb_io_close_id(hid_t *id, herr_t (*closer)(hid_t))
{
    if (*id > 0)
        closer(*id);
    *id = H5I_INVALID_HID;
}

int sb_io_op_put_attr_str(sb_io_op *o, hid_t obj, const char *name, const char *value)
{
    hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), attr = H5I_INVALID_HID;
    int rc = 0;
    if (type < 0 || space < 0 || H5Tset_size(type, H5T_VARIABLE) < 0 ||
        H5Tset_cset(type, H5T_CSET_UTF8) < 0 ||
        (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0))
        rc = sb_io_op_h5_failed(o);
    if (!rc && (attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        rc = sb_io_op_h5_failed(o);
    if (!rc && H5Awrite(attr, type, &value) < 0)
        rc = sb_io_op_h5_failed(o);
    sb_io_close_id(&attr, H5Aclose);
    sb_io_close_id(&space, H5Sclose);
    sb_io_close_id(&type, H5Tclose);
    return rc;
}

int sb_io_op_create_dset(sb_io_op *o, hid_t file, const char *path, hid_t type, hid_t space,
                         const hsize_t *chunk, hid_t *dset)
{
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), lcpl = H5Pcreate(H5P_LINK_CREATE);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    int local = 0;
    /* Fill values would be written only to be overwritten. */
    if (space < 0 || rank < 0 || dcpl < 0 || lcpl < 0 ||
        (chunk && H5Pset_chunk(dcpl, rank, chunk) < 0) ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
        H5Pset_create_intermediate_group(lcpl, 1) < 0)
        local = sb_io_op_h5_failed(o);
    int rc = sb_io_op_agree(o, local);
    if (!rc) {
        *dset = H5Dcreate2(file, path, type, space, lcpl, dcpl, H5P_DEFAULT);
        rc = sb_io_op_agree(o, *dset < 0 ? sb_io_op_h5_failed(o) : 0);
    }
    sb_io_close_id(&lcpl, H5Pclose);
    sb_io_close_id(&dcpl, H5Pclose);
    return rc;
}

void sb_io_discard(const sb_ctx *ctx, hid_t *file, hid_t *dxpl, const char *temp)
{
    const bool open = *file > 0;
    if (open && ctx->rank == 0 && temp && temp[0] && truncate(temp, 0) != 0) {
        /* nothing to give back, or no file: the close below says what it can */
    }
    if (open)
        MPI_Barrier(ctx->comm); /* every rank closes a file whose room is back */
    sb_io_close_id(dxpl, H5Pclose);
    if (open && H5Fclose(*file) < 0 && H5Iis_valid(*file) > 0)
        H5Fclose(*file); /* the first close may fail half-way; the id must not outlive us */
    *file = H5I_INVALID_HID;
    if (ctx->rank == 0 && temp && temp[0])
        unlink(temp);
    MPI_Barrier(ctx->comm); /* nobody returns while the temporary file still exists */
}
