/* `symbatch inspect` of an ntk result: the /ntk group as a person reads it: the setup, the
 * closed forms per weight, the ensemble against the GP at each M, and the covariance. */
#include "ntk/spec.h"

#include "symbatch/io.h"

#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Rows of the per-weight and per-M tables shown before "..." */
#define ROWS_SHOWN 40

/* Any dataset, whole, as doubles (malloc'd, *n elements); NULL when absent or unreadable. */
static double *read_all(hid_t file, const char *path, uint64_t *n)
{
    *n = 0;
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    hid_t space = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hssize_t count = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    double *v = count >= 0 ? malloc(((size_t)count + 1) * sizeof *v) : NULL;
    if (v && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        free(v);
        v = NULL;
    }
    if (space >= 0)
        H5Sclose(space);
    if (d >= 0)
        H5Dclose(d);
    if (v)
        *n = (uint64_t)count;
    return v;
}

static double at(const double *v, uint64_t n, uint64_t i)
{
    return v && i < n ? v[i] : NAN;
}

static void print_theory(hid_t file, FILE *out, const char *gp)
{
    char p[4][96];
    const char *leaf[4] = {"mu_in", "mu_out", "variance", "ensemble_one"};
    double *v[4];
    uint64_t n[4];
    for (int i = 0; i < 4; i++) {
        snprintf(p[i], sizeof p[i], "/ntk/theory/%s/%s", gp, leaf[i]);
        v[i] = read_all(file, p[i], &n[i]);
    }
    if (!v[0]) {
        fprintf(out, "  theory (%s): (no readable %s)\n", gp, p[0]);
    } else {
        fprintf(out, "  theory (%s GP), per input weight h:\n", gp);
        fprintf(out, "    %4s  %12s  %12s  %12s  %14s\n", "h", "mu_in", "mu_out", "variance",
                "M (one input)");
        for (uint64_t h = 0; h < n[0] && h < ROWS_SHOWN; h++)
            fprintf(out, "    %4" PRIu64 "  %12.6g  %12.6g  %12.6g  %14.0f\n", h + 1, v[0][h],
                    at(v[1], n[1], h), at(v[2], n[2], h), ceil(at(v[3], n[3], h)));
    }
    for (int i = 0; i < 4; i++)
        free(v[i]);
}

static void print_sizes(hid_t file, FILE *out)
{
    uint64_t n = 0;
    double *v = read_all(file, "/ntk/theory/ensemble_size", &n);
    if (!v || n < 6) {
        free(v);
        return;
    }
    fprintf(out, "  ensemble sizes at delta (one input / all inputs per weight / all crude):\n");
    fprintf(out, "    NTK-GP %.0f / %.0f / %.0f;  NNGP %.0f / %.0f / %.0f\n", ceil(v[0]),
            ceil(v[1]), ceil(v[2]), ceil(v[3]), ceil(v[4]), ceil(v[5]));
    free(v);
}

static void print_ensemble(hid_t file, FILE *out, const char *gp)
{
    uint64_t nM = 0, na = 0, np = 0, nga = 0, ngp = 0;
    double *M = read_all(file, "/ntk/ensemble/M", &nM);
    if (!M) {
        fprintf(out, "  ensemble: none\n");
        return;
    }
    char pa[96], pp[96];
    snprintf(pa, sizeof pa, "/ntk/theory/%s/accuracy", gp);
    snprintf(pp, sizeof pp, "/ntk/theory/%s/p_all_exact_product", gp);
    double *acc = read_all(file, "/ntk/ensemble/accuracy", &na);
    double *pall = read_all(file, "/ntk/ensemble/p_all_exact", &np);
    double *gacc = read_all(file, pa, &nga);
    double *gpall = read_all(file, pp, &ngp);
    fprintf(out, "  ensemble against the %s GP:\n", gp);
    fprintf(out, "    %8s  %10s  %10s  %12s  %12s\n", "M", "accuracy", "GP", "P(all exact)",
            "GP product");
    for (uint64_t i = 0; i < nM; i++) {
        if (nM > ROWS_SHOWN && i == ROWS_SHOWN / 2) {
            fprintf(out, "    ... (%" PRIu64 " rows not shown)\n", nM - ROWS_SHOWN);
            i = nM - ROWS_SHOWN / 2;
        }
        fprintf(out, "    %8.0f  %10.4f  %10.4f  %12.4f  %12.4f\n", M[i], at(acc, na, i),
                at(gacc, nga, i), at(pall, np, i), at(gpall, ngp, i));
    }
    free(M);
    free(acc);
    free(pall);
    free(gacc);
    free(gpall);
}

static void print_covariance(hid_t file, FILE *out)
{
    uint64_t nM = 0, np = 0, nc = 0, n1 = 0;
    double *M = read_all(file, "/ntk/covariance/M", &nM);
    if (!M)
        return;
    double *p = read_all(file, "/ntk/covariance/p_all_exact", &np);
    double *ci = read_all(file, "/ntk/covariance/p_all_exact_ci", &nc);
    double *order = read_all(file, "/ntk/covariance/n", &n1);
    uint64_t nr = 0, ncond = 0;
    double *rank = read_all(file, "/ntk/covariance/rank", &nr);
    double *cond = read_all(file, "/ntk/covariance/condition", &ncond);
    fprintf(out, "  covariance: order %.0f, numerical rank %s%.0f, condition %.4g\n",
            at(order, n1, 0), rank ? "" : "(no spectrum) ", at(rank, nr, 0), at(cond, ncond, 0));
    fprintf(out, "    %8s  %12s  %22s\n", "M", "P(all exact)", "95% interval");
    for (uint64_t i = 0; i < nM && i < ROWS_SHOWN; i++)
        fprintf(out, "    %8.0f  %12.4f  [%9.4f, %9.4f]\n", M[i], at(p, np, i), at(ci, nc, 2 * i),
                at(ci, nc, 2 * i + 1));
    free(M);
    free(p);
    free(ci);
    free(order);
    free(rank);
    free(cond);
}

static const char *const ntk_attrs[] = {
    "k",       "parametrisation", "gp", "width", "members", "epochs", "seed",
    "sigma_w", "learning_rate",   NULL};

void sb_ntk_inspect(hid_t file, FILE *out)
{
    hid_t g = H5Gopen2(file, "/ntk", H5P_DEFAULT);
    if (g < 0)
        return;
    char a[512], gp[32] = "ntk";
    fprintf(out, "\n/ntk\n");
    for (int i = 0; ntk_attrs[i]; i++)
        if (sb_inspect_attr_text(g, ntk_attrs[i], a, sizeof a) == 0)
            fprintf(out, "  %-16s%s\n", ntk_attrs[i], a);
    sb_inspect_attrs(g, ntk_attrs, "  ", out);
    sb_inspect_attr_text(g, "gp", gp, sizeof gp);
    uint64_t n = 0;
    double *perm = read_all(file, "/ntk/permutation", &n);
    if (perm) {
        fprintf(out, "  %-16s[", "permutation");
        for (uint64_t i = 0; i < n; i++)
            fprintf(out, "%s%.0f", i ? ", " : "", perm[i]);
        fprintf(out, "]\n");
    }
    free(perm);
    print_theory(file, out, gp);
    print_sizes(file, out);
    print_ensemble(file, out, gp);
    print_covariance(file, out);
    H5Gclose(g);
}
