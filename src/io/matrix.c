/* Block-cyclic matrices into result files (matrix.h).
 *
 * The blocks a rank holds form, in each dimension, a strided pattern: full blocks at
 * start = myrow * mb, stride = nprow * mb, block = mb, plus possibly the last, partial block of
 * the matrix.  So a rank's part of the file is the product of two such row and column sets: at
 * most four regular hyperslabs OR-ed together.  HDF5 visits the selected elements in row-major
 * file order, which is the order of local rows and columns (block-cyclic dealing keeps global
 * order within a rank), so the column-major local array is packed row-major to match.
 *
 * HDF5 1.10's MPI-IO driver fails on more than 2 GiB per rank and call, so the write goes in
 * bands of local row blocks of at most a piece size each; every rank makes the same number of
 * calls (the largest band count), joining with an empty selection when it has no band left.
 * As in io/h5.c, every local failure is agreed on before the next collective call. */
#include "io/h5err.h"
#include "io/h5op.h"
#include "symbatch/matrix.h"
#include "symbatch/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIECE_BYTES ((uint64_t)1 << 30)

int64_t sb_numroc(int64_t n, int64_t nb, int iproc, int isrc, int nprocs)
{
    if (n <= 0 || nb <= 0 || nprocs <= 0)
        return 0;
    int64_t dist = ((iproc - isrc) % nprocs + nprocs) % nprocs; /* place after the source */
    int64_t blocks = n / nb;                                    /* full blocks */
    int64_t num = blocks / nprocs * nb;                         /* full rounds of dealing */
    int64_t extra = blocks % nprocs;
    if (dist < extra)
        num += nb;
    else if (dist == extra)
        num += n % nb; /* this process gets the partial block */
    return num;
}

/* ---- layout checks -------------------------------------------------------------------------- */

static bool in_grid(const sb_bc_layout *L)
{
    return L->myrow >= 0 && L->mycol >= 0;
}

/* What this rank can check alone. */
static int check_local(sb_io_op *o, const sb_bc_layout *L, const double *local, int ranks)
{
    const char *why = NULL;
    if (L->m < 0 || L->n < 0)
        why = "negative matrix size";
    else if (L->mb < 1 || L->nb < 1)
        why = "block size below 1";
    else if (L->nprow < 1 || L->npcol < 1)
        why = "process grid size below 1";
    else if ((int64_t)L->nprow * L->npcol > ranks)
        why = "process grid larger than the communicator";
    else if (!(L->myrow == -1 && L->mycol == -1) &&
             (L->myrow < 0 || L->myrow >= L->nprow || L->mycol < 0 || L->mycol >= L->npcol))
        why = "grid position outside the grid (use -1, -1 for ranks outside it)";
    if (!why && in_grid(L)) {
        int64_t mloc = sb_numroc(L->m, L->mb, L->myrow, 0, L->nprow);
        int64_t nloc = sb_numroc(L->n, L->nb, L->mycol, 0, L->npcol);
        if (L->lld < (mloc > 1 ? mloc : 1))
            why = "local leading dimension smaller than the local rows";
        else if (mloc > 0 && nloc > 0 && !local)
            why = "no local array";
    }
    if (!why)
        return 0;
    snprintf(o->detail, sizeof o->detail,
             "bad layout: %s (%" PRId64 " x %" PRId64 " in %" PRId64 " x %" PRId64
             " blocks on a %d x %d grid, position %d, %d, lld %" PRId64 ")",
             why, L->m, L->n, L->mb, L->nb, L->nprow, L->npcol, L->myrow, L->mycol, L->lld);
    return SB_EINPUT;
}

/* Every rank must pass the same global layout, and each grid position must be held by exactly
 * one rank.  Two agreements: the position check needs a valid grid size on every rank. */
