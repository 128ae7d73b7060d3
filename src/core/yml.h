/* yml.h — brink's config files (brink.yaml, race.yaml, the dependency hooks) over libyaml's
 * document API. A loader reads the whole file with yml_load_file (one document, syntax errors with
 * their line) and walks the tree with tables: a yml_table lists the keys a mapping may hold, each
 * row a key, a kind (string, file, duration, number, int, bool, text buffer, a nested mapping, a
 * mapping of names, a list, a handler), where the value goes (an offset into the walked object),
 * its bounds and, for a required key, what is missing. yml_walk checks the mapping against it:
 * string keys, no duplicates, unknown keys named with the keys it wants and the closest one, each
 * value typed, required keys present, then the table's finish (checks across keys, defaults).
 * Every error is one line that names the file, the line and the key path ("deps.yaml:7:
 * dependencies.redis.stop_cmd: expected a string or a list of strings, found a mapping"). */
#ifndef BRINK_YML_H
#define BRINK_YML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define YML_KEY_MAX 512 /* longest key path in a message ("race.truth.http.winner") */

/* Limits of a config file (docs/config.md), checked before the work they bound, so that a big or
 * deep file is refused at once instead of after libyaml's or the duplicate-key scan's quadratic
 * time: the file's size (before parsing); the nesting of its mappings and lists, the top one
 * counting as the first, and its anchors (&name) (while parsing, before a document is built); the
 * keys of one mapping (before they are compared). */
#define YML_MAX_BYTES   (1 << 20) /* 1 MiB */
#define YML_MAX_DEPTH   64
#define YML_MAX_ANCHORS 100
#define YML_MAX_KEYS    1000

typedef struct yml_ctx yml_ctx;
struct yml_ctx {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
    /* Prepended to every key in messages ("race" makes "claim.body" read "race.claim.body"), so
     * that a section's parser can run on a sub-node of a bigger file. NULL or "": none. */
    const char *prefix;
};

/* Flattens a message to one line in place: control characters become spaces. */
void yml_one_line(char *s);
/* 1-based line of a node (1 when n is NULL). */
int yml_line(const yaml_node_t *n);
/* Writes "FILE:LINE: KEY: message" (one line) into the context's err; returns -1. A key that
 * starts with '(' ("(top level)") is replaced by the prefix when there is one. */
