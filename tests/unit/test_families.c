/* Generator families and explicit sets: every example array of generators.md, names, counts
 * against closed forms, inverse-closure flags, parameter errors and explicit-row checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "refgens.h"
#include "symbatch/perm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------------------------- */

static void build_ok(sb_genset *gs, const char *family, int n, int k)
{
    sb_diag diag;
    sb_diag_init(&diag);
    int rc = sb_genset_family(gs, family, n, k, &diag);
    if (rc != SB_OK)
        fprintf(stderr, "%s(%d, %d): %s", family, n, k, sb_diag_text(&diag));
    assert_int_equal(rc, SB_OK);
    assert_int_equal(diag.count, 0);
    sb_diag_free(&diag);
}

/* Checks the whole set: number of rows, state length and every array. */
static void expect_rows(const char *family, int n, int k, int ngens, int m, const uint8_t *rows)
{
    sb_genset gs;
    build_ok(&gs, family, n, k);
    assert_int_equal(gs.ngens, ngens);
    assert_int_equal(gs.m, m);
    for (int g = 0; g < ngens; g++)
        assert_memory_equal(gs.perm + (size_t)g * (size_t)m, rows + (size_t)g * (size_t)m,
                            (size_t)m);
    sb_genset_free(&gs);
}

static void expect_names(const char *family, int n, int k, int ngens, const char *const *names)
{
    sb_genset gs;
    build_ok(&gs, family, n, k);
    assert_int_equal(gs.ngens, ngens);
    for (int g = 0; g < ngens; g++)
        assert_string_equal(gs.names[g], names[g]);
    sb_genset_free(&gs);
}

static bool closed_flag(const char *family, int n, int k)
{
    sb_genset gs;
    build_ok(&gs, family, n, k);
    bool closed = gs.inverse_closed;
    sb_genset_free(&gs);
    return closed;
}

/* Rows the family's builder writes, counted in the arrays themselves: gs.ngens is the library's
 * count formula (sb_genset_family allocates that many rows), so the builder runs again here into
 * a buffer with room to spare, filled with 0xff (no permutation of at most 255 elements has
 * that value), and the rows it changed are counted.  `expect` sizes the spare room. */
static int rows_built(const char *family, int n, int k, long expect)
{
    sb_genset gs;
    build_ok(&gs, family, n, k);
    const sb_family *f = sb_family_find(family);
    assert_non_null(f);
    size_t cap = (size_t)(expect > gs.ngens ? expect : gs.ngens) + 64;
    uint8_t *buf = malloc(cap * (size_t)gs.m);
    char(*names)[SB_NAME_MAX] = calloc(cap, sizeof *names);
    assert_true(buf && names);
    memset(buf, 0xff, cap * (size_t)gs.m);
    f->build(n, gs.k, buf, names);
    int rows = 0;
    for (size_t g = 0; g < cap; g++) {
        const uint8_t *p = buf + g * (size_t)gs.m;
        bool touched = false;
        for (int i = 0; i < gs.m; i++)
            touched |= p[i] != 0xff;
        if (touched)
            rows = (int)g + 1;
    }
    /* The rows written are the rows sb_genset_family returned, byte for byte. */
    if (rows == gs.ngens)
        assert_memory_equal(buf, gs.perm, (size_t)rows * (size_t)gs.m);
    free(buf);
    free(names);
    sb_genset_free(&gs);
    return rows;
}

/* The closed form `want` against the rows built and against the set's ngens. */
static void expect_count(const char *family, int n, int k, long want)
{
    int rows = rows_built(family, n, k, want);
    if (rows != want)
        fprintf(stderr, "%s(n=%d, k=%d): %d rows built, want %ld\n", family, n, k, rows, want);
    assert_int_equal(rows, want);
    sb_genset gs;
    build_ok(&gs, family, n, k);
    assert_int_equal(gs.ngens, want);
    sb_genset_free(&gs);
}

/* Expects SB_EINPUT with exactly one diagnostic line containing `part` and no file location. */
static void expect_error(const char *family, int n, int k, const char *part)
{
    sb_genset gs;
    sb_diag diag;
    sb_diag_init(&diag);
    assert_int_equal(sb_genset_family(&gs, family, n, k, &diag), SB_EINPUT);
    assert_int_equal(diag.count, 1);
    const char *text = sb_diag_text(&diag);
    assert_non_null(text);
    if (!strstr(text, part))
        fprintf(stderr, "expected \"%s\" in: %s", part, text);
    assert_non_null(strstr(text, part));
    assert_null(strstr(text, ".c:"));
    assert_null(gs.perm); /* nothing left allocated on failure */
    sb_genset_free(&gs);
    sb_diag_free(&diag);
}

/* Independent of the library: is row p a permutation of 0..m-1? */
static bool row_is_perm(const uint8_t *p, int m)
{
    int seen[256] = {0};
    for (int i = 0; i < m; i++) {
        if (p[i] >= m || seen[p[i]]++)
            return false;
    }
    return true;
}

static bool row_is_identity(const uint8_t *p, int m)
{
    for (int i = 0; i < m; i++)
        if (p[i] != i)
            return false;
    return true;
}

static long binom(int n, int k)
{
    if (k < 0 || k > n)
        return 0;
    long r = 1;
    for (int i = 1; i <= k; i++)
        r = r * (n - k + i) / i;
    return r;
}

static long factorial(int n)
{
    long r = 1;
    for (int i = 2; i <= n; i++)
        r *= i;
    return r;
}

