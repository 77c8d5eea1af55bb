/* Schreier-Sims (include/symbatch/bsgs.h): group orders against closed forms and published
 * values (S_n, A_n, cyclic, dihedral, PSL(2,7), M_11, the 2x2x2 and 3x3x3 cube groups), the
 * perfect hash as a bijection onto [0, |G|) over whole small groups, ranks of states reached by
 * applying generators, random round trips in the cube group, and membership of non-members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/bsgs.h"
#include "symbatch/core.h"
#include "symbatch/perm.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------------------------- */

/* GAP cycle notation, 1-based ("(1,3,8,6)(2,5,7,4)"), into a 0-based array with
 * p[c_j] = c_{j+1}, the cycle convention of generators.md (GAP's image of c_j is c_{j+1}). */
static void gap_perm(const char *text, int m, uint8_t *p)
{
    for (int i = 0; i < m; i++)
        p[i] = (uint8_t)i;
    int cyc[256], len = 0;
    for (const char *s = text; *s;) {
        if (*s == '(') {
            len = 0;
            s++;
        } else if (*s >= '0' && *s <= '9') {
            char *end;
            long v = strtol(s, &end, 10);
            assert_true(v >= 1 && v <= m);
            cyc[len++] = (int)v - 1;
            s = end;
        } else if (*s == ')') {
            for (int j = 0; j < len; j++)
                p[cyc[j]] = (uint8_t)cyc[(j + 1) % len];
            s++;
        } else {
            s++;
        }
    }
    assert_true(sb_is_permutation(m, p));
}

static void build(sb_bsgs *b, int m, int ngens, const uint8_t *rows)
{
    assert_int_equal(sb_bsgs_init(b, m, ngens, rows), 0);
}

static void assert_order(const sb_bsgs *b, const char *want)
{
    char buf[600];
    assert_int_equal(sb_bsgs_order_string(b, buf, sizeof buf), 0);
    assert_string_equal(buf, want);
}

static void assert_order_u(const sb_bsgs *b, sb_u128 want)
{
    char w[48];
    assert_int_equal(sb_u128_string(want, w, sizeof w), 0);
    assert_false(b->order_overflow);
    assert_order(b, w);
    assert_true(b->order == want);
}

static void identity(uint8_t *p, int m)
{
    for (int i = 0; i < m; i++)
        p[i] = (uint8_t)i;
}

/* The n-cycle (0 1 ... n-1) into row 0 of m points and (0 1) into row 1: S_n on 0..n-1. */
static void sym_gens(uint8_t *rows, int m, int n)
{
    identity(rows, m);
    identity(rows + m, m);
    for (int i = 0; i < n; i++)
        rows[i] = (uint8_t)((i + 1) % n);
    rows[m + 0] = 1;
    rows[m + 1] = 0;
}

static sb_u128 factorial(int n)
{
    sb_u128 f = 1;
    for (int i = 2; i <= n; i++)
        f *= (sb_u128)i;
    return f;
}

/* The six face turns of the 3x3x3 cube on 48 facelets, in GAP's numbering and order (top,
 * left, front, right, rear, bottom): GAP's manual example "Analyzing Rubik's Cube with GAP"
 * (www.gap-system.org/Doc/Examples/rubik.html), where Size(cube) = 43252003274489856000. */
static const char *const cube3[6] = {
    "(1,3,8,6)(2,5,7,4)(9,33,25,17)(10,34,26,18)(11,35,27,19)",
    "(9,11,16,14)(10,13,15,12)(1,17,41,40)(4,20,44,37)(6,22,46,35)",
    "(17,19,24,22)(18,21,23,20)(6,25,43,16)(7,28,42,13)(8,30,41,11)",
    "(25,27,32,30)(26,29,31,28)(3,38,43,19)(5,36,45,21)(8,33,48,24)",
    "(33,35,40,38)(34,37,39,36)(3,9,46,32)(2,12,47,29)(1,14,48,27)",
    "(41,43,48,46)(42,45,47,44)(14,22,30,38)(15,23,31,39)(16,24,32,40)",
};
enum { TOP, LEFT, FRONT, RIGHT, REAR, BOTTOM };

/* GAP's facelets on corners (the face's positions 1, 3, 6, 8; edges are 2, 4, 5, 7). */
static bool corner_facelet(int f)
{
    int k = f % 8;
    return k == 0 || k == 2 || k == 5 || k == 7;
}

