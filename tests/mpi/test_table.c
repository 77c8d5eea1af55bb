/* Appendable tables (table.h): the table in memory, its compound dataset in result files
 * (written collectively, read back serially on rank 0, by h5dump, and by h5py when it is
 * installed), appending to a written dataset, and checkpoint save/load, including on another
 * number of ranks.
 *
 * Run at 1, 2 and 4 ranks.  A failed check prints where and aborts every rank, so a failure
 * never turns into a hang. */
#define _GNU_SOURCE /* mkdtemp */

#include "symbatch/ckpt.h"
#include "abortcheck.h"
#include "h5check.h"

#include "symbatch/comm.h"
#include "symbatch/error.h"
#include "symbatch/io.h"
#include "symbatch/job.h"
#include "symbatch/table.h"

#include <dirent.h>
#include <hdf5.h>
#include <inttypes.h>
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

/* The metrics table of the tests: an exact int64 step, a float64 and an int64 without unit. */
static const sb_column COLS[] = {
    {"step", SB_COL_I64, "updates"},
    {"loss", SB_COL_F64, "nats"},
    {"big", SB_COL_I64, NULL},
};
#define NCOLS 3

static sb_cell row_cell(uint64_t r, int c)
{
    sb_cell x;
    if (c == 0)
        x.i = (int64_t)r;
    else if (c == 1)
        x.f = 0.125 * (double)r - 1.0 / 3.0;
    else
        x.i = INT64_MAX - (int64_t)r * 1000003; /* not representable as a double */
    return x;
}

static void append_rows(sb_table *t, uint64_t from, uint64_t to)
{
    for (uint64_t r = from; r < to; r++) {
        sb_cell row[NCOLS];
        for (int c = 0; c < NCOLS; c++)
            row[c] = row_cell(r, c);
        CHECK_RC(sb_table_append_cells(t, row), 0);
    }
}

static sb_table *make_table(uint64_t rows)
{
    sb_table *t = NULL;
    CHECK_RC(sb_table_create(&t, COLS, NCOLS, NULL), 0);
    append_rows(t, 0, rows);
    return t;
}

/* Bit for bit: the same columns and the same cells. */
static void check_equal(const sb_table *a, const sb_table *b)
{
    CHECK(sb_table_ncols(a) == sb_table_ncols(b));
    CHECK(sb_table_rows(a) == sb_table_rows(b));
    for (uint64_t r = 0; r < sb_table_rows(a); r++)
        for (int c = 0; c < sb_table_ncols(a); c++) {
            sb_cell x = sb_table_cell(a, r, c), y = sb_table_cell(b, r, c);
            CHECK(memcmp(&x, &y, sizeof x) == 0);
        }
}

/* ---- in memory ------------------------------------------------------------------------------ */

