/* test_probe.c — the pure half of the probes: Prometheus text (selectors with labels, sums,
 * escapes, comments, special values, malformed lines), JSON paths (keys, indexes, [key=value]
 * matches, strings holding numbers, misses), the shared path syntax, numbers, probe specs from
 * JSON (what each kind needs, url_env, unknown keys) and the redaction of passwords. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "unit.h"

static const char PROM[] = "# HELP dispatchd_http_requests_total Requests by route and status.\n"
                           "# TYPE dispatchd_http_requests_total counter\n"
                           "dispatchd_http_requests_total{route=\"webhook\",status=\"202\"} 600\n"
                           "dispatchd_http_requests_total{route=\"webhook\",status=\"503\"} 12\n"
                           "dispatchd_http_requests_total{route=\"readyz\",status=\"200\"} 1\n"
                           "dispatchd_stream_length 42\n"
                           "dispatchd_stream_length_total 7\n"
                           "  dispatchd_inbox_depth   3.5e2   1700000000000\n"
                           "weird{path=\"a\\\"b\\\\c\",x=\"1\"} 9\n"
                           "gauge_nan NaN\n"
                           "gauge_inf +Inf\n"
                           "broken{route=\"x\" 5\n"
                           "last_line_without_newline 8";

static double prom(const char *sel, int *rc) {
    double v = -1;
    char err[256];
    *rc = probe_prom_value(PROM, strlen(PROM), sel, &v, err, sizeof err);
    return v;
}

static void test_prom_plain(void **state) {
    int rc;
    assert_true(prom("dispatchd_stream_length", &rc) == 42 && rc == 0);
    /* a name is matched whole: dispatchd_stream_length_total is another metric */
    assert_true(prom("dispatchd_stream_length_total", &rc) == 7 && rc == 0);
    assert_true(prom("dispatchd_inbox_depth", &rc) == 350 && rc == 0); /* blanks, timestamp */
    assert_true(prom("last_line_without_newline", &rc) == 8 && rc == 0);
    prom("no_such_metric", &rc);
    assert_int_equal(rc, -1);
}

static void test_prom_labels(void **state) {
    int rc;
    /* no labels: the sum of every sample of the metric */
    assert_true(prom("dispatchd_http_requests_total", &rc) == 613 && rc == 0);
    assert_true(prom("dispatchd_http_requests_total{route=\"webhook\"}", &rc) == 612 && rc == 0);
    assert_true(prom("dispatchd_http_requests_total{route=\"webhook\",status=\"503\"}", &rc) ==
                    12 &&
                rc == 0);
    assert_true(prom("dispatchd_http_requests_total{ status = \"200\" }", &rc) == 1 && rc == 0);
    prom("dispatchd_http_requests_total{route=\"accept\"}", &rc);
    assert_int_equal(rc, -1);
    /* escapes in label values */
    assert_true(prom("weird{path=\"a\\\"b\\\\c\"}", &rc) == 9 && rc == 0);
    /* the malformed line is skipped, not misread */
    prom("broken", &rc);
    assert_int_equal(rc, -1);
}

static void test_prom_special(void **state) {
    int rc;
    assert_true(isnan(prom("gauge_nan", &rc)) && rc == 0);
    assert_true(isinf(prom("gauge_inf", &rc)) && rc == 0);
    char err[256] = "";
    double v;
    assert_int_equal(probe_prom_value(PROM, strlen(PROM), "1bad", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "metric name"));
    assert_int_equal(probe_prom_value(PROM, strlen(PROM), "x{a=1}", &v, err, sizeof err), -1);
    assert_int_equal(probe_prom_value(PROM, strlen(PROM), "x{a=\"1\"} y", &v, err, sizeof err), -1);
    assert_int_equal(probe_prom_value("", 0, "x", &v, err, sizeof err), -1);
}

static double jv(const char *json, const char *path, int *rc) {
    double v = -1;
    char err[256];
    *rc = probe_json_value(json, strlen(json), path, &v, err, sizeof err);
    return v;
}