/* D(n) = n D(n-1) + (-1)^n: a different recurrence from the library's. */
static long derangement_number(int n)
{
    long d = 1;
    for (int i = 1; i <= n; i++)
        d = i * d + (i % 2 ? -1 : 1);
    return d;
}

static long double_factorial(int n)
{
    long r = 1;
    for (int i = n; i > 1; i -= 2)
        r *= i;
    return r;
}

/* ---- the examples printed in generators.md ------------------------------------------------ */

static void test_lrx_lx(void **state)
{
    (void)state;
    const uint8_t lrx5[] = {1, 2, 3, 4, 0, 4, 0, 1, 2, 3, 1, 0, 2, 3, 4};
    expect_rows("lrx", 5, -1, 3, 5, lrx5);
    expect_names("lrx", 5, -1, 3, (const char *const[]){"L", "R", "X"});
    const uint8_t lrx5k2[] = {1, 2, 3, 4, 0, 4, 0, 1, 2, 3, 2, 1, 0, 3, 4};
    expect_rows("lrx", 5, 2, 3, 5, lrx5k2);
    const uint8_t lrx5k3[] = {1, 2, 3, 4, 0, 4, 0, 1, 2, 3, 3, 1, 2, 0, 4};
    expect_rows("lrx", 5, 3, 3, 5, lrx5k3);
    const uint8_t lrx4[] = {1, 2, 3, 0, 3, 0, 1, 2, 1, 0, 2, 3};
    expect_rows("lrx", 4, 1, 3, 4, lrx4);
    assert_true(closed_flag("lrx", 5, -1));

    const uint8_t lx5[] = {1, 2, 3, 4, 0, 1, 0, 2, 3, 4};
    expect_rows("lx", 5, -1, 2, 5, lx5);
    assert_false(closed_flag("lx", 5, -1));
}

static void test_top_spin(void **state)
{
    (void)state;
    const uint8_t ts6[] = {1, 2, 3, 4, 5, 0, 5, 0, 1, 2, 3, 4, 3, 2, 1, 0, 4, 5};
    expect_rows("top_spin", 6, -1, 3, 6, ts6);
    expect_names("top_spin", 6, -1, 3,
                 (const char *const[]){"1,2,3,4,5,0", "5,0,1,2,3,4", "3,2,1,0,4,5"});
    const uint8_t ts5k3[] = {1, 2, 3, 4, 0, 4, 0, 1, 2, 3, 2, 1, 0, 3, 4};
    expect_rows("top_spin", 5, 3, 3, 5, ts5k3);
    sb_genset gs;
    build_ok(&gs, "top_spin", 6, -1);
    assert_int_equal(gs.k, 4);
    assert_string_equal(gs.family, "top_spin");
    assert_int_equal(gs.n, 6);
    assert_true(gs.inverse_closed);
    sb_genset_free(&gs);
    /* Long arrays do not fit a name; they fall back to an index name, still unique. */
    build_ok(&gs, "top_spin", 40, -1);
    assert_true(strlen(gs.names[0]) < SB_NAME_MAX);
    assert_string_not_equal(gs.names[0], gs.names[1]);
    sb_genset_free(&gs);
}

static void test_pancakes(void **state)
{
    (void)state;
    const uint8_t p5[] = {1, 0, 2, 3, 4, 2, 1, 0, 3, 4, 3, 2, 1, 0, 4, 4, 3, 2, 1, 0};
    expect_rows("pancake", 5, -1, 4, 5, p5);
    expect_names("pancake", 5, -1, 4, (const char *const[]){"R1", "R2", "R3", "R4"});

    const uint8_t bp3[] = {3, 1, 2, 0, 4, 5, 4, 3, 2, 1, 0, 5, 5, 4, 3, 2, 1, 0};
    expect_rows("burnt_pancake", 3, -1, 3, 6, bp3);
    expect_names("burnt_pancake", 3, -1, 3, (const char *const[]){"R1", "R2", "R3"});
    const uint8_t bp6_row2[] = {8, 7, 6, 3, 4, 5, 2, 1, 0, 9, 10, 11};
    sb_genset gs;
    build_ok(&gs, "burnt_pancake", 6, -1);
    assert_int_equal(gs.m, 12);
    assert_memory_equal(gs.perm + 2 * 12, bp6_row2, 12);
    sb_genset_free(&gs);

    /* cubic_pancake(15, subset): names are prefix lengths. */
    const char *const names[7][3] = {
        {"R15", "R14", "R2"}, {"R15", "R14", "R3"}, {"R15", "R14", "R13"}, {"R15", "R14", "R12"},
        {"R15", "R13", "R2"}, {"R15", "R13", "R3"}, {"R15", "R13", "R12"},
    };
    for (int s = 1; s <= 7; s++)
        expect_names("cubic_pancake", 15, s, 3, names[s - 1]);
    build_ok(&gs, "cubic_pancake", 15, 4);
    const uint8_t r12[] = {11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 12, 13, 14};
    assert_memory_equal(gs.perm + 2 * 15, r12, 15);
    sb_genset_free(&gs);
    build_ok(&gs, "cubic_pancake", 15, -1);
    assert_int_equal(gs.k, 1);
    sb_genset_free(&gs);
}

