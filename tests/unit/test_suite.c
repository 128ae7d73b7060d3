/* test_suite.c — brink suite's decisions without processes: the profile table (quick is what the
 * demo ran, full and stress have every test, the time bounds the table promises), --only and
 * --skip, each test's command line, the verdict of a test from its exit status and document
 * (the worse of the two wins), the overall verdict and exit status, the summary document, the
 * stand-in document of a test that left none (JUnit shows it failed), and the terminal table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/junit.h"
#include "suite/suite.h"
#include "unit.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static const suite_entry *entry(const suite_profile *p, const char *test) {
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->entries[i].test, test)) return &p->entries[i];
    return NULL;
}

/* "webhook light" from an entry's args */
static void joined(const suite_entry *e, char *out, size_t n) {
    out[0] = '\0';
    for (int i = 0; e->args[i]; i++) {
        if (i) strncat(out, " ", n - strlen(out) - 1);
        strncat(out, e->args[i], n - strlen(out) - 1);
    }
}

/* A result document with one threshold per status given ("green", "red", ...), stats and advice. */
static json_t *doc_with(const char *test, const char *const *statuses, int n) {
    json_t *doc = json_pack("{s:s, s:s, s:{s:f, s:f, s:f, s:i}, s:[], s:[]}", "schema",
                            "brink.result/1", "test", test, "stats", "rps", 100.1, "p99_ms", 4.323,
                            "error_rate", 0.0, "requests", 1000, "thresholds", "advice");
    for (int i = 0; i < n; i++) {
        json_array_append_new(json_object_get(doc, "thresholds"),
                              json_pack("{s:s, s:s}", "metric", "p99_ms", "status", statuses[i]));
        if (!strcmp(statuses[i], "red") || !strcmp(statuses[i], "orange"))
            json_array_append_new(json_object_get(doc, "advice"),
                                  json_pack("{s:s, s:s, s:s, s:s}", "metric", "p99_ms", "status",
                                            statuses[i], "evidence", "p99 812 ms at 500/s",
                                            "remedy", "add workers"));
    }
    return doc;
}

static suite_result judged(const char *test, int code, suite_stop stop, const json_t *doc) {
    suite_result r;
    memset(&r, 0, sizeof r);
    r.test = test;
    suite_judge(&r, code, stop, 180, doc, NULL);
    return r;
}

/* ---- the profile table ----------------------------------------------------------------------- */

static void test_profiles(void **state) {
    int n;
    const suite_profile *ps = suite_profiles(&n);
    assert_int_equal(n, 3);
    assert_ptr_equal(suite_profile_find("quick"), &ps[0]);
    assert_ptr_equal(suite_profile_find("full"), &ps[1]);
    assert_ptr_equal(suite_profile_find("stress"), &ps[2]);
    assert_null(suite_profile_find("Quick"));
    assert_null(suite_profile_find(""));

    /* quick is what the former scripts/demo ran, in that order */
    const suite_profile *q = suite_profile_find("quick");
    static const char *const demo[] = {
        "webhook light",
        "race light",
        "redis-failure down --baseline 3s --fault 5s --recovery 8s --drain-timeout 15s",
        "db-restart crash --baseline 3s --fault 5s --recovery 13s --drain-timeout 15s",
    };
    assert_int_equal(q->n, 4);
    for (int i = 0; i < 4; i++) {
        char buf[256];
        joined(&q->entries[i], buf, sizeof buf);
        assert_string_equal(buf, demo[i]);
    }

    /* full and stress run all five tests; every mode of the fault tests */
    static const char *const five[] = {"webhook", "capacity", "race", "redis-failure",
                                       "db-restart"};
    for (int p = 1; p < 3; p++) {
        assert_int_equal(ps[p].n, 5);
        for (int i = 0; i < 5; i++) assert_non_null(entry(&ps[p], five[i]));
        assert_string_equal(entry(&ps[p], "redis-failure")->args[1], "all");
        assert_string_equal(entry(&ps[p], "db-restart")->args[1], "all");
        /* the capacity search is bounded in time */
        const suite_entry *cap = entry(&ps[p], "capacity");
        assert_string_equal(cap->args[1], "--max-time");
    }
    assert_string_equal(entry(&ps[1], "webhook")->args[1], "moderate");
    assert_string_equal(entry(&ps[2], "race")->args[1], "stress");

    /* every row: a known test, run by the command of that name, with a bound above its estimate;
     * and the profiles' promises: quick under 2 minutes, full under 10 */
    for (int p = 0; p < n; p++) {
        int total = 0;
        for (int i = 0; i < ps[p].n; i++) {
            const suite_entry *e = &ps[p].entries[i];
            assert_true(suite_test_known(e->test));
            assert_string_equal(e->args[0], e->test);
            assert_true(e->expect_s > 0 && e->limit_s >= 2 * e->expect_s);
            assert_null(e->args[SUITE_MAX_ARGS - 1]);
            total += e->expect_s;
        }
        if (!strcmp(ps[p].name, "quick")) assert_true(total < 120);
        if (!strcmp(ps[p].name, "full")) assert_true(total < 600);
    }
    assert_false(suite_test_known("load"));
    assert_false(suite_test_known("redis"));
}