static void test_json_paths(void **state) {
    const char *doc = "{\"queue\":{\"depth\":12,\"name\":\"q\"},\"items\":[{\"id\":\"a\",\"n\":1},"
                      "{\"id\":\"b\",\"n\":2.5},{\"id\":7,\"n\":\"33\"}],\"ok\":true,\"z\":null}";
    int rc;
    assert_true(jv(doc, "queue.depth", &rc) == 12 && rc == 0);
    assert_true(jv(doc, ".queue.depth", &rc) == 12 && rc == 0);
    assert_true(jv(doc, "items[1].n", &rc) == 2.5 && rc == 0);
    assert_true(jv(doc, "items[id=b].n", &rc) == 2.5 && rc == 0);
    assert_true(jv(doc, "items[id=7].n", &rc) == 33 && rc == 0); /* number match, string value */
    assert_true(jv(doc, "ok", &rc) == 1 && rc == 0);
    assert_true(jv("5", ".", &rc) == 5 && rc == 0);
    assert_true(jv("[[1,2],[3,4]]", "[1][0]", &rc) == 3 && rc == 0);
    jv(doc, "queue.name", &rc); /* not a number */
    assert_int_equal(rc, -1);
    jv(doc, "z", &rc);
    assert_int_equal(rc, -1);
    jv(doc, "items[9].n", &rc);
    assert_int_equal(rc, -1);
    jv(doc, "items[id=c].n", &rc);
    assert_int_equal(rc, -1);
    jv(doc, "queue[0]", &rc);
    assert_int_equal(rc, -1);
    jv("{not json", "a", &rc);
    assert_int_equal(rc, -1);
}

