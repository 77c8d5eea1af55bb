/* Growth engines against independent answers, at whatever number of ranks mpiexec gives:
 * the reference BFS (every family, directed and undirected, cosets) on generators rebuilt from
 * generators.md by tests/util/refgens.c, closed forms (Mahonian, Stirling, n!, 2^n n!),
 * published diameters and coset rows.  The oracle CSVs are test_oracles' (skipped, not passed,
 * without the folder).  ctest runs it at 1, 2 and 4 ranks, so equal answers there mean equal
 * layer sizes for any of those rank counts. */
#include "growthcase.h"
#include "mpicheck.h"
#include "refbfs.h"
#include "refgens.h"
#include "testutil.h"

#include "symbatch/comm.h"
#include "symbatch/growth.h"
#include "symbatch/perm.h"
#include "symbatch/rank.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Lexicographically smallest rows of the reference's last layer must equal last_layer. */
static void check_last_layer(mpicheck *mc, const char *what, const sb_growth_result *r,
                             const ref_bfs *ref, const sb_ctx *ctx)
{
    if (ctx->rank != 0)
        return;
    uint64_t begin = ref->nstates - ref->layer_sizes[ref->nlayers - 1];
    uint64_t count = ref->layer_sizes[ref->nlayers - 1];
    uint64_t want = count < 7 ? count : 7;
    CHECK(mc, r->last_layer_rows == want, "%s: last_layer has %" PRIu64 " rows, want %" PRIu64,
          what, r->last_layer_rows, want);
    /* Every stored row is in the reference's last layer, rows ascend, and no smaller state of
     * that layer was left out. */
    for (uint64_t i = 0; i < r->last_layer_rows && i < want; i++) {
        const uint8_t *row = r->last_layer + i * r->m;
        CHECK(mc, ref_bfs_distance(ref, row) == ref->nlayers - 1, "%s: row %" PRIu64 " distance",
              what, i);
        if (i > 0)
            CHECK(mc, memcmp(row - r->m, row, r->m) < 0, "%s: rows not ascending", what);
    }
    if (r->last_layer_rows == want && want > 0) {
        const uint8_t *maxrow = r->last_layer + (want - 1) * r->m;
        uint64_t smaller = 0;
        for (uint64_t s = begin; s < begin + count; s++)
            smaller += memcmp(ref->states + s * ref->m, maxrow, ref->m) <= 0;
        CHECK(mc, smaller == want, "%s: %" PRIu64 " states <= last stored row, want %" PRIu64, what,
              smaller, want);
    }
}

/* Full mode's distance table, state by state: this rank's block of ranks against the
 * reference BFS (255 = unreached), and the blocks cover the whole space exactly once. */
static void check_distances(mpicheck *mc, const char *what, const sb_growth_spec *spec,
                            const sb_growth_result *r, const ref_bfs *ref, const sb_ctx *ctx)
{
    uint8_t root[SB_MAX_ELEMS], row[SB_MAX_ELEMS];
    sb_growth_central(spec, root);
    sb_space space;
    char why[128];
    CHECK(mc,
          sb_space_init(&space, root, spec->gens.m, spec->gens.ngens, spec->gens.perm, why,
                        sizeof why) == 0,
          "%s: space", what);
    CHECK(mc, strcmp(r->rank_scheme, sb_space_name(&space)) == 0, "%s: scheme %s", what,
          r->rank_scheme);
    /* The block lies inside [0, N], even when it is empty: the HDF5 writer refuses anything
     * else ("block outside the dataset"), which the in-memory checks below would not see. */
    CHECK(mc, r->dist_offset <= space.size && r->dist_count <= space.size - r->dist_offset,
          "%s: rank %d's block [%" PRIu64 ", +%" PRIu64 ") outside the %" PRIu64 " states", what,
          ctx->rank, r->dist_offset, r->dist_count, space.size);
    uint64_t bad = 0, covered = 0, w[SB_MAX_WORDS];
    for (uint64_t i = 0; i < r->dist_count; i++) {
        sb_space_unrank(&space, r->dist_offset + i, w);
        sb_codec_unpack(&space.codec, w, row);
        int d = ref_bfs_distance(ref, row);
        bad += r->distances[i] != (d < 0 ? 255 : d);
    }
    MPI_Allreduce(&r->dist_count, &covered, 1, MPI_UINT64_T, MPI_SUM, ctx->comm);
    CHECK(mc, bad == 0, "%s: %" PRIu64 " distances differ from the reference", what, bad);
    CHECK(mc, covered == space.size, "%s: blocks cover %" PRIu64 " of %" PRIu64, what, covered,
          space.size);
}

