/* Job files: the bad-input corpus (every file must fail with its message at its location),
 * defaults, the echo (print -> parse -> print is stable), locations, the collective load and the
 * output checks (on MPI_COMM_SELF). */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "symbatch/comm.h"
#include "symbatch/core.h"
#include "symbatch/growth.h"
#include "symbatch/job.h"

#include <dirent.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf && (n += fread(buf + n, 1, cap - n, f)) == cap) {
        cap *= 2;
        char *bigger = realloc(buf, cap + 1);
        if (!bigger)
            free(buf);
        buf = bigger;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* tests/badinput: from SB_SOURCE_DIR (ctest sets it), else next to this source file. */
static void corpus_dir(char *buf, size_t size)
{
    const char *src = getenv("SB_SOURCE_DIR");
    if (src && *src) {
        snprintf(buf, size, "%s/tests/badinput", src);
        return;
    }
    snprintf(buf, size, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    if (slash)
        snprintf(slash, size - (size_t)(slash - buf), "/../badinput");
    else
        snprintf(buf, size, "../badinput");
}

static int parse_str(sb_job *job, const char *text, sb_diag *d)
{
    return sb_job_parse(job, "t.yaml", text, strlen(text), d);
}

/* The value after "# NAME: " in the file's header comments, or false. */
static bool header_value(const char *text, const char *name, char *out, size_t size)
{
    char tag[64];
    snprintf(tag, sizeof tag, "# %s: ", name);
    const char *p = text;
    while (p && *p) {
        if (!strncmp(p, tag, strlen(tag))) {
            p += strlen(tag);
            size_t n = strcspn(p, "\n");
            snprintf(out, size, "%.*s", (int)n, p);
            return true;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return false;
}

/* A line of diag that contains `want` (and starts with `prefix` when given). */
static bool diag_has(const sb_diag *d, const char *want, const char *prefix)
{
    const char *p = sb_diag_text(d);
    while (p && *p) {
        size_t n = strcspn(p, "\n");
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        if (strstr(line, want) && (!prefix || !strncmp(line, prefix, strlen(prefix))))
            return true;
        p += n + (p[n] ? 1 : 0);
    }
    return false;
}

/* ---- the corpus -------------------------------------------------------------------------- */

static int is_yaml(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && !strcmp(e->d_name + n - 5, ".yaml");
}

/* Checks one corpus file; returns 1 when it passes, 0 when it needs a CLI setup (tests/cli runs
 * those), -1 when it fails (after printing why). */
static int check_corpus_file(const char *dir, const char *name)
{
    char path[1024], expect[512], loc[64], prefix[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *text = read_all(path, &len);
    assert_non_null(text);
    if (header_value(text, "setup", loc, sizeof loc)) {
        free(text);
        return 0; /* existing output, read-only folder...: tests/cli runs those */
    }
    if (!header_value(text, "expect", expect, sizeof expect))
        fail_msg("%s: no '# expect:' line", name);
    bool has_loc = header_value(text, "expect-location", loc, sizeof loc);
    snprintf(prefix, sizeof prefix, "%s:%s: ", name, loc);
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    int rc = sb_job_parse(&job, name, text, len, &d);
    int result = 1;
    if (rc != SB_EINPUT || !diag_has(&d, expect, has_loc ? prefix : NULL)) {
        print_error("%s: rc %d, expected '%s'%s%s; got:\n%s", name, rc, expect,
                    has_loc ? " at " : "", has_loc ? loc : "", d.text ? d.text : "(nothing)\n");
        result = -1; /* go on: one run lists every file that fails */
    }
    if (rc != 0)
        assert_null(job.spec); /* a failed parse leaves nothing allocated */
    sb_job_free(&job);
    sb_diag_free(&d);
    free(text);
    return result;
}

static void test_corpus(void **state)
{
    (void)state;
    char dir[900];
    corpus_dir(dir, sizeof dir);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, is_yaml, alphasort);
    if (n < 0)
        fail_msg("cannot list %s (set SB_SOURCE_DIR to the source tree)", dir);
    int checked = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        int r = check_corpus_file(dir, list[i]->d_name);
        checked += r != 0;
        failed += r < 0;
        free(list[i]);
    }
    free(list);
    assert_int_equal(failed, 0);
    assert_true(checked >= 24);
}

static void test_three_problems(void **state)
{
    (void)state;
    char dir[900], path[1024];
    corpus_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/40-three-problems.yaml", dir);
    size_t len;
    char *text = read_all(path, &len);
    assert_non_null(text);
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(sb_job_parse(&job, "x.yaml", text, len, &d), SB_EINPUT);
    assert_true(d.count >= 3);
    assert_true(diag_has(&d, "unknown key 'colour'", "x.yaml:5:1: colour: "));
    assert_true(diag_has(&d, "must be one of auto, full, frontier", "x.yaml:8:9: growth.mode: "));
    assert_true(diag_has(&d, "(got 0)", "x.yaml:9:15: growth.max_layers: "));
    sb_diag_free(&d);
    free(text);
}

/* Problems in different places of one file are all reported, schema and kind checks alike. */
static void test_problems_everywhere(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    const char *text = "kind: growth\n"
                       "output: ''\n"
                       "seed: x\n"
                       "checkpoint: {every_seconds: soon}\n"
                       "growth:\n"
                       "  generators: {family: lrx, n: 2}\n"
                       "  central_state: [0, 1]\n"
                       "  mode: full\n"
                       "  mode: frontier\n";
    assert_int_equal(parse_str(&job, text, &d), SB_EINPUT);
    assert_true(diag_has(&d, "must not be empty", "t.yaml:2:9: output: "));
    assert_true(diag_has(&d, "must be an integer >= 0 (got x)", "t.yaml:3:7: seed: "));
    assert_true(diag_has(&d, "must be a number >= 0 (got soon)", "t.yaml:4:29: "));
    assert_true(diag_has(&d, "[3, 255] for family lrx (got 2)", "t.yaml:6:32: "));
    assert_true(diag_has(&d, "duplicate key 'mode'", "t.yaml:9:3: growth.mode: "));
    assert_int_equal(d.count, 5);
    sb_diag_free(&d);
}

/* ---- good jobs --------------------------------------------------------------------------- */

static const char *minimal_job = "kind: growth\n"
                                 "output: results/x.h5\n"
                                 "growth:\n"
                                 "  generators: {family: lrx, n: 6}\n";

static void test_defaults(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, minimal_job, &d), 0);
    assert_int_equal(d.count, 0);
    assert_ptr_equal(job.kind, &sb_growth_kind);
    assert_ptr_equal(sb_job_kind_find("growth"), &sb_growth_kind);
    assert_null(sb_job_kind_find("nope"));
    assert_string_equal(job.output, "results/x.h5");
    assert_true(job.checkpoint_every == 600);
    assert_false(job.memory_per_rank_set);
    assert_int_equal(job.seed, 0);
    assert_null(job.diag);
    assert_int_equal(job.text_len, strlen(minimal_job));
    assert_memory_equal(job.text, minimal_job, job.text_len);
    assert_true(job.text_hash == sb_fnv1a64(minimal_job, strlen(minimal_job), SB_FNV1A64_INIT));
    const sb_growth_spec *s = job.spec;
    assert_string_equal(s->family, "lrx");
    assert_int_equal(s->n, 6);
    assert_int_equal(s->k, -1);
    assert_false(s->k_set);
    assert_int_equal(s->mode, SB_MODE_AUTO);
    assert_int_equal(s->max_layers, -1);
    assert_int_equal(s->max_layer_size, -1);
    assert_int_equal(s->store_last_layer, 1000);
    assert_false(s->store_distances);
    assert_null(s->central);
    assert_int_equal(s->gens.ngens, 3);
    assert_int_equal(s->gens.m, 6);
    assert_true(s->gens.inverse_closed);
    sb_job_free(&job);
    sb_job_free(&job); /* safe twice */
    sb_diag_free(&d);
}