static void check_memory(void)
{
    sb_table *t = NULL;
    sb_diag d;
    sb_diag_init(&d);
    const sb_column twice[] = {{"a", SB_COL_F64, NULL}, {"a", SB_COL_I64, NULL}};
    const sb_column empty[] = {{"", SB_COL_F64, NULL}};
    const sb_column comma[] = {{"a,b", SB_COL_F64, NULL}};
    const sb_column badtype[] = {{"a", (sb_col_type)7, NULL}};
    CHECK_RC(sb_table_create(&t, twice, 2, &d), SB_EINPUT);
    CHECK(t == NULL && strstr(sb_diag_text(&d), "'a' appears twice"));
    CHECK_RC(sb_table_create(&t, empty, 1, &d), SB_EINPUT);
    CHECK_RC(sb_table_create(&t, comma, 1, &d), SB_EINPUT);
    CHECK_RC(sb_table_create(&t, badtype, 1, &d), SB_EINPUT);
    CHECK_RC(sb_table_create(&t, COLS, 0, &d), SB_EINPUT);
    CHECK(d.count == 5);
    sb_diag_free(&d);

    CHECK_RC(sb_table_create(&t, COLS, NCOLS, NULL), 0);
    CHECK(sb_table_ncols(t) == NCOLS && sb_table_rows(t) == 0);
    CHECK(sb_table_find(t, "loss") == 1 && sb_table_find(t, "nope") == -1);
    sb_column c = sb_table_column(t, 1);
    CHECK(strcmp(c.name, "loss") == 0 && c.type == SB_COL_F64 && strcmp(c.unit, "nats") == 0);
    CHECK(sb_table_column(t, 2).unit == NULL && sb_table_column(t, 3).name == NULL);

    /* Doubles: int64 columns take integers only, and a refused row leaves nothing behind. */
    double ok[NCOLS] = {-42, 2.5, 9007199254740992.0};
    CHECK_RC(sb_table_append(t, ok), 0);
    double frac[NCOLS] = {1.5, 0, 0}, nan[NCOLS] = {0, 0, 0}, huge[NCOLS] = {0, 0, 1e19};
    nan[2] = 0.0 / 0.0;
    CHECK_RC(sb_table_append(t, frac), SB_EINPUT);
    CHECK_RC(sb_table_append(t, nan), SB_EINPUT);
    CHECK_RC(sb_table_append(t, huge), SB_EINPUT);
    CHECK(sb_table_rows(t) == 1);
    CHECK(sb_table_cell(t, 0, 0).i == -42 && sb_table_cell(t, 0, 1).f == 2.5);
    CHECK(sb_table_cell(t, 0, 2).i == INT64_C(9007199254740992));
    CHECK(sb_table_value(t, 0, 0) == -42.0 && sb_table_value(t, 0, 1) == 2.5);

    /* Cells: exact beyond 2^53.  Many rows: the storage grows. */
    append_rows(t, 1, 1000);
    CHECK(sb_table_rows(t) == 1000);
    CHECK(sb_table_cell(t, 999, 2).i == INT64_MAX - 999 * 1000003);
    CHECK(sb_table_cell(t, 999, 0).i == 999 && sb_table_cell(t, 1000, 0).i == 0);
    CHECK_RC(sb_table_truncate(t, 1001), SB_EINPUT);
    CHECK_RC(sb_table_truncate(t, 10), 0);
    CHECK(sb_table_rows(t) == 10);
    append_rows(t, 10, 12);
    CHECK(sb_table_cell(t, 11, 0).i == 11 && sb_table_rows(t) == 12);
    sb_table_free(t);
}

/* ---- result files --------------------------------------------------------------------------- */

/* Reads one column by name (a compound memory type with that field alone, as h5py does). */
static void read_column(hid_t d, const char *name, hid_t mem, void *out)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, 8);
    CHECK(t >= 0 && H5Tinsert(t, name, 0, mem) >= 0);
    CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0);
    H5Tclose(t);
}

/* The dataset's shape, stored types, layout and attributes, and every cell. */
static void verify_dataset(hid_t f, const char *path, const sb_table *t, const char *meaning)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    CHECK(d >= 0);
    hid_t space = H5Dget_space(d);
    hsize_t dims = 99, maxdims = 0;
    CHECK(H5Sget_simple_extent_ndims(space) == 1);
    H5Sget_simple_extent_dims(space, &dims, &maxdims);
    CHECK(dims == sb_table_rows(t) && maxdims == H5S_UNLIMITED);
    H5Sclose(space);
    hid_t dcpl = H5Dget_create_plist(d);
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED);
    H5Pclose(dcpl);

    hid_t type = H5Dget_type(d);
    CHECK(H5Tget_class(type) == H5T_COMPOUND && H5Tget_nmembers(type) == NCOLS);
    for (int c = 0; c < NCOLS; c++) {
        char *name = H5Tget_member_name(type, (unsigned)c);
        CHECK(strcmp(name, COLS[c].name) == 0);
        H5free_memory(name);
        hid_t mt = H5Tget_member_type(type, (unsigned)c);
        CHECK(H5Tequal(mt, COLS[c].type == SB_COL_I64 ? H5T_STD_I64LE : H5T_IEEE_F64LE) > 0);
        H5Tclose(mt);
    }
    H5Tclose(type);

    uint64_t n = sb_table_rows(t);
    int64_t *step = calloc(n + 1, 8), *big = calloc(n + 1, 8);
    double *loss = calloc(n + 1, 8);
    read_column(d, "step", H5T_NATIVE_INT64, step);
    read_column(d, "loss", H5T_NATIVE_DOUBLE, loss);
    read_column(d, "big", H5T_NATIVE_INT64, big);
    for (uint64_t r = 0; r < n; r++) {
        CHECK(step[r] == sb_table_cell(t, r, 0).i);
        CHECK(loss[r] == sb_table_cell(t, r, 1).f);
        CHECK(big[r] == sb_table_cell(t, r, 2).i);
    }
    free(step);
    free(loss);
    free(big);

    char *units = read_attr_str(d, "units");
    CHECK(strcmp(units, "step: updates; loss: nats; big: -") == 0);
    free(units);
    if (meaning) {
        char *m = read_attr_str(d, "meaning");
        CHECK(strcmp(m, meaning) == 0);
        free(m);
    } else {
        CHECK(H5Aexists(d, "meaning") == 0);
    }
    H5Dclose(d);
}