static void test_transposition_families(void **state)
{
    (void)state;
    const uint8_t cc5[] = {1, 0, 2, 3, 4, 0, 2, 1, 3, 4, 0, 1, 3,
                           2, 4, 0, 1, 2, 4, 3, 4, 1, 2, 3, 0};
    expect_rows("cyclic_coxeter", 5, -1, 5, 5, cc5);
    expect_names("cyclic_coxeter", 5, -1, 5,
                 (const char *const[]){"(0,1)", "(1,2)", "(2,3)", "(3,4)", "(0,4)"});
    expect_names("coxeter", 4, -1, 3, (const char *const[]){"(0,1)", "(1,2)", "(2,3)"});

    const uint8_t at3[] = {1, 0, 2, 2, 1, 0, 0, 2, 1};
    expect_rows("all_transpositions", 3, -1, 3, 3, at3);
    expect_names("all_transpositions", 3, -1, 3, (const char *const[]){"(0,1)", "(0,2)", "(1,2)"});

    const uint8_t st4[] = {1, 0, 2, 3, 2, 1, 0, 3, 3, 1, 2, 0};
    expect_rows("stars", 4, -1, 3, 4, st4);
    expect_names("stars", 4, -1, 3, (const char *const[]){"S1", "S2", "S3"});

    const uint8_t gs42[] = {2, 1, 0, 3, 3, 1, 2, 0, 0, 2, 1, 3, 0, 3, 2, 1};
    expect_rows("generalized_stars", 4, 2, 4, 4, gs42);
    const uint8_t gs31[] = {1, 0, 2, 2, 1, 0};
    expect_rows("generalized_stars", 3, -1, 2, 3, gs31);
}

static void test_reversals(void **state)
{
    (void)state;
    const uint8_t fr4[] = {1, 0, 2, 3, 2, 1, 0, 3, 3, 2, 1, 0, 0, 2, 1, 3, 0, 3, 2, 1, 0, 1, 3, 2};
    expect_rows("full_reversals", 4, -1, 6, 4, fr4);
    expect_names(
        "full_reversals", 4, -1, 6,
        (const char *const[]){"R[0..1]", "R[0..2]", "R[0..3]", "R[1..2]", "R[1..3]", "R[2..3]"});

    const uint8_t sr2[] = {2, 1, 0, 3, 3, 2, 1, 0, 0, 3, 2, 1};
    expect_rows("signed_reversals", 2, -1, 3, 4, sr2);
    expect_names("signed_reversals", 2, -1, 3,
                 (const char *const[]){"R[0..0]", "R[0..1]", "R[1..1]"});
    const uint8_t sr3[] = {3, 1, 2, 0, 4, 5, 4, 3, 2, 1, 0, 5, 5, 4, 3, 2, 1, 0,
                           0, 4, 2, 3, 1, 5, 0, 5, 4, 3, 2, 1, 0, 1, 5, 3, 4, 2};
    expect_rows("signed_reversals", 3, -1, 6, 6, sr3);
}

static void test_block_moves(void **state)
{
    (void)state;
    const uint8_t tp4[] = {1, 0, 2, 3, 1, 2, 0, 3, 1, 2, 3, 0, 2, 0, 1, 3, 2, 3, 0, 1,
                           3, 0, 1, 2, 0, 2, 1, 3, 0, 2, 3, 1, 0, 3, 1, 2, 0, 1, 3, 2};
    expect_rows("transposons", 4, -1, 10, 4, tp4);
    expect_names("transposons", 4, -1, 10,
                 (const char *const[]){"T[0..0,1]", "T[0..0,2]", "T[0..0,3]", "T[0..1,2]",
                                       "T[0..1,3]", "T[0..2,3]", "T[1..1,2]", "T[1..1,3]",
                                       "T[1..2,3]", "T[2..2,3]"});

    const uint8_t bi4[] = {1, 0, 2, 3, 1, 2, 0, 3, 1, 2, 3, 0, 2, 1, 0, 3, 2, 3, 1, 0,
                           3, 1, 2, 0, 2, 0, 1, 3, 2, 3, 0, 1, 3, 2, 0, 1, 3, 0, 1, 2,
                           0, 2, 1, 3, 0, 2, 3, 1, 0, 3, 2, 1, 0, 3, 1, 2, 0, 1, 3, 2};
    expect_rows("block_interchange", 4, -1, 15, 4, bi4);
    expect_names("block_interchange", 4, -1, 15,
                 (const char *const[]){"I[0..0,1..1]", "I[0..0,1..2]", "I[0..0,1..3]",
                                       "I[0..0,2..2]", "I[0..0,2..3]", "I[0..0,3..3]",
                                       "I[0..1,2..2]", "I[0..1,2..3]", "I[0..1,3..3]",
                                       "I[0..2,3..3]", "I[1..1,2..2]", "I[1..1,2..3]",
                                       "I[1..1,3..3]", "I[1..2,3..3]", "I[2..2,3..3]"});
}

static void test_three_cycles(void **state)
{
    (void)state;
    const uint8_t tc4[] = {1, 2, 0, 3, 1, 3, 2, 0, 2, 0, 1, 3, 2, 1, 3, 0,
                           3, 0, 2, 1, 3, 1, 0, 2, 0, 2, 3, 1, 0, 3, 1, 2};
    expect_rows("three_cycles", 4, -1, 8, 4, tc4);
    expect_names("three_cycles", 4, -1, 8,
                 (const char *const[]){"(0 1 2)", "(0 1 3)", "(0 2 1)", "(0 2 3)", "(0 3 1)",
                                       "(0 3 2)", "(1 2 3)", "(1 3 2)"});

    const uint8_t t0ij[] = {1, 2, 0, 3, 1, 3, 2, 0, 2, 0, 1, 3, 2, 1, 3, 0, 3, 0, 2, 1, 3, 1, 0, 2};
    expect_rows("three_cycles_0ij", 4, -1, 6, 4, t0ij);

    const uint8_t t01i[] = {1, 2, 0, 3, 2, 0, 1, 3, 1, 3, 2, 0, 3, 0, 2, 1};
    expect_rows("three_cycles_01i", 4, -1, 4, 4, t01i);
    expect_names("three_cycles_01i", 4, -1, 4,
                 (const char *const[]){"(0 1 2)", "(1 0 2)", "(0 1 3)", "(1 0 3)"});
    assert_true(closed_flag("three_cycles_01i", 4, -1));

    const uint8_t t01i_noinv[] = {1, 2, 0, 3, 1, 3, 2, 0};
    expect_rows("three_cycles_01i", 4, 0, 2, 4, t01i_noinv);
    expect_names("three_cycles_01i", 4, 0, 2, (const char *const[]){"(0 1 2)", "(0 1 3)"});
    assert_false(closed_flag("three_cycles_01i", 4, 0));
}

