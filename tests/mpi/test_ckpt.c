/* Checkpoints, at whatever number of ranks mpiexec gives (ctest: 1, 2 and 4).
 *
 * The file module: a byte array written in uneven, unaligned-to-segments blocks reads back
 * exactly over any range, on all ranks and on a sub-communicator of fewer ranks; a flipped
 * byte fails exactly the reads that touch its segment; truncated files, a wrong format version
 * and a missing file are refused (SB_ECKPT); an aborted or fault-injected (disk full) write
 * leaves the previous checkpoint intact.
 *
 * The engines: a run stopped at a layer (as if signalled) and resumed gives the uninterrupted
 * result (layer sizes, edges, last layer, distance table) when resumed on the same ranks, on
 * fewer ranks (a sub-communicator), and, from a checkpoint written by one rank, on all of them;
 * in full mode (with distances) and frontier mode (undirected and directed).  A signal caught
 * by one rank stops every rank at the next layer boundary with a checkpoint. */
#define _GNU_SOURCE /* mkdtemp, setenv, truncate */
#include "mpicheck.h"

#include "growth/engine.h"

#include "symbatch/ckpt.h"
#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/error.h"
#include "symbatch/growth.h"
#include "symbatch/perm.h"
#include "symbatch/signals.h"
#include "symbatch/step.h"

#include <hdf5.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers -------------------------------------------------------------------------------- */

typedef struct env {
    mpicheck *mc;
    const sb_ctx *ctx;
    char dir[256];
} env;

static void path_in(const env *e, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", e->dir, name);
}

static bool file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Rank 0 flips one bit of the byte at `offset` bytes into dataset `dset` of a closed file. */
static void flip_byte(const sb_ctx *ctx, const char *path, const char *dset, uint64_t offset)
{
    if (ctx->rank == 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
        haddr_t at = H5Dget_offset(d);
        H5Dclose(d);
        H5Fclose(f);
        FILE *fp = fopen(path, "r+b");
        if (fp && at != HADDR_UNDEF) {
            fseek(fp, (long)(at + offset), SEEK_SET);
            int c = fgetc(fp);
            fseek(fp, (long)(at + offset), SEEK_SET);
            fputc(c ^ 0x20, fp);
        }
        if (fp)
            fclose(fp);
    }
    MPI_Barrier(ctx->comm);
}

static void copy_file(const sb_ctx *ctx, const char *from, const char *to)
{
    if (ctx->rank == 0) {
        FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
        char buf[65536];
        size_t n;
        while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
    }
    MPI_Barrier(ctx->comm);
}

/* A sub-communicator of the first k ranks (k >= 1); *in says whether this rank is in it.  Under
 * SB_TEST_NODES=K it has min(K, k) pseudo-nodes (more than its ranks would be refused). */
static void sub_ctx(const sb_ctx *ctx, int k, sb_ctx *sub, MPI_Comm *comm, bool *in)
{
    *in = ctx->rank < k;
    MPI_Comm_split(ctx->comm, *in ? 0 : MPI_UNDEFINED, ctx->rank, comm);
    if (!*in)
        return;
    const char *nodes = getenv(SB_TEST_NODES_ENV);
    char keep[32] = "", clamped[32];
    if (nodes) {
        snprintf(keep, sizeof keep, "%s", nodes);
        snprintf(clamped, sizeof clamped, "%d", atoi(keep) < k ? atoi(keep) : k);
        setenv(SB_TEST_NODES_ENV, clamped, 1);
    }
    int rc = sb_ctx_init(sub, *comm);
    if (nodes)
        setenv(SB_TEST_NODES_ENV, keep, 1);
    if (rc != 0) {
        fprintf(stderr, "test_ckpt: sb_ctx_init of %d ranks returned %d\n", k, rc);
        MPI_Abort(ctx->comm, 1);
    }
}

static void sub_free(sb_ctx *sub, MPI_Comm *comm, bool in)
{
    if (in) {
        sb_ctx_free(sub);
        MPI_Comm_free(comm);
    }
}