/* ---- selection ------------------------------------------------------------------------------- */

static void test_select(void **state) {
    const suite_profile *q = suite_profile_find("quick"), *f = suite_profile_find("full");
    bool sel[SUITE_MAX_TESTS];
    char err[256];
    assert_int_equal(suite_select(q, NULL, NULL, sel, err, sizeof err), 0);
    for (int i = 0; i < q->n; i++) assert_true(sel[i]);

    assert_int_equal(suite_select(q, "db-restart,race", NULL, sel, err, sizeof err), 0);
    assert_false(
        sel[0]); /* the profile's order is kept: webhook, race, redis-failure, db-restart */
    assert_true(sel[1]);
    assert_false(sel[2]);
    assert_true(sel[3]);

    assert_int_equal(suite_select(f, NULL, "capacity,webhook", sel, err, sizeof err), 0);
    assert_false(sel[0]);
    assert_false(sel[1]);
    assert_true(sel[2] && sel[3] && sel[4]);

    /* --skip of a test the profile lacks is harmless; --only of one is a mistake */
    assert_int_equal(suite_select(q, NULL, "capacity", sel, err, sizeof err), 0);
    assert_int_equal(suite_select(q, "capacity", NULL, sel, err, sizeof err), -1);
    assert_non_null(strstr(err, "quick profile has no capacity"));

    assert_int_equal(suite_select(q, "race,bogus", NULL, sel, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown test 'bogus'"));
    assert_int_equal(suite_select(q, NULL, "webhook,,race", sel, err, sizeof err), -1);
    assert_int_equal(suite_select(q, "", NULL, sel, err, sizeof err), -1);
    assert_int_equal(suite_select(q, "race,", NULL, sel, err, sizeof err), -1);
    assert_int_equal(
        suite_select(q, NULL, "webhook,race,redis-failure,db-restart", sel, err, sizeof err), -1);
    assert_non_null(strstr(err, "no test to run"));
    assert_int_equal(suite_select(q, "race", "race", sel, err, sizeof err), -1);
}

/* ---- the child's command line ---------------------------------------------------------------- */

static void test_argv(void **state) {
    const suite_entry *e = entry(suite_profile_find("quick"), "redis-failure");
    suite_opts none = {0};
    char **a = suite_argv(e, "/usr/bin/brink", &none, "out/x/redis-failure.json");
    assert_non_null(a);
    static const char *const want[] = {"/usr/bin/brink",
                                       "redis-failure",
                                       "down",
                                       "--baseline",
                                       "3s",
                                       "--fault",
                                       "5s",
                                       "--recovery",
                                       "8s",
                                       "--drain-timeout",
                                       "15s",
                                       "--json",
                                       "out/x/redis-failure.json"};
    int n = (int)(sizeof want / sizeof want[0]);
    for (int i = 0; i < n; i++) assert_string_equal(a[i], want[i]);
    assert_null(a[n]);
    free(a);

    suite_opts all = {.stack_profile = "untuned", .config = "my brink.yaml", .quiet = true};
    a = suite_argv(entry(suite_profile_find("quick"), "webhook"), "/proc/self/exe", &all, "w.json");
    static const char *const want2[] = {
        "/proc/self/exe", "webhook", "light",  "--stack-profile", "untuned", "-f",
        "my brink.yaml",  "-q",      "--json", "w.json"};
    n = (int)(sizeof want2 / sizeof want2[0]);
    for (int i = 0; i < n; i++) assert_string_equal(a[i], want2[i]);
    assert_null(a[n]);
    free(a);
}

/* ---- verdicts -------------------------------------------------------------------------------- */

static void test_judge(void **state) {
    static const char *const g[] = {"green", "green", "skipped"};
    static const char *const o[] = {"green", "orange"};
    static const char *const r[] = {"orange", "red", "green"};
    json_t *green = doc_with("webhook", g, 3), *orange = doc_with("webhook", o, 2),
           *red = doc_with("webhook", r, 3);

    suite_result x = judged("webhook", 0, SUITE_RAN, green);
    assert_int_equal(x.status, SUITE_GREEN);
    assert_int_equal(x.counts[0], 2);
    assert_int_equal(x.counts[3], 1);
    assert_string_equal(x.error, "");
    /* the key numbers only, copied */
    assert_int_equal(json_object_size(x.stats), 3);
    assert_true(json_object_get(x.stats, "p99_ms") != NULL);
    assert_null(json_object_get(x.stats, "requests"));
    suite_result_free(&x);

    /* the witnesses (exit code, document) and what the suite makes of them */
    enum { NO_DOC, GREEN, ORANGE, RED };
    const json_t *docs[] = {[NO_DOC] = NULL, [GREEN] = green, [ORANGE] = orange, [RED] = red};
    static const struct {
        const char *name;
        int code;
        suite_stop stop;
        int doc;
        suite_status status;
        const char *error; /* a part of the error; NULL: not checked */
    } cases[] = {
        {"orange", 0, SUITE_RAN, ORANGE, SUITE_ORANGE, NULL},
        {"red", 99, SUITE_RAN, RED, SUITE_RED, NULL},
        /* the witnesses disagree: the worse wins */
        {"red document, exit 0", 0, SUITE_RAN, RED, SUITE_RED, NULL},
        {"green document, exit 99", 99, SUITE_RAN, GREEN, SUITE_RED, NULL},
        /* could not run */
        {"exit 3", 3, SUITE_RAN, NO_DOC, SUITE_ERROR, "exit status 3: the stack or the target"},
        {"exit 2", 2, SUITE_RAN, NO_DOC, SUITE_ERROR, "bad usage or configuration"},
        {"signal 11", 128 + 11, SUITE_RAN, NO_DOC, SUITE_ERROR, "signal 11"},
        {"exit 0 but no document", 0, SUITE_RAN, NO_DOC, SUITE_ERROR,
         "no readable result document"},
        {"not started", -1, SUITE_NOSTART, NO_DOC, SUITE_ERROR, "could not be started"},
        /* interrupted: by the suite, or on its own; a test that finished despite the signal
         * counts */
        {"signalled, partial", 130, SUITE_SIGNAL, GREEN, SUITE_INTERRUPTED, "partial result"},
        {"exit 130", 130, SUITE_RAN, NO_DOC, SUITE_INTERRUPTED, NULL},
        {"signal 9 from the suite", 128 + 9, SUITE_SIGNAL, NO_DOC, SUITE_INTERRUPTED, NULL},
        {"finished despite the signal", 0, SUITE_SIGNAL, GREEN, SUITE_GREEN, NULL},
        /* past the entry's bound: an error, even though the test says "interrupted" */
        {"past the bound", 130, SUITE_LIMIT, GREEN, SUITE_ERROR, "bound of 180 s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("# judge: %s\n", cases[i].name);
        x = judged("webhook", cases[i].code, cases[i].stop, docs[cases[i].doc]);
        assert_int_equal(x.status, cases[i].status);
        if (cases[i].error) assert_non_null(strstr(x.error, cases[i].error));
        if (cases[i].doc == RED) assert_int_equal(x.counts[2], 1);
        suite_result_free(&x);
    }

    json_decref(green);
    json_decref(orange);
    json_decref(red);
}

static suite_result with(suite_status s, int code) {
    suite_result r;
    memset(&r, 0, sizeof r);
    r.test = "race";
    r.status = s;
    r.exit_code = code;
    return r;
}

/* The overall verdict of the first n results; checks its exit code (and its status unless -1). */
static suite_overall overall(const suite_result *rs, int n, bool interrupted, int status,
                             int code) {
    suite_overall o;
    suite_overall_of(rs, n, interrupted, &o);
    if ((status >= 0 && (int)o.status != status) || o.exit_code != code)
        fail_msg("overall of %d results%s: status %d exit %d, want status %d exit %d", n,
                 interrupted ? " (interrupted)" : "", (int)o.status, o.exit_code, status, code);
    return o;
}

static void test_overall(void **state) {
    suite_result rs[4];
    rs[0] = with(SUITE_GREEN, 0);
    rs[1] = with(SUITE_GREEN, 0);
    assert_int_equal(overall(rs, 2, false, SUITE_GREEN, 0).n[SUITE_GREEN], 2);

    rs[1] = with(SUITE_ORANGE, 0);
    overall(rs, 2, false, SUITE_ORANGE, 0); /* orange never fails a run */

    rs[2] = with(SUITE_RED, 99);
    overall(rs, 3, false, SUITE_RED, 99);

    rs[3] = with(SUITE_ERROR, 3);
    overall(rs, 4, false, SUITE_ERROR, 3); /* a test that could not run outweighs a red one */
    rs[2] = with(SUITE_ERROR, 2);
    overall(rs, 4, false, -1, 2);
    rs[2] = with(SUITE_ERROR, 139);
    rs[3] = with(SUITE_ERROR, 1);
    assert_int_equal(overall(rs, 4, false, -1, 1).n[SUITE_ERROR], 2);

    rs[3] = with(SUITE_INTERRUPTED, 130);
    overall(rs, 4, false, SUITE_INTERRUPTED, 130);
    /* the suite interrupted between two tests: every test done was green */
    rs[0] = with(SUITE_GREEN, 0);
    overall(rs, 1, true, SUITE_INTERRUPTED, 130);
    overall(rs, 0, true, -1, 130);

    assert_string_equal(suite_status_name(SUITE_GREEN), "green");
    assert_string_equal(suite_status_name(SUITE_ORANGE), "orange");
    assert_string_equal(suite_status_name(SUITE_RED), "red");
    assert_string_equal(suite_status_name(SUITE_ERROR), "error");
    assert_string_equal(suite_status_name(SUITE_INTERRUPTED), "interrupted");
}

/* ---- the summary ----------------------------------------------------------------------------- */

static void make_results(suite_result rs[3], json_t **red_doc) {
    static const char *const g[] = {"green", "green"};
    static const char *const r[] = {"red", "orange", "green", "skipped"};
    json_t *green = doc_with("webhook", g, 2);
    *red_doc = doc_with("race", r, 4);
    rs[0] = judged("webhook", 0, SUITE_RAN, green);
    rs[0].args = json_pack("[s, s]", "webhook", "light");
    snprintf(rs[0].file, sizeof rs[0].file, "webhook.json");
    rs[0].duration_s = 11.25;
    rs[1] = judged("race", 99, SUITE_RAN, *red_doc);
    snprintf(rs[1].file, sizeof rs[1].file, "race.json");
    rs[2] = judged("db-restart", 3, SUITE_RAN, NULL);
    json_decref(green);
}

static void test_summary_json(void **state) {
    suite_result rs[3];
    json_t *red_doc;
    make_results(rs, &red_doc);
    const char *planned[] = {"webhook", "race", "db-restart"};
    suite_run run = {"quick",
                     "tuned",
                     NULL,
                     "performance-results/20261127T081536Z",
                     1795763809000000000LL,
                     52.25,
                     planned,
                     3,
                     false};
    json_t *s = suite_summary_json(&run, rs, 3);
    assert_string_equal(json_string_value(json_object_get(s, "schema")), "brink.summary/1");
    assert_string_equal(json_string_value(json_object_get(s, "profile")), "quick");
    assert_string_equal(json_string_value(json_object_get(s, "stack_profile")), "tuned");
    assert_true(json_is_null(json_object_get(s, "config_file")));
    assert_non_null(strstr(json_string_value(json_object_get(s, "started_at")), "Z"));
    assert_true(fabs(json_number_value(json_object_get(s, "duration_s")) - 52.25) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(s, "planned")), 3);
    json_t *tests = json_object_get(s, "tests");
    assert_int_equal(json_array_size(tests), 3);
    json_t *t0 = json_array_get(tests, 0), *t1 = json_array_get(tests, 1),
           *t2 = json_array_get(tests, 2);
    assert_string_equal(json_string_value(json_object_get(t0, "test")), "webhook");
    assert_string_equal(json_string_value(json_array_get(json_object_get(t0, "args"), 1)), "light");
    assert_string_equal(json_string_value(json_object_get(t0, "file")), "webhook.json");
    assert_string_equal(json_string_value(json_object_get(t0, "status")), "green");
    assert_int_equal(json_integer_value(json_object_get(t0, "exit_code")), 0);
    assert_true(json_is_null(json_object_get(t0, "error")));
    assert_true(json_number_value(json_object_get(json_object_get(t0, "stats"), "rps")) > 100);
    assert_string_equal(json_string_value(json_object_get(t1, "status")), "red");
    json_t *c1 = json_object_get(t1, "thresholds");
    assert_int_equal(json_integer_value(json_object_get(c1, "red")), 1);
    assert_int_equal(json_integer_value(json_object_get(c1, "orange")), 1);
    assert_int_equal(json_integer_value(json_object_get(c1, "green")), 1);
    assert_int_equal(json_integer_value(json_object_get(c1, "skipped")), 1);
    assert_string_equal(json_string_value(json_object_get(t2, "status")), "error");
    assert_true(json_is_null(json_object_get(t2, "file")));
    assert_true(json_is_array(json_object_get(t2, "args")));
    assert_non_null(strstr(json_string_value(json_object_get(t2, "error")), "exit status 3"));
    /* totals, counts by status, the overall verdict */
    json_t *th = json_object_get(s, "thresholds");
    assert_int_equal(json_integer_value(json_object_get(th, "green")), 3);
    assert_int_equal(json_integer_value(json_object_get(th, "red")), 1);
    json_t *counts = json_object_get(s, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "green")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "red")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "error")), 1);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "error");
    assert_int_equal(json_integer_value(json_object_get(s, "exit_code")), 3);
    assert_false(json_is_true(json_object_get(s, "interrupted")));
    json_decref(s);

    run.interrupted = true;
    s = suite_summary_json(&run, rs, 2);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "interrupted");
    assert_int_equal(json_integer_value(json_object_get(s, "exit_code")), 130);
    assert_int_equal(json_array_size(json_object_get(s, "tests")), 2);
    assert_int_equal(json_array_size(json_object_get(s, "planned")), 3);
    json_decref(s);
    for (int i = 0; i < 3; i++) suite_result_free(&rs[i]);
    json_decref(red_doc);
}

