/* Perfect hashes: rank(unrank(i)) = i over whole spaces for small n, random samples at n = 20,
 * lexicographic order, and the sequential unranker against direct unranking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/codec.h"
#include "symbatch/core.h"
#include "symbatch/neighbour.h"
#include "symbatch/perm.h"
#include "symbatch/rank.h"

#include <stdlib.h>
#include <string.h>

static void identity(uint8_t *c, int m)
{
    for (int i = 0; i < m; i++)
        c[i] = (uint8_t)i;
}

static void init_space(sb_space *s, const uint8_t *central, int m, const char *family, int n)
{
    char why[128];
    sb_genset gs;
    sb_diag d;
    sb_diag_init(&d);
    assert_int_equal(sb_genset_family(&gs, family, n, -1, &d), 0);
    assert_int_equal(gs.m, m);
    assert_int_equal(sb_space_init(s, central, m, gs.ngens, gs.perm, why, sizeof why), 0);
    sb_genset_free(&gs);
    sb_diag_free(&d);
}

/* Whole space: unrank every rank, check it ranks back, that states are distinct and valid
 * arrangements of the central state, and (perm, multiset) that rank order = lexicographic. */
static void check_whole_space(const sb_space *s, const uint8_t *central)
{
    uint8_t prev[256], e[256], want_sorted[256], got_sorted[256];
    uint64_t w[SB_MAX_WORDS];
    memcpy(want_sorted, central, (size_t)s->m);
    for (int i = 0; i < s->m; i++)
        for (int j = i + 1; j < s->m; j++)
            if (want_sorted[j] < want_sorted[i]) {
                uint8_t t = want_sorted[i];
                want_sorted[i] = want_sorted[j];
                want_sorted[j] = t;
            }
    for (uint64_t r = 0; r < s->size; r++) {
        sb_space_unrank(s, r, w);
        assert_true(sb_space_rank(s, w) == r);
        sb_codec_unpack(&s->codec, w, e);
        memcpy(got_sorted, e, (size_t)s->m);
        for (int i = 0; i < s->m; i++)
            for (int j = i + 1; j < s->m; j++)
                if (got_sorted[j] < got_sorted[i]) {
                    uint8_t t = got_sorted[i];
                    got_sorted[i] = got_sorted[j];
                    got_sorted[j] = t;
                }
        assert_memory_equal(got_sorted, want_sorted, (size_t)s->m);
        if (r > 0 && s->kind != SB_SPACE_SIGNED)
            assert_true(memcmp(prev, e, (size_t)s->m) < 0);
        memcpy(prev, e, (size_t)s->m);
    }
}

static void test_perm_whole(void **state)
{
    (void)state;
    for (int m = 3; m <= 9; m++) {
        uint8_t c[32];
        identity(c, m);
        sb_space s;
        init_space(&s, c, m, "lrx", m);
        assert_int_equal(s.kind, SB_SPACE_PERM);
        assert_true(s.size == s.fact[m]);
        check_whole_space(&s, c);
    }
}

static void test_signed_whole(void **state)
{
    (void)state;
    for (int n = 1; n <= 5; n++) {
        uint8_t c[32];
        identity(c, 2 * n);
        sb_space s;
        init_space(&s, c, 2 * n, n % 2 ? "burnt_pancake" : "signed_reversals", n);
        assert_int_equal(s.kind, SB_SPACE_SIGNED);
        assert_true(s.size == (s.fact[n] << n));
        check_whole_space(&s, c);
        /* every state keeps the pairs {v, v + n} at positions i, n + i */
        uint64_t w[SB_MAX_WORDS];
        uint8_t e[32];
        for (uint64_t r = 0; r < s.size; r++) {
            sb_space_unrank(&s, r, w);
            sb_codec_unpack(&s.codec, w, e);
            for (int i = 0; i < n; i++)
                assert_int_equal((e[i] + n) % (2 * n), e[n + i]);
        }
    }
}

