/* ready.c — readiness probes (see ready.h): one bounded attempt per call; stack_ready_check
 * (stack.c) repeats them until a deadline.
 *
 * Every probe is a real conversation, not just a connect: PostgreSQL accepts connections while
 * it is still recovering ("the database system is starting up") and Redis answers -LOADING
 * while it replays its append-only file, so "ready" means SELECT 1 returned a row and PING
 * returned PONG. All I/O is non-blocking with one deadline, because a paused server (SIGSTOP)
 * accepts the TCP connection in the kernel and then says nothing. */
#include "stack/ready.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/clock.h"
#include "core/err.h"
#include "http/url.h"

static bool has_prefix(const char *s, const char *p) {
    return strncasecmp(s, p, strlen(p)) == 0;
}

/* Milliseconds left until deadline for poll (at least 0). */
static int ms_left(int64_t deadline) {
    int64_t left = deadline - clock_now_ns();
    if (left <= 0) return 0;
    return (int)((left + NS_PER_MS - 1) / NS_PER_MS);
}

/* Waits until fd is ready for events. 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, ms_left(deadline));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        return r > 0 ? 1 : 0;
    }
}

/* "HOST[:PORT]" or "[V6][:PORT]" (up to the end of s or the first '/'). 0 or -1. */
static int parse_hostport(const char *s, char *host, size_t hostlen, int *port, int defport) {
    size_t n = strcspn(s, "/?#");
    const char *colon = NULL;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb) return -1;
        h = s + 1;
        hl = (size_t)(rb - s - 1);
        if (rb + 1 < s + n) {
            if (rb[1] != ':') return -1;
            colon = rb + 1;
        }
    } else {
        colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
    }
    if (hl == 0 || hl >= hostlen) return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = defport;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || end != s + n || p < 1 || p > 65535) return -1;
        *port = (int)p;
    }
    return 0;
}

/* A non-blocking connected socket, or -1 with a reason. */
static int tcp_connect(const char *host, int port, int64_t deadline, char *err, size_t errlen) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *res = NULL;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        err_set(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, e = 0;
    bool timed_out = false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            e = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            socklen_t sl = sizeof e;
            if (w > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e == 0) break;
            if (w == 0) timed_out = true, e = ETIMEDOUT;
        } else {
            e = errno;
        }
        close(fd);
        fd = -1;
        if (timed_out) break;
    }
    freeaddrinfo(res);
    if (fd < 0)
        err_set(err, errlen, "cannot connect to %s:%d: %s", host, port,
                timed_out ? "timed out" : strerror(e ? e : ECONNREFUSED));
    return fd;
}

/* ---- tcp:// ------------------------------------------------------------------------------- */

static int probe_tcp(const char *target, int64_t deadline, char *err, size_t errlen) {
    char host[256];
    int port;
    if (parse_hostport(target + 6, host, sizeof host, &port, 0) < 0 || port == 0) {
        err_set(err, errlen, "bad URL '%s' (want tcp://HOST:PORT)", target);
        return -1;
    }
    int fd = tcp_connect(host, port, deadline, err, errlen);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

/* ---- redis:// ----------------------------------------------------------------------------- */

typedef struct redis_target {
    char host[256];
    int port;
    char user[128], pass[256];
    bool has_pass;
    int db;
} redis_target;

static int parse_redis(const char *target, redis_target *t) {
    memset(t, 0, sizeof *t);
    if (!has_prefix(target, "redis://")) return -1;
    const char *p = target + 8;
    const char *at = strchr(p, '@');
    const char *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *ue = colon ? colon : at;
        if ((size_t)(ue - p) >= sizeof t->user) return -1;
        memcpy(t->user, p, (size_t)(ue - p));
        if (colon) {
            if ((size_t)(at - colon - 1) >= sizeof t->pass) return -1;
            memcpy(t->pass, colon + 1, (size_t)(at - colon - 1));
            t->has_pass = true;
        } /* redis://USER@host: a user name without a password (as redis-py reads it) */
        p = at + 1;
    }
    if (parse_hostport(p, t->host, sizeof t->host, &t->port, 6379) < 0) return -1;
    slash = strchr(p, '/');
    if (slash && slash[1]) {
        char *end;
        long db = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || db < 0 || db > 1000000) return -1;
        t->db = (int)db;
    }
    return 0;
}

