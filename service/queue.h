/* queue.h — the request path's side of the Redis stream: idempotent, asynchronous enqueue of
 * verified webhooks (XADD, then SET seen-key NX), pipelined on one Redis connection per HTTP
 * event-loop thread, guarded by a timeout and a circuit breaker; plus stream statistics and a
 * readiness ping. */
#ifndef DISPATCHD_QUEUE_H
#define DISPATCHD_QUEUE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum queue_rc {
    QUEUE_ADDED,       /* XADD returned an entry id: the webhook is in the stream */
    QUEUE_DUPLICATE,   /* the webhook-id was already received (seen-key present) */
    QUEUE_UNAVAILABLE, /* Redis failed, timed out, or the circuit is open */
} queue_rc;

/* One webhook to enqueue; owned by the caller until done() has been called. */
typedef struct queue_req {
    const char *id; /* NUL-free, id_len bytes */
    size_t id_len;
    const char *entry; /* the stream entry: wh_entry's JSON object (it holds the body) */
    size_t entry_len;
    bool probe;      /* set by queue_admit: this request is the circuit's half-open probe */
    queue_rc result; /* set before done() */
    void (*done)(struct queue_req *r); /* called once, from the pipe's thread */
    /* the pipe's own */
    struct queue_req *next;
    int64_t deadline_ns;
    bool xadd_ok, xadd_failed;
} queue_req;

int queue_start(const dcfg *c, char *err, size_t errlen);
/* Frees every thread's statistics connection; call after the HTTP threads have stopped. */
void queue_stop(void);

/* The circuit breaker's verdict for one request: true when it may go to Redis (*probe tells
 * whether it is the half-open probe), false when the circuit is open. */
bool queue_admit(bool *probe);

/* A pipe: one Redis connection owned by one event-loop thread, on which webhooks are pipelined.
 * Every function must be called from that thread. Requests complete (done()) from within
 * queue_pipe_flush, queue_pipe_io, queue_pipe_expire or queue_pipe_fail_all. */
typedef struct queue_pipe queue_pipe;
queue_pipe *queue_pipe_new(void);
void queue_pipe_free(queue_pipe *p); /* completes nothing: call queue_pipe_fail_all first */
/* Connects now, if not connected (best effort): a loop's first requests then do not pay for it. */
void queue_pipe_connect(queue_pipe *p);
/* Adds r; nothing is sent until queue_pipe_flush. */
void queue_pipe_add(queue_pipe *p, queue_req *r);
/* Formats what was added and writes as much as the socket takes (connecting first if needed). */
void queue_pipe_flush(queue_pipe *p);
/* The socket to watch (-1: none), whether to watch it for writing too, and the connection's
 * generation: a reconnected socket may get the old descriptor number, but not the old generation
 * (the old socket left the epoll set when it was closed; the new one must be added). */
int queue_pipe_fd(const queue_pipe *p, bool *want_write, unsigned *gen);
/* The socket is readable and/or writable: read replies (completing requests), write more. */
void queue_pipe_io(queue_pipe *p, bool readable, bool writable);
/* The earliest deadline of a request in flight (0: none); queue_pipe_expire fails every request
 * in flight when it has passed (the connection is dropped). */
int64_t queue_pipe_deadline(const queue_pipe *p);
void queue_pipe_expire(queue_pipe *p, int64_t now_ns);
/* Completes every request added or in flight as unavailable (shutdown). */
void queue_pipe_fail_all(queue_pipe *p, const char *why);

/* The last resort, for a webhook the PostgreSQL inbox could not take either: XADD + SET NX on this
 * thread's own blocking connection, waiting up to timeout_ms — a Redis that is slow (a reply later
 * than --redis-timeout, which opened the circuit) still takes the webhook, where the pipe would
 * have given up. Ignores the circuit and does not change it. Blocks: executors only. */
queue_rc queue_add_wait(const char *id, size_t id_len, const char *entry, size_t entry_len,
                        int timeout_ms);

/* Circuit state: 0 closed, 1 open, 2 half-open. */
int queue_circuit_state(void);

/* Stream length, pending entries and lag of the workers' group (-1 when unknown); a short
 * timeout of its own. 0, or -1 when Redis did not answer. */
int queue_stream_stats(long long *length, long long *pending, long long *lag);
/* PING with a short timeout: 0, or -1 with a reason. */
int queue_ping(char *err, size_t errlen);

#endif
