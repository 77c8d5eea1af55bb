#define _POSIX_C_SOURCE 200809L /* mkdtemp */
/* GAP notation (src/perm/gap.c): cycle strings, files of GAP statements, the convention (rows are
 * CayleyPy's permutation_from_cycles; applying g then h gives GAP's product h*g, worked out by
 * hand below), every error with its line and column, and the cycles:/gap_file: job forms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/gap.h"
#include "symbatch/growth.h"
#include "symbatch/job.h"
#include "symbatch/perm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------------- */

static sb_gap_perm perm_ok(const char *text)
{
    sb_gap_perm p;
    sb_gap_error e = {0};
    int rc = sb_gap_parse_perm(text, strlen(text), &p, &e);
    if (rc != 0)
        fail_msg("'%s': %d:%d: %s", text, e.line, e.column, e.message);
    return p;
}

/* A cycle string that must fail at (line, column) with `want` in the message. */
static void perm_bad(const char *text, int line, int column, const char *want)
{
    sb_gap_perm p;
    sb_gap_error e = {0};
    assert_int_equal(sb_gap_parse_perm(text, strlen(text), &p, &e), SB_EINPUT);
    if (e.line != line || e.column != column || !strstr(e.message, want))
        fail_msg("'%s': expected %d:%d '%s', got %d:%d '%s'", text, line, column, want, e.line,
                 e.column, e.message);
    assert_int_equal(e.offset + 1, column); /* one line: the offset is the column's */
}

static void set_ok(const char *text, sb_gap_set *set)
{
    sb_gap_error e = {0};
    int rc = sb_gap_parse(text, strlen(text), set, &e);
    if (rc != 0)
        fail_msg("%d:%d: %s in:\n%s", e.line, e.column, e.message, text);
}

static void set_bad(const char *text, int line, int column, const char *want)
{
    sb_gap_set set;
    sb_gap_error e = {0};
    assert_int_equal(sb_gap_parse(text, strlen(text), &set, &e), SB_EINPUT);
    if (e.line != line || e.column != column || !strstr(e.message, want))
        fail_msg("expected %d:%d '%s', got %d:%d '%s' in:\n%s", line, column, want, e.line,
                 e.column, e.message, text);
    assert_null(set.perms);
}

/* State after applying rows in order to the identity state of m elements. */
static void apply_all(int m, const uint8_t *const *rows, int n, uint8_t *state)
{
    uint8_t tmp[SB_MAX_ELEMS];
    for (int i = 0; i < m; i++)
        state[i] = (uint8_t)i;
    for (int r = 0; r < n; r++) {
        sb_perm_apply(m, rows[r], state, tmp);
        memcpy(state, tmp, (size_t)m);
    }
}

/* ---- the convention ---------------------------------------------------------------------- */

static void test_cycles_rows(void **state)
{
    (void)state;
    /* p[c_j - 1] = c_{j+1} - 1: 1->3->8->6->1 and 2->5->7->4->2, i.e. p[i] = i^g (0-based). */
    sb_gap_perm p = perm_ok("(1,3,8,6)(2,5,7,4)");
    const uint8_t want[8] = {2, 4, 7, 1, 6, 0, 3, 5};
    assert_memory_equal(p.img, want, 8);
    assert_int_equal(p.max_point, 8);
    for (int i = 8; i < SB_MAX_ELEMS; i++)
        assert_int_equal(p.img[i], i);
    /* CayleyPy: cycle (a b c) gives new[a]=old[b], new[b]=old[c], new[c]=old[a]. */
    sb_gap_perm c = perm_ok("(1,2,3)");
    const uint8_t cy[3] = {1, 2, 0};
    assert_memory_equal(c.img, cy, 3);
    const uint8_t old[3] = {10, 20, 30};
    uint8_t nw[3];
    sb_perm_apply(3, c.img, old, nw);
    assert_int_equal(nw[0], 20);
    assert_int_equal(nw[1], 30);
    assert_int_equal(nw[2], 10);
    /* Whitespace and newlines between tokens; () is the identity; a 1-cycle fixes its point. */
    sb_gap_perm w = perm_ok(" ( 1 ,\n 2 )\t(3 ,4) ");
    const uint8_t ww[4] = {1, 0, 3, 2};
    assert_memory_equal(w.img, ww, 4);
    sb_gap_perm id = perm_ok("()");
    assert_int_equal(id.max_point, 0);
    assert_int_equal(id.img[0], 0);
    sb_gap_perm one = perm_ok("(5)");
    assert_int_equal(one.max_point, 5);
    assert_int_equal(one.img[4], 4);
}

