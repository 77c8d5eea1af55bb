/* Written from generators.md section 1 alone: every builder below is one row of its table, read
 * with the notation there (id(a,b) = a..b-1, rev(a,b) = b-1..a, cycles p[c_j] = c_{j+1 mod len},
 * transposition(n,i,j) = identity with p[i] = j, p[j] = i).  Nothing here calls the library. */
#include "refgens.h"

#include <stdlib.h>
#include <string.h>

#define REF_MAX_M 255

/* A set being built: rows are appended one by one; a failed allocation is remembered and the
 * rows after it go to a scratch row, so the builders need no error paths of their own. */
typedef struct rb {
    refgens *g;
    int failed;
    uint8_t scratch[REF_MAX_M];
} rb;

/* Appends the identity row and returns it for the builder to change. */
static uint8_t *add_row(rb *b)
{
    refgens *g = b->g;
    if (g->ngens == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        uint8_t *p = b->failed ? NULL : realloc(g->perm, (size_t)cap * (size_t)g->m);
        if (!p) {
            b->failed = 1;
            for (int i = 0; i < g->m; i++)
                b->scratch[i] = (uint8_t)i;
            return b->scratch;
        }
        g->perm = p;
        g->cap = cap;
    }
    uint8_t *row = g->perm + (size_t)g->ngens++ * (size_t)g->m;
    for (int i = 0; i < g->m; i++)
        row[i] = (uint8_t)i;
    return row;
}

static void add_swap(rb *b, int i, int j)
{
    uint8_t *p = add_row(b);
    p[i] = (uint8_t)j;
    p[j] = (uint8_t)i;
}

static void add_cycle(rb *b, const int *c, int len)
{
    uint8_t *p = add_row(b);
    for (int j = 0; j < len; j++)
        p[c[j]] = (uint8_t)c[(j + 1) % len];
}

/* The cycle [a, a+1, ..., b] (both ends included). */
static void add_run_cycle(rb *b, int first, int last)
{
    int c[REF_MAX_M];
    for (int v = first; v <= last; v++)
        c[v - first] = v;
    add_cycle(b, c, last - first + 1);
}

/* A row written as a concatenation of blocks: id(a,b) when up, rev(a,b) when not. */
typedef struct block {
    int a, b, up;
} block;

static void add_blocks(rb *b, const block *blocks, int nblocks)
{
    uint8_t *p = add_row(b);
    int pos = 0;
    for (int k = 0; k < nblocks; k++)
        for (int v = 0; v < blocks[k].b - blocks[k].a; v++)
            p[pos++] = (uint8_t)(blocks[k].up ? blocks[k].a + v : blocks[k].b - 1 - v);
}

/* Appends the inverse of row `back` rows before the end (1: the last row). */
static void add_inverse(rb *b, int back)
{
    refgens *g = b->g;
    uint8_t q[REF_MAX_M];
    const uint8_t *p = b->failed ? b->scratch : g->perm + (size_t)(g->ngens - back) * (size_t)g->m;
    for (int i = 0; i < g->m; i++)
        q[p[i]] = (uint8_t)i; /* inverse_permutation: q[p[i]] = i */
    memcpy(add_row(b), q, (size_t)g->m);
}

