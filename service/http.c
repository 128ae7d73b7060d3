/* http.c — dispatchd's HTTP front (see http.h).
 *
 * libmicrohttpd parses HTTP; nothing here reads raw bytes. dispatchd runs --threads event-loop
 * threads. Each owns a libmicrohttpd daemon in external-epoll mode (MHD_USE_EPOLL without an
 * internal thread) listening on the same port (SO_REUSEPORT: the kernel spreads connections over
 * the threads), and one Redis pipe (queue.c). The thread's own epoll set watches the daemon's
 * epoll descriptor and the Redis socket; a pass of the loop reads Redis replies (resuming the
 * connections they answer), runs the daemon (which calls the route handlers), then flushes the
 * webhooks those handlers queued with one write. A webhook handler never blocks: it suspends its
 * connection and is called again, resumed, when Redis has answered. No thread hands a request to
 * another, so no request costs a context switch or a lock.
 *
 * The accept and order routes do block their thread on PostgreSQL, for a bounded time (pool
 * acquisition and query deadlines), like any thread-per-request server would; a slow client
 * never blocks a thread: it only occupies a connection slot, which libmicrohttpd frees after
 * --idle-timeout seconds of silence; a head or a body that takes longer than --request-timeout
 * is answered 408 and its connection closed (scan_heads), and one client address holds at most
 * --max-connections-per-client connections, so that slow clients cannot take every slot.
 *
 * Framing (RFC 9112) is checked before a body is read: a transfer coding other than chunked is
 * answered 501, chunked twice, conflicting Content-Lengths, a Content-Length with chunked, or a
 * missing or repeated Host in HTTP/1.1 400, and the connection closed. (libmicrohttpd 0.9.75
 * itself accepts obsolete line folding, bare LF line ends and whitespace before a header's
 * colon, and hands over only the parsed head, so those cannot be refused here.)
 *
 * Limits: the body is at most 64 KiB (Content-Length above that is answered 413 at once; a
 * chunked body that grows past it is discarded and answered 413, or the connection is closed if
 * it keeps coming), the request head must fit --max-header-bytes (libmicrohttpd's per-connection
 * memory pool), at most --max-connections connections (split over the threads).
 *
 * Per-request allocation is avoided where the library allows it: each connection owns a body
 * buffer (grown once, reused by every request on the connection), and constant replies (202
 * queued, 200 duplicate, the 401s, 404...) are response objects built once and queued again and
 * again (libmicrohttpd reference-counts them). Dynamic replies (accept, GET, 400 details) are
 * formatted into the handler's stack buffer and copied. The handlers (webhook.c, accept.c, and
 * the routes below) set their answer with reply.h and know nothing of libmicrohttpd; this file
 * turns a reply into a response (send_reply).
 *
 * Shutdown: httpd_quiesce() makes every thread close its listening socket; from then on a new
 * request on a kept-alive connection gets 503 with "Connection: close", while requests already in
 * flight finish; httpd_drain() waits for them; httpd_stop() fails what is still queued for Redis
 * (those requests then take the PostgreSQL fallback or get 503), lets the threads answer, stops
 * the daemons and joins the threads. */
#include "http.h"
#include "reply.h"
#include "accept.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "webhook.h"

#include "core/clock.h"
#include "core/err.h"

#include <microhttpd.h>

#include <errno.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BODY_INITIAL  4096
#define DISCARD_MAX   (4 * DCFG_BODY_MAX) /* chunked bodies beyond the limit we still read */
#define ID_PATH_MAX   200
#define CACHE_SLOTS   64
#define JSON_TYPE     "application/json"
#define METRICS_TYPE  "text/plain; version=0.0.4; charset=utf-8"
#define READY_TIMEOUT 500
#define STOP_NS       (1500 * NS_PER_MS) /* a loop's wait for its suspended requests */
#define SIGS_MAX      2048               /* repeated webhook-signature headers, joined */

/* Where a suspended request is: waiting for Redis (QUEUED) and answered by it (ANSWERED); or
 * handed to an executor (BLOCKING) and answered by it (REPLIED). */
enum { PH_NONE, PH_QUEUED, PH_ANSWERED, PH_BLOCKING, PH_REPLIED };

struct loop;

typedef struct conn_ctx {
    queue_req q; /* the webhook handed to the Redis pipe (phase PH_QUEUED) */
    wh_order order;
    _Atomic int phase;
    struct MHD_Connection *conn;
    struct loop *owner;    /* the loop that suspended it */
    struct conn_ctx *next; /* executor and completion lists */
    const char *wid;       /* webhook-id, for wh_store */
    reply rep;             /* an executor's answer */
    char *text;            /* /metrics: the exposition (malloc'd) */
    char *ent;             /* the webhook's stream entry (wh_entry), reused per connection */
    size_t ent_cap;
    size_t text_len;
    char *buf;
    size_t len, cap;
    size_t discarded;
    int64_t start_ns;
    int64_t handed_ns; /* when it was handed to the executors */
    met_route route;
    int early; /* status decided before the body ended (413), sent when it has */
    char id[ID_PATH_MAX + 1];
    /* the request-head deadline (see scan_heads): this loop's list of its connections */
    struct MHD_Connection *mc;
    struct loop *home;
    struct conn_ctx *lprev, *lnext;
    int fd;
    bool in_req;      /* between the request's first call and its completion */
    bool replied;     /* a response is queued for the current request */
    bool close_after; /* its response closes the connection (framing errors) */
    bool dup_wh;      /* webhook-id or webhook-timestamp came more than once */
    int sig_headers;  /* webhook-signature headers (more than one: joined at dispatch) */
    bool mark_stale;  /* a request completed: re-read the byte count at the next scan */
    uint64_t mark;    /* bytes received by the end of the last complete request */
    int64_t head_ns;  /* when a scan first saw bytes beyond mark (0: none yet) */
} conn_ctx;

