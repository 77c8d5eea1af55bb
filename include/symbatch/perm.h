/* Permutation generator sets: the named families of generators.md and explicit lists.
 *
 * Conventions (CayleyPy's, so growth rows compare one by one): 0-based; a generator p acts on a
 * state by new[i] = old[p[i]]; generator order is the order of the family's definition. */
#ifndef SYMBATCH_PERM_H
#define SYMBATCH_PERM_H

#include "symbatch/error.h"

#include <stdbool.h>
#include <stdint.h>

/* Largest state length (elements per state).  Element values are stored in uint8_t. */
#define SB_MAX_ELEMS 255
/* Largest generator set a family may produce (guards against e.g. derangements(12)). */
#define SB_MAX_GENS  100000
#define SB_NAME_MAX  48

typedef struct sb_genset {
    int m; /* elements per state: n, or 2n for burnt_pancake/signed_reversals */
    int ngens;
    uint8_t *perm;              /* ngens rows of m entries: row g is generator g */
    char (*names)[SB_NAME_MAX]; /* ngens names, as CayleyPy prints them */
    bool inverse_closed;
    char family[SB_NAME_MAX]; /* family name, or "explicit" */
    int n, k;                 /* family parameters (k = 0 when the family takes none) */
} sb_genset;

/* One generator family.  Designated initializers in one table (src/perm/families.c). */
typedef struct sb_family {
    const char *name;
    const char *params; /* human text: "n >= 3, 1 <= k < n (default 1)" */
    const char *group;  /* "S_n", "B_n (2^n n! states)", "A_n", ... */
    int min_n, max_n;   /* accepted n (max_n keeps the generator count <= SB_MAX_GENS) */
    bool takes_k;
    int k_default;
    bool signed_states; /* state length 2n (burnt_pancake, signed_reversals) */
    /* Checks n and k; on failure appends a message (without location) to diag and returns
     * SB_EINPUT.  NULL means the min_n/max_n range is the only check. */
    int (*check)(int n, int k, sb_diag *diag);
    /* Number of generators for valid (n, k). */
    int (*count)(int n, int k);
    /* Writes the generators (count(n,k) rows of state length) and their names. */
    void (*build)(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX]);
    /* Puzzles (src/perm/puzzles.c) act on facelets, not on n elements: state length for valid
     * (n, k).  NULL: n, or 2n with signed_states. */
    int (*state_len)(int n, int k);
    /* The default central state (state_len entries), e.g. a puzzle's solved colouring.  NULL:
     * the identity. */
    void (*central)(int n, int k, uint8_t *state);
} sb_family;

/* The NULL-terminated table of all families, in the order generators.md lists them. */
const sb_family *const *sb_families(void);
const sb_family *sb_family_find(const char *name);
/* The NULL-terminated table of the puzzle families (cube_qtm, ..., megaminx).  They are kept
 * out of sb_families(), whose members all act on n (or 2n) elements as generators.md section 1
 * defines them; sb_family_find finds both. */
const sb_family *const *sb_puzzle_families(void);
/* Elements per state of f(n, k). */
int sb_family_state_len(const sb_family *f, int n, int k);
/* Writes the family's default central state of gs (gs->m entries) and returns true; false
 * (nothing written) for explicit sets and families whose default is the identity. */
bool sb_genset_default_central(const sb_genset *gs, uint8_t *out);
/* The n x n x n cube by its options: metric "qtm" or "htm", fixed_corner (n = 2 only: turns of
 * U, F, R alone).  Builds the matching family (cube_qtm, cube_htm, cube_fixed_qtm,
 * cube_fixed_htm); for job keys `metric:` and `fixed_corner:`. */
int sb_genset_cube(sb_genset *gs, int n, const char *metric, bool fixed_corner, sb_diag *diag);

/* Builds a family's generator set.  k < 0 means "the family's default".  Parameter problems
 * go to diag (one line, no location) and return SB_EINPUT. */
int sb_genset_family(sb_genset *gs, const char *family, int n, int k, sb_diag *diag);
/* Builds a set from explicit rows (ngens rows of m entries); checks that every row is a
 * permutation of 0..m-1, reporting each bad row to diag. */
int sb_genset_explicit(sb_genset *gs, int ngens, int m, const uint8_t *rows, sb_diag *diag);
void sb_genset_free(sb_genset *gs);

/* True when the inverse of every generator is also in the set (as CayleyPy decides it). */
bool sb_perms_inverse_closed(int ngens, int m, const uint8_t *perm);
/* Is p (m entries) a permutation of 0..m-1? */
bool sb_is_permutation(int m, const uint8_t *p);

/* Applies generator p to a state: out[i] = in[p[i]]. */
static inline void sb_perm_apply(int m, const uint8_t *p, const uint8_t *in, uint8_t *out)
{
    for (int i = 0; i < m; i++)
        out[i] = in[p[i]];
}

#endif
