/* Permutation generators written in GAP notation: cycle strings "(1,3,8,6)(2,5,7,4)" and files
 * of GAP statements (`f := (1,2,3);`, `G := Group(f, g);`, PuzzleGeometry's `Gen:=[f,g];`).
 *
 * Convention.  GAP acts on the right: point i goes to i^g, and a cycle (c_0,...,c_{k-1}) sends
 * c_j to c_{j+1 mod k}.  Points are 1-based.  The 0-based row p of a generator g is
 * p[i - 1] = i^g - 1, exactly CayleyPy's permutation_from_cycles, so growth compares with
 * CayleyPy's puzzle data.  Acting on a state by new[i] = old[p[i]] (perm.h), applying g and then
 * h gives the row p_g[p_h[i]] = (i^h)^g: the row of GAP's product h*g. */
#ifndef SYMBATCH_GAP_H
#define SYMBATCH_GAP_H

#include "symbatch/perm.h"

#include <stddef.h>
#include <stdint.h>

/* Where and why a text is not what the parser accepts. */
typedef struct sb_gap_error {
    int line, column; /* 1-based; 0 when the problem has no place (a file that cannot be read) */
    long offset;      /* 0-based byte offset of that place in the text, -1 without one */
    char message[256];
} sb_gap_error;

/* One permutation as written. */
typedef struct sb_gap_perm {
    char name[SB_NAME_MAX];
    uint8_t img[SB_MAX_ELEMS]; /* img[i - 1] = i^g - 1; fixed beyond the points written */
    int max_point;             /* largest point written (0 for the identity "()") */
    int max_line, max_column;  /* where max_point was written */
    long max_offset;
    int def_line; /* line where it was defined or written */
} sb_gap_perm;

/* The generators a text defines, in the order that counts (see sb_gap_parse). */
typedef struct sb_gap_set {
    int count;
    sb_gap_perm *perms;
} sb_gap_set;

/* Parses exactly one permutation in cycle notation ("()" is the identity; whitespace anywhere
 * between tokens).  Positions in err count lines and columns inside `text`.  Returns 0, or
 * SB_EINPUT with err filled. */
int sb_gap_parse_perm(const char *text, size_t len, sb_gap_perm *out, sb_gap_error *err);

/* Parses GAP statements: `name := PERM;`, `name := Group(a, b, (1,2));` or a bare
 * `Group(...);`, and lists `name := [a, b];`.  `#` starts a comment to the end of the line.
 * The generators are those of the last Group statement; without one, those of the last list of
 * permutations (PuzzleGeometry's Gen:=[...]); without either, every named permutation in file
 * order.  Lists of other values (PuzzleGeometry's ip:=[[1],[3]]) and integers are ignored.
 * Returns 0, SB_EINPUT with err filled, or SB_ENOMEM.  Free out with sb_gap_set_free. */
int sb_gap_parse(const char *text, size_t len, sb_gap_set *out, sb_gap_error *err);

/* Reads and parses a file (at most 16 MiB); a file that cannot be read gives SB_EINPUT with
 * line 0 and the system's reason. */
int sb_gap_read(const char *path, sb_gap_set *out, sb_gap_error *err);

void sb_gap_set_free(sb_gap_set *set);

/* The state length for a set: `degree` when > 0, else the largest point written.  A point above
 * the degree, or no point at all without a degree, gives SB_EINPUT (err at the point). */
int sb_gap_degree(const sb_gap_set *set, int degree, int *m, sb_gap_error *err);

/* Builds a generator set of state length m (from sb_gap_degree) with the set's names. */
int sb_gap_genset(sb_genset *gs, const sb_gap_set *set, int m, sb_diag *diag);

/* Writes row p (m entries) in GAP cycle notation, 1-based: "(1,3)(2,4)", "()" for the
 * identity.  Truncated with "..." when it does not fit. */
void sb_gap_format(const uint8_t *p, int m, char *buf, size_t size);

/* The names of a set joined by newlines (for the result file), or NULL when they would pass
 * `max_bytes` or memory runs out.  The caller frees it. */
char *sb_genset_names_text(const sb_genset *gs, size_t max_bytes);

#endif
