/* Packed states and compiled generators agree with the plain byte-array definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/codec.h"
#include "symbatch/core.h"
#include "symbatch/perm.h"

#include <string.h>

/* A pseudo-random permutation of 0..m-1 from (seed, which). */
static void random_perm(int m, uint64_t seed, uint64_t which, uint8_t *p)
{
    for (int i = 0; i < m; i++)
        p[i] = (uint8_t)i;
    for (int i = m - 1; i > 0; i--) {
        int j = (int)(sb_rand64(seed, which, (uint64_t)i) % (uint64_t)(i + 1));
        uint8_t t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

static void test_widths(void **state)
{
    (void)state;
    const struct {
        int m, maxv, width, nw;
    } cases[] = {{12, 11, 4, 1}, {16, 15, 4, 1}, {17, 16, 5, 2}, {20, 19, 5, 2},
                 {64, 1, 1, 1},  {65, 1, 1, 2},  {40, 39, 6, 4}, {255, 254, 8, 32}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_codec c;
        assert_int_equal(sb_codec_init(&c, cases[i].m, cases[i].maxv), 0);
        assert_int_equal(c.width, cases[i].width);
        assert_int_equal(c.nw, cases[i].nw);
    }
}

static void check_programs(int m, int maxv)
{
    sb_codec c;
    assert_int_equal(sb_codec_init(&c, m, maxv), 0);
    uint8_t p[SB_MAX_ELEMS], s[SB_MAX_ELEMS], want[SB_MAX_ELEMS], got[SB_MAX_ELEMS];
    uint64_t w[SB_MAX_WORDS], out[SB_MAX_WORDS];
    for (uint64_t trial = 0; trial < 50; trial++) {
        random_perm(m, 7, trial, p);
        for (int i = 0; i < m; i++)
            s[i] = (uint8_t)(sb_rand64(11, trial, (uint64_t)i) % (uint64_t)(maxv + 1));
        sb_codec_pack(&c, s, w);
        sb_codec_unpack(&c, w, got);
        assert_memory_equal(got, s, (size_t)m);
        sb_genprog prog;
        assert_int_equal(sb_genprog_compile(&c, p, &prog), 0);
        sb_perm_apply(m, p, s, want);
        sb_genprog_apply(&prog, c.nw, w, out);
        sb_codec_unpack(&c, out, got);
        assert_memory_equal(got, want, (size_t)m);
        if (c.nw == 1)
            assert_true(sb_genprog_apply1(&prog, w[0]) == out[0]);
        sb_genprog_free(&prog);
    }
}

static void test_programs_match_definition(void **state)
{
    (void)state;
    check_programs(5, 4);
    check_programs(12, 11);
    check_programs(16, 15);
    check_programs(20, 19); /* two words of 5-bit elements */
    check_programs(24, 1);  /* binary coset string */
    check_programs(100, 3);
    check_programs(255, 254);
}

/* A cyclic shift compiles into two steps whatever n is: the point of compiling. */
static void test_shift_is_two_ops(void **state)
{
    (void)state;
    for (int n = 3; n <= 16; n++) {
        sb_codec c;
        sb_codec_init(&c, n, n - 1);
        uint8_t l[16];
        for (int i = 0; i < n; i++)
            l[i] = (uint8_t)((i + 1) % n);
        sb_genprog prog;
        sb_genprog_compile(&c, l, &prog);
        assert_int_equal(prog.nops, 2);
        sb_genprog_free(&prog);
    }
}

static void test_parse_bytes(void **state)
{
    (void)state;
    uint64_t b;
    assert_int_equal(sb_parse_bytes("512MB", &b), 0);
    assert_true(b == 512000000ULL);
    assert_int_equal(sb_parse_bytes("2 GiB", &b), 0);
    assert_true(b == 2147483648ULL);
    assert_int_equal(sb_parse_bytes("1.5G", &b), 0);
    assert_true(b == 1500000000ULL);
    assert_int_equal(sb_parse_bytes("1000", &b), 0);
    assert_true(b == 1000);
    assert_int_not_equal(sb_parse_bytes("lots", &b), 0);
    assert_int_not_equal(sb_parse_bytes("5 XB", &b), 0);
    assert_int_not_equal(sb_parse_bytes("-1G", &b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_programs_match_definition),
        cmocka_unit_test(test_shift_is_two_ops),
        cmocka_unit_test(test_parse_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
