/* threshold.h — verdicts on metrics: green / orange / red against two bounds, with the evidence
 * and the concrete advice that go with a verdict. Every brink test evaluates its headline numbers
 * here, so that the terminal, the JSON document (.thresholds, .advice), JUnit and the exit status
 * (99 when anything is red, as k6 does) all agree. The defaults live in one table
 * (threshold_defaults); a user's config may override the bounds per metric. */
#ifndef BRINK_THRESHOLD_H
#define BRINK_THRESHOLD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum th_status {
    TH_GREEN,
    TH_ORANGE,
    TH_RED,
    TH_SKIPPED, /* no value (the test did not measure it) */
} th_status;

/* ABOVE: a value above a bound is bad (latency, errors); BELOW: below is bad (rates). */
typedef enum th_dir {
    TH_ABOVE,
    TH_BELOW,
} th_dir;

typedef struct th_def {
    const char *metric; /* the .stats key it judges, e.g. "race_conditions" */
    const char *test;   /* "webhook", "race", "redis", "db", "load", "resources" */
    const char *unit;   /* "ms", "rps", "fraction", "count", "s", "%", "MiB" */
    th_dir dir;
    double orange, red; /* bounds: orange when past orange, red when past red */
    const char *what;   /* one line: what the metric means */
    const char *remedy; /* concrete advice when not green */
} th_def;

#define TH_SERVICE_MAX 8

/* One of the service's own metrics behind a verdict, read from its Prometheus page at the start,
 * at the fault's end (resilience tests) and at the end of the run (probe/probe_metrics.c), shown
 * beside a verdict by verdict/remedy.c. */
typedef struct th_service_metric {
    char series[112];             /* e.g. dispatchd_webhooks_total{outcome="queued_inbox"} */
    char label[40];               /* short, for people: "webhooks to inbox" */
    const char *kind;             /* "counter", "gauge" or "setting" (a static string) */
    double start, fault_end, end; /* NaN: not read at that point */
} th_service_metric;

typedef struct th_result {
    th_def def;      /* a copy, so overrides never touch the defaults */
    bool overridden; /* def's bounds came from an override (brink.yaml's thresholds:) */
    double value;
    th_status status;
    char evidence[512]; /* what brink saw, in words and numbers (with the service's metrics) */
    /* what the service's own metrics and configuration said (remedy_annotate; empty
     * without them): the series behind the verdict, and a remedy that names them */
    th_service_metric service[TH_SERVICE_MAX];
    int nservice;
    char service_remedy[384];
} th_result;

/* The default table (at least 30 metrics across the tests). n receives its length. */
const th_def *threshold_defaults(int *n);
/* Looks a metric up in the defaults for a test (NULL when unknown). */
const th_def *threshold_find(const char *test, const char *metric);

/* ---- overrides (brink.yaml's thresholds: section; docs/config.md) ---------------------------
 * A process-wide set of bounds that replace the defaults in threshold_judge, so that every test
 * applies them without passing them around. Set them before a test starts its threads. */

/* Checks one override without applying it. name: "metric" (that metric in every test that has
 * it) or "test.metric" ("db.recovery_s"); orange, red: the new bounds in the metric's unit, NAN
 * to keep the default. Each bound pair must be in order for the metric's direction (orange
 * before red). 0, or -1 with a one-line reason naming the metric. */
int threshold_override_check(const char *name, double orange, double red, char *err, size_t errlen);
/* Checks and applies one override (later ones win). 0, or -1 as threshold_override_check. */
int threshold_override(const char *name, double orange, double red, char *err, size_t errlen);
/* Back to the defaults. */
void threshold_overrides_clear(void);
/* The bounds in force for (test, metric): the default with its override; NULL when unknown. */
const th_def *threshold_effective(const char *test, const char *metric);

th_status threshold_eval(const th_def *d, double value);
const char *threshold_status_name(th_status s); /* "green", "orange", "red", "skipped" */
/* Fills r from the bounds in force for (test, metric) and value; evidence is formatted by the
 * caller (may be NULL). Returns 0, or -1 when the metric is unknown. */
int threshold_judge(th_result *r, const char *test, const char *metric, double value,
                    const char *evidence);

/* ---- the rps-versus-offered rule ----------------------------------------------------------------
 * A fixed-rate webhook run (light, moderate, heavy; and brink merge of its segments) offers a rate
 * that may lie below the table's rps bounds. Below them, the run is judged on keeping up with its
 * own rate: orange below 99 %, red below 97 % of the offered rate (docs/webhook.md), so that
 * `light` is not red for offering 100/s; the absolute target is for stress and capacity to prove.
 */

/* Lowers r's bounds to those shares of offered (never raises them), unless r's bounds are the
 * user's (r->overridden) or offered is not above 0; then judges r->value again. */
void threshold_rps_vs_offered(th_result *r, double offered);
/* The rule's evidence: "achieved 97.0/s of 100.0/s offered (97.0%)". */
void threshold_rps_evidence(char *out, size_t n, double achieved, double offered);

/* [{metric, value, unit, orange, red, status}] and [{metric, evidence, remedy}] (non-green only;
 * an entry with service metrics also has service_metrics {series: {label, kind, start,
 * fault_end, end, change}} and service_remedy, which then opens its remedy). */
json_t *threshold_json(const th_result *rs, int n);
json_t *threshold_advice_json(const th_result *rs, int n);
/* One line per result: "🟢 race_conditions   0   (orange > 0, red > 0)"; then the advice (the
 * service_remedy, when there is one, on its own line before the table's remedy). */
void threshold_print(FILE *out, const th_result *rs, int n);
/* A metric's value in its unit for people: "12.5 ms", "0.1%" (fractions), "3" (counts); missing
 * (e.g. "-") when v is NaN or infinite. */
void threshold_format_value(char *out, size_t n, double v, const char *unit, const char *missing);
/* The worst status among the results (TH_GREEN when all are green or skipped). */
th_status threshold_worst(const th_result *rs, int n);

/* The marks threshold_print writes: emoji (the default) or, once plain is set, words of equal
 * width ("GREEN ", "ORANGE", "RED   ", "SKIP  ") for logs and terminals without colour. */
void threshold_set_plain(bool plain);
/* True when out is not a terminal or NO_COLOR is set and not empty (no-color.org). */
bool threshold_want_plain(FILE *out);

#endif
