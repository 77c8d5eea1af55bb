#include "symbatch/comm.h"
#include "symbatch/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_ctx_init(sb_ctx *ctx, MPI_Comm parent)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->comm = MPI_COMM_NULL;
    ctx->node_comm = MPI_COMM_NULL;
    ctx->err = stderr;
    if (MPI_Comm_dup(parent, &ctx->comm) != MPI_SUCCESS)
        return SB_EMPI;
    MPI_Comm_rank(ctx->comm, &ctx->rank);
    MPI_Comm_size(ctx->comm, &ctx->size);
    if (MPI_Comm_split_type(ctx->comm, MPI_COMM_TYPE_SHARED, ctx->rank, MPI_INFO_NULL,
                            &ctx->node_comm) != MPI_SUCCESS) {
        sb_ctx_free(ctx);
        return SB_EMPI;
    }
    MPI_Comm_rank(ctx->node_comm, &ctx->node_rank);
    MPI_Comm_size(ctx->node_comm, &ctx->node_size);
    int leader = ctx->node_rank == 0;
    MPI_Allreduce(&leader, &ctx->num_nodes, 1, MPI_INT, MPI_SUM, ctx->comm);
    return SB_OK;
}

void sb_ctx_free(sb_ctx *ctx)
{
    if (ctx->node_comm != MPI_COMM_NULL)
        MPI_Comm_free(&ctx->node_comm);
    if (ctx->comm != MPI_COMM_NULL)
        MPI_Comm_free(&ctx->comm);
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

int sb_ctx_hosts(const sb_ctx *ctx, char *buf, size_t size)
{
    char name[MPI_MAX_PROCESSOR_NAME] = {0};
    int len = 0;
    MPI_Get_processor_name(name, &len);
    char *all = NULL;
    if (ctx->rank == 0) {
        all = calloc((size_t)ctx->size, MPI_MAX_PROCESSOR_NAME);
    }
    int err = (ctx->rank == 0 && !all) ? SB_ENOMEM : 0;
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all,
               ctx->rank == 0 && all ? MPI_MAX_PROCESSOR_NAME : 0, MPI_CHAR, 0, ctx->comm);
    if (ctx->rank == 0 && all) {
        size_t used = 0;
        buf[0] = '\0';
        for (int r = 0; r < ctx->size; r++) {
            const char *h = all + (size_t)r * MPI_MAX_PROCESSOR_NAME;
            int seen = 0;
            for (int q = 0; q < r && !seen; q++)
                seen = strcmp(h, all + (size_t)q * MPI_MAX_PROCESSOR_NAME) == 0;
            if (seen)
                continue;
            size_t hl = strlen(h);
            if (used + hl + 2 > size)
                break;
            if (used)
                buf[used++] = ',';
            memcpy(buf + used, h, hl + 1);
            used += hl;
        }
    }
    free(all);
    return err;
}
