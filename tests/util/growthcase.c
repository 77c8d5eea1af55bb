#include "growthcase.h"

#include <inttypes.h>
#include <string.h>

const int sb_test_engines[NENGINES] = {SB_MODE_FRONTIER, SB_MODE_FULL, ENGINE_FULL_SHM};
const char *const sb_test_engine_names[NENGINES] = {"frontier", "full", "full-shared"};

const char *engine_name(int mode)
{
    for (int e = 0; e < NENGINES; e++)
        if (sb_test_engines[e] == mode)
            return sb_test_engine_names[e];
    return "?";
}

int make_spec(sb_growth_spec *spec, const tcase *tc, uint8_t *central_buf, int mode)
{
    memset(spec, 0, sizeof *spec);
    sb_diag d;
    sb_diag_init(&d);
    int err = sb_genset_family(&spec->gens, tc->family, tc->n, tc->k, &d);
    sb_diag_free(&d);
    if (err)
        return err;
    if (tc->central) {
        spec->central_len = (int)strlen(tc->central);
        for (int i = 0; i < spec->central_len; i++)
            central_buf[i] = (uint8_t)(tc->central[i] - '0');
        spec->central = central_buf;
    }
    spec->mode = mode == ENGINE_FULL_SHM ? SB_MODE_FULL : mode;
    spec->shared_memory = mode == ENGINE_FULL_SHM;
    spec->max_layers = -1;
    spec->max_layer_size = -1;
    spec->store_last_layer = 7;
    return 0;
}

int run_engine(const sb_growth_spec *spec, const sb_ctx *ctx, sb_growth_result *r)
{
    memset(r, 0, sizeof *r);
    if (spec->mode == SB_MODE_FULL)
        return sb_growth_full(spec, ctx, NULL, r);
    return sb_growth_frontier(spec, ctx, NULL, r);
}

int run_family(const sb_ctx *ctx, int mode, const char *family, int n, int k, sb_growth_result *r)
{
    sb_growth_spec spec;
    uint8_t central[SB_MAX_ELEMS];
    tcase tc = {family, n, k, NULL};
    int err = make_spec(&spec, &tc, central, mode);
    if (!err)
        err = run_engine(&spec, ctx, r);
    else
        memset(r, 0, sizeof *r);
    sb_genset_free(&spec.gens);
    return err;
}

void check_rows(mpicheck *mc, const char *what, const sb_growth_result *r, const uint64_t *want,
                int nwant)
{
    int same = r->nlayers == nwant;
    for (int i = 0; same && i < nwant; i++)
        same = r->layer_sizes[i] == want[i];
    CHECK(mc, same, "%s: %d layers (want %d), first mismatch shown by layer sizes", what,
          r->nlayers, nwant);
    if (!same && mc->rank == 0) {
        for (int i = 0; i < (r->nlayers > nwant ? r->nlayers : nwant); i++)
            fprintf(stderr, "  layer %d: got %" PRIu64 " want %" PRIu64 "\n", i,
                    i < r->nlayers ? r->layer_sizes[i] : 0, i < nwant ? want[i] : 0);
    }
}
