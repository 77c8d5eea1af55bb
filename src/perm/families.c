/* The named generator families of generators.md section 1, built exactly as CayleyPy builds
 * them (same generator order, arrays and names), so that growth rows compare one by one.
 *
 * Notation as in generators.md: id(a,b) appends a, a+1, ..., b-1; rev(a,b) appends b-1, ..., a.
 * Most arrays are written by appending such blocks in the order the table lists them, so each
 * builder can be read side by side with its table row. */
#include "symbatch/perm.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* ---- building blocks -------------------------------------------------------------------- */

static uint8_t *row_of(uint8_t *perm, int m, int g)
{
    return perm + (size_t)g * (size_t)m;
}

static void set_identity(uint8_t *p, int m)
{
    for (int i = 0; i < m; i++)
        p[i] = (uint8_t)i;
}

/* transposition(n, i, j) */
static void set_swap(uint8_t *p, int m, int i, int j)
{
    set_identity(p, m);
    p[i] = (uint8_t)j;
    p[j] = (uint8_t)i;
}

/* permutation_from_cycles(n, [c]): p[c_j] = c_{(j+1) mod len}, identity elsewhere. */
static void set_cycle(uint8_t *p, int m, const int *c, int len)
{
    set_identity(p, m);
    for (int j = 0; j < len; j++)
        p[c[j]] = (uint8_t)c[(j + 1) % len];
}

/* The cycle a, a+1, ..., b-1 (b - a >= 1). */
static void set_run_cycle(uint8_t *p, int m, int a, int b)
{
    set_identity(p, m);
    for (int i = a; i < b; i++)
        p[i] = (uint8_t)(i + 1 < b ? i + 1 : a);
}

/* Appends id(a, b) at *pos. */
static void put_id(uint8_t *p, int *pos, int a, int b)
{
    for (int v = a; v < b; v++)
        p[(*pos)++] = (uint8_t)v;
}

/* Appends rev(a, b) at *pos. */
static void put_rev(uint8_t *p, int *pos, int a, int b)
{
    for (int v = b - 1; v >= a; v--)
        p[(*pos)++] = (uint8_t)v;
}

static void name_fmt(char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void name_fmt(char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, SB_NAME_MAX, fmt, ap);
    va_end(ap);
}

/* CayleyPy's default name is the comma-joined array.  Past SB_NAME_MAX a cut-off array could
 * collide with another generator's name, so long arrays are named by index instead. */
static void name_default(char *name, const uint8_t *p, int m, int g)
{
    int len = 0;
    for (int i = 0; i < m; i++) {
        int w = snprintf(name + len, (size_t)(SB_NAME_MAX - len), i ? ",%d" : "%d", p[i]);
        if (w < 0 || len + w >= SB_NAME_MAX) {
            name_fmt(name, "g%d", g);
            return;
        }
        len += w;
    }
}

static void name_all_default(char (*names)[SB_NAME_MAX], uint8_t *perm, int m, int ngens)
{
    for (int g = 0; g < ngens; g++)
        name_default(names[g], row_of(perm, m, g), m, g);
}

/* C(n, k), saturated just above SB_MAX_GENS so callers can compare without overflow. */
static int binom_capped(int n, int k)
{
    if (k < 0 || k > n)
        return 0;
    if (k > n - k)
        k = n - k;
    long long r = 1;
    for (int i = 1; i <= k; i++) {
        r = r * (n - k + i) / i; /* C(n-k+i, i): exact and increasing in i */
        if (r > SB_MAX_GENS)
            return SB_MAX_GENS + 1;
    }
    return (int)r;
}

/* ---- counts shared by several families ------------------------------------------------- */

static int count_2(int n, int k)
{
    (void)n;
    (void)k;
    return 2;
}

static int count_3(int n, int k)
{
    (void)n;
    (void)k;
    return 3;
}

static int count_n(int n, int k)
{
    (void)k;
    return n;
}

static int count_n_minus_1(int n, int k)
{
    (void)k;
    return n - 1;
}

static int count_pairs(int n, int k)
{
    (void)k;
    return n * (n - 1) / 2;
}

/* ---- lrx, lx, top_spin, larx ------------------------------------------------------------ */

static void set_shift_left(uint8_t *p, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)((i + 1) % n);
}

static void set_shift_right(uint8_t *p, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)((i + n - 1) % n);
}

static int check_lrx(int n, int k, sb_diag *diag)
{
    if (k < 1 || k >= n)
        return sb_diag_fail(diag, "lrx: k must satisfy 1 <= k < n (got k = %d, n = %d)", k, n);
    return SB_OK;
}

