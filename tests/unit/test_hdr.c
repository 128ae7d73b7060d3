/* test_hdr.c — unit tests for the HDR histogram (src/core/hdr.c): the bucket layout against
 * numbers published by other HdrHistogram implementations, percentiles, mean and deviation
 * computed by hand, merge, both iterators, the V2 encoding round trip, decoding of histograms
 * that the Java, JavaScript, Go and Vala libraries wrote, and malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/b64.h"
#include "core/hdr.h"

#include "unit_hdr.h"
#include "unit.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A latency-like value: log-uniform over 1 .. 2^31 (up to about 36 minutes in µs). */
static int64_t random_latency(uint64_t *s) {
    uint64_t r = splitmix64(s);
    int bits = (int)(r % 31) + 1;
    return 1 + (int64_t)((r >> 8) & ((UINT64_C(1) << bits) - 1));
}

static hdr_hist *decode_ok(const char *b64) {
    char err[256] = "";
    hdr_hist *h = hdr_decode_base64(b64, err, sizeof err);
    if (!h) fail_msg("decode failed: %s", err);
    return h;
}

static void assert_decode_fails(const uint8_t *buf, size_t len) {
    char err[256] = "";
    hdr_hist *h = hdr_decode(buf, len, err, sizeof err);
    if (h) {
        hdr_free(h);
        fail_msg("malformed input of %zu bytes was accepted", len);
    }
    assert_true(strlen(err) > 0);
    assert_null(strchr(err, '\n'));
}

/* The bytes behind another library's base64 text, decoded independently of hdr_decode. */
static size_t test_b64_decode(const char *s, uint8_t *out, size_t cap) {
    size_t n = strlen(s);
    assert_true(b64_decoded_max(n) <= cap);
    long len = b64_decode(s, n, out, B64_STRICT);
    assert_true(len >= 0);
    return (size_t)len;
}

/* Inflates the zlib stream of a compressed encoding: the plain V2 bytes inside. */
static size_t inflate_v2(const uint8_t *bin, size_t len, uint8_t *out, size_t cap) {
    assert_true(len > 8);
    uLongf n = (uLongf)cap;
    assert_int_equal(uncompress(out, &n, bin + 8, (uLong)(len - 8)), Z_OK);
    return (size_t)n;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v) {
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Builds a plain V2 encoding with the given header and payload. */
static size_t make_v2(uint8_t *buf, uint32_t payload_len, uint32_t digits, uint64_t lowest,
                      uint64_t highest, const uint8_t *payload, size_t n) {
    put32(buf, 0x1c849313u);
    put32(buf + 4, payload_len);
    put32(buf + 8, 0);
    put32(buf + 12, digits);
    put64(buf + 16, lowest);
    put64(buf + 24, highest);
    put64(buf + 32, UINT64_C(0x3ff0000000000000)); /* 1.0 */
    memcpy(buf + 40, payload, n);
    return 40 + n;
}

/* Wraps a plain V2 encoding into the compressed form. */
static size_t make_compressed(uint8_t *out, size_t cap, const uint8_t *plain, size_t n) {
    uLongf zlen = (uLongf)(cap - 8);
    assert_int_equal(compress(out + 8, &zlen, plain, (uLong)n), Z_OK);
    put32(out, 0x1c849314u);
    put32(out + 4, (uint32_t)zlen);
    return 8 + zlen;
}

/* ---- layout -----------------------------------------------------------------------------------
 */

/* hdr_new(lowest, highest, digits) with this layout (-1: not checked); the caller frees it. */
static hdr_hist *layout(int64_t lowest, int64_t highest, int digits, int32_t bucket_count,
                        int32_t sub_bucket_count, int32_t counts_len) {
    hdr_hist *h = hdr_new(lowest, highest, digits);
    if (!h)
        fail_msg("hdr_new(%lld, %lld, %d) failed", (long long)lowest, (long long)highest, digits);
    const struct {
        const char *name;
        int32_t got, want;
    } f[] = {{"bucket_count", h->bucket_count, bucket_count},
             {"sub_bucket_count", h->sub_bucket_count, sub_bucket_count},
             {"counts_len", h->counts_len, counts_len}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].want >= 0 && f[i].got != f[i].want)
            fail_msg("hdr_new(%lld, %lld, %d): %s %d, want %d", (long long)lowest,
                     (long long)highest, digits, f[i].name, f[i].got, f[i].want);
    return h;
}

static void test_layout_matches_hdrhistogram(void **state) {
    /* HdrHistogram/HdrHistogram_py test/test_hdrhistogram.py test_basic: 1 .. 1 h in µs, 3 digits
     */
    hdr_hist *h = hdr_new_default();
    assert_non_null(h);
    assert_int_equal(h->bucket_count, 22);
    assert_int_equal(h->sub_bucket_count, 2048);
    assert_int_equal(h->counts_len, 23552);
    assert_int_equal(h->unit_magnitude, 0);
    assert_int_equal(h->sub_bucket_half_count_magnitude, 10);
    assert_int_equal(h->sub_bucket_half_count, 1024);
    assert_int_equal(h->sub_bucket_mask, 2047);
    assert_int_equal(h->min_value, INT64_MAX);
    assert_int_equal(h->max_value, 0);
    hdr_free(h);

    /* lcallarec/HdrHistogram_vala tests/Histogram.test.vala "/HdrHistogram/Histogram/init" */
    hdr_free(layout(1, 9007199254740991LL, 3, 43, 2048, 45056));

    /* by hand: lowest 1000 -> unit magnitude 9; 2 digits -> 200 -> 256 sub-buckets;
     * 256 << 9 = 131072; doubling to exceed 1e9 takes 13 more buckets */
    h = layout(1000, 1000000000LL, 2, 14, 256, 15 * 128);
    assert_int_equal(h->unit_magnitude, 9);
    assert_int_equal(h->sub_bucket_half_count_magnitude, 7);
    hdr_free(h);

    /* 5 digits: 2 * 10^5 -> 2^18 sub-buckets */
    hdr_free(layout(1, 1000000, 5, -1, 262144, -1));
}

static void test_new_rejects_bad_arguments(void **state) {
    assert_null(hdr_new(0, 1000, 3));
    assert_null(hdr_new(-5, 1000, 3));
    assert_null(hdr_new(1, 1, 3));
    assert_null(hdr_new(100, 199, 3));
    assert_null(hdr_new(1, 1000, 0));
    assert_null(hdr_new(1, 1000, 6));
    assert_null(hdr_new(1, -1000, 3));
    assert_null(hdr_new_like(NULL));
    hdr_hist *h = hdr_new(1, 2, 3);
    assert_non_null(h);
    hdr_hist *g = hdr_new_like(h);
    assert_non_null(g);
    assert_int_equal(g->counts_len, h->counts_len);
    hdr_free(g);
    hdr_free(h);
    hdr_free(NULL);
}

static void test_equivalent_values(void **state) {
    hdr_hist *h = hdr_new_default();
    /* HdrHistogram_py test_scaled_highest_equiv_value and test_highest_equivalent_value */
    assert_int_equal(hdr_highest_equivalent(h, 8180), 8183);
    assert_int_equal(hdr_highest_equivalent(h, 8191), 8191);
    assert_int_equal(hdr_highest_equivalent(h, 8193), 8199);
    assert_int_equal(hdr_highest_equivalent(h, 9995), 9999);
    assert_int_equal(hdr_highest_equivalent(h, 10007), 10007);
    assert_int_equal(hdr_highest_equivalent(h, 10008), 10015);
    assert_int_equal(hdr_highest_equivalent(h, 8180 * 1024), 8183 * 1024 + 1023);
    assert_int_equal(hdr_highest_equivalent(h, 8191 * 1024), 8191 * 1024 + 1023);
    assert_int_equal(hdr_highest_equivalent(h, 8193 * 1024), 8199 * 1024 + 1023);
    assert_int_equal(hdr_highest_equivalent(h, 9995 * 1024), 9999 * 1024 + 1023);
    assert_int_equal(hdr_highest_equivalent(h, 10007 * 1024), 10007 * 1024 + 1023);
    assert_int_equal(hdr_highest_equivalent(h, 10008 * 1024), 10015 * 1024 + 1023);
    /* exact below 2048, then buckets of 2, 4, ... */
    assert_int_equal(hdr_lowest_equivalent(h, 2047), 2047);
    assert_int_equal(hdr_lowest_equivalent(h, 2049), 2048);
    assert_int_equal(hdr_lowest_equivalent(h, 10007), 10000);
    assert_true(hdr_values_equivalent(h, 10000, 10007));
    assert_false(hdr_values_equivalent(h, 10007, 10008));
    assert_int_equal(hdr_highest_equivalent(h, 0), 0);
    assert_int_equal(hdr_lowest_equivalent(h, 0), 0);
    /* the top bucket of the widest layout does not overflow */
    hdr_hist *w = hdr_new(1, INT64_MAX, 3);
    assert_non_null(w);
    assert_int_equal(hdr_highest_equivalent(w, INT64_MAX), INT64_MAX);
    assert_true(hdr_record(w, INT64_MAX));
    assert_int_equal(hdr_max(w), INT64_MAX);
    hdr_free(w);
    hdr_free(h);
}

