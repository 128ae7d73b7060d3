/* test_sched.c — unit tests for src/load/sched.c, the open model's arrival schedule. Each
 * schedule is checked against times worked out by hand (in the comments), and every schedule is
 * also checked for internal consistency:
 *   - t(j) is non-decreasing in j and lies in [0, total_ns); t(j) = -1 exactly from
 *     j = ceil(total_requests) on;
 *   - t(j) is the nanosecond in which the j-th arrival falls: with N(t) = sched_due_before(t),
 *     N(t(j)) <= j < N(t(j) + 1);
 *   - for many T, the number of j with t(j) < T is ceil(N(T)) (up to floating-point noise), so
 *     the offered counts the engine reports from sched_due_before match what it sends.
 * The convention checked is t(j) = floor(exact time in ns): it is the one under which the last
 * two properties hold exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/sched.h"
#include "unit.h"

#define MS  1000000LL
#define SEC 1000000000LL

static void assert_near(double got, double want, double tol) {
    if (fabs(got - want) > tol) fail_msg("got %.12g, want %.12g (+- %g)", got, want, tol);
}

/* sched_stages from start_rps that must succeed: total_ns long (-1: not checked here), with
 * total_requests requests (within tol; 0: exactly). */
static void stages_ok(sched *s, double start_rps, const parse_stage *st, int n, int64_t total_ns,
                      double total_requests, double tol) {
    if (sched_stages(s, start_rps, st, n) != 0)
        fail_msg("%d stages from %g/s refused", n, start_rps);
    if (total_ns >= 0 && s->total_ns != total_ns)
        fail_msg("%d stages from %g/s: %lld ns, want %lld", n, start_rps, (long long)s->total_ns,
                 (long long)total_ns);
    assert_near(s->total_requests, total_requests, tol);
}

static void assert_time(const sched *s, uint64_t j, int64_t want) {
    int64_t got = sched_time_of(s, j);
    if (got != want)
        fail_msg("t(%llu) = %lld ns, want %lld", (unsigned long long)j, (long long)got,
                 (long long)want);
}

/* Collects t(0), t(1), ... until the first -1; returns how many (at most cap). */
static size_t collect(const sched *s, int64_t *times, size_t cap) {
    size_t n = 0;
    while (n < cap) {
        int64_t t = sched_time_of(s, n);
        if (t < 0) break;
        times[n++] = t;
    }
    return n;
}

/* The number of entries of the sorted array times[0..n) that are < T. */
static size_t count_before(const int64_t *times, size_t n, int64_t T) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (times[mid] < T)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The consistency properties of the header comment. eps absorbs floating-point noise: a request
 * count near T is only defined to within (rate * 1 ns), so eps = 1e-6 + max_rps * 2e-9. */
