/* api.c — the Toxiproxy-compatible HTTP control API of brink's fault proxy.
 *
 * Scenarios, the stack and users' own Toxiproxy clients change the proxies (proxy.h) through this
 * API while traffic flows: create and delete proxies, take them down (enabled:false), add, update
 * and remove toxics, reset everything. Routes, JSON shapes, defaults and status codes follow
 * Toxiproxy 2.x (its api.go, toxic_collection.go, proxy_collection.go), so that Toxiproxy's Go
 * client, toxiproxy-cli and the Ruby/Python/Node/Java clients work unchanged:
 *
 *   GET    /proxies                      {name: proxy, ...}                      200
 *   POST   /proxies                      create                                  201 (409, 400)
 *   POST   /populate                     create or replace a list                201 {"proxies"}
 *   GET    /proxies/{p}                  proxy with its toxics                   200 (404)
 *   POST   /proxies/{p} (or PATCH)       change listen, upstream, enabled        200
 *   DELETE /proxies/{p}                                                          204
 *   GET    /proxies/{p}/toxics           [toxic, ...]                            200
 *   POST   /proxies/{p}/toxics           add                                     200 (409, 400)
 *   GET    /proxies/{p}/toxics/{t}                                               200 (404)
 *   POST   /proxies/{p}/toxics/{t} (or PATCH)  toxicity and attributes           200
 *   DELETE /proxies/{p}/toxics/{t}                                               204
 *   POST   /reset                        enable every proxy, remove every toxic  204
 *   GET    /version                      {"version": "brink-X.Y.Z"}              200
 *   GET    /metrics                      Prometheus text: connections and bytes  200
 *
 * A proxy's or a toxic's name is 1 to 63 of [A-Za-z0-9_.-] (toxic_name_ok), so that each can be
 * addressed in a path; another name is answered 400 (Toxiproxy takes any, and a name with a '/'
 * could then never be shown or deleted).
 *
 * Errors are {"error": "...", "status": N}. Unknown routes answer 404, known routes with another
 * method 405, bodies over 1 MiB 413; requests from browsers (User-Agent "Mozilla/...") 403, as
 * Toxiproxy does, so that a web page cannot drive a proxy on localhost.
 *
 * libmicrohttpd serves the requests from one internal thread (epoll); a handler reads the whole
 * body, parses it with jansson and calls proxy.h, whose calls are answered by the proxy's own
 * event loop — so a bad request can never touch the data path: proxies keep forwarding. */
#include "fault/api.h"
#include "core/version.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"

#define DEFAULT_PROXY_LISTEN "127.0.0.1:0"
#define MAX_MS               1000000000000LL /* 31 years: any longer is a mistake */
#define POPULATE_MAX         1024            /* proxies in one populate call: bounds its memory */
#define JSON_OUT_FLAGS       (JSON_COMPACT | JSON_REAL_PRECISION(9))

struct proxy_api {
    struct MHD_Daemon *mhd;
    proxy_server *srv;
    int fd;
};

/* One request's state across libmicrohttpd's calls of the handler. */
typedef struct req_ctx {
    char *body;
    size_t len, cap;
    bool too_large; /* the body passed PROXY_API_MAX_BODY: the rest is discarded, answer 413 */
    bool answered;  /* a response was queued before the body was read */
} req_ctx;

/* ---------------------------------------------------------------- responses */

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned status, const char *ctype,
                                 char *body, size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    if (ctype) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends v (a reference is taken) as the JSON body. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *v) {
    char *s = v ? json_dumps(v, JSON_OUT_FLAGS | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (!s) return MHD_NO;
    return send_body(c, status, "application/json", s, strlen(s));
}

static enum MHD_Result send_empty(struct MHD_Connection *c, unsigned status) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static json_t *error_json(unsigned status, const char *msg) {
    return json_pack("{s:s, s:i}", "error", msg, "status", (int)status);
}

/* Toxiproxy's error shape, {"error": "...", "status": N}, with a trailing newline as Go's
 * http.Error writes it. */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *v = error_json(status, msg);
    char *s = v ? json_dumps(v, JSON_OUT_FLAGS) : NULL;
    json_decref(v);
    if (!s) return MHD_NO;
    size_t n = strlen(s);
    char *body = realloc(s, n + 2);
    if (!body) {
        free(s);
        return MHD_NO;
    }
    body[n] = '\n';
    body[n + 1] = '\0';
    return send_body(c, status, "application/json", body, n + 1);
}