static const char *full_job = "# every key given\n"
                              "kind: growth\n"
                              "output: \"out dir/a \\\"b\\\".h5\"\n"
                              "checkpoint:\n"
                              "  every_seconds: 30.25\n"
                              "memory_per_rank: 2 GiB\n"
                              "seed: 7\n"
                              "growth:\n"
                              "  generators:\n"
                              "    family: lrx\n"
                              "    n: 6\n"
                              "    k: 2\n"
                              "  central_state: '001122'\n"
                              "  mode: frontier\n"
                              "  max_layers: 5\n"
                              "  max_layer_size: 100\n"
                              "  store_last_layer: 0\n"
                              "  store_distances: true\n";

static void test_all_keys(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, full_job, &d), 0);
    assert_string_equal(job.output, "out dir/a \"b\".h5");
    assert_true(job.checkpoint_every == 30.25);
    assert_true(job.memory_per_rank_set);
    assert_true(job.memory_per_rank == 2147483648ULL);
    assert_int_equal(job.seed, 7);
    const sb_growth_spec *s = job.spec;
    assert_int_equal(s->k, 2);
    assert_true(s->k_set);
    assert_int_equal(s->gens.k, 2);
    assert_int_equal(s->central_len, 6);
    const uint8_t central[] = {0, 0, 1, 1, 2, 2};
    assert_memory_equal(s->central, central, 6);
    assert_int_equal(s->mode, SB_MODE_FRONTIER);
    assert_int_equal(s->max_layers, 5);
    assert_int_equal(s->max_layer_size, 100);
    assert_int_equal(s->store_last_layer, 0);
    assert_true(s->store_distances);
    sb_job_free(&job);
    sb_diag_free(&d);
}

