/* Jobs: the YAML job file, its schema, the validated job struct and the table of job kinds. */
#ifndef SYMBATCH_JOB_H
#define SYMBATCH_JOB_H

#include "symbatch/comm.h"
#include "symbatch/error.h"
#include "symbatch/io.h"
#include "symbatch/json.h"
#include "symbatch/step.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- schema ---------------------------------------------------------------------------------
 * One table row per key drives parsing, range checks, defaults and the echo printed by
 * `symbatch validate` (IOR's option tables). */
typedef enum {
    SB_F_INT,    /* int64_t */
    SB_F_FLOAT,  /* double */
    SB_F_BOOL,   /* bool */
    SB_F_STRING, /* char * (malloc'd) */
    SB_F_ENUM,   /* int, index into enum_names */
    SB_F_BYTES,  /* uint64_t; "2GB", "512 MiB" or a plain integer */
    SB_F_MAP,    /* nested mapping described by `sub` (at the same struct base) */
    SB_F_CUSTOM  /* parsed by `custom`, printed by `print` */
} sb_ftype;

struct sb_ynode; /* a node of the parsed YAML document (src/job/yaml.c) */
typedef struct sb_job sb_job;
typedef struct sb_field sb_field;

struct sb_field {
    const char *key;
    sb_ftype type;
    size_t offset;     /* where the value lives in the struct being filled */
    size_t set_offset; /* offset of a bool "was given" flag, or SIZE_MAX */
    bool required;
    bool nullable;                 /* `key: null` allowed (means "unset"; the flag stays false) */
    double min, max;               /* inclusive range for INT, FLOAT and BYTES */
    const char *const *enum_names; /* NULL-terminated, for SB_F_ENUM */
    const sb_field *sub;           /* for SB_F_MAP: NULL-key-terminated */
    /* For SB_F_CUSTOM: parse the node into base+offset; report problems via sb_job_error. */
    int (*custom)(sb_job *job, const struct sb_ynode *node, void *target);
    void (*print)(FILE *out, const void *target);
    const char *help;
};

/* ---- where a key was found: every parsed key records its location --------------------------- */
typedef struct sb_loc {
    char path[96];    /* "growth.generators.n" */
    int line, column; /* 1-based */
} sb_loc;

/* ---- jobs ------------------------------------------------------------------------------------ */
typedef struct sb_job_kind sb_job_kind;

struct sb_job {
    char *path; /* job file as given on the command line */
    char *text; /* the job file's bytes (recorded in every result file) */
    size_t text_len;
    uint64_t text_hash;
    const sb_job_kind *kind;
    /* Common keys */
    char *output;             /* result file */
    double checkpoint_every;  /* seconds; 0 = only on signals */
    uint64_t memory_per_rank; /* bytes; 0 = node's available memory / ranks on the node */
    bool memory_per_rank_set;
    int64_t seed;
    void *spec; /* the kind's own section, a struct the kind defines */
    /* Parser state: locations of keys, problems found so far. */
    sb_loc *locs;
    int nlocs, locs_cap;
    int *loc_slots; /* hash table over locs by path (src/job/schema.c) */
    sb_diag *diag;  /* where sb_job_error reports; NULL once validated */
};

/* Reports a problem at a key's location: "job.yaml:7:6: growth.generators.n: n must be ...".
 * `path` is the dotted key; when it was not in the file, the location of its parent (or the
 * file alone) is used.  Returns SB_EINPUT, so callers can write `return sb_job_error(...)`. */
int sb_job_error(sb_job *job, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Location of a key, or NULL. */
const sb_loc *sb_job_where(const sb_job *job, const char *path);

/* Memory estimate per rank, for `validate` and the budget check before any work. */
typedef struct sb_mem_estimate {
    uint64_t bytes_per_rank; /* largest rank */
    uint64_t bytes_total;
    uint64_t bytes_fixed; /* per rank, whatever the number of ranks (buffers) */
    char detail[256];     /* "2 bits x 4.79e8 states / 2 ranks + exchange buffers" */
    char mode[32];        /* kind-specific: growth says "full" or "frontier" */
    int engine;           /* the kind's engine for this mode (its own enum), run by sb_job_run */
    char note[256];       /* why this mode was chosen, or why the job cannot run ("key: message") */
    /* True when the estimate is a firm requirement: a job over the budget is refused (exit 2)
     * before any work.  False for worst-case bounds (frontier mode, whose layers are unknown
     * before the run). */
    bool enforce;
} sb_mem_estimate;

/* Options from the command line that the library needs. */
typedef struct sb_run_opts {
    const char *output_override; /* --output */
    bool force;                  /* --force */
    bool resume;                 /* --resume */
    bool quiet;                  /* no progress lines */
    FILE *progress;              /* stderr by default; rank 0 only */
    FILE *summary;               /* stdout by default; rank 0 only */
    /* The estimate sb_job_check_budget made (the same on every rank): kinds with several
     * engines run the one it chose. */
    const sb_mem_estimate *estimate;
} sb_run_opts;

typedef struct sb_run sb_run; /* one run of a job (run.h) */

/* A job kind: its job-file section and its science.  Everything else a run needs (output and
 * checkpoint files, signals, progress, timers, the JSON summary) is sb_job_run's (run.h). */
struct sb_job_kind {
    const char *name;
    const char *summary;
    const char *section;    /* the YAML key of the kind's section ("growth") */
    const sb_field *schema; /* fields of the section */
    size_t spec_size;
    void (*spec_init)(void *spec); /* defaults */
    void (*spec_free)(void *spec);
    /* Cross-field checks after the schema pass (e.g. n against the family). */
    int (*validate)(sb_job *job);
    /* Estimates memory per rank for nranks ranks under a budget per rank (kinds with several
     * engines choose one that fits and say which in out->engine). */
    int (*estimate_memory)(const sb_job *job, int nranks, uint64_t budget, sb_mem_estimate *out);
    /* Prints kind-specific lines of `symbatch validate` (after the schema echo); may be NULL. */
    void (*describe)(const sb_job *job, FILE *out);
    /* What one step is called in progress lines and messages ("layer", "update"). */
    const char *step_unit;
    /* What must not change between a checkpoint and the run resuming from it, for the engine
     * the run uses. */
    void (*fingerprint)(const sb_job *job, int engine, sb_fingerprint *fp);
    /* May be NULL.  Collective, on --resume, before the fingerprint is compared: the kind may
     * adopt the checkpoint's engine (run->engine) or refuse with SB_ECKPT and a message. */
    int (*resume_prepare)(sb_run *run);
    /* May be NULL.  The most bytes the result file will take when that is large (a distance
     * table): sb_job_run reserves them on disk before the run starts, so that a run never
     * computes for hours to find no room for its result. */
    uint64_t (*output_bytes)(const sb_job *job, int engine);
    /* Collective: the science.  Computes run->result, calling the step controller (run->step)
     * at every step boundary; continues from run->step.resume when it is set. */
    int (*run)(sb_run *run);
    /* Collective: writes the kind's group of the result file. */
    int (*write)(sb_run *run, sb_h5 *h);
    /* Rank 0: the kind's members of the JSON summary. */
    void (*summary_fields)(const sb_run *run, sb_json *j);
    /* Frees run->result (which may be NULL). */
    void (*result_free)(sb_run *run);
    /* Not collective: prints a human summary of the kind's group of a result file, opened
     * read-only (`symbatch inspect`).  May be NULL: the group is then listed generically. */
    void (*inspect)(hid_t file, FILE *out);
};

/* Checks that a kind has every required member; SB_EINTERNAL with the member's name in `why`
 * otherwise.  sb_job_kind_find uses only kinds that pass. */
int sb_job_kind_check(const sb_job_kind *kind, char *why, size_t size);

/* `symbatch inspect`: sb_inspect with every kind's inspector for its section's group. */
int sb_job_inspect(const char *path, FILE *out, sb_diag *diag);

/* The NULL-terminated table of job kinds. */
const sb_job_kind *const *sb_job_kinds(void);
const sb_job_kind *sb_job_kind_find(const char *name);

/* Parses and validates job text.  All problems are appended to diag with file:line:column and
 * key; returns 0 or SB_EINPUT.  `path` is used in messages only.  Not collective. */
int sb_job_parse(sb_job *job, const char *path, const char *text, size_t len, sb_diag *diag);
void sb_job_free(sb_job *job);

/* Prints the effective job, with defaults filled in, as YAML. */
void sb_job_print(const sb_job *job, FILE *out);

/* Collective: rank 0 reads and validates the file; every rank gets the same verdict, and on
 * success the same validated job (the validated text is broadcast and decoded on each rank, so
 * no rank but 0 touches the file).  diag is filled on rank 0 only. */
int sb_job_load(sb_job *job, const char *path, const sb_ctx *ctx, sb_diag *diag);

/* Checks that the output can be created: not existing (unless force), folder writable.  Rank 0
 * checks, all ranks agree.  Nothing is created. */
int sb_job_check_output(const sb_job *job, const char *output, bool force, const sb_ctx *ctx,
                        sb_diag *diag);

/* Collective: memory budget per rank: memory_per_rank, or the node's available memory / ranks
 * on the node (the smallest over all nodes, so that every rank sees the same number). */
uint64_t sb_job_budget(const sb_job *job, const sb_ctx *ctx);

/* Collective: estimates memory for this run, and refuses (SB_EBUDGET, message in diag on rank
 * 0) a job whose firm estimate exceeds the budget, naming the memory needed and the number of
 * ranks that would fit.  est is filled on every rank. */
int sb_job_check_budget(const sb_job *job, const sb_ctx *ctx, sb_mem_estimate *est, sb_diag *diag);

#endif