static void check_consistency(const sched *s, double max_rps) {
    double eps = 1e-6 + max_rps * 2e-9;
    size_t cap = (size_t)ceil(s->total_requests) + 16;
    int64_t *times = malloc(sizeof *times * cap);
    assert_non_null(times);
    size_t n = collect(s, times, cap);

    /* how many requests: ceil(total_requests), and -1 for every j past the last */
    double lo = ceil(s->total_requests - eps), hi = ceil(s->total_requests + eps);
    if ((double)n < lo || (double)n > hi)
        fail_msg("%zu requests, want ceil(%.9f)", n, s->total_requests);
    assert_int_equal(sched_time_of(s, n), -1);
    assert_int_equal(sched_time_of(s, n + 1), -1);
    assert_int_equal(sched_time_of(s, n + 1000), -1);
    assert_int_equal(sched_time_of(s, UINT64_MAX), -1);

    for (size_t j = 0; j < n; j++) {
        /* in range and monotonic */
        if (times[j] < 0 || times[j] >= s->total_ns)
            fail_msg("t(%zu) = %lld outside [0, %lld)", j, (long long)times[j],
                     (long long)s->total_ns);
        if (j > 0 && times[j] < times[j - 1])
            fail_msg("t(%zu) = %lld < t(%zu) = %lld", j, (long long)times[j], j - 1,
                     (long long)times[j - 1]);
        /* N(t(j)) <= j < N(t(j) + 1) */
        double before = sched_due_before(s, times[j]);
        double after = sched_due_before(s, times[j] + 1);
        if (before > (double)j + eps || after <= (double)j - eps)
            fail_msg("t(%zu) = %lld but N(t) = %.9f and N(t + 1ns) = %.9f", j, (long long)times[j],
                     before, after);
    }

    /* count of j with t(j) < T against ceil(N(T)), for T on a grid of ~4000 points over the run
     * and beyond it, including odd offsets that fall between requests */
    int64_t step = s->total_ns / 4000 + 1;
    for (int64_t T = -step; T <= s->total_ns + 3 * step; T += step) {
        int64_t Ts[3] = {T, T + step / 3, T + 1};
        for (int k = 0; k < 3; k++) {
            double d = sched_due_before(s, Ts[k]);
            size_t c = count_before(times, n, Ts[k]);
            if ((double)c < ceil(d - eps) || (double)c > ceil(d + eps))
                fail_msg("T = %lld ns: %zu requests before it, but sched_due_before = %.9f",
                         (long long)Ts[k], c, d);
        }
    }
    free(times);
}

/* ---- constant rate -------------------------------------------------------------------------- */

static void test_constant_round_rates(void **state) {
    sched s;
    /* R = 1000/s for 2 s: 2000 requests, t(j) = j / 1000 s = j * 1 000 000 ns exactly */
    sched_constant(&s, 1000, 2 * SEC);
    assert_true(s.total_requests == 2000.0);
    assert_int_equal(s.total_ns, 2 * SEC);
    for (uint64_t j = 0; j < 2000; j++) assert_time(&s, j, (int64_t)j * MS);
    assert_time(&s, 1001, 1001 * MS); /* 1.001 s, not 1.000999999 s */
    assert_time(&s, 1999, 1999 * MS);
    assert_time(&s, 2000, -1); /* would be at 2 s, the end of the run */
    check_consistency(&s, 1000);

    /* R = 100/s for 10 s: 1000 requests, t(j) = j * 10 ms; e.g. t(201) = 2.01 s */
    sched_constant(&s, 100, 10 * SEC);
    assert_true(s.total_requests == 1000.0);
    for (uint64_t j = 0; j < 1000; j++) assert_time(&s, j, (int64_t)j * 10 * MS);
    assert_time(&s, 201, 2010 * MS);
    assert_time(&s, 1000, -1);

    /* R = 1/s for 3 s: requests at 0, 1 and 2 s */
    sched_constant(&s, 1, 3 * SEC);
    assert_time(&s, 0, 0);
    assert_time(&s, 1, SEC);
    assert_time(&s, 2, 2 * SEC);
    assert_time(&s, 3, -1);
}

/* t(j) = floor(j * 1e9 / R) ns for integer R, checked with integer arithmetic. */
static void test_constant_exact_floor(void **state) {
    const struct {
        uint64_t rps;
        int64_t dur;
    } cases[] = {{1, 10 * SEC},    {3, 10 * SEC},     {7, 10 * SEC},    {100, 10 * SEC},
                 {1000, 10 * SEC}, {12345, 10 * SEC}, {99999, 2 * SEC}, {1000000, SEC}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sched s;
        sched_constant(&s, (double)cases[c].rps, cases[c].dur);
        /* total = R * D: e.g. 12345 * 10 = 123450 */
        uint64_t total = cases[c].rps * (uint64_t)(cases[c].dur / SEC);
        assert_true(s.total_requests == (double)total);
        for (uint64_t j = 0; j < total; j++) {
            int64_t want = (int64_t)(j * (uint64_t)SEC / cases[c].rps); /* j*1e9 <= 1e16 */
            int64_t got = sched_time_of(&s, j);
            if (got != want)
                fail_msg("R = %llu: t(%llu) = %lld, want %lld", (unsigned long long)cases[c].rps,
                         (unsigned long long)j, (long long)got, (long long)want);
        }
        assert_time(&s, total, -1);
        if (cases[c].rps <= 100000) check_consistency(&s, (double)cases[c].rps);
    }
    /* R = 3: t(1) = floor(333 333 333.3) and t(2) = floor(666 666 666.7) */
    sched s;
    sched_constant(&s, 3, SEC);
    assert_time(&s, 1, 333333333);
    assert_time(&s, 2, 666666666);
    assert_time(&s, 3, -1);
}

