/* fmt.c — hand-written decimal formatting for the hot path (see fmt.h): request templates
 * (tmpl.c) and webhook signature timestamps (sign.c) format numbers for every request, so this
 * emits two digits per division from a table and never touches snprintf or the locale. */
#include "core/fmt.h"

#include <string.h>

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

size_t fmt_u64(char *out, uint64_t v) {
    char buf[FMT_INT_MAX];
    char *p = buf + sizeof buf;
    while (v >= 100) {
        unsigned i = (unsigned)(v % 100) * 2;
        v /= 100;
        p -= 2;
        p[0] = digit_pairs[i];
        p[1] = digit_pairs[i + 1];
    }
    if (v >= 10) {
        unsigned i = (unsigned)v * 2;
        p -= 2;
        p[0] = digit_pairs[i];
        p[1] = digit_pairs[i + 1];
    } else {
        *--p = (char)('0' + v);
    }
    size_t n = (size_t)(buf + sizeof buf - p);
    memcpy(out, p, n);
    return n;
}

size_t fmt_i64(char *out, int64_t v) {
    if (v >= 0) return fmt_u64(out, (uint64_t)v);
    out[0] = '-';
    return 1 + fmt_u64(out + 1, 0 - (uint64_t)v);
}