/* GAP composes left to right: i^(a*b) = (i^a)^b.  Worked by hand:
 *   (1,2)*(1,2,3):   1 -> 2 -> 3,  3 -> 3 -> 1,  2 -> 1 -> 2    = (1,3)
 *   (1,2,3)*(1,2):   1 -> 2 -> 1,  2 -> 3 -> 3,  3 -> 1 -> 2    = (2,3)
 *   (2,3)*(1,2)(3,4): 1 -> 1 -> 2, 2 -> 3 -> 4, 4 -> 4 -> 3, 3 -> 2 -> 1 = (1,2,4,3)
 * Applying g and then h to a state gives the row of h*g. */
static void expect_product(const char *g, const char *h, const char *hg, int m)
{
    sb_gap_perm pg = perm_ok(g), ph = perm_ok(h), want = perm_ok(hg);
    const uint8_t *rows[2] = {pg.img, ph.img};
    uint8_t st[SB_MAX_ELEMS];
    apply_all(m, rows, 2, st);
    if (memcmp(st, want.img, (size_t)m) != 0)
        fail_msg("%s then %s: expected the row of %s", g, h, hg);
}

static void test_products(void **state)
{
    (void)state;
    expect_product("(1,2,3)", "(1,2)", "(1,3)", 3); /* g then h = h*g = (1,2)*(1,2,3) */
    expect_product("(1,2)", "(1,2,3)", "(2,3)", 3); /* = (1,2,3)*(1,2) */
    expect_product("(1,2)(3,4)", "(2,3)", "(1,2,4,3)", 4);
    /* and the order matters: (1,2,3) then (1,2) is not (2,3) */
    sb_gap_perm a = perm_ok("(1,2,3)"), b = perm_ok("(1,2)"), wrong = perm_ok("(2,3)");
    const uint8_t *rows[2] = {a.img, b.img};
    uint8_t st[3];
    apply_all(3, rows, 2, st);
    assert_memory_not_equal(st, wrong.img, 3);
}

static void test_format(void **state)
{
    (void)state;
    char buf[64];
    const char *cases[] = {"(1,3,8,6)(2,5,7,4)", "(1,2)", "()", "(2,5,3)"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sb_gap_perm p = perm_ok(cases[i]);
        sb_gap_format(p.img, 8, buf, sizeof buf);
        assert_string_equal(buf, cases[i]);
    }
    sb_gap_perm p = perm_ok("(1,2,3,4,5,6,7,8)");
    sb_gap_format(p.img, 8, buf, 8);
    assert_string_equal(buf, "(1,2...");
}

/* ---- cycle-string errors ----------------------------------------------------------------- */

static void test_perm_errors(void **state)
{
    (void)state;
    perm_bad("(1,2,0)", 1, 6, "point 0 is not a point: GAP numbers points from 1");
    perm_bad("(1,-2)", 1, 4, "point -2 is not a point");
    perm_bad("(1,300)", 1, 4, "point 300 is above 255");
    perm_bad("(1,2)(2,3)", 1, 7, "point 2 appears twice in one permutation");
    perm_bad("(1,2,1)", 1, 6, "point 1 appears twice");
    perm_bad("(1,2", 1, 1, "unbalanced parentheses: this '(' is never closed");
    perm_bad("(1,2)(3", 1, 6, "unbalanced parentheses: this '(' is never closed");
    perm_bad("(1,2))", 1, 6, "unbalanced parentheses: ')' without a '('");
    perm_bad("1,2)", 1, 1, "expected '(' starting a cycle");
    perm_bad("(1,2)x", 1, 6, "expected the end of the permutation, got the name 'x'");
    perm_bad("(1,2)!", 1, 6, "got the character '!'");
    perm_bad("(1;2)", 1, 3, "expected ',' or ')' after a point, got ';'");
    perm_bad("(a,2)", 1, 2, "expected a point");
    perm_bad("(1,)", 1, 4, "expected a point after ','");
    perm_bad("", 1, 1, "empty permutation");
    perm_bad("  ", 1, 3, "empty permutation");
    perm_bad("(1,2)\xff", 1, 6, "the byte \\xFF");
}

