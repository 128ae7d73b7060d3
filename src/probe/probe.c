/* probe.c — the I/O half of the probes (see probe.h): one small client per kind.
 *
 * redis: hiredis, blocking, with a connect timeout and a socket timeout (SO_RCVTIMEO), so a
 *        SIGSTOPped server — which the kernel still accepts connections for — costs one timeout,
 *        not a hang. The connection is kept between reads. The reply is walked with the path
 *        syntax of probe_extract.c: [N] indexes an array, .key looks a key up in a flat
 *        key/value array (what XINFO returns), [key=value] picks the element whose key has that
 *        value.
 * sql:   libpq's non-blocking connect and query (PQconnectStartParams, PQsendQuery) under one
 *        deadline; a query that times out is cancelled and the connection dropped. The value is
 *        the first column of the first row.
 * http:  one GET per read on a fresh connection (Connection: close), read to the end under the
 *        deadline and parsed by libhttp-parser (so chunked bodies work); a 2xx body is handed to
 *        the JSON or Prometheus extractor. Plain HTTP only: probes look at loopback services.
 *
 * Scenarios sample probes every 250 ms from one sampler thread; nothing here is shared between
 * probes. */
#include "probe/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <http_parser.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/parse.h"
#include "http/url.h"

#define DEFAULT_TIMEOUT_NS PROBE_TIMEOUT_DEFAULT_NS
#define HTTP_BODY_MAX      (8 * 1024 * 1024)
#define REDIS_ARGS_MAX     32

struct probe {
    probe_spec spec;
    probe_path_seg segs[PROBE_PATH_MAX];
    int nsegs;
    /* redis */
    redisContext *rc;
    char host[256];
    int port, db;
    char user[128], pass[256];
    char cmd_buf[PROBE_TEXT_MAX];
    char *argv[REDIS_ARGS_MAX];
    size_t argl[REDIS_ARGS_MAX];
    int argc;
    /* sql */
    PGconn *pg;
    /* http */
    url u;
    bool have_url;
};

static const char *const kind_names[] = {"redis", "sql", "http"};

const char *probe_kind_name(probe_kind k) {
    return (unsigned)k < 3 ? kind_names[k] : "unknown";
}

int probe_kind_parse(const char *s, probe_kind *out) {
    for (int i = 0; i < 3; i++) {
        if (!strcmp(s, kind_names[i])) {
            *out = (probe_kind)i;
            return 0;
        }
    }
    return -1;
}

/* ---- specs ----------------------------------------------------------------------------------- */

static int copy_field(json_t *o, const char *key, char *dst, size_t cap, char *err, size_t errlen) {
    json_t *v = json_object_get(o, key);
    if (!v) return 0;
    if (!json_is_string(v)) {
        err_set(err, errlen, "probe: \"%s\" must be a string", key);
        return -1;
    }
    if (json_string_length(v) >= cap) {
        err_set(err, errlen, "probe: \"%s\" is longer than %zu bytes", key, cap - 1);
        return -1;
    }
    snprintf(dst, cap, "%s", json_string_value(v));
    return 0;
}

static int check_spec(const probe_spec *s, bool templated, char *err, size_t errlen) {
    /* a URL that starts with a {placeholder} is checked once the caller has substituted it */
    bool later = templated && s->url[0] == '{';
    if (!s->url[0]) {
        err_set(err, errlen, "probe %s: missing \"url\" (or \"url_env\")", s->name);
        return -1;
    }
    switch (s->kind) {
    case PROBE_REDIS:
        if (!later && strncasecmp(s->url, "redis://", 8)) {
            err_set(err, errlen, "probe %s: a redis probe needs a redis:// URL", s->name);
            return -1;
        }
        if (!s->command[0]) {
            err_set(err, errlen, "probe %s: a redis probe needs a \"command\"", s->name);
            return -1;
        }
        break;
    case PROBE_SQL:
        if (!s->query[0]) {
            err_set(err, errlen, "probe %s: an sql probe needs a \"query\"", s->name);
            return -1;
        }
        break;
    case PROBE_HTTP:
        if (!later && strncasecmp(s->url, "http://", 7)) {
            err_set(err, errlen, "probe %s: an http probe needs an http:// URL", s->name);
            return -1;
        }
        if (!s->path[0] && !s->metric[0]) {
            err_set(err, errlen,
                    "probe %s: an http probe needs a JSON \"path\" or a Prometheus \"metric\"",
                    s->name);
            return -1;
        }
        if (s->path[0] && s->metric[0]) {
            err_set(err, errlen, "probe %s: give either \"path\" or \"metric\", not both", s->name);
            return -1;
        }
        break;
    }
    return 0;
}

