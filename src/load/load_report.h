/* load_report.h — the report section of a load run: its result document (JSON, schema
 * brink.result/1, see docs/results.md), its terminal summary and the live progress line. The
 * webhook test builds on the same document and summary. Reads only the engine's result. */
#ifndef BRINK_LOAD_REPORT_H
#define BRINK_LOAD_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "load/engine.h"

/* What the user asked for, recorded in the document's "config". */
typedef struct load_report_info {
    const char *url;
    const char *method;
    const char *scenario;            /* the scenario's file (-f), or NULL */
    const char *const *header_names; /* names only: values may hold credentials */
    int nheaders;
    size_t body_bytes;
    const char *sign; /* scheme name or NULL */
    int connections, threads;
    double duration_s;
    long long max_requests;
    double timeout_s;
    double rate;
    const char *stages;              /* as given, or NULL */
    const delivery_policy *delivery; /* the sender's policy, or NULL */
    double delivery_drain_s;
} load_report_info;

/* Builds the result document of a `brink load` run (new reference). */
json_t *load_report_json(const engine_result *r, const load_report_info *info);

/* A delivery run's sender-side numbers into a document's stats (first_attempt_success_rate,
 * eventual_delivery_rate, gave_up, delivery_delay_*_s, attempts_per_event, ...) and its
 * "delivery" section (the policy as run and the counts); nothing without a delivery policy. */
void load_report_delivery_json(json_t *doc, json_t *stats, const engine_result *r,
                               const delivery_policy *p, double drain_s);
/* ... and their lines in a terminal summary. */
void load_report_delivery_terminal(FILE *out, const engine_result *r, const delivery_policy *p);

/* An event-lifecycle run's "events" section: the lifecycle as run and requests and 2xx answers by
 * event type (new reference); and its lines in a terminal summary (nothing without one). */
json_t *load_report_events_json(const engine_result *r);
void load_report_events_terminal(FILE *out, const engine_result *r);

/* The terminal summary; with full_latency, the whole percentile spectrum too. */
void load_report_terminal(FILE *out, const engine_result *r, const load_report_info *info,
                          bool full_latency);
/* The numbers load_report_json can put in .stats (--threshold's metric names): those of every
 * run, then (delivery) a sender's. *n receives the count. */
const char *const *load_report_stat_names(bool delivery, int *n);

/* Progress while a run goes on, on stderr: on a terminal a live line that overwrites itself
 * (elapsed / total, ETA, this second's rates, p99 and errors); elsewhere (a CI log) one line every
 * 10 s with the totals so far; nothing when quiet. */
typedef struct load_progress {
    const char *name; /* "brink load", "brink webhook light" */
    bool tty, quiet, open_model;
    double total_s; /* the planned length; 0: not known (-n without -d) */
    int64_t requests, errors;
} load_progress;
/* Sets p up for out (tty: isatty(out)). */
void load_progress_init(load_progress *p, const char *name, FILE *out, bool quiet, bool open_model,
                        double total_s);
/* Called with each completed second (engine_config.on_second). */
void load_progress_second(load_progress *p, FILE *out, const engine_second *s);
/* Clears the live line (tty) before the summary. */
void load_progress_end(load_progress *p, FILE *out);

#endif
