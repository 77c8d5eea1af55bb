/* GAP notation: a small lexer and recursive-descent parser for cycle strings and for files of
 * GAP statements (the subset that describes permutation generators; see symbatch/gap.h). */
#include "symbatch/gap.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A GAP file larger than this is not a generator list (the 40x40x40 cube is ~1 MiB). */
#define GAP_FILE_MAX (16L << 20)
/* Integers are only points: anything this large is reported as out of range, not parsed. */
#define INT_CAP      1000000000L

/* ---- lexer --------------------------------------------------------------------------------- */

typedef enum {
    T_EOF,
    T_INT,
    T_IDENT,
    T_ASSIGN,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_SEMI,
    T_BAD
} tok_type;

typedef struct token {
    tok_type type;
    int line, column;
    long offset;
    long value;       /* T_INT (saturated at +-INT_CAP) */
    const char *text; /* T_IDENT: the name, not NUL-terminated; T_BAD: the character */
    size_t len;
} token;

typedef struct lexer {
    const char *s;
    size_t len, pos;
    int line, column;
    token peeked;
    bool has_peeked;
    sb_gap_error *err;
} lexer;

static void lexer_init(lexer *lx, const char *s, size_t len, sb_gap_error *err)
{
    memset(lx, 0, sizeof *lx);
    lx->s = s;
    lx->len = len;
    lx->line = 1;
    lx->column = 1;
    lx->err = err;
}

static void advance(lexer *lx)
{
    if (lx->s[lx->pos] == '\n') {
        lx->line++;
        lx->column = 1;
    } else {
        lx->column++;
    }
    lx->pos++;
}

/* Whitespace and `#` comments to the end of the line. */
static void skip_space(lexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->s[lx->pos];
        if (c == '#') {
            while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
                advance(lx);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(lx);
        } else {
            return;
        }
    }
}

static bool ident_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || (!first && isdigit((unsigned char)c));
}

static void lex_int(lexer *lx, token *t)
{
    bool neg = lx->s[lx->pos] == '-';
    if (neg)
        advance(lx);
    long v = 0;
    while (lx->pos < lx->len && isdigit((unsigned char)lx->s[lx->pos])) {
        v = v >= INT_CAP ? INT_CAP : v * 10 + (lx->s[lx->pos] - '0');
        advance(lx);
    }
    t->type = T_INT;
    t->value = neg ? -v : v;
}

static token lex(lexer *lx)
{
    skip_space(lx);
    token t = {.type = T_EOF, .line = lx->line, .column = lx->column, .offset = (long)lx->pos};
    if (lx->pos >= lx->len)
        return t;
    const char *c = lx->s + lx->pos;
    bool more = lx->pos + 1 < lx->len;
    t.text = c;
    t.len = 1;
    if (isdigit((unsigned char)*c) || (*c == '-' && more && isdigit((unsigned char)c[1]))) {
        lex_int(lx, &t);
        return t;
    }
    if (ident_char(*c, true)) {
        while (lx->pos < lx->len && ident_char(lx->s[lx->pos], false))
            advance(lx);
        t.type = T_IDENT;
        t.len = (size_t)(lx->s + lx->pos - c);
        return t;
    }
    static const char singles[] = "()[],;";
    static const tok_type single_types[] = {T_LPAREN, T_RPAREN, T_LBRACK,
                                            T_RBRACK, T_COMMA,  T_SEMI};
    const char *hit = *c ? strchr(singles, *c) : NULL;
    if (hit) {
        t.type = single_types[hit - singles];
        advance(lx);
        return t;
    }
    if (*c == ':' && more && c[1] == '=') {
        t.type = T_ASSIGN;
        t.len = 2;
        advance(lx);
        advance(lx);
        return t;
    }
    t.type = T_BAD;
    return t;
}

static token peek(lexer *lx)
{
    if (!lx->has_peeked) {
        lx->peeked = lex(lx);
        lx->has_peeked = true;
    }
    return lx->peeked;
}

static token next(lexer *lx)
{
    token t = peek(lx);
    lx->has_peeked = false;
    return t;
}

