/* Growth jobs: BFS growth functions of Cayley and Schreier coset graphs. */
#ifndef SYMBATCH_GROWTH_H
#define SYMBATCH_GROWTH_H

#include "symbatch/comm.h"
#include "symbatch/job.h"
#include "symbatch/perm.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { SB_MODE_AUTO = 0, SB_MODE_FULL, SB_MODE_FRONTIER } sb_growth_mode;

/* The `growth:` section of a job file, after validation. */
typedef struct sb_growth_spec {
    /* growth.generators: a family ... */
    char *family;      /* NULL for explicit generators */
    char *metric;      /* family cube: "qtm" (default) or "htm" */
    bool fixed_corner; /* family cube, n = 2: only the turns of the faces away from one corner */
    int64_t n, k;      /* k = -1: the family's default */
    bool k_set;
    /* ... or explicit rows */
    int explicit_count, explicit_m;
    uint8_t *explicit_rows; /* explicit_count x explicit_m */
    /* ... or GAP notation (symbatch/gap.h): cycle strings, or a file of GAP statements */
    char **cycles; /* cycles_count strings as written, "(1,2,3)(4,5)" */
    int cycles_count;
    char **cycle_names; /* NULL, or cycles_count names (names:) */
    int cycle_names_count;
    char *gap_file; /* as written; a relative path is relative to the job file's folder */
    int64_t degree; /* 0: the largest point written */
    /* growth.central_state: NULL for the identity; else m values */
    uint8_t *central;
    int central_len;
    int mode;               /* sb_growth_mode */
    int64_t max_layers;     /* -1: no limit */
    int64_t max_layer_size; /* -1: no limit */
    int64_t store_last_layer;
    bool store_distances;
    bool shared_memory; /* full mode: mark node-local blocks directly (default true) */
    /* Filled by validation: */
    sb_genset gens;
} sb_growth_spec;

/* What a growth run produces (identical on every rank, but last_layer is on rank 0 only). */
typedef struct sb_growth_result {
    int nlayers;
    uint64_t *layer_sizes;
    double *layer_seconds;
    uint64_t num_states;
    bool completed;           /* false when a stop rule ended the run */
    char stop_reason[64];     /* "complete", "max_layers", "max_layer_size" */
    char mode[16];            /* "frontier" or "full" */
    int m;                    /* elements per state */
    uint64_t last_layer_rows; /* rows in last_layer (<= store_last_layer) */
    uint8_t *last_layer;      /* rank 0: rows of m values, lexicographically smallest first */
    uint8_t central[SB_MAX_ELEMS];
    double seconds;        /* wall time of the BFS */
    uint64_t edges;        /* generator applications, summed over ranks */
    uint64_t peak_mem_max; /* max over ranks of peak RSS, bytes */
    /* Full mode: the perfect hash used ("perm-lex", ...) and, with store_distances, this rank's
     * block [dist_offset, dist_offset + dist_count) of the distance table (255 = unreached). */
    char rank_scheme[32];
    uint64_t space_size;
    uint8_t *distances;
    uint64_t dist_offset, dist_count;
    bool shared_memory;      /* full mode: blocks were node-shared (growth.shared_memory) */
    double exchange_seconds; /* rank 0's time inside exchange collectives */
    uint64_t exchange_bytes; /* bytes rank 0 sent to other ranks */
} sb_growth_result;

void sb_growth_result_free(sb_growth_result *r);

/* Upper bound on the number of states: distinct arrangements of the central state (n! for a
 * Cayley graph, the multinomial for a coset graph, 2^n n! for signed families). */
double sb_growth_space_bound(const sb_growth_spec *spec);

/* The central state of a spec (identity when none was given) into out[gens.m]. */
void sb_growth_central(const sb_growth_spec *spec, uint8_t *out);

struct sb_step;

/* The engines run collectively and fill result on every rank.  step drives checkpoints,
 * signals, resume, progress lines and timers (step.h; its unit is "layer"); NULL runs silently
 * without checkpoints. */

/* Frontier-mode BFS (collective).  Fills result on every rank. */
int sb_growth_frontier(const sb_growth_spec *spec, const sb_ctx *ctx, struct sb_step *step,
                       sb_growth_result *result);

/* Full-mode BFS (collective): Korf's two-bit BFS over the ranked state space, each rank owning
 * a contiguous block of ranks.  Returns SB_ELIMIT when the space has no 63-bit perfect hash. */
int sb_growth_full(const sb_growth_spec *spec, const sb_ctx *ctx, struct sb_step *step,
                   sb_growth_result *result);

/* `symbatch inspect` of the /growth group (not collective; the kind's inspector). */
void sb_growth_inspect(hid_t file, FILE *out);

/* The job kind (in the registry). */
extern const sb_job_kind sb_growth_kind;

#endif