static const char *explicit_job = "kind: growth\n"
                                  "output: e.h5\n"
                                  "memory_per_rank: 1000000\n"
                                  "checkpoint: {every_seconds: 0}\n"
                                  "growth:\n"
                                  "  generators:\n"
                                  "    explicit:\n"
                                  "      - [1, 2, 0]\n"
                                  "      - [2, 0, 1]\n"
                                  "  central_state: [0, 0, 1]\n"
                                  "  max_layers: null\n"
                                  "  max_layer_size: ~\n";

static void test_explicit(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, explicit_job, &d), 0);
    const sb_growth_spec *s = job.spec;
    assert_null(s->family);
    assert_int_equal(s->explicit_count, 2);
    assert_int_equal(s->explicit_m, 3);
    const uint8_t rows[] = {1, 2, 0, 2, 0, 1};
    assert_memory_equal(s->explicit_rows, rows, 6);
    assert_int_equal(s->gens.ngens, 2);
    assert_int_equal(s->gens.m, 3);
    assert_true(s->gens.inverse_closed);
    assert_int_equal(s->central_len, 3);
    assert_int_equal(s->max_layers, -1);
    assert_int_equal(s->max_layer_size, -1);
    assert_true(job.checkpoint_every == 0);
    sb_job_free(&job);
    sb_diag_free(&d);
}

/* ---- echo -------------------------------------------------------------------------------- */

static char *print_to_string(const sb_job *job)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    sb_job_print(job, f);
    long n = ftell(f);
    rewind(f);
    char *buf = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static void assert_same_spec(const sb_job *a, const sb_job *b)
{
    assert_ptr_equal(a->kind, b->kind);
    assert_string_equal(a->output, b->output);
    assert_true(a->checkpoint_every == b->checkpoint_every);
    assert_true(a->memory_per_rank == b->memory_per_rank);
    assert_int_equal(a->memory_per_rank_set, b->memory_per_rank_set);
    assert_int_equal(a->seed, b->seed);
    const sb_growth_spec *x = a->spec, *y = b->spec;
    assert_int_equal(!x->family, !y->family);
    if (x->family)
        assert_string_equal(x->family, y->family);
    assert_int_equal(x->n, y->n);
    assert_int_equal(x->k, y->k);
    assert_int_equal(x->k_set, y->k_set);
    assert_int_equal(x->explicit_count, y->explicit_count);
    assert_int_equal(x->explicit_m, y->explicit_m);
    if (x->explicit_rows)
        assert_memory_equal(x->explicit_rows, y->explicit_rows,
                            (size_t)x->explicit_count * (size_t)x->explicit_m);
    assert_int_equal(x->central_len, y->central_len);
    if (x->central)
        assert_memory_equal(x->central, y->central, (size_t)x->central_len);
    assert_int_equal(x->mode, y->mode);
    assert_int_equal(x->max_layers, y->max_layers);
    assert_int_equal(x->max_layer_size, y->max_layer_size);
    assert_int_equal(x->store_last_layer, y->store_last_layer);
    assert_int_equal(x->store_distances, y->store_distances);
    assert_int_equal(x->gens.ngens, y->gens.ngens);
    assert_int_equal(x->gens.m, y->gens.m);
}