static void test_constant_fractional_rates(void **state) {
    sched s;
    /* R = 2.5/s for 2 s: 5 requests, every 0.4 s */
    sched_constant(&s, 2.5, 2 * SEC);
    assert_true(s.total_requests == 5.0);
    for (uint64_t j = 0; j < 5; j++) assert_time(&s, j, (int64_t)j * 400 * MS);
    assert_time(&s, 5, -1);
    check_consistency(&s, 2.5);

    /* R = 0.5/s for 10 s: 5 requests at 0, 2, 4, 6, 8 s */
    sched_constant(&s, 0.5, 10 * SEC);
    for (uint64_t j = 0; j < 5; j++) assert_time(&s, j, (int64_t)j * 2 * SEC);
    assert_time(&s, 5, -1);

    /* R = 12.25/s for 10 s: 122.5 requests due, so 123 sent (j = 0..122); the last at
     * 122 / 12.25 s = 9.959183673469... s */
    sched_constant(&s, 12.25, 10 * SEC);
    assert_true(s.total_requests == 122.5);
    assert_time(&s, 122, 9959183673LL);
    assert_time(&s, 123, -1);
    for (uint64_t j = 0; j < 123; j++) /* j / 12.25 = 4j / 49 */
        assert_time(&s, j, (int64_t)(j * 4 * (uint64_t)SEC / 49));
    check_consistency(&s, 12.25);

    /* R = 0.25/s for 3 s: 0.75 requests due; one is sent, at 0 */
    sched_constant(&s, 0.25, 3 * SEC);
    assert_true(s.total_requests == 0.75);
    assert_time(&s, 0, 0);
    assert_time(&s, 1, -1);
}

static void test_constant_rate_and_due(void **state) {
    sched s;
    sched_constant(&s, 1000, 2 * SEC);
    assert_true(sched_rate_at(&s, 0) == 1000);
    assert_true(sched_rate_at(&s, SEC) == 1000);
    assert_true(sched_rate_at(&s, 2 * SEC - 1) == 1000);
    assert_true(sched_rate_at(&s, 2 * SEC) == 0); /* the run is over */
    assert_true(sched_rate_at(&s, 100 * SEC) == 0);
    assert_true(sched_due_before(&s, -SEC) == 0);
    assert_true(sched_due_before(&s, 0) == 0);
    assert_near(sched_due_before(&s, 1), 1e-6, 1e-15); /* 1 ns * 1000/s */
    assert_near(sched_due_before(&s, 500 * MS), 500, 1e-9);
    assert_near(sched_due_before(&s, 1234567), 1.234567, 1e-9);
    assert_true(sched_due_before(&s, 2 * SEC) == 2000);
    assert_true(sched_due_before(&s, 3 * SEC) == 2000);

    /* rate 0 or length 0: nothing to send */
    sched_constant(&s, 0, 2 * SEC);
    assert_time(&s, 0, -1);
    assert_true(sched_due_before(&s, SEC) == 0);
    sched_constant(&s, 100, 0);
    assert_time(&s, 0, -1);
    assert_true(s.total_requests == 0);
}

