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

void sb_diag_vadd(sb_diag *d, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    d->count++;
    if (n < 0 || diag_reserve(d, (size_t)n + 1) != 0)
        return;
    vsnprintf(d->text + d->len, (size_t)n + 1, fmt, ap);
    d->len += (size_t)n;
    d->text[d->len++] = '\n';
    d->text[d->len] = '\0';
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