/* Engine vs reference BFS for one case. */
static void check_against_reference(mpicheck *mc, const tcase *tc, const sb_ctx *ctx, int mode)
{
    sb_growth_spec spec;
    uint8_t central[SB_MAX_ELEMS];
    char what[128];
    snprintf(what, sizeof what, "%s %s(n=%d,k=%d)%s%s", engine_name(mode), tc->family, tc->n, tc->k,
             tc->central ? " from " : "", tc->central ? tc->central : "");
    if (make_spec(&spec, tc, central, mode) != 0) {
        CHECK(mc, 0, "%s: cannot build generators", what);
        return;
    }
    uint8_t root[SB_MAX_ELEMS];
    sb_growth_central(&spec, root);
    /* The engine runs on the library's generators, the reference on the table's: a wrong
     * family in src/perm shows here as different layers. */
    refgens gens;
    int gerr = refgens_build(&gens, tc->family, tc->n, tc->k);
    CHECK(mc, gerr == 0, "%s: generators.md's set cannot be rebuilt", what);
    CHECK(mc, gerr != 0 || gens.m == spec.gens.m, "%s: state length %d, the table's %d", what,
          spec.gens.m, gens.m);
    ref_bfs ref;
    int rerr = gerr != 0 || gens.m != spec.gens.m
                   ? -1
                   : ref_bfs_run(&ref, gens.m, gens.ngens, gens.perm, root, 5000000);
    refgens_free(&gens);
    CHECK(mc, rerr == 0, "%s: reference BFS failed", what);
    sb_growth_result r;
    spec.store_distances = spec.mode == SB_MODE_FULL;
    int err = run_engine(&spec, ctx, &r);
    CHECK(mc, err == 0, "%s: engine returned %d", what, err);
    /* shared blocks whenever asked and some node (or SB_TEST_NODES pseudo-node) has 2+ ranks */
    CHECK(mc, r.shared_memory == (mode == ENGINE_FULL_SHM && ctx->num_nodes < ctx->size),
          "%s: shared_memory %d", what, r.shared_memory);
    if (!err && !rerr) {
        check_rows(mc, what, &r, ref.layer_sizes, ref.nlayers);
        CHECK(mc, r.completed, "%s: not completed", what);
        CHECK(mc, r.num_states == ref.nstates, "%s: num_states", what);
        check_last_layer(mc, what, &r, &ref, ctx);
        if (spec.mode == SB_MODE_FULL)
            check_distances(mc, what, &spec, &r, &ref, ctx);
    }
    if (!rerr)
        ref_bfs_free(&ref);
    sb_growth_result_free(&r);
    sb_genset_free(&spec.gens);
}

/* n for a family: the largest n <= cap whose state space and edge count stay small. */
static int small_n(const sb_family *f, int cap)
{
    int best = -1;
    for (int n = f->min_n; n <= cap && n <= f->max_n; n++) {
        double states = (double)factorial_u64(f->signed_states ? n : n);
        if (f->signed_states)
            states *= (double)(1u << n);
        sb_diag d;
        sb_diag_init(&d);
        int ok = (!f->check || f->check(n, f->k_default, &d) == 0);
        sb_diag_free(&d);
        if (ok && states <= 50000 && states * f->count(n, f->k_default) <= 4e6)
            best = n;
    }
    return best;
}

static void test_every_family(mpicheck *mc, const sb_ctx *ctx, int mode)
{
    for (const sb_family *const *f = sb_families(); *f; f++) {
        int top = small_n(*f, 8);
        if (top < 0)
            continue;
        /* Two sizes per family: the largest small one and one below it. */
        for (int n = top - 1; n <= top; n++) {
            sb_diag d;
            sb_diag_init(&d);
            int bad = n < (*f)->min_n || ((*f)->check && (*f)->check(n, (*f)->k_default, &d));
            sb_diag_free(&d);
            if (bad)
                continue;
            tcase tc = {(*f)->name, n, -1, NULL};
            check_against_reference(mc, &tc, ctx, mode);
        }
    }
    /* Non-default parameters. */
    const tcase extra[] = {{"lrx", 7, 3, NULL},
                           {"top_spin", 7, 4, NULL},
                           {"top_spin", 8, 3, NULL},
                           {"three_cycles_01i", 6, 0, NULL},
                           {"lsl_cycles", 6, 0, NULL},
                           {"cubic_pancake", 7, 5, NULL},
                           {"wrapped_k_cycles", 6, 4, NULL},
                           {"generalized_stars", 7, 3, NULL}};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        check_against_reference(mc, &extra[i], ctx, mode);
}

