/* queue.c — the request path's side of the Redis stream (see queue.h).
 *
 * Enqueue is two commands per webhook, pipelined: XADD <stream> * j <entry>, where the entry is
 * the row the workers will insert, already as JSON — {"w":webhook-id,"t":received ms,"o":order_id,
 * "c":customer_id,"n":total_cents,"p":<the body as received>} (webhook.c builds it from what the
 * handler extracted, so the workers parse nothing and Redis stores one field) — then
 * SET <stream>:seen:<id> 1 NX EX <ttl>. The seen-key is only ever set after an XADD of that id
 * succeeded (Redis runs a connection's commands in order), so a SET that finds the key proves
 * the webhook-id was already received: the answer 200 is truthful. The 202 is only sent after
 * Redis answered the XADD. A duplicate's own XADD still adds a stream entry; the workers' INSERT
 * skips it (ON CONFLICT), so no order is created twice. (A Lua script that checks first would
 * save that entry but costs Redis about twice the CPU per webhook; MULTI/EXEC is not needed for
 * safety because the order of the two commands already is.)
 *
 * If the XADD fails (an error reply: Redis out of memory, read-only, the key of the wrong type)
 * and the SET still set the key, the key is deleted again at once (DEL on the same connection),
 * so that a retry of that webhook is not taken for a duplicate.
 *
 * Pipelining. HTTP threads never wait for Redis. Each event-loop thread (http.c) owns a pipe:
 * one non-blocking Redis connection. A handler suspends its connection (libmicrohttpd's
 * suspend/resume) and adds the webhook to its thread's pipe; after each pass over its HTTP
 * connections the thread flushes everything added in that pass with one write, and when Redis's
 * replies arrive (the same epoll loop watches the Redis socket) it resumes the connections with
 * their results. Replies come back in command order, so the pipe keeps a FIFO of what each
 * expected reply belongs to. Batches grow with the load by themselves; Redis reads many commands
 * per system call, and no thread hands work to another. The commands are formatted (RESP) by
 * hand into one reusable buffer; hiredis parses the replies.
 *
 * Timeouts. Each request must be answered within --redis-timeout (50 ms by default) of being
 * written; otherwise the connection is dropped and every request in flight on it completes as
 * unavailable (the handler then falls back to the PostgreSQL inbox). 0 disables the timeout: the
 * untuned picture, where requests hang as long as Redis does. Connecting is bounded too (at
 * least 100 ms). A connection found closed on the first write after being idle (Redis restarted
 * meanwhile) is re-made once and the requests are sent again.
 *
 * The circuit breaker is shared by all threads and lock-free. It counts failure events (a
 * failed connection attempt, a timeout, a lost connection, an error reply): after
 * --breaker-failures in a row it opens, and queue_admit() refuses requests at once; after
 * --breaker-open ms one request wins the right to probe (half-open) and goes to Redis as usual;
 * a successful XADD closes the circuit, the probe's failure re-opens it.
 *
 * Statistics and the readiness ping use a separate, per-thread connection with a short timeout. */
#include "queue.h"
#include "log.h"
#include "metrics.h"
#include "redis.h"

#include "core/clock.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUX_TIMEOUT_MS 250 /* stats and readiness: never the untuned "forever" */
#define KEY_MAX        512

#define FLUSH_EARLY    256 /* a batch this large goes out even while another is in flight */
#define CONNECT_MIN_MS 100 /* connecting is bounded even when --redis-timeout is 0 */

enum { BR_CLOSED, BR_OPEN, BR_HALF };

typedef struct tconn {
    redisContext *aux;  /* stats, ping: AUX_TIMEOUT_MS */
    redisContext *last; /* queue_add_wait: its caller's timeout */
    int last_timeout_ms;
    struct tconn *next;
} tconn;

static struct {
    const dcfg *cfg;
    rds_target target;
    char xadd[200]; /* RESP of: *5 XADD <stream> * j */
    size_t xadd_len;
    char set_tail[80]; /* RESP of: 1 NX EX <ttl> */
    size_t set_tail_len;
    pthread_mutex_t mu; /* registry of thread connections */
    tconn *all;
    _Atomic int br_state;
    _Atomic int br_fails;
    _Atomic int64_t br_opened_ns;
} Q = {.mu = PTHREAD_MUTEX_INITIALIZER};

