/* The `growth:` section: its schema table, the generators and central_state forms, and the
 * checks that need the generator family (n's range, k, state length).
 *
 *   generators:    {family: NAME, n: INT, k: INT}  (k optional, only for families with a k)
 *               or {explicit: [[1, 2, 0], [2, 0, 1]]}
 *               or {cycles: ["(1,2,3)", "(1,2)"], names: [a, b], degree: 5}  (GAP notation,
 *                  1-based; names and degree optional: default g0, g1, ... and the largest point)
 *               or {gap_file: PATH, degree: 5}  (GAP statements; relative to the job's folder)
 *   central_state: null (identity), "001122" (one character per element: 0-9, then a-z for
 *                  10..35) or a list of integers [0, 0, 1, 1, 2, 2]
 *   mode:          auto | full | frontier
 *   max_layers, max_layer_size: integers >= 1, or null for no limit
 *   store_last_layer: integer >= 0;  store_distances: true | false
 *   shared_memory: true | false (full mode: node-local marks without the exchange) */
#include "growth/spec.h"

#include "job/schema.h"
#include "symbatch/bsgs.h"
#include "symbatch/core.h"
#include "symbatch/gap.h"
#include "symbatch/perm.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The keys sit in the section of the job's kind: growth's own, or another kind's that takes the
 * same generators and central state (grpo), so that messages name the key as written. */
static const char *key_path(const sb_job *job, char *buf, const char *key)
{
    snprintf(buf, SB_PATH_MAX, "%s.%s", job->kind ? job->kind->section : "growth", key);
    return buf;
}
#define KP(key)    key_path(job, (char[SB_PATH_MAX]){0}, key)
#define P_GENS     KP("generators")
#define P_FAMILY   KP("generators.family")
#define P_N        KP("generators.n")
#define P_K        KP("generators.k")
#define P_EXPLICIT KP("generators.explicit")
#define P_CYCLES   KP("generators.cycles")
#define P_NAMES    KP("generators.names")
#define P_GAP_FILE KP("generators.gap_file")
#define P_DEGREE   KP("generators.degree")
#define P_CENTRAL  KP("central_state")

static const char *const mode_names[] = {"auto", "full", "frontier", NULL};

/* ---- generators -------------------------------------------------------------------------- */

/* One explicit row: a list of integers 0..255 of the same length as the first good row. */
static int parse_explicit_row(sb_job *job, const sb_ynode *row, long g, int *m, long *m_row,
                              uint8_t *out)
{
    char path[SB_PATH_MAX];
    sb_job_path(path, P_EXPLICIT, NULL, g);
    sb_job_note(job, path, row);
    if (sb_ynode_kind(row) != SB_Y_SEQ)
        return sb_job_error_at(job, row, path,
                               "generator %ld must be a list of integers like [1, 2, 0] (got %s)",
                               g, sb_ynode_describe(row));
    long len = (long)sb_ynode_count(row);
    if (len < 1 || len > SB_MAX_ELEMS)
        return sb_job_error_at(job, row, path, "generator %ld has %ld entries (allowed 1..%d)", g,
                               len, SB_MAX_ELEMS);
    if (*m_row < 0) {
        *m = (int)len;
        *m_row = g;
    } else if (len != *m) {
        return sb_job_error_at(job, row, path,
                               "generator %ld has %ld entries, generator %ld has %d", g, len,
                               *m_row, *m);
    }
    int rc = 0;
    for (long j = 0; j < len; j++) {
        sb_ynode item = sb_yseq_item(row, (size_t)j);
        char ipath[SB_PATH_MAX];
        sb_job_path(ipath, path, NULL, j);
        int64_t v = 0;
        if (sb_job_int_value(job, ipath, &item, 0, SB_MAX_ELEMS, &v) != 0)
            rc = SB_EINPUT;
        else if (out)
            out[j] = (uint8_t)v;
    }
    return rc;
}

static int parse_explicit(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_growth_spec *spec = target;
    if (sb_ynode_kind(node) != SB_Y_SEQ)
        return sb_job_error_at(job, node, P_EXPLICIT,
                               "must be a list of generators, each a list like [1, 2, 0] (got %s)",
                               sb_ynode_describe(node));
    long count = (long)sb_ynode_count(node);
    if (count < 1 || count > SB_MAX_GENS)
        return sb_job_error_at(job, node, P_EXPLICIT, "must list 1..%d generators (got %ld)",
                               SB_MAX_GENS, count);
    uint8_t *rows = malloc((size_t)count * SB_MAX_ELEMS);
    if (!rows)
        return SB_ENOMEM;
    int m = 0, rc = 0;
    long m_row = -1;
    for (long g = 0; g < count; g++) {
        sb_ynode row = sb_yseq_item(node, (size_t)g);
        uint8_t *out = m_row < 0 ? rows : rows + (size_t)g * (size_t)m;
        /* Rows before the first well-formed one are errors, so the buffer is only kept when
         * row 0 set the length. */
        if (parse_explicit_row(job, &row, g, &m, &m_row, out) != 0)
            rc = SB_EINPUT;
    }
    if (rc != 0) {
        free(rows);
        return rc;
    }
    free(spec->explicit_rows);
    spec->explicit_rows = rows;
    spec->explicit_count = (int)count;
    spec->explicit_m = m;
    return 0;
}

