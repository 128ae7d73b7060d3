/* hdrlog.h — the HdrHistogram interval log ("Histogram log format version 1.3"): header comment
 * lines, a CSV legend, then one line per interval: [Tag=T,]start,length,max,base64-histogram.
 * Values are recorded in µs; the max column is written in milliseconds (ratio 1000), as
 * HdrHistogram's tools expect for a log in ms. */
#ifndef BRINK_HDRLOG_H
#define BRINK_HDRLOG_H

#include <stdio.h>
#include "core/hdr.h"

typedef struct hdrlog {
    FILE *f;
    double start_time_s; /* wall-clock Unix seconds of the run's start */
} hdrlog;

/* Writes the header (version, StartTime, BaseTime, legend). Returns 0 or -1 (errno set). */
int hdrlog_open(hdrlog *log, FILE *f, double start_time_s, const char *comment);
/* One interval line; start_s is relative to start_time_s. tag may be NULL. */
int hdrlog_write(hdrlog *log, const char *tag, double start_s, double length_s, const hdr_hist *h);

/* Reader, for tests and `brink merge`: parses one interval line (not a comment or the legend).
 * Returns 1 when a histogram was read (caller frees *out), 0 for a header/comment line,
 * -1 on a malformed line (err filled). */
int hdrlog_parse_line(const char *line, char *tag, size_t tagcap, double *start_s, double *length_s,
                      hdr_hist **out, char *err, size_t errlen);

#endif