static __thread tconn *tl;
static dlog_limit fail_limit;

static tconn *my_conn(void) {
    if (tl == NULL) {
        tl = calloc(1, sizeof *tl);
        if (tl == NULL) return NULL;
        pthread_mutex_lock(&Q.mu);
        tl->next = Q.all;
        Q.all = tl;
        pthread_mutex_unlock(&Q.mu);
    }
    return tl;
}

/* ---- circuit breaker ---------------------------------------------------------------------- */

int queue_circuit_state(void) {
    return atomic_load(&Q.br_state);
}

bool queue_admit(bool *probe) {
    *probe = false;
    int s = atomic_load_explicit(&Q.br_state, memory_order_acquire);
    if (s == BR_CLOSED) return true;
    if (s == BR_HALF) return false;
    int64_t opened = atomic_load(&Q.br_opened_ns);
    if (clock_now_ns() - opened < (int64_t)Q.cfg->breaker_open_ms * NS_PER_MS) return false;
    int expect = BR_OPEN;
    if (!atomic_compare_exchange_strong(&Q.br_state, &expect, BR_HALF)) return false;
    *probe = true;
    return true;
}

static void breaker_success(void) {
    if (atomic_load_explicit(&Q.br_fails, memory_order_relaxed) != 0)
        atomic_store_explicit(&Q.br_fails, 0, memory_order_relaxed);
    if (atomic_load_explicit(&Q.br_state, memory_order_relaxed) != BR_CLOSED) {
        int prev = atomic_exchange(&Q.br_state, BR_CLOSED);
        if (prev != BR_CLOSED) dlog(DLOG_INFO, "redis: circuit closed (Redis answered)");
    }
}

static void breaker_failure(bool probe, const char *why) {
    met_add(MET_REDIS_ERRORS, 1);
    if (probe || atomic_load(&Q.br_state) == BR_HALF) {
        atomic_store(&Q.br_opened_ns, clock_now_ns());
        atomic_store(&Q.br_state, BR_OPEN);
        dlog_limited(&fail_limit, 1000, DLOG_WARN, "redis: probe failed, circuit stays open: %s",
                     why);
        return;
    }
    int n = atomic_fetch_add(&Q.br_fails, 1) + 1;
    dlog_limited(&fail_limit, 1000, DLOG_WARN, "redis: round trip failed (%d in a row): %s", n,
                 why);
    if (n >= Q.cfg->breaker_failures) {
        int expect = BR_CLOSED;
        atomic_store(&Q.br_opened_ns, clock_now_ns());
        if (atomic_compare_exchange_strong(&Q.br_state, &expect, BR_OPEN)) {
            met_add(MET_BREAKER_OPENS, 1);
            dlog(DLOG_WARN, "redis: circuit open after %d consecutive failures (%s)", n, why);
        }
    }
}

/* ---- the pipe ---------------------------------------------------------------------------- */

typedef struct out_buf {
    char *p;
    size_t len, off; /* bytes formatted, bytes written */
    size_t cap;
} out_buf;

static bool ob_put(out_buf *o, const void *s, size_t n) {
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 65536;
        while (cap < o->len + n) cap *= 2;
        char *np = realloc(o->p, cap);
        if (np == NULL) return false;
        o->p = np;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    return true;
}

/* "$<n>\r\n" into out (at least 24 bytes); returns its length. */
static size_t bulk_len(char *out, size_t n) {
    char tmp[24];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    out[0] = '$';
    for (size_t i = 0; i < k; i++) out[1 + i] = tmp[k - 1 - i];
    out[1 + k] = '\r';
    out[2 + k] = '\n';
    return k + 3;
}

/* "$<n>\r\n<bytes>\r\n" */
static bool ob_bulk(out_buf *o, const char *s, size_t n) {
    char hdr[24];
    return ob_put(o, hdr, bulk_len(hdr, n)) && ob_put(o, s, n) && ob_put(o, "\r\n", 2);
}

