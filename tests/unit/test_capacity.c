/* test_capacity.c — the breaking-point search (src/verdict/capacity.c) against synthetic
 * services: a step runner computes each step's numbers from the rate alone (no engine, no
 * clock), so every path of the search — ramp, bisect, each bound, the first-step break, a runner
 * failure, an interruption, the knee rule — is checked exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "verdict/capacity.h"
#include "unit.h"

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

typedef enum fake_kind {
    FAKE_P99_CLIFF,  /* p99 5 ms up to limit, 800 ms above */
    FAKE_THROUGHPUT, /* achieves at most limit/s, p99 fine */
    FAKE_ERRORS,     /* 1 % errors above limit */
    FAKE_NEVER,      /* never breaks */
    FAKE_NOISY,      /* p99 rising steeply towards limit, ±30 % noise */
    FAKE_KNEE,       /* a flat p99, a step up at 2000/s, a break above 8000/s */
} fake_kind;

typedef struct fake {
    fake_kind kind;
    double limit;
    double elapsed_s;  /* each step's reported length */
    int fail_at;       /* runner fails (-1) at this call (1-based), 0: never */
    int interrupt_at;  /* runner reports an interruption at this call, 0: never */
    uint32_t seed;     /* noise */
    int calls;         /* runner calls */
    int reported;      /* on_step calls */
    int last_reported; /* index of the last reported step */
} fake;

static double noise(fake *f) { /* uniform in [-1, 1) */
    f->seed = f->seed * 1664525u + 1013904223u;
    return (double)(f->seed >> 8) / (double)(1u << 23) - 1.0;
}

static int fake_run(void *ud, capacity_step *s, char *err, size_t errlen) {
    fake *f = ud;
    f->calls++;
    if (f->fail_at && f->calls == f->fail_at) {
        snprintf(err, errlen, "fake runner failed");
        return -1;
    }
    if (f->interrupt_at && f->calls == f->interrupt_at) return 1;
    double r = s->rate;
    s->achieved_rps = r;
    s->p50_ms = 1;
    s->p99_ms = 5;
    s->requests = (int64_t)(r * 5);
    s->errors = 0;
    switch (f->kind) {
    case FAKE_P99_CLIFF:
        if (r > f->limit) s->p99_ms = 800;
        break;
    case FAKE_THROUGHPUT:
        if (r > f->limit) s->achieved_rps = f->limit;
        s->requests = (int64_t)(s->achieved_rps * 5);
        break;
    case FAKE_ERRORS:
        if (r > f->limit) s->errors = s->requests / 100;
        break;
    case FAKE_NEVER: break;
    case FAKE_NOISY: s->p99_ms = (2 + 500 * pow(r / f->limit, 8)) * (1 + 0.3 * noise(f)); break;
    case FAKE_KNEE:
        s->p99_ms = r <= 1000 ? 1.0 : r <= 2000 ? 1.5 : 10;
        if (r > 8000) s->p99_ms = 900;
        break;
    }
    s->error_rate = s->requests ? (double)s->errors / (double)s->requests : 0;
    s->max_ms = s->p99_ms * 2;
    s->elapsed_s = f->elapsed_s > 0 ? f->elapsed_s : 6;
    return 0;
}

static void fake_step(void *ud, const capacity_step *s) {
    fake *f = ud;
    f->reported++;
    f->last_reported = s->index;
}

static int search(fake *f, const capacity_params *p, capacity_result *r, char *err) {
    return capacity_search(p, fake_run, fake_step, f, r, err, 256);
}

/* Every bisect step lies strictly between the good and the bad rates known before it. */
static void assert_bisect_consistent(const capacity_result *r) {
    for (int i = 0; i < r->nsteps; i++) {
        if (r->steps[i].phase != CAPACITY_BISECT) continue;
        double good = 0, bad = INFINITY;
        for (int j = 0; j < i; j++) {
            if (r->steps[j].good && r->steps[j].rate > good) good = r->steps[j].rate;
            if (!r->steps[j].good && r->steps[j].rate < bad) bad = r->steps[j].rate;
        }
        assert_true(r->steps[i].rate > good);
        assert_true(r->steps[i].rate < bad);
    }
}

/* The default parameters. */
static capacity_params defaults(void) {
    capacity_params p;
    capacity_params_default(&p);
    return p;
}

/* A search of f with p that must succeed and stop for this reason (-1: not checked here). */
static void search_ok(fake *f, const capacity_params *p, capacity_result *r, int stop) {
    char err[256] = "";
    if (search(f, p, r, err) != 0) fail_msg("search failed: %s", err);
    if (stop >= 0 && (int)r->stop != stop)
        fail_msg("search (fake kind %d, limit %g) stopped with %d, want %d: %s", (int)f->kind,
                 f->limit, (int)r->stop, stop, r->message);
}