/* ---- recording and statistics ------------------------------------------------------------------
 */

static void test_uniform_1_to_10000(void **state) {
    hdr_hist *h = hdr_new_default();
    for (int64_t v = 1; v <= 10000; v++) assert_true(hdr_record(h, v));
    assert_int_equal(hdr_total(h), 10000);
    assert_int_equal(hdr_min(h), 1);
    assert_int_equal(hdr_max(h), 10007); /* 8192 .. 16383 in buckets of 8: [10000, 10007] */
    assert_true(hdr_values_equivalent(h, hdr_max(h), 10000));

    /* rank ceil(p/100 * 10000); the answer is the top of the bucket holding that rank */
    assert_int_equal(hdr_value_at_percentile(h, 0.0), 1);
    assert_int_equal(hdr_value_at_percentile(h, 10.0), 1000); /* exact below 2048 */
    assert_int_equal(hdr_value_at_percentile(h, 25.0), 2501); /* [2500, 2501] */
    assert_int_equal(hdr_value_at_percentile(h, 50.0), 5003); /* [5000, 5003] */
    assert_true(hdr_values_equivalent(h, hdr_value_at_percentile(h, 50.0), 5000));
    assert_int_equal(hdr_value_at_percentile(h, 90.0), 9007);  /* [9000, 9007] */
    assert_int_equal(hdr_value_at_percentile(h, 99.0), 9903);  /* rank 9900 in [9896, 9903] */
    assert_int_equal(hdr_value_at_percentile(h, 99.9), 9991);  /* rank 9990 in [9984, 9991] */
    assert_int_equal(hdr_value_at_percentile(h, 99.99), 9999); /* rank 9999 in [9992, 9999] */
    assert_int_equal(hdr_value_at_percentile(h, 100.0), 10007);
    assert_int_equal(hdr_value_at_percentile(h, 250.0), 10007); /* clamped to 100 */
    assert_int_equal(hdr_value_at_percentile(h, -3.0), 1);      /* clamped to 0 */

    /* mean and deviation use each bucket's middle value, as HdrHistogram does: exact below 2048,
     * then up to half a unit high per value */
    assert_true(fabs(hdr_mean(h) - 5000.5) < 1.0);
    double uniform_sd = sqrt((10000.0 * 10000.0 - 1.0) / 12.0); /* 2886.75 */
    assert_true(fabs(hdr_stdev(h) - uniform_sd) < uniform_sd * 0.001);
    hdr_free(h);
}

static void test_percentile_rank_rule(void **state) {
    /* values 1..n below 2048 have buckets of one, so the value at p is the rank itself:
     * ceil(p/100 * n), at least 1; the percentages are a/b exactly, so the rank is computed in
     * integers here, and the double arithmetic in hdr.c must not round it up (7% of 100 is 7) */
    static const struct {
        int64_t a, b;
        double p;
    } pcts[] = {{0, 1, 0.0},     {1, 1, 1.0},   {25, 1, 25.0},   {50, 1, 50.0},
                {90, 1, 90.0},   {99, 1, 99.0}, {999, 10, 99.9}, {9999, 100, 99.99},
                {333, 10, 33.3}, {7, 10, 0.7},  {100, 1, 100.0}, {59, 1, 59.0},
                {57, 1, 57.0},   {29, 1, 29.0}, {58, 1, 58.0},   {14, 1, 14.0},
                {7, 1, 7.0}};
    hdr_hist *h = hdr_new_default();
    for (int64_t n = 1; n <= 2000; n++) {
        assert_true(hdr_record(h, n));
        for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
            int64_t num = pcts[i].a * n, den = 100 * pcts[i].b;
            int64_t rank = (num + den - 1) / den;
            if (rank < 1) rank = 1;
            int64_t got = hdr_value_at_percentile(h, pcts[i].p);
            if (got != rank)
                fail_msg("n=%lld p=%g: got %lld, want rank %lld", (long long)n, pcts[i].p,
                         (long long)got, (long long)rank);
        }
    }
    hdr_free(h);
}

static hdr_hist *python_load_histogram(void) {
    /* HdrHistogram_py test_hdrhistogram.py load_histogram(): 1000 µs ten thousand times, one
     * 100 s outlier */
    hdr_hist *h = hdr_new_default();
    assert_true(hdr_record_n(h, 1000, 10000));
    assert_true(hdr_record(h, 100000000));
    return h;
}

static void assert_percentile_near(const hdr_hist *h, double p, double want) {
    double got = (double)hdr_value_at_percentile(h, p);
    if (fabs(got - want) >= want * 0.001) fail_msg("p%g = %g, want %g", p, got, want);
}

static void test_record_n_and_outlier_percentiles(void **state) {
    hdr_hist *h = python_load_histogram();
    assert_int_equal(hdr_total(h), 10001);
    assert_int_equal(hdr_count_at_value(h, 1000), 10000);
    assert_int_equal(hdr_count_at_value(h, 100000000), 1);
    assert_int_equal(hdr_count_at_value(h, 999), 0);
    assert_percentile_near(h, 30.0, 1000.0);
    assert_percentile_near(h, 99.0, 1000.0);
    assert_percentile_near(h, 99.99, 1000.0);
    assert_percentile_near(h, 99.999, 100000000.0);
    assert_percentile_near(h, 100.0, 100000000.0);
    assert_true(hdr_values_equivalent(h, hdr_min(h), 1000));
    assert_true(hdr_values_equivalent(h, hdr_max(h), 100000000));
    /* n = 0 records nothing; a negative n is refused */
    assert_true(hdr_record_n(h, 5, 0));
    assert_false(hdr_record_n(h, 5, -1));
    assert_int_equal(hdr_total(h), 10001);
    assert_int_equal(hdr_min(h), 1000);
    hdr_reset(h);
    assert_int_equal(hdr_total(h), 0);
    assert_int_equal(hdr_max(h), 0);
    assert_int_equal(hdr_value_at_percentile(h, 99.0), 0);
    hdr_free(h);
}

static void test_mean_and_stdev_by_hand(void **state) {
    /* HdrHistogram_py test_mean_stddev: 3000 sits in [3000, 3001] whose middle is 3001, so the
     * mean is (1000 + 1000 + 3001 + 3001) / 4 and every value is 1000.5 away from it */
    hdr_hist *h = hdr_new_default();
    int64_t values[] = {1000, 1000, 3000, 3000};
    for (size_t i = 0; i < 4; i++) assert_true(hdr_record(h, values[i]));
    assert_true(hdr_mean(h) == 2000.5);
    assert_true(hdr_stdev(h) == 1000.5);
    hdr_free(h);
}

static void test_large_numbers(void **state) {
    /* after HdrHistogram_py test_large_numbers: lowest 2e7 (unit magnitude 24), 5 digits. The
     * Python port rounds the rank to nearest (its boundary is at 83.33%); with the rank rounded
     * up as Java's HdrHistogram does, the boundaries are at 33.33% and 66.66% */
    hdr_hist *h = hdr_new(20000000, 100000000, 5);
    assert_non_null(h);
    assert_int_equal(h->unit_magnitude, 24);
    assert_true(hdr_record(h, 100000000));
    assert_true(hdr_record(h, 20000000));
    assert_true(hdr_record(h, 30000000));
    assert_true(hdr_values_equivalent(h, 20000000, hdr_value_at_percentile(h, 33.33)));
    assert_true(hdr_values_equivalent(h, 30000000, hdr_value_at_percentile(h, 33.34)));
    assert_true(hdr_values_equivalent(h, 30000000, hdr_value_at_percentile(h, 50.0)));
    assert_true(hdr_values_equivalent(h, 30000000, hdr_value_at_percentile(h, 66.66)));
    assert_true(hdr_values_equivalent(h, 100000000, hdr_value_at_percentile(h, 66.67)));
    assert_true(hdr_values_equivalent(h, 100000000, hdr_value_at_percentile(h, 99.0)));
    assert_true(hdr_values_equivalent(h, hdr_min(h), 20000000));
    assert_true(hdr_values_equivalent(h, hdr_max(h), 100000000));
    hdr_free(h);
}