/* A list of strings (cycles:, names:) into malloc'd copies; `what` describes one item. */
static int parse_strings(sb_job *job, const sb_ynode *node, const char *path, const char *what,
                         char ***out, int *count)
{
    if (sb_ynode_kind(node) != SB_Y_SEQ)
        return sb_job_error_at(job, node, path, "must be a list of %s (got %s)", what,
                               sb_ynode_describe(node));
    long n = (long)sb_ynode_count(node);
    if (n < 1 || n > SB_MAX_GENS)
        return sb_job_error_at(job, node, path, "must list 1..%d items (got %ld)", SB_MAX_GENS, n);
    char **items = calloc((size_t)n, sizeof *items);
    if (!items)
        return SB_ENOMEM;
    int rc = 0;
    for (long i = 0; i < n && rc != SB_ENOMEM; i++) {
        sb_ynode item = sb_yseq_item(node, (size_t)i);
        char ipath[SB_PATH_MAX];
        sb_job_path(ipath, path, NULL, i);
        sb_job_note(job, ipath, &item);
        const char *text = sb_ynode_text(&item);
        if (sb_ynode_kind(&item) != SB_Y_SCALAR || sb_ynode_is_null(&item))
            rc = sb_job_error_at(job, &item, ipath, "must be %s (got %s)", what,
                                 sb_ynode_describe(&item));
        else if (strlen(text) != sb_ynode_length(&item))
            rc = sb_job_error_at(job, &item, ipath, "must not contain a NUL character");
        else if (!(items[i] = strdup(text)))
            rc = SB_ENOMEM;
    }
    if (rc != 0) {
        for (long i = 0; i < n; i++)
            free(items[i]);
        free(items);
        return rc;
    }
    *out = items;
    *count = (int)n;
    return 0;
}

static void free_strings(char **items, int count)
{
    for (int i = 0; items && i < count; i++)
        free(items[i]);
    free(items);
}

static int parse_cycles(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_growth_spec *spec = target;
    free_strings(spec->cycles, spec->cycles_count);
    spec->cycles = NULL;
    return parse_strings(job, node, P_CYCLES, "permutations in GAP notation like \"(1,2,3)(4,5)\"",
                         &spec->cycles, &spec->cycles_count);
}

static int parse_names(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_growth_spec *spec = target;
    free_strings(spec->cycle_names, spec->cycle_names_count);
    spec->cycle_names = NULL;
    int rc = parse_strings(job, node, P_NAMES, "generator names", &spec->cycle_names,
                           &spec->cycle_names_count);
    for (int i = 0; rc == 0 && i < spec->cycle_names_count; i++) {
        size_t len = strlen(spec->cycle_names[i]);
        if (len < 1 || len >= SB_NAME_MAX) {
            char path[SB_PATH_MAX];
            sb_job_path(path, P_NAMES, NULL, i);
            sb_job_error(job, path, "a name must have 1..%d characters (got %zu)", SB_NAME_MAX - 1,
                         len);
        }
    }
    return rc;
}

static const sb_field generator_fields[] = {
    {.key = "family",
     .type = SB_F_STRING,
     .offset = offsetof(sb_growth_spec, family),
     .set_offset = SIZE_MAX,
     .help = "generator family (see `symbatch generators`)"},
    {.key = "n",
     .type = SB_F_INT,
     .offset = offsetof(sb_growth_spec, n),
     .set_offset = SIZE_MAX,
     .min = 1,
     .max = SB_MAX_ELEMS,
     .help = "number of elements"},
    {.key = "k",
     .type = SB_F_INT,
     .offset = offsetof(sb_growth_spec, k),
     .set_offset = offsetof(sb_growth_spec, k_set),
     .nullable = true,
     .min = 0,
     .max = SB_MAX_ELEMS,
     .help = "default: the family's"},
    {.key = "metric",
     .type = SB_F_STRING,
     .offset = offsetof(sb_growth_spec, metric),
     .set_offset = SIZE_MAX,
     .nullable = true,
     .help = "family cube: qtm (quarter turns, default) or htm (quarter and half turns)"},
    {.key = "fixed_corner",
     .type = SB_F_BOOL,
     .offset = offsetof(sb_growth_spec, fixed_corner),
     .set_offset = SIZE_MAX,
     .help = "family cube, n = 2: turn only the three faces away from one corner"},
    {.key = "explicit",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .custom = parse_explicit,
     .help = "generators as lists of positions"},
    {.key = "cycles",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .custom = parse_cycles,
     .help = "generators in GAP cycle notation, 1-based"},
    {.key = "names",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .custom = parse_names,
     .help = "names of the cycles: generators (default g0, g1, ...)"},
    {.key = "gap_file",
     .type = SB_F_STRING,
     .offset = offsetof(sb_growth_spec, gap_file),
     .set_offset = SIZE_MAX,
     .help = "file of GAP statements (relative to the job file's folder)"},
    {.key = "degree",
     .type = SB_F_INT,
     .offset = offsetof(sb_growth_spec, degree),
     .set_offset = SIZE_MAX,
     .min = 1,
     .max = SB_MAX_ELEMS,
     .help = "number of points of GAP generators (default: the largest point)"},
    {.key = NULL},
};