static void test_path_syntax(void **state) {
    probe_path_seg s[PROBE_PATH_MAX];
    int n;
    char err[256];
    assert_int_equal(probe_path_parse("[name=dispatchd].lag", s, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].type, PROBE_SEG_MATCH);
    assert_string_equal(s[0].key, "name");
    assert_string_equal(s[0].value, "dispatchd");
    assert_int_equal(s[1].type, PROBE_SEG_KEY);
    assert_string_equal(s[1].key, "lag");
    assert_int_equal(probe_path_parse("[0]", s, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].type, PROBE_SEG_INDEX);
    assert_int_equal(s[0].index, 0);
    assert_int_equal(probe_path_parse("", s, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(probe_path_parse("a..b", s, &n, err, sizeof err), -1);
    assert_int_equal(probe_path_parse("a[x", s, &n, err, sizeof err), -1);
    assert_int_equal(probe_path_parse("a[-1]", s, &n, err, sizeof err), -1);
    assert_int_equal(probe_path_parse("[=v]", s, &n, err, sizeof err), -1);
    assert_int_equal(probe_path_parse("a]b", s, &n, err, sizeof err), 0); /* ']' is a key char */
    assert_int_equal(probe_path_parse("[0]x", s, &n, err, sizeof err), -1);
    assert_int_equal(probe_path_parse("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", s, &n, err, sizeof err),
                     -1);
}

static void test_numbers(void **state) {
    double v;
    assert_int_equal(probe_parse_number(" 12 ", 4, &v), 0);
    assert_true(v == 12);
    assert_int_equal(probe_parse_number("-1.5e3", 6, &v), 0);
    assert_true(v == -1500);
    assert_int_equal(probe_parse_number("-Inf", 4, &v), 0);
    assert_true(isinf(v) && v < 0);
    assert_int_equal(probe_parse_number("12abc", 5, &v), -1);
    assert_int_equal(probe_parse_number("", 0, &v), -1);
    assert_int_equal(probe_parse_number("   ", 3, &v), -1);
}

/* probe_spec_parse of an http probe with extra JSON members ("" or ",\"k\":v"). */
static int http_spec(const char *extra, probe_spec *s, char *err, size_t errlen) {
    char json[256];
    snprintf(json, sizeof json, "{\"kind\":\"http\",\"url\":\"http://h/m\",\"metric\":\"a\"%s}",
             extra);
    return probe_spec_parse(json, s, err, errlen);
}

static void test_spec(void **state) {
    probe_spec s;
    char err[256];
    assert_int_equal(probe_spec_parse("{\"kind\":\"redis\",\"url\":\"redis://127.0.0.1:6379\","
                                      "\"command\":\"XLEN s\",\"name\":\"len\"}",
                                      &s, err, sizeof err),
                     0);
    assert_int_equal(s.kind, PROBE_REDIS);
    assert_string_equal(s.name, "len");
    assert_int_equal(
        probe_spec_parse("{\"kind\":\"redis\",\"url\":\"redis://h\"}", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "command"));
    assert_int_equal(
        probe_spec_parse("{\"kind\":\"sql\",\"url\":\"postgresql://h/d\"}", &s, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "query"));
    assert_int_equal(
        probe_spec_parse("{\"kind\":\"http\",\"url\":\"http://h/m\"}", &s, err, sizeof err), -1);
    assert_int_equal(probe_spec_parse("{\"kind\":\"http\",\"url\":\"http://h/m\",\"metric\":\"a\","
                                      "\"path\":\"b\"}",
                                      &s, err, sizeof err),
                     -1);
    assert_int_equal(probe_spec_parse("{\"kind\":\"http\",\"url\":\"http://h/m\",\"metric\":\"a\","
                                      "\"timeout_ms\":250}",
                                      &s, err, sizeof err),
                     0);
    assert_true(s.timeout_ns == 250000000LL);
    assert_string_equal(s.name, "http");
    /* timeout: a duration, as in brink.yaml (timeout_ms above is the older spelling) */
    assert_int_equal(http_spec(",\"timeout\":\"1.5s\"", &s, err, sizeof err), 0);
    assert_true(s.timeout_ns == 1500000000LL);
    assert_int_equal(http_spec("", &s, err, sizeof err), 0);
    assert_true(s.timeout_ns == 0); /* probe_open: PROBE_TIMEOUT_DEFAULT_NS */
    assert_int_equal(http_spec(",\"timeout\":250", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"timeout\" must be a duration"));
    assert_int_equal(http_spec(",\"timeout\":\"0s\"", &s, err, sizeof err), -1);
    assert_int_equal(http_spec(",\"timeout\":\"1s\",\"timeout_ms\":1000", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "not both"));
    assert_int_equal(probe_spec_parse("{\"kind\":\"ftp\",\"url\":\"x\"}", &s, err, sizeof err), -1);
    /* a {placeholder} URL is left for the scenario to fill in; probe_open checks the result */
    assert_int_equal(probe_spec_parse("{\"kind\":\"http\",\"url\":\"{service_url}/metrics\","
                                      "\"metric\":\"a\"}",
                                      &s, err, sizeof err),
                     0);
    probe *p;
    assert_int_equal(probe_open(&s, &p, err, sizeof err), -1);
    assert_int_equal(
        probe_spec_parse("{\"kind\":\"sql\",\"url\":\"x\",\"query\":\"q\",\"bogus\":1}", &s, err,
                         sizeof err),
        -1);
    assert_non_null(strstr(err, "bogus"));
    assert_int_equal(probe_spec_parse("[1]", &s, err, sizeof err), -1);
    setenv("BRINK_TEST_PROBE_URL", "postgresql://u:secret@h/d", 1);
    assert_int_equal(probe_spec_parse("{\"kind\":\"sql\",\"url_env\":\"BRINK_TEST_PROBE_URL\","
                                      "\"query\":\"SELECT 1\"}",
                                      &s, err, sizeof err),
                     0);
    assert_string_equal(s.url, "postgresql://u:secret@h/d");
    char d[512];
    probe_describe(&s, d, sizeof d);
    assert_null(strstr(d, "secret"));
    assert_non_null(strstr(d, "postgresql://u:***@h/d"));
    assert_int_equal(probe_spec_parse("{\"kind\":\"sql\",\"url_env\":\"BRINK_NO_SUCH_VAR\","
                                      "\"query\":\"SELECT 1\"}",
                                      &s, err, sizeof err),
                     -1);
}

static void test_open_checks(void **state) {
    probe_spec s = {.kind = PROBE_REDIS};
    snprintf(s.url, sizeof s.url, "redis://127.0.0.1:99999");
    snprintf(s.command, sizeof s.command, "PING");
    probe *p;
    char err[256];
    assert_int_equal(probe_open(&s, &p, err, sizeof err), -1); /* bad port */
    snprintf(s.url, sizeof s.url, "redis://:pw@127.0.0.1:1/2");
    assert_int_equal(probe_open(&s, &p, err, sizeof err), 0);
    double v;
    assert_int_equal(probe_read(p, &v, err, sizeof err), -1); /* nothing listens on port 1 */
    assert_true(isnan(v));
    probe_close(p);
    probe_spec h = {.kind = PROBE_HTTP};
    snprintf(h.url, sizeof h.url, "http://127.0.0.1:1/metrics");
    snprintf(h.metric, sizeof h.metric, "x");
    assert_int_equal(probe_open(&h, &p, err, sizeof err), 0);
    assert_int_equal(probe_read(p, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "connect"));
    probe_close(p);
}

UNIT_MAIN(test_prom_plain, test_prom_labels, test_prom_special, test_json_paths, test_path_syntax,
          test_numbers, test_spec, test_open_checks)