static void test_derangement_families(void **state)
{
    (void)state;
    expect_rows("derangements", 2, -1, 1, 2, (const uint8_t[]){1, 0});
    expect_rows("derangements", 3, -1, 2, 3, (const uint8_t[]){1, 2, 0, 2, 0, 1});
    /* Names are indices in the full itertools.permutations list: 120 is #3, 201 is #4. */
    expect_names("derangements", 3, -1, 2, (const char *const[]){"D3", "D4"});

    expect_rows("involutive_derangements", 2, -1, 1, 2, (const uint8_t[]){1, 0});
    const uint8_t id4[] = {1, 0, 3, 2, 2, 3, 0, 1, 3, 2, 1, 0};
    expect_rows("involutive_derangements", 4, -1, 3, 4, id4);
}

static void test_rapaport(void **state)
{
    (void)state;
    expect_rows("rapaport_m1", 4, -1, 3, 4, (const uint8_t[]){1, 0, 2, 3, 1, 0, 3, 2, 0, 2, 1, 3});
    const uint8_t m1_5[] = {1, 0, 2, 3, 4, 1, 0, 3, 2, 4, 0, 2, 1, 3, 4, 0, 2, 1, 4, 3};
    expect_rows("rapaport_m1", 5, -1, 4, 5, m1_5);
    const uint8_t m1_6[] = {1, 0, 2, 3, 4, 5, 1, 0, 3, 2, 4, 5, 1, 0, 3,
                            2, 5, 4, 0, 2, 1, 3, 4, 5, 0, 2, 1, 4, 3, 5};
    expect_rows("rapaport_m1", 6, -1, 5, 6, m1_6);
    expect_names("rapaport_m1", 6, -1, 5,
                 (const char *const[]){"M1_0_1", "M1_0_2", "M1_0_3", "M1_1_1", "M1_1_2"});

    const uint8_t m2_6[] = {1, 0, 2, 3, 4, 5, 1, 0, 3, 2, 5, 4, 0, 2, 1, 4, 3, 5};
    expect_rows("rapaport_m2", 6, -1, 3, 6, m2_6);
    expect_names("rapaport_m2", 6, -1, 3,
                 (const char *const[]){"(0,1)", "EvenDisjTrans", "OddDisjTrans"});
    const uint8_t m2_5[] = {1, 0, 2, 3, 4, 1, 0, 3, 2, 4, 0, 2, 1, 4, 3};
    expect_rows("rapaport_m2", 5, -1, 3, 5, m2_5);
}

static void test_cycle_families(void **state)
{
    (void)state;
    const uint8_t wk53[] = {1, 2, 0, 3, 4, 0, 2, 3, 1, 4, 0, 1, 3,
                            4, 2, 3, 1, 2, 4, 0, 1, 4, 2, 3, 0};
    expect_rows("wrapped_k_cycles", 5, 3, 5, 5, wk53);
    expect_rows("wrapped_k_cycles", 5, -1, 5, 5, wk53); /* default k = 3 */

    expect_rows("larx", 5, -1, 2, 5, (const uint8_t[]){1, 0, 2, 3, 4, 0, 2, 3, 4, 1});
    expect_rows("larx", 3, -1, 2, 3, (const uint8_t[]){1, 0, 2, 0, 2, 1});
    expect_rows("larx", 4, -1, 2, 4, (const uint8_t[]){1, 0, 2, 3, 0, 2, 3, 1});
    assert_false(closed_flag("larx", 5, -1));

    /* all_cycles(3): the transpositions in combinations order, then the 3-cycles. */
    const uint8_t ac3[] = {1, 0, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0, 2, 0, 1};
    expect_rows("all_cycles", 3, -1, 5, 3, ac3);

    expect_rows("lsl_cycles", 4, -1, 4, 4,
                (const uint8_t[]){1, 2, 3, 0, 0, 2, 3, 1, 3, 0, 1, 2, 0, 3, 1, 2});
    expect_names("lsl_cycles", 4, -1, 4, (const char *const[]){"L", "S", "L'", "S'"});
    expect_rows("lsl_cycles", 4, 0, 2, 4, (const uint8_t[]){1, 2, 3, 0, 0, 2, 3, 1});

    expect_rows("consecutive_k_cycles", 5, 3, 3, 5,
                (const uint8_t[]){1, 2, 0, 3, 4, 0, 2, 3, 1, 4, 0, 1, 3, 4, 2});
    expect_rows("increasing_k_cycles", 4, 3, 4, 4,
                (const uint8_t[]){1, 2, 0, 3, 1, 3, 2, 0, 2, 1, 3, 0, 0, 2, 3, 1});
    expect_rows("down_cycles", 3, -1, 3, 3, (const uint8_t[]){1, 0, 2, 1, 2, 0, 0, 2, 1});
    expect_rows("prefix_cycles", 4, -1, 3, 4,
                (const uint8_t[]){1, 0, 2, 3, 1, 2, 0, 3, 1, 2, 3, 0});
}

