#include "io/h5err.h"

#include <stdio.h>

sb_h5_quiet sb_h5_quiet_begin(void)
{
    sb_h5_quiet q = {NULL, NULL};
    H5Eget_auto2(H5E_DEFAULT, &q.func, &q.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return q;
}

void sb_h5_quiet_end(sb_h5_quiet q)
{
    H5Eset_auto2(H5E_DEFAULT, q.func, q.data);
}

typedef struct innermost_out {
    char *buf;
    size_t size;
} innermost_out;

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *arg)
{
    innermost_out *o = arg;
    if (n == 0 && e) {
        char minor[128] = "";
        H5Eget_msg(e->min_num, NULL, minor, sizeof minor);
        snprintf(o->buf, o->size, "%s%s%s", e->desc ? e->desc : "",
                 e->desc && e->desc[0] && minor[0] ? ": " : "", minor);
    }
    return 0;
}

void sb_h5_innermost(char *out, size_t size)
{
    innermost_out o = {out, size};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &o);
}