static void build_lrx(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    set_shift_left(row_of(perm, n, 0), n);
    set_shift_right(row_of(perm, n, 1), n);
    set_swap(row_of(perm, n, 2), n, 0, k);
    name_fmt(names[0], "L");
    name_fmt(names[1], "R");
    name_fmt(names[2], "X");
}

static void build_lx(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    set_shift_left(row_of(perm, n, 0), n);
    set_swap(row_of(perm, n, 1), n, 0, 1);
    name_fmt(names[0], "L");
    name_fmt(names[1], "X");
}

static int check_top_spin(int n, int k, sb_diag *diag)
{
    if (k < 2 || k > n)
        return sb_diag_fail(diag, "top_spin: k must satisfy 2 <= k <= n (got k = %d, n = %d)", k,
                            n);
    return SB_OK;
}

static void build_top_spin(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    int pos = 0;
    set_shift_left(row_of(perm, n, 0), n);
    set_shift_right(row_of(perm, n, 1), n);
    put_rev(row_of(perm, n, 2), &pos, 0, k);
    put_id(row_of(perm, n, 2), &pos, k, n);
    name_all_default(names, perm, n, 3);
}

static void build_larx(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    set_swap(row_of(perm, n, 0), n, 0, 1);
    set_run_cycle(row_of(perm, n, 1), n, 1, n);
    name_all_default(names, perm, n, 2);
}

/* ---- transpositions: coxeter, cyclic_coxeter, all_transpositions, stars ---------------- */

static void build_coxeter(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    for (int i = 0; i + 1 < n; i++) {
        set_swap(row_of(perm, n, i), n, i, i + 1);
        name_fmt(names[i], "(%d,%d)", i, i + 1);
    }
}

static void build_cyclic_coxeter(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    build_coxeter(n, k, perm, names);
    set_swap(row_of(perm, n, n - 1), n, 0, n - 1);
    name_fmt(names[n - 1], "(0,%d)", n - 1);
}

static void build_all_transpositions(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++, g++) {
            set_swap(row_of(perm, n, g), n, i, j);
            name_fmt(names[g], "(%d,%d)", i, j);
        }
}

static void build_stars(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    for (int i = 1; i < n; i++) {
        set_swap(row_of(perm, n, i - 1), n, 0, i);
        name_fmt(names[i - 1], "S%d", i);
    }
}

static int check_generalized_stars(int n, int k, sb_diag *diag)
{
    if (k < 1 || k >= n)
        return sb_diag_fail(
            diag, "generalized_stars: k must satisfy 1 <= k < n (got k = %d, n = %d)", k, n);
    return SB_OK;
}

static int count_generalized_stars(int n, int k)
{
    return k * (n - k);
}

static void build_generalized_stars(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    int g = 0;
    for (int i = 0; i < k; i++)
        for (int j = k; j < n; j++)
            set_swap(row_of(perm, n, g++), n, i, j);
    name_all_default(names, perm, n, g);
}

/* ---- prefix reversals: pancake, cubic_pancake, burnt_pancake ---------------------------- */

/* pg(len) = rev(0, len) + id(len, n).  len 0 and 1 give the identity, as in CayleyPy. */
static void set_prefix_reversal(uint8_t *p, int n, int len)
{
    int pos = 0;
    put_rev(p, &pos, 0, len);
    put_id(p, &pos, len, n);
}

static void build_pancake(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    for (int len = 2; len <= n; len++) {
        set_prefix_reversal(row_of(perm, n, len - 2), n, len);
        name_fmt(names[len - 2], "R%d", len - 1);
    }
}

/* The prefix lengths of cubic_pancake's subsets 1..7, as offsets: a value v <= 0 means n + v. */
static const int cubic_subsets[7][3] = {
    {0, -1, 2}, {0, -1, 3}, {0, -1, -2}, {0, -1, -3}, {0, -2, 2}, {0, -2, 3}, {0, -2, -3},
};

static int cubic_length(int n, int v)
{
    return v <= 0 ? n + v : v;
}

static int check_cubic_pancake(int n, int k, sb_diag *diag)
{
    if (k < 1 || k > 7)
        return sb_diag_fail(
            diag, "cubic_pancake: k (the subset) must satisfy 1 <= k <= 7 (got k = %d)", k);
    for (int j = 0; j < 3; j++)
        if (cubic_length(n, cubic_subsets[k - 1][j]) > n ||
            cubic_length(n, cubic_subsets[k - 1][j]) < 0)
            return sb_diag_fail(diag, "cubic_pancake: subset k = %d needs n >= 3 (got n = %d)", k,
                                n);
    return SB_OK;
}

