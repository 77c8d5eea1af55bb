/* The schema walker: one table row per key drives parsing, range checks and locations.
 *
 * Scalars follow the YAML 1.2 core schema, read strictly:
 *  - integers: plain [-+]?[0-9]+ (no underscores, no 0x/0o, no 1.0, no quotes);
 *  - numbers (SB_F_FLOAT): integers or plain decimals with an optional exponent (no inf/nan);
 *  - booleans: plain true/false (also True/TRUE/False/FALSE); yes/no/on/off are refused;
 *  - null: plain null, Null, NULL, ~ or an empty value, accepted only by nullable keys;
 *  - strings: any scalar that is not null (quoted or plain). */
#include "job/schema.h"

#include "symbatch/core.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void sb_job_path(char *out, const char *prefix, const char *key, long index)
{
    if (!key)
        snprintf(out, SB_PATH_MAX, "%s[%ld]", prefix, index);
    else if (prefix && *prefix)
        snprintf(out, SB_PATH_MAX, "%s.%s", prefix, key);
    else
        snprintf(out, SB_PATH_MAX, "%s", key);
}

int sb_job_problems(const sb_job *job)
{
    return job->diag ? job->diag->count : 0;
}

/* Locations are found by path through a hash table (job->loc_slots: 2 * locs_cap slots, each
 * a location index + 1, 0 when empty; locs_cap is a power of two), so that recording and looking
 * up stay O(1) however many keys a file has. */
static int *loc_slots(const sb_job *job)
{
    return job->loc_slots;
}

static size_t loc_hash(const char *path)
{
    return (size_t)sb_fnv1a64(path, strlen(path), SB_FNV1A64_INIT);
}

static void loc_insert(sb_job *job, int index)
{
    int *slots = loc_slots(job);
    size_t mask = 2 * (size_t)job->locs_cap - 1;
    size_t h = loc_hash(job->locs[index].path) & mask;
    while (slots[h])
        h = (h + 1) & mask;
    slots[h] = index + 1;
}

/* Doubles the locations and rebuilds the table; false when out of memory. */
static bool locs_grow(sb_job *job)
{
    int cap = job->locs_cap ? 2 * job->locs_cap : 32;
    sb_loc *l = realloc(job->locs, (size_t)cap * sizeof *l);
    if (l)
        job->locs = l;
    int *slots = l ? calloc(2 * (size_t)cap, sizeof *slots) : NULL;
    if (!slots)
        return false;
    free(job->loc_slots);
    job->loc_slots = slots;
    job->locs_cap = cap;
    for (int i = 0; i < job->nlocs; i++)
        loc_insert(job, i);
    return true;
}

void sb_job_note(sb_job *job, const char *path, const sb_ynode *node)
{
    if (!node->node || sb_job_where(job, path))
        return; /* the first occurrence wins: duplicates are errors anyway */
    if (job->nlocs == job->locs_cap && !locs_grow(job))
        return; /* a missing location only makes a message less precise */
    sb_loc *loc = &job->locs[job->nlocs];
    snprintf(loc->path, sizeof loc->path, "%s", path);
    loc->line = sb_ynode_line(node);
    loc->column = sb_ynode_column(node);
    loc_insert(job, job->nlocs++);
}

const sb_loc *sb_job_where(const sb_job *job, const char *path)
{
    if (!job->loc_slots || job->locs_cap == 0)
        return NULL;
    const int *slots = loc_slots(job);
    size_t mask = 2 * (size_t)job->locs_cap - 1;
    /* Indexes at or past nlocs are skipped, not trusted: a caller may have cut nlocs down. */
    for (size_t h = loc_hash(path) & mask; slots[h]; h = (h + 1) & mask) {
        int i = slots[h] - 1;
        if (i < job->nlocs && !strcmp(job->locs[i].path, path))
            return &job->locs[i];
    }
    return NULL;
}