/* Reports a problem at a place (the first problem only: the parser stops there). */
static int fail_at(sb_gap_error *err, int line, int column, long offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail_at(sb_gap_error *err, int line, int column, long offset, const char *fmt, ...)
{
    if (!err)
        return SB_EINPUT;
    err->line = line;
    err->column = column;
    err->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return SB_EINPUT;
}

/* What a token is, for "expected X, got Y". */
static void describe(const token *t, char *buf, size_t size)
{
    unsigned char c = t->text ? (unsigned char)t->text[0] : 0;
    switch (t->type) {
    case T_EOF:
        snprintf(buf, size, "the end of the text");
        break;
    case T_INT:
        snprintf(buf, size, "the number %ld", t->value);
        break;
    case T_IDENT:
        snprintf(buf, size, "the name '%.*s'", (int)(t->len > 40 ? 40 : t->len), t->text);
        break;
    case T_BAD:
        if (c >= 0x21 && c < 0x7f)
            snprintf(buf, size, "the character '%c'", c);
        else
            snprintf(buf, size, "the byte \\x%02X", c);
        break;
    default:
        snprintf(buf, size, "'%.*s'", (int)t->len, t->text);
        break;
    }
}

static int unexpected(lexer *lx, const token *t, const char *wanted)
{
    char got[96];
    describe(t, got, sizeof got);
    return fail_at(lx->err, t->line, t->column, t->offset, "expected %s, got %s", wanted, got);
}

/* ---- permutations ------------------------------------------------------------------------ */

static void perm_identity(sb_gap_perm *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < SB_MAX_ELEMS; i++)
        p->img[i] = (uint8_t)i;
}

/* One point of a cycle: 1..SB_MAX_ELEMS, not yet used in this permutation. */
static int take_point(lexer *lx, const token *t, bool *seen, sb_gap_perm *out)
{
    if (t->value < 1)
        return fail_at(lx->err, t->line, t->column, t->offset,
                       "point %ld is not a point: GAP numbers points from 1", t->value);
    if (t->value > SB_MAX_ELEMS)
        return fail_at(lx->err, t->line, t->column, t->offset,
                       "point %ld is above %d, the largest degree supported", t->value,
                       SB_MAX_ELEMS);
    if (seen[t->value])
        return fail_at(lx->err, t->line, t->column, t->offset,
                       "point %ld appears twice in one permutation (cycles must be disjoint)",
                       t->value);
    seen[t->value] = true;
    if (t->value > out->max_point) {
        out->max_point = (int)t->value;
        out->max_line = t->line;
        out->max_column = t->column;
        out->max_offset = t->offset;
    }
    return 0;
}

/* One cycle after its '(' (open): points separated by commas, then ')'.  c_j goes to c_{j+1}. */
static int parse_cycle(lexer *lx, const token *open, bool *seen, sb_gap_perm *out)
{
    int pts[SB_MAX_ELEMS];
    int k = 0;
    for (;;) {
        token t = next(lx);
        if (t.type == T_EOF)
            return fail_at(lx->err, open->line, open->column, open->offset,
                           "unbalanced parentheses: this '(' is never closed");
        if (t.type != T_INT)
            return unexpected(lx, &t, k ? "a point after ','" : "a point (an integer from 1)");
        int rc = take_point(lx, &t, seen, out);
        if (rc)
            return rc;
        pts[k++] = (int)t.value; /* distinct points <= SB_MAX_ELEMS: k stays in range */
        t = next(lx);
        if (t.type == T_RPAREN)
            break;
        if (t.type == T_EOF)
            return fail_at(lx->err, open->line, open->column, open->offset,
                           "unbalanced parentheses: this '(' is never closed");
        if (t.type != T_COMMA)
            return unexpected(lx, &t, "',' or ')' after a point");
    }
    for (int j = 0; j < k; j++)
        out->img[pts[j] - 1] = (uint8_t)(pts[(j + 1) % k] - 1);
    return 0;
}

/* A permutation after its first '(' (open, consumed): "()" or one or more cycles. */
static int parse_perm_expr(lexer *lx, const token *first, sb_gap_perm *out)
{
    perm_identity(out);
    out->def_line = first->line;
    bool seen[SB_MAX_ELEMS + 1] = {false};
    token open = *first;
    if (peek(lx).type == T_RPAREN) {
        next(lx);
        return 0;
    }
    for (;;) {
        int rc = parse_cycle(lx, &open, seen, out);
        if (rc)
            return rc;
        if (peek(lx).type != T_LPAREN)
            return 0;
        open = next(lx);
    }
}

