/* `symbatch inspect` of a grpo result: the run's settings, the first and last rows of the
 * training metrics and the last evaluation per distance. */
#include "grpo/grpo_impl.h"

#include "symbatch/io.h"

#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

/* One column of a compound table dataset as doubles (malloc'd; NULL when unreadable). */
static double *read_column(hid_t file, const char *path, const char *name, hsize_t *n)
{
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    hid_t sp = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(double));
    double *v = NULL;
    *n = 0;
    if (sp >= 0 && mt >= 0 && H5Tinsert(mt, name, 0, H5T_NATIVE_DOUBLE) >= 0 &&
        H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, n, NULL) == 1) {
        v = malloc((*n ? *n : 1) * sizeof *v);
        if (v && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
            free(v);
            v = NULL;
        }
    }
    if (mt >= 0)
        H5Tclose(mt);
    if (sp >= 0)
        H5Sclose(sp);
    if (d >= 0)
        H5Dclose(d);
    return v;
}

static void print_metrics(hid_t file, FILE *out)
{
    static const char *const cols[] = {"reward_mean", "entropy", "grad_norm", "length_mean"};
    double *v[4];
    hsize_t n = 0, k = 0;
    for (int c = 0; c < 4; c++)
        v[c] = read_column(file, "/grpo/metrics", cols[c], c ? &k : &n);
    if (!v[0]) {
        fprintf(out, "  %-16s%s\n", "metrics", "(no readable /grpo/metrics)");
    } else {
        fprintf(out, "  %-16s%llu updates\n", "metrics", (unsigned long long)n);
        fprintf(out, "  %8s  %12s  %10s  %10s  %10s\n", "update", "reward_mean", "entropy",
                "grad_norm", "length");
        for (hsize_t r = 0; r < n; r++) {
            if (n > 6 && r >= 3 && r < n - 3) {
                if (r == 3)
                    fprintf(out, "  %8s\n", "...");
                continue;
            }
            fprintf(out, "  %8llu  %12.4f  %10.4f  %10.4g  %10.3f\n", (unsigned long long)r,
                    v[0][r], v[1] ? v[1][r] : NAN, v[2] ? v[2][r] : NAN, v[3] ? v[3][r] : NAN);
        }
    }
    for (int c = 0; c < 4; c++)
        free(v[c]);
}

static void print_eval(hid_t file, const char *path, const char *label, FILE *out)
{
    hsize_t n = 0, k = 0;
    double *upd = read_column(file, path, "update", &n);
    double *dist = read_column(file, path, "distance", &k);
    double *rate = read_column(file, path, "solve_rate", &k);
    double *ex = read_column(file, path, "excess_length_mean", &k);
    if (upd && dist && rate && ex && n > 0) {
        double last = upd[n - 1];
        fprintf(out, "  %s after %.0f updates:\n  %8s  %10s  %12s\n", label, last, "distance",
                "solve_rate", "excess_moves");
        for (hsize_t r = 0; r < n; r++)
            if (upd[r] == last)
                fprintf(out, "  %8.0f  %10.3f  %12.3f\n", dist[r], rate[r], ex[r]);
    }
    free(upd);
    free(dist);
    free(rate);
    free(ex);
}

static const char *const grpo_skip[] = {"metrics", "eval", "eval_beam", "policy", NULL};

void sb_grpo_inspect(hid_t file, FILE *out)
{
    hid_t g = H5Gopen2(file, "/grpo", H5P_DEFAULT);
    if (g < 0)
        return;
    fprintf(out, "\n/grpo\n");
    sb_inspect_attrs(g, NULL, "  ", out);
    print_metrics(file, out);
    print_eval(file, "/grpo/eval", "greedy evaluation", out);
    print_eval(file, "/grpo/eval_beam", "beam evaluation", out);
    fprintf(out, "  other datasets:\n");
    if (sb_inspect_datasets(g, "/grpo", grpo_skip, "  ", out) == 0)
        fprintf(out, "    (none)\n");
    H5Gclose(g);
}
