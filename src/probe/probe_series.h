/* probe_series.h — what a resilience run's samples say: when the service was back to its
 * baseline after a fault (recovery), when a backlog was gone again (drain), and percentiles of
 * windows of requests. Pure functions over arrays, so that tests feed them synthetic timelines. */
#ifndef BRINK_PROBE_SERIES_H
#define BRINK_PROBE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One request as the analysis sees it. */
typedef struct probe_req {
    int64_t t_ns;       /* when it was due (any clock, the same as the bounds given below) */
    int64_t latency_us; /* due → response or failure (a timed-out request: the time it waited) */
    bool error;         /* no 2xx/3xx response */
} probe_req;

/* Requests with a <= t_ns < b in reqs (sorted by t_ns): how many, how many failed, and the p99
 * of their latency in ms (the value at rank ceil(0.99 n); NaN when there are none). Returns the
 * count. */
int64_t probe_window(const probe_req *reqs, size_t n, int64_t a, int64_t b, int64_t *errors,
                     double *p99_ms);

/* The value at percentile q (0..100] of v[0..n) — v is sorted in place; NaN when n = 0. */
double probe_percentile(double *v, size_t n, double q);

/* The first of n records sorted by time (each `stride` bytes, its int64_t time at byte `t_off`)
 * whose time is >= t; n when none is. */
size_t probe_first_at(const void *recs, size_t n, size_t stride, size_t t_off, int64_t t);

typedef struct probe_recovery_opts {
    int64_t step_ns;        /* candidate starts every step (250 ms) */
    int64_t window_ns;      /* that long at baseline (3 s) */
    double base_error_rate; /* the baseline phase's error rate (0..1) */
    double base_p99_ms;     /* the baseline phase's p99 */
    double error_slack;     /* a window may exceed the baseline error rate by this (0.002) */
    double p99_factor;      /* and its p99 may be this many times the baseline's (2) */
    double p99_slack_ms;    /* or the baseline's plus this, whichever is more (1 ms) */
} probe_recovery_opts;

/* Recovery: seconds from from_ns to the first T = from_ns + k·step such that the requests due
 * in [T, T + window) are back at baseline — error rate <= base + error_slack and p99 <=
 * max(p99_factor × base p99, base p99 + p99_slack_ms) — with T + window <= end_ns and at least
 * one request in the window. -1 when there is none (not recovered before end_ns). reqs sorted
 * by t_ns. */
double probe_recovery_s(const probe_req *reqs, size_t n, int64_t from_ns, int64_t end_ns,
                        const probe_recovery_opts *o);

/* Drain: samples v[i] taken at t_s[i] (ascending; NaN = unknown, skipped). The backlog counts as
 * drained at the first known sample at or after from_s that is <= level and after which no known
 * sample is above level. Returns seconds from from_s to that sample (0 when the backlog was never
 * above level from from_s on), or -1 when the last known sample is still above level. */
double probe_drain_s(const double *t_s, const double *v, int n, double from_s, double level);

#endif