/* Which keys of generators: were given, for the either/or rules. */
static void generators_form(sb_job *job, const sb_ynode *node)
{
    bool fam = sb_ymap_find(node, "family") >= 0, expl = sb_ymap_find(node, "explicit") >= 0;
    bool cyc = sb_ymap_find(node, "cycles") >= 0, file = sb_ymap_find(node, "gap_file") >= 0;
    bool n = sb_ymap_find(node, "n") >= 0, k = sb_ymap_find(node, "k") >= 0;
    bool names = sb_ymap_find(node, "names") >= 0, degree = sb_ymap_find(node, "degree") >= 0;
    int forms = fam + expl + cyc + file;
    if (fam && expl && forms == 2)
        sb_job_error(job, P_EXPLICIT, "give either family or explicit, not both");
    else if (forms > 1)
        sb_job_error(job, file ? P_GAP_FILE : P_CYCLES,
                     "give one of family, explicit, cycles or gap_file, not several");
    else if (forms == 0)
        sb_job_error(job, P_GENS,
                     "needs either family: (with n:) or explicit: (a list of "
                     "permutations), or cycles: or gap_file: (GAP notation)");
    else if (fam && !n)
        sb_job_error(job, P_N, "required key is missing (family needs n)");
    if (expl && !fam && (n || k))
        sb_job_error(job, n ? P_N : P_K, "n and k go with family:, not with explicit generators");
    if ((cyc || file) && !fam && (n || k))
        sb_job_error(job, n ? P_N : P_K,
                     "n and k go with family:; GAP generators take degree: instead");
    if (names && !cyc)
        sb_job_error(job, P_NAMES, "names go with cycles: (a GAP file names its generators)");
    if (degree && !cyc && !file)
        sb_job_error(job, P_DEGREE, "degree goes with cycles: or gap_file:");
    if (sb_ymap_find(node, "metric") >= 0 && !fam)
        sb_job_error(job, KP("generators.metric"), "metric goes with family: cube");
    if (sb_ymap_find(node, "fixed_corner") >= 0 && !fam)
        sb_job_error(job, KP("generators.fixed_corner"), "fixed_corner goes with family: cube");
}

/* Custom fields take the whole spec (offset 0) because they fill several members. */
int sb_growth_parse_generators(sb_job *job, const struct sb_ynode *node, void *target)
{
    if (sb_ynode_kind(node) != SB_Y_MAP)
        return sb_job_error_at(job, node, P_GENS,
                               "must be a mapping: {family: NAME, n: INT}, {explicit: [[1, 2, "
                               "0], ...]}, {cycles: [\"(1,2,3)\", ...]} or {gap_file: PATH} "
                               "(got %s)",
                               sb_ynode_describe(node));
    int before = sb_job_problems(job);
    int rc = sb_job_walk(job, generator_fields, target, node, P_GENS);
    if (rc == SB_ENOMEM)
        return rc;
    generators_form(job, node);
    return sb_job_problems(job) > before ? SB_EINPUT : 0;
}

static void print_row(FILE *out, const uint8_t *row, int m)
{
    fputc('[', out);
    for (int i = 0; i < m; i++)
        fprintf(out, "%s%d", i ? ", " : "", row[i]);
    fputc(']', out);
}

/* Family names are identifiers and print plain; anything else is quoted. */
static void print_name(FILE *out, const char *name)
{
    bool plain = isalpha((unsigned char)name[0]);
    for (const char *c = name; *c; c++)
        plain = plain && (isalnum((unsigned char)*c) || *c == '_');
    if (plain)
        fputs(name, out);
    else
        sb_job_print_string(out, name);
}