static bool ob_key(out_buf *o, const char *id, size_t id_len) {
    char key_len[24];
    size_t sl = strlen(Q.cfg->stream);
    return ob_put(o, key_len, bulk_len(key_len, sl + 6 + id_len)) && ob_put(o, Q.cfg->stream, sl) &&
           ob_put(o, ":seen:", 6) && ob_put(o, id, id_len) && ob_put(o, "\r\n", 2);
}

/* XADD <stream> * j <entry>, and SET <seen-key> 1 NX EX <ttl>, for r, in RESP. */
static bool ob_request(out_buf *o, const queue_req *r) {
    return ob_put(o, Q.xadd, Q.xadd_len) && ob_bulk(o, r->entry, r->entry_len) &&
           ob_put(o, "*6\r\n$3\r\nSET\r\n", 13) && ob_key(o, r->id, r->id_len) &&
           ob_put(o, Q.set_tail, Q.set_tail_len);
}

/* What an expected reply belongs to. */
enum { SLOT_XADD, SLOT_SET, SLOT_UNDO };
typedef struct slot {
    queue_req *r; /* NULL for SLOT_UNDO */
    int kind;
} slot;

struct queue_pipe {
    redisContext *c;
    unsigned gen; /* counts connections made: a new socket may reuse the old descriptor number */
    out_buf ob;
    queue_req *fresh, *fresh_tail; /* added, not yet formatted */
    int fresh_count;
    slot *ring; /* expected replies, oldest first */
    size_t ring_cap, ring_head, ring_len;
    queue_req *wait, *wait_tail; /* in flight (formatted), oldest first: for deadlines */
    bool idle_before;            /* nothing was in flight when the current batch was written */
    bool got_reply;              /* a reply arrived since then */
    bool retried;
};

queue_pipe *queue_pipe_new(void) {
    return calloc(1, sizeof(queue_pipe));
}

void queue_pipe_free(queue_pipe *p) {
    if (p == NULL) return;
    if (p->c) redisFree(p->c);
    free(p->ob.p);
    free(p->ring);
    free(p);
}

static bool ring_push(queue_pipe *p, queue_req *r, int kind) {
    if (p->ring_len == p->ring_cap) {
        size_t cap = p->ring_cap ? p->ring_cap * 2 : 256;
        slot *nr = malloc(cap * sizeof *nr);
        if (nr == NULL) return false;
        for (size_t i = 0; i < p->ring_len; i++) nr[i] = p->ring[(p->ring_head + i) % p->ring_cap];
        free(p->ring);
        p->ring = nr;
        p->ring_cap = cap;
        p->ring_head = 0;
    }
    p->ring[(p->ring_head + p->ring_len) % p->ring_cap] = (slot){r, kind};
    p->ring_len++;
    return true;
}

static slot ring_pop(queue_pipe *p) {
    slot s = p->ring[p->ring_head];
    p->ring_head = (p->ring_head + 1) % p->ring_cap;
    p->ring_len--;
    return s;
}

static void complete(queue_req *r, queue_rc rc) {
    r->result = rc;
    r->done(r);
}

/* Takes r off the in-flight list (it is always at or near its head: replies come in order). */
static void unwait(queue_pipe *p, queue_req *r) {
    queue_req **pp = &p->wait;
    queue_req *prev = NULL;
    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == NULL) return;
    *pp = r->next;
    if (p->wait_tail == r) p->wait_tail = prev;
    r->next = NULL;
}

/* The connection is gone: everything in flight completes (ADDED when its XADD was answered,
 * unavailable otherwise), and the failure is counted by the breaker when asked. */
static void drop(queue_pipe *p, const char *why, bool count_failure) {
    bool probe = false, any = p->wait != NULL;
    while (p->wait) {
        queue_req *r = p->wait;
        p->wait = r->next;
        r->next = NULL;
        probe |= r->probe;
        complete(r, r->xadd_ok && !r->xadd_failed ? QUEUE_ADDED : QUEUE_UNAVAILABLE);
    }
    p->wait_tail = NULL;
    p->ring_len = 0;
    p->ring_head = 0;
    p->ob.len = p->ob.off = 0;
    if (p->c) redisFree(p->c);
    p->c = NULL;
    if (count_failure && (any || why)) breaker_failure(probe, why ? why : "connection lost");
}

