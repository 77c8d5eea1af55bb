#include "symbatch/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sb_strerror(int err)
{
    switch (err) {
#define SB_ERR_MSG(name, value, exitcode, msg)                                                     \
    case value:                                                                                    \
        return msg;
        SB_ERR_MAP(SB_ERR_MSG)
#undef SB_ERR_MSG
    }
    return "unknown error";
}

const char *sb_err_name(int err)
{
    switch (err) {
#define SB_ERR_NAME(name, value, exitcode, msg)                                                    \
    case value:                                                                                    \
        return #name;
        SB_ERR_MAP(SB_ERR_NAME)
#undef SB_ERR_NAME
    }
    return "SB_EUNKNOWN";
}

int sb_exit_code(int err)
{
    switch (err) {
#define SB_ERR_EXIT(name, value, exitcode, msg)                                                    \
    case value:                                                                                    \
        return exitcode;
        SB_ERR_MAP(SB_ERR_EXIT)
#undef SB_ERR_EXIT
    }
    return 1;
}

void sb_diag_init(sb_diag *d)
{
    memset(d, 0, sizeof *d);
}

void sb_diag_free(sb_diag *d)
{
    free(d->text);
    sb_diag_init(d);
}

static int diag_reserve(sb_diag *d, size_t extra)
{
    if (d->len + extra + 1 <= d->cap)
        return 0;
    size_t cap = d->cap ? d->cap : 256;
    while (cap < d->len + extra + 1)
        cap *= 2;
    char *t = realloc(d->text, cap);
    if (!t)
        return -1;
    d->text = t;
    d->cap = cap;
    return 0;
}

/* The length of the valid UTF-8 sequence at s (at most `left` bytes), or 0 when it is not one:
 * a stray continuation byte, a truncated sequence, an overlong form, a surrogate, or a code
 * point above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
    if (s[0] < 0x80)
        return 1;
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (n == 0 || s[0] > 0xf4 || s[0] == 0xc0 || s[0] == 0xc1 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0; /* overlong, surrogate, above U+10FFFF */
    return n;
}

/* Appends text to d with every byte that is not part of valid UTF-8 written as \xNN: messages
 * quote keys, values and paths given by the user, and a terminal or a log must get text. */
static void append_escaped(sb_diag *d, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(s + i, len - i);
        out += n ? n : 4;
        i += n ? n : 1;
    }
    if (diag_reserve(d, out + 1) != 0)
        return;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(s + i, len - i);
        if (n) {
            memcpy(d->text + d->len, s + i, n);
            d->len += n;
            i += n;
        } else {
            snprintf(d->text + d->len, 5, "\\x%02x", s[i++]);
            d->len += 4;
        }
    }
    d->text[d->len++] = '\n';
    d->text[d->len] = '\0';
}

void sb_diag_vadd(sb_diag *d, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    d->count++;
    char *line = n < 0 ? NULL : malloc((size_t)n + 1);
    if (!line)
        return;
    vsnprintf(line, (size_t)n + 1, fmt, ap);
    append_escaped(d, line, (size_t)n);
    free(line);
}

void sb_diag_add(sb_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_diag_vadd(d, fmt, ap);
    va_end(ap);
}

int sb_diag_fail(sb_diag *d, const char *fmt, ...)
{
    if (d) {
        va_list ap;
        va_start(ap, fmt);
        sb_diag_vadd(d, fmt, ap);
        va_end(ap);
    }
    return SB_EINPUT;
}

const char *sb_diag_text(const sb_diag *d)
{
    return d->text ? d->text : "";
}