/* ---- files of statements ----------------------------------------------------------------- */

static const char *file_group = "# two named permutations and a third that is not used\n"
                                "b := (1,2);   # a transposition\n"
                                "a:=(1,2,3,4,5);\n"
                                "c := (1,3)\n"
                                "     (2,4);\n"
                                "G := Group(a, b);\n";

static void test_file_group_decides(void **state)
{
    (void)state;
    sb_gap_set set;
    set_ok(file_group, &set);
    assert_int_equal(set.count, 2);
    assert_string_equal(set.perms[0].name, "a");
    assert_string_equal(set.perms[1].name, "b");
    assert_int_equal(set.perms[0].img[4], 0);
    assert_int_equal(set.perms[1].img[0], 1);
    int m = 0;
    sb_gap_error e = {0};
    assert_int_equal(sb_gap_degree(&set, 0, &m, &e), 0);
    assert_int_equal(m, 5);
    sb_genset gs;
    sb_diag d;
    sb_diag_init(&d);
    assert_int_equal(sb_gap_genset(&gs, &set, m, &d), 0);
    assert_int_equal(gs.ngens, 2);
    assert_int_equal(gs.m, 5);
    assert_string_equal(gs.names[0], "a");
    assert_false(gs.inverse_closed); /* (1,2,3,4,5)^-1 is not in the set */
    sb_genset_free(&gs);
    sb_diag_free(&d);
    sb_gap_set_free(&set);
}

static void test_file_forms(void **state)
{
    (void)state;
    sb_gap_set set;
    /* without Group: every named permutation in file order */
    set_ok("x := (1,2);\ny := (2,3);\nz := ();\n", &set);
    assert_int_equal(set.count, 3);
    assert_string_equal(set.perms[2].name, "z");
    sb_gap_set_free(&set);
    /* a bare Group of literals, no final ';': named by their cycles, inverse-closed */
    set_ok("Group((1,2),(2,3))", &set);
    assert_int_equal(set.count, 2);
    assert_string_equal(set.perms[0].name, "(1,2)");
    assert_string_equal(set.perms[1].name, "(2,3)");
    sb_genset gs;
    sb_diag d;
    sb_diag_init(&d);
    assert_int_equal(sb_gap_genset(&gs, &set, 3, &d), 0);
    assert_true(gs.inverse_closed);
    sb_genset_free(&gs);
    sb_gap_set_free(&set);
    /* PuzzleGeometry's layout: Gen:=[...] chooses, ip:=[[1],[3]] is data */
    set_ok("# PuzzleGeometry 0.1\nF:=(1,2,3,4);\nU:=(5,6,7,8);\nR:=(1,5);\n"
           "Gen:=[\nU,F\n];\nip:=[[1],[3],[5]];\n# Size(Group(Gen));\n",
           &set);
    assert_int_equal(set.count, 2);
    assert_string_equal(set.perms[0].name, "U");
    assert_string_equal(set.perms[1].name, "F");
    sb_gap_set_free(&set);
    /* Group(Gen) of a list, Group([..]), an alias, a later Group replaces an earlier one */
    set_ok("f := (1,2);\ng := f;\nL := [g, (1,2,3)];\nH := Group(L);\n", &set);
    assert_int_equal(set.count, 2);
    assert_string_equal(set.perms[0].name, "g");
    assert_string_equal(set.perms[1].name, "(1,2,3)");
    sb_gap_set_free(&set);
    set_ok("f := (1,2);\nH := Group(f);\nK := Group([(3,4), f]);\n", &set);
    assert_int_equal(set.count, 2);
    assert_int_equal(set.perms[0].img[2], 3);
    sb_gap_set_free(&set);
    sb_diag_free(&d);
}