/* ---- the file module ------------------------------------------------------------------------ */

#define BLOB_BYTES (3 * SB_CKPT_SEGMENT + 12345)

static uint8_t blob_byte(uint64_t i)
{
    return (uint8_t)sb_mix64(i * 7 + 1);
}

/* Rank r writes [bound(r), bound(r + 1)): uneven blocks, 8-byte aligned, not on segments. */
static uint64_t bound(int r, int p)
{
    if (r >= p)
        return BLOB_BYTES;
    return (uint64_t)(((unsigned __int128)BLOB_BYTES * (unsigned)(r * r)) / (unsigned)(p * p)) &
           ~(uint64_t)7;
}

static int write_blob(const sb_ctx *ctx, const char *path, bool bad_version)
{
    const uint64_t lo = bound(ctx->rank, ctx->size), hi = bound(ctx->rank + 1, ctx->size);
    uint8_t *data = malloc(hi - lo + 1);
    for (uint64_t i = lo; i < hi; i++)
        data[i - lo] = blob_byte(i);
    uint64_t v[5] = {1, 2, 3, 4, 5};
    sb_ckpt ck;
    int err = sb_ckpt_create(&ck, ctx, path, 1);
    if (!err)
        err = sb_ckpt_write(&ck, "/blob", SB_CKPT_U8, BLOB_BYTES, lo, hi - lo, data);
    if (!err)
        err = sb_ckpt_write(&ck, "/g/v", SB_CKPT_U64, 5, 0, ctx->rank == 0 ? 5 : 0, v);
    if (!err)
        err = sb_ckpt_put_str(&ck, "note", "hello");
    if (!err && bad_version)
        err = sb_ckpt_put_i64(&ck, "format_version", SB_CKPT_VERSION + 1);
    if (!err)
        err = sb_ckpt_commit(&ck);
    else
        sb_ckpt_abort(&ck);
    free(data);
    return err;
}

/* Reads [lo, hi) of /blob and checks every byte. */
static int read_range(mpicheck *mc, sb_ckpt *ck, uint64_t lo, uint64_t hi, const char *what)
{
    uint8_t *buf = malloc(hi - lo + 1);
    int err = sb_ckpt_read(ck, "/blob", SB_CKPT_U8, lo, hi - lo, buf);
    uint64_t bad = 0;
    for (uint64_t i = lo; !err && i < hi; i++)
        bad += buf[i - lo] != blob_byte(i);
    CHECK(mc, bad == 0, "%s: %" PRIu64 " wrong bytes in [%" PRIu64 ", %" PRIu64 ")", what, bad, lo,
          hi);
    free(buf);
    return err;
}

static void read_blob_everywhere(mpicheck *mc, const sb_ctx *ctx, const char *path,
                                 const char *what)
{
    sb_ckpt ck;
    int err = sb_ckpt_open(&ck, ctx, path);
    CHECK(mc, err == 0, "%s: open: %d", what, err);
    if (err)
        return;
    bool exists = false;
    uint64_t total = 0;
    CHECK(mc, sb_ckpt_length(&ck, "/blob", SB_CKPT_U8, &exists, &total) == 0, "%s: length", what);
    CHECK(mc, exists && total == BLOB_BYTES, "%s: total %" PRIu64, what, total);
    CHECK(mc, sb_ckpt_length(&ck, "/nothing/here", SB_CKPT_U8, &exists, &total) == 0 && !exists,
          "%s: missing dataset", what);
    /* Every rank a different range: all, a middle part across segments, a few bytes inside
     * one segment, nothing. */
    const uint64_t r = (uint64_t)ctx->rank;
    CHECK(mc, read_range(mc, &ck, 0, BLOB_BYTES, what) == 0, "%s: all", what);
    CHECK(mc, read_range(mc, &ck, BLOB_BYTES / 3 + r, 2 * BLOB_BYTES / 3 + 1, what) == 0,
          "%s: middle", what);
    CHECK(mc, read_range(mc, &ck, SB_CKPT_SEGMENT + 5 + r, SB_CKPT_SEGMENT + 17 + r, what) == 0,
          "%s: small", what);
    CHECK(mc, read_range(mc, &ck, 100 * r, 100 * r, what) == 0, "%s: empty", what);
    uint64_t v[5] = {0};
    CHECK(mc, sb_ckpt_read(&ck, "/g/v", SB_CKPT_U64, 0, 5, v) == 0 && v[4] == 5, "%s: u64", what);
    char note[16] = "";
    CHECK(mc, sb_ckpt_get_str(&ck, "note", note, sizeof note) == 0 && !strcmp(note, "hello"),
          "%s: attribute", what);
    CHECK(mc, sb_ckpt_get_str(&ck, "absent", note, sizeof note) == SB_ECKPT, "%s: absent attr",
          what);
    sb_ckpt_close(&ck);
}

