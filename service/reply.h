/* reply.h — the answer a route handler gives (status, body, Retry-After), filled in by the
 * handlers of webhook.c and accept.c and by http.c's own routes without knowing libmicrohttpd;
 * http.c turns it into a response. A reply lives in its handler's frame or in the connection's
 * context: setting one allocates nothing. */
#ifndef DISPATCHD_REPLY_H
#define DISPATCHD_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#define REPLY_BUF 4096

typedef struct reply {
    int status;
    /* The body: either a string literal (is_static; its response object is built once and
     * reused by every request), or text written into buf. */
    const char *body;
    size_t len;
    bool is_static;
    int retry_after; /* seconds; 0: no Retry-After header */
    char buf[REPLY_BUF];
} reply;

/* Sets a static reply (body must be a string literal or otherwise immortal). */
void reply_static(reply *r, int status, const char *body);
/* Sets a reply formatted into r->buf (printf-style). */
void reply_fmt(reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The length of the UTF-8 character at s[0..n) (1 to 4 bytes; RFC 3629: no overlong form, no
 * surrogate, nothing above U+10FFFF), 0 when none starts there. */
size_t reply_utf8_len(const unsigned char *s, size_t n);
/* JSON-escapes s (without quotes) into out (cap bytes, truncated between characters,
 * NUL-terminated); a byte that starts no UTF-8 character becomes \ufffd, so out is valid JSON
 * text whatever s holds. */
void reply_json_escape(const char *s, char *out, size_t cap);

#endif