/* Lexicographic successor of a[0..len-1] (itertools.permutations order); 0 after the last. */
static int next_perm(int *a, int len)
{
    int i = len - 2;
    while (i >= 0 && a[i] >= a[i + 1])
        i--;
    if (i < 0)
        return 0;
    int j = len - 1;
    while (a[j] <= a[i])
        j--;
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
    for (int l = i + 1, r = len - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return 1;
}

/* Next k-subset of 0..n-1 in itertools.combinations order; 0 after the last. */
static int next_comb(int *c, int k, int n)
{
    int i = k - 1;
    while (i >= 0 && c[i] == n - k + i)
        i--;
    if (i < 0)
        return 0;
    c[i]++;
    for (int j = i + 1; j < k; j++)
        c[j] = c[j - 1] + 1;
    return 1;
}

/* ---- the table's rows, in its order ----------------------------------------------------- */

static int build_lrx(rb *b, int n, int k)
{
    if (n < 3 || k < 1 || k >= n)
        return -1;
    add_blocks(b, (block[]){{1, n, 1}, {0, 1, 1}}, 2); /* L = id(1,n)+[0] */
    add_blocks(b, (block[]){{n - 1, n, 1}, {0, n - 1, 1}}, 2);
    add_swap(b, 0, k);
    return 0;
}

static int build_lx(rb *b, int n, int k)
{
    (void)k;
    if (n < 3)
        return -1;
    add_blocks(b, (block[]){{1, n, 1}, {0, 1, 1}}, 2);
    add_swap(b, 0, 1);
    return 0;
}

static int build_top_spin(rb *b, int n, int k)
{
    if (k < 2 || k > n)
        return -1;
    add_blocks(b, (block[]){{1, n, 1}, {0, 1, 1}}, 2);
    add_blocks(b, (block[]){{n - 1, n, 1}, {0, n - 1, 1}}, 2);
    add_blocks(b, (block[]){{0, k, 0}, {k, n, 1}}, 2);
    return 0;
}

static int build_coxeter(rb *b, int n, int k)
{
    (void)k;
    for (int i = 0; i + 1 < n; i++)
        add_swap(b, i, i + 1);
    return n >= 2 ? 0 : -1;
}

static int build_cyclic_coxeter(rb *b, int n, int k)
{
    int rc = build_coxeter(b, n, k);
    add_swap(b, 0, n - 1);
    return rc;
}

static void add_prefix_reversal(rb *b, int n, int len)
{
    add_blocks(b, (block[]){{0, len, 0}, {len, n, 1}}, 2);
}

static int build_pancake(rb *b, int n, int k)
{
    (void)k;
    for (int len = 2; len <= n; len++)
        add_prefix_reversal(b, n, len);
    return n >= 2 ? 0 : -1;
}

static int build_cubic_pancake(rb *b, int n, int k)
{
    /* subset s: {pg(n), pg(n - a), pg(c)} with c = 2, 3 or n - d, from the table's list */
    static const int second[8] = {0, 1, 1, 1, 1, 2, 2, 2};
    static const int third[8] = {0, 2, 3, -2, -3, 2, 3, -3}; /* negative: n minus that */
    if (k < 1 || k > 7)
        return -1;
    int last = third[k] > 0 ? third[k] : n + third[k];
    if (last < 0 || last > n || n - second[k] < 0)
        return -1;
    add_prefix_reversal(b, n, n);
    add_prefix_reversal(b, n, n - second[k]);
    add_prefix_reversal(b, n, last);
    return 0;
}

static int build_burnt_pancake(rb *b, int n, int k)
{
    (void)k;
    for (int j = 0; j < n; j++)
        add_blocks(
            b, (block[]){{n, n + j + 1, 0}, {j + 1, n, 1}, {0, j + 1, 0}, {n + j + 1, 2 * n, 1}},
            4);
    return 0;
}

static int build_full_reversals(rb *b, int n, int k)
{
    (void)k;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            add_blocks(b, (block[]){{0, i, 1}, {i, j + 1, 0}, {j + 1, n, 1}}, 3);
    return 0;
}

static int build_signed_reversals(rb *b, int n, int k)
{
    (void)k;
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++)
            add_blocks(b,
                       (block[]){{0, i, 1},
                                 {n + i, n + j + 1, 0},
                                 {j + 1, n, 1},
                                 {n, n + i, 1},
                                 {i, j + 1, 0},
                                 {n + j + 1, 2 * n, 1}},
                       6);
    return 0;
}

static int build_all_transpositions(rb *b, int n, int k)
{
    (void)k;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            add_swap(b, i, j);
    return 0;
}

static int build_stars(rb *b, int n, int k)
{
    (void)k;
    for (int i = 1; i < n; i++)
        add_swap(b, 0, i);
    return 0;
}

static int build_generalized_stars(rb *b, int n, int k)
{
    if (k < 1 || k >= n)
        return -1;
    for (int i = 0; i < k; i++)
        for (int j = k; j < n; j++)
            add_swap(b, i, j);
    return 0;
}

static int build_transposons(rb *b, int n, int k)
{
    (void)k;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            for (int l = j; l < n; l++) /* the table's k */
                add_blocks(b, (block[]){{0, i, 1}, {j, l + 1, 1}, {i, j, 1}, {l + 1, n, 1}}, 4);
    return 0;
}

static int build_block_interchange(rb *b, int n, int k)
{
    (void)k;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j <= n; j++)
            for (int kk = j; kk <= n; kk++)
                for (int l = kk + 1; l <= n; l++)
                    add_blocks(
                        b, (block[]){{0, i, 1}, {kk, l, 1}, {j, kk, 1}, {i, j, 1}, {l, n, 1}}, 5);
    return 0;
}

static int build_three_cycles(rb *b, int n, int k)
{
    (void)k;
    for (int a = 0; a < n; a++)
        for (int x = 0; x < n; x++)
            for (int y = 0; y < n; y++)
                if (x != a && y != a && y != x && a < x && a < y)
                    add_cycle(b, (int[]){a, x, y}, 3);
    return n >= 3 ? 0 : -1;
}

