/* test_probe_series.c — the analysis behind the resilience verdicts, on synthetic timelines:
 * recovery detection (immediate, after errors, after a latency tail, never, a single late outlier
 * that must not count as a failure to recover, an empty window), drain detection (never above,
 * drained, still above, unknown samples, a later burst), exact percentiles and windows, the
 * zero-loss reconciliation (lost, duplicated, queued, foreign ids), and the /proc meter on this
 * process. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe/probe_audit.h"
#include "probe/probe_proc.h"
#include "probe/probe_series.h"
#include "unit.h"

#define MS 1000000LL
#define S  1000000000LL

/* A synthetic run: 100 requests per second for secs seconds, each with latency lat_us and no
 * error, starting at t = 0. */
static probe_req *timeline(int secs, int64_t lat_us, size_t *n) {
    *n = (size_t)secs * 100;
    probe_req *r = calloc(*n, sizeof *r);
    for (size_t i = 0; i < *n; i++) r[i] = (probe_req){(int64_t)i * 10 * MS, lat_us, false};
    return r;
}

static void set_range(probe_req *r, size_t n, int64_t a, int64_t b, int64_t lat_us, bool err) {
    for (size_t i = 0; i < n; i++)
        if (r[i].t_ns >= a && r[i].t_ns < b) {
            r[i].latency_us = lat_us;
            r[i].error = err;
        }
}

static probe_recovery_opts opts(void) {
    return (probe_recovery_opts){.step_ns = 250 * MS,
                                 .window_ns = 3 * S,
                                 .base_error_rate = 0,
                                 .base_p99_ms = 2,
                                 .error_slack = 0.002,
                                 .p99_factor = 2,
                                 .p99_slack_ms = 1};
}

static void test_recovery_immediate(void **state) {
    size_t n;
    probe_req *r = timeline(20, 1000, &n);
    probe_recovery_opts o = opts();
    assert_true(probe_recovery_s(r, n, 5 * S, 20 * S, &o) == 0);
    free(r);
}

static void test_recovery_after_errors(void **state) {
    size_t n;
    probe_req *r = timeline(30, 1000, &n);
    set_range(r, n, 5 * S, 12 * S + 500 * MS, 1000, true); /* errors until 12.5 s */
    probe_recovery_opts o = opts();
    /* the dependency was back at 10 s; the service at 12.5 s */
    assert_true(fabs(probe_recovery_s(r, n, 10 * S, 30 * S, &o) - 2.5) < 1e-9);
    /* a ready time off the 250 ms grid: the answer is the next grid point after 12.5 s - from */
    assert_true(fabs(probe_recovery_s(r, n, 10 * S + 100 * MS, 30 * S, &o) - 2.5) < 1e-9);
    free(r);
}

static void test_recovery_latency_tail(void **state) {
    size_t n;
    probe_req *r = timeline(30, 1000, &n);
    set_range(r, n, 10 * S, 14 * S, 50000, false); /* slow (50 ms) until 14 s, no errors */
    probe_recovery_opts o = opts();
    assert_true(fabs(probe_recovery_s(r, n, 10 * S, 30 * S, &o) - 4.0) < 1e-9);
    /* the limit is max(2 x 2 ms, 2 ms + slack): with 60 ms of slack the slow part is "baseline" */
    o.p99_slack_ms = 60;
    assert_true(probe_recovery_s(r, n, 10 * S, 30 * S, &o) == 0);
    free(r);
}

static void test_recovery_never(void **state) {
    size_t n;
    probe_req *r = timeline(20, 1000, &n);
    set_range(r, n, 10 * S, 20 * S, 1000, true);
    probe_recovery_opts o = opts();
    assert_true(probe_recovery_s(r, n, 10 * S, 20 * S, &o) < 0);
    /* recovered at 18 s, but a 3 s window no longer fits before the end */
    set_range(r, n, 18 * S, 20 * S, 1000, false);
    assert_true(probe_recovery_s(r, n, 10 * S, 20 * S, &o) < 0);
    free(r);
}

static void test_recovery_tolerates_noise(void **state) {
    size_t n;
    probe_req *r = timeline(30, 1000, &n);
    /* one error in 300 requests (0.33%) is above 0.2% slack: the window must wait for it... */
    set_range(r, n, 11 * S, 11 * S + 10 * MS, 1000, true);
    probe_recovery_opts o = opts();
    double rec = probe_recovery_s(r, n, 10 * S, 30 * S, &o);
    assert_true(fabs(rec - 1.25) < 1e-9); /* first window starting after 11.0 s */
    /* ...but with the baseline itself at 0.5% errors it is within the baseline */
    o.base_error_rate = 0.005;
    assert_true(probe_recovery_s(r, n, 10 * S, 30 * S, &o) == 0);
    /* one slow request in 300 is the window's 300th value: p99 is the 297th, unaffected */
    o = opts();
    set_range(r, n, 11 * S, 11 * S + 10 * MS, 900000, false);
    assert_true(probe_recovery_s(r, n, 10 * S, 30 * S, &o) == 0);
    free(r);
}

static void test_recovery_empty(void **state) {
    probe_recovery_opts o = opts();
    assert_true(probe_recovery_s(NULL, 0, 0, 10 * S, &o) < 0);
    /* a gap without requests is no evidence of recovery */
    probe_req r[2] = {{0, 1000, false}, {9 * S, 1000, false}};
    assert_true(fabs(probe_recovery_s(r, 2, 0, 20 * S, &o) - 0) < 1e-9);
    assert_true(fabs(probe_recovery_s(r, 2, 1 * S, 20 * S, &o) - 5.25) < 1e-9);
}

