/* Puzzle families (src/perm/puzzles.c): generators are permutations, inverse-closed, counted
 * as documented, of the right orders, commuting exactly when their layers are disjoint; and
 * the growth near the solved colouring against published numbers, by a BFS over whole states
 * written here (a hash set of byte arrays), not the project's engines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/perm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static void build_ok(sb_genset *gs, const char *family, int n)
{
    sb_diag diag;
    sb_diag_init(&diag);
    int rc = sb_genset_family(gs, family, n, -1, &diag);
    if (rc != SB_OK)
        fprintf(stderr, "%s(%d): %s", family, n, sb_diag_text(&diag));
    assert_int_equal(rc, SB_OK);
    sb_diag_free(&diag);
}

static const uint8_t *row(const sb_genset *gs, int g)
{
    return gs->perm + (size_t)g * (size_t)gs->m;
}

static bool is_identity(int m, const uint8_t *p)
{
    for (int i = 0; i < m; i++)
        if (p[i] != i)
            return false;
    return true;
}

/* Order of p (up to limit; limit + 1 when larger). */
static int perm_order(int m, const uint8_t *p, int limit)
{
    uint8_t cur[SB_MAX_ELEMS], next[SB_MAX_ELEMS];
    memcpy(cur, p, (size_t)m);
    for (int k = 1; k <= limit; k++) {
        if (is_identity(m, cur))
            return k;
        for (int i = 0; i < m; i++)
            next[i] = cur[p[i]];
        memcpy(cur, next, (size_t)m);
    }
    return limit + 1;
}

static bool commute(int m, const uint8_t *p, const uint8_t *q)
{
    for (int i = 0; i < m; i++)
        if (p[q[i]] != q[p[i]])
            return false;
    return true;
}

static bool supports_disjoint(int m, const uint8_t *p, const uint8_t *q)
{
    for (int i = 0; i < m; i++)
        if (p[i] != i && q[i] != i)
            return false;
    return true;
}

static int moved(int m, const uint8_t *p)
{
    int c = 0;
    for (int i = 0; i < m; i++)
        c += p[i] != i;
    return c;
}

static int find_gen(const sb_genset *gs, const char *name)
{
    for (int g = 0; g < gs->ngens; g++)
        if (strcmp(gs->names[g], name) == 0)
            return g;
    fail_msg("no generator named %s in %s", name, gs->family);
    return -1;
}

/* ---- an independent BFS: states in BFS order in one arena, a hash set of their indices --- */

typedef struct bfs {
    int m;
    size_t count, max, cap;
    uint8_t *states; /* count rows of m bytes, layer by layer */
    uint32_t *slots; /* cap slots: state index + 1, 0 = empty */
} bfs;

