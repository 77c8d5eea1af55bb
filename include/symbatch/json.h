/* One-line JSON output (the summary every run prints on stdout), written as it goes: no
 * document is built in memory.  Strings are escaped here and only here: quotes, backslashes and
 * control bytes, and bytes that are not UTF-8 become U+FFFD, so a summary always parses. */
#ifndef SYMBATCH_JSON_H
#define SYMBATCH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SB_JSON_DEPTH 8

typedef struct sb_json {
    FILE *out;
    int depth;
    bool first[SB_JSON_DEPTH]; /* nothing written yet at this depth */
} sb_json;

/* Starts the top-level object ("{"); sb_json_finish closes every open object and ends the line. */
void sb_json_begin(sb_json *j, FILE *out);
void sb_json_finish(sb_json *j);

/* Members of the current object.  Non-finite doubles are written as null. */
void sb_json_str(sb_json *j, const char *key, const char *value);
void sb_json_bool(sb_json *j, const char *key, bool value);
void sb_json_i64(sb_json *j, const char *key, int64_t value);
void sb_json_u64(sb_json *j, const char *key, uint64_t value);
/* fmt is a printf conversion for one double, e.g. "%.3f" or "%.4g". */
void sb_json_f64(sb_json *j, const char *key, const char *fmt, double value);
void sb_json_u64_array(sb_json *j, const char *key, const uint64_t *values, size_t n);
/* A nested object: members until sb_json_close. */
void sb_json_open(sb_json *j, const char *key);
void sb_json_close(sb_json *j);

/* Writes s as a JSON string literal, with the escaping described above. */
void sb_json_string(FILE *out, const char *s);

#endif
