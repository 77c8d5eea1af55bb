/* The `grpo:` section: its schema (defaults = the reference configuration S8-LRX-D10 of
 * grpo.md), the cross-field checks, the distance table's agreement with the job, and the
 * description printed by `symbatch validate`.
 *
 *   generators, central_state: exactly growth's keys (growth/spec.c parses and checks them)
 *   start_states: {distances_from: PATH.h5 | null, distance: [lo, hi], weights: [..] | null}
 *   horizon, layers: [128, 128], init_last_std, groups, group_size, temperature, updates,
 *   learning_rate, optimizer: {...}, advantage, std, std_eps, agrae, alpha, loss_agg,
 *   agg_norm, eps_low, eps_high, kl: {beta, estimator}, mu, dynamic_sampling, dynamic_tries,
 *   shaping: {distance} | null, eval: {every, states_per_distance, distances: [lo, hi],
 *   beam_width} */
#include "grpo/grpo_impl.h"

#include "growth/spec.h"
#include "io/h5err.h"
#include "job/schema.h"
#include "symbatch/core.h"
#include "symbatch/perm.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define P_START    "grpo.start_states"
#define P_TABLE    P_START ".distances_from"
#define P_DISTANCE P_START ".distance"
#define P_WEIGHTS  P_START ".weights"
#define P_LAYERS   "grpo.layers"
#define P_EVAL_D   "grpo.eval.distances"
#define P_SHAPING  "grpo.shaping.distance"

static const char *const adv_names[] = {"grpo", "dr_grpo", NULL};
static const char *const std_names[] = {"population", "unbiased", NULL};
static const char *const agrae_names[] = {"none", "sample", "group", "both", NULL};
static const char *const agg_names[] = {"token_mean", "seq_mean_token_mean",
                                        "seq_mean_token_sum_norm", NULL};
static const char *const kl_names[] = {"k1", "k2", "k3", NULL};
static const char *const opt_names[] = {"adam", "adamw", NULL};
static const char *const encoding_names[] = {"value_at_position", "position_of_value", NULL};

/* ---- custom keys ---------------------------------------------------------------------------- */

/* [lo, hi] (or one integer d for [d, d]) of distances 1..SB_GRPO_MAX_DIST. */
static int parse_range(sb_job *job, const sb_ynode *node, const char *path, int64_t *out)
{
    int64_t v[2] = {0, 0};
    if (sb_ynode_kind(node) == SB_Y_SCALAR) {
        if (sb_job_int_value(job, path, node, 1, SB_GRPO_MAX_DIST, &v[0]) != 0)
            return SB_EINPUT;
        out[0] = out[1] = v[0];
        return 0;
    }
    if (sb_ynode_kind(node) != SB_Y_SEQ || sb_ynode_count(node) != 2)
        return sb_job_error_at(job, node, path, "must be a list [lo, hi] of two distances (got %s)",
                               sb_ynode_describe(node));
    int rc = 0;
    for (size_t i = 0; i < 2; i++) {
        sb_ynode item = sb_yseq_item(node, i);
        char ipath[SB_PATH_MAX];
        sb_job_path(ipath, path, NULL, (long)i);
        sb_job_note(job, ipath, &item);
        if (sb_job_int_value(job, ipath, &item, 1, SB_GRPO_MAX_DIST, &v[i]) != 0)
            rc = SB_EINPUT;
    }
    if (rc == 0 && v[0] > v[1])
        return sb_job_error_at(job, node, path, "lo = %" PRId64 " is above hi = %" PRId64, v[0],
                               v[1]);
    if (rc == 0) {
        out[0] = v[0];
        out[1] = v[1];
    }
    return rc;
}

static int parse_distance(sb_job *job, const struct sb_ynode *node, void *target)
{
    return parse_range(job, node, P_DISTANCE, target);
}

static int parse_eval_distances(sb_job *job, const struct sb_ynode *node, void *target)
{
    return parse_range(job, node, P_EVAL_D, target);
}

static void print_range(FILE *out, const void *target)
{
    const int64_t *v = target;
    fprintf(out, "[%" PRId64 ", %" PRId64 "]", v[0], v[1]);
}

/* A finite number >= 0 from a scalar. */
static int number_value(sb_job *job, const sb_ynode *node, const char *path, double *out)
{
    const char *t = sb_ynode_kind(node) == SB_Y_SCALAR ? sb_ynode_text(node) : NULL;
    char *end = NULL;
    double v = t && *t ? strtod(t, &end) : NAN;
    if (!t || !end || *end || !isfinite(v) || v < 0)
        return sb_job_error_at(job, node, path, "must be a number >= 0 (got %s)",
                               t ? t : sb_ynode_describe(node));
    *out = v;
    return 0;
}

