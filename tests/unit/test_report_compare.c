/* test_report_compare.c — `brink compare`'s logic: regressions in both directions, the
 * tolerance's edge, unknown metrics never flagged, directions from the document and from the
 * default table, pairing by test (and by file name when a test repeats), and the fixtures: a
 * slower run regresses, a run against itself does not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "report/compare.h"

#include "unit.h"

#define FIXTURES "tests/integration/fixtures/"

static const compare_row *row(const compare_pair *p, const char *metric) {
    for (int i = 0; i < p->nrows; i++)
        if (!strcmp(p->rows[i].metric, metric)) return &p->rows[i];
    return NULL;
}

static void test_regression_rule(void **state) {
    /* above: higher is worse */
    assert_false(compare_is_regression(COMPARE_ABOVE, 100, 110, 0.1)); /* at the edge: allowed */
    assert_true(compare_is_regression(COMPARE_ABOVE, 100, 110.01, 0.1));
    assert_false(compare_is_regression(COMPARE_ABOVE, 100, 50, 0.1)); /* improved */
    assert_true(compare_is_regression(COMPARE_ABOVE, 0, 1, 0.1));     /* 0 lost → 1 lost */
    assert_false(compare_is_regression(COMPARE_ABOVE, 0, 0, 0.1));
    /* below: lower is worse */
    assert_false(compare_is_regression(COMPARE_BELOW, 1000, 900, 0.1));
    assert_true(compare_is_regression(COMPARE_BELOW, 1000, 899, 0.1));
    assert_false(compare_is_regression(COMPARE_BELOW, 1000, 5000, 0.1));
    /* tolerance 0: any move the wrong way */
    assert_true(compare_is_regression(COMPARE_ABOVE, 100, 100.001, 0));
    assert_true(compare_is_regression(COMPARE_BELOW, 1, 0.999, 0));
    /* a large tolerance swallows a doubling */
    assert_false(compare_is_regression(COMPARE_ABOVE, 100, 200, 1.0));
    /* unknown direction and non-numbers never regress */
    assert_false(compare_is_regression(COMPARE_UNKNOWN, 1, 1e9, 0));
    assert_false(compare_is_regression(COMPARE_ABOVE, NAN, 5, 0.1));
    assert_false(compare_is_regression(COMPARE_ABOVE, 5, INFINITY, 0.1));
}

static void test_direction(void **state) {
    json_t *load_doc = json_pack("{s:s, s:[]}", "test", "load", "thresholds");
    assert_int_equal(compare_direction(load_doc, "p99_ms"), COMPARE_ABOVE);
    assert_int_equal(compare_direction(load_doc, "rps"), COMPARE_BELOW);
    assert_int_equal(compare_direction(load_doc, "error_rate"), COMPARE_ABOVE);
    assert_int_equal(compare_direction(load_doc, "bytes_read"), COMPARE_UNKNOWN);
    assert_int_equal(compare_direction(load_doc, "recovery_s"), COMPARE_ABOVE); /* redis, db */
    json_t *redis = json_pack("{s:s}", "test", "redis-failure");
    assert_int_equal(compare_direction(redis, "max_backlog"), COMPARE_ABOVE);
    assert_int_equal(compare_direction(redis, "service_cpu_pct"), COMPARE_ABOVE);
    /* the document's own direction wins over the table */
    json_t *custom = json_pack("{s:s, s:[{s:s, s:s}]}", "test", "load", "thresholds", "metric",
                               "p99_ms", "direction", "below");
    assert_int_equal(compare_direction(custom, "p99_ms"), COMPARE_BELOW);
    json_decref(load_doc);
    json_decref(redis);
    json_decref(custom);
}

