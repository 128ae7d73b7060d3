/* test_segment.c — unit tests for src/load/segment.c, the arithmetic of scale-out segments, and
 * for how the engine applies it (engine_check's refusals):
 *   - i/n and --start-at parse strictly, to exact values, and refuse bad input with one line;
 *   - the shares of a total over n segments sum to the total exactly and differ by at most one;
 *   - the sequence numbers of the n segments are disjoint and together cover 0, 1, 2, ...
 *     without a gap, so that n processes' {{seq}} values never collide;
 *   - applied to an open-model schedule (every n-th request, then every T-th per thread, as
 *     engine.c does it), the union over segments and threads is the whole schedule, each
 *     request once, at its single-process intended time;
 *   - a segment's capacity search runs the ramp only (capacity_params.ramp_only). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "load/engine.h"
#include "load/sched.h"
#include "load/segment.h"
#include "verdict/capacity.h"
#include "unit.h"

static void test_parse(void **state) {
    segment s;
    char err[256];
    assert_int_equal(segment_parse("1/1", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(segment_parse("3/4", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 2);
    assert_int_equal(s.count, 4);
    assert_int_equal(segment_parse("10000/10000", &s, err, sizeof err), 0);
    assert_int_equal(s.index, 9999);
    static const char *const bad[] = {
        "",     "1",   "/4",   "1/",   "0/4",     "5/4",   "1/0",   "-1/4",
        "1/-4", "a/4", "1/4x", "1 /4", "1/10001", "2/4/8", "1.5/4", "99999999999999999999/4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (segment_parse(bad[i], &s, err, sizeof err) != -1) fail_msg("accepted '%s'", bad[i]);
        assert_non_null(strstr(err, "--segment"));
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(segment_parse(NULL, &s, err, sizeof err), -1);
}

static void test_share_sums(void **state) {
    static const int64_t totals[] = {0, 1, 2, 3, 7, 10, 64, 99, 100, 101, 1000003, 123456789012};
    for (int n = 1; n <= 17; n++) {
        for (size_t t = 0; t < sizeof totals / sizeof totals[0]; t++) {
            int64_t sum = 0, lo = INT64_MAX, hi = 0;
            for (int i = 0; i < n; i++) {
                int64_t sh = segment_share((segment){i, n}, totals[t]);
                sum += sh;
                if (sh < lo) lo = sh;
                if (sh > hi) hi = sh;
                /* the first total mod n segments take one more */
                assert_int_equal(sh, totals[t] / n + (i < totals[t] % n ? 1 : 0));
            }
            if (sum != totals[t])
                fail_msg("n=%d: shares of %lld sum to %lld", n, (long long)totals[t],
                         (long long)sum);
            assert_true(hi - lo <= 1);
        }
    }
    /* no segment, or one: the whole */
    assert_int_equal(segment_share((segment){0, 0}, 42), 42);
    assert_int_equal(segment_share((segment){0, 1}, 42), 42);
    assert_false(segment_split((segment){0, 1}));
    assert_true(segment_split((segment){1, 2}));
}

static void test_seq_disjoint(void **state) {
    enum { K = 500 };
    for (int n = 1; n <= 9; n++) {
        int total = n * K;
        unsigned char *seen = calloc((size_t)total, 1);
        assert_non_null(seen);
        for (int i = 0; i < n; i++) {
            segment s = {i, n};
            for (uint64_t k = 0; k < K; k++) {
                uint64_t q = segment_seq(s, k);
                assert_true(q < (uint64_t)total);
                if (seen[q]) fail_msg("n=%d: seq %llu twice", n, (unsigned long long)q);
                seen[q] = 1;
                assert_true(segment_owns(s, q));
                for (int o = 0; o < n; o++)
                    if (o != i) assert_false(segment_owns((segment){o, n}, q));
            }
        }
        for (int q = 0; q < total; q++)
            if (!seen[q]) fail_msg("n=%d: seq %d never used", n, q);
        free(seen);
    }
    assert_int_equal(segment_seq((segment){0, 0}, 17), 17);
}

