/* clock.c — wall-clock formatting for result timestamps; measurements use the inline
 * monotonic helpers in clock.h. */
#include "core/clock.h"

#include <stdio.h>

void clock_format_utc(int64_t wall_ns, char out[32]) {
    time_t secs = (time_t)(wall_ns / NS_PER_S);
    int ms = (int)((wall_ns % NS_PER_S) / NS_PER_MS);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    snprintf(out, 32, "%.31s", tmp);
}
