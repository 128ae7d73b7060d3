/* test_remedy.c — the service's metrics as evidence for the verdicts (verdict/remedy.c) on canned
 * Prometheus pages: which series each verdict shows, counters by their change and gauges by their
 * values (only those that moved), the remedies that name dispatchd's knobs when its command line
 * is known (and stay quiet or generic when it is not), nothing at all without a page, the
 * evidence's bounds and the advice JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe_metrics.h"
#include "verdict/remedy.h"

#include "metrics_pages.h"
#include "unit.h"

static char *const UNTUNED_QUEUE[] = {"/opt/brink/bin/dispatchd",
                                      "--listen",
                                      "127.0.0.1:1",
                                      "--secret-file",
                                      "/tmp/s",
                                      "--untuned",
                                      "--ingest",
                                      "queue",
                                      NULL};
static char *const UNTUNED[] = {"dispatchd", "--untuned", NULL};
static char *const TUNED[] = {"/opt/brink/bin/dispatchd", "--listen", "127.0.0.1:1", NULL};

static void scraped(probe_metrics *m) {
    probe_metrics_parse(m, PROBE_METRICS_START, PAGE_START, strlen(PAGE_START));
    probe_metrics_parse(m, PROBE_METRICS_FAULT_END, PAGE_FAULT, strlen(PAGE_FAULT));
    probe_metrics_parse(m, PROBE_METRICS_END, PAGE_END, strlen(PAGE_END));
}

/* A page at the start and one at the end, of dispatchd started with argv (NULL: not known). */
static void two_pages(probe_metrics *m, char *const *argv, const char *start, const char *end) {
    probe_metrics_init(m, "x");
    if (argv) probe_metrics_set_dispatchd(m, argv);
    probe_metrics_parse(m, PROBE_METRICS_START, start, strlen(start));
    probe_metrics_parse(m, PROBE_METRICS_END, end, strlen(end));
}

/* One verdict (test, metric, value, evidence), annotated from m's pages. */
static void judge(const probe_metrics *m, th_result *r, const char *test, const char *metric,
                  double value, const char *evidence) {
    threshold_judge(r, test, metric, value, evidence);
    remedy_annotate(m, r, 1);
}

static const th_service_metric *find_series(const th_result *r, const char *series) {
    for (int i = 0; i < r->nservice; i++)
        if (!strcmp(r->service[i].series, series)) return &r->service[i];
    return NULL;
}

/* Which series each verdict shows: every metric the brief names has some. */
static void test_series_for(void **state) {
    int n, idx[TH_SERVICE_MAX];
    const probe_metrics_series *s = probe_metrics_series_table(&n);
    /* every metric the brief names has series; the two recovery_s differ by test */
    static const char *const with[][2] = {
        {"webhook", "p50_ms"},     {"webhook", "p99_ms"},          {"webhook", "error_rate"},
        {"webhook", "timeouts"},   {"race", "resolution_p99_ms"},  {"db", "success_rate"},
        {"db", "pool_recovery_s"}, {"redis", "outage_error_rate"}, {"redis", "outage_p99_ms"},
        {"redis", "recovery_s"},   {"db", "recovery_s"},           {"redis", "max_backlog"},
        {"redis", "drain_s"},
    };
    for (size_t i = 0; i < sizeof with / sizeof with[0]; i++)
        assert_true(remedy_series_for(with[i][0], with[i][1], idx, TH_SERVICE_MAX) > 0);
    n = remedy_series_for("redis", "recovery_s", idx, TH_SERVICE_MAX);
    bool circuit = false;
    for (int i = 0; i < n; i++)
        if (strstr(s[idx[i]].selector, "circuit")) circuit = true;
    assert_true(circuit);
    n = remedy_series_for("db", "recovery_s", idx, TH_SERVICE_MAX);
    bool reconnects = false;
    for (int i = 0; i < n; i++)
        if (!strcmp(s[idx[i]].selector, "dispatchd_pg_reconnects_total")) reconnects = true;
    assert_true(reconnects);
    assert_int_equal(remedy_series_for("resources", "service_cpu_pct", idx, 8), 0);
    assert_int_equal(remedy_series_for("webhook", "no_such_metric", idx, 8), 0);
    assert_int_equal(remedy_series_for("webhook", "p99_ms", idx, 2), 2); /* bounded */
}