static unsigned http_status(proxy_status s) {
    switch (s) {
    case PROXY_OK: return MHD_HTTP_OK;
    case PROXY_EINVAL:
    case PROXY_EFULL: return MHD_HTTP_BAD_REQUEST;
    case PROXY_ENOENT: return MHD_HTTP_NOT_FOUND;
    case PROXY_EEXIST: return MHD_HTTP_CONFLICT;
    case PROXY_EADDR: /* Toxiproxy answers a listen failure with 500 */
    case PROXY_EINTERNAL:
    default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* The message for a failed proxy.h call: its own reason when it gave one. */
static const char *status_message(proxy_status s, const char *err, const char *what) {
    if (err && err[0]) return err;
    switch (s) {
    case PROXY_ENOENT: return what;
    case PROXY_EEXIST: return "already exists";
    case PROXY_EINVAL: return "invalid argument";
    case PROXY_EADDR: return "cannot listen on the address";
    case PROXY_EFULL: return "too many toxics on this proxy";
    default: return "internal error";
    }
}

/* ---------------------------------------------------------------- JSON out */

/* Attributes of each toxic type: their JSON names, where they live in toxic_spec, the largest
 * value accepted (so that the data path's arithmetic in ns or bytes cannot overflow). */
typedef struct attr_def {
    const char *name;
    size_t off;
    int64_t max;
} attr_def;

#define ATTR(n, field, mx)                                                                         \
    { n, offsetof(toxic_spec, field), mx }
static const attr_def attrs_latency[] = {ATTR("latency", latency, MAX_MS),
                                         ATTR("jitter", jitter, MAX_MS)};
static const attr_def attrs_bandwidth[] = {ATTR("rate", rate, INT64_MAX / 1000000)};
static const attr_def attrs_slow_close[] = {ATTR("delay", delay, MAX_MS)};
static const attr_def attrs_timeout[] = {ATTR("timeout", timeout, MAX_MS)};
static const attr_def attrs_slicer[] = {ATTR("average_size", average_size, INT32_MAX),
                                        ATTR("size_variation", size_variation, INT32_MAX),
                                        ATTR("delay", delay, MAX_MS * 1000)};
static const attr_def attrs_limit_data[] = {ATTR("bytes", bytes, INT64_MAX / 2)};
#undef ATTR

static const attr_def *attrs_of(toxic_type t, size_t *n) {
#define RET(a)                                                                                     \
    do {                                                                                           \
        *n = sizeof(a) / sizeof(a[0]);                                                             \
        return a;                                                                                  \
    } while (0)
    switch (t) {
    case TOXIC_LATENCY: RET(attrs_latency);
    case TOXIC_BANDWIDTH: RET(attrs_bandwidth);
    case TOXIC_SLOW_CLOSE: RET(attrs_slow_close);
    case TOXIC_TIMEOUT:
    case TOXIC_RESET_PEER: RET(attrs_timeout);
    case TOXIC_SLICER: RET(attrs_slicer);
    case TOXIC_LIMIT_DATA: RET(attrs_limit_data);
    default: *n = 0; return NULL;
    }
#undef RET
}

static int64_t *attr_ptr(toxic_spec *t, const attr_def *a) {
    return (int64_t *)((char *)t + a->off);
}

/* Go marshals Toxiproxy's float32 toxicity 1 as 1, not 1.0: the same here for whole values. */
static json_t *toxicity_json(double v) {
    if (v == floor(v) && fabs(v) < 1e15) return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *toxic_to_json(const toxic_spec *t) {
    json_t *attrs = json_object();
    size_t n;
    const attr_def *defs = attrs_of(t->type, &n);
    toxic_spec copy = *t;
    for (size_t i = 0; i < n; i++)
        json_object_set_new(attrs, defs[i].name, json_integer(*attr_ptr(&copy, &defs[i])));
    const char *type = toxic_type_name(t->type), *stream = toxic_stream_name(t->stream);
    return json_pack("{s:o, s:s, s:s, s:s, s:o}", "attributes", attrs, "name", t->name, "type",
                     type ? type : "", "stream", stream ? stream : "", "toxicity",
                     toxicity_json(t->toxicity));
}

/* Toxiproxy lists the upstream chain first, then the downstream one, each in order of addition. */
static json_t *toxics_to_json(const proxy_info *p) {
    json_t *a = json_array();
    int n = p->ntoxics < 0 ? 0 : p->ntoxics > PROXY_MAX_TOXICS ? PROXY_MAX_TOXICS : p->ntoxics;
    for (int pass = 0; pass < 2; pass++) {
        toxic_stream want = pass == 0 ? STREAM_UPSTREAM : STREAM_DOWNSTREAM;
        for (int i = 0; i < n; i++)
            if (p->toxics[i].stream == want) json_array_append_new(a, toxic_to_json(&p->toxics[i]));
    }
    return a;
}

static json_t *proxy_to_json(const proxy_info *p) {
    return json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", p->name, "listen", p->listen, "upstream",
                     p->upstream, "enabled", p->enabled, "toxics", toxics_to_json(p));
}

/* ---------------------------------------------------------------- JSON in */

/* obj[key], matched as Go's encoding/json does: exactly, else ignoring case. JSON null counts as
 * absent (Go leaves the field unchanged). */
static json_t *jfield(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!v) {
        const char *k;
        json_t *x;
        json_object_foreach(obj, k, x) {
            if (!strcasecmp(k, key)) {
                v = x;
                break;
            }
        }
    }
    return v && !json_is_null(v) ? v : NULL;
}

/* Reads a string field into out (outlen bytes). 0 absent, 1 present, -1 with a reason in err. */
static int jstring(json_t *obj, const char *key, char *out, size_t outlen, char *err,
                   size_t errlen) {
    json_t *v = jfield(obj, key);
    if (!v) return 0;
    if (!json_is_string(v)) {
        err_set(err, errlen, "bad request body: field '%s' must be a string", key);
        return -1;
    }
    if (json_string_length(v) >= outlen) {
        err_set(err, errlen, "bad request body: field '%s' is too long (at most %zu bytes)", key,
                outlen - 1);
        return -1;
    }
    snprintf(out, outlen, "%s", json_string_value(v));
    return 1;
}

/* Reads a boolean field. 0 absent, 1 present, -1 with a reason in err. */
static int jbool(json_t *obj, const char *key, bool *out, char *err, size_t errlen) {
    json_t *v = jfield(obj, key);
    if (!v) return 0;
    if (!json_is_boolean(v)) {
        err_set(err, errlen, "bad request body: field '%s' must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 1;
}

/* Parses a request body; NULL with Toxiproxy's "bad request body: ..." in err. */
static json_t *parse_body(const char *body, size_t len, char *err, size_t errlen) {
    json_error_t je;
    json_t *v = json_loadb(body ? body : "", len, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
    if (!v) err_set(err, errlen, "bad request body: %s", je.text);
    return v;
}

/* Applies the "attributes" object to t (only the type's attributes; others are ignored, as Go
 * ignores unknown fields). Each must be a non-negative whole number. */
static int apply_attributes(json_t *attrs, toxic_spec *t, char *err, size_t errlen) {
    if (!attrs) return 0;
    if (!json_is_object(attrs)) {
        err_set(err, errlen, "bad request body: 'attributes' must be an object");
        return -1;
    }
    size_t n;
    const attr_def *defs = attrs_of(t->type, &n);
    for (size_t i = 0; i < n; i++) {
        json_t *v = jfield(attrs, defs[i].name);
        if (!v) continue;
        int64_t x;
        if (json_is_integer(v)) {
            x = (int64_t)json_integer_value(v);
        } else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                   fabs(json_real_value(v)) < 9e18) {
            x = (int64_t)json_real_value(v);
        } else {
            err_set(err, errlen, "bad request body: attribute '%s' must be a whole number",
                    defs[i].name);
            return -1;
        }
        if (x < 0) {
            err_set(err, errlen, "bad request body: attribute '%s' must not be negative (got %lld)",
                    defs[i].name, (long long)x);
            return -1;
        }
        if (x > defs[i].max) {
            err_set(err, errlen, "bad request body: attribute '%s' is too large (at most %lld)",
                    defs[i].name, (long long)defs[i].max);
            return -1;
        }
        *attr_ptr(t, &defs[i]) = x;
    }
    return 0;
}

static int apply_toxicity(json_t *obj, toxic_spec *t, char *err, size_t errlen) {
    json_t *v = jfield(obj, "toxicity");
    if (!v) return 0;
    if (!json_is_number(v)) {
        err_set(err, errlen, "bad request body: 'toxicity' must be a number");
        return -1;
    }
    double x = json_number_value(v);
    if (!(x >= 0 && x <= 1)) {
        err_set(err, errlen, "bad request body: 'toxicity' must be between 0 and 1 (got %g)", x);
        return -1;
    }
    t->toxicity = x;
    return 0;
}

static const toxic_spec *find_toxic(const proxy_info *p, const char *name) {
    for (int i = 0; i < p->ntoxics && i < PROXY_MAX_TOXICS; i++)
        if (!strcmp(p->toxics[i].name, name)) return &p->toxics[i];
    return NULL;
}

/* ---------------------------------------------------------------- populate */

typedef struct pop_entry {
    char name[PROXY_NAME_MAX], listen[PROXY_ADDR_MAX], upstream[PROXY_ADDR_MAX];
    bool enabled;
} pop_entry;

/* Phase 1 of populate: the whole document, validated before anything changes. */
static int populate_parse(const char *text, size_t len, pop_entry **out, size_t *nout, char *err,
                          size_t errlen) {
    json_t *doc = parse_body(text, len, err, errlen);
    if (!doc) return MHD_HTTP_BAD_REQUEST;
    int status = MHD_HTTP_BAD_REQUEST;
    pop_entry *e = NULL;
    if (!json_is_array(doc)) {
        err_set(err, errlen, "bad request body: expected a JSON array of proxies");
        goto out;
    }
    size_t n = json_array_size(doc);
    if (n > POPULATE_MAX) {
        err_set(err, errlen, "bad request body: %zu proxies (at most %d in one call)", n,
                POPULATE_MAX);
        goto out;
    }
    e = calloc(n ? n : 1, sizeof *e);
    if (!e) {
        err_set(err, errlen, "out of memory");
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(doc, i);
        if (!json_is_object(o)) {
            err_set(err, errlen, "bad request body: proxy %zu is not an object", i + 1);
            goto out;
        }
        int r;
        if ((r = jstring(o, "name", e[i].name, sizeof e[i].name, err, errlen)) < 0) goto out;
        if (r == 0 || !e[i].name[0]) {
            err_set(err, errlen, "missing required field: name at proxy %zu", i + 1);
            goto out;
        }
        if (!proxy_name_ok(e[i].name)) {
            err_set(err, errlen, "invalid proxy name '%s' at proxy %zu: " PROXY_NAME_RULE,
                    e[i].name, i + 1);
            goto out;
        }
        if ((r = jstring(o, "upstream", e[i].upstream, sizeof e[i].upstream, err, errlen)) < 0)
            goto out;
        if (r == 0 || !e[i].upstream[0]) {
            err_set(err, errlen, "missing required field: upstream at proxy %zu", i + 1);
            goto out;
        }
        if ((r = jstring(o, "listen", e[i].listen, sizeof e[i].listen, err, errlen)) < 0) goto out;
        if (r == 0 || !e[i].listen[0])
            snprintf(e[i].listen, sizeof e[i].listen, "%s", DEFAULT_PROXY_LISTEN);
        e[i].enabled = true;
        if (jbool(o, "enabled", &e[i].enabled, err, errlen) < 0) goto out;
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(e[j].name, e[i].name)) {
                err_set(err, errlen, "duplicate proxy name \"%s\" at proxy %zu", e[i].name, i + 1);
                goto out;
            }
        }
    }
    *out = e;
    *nout = n;
    e = NULL;
    status = 0;
out:
    free(e);
    json_decref(doc);
    return status;
}

/* Puts a proxy back as it was (after a failed populate replaced it). Best effort. */
static void restore_proxy(proxy_server *srv, const proxy_info *p) {
    char e[256];
    proxy_delete(srv, p->name);
    if (proxy_create(srv, p->name, p->listen, p->upstream, p->enabled, NULL, e, sizeof e) !=
        PROXY_OK)
        return;
    for (int i = 0; i < p->ntoxics && i < PROXY_MAX_TOXICS; i++)
        proxy_toxic_add(srv, p->name, &p->toxics[i], e, sizeof e);
}

/* Phases 2 and 3: apply each entry; on a failure, undo what this call did. On success *out holds
 * the resulting proxies in the document's order (malloc'd). */
static int populate(proxy_server *srv, const char *text, size_t len, proxy_info **out, size_t *nout,
                    char *err, size_t errlen) {
    pop_entry *e = NULL;
    size_t n = 0;
    int status = populate_parse(text, len, &e, &n, err, errlen);
    if (status) return status;
    proxy_info *res = calloc(n ? n : 1, sizeof *res);
    proxy_info *old = calloc(n ? n : 1, sizeof *old); /* what each entry replaced */
    bool *had_old = calloc(n ? n : 1, sizeof *had_old), *created = calloc(n ? n : 1, 1);
    if (!res || !old || !had_old || !created) {
        err_set(err, errlen, "out of memory");
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        goto out;
    }
    size_t i;
    for (i = 0; i < n; i++) {
        proxy_info *cur = &old[i];
        if (proxy_get(srv, e[i].name, cur) == PROXY_OK) {
            if (!strcmp(cur->listen, e[i].listen) && !strcmp(cur->upstream, e[i].upstream)) {
                res[i] = *cur; /* consistent with the document: untouched */
                continue;
            }
            had_old[i] = true;
            proxy_delete(srv, e[i].name);
        }
        char perr[256] = "";
        proxy_status s = proxy_create(srv, e[i].name, e[i].listen, e[i].upstream, e[i].enabled,
                                      &res[i], perr, sizeof perr);
        if (s != PROXY_OK) {
            status = (int)http_status(s);
            err_set(err, errlen, "proxy %s: %s", e[i].name,
                    status_message(s, perr, "proxy not found"));
            break;
        }
        created[i] = true;
    }
    if (i < n) { /* roll back, newest first */
        for (size_t j = i + 1; j-- > 0;) {
            if (created[j]) proxy_delete(srv, e[j].name);
            if (had_old[j]) restore_proxy(srv, &old[j]);
        }
        goto out;
    }
    status = 0;
    if (out) {
        *out = res;
        *nout = n;
        res = NULL;
    }
out:
    free(res);
    free(old);
    free(had_old);
    free(created);
    free(e);
    return status;
}

int proxy_api_populate(proxy_server *srv, const char *json, size_t len, char *err, size_t errlen) {
    return populate(srv, json, len, NULL, NULL, err, errlen);
}

/* ---------------------------------------------------------------- handlers */

typedef struct request {
    struct MHD_Connection *c;
    proxy_server *srv;
    const char *method;
    const char *body;
    size_t len;
} request;

static enum MHD_Result bad_body(request *r, const char *msg) {
    return send_error(r->c, MHD_HTTP_BAD_REQUEST, "%s", msg);
}

/* The request body as a JSON object; NULL when it is none, already answered (*ret) with
 * Toxiproxy's "bad request body" error. */
static json_t *body_object(request *r, enum MHD_Result *ret) {
    char err[512] = "";
    json_t *o = parse_body(r->body, r->len, err, sizeof err);
    if (!o) {
        *ret = bad_body(r, err);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        *ret = bad_body(r, "bad request body: expected a JSON object");
        return NULL;
    }
    return o;
}

/* Reads the proxy `name` into p; false when there is none, already answered (*ret) with 404. */
static bool get_proxy(request *r, const char *name, proxy_info *p, enum MHD_Result *ret) {
    if (proxy_get(r->srv, name, p) == PROXY_OK) return true;
    *ret = send_error(r->c, MHD_HTTP_NOT_FOUND, "proxy not found");
    return false;
}

/* Reads the proxy into p and finds its toxic `name` there; NULL when either is missing, already
 * answered (*ret) with 404. */
static const toxic_spec *get_toxic(request *r, const char *proxy, const char *name, proxy_info *p,
                                   enum MHD_Result *ret) {
    if (!get_proxy(r, proxy, p, ret)) return NULL;
    const toxic_spec *t = find_toxic(p, name);
    if (!t) *ret = send_error(r->c, MHD_HTTP_NOT_FOUND, "toxic not found");
    return t;
}

/* Answers a failed proxy.h call s with Toxiproxy's error: its status, and the text `fixed` when s
 * is fixed_s (Toxiproxy's own words, not the engine's reason), else status_message's. */
static enum MHD_Result answer_failure(request *r, proxy_status s, const char *err, const char *what,
                                      proxy_status fixed_s, const char *fixed) {
    if (s == fixed_s) return send_error(r->c, http_status(s), "%s", fixed);
    return send_error(r->c, http_status(s), "%s", status_message(s, err, what));
}

static enum MHD_Result h_proxy_index(request *r) {
    proxy_info *list = NULL;
    int n = 0;
    proxy_status s = proxy_list(r->srv, &list, &n);
    if (s != PROXY_OK) return send_error(r->c, http_status(s), "cannot list proxies");
    json_t *o = json_object();
    for (int i = 0; i < n; i++) json_object_set_new(o, list[i].name, proxy_to_json(&list[i]));
    free(list);
    return send_json(r->c, MHD_HTTP_OK, o);
}

static enum MHD_Result h_proxy_create(request *r) {
    char err[512] = "", name[PROXY_NAME_MAX] = "", listen[PROXY_ADDR_MAX] = "";
    char upstream[PROXY_ADDR_MAX] = "";
    bool enabled = true;
    enum MHD_Result ret;
    json_t *o = body_object(r, &ret);
    if (!o) return ret;
    if (jstring(o, "name", name, sizeof name, err, sizeof err) < 0 ||
        jstring(o, "listen", listen, sizeof listen, err, sizeof err) < 0 ||
        jstring(o, "upstream", upstream, sizeof upstream, err, sizeof err) < 0 ||
        jbool(o, "enabled", &enabled, err, sizeof err) < 0) {
        ret = bad_body(r, err);
        goto out;
    }
    if (!name[0]) {
        ret = bad_body(r, "missing required field: name");
        goto out;
    }
    if (!upstream[0]) {
        ret = bad_body(r, "missing required field: upstream");
        goto out;
    }
    if (!listen[0]) snprintf(listen, sizeof listen, "%s", DEFAULT_PROXY_LISTEN);
    proxy_info info;
    proxy_status s = proxy_create(r->srv, name, listen, upstream, enabled, &info, err, sizeof err);
    if (s != PROXY_OK)
        ret = answer_failure(r, s, err, "proxy not found", PROXY_EEXIST, "proxy already exists");
    else
        ret = send_json(r->c, MHD_HTTP_CREATED, proxy_to_json(&info));
out:
    json_decref(o);
    return ret;
}

static enum MHD_Result h_populate(request *r) {
    char err[512] = "";
    proxy_info *list = NULL;
    size_t n = 0;
    int status = populate(r->srv, r->body, r->len, &list, &n, err, sizeof err);
    if (status) {
        json_t *v = error_json((unsigned)status, err);
        json_object_set_new(v, "proxies", json_null());
        return send_json(r->c, (unsigned)status, v);
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, proxy_to_json(&list[i]));
    free(list);
    return send_json(r->c, MHD_HTTP_CREATED, json_pack("{s:o}", "proxies", a));
}

static enum MHD_Result h_proxy_show(request *r, const char *name) {
    proxy_info p;
    enum MHD_Result ret;
    if (!get_proxy(r, name, &p, &ret)) return ret;
    return send_json(r->c, MHD_HTTP_OK, proxy_to_json(&p));
}

static enum MHD_Result h_proxy_update(request *r, const char *name) {
    char err[512] = "", listen[PROXY_ADDR_MAX] = "", upstream[PROXY_ADDR_MAX] = "";
    bool enabled = true;
    proxy_info cur;
    enum MHD_Result ret;
    if (!get_proxy(r, name, &cur, &ret)) return ret;
    json_t *o = body_object(r, &ret);
    if (!o) return ret;
    int has_listen, has_upstream, has_enabled;
    if ((has_listen = jstring(o, "listen", listen, sizeof listen, err, sizeof err)) < 0 ||
        (has_upstream = jstring(o, "upstream", upstream, sizeof upstream, err, sizeof err)) < 0 ||
        (has_enabled = jbool(o, "enabled", &enabled, err, sizeof err)) < 0) {
        ret = bad_body(r, err);
        goto out;
    }
    if ((has_listen && !listen[0]) || (has_upstream && !upstream[0])) {
        ret = bad_body(r, "bad request body: listen and upstream must not be empty");
        goto out;
    }
    /* the Go client sends the whole proxy back: unchanged fields must not restart it */
    const char *l = has_listen && strcmp(listen, cur.listen) ? listen : NULL;
    const char *u = has_upstream && strcmp(upstream, cur.upstream) ? upstream : NULL;
    int en = has_enabled ? (int)enabled : -1;
    proxy_info info;
    err[0] = '\0';
    proxy_status s = proxy_update(r->srv, name, l, u, en, &info, err, sizeof err);
    if (s != PROXY_OK)
        ret = answer_failure(r, s, err, "proxy not found", PROXY_OK, NULL);
    else
        ret = send_json(r->c, MHD_HTTP_OK, proxy_to_json(&info));
out:
    json_decref(o);
    return ret;
}

static enum MHD_Result h_proxy_delete(request *r, const char *name) {
    proxy_status s = proxy_delete(r->srv, name);
    if (s != PROXY_OK) return answer_failure(r, s, NULL, "", PROXY_ENOENT, "proxy not found");
    return send_empty(r->c, MHD_HTTP_NO_CONTENT);
}

static enum MHD_Result h_toxic_index(request *r, const char *proxy) {
    proxy_info p;
    enum MHD_Result ret;
    if (!get_proxy(r, proxy, &p, &ret)) return ret;
    return send_json(r->c, MHD_HTTP_OK, toxics_to_json(&p));
}

static enum MHD_Result h_toxic_create(request *r, const char *proxy) {
    char err[512] = "";
    proxy_info p;
    enum MHD_Result ret;
    if (!get_proxy(r, proxy, &p, &ret)) return ret;
    json_t *o = body_object(r, &ret);
    if (!o) return ret;
    toxic_spec t;
    memset(&t, 0, sizeof t);
    t.stream = STREAM_DOWNSTREAM;
    t.toxicity = 1.0;
    char name[PROXY_NAME_MAX] = "", type[64] = "", stream[64] = "downstream";
    if (jstring(o, "name", name, sizeof name, err, sizeof err) < 0 ||
        jstring(o, "type", type, sizeof type, err, sizeof err) < 0 ||
        jstring(o, "stream", stream, sizeof stream, err, sizeof err) < 0 ||
        apply_toxicity(o, &t, err, sizeof err) < 0) {
        ret = bad_body(r, err);
        goto out;
    }
    for (char *q = stream; *q; q++) *q = (char)tolower((unsigned char)*q);
    if (toxic_stream_parse(stream, &t.stream) < 0) {
        ret = bad_body(r, "stream was invalid, can be either upstream or downstream");
        goto out;
    }
    if (toxic_type_parse(type, &t.type) < 0) {
        ret = send_error(r->c, MHD_HTTP_BAD_REQUEST, "invalid toxic type: '%s'", type);
        goto out;
    }
    if (name[0])
        snprintf(t.name, sizeof t.name, "%s", name);
    else /* "<type>_<stream>" */
        snprintf(t.name, sizeof t.name, "%s_%s", toxic_type_name(t.type),
                 toxic_stream_name(t.stream));
    if (find_toxic(&p, t.name)) {
        ret = send_error(r->c, MHD_HTTP_CONFLICT, "toxic already exists");
        goto out;
    }
    if (apply_attributes(jfield(o, "attributes"), &t, err, sizeof err) < 0) {
        ret = bad_body(r, err);
        goto out;
    }
    err[0] = '\0';
    proxy_status s = proxy_toxic_add(r->srv, proxy, &t, err, sizeof err);
    if (s != PROXY_OK)
        ret = answer_failure(r, s, err, "proxy not found", PROXY_EEXIST, "toxic already exists");
    else
        ret = send_json(r->c, MHD_HTTP_OK, toxic_to_json(&t)); /* 200, as Toxiproxy */
out:
    json_decref(o);
    return ret;
}

static enum MHD_Result h_toxic_show(request *r, const char *proxy, const char *name) {
    proxy_info p;
    enum MHD_Result ret;
    const toxic_spec *t = get_toxic(r, proxy, name, &p, &ret);
    if (!t) return ret;
    return send_json(r->c, MHD_HTTP_OK, toxic_to_json(t));
}

/* Toxiproxy's update: attributes given replace the current ones, the others stay; toxicity the
 * same; name, type and stream cannot change. */
static enum MHD_Result h_toxic_update(request *r, const char *proxy, const char *name) {
    char err[512] = "";
    proxy_info p;
    enum MHD_Result ret;
    const toxic_spec *cur = get_toxic(r, proxy, name, &p, &ret);
    if (!cur) return ret;
    toxic_spec t = *cur;
    json_t *o = body_object(r, &ret);
    if (!o) return ret;
    if (apply_toxicity(o, &t, err, sizeof err) < 0 ||
        apply_attributes(jfield(o, "attributes"), &t, err, sizeof err) < 0) {
        ret = bad_body(r, err);
        goto out;
    }
    err[0] = '\0';
    proxy_status s = proxy_toxic_update(r->srv, proxy, name, &t, err, sizeof err);
    if (s != PROXY_OK)
        ret = answer_failure(r, s, err, "toxic not found", PROXY_ENOENT, "toxic not found");
    else
        ret = send_json(r->c, MHD_HTTP_OK, toxic_to_json(&t));
out:
    json_decref(o);
    return ret;
}

static enum MHD_Result h_toxic_delete(request *r, const char *proxy, const char *name) {
    proxy_info p;
    enum MHD_Result ret;
    if (!get_proxy(r, proxy, &p, &ret)) return ret;
    proxy_status s = proxy_toxic_remove(r->srv, proxy, name);
    if (s != PROXY_OK) return answer_failure(r, s, NULL, "", PROXY_ENOENT, "toxic not found");
    return send_empty(r->c, MHD_HTTP_NO_CONTENT);
}

static enum MHD_Result h_reset(request *r) {
    proxy_status s = proxy_reset(r->srv);
    if (s != PROXY_OK) return answer_failure(r, s, NULL, "", PROXY_OK, NULL);
    return send_empty(r->c, MHD_HTTP_NO_CONTENT);
}

static enum MHD_Result h_version(request *r) {
    char *s = NULL;
    if (asprintf(&s, "{\"version\": \"brink-%s\"}\n", BRINK_VERSION) < 0) return MHD_NO;
    return send_body(r->c, MHD_HTTP_OK, "application/json;charset=utf-8", s, strlen(s));
}

/* Prometheus label values: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fprintf(f, "\\%c", *s);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static enum MHD_Result h_metrics(request *r) {
    proxy_info *list = NULL;
    int n = 0;
    proxy_status s = proxy_list(r->srv, &list, &n);
    if (s != PROXY_OK) return send_error(r->c, http_status(s), "cannot list proxies");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        free(list);
        return MHD_NO;
    }
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        {"brink_proxy_connections_total", "counter", "Client connections accepted."},
        {"brink_proxy_connections_active", "gauge", "Client connections open now."},
        {"brink_proxy_upstream_bytes_total", "counter", "Bytes passed client to server."},
        {"brink_proxy_downstream_bytes_total", "counter", "Bytes passed server to client."},
        {"brink_proxy_enabled", "gauge", "1 when the proxy is enabled."},
        {"brink_proxy_toxics", "gauge", "Toxics configured on the proxy."},
    };
    for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help, m[k].name, m[k].type);
        for (int i = 0; i < n; i++) {
            const proxy_info *p = &list[i];
            int64_t v[] = {p->connections_total, p->connections_active,
                           p->bytes_upstream,    p->bytes_downstream,
                           p->enabled,           p->ntoxics};
            fprintf(f, "%s{proxy=\"", m[k].name);
            label_value(f, p->name);
            fprintf(f, "\"} %lld\n", (long long)v[k]);
        }
    }
    fclose(f);
    free(list);
    return send_body(r->c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

/* ---------------------------------------------------------------- routing */

static enum MHD_Result not_allowed(request *r, const char *allow) {
    char m[32], *s = NULL; /* the method as it came, but JSON-safe: printable ASCII, no " or \ */
    size_t i = 0;
    for (unsigned char ch; (ch = (unsigned char)r->method[i]) && i < sizeof m - 1; i++)
        m[i] = ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ? (char)ch : '?';
    m[i] = '\0';
    if (asprintf(&s, "{\"error\":\"method %s not allowed here (allowed: %s)\",\"status\":405}\n", m,
                 allow) < 0)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(r->c, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
    MHD_destroy_response(resp);
    return ret;
}

static bool is(const request *r, const char *m) {
    return !strcmp(r->method, m);
}

/* Splits the path into at most 5 segments; -1 when it has more, or an empty segment (Toxiproxy's
 * router matches "/proxies" but not "/proxies/"). */
static int split_path(char *path, char **seg) {
    if (path[0] != '/') return -1;
    int n = 0;
    char *p = path + 1;
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash) *slash = '\0';
        if (!*p || n == 5) return -1;
        seg[n++] = p;
        if (!slash) return n;
        p = slash + 1;
    }
}