/* ---- stages -------------------------------------------------------------------------------- */

static parse_stage stage(int64_t dur_ns, double rps) {
    parse_stage p = {dur_ns, rps};
    return p;
}

/* Ramp 0 -> 200/s over 1 s, then hold 200/s for 1 s.
 * Ramp: rate(t) = 200 t, so N(t) = 100 t^2 and t(j) = sqrt(j / 100) s; 100 requests.
 * Hold: t(j) = 1 s + (j - 100) / 200 s = 1 s + (j - 100) * 5 ms; 200 requests. Total 300. */
static void test_stages_ramp_then_hold(void **state) {
    parse_stage st[] = {stage(SEC, 200), stage(SEC, 200)};
    sched s;
    stages_ok(&s, 0, st, 2, 2 * SEC, 300, 0); /* (0 + 200) / 2 * 1 + 200 * 1 */
    assert_int_equal(s.nseg, 2);

    assert_time(&s, 0, 0);
    assert_time(&s, 1, 100 * MS); /* sqrt(0.01) = 0.1 s */
    assert_time(&s, 4, 200 * MS); /* sqrt(0.04) */
    assert_time(&s, 9, 300 * MS);
    assert_time(&s, 25, 500 * MS);
    assert_time(&s, 64, 800 * MS);
    assert_time(&s, 81, 900 * MS);
    assert_time(&s, 2, 141421356);  /* sqrt(0.02) = 0.14142135623 s */
    assert_time(&s, 50, 707106781); /* sqrt(0.5) = 0.70710678118 s */
    assert_time(&s, 99, 994987437); /* sqrt(0.99) = 0.99498743710 s */
    assert_time(&s, 100, SEC);      /* the first of the hold */
    assert_time(&s, 101, 1005 * MS);
    assert_time(&s, 150, 1250 * MS);
    assert_time(&s, 299, 1995 * MS);
    assert_time(&s, 300, -1);
    for (uint64_t j = 0; j < 100; j++)
        assert_near((double)sched_time_of(&s, j), sqrt((double)j / 100) * 1e9, 1.0);
    for (uint64_t j = 100; j < 300; j++) assert_time(&s, j, SEC + (int64_t)(j - 100) * 5 * MS);

    /* the rate ramps linearly, holds, then drops to 0 when the run ends */
    assert_true(sched_rate_at(&s, 0) == 0);
    assert_near(sched_rate_at(&s, 250 * MS), 50, 1e-9); /* 200 * 0.25 */
    assert_near(sched_rate_at(&s, 500 * MS), 100, 1e-9);
    assert_near(sched_rate_at(&s, SEC - 1), 200, 1e-6);
    assert_true(sched_rate_at(&s, SEC) == 200);
    assert_true(sched_rate_at(&s, 1500 * MS) == 200);
    assert_true(sched_rate_at(&s, 2 * SEC - 1) == 200);
    assert_true(sched_rate_at(&s, 2 * SEC) == 0);

    /* N(t) = 100 t^2 in the ramp, 100 + 200 (t - 1) in the hold */
    assert_true(sched_due_before(&s, 0) == 0);
    assert_near(sched_due_before(&s, 100 * MS), 1, 1e-9);
    assert_near(sched_due_before(&s, 500 * MS), 25, 1e-9);
    assert_near(sched_due_before(&s, SEC), 100, 1e-9);
    assert_near(sched_due_before(&s, 1500 * MS), 200, 1e-9);
    assert_true(sched_due_before(&s, 2 * SEC) == 300);
    assert_true(sched_due_before(&s, 5 * SEC) == 300);

    check_consistency(&s, 200);
}

/* Ramp down from 100/s to 0 over 2 s: rate(t) = 100 - 50 t, N(t) = 100 t - 25 t^2, 100 requests.
 * Solving 25 t^2 - 100 t + j = 0: t(j) = 2 - sqrt(100 - j) / 5 s, exact where 100 - j is a
 * square. The last request (j = 99) is at 2 - 1/5 = 1.8 s; nothing after it. */