static void fail_fresh(queue_pipe *p, const char *why) {
    bool probe = false;
    while (p->fresh) {
        queue_req *r = p->fresh;
        p->fresh = r->next;
        r->next = NULL;
        probe |= r->probe;
        complete(r, QUEUE_UNAVAILABLE);
    }
    p->fresh_tail = NULL;
    p->fresh_count = 0;
    breaker_failure(probe, why);
}

void queue_pipe_add(queue_pipe *p, queue_req *r) {
    r->next = NULL;
    r->xadd_ok = r->xadd_failed = false;
    if (p->fresh_tail)
        p->fresh_tail->next = r;
    else
        p->fresh = r;
    p->fresh_tail = r;
    p->fresh_count++;
}

static redisContext *pipe_connect(char *err, size_t errlen) {
    int t = Q.cfg->redis_timeout_ms;
    redisContext *c = rds_connect(&Q.target, t > CONNECT_MIN_MS ? t : CONNECT_MIN_MS, err, errlen);
    if (c == NULL) return NULL;
    /* from here on: non-blocking, watched by the event loop */
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
        err_set(err, errlen, "cannot make the socket non-blocking");
        redisFree(c);
        return NULL;
    }
    c->flags &= ~REDIS_BLOCK;
    return c;
}

/* Writes what is formatted; false when the connection failed (err set). */
static bool write_out(queue_pipe *p, char *err, size_t errlen) {
    while (p->ob.off < p->ob.len) {
        ssize_t w = write(p->c->fd, p->ob.p + p->ob.off, p->ob.len - p->ob.off);
        if (w > 0) {
            p->ob.off += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) return true;
        err_set(err, errlen, "write: %s", w < 0 ? strerror(errno) : "closed");
        return false;
    }
    p->ob.len = p->ob.off = 0;
    if (p->ob.cap > (1u << 22)) { /* a burst of big bodies: give the memory back */
        free(p->ob.p);
        p->ob = (out_buf){0};
    }
    return true;
}

/* The connection failed before any reply to the current batch: if it had been idle (Redis
 * restarted since), send everything again on a new connection, once. */
static bool resend(queue_pipe *p) {
    if (!p->idle_before || p->got_reply || p->retried || p->wait == NULL) return false;
    for (queue_req *r = p->wait; r; r = r->next)
        if (r->xadd_ok || r->xadd_failed) return false;
    queue_req *again = p->wait;
    p->wait_tail->next = p->fresh; /* in flight first, then what was added meanwhile */
    if (p->fresh == NULL) p->fresh_tail = p->wait_tail;
    p->fresh = again;
    p->fresh_count = 0;
    for (queue_req *r = p->fresh; r; r = r->next) p->fresh_count++;
    p->wait = p->wait_tail = NULL;
    p->ring_len = p->ring_head = 0;
    p->ob.len = p->ob.off = 0;
    redisFree(p->c);
    p->c = NULL;
    p->retried = true;
    queue_pipe_flush(p);
    return true;
}

static void lost(queue_pipe *p, const char *why) {
    if (resend(p)) return;
    drop(p, why, true);
}

void queue_pipe_connect(queue_pipe *p) {
    char err[256];
    if (p->c == NULL) {
        p->c = pipe_connect(err, sizeof err); /* failing: the first flush retries */
        if (p->c) p->gen++;
    }
}

