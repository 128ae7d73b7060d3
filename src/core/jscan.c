/* jscan.c — JSON values read in place (jscan.h): a recursive skipper over RFC 8259's grammar that
 * walks a path by skipping every member and item it does not want. Nothing is allocated; depth is
 * bounded (JSCAN_DEPTH) so that hostile nesting cannot exhaust the stack. */
#include "core/jscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSCAN_DEPTH 256

static const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* p at '"': the byte after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *e, bool *escaped) {
    for (p++; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c != '\\') continue;
        *escaped = true;
        if (++p >= e) return NULL;
        if (*p == 'u') {
            if (e - p < 5) return NULL;
            for (int i = 1; i <= 4; i++)
                if (hex(p[i]) < 0) return NULL;
            p += 4;
        } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
            return NULL;
        }
    }
    return NULL;
}

static const char *digits(const char *p, const char *e) {
    const char *s = p;
    while (p < e && *p >= '0' && *p <= '9') p++;
    return p > s ? p : NULL;
}

static const char *skip_number(const char *p, const char *e) {
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0')
        p++;
    else if (!(p = digits(p, e)))
        return NULL;
    if (p < e && *p == '.' && !(p = digits(p + 1, e))) return NULL;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!(p = digits(p, e))) return NULL;
    }
    return p;
}

static const char *literal(const char *p, const char *e, const char *word) {
    size_t n = strlen(word);
    return (size_t)(e - p) >= n && !memcmp(p, word, n) ? p + n : NULL;
}

static const char *skip_value(const char *p, const char *e, int depth);

/* p at '{' or '[': the byte after the matching close, or NULL. */
static const char *skip_container(const char *p, const char *e, int depth) {
    char close = *p == '{' ? '}' : ']';
    bool object = *p == '{';
    p = ws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
        if (object) {
            bool esc = false;
            if (p >= e || *p != '"' || !(p = skip_string(p, e, &esc))) return NULL;
            p = ws(p, e);
            if (p >= e || *p != ':') return NULL;
            p++;
        }
        if (!(p = skip_value(p, e, depth + 1))) return NULL;
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        return p < e && *p == close ? p + 1 : NULL;
    }
}

/* A value at p (after blanks): the byte after it, or NULL. */
static const char *skip_value(const char *p, const char *e, int depth) {
    bool esc = false;
    p = ws(p, e);
    if (p >= e || depth > JSCAN_DEPTH) return NULL;
    switch (*p) {
    case '{':
    case '[': return skip_container(p, e, depth);
    case '"': return skip_string(p, e, &esc);
    case 't': return literal(p, e, "true");
    case 'f': return literal(p, e, "false");
    case 'n': return literal(p, e, "null");
    default: return skip_number(p, e);
    }
}

bool jscan_valid(const char *text, size_t len) {
    const char *e = text + len, *p = skip_value(text, e, 0);
    return p && ws(p, e) == e;
}

/* A string's raw bytes (between the quotes) equal key[0..n) once decoded. */
static bool key_is(const char *raw, size_t rawlen, bool escaped, const char *key, size_t n) {
    if (!escaped) return rawlen == n && !memcmp(raw, key, n);
    char buf[256];
    jscan_val v = {.type = JS_STRING, .p = raw, .len = rawlen, .escaped = true};
    int m = jscan_text(&v, buf, sizeof buf);
    return m >= 0 && (size_t)m == n && !memcmp(buf, key, n);
}

/* In the object at p, the value of key[0..n): its start, NULL when absent; *bad on a syntax
 * error. */
static const char *member(const char *p, const char *e, const char *key, size_t n, bool *bad) {
    p = ws(p + 1, e);
    if (p < e && *p == '}') return NULL;
    for (;;) {
        bool esc = false;
        const char *k = p;
        if (p >= e || *p != '"' || !(p = skip_string(p, e, &esc))) break;
        bool match = key_is(k + 1, (size_t)(p - k - 2), esc, key, n);
        p = ws(p, e);
        if (p >= e || *p != ':') break;
        p = ws(p + 1, e);
        if (match) return p;
        if (!(p = skip_value(p, e, 1))) break;
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') return NULL;
        break;
    }
    *bad = true;
    return NULL;
}