/* The location of path, else of its nearest recorded parent ("a.b[2]" -> "a.b" -> "a" -> ""). */
static const sb_loc *where_or_parent(const sb_job *job, const char *path)
{
    char p[SB_PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (;;) {
        const sb_loc *loc = sb_job_where(job, p);
        if (loc || !*p)
            return loc;
        char *dot = strrchr(p, '.'), *bracket = strrchr(p, '[');
        char *cut = dot > bracket ? dot : bracket;
        if (cut)
            *cut = '\0';
        else
            p[0] = '\0';
    }
}

bool sb_job_problem_hidden(sb_job *job)
{
    if (!job->diag || job->diag->count < SB_JOB_PROBLEMS_SHOWN)
        return false;
    job->diag->count++; /* counted for "... and N more problems", not formatted */
    return true;
}

static void vreport(sb_job *job, int line, int col, const char *path, const char *fmt, va_list ap)
{
    if (!job->diag || sb_job_problem_hidden(job))
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *file = job->path ? job->path : "job";
    const char *sep = path && *path ? ": " : "";
    if (!path)
        path = "";
    if (line > 0)
        sb_diag_add(job->diag, "%s:%d:%d: %s%s%s", file, line, col, path, sep, msg);
    else
        sb_diag_add(job->diag, "%s: %s%s%s", file, path, sep, msg);
}

int sb_job_error(sb_job *job, const char *path, const char *fmt, ...)
{
    const sb_loc *loc = where_or_parent(job, path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vreport(job, loc ? loc->line : 0, loc ? loc->column : 0, path, fmt, ap);
    va_end(ap);
    return SB_EINPUT;
}

int sb_job_error_at(sb_job *job, const sb_ynode *node, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(job, sb_ynode_line(node), sb_ynode_column(node), path, fmt, ap);
    va_end(ap);
    return SB_EINPUT;
}

/* ---- suggestions ------------------------------------------------------------------------- */

static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXLEN || lb >= MAXLEN)
        return SIZE_MAX;
    size_t prev[MAXLEN + 1], cur[MAXLEN + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] +
                         (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

const char *sb_job_suggest(const char *word, const char *const *candidates)
{
    /* Typos change a letter or two; a third of the word catches transpositions in long keys. */
    size_t limit = strlen(word) / 3 > 2 ? strlen(word) / 3 : 2;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (; candidates && *candidates; candidates++) {
        size_t d = edit_distance(word, *candidates);
        if (d < best_d) {
            best_d = d;
            best = *candidates;
        }
    }
    return best_d <= limit ? best : NULL;
}

/* ---- scalars ----------------------------------------------------------------------------- */

/* Offset of the first byte of a scalar that is a NUL (any control character when `any`), or -1.
 * The scalar's length, not strlen: a NUL inside would end the text early. */
static long control_at(const sb_ynode *n, bool any)
{
    const unsigned char *t = (const unsigned char *)sb_ynode_text(n);
    size_t len = sb_ynode_length(n);
    for (size_t i = 0; i < len; i++)
        if (t[i] == 0 || (any && (t[i] < 0x20 || t[i] == 0x7f)))
            return (long)i;
    return -1;
}

/* The scalar's bytes for a message, with control characters as \xNN, cut to fit `size`. */
static void escape_text(char *buf, size_t size, const sb_ynode *n)
{
    const unsigned char *t = (const unsigned char *)sb_ynode_text(n);
    size_t len = sb_ynode_length(n), used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < len && used + 5 < size; i++) {
        if (t[i] < 0x20 || t[i] == 0x7f || t[i] == '"' || t[i] == '\\')
            used += (size_t)snprintf(buf + used, size - used, "\\x%02x", t[i]);
        else
            buf[used++] = (char)t[i];
    }
    buf[used] = '\0';
}

/* Refuses a scalar with a NUL (every control character when `any`): "o\0.h5" would otherwise
 * be read as "o", and a tab or a bell in a file name is a mistake, not a name. */
static int check_control(sb_job *job, const sb_ynode *n, const char *path, bool any)
{
    long at = control_at(n, any);
    if (at < 0)
        return 0;
    unsigned char c = (unsigned char)sb_ynode_text(n)[at];
    return sb_job_error_at(job, n, path,
                           "must not contain control characters such as NUL or tab (found 0x%02x "
                           "at position %ld)",
                           c, at);
}

static bool text_is_int(const char *t)
{
    if (*t == '-' || *t == '+')
        t++;
    if (!*t)
        return false;
    for (; *t; t++)
        if (!isdigit((unsigned char)*t))
            return false;
    return true;
}

static bool text_is_number(const char *t)
{
    if (!*t)
        return false;
    for (const char *c = t; *c; c++)
        if (!isdigit((unsigned char)*c) && !strchr("+-.eE", *c))
            return false;
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    return *end == '\0' && isfinite(v);
}

static bool text_bool(const char *t, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                              "FALSE"};
    for (int i = 0; i < 3; i++) {
        if (!strcmp(t, yes[i]))
            return (*out = true);
        if (!strcmp(t, no[i]))
            return !(*out = false);
    }
    return false;
}

