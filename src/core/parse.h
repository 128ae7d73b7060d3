/* parse.h — strict parsers for command-line and config values: durations ("250ms", "10s", "2m",
 * "1h", a bare number means seconds), rates, counts and stage lists ("10s:100,30s:2000,10s:0").
 * Every parser returns 0 on success or -1 with a one-line reason in err. */
#ifndef BRINK_PARSE_H
#define BRINK_PARSE_H

#include <stddef.h>
#include <stdint.h>

int parse_duration_ns(const char *s, int64_t *out, char *err, size_t errlen);
/* A positive rate in requests per second (decimal, may have a fraction). */
int parse_rate(const char *s, double *out, char *err, size_t errlen);
/* A non-negative integer in [min, max]. */
int parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen);

typedef struct parse_stage {
    int64_t duration_ns;
    double target_rps;
} parse_stage;

/* Parses "DUR:RATE[,DUR:RATE...]" into a malloc'd array (caller frees). Rates may be 0. */
int parse_stages(const char *s, parse_stage **out, int *count, char *err, size_t errlen);

#endif
