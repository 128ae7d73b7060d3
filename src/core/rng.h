/* rng.h — a fast, non-cryptographic per-thread random generator (xoshiro256**) for request
 * templates and ids; seeded from getrandom(). Never used for secrets. */
#ifndef BRINK_RNG_H
#define BRINK_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

/* Seeds from getrandom(); falls back to time and pid mixed with splitmix64. */
void rng_seed(rng *r);
/* Deterministic seeding (tests). */
void rng_seed_with(rng *r, uint64_t seed);
uint64_t rng_next(rng *r);
/* Uniform in [lo, hi] inclusive (lo <= hi), without modulo bias. */
int64_t rng_range(rng *r, int64_t lo, int64_t hi);
/* A random RFC 4122 version-4 UUID, lower-case hex, 36 characters, not NUL-terminated. */
void rng_uuid4(rng *r, char out[36]);

#endif
