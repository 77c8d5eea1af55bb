/* The layer loop shared by the BFS engines: stop rules, timings, progress lines, the result.
 * An engine only knows how to expand one layer; the driver decides when to stop. */
#ifndef SB_GROWTH_ENGINE_H
#define SB_GROWTH_ENGINE_H

#include "symbatch/comm.h"
#include "symbatch/growth.h"

#include <stdint.h>

struct sb_ckpt;
struct sb_step;
struct sb_fingerprint;

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
    /* Bytes this rank would write into a checkpoint now (its room is reserved first). */
    uint64_t (*ckpt_bytes)(void *engine);
    /* Collective: write the engine's state into an open checkpoint, and restore it (possibly
     * on a different number of ranks).  Called at layer boundaries only. */
    int (*save)(void *engine, struct sb_ckpt *ck);
    int (*load)(void *engine, struct sb_ckpt *ck);
} sb_bfs_ops;

/* Memory estimates of the engines for nranks ranks.  Full mode returns SB_ELIMIT with the
 * reason in out->note when the state space has no 63-bit perfect hash. */
int sb_full_estimate(const sb_growth_spec *spec, int nranks, sb_mem_estimate *out);
int sb_frontier_estimate(const sb_growth_spec *spec, int nranks, sb_mem_estimate *out);

/* The layer loop.  step (may be NULL: silent, no checkpoints) decides when to checkpoint and
 * stop, and whether to resume first from step->resume. */
int sb_bfs_drive(const sb_bfs_ops *ops, void *engine, const sb_growth_spec *spec, const sb_ctx *ctx,
                 struct sb_step *step, sb_growth_result *result);

/* What must not change between a checkpoint and the run that resumes from it: the generators,
 * the central state, the engine actually used (`mode`) and store_distances.  Full mode adds its
 * state ranking (scheme and size), which its own load checks.  Keys are the job keys they come
 * from. */
void sb_growth_fingerprint(const sb_growth_spec *spec, const char *mode, struct sb_fingerprint *fp);

#endif