static void test_out_of_range_values_are_rejected(void **state) {
    hdr_hist *h = hdr_new_default();
    assert_false(hdr_record(h, -1));
    assert_false(hdr_record(h, HDR_DEFAULT_HIGHEST + 1));
    assert_false(hdr_record(h, INT64_MAX));
    assert_false(hdr_record_n(h, HDR_DEFAULT_HIGHEST + 1, 7));
    assert_int_equal(hdr_total(h), 0);
    assert_true(hdr_record(h, HDR_DEFAULT_HIGHEST));
    assert_true(hdr_values_equivalent(h, hdr_max(h), HDR_DEFAULT_HIGHEST));
    assert_true(hdr_record(h, 0));
    assert_int_equal(hdr_min(h), 0);
    assert_int_equal(hdr_total(h), 2);
    assert_int_equal(hdr_count_at_value(h, -1), 0);
    assert_int_equal(hdr_count_at_value(h, INT64_MAX), 0);
    hdr_free(h);
}

static void test_empty_histogram(void **state) {
    hdr_hist *h = hdr_new_default();
    assert_int_equal(hdr_total(h), 0);
    assert_int_equal(hdr_min(h), 0);
    assert_int_equal(hdr_max(h), 0);
    assert_true(hdr_mean(h) == 0.0);
    assert_true(hdr_stdev(h) == 0.0);
    assert_int_equal(hdr_value_at_percentile(h, 50.0), 0);
    hdr_iter it;
    hdr_iter_init(&it, h);
    assert_false(hdr_iter_next(&it));
    hdr_pct_iter pit;
    hdr_pct_iter_init(&pit, h, 5);
    assert_false(hdr_pct_iter_next(&pit));
    hdr_free(h);
}

/* ---- merge ------------------------------------------------------------------------------------
 */

static void test_merge_equals_single_histogram(void **state) {
    uint64_t seed = 42;
    hdr_hist *a = hdr_new_default(), *b = hdr_new_default(), *all = hdr_new_default();
    for (int i = 0; i < 20000; i++) {
        int64_t v = random_latency(&seed);
        assert_true(hdr_record(i % 3 ? a : b, v));
        assert_true(hdr_record(all, v));
    }
    assert_true(hdr_record(b, 0));
    assert_true(hdr_record(all, 0));
    assert_int_equal(hdr_merge(a, b), 0);
    assert_same_hist(a, all);
    assert_int_equal(a->min_value, all->min_value);
    assert_int_equal(a->max_value, all->max_value);
    for (double p = 0; p <= 100.0; p += 0.5)
        assert_int_equal(hdr_value_at_percentile(a, p), hdr_value_at_percentile(all, p));

    /* into an empty histogram of the same layout: an identical copy */
    hdr_hist *copy = hdr_new_like(all);
    assert_int_equal(hdr_merge(copy, all), 0);
    assert_same_hist(copy, all);
    assert_int_equal(copy->min_value, all->min_value);
    assert_int_equal(copy->max_value, all->max_value);
    /* merging an empty one changes nothing */
    hdr_hist *empty = hdr_new_like(all);
    assert_int_equal(hdr_merge(copy, empty), 0);
    assert_same_hist(copy, all);
    hdr_free(empty);
    hdr_free(copy);
    hdr_free(a);
    hdr_free(b);
    hdr_free(all);
}

static void test_merge_across_layouts(void **state) {
    uint64_t seed = 7;
    hdr_hist *src = hdr_new_default();
    int64_t beyond = 0;
    for (int i = 0; i < 5000; i++) {
        int64_t v = random_latency(&seed);
        assert_true(hdr_record(src, v));
        if (hdr_lowest_equivalent(src, v) > 1000000) beyond++;
    }
    /* a coarser, shorter histogram: counts re-recorded at their bucket's lowest value */
    hdr_hist *dst = hdr_new(1, 1000000, 2);
    int64_t dropped = hdr_merge(dst, src);
    assert_int_equal(dropped, beyond);
    assert_int_equal(hdr_total(dst) + dropped, hdr_total(src));
    assert_true(hdr_total(dst) > 0);
    assert_true(hdr_values_equivalent(dst, hdr_min(dst), hdr_min(src)));
    hdr_free(dst);

    /* same precision, shorter range: what lies above 100000 is reported, the rest is exact */
    hdr_hist *short_dst = hdr_new(1, 100000, 3);
    dropped = hdr_merge(short_dst, src);
    int64_t kept = 0;
    hdr_iter it;
    hdr_iter_init(&it, src);
    while (hdr_iter_next(&it)) {
        if (it.value_lowest <= 100000) {
            kept += it.count;
            assert_int_equal(hdr_count_at_value(short_dst, it.value_lowest), it.count);
        }
    }
    assert_int_equal(hdr_total(short_dst), kept);
    assert_int_equal(dropped, hdr_total(src) - kept);
    assert_int_equal(hdr_min(short_dst), hdr_min(src));
    assert_true(short_dst->max_value <= 100000);
    hdr_free(short_dst);
    hdr_free(src);
}

/* ---- iteration --------------------------------------------------------------------------------
 */

static void check_recorded_iter(const hdr_hist *h) {
    int32_t nonzero = 0;
    for (int32_t i = 0; i < h->counts_len; i++) nonzero += h->counts[i] != 0;
    hdr_iter it;
    hdr_iter_init(&it, h);
    int32_t steps = 0, prev = -1;
    int64_t sum = 0;
    while (hdr_iter_next(&it)) {
        steps++;
        assert_true(it.index > prev);
        prev = it.index;
        assert_true(it.count != 0);
        assert_int_equal(it.count, h->counts[it.index]);
        sum += it.count;
        assert_int_equal(it.cumulative, sum);
        assert_int_equal(it.value, hdr_highest_equivalent(h, it.value_lowest));
        assert_int_equal(it.value_lowest, hdr_lowest_equivalent(h, it.value));
        assert_int_equal(hdr_count_at_value(h, it.value_lowest), it.count);
    }
    assert_int_equal(steps, nonzero);
    assert_int_equal(sum, hdr_total(h));
    assert_false(hdr_iter_next(&it));
}

static void test_recorded_iterator(void **state) {
    hdr_hist *h = python_load_histogram();
    hdr_iter it;
    hdr_iter_init(&it, h);
    assert_true(hdr_iter_next(&it));
    assert_int_equal(it.count, 10000);
    assert_int_equal(it.value, 1000);
    assert_true(hdr_iter_next(&it));
    assert_int_equal(it.count, 1);
    assert_true(hdr_values_equivalent(h, it.value, 100000000));
    assert_int_equal(it.cumulative, 10001);
    assert_false(hdr_iter_next(&it));
    check_recorded_iter(h);
    hdr_free(h);

    uint64_t seed = 99;
    h = hdr_new_default();
    for (int i = 0; i < 30000; i++) hdr_record(h, random_latency(&seed));
    hdr_record(h, 0);
    check_recorded_iter(h);
    hdr_free(h);
}

static void check_percentile_iter(const hdr_hist *h) {
    hdr_pct_iter it;
    hdr_pct_iter_init(&it, h, 5);
    double prev_p = -1.0;
    int64_t prev_v = -1;
    int steps = 0;
    while (hdr_pct_iter_next(&it)) {
        steps++;
        assert_true(steps < 10000);
        if (!(it.percentile > prev_p))
            fail_msg("percentile %.12f after %.12f", it.percentile, prev_p);
        assert_true(it.value >= prev_v);
        if (it.percentile == 0.0) assert_int_equal(it.value, hdr_highest_equivalent(h, hdr_min(h)));
        /* HdrHistogram_py test_percentile_iterator: each step is the value at that percentile */
        assert_int_equal(it.value,
                         hdr_highest_equivalent(h, hdr_value_at_percentile(h, it.percentile)));
        assert_true(it.total_to_here >= 1 && it.total_to_here <= hdr_total(h));
        prev_p = it.percentile;
        prev_v = it.value;
    }
    assert_true(steps >= 2); /* at least the first value and the final 100% */
    if (hdr_total(h) > 100) assert_true(steps > 20);
    assert_true(prev_p == 100.0);
    assert_int_equal(prev_v, hdr_max(h));
    assert_false(hdr_pct_iter_next(&it));
}

