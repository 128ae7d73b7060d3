/* test_threshold.c — verdicts: both directions, the bounds themselves, the default table's
 * completeness (30+ metrics, each with a meaning and a remedy), JSON and advice shapes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "verdict/threshold.h"
#include "unit.h"

static void test_above(void **state) {
    th_def d = {"p99_ms", "webhook", "ms", TH_ABOVE, 250, 500, "", ""};
    assert_int_equal(threshold_eval(&d, 100), TH_GREEN);
    assert_int_equal(threshold_eval(&d, 250), TH_GREEN); /* at the bound: still within */
    assert_int_equal(threshold_eval(&d, 250.001), TH_ORANGE);
    assert_int_equal(threshold_eval(&d, 500), TH_ORANGE);
    assert_int_equal(threshold_eval(&d, 501), TH_RED);
    assert_int_equal(threshold_eval(&d, NAN), TH_SKIPPED);
}

static void test_below(void **state) {
    th_def d = {"win_rate", "race", "fraction", TH_BELOW, 1.0, 0.95, "", ""};
    assert_int_equal(threshold_eval(&d, 1.0), TH_GREEN);
    assert_int_equal(threshold_eval(&d, 0.99), TH_ORANGE);
    assert_int_equal(threshold_eval(&d, 0.95), TH_ORANGE);
    assert_int_equal(threshold_eval(&d, 0.94), TH_RED);
}

static void test_zero_tolerance(void **state) {
    th_result r;
    assert_int_equal(threshold_judge(&r, "race", "race_conditions", 0, NULL), 0);
    assert_int_equal(r.status, TH_GREEN);
    assert_int_equal(threshold_judge(&r, "race", "race_conditions", 1, "1 double win"), 0);
    assert_int_equal(r.status, TH_RED);
    assert_string_equal(r.evidence, "1 double win");
    assert_int_equal(threshold_judge(&r, "redis", "lost", 1, NULL), 0);
    assert_int_equal(r.status, TH_RED);
    assert_int_equal(threshold_judge(&r, "race", "no_such_metric", 1, NULL), -1);
}

static void test_table(void **state) {
    int n;
    const th_def *d = threshold_defaults(&n);
    assert_true(n >= 30);
    for (int i = 0; i < n; i++) {
        assert_non_null(d[i].metric);
        assert_true(strlen(d[i].what) > 10);
        assert_true(strlen(d[i].remedy) > 20);
        /* red is at least as strict as orange */
        if (d[i].dir == TH_ABOVE)
            assert_true(d[i].red >= d[i].orange);
        else
            assert_true(d[i].red <= d[i].orange);
        /* (test, metric) is unique */
        for (int j = i + 1; j < n; j++)
            assert_false(!strcmp(d[i].test, d[j].test) && !strcmp(d[i].metric, d[j].metric));
    }
    /* the original suite's targets are the red bounds */
    assert_true(threshold_find("webhook", "rps")->red == 500);
    assert_true(threshold_find("webhook", "p99_ms")->red == 500);
    assert_true(threshold_find("webhook", "error_rate")->red == 0.001);
    assert_true(threshold_find("db", "recovery_s")->orange == 10);
    assert_true(threshold_find("redis", "outage_error_rate")->orange == 0.01);
}