static void test_multiset_whole(void **state)
{
    (void)state;
    const char *cases[] = {"001122", "0110110110", "01210", "000111222", "0000000001", "0123"};
    const uint64_t sizes[] = {90, 210, 30, 1680, 10, 24};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int m = (int)strlen(cases[i]);
        uint8_t c[32];
        for (int j = 0; j < m; j++)
            c[j] = (uint8_t)(cases[i][j] - '0');
        sb_space s;
        init_space(&s, c, m, "lrx", m);
        assert_true(s.size == sizes[i]);
        check_whole_space(&s, c);
    }
}

static void test_samples_n20(void **state)
{
    (void)state;
    uint8_t c[32];
    identity(c, 20);
    sb_space s;
    init_space(&s, c, 20, "lrx", 20);
    assert_true(s.size == 2432902008176640000ULL);
    uint64_t w[SB_MAX_WORDS];
    uint8_t e[32];
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t r = sb_rand64(3, 0, i) % s.size;
        sb_space_unrank(&s, r, w);
        assert_true(sb_space_rank(&s, w) == r);
    }
    /* extremes: identity is rank 0, the reversal is the last rank */
    sb_space_unrank(&s, 0, w);
    sb_codec_unpack(&s.codec, w, e);
    assert_memory_equal(e, c, 20);
    sb_space_unrank(&s, s.size - 1, w);
    sb_codec_unpack(&s.codec, w, e);
    for (int i = 0; i < 20; i++)
        assert_int_equal(e[i], 19 - i);
    /* a big multiset: 30 elements, values 0..2 */
    uint8_t mc[30];
    for (int i = 0; i < 30; i++)
        mc[i] = (uint8_t)(i % 3);
    init_space(&s, mc, 30, "lrx", 30);
    assert_int_equal(s.kind, SB_SPACE_MULTISET);
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t r = sb_rand64(4, 0, i) % s.size;
        sb_space_unrank(&s, r, w);
        assert_true(sb_space_rank(&s, w) == r);
    }
}

/* S_21 has no 63-bit perfect hash; a subgroup of 21 points may (here the trivial group). */
static void test_too_big(void **state)
{
    (void)state;
    uint8_t c[64];
    identity(c, 21);
    sb_space s;
    char why[128];
    uint8_t p[2][21];
    for (int i = 0; i < 21; i++)
        p[0][i] = (uint8_t)((i + 1) % 21); /* a 21-cycle and a transposition: all of S_21 */
    identity(p[1], 21);
    p[1][0] = 1;
    p[1][1] = 0;
    assert_int_equal(sb_space_init(&s, c, 21, 2, &p[0][0], why, sizeof why), SB_ELIMIT);
    assert_non_null(strstr(why, "21!"));
    assert_int_equal(sb_space_init(&s, c, 21, 1, p[1], why, sizeof why), 0);
    assert_string_equal(sb_space_name(&s), "bsgs");
    assert_true(s.size == 2);
    sb_space_free(&s);
}

/* A proper subgroup gets its own perfect hash: A_7 from the 3-cycles (0 1 2) and (2 3 4 5 6)
 * ... from a central state that is not the identity; every rank round-trips, and the ranks
 * of all reachable states are exactly [0, 7!/2). */
