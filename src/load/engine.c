/* engine.c — the load engine (see engine.h for the model).
 *
 * Threads: each worker thread owns an epoll instance, its share of the connections, its share of
 * the arrival schedule (open model: global request j belongs to thread j mod T) or of the request
 * count (closed model), and its own histograms and counters. A segment of a scaled-out test
 * (load/segment.h) first takes its own share the same way: every n-th request of the schedule
 * (j = i + n × the segment's own index), its part of the connections and of the count. Nothing is
 * shared on the per-request path; per-second data goes through a small ring of interval slots that
 * the caller's thread (the reporter) merges once each second, and totals are merged after the
 * threads end.
 *
 * Connections: a state machine (closed → connecting → [tls handshake] → writing → reading → idle)
 * over a transport (plain or TLS). Level-triggered epoll with EPOLLIN always on; EPOLLOUT is added
 * only while a connect or a write is pending, so a keep-alive request costs one write and one read
 * (plus a share of one epoll_wait) — no epoll_ctl per request. Responses are parsed by
 * libhttp-parser. Connections (re)connect lazily, when a request needs them.
 *
 * Latency: every request carries its intended start time (open model: from the schedule; closed
 * model: when the connection took it) and its actual start time; the corrected latency (intended →
 * response) and the service time (actual → response) go into two histograms, in µs. */
#include "load/engine.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fmt.h"
#include "core/hdrlog.h"
#include "core/rng.h"
#include "core/version.h"
#include "http/tmpl.h"
#include "http/transport.h"
#include "load/mix.h"
#include "load/sched.h"

#define BACKOFF_BASE_NS (10 * 1000000LL) /* the first reconnect wait */
#define READ_BUF_SIZE   65536
#define RING            4
#define SCAN_PERIOD_NS  (10 * NS_PER_MS)
#define LATE_NS         NS_PER_MS
#define STOP_DRAIN_NS   NS_PER_S
#define MAX_EVENTS      256
#define USER_AGENT      "brink/" BRINK_VERSION
#define MSG_ID_PREFIX   "msg_"
#define MSG_ID_LEN      (4 + 36)
#define BODY_MAX        (1024 * 1024) /* most bytes of a response body kept for checks */
#define FLOWS_MAX       65536         /* open model: most flows in progress per thread */

static const char *const err_names[ERR__COUNT] = {
    "connect_refused", "connect_timeout", "request_timeout", "reset", "closed_early", "tls",
    "parse",           "connect_error",
};

const char *engine_err_name(engine_err e) {
    return (unsigned)e < ERR__COUNT ? err_names[e] : "unknown";
}

typedef enum cstate {
    CS_CLOSED,
    CS_CONNECTING,
    CS_HANDSHAKE,
    CS_IDLE,
    CS_WRITING,
    CS_READING,
} cstate;

struct worker;

enum { RA_NAME, RA_OTHER, RA_MINE };

typedef struct conn {
    struct worker *w;
    transport_conn tc;
    cstate st;
    uint32_t idx; /* global connection index */
    bool busy;
    bool epollout;
    bool done;
    http_parser parser;
    const char *out;
    size_t out_len, out_off;
    char *buf; /* own request buffer (dynamic templates only) */
    int64_t intended, started, deadline;
    uint64_t seq; /* the request in flight */
    /* with a delivery policy: which attempt of its event it is, and when the event was first due */
    int attempt;
    bool dup;
    int8_t ev_type; /* with an event lifecycle: the event type in flight */
    int64_t first_due;
    /* a sender that honours Retry-After: the header as it is parsed (ra_state: in a header's
     * name, in another header's value, in Retry-After's), and its wait (-1: none) */
    uint8_t ra_state;
    uint8_t ra_name_len, ra_val_len;
    char ra_name[12], ra_val[40];
    int64_t retry_after_ns;
    /* reconnect backoff: after a failed connect the slot waits backoff_ns (doubling up to the
     * engine's maximum, reset by a response) and is not used before not_before (also the end of
     * a closed-model flow's think time) */
    int64_t backoff_ns, not_before;
    /* a scenario: the request in flight (engine.rq index) and its flow instance (-1: none), the
     * response body kept for its checks and captures */
    int16_t ri;
    bool want_body;
    int32_t fi;
    char *body;
    size_t body_len, body_cap;
} conn;

/* An event waiting for its retry (or an acknowledged one for its duplicate): 32 bytes each, in a
 * min-heap on due per thread — the sender's whole memory of the events it still owes. */
typedef struct pending {
    int64_t due, first_due;
    uint64_t seq;
    int32_t attempt; /* the attempt it will be */
    bool dup;
    uint32_t fi1; /* a scenario's flow step due: its instance + 1 (0: a delivery's event) */
} pending;

typedef struct interval {
    hdr_hist *h;
    int64_t sent, completed, errors;
} interval;

typedef struct engine engine;

typedef struct worker {
    engine *e;
    int id;
    pthread_t th;
    int epfd;
    conn *conns;
    int nconns;
    int *idle;
    int *cooling; /* slots waiting out their reconnect backoff; the soonest is due at next_cool */
    int ncooling;
    int64_t next_cool, backoffs;
    int nidle;
    int active;
    char *rbuf;
    /* open model */
    uint64_t k_due, k_sent; /* local request indices: [k_sent, k_due) are due, not started */
    int64_t next_due_abs;   /* absolute time of local request k_due; INT64_MAX when done */
    /* closed model */
    int64_t quota, issued;
    uint64_t local_seq;
    /* stopping */
    bool stopping;
    int64_t drain_deadline, stop_at;
    int64_t next_scan;
    /* per-second ring */
    int cur_sec;
    interval ring[RING];
    interval *cur;
    interval sink; /* used when the reporter fell behind */
    _Atomic int published;
    _Atomic int consumed;
    _Atomic bool finished;
    int64_t dropped_secs;
    /* totals */
    hdr_hist *lat, *svc;
    int64_t sent, responses, http_errors, transport_errors, connects;
    int64_t err[ERR__COUNT];
    char first_err[ERR__COUNT][160];
    int64_t status[600];
    int64_t ev_sent[LIFECYCLE_MAX_TYPES], ev_acked[LIFECYCLE_MAX_TYPES]; /* by event type */
    int64_t bytes_read, bytes_written, late, max_lag_ns, unsent;
    bool interrupted;
    /* delivery (engine_config.delivery) */
    pending *heap;
    size_t nheap, capheap;
    bool sched_over;   /* the schedule has ended: only retries and duplicates still go out */
    int64_t retry_end; /* ... until then */
    engine_delivery_counts dl;
    hdr_hist *d_delay;
    /* request rendering */
    rng rng;
    sign_ctx *sign;
    char *scratch; /* body rendering */
    char *static_req;
    size_t static_len;
    /* a scenario: by request name and by flow, the flows in progress, captures' scratch */
    engine_name_result *ns;
    engine_flow_result *fs;
    mix_pool pool;
    char *cap_vals;
    uint16_t *cap_lens;
    int64_t checks_passed, checks_failed;
} worker;

/* One request shape, compiled: the engine's one request, or each request of a scenario. */
typedef struct ereq {
    const char *method;
    bool head;
    tmpl *path_t, *body_t, **hdr_t;
    int nhdr;
    bool user_host, user_cl, send_cl;
    bool sign;             /* signed (the run has a scheme, and the request does not refuse it) */
    bool needs_body;       /* its checks or captures read the response body */
    const scn_request *sr; /* NULL: the engine's one request */
} ereq;

struct engine {
    const engine_config *cfg;
    url u;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    const transport *tp;
    ereq *rq; /* nrq request shapes: one without a scenario */
    int nrq;
    const scenario *sc; /* the scenario, or NULL */
    mix mx;             /* its weighted members */
    tmpl *id_t;         /* sign_id, or NULL */
    bool dynamic, needs_time, needs_event;
    char run_id[TMPL_RUN_LEN + 1]; /* {{run}} */
    const lifecycle *lc;           /* &lc_plan, or NULL without an event lifecycle */
    lifecycle lc_plan;             /* engine_config.events, planned for this run's rate */
    size_t max_len;
    size_t body_max;
    bool open;
    sched sch;
    segment seg; /* normalized: count >= 1 */
    int T;
    int64_t start_ns, end_ns, timeout_ns, max_requests;
    int64_t backoff_max_ns; /* 0: reconnect at once */
    worker *w;
    _Atomic int running;
    http_parser_settings settings; /* with the Retry-After callbacks when honoured, the body's
                                    * when a scenario reads bodies */
};

/* ---------------------------------------------------------------- request rendering */

static size_t put(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return n;
}

static size_t puts_(char *p, const char *s) {
    return put(p, s, strlen(s));
}

/* Renders one request into out (e->max_len bytes); returns its length, or 0 on failure. ev: the
 * request's event (lifecycle_at of seq) with an event lifecycle, else NULL. */
