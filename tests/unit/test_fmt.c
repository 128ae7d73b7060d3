/* test_fmt.c — unit tests for src/core/fmt.c: the hand-written decimal formatting of request
 * templates and signature timestamps, checked against snprintf at every length boundary, at the
 * extremes of both types and over a million pseudo-random values. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/fmt.h"
#include "unit.h"

static void expect_u64(uint64_t v) {
    char want[32], got[FMT_INT_MAX + 1];
    int n = snprintf(want, sizeof want, "%llu", (unsigned long long)v);
    memset(got, 'x', sizeof got);
    size_t len = fmt_u64(got, v);
    assert_int_equal(len, (size_t)n);
    assert_memory_equal(got, want, len);
    assert_int_equal(got[len], 'x'); /* nothing written past the digits, no NUL */
}

static void expect_i64(int64_t v) {
    char want[32], got[FMT_INT_MAX + 1];
    int n = snprintf(want, sizeof want, "%lld", (long long)v);
    memset(got, 'x', sizeof got);
    size_t len = fmt_i64(got, v);
    assert_int_equal(len, (size_t)n);
    assert_memory_equal(got, want, len);
    assert_int_equal(got[len], 'x');
}

static void test_extremes(void **state) {
    expect_u64(0);
    expect_u64(UINT64_MAX);
    expect_i64(0);
    expect_i64(INT64_MAX);
    expect_i64(INT64_MIN);
    expect_i64(INT64_MIN + 1);
    char buf[FMT_INT_MAX];
    assert_int_equal(fmt_u64(buf, UINT64_MAX), FMT_INT_MAX);
    assert_int_equal(fmt_i64(buf, INT64_MIN), FMT_INT_MAX);
}

/* Every power of ten and its neighbours: where the digit count changes. */
static void test_length_boundaries(void **state) {
    uint64_t p = 1;
    for (int i = 0; i < 20; i++) {
        expect_u64(p - 1);
        expect_u64(p);
        expect_u64(p + 1);
        if (p <= (uint64_t)INT64_MAX) {
            expect_i64((int64_t)p);
            expect_i64(-(int64_t)p);
            expect_i64(1 - (int64_t)p);
        }
        if (i < 19) p *= 10;
    }
}

static void test_random(void **state) {
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 1000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x >> (x & 63); /* all magnitudes */
        expect_u64(v);
        expect_i64((x & 64) ? (int64_t)(v >> 1) : -(int64_t)(v >> 1));
    }
}

UNIT_MAIN(test_extremes, test_length_boundaries, test_random)