static void test_stages_ramp_down_to_zero(void **state) {
    parse_stage st[] = {stage(2 * SEC, 0)};
    sched s;
    stages_ok(&s, 100, st, 1, 2 * SEC, 100, 0);
    const struct {
        uint64_t j;
        int64_t t;
    } pts[] = {{0, 0},          {19, 200 * MS},  {36, 400 * MS},  {51, 600 * MS},  {64, 800 * MS},
               {75, 1000 * MS}, {84, 1200 * MS}, {91, 1400 * MS}, {96, 1600 * MS}, {99, 1800 * MS}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) assert_time(&s, pts[i].j, pts[i].t);
    assert_time(&s, 100, -1);
    /* j = 50: 2 - sqrt(50) / 5 = 0.585786437626905 s */
    assert_time(&s, 50, 585786437);

    assert_true(sched_rate_at(&s, 0) == 100);
    assert_near(sched_rate_at(&s, SEC), 50, 1e-9);
    assert_near(sched_rate_at(&s, 1800 * MS), 10, 1e-9);
    assert_near(sched_rate_at(&s, 2 * SEC - 1), 0, 1e-6);
    assert_true(sched_rate_at(&s, 2 * SEC) == 0);
    assert_near(sched_due_before(&s, SEC), 75, 1e-9);          /* 100 - 25 */
    assert_near(sched_due_before(&s, 1800 * MS), 99, 1e-9);    /* 180 - 25 * 3.24 */
    assert_near(sched_due_before(&s, 1900 * MS), 99.75, 1e-9); /* 190 - 25 * 3.61 */
    assert_true(sched_due_before(&s, 2 * SEC) == 100);

    check_consistency(&s, 100);
}

/* Start 100/s: hold 100 for 1 s (100 requests, every 10 ms), ramp down to 0 over 1 s (50), stay
 * at 0 for 1 s (none), ramp up to 100 over 1 s (50), hold 100 for 1 s (100). Total 300 over 5 s.
 *   ramp down: N(tau) = 100 tau - 50 tau^2, so t(100 + x) = 1 s + (1 - sqrt(1 - x/50)) s
 *   ramp up:   N(tau) = 50 tau^2,           so t(150 + x) = 3 s + sqrt(x/50) s
 * No request may fall in the zero stage [2 s, 3 s). */