static void roundtrip(const char *text)
{
    sb_diag d;
    sb_diag_init(&d);
    sb_job a, b;
    assert_int_equal(parse_str(&a, text, &d), 0);
    char *echo = print_to_string(&a);
    if (sb_job_parse(&b, "echo.yaml", echo, strlen(echo), &d) != 0)
        fail_msg("the echo does not parse:\n%s\n%s", echo, sb_diag_text(&d));
    assert_same_spec(&a, &b);
    char *echo2 = print_to_string(&b);
    assert_string_equal(echo, echo2);
    free(echo);
    free(echo2);
    sb_job_free(&a);
    sb_job_free(&b);
    sb_diag_free(&d);
}

static void test_print_roundtrip(void **state)
{
    (void)state;
    roundtrip(minimal_job);
    roundtrip(full_job);
    roundtrip(explicit_job);
}

static void test_print_text(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, minimal_job, &d), 0);
    char *echo = print_to_string(&job);
    assert_non_null(strstr(echo, "kind: growth\n"));
    assert_non_null(strstr(echo, "\n  every_seconds: 600\n"));
    assert_non_null(
        strstr(echo, "\nmemory_per_rank: null  # default: node memory / ranks on the node\n"));
    assert_non_null(strstr(echo, "\n  generators: {family: lrx, n: 6}\n"));
    assert_non_null(strstr(echo, "\n  mode: auto\n"));
    assert_non_null(strstr(echo, "\n  max_layers: null"));
    assert_non_null(strstr(echo, "\n  store_last_layer: 1000\n"));
    free(echo);
    sb_job_free(&job);
    sb_diag_free(&d);
}

static char *describe_to_string(const char *text)
{
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    if (parse_str(&job, text, &d) != 0)
        fail_msg("%s", sb_diag_text(&d));
    FILE *f = tmpfile();
    job.kind->describe(&job, f);
    long n = ftell(f);
    rewind(f);
    char *buf = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    sb_job_free(&job);
    sb_diag_free(&d);
    /* Every line is a YAML comment, so the description can follow the echo. */
    for (const char *p = buf; *p; p = strchr(p, '\n') + 1)
        assert_true(!strncmp(p, "# ", 2));
    return buf;
}

static void test_describe(void **state)
{
    (void)state;
    char *s = describe_to_string(minimal_job);
    assert_non_null(strstr(s, "at most 720 states (6!)"));
    assert_non_null(strstr(s, "inverse-closed: yes"));
    free(s);
    s = describe_to_string(full_job);
    assert_non_null(strstr(s, "at most 90 states (6!/(2! 2! 2!))"));
    free(s);
    s = describe_to_string("{kind: growth, output: o, growth: {generators: {family: lx, n: 5}}}");
    assert_non_null(strstr(s, "directed growth: layers are out-distances"));
    free(s);
    s = describe_to_string(
        "{kind: growth, output: o, growth: {generators: {family: burnt_pancake, n: 3}}}");
    assert_non_null(strstr(s, "at most 48 states (2^3 3!)"));
    free(s);
    s = describe_to_string(
        "{kind: growth, output: o, growth: {generators: {family: coxeter, n: 30}}}");
    assert_non_null(strstr(s, "at most about 2.653e32 states (30!)"));
    free(s);
}

/* ---- locations --------------------------------------------------------------------------- */

