/* Block-cyclic matrices into result files (matrix.h): every grid that fits the ranks (extra
 * ranks hold nothing), shapes that are not multiples of the blocks or smaller than one block,
 * block sizes 1, 3 and 64, the default and forced small pieces; rank 0 reads every element
 * back with serial HDF5.  Bad layouts fail on every rank alike, without a hang.
 *
 * Run at 1, 2 and 4 ranks.  A failed check prints where and aborts every rank. */
#define _GNU_SOURCE /* mkdtemp */

#include "abortcheck.h"

#include "symbatch/comm.h"
#include "symbatch/error.h"
#include "symbatch/io.h"
#include "symbatch/job.h"
#include "symbatch/matrix.h"

#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one place that creates result files, so that a change of sb_h5_create's provenance
 * argument stays a one-line change here. */
static int create_result(sb_h5 *h, const sb_ctx *ctx, const char *path)
{
    const sb_provenance prov = {.kind = NULL, .job_text = "", .job_path = "test"};
    return sb_h5_create(h, ctx, &prov, path, true);
}

static double element(int64_t i, int64_t j)
{
    return (double)i * 1000 + (double)j + 0.5;
}

/* Global index of local index l (ScaLAPACK's INDXL2G with the first block on process 0),
 * written independently of the library's selections. */
static int64_t l2g(int64_t l, int64_t nb, int me, int nprocs)
{
    return (l / nb * nprocs + me) * nb + l % nb;
}

/* Counts by brute force how many of n indices process `me` holds: checks sb_numroc. */
static int64_t count_held(int64_t n, int64_t nb, int me, int nprocs)
{
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++)
        c += (i / nb) % nprocs == me;
    return c;
}

static void check_numroc(void)
{
    for (int64_t n = 0; n < 40; n++)
        for (int64_t nb = 1; nb < 9; nb++)
            for (int p = 1; p < 5; p++)
                for (int me = 0; me < p; me++)
                    CHECK(sb_numroc(n, nb, me, 0, p) == count_held(n, nb, me, p));
    CHECK(sb_numroc(10, 3, 0, 1, 2) == 4); /* source 1: process 0 gets blocks 1 and 3 */
}

/* This rank's place on an nprow x npcol grid (row-major, as BLACS numbers it), and its local
 * array: column-major, lld two more than the local rows, padding NaN. */
static double *make_local(const sb_ctx *ctx, sb_bc_layout *L)
{
    int r = ctx->rank;
    bool in = r < L->nprow * L->npcol;
    L->myrow = in ? r / L->npcol : -1;
    L->mycol = in ? r % L->npcol : -1;
    int64_t mloc = in ? sb_numroc(L->m, L->mb, L->myrow, 0, L->nprow) : 0;
    int64_t nloc = in ? sb_numroc(L->n, L->nb, L->mycol, 0, L->npcol) : 0;
    L->lld = mloc + 2;
    double *a = malloc((size_t)(L->lld * (nloc > 0 ? nloc : 1)) * sizeof *a);
    CHECK(a != NULL);
    for (int64_t k = 0; k < L->lld * (nloc > 0 ? nloc : 1); k++)
        a[k] = NAN;
    for (int64_t lj = 0; lj < nloc; lj++)
        for (int64_t li = 0; li < mloc; li++)
            a[li + lj * L->lld] =
                element(l2g(li, L->mb, L->myrow, L->nprow), l2g(lj, L->nb, L->mycol, L->npcol));
    return a;
}

typedef struct shape {
    int64_t m, n;
} shape;

static const shape SHAPES[] = {{7, 5}, {1, 1}, {2, 130}, {130, 3}, {64, 64}, {65, 129}, {0, 4}};
static const int64_t BLOCKS[][2] = {{1, 1}, {3, 3}, {64, 64}, {3, 64}, {64, 1}};
static const int GRIDS[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])
#define NBLOCKS (sizeof BLOCKS / sizeof BLOCKS[0])
#define NGRIDS  (sizeof GRIDS / sizeof GRIDS[0])