typedef struct loop {
    int idx;
    pthread_t th;
    bool started;
    struct MHD_Daemon *d;
    int ep;     /* this thread's epoll set */
    int mhd_ep; /* the daemon's epoll descriptor, watched in ep */
    queue_pipe *pipe;
    int pipe_fd;       /* the Redis socket registered in ep, -1 if none */
    unsigned pipe_gen; /* ... and its connection's generation (queue_pipe_fd) */
    uint32_t pipe_events;
    bool resumed;  /* a connection was resumed: run the daemon again without waiting */
    bool quiesced; /* the listening socket is closed */
    int efd;       /* eventfd: executors signal finished requests */
    pthread_mutex_t mu;
    conn_ctx *done, *done_tail; /* finished by executors, to resume */
    long suspended;             /* connections suspended by this loop */
    conn_ctx *conns;            /* every open connection of this loop's daemon */
    int64_t next_scan_ns;
} loop;

/* The executors: threads that run what waits for PostgreSQL (accept, orders, the webhook
 * fallback, readiness, metrics) so that no event loop ever blocks. They never call
 * libmicrohttpd: a finished request goes back to its loop, which resumes it. */
static struct {
    pthread_t *th;
    int n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    conn_ctx *head, *tail;
    bool stop;
} X = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static struct {
    const dcfg *cfg;
    loop *loops;
    int nloops;
    int port;
    _Atomic long in_flight;
    _Atomic long connections;
    _Atomic bool stopping; /* quiesce: no new connections, 503 to new requests */
    _Atomic bool exiting;  /* stop: fail what waits for Redis, stop the daemons */
    pthread_mutex_t cache_mu;
    _Atomic int ncache;
    struct {
        const char *body;
        int retry_after;
        bool close;
        struct MHD_Response *resp;
    } cache[CACHE_SLOTS];
} H = {.cache_mu = PTHREAD_MUTEX_INITIALIZER};

static __thread loop *cur; /* the loop of the calling thread */

static const char BODY_NOT_FOUND[] = "{\"error\":\"not_found\"}\n";
static const char BODY_METHOD[] = "{\"error\":\"method_not_allowed\"}\n";
static const char BODY_TOO_LARGE[] =
    "{\"error\":\"payload_too_large\",\"detail\":\"the body limit is 65536 bytes\"}\n";
static const char BODY_MEDIA[] =
    "{\"error\":\"unsupported_media_type\",\"detail\":\"Content-Type must be application/json\"}\n";
static const char BODY_STOPPING[] = "{\"error\":\"unavailable\",\"detail\":\"shutting down\"}\n";
static const char BODY_OOM[] = "{\"error\":\"internal\"}\n";
static const char BODY_BUSY[] =
    "{\"error\":\"overloaded\",\"detail\":\"waited too long for a thread (--queue-timeout)\"}\n";
static const char BODY_ALIVE[] = "{\"status\":\"alive\"}\n";
static const char BODY_TIMEOUT[] = "{\"error\":\"request_timeout\",\"detail\":\"the request did "
                                   "not arrive within --request-timeout\"}\n";
static const char BODY_CODING[] =
    "{\"error\":\"not_implemented\",\"detail\":\"the only transfer coding served is chunked\"}\n";
static const char BODY_NO_HOST[] = "{\"error\":\"bad_request\",\"detail\":\"an HTTP/1.1 request "
                                   "needs exactly one Host header\"}\n";
static const char BODY_LENGTHS[] = "{\"error\":\"bad_request\",\"detail\":\"conflicting or invalid "
                                   "Content-Length, or both Content-Length and "
                                   "Transfer-Encoding\"}\n";
static const char BODY_CHUNKED_TWICE[] =
    "{\"error\":\"bad_request\",\"detail\":\"chunked applied more than once\"}\n";
static const char BODY_DUP_HEADER[] = "{\"error\":\"bad_request\",\"detail\":\"webhook-id and "
                                      "webhook-timestamp may each appear once\"}\n";
static const char BODY_SIGS[] =
    "{\"error\":\"bad_request\",\"detail\":\"too many webhook-signature headers\"}\n";

/* ---- responses ---------------------------------------------------------------------------- */

static void add_headers(struct MHD_Response *resp, const char *type, int retry_after, bool close) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (close) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* The shared response object for a static body, built on first use; NULL if the cache is full
 * or memory is short (the caller then builds a one-off). */
