/* engine.h — brink's HTTP load engine: one epoll loop per thread, keep-alive connections, closed
 * model (each connection sends when its previous request completes) or open model (requests due
 * on an arrival schedule, latency measured from the intended send time, as wrk2 does). Each thread
 * records into its own histograms and counters; the caller's thread merges a per-second timeline
 * while the run goes on, and everything at the end. */
#ifndef BRINK_ENGINE_H
#define BRINK_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "core/hdr.h"
#include "core/parse.h"
#include "http/sign.h"
#include "http/url.h"
#include "load/delivery.h"
#include "load/lifecycle.h"
#include "load/scenario.h"
#include "load/segment.h"

/* Error classes of a request that got no HTTP response. */
typedef enum engine_err {
    ERR_CONNECT_REFUSED,
    ERR_CONNECT_TIMEOUT,
    ERR_REQUEST_TIMEOUT,
    ERR_RESET,
    ERR_CLOSED_EARLY,
    ERR_TLS,
    ERR_PARSE,
    ERR_CONNECT_OTHER,
    ERR__COUNT
} engine_err;

const char *engine_err_name(engine_err e);

typedef struct engine_second {
    int index;                      /* seconds since start */
    double offered;                 /* requests due in this second (open model) */
    int64_t sent;                   /* requests started */
    int64_t completed;              /* responses */
    int64_t errors;                 /* transport errors + responses with status >= 400 */
    int64_t p50_us, p99_us, max_us; /* corrected latency of responses completed this second */
    double length_s;                /* 1.0 except for the last, partial second */
    char *hdr; /* with engine_config.timeline_hdr: this second's latency histogram (base64 V2
                * encoding, as jx_hist's "hdr"), owned by the result; else NULL */
} engine_second;

/* The outcome of one request, for engine_config.on_outcome. */
typedef struct engine_outcome {
    uint64_t seq;        /* the request's {{seq}} (open model: its schedule index) */
    int thread;          /* the worker thread that ran it */
    int status;          /* HTTP status; 0 when no response came (see err) */
    engine_err err;      /* the error class when status == 0 */
    int64_t intended_ns; /* CLOCK_MONOTONIC: when it was due (closed model: when it started) */
    int64_t started_ns;  /* when it was actually started */
    int64_t done_ns;     /* when its response (or failure) came */
    int attempt;         /* with a delivery policy: 1 for the first delivery, 2 for the first
                          * retry, ...; 1 without one */
    bool duplicate;      /* a re-delivery of an event already acknowledged */
} engine_outcome;

/* Longest rendering of engine_config.sign_id, in bytes. */
#define ENGINE_SIGN_ID_MAX 200

typedef struct engine_header {
    const char *text; /* "Name: value" (template) */
} engine_header;

