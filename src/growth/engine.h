/* The layer loop shared by the BFS engines: stop rules, timings, progress lines, the result.
 * An engine only knows how to expand one layer; the driver decides when to stop. */
#ifndef SB_GROWTH_ENGINE_H
#define SB_GROWTH_ENGINE_H

#include "symbatch/comm.h"
#include "symbatch/growth.h"

#include <stdint.h>

struct sb_ckpt;

typedef struct sb_bfs_ops {
    const char *name;
    /* States of the current layer held by this rank. */
    uint64_t (*local_size)(void *engine);
    /* Collective: expands the current layer into the next one.  *edges gets the generator
     * applications this rank made. */
    int (*expand)(void *engine, uint64_t *edges);
    /* States of the next layer (just expanded) held by this rank. */
    uint64_t (*next_size)(void *engine);
    /* Collective: the next layer becomes current (called only when it is not empty, so that
     * after the last layer the engine still holds it for last_layer). */
    int (*advance)(void *engine);
    /* Collective: fills result->last_layer (rank 0) and last_layer_rows from the current
     * layer, at most k rows. */
    int (*last_layer)(void *engine, uint64_t k, sb_growth_result *result);
    /* Bytes of state this rank holds (for the progress line). */
    uint64_t (*bytes_held)(void *engine);
    /* Collective: write the engine's state into an open checkpoint, and restore it (possibly
     * on a different number of ranks).  Called at layer boundaries only. */
    int (*save)(void *engine, struct sb_ckpt *ck);
    int (*load)(void *engine, struct sb_ckpt *ck);
} sb_bfs_ops;

/* Memory estimates of the engines for nranks ranks.  Full mode returns SB_ELIMIT with the
 * reason in out->note when the state space has no 63-bit perfect hash. */
int sb_full_estimate(const sb_growth_spec *spec, int nranks, sb_mem_estimate *out);
int sb_frontier_estimate(const sb_growth_spec *spec, int nranks, sb_mem_estimate *out);

/* The layer loop.  prog->ckpt (may be NULL) says where and when to checkpoint and whether to
 * resume first (see sb_growth_ckpt in growth.h). */
int sb_bfs_drive(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec, const sb_ctx *ctx,
                 sb_growth_progress *prog, sb_growth_result *result);

/* What must not change between a checkpoint and the run that resumes from it: the generators,
 * the central state, the engine actually used and store_distances.  Full mode adds its state
 * ranking (scheme and size), which its own load checks.  Keys are the job keys they come from. */
#define SB_GROWTH_FP_ITEMS 4
typedef struct sb_growth_fp {
    const char *key[SB_GROWTH_FP_ITEMS];
    char value[SB_GROWTH_FP_ITEMS][1100];
} sb_growth_fp;

void sb_growth_fingerprint(const sb_growth_spec *spec, const char *mode, sb_growth_fp *fp);
/* Collective: compares fp with the checkpoint's.  SB_ECKPT when an item differs, with a line
 * in `why` such as "growth.generators differ from the checkpoint's (checkpoint: ...; this job:
 * ...)" (identical on every rank). */
int sb_growth_fp_check(struct sb_ckpt *ck, const sb_growth_fp *fp, char *why, size_t size);

#endif