static void build_cubic_pancake(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    for (int j = 0; j < 3; j++) {
        int len = cubic_length(n, cubic_subsets[k - 1][j]);
        set_prefix_reversal(row_of(perm, n, j), n, len);
        name_fmt(names[j], "R%d", len); /* the prefix length, unlike pancake */
    }
}

static void build_burnt_pancake(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    for (int j = 0; j < n; j++) {
        uint8_t *p = row_of(perm, 2 * n, j);
        int pos = 0;
        put_rev(p, &pos, n, n + j + 1);
        put_id(p, &pos, j + 1, n);
        put_rev(p, &pos, 0, j + 1);
        put_id(p, &pos, n + j + 1, 2 * n);
        name_fmt(names[j], "R%d", j + 1);
    }
}

/* ---- substring reversals: full_reversals, signed_reversals ------------------------------ */

static void build_full_reversals(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++, g++) {
            uint8_t *p = row_of(perm, n, g);
            int pos = 0;
            put_id(p, &pos, 0, i);
            put_rev(p, &pos, i, j + 1);
            put_id(p, &pos, j + 1, n);
            name_fmt(names[g], "R[%d..%d]", i, j);
        }
}

static int count_signed_reversals(int n, int k)
{
    (void)k;
    return n * (n + 1) / 2;
}

static void build_signed_reversals(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++, g++) {
            uint8_t *p = row_of(perm, 2 * n, g);
            int pos = 0;
            put_id(p, &pos, 0, i);
            put_rev(p, &pos, n + i, n + j + 1);
            put_id(p, &pos, j + 1, n);
            put_id(p, &pos, n, n + i);
            put_rev(p, &pos, i, j + 1);
            put_id(p, &pos, n + j + 1, 2 * n);
            name_fmt(names[g], "R[%d..%d]", i, j);
        }
}

/* ---- block moves: transposons, block_interchange ---------------------------------------- */

static int count_transposons(int n, int k)
{
    (void)k;
    return binom_capped(n + 1, 3);
}

static void build_transposons(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            for (int e = j; e < n; e++, g++) {
                uint8_t *p = row_of(perm, n, g);
                int pos = 0;
                put_id(p, &pos, 0, i);
                put_id(p, &pos, j, e + 1);
                put_id(p, &pos, i, j);
                put_id(p, &pos, e + 1, n);
                name_fmt(names[g], "T[%d..%d,%d]", i, j - 1, e);
            }
}

static int count_block_interchange(int n, int k)
{
    (void)k;
    return binom_capped(n + 2, 4);
}

/* One interchange: blocks [i, j) and [c, l) swap places (i < j <= c < l <= n). */
static void set_interchange(uint8_t *p, int n, int i, int j, int c, int l)
{
    int pos = 0;
    put_id(p, &pos, 0, i);
    put_id(p, &pos, c, l);
    put_id(p, &pos, j, c);
    put_id(p, &pos, i, j);
    put_id(p, &pos, l, n);
}

static void build_block_interchange(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j <= n; j++)
            for (int c = j; c < n; c++)
                for (int l = c + 1; l <= n; l++, g++) {
                    set_interchange(row_of(perm, n, g), n, i, j, c, l);
                    name_fmt(names[g], "I[%d..%d,%d..%d]", i, j - 1, c, l - 1);
                }
}

/* ---- 3-cycles: three_cycles, three_cycles_0ij, three_cycles_01i ------------------------ */

static int count_three_cycles(int n, int k)
{
    (void)k;
    return n * (n - 1) * (n - 2) / 3;
}

static void put_three_cycle(uint8_t *perm, char (*names)[SB_NAME_MAX], int n, int g, int a, int b,
                            int c)
{
    const int cyc[3] = {a, b, c};
    set_cycle(row_of(perm, n, g), n, cyc, 3);
    name_fmt(names[g], "(%d %d %d)", a, b, c);
}

/* itertools.permutations(range(n), 3) filtered to a < b and a < c. */
static void build_three_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            for (int c = a + 1; c < n; c++)
                if (c != b)
                    put_three_cycle(perm, names, n, g++, a, b, c);
}

static int count_three_cycles_0ij(int n, int k)
{
    (void)k;
    return (n - 1) * (n - 2);
}

