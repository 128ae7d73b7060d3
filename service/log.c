/* log.c — dispatchd's event log (see log.h). Each line is formatted into a stack buffer and
 * written with one write(2) to stderr: atomic for lines under PIPE_BUF, no lock, no allocation.
 * Events that can repeat at request rate go through dlog_limited(), so that an outage under load
 * costs a line a second rather than a line a request. */
#include "log.h"

#include "core/clock.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024

static _Atomic int min_level = DLOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

int dlog_parse_level(const char *name, dlog_level *out) {
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (dlog_level)i;
            return 0;
        }
    }
    return -1;
}

void dlog_set_level(dlog_level level) {
    atomic_store(&min_level, (int)level);
}

static void vlog(dlog_level level, const char *suffix, const char *fmt, va_list ap) {
    if ((int)level < atomic_load_explicit(&min_level, memory_order_relaxed)) return;
    char line[LINE_MAX_BYTES];
    char ts[32];
    clock_format_utc(clock_wall_ns(), ts);
    int n = snprintf(line, sizeof line, "%s %-5s ", ts, level_names[level]);
    if (n < 0) return;
    size_t len = (size_t)n;
    int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
    if (m > 0) len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    if (suffix != NULL && len < sizeof line - 1) {
        m = snprintf(line + len, sizeof line - len, "%s", suffix);
        if (m > 0) len += (size_t)m < sizeof line - len ? (size_t)m : sizeof line - len - 1;
    }
    /* One event, one line: control characters (from peers' error messages) become spaces. */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)line[i] < 0x20) line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

void dlog(dlog_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(level, NULL, fmt, ap);
    va_end(ap);
}

void dlog_limited(dlog_limit *lim, int64_t period_ms, dlog_level level, const char *fmt, ...) {
    int64_t now = clock_now_ns();
    int64_t next = atomic_load_explicit(&lim->next_ns, memory_order_relaxed);
    if (now < next ||
        !atomic_compare_exchange_strong(&lim->next_ns, &next, now + period_ms * NS_PER_MS)) {
        atomic_fetch_add_explicit(&lim->suppressed, 1, memory_order_relaxed);
        return;
    }
    uint64_t n = atomic_exchange(&lim->suppressed, 0);
    char suffix[64] = "";
    if (n > 0) snprintf(suffix, sizeof suffix, " (%llu more suppressed)", (unsigned long long)n);
    va_list ap;
    va_start(ap, fmt);
    vlog(level, suffix, fmt, ap);
    va_end(ap);
}