static int check_layout(sb_io_op *o, const sb_bc_layout *L, const double *local)
{
    const sb_ctx *ctx = o->ctx;
    int64_t v[6] = {L->m, L->n, L->mb, L->nb, L->nprow, L->npcol}, lo[6], hi[6];
    if (MPI_Allreduce(v, lo, 6, MPI_INT64_T, MPI_MIN, ctx->comm) != MPI_SUCCESS ||
        MPI_Allreduce(v, hi, 6, MPI_INT64_T, MPI_MAX, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    int local_rc = check_local(o, L, local, ctx->size);
    if (!local_rc && memcmp(lo, hi, sizeof lo) != 0) {
        snprintf(o->detail, sizeof o->detail, "bad layout: ranks pass different layouts");
        local_rc = SB_EINPUT;
    }
    int rc = sb_io_op_agree(o, local_rc);
    if (rc)
        return rc;

    int *pos = malloc(2 * sizeof(int) * (size_t)ctx->size);
    int *held = calloc((size_t)L->nprow * (size_t)L->npcol, sizeof(int));
    int mine[2] = {L->myrow, L->mycol};
    rc = sb_io_op_agree(o, pos && held ? 0 : SB_ENOMEM);
    if (!rc && MPI_Allgather(mine, 2, MPI_INT, pos, 2, MPI_INT, ctx->comm) != MPI_SUCCESS)
        rc = SB_EMPI;
    for (int r = 0; !rc && r < ctx->size; r++)
        if (pos[2 * r] >= 0)
            held[pos[2 * r] * L->npcol + pos[2 * r + 1]]++;
    int local_err = 0;
    for (int c = 0; !rc && !local_err && c < L->nprow * L->npcol; c++) {
        if (held[c] != 1) {
            snprintf(o->detail, sizeof o->detail,
                     "bad layout: grid position %d, %d is held by %d ranks (must be 1)",
                     c / L->npcol, c % L->npcol, held[c]);
            local_err = SB_EINPUT;
        }
    }
    if (!rc)
        rc = sb_io_op_agree(o, local_err);
    free(held);
    free(pos);
    return rc;
}

/* ---- selections ----------------------------------------------------------------------------- */

/* This rank's blocks among local blocks [b0, b1) of one dimension, as up to two regular
 * hyperslab pieces: the full blocks (a strided pattern) and the partial last block, if any. */
typedef struct dim_sel {
    hsize_t start[2], stride[2], count[2], block[2];
    int parts;
} dim_sel;

static dim_sel select_dim(int64_t n, int64_t nb, int me, int nprocs, int64_t b0, int64_t b1)
{
    dim_sel s;
    memset(&s, 0, sizeof s);
    int64_t nblocks = (n + nb - 1) / nb;
    bool partial = n % nb != 0 && (nblocks - 1) % nprocs == me &&
                   me + (b1 - 1) * nprocs == nblocks - 1; /* the band ends on the partial block */
    int64_t full = b1 - b0 - (partial ? 1 : 0);
    if (full > 0) {
        s.start[s.parts] = (hsize_t)((me + b0 * nprocs) * nb);
        s.stride[s.parts] = (hsize_t)(nprocs * nb);
        s.count[s.parts] = (hsize_t)full;
        s.block[s.parts] = (hsize_t)nb;
        s.parts++;
    }
    if (partial) {
        s.start[s.parts] = (hsize_t)((nblocks - 1) * nb);
        s.stride[s.parts] = 1;
        s.count[s.parts] = 1;
        s.block[s.parts] = (hsize_t)(n - (nblocks - 1) * nb);
        s.parts++;
    }
    return s;
}

/* The product of the row and column sets in the file space: at most four hyperslabs. */
static herr_t select_blocks(hid_t fsel, const dim_sel *r, const dim_sel *c)
{
    herr_t e = H5Sselect_none(fsel);
    H5S_seloper_t how = H5S_SELECT_SET;
    for (int i = 0; e >= 0 && i < r->parts; i++) {
        for (int j = 0; e >= 0 && j < c->parts; j++) {
            hsize_t start[2] = {r->start[i], c->start[j]};
            hsize_t stride[2] = {r->stride[i], c->stride[j]};
            hsize_t count[2] = {r->count[i], c->count[j]};
            hsize_t block[2] = {r->block[i], c->block[j]};
            e = H5Sselect_hyperslab(fsel, how, start, stride, count, block);
            how = H5S_SELECT_OR;
        }
    }
    return e;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* What this rank writes: local rows and columns, and local row blocks per call. */
typedef struct plan {
    int64_t mloc, nloc, row_blocks, per_piece;
    uint64_t pieces; /* calls every rank makes: the most of any rank */
} plan;

static int make_plan(sb_io_op *o, const sb_bc_layout *L, uint64_t piece_bytes, plan *p)
{
    memset(p, 0, sizeof *p);
    int local = 0;
    if (in_grid(L)) {
        p->mloc = sb_numroc(L->m, L->mb, L->myrow, 0, L->nprow);
        p->nloc = sb_numroc(L->n, L->nb, L->mycol, 0, L->npcol);
    }
    uint64_t band = (uint64_t)L->mb * (uint64_t)p->nloc * sizeof(double);
    uint64_t mine = 0;
    if (p->mloc > 0 && p->nloc > 0) {
        p->row_blocks = (p->mloc + L->mb - 1) / L->mb;
        p->per_piece = (int64_t)(piece_bytes / band);
        if (p->per_piece < 1) {
            snprintf(o->detail, sizeof o->detail,
                     "one band of %" PRId64 " local rows is %" PRIu64 " bytes, more than %" PRIu64,
                     L->mb, band, piece_bytes);
            local = SB_ELIMIT;
        } else {
            mine = (uint64_t)((p->row_blocks + p->per_piece - 1) / p->per_piece);
        }
    }
    if (MPI_Allreduce(&mine, &p->pieces, 1, MPI_UINT64_T, MPI_MAX, o->ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    return sb_io_op_agree(o, local);
}

/* Local rows [r0, r1), all local columns, from the column-major local array into row-major. */
static void pack(double *buf, const double *local, int64_t lld, int64_t r0, int64_t r1,
                 int64_t nloc)
{
    for (int64_t li = r0; li < r1; li++)
        for (int64_t lj = 0; lj < nloc; lj++)
            buf[(li - r0) * nloc + lj] = local[li + lj * lld];
}

/* One collective call: this rank's band `piece` of local row blocks, or nothing. */
static int write_piece(sb_io_op *o, const sb_h5 *h, hid_t dset, const sb_bc_layout *L,
                       const plan *p, const double *local, double *buf, uint64_t piece)
{
    int64_t b0 = (int64_t)piece * p->per_piece;
    int64_t b1 = b0 + p->per_piece < p->row_blocks ? b0 + p->per_piece : p->row_blocks;
    bool some = b0 < p->row_blocks;
    hsize_t n = 1;
    hid_t fsel = H5Dget_space(dset), msp = H5I_INVALID_HID;
    int local_rc = fsel < 0 ? sb_io_op_h5_failed(o) : 0;
    if (!local_rc && some) {
        int64_t r0 = b0 * L->mb, r1 = b1 * L->mb < p->mloc ? b1 * L->mb : p->mloc;
        pack(buf, local, L->lld, r0, r1, p->nloc);
        n = (hsize_t)((r1 - r0) * p->nloc);
        dim_sel rows = select_dim(L->m, L->mb, L->myrow, L->nprow, b0, b1);
        dim_sel cols =
            select_dim(L->n, L->nb, L->mycol, L->npcol, 0, (p->nloc + L->nb - 1) / L->nb);
        if ((msp = H5Screate_simple(1, &n, NULL)) < 0 || select_blocks(fsel, &rows, &cols) < 0)
            local_rc = sb_io_op_h5_failed(o);
        else if ((hsize_t)H5Sget_select_npoints(fsel) != n)
            local_rc = SB_EINTERNAL; /* the selection and the packed band disagree */
    } else if (!local_rc) {
        if ((msp = H5Screate_simple(1, &n, NULL)) < 0 || H5Sselect_none(msp) < 0 ||
            H5Sselect_none(fsel) < 0)
            local_rc = sb_io_op_h5_failed(o);
    }
    int rc = sb_io_op_agree(o, local_rc);
    if (!rc)
        rc = sb_io_op_agree(o, H5Dwrite(dset, H5T_NATIVE_DOUBLE, msp, fsel, h->dxpl, buf) < 0
                                   ? sb_io_op_h5_failed(o)
                                   : 0);
    sb_io_close_id(&msp, H5Sclose);
    sb_io_close_id(&fsel, H5Sclose);
    return rc;
}

static int create_dataset(sb_io_op *o, const sb_h5 *h, const char *path, const sb_bc_layout *L,
                          hid_t *dset)
{
    hsize_t dims[2] = {(hsize_t)L->m, (hsize_t)L->n};
    hid_t space = H5Screate_simple(2, dims, NULL);
    int rc = sb_io_op_create_dset(o, h->file, path, H5T_IEEE_F64LE, space, NULL, dset);
    sb_io_close_id(&space, H5Sclose);
    return rc;
}

int sb_h5__write_matrix_bc_pieces(sb_h5 *h, const char *path, const sb_bc_layout *L,
                                  const double *local, const char *units, const char *meaning,
                                  uint64_t piece_bytes)
{
    if (!h || !h->ctx)
        return SB_EINTERNAL;
    sb_h5_quiet q = sb_h5_quiet_begin();
    sb_io_op o;
    memset(&o, 0, sizeof o);
    o.ctx = h->ctx;
    snprintf(o.what, sizeof o.what, "cannot write matrix '%s' in '%s'", path ? path : "?",
             h->temp_path[0] ? h->temp_path : h->final_path);
    hid_t dset = H5I_INVALID_HID;
    double *buf = NULL;
    plan p;

    int rc = sb_io_op_agree(&o, h->file > 0 && path && L && piece_bytes > 0 ? 0 : SB_EINTERNAL);
    if (!rc)
        rc = check_layout(&o, L, local);
    if (!rc)
        rc = make_plan(&o, L, piece_bytes, &p);
    if (!rc) {
        int64_t rows = p.per_piece * L->mb < p.mloc ? p.per_piece * L->mb : p.mloc;
        size_t n = rows * p.nloc > 0 ? (size_t)(rows * p.nloc) : 1;
        buf = malloc(n * sizeof *buf);
        rc = sb_io_op_agree(&o, buf ? 0 : SB_ENOMEM);
    }
    if (!rc)
        rc = create_dataset(&o, h, path, L, &dset);
    for (uint64_t piece = 0; !rc && piece < p.pieces; piece++)
        rc = write_piece(&o, h, dset, L, &p, local, buf, piece);
    if (!rc) {
        int local_rc = units ? sb_io_op_put_attr_str(&o, dset, "units", units) : 0;
        if (!local_rc && meaning)
            local_rc = sb_io_op_put_attr_str(&o, dset, "meaning", meaning);
        rc = sb_io_op_agree(&o, local_rc);
    }
    sb_io_close_id(&dset, H5Dclose);
    free(buf);
    sb_h5_quiet_end(q);
    return rc;
}

int sb_h5_write_matrix_bc(sb_h5 *h, const char *path, const sb_bc_layout *L, const double *local,
                          const char *units, const char *meaning)
{
    return sb_h5__write_matrix_bc_pieces(h, path, L, local, units, meaning, PIECE_BYTES);
}
