/* test_report_html.c — the HTML report and its charts: hostile strings in every place a document
 * carries text come out escaped (no tag, no attribute break-out, no script), charts appear only
 * where their data is and never contain NaN, long timelines are downsampled, and the chart
 * helpers (nice ticks, percentile labels) give round numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hdr.h"
#include "report/html.h"
#include "report/svg.h"

#include "unit.h"

#define FIXTURES "tests/integration/fixtures/"
#define HOSTILE  "</script><img src=x onerror=alert(1)>"

static char *render(json_t **docs, int n) {
    unit_mem m;
    char err[256];
    const char *names[8] = {"a.json", "b.json", "c.json", "d.json",
                            "e.json", "f.json", "g.json", "h.json"};
    assert_int_equal(html_write(unit_mem_open(&m), docs, names, n, err, sizeof err), 0);
    return unit_mem_close(&m);
}

static bool contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (!strncasecmp(p, needle, n)) return true;
    return false;
}

/* A document with a hostile string in every field the page shows. */
static json_t *hostile_doc(void) {
    hdr_hist *h = hdr_new_default();
    for (int i = 1; i <= 1000; i++) hdr_record(h, i * 100);
    char *enc = hdr_encode_base64(h);
    hdr_free(h);
    json_t *tl = json_array();
    for (int t = 0; t < 10; t++)
        json_array_append_new(tl,
                              json_pack("{s:i, s:f, s:s, s:f, s:i, s:i, s:f}", "t", t, "length_s",
                                        1.0, "phase", t < 5 ? HOSTILE : "fault", "offered", 100.0,
                                        "completed", 90 + t, "errors", t, "p99_ms", 3.0 + t));
    json_t *samples = json_array();
    for (int t = 0; t < 5; t++)
        json_array_append_new(samples, json_pack("{s:f, s:s, s:f, s:f}", "t", t * 0.5, "phase",
                                                 HOSTILE, "total", t * 2.0, HOSTILE, t * 2.0));
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:{s:f, s:s}, "
                  "s:[{s:s, s:s, s:f, s:s, s:s, s:f, s:f, s:s}], s:[{s:s, s:s, s:s, s:s}], s:o, "
                  "s:{s:s, s:{s:s}}, s:{s:[{s:s, s:s}], s:o}, s:[{s:s, s:f, s:f}]}",
                  "schema", "brink.result/1", "test", HOSTILE, "mode", HOSTILE, "profile", HOSTILE,
                  "started_at", HOSTILE, "duration_s", 10.0, "target", HOSTILE, "stats", HOSTILE,
                  1.0, "p99_ms", HOSTILE, "thresholds", "metric", HOSTILE, "test", HOSTILE, "value",
                  1.0, "unit", HOSTILE, "direction", HOSTILE, "orange", 0.5, "red", 0.8, "status",
                  "red", "advice", "metric", HOSTILE, "status", HOSTILE, "evidence", HOSTILE,
                  "remedy", HOSTILE, "timeline", tl, "latency", "hdr_unit", "us", HOSTILE, "hdr",
                  enc, "backlog", "probes", "name", HOSTILE, "probe", HOSTILE, "samples", samples,
                  "phases", "name", HOSTILE, "start_s", 0.0, "end_s", 5.0);
    assert_non_null(d);
    json_array_append_new(
        json_object_get(d, "phases"),
        json_pack("{s:s, s:f, s:f}", "name", "fault", "start_s", 5.0, "end_s", 10.0));
    free(enc);
    return d;
}

