#include "symbatch/codec.h"
#include "symbatch/error.h"

#include <stdlib.h>

int sb_codec_init(sb_codec *c, int m, int max_value)
{
    int width = 1;
    while (width < 8 && (1 << width) <= max_value)
        width++;
    c->m = m;
    c->width = width;
    c->per_word = 64 / width;
    c->nw = (m + c->per_word - 1) / c->per_word;
    if (c->nw < 1)
        c->nw = 1;
    return c->nw > SB_MAX_WORDS ? SB_ELIMIT : SB_OK;
}

/* Orders ops by (dst, src, shift) so that equal displacements are adjacent and can merge. */
static int op_cmp(const void *a, const void *b)
{
    const sb_genop *x = a, *y = b;
    if (x->dst != y->dst)
        return x->dst - y->dst;
    if (x->src != y->src)
        return x->src - y->src;
    return x->shift - y->shift;
}

int sb_genprog_compile(const sb_codec *c, const uint8_t *p, sb_genprog *prog)
{
    prog->nops = 0;
    prog->ops = malloc((size_t)(c->m ? c->m : 1) * sizeof *prog->ops);
    if (!prog->ops)
        return SB_ENOMEM;
    const uint64_t emask = (1ULL << c->width) - 1;
    /* One op per element first: element p[i] of the input moves to position i. */
    for (int i = 0; i < c->m; i++) {
        int sbit = (p[i] % c->per_word) * c->width, dbit = (i % c->per_word) * c->width;
        sb_genop op = {.mask = emask << sbit,
                       .shift = (int16_t)(sbit - dbit),
                       .src = (uint8_t)(p[i] / c->per_word),
                       .dst = (uint8_t)(i / c->per_word)};
        prog->ops[prog->nops++] = op;
    }
    qsort(prog->ops, (size_t)prog->nops, sizeof *prog->ops, op_cmp);
    int out = 0;
    for (int i = 0; i < prog->nops; i++) {
        if (out > 0 && prog->ops[out - 1].dst == prog->ops[i].dst &&
            prog->ops[out - 1].src == prog->ops[i].src &&
            prog->ops[out - 1].shift == prog->ops[i].shift)
            prog->ops[out - 1].mask |= prog->ops[i].mask;
        else
            prog->ops[out++] = prog->ops[i];
    }
    prog->nops = out;
    for (int i = 0; i < prog->nops; i++) {
        int sh = prog->ops[i].shift;
        prog->ops[i].rs = (uint8_t)(sh > 0 ? sh : 0);
        prog->ops[i].ls = (uint8_t)(sh < 0 ? -sh : 0);
    }
    return SB_OK;
}

void sb_genprog_free(sb_genprog *prog)
{
    free(prog->ops);
    prog->ops = NULL;
    prog->nops = 0;
}