static struct timeval tv_left(int64_t deadline) {
    int64_t left = deadline - clock_now_ns();
    if (left < NS_PER_MS) left = NS_PER_MS;
    struct timeval tv = {.tv_sec = left / NS_PER_S, .tv_usec = (left % NS_PER_S) / 1000};
    return tv;
}

/* Runs one command; 0 when the reply is not an error (and, with want, equals it). */
static int redis_cmd(redisContext *c, int64_t deadline, const char *want, char *err, size_t errlen,
                     const char *fmt, ...) {
    redisSetTimeout(c, tv_left(deadline));
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r) {
        err_set(err, errlen, "redis: %s", c->errstr[0] ? c->errstr : "no reply");
        return -1;
    }
    int rc = 0;
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(err, errlen, "redis: %.*s", (int)r->len, r->str);
        rc = -1;
    } else if (want && !((r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING) &&
                         r->str && !strcmp(r->str, want))) {
        err_set(err, errlen, "redis: unexpected reply to %s", want);
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

static int probe_redis(const char *target, int64_t deadline, char *err, size_t errlen) {
    redis_target t;
    if (parse_redis(target, &t) < 0) {
        err_set(err, errlen, "bad URL (want redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])");
        return -1;
    }
    redisContext *c = redisConnectWithTimeout(t.host, t.port, tv_left(deadline));
    if (!c || c->err) {
        err_set(err, errlen, "cannot connect to redis at %s:%d: %s", t.host, t.port,
                c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return -1;
    }
    int rc = 0;
    if (t.has_pass) {
        rc = t.user[0] ? redis_cmd(c, deadline, NULL, err, errlen, "AUTH %s %s", t.user, t.pass)
                       : redis_cmd(c, deadline, NULL, err, errlen, "AUTH %s", t.pass);
    }
    if (rc == 0 && t.db) rc = redis_cmd(c, deadline, NULL, err, errlen, "SELECT %d", t.db);
    if (rc == 0) rc = redis_cmd(c, deadline, "PONG", err, errlen, "PING");
    redisFree(c);
    memset(&t, 0, sizeof t);
    return rc;
}

/* ---- postgresql:// -------------------------------------------------------------------------- */

static void pg_error(PGconn *c, const char *what, char *err, size_t errlen) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
    size_t n = 0; /* one line: newlines and runs of blanks become one space */
    for (char *p = msg; *p; p++) {
        char ch = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
        if (ch == ' ' && (n == 0 || msg[n - 1] == ' ')) continue;
        msg[n++] = ch;
    }
    msg[n] = '\0';
    while (n && msg[n - 1] == ' ') msg[--n] = '\0';
    err_set(err, errlen, "%s: %s", what, n ? msg : "unknown error");
}

static int probe_pg(const char *target, int64_t deadline, char *err, size_t errlen) {
    const char *kw[] = {"dbname", NULL};
    const char *val[] = {target, NULL};
    PGconn *c = PQconnectStartParams(kw, val, 1);
    if (!c || PQstatus(c) == CONNECTION_BAD) {
        pg_error(c, "postgres", err, errlen);
        PQfinish(c);
        return -1;
    }
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            pg_error(c, "postgres", err, errlen);
            PQfinish(c);
            return -1;
        }
        int w = wait_fd(PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (w <= 0) {
            err_set(err, errlen, "postgres: %s", w == 0 ? "timed out connecting" : "poll failed");
            PQfinish(c);
            return -1;
        }
        st = PQconnectPoll(c);
    }
    int rc = -1;
    if (PQsetnonblocking(c, 1) != 0 || !PQsendQuery(c, "SELECT 1")) {
        pg_error(c, "postgres", err, errlen);
        goto out;
    }
    for (;;) { /* flush the query */
        int f = PQflush(c);
        if (f == 0) break;
        if (f < 0 || wait_fd(PQsocket(c), POLLOUT, deadline) <= 0) {
            err_set(err, errlen, "postgres: cannot send the query");
            goto out;
        }
    }
    bool got_row = false, failed = false;
    for (;;) {
        while (PQisBusy(c)) {
            int w = wait_fd(PQsocket(c), POLLIN, deadline);
            if (w <= 0) {
                err_set(err, errlen, "postgres: %s",
                        w == 0 ? "timed out waiting for SELECT 1" : "poll failed");
                goto out;
            }
            if (!PQconsumeInput(c)) {
                pg_error(c, "postgres", err, errlen);
                goto out;
            }
        }
        PGresult *r = PQgetResult(c);
        if (!r) break;
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            got_row = true;
        else if (!failed) {
            failed = true;
            pg_error(c, "postgres", err, errlen);
        }
        PQclear(r);
    }
    if (got_row && !failed)
        rc = 0;
    else if (!failed)
        err_set(err, errlen, "postgres: SELECT 1 returned no row");
out:
    PQfinish(c);
    return rc;
}