/* ---- counts against the table's closed forms ---------------------------------------------- */

static void test_counts(void **state)
{
    (void)state;
    for (int n = 3; n <= 12; n++) {
        expect_count("lrx", n, -1, 3);
        expect_count("lx", n, -1, 2);
        expect_count("coxeter", n, -1, n - 1);
        expect_count("cyclic_coxeter", n, -1, n);
        expect_count("pancake", n, -1, n - 1);
        expect_count("burnt_pancake", n, -1, n);
        expect_count("full_reversals", n, -1, n * (n - 1) / 2);
        expect_count("signed_reversals", n, -1, n * (n + 1) / 2);
        expect_count("all_transpositions", n, -1, n * (n - 1) / 2);
        expect_count("stars", n, -1, n - 1);
        for (int k = 1; k < n; k++)
            expect_count("generalized_stars", n, k, k * (n - k));
        expect_count("transposons", n, -1, binom(n + 1, 3));
        expect_count("block_interchange", n, -1, binom(n + 2, 4));
        expect_count("three_cycles", n, -1, n * (n - 1) * (n - 2) / 3);
        expect_count("three_cycles_0ij", n, -1, (n - 1) * (n - 2));
        expect_count("three_cycles_01i", n, -1, 2 * (n - 2));
        expect_count("three_cycles_01i", n, 0, n - 2);
        expect_count("rapaport_m1", n, -1, n / 2 + (n - 1) / 2);
        expect_count("rapaport_m2", n, -1, 3);
        expect_count("lsl_cycles", n, -1, 4);
        expect_count("lsl_cycles", n, 0, 2);
        for (int k = 2; k <= n; k++) {
            expect_count("wrapped_k_cycles", n, k, n);
            expect_count("consecutive_k_cycles", n, k, n - k + 1);
            expect_count("increasing_k_cycles", n, k, binom(n, k));
        }
        expect_count("down_cycles", n, -1, n * (n - 1) / 2);
        expect_count("prefix_cycles", n, -1, n - 1);
        expect_count("larx", n, -1, 2);
    }
    for (int n = 4; n <= 12; n++)
        expect_count("top_spin", n, -1, 3);
    for (int n = 2; n <= 8; n++) {
        expect_count("derangements", n, -1, derangement_number(n));
        long cycles = 0;
        for (int k = 2; k <= n; k++)
            cycles += binom(n, k) * factorial(k - 1);
        expect_count("all_cycles", n, -1, cycles);
    }
    /* OEIS A006231, as CayleyPy's own test has it. */
    expect_count("all_cycles", 4, -1, 20);
    expect_count("all_cycles", 5, -1, 84);
    expect_count("all_cycles", 6, -1, 409);
    expect_count("derangements", 4, -1, 9);
    expect_count("derangements", 5, -1, 44);
    for (int n = 2; n <= 12; n += 2)
        expect_count("involutive_derangements", n, -1, double_factorial(n - 1));
    expect_count("involutive_derangements", 6, -1, 15);
    expect_count("involutive_derangements", 8, -1, 105);
    for (int n = 6; n <= 12; n++)
        for (int s = 1; s <= 7; s++)
            expect_count("cubic_pancake", n, s, 3);
}

/* ---- inverse closure ------------------------------------------------------------------- */

static const char *const closed_families[] = {
    "lrx",
    "top_spin",
    "coxeter",
    "cyclic_coxeter",
    "pancake",
    "cubic_pancake",
    "burnt_pancake",
    "full_reversals",
    "signed_reversals",
    "all_transpositions",
    "stars",
    "generalized_stars",
    "transposons",
    "block_interchange",
    "three_cycles",
    "three_cycles_0ij",
    "three_cycles_01i",
    "derangements",
    "rapaport_m1",
    "rapaport_m2",
    "all_cycles",
    "lsl_cycles",
    NULL,
};

static const char *const open_families[] = {"lx", "larx", "down_cycles", "prefix_cycles", NULL};

static void test_inverse_closed(void **state)
{
    (void)state;
    for (int n = 4; n <= 8; n++) {
        for (const char *const *f = closed_families; *f; f++)
            assert_true(closed_flag(*f, n, -1));
        for (const char *const *f = open_families; *f; f++)
            assert_false(closed_flag(*f, n, -1));
        assert_false(closed_flag("three_cycles_01i", n, 0));
        assert_false(closed_flag("lsl_cycles", n, 0));
        assert_true(closed_flag("wrapped_k_cycles", n, 2));
        assert_true(closed_flag("consecutive_k_cycles", n, 2));
        assert_true(closed_flag("increasing_k_cycles", n, 2));
        for (int k = 3; k <= n; k++) {
            assert_false(closed_flag("wrapped_k_cycles", n, k));
            assert_false(closed_flag("consecutive_k_cycles", n, k));
            assert_false(closed_flag("increasing_k_cycles", n, k));
        }
        for (int s = 1; s <= 7; s++)
            assert_true(closed_flag("cubic_pancake", n, s));
    }
    for (int n = 2; n <= 12; n += 2)
        assert_true(closed_flag("involutive_derangements", n, -1));
}