static size_t render_request(worker *w, const ereq *r, uint32_t conn_idx, uint64_t seq,
                             const lifecycle_event *ev, const char *var, const uint16_t *var_len,
                             char *out) {
    engine *e = w->e;
    tmpl_vars v = {.seq = seq,
                   .order = seq,
                   .conn = conn_idx,
                   .thread = (uint32_t)w->id,
                   .rng = &w->rng,
                   .run = e->run_id,
                   .var = var,
                   .var_len = var_len};
    if (ev) {
        v.order = ev->order;
        v.version = (uint32_t)ev->version;
        v.event = e->lc->types[ev->type];
        v.event_len = e->lc->type_len[ev->type];
    }
    int64_t wall = 0;
    bool sign = w->sign && r->sign;
    if (e->needs_time || sign) wall = clock_wall_ns();
    v.now_wall_ns = wall;
    char *p = out;
    p += puts_(p, r->method);
    *p++ = ' ';
    p += tmpl_render(r->path_t, &v, p);
    p += puts_(p, " HTTP/1.1\r\n");
    if (!r->user_host) {
        p += puts_(p, "Host: ");
        p += puts_(p, e->u.host_header);
        p += puts_(p, "\r\n");
    }
    p += puts_(p, "User-Agent: " USER_AGENT "\r\n");
    for (int i = 0; i < r->nhdr; i++) {
        p += tmpl_render(r->hdr_t[i], &v, p);
        p += put(p, "\r\n", 2);
    }
    size_t blen = r->body_t ? tmpl_render(r->body_t, &v, w->scratch) : 0;
    if (sign) {
        char id[ENGINE_SIGN_ID_MAX];
        size_t id_len = MSG_ID_LEN;
        if (e->id_t) {
            id_len = tmpl_render(e->id_t, &v, id);
        } else {
            memcpy(id, MSG_ID_PREFIX, 4);
            rng_uuid4(&w->rng, id + 4);
        }
        int n = sign_headers(w->sign, id, id_len, wall / NS_PER_S, w->scratch, blen, p,
                             e->max_len - (size_t)(p - out));
        if (n < 0) return 0;
        p += n;
    }
    if (r->send_cl && !r->user_cl) {
        p += puts_(p, "Content-Length: ");
        p += fmt_u64(p, blen);
        p += put(p, "\r\n", 2);
    }
    p += put(p, "\r\n", 2);
    if (blen) p += put(p, w->scratch, blen);
    return (size_t)(p - out);
}

static bool header_is(const char *line, const char *name) {
    size_t n = strlen(name);
    return strncasecmp(line, name, n) == 0 && line[n] == ':';
}

static void engine_free_templates(engine *e) {
    for (int k = 0; k < e->nrq; k++) {
        ereq *r = &e->rq[k];
        tmpl_free(r->path_t);
        tmpl_free(r->body_t);
        for (int i = 0; i < r->nhdr; i++) tmpl_free(r->hdr_t[i]);
        free(r->hdr_t);
    }
    free(e->rq);
    tmpl_free(e->id_t);
    e->rq = NULL;
    e->nrq = 0;
    e->id_t = NULL;
}

/* Compiles template text (len bytes) of request r for the engine; what names the part in errors.
 * Updates the engine's flags. NULL with err filled on failure. */
static tmpl *compile_part(engine *e, const ereq *r, const char *what, const char *text, size_t len,
                          char *err, size_t errlen) {
    char sub[200];
    const scenario *sc = e->sc;
    tmpl *t = tmpl_compile_vars(text, len, sc ? (const char *const *)sc->vars : NULL,
                                sc ? sc->nvars : 0, sub, sizeof sub);
    if (!t) {
        if (r->sr)
            snprintf(err, errlen, "request %s: %s: %s", r->sr->name, what, sub);
        else
            snprintf(err, errlen, "%s: %s", what, sub);
        return NULL;
    }
    if (!tmpl_is_static(t)) e->dynamic = true;
    if (tmpl_needs_time(t)) e->needs_time = true;
    if (tmpl_needs_event(t)) e->needs_event = true;
    return t;
}

/* Checks and compiles header h ("Name: value") as r's header i; adds its bound to *hmax. */
static int prepare_header(engine *e, ereq *r, const char *h, size_t *hmax, char *err,
                          size_t errlen) {
    const char *colon = strchr(h, ':');
    if (!colon || colon == h || strpbrk(h, "\r\n")) {
        snprintf(err, errlen, "invalid header '%s' (want \"Name: value\")", h);
        return -1;
    }
    for (const char *c = h; c < colon; c++) {
        if (*c <= ' ' || *c == 0x7f || strchr("()<>@,;\\\"/[]?={}", *c)) {
            snprintf(err, errlen, "invalid header name in '%s'", h);
            return -1;
        }
    }
    char what[80];
    snprintf(what, sizeof what, "header '%.*s'", (int)(colon - h < 60 ? colon - h : 60), h);
    tmpl *t = compile_part(e, r, what, h, strlen(h), err, errlen);
    if (!t) return -1;
    r->hdr_t[r->nhdr++] = t;
    *hmax += tmpl_max_len(t) + 2;
    if (header_is(h, "host")) r->user_host = true;
    if (header_is(h, "content-length")) r->user_cl = true;
    return 0;
}

/* Compiles one request shape: method, path template, the run's headers then the request's own,
 * body. Raises the engine's bounds (max_len, body_max) to hold it. */