static int parse_weights(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_grpo_spec *spec = target;
    size_t n = sb_ynode_kind(node) == SB_Y_SEQ ? sb_ynode_count(node) : 0;
    if (n < 1 || n > SB_GRPO_MAX_DIST)
        return sb_job_error_at(job, node, P_WEIGHTS,
                               "must be a list of 1..%d numbers, one per distance lo..hi (got %s)",
                               SB_GRPO_MAX_DIST, sb_ynode_describe(node));
    double *w = calloc(n, sizeof *w);
    if (!w)
        return SB_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        sb_ynode item = sb_yseq_item(node, i);
        char ipath[SB_PATH_MAX];
        sb_job_path(ipath, P_WEIGHTS, NULL, (long)i);
        sb_job_note(job, ipath, &item);
        if (number_value(job, &item, ipath, &w[i]) != 0)
            rc = SB_EINPUT;
    }
    if (rc) {
        free(w);
        return rc;
    }
    free(spec->weights);
    spec->weights = w;
    spec->nweights = (int)n;
    return 0;
}

static void print_weights(FILE *out, const void *target)
{
    const sb_grpo_spec *spec = target;
    if (!spec->weights) {
        fputs("null  # uniform over the distances", out);
        return;
    }
    fputc('[', out);
    for (int i = 0; i < spec->nweights; i++)
        fprintf(out, "%s%.17g", i ? ", " : "", spec->weights[i]);
    fputc(']', out);
}

static int parse_layers(sb_job *job, const struct sb_ynode *node, void *target)
{
    sb_grpo_spec *spec = target;
    size_t n = sb_ynode_kind(node) == SB_Y_SEQ ? sb_ynode_count(node) : (size_t)-1;
    if (n > SB_MLP_MAX_LAYERS - 1)
        return sb_job_error_at(job, node, P_LAYERS,
                               "must be a list of 0..%d hidden widths like [128, 128] (got %s)",
                               SB_MLP_MAX_LAYERS - 1, sb_ynode_describe(node));
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        sb_ynode item = sb_yseq_item(node, i);
        char ipath[SB_PATH_MAX];
        sb_job_path(ipath, P_LAYERS, NULL, (long)i);
        sb_job_note(job, ipath, &item);
        if (sb_job_int_value(job, ipath, &item, 1, 65536, &spec->layers[i]) != 0)
            rc = SB_EINPUT;
    }
    if (rc == 0) {
        spec->nlayers_hidden = (int)n;
        spec->layers_set = true;
    }
    return rc;
}

static void print_layers(FILE *out, const void *target)
{
    const sb_grpo_spec *spec = target;
    fputc('[', out);
    for (int i = 0; i < spec->nlayers_hidden; i++)
        fprintf(out, "%s%" PRId64, i ? ", " : "", spec->layers[i]);
    fputc(']', out);
}

/* ---- the schema ----------------------------------------------------------------------------- */

#define OFF(member) offsetof(sb_grpo_spec, member)
#define NOSET       .set_offset = SIZE_MAX

static const sb_field start_fields[] = {
    {.key = "distances_from",
     .type = SB_F_STRING,
     .offset = OFF(distances_from),
     NOSET,
     .nullable = true,
     .help = "random walks of length d from the central state (true distance may be shorter)"},
    {.key = "distance",
     .type = SB_F_CUSTOM,
     .offset = OFF(distance),
     NOSET,
     .custom = parse_distance,
     .print = print_range,
     .help = "[lo, hi]: start distances drawn from this range"},
    {.key = "weights",
     .type = SB_F_CUSTOM,
     .offset = 0,
     NOSET,
     .nullable = true,
     .custom = parse_weights,
     .print = print_weights,
     .help = "relative weights of the distances lo..hi"},
    {.key = NULL},
};