static void test_bsgs_space(void **state)
{
    (void)state;
    const int m = 7;
    uint8_t c[7] = {3, 0, 6, 1, 5, 2, 4}, p[2][7];
    identity(p[0], m);
    p[0][0] = 1, p[0][1] = 2, p[0][2] = 0;
    for (int i = 0; i < m; i++)
        p[1][i] = (uint8_t)(i < 2 ? i : 2 + (i - 2 + 1) % 5);
    sb_space s;
    char why[128];
    assert_int_equal(sb_space_init(&s, c, m, 2, &p[0][0], why, sizeof why), 0);
    assert_string_equal(sb_space_name(&s), "bsgs");
    assert_true(s.size == 2520);
    uint64_t w[SB_MAX_WORDS], w2[SB_MAX_WORDS];
    uint8_t e[8];
    sb_space_unrank(&s, 0, w);
    sb_codec_unpack(&s.codec, w, e);
    assert_memory_equal(e, c, (size_t)m); /* rank 0 is the central state */
    for (uint64_t r = 0; r < s.size; r++) {
        sb_space_unrank(&s, r, w);
        assert_true(sb_space_rank(&s, w) == r);
        /* a generator step stays inside the space */
        sb_codec_unpack(&s.codec, w, e);
        uint8_t ne[8];
        sb_perm_apply(m, p[1], e, ne);
        sb_codec_pack(&s.codec, ne, w2);
        assert_true(sb_space_rank(&s, w2) < s.size);
    }
    sb_space_free(&s);
}

/* Sequential unranking over increasing ranks with gaps of every size equals direct unranking. */
static void check_unranker(const sb_space *s)
{
    sb_unranker u;
    sb_unranker_init(&u, s);
    uint64_t r = 0, a[SB_MAX_WORDS], b[SB_MAX_WORDS];
    for (uint64_t i = 0; r < s->size; i++) {
        sb_unranker_seek(&u, r, a);
        sb_space_unrank(s, r, b);
        assert_true(a[0] == b[0]);
        uint64_t gap = 1 + sb_rand64(9, 1, i) % (i % 3 == 0 ? 3 : (i % 3 == 1 ? 1000 : 1000000));
        r += gap;
    }
    /* going backwards restarts */
    sb_unranker_seek(&u, 5, a);
    sb_space_unrank(s, 5, b);
    assert_true(a[0] == b[0]);
}

static void test_unranker(void **state)
{
    (void)state;
    uint8_t c[32];
    sb_space s;
    identity(c, 12);
    init_space(&s, c, 12, "lrx", 12);
    check_unranker(&s);
    identity(c, 16);
    init_space(&s, c, 16, "burnt_pancake", 8);
    assert_int_equal(s.kind, SB_SPACE_SIGNED);
    check_unranker(&s);
    identity(c, 6);
    init_space(&s, c, 6, "burnt_pancake", 3);
    check_unranker(&s);
}

/* Neighbour ranks from digits equal ranking the neighbour, for every shape and n <= 16. */
static void test_neighbour_shapes(void **state)
{
    (void)state;
    for (int n = 3; n <= 16; n++) {
        uint8_t c[16], p[16];
        identity(c, n);
        /* the generators: rotations both ways and every adjacent swap */
        uint8_t gens[18][16];
        int ng = 0;
        for (int i = 0; i < n; i++) {
            gens[0][i] = (uint8_t)((i + 1) % n);
            gens[1][i] = (uint8_t)((i + n - 1) % n);
        }
        ng = 2;
        for (int k = 0; k + 1 < n; k++, ng++) {
            identity(gens[ng], n);
            gens[ng][k] = (uint8_t)(k + 1);
            gens[ng][k + 1] = (uint8_t)k;
        }
        /* The space comes from all the generators: the swap (0 1) breaks the signed-pair
         * structure a rotation alone would keep, so this is the permutation space. */
        uint8_t flat[18 * 16];
        for (int g = 0; g < ng; g++)
            memcpy(flat + g * n, gens[g], (size_t)n);
        sb_space s;
        char why[128];
        assert_int_equal(sb_space_init(&s, c, n, ng, flat, why, sizeof why), 0);
        assert_int_equal(s.kind, SB_SPACE_PERM);
        sb_unranker u;
        sb_unranker_init(&u, &s);
        uint64_t r = 0;
        for (uint64_t t = 0; t < 3000 && r < s.size; t++) {
            uint64_t w, nb;
            sb_unranker_seek(&u, r, &w);
            for (int g = 0; g < ng; g++) {
                sb_shape sh = sb_shape_of(gens[g], n);
                assert_int_not_equal(sh.kind, SB_SHAPE_GENERIC);
                sb_genprog prog;
                sb_genprog_compile(&s.codec, gens[g], &prog);
                nb = sb_genprog_apply1(&prog, w);
                sb_genprog_free(&prog);
                uint64_t want = sb_space_rank(&s, &nb), got;
                if (sh.kind == SB_SHAPE_ROT_LEFT && n > 2)
                    got = sb_rank_rot_left(&u, w);
                else if (sh.kind == SB_SHAPE_ROT_RIGHT && n > 2)
                    got = sb_rank_rot_right(&u, w);
                else
                    got = sb_rank_adj_swap(&u, w, sh.pos);
                if (got != want)
                    print_error("n=%d g=%d kind=%d r=%llu got %llu want %llu\n", n, g, sh.kind,
                                (unsigned long long)r, (unsigned long long)got,
                                (unsigned long long)want);
                assert_true(got == want);
            }
            r += 1 + sb_rand64(17, (uint64_t)n, t) % (s.size / 1000 + 2);
        }
        (void)p;
    }
    /* Shapes are recognised, and everything else is generic. */
    uint8_t rev[5] = {4, 3, 2, 1, 0}, swap02[5] = {2, 1, 0, 3, 4};
    assert_int_equal(sb_shape_of(rev, 5).kind, SB_SHAPE_GENERIC);
    assert_int_equal(sb_shape_of(swap02, 5).kind, SB_SHAPE_GENERIC);
}