static void test_percentile_iterator(void **state) {
    hdr_hist *h = python_load_histogram();
    check_percentile_iter(h);
    /* the first steps, as outputPercentileDistribution prints them: 0%, 10%, 20% ... */
    hdr_pct_iter it;
    hdr_pct_iter_init(&it, h, 5);
    double want[] = {0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 77.5};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_true(hdr_pct_iter_next(&it));
        assert_true(fabs(it.percentile - want[i]) < 1e-9);
        assert_int_equal(it.value, 1000);
    }
    hdr_free(h);

    h = hdr_new_default();
    for (int64_t v = 1; v <= 10000; v++) hdr_record(h, v);
    check_percentile_iter(h);
    hdr_free(h);

    uint64_t seed = 5;
    h = hdr_new_default();
    for (int i = 0; i < 10000; i++) hdr_record(h, random_latency(&seed));
    check_percentile_iter(h);
    hdr_free(h);

    h = hdr_new_default();
    hdr_record(h, 777);
    check_percentile_iter(h);
    hdr_free(h);
}

/* ---- encoding round trip ----------------------------------------------------------------------
 */

static void check_round_trip(const hdr_hist *h) {
    char *b64 = hdr_encode_base64(h);
    assert_non_null(b64);
    assert_memory_equal(b64, "HISTF", 5); /* 0x1c849314 in base64 */
    hdr_hist *back = decode_ok(b64);
    assert_same_hist(h, back);
    hdr_free(back);

    /* the raw compressed bytes, and the base64 handed to hdr_decode as bytes */
    uint8_t *bin = NULL;
    size_t len = 0;
    assert_int_equal(hdr_encode_compressed(h, &bin, &len), 0);
    assert_int_equal(bin[0], 0x1c);
    assert_int_equal(bin[3], 0x14);
    char err[128];
    back = hdr_decode(bin, len, err, sizeof err);
    assert_non_null(back);
    assert_same_hist(h, back);
    hdr_free(back);
    back = hdr_decode((const uint8_t *)b64, strlen(b64), err, sizeof err);
    assert_non_null(back);
    assert_same_hist(h, back);
    hdr_free(back);

    /* and the plain (uncompressed) V2 form inside decodes as well */
    size_t cap = 40 + 9 * (size_t)h->counts_len;
    uint8_t *plain = malloc(cap);
    size_t plen = inflate_v2(bin, len, plain, cap);
    assert_int_equal(plain[3], 0x13);
    back = hdr_decode(plain, plen, err, sizeof err);
    assert_non_null(back);
    assert_same_hist(h, back);
    hdr_free(back);
    free(plain);
    free(bin);
    free(b64);
}

static void test_round_trip(void **state) {
    hdr_hist *h = hdr_new_default();
    check_round_trip(h); /* empty */
    assert_true(hdr_record(h, 12345));
    check_round_trip(h); /* one value */
    hdr_reset(h);
    int64_t spread[] = {0,
                        1,
                        2,
                        3,
                        1000,
                        2047,
                        2048,
                        2049,
                        65535,
                        1000000,
                        3599999999LL,
                        HDR_DEFAULT_HIGHEST - 1000000,
                        HDR_DEFAULT_HIGHEST};
    for (size_t i = 0; i < sizeof spread / sizeof spread[0]; i++)
        assert_true(hdr_record_n(h, spread[i], (int64_t)i * 1000003 + 1));
    assert_true(hdr_record_n(h, 500, INT64_C(1) << 40)); /* counts past 32 bits */
    check_round_trip(h);                                 /* wide spread, values near 1 h */
    hdr_reset(h);
    uint64_t seed = 20240601;
    for (int i = 0; i < 100000; i++) assert_true(hdr_record(h, random_latency(&seed)));
    check_round_trip(h); /* random, fixed seed */
    hdr_free(h);

    /* counts whose ZigZag form needs all nine LEB128 bytes (the ninth carries 8 bits) */
    h = hdr_new_default();
    assert_true(hdr_record_n(h, 3, INT64_C(1) << 62));
    assert_true(hdr_record_n(h, 5000, (INT64_C(1) << 56) + 12345));
    check_round_trip(h);
    hdr_free(h);
    {
        uint8_t nine[9] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80}; /* 2^63 */
        uint8_t plain[64];
        size_t n = make_v2(plain, 9, 3, 1, 1000, nine, 9);
        char err[128];
        hdr_hist *d = hdr_decode(plain, n, err, sizeof err);
        assert_non_null(d);
        assert_int_equal(d->counts[0], INT64_C(1) << 62); /* ZigZag(2^63) = 2^62 */
        hdr_free(d);
    }

    /* other layouts: unit magnitude above 0, each precision */
    for (int digits = 1; digits <= 5; digits++) {
        h = hdr_new(1000, 100000000000LL, digits);
        assert_non_null(h);
        for (int i = 0; i < 2000; i++) hdr_record(h, random_latency(&seed) * 1000);
        check_round_trip(h);
        hdr_free(h);
    }
}

/* ---- interoperability: histograms written by other HdrHistogram libraries ---------------------
 */

/* From HdrHistogram/hdrhistogram-go hdr_encoding_test.go (TestHistogram_Load), also asserted in
 * HdrHistogram/HdrHistogramJS src/encoding.spec.ts: one value, mean 42. */
static const char go_one_42[] = "HISTFAAAAB542pNpmSzMwMDAxAABzFCaEUoz2X+AMIKZAEARAtM=";
/* HdrHistogramJS src/encoding.spec.ts ("should encode and compress an histogram to a base64
 * string"): Int32Histogram(1, 2, 3) after recordValue(42) encodes to exactly this; the Go test
 * above decodes it to one value, mean 42. Its header carries a normalizing index offset of 1,
 * which Java and Go readers treat as internal storage detail (counts are in logical order). */
