/* reply.c — setting a route's answer (see reply.h): a static body, or one formatted into the
 * reply's own buffer, and the JSON escaping of the values the handlers put into their bodies.
 * No allocation: dispatchd's handlers call these on every request. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void reply_static(reply *r, int status, const char *body) {
    r->status = status;
    r->body = body;
    r->len = strlen(body);
    r->is_static = true;
    r->retry_after = 0;
}

void reply_fmt(reply *r, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf, sizeof r->buf, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof r->buf) n = (int)sizeof r->buf - 1;
    r->status = status;
    r->body = r->buf;
    r->len = (size_t)n;
    r->is_static = false;
    r->retry_after = 0;
}

size_t reply_utf8_len(const unsigned char *s, size_t n) {
    if (n == 0) return 0;
    unsigned c = s[0];
    size_t k;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        k = 1, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        k = 2, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 3, min = 0x10000;
    else
        return 0;
    if (n <= k) return 0;
    unsigned cp = c & (0x3fu >> k);
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[j] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return k + 1;
}

void reply_json_escape(const char *s, char *out, size_t cap) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, left = strlen(s);
    for (; *s; s++, left--) {
        unsigned char ch = (unsigned char)*s;
        char tmp[8];
        size_t n;
        if (ch >= 0x80) { /* a whole UTF-8 character, or U+FFFD for a byte that starts none */
            n = reply_utf8_len((const unsigned char *)s, left);
            if (n == 0) {
                memcpy(tmp, "\\ufffd", 6);
                n = 6;
            } else {
                memcpy(tmp, s, n);
                s += n - 1;
                left -= n - 1;
            }
        } else if (ch == '"' || ch == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)ch;
            n = 2;
        } else if (ch < 0x20 || ch == 0x7f) {
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[ch >> 4];
            tmp[5] = hex[ch & 15];
            n = 6;
        } else {
            tmp[0] = (char)ch;
            n = 1;
        }
        if (o + n >= cap) break;
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
}
