/* test_hdrlog.c — unit tests for the interval log (src/core/hdrlog.c): the header lines, a log of
 * three intervals written to a temporary file and read back line by line, lines that HdrHistogram
 * (Java) itself wrote, and malformed lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hdrlog.h"

#include "unit_hdr.h"
#include "unit.h"

/* Reads the whole stream into a NULL-terminated array of lines (without their newlines). */
static char **read_lines(FILE *f, size_t *count) {
    rewind(f);
    size_t n = 0, cap = 16;
    char **lines = calloc(cap, sizeof *lines);
    char *line = NULL;
    size_t linecap = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (n + 2 > cap) {
            cap *= 2;
            char **grown = realloc(lines, cap * sizeof *lines);
            assert_non_null(grown);
            lines = grown;
        }
        lines[n++] = strdup(line);
    }
    free(line);
    lines[n] = NULL;
    *count = n;
    return lines;
}

static void free_lines(char **lines) {
    for (char **p = lines; *p; p++) free(*p);
    free(lines);
}

/* The header hdrlog_open writes for this start time and comment, as lines (*n of them). */
static char **header_of(double start, const char *comment, size_t *n) {
    FILE *f = tmpfile();
    assert_non_null(f);
    hdrlog log;
    assert_int_equal(hdrlog_open(&log, f, start, comment), 0);
    char **lines = read_lines(f, n);
    fclose(f);
    return lines;
}

static void test_header_lines(void **state) {
    size_t n = 0;
    /* 2023-11-14 22:13:20.123 UTC */
    char **lines = header_of(1700000000.123, "brink webhook\ntest", &n);
    assert_int_equal(n, 5);
    assert_string_equal(lines[0], "#[brink webhook test]");
    assert_string_equal(lines[1], "#[Histogram log format version 1.3]");
    assert_string_equal(lines[2], "#[StartTime: 1700000000.123 (seconds since epoch), Tue Nov 14 "
                                  "22:13:20 UTC 2023]");
    assert_string_equal(lines[3], "#[BaseTime: 1700000000.123 (seconds since epoch)]");
    assert_string_equal(lines[4], "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                                  "\"Interval_Compressed_Histogram\"");
    /* every header line reads as "not an interval" */
    for (size_t i = 0; i < n; i++) {
        char err[128] = "";
        hdr_hist *h = (hdr_hist *)1;
        assert_int_equal(hdrlog_parse_line(lines[i], NULL, 0, NULL, NULL, &h, err, sizeof err), 0);
        assert_null(h);
    }
    free_lines(lines);

    /* without a comment the version line comes first */
    lines = header_of(0.0, NULL, &n);
    assert_int_equal(n, 4);
    assert_string_equal(lines[0], "#[Histogram log format version 1.3]");
    assert_string_equal(lines[1],
                        "#[StartTime: 0.000 (seconds since epoch), Thu Jan 01 00:00:00 UTC 1970]");
    free_lines(lines);

    /* an absurd start time still gives a well-formed header */
    lines = header_of(1e300, NULL, &n);
    assert_int_equal(n, 4);
    assert_non_null(strstr(lines[1], "unknown date]"));
    free_lines(lines);

    hdrlog log;
    errno = 0;
    assert_int_equal(hdrlog_open(&log, NULL, 0.0, NULL), -1);
    assert_int_equal(errno, EINVAL);
}

/* Parses line i of a log whose first nheader lines are its header: those must read as "not an
 * interval", every later one as an interval. Whether line i is an interval. */
static bool parse_logged(const char *line, size_t i, size_t nheader, char *tag, size_t taglen,
                         double *start, double *length, hdr_hist **h) {
    char err[256] = "";
    int rc = hdrlog_parse_line(line, tag, taglen, start, length, h, err, sizeof err);
    if (i < nheader) {
        assert_int_equal(rc, 0);
        return false;
    }
    if (rc != 1) fail_msg("line %zu: %s", i, err);
    return true;
}

