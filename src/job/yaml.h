/* Private: a YAML document read with libyaml's document API, and read-only access to its nodes.
 *
 * libyaml keeps a start mark (0-based line and column) on every node, which is why job files are
 * not read with libcyaml: a problem found after parsing (a value out of range, a generator that
 * is not a permutation) can still be reported at file:line:column. */
#ifndef SB_JOB_YAML_H
#define SB_JOB_YAML_H

#include "symbatch/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/* A loaded document.  Zero-initialise, then sb_yaml_load; sb_yaml_free in every case. */
typedef struct sb_ydoc {
    yaml_document_t doc;
    bool loaded;
} sb_ydoc;

/* A node of a document: the name job.h uses in schema callbacks.  Small, passed by value or by
 * pointer; `node` is NULL for "no node" (an empty document, a key that is absent). */
struct sb_ynode {
    yaml_document_t *doc;
    yaml_node_t *node;
};
typedef struct sb_ynode sb_ynode;

typedef enum { SB_Y_NONE = 0, SB_Y_SCALAR, SB_Y_SEQ, SB_Y_MAP } sb_ykind;

/* Parses `text` as exactly one YAML document.  Syntax errors, a second document, and anchors or
 * aliases are reported to diag as "PATH:LINE:COL: ..." and give SB_EINPUT; an empty text gives
 * 0 and a document whose root is absent (the caller decides what that means). */
int sb_yaml_load(sb_ydoc *d, const char *path, const char *text, size_t len, sb_diag *diag);
void sb_yaml_free(sb_ydoc *d);
sb_ynode sb_yaml_root(sb_ydoc *d);

sb_ykind sb_ynode_kind(const sb_ynode *n);
/* "a mapping", "a sequence", "a string", "null"... for "got ..." in messages. */
const char *sb_ynode_describe(const sb_ynode *n);
/* 1-based position of the node's first character. */
int sb_ynode_line(const sb_ynode *n);
int sb_ynode_column(const sb_ynode *n);

/* Scalars.  The text is NUL-terminated; `plain` is false for quoted and block scalars, whose
 * text is always a string (so "12" in quotes is not an integer). */
const char *sb_ynode_text(const sb_ynode *n);
/* The scalar's length in bytes (0 for other nodes).  A quoted scalar may hold a NUL ("\0",
 * "\u0000"): then the text reads shorter than this, so checks of a value's bytes use it. */
size_t sb_ynode_length(const sb_ynode *n);
bool sb_ynode_plain(const sb_ynode *n);
/* A plain scalar that YAML 1.2 reads as null: "null", "Null", "NULL", "~" or nothing at all. */
bool sb_ynode_is_null(const sb_ynode *n);

/* Sequences and mappings: number of items / pairs, and access by index. */
size_t sb_ynode_count(const sb_ynode *n);
sb_ynode sb_yseq_item(const sb_ynode *seq, size_t i);
sb_ynode sb_ymap_key(const sb_ynode *map, size_t i);
sb_ynode sb_ymap_value(const sb_ynode *map, size_t i);
/* Index of the first pair whose key is the scalar `key` (all of its bytes), or -1.  A linear
 * search: for a few fixed names, not for every key of a mapping. */
long sb_ymap_find(const sb_ynode *map, const char *key);
/* For every pair i of the mapping, first[i] = the index of the first pair whose scalar key has
 * the same bytes (i itself when no earlier pair has it), or -1 when the key is not a scalar.
 * `first` has sb_ynode_count(map) entries.  Linear time (a hash table), so that a file of many
 * keys is checked for duplicates as fast as it is read.  Returns 0 or SB_ENOMEM. */
int sb_ymap_first_keys(const sb_ynode *map, long *first);

#endif
