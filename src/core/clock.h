/* clock.h — time for measurements (CLOCK_MONOTONIC, ns) and for timestamps (CLOCK_REALTIME). */
#ifndef BRINK_CLOCK_H
#define BRINK_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_US 1000LL
#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL

static inline int64_t clock_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static inline int64_t clock_wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Formats a wall-clock time in ns as RFC 3339 UTC with milliseconds ("2026-11-27T05:14:26.123Z").
 * out needs 32 bytes. */
void clock_format_utc(int64_t wall_ns, char out[32]);

#endif