static const sb_field optimizer_fields[] = {
    {.key = "kind",
     .type = SB_F_ENUM,
     .offset = OFF(optimizer),
     NOSET,
     .enum_names = opt_names,
     .help = "adam (L2 decay in the gradient) or adamw (decoupled decay)"},
    {.key = "beta1", .type = SB_F_FLOAT, .offset = OFF(beta1), NOSET, .min = 0, .max = 0.999999},
    {.key = "beta2", .type = SB_F_FLOAT, .offset = OFF(beta2), NOSET, .min = 0, .max = 0.99999999},
    {.key = "eps", .type = SB_F_FLOAT, .offset = OFF(adam_eps), NOSET, .min = 1e-300, .max = 1},
    {.key = "weight_decay",
     .type = SB_F_FLOAT,
     .offset = OFF(weight_decay),
     NOSET,
     .min = 0,
     .max = 1},
    {.key = "warmup",
     .type = SB_F_INT,
     .offset = OFF(warmup),
     NOSET,
     .min = 0,
     .max = INFINITY,
     .help = "optimiser steps of linear learning-rate warm-up"},
    {.key = "clip_norm",
     .type = SB_F_FLOAT,
     .offset = OFF(clip_norm),
     NOSET,
     .min = 0,
     .max = INFINITY,
     .help = "global gradient-norm clip; 0: none"},
    {.key = NULL},
};

static const sb_field kl_fields[] = {
    {.key = "beta",
     .type = SB_F_FLOAT,
     .offset = OFF(kl_beta),
     NOSET,
     .min = 0,
     .max = 1e6,
     .help = "weight of the KL to the frozen initial policy; 0: no reference kept"},
    {.key = "estimator",
     .type = SB_F_ENUM,
     .offset = OFF(kl_estimator),
     NOSET,
     .enum_names = kl_names},
    {.key = NULL},
};

static const sb_field shaping_fields[] = {
    {.key = "distance",
     .type = SB_F_FLOAT,
     .offset = OFF(shaping_distance),
     NOSET,
     .min = 0,
     .max = 1e6,
     .help = "C: reward + C (d_start - d_end) / d_start by the table's distances; 0: off"},
    {.key = NULL},
};

static const sb_field eval_fields[] = {
    {.key = "every",
     .type = SB_F_INT,
     .offset = OFF(eval_every),
     NOSET,
     .min = 1,
     .max = INFINITY,
     .help = "updates between greedy evaluations"},
    {.key = "states_per_distance",
     .type = SB_F_INT,
     .offset = OFF(eval_states),
     NOSET,
     .min = 1,
     .max = 1e7},
    {.key = "distances",
     .type = SB_F_CUSTOM,
     .offset = OFF(eval_distance),
     NOSET,
     .custom = parse_eval_distances,
     .print = print_range},
    {.key = "beam_width",
     .type = SB_F_INT,
     .offset = OFF(beam_width),
     NOSET,
     .min = 0,
     .max = 1024,
     .help = "beam search of this width too (/grpo/eval_beam); 0: greedy only"},
    {.key = NULL},
};

