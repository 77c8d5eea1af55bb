#include "symbatch/comm.h"
#include "symbatch/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SB_TEST_NODES as a number of pseudo-nodes: 0 when unset, -1 when not an integer 1..size. */
static int test_nodes(int size)
{
    const char *s = getenv(SB_TEST_NODES_ENV);
    if (!s)
        return 0;
    char *end;
    errno = 0;
    long k = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || k < 1 || k > size)
        return -1;
    return (int)k;
}

/* The node communicator: the ranks of this shared-memory node, cut into consecutive runs of
 * ceil(size / K) world ranks when SB_TEST_NODES=K asks for pseudo-nodes (every pseudo-node
 * then lies within one real node, so shared windows keep working). */
static int split_nodes(sb_ctx *ctx, int k)
{
    MPI_Comm real = MPI_COMM_NULL;
    int rc = MPI_Comm_split_type(ctx->comm, MPI_COMM_TYPE_SHARED, ctx->rank, MPI_INFO_NULL, &real);
    if (rc != MPI_SUCCESS)
        return SB_EMPI;
    if (k == 0) {
        ctx->node_comm = real;
    } else {
        int per = (ctx->size + k - 1) / k;
        rc = MPI_Comm_split(real, ctx->rank / per, ctx->rank, &ctx->node_comm);
        if (MPI_Comm_free(&real) != MPI_SUCCESS || rc != MPI_SUCCESS)
            return SB_EMPI;
    }
    rc = MPI_Comm_set_errhandler(ctx->node_comm, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_rank(ctx->node_comm, &ctx->node_rank);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_size(ctx->node_comm, &ctx->node_size);
    return rc == MPI_SUCCESS ? 0 : SB_EMPI;
}

int sb_ctx_init(sb_ctx *ctx, MPI_Comm parent)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->comm = MPI_COMM_NULL;
    ctx->node_comm = MPI_COMM_NULL;
    ctx->err = stderr;
    if (MPI_Comm_dup(parent, &ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    /* Errors come back as values (SB_EMPI) instead of aborting the job; communicators made
     * from this one inherit the handler. */
    int rc = MPI_Comm_set_errhandler(ctx->comm, MPI_ERRORS_RETURN);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_rank(ctx->comm, &ctx->rank);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_size(ctx->comm, &ctx->size);
    if (rc != MPI_SUCCESS) {
        sb_ctx_free(ctx);
        return SB_EMPI;
    }
    /* The variable may differ between ranks: agree before the collective splits. */
    int k = test_nodes(ctx->size);
    int err = sb_ctx_agree(ctx, k < 0 ? SB_EINPUT : 0);
    if (err == SB_EPEER)
        err = SB_EINPUT; /* the same verdict on every rank */
    if (!err)
        err = sb_ctx_agree(ctx, split_nodes(ctx, k));
    int leader = ctx->node_rank == 0;
    if (!err &&
        MPI_Allreduce(&leader, &ctx->num_nodes, 1, MPI_INT, MPI_SUM, ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    if (err) {
        sb_ctx_free(ctx);
        return err;
    }
    return SB_OK;
}

int sb_ctx_free(sb_ctx *ctx)
{
    int err = 0;
    if (ctx->node_comm != MPI_COMM_NULL && MPI_Comm_free(&ctx->node_comm) != MPI_SUCCESS)
        err = SB_EMPI;
    if (ctx->comm != MPI_COMM_NULL && MPI_Comm_free(&ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    return err;
}

int sb_ctx_agree(const sb_ctx *ctx, int local_err)
{
    int worst = local_err;
    if (MPI_Allreduce(&local_err, &worst, 1, MPI_INT, MPI_MIN, ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    if (worst < 0 && local_err == 0)
        return SB_EPEER;
    return local_err < 0 ? local_err : worst;
}

/* Rank 0 writes the deduplicated, comma-separated names of `all` (size names) into buf. */
static void join_hosts(const char *all, int size, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int r = 0; r < size; r++) {
        const char *h = all + (size_t)r * MPI_MAX_PROCESSOR_NAME;
        int seen = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = strcmp(h, all + (size_t)q * MPI_MAX_PROCESSOR_NAME) == 0;
        if (seen)
            continue;
        size_t hl = strlen(h);
        if (used + hl + 2 > cap)
            break;
        if (used)
            buf[used++] = ',';
        memcpy(buf + used, h, hl + 1);
        used += hl;
    }
}

int sb_ctx_hosts(const sb_ctx *ctx, char *buf, size_t size)
{
    char name[MPI_MAX_PROCESSOR_NAME] = {0};
    int len = 0;
    int err = MPI_Get_processor_name(name, &len) == MPI_SUCCESS ? 0 : SB_EMPI;
    char *all = NULL;
    if (ctx->rank == 0 && !(all = calloc((size_t)ctx->size, MPI_MAX_PROCESSOR_NAME)))
        err = SB_ENOMEM;
    err = sb_ctx_agree(ctx, err); /* nobody sends to a root without a buffer */
    if (!err && MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME,
                           MPI_CHAR, 0, ctx->comm) != MPI_SUCCESS)
        err = SB_EMPI;
    if (ctx->rank == 0 && !err)
        join_hosts(all, ctx->size, buf, size);
    free(all);
    return err;
}