static void print_string_list(FILE *out, const char *key, char **items, int count)
{
    fprintf(out, "%s: [", key);
    for (int i = 0; i < count; i++) {
        fputs(i ? ", " : "", out);
        sb_job_print_string(out, items[i]);
    }
    fputc(']', out);
}

static void print_cycles(FILE *out, const sb_growth_spec *spec)
{
    fputc('{', out);
    print_string_list(out, "cycles", spec->cycles, spec->cycles_count);
    if (spec->cycle_names) {
        fputs(", ", out);
        print_string_list(out, "names", spec->cycle_names, spec->cycle_names_count);
    }
    if (spec->degree > 0)
        fprintf(out, ", degree: %" PRId64, spec->degree);
    fputc('}', out);
}

void sb_growth_print_generators(FILE *out, const void *target)
{
    const sb_growth_spec *spec = target;
    if (spec->family) {
        fputs("{family: ", out);
        print_name(out, spec->family);
        fprintf(out, ", n: %" PRId64, spec->n);
        if (spec->k_set)
            fprintf(out, ", k: %" PRId64, spec->k);
        if (spec->metric)
            fprintf(out, ", metric: %s", spec->metric);
        if (spec->fixed_corner)
            fputs(", fixed_corner: true", out);
        fputc('}', out);
    } else if (spec->explicit_rows) {
        fputs("{explicit: [", out);
        for (int g = 0; g < spec->explicit_count; g++) {
            fputs(g ? ", " : "", out);
            print_row(out, spec->explicit_rows + (size_t)g * (size_t)spec->explicit_m,
                      spec->explicit_m);
        }
        fputs("]}", out);
    } else if (spec->cycles) {
        print_cycles(out, spec);
    } else if (spec->gap_file) {
        fputs("{gap_file: ", out);
        sb_job_print_string(out, spec->gap_file);
        if (spec->degree > 0)
            fprintf(out, ", degree: %" PRId64, spec->degree);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
}

/* ---- central_state ----------------------------------------------------------------------- */

static int central_char(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    return -1;
}

static int central_from_text(sb_job *job, const sb_ynode *node, uint8_t *values, int *len)
{
    const char *t = sb_ynode_text(node);
    size_t n = strlen(t);
    if (n < 1 || n > SB_MAX_ELEMS)
        return sb_job_error_at(job, node, P_CENTRAL,
                               "must have 1..%d characters (got %zu; use null for the identity)",
                               SB_MAX_ELEMS, n);
    for (size_t i = 0; i < n; i++) {
        int v = central_char(t[i]);
        if (v < 0)
            return sb_job_error_at(job, node, P_CENTRAL,
                                   "character '%c' at position %zu is not a digit or a letter a-z "
                                   "(a = 10 ... z = 35); use a list for other values",
                                   t[i], i);
        values[i] = (uint8_t)v;
    }
    *len = (int)n;
    return 0;
}

static int central_from_list(sb_job *job, const sb_ynode *node, uint8_t *values, int *len)
{
    size_t n = sb_ynode_count(node);
    if (n < 1 || n > SB_MAX_ELEMS)
        return sb_job_error_at(job, node, P_CENTRAL, "must have 1..%d values (got %zu)",
                               SB_MAX_ELEMS, n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        sb_ynode item = sb_yseq_item(node, i);
        char path[SB_PATH_MAX];
        sb_job_path(path, P_CENTRAL, NULL, (long)i);
        sb_job_note(job, path, &item);
        int64_t v = 0;
        if (sb_job_int_value(job, path, &item, 0, SB_MAX_ELEMS - 1, &v) != 0)
            rc = SB_EINPUT;
        values[i] = (uint8_t)v;
    }
    *len = (int)n;
    return rc;
}

int sb_growth_parse_central(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_growth_spec *spec = target;
    uint8_t values[SB_MAX_ELEMS];
    int len = 0, rc;
    if (sb_ynode_kind(node) == SB_Y_SCALAR)
        rc = central_from_text(job, node, values, &len);
    else if (sb_ynode_kind(node) == SB_Y_SEQ)
        rc = central_from_list(job, node, values, &len);
    else
        rc = sb_job_error_at(job, node, P_CENTRAL,
                             "must be a string like \"001122\", a list of integers, or null "
                             "(got %s)",
                             sb_ynode_describe(node));
    if (rc != 0)
        return rc;
    uint8_t *c = malloc((size_t)len);
    if (!c)
        return SB_ENOMEM;
    memcpy(c, values, (size_t)len);
    free(spec->central);
    spec->central = c;
    spec->central_len = len;
    return 0;
}

void sb_growth_print_central(FILE *out, const void *target)
{
    const sb_growth_spec *spec = target;
    if (!spec->central) {
        uint8_t solved[SB_MAX_ELEMS];
        fputs(spec->gens.perm && sb_genset_default_central(&spec->gens, solved)
                  ? "null  # default: the puzzle's solved colouring"
                  : "null  # default: the identity 0, 1, ..., m-1",
              out);
        return;
    }
    bool as_text = true;
    for (int i = 0; i < spec->central_len; i++)
        as_text = as_text && spec->central[i] < 36;
    if (!as_text) {
        print_row(out, spec->central, spec->central_len);
        return;
    }
    fputc('"', out);
    for (int i = 0; i < spec->central_len; i++)
        fputc("0123456789abcdefghijklmnopqrstuvwxyz"[spec->central[i]], out);
    fputc('"', out);
}

/* ---- the schema -------------------------------------------------------------------------- */

const sb_field sb_growth_schema[] = {
    {.key = "generators",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .required = true,
     .custom = sb_growth_parse_generators,
     .print = sb_growth_print_generators,
     .help = "{family: NAME, n: INT, k: INT}, {explicit: [[...], ...]}, {cycles: [...]} or "
             "{gap_file: PATH}"},
    {.key = "central_state",
     .type = SB_F_CUSTOM,
     .offset = 0,
     .set_offset = SIZE_MAX,
     .nullable = true,
     .custom = sb_growth_parse_central,
     .print = sb_growth_print_central,
     .help = "BFS root; repeated values give a Schreier coset graph"},
    {.key = "mode",
     .type = SB_F_ENUM,
     .offset = offsetof(sb_growth_spec, mode),
     .set_offset = SIZE_MAX,
     .enum_names = mode_names,
     .help = "full: 2 bits per state; frontier: hash-owned layers; auto: by memory"},
    {.key = "max_layers",
     .type = SB_F_INT,
     .offset = offsetof(sb_growth_spec, max_layers),
     .set_offset = SIZE_MAX,
     .nullable = true,
     .min = 1,
     .max = INFINITY,
     .help = "default: no limit"},
    {.key = "max_layer_size",
     .type = SB_F_INT,
     .offset = offsetof(sb_growth_spec, max_layer_size),
     .set_offset = SIZE_MAX,
     .nullable = true,
     .min = 1,
     .max = INFINITY,
     .help = "default: no limit"},
    {.key = "store_last_layer",
     .type = SB_F_INT,
     .offset = offsetof(sb_growth_spec, store_last_layer),
     .set_offset = SIZE_MAX,
     .min = 0,
     .max = INFINITY,
     .help = "states of the last layer kept in the result"},
    {.key = "store_distances",
     .type = SB_F_BOOL,
     .offset = offsetof(sb_growth_spec, store_distances),
     .set_offset = SIZE_MAX,
     .help = "write the distance of every state (full mode)"},
    {.key = "shared_memory",
     .type = SB_F_BOOL,
     .offset = offsetof(sb_growth_spec, shared_memory),
     .set_offset = SIZE_MAX,
     .help = "full mode: ranks on a node mark each other's blocks in shared memory"},
    {.key = NULL},
};

void sb_growth_spec_init(void *target)
{
    sb_growth_spec *spec = target;
    memset(spec, 0, sizeof *spec);
    spec->k = -1;
    spec->mode = SB_MODE_AUTO;
    spec->max_layers = -1;
    spec->max_layer_size = -1;
    spec->store_last_layer = 1000;
    spec->store_distances = false;
    spec->shared_memory = true;
}

void sb_growth_spec_free(void *target)
{
    sb_growth_spec *spec = target;
    free(spec->family);
    free(spec->metric);
    free(spec->explicit_rows);
    free_strings(spec->cycles, spec->cycles_count);
    free_strings(spec->cycle_names, spec->cycle_names_count);
    free(spec->gap_file);
    free(spec->central);
    sb_genset_free(&spec->gens);
    memset(spec, 0, sizeof *spec);
}

/* ---- validation -------------------------------------------------------------------------- */

/* Re-reports the lines of a perm-module diagnostic at a key's location. */
static void forward_diag(sb_job *job, const char *path, const sb_diag *d, int rc)
{
    const char *text = sb_diag_text(d);
    if (!text || !*text) {
        sb_job_error(job, path, "cannot build the generators: %s", sb_strerror(rc));
        return;
    }
    while (*text) {
        const char *nl = strchr(text, '\n');
        int len = nl ? (int)(nl - text) : (int)strlen(text);
        sb_job_error(job, path, "%.*s", len, text);
        text += len + (nl ? 1 : 0);
    }
}

static void unknown_family(sb_job *job, const char *name)
{
    const char *names[128];
    char list[2048] = "";
    int n = 0;
    for (const sb_family *const *f = sb_families(); *f && n < 127; f++) {
        names[n++] = (*f)->name;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", (*f)->name);
    }
    names[n] = NULL;
    const char *hint = sb_job_suggest(name, names);
    if (hint)
        sb_job_error(job, P_FAMILY, "unknown family '%s'; did you mean '%s'? (families: %s)", name,
                     hint, list);
    else
        sb_job_error(job, P_FAMILY, "unknown family '%s' (families: %s)", name, list);
}

static int build_family(sb_job *job, sb_growth_spec *spec)
{
    const sb_family *f = sb_family_find(spec->family);
    if (!f) {
        unknown_family(job, spec->family);
        return SB_EINPUT;
    }
    if (spec->n < 1)
        return SB_EINPUT; /* missing or not an integer: reported by the schema pass */
    int rc = 0;
    if (spec->n < f->min_n || spec->n > f->max_n)
        rc =
            sb_job_error(job, P_N, "must be an integer in [%d, %d] for family %s (got %" PRId64 ")",
                         f->min_n, f->max_n, f->name, spec->n);
    if (spec->k_set && !f->takes_k)
        rc = sb_job_error(job, P_K, "family %s takes no parameter k (remove it)", f->name);
    if (rc != 0)
        return rc;
    bool cube = strcmp(f->name, "cube") == 0;
    if (!cube && (spec->metric || spec->fixed_corner))
        return sb_job_error(job,
                            spec->metric ? KP("generators.metric") : KP("generators.fixed_corner"),
                            "only family cube takes %s (family %s has its moves fixed)",
                            spec->metric ? "metric" : "fixed_corner", f->name);
    sb_diag d;
    sb_diag_init(&d);
    if (cube)
        rc = sb_genset_cube(&spec->gens, (int)spec->n, spec->metric ? spec->metric : "qtm",
                            spec->fixed_corner, &d);
    else
        rc = sb_genset_family(&spec->gens, f->name, (int)spec->n, spec->k_set ? (int)spec->k : -1,
                              &d);
    if (rc != 0 && cube) {
        bool bad_metric =
            spec->metric && strcmp(spec->metric, "qtm") && strcmp(spec->metric, "htm");
        forward_diag(job,
                     bad_metric           ? KP("generators.metric")
                     : spec->fixed_corner ? KP("generators.fixed_corner")
                                          : P_N,
                     &d, rc);
    } else if (rc != 0) {
        forward_diag(job, spec->k_set ? P_K : P_N, &d, rc);
    }
    sb_diag_free(&d);
    return rc;
}

/* Why an explicit row is not a permutation of 0..m-1, or NULL. */
static const char *row_problem(const uint8_t *row, int m, int *value)
{
    bool seen[SB_MAX_ELEMS + 1] = {false};
    for (int i = 0; i < m; i++) {
        *value = row[i];
        if (row[i] >= m)
            return "is out of range";
        if (seen[row[i]])
            return "appears twice";
        seen[row[i]] = true;
    }
    return NULL;
}

static int build_explicit(sb_job *job, sb_growth_spec *spec)
{
    int m = spec->explicit_m, rc = 0;
    for (int g = 0; g < spec->explicit_count; g++) {
        int value = 0;
        const char *why = row_problem(spec->explicit_rows + (size_t)g * (size_t)m, m, &value);
        if (!why)
            continue;
        char path[SB_PATH_MAX];
        sb_job_path(path, P_EXPLICIT, NULL, g);
        rc = sb_job_error(job, path, "generator %d is not a permutation of 0..%d: value %d %s", g,
                          m - 1, value, why);
    }
    if (rc != 0)
        return rc;
    sb_diag d;
    sb_diag_init(&d);
    rc = sb_genset_explicit(&spec->gens, spec->explicit_count, m, spec->explicit_rows, &d);
    if (rc != 0)
        forward_diag(job, P_EXPLICIT, &d, rc);
    sb_diag_free(&d);
    return rc;
}

/* Builds spec->gens from parsed GAP permutations of state length m. */
static int build_from_gap(sb_job *job, sb_growth_spec *spec, const sb_gap_set *set, int m,
                          const char *path)
{
    sb_diag d;
    sb_diag_init(&d);
    int rc = sb_gap_genset(&spec->gens, set, m, &d);
    if (rc != 0)
        forward_diag(job, path, &d, rc);
    sb_diag_free(&d);
    return rc;
}

/* A problem inside cycles[i], at its string's location and the character inside it. */
static int cycle_error(sb_job *job, int i, const char *text, const sb_gap_error *e)
{
    char path[SB_PATH_MAX];
    sb_job_path(path, P_CYCLES, NULL, i);
    return sb_job_error(job, path, "at character %ld of \"%.60s%s\": %s", e->offset + 1, text,
                        strlen(text) > 60 ? "..." : "", e->message);
}

/* Every string parses and fits the degree; the state length into *m. */
static int parse_cycle_strings(sb_job *job, const sb_growth_spec *spec, sb_gap_set *set, int *m)
{
    int rc = 0;
    *m = 0;
    for (int i = 0; i < set->count; i++) {
        sb_gap_perm *p = &set->perms[i];
        sb_gap_error e = {0};
        const char *text = spec->cycles[i];
        int one = 0;
        if (sb_gap_parse_perm(text, strlen(text), p, &e) != 0) {
            rc = cycle_error(job, i, text, &e);
            continue;
        }
        if (spec->cycle_names && i < spec->cycle_names_count)
            snprintf(p->name, SB_NAME_MAX, "%s", spec->cycle_names[i]);
        else
            snprintf(p->name, SB_NAME_MAX, "g%d", i);
        sb_gap_set single = {1, p};
        if (spec->degree > 0 && sb_gap_degree(&single, (int)spec->degree, &one, &e) != 0)
            rc = cycle_error(job, i, text, &e);
        *m = p->max_point > *m ? p->max_point : *m;
    }
    if (rc == 0 && spec->degree > 0)
        *m = (int)spec->degree;
    else if (rc == 0 && *m == 0)
        rc = sb_job_error(job, P_CYCLES,
                          "every generator is the identity (): give degree: (the number of "
                          "points)");
    return rc;
}

static int build_cycles(sb_job *job, sb_growth_spec *spec)
{
    if (spec->cycle_names && spec->cycle_names_count != spec->cycles_count)
        return sb_job_error(job, P_NAMES,
                            "has %d names for %d generators in cycles:", spec->cycle_names_count,
                            spec->cycles_count);
    sb_gap_set set = {spec->cycles_count, calloc((size_t)spec->cycles_count, sizeof(sb_gap_perm))};
    if (!set.perms)
        return SB_ENOMEM;
    int m = 0;
    int rc = parse_cycle_strings(job, spec, &set, &m);
    if (rc == 0)
        rc = build_from_gap(job, spec, &set, m, P_CYCLES);
    sb_gap_set_free(&set);
    return rc;
}

/* gap_file as a path from the working folder: relative names are the job file's folder's. */
static int gap_file_path(const sb_job *job, const char *name, char *out, size_t size)
{
    char folder[4096];
    if (name[0] == '/' || !job->path)
        return snprintf(out, size, "%s", name) < (int)size ? 0 : SB_ELIMIT;
    sb_path_folder(job->path, folder, sizeof folder);
    if (strcmp(folder, ".") == 0)
        return snprintf(out, size, "%s", name) < (int)size ? 0 : SB_ELIMIT;
    return snprintf(out, size, "%s/%s", folder, name) < (int)size ? 0 : SB_ELIMIT;
}

static int build_gap_file(sb_job *job, sb_growth_spec *spec)
{
    if (!spec->gap_file[0])
        return sb_job_error(job, P_GAP_FILE, "must name a file of GAP statements");
    char path[8192];
    if (gap_file_path(job, spec->gap_file, path, sizeof path) != 0)
        return sb_job_error(job, P_GAP_FILE, "the path is too long");
    sb_gap_set set;
    sb_gap_error e = {0};
    int m = 0;
    int rc = sb_gap_read(path, &set, &e);
    if (rc == 0)
        rc = sb_gap_degree(&set, (int)spec->degree, &m, &e);
    if (rc == SB_EINPUT && e.line > 0)
        sb_job_error(job, P_GAP_FILE, "%s:%d:%d: %s", path, e.line, e.column, e.message);
    else if (rc == SB_EINPUT)
        sb_job_error(job, P_GAP_FILE, "%s%s%s", e.message, strstr(e.message, path) ? "" : ": ",
                     strstr(e.message, path) ? "" : path);
    if (rc == 0)
        rc = build_from_gap(job, spec, &set, m, P_GAP_FILE);
    sb_gap_set_free(&set);
    return rc;
}

static int check_central(sb_job *job, const sb_growth_spec *spec)
{
    int m = spec->gens.m;
    if (spec->central_len != m)
        return sb_job_error(job, P_CENTRAL,
                            "has %d values, but states of these generators have %d elements",
                            spec->central_len, m);
    for (int i = 0; i < m; i++) {
        if (spec->central[i] < m)
            continue;
        char path[SB_PATH_MAX];
        sb_job_path(path, P_CENTRAL, NULL, i);
        return sb_job_error(job, path, "value %d at position %d is out of range 0..%d",
                            spec->central[i], i, m - 1);
    }
    return 0;
}

int sb_growth_validate(sb_job *job)
{
    return sb_growth_build_generators(job, job->spec);
}

int sb_growth_build_generators(sb_job *job, sb_growth_spec *spec)
{
    int rc = 0;
    /* Both given is reported by the schema pass; building neither avoids a second message. */
    int forms = !!spec->family + !!spec->explicit_rows + !!spec->cycles + !!spec->gap_file;
    if (forms == 1 && spec->family)
        rc = build_family(job, spec);
    else if (forms == 1 && spec->explicit_rows)
        rc = build_explicit(job, spec);
    else if (forms == 1 && spec->cycles)
        rc = build_cycles(job, spec);
    else if (forms == 1 && spec->gap_file)
        rc = build_gap_file(job, spec);
    if (rc == SB_ENOMEM)
        return rc;
    if (rc == 0 && spec->central && spec->gens.m > 0)
        rc = check_central(job, spec);
    return rc;
}

/* ---- description ------------------------------------------------------------------------- */

/* x = x * mul / div, exactly (the running products below stay integers); false on overflow. */
static bool mul_div(uint64_t *x, uint64_t mul, uint64_t div)
{
    if (*x > UINT64_MAX / mul)
        return false;
    *x = *x * mul / div;
    return true;
}

static void print_count(FILE *out, bool exact, uint64_t value, double log10v, const char *formula)
{
    if (exact) {
        fprintf(out, "# state space: at most %" PRIu64 " states (%s)\n", value, formula);
        return;
    }
    double e = floor(log10v);
    fprintf(out, "# state space: at most about %.3fe%.0f states (%s)\n", pow(10, log10v - e), e,
            formula);
}

static void describe_space(const sb_growth_spec *spec, FILE *out)
{
    const sb_genset *gs = &spec->gens;
    const sb_family *f = spec->family ? sb_family_find(spec->family) : NULL;
    char formula[96];
    uint64_t v = 1;
    bool exact = true;
    double lg = 0;
    if (!spec->central && f && f->signed_states) {
        snprintf(formula, sizeof formula, "2^%d %d!", gs->n, gs->n);
        for (int i = 1; i <= gs->n; i++) {
            exact = exact && mul_div(&v, 2u * (uint64_t)i, 1);
            lg += log10(2.0 * i);
        }
        print_count(out, exact, v, lg, formula);
        return;
    }
    int mult[SB_MAX_ELEMS] = {0};
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(spec, central);
    for (int i = 0; i < gs->m; i++)
        mult[central[i]]++;
    char denom[64] = "";
    int total = 0;
    for (int value = 0; value < SB_MAX_ELEMS; value++) {
        size_t used = strlen(denom);
        if (mult[value] > 1 && used < sizeof denom - 8)
            snprintf(denom + used, sizeof denom - used, "%s%d!", used ? " " : "", mult[value]);
        for (int j = 1; j <= mult[value]; j++) {
            total++;
            exact = exact && mul_div(&v, (uint64_t)total, (uint64_t)j);
            lg += log10((double)total) - log10((double)j);
        }
    }
    if (*denom)
        snprintf(formula, sizeof formula, "%d!/(%s)", gs->m, denom);
    else
        snprintf(formula, sizeof formula, "%d!", gs->m);
    print_count(out, exact, v, lg, formula);
}

void sb_growth_describe(const sb_job *job, FILE *out)
{
    const sb_growth_spec *spec = job->spec;
    if (!spec || spec->gens.ngens < 1)
        return;
    const sb_genset *gs = &spec->gens;
    const sb_family *f = spec->family ? sb_family_find(spec->family) : NULL;
    if (f && f->takes_k)
        fprintf(out, "# generators: %s, n = %d, k = %d: %d generators (", gs->family, gs->n, gs->k,
                gs->ngens);
    else if (f)
        fprintf(out, "# generators: %s, n = %d: %d generators (", gs->family, gs->n, gs->ngens);
    else if (spec->gap_file)
        fprintf(out, "# generators: %d permutations from the GAP file %s (", gs->ngens,
                spec->gap_file);
    else if (spec->cycles)
        fprintf(out, "# generators: %d permutations in GAP notation (", gs->ngens);
    else
        fprintf(out, "# generators: %d explicit permutations (", gs->ngens);
    for (int g = 0; g < gs->ngens && g < 12; g++)
        fprintf(out, "%s%s", g ? ", " : "", gs->names[g]);
    fputs(gs->ngens > 12 ? ", ...)\n" : ")\n", out);
    fprintf(out, "# state length: %d elements\n", gs->m);
    if (spec->central)
        fprintf(out, "# central state given: a Schreier coset graph when values repeat\n");
    fprintf(out, "# inverse-closed: %s\n", gs->inverse_closed ? "yes" : "no");
    if (!gs->inverse_closed)
        fprintf(out, "# directed growth: layers are out-distances from the central state\n");
    char order[600];
    if (sb_group_order_string(gs->m, gs->ngens, gs->perm, order, sizeof order) == 0)
        fprintf(out, "# group order: %s (the group the generators generate, by Schreier-Sims)\n",
                order);
    describe_space(spec, out);
}
