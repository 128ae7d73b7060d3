/* yml.c — line-numbered, one-line errors and typed scalar access over libyaml documents, shared
 * by every YAML loader (see yml.h). */
#include "core/yml.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

int yml_line(const yaml_node_t *n) {
    return n ? (int)n->start_mark.line + 1 : 1;
}

void yml_one_line(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = ' ';
}

int yml_fail(const yml_ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(c->err, c->errlen, "%s:%d: %s: %s", c->file, yml_line(n), key, msg);
    if (c->err && c->errlen) yml_one_line(c->err);
    return -1;
}

yaml_node_t *yml_node(const yml_ctx *c, int id) {
    return yaml_document_get_node(c->doc, id);
}

bool yml_is_null(const yaml_node_t *n) {
    if (!n) return true;
    if (n->type != YAML_SCALAR_NODE) return false;
    if (n->tag && !strcmp((const char *)n->tag, YAML_NULL_TAG)) return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

const char *yml_str(const yaml_node_t *n) {
    if (!n || n->type != YAML_SCALAR_NODE || yml_is_null(n)) return NULL;
    if (n->tag && strcmp((const char *)n->tag, YAML_STR_TAG)) return NULL;
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) != n->data.scalar.length) return NULL; /* holds a NUL byte */
    return v;
}
