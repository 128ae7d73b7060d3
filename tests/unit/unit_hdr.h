/* unit_hdr.h — the comparison of two HDR histograms that the tests of the histogram (test_hdr.c)
 * and of its interval log (test_hdrlog.c) share: the layout, the totals and every bucket. Included
 * after <cmocka.h>. */
#ifndef BRINK_TEST_UNIT_HDR_H
#define BRINK_TEST_UNIT_HDR_H

#include "core/hdr.h"

static inline void assert_same_hist(const hdr_hist *a, const hdr_hist *b) {
    assert_int_equal(a->lowest, b->lowest);
    assert_int_equal(a->highest, b->highest);
    assert_int_equal(a->sigfigs, b->sigfigs);
    assert_int_equal(a->counts_len, b->counts_len);
    assert_int_equal(a->bucket_count, b->bucket_count);
    assert_int_equal(hdr_total(a), hdr_total(b));
    assert_int_equal(hdr_min(a), hdr_min(b));
    assert_int_equal(hdr_max(a), hdr_max(b));
    for (int32_t i = 0; i < a->counts_len; i++) {
        if (a->counts[i] != b->counts[i])
            fail_msg("bucket %d differs: %lld vs %lld", i, (long long)a->counts[i],
                     (long long)b->counts[i]);
    }
}

#endif