/* The 2x2x2 cube is the 3x3x3 cube's corners: the face turns restricted to the 24 corner
 * facelets, renumbered 0..23 in increasing GAP order. */
static void cube2_gen(int face, uint8_t *p)
{
    uint8_t full[48];
    int to24[48], n = 0;
    gap_perm(cube3[face], 48, full);
    for (int f = 0; f < 48; f++)
        to24[f] = corner_facelet(f) ? n++ : -1;
    assert_int_equal(n, 24);
    for (int f = 0; f < 48; f++)
        if (corner_facelet(f)) {
            assert_true(corner_facelet(full[f])); /* turns keep corners corners */
            p[to24[f]] = (uint8_t)to24[full[f]];
        }
}

/* Every rank of the group unranks to a member that ranks back (so unrank is injective and rank
 * is onto [0, |G|)), and the identity ranks 0. */
static void check_bijection(const sb_bsgs *b)
{
    const int m = b->m;
    uint8_t p[256];
    assert_true(b->order < ((sb_u128)1 << 32));
    uint64_t n = (uint64_t)b->order;
    for (uint64_t r = 0; r < n; r++) {
        sb_bsgs_unrank64(b, r, p);
        if (r == 0) {
            uint8_t id[256];
            identity(id, m);
            assert_memory_equal(p, id, (size_t)m);
        }
        assert_true(sb_is_permutation(m, p));
        assert_true(sb_bsgs_contains(b, p));
        assert_true(sb_bsgs_rank64(b, p) == r);
        assert_true(sb_bsgs_rank(b, p) == (sb_u128)r);
    }
}

/* Breadth-first closure from the identity under new[i] = old[p[i]]: every state reached is a
 * member whose rank unranks back to it, the ranks are distinct, and they cover [0, |G|). */
static void check_states(const sb_bsgs *b, int ngens, const uint8_t *rows)
{
    const int m = b->m;
    uint64_t n = (uint64_t)b->order;
    /* one spare row: a candidate is written at the tail before it is known to be new */
    uint8_t *seen = calloc(n, 1), *queue = malloc((n + 1) * (size_t)m), back[256];
    assert_non_null(seen);
    assert_non_null(queue);
    identity(queue, m);
    seen[sb_bsgs_rank64(b, queue)] = 1;
    uint64_t head = 0, tail = 1;
    while (head < tail) {
        const uint8_t *s = queue + head++ * (size_t)m;
        for (int g = 0; g < ngens; g++) {
            uint8_t *t = queue + tail * (size_t)m;
            sb_perm_apply(m, rows + (size_t)g * (size_t)m, s, t);
            uint64_t r = sb_bsgs_rank64(b, t);
            assert_true(r < n);
            if (seen[r])
                continue;
            seen[r] = 1;
            sb_bsgs_unrank64(b, r, back);
            assert_memory_equal(back, t, (size_t)m);
            tail++;
        }
    }
    assert_true(tail == n);
    free(seen);
    free(queue);
}

/* The sequential unranker agrees with unrank64 stepping by one (over the first 400,000 ranks), and
 * on random strides (forwards and backwards). */
static void check_unranker(const sb_bsgs *b)
{
    sb_bsgs_unranker u;
    assert_int_equal(sb_bsgs_unranker_init(&u, b), 0);
    uint8_t p[256], q[256];
    uint64_t n = (uint64_t)b->order, first = n < 400000 ? n : 400000;
    for (uint64_t r = 0; r < first; r++) {
        sb_bsgs_unranker_seek(&u, r, p);
        sb_bsgs_unrank64(b, r, q);
        assert_memory_equal(p, q, (size_t)b->m);
    }
    uint64_t r = 0;
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t step = sb_rand64(3, 0, i) % (i % 3 == 0 ? n : 1000);
        r = i % 7 == 0 ? step % n : (r + step) % n;
        sb_bsgs_unranker_seek(&u, r, p);
        sb_bsgs_unrank64(b, r, q);
        assert_memory_equal(p, q, (size_t)b->m);
    }
    sb_bsgs_unranker_free(&u);
}

/* ---- orders ------------------------------------------------------------------------------- */