/* "an integer in [3, 40]", "an integer >= 1", "an integer" (+ " or null"). */
static void range_text(char *buf, size_t size, const char *what, double min, double max,
                       bool nullable)
{
    const char *orn = nullable ? " or null" : "";
    if ((min == 0 && max == 0) || (isinf(min) && isinf(max)))
        snprintf(buf, size, "%s%s", what, orn);
    else if (isinf(max))
        snprintf(buf, size, "%s >= %.15g%s", what, min, orn);
    else if (isinf(min))
        snprintf(buf, size, "%s <= %.15g%s", what, max, orn);
    else
        snprintf(buf, size, "%s in [%.15g, %.15g]%s", what, min, max, orn);
}

static bool in_range(double v, double min, double max)
{
    if (min == 0 && max == 0)
        return true;
    return v >= min && v <= max;
}

/* The "got ..." part of a type error: the text of a scalar, else its kind. */
static void got_text(char *buf, size_t size, const sb_ynode *n)
{
    if (sb_ynode_kind(n) == SB_Y_SCALAR && !sb_ynode_is_null(n))
        snprintf(buf, size, sb_ynode_plain(n) ? "%s" : "the quoted string \"%s\"",
                 sb_ynode_text(n));
    else
        snprintf(buf, size, "%s", sb_ynode_describe(n));
}

static int type_error(sb_job *job, const sb_ynode *n, const char *path, const char *expected)
{
    char got[160];
    got_text(got, sizeof got, n);
    return sb_job_error_at(job, n, path, "must be %s (got %s)", expected, got);
}

static int parse_int(sb_job *job, const char *path, const sb_ynode *n, double min, double max,
                     bool nullable, int64_t *out)
{
    char what[160];
    range_text(what, sizeof what, "an integer", min, max, nullable);
    const char *t = sb_ynode_text(n);
    if (!sb_ynode_plain(n) || !text_is_int(t))
        return type_error(job, n, path, what);
    errno = 0;
    long long v = strtoll(t, NULL, 10);
    if (errno == ERANGE || !in_range((double)v, min, max))
        return sb_job_error_at(job, n, path, "must be %s (got %s)", what, t);
    *out = v;
    return 0;
}

int sb_job_int_value(sb_job *job, const char *path, const sb_ynode *node, int64_t min, int64_t max,
                     int64_t *out)
{
    if (check_control(job, node, path, false) != 0)
        return SB_EINPUT;
    return parse_int(job, path, node, (double)min, (double)max, false, out);
}

static int parse_float(sb_job *job, const char *path, const sb_ynode *n, const sb_field *f,
                       double *out)
{
    char what[160];
    range_text(what, sizeof what, "a number", f->min, f->max, f->nullable);
    const char *t = sb_ynode_text(n);
    if (!sb_ynode_plain(n) || !text_is_number(t))
        return type_error(job, n, path, what);
    double v = strtod(t, NULL);
    if (!in_range(v, f->min, f->max))
        return sb_job_error_at(job, n, path, "must be %s (got %s)", what, t);
    *out = v;
    return 0;
}