void queue_pipe_flush(queue_pipe *p) {
    /* One batch in flight at a time: what arrives meanwhile waits for its replies and then goes
     * as the next batch, so batches grow with the load instead of one write per loop pass (unless
     * it is already large: then the latency of waiting would outweigh the saving). */
    if (p->wait && p->fresh_count < FLUSH_EARLY) {
        if (p->c && p->ob.off < p->ob.len) {
            char err[128];
            if (!write_out(p, err, sizeof err)) lost(p, err);
        }
        return;
    }
    if (p->fresh == NULL) {
        if (p->c && p->ob.off < p->ob.len) {
            char err[128];
            if (!write_out(p, err, sizeof err)) lost(p, err);
        }
        return;
    }
    char err[256];
    if (p->c == NULL) {
        p->c = pipe_connect(err, sizeof err);
        if (p->c) p->gen++;
        if (p->c == NULL) {
            fail_fresh(p, err);
            return;
        }
    } else {
        p->retried = false;
    }
    p->idle_before = p->wait == NULL;
    p->got_reply = false;
    int64_t deadline =
        Q.cfg->redis_timeout_ms ? clock_now_ns() + (int64_t)Q.cfg->redis_timeout_ms * NS_PER_MS : 0;
    while (p->fresh) {
        queue_req *r = p->fresh;
        if (!ob_request(&p->ob, r) || !ring_push(p, r, SLOT_XADD) || !ring_push(p, r, SLOT_SET)) {
            drop(p, "out of memory", true);
            fail_fresh(p, "out of memory");
            return;
        }
        p->fresh = r->next;
        r->next = NULL;
        r->deadline_ns = deadline;
        if (p->wait_tail)
            p->wait_tail->next = r;
        else
            p->wait = r;
        p->wait_tail = r;
    }
    p->fresh_tail = NULL;
    p->fresh_count = 0;
    if (!write_out(p, err, sizeof err)) lost(p, err);
}

int queue_pipe_fd(const queue_pipe *p, bool *want_write, unsigned *gen) {
    *want_write = p->c && p->ob.off < p->ob.len;
    *gen = p->gen;
    return p->c ? p->c->fd : -1;
}

int64_t queue_pipe_deadline(const queue_pipe *p) {
    return p->wait ? p->wait->deadline_ns : 0;
}

static bool overdue(const queue_pipe *p, int64_t now_ns) {
    return p->wait && p->wait->deadline_ns != 0 && now_ns >= p->wait->deadline_ns;
}

void queue_pipe_expire(queue_pipe *p, int64_t now_ns) {
    if (!overdue(p, now_ns)) return;
    /* Replies that are already in the socket are not late: Redis answered in time and this thread
     * was busy (a burst of new connections, a CPU shared with the rest of the stack). Read them
     * before judging — only a reply that has not arrived counts as Redis's failure. */
    queue_pipe_io(p, true, false);
    if (!overdue(p, now_ns)) return;
    char why[96];
    snprintf(why, sizeof why, "no reply within %d ms", Q.cfg->redis_timeout_ms);
    drop(p, why, true);
}

void queue_pipe_fail_all(queue_pipe *p, const char *why) {
    drop(p, why, false);
    while (p->fresh) {
        queue_req *r = p->fresh;
        p->fresh = r->next;
        r->next = NULL;
        complete(r, QUEUE_UNAVAILABLE);
    }
    p->fresh_tail = NULL;
    p->fresh_count = 0;
}

/* One reply for the slot s. */
static void on_reply(queue_pipe *p, slot s, redisReply *rep) {
    char err[256];
    if (s.kind == SLOT_UNDO) return;
    queue_req *r = s.r;
    if (s.kind == SLOT_XADD) {
        if (rep->type == REDIS_REPLY_STRING) {
            r->xadd_ok = true;
            breaker_success();
        } else {
            r->xadd_failed = true;
            rds_reply_error(p->c, rep, err, sizeof err);
            breaker_failure(r->probe, err);
        }
        return;
    }
    /* SET NX: OK when the id is new, nil when it was seen before */
    bool set_ok = rep->type == REDIS_REPLY_STATUS;
    unwait(p, r);
    if (r->xadd_failed) {
        if (set_ok) { /* do not leave a seen-key without its entry */
            if (ob_put(&p->ob, "*2\r\n$3\r\nDEL\r\n", 13) && ob_key(&p->ob, r->id, r->id_len))
                ring_push(p, NULL, SLOT_UNDO);
        }
        complete(r, QUEUE_UNAVAILABLE);
        return;
    }
    if (rep->type == REDIS_REPLY_NIL)
        complete(r, QUEUE_DUPLICATE);
    else
        complete(r, QUEUE_ADDED); /* OK, or an error after a successful XADD: it is queued */
}

