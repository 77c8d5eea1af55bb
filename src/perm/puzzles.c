/* Twisty puzzles as generator families, built from their geometry (no pasted tables).
 *
 * A state lists the colours of the puzzle's facelets (stickers); a move is the rotation of a
 * layer of the solid, and its permutation maps sticker positions: a sticker at position q that
 * the turn carries to position r gives p[r] = q, so new[r] = old[q] (generators.md section 0).
 * Every family's default central state is the solved colouring (a facelet's value is its face),
 * so growth is that of the coset graph of colourings; a central_state of 0..m-1 gives the
 * Cayley graph of the group itself.  Facelets that no move touches (the centres of odd cubes,
 * of the megaminx) stay in the state as fixed points, so that facelet i is always the same
 * place on the solid.
 *
 *   cube_qtm, cube_htm (2 <= n <= 6, 6 n^2 facelets): for each face in the order U L F R B D,
 *     the single-layer turns at depth 0 .. floor(n/2) - 1 from that face (depth 0 = the face,
 *     depth d named (d+1)X, e.g. 2R).  The middle slice of an odd cube is left out, so the
 *     centre facelets never move and fix the frame; for n = 2, 3 these are the 6 face turns.
 *     qtm: X, X' per layer (12 for n = 2, 3; 24 for n = 4, 5); htm adds X2 (18; 36).
 *   cube_fixed_qtm, cube_fixed_htm (n = 2): turns of U, F, R only, so the corner between D, L
 *     and B never moves (3,674,160 colourings).
 *   pyraminx (2 <= n <= 7, 4 n^2 facelets): for each vertex U L R B of the tetrahedron and j =
 *     1 .. n-1, the turn of the j layers nearest that vertex by 120 degrees, both ways.  For
 *     n = 3 (the pyraminx) these are the tips u l r b and the vertex turns U L R B: 16.
 *   megaminx (n = 3, 132 facelets): the 12 faces of the dodecahedron turned by 72 degrees,
 *     clockwise Fi and counter-clockwise Fi': 24.
 * "Clockwise" is as seen from outside, looking at the face (or vertex) turned. */
#include "symbatch/perm.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static uint8_t *row_of(uint8_t *perm, int m, int g)
{
    return perm + (size_t)g * (size_t)m;
}

/* Suffix of a turn by q quarter steps clockwise (q = 1, 2 or the last step, i.e. inverse). */
static const char *turn_suffix(int q, int order)
{
    if (q == 1)
        return "";
    return q == order - 1 ? "'" : "2";
}

/* ---- cube ------------------------------------------------------------------------------- */

/* Faces in the order U L F R B D: outward normal as (axis, sign), and the directions of a
 * face's columns (right) and rows (down) as seen from outside, so that facelet (face, r, c)
 * reads like a flat net of the cube. */
typedef struct cube_face {
    char name;
    int axis, sign;
    int right[3], down[3];
} cube_face;

static const cube_face cube_faces[6] = {
    {'U', 1, +1, {1, 0, 0}, {0, 0, 1}},   {'L', 0, -1, {0, 0, 1}, {0, -1, 0}},
    {'F', 2, +1, {1, 0, 0}, {0, -1, 0}},  {'R', 0, +1, {0, 0, -1}, {0, -1, 0}},
    {'B', 2, -1, {-1, 0, 0}, {0, -1, 0}}, {'D', 1, -1, {1, 0, 0}, {0, 0, -1}},
};

/* Sticker positions use doubled coordinates, centred on the cube's centre: the sticker of
 * facelet (f, r, c) lies at n * normal + (2c - n + 1) * right + (2r - n + 1) * down, so its two
 * in-face coordinates are odd (even) numbers in [-(n-1), n-1] and its normal one is +-n. */
static void cube_point(int n, int f, int r, int c, int p[3])
{
    const cube_face *face = &cube_faces[f];
    for (int a = 0; a < 3; a++)
        p[a] = (2 * c - n + 1) * face->right[a] + (2 * r - n + 1) * face->down[a];
    p[face->axis] = face->sign * n;
}