static void test_cosets(mpicheck *mc, const sb_ctx *ctx, int mode)
{
    const tcase cases[] = {{"lrx", 6, -1, "001122"},       {"lrx", 8, -1, "00011122"},
                           {"lx", 7, -1, "0011223"},       {"pancake", 8, -1, "01010101"},
                           {"larx", 8, -1, "00001111"},    {"burnt_pancake", 4, -1, "01230123"},
                           {"coxeter", 9, -1, "000111222"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_against_reference(mc, &cases[i], ctx, mode);
    /* Spaces smaller than the ranks' blocks of whole words (32 states each): at 4 ranks the
     * last ranks hold nothing, and their empty blocks must still lie inside the space. */
    const tcase tiny[] = {{"lrx", 4, -1, "0011"},
                          {"lrx", 3, -1, "012"},
                          {"lrx", 4, -1, NULL},
                          {"lrx", 5, -1, NULL},
                          {"lx", 4, -1, NULL}};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++)
        check_against_reference(mc, &tiny[i], ctx, mode);
    /* Published rows (generators.md section 2, growth.md). */
    const struct {
        tcase tc;
        uint64_t rows[20];
        int n;
    } pub[] = {
        {{"lrx", 5, -1, "01210"}, {1, 3, 5, 8, 7, 5, 1}, 7},
        {{"lrx", 6, -1, "001122"}, {1, 2, 4, 5, 9, 14, 15, 19, 11, 5, 5}, 11},
        {{"lrx", 10, -1, "0110110110"},
         {1, 3, 4, 6, 11, 16, 19, 23, 31, 29, 20, 14, 10, 10, 6, 3, 3, 1},
         18},
    };
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        sb_growth_spec spec;
        uint8_t central[SB_MAX_ELEMS];
        sb_growth_result r;
        CHECK(mc, make_spec(&spec, &pub[i].tc, central, mode) == 0, "spec");
        CHECK(mc, run_engine(&spec, ctx, &r) == 0, "run");
        check_rows(mc, pub[i].tc.central, &r, pub[i].rows, pub[i].n);
        sb_growth_result_free(&r);
        sb_genset_free(&spec.gens);
    }
}

/* Largest n for the closed-form checks: 10 as the issue asks, 8 under SB_TEST_QUICK (the
 * sanitizer pass of tests/run.sh, which is about memory errors, not sizes). */
static int closed_form_nmax(void)
{
    return getenv("SB_TEST_QUICK") ? 8 : 10;
}

static void test_closed_forms(mpicheck *mc, const sb_ctx *ctx, int mode)
{
    for (int n = 2; n <= closed_form_nmax(); n++) {
        sb_growth_result r;
        int len;
        uint64_t *want = mahonian_row(n, &len);
        CHECK(mc, run_family(ctx, mode, "coxeter", n, -1, &r) == 0, "coxeter %d", n);
        char what[64];
        snprintf(what, sizeof what, "coxeter(%d) vs Mahonian", n);
        check_rows(mc, what, &r, want, len);
        CHECK(mc, r.num_states == factorial_u64(n), "coxeter(%d) sums to n!", n);
        free(want);
        sb_growth_result_free(&r);
    }
    for (int n = 2; n <= closed_form_nmax(); n++) {
        sb_growth_result r;
        int len;
        uint64_t *want = stirling1_row(n, &len);
        CHECK(mc, run_family(ctx, mode, "all_transpositions", n, -1, &r) == 0, "transp %d", n);
        char what[64];
        snprintf(what, sizeof what, "all_transpositions(%d) vs Stirling", n);
        check_rows(mc, what, &r, want, len);
        free(want);
        sb_growth_result_free(&r);
    }
    for (int n = 1; n <= 6; n++) {
        const char *fams[] = {"burnt_pancake", "signed_reversals"};
        for (int f = 0; f < 2; f++) {
            sb_growth_result r;
            CHECK(mc, run_family(ctx, mode, fams[f], n, -1, &r) == 0, "%s %d", fams[f], n);
            CHECK(mc, r.num_states == factorial_u64(n) << n, "%s(%d): %" PRIu64 " != 2^n n!",
                  fams[f], n, r.num_states);
            sb_growth_result_free(&r);
        }
    }
    /* top_spin(n, 4) reaches A_n for odd n >= 7 and S_n for even n >= 6. */
    for (int n = 6; n <= 9; n++) {
        sb_growth_result r;
        CHECK(mc, run_family(ctx, mode, "top_spin", n, 4, &r) == 0, "top_spin %d", n);
        uint64_t want = factorial_u64(n) / (n % 2 ? 2 : 1);
        CHECK(mc, r.num_states == want, "top_spin(%d,4): %" PRIu64 " states, want %" PRIu64, n,
              r.num_states, want);
        sb_growth_result_free(&r);
    }
}

