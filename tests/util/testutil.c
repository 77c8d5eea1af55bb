#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *oracle_folder(void)
{
    const char *dir = getenv("SB_ORACLES");
    struct stat st;
    if (!dir || !*dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return dir;
}

int oracle_row(const char *file, const char *key, uint64_t **row, int *len)
{
    const char *dir = getenv("SB_ORACLES");
    if (!dir)
        return -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int found = 0;
    size_t klen = strlen(key);
    while (!found && getline(&line, &cap, f) > 0) {
        if (strncmp(line, key, klen) != 0 || line[klen] != ',')
            continue;
        found = 1;
        int n = 0, ncap = 16;
        uint64_t *v = malloc(ncap * sizeof *v);
        for (char *p = strchr(line + klen, '['); p && *p && *p != ']';) {
            p++;
            char *end;
            unsigned long long x = strtoull(p, &end, 10);
            if (end == p)
                break;
            if (n == ncap)
                v = realloc(v, (ncap *= 2) * sizeof *v);
            v[n++] = x;
            p = end;
            while (*p == ' ')
                p++;
            if (*p != ',')
                break;
        }
        *row = v;
        *len = n;
    }
    free(line);
    fclose(f);
    return found;
}

uint64_t *mahonian_row(int n, int *len)
{
    int maxk = n * (n - 1) / 2;
    uint64_t *row = calloc(maxk + 1, sizeof *row), *next = calloc(maxk + 1, sizeof *row);
    row[0] = 1;
    /* Inserting element j into a permutation of j elements adds 0..j inversions. */
    for (int j = 1; j < n; j++) {
        memset(next, 0, (maxk + 1) * sizeof *next);
        for (int k = 0; k <= maxk; k++)
            for (int a = 0; a <= j && k + a <= maxk; a++)
                next[k + a] += row[k];
        memcpy(row, next, (maxk + 1) * sizeof *row);
    }
    free(next);
    *len = maxk + 1;
    return row;
}

uint64_t *stirling1_row(int n, int *len)
{
    /* c(i, j) = c(i-1, j-1) + (i-1) c(i-1, j) */
    uint64_t *c = calloc((n + 1) * (n + 1), sizeof *c);
    c[0] = 1;
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= i; j++)
            c[i * (n + 1) + j] = c[(i - 1) * (n + 1) + j - 1] + (i - 1) * c[(i - 1) * (n + 1) + j];
    uint64_t *row = malloc(n * sizeof *row);
    for (int k = 0; k < n; k++)
        row[k] = c[n * (n + 1) + (n - k)];
    free(c);
    *len = n;
    return row;
}

uint64_t factorial_u64(int n)
{
    uint64_t f = 1;
    for (int i = 2; i <= n; i++)
        f *= i;
    return f;
}