static void test_breaks_at_3000(void **state) {
    capacity_params p = defaults();
    fake f = {.kind = FAKE_P99_CLIFF, .limit = 3000};
    capacity_result r;
    search_ok(&f, &p, &r, CAPACITY_RESOLVED);
    assert_true(r.max_sustainable_rps <= 3000);
    assert_true(r.first_bad_rps > 3000);
    assert_true(r.max_sustainable_rps >= 3000 - r.resolution_rps);
    assert_true(r.resolution_rps < p.resolution * r.max_sustainable_rps);
    assert_near(r.resolution_rps, r.first_bad_rps - r.max_sustainable_rps, 1e-9);
    /* the ramp: 200, 400, 800, 1600, 3200 (bad); then bisection */
    assert_true(r.nsteps > 5);
    assert_near(r.steps[0].rate, 200, 0);
    assert_near(r.steps[4].rate, 3200, 0);
    assert_false(r.steps[4].good);
    assert_string_equal(r.steps[4].reason, "p99 800.0 ms > 500 ms");
    assert_int_equal(r.steps[5].phase, CAPACITY_BISECT);
    assert_bisect_consistent(&r);
    assert_non_null(strstr(r.message, "sustains"));
    assert_non_null(strstr(r.message, "p99 800.0 ms > 500 ms"));
    /* on_step saw every step, in order */
    assert_int_equal(f.reported, r.nsteps);
    assert_int_equal(f.last_reported, r.nsteps);
    for (int i = 0; i < r.nsteps; i++) assert_int_equal(r.steps[i].index, i + 1);
    assert_near(r.elapsed_s, 6.0 * r.nsteps, 1e-9);
}

static void test_throughput_limited(void **state) {
    capacity_params p = defaults();
    fake f = {.kind = FAKE_THROUGHPUT, .limit = 3000};
    capacity_result r;
    search_ok(&f, &p, &r, CAPACITY_RESOLVED);
    /* achieved >= 97 % of offered holds up to 3000 / 0.97 = 3092.8/s */
    double brk = 3000 / 0.97;
    assert_true(r.max_sustainable_rps <= brk);
    assert_true(r.first_bad_rps > brk);
    assert_true(r.max_sustainable_rps >= brk * (1 - p.resolution));
    assert_non_null(strstr(r.message, "achieved"));
}

static void test_error_limit(void **state) {
    capacity_params p = defaults();
    fake f = {.kind = FAKE_ERRORS, .limit = 5000};
    capacity_result r;
    search_ok(&f, &p, &r, CAPACITY_RESOLVED);
    assert_true(r.max_sustainable_rps <= 5000 && r.first_bad_rps > 5000);
    assert_true(r.max_sustainable_rps >= 5000 * (1 - p.resolution));
    assert_non_null(strstr(r.message, "error rate 1% > 0.1%"));
    /* a higher limit lets 1 % pass: then it never breaks up to max-rate */
    p.error_limit = 0.02;
    p.max_rps = 20000;
    fake g = {.kind = FAKE_ERRORS, .limit = 5000};
    search_ok(&g, &p, &r, CAPACITY_MAX_RATE);
}

static void test_never_breaks(void **state) {
    capacity_params p = defaults();
    fake f = {.kind = FAKE_NEVER};
    capacity_result r;
    search_ok(&f, &p, &r, CAPACITY_MAX_RATE);
    assert_near(r.max_sustainable_rps, 100000, 0);
    assert_true(isnan(r.first_bad_rps));
    assert_true(isnan(r.resolution_rps));
    /* 200 ... 51200, then capped at 100000: 10 steps, the last exactly max-rate */
    assert_int_equal(r.nsteps, 10);
    assert_near(r.steps[9].rate, 100000, 0);
    assert_non_null(strstr(r.message, "--max-rate 100000/s"));
    /* the knee: every step is flat, so the highest */
    assert_near(r.knee_rps, 100000, 0);
    assert_near(r.knee_p99_ms, 5, 0);
}