static void test_diameters(mpicheck *mc, const sb_ctx *ctx, int mode)
{
    const int lx[] = {2, 6, 11, 18, 25, 35, 45};        /* A039745, n = 3..9 */
    const int pancake[] = {0, 1, 3, 4, 5, 7, 8, 9, 10}; /* A058986, n = 1..9 */
    const int burnt[] = {1, 4, 6, 8, 10, 12};           /* A078941, n = 1..6 */
    for (int n = 4; n <= 9; n++) {
        sb_growth_result r;
        CHECK(mc, run_family(ctx, mode, "lrx", n, -1, &r) == 0, "lrx");
        CHECK(mc, r.nlayers - 1 == n * (n - 1) / 2, "lrx(%d) diameter %d", n, r.nlayers - 1);
        sb_growth_result_free(&r);
    }
    for (int n = 3; n <= 9; n++) {
        sb_growth_result r;
        CHECK(mc, run_family(ctx, mode, "lx", n, -1, &r) == 0, "lx");
        CHECK(mc, r.nlayers - 1 == lx[n - 3], "lx(%d) diameter %d want %d", n, r.nlayers - 1,
              lx[n - 3]);
        CHECK(mc, r.num_states == factorial_u64(n), "lx(%d) reaches S_n", n);
        sb_growth_result_free(&r);
    }
    for (int n = 2; n <= 9; n++) {
        sb_growth_result r;
        CHECK(mc, run_family(ctx, mode, "pancake", n, -1, &r) == 0, "pancake");
        CHECK(mc, r.nlayers - 1 == pancake[n - 1], "pancake(%d) diameter %d", n, r.nlayers - 1);
        sb_growth_result_free(&r);
    }
    for (int n = 1; n <= 6; n++) {
        sb_growth_result r;
        CHECK(mc, run_family(ctx, mode, "burnt_pancake", n, -1, &r) == 0, "burnt");
        CHECK(mc, r.nlayers - 1 == burnt[n - 1], "burnt_pancake(%d) diameter %d", n, r.nlayers - 1);
        sb_growth_result_free(&r);
    }
}

static void test_stop_rules(mpicheck *mc, const sb_ctx *ctx, int mode)
{
    sb_growth_spec spec;
    uint8_t central[SB_MAX_ELEMS];
    tcase tc = {"lrx", 8, -1, NULL};
    sb_growth_result full, r;
    CHECK(mc, make_spec(&spec, &tc, central, mode) == 0, "spec");
    CHECK(mc, run_engine(&spec, ctx, &full) == 0, "full run");
    spec.max_layers = 5;
    CHECK(mc, run_engine(&spec, ctx, &r) == 0, "max_layers run");
    CHECK(mc, r.nlayers == 5 && !r.completed && strcmp(r.stop_reason, "max_layers") == 0,
          "max_layers: %d layers, completed %d, %s", r.nlayers, r.completed, r.stop_reason);
    for (int i = 0; i < r.nlayers && i < full.nlayers; i++)
        CHECK(mc, r.layer_sizes[i] == full.layer_sizes[i], "partial layer %d", i);
    sb_growth_result_free(&r);
    spec.max_layers = -1;
    spec.max_layer_size = 100; /* layers of LRX 8: 1 3 6 12 24 48 96 184 ... */
    CHECK(mc, run_engine(&spec, ctx, &r) == 0, "max_layer_size run");
    int first_big = 0;
    while (full.layer_sizes[first_big] <= 100)
        first_big++;
    CHECK(mc,
          r.nlayers == first_big + 1 && !r.completed &&
              strcmp(r.stop_reason, "max_layer_size") == 0,
          "max_layer_size: %d layers (want %d)", r.nlayers, first_big + 1);
    sb_growth_result_free(&r);
    sb_growth_result_free(&full);
    sb_genset_free(&spec.gens);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    sb_ctx ctx;
    sb_ctx_init(&ctx, MPI_COMM_WORLD);
    mpicheck mc = {.rank = ctx.rank};
    for (int e = 0; e < NENGINES; e++) {
        if (ctx.rank == 0)
            printf("engine: %s\n", sb_test_engine_names[e]);
        test_every_family(&mc, &ctx, sb_test_engines[e]);
        test_cosets(&mc, &ctx, sb_test_engines[e]);
        test_closed_forms(&mc, &ctx, sb_test_engines[e]);
        test_diameters(&mc, &ctx, sb_test_engines[e]);
        test_stop_rules(&mc, &ctx, sb_test_engines[e]);
    }
    int rc = mpicheck_finish(&mc, ctx.comm, "test_growth");
    sb_ctx_free(&ctx);
    MPI_Finalize();
    return rc;
}