static void test_symmetric(void **state)
{
    (void)state;
    uint8_t rows[2 * 40];
    for (int n = 2; n <= 34; n++) {
        sb_bsgs b;
        sym_gens(rows, n, n);
        build(&b, n, 2, rows);
        assert_order_u(&b, factorial(n));
        assert_int_equal(b.nlevels, n - 1);
        sb_bsgs_free(&b);
    }
    sb_bsgs b;
    sym_gens(rows, 35, 35); /* 35! > 2^128 */
    build(&b, 35, 2, rows);
    assert_true(b.order_overflow);
    assert_false(sb_bsgs_fits63(&b));
    uint8_t p[35];
    sb_u128 r;
    identity(p, 35);
    assert_int_equal(sb_bsgs_rank_checked(&b, p, &r), SB_ELIMIT);
    assert_int_equal(sb_bsgs_unrank_checked(&b, 0, p), SB_ELIMIT);
    sb_bsgs_free(&b);
    sym_gens(rows, 40, 40);
    build(&b, 40, 2, rows);
    assert_order(&b, "815915283247897734345611269596115894272000000000");
    sb_bsgs_free(&b);
}

/* A_n from the 3-cycles (0 1 i), i = 2..n-1. */
static void test_alternating(void **state)
{
    (void)state;
    for (int n = 3; n <= 30; n++) {
        uint8_t rows[28 * 30];
        for (int i = 2; i < n; i++) {
            uint8_t *p = rows + (size_t)(i - 2) * n;
            identity(p, n);
            p[0] = 1;
            p[1] = (uint8_t)i;
            p[i] = 0;
        }
        sb_bsgs b;
        build(&b, n, n - 2, rows);
        assert_order_u(&b, factorial(n) / 2);
        sb_bsgs_free(&b);
    }
}

static void test_cyclic_dihedral(void **state)
{
    (void)state;
    for (int n = 1; n <= 60; n++) {
        uint8_t rows[2 * 60];
        for (int i = 0; i < n; i++) {
            rows[i] = (uint8_t)((i + 1) % n);
            rows[n + i] = (uint8_t)((n - i) % n); /* reflection i -> -i */
        }
        sb_bsgs b;
        build(&b, n, 1, rows);
        assert_order_u(&b, (sb_u128)n);
        sb_bsgs_free(&b);
        build(&b, n, 2, rows);
        assert_order_u(&b, (sb_u128)(n <= 2 ? n : 2 * n)); /* D_1 = C_1 and D_2 = C_2 here */
        sb_bsgs_free(&b);
    }
}

static void test_trivial_and_bad_input(void **state)
{
    (void)state;
    sb_bsgs b;
    uint8_t id[5], p[5];
    identity(id, 5);
    build(&b, 5, 0, NULL);
    assert_order_u(&b, 1);
    assert_true(sb_bsgs_rank(&b, id) == 0);
    memset(p, 9, sizeof p);
    sb_bsgs_unrank(&b, 0, p);
    assert_memory_equal(p, id, 5);
    sb_bsgs_unranker u;
    assert_int_equal(sb_bsgs_unranker_init(&u, &b), 0);
    memset(p, 9, sizeof p);
    sb_bsgs_unranker_seek(&u, 0, p);
    assert_memory_equal(p, id, 5);
    sb_bsgs_unranker_free(&u);
    sb_bsgs_free(&b);
    build(&b, 5, 1, id); /* an identity row */
    assert_order_u(&b, 1);
    sb_bsgs_free(&b);
    uint8_t bad[5] = {0, 1, 1, 3, 4}, big[5] = {0, 1, 2, 3, 5};
    assert_int_equal(sb_bsgs_init(&b, 5, 1, bad), SB_EINPUT);
    assert_int_equal(sb_bsgs_init(&b, 5, 1, big), SB_EINPUT);
    assert_int_equal(sb_bsgs_init(&b, 0, 0, NULL), SB_EINPUT);
    assert_int_equal(sb_bsgs_init(&b, 256, 0, NULL), SB_EINPUT);
    sb_bsgs_free(&b);
}

