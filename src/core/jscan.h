/* jscan.h — reading values out of a JSON text in place, without building a tree or allocating:
 * the load engine's checks and captures run on every response, where a parse into jansson's tree
 * (core/jpath.h) costs an allocation per value. Paths are core/jpath.h's ("data.items[0].sku",
 * "$.id"). */
#ifndef BRINK_JSCAN_H
#define BRINK_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

typedef enum jscan_type {
    JS_NULL,
    JS_BOOL,
    JS_NUMBER,
    JS_STRING,
    JS_OBJECT,
    JS_ARRAY,
} jscan_type;

/* A value found in the text: its type and where it is — for a string the bytes between the quotes
 * (escapes not decoded: escaped tells), for anything else the whole token. */
typedef struct jscan_val {
    jscan_type type;
    const char *p;
    size_t len;
    bool escaped;
} jscan_val;

/* True when text[0..len) is one well-formed JSON value (RFC 8259), blanks around it allowed. */
bool jscan_valid(const char *text, size_t len);
/* The value at path: 1 with *v filled (null included, as JS_NULL), 0 when the path leads nowhere
 * (a missing key, an index past the end, a key of something that is not an object), -1 when the
 * text is not JSON on the way or the path is malformed. */
int jscan_find(const char *text, size_t len, const char *path, jscan_val *v);
/* v as text — a string decoded (escapes, \u sequences as UTF-8), anything else as written — into
 * out with a NUL: its length, or -1 when it does not fit in outlen bytes. */
int jscan_text(const jscan_val *v, char *out, size_t outlen);

#endif
