/* Private: the `ntk:` section of a job file (schema, defaults, checks, description) and the
 * kind's table entry.  The science lives in symbatch/ntk.h (closed forms), ntk_ensemble.h
 * (finite-width ensembles) and ntk_cov.h (the ScaLAPACK covariance); this folder only ties
 * them to the job runner. */
#ifndef SB_NTK_SPEC_H
#define SB_NTK_SPEC_H

#include "symbatch/job.h"
#include "symbatch/ntk.h"

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The ensemble module takes k in 2..62 (an input is a 64-bit mask). */
#define SB_NTK_JOB_K_MIN  2
#define SB_NTK_JOB_K_MAX  62
/* Largest number of test inputs an ensemble evaluates (sums of k outputs each on rank 0). */
#define SB_NTK_EVAL_MAX   ((int64_t)1 << 26)
/* Largest ensemble-size grid (ensemble_sizes lists). */
#define SB_NTK_SIZES_MAX  256
/* eval_max_weight's default: every nonzero input up to this k, weights <= 3 beyond. */
#define SB_NTK_EVAL_ALL_K 20

/* The `ntk:` section after validation. */
typedef struct sb_ntk_spec {
    int64_t k;
    double sigma_w;
    int param; /* sb_ntk_param: ntk | standard */
    int64_t width;
    int64_t members; /* 0: closed forms (and the covariance) only */
    int64_t epochs;  /* -1: the parametrisation's default */
    double tolerance;
    double learning_rate; /* valid when learning_rate_set, else the parametrisation's */
    bool learning_rate_set;
    int64_t eval_min_weight;
    int64_t eval_max_weight; /* -1: k when k <= SB_NTK_EVAL_ALL_K, else 3 */
    int64_t *sizes;          /* ensemble_sizes as given (NULL: the log grid) */
    int nsizes;
    double delta;
    int64_t members_per_step; /* unset: 16, or members when fewer */
    bool members_per_step_set;
    /* covariance: */
    bool cov_enabled;
    int64_t cov_max_weight; /* -1: eval_max_weight */
    int64_t cov_block_size;
    int64_t cov_grid[2]; /* rows, cols; valid when cov_grid_set */
    bool cov_grid_set;
    int64_t cov_samples;
    bool cov_spectrum;
    int64_t *cov_sizes; /* covariance.ensemble_sizes as given (NULL: the ensemble's grid) */
    int ncov_sizes;
    /* Filled by validation (effective values): */
    int perm[SB_NTK_JOB_K_MAX]; /* target of e_i is e_perm[i], from the job's seed */
    int64_t *M;                 /* the ensemble's M grid (nM entries; 0 without members) */
    int nM;
    double *cov_M; /* the covariance's M grid */
    int ncov_M;
    double *theory_M; /* where the GP predictions are given: the ensemble's grid, else the
                         covariance's, else the log grid to 10000 */
    int ntheory_M;
} sb_ntk_spec;

extern const sb_field sb_ntk_schema[];
void sb_ntk_spec_init(void *spec);
void sb_ntk_spec_free(void *spec);
/* Cross-field checks, the permutation and the effective grids.  0 or SB_EINPUT. */
int sb_ntk_validate(sb_job *job);
void sb_ntk_describe(const sb_job *job, FILE *out);

/* Effective values of keys whose default depends on others. */
int64_t sb_ntk_epochs(const sb_ntk_spec *s);
double sb_ntk_learning_rate(const sb_ntk_spec *s);
int sb_ntk_eval_max(const sb_ntk_spec *s);
int sb_ntk_cov_max(const sb_ntk_spec *s);
/* Inputs of weight lo..hi among k positions (sum of binomials), as a double. */
double sb_ntk_count_inputs(int k, int lo, int hi);
/* The GP whose limit the job's parametrisation follows (ntk.md): NTK-GP or NNGP. */
sb_ntk_kind sb_ntk_gp_of(const sb_ntk_spec *s);

/* `symbatch inspect` of /ntk (inspect.c). */
void sb_ntk_inspect(hid_t file, FILE *out);

/* The kind (kind.c), listed in src/job/kinds.c. */
extern const sb_job_kind sb_ntk_job_kind;

#endif
