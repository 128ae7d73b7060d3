/* test_delivery.c — unit tests for src/load/delivery.c: the providers' schedules as published
 * (waits and attempt counts worked out in the comments), custom schedules, time compression, and
 * the sender options' checks against the run (each refusal is one line naming what to change). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "load/delivery.h"
#include "unit.h"

#define SEC  1000000000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

static void preset(const char *name, delivery_policy *p) {
    char err[200];
    if (delivery_preset(name, p, err, sizeof err) < 0) fail_msg("%s: %s", name, err);
}

static void test_standard_webhooks(void **state) {
    delivery_policy p;
    preset("standard-webhooks", &p);
    /* Svix: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 attempts in all */
    int64_t want[] = {5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR};
    assert_int_equal(p.retries, 7);
    for (int n = 1; n <= 7; n++) assert_int_equal(delivery_retry_delay_ns(&p, n), want[n - 1]);
    assert_int_equal(delivery_retry_delay_ns(&p, 8), -1); /* gives up after the 8th attempt */
    assert_int_equal(delivery_retry_delay_ns(&p, 0), -1);
    /* 27 h 35 min 5 s from the first failure to the last retry */
    assert_int_equal(delivery_span_ns(&p), 27 * HOUR + 35 * MIN + 5 * SEC);
    assert_string_equal(p.name, "standard-webhooks");
    assert_true(p.scale == 1 && p.duplicate_rate == 0);
}

static void test_other_providers(void **state) {
    delivery_policy p;
    preset("shopify", &p); /* 8 retries over 4 hours */
    assert_int_equal(p.retries, 8);
    assert_int_equal(delivery_span_ns(&p), 4 * HOUR);
    assert_int_equal(delivery_retry_delay_ns(&p, 1), MIN);
    assert_int_equal(delivery_retry_delay_ns(&p, 7), 64 * MIN);
    preset("stripe", &p); /* doubling from 1 min, 12 retries: 4095 min, under 3 days */
    assert_int_equal(p.retries, 12);
    assert_int_equal(delivery_span_ns(&p), 4095 * MIN);
    assert_true(delivery_span_ns(&p) < 72 * HOUR);
    preset("github", &p); /* no automatic redelivery */
    assert_int_equal(p.retries, 0);
    assert_int_equal(delivery_retry_delay_ns(&p, 1), -1);
    assert_int_equal(delivery_span_ns(&p), 0);
    preset("none", &p);
    assert_int_equal(p.retries, 0);
    char err[200];
    assert_int_equal(delivery_preset("strpe", &p, err, sizeof err), -1);
    assert_string_equal(err, "unknown sender 'strpe'; did you mean 'stripe'?");
    assert_int_equal(delivery_preset("carrier-pigeon", &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "standard-webhooks, stripe, shopify, github or none"));
}

static void test_custom_schedule(void **state) {
    delivery_policy p;
    char err[200];
    preset("none", &p);
    assert_int_equal(delivery_set_schedule(&p, "500ms,1s,2.5s", err, sizeof err), 0);
    assert_string_equal(p.name, "custom");
    assert_int_equal(p.retries, 3);
    assert_int_equal(delivery_retry_delay_ns(&p, 3), 2500 * 1000000LL);
    assert_int_equal(delivery_span_ns(&p), 4 * SEC);
    p.scale = 0.5; /* compression scales every wait */
    assert_int_equal(delivery_retry_delay_ns(&p, 1), 250 * 1000000LL);
    assert_int_equal(delivery_span_ns(&p), 2 * SEC);
    const char *bad[] = {"", ",", "1s,", ",1s", "1s,,2s", "0s", "-1s", "fast", NULL};
    for (int i = 0; bad[i]; i++)
        if (delivery_set_schedule(&p, bad[i], err, sizeof err) == 0)
            fail_msg("schedule '%s' accepted", bad[i]);
    char many[400] = "";
    for (int i = 0; i <= DELIVERY_MAX_RETRIES; i++) strcat(many, i ? ",1s" : "1s");
    assert_int_equal(delivery_set_schedule(&p, many, err, sizeof err), -1);
    assert_non_null(strstr(err, "at most 24 waits"));
}

static void test_describe(void **state) {
    delivery_policy p;
    char out[300];
    preset("standard-webhooks", &p);
    delivery_describe(&p, out, sizeof out);
    assert_string_equal(out, "standard-webhooks: 7 retries after 5s, 5m, 30m, 2h, 5h, 10h, 10h");
    preset("github", &p);
    delivery_describe(&p, out, sizeof out);
    assert_string_equal(out, "github: no retry");
}

/* delivery_args_check on options as the command line leaves them */
static int check(delivery_args *d, int64_t run_ns, bool open, const delivery_policy **out,
                 int64_t *drain, char *err) {
    return delivery_args_check(d, run_ns, 2 * SEC, open, out, drain, err, 200);
}