/* The untuned outage: 503s, nothing to the inbox, and dispatchd ran with the fallback off. */
static void test_outage_fallback_off(void **state) {
    probe_metrics m;
    probe_metrics_init(&m, "http://127.0.0.1:1/metrics");
    probe_metrics_set_dispatchd(&m, UNTUNED_QUEUE);
    assert_true(m.cfg.known);
    assert_int_equal(m.cfg.fallback, 0);
    assert_int_equal(m.cfg.sync_ingest, 0); /* --ingest queue wins over the profile */
    scraped(&m);
    th_result r[2];
    assert_int_equal(threshold_judge(&r[0], "redis", "outage_error_rate", 1.0,
                                     "2001 of 2001 webhooks due while Redis was broken failed"),
                     0);
    assert_int_equal(threshold_judge(&r[1], "redis", "lost", 0, "0 lost"), 0); /* green */
    remedy_annotate(&m, r, 2);
    assert_non_null(strstr(r[0].evidence, "failed (service metrics: webhooks unavailable +2,001"));
    assert_non_null(strstr(r[0].evidence, "circuit opens +1"));
    assert_non_null(strstr(r[0].evidence, "redis errors +9"));
    assert_non_null(strstr(r[0].evidence, "webhook 503s +2,001")); /* absent at first: from 0 */
    assert_null(strstr(r[0].evidence, "webhooks to inbox"));       /* did not move */
    assert_null(strstr(r[0].evidence, "pg pool"));                 /* not this verdict's */
    assert_non_null(strstr(r[0].service_remedy, "--redis-fallback on"));
    assert_non_null(strstr(r[0].service_remedy, "2,001 webhooks were answered unavailable"));
    assert_null(strstr(r[0].service_remedy, "--redis-timeout")); /* 503s at once: not a hang */
    const th_service_metric *u =
        find_series(&r[0], "dispatchd_webhooks_total{outcome=\"unavailable\"}");
    assert_non_null(u);
    assert_string_equal(u->kind, "counter");
    assert_true(u->start == 0 && u->fault_end == 2000 && u->end == 2001);
    assert_string_equal(r[1].evidence, "0 lost"); /* green: untouched */
    assert_int_equal(r[1].nservice, 0);
    assert_string_equal(r[1].service_remedy, "");

    json_t *a = threshold_advice_json(r, 2);
    assert_int_equal(json_array_size(a), 1);
    json_t *e = json_array_get(a, 0);
    const char *remedy = json_string_value(json_object_get(e, "remedy"));
    assert_true(strncmp(remedy, "enable the PostgreSQL inbox fallback", 36) == 0);
    assert_non_null(strstr(remedy, "In general: do not fail the request"));
    assert_string_equal(json_string_value(json_object_get(e, "service_remedy")),
                        r[0].service_remedy);
    json_t *sm = json_object_get(e, "service_metrics");
    json_t *un = json_object_get(sm, "dispatchd_webhooks_total{outcome=\"unavailable\"}");
    assert_int_equal((int)json_number_value(json_object_get(un, "change")), 2001);
    assert_int_equal((int)json_number_value(json_object_get(un, "fault_end")), 2000);
    assert_string_equal(json_string_value(json_object_get(un, "label")), "webhooks unavailable");
    json_t *st = json_object_get(sm, "dispatchd_redis_circuit_opens_total");
    assert_non_null(st);
    json_decref(a);

    char buf[8192] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    threshold_set_plain(true);
    threshold_print(f, r, 2);
    fclose(f);
    assert_non_null(strstr(buf, "     → enable the PostgreSQL inbox fallback"));
    assert_non_null(strstr(buf, "     → do not fail the request when Redis fails"));
}

