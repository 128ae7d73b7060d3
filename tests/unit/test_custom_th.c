/* test_custom_th.c — unit tests for src/verdict/custom_th.c (--threshold): the condition's
 * grammar and its refusals, the verdicts at and around each bound for every operator, an orange
 * bound, a metric the run lacks (skipped), unknown metrics refused with the list, and the
 * verdicts appended to a document's .thresholds and .advice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "verdict/custom_th.h"
#include "unit.h"

static void parse_ok(const char *s, custom_th *t) {
    char err[300];
    if (custom_th_parse(s, t, err, sizeof err) < 0) fail_msg("%s: %s", s, err);
}

static void test_parse(void **state) {
    custom_th t;
    parse_ok("p99_ms<500", &t);
    assert_string_equal(t.metric, "p99_ms");
    assert_int_equal(t.op, CT_LT);
    assert_true(t.red == 500 && !t.has_orange);
    parse_ok(" rps >= 450 orange >= 490 ", &t);
    assert_int_equal(t.op, CT_GE);
    assert_true(t.red == 450 && t.has_orange && t.orange == 490);
    assert_string_equal(t.what, "your threshold: rps>=450, orange unless rps>=490");
    parse_ok("error_rate<=1e-3", &t);
    assert_int_equal(t.op, CT_LE);
    assert_true(fabs(t.red - 0.001) < 1e-15);
    static const char *const bad[][2] = {
        {"", "want METRIC<VALUE"},
        {"p99_ms", "want METRIC<VALUE after the name"},
        {"p99_ms=5", "want METRIC<VALUE after the name"},
        {"p99_ms<abc", "want METRIC<VALUE after the name"},
        {"p99_ms<5 orange>1", "the same way as the condition"},
        {"p99_ms<5 orange<9", "must come before the red one"},
        {"rps>10 orange>5", "must come before the red one"},
        {"p99_ms<5 extra", "unexpected 'extra'"},
        {"p99_ms<5 orange", "want 'orange<VALUE'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[300] = "";
        assert_int_equal(custom_th_parse(bad[i][0], &t, err, sizeof err), -1);
        if (!strstr(err, bad[i][1])) fail_msg("%s: got '%s', want '%s'", bad[i][0], err, bad[i][1]);
    }
}

/* The status of "cond" for a document whose .stats.m is v. */
static th_status judged(const char *cond, double v) {
    custom_th_list l = {.n = 0};
    char err[300];
    if (custom_th_add(cond, &l, err, sizeof err) < 0) fail_msg("%s", err);
    json_t *doc = json_pack("{s:{s:f}}", "stats", "m", v);
    th_result r[1];
    int n = 0;
    custom_th_apply(&l, doc, r, &n, 1);
    assert_int_equal(n, 1);
    json_decref(doc);
    return r[0].status;
}

static void test_bounds(void **state) {
    assert_int_equal(judged("m<5", 4.9), TH_GREEN);
    assert_int_equal(judged("m<5", 5), TH_RED); /* the bound itself breaks a strict condition */
    assert_int_equal(judged("m<=5", 5), TH_GREEN);
    assert_int_equal(judged("m<=5", 5.1), TH_RED);
    assert_int_equal(judged("m>5", 5), TH_RED);
    assert_int_equal(judged("m>=5", 5), TH_GREEN);
    assert_int_equal(judged("m>=5", 4.99), TH_RED);
    assert_int_equal(judged("m<10 orange<5", 4), TH_GREEN);
    assert_int_equal(judged("m<10 orange<5", 5), TH_ORANGE);
    assert_int_equal(judged("m<10 orange<5", 10), TH_RED);
    assert_int_equal(judged("m>=100 orange>=200", 150), TH_ORANGE);
    assert_int_equal(judged("m>=100 orange>=200", 99), TH_RED);
}

static void test_apply(void **state) {
    custom_th_list l = {.n = 0};
    char err[300];
    assert_int_equal(custom_th_add("p99_ms<50", &l, err, sizeof err), 0);
    assert_int_equal(custom_th_add("rps>=100", &l, err, sizeof err), 0);
    assert_int_equal(custom_th_add("gone<1", &l, err, sizeof err), 0);
    json_t *doc = json_pack("{s:{s:f, s:f}, s:[{s:s}], s:[]}", "stats", "p99_ms", 12.5, "rps", 80.0,
                            "thresholds", "metric", "builtin", "advice");
    assert_int_equal(custom_th_apply(&l, doc, NULL, NULL, 0), TH_RED);
    json_t *th = json_object_get(doc, "thresholds");
    assert_int_equal(json_array_size(th), 4); /* the document's own verdict kept, three added */
    const char *want[][2] = {{"p99_ms", "green"}, {"rps", "red"}, {"gone", "skipped"}};
    for (int i = 0; i < 3; i++) {
        json_t *t = json_array_get(th, (size_t)i + 1);
        assert_string_equal(json_string_value(json_object_get(t, "metric")), want[i][0]);
        assert_string_equal(json_string_value(json_object_get(t, "status")), want[i][1]);
        assert_string_equal(json_string_value(json_object_get(t, "test")), "custom");
    }
    json_t *adv = json_object_get(doc, "advice");
    assert_int_equal(json_array_size(adv), 1); /* only what is not green */
    assert_string_equal(json_string_value(json_object_get(json_array_get(adv, 0), "metric")),
                        "rps");
    json_decref(doc);
    /* names checked before the run */
    const char *names[] = {"p99_ms", "rps"};
    assert_int_equal(custom_th_check(&l, names, 2, err, sizeof err), -1);
    assert_string_equal(err,
                        "--threshold 'gone<1': unknown metric 'gone' (this run has: p99_ms, rps)");
    l.n = 2;
    assert_int_equal(custom_th_check(&l, names, 2, err, sizeof err), 0);
    /* none given: green, nothing added */
    custom_th_list none = {.n = 0};
    json_t *d2 = json_pack("{s:{}}", "stats");
    assert_int_equal(custom_th_apply(&none, d2, NULL, NULL, 0), TH_GREEN);
    assert_null(json_object_get(d2, "thresholds"));
    json_decref(d2);
}

UNIT_MAIN(test_parse, test_bounds, test_apply)