static int parse_bytes(sb_job *job, const char *path, const sb_ynode *n, const sb_field *f,
                       uint64_t *out)
{
    char what[200];
    range_text(what, sizeof what, "a byte count (like 2GB, 512 MiB or 1000000)", f->min, f->max,
               f->nullable);
    uint64_t v = 0;
    if (sb_ynode_kind(n) != SB_Y_SCALAR || sb_parse_bytes(sb_ynode_text(n), &v) != 0)
        return type_error(job, n, path, what);
    if (!in_range((double)v, f->min, f->max))
        return sb_job_error_at(job, n, path, "must be %s (got %s)", what, sb_ynode_text(n));
    *out = v;
    return 0;
}

static int parse_enum(sb_job *job, const char *path, const sb_ynode *n, const sb_field *f, int *out)
{
    char names[256] = "";
    for (const char *const *e = f->enum_names; *e; e++) {
        if (sb_ynode_kind(n) == SB_Y_SCALAR && !strcmp(sb_ynode_text(n), *e)) {
            *out = (int)(e - f->enum_names);
            return 0;
        }
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", *e);
    }
    char got[160];
    got_text(got, sizeof got, n);
    const char *hint =
        sb_ynode_kind(n) == SB_Y_SCALAR ? sb_job_suggest(sb_ynode_text(n), f->enum_names) : NULL;
    if (hint)
        return sb_job_error_at(job, n, path, "must be one of %s (got %s); did you mean '%s'?",
                               names, got, hint);
    return sb_job_error_at(job, n, path, "must be one of %s (got %s)", names, got);
}

static int parse_string(sb_job *job, const char *path, const sb_ynode *n, char **out)
{
    if (sb_ynode_kind(n) != SB_Y_SCALAR || sb_ynode_is_null(n))
        return type_error(job, n, path, "a string");
    if (check_control(job, n, path, true) != 0)
        return SB_EINPUT;
    char *s = strdup(sb_ynode_text(n));
    if (!s)
        return SB_ENOMEM;
    free(*out);
    *out = s;
    return 0;
}

/* ---- fields ------------------------------------------------------------------------------ */

static void *at(void *base, size_t offset)
{
    return (char *)base + offset;
}

static int parse_scalar_field(sb_job *job, const sb_field *f, void *base, const sb_ynode *v,
                              const char *path)
{
    void *target = at(base, f->offset);
    switch (f->type) {
    case SB_F_INT:
        return parse_int(job, path, v, f->min, f->max, f->nullable, target);
    case SB_F_FLOAT:
        return parse_float(job, path, v, f, target);
    case SB_F_BOOL: {
        bool b;
        if (!sb_ynode_plain(v) || !text_bool(sb_ynode_text(v), &b))
            return type_error(job, v, path, "true or false");
        *(bool *)target = b;
        return 0;
    }
    case SB_F_STRING:
        return parse_string(job, path, v, target);
    case SB_F_ENUM:
        return parse_enum(job, path, v, f, target);
    case SB_F_BYTES:
        return parse_bytes(job, path, v, f, target);
    default:
        return SB_EINTERNAL;
    }
}

static int parse_field(sb_job *job, const sb_field *f, void *base, const sb_ynode *key,
                       const sb_ynode *v, const char *path)
{
    bool collection = sb_ynode_kind(v) == SB_Y_MAP || sb_ynode_kind(v) == SB_Y_SEQ;
    sb_job_note(job, path, collection ? key : v);
    if (f->nullable && sb_ynode_is_null(v))
        return 0; /* "unset": the default stays, the flag stays false */
    /* Every scalar, custom ones too: "5\0" would read as 5 and "growth\0x" as growth. */
    if (check_control(job, v, path, false) != 0)
        return SB_EINPUT;
    int rc;
    if (f->type == SB_F_MAP) {
        if (sb_ynode_kind(v) != SB_Y_MAP)
            return type_error(job, v, path, "a mapping of keys");
        rc = sb_job_walk(job, f->sub, base, v, path);
    } else if (f->type == SB_F_CUSTOM) {
        rc = f->custom(job, v, at(base, f->offset));
    } else {
        rc = parse_scalar_field(job, f, base, v, path);
    }
    if (rc == 0 && f->set_offset != SIZE_MAX)
        *(bool *)at(base, f->set_offset) = true;
    return rc;
}