static void test_three_intervals_round_trip(void **state) {
    FILE *f = tmpfile();
    assert_non_null(f);
    hdrlog log;
    assert_int_equal(hdrlog_open(&log, f, 1700000000.5, "brink test"), 0);

    hdr_hist *h[3];
    h[0] = hdr_new_default(); /* empty interval */
    h[1] = hdr_new_default();
    for (int64_t v = 1; v <= 10000; v++) hdr_record(h[1], v * 37);
    hdr_record(h[1], 12345);
    h[2] = hdr_new(1, 60000000, 2);
    hdr_record_n(h[2], 250, 1000);
    hdr_record(h[2], 59999999);
    const char *tags[3] = {NULL, "load", "vendor-7"};
    double starts[3] = {0.0, 1.0004, 2.25};
    double lengths[3] = {1.0, 1.25, 0.75};
    for (int i = 0; i < 3; i++)
        assert_int_equal(hdrlog_write(&log, tags[i], starts[i], lengths[i], h[i]), 0);

    size_t n = 0;
    char **lines = read_lines(f, &n);
    assert_int_equal(n, 5 + 3);
    /* the line text itself: tag, times to 3 decimals, max in ms to 3 decimals */
    assert_memory_equal(lines[5], "0.000,1.000,0.000,HISTF", 23);
    char want[64];
    snprintf(want, sizeof want, "Tag=load,1.000,1.250,%.3f,HISTF", hdr_max(h[1]) / 1000.0);
    assert_memory_equal(lines[6], want, strlen(want));
    assert_memory_equal(lines[7], "Tag=vendor-7,2.250,0.750,60030.975,HISTF", 40);

    int intervals = 0;
    for (size_t i = 0; i < n; i++) {
        char tag[32] = "junk";
        double start = -1, length = -1;
        hdr_hist *got = NULL;
        if (!parse_logged(lines[i], i, 5, tag, sizeof tag, &start, &length, &got)) continue;
        int k = intervals++;
        assert_string_equal(tag, tags[k] ? tags[k] : "");
        char written[32];
        snprintf(written, sizeof written, "%.3f", starts[k]);
        assert_true(start == strtod(written, NULL));
        assert_true(fabs(length - lengths[k]) < 1e-9);
        assert_same_hist(got, h[k]);
        hdr_free(got);
    }
    assert_int_equal(intervals, 3);
    free_lines(lines);
    for (int i = 0; i < 3; i++) hdr_free(h[i]);
    fclose(f);
}

static void test_write_rejects_bad_tags(void **state) {
    FILE *f = tmpfile();
    hdrlog log;
    assert_int_equal(hdrlog_open(&log, f, 1.0, NULL), 0);
    hdr_hist *h = hdr_new_default();
    const char *bad[] = {"", "a,b", "a b", "a\nb", "a\rb"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(hdrlog_write(&log, bad[i], 0.0, 1.0, h), -1);
        assert_int_equal(errno, EINVAL);
    }
    assert_int_equal(hdrlog_write(&log, NULL, NAN, 1.0, h), -1);
    assert_int_equal(hdrlog_write(&log, NULL, 0.0, 1.0, NULL), -1);
    size_t n = 0;
    char **lines = read_lines(f, &n);
    assert_int_equal(n, 4); /* nothing was written */
    free_lines(lines);
    hdr_free(h);
    fclose(f);
}

/* Lines written by HdrHistogram's Java HistogramLogWriter: the first three intervals of
 * HdrHistogram/HdrHistogram src/test/resources/org/HdrHistogram/jHiccup-2.0.7S.logV2.hlog (values
 * in ns, max column in ms), and a tagged line quoted in HdrHistogram/HdrHistogramJS
 * src/HistogramLogReader.spec.ts (first interval of jHiccup's log; the spec asserts its mean). */
static const char *const java_lines[] = {
    "#[Logged with jHiccup version 2.0.7-SNAPSHOT]",
    "#[Histogram log format version 1.2]",
    "#[StartTime: 1441753532.570 (seconds since epoch), Tue Sep 08 16:05:32 PDT 2015]",
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
    "0.126,1.007,1.933,HISTFAAAAEB42pNpmSzMwMAgywABTBDKT4GBgdnNYMcCBvsPEBEjDT0FMTUxMT05LgEhPqmIeWxt"
    "TAKMTNxM6xmZmAAjcgjc",
    "1.133,1.000,0.377,HISTFAAAADx42pNpmSzMwMAgyQABTBDKT4GBgdnNYMcCBvsPEBEBDQUxCSkJMTEFOSExPhmbR6x"
    "fmPQ4GJmYAP4DCJg=\r",
    "2.133,1.001,0.328,HISTFAAAADl42pNpmSzMwMAgxgABTBDKT4GBgdnNYMcCBvsPEBEdKw09MQUFEQkbCTEhMZGAY6w"
    "bmFQ4AOqWCKo=\n",
    "Tag=A,0.127,1.007,2.769,HISTFAAAAEV42pNpmSzMwMCgyAABTBDKT4GBgdnNYMcCBvsPEBEJISEuATEZMQ4uASkhI"
    "R4nrxg9v2lMaxhvMekILGZkKmcCAEf2CsI=",
};