static void build_three_cycles_0ij(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int i = 1; i < n; i++)
        for (int j = 1; j < n; j++)
            if (j != i)
                put_three_cycle(perm, names, n, g++, 0, i, j);
}

static int check_add_inverses(const char *family, int k, sb_diag *diag)
{
    if (k != 0 && k != 1)
        return sb_diag_fail(diag, "%s: k (add_inverses) must be 0 or 1 (got k = %d)", family, k);
    return SB_OK;
}

static int check_three_cycles_01i(int n, int k, sb_diag *diag)
{
    (void)n;
    return check_add_inverses("three_cycles_01i", k, diag);
}

static int count_three_cycles_01i(int n, int k)
{
    return (k ? 2 : 1) * (n - 2);
}

static void build_three_cycles_01i(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    int g = 0;
    for (int i = 2; i < n; i++) {
        put_three_cycle(perm, names, n, g++, 0, 1, i);
        if (k) /* the inverse right after its generator */
            put_three_cycle(perm, names, n, g++, 1, 0, i);
    }
}

/* ---- derangements, involutive_derangements --------------------------------------------- */

static int count_derangements(int n, int k)
{
    (void)k;
    int prev = 1, d = 0; /* D(0), D(1); then D(i) = (i - 1)(D(i-1) + D(i-2)) */
    for (int i = 2; i <= n; i++) {
        int next = (i - 1) * (d + prev);
        prev = d;
        d = next;
    }
    return n == 0 ? prev : d;
}

/* Advances p (length n) to the next permutation in lexicographic (itertools) order. */
static bool next_permutation(int *p, int n)
{
    int i = n - 2;
    while (i >= 0 && p[i] > p[i + 1])
        i--;
    if (i < 0)
        return false;
    int j = n - 1;
    while (p[j] < p[i])
        j--;
    int t = p[i];
    p[i] = p[j];
    p[j] = t;
    for (int a = i + 1, b = n - 1; a < b; a++, b--) {
        t = p[a];
        p[a] = p[b];
        p[b] = t;
    }
    return true;
}

static bool is_derangement(const int *p, int n)
{
    for (int i = 0; i < n; i++)
        if (p[i] == i)
            return false;
    return true;
}

static void build_derangements(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int p[SB_MAX_ELEMS];
    for (int i = 0; i < n; i++)
        p[i] = i;
    int g = 0;
    long idx = 0; /* index in the full permutation list: the name CayleyPy gives */
    do {
        if (is_derangement(p, n)) {
            uint8_t *r = row_of(perm, n, g);
            for (int i = 0; i < n; i++)
                r[i] = (uint8_t)p[i];
            name_fmt(names[g++], "D%ld", idx);
        }
        idx++;
    } while (next_permutation(p, n));
}

static int check_involutive_derangements(int n, int k, sb_diag *diag)
{
    (void)k;
    if (n % 2 != 0)
        return sb_diag_fail(diag, "involutive_derangements: n must be even (got n = %d)", n);
    return SB_OK;
}

static int count_involutive_derangements(int n, int k)
{
    (void)k;
    int r = 1;
    for (int i = n - 1; i > 1; i -= 2)
        r *= i;
    return r;
}

/* Emits every perfect matching of the elements not yet in cur (cur[i] == i means unmatched):
 * the first free element is paired with each later free one in turn, then recursion. */
static void matchings(int n, uint8_t *cur, uint8_t *perm, int *g)
{
    int a = 0;
    while (a < n && cur[a] != a)
        a++;
    if (a == n) {
        memcpy(row_of(perm, n, (*g)++), cur, (size_t)n);
        return;
    }
    for (int b = a + 1; b < n; b++) {
        if (cur[b] != b)
            continue;
        cur[a] = (uint8_t)b;
        cur[b] = (uint8_t)a;
        matchings(n, cur, perm, g);
        cur[a] = (uint8_t)a;
        cur[b] = (uint8_t)b;
    }
}

static void build_involutive_derangements(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    uint8_t cur[SB_MAX_ELEMS];
    set_identity(cur, n);
    int g = 0;
    matchings(n, cur, perm, &g);
    name_all_default(names, perm, n, g);
}

/* ---- rapaport_m1, rapaport_m2 ---------------------------------------------------------- */

/* Identity with the pairs (s, s+1), (s+2, s+3), ... swapped, for `pairs` pairs. */
static void set_disjoint_swaps(uint8_t *p, int n, int s, int pairs)
{
    set_identity(p, n);
    for (int t = 0; t < pairs; t++) {
        p[s + 2 * t] = (uint8_t)(s + 2 * t + 1);
        p[s + 2 * t + 1] = (uint8_t)(s + 2 * t);
    }
}

