/* json.h — the small JSON helpers that every reader and writer of result documents shares, over
 * jansson: lenient getters (a missing or mistyped key reads as "", NaN or 0, so that a report
 * shows what a document has and skips the rest), the rounding that keeps documents short and
 * stable, numbers that become null when not finite, an HDR histogram as JSON, and writing a
 * document (or any text) to a file that a reader never sees half-written. */
#ifndef BRINK_JSON_H
#define BRINK_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hdr.h"

/* The schema of every result document (docs/results.md). */
#define JX_SCHEMA "brink.result/1"

/* o[k] as a string; "" when absent or not a string. */
const char *jx_str(const json_t *o, const char *k);
/* o[k] as a number; NaN when absent or not a number. */
double jx_num(const json_t *o, const char *k);
/* o[k] as a whole number (a real is rounded to the nearest); 0 when absent or not a number. */
int64_t jx_int(const json_t *o, const char *k);

/* v rounded to 3 or 6 decimal places (halves away from zero). */
double jx_round3(double v);
double jx_round6(double v);
/* v as a JSON real — as is, or rounded to 3 or 6 places — or null when v is NaN or infinite. */
json_t *jx_real(double v);
json_t *jx_real3(double v);
json_t *jx_real6(double v);

/* An HDR histogram as JSON: count, min/mean/stdev/max and percentiles in ms, and the histogram in
 * the HdrHistogram V2 compressed encoding ("hdr"). unit_ns: nanoseconds per recorded unit (1000
 * for the engine's µs histograms). */
json_t *jx_hist(const hdr_hist *h, double unit_ns);

/* Writes path ("-": stdout) through fn, via path.tmp and a rename, so that a reader never sees a
 * half-written file; 0, or -1 with a message naming the path. */
typedef int (*jx_writer)(FILE *out, const void *arg, char *err, size_t errlen);
int jx_write_file(const char *path, jx_writer fn, const void *arg, char *err, size_t errlen);
/* A jx_writer for a JSON document (indented, one trailing newline). */
int jx_json_writer(FILE *out, const void *doc, char *err, size_t errlen);
/* Writes doc to path ("-" = stdout), pretty-printed. 0, or -1 with a reason in err. */
int jx_write_json(const json_t *doc, const char *path, char *err, size_t errlen);

#endif