int sb_gap_parse_perm(const char *text, size_t len, sb_gap_perm *out, sb_gap_error *err)
{
    lexer lx;
    lexer_init(&lx, text, len, err);
    token t = next(&lx);
    if (t.type == T_EOF)
        return fail_at(err, t.line, t.column, t.offset,
                       "empty permutation: write cycles like (1,2,3)(4,5), or () for the "
                       "identity");
    if (t.type == T_RPAREN)
        return fail_at(err, t.line, t.column, t.offset,
                       "unbalanced parentheses: ')' without a '(' before it");
    if (t.type != T_LPAREN)
        return unexpected(&lx, &t, "'(' starting a cycle like (1,2,3)");
    int rc = parse_perm_expr(&lx, &t, out);
    if (rc)
        return rc;
    t = next(&lx);
    if (t.type == T_RPAREN)
        return fail_at(err, t.line, t.column, t.offset,
                       "unbalanced parentheses: ')' without a '(' before it");
    if (t.type != T_EOF)
        return unexpected(&lx, &t, "the end of the permutation");
    return 0;
}

/* ---- statements ---------------------------------------------------------------------------- */

/* Every permutation seen (named or written inside Group/lists), a hash index of the names, and
 * the generator selections. */
typedef struct parser {
    lexer lx;
    sb_gap_perm *perms;
    int nperms, cap;
    bool *named; /* perms[i] was assigned to a name */
    int *slots;  /* open addressing over named perms: index + 1, 0 = empty */
    int nslots;
    int *group; /* last Group(...): indices into perms */
    int ngroup;
    bool has_group;
    int *list; /* last list of permutations */
    int nlist;
    char list_name[SB_NAME_MAX];
} parser;

static uint64_t name_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static bool name_is(const char *name, const token *t)
{
    return strlen(name) == t->len && memcmp(name, t->text, t->len) == 0;
}

/* Index of the named permutation t, or -1. */
static int find_name(const parser *p, const token *t)
{
    if (p->nslots == 0)
        return -1;
    size_t mask = (size_t)p->nslots - 1;
    for (size_t s = name_hash(t->text, t->len) & mask;; s = (s + 1) & mask) {
        int at = p->slots[s] - 1;
        if (at < 0)
            return -1;
        if (name_is(p->perms[at].name, t))
            return at;
    }
}

static int index_name(parser *p, int at)
{
    if (2 * (at + 1) > p->nslots) {
        int n = p->nslots ? 2 * p->nslots : 64;
        int *slots = calloc((size_t)n, sizeof *slots);
        if (!slots)
            return SB_ENOMEM;
        free(p->slots);
        p->slots = slots;
        p->nslots = n;
        for (int i = 0; i < p->nperms; i++)
            if (p->named[i] && i != at)
                index_name(p, i);
    }
    const char *name = p->perms[at].name;
    size_t mask = (size_t)p->nslots - 1;
    size_t s = name_hash(name, strlen(name)) & mask;
    while (p->slots[s])
        s = (s + 1) & mask;
    p->slots[s] = at + 1;
    return 0;
}

/* Room for one more permutation; its index in *at. */
static int add_perm(parser *p, const token *where, int *at)
{
    if (p->nperms >= SB_MAX_GENS)
        return fail_at(p->lx.err, where->line, where->column, where->offset,
                       "more than %d permutations", SB_MAX_GENS);
    if (p->nperms == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        sb_gap_perm *perms = realloc(p->perms, (size_t)cap * sizeof *perms);
        if (perms)
            p->perms = perms;
        bool *named = realloc(p->named, (size_t)cap * sizeof *named);
        if (named)
            p->named = named;
        if (!perms || !named)
            return SB_ENOMEM;
        p->cap = cap;
    }
    *at = p->nperms++;
    p->named[*at] = false;
    return 0;
}

static int unknown_name(parser *p, const token *t)
{
    int n = t->len > 40 ? 40 : (int)t->len;
    return fail_at(p->lx.err, t->line, t->column, t->offset,
                   "unknown name '%.*s': define it first (%.*s := (1,2,3);)", n, t->text, n,
                   t->text);
}

/* Generators written inline get their cycles as their name when it fits. */
static void inline_name(sb_gap_perm *g, int index)
{
    char text[SB_NAME_MAX + 8];
    sb_gap_format(g->img, g->max_point, text, sizeof text);
    if (strlen(text) < SB_NAME_MAX && !strstr(text, "..."))
        snprintf(g->name, SB_NAME_MAX, "%s", text);
    else
        snprintf(g->name, SB_NAME_MAX, "g%d", index);
}

/* Appends index `at` to a selection array. */
static int push_index(int **arr, int *n, int at)
{
    if ((*n & (*n - 1)) == 0) { /* grow at powers of two */
        int *a = realloc(*arr, (size_t)(*n ? 2 * *n : 1) * sizeof *a);
        if (!a)
            return SB_ENOMEM;
        *arr = a;
    }
    (*arr)[(*n)++] = at;
    return 0;
}