/* A flipped byte in segment 1: reads of segment 1 fail on every rank, others still succeed. */
static void damaged_blob(mpicheck *mc, const sb_ctx *ctx, const char *good, const char *path)
{
    copy_file(ctx, good, path);
    flip_byte(ctx, path, "/blob", SB_CKPT_SEGMENT + 1000);
    sb_ckpt ck;
    CHECK(mc, sb_ckpt_open(&ck, ctx, path) == 0, "damaged: the header is fine");
    uint8_t *buf = malloc(BLOB_BYTES);
    int err = sb_ckpt_read(&ck, "/blob", SB_CKPT_U8, 0, BLOB_BYTES, buf);
    CHECK(mc, err == SB_ECKPT, "damaged: whole read returned %d", err);
    /* Only rank 0 touches the damaged segment: every rank must still fail. */
    uint64_t lo = ctx->rank == 0 ? SB_CKPT_SEGMENT + 999 : 0, n = ctx->rank == 0 ? 2 : 10;
    err = sb_ckpt_read(&ck, "/blob", SB_CKPT_U8, lo, n, buf);
    CHECK(mc, err == SB_ECKPT, "damaged: one rank's read returned %d", err);
    CHECK(mc, read_range(mc, &ck, 2 * SB_CKPT_SEGMENT, BLOB_BYTES, "damaged, other segments") == 0,
          "damaged: segments 2.. still verify");
    free(buf);
    sb_ckpt_close(&ck);
}

static void truncated_blob(mpicheck *mc, const sb_ctx *ctx, const char *good, const char *path)
{
    copy_file(ctx, good, path);
    if (ctx->rank == 0)
        CHECK(mc, truncate(path, BLOB_BYTES / 2) == 0, "truncate");
    MPI_Barrier(ctx->comm);
    sb_ckpt ck;
    int err = sb_ckpt_open(&ck, ctx, path);
    CHECK(mc, err == SB_ECKPT, "truncated: open returned %d", err);
}

/* SB_FAULT_CKPT_ENOSPC=1: the first checkpoint fails after its first datasets; the previous
 * checkpoint at the same path is untouched and no temporary file is left. */
static void fault_injection(mpicheck *mc, const sb_ctx *ctx, const char *path)
{
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    setenv(SB_CKPT_FAULT_ENV, "1", 1);
    sb_ckpt ck;
    int err = sb_ckpt_create(&ck, ctx, path, 1);
    uint64_t v[3] = {7, 8, 9};
    for (int i = 0; !err && i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "/d%d", i);
        err = sb_ckpt_write(&ck, name, SB_CKPT_U64, 3, 0, ctx->rank == 0 ? 3 : 0, v);
    }
    CHECK(mc, err == SB_EIO, "fault: returned %d", err);
    sb_ckpt_abort(&ck);
    unsetenv(SB_CKPT_FAULT_ENV);
    CHECK(mc, !file_exists(partial), "fault: temporary file left behind");
    read_blob_everywhere(mc, ctx, path, "after a failed write");
}