/* A black hole on an untuned dispatchd: requests hang (client timeouts), the service answers no
 * error and its circuit never opens; the remedy is the Redis timeout. */
static void test_outage_hang(void **state) {
    static const char page[] = "dispatchd_webhooks_total{outcome=\"unavailable\"} 0\n"
                               "dispatchd_webhooks_total{outcome=\"queued_inbox\"} 0\n"
                               "dispatchd_redis_circuit_opens_total 0\n"
                               "dispatchd_redis_errors_total 0\n";
    probe_metrics m;
    two_pages(&m, UNTUNED_QUEUE, page, page);
    th_result r[3];
    threshold_judge(&r[0], "redis", "outage_error_rate", 0.83,
                    "415 of 500 failed: request_timeout");
    threshold_judge(&r[1], "redis", "outage_p99_ms", 2010, "p99 2010 ms");
    threshold_judge(&r[2], "redis", "recovery_s", INFINITY, "not back");
    remedy_annotate(&m, r, 3);
    assert_string_equal(r[0].evidence, "415 of 500 failed: request_timeout"); /* nothing moved */
    assert_int_equal(r[0].nservice, 0);
    assert_non_null(strstr(r[0].service_remedy, "--redis-timeout 50"));
    assert_non_null(strstr(r[0].service_remedy, "(outage_error_rate 83%; circuit opens +0)"));
    assert_null(strstr(r[0].service_remedy, "fallback"));
    assert_non_null(strstr(r[1].service_remedy, "(outage_p99_ms 2010 ms; circuit opens +0)"));
    assert_non_null(strstr(r[2].service_remedy, "(recovery_s never reached; circuit opens +0)"));
    /* tuned (a 50 ms timeout): not that knob */
    probe_metrics_set_dispatchd(&m, TUNED);
    threshold_judge(&r[1], "redis", "outage_p99_ms", 2010, "p99 2010 ms");
    remedy_annotate(&m, &r[1], 1);
    assert_string_equal(r[1].service_remedy, "");
}

/* The same numbers from a tuned dispatchd (fallback on) or an unknown service. */
static void test_outage_config(void **state) {
    probe_metrics m;
    probe_metrics_init(&m, "http://127.0.0.1:1/metrics");
    probe_metrics_set_dispatchd(&m, TUNED);
    scraped(&m);
    th_result r;
    judge(&m, &r, "redis", "outage_error_rate", 1.0, "all failed");
    assert_non_null(strstr(r.evidence, "webhooks unavailable +2,001")); /* the numbers stay */
    assert_null(strstr(r.service_remedy, "fallback")); /* it was on: not that knob */

    probe_metrics_init(&m, "http://127.0.0.1:1/metrics"); /* a service of the user's */
    scraped(&m);
    assert_false(m.cfg.known);
    judge(&m, &r, "redis", "outage_error_rate", 1.0, "all failed");
    assert_non_null(strstr(r.service_remedy, "add a fallback for when Redis fails"));
    assert_null(strstr(r.service_remedy, "dispatchd"));

    /* not dispatchd at all: a command line of something else says nothing */
    char *const other[] = {"/usr/bin/python3", "app.py", "--redis-fallback", "off", NULL};
    probe_metrics_init(&m, NULL);
    probe_metrics_set_dispatchd(&m, other);
    assert_false(m.cfg.known);
}

