/* Generator sets: building one from a named family or from explicit rows, and the checks that
 * both need (is a row a permutation, is the set inverse-closed). */
#include "symbatch/perm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sb_is_permutation(int m, const uint8_t *p)
{
    if (m < 1 || m > SB_MAX_ELEMS || !p)
        return false;
    bool seen[SB_MAX_ELEMS] = {false};
    for (int i = 0; i < m; i++) {
        if (p[i] >= m || seen[p[i]])
            return false;
        seen[p[i]] = true;
    }
    return true;
}

/* A row and its length, so that qsort/bsearch comparators need no global state. */
typedef struct {
    const uint8_t *p;
    int m;
} row_ref;

static int row_cmp(const void *a, const void *b)
{
    const row_ref *x = a, *y = b;
    return memcmp(x->p, y->p, (size_t)x->m);
}

/* Fallback when the sorted index cannot be allocated: the same answer, quadratically. */
static bool has_row(int ngens, int m, const uint8_t *perm, const uint8_t *q)
{
    for (int g = 0; g < ngens; g++)
        if (memcmp(perm + (size_t)g * (size_t)m, q, (size_t)m) == 0)
            return true;
    return false;
}

bool sb_perms_inverse_closed(int ngens, int m, const uint8_t *perm)
{
    if (ngens < 1 || m < 1 || m > SB_MAX_ELEMS || !perm)
        return false;
    row_ref *idx = malloc((size_t)ngens * sizeof *idx);
    if (idx) {
        for (int g = 0; g < ngens; g++)
            idx[g] = (row_ref){perm + (size_t)g * (size_t)m, m};
        qsort(idx, (size_t)ngens, sizeof *idx, row_cmp);
    }
    bool closed = true;
    uint8_t inv[SB_MAX_ELEMS];
    for (int g = 0; g < ngens && closed; g++) {
        const uint8_t *p = perm + (size_t)g * (size_t)m;
        if (!sb_is_permutation(m, p)) {
            closed = false; /* no inverse to look for */
            break;
        }
        for (int i = 0; i < m; i++)
            inv[p[i]] = (uint8_t)i;
        row_ref key = {inv, m};
        closed = idx ? bsearch(&key, idx, (size_t)ngens, sizeof *idx, row_cmp) != NULL
                     : has_row(ngens, m, perm, inv);
    }
    free(idx);
    return closed;
}

void sb_genset_free(sb_genset *gs)
{
    if (!gs)
        return;
    free(gs->perm);
    free(gs->names);
    memset(gs, 0, sizeof *gs);
}

/* Allocates the rows and names of a set of ngens generators with m elements each. */
static int genset_alloc(sb_genset *gs, int ngens, int m)
{
    gs->perm = calloc((size_t)ngens, (size_t)m);
    gs->names = calloc((size_t)ngens, sizeof *gs->names);
    if (!gs->perm || !gs->names) {
        sb_genset_free(gs);
        return SB_ENOMEM;
    }
    gs->ngens = ngens;
    gs->m = m;
    return SB_OK;
}

/* Resolves k: the default when k < 0; families without k accept only k <= 0. */
static int resolve_k(const sb_family *f, int *k, sb_diag *diag)
{
    if (!f->takes_k) {
        if (*k > 0)
            return sb_diag_fail(diag, "%s: takes no parameter k (got k = %d)", f->name, *k);
        *k = 0;
    } else if (*k < 0) {
        *k = f->k_default;
    }
    return SB_OK;
}

static int check_family_params(const sb_family *f, int n, int *k, sb_diag *diag)
{
    if (n < f->min_n || n > f->max_n)
        return sb_diag_fail(diag, "%s: n must satisfy %d <= n <= %d (got n = %d)", f->name,
                            f->min_n, f->max_n, n);
    int rc = resolve_k(f, k, diag);
    if (rc == SB_OK && f->check)
        rc = f->check(n, *k, diag);
    return rc;
}

/* A family builder that writes a non-permutation is a bug here, not bad input. */
static int verify_rows(const sb_genset *gs)
{
    for (int g = 0; g < gs->ngens; g++)
        if (!sb_is_permutation(gs->m, gs->perm + (size_t)g * (size_t)gs->m))
            return SB_EINTERNAL;
    return SB_OK;
}

int sb_genset_family(sb_genset *gs, const char *family, int n, int k, sb_diag *diag)
{
    memset(gs, 0, sizeof *gs);
    const sb_family *f = sb_family_find(family);
    if (!f)
        return sb_diag_fail(diag, "unknown generator family '%s'", family ? family : "(null)");
    int rc = check_family_params(f, n, &k, diag);
    if (rc != SB_OK)
        return rc;
    int ngens = f->count(n, k);
    if (ngens < 1 || ngens > SB_MAX_GENS)
        return sb_diag_fail(diag, "%s: n = %d, k = %d gives %d generators (allowed 1..%d)", f->name,
                            n, k, ngens, SB_MAX_GENS);
    rc = genset_alloc(gs, ngens, sb_family_state_len(f, n, k));
    if (rc != SB_OK)
        return rc;
    f->build(n, k, gs->perm, gs->names);
    if (verify_rows(gs) != SB_OK) {
        sb_genset_free(gs);
        return SB_EINTERNAL;
    }
    snprintf(gs->family, sizeof gs->family, "%s", f->name);
    gs->n = n;
    gs->k = k;
    gs->inverse_closed = sb_perms_inverse_closed(gs->ngens, gs->m, gs->perm);
    return SB_OK;
}

/* Reports why row g is not a permutation of 0..m-1 (first problem only); false if it is one. */
static bool report_bad_row(int g, int m, const uint8_t *p, sb_diag *diag)
{
    bool seen[SB_MAX_ELEMS] = {false};
    for (int i = 0; i < m; i++) {
        if (p[i] >= m) {
            sb_diag_fail(diag, "generator %d is not a permutation of 0..%d: value %d out of range",
                         g, m - 1, p[i]);
            return true;
        }
        if (seen[p[i]]) {
            sb_diag_fail(diag, "generator %d is not a permutation of 0..%d: value %d repeated", g,
                         m - 1, p[i]);
            return true;
        }
        seen[p[i]] = true;
    }
    return false;
}

int sb_genset_explicit(sb_genset *gs, int ngens, int m, const uint8_t *rows, sb_diag *diag)
{
    memset(gs, 0, sizeof *gs);
    if (ngens < 1 || ngens > SB_MAX_GENS)
        return sb_diag_fail(diag, "explicit generators: need 1..%d generators (got %d)",
                            SB_MAX_GENS, ngens);
    if (m < 1 || m > SB_MAX_ELEMS)
        return sb_diag_fail(diag, "explicit generators: need 1..%d elements per generator (got %d)",
                            SB_MAX_ELEMS, m);
    if (!rows)
        return sb_diag_fail(diag, "explicit generators: no rows given");
    int bad = 0;
    for (int g = 0; g < ngens; g++) /* every bad row is reported, not just the first */
        bad += report_bad_row(g, m, rows + (size_t)g * (size_t)m, diag);
    if (bad)
        return SB_EINPUT;
    int rc = genset_alloc(gs, ngens, m);
    if (rc != SB_OK)
        return rc;
    memcpy(gs->perm, rows, (size_t)ngens * (size_t)m);
    for (int g = 0; g < ngens; g++)
        snprintf(gs->names[g], SB_NAME_MAX, "g%d", g);
    snprintf(gs->family, sizeof gs->family, "explicit");
    gs->n = m;
    gs->k = 0;
    gs->inverse_closed = sb_perms_inverse_closed(ngens, m, gs->perm);
    return SB_OK;
}
