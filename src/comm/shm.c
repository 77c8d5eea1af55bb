/* Node-shared memory segments: one MPI-3 shared window per allocation, with every rank's
 * segment pointer looked up once, indexed by world rank. */
#include "symbatch/comm.h"
#include "symbatch/error.h"

#include <stdlib.h>
#include <string.h>

struct sb_shm {
    MPI_Win win;
    int locked;
    void **base; /* per world rank; NULL off this node */
    size_t bytes;
};

/* World ranks of the ranks on this node, in node-rank order. */
static int node_world_ranks(const sb_ctx *ctx, int *world)
{
    MPI_Group node, all;
    int *idx = malloc((size_t)ctx->node_size * sizeof *idx);
    if (!idx)
        return SB_ENOMEM;
    for (int i = 0; i < ctx->node_size; i++)
        idx[i] = i;
    int rc = MPI_Comm_group(ctx->node_comm, &node);
    if (rc == MPI_SUCCESS && (rc = MPI_Comm_group(ctx->comm, &all)) == MPI_SUCCESS) {
        rc = MPI_Group_translate_ranks(node, ctx->node_size, idx, all, world);
        MPI_Group_free(&all);
    }
    if (node != MPI_GROUP_NULL)
        MPI_Group_free(&node);
    free(idx);
    return rc == MPI_SUCCESS ? 0 : SB_EMPI;
}

static int map_segments(sb_shm *s, const sb_ctx *ctx)
{
    int *world = malloc((size_t)ctx->node_size * sizeof *world);
    int err = world ? node_world_ranks(ctx, world) : SB_ENOMEM;
    for (int i = 0; i < ctx->node_size && !err; i++) {
        MPI_Aint size;
        int disp;
        void *p = NULL;
        if (MPI_Win_shared_query(s->win, i, &size, &disp, &p) != MPI_SUCCESS)
            err = SB_EMPI;
        else
            s->base[world[i]] = p;
    }
    free(world);
    return err;
}

int sb_shm_create(sb_shm **out, const sb_ctx *ctx, size_t bytes)
{
    *out = NULL;
    sb_shm *s = calloc(1, sizeof *s);
    int err = s && (s->base = calloc((size_t)ctx->size, sizeof *s->base)) ? 0 : SB_ENOMEM;
    err = sb_ctx_agree(ctx, err);
    if (err) {
        free(s ? s->base : NULL);
        free(s);
        return err;
    }
    s->win = MPI_WIN_NULL;
    s->bytes = bytes ? bytes : 8;
    /* Separate segments: each may start on its own page, and nothing assumes adjacency. */
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    void *mine = NULL;
    /* An allocation failure must not abort the job: errors are returned for this call. */
    MPI_Comm_set_errhandler(ctx->node_comm, MPI_ERRORS_RETURN);
    int rc = MPI_Win_allocate_shared((MPI_Aint)s->bytes, 1, info, ctx->node_comm, &mine, &s->win);
    MPI_Info_free(&info);
    err = rc == MPI_SUCCESS ? 0 : SB_ENOMEM;
    if (!err)
        err = map_segments(s, ctx);
    if (!err && MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win) != MPI_SUCCESS)
        err = SB_EMPI;
    s->locked = !err;
    if (!err)
        memset(mine, 0, s->bytes);
    err = sb_ctx_agree(ctx, err);
    if (err) {
        sb_shm_destroy(s);
        return err;
    }
    sb_shm_sync(s);
    *out = s;
    return 0;
}

void sb_shm_destroy(sb_shm *s)
{
    if (!s)
        return;
    if (s->locked)
        MPI_Win_unlock_all(s->win);
    if (s->win != MPI_WIN_NULL)
        MPI_Win_free(&s->win);
    free(s->base);
    free(s);
}

void *sb_shm_segment(const sb_shm *s, int rank)
{
    return s->base[rank];
}

void sb_shm_sync(sb_shm *s)
{
    MPI_Win_sync(s->win);
}