static void test_placeholder(void **state) {
    suite_result r = judged("db-restart", 3, SUITE_RAN, NULL);
    r.duration_s = 2.5;
    json_t *doc = suite_placeholder_doc(&r, "quick", "2026-11-27T08:15:36.000Z");
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "brink.result/1");
    assert_string_equal(json_string_value(json_object_get(doc, "test")), "db-restart");
    json_t *th = json_array_get(json_object_get(doc, "thresholds"), 0);
    assert_string_equal(json_string_value(json_object_get(th, "metric")), "exit_status");
    assert_string_equal(json_string_value(json_object_get(th, "status")), "red");
    assert_int_equal(json_integer_value(json_object_get(th, "value")), 3);
    /* JUnit shows it as a failed case with the reason */
    junit_counts c;
    junit_count(doc, &c);
    assert_int_equal(c.tests, 1);
    assert_int_equal(c.failures, 1);
    char buf[8192] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    json_t *docs[] = {doc};
    assert_int_equal(junit_write(f, docs, 1, NULL, 0), 0);
    fclose(f);
    assert_non_null(strstr(buf, "<failure"));
    assert_non_null(strstr(buf, "brink db-restart left no result document: exit status 3"));
    json_decref(doc);
    suite_result_free(&r);
}

/* ---- the terminal ---------------------------------------------------------------------------- */

