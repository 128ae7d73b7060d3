/* test_storm.c — unit tests for src/verdict/storm.c: the retry storm found in a per-second
 * timeline — its peak over the baseline rate, how long until the attempts were back near it, the
 * errors and p99 within it (merged histograms when every second has one), the service coming back
 * and, the detector that must fire, falling over again under the retries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "verdict/storm.h"
#include "unit.h"

#define N 40

/* 200 attempts/s throughout; seconds [10, 15) the fault (all failing) */
static void flat(storm_second *s) {
    for (int i = 0; i < N; i++)
        s[i] = (storm_second){.attempts = 200, .completed = 200, .errors = 0, .p99_ms = 5};
    for (int i = 10; i < 15; i++) s[i].errors = 200;
}

/* the attempts of the seconds 15, 16, 17 after the fault (0: left at the baseline's 200) */
static void after_fault(storm_second *s, int64_t a15, int64_t a16, int64_t a17) {
    int64_t a[3] = {a15, a16, a17};
    for (int i = 0; i < 3; i++)
        if (a[i]) s[15 + i].attempts = s[15 + i].completed = a[i];
}

static storm_input input(const storm_second *s) {
    return (storm_input){
        .sec = s, .n = N, .baseline_from = 2, .baseline_to = 10, .fault_end = 15, .until = 35};
}

static void test_storm(void **state) {
    (void)state;
    storm_second s[N];
    flat(s);
    /* the owed retries arrive after the fault: 1200, 800, 400, then the baseline again */
    after_fault(s, 1200, 800, 400);
    s[15].errors = 6;
    s[15].p99_ms = 300;
    s[16].p99_ms = 120;
    storm_input in = input(s);
    storm_result r;
    storm_analyze(&in, &r);
    assert_true(r.valid);
    assert_true(fabs(r.baseline_rate - 200) < 1e-9);
    assert_true(fabs(r.peak_rate - 1200) < 1e-9);
    assert_true(fabs(r.peak_ratio - 6) < 1e-9);
    assert_true(r.peak_at_s == 0);
    assert_true(r.subsided);
    assert_true(r.duration_s == 3); /* 15, 16, 17; 18 is back at 200 */
    assert_int_equal(r.attempts, 2400);
    assert_int_equal(r.excess, 1000 + 600 + 200);
    assert_int_equal(r.errors, 6);
    assert_true(fabs(r.error_rate - 6.0 / 2400) < 1e-12);
    assert_true(r.p99_ms == 300);    /* no histograms: the largest per-second p99 */
    assert_int_equal(r.back_at, 15); /* 6 of 1200 failed: < 1% */
    assert_int_equal(r.relapse_s, 0);
}

static void test_relapse(void **state) {
    (void)state;
    storm_second s[N];
    flat(s);
    after_fault(s, 1000, 1000, 0);
    s[16].errors = 500; /* back at 15, knocked over at 16 and 17 */
    s[17].errors = 40;
    storm_input in = input(s);
    storm_result r;
    storm_analyze(&in, &r);
    assert_int_equal(r.back_at, 15);
    assert_int_equal(r.relapse_s, 2);
    /* a service that never came back has no relapse: back_at -1 */
    for (int i = 15; i < N; i++) s[i].errors = s[i].completed;
    storm_analyze(&in, &r);
    assert_int_equal(r.back_at, -1);
    assert_int_equal(r.relapse_s, 0);
    assert_true(r.subsided); /* 1000 at 16, then 200 from 17: back near the baseline rate */
    assert_true(r.duration_s == 2);
}

static void test_no_storm(void **state) {
    (void)state;
    storm_second s[N];
    flat(s);
    for (int i = 10; i < 15; i++) s[i].errors = 0; /* a fallback took every webhook */
    storm_input in = input(s);
    storm_result r;
    storm_analyze(&in, &r);
    assert_true(r.valid);
    assert_true(r.duration_s == 0);
    assert_true(r.subsided);
    assert_true(fabs(r.peak_ratio - 1) < 1e-9);
    assert_int_equal(r.attempts, 200); /* the fault end's second alone */
    assert_int_equal(r.excess, 0);
    /* nothing after the fault, or no baseline: not valid */
    in.until = 15;
    storm_analyze(&in, &r);
    assert_false(r.valid);
    in = input(s);
    in.baseline_to = in.baseline_from;
    storm_analyze(&in, &r);
    assert_false(r.valid);
    for (int i = 0; i < N; i++) s[i].attempts = 0;
    in = input(s);
    storm_analyze(&in, &r);
    assert_false(r.valid);
}

static void test_histograms(void **state) {
    (void)state;
    storm_second s[N];
    hdr_hist *h[N];
    flat(s);
    for (int i = 0; i < N; i++) {
        h[i] = hdr_new(1, 3600LL * 1000000, 2);
        assert_non_null(h[i]);
        hdr_record_n(h[i], 5000, 200); /* 5 ms */
        s[i].latency = h[i];
    }
    /* the storm is second 15 alone: 1000 attempts, 980 at 5 ms and 20 (2%) at 2 s */
    after_fault(s, 1000, 0, 0);
    hdr_reset(h[15]);
    hdr_record_n(h[15], 5000, 980);
    hdr_record_n(h[15], 2000000, 20);
    s[15].p99_ms = 2000;
    storm_input in = input(s);
    storm_result r;
    storm_analyze(&in, &r);
    assert_true(r.duration_s == 1);
    assert_true(fabs(r.p99_ms - 2000) / 2000 < 0.01);
    /* the slow ones at 0.5%: the merged p99 is 5 ms where the largest per-second p99 says 2 s */
    hdr_reset(h[15]);
    hdr_record_n(h[15], 5000, 995);
    hdr_record_n(h[15], 2000000, 5);
    after_fault(s, 0, 1000, 0);
    hdr_record_n(h[16], 5000, 800);
    storm_analyze(&in, &r);
    assert_true(r.duration_s == 2);
    assert_true(fabs(r.p99_ms - 5) / 5 < 0.01);
    for (int i = 0; i < N; i++) hdr_free(h[i]);
}

UNIT_MAIN(test_storm, test_relapse, test_no_storm, test_histograms)
