/* The OpenBLAS kernel check of core.h: what symbatch re-executes with, and when it must not. */
#define _POSIX_C_SOURCE 200809L
#include "symbatch/core.h"

#include <cblas.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* A user's OPENBLAS_CORETYPE is never overridden (and it ends the re-execution). */
static void test_user_choice_wins(void **state)
{
    (void)state;
    const char *old = getenv("OPENBLAS_CORETYPE");
    char *saved = old ? strdup(old) : NULL;
    setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    assert_null(sb_blas_better_core());
    if (saved)
        setenv("OPENBLAS_CORETYPE", saved, 1);
    else
        unsetenv("OPENBLAS_CORETYPE");
    free(saved);
}

/* A replacement is proposed only for OpenBLAS's generic fallback, and it is a kernel family. */
static void test_only_for_the_fallback(void **state)
{
    (void)state;
    double x[2] = {1, 2};
    assert_true(cblas_ddot(2, x, 1, x, 1) == 5.0); /* links the BLAS this build uses */
    const char *core = sb_blas_core();
    const char *better = sb_blas_better_core();
    if (getenv("OPENBLAS_CORETYPE") || !core || strcmp(core, "Prescott") != 0) {
        assert_null(better);
        return;
    }
    if (better)
        assert_true(strcmp(better, "SkylakeX") == 0 || strcmp(better, "Haswell") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_choice_wins),
        cmocka_unit_test(test_only_for_the_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
