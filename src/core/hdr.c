/* hdr.c — the HDR histogram behind every latency number brink reports.
 *
 * Each engine thread records into its own hdr_hist (hdr_record: a clz, two shifts and an add, no
 * allocation, no floating point); the scenario merges them at each second's boundary and at the
 * end (hdr_merge), and the result document, the interval log (hdrlog.c) and `brink merge` carry
 * them as HdrHistogram's V2 compressed encoding in base64 ("HISTF..."), which the Java,
 * JavaScript, Go, Python and Rust HdrHistogram libraries read and write.
 *
 * Layout (identical to HdrHistogram's, so that counts indexes and the encoding interoperate):
 * values are split into buckets that each double the range of the previous one; every bucket
 * has sub_bucket_count linear sub-buckets, of which the lower half overlaps the previous bucket
 * and is therefore only stored for bucket 0. With unit_magnitude = floor(log2(lowest)) and
 * sub_bucket_count = 2^ceil(log2(2 * 10^sigfigs)), a value v lands in
 *     bucket     = floor(log2(v | sub_bucket_mask)) - unit_magnitude - sub_bucket_half_magnitude
 *     sub_bucket = v >> (bucket + unit_magnitude)
 *     index      = ((bucket + 1) << sub_bucket_half_magnitude) + sub_bucket - sub_bucket_half_count
 * and counts_len = (bucket_count + 1) * sub_bucket_half_count.
 *
 * V2 encoding (big-endian): cookie 0x1c849303|0x10, payload length, normalizing index offset (0),
 * significant figures, lowest, highest, integer-to-double ratio (1.0 as an IEEE double), then the
 * counts up to the max value's index as ZigZag LEB128 (at most 9 bytes: the ninth byte carries 8
 * bits), a negative number -n standing for n consecutive zero counts. The compressed form is
 * cookie 0x1c849304|0x10, the big-endian length of a zlib stream, and the stream (the deflated V2
 * encoding). The 0x10 in the cookies is the word-size nibble that every HdrHistogram writes and
 * every reader masks off (cookie & ~0xf0); it is why the base64 form begins with "HISTF". */
#include "core/hdr.h"

#include "core/b64.h"
#include "core/err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define V2_COOKIE_BASE        0x1c849303u
#define V2_COMPRESSED_BASE    0x1c849304u
#define V2_WORD_SIZE_NIBBLE   0x10u
#define V2_HEADER_LEN         40
#define COMPRESSED_HEADER_LEN 8
#define LEB128_MAX_BYTES      9
#define MAX_COUNTS_LEN        (1 << 25) /* far above the largest real layout (~6.3 million) */

/* ---- layout ---- */

static int floor_log2_u64(uint64_t v) {
    return 63 - __builtin_clzll(v);
}

/* Computes HdrHistogram's bucket configuration into l's layout fields (lowest, highest, sigfigs
 * and the sub-bucket and bucket fields; counts and totals untouched); 0 on success, -1 on bad
 * arguments. */
static int layout_compute(int64_t lowest, int64_t highest, int sigfigs, hdr_hist *l) {
    if (lowest < 1 || sigfigs < 1 || sigfigs > 5 || highest / 2 < lowest) return -1;
    l->lowest = lowest;
    l->highest = highest;
    l->sigfigs = sigfigs;
    int64_t largest_single_unit = 2;
    for (int i = 0; i < sigfigs; i++) largest_single_unit *= 10;
    /* ceil(log2(x)) for x >= 2 */
    int sub_bucket_count_magnitude = floor_log2_u64((uint64_t)largest_single_unit - 1) + 1;
    l->sub_bucket_half_count_magnitude =
        (sub_bucket_count_magnitude > 1 ? sub_bucket_count_magnitude : 1) - 1;
    l->unit_magnitude = floor_log2_u64((uint64_t)lowest);
    if (l->unit_magnitude + l->sub_bucket_half_count_magnitude > 61) return -1;
    l->sub_bucket_count = (int32_t)1 << (l->sub_bucket_half_count_magnitude + 1);
    l->sub_bucket_half_count = l->sub_bucket_count / 2;
    l->sub_bucket_mask = ((int64_t)l->sub_bucket_count - 1) << l->unit_magnitude;

    /* Buckets needed so that highest is below the smallest untrackable value. */
    int64_t smallest_untrackable = (int64_t)l->sub_bucket_count << l->unit_magnitude;
    int32_t buckets = 1;
    while (smallest_untrackable <= highest) {
        if (smallest_untrackable > INT64_MAX / 2) {
            buckets++;
            break;
        }
        smallest_untrackable <<= 1;
        buckets++;
    }
    l->bucket_count = buckets;
    int64_t len = ((int64_t)buckets + 1) * (l->sub_bucket_count / 2);
    if (len > MAX_COUNTS_LEN) return -1;
    l->counts_len = (int32_t)len;
    return 0;
}