static void test_fixture_regressed(void **state) {
    json_t *b = unit_load_json(FIXTURES "load.json"),
           *a = unit_load_json(FIXTURES "load-regressed.json");
    const char *bn = "load.json", *an = "load-regressed.json";
    compare_result r;
    char err[256];
    assert_int_equal(compare_sets(&b, &bn, 1, &a, &an, 1, 0.1, false, &r, err, sizeof err), 0);
    assert_int_equal(r.npairs, 1);
    assert_string_equal(r.pairs[0].key, "load");
    const compare_row *p99 = row(&r.pairs[0], "p99_ms");
    assert_non_null(p99);
    assert_int_equal(p99->dir, COMPARE_ABOVE);
    assert_true(p99->regression);
    assert_true(p99->ratio > 10);
    const compare_row *rps = row(&r.pairs[0], "rps");
    assert_non_null(rps);
    assert_false(rps->regression); /* same rate */
    const compare_row *br = row(&r.pairs[0], "bytes_read");
    assert_non_null(br);
    assert_int_equal(br->dir, COMPARE_UNKNOWN);
    assert_false(br->regression);
    const compare_row *off = row(&r.pairs[0], "offered_rps");
    assert_non_null(off);
    assert_true(off->ratio == 1.0);
    assert_false(off->regression);
    assert_null(row(&r.pairs[0], "interrupted")); /* booleans are not compared */
    assert_true(r.regressions >= 1);
    /* the other way round, p99 improved; nothing that has a direction got worse */
    compare_result back;
    assert_int_equal(compare_sets(&a, &an, 1, &b, &bn, 1, 0.1, false, &back, err, sizeof err), 0);
    assert_false(row(&back.pairs[0], "p99_ms")->regression);
    assert_int_equal(back.regressions, 0);
    json_t *j = compare_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "schema")), "brink.compare/1");
    assert_int_equal(json_integer_value(json_object_get(j, "regressions")), r.regressions);
    json_decref(j);
    compare_free(&r);
    compare_free(&back);
    json_decref(a);
    json_decref(b);
}

/* The regressions from b to a (one document each, named "b" and "a") at this tolerance. */
static int regressions(json_t *b, json_t *a, double tolerance) {
    const char *bn = "b", *an = "a";
    compare_result r;
    char err[256] = "";
    if (compare_sets(&b, &bn, 1, &a, &an, 1, tolerance, false, &r, err, sizeof err) != 0)
        fail_msg("compare: %s", err);
    int n = r.regressions;
    compare_free(&r);
    return n;
}

static void test_self_and_tolerance(void **state) {
    json_t *d = unit_load_json(FIXTURES "race-untuned.json");
    const char *n = "race-untuned.json";
    compare_result r;
    char err[256];
    assert_int_equal(compare_sets(&d, &n, 1, &d, &n, 1, 0, false, &r, err, sizeof err), 0);
    assert_int_equal(r.regressions, 0);
    assert_true(r.pairs[0].nrows > 10);
    compare_free(&r);
    /* a rate that shrank by 5%: a regression at 1%, not at 10% */
    json_t *b = json_pack("{s:s, s:{s:f}}", "test", "webhook", "stats", "rps", 1000.0);
    json_t *a = json_pack("{s:s, s:{s:f}}", "test", "webhook", "stats", "rps", 950.0);
    assert_int_equal(regressions(b, a, 0.01), 1);
    assert_int_equal(regressions(b, a, 0.1), 0);
    json_decref(a);
    json_decref(b);
    json_decref(d);
}

static void test_pairing(void **state) {
    json_t *race = unit_load_json(FIXTURES "race.json"), *ld = unit_load_json(FIXTURES "load.json");
    json_t *ld2 = unit_load_json(FIXTURES "load-regressed.json");
    char err[256];
    compare_result r;
    /* different tests: nothing to compare */
    const char *rn = "race.json", *ln = "load.json";
    assert_int_equal(compare_sets(&race, &rn, 1, &ld, &ln, 1, 0.1, false, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "race"));
    assert_non_null(strstr(err, "load"));
    /* sets: by test; the repeated test "load" pairs by file name */
    json_t *before[] = {race, ld, ld2}, *after[] = {ld2, race, ld};
    const char *bn[] = {"b/race.json", "b/x.json", "b/y.json"};
    const char *an[] = {"a/y.json", "a/race.json", "a/x.json"};
    assert_int_equal(compare_sets(before, bn, 3, after, an, 3, 0.1, false, &r, err, sizeof err), 0);
    assert_int_equal(r.npairs, 3);
    for (int i = 0; i < 3; i++) {
        const char *b = strrchr(r.pairs[i].before_name, '/'),
                   *a = strrchr(r.pairs[i].after_name, '/');
        assert_string_equal(b, a);
    }
    assert_int_equal(r.regressions, 0); /* each file met itself */
    compare_free(&r);
    /* one side without a partner is listed, not an error */
    assert_int_equal(
        compare_sets(before, bn, 2, after + 1, an + 1, 1, 0.1, false, &r, err, sizeof err), 0);
    assert_int_equal(r.npairs, 1);
    assert_int_equal(r.nonly_before, 1);
    compare_free(&r);
    json_decref(race);
    json_decref(ld);
    json_decref(ld2);
}

