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

void reply_json_escape(const char *s, char *out, size_t cap) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char tmp[8];
        size_t n;
        if (ch == '"' || ch == '\\') {
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
