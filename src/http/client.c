/* client.c — a small blocking HTTP/1.1 client (see client.h) for the set-up and audit steps of the
 * scenarios: creating resources, polling until they are visible, reading the ground truth. The
 * load engine stays the only hot path; this file favours plainness over speed.
 *
 * The socket is non-blocking and every wait is a poll() bounded by the caller's deadline, so a
 * server that accepts and never answers costs at most the timeout. Bytes go through the engine's
 * transport table (plain TCP or TLS), responses through libhttp-parser: the parser pauses at the
 * end of a message, interim 1xx responses are skipped, a body without a length ends when the
 * server closes. A connection that the server closed while it sat idle is noticed before the
 * next request (a readable idle socket means end-of-file or garbage: reconnect), and a request
 * that fails on a reused connection before any byte of a response arrived is retried once when
 * its method is idempotent — what browsers and curl do. */
#include "http/client.h"

#include <errno.h>
#include <http_parser.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "http/transport.h"
#include "http/url.h"

struct client {
    url u;
    char *base;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const transport *tp;
    transport_conn tc;
    bool open;
    bool used; /* the connection carried a complete response: it is a reused keep-alive one */
    http_parser p;
    http_parser_settings s;
    bool head; /* the pending request is a HEAD: no body follows the headers */
    bool complete, too_large, got_bytes, keep_alive;
    int status;
    char *body;
    size_t body_len, body_cap;
    char *wbuf;
    size_t wcap;
    char rbuf[16384];
};

const char *client_err_name(client_err e) {
    switch (e) {
    case CLIENT_OK: return "ok";
    case CLIENT_ERR_CONNECT: return "connect";
    case CLIENT_ERR_TIMEOUT: return "timeout";
    case CLIENT_ERR_RESET: return "reset";
    case CLIENT_ERR_CLOSED: return "closed";
    case CLIENT_ERR_PARSE: return "parse";
    case CLIENT_ERR_TLS: return "tls";
    }
    return "error";
}