/* One item of Group(...) or of a list that names or writes a permutation; its index in *at. */
static int parse_gen_item(parser *p, int position, int *at)
{
    token t = next(&p->lx);
    if (t.type == T_LPAREN) {
        int rc = add_perm(p, &t, at);
        if (rc)
            return rc;
        rc = parse_perm_expr(&p->lx, &t, &p->perms[*at]);
        if (rc == 0)
            inline_name(&p->perms[*at], position);
        return rc;
    }
    if (t.type != T_IDENT)
        return unexpected(&p->lx, &t, "a permutation or the name of one");
    *at = find_name(p, &t);
    if (*at < 0)
        return unknown_name(p, &t);
    return 0;
}

/* Skips a list that is data, not generators (ip:=[[1],[3],...]; integers): nested brackets. */
static int skip_data_list(parser *p, const token *open)
{
    int depth = 1;
    while (depth > 0) {
        token t = next(&p->lx);
        if (t.type == T_EOF)
            return fail_at(p->lx.err, open->line, open->column, open->offset,
                           "unbalanced brackets: this '[' is never closed");
        if (t.type == T_BAD || t.type == T_ASSIGN || t.type == T_SEMI)
            return unexpected(&p->lx, &t, "a list item, ',' or ']'");
        depth += t.type == T_LBRACK ? 1 : t.type == T_RBRACK ? -1 : 0;
    }
    return 0;
}

/* Items of a list or of Group(...) up to the closing token `close`; indices into sel. */
static int parse_items(parser *p, tok_type close, int **sel, int *n)
{
    if (peek(&p->lx).type == close) {
        next(&p->lx);
        return 0;
    }
    for (;;) {
        int at = -1;
        int rc = parse_gen_item(p, *n, &at);
        if (!rc)
            rc = push_index(sel, n, at);
        if (rc)
            return rc;
        token t = next(&p->lx);
        if (t.type == close)
            return 0;
        if (t.type != T_COMMA)
            return unexpected(&p->lx, &t, close == T_RPAREN ? "',' or ')'" : "',' or ']'");
    }
}

/* A list after its '[': of permutations (a generator list), or of other data (skipped). */
static int parse_list(parser *p, const token *open, const token *name)
{
    token first = peek(&p->lx);
    if (first.type == T_LBRACK || first.type == T_INT)
        return skip_data_list(p, open);
    int *sel = NULL, n = 0;
    int rc = parse_items(p, T_RBRACK, &sel, &n);
    if (rc || n == 0) {
        free(sel);
        return rc;
    }
    free(p->list);
    p->list = sel;
    p->nlist = n;
    snprintf(p->list_name, sizeof p->list_name, "%.*s", name ? (int)name->len : 0,
             name ? name->text : "");
    return 0;
}

/* Group(...) after the name Group: its items decide the generators.  Group(L) of a list L and
 * Group([...]) are accepted as GAP accepts them. */
static int parse_group(parser *p, const token *group)
{
    token open = next(&p->lx);
    if (open.type != T_LPAREN)
        return unexpected(&p->lx, &open, "'(' after Group");
    int *sel = NULL, n = 0, rc = 0;
    token t = peek(&p->lx);
    if (t.type == T_LBRACK) {
        next(&p->lx);
        rc = parse_items(p, T_RBRACK, &sel, &n);
        token close = next(&p->lx);
        if (!rc && close.type != T_RPAREN)
            rc = unexpected(&p->lx, &close, "')' closing Group(");
    } else if (t.type == T_IDENT && p->nlist > 0 && name_is(p->list_name, &t) &&
               find_name(p, &t) < 0) {
        next(&p->lx);
        for (int i = 0; i < p->nlist && !rc; i++)
            rc = push_index(&sel, &n, p->list[i]);
        token close = next(&p->lx);
        if (!rc && close.type != T_RPAREN)
            rc = unexpected(&p->lx, &close, "')' after the list's name");
    } else {
        rc = parse_items(p, T_RPAREN, &sel, &n);
    }
    if (!rc && n == 0)
        rc = fail_at(p->lx.err, group->line, group->column, group->offset,
                     "Group() needs at least one generator");
    if (rc) {
        free(sel);
        return rc;
    }
    free(p->group);
    p->group = sel;
    p->ngroup = n;
    p->has_group = true;
    return 0;
}