static void test_args(void **state) {
    const delivery_policy *pol;
    int64_t drain;
    char err[200];
    delivery_args none = {.dup_window = SEC};
    assert_int_equal(check(&none, 10 * SEC, true, &pol, &drain, err), 0);
    assert_null(pol); /* no sender option: each request once */

    /* a provider's 27.5 hours compressed into a 10 s run; the drain covers the whole schedule */
    delivery_args sw = {.name = "standard-webhooks", .dup_window = SEC};
    assert_int_equal(check(&sw, 10 * SEC, true, &pol, &drain, err), 0);
    assert_non_null(pol);
    assert_true(pol->scale < 1 && delivery_span_ns(pol) <= 10 * SEC &&
                delivery_span_ns(pol) > 10 * SEC - 1000);
    assert_int_equal(drain, delivery_span_ns(pol) + 2 * SEC);

    /* a custom schedule runs as written; duplicates only */
    delivery_args cu = {.schedule = "1s,2s", .dup_window = SEC};
    assert_int_equal(check(&cu, 10 * SEC, true, &pol, &drain, err), 0);
    assert_true(pol->scale == 1 && pol->retries == 2 && drain == 5 * SEC);
    delivery_args dup = {.dup_rate = 0.05, .dup_set = true, .dup_window = 300 * 1000000LL};
    assert_int_equal(check(&dup, 10 * SEC, true, &pol, &drain, err), 0);
    assert_true(pol->retries == 0 && pol->duplicate_rate == 0.05 &&
                pol->duplicate_window_ns == 300 * 1000000LL);

    /* refusals */
    delivery_args closed = {.name = "stripe", .dup_window = SEC};
    assert_int_equal(check(&closed, 10 * SEC, false, &pol, &drain, err), -1);
    assert_non_null(strstr(err, "need the open model"));
    delivery_args both = {.name = "stripe", .schedule = "1s", .dup_window = SEC};
    assert_int_equal(check(&both, 10 * SEC, true, &pol, &drain, err), -1);
    assert_string_equal(err, "give either --delivery or --retry-schedule, not both");
    delivery_args noretry = {.name = "github", .scale = 0.1, .scale_set = true, .dup_window = SEC};
    assert_int_equal(check(&noretry, 10 * SEC, true, &pol, &drain, err), -1);
    assert_string_equal(err, "--retry-scale: the sender 'github' does not retry");
    delivery_args longer = {
        .schedule = "5s,5s", .drain = SEC, .drain_set = true, .dup_window = SEC};
    assert_int_equal(check(&longer, SEC, true, &pol, &drain, err), -1);
    assert_non_null(strstr(err, "longer than the run"));
    longer.drain = 9 * SEC; /* 10 s of schedule fits 1 s of run and 9 s of drain */
    assert_int_equal(check(&longer, SEC, true, &pol, &drain, err), 0);
    assert_int_equal(drain, 9 * SEC);

    /* Retry-After: honoured only by a sender that retries */
    delivery_args ra = {.schedule = "1s", .retry_after = true, .dup_window = SEC};
    assert_int_equal(check(&ra, 10 * SEC, true, &pol, &drain, err), 0);
    assert_true(pol->honor_retry_after);
    delivery_args ra_only = {.retry_after = true, .dup_window = SEC};
    assert_int_equal(check(&ra_only, 10 * SEC, true, &pol, &drain, err), -1);
    assert_string_equal(err, "--honor-retry-after: the sender 'none' does not retry");
}

/* Retry-After's two forms (RFC 9110 10.2.3): delta-seconds and an HTTP-date; anything else is
 * not a wait, and a wait is at most a day. */
static void test_retry_after(void **state) {
    const int64_t now = 1767225600LL * SEC; /* Thu, 01 Jan 2026 00:00:00 GMT */
    assert_int_equal(delivery_retry_after_ns("120", now), 120 * SEC);
    assert_int_equal(delivery_retry_after_ns(" 5\t", now), 5 * SEC);
    assert_int_equal(delivery_retry_after_ns("0", now), 0);
    assert_int_equal(delivery_retry_after_ns("99999999999999999999", now), 86400 * SEC);
    assert_int_equal(delivery_retry_after_ns("Thu, 01 Jan 2026 00:00:10 GMT", now), 10 * SEC);
    assert_int_equal(delivery_retry_after_ns("Wed, 31 Dec 2025 23:59:00 GMT", now), 0);
    assert_int_equal(delivery_retry_after_ns("Sat, 03 Jan 2026 00:00:00 GMT", now), 86400 * SEC);
    static const char *const bad[] = {
        "", "  ", "-3", "5s", "1.5", "soon", "Thu, 01 Jan 2026 00:00:10 UTC", "01 Jan 2026"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (delivery_retry_after_ns(bad[i], now) != -1) fail_msg("'%s' read as a wait", bad[i]);
}

UNIT_MAIN(test_standard_webhooks, test_other_providers, test_custom_schedule, test_describe,
          test_args, test_retry_after)
