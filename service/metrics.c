/* metrics.c — counters and the Prometheus exposition (see metrics.h).
 *
 * Every thread that records gets its own slot (a cache-line-aligned block of counters, taken on
 * first use); a request touches only its thread's slot, so the hot path has no contention and no
 * lock. A scrape sums the slots. Slots are static, so recording never allocates; if more threads
 * record than there are slots, the extra ones share the last slot, which stays correct because
 * every increment is an atomic add. */
#include "metrics.h"

#include "core/clock.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SLOTS 320

static const int status_codes[] = {200, 202, 400, 401, 404, 405, 408,
                                   409, 413, 415, 431, 500, 503, 0 /* other */};
#define NSTATUS ((int)(sizeof status_codes / sizeof status_codes[0]))
static const char *const bucket_le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                        "0.02",   "0.05",  "0.1",    "0.25",  "0.5",
                                        "1",      "2.5",   "5",      "10",    "+Inf"};
static const int64_t bucket_ns[] = {
    500 * NS_PER_US, NS_PER_MS,        2500 * NS_PER_US, 5 * NS_PER_MS,   10 * NS_PER_MS,
    20 * NS_PER_MS,  50 * NS_PER_MS,   100 * NS_PER_MS,  250 * NS_PER_MS, 500 * NS_PER_MS,
    NS_PER_S,        2500 * NS_PER_MS, 5 * NS_PER_S,     10 * NS_PER_S,   INT64_MAX};
#define NBUCKETS ((int)(sizeof bucket_ns / sizeof bucket_ns[0]))

static const char *const route_names[MET_ROUTES] = {"webhook", "accept",  "order", "healthz",
                                                    "readyz",  "metrics", "other"};

typedef struct slot {
    _Atomic uint64_t req[MET_ROUTES][NSTATUS];
    _Atomic uint64_t bucket[MET_ROUTES][NBUCKETS];
    _Atomic uint64_t sum_ns[MET_ROUTES];
    _Atomic uint64_t counter[MET_COUNTERS];
} __attribute__((aligned(64))) slot;

static slot slots[MAX_SLOTS];
static _Atomic int nslots;
static __thread slot *my_slot;

static slot *get_slot(void) {
    if (my_slot == NULL) {
        int i = atomic_fetch_add(&nslots, 1);
        my_slot = &slots[i < MAX_SLOTS ? i : MAX_SLOTS - 1];
    }
    return my_slot;
}

static inline void inc(_Atomic uint64_t *p, uint64_t n) {
    atomic_fetch_add_explicit(p, n, memory_order_relaxed);
}

void met_request(met_route route, int status, int64_t duration_ns) {
    slot *s = get_slot();
    int si = NSTATUS - 1;
    for (int i = 0; i < NSTATUS - 1; i++) {
        if (status_codes[i] == status) {
            si = i;
            break;
        }
    }
    int b = 0;
    while (b < NBUCKETS - 1 && duration_ns > bucket_ns[b]) b++;
    inc(&s->req[route][si], 1);
    inc(&s->bucket[route][b], 1);
    inc(&s->sum_ns[route], duration_ns > 0 ? (uint64_t)duration_ns : 0);
}

void met_add(met_counter c, uint64_t n) {
    inc(&get_slot()->counter[c], n);
}

static int used_slots(void) {
    int n = atomic_load(&nslots);
    return n < MAX_SLOTS ? n : MAX_SLOTS;
}

uint64_t met_total(met_counter c) {
    uint64_t t = 0;
    for (int i = 0; i < used_slots(); i++)
        t += atomic_load_explicit(&slots[i].counter[c], memory_order_relaxed);
    return t;
}

