/* redis.c — Redis connections for dispatchd (see redis.h). hiredis does the protocol; this file
 * adds the URL, the two timeouts every connection gets (connect, and each call's socket timeout,
 * which is what bounds a request when Redis hangs), TCP keepalive, AUTH and SELECT. A context
 * that timed out or failed is never reused: hiredis leaves it in an error state and the caller
 * frees it and connects again. */
#include "redis.h"

#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

int rds_parse_url(const char *url, rds_target *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    t->port = 6379;
    if (strncmp(url, "redis://", 8) != 0) {
        err_set(err, errlen, "redis URL must start with redis://");
        return -1;
    }
    const char *p = url + 8;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        size_t n = (size_t)(at - pw);
        if (n >= sizeof t->password) {
            err_set(err, errlen, "redis URL: password too long");
            return -1;
        }
        memcpy(t->password, pw, n);
        t->password[n] = '\0';
        p = at + 1;
    }
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof t->host) {
        err_set(err, errlen, "redis URL: missing or too long host");
        return -1;
    }
    memcpy(t->host, p, hl);
    t->host[hl] = '\0';
    p += hl;
    if (*p == ':') {
        char *end;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port <= 0 || port > 65535) {
            err_set(err, errlen, "redis URL: bad port");
            return -1;
        }
        t->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1]) {
        char *end;
        long db = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end || db < 0 || db > 1000) {
            err_set(err, errlen, "redis URL: bad database number");
            return -1;
        }
        t->db = (int)db;
    } else if (*p && strcmp(p, "/") != 0) {
        err_set(err, errlen, "redis URL: unexpected text after the host");
        return -1;
    }
    return 0;
}

int rds_target_of(const char *url, const char *password, rds_target *t, char *err, size_t errlen) {
    if (rds_parse_url(url, t, err, errlen)) return -1;
    if (password && *password) {
        if (strlen(password) >= sizeof t->password) {
            err_set(err, errlen, "redis: password too long");
            return -1;
        }
        snprintf(t->password, sizeof t->password, "%s", password);
    }
    return 0;
}

int rds_reply_error(redisContext *c, const redisReply *r, char *err, size_t errlen) {
    if (r == NULL) {
        err_set(err, errlen, "%s", c && c->errstr[0] ? c->errstr : "no reply");
        return 1;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(err, errlen, "%.*s", (int)(r->len > 200 ? 200 : r->len), r->str);
        return 1;
    }
    return 0;
}

static int simple_cmd(redisContext *c, char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    int bad = rds_reply_error(c, r, err, errlen);
    if (r) freeReplyObject(r);
    return bad ? -1 : 0;
}

redisContext *rds_connect(const rds_target *t, int timeout_ms, char *err, size_t errlen) {
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    redisContext *c = timeout_ms > 0 ? redisConnectWithTimeout(t->host, t->port, tv)
                                     : redisConnect(t->host, t->port);
    if (c == NULL) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (c->err) {
        err_set(err, errlen, "%s:%d: %s", t->host, t->port, c->errstr);
        redisFree(c);
        return NULL;
    }
    if (timeout_ms > 0 && redisSetTimeout(c, tv) != REDIS_OK) {
        err_set(err, errlen, "cannot set the socket timeout");
        redisFree(c);
        return NULL;
    }
    redisEnableKeepAlive(c);
    c->reader->maxbuf = 0; /* keep the reply buffer: freeing and regrowing it costs more */
    char e[256];
    if (t->password[0] && simple_cmd(c, e, sizeof e, "AUTH %s", t->password)) {
        err_set(err, errlen, "AUTH failed: %s", e);
        redisFree(c);
        return NULL;
    }
    if (t->db && simple_cmd(c, e, sizeof e, "SELECT %d", t->db)) {
        err_set(err, errlen, "SELECT %d failed: %s", t->db, e);
        redisFree(c);
        return NULL;
    }
    return c;
}