static int prepare_request(engine *e, ereq *r, const char *method, const char *path,
                           const char *body, size_t body_len, size_t sign_max, char *err,
                           size_t errlen) {
    const engine_config *cfg = e->cfg;
    const scn_request *sr = r->sr;
    r->method = method && *method ? method : "GET";
    for (const char *m = r->method; *m; m++) {
        if (!((*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_')) {
            snprintf(err, errlen, "invalid method '%s' (want an upper-case token like GET, POST)",
                     r->method);
            return -1;
        }
    }
    r->head = !strcmp(r->method, "HEAD");
    r->path_t = compile_part(e, r, "URL", path, strlen(path), err, errlen);
    if (!r->path_t) return -1;
    int nh = cfg->nheaders + (sr ? sr->nheaders : 0);
    r->hdr_t = calloc((size_t)(nh ? nh : 1), sizeof *r->hdr_t);
    if (!r->hdr_t) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t hmax = 0;
    for (int i = 0; i < cfg->nheaders; i++)
        if (prepare_header(e, r, cfg->headers[i].text, &hmax, err, errlen) < 0) return -1;
    for (int i = 0; sr && i < sr->nheaders; i++)
        if (prepare_header(e, r, sr->headers[i], &hmax, err, errlen) < 0) return -1;
    size_t body_max = 0;
    if (body) {
        r->body_t = compile_part(e, r, "body", body, body_len, err, errlen);
        if (!r->body_t) return -1;
        body_max = tmpl_max_len(r->body_t);
        if (body_max > e->body_max) e->body_max = body_max;
    }
    r->send_cl = body || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT") ||
                 !strcmp(r->method, "PATCH");
    r->sign = cfg->sign != SIGN_NONE && (!sr || sr->sign != 0);
    if (sr && sr->sign == 1 && cfg->sign == SIGN_NONE) {
        snprintf(err, errlen,
                 "request %s: sign: true needs the run's signing scheme (--sign SCHEME and a "
                 "secret)",
                 sr->name);
        return -1;
    }
    if (sr) r->needs_body = mix_needs_body(sr);
    size_t len = strlen(r->method) + 1 + tmpl_max_len(r->path_t) + 16 + 8 +
                 strlen(e->u.host_header) + 2 + sizeof("User-Agent: " USER_AGENT "\r\n") + hmax +
                 (r->sign ? sign_max : 0) + 40 + 2 + body_max + 16;
    if (len > e->max_len) e->max_len = len;
    return 0;
}

/* Parses the URL and compiles every template; computes the requests' size bound. */
static int engine_prepare(engine *e, const engine_config *cfg, char *err, size_t errlen) {
    char sub[200];
    e->cfg = cfg;
    e->sc = cfg->scenario;
    if (cfg->delivery && !(cfg->rate > 0 || cfg->nstages > 0)) {
        snprintf(err, errlen,
                 "a delivery policy needs the open model (a rate): a sender's "
                 "events are due at their own times");
        return -1;
    }
    if (cfg->delivery && e->sc && e->sc->nflows > 0) {
        snprintf(err, errlen,
                 "a delivery policy cannot run a scenario with flows (a retried step would "
                 "break its flow): use a mix of requests");
        return -1;
    }
    if (url_parse(cfg->url, &e->u, err, errlen) < 0) return -1;
    rng r;
    rng_seed(&r);
    for (int i = 0; i < TMPL_RUN_LEN; i++) e->run_id[i] = "0123456789abcdef"[rng_next(&r) & 15];
    size_t sign_max = 0;
    if (cfg->sign != SIGN_NONE) {
        if (!cfg->secret || !cfg->secret_len) {
            snprintf(err, errlen, "--sign %s needs a secret (--secret-env VAR or --secret-file F)",
                     sign_scheme_name(cfg->sign));
            return -1;
        }
        sign_ctx *s = sign_new(cfg->sign, cfg->secret, cfg->secret_len, sub, sizeof sub);
        if (!s) {
            snprintf(err, errlen, "%s", sub);
            return -1;
        }
        size_t id_max = MSG_ID_LEN;
        if (cfg->sign_id) {
            e->id_t = tmpl_compile(cfg->sign_id, strlen(cfg->sign_id), sub, sizeof sub);
            if (!e->id_t || tmpl_max_len(e->id_t) > ENGINE_SIGN_ID_MAX) {
                if (e->id_t)
                    snprintf(sub, sizeof sub, "renders longer than %d bytes", ENGINE_SIGN_ID_MAX);
                snprintf(err, errlen, "signature id template: %s", sub);
                sign_free(s);
                return -1;
            }
            if (tmpl_needs_time(e->id_t)) e->needs_time = true;
            if (tmpl_needs_event(e->id_t)) e->needs_event = true;
            id_max = tmpl_max_len(e->id_t);
        }
        sign_max = sign_headers_max(s, id_max);
        sign_free(s);
        e->dynamic = true;
    } else if (cfg->sign_id) {
        snprintf(err, errlen, "a signature id template was given without a signing scheme");
        return -1;
    }
    int nrq = e->sc ? e->sc->nreq : 1;
    e->rq = calloc((size_t)nrq, sizeof *e->rq);
    if (!e->rq) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->nrq = nrq;
    if (e->sc) {
        mix_init(&e->mx, e->sc);
        if (e->mx.n == 0) {
            snprintf(err, errlen, "the scenario has nothing to send (every weight is 0)");
            return -1;
        }
        for (int i = 0; i < nrq; i++) {
            const scn_request *sr = &e->sc->req[i];
            e->rq[i].sr = sr;
            if (prepare_request(e, &e->rq[i], sr->method, sr->url, sr->body, sr->body_len, sign_max,
                                err, errlen) < 0)
                return -1;
        }
        e->dynamic = true; /* requests differ: each is rendered when sent */
    } else if (prepare_request(e, &e->rq[0], cfg->method, e->u.path, cfg->body, cfg->body_len,
                               sign_max, err, errlen) < 0) {
        return -1;
    }
    e->seg = cfg->seg;
    if (e->seg.count < 1) e->seg = (segment){0, 1};
    if (e->seg.index < 0 || e->seg.index >= e->seg.count) {
        snprintf(err, errlen, "invalid segment %d/%d", e->seg.index + 1, e->seg.count);
        return -1;
    }
    int conns = cfg->connections > 0 ? cfg->connections : 64;
    if (conns < e->seg.count) { /* every segment needs one: the same answer in each */
        snprintf(err, errlen,
                 "%d connections cannot be split into %d segments (each needs at least one)", conns,
                 e->seg.count);
        return -1;
    }
    if (cfg->max_requests > 0 && cfg->max_requests < e->seg.count) {
        snprintf(err, errlen,
                 "%lld requests cannot be split into %d segments (each needs at least one)",
                 (long long)cfg->max_requests, e->seg.count);
        return -1;
    }
    if (e->needs_event && !cfg->events) {
        snprintf(err, errlen,
                 "{{event}} and {{version}} need an event lifecycle (--events default, or e.g. "
                 "--events 'order.created,order.paid')");
        return -1;
    }
    if (cfg->events) {
        e->lc_plan = *cfg->events;
        double peak = cfg->rate;
        for (int i = 0; i < cfg->nstages; i++)
            if (cfg->stages[i].target_rps > peak) peak = cfg->stages[i].target_rps;
        lifecycle_plan(&e->lc_plan, peak, conns);
        e->lc = &e->lc_plan;
    }
    return 0;
}

int engine_check(const engine_config *cfg, char *err, size_t errlen) {
    engine e;
    memset(&e, 0, sizeof e);
    int rc = engine_prepare(&e, cfg, err, errlen);
    engine_free_templates(&e);
    url_free(&e.u);
    return rc;
}

/* Renders request number seq as connection 0 of thread 0 would send it (for --dry-run). */
int engine_render(const engine_config *cfg, uint64_t seq, char **out, size_t *len, char *err,
                  size_t errlen) {
    engine e;
    worker w;
    memset(&e, 0, sizeof e);
    memset(&w, 0, sizeof w);
    int rc = -1;
    *out = NULL;
    if (engine_prepare(&e, cfg, err, errlen) < 0) goto done;
    w.e = &e;
    rng_seed(&w.rng);
    w.scratch = malloc(e.body_max + 1);
    char *buf = malloc(e.max_len);
    if (!w.scratch || !buf) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (cfg->sign != SIGN_NONE) {
        w.sign = sign_new(cfg->sign, cfg->secret, cfg->secret_len, err, errlen);
        if (!w.sign) {
            free(buf);
            goto done;
        }
    }
    lifecycle_event ev;
    if (e.lc) lifecycle_at(e.lc, seq, &ev);
    int ri = 0; /* a scenario: the request its mix picks for seq (a flow: its first step) */
    if (e.sc) {
        const mix_item *it = mix_pick(&e.mx, seq);
        ri = it->req >= 0 ? it->req : e.sc->flow[it->flow].steps[0].req;
    }
    *len = render_request(&w, &e.rq[ri], 0, seq, e.lc ? &ev : NULL, NULL, NULL, buf);
    if (!*len) {
        free(buf);
        snprintf(err, errlen, "request rendering failed");
        goto done;
    }
    *out = buf;
    rc = 0;
done:
    sign_free(w.sign);
    free(w.scratch);
    engine_free_templates(&e);
    url_free(&e.u);
    return rc;
}

/* ---------------------------------------------------------------- connection state machine */

static void conn_next(conn *c, int64_t now);
static void conn_write(conn *c, int64_t now);
static void conn_read(conn *c, int64_t now);

static void note_error(worker *w, engine_err cls, const char *detail) {
    w->err[cls]++;
    w->transport_errors++;
    w->cur->errors++;
    if (!w->first_err[cls][0] && detail)
        snprintf(w->first_err[cls], sizeof w->first_err[cls], "%s", detail);
}

static void conn_close(conn *c) {
    if (c->tc.fd >= 0) c->w->e->tp->close(&c->tc);
    c->tc.fd = -1;
    c->st = CS_CLOSED;
    c->epollout = false;
}

static void set_epollout(conn *c, bool on) {
    if (c->epollout == on) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->tc.fd, &ev);
    c->epollout = on;
}

/* ---------------------------------------------------------------- delivery */

static void heap_up(pending *h, size_t i) {
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (h[up].due <= h[i].due) break;
        pending t = h[up];
        h[up] = h[i];
        h[i] = t;
        i = up;
    }
}

static void heap_down(pending *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].due < h[m].due) m = l;
        if (r < n && h[r].due < h[m].due) m = r;
        if (m == i) return;
        pending t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
}

static bool heap_push(worker *w, pending p) {
    if (w->nheap == w->capheap) {
        size_t cap = w->capheap ? 2 * w->capheap : 256;
        pending *h = realloc(w->heap, cap * sizeof *h);
        if (!h) return false;
        w->heap = h;
        w->capheap = cap;
    }
    w->heap[w->nheap] = p;
    heap_up(w->heap, w->nheap++);
    if ((int64_t)w->nheap > w->dl.pending_max) w->dl.pending_max = (int64_t)w->nheap;
    return true;
}

static pending heap_pop(worker *w) {
    pending top = w->heap[0];
    w->heap[0] = w->heap[--w->nheap];
    heap_down(w->heap, w->nheap, 0);
    return top;
}

/* What the sender does once an attempt ended with status (0: no answer): records the event's
 * delivery, or schedules its retry, or gives it up; re-delivers some acknowledged events. */
static void delivery_after(conn *c, int status, int64_t now) {
    worker *w = c->w;
    const delivery_policy *p = w->e->cfg->delivery;
    if (!p) return;
    if (c->dup) {
        if (delivery_acked(status)) w->dl.duplicates_acked++;
        return;
    }
    if (c->attempt > w->dl.attempts_max) w->dl.attempts_max = c->attempt;
    if (delivery_acked(status)) {
        w->dl.delivered++;
        if (c->attempt == 1) w->dl.first_ok++;
        int64_t us = (now - c->first_due) / NS_PER_US;
        hdr_record(w->d_delay, us < 1 ? 1 : us > HDR_DEFAULT_HIGHEST ? HDR_DEFAULT_HIGHEST : us);
        if (p->duplicate_rate > 0 &&
            (double)(rng_next(&w->rng) >> 11) * 0x1.0p-53 < p->duplicate_rate) {
            int64_t win = p->duplicate_window_ns > 0 ? p->duplicate_window_ns : 1;
            heap_push(w, (pending){.due = now + rng_range(&w->rng, 0, win),
                                   .first_due = c->first_due,
                                   .seq = c->seq,
                                   .attempt = c->attempt,
                                   .dup = true}); /* no memory: one duplicate fewer */
        }
        return;
    }
    int64_t wait = delivery_retry_delay_ns(p, c->attempt);
    if (wait >= 0 && p->honor_retry_after && c->retry_after_ns > wait) {
        wait = c->retry_after_ns; /* the service asked for more time than the schedule gives */
        w->dl.retry_after++;
    }
    if (wait < 0) {
        w->dl.gave_up++;
    } else if (!heap_push(w, (pending){.due = now + wait,
                                       .first_due = c->first_due,
                                       .seq = c->seq,
                                       .attempt = c->attempt + 1})) {
        w->dl.undelivered++; /* out of memory for its retry: owed, never sent */
    }
}

/* A request ended (a response with any status, or a failure without one: status 0). */
static void notify_outcome(conn *c, int status, engine_err cls, int64_t now) {
    const engine_config *cfg = c->w->e->cfg;
    delivery_after(c, status, now);
    if (!cfg->on_outcome) return;
    engine_outcome o = {.seq = c->seq,
                        .thread = c->w->id,
                        .status = status,
                        .err = cls,
                        .intended_ns = c->intended,
                        .started_ns = c->started,
                        .done_ns = now,
                        .attempt = c->attempt,
                        .duplicate = c->dup};
    cfg->on_outcome(cfg->outcome_ud, &o);
}

/* Connection slot c waits, neither idle nor busy, until until (a reconnect backoff, a flow's
 * think time); cool_down returns it to the idle list. */
static void park(conn *c, int64_t until) {
    worker *w = c->w;
    c->not_before = until;
    if (w->ncooling == 0 || until < w->next_cool) w->next_cool = until;
    w->cooling[w->ncooling++] = (int)(c - w->conns);
}

/* ---------------------------------------------------------------- scenarios */