/* The engine's open model: segment i takes j = i + n * L, thread w of T takes L = w + T * k. */
static void test_open_schedule_union(void **state) {
    sched s;
    parse_stage st[] = {{2 * NS_PER_S, 300}, {NS_PER_S, 50}};
    assert_int_equal(sched_stages(&s, 10, st, 2), 0);
    size_t total = 0;
    while (sched_time_of(&s, total) >= 0) total++;
    assert_true(total > 300);
    unsigned char *seen = calloc(total, 1);
    assert_non_null(seen);
    for (int n = 1; n <= 5; n++) {
        memset(seen, 0, total);
        for (int i = 0; i < n; i++) {
            segment seg = {i, n};
            int64_t count = 0;
            for (int T = 3, w = 0; w < T; w++) {
                for (uint64_t k = 0;; k++) {
                    uint64_t j = segment_seq(seg, (uint64_t)w + k * (uint64_t)T);
                    int64_t t = sched_time_of(&s, j);
                    if (t < 0) break;
                    assert_true(j < total);
                    assert_false(seen[j]);
                    seen[j] = 1;
                    count++;
                }
            }
            /* a segment's count is its share of the schedule */
            assert_int_equal(count, segment_share(seg, (int64_t)total));
        }
        for (size_t j = 0; j < total; j++)
            if (!seen[j]) fail_msg("n=%d: request %zu of the schedule not sent", n, j);
    }
    free(seen);
}

static void test_start_at(void **state) {
    char err[256];
    int64_t now = 1767225600LL * NS_PER_S, t = 0;
    assert_int_equal(segment_parse_start_at("1767225630", now, &t, err, sizeof err), 0);
    assert_true(t == 1767225630LL * NS_PER_S);
    /* the fraction is exact to the nanosecond (no binary floating point on the way) */
    assert_int_equal(segment_parse_start_at("1767225630.000000001", now, &t, err, sizeof err), 0);
    assert_true(t == 1767225630LL * NS_PER_S + 1);
    assert_int_equal(segment_parse_start_at("1767225630.1", now, &t, err, sizeof err), 0);
    assert_true(t == 1767225630LL * NS_PER_S + 100 * NS_PER_MS);
    assert_int_equal(segment_parse_start_at("1767225630.1234567899", now, &t, err, sizeof err), 0);
    assert_true(t == 1767225630LL * NS_PER_S + 123456789);
    /* up to a second in the past is allowed (a slow start of one machine) */
    assert_int_equal(segment_parse_start_at("1767225599.5", now, &t, err, sizeof err), 0);
    assert_int_equal(segment_parse_start_at("1767225598.9", now, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "in the past"));
    assert_int_equal(segment_parse_start_at("1767311999", now, &t, err, sizeof err), 0);
    assert_int_equal(segment_parse_start_at("1767312001", now, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than a day"));
    /* milliseconds (or more digits still): said so, never an overflow */
    assert_int_equal(segment_parse_start_at("1767225630000", now, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "not milliseconds"));
    assert_int_equal(segment_parse_start_at("99999999999999999999999", now, &t, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "not milliseconds"));
    static const char *const bad[] = {"",   "x",           "1767225630.", ".5",         "1.7e9",
                                      "-1", "+1767225630", "1767225630 ", "1767225630s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (segment_parse_start_at(bad[i], now, &t, err, sizeof err) != -1)
            fail_msg("accepted '%s'", bad[i]);
        assert_non_null(strstr(err, "--start-at"));
        assert_null(strchr(err, '\n'));
    }
}

static void test_wait(void **state) {
    /* a time already past returns at once; a stop flag ends a long wait */
    assert_int_equal(segment_wait(clock_wall_ns() - NS_PER_S, 0, NULL), 0);
    volatile sig_atomic_t stop = 1;
    assert_int_equal(segment_wait(clock_wall_ns() + 3600 * NS_PER_S, 0, &stop), -1);
    int64_t t0 = clock_wall_ns();
    assert_int_equal(segment_wait(t0 + 30 * NS_PER_MS, 0, NULL), 0);
    assert_true(clock_wall_ns() >= t0 + 30 * NS_PER_MS);
}

static void test_doc(void **state) {
    json_t *doc = json_object();
    segment_doc(doc, (segment){1, 4}, 1767225630LL * NS_PER_S + 5);
    json_t *cfg = json_object_get(doc, "config");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cfg, "segment"), "index")),
                     2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(cfg, "segment"), "count")),
                     4);
    assert_true(json_integer_value(json_object_get(cfg, "start_at_unix_ns")) ==
                1767225630LL * NS_PER_S + 5);
    json_decref(doc);
    doc = json_object();
    segment_doc(doc, (segment){0, 0}, 0); /* no --segment, no --start-at: nothing recorded */
    assert_int_equal(json_object_size(json_object_get(doc, "config")), 0);
    json_decref(doc);
}

