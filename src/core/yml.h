/* yml.h — small helpers over libyaml's document API for brink's config files (race.yaml, the
 * dependency hooks of `stack fault --config`, and brink.yaml): every error is one line that names
 * the file, the line and the key ("deps.yaml:7: dependencies.redis.stop_cmd: expected a string or
 * a list of strings"). A loader reads the whole file with yml_load_file (one document, syntax
 * errors with their line), then walks the tree: yml_check_keys on each mapping (string keys, no
 * duplicates), the typed getters on each value. */
#ifndef BRINK_YML_H
#define BRINK_YML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define YML_KEY_MAX 512 /* longest key path in a message ("race.truth.http.winner") */

typedef struct yml_ctx {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
    /* Prepended to every key in messages ("race" makes "claim.body" read "race.claim.body"), so
     * that a section's parser can run on a sub-node of a bigger file. NULL or "": none. */
    const char *prefix;
} yml_ctx;

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

/* Every key of map is a string and none appears twice. 0 or -1. */
int yml_check_keys(const yml_ctx *c, const yaml_node_t *map, const char *key);
/* The value v of key k must be a mapping (then its keys are checked); what says what it holds. */
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

/* The placeholders of a template: allowed is a "|"-separated list ("id|vendor|run"); with
 * engine, the load engine's too ({{seq}}, {{uuid}}, {{rand:A-B}}, {{now_s}}, ...). An unknown
 * one, or a '{{' without '}}', is an error naming the allowed ones. */
int yml_check_placeholders(const yml_ctx *c, const yaml_node_t *v, const char *key, const char *s,
                           const char *allowed, bool engine);

/* Reads path as exactly one YAML document into *doc (yaml_document_delete it after use). -1 with
 * one line: the file cannot be read, "FILE:LINE: YAML syntax error: ...", or a second document. */
int yml_load_file(const char *path, yaml_document_t *doc, char *err, size_t errlen);

#endif