static int dot3(const int *u, const int *v)
{
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
}

/* The facelet index of a sticker position (the inverse of cube_point). */
static int cube_index(int n, const int p[3])
{
    for (int f = 0; f < 6; f++) {
        const cube_face *face = &cube_faces[f];
        if (p[face->axis] != face->sign * n)
            continue;
        int c = (dot3(p, face->right) + n - 1) / 2;
        int r = (dot3(p, face->down) + n - 1) / 2;
        return (f * n + r) * n + c;
    }
    return -1; /* not a sticker position: cannot happen for rotated stickers */
}

/* Rotation by +90 degrees about coordinate axis a (right-hand rule). */
static void rot90(int a, int p[3])
{
    int u = (a + 1) % 3, v = (a + 2) % 3; /* u -> v -> -u */
    int pu = p[u];
    p[u] = -p[v];
    p[v] = pu;
}

/* Turns the layer at depth d from face f by q quarter turns clockwise. */
static void cube_move(int n, int f, int d, int q, uint8_t *perm)
{
    const cube_face *face = &cube_faces[f];
    int layer = face->sign * (n - 1 - 2 * d); /* the cubies' doubled coordinate on the axis */
    /* Clockwise seen from outside is -90 degrees about the outward normal sign * e_axis. */
    int steps = ((face->sign > 0 ? 3 : 1) * q) % 4;
    for (int i = 0; i < 6 * n * n; i++)
        perm[i] = (uint8_t)i;
    for (int i = 0; i < 6 * n * n; i++) {
        int p[3];
        cube_point(n, i / (n * n), i / n % n, i % n, p);
        int on_axis = p[face->axis];
        if (on_axis == n || on_axis == -n)
            on_axis = on_axis > 0 ? n - 1 : -(n - 1); /* the sticker's cubie */
        if (on_axis != layer)
            continue;
        for (int s = 0; s < steps; s++)
            rot90(face->axis, p);
        perm[cube_index(n, p)] = (uint8_t)i;
    }
}

/* Which turns a cube family makes: faces (bit mask over U L F R B D), layers per face, and the
 * quarter counts per layer (1 and 3, or 1, 3 and 2). */
typedef struct cube_moves {
    unsigned faces;
    int depths;
    int nq;
} cube_moves;

static const int cube_quarters[3] = {1, 3, 2};

static cube_moves cube_moves_of(int n, bool fixed, bool htm)
{
    /* U, F, R: bits 0, 2, 3 */
    cube_moves cm = {fixed ? 0x0du : 0x3fu, n / 2, htm ? 3 : 2};
    return cm;
}

static int cube_count(cube_moves cm)
{
    int faces = 0;
    for (int f = 0; f < 6; f++)
        faces += (cm.faces >> f) & 1u;
    return faces * cm.depths * cm.nq;
}

static void cube_build(int n, cube_moves cm, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    int m = 6 * n * n, g = 0;
    for (int f = 0; f < 6; f++) {
        if (!((cm.faces >> f) & 1u))
            continue;
        for (int d = 0; d < cm.depths; d++)
            for (int j = 0; j < cm.nq; j++, g++) {
                int q = cube_quarters[j];
                cube_move(n, f, d, q, row_of(perm, m, g));
                char depth[8] = "";
                if (d > 0)
                    snprintf(depth, sizeof depth, "%d", d + 1);
                snprintf(names[g], SB_NAME_MAX, "%s%c%s", depth, cube_faces[f].name,
                         turn_suffix(q, 4));
            }
    }
}

static int cube_len(int n, int k)
{
    (void)k;
    return 6 * n * n;
}

static void cube_central(int n, int k, uint8_t *state)
{
    (void)k;
    for (int i = 0; i < 6 * n * n; i++)
        state[i] = (uint8_t)(i / (n * n));
}

static int count_cube_qtm(int n, int k)
{
    (void)k;
    return cube_count(cube_moves_of(n, false, false));
}

static int count_cube_htm(int n, int k)
{
    (void)k;
    return cube_count(cube_moves_of(n, false, true));
}