static int build_three_cycles_0ij(rb *b, int n, int k)
{
    (void)k;
    for (int i = 1; i < n; i++)
        for (int j = 1; j < n; j++)
            if (i != j)
                add_cycle(b, (int[]){0, i, j}, 3);
    return n >= 3 ? 0 : -1;
}

static int build_three_cycles_01i(rb *b, int n, int k)
{
    if (k != 0 && k != 1)
        return -1;
    for (int i = 2; i < n; i++) {
        add_cycle(b, (int[]){0, 1, i}, 3);
        if (k)
            add_inverse(b, 1);
    }
    return n >= 3 ? 0 : -1;
}

static int build_derangements(rb *b, int n, int k)
{
    (void)k;
    int a[REF_MAX_M];
    for (int i = 0; i < n; i++)
        a[i] = i;
    do {
        int fixed = 0;
        for (int i = 0; i < n; i++)
            fixed += a[i] == i;
        if (fixed)
            continue;
        uint8_t *p = add_row(b);
        for (int i = 0; i < n; i++)
            p[i] = (uint8_t)a[i];
    } while (next_perm(a, n));
    return n >= 2 ? 0 : -1;
}

/* Perfect matchings: the first element left unpaired goes with each later one in turn. */
static void matchings(rb *b, int *mate, int n)
{
    int first = 0;
    while (first < n && mate[first] >= 0)
        first++;
    if (first == n) {
        uint8_t *p = add_row(b);
        for (int i = 0; i < n; i++)
            p[i] = (uint8_t)mate[i];
        return;
    }
    for (int j = first + 1; j < n; j++) {
        if (mate[j] >= 0)
            continue;
        mate[first] = j;
        mate[j] = first;
        matchings(b, mate, n);
        mate[first] = mate[j] = -1;
    }
}

static int build_involutive_derangements(rb *b, int n, int k)
{
    (void)k;
    if (n % 2)
        return -1;
    int mate[REF_MAX_M];
    for (int i = 0; i < n; i++)
        mate[i] = -1;
    matchings(b, mate, n);
    return 0;
}

/* The product of the swaps (s, s+1), (s+2, s+3), ... for `pairs` pairs. */
static void add_disjoint_swaps(rb *b, int start, int pairs)
{
    uint8_t *p = add_row(b);
    for (int t = 0; t < pairs; t++) {
        int i = start + 2 * t;
        p[i] = (uint8_t)(i + 1);
        p[i + 1] = (uint8_t)i;
    }
}

static int build_rapaport_m1(rb *b, int n, int k)
{
    (void)k;
    for (int m = 1; m <= n / 2; m++)
        add_disjoint_swaps(b, 0, m);
    for (int m = 1; m <= (n - 1) / 2; m++)
        add_disjoint_swaps(b, 1, m);
    return 0;
}

static int build_rapaport_m2(rb *b, int n, int k)
{
    (void)k;
    add_swap(b, 0, 1);
    add_disjoint_swaps(b, 0, n / 2);       /* (0,1)(2,3)... while 2t+1 < n */
    add_disjoint_swaps(b, 1, (n - 1) / 2); /* (1,2)(3,4)... while 2t+2 < n */
    return 0;
}

static int build_all_cycles(rb *b, int n, int k)
{
    (void)k;
    for (int len = 2; len <= n; len++) {
        int c[REF_MAX_M];
        for (int i = 0; i < len; i++)
            c[i] = i;
        do { /* the smallest element first, the others in every order */
            int cyc[REF_MAX_M];
            memcpy(cyc, c, (size_t)len * sizeof *c);
            do
                add_cycle(b, cyc, len);
            while (next_perm(cyc + 1, len - 1));
        } while (next_comb(c, len, n));
    }
    return 0;
}

static int build_lsl_cycles(rb *b, int n, int k)
{
    if (k != 0 && k != 1)
        return -1;
    add_run_cycle(b, 0, n - 1);
    add_run_cycle(b, 1, n - 1);
    if (k) {
        add_inverse(b, 2); /* L^-1 */
        add_inverse(b, 2); /* S^-1 */
    }
    return n >= 3 ? 0 : -1;
}

static int build_wrapped_k_cycles(rb *b, int n, int k)
{
    if (k < 2 || k > n)
        return -1;
    for (int start = 0; start < n; start++) {
        int c[REF_MAX_M];
        for (int j = 0; j < k; j++)
            c[j] = (start + j) % n;
        add_cycle(b, c, k);
    }
    return 0;
}