static void test_inverse_closed_direct(void **state)
{
    (void)state;
    const uint8_t pair[] = {1, 2, 0, 2, 0, 1};
    assert_true(sb_perms_inverse_closed(2, 3, pair));
    assert_false(sb_perms_inverse_closed(1, 3, pair));
    const uint8_t involution[] = {1, 0, 2};
    assert_true(sb_perms_inverse_closed(1, 3, involution));
    const uint8_t not_perm[] = {0, 0, 2};
    assert_false(sb_perms_inverse_closed(1, 3, not_perm));
    /* Order does not matter, and a repeated generator does not hide a missing inverse. */
    const uint8_t mixed[] = {1, 0, 2, 3, 1, 2, 3, 0, 0, 2, 1, 3, 3, 0, 1, 2};
    assert_true(sb_perms_inverse_closed(4, 4, mixed));
    assert_false(sb_perms_inverse_closed(3, 4, mixed));

    assert_true(sb_is_permutation(3, pair));
    assert_false(sb_is_permutation(3, not_perm));
    const uint8_t out_of_range[] = {0, 3, 1};
    assert_false(sb_is_permutation(3, out_of_range));
    assert_false(sb_is_permutation(0, pair));
}

/* ---- structural checks on every family ---------------------------------------------------- */

/* Rows are permutations of the state length, names are set, and (for n >= 6, where the small
 * coincidences of cubic_pancake, rapaport_m2 and friends are gone) rows and names are unique
 * and no generator is the identity. */
static void check_structure(const sb_family *f, int n, int k)
{
    sb_genset gs;
    build_ok(&gs, f->name, n, k);
    assert_int_equal(gs.m, f->signed_states ? 2 * n : n);
    assert_int_equal(rows_built(f->name, n, k, gs.ngens), gs.ngens);
    assert_string_equal(gs.family, f->name);
    /* Pairwise checks are quadratic: skip them for the few sets with thousands of rows. */
    bool distinct =
        n >= 6 && gs.ngens <= 3000 && !(strcmp(f->name, "wrapped_k_cycles") == 0 && gs.k == n);
    for (int g = 0; g < gs.ngens; g++) {
        const uint8_t *p = gs.perm + (size_t)g * (size_t)gs.m;
        assert_true(row_is_perm(p, gs.m));
        assert_true(gs.names[g][0] != '\0');
        assert_true(strlen(gs.names[g]) < SB_NAME_MAX);
        if (!distinct)
            continue;
        assert_false(row_is_identity(p, gs.m));
        for (int h = 0; h < g; h++) {
            assert_memory_not_equal(p, gs.perm + (size_t)h * (size_t)gs.m, (size_t)gs.m);
            assert_string_not_equal(gs.names[g], gs.names[h]);
        }
    }
    sb_genset_free(&gs);
}

static void test_structure_all_families(void **state)
{
    (void)state;
    for (const sb_family *const *f = sb_families(); *f; f++) {
        int top = (*f)->max_n < 9 ? (*f)->max_n : 9;
        for (int n = (*f)->min_n; n <= top; n++) {
            if (strcmp((*f)->name, "involutive_derangements") == 0 && n % 2)
                continue;
            if (!(*f)->takes_k) {
                check_structure(*f, n, -1);
                continue;
            }
            for (int k = 0; k <= n; k++) {
                sb_diag diag;
                sb_diag_init(&diag);
                sb_genset probe;
                bool valid = sb_genset_family(&probe, (*f)->name, n, k, &diag) == SB_OK;
                sb_genset_free(&probe);
                sb_diag_free(&diag);
                if (valid)
                    check_structure(*f, n, k);
            }
        }
    }
}

/* ---- the library's sets against the ones the tests rebuild (tests/util/refgens.c) -------- */

/* Both builds of family(n, k) when the library accepts it: same state length, same rows in
 * the same order.  The reference BFS of test_growth runs on refgens, so this shows that its
 * comparisons are against the table and not against a second copy of a mistake. */
static void compare_with_refgens(const char *family, int n, int k)
{
    sb_genset gs;
    sb_diag diag;
    sb_diag_init(&diag);
    int rc = sb_genset_family(&gs, family, n, k, &diag);
    sb_diag_free(&diag);
    if (rc != SB_OK)
        return;
    assert_int_equal(refgens_default_k(family, k), gs.k);
    refgens ref;
    int built = refgens_build(&ref, family, n, k);
    if (built != 0)
        fprintf(stderr, "refgens cannot build %s(n=%d, k=%d)\n", family, n, k);
    assert_int_equal(built, 0);
    if (ref.ngens != gs.ngens || memcmp(ref.perm, gs.perm, (size_t)gs.ngens * gs.m) != 0)
        fprintf(stderr, "%s(n=%d, k=%d): library and refgens differ (%d vs %d rows)\n", family, n,
                k, gs.ngens, ref.ngens);
    assert_int_equal(ref.m, gs.m);
    assert_int_equal(ref.ngens, gs.ngens);
    assert_memory_equal(ref.perm, gs.perm, (size_t)gs.ngens * (size_t)gs.m);
    refgens_free(&ref);
    sb_genset_free(&gs);
}

static void test_refgens_match(void **state)
{
    (void)state;
    for (const sb_family *const *f = sb_families(); *f; f++) {
        int top = (*f)->max_n < 9 ? (*f)->max_n : 9;
        for (int n = (*f)->min_n; n <= top; n++) {
            compare_with_refgens((*f)->name, n, -1);
            for (int k = 0; (*f)->takes_k && k <= n; k++)
                compare_with_refgens((*f)->name, n, k);
        }
    }
    assert_int_equal(refgens_default_k("no_such_family", -1), -1);
}

/* ---- the family table ------------------------------------------------------------------- */