static int count_cube_fixed_qtm(int n, int k)
{
    (void)k;
    return cube_count(cube_moves_of(n, true, false));
}

static int count_cube_fixed_htm(int n, int k)
{
    (void)k;
    return cube_count(cube_moves_of(n, true, true));
}

static void build_cube_qtm(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    cube_build(n, cube_moves_of(n, false, false), perm, names);
}

static void build_cube_htm(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    cube_build(n, cube_moves_of(n, false, true), perm, names);
}

static void build_cube_fixed_qtm(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    cube_build(n, cube_moves_of(n, true, false), perm, names);
}

static void build_cube_fixed_htm(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    cube_build(n, cube_moves_of(n, true, true), perm, names);
}

/* ---- pyraminx ----------------------------------------------------------------------------- */

#define PYR_MAX_N 7 /* 4 n^2 <= SB_MAX_ELEMS */

/* The tetrahedron's vertices U L R B; face f is the one opposite vertex f. */
static const int tet_vertex[4][3] = {{1, 1, 1}, {1, -1, -1}, {-1, 1, -1}, {-1, -1, 1}};
static const char tet_name[4] = {'U', 'L', 'R', 'B'};

/* A facelet is a small triangle of a face cut into n^2 by lines parallel to its sides; it is
 * named by the barycentric coordinates of its centre over the four vertices, times 3n (so
 * integers summing to 3n, 0 for the vertex opposite its face).  For the vertex v, the facelet
 * lies in the slab w[v] / 3 (0 at the far side, n - 1 at the tip). */
typedef struct tet_facelet {
    int w[4];
} tet_facelet;

static int pyr_len(int n, int k)
{
    (void)k;
    return 4 * n * n;
}

/* The other three vertices of face f, in increasing order. */
static void face_corners(int f, int c[3])
{
    for (int t = 0, j = 0; t < 4; t++)
        if (t != f)
            c[j++] = t;
}

/* All 4 n^2 facelets: face by face; in a face, row r (r = 0 at its first corner) holds
 * 2r + 1 triangles, pointing away from and towards that corner in turn. */
static void pyr_facelets(int n, tet_facelet *fl)
{
    int i = 0;
    for (int f = 0; f < 4; f++) {
        int c[3];
        face_corners(f, c);
        for (int r = 0; r < n; r++)
            for (int j = 0; j <= 2 * r; j++, i++) {
                /* up: a small copy of the face; down: upside down.  Both lie in the slab
                 * a = n-1-r of the corner c[0]; a + b + rest = n-1 (up) or n-2 (down). */
                int up = j % 2 == 0, b = j / 2;
                int a = n - 1 - r, rest = up ? r - b : r - 1 - b;
                memset(fl[i].w, 0, sizeof fl[i].w);
                fl[i].w[c[0]] = 3 * a + (up ? 1 : 2);
                fl[i].w[c[1]] = 3 * b + (up ? 1 : 2);
                fl[i].w[c[2]] = 3 * rest + (up ? 1 : 2);
            }
    }
}

static int pyr_find(int count, const tet_facelet *fl, const int w[4])
{
    for (int i = 0; i < count; i++)
        if (memcmp(fl[i].w, w, sizeof fl[i].w) == 0)
            return i;
    return -1;
}

/* The clockwise turn about vertex v (seen from outside) as a map of vertices: the other three
 * in a cycle a -> c -> b when a, b, c run counter-clockwise seen from v. */
static void tet_turn(int v, int sigma[4])
{
    int c[3];
    face_corners(v, c);
    const int *A = tet_vertex[c[0]], *B = tet_vertex[c[1]], *C = tet_vertex[c[2]];
    int e1[3], e2[3];
    for (int a = 0; a < 3; a++) {
        e1[a] = B[a] - A[a];
        e2[a] = C[a] - A[a];
    }
    int cross[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2],
                    e1[0] * e2[1] - e1[1] * e2[0]};
    bool ccw = dot3(cross, tet_vertex[v]) > 0;
    sigma[v] = v;
    sigma[c[0]] = ccw ? c[2] : c[1];
    sigma[c[1]] = ccw ? c[0] : c[2];
    sigma[c[2]] = ccw ? c[1] : c[0];
}

