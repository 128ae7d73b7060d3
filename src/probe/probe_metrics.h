/* probe_metrics.h — the service's own metrics as evidence for brink's verdicts. When the service
 * under test has a Prometheus page (the embedded stack's dispatchd always does, at
 * SERVICE_URL/metrics; a user's stack names one with target.metrics in brink.yaml), a scenario
 * scrapes it at the start of the run, at the fault's end (resilience tests) and at the end, and
 * then annotates its non-green verdicts: each gets the series that a table names for its metric
 * — counters by how much they changed, gauges by their values, only those that exist and moved —
 * appended to its evidence ("… (service metrics: pg pool waits +1,204, webhooks to inbox +812)")
 * and listed in the advice's service_metrics, and, where the series or the service's known
 * configuration (dispatchd's command line on the embedded stack) point at one knob, a remedy that
 * names them ("enable the PostgreSQL inbox fallback (dispatchd --redis-fallback on): …").
 *
 * Nothing here is required: no URL, a page that does not answer or answers something else, and
 * the verdicts stay as they were. The table and the formatting are pure and exposed for tests. */
#ifndef BRINK_PROBE_METRICS_H
#define BRINK_PROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict/threshold.h"

struct stack_info;

/* When a scrape was taken. */
typedef enum probe_metrics_at {
    PROBE_METRICS_START,
    PROBE_METRICS_FAULT_END, /* resilience tests: right after the fault was removed */
    PROBE_METRICS_END,
    PROBE_METRICS__AT,
} probe_metrics_at;

#define PROBE_METRICS_SERIES_MAX 40

/* What brink knows of the service's configuration: dispatchd's knobs that the remedies name,
 * from its command line, its DISPATCHD_* environment and its profile's defaults. -1: unknown. */
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

/* Adds the service's metrics and, where one applies, the service remedy to every orange and red
 * result in rs[0..n). Does nothing without a scrape at the start and at least one after it. */
void probe_metrics_annotate(const probe_metrics *m, th_result *rs, int n);

/* ---- the tables (exposed for tests and docs) ------------------------------------------------ */

typedef struct probe_metrics_series {
    const char *selector; /* Prometheus selector: name{label="value"} */
    const char *label;    /* for people */
    const char *kind;     /* "counter" (shown by its change), "gauge" (by its values), "setting"
                             (its value, shown beside the others) */
} probe_metrics_series;
const probe_metrics_series *probe_metrics_series_table(int *n);
/* The series shown for (test, metric) as indexes into the series table, at most max; returns
 * how many (0: none for that metric). */
int probe_metrics_series_for(const char *test, const char *metric, int *idx, int max);

/* "1,204", "-3", "0.25": v with thousands grouped (integers) or %.3g. */
void probe_metrics_format_number(char *out, size_t n, double v);

#endif