static int count_rapaport_m1(int n, int k)
{
    (void)k;
    return n / 2 + (n - 1) / 2;
}

static void build_rapaport_m1(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int m = 1; m <= n / 2; m++, g++) {
        set_disjoint_swaps(row_of(perm, n, g), n, 0, m);
        name_fmt(names[g], "M1_0_%d", m);
    }
    for (int m = 1; m <= (n - 1) / 2; m++, g++) {
        set_disjoint_swaps(row_of(perm, n, g), n, 1, m);
        name_fmt(names[g], "M1_1_%d", m);
    }
}

static void build_rapaport_m2(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    set_swap(row_of(perm, n, 0), n, 0, 1);
    set_disjoint_swaps(row_of(perm, n, 1), n, 0, n / 2);
    set_disjoint_swaps(row_of(perm, n, 2), n, 1, (n - 1) / 2);
    name_fmt(names[0], "(0,1)");
    name_fmt(names[1], "EvenDisjTrans");
    name_fmt(names[2], "OddDisjTrans");
}

/* ---- all_cycles ------------------------------------------------------------------------- */

static int count_all_cycles(int n, int k)
{
    (void)k;
    long long total = 0;
    for (int len = 2; len <= n; len++) {
        long long c = binom_capped(n, len);
        for (int i = 2; i < len; i++)
            c *= i; /* (len - 1)! arrangements after the fixed minimum */
        total += c;
        if (total > SB_MAX_GENS)
            return SB_MAX_GENS + 1;
    }
    return (int)total;
}

/* Advances the k-subset c of 0..n-1 to the next one in itertools.combinations order. */
static bool next_combination(int *c, int k, int n)
{
    int i = k - 1;
    while (i >= 0 && c[i] == n - k + i)
        i--;
    if (i < 0)
        return false;
    c[i]++;
    for (int j = i + 1; j < k; j++)
        c[j] = c[j - 1] + 1;
    return true;
}

static void first_combination(int *c, int k)
{
    for (int i = 0; i < k; i++)
        c[i] = i;
}

/* Cycles on the subset c: its minimum first, the rest in every order (permutations order). */
static void emit_cycles_on(const int *c, int len, int n, uint8_t *perm, int *g)
{
    int order[SB_MAX_ELEMS], cyc[SB_MAX_ELEMS];
    for (int i = 0; i < len - 1; i++)
        order[i] = i;
    cyc[0] = c[0];
    do {
        for (int i = 0; i < len - 1; i++)
            cyc[i + 1] = c[1 + order[i]];
        set_cycle(row_of(perm, n, (*g)++), n, cyc, len);
    } while (next_permutation(order, len - 1));
}

static void build_all_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0, c[SB_MAX_ELEMS];
    for (int len = 2; len <= n; len++) {
        first_combination(c, len);
        do
            emit_cycles_on(c, len, n, perm, &g);
        while (next_combination(c, len, n));
    }
    name_all_default(names, perm, n, g);
}

/* ---- lsl_cycles ------------------------------------------------------------------------- */

static int check_lsl_cycles(int n, int k, sb_diag *diag)
{
    (void)n;
    return check_add_inverses("lsl_cycles", k, diag);
}

static int count_lsl_cycles(int n, int k)
{
    (void)n;
    return k ? 4 : 2;
}

static void invert_into(uint8_t *q, const uint8_t *p, int m)
{
    for (int i = 0; i < m; i++)
        q[p[i]] = (uint8_t)i;
}

static void build_lsl_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    set_run_cycle(row_of(perm, n, 0), n, 0, n);
    set_run_cycle(row_of(perm, n, 1), n, 1, n);
    name_fmt(names[0], "L");
    name_fmt(names[1], "S");
    if (!k)
        return;
    invert_into(row_of(perm, n, 2), row_of(perm, n, 0), n);
    invert_into(row_of(perm, n, 3), row_of(perm, n, 1), n);
    name_fmt(names[2], "L'");
    name_fmt(names[3], "S'");
}

/* ---- k-cycles: wrapped, consecutive, increasing ---------------------------------------- */

static int check_k_cycle(const char *family, int n, int k, sb_diag *diag)
{
    if (k < 2 || k > n)
        return sb_diag_fail(diag, "%s: k must satisfy 2 <= k <= n (got k = %d, n = %d)", family, k,
                            n);
    return SB_OK;
}

