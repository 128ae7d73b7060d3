/* fuzz_hdr.c — HdrHistogram V2 decoding (src/core/hdr.c: plain and deflated encodings, raw or
 * base64), which `brink merge` and `brink report` run on documents from other machines, and the
 * interval log's line reader (src/core/hdrlog.c). Every histogram that decodes is then used as
 * brink uses one — percentiles, both iterators, mean and deviation, merged into the default
 * layout — and encoded again: the round trip must give back the same counts, min and max. The
 * base64 decoder (src/core/b64.c) is held to its promise that a strict decode accepts only the
 * canonical text (so re-encoding gives the input back).
 *
 * Input: the bytes as a raw encoding, the same bytes as a base64 string, and each line as an
 * interval-log line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/hdr.h"
#include "core/hdrlog.h"

static void one_line(const char *err) {
    if (!err[0] || strchr(err, '\n')) {
        fprintf(stderr, "fuzz_hdr: not a one-line reason: '%s'\n", err);
        abort();
    }
}

static void use(hdr_hist *h) {
    int64_t total = hdr_total(h), sum = 0;
    (void)hdr_mean(h);
    (void)hdr_stdev(h);
    static const double ps[] = {0, 50, 90, 99, 99.9, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) (void)hdr_value_at_percentile(h, ps[i]);
    hdr_iter it;
    hdr_iter_init(&it, h);
    while (hdr_iter_next(&it)) sum += it.count;
    if (sum != total) {
        fprintf(stderr, "fuzz_hdr: the iterator counts %lld of %lld\n", (long long)sum,
                (long long)total);
        abort();
    }
    hdr_pct_iter pit;
    hdr_pct_iter_init(&pit, h, 5);
    for (int n = 0; n < 10000 && hdr_pct_iter_next(&pit); n++) {
    }
    hdr_hist *d = hdr_new_default();
    if (!d) abort();
    (void)hdr_merge(d, h);
    hdr_free(d);
    /* the round trip */
    char *b64 = hdr_encode_base64(h);
    if (!b64) return; /* e.g. out of memory for a huge layout */
    char err[256] = "";
    hdr_hist *back = hdr_decode_base64(b64, err, sizeof err);
    if (!back || hdr_total(back) != total || hdr_min(back) != hdr_min(h) ||
        hdr_max(back) != hdr_max(h)) {
        fprintf(stderr, "fuzz_hdr: the round trip changed the histogram (%s)\n",
                back ? "counts" : err);
        abort();
    }
    hdr_free(back);
    free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[256] = "";
    hdr_hist *h = hdr_decode(data, size, err, sizeof err);
    if (h) {
        use(h);
        hdr_free(h);
    } else {
        one_line(err);
    }

    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    h = hdr_decode_base64(text, err, sizeof err);
    if (h) {
        use(h);
        hdr_free(h);
    }

    /* base64: a strict decode accepts one text per byte string */
    size_t tl = strlen(text);
    uint8_t *bin = malloc(b64_decoded_max(tl) + 1);
    if (!bin) abort();
    long k = b64_decode(text, tl, bin, B64_STRICT);
    if (k >= 0) {
        char *again = malloc(b64_encoded_len((size_t)k) + 1);
        if (!again) abort();
        b64_encode(bin, (size_t)k, again);
        if (strcmp(again, text)) {
            fprintf(stderr, "fuzz_hdr: strict base64 accepted '%s', which encodes as '%s'\n", text,
                    again);
            abort();
        }
        free(again);
    }
    (void)b64_decode(text, tl, bin, B64_UNPADDED);
    free(bin);

    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char tag[64];
        double start = 0, len = 0;
        hdr_hist *lh = NULL;
        int r = hdrlog_parse_line(line, tag, sizeof tag, &start, &len, &lh, err, sizeof err);
        if (r == 1) {
            use(lh);
            hdr_free(lh);
        } else if (r < 0) {
            one_line(err);
        }
    }
    free(text);
    return 0;
}