void queue_pipe_io(queue_pipe *p, bool readable, bool writable) {
    char err[256];
    if (p->c == NULL) return;
    if (writable && !write_out(p, err, sizeof err)) {
        lost(p, err);
        return;
    }
    if (!readable) return;
    if (redisBufferRead(p->c) != REDIS_OK) {
        snprintf(err, sizeof err, "%s", p->c->errstr[0] ? p->c->errstr : "connection lost");
        lost(p, err);
        return;
    }
    for (;;) {
        void *reply = NULL;
        if (redisGetReplyFromReader(p->c, &reply) != REDIS_OK) {
            snprintf(err, sizeof err, "protocol error: %s", p->c->errstr);
            drop(p, err, true);
            return;
        }
        if (reply == NULL) break;
        if (p->ring_len == 0) { /* a reply nobody asked for */
            freeReplyObject(reply);
            drop(p, "unexpected reply", true);
            return;
        }
        p->got_reply = true;
        on_reply(p, ring_pop(p), reply);
        freeReplyObject(reply);
    }
    if (p->ob.off < p->ob.len && !write_out(p, err, sizeof err)) {
        lost(p, err); /* (undo DELs) */
        return;
    }
    if (p->wait == NULL && p->fresh) queue_pipe_flush(p); /* the next batch */
}

int queue_start(const dcfg *c, char *err, size_t errlen) {
    Q.cfg = c;
    if (rds_target_of(c->redis_url, c->redis_password, &Q.target, err, errlen)) return -1;
    size_t sl = strlen(c->stream);
    Q.xadd_len =
        (size_t)snprintf(Q.xadd, sizeof Q.xadd,
                         "*5\r\n$4\r\nXADD\r\n$%zu\r\n%s\r\n$1\r\n*\r\n$1\r\nj\r\n", sl, c->stream);
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", c->dedup_ttl_s);
    Q.set_tail_len =
        (size_t)snprintf(Q.set_tail, sizeof Q.set_tail,
                         "$1\r\n1\r\n$2\r\nNX\r\n$2\r\nEX\r\n$%zu\r\n%s\r\n", strlen(ttl), ttl);
    return 0;
}

void queue_stop(void) {
    pthread_mutex_lock(&Q.mu);
    while (Q.all) {
        tconn *t = Q.all;
        Q.all = t->next;
        if (t->aux) redisFree(t->aux);
        if (t->last) redisFree(t->last);
        free(t);
    }
    pthread_mutex_unlock(&Q.mu);
}

/* ---- statistics and readiness ------------------------------------------------------------- */

static redisContext *aux_conn(char *err, size_t errlen) {
    tconn *t = my_conn();
    if (t == NULL) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    if (t->aux == NULL) t->aux = rds_connect(&Q.target, AUX_TIMEOUT_MS, err, errlen);
    return t->aux;
}