static enum MHD_Result route(request *r, const char *url) {
    char *path = strdup(url);
    if (!path) return MHD_NO;
    char *seg[5];
    int n = split_path(path, seg);
    enum MHD_Result ret;
    bool post = is(r, "POST"), get = is(r, "GET"), patch = is(r, "PATCH"), del = is(r, "DELETE");
#define ROUTE(cond, allow, call) ret = (cond) ? (call) : not_allowed(r, allow)
    if (n == 1 && !strcmp(seg[0], "proxies")) {
        if (get)
            ret = h_proxy_index(r);
        else
            ROUTE(post, "GET, POST", h_proxy_create(r));
    } else if (n == 2 && !strcmp(seg[0], "proxies")) {
        if (get)
            ret = h_proxy_show(r, seg[1]);
        else if (post || patch)
            ret = h_proxy_update(r, seg[1]);
        else
            ROUTE(del, "GET, POST, PATCH, DELETE", h_proxy_delete(r, seg[1]));
    } else if (n == 3 && !strcmp(seg[0], "proxies") && !strcmp(seg[2], "toxics")) {
        if (get)
            ret = h_toxic_index(r, seg[1]);
        else
            ROUTE(post, "GET, POST", h_toxic_create(r, seg[1]));
    } else if (n == 4 && !strcmp(seg[0], "proxies") && !strcmp(seg[2], "toxics")) {
        if (get)
            ret = h_toxic_show(r, seg[1], seg[3]);
        else if (post || patch)
            ret = h_toxic_update(r, seg[1], seg[3]);
        else
            ROUTE(del, "GET, POST, PATCH, DELETE", h_toxic_delete(r, seg[1], seg[3]));
    } else if (n == 1 && !strcmp(seg[0], "reset")) {
        ROUTE(post, "POST", h_reset(r));
    } else if (n == 1 && !strcmp(seg[0], "populate")) {
        ROUTE(post, "POST", h_populate(r));
    } else if (n == 1 && !strcmp(seg[0], "version")) {
        ROUTE(get, "GET", h_version(r));
    } else if (n == 1 && !strcmp(seg[0], "metrics")) {
        ROUTE(get, "GET", h_metrics(r));
    } else {
        ret = send_error(r->c, MHD_HTTP_NOT_FOUND, "no such route: %s", url);
    }
#undef ROUTE
    free(path);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    proxy_api *api = cls;
    req_ctx *rc = *con_cls;
    if (!rc) { /* headers are in; the body (if any) follows in later calls */
        rc = calloc(1, sizeof *rc);
        if (!rc) return MHD_NO;
        *con_cls = rc;
        const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
        if (ua && !strncmp(ua, "Mozilla/", 8)) {
            rc->answered = true;
            return send_error(c, MHD_HTTP_FORBIDDEN, "User agent not allowed");
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || v > PROXY_API_MAX_BODY) {
                rc->answered = true;
                return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                  "request body too large (at most %d bytes)", PROXY_API_MAX_BODY);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rc->too_large || rc->answered) return MHD_YES;
        if (rc->len + n > PROXY_API_MAX_BODY) {
            rc->too_large = true;
            free(rc->body);
            rc->body = NULL;
            rc->len = rc->cap = 0;
            return MHD_YES;
        }
        if (rc->len + n + 1 > rc->cap) {
            size_t cap = rc->cap ? rc->cap : 4096;
            while (cap < rc->len + n + 1) cap *= 2;
            char *b = realloc(rc->body, cap);
            if (!b) return MHD_NO;
            rc->body = b;
            rc->cap = cap;
        }
        memcpy(rc->body + rc->len, upload_data, n);
        rc->len += n;
        rc->body[rc->len] = '\0';
        return MHD_YES;
    }
    if (rc->answered) return MHD_YES;
    rc->answered = true;
    if (rc->too_large)
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body too large (at most %d bytes)", PROXY_API_MAX_BODY);
    request r = {.c = c, .srv = api->srv, .method = method, .body = rc->body, .len = rc->len};
    return route(&r, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    req_ctx *rc = *con_cls;
    if (rc) {
        free(rc->body);
        free(rc);
        *con_cls = NULL;
    }
}