/* "timeout": a duration ("500ms", "2s"), as in brink.yaml; or "timeout_ms", the older spelling. */
static int parse_timeout(json_t *o, probe_spec *out, char *err, size_t errlen) {
    json_t *t = json_object_get(o, "timeout"), *ms = json_object_get(o, "timeout_ms");
    if (t && ms) {
        err_set(err, errlen, "probe %s: give \"timeout\" or \"timeout_ms\", not both", out->name);
        return -1;
    }
    if (t) {
        char e[200];
        if (!json_is_string(t) ||
            parse_duration_ns(json_string_value(t), &out->timeout_ns, e, sizeof e) < 0 ||
            out->timeout_ns < NS_PER_MS || out->timeout_ns > 600 * NS_PER_S) {
            err_set(err, errlen,
                    "probe %s: \"timeout\" must be a duration from 1ms to 10m (e.g. \"500ms\")",
                    out->name);
            return -1;
        }
    } else if (ms) {
        if (!json_is_integer(ms) || json_integer_value(ms) < 1 || json_integer_value(ms) > 600000) {
            err_set(err, errlen, "probe %s: \"timeout_ms\" must be an integer from 1 to 600000",
                    out->name);
            return -1;
        }
        out->timeout_ns = json_integer_value(ms) * NS_PER_MS;
    }
    return 0;
}

int probe_spec_parse(const char *text, probe_spec *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        err_set(err, errlen, "probe: want a JSON object like {\"kind\":\"sql\",...}%s%s",
                o ? "" : ": ", o ? "" : je.text);
        json_decref(o);
        return -1;
    }
    static const char *const known[] = {"kind",    "name",       "url",  "url_env",
                                        "command", "query",      "path", "metric",
                                        "timeout", "timeout_ms", NULL};
    const char *key;
    json_t *v;
    int rc = -1;
    json_object_foreach(o, key, v) {
        bool ok = false;
        for (int i = 0; known[i]; i++)
            if (!strcmp(key, known[i])) ok = true;
        if (!ok) {
            err_set(err, errlen, "probe: unknown key \"%s\"", key);
            goto out;
        }
    }
    char kind[16] = "";
    if (copy_field(o, "kind", kind, sizeof kind, err, errlen) < 0) goto out;
    if (probe_kind_parse(kind, &out->kind) < 0) {
        err_set(err, errlen, "probe: \"kind\" must be \"redis\", \"sql\" or \"http\"");
        goto out;
    }
    if (copy_field(o, "name", out->name, sizeof out->name, err, errlen) < 0 ||
        copy_field(o, "url", out->url, sizeof out->url, err, errlen) < 0 ||
        copy_field(o, "command", out->command, sizeof out->command, err, errlen) < 0 ||
        copy_field(o, "query", out->query, sizeof out->query, err, errlen) < 0 ||
        copy_field(o, "path", out->path, sizeof out->path, err, errlen) < 0 ||
        copy_field(o, "metric", out->metric, sizeof out->metric, err, errlen) < 0)
        goto out;
    if (!out->name[0]) snprintf(out->name, sizeof out->name, "%s", kind);
    char env[128] = "";
    if (copy_field(o, "url_env", env, sizeof env, err, errlen) < 0) goto out;
    if (env[0]) {
        if (out->url[0]) {
            err_set(err, errlen, "probe %s: give either \"url\" or \"url_env\", not both",
                    out->name);
            goto out;
        }
        const char *e = getenv(env);
        if (!e || !*e || strlen(e) >= sizeof out->url) {
            err_set(err, errlen, "probe %s: environment variable %s is not set (or too long)",
                    out->name, env);
            goto out;
        }
        snprintf(out->url, sizeof out->url, "%s", e);
    }
    if (parse_timeout(o, out, err, errlen) < 0) goto out;
    rc = check_spec(out, true, err, errlen);