static void test_first_step_breaks(void **state) {
    capacity_params p = defaults();
    fake f = {.kind = FAKE_P99_CLIFF, .limit = 100};
    capacity_result r;
    search_ok(&f, &p, &r, CAPACITY_FIRST_STEP);
    assert_int_equal(r.nsteps, 1);
    assert_near(r.max_sustainable_rps, 0, 0);
    assert_near(r.first_bad_rps, 200, 0);
    assert_near(r.resolution_rps, 200, 0);
    assert_near(r.knee_rps, 0, 0);
    assert_true(isnan(r.knee_p99_ms));
    assert_non_null(strstr(r.message, "broke at the first step, 200/s"));
    assert_non_null(strstr(r.message, "--start-rate"));
}

static void test_noisy_p99(void **state) {
    capacity_params p = defaults();
    /* without noise p99 = 2 + 500 (r/3000)^8 crosses 500 ms at 2999/s; with ±30 % noise the
     * crossing lies between 2900/s (noise +30 %) and 3135/s (-30 %): every search must land
     * there, give or take its resolution */
    for (uint32_t seed = 1; seed <= 40; seed++) {
        fake f = {.kind = FAKE_NOISY, .limit = 3000, .seed = seed * 7919};
        capacity_result r;
        search_ok(&f, &p, &r, CAPACITY_RESOLVED);
        assert_true(r.max_sustainable_rps >= 2900 * (1 - p.resolution));
        assert_true(r.max_sustainable_rps <= 3135);
        assert_true(r.resolution_rps < p.resolution * r.max_sustainable_rps);
        assert_bisect_consistent(&r);
    }
}

static void test_knee(void **state) {
    capacity_params p = defaults();
    fake f = {.kind = FAKE_KNEE};
    capacity_result r;
    search_ok(&f, &p, &r, -1);
    /* 200..800: 1.0 ms (the base), 1600: 1.5 ms (≤ 2 × 1.0), 3200..8000: 10 ms (> 2 ms): the
     * knee is 1600/s, even though 3200..8000/s are still good */
    assert_near(r.knee_base_p99_ms, 1.0, 0);
    assert_near(r.knee_rps, 1600, 0);
    assert_near(r.knee_p99_ms, 1.5, 0);
    assert_true(r.max_sustainable_rps <= 8000 && r.max_sustainable_rps >= 8000 * 0.95);

    /* the floor: a best p99 of 0.2 ms compares with 1 ms, not 0.2 ms */
    capacity_result k;
    memset(&k, 0, sizeof k);
    const double rates[] = {200, 400, 800, 1600}, p99s[] = {0.2, 0.5, 1.9, 2.1};
    for (int i = 0; i < 4; i++) {
        k.steps[i].rate = rates[i];
        k.steps[i].p99_ms = p99s[i];
        k.steps[i].good = true;
    }
    k.nsteps = 4;
    capacity_knee(&p, &k);
    assert_near(k.knee_base_p99_ms, 1.0, 0);
    assert_near(k.knee_rps, 800, 0);
    assert_near(k.knee_p99_ms, 1.9, 0);
    /* steps in any order; a bad step is never the knee, even with a low p99 */
    capacity_step tmp = k.steps[0];
    k.steps[0] = k.steps[3];
    k.steps[3] = tmp;
    k.steps[2].good = false; /* 800/s */
    capacity_knee(&p, &k);
    assert_near(k.knee_rps, 400, 0);
    assert_near(k.knee_p99_ms, 0.5, 0);
    /* a cold first step (9.5 ms) does not set the base: the best good step's p99 does */
    const double cold[] = {9.5, 4.2, 4.1, 21};
    for (int i = 0; i < 4; i++) {
        k.steps[i].rate = rates[i];
        k.steps[i].p99_ms = cold[i];
        k.steps[i].good = true;
    }
    capacity_knee(&p, &k);
    assert_near(k.knee_base_p99_ms, 4.1, 0);
    assert_near(k.knee_rps, 800, 0);
    /* no good step: no knee */
    for (int i = 0; i < 4; i++) k.steps[i].good = false;
    capacity_knee(&p, &k);
    assert_near(k.knee_rps, 0, 0);
    assert_true(isnan(k.knee_p99_ms) && isnan(k.knee_base_p99_ms));
}

static void test_max_time(void **state) {
    capacity_params p = defaults();
    p.max_time_s = 20;
    fake f = {.kind = FAKE_P99_CLIFF, .limit = 3000};
    capacity_result r;
    search_ok(&f, &p, &r, -1);
    /* 6 s a step: 0-6, 6-12, 12-18; a fourth would end at 24 > 20 */
    assert_int_equal(r.nsteps, 3);
    assert_int_equal(r.stop, CAPACITY_MAX_TIME);
    assert_near(r.max_sustainable_rps, 800, 0);
    assert_true(isnan(r.first_bad_rps));
    assert_non_null(strstr(r.message, "--max-time"));
    assert_non_null(strstr(r.message, "at least 800/s"));
    /* a runner slower than the estimate: the last step's real length is the estimate */
    fake g = {.kind = FAKE_P99_CLIFF, .limit = 3000, .elapsed_s = 15};
    p.max_time_s = 40;
    search_ok(&g, &p, &r, -1);
    assert_int_equal(r.nsteps, 2); /* 15 + 15 = 30; a third would end at 45 */
    assert_true(r.elapsed_s <= p.max_time_s);
}