static void test_where(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, full_job, &d), 0);
    const sb_loc *l = sb_job_where(&job, "growth.generators.n");
    assert_non_null(l);
    assert_int_equal(l->line, 11);
    assert_int_equal(l->column, 8);
    l = sb_job_where(&job, "growth");
    assert_non_null(l);
    assert_int_equal(l->line, 8);
    assert_int_equal(l->column, 1);
    l = sb_job_where(&job, "growth.central_state");
    assert_non_null(l);
    assert_int_equal(l->line, 13);
    assert_int_equal(l->column, 18);
    assert_null(sb_job_where(&job, "growth.store"));
    /* Errors after parsing (a kind's late check) fall back to the nearest parent. */
    job.diag = &d;
    assert_int_equal(sb_job_error(&job, "growth.generators.n", "n is %d", 6), SB_EINPUT);
    assert_int_equal(sb_job_error(&job, "growth.generators.q[3]", "late"), SB_EINPUT);
    assert_int_equal(sb_job_error(&job, "nothing.here", "top"), SB_EINPUT);
    assert_true(diag_has(&d, "n is 6", "t.yaml:11:8: growth.generators.n: "));
    assert_true(diag_has(&d, "late", "t.yaml:9:3: growth.generators.q[3]: "));
    assert_true(diag_has(&d, "top", "t.yaml:2:1: nothing.here: "));
    job.nlocs = 0;
    sb_job_error(&job, "growth.mode", "nowhere");
    assert_true(diag_has(&d, "nowhere", "t.yaml: growth.mode: "));
    job.diag = NULL;
    sb_job_free(&job);
    sb_diag_free(&d);
}

/* ---- collective load and output checks (MPI_COMM_SELF) ----------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load(void **state)
{
    (void)state;
    sb_ctx ctx;
    assert_int_equal(sb_ctx_init(&ctx, MPI_COMM_SELF), 0);
    char dir[] = "/tmp/sb-test-job-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/job.yaml", dir);
    write_file(path, full_job);
    sb_diag d;
    sb_diag_init(&d);
    sb_job job, ref;
    assert_int_equal(sb_job_load(&job, path, &ctx, &d), 0);
    assert_int_equal(parse_str(&ref, full_job, &d), 0);
    assert_same_spec(&job, &ref);
    assert_string_equal(job.path, path);
    assert_true(job.text_hash == ref.text_hash);
    assert_true(sb_job_budget(&job, &ctx) == 2147483648ULL);
    sb_job_free(&ref);
    sb_job_free(&job);

    snprintf(path, sizeof path, "%s/missing.yaml", dir);
    assert_int_equal(sb_job_load(&job, path, &ctx, &d), SB_EINPUT);
    assert_true(diag_has(&d, "cannot read job file: No such file or directory", path));
    assert_int_equal(sb_job_load(&job, dir, &ctx, &d), SB_EINPUT); /* a directory */
    assert_true(diag_has(&d, "cannot read job file: Is a directory", dir));

    snprintf(path, sizeof path, "%s/bad.yaml", dir);
    write_file(path, "kind: growth\noutput: x\ngrowth: {generators: {family: lrx, n: 1}}\n");
    assert_int_equal(sb_job_load(&job, path, &ctx, &d), SB_EINPUT);
    assert_true(diag_has(&d, "growth.generators.n", path));
    assert_null(job.spec);

    write_file(path, minimal_job);
    assert_int_equal(sb_job_load(&job, path, &ctx, &d), 0);
    uint64_t avail = sb_mem_available();
    uint64_t budget = sb_job_budget(&job, &ctx);
    assert_true(budget <= avail / (uint64_t)ctx.node_size + (avail / 10));
    sb_job_free(&job);
    remove(path);
    snprintf(path, sizeof path, "%s/job.yaml", dir);
    remove(path);
    rmdir(dir);
    sb_diag_free(&d);
    sb_ctx_free(&ctx);
}