static struct MHD_Response *cached(const char *body, int retry_after, bool close) {
    int n = atomic_load_explicit(&H.ncache, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (H.cache[i].body == body && H.cache[i].retry_after == retry_after &&
            H.cache[i].close == close)
            return H.cache[i].resp;
    struct MHD_Response *resp = NULL;
    pthread_mutex_lock(&H.cache_mu);
    n = atomic_load(&H.ncache);
    for (int i = 0; i < n && !resp; i++)
        if (H.cache[i].body == body && H.cache[i].retry_after == retry_after &&
            H.cache[i].close == close)
            resp = H.cache[i].resp;
    if (resp == NULL && n < CACHE_SLOTS) {
        resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
        if (resp) {
            add_headers(resp, JSON_TYPE, retry_after, close);
            H.cache[n].body = body;
            H.cache[n].retry_after = retry_after;
            H.cache[n].close = close;
            H.cache[n].resp = resp;
            atomic_store_explicit(&H.ncache, n + 1, memory_order_release);
        }
    }
    pthread_mutex_unlock(&H.cache_mu);
    return resp;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, conn_ctx *cc, reply *r,
                                  const char *type) {
    bool close = cc->close_after || atomic_load_explicit(&H.stopping, memory_order_relaxed);
    struct MHD_Response *resp = NULL;
    bool shared = false;
    if (r->is_static && type == NULL) {
        resp = cached(r->body, r->retry_after, close);
        shared = resp != NULL;
    }
    if (resp == NULL) {
        resp = MHD_create_response_from_buffer(
            r->len, (void *)r->body, r->is_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
        if (resp == NULL) return MHD_NO;
        add_headers(resp, type ? type : JSON_TYPE, r->retry_after, close);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    cc->replied = true;
    if (!shared) MHD_destroy_response(resp);
    met_request(cc->route, r->status, clock_now_ns() - cc->start_ns);
    return ret;
}

static enum MHD_Result send_static(struct MHD_Connection *conn, conn_ctx *cc, int status,
                                   const char *body) {
    reply r;
    reply_static(&r, status, body);
    if (status == 503) r.retry_after = 1;
    return send_reply(conn, cc, &r, NULL);
}

/* ---- routes ------------------------------------------------------------------------------- */

typedef enum route {
    RT_NONE,
    RT_WEBHOOK,
    RT_ACCEPT,
    RT_ORDER,
    RT_HEALTHZ,
    RT_READYZ,
    RT_METRICS,
} route;

static met_route met_of(route r) {
    switch (r) {
    case RT_WEBHOOK: return MET_WEBHOOK;
    case RT_ACCEPT: return MET_ACCEPT;
    case RT_ORDER: return MET_ORDER;
    case RT_HEALTHZ: return MET_HEALTHZ;
    case RT_READYZ: return MET_READYZ;
    case RT_METRICS: return MET_METRICS;
    default: return MET_OTHER;
    }
}

/* Whether s[0..n) is UTF-8. Every order id came in through JSON, which is. */
static bool utf8_ok(const unsigned char *s, size_t n) {
    for (size_t i = 0, k; i < n; i += k)
        if ((k = reply_utf8_len(s + i, n - i)) == 0) return false;
    return true;
}

/* url → route; the order id of /orders/ID[/accept] is copied into cc->id. An id that no order
 * can have (empty, longer than an order_id may be, not UTF-8) is not found here, before any
 * query. */
static route classify(const char *url, conn_ctx *cc) {
    if (strcmp(url, "/webhooks/orders") == 0) return RT_WEBHOOK;
    if (strcmp(url, "/healthz") == 0) return RT_HEALTHZ;
    if (strcmp(url, "/readyz") == 0) return RT_READYZ;
    if (strcmp(url, "/metrics") == 0) return RT_METRICS;
    if (strncmp(url, "/orders/", 8) != 0) return RT_NONE;
    const char *id = url + 8;
    size_t n = strlen(id);
    route r = RT_ORDER;
    if (n > 7 && strcmp(id + n - 7, "/accept") == 0) {
        n -= 7;
        r = RT_ACCEPT;
    }
    if (n == 0 || n > ID_PATH_MAX || memchr(id, '\0', n) || !utf8_ok((const unsigned char *)id, n))
        return RT_NONE;
    memcpy(cc->id, id, n);
    cc->id[n] = '\0';
    return r;
}

static bool json_content_type(const char *ct) {
    if (ct == NULL) return false;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; \t");
    if (n == 16 && strncasecmp(ct, JSON_TYPE, 16) == 0) return true;
    /* application/<something>+json */
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
}

static void do_readyz(reply *rep) {
    const dcfg *c = H.cfg;
    char pg[160] = "ok", rd[160] = "ok", e[256];
    bool ok = true;
    db_result r;
    db_run(DB_PING, 0, NULL, NULL, c->pg_acquire_ms, READY_TIMEOUT, &r);
    if (r.rc == DB_OK) {
        PQclear(r.res);
    } else {
        ok = false;
        char m[140];
        reply_json_escape(r.msg, m, sizeof m);
        snprintf(pg, sizeof pg, "down: %s", m);
    }
    if (c->ingest == DCFG_INGEST_QUEUE) {
        if (queue_ping(e, sizeof e)) {
            ok = false;
            char m[140];
            reply_json_escape(e, m, sizeof m);
            snprintf(rd, sizeof rd, "down: %s", m);
        } else if (queue_circuit_state() != 0) {
            snprintf(rd, sizeof rd, "ok (circuit %s)",
                     queue_circuit_state() == 1 ? "open" : "half-open");
        }
    } else {
        snprintf(rd, sizeof rd, "not used (--ingest sync)");
    }
    reply_fmt(rep, ok ? 200 : 503, "{\"status\":\"%s\",\"postgres\":\"%s\",\"redis\":\"%s\"}\n",
              ok ? "ready" : "not_ready", pg, rd);
    if (!ok) rep->retry_after = 1;
}

/* (executor) The exposition into cc->text, or a 500 in cc->rep. */
static void do_metrics(conn_ctx *cc) {
    met_gauges g;
    memset(&g, 0xff, sizeof g); /* -1: unknown */
    if (H.cfg->ingest == DCFG_INGEST_QUEUE)
        queue_stream_stats(&g.stream_length, &g.stream_pending, &g.stream_lag);
    db_result r;
    db_run(DB_INBOX_DEPTH, 0, NULL, NULL, 20, READY_TIMEOUT, &r);
    if (r.rc == DB_OK) {
        if (PQntuples(r.res) == 1) g.inbox_depth = atoll(PQgetvalue(r.res, 0, 0));
        PQclear(r.res);
    }
    g.circuit_state = queue_circuit_state();
    db_stats st;
    db_get_stats(&st);
    g.pool_size = st.size;
    g.pool_in_use = st.in_use;
    g.pool_idle = st.idle;
    g.pool_broken = st.broken;
    g.in_flight = atomic_load(&H.in_flight);
    g.connections = atomic_load(&H.connections);
    if (met_render(&g, &cc->text, &cc->text_len)) {
        cc->text = NULL;
        reply_static(&cc->rep, 500, BODY_OOM);
    }
}

static enum MHD_Result send_metrics(struct MHD_Connection *conn, conn_ctx *cc) {
    if (cc->text == NULL) return send_reply(conn, cc, &cc->rep, NULL);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(cc->text_len, cc->text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(cc->text);
        cc->text = NULL;
        return MHD_NO;
    }
    cc->text = NULL; /* the response owns it */
    add_headers(resp, METRICS_TYPE, 0, atomic_load(&H.stopping));
    enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
    cc->replied = true;
    MHD_destroy_response(resp);
    met_request(cc->route, 200, clock_now_ns() - cc->start_ns);
    return ret;
}

static route route_of(conn_ctx *cc);

/* (executor) Runs the blocking part of cc's request. */
static void run_job(conn_ctx *cc) {
    const char *body = cc->buf ? cc->buf : "";
    switch (route_of(cc)) {
    case RT_WEBHOOK: wh_store(cc->wid, body, &cc->order, &cc->rep); break;
    case RT_ACCEPT: acc_accept(cc->id, body, cc->len, &cc->rep); break;
    case RT_ORDER: acc_get(cc->id, &cc->rep); break;
    case RT_READYZ: do_readyz(&cc->rep); break;
    case RT_METRICS: do_metrics(cc); break;
    default: reply_static(&cc->rep, 404, BODY_NOT_FOUND); break;
    }
}

static void *exec_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&X.mu);
    for (;;) {
        while (X.head == NULL && !X.stop) pthread_cond_wait(&X.cv, &X.mu);
        if (X.head == NULL) break;
        conn_ctx *cc = X.head;
        X.head = cc->next;
        if (X.head == NULL) X.tail = NULL;
        pthread_mutex_unlock(&X.mu);
        /* Load shedding: a request that waited longer than --queue-timeout for an executor (all
         * of them held up by a slow PostgreSQL) is answered 503 at once instead of waiting on
         * until its client gives up — the client retries (Retry-After), nothing was taken. */
        int64_t waited = clock_now_ns() - cc->handed_ns;
        if (H.cfg->queue_timeout_ms > 0 && waited > (int64_t)H.cfg->queue_timeout_ms * NS_PER_MS &&
            route_of(cc) != RT_METRICS) {
            if (route_of(cc) == RT_WEBHOOK) met_add(MET_WH_UNAVAILABLE, 1);
            met_add(MET_SHED, 1);
            reply_static(&cc->rep, 503, BODY_BUSY);
            cc->rep.retry_after = 1;
        } else {
            run_job(cc);
        }
        struct loop *L = cc->owner;
        cc->next = NULL;
        pthread_mutex_lock(&L->mu);
        bool wake = L->done == NULL;
        if (L->done_tail)
            L->done_tail->next = cc;
        else
            L->done = cc;
        L->done_tail = cc;
        pthread_mutex_unlock(&L->mu);
        if (wake) {
            uint64_t one = 1;
            ssize_t w = write(L->efd, &one, sizeof one);
            (void)w;
        }
        pthread_mutex_lock(&X.mu);
    }
    pthread_mutex_unlock(&X.mu);
    return NULL;
}

/* (loop) Suspends the request and hands it to an executor. */
static enum MHD_Result to_executor(struct MHD_Connection *conn, conn_ctx *cc) {
    cc->conn = conn;
    cc->owner = cur;
    cc->next = NULL;
    cc->handed_ns = clock_now_ns();
    atomic_store(&cc->phase, PH_BLOCKING);
    MHD_suspend_connection(conn);
    cur->suspended++;
    pthread_mutex_lock(&X.mu);
    if (X.tail)
        X.tail->next = cc;
    else
        X.head = cc;
    X.tail = cc;
    pthread_cond_signal(&X.cv);
    pthread_mutex_unlock(&X.mu);
    return MHD_YES;
}

/* (loop) Resumes what the executors finished. */
static void take_done(struct loop *L) {
    uint64_t v;
    ssize_t r = read(L->efd, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&L->mu);
    conn_ctx *cc = L->done;
    L->done = L->done_tail = NULL;
    pthread_mutex_unlock(&L->mu);
    while (cc) {
        conn_ctx *next = cc->next;
        cc->next = NULL;
        atomic_store(&cc->phase, PH_REPLIED);
        MHD_resume_connection(cc->conn);
        L->suspended--;
        L->resumed = true;
        cc = next;
    }
}

/* The pipe's completion (this thread): mark the answer and wake the connection; the loop runs
 * the daemon again, which calls the handler again. */
static void on_queued(queue_req *r) {
    conn_ctx *cc = (conn_ctx *)r; /* q is the first member */
    atomic_store(&cc->phase, PH_ANSWERED);
    MHD_resume_connection(cc->conn);
    cur->suspended--;
    cur->resumed = true;
}

/* ---- the request head: framing (RFC 9112) and repeated webhook headers -------------------- */

typedef struct head_scan {
    int hosts, lengths, chunked, codings; /* codings: transfer codings other than chunked */
    bool bad_length;                      /* not digits, or two different values */
    unsigned long long length;
    int ids, timestamps, signatures;
} head_scan;

static void scan_codings(head_scan *h, const char *v) {
    while (*v) {
        v += strspn(v, " \t,");
        size_t n = strcspn(v, ",");
        size_t t = n;
        while (t > 0 && (v[t - 1] == ' ' || v[t - 1] == '\t')) t--;
        if (t == 7 && strncasecmp(v, "chunked", 7) == 0)
            h->chunked++;
        else if (t > 0)
            h->codings++;
        v += n;
    }
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    head_scan *h = cls;
    if (value == NULL) value = "";
    if (strcasecmp(key, "Host") == 0) {
        h->hosts++;
    } else if (strcasecmp(key, "Content-Length") == 0) {
        size_t n = strlen(value);
        unsigned long long v = strtoull(value, NULL, 10);
        if (n == 0 || n > 19 || strspn(value, "0123456789") != n || (h->lengths && v != h->length))
            h->bad_length = true;
        h->length = v;
        h->lengths++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        scan_codings(h, value);
    } else if (strcasecmp(key, "webhook-id") == 0) {
        h->ids++;
    } else if (strcasecmp(key, "webhook-timestamp") == 0) {
        h->timestamps++;
    } else if (strcasecmp(key, "webhook-signature") == 0) {
        h->signatures++;
    }
    return MHD_YES;
}

/* The static answer to a head this server will not read a body after (and whose connection it
 * closes), or NULL: a transfer coding other than chunked (501), chunked twice, conflicting or
 * invalid lengths, a length with chunked, or no single Host in HTTP/1.1 (400). */
static const char *bad_framing(const head_scan *h, const char *version, int *status) {
    *status = 400;
    if (h->codings) {
        *status = 501;
        return BODY_CODING;
    }
    if (h->chunked > 1) return BODY_CHUNKED_TWICE;
    if (h->bad_length || (h->lengths && h->chunked)) return BODY_LENGTHS;
    if (h->hosts > 1 || (h->hosts == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0))
        return BODY_NO_HOST;
    return NULL;
}

typedef struct sig_join {
    char *buf;
    size_t len;
    bool overflow;
} sig_join;

static enum MHD_Result join_sig(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value) {
    (void)kind;
    sig_join *j = cls;
    if (value == NULL || strcasecmp(key, "webhook-signature") != 0) return MHD_YES;
    size_t n = strlen(value);
    if (j->len + n + 2 > SIGS_MAX) {
        j->overflow = true;
        return MHD_NO;
    }
    if (j->len) j->buf[j->len++] = ' ';
    memcpy(j->buf + j->len, value, n + 1);
    j->len += n;
    return MHD_YES;
}

/* The request is complete (head, and body if any). */
static enum MHD_Result dispatch(struct MHD_Connection *conn, conn_ctx *cc, route rt) {
    reply rep;
    int phase = atomic_load(&cc->phase);
    if (phase == PH_REPLIED) /* resumed: an executor answered */
        return rt == RT_METRICS ? send_metrics(conn, cc) : send_reply(conn, cc, &cc->rep, NULL);
    switch (rt) {
    case RT_WEBHOOK: {
        if (phase == PH_ANSWERED) { /* resumed: Redis answered */
            if (!wh_after_queue(cc->q.result, &rep)) return to_executor(conn, cc);
            break;
        }
        const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-id");
        const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-timestamp");
        const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-signature");
        if (cc->dup_wh) {
            reply_static(&rep, 400, BODY_DUP_HEADER);
            break;
        }
        /* several webhook-signature headers: one space-separated list, as the specification
         * writes several signatures in one header */
        char sigs[SIGS_MAX];
        if (cc->sig_headers > 1) {
            sig_join j = {.buf = sigs};
            sigs[0] = '\0';
            MHD_get_connection_values(conn, MHD_HEADER_KIND, join_sig, &j);
            if (j.overflow) {
                reply_static(&rep, 400, BODY_SIGS);
                break;
            }
            sig = sigs;
        }
        const char *body = cc->buf ? cc->buf : "";
        bool probe = false;
        wh_step step = wh_begin(id, ts, sig, body, cc->len, &cc->order, &probe, &rep);
        if (step == WH_REPLIED) break;
        cc->wid = id;
        if (step == WH_STORE) return to_executor(conn, cc);
        size_t need = wh_entry_max(cc->len);
        if (need > cc->ent_cap) {
            char *ne = realloc(cc->ent, need);
            if (ne == NULL) return send_static(conn, cc, 500, BODY_OOM);
            cc->ent = ne;
            cc->ent_cap = need;
        }
        size_t elen = wh_entry(cc->ent, id, body, cc->len, &cc->order, clock_wall_ns() / NS_PER_MS);
        /* suspend first, then queue: the answer may come in this same loop pass */
        cc->q = (queue_req){.id = id,
                            .id_len = strlen(id),
                            .entry = cc->ent,
                            .entry_len = elen,
                            .probe = probe,
                            .done = on_queued};
        cc->conn = conn;
        atomic_store(&cc->phase, PH_QUEUED);
        MHD_suspend_connection(conn);
        cur->suspended++;
        queue_pipe_add(cur->pipe, &cc->q);
        return MHD_YES;
    }
    case RT_ACCEPT:
    case RT_ORDER:
    case RT_READYZ:
    case RT_METRICS: return to_executor(conn, cc);
    case RT_HEALTHZ: reply_static(&rep, 200, BODY_ALIVE); break;
    default: reply_static(&rep, 404, BODY_NOT_FOUND); break;
    }
    return send_reply(conn, cc, &rep, NULL);
}

static bool body_route(route rt) {
    return rt == RT_WEBHOOK || rt == RT_ACCEPT;
}

/* Route from the stored id: classify() ran at the first call and the URL is the same. */
static route route_of(conn_ctx *cc) {
    switch (cc->route) {
    case MET_WEBHOOK: return RT_WEBHOOK;
    case MET_ACCEPT: return RT_ACCEPT;
    case MET_ORDER: return RT_ORDER;
    case MET_HEALTHZ: return RT_HEALTHZ;
    case MET_READYZ: return RT_READYZ;
    case MET_METRICS: return RT_METRICS;
    default: return RT_NONE;
    }
}

static enum MHD_Result first_call(struct MHD_Connection *conn, conn_ctx *cc, const char *url,
                                  const char *method, const char *version) {
    route rt = classify(url, cc);
    cc->route = met_of(rt);
    head_scan h = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &h);
    int bad_status;
    const char *bad = bad_framing(&h, version, &bad_status);
    if (bad) {
        cc->close_after = true;
        return send_static(conn, cc, bad_status, bad);
    }
    cc->dup_wh = h.ids > 1 || h.timestamps > 1;
    cc->sig_headers = h.signatures;
    if (atomic_load_explicit(&H.stopping, memory_order_relaxed))
        return send_static(conn, cc, 503, BODY_STOPPING);
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, "HEAD") == 0;
    if (rt == RT_NONE) return send_static(conn, cc, 404, BODY_NOT_FOUND);
    if (body_route(rt) ? !post : !get) return send_static(conn, cc, 405, BODY_METHOD);
    /* answered at the next call, when libmicrohttpd has read the whole request: a response
     * queued at the first call makes it close the connection (no keep-alive for GETs) */
    if (!body_route(rt)) return MHD_YES;
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (!json_content_type(ct)) return send_static(conn, cc, 415, BODY_MEDIA);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > DCFG_BODY_MAX)
        return send_static(conn, cc, 413, BODY_TOO_LARGE);
    return MHD_YES; /* the body follows */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls) {
    (void)cls;
    conn_ctx *cc = *req_cls;
    if (cc == NULL) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        cc = ci ? ci->socket_context : NULL;
        if (cc == NULL) return MHD_NO;
        *req_cls = cc;
        atomic_fetch_add(&H.in_flight, 1);
        cc->len = 0;
        atomic_store(&cc->phase, PH_NONE);
        cc->discarded = 0;
        cc->early = 0;
        cc->start_ns = clock_now_ns();
        cc->in_req = true;
        cc->replied = false;
        cc->close_after = false;
        return first_call(conn, cc, url, method, version);
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (clock_now_ns() - cc->start_ns > (int64_t)H.cfg->request_timeout_ms * NS_PER_MS) {
            met_request(cc->route, 408, clock_now_ns() - cc->start_ns);
            dlog(DLOG_DEBUG, "http: request body too slow, closing the connection");
            return MHD_NO;
        }
        if (cc->early || cc->len + n > DCFG_BODY_MAX) {
            cc->early = 413;
            cc->discarded += n;
            return cc->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
        }
        if (cc->len + n + 1 > cc->cap) {
            size_t cap = cc->cap ? cc->cap : BODY_INITIAL;
            while (cap < cc->len + n + 1) cap *= 2;
            if (cap > DCFG_BODY_MAX + 1) cap = DCFG_BODY_MAX + 1;
            char *nb = realloc(cc->buf, cap);
            if (nb == NULL) return MHD_NO;
            cc->buf = nb;
            cc->cap = cap;
        }
        memcpy(cc->buf + cc->len, upload, n);
        cc->len += n;
        cc->buf[cc->len] = '\0';
        return MHD_YES;
    }
    if (cc->early) return send_static(conn, cc, cc->early, BODY_TOO_LARGE);
    if (cc->buf) cc->buf[cc->len] = '\0';
    return dispatch(conn, cc, route_of(cc));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    conn_ctx *cc = *req_cls;
    if (cc) {
        atomic_fetch_sub(&H.in_flight, 1);
        cc->in_req = false;
        cc->mark_stale = true;
        *req_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_ctx *cc = calloc(1, sizeof(conn_ctx));
        *socket_context = cc;
        atomic_fetch_add(&H.connections, 1);
        const union MHD_ConnectionInfo *ci =
            cc ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
        if (cc && ci && cur) { /* (MHD_run: on the loop's own thread) */
            cc->mc = conn;
            cc->fd = ci->connect_fd;
            cc->home = cur;
            cc->lnext = cur->conns;
            if (cur->conns) cur->conns->lprev = cc;
            cur->conns = cc;
        }
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_ctx *cc = *socket_context;
        if (cc && cc->home) { /* (its loop's thread, or httpd_stop after the loops ended) */
            if (cc->lprev)
                cc->lprev->lnext = cc->lnext;
            else
                cc->home->conns = cc->lnext;
            if (cc->lnext) cc->lnext->lprev = cc->lprev;
        }
        if (cc) {
            free(cc->buf);
            free(cc->text);
            free(cc->ent);
            free(cc);
        }
        *socket_context = NULL;
        atomic_fetch_sub(&H.connections, 1);
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    dlog(DLOG_DEBUG, "http: %s", msg);
}

