/* hdr.h — HDR (high dynamic range) histogram: log-linear buckets, lossless merge, percentiles,
 * and the HdrHistogram V2 compressed interchange encoding (base64) that the Java, JavaScript,
 * Go, Python and Rust HdrHistogram libraries decode. brink records latencies in microseconds
 * (default range 1 µs .. 1 h at 3 significant digits). */
#ifndef BRINK_HDR_H
#define BRINK_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HDR_DEFAULT_LOWEST  1LL
#define HDR_DEFAULT_HIGHEST 3600000000LL /* 1 h in µs */
#define HDR_DEFAULT_SIGFIGS 3

typedef struct hdr_hist {
    int64_t lowest;  /* lowest discernible value (>= 1) */
    int64_t highest; /* highest trackable value */
    int sigfigs;     /* 1..5 */
    int unit_magnitude;
    int sub_bucket_half_count_magnitude;
    int32_t sub_bucket_count;
    int32_t sub_bucket_half_count;
    int64_t sub_bucket_mask;
    int32_t bucket_count;
    int32_t counts_len;
    int64_t total_count;
    int64_t min_value; /* INT64_MAX when empty */
    int64_t max_value; /* 0 when empty */
    int64_t *counts;
} hdr_hist;

/* Allocates a histogram; returns NULL on bad arguments (lowest < 1, highest < 2*lowest,
 * sigfigs outside 1..5) or out of memory. */
hdr_hist *hdr_new(int64_t lowest, int64_t highest, int sigfigs);
/* hdr_new(HDR_DEFAULT_LOWEST, HDR_DEFAULT_HIGHEST, HDR_DEFAULT_SIGFIGS). */
hdr_hist *hdr_new_default(void);
void hdr_free(hdr_hist *h);
void hdr_reset(hdr_hist *h);
/* Same layout (lowest, highest, sigfigs) as other. */
hdr_hist *hdr_new_like(const hdr_hist *other);

/* Records v (n times). Values below 0 or above the highest trackable value are not recorded
 * and return false. No allocation. */
bool hdr_record(hdr_hist *h, int64_t v);
bool hdr_record_n(hdr_hist *h, int64_t v, int64_t n);
/* The count in the bucket that holds v (0 outside the histogram's range). */
int64_t hdr_count_at_value(const hdr_hist *h, int64_t v);

/* Adds every count of src into dst (lossless when layouts match; otherwise each value of src is
 * re-recorded at its bucket's representative value). Returns the number of counts that did not
 * fit dst's range (0 when everything merged). */
int64_t hdr_merge(hdr_hist *dst, const hdr_hist *src);

int64_t hdr_total(const hdr_hist *h);
int64_t hdr_min(const hdr_hist *h); /* 0 when empty */
int64_t hdr_max(const hdr_hist *h); /* highest equivalent value of the max bucket; 0 if empty */
double hdr_mean(const hdr_hist *h);
double hdr_stdev(const hdr_hist *h);
/* The value at percentile p (0..100): the highest equivalent value of the bucket holding the
 * sample of rank ceil(p/100 * total) (at least 1). 0 when empty. */
int64_t hdr_value_at_percentile(const hdr_hist *h, double p);

/* Bucket helpers (exposed for tests and iteration). */
int64_t hdr_lowest_equivalent(const hdr_hist *h, int64_t v);
int64_t hdr_highest_equivalent(const hdr_hist *h, int64_t v);
bool hdr_values_equivalent(const hdr_hist *h, int64_t a, int64_t b);

/* Iteration over recorded values (non-zero buckets), lowest first. */
typedef struct hdr_iter {
    const hdr_hist *h;
    int32_t index;        /* current counts index */
    int64_t value;        /* highest equivalent value of the current bucket */
    int64_t value_lowest; /* lowest equivalent value of the current bucket */
    int64_t count;        /* count in the current bucket */
    int64_t cumulative;   /* counts up to and including the current bucket */
} hdr_iter;
void hdr_iter_init(hdr_iter *it, const hdr_hist *h);
bool hdr_iter_next(hdr_iter *it);

/* Percentile iteration as HdrHistogram's outputPercentileDistribution does it:
 * ticks_per_half_distance steps per halving of the remaining distance to 100%. */
typedef struct hdr_pct_iter {
    const hdr_hist *h;
    int ticks_per_half_distance;
    double percentile_to_iterate_to;
    bool reached_last;
    int32_t index;
    int64_t cumulative;
    /* outputs */
    double percentile; /* the percentile reached */
    int64_t value;     /* value at that percentile */
    int64_t total_to_here;
} hdr_pct_iter;
void hdr_pct_iter_init(hdr_pct_iter *it, const hdr_hist *h, int ticks_per_half_distance);
bool hdr_pct_iter_next(hdr_pct_iter *it);

/* V2 interchange encoding. hdr_encode_compressed fills *out (malloc'd, caller frees) with the
 * deflated V2 encoding (cookie 0x1c849304); hdr_encode_base64 returns a malloc'd NUL-terminated
 * base64 string of it ("HISTF..."). Return 0 on success, -1 on failure. */
int hdr_encode_compressed(const hdr_hist *h, uint8_t **out, size_t *out_len);
char *hdr_encode_base64(const hdr_hist *h);
/* Decodes either a compressed (0x1c849304) or plain V2 (0x1c849303) encoding, base64 or raw.
 * On failure returns NULL and writes a one-line reason to err. */
hdr_hist *hdr_decode(const uint8_t *buf, size_t len, char *err, size_t errlen);
hdr_hist *hdr_decode_base64(const char *b64, char *err, size_t errlen);

#endif