static const char *const expected_order[] = {
    "lrx",
    "lx",
    "top_spin",
    "coxeter",
    "cyclic_coxeter",
    "pancake",
    "cubic_pancake",
    "burnt_pancake",
    "full_reversals",
    "signed_reversals",
    "all_transpositions",
    "stars",
    "generalized_stars",
    "transposons",
    "block_interchange",
    "three_cycles",
    "three_cycles_0ij",
    "three_cycles_01i",
    "derangements",
    "involutive_derangements",
    "rapaport_m1",
    "rapaport_m2",
    "all_cycles",
    "lsl_cycles",
    "wrapped_k_cycles",
    "consecutive_k_cycles",
    "increasing_k_cycles",
    "down_cycles",
    "prefix_cycles",
    "larx",
    NULL,
};

static void test_family_table(void **state)
{
    (void)state;
    const sb_family *const *fams = sb_families();
    int i = 0;
    for (; expected_order[i]; i++) {
        assert_non_null(fams[i]);
        assert_string_equal(fams[i]->name, expected_order[i]);
        assert_ptr_equal(sb_family_find(expected_order[i]), fams[i]);
        const sb_family *f = fams[i];
        assert_non_null(f->params);
        assert_non_null(f->group);
        assert_non_null(f->count);
        assert_non_null(f->build);
        assert_true(f->min_n >= 1 && f->min_n <= f->max_n);
        assert_true((f->signed_states ? 2 : 1) * f->max_n <= SB_MAX_ELEMS);
    }
    assert_null(fams[i]);
    assert_null(sb_family_find("sheveleva2"));
    assert_null(sb_family_find("LRX"));
    assert_null(sb_family_find(NULL));
}

/* The table's counts of the families that grow fast (generators.md section 1). */
static long growing_count(const char *family, int n)
{
    if (strcmp(family, "transposons") == 0)
        return binom(n + 1, 3);
    if (strcmp(family, "block_interchange") == 0)
        return binom(n + 2, 4);
    if (strcmp(family, "three_cycles") == 0)
        return (long)n * (n - 1) * (n - 2) / 3;
    if (strcmp(family, "derangements") == 0)
        return derangement_number(n);
    long cycles = 0; /* all_cycles */
    for (int k = 2; k <= n; k++)
        cycles += binom(n, k) * factorial(k - 1);
    return cycles;
}

/* max_n is where the generator count stops fitting SB_MAX_GENS, for the families that grow. */
static void test_max_n_is_tight(void **state)
{
    (void)state;
    const char *const grow[] = {"transposons",  "block_interchange", "three_cycles",
                                "derangements", "all_cycles",        NULL};
    for (int i = 0; grow[i]; i++) {
        const sb_family *f = sb_family_find(grow[i]);
        long at_max = growing_count(grow[i], f->max_n);
        assert_true(at_max <= SB_MAX_GENS);
        assert_true(growing_count(grow[i], f->max_n + 1) > SB_MAX_GENS);
        expect_count(grow[i], f->max_n, -1, at_max);
    }
    const sb_family *inv = sb_family_find("involutive_derangements");
    expect_count("involutive_derangements", inv->max_n, -1, double_factorial(inv->max_n - 1));
    assert_true(double_factorial(inv->max_n + 1) > SB_MAX_GENS);
    /* The largest states: 255 elements, or 2 * 127 for the signed families. */
    expect_count("coxeter", 255, -1, 254);
    expect_count("full_reversals", 255, -1, 255 * 254 / 2);
    sb_genset gs;
    build_ok(&gs, "signed_reversals", 127, -1);
    assert_int_equal(gs.m, 254);
    assert_true(gs.inverse_closed);
    sb_genset_free(&gs);
    expect_count("increasing_k_cycles", 85, 3, binom(85, 3));
}

/* ---- parameter errors -------------------------------------------------------------------- */

static void test_param_errors(void **state)
{
    (void)state;
    expect_error("lrx", 2, -1, "lrx: n must satisfy 3 <= n <= 255 (got n = 2)");
    expect_error("lrx", 5, 7, "lrx: k must satisfy 1 <= k < n (got k = 7, n = 5)");
    expect_error("lrx", 5, 5, "lrx: k must satisfy 1 <= k < n");
    expect_error("lrx", 5, 0, "lrx: k must satisfy 1 <= k < n");
    expect_error("lrx", 256, -1, "lrx: n must satisfy");
    expect_error("top_spin", 3, -1, "top_spin: k must satisfy 2 <= k <= n (got k = 4, n = 3)");
    expect_error("top_spin", 6, 1, "top_spin: k must satisfy 2 <= k <= n");
    expect_error("involutive_derangements", 5, -1, "involutive_derangements: n must be even");
    expect_error("derangements", 9, -1, "derangements: n must satisfy 2 <= n <= 8 (got n = 9)");
    expect_error("burnt_pancake", 128, -1, "burnt_pancake: n must satisfy 1 <= n <= 127");
    expect_error("signed_reversals", 0, -1, "signed_reversals: n must satisfy 1 <= n <= 127");
    expect_error("three_cycles", 2, -1, "three_cycles: n must satisfy 3 <= n <= 67");
    expect_error("three_cycles", 68, -1, "three_cycles: n must satisfy 3 <= n <= 67");
    expect_error("three_cycles_01i", 5, 2, "three_cycles_01i: k (add_inverses) must be 0 or 1");
    expect_error("lsl_cycles", 5, 3, "lsl_cycles: k (add_inverses) must be 0 or 1");
    expect_error("cubic_pancake", 6, 8, "cubic_pancake: k (the subset) must satisfy 1 <= k <= 7");
    expect_error("cubic_pancake", 2, 2, "cubic_pancake: subset k = 2 needs n >= 3");
    expect_error("generalized_stars", 4, 4, "generalized_stars: k must satisfy 1 <= k < n");
    expect_error("wrapped_k_cycles", 5, 6, "wrapped_k_cycles: k must satisfy 2 <= k <= n");
    expect_error("consecutive_k_cycles", 5, 1, "consecutive_k_cycles: k must satisfy 2 <= k <= n");
    expect_error("increasing_k_cycles", 2, -1, "increasing_k_cycles: k must satisfy 2 <= k <= n");
    expect_error("increasing_k_cycles", 255, 3, "increasing_k_cycles: C(n, k) generators exceed");
    expect_error("coxeter", 5, 3, "coxeter: takes no parameter k (got k = 3)");
    expect_error("no_such_family", 5, -1, "unknown generator family 'no_such_family'");
    expect_error("transposons", 85, -1, "transposons: n must satisfy 2 <= n <= 84");
    expect_error("block_interchange", 39, -1, "block_interchange: n must satisfy 2 <= n <= 38");

    /* The whole message, exactly: one line, no location. */
    sb_genset gs;
    sb_diag diag;
    sb_diag_init(&diag);
    assert_int_equal(sb_genset_family(&gs, "lrx", 5, 7, &diag), SB_EINPUT);
    assert_string_equal(sb_diag_text(&diag), "lrx: k must satisfy 1 <= k < n (got k = 7, n = 5)\n");
    sb_diag_free(&diag);

    /* k = 0 is the "no parameter" value for families without k. */
    build_ok(&gs, "coxeter", 5, 0);
    assert_int_equal(gs.k, 0);
    sb_genset_free(&gs);
}

