/* jpath.c — JSON paths over jansson: the race's read of ids and winners, the load scenarios'
 * checks and captures. Paths are short and walked per use (no compiled form): a key is copied to
 * a NUL-terminated buffer for jansson's lookup, an index parsed in place. */
#include "core/jpath.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int jpath_find(json_t *root, const char *path, json_t **out, char *err, size_t errlen) {
    const char *p = path;
    if (p[0] == '$') {
        p++;
        if (*p == '.') p++;
        if (!*p) {
            *out = root;
            return 0;
        }
    }
    if (!*p) {
        err_set(err, errlen, "empty JSON path");
        return -1;
    }
    json_t *cur = root;
    bool first = true;
    while (*p) {
        if (*p == '[') {
            char *end;
            long idx = strtol(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || idx < 0) {
                err_set(err, errlen, "JSON path '%s': want [N] with N a non-negative index", path);
                return -1;
            }
            cur = json_is_array(cur) ? json_array_get(cur, (size_t)idx) : NULL;
            p = end + 1;
        } else {
            if (!first) {
                if (*p != '.') {
                    err_set(err, errlen, "JSON path '%s': expected '.' or '[' at '%s'", path, p);
                    return -1;
                }
                p++;
            }
            size_t len = strcspn(p, ".[");
            if (len == 0) {
                err_set(err, errlen, "JSON path '%s': empty key", path);
                return -1;
            }
            char key[256];
            if (len >= sizeof key) {
                err_set(err, errlen, "JSON path '%s': key too long", path);
                return -1;
            }
            memcpy(key, p, len);
            key[len] = '\0';
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            p += len;
        }
        first = false;
    }
    *out = cur;
    return 0;
}

int jpath_check(const char *path, char *err, size_t errlen) {
    json_t *dummy = json_object(), *v;
    int rc = jpath_find(dummy, path, &v, err, errlen);
    json_decref(dummy);
    return rc;
}

int jpath_scalar(const json_t *v, char *out, size_t outlen) {
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v)) {
        snprintf(out, outlen, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(out, outlen, "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(out, outlen, "%s", json_is_true(v) ? "true" : "false");
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, outlen, "%s", s ? s : "");
        free(s);
    }
    return 1;
}

int jpath_get(const char *body, size_t len, const char *path, char *out, size_t outlen) {
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &je);
    if (!root) return -1;
    json_t *v = NULL;
    int rc = jpath_find(root, path, &v, NULL, 0) < 0 ? 0 : jpath_scalar(v, out, outlen);
    json_decref(root);
    return rc;
}