static void test_stages_zero_in_middle(void **state) {
    parse_stage st[] = {stage(SEC, 100), stage(SEC, 0), stage(SEC, 0), stage(SEC, 100),
                        stage(SEC, 100)};
    sched s;
    stages_ok(&s, 100, st, 5, 5 * SEC, 300, 0);

    for (uint64_t j = 0; j < 100; j++) assert_time(&s, j, (int64_t)j * 10 * MS);
    assert_time(&s, 100, SEC);
    assert_time(&s, 132, 1400 * MS);  /* x = 32: 1 - sqrt(0.36) = 0.4 */
    assert_time(&s, 148, 1800 * MS);  /* x = 48: 1 - sqrt(0.04) = 0.8 */
    assert_time(&s, 149, 1858578643); /* x = 49: 1 - sqrt(0.02) = 0.85857864376 */
    assert_time(&s, 150, 3 * SEC);    /* x = 0 of the ramp up: the end of the zero stage */
    assert_time(&s, 152, 3200 * MS);  /* x = 2: sqrt(0.04) = 0.2 */
    assert_time(&s, 158, 3400 * MS);  /* x = 8: sqrt(0.16) */
    assert_time(&s, 168, 3600 * MS);  /* x = 18: sqrt(0.36) */
    assert_time(&s, 182, 3800 * MS);  /* x = 32: sqrt(0.64) */
    assert_time(&s, 199, 3989949493); /* x = 49: sqrt(0.98) = 0.98994949366 */
    for (uint64_t j = 200; j < 300; j++) assert_time(&s, j, 4 * SEC + (int64_t)(j - 200) * 10 * MS);
    assert_time(&s, 300, -1);
    for (uint64_t j = 0; j < 300; j++) {
        int64_t t = sched_time_of(&s, j);
        if (t >= 2 * SEC && t < 3 * SEC)
            fail_msg("t(%llu) = %lld is in the zero stage", (unsigned long long)j, (long long)t);
    }

    assert_true(sched_rate_at(&s, 500 * MS) == 100);
    assert_true(sched_rate_at(&s, SEC) == 100);
    assert_near(sched_rate_at(&s, 1500 * MS), 50, 1e-9);
    assert_true(sched_rate_at(&s, 2 * SEC) == 0);
    assert_true(sched_rate_at(&s, 2500 * MS) == 0);
    assert_true(sched_rate_at(&s, 3 * SEC) == 0);
    assert_near(sched_rate_at(&s, 3500 * MS), 50, 1e-9);
    assert_true(sched_rate_at(&s, 4 * SEC) == 100);
    assert_true(sched_rate_at(&s, 5 * SEC - 1) == 100);
    assert_true(sched_rate_at(&s, 5 * SEC) == 0);

    assert_near(sched_due_before(&s, SEC), 100, 1e-9);
    assert_near(sched_due_before(&s, 1500 * MS), 137.5, 1e-9); /* 100 + 50 - 12.5 */
    assert_near(sched_due_before(&s, 2 * SEC), 150, 1e-9);
    assert_near(sched_due_before(&s, 2500 * MS), 150, 1e-9);
    assert_near(sched_due_before(&s, 3 * SEC), 150, 1e-9);
    assert_near(sched_due_before(&s, 3500 * MS), 162.5, 1e-9); /* 150 + 50 * 0.25 */
    assert_near(sched_due_before(&s, 4 * SEC), 200, 1e-9);
    assert_near(sched_due_before(&s, 4500 * MS), 250, 1e-9);
    assert_true(sched_due_before(&s, 5 * SEC) == 300);

    check_consistency(&s, 100);
}

/* A ramp that starts from the run's start rate (k6 style): start 50, ramp to 150 over 2 s.
 * N(t) = 50 t + 25 t^2; total = (50 + 150) / 2 * 2 = 200. t(j) solves 25 t^2 + 50 t - j = 0:
 * t = -1 + sqrt(1 + j / 25): j = 75 -> -1 + 2 = 1 s; j = 200 would be at 2 s = the end. */
static void test_stages_start_rate(void **state) {
    parse_stage st[] = {stage(2 * SEC, 150)};
    sched s;
    stages_ok(&s, 50, st, 1, -1, 200, 0);
    assert_time(&s, 0, 0);
    assert_time(&s, 75, SEC);
    assert_time(&s, 200, -1);
    /* j = 144: -1 + sqrt(1 + 5.76) = -1 + 2.6 = 1.6 s */
    assert_time(&s, 144, 1600 * MS);
    assert_true(sched_rate_at(&s, 0) == 50);
    assert_near(sched_rate_at(&s, SEC), 100, 1e-9);
    assert_near(sched_due_before(&s, SEC), 75, 1e-9);
    check_consistency(&s, 150);
}

/* Awkward numbers, short and zero stages, a spike: only the consistency properties and the total.
 * Totals, stage by stage ((r0 + r1) / 2 * d):
 *   (37.5 + 1234.5)/2 * 0.7 = 445.2      (1234.5 + 10)/2 * 1.3 = 808.925    (10 + 0)/2 * 0.25
 * = 1.25 (0 + 999)/2 * 0.5 = 249.75           (999 + 5000)/2 * 0.001 = 2.9995 (5000 + 333.3)/2 *
 * 0.333 = 2666.65 * 0.333 = 887.99445 sum = 2396.11895 -> 2397 requests in 3.084 s */