static void test_check_output(void **state)
{
    (void)state;
    sb_ctx ctx;
    assert_int_equal(sb_ctx_init(&ctx, MPI_COMM_SELF), 0);
    char dir[] = "/tmp/sb-test-out-XXXXXX", out[256], sub[256];
    assert_non_null(mkdtemp(dir));
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, minimal_job, &d), 0);
    struct stat st;

    snprintf(out, sizeof out, "%s/r.h5", dir);
    assert_int_equal(sb_job_check_output(&job, out, false, &ctx, &d), 0);
    assert_int_equal(stat(out, &st), -1); /* nothing created */
    write_file(out, "x");
    assert_int_equal(sb_job_check_output(&job, out, false, &ctx, &d), SB_EEXIST);
    assert_true(diag_has(&d, "exists; pass --force to overwrite it", "t.yaml: output '"));
    assert_int_equal(sb_job_check_output(&job, out, true, &ctx, &d), 0);
    remove(out);

    assert_int_equal(mkdir(out, 0755), 0);
    assert_int_equal(sb_job_check_output(&job, out, true, &ctx, &d), SB_EINPUT);
    assert_true(diag_has(&d, "is a directory", NULL));
    rmdir(out);

    snprintf(sub, sizeof sub, "%s/ro", dir);
    assert_int_equal(mkdir(sub, 0555), 0);
    snprintf(out, sizeof out, "%s/ro/r.h5", dir);
    assert_int_equal(sb_job_check_output(&job, out, false, &ctx, &d), SB_EINPUT);
    assert_true(diag_has(&d, "' is not writable", NULL));
    rmdir(sub);

    snprintf(out, sizeof out, "%s/none/r.h5", dir);
    assert_int_equal(sb_job_check_output(&job, out, false, &ctx, &d), SB_EINPUT);
    assert_true(diag_has(&d, "/none' does not exist", NULL));
    assert_int_equal(sb_job_check_output(&job, "", false, &ctx, &d), SB_EINPUT);
    /* NULL: the job's own output (results/x.h5, relative; the folder is likely absent). */
    int rc = sb_job_check_output(&job, NULL, false, &ctx, &d);
    assert_true(rc == 0 || rc == SB_EINPUT);

    sb_job_free(&job);
    rmdir(dir);
    sb_diag_free(&d);
    sb_ctx_free(&ctx);
}

/* ---- hostile files ------------------------------------------------------------------------ */

enum { FILE_MAX = 1 << 20 }; /* SB_JOB_FILE_MAX in src/job/job.c: the message names it */

/* minimal_job, then '#' comment lines up to exactly `size` bytes. */
static char *padded_job(size_t size)
{
    char *t = malloc(size + 1);
    assert_non_null(t);
    size_t head = strlen(minimal_job);
    memcpy(t, minimal_job, head);
    memset(t + head, '#', size - head);
    for (size_t i = head + 100; i < size; i += 100)
        t[i] = '\n';
    t[size] = '\0';
    return t;
}

/* Lines of diag that start with `prefix`. */
static int diag_lines(const sb_diag *d, const char *prefix)
{
    int n = 0;
    for (const char *p = sb_diag_text(d); *p; p += strcspn(p, "\n") + 1)
        n += !strncmp(p, prefix, strlen(prefix));
    return n;
}

static void test_size_limit(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    char *text = padded_job(FILE_MAX);
    assert_int_equal(sb_job_parse(&job, "t.yaml", text, FILE_MAX, &d), 0); /* at the limit */
    assert_int_equal(d.count, 0);
    sb_job_free(&job);
    free(text);

    text = padded_job(FILE_MAX + 1);
    assert_int_equal(sb_job_parse(&job, "t.yaml", text, FILE_MAX + 1, &d), SB_EINPUT);
    assert_int_equal(d.count, 1);
    assert_true(diag_has(&d, "job file is 1048577 bytes, over the limit of 1048576 bytes (1 MiB",
                         "t.yaml: "));
    assert_null(job.spec);
    assert_null(job.text);

    /* From a file: refused by its size, before it is read. */
    sb_ctx ctx;
    assert_int_equal(sb_ctx_init(&ctx, MPI_COMM_SELF), 0);
    char dir[] = "/tmp/sb-test-big-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    write_file(path, text);
    assert_int_equal(sb_job_load(&job, path, &ctx, &d), SB_EINPUT);
    assert_true(diag_has(&d, "job file is 1048577 bytes, over the limit", path));
    assert_int_equal(truncate(path, 3LL << 30), 0); /* sparse: 3 GiB that read() would fill */
    assert_int_equal(sb_job_load(&job, path, &ctx, &d), SB_EINPUT);
    assert_true(diag_has(&d, "job file is 3221225472 bytes, over the limit", path));
    remove(path);
    rmdir(dir);
    sb_ctx_free(&ctx);
    free(text);
    sb_diag_free(&d);
}

/* `keys` unknown top-level keys after minimal_job's lines. */
static char *many_keys(int keys, const char *indent)
{
    size_t size = strlen(minimal_job) + (size_t)keys * 32 + 1;
    char *t = malloc(size);
    assert_non_null(t);
    size_t used = (size_t)snprintf(t, size, "%s", minimal_job);
    for (int i = 0; i < keys; i++)
        used += (size_t)snprintf(t + used, size - used, "%skey%d: 1\n", indent, i);
    return t;
}