/* Sets the request connection c sends for arrival seq: the mix's pick (a flow: a new instance
 * at its first step). False when a flow found no free instance: the arrival is dropped. */
static bool mix_assign(conn *c, uint64_t seq) {
    worker *w = c->w;
    engine *e = w->e;
    c->fi = -1;
    c->ri = 0;
    if (!e->sc) return true;
    const mix_item *it = mix_pick(&e->mx, seq);
    if (it->flow < 0) {
        c->ri = (int16_t)it->req;
        return true;
    }
    int32_t i = mix_pool_get(&w->pool);
    if (i < 0) {
        w->fs[it->flow].dropped++;
        return false;
    }
    w->pool.in[i] = (mix_inst){.seq = seq, .flow = (int16_t)it->flow, .step = 0};
    w->fs[it->flow].started++;
    c->fi = i;
    c->ri = (int16_t)e->sc->flow[it->flow].steps[0].req;
    return true;
}

/* Records the end of c's request (status 0: a failure without a response) by its name: its
 * checks, captures (into its flow's variables) and latency. Returns whether its flow may go on:
 * the status expected and every capture made. */
static bool mix_record(conn *c, int status, engine_err cls, int64_t lat_us, bool *expected) {
    worker *w = c->w;
    engine *e = w->e;
    const scn_request *sr = e->rq[c->ri].sr;
    engine_name_result *n = &w->ns[c->ri];
    char *vals = c->fi >= 0 ? mix_vals(&w->pool, c->fi) : w->cap_vals;
    uint16_t *lens = c->fi >= 0 ? mix_lens(&w->pool, c->fi) : w->cap_lens;
    mix_verdict v;
    mix_judge(sr, status, c->body, status > 0 ? c->body_len : 0, vals, lens, &v);
    if (status > 0) {
        n->responses++;
        n->status[status < 600 ? status : 0]++;
        hdr_record(n->latency, lat_us);
        if (!v.expected) n->unexpected++;
    } else {
        n->transport_errors++;
        n->errors_by_class[cls]++;
    }
    if (!v.captured) n->capture_failed++;
    n->check_evals++;
    int failed = __builtin_popcount(v.failed);
    for (int i = 0; i < n->nchecks; i++)
        if (v.failed >> i & 1u) n->check_fail[i]++;
    w->checks_failed += failed;
    w->checks_passed += n->nchecks - failed;
    *expected = v.expected;
    return v.expected && v.captured;
}

/* c's flow after its step ended (ok: it may go on): the flow ends, or its next step is due after
 * the step's think time — open model: as a request due then, on any connection; closed model: on
 * c, which waits. Returns true when c waits (parked). */
static bool flow_after(conn *c, bool ok, int64_t now) {
    if (c->fi < 0) return false;
    worker *w = c->w;
    engine *e = w->e;
    int32_t i = c->fi;
    mix_inst *in = &w->pool.in[i];
    const scn_flow *f = &e->sc->flow[in->flow];
    int64_t think = f->steps[in->step].think_ns;
    in->step++;
    if (!ok || in->step >= f->nsteps) {
        if (ok)
            w->fs[in->flow].completed++;
        else
            w->fs[in->flow].aborted++;
        mix_pool_put(&w->pool, i);
        c->fi = -1;
        return false;
    }
    if (e->open) {
        c->fi = -1;
        if (!heap_push(w, (pending){.due = now + think,
                                    .first_due = now + think,
                                    .seq = in->seq,
                                    .attempt = 1,
                                    .fi1 = (uint32_t)i + 1})) {
            w->fs[in->flow].aborted++; /* out of memory */
            mix_pool_put(&w->pool, i);
        }
        return false;
    }
    if (think <= 0) return false; /* conn_next sends the next step at once */
    park(c, now + think);
    return true;
}

/* The request on c failed without a response. */
static void conn_fail(conn *c, engine_err cls, const char *detail, int64_t now) {
    worker *w = c->w;
    engine *e = w->e;
    note_error(w, cls, detail);
    notify_outcome(c, 0, cls, now);
    conn_close(c);
    c->busy = false;
    w->active--;
    bool expected;
    if (e->sc) flow_after(c, mix_record(c, 0, cls, 0, &expected), now); /* it ends its flow */
    bool connect = cls == ERR_CONNECT_REFUSED || cls == ERR_CONNECT_TIMEOUT ||
                   cls == ERR_CONNECT_OTHER || cls == ERR_TLS;
    if (connect && e->backoff_max_ns > 0) {
        /* a target that refuses is not hammered: this slot waits 10 ms, 20 ms, ... up to the
         * maximum (±10 % so that the slots do not come back together) before connecting again */
        c->backoff_ns = c->backoff_ns ? c->backoff_ns * 2 : BACKOFF_BASE_NS;
        if (c->backoff_ns > e->backoff_max_ns) c->backoff_ns = e->backoff_max_ns;
        park(c, now + c->backoff_ns - c->backoff_ns / 10 +
                    rng_range(&w->rng, 0, c->backoff_ns / 5 > 0 ? c->backoff_ns / 5 : 0));
        w->backoffs++;
        return;
    }
    /* no immediate retry here (a failure inside conn_start would recurse): the loop dispatches
     * idle connections on its next turn */
    w->idle[w->nidle++] = (int)(c - w->conns);
}

/* Slots whose reconnect wait is over go back to the idle list. */
static void cool_down(worker *w, int64_t now) {
    int64_t next = INT64_MAX;
    int k = 0;
    for (int i = 0; i < w->ncooling; i++) {
        conn *c = &w->conns[w->cooling[i]];
        if (c->not_before <= now) {
            w->idle[w->nidle++] = w->cooling[i];
        } else {
            w->cooling[k++] = w->cooling[i];
            if (c->not_before < next) next = c->not_before;
        }
    }
    w->ncooling = k;
    w->next_cool = next;
}

static engine_err classify_errno(int e, bool connecting) {
    switch (e) {
    case ECONNREFUSED: return ERR_CONNECT_REFUSED;
    case ETIMEDOUT: return connecting ? ERR_CONNECT_TIMEOUT : ERR_RESET;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED: return connecting ? ERR_CONNECT_OTHER : ERR_RESET;
    default: return connecting ? ERR_CONNECT_OTHER : ERR_RESET;
    }
}

static void conn_connected(conn *c, int64_t now) {
    engine *e = c->w->e;
    if (e->u.tls) {
        c->st = CS_HANDSHAKE;
        int rc = e->tp->handshake(&c->tc, e->u.host, e->u.host_is_ip);
        if (rc == TRANSPORT_TLS_ERROR) {
            conn_fail(c, ERR_TLS, transport_tls_last_error(), now);
            return;
        }
        if (rc == 0) {
            set_epollout(c, c->tc.want_write);
            return;
        }
    }
    c->st = CS_WRITING;
    conn_write(c, now);
}