static void test_all_runs(void **state) {
    json_t *d = unit_load_json(FIXTURES "redis-failure-all.json");
    json_t *worse = json_deep_copy(d);
    json_t *run = json_array_get(json_object_get(worse, "runs"), 0);
    json_object_set_new(json_object_get(run, "stats"), "outage_p99_ms", json_real(5000));
    const char *n = "all.json";
    compare_result r;
    char err[256];
    assert_int_equal(compare_sets(&d, &n, 1, &worse, &n, 1, 0.1, false, &r, err, sizeof err), 0);
    assert_string_equal(r.pairs[0].key, "redis-failure/all");
    const compare_row *w = row(&r.pairs[0], "timeout/outage_p99_ms");
    assert_non_null(w);
    assert_true(w->regression);
    assert_int_equal(r.regressions, 1);
    compare_free(&r);
    json_decref(worse);
    json_decref(d);
}

/* Runs that differ in what they ran are refused with what differs, unless forced. */
static void test_comparable(void **state) {
    json_t *b = unit_load_json(FIXTURES "load.json");
    json_t *a = json_deep_copy(b);
    const char *bn = "before.json", *an = "after.json";
    char why[400], err[512];
    compare_differences(b, a, why, sizeof why);
    assert_string_equal(why, "");
    json_object_set_new(json_object_get(a, "stats"), "offered_rps", json_real(500));
    json_object_set_new(json_object_get(a, "stats"), "interrupted", json_true());
    json_object_set_new(b, "brink_version", json_string("0.1.0"));
    json_object_set_new(a, "brink_version", json_string("0.2.0"));
    compare_differences(b, a, why, sizeof why);
    assert_string_equal(why,
                        "offered rate 200/s vs 500/s; AFTER was interrupted; brink 0.1.0 vs 0.2.0");
    compare_result r;
    assert_int_equal(compare_sets(&b, &bn, 1, &a, &an, 1, 0.1, false, &r, err, sizeof err), -1);
    assert_string_equal(err, "before.json and after.json are not comparable runs of load: offered "
                             "rate 200/s vs 500/s; AFTER was interrupted; brink 0.1.0 vs 0.2.0 "
                             "(--force compares them anyway)");
    assert_int_equal(compare_sets(&b, &bn, 1, &a, &an, 1, 0.1, true, &r, err, sizeof err), 0);
    assert_string_equal(r.pairs[0].differs, why);
    json_t *j = compare_json(&r);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "tests"), 0), "not_comparable")),
                        why);
    json_decref(j);
    compare_free(&r);
    /* a closed-model run against an open one; another profile; another configured duration */
    json_decref(a);
    a = json_deep_copy(b);
    json_object_del(json_object_get(a, "stats"), "offered_rps");
    json_object_del(json_object_get(a, "config"), "rate");
    json_object_set_new(a, "profile", json_string("heavy"));
    json_object_set_new(json_object_get(a, "config"), "duration_s", json_real(60));
    compare_differences(b, a, why, sizeof why);
    assert_string_equal(why,
                        "profile none vs heavy; open model vs closed model; duration 4 s vs 60 s");
    /* an older document without a version compares with a newer one */
    json_decref(a);
    a = json_deep_copy(b);
    json_object_del(b, "brink_version");
    compare_differences(b, a, why, sizeof why);
    assert_string_equal(why, "");
    json_decref(a);
    json_decref(b);
}

UNIT_MAIN(test_regression_rule, test_direction, test_fixture_regressed, test_self_and_tolerance,
          test_pairing, test_all_runs, test_comparable)