static const char js_one_42[] = "HISTFAAAAB94nJNpmSzMwMDABMSMQMzMAAGMUJoJxg9mAgA1TQGm";
/* hdr_encoding_test.go: an empty histogram, lowest 20, highest 1000, 3 digits. */
static const char go_empty[] = "HISTFAAAABl4nJNpmSzMgADMUFoEyn1h/wHCAgBDogN4";
/* hdr_encoding_test.go: 10000 values. */
static const char go_big[] =
    "HISTFAAACGB42j1WQY4cuRGks7KzWWwOh1NTGo1GEmzBWCx0EAxjsdiTsdiTD4ZPfoa/4R/4o/7BOiKSrWnNVBWLzIyM"
    "iMzWp//897mUA7/62db1D/n3999//V8umBW74POTPds7+4In2/xq722zv9huj/bRbvZH+2oPdrV3vtu//AOeP9if8Ra7"
    "H7DlhlcPePyo+w1xrrh+84uZFzd7QkyEL/ZXJPgN295jC5bsii0FN084/BXXDQH+jqPMlhn5eYf1D/beb9h7BdSfseM"
    "JGG5C94h3BRFveibyZ9x9wR1KeaebR0P8J/vVfsCbHevv7DOxPxt2/1MrLOQz3j8BH2DjhOHpA/ZfEILRWaD9bZHyb7"
    "z60X6xRxByMzxsQEJsCPlNoP/BFI849WQP/iy+cHJHqG+4veIAWcf+DQ9Y51MRBRueHlRqEbOPXqQR74Ec28Dab9pse"
    "LpqI7na/bPCPuBz0xskIIAvUqVIpQdTcr7/Afje68RHpPwsBrXnUYE3UVy0AYubljZTggshU+gdlTHej6iyJEfXuOb+"
    "B51wcXdbzD/yaFkQNn+fXnHBY7In5Sgi4wb34IYciy83hbxSG/pJFipa+VnByeJXFMPD0pQMoUTc+i3BExV+bgKa98W"
    "YHqk2GnaH+bPg3Xl8X9AEZpcI4qCsDx/9kpfMWJyG3Xz3PQGWDI88N2myqfh1c9H10XQT4qoI1E19uC87cKMLtS2byD"
    "Ws3u6Qnlyet7gqYvHtTnWaKXndXBZ6oo2IGJTnywxyuT/tstx+p2ZTBQKQql6F67ogJCWXxO4cIrhcJfwui1ouMTInw"
    "c1vi8RLtSUuJarJNYtGjgcpuPuDcHBgMMQqyiwZUF0C4ImHhRehVqurp7w0npbmm2yllFTJXEJv3wNJL/LEQlYxFw9b"
    "ei3hmY9oWJO70goSLxpr3q+22EhF434Sa/i58M+yTSKGdHYJW6aETlouZMIyrSbqCgd6N6DyBJ3q4TUmLlNuUcJZoTa"
    "sfmAtSLBpLssdC96+ig9Cu3PKZ0/RNZsyENkDXiZOrusmWXYcjs2yjbDX9ljQfV3ijoMPvEbiJvOeTIGRO0OXO5ll1U"
    "6W2bqhAsDelenq9/Zy+dnVAQv5fudVfUcAG15gGFRGvvrVy3cmNqa+eIlkZbkT7ighNrZEcwmtMaQno241JTed3URhO"
    "uOSE6wsDRapRVnFhpJdkxZfv3GLrJqu5LZLLi+XpOfFaRISd19d6BkMlmBcNOxW0zmF5odgllbO/lCxPEKDkP9lVjKUL"
    "pF/WEXdeA1lYo3A3oSYXIa4KLWwQZitlaixpfXYzniV6nPbQDaPKIIu/SuTBk7JuVhWJJcXeSi80hQMmbTLh7Ws0qsoR"
    "IoadRNFZBY5NtoxP3jp6kjiR8BNdTFbLNRllIj8ErLOgcDV7qsXbKu0SFSK4FU80l7Yhr2DrHNjIAvh8FUGcxqDYlov"
    "qiPVCiXfKhfUcNnAcpHUjNWGjZi5iUiT3bpVYKucA0TM7S5QVWR6PkjCFBx7OuGRIzFcazgUwraS/sk6inedzENVRZn"
    "c0XL0izNrOKxQauPm3tgfqC2p1SqtxgQkpLgaTtR7qIPYghHihqe6NAhbLROaYT2/yJxKcJAJag67xn/6b6UgBtNHzcm"
    "H9Y7LgFTf86nRYCCqKiOrmODpyFlrpsKjKX3AayLK6OKarcUnrJckOKk3fW14fgWsdg0NsEySspJnygVIta7h17Nn2cC"
    "lVc+5Fzp5SW9KQBJZt/Wl4voGoys13gsNjinMmu8y0lhdfLC1kgA1cLBdOoEnj9Sb2hVrfcIPECO8NfwB791rZ19RZ+yL"
    "jmrxjH9QrEPo5r0Ovnd2HQ4OvBit19oqtanRkL2hyOqNkwgP2BzHydZG5CYhu0yGfYFzzkFSOzB1Grnxq9GzE7ypsfxA"
    "FmIYDdfRG9gEUCTD+8ZJAHlG57CAnEgCCqczdMhvAFVUGRAP49xoqBr4bVLNNg2BmiplOoQFPsZ2nOnYxWZrfQBhVIwG"
    "1FZZFT5HdxWrTgweZm/JiCgV25kMEQfrl68rVUECyhTE3CIdELwJze0u0jgrrHfOCrgaK9hdR0eGMch+JXGpTggNzkKI"
    "ThVqBVCUNBobodN+YAqFkUGUCUt0Dg5ALNNGdjwq5ixpnXVoevAAqGM0mgtniDlG5Zxx6HcGItlI7G1SyANyAQDVBFZYh"
    "FTiyhkMX1XBBY+9I2/OMucIxhYaAh+EmVg2+ik/eGO0Jzgg1Zw++iJBgEpWcGl10sUqFw6hd+vp+S0xOHIqC5fGrRIR"
    "q0IxTUZtloyDI9aP8kagP6fmk/us9HEos4YEzrEOCk1BWBtkYk6OXKObwHgMfN81sVnpdliHDPKLDnoWGRJGiK4xPzhj"
    "Kruu9UYpQYh6ASv0lbe0DOdX6ayAmNEkyFoLv7JoQH6o/+CDoS3xt5wqjSpJhHjtjZr1OCA+Ys5ZDzYx/DL6iI4eG8dr"
    "6bOPA7hnbccc53gbPNJHqzgx5zE6/ImJQKMN3OFYe5mQ9qxv/RyvzY854QpIM/AX2/w8xoluoETnnONtvowxZjuPjiLb"
    "S61vwydCAu4x2tlfz47U3A75zonNmEHgZbzM3pAIaNuJQYbFMY8GaMjjAyv1PNtLf208c87XPlBEsLVeZ5/HGfWIAwyj"
    "odoJwmYMR6HH2SfcVnGnsYbTfPiENP316K8Dr8+K4hpIgdlHBUdgox3jBSk6K0YP9qMBzZzRX0CQgwTYPXBw1IHCQDLe"
    "I1kDG/0E0nqOA5+O8EA+XhFytKO1E5MJlZ4dvNY5zzpeHFkhH9K8sS/npFjIZZ8aM4e/NGjUx/BjvCHA0QnkBTHwFqG"
    "O2Y+jw24T0rNF/oT3/Zx06P8BChhtKw==";
/* hdr_encoding_test.go TestHistogram_Load_Errors: a V1 encoding, which must be refused. */
static const char go_v1[] = "HISTIgAAAFd42pNpmazIwMAYxgABTBDKT4GBgdnNYMcCBvsPUBkeBkYGZqA8MwMbA"
                            "zsDC5DFBCTZgJCDQY1BjkGLQZRBlUEPCB8zWDCYMxgDZZkZhgJgHDibAY8JB/A=";
/* lcallarec/HdrHistogram_vala tests/Histogram.encoding.test.vala: Histogram(1, 300, 3) holding
 * 100, 200 and 250 encodes to exactly this. */
static const char vala_100_200_250[] =
    "HISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk";

static void test_interop_go_and_js_vectors(void **state) {
    const char *one_42[] = {go_one_42, js_one_42};
    for (size_t i = 0; i < 2; i++) {
        hdr_hist *h = decode_ok(one_42[i]);
        assert_int_equal(h->lowest, 1);
        assert_int_equal(h->highest, 2);
        assert_int_equal(h->sigfigs, 3);
        assert_int_equal(hdr_total(h), 1);
        assert_true(hdr_mean(h) == 42.0);
        assert_int_equal(hdr_count_at_value(h, 42), 1);
        assert_int_equal(hdr_min(h), 42);
        assert_int_equal(hdr_max(h), 42);
        assert_int_equal(hdr_value_at_percentile(h, 50.0), 42);
        check_round_trip(h);
        hdr_free(h);
    }

    hdr_hist *h = decode_ok(go_empty);
    assert_int_equal(h->lowest, 20);
    assert_int_equal(h->highest, 1000);
    assert_int_equal(h->sigfigs, 3);
    assert_int_equal(hdr_total(h), 0);
    check_round_trip(h);
    hdr_free(h);

    h = decode_ok(go_big);
    assert_int_equal(hdr_total(h), 10000);
    check_recorded_iter(h);
    check_round_trip(h);
    hdr_free(h);

    char err[256] = "";
    assert_null(hdr_decode_base64(go_v1, err, sizeof err));
    assert_non_null(strstr(err, "cookie"));
}

static void test_interop_vala_exact_bytes(void **state) {
    hdr_hist *h = decode_ok(vala_100_200_250);
    assert_int_equal(h->lowest, 1);
    assert_int_equal(h->highest, 300);
    assert_int_equal(h->sigfigs, 3);
    assert_int_equal(hdr_total(h), 3);
    assert_int_equal(hdr_count_at_value(h, 100), 1);
    assert_int_equal(hdr_count_at_value(h, 200), 1);
    assert_int_equal(hdr_count_at_value(h, 250), 1);
    assert_int_equal(hdr_min(h), 100);
    assert_int_equal(hdr_max(h), 250);
    hdr_free(h);

    /* our encoder, fed the same three values, writes the very same text */
    h = hdr_new(1, 300, 3);
    hdr_record(h, 100);
    hdr_record(h, 200);
    hdr_record(h, 250);
    char *b64 = hdr_encode_base64(h);
    assert_string_equal(b64, vala_100_200_250);
    free(b64);
    hdr_free(h);
}