/* Turns the j layers nearest vertex v by q thirds clockwise. */
static void pyr_move(int n, const tet_facelet *fl, int v, int j, int q, uint8_t *perm)
{
    int m = 4 * n * n, sigma[4];
    tet_turn(v, sigma);
    for (int i = 0; i < m; i++)
        perm[i] = (uint8_t)i;
    for (int i = 0; i < m; i++) {
        if (fl[i].w[v] / 3 < n - j)
            continue;
        int w[4];
        memcpy(w, fl[i].w, sizeof w);
        for (int s = 0; s < q; s++) {
            int t[4];
            for (int x = 0; x < 4; x++)
                t[sigma[x]] = w[x];
            memcpy(w, t, sizeof w);
        }
        perm[pyr_find(m, fl, w)] = (uint8_t)i;
    }
}

static int count_pyraminx(int n, int k)
{
    (void)k;
    return 4 * (n - 1) * 2;
}

static void build_pyraminx(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)k;
    int m = 4 * n * n, g = 0;
    tet_facelet fl[4 * PYR_MAX_N * PYR_MAX_N];
    pyr_facelets(n, fl);
    for (int v = 0; v < 4; v++)
        for (int j = 1; j < n; j++)
            for (int q = 1; q <= 2; q++, g++) {
                pyr_move(n, fl, v, j, q, row_of(perm, m, g));
                char label[8];
                if (j == n - 1)
                    snprintf(label, sizeof label, "%c", tet_name[v]);
                else if (j == 1)
                    snprintf(label, sizeof label, "%c", tet_name[v] + ('a' - 'A'));
                else
                    snprintf(label, sizeof label, "%d%c", j, tet_name[v]);
                snprintf(names[g], SB_NAME_MAX, "%s%s", label, turn_suffix(q, 3));
            }
}

static void pyr_central(int n, int k, uint8_t *state)
{
    (void)k;
    for (int i = 0; i < 4 * n * n; i++)
        state[i] = (uint8_t)(i / (n * n));
}

/* ---- megaminx ----------------------------------------------------------------------------- */

#define MEGA_FACES 12
#define MEGA_M     132 /* 12 faces x (centre + 5 edges + 5 corners) */

/* The dodecahedron's face centres: the icosahedron's vertices (0, +-1, +-phi) and cyclic. */
static void mega_centres(double c[MEGA_FACES][3])
{
    const double phi = (1 + sqrt(5.0)) / 2;
    int i = 0;
    for (int axis = 0; axis < 3; axis++)
        for (int s1 = -1; s1 <= 1; s1 += 2)
            for (int s2 = -1; s2 <= 1; s2 += 2, i++) {
                c[i][axis] = 0;
                c[i][(axis + 1) % 3] = s1;
                c[i][(axis + 2) % 3] = s2 * phi;
            }
}

static double dist2(const double *a, const double *b)
{
    double s = 0;
    for (int x = 0; x < 3; x++)
        s += (a[x] - b[x]) * (a[x] - b[x]);
    return s;
}

/* Faces meet along an edge when their centres are nearest neighbours (distance 2). */
static bool mega_adjacent(double c[MEGA_FACES][3], int f, int g)
{
    return f != g && fabs(dist2(c[f], c[g]) - 4) < 1e-6;
}

/* A facelet: the face it lies on and its piece, as the set of faces the piece touches (one
 * face: the centre; two: an edge; three mutually adjacent: a corner). */
typedef struct mega_facelet {
    int face;
    unsigned piece;
} mega_facelet;

/* Face by face: centre, edges by the other face's index, corners by their two other faces. */
static void mega_facelets(double c[MEGA_FACES][3], mega_facelet *fl)
{
    int i = 0;
    for (int f = 0; f < MEGA_FACES; f++) {
        fl[i++] = (mega_facelet){f, 1u << f};
        for (int g = 0; g < MEGA_FACES; g++)
            if (mega_adjacent(c, f, g))
                fl[i++] = (mega_facelet){f, (1u << f) | (1u << g)};
        for (int g = 0; g < MEGA_FACES; g++)
            for (int h = g + 1; h < MEGA_FACES; h++)
                if (mega_adjacent(c, f, g) && mega_adjacent(c, f, h) && mega_adjacent(c, g, h))
                    fl[i++] = (mega_facelet){f, (1u << f) | (1u << g) | (1u << h)};
    }
}