static bool is_group_call(lexer *lx, const token *t)
{
    return t->type == T_IDENT && t->len == 5 && memcmp(t->text, "Group", 5) == 0 &&
           peek(lx).type == T_LPAREN;
}

/* name := (cycles), or name := other (an alias); value is consumed. */
static int define_perm(parser *p, const token *name, const token *value)
{
    if (name->len >= SB_NAME_MAX)
        return fail_at(p->lx.err, name->line, name->column, name->offset,
                       "name '%.*s...' is longer than %d characters", 20, name->text,
                       SB_NAME_MAX - 1);
    int old = find_name(p, name);
    if (old >= 0)
        return fail_at(p->lx.err, name->line, name->column, name->offset,
                       "'%.*s' is already defined (line %d)", (int)name->len, name->text,
                       p->perms[old].def_line);
    int src = value->type == T_IDENT ? find_name(p, value) : -1, at = -1;
    if (value->type == T_IDENT && src < 0)
        return unknown_name(p, value);
    int rc = add_perm(p, name, &at);
    if (rc)
        return rc;
    if (src >= 0)
        p->perms[at] = p->perms[src];
    else
        rc = parse_perm_expr(&p->lx, value, &p->perms[at]);
    if (rc) {
        p->nperms--;
        return rc;
    }
    snprintf(p->perms[at].name, SB_NAME_MAX, "%.*s", (int)name->len, name->text);
    p->perms[at].def_line = name->line;
    p->named[at] = true;
    return index_name(p, at);
}

/* The value after `name :=`. */
static int parse_assignment(parser *p, const token *name)
{
    token t = next(&p->lx);
    if (is_group_call(&p->lx, &t))
        return parse_group(p, &t);
    if (t.type == T_IDENT || t.type == T_LPAREN)
        return define_perm(p, name, &t);
    if (t.type == T_LBRACK)
        return parse_list(p, &t, name);
    if (t.type == T_INT)
        return 0;
    return unexpected(&p->lx, &t, "a permutation, Group(...) or a list after ':='");
}

static int parse_statement(parser *p)
{
    token t = next(&p->lx);
    int rc;
    if (is_group_call(&p->lx, &t)) {
        rc = parse_group(p, &t);
    } else if (t.type == T_IDENT) {
        token op = next(&p->lx);
        if (op.type != T_ASSIGN)
            return unexpected(&p->lx, &op, "':=' after a name");
        rc = parse_assignment(p, &t);
    } else if (t.type == T_RPAREN) {
        return fail_at(p->lx.err, t.line, t.column, t.offset,
                       "unbalanced parentheses: ')' without a '(' before it");
    } else if (t.type == T_SEMI) {
        return 0;
    } else {
        return unexpected(&p->lx, &t, "a statement (name := (1,2,3); or Group(...);)");
    }
    if (rc)
        return rc;
    t = next(&p->lx);
    if (t.type == T_RPAREN)
        return fail_at(p->lx.err, t.line, t.column, t.offset,
                       "unbalanced parentheses: ')' without a '(' before it");
    if (t.type != T_SEMI && t.type != T_EOF)
        return unexpected(&p->lx, &t, "';' ending the statement");
    return 0;
}

static void parser_free(parser *p)
{
    free(p->perms);
    free(p->named);
    free(p->slots);
    free(p->group);
    free(p->list);
}

/* The chosen generators into out. */
static int select_generators(parser *p, sb_gap_set *out)
{
    const int *sel = p->has_group ? p->group : p->nlist ? p->list : NULL;
    int n = p->has_group ? p->ngroup : p->nlist;
    if (!sel) {
        n = 0;
        for (int i = 0; i < p->nperms; i++)
            n += p->named[i];
    }
    if (n == 0)
        return fail_at(p->lx.err, p->lx.line, p->lx.column, (long)p->lx.pos,
                       "no permutations are defined (name := (1,2,3); or Group(...);)");
    out->perms = malloc((size_t)n * sizeof *out->perms);
    if (!out->perms)
        return SB_ENOMEM;
    int k = 0;
    for (int i = 0; sel ? i < n : i < p->nperms; i++)
        if (sel || p->named[i])
            out->perms[k++] = p->perms[sel ? sel[i] : i];
    out->count = n;
    return 0;
}