/* Points up to 254: S_12 on the last 12 of 255 points, and C_3^85 (order 3^85 > 2^128). */
static void test_255_points(void **state)
{
    (void)state;
    enum { M = 255 };
    uint8_t *rows = malloc(85 * M);
    assert_non_null(rows);
    sym_gens(rows, M, 12);
    for (int g = 0; g < 2; g++) { /* move them to points 243..254 */
        uint8_t *p = rows + g * M, q[M];
        identity(q, M);
        for (int i = 0; i < 12; i++)
            q[243 + i] = (uint8_t)(243 + p[i]);
        memcpy(p, q, M);
    }
    sb_bsgs b;
    build(&b, M, 2, rows);
    assert_order_u(&b, factorial(12));
    uint8_t p[M];
    sb_bsgs_unrank(&b, factorial(12) - 1, p);
    assert_true(sb_bsgs_contains(&b, p));
    assert_true(sb_bsgs_rank(&b, p) == factorial(12) - 1);
    sb_bsgs_free(&b);
    for (int c = 0; c < 85; c++) {
        uint8_t *q = rows + (size_t)c * M;
        identity(q, M);
        q[3 * c] = (uint8_t)(3 * c + 1);
        q[3 * c + 1] = (uint8_t)(3 * c + 2);
        q[3 * c + 2] = (uint8_t)(3 * c);
    }
    build(&b, M, 85, rows);
    assert_true(b.order_overflow);
    assert_order(&b, "35917545547686059365808220080151141317043");
    char small[10];
    assert_int_equal(sb_bsgs_order_string(&b, small, sizeof small), SB_ELIMIT);
    sb_bsgs_free(&b);
    free(rows);
}

/* ---- the cube groups ---------------------------------------------------------------------- */

static void test_cube3(void **state)
{
    (void)state;
    uint8_t rows[6 * 48];
    for (int f = 0; f < 6; f++)
        gap_perm(cube3[f], 48, rows + f * 48);
    sb_bsgs b;
    build(&b, 48, 6, rows);
    /* 8! 3^7 12! 2^11 / 2 = 43252003274489856000 (beyond 64 bits) */
    assert_order_u(&b, factorial(8) * 2187 * factorial(12) * 1024);
    assert_order(&b, "43252003274489856000");
    assert_false(sb_bsgs_fits63(&b)); /* 4.3e19 > 2^63: no full mode, but 128-bit ranks */
    /* random ranks round trip through elements */
    uint8_t p[48], q[48];
    for (uint64_t i = 0; i < 20000; i++) {
        sb_u128 r = (((sb_u128)sb_rand64(7, 1, i) << 64) | sb_rand64(7, 2, i)) % b.order;
        sb_bsgs_unrank(&b, r, p);
        assert_true(sb_is_permutation(48, p));
        assert_true(sb_bsgs_contains(&b, p));
        assert_true(sb_bsgs_rank(&b, p) == r);
    }
    /* random walks from the solved state: states rank and unrank back */
    identity(p, 48);
    for (uint64_t i = 0; i < 20000; i++) {
        sb_perm_apply(48, rows + (sb_rand64(8, 0, i) % 6) * 48, p, q);
        memcpy(p, q, sizeof p);
        sb_u128 r;
        assert_int_equal(sb_bsgs_rank_checked(&b, p, &r), 0);
        assert_true(r < b.order);
        sb_bsgs_unrank(&b, r, q);
        assert_memory_equal(q, p, 48);
    }
    sb_u128 top = b.order - 1, r;
    sb_bsgs_unrank(&b, top, p);
    assert_true(sb_bsgs_rank(&b, p) == top);
    assert_int_equal(sb_bsgs_unrank_checked(&b, b.order, p), SB_EINPUT);
    /* non-members: two edge facelets swapped (one edge flipped alone), one corner twisted
     * alone, two corners swapped alone (odd corner permutation with even edges) */
    const char *bad[] = {"(2,34)", "(1,9,35)", "(1,3)(9,33)(35,27)"};
    for (int k = 0; k < 3; k++) {
        gap_perm(bad[k], 48, p);
        assert_false(sb_bsgs_contains(&b, p));
        assert_int_equal(sb_bsgs_rank_checked(&b, p, &r), SB_EINPUT);
    }
    assert_true(sb_bsgs_contains(&b, rows + FRONT * 48));
    sb_bsgs_free(&b);
}

/* 2x2x2: the three turns top, front, right fix the corner of left, rear, bottom: 7! 3^6 =
 * 3,674,160.  All six turns include whole-cube rotations (top then bottom inverse), giving
 * every corner arrangement with total twist 0 mod 3: 8! 3^7 = 88,179,840 = 24 * 3,674,160.
 * (Both count permutations of the 24 facelets; each element is one colouring, since each
 * corner's three colours fix its position and twist.) */
