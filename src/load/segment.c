/* segment.c — the arithmetic of scale-out segments (see segment.h): parsing i/n and --start-at,
 * the shares of connections and request counts, the disjoint sequence numbers, and the wait for
 * a common start. The engine (engine.c) applies these to its schedule and its counts. */
#include "load/segment.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"

/* A run of decimal digits: its value in *v (the first 18 digits: no overflow), their number in
 * *n; returns the end. */
static const char *digits(const char *p, long long *v, int *n) {
    *v = 0;
    *n = 0;
    while (*p >= '0' && *p <= '9') {
        if (*n < 18) *v = *v * 10 + (*p - '0');
        (*n)++;
        p++;
    }
    return p;
}

int segment_parse(const char *s, segment *out, char *err, size_t errlen) {
    long long i, n = 0;
    int di, dn = 0;
    const char *p = digits(s ? s : "", &i, &di);
    if (*p == '/') p = digits(p + 1, &n, &dn);
    if (!s || !di || *p || s[di] != '/' || !dn || di > 6 || dn > 6) {
        err_set(err, errlen, "--segment '%s': want i/n, e.g. 2/4 (segment 2 of 4)", s ? s : "");
        return -1;
    }
    if (n < 1 || n > SEGMENT_MAX) {
        err_set(err, errlen, "--segment '%s': the count must be from 1 to %d", s, SEGMENT_MAX);
        return -1;
    }
    if (i < 1 || i > n) {
        err_set(err, errlen, "--segment '%s': the index must be from 1 to %lld", s, n);
        return -1;
    }
    out->index = (int)(i - 1);
    out->count = (int)n;
    return 0;
}

bool segment_split(segment s) {
    return s.count > 1;
}

int64_t segment_share(segment s, int64_t total) {
    if (s.count <= 1 || total <= 0) return total;
    return total / s.count + (s.index < total % s.count ? 1 : 0);
}

uint64_t segment_seq(segment s, uint64_t k) {
    if (s.count <= 1) return k;
    return (uint64_t)s.index + (uint64_t)s.count * k;
}

bool segment_owns(segment s, uint64_t seq) {
    if (s.count <= 1) return true;
    return seq % (uint64_t)s.count == (uint64_t)s.index;
}

int segment_parse_start_at(const char *s, int64_t now_wall_ns, int64_t *wall_ns, char *err,
                           size_t errlen) {
    long long sec, frac = 0;
    int ds, df = 0;
    const char *p = digits(s ? s : "", &sec, &ds);
    const char *f = NULL;
    if (*p == '.') {
        f = p + 1;
        p = digits(f, &frac, &df);
    }
    if (!s || !ds || *p || (f && !df)) {
        err_set(err, errlen,
                "--start-at '%s': want UNIX seconds, e.g. %lld or %lld.5 (date +%%s gives now)",
                s ? s : "", (long long)(now_wall_ns / NS_PER_S) + 30,
                (long long)(now_wall_ns / NS_PER_S) + 30);
        return -1;
    }
    if (ds > 10) { /* past the year 2286: surely milliseconds or nanoseconds */
        err_set(err, errlen,
                "--start-at %s is more than a day ahead (UNIX seconds, not milliseconds)", s);
        return -1;
    }
    /* the fraction to exact nanoseconds: its first 9 digits */
    int64_t ns = 0;
    for (int k = 0; k < 9; k++) ns = ns * 10 + (k < df ? f[k] - '0' : 0);
    int64_t t = (int64_t)sec * NS_PER_S + ns;
    double ahead = (double)(t - now_wall_ns) / NS_PER_S;
    if (ahead < -1.0) {
        err_set(err, errlen,
                "--start-at %s is %.1f s in the past: give a time a little ahead, e.g. "
                "$(( $(date +%%s) + 30 ))",
                s, -ahead);
        return -1;
    }
    if (ahead > 86400.0) {
        err_set(err, errlen,
                "--start-at %s is more than a day ahead (UNIX seconds, not milliseconds)", s);
        return -1;
    }
    *wall_ns = t;
    return 0;
}

int segment_cli_parse(const char *value, void *dest, char *err, size_t errlen) {
    return segment_parse(value, dest, err, errlen);
}

int segment_cli_start_at(const char *value, void *dest, char *err, size_t errlen) {
    return segment_parse_start_at(value, clock_wall_ns(), dest, err, errlen);
}

int segment_cli_refuse(const char *value, void *dest, char *err, size_t errlen) {
    (void)value;
    err_set(err, errlen, "%s", (const char *)dest);
    return -1;
}

int segment_wait(int64_t wall_ns, int64_t lead_ns, volatile sig_atomic_t *stop) {
    for (;;) {
        if (stop && *stop) return -1;
        int64_t left = wall_ns - lead_ns - clock_wall_ns();
        if (left <= 0) return 0;
        if (left > 50 * NS_PER_MS) left = 50 * NS_PER_MS;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left};
        nanosleep(&ts, NULL);
    }
}

json_t *segment_json(segment s) {
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(s.index + 1));
    json_object_set_new(o, "count", json_integer(s.count > 1 ? s.count : 1));
    return o;
}

void segment_doc(json_t *doc, segment s, int64_t start_wall_ns) {
    json_t *cfg = json_object_get(doc, "config");
    if (!cfg) {
        cfg = json_object();
        json_object_set_new(doc, "config", cfg);
    }
    if (s.count >= 1) json_object_set_new(cfg, "segment", segment_json(s));
    if (start_wall_ns) json_object_set_new(cfg, "start_at_unix_ns", json_integer(start_wall_ns));
}
