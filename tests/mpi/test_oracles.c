/* Growth rows against the oracle CSVs of ../shared/oracles (CayleyPy's published data), for
 * every engine at whatever number of ranks mpiexec gives.
 *
 * Without the folder ($SB_ORACLES) the test exits 77, which ctest shows as skipped: the oracle
 * comparison did not happen and must not read as passed.  Rank 0 looks and tells the others, so
 * every rank exits alike.  With the folder, every key named here must be in its file: a key or
 * file that is missing is a failure, not a comparison quietly left out. */
#include "growthcase.h"
#include "mpicheck.h"
#include "testutil.h"

#include "symbatch/comm.h"
#include "symbatch/growth.h"

#include <stdlib.h>
#include <string.h>

#define SKIP_EXIT 77

/* Looks up one oracle row; a missing file or key counts as a failed check. */
static int oracle_lookup(mpicheck *mc, const char *file, const char *key, uint64_t **row, int *len)
{
    int found = oracle_row(file, key, row, len);
    CHECK(mc, found >= 0, "oracle file %s/%s is missing or unreadable", getenv("SB_ORACLES"), file);
    CHECK(mc, found != 0, "oracle %s has no row keyed '%s'", file, key);
    return found == 1;
}

/* Rows "n,[...]" of the family files: each n from the family's smallest to 9. */
static int test_family_rows(mpicheck *mc, const sb_ctx *ctx, int mode)
{
    const struct {
        const char *file, *family;
        int nmin, nmax;
    } fams[] = {{"lrx.csv", "lrx", 3, 9},
                {"lx.csv", "lx", 3, 9},
                {"coxeter.csv", "coxeter", 2, 9},
                {"pancake.csv", "pancake", 2, 9},
                {"all_transpositions.csv", "all_transpositions", 2, 9}};
    int compared = 0;
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        for (int n = fams[f].nmin; n <= fams[f].nmax; n++) {
            char key[16];
            snprintf(key, sizeof key, "%d", n);
            uint64_t *row;
            int len;
            if (!oracle_lookup(mc, fams[f].file, key, &row, &len))
                continue;
            sb_growth_result r;
            CHECK(mc, run_family(ctx, mode, fams[f].family, n, -1, &r) == 0, "%s(%d): run",
                  fams[f].family, n);
            char what[64];
            snprintf(what, sizeof what, "%s oracle %s n=%d", engine_name(mode), fams[f].file, n);
            check_rows(mc, what, &r, row, len);
            compared++;
            free(row);
            sb_growth_result_free(&r);
        }
    }
    return compared;
}

/* Rows "central,[...]" of lrx_coset.csv: lrx(len(central)) from that multiset state. */
static int test_coset_rows(mpicheck *mc, const sb_ctx *ctx, int mode)
{
    const char *cosets[] = {"001",      "0011",      "0101",       "00111",
                            "000111",   "010101",    "0001111",    "00001111",
                            "01010101", "000011111", "0000011111", "0101010101"};
    int compared = 0;
    for (size_t c = 0; c < sizeof cosets / sizeof cosets[0]; c++) {
        uint64_t *row;
        int len;
        if (!oracle_lookup(mc, "lrx_coset.csv", cosets[c], &row, &len))
            continue;
        sb_growth_spec spec;
        uint8_t central[SB_MAX_ELEMS];
        tcase tc = {"lrx", (int)strlen(cosets[c]), -1, cosets[c]};
        sb_growth_result r;
        int err = make_spec(&spec, &tc, central, mode);
        if (!err)
            err = run_engine(&spec, ctx, &r);
        else
            memset(&r, 0, sizeof r);
        char what[64];
        snprintf(what, sizeof what, "%s oracle lrx_coset %s", engine_name(mode), cosets[c]);
        CHECK(mc, err == 0, "%s: run returned %d", what, err);
        check_rows(mc, what, &r, row, len);
        compared++;
        free(row);
        sb_growth_result_free(&r);
        sb_genset_free(&spec.gens);
    }
    return compared;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    sb_ctx_init(&ctx, MPI_COMM_WORLD);
    mpicheck mc = {.rank = ctx.rank};
    /* One verdict for all ranks: rank 0's look at the folder. */
    int present = ctx.rank == 0 ? oracle_folder() != NULL : 0;
    MPI_Bcast(&present, 1, MPI_INT, 0, ctx.comm);
    if (!present) {
        if (ctx.rank == 0) {
            const char *dir = getenv("SB_ORACLES");
            printf("SKIP: oracle folder SB_ORACLES=%s not found: oracle rows not compared\n",
                   dir ? dir : "(unset)");
        }
        sb_ctx_free(&ctx);
        MPI_Finalize();
        return SKIP_EXIT;
    }
    for (int e = 0; e < NENGINES; e++) {
        int compared = test_family_rows(&mc, &ctx, sb_test_engines[e]);
        compared += test_coset_rows(&mc, &ctx, sb_test_engines[e]);
        if (ctx.rank == 0)
            printf("engine %s: %d oracle rows compared\n", sb_test_engine_names[e], compared);
    }
    int rc = mpicheck_finish(&mc, ctx.comm, "test_oracles");
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