static const sb_field *find_field(const sb_field *fields, const char *key)
{
    for (; fields && fields->key; fields++)
        if (!strcmp(fields->key, key))
            return fields;
    return NULL;
}

/* Reports an unknown key, suggesting the closest known one. */
static void unknown_key(sb_job *job, const sb_field *fields, const char *const *extra,
                        const sb_ynode *key, const char *path)
{
    if (sb_job_problem_hidden(job))
        return; /* past the problems shown: no suggestion to compute */
    const char *names[64];
    int n = 0;
    for (const sb_field *f = fields; f && f->key && n < 63; f++)
        names[n++] = f->key;
    for (; extra && *extra && n < 63; extra++)
        names[n++] = *extra;
    names[n] = NULL;
    const char *word = sb_ynode_text(key);
    const char *hint = sb_job_suggest(word, names);
    if (hint) {
        sb_job_error_at(job, key, path, "unknown key '%s'; did you mean '%s'?", word, hint);
        return;
    }
    char list[512] = "";
    for (int i = 0; i < n; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
    }
    sb_job_error_at(job, key, path, "unknown key '%s' (known keys here: %s)", word, list);
}

/* Checks a pair's key; returns false (after reporting) when the pair must be skipped.  first[i]
 * is from sb_ymap_first_keys. */
static bool key_usable(sb_job *job, const sb_ynode *map, size_t i, const long *first,
                       const char *prefix)
{
    sb_ynode key = sb_ymap_key(map, i);
    if (sb_ynode_kind(&key) != SB_Y_SCALAR) {
        sb_job_error_at(job, &key, prefix, "keys must be names, not %s", sb_ynode_describe(&key));
        return false;
    }
    if (control_at(&key, true) >= 0) {
        /* "output\0x" must not pass for output: the key is refused, not looked up. */
        char shown[128];
        escape_text(shown, sizeof shown, &key);
        sb_job_error_at(job, &key, prefix,
                        "keys must be names without control characters such as NUL or tab (got "
                        "\"%s\")",
                        shown);
        return false;
    }
    char path[SB_PATH_MAX];
    sb_job_path(path, prefix, sb_ynode_text(&key), 0);
    if (first[i] >= 0 && (size_t)first[i] < i) {
        sb_ynode k0 = sb_ymap_key(map, (size_t)first[i]);
        sb_job_error_at(job, &key, path, "duplicate key '%s' (first given on line %d)",
                        sb_ynode_text(&key), sb_ynode_line(&k0));
        return false;
    }
    return true;
}

static bool in_list(const char *name, const char *const *list)
{
    for (; list && *list; list++)
        if (!strcmp(name, *list))
            return true;
    return false;
}

