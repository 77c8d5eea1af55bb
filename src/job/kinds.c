/* The table of job kinds: adding a kind adds one line here (and its folder). */
#include "symbatch/growth.h"
#include "symbatch/job.h"

#include <string.h>

const sb_job_kind *const *sb_job_kinds(void)
{
    static const sb_job_kind *const kinds[] = {&sb_growth_kind, NULL};
    return kinds;
}

const sb_job_kind *sb_job_kind_find(const char *name)
{
    for (const sb_job_kind *const *k = sb_job_kinds(); *k; k++)
        if (!strcmp((*k)->name, name))
            return *k;
    return NULL;
}