/* The key numbers of r as a result of test with these stats (r takes them). */
static void key_numbers(suite_result *r, const char *test, json_t *stats, char *buf, size_t n) {
    json_decref(r->stats);
    r->test = test;
    r->stats = stats;
    suite_key_numbers(r, buf, n);
}

/* A redis-failure result's stats: a quarter of errors, never recovered, 2 duplicates. */
static json_t *redis_stats(int max_backlog) {
    return json_pack("{s:f, s:n, s:i, s:i, s:i}", "outage_error_rate", 0.25, "recovery_s",
                     "max_backlog", max_backlog, "lost", 0, "duplicated", 2);
}

static void test_key_numbers(void **state) {
    suite_result r;
    memset(&r, 0, sizeof r);
    char buf[256];
    key_numbers(&r, "webhook",
                json_pack("{s:f, s:f, s:f}", "rps", 100.1, "p99_ms", 4.323, "error_rate", 0.0005),
                buf, sizeof buf);
    assert_string_equal(buf, "100.1 rps, p99 4.323 ms, errors 0.05%");
    key_numbers(&r, "redis-failure", redis_stats(1200), buf, sizeof buf);
    assert_string_equal(buf,
                        "outage errors 25%, recovery never, backlog 1200, lost 0, duplicated 2");
    key_numbers(&r, "capacity",
                json_pack("{s:f, s:f, s:f}", "max_sustainable_rps", 12800.0, "knee_rps", 400.0,
                          "knee_p99_ms", 3.471),
                buf, sizeof buf);
    assert_string_equal(buf, "max 12800 rps, knee 400 rps, knee p99 3.471 ms");
    key_numbers(&r, "redis-failure", redis_stats(12000), buf, sizeof buf);
    assert_non_null(strstr(buf, "backlog 12000, lost 0"));
    snprintf(r.error, sizeof r.error, "interrupted (partial result)");
    suite_key_numbers(&r, buf, sizeof buf);
    assert_non_null(strstr(buf, "duplicated 2; interrupted (partial result)"));
    json_decref(r.stats);
}