/* The face map of the clockwise 72-degree turn of face f: each centre rotated by -72 degrees
 * about the axis through f (Rodrigues), then matched to the nearest centre. */
static void mega_turn(double c[MEGA_FACES][3], int f, int rho[MEGA_FACES])
{
    double k[3], len = sqrt(dist2(c[f], (double[3]){0, 0, 0}));
    for (int x = 0; x < 3; x++)
        k[x] = c[f][x] / len;
    double th = -2 * acos(-1.0) / 5, co = cos(th), si = sin(th);
    for (int g = 0; g < MEGA_FACES; g++) {
        const double *v = c[g];
        double kv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
        double kxv[3] = {k[1] * v[2] - k[2] * v[1], k[2] * v[0] - k[0] * v[2],
                         k[0] * v[1] - k[1] * v[0]};
        double r[3];
        for (int x = 0; x < 3; x++)
            r[x] = v[x] * co + kxv[x] * si + k[x] * kv * (1 - co);
        int best = 0;
        for (int h = 1; h < MEGA_FACES; h++)
            if (dist2(r, c[h]) < dist2(r, c[best]))
                best = h;
        rho[g] = best;
    }
}

static unsigned map_set(const int rho[MEGA_FACES], unsigned set)
{
    unsigned out = 0;
    for (int g = 0; g < MEGA_FACES; g++)
        if ((set >> g) & 1u)
            out |= 1u << rho[g];
    return out;
}

/* Turns face f by q fifths clockwise: the facelets on f and those of pieces touching f. */
static void mega_move(const mega_facelet *fl, const int rho[MEGA_FACES], int f, int q,
                      uint8_t *perm)
{
    for (int i = 0; i < MEGA_M; i++)
        perm[i] = (uint8_t)i;
    for (int i = 0; i < MEGA_M; i++) {
        if (!((fl[i].piece >> f) & 1u))
            continue;
        mega_facelet t = fl[i];
        for (int s = 0; s < q; s++)
            t = (mega_facelet){rho[t.face], map_set(rho, t.piece)};
        for (int j = 0; j < MEGA_M; j++)
            if (fl[j].face == t.face && fl[j].piece == t.piece)
                perm[j] = (uint8_t)i;
    }
}

static int mega_len(int n, int k)
{
    (void)n;
    (void)k;
    return MEGA_M;
}

static int count_megaminx(int n, int k)
{
    (void)n;
    (void)k;
    return 2 * MEGA_FACES;
}

static void build_megaminx(int n, int k, uint8_t *perm, char (*names)[SB_NAME_MAX])
{
    (void)n;
    (void)k;
    double c[MEGA_FACES][3];
    mega_facelet fl[MEGA_M];
    mega_centres(c);
    mega_facelets(c, fl);
    for (int f = 0; f < MEGA_FACES; f++) {
        int rho[MEGA_FACES];
        mega_turn(c, f, rho);
        for (int j = 0; j < 2; j++) {
            int g = 2 * f + j, q = j ? 4 : 1;
            mega_move(fl, rho, f, q, row_of(perm, MEGA_M, g));
            snprintf(names[g], SB_NAME_MAX, "F%d%s", f, j ? "'" : "");
        }
    }
}

static void mega_central(int n, int k, uint8_t *state)
{
    (void)n;
    (void)k;
    for (int i = 0; i < MEGA_M; i++)
        state[i] = (uint8_t)(i / 11);
}

/* ---- the table ---------------------------------------------------------------------------- */

static const sb_family fam_cube_qtm = {
    .name = "cube_qtm",
    .params = "2 <= n <= 6 (n x n x n cube, 6n^2 facelets)",
    .group = "cube, quarter turns; states: colourings",
    .min_n = 2,
    .max_n = 6,
    .count = count_cube_qtm,
    .build = build_cube_qtm,
    .state_len = cube_len,
    .central = cube_central,
};

