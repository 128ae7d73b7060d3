/* yml.h — small helpers over libyaml's document API for brink's config files (race.yaml, the
 * dependency hooks of `stack fault --config`, and later brink.yaml): every error is one line that
 * names the file, the line and the key ("deps.yaml:7: dependencies.redis.stop_cmd: expected a
 * string or a list of strings"). */
#ifndef BRINK_YML_H
#define BRINK_YML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

typedef struct yml_ctx {
    yaml_document_t *doc;
    const char *file;
    char *err;
    size_t errlen;
} yml_ctx;

/* Flattens a message to one line in place: control characters become spaces. */
void yml_one_line(char *s);
/* 1-based line of a node (1 when n is NULL). */
int yml_line(const yaml_node_t *n);
/* Writes "FILE:LINE: KEY: message" (one line) into the context's err; returns -1. */
int yml_fail(const yml_ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
yaml_node_t *yml_node(const yml_ctx *c, int id);
/* True for a missing node, an explicit !!null, or a plain empty/~/null scalar. */
bool yml_is_null(const yaml_node_t *n);
/* The string value of a scalar, or NULL when n is not a string (or holds a NUL byte). */
const char *yml_str(const yaml_node_t *n);

#endif