/* ---- http(s):// --------------------------------------------------------------------------- */

typedef struct conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
} conn;

/* Waits for the SSL call's wish. 1 to retry, -1 failure. */
static int ssl_wait(conn *c, int rc, int64_t deadline) {
    int e = SSL_get_error(c->ssl, rc);
    short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (!ev) return -1;
    return wait_fd(c->fd, ev, deadline) > 0 ? 1 : -1;
}

static ssize_t conn_write(conn *c, const char *b, size_t n, int64_t deadline) {
    for (;;) {
        if (c->ssl) {
            int r = SSL_write(c->ssl, b, (int)n);
            if (r > 0) return r;
            if (ssl_wait(c, r, deadline) < 0) return -1;
        } else {
            ssize_t r = send(c->fd, b, n, MSG_NOSIGNAL);
            if (r >= 0) return r;
            if (errno != EAGAIN && errno != EINTR) return -1;
            if (wait_fd(c->fd, POLLOUT, deadline) <= 0) return -1;
        }
    }
}

static ssize_t conn_read(conn *c, char *b, size_t n, int64_t deadline) {
    for (;;) {
        if (c->ssl) {
            int r = SSL_read(c->ssl, b, (int)n);
            if (r > 0) return r;
            if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN) return 0;
            if (ssl_wait(c, r, deadline) < 0) return -1;
        } else {
            ssize_t r = recv(c->fd, b, n, 0);
            if (r >= 0) return r;
            if (errno != EAGAIN && errno != EINTR) return -1;
            if (wait_fd(c->fd, POLLIN, deadline) <= 0) return -1;
        }
    }
}

static void conn_close(conn *c) {
    if (c->ssl) SSL_free(c->ssl);
    if (c->ctx) SSL_CTX_free(c->ctx);
    if (c->fd >= 0) close(c->fd);
}

