/* `symbatch inspect` of a growth result: the /growth group as a person reads it (layer table,
 * stop reason, last layer), with the io module's helpers for everything generic. */
#include "symbatch/growth.h"
#include "symbatch/io.h"

#include <hdf5.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Layer tables longer than this are shown as their first and last LAYERS_EDGE rows. */
#define LAYERS_FULL      60
#define LAYERS_EDGE      20
/* Rows of /growth/last_layer shown. */
#define LAST_LAYER_SHOWN 5

static void print_layer_row(FILE *out, uint64_t layer, uint64_t size, uint64_t cumulative)
{
    fprintf(out, "  %7" PRIu64 "  %20" PRIu64 "  %20" PRIu64 "\n", layer, size, cumulative);
}

static void print_layers(hid_t file, FILE *out)
{
    uint64_t n = 0;
    uint64_t *sizes = sb_inspect_read_vector(file, "/growth/layer_sizes", H5T_NATIVE_UINT64, 8, &n);
    if (!sizes) {
        fprintf(out, "  %-14s%s\n", "layers", "(no readable /growth/layer_sizes)");
        return;
    }
    fprintf(out, "  %-14s%" PRIu64 "\n", "layers", n);
    uint64_t ns = 0;
    double *secs = sb_inspect_read_vector(file, "/growth/layer_seconds", H5T_NATIVE_DOUBLE, 8, &ns);
    if (secs) {
        double total = 0;
        for (uint64_t i = 0; i < ns; i++)
            total += secs[i];
        fprintf(out, "  %-14s%.3f s in total over %" PRIu64 " layers\n", "layer_seconds", total,
                ns);
    }
    fprintf(out, "  %7s  %20s  %20s\n", "layer", "size", "cumulative");
    uint64_t cumulative = 0;
    for (uint64_t i = 0; i < n; i++) {
        cumulative += sizes[i];
        bool shown = n <= LAYERS_FULL || i < LAYERS_EDGE || i >= n - LAYERS_EDGE;
        if (shown)
            print_layer_row(out, i, sizes[i], cumulative);
        else if (i == LAYERS_EDGE)
            fprintf(out, "  %7s  (%" PRIu64 " layers not shown)\n", "...", n - 2 * LAYERS_EDGE);
    }
    free(secs);
    free(sizes);
}

static void print_last_layer(hid_t file, FILE *out)
{
    const char *path = "/growth/last_layer";
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0)
        return;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    hid_t space = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID;
    hid_t mspace = H5I_INVALID_HID;
    uint8_t *rows = NULL;
    hsize_t dims[2] = {0, 0};
    if (space < 0 || H5Sget_simple_extent_ndims(space) != 2 ||
        H5Sget_simple_extent_dims(space, dims, NULL) != 2) {
        fprintf(out, "  %-14s%s\n", "last_layer", "(not a 2-D dataset)");
        goto done;
    }
    hsize_t shown[2] = {dims[0] < LAST_LAYER_SHOWN ? dims[0] : LAST_LAYER_SHOWN, dims[1]};
    fprintf(out, "  %-14s%" PRIu64 " rows of %" PRIu64 " elements%s\n", "last_layer",
            (uint64_t)dims[0], (uint64_t)dims[1], shown[0] && shown[1] ? "; first rows:" : "");
    if (shown[0] == 0 || shown[1] == 0)
        goto done;
    hsize_t start[2] = {0, 0};
    rows = malloc(shown[0] * shown[1]);
    mspace = H5Screate_simple(2, shown, NULL);
    if (!rows || mspace < 0 ||
        H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, shown, NULL) < 0 ||
        H5Dread(d, H5T_NATIVE_UINT8, mspace, space, H5P_DEFAULT, rows) < 0) {
        fprintf(out, "    (unreadable)\n");
        goto done;
    }
    for (hsize_t r = 0; r < shown[0]; r++) {
        fprintf(out, "    ");
        for (hsize_t c = 0; c < shown[1]; c++)
            fprintf(out, "%s%u", c ? " " : "", (unsigned)rows[r * shown[1] + c]);
        fprintf(out, "\n");
    }
done:
    free(rows);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (space >= 0)
        H5Sclose(space);
    if (d >= 0)
        H5Dclose(d);
}

static const char *const growth_datasets[] = {
    "layer_sizes", "diameter", "num_states", "layer_seconds", "completed", "last_layer", NULL,
};

static const char *const growth_attrs[] = {
    "stop_reason", "mode", "family", "n", "k", "generators", NULL,
};

void sb_growth_inspect(hid_t file, FILE *out)
{
    hid_t g = H5Gopen2(file, "/growth", H5P_DEFAULT);
    if (g < 0)
        return;
    char a[512];
    uint64_t v;
    fprintf(out, "\n/growth\n");
    if (sb_inspect_read_u64(file, "/growth/completed", &v) == 0) {
        fprintf(out, "  %-14s%s", "completed", v ? "yes" : "no");
        if (sb_inspect_attr_text(g, "stop_reason", a, sizeof a) == 0)
            fprintf(out, " (stop reason: %s)", a);
        fprintf(out, "\n");
    } else if (sb_inspect_attr_text(g, "stop_reason", a, sizeof a) == 0) {
        fprintf(out, "  %-14s%s\n", "stop reason", a);
    }
    for (int i = 1; growth_attrs[i]; i++) /* [0], stop_reason, is shown with completed */
        if (sb_inspect_attr_text(g, growth_attrs[i], a, sizeof a) == 0)
            fprintf(out, "  %-14s%s\n", growth_attrs[i], a);
    sb_inspect_attrs(g, growth_attrs, "  ", out);
    if (sb_inspect_read_u64(file, "/growth/num_states", &v) == 0)
        fprintf(out, "  %-14s%" PRIu64 "\n", "num_states", v);
    if (sb_inspect_read_u64(file, "/growth/diameter", &v) == 0)
        fprintf(out, "  %-14s%" PRIu64 "\n", "diameter", v);
    print_layers(file, out);
    print_last_layer(file, out);
    fprintf(out, "  other datasets:\n");
    if (sb_inspect_datasets(g, "/growth", growth_datasets, "  ", out) == 0)
        fprintf(out, "    (none)\n");
    H5Gclose(g);
}