/* ---- explicit sets ---------------------------------------------------------------------- */

static void test_explicit_good(void **state)
{
    (void)state;
    sb_genset gs;
    sb_diag diag;
    sb_diag_init(&diag);
    const uint8_t rows[] = {1, 2, 3, 0, 3, 0, 1, 2, 1, 0, 2, 3};
    assert_int_equal(sb_genset_explicit(&gs, 3, 4, rows, &diag), SB_OK);
    assert_int_equal(diag.count, 0);
    assert_int_equal(gs.ngens, 3);
    assert_int_equal(gs.m, 4);
    assert_int_equal(gs.n, 4);
    assert_int_equal(gs.k, 0);
    assert_string_equal(gs.family, "explicit");
    assert_string_equal(gs.names[0], "g0");
    assert_string_equal(gs.names[2], "g2");
    assert_memory_equal(gs.perm, rows, sizeof rows);
    assert_ptr_not_equal(gs.perm, rows); /* a copy */
    assert_true(gs.inverse_closed);
    sb_genset_free(&gs);
    assert_null(gs.perm);

    assert_int_equal(sb_genset_explicit(&gs, 2, 4, rows + 4, &diag), SB_OK);
    assert_false(gs.inverse_closed); /* [3,0,1,2] without its inverse [1,2,3,0] */
    sb_genset_free(&gs);

    const uint8_t one[] = {0};
    assert_int_equal(sb_genset_explicit(&gs, 1, 1, one, &diag), SB_OK);
    assert_true(gs.inverse_closed);
    sb_genset_free(&gs);
    sb_diag_free(&diag);
}

static void test_explicit_bad(void **state)
{
    (void)state;
    sb_genset gs;
    sb_diag diag;
    sb_diag_init(&diag);
    const uint8_t rows[] = {
        0, 1, 2, 3, 4, /* fine */
        1, 7, 2, 3, 4, /* 7 out of range */
        4, 3, 2, 1, 0, /* fine */
        2, 1, 2, 3, 4, /* 2 repeated */
        9, 9, 9, 9, 9, /* out of range comes first */
    };
    assert_int_equal(sb_genset_explicit(&gs, 5, 5, rows, &diag), SB_EINPUT);
    assert_int_equal(diag.count, 3);
    assert_string_equal(sb_diag_text(&diag),
                        "generator 1 is not a permutation of 0..4: value 7 out of range\n"
                        "generator 3 is not a permutation of 0..4: value 2 repeated\n"
                        "generator 4 is not a permutation of 0..4: value 9 out of range\n");
    assert_null(gs.perm);
    sb_diag_free(&diag);

    sb_diag_init(&diag);
    assert_int_equal(sb_genset_explicit(&gs, 0, 5, rows, &diag), SB_EINPUT);
    assert_int_equal(sb_genset_explicit(&gs, 1, 0, rows, &diag), SB_EINPUT);
    assert_int_equal(sb_genset_explicit(&gs, 1, 256, rows, &diag), SB_EINPUT);
    assert_int_equal(sb_genset_explicit(&gs, 1, 5, NULL, &diag), SB_EINPUT);
    assert_int_equal(diag.count, 4);
    sb_diag_free(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lrx_lx),
        cmocka_unit_test(test_top_spin),
        cmocka_unit_test(test_pancakes),
        cmocka_unit_test(test_transposition_families),
        cmocka_unit_test(test_reversals),
        cmocka_unit_test(test_block_moves),
        cmocka_unit_test(test_three_cycles),
        cmocka_unit_test(test_derangement_families),
        cmocka_unit_test(test_rapaport),
        cmocka_unit_test(test_cycle_families),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_inverse_closed),
        cmocka_unit_test(test_inverse_closed_direct),
        cmocka_unit_test(test_structure_all_families),
        cmocka_unit_test(test_refgens_match),
        cmocka_unit_test(test_family_table),
        cmocka_unit_test(test_max_n_is_tight),
        cmocka_unit_test(test_param_errors),
        cmocka_unit_test(test_explicit_good),
        cmocka_unit_test(test_explicit_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