/* The prefix path (constant n) gives the same states, digits and neighbour ranks. */
static void check_seek_perm(const int n)
{
    uint8_t c[16];
    identity(c, n);
    uint8_t flat[3 * 16];
    for (int i = 0; i < n; i++) {
        flat[i] = (uint8_t)((i + 1) % n);
        flat[n + i] = (uint8_t)((i + n - 1) % n);
        flat[2 * n + i] = (uint8_t)i;
    }
    flat[2 * n] = 1;
    flat[2 * n + 1] = 0;
    sb_space s;
    char why[128];
    assert_int_equal(sb_space_init(&s, c, n, 3, flat, why, sizeof why), 0);
    sb_unranker u, g;
    sb_unranker_init(&u, &s);
    sb_unranker_init(&g, &s);
    uint64_t r = 0;
    for (uint64_t t = 0; r < s.size && t < 200000; t++) {
        uint64_t w = sb_unranker_seek_perm(&u, r, n), want;
        sb_unranker_seek(&g, r, &want);
        assert_true(w == want);
        assert_memory_equal(u.digit, g.digit, (size_t)n);
        assert_true(u.sl[n] == g.sl[n] && u.sr[n] == g.sr[n]);
        assert_true(sb_rank_rot_left(&u, w) == sb_rank_rot_left(&g, want));
        assert_true(sb_rank_adj_swap(&u, w, 0) == sb_rank_adj_swap(&g, want, 0));
        uint64_t gap = t % 4 == 0 ? 1 : 1 + sb_rand64(23, (uint64_t)n, t) % (t % 4 == 1 ? 7 : 5000);
        r += gap;
    }
    /* backwards restarts */
    uint64_t w = sb_unranker_seek_perm(&u, 3, n), want;
    sb_space_unrank(&s, 3, &want);
    assert_true(w == want);
}

static void test_seek_perm(void **state)
{
    (void)state;
    check_seek_perm(3);
    check_seek_perm(5);
    check_seek_perm(6);
    check_seek_perm(9);
    check_seek_perm(12);
    check_seek_perm(16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perm_whole),     cmocka_unit_test(test_signed_whole),
        cmocka_unit_test(test_multiset_whole), cmocka_unit_test(test_samples_n20),
        cmocka_unit_test(test_too_big),        cmocka_unit_test(test_bsgs_space),
        cmocka_unit_test(test_unranker),       cmocka_unit_test(test_neighbour_shapes),
        cmocka_unit_test(test_seek_perm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