static int check_wrapped_k_cycles(int n, int k, sb_diag *diag)
{
    return check_k_cycle("wrapped_k_cycles", n, k, diag);
}

static int check_consecutive_k_cycles(int n, int k, sb_diag *diag)
{
    return check_k_cycle("consecutive_k_cycles", n, k, diag);
}

static int check_increasing_k_cycles(int n, int k, sb_diag *diag)
{
    int rc = check_k_cycle("increasing_k_cycles", n, k, diag);
    if (rc == SB_OK && binom_capped(n, k) > SB_MAX_GENS)
        rc = sb_diag_fail(diag,
                          "increasing_k_cycles: C(n, k) generators exceed the limit of %d (n = %d, "
                          "k = %d)",
                          SB_MAX_GENS, n, k);
    return rc;
}

static void build_wrapped_k_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    int cyc[SB_MAX_ELEMS];
    for (int start = 0; start < n; start++) {
        for (int j = 0; j < k; j++)
            cyc[j] = (start + j) % n;
        set_cycle(row_of(perm, n, start), n, cyc, k);
    }
    name_all_default(names, perm, n, n);
}

static int count_consecutive_k_cycles(int n, int k)
{
    return n - k + 1;
}

static void build_consecutive_k_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    for (int i = 0; i + k <= n; i++)
        set_run_cycle(row_of(perm, n, i), n, i, i + k);
    name_all_default(names, perm, n, n - k + 1);
}

static int count_increasing_k_cycles(int n, int k)
{
    return binom_capped(n, k);
}

static void build_increasing_k_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    int c[SB_MAX_ELEMS], g = 0;
    first_combination(c, k);
    do
        set_cycle(row_of(perm, n, g++), n, c, k);
    while (next_combination(c, k, n));
    name_all_default(names, perm, n, g);
}

/* ---- down_cycles, prefix_cycles --------------------------------------------------------- */

static void build_down_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int g = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            set_run_cycle(row_of(perm, n, g++), n, i, j + 1);
    name_all_default(names, perm, n, g);
}

static void build_prefix_cycles(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    for (int j = 2; j <= n; j++)
        set_run_cycle(row_of(perm, n, j - 2), n, 0, j);
    name_all_default(names, perm, n, n - 1);
}

/* ---- the table -------------------------------------------------------------------------- */

static const sb_family fam_lrx = {
    .name = "lrx",
    .params = "n >= 3, 1 <= k < n: X swaps positions 0 and k (default k = 1)",
    .group = "S_n",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 1,
    .check = check_lrx,
    .count = count_3,
    .build = build_lrx,
};

static const sb_family fam_lx = {
    .name = "lx",
    .params = "n >= 3",
    .group = "S_n (directed: not inverse-closed)",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .count = count_2,
    .build = build_lx,
};

static const sb_family fam_top_spin = {
    .name = "top_spin",
    .params = "n >= k >= 2: reverse the first k (default k = 4)",
    .group = "k = 4: S_n for even n >= 6, A_n for odd n >= 7; 8 states for n = 4, 10 for n = 5",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 4,
    .check = check_top_spin,
    .count = count_3,
    .build = build_top_spin,
};

static const sb_family fam_coxeter = {
    .name = "coxeter",
    .params = "n >= 2",
    .group = "S_n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_n_minus_1,
    .build = build_coxeter,
};

static const sb_family fam_cyclic_coxeter = {
    .name = "cyclic_coxeter",
    .params = "n >= 2",
    .group = "S_n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_n,
    .build = build_cyclic_coxeter,
};

static const sb_family fam_pancake = {
    .name = "pancake",
    .params = "n >= 2",
    .group = "S_n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_n_minus_1,
    .build = build_pancake,
};

static const sb_family fam_cubic_pancake = {
    .name = "cubic_pancake",
    .params = "n >= 2, k = subset in 1..7 (default k = 1; CayleyPy has no default); "
              "subsets 2, 4, 6, 7 need n >= 3",
    .group = "S_n or a proper subgroup, depending on n and the subset",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 1,
    .check = check_cubic_pancake,
    .count = count_3,
    .build = build_cubic_pancake,
};

static const sb_family fam_burnt_pancake = {
    .name = "burnt_pancake",
    .params = "1 <= n <= 127 (state length 2n)",
    .group = "B_n: 2^n n! signed states",
    .min_n = 1,
    .max_n = SB_MAX_ELEMS / 2,
    .signed_states = true,
    .count = count_n,
    .build = build_burnt_pancake,
};