/* Latency with pool waits: the pool's numbers and its size, and the knob. */
static void test_pool(void **state) {
    probe_metrics m;
    two_pages(&m, UNTUNED_QUEUE, PAGE_START, PAGE_END);
    th_result r;
    judge(&m, &r, "webhook", "p99_ms", 812, "p99 812 ms");
    assert_string_equal(r.evidence, "p99 812 ms (service metrics: pg pool waits +1,204, pg pool "
                                    "timeouts +3, webhooks unavailable +2,001, pg pool size 1)");
    assert_non_null(strstr(r.service_remedy, "raise the PostgreSQL pool (dispatchd --pg-pool, 1 "
                                             "connection now): 1,204 acquisitions waited for a "
                                             "connection and 3 gave up"));
    const th_service_metric *sz = find_series(&r, "dispatchd_pg_pool_size");
    assert_non_null(sz);
    assert_string_equal(sz->kind, "setting");
    assert_true(isnan(sz->fault_end)); /* no fault scrape in this test */

    /* the race's resolution time reads the same pool */
    judge(&m, &r, "race", "resolution_p99_ms", 2000, "p99 2 s");
    assert_non_null(strstr(r.evidence, "pg pool waits +1,204"));
    assert_non_null(strstr(r.service_remedy, "--pg-pool"));
}

/* Gauges by their values at the three scrapes; unknown (-1) and unchanged ones are not shown. */
static void test_gauges(void **state) {
    probe_metrics m;
    probe_metrics_init(&m, "x");
    scraped(&m);
    th_result r;
    judge(&m, &r, "redis", "max_backlog", 5000, "the backlog peaked at 5000");
    assert_non_null(strstr(r.evidence, "inbox depth 0 → 812 → 0"));
    assert_null(strstr(r.evidence, "stream lag"));     /* 0 throughout */
    assert_null(strstr(r.evidence, "stream pending")); /* -1: dispatchd could not read it */
    assert_string_equal(r.service_remedy, "");         /* no rule for the backlog */
    judge(&m, &r, "redis", "recovery_s", 40, "back after 40 s");
    assert_non_null(strstr(r.evidence, "circuit state 0 → 1 → 0"));
}

/* A slow recovery with lazy reconnects names the health probe, with the measured value. */
static void test_reconnect(void **state) {
    static const char a[] = "dispatchd_pg_reconnects_total 0\ndispatchd_pg_pool_broken 0\n";
    static const char b[] = "dispatchd_pg_reconnects_total 1\ndispatchd_pg_pool_broken 1\n";
    probe_metrics m;
    two_pages(&m, UNTUNED, a, b);
    th_result r;
    judge(&m, &r, "db", "recovery_s", 14, "back after 14 s");
    assert_non_null(strstr(r.evidence, "pg reconnects +1, pg pool broken 0 → 1"));
    assert_non_null(strstr(r.service_remedy, "enable the health probe (dispatchd --pg-reconnect "
                                             "probe): recovery_s 14 s with lazy reconnect"));
    /* probe reconnects already: nothing to name */
    probe_metrics_set_dispatchd(&m, TUNED);
    judge(&m, &r, "db", "recovery_s", 14, "back after 14 s");
    assert_string_equal(r.service_remedy, "");
    assert_non_null(strstr(r.evidence, "pg reconnects +1"));
}

/* No page, a page of another service, only the start: the verdicts stay as they were (a failed
 * scrape: test_probe_metrics.c). */
static void test_nothing(void **state) {
    probe_metrics m;
    probe_metrics_init(&m, NULL);
    assert_int_equal(probe_metrics_scrape(&m, PROBE_METRICS_START), -1);
    th_result r;
    judge(&m, &r, "webhook", "error_rate", 1, "all failed");
    assert_string_equal(r.evidence, "all failed");

    static const char other[] = "# TYPE http_requests_total counter\nhttp_requests_total 5\n";
    static const char other2[] = "http_requests_total 500\n";
    two_pages(&m, NULL, other, other2);
    remedy_annotate(&m, &r, 1);
    assert_string_equal(r.evidence, "all failed");
    assert_int_equal(r.nservice, 0);

    /* only the start: no change to show */
    probe_metrics_init(&m, "x");
    probe_metrics_parse(&m, PROBE_METRICS_START, PAGE_START, strlen(PAGE_START));
    remedy_annotate(&m, &r, 1);
    assert_string_equal(r.evidence, "all failed");
}