/* Readable by the HDF5 tools: h5dump prints the dataset with its field names. */
static void check_h5dump(const char *file, const char *path)
{
    if (system("command -v h5dump >/dev/null 2>&1") != 0) {
        printf("test_table: h5dump not installed: skipped the h5dump read-back\n");
        return;
    }
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "h5dump -d '%s' '%s' | grep -q '\"loss\"'", path, file);
    CHECK(system(cmd) == 0);
}

/* h5py reads a column by name; skipped (and said so) when h5py is not installed. */
static void check_h5py(const char *file, const char *dir)
{
    if (system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) {
        printf("test_table: python3 with h5py not available: skipped the h5py read-back "
               "(the other checks ran)\n");
        return;
    }
    char script[4300], cmd[9000];
    snprintf(script, sizeof script, "%s/check.py", dir);
    FILE *s = fopen(script, "w");
    CHECK(s != NULL);
    fprintf(s, "import sys, h5py\n"
               "f = h5py.File(sys.argv[1], 'r')\n"
               "t = f['/grpo/metrics']\n"
               "assert t.dtype.names == ('step', 'loss', 'big'), t.dtype.names\n"
               "assert t.maxshape == (None,), t.maxshape\n"
               "step, loss, big = t['step'], t['loss'], t['big']\n"
               "assert len(step) == 32 and step.dtype.kind == 'i', step\n"
               "for r in range(32):\n"
               "    assert step[r] == r\n"
               "    assert loss[r] == 0.125 * r - 1.0 / 3.0\n"
               "    assert int(big[r]) == 2**63 - 1 - r * 1000003\n"
               "assert t.attrs['units'] == 'step: updates; loss: nats; big: -'\n"
               "assert f['/empty/t'].shape == (0,)\n"
               "assert f['/empty/t']['loss'].shape == (0,)\n");
    fclose(s);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", script, file);
    CHECK(system(cmd) == 0);
    printf("test_table: h5py read-back passed\n");
}

static void check_result_file(const sb_ctx *ctx, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/result.h5", dir);
    sb_table *t = make_table(25), *empty = make_table(0);
    sb_h5 h;
    CHECK_RC(create_result(&h, ctx, path), 0);
    CHECK_RC(sb_table_write(&h, "/grpo/metrics", t, "one row per training update"), 0);
    CHECK_RC(sb_table_write(&h, "/empty/t", empty, NULL), 0);
    CHECK_RC(sb_table_write(&h, "/grown", empty, NULL), 0);

    /* Appending: the dataset catches up with the table; again is a no-op. */
    append_rows(t, 25, 32);
    CHECK_RC(sb_table_append_file(&h, "/grpo/metrics", t), 0);
    CHECK_RC(sb_table_append_file(&h, "/grpo/metrics", t), 0);
    CHECK_RC(sb_table_append_file(&h, "/grown", t), 0); /* from 0 rows */

    /* Refusals, the same on every rank: an existing name, a table with other columns or fewer
     * rows than the dataset, a missing dataset, tables that differ between ranks. */
    int rc = sb_table_write(&h, "/grpo/metrics", t, NULL);
    CHECK(rc == SB_EHDF5);
    check_same(ctx, rc);
    const sb_column other[] = {
        {"step", SB_COL_I64, NULL}, {"reward", SB_COL_F64, NULL}, {"big", SB_COL_I64, NULL}};
    sb_table *o = NULL;
    CHECK_RC(sb_table_create(&o, other, 3, NULL), 0);
    CHECK_RC(sb_table_append_file(&h, "/grpo/metrics", o), SB_EINPUT);
    CHECK_RC(sb_table_append_file(&h, "/grpo/metrics", empty), SB_EINPUT);
    CHECK_RC(sb_table_append_file(&h, "/nothing/here", t), SB_EHDF5);
    if (ctx->size > 1) {
        sb_table *uneven = make_table(ctx->rank == 1 ? 3 : 2);
        CHECK_RC(sb_table_write(&h, "/uneven", uneven, NULL), SB_EINTERNAL);
        sb_table_free(uneven);
    }
    sb_table_free(o);
    CHECK_RC(sb_h5_commit(&h, 0), 0);

    if (ctx->rank == 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        CHECK(f >= 0);
        verify_dataset(f, "/grpo/metrics", t, "one row per training update");
        verify_dataset(f, "/grown", t, NULL);
        verify_dataset(f, "/empty/t", empty, NULL);
        CHECK(H5Lexists(f, "/uneven", H5P_DEFAULT) == 0);
        H5Fclose(f);
        check_h5dump(path, "/grpo/metrics");
        check_h5py(path, dir);
    }
    MPI_Barrier(ctx->comm);
    sb_table_free(t);
    sb_table_free(empty);
}

