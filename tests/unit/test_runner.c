/* The shared runner's pieces that need no MPI: the table of job kinds (every kind has what
 * sb_job_run calls) and the JSON writer every summary goes through. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "symbatch/growth.h"
#include "symbatch/job.h"
#include "symbatch/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_every_kind_is_complete(void **state)
{
    (void)state;
    int n = 0;
    for (const sb_job_kind *const *k = sb_job_kinds(); *k; k++, n++) {
        char why[128] = "";
        assert_int_equal(sb_job_kind_check(*k, why, sizeof why), 0);
        assert_ptr_equal(sb_job_kind_find((*k)->name), *k);
        /* names and sections are unique: a job file and a result group name one kind */
        for (const sb_job_kind *const *o = sb_job_kinds(); *o != *k; o++) {
            assert_string_not_equal((*o)->name, (*k)->name);
            assert_string_not_equal((*o)->section, (*k)->section);
        }
    }
    assert_true(n >= 1);
    assert_null(sb_job_kind_find("no-such-kind"));
}

/* A kind missing a member the runner calls is refused, and the message names the member. */
static void test_incomplete_kind_refused(void **state)
{
    (void)state;
    const char *members[] = {"run",         "write",    "fingerprint", "summary_fields",
                             "result_free", "step_unit"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        sb_job_kind k = sb_growth_kind;
        if (i == 0)
            k.run = NULL;
        else if (i == 1)
            k.write = NULL;
        else if (i == 2)
            k.fingerprint = NULL;
        else if (i == 3)
            k.summary_fields = NULL;
        else if (i == 4)
            k.result_free = NULL;
        else
            k.step_unit = NULL;
        char why[128] = "";
        assert_int_equal(sb_job_kind_check(&k, why, sizeof why), SB_EINTERNAL);
        assert_non_null(strstr(why, members[i]));
        assert_non_null(strstr(why, "growth"));
    }
}

/* Writes a JSON object through sb_json into a string. */
static char *json_of(void (*fill)(sb_json *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sb_json j;
    sb_json_begin(&j, out);
    fill(&j);
    sb_json_finish(&j);
    fclose(out);
    return text;
}

static void fill_escapes(sb_json *j)
{
    sb_json_str(j, "q", "a\"b\\c");
    sb_json_str(j, "ctl", "t\tn\nx\x01\x7f");
    sb_json_str(j, "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    sb_json_str(j, "bad",
                "a\xff"
                "b\xc3"
                "c\xe0\x80\xaf"
                "d\xed\xa0\x80");
}

static void test_json_escapes(void **state)
{
    (void)state;
    char *t = json_of(fill_escapes);
    assert_string_equal(t, "{\"q\":\"a\\\"b\\\\c\",\"ctl\":\"t\\u0009n\\u000ax\\u0001\\u007f\","
                           "\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
                           "\"bad\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd"
                           "\\ufffd\"}\n");
    free(t);
}

static void fill_values(sb_json *j)
{
    const uint64_t v[] = {1, 3, 18446744073709551615ULL};
    sb_json_i64(j, "i", -42);
    sb_json_u64_array(j, "a", v, 3);
    sb_json_u64_array(j, "empty", v, 0);
    sb_json_bool(j, "t", true);
    sb_json_f64(j, "x", "%.3f", 1.5);
    sb_json_f64(j, "nan", "%.3f", NAN);
    sb_json_f64(j, "inf", "%.4g", INFINITY);
    sb_json_open(j, "timers");
    sb_json_open(j, "expand");
    sb_json_f64(j, "min", "%.4g", 0.25);
    sb_json_close(j);
    sb_json_open(j, "write");
    sb_json_close(j);
    /* left open: sb_json_finish closes it */
}

static void test_json_values_and_nesting(void **state)
{
    (void)state;
    char *t = json_of(fill_values);
    assert_string_equal(t, "{\"i\":-42,\"a\":[1,3,18446744073709551615],\"empty\":[],\"t\":true,"
                           "\"x\":1.500,\"nan\":null,\"inf\":null,"
                           "\"timers\":{\"expand\":{\"min\":0.25},\"write\":{}}}\n");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_is_complete),
        cmocka_unit_test(test_incomplete_kind_refused),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_json_values_and_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