static void conn_connect(conn *c, int64_t now) {
    worker *w = c->w;
    engine *e = w->e;
    int fd = socket(e->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        conn_fail(c, ERR_CONNECT_OTHER, strerror(errno), now);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->tc.fd = fd;
    c->tc.ssl = NULL;
    w->connects++;
    int rc = connect(fd, (struct sockaddr *)&e->addr, e->addrlen);
    if (rc < 0 && errno != EINPROGRESS) {
        int er = errno;
        conn_fail(c, classify_errno(er, true), strerror(er), now);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        conn_fail(c, ERR_CONNECT_OTHER, strerror(errno), now);
        return;
    }
    c->epollout = true;
    c->st = CS_CONNECTING;
    if (rc == 0) conn_connected(c, now);
}

static void conn_connect_done(conn *c, int64_t now) {
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(c->tc.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) soerr = errno;
    if (soerr) {
        conn_fail(c, classify_errno(soerr, true), strerror(soerr), now);
        return;
    }
    conn_connected(c, now);
}

/* Starts a request on an idle connection c. */
static void conn_start(conn *c, int64_t intended, uint64_t seq, int64_t now) {
    worker *w = c->w;
    engine *e = w->e;
    c->busy = true;
    w->active++;
    w->sent++;
    w->cur->sent++;
    c->intended = intended;
    c->started = now;
    c->seq = seq;
    c->deadline = now + e->timeout_ns;
    lifecycle_event ev; /* computed once: counted here, rendered below */
    if (e->lc) {
        lifecycle_at(e->lc, seq, &ev);
        c->ev_type = (int8_t)ev.type;
        w->ev_sent[ev.type]++;
    }
    int64_t lag = now - intended;
    if (lag > LATE_NS) w->late++;
    if (lag > w->max_lag_ns) w->max_lag_ns = lag;
    if (e->sc) {
        w->ns[c->ri].sent++;
        c->want_body = e->rq[c->ri].needs_body;
        c->body_len = 0;
    }
    if (e->dynamic) {
        c->out = c->buf;
        c->out_len = render_request(w, &e->rq[c->ri], c->idx, seq, e->lc ? &ev : NULL,
                                    c->fi >= 0 ? mix_vals(&w->pool, c->fi) : NULL,
                                    c->fi >= 0 ? mix_lens(&w->pool, c->fi) : NULL, c->buf);
        if (!c->out_len) {
            conn_fail(c, ERR_CONNECT_OTHER, "request rendering failed", now);
            return;
        }
    } else {
        c->out = w->static_req;
        c->out_len = w->static_len;
    }
    c->out_off = 0;
    c->done = false;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    c->ra_state = RA_OTHER;
    c->ra_val_len = 0;
    c->retry_after_ns = -1;
    if (c->st == CS_CLOSED) {
        conn_connect(c, now);
    } else {
        c->st = CS_WRITING;
        conn_write(c, now);
    }
}

static void conn_write(conn *c, int64_t now) {
    worker *w = c->w;
    const transport *tp = w->e->tp;
    while (c->out_off < c->out_len) {
        ssize_t n = tp->write(&c->tc, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            w->bytes_written += n;
            continue;
        }
        if (n == TRANSPORT_AGAIN) {
            set_epollout(c, c->tc.want_write);
            return;
        }
        if (n == TRANSPORT_TLS_ERROR)
            conn_fail(c, ERR_TLS, transport_tls_last_error(), now);
        else
            conn_fail(c, ERR_RESET, strerror(c->tc.last_errno ? c->tc.last_errno : EPIPE), now);
        return;
    }
    c->st = CS_READING;
    set_epollout(c, false);
}

static void conn_response(conn *c, int64_t now) {
    worker *w = c->w;
    int64_t lat_us = (now - c->intended) / NS_PER_US;
    int64_t svc_us = (now - c->started) / NS_PER_US;
    if (lat_us < 1) lat_us = 1;
    if (svc_us < 1) svc_us = 1;
    if (lat_us > HDR_DEFAULT_HIGHEST) lat_us = HDR_DEFAULT_HIGHEST;
    if (svc_us > HDR_DEFAULT_HIGHEST) svc_us = HDR_DEFAULT_HIGHEST;
    hdr_record(w->lat, lat_us);
    hdr_record(w->svc, svc_us);
    hdr_record(w->cur->h, lat_us);
    w->cur->completed++;
    w->responses++;
    unsigned st = c->parser.status_code;
    w->status[st < 600 ? st : 0]++;
    if (w->e->lc && st >= 200 && st < 300) w->ev_acked[c->ev_type]++;
    bool expected = st < 400, flow_ok = expected;
    if (w->e->sc) flow_ok = mix_record(c, (int)st, ERR__COUNT, lat_us, &expected);
    if (!expected) { /* a status >= 400, or with expect.status one it does not expect */
        w->http_errors++;
        w->cur->errors++;
    }
    notify_outcome(c, (int)st, ERR__COUNT, now);
    c->backoff_ns = 0; /* the target answers: a later failed connect starts the backoff anew */
    bool keep = http_should_keep_alive(&c->parser);
    c->busy = false;
    w->active--;
    if (keep)
        c->st = CS_IDLE;
    else
        conn_close(c);
    if (w->e->sc && flow_after(c, flow_ok, now)) return; /* a closed-model think time */
    conn_next(c, now);
}

static void conn_handshake(conn *c, int64_t now) {
    engine *e = c->w->e;
    int rc = e->tp->handshake(&c->tc, e->u.host, e->u.host_is_ip);
    if (rc == TRANSPORT_TLS_ERROR) {
        conn_fail(c, ERR_TLS, transport_tls_last_error(), now);
    } else if (rc == 0) {
        set_epollout(c, c->tc.want_write);
    } else {
        c->st = CS_WRITING;
        conn_write(c, now);
    }
}

static void conn_read(conn *c, int64_t now) {
    worker *w = c->w;
    const transport *tp = w->e->tp;
    for (;;) {
        ssize_t n = tp->read(&c->tc, w->rbuf, READ_BUF_SIZE);
        if (n > 0) {
            w->bytes_read += n;
            if (c->st != CS_READING) { /* data nobody asked for: drop the connection */
                if (c->busy)
                    conn_fail(c, ERR_PARSE, "response before the request was sent", now);
                else
                    conn_close(c);
                return;
            }
            http_parser_execute(&c->parser, &w->e->settings, w->rbuf, (size_t)n);
            enum http_errno he = HTTP_PARSER_ERRNO(&c->parser);
            if (c->done) {
                conn_response(c, now);
                return;
            }
            if (he != HPE_OK) {
                conn_fail(c, ERR_PARSE, http_errno_description(he), now);
                return;
            }
            if (tp->pending(&c->tc) || (size_t)n == READ_BUF_SIZE) continue;
            return;
        }
        if (n == TRANSPORT_AGAIN) {
            if (c->tc.want_write) set_epollout(c, true);
            return;
        }
        if (!c->busy) { /* the server closed an idle keep-alive connection */
            conn_close(c);
            return;
        }
        if (n == TRANSPORT_EOF && c->st == CS_READING) {
            http_parser_execute(&c->parser, &w->e->settings, NULL, 0);
            if (c->done) {
                conn_response(c, now);
                return;
            }
            conn_fail(c, ERR_CLOSED_EARLY, "connection closed before a complete response", now);
            return;
        }
        if (n == TRANSPORT_TLS_ERROR)
            conn_fail(c, ERR_TLS, transport_tls_last_error(), now);
        else if (n == TRANSPORT_EOF)
            conn_fail(c, ERR_CLOSED_EARLY, "connection closed", now);
        else
            conn_fail(c, ERR_RESET, strerror(c->tc.last_errno), now);
        return;
    }
}

static int on_headers_complete(http_parser *p) {
    conn *c = p->data;
    unsigned s = p->status_code;
    /* 1xx, 204, 304 and answers to HEAD have no body whatever their headers say */
    if ((s >= 100 && s < 200) || s == 204 || s == 304 || c->w->e->rq[c->ri].head) return 1;
    return 0;
}

static int on_message_complete(http_parser *p) {
    conn *c = p->data;
    unsigned s = p->status_code;
    if (s >= 100 && s < 200 && s != 101) return 0; /* interim response: the real one follows */
    c->done = true;
    http_parser_pause(p, 1);
    return 0;
}

/* Retry-After, for a sender that honours it: the header's name is matched and its value kept as
 * the parser hands them over (in pieces when a read splits them), then read once the head ends. */
static int on_header_field(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    if (c->ra_state != RA_NAME) {
        c->ra_state = RA_NAME;
        c->ra_name_len = 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (c->ra_name_len < sizeof c->ra_name) c->ra_name[c->ra_name_len] = at[i];
        if (c->ra_name_len < UINT8_MAX) c->ra_name_len++;
    }
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    if (c->ra_state == RA_NAME)
        c->ra_state = c->ra_name_len == 11 && !strncasecmp(c->ra_name, "retry-after", 11)
                          ? RA_MINE
                          : RA_OTHER;
    if (c->ra_state != RA_MINE) return 0;
    for (size_t i = 0; i < len && c->ra_val_len < sizeof c->ra_val - 1; i++)
        c->ra_val[c->ra_val_len++] = at[i];
    return 0;
}

static int on_headers_complete_ra(http_parser *p) {
    conn *c = p->data;
    if (c->ra_val_len) {
        c->ra_val[c->ra_val_len] = '\0';
        c->retry_after_ns = delivery_retry_after_ns(c->ra_val, clock_wall_ns());
    }
    return on_headers_complete(p);
}

/* A scenario's checks and captures: the body is kept (up to BODY_MAX; a longer one is not, and
 * its JSON checks fail). */
static int on_body(http_parser *p, const char *at, size_t len) {
    conn *c = p->data;
    if (!c->want_body) return 0;
    if (c->body_len + len > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + len && cap < BODY_MAX) cap *= 2;
        char *b = cap >= c->body_len + len ? realloc(c->body, cap) : NULL;
        if (!b) { /* too long (or no memory): judged as no body */
            c->want_body = false;
            c->body_len = 0;
            return 0;
        }
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};
static const http_parser_settings parser_settings_ra = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete_ra,
    .on_message_complete = on_message_complete,
};

/* ---------------------------------------------------------------- scheduling */

/* The global schedule index of thread w's k-th request: the thread takes every T-th request of
 * its segment, the segment every seg.count-th of the whole schedule. */
static uint64_t open_j(const engine *e, const worker *w, uint64_t k) {
    return segment_seq(e->seg, (uint64_t)w->id + k * (uint64_t)e->T);
}

static void advance_due(worker *w, int64_t now) {
    engine *e = w->e;
    while (w->next_due_abs <= now) {
        w->k_due++;
        uint64_t j = open_j(e, w, w->k_due);
        int64_t t =
            (e->max_requests && (int64_t)j >= e->max_requests) ? -1 : sched_time_of(&e->sch, j);
        w->next_due_abs = t < 0 ? INT64_MAX : e->start_ns + t;
    }
}

static bool closed_can_send(const worker *w) {
    return w->quota < 0 || w->issued < w->quota;
}

/* Open model: whether a request of the schedule or a retry (duplicate) is due. */
static bool open_has_due(const worker *w, int64_t now) {
    return (!w->sched_over && w->k_sent < w->k_due) || (w->nheap > 0 && w->heap[0].due <= now);
}

/* Gives c its next request if one is due, or puts it on the idle stack. Open model: of the
 * schedule's next request and the earliest retry, the one due first. */
