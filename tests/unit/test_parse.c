/* test_parse.c — unit tests for src/core/parse.c: durations (every unit, fractions that must land
 * on an exact nanosecond, the range limit, every malformed form), rates, bounded integers and
 * stage lists (values, growth past the initial capacity, every rejection, and that a failed parse
 * leaves nothing allocated). Expected values are worked out by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "unit.h"

static int64_t dur_ok(const char *s) {
    char err[256] = "";
    int64_t v = -12345;
    if (parse_duration_ns(s, &v, err, sizeof err) != 0) fail_msg("duration \"%s\": %s", s, err);
    return v;
}

static void dur_bad(const char *s) {
    char err[256] = "";
    int64_t v = -12345;
    if (parse_duration_ns(s, &v, err, sizeof err) == 0)
        fail_msg("duration \"%s\" accepted as %lld", s, (long long)v);
    assert_int_equal(v, -12345); /* out untouched on error */
    assert_non_null(strstr(err, "duration"));
    if (s && *s) {
        char quoted[300];
        snprintf(quoted, sizeof quoted, "'%s'", s);
        assert_non_null(strstr(err, quoted)); /* the error names the bad value */
    }
}

/* ---- durations ----------------------------------------------------------------------------- */

static void test_duration_units(void **state) {
    assert_int_equal(dur_ok("10"), 10000000000LL);   /* bare number = seconds: 10 * 1e9 */
    assert_int_equal(dur_ok("10s"), 10000000000LL);  /* 10 * 1e9 */
    assert_int_equal(dur_ok("250ms"), 250000000LL);  /* 250 * 1e6 */
    assert_int_equal(dur_ok("100us"), 100000LL);     /* 100 * 1e3 */
    assert_int_equal(dur_ok("2m"), 120000000000LL);  /* 2 * 60 * 1e9 */
    assert_int_equal(dur_ok("1h"), 3600000000000LL); /* 3600 * 1e9 */
    assert_int_equal(dur_ok("0"), 0);                /* zero is a valid duration */
    assert_int_equal(dur_ok("0s"), 0);
    assert_int_equal(dur_ok("1us"), 1000LL);                     /* the smallest whole unit */
    assert_int_equal(dur_ok("1.5m"), 90000000000LL);             /* 1.5 * 60 = 90 s */
    assert_int_equal(dur_ok("0.25h"), 900000000000LL);           /* 0.25 * 3600 = 900 s */
    assert_int_equal(dur_ok("1e3ms"), 1000000000LL);             /* 1000 ms = 1 s */
    assert_int_equal(dur_ok("0.5us"), 500LL);                    /* 0.5 * 1000 */
    assert_int_equal(dur_ok("2500000h"), 9000000000000000000LL); /* 2.5e6 * 3.6e12 = 9e18 */
}

/* Decimal fractions must land on the exact nanosecond: "1.001s" is 1 001 000 000 ns, although
 * 1.001 * 1e9 in binary floating point is 1000999999.99999988. */
static void test_duration_fractions_exact(void **state) {
    assert_int_equal(dur_ok("1.001s"), 1001000000LL);
    assert_int_equal(dur_ok("1.003s"), 1003000000LL);
    assert_int_equal(dur_ok("0.3s"), 300000000LL);
    assert_int_equal(dur_ok("4.35s"), 4350000000LL);
    assert_int_equal(dur_ok("2.3ms"), 2300000LL);
    assert_int_equal(dur_ok("0.000000001"), 1LL); /* 1e-9 s = 1 ns */
    assert_int_equal(dur_ok("1.000000001s"), 1000000001LL);
    /* every millisecond value from 0.000 s to 99.999 s, written as seconds with 3 decimals:
     * "S.mmms" must give exactly (S * 1000 + mmm) * 1e6 ns. */
    for (int ms = 0; ms < 100000; ms++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d.%03ds", ms / 1000, ms % 1000);
        int64_t got = dur_ok(buf);
        if (got != (int64_t)ms * 1000000)
            fail_msg("\"%s\" -> %lld ns, want %lld", buf, (long long)got, (long long)ms * 1000000);
    }
    /* and microseconds written as milliseconds: "N.uuums" = (N * 1000 + uuu) * 1e3 ns */
    for (int us = 0; us < 100000; us += 7) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d.%03dms", us / 1000, us % 1000);
        int64_t got = dur_ok(buf);
        if (got != (int64_t)us * 1000)
            fail_msg("\"%s\" -> %lld ns, want %lld", buf, (long long)got, (long long)us * 1000);
    }
}

static void test_duration_rejects(void **state) {
    dur_bad(NULL);
    dur_bad("");
    dur_bad("s"); /* unit without a number */
    dur_bad("ms");
    dur_bad(".");
    dur_bad("-1s"); /* negative */
    dur_bad("-0.5");
    dur_bad("10x");  /* unknown unit */
    dur_bad("10ns"); /* not a supported unit */
    dur_bad("10sec");
    dur_bad("10S");  /* units are lower case */
    dur_bad("10 s"); /* a space between number and unit */
    dur_bad("10s "); /* trailing junk */
    dur_bad("10s5");
    dur_bad("1m30s"); /* compound durations are not supported */
    dur_bad("nan");
    dur_bad("inf");
    dur_bad("infs");
    dur_bad("1e400s");   /* overflows a double */
    dur_bad("2500001h"); /* 2500001 * 3.6e12 = 9.0000036e18 > the 9e18 limit */
    dur_bad("1e10h");    /* 3.6e22 ns, far past int64 */
}