static void test_file_module(const env *e)
{
    mpicheck *mc = e->mc;
    const sb_ctx *ctx = e->ctx;
    char good[512], bad[512], partial[600];
    path_in(e, "blob.ckpt.h5", good, sizeof good);
    path_in(e, "bad.ckpt.h5", bad, sizeof bad);
    snprintf(partial, sizeof partial, "%s.partial", good);
    CHECK(mc, write_blob(ctx, good, false) == 0, "write blob");
    CHECK(mc, file_exists(good) && !file_exists(partial), "committed under the final name");
    read_blob_everywhere(mc, ctx, good, "all ranks");
    /* Fewer ranks read what more ranks wrote. */
    sb_ctx sub;
    MPI_Comm comm;
    bool in;
    sub_ctx(ctx, ctx->size > 1 ? ctx->size / 2 : 1, &sub, &comm, &in);
    if (in)
        read_blob_everywhere(mc, &sub, good, "sub-communicator");
    sub_free(&sub, &comm, in);
    damaged_blob(mc, ctx, good, bad);
    truncated_blob(mc, ctx, good, bad);
    CHECK(mc, write_blob(ctx, bad, true) == 0, "write a version-2 file");
    sb_ckpt ck;
    CHECK(mc, sb_ckpt_open(&ck, ctx, bad) == SB_ECKPT, "wrong format version refused");
    char missing[512];
    path_in(e, "missing.ckpt.h5", missing, sizeof missing);
    CHECK(mc, sb_ckpt_open(&ck, ctx, missing) == SB_ECKPT, "missing file refused");
    bool exists = true;
    CHECK(mc, sb_ckpt_exists(ctx, missing, &exists) == 0 && !exists, "exists: no");
    CHECK(mc, sb_ckpt_exists(ctx, good, &exists) == 0 && exists, "exists: yes");
    fault_injection(mc, ctx, good);
    CHECK(mc, sb_ckpt_remove(ctx, good) == 0 && !file_exists(good), "remove");
    CHECK(mc, sb_ckpt_remove(ctx, bad) == 0 && sb_ckpt_remove(ctx, missing) == 0, "remove others");
}

/* ---- the engines ---------------------------------------------------------------------------- */

typedef struct gcase {
    const char *family;
    int n, mode, stop_layer;
    bool distances;
    bool shm; /* full mode: node-shared blocks */
} gcase;

/* What must come out the same: everything but timings. */
typedef struct outcome {
    int err, nlayers;
    uint64_t sizes[128], num_states, edges, dist_sum, rows;
    bool completed;
    uint8_t last[64 * 16];
} outcome;

static void make_spec(sb_growth_spec *spec, const gcase *gc)
{
    memset(spec, 0, sizeof *spec);
    sb_diag d;
    sb_diag_init(&d);
    sb_genset_family(&spec->gens, gc->family, gc->n, -1, &d);
    sb_diag_free(&d);
    spec->mode = gc->mode;
    spec->max_layers = -1;
    spec->max_layer_size = -1;
    spec->store_last_layer = 16;
    spec->store_distances = gc->distances;
    spec->shared_memory = gc->shm;
}

/* A silent step controller that writes checkpoints to `path`. */
static sb_step step_for(const sb_ctx *ctx, const char *path)
{
    sb_step s;
    sb_step_init(&s, ctx, "growth", "layer");
    s.path = path;
    return s;
}

