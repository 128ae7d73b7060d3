/* log.h — dispatchd's event log: one line per event on stderr, "<RFC 3339 UTC time> <level>
 * <message>", written with a single write(2) so that lines from different threads never mix.
 * Callers never pass a secret, a signature or a request body. */
#ifndef DISPATCHD_LOG_H
#define DISPATCHD_LOG_H

#include <stdint.h>

typedef enum dlog_level { DLOG_DEBUG, DLOG_INFO, DLOG_WARN, DLOG_ERROR } dlog_level;

/* "debug", "info", "warn", "error" → level; 0, or -1 for an unknown name. */
int dlog_parse_level(const char *name, dlog_level *out);
void dlog_set_level(dlog_level level);
void dlog(dlog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rate limit for events that may repeat at request rate (a Redis outage under load): the caller
 * keeps one dlog_limit per call site; dlog_limited() logs at most one line per period_ms and
 * appends how many were suppressed since the last line. */
typedef struct dlog_limit {
    _Atomic int64_t next_ns;
    _Atomic uint64_t suppressed;
} dlog_limit;
void dlog_limited(dlog_limit *lim, int64_t period_ms, dlog_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