/* ---- request deadlines ------------------------------------------------------------------- */

/* libmicrohttpd only closes a connection that stays silent for --idle-timeout, so a client that
 * sends its head one byte every few seconds would hold a connection slot for ever. Each loop
 * therefore looks at its connections a few times a second: one between requests whose kernel
 * byte count (TCP_INFO) has grown since its last request ended has begun a head, and when that
 * head is still incomplete --request-timeout later, or a body is still incomplete that long
 * after its head, the loop answers 408 itself (nothing else has been written on the
 * connection) and shuts the socket down; libmicrohttpd then reads the end of the stream and
 * frees the connection. Costs nothing per request: one getsockopt per idle connection a scan. */

static uint64_t bytes_received(int fd, bool *ok) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    *ok = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
          len >= offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received;
    return *ok ? ti.tcpi_bytes_received : 0;
}

static void timeout_408(conn_ctx *cc, int64_t now) {
    char head[192];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 408 Request Timeout\r\nContent-Type: " JSON_TYPE
                     "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     sizeof BODY_TIMEOUT - 1);
    struct iovec iov[2] = {{head, (size_t)n}, {(void *)BODY_TIMEOUT, sizeof BODY_TIMEOUT - 1}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t w = sendmsg(cc->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    shutdown(cc->fd, SHUT_RDWR);
    met_request(cc->in_req ? cc->route : MET_OTHER, 408,
                cc->in_req ? now - cc->start_ns : now - cc->head_ns);
    dlog(DLOG_DEBUG, "http: a request took longer than --request-timeout: 408, closed");
    cc->fd = -1; /* once */
}

static void scan_heads(loop *L, int64_t now) {
    int64_t limit = (int64_t)H.cfg->request_timeout_ms * NS_PER_MS;
    int64_t every = limit / 4 < NS_PER_S ? limit / 4 : NS_PER_S;
    if (now < L->next_scan_ns) return;
    L->next_scan_ns = now + (every > 5 * NS_PER_MS ? every : 5 * NS_PER_MS);
    for (conn_ctx *cc = L->conns; cc; cc = cc->lnext) {
        if (cc->fd < 0) continue;
        if (cc->in_req) { /* a body that does not come (a chunk size of 2^64-1 and silence) */
            if (!cc->replied && !cc->early && atomic_load(&cc->phase) == PH_NONE &&
                now - cc->start_ns > limit)
                timeout_408(cc, now);
            continue;
        }
        bool ok;
        uint64_t got = bytes_received(cc->fd, &ok);
        if (!ok) continue;
        if (cc->mark_stale) {
            cc->mark = got;
            cc->mark_stale = false;
            cc->head_ns = 0;
        } else if (got > cc->mark && cc->head_ns == 0) {
            cc->head_ns = now;
        } else if (cc->head_ns && now - cc->head_ns > limit) {
            timeout_408(cc, now);
        }
    }
}

/* ---- event loops ------------------------------------------------------------------------- */

static void watch_pipe(loop *L) {
    bool want_write;
    unsigned gen;
    int fd = queue_pipe_fd(L->pipe, &want_write, &gen);
    uint32_t ev = EPOLLIN | (want_write ? EPOLLOUT : 0);
    if (fd != L->pipe_fd || gen != L->pipe_gen) {
        /* (a closed socket has left the set by itself; DEL of a reused number that is not in the
         * set fails harmlessly) */
        if (L->pipe_fd >= 0) epoll_ctl(L->ep, EPOLL_CTL_DEL, L->pipe_fd, NULL);
        L->pipe_fd = -1;
        if (fd >= 0) {
            struct epoll_event e = {.events = ev, .data.fd = fd};
            if (epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &e) == 0 ||
                (errno == EEXIST && epoll_ctl(L->ep, EPOLL_CTL_MOD, fd, &e) == 0)) {
                L->pipe_fd = fd;
                L->pipe_gen = gen;
                L->pipe_events = ev;
            }
        }
    } else if (fd >= 0 && ev != L->pipe_events) {
        struct epoll_event e = {.events = ev, .data.fd = fd};
        epoll_ctl(L->ep, EPOLL_CTL_MOD, fd, &e);
        L->pipe_events = ev;
    }
}

static int wait_ms(loop *L) {
    if (L->resumed) return 0;
    int ms = 100; /* the stop flags are looked at this often */
    MHD_UNSIGNED_LONG_LONG mt;
    if (MHD_get_timeout(L->d, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)ms) ms = (int)mt;
    int64_t dl = queue_pipe_deadline(L->pipe);
    if (dl) {
        int64_t left = (dl - clock_now_ns() + NS_PER_MS - 1) / NS_PER_MS;
        if (left < ms) ms = left > 0 ? (int)left : 0;
    }
    return ms;
}

static void loop_pass(loop *L, int timeout_ms) {
    struct epoll_event ev[16];
    watch_pipe(L);
    int n = epoll_wait(L->ep, ev, 16, timeout_ms);
    L->resumed = false;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == L->efd)
            take_done(L);
        else if (ev[i].data.fd == L->pipe_fd && L->pipe_fd >= 0)
            queue_pipe_io(L->pipe, ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR),
                          ev[i].events & EPOLLOUT);
    }
    int64_t now = clock_now_ns();
    queue_pipe_expire(L->pipe, now);
    scan_heads(L, now);
    MHD_run(L->d);
    queue_pipe_flush(L->pipe);
}