static void test_problem_cap(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    char *text = many_keys(60000, "");
    assert_true(strlen(text) < FILE_MAX);
    assert_int_equal(parse_str(&job, text, &d), SB_EINPUT);
    assert_int_equal(d.count, 51);
    assert_int_equal(diag_lines(&d, "t.yaml:"), 50);
    assert_true(diag_has(&d, "unknown key 'key0'", "t.yaml:5:1: key0: "));
    assert_true(diag_has(&d, "unknown key 'key49'", "t.yaml:54:1: key49: "));
    assert_false(diag_has(&d, "key50", NULL));
    assert_true(diag_has(&d, "... and 59950 more problems", "... and"));
    free(text);

    /* The cap is per file: a second file into the same diag shows its own problems. */
    assert_int_equal(parse_str(&job, "kind: growth\noutput: x\ncolour: red\n", &d), SB_EINPUT);
    assert_true(diag_has(&d, "unknown key 'colour'", "t.yaml:3:1: "));
    sb_diag_free(&d);

    /* 51 problems: 50 and "1 more problem"; within a section too. */
    sb_diag_init(&d);
    text = many_keys(51, "");
    assert_int_equal(parse_str(&job, text, &d), SB_EINPUT);
    assert_true(diag_has(&d, "... and 1 more problem", "... and"));
    free(text);
    sb_diag_free(&d);
    sb_diag_init(&d);
    text = many_keys(50, "  "); /* in growth: plus nothing else */
    assert_int_equal(parse_str(&job, text, &d), SB_EINPUT);
    assert_int_equal(d.count, 50);
    assert_true(diag_has(&d, "unknown key 'key49'", "t.yaml:54:3: growth.key49: "));
    assert_false(diag_has(&d, "more problem", NULL));
    free(text);
    sb_diag_free(&d);
}

/* Duplicate keys among many: found by their bytes, reported at the later one. */
static void test_many_duplicates(void **state)
{
    (void)state;
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    char *text = many_keys(20000, "  ");
    size_t len = strlen(text);
    text = realloc(text, len + 64);
    assert_non_null(text);
    snprintf(text + len, 64, "  key7: 2\n  mode: full\n");
    assert_int_equal(parse_str(&job, text, &d), SB_EINPUT);
    assert_true(diag_has(&d, "... and 19951 more problems", "... and"));
    free(text);
    sb_diag_free(&d);

    /* Keys differing after a NUL are different keys, and both are refused. */
    sb_diag_init(&d);
    const char *nul_keys = "kind: growth\noutput: x\n\"a\\0b\": 1\n\"a\\0c\": 1\n";
    assert_int_equal(parse_str(&job, nul_keys, &d), SB_EINPUT);
    assert_true(diag_has(&d, "(got \"a\\x00b\")", "t.yaml:3:1: keys must be names"));
    assert_true(diag_has(&d, "(got \"a\\x00c\")", "t.yaml:4:1: keys must be names"));
    assert_false(diag_has(&d, "duplicate", NULL));
    sb_diag_free(&d);
}

/* Explicit rows are all located: the table of locations grows past its first size. */
static void test_many_locations(void **state)
{
    (void)state;
    enum { ROWS = 3000 };
    size_t size = 128 + ROWS * 16;
    char *text = malloc(size);
    assert_non_null(text);
    size_t used = (size_t)snprintf(text, size,
                                   "kind: growth\noutput: x\ngrowth:\n"
                                   "  generators:\n    explicit:\n");
    for (int i = 0; i < ROWS; i++)
        used += (size_t)snprintf(text + used, size - used, "      - [1, 0]\n");
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, text, &d), 0);
    for (int i = 0; i < ROWS; i += 7) {
        char path[64];
        snprintf(path, sizeof path, "growth.generators.explicit[%d]", i);
        const sb_loc *l = sb_job_where(&job, path);
        assert_non_null(l);
        assert_int_equal(l->line, 6 + i);
        assert_int_equal(l->column, 9);
    }
    assert_null(sb_job_where(&job, "growth.generators.explicit[3000]"));
    assert_non_null(sb_job_where(&job, "output"));
    sb_job_free(&job);
    free(text);
    sb_diag_free(&d);
}