/* A long evidence keeps its bound: whole items only, closed. */
static void test_bounds(void **state) {
    probe_metrics m;
    probe_metrics_init(&m, "x");
    scraped(&m);
    th_result r;
    char ev[600];
    memset(ev, 'x', 440);
    ev[440] = '\0';
    threshold_judge(&r, "redis", "outage_error_rate", 1.0, ev);
    assert_int_equal(strlen(r.evidence), 440);
    remedy_annotate(&m, &r, 1);
    size_t len = strlen(r.evidence);
    assert_true(len < sizeof r.evidence);
    assert_true(len > 440);
    assert_int_equal(r.evidence[len - 1], ')');
    assert_non_null(strstr(r.evidence, " (service metrics: webhooks unavailable +2,001"));
    assert_null(strstr(r.evidence, "webhook 503s")); /* did not fit */

    memset(ev, 'x', 500);
    ev[500] = '\0';
    judge(&m, &r, "redis", "outage_error_rate", 1.0, ev);
    assert_int_equal(strlen(r.evidence), 500);
    assert_null(strstr(r.evidence, "service metrics"));
    assert_true(r.nservice > 0); /* the JSON still has them */
}

/* dispatchd --untuned: synchronous ingest behind the latency, naive accepts behind the races —
 * each remedy names the knob, with the counter that rose (and without it when it did not). */
static void test_ingest_accept(void **state) {
    static const char a[] = "dispatchd_webhooks_total{outcome=\"stored_sync\"} 10\n"
                            "dispatchd_accepts_total{result=\"won\"} 5\n";
    static const char b[] = "dispatchd_webhooks_total{outcome=\"stored_sync\"} 1510\n"
                            "dispatchd_accepts_total{result=\"won\"} 1205\n";
    probe_metrics m;
    two_pages(&m, UNTUNED, a, b);
    th_result r;
    judge(&m, &r, "webhook", "p99_ms", 900, "p99 900 ms");
    assert_string_equal(r.service_remedy,
                        "queue the webhooks in Redis instead of inserting them inside the request "
                        "(dispatchd --ingest queue): it ran with --ingest sync (1,500 webhooks "
                        "stored inside the request)");
    judge(&m, &r, "race", "race_conditions", 3, "3 double wins");
    assert_string_equal(r.service_remedy,
                        "accept with one conditional UPDATE (dispatchd --accept-mode atomic): it "
                        "ran with --accept-mode naive, which reads, waits, then updates (accepts "
                        "won +1,200)");
    /* the counters did not rise: the knob alone */
    probe_metrics_parse(&m, PROBE_METRICS_END, a, strlen(a));
    judge(&m, &r, "webhook", "p99_ms", 900, "p99 900 ms");
    assert_string_equal(r.service_remedy,
                        "queue the webhooks in Redis instead of inserting them inside the request "
                        "(dispatchd --ingest queue): it ran with --ingest sync");
    judge(&m, &r, "race", "race_conditions", 3, "3 double wins");
    assert_string_equal(r.service_remedy,
                        "accept with one conditional UPDATE (dispatchd --accept-mode atomic): it "
                        "ran with --accept-mode naive, which reads, waits, then updates");
    /* tuned: neither knob */
    probe_metrics_parse(&m, PROBE_METRICS_END, b, strlen(b));
    char *const tuned[] = {"dispatchd", NULL};
    probe_metrics_set_dispatchd(&m, tuned);
    judge(&m, &r, "race", "race_conditions", 3, "3 double wins");
    assert_string_equal(r.service_remedy, "");
}

UNIT_MAIN(test_series_for, test_outage_fallback_off, test_outage_hang, test_outage_config,
          test_pool, test_gauges, test_reconnect, test_nothing, test_bounds, test_ingest_accept)