static uint64_t hash_bytes(const uint8_t *s, int m)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < m; i++)
        h = (h ^ s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* Adds s unless present; true when added. */
static bool bfs_add(bfs *b, const uint8_t *s)
{
    size_t mask = b->cap - 1, i = (size_t)hash_bytes(s, b->m) & mask;
    for (; b->slots[i]; i = (i + 1) & mask)
        if (memcmp(b->states + (size_t)(b->slots[i] - 1) * b->m, s, (size_t)b->m) == 0)
            return false;
    assert_true(b->count < b->max); /* else the arena is too small for this graph */
    memcpy(b->states + b->count * b->m, s, (size_t)b->m);
    b->slots[i] = (uint32_t)++b->count;
    return true;
}

/* Layer sizes from the family's default central state, at most max_layers of them (0: all);
 * max_states bounds the arena.  Returns the number of layers written. */
static int bfs_layers(const sb_genset *gs, size_t max_states, int max_layers, uint64_t *layers)
{
    bfs b = {.m = gs->m, .max = max_states, .cap = 1};
    while (b.cap < 2 * max_states)
        b.cap *= 2;
    b.states = malloc(max_states * (size_t)gs->m);
    b.slots = calloc(b.cap, sizeof *b.slots);
    assert_non_null(b.states);
    assert_non_null(b.slots);
    uint8_t start[SB_MAX_ELEMS], next[SB_MAX_ELEMS];
    assert_true(sb_genset_default_central(gs, start));
    bfs_add(&b, start);
    size_t begin = 0, end = 1;
    int nl = 0;
    layers[nl++] = 1;
    while (begin < end && (max_layers == 0 || nl < max_layers)) {
        for (size_t s = begin; s < end; s++)
            for (int g = 0; g < gs->ngens; g++) {
                sb_perm_apply(gs->m, row(gs, g), b.states + s * b.m, next);
                bfs_add(&b, next);
            }
        begin = end;
        end = b.count;
        if (end > begin)
            layers[nl++] = end - begin;
    }
    free(b.states);
    free(b.slots);
    return nl;
}

/* The first nl layers; with whole, also that there are no more (nl - 1 is the diameter). */
static void expect_layers(const char *family, int n, size_t max_states, bool whole, int nl,
                          const uint64_t *want)
{
    sb_genset gs;
    build_ok(&gs, family, n);
    uint64_t got[64];
    int count = bfs_layers(&gs, max_states, whole ? nl + 1 : nl, got);
    for (int i = 0; i < count && i < nl; i++)
        if (got[i] != want[i])
            fprintf(stderr, "%s(%d) layer %d: %llu, want %llu\n", family, n, i,
                    (unsigned long long)got[i], (unsigned long long)want[i]);
    assert_int_equal(count, nl);
    assert_memory_equal(got, want, (size_t)nl * sizeof *want);
    sb_genset_free(&gs);
}

/* ---- structure ---------------------------------------------------------------------------- */

static void check_structure(const char *family, int n, int ngens, int m, int order_q, int order_h)
{
    sb_genset gs;
    build_ok(&gs, family, n);
    assert_int_equal(gs.ngens, ngens);
    assert_int_equal(gs.m, m);
    assert_true(gs.inverse_closed);
    assert_string_equal(gs.family, family);
    for (int g = 0; g < gs.ngens; g++) {
        assert_true(sb_is_permutation(gs.m, row(&gs, g)));
        assert_false(is_identity(gs.m, row(&gs, g)));
        size_t len = strlen(gs.names[g]);
        int want = gs.names[g][len - 1] == '2' ? order_h : order_q;
        assert_int_equal(perm_order(gs.m, row(&gs, g), 12), want);
        for (int h = 0; h < g; h++) {
            assert_memory_not_equal(row(&gs, g), row(&gs, h), (size_t)gs.m);
            assert_string_not_equal(gs.names[g], gs.names[h]);
        }
    }
    /* The default central state is the solved colouring: m / faces facelets per colour. */
    uint8_t central[SB_MAX_ELEMS];
    assert_true(sb_genset_default_central(&gs, central));
    int per = m / (central[m - 1] + 1);
    for (int i = 0; i < m; i++)
        assert_int_equal(central[i], i / per);
    sb_genset_free(&gs);
}

static void test_structure(void **state)
{
    (void)state;
    for (int n = 2; n <= 6; n++) {
        int layers = 6 * (n / 2);
        check_structure("cube_qtm", n, 2 * layers, 6 * n * n, 4, 2);
        check_structure("cube_htm", n, 3 * layers, 6 * n * n, 4, 2);
    }
    check_structure("cube_fixed_qtm", 2, 6, 24, 4, 2);
    check_structure("cube_fixed_htm", 2, 9, 24, 4, 2);
    for (int n = 2; n <= 7; n++)
        check_structure("pyraminx", n, 8 * (n - 1), 4 * n * n, 3, 3);
    check_structure("megaminx", 3, 24, 132, 5, 5);
}

static void test_table(void **state)
{
    (void)state;
    const char *want[] = {"cube",           "cube_qtm", "cube_htm", "cube_fixed_qtm",
                          "cube_fixed_htm", "pyraminx", "megaminx"};
    const sb_family *const *t = sb_puzzle_families();
    for (int i = 0; i < 7; i++) {
        assert_non_null(t[i]);
        assert_string_equal(t[i]->name, want[i]);
        assert_ptr_equal(sb_family_find(want[i]), t[i]);
    }
    assert_null(t[7]);
    /* the CayleyPy families keep state length n and the identity as central state */
    sb_genset gs;
    build_ok(&gs, "lrx", 5);
    uint8_t c[SB_MAX_ELEMS];
    assert_false(sb_genset_default_central(&gs, c));
    sb_genset_free(&gs);
    for (const sb_family *const *f = sb_families(); *f; f++)
        assert_null((*f)->state_len);

    sb_diag d;
    sb_diag_init(&d);
    assert_int_equal(sb_genset_family(&gs, "cube_qtm", 7, -1, &d), SB_EINPUT);
    assert_int_equal(sb_genset_family(&gs, "cube_fixed_htm", 3, -1, &d), SB_EINPUT);
    assert_int_equal(sb_genset_family(&gs, "megaminx", 4, -1, &d), SB_EINPUT);
    assert_int_equal(sb_genset_family(&gs, "pyraminx", 3, 2, &d), SB_EINPUT); /* takes no k */
    sb_diag_free(&d);
}

/* metric and fixed_corner as options pick the same sets as the family names. */
static void test_cube_options(void **state)
{
    (void)state;
    const struct {
        const char *metric;
        bool fixed;
        int n;
        const char *family;
    } cases[] = {{"qtm", false, 3, "cube_qtm"},
                 {"htm", false, 4, "cube_htm"},
                 {"qtm", true, 2, "cube_fixed_qtm"},
                 {"htm", true, 2, "cube_fixed_htm"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_genset a, b;
        sb_diag d;
        sb_diag_init(&d);
        assert_int_equal(sb_genset_cube(&a, cases[i].n, cases[i].metric, cases[i].fixed, &d), 0);
        sb_diag_free(&d);
        build_ok(&b, cases[i].family, cases[i].n);
        assert_string_equal(a.family, cases[i].family);
        assert_int_equal(a.ngens, b.ngens);
        assert_memory_equal(a.perm, b.perm, (size_t)a.ngens * (size_t)a.m);
        sb_genset_free(&a);
        sb_genset_free(&b);
    }
    sb_genset gs;
    sb_diag d;
    sb_diag_init(&d);
    assert_int_equal(sb_genset_cube(&gs, 3, "atm", false, &d), SB_EINPUT);
    assert_int_equal(sb_genset_cube(&gs, 3, NULL, false, &d), SB_EINPUT);
    assert_int_equal(sb_genset_cube(&gs, 3, "htm", true, &d), SB_EINPUT);
    assert_int_equal(d.count, 3);
    sb_diag_free(&d);
}

/* ---- geometry: which stickers a turn moves, what commutes --------------------------------- */

static void test_cube_geometry(void **state)
{
    (void)state;
    for (int n = 2; n <= 6; n++) {
        sb_genset gs;
        build_ok(&gs, "cube_htm", n);
        int m = gs.m;
        /* a face turn moves its face (less a fixed centre) and a ring of 4n stickers */
        int face_moved = n * n - (n % 2) + 4 * n;
        assert_int_equal(moved(m, row(&gs, find_gen(&gs, "R"))), face_moved);
        if (n >= 4) /* an inner layer: only the ring */
            assert_int_equal(moved(m, row(&gs, find_gen(&gs, "2R"))), 4 * n);
        /* U2 = U U, U' = U^3 */
        const uint8_t *u = row(&gs, find_gen(&gs, "U"));
        uint8_t uu[SB_MAX_ELEMS], uuu[SB_MAX_ELEMS];
        for (int i = 0; i < m; i++)
            uu[i] = u[u[i]];
        for (int i = 0; i < m; i++)
            uuu[i] = uu[u[i]];
        assert_memory_equal(uu, row(&gs, find_gen(&gs, "U2")), (size_t)m);
        assert_memory_equal(uuu, row(&gs, find_gen(&gs, "U'")), (size_t)m);
        /* same axis: commute; axes that cross: do not */
        for (int g = 0; g < gs.ngens; g++)
            for (int h = 0; h < gs.ngens; h++) {
                const char *a = gs.names[g], *b = gs.names[h];
                char fa = a[a[0] >= '0' && a[0] <= '9'], fb = b[b[0] >= '0' && b[0] <= '9'];
                int axa = fa == 'R' || fa == 'L' ? 0 : fa == 'U' || fa == 'D' ? 1 : 2;
                int axb = fb == 'R' || fb == 'L' ? 0 : fb == 'U' || fb == 'D' ? 1 : 2;
                assert_int_equal(commute(m, row(&gs, g), row(&gs, h)), axa == axb);
            }
        sb_genset_free(&gs);
    }
    /* clockwise as seen from above: U carries the front's top row to the left face */
    sb_genset g3;
    build_ok(&g3, "cube_qtm", 3);
    uint8_t solved[SB_MAX_ELEMS], after[SB_MAX_ELEMS];
    assert_true(sb_genset_default_central(&g3, solved));
    sb_perm_apply(g3.m, row(&g3, find_gen(&g3, "U")), solved, after);
    for (int c = 0; c < 3; c++) {
        assert_int_equal(after[9 + c], 2);  /* L (face 1) top row now F's colour */
        assert_int_equal(after[18 + c], 3); /* F (face 2) top row now R's colour */
    }
    sb_genset_free(&g3);
    /* U F R alone leave the D L B corner where it is: three stickers fixed by every turn. */
    sb_genset gs;
    build_ok(&gs, "cube_fixed_htm", 2);
    int fixed = 0;
    for (int i = 0; i < gs.m; i++) {
        bool still = true;
        for (int g = 0; g < gs.ngens; g++)
            still = still && row(&gs, g)[i] == i;
        fixed += still;
    }
    assert_int_equal(fixed, 3);
    sb_genset_free(&gs);
}

static void test_pyraminx_geometry(void **state)
{
    (void)state;
    sb_genset gs;
    build_ok(&gs, "pyraminx", 3);
    /* a tip turn moves the tip's 3 stickers; a vertex turn the tip, the axial centre and the
     * two edge halves on each of the 3 faces at the vertex */
    assert_int_equal(moved(gs.m, row(&gs, find_gen(&gs, "u"))), 3);
    assert_int_equal(moved(gs.m, row(&gs, find_gen(&gs, "U"))), 12);
    for (int g = 0; g < gs.ngens; g++)
        for (int h = 0; h < gs.ngens; h++) {
            bool tip = gs.names[g][0] >= 'a' || gs.names[h][0] >= 'a';
            bool same_axis = (gs.names[g][0] | 32) == (gs.names[h][0] | 32);
            assert_int_equal(commute(gs.m, row(&gs, g), row(&gs, h)), tip || same_axis);
        }
    sb_genset_free(&gs);
}

static void test_megaminx_geometry(void **state)
{
    (void)state;
    sb_genset gs;
    build_ok(&gs, "megaminx", 3);
    for (int g = 0; g < gs.ngens; g++) {
        /* 10 stickers of the face (the centre stays) and 3 on each of its 5 neighbours */
        assert_int_equal(moved(gs.m, row(&gs, g)), 25);
        int neighbours = 0;
        for (int h = 0; h < gs.ngens; h += 2) {
            bool same = h / 2 == g / 2;
            bool disjoint = supports_disjoint(gs.m, row(&gs, g), row(&gs, h));
            neighbours += !same && !disjoint;
            /* faces that share no sticker commute, neighbours do not */
            assert_int_equal(commute(gs.m, row(&gs, g), row(&gs, h)), same || disjoint);
        }
        assert_int_equal(neighbours, 5);
    }
    sb_genset_free(&gs);
}

/* ---- growth near the solved state --------------------------------------------------------- */

/* Layer 2 by hand: s same-face squares that are new, ordered pairs of faces that share
 * stickers (q^2 direction pairs each), unordered pairs that commute (q^2 each):
 * 3x3x3 QTM: 6 + 24*4 + 3*4 = 114 (so also 2x2x2 QTM, where R L' is a whole-cube turn).
 * megaminx: 12*2 + 60*4 + 36*4 = 408.  pyraminx: tips commute with all: 24 + 64 + 48 = 136. */
static void test_growth_first_layers(void **state)
{
    (void)state;
    const uint64_t qtm3[] = {1, 12, 114, 1068};
    expect_layers("cube_qtm", 3, 2000, false, 4, qtm3);
    const uint64_t htm3[] = {1, 18, 243, 3240};
    expect_layers("cube_htm", 3, 4000, false, 4, htm3);
    const uint64_t qtm2[] = {1, 12, 114};
    expect_layers("cube_qtm", 2, 200, false, 3, qtm2);
    const uint64_t mega[] = {1, 24, 408};
    expect_layers("megaminx", 3, 500, false, 3, mega);
    const uint64_t pyra[] = {1, 16, 136};
    expect_layers("pyraminx", 3, 200, false, 3, pyra);
    const uint64_t qtm4[] = {1, 24};
    expect_layers("cube_qtm", 4, 30, false, 2, qtm4);
}

/* The 2x2x2 with one corner fixed: the whole graph, 3,674,160 colourings.  Distance
 * distributions as published (e.g. Jaap Scherphuis's pocket cube page; CayleyPy's
 * puzzles_growth cube_222_fixed_htm / _qtm): diameters 11 (HTM) and 14 (QTM). */
static void test_growth_fixed_corner(void **state)
{
    (void)state;
    const uint64_t htm[] = {1,     9,      54,     321,     1847,   9992,
                            50136, 227536, 870072, 1887748, 623800, 2644};
    expect_layers("cube_fixed_htm", 2, 3674160, true, 12, htm);
    /* The sanitizer pass (SB_TEST_QUICK) looks for memory errors: one whole graph is enough. */
    const char *quick = getenv("SB_TEST_QUICK");
    if (quick && quick[0] == '1')
        return;
    const uint64_t qtm[] = {1,      6,      27,     120,     534,    2256,  8969, 33058,
                            114149, 360508, 930588, 1350852, 782536, 90280, 276};
    expect_layers("cube_fixed_qtm", 2, 3674160, true, 15, qtm);
    uint64_t sum = 0;
    for (int i = 0; i < 12; i++)
        sum += htm[i];
    assert_int_equal(sum, 3674160);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_cube_options),
        cmocka_unit_test(test_cube_geometry),
        cmocka_unit_test(test_pyraminx_geometry),
        cmocka_unit_test(test_megaminx_geometry),
        cmocka_unit_test(test_growth_first_layers),
        cmocka_unit_test(test_growth_fixed_corner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