/* ---- checkpoints ---------------------------------------------------------------------------- */

static void save(const sb_ctx *ctx, const char *path, const sb_table *t, const char *name)
{
    sb_ckpt ck;
    CHECK_RC(sb_ckpt_create(&ck, ctx, path, 1), 0);
    CHECK_RC(sb_table_save(t, &ck, name), 0);
    CHECK_RC(sb_ckpt_commit(&ck), 0);
}

static int load(const sb_ctx *ctx, const char *path, sb_table *t, const char *name)
{
    sb_ckpt ck;
    CHECK_RC(sb_ckpt_open(&ck, ctx, path), 0);
    int rc = sb_table_load(t, &ck, name);
    check_same(ctx, rc);
    sb_ckpt_close(&ck);
    return rc;
}

/* 10 rows, a checkpoint, 3 more rows lost in a crash, resume from the checkpoint, 10 more:
 * the same as 20 rows straight, no gap and no duplicate. */
static void check_resume(const sb_ctx *ctx, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/resume.ckpt.h5", dir);
    sb_table *straight = make_table(20), *run = make_table(10), *fresh = make_table(0);
    save(ctx, path, run, "metrics");
    append_rows(run, 10, 13);

    CHECK_RC(load(ctx, path, fresh, "metrics"), 0);
    CHECK(sb_table_rows(fresh) == 10);
    append_rows(fresh, 10, 20);
    check_equal(fresh, straight);

    CHECK_RC(load(ctx, path, run, "metrics"), 0); /* loading replaces the rows */
    CHECK(sb_table_rows(run) == 10);
    append_rows(run, 10, 20);
    check_equal(run, straight);

    /* An empty table survives too. */
    sb_table *empty = make_table(0);
    save(ctx, path, empty, "metrics");
    CHECK_RC(load(ctx, path, run, "metrics"), 0);
    CHECK(sb_table_rows(run) == 0);
    sb_table_free(empty);
    sb_table_free(straight);
    sb_table_free(run);
    sb_table_free(fresh);
}

/* Loads a checkpoint into a table of other columns: SB_ECKPT on every rank, rank 0's message
 * names the column, the table is untouched. */
static void expect_mismatch(const sb_ctx *ctx, const char *path, const sb_column *cols, int ncols,
                            const char *want)
{
    sb_table *t = NULL;
    CHECK_RC(sb_table_create(&t, cols, ncols, NULL), 0);
    double row[4] = {1, 2, 3, 4};
    CHECK_RC(sb_table_append(t, row), 0);
    sb_ctx quiet = *ctx;
    FILE *err = tmpfile();
    CHECK(err != NULL);
    quiet.err = err;
    CHECK_RC(load(&quiet, path, t, "metrics"), SB_ECKPT);
    CHECK(sb_table_rows(t) == 1 && sb_table_value(t, 0, 0) == 1);
    if (ctx->rank == 0) {
        char text[2048] = "";
        rewind(err);
        size_t n = fread(text, 1, sizeof text - 1, err);
        text[n] = '\0';
        if (!strstr(text, want))
            fprintf(stderr, "message '%s' lacks '%s'\n", text, want);
        CHECK(strstr(text, want) != NULL);
    }
    fclose(err);
    sb_table_free(t);
}

