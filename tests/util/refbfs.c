#include "refbfs.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const uint8_t *s, int m)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < m; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 31);
}

/* Returns the slot holding s, or the empty slot where it belongs. */
static uint64_t find_slot(const ref_bfs *r, const uint8_t *s)
{
    uint64_t i = hash_bytes(s, r->m) & (r->nslots - 1);
    while (r->slots[i] && memcmp(r->states + (r->slots[i] - 1) * r->m, s, r->m) != 0)
        i = (i + 1) & (r->nslots - 1);
    return i;
}

static int grow(ref_bfs *r)
{
    uint64_t old_n = r->nslots;
    uint64_t *old = r->slots;
    r->nslots = old_n ? old_n * 2 : 1024;
    r->slots = calloc(r->nslots, sizeof *r->slots);
    if (!r->slots)
        return -1;
    for (uint64_t i = 0; i < old_n; i++) {
        if (old[i])
            r->slots[find_slot(r, r->states + (old[i] - 1) * r->m)] = old[i];
    }
    free(old);
    return 0;
}

/* Adds s if new; returns 1 if added, 0 if present, -1 on failure. */
static int add_state(ref_bfs *r, const uint8_t *s, uint64_t *cap)
{
    if ((r->nstates + 1) * 2 > r->nslots && grow(r) != 0)
        return -1;
    uint64_t slot = find_slot(r, s);
    if (r->slots[slot])
        return 0;
    if (r->nstates == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        uint8_t *st = realloc(r->states, *cap * r->m);
        if (!st)
            return -1;
        r->states = st;
    }
    memcpy(r->states + r->nstates * r->m, s, r->m);
    r->slots[slot] = ++r->nstates;
    return 1;
}

int ref_bfs_run(ref_bfs *r, int m, int ngens, const uint8_t *perms, const uint8_t *central,
                uint64_t max_states)
{
    memset(r, 0, sizeof *r);
    r->m = m;
    uint64_t cap = 0, begin = 0;
    uint8_t *next = malloc(m);
    if (!next || add_state(r, central, &cap) != 1)
        goto fail;
    while (begin < r->nstates) {
        uint64_t end = r->nstates;
        uint64_t *ls = realloc(r->layer_sizes, (r->nlayers + 1) * sizeof *ls);
        if (!ls)
            goto fail;
        r->layer_sizes = ls;
        r->layer_sizes[r->nlayers++] = end - begin;
        for (uint64_t s = begin; s < end; s++) {
            for (int g = 0; g < ngens; g++) {
                const uint8_t *p = perms + (size_t)g * m;
                const uint8_t *cur = r->states + s * m; /* re-read: states may move */
                for (int i = 0; i < m; i++)
                    next[i] = cur[p[i]];
                if (add_state(r, next, &cap) < 0 || r->nstates > max_states)
                    goto fail;
            }
        }
        begin = end;
    }
    free(next);
    return 0;
fail:
    free(next);
    ref_bfs_free(r);
    return -1;
}

int ref_bfs_distance(const ref_bfs *r, const uint8_t *state)
{
    uint64_t slot = find_slot(r, state);
    if (!r->slots[slot])
        return -1;
    uint64_t idx = r->slots[slot] - 1, acc = 0;
    for (int d = 0; d < r->nlayers; d++) {
        acc += r->layer_sizes[d];
        if (idx < acc)
            return d;
    }
    return -1;
}

void ref_bfs_free(ref_bfs *r)
{
    free(r->states);
    free(r->layer_sizes);
    free(r->slots);
    memset(r, 0, sizeof *r);
}
