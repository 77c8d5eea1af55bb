/* A YAML document for job files: libyaml's document API plus the checks it does not make. */
#include "job/yaml.h"

#include "symbatch/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Line and column (1-based) of a byte offset, for reader errors, which carry no mark. */
static void offset_position(const char *text, size_t len, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static void report_parser_error(const yaml_parser_t *p, const char *path, const char *text,
                                size_t len, sb_diag *diag)
{
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR)
        offset_position(text, len, p->problem_offset, &line, &col);
    const char *problem = p->problem ? p->problem : "cannot parse";
    if (p->error == YAML_MEMORY_ERROR)
        problem = "out of memory";
    if (p->context)
        sb_diag_add(diag, "%s:%d:%d: YAML syntax error: %s (%s)", path, line, col, problem,
                    p->context);
    else
        sb_diag_add(diag, "%s:%d:%d: YAML syntax error: %s", path, line, col, problem);
}

/* Nesting allowed in a job file: they need 5 levels (top, growth, generators, explicit, a row).
 * libyaml's scanner walks its whole stack of possible keys for every token, so that a file of
 * 500k '[' takes minutes; stopping at this depth keeps reading linear in the file size. */
#define SB_YAML_DEPTH_MAX 32

/* The problem with one event, or NULL: a second document, an alias, nesting too deep. */
static const char *event_problem(yaml_event_type_t type, int *docs, int *depth)
{
    if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
        if (++*depth > SB_YAML_DEPTH_MAX)
            return "lists and mappings are nested more than 32 levels deep here (job files need "
                   "a few)";
    } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
        --*depth;
    } else if (type == YAML_DOCUMENT_START_EVENT && ++*docs == 2) {
        return "a job file holds one YAML document; a second one starts here";
    } else if (type == YAML_ALIAS_EVENT) {
        return "YAML aliases (*name) are not supported in job files";
    }
    return NULL;
}

/* Event pass before loading: the document API resolves aliases silently and loads one document
 * at a time, so refusing aliases and extra documents (with their positions) needs the events. */
static int check_events(const char *path, const char *text, size_t len, sb_diag *diag)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return SB_ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = 0, docs = 0, depth = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            report_parser_error(&p, path, text, len, diag);
            rc = SB_EINPUT;
            break;
        }
        yaml_event_type_t type = ev.type;
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        yaml_event_delete(&ev);
        const char *problem = event_problem(type, &docs, &depth);
        if (problem) {
            sb_diag_add(diag, "%s:%d:%d: %s", path, line, col, problem);
            rc = SB_EINPUT;
        }
        if (type == YAML_STREAM_END_EVENT || docs >= 2 || depth > SB_YAML_DEPTH_MAX)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

int sb_yaml_load(sb_ydoc *d, const char *path, const char *text, size_t len, sb_diag *diag)
{
    memset(d, 0, sizeof *d);
    int rc = check_events(path, text, len, diag);
    if (rc != 0)
        return rc;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return SB_ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (yaml_parser_load(&p, &d->doc)) {
        d->loaded = true;
    } else {
        report_parser_error(&p, path, text, len, diag);
        rc = SB_EINPUT;
    }
    yaml_parser_delete(&p);
    return rc;
}

void sb_yaml_free(sb_ydoc *d)
{
    if (d->loaded)
        yaml_document_delete(&d->doc);
    d->loaded = false;
}

sb_ynode sb_yaml_root(sb_ydoc *d)
{
    sb_ynode n = {&d->doc, NULL};
    if (d->loaded)
        n.node = yaml_document_get_root_node(&d->doc);
    return n;
}

sb_ykind sb_ynode_kind(const sb_ynode *n)
{
    if (!n->node)
        return SB_Y_NONE;
    switch (n->node->type) {
    case YAML_SCALAR_NODE:
        return SB_Y_SCALAR;
    case YAML_SEQUENCE_NODE:
        return SB_Y_SEQ;
    case YAML_MAPPING_NODE:
        return SB_Y_MAP;
    default:
        return SB_Y_NONE;
    }
}

const char *sb_ynode_describe(const sb_ynode *n)
{
    switch (sb_ynode_kind(n)) {
    case SB_Y_MAP:
        return "a mapping";
    case SB_Y_SEQ:
        return "a list";
    case SB_Y_SCALAR:
        if (sb_ynode_is_null(n))
            return "null";
        return sb_ynode_plain(n) ? "a scalar" : "a quoted string";
    default:
        return "nothing";
    }
}

int sb_ynode_line(const sb_ynode *n)
{
    return n->node ? (int)n->node->start_mark.line + 1 : 0;
}