/* HdrHistogram/HdrHistogram (Java) src/test/resources/org/HdrHistogram/jHiccup-2.0.7S.logV2.hlog,
 * written by jHiccup 2.0.7 (values in ns, max column in ms). Its test,
 * src/test/java/org/HdrHistogram/HistogramLogReaderWriterTest.java jHiccupV2Log, asserts: 38
 * histograms, 30874 counts, accumulated 99.9th percentile 956825599 and max 981991423; for the
 * intervals starting within [5, 20] s: 14 histograms, 12406 counts, 969408511 and 981991423. */
static const char *const jhiccup_log[] = {
    "0.126,1.007,1.933,HISTFAAAAEB42pNpmSzMwMAgywABTBDKT4GBgdnNYMcCBvsPEBEjDT0FMTUxMT05LgEhPqmIeWxt"
    "TAKMTNxM6xmZmAAjcgjc",
    "1.133,1.000,0.377,HISTFAAAADx42pNpmSzMwMAgyQABTBDKT4GBgdnNYMcCBvsPEBEBDQUxCSkJMTEFOSExPhmbR6x"
    "fmPQ4GJmYAP4DCJg=",
    "2.133,1.001,0.328,HISTFAAAADl42pNpmSzMwMAgxgABTBDKT4GBgdnNYMcCBvsPEBEdKw09MQUFEQkbCTEhMZGAY6w"
    "bmFQ4AOqWCKo=",
    "3.134,1.000,0.311,HISTFAAAADh42pNpmSzMwMAgygABTBDKT4GBgdnNYMcCBvsPEBEWES0OAR4REQEhET4JMRG5O+x"
    "zmHgA0uYHiw==",
    "4.134,0.998,0.328,HISTFAAAADl42pNpmSzMwMAgxgABTBDKT4GBgdnNYMcCBvsPEBERFT4hPjExHj45MREuHgGNPWz"
    "fmGxYAN01CAk=",
    "5.132,1.002,0.426,HISTFAAAADx42pNpmSzMwMAgyQABTBDKT4GBgdnNYMcCBvsPEBEpHTUFNTkpKTYxCSEBASmle2z"
    "rmFhFmJmYAPywCCo=",
    "6.134,1.000,0.328,HISTFAAAADl42pNpmSzMwMAgxgABTBDKT4GBgdnNYMcCBvsPEBEOLTU+CSEWMT4xHiERHhGZTWx"
    "tzA5MANtsB4w=",
    "7.134,1.515,960.496,HISTFAAAAJV42pNpmSzMwMDUwAABTBDKT4GBgdnNYMcCBvsPEBEWLi4eNkY2PiYOPhYOLgGOLu"
    "ZjTGLrGZnKgTCYyZrJEoh1mWSZpMFQFkpyM/GCMTKJzOdkYoVCZjgLmc1MhDwzEyMQggl0SH1BbEJIgIUJC2AhUoxch"
    "SwsLGwsMIBgYRUkQyFBaQ4g4EIl0PlcpKtB4wMAh5wT+Q==",
    "8.649,0.483,1.196,HISTFAAAAEB42pNpmSzMwMAgywABTBDKT4GBgdnNYMcCBvsPEBEuFTkhER4BLg4JJh4+Hh6fC0x"
    "J3BLiTKxM5kxMTAAQ9QfA",
    "9.132,1.001,1.180,HISTFAAAAEV42pNpmSzMwMCgzAABTBDKT4GBgdnNYMcCBvsPEBEOGS4lLi4+CS4FMT4hET65Iyx"
    "rWEr4mFiZmBiZRIFQmYkJAEe9CGE=",
    "10.133,0.999,0.459,HISTFAAAAD542pNpmSzMwMAgxQABTBDKT4GBgdnNYMcCBvsPEBEWAwMJHgEBEQkZPh4hIR6pd8"
    "w7WBYwSnAzMQEAA2UImg==",
    "11.132,1.001,0.328,HISTFAAAADt42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBE2OS4+HiYhCQkpAQEOPh6tH0"
    "z3WLcx8gAA5FgIgA==",
    "12.133,0.999,0.328,HISTFAAAADt42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBERCwMRASEeISEFKQE2Nh6ZHU"
    "zvWOcwigEA6gQIjg==",
    "13.132,1.221,897.581,HISTFAAAAJN42pNpmSzMwMBUyAABTBDKT4GBgdnNYMcCBvsPUBkRDjYWFiYONj42NjYeDq4J"
    "jOcYNY4yspQzlTN5MlkyWQOxJpM0kywQS0NpSSZuJl4gRCcRLE4mViBkBpOsaGxCojAWIwpE41JBkJA6dMDCxESUGGU"
    "KkQRZQICNBQawsSiTJqCQiwMI0AgOLsIEXmk2AGRbE3w=",
    "14.353,0.780,0.344,HISTFAAAADt42pNpmSzMwMAgwQABTBDKT4GBgdnNYMcCBvsPEBE5BzMeEQEROR4xPh4+Hg6lD4"
    "yfmFsYeZgA9ggIvg==",
    "15.133,0.999,0.328,HISTFAAAADp42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEeMwUuIQEeNiUVIT4hNg6RH4"
    "x9bOcYlQDnkgiG",
    "16.132,1.002,0.344,HISTFAAAADx42pNpmSzMwMAgwQABTBDKT4GBgdnNYMcCBvsPEBE2IQk+HhERAQEZCQE2HgGJOU"
    "yL2A4xSjEBAOmUCAQ=",
    "17.134,1.000,0.410,HISTFAAAAD142pNpmSzMwMAgxQABTBDKT4GBgdnNYMcCBvsPEBEuEzkJAxExITEFBRE+IR6tKU"
    "yvWPsYeVhZmAAGAwic",
    "18.134,1.874,985.661,HISTFAAAAJN42pNpmSzMwMDUwQABTBDKT4GBgdnNYMcCBvsPEBEWMQERPj4+CQERBSEeLj6p"
    "aUw9rHsYeWqZyoEwm8mayRKMZZmkwRBGCzPxMnEDMTKJymdnYmZihUNmLCzsosgsRjhEYlJJkBh1QMDChAmwiREvSIJ"
    "CFhhgY8HCxM+iTBrC4uDg4uBAJtD52Aiy1LAAAM0NFUM=",
    "20.008,0.125,0.426,HISTFAAAADh42pNpmSzMwMAgygABTBDKT4GBgdnNYMcCBvsPEBEuHjY2Fg4mDiZmNhZGFj4HLT"
    "ZOFiYAxNAFpQ==",
    "20.133,0.999,0.672,HISTFAAAAD542pNpmSzMwMAgzQABTBDKT4GBgdnNYMcCBvsPEBEOCSkJHgk+OREZCTEeDi6peyy"
    "TWCp42JmkmZgABl8ILg==",
    "21.132,1.002,0.328,HISTFAAAADp42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEOOx0NIR4OCQEJKT4hPgGeQ8"
    "xtrD2MHADoXggX",
    "22.134,0.998,0.344,HISTFAAAADp42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEODwMhIQExHhU5Lh4OHh6NI8"
    "yTWJO4mADo9ggQ",
    "23.132,1.000,0.328,HISTFAAAADt42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBE+ExkBIR4RMSEFCQEOMQ6ZU0"
    "y/WGcwcgAA6MgIjA==",
    "24.132,1.002,0.328,HISTFAAAADt42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEhOSE5Dj4RDg4dMSEBAQ6JG0"
    "yXWE8xCgAA5lAIiA==",
    "25.134,0.997,0.328,HISTFAAAADt42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBE+NQUBKT4hGTkNCQEuPhGRfU"
    "xXWFcwCgEA6SAIig==",
    "26.131,1.001,0.344,HISTFAAAADx42pNpmSzMwMAgwQABTBDKT4GBgdnNYMcCBvsPEBEOJQE+IQE+KQE5Pj4BDj6hf4"
    "yL2B4wijEBAO3hCIM=",
    "27.132,1.000,0.328,HISTFAAAADp42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEeDQMhIQExES4pAT4RDh6eBq"
    "YZbNcY+QDkzAgL",
    "28.132,0.999,0.328,HISTFAAAADt42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBGRPB0OASUeMREpISEOLiGVeU"
    "wPWCcxCgAA7dIImg==",
    "29.131,1.001,0.672,HISTFAAAAD542pNpmSzMwMAgxQABTBDKT4GBgdnNYMcCBvsPEBExKyM1OQURMQUTFRkZGbktjP"
    "OYVzCHsKkyMQEAEO8JTw==",
    "30.132,0.999,1.212,HISTFAAAAEp42pNpmSzMwMCgxgABTBDKT4GBgdnNYMcCBvsPEBEZtyAzEx0ZBRMdIQ0ZAZkXjI"
    "dYdjCysjGyMDGzsDNxMjExMlkzMQEAlqQKHg==",
    "31.131,1.002,1.704,HISTFAAAAER42pNpmSzMwMCgyAABTBDKT4GBgdnNYMcCBvsPEBEBCTE5CSEBPikxFRkuEbGcc6"
    "w/mIyYmVjYmbSZRJl8mZgARSsJMg==",
    "32.133,0.999,0.328,HISTFAAAADl42pNpmSzMwMAgxgABTBDKT4GBgdnNYMcCBvsPEBEuOxUFMT4RIRkRHj4eCQGlO8"
    "wdrDFsAOChCBE=",
    "33.132,1.001,0.328,HISTFAAAADl42pNpmSzMwMAgxgABTBDKT4GBgdnNYMcCBvsPEBEhCwk5JSU5MR4tKQkBCTGJWS"
    "zbWByYAOMdCB0=",
    "34.133,1.000,0.328,HISTFAAAADp42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEuAzERMQEeJRExKRE+Hj6TD0"
    "zHWBsYRQDpLAiM",
    "35.133,0.999,8.716,HISTFAAAAEx42pNpmSzMwMCgzQABTBDKT4GBgdnNYMcCBvsPEBE+CQUJAQEOAQkFEQ4BIR6xD0"
    "xPWCcwcsizNDMylQNhOJM1kyUQ6zMxAQC4Hwtg",
    "36.132,1.000,0.328,HISTFAAAADp42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEeHQ0hMR4RPiEVISEeATmlNu"
    "YFrLMYuQDmMggN",
    "37.132,1.000,0.344,HISTFAAAADp42pNpmSzMwMAgzgABTBDKT4GBgdnNYMcCBvsPEBEOLy0JLg4uMS4FFjYhHgGpGc"
    "yvWLM4mADmgggO",
};
#define JHICCUP_LINES (sizeof jhiccup_log / sizeof jhiccup_log[0])