static void test_window_percentiles(void **state) {
    probe_req r[100];
    for (int i = 0; i < 100; i++) r[i] = (probe_req){i, (i + 1) * 1000, i % 10 == 0};
    int64_t errors;
    double p99;
    assert_int_equal(probe_window(r, 100, 0, 100, &errors, &p99), 100);
    assert_int_equal(errors, 10);
    assert_true(p99 == 99.0); /* rank ceil(0.99 x 100) = 99 */
    assert_int_equal(probe_window(r, 100, 50, 60, &errors, &p99), 10);
    assert_int_equal(errors, 1);
    assert_true(p99 == 60.0);
    assert_int_equal(probe_window(r, 100, 200, 300, &errors, &p99), 0);
    assert_true(isnan(p99));
    double v[] = {5, 1, 4, 2, 3};
    assert_true(probe_percentile(v, 5, 50) == 3);
    assert_true(probe_percentile(v, 5, 100) == 5);
    assert_true(probe_percentile(v, 5, 1) == 1);
    assert_true(isnan(probe_percentile(v, 0, 50)));
}

static void test_drain(void **state) {
    double t[] = {0, 1, 2, 3, 4, 5, 6, 7};
    double flat[] = {0, 0, 0, 0, 0, 0, 0, 0};
    assert_true(probe_drain_s(t, flat, 8, 2, 0) == 0);
    double v[] = {0, 0, 50, 80, 40, NAN, 0, 0};
    assert_true(probe_drain_s(t, v, 8, 2, 0) == 4);  /* 0 at t = 6 (t = 5 unknown) */
    assert_true(probe_drain_s(t, v, 8, 2, 40) == 2); /* level 40: down at t = 4 */
    double up[] = {0, 0, 50, 80, 90, 100, 110, 120};
    assert_true(probe_drain_s(t, up, 8, 2, 0) < 0);
    double burst[] = {0, 0, 0, 0, 30, 0, 0, 0}; /* the backlog rose after the fault ended */
    assert_true(probe_drain_s(t, burst, 8, 2, 0) == 3);
    double tail_unknown[] = {0, 0, 50, NAN, NAN, NAN, NAN, NAN};
    assert_true(probe_drain_s(t, tail_unknown, 8, 2, 0) < 0);
}

static void test_audit(void **state) {
    uint8_t acked[10] = {1, 1, 1, 1, 1, 0, 0, 1, 1, 1};
    probe_audit *a = probe_audit_new(acked, 10, "msg_r1_w");
    assert_non_null(a);
    const char *stored[] = {"msg_r1_w0", "msg_r1_w1", "msg_r1_w2", "msg_r1_w2", /* dup */
                            "msg_r1_w5", /* stored though the client saw a failure */
                            "msg_r1_w7", "msg_r1_w8", "msg_r1_wx", "msg_r1_w99",
                            "other_w3",  "msg_r1_w01"};
    for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++)
        probe_audit_add(a, stored[i], PROBE_STORED);
    probe_audit_add(a, "msg_r1_w9", PROBE_QUEUED); /* not drained */
    probe_audit_add(a, "msg_r1_w8", PROBE_QUEUED); /* stored and queued: twice */
    probe_audit_counts c;
    probe_audit_counts_get(a, &c);
    assert_int_equal(c.acknowledged, 8);
    assert_int_equal(c.stored, 6);
    assert_int_equal(c.lost, 2); /* 3 and 4 */
    assert_int_equal(c.first_lost, 3);
    assert_int_equal(c.queued, 1);
    assert_int_equal(c.duplicated, 2); /* 2 and 8 */
    assert_int_equal(c.first_duplicated, 2);
    assert_int_equal(c.unacked_stored, 1);
    assert_int_equal(c.foreign, 3); /* wx, w99 (out of range), w01 (leading zero) */
    probe_audit_free(a);
    uint64_t seq;
    assert_int_equal(probe_audit_seq("p123", "p", &seq), 0);
    assert_true(seq == 123);
    assert_int_equal(probe_audit_seq("p0", "p", &seq), 0);
    assert_int_equal(probe_audit_seq("p", "p", &seq), -1);
    assert_int_equal(probe_audit_seq("q1", "p", &seq), -1);
    assert_int_equal(probe_audit_seq("p99999999999999999999", "p", &seq), -1);
}

static void test_proc_meter(void **state) {
    probe_meter m;
    memset(&m, 0, sizeof m);
    pid_t self = getpid();
    probe_usage u;
    probe_meter_read(&m, &self, 1, &u);
    assert_int_equal(u.nprocs, 1);
    assert_true(u.cpu_s == 0); /* the first read primes */
    assert_true(u.rss_mib > 0);
    volatile double x = 0;
    for (long i = 0; i < 60000000; i++) x += (double)i * 1e-9;
    probe_meter_read(&m, &self, 1, &u);
    assert_true(u.cpu_s > 0);
    pid_t gone[2] = {self, 999999999};
    probe_meter_read(&m, gone, 2, &u);
    assert_int_equal(u.nprocs, 1);
    unsigned long long ticks, start;
    long long rss;
    assert_int_equal(probe_proc_stat(self, &ticks, &start, &rss), 0);
    assert_int_equal(probe_proc_stat(999999999, &ticks, &start, &rss), -1);
}

UNIT_MAIN(test_recovery_immediate, test_recovery_after_errors, test_recovery_latency_tail,
          test_recovery_never, test_recovery_tolerates_noise, test_recovery_empty,
          test_window_percentiles, test_drain, test_audit, test_proc_meter)
