/* The table of job kinds: adding a kind adds one line here (and its folder). */
#include "grpo/grpo_impl.h"
#include "symbatch/growth.h"
#include "symbatch/job.h"
#include "ntk/spec.h" /* sb_ntk_job_kind */

#include <stdio.h>
#include <string.h>

const sb_job_kind *const *sb_job_kinds(void)
{
    static const sb_job_kind *const kinds[] = {&sb_growth_kind, &sb_grpo_kind, &sb_ntk_job_kind,
                                               NULL};
    return kinds;
}

/* The members sb_job_run and the parser call without looking: a kind without one of them
 * would crash a run, so it is refused before any. */
int sb_job_kind_check(const sb_job_kind *k, char *why, size_t size)
{
    const struct {
        const char *member;
        bool present;
    } required[] = {
        {"name", k->name && k->name[0]},
        {"section", k->section && k->section[0]},
        {"schema", k->schema != NULL},
        {"spec_init", k->spec_init != NULL},
        {"spec_free", k->spec_free != NULL},
        {"estimate_memory", k->estimate_memory != NULL},
        {"step_unit", k->step_unit && k->step_unit[0]},
        {"fingerprint", k->fingerprint != NULL},
        {"run", k->run != NULL},
        {"write", k->write != NULL},
        {"summary_fields", k->summary_fields != NULL},
        {"result_free", k->result_free != NULL},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (!required[i].present) {
            snprintf(why, size, "job kind '%s' has no %s", k->name ? k->name : "?",
                     required[i].member);
            return SB_EINTERNAL;
        }
    }
    return 0;
}

const sb_job_kind *sb_job_kind_find(const char *name)
{
    char why[128];
    for (const sb_job_kind *const *k = sb_job_kinds(); *k; k++)
        if (!strcmp((*k)->name, name) && sb_job_kind_check(*k, why, sizeof why) == 0)
            return *k;
    return NULL;
}

int sb_job_inspect(const char *path, FILE *out, sb_diag *diag)
{
    sb_inspector table[16];
    int n = 0;
    for (const sb_job_kind *const *k = sb_job_kinds(); *k && n < 15; k++)
        if ((*k)->inspect)
            table[n++] = (sb_inspector){(*k)->section, (*k)->inspect};
    table[n] = (sb_inspector){NULL, NULL};
    return sb_inspect(path, out, diag, table);
}
