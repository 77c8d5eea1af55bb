/* The puzzle a grpo policy learns: moves, the goal, and start states at a chosen difficulty.
 *
 * With a growth distance table (/growth/distances: one byte per state by rank) start states are
 * drawn uniformly among the states at an exact distance d.  There is no per-state index: the
 * table is cut into blocks of SB_GRPO_BLOCK states, cumulative counts per block and distance
 * locate the block of the k-th state at distance d by binary search, and a scan of that block
 * finds it.  The table lives once per node in shared memory (each rank of the node reads a
 * slice of the file into the node's array), so that LRX S_12's 4.8e8-byte table fits a node
 * however many ranks it runs; without shared memory each rank keeps a private copy.
 *
 * Without a table, a start state is the end of a random walk of d moves from the central state
 * (its true distance can be shorter: the result says so). */
#include "grpo/grpo_impl.h"

#include "io/h5err.h"
#include "symbatch/core.h"
#include "symbatch/error.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading the table ----------------------------------------------------------------------- */

/* Bytes [off, off + count) of /growth/distances into buf (serial HDF5, read-only). */
static int read_slice(const char *path, uint64_t off, uint64_t count, uint8_t *buf)
{
    if (count == 0)
        return 0;
    sb_h5_quiet q = sb_h5_quiet_begin();
    int rc = SB_EIO;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = f >= 0 ? H5Dopen2(f, "/growth/distances", H5P_DEFAULT) : H5I_INVALID_HID;
    hid_t fs = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hsize_t start = off, n = count;
    hid_t ms = H5Screate_simple(1, &n, NULL);
    if (fs >= 0 && ms >= 0 &&
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &n, NULL) >= 0 &&
        H5Dread(d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, buf) >= 0)
        rc = 0;
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    if (d >= 0)
        H5Dclose(d);
    if (f >= 0)
        H5Fclose(f);
    sb_h5_quiet_end(q);
    return rc;
}