static void *loop_main(void *arg) {
    loop *L = arg;
    cur = L;
    if (H.cfg->ingest == DCFG_INGEST_QUEUE) queue_pipe_connect(L->pipe);
    while (!atomic_load_explicit(&H.exiting, memory_order_relaxed)) {
        if (!L->quiesced && atomic_load_explicit(&H.stopping, memory_order_relaxed)) {
            MHD_socket fd = MHD_quiesce_daemon(L->d);
            if (fd != MHD_INVALID_SOCKET) close(fd);
            L->quiesced = true;
        }
        loop_pass(L, wait_ms(L));
    }
    /* stopping: whatever still waits for Redis completes now (fallback or 503); the loop keeps
     * running, boundedly, until every suspended request has been answered */
    int64_t end = clock_now_ns() + STOP_NS;
    do {
        queue_pipe_fail_all(L->pipe, "shutting down");
        loop_pass(L, L->resumed ? 0 : 10);
    } while (L->suspended > 0 && clock_now_ns() < end);
    queue_pipe_fail_all(L->pipe, "shutting down");
    MHD_run(L->d);
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static struct MHD_Daemon *start_daemon(const dcfg *c, const struct sockaddr *sa, bool v6,
                                       unsigned conn_limit, unsigned per_client) {
    /* 8192 is MHD_ALLOW_SUSPEND_RESUME without MHD_USE_ITC: in external-epoll mode a resumed
     * connection is picked up by the next MHD_run of the same thread, so no inter-thread
     * channel (and no system call per resume) is needed */
    unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG | 8192u;
    if (v6) flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT, conn_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_client, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)c->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)c->max_header_bytes, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024U,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
}