static const sb_family fam_full_reversals = {
    .name = "full_reversals",
    .params = "n >= 2",
    .group = "S_n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_pairs,
    .build = build_full_reversals,
};

static const sb_family fam_signed_reversals = {
    .name = "signed_reversals",
    .params = "1 <= n <= 127 (state length 2n)",
    .group = "B_n: 2^n n! signed states",
    .min_n = 1,
    .max_n = SB_MAX_ELEMS / 2,
    .signed_states = true,
    .count = count_signed_reversals,
    .build = build_signed_reversals,
};

static const sb_family fam_all_transpositions = {
    .name = "all_transpositions",
    .params = "n >= 2",
    .group = "S_n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_pairs,
    .build = build_all_transpositions,
};

static const sb_family fam_stars = {
    .name = "stars",
    .params = "n >= 3",
    .group = "S_n",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .count = count_n_minus_1,
    .build = build_stars,
};

static const sb_family fam_generalized_stars = {
    .name = "generalized_stars",
    .params = "n >= 2, 1 <= k < n: swaps (i, j) for i < k <= j (default k = 1)",
    .group = "S_n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 1,
    .check = check_generalized_stars,
    .count = count_generalized_stars,
    .build = build_generalized_stars,
};

static const sb_family fam_transposons = {
    .name = "transposons",
    .params = "2 <= n <= 84 (C(n+1,3) generators)",
    .group = "S_n",
    .min_n = 2,
    .max_n = 84,
    .count = count_transposons,
    .build = build_transposons,
};

static const sb_family fam_block_interchange = {
    .name = "block_interchange",
    .params = "2 <= n <= 38 (C(n+2,4) generators)",
    .group = "S_n",
    .min_n = 2,
    .max_n = 38,
    .count = count_block_interchange,
    .build = build_block_interchange,
};

static const sb_family fam_three_cycles = {
    .name = "three_cycles",
    .params = "3 <= n <= 67 (n(n-1)(n-2)/3 generators)",
    .group = "A_n",
    .min_n = 3,
    .max_n = 67,
    .count = count_three_cycles,
    .build = build_three_cycles,
};

static const sb_family fam_three_cycles_0ij = {
    .name = "three_cycles_0ij",
    .params = "n >= 3",
    .group = "A_n",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .count = count_three_cycles_0ij,
    .build = build_three_cycles_0ij,
};

static const sb_family fam_three_cycles_01i = {
    .name = "three_cycles_01i",
    .params = "n >= 3, k = add_inverses: 1 adds each inverse right after its cycle (default), "
              "0 does not (then the set is not inverse-closed)",
    .group = "A_n",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 1,
    .check = check_three_cycles_01i,
    .count = count_three_cycles_01i,
    .build = build_three_cycles_01i,
};

static const sb_family fam_derangements = {
    .name = "derangements",
    .params = "2 <= n <= 8 (D(n) generators)",
    .group = "S_n (A_3 for n = 3)",
    .min_n = 2,
    .max_n = 8,
    .count = count_derangements,
    .build = build_derangements,
};

static const sb_family fam_involutive_derangements = {
    .name = "involutive_derangements",
    .params = "even n, 2 <= n <= 12 ((n-1)!! generators)",
    .group = "S_n for n = 2 mod 4, A_n for n = 0 mod 4 and n >= 8; Klein four-group for n = 4",
    .min_n = 2,
    .max_n = 12,
    .check = check_involutive_derangements,
    .count = count_involutive_derangements,
    .build = build_involutive_derangements,
};

static const sb_family fam_rapaport_m1 = {
    .name = "rapaport_m1",
    .params = "n >= 2",
    .group = "S_n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_rapaport_m1,
    .build = build_rapaport_m1,
};

static const sb_family fam_rapaport_m2 = {
    .name = "rapaport_m2",
    .params = "n >= 3",
    .group = "S_n",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .count = count_3,
    .build = build_rapaport_m2,
};

static const sb_family fam_all_cycles = {
    .name = "all_cycles",
    .params = "2 <= n <= 8 (sum of C(n,k)(k-1)! generators)",
    .group = "S_n",
    .min_n = 2,
    .max_n = 8,
    .count = count_all_cycles,
    .build = build_all_cycles,
};