static void test_duration_empty_message(void **state) {
    char err[256] = "";
    int64_t v;
    assert_int_equal(parse_duration_ns("", &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty duration"));
}

/* ---- rates --------------------------------------------------------------------------------- */

static void test_rate(void **state) {
    char err[256] = "";
    double r = 0;
    assert_int_equal(parse_rate("100", &r, err, sizeof err), 0);
    assert_true(r == 100.0);
    assert_int_equal(parse_rate("0.5", &r, err, sizeof err), 0);
    assert_true(r == 0.5);
    assert_int_equal(parse_rate("2500.25", &r, err, sizeof err), 0);
    assert_true(r == 2500.25);
    assert_int_equal(parse_rate("1e3", &r, err, sizeof err), 0);
    assert_true(r == 1000.0);
    assert_int_equal(parse_rate("100000000", &r, err, sizeof err), 0); /* 1e8: the upper limit */
    assert_true(r == 1e8);

    const char *bad[] = {"",    "0",   "0.0", "-1",  "-0.5",  "abc", "10rps",
                         "10 ", "nan", "inf", "1e9", "1e400", "1,5", "100000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = -7;
        err[0] = '\0';
        if (parse_rate(bad[i], &r, err, sizeof err) == 0)
            fail_msg("rate \"%s\" accepted as %g", bad[i], r);
        assert_true(r == -7);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        assert_non_null(strstr(err, quoted));
    }
    assert_int_equal(parse_rate(NULL, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid rate"));
}

/* ---- integers ------------------------------------------------------------------------------ */

static void test_int(void **state) {
    char err[256] = "";
    int64_t v = 0;
    assert_int_equal(parse_int("0", 0, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(parse_int("10", 0, 10, &v, err, sizeof err), 0); /* max is inclusive */
    assert_int_equal(v, 10);
    assert_int_equal(parse_int("1", 1, 1024, &v, err, sizeof err), 0); /* min is inclusive */
    assert_int_equal(v, 1);
    assert_int_equal(parse_int("-5", -10, 10, &v, err, sizeof err), 0);
    assert_int_equal(v, -5);
    assert_int_equal(parse_int("9223372036854775807", 0, INT64_MAX, &v, err, sizeof err), 0);
    assert_true(v == INT64_MAX);
    assert_int_equal(parse_int("-9223372036854775808", INT64_MIN, 0, &v, err, sizeof err), 0);
    assert_true(v == INT64_MIN);

    struct {
        const char *s;
        int64_t min, max;
    } bad[] = {
        {"", 0, 10},       {"11", 0, 10},
        {"0", 1, 1024},    {"-1", 0, 10},
        {"1.5", 0, 10},    {"1e3", 0, 5000},
        {"10k", 0, 1e6},   {"0x10", 0, 100},
        {"abc", 0, 10},    {"5 ", 0, 10},
        {"1025", 1, 1024}, {"9223372036854775808", 0, INT64_MAX}, /* one past INT64_MAX: ERANGE */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = -77;
        err[0] = '\0';
        if (parse_int(bad[i].s, bad[i].min, bad[i].max, &v, err, sizeof err) == 0)
            fail_msg("int \"%s\" in [%lld, %lld] accepted as %lld", bad[i].s, (long long)bad[i].min,
                     (long long)bad[i].max, (long long)v);
        assert_int_equal(v, -77);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i].s);
        assert_non_null(strstr(err, quoted));
    }
    /* the error states the allowed range */
    assert_int_equal(parse_int("2000", 1, 1024, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "from 1 to 1024"));
    assert_int_equal(parse_int(NULL, 0, 1, &v, err, sizeof err), -1);
}

/* ---- stage lists --------------------------------------------------------------------------- */

static void test_stages_basic(void **state) {
    char err[256] = "";
    parse_stage *st = NULL;
    int n = -1;
    assert_int_equal(parse_stages("10s:100,30s:2000,10s:0", &st, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_non_null(st);
    assert_int_equal(st[0].duration_ns, 10000000000LL);
    assert_true(st[0].target_rps == 100.0);
    assert_int_equal(st[1].duration_ns, 30000000000LL);
    assert_true(st[1].target_rps == 2000.0);
    assert_int_equal(st[2].duration_ns, 10000000000LL);
    assert_true(st[2].target_rps == 0.0); /* rate 0 is allowed in a stage */
    free(st);

    assert_int_equal(parse_stages("500ms:12.5", &st, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(st[0].duration_ns, 500000000LL);
    assert_true(st[0].target_rps == 12.5);
    free(st);

    /* stage durations use every duration form: bare seconds, m, h, us, fractions */
    assert_int_equal(parse_stages("2:1,1m:2,0.001h:3,1500us:4,1.001s:5", &st, &n, err, sizeof err),
                     0);
    assert_int_equal(n, 5);
    assert_int_equal(st[0].duration_ns, 2000000000LL);  /* 2 s */
    assert_int_equal(st[1].duration_ns, 60000000000LL); /* 60 s */
    assert_int_equal(st[2].duration_ns, 3600000000LL);  /* 0.001 * 3600 s = 3.6 s */
    assert_int_equal(st[3].duration_ns, 1500000LL);     /* 1500 us = 1.5 ms */
    assert_int_equal(st[4].duration_ns, 1001000000LL);  /* 1.001 s exactly */
    for (int i = 0; i < 5; i++) assert_true(st[i].target_rps == (double)(i + 1));
    free(st);
}

/* More stages than the initial array holds (8): the array must grow and keep every value. */
static void test_stages_many(void **state) {
    char text[4096] = "";
    size_t len = 0;
    for (int i = 1; i <= 100; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%dms:%d", i > 1 ? "," : "", i,
                                i * 10);
    char err[256] = "";
    parse_stage *st = NULL;
    int n = 0;
    assert_int_equal(parse_stages(text, &st, &n, err, sizeof err), 0);
    assert_int_equal(n, 100);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(st[i].duration_ns, (int64_t)(i + 1) * 1000000); /* (i+1) ms */
        assert_true(st[i].target_rps == (double)((i + 1) * 10));
    }
    free(st);
    /* exactly 8 and 9 stages: the boundary of the first growth */
    for (int count = 7; count <= 9; count++) {
        len = 0;
        text[0] = '\0';
        for (int i = 0; i < count; i++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%s1s:%d", i ? "," : "", i);
        assert_int_equal(parse_stages(text, &st, &n, err, sizeof err), 0);
        assert_int_equal(n, count);
        for (int i = 0; i < count; i++) assert_true(st[i].target_rps == (double)i);
        free(st);
    }
}

static void stages_bad(const char *s, const char *want) {
    char err[256] = "";
    parse_stage *st = (parse_stage *)&err; /* any non-NULL value: must be reset to NULL */
    int n = 99;
    if (parse_stages(s, &st, &n, err, sizeof err) == 0) {
        free(st);
        fail_msg("stages \"%s\" accepted", s ? s : "(null)");
    }
    assert_null(st);
    assert_int_equal(n, 0);
    if (!strstr(err, want)) fail_msg("stages \"%s\": error \"%s\" lacks \"%s\"", s, err, want);
}

static void test_stages_rejects(void **state) {
    stages_bad(NULL, "empty stage list");
    stages_bad("", "empty stage list");
    stages_bad(",", "empty stage list");
    stages_bad("10s", "invalid stage '10s'");              /* no colon */
    stages_bad("10s:100,30s", "invalid stage '30s'");      /* second stage lacks a rate */
    stages_bad(":100", "invalid stage duration ''");       /* no duration */
    stages_bad("0s:100", "invalid stage duration '0s'");   /* zero duration */
    stages_bad("-1s:100", "invalid stage duration '-1s'"); /* negative duration */
    stages_bad("10x:100", "invalid stage duration '10x'"); /* bad unit */
    stages_bad("10s:", "invalid stage rate ''");           /* no rate */
    stages_bad("10s:-1", "invalid stage rate '-1'");       /* negative rate */
    stages_bad("10s:abc", "invalid stage rate 'abc'");
    stages_bad("10s:100rps", "invalid stage rate '100rps'");
    stages_bad("10s:100:5", "invalid stage rate '100:5'"); /* two colons */
    stages_bad("10s:nan", "invalid stage rate 'nan'");
    stages_bad("10s:inf", "invalid stage rate 'inf'");
    stages_bad("10s:1e9", "invalid stage rate '1e9'"); /* above the 1e8 rps limit */
    /* an error after the array has grown past its first 8 slots must free it (ASan: no leak) */
    stages_bad("1s:1,1s:2,1s:3,1s:4,1s:5,1s:6,1s:7,1s:8,1s:9,1s:10,1s:x", "invalid stage rate 'x'");
    /* each duration fits in int64 (2.5e6 h = 9e18 ns), but two of them add up to 1.8e19 ns, past
     * INT64_MAX (9.22e18): the total schedule length would overflow */
    stages_bad("2500000h:1,2500000h:1", "total");
}

/* A total just under the limit is still fine: 9e18 + 2e17 = 9.2e18 < INT64_MAX = 9.223e18. */
static void test_stages_large_total(void **state) {
    char err[256] = "";
    parse_stage *st = NULL;
    int n = 0;
    /* 200000000 s = 2e8 * 1e9 ns = 2e17 ns */
    assert_int_equal(parse_stages("2500000h:1,200000000s:1", &st, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(st[0].duration_ns, 9000000000000000000LL);
    assert_int_equal(st[1].duration_ns, 200000000000000000LL);
    free(st);
}

UNIT_MAIN(test_duration_units, test_duration_fractions_exact, test_duration_rejects,
          test_duration_empty_message, test_rate, test_int, test_stages_basic, test_stages_many,
          test_stages_rejects, test_stages_large_total)