/* engine_check refuses splits that leave a segment without a connection or a request, with the
 * same answer in every segment. */
static void test_engine_refuses(void **state) {
    char err[256];
    engine_config c = {.url = "http://127.0.0.1:9/", .connections = 3, .threads = 1};
    c.seg = (segment){0, 4};
    assert_int_equal(engine_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "3 connections cannot be split into 4 segments"));
    c.seg = (segment){3, 4};
    assert_int_equal(engine_check(&c, err, sizeof err), -1);
    c.connections = 4;
    assert_int_equal(engine_check(&c, err, sizeof err), 0);
    c.max_requests = 3;
    assert_int_equal(engine_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "3 requests cannot be split into 4 segments"));
    c.max_requests = 4;
    assert_int_equal(engine_check(&c, err, sizeof err), 0);
    c.seg = (segment){4, 4};
    assert_int_equal(engine_check(&c, err, sizeof err), -1);
}

/* The dry run of a segment renders its first {{seq}}: the segment's index. */
static void test_engine_render_seq(void **state) {
    char err[256];
    engine_config c = {.url = "http://127.0.0.1:9/r/{{seq}}", .connections = 4, .threads = 1};
    c.seg = (segment){2, 4};
    char *req;
    size_t len;
    assert_int_equal(engine_render(&c, segment_seq(c.seg, 0), &req, &len, err, sizeof err), 0);
    assert_non_null(strstr(req, "GET /r/2 HTTP/1.1"));
    free(req);
    assert_int_equal(engine_render(&c, segment_seq(c.seg, 5), &req, &len, err, sizeof err), 0);
    assert_non_null(strstr(req, "GET /r/22 HTTP/1.1"));
    free(req);
}

/* A synthetic service for the capacity search: good up to 700/s. */
static int synthetic_step(void *ud, capacity_step *s, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    int *calls = ud;
    (*calls)++;
    s->requests = (int64_t)(s->rate * 5);
    s->achieved_rps = s->rate;
    s->p50_ms = 2;
    s->p99_ms = s->rate <= 700 ? 10 : 900;
    s->elapsed_s = 6;
    return 0;
}

/* A segment's capacity plan runs the ramp only: its steps depend on nothing another segment
 * could have seen differently after the first break. */
static void test_capacity_ramp_only(void **state) {
    capacity_params p;
    capacity_params_default(&p);
    p.start_rps = 100;
    capacity_result *r = calloc(1, sizeof *r);
    char err[256];
    int calls = 0;
    p.ramp_only = true;
    assert_int_equal(capacity_search(&p, synthetic_step, NULL, &calls, r, err, sizeof err), 0);
    assert_int_equal(r->nsteps, 4); /* 100, 200, 400, 800 */
    assert_int_equal(calls, 4);
    for (int i = 0; i < r->nsteps; i++) assert_int_equal(r->steps[i].phase, CAPACITY_RAMP);
    assert_true(r->max_sustainable_rps == 400);
    assert_true(r->first_bad_rps == 800);
    assert_true(r->resolution_rps == 400);
    assert_int_equal(r->stop, CAPACITY_RESOLVED);
    /* without it, the search bisects between 400 and 800 */
    p.ramp_only = false;
    calls = 0;
    assert_int_equal(capacity_search(&p, synthetic_step, NULL, &calls, r, err, sizeof err), 0);
    assert_true(r->nsteps > 4);
    assert_int_equal(r->steps[4].phase, CAPACITY_BISECT);
    free(r);
}

UNIT_MAIN(test_parse, test_share_sums, test_seq_disjoint, test_open_schedule_union, test_start_at,
          test_wait, test_doc, test_engine_refuses, test_engine_render_seq, test_capacity_ramp_only)