/* ---- exposition --------------------------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
    bool oom;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static void header(buf *b, const char *name, const char *type, const char *help) {
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(buf *b, const char *name, const char *help, long long v) {
    if (v < 0) return;
    header(b, name, "gauge", help);
    put(b, "%s %lld\n", name, v);
}

static void counter(buf *b, const char *name, const char *help, met_counter c) {
    header(b, name, "counter", help);
    put(b, "%s %llu\n", name, (unsigned long long)met_total(c));
}

int met_render(const met_gauges *g, char **out, size_t *len) {
    buf b = {.p = malloc(16384), .cap = 16384};
    if (b.p == NULL) return -1;
    int ns = used_slots();

    header(&b, "dispatchd_http_requests_total", "counter", "HTTP requests by route and status.");
    for (int r = 0; r < MET_ROUTES; r++) {
        for (int s = 0; s < NSTATUS; s++) {
            uint64_t t = 0;
            for (int i = 0; i < ns; i++) t += atomic_load(&slots[i].req[r][s]);
            if (t == 0) continue;
            char code[8];
            if (status_codes[s])
                snprintf(code, sizeof code, "%d", status_codes[s]);
            else
                snprintf(code, sizeof code, "other");
            put(&b, "dispatchd_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                route_names[r], code, (unsigned long long)t);
        }
    }
    header(&b, "dispatchd_http_request_duration_seconds", "histogram",
           "Time from a request's head to its response being queued.");
    for (int r = 0; r < MET_ROUTES; r++) {
        uint64_t cum = 0, sum = 0;
        for (int i = 0; i < ns; i++) sum += atomic_load(&slots[i].sum_ns[r]);
        for (int k = 0; k < NBUCKETS; k++) {
            for (int i = 0; i < ns; i++) cum += atomic_load(&slots[i].bucket[r][k]);
            put(&b, "dispatchd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n",
                route_names[r], bucket_le[k], (unsigned long long)cum);
        }
        put(&b, "dispatchd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r],
            (double)sum / 1e9);
        put(&b, "dispatchd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
            route_names[r], (unsigned long long)cum);
    }
    gauge(&b, "dispatchd_http_in_flight", "Requests being handled.", g->in_flight);
    gauge(&b, "dispatchd_http_connections", "Open HTTP connections.", g->connections);

    header(&b, "dispatchd_webhooks_total", "counter", "Webhooks by outcome.");
    static const struct {
        const char *name;
        met_counter c;
    } outcomes[] = {{"queued_redis", MET_WH_QUEUED_REDIS},
                    {"queued_inbox", MET_WH_QUEUED_INBOX},
                    {"stored_sync", MET_WH_STORED_SYNC},
                    {"duplicate", MET_WH_DUPLICATE},
                    {"unavailable", MET_WH_UNAVAILABLE}};
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        put(&b, "dispatchd_webhooks_total{outcome=\"%s\"} %llu\n", outcomes[i].name,
            (unsigned long long)met_total(outcomes[i].c));

    gauge(&b, "dispatchd_stream_length", "Entries in the Redis stream (XLEN).", g->stream_length);
    gauge(&b, "dispatchd_stream_pending", "Entries delivered to a worker and not acknowledged.",
          g->stream_pending);
    gauge(&b, "dispatchd_stream_lag", "Entries not yet delivered to any worker.", g->stream_lag);
    gauge(&b, "dispatchd_inbox_depth", "Webhooks waiting in the PostgreSQL inbox.", g->inbox_depth);
    gauge(&b, "dispatchd_redis_circuit_state", "Redis circuit: 0 closed, 1 open, 2 half-open.",
          g->circuit_state);
    counter(&b, "dispatchd_redis_circuit_opens_total", "Times the Redis circuit opened.",
            MET_BREAKER_OPENS);
    counter(&b, "dispatchd_webhooks_last_resort_total",
            "Webhooks queued in Redis with the long last-resort wait (circuit open, inbox down); "
            "also counted as queued_redis or duplicate.",
            MET_WH_LAST_RESORT);
    counter(&b, "dispatchd_requests_shed_total",
            "Requests answered 503 after waiting longer than --queue-timeout for an executor.",
            MET_SHED);
    counter(&b, "dispatchd_redis_errors_total",
            "Failed or timed-out Redis calls on the request path.", MET_REDIS_ERRORS);

    gauge(&b, "dispatchd_pg_pool_size", "PostgreSQL pool size.", g->pool_size);
    gauge(&b, "dispatchd_pg_pool_in_use", "Pooled connections in use.", g->pool_in_use);
    gauge(&b, "dispatchd_pg_pool_idle", "Pooled connections idle and healthy.", g->pool_idle);
    gauge(&b, "dispatchd_pg_pool_broken", "Pooled connections broken, waiting to reconnect.",
          g->pool_broken);
    counter(&b, "dispatchd_pg_pool_waits_total", "Pool acquisitions that had to wait.",
            MET_PG_WAITS);
    counter(&b, "dispatchd_pg_pool_timeouts_total",
            "Pool acquisitions that gave up (database down or pool exhausted).", MET_PG_TIMEOUTS);
    counter(&b, "dispatchd_pg_reconnects_total", "PostgreSQL connections re-established.",
            MET_PG_RECONNECTS);
    counter(&b, "dispatchd_pg_connection_errors_total", "PostgreSQL connections found broken.",
            MET_PG_CONN_ERRORS);

    counter(&b, "dispatchd_orders_inserted_total", "Orders stored by workers and sync ingest.",
            MET_ORDERS_INSERTED);
    counter(&b, "dispatchd_orders_skipped_total",
            "Webhooks not stored because their webhook_id or order_id already was.",
            MET_ORDERS_SKIPPED);
    counter(&b, "dispatchd_order_events_handled_total",
            "Order events handled (a later event, or any event from the inbox or sync ingest).",
            MET_EVENTS_HANDLED);
    counter(&b, "dispatchd_worker_batches_total", "Batches written by workers.",
            MET_WORKER_BATCHES);
    counter(&b, "dispatchd_worker_claimed_total", "Stream entries reclaimed from dead consumers.",
            MET_WORKER_CLAIMED);
    counter(&b, "dispatchd_worker_poison_total", "Stream entries that could not be stored.",
            MET_WORKER_POISON);
    counter(&b, "dispatchd_inbox_drained_total", "Webhooks moved from the inbox into orders.",
            MET_INBOX_DRAINED);
    header(&b, "dispatchd_accepts_total", "counter", "Accept attempts by result.");
    put(&b, "dispatchd_accepts_total{result=\"won\"} %llu\n",
        (unsigned long long)met_total(MET_ACCEPT_WON));
    put(&b, "dispatchd_accepts_total{result=\"lost\"} %llu\n",
        (unsigned long long)met_total(MET_ACCEPT_LOST));

    if (b.oom) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
