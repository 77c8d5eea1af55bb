/* An independent, obviously correct reference BFS for the tests: states are byte strings kept
 * whole in a plain open-addressing hash set; no packing, no ranking, no MPI. */
#ifndef SB_TEST_REFBFS_H
#define SB_TEST_REFBFS_H

#include <stdint.h>

typedef struct ref_bfs {
    int m;
    uint64_t nstates;
    uint8_t *states; /* nstates rows of m bytes, in BFS order */
    int nlayers;
    uint64_t *layer_sizes;
    /* hash set: index into states + 1, 0 = empty */
    uint64_t *slots;
    uint64_t nslots;
} ref_bfs;

/* BFS from `central` over ngens generators (rows of m, new[i] = old[p[i]]).  Edges are followed
 * in their direction, so for a set that is not inverse-closed the layers are out-distances.
 * max_states guards the test against a runaway (returns -1 when exceeded).  test_growth passes
 * the rows of tests/util/refgens.c, built from generators.md, never the library's: a wrong
 * family in src/perm must not be its own reference. */
int ref_bfs_run(ref_bfs *r, int m, int ngens, const uint8_t *perms, const uint8_t *central,
                uint64_t max_states);
/* Distance of a state, or -1 when unreachable. */
int ref_bfs_distance(const ref_bfs *r, const uint8_t *state);
void ref_bfs_free(ref_bfs *r);

#endif