static void test_json(void **state) {
    th_result r[3];
    threshold_judge(&r[0], "webhook", "p99_ms", 12.5, "p99 12.5 ms");
    threshold_judge(&r[1], "webhook", "error_rate", 0.01, "1% failed");
    threshold_judge(&r[2], "webhook", "rps", NAN, NULL);
    assert_int_equal(threshold_worst(r, 3), TH_RED);
    json_t *t = threshold_json(r, 3);
    assert_int_equal(json_array_size(t), 3);
    json_t *e = json_array_get(t, 1);
    assert_string_equal(json_string_value(json_object_get(e, "status")), "red");
    assert_string_equal(json_string_value(json_object_get(e, "metric")), "error_rate");
    assert_true(json_is_null(json_object_get(json_array_get(t, 2), "value")));
    json_decref(t);
    json_t *a = threshold_advice_json(r, 3);
    assert_int_equal(json_array_size(a), 1); /* only the non-green ones */
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "evidence")),
                        "1% failed");
    json_decref(a);
    char buf[4096] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    threshold_print(f, r, 3);
    fclose(f);
    assert_non_null(strstr(buf, "🔴 error_rate"));
    assert_non_null(strstr(buf, "🟢 p99_ms"));
    assert_non_null(strstr(buf, "advice"));
}

/* webhook's rps at a fixed offered rate: below the table's bounds, 99 % / 97 % of the offered
 * rate; above them, the table's; the user's bounds stand; a rate of 0 changes nothing. */
static void test_rps_vs_offered(void **state) {
    th_result r;
    static const struct {
        double offered, achieved;
        th_status want;
    } cases[] = {
        {100, 100, TH_GREEN},   {100, 99, TH_GREEN},    {100, 98.9, TH_ORANGE},
        {100, 97, TH_ORANGE},   {100, 96.9, TH_RED},    {100, 0, TH_RED},
        {2000, 1500, TH_GREEN}, {2000, 900, TH_ORANGE}, /* the table's 1000 / 500, not 99 % */
        {2000, 400, TH_RED},    {1010, 1000, TH_GREEN}, /* 99 % of 1010 is below 1000 */
        {1010, 999, TH_ORANGE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(threshold_judge(&r, "webhook", "rps", cases[i].achieved, ""), 0);
        threshold_rps_vs_offered(&r, cases[i].offered);
        if (r.status != cases[i].want)
            fail_msg("case %zu: %.1f of %.1f: %s", i, cases[i].achieved, cases[i].offered,
                     threshold_status_name(r.status));
        assert_true(r.def.orange <= 1000 && r.def.red <= 500); /* never raised */
    }
    threshold_judge(&r, "webhook", "rps", 98, "");
    threshold_rps_vs_offered(&r, 100);
    assert_true(fabs(r.def.orange - 99) < 1e-9 && fabs(r.def.red - 97) < 1e-9);
    /* no offered rate (a closed model): the table's bounds */
    threshold_judge(&r, "webhook", "rps", 98, "");
    threshold_rps_vs_offered(&r, 0);
    assert_true(r.def.orange == 1000 && r.def.red == 500);
    assert_int_equal(r.status, TH_RED);
    /* the user's bounds (brink.yaml) stand as given */
    char err[160];
    assert_int_equal(threshold_override("webhook.rps", 50, 20, err, sizeof err), 0);
    threshold_judge(&r, "webhook", "rps", 60, "");
    assert_true(r.overridden);
    threshold_rps_vs_offered(&r, 100);
    assert_true(r.def.orange == 50 && r.def.red == 20);
    assert_int_equal(r.status, TH_GREEN);
    threshold_judge(&r, "webhook", "rps", 30, "");
    threshold_rps_vs_offered(&r, 100);
    assert_int_equal(r.status, TH_ORANGE);
    threshold_overrides_clear();

    char ev[128];
    threshold_rps_evidence(ev, sizeof ev, 97, 100);
    assert_string_equal(ev, "achieved 97.0/s of 100.0/s offered (97.0%)");
    threshold_rps_evidence(ev, sizeof ev, 1234.56, 2000);
    assert_string_equal(ev, "achieved 1234.6/s of 2000.0/s offered (61.7%)");
    threshold_rps_evidence(ev, sizeof ev, 5, 0);
    assert_string_equal(ev, "achieved 5.0/s of 0.0/s offered (0.0%)");
}

UNIT_MAIN(test_above, test_below, test_zero_tolerance, test_table, test_json, test_rps_vs_offered)