int httpd_start(const dcfg *c, char *err, size_t errlen) {
    H.cfg = c;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", c->listen_port);
    int gai = getaddrinfo(c->listen_host, port, &hints, &ai);
    if (gai != 0 || ai == NULL) {
        err_set(err, errlen, "--listen %s: %s", c->listen, gai_strerror(gai));
        return -1;
    }
    H.nloops = c->threads;
    H.loops = calloc((size_t)H.nloops, sizeof *H.loops);
    if (H.loops == NULL) {
        freeaddrinfo(ai);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    bool v6 = ai->ai_family == AF_INET6;
    unsigned limit = (unsigned)((c->max_connections + H.nloops - 1) / H.nloops);
    int pc = c->max_conns_per_client ? c->max_conns_per_client
                                     : c->max_connections - c->max_connections / 4;
    unsigned per_client = (unsigned)((pc + H.nloops - 1) / H.nloops);
    int rc = 0;
    for (int i = 0; i < H.nloops && rc == 0; i++) {
        loop *L = &H.loops[i];
        L->idx = i;
        L->ep = L->mhd_ep = L->pipe_fd = L->efd = -1;
        L->d = start_daemon(c, ai->ai_addr, v6, limit, per_client);
        if (L->d == NULL) {
            err_set(err, errlen, "--listen %s: cannot start the HTTP server (address in use?)",
                    c->listen);
            rc = -1;
            break;
        }
        if (i == 0) { /* port 0: the others bind the port the first one got */
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(L->d, MHD_DAEMON_INFO_BIND_PORT);
            H.port = di ? di->port : c->listen_port;
            if (ai->ai_family == AF_INET)
                ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)H.port);
            else if (v6)
                ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)H.port);
        }
        const union MHD_DaemonInfo *ei = MHD_get_daemon_info(L->d, MHD_DAEMON_INFO_EPOLL_FD);
        L->mhd_ep = ei ? ei->epoll_fd : -1;
        L->ep = epoll_create1(EPOLL_CLOEXEC);
        L->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pthread_mutex_init(&L->mu, NULL);
        L->pipe = queue_pipe_new();
        struct epoll_event e = {.events = EPOLLIN, .data.fd = L->mhd_ep};
        struct epoll_event e2 = {.events = EPOLLIN, .data.fd = L->efd};
        if (L->mhd_ep < 0 || L->ep < 0 || L->efd < 0 || L->pipe == NULL ||
            epoll_ctl(L->ep, EPOLL_CTL_ADD, L->mhd_ep, &e) != 0 ||
            epoll_ctl(L->ep, EPOLL_CTL_ADD, L->efd, &e2) != 0) {
            err_set(err, errlen, "cannot set up the HTTP event loop: %s", strerror(errno));
            rc = -1;
        }
    }
    freeaddrinfo(ai);
    if (rc == 0) {
        X.th = calloc((size_t)c->executors, sizeof *X.th);
        for (int i = 0; X.th && i < c->executors; i++, X.n++)
            if (pthread_create(&X.th[i], NULL, exec_main, NULL)) break;
        if (X.n < c->executors) {
            err_set(err, errlen, "cannot start the executor threads");
            rc = -1;
        }
    }
    for (int i = 0; i < H.nloops && rc == 0; i++) {
        if (pthread_create(&H.loops[i].th, NULL, loop_main, &H.loops[i])) {
            err_set(err, errlen, "cannot start the HTTP threads");
            rc = -1;
            break;
        }
        H.loops[i].started = true;
    }
    if (rc) httpd_stop();
    return rc;
}