/* `cube`: the job-file family whose growth.generators.metric (qtm, the default, or htm) and
 * fixed_corner pick one of the sets below (sb_genset_cube); on its own, the quarter turns. */
static const sb_family fam_cube = {
    .name = "cube",
    .params = "2 <= n <= 6; metric: qtm | htm, fixed_corner (n = 2)",
    .group = "cube; states: colourings",
    .min_n = 2,
    .max_n = 6,
    .count = count_cube_qtm,
    .build = build_cube_qtm,
    .state_len = cube_len,
    .central = cube_central,
};

static const sb_family fam_cube_htm = {
    .name = "cube_htm",
    .params = "2 <= n <= 6 (n x n x n cube, 6n^2 facelets)",
    .group = "cube, quarter and half turns; states: colourings",
    .min_n = 2,
    .max_n = 6,
    .count = count_cube_htm,
    .build = build_cube_htm,
    .state_len = cube_len,
    .central = cube_central,
};

static const sb_family fam_cube_fixed_qtm = {
    .name = "cube_fixed_qtm",
    .params = "n = 2 (U, F, R only: the DLB corner stays)",
    .group = "2x2x2 cube, 3,674,160 colourings",
    .min_n = 2,
    .max_n = 2,
    .count = count_cube_fixed_qtm,
    .build = build_cube_fixed_qtm,
    .state_len = cube_len,
    .central = cube_central,
};

static const sb_family fam_cube_fixed_htm = {
    .name = "cube_fixed_htm",
    .params = "n = 2 (U, F, R only: the DLB corner stays)",
    .group = "2x2x2 cube, 3,674,160 colourings",
    .min_n = 2,
    .max_n = 2,
    .count = count_cube_fixed_htm,
    .build = build_cube_fixed_htm,
    .state_len = cube_len,
    .central = cube_central,
};

static const sb_family fam_pyraminx = {
    .name = "pyraminx",
    .params = "2 <= n <= 7 (layers per axis; n = 3: the pyraminx, tips included)",
    .group = "pyraminx, 120-degree layer turns; states: colourings",
    .min_n = 2,
    .max_n = 7,
    .count = count_pyraminx,
    .build = build_pyraminx,
    .state_len = pyr_len,
    .central = pyr_central,
};

static const sb_family fam_megaminx = {
    .name = "megaminx",
    .params = "n = 3 (the megaminx, 132 facelets)",
    .group = "megaminx, 72-degree face turns; states: colourings",
    .min_n = 3,
    .max_n = 3,
    .count = count_megaminx,
    .build = build_megaminx,
    .state_len = mega_len,
    .central = mega_central,
};

static const sb_family *const puzzle_families[] = {
    &fam_cube,           &fam_cube_qtm, &fam_cube_htm, &fam_cube_fixed_qtm,
    &fam_cube_fixed_htm, &fam_pyraminx, &fam_megaminx, NULL,
};

const sb_family *const *sb_puzzle_families(void)
{
    return puzzle_families;
}

int sb_genset_cube(sb_genset *gs, int n, const char *metric, bool fixed_corner, sb_diag *diag)
{
    bool htm = metric && strcmp(metric, "htm") == 0;
    if (!htm && !(metric && strcmp(metric, "qtm") == 0)) {
        memset(gs, 0, sizeof *gs);
        return sb_diag_fail(diag, "cube: metric must be qtm or htm (got '%s')",
                            metric ? metric : "(null)");
    }
    if (fixed_corner && n != 2) {
        memset(gs, 0, sizeof *gs);
        return sb_diag_fail(diag, "cube: fixed_corner needs n = 2 (got n = %d)", n);
    }
    const char *name = fixed_corner ? (htm ? "cube_fixed_htm" : "cube_fixed_qtm")
                                    : (htm ? "cube_htm" : "cube_qtm");
    return sb_genset_family(gs, name, n, -1, diag);
}
