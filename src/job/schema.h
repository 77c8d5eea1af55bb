/* Private: the schema walker, for job kinds whose custom fields parse nested YAML.
 *
 * Conventions of a schema row (sb_field in symbatch/job.h):
 *  - min == max == 0 means "no range"; use INFINITY for an open end ([0, INFINITY]).
 *  - set_offset must be SIZE_MAX when the row has no "was given" flag (0 is a valid offset).
 *  - A nullable field that was not given (or was given as null) is printed as `null`: it is
 *    recognised by its set flag when it has one, else by a value outside its range (INT: e.g.
 *    -1 for a field >= 1), a NULL string, or 0 bytes.  `help`, when present, is printed as a
 *    comment after that null ("default: ...").
 *  - A custom field may use offset 0 to receive the whole struct (it often fills several
 *    members); its `print` then gets the whole struct too.
 *
 * Locations: a scalar value is recorded at the value's first character; a mapping or list at its
 * key (so "missing key" messages point at the parent's key line); list items at the item. */
#ifndef SB_JOB_SCHEMA_H
#define SB_JOB_SCHEMA_H

#include "job/yaml.h"
#include "symbatch/job.h"

#include <stdint.h>

/* Length of a dotted key path, including the NUL (sb_loc.path's size). */
#define SB_PATH_MAX ((int)sizeof(((sb_loc *)0)->path))

/* Records that `path` was found at `node` (collections: pass the key node). */
void sb_job_note(sb_job *job, const char *path, const sb_ynode *node);

/* Reports a problem at a node's own position (rather than at a recorded key).  Returns
 * SB_EINPUT. */
int sb_job_error_at(sb_job *job, const sb_ynode *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses the pairs of mapping `map` with the NULL-key-terminated `fields` into `base`; `prefix`
 * is the dotted path of the mapping ("" at the top).  Unknown keys (with a suggestion),
 * duplicates, wrong types, ranges and missing required keys are all reported.  Returns 0 or
 * SB_EINPUT. */
int sb_job_walk(sb_job *job, const sb_field *fields, void *base, const sb_ynode *map,
                const char *prefix);

/* The same, with extra keys accepted at this level (the top level's kind sections): a pair whose
 * key is in the NULL-terminated `extra` goes to `handle` instead of the schema.  The extra names
 * also serve as suggestions for unknown keys. */
typedef void (*sb_walk_handler)(sb_job *job, const char *name, const sb_ynode *key,
                                const sb_ynode *value);
int sb_job_walk_ext(sb_job *job, const sb_field *fields, void *base, const sb_ynode *map,
                    const char *prefix, const char *const *extra, sb_walk_handler handle);

/* Prints the fields of a schema as YAML lines at `indent` spaces, with defaults filled in. */
void sb_job_print_fields(FILE *out, const sb_field *fields, const void *base, int indent);
/* Prints a string as a double-quoted YAML scalar (escaping what needs it). */
void sb_job_print_string(FILE *out, const char *s);

/* One integer scalar in [min, max]; reports at `path` (the node's own position). */
int sb_job_int_value(sb_job *job, const char *path, const sb_ynode *node, int64_t min, int64_t max,
                     int64_t *out);

/* The candidate closest to `word` by edit distance when it is close enough to be a likely typo,
 * else NULL.  `candidates` is NULL-terminated. */
const char *sb_job_suggest(const char *word, const char *const *candidates);

/* Appends "path" + "." + key (or "[i]" when key is NULL) into out[SB_PATH_MAX]. */
void sb_job_path(char *out, const char *prefix, const char *key, long index);

/* Number of problems reported so far (0 when there is no diag). */
int sb_job_problems(const sb_job *job);

/* Problems printed for one job file: the rest are only counted, and sb_job_parse ends the list
 * with "... and N more problems" (a file of thousands of bad keys gives a readable answer). */
#define SB_JOB_PROBLEMS_SHOWN 50

/* True when job->diag already holds SB_JOB_PROBLEMS_SHOWN problems: the problem about to be
 * reported is then counted (and must not be formatted).  sb_job_error and sb_job_error_at call
 * it; a caller calls it first only to skip costly work for a message nobody will see. */
bool sb_job_problem_hidden(sb_job *job);

#endif