/* Node-shared: node rank r holds slice r of the table; the slices are adjacent, one array. */
static int load_shared(sb_grpo_env *e, const char *path, const sb_ctx *ctx)
{
    const uint64_t N = e->nstates, ns = (uint64_t)ctx->node_size, r = (uint64_t)ctx->node_rank;
    const uint64_t lo = N * r / ns, hi = N * (r + 1) / ns;
    struct sb_shm *shm = NULL;
    int err = sb_shm_create(&shm, ctx, (size_t)(hi - lo));
    if (err)
        return err;
    uint8_t *base = N > 0 ? sb_shm_node_array(shm) : NULL;
    err = sb_ctx_agree(ctx, base || N == 0 ? 0 : SB_ENOMEM);
    if (!err)
        err = sb_ctx_agree_report(ctx, read_slice(path, lo, hi - lo, base + lo),
                                  "cannot read /growth/distances of the table");
    sb_shm_sync(shm);
    if (!err && MPI_Barrier(ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    sb_shm_sync(shm);
    if (err) {
        sb_shm_destroy(shm);
        return err;
    }
    e->shm = shm;
    e->dist = base;
    e->shared = true;
    return 0;
}

static int load_private(sb_grpo_env *e, const char *path, const sb_ctx *ctx)
{
    e->priv = malloc(e->nstates ? e->nstates : 1);
    int err = sb_ctx_agree_report(ctx, e->priv ? 0 : SB_ENOMEM,
                                  "no memory for a private copy of the distance table");
    if (!err)
        err = sb_ctx_agree_report(ctx, read_slice(path, 0, e->nstates, e->priv),
                                  "cannot read /growth/distances of the table");
    e->dist = e->priv;
    return err;
}

/* Cumulative counts per block of the distances [dlo, dhi]. */
static int count_blocks(sb_grpo_env *e, const sb_ctx *ctx)
{
    const int nd = e->dhi - e->dlo + 1;
    e->nblocks = (e->nstates + SB_GRPO_BLOCK - 1) / SB_GRPO_BLOCK;
    e->cum = calloc((size_t)nd, sizeof *e->cum);
    int err = e->cum ? 0 : SB_ENOMEM;
    for (int i = 0; i < nd && !err; i++)
        if (!(e->cum[i] = calloc(e->nblocks + 1, sizeof **e->cum)))
            err = SB_ENOMEM;
    err = sb_ctx_agree_report(ctx, err, "no memory for the distance counts");
    for (uint64_t b = 0; b < e->nblocks && !err; b++) {
        uint64_t hist[256] = {0};
        uint64_t end = (b + 1) * SB_GRPO_BLOCK < e->nstates ? (b + 1) * SB_GRPO_BLOCK : e->nstates;
        for (uint64_t s = b * SB_GRPO_BLOCK; s < end; s++)
            hist[e->dist[s]]++;
        for (int i = 0; i < nd; i++)
            e->cum[i][b + 1] = e->cum[i][b] + hist[e->dlo + i];
    }
    return err;
}

static int open_table(sb_grpo_env *e, const sb_grpo_spec *spec, const sb_ctx *ctx)
{
    char why[256] = "";
    const double t = sb_now();
    int err = sb_space_init(&e->space, e->central, e->m, e->ngens, e->perm, why, sizeof why);
    e->space_init = err == 0;
    err = sb_ctx_agree_report(ctx, err, why);
    if (err)
        return err;
    e->nstates = e->space.size;
    e->has_table = true;
    /* One copy per node; a node without room for it falls back to private copies. */
    if (load_shared(e, spec->table_path, ctx) != 0) {
        if (ctx->rank == 0)
            fprintf(ctx->err, "symbatch: note: no node-shared memory for the distance table; "
                              "every rank reads its own copy\n");
        err = load_private(e, spec->table_path, ctx);
    }
    if (!err)
        err = count_blocks(e, ctx);
    e->read_seconds = sb_now() - t;
    return err;
}

int sb_grpo_env_open(sb_grpo_env *e, const sb_grpo_spec *spec, const sb_ctx *ctx, int dlo, int dhi)
{
    memset(e, 0, sizeof *e);
    const sb_genset *gs = &spec->env.gens;
    e->m = gs->m;
    e->ngens = gs->ngens;
    e->perm = gs->perm;
    e->dlo = dlo;
    e->dhi = dhi;
    e->encoding = spec->encoding;
    sb_growth_central(&spec->env, e->central);
    bool seen[256] = {false};
    for (int i = 0; i < e->m; i++)
        seen[e->central[i]] = true;
    for (int v = 0; v < 256; v++)
        if (seen[v])
            e->value_col[v] = (uint8_t)e->nvalues++;
    if (!spec->distances_from)
        return 0;
    return open_table(e, spec, ctx);
}

void sb_grpo_env_close(sb_grpo_env *e)
{
    if (e->cum)
        for (int i = 0; i <= e->dhi - e->dlo; i++)
            free(e->cum[i]);
    free(e->cum);
    if (e->shm)
        sb_shm_destroy(e->shm);
    free(e->priv);
    if (e->space_init)
        sb_space_free(&e->space);
    memset(e, 0, sizeof *e);
}

/* ---- start states -----------------------------------------------------------------------------
 */

uint64_t sb_grpo_env_count(const sb_grpo_env *e, int d)
{
    if (!e->has_table || d < e->dlo || d > e->dhi)
        return 0;
    return e->cum[d - e->dlo][e->nblocks];
}

/* The rank of the k-th state (from 0) at distance d. */
static uint64_t kth_state(const sb_grpo_env *e, int d, uint64_t k)
{
    const uint64_t *cum = e->cum[d - e->dlo];
    uint64_t lo = 0, hi = e->nblocks; /* cum[lo] <= k < cum[hi] */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (cum[mid] <= k)
            lo = mid;
        else
            hi = mid;
    }
    uint64_t left = k - cum[lo], s = lo * SB_GRPO_BLOCK;
    for (;; s++)
        if (e->dist[s] == d && left-- == 0)
            return s;
}

void sb_grpo_env_sample(const sb_grpo_env *e, int d, uint64_t seed, uint64_t stream, uint64_t pos,
                        uint8_t *state)
{
    /* Position pos owns the numbers [pos * 256, pos * 256 + 256): one per move of a walk. */
    const uint64_t at = pos << 8;
    uint64_t total = sb_grpo_env_count(e, d);
    if (total > 0) {
        uint64_t k = (uint64_t)(((unsigned __int128)sb_rand64(seed, stream, at) * total) >> 64);
        uint64_t words[SB_MAX_WORDS];
        sb_space_unrank(&e->space, kth_state(e, d, k), words);
        sb_codec_unpack(&e->space.codec, words, state);
        return;
    }
    uint8_t next[SB_MAX_ELEMS];
    memcpy(state, e->central, (size_t)e->m);
    for (int j = 0; j < d; j++) {
        int g = (int)(((unsigned __int128)sb_rand64(seed, stream, at + 1 + (uint64_t)j) *
                       (uint64_t)e->ngens) >>
                      64);
        sb_grpo_env_move(e, g, state, next);
        memcpy(state, next, (size_t)e->m);
    }
}

int sb_grpo_env_distance(const sb_grpo_env *e, const uint8_t *state)
{
    if (!e->has_table)
        return -1;
    uint64_t words[SB_MAX_WORDS];
    sb_codec_pack(&e->space.codec, state, words);
    uint64_t r = sb_space_rank(&e->space, words);
    return r < e->nstates ? e->dist[r] : -1;
}