static const sb_family fam_lsl_cycles = {
    .name = "lsl_cycles",
    .params = "n >= 3, k = add_inverses: 1 appends L^-1, S^-1 (default), 0 does not "
              "(then the set is not inverse-closed)",
    .group = "S_n",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 1,
    .check = check_lsl_cycles,
    .count = count_lsl_cycles,
    .build = build_lsl_cycles,
};

static const sb_family fam_wrapped_k_cycles = {
    .name = "wrapped_k_cycles",
    .params = "n >= 2, 2 <= k <= n: cycle length (default k = 3)",
    .group = "A_n for odd k, S_n for even k (k < n); k = n: cyclic of order n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 3,
    .check = check_wrapped_k_cycles,
    .count = count_n,
    .build = build_wrapped_k_cycles,
};

static const sb_family fam_consecutive_k_cycles = {
    .name = "consecutive_k_cycles",
    .params = "n >= 2, 2 <= k <= n: cycle length (default k = 3)",
    .group = "A_n for odd k, S_n for even k (k < n); k = n: cyclic of order n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 3,
    .check = check_consecutive_k_cycles,
    .count = count_consecutive_k_cycles,
    .build = build_consecutive_k_cycles,
};

static const sb_family fam_increasing_k_cycles = {
    .name = "increasing_k_cycles",
    .params = "n >= 2, 2 <= k <= n: cycle length (default k = 3), C(n,k) <= 100000",
    .group = "A_n for odd k, S_n for even k (k < n); k = n: cyclic of order n",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .takes_k = true,
    .k_default = 3,
    .check = check_increasing_k_cycles,
    .count = count_increasing_k_cycles,
    .build = build_increasing_k_cycles,
};

static const sb_family fam_down_cycles = {
    .name = "down_cycles",
    .params = "n >= 2",
    .group = "S_n (directed: not inverse-closed)",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_pairs,
    .build = build_down_cycles,
};

static const sb_family fam_prefix_cycles = {
    .name = "prefix_cycles",
    .params = "n >= 2",
    .group = "S_n (directed: not inverse-closed)",
    .min_n = 2,
    .max_n = SB_MAX_ELEMS,
    .count = count_n_minus_1,
    .build = build_prefix_cycles,
};

static const sb_family fam_larx = {
    .name = "larx",
    .params = "n >= 3",
    .group = "S_n (directed: not inverse-closed)",
    .min_n = 3,
    .max_n = SB_MAX_ELEMS,
    .count = count_2,
    .build = build_larx,
};

static const sb_family *const families[] = {
    &fam_lrx,
    &fam_lx,
    &fam_top_spin,
    &fam_coxeter,
    &fam_cyclic_coxeter,
    &fam_pancake,
    &fam_cubic_pancake,
    &fam_burnt_pancake,
    &fam_full_reversals,
    &fam_signed_reversals,
    &fam_all_transpositions,
    &fam_stars,
    &fam_generalized_stars,
    &fam_transposons,
    &fam_block_interchange,
    &fam_three_cycles,
    &fam_three_cycles_0ij,
    &fam_three_cycles_01i,
    &fam_derangements,
    &fam_involutive_derangements,
    &fam_rapaport_m1,
    &fam_rapaport_m2,
    &fam_all_cycles,
    &fam_lsl_cycles,
    &fam_wrapped_k_cycles,
    &fam_consecutive_k_cycles,
    &fam_increasing_k_cycles,
    &fam_down_cycles,
    &fam_prefix_cycles,
    &fam_larx,
    NULL,
};

const sb_family *const *sb_families(void)
{
    return families;
}

static const sb_family *find_in(const sb_family *const *table, const char *name)
{
    for (const sb_family *const *f = table; *f; f++)
        if (strcmp((*f)->name, name) == 0)
            return *f;
    return NULL;
}

/* The puzzles (src/perm/puzzles.c) are a second table: callers that walk sb_families() assume
 * n elements per state, which facelet sets do not have. */
const sb_family *sb_family_find(const char *name)
{
    if (!name)
        return NULL;
    const sb_family *f = find_in(families, name);
    return f ? f : find_in(sb_puzzle_families(), name);
}

int sb_family_state_len(const sb_family *f, int n, int k)
{
    if (f->state_len)
        return f->state_len(n, k);
    return f->signed_states ? 2 * n : n;
}

bool sb_genset_default_central(const sb_genset *gs, uint8_t *out)
{
    const sb_family *f = gs ? sb_family_find(gs->family) : NULL;
    if (!f || !f->central || sb_family_state_len(f, gs->n, gs->k) != gs->m)
        return false;
    f->central(gs->n, gs->k, out);
    return true;
}