static void test_cube2(void **state)
{
    (void)state;
    uint8_t rows[6 * 24];
    for (int f = 0; f < 6; f++)
        cube2_gen(f, rows + f * 24);
    uint8_t urf[3 * 24];
    memcpy(urf, rows + TOP * 24, 24);
    memcpy(urf + 24, rows + FRONT * 24, 24);
    memcpy(urf + 48, rows + RIGHT * 24, 24);
    sb_bsgs b;
    build(&b, 24, 3, urf);
    assert_order_u(&b, 3674160);
    assert_true(sb_bsgs_fits63(&b));
    check_bijection(&b);
    check_states(&b, 3, urf);
    check_unranker(&b);
    uint8_t p[24];
    cube2_gen(LEFT, p); /* moves the fixed corner */
    assert_false(sb_bsgs_contains(&b, p));
    sb_bsgs_free(&b);
    build(&b, 24, 6, rows);
    assert_order_u(&b, 88179840);
    assert_true(sb_bsgs_contains(&b, p));
    sb_bsgs_free(&b);
}

/* ---- whole small groups ------------------------------------------------------------------- */

static void test_small_bijections(void **state)
{
    (void)state;
    struct {
        int m;
        const char *g[3];
        uint64_t order;
    } cases[] = {
        {6, {"(1,2,3,4,5,6)", "(1,2)"}, 720},           /* S_6 */
        {7, {"(1,2,3)", "(1,2,3,4,5,6,7)"}, 2520},      /* A_7 (7-cycle is even) */
        {7, {"(1,2,3,4,5,6,7)", "(2,3)(4,7)"}, 168},    /* PSL(2,7) = GL(3,2) */
        {7, {"(1,2,3,4,5,6,7)", "(2,3,5)(4,7,6)"}, 21}, /* 7:3, i -> 2i mod 7 */
        {11, {"(1,2,3,4,5,6,7,8,9,10,11)", "(3,7,11,8)(4,10,5,6)"}, 7920}, /* M_11 */
        {8, {"(1,2,3,4,5,6,7,8)", "(1,8)(2,7)(3,6)(4,5)"}, 16},            /* D_8 */
        {9, {"(1,2,3)", "(4,5,6)", "(7,8,9)"}, 27},                        /* C_3^3 */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int m = cases[c].m, ngens = 0;
        uint8_t rows[3 * 16];
        for (; ngens < 3 && cases[c].g[ngens]; ngens++)
            gap_perm(cases[c].g[ngens], m, rows + ngens * m);
        sb_bsgs b;
        build(&b, m, ngens, rows);
        assert_order_u(&b, cases[c].order);
        check_bijection(&b);
        check_states(&b, ngens, rows);
        check_unranker(&b);
        sb_bsgs_free(&b);
    }
}

/* A_7 rejects every odd permutation of S_7; all even ones are members. */
static void test_membership(void **state)
{
    (void)state;
    uint8_t a7[2 * 7], s7[2 * 7];
    gap_perm("(1,2,3)", 7, a7);
    gap_perm("(1,2,3,4,5,6,7)", 7, a7 + 7);
    sym_gens(s7, 7, 7);
    sb_bsgs a, s;
    build(&a, 7, 2, a7);
    build(&s, 7, 2, s7);
    uint8_t p[7];
    int members = 0;
    for (uint64_t r = 0; r < 5040; r++) {
        sb_bsgs_unrank64(&s, r, p);
        int inversions = 0;
        for (int i = 0; i < 7; i++)
            for (int j = i + 1; j < 7; j++)
                inversions += p[i] > p[j];
        bool even = inversions % 2 == 0;
        assert_true(sb_bsgs_contains(&a, p) == even);
        sb_u128 rank;
        assert_int_equal(sb_bsgs_rank_checked(&a, p, &rank), even ? 0 : SB_EINPUT);
        members += even;
    }
    assert_int_equal(members, 2520);
    uint8_t notperm[7] = {0, 0, 2, 3, 4, 5, 6};
    sb_u128 rank;
    assert_int_equal(sb_bsgs_rank_checked(&a, notperm, &rank), SB_EINPUT);
    sb_bsgs_free(&a);
    sb_bsgs_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symmetric),       cmocka_unit_test(test_alternating),
        cmocka_unit_test(test_cyclic_dihedral), cmocka_unit_test(test_trivial_and_bad_input),
        cmocka_unit_test(test_255_points),      cmocka_unit_test(test_cube3),
        cmocka_unit_test(test_cube2),           cmocka_unit_test(test_small_bijections),
        cmocka_unit_test(test_membership),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