static int fail(client_err *why, client_err e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(client_err *why, client_err e, char *err, size_t errlen, const char *fmt, ...) {
    if (why) *why = e;
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- parser callbacks ---------------------------------------------------------------------- */

static int on_message_begin(http_parser *p) {
    client *c = p->data;
    c->body_len = 0;
    if (c->body) c->body[0] = '\0';
    return 0;
}

static int on_headers_complete(http_parser *p) {
    client *c = p->data;
    return c->head ? 1 : 0; /* 1: no body follows */
}

static int on_body(http_parser *p, const char *at, size_t len) {
    client *c = p->data;
    if (c->body_len + len > CLIENT_BODY_MAX) {
        c->too_large = true;
        return -1;
    }
    if (c->body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 1024;
        while (cap < c->body_len + len + 1) cap *= 2;
        char *b = realloc(c->body, cap);
        if (!b) {
            c->too_large = true;
            return -1;
        }
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    c->body[c->body_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p) {
    client *c = p->data;
    unsigned s = p->status_code;
    if (s >= 100 && s < 200 && s != 101) return 0; /* interim: the real response follows */
    c->status = (int)s;
    c->complete = true;
    http_parser_pause(p, 1);
    return 0;
}

/* ---- life cycle ---------------------------------------------------------------------------- */

int client_new(const char *base_url, bool insecure, client **out, char *err, size_t errlen) {
    client *c = calloc(1, sizeof *c);
    if (!c) return fail(NULL, CLIENT_OK, err, errlen, "out of memory");
    c->tc.fd = -1;
    if (url_parse(base_url, &c->u, err, errlen) < 0) {
        free(c);
        return -1;
    }
    c->base = strdup(base_url);
    if (!c->base) {
        client_free(c);
        return fail(NULL, CLIENT_OK, err, errlen, "out of memory");
    }
    if (url_resolve(&c->u, &c->addr, &c->addrlen, err, errlen) < 0) {
        client_free(c);
        return -1;
    }
    c->tp = c->u.tls ? &transport_tls : &transport_plain;
    if (c->u.tls && transport_tls_init(insecure, err, errlen) < 0) {
        client_free(c);
        return -1;
    }
    c->s.on_message_begin = on_message_begin;
    c->s.on_headers_complete = on_headers_complete;
    c->s.on_body = on_body;
    c->s.on_message_complete = on_message_complete;
    *out = c;
    return 0;
}

void client_free(client *c) {
    if (!c) return;
    client_close(c);
    url_free(&c->u);
    free(c->base);
    free(c->body);
    free(c->wbuf);
    free(c);
}

const char *client_host_header(const client *c) {
    return c->u.host_header;
}

const char *client_base_url(const client *c) {
    return c->base;
}

bool client_is_open(const client *c) {
    return c->open;
}

int client_fd(const client *c) {
    return c->open ? c->tc.fd : -1;
}

void client_close(client *c) {
    if (c->tc.fd >= 0 || c->tc.ssl) c->tp->close(&c->tc);
    c->tc.fd = -1;
    c->open = false;
    c->used = false;
}

/* ---- waiting ------------------------------------------------------------------------------- */

/* Waits until fd is ready for ev: 1 ready (or an error/hang-up to be found by the next call),
 * 0 when the deadline passed. */
static int wait_fd(int fd, short ev, int64_t deadline_ns) {
    for (;;) {
        int64_t left = deadline_ns - clock_now_ns();
        if (left <= 0) return 0;
        struct pollfd pfd = {.fd = fd, .events = ev};
        int ms = (int)((left + NS_PER_MS - 1) / NS_PER_MS);
        int n = poll(&pfd, 1, ms);
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return 1;
    }
}

static double secs(int64_t ns) {
    return (double)ns / NS_PER_S;
}

/* ---- connecting ---------------------------------------------------------------------------- */

/* An idle open connection that is readable was closed by the server (or holds bytes nobody asked
 * for): either way it cannot carry the next request. */
static bool idle_conn_broken(client *c) {
    struct pollfd pfd = {.fd = c->tc.fd, .events = POLLIN};
    if (c->tp->pending(&c->tc) > 0) return true;
    return poll(&pfd, 1, 0) != 0;
}

int client_connect(client *c, int64_t deadline_ns, client_err *why, char *err, size_t errlen) {
    if (c->open && !idle_conn_broken(c)) return 0;
    client_close(c);
    int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(why, CLIENT_ERR_CONNECT, err, errlen, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->tc = (transport_conn){.fd = fd};
    if (connect(fd, (struct sockaddr *)&c->addr, c->addrlen) < 0 && errno != EINPROGRESS) {
        int e = errno;
        client_close(c);
        return fail(why, CLIENT_ERR_CONNECT, err, errlen, "connect to %s: %s", c->u.host_header,
                    strerror(e));
    }
    if (!wait_fd(fd, POLLOUT, deadline_ns)) {
        client_close(c);
        return fail(why, CLIENT_ERR_TIMEOUT, err, errlen, "connect to %s: timed out",
                    c->u.host_header);
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
        client_close(c);
        return fail(why, CLIENT_ERR_CONNECT, err, errlen, "connect to %s: %s", c->u.host_header,
                    strerror(soerr));
    }
    for (;;) {
        int h = c->tp->handshake(&c->tc, c->u.host, c->u.host_is_ip);
        if (h == 1) break;
        if (h < 0) {
            client_close(c);
            return fail(why, CLIENT_ERR_TLS, err, errlen, "TLS with %s: %s", c->u.host_header,
                        transport_tls_last_error());
        }
        if (!wait_fd(fd, c->tc.want_write ? POLLOUT : POLLIN, deadline_ns)) {
            client_close(c);
            return fail(why, CLIENT_ERR_TIMEOUT, err, errlen, "TLS with %s: timed out",
                        c->u.host_header);
        }
    }
    c->open = true;
    c->used = false;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------- */

int client_write_all(client *c, const char *buf, size_t len, int64_t deadline_ns, client_err *why,
                     char *err, size_t errlen) {
    if (!c->open) return fail(why, CLIENT_ERR_CLOSED, err, errlen, "not connected");
    size_t off = 0;
    while (off < len) {
        ssize_t n = c->tp->write(&c->tc, buf + off, len - off);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n == TRANSPORT_AGAIN) {
            if (!wait_fd(c->tc.fd, c->tc.want_write ? POLLOUT : POLLIN, deadline_ns)) {
                client_close(c);
                return fail(why, CLIENT_ERR_TIMEOUT, err, errlen, "sending to %s: timed out",
                            c->u.host_header);
            }
            continue;
        }
        int e = c->tc.last_errno;
        client_close(c);
        if (n == TRANSPORT_TLS_ERROR)
            return fail(why, CLIENT_ERR_TLS, err, errlen, "sending to %s: %s", c->u.host_header,
                        transport_tls_last_error());
        return fail(why, e == EPIPE ? CLIENT_ERR_CLOSED : CLIENT_ERR_RESET, err, errlen,
                    "sending to %s: %s", c->u.host_header, e ? strerror(e) : "connection closed");
    }
    return 0;
}

ssize_t client_write_once(client *c, const char *buf, size_t len) {
    if (!c->open) return -1;
    ssize_t n = c->tp->write(&c->tc, buf, len);
    return n >= 0 ? n : -1;
}

int client_unsent(const client *c) {
    if (!c->open) return -1;
    int n = 0;
    if (ioctl(c->tc.fd, SIOCOUTQNSD, &n) < 0) return 0; /* not TCP: nothing to wait for */
    return n;
}

/* ---- reading ------------------------------------------------------------------------------- */

void client_response_begin(client *c) {
    http_parser_init(&c->p, HTTP_RESPONSE);
    c->p.data = c;
    c->complete = c->too_large = c->got_bytes = false;
    c->status = 0;
    c->body_len = 0;
    if (c->body) c->body[0] = '\0';
}

static void finish(client *c, client_response *resp, bool keep) {
    c->keep_alive = keep;
    resp->status = c->status;
    resp->body = c->body ? c->body : "";
    resp->body_len = c->body_len;
    resp->keep_alive = keep;
    if (keep)
        c->used = true;
    else
        client_close(c);
}

int client_response_step(client *c, client_response *resp, client_err *why, char *err,
                         size_t errlen) {
    if (!c->open) return fail(why, CLIENT_ERR_CLOSED, err, errlen, "not connected");
    for (;;) {
        ssize_t n = c->tp->read(&c->tc, c->rbuf, sizeof c->rbuf);
        if (n > 0) {
            c->got_bytes = true;
            size_t used = http_parser_execute(&c->p, &c->s, c->rbuf, (size_t)n);
            enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
            if (c->complete) {
                /* bytes after the response were never asked for: do not reuse the connection */
                finish(c, resp, used == (size_t)n && http_should_keep_alive(&c->p));
                return 1;
            }
            if (e != HPE_OK) {
                client_close(c);
                if (c->too_large)
                    return fail(why, CLIENT_ERR_PARSE, err, errlen,
                                "response from %s: body larger than %d bytes", c->u.host_header,
                                CLIENT_BODY_MAX);
                return fail(why, CLIENT_ERR_PARSE, err, errlen, "response from %s: %s",
                            c->u.host_header, http_errno_description(e));
            }
            continue;
        }
        if (n == TRANSPORT_AGAIN) return 0;
        if (n == TRANSPORT_EOF) {
            if (c->got_bytes) http_parser_execute(&c->p, &c->s, NULL, 0); /* body until close */
            if (c->complete) {
                finish(c, resp, false);
                return 1;
            }
            client_close(c);
            return fail(why, CLIENT_ERR_CLOSED, err, errlen,
                        "%s closed the connection before a complete response", c->u.host_header);
        }
        int eno = c->tc.last_errno;
        client_close(c);
        if (n == TRANSPORT_TLS_ERROR)
            return fail(why, CLIENT_ERR_TLS, err, errlen, "response from %s: %s", c->u.host_header,
                        transport_tls_last_error());
        return fail(why, CLIENT_ERR_RESET, err, errlen, "response from %s: %s", c->u.host_header,
                    eno ? strerror(eno) : "connection failed");
    }
}

int client_response_wait(client *c, int64_t deadline_ns, client_response *resp, client_err *why,
                         char *err, size_t errlen) {
    for (;;) {
        int r = client_response_step(c, resp, why, err, errlen);
        if (r == 1) return 0;
        if (r < 0) return -1;
        if (!wait_fd(c->tc.fd, c->tc.want_write ? POLLOUT : POLLIN, deadline_ns)) {
            client_close(c);
            return fail(why, CLIENT_ERR_TIMEOUT, err, errlen,
                        "no complete response from %s in time", c->u.host_header);
        }
    }
}

/* ---- whole requests ------------------------------------------------------------------------ */

static bool idempotent(const char *m) {
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "PUT") || !strcmp(m, "DELETE") ||
           !strcmp(m, "OPTIONS");
}

static bool wants_length(const char *m, const char *body) {
    return body || !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

int client_request(client *c, const char *method, const char *path, const char *headers,
                   const char *body, size_t body_len, int64_t timeout_ns, client_response *resp,
                   client_err *why, char *err, size_t errlen) {
    if (!path || path[0] != '/')
        return fail(why, CLIENT_ERR_PARSE, err, errlen, "request path '%s' must start with /",
                    path ? path : "");
    char clen[48] = "";
    if (wants_length(method, body))
        snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", body ? body_len : 0);
    const char *hdrs = headers ? headers : "";
    size_t need = strlen(method) + strlen(path) + strlen(c->u.host_header) + strlen(hdrs) +
                  strlen(clen) + 64 + (body ? body_len : 0);
    if (need > c->wcap) {
        char *w = realloc(c->wbuf, need);
        if (!w) return fail(why, CLIENT_ERR_CONNECT, err, errlen, "out of memory");
        c->wbuf = w;
        c->wcap = need;
    }
    int n = snprintf(c->wbuf, c->wcap,
                     "%s %s HTTP/1.1\r\nHost: %s\r\n%s%sConnection: keep-alive\r\n\r\n", method,
                     path, c->u.host_header, hdrs, clen);
    size_t len = (size_t)n;
    if (body && body_len) {
        memcpy(c->wbuf + len, body, body_len);
        len += body_len;
    }
    int64_t deadline = clock_now_ns() + timeout_ns;
    for (int attempt = 0;; attempt++) {
        if (client_connect(c, deadline, why, err, errlen) < 0) return -1;
        bool reused = c->used;
        c->head = !strcmp(method, "HEAD");
        client_response_begin(c);
        client_err w = CLIENT_OK;
        if (client_write_all(c, c->wbuf, len, deadline, &w, err, errlen) == 0 &&
            client_response_wait(c, deadline, resp, &w, err, errlen) == 0)
            return 0;
        bool retry = attempt == 0 && reused && !c->got_bytes && idempotent(method) &&
                     (w == CLIENT_ERR_CLOSED || w == CLIENT_ERR_RESET);
        if (!retry) {
            if (why) *why = w;
            if (w == CLIENT_ERR_TIMEOUT)
                err_set(err, errlen, "%s %s: no complete response from %s within %.3g s", method,
                        path, c->u.host_header, secs(timeout_ns));
            return -1;
        }
        client_close(c);
    }
}