int sb_ynode_column(const sb_ynode *n)
{
    return n->node ? (int)n->node->start_mark.column + 1 : 0;
}

const char *sb_ynode_text(const sb_ynode *n)
{
    if (sb_ynode_kind(n) != SB_Y_SCALAR)
        return "";
    return (const char *)n->node->data.scalar.value;
}

size_t sb_ynode_length(const sb_ynode *n)
{
    return sb_ynode_kind(n) == SB_Y_SCALAR ? n->node->data.scalar.length : 0;
}

bool sb_ynode_plain(const sb_ynode *n)
{
    return sb_ynode_kind(n) == SB_Y_SCALAR && n->node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

bool sb_ynode_is_null(const sb_ynode *n)
{
    if (!sb_ynode_plain(n))
        return false;
    const char *t = sb_ynode_text(n);
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

size_t sb_ynode_count(const sb_ynode *n)
{
    switch (sb_ynode_kind(n)) {
    case SB_Y_SEQ:
        return (size_t)(n->node->data.sequence.items.top - n->node->data.sequence.items.start);
    case SB_Y_MAP:
        return (size_t)(n->node->data.mapping.pairs.top - n->node->data.mapping.pairs.start);
    default:
        return 0;
    }
}

static sb_ynode node_at(const sb_ynode *parent, int index)
{
    sb_ynode n = {parent->doc, yaml_document_get_node(parent->doc, index)};
    return n;
}

sb_ynode sb_yseq_item(const sb_ynode *seq, size_t i)
{
    if (sb_ynode_kind(seq) != SB_Y_SEQ || i >= sb_ynode_count(seq))
        return (sb_ynode){seq->doc, NULL};
    return node_at(seq, seq->node->data.sequence.items.start[i]);
}

sb_ynode sb_ymap_key(const sb_ynode *map, size_t i)
{
    if (sb_ynode_kind(map) != SB_Y_MAP || i >= sb_ynode_count(map))
        return (sb_ynode){map->doc, NULL};
    return node_at(map, map->node->data.mapping.pairs.start[i].key);
}

sb_ynode sb_ymap_value(const sb_ynode *map, size_t i)
{
    if (sb_ynode_kind(map) != SB_Y_MAP || i >= sb_ynode_count(map))
        return (sb_ynode){map->doc, NULL};
    return node_at(map, map->node->data.mapping.pairs.start[i].value);
}

/* Whether node n is a scalar with exactly the bytes key[0..len). */
static bool scalar_is(const yaml_node_t *n, const char *key, size_t len)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
           !memcmp(n->data.scalar.value, key, len);
}

long sb_ymap_find(const sb_ynode *map, const char *key)
{
    size_t count = sb_ynode_count(map), len = strlen(key);
    for (size_t i = 0; i < count; i++) {
        sb_ynode k = sb_ymap_key(map, i);
        if (scalar_is(k.node, key, len))
            return (long)i;
    }
    return -1;
}

/* Open addressing over at least twice as many slots as keys, so probes stay short; a slot holds
 * a pair index + 1, 0 when empty. */
static size_t table_size(size_t count)
{
    size_t size = 16;
    while (size < 2 * count)
        size *= 2;
    return size;
}

/* The first pair with key k's bytes, inserting pair i when there is none yet. */
static long first_with_key(const sb_ynode *map, size_t *slots, size_t mask, const yaml_node_t *k,
                           size_t i)
{
    const char *bytes = (const char *)k->data.scalar.value;
    size_t len = k->data.scalar.length;
    size_t h = (size_t)sb_fnv1a64(bytes, len, SB_FNV1A64_INIT) & mask;
    for (;; h = (h + 1) & mask) {
        if (slots[h] == 0) {
            slots[h] = i + 1;
            return (long)i;
        }
        sb_ynode other = sb_ymap_key(map, slots[h] - 1);
        if (scalar_is(other.node, bytes, len))
            return (long)(slots[h] - 1);
    }
}

int sb_ymap_first_keys(const sb_ynode *map, long *first)
{
    size_t count = sb_ynode_count(map);
    if (count == 0)
        return 0;
    size_t size = table_size(count);
    size_t *slots = calloc(size, sizeof *slots);
    if (!slots)
        return SB_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        sb_ynode k = sb_ymap_key(map, i);
        first[i] =
            sb_ynode_kind(&k) == SB_Y_SCALAR ? first_with_key(map, slots, size - 1, k.node, i) : -1;
    }
    free(slots);
    return 0;
}