static void test_file_errors(void **state)
{
    (void)state;
    set_bad("", 1, 1, "no GAP statements");
    set_bad("# only a comment\n\n", 3, 1, "no GAP statements");
    set_bad("f := (1,2);\nG := Group(f, h);\n", 2, 15, "unknown name 'h'");
    set_bad("f := (1,2;\n", 1, 10, "expected ',' or ')' after a point, got ';'");
    set_bad("f := (1,2\n", 1, 6, "unbalanced parentheses: this '(' is never closed");
    set_bad("f := (1,2));\n", 1, 11, "unbalanced parentheses");
    set_bad("f := (1,2) $;\n", 1, 12, "got the character '$'");
    set_bad("f := (1,2);\n  g := (0,1);\n", 2, 9, "point 0 is not a point");
    set_bad("f := (1,2)(3,1);\n", 1, 14, "point 1 appears twice");
    set_bad("f := (1,2);\nf := (2,3);\n", 2, 1, "'f' is already defined (line 1)");
    set_bad("G := Group();\n", 1, 6, "Group() needs at least one generator");
    set_bad("f (1,2);\n", 1, 3, "expected ':=' after a name");
    set_bad("ip := [[1],[3];\n", 1, 15, "expected a list item");
    set_bad("n := 5;\n", 2, 1, "no permutations are defined");
}

static void test_degree(void **state)
{
    (void)state;
    sb_gap_set set;
    set_ok("a := (1,2);\nb := (3,\n 9);\n", &set);
    int m = 0;
    sb_gap_error e = {0};
    assert_int_equal(sb_gap_degree(&set, 0, &m, &e), 0);
    assert_int_equal(m, 9);
    assert_int_equal(sb_gap_degree(&set, 48, &m, &e), 0);
    assert_int_equal(m, 48);
    assert_int_equal(sb_gap_degree(&set, 8, &m, &e), SB_EINPUT);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 2);
    assert_non_null(strstr(e.message, "point 9 of b is above the degree 8"));
    sb_gap_set_free(&set);
    set_ok("e := ();\n", &set);
    assert_int_equal(sb_gap_degree(&set, 0, &m, &e), SB_EINPUT);
    assert_non_null(strstr(e.message, "give the degree"));
    assert_int_equal(sb_gap_degree(&set, 3, &m, &e), 0);
    assert_int_equal(m, 3);
    sb_gap_set_free(&set);
}

static void test_read_missing(void **state)
{
    (void)state;
    sb_gap_set set;
    sb_gap_error e = {0};
    assert_int_equal(sb_gap_read("/nonexistent/sb-gap-test.gap", &set, &e), SB_EINPUT);
    assert_int_equal(e.line, 0);
    assert_non_null(strstr(e.message, "cannot read '/nonexistent/sb-gap-test.gap'"));
    assert_int_equal(sb_gap_read("/", &set, &e), SB_EINPUT); /* a folder */
    assert_non_null(strstr(e.message, "cannot read '/'"));
}

/* ---- job files --------------------------------------------------------------------------- */

static char scratch[256];

static int setup_scratch(void **state)
{
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/sb-test-gap-XXXXXX");
    return mkdtemp(scratch) ? 0 : -1;
}