int yml_fail(const yml_ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
yaml_node_t *yml_node(const yml_ctx *c, int id);
/* True for a missing node, an explicit !!null, or a plain empty/~/null scalar. */
bool yml_is_null(const yaml_node_t *n);
/* The string value of a scalar, or NULL when n is not a string (or holds a NUL byte). */
const char *yml_str(const yaml_node_t *n);
/* "a mapping", "a list", "a string", "nothing (null)", ... — for "expected X, found Y". */
const char *yml_kind(const yaml_node_t *n);
/* The node to point at for a value: the value itself, or its key when the value is empty. */
const yaml_node_t *yml_where(const yaml_node_t *k, const yaml_node_t *v);
/* out = a.b (b alone when a is empty) in YML_KEY_MAX bytes; a path too long ends in "...". */
void yml_join(char *out, const char *a, const char *b);

/* Every key of map is a string and none appears twice; at most YML_MAX_KEYS of them. 0 or -1. */
int yml_check_keys(const yml_ctx *c, const yaml_node_t *map, const char *key);
/* The value v of key k must be a mapping (then its keys are checked); what says what it holds,
 * after "expected a mapping " ("(orange: X, red: Y)", "with one entry per dependency"). */
int yml_want_map(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                 const char *what);

/* Typed values. Each returns 0, or -1 with "FILE:LINE: KEY: expected ..., found ..." in the
 * context's err. k is the value's key node (pointed at when the value is empty). */
int yml_get_str(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                const char *what, char **out); /* strdup'd; *out is freed first */
int yml_get_duration(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                     int64_t min_ns, int64_t *out);
int yml_get_number(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                   double min, double max, double *out);
int yml_get_int(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                int64_t min, int64_t max, int64_t *out);
int yml_get_bool(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                 bool *out); /* true or false */

/* An HTTP header "name: value" (name name_len bytes) checked (a token name, no line break in the
 * value) into *out (malloc'd). 0, or -1 naming key at node at. */
int yml_header(const yml_ctx *c, const yaml_node_t *at, const char *key, const char *name,
               size_t name_len, const char *value, char **out);

/* The placeholders of a template: allowed is a "|"-separated list ("id|vendor|run"); with
 * engine, the load engine's too ({{seq}}, {{uuid}}, {{rand:A-B}}, {{now_s}}, ...). An unknown
 * one, or a '{{' without '}}', is an error naming the allowed ones. */
int yml_check_placeholders(const yml_ctx *c, const yaml_node_t *v, const char *key, const char *s,
                           const char *allowed, bool engine);

/* ---- tables ----------------------------------------------------------------------------------
 */

typedef enum yml_type {
    YML_END = 0,  /* the row that ends a table */
    YML_STR,      /* char *, strdup'd (what: "a postgresql:// URL" for "expected ..., found ...") */
    YML_FILE,     /* char *, a file name made relative to the YAML file's directory */
    YML_TEXT,     /* char[max], not empty and shorter than max bytes */
    YML_DURATION, /* int64_t nanoseconds, at least min (1: more than 0) */
    YML_NUMBER,   /* double in [min, max] */
    YML_INT,      /* int (pid_t too) in [min, max] */
    YML_BOOL,     /* bool: true or false */
    YML_MAP,      /* a mapping walked against sub, into the object at off */
    YML_EACH,     /* a mapping of names (what it holds): fn on each entry */
    YML_LIST,     /* a list (what it holds): fn on each item, its key "KEY[i]" */
    YML_CUSTOM,   /* fn parses the value */
    YML_INCLUDE,  /* no key: sub's rows belong to this table, their object at off */
} yml_type;

typedef struct yml_field yml_field;

/* What a handler is given: the key node (NULL for a list item or a whole file), the value, the key
 * path for messages, and the row's destination (the object plus the row's offset). */
typedef struct yml_val {
    const yaml_node_t *k, *v;
    const char *key;
    void *dst;
    const yml_field *f;
} yml_val;

/* 0, or -1 after yml_fail. obj is the walked object (for an included row, the included one). */
typedef int (*yml_fn)(const yml_ctx *c, const yml_val *x, void *obj);

typedef struct yml_table {
    const char *what;      /* the keys, for "expected a mapping WHAT, found ..." */
    const yml_field *rows; /* ended by a {0} row */
    yml_fn finish;         /* after the walk (x: the mapping itself), or NULL */
} yml_table;

/* A row: {"key", YML_STR, offsetof(config, url), .what = "a URL", .fn = check_url, .missing =
 * "the service's URL"} — the key, the kind and the offset, then designated fields (at least one:
 * gcc's -Wmissing-field-initializers). A table's rows end with {0}. */
struct yml_field {
    const char *key;
    yml_type type;
    size_t off;           /* destination: offsetof(the walked struct, field) */
    const char *what;     /* STR, FILE: the value expected; EACH, LIST: what they hold */
    double min, max;      /* bounds (DURATION: min ns; TEXT: max is the buffer's size) */
    yml_fn fn;            /* CUSTOM, EACH, LIST: the parser; other kinds: a check after the
                           * value is stored (x->dst holds it) */
    const yml_table *sub; /* MAP, INCLUDE */
    const char *missing;  /* required: "missing: MISSING" when the key is absent */
    bool hidden;          /* left out of "want ..." and suggestions (a known mistake) */
};

/* Walks the mapping v (key node k, NULL at the top level or for a list item; path key) against
 * table t, storing into obj. Unknown keys: "unknown key (want a, b or c); did you mean 'b'?".
 * A missing required key points at k, or at v without one. 0 or -1. */
int yml_walk(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
             const yml_table *t, void *obj);
/* A mapping of names (what: "(Name: value)"): fn on each entry, x->key the entry's path. */
int yml_each(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
             const char *what, yml_fn fn, void *obj);
/* A list (what: "of probes (- {name, kind, ...})"): fn on each item, x->key "KEY[i]". */
int yml_items(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
              const char *what, yml_fn fn, void *obj);
/* The value of name in mapping map (NULL when absent); *key_node its key when key_node. */
const yaml_node_t *yml_find(const yml_ctx *c, const yaml_node_t *map, const char *name,
                            const yaml_node_t **key_node);
/* p relative to the directory of file (p itself when absolute); malloc'd, NULL on OOM. */
char *yml_relative_to(const char *file, const char *p);

/* Reads path as exactly one YAML document into *doc (yaml_document_delete it after use). -1 with
 * one line: the file cannot be read, "FILE: too big (N bytes; ...)" (over YML_MAX_BYTES),
 * "FILE:LINE: nested more than 64 levels deep" (YML_MAX_DEPTH), "FILE:LINE: more than 100 anchors
 * (&a)" (YML_MAX_ANCHORS), "FILE:LINE: YAML syntax error: ...", or a second document. */
int yml_load_file(const char *path, yaml_document_t *doc, char *err, size_t errlen);

#endif