static outcome run(const sb_growth_spec *spec, const sb_ctx *ctx, sb_step *g)
{
    outcome o;
    memset(&o, 0, sizeof o);
    sb_growth_result r;
    memset(&r, 0, sizeof r);
    o.err = spec->mode == SB_MODE_FULL ? sb_growth_full(spec, ctx, g, &r)
                                       : sb_growth_frontier(spec, ctx, g, &r);
    o.nlayers = r.nlayers;
    for (int i = 0; i < r.nlayers && i < 128; i++)
        o.sizes[i] = r.layer_sizes[i];
    o.num_states = r.num_states;
    o.edges = r.edges;
    o.completed = r.completed;
    o.rows = r.last_layer_rows;
    if (ctx->rank == 0 && r.last_layer)
        memcpy(o.last, r.last_layer, r.last_layer_rows * (uint64_t)r.m);
    uint64_t local = 0;
    for (uint64_t i = 0; i < r.dist_count; i++)
        local += sb_mix64((r.dist_offset + i) * 1000 + r.distances[i]);
    MPI_Allreduce(&local, &o.dist_sum, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    sb_growth_result_free(&r);
    return o;
}

static void same(mpicheck *mc, const outcome *want, const outcome *got, const sb_ctx *ctx,
                 const char *what)
{
    CHECK(mc, got->err == 0, "%s: returned %d", what, got->err);
    CHECK(mc, got->nlayers == want->nlayers, "%s: %d layers, want %d", what, got->nlayers,
          want->nlayers);
    CHECK(mc, !memcmp(got->sizes, want->sizes, sizeof got->sizes), "%s: layer sizes", what);
    CHECK(mc, got->num_states == want->num_states && got->completed == want->completed,
          "%s: num_states/completed", what);
    CHECK(mc, got->edges == want->edges, "%s: edges %" PRIu64 ", want %" PRIu64, what, got->edges,
          want->edges);
    CHECK(mc, got->dist_sum == want->dist_sum, "%s: distance table", what);
    CHECK(mc, got->rows == want->rows, "%s: last layer rows", what);
    if (ctx->rank == 0)
        CHECK(mc, !memcmp(got->last, want->last, sizeof got->last), "%s: last layer", what);
}

/* Stops a run after gc->stop_layer, writing `path`; SB_ESIGNAL expected. */
static void stop_at(mpicheck *mc, const sb_growth_spec *spec, const sb_ctx *ctx, const char *path,
                    int layer, const char *what)
{
    sb_step g = step_for(ctx, path);
    g.stop_after = layer;
    outcome o = run(spec, ctx, &g);
    CHECK(mc, o.err == SB_ESIGNAL, "%s: stopped run returned %d", what, o.err);
    CHECK(mc, g.written == 1 && o.nlayers == layer + 1, "%s: %d checkpoints, %d layers", what,
          g.written, o.nlayers);
}

static outcome resume_from(const sb_growth_spec *spec, const sb_ctx *ctx, const char *path,
                           int *resumed_layer)
{
    sb_ckpt ck;
    outcome o;
    memset(&o, 0, sizeof o);
    o.err = sb_ckpt_open(&ck, ctx, path);
    if (o.err)
        return o;
    sb_step g = step_for(ctx, path);
    g.resume = &ck;
    o = run(spec, ctx, &g);
    *resumed_layer = (int)g.resumed_step;
    sb_ckpt_close(&ck);
    return o;
}

static void check_resume(const env *e, const sb_growth_spec *spec, const outcome *want,
                         const sb_ctx *ctx, const char *path, int layer, const char *what)
{
    int resumed = -2;
    outcome o = resume_from(spec, ctx, path, &resumed);
    same(e->mc, want, &o, ctx, what);
    CHECK(e->mc, resumed == layer, "%s: resumed at layer %d, want %d", what, resumed, layer);
}

/* Damaged engine data: a flipped byte in the engine's array is refused, never used. */
static void check_damaged(const env *e, const sb_growth_spec *spec, const char *good,
                          const char *dset)
{
    char bad[512];
    path_in(e, "engine-bad.ckpt.h5", bad, sizeof bad);
    copy_file(e->ctx, good, bad);
    flip_byte(e->ctx, bad, dset, 3);
    int resumed = -2;
    outcome o = resume_from(spec, e->ctx, bad, &resumed);
    CHECK(e->mc, o.err == SB_ECKPT, "damaged %s: resume returned %d", dset, o.err);
    sb_ckpt_remove(e->ctx, bad);
}

static void test_engine(const env *e, const gcase *gc)
{
    const sb_ctx *ctx = e->ctx;
    char what[160], path[512], one[512];
    snprintf(what, sizeof what, "%s%s %s n=%d%s", gc->mode == SB_MODE_FULL ? "full" : "frontier",
             gc->shm ? "-shared" : "", gc->family, gc->n, gc->distances ? " +distances" : "");
    path_in(e, "engine.ckpt.h5", path, sizeof path);
    path_in(e, "engine-one.ckpt.h5", one, sizeof one);
    sb_growth_spec spec;
    make_spec(&spec, gc);
    outcome want = run(&spec, ctx, NULL);
    CHECK(e->mc, want.err == 0 && want.nlayers > gc->stop_layer + 1, "%s: reference run", what);

    stop_at(e->mc, &spec, ctx, path, gc->stop_layer, what);
    check_resume(e, &spec, &want, ctx, path, gc->stop_layer, what);
    /* On fewer ranks. */
    sb_ctx sub;
    MPI_Comm comm;
    bool in;
    sub_ctx(ctx, ctx->size > 1 ? ctx->size / 2 : 1, &sub, &comm, &in);
    if (in)
        check_resume(e, &spec, &want, &sub, path, gc->stop_layer, "fewer ranks");
    sub_free(&sub, &comm, in);
    /* Written by one rank, resumed on all. */
    sub_ctx(ctx, 1, &sub, &comm, &in);
    if (in)
        stop_at(e->mc, &spec, &sub, one, gc->stop_layer + 1, "one rank");
    sub_free(&sub, &comm, in);
    MPI_Barrier(ctx->comm);
    check_resume(e, &spec, &want, ctx, one, gc->stop_layer + 1, "more ranks");
    check_damaged(e, &spec, path, gc->mode == SB_MODE_FULL ? "/full/bits" : "/frontier/cur");
    sb_ckpt_remove(ctx, path);
    sb_ckpt_remove(ctx, one);
    sb_genset_free(&spec.gens);
}

/* A signal on the last rank only: every rank stops at the first layer boundary, with a
 * checkpoint, and knows which signal it was. */
static void test_signal(const env *e)
{
    const sb_ctx *ctx = e->ctx;
    char path[512];
    path_in(e, "signal.ckpt.h5", path, sizeof path);
    gcase gc = {"lrx", 8, SB_MODE_FULL, 0, false, true};
    sb_growth_spec spec;
    make_spec(&spec, &gc);
    sb_signals *sig = NULL;
    CHECK(e->mc, sb_signals_install(&sig) == 0, "install handlers");
    if (ctx->rank == ctx->size - 1)
        raise(SIGUSR1);
    CHECK(e->mc, sb_signals_caught() == (ctx->rank == ctx->size - 1 ? SIGUSR1 : 0), "caught");
    sb_step g = step_for(ctx, path);
    outcome o = run(&spec, ctx, &g);
    sb_signals_restore(sig);
    sb_signals_clear();
    CHECK(e->mc, o.err == SB_ESIGNAL && o.nlayers == 2, "signal: returned %d after %d layers",
          o.err, o.nlayers);
    CHECK(e->mc, g.stopped_by == SIGUSR1 && g.written == 1, "signal: stopped by %d", g.stopped_by);
    bool exists = false;
    CHECK(e->mc, sb_ckpt_exists(ctx, path, &exists) == 0 && exists, "signal: checkpoint written");
    sb_ckpt_remove(ctx, path);
    sb_genset_free(&spec.gens);
}

/* Timed checkpoints: with every = 1e-9 s, one at every layer boundary. */
static void test_interval(const env *e)
{
    char path[512];
    path_in(e, "every.ckpt.h5", path, sizeof path);
    gcase gc = {"lrx", 7, SB_MODE_FRONTIER, 0, false, false};
    sb_growth_spec spec;
    make_spec(&spec, &gc);
    sb_step g = step_for(e->ctx, path);
    g.every = 1e-9;
    outcome o = run(&spec, e->ctx, &g);
    CHECK(e->mc, o.err == 0 && g.written == o.nlayers - 1, "interval: %d checkpoints, %d layers",
          g.written, o.nlayers);
    sb_ckpt_remove(e->ctx, path);
    sb_genset_free(&spec.gens);
}

/* The multi-node paths (ctest runs this at 4 ranks as SB_TEST_NODES=2 and 4): the context sees
 * the pseudo-nodes, full mode shares its blocks within a node and sends marks to the other
 * nodes through the exchange (and only then), and the answer is the one of a single rank. */
static void test_nodes(const env *e)
{
    const sb_ctx *ctx = e->ctx;
    const char *nodes = getenv(SB_TEST_NODES_ENV);
    if (nodes) {
        int k = atoi(nodes), per = (ctx->size + k - 1) / k;
        CHECK(e->mc, ctx->num_nodes == (ctx->size + per - 1) / per, "SB_TEST_NODES=%s: %d nodes",
              nodes, ctx->num_nodes);
    }
    const gcase gc = {"lrx", 9, SB_MODE_FULL, 0, false, true};
    sb_growth_spec spec;
    make_spec(&spec, &gc);
    sb_growth_result r;
    memset(&r, 0, sizeof r);
    CHECK(e->mc, sb_growth_full(&spec, ctx, NULL, &r) == 0, "nodes: full run");
    CHECK(e->mc, r.shared_memory == (ctx->num_nodes < ctx->size),
          "nodes: shared_memory %d, %d nodes", r.shared_memory, ctx->num_nodes);
    uint64_t total = 0;
    MPI_Allreduce(&r.exchange_bytes, &total, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    CHECK(e->mc, (total > 0) == (ctx->num_nodes > 1),
          "nodes: %" PRIu64 " bytes exchanged on %d nodes", total, ctx->num_nodes);
    /* (Not per rank: which rank of a node scans a task of the shared scan is a race.) */
    /* the same layers as one rank alone */
    uint64_t want[128] = {0};
    int nwant = 0;
    sb_ctx sub;
    MPI_Comm comm;
    bool in;
    sub_ctx(ctx, 1, &sub, &comm, &in);
    if (in) {
        sb_growth_result one;
        memset(&one, 0, sizeof one);
        CHECK(e->mc, sb_growth_full(&spec, &sub, NULL, &one) == 0, "nodes: one-rank run");
        nwant = one.nlayers < 128 ? one.nlayers : 128;
        memcpy(want, one.layer_sizes, (size_t)nwant * sizeof *want);
        sb_growth_result_free(&one);
    }
    sub_free(&sub, &comm, in);
    MPI_Bcast(&nwant, 1, MPI_INT, 0, ctx->comm);
    MPI_Bcast(want, 128, MPI_UINT64_T, 0, ctx->comm);
    CHECK(e->mc, r.nlayers == nwant && !memcmp(r.layer_sizes, want, (size_t)nwant * sizeof *want),
          "nodes: %d layers, one rank %d, or different sizes", r.nlayers, nwant);
    sb_growth_result_free(&r);
    sb_genset_free(&spec.gens);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    sb_ctx_init(&ctx, MPI_COMM_WORLD);
    mpicheck mc = {.rank = ctx.rank};
    env e = {.mc = &mc, .ctx = &ctx};
    if (ctx.rank == 0) {
        snprintf(e.dir, sizeof e.dir, "%s/sb-ckpt-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(e.dir))
            e.dir[0] = '\0';
    }
    MPI_Bcast(e.dir, sizeof e.dir, MPI_CHAR, 0, ctx.comm);
    CHECK(&mc, e.dir[0] != '\0', "scratch folder");

    test_file_module(&e);
    test_nodes(&e);
    const gcase cases[] = {
        {"lrx", 9, SB_MODE_FULL, 10, true, false},
        {"lrx", 9, SB_MODE_FULL, 12, true, true},
        {"pancake", 7, SB_MODE_FULL, 3, false, false},
        {"pancake", 7, SB_MODE_FULL, 4, false, true},
        {"lrx", 8, SB_MODE_FRONTIER, 9, false, false},
        {"lx", 7, SB_MODE_FRONTIER, 6, false, false}, /* directed: every earlier layer kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        test_engine(&e, &cases[i]);
    test_signal(&e);
    test_interval(&e);

    MPI_Barrier(ctx.comm);
    if (ctx.rank == 0)
        rmdir(e.dir);
    int rc = mpicheck_finish(&mc, ctx.comm, "test_ckpt");
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