static int remove_scratch(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", scratch, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Parses a job; returns rc and leaves diag text in d. */
static int job_parse(const char *path, const char *text, sb_job *job, sb_diag *d)
{
    sb_diag_init(d);
    return sb_job_parse(job, path, text, strlen(text), d);
}

static void expect_job_error(const char *path, const char *text, const char *want)
{
    sb_job job;
    sb_diag d;
    assert_int_equal(job_parse(path, text, &job, &d), SB_EINPUT);
    if (!strstr(sb_diag_text(&d), want))
        fail_msg("expected '%s', got:\n%s", want, sb_diag_text(&d));
    sb_job_free(&job);
    sb_diag_free(&d);
}

static void test_job_cycles(void **state)
{
    (void)state;
    const char *text = "kind: growth\noutput: o.h5\ngrowth:\n"
                       "  generators: {cycles: [\"(1,2,3,4,5)\", \"(1,2)\"], names: [c, t]}\n";
    sb_job job;
    sb_diag d;
    assert_int_equal(job_parse("j.yaml", text, &job, &d), 0);
    const sb_growth_spec *spec = job.spec;
    assert_int_equal(spec->gens.ngens, 2);
    assert_int_equal(spec->gens.m, 5);
    assert_string_equal(spec->gens.names[0], "c");
    assert_string_equal(spec->gens.names[1], "t");
    assert_false(spec->gens.inverse_closed);
    assert_int_equal(spec->gens.perm[4], 0);
    sb_job_free(&job);
    sb_diag_free(&d);
    /* degree given; default names; an inverse-closed set */
    text = "kind: growth\noutput: o.h5\ngrowth:\n"
           "  generators: {cycles: [\"(1,2)\", \"(2,3)\"], degree: 48}\n";
    assert_int_equal(job_parse("j.yaml", text, &job, &d), 0);
    spec = job.spec;
    assert_int_equal(spec->gens.m, 48);
    assert_string_equal(spec->gens.names[1], "g1");
    assert_true(spec->gens.inverse_closed);
    sb_job_free(&job);
    sb_diag_free(&d);
    /* errors: at the string's place, with the character inside it */
    expect_job_error("j.yaml",
                     "kind: growth\noutput: o.h5\ngrowth:\n"
                     "  generators: {cycles: [\"(1,2)\", \"(1,2,0)\"]}\n",
                     "j.yaml:4:34: growth.generators.cycles[1]: at character 6 of \"(1,2,0)\": "
                     "point 0 is not a point");
    expect_job_error("j.yaml",
                     "kind: growth\noutput: o.h5\ngrowth:\n"
                     "  generators: {cycles: [\"(1,2)\", \"(4,9)\"], degree: 8}\n",
                     "j.yaml:4:34: growth.generators.cycles[1]: at character 4 of \"(4,9)\": "
                     "point 9 of g1 is above the degree 8");
    expect_job_error("j.yaml",
                     "kind: growth\noutput: o.h5\ngrowth:\n"
                     "  generators: {cycles: [\"(1,2)\"], names: [a, b]}\n",
                     "growth.generators.names: has 2 names for 1 generators");
}

static void test_job_gap_file(void **state)
{
    (void)state;
    char gap[512], job_path[512];
    write_file("g.gap", "a := (1,2,3);\nb := (1,2);\nG := Group(b, a);\n", gap, sizeof gap);
    const char *text = "kind: growth\noutput: o.h5\ngrowth:\n  generators: {gap_file: g.gap}\n";
    write_file("job.yaml", text, job_path, sizeof job_path);
    sb_job job;
    sb_diag d;
    /* relative to the job file's folder, not the working folder */
    assert_int_equal(job_parse(job_path, text, &job, &d), 0);
    const sb_growth_spec *spec = job.spec;
    assert_int_equal(spec->gens.ngens, 2);
    assert_string_equal(spec->gens.names[0], "b");
    assert_int_equal(spec->gens.m, 3);
    assert_true(spec->gens.inverse_closed == false);
    sb_job_free(&job);
    sb_diag_free(&d);
    /* errors inside the file: FILE:LINE:COL after the key's place */
    char bad[512], want[1200];
    write_file("bad.gap", "a := (1,2);\n\nG := Group(a, zz);\n", bad, sizeof bad);
    snprintf(want, sizeof want,
             "job.yaml:4:26: growth.generators.gap_file: %s:3:15: unknown name 'zz'", bad);
    expect_job_error(
        job_path, "kind: growth\noutput: o.h5\ngrowth:\n  generators: {gap_file: bad.gap}\n", want);
    write_file("empty.gap", "", bad, sizeof bad);
    expect_job_error(job_path,
                     "kind: growth\noutput: o.h5\ngrowth:\n  generators: {gap_file: empty.gap}\n",
                     "empty.gap:1:1: no GAP statements");
    snprintf(want, sizeof want, "cannot read '%s/missing.gap': No such file or directory", scratch);
    expect_job_error(job_path,
                     "kind: growth\noutput: o.h5\ngrowth:\n  generators: {gap_file: missing.gap}\n",
                     want);
    expect_job_error(job_path,
                     "kind: growth\noutput: o.h5\ngrowth:\n"
                     "  generators: {gap_file: g.gap, degree: 2}\n",
                     "g.gap:1:11: point 3 of a is above the degree 2");
    expect_job_error(job_path,
                     "kind: growth\noutput: o.h5\ngrowth:\n"
                     "  generators: {gap_file: g.gap, names: [x]}\n",
                     "names go with cycles:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycles_rows),
        cmocka_unit_test(test_products),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_perm_errors),
        cmocka_unit_test(test_file_group_decides),
        cmocka_unit_test(test_file_forms),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_degree),
        cmocka_unit_test(test_read_missing),
        cmocka_unit_test(test_job_cycles),
        cmocka_unit_test(test_job_gap_file),
    };
    return cmocka_run_group_tests(tests, setup_scratch, remove_scratch);
}