static void conn_next(conn *c, int64_t now) {
    worker *w = c->w;
    engine *e = w->e;
    c->attempt = 1;
    c->dup = false;
    if (!w->stopping) {
        if (e->open) {
            bool sched_due = !w->sched_over && w->k_sent < w->k_due;
            int64_t sched_t =
                sched_due ? e->start_ns + sched_time_of(&e->sch, open_j(e, w, w->k_sent)) : 0;
            if (w->nheap > 0 && w->heap[0].due <= now &&
                (!sched_due || w->heap[0].due <= sched_t)) {
                pending p = heap_pop(w);
                c->attempt = p.attempt;
                c->dup = p.dup;
                c->first_due = p.first_due;
                c->fi = -1;
                c->ri = 0;
                if (p.fi1) { /* a flow's next step */
                    mix_inst *in = &w->pool.in[p.fi1 - 1];
                    c->fi = (int32_t)p.fi1 - 1;
                    c->ri = (int16_t)e->sc->flow[in->flow].steps[in->step].req;
                } else if (p.dup) {
                    w->dl.duplicates++;
                    mix_assign(c, p.seq); /* a mix's request: the same as the first attempt's */
                } else {
                    w->dl.retries++;
                    mix_assign(c, p.seq);
                }
                conn_start(c, p.due, p.seq, now);
                return;
            }
            while (sched_due) {
                uint64_t j = open_j(e, w, w->k_sent++);
                if (mix_assign(c, j)) {
                    c->first_due = sched_t;
                    if (e->cfg->delivery) w->dl.events++;
                    conn_start(c, sched_t, j, now);
                    return;
                }
                sched_due = w->k_sent < w->k_due; /* dropped (no free flow instance) */
                if (sched_due)
                    sched_t = e->start_ns + sched_time_of(&e->sch, open_j(e, w, w->k_sent));
            }
        } else if (closed_can_send(w) && now < e->end_ns) {
            w->issued++;
            c->first_due = now;
            if (c->fi >= 0) { /* its flow's next step */
                mix_inst *in = &w->pool.in[c->fi];
                c->ri = (int16_t)e->sc->flow[in->flow].steps[in->step].req;
                conn_start(c, now, in->seq, now);
                return;
            }
            uint64_t seq = segment_seq(e->seg, w->local_seq++ * (uint64_t)e->T + (uint64_t)w->id);
            if (mix_assign(c, seq)) {
                conn_start(c, now, seq, now);
                return;
            }
        }
    }
    w->idle[w->nidle++] = (int)(c - w->conns);
}

static void dispatch_idle(worker *w, int64_t now) {
    engine *e = w->e;
    int budget = w->nconns; /* each connection at most once a turn, even if it fails at once */
    while (w->nidle > 0 && !w->stopping && budget-- > 0) {
        if (e->open ? !open_has_due(w, now) : (!closed_can_send(w) || now >= e->end_ns)) break;
        conn *c = &w->conns[w->idle[--w->nidle]];
        conn_next(c, now);
    }
}

/* ---------------------------------------------------------------- per-second ring */

static void reset_interval(interval *iv) {
    if (iv->h) hdr_reset(iv->h);
    iv->sent = iv->completed = iv->errors = 0;
}

static void roll_second(worker *w, int64_t now) {
    int sec = (int)((now - w->e->start_ns) / NS_PER_S);
    if (sec <= w->cur_sec) return;
    atomic_store_explicit(&w->published, sec - 1, memory_order_release);
    w->cur_sec = sec;
    int consumed = atomic_load_explicit(&w->consumed, memory_order_acquire);
    if (consumed >= sec - RING) {
        w->cur = &w->ring[sec % RING];
    } else {
        w->cur = &w->sink; /* the reporter is behind: keep totals, drop the interval */
        reset_interval(&w->sink);
        w->dropped_secs++;
    }
}

/* ---------------------------------------------------------------- worker loop */

static void scan_timeouts(worker *w, int64_t now) {
    for (int i = 0; i < w->nconns; i++) {
        conn *c = &w->conns[i];
        if (!c->busy || now < c->deadline) continue;
        bool connecting = c->st == CS_CONNECTING || c->st == CS_HANDSHAKE;
        conn_fail(c, connecting ? ERR_CONNECT_TIMEOUT : ERR_REQUEST_TIMEOUT,
                  connecting ? "no connection within the timeout"
                             : "no response within the timeout",
                  now);
    }
}

static void begin_stop(worker *w, int64_t now, bool interrupted) {
    engine *e = w->e;
    w->stopping = true;
    w->stop_at = now;
    w->interrupted = interrupted;
    w->drain_deadline = now + (interrupted ? STOP_DRAIN_NS : e->timeout_ns + 50 * NS_PER_MS);
    if (e->open && !w->sched_over) {
        advance_due(w, now < e->end_ns ? now : e->end_ns - 1);
        w->unsent = (int64_t)(w->k_due - w->k_sent);
    }
}

/* The schedule is over (its end, --max-requests, or finish) while a delivery policy still owes
 * retries: the schedule's own requests stop as begin_stop would stop them, the retries and
 * duplicates go on until none is left or the delivery drain has passed. */
static void end_schedule(worker *w, int64_t now) {
    engine *e = w->e;
    advance_due(w, now < e->end_ns ? now : e->end_ns - 1);
    w->unsent = (int64_t)(w->k_due - w->k_sent);
    w->sched_over = true;
    w->retry_end = now + e->cfg->delivery_drain_ns;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    engine *e = w->e;
    struct epoll_event evs[MAX_EVENTS];
    int64_t now = clock_now_ns();
    while (now < e->start_ns) {
        int64_t dt = e->start_ns - now;
        struct timespec ts = {(time_t)(dt / NS_PER_S), (long)(dt % NS_PER_S)};
        nanosleep(&ts, NULL);
        now = clock_now_ns();
    }
    w->next_scan = now + SCAN_PERIOD_NS;
    for (;;) {
        now = clock_now_ns();
        roll_second(w, now);
        if (!w->stopping) {
            if (e->open && !w->sched_over) advance_due(w, now < e->end_ns ? now : e->end_ns - 1);
            if (w->ncooling && now >= w->next_cool) cool_down(w, now);
            dispatch_idle(w, now);
            bool stop = e->cfg->stop && *e->cfg->stop;
            bool sched_end = now >= e->end_ns || (e->cfg->finish && *e->cfg->finish) ||
                             (e->open && w->next_due_abs == INT64_MAX && w->k_sent >= w->k_due);
            if (stop)
                begin_stop(w, now, true);
            else if (w->sched_over) {
                if ((w->nheap == 0 && w->active == 0) || now >= w->retry_end)
                    begin_stop(w, now, false);
            } else if (sched_end && e->open && e->cfg->delivery)
                end_schedule(w, now);
            else if (sched_end)
                begin_stop(w, now, false);
            else if (!e->open && !closed_can_send(w) && w->active == 0)
                begin_stop(w, now, false);
        }
        if (now >= w->next_scan) {
            scan_timeouts(w, now);
            w->next_scan = now + SCAN_PERIOD_NS;
        }
        if (w->stopping) {
            if (e->cfg->stop && *e->cfg->stop && !w->interrupted) {
                w->interrupted = true;
                if (w->drain_deadline > now + STOP_DRAIN_NS)
                    w->drain_deadline = now + STOP_DRAIN_NS;
            }
            if (w->active == 0 || now >= w->drain_deadline) break;
        }
        /* sleep until the next due request, second boundary, timeout scan or drain deadline */
        int64_t wake = w->next_scan;
        int64_t next_sec = e->start_ns + (int64_t)(w->cur_sec + 1) * NS_PER_S;
        if (next_sec < wake) wake = next_sec;
        if (!w->stopping && e->open && !w->sched_over && w->nidle > 0 && w->next_due_abs < wake)
            wake = w->next_due_abs;
        if (!w->stopping && w->nheap > 0 && w->nidle > 0 && w->heap[0].due < wake)
            wake = w->heap[0].due;
        if (!w->stopping && !w->sched_over && e->end_ns < wake) wake = e->end_ns;
        if (!w->stopping && w->sched_over && w->retry_end < wake) wake = w->retry_end;
        if (!w->stopping && w->ncooling && w->next_cool < wake) wake = w->next_cool;
        if (w->stopping && w->drain_deadline < wake) wake = w->drain_deadline;
        int64_t dt = wake - now;
        if (dt < 0) dt = 0;
        struct timespec ts = {(time_t)(dt / NS_PER_S), (long)(dt % NS_PER_S)};
        int n = epoll_pwait2(w->epfd, evs, MAX_EVENTS, &ts, NULL);
        if (n <= 0) continue;
        now = clock_now_ns();
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            uint32_t ev = evs[i].events;
            switch (c->st) {
            case CS_CONNECTING:
                if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) conn_connect_done(c, now);
                break;
            case CS_HANDSHAKE: conn_handshake(c, now); break;
            case CS_WRITING:
                if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                    conn_write(c, now);
                else if (ev & EPOLLIN)
                    conn_read(c, now);
                break;
            case CS_READING:
            case CS_IDLE: conn_read(c, now); break;
            case CS_CLOSED: break;
            }
        }
    }
    /* whatever is still in flight was cut off by the stop; what the sender still owed is
     * undelivered */
    for (int i = 0; i < w->nconns; i++) {
        if (w->conns[i].busy) {
            if (e->cfg->delivery && !w->conns[i].dup) w->dl.undelivered++;
            w->conns[i].busy = false;
            w->active--;
        }
        conn_close(&w->conns[i]);
    }
    for (size_t i = 0; i < w->nheap; i++)
        if (!w->heap[i].dup && !w->heap[i].fi1) w->dl.undelivered++;
    atomic_store_explicit(&w->published, w->cur_sec, memory_order_release);
    atomic_store(&w->finished, true);
    atomic_fetch_sub(&e->running, 1);
    return NULL;
}

/* ---------------------------------------------------------------- setup, reporting, teardown */

static void delivery_counts_add(engine_delivery_counts *to, const engine_delivery_counts *c) {
    to->events += c->events;
    to->first_ok += c->first_ok;
    to->delivered += c->delivered;
    to->gave_up += c->gave_up;
    to->undelivered += c->undelivered;
    to->retries += c->retries;
    to->duplicates += c->duplicates;
    to->duplicates_acked += c->duplicates_acked;
    to->retry_after += c->retry_after;
    if (c->attempts_max > to->attempts_max) to->attempts_max = c->attempts_max;
    to->pending_max += c->pending_max;
}