static void test_hostile_escaped(void **state) {
    json_t *d = hostile_doc();
    char *html = render(&d, 1);
    assert_null(strstr(html, HOSTILE));
    assert_null(strstr(html, "<img"));
    assert_false(contains_ci(html, "<script"));
    assert_false(contains_ci(html, "onerror=alert(1)>")); /* the tag never closes */
    assert_non_null(strstr(html, "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    /* no attribute break-out: every quote from the document is an entity */
    json_t *q = json_pack("{s:s, s:s, s:s, s:[], s:[]}", "schema", "brink.result/1", "test",
                          "x\" onmouseover=\"alert(1)", "target", "' onfocus='alert(2)",
                          "thresholds", "advice");
    char *h2 = render(&q, 1);
    assert_null(strstr(h2, "\" onmouseover=\""));
    assert_null(strstr(h2, "' onfocus='"));
    assert_non_null(strstr(h2, "x&quot; onmouseover=&quot;alert(1)"));
    /* the page forbids scripts and the network */
    assert_non_null(strstr(html, "Content-Security-Policy"));
    assert_non_null(strstr(html, "default-src 'none'"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_null(strstr(html, "src=\""));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "<iframe"));
    /* the charts of the hostile document were drawn, with escaped labels */
    assert_int_equal(unit_count(html, "class=\"chart chart-timeline\""), 1);
    assert_int_equal(unit_count(html, "class=\"chart chart-spectrum\""), 1);
    assert_int_equal(unit_count(html, "class=\"chart chart-backlog\""), 1);
    free(h2);
    json_decref(q);
    free(html);
    json_decref(d);
}

static void no_bad_numbers(const char *html) {
    assert_false(contains_ci(html, "nan"));
    assert_null(strstr(html, "inf\""));
    assert_null(strstr(html, "undefined"));
}

static void test_fixtures_charts(void **state) {
    static const struct {
        const char *file;
        int timeline, spectrum, backlog, race, capacity;
    } cases[] = {
        {FIXTURES "load.json", 1, 1, 0, 0, 0},
        {FIXTURES "race-untuned.json", 0, 1, 0, 1, 0},
        {FIXTURES "redis-failure.json", 1, 0, 1, 0, 0},
        {FIXTURES "redis-failure-all.json", 2, 0, 2, 0, 0},
        {FIXTURES "capacity.json", 1, 0, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *d = unit_load_json(cases[i].file);
        char *html = render(&d, 1);
        assert_int_equal(unit_count(html, "chart-timeline\""), cases[i].timeline);
        assert_int_equal(unit_count(html, "chart-spectrum\""), cases[i].spectrum);
        assert_int_equal(unit_count(html, "chart-backlog\""), cases[i].backlog);
        assert_int_equal(unit_count(html, "chart-race\""), cases[i].race);
        assert_int_equal(unit_count(html, "chart-capacity\""), cases[i].capacity);
        assert_int_equal(unit_count(html, "<svg"), unit_count(html, "</svg>"));
        no_bad_numbers(html);
        free(html);
        json_decref(d);
    }
}

static void test_missing_data(void **state) {
    /* a bare document: header and verdict, no chart, no crash */
    json_t *d = json_pack("{s:s}", "schema", "brink.result/1");
    char *html = render(&d, 1);
    assert_int_equal(unit_count(html, "<svg"), 0);
    assert_non_null(strstr(html, "not judged"));
    free(html);
    json_decref(d);
    /* wrong types everywhere */
    d = json_pack("{s:s, s:i, s:s, s:i, s:[i, s, {s:s}], s:{s:i}, s:[i], s:s, s:{s:i}}", "schema",
                  "brink.result/1", "test", 5, "target", "x", "thresholds", 3, "timeline", 1, "a",
                  "t", "x", "latency", "hdr", 4, "backlog", 2, "capacity", "no", "stats", "p99_ms",
                  1);
    html = render(&d, 1);
    assert_int_equal(unit_count(html, "<svg"), 0);
    no_bad_numbers(html);
    free(html);
    json_decref(d);
    /* a corrupt histogram is left out */
    d = json_pack("{s:s, s:{s:{s:s}}}", "schema", "brink.result/1", "latency", "corrected", "hdr",
                  "HISTFAAAAbad");
    html = render(&d, 1);
    assert_int_equal(unit_count(html, "<svg"), 0);
    free(html);
    json_decref(d);
    /* nulls and gaps in a timeline break the line instead of drawing NaN */
    json_t *tl = json_array();
    for (int t = 0; t < 6; t++)
        json_array_append_new(tl, json_pack("{s:i, s:o, s:o}", "t", t, "completed",
                                            t == 2 ? json_null() : json_integer(10), "p99_ms",
                                            t == 3 ? json_null() : json_real(1.5)));
    d = json_pack("{s:s, s:o}", "schema", "brink.result/1", "timeline", tl);
    html = render(&d, 1);
    assert_int_equal(unit_count(html, "chart-timeline\""), 1);
    no_bad_numbers(html);
    free(html);
    json_decref(d);
}

static void test_downsampled(void **state) {
    json_t *tl = json_array();
    int n = 20000;
    for (int t = 0; t < n; t++)
        json_array_append_new(tl, json_pack("{s:i, s:f, s:s, s:i, s:i, s:i, s:f}", "t", t,
                                            "length_s", 1.0, "phase", t < n / 2 ? "a" : "b",
                                            "offered", 500, "completed", 500, "errors", 0, "p99_ms",
                                            t == 12345 ? 999.0 : 2.0));
    json_t *d = json_pack("{s:s, s:o}", "schema", "brink.result/1", "timeline", tl);
    char *html = render(&d, 1);
    assert_int_equal(unit_count(html, "chart-timeline\""), 1);
    assert_true(strlen(html) < 400 * 1024);
    /* the series paths hold at most HTML_MAX_POINTS points each */
    const char *p = strstr(html, "class=\"series\"");
    assert_non_null(p);
    const char *end = strstr(p, "/>");
    int pts = 0;
    for (const char *q = p; q < end; q++)
        if (*q == 'L' || *q == 'M') pts++;
    assert_true(pts <= HTML_MAX_POINTS);
    assert_true(pts > HTML_MAX_POINTS / 2);
    /* the spike survives downsampling (worst p99): the right axis reaches 1000 */
    assert_non_null(strstr(html, ">1000</text>"));
    assert_non_null(strstr(html, "downsampled"));
    free(html);
    json_decref(d);
}

/* The labels of the percentile axis (u: how many nines) and of a value axis. */
static const char *pct(double u) {
    static char b[32];
    svg_pct_label(u, b, sizeof b);
    return b;
}

static const char *tick(double v) {
    static char b[32];
    svg_tick_label(v, b, sizeof b);
    return b;
}

static void test_svg_helpers(void **state) {
    assert_true(svg_nice_step(0, 100, 5) == 20);
    assert_true(svg_nice_step(0, 1, 5) == 0.2);
    assert_true(fabs(svg_nice_step(0, 0.07, 5) - 0.01) < 1e-12);
    assert_true(svg_nice_step(0, 7300, 5) == 1000);
    double lo = 3, hi = 97;
    svg_axis_nice(&lo, &hi, true);
    assert_true(lo == 0 && hi == 100);
    lo = 5.2;
    hi = 11.35;
    svg_axis_nice(&lo, &hi, false);
    assert_true(lo == 5 && hi == 12);
    lo = 4;
    hi = 4; /* one value */
    svg_axis_nice(&lo, &hi, false);
    assert_true(hi > lo);
    lo = NAN;
    hi = 1;
    svg_axis_nice(&lo, &hi, true);
    assert_true(lo == 0 && hi == 1);
    assert_string_equal(pct(0), "0%");
    assert_string_equal(pct(1), "90%");
    assert_string_equal(pct(2), "99%");
    assert_string_equal(pct(3), "99.9%");
    assert_string_equal(pct(5), "99.999%");
    assert_string_equal(tick(0.30000000000000004), "0.3");
    assert_string_equal(tick(25000), "25k");
    assert_string_equal(tick(1e-17), "0");
    assert_string_equal(tick(2500), "2500");
}

UNIT_MAIN(test_hostile_escaped, test_fixtures_charts, test_missing_data, test_downsampled,
          test_svg_helpers)
