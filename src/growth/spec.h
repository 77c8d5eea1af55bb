/* Private: the `growth:` section of a job file (schema, defaults, checks, description). */
#ifndef SB_GROWTH_SPEC_H
#define SB_GROWTH_SPEC_H

#include "symbatch/growth.h"
#include "symbatch/job.h"

#include <stdio.h>

/* Keys of the section; NULL-key-terminated.  Parsed into a struct sb_growth_spec. */
extern const sb_field sb_growth_schema[];

/* Defaults: mode auto, no layer limits, store_last_layer 1000, identity central state. */
void sb_growth_spec_init(void *spec);
/* Frees the members (not the struct itself, which the job owns). */
void sb_growth_spec_free(void *spec);
/* Builds spec->gens from the family or the explicit rows and checks central_state against it;
 * problems are reported at the keys' locations.  Returns 0 or SB_EINPUT. */
int sb_growth_validate(sb_job *job);
/* The same checks for a growth spec embedded in another kind's section (grpo: the same
 * generators: and central_state: keys, reported under that section's name). */
int sb_growth_build_generators(sb_job *job, sb_growth_spec *spec);
/* Schema callbacks of the generators: and central_state: keys, for other kinds' schemas: the
 * field's offset must point at an embedded sb_growth_spec. */
int sb_growth_parse_generators(sb_job *job, const struct sb_ynode *node, void *target);
void sb_growth_print_generators(FILE *out, const void *target);
int sb_growth_parse_central(sb_job *job, const struct sb_ynode *node, void *target);
void sb_growth_print_central(FILE *out, const void *target);
/* Lines for `symbatch validate`, as YAML comments: generators, state length, directedness and
 * an upper bound on the state space. */
void sb_growth_describe(const sb_job *job, FILE *out);

#endif
