/* Shared by the MPI growth tests (test_growth, test_oracles): one growth case built from a
 * family, run on each engine, and its layer sizes compared with an expected row. */
#ifndef SB_TEST_GROWTHCASE_H
#define SB_TEST_GROWTHCASE_H

#include "mpicheck.h"

#include "symbatch/comm.h"
#include "symbatch/growth.h"

#include <stdint.h>

typedef struct tcase {
    const char *family;
    int n, k;
    const char *central; /* digits, or NULL for the identity */
} tcase;

#define ENGINE_FULL_SHM 100 /* a test-only mode value: full mode with shared_memory on */

/* Every check runs once per engine: all must give the same answers.  Full mode runs twice:
 * with private blocks (marks to other ranks through the exchange) and with node-shared blocks
 * (marks stored directly, the scan shared by the node's ranks). */
#define NENGINES 3
extern const int sb_test_engines[NENGINES];
extern const char *const sb_test_engine_names[NENGINES];
const char *engine_name(int mode);

/* Fills a spec for a family with the library's generators; central as a digit string
 * ("001122").  Returns 0 or the library's error. */
int make_spec(sb_growth_spec *spec, const tcase *tc, uint8_t *central_buf, int mode);
/* Runs the engine named by spec->mode (SB_MODE_FULL or SB_MODE_FRONTIER). */
int run_engine(const sb_growth_spec *spec, const sb_ctx *ctx, sb_growth_result *r);
/* Runs family(n, k) from the identity; frees the generators. */
int run_family(const sb_ctx *ctx, int mode, const char *family, int n, int k, sb_growth_result *r);
/* Layer sizes of r against want (all of them, and as many); prints both rows on a mismatch. */
void check_rows(mpicheck *mc, const char *what, const sb_growth_result *r, const uint64_t *want,
                int nwant);

#endif