int sb_job_walk_ext(sb_job *job, const sb_field *fields, void *base, const sb_ynode *map,
                    const char *prefix, const char *const *extra, sb_walk_handler handle)
{
    int before = sb_job_problems(job), rc = 0;
    size_t count = sb_ynode_count(map);
    long *first = malloc((count ? count : 1) * sizeof *first);
    if (!first || sb_ymap_first_keys(map, first) != 0) {
        free(first);
        return SB_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        if (!key_usable(job, map, i, first, prefix))
            continue;
        sb_ynode key = sb_ymap_key(map, i), value = sb_ymap_value(map, i);
        const char *name = sb_ynode_text(&key);
        char path[SB_PATH_MAX];
        sb_job_path(path, prefix, name, 0);
        const sb_field *f = find_field(fields, name);
        int r = 0;
        if (f)
            r = parse_field(job, f, base, &key, &value, path);
        else if (handle && in_list(name, extra))
            handle(job, name, &key, &value);
        else
            unknown_key(job, fields, extra, &key, path);
        if (r == SB_ENOMEM)
            rc = r;
    }
    free(first);
    for (const sb_field *f = fields; f && f->key; f++) {
        if (f->required && sb_ymap_find(map, f->key) < 0) {
            char path[SB_PATH_MAX];
            sb_job_path(path, prefix, f->key, 0);
            sb_job_error(job, path, "required key is missing");
        }
    }
    if (rc)
        return rc;
    return sb_job_problems(job) > before ? SB_EINPUT : 0;
}

int sb_job_walk(sb_job *job, const sb_field *fields, void *base, const sb_ynode *map,
                const char *prefix)
{
    return sb_job_walk_ext(job, fields, base, map, prefix, NULL, NULL);
}

/* ---- echo -------------------------------------------------------------------------------- */

void sb_job_print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c == '\t')
            fputs("\\t", out);
        else if (*c < 0x20 || *c == 0x7f)
            fprintf(out, "\\x%02x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

/* The shortest %g form that reads back as the same double. */
static void print_double(FILE *out, double v)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
}

static const void *cat(const void *base, size_t offset)
{
    return (const char *)base + offset;
}

/* Whether a nullable field holds "unset" (see schema.h for how that is recognised). */
static bool field_unset(const sb_field *f, const void *base)
{
    if (!f->nullable)
        return false;
    if (f->set_offset != SIZE_MAX)
        return !*(const bool *)cat(base, f->set_offset);
    const void *t = cat(base, f->offset);
    switch (f->type) {
    case SB_F_INT:
        return !in_range((double)*(const int64_t *)t, f->min, f->max);
    case SB_F_FLOAT:
        return isnan(*(const double *)t) || !in_range(*(const double *)t, f->min, f->max);
    case SB_F_STRING:
        return *(char *const *)t == NULL;
    case SB_F_BYTES:
        return *(const uint64_t *)t == 0;
    default:
        return false; /* custom fields print their own null */
    }
}

static void print_value(FILE *out, const sb_field *f, const void *base)
{
    const void *t = cat(base, f->offset);
    switch (f->type) {
    case SB_F_INT:
        fprintf(out, "%" PRId64, *(const int64_t *)t);
        break;
    case SB_F_FLOAT:
        print_double(out, *(const double *)t);
        break;
    case SB_F_BOOL:
        fputs(*(const bool *)t ? "true" : "false", out);
        break;
    case SB_F_STRING:
        if (*(char *const *)t)
            sb_job_print_string(out, *(char *const *)t);
        else
            fputs("null", out);
        break;
    case SB_F_ENUM: {
        int v = *(const int *)t, n = 0;
        while (f->enum_names[n])
            n++;
        fputs(v >= 0 && v < n ? f->enum_names[v] : "null", out);
        break;
    }
    case SB_F_BYTES:
        fprintf(out, "%" PRIu64, *(const uint64_t *)t);
        break;
    case SB_F_CUSTOM:
        if (f->print)
            f->print(out, t);
        else
            fputs("null", out);
        break;
    default:
        break;
    }
}

void sb_job_print_fields(FILE *out, const sb_field *fields, const void *base, int indent)
{
    for (const sb_field *f = fields; f && f->key; f++) {
        fprintf(out, "%*s%s:", indent, "", f->key);
        if (field_unset(f, base)) {
            fputs(" null", out);
            if (f->help)
                fprintf(out, "  # %s", f->help);
        } else if (f->type == SB_F_MAP) {
            fputc('\n', out);
            sb_job_print_fields(out, f->sub, base, indent + 2);
            continue;
        } else {
            fputc(' ', out);
            print_value(out, f, base);
        }
        fputc('\n', out);
    }
}