const sb_field sb_grpo_schema[] = {
    {.key = "generators",
     .type = SB_F_CUSTOM,
     .offset = OFF(env),
     NOSET,
     .required = true,
     .custom = sb_growth_parse_generators,
     .print = sb_growth_print_generators,
     .help = "as growth: {family: NAME, n: INT}, {explicit: ...}, {cycles: ...}"},
    {.key = "central_state",
     .type = SB_F_CUSTOM,
     .offset = OFF(env),
     NOSET,
     .nullable = true,
     .custom = sb_growth_parse_central,
     .print = sb_growth_print_central,
     .help = "the goal state; repeated values give a coset puzzle"},
    {.key = "start_states", .type = SB_F_MAP, .sub = start_fields, NOSET},
    {.key = "horizon",
     .type = SB_F_INT,
     .offset = OFF(horizon),
     NOSET,
     .min = 1,
     .max = 4096,
     .help = "T: moves per episode"},
    {.key = "layers",
     .type = SB_F_CUSTOM,
     .offset = 0,
     NOSET,
     .custom = parse_layers,
     .print = print_layers,
     .help = "hidden widths of the MLP policy"},
    {.key = "init_last_std",
     .type = SB_F_FLOAT,
     .offset = OFF(init_last_std),
     NOSET,
     .min = 0,
     .max = 10},
    {.key = "encoding",
     .type = SB_F_ENUM,
     .offset = OFF(encoding),
     NOSET,
     .enum_names = encoding_names,
     .help = "one-hot input: the value at each position, or the position of each value "
             "(permutations only)"},
    {.key = "groups",
     .type = SB_F_INT,
     .offset = OFF(groups),
     NOSET,
     .min = 1,
     .max = 1 << 20,
     .help = "groups per update (all ranks); a multiple of the number of ranks"},
    {.key = "group_size",
     .type = SB_F_INT,
     .offset = OFF(group_size),
     NOSET,
     .min = 2,
     .max = 4096,
     .help = "G: trajectories per start state"},
    {.key = "temperature",
     .type = SB_F_FLOAT,
     .offset = OFF(temperature),
     NOSET,
     .min = 1e-3,
     .max = 1e3},
    {.key = "updates", .type = SB_F_INT, .offset = OFF(updates), NOSET, .min = 1, .max = 1e9},
    {.key = "learning_rate",
     .type = SB_F_FLOAT,
     .offset = OFF(learning_rate),
     NOSET,
     .min = 0,
     .max = 10},
    {.key = "optimizer", .type = SB_F_MAP, .sub = optimizer_fields, NOSET},
    {.key = "advantage",
     .type = SB_F_ENUM,
     .offset = OFF(advantage),
     NOSET,
     .enum_names = adv_names,
     .help = "grpo: (r - mean) / (std + eps); dr_grpo: r - mean"},
    {.key = "std", .type = SB_F_ENUM, .offset = OFF(std), NOSET, .enum_names = std_names},
    {.key = "std_eps", .type = SB_F_FLOAT, .offset = OFF(std_eps), NOSET, .min = 0, .max = 1},
    {.key = "agrae",
     .type = SB_F_ENUM,
     .offset = OFF(agrae),
     NOSET,
     .enum_names = agrae_names,
     .help = "A-GRAE: sample level (Eq. 12), group level (Eq. 13), both or none"},
    {.key = "alpha", .type = SB_F_FLOAT, .offset = OFF(alpha), NOSET, .min = 1e-9, .max = 1},
    {.key = "loss_agg", .type = SB_F_ENUM, .offset = OFF(loss_agg), NOSET, .enum_names = agg_names},
    {.key = "agg_norm",
     .type = SB_F_FLOAT,
     .offset = OFF(agg_norm),
     .set_offset = OFF(agg_norm_set),
     .nullable = true,
     .min = 1e-9,
     .max = 1e9,
     .help = "seq_mean_token_sum_norm's constant; default: the horizon"},
    {.key = "eps_low", .type = SB_F_FLOAT, .offset = OFF(eps_low), NOSET, .min = 0, .max = 0.999},
    {.key = "eps_high", .type = SB_F_FLOAT, .offset = OFF(eps_high), NOSET, .min = 0, .max = 1e6},
    {.key = "kl", .type = SB_F_MAP, .sub = kl_fields, NOSET},
    {.key = "mu",
     .type = SB_F_INT,
     .offset = OFF(mu),
     NOSET,
     .min = 1,
     .max = 64,
     .help = "gradient steps per batch of rollouts"},
    {.key = "dynamic_sampling",
     .type = SB_F_BOOL,
     .offset = OFF(dynamic_sampling),
     NOSET,
     .help = "DAPO: redraw groups whose rewards are all equal"},
    {.key = "dynamic_tries",
     .type = SB_F_INT,
     .offset = OFF(dynamic_tries),
     NOSET,
     .min = 1,
     .max = 1024,
     .help = "draws per group slot before an all-equal group is kept"},
    {.key = "shaping",
     .type = SB_F_MAP,
     .sub = shaping_fields,
     NOSET,
     .nullable = true,
     .help = "progress toward the goal added to the reward; null: off"},
    {.key = "eval", .type = SB_F_MAP, .sub = eval_fields, NOSET},
    {.key = NULL},
};

void sb_grpo_spec_init(void *target)
{
    sb_grpo_spec *s = target;
    memset(s, 0, sizeof *s);
    sb_growth_spec_init(&s->env);
    s->distance[0] = 1;
    s->distance[1] = 10;
    s->horizon = 20;
    s->layers[0] = s->layers[1] = 128;
    s->nlayers_hidden = 2;
    s->init_last_std = 0.01;
    s->groups = 32;
    s->group_size = 8;
    s->temperature = 1.0;
    s->updates = 600;
    s->learning_rate = 1e-3;
    s->optimizer = SB_OPT_ADAM;
    s->beta1 = 0.9;
    s->beta2 = 0.999;
    s->adam_eps = 1e-8;
    s->clip_norm = 1.0;
    s->advantage = SB_ADV_GRPO;
    s->std = SB_STD_UNBIASED;
    s->std_eps = 1e-6;
    s->agrae = SB_AGRAE_NONE;
    s->alpha = 1.0;
    s->loss_agg = SB_AGG_TOKEN_MEAN;
    s->eps_low = s->eps_high = 0.2;
    s->kl_estimator = SB_KL_K3;
    s->mu = 1;
    s->dynamic_tries = 8;
    s->eval_every = 50;
    s->eval_states = 200;
    s->eval_distance[0] = 1;
    s->eval_distance[1] = 14;
}

