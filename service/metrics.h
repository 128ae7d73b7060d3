/* metrics.h — dispatchd's counters and the Prometheus text exposition of /metrics.
 * Request counts, the latency histogram and event counters are per thread (no shared cache line
 * on the request path) and summed when scraped; gauges are read by the caller at scrape time. */
#ifndef DISPATCHD_METRICS_H
#define DISPATCHD_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef enum met_route {
    MET_WEBHOOK,
    MET_ACCEPT,
    MET_ORDER,
    MET_HEALTHZ,
    MET_READYZ,
    MET_METRICS,
    MET_OTHER,
    MET_ROUTES
} met_route;

typedef enum met_counter {
    MET_WH_QUEUED_REDIS, /* webhooks answered 202 after XADD */
    MET_WH_QUEUED_INBOX, /* ... after the inbox INSERT (circuit open) */
    MET_WH_STORED_SYNC,  /* ... after the orders INSERT (--ingest sync) */
    MET_WH_DUPLICATE,    /* answered 200: webhook-id already received */
    MET_WH_UNAVAILABLE,  /* answered 503 */
    MET_WH_LAST_RESORT,  /* queued in Redis by the last resort (circuit open, inbox down) */
    MET_REDIS_ERRORS,    /* failed or timed-out Redis calls on the request path */
    MET_SHED,            /* requests answered 503 after waiting --queue-timeout for an executor */
    MET_BREAKER_OPENS,
    MET_PG_RECONNECTS,
    MET_PG_WAITS,       /* pool acquisitions that had to wait */
    MET_PG_TIMEOUTS,    /* ... that gave up */
    MET_PG_CONN_ERRORS, /* connections found broken */
    MET_ORDERS_INSERTED,
    MET_ORDERS_SKIPPED, /* webhook_id or order_id already stored */
    MET_EVENTS_HANDLED, /* order events through apply_order_events (stream, inbox, sync) */
    MET_WORKER_BATCHES,
    MET_WORKER_CLAIMED, /* entries reclaimed from dead consumers */
    MET_WORKER_POISON,  /* entries that no INSERT could store (logged, acknowledged) */
    MET_INBOX_DRAINED,
    MET_ACCEPT_WON,
    MET_ACCEPT_LOST,
    MET_COUNTERS
} met_counter;

void met_request(met_route route, int status, int64_t duration_ns);
void met_add(met_counter c, uint64_t n);
uint64_t met_total(met_counter c);

/* Values read at scrape time; a negative value means unknown (the metric is left out). */
typedef struct met_gauges {
    long long stream_length, stream_pending, stream_lag, inbox_depth;
    int circuit_state; /* 0 closed, 1 open, 2 half-open */
    int pool_size, pool_in_use, pool_idle, pool_broken;
    long long in_flight, connections;
} met_gauges;

/* Renders the exposition into a malloc'd buffer (*out, *len); 0, or -1 when out of memory. */
int met_render(const met_gauges *g, char **out, size_t *len);

#endif