/* ---------------------------------------------------------------- server */

/* "HOST:PORT" or "[V6]:PORT" into host and port; -1 with a reason. */
static int split_hostport(const char *s, char *host, size_t hostlen, char *port, size_t portlen,
                          char *err, size_t errlen) {
    const char *h = s, *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') goto bad;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s))) goto bad;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen) goto bad;
    const char *p = colon + 1;
    size_t pl = strlen(p);
    if (pl == 0 || pl >= portlen || pl > 5 || strspn(p, "0123456789") != pl || atoi(p) > 65535)
        goto bad;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, p, pl + 1);
    return 0;
bad:
    err_set(err, errlen, "invalid API address '%s' (want HOST:PORT, e.g. 127.0.0.1:8474)", s);
    return -1;
}

static int listen_on(const char *addr, int *family, char *err, size_t errlen) {
    char host[256], port[8];
    if (split_hostport(addr, host, sizeof host, port, sizeof port, err, errlen) < 0) return -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res, *ai;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        err_set(err, errlen, "API address '%s': %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) {
            *family = ai->ai_family;
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) err_set(err, errlen, "cannot listen on API address %s: %s", addr, strerror(saved));
    return fd;
}

static void format_bound(int fd, char *out, size_t outlen) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    if (!out || !outlen) return;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(out, outlen, "?");
        return;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        snprintf(out, outlen, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        snprintf(out, outlen, "%s:%u", ip, ntohs(a->sin_port));
    }
}

proxy_api *proxy_api_start(proxy_server *srv, const char *listen, char *bound, size_t boundlen,
                           char *err, size_t errlen) {
    if (!srv) {
        err_set(err, errlen, "no proxy server");
        return NULL;
    }
    if (!listen || !*listen) listen = PROXY_API_DEFAULT_LISTEN;
    proxy_api *api = calloc(1, sizeof *api);
    if (!api) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    api->srv = srv;
    int family = AF_INET;
    api->fd = listen_on(listen, &family, err, errlen);
    if (api->fd < 0) {
        free(api);
        return NULL;
    }
    format_bound(api->fd, bound, boundlen);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    if (family == AF_INET6) flags |= MHD_USE_IPv6;
    api->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api, MHD_OPTION_LISTEN_SOCKET,
                                (MHD_socket)api->fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
    if (!api->mhd) {
        err_set(err, errlen, "cannot start the HTTP server on %s", listen);
        close(api->fd);
        free(api);
        return NULL;
    }
    return api;
}

void proxy_api_stop(proxy_api *api) {
    if (!api) return;
    MHD_stop_daemon(api->mhd); /* closes the listening socket it was given */
    free(api);
}