static void test_reads_java_written_lines(void **state) {
    const double starts[] = {0.126, 1.133, 2.133, 0.127};
    const double lengths[] = {1.007, 1.000, 1.001, 1.007};
    const char *maxes[] = {"1.933", "0.377", "0.328", "2.769"};
    int k = 0;
    for (size_t i = 0; i < sizeof java_lines / sizeof java_lines[0]; i++) {
        char tag[16];
        double start = 0, length = 0;
        hdr_hist *h = NULL;
        if (!parse_logged(java_lines[i], i, 4, tag, sizeof tag, &start, &length, &h)) continue;
        assert_string_equal(tag, k == 3 ? "A" : "");
        assert_true(start == starts[k]);
        assert_true(length == lengths[k]);
        /* the Interval_Max column is the histogram's max (ns) in ms, as we write ours in µs/ms */
        char col[32];
        snprintf(col, sizeof col, "%.3f", hdr_max(h) / 1e6);
        assert_string_equal(col, maxes[k]);
        assert_true(hdr_total(h) > 0);
        if (k == 3) assert_int_equal((int64_t)floor(hdr_mean(h)), 301998);
        hdr_free(h);
        k++;
    }
    assert_int_equal(k, 4);
}

static void test_malformed_lines(void **state) {
    const char *bad[] = {
        "abc",
        "1.0,2.0",
        "1.0,2.0,3.0",
        "1.0,2.0,3.0,",
        "1.0,,3.0,HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk",
        "x1.0,2.0,3.0,HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk",
        "1.0,2.0,3.0,!!!!",
        "1.0,2.0,3.0,HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQS",
        "Tag=x",
        "Tag=x,1,2,3,!!!!",
        "1e999,2.0,3.0,HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk",
        "nan,2.0,3.0,HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char tag[8] = "junk", err[256] = "";
        hdr_hist *h = (hdr_hist *)1;
        int rc = hdrlog_parse_line(bad[i], tag, sizeof tag, NULL, NULL, &h, err, sizeof err);
        if (rc != -1) fail_msg("accepted \"%s\"", bad[i]);
        assert_null(h);
        assert_true(strlen(err) > 0);
        assert_string_equal(tag, "");
    }
    /* a tag longer than the caller's buffer is an error, not a silent cut */
    char tag[4], err[128] = "";
    hdr_hist *h = NULL;
    assert_int_equal(hdrlog_parse_line("Tag=toolong,1,2,3,HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+A"
                                       "sI4zMh1lZEpkAgBdIQSk",
                                       tag, sizeof tag, NULL, NULL, &h, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "tag"));
    /* the boundary: 3 characters and the NUL fit in 4, 4 characters do not */
    const char *b64 = "HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk";
    char line[128];
    snprintf(line, sizeof line, "Tag=abc,1,2,3,%s", b64);
    assert_int_equal(hdrlog_parse_line(line, tag, sizeof tag, NULL, NULL, &h, err, sizeof err), 1);
    assert_string_equal(tag, "abc");
    hdr_free(h);
    snprintf(line, sizeof line, "Tag=abcd,1,2,3,%s", b64);
    assert_int_equal(hdrlog_parse_line(line, tag, sizeof tag, NULL, NULL, &h, err, sizeof err), -1);
    assert_null(h);
    /* a legend written without quotes is a header line too */
    assert_int_equal(hdrlog_parse_line("StartTimestamp,Interval_Length,Interval_Max,"
                                       "Interval_Compressed_Histogram",
                                       NULL, 0, NULL, NULL, NULL, err, sizeof err),
                     0);
    assert_int_equal(hdrlog_parse_line(NULL, NULL, 0, NULL, NULL, NULL, err, sizeof err), -1);
    /* blank lines and comments are skipped; a valid line with NULL outputs is still checked */
    assert_int_equal(hdrlog_parse_line("", NULL, 0, NULL, NULL, NULL, NULL, 0), 0);
    assert_int_equal(hdrlog_parse_line("  \r\n", NULL, 0, NULL, NULL, NULL, NULL, 0), 0);
    assert_int_equal(hdrlog_parse_line("#[BaseTime: 0.000 (seconds since epoch)]", NULL, 0, NULL,
                                       NULL, NULL, NULL, 0),
                     0);
    assert_int_equal(
        hdrlog_parse_line("Tag=t,1,2,3,HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1l"
                          "ZEpkAgBdIQSk",
                          NULL, 0, NULL, NULL, NULL, NULL, 0),
        1);
}

UNIT_MAIN(test_header_lines, test_three_intervals_round_trip, test_write_rejects_bad_tags,
          test_reads_java_written_lines, test_malformed_lines)
