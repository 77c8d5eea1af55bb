/* Shared helpers for the tests: oracle rows, closed forms. */
#ifndef SB_TEST_UTIL_H
#define SB_TEST_UTIL_H

#include <stdint.h>

/* The oracle folder $SB_ORACLES when it is set and names a folder, else NULL (test_oracles
 * then exits 77: skipped, never passed). */
const char *oracle_folder(void);
/* Looks up the row keyed `key` in $SB_ORACLES/<file> (lines: key,"[a, b, c]").
 * Returns 1 and a malloc'd row when found, 0 when the file has no such key, -1 when the oracle
 * folder or file is absent or unreadable. */
int oracle_row(const char *file, const char *key, uint64_t **row, int *len);

/* Mahonian numbers: permutations of n with k inversions, k = 0..n(n-1)/2 (malloc'd). */
uint64_t *mahonian_row(int n, int *len);
/* Unsigned Stirling numbers of the first kind c(n, n-k), k = 0..n-1 (malloc'd). */
uint64_t *stirling1_row(int n, int *len);
uint64_t factorial_u64(int n);

#endif