typedef struct engine_config {
    const char *url;    /* template-capable path; host fixed */
    const char *method; /* default GET */
    const engine_header *headers;
    int nheaders;
    const char *body; /* template; NULL = no body */
    size_t body_len;
    sign_scheme sign;
    const char *secret; /* raw secret text (from a file or env), only when sign != NONE */
    size_t secret_len;
    int connections;
    int threads;
    int64_t duration_ns;  /* 0 with stages: the stages' total */
    int64_t max_requests; /* 0 = unlimited */
    int64_t timeout_ns;
    double rate;               /* > 0: open model at a constant rate */
    const parse_stage *stages; /* open model ramps (rate is the start rate, may be 0) */
    int nstages;
    bool insecure;
    struct hdrlog *hdr_log; /* per-second interval log (core/hdrlog.h), or NULL */
    /* Called on the caller's thread once per completed second (may be NULL). */
    void (*on_second)(void *ud, const engine_second *s);
    void *ud;
    volatile sig_atomic_t *stop; /* set to non-zero to stop early (SIGINT) */
    /* Additions for scenarios (all optional; zero/NULL keeps the behaviour above): */
    /* Template of the signature's message id (standard-webhooks: webhook-id), rendered per
     * request like the body, e.g. "msg_run7_{{seq}}" for ids that map back to requests; at most
     * ENGINE_SIGN_ID_MAX bytes. NULL: "msg_" + a random UUID. */
    const char *sign_id;
    /* Called on the worker thread for every request that ended — with a response (any status)
     * or a failure without one; not for requests cut off by the end of the run. Must be quick,
     * must not block, and may write only to memory of that request (e.g. a slot indexed by seq:
     * each seq ends at most once, on one thread) — no locks are needed then. */
    void (*on_outcome)(void *ud, const engine_outcome *o);
    void *outcome_ud;
    /* Set to non-zero to end the run as if its duration had passed: sending stops, requests in
     * flight are waited for (up to the timeout); unlike stop, the run is not "interrupted". */
    volatile sig_atomic_t *finish;
    /* Scale-out (load/segment.h): run segment seg of the test ({0, 0}: the whole test). The
     * connections, max_requests, rate and stages above are the whole test's; the engine takes
     * its share: the connections and (closed model) the request count split, (open model) every
     * seg.count-th request of the schedule; {{seq}} values are disjoint across segments. */
    segment seg;
    /* Wall-clock time 0 of the run (CLOCK_REALTIME ns, e.g. --start-at; may be up to a few
     * seconds ahead, or just past); 0: now + 20 ms. The result's start_wall_ns is then exact. */
    int64_t start_wall_ns;
    /* Encode each second's latency histogram into the timeline (engine_second.hdr), so that
     * per-second percentiles of several processes can be merged exactly. */
    bool timeline_hdr;
    /* A sender that re-delivers (open model only; NULL: each request is sent once). An event (a
     * request of the schedule) that fails is sent again after the policy's wait, with the same
     * {{seq}} — so the same body and signature id — and a fresh timestamp and signature, until
     * acknowledged or out of retries; acknowledged events are re-sent as duplicates at the
     * policy's rate. Each attempt's latency counts from its own due time. After the schedule
     * ends, the retries and duplicates still due go out for at most delivery_drain_ns. */
    const delivery_policy *delivery;
    int64_t delivery_drain_ns;
    /* An event lifecycle per order (load/lifecycle.h; NULL: none): the deliveries are the events
     * of many orders, {{order}}, {{event}} and {{version}} render each one's (lifecycle_at of its
     * {{seq}}), orders interleaved for the peak rate (closed model: one per connection). The
     * result counts requests and acknowledgements by event type. */
    const lifecycle *events;
    /* After a failed connect (refused, timed out, TLS) a connection slot waits before it connects
     * again: 10 ms, doubling up to this (0: 1 s; < 0: no wait, reconnect at once). Requests due
     * meanwhile wait for a slot (late, counted) and fail or succeed when they are sent. */
    int64_t reconnect_backoff_ns;
    /* A scenario (load/scenario.h; NULL: the one request above): each arrival (open model) or
     * each free connection (closed model) runs the request or starts the flow that the mix
     * picks for its {{seq}}; a flow's next step follows its previous step's response after the
     * step's think time (open model: as a request due then; closed model: on the same
     * connection, which waits). url gives the target (scheme, host, port; its path is unused);
     * headers are added to every request; method and body are unused. Not with a delivery
     * policy when the scenario has flows. */
    const scenario *scenario;
} engine_config;

/* What a sender with a delivery policy did (engine_config.delivery); events = first_ok + the
 * rest. Each engine thread keeps one; the result holds their sum (attempts_max: the largest). */
typedef struct engine_delivery_counts {
    int64_t events;           /* events delivered at least once (first attempts) */
    int64_t first_ok;         /* acknowledged at the first attempt */
    int64_t delivered;        /* acknowledged at some attempt */
    int64_t gave_up;          /* every attempt failed: the sender gave the event up */
    int64_t undelivered;      /* still waiting for a retry (or in flight) when the run ended */
    int64_t retries;          /* requests that were retries */
    int64_t duplicates;       /* requests that were duplicates of acknowledged events */
    int64_t duplicates_acked; /* ... answered 2xx */
    int64_t retry_after;      /* retries that waited for the service's Retry-After, longer than
                               * the schedule's wait (a policy that honours it) */
    int64_t attempts_max;     /* most attempts an event took */
    int64_t pending_max;      /* most events waiting for a retry at once (per thread: their sum
                               * bounds the sender's memory) */
} engine_delivery_counts;