static void dataset_name(char *buf, size_t size, const int *g, const shape *s, const int64_t *b,
                         bool small)
{
    snprintf(buf, size, "/m/g%dx%d/s%" PRId64 "x%" PRId64 "/b%" PRId64 "x%" PRId64 "/%s", g[0],
             g[1], s->m, s->n, b[0], b[1], small ? "small" : "default");
}

/* Writes every case that fits the ranks.  Small pieces: one local row block per call for the
 * rank with the most columns, so several calls in all and different counts on different
 * ranks. */
static void write_all(const sb_ctx *ctx, sb_h5 *h)
{
    for (size_t g = 0; g < NGRIDS; g++) {
        if (GRIDS[g][0] * GRIDS[g][1] > ctx->size)
            continue;
        for (size_t s = 0; s < NSHAPES; s++)
            for (size_t b = 0; b < NBLOCKS; b++)
                for (int small = 0; small < 2; small++) {
                    sb_bc_layout L = {.m = SHAPES[s].m,
                                      .n = SHAPES[s].n,
                                      .mb = BLOCKS[b][0],
                                      .nb = BLOCKS[b][1],
                                      .nprow = GRIDS[g][0],
                                      .npcol = GRIDS[g][1]};
                    double *a = make_local(ctx, &L);
                    char name[200];
                    dataset_name(name, sizeof name, GRIDS[g], &SHAPES[s], BLOCKS[b], small);
                    uint64_t piece = (uint64_t)L.mb * (uint64_t)(L.n + L.nb) * sizeof(double);
                    if (small)
                        CHECK_RC(sb_h5__write_matrix_bc_pieces(h, name, &L, a, NULL, NULL, piece),
                                 0);
                    else
                        CHECK_RC(sb_h5_write_matrix_bc(h, name, &L, a, "1", "test matrix"), 0);
                    free(a);
                }
    }
}

/* Rank 0: every element of every case, exactly. */
static void verify_all(const sb_ctx *ctx, hid_t f)
{
    int checked = 0;
    for (size_t g = 0; g < NGRIDS; g++) {
        if (GRIDS[g][0] * GRIDS[g][1] > ctx->size)
            continue;
        for (size_t s = 0; s < NSHAPES; s++)
            for (size_t b = 0; b < NBLOCKS; b++)
                for (int small = 0; small < 2; small++) {
                    char name[200];
                    dataset_name(name, sizeof name, GRIDS[g], &SHAPES[s], BLOCKS[b], small);
                    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
                    CHECK(d >= 0);
                    hid_t space = H5Dget_space(d), type = H5Dget_type(d);
                    hsize_t dims[2] = {0, 0};
                    CHECK(H5Sget_simple_extent_ndims(space) == 2);
                    H5Sget_simple_extent_dims(space, dims, NULL);
                    int64_t m = SHAPES[s].m, n = SHAPES[s].n;
                    CHECK(dims[0] == (hsize_t)m && dims[1] == (hsize_t)n);
                    CHECK(H5Tequal(type, H5T_IEEE_F64LE) > 0);
                    double *all = malloc((size_t)(m * n + 1) * sizeof *all);
                    CHECK(all != NULL);
                    if (m * n > 0)
                        CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >=
                              0);
                    for (int64_t i = 0; i < m; i++)
                        for (int64_t j = 0; j < n; j++) {
                            if (all[i * n + j] != element(i, j))
                                fprintf(stderr, "%s: (%" PRId64 ", %" PRId64 ") is %g\n", name, i,
                                        j, all[i * n + j]);
                            CHECK(all[i * n + j] == element(i, j));
                        }
                    CHECK(H5Aexists(d, "units") == !small && H5Aexists(d, "meaning") == !small);
                    free(all);
                    H5Tclose(type);
                    H5Sclose(space);
                    H5Dclose(d);
                    checked++;
                }
    }
    printf("test_matrix: %d matrices read back element by element\n", checked);
}