static void test_max_steps(void **state) {
    capacity_params p = defaults();
    p.max_steps = 3;
    fake f = {.kind = FAKE_P99_CLIFF, .limit = 3000};
    capacity_result r;
    search_ok(&f, &p, &r, CAPACITY_MAX_STEPS);
    assert_int_equal(r.nsteps, 3);
    assert_non_null(strstr(r.message, "--max-steps"));
    /* stopped inside the bisection: the interval is reported, coarser than asked */
    p.max_steps = 7;
    fake g = {.kind = FAKE_P99_CLIFF, .limit = 3000};
    search_ok(&g, &p, &r, CAPACITY_MAX_STEPS);
    assert_int_equal(r.nsteps, 7);
    assert_true(r.max_sustainable_rps <= 3000 && r.first_bad_rps > 3000);
    assert_true(r.resolution_rps >= p.resolution * r.max_sustainable_rps);
    assert_non_null(strstr(r.message, "coarser"));
}

static void test_runner_failure(void **state) {
    capacity_params p;
    capacity_params_default(&p);
    fake f = {.kind = FAKE_NEVER, .fail_at = 3};
    capacity_result r;
    char err[256] = "";
    assert_int_equal(search(&f, &p, &r, err), -1);
    assert_string_equal(err, "fake runner failed");
    assert_int_equal(r.nsteps, 2);
}

static void test_interrupted(void **state) {
    capacity_params p = defaults();
    fake f = {.kind = FAKE_P99_CLIFF, .limit = 3000, .interrupt_at = 4};
    capacity_result r;
    search_ok(&f, &p, &r, CAPACITY_INTERRUPTED);
    assert_int_equal(r.nsteps, 3);
    assert_near(r.max_sustainable_rps, 800, 0);
    assert_non_null(strstr(r.message, "interruption"));
}

static void test_judge(void **state) {
    capacity_params p;
    capacity_params_default(&p);
    capacity_step s = {.rate = 1000, .achieved_rps = 1000, .p99_ms = 10, .requests = 5000};
    capacity_judge(&p, &s);
    assert_true(s.good);
    assert_string_equal(s.reason, "");
    s.achieved_rps = 970; /* exactly 97 %: still good */
    capacity_judge(&p, &s);
    assert_true(s.good);
    s.achieved_rps = 969;
    capacity_judge(&p, &s);
    assert_false(s.good);
    assert_string_equal(s.reason, "achieved 969/s = 96.9% of 1000/s < 97%");
    s.achieved_rps = 1000;
    s.p99_ms = 500; /* at the limit: good */
    capacity_judge(&p, &s);
    assert_true(s.good);
    s.p99_ms = 500.5;
    capacity_judge(&p, &s);
    assert_false(s.good);
    s.p99_ms = 10;
    s.errors = 6;
    s.error_rate = 6.0 / 5000;
    capacity_judge(&p, &s);
    assert_false(s.good);
    assert_string_equal(s.reason, "error rate 0.12% > 0.1% (6 errors)");
    s.requests = 0;
    capacity_judge(&p, &s);
    assert_false(s.good);
    assert_string_equal(s.reason, "no response at all");
}

static void test_params(void **state) {
    capacity_params p;
    char err[256];
    capacity_params_default(&p);
    assert_int_equal(capacity_params_check(&p, err, sizeof err), 0);
    p.max_rps = 100;
    assert_int_equal(capacity_params_check(&p, err, sizeof err), -1);
    assert_non_null(strstr(err, "--max-rate"));
    capacity_params_default(&p);
    p.factor = 1;
    assert_int_equal(capacity_params_check(&p, err, sizeof err), -1);
    assert_non_null(strstr(err, "--factor"));
    capacity_params_default(&p);
    p.max_time_s = 3;
    assert_int_equal(capacity_params_check(&p, err, sizeof err), -1);
    assert_non_null(strstr(err, "--max-time"));
    capacity_params_default(&p);
    p.max_steps = CAPACITY_STEPS_MAX + 1;
    assert_int_equal(capacity_params_check(&p, err, sizeof err), -1);
    capacity_params_default(&p);
    p.resolution = 0;
    assert_int_equal(capacity_params_check(&p, err, sizeof err), -1);
    /* a search with bad parameters runs nothing */
    fake f = {.kind = FAKE_NEVER};
    capacity_result r;
    assert_int_equal(search(&f, &p, &r, err), -1);
    assert_int_equal(f.calls, 0);
    assert_string_equal(capacity_stop_name(CAPACITY_MAX_TIME), "max_time");
    assert_string_equal(capacity_phase_name(CAPACITY_BISECT), "bisect");
}

