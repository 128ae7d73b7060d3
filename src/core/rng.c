/* rng.c — the per-thread random generator behind request templates and ids.
 *
 * Each engine thread owns one rng (no locks, no shared state) and draws from it on the hot path:
 * {{rand:A-B}} and {{uuid}} in request templates, jitter in arrival schedules. The generator is
 * xoshiro256** (Blackman & Vigna): 256 bits of state, four xors, two rotations and two
 * multiplications per 64-bit draw, with statistical quality far beyond what a load test needs.
 * It is not a cryptographic generator and is never used for secrets.
 *
 * Seeding takes 32 bytes from getrandom(); if the kernel cannot give them (old kernel, seccomp)
 * it falls back to the clocks, the pid and an address, spread over the state by splitmix64, the
 * expander the xoshiro authors recommend. rng_range() maps a draw onto [lo, hi] with Lemire's
 * multiply-and-reject method, so every value is equally likely (no modulo bias). */
#include "core/rng.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* splitmix64: one step of a Weyl sequence through a 64-bit finaliser. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed_with(rng *r, uint64_t seed) {
    uint64_t x = seed;
    /* Four consecutive splitmix64 outputs are distinct, so the state is never all zero. */
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static int fill_from_kernel(uint64_t s[4]) {
    unsigned char *p = (unsigned char *)s;
    size_t want = 4 * sizeof(uint64_t), got = 0;
    while (got < want) {
        ssize_t n = getrandom(p + got, want - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)n;
    }
    return (s[0] | s[1] | s[2] | s[3]) != 0 ? 0 : -1;
}

void rng_seed(rng *r) {
    if (fill_from_kernel(r->s) == 0) return;

    struct timespec rt = {0}, mono = {0};
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t x = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
    x ^= rotl64((uint64_t)mono.tv_sec * 1000000000ULL + (uint64_t)mono.tv_nsec, 21);
    x ^= rotl64((uint64_t)getpid(), 42);
    x ^= (uint64_t)(uintptr_t)r; /* differs per thread when rngs live in per-thread state */
    rng_seed_with(r, x);
}

uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = rotl64(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n) for n >= 1, without bias. */
static uint64_t below(rng *r, uint64_t n) {
#ifdef __SIZEOF_INT128__
    /* Lemire, "Fast Random Integer Generation in an Interval" (2019): the high half of x * n is
     * uniform once the few low halves below (2^64 mod n) are rejected; the division that finds
     * that threshold only runs when a low half is small enough to need it. */
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (u128)rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
#else
    /* Reject the incomplete last block of 2^64 mod n values, then reduce. */
    uint64_t threshold = (0 - n) % n, x;
    do x = rng_next(r);
    while (x < threshold);
    return x % n;
#endif
}

int64_t rng_range(rng *r, int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    /* Unsigned arithmetic: hi - lo may exceed INT64_MAX. */
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    uint64_t off = span == UINT64_MAX ? rng_next(r) : below(r, span + 1);
    return (int64_t)((uint64_t)lo + off);
}

void rng_uuid4(rng *r, char out[36]) {
    /* Where each of the 16 bytes goes: two hex digits each, dashes at 8, 13, 18 and 23. */
    static const unsigned char pos[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                          19, 21, 24, 26, 28, 30, 32, 34};
    static const char hex[] = "0123456789abcdef";
    uint64_t a = rng_next(r), c = rng_next(r);
    a = (a & ~(UINT64_C(0xf0) << 48)) | (UINT64_C(0x40) << 48); /* byte 6: version 4 */
    c = (c & ~UINT64_C(0xc0)) | UINT64_C(0x80);                 /* byte 8: variant 10xx */
    for (int i = 0; i < 8; i++) {
        unsigned x = (unsigned)(a >> (8 * i)) & 0xff, y = (unsigned)(c >> (8 * i)) & 0xff;
        out[pos[i]] = hex[x >> 4];
        out[pos[i] + 1] = hex[x & 0x0f];
        out[pos[8 + i]] = hex[y >> 4];
        out[pos[8 + i] + 1] = hex[y & 0x0f];
    }
    out[8] = out[13] = out[18] = out[23] = '-';
}