static void print_to(char *buf, size_t n, const suite_run *run, const suite_result *rs,
                     json_t *const *docs, int count, bool plain) {
    FILE *f = fmemopen(buf, n, "w");
    suite_print_summary(f, run, rs, docs, count, plain);
    fclose(f);
}

static void test_print(void **state) {
    suite_result rs[3];
    json_t *red_doc;
    make_results(rs, &red_doc);
    const char *planned[] = {"webhook", "race", "db-restart", "redis-failure"};
    suite_run run = {"quick", "untuned", NULL, "out/x", 0, 75.0, planned, 4, true};
    json_t *docs[3] = {NULL, red_doc, NULL};
    static char buf[16384];
    print_to(buf, sizeof buf, &run, rs, docs, 3, true);
    /* plain: words, not one emoji byte */
    assert_null(strchr(buf, 0xF0)); /* 🟢 🟠 🔴 */
    assert_null(strstr(buf, "❌"));
    assert_null(strstr(buf, "⛔"));
    assert_non_null(
        strstr(buf, "brink suite quick — 3 of 4 tests in 1m15s, stack profile untuned"));
    assert_non_null(strstr(buf, "  webhook        green"));
    assert_non_null(strstr(buf, "  race           red"));
    assert_non_null(strstr(buf, "  db-restart     error"));
    assert_non_null(strstr(buf, "  redis-failure  not run"));
    assert_non_null(strstr(buf, "  overall        interrupted"));
    assert_non_null(strstr(buf, "exit 130"));
    /* the advice: the red document's, and the test that could not run */
    assert_non_null(strstr(buf, "advice"));
    assert_non_null(strstr(buf, "red race p99_ms: p99 812 ms at 500/s"));
    assert_non_null(strstr(buf, "→ add workers"));
    assert_non_null(strstr(buf, "error db-restart: exit status 3"));

    print_to(buf, sizeof buf, &run, rs, docs, 3, false);
    assert_non_null(strstr(buf, "🟢 green"));
    assert_non_null(strstr(buf, "🔴 red"));
    assert_non_null(strstr(buf, "❌ error"));
    assert_non_null(strstr(buf, "🔴 race p99_ms"));

    run.interrupted = false;
    print_to(buf, sizeof buf, &run, rs, docs, 2, true);
    assert_non_null(strstr(buf, "1 red, 1 green — exit 99"));
    for (int i = 0; i < 3; i++) suite_result_free(&rs[i]);
    json_decref(red_doc);
}

UNIT_MAIN(test_profiles, test_select, test_argv, test_judge, test_overall, test_summary_json,
          test_placeholder, test_key_numbers, test_print)
