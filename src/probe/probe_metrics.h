/* probe_metrics.h — the service's own metrics, read as evidence. When the service under test has a
 * Prometheus page (the embedded stack's dispatchd always does, at SERVICE_URL/metrics; a user's
 * stack names one with target.metrics in brink.yaml), a scenario scrapes it at the start of the
 * run, at the fault's end (resilience tests) and at the end. This module reads those pages: the
 * series it knows (dispatchd's names), each series' values at the scrapes, a counter's change
 * over the run, whether a series moved, and a short text for each ("pg pool waits +1,204",
 * "inbox depth 0 → 812 → 0"); and what brink knows of dispatchd's configuration from the command
 * line the embedded stack started it with. It judges nothing: the verdict layer
 * (verdict/remedy.h) turns these numbers into evidence and remedies on the verdicts.
 *
 * Nothing here is required: no URL, a page that does not answer or answers something else, and
 * nothing is read. The table and the formatting are pure and exposed for tests. */
#ifndef BRINK_PROBE_METRICS_H
#define BRINK_PROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stack_info;

/* When a scrape was taken. */
typedef enum probe_metrics_at {
    PROBE_METRICS_START,
    PROBE_METRICS_FAULT_END, /* resilience tests: right after the fault was removed */
    PROBE_METRICS_END,
    PROBE_METRICS__AT,
} probe_metrics_at;

#define PROBE_METRICS_SERIES_MAX 40

/* The series brink reads, as indexes into probe_metrics_series_table (and probe_metrics.v). */
typedef enum probe_metrics_id {
    PROBE_METRICS_S_POOL_SIZE,
    PROBE_METRICS_S_POOL_IN_USE,
    PROBE_METRICS_S_POOL_BROKEN,
    PROBE_METRICS_S_POOL_WAITS,
    PROBE_METRICS_S_POOL_TIMEOUTS,
    PROBE_METRICS_S_PG_RECONNECTS,
    PROBE_METRICS_S_PG_CONN_ERRORS,
    PROBE_METRICS_S_SHED,
    PROBE_METRICS_S_WH_UNAVAILABLE,
    PROBE_METRICS_S_WH_INBOX,
    PROBE_METRICS_S_WH_REDIS,
    PROBE_METRICS_S_WH_SYNC,
    PROBE_METRICS_S_LAST_RESORT,
    PROBE_METRICS_S_CIRCUIT_OPENS,
    PROBE_METRICS_S_CIRCUIT_STATE,
    PROBE_METRICS_S_REDIS_ERRORS,
    PROBE_METRICS_S_STREAM_LAG,
    PROBE_METRICS_S_STREAM_PENDING,
    PROBE_METRICS_S_INBOX_DEPTH,
    PROBE_METRICS_S_INBOX_DRAINED,
    PROBE_METRICS_S_CLAIMED,
    PROBE_METRICS_S_POISON,
    PROBE_METRICS_S_ORDERS_SKIPPED,
    PROBE_METRICS_S_ACCEPTS_WON,
    PROBE_METRICS_S_ACCEPTS_LOST,
    PROBE_METRICS_S_WH_400,
    PROBE_METRICS_S_WH_401,
    PROBE_METRICS_S_WH_500,
    PROBE_METRICS_S_WH_503,
    PROBE_METRICS_S_ACCEPT_503,
    PROBE_METRICS_S__COUNT,
} probe_metrics_id;

/* What brink knows of the service's configuration: dispatchd's knobs that the remedies
 * (verdict/remedy.c) name, from its command line, its DISPATCHD_* environment and its profile's
 * defaults. -1: unknown. */
typedef struct probe_metrics_config {
    bool known;       /* the service is dispatchd, started by brink with a known command line */
    char profile[16]; /* "tuned" or "untuned" */
    int fallback;     /* --redis-fallback: 1 on, 0 off */
    int redis_timeout_ms;
    int pg_pool;
    int lazy_reconnect; /* --pg-reconnect: 1 lazy, 0 probe */
    int sync_ingest;    /* --ingest: 1 sync, 0 queue */
    int naive_accept;   /* --accept-mode: 1 naive, 0 atomic */
} probe_metrics_config;

typedef struct probe_metrics {
    char url[512];      /* the Prometheus page; "" scrapes nothing */
    int64_t timeout_ns; /* each scrape (default 2 s) */
    bool have[PROBE_METRICS__AT];
    double v[PROBE_METRICS__AT][PROBE_METRICS_SERIES_MAX]; /* NaN: absent */
    probe_metrics_config cfg;
} probe_metrics;

/* Nothing scraped yet; url NULL or "" turns every scrape into a no-op. */
void probe_metrics_init(probe_metrics *m, const char *url);
/* The embedded stack: its service's /metrics, and (when the service is dispatchd) its
 * configuration from the command line the stack started it with. */
void probe_metrics_for_stack(probe_metrics *m, const struct stack_info *si);
/* dispatchd's configuration from argv (NULL-terminated; argv[0] must name dispatchd, else the
 * configuration stays unknown) over its environment (getenv) and its profile's defaults. */
void probe_metrics_set_dispatchd(probe_metrics *m, char *const *argv);

/* One scrape at `at`: 0, or -1 when there is no URL or the page did not answer with 2xx (which
 * is no error: the verdicts then simply have no service metrics). */
int probe_metrics_scrape(probe_metrics *m, probe_metrics_at at);
/* The same from a page already read (Prometheus text format); the series found are kept. */
void probe_metrics_parse(probe_metrics *m, probe_metrics_at at, const char *text, size_t len);

/* ---- reading the scrapes (i: a probe_metrics_id) ------------------------------------------ */

/* Whether there is something to compare: a scrape at the start and at least one after it. */
bool probe_metrics_compared(const probe_metrics *m);
/* Series i at one scrape; NaN when that scrape was not taken or did not have it. */
double probe_metrics_value(const probe_metrics *m, probe_metrics_at at, int i);
/* Its value at the start; a counter that the first page did not have but a later one has was 0
 * (labelled series appear with their first event). */
double probe_metrics_start(const probe_metrics *m, int i);
/* Its last value: at the end, else at the fault's end. */
double probe_metrics_last(const probe_metrics *m, int i);
/* A counter's change from the start to the last scrape (a counter that went down was reset: the
 * service restarted, and its value is the change since); NaN when unknown. */
double probe_metrics_change(const probe_metrics *m, int i);
/* Whether series i is worth showing: a counter that changed, a gauge whose values differ. */
bool probe_metrics_moved(const probe_metrics *m, int i);
/* "pg pool waits +1,204" (a counter), "inbox depth 0 → 812 → 0" (a gauge at the scrapes), "pg
 * pool size 1" (a setting). */
void probe_metrics_item_text(const probe_metrics *m, int i, char *out, size_t n);

/* ---- the table (exposed for tests, docs and the remedies) ---------------------------------- */

typedef struct probe_metrics_series {
    const char *selector; /* Prometheus selector: name{label="value"} */
    const char *label;    /* for people */
    const char *kind;     /* "counter" (shown by its change), "gauge" (by its values), "setting"
                             (its value, shown beside the others) */
} probe_metrics_series;
/* All PROBE_METRICS_S__COUNT series, indexed by probe_metrics_id. */
const probe_metrics_series *probe_metrics_series_table(int *n);

/* "1,204", "-3", "0.25": v with thousands grouped (integers) or %.3g. */
void probe_metrics_format_number(char *out, size_t n, double v);

#endif