static void worker_free(worker *w) {
    if (w->conns) {
        for (int i = 0; i < w->nconns; i++) {
            free(w->conns[i].buf);
            free(w->conns[i].body);
        }
    }
    if (w->ns)
        for (int i = 0; i < w->e->nrq; i++) hdr_free(w->ns[i].latency);
    free(w->ns);
    free(w->fs);
    free(w->cap_vals);
    free(w->cap_lens);
    mix_pool_free(&w->pool);
    free(w->conns);
    free(w->idle);
    free(w->cooling);
    free(w->rbuf);
    free(w->scratch);
    free(w->static_req);
    hdr_free(w->lat);
    hdr_free(w->svc);
    hdr_free(w->d_delay);
    free(w->heap);
    for (int i = 0; i < RING; i++) hdr_free(w->ring[i].h);
    hdr_free(w->sink.h);
    sign_free(w->sign);
    if (w->epfd >= 0) close(w->epfd);
}

/* A scenario's per-thread state: the counts by name and flow, the pool of flows in progress. */
static int worker_init_scenario(engine *e, worker *w, int nconns, char *err, size_t errlen) {
    const scenario *sc = e->sc;
    w->ns = calloc((size_t)e->nrq, sizeof *w->ns);
    w->fs = calloc((size_t)(sc->nflows ? sc->nflows : 1), sizeof *w->fs);
    size_t nv = (size_t)(sc->nvars ? sc->nvars : 1);
    w->cap_vals = malloc(nv * TMPL_VAR_MAX);
    w->cap_lens = calloc(nv, sizeof *w->cap_lens);
    bool ok = w->ns && w->fs && w->cap_vals && w->cap_lens;
    for (int i = 0; ok && i < e->nrq; i++) {
        w->ns[i].name = sc->req[i].name;
        w->ns[i].nchecks = mix_nchecks(&sc->req[i]);
        ok = (w->ns[i].latency = hdr_new_default()) != NULL;
    }
    for (int i = 0; i < sc->nflows; i++) w->fs[i].name = sc->flow[i].name;
    mix_pool_init(&w->pool, sc->nvars, e->open ? FLOWS_MAX : nconns);
    if (!ok) snprintf(err, errlen, "out of memory for the scenario's counts");
    return ok ? 0 : -1;
}

static int worker_init(engine *e, worker *w, int id, int nconns, int first_conn, char *err,
                       size_t errlen) {
    const engine_config *cfg = e->cfg;
    w->e = e;
    w->id = id;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->nconns = nconns;
    w->conns = calloc((size_t)nconns, sizeof *w->conns);
    w->idle = calloc((size_t)nconns, sizeof *w->idle);
    w->cooling = calloc((size_t)nconns, sizeof *w->cooling);
    w->rbuf = malloc(READ_BUF_SIZE);
    w->scratch = malloc(e->body_max + 1);
    w->lat = hdr_new_default();
    w->svc = hdr_new_default();
    w->d_delay = hdr_new_default();
    w->sink.h = hdr_new_default();
    for (int i = 0; i < RING; i++) w->ring[i].h = hdr_new_default();
    if (w->epfd < 0 || !w->conns || !w->idle || !w->cooling || !w->rbuf || !w->scratch || !w->lat ||
        !w->svc || !w->d_delay || !w->sink.h || !w->ring[RING - 1].h || !w->ring[0].h ||
        !w->ring[1].h || !w->ring[2].h) {
        snprintf(err, errlen, "out of memory (or epoll) while setting up thread %d", id);
        return -1;
    }
    w->cur = &w->ring[0];
    w->cur_sec = 0;
    atomic_init(&w->published, -1);
    atomic_init(&w->consumed, -1);
    rng_seed(&w->rng);
    if (cfg->sign != SIGN_NONE) {
        w->sign = sign_new(cfg->sign, cfg->secret, cfg->secret_len, err, errlen);
        if (!w->sign) return -1;
    }
    if (e->sc && worker_init_scenario(e, w, nconns, err, errlen) < 0) return -1;
    for (int i = 0; i < nconns; i++) {
        conn *c = &w->conns[i];
        c->w = w;
        c->tc.fd = -1;
        c->fi = -1;
        c->idx = (uint32_t)(first_conn + i);
        if (e->dynamic) {
            c->buf = malloc(e->max_len);
            if (!c->buf) {
                snprintf(err, errlen, "out of memory for request buffers");
                return -1;
            }
        }
        w->idle[w->nidle++] = nconns - 1 - i; /* conn 0 first */
    }
    if (!e->dynamic) {
        w->static_req = malloc(e->max_len);
        if (!w->static_req) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        w->static_len = render_request(w, &e->rq[0], 0, 0, NULL, NULL, NULL, w->static_req);
    }
    /* open model: this thread's first request */
    if (e->open) {
        uint64_t j = open_j(e, w, 0);
        int64_t t =
            (e->max_requests && (int64_t)j >= e->max_requests) ? -1 : sched_time_of(&e->sch, j);
        w->next_due_abs = t < 0 ? INT64_MAX : e->start_ns + t;
        w->k_due = 0;
    } else {
        int64_t n = segment_share(e->seg, e->max_requests);
        w->quota = n ? n / e->T + (id < n % e->T ? 1 : 0) : -1;
    }
    return 0;
}

/* Merges second s of every worker into one engine_second and hands it out. */
static void report_second(engine *e, engine_result *res, hdr_hist *acc, int s, double length_s,
                          int *cap) {
    engine_second es = {.index = s, .length_s = length_s};
    hdr_reset(acc);
    for (int i = 0; i < e->T; i++) {
        worker *w = &e->w[i];
        interval *iv = &w->ring[s % RING];
        int last = atomic_load_explicit(&w->published, memory_order_acquire);
        if (s <= last) {
            es.sent += iv->sent;
            es.completed += iv->completed;
            es.errors += iv->errors;
            hdr_merge(acc, iv->h);
            reset_interval(iv);
        }
        atomic_store_explicit(&w->consumed, s, memory_order_release);
    }
    if (e->open) {
        es.offered = sched_due_before(&e->sch, (int64_t)(s + 1) * NS_PER_S) -
                     sched_due_before(&e->sch, (int64_t)s * NS_PER_S);
        if (e->max_requests) {
            double before = sched_due_before(&e->sch, (int64_t)s * NS_PER_S);
            double lim = (double)e->max_requests;
            if (before >= lim)
                es.offered = 0;
            else if (before + es.offered > lim)
                es.offered = lim - before;
        }
        es.offered /= e->seg.count; /* a segment is offered every n-th request */
    }
    es.p50_us = hdr_value_at_percentile(acc, 50);
    es.p99_us = hdr_value_at_percentile(acc, 99);
    es.max_us = hdr_max(acc);
    if (e->cfg->timeline_hdr) es.hdr = hdr_encode_base64(acc);
    if (res->nseconds == *cap) {
        int ncap = *cap ? *cap * 2 : 64;
        engine_second *grown = realloc(res->timeline, sizeof *grown * (size_t)ncap);
        if (!grown) {
            free(es.hdr);
            return;
        }
        res->timeline = grown;
        *cap = ncap;
    }
    res->timeline[res->nseconds++] = es;
    if (e->cfg->on_second) e->cfg->on_second(e->cfg->ud, &es);
}

/* The threads' counts by name and flow, summed into the result. */
static int scenario_results(engine *e, engine_result *res) {
    res->nnames = e->nrq;
    res->nflows = e->sc->nflows;
    res->names = calloc((size_t)e->nrq, sizeof *res->names);
    res->flows = calloc((size_t)(res->nflows ? res->nflows : 1), sizeof *res->flows);
    if (!res->names || !res->flows) return -1;
    for (int i = 0; i < e->nrq; i++) {
        engine_name_result *n = &res->names[i];
        n->name = e->sc->req[i].name;
        n->nchecks = mix_nchecks(&e->sc->req[i]);
        if (!(n->latency = hdr_new_default())) return -1;
        for (int t = 0; t < e->T; t++) {
            const engine_name_result *m = &e->w[t].ns[i];
            n->sent += m->sent;
            n->responses += m->responses;
            n->unexpected += m->unexpected;
            n->transport_errors += m->transport_errors;
            n->check_evals += m->check_evals;
            n->capture_failed += m->capture_failed;
            for (int k = 0; k < ERR__COUNT; k++) n->errors_by_class[k] += m->errors_by_class[k];
            for (int k = 0; k < 600; k++) n->status[k] += m->status[k];
            for (int k = 0; k < n->nchecks; k++) n->check_fail[k] += m->check_fail[k];
            hdr_merge(n->latency, m->latency);
        }
    }
    for (int f = 0; f < res->nflows; f++) {
        res->flows[f].name = e->sc->flow[f].name;
        for (int t = 0; t < e->T; t++) {
            const engine_flow_result *m = &e->w[t].fs[f];
            res->flows[f].started += m->started;
            res->flows[f].completed += m->completed;
            res->flows[f].aborted += m->aborted;
            res->flows[f].dropped += m->dropped;
        }
    }
    for (int t = 0; t < e->T; t++) {
        res->checks_passed += e->w[t].checks_passed;
        res->checks_failed += e->w[t].checks_failed;
    }
    return 0;
}

static int min_published(engine *e) {
    int m = INT32_MAX;
    for (int i = 0; i < e->T; i++) {
        int p = atomic_load_explicit(&e->w[i].published, memory_order_acquire);
        if (!atomic_load(&e->w[i].finished) && p < m) m = p;
    }
    return m;
}