queue_rc queue_add_wait(const char *id, size_t id_len, const char *entry, size_t entry_len,
                        int timeout_ms) {
    char err[256];
    tconn *t = my_conn();
    if (t == NULL) return QUEUE_UNAVAILABLE;
    if (t->last && (t->last->err || t->last_timeout_ms != timeout_ms)) {
        redisFree(t->last);
        t->last = NULL;
    }
    if (t->last == NULL) {
        t->last = rds_connect(&Q.target, timeout_ms, err, sizeof err);
        if (t->last == NULL) return QUEUE_UNAVAILABLE;
        t->last_timeout_ms = timeout_ms;
    }
    redisContext *c = t->last;
    char key[KEY_MAX], ttl[24];
    int kl = snprintf(key, sizeof key, "%s:seen:%.*s", Q.cfg->stream, (int)id_len, id);
    if (kl < 0 || (size_t)kl >= sizeof key) return QUEUE_UNAVAILABLE;
    snprintf(ttl, sizeof ttl, "%d", Q.cfg->dedup_ttl_s);
    const char *xa[] = {"XADD", Q.cfg->stream, "*", "j", entry};
    size_t xl[] = {4, strlen(Q.cfg->stream), 1, 1, entry_len};
    const char *sa[] = {"SET", key, "1", "NX", "EX", ttl};
    size_t sl[] = {3, (size_t)kl, 1, 2, 2, strlen(ttl)};
    redisAppendCommandArgv(c, 5, xa, xl);
    redisAppendCommandArgv(c, 6, sa, sl);
    redisReply *rx = NULL, *rs = NULL;
    if (redisGetReply(c, (void **)&rx) != REDIS_OK || redisGetReply(c, (void **)&rs) != REDIS_OK) {
        if (rx) freeReplyObject(rx);
        redisFree(c); /* a late reply must not be read as the next call's */
        t->last = NULL;
        return QUEUE_UNAVAILABLE;
    }
    bool xadd_ok = rx->type == REDIS_REPLY_STRING;
    bool set_ok = rs->type == REDIS_REPLY_STATUS;
    bool seen = rs->type == REDIS_REPLY_NIL;
    freeReplyObject(rx);
    freeReplyObject(rs);
    if (!xadd_ok) {
        if (set_ok) { /* do not leave a seen-key without its entry */
            const char *da[] = {"DEL", key};
            size_t dl[] = {3, (size_t)kl};
            redisReply *rd = redisCommandArgv(c, 2, da, dl);
            if (rd) freeReplyObject(rd);
        }
        return QUEUE_UNAVAILABLE;
    }
    return seen ? QUEUE_DUPLICATE : QUEUE_ADDED;
}

static void aux_drop(void) {
    if (tl && tl->aux) {
        redisFree(tl->aux);
        tl->aux = NULL;
    }
}

int queue_ping(char *err, size_t errlen) {
    redisContext *c = aux_conn(err, errlen);
    if (c == NULL) return -1;
    redisReply *r = redisCommand(c, "PING");
    int bad = rds_reply_error(c, r, err, errlen);
    if (r) freeReplyObject(r);
    if (bad && c->err) aux_drop();
    return bad ? -1 : 0;
}

/* Value of field name in a flat [k, v, k, v...] reply, or NULL. */
static redisReply *field(redisReply *kv, const char *name) {
    if (kv == NULL || kv->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        redisReply *k = kv->element[i];
        if (k->type == REDIS_REPLY_STRING && strcmp(k->str, name) == 0) return kv->element[i + 1];
    }
    return NULL;
}

int queue_stream_stats(long long *length, long long *pending, long long *lag) {
    *length = *pending = *lag = -1;
    char err[256];
    redisContext *c = aux_conn(err, sizeof err);
    if (c == NULL) return -1;
    redisAppendCommand(c, "XLEN %s", Q.cfg->stream);
    redisAppendCommand(c, "XINFO GROUPS %s", Q.cfg->stream);
    redisReply *r1 = NULL, *r2 = NULL;
    int rc = 0;
    if (redisGetReply(c, (void **)&r1) != REDIS_OK || redisGetReply(c, (void **)&r2) != REDIS_OK) {
        rc = -1;
        aux_drop();
    } else {
        if (r1 && r1->type == REDIS_REPLY_INTEGER) *length = r1->integer;
        if (r2 && r2->type == REDIS_REPLY_ARRAY) {
            for (size_t i = 0; i < r2->elements; i++) {
                redisReply *name = field(r2->element[i], "name");
                if (name == NULL || name->type != REDIS_REPLY_STRING ||
                    strcmp(name->str, Q.cfg->group) != 0)
                    continue;
                redisReply *p = field(r2->element[i], "pending");
                redisReply *l = field(r2->element[i], "lag");
                if (p && p->type == REDIS_REPLY_INTEGER) *pending = p->integer;
                if (l && l->type == REDIS_REPLY_INTEGER) *lag = l->integer;
            }
        }
    }
    if (r1) freeReplyObject(r1);
    if (r2) freeReplyObject(r2);
    return rc;
}
