/* report.h — turning an engine result into what people and programs read: the result document
 * (JSON, schema brink.result/1, see docs/results.md) and the terminal summary. Reports read only
 * the result; they never touch the engine. */
#ifndef BRINK_REPORT_H
#define BRINK_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "load/engine.h"

#define REPORT_SCHEMA "brink.result/1"

/* What the user asked for, recorded in the document's "config". */
typedef struct report_load_info {
    const char *url;
    const char *method;
    const char *const *header_names; /* names only: values may hold credentials */
    int nheaders;
    size_t body_bytes;
    const char *sign; /* scheme name or NULL */
    int connections, threads;
    double duration_s;
    long long max_requests;
    double timeout_s;
    double rate;
    const char *stages; /* as given, or NULL */
} report_load_info;

/* Builds the result document of a `brink load` run (new reference). */
json_t *report_load_json(const engine_result *r, const report_load_info *info);
/* An HDR histogram as JSON: count, min/mean/stdev/max and percentiles in ms, and the histogram in
 * the HdrHistogram V2 compressed encoding ("hdr"). unit_ns: nanoseconds per recorded unit (1000
 * for the engine's µs histograms). */
json_t *report_hist_json(const hdr_hist *h, double unit_ns);
/* Writes doc to path ("-" = stdout), pretty-printed. 0, or -1 with a reason in err. */
int report_write_json(const json_t *doc, const char *path, char *err, size_t errlen);
/* Writes path ("-": stdout) through fn, via path.tmp and a rename, so that a reader never sees a
 * half-written file; 0, or -1 with a message naming the path. */
typedef int (*report_writer)(FILE *out, const void *arg, char *err, size_t errlen);
int report_write_file(const char *path, report_writer fn, const void *arg, char *err,
                      size_t errlen);
/* A report_writer for a JSON document (indented, one trailing newline). */
int report_json_writer(FILE *out, const void *doc, char *err, size_t errlen);

/* The terminal summary; with full_latency, the whole percentile spectrum too. */
void report_load_terminal(FILE *out, const engine_result *r, const report_load_info *info,
                          bool full_latency);
/* One live progress line (TTY only): overwrites itself with \r. */
void report_progress_line(FILE *out, const engine_second *s, bool open_model);
void report_progress_clear(FILE *out);

#endif