static void test_stages_awkward(void **state) {
    parse_stage st[] = {stage(700 * MS, 1234.5), stage(1300 * MS, 10), stage(250 * MS, 0),
                        stage(500 * MS, 999),    stage(1 * MS, 5000),  stage(333 * MS, 333.3)};
    sched s;
    stages_ok(&s, 37.5, st, 6, 3084 * MS, 2396.11895, 1e-9);
    int64_t *times = malloc(sizeof *times * 3000);
    assert_non_null(times);
    assert_int_equal(collect(&s, times, 3000), 2397);
    free(times);
    /* the rate is continuous at every stage boundary (to within its slope times 1 ns; the
     * steepest is the spike, (5000 - 999) / 1 ms = 4e6/s per s, so 0.004/s in 1 ns) */
    int64_t b = 0;
    for (int i = 0; i < 6; i++) {
        b += st[i].duration_ns;
        if (i < 5) assert_near(sched_rate_at(&s, b - 1), sched_rate_at(&s, b), 1e-2);
        if (i < 5) assert_near(sched_rate_at(&s, b), st[i].target_rps, 1e-9);
    }
    check_consistency(&s, 5000);

    /* and a slow one where gaps between requests are seconds long: 0 -> 1/s over 10 s (5 reqs:
     * N(t) = t^2 / 20, t(j) = sqrt(20 j): 0, 4.47, 6.32, 7.75, 8.94 s) */
    parse_stage slow[] = {stage(10 * SEC, 1)};
    stages_ok(&s, 0, slow, 1, -1, 5, 0);
    assert_time(&s, 0, 0);
    assert_time(&s, 1, 4472135954); /* sqrt(20) = 4.4721359549995 */
    assert_time(&s, 5, -1);
    check_consistency(&s, 1);
}

static void test_stages_limits(void **state) {
    sched s;
    parse_stage st[SCHED_MAX_STAGES + 1];
    for (int i = 0; i <= SCHED_MAX_STAGES; i++) st[i] = stage(10 * MS, 100);
    assert_int_equal(sched_stages(&s, 100, st, 0), -1);
    assert_int_equal(sched_stages(&s, 100, st, SCHED_MAX_STAGES + 1), -1);
    /* 64 stages of 10 ms at 100/s: 640 ms, 64 requests, every 10 ms */
    stages_ok(&s, 100, st, SCHED_MAX_STAGES, SCHED_MAX_STAGES * 10 * MS, 64, 1e-9);
    for (uint64_t j = 0; j < 64; j++) assert_time(&s, j, (int64_t)j * 10 * MS);
    assert_time(&s, 64, -1);

    /* two stages of 5e18 ns each: 1e19 ns does not fit in int64 (max 9.22e18) */
    parse_stage huge[] = {stage(5000000000000000000LL, 1), stage(5000000000000000000LL, 1)};
    assert_int_equal(sched_stages(&s, 1, huge, 2), -1);
    /* a stage must last: zero or negative durations are refused */
    parse_stage zero[] = {stage(SEC, 10), stage(0, 10)};
    assert_int_equal(sched_stages(&s, 1, zero, 2), -1);
    parse_stage neg[] = {stage(-SEC, 10)};
    assert_int_equal(sched_stages(&s, 1, neg, 1), -1);
    /* one of them is fine */
    assert_int_equal(sched_stages(&s, 1, huge, 1), 0);
    assert_int_equal(s.total_ns, 5000000000000000000LL);
}

UNIT_MAIN(test_constant_round_rates, test_constant_exact_floor, test_constant_fractional_rates,
          test_constant_rate_and_due, test_stages_ramp_then_hold, test_stages_ramp_down_to_zero,
          test_stages_zero_in_middle, test_stages_start_rate, test_stages_awkward,
          test_stages_limits)