/* A bad layout: the same error on every rank, no dataset, and the file still usable. */
static void expect_bad(const sb_ctx *ctx, sb_h5 *h, const char *name, const sb_bc_layout *L,
                       const double *a, uint64_t piece, int want)
{
    int rc = piece ? sb_h5__write_matrix_bc_pieces(h, name, L, a, NULL, NULL, piece)
                   : sb_h5_write_matrix_bc(h, name, L, a, NULL, NULL);
    int lo = rc, hi = rc;
    MPI_Allreduce(&rc, &lo, 1, MPI_INT, MPI_MIN, ctx->comm);
    MPI_Allreduce(&rc, &hi, 1, MPI_INT, MPI_MAX, ctx->comm);
    if (rc != want)
        fprintf(stderr, "%s: got %s, wanted %s\n", name, sb_err_name(rc), sb_err_name(want));
    CHECK(rc == want && lo == hi);
}

static void check_bad_layouts(const sb_ctx *ctx, sb_h5 *h)
{
    sb_bc_layout good = {.m = 10, .n = 9, .mb = 2, .nb = 2, .nprow = 1, .npcol = 1};
    double *a = make_local(ctx, &good);
    sb_bc_layout L = good;
    L.mb = 0;
    expect_bad(ctx, h, "/bad/block0", &L, a, 0, SB_EINPUT);
    L = good;
    L.nprow = ctx->size + 1;
    expect_bad(ctx, h, "/bad/grid", &L, a, 0, SB_EINPUT);
    L = good;
    if (ctx->rank == 0)
        L.lld = 9; /* fewer than the 10 local rows */
    expect_bad(ctx, h, "/bad/lld", &L, a, 0, SB_EINPUT);
    L = good;
    L.myrow = 1; /* outside a 1 x 1 grid, and not -1 */
    expect_bad(ctx, h, "/bad/position", &L, a, 0, SB_EINPUT);
    L = good;
    L.m = -1;
    expect_bad(ctx, h, "/bad/negative", &L, a, 0, SB_EINPUT);
    L = good;
    expect_bad(ctx, h, "/bad/piece", &L, a, 8, SB_ELIMIT); /* a band is 2 x 9 doubles */
    if (ctx->size > 1) {
        double *full = calloc(12 * 9, sizeof *full);
        CHECK(full != NULL);
        L = good;
        L.myrow = L.mycol = 0; /* every rank claims position 0, 0 */
        L.lld = 12;
        expect_bad(ctx, h, "/bad/twice", &L, full, 0, SB_EINPUT);
        free(full);
        L = good;
        L.m = ctx->rank == ctx->size - 1 ? 11 : 10;
        expect_bad(ctx, h, "/bad/differ", &L, a, 0, SB_EINPUT);
        L = good;
        L.myrow = L.mycol = -1; /* nobody holds position 0, 0 */
        expect_bad(ctx, h, "/bad/nobody", &L, a, 0, SB_EINPUT);
    }
    CHECK_RC(sb_h5_write_matrix_bc(h, "/bad/after", &good, a, NULL, NULL), 0);
    free(a);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    CHECK_RC(sb_ctx_init(&ctx, MPI_COMM_WORLD), 0);
    char dir[4096] = "/tmp/sb-test-matrix-XXXXXX";
    if (ctx.rank == 0)
        CHECK(mkdtemp(dir) != NULL);
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx.comm);
    char path[4200];
    snprintf(path, sizeof path, "%s/matrix.h5", dir);

    check_numroc();
    sb_h5 h;
    CHECK_RC(create_result(&h, &ctx, path), 0);
    write_all(&ctx, &h);
    check_bad_layouts(&ctx, &h);
    CHECK_RC(sb_h5_commit(&h, 0), 0);

    if (ctx.rank == 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        CHECK(f >= 0);
        verify_all(&ctx, f);
        const char *bad[] = {"/bad/block0",   "/bad/grid",     "/bad/lld",
                             "/bad/position", "/bad/negative", "/bad/piece",
                             "/bad/twice",    "/bad/differ",   "/bad/nobody"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            CHECK(H5Lexists(f, bad[i], H5P_DEFAULT) <= 0);
        double back[90];
        hid_t d = H5Dopen2(f, "/bad/after", H5P_DEFAULT);
        CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0);
        for (int k = 0; k < 90; k++)
            CHECK(back[k] == element(k / 9, k % 9));
        H5Dclose(d);
        H5Fclose(f);
        CHECK(unlink(path) == 0 && rmdir(dir) == 0);
        printf("test_matrix: passed at %d ranks\n", ctx.size);
    }
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return 0;
}
