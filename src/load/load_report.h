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
} load_report_info;

/* Builds the result document of a `brink load` run (new reference). */
json_t *load_report_json(const engine_result *r, const load_report_info *info);

/* The terminal summary; with full_latency, the whole percentile spectrum too. */
void load_report_terminal(FILE *out, const engine_result *r, const load_report_info *info,
                          bool full_latency);
/* One live progress line (TTY only): overwrites itself with \r. */
void load_report_progress_line(FILE *out, const engine_second *s, bool open_model);
void load_report_progress_clear(FILE *out);

#endif