static void check_mismatch(const sb_ctx *ctx, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/mismatch.ckpt.h5", dir);
    sb_table *t = make_table(4);
    save(ctx, path, t, "metrics");
    sb_table_free(t);

    const sb_column renamed[] = {
        {"step", SB_COL_I64, NULL}, {"reward", SB_COL_F64, NULL}, {"big", SB_COL_I64, NULL}};
    expect_mismatch(ctx, path, renamed, 3, "'loss:f64' in the checkpoint but 'reward:f64'");
    const sb_column retyped[] = {
        {"step", SB_COL_F64, NULL}, {"loss", SB_COL_F64, NULL}, {"big", SB_COL_I64, NULL}};
    expect_mismatch(ctx, path, retyped, 3, "'step:i64' in the checkpoint but 'step:f64'");
    const sb_column more[] = {{"step", SB_COL_I64, NULL},
                              {"loss", SB_COL_F64, NULL},
                              {"big", SB_COL_I64, NULL},
                              {"kl", SB_COL_F64, NULL}};
    expect_mismatch(ctx, path, more, 4, "column 3 'kl' (f64) of this run is missing");
    expect_mismatch(ctx, path, more, 2, "more columns than this run's 2, from 'big:i64'");

    /* A name that is not in the checkpoint. */
    sb_table *u = make_table(0);
    int rc = load(ctx, path, u, "other");
    CHECK(rc == SB_ECKPT);
    sb_table_free(u);
}

/* Saved by one group of ranks, loaded by another: the tables are global arrays. */
static void check_other_rank_count(const sb_ctx *ctx, const char *dir)
{
    char path1[4200], path2[4200];
    snprintf(path1, sizeof path1, "%s/by-one.ckpt.h5", dir);
    snprintf(path2, sizeof path2, "%s/by-all.ckpt.h5", dir);
    sb_table *ten = make_table(10), *straight = make_table(20);

    /* Rank 0 alone saves; every rank loads. */
    MPI_Comm one;
    MPI_Comm_split(ctx->comm, ctx->rank == 0 ? 0 : MPI_UNDEFINED, 0, &one);
    if (one != MPI_COMM_NULL) {
        sb_ctx c1;
        CHECK_RC(sb_ctx_init(&c1, one), 0);
        save(&c1, path1, ten, "metrics");
        sb_ctx_free(&c1);
        MPI_Comm_free(&one);
    }
    MPI_Barrier(ctx->comm);
    sb_table *t = make_table(0);
    CHECK_RC(load(ctx, path1, t, "metrics"), 0);
    append_rows(t, 10, 20);
    check_equal(t, straight);
    sb_table_free(t);

    /* Every rank saves; the even ranks load. */
    save(ctx, path2, ten, "metrics");
    MPI_Comm even;
    MPI_Comm_split(ctx->comm, ctx->rank % 2 == 0 ? 0 : MPI_UNDEFINED, 0, &even);
    if (even != MPI_COMM_NULL) {
        sb_ctx c2;
        CHECK_RC(sb_ctx_init(&c2, even), 0);
        t = make_table(0);
        CHECK_RC(load(&c2, path2, t, "metrics"), 0);
        append_rows(t, 10, 20);
        check_equal(t, straight);
        sb_table_free(t);
        sb_ctx_free(&c2);
        MPI_Comm_free(&even);
    }
    MPI_Barrier(ctx->comm);
    sb_table_free(ten);
    sb_table_free(straight);
}

/* ---- main ----------------------------------------------------------------------------------- */

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    struct dirent *e;
    char path[4600];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK(unlink(path) == 0);
    }
    closedir(d);
    CHECK(rmdir(dir) == 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    CHECK_RC(sb_ctx_init(&ctx, MPI_COMM_WORLD), 0);
    char dir[4096] = "/tmp/sb-test-table-XXXXXX";
    if (ctx.rank == 0)
        CHECK(mkdtemp(dir) != NULL);
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, ctx.comm);

    check_memory();
    check_result_file(&ctx, dir);
    check_resume(&ctx, dir);
    check_mismatch(&ctx, dir);
    check_other_rank_count(&ctx, dir);

    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0) {
        remove_dir(dir);
        printf("test_table: passed at %d ranks\n", ctx.size);
    }
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return 0;
}