out:
    json_decref(o);
    return rc;
}

/* url with the password of its authority (user:PASS@) replaced by ***. */
static void redact(const char *u, char *out, size_t outlen) {
    const char *scheme = strstr(u, "://");
    const char *auth = scheme ? scheme + 3 : u;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *c = auth; c < auth + alen; c++)
        if (*c == '@') at = c;
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (!colon) {
        snprintf(out, outlen, "%s", u);
        return;
    }
    err_set(out, outlen, "%.*s***%s", (int)(colon + 1 - u), u, at);
}

void probe_describe(const probe_spec *s, char *out, size_t outlen) {
    char u[PROBE_TEXT_MAX];
    redact(s->url, u, sizeof u);
    const char *what = s->kind == PROBE_REDIS ? s->command
                       : s->kind == PROBE_SQL ? s->query
                       : s->metric[0]         ? s->metric
                                              : s->path;
    int n = snprintf(out, outlen, "%s %.300s%s%.100s @ %.300s", probe_kind_name(s->kind), what,
                     s->kind == PROBE_REDIS && s->path[0] ? " " : "",
                     s->kind == PROBE_REDIS ? s->path : "", u);
    (void)n;
}

/* ---- common ---------------------------------------------------------------------------------- */

static int ms_left(int64_t deadline) {
    int64_t left = deadline - clock_now_ns();
    return left <= 0 ? 0 : (int)((left + NS_PER_MS - 1) / NS_PER_MS);
}

/* 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, ms_left(deadline));
        if (r < 0 && errno == EINTR) continue;
        return r < 0 ? -1 : r > 0;
    }
}

/* ---- redis ----------------------------------------------------------------------------------- */

/* redis://[[USER]:PASS@]HOST[:PORT][/DB] */
static int redis_parse_url(probe *p, char *err, size_t errlen) {
    const char *s = p->spec.url + 8;
    const char *at = strchr(s, '@');
    const char *slash = strchr(s, '/');
    if (at && (!slash || at < slash)) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        if (colon) {
            snprintf(p->user, sizeof p->user, "%.*s", (int)(colon - s), s);
            snprintf(p->pass, sizeof p->pass, "%.*s", (int)(at - colon - 1), colon + 1);
        } else {
            snprintf(p->pass, sizeof p->pass, "%.*s", (int)(at - s), s);
        }
        s = at + 1;
    }
    size_t hl = strcspn(s, "/");
    const char *hp_end = s + hl;
    const char *colon = NULL;
    if (*s == '[') {
        const char *rb = memchr(s, ']', hl);
        if (!rb) goto bad;
        snprintf(p->host, sizeof p->host, "%.*s", (int)(rb - s - 1), s + 1);
        if (rb + 1 < hp_end) colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb + 1 < hp_end && !colon) goto bad;
    } else {
        colon = memchr(s, ':', hl);
        snprintf(p->host, sizeof p->host, "%.*s", (int)((colon ? colon : hp_end) - s), s);
    }
    if (!p->host[0]) goto bad;
    p->port = 6379;
    if (colon) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (end != hp_end || v < 1 || v > 65535) goto bad;
        p->port = (int)v;
    }
    if (*hp_end == '/' && hp_end[1]) {
        char *end;
        long v = strtol(hp_end + 1, &end, 10);
        if (*end || v < 0 || v > 1000000) goto bad;
        p->db = (int)v;
    }
    return 0;
bad:
    err_set(err, errlen, "probe %s: bad Redis URL (want redis://[:PASS@]HOST:PORT[/DB])",
            p->spec.name);
    return -1;
}

static struct timeval tv_left(int64_t deadline) {
    int64_t left = deadline - clock_now_ns();
    if (left < NS_PER_MS) left = NS_PER_MS;
    struct timeval tv = {(time_t)(left / NS_PER_S), (suseconds_t)(left % NS_PER_S / 1000)};
    return tv;
}

static void redis_drop(probe *p) {
    if (p->rc) redisFree(p->rc);
    p->rc = NULL;
}