/* One step of .capacity.steps[]: every field docs/webhook.md lists, in its order, rounded to 3
 * decimals, unknowns null (the encoder of both brink capacity and brink merge). */
static void test_step_json(void **state) {
    capacity_step s = {
        .index = 3,
        .phase = CAPACITY_BISECT,
        .rate = 1500,
        .achieved_rps = 1499.87654,
        .p50_ms = 2.5,
        .p99_ms = 12.34567,
        .max_ms = 40,
        .requests = 7499,
        .errors = 2,
        .timeouts = 1,
        .error_rate = 2.0 / 7500,
        .elapsed_s = 8.25,
        .started_s = 12.0004,
        .cpu_pct = 87.5,
        .rss_mib = NAN,
        .backlog = 812,
        .drain_s = 2.0625,
        .connections = 64,
        .good = true,
    };
    json_t *o = capacity_step_json(&s);
    static const char *const keys[] = {
        "index",         "phase",   "started_s",   "offered_rps",     "achieved_rps",
        "requests",      "errors",  "error_rate",  "timeouts",        "p50_ms",
        "p99_ms",        "max_ms",  "connections", "service_cpu_pct", "service_rss_mib",
        "backlog_after", "drain_s", "elapsed_s",   "verdict",         "reason",
    };
    size_t n = sizeof keys / sizeof keys[0], i = 0;
    assert_int_equal(json_object_size(o), n);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) assert_string_equal(k, keys[i++]); /* in the documented order */
    assert_int_equal(json_integer_value(json_object_get(o, "index")), 3);
    assert_string_equal(json_string_value(json_object_get(o, "phase")), "bisect");
    assert_near(json_number_value(json_object_get(o, "offered_rps")), 1500, 0);
    assert_near(json_number_value(json_object_get(o, "achieved_rps")), 1499.877, 1e-9);
    assert_near(json_number_value(json_object_get(o, "p99_ms")), 12.346, 1e-9);
    assert_near(json_number_value(json_object_get(o, "started_s")), 12.0, 1e-9);
    assert_near(json_number_value(json_object_get(o, "error_rate")), 0.0, 1e-9);
    assert_int_equal(json_integer_value(json_object_get(o, "requests")), 7499);
    assert_int_equal(json_integer_value(json_object_get(o, "timeouts")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "connections")), 64);
    assert_near(json_number_value(json_object_get(o, "service_cpu_pct")), 87.5, 0);
    assert_true(json_is_null(json_object_get(o, "service_rss_mib"))); /* unknown */
    assert_near(json_number_value(json_object_get(o, "backlog_after")), 812, 0);
    assert_near(json_number_value(json_object_get(o, "drain_s")), 2.063, 1e-9);
    assert_near(json_number_value(json_object_get(o, "elapsed_s")), 8.25, 0);
    assert_string_equal(json_string_value(json_object_get(o, "verdict")), "good");
    assert_true(json_is_null(json_object_get(o, "reason")));
    json_decref(o);

    /* a bad step with its reason; no drain measured (a segment, a user's target) */
    s.good = false;
    snprintf(s.reason, sizeof s.reason, "p99 812.0 ms > 500 ms");
    s.backlog = s.drain_s = NAN;
    s.error_rate = 0.0123456;
    o = capacity_step_json(&s);
    assert_string_equal(json_string_value(json_object_get(o, "verdict")), "bad");
    assert_string_equal(json_string_value(json_object_get(o, "reason")), "p99 812.0 ms > 500 ms");
    assert_true(json_is_null(json_object_get(o, "backlog_after")));
    assert_true(json_is_null(json_object_get(o, "drain_s")));
    assert_near(json_number_value(json_object_get(o, "error_rate")), 0.012, 1e-9);
    json_decref(o);
}

UNIT_MAIN(test_breaks_at_3000, test_throughput_limited, test_error_limit, test_never_breaks,
          test_first_step_breaks, test_noisy_p99, test_knee, test_max_time, test_max_steps,
          test_runner_failure, test_interrupted, test_judge, test_params, test_step_json)
