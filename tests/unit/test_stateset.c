/* Sorted state arrays: radix sort, unique, subtract and merge against plain definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "growth/stateset.h"
#include "symbatch/codec.h"
#include "symbatch/core.h"

#include <stdlib.h>

static int g_nw; /* test-local: qsort has no context argument */

static int cmp_state(const void *a, const void *b)
{
    return sb_state_cmp(a, b, g_nw);
}

/* n random states of nw words; few distinct values so duplicates are common. */
static void fill(sb_sarr *a, size_t n, uint64_t seed, uint64_t mask)
{
    a->n = 0;
    sb_sarr_reserve(a, n);
    for (size_t i = 0; i < n * (size_t)a->nw; i++)
        a->w[i] = sb_rand64(seed, 1, i) & mask;
    a->n = n;
}

static void check_sort(int nw, size_t n, uint64_t mask)
{
    sb_sarr a, tmp;
    sb_sarr_init(&a, nw);
    sb_sarr_init(&tmp, nw);
    fill(&a, n, (uint64_t)nw * 1000 + n, mask);
    uint64_t *copy = malloc((n ? n : 1) * nw * sizeof *copy);
    if (n)
        memcpy(copy, a.w, n * nw * sizeof *copy);
    g_nw = nw;
    qsort(copy, n, nw * sizeof *copy, cmp_state);
    assert_int_equal(sb_sarr_sort_tail(&a, 0, &tmp), 0);
    if (n)
        assert_memory_equal(a.w, copy, n * nw * sizeof *copy);
    /* unique against a plain loop */
    size_t distinct = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        distinct += sb_state_cmp(copy + i * nw, copy + (i - 1) * nw, nw) != 0;
    sb_sarr_unique_tail(&a, 0);
    assert_int_equal(a.n, distinct);
    for (size_t i = 1; i < a.n; i++)
        assert_true(sb_state_cmp(sb_sarr_at(&a, i - 1), sb_sarr_at(&a, i), nw) < 0);
    free(copy);
    sb_sarr_free(&a);
    sb_sarr_free(&tmp);
}

static void test_sort_unique(void **state)
{
    (void)state;
    check_sort(1, 0, ~0ULL);
    check_sort(1, 1, ~0ULL);
    check_sort(1, 10000, 0xffffffffffffULL);
    check_sort(1, 10000, 0xff); /* many duplicates, most digits constant */
    check_sort(2, 5000, ~0ULL);
    check_sort(3, 5000, 0x3);
}

static void test_subtract_merge(void **state)
{
    (void)state;
    for (int nw = 1; nw <= 2; nw++) {
        sb_sarr a, b, tmp;
        sb_sarr_init(&a, nw);
        sb_sarr_init(&b, nw);
        sb_sarr_init(&tmp, nw);
        fill(&a, 3000, 1, 0xfff);
        fill(&b, 20000, 2, 0xfff);
        sb_sarr_sort_tail(&a, 0, &tmp);
        sb_sarr_unique_tail(&a, 0);
        sb_sarr_sort_tail(&b, 0, &tmp);
        sb_sarr_unique_tail(&b, 0);
        /* expected a \ b by membership */
        size_t expect = 0;
        for (size_t i = 0; i < a.n; i++)
            expect += !sb_sarr_contains(&b, sb_sarr_at(&a, i));
        sb_sarr_subtract_tail(&a, 0, &b);
        assert_int_equal(a.n, expect);
        for (size_t i = 0; i < a.n; i++)
            assert_false(sb_sarr_contains(&b, sb_sarr_at(&a, i)));
        /* merge: a and b are now disjoint, so the union has a.n + b.n states */
        size_t an = a.n, bn = b.n;
        sb_sarr_append(&a, b.w, b.n);
        assert_int_equal(sb_sarr_merge_tail(&a, an, &tmp), 0);
        assert_int_equal(a.n, an + bn);
        for (size_t i = 1; i < a.n; i++)
            assert_true(sb_state_cmp(sb_sarr_at(&a, i - 1), sb_sarr_at(&a, i), nw) < 0);
        sb_sarr_free(&a);
        sb_sarr_free(&b);
        sb_sarr_free(&tmp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_unique),
        cmocka_unit_test(test_subtract_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
