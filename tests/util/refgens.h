/* Generator sets rebuilt for the tests straight from generators.md section 1, without the
 * library's src/perm/families.c: the reference BFS runs on these, so a wrong family in the
 * library shows as a growth mismatch and not only in the array examples of test_families.
 *
 * Rows are 0-based permutations acting by new[i] = old[p[i]], in the order the table lists
 * them (itertools order where the table says so). */
#ifndef SB_TEST_REFGENS_H
#define SB_TEST_REFGENS_H

#include <stdint.h>

typedef struct refgens {
    int m;         /* state length: n, or 2n for burnt_pancake and signed_reversals */
    int ngens;     /* rows built */
    int cap;       /* rows allocated */
    uint8_t *perm; /* ngens rows of m bytes */
} refgens;

/* k as generators.md's default when k < 0 (lrx 1, top_spin 4, ...); the value itself when
 * k >= 0; -1 for a family refgens does not know. */
int refgens_default_k(const char *family, int k);

/* Builds family(n, k) (k < 0: the default).  Returns 0, or -1 for an unknown family, a
 * parameter the definition cannot take, or no memory (nothing left allocated then). */
int refgens_build(refgens *g, const char *family, int n, int k);
void refgens_free(refgens *g);

#endif