void sb_grpo_spec_free(void *target)
{
    sb_grpo_spec *s = target;
    sb_growth_spec_free(&s->env);
    free(s->distances_from);
    free(s->weights);
    memset(s, 0, sizeof *s);
}

/* ---- the distance table ------------------------------------------------------------------- */

/* A whole uint8 dataset of rank <= 2 into buf (at most cap bytes); its element count, or -1. */
static long read_u8(hid_t file, const char *path, uint8_t *buf, size_t cap, hsize_t dims[2])
{
    long n = -1;
    if (H5Lexists(file, "/growth", H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0)
        return -1;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    dims[0] = dims[1] = 1;
    if (nd >= 1 && nd <= 2 && H5Sget_simple_extent_dims(sp, dims, NULL) == nd) {
        hssize_t count = H5Sget_simple_extent_npoints(sp);
        if (count >= 0 && (size_t)count <= cap &&
            H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
            n = (long)count;
    }
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return n;
}

/* The rows of the table's generators equal the job's, in the same order. */
static int check_generators(sb_job *job, hid_t file, const char *path)
{
    const sb_genset *gs = &((sb_grpo_spec *)job->spec)->env.gens;
    size_t want = (size_t)gs->ngens * (size_t)gs->m;
    uint8_t *rows = malloc(want + 1);
    hsize_t dims[2];
    if (!rows)
        return SB_ENOMEM;
    long got = read_u8(file, "/growth/generators", rows, want + 1, dims);
    bool same = got == (long)want && dims[0] == (hsize_t)gs->ngens && dims[1] == (hsize_t)gs->m &&
                memcmp(rows, gs->perm, want) == 0;
    free(rows);
    if (got < 0)
        return sb_job_error(job, P_TABLE, "'%s' has no readable /growth/generators", path);
    if (!same)
        return sb_job_error(job, P_TABLE,
                            "the generators of '%s' (/growth/generators: %lu x %lu) differ from "
                            "this job's grpo.generators (%d generators on %d elements): the "
                            "table belongs to another puzzle",
                            path, (unsigned long)dims[0], (unsigned long)dims[1], gs->ngens, gs->m);
    return 0;
}

static int check_central(sb_job *job, hid_t file, const char *path)
{
    const sb_grpo_spec *spec = job->spec;
    uint8_t central[SB_MAX_ELEMS], theirs[SB_MAX_ELEMS + 1];
    hsize_t dims[2];
    sb_growth_central(&spec->env, central);
    long got = read_u8(file, "/growth/central_state", theirs, sizeof theirs, dims);
    if (got != spec->env.gens.m || memcmp(theirs, central, (size_t)got) != 0) {
        char a[3 * SB_MAX_ELEMS + 8] = "", b[3 * SB_MAX_ELEMS + 8] = "";
        for (long i = 0, ua = 0; i < got && ua < (long)sizeof a - 5; i++)
            ua += snprintf(a + ua, sizeof a - (size_t)ua, "%s%u", i ? "," : "", theirs[i]);
        for (int i = 0, ub = 0; i < spec->env.gens.m && ub < (int)sizeof b - 5; i++)
            ub += snprintf(b + ub, sizeof b - (size_t)ub, "%s%u", i ? "," : "", central[i]);
        return sb_job_error(job, P_TABLE,
                            "the central state of '%s' (/growth/central_state: [%s]) differs "
                            "from this job's grpo.central_state ([%s])",
                            path, got < 0 ? "unreadable" : a, b);
    }
    return 0;
}

/* The rank scheme and size the job's own space would have, against the table's. */
static int check_scheme(sb_job *job, hid_t file, const char *path)
{
    sb_grpo_spec *spec = job->spec;
    const sb_genset *gs = &spec->env.gens;
    uint8_t central[SB_MAX_ELEMS];
    sb_growth_central(&spec->env, central);
    sb_space space;
    char why[256] = "";
    memset(&space, 0, sizeof space);
    int rc = sb_space_init(&space, central, gs->m, gs->ngens, gs->perm, why, sizeof why);
    if (rc)
        return sb_job_error(job, P_TABLE, "this puzzle has no ranked state space: %s", why);
    snprintf(spec->table_scheme, sizeof spec->table_scheme, "%s", sb_space_name(&space));
    uint64_t size = space.size;
    sb_space_free(&space);
    hid_t d = H5Dopen2(file, "/growth/distances", H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    char scheme[64] = "";
    if (d >= 0 && sb_inspect_attr_text(d, "rank_scheme", scheme, sizeof scheme) != 0)
        scheme[0] = '\0';
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    if (strcmp(scheme, spec->table_scheme) != 0)
        return sb_job_error(
            job, P_TABLE, "/growth/distances of '%s' is ranked by '%s', this puzzle by '%s'", path,
            scheme[0] ? scheme : "(no rank_scheme attribute)", spec->table_scheme);
    if (n < 0 || (uint64_t)n != size)
        return sb_job_error(job, P_TABLE,
                            "/growth/distances of '%s' has %lld entries, this puzzle has %" PRIu64
                            " states",
                            path, (long long)n, size);
    spec->table_states = size;
    return 0;
}

/* Every distance of [lo, hi] has states in the table (its layer sizes). */
static int check_layers(sb_job *job, hid_t file, const char *path)
{
    sb_grpo_spec *spec = job->spec;
    uint64_t n = 0;
    uint64_t *sizes = sb_inspect_read_vector(file, "/growth/layer_sizes", H5T_NATIVE_UINT64, 8, &n);
    if (!sizes)
        return sb_job_error(job, P_TABLE, "'%s' has no readable /growth/layer_sizes", path);
    spec->table_max_distance = (int)n - 1;
    int rc = 0;
    const struct {
        const char *key;
        const int64_t *range;
    } ranges[] = {{P_DISTANCE, spec->distance}, {P_EVAL_D, spec->eval_distance}};
    for (int r = 0; r < 2 && !rc; r++)
        for (int64_t d = ranges[r].range[0]; d <= ranges[r].range[1] && !rc; d++)
            if ((uint64_t)d >= n || sizes[d] == 0)
                rc = sb_job_error(job, ranges[r].key,
                                  "the table '%s' has no state at distance %" PRId64
                                  " (its largest distance is %d)",
                                  path, d, spec->table_max_distance);
    free(sizes);
    return rc;
}

static int check_table(sb_job *job)
{
    sb_grpo_spec *spec = job->spec;
    /* Relative to the working folder, like output: the table is another job's output. */
    snprintf(spec->table_path, sizeof spec->table_path, "%s", spec->distances_from);
    const char *path = spec->table_path;
    if (!spec->distances_from[0])
        return sb_job_error(job, P_TABLE, "must name a growth result file (or be null)");
    sb_h5_quiet q = sb_h5_quiet_begin();
    hid_t file = H5I_INVALID_HID;
    int rc = 0;
    if (access(path, R_OK) != 0)
        rc = sb_job_error(job, P_TABLE, "cannot read '%s': %s", path, strerror(errno));
    else if (H5Fis_hdf5(path) <= 0 || (file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        rc = sb_job_error(job, P_TABLE, "'%s' is not an HDF5 file", path);
    else if (H5Lexists(file, "/growth", H5P_DEFAULT) <= 0 ||
             H5Lexists(file, "/growth/distances", H5P_DEFAULT) <= 0)
        rc = sb_job_error(job, P_TABLE,
                          "'%s' has no /growth/distances: write it with a growth job in full "
                          "mode with store_distances: true",
                          path);
    if (!rc)
        rc = check_generators(job, file, path);
    if (!rc)
        rc = check_central(job, file, path);
    if (!rc)
        rc = check_scheme(job, file, path);
    if (!rc)
        rc = check_layers(job, file, path);
    if (file >= 0)
        H5Fclose(file);
    sb_h5_quiet_end(q);
    return rc;
}

/* ---- validation ------------------------------------------------------------------------------ */

static int check_numbers(sb_job *job, const sb_grpo_spec *s)
{
    int rc = 0;
    int64_t span = s->distance[1] - s->distance[0] + 1;
    if (s->weights && s->nweights != span)
        rc = sb_job_error(job, P_WEIGHTS,
                          "has %d weights for the %" PRId64 " distances %" PRId64 "..%" PRId64,
                          s->nweights, span, s->distance[0], s->distance[1]);
    double total = 0;
    for (int i = 0; s->weights && i < s->nweights; i++)
        total += s->weights[i];
    if (s->weights && !rc && !(total > 0))
        rc = sb_job_error(job, P_WEIGHTS, "the weights must not all be 0");
    if (s->eps_low >= 1)
        rc = sb_job_error(job, "grpo.eps_low", "must be below 1");
    /* Progress is measured by true distances: random walks have none.  Eq. 12 reads the
     * group's success rate p off its rewards, which shaping makes non-binary. */
    if (s->shaping_distance > 0 && !s->distances_from)
        rc = sb_job_error(job, P_SHAPING,
                          "needs start_states.distances_from (a distance table): progress is "
                          "measured in true distances, which random walks do not have");
    else if (s->shaping_distance > 0 && (s->agrae == SB_AGRAE_SAMPLE || s->agrae == SB_AGRAE_BOTH))
        rc = sb_job_error(job, P_SHAPING,
                          "cannot be combined with agrae: %s (Eq. 12's success rate p needs "
                          "binary rewards); use agrae: group or none, or shaping: null",
                          agrae_names[s->agrae]);
    return rc;
}

static int distinct_values(const sb_grpo_spec *spec);

int sb_grpo_validate(sb_job *job)
{
    sb_grpo_spec *spec = job->spec;
    int forms =
        !!spec->env.family + !!spec->env.explicit_rows + !!spec->env.cycles + !!spec->env.gap_file;
    int rc = forms == 1 ? sb_growth_build_generators(job, &spec->env) : SB_EINPUT;
    if (rc == SB_ENOMEM)
        return rc;
    if (rc == 0 && !spec->env.gens.inverse_closed)
        rc = sb_job_error(job, "grpo.generators",
                          "must be closed under inverses (every move can be undone): the "
                          "puzzle is solved along an undirected Cayley graph");
    if (rc == 0 && spec->encoding == SB_ENC_POSITION_OF_VALUE &&
        distinct_values(spec) != spec->env.gens.m)
        rc = sb_job_error(job, "grpo.encoding",
                          "position_of_value needs a central state of distinct values, but it "
                          "repeats values (a coset): use value_at_position");
    int rc2 = check_numbers(job, spec);
    if (rc == 0 && rc2 == 0 && spec->distances_from)
        rc = check_table(job);
    return rc ? rc : rc2;
}

/* ---- helpers for the other parts ---------------------------------------------------------------
 */

static int distinct_values(const sb_grpo_spec *spec)
{
    uint8_t central[SB_MAX_ELEMS];
    bool seen[256] = {false};
    int n = 0;
    sb_growth_central(&spec->env, central);
    for (int i = 0; i < spec->env.gens.m; i++)
        if (!seen[central[i]]) {
            seen[central[i]] = true;
            n++;
        }
    return n;
}

void sb_grpo_shape(const sb_grpo_spec *spec, sb_mlp_shape *shape)
{
    memset(shape, 0, sizeof *shape);
    shape->nlayers = spec->nlayers_hidden + 1;
    shape->sizes[0] = spec->env.gens.m * distinct_values(spec);
    for (int i = 0; i < spec->nlayers_hidden; i++)
        shape->sizes[i + 1] = (int)spec->layers[i];
    shape->sizes[shape->nlayers] = spec->env.gens.ngens;
}

void sb_grpo_adam_cfg(const sb_grpo_spec *spec, sb_adam_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->lr = spec->learning_rate;
    c->beta1 = spec->beta1;
    c->beta2 = spec->beta2;
    c->eps = spec->adam_eps;
    c->weight_decay = spec->weight_decay;
    c->decoupled = spec->optimizer == SB_OPT_ADAMW;
    c->warmup = spec->warmup;
    c->clip_norm = spec->clip_norm;
}

void sb_grpo_adv_cfg(const sb_grpo_spec *spec, sb_adv_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->std_normalise = spec->advantage == SB_ADV_GRPO;
    c->unbiased_std = spec->std == SB_STD_UNBIASED;
    c->eps = spec->std_eps;
    c->agrae_sample = spec->agrae == SB_AGRAE_SAMPLE || spec->agrae == SB_AGRAE_BOTH;
    c->agrae_group = spec->agrae == SB_AGRAE_GROUP || spec->agrae == SB_AGRAE_BOTH;
    c->alpha = spec->alpha;
}

/* ---- fingerprint and description ----------------------------------------------------------------
 */

void sb_grpo_fingerprint(const sb_job *job, int engine, sb_fingerprint *fp)
{
    (void)engine;
    const sb_grpo_spec *s = job->spec;
    const sb_genset *gs = &s->env.gens;
    uint8_t central[SB_MAX_ELEMS];
    char text[SB_FP_VALUE] = "";
    memset(fp, 0, sizeof *fp);
    sb_fp_add(fp, "grpo.generators",
              "%s n=%d k=%d: %d generators on %d elements (fnv1a64 %016" PRIx64 ")", gs->family,
              gs->n, gs->k, gs->ngens, gs->m,
              sb_fnv1a64(gs->perm, (size_t)gs->ngens * (size_t)gs->m, SB_FNV1A64_INIT));
    sb_growth_central(&s->env, central);
    for (int i = 0, u = 0; i < gs->m && u < (int)sizeof text - 5; i++)
        u += snprintf(text + u, sizeof text - (size_t)u, "%s%u", i ? "," : "", central[i]);
    sb_fp_add(fp, "grpo.central_state", "%s", text);
    sb_fp_add(fp, "grpo.start_states", "%s distance [%" PRId64 ", %" PRId64 "] weights %s",
              s->distances_from ? s->table_path : "random walks", s->distance[0], s->distance[1],
              s->weights ? "given" : "uniform");
    char shaping[64] = "";
    if (s->shaping_distance > 0) /* only when on: unshaped fingerprints stay as they were */
        snprintf(shaping, sizeof shaping, " shaping %.17g", s->shaping_distance);
    char layers[256] = "";
    for (int i = 0, u = 0; i < s->nlayers_hidden; i++)
        u += snprintf(layers + u, sizeof layers - (size_t)u, "%s%" PRId64, i ? "," : "",
                      s->layers[i]);
    sb_fp_add(fp, "grpo.layers", "[%s] init_last_std %.17g encoding %s", layers, s->init_last_std,
              encoding_names[s->encoding]);
    sb_fp_add(fp, "grpo.training",
              "seed %" PRId64 " T %" PRId64 " groups %" PRId64 " G %" PRId64
              " temp %.17g lr %.17g opt %d %.17g %.17g %.17g wd %.17g warm %" PRId64
              " clip %.17g adv %d std %d %.17g agrae %d %.17g agg %d %.17g eps %.17g %.17g "
              "kl %.17g %d mu %" PRId64 " dyn %d %" PRId64 "%s",
              job->seed, s->horizon, s->groups, s->group_size, s->temperature, s->learning_rate,
              s->optimizer, s->beta1, s->beta2, s->adam_eps, s->weight_decay, s->warmup,
              s->clip_norm, s->advantage, s->std, s->std_eps, s->agrae, s->alpha, s->loss_agg,
              s->agg_norm_set ? s->agg_norm : 0.0, s->eps_low, s->eps_high, s->kl_beta,
              s->kl_estimator, s->mu, s->dynamic_sampling, s->dynamic_tries, shaping);
    sb_fp_add(
        fp, "grpo.eval",
        "every %" PRId64 " states %" PRId64 " distances [%" PRId64 ", %" PRId64 "] beam %" PRId64,
        s->eval_every, s->eval_states, s->eval_distance[0], s->eval_distance[1], s->beam_width);
}

void sb_grpo_describe(const sb_job *job, FILE *out)
{
    const sb_grpo_spec *s = job->spec;
    if (!s || s->env.gens.ngens < 1)
        return;
    sb_mlp_shape shape;
    sb_grpo_shape(s, &shape);
    fprintf(out, "# puzzle: %s n = %d: %d moves on states of %d elements\n", s->env.gens.family,
            s->env.gens.n, s->env.gens.ngens, s->env.gens.m);
    if (s->distances_from)
        fprintf(out,
                "# start states: uniform at true distances %" PRId64 "..%" PRId64
                " from the table '%s' (%" PRIu64 " states, %s, largest distance %d)\n",
                s->distance[0], s->distance[1], s->table_path, s->table_states, s->table_scheme,
                s->table_max_distance);
    else
        fprintf(out,
                "# start states: random walks of %" PRId64 "..%" PRId64
                " moves (no distance table: the true distance may be shorter)\n",
                s->distance[0], s->distance[1]);
    fprintf(out, "# policy: MLP");
    for (int l = 0; l <= shape.nlayers; l++)
        fprintf(out, "%s%d", l ? " -> " : " ", shape.sizes[l]);
    fprintf(out, " (%zu parameters)\n", sb_mlp_nparams(&shape));
    fprintf(out,
            "# batch: %" PRId64 " groups x %" PRId64 " trajectories per update, %" PRId64
            " updates\n",
            s->groups, s->group_size, s->updates);
    if (s->shaping_distance > 0)
        fprintf(out,
                "# reward: solved + %.17g x (d_start - d_end) / d_start (shaped; solve_rate "
                "counts solved only)\n",
                s->shaping_distance);
}