static int32_t counts_index_for(const hdr_hist *h, int64_t v) {
    int pow2ceiling = 64 - __builtin_clzll((uint64_t)(v | h->sub_bucket_mask));
    int bucket = pow2ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
    int32_t sub_bucket = (int32_t)(v >> (bucket + h->unit_magnitude));
    return ((int32_t)(bucket + 1) << h->sub_bucket_half_count_magnitude) +
           (sub_bucket - h->sub_bucket_half_count);
}

/* Lowest value that lands at counts index i. */
static int64_t value_at_index(const hdr_hist *h, int32_t i) {
    int bucket = (i >> h->sub_bucket_half_count_magnitude) - 1;
    int32_t sub_bucket = (i & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;
    if (bucket < 0) {
        sub_bucket -= h->sub_bucket_half_count;
        bucket = 0;
    }
    return (int64_t)sub_bucket << (bucket + h->unit_magnitude);
}

/* Width of the bucket holding v (a power of two). */
static uint64_t equivalent_range(const hdr_hist *h, int64_t v) {
    int pow2ceiling = 64 - __builtin_clzll((uint64_t)(v | h->sub_bucket_mask));
    int bucket = pow2ceiling - h->unit_magnitude - (h->sub_bucket_half_count_magnitude + 1);
    return (uint64_t)1 << (h->unit_magnitude + bucket);
}

int64_t hdr_lowest_equivalent(const hdr_hist *h, int64_t v) {
    if (v <= 0) return 0;
    uint64_t range = equivalent_range(h, v);
    return (int64_t)((uint64_t)v & ~(range - 1));
}

int64_t hdr_highest_equivalent(const hdr_hist *h, int64_t v) {
    if (v < 0) return 0;
    uint64_t range = equivalent_range(h, v);
    /* lowest + range <= 2^63, so the sum minus one always fits */
    return (int64_t)(((uint64_t)v & ~(range - 1)) + range - 1);
}

static int64_t median_equivalent(const hdr_hist *h, int64_t v) {
    return hdr_lowest_equivalent(h, v) + (int64_t)(equivalent_range(h, v) >> 1);
}

bool hdr_values_equivalent(const hdr_hist *h, int64_t a, int64_t b) {
    return hdr_lowest_equivalent(h, a) == hdr_lowest_equivalent(h, b);
}

/* ---- lifecycle ---- */

hdr_hist *hdr_new(int64_t lowest, int64_t highest, int sigfigs) {
    hdr_hist l = {0};
    if (layout_compute(lowest, highest, sigfigs, &l) != 0) return NULL;
    hdr_hist *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    *h = l;
    h->counts = calloc((size_t)l.counts_len, sizeof *h->counts);
    if (!h->counts) {
        free(h);
        return NULL;
    }
    h->min_value = INT64_MAX;
    h->max_value = 0;
    return h;
}

hdr_hist *hdr_new_default(void) {
    return hdr_new(HDR_DEFAULT_LOWEST, HDR_DEFAULT_HIGHEST, HDR_DEFAULT_SIGFIGS);
}

hdr_hist *hdr_new_like(const hdr_hist *other) {
    return other ? hdr_new(other->lowest, other->highest, other->sigfigs) : NULL;
}

void hdr_free(hdr_hist *h) {
    if (!h) return;
    free(h->counts);
    free(h);
}

void hdr_reset(hdr_hist *h) {
    memset(h->counts, 0, (size_t)h->counts_len * sizeof *h->counts);
    h->total_count = 0;
    h->min_value = INT64_MAX;
    h->max_value = 0;
}

/* ---- recording ---- */

bool hdr_record_n(hdr_hist *h, int64_t v, int64_t n) {
    if (v < 0 || v > h->highest || n < 0) return false;
    if (n == 0) return true;
    int32_t i = counts_index_for(h, v);
    h->counts[i] += n;
    h->total_count += n;
    /* like HdrHistogram, min tracks the smallest non-zero value; hdr_min reports a recorded 0 */
    if (v != 0 && v < h->min_value) h->min_value = v;
    if (v > h->max_value) h->max_value = v;
    return true;
}

bool hdr_record(hdr_hist *h, int64_t v) {
    return hdr_record_n(h, v, 1);
}

int64_t hdr_count_at_value(const hdr_hist *h, int64_t v) {
    if (v < 0) return 0;
    int32_t i = counts_index_for(h, v);
    return (i >= 0 && i < h->counts_len) ? h->counts[i] : 0;
}

/* Recomputes total, min and max from the counts array (after decoding). */
static int restat(hdr_hist *h) {
    int64_t total = 0;
    int32_t min_nonzero = -1, max_index = -1;
    for (int32_t i = 0; i < h->counts_len; i++) {
        int64_t c = h->counts[i];
        if (c == 0) continue;
        if (c < 0 || __builtin_add_overflow(total, c, &total)) return -1;
        max_index = i;
        if (min_nonzero < 0 && i != 0) min_nonzero = i;
    }
    h->total_count = total;
    h->max_value = max_index < 0 ? 0 : hdr_highest_equivalent(h, value_at_index(h, max_index));
    h->min_value = min_nonzero < 0 ? INT64_MAX : value_at_index(h, min_nonzero);
    return 0;
}

int64_t hdr_merge(hdr_hist *dst, const hdr_hist *src) {
    int64_t dropped = 0;
    bool same_layout = dst->counts_len == src->counts_len && dst->highest == src->highest &&
                       dst->unit_magnitude == src->unit_magnitude &&
                       dst->sub_bucket_half_count_magnitude == src->sub_bucket_half_count_magnitude;
    if (same_layout) {
        /* index i means the same values in both: add the arrays, keep the exact min and max */
        for (int32_t i = 0; i < src->counts_len; i++) dst->counts[i] += src->counts[i];
        dst->total_count += src->total_count;
        if (src->min_value < dst->min_value) dst->min_value = src->min_value;
        if (src->max_value > dst->max_value) dst->max_value = src->max_value;
        return 0;
    }
    /* otherwise re-record each bucket at its lowest equivalent value, as HdrHistogram's add()
     * does; what lies beyond dst's highest trackable value is counted as dropped */
    for (int32_t i = 0; i < src->counts_len; i++) {
        int64_t c = src->counts[i];
        if (c == 0) continue;
        if (!hdr_record_n(dst, value_at_index(src, i), c)) dropped += c;
    }
    return dropped;
}

/* ---- statistics ---- */

int64_t hdr_total(const hdr_hist *h) {
    return h->total_count;
}

int64_t hdr_min(const hdr_hist *h) {
    if (h->total_count == 0) return 0;
    if (h->counts[0] > 0 || h->min_value == INT64_MAX) return 0;
    return hdr_lowest_equivalent(h, h->min_value);
}

int64_t hdr_max(const hdr_hist *h) {
    if (h->total_count == 0 || h->max_value == 0) return 0;
    return hdr_highest_equivalent(h, h->max_value);
}

double hdr_mean(const hdr_hist *h) {
    if (h->total_count == 0) return 0.0;
    double sum = 0.0;
    hdr_iter it;
    hdr_iter_init(&it, h);
    while (hdr_iter_next(&it)) sum += (double)median_equivalent(h, it.value_lowest) * it.count;
    return sum / (double)h->total_count;
}

double hdr_stdev(const hdr_hist *h) {
    if (h->total_count == 0) return 0.0;
    double mean = hdr_mean(h), sq = 0.0;
    hdr_iter it;
    hdr_iter_init(&it, h);
    while (hdr_iter_next(&it)) {
        double d = (double)median_equivalent(h, it.value_lowest) - mean;
        sq += d * d * (double)it.count;
    }
    return sqrt(sq / (double)h->total_count);
}

int64_t hdr_value_at_percentile(const hdr_hist *h, double p) {
    if (h->total_count == 0) return 0;
    if (!(p > 0.0)) p = 0.0; /* also maps NaN to 0 */
    if (p > 100.0) p = 100.0;
    /* one ulp down, as Java's HdrHistogram does: 7.0 / 100 * 100 is 7.000000000000001 in
     * doubles, and the 7th percentile of 100 values must be rank 7, not 8 */
    double below = nextafter(p, -INFINITY);
    if (below < 0.0) below = 0.0;
    double fp_rank = ceil(below / 100.0 * (double)h->total_count);
    int64_t rank = fp_rank >= (double)h->total_count ? h->total_count : (int64_t)fp_rank;
    if (rank < 1) rank = 1;
    int64_t seen = 0;
    for (int32_t i = 0; i < h->counts_len; i++) {
        seen += h->counts[i];
        if (seen >= rank) return hdr_highest_equivalent(h, value_at_index(h, i));
    }
    return hdr_max(h);
}

/* ---- iteration ---- */

void hdr_iter_init(hdr_iter *it, const hdr_hist *h) {
    memset(it, 0, sizeof *it);
    it->h = h;
    it->index = -1;
}

bool hdr_iter_next(hdr_iter *it) {
    const hdr_hist *h = it->h;
    for (int32_t i = it->index + 1; i < h->counts_len; i++) {
        if (h->counts[i] == 0) continue;
        it->index = i;
        it->count = h->counts[i];
        it->cumulative += it->count;
        it->value_lowest = value_at_index(h, i);
        it->value = hdr_highest_equivalent(h, it->value_lowest);
        return true;
    }
    it->index = h->counts_len;
    it->count = 0;
    return false;
}

void hdr_pct_iter_init(hdr_pct_iter *it, const hdr_hist *h, int ticks_per_half_distance) {
    memset(it, 0, sizeof *it);
    it->h = h;
    it->ticks_per_half_distance = ticks_per_half_distance > 0 ? ticks_per_half_distance : 1;
    it->percentile_to_iterate_to = 0.0;
    it->reached_last = false;
    it->index = 0;
    it->cumulative = h->counts_len > 0 ? h->counts[0] : 0;
}

/* Next percentile level: ticks_per_half_distance steps between each halving of the distance
 * to 100% (HdrHistogram's PercentileIterator.incrementIterationLevel). */
static void pct_iter_step(hdr_pct_iter *it) {
    double remaining = 100.0 - it->percentile_to_iterate_to;
    /* log(x)/log(2) rather than log2(x): the same rounding as the Java and C libraries */
    double halvings = remaining > 0.0 ? floor(log(100.0 / remaining) / log(2.0)) + 1.0 : 62.0;
    if (halvings > 62.0) halvings = 62.0;
    double ticks = (double)it->ticks_per_half_distance * ldexp(1.0, (int)halvings);
    it->percentile_to_iterate_to += 100.0 / ticks;
}

bool hdr_pct_iter_next(hdr_pct_iter *it) {
    const hdr_hist *h = it->h;
    int64_t total = h->total_count;
    if (total <= 0) return false;
    if (it->cumulative >= total) {
        /* every count seen: one last step to 100% at the max value's bucket */
        if (it->reached_last) return false;
        it->reached_last = true;
        it->percentile_to_iterate_to = 100.0;
    }
    while (it->index < h->counts_len) {
        int64_t count = h->counts[it->index];
        double current = 100.0 * (double)it->cumulative / (double)total;
        if (count != 0 && current >= it->percentile_to_iterate_to) {
            it->percentile = it->percentile_to_iterate_to;
            it->value = hdr_highest_equivalent(h, value_at_index(h, it->index));
            it->total_to_here = it->cumulative;
            if (!it->reached_last) pct_iter_step(it);
            return true;
        }
        it->index++;
        if (it->index < h->counts_len) it->cumulative += h->counts[it->index];
    }
    return false;
}

/* ---- V2 encoding ---- */

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v) {
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const uint8_t *p) {
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ZigZag then LEB128 with at most 9 bytes (the ninth holds the top 8 bits whole). */
static size_t put_zigzag(uint8_t *p, int64_t v) {
    uint64_t u = ((uint64_t)v << 1) ^ (UINT64_C(0) - ((uint64_t)v >> 63)); /* ZigZag */
    size_t n = 0;
    while (n < 8) {
        if (u < 0x80) {
            p[n++] = (uint8_t)u;
            return n;
        }
        p[n++] = (uint8_t)(0x80 | (u & 0x7f));
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

/* Reads one ZigZag LEB128 value from p[0..len); returns bytes consumed, 0 if truncated. */
static size_t get_zigzag(const uint8_t *p, size_t len, int64_t *out) {
    uint64_t u = 0;
    size_t n = 0;
    for (;;) {
        if (n >= len) return 0;
        uint8_t b = p[n];
        if (n == 8) {
            u |= (uint64_t)b << 56;
            n++;
            break;
        }
        u |= (uint64_t)(b & 0x7f) << (7 * n);
        n++;
        if (!(b & 0x80)) break;
    }
    *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return n;
}

/* Plain V2 encoding into a malloc'd buffer. */
static int encode_plain(const hdr_hist *h, uint8_t **out, size_t *out_len) {
    int32_t limit = h->total_count > 0 ? counts_index_for(h, h->max_value) + 1 : 1;
    if (limit > h->counts_len) limit = h->counts_len;
    uint8_t *buf = malloc(V2_HEADER_LEN + (size_t)limit * LEB128_MAX_BYTES);
    if (!buf) return -1;
    size_t n = V2_HEADER_LEN;
    for (int32_t i = 0; i < limit;) {
        int64_t c = h->counts[i++];
        if (c < 0) {
            free(buf);
            return -1;
        }
        if (c == 0) {
            int64_t zeros = 1;
            while (i < limit && h->counts[i] == 0) {
                zeros++;
                i++;
            }
            /* a lone zero is written as 0, a run as its negated length (as Java writes it) */
            n += put_zigzag(buf + n, zeros > 1 ? -zeros : 0);
        } else {
            n += put_zigzag(buf + n, c);
        }
    }
    double one = 1.0;
    uint64_t one_bits;
    memcpy(&one_bits, &one, sizeof one_bits);
    put_be32(buf, V2_COOKIE_BASE | V2_WORD_SIZE_NIBBLE);
    put_be32(buf + 4, (uint32_t)(n - V2_HEADER_LEN));
    put_be32(buf + 8, 0); /* normalizing index offset */
    put_be32(buf + 12, (uint32_t)h->sigfigs);
    put_be64(buf + 16, (uint64_t)h->lowest);
    put_be64(buf + 24, (uint64_t)h->highest);
    put_be64(buf + 32, one_bits); /* integer-to-double ratio */
    *out = buf;
    *out_len = n;
    return 0;
}

int hdr_encode_compressed(const hdr_hist *h, uint8_t **out, size_t *out_len) {
    if (!h || !out || !out_len) return -1;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (encode_plain(h, &plain, &plain_len) != 0) return -1;
    uLongf zlen = compressBound((uLong)plain_len);
    uint8_t *buf = malloc(COMPRESSED_HEADER_LEN + (size_t)zlen);
    if (!buf) {
        free(plain);
        return -1;
    }
    int rc = compress2(buf + COMPRESSED_HEADER_LEN, &zlen, plain, (uLong)plain_len,
                       Z_DEFAULT_COMPRESSION);
    free(plain);
    if (rc != Z_OK) {
        free(buf);
        return -1;
    }
    put_be32(buf, V2_COMPRESSED_BASE | V2_WORD_SIZE_NIBBLE);
    put_be32(buf + 4, (uint32_t)zlen);
    *out = buf;
    *out_len = COMPRESSED_HEADER_LEN + (size_t)zlen;
    return 0;
}

char *hdr_encode_base64(const hdr_hist *h) {
    uint8_t *bin = NULL;
    size_t len = 0;
    if (hdr_encode_compressed(h, &bin, &len) != 0) return NULL;
    char *s = malloc(b64_encoded_len(len) + 1);
    if (s) b64_encode(bin, len, s);
    free(bin);
    return s;
}

/* ---- V2 decoding ---- */

/* Validates a 40-byte V2 header; fills the parameters and the payload length. */
static int parse_v2_header(const uint8_t *p, int64_t *lowest, int64_t *highest, int *sigfigs,
                           uint32_t *payload_len, char *err, size_t errlen) {
    uint32_t cookie = get_be32(p);
    if ((cookie & ~0xf0u) != V2_COOKIE_BASE) {
        err_set(err, errlen, "hdr: inner cookie 0x%08x is not an HdrHistogram V2 encoding", cookie);
        return -1;
    }
    /* bytes 8..11, the normalizing index offset, and 32..39, the integer-to-double ratio, are
     * not needed: Java writes the counts in logical index order whatever its internal offset
     * (the Go reader ignores both fields too, and some JavaScript versions wrote 1 there) */
    uint32_t plen = get_be32(p + 4);
    uint32_t digits = get_be32(p + 12);
    uint64_t lo = get_be64(p + 16), hi = get_be64(p + 24);
    if (plen > INT32_MAX) {
        err_set(err, errlen, "hdr: negative payload length in the V2 header");
        return -1;
    }
    hdr_hist l = {0};
    if (lo > INT64_MAX || hi > INT64_MAX ||
        layout_compute((int64_t)lo, (int64_t)hi, (int)digits, &l) != 0) {
        err_set(err, errlen,
                "hdr: invalid histogram parameters (lowest %llu, highest %llu, %u digits)",
                (unsigned long long)lo, (unsigned long long)hi, digits);
        return -1;
    }
    if ((uint64_t)plen > (uint64_t)l.counts_len * LEB128_MAX_BYTES) {
        err_set(err, errlen, "hdr: payload of %u bytes is too long for %d counts", plen,
                l.counts_len);
        return -1;
    }
    *lowest = (int64_t)lo;
    *highest = (int64_t)hi;
    *sigfigs = (int)digits;
    *payload_len = plen;
    return 0;
}

/* Fills h->counts from the ZigZag LEB128 payload. */
static int apply_counts(hdr_hist *h, const uint8_t *p, size_t len, char *err, size_t errlen) {
    size_t pos = 0;
    int64_t idx = 0;
    while (pos < len) {
        int64_t v;
        size_t n = get_zigzag(p + pos, len - pos, &v);
        if (n == 0) {
            err_set(err, errlen, "hdr: truncated count at payload byte %zu", pos);
            return -1;
        }
        pos += n;
        if (v < 0) {
            if (v == INT64_MIN || -v > (int64_t)h->counts_len - idx) {
                err_set(err, errlen, "hdr: run of zeros overflows the %d counts", h->counts_len);
                return -1;
            }
            idx += -v;
        } else {
            if (idx >= h->counts_len) {
                err_set(err, errlen, "hdr: more counts than the histogram's %d", h->counts_len);
                return -1;
            }
            h->counts[idx++] = v;
        }
    }
    if (restat(h) != 0) {
        err_set(err, errlen, "hdr: total count overflows");
        return -1;
    }
    return 0;
}

static hdr_hist *decode_plain(const uint8_t *buf, size_t len, char *err, size_t errlen) {
    if (len < V2_HEADER_LEN) {
        err_set(err, errlen, "hdr: truncated V2 header (%zu of %d bytes)", len, V2_HEADER_LEN);
        return NULL;
    }
    int64_t lowest, highest;
    int sigfigs;
    uint32_t plen;
    if (parse_v2_header(buf, &lowest, &highest, &sigfigs, &plen, err, errlen) != 0) return NULL;
    if ((size_t)plen > len - V2_HEADER_LEN) {
        err_set(err, errlen, "hdr: truncated V2 payload (%zu of %u bytes)", len - V2_HEADER_LEN,
                plen);
        return NULL;
    }
    hdr_hist *h = hdr_new(lowest, highest, sigfigs);
    if (!h) {
        err_set(err, errlen, "hdr: out of memory");
        return NULL;
    }
    if (apply_counts(h, buf + V2_HEADER_LEN, plen, err, errlen) != 0) {
        hdr_free(h);
        return NULL;
    }
    return h;
}

/* Inflates into out[0..want); returns Z_OK while more input may come, Z_STREAM_END at the end. */
static int inflate_into(z_stream *zs, uint8_t *out, size_t want) {
    zs->next_out = out;
    zs->avail_out = (uInt)want;
    int rc = Z_OK;
    while (zs->avail_out > 0) {
        rc = inflate(zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK) return rc;
        if (zs->avail_in == 0 && zs->avail_out > 0) return Z_BUF_ERROR;
    }
    return rc;
}

static hdr_hist *decode_compressed(const uint8_t *buf, size_t len, char *err, size_t errlen) {
    uint32_t zlen = get_be32(buf + 4);
    if (zlen > len - COMPRESSED_HEADER_LEN) {
        err_set(err, errlen, "hdr: truncated compressed histogram (%zu of %u bytes)",
                len - COMPRESSED_HEADER_LEN, zlen);
        return NULL;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        err_set(err, errlen, "hdr: zlib initialisation failed");
        return NULL;
    }
    zs.next_in = (Bytef *)(uintptr_t)(buf + COMPRESSED_HEADER_LEN);
    zs.avail_in = zlen;
    hdr_hist *h = NULL;
    uint8_t *plain = NULL;
    uint8_t head[V2_HEADER_LEN];
    int rc = inflate_into(&zs, head, sizeof head);
    if (zs.avail_out != 0) {
        err_set(err, errlen, "hdr: corrupt or truncated deflate stream (%s)",
                rc == Z_STREAM_END ? "ends inside the V2 header"
                : zs.msg           ? zs.msg
                                   : "no data");
        goto done;
    }
    int64_t lowest, highest;
    int sigfigs;
    uint32_t plen;
    if (parse_v2_header(head, &lowest, &highest, &sigfigs, &plen, err, errlen) != 0) goto done;
    /* +1 spare byte detects a stream longer than its declared payload */
    plain = malloc((size_t)plen + 1);
    if (!plain) {
        err_set(err, errlen, "hdr: out of memory");
        goto done;
    }
    size_t got = 0;
    if (rc != Z_STREAM_END) {
        rc = inflate_into(&zs, plain, (size_t)plen + 1);
        got = (size_t)plen + 1 - zs.avail_out;
    }
    if (rc != Z_STREAM_END) {
        if (zs.avail_out == 0)
            err_set(err, errlen, "hdr: deflate stream is longer than its declared %u bytes", plen);
        else
            err_set(err, errlen, "hdr: corrupt or truncated deflate stream (%s)",
                    zs.msg ? zs.msg : "unexpected end");
        goto done;
    }
    if (got != plen) {
        err_set(err, errlen, "hdr: payload is %zu bytes, header says %u", got, plen);
        goto done;
    }
    h = hdr_new(lowest, highest, sigfigs);
    if (!h) {
        err_set(err, errlen, "hdr: out of memory");
        goto done;
    }
    if (apply_counts(h, plain, plen, err, errlen) != 0) {
        hdr_free(h);
        h = NULL;
    }
done:
    inflateEnd(&zs);
    free(plain);
    return h;
}

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

hdr_hist *hdr_decode_base64(const char *b64, char *err, size_t errlen) {
    if (!b64) {
        err_set(err, errlen, "hdr: no base64 text given");
        return NULL;
    }
    while (is_space(*b64)) b64++;
    size_t n = strlen(b64);
    while (n > 0 && is_space(b64[n - 1])) n--;
    uint8_t *bin = malloc(n > 0 ? b64_decoded_max(n) : 1);
    if (!bin) {
        err_set(err, errlen, "hdr: out of memory");
        return NULL;
    }
    long len = n > 0 ? b64_decode(b64, n, bin, B64_STRICT) : -1; /* empty: no histogram */
    if (len < 0) {
        free(bin);
        err_set(err, errlen, "hdr: invalid base64 (%zu characters)", n);
        return NULL;
    }
    hdr_hist *h = hdr_decode(bin, (size_t)len, err, errlen);
    free(bin);
    return h;
}

hdr_hist *hdr_decode(const uint8_t *buf, size_t len, char *err, size_t errlen) {
    if (!buf || len < COMPRESSED_HEADER_LEN) {
        err_set(err, errlen, "hdr: encoding too short (%zu bytes)", buf ? len : 0);
        return NULL;
    }
    /* base64 text handed in as bytes: its first character is never the cookie's 0x1c */
    if (b64_is_alphabet((char)buf[0])) {
        char *text = malloc(len + 1);
        if (!text) {
            err_set(err, errlen, "hdr: out of memory");
            return NULL;
        }
        memcpy(text, buf, len);
        text[len] = '\0';
        hdr_hist *h = NULL;
        if (strlen(text) != len)
            err_set(err, errlen, "hdr: invalid base64 (NUL byte inside)");
        else
            h = hdr_decode_base64(text, err, errlen);
        free(text);
        return h;
    }
    uint32_t base = get_be32(buf) & ~0xf0u;
    if (base == V2_COMPRESSED_BASE) return decode_compressed(buf, len, err, errlen);
    if (base == V2_COOKIE_BASE) return decode_plain(buf, len, err, errlen);
    err_set(err, errlen,
            "hdr: cookie 0x%08x is not an HdrHistogram V2 encoding (only V2 is supported)",
            get_be32(buf));
    return NULL;
}
