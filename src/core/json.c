/* One-line JSON output (json.h). */
#include "symbatch/json.h"

#include <inttypes.h>
#include <math.h>

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0 when the bytes there are not one. */
static int utf8_length(const unsigned char *p)
{
    int n = p[0] < 0x80         ? 1
            : (p[0] >> 5) == 6  ? 2
            : (p[0] >> 4) == 14 ? 3
            : (p[0] >> 3) == 30 ? 4
                                : 0;
    if (n == 0 || (n == 2 && p[0] < 0xc2) || (n == 4 && p[0] > 0xf4))
        return 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    /* Overlong three-byte forms, UTF-16 surrogates, and four-byte forms beyond U+10FFFF. */
    if (n == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

void sb_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        int n = utf8_length(p);
        if (n == 0) {
            fputs("\\ufffd", out);
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p++);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\u%04x", *p++);
        } else {
            fwrite(p, 1, (size_t)n, out);
            p += n;
        }
    }
    fputc('"', out);
}

static void member(sb_json *j, const char *key)
{
    if (!j->first[j->depth])
        fputc(',', j->out);
    j->first[j->depth] = false;
    sb_json_string(j->out, key);
    fputc(':', j->out);
}

void sb_json_begin(sb_json *j, FILE *out)
{
    j->out = out;
    j->depth = 0;
    j->first[0] = true;
    fputc('{', out);
}

void sb_json_finish(sb_json *j)
{
    while (j->depth > 0)
        sb_json_close(j);
    fputs("}\n", j->out);
    fflush(j->out);
}

void sb_json_str(sb_json *j, const char *key, const char *value)
{
    member(j, key);
    sb_json_string(j->out, value);
}

void sb_json_bool(sb_json *j, const char *key, bool value)
{
    member(j, key);
    fputs(value ? "true" : "false", j->out);
}

void sb_json_i64(sb_json *j, const char *key, int64_t value)
{
    member(j, key);
    fprintf(j->out, "%" PRId64, value);
}

void sb_json_u64(sb_json *j, const char *key, uint64_t value)
{
    member(j, key);
    fprintf(j->out, "%" PRIu64, value);
}

void sb_json_f64(sb_json *j, const char *key, const char *fmt, double value)
{
    member(j, key);
    if (isfinite(value))
        fprintf(j->out, fmt, value);
    else
        fputs("null", j->out);
}

void sb_json_u64_array(sb_json *j, const char *key, const uint64_t *values, size_t n)
{
    member(j, key);
    fputc('[', j->out);
    for (size_t i = 0; i < n; i++)
        fprintf(j->out, "%s%" PRIu64, i ? "," : "", values[i]);
    fputc(']', j->out);
}

void sb_json_open(sb_json *j, const char *key)
{
    if (j->depth + 1 >= SB_JSON_DEPTH)
        return;
    member(j, key);
    fputc('{', j->out);
    j->first[++j->depth] = true;
}

void sb_json_close(sb_json *j)
{
    if (j->depth == 0)
        return;
    fputc('}', j->out);
    j->depth--;
}