/* One request name of a scenario, as run. */
typedef struct engine_name_result {
    const char *name;                       /* the scenario's */
    int64_t sent, responses;                /* requests started, responses of any status */
    int64_t unexpected;                     /* responses with a status it does not expect */
    int64_t transport_errors;               /* failures without a response */
    int64_t errors_by_class[ERR__COUNT];    /* ... by class */
    int64_t status[600];                    /* responses by status */
    hdr_hist *latency;                      /* corrected latency (µs) of its responses */
    int nchecks;                            /* mix_nchecks of the request */
    int64_t check_fail[1 + SCN_MAX_CHECKS]; /* by check: its evaluations that failed ... */
    int64_t check_evals;                    /* ... out of this many each (every response and
                                             * failure of the request) */
    int64_t capture_failed;                 /* responses that did not yield every capture */
} engine_name_result;

typedef struct engine_flow_result {
    const char *name;
    int64_t started, completed, aborted; /* aborted: a step failed (no response, a status it
                                          * does not expect, a capture missing); started -
                                          * completed - aborted were cut off by the run's end */
    int64_t dropped;                     /* arrivals that found no free flow instance */
} engine_flow_result;

typedef struct engine_result {
    int64_t start_wall_ns;
    int64_t start_ns;     /* CLOCK_MONOTONIC at the run's time 0 (the schedule's origin) */
    double elapsed_s;     /* start to the end of the drain */
    double send_window_s; /* start to the moment sending stopped */
    bool open_model;
    double offered_rps;  /* open model: scheduled requests / schedule length */
    int64_t scheduled;   /* open model: requests due during the run */
    int64_t sent;        /* requests started (written or attempted) */
    int64_t responses;   /* HTTP responses received (any status) */
    int64_t http_errors; /* responses with status >= 400 */
    int64_t transport_errors;
    int64_t errors_by_class[ERR__COUNT];
    char first_error[ERR__COUNT][160]; /* first detail seen for each class */
    int64_t status[600];
    /* with engine_config.events: the lifecycle as run (planned: its width set), and requests and
     * 2xx answers by event type (its types[] index) */
    bool has_events;
    lifecycle events;
    int64_t events_sent[LIFECYCLE_MAX_TYPES], events_acked[LIFECYCLE_MAX_TYPES];
    int64_t bytes_read, bytes_written;
    int64_t late_sends;         /* open model: started > 1 ms after their intended time */
    int64_t max_lag_us;         /* open model: largest start delay behind schedule */
    int64_t unsent;             /* open model: due but never started before the run ended */
    int64_t connects;           /* TCP connections opened */
    int64_t reconnect_backoffs; /* waits before reconnecting after a failed connect */
    bool interrupted;           /* stopped by *stop */
    hdr_hist *latency;          /* corrected: intended send → response (µs) */
    hdr_hist *service;          /* actual send → response (µs) */
    engine_second *timeline;
    int nseconds;
    int64_t timeline_dropped; /* thread-seconds left out of the timeline (reporter fell behind) */
    int threads, connections; /* this process's (a segment's share) */
    segment seg;              /* engine_config.seg as given ({0, 0}: the whole test) */
    /* with a delivery policy (engine_config.delivery): */
    bool delivery;
    engine_delivery_counts dl;
    hdr_hist *delivery_delay; /* first due → first 2xx of each delivered event (µs) */
    /* with a scenario: by request name (the scenario's order) and by flow */
    engine_name_result *names;
    int nnames;
    engine_flow_result *flows;
    int nflows;
    int64_t checks_passed, checks_failed; /* every check evaluation of the run */
} engine_result;

/* Validates the configuration (URL, templates, secret) without sending anything: returns 0, or -1
 * with a one-line reason in err. */
int engine_check(const engine_config *cfg, char *err, size_t errlen);

/* Renders request number seq as the engine would send it (headers, signature, body) into a
 * malloc'd buffer (*out, *len; caller frees). Nothing is sent. 0, or -1 with a reason in err. */
int engine_render(const engine_config *cfg, uint64_t seq, char **out, size_t *len, char *err,
                  size_t errlen);

/* Runs the load. Returns 0 when the run happened (even if every request failed), -1 with a reason
 * when it could not start (bad configuration, resolution failure, out of memory). */
int engine_run(const engine_config *cfg, engine_result *res, char *err, size_t errlen);
void engine_result_free(engine_result *res);

#endif