int ready_http_get(const char *target, int64_t timeout_ns, int *status, char *err, size_t errlen) {
    int64_t deadline = clock_now_ns() + timeout_ns;
    url u;
    char sub[256];
    if (url_parse(target, &u, sub, sizeof sub) < 0) {
        err_set(err, errlen, "%s", sub);
        return -1;
    }
    conn c = {.fd = -1};
    int rc = -1;
    c.fd = tcp_connect(u.host, u.port, deadline, err, errlen);
    if (c.fd < 0) goto out;
    if (u.tls) {
        c.ctx = SSL_CTX_new(TLS_client_method());
        c.ssl = c.ctx ? SSL_new(c.ctx) : NULL;
        if (!c.ssl) {
            err_set(err, errlen, "TLS: cannot create a context");
            goto out;
        }
        SSL_set_verify(c.ssl, SSL_VERIFY_NONE, NULL);
        SSL_set_fd(c.ssl, c.fd);
        if (!u.host_is_ip) SSL_set_tlsext_host_name(c.ssl, u.host);
        for (;;) {
            int r = SSL_connect(c.ssl);
            if (r == 1) break;
            if (ssl_wait(&c, r, deadline) < 0) {
                unsigned long e = ERR_get_error();
                err_set(err, errlen, "TLS handshake with %s failed%s%s", u.host_header,
                        e ? ": " : "", e ? ERR_reason_error_string(e) : "");
                ERR_clear_error();
                goto out;
            }
        }
    }
    char req[2048];
    int rl = snprintf(req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: brink-ready\r\n"
                      "Accept: */*\r\nConnection: close\r\n\r\n",
                      u.path, u.host_header);
    if (rl <= 0 || (size_t)rl >= sizeof req) {
        err_set(err, errlen, "URL too long");
        goto out;
    }
    for (size_t off = 0; off < (size_t)rl;) {
        ssize_t w = conn_write(&c, req + off, (size_t)rl - off, deadline);
        if (w <= 0) {
            err_set(err, errlen, "cannot send the request to %s", u.host_header);
            goto out;
        }
        off += (size_t)w;
    }
    char resp[256] = "";
    size_t got = 0;
    while (got < sizeof resp - 1 && !memchr(resp, '\n', got)) {
        ssize_t r = conn_read(&c, resp + got, sizeof resp - 1 - got, deadline);
        if (r <= 0) break;
        got += (size_t)r;
    }
    resp[got] = '\0';
    int code = 0;
    if (got == 0 || sscanf(resp, "HTTP/%*d.%*d %d", &code) != 1 || code < 100 || code > 999) {
        err_set(err, errlen, "%s from %s", got ? "no HTTP status line" : "no response",
                u.host_header);
        goto out;
    }
    *status = code;
    rc = 0;
out:
    conn_close(&c);
    url_free(&u);
    return rc;
}

static int probe_http(const char *target, int64_t timeout_ns, char *err, size_t errlen) {
    int status = 0;
    if (ready_http_get(target, timeout_ns, &status, err, errlen) < 0) return -1;
    if (status < 200 || status > 299) {
        err_set(err, errlen, "GET %s answered %d", target, status);
        return -1;
    }
    return 0;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

int ready_check_url(const char *target, char *err, size_t errlen) {
    char host[256];
    int port;
    if (has_prefix(target, "tcp://")) {
        if (parse_hostport(target + 6, host, sizeof host, &port, 0) == 0 && port) return 0;
    } else if (has_prefix(target, "redis://")) {
        redis_target t;
        if (parse_redis(target, &t) == 0) return 0;
    } else if (has_prefix(target, "postgresql://") || has_prefix(target, "postgres://")) {
        char *e = NULL;
        PQconninfoOption *o = PQconninfoParse(target, &e);
        PQfreemem(e);
        if (o) {
            PQconninfoFree(o);
            return 0;
        }
    } else if (has_prefix(target, "http://") || has_prefix(target, "https://")) {
        url u;
        if (url_parse(target, &u, NULL, 0) == 0) {
            url_free(&u);
            return 0;
        }
    } else {
        err_set(err, errlen,
                "unsupported ready check (want tcp://, redis://, postgresql:// or http(s)://)");
        return -1;
    }
    char shown[512];
    ready_redact(target, shown, sizeof shown);
    err_set(err, errlen, "bad ready-check URL '%s'", shown);
    return -1;
}

int ready_probe(const char *target, int64_t timeout_ns, char *err, size_t errlen) {
    int64_t deadline = clock_now_ns() + timeout_ns;
    if (has_prefix(target, "tcp://")) return probe_tcp(target, deadline, err, errlen);
    if (has_prefix(target, "redis://")) return probe_redis(target, deadline, err, errlen);
    if (has_prefix(target, "postgresql://") || has_prefix(target, "postgres://"))
        return probe_pg(target, deadline, err, errlen);
    if (has_prefix(target, "http://") || has_prefix(target, "https://"))
        return probe_http(target, timeout_ns, err, errlen);
    return ready_check_url(target, err, errlen);
}

void ready_redact(const char *target, char *out, size_t outlen) {
    snprintf(out, outlen, "%s", target);
    char *p = strstr(out, "://");
    if (!p) return;
    p += 3;
    char *at = strchr(p, '@');
    char *slash = strchr(p, '/');
    if (!at || (slash && slash < at)) return;
    char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon || colon + 1 == at) return;
    char *from = colon + 1;
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", at);
    size_t keep = (size_t)(from - out);
    snprintf(out + keep, outlen - keep, "***%s", rest);
}