static int build_consecutive_k_cycles(rb *b, int n, int k)
{
    if (k < 2 || k > n)
        return -1;
    for (int i = 0; i + k <= n; i++)
        add_run_cycle(b, i, i + k - 1);
    return 0;
}

static int build_increasing_k_cycles(rb *b, int n, int k)
{
    if (k < 2 || k > n)
        return -1;
    int c[REF_MAX_M];
    for (int i = 0; i < k; i++)
        c[i] = i;
    do
        add_cycle(b, c, k);
    while (next_comb(c, k, n));
    return 0;
}

static int build_down_cycles(rb *b, int n, int k)
{
    (void)k;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            add_run_cycle(b, i, j);
    return 0;
}

static int build_prefix_cycles(rb *b, int n, int k)
{
    (void)k;
    for (int j = 2; j <= n; j++)
        add_run_cycle(b, 0, j - 1);
    return 0;
}

static int build_larx(rb *b, int n, int k)
{
    (void)k;
    if (n < 3)
        return -1;
    add_swap(b, 0, 1);
    add_blocks(b, (block[]){{0, 1, 1}, {2, n, 1}, {1, 2, 1}}, 3);
    return 0;
}

typedef struct refdef {
    const char *name;
    int (*build)(rb *b, int n, int k);
    int default_k; /* -1: the family takes no k (it is passed as 0) */
    int doubled;   /* state length 2n */
} refdef;

/* cubic_pancake, wrapped/consecutive/increasing_k_cycles have no default in generators.md;
 * symbatch documents 1 and 3 for them (README, `symbatch generators`). */
static const refdef defs[] = {
    {"lrx", build_lrx, 1, 0},
    {"lx", build_lx, -1, 0},
    {"top_spin", build_top_spin, 4, 0},
    {"coxeter", build_coxeter, -1, 0},
    {"cyclic_coxeter", build_cyclic_coxeter, -1, 0},
    {"pancake", build_pancake, -1, 0},
    {"cubic_pancake", build_cubic_pancake, 1, 0},
    {"burnt_pancake", build_burnt_pancake, -1, 1},
    {"full_reversals", build_full_reversals, -1, 0},
    {"signed_reversals", build_signed_reversals, -1, 1},
    {"all_transpositions", build_all_transpositions, -1, 0},
    {"stars", build_stars, -1, 0},
    {"generalized_stars", build_generalized_stars, 1, 0},
    {"transposons", build_transposons, -1, 0},
    {"block_interchange", build_block_interchange, -1, 0},
    {"three_cycles", build_three_cycles, -1, 0},
    {"three_cycles_0ij", build_three_cycles_0ij, -1, 0},
    {"three_cycles_01i", build_three_cycles_01i, 1, 0},
    {"derangements", build_derangements, -1, 0},
    {"involutive_derangements", build_involutive_derangements, -1, 0},
    {"rapaport_m1", build_rapaport_m1, -1, 0},
    {"rapaport_m2", build_rapaport_m2, -1, 0},
    {"all_cycles", build_all_cycles, -1, 0},
    {"lsl_cycles", build_lsl_cycles, 1, 0},
    {"wrapped_k_cycles", build_wrapped_k_cycles, 3, 0},
    {"consecutive_k_cycles", build_consecutive_k_cycles, 3, 0},
    {"increasing_k_cycles", build_increasing_k_cycles, 3, 0},
    {"down_cycles", build_down_cycles, -1, 0},
    {"prefix_cycles", build_prefix_cycles, -1, 0},
    {"larx", build_larx, -1, 0},
};

static const refdef *find_def(const char *family)
{
    for (size_t i = 0; family && i < sizeof defs / sizeof defs[0]; i++)
        if (strcmp(defs[i].name, family) == 0)
            return &defs[i];
    return NULL;
}

int refgens_default_k(const char *family, int k)
{
    const refdef *d = find_def(family);
    if (!d)
        return -1;
    if (k >= 0)
        return k;
    return d->default_k < 0 ? 0 : d->default_k;
}

int refgens_build(refgens *g, const char *family, int n, int k)
{
    memset(g, 0, sizeof *g);
    const refdef *d = find_def(family);
    if (!d || n < 1 || (d->doubled ? 2 * n : n) > REF_MAX_M)
        return -1;
    g->m = d->doubled ? 2 * n : n;
    rb b = {.g = g};
    int rc = d->build(&b, n, refgens_default_k(family, k));
    if (rc != 0 || b.failed || g->ngens == 0) {
        refgens_free(g);
        return -1;
    }
    return 0;
}

void refgens_free(refgens *g)
{
    free(g->perm);
    memset(g, 0, sizeof *g);
}
