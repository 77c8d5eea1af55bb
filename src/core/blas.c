/* Which OpenBLAS kernels this process runs (see core.h, sb_blas_better_core). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_DEFAULT */
#endif
#include "symbatch/core.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *sb_blas_core(void)
{
    /* Looked up at run time: the build links whatever libblas.so.3 the system provides, and
     * only OpenBLAS has this function. */
    char *(*corename)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    return corename ? corename() : NULL;
}

const char *sb_blas_better_core(void)
{
    if (getenv("OPENBLAS_CORETYPE"))
        return NULL; /* the user's (or an earlier re-execution's) choice */
    const char *core = sb_blas_core();
    /* Prescott is OpenBLAS's generic SSE3 fallback for a CPU it does not recognise; any other
     * name is a deliberate choice and kept. */
    if (!core || strcmp(core, "Prescott") != 0)
        return NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
    return NULL;
}

void sb_blas_reexec(char **argv)
{
    const char *core = sb_blas_better_core();
    char self[4096];
    ssize_t len = core ? readlink("/proc/self/exe", self, sizeof self - 1) : -1;
    if (len > 0 && setenv("OPENBLAS_CORETYPE", core, 1) == 0) {
        self[len] = '\0'; /* the binary's own path, so that the process keeps its name */
        execv(self, argv);
    }
}