/* Nesting: 32 levels are read (and x is an unknown key), 33 are refused where the 33rd starts. */
static void test_nesting(void **state)
{
    (void)state;
    char text[256];
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    for (int levels = 31; levels <= 32; levels++) {
        int used = snprintf(text, sizeof text, "kind: growth\noutput: x\nx: ");
        for (int i = 0; i < levels; i++)
            text[used++] = '[';
        for (int i = 0; i < levels; i++)
            text[used++] = ']';
        snprintf(text + used, sizeof text - (size_t)used, "\n");
        assert_int_equal(parse_str(&job, text, &d), SB_EINPUT);
    }
    assert_true(diag_has(&d, "unknown key 'x'", "t.yaml:3:1: x: "));
    assert_true(diag_has(&d, "nested more than 32 levels deep", "t.yaml:3:35: "));
    assert_int_equal(diag_lines(&d, "t.yaml:3:35: "), 1);
    sb_diag_free(&d);
}

/* A control character in a string (or a NUL in any scalar) is refused at its place, by key. */
static void expect_control(const char *text, const char *where, const char *found)
{
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    assert_int_equal(parse_str(&job, text, &d), SB_EINPUT);
    if (!diag_has(&d, found, where))
        fail_msg("expected '%s' at '%s' for:\n%s\ngot:\n%s", found, where, text, sb_diag_text(&d));
    assert_true(diag_has(&d, "must not contain control characters", where));
    assert_null(job.output);
    sb_diag_free(&d);
}

static void test_control_chars(void **state)
{
    (void)state;
    const char *gens = "growth:\n  generators: {family: lrx, n: 5}\n";
    char text[512];
    static const char *const outputs[][2] = {
        {"\"o\\0.h5\"", "found 0x00 at position 1"},
        {"\"o\\u0000.h5\"", "found 0x00"},
        {"\"o\\x07.h5\"", "found 0x07 at position 1"},
        {"\"o\\t.h5\"", "found 0x09"},
        {"\"o\\n.h5\"", "found 0x0a"},
        {"\"o\\x7f.h5\"", "found 0x7f"},
        {"\"results/run\\x1b.h5\"", "at position 11"},
        {"'o\t.h5'", "found 0x09"},
    };
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        snprintf(text, sizeof text, "kind: growth\noutput: %s\n%s", outputs[i][0], gens);
        expect_control(text, "t.yaml:2:9: output: ", outputs[i][1]);
    }
    expect_control("kind: growth\noutput: x\ngrowth:\n  generators: {family: \"lrx\\t\", n: 5}\n",
                   "t.yaml:4:24: growth.generators.family: ", "found 0x09 at position 3");
    /* Not strings, but a NUL would cut them short just the same. */
    expect_control("kind: growth\noutput: x\ngrowth:\n  generators: {family: lrx, n: \"5\\0\"}\n",
                   "t.yaml:4:32: growth.generators.n: ", "found 0x00");
    expect_control("kind: growth\noutput: x\ngrowth:\n  generators: {explicit: [[1, \"0\\0\"]]}\n",
                   "t.yaml:4:31: growth.generators.explicit[0][1]: ", "found 0x00");
    expect_control("kind: \"growth\\0\"\noutput: x\n", "t.yaml:1:7: kind: ", "found 0x00");

    /* Bytes >= 0x80 (UTF-8) and spaces are names like any other. */
    sb_diag d;
    sb_diag_init(&d);
    sb_job job;
    snprintf(text, sizeof text, "kind: growth\noutput: \"r\\u00e9sultats/a b.h5\"\n%s", gens);
    assert_int_equal(parse_str(&job, text, &d), 0);
    assert_string_equal(job.output, "r\xc3\xa9sultats/a b.h5");
    sb_job_free(&job);
    sb_diag_free(&d);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_three_problems),
        cmocka_unit_test(test_problems_everywhere),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_explicit),
        cmocka_unit_test(test_print_roundtrip),
        cmocka_unit_test(test_print_text),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_check_output),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_problem_cap),
        cmocka_unit_test(test_many_duplicates),
        cmocka_unit_test(test_many_locations),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_control_chars),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return failed;
}