/* The 4th comma-separated field of a jHiccup line, and its start timestamp and max column. */
static const char *jhiccup_field(const char *line, double *start, double *max_ms) {
    *start = strtod(line, NULL);
    const char *p = strchr(line, ',') + 1;
    p = strchr(p, ',') + 1;
    *max_ms = strtod(p, NULL);
    return strchr(p, ',') + 1;
}

static void test_interop_java_jhiccup_log(void **state) {
    assert_int_equal(JHICCUP_LINES, 38);
    /* Java's accumulator is new Histogram(3): lowest 1, 3 digits; the log's histograms have
     * lowest 20000 and 2 digits, so adding them re-records each bucket, as hdr_merge does */
    hdr_hist *all = hdr_new(1, 3600000000000LL, 3);
    hdr_hist *range = hdr_new(1, 3600000000000LL, 3);
    int64_t total = 0, range_total = 0;
    int range_count = 0;
    for (size_t i = 0; i < JHICCUP_LINES; i++) {
        double start, max_ms;
        const char *b64 = jhiccup_field(jhiccup_log[i], &start, &max_ms);
        hdr_hist *h = decode_ok(b64);
        /* the max column is the histogram's max in ms, rounded to 3 decimals */
        char col[32];
        snprintf(col, sizeof col, "%.3f", (double)hdr_max(h) / 1e6);
        assert_true(fabs(strtod(col, NULL) - max_ms) < 1e-9);
        total += hdr_total(h);
        assert_int_equal(hdr_merge(all, h), 0);
        if (start >= 5.0 && start <= 20.0) {
            range_count++;
            range_total += hdr_total(h);
            assert_int_equal(hdr_merge(range, h), 0);
        }
        hdr_free(h);
    }
    assert_int_equal(total, 30874);
    assert_int_equal(hdr_total(all), 30874);
    assert_int_equal(hdr_value_at_percentile(all, 99.9), 956825599);
    assert_int_equal(hdr_max(all), 981991423);
    assert_int_equal(range_count, 14);
    assert_int_equal(range_total, 12406);
    assert_int_equal(hdr_value_at_percentile(range, 99.9), 969408511);
    assert_int_equal(hdr_max(range), 981991423);
    hdr_free(range);
    hdr_free(all);
}

/* HdrHistogramJS src/HistogramLogReader.spec.ts: the first interval of jHiccup's log, as quoted
 * there ("Tag=A,0.127,1.007,2.769,HISTF..."); the spec asserts floor(mean) = 301998 for it. */
static const char js_jhiccup_first[] =
    "HISTFAAAAEV42pNpmSzMwMCgyAABTBDKT4GBgdnNYMcCBvsPEBEJISEuATEZMQ4uAS"
    "khIR4nrxg9v2lMaxhvMekILGZkKmcCAEf2CsI=";

/* Decoding another library's encoding and encoding it again must give its plain V2 bytes
 * exactly: header, ZigZag LEB128 counts, runs of zeros and lone zeros, written as 0 as current
 * Java, Go, JavaScript and Rust write them. (jHiccup 2.0.7's Java, like HdrHistogram_c, wrote a
 * lone zero as a run of one, -1: readers accept both, so those logs are compared by their decoded
 * counts instead.) The zlib streams themselves may differ in the compression level chosen. */
static void assert_same_v2_bytes(const char *b64) {
    static uint8_t theirs_bin[8192], theirs[65536], ours[65536];
    hdr_hist *h = decode_ok(b64);
    size_t tlen = test_b64_decode(b64, theirs_bin, sizeof theirs_bin);
    size_t tplain = inflate_v2(theirs_bin, tlen, theirs, sizeof theirs);
    uint8_t *bin = NULL;
    size_t blen = 0;
    assert_int_equal(hdr_encode_compressed(h, &bin, &blen), 0);
    size_t oplain = inflate_v2(bin, blen, ours, sizeof ours);
    if (oplain != tplain) fail_msg("V2 length %zu, theirs %zu, for %.40s", oplain, tplain, b64);
    /* bytes 8..11 (normalizing offset) and 32..39 (ratio) are written as Java writes them: 0 and
     * 1.0; the JavaScript vector carries other values there, so compare the rest */
    assert_memory_equal(ours, theirs, 8);
    assert_memory_equal(ours + 12, theirs + 12, 20);
    assert_memory_equal(ours + 40, theirs + 40, tplain - 40);
    free(bin);
    hdr_free(h);
}

static void test_interop_java_v2_bytes(void **state) {
    /* (go_empty is left out: Go writes no count at all for an empty histogram where Java,
     * and this encoder, write a single zero; both decode the same) */
    const char *samples[] = {js_jhiccup_first, go_one_42, js_one_42, go_big, vala_100_200_250};
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++)
        assert_same_v2_bytes(samples[s]);
    /* go_big holds hundreds of lone zero counts, so the comparison above covers them */
    static uint8_t bin[8192], plain[65536];
    size_t plen = inflate_v2(bin, test_b64_decode(go_big, bin, sizeof bin), plain, sizeof plain);
    int lone_zeros = 0;
    for (size_t k = 40; k < plen; k++) lone_zeros += plain[k] == 0 && plain[k - 1] < 0x80;
    assert_true(lone_zeros > 100);
    hdr_hist *h = decode_ok(js_jhiccup_first);
    assert_int_equal(h->lowest, 20000);
    assert_int_equal(h->highest, 3600000000000LL);
    assert_int_equal(h->sigfigs, 2);
    assert_int_equal((int64_t)floor(hdr_mean(h)), 301998);
    assert_int_equal(hdr_total(h), 741);
    hdr_free(h);
}

/* ---- malformed input --------------------------------------------------------------------------
 */

