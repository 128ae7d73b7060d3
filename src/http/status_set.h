/* status_set.h — a set of HTTP statuses as a configuration writes it: codes (409), ranges
 * (200-204) and classes (2xx), e.g. the race's "won" and "lost" answers or a scenario's expected
 * statuses. */
#ifndef BRINK_STATUS_SET_H
#define BRINK_STATUS_SET_H

#include <stdbool.h>
#include <stddef.h>

#define STATUS_SET_RANGES 16

typedef struct status_set {
    int n;
    int lo[STATUS_SET_RANGES], hi[STATUS_SET_RANGES];
} status_set;

/* "2xx", "200", "200-204", or a comma-separated list of those ("200,201,4xx"). 0, or -1 with a
 * one-line reason. */
int status_set_parse(const char *text, status_set *out, char *err, size_t errlen);
/* Adds one code or range (for config files that give a list). 0, or -1 when full or invalid. */
int status_set_add(status_set *s, int lo, int hi);
bool status_set_has(const status_set *s, int status);
/* "2xx", "409", "200-204,409" into out. */
void status_set_format(const status_set *s, char *out, size_t outlen);

#endif