/* In the array at p, item idx: its start, NULL when past the end; *bad on a syntax error. */
static const char *item(const char *p, const char *e, long idx, bool *bad) {
    p = ws(p + 1, e);
    if (p < e && *p == ']') return NULL;
    for (long i = 0;; i++) {
        if (i == idx) return p;
        if (!(p = skip_value(p, e, 1))) break;
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == ']') return NULL;
        break;
    }
    *bad = true;
    return NULL;
}

/* path after its "$." is well-formed: keys (not empty) joined by '.', items [N]. */
static bool path_ok(const char *q) {
    bool first = true;
    while (*q) {
        if (*q == '[') {
            char *end;
            long idx = strtol(q + 1, &end, 10);
            if (end == q + 1 || *end != ']' || idx < 0 || q[1] == '-' || q[1] == '+') return false;
            q = end + 1;
        } else {
            if (!first && *q++ != '.') return false;
            size_t n = strcspn(q, ".[");
            if (n == 0) return false;
            q += n;
        }
        first = false;
    }
    return true;
}

int jscan_find(const char *text, size_t len, const char *path, jscan_val *v) {
    const char *p = ws(text, text + len), *e = text + len, *q = path;
    if (*q == '$') {
        q++;
        if (*q == '.') q++;
    }
    if (!path_ok(q)) return -1;
    bool first = true;
    while (*q) {
        bool bad = false;
        if (*q == '[') {
            char *end;
            long idx = strtol(q + 1, &end, 10);
            if (end == q + 1 || *end != ']' || idx < 0) return -1;
            q = end + 1;
            if (p >= e || *p != '[') return p < e && strchr("{\"tfn-0123456789", *p) ? 0 : -1;
            p = item(p, e, idx, &bad);
        } else {
            if (!first) {
                if (*q != '.') return -1;
                q++;
            }
            size_t n = strcspn(q, ".[");
            if (n == 0) return -1;
            if (p >= e || *p != '{') return p < e && strchr("[\"tfn-0123456789", *p) ? 0 : -1;
            p = member(p, e, q, n, &bad);
            q += n;
        }
        if (bad) return -1;
        if (!p) return 0;
        first = false;
    }
    const char *end = skip_value(p, e, 0);
    if (!end) return -1;
    v->p = p;
    v->len = (size_t)(end - p);
    v->escaped = false;
    switch (*p) {
    case '{': v->type = JS_OBJECT; break;
    case '[': v->type = JS_ARRAY; break;
    case 't':
    case 'f': v->type = JS_BOOL; break;
    case 'n': v->type = JS_NULL; break;
    case '"':
        v->type = JS_STRING;
        v->p = p + 1;
        v->len -= 2;
        v->escaped = memchr(v->p, '\\', v->len) != NULL;
        break;
    default: v->type = JS_NUMBER;
    }
    return 1;
}

/* Appends code point cp as UTF-8; false when it does not fit. */
static bool put_utf8(char *out, size_t outlen, size_t *o, uint32_t cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (*o + n >= outlen) return false;
    memcpy(out + *o, b, n);
    *o += n;
    return true;
}

static uint32_t hex4(const char *p) {
    return (uint32_t)(hex(p[0]) << 12 | hex(p[1]) << 8 | hex(p[2]) << 4 | hex(p[3]));
}

int jscan_text(const jscan_val *v, char *out, size_t outlen) {
    if (!outlen) return -1;
    if (!v->escaped) {
        if (v->len >= outlen) return -1;
        memcpy(out, v->p, v->len);
        out[v->len] = '\0';
        return (int)v->len;
    }
    size_t o = 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->p[i];
        if (c == '\\') {
            c = v->p[++i];
            if (c == 'u') {
                uint32_t cp = hex4(v->p + i + 1);
                i += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < v->len && v->p[i + 1] == '\\' &&
                    v->p[i + 2] == 'u') {
                    uint32_t lo = hex4(v->p + i + 3);
                    if (lo >= 0xdc00 && lo < 0xe000) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                    }
                }
                if (!put_utf8(out, outlen, &o, cp)) return -1;
                continue;
            }
            c = c == 'b'   ? '\b'
                : c == 'f' ? '\f'
                : c == 'n' ? '\n'
                : c == 'r' ? '\r'
                : c == 't' ? '\t'
                           : c;
        }
        if (o + 1 >= outlen) return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}