/* Runs argv on p->rc; the reply (must be freed), or NULL with a reason. */
static redisReply *redis_call(probe *p, int argc, const char **argv, const size_t *argl,
                              int64_t deadline, char *err, size_t errlen) {
    redisSetTimeout(p->rc, tv_left(deadline));
    redisReply *r = redisCommandArgv(p->rc, argc, argv, argl);
    if (!r) {
        err_set(err, errlen, "redis %s:%d: %s", p->host, p->port,
                p->rc->errstr[0] ? p->rc->errstr : "no reply");
        redis_drop(p);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        err_set(err, errlen, "redis: %s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static int redis_connect(probe *p, int64_t deadline, char *err, size_t errlen) {
    p->rc = redisConnectWithTimeout(p->host, p->port, tv_left(deadline));
    if (!p->rc || p->rc->err) {
        err_set(err, errlen, "redis %s:%d: %s", p->host, p->port,
                p->rc ? p->rc->errstr : "out of memory");
        redis_drop(p);
        return -1;
    }
    redisReply *r = NULL;
    if (p->pass[0]) {
        const char *a[] = {"AUTH", p->user, p->pass};
        size_t l[] = {4, strlen(p->user), strlen(p->pass)};
        if (p->user[0])
            r = redis_call(p, 3, a, l, deadline, err, errlen);
        else {
            const char *b[] = {"AUTH", p->pass};
            size_t bl[] = {4, strlen(p->pass)};
            r = redis_call(p, 2, b, bl, deadline, err, errlen);
        }
        if (!r) goto fail;
        freeReplyObject(r);
    }
    if (p->db) {
        char db[16];
        snprintf(db, sizeof db, "%d", p->db);
        const char *a[] = {"SELECT", db};
        size_t l[] = {6, strlen(db)};
        if (!(r = redis_call(p, 2, a, l, deadline, err, errlen))) goto fail;
        freeReplyObject(r);
    }
    return 0;
fail:
    redis_drop(p);
    return -1;
}

static redisReply *redis_field(redisReply *r, const char *key) {
    if (r->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        redisReply *k = r->element[i];
        if ((k->type == REDIS_REPLY_STRING || k->type == REDIS_REPLY_STATUS) &&
            !strcmp(k->str, key))
            return r->element[i + 1];
    }
    return NULL;
}

static bool redis_matches(redisReply *v, const char *want) {
    if (!v) return false;
    if (v->type == REDIS_REPLY_STRING || v->type == REDIS_REPLY_STATUS)
        return !strcmp(v->str, want);
    if (v->type == REDIS_REPLY_INTEGER) {
        double w;
        return probe_parse_number(want, strlen(want), &w) == 0 && (double)v->integer == w;
    }
    return false;
}

static int redis_extract(probe *p, redisReply *r, double *out, char *err, size_t errlen) {
    for (int i = 0; i < p->nsegs && r; i++) {
        probe_path_seg *g = &p->segs[i];
        if (g->type == PROBE_SEG_KEY) {
            r = redis_field(r, g->key);
        } else if (g->type == PROBE_SEG_INDEX) {
            r = r->type == REDIS_REPLY_ARRAY && (size_t)g->index < r->elements
                    ? r->element[g->index]
                    : NULL;
        } else {
            redisReply *hit = NULL;
            if (r->type == REDIS_REPLY_ARRAY)
                for (size_t k = 0; k < r->elements && !hit; k++)
                    if (redis_matches(redis_field(r->element[k], g->key), g->value))
                        hit = r->element[k];
            r = hit;
        }
    }
    if (!r) {
        err_set(err, errlen, "probe %s: path '%s' matches nothing in the reply", p->spec.name,
                p->spec.path);
        return -1;
    }
    switch (r->type) {
    case REDIS_REPLY_INTEGER: *out = (double)r->integer; return 0;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        if (probe_parse_number(r->str, r->len, out) == 0) return 0;
        err_set(err, errlen, "probe %s: the reply is not a number", p->spec.name);
        return -1;
    case REDIS_REPLY_NIL:
        err_set(err, errlen, "probe %s: the reply is nil", p->spec.name);
        return -1;
    default:
        err_set(err, errlen, "probe %s: the reply is an array (add a path, e.g. [0])",
                p->spec.name);
        return -1;
    }
}

static int redis_read(probe *p, int64_t deadline, double *out, char *err, size_t errlen) {
    if (!p->rc && redis_connect(p, deadline, err, errlen) < 0) return -1;
    redisReply *r = redis_call(p, p->argc, (const char **)p->argv, p->argl, deadline, err, errlen);
    if (!r) return -1;
    int rc = redis_extract(p, r, out, err, errlen);
    freeReplyObject(r);
    return rc;
}

/* ---- sql ------------------------------------------------------------------------------------- */

static void pg_drop(probe *p) {
    if (p->pg) PQfinish(p->pg);
    p->pg = NULL;
}

static void pg_error(probe *p, const char *what, char *err, size_t errlen) {
    const char *m = p->pg ? PQerrorMessage(p->pg) : "out of memory";
    size_t n = strcspn(m, "\n");
    err_set(err, errlen, "probe %s: %s: %.*s", p->spec.name, what, (int)n, m);
}

static int pg_connect(probe *p, int64_t deadline, char *err, size_t errlen) {
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {p->spec.url, "brink-probe", NULL};
    p->pg = PQconnectStartParams(keys, vals, 1);
    if (!p->pg || PQstatus(p->pg) == CONNECTION_BAD) {
        pg_error(p, "connect", err, errlen);
        pg_drop(p);
        return -1;
    }
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    for (;;) {
        if (st == PGRES_POLLING_OK) break;
        if (st == PGRES_POLLING_FAILED) {
            pg_error(p, "connect", err, errlen);
            pg_drop(p);
            return -1;
        }
        int w = wait_fd(PQsocket(p->pg), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (w <= 0) {
            err_set(err, errlen, "probe %s: connect: timed out", p->spec.name);
            pg_drop(p);
            return -1;
        }
        st = PQconnectPoll(p->pg);
    }
    if (PQsetnonblocking(p->pg, 1) != 0) {
        pg_error(p, "connect", err, errlen);
        pg_drop(p);
        return -1;
    }
    return 0;
}

static int sql_read(probe *p, int64_t deadline, double *out, char *err, size_t errlen) {
    if (!p->pg && pg_connect(p, deadline, err, errlen) < 0) return -1;
    if (!PQsendQuery(p->pg, p->spec.query)) {
        pg_error(p, "query", err, errlen);
        pg_drop(p);
        return -1;
    }
    while (PQflush(p->pg) == 1) {
        if (wait_fd(PQsocket(p->pg), POLLOUT, deadline) <= 0) goto timeout;
    }
    while (PQisBusy(p->pg)) {
        if (wait_fd(PQsocket(p->pg), POLLIN, deadline) <= 0) goto timeout;
        if (!PQconsumeInput(p->pg)) {
            pg_error(p, "query", err, errlen);
            pg_drop(p);
            return -1;
        }
    }
    int rc = -1;
    PGresult *res, *first = NULL;
    while ((res = PQgetResult(p->pg))) {
        if (!first)
            first = res;
        else
            PQclear(res);
    }
    if (!first || PQresultStatus(first) != PGRES_TUPLES_OK) {
        if (first && PQresultStatus(first) == PGRES_COMMAND_OK)
            err_set(err, errlen, "probe %s: the query returned no rows", p->spec.name);
        else {
            const char *m = first ? PQresultErrorMessage(first) : PQerrorMessage(p->pg);
            err_set(err, errlen, "probe %s: query: %.*s", p->spec.name, (int)strcspn(m, "\n"), m);
        }
        if (PQstatus(p->pg) != CONNECTION_OK) pg_drop(p);
    } else if (PQntuples(first) < 1 || PQnfields(first) < 1 || PQgetisnull(first, 0, 0)) {
        err_set(err, errlen, "probe %s: the query returned no value", p->spec.name);
    } else {
        const char *v = PQgetvalue(first, 0, 0);
        if (probe_parse_number(v, strlen(v), out) == 0)
            rc = 0;
        else
            err_set(err, errlen, "probe %s: the query's value '%.40s' is not a number",
                    p->spec.name, v);
    }
    PQclear(first);
    return rc;
timeout:
    err_set(err, errlen, "probe %s: query: timed out", p->spec.name);
    pg_drop(p);
    return -1;
}

/* ---- http ------------------------------------------------------------------------------------ */

typedef struct http_get {
    char *body;
    size_t len, cap;
    bool done, too_big;
} http_get;

static int on_body(http_parser *hp, const char *at, size_t n) {
    http_get *g = hp->data;
    if (g->len + n + 1 > HTTP_BODY_MAX) {
        g->too_big = true;
        return 1;
    }
    if (g->len + n + 1 > g->cap) {
        size_t cap = g->cap ? g->cap : 8192;
        while (cap < g->len + n + 1) cap *= 2;
        char *b = realloc(g->body, cap);
        if (!b) {
            g->too_big = true;
            return 1;
        }
        g->body = b;
        g->cap = cap;
    }
    memcpy(g->body + g->len, at, n);
    g->len += n;
    g->body[g->len] = '\0';
    return 0;
}

static int on_complete(http_parser *hp) {
    ((http_get *)hp->data)->done = true;
    return 0;
}

static int tcp_connect(probe *p, int64_t deadline, char *err, size_t errlen) {
    struct sockaddr_storage addr;
    socklen_t alen;
    if (url_resolve(&p->u, &addr, &alen, err, errlen) < 0) return -1;
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set(err, errlen, "probe %s: socket: %s", p->spec.name, strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, alen) < 0 && errno != EINPROGRESS) {
        err_set(err, errlen, "probe %s: connect: %s", p->spec.name, strerror(errno));
        close(fd);
        return -1;
    }
    if (wait_fd(fd, POLLOUT, deadline) <= 0) {
        err_set(err, errlen, "probe %s: connect: timed out", p->spec.name);
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
        err_set(err, errlen, "probe %s: connect: %s", p->spec.name, strerror(soerr));
        close(fd);
        return -1;
    }
    return fd;
}

/* One GET of p's URL under the deadline: 0 with the body of a 2xx answer in g (NUL-terminated
 * when not empty; free g->body), or -1 with a reason. */
static int http_fetch(probe *p, int64_t deadline, http_get *g, char *err, size_t errlen) {
    int fd = tcp_connect(p, deadline, err, errlen);
    if (fd < 0) return -1;
    char req[2048];
    int rl = snprintf(req, sizeof req,
                      "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: brink-probe\r\nAccept: "
                      "*/*\r\nConnection: close\r\n\r\n",
                      p->u.path, p->u.host_header);
    int rc = -1;
    if (rl < 0 || (size_t)rl >= sizeof req) {
        err_set(err, errlen, "probe %s: URL too long", p->spec.name);
        goto out;
    }
    for (size_t off = 0; off < (size_t)rl;) {
        ssize_t n = send(fd, req + off, (size_t)rl - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT, deadline) > 0) continue;
        err_set(err, errlen, "probe %s: send: %s", p->spec.name,
                n < 0 ? strerror(errno) : "timed out");
        goto out;
    }
    http_parser hp;
    http_parser_init(&hp, HTTP_RESPONSE);
    hp.data = g;
    http_parser_settings ps = {.on_body = on_body, .on_message_complete = on_complete};
    char buf[16384];
    while (!g->done) {
        int w = wait_fd(fd, POLLIN, deadline);
        if (w <= 0) {
            err_set(err, errlen, "probe %s: no complete response within the timeout", p->spec.name);
            goto out;
        }
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (n < 0) {
            err_set(err, errlen, "probe %s: recv: %s", p->spec.name, strerror(errno));
            goto out;
        }
        http_parser_execute(&hp, &ps, buf, (size_t)n);
        if (g->too_big) {
            err_set(err, errlen, "probe %s: response larger than %d MiB", p->spec.name,
                    HTTP_BODY_MAX >> 20);
            goto out;
        }
        if (HTTP_PARSER_ERRNO(&hp) != HPE_OK) {
            err_set(err, errlen, "probe %s: bad HTTP response: %s", p->spec.name,
                    http_errno_description(HTTP_PARSER_ERRNO(&hp)));
            goto out;
        }
        if (n == 0 && !g->done) {
            err_set(err, errlen, "probe %s: connection closed before the response ended",
                    p->spec.name);
            goto out;
        }
    }
    if (hp.status_code < 200 || hp.status_code > 299) {
        err_set(err, errlen, "probe %s: HTTP status %u", p->spec.name, hp.status_code);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

static int http_read(probe *p, int64_t deadline, double *out, char *err, size_t errlen) {
    http_get g = {0};
    int rc = http_fetch(p, deadline, &g, err, errlen);
    if (rc == 0) {
        const char *body = g.body ? g.body : "";
        if (p->spec.metric[0])
            rc = probe_prom_value(body, g.len, p->spec.metric, out, err, errlen);
        else
            rc = probe_json_value(body, g.len, p->spec.path, out, err, errlen);
    }
    free(g.body);
    return rc;
}

int probe_http_get(const char *page, int64_t timeout_ns, char **body, size_t *len, char *err,
                   size_t errlen) {
    *body = NULL;
    *len = 0;
    if (strncasecmp(page, "http://", 7)) {
        err_set(err, errlen, "%s: want an http:// URL", page);
        return -1;
    }
    probe p;
    memset(&p, 0, sizeof p);
    snprintf(p.spec.name, sizeof p.spec.name, "http");
    if (url_parse(page, &p.u, err, errlen) < 0) return -1;
    http_get g = {0};
    int rc = http_fetch(&p, clock_now_ns() + (timeout_ns > 0 ? timeout_ns : DEFAULT_TIMEOUT_NS), &g,
                        err, errlen);
    url_free(&p.u);
    if (rc < 0) {
        free(g.body);
        return -1;
    }
    if (!g.body && !(g.body = calloc(1, 1))) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    *body = g.body;
    *len = g.len;
    return 0;
}

/* ---- the probe ------------------------------------------------------------------------------- */

int probe_open(const probe_spec *s, probe **out, char *err, size_t errlen) {
    *out = NULL;
    if (check_spec(s, false, err, errlen) < 0) return -1;
    probe *p = calloc(1, sizeof *p);
    if (!p) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    p->spec = *s;
    if (!p->spec.timeout_ns) p->spec.timeout_ns = DEFAULT_TIMEOUT_NS;
    bool use_path = s->kind == PROBE_REDIS || (s->kind == PROBE_HTTP && s->path[0]);
    if (use_path && probe_path_parse(s->path, p->segs, &p->nsegs, err, errlen) < 0) goto fail;
    if (s->kind == PROBE_REDIS) {
        if (redis_parse_url(p, err, errlen) < 0) goto fail;
        snprintf(p->cmd_buf, sizeof p->cmd_buf, "%s", s->command);
        char *save = NULL;
        for (char *tok = strtok_r(p->cmd_buf, " \t", &save); tok;
             tok = strtok_r(NULL, " \t", &save)) {
            if (p->argc == REDIS_ARGS_MAX) {
                err_set(err, errlen, "probe %s: more than %d words in the command", s->name,
                        REDIS_ARGS_MAX);
                goto fail;
            }
            p->argl[p->argc] = strlen(tok);
            p->argv[p->argc++] = tok;
        }
        if (!p->argc) {
            err_set(err, errlen, "probe %s: empty command", s->name);
            goto fail;
        }
    } else if (s->kind == PROBE_HTTP) {
        if (url_parse(s->url, &p->u, err, errlen) < 0) goto fail;
        p->have_url = true;
        if (p->u.tls) {
            err_set(err, errlen, "probe %s: https is not supported (probes read loopback services)",
                    s->name);
            goto fail;
        }
    }
    *out = p;
    return 0;
fail:
    probe_close(p);
    return -1;
}

int probe_read(probe *p, double *value, char *err, size_t errlen) {
    int64_t deadline = clock_now_ns() + p->spec.timeout_ns;
    *value = NAN;
    switch (p->spec.kind) {
    case PROBE_REDIS: return redis_read(p, deadline, value, err, errlen);
    case PROBE_SQL: return sql_read(p, deadline, value, err, errlen);
    case PROBE_HTTP: return http_read(p, deadline, value, err, errlen);
    }
    return -1;
}

const probe_spec *probe_get_spec(const probe *p) {
    return &p->spec;
}

void probe_close(probe *p) {
    if (!p) return;
    redis_drop(p);
    pg_drop(p);
    if (p->have_url) url_free(&p->u);
    memset(p->pass, 0, sizeof p->pass);
    free(p);
}