int httpd_port(void) {
    return H.port;
}

void httpd_quiesce(void) {
    atomic_store(&H.stopping, true);
}

long httpd_drain(int timeout_ms) {
    int64_t end = clock_now_ns() + (int64_t)timeout_ms * NS_PER_MS;
    while (atomic_load(&H.in_flight) > 0 && clock_now_ns() < end) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&H.in_flight);
}

void httpd_stop(void) {
    atomic_store(&H.stopping, true);
    atomic_store(&H.exiting, true);
    for (int i = 0; i < H.nloops; i++)
        if (H.loops[i].started) pthread_join(H.loops[i].th, NULL);
    /* the executors finish what they hold (answers no longer sent) before the daemons free the
     * connections those requests belong to */
    pthread_mutex_lock(&X.mu);
    X.stop = true;
    pthread_cond_broadcast(&X.cv);
    pthread_mutex_unlock(&X.mu);
    for (int i = 0; i < X.n; i++) pthread_join(X.th[i], NULL);
    free(X.th);
    X.th = NULL;
    X.n = 0;
    for (int i = 0; i < H.nloops; i++) {
        loop *L = &H.loops[i];
        if (L->d) MHD_stop_daemon(L->d);
        if (L->ep >= 0) close(L->ep);
        if (L->efd >= 0) close(L->efd);
        pthread_mutex_destroy(&L->mu);
        queue_pipe_free(L->pipe);
    }
    free(H.loops);
    H.loops = NULL;
    H.nloops = 0;
    int n = atomic_load(&H.ncache);
    for (int i = 0; i < n; i++) MHD_destroy_response(H.cache[i].resp);
    atomic_store(&H.ncache, 0);
}