int sb_gap_parse(const char *text, size_t len, sb_gap_set *out, sb_gap_error *err)
{
    memset(out, 0, sizeof *out);
    parser p;
    memset(&p, 0, sizeof p);
    lexer_init(&p.lx, text ? text : "", text ? len : 0, err);
    int rc = 0;
    bool empty = true;
    while (!rc && peek(&p.lx).type != T_EOF) {
        empty = false;
        rc = parse_statement(&p);
    }
    if (!rc && empty)
        rc = fail_at(err, p.lx.line, p.lx.column, (long)p.lx.pos,
                     "no GAP statements (the text is empty or only comments)");
    if (!rc)
        rc = select_generators(&p, out);
    parser_free(&p);
    return rc;
}

int sb_gap_read(const char *path, sb_gap_set *out, sb_gap_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail_at(err, 0, 0, -1, "cannot read '%s': %s", path, strerror(errno));
    char *buf = malloc((size_t)GAP_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return SB_ENOMEM;
    }
    size_t n = fread(buf, 1, (size_t)GAP_FILE_MAX + 1, f);
    int rc = 0;
    if (ferror(f))
        rc = fail_at(err, 0, 0, -1, "cannot read '%s': %s", path, strerror(errno));
    else if (n > (size_t)GAP_FILE_MAX)
        rc = fail_at(err, 0, 0, -1, "'%s' is larger than %ld MiB: not a list of generators", path,
                     GAP_FILE_MAX >> 20);
    fclose(f);
    if (!rc)
        rc = sb_gap_parse(buf, n, out, err);
    free(buf);
    return rc;
}

void sb_gap_set_free(sb_gap_set *set)
{
    if (!set)
        return;
    free(set->perms);
    memset(set, 0, sizeof *set);
}

/* ---- generator sets ------------------------------------------------------------------------ */

int sb_gap_degree(const sb_gap_set *set, int degree, int *m, sb_gap_error *err)
{
    int most = 0;
    for (int g = 0; g < set->count; g++) {
        const sb_gap_perm *p = &set->perms[g];
        if (degree > 0 && p->max_point > degree)
            return fail_at(err, p->max_line, p->max_column, p->max_offset,
                           "point %d of %s is above the degree %d", p->max_point, p->name, degree);
        most = p->max_point > most ? p->max_point : most;
    }
    if (degree <= 0 && most == 0)
        return fail_at(err, 0, 0, -1,
                       "every generator is the identity (): give the degree (the number of "
                       "points)");
    *m = degree > 0 ? degree : most;
    return 0;
}

int sb_gap_genset(sb_genset *gs, const sb_gap_set *set, int m, sb_diag *diag)
{
    memset(gs, 0, sizeof *gs);
    if (m < 1 || m > SB_MAX_ELEMS || set->count < 1)
        return sb_diag_fail(diag, "GAP generators: need 1..%d points and a generator",
                            SB_MAX_ELEMS);
    uint8_t *rows = malloc((size_t)set->count * (size_t)m);
    if (!rows)
        return SB_ENOMEM;
    for (int g = 0; g < set->count; g++)
        memcpy(rows + (size_t)g * (size_t)m, set->perms[g].img, (size_t)m);
    int rc = sb_genset_explicit(gs, set->count, m, rows, diag);
    free(rows);
    if (rc)
        return rc;
    for (int g = 0; g < set->count; g++)
        memcpy(gs->names[g], set->perms[g].name, SB_NAME_MAX);
    return 0;
}

void sb_gap_format(const uint8_t *p, int m, char *buf, size_t size)
{
    if (size == 0)
        return;
    bool seen[SB_MAX_ELEMS] = {false};
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < m && used < size; i++) {
        if (seen[i] || p[i] == i)
            continue;
        for (int j = i; !seen[j] && used < size; j = p[j]) {
            seen[j] = true;
            used += (size_t)snprintf(buf + used, size - used, "%s%d", j == i ? "(" : ",", j + 1);
        }
        if (used < size)
            used += (size_t)snprintf(buf + used, size - used, ")");
    }
    if (used == 0)
        snprintf(buf, size, "()");
    else if (used >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
}

char *sb_genset_names_text(const sb_genset *gs, size_t max_bytes)
{
    size_t total = 1;
    for (int g = 0; g < gs->ngens; g++)
        total += strnlen(gs->names[g], SB_NAME_MAX) + 1;
    if (total > max_bytes)
        return NULL;
    char *text = malloc(total);
    if (!text)
        return NULL;
    size_t used = 0;
    for (int g = 0; g < gs->ngens; g++)
        used +=
            (size_t)sprintf(text + used, "%s%.*s", g ? "\n" : "", SB_NAME_MAX - 1, gs->names[g]);
    text[used] = '\0';
    return text;
}