/* Many connections need many descriptors: raise the soft limit toward the hard one. */
static void raise_fd_limit(int conns) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return;
    rlim_t want = (rlim_t)conns + 64;
    if (rl.rlim_cur >= want) return;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int engine_run(const engine_config *cfg, engine_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    engine *e = calloc(1, sizeof *e);
    if (e)
        e->settings = cfg->delivery && cfg->delivery->honor_retry_after ? parser_settings_ra
                                                                        : parser_settings;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1;
    hdr_hist *acc = NULL;
    if (engine_prepare(e, cfg, err, errlen) < 0) goto out;
    for (int i = 0; i < e->nrq; i++)
        if (e->rq[i].needs_body) e->settings.on_body = on_body;
    if (url_resolve(&e->u, &e->addr, &e->addrlen, err, errlen) < 0) goto out;
    e->tp = e->u.tls ? &transport_tls : &transport_plain;
    if (e->u.tls && transport_tls_init(cfg->insecure, err, errlen) < 0) goto out;
    int conns = (int)segment_share(e->seg, cfg->connections > 0 ? cfg->connections : 64);
    raise_fd_limit(conns);
    int T = cfg->threads > 0 ? cfg->threads : 1;
    if (T > conns) T = conns;
    e->T = T;
    e->timeout_ns = cfg->timeout_ns > 0 ? cfg->timeout_ns : 5 * NS_PER_S;
    e->backoff_max_ns = cfg->reconnect_backoff_ns < 0    ? 0
                        : cfg->reconnect_backoff_ns == 0 ? NS_PER_S
                                                         : cfg->reconnect_backoff_ns;
    e->max_requests = cfg->max_requests;
    e->open = cfg->rate > 0 || cfg->nstages > 0;
    int64_t duration = cfg->duration_ns;
    if (e->open) {
        if (cfg->nstages > 0) {
            if (sched_stages(&e->sch, cfg->rate, cfg->stages, cfg->nstages) < 0) {
                snprintf(err, errlen,
                         "invalid stage list (at most %d stages, each longer than 0, in total "
                         "less than 290 years)",
                         SCHED_MAX_STAGES);
                goto out;
            }
            duration = e->sch.total_ns;
        } else {
            if (duration <= 0 && cfg->max_requests > 0)
                duration = (int64_t)((double)cfg->max_requests / cfg->rate * NS_PER_S) + NS_PER_S;
            if (duration <= 0) duration = 10 * NS_PER_S;
            sched_constant(&e->sch, cfg->rate, duration);
        }
    }
    acc = hdr_new_default();
    e->w = calloc((size_t)T, sizeof *e->w);
    if (!acc || !e->w) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < T; i++) e->w[i].epfd = -1;
    if (cfg->start_wall_ns) /* a common start (--start-at): time 0 is that wall-clock time */
        e->start_ns = clock_now_ns() + (cfg->start_wall_ns - clock_wall_ns());
    else
        e->start_ns = clock_now_ns() + 20 * NS_PER_MS; /* threads start together */
    e->end_ns = duration > 0 ? e->start_ns + duration : INT64_MAX;
    int first = 0;
    for (int i = 0; i < T; i++) {
        int n = conns / T + (i < conns % T ? 1 : 0);
        if (worker_init(e, &e->w[i], i, n, first, err, errlen) < 0) goto out_workers;
        first += n;
    }
    res->start_wall_ns =
        cfg->start_wall_ns ? cfg->start_wall_ns : clock_wall_ns() + (e->start_ns - clock_now_ns());
    res->start_ns = e->start_ns;
    /* worker threads never take SIGINT/SIGTERM: the caller's handler sets cfg->stop */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    atomic_init(&e->running, T);
    int started = 0;
    for (int i = 0; i < T; i++) {
        if (pthread_create(&e->w[i].th, NULL, worker_main, &e->w[i]) != 0) {
            snprintf(err, errlen, "cannot start thread %d", i);
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (started < T) {
        if (cfg->stop) *cfg->stop = 1;
        for (int i = 0; i < started; i++) pthread_join(e->w[i].th, NULL);
        goto out_workers;
    }

    /* the reporter: merge each second once every thread has moved past it */
    int next = 0, cap = 0;
    while (atomic_load(&e->running) > 0) {
        int64_t now = clock_now_ns();
        int64_t target = e->start_ns + (int64_t)(next + 1) * NS_PER_S + 2 * NS_PER_MS;
        int64_t dt = target - now;
        if (dt > 50 * NS_PER_MS) dt = 50 * NS_PER_MS;
        if (dt > 0) {
            struct timespec ts = {0, (long)dt};
            nanosleep(&ts, NULL);
        }
        while (min_published(e) >= next && min_published(e) != INT32_MAX) {
            report_second(e, res, acc, next, 1.0, &cap);
            if (cfg->hdr_log) hdrlog_write(cfg->hdr_log, "latency", next, 1.0, acc);
            next++;
        }
    }
    for (int i = 0; i < T; i++) pthread_join(e->w[i].th, NULL);
    int64_t end = clock_now_ns();
    res->elapsed_s = (double)(end - e->start_ns) / NS_PER_S;
    int last = -1;
    for (int i = 0; i < T; i++) {
        int p = atomic_load(&e->w[i].published);
        if (p > last) last = p;
    }
    for (; next <= last; next++) {
        double len = res->elapsed_s - next;
        if (len > 1.0) len = 1.0;
        if (len < 0.001) len = 0.001;
        report_second(e, res, acc, next, len, &cap);
        if (cfg->hdr_log) hdrlog_write(cfg->hdr_log, "latency", next, len, acc);
    }

    /* totals */
    res->open_model = e->open;
    res->threads = T;
    res->connections = conns;
    res->seg = cfg->seg;
    res->latency = hdr_new_default();
    res->service = hdr_new_default();
    res->delivery = cfg->delivery != NULL && e->open;
    if (e->lc) {
        res->has_events = true;
        res->events = *e->lc;
    }
    if (res->delivery) res->delivery_delay = hdr_new_default();
    if (!res->latency || !res->service || (res->delivery && !res->delivery_delay)) {
        snprintf(err, errlen, "out of memory");
        goto out_workers;
    }
    int64_t stop_at = 0;
    for (int i = 0; i < T; i++) {
        worker *w = &e->w[i];
        hdr_merge(res->latency, w->lat);
        hdr_merge(res->service, w->svc);
        res->sent += w->sent;
        res->responses += w->responses;
        res->http_errors += w->http_errors;
        res->transport_errors += w->transport_errors;
        res->connects += w->connects;
        res->reconnect_backoffs += w->backoffs;
        for (int k = 0; k < ERR__COUNT; k++) {
            res->errors_by_class[k] += w->err[k];
            if (!res->first_error[k][0] && w->first_err[k][0])
                memcpy(res->first_error[k], w->first_err[k], sizeof res->first_error[k]);
        }
        for (int k = 0; k < 600; k++) res->status[k] += w->status[k];
        for (int k = 0; k < LIFECYCLE_MAX_TYPES; k++) {
            res->events_sent[k] += w->ev_sent[k];
            res->events_acked[k] += w->ev_acked[k];
        }
        res->bytes_read += w->bytes_read;
        res->bytes_written += w->bytes_written;
        res->late_sends += w->late;
        if (w->max_lag_ns / NS_PER_US > res->max_lag_us)
            res->max_lag_us = w->max_lag_ns / NS_PER_US;
        res->unsent += w->unsent;
        res->scheduled += e->open ? (int64_t)w->k_due : 0;
        if (w->interrupted) res->interrupted = true;
        if (w->stop_at > stop_at) stop_at = w->stop_at;
        if (res->delivery) {
            hdr_merge(res->delivery_delay, w->d_delay);
            delivery_counts_add(&res->dl, &w->dl);
        }
        res->timeline_dropped += w->dropped_secs;
    }
    if (e->sc && scenario_results(e, res) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out_workers;
    }
    res->send_window_s = (double)((stop_at ? stop_at : end) - e->start_ns) / NS_PER_S;
    if (e->open) {
        double window = res->send_window_s < (double)duration / NS_PER_S
                            ? res->send_window_s
                            : (double)duration / NS_PER_S;
        res->offered_rps = window > 0 ? sched_due_before(&e->sch, (int64_t)(window * NS_PER_S)) /
                                            window / e->seg.count
                                      : 0;
        if (e->max_requests && res->scheduled > 0 && window > 0 &&
            (double)res->scheduled < res->offered_rps * window)
            res->offered_rps = (double)res->scheduled / window;
    }
    rc = 0;
out_workers:
    if (e->w)
        for (int i = 0; i < T; i++) worker_free(&e->w[i]);
out:
    hdr_free(acc);
    free(e->w);
    engine_free_templates(e);
    url_free(&e->u);
    free(e);
    if (rc < 0) engine_result_free(res);
    return rc;
}

void engine_result_free(engine_result *res) {
    for (int i = 0; res->names && i < res->nnames; i++) hdr_free(res->names[i].latency);
    free(res->names);
    free(res->flows);
    res->names = NULL;
    res->flows = NULL;
    res->nnames = res->nflows = 0;
    for (int i = 0; res->timeline && i < res->nseconds; i++) free(res->timeline[i].hdr);
    hdr_free(res->latency);
    hdr_free(res->service);
    hdr_free(res->delivery_delay);
    free(res->timeline);
    res->latency = res->service = res->delivery_delay = NULL;
    res->timeline = NULL;
}
