/* Node-shared memory segments: one MPI-3 shared window per allocation.  Segments are allocated
 * contiguously (the MPI default), so when the node's ranks are consecutive world ranks the
 * segments form one array in rank order; every segment pointer is looked up once. */
#include "symbatch/comm.h"
#include "symbatch/error.h"

#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

struct sb_shm {
    MPI_Win win;
    int locked;
    void **base; /* per world rank; NULL off this node */
    void *node;  /* the node's segments as one array, or NULL */
    size_t bytes;
};

/* World ranks of the ranks on this node, in node-rank order. */
static int node_world_ranks(const sb_ctx *ctx, int *world)
{
    MPI_Group node = MPI_GROUP_NULL, all;
    int *idx = malloc((size_t)ctx->node_size * sizeof *idx);
    if (!idx)
        return SB_ENOMEM;
    for (int i = 0; i < ctx->node_size; i++)
        idx[i] = i;
    int rc = MPI_Comm_group(ctx->node_comm, &node);
    if (rc == MPI_SUCCESS && (rc = MPI_Comm_group(ctx->comm, &all)) == MPI_SUCCESS) {
        rc = MPI_Group_translate_ranks(node, ctx->node_size, idx, all, world);
        if (MPI_Group_free(&all) != MPI_SUCCESS)
            rc = MPI_ERR_GROUP;
    }
    if (node != MPI_GROUP_NULL && MPI_Group_free(&node) != MPI_SUCCESS)
        rc = MPI_ERR_GROUP;
    free(idx);
    return rc == MPI_SUCCESS ? 0 : SB_EMPI;
}

/* Looks up every segment; `node` is set when they lie back to back in node-rank order. */
static int map_segments(sb_shm *s, const sb_ctx *ctx)
{
    int *world = malloc((size_t)ctx->node_size * sizeof *world);
    int err = world ? node_world_ranks(ctx, world) : SB_ENOMEM;
    unsigned char *first = NULL, *end = NULL;
    int adjacent = 1;
    for (int i = 0; i < ctx->node_size && !err; i++) {
        MPI_Aint size;
        int disp;
        void *p = NULL;
        if (MPI_Win_shared_query(s->win, i, &size, &disp, &p) != MPI_SUCCESS) {
            err = SB_EMPI;
            break;
        }
        s->base[world[i]] = p;
        if (size == 0)
            continue;
        if (!first)
            first = p;
        else if ((unsigned char *)p != end)
            adjacent = 0;
        end = (unsigned char *)p + size;
    }
    s->node = adjacent ? first : NULL;
    free(world);
    return err;
}

/* Whether /dev/shm (where Open MPI backs shared windows) has room for the node's segments:
 * touching pages of an overfull tmpfs would kill the job with SIGBUS instead of failing.
 * Returns 0 when there is room, SB_ENOMEM when not, SB_EMPI when the node could not count. */
static int room_on_node(const sb_ctx *ctx, size_t bytes)
{
    uint64_t mine = bytes, total = 0;
    if (MPI_Allreduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, ctx->node_comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (getenv(SB_SHM_FAULT_ENV))
        return SB_ENOMEM;
    struct statvfs st;
    if (statvfs("/dev/shm", &st) != 0)
        return 0; /* no /dev/shm: the MPI library backs the window some other way */
    return (uint64_t)st.f_bavail * st.f_frsize >= total + (total >> 4) + (64u << 20) ? 0
                                                                                     : SB_ENOMEM;
}

int sb_shm_create(sb_shm **out, const sb_ctx *ctx, size_t bytes)
{
    *out = NULL;
    sb_shm *s = calloc(1, sizeof *s);
    int err = s && (s->base = calloc((size_t)ctx->size, sizeof *s->base)) ? 0 : SB_ENOMEM;
    /* Every rank counts the node's bytes (collective over the node), even after a failure. */
    int room = room_on_node(ctx, bytes);
    err = sb_ctx_agree(ctx, err ? err : room);
    if (err) {
        free(s ? s->base : NULL);
        free(s);
        return err;
    }
    s->win = MPI_WIN_NULL;
    s->bytes = bytes;
    void *mine = NULL;
    /* An allocation failure does not abort the job: ctx->node_comm returns errors (sb_ctx_init),
     * and so does the window, which does not inherit the communicator's handler. */
    int rc =
        MPI_Win_allocate_shared((MPI_Aint)bytes, 1, MPI_INFO_NULL, ctx->node_comm, &mine, &s->win);
    err = rc == MPI_SUCCESS ? 0 : SB_ENOMEM;
    if (err)
        s->win = MPI_WIN_NULL; /* nothing to free */
    if (!err && MPI_Win_set_errhandler(s->win, MPI_ERRORS_RETURN) != MPI_SUCCESS)
        err = SB_EMPI;
    if (!err)
        err = map_segments(s, ctx);
    if (!err && MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win) != MPI_SUCCESS)
        err = SB_EMPI;
    s->locked = !err;
    if (!err && bytes)
        memset(mine, 0, bytes);
    /* the zeroing is published before the collective and seen after it */
    if (!err)
        err = sb_shm_sync(s);
    err = sb_ctx_agree(ctx, err);
    if (!err)
        err = sb_ctx_agree(ctx, sb_shm_sync(s));
    if (err) {
        sb_shm_destroy(s);
        return err;
    }
    *out = s;
    return 0;
}

int sb_shm_destroy(sb_shm *s)
{
    if (!s)
        return 0;
    int err = 0;
    if (s->locked && MPI_Win_unlock_all(s->win) != MPI_SUCCESS)
        err = SB_EMPI;
    /* freed even so: MPI_Win_free is collective over the node, whose other ranks call it */
    if (s->win != MPI_WIN_NULL && MPI_Win_free(&s->win) != MPI_SUCCESS)
        err = SB_EMPI;
    free(s->base);
    free(s);
    return err;
}

void *sb_shm_segment(const sb_shm *s, int rank)
{
    return s->base[rank];
}

void *sb_shm_node_array(const sb_shm *s)
{
    return s->node;
}

int sb_shm_sync(sb_shm *s)
{
    return MPI_Win_sync(s->win) == MPI_SUCCESS ? 0 : SB_EMPI;
}