static void test_malformed_base64_and_cookies(void **state) {
    char err[256];
    err[0] = '\0';
    assert_null(hdr_decode_base64(NULL, err, sizeof err));
    assert_true(strlen(err) > 0);
    const char *bad[] = {
        "",                                                      /* nothing */
        "   ",                                                   /* blanks */
        "HISTF@@@",                                              /* not base64 */
        "HISTFAAAAB94nJNpmSzMwMDABMSMQMzMAAGMUJoJxg9mAgA1TQG",   /* length not a multiple of 4 */
        "HIST=AAA",                                              /* padding inside */
        "HISTFAAAAB94nJNpmSzMwMDABMSMQMzMAAGMUJoJxg9mAgA1TQGm=", /* padding past the end */
        "AAAAAAAAAAAA",                                          /* cookie 0 */
        "HISTFAAAAB94",                                          /* cookie, no stream */
        "HISTFAAAAB94nJNpmSzMwMDABMSMQMzMAAGM",                  /* stream cut short */
        "HISTE5nJNpmSzMwMDABMSMQMzM",                            /* unknown cookie */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        hdr_hist *h = hdr_decode_base64(bad[i], err, sizeof err);
        if (h) fail_msg("accepted \"%s\"", bad[i]);
        assert_true(strlen(err) > 0);
    }
    /* a NULL or tiny error buffer is fine */
    assert_null(hdr_decode_base64("HISTF@@@", NULL, 0));
    char tiny[4];
    assert_null(hdr_decode_base64("AAAAAAAAAAAA", tiny, sizeof tiny));
    assert_int_equal(strlen(tiny), 3);
    assert_null(hdr_decode(NULL, 10, err, sizeof err));
    /* surrounding white space is tolerated */
    hdr_hist *h = hdr_decode_base64(
        "  \tHISTFAAAACV4nJNpmSzMwMDAwQABzFCaEUrp2H+AsI4zMh1lZEpkAgBdIQSk\r\n", err, sizeof err);
    assert_non_null(h);
    assert_int_equal(hdr_total(h), 3);
    hdr_free(h);
}

static void test_malformed_v2_payloads(void **state) {
    /* layout (1, 2, 1 digit): 32 sub-buckets, one bucket, 32 counts */
    uint8_t plain[256], z[512];
    uint8_t ones[40];
    memset(ones, 0x02, sizeof ones); /* ZigZag(1) */
    char err[256];

    /* 32 counts fit; the check of the layout itself */
    size_t n = make_v2(plain, 32, 1, 1, 2, ones, 32);
    hdr_hist *h = hdr_decode(plain, n, err, sizeof err);
    assert_non_null(h);
    assert_int_equal(h->counts_len, 32);
    assert_int_equal(hdr_total(h), 32);
    hdr_free(h);
    n = make_compressed(z, sizeof z, plain, n);
    h = hdr_decode(z, n, err, sizeof err);
    assert_non_null(h);
    hdr_free(h);

    struct {
        const char *what;
        uint32_t payload_len;
        uint32_t digits;
        uint64_t lowest, highest;
        uint8_t payload[24];
        size_t n;
    } cases[] = {
        {"33 counts in a 32-count array", 33, 1, 1, 2, {0}, 33},
        {"run of 40 zeros in 32 counts", 1, 1, 1, 2, {0x4f}, 1},          /* ZigZag(-40) = 79 */
        {"zeros then a count past the end", 2, 1, 1, 2, {0x3f, 0x02}, 2}, /* -32, then 1 */
        {"truncated LEB128", 2, 1, 1, 2, {0x02, 0x80}, 2},
        {"nine-byte run of zeros",
         9,
         1,
         1,
         2,
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
         9},
        {"payload longer than the data", 10, 1, 1, 2, {0x02}, 1},
        {"negative payload length", 0xffffffffu, 1, 1, 2, {0x02}, 1},
        {"payload too long for the layout", 1000, 1, 1, 2, {0x02}, 1},
        {"0 digits", 1, 0, 1, 2, {0x02}, 1},
        {"6 digits", 1, 6, 1, 2, {0x02}, 1},
        {"lowest 0", 1, 3, 0, 1000, {0x02}, 1},
        {"highest below twice lowest", 1, 3, 100, 150, {0x02}, 1},
        {"lowest above INT64_MAX", 1, 3, UINT64_C(1) << 63, UINT64_MAX, {0x02}, 1},
        /* two counts of INT64_MAX: ZigZag 2^64 - 2, whose ninth byte carries 8 bits */
        {"counts overflowing the total",
         18,
         1,
         1,
         2,
         {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff},
         18},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint8_t *payload = cases[i].payload;
        if (i == 0) payload = ones;
        n = make_v2(plain, cases[i].payload_len, cases[i].digits, cases[i].lowest, cases[i].highest,
                    payload, cases[i].n);
        err[0] = '\0';
        h = hdr_decode(plain, n, err, sizeof err);
        if (h) fail_msg("plain: accepted %s", cases[i].what);
        assert_true(strlen(err) > 0);
        size_t zn = make_compressed(z, sizeof z, plain, n);
        err[0] = '\0';
        h = hdr_decode(z, zn, err, sizeof err);
        if (h) fail_msg("compressed: accepted %s", cases[i].what);
        assert_true(strlen(err) > 0);
    }

    /* a plain V2 header cut short */
    n = make_v2(plain, 1, 1, 1, 2, ones, 1);
    assert_decode_fails(plain, 39);
    /* compressed: declared stream length beyond the data, and a stream that ends in the header */
    size_t zn = make_compressed(z, sizeof z, plain, n);
    put32(z + 4, (uint32_t)(zn - 8 + 1));
    assert_decode_fails(z, zn);
    zn = make_compressed(z, sizeof z, plain, 20);
    assert_decode_fails(z, zn);
    /* a stream holding more than the header declares */
    n = make_v2(plain, 1, 1, 1, 2, ones, 5);
    zn = make_compressed(z, sizeof z, plain, n);
    assert_decode_fails(z, zn);
    /* a compressed cookie around something that is not zlib */
    memset(z + 8, 0xab, 32);
    put32(z + 4, 32);
    assert_decode_fails(z, 40);
    /* a compressed stream whose inner cookie is not V2 */
    n = make_v2(plain, 1, 1, 1, 2, ones, 1);
    put32(plain, 0x1c849301u);
    zn = make_compressed(z, sizeof z, plain, n);
    assert_decode_fails(z, zn);
}

static void test_truncations_and_corruptions_never_crash(void **state) {
    uint64_t seed = 1234;
    hdr_hist *h = hdr_new_default();
    for (int i = 0; i < 300; i++) hdr_record(h, random_latency(&seed));
    uint8_t *bin = NULL;
    size_t len = 0;
    assert_int_equal(hdr_encode_compressed(h, &bin, &len), 0);
    /* every strict prefix is refused */
    for (size_t cut = 0; cut < len; cut++) assert_decode_fails(bin, cut);

    /* random byte corruptions: refused with a message, or (rarely) a consistent histogram */
    uint8_t *copy = malloc(len);
    char err[256];
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, bin, len);
        int flips = 1 + (int)(splitmix64(&seed) % 3);
        for (int f = 0; f < flips; f++) {
            size_t at = (size_t)(splitmix64(&seed) % len);
            copy[at] ^= (uint8_t)(1 + splitmix64(&seed) % 255);
        }
        err[0] = '\0';
        hdr_hist *d = hdr_decode(copy, len, err, sizeof err);
        if (!d) {
            assert_true(strlen(err) > 0);
            continue;
        }
        int64_t sum = 0;
        for (int32_t i = 0; i < d->counts_len; i++) sum += d->counts[i];
        assert_int_equal(sum, hdr_total(d));
        hdr_free(d);
    }
    free(copy);
    free(bin);
    hdr_free(h);
}

UNIT_MAIN(test_layout_matches_hdrhistogram, test_new_rejects_bad_arguments, test_equivalent_values,
          test_uniform_1_to_10000, test_percentile_rank_rule, test_record_n_and_outlier_percentiles,
          test_mean_and_stdev_by_hand, test_large_numbers, test_out_of_range_values_are_rejected,
          test_empty_histogram, test_merge_equals_single_histogram, test_merge_across_layouts,
          test_recorded_iterator, test_percentile_iterator, test_round_trip,
          test_interop_go_and_js_vectors, test_interop_vala_exact_bytes,
          test_interop_java_jhiccup_log, test_interop_java_v2_bytes,
          test_malformed_base64_and_cookies, test_malformed_v2_payloads,
          test_truncations_and_corruptions_never_crash)
