/* http.h — dispatchd's HTTP front: event-loop threads running libmicrohttpd daemons (and their
 * Redis pipes), executor threads for what waits for PostgreSQL, routing, limits (body size, head
 * size, idle and request timeouts, connections), and the reply type that the route handlers
 * (webhook.c, accept.c) fill in without knowing libmicrohttpd. */
#ifndef DISPATCHD_HTTP_H
#define DISPATCHD_HTTP_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

#define HTTPD_REPLY_BUF 4096

typedef struct httpd_reply {
    int status;
    /* The body: either a string literal (is_static; its response object is built once and
     * reused by every request), or text written into buf. */
    const char *body;
    size_t len;
    bool is_static;
    int retry_after; /* seconds; 0: no Retry-After header */
    char buf[HTTPD_REPLY_BUF];
} httpd_reply;

/* Sets a static reply (body must be a string literal or otherwise immortal). */
void httpd_reply_static(httpd_reply *r, int status, const char *body);
/* Sets a reply formatted into r->buf (printf-style). */
void httpd_reply_fmt(httpd_reply *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* JSON-escapes s (without quotes) into out (cap bytes, truncated, NUL-terminated). */
void httpd_json_escape(const char *s, char *out, size_t cap);

/* Starts serving (the daemon's threads run the handlers). 0, or -1 with err. */
int httpd_start(const dcfg *c, char *err, size_t errlen);
/* The bound port (useful with port 0). */
int httpd_port(void);
/* Stops accepting new connections (the listening socket is closed). */
void httpd_quiesce(void);
/* Waits until no request is in flight or timeout_ms passed; returns the requests still in flight.
 */
long httpd_drain(int timeout_ms);
void httpd_stop(void);

#endif
