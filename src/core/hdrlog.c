/* hdrlog.c — the HdrHistogram interval log: one histogram per interval of a run, in the text
 * format that HdrHistogram's HistogramLogWriter writes and its HistogramLogReader,
 * HistogramLogProcessor and HistogramLogAnalyzer (and the C, Go, JS, Python and Rust ports) read.
 *
 * A scenario opens the log once (hdrlog_open writes the header), then at each interval boundary
 * hands the interval's merged histogram to hdrlog_write; `brink merge` and the tests read lines
 * back with hdrlog_parse_line. The file looks like this:
 *
 *   #[brink webhook]
 *   #[Histogram log format version 1.3]
 *   #[StartTime: 1700000000.123 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]
 *   #[BaseTime: 1700000000.123 (seconds since epoch)]
 *   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
 *   Tag=load,0.000,1.000,12.351,HISTFAAAA...
 *
 * Interval start times are seconds relative to the run's start. HdrHistogram's readers add the
 * BaseTime to an interval's timestamp to get its absolute time, so BaseTime is written equal to
 * StartTime (a BaseTime of 0 would declare the relative timestamps absolute, i.e. in 1970).
 * Values are recorded in µs; the Interval_Max column is for people and is written in ms. */
#include "core/hdrlog.h"

#include "core/err.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HDRLOG_VERSION   "1.3"
#define HDRLOG_MAX_RATIO 1000.0 /* µs → ms for the Interval_Max column */

static const char legend[] =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";

/* The human half of the StartTime line, like Java's Date.toString(), in UTC. */
static void format_date(double t, char *buf, size_t cap) {
    struct tm tm;
    time_t secs = (time_t)(fabs(t) < 1e15 ? floor(t) : 0); /* no overflowing conversion */
    if (fabs(t) >= 1e15 || !gmtime_r(&secs, &tm) ||
        strftime(buf, cap, "%a %b %d %H:%M:%S UTC %Y", &tm) == 0)
        snprintf(buf, cap, "unknown date");
}

/* A comment becomes one "#[...]" line: line breaks would start lines of their own. */
static int write_comment(FILE *f, const char *comment) {
    if (fputs("#[", f) == EOF) return -1;
    for (const char *p = comment; *p; p++) {
        char c = (*p == '\n' || *p == '\r') ? ' ' : *p;
        if (fputc(c, f) == EOF) return -1;
    }
    return fputs("]\n", f) == EOF ? -1 : 0;
}

int hdrlog_open(hdrlog *log, FILE *f, double start_time_s, const char *comment) {
    if (!log || !f || !isfinite(start_time_s)) {
        errno = EINVAL;
        return -1;
    }
    log->f = f;
    log->start_time_s = start_time_s;
    char date[64];
    format_date(start_time_s, date, sizeof date);
    if (comment && write_comment(f, comment) != 0) return -1;
    if (fprintf(f, "#[Histogram log format version %s]\n", HDRLOG_VERSION) < 0) return -1;
    if (fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", start_time_s, date) < 0)
        return -1;
    if (fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", start_time_s) < 0) return -1;
    if (fprintf(f, "%s\n", legend) < 0) return -1;
    return 0;
}

/* Tags may not hold the separators of the line format (HdrHistogram's rule). */
static bool tag_is_valid(const char *tag) {
    if (!*tag) return false;
    for (const char *p = tag; *p; p++)
        if (*p == ',' || *p == ' ' || *p == '\r' || *p == '\n') return false;
    return true;
}

int hdrlog_write(hdrlog *log, const char *tag, double start_s, double length_s, const hdr_hist *h) {
    if (!log || !log->f || !h || (tag && !tag_is_valid(tag)) || !isfinite(start_s) ||
        !isfinite(length_s)) {
        errno = EINVAL;
        return -1;
    }
    char *b64 = hdr_encode_base64(h);
    if (!b64) {
        errno = ENOMEM;
        return -1;
    }
    int rc = fprintf(log->f, "%s%s%s%.3f,%.3f,%.3f,%s\n", tag ? "Tag=" : "", tag ? tag : "",
                     tag ? "," : "", start_s, length_s, (double)hdr_max(h) / HDRLOG_MAX_RATIO, b64);
    free(b64);
    return rc < 0 ? -1 : 0;
}

/* Parses a decimal number that must be followed by a comma; advances *p past the comma. */
static int parse_field(const char **p, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(*p, &end);
    if (end == *p || errno == ERANGE || !isfinite(v) || *end != ',') return -1;
    *out = v;
    *p = end + 1;
    return 0;
}

int hdrlog_parse_line(const char *line, char *tag, size_t tagcap, double *start_s, double *length_s,
                      hdr_hist **out, char *err, size_t errlen) {
    if (out) *out = NULL;
    if (tag && tagcap > 0) tag[0] = '\0';
    if (!line) {
        err_set(err, errlen, "hdrlog: no line given");
        return -1;
    }
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    /* comments, header lines, the legend (quoted, or bare as some writers put it) and blanks */
    if (*p == '#' || *p == '"' || *p == '\0' || *p == '\r' || *p == '\n' ||
        strncmp(p, "StartTimestamp", 14) == 0)
        return 0;

    if (strncmp(p, "Tag=", 4) == 0) {
        const char *name = p + 4;
        const char *comma = strchr(name, ',');
        if (!comma) {
            err_set(err, errlen, "hdrlog: tag without the fields that follow it");
            return -1;
        }
        size_t n = (size_t)(comma - name);
        if (tag && tagcap > 0) {
            if (n >= tagcap) {
                err_set(err, errlen, "hdrlog: tag of %zu characters is longer than %zu", n,
                        tagcap - 1);
                return -1;
            }
            memcpy(tag, name, n);
            tag[n] = '\0';
        }
        p = comma + 1;
    }

    double start = 0, length = 0, max_ms = 0;
    if (parse_field(&p, &start) != 0 || parse_field(&p, &length) != 0 ||
        parse_field(&p, &max_ms) != 0) {
        err_set(err, errlen,
                "hdrlog: expected [Tag=T,]start,length,max,histogram but got \"%.40s\"", line);
        if (tag && tagcap > 0) tag[0] = '\0';
        return -1;
    }
    hdr_hist *h = hdr_decode_base64(p, err, errlen);
    if (!h) {
        if (tag && tagcap > 0) tag[0] = '\0';
        return -1;
    }
    if (start_s) *start_s = start;
    if (length_s) *length_s = length;
    if (out)
        *out = h;
    else
        hdr_free(h);
    return 1;
}
