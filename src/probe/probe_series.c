/* probe_series.c — recovery, drain and window percentiles over a run's samples (see
 * probe_series.h).
 *
 * Recovery is judged on requests by the time they were due, not the time they ended: a request
 * that was due while Redis was down and timed out five seconds later says nothing about how the
 * service treats requests arriving after Redis came back. The candidate windows start on the
 * 250 ms grid after the dependency is ready again, and the first window of three seconds whose
 * requests look like the baseline (errors and p99) marks the recovery. Percentiles are exact
 * (sorting the window's latencies): windows hold a few thousand requests at most. */
#include "probe/probe_series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double probe_percentile(double *v, size_t n, double q) {
    if (!n) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t rank = (size_t)ceil(q / 100.0 * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

size_t probe_first_at(const void *recs, size_t n, size_t stride, size_t t_off, int64_t t) {
    const char *base = recs;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t tm;
        memcpy(&tm, base + mid * stride + t_off, sizeof tm);
        if (tm < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index of reqs[0..n) with t_ns >= t. */
static size_t lower_bound(const probe_req *r, size_t n, int64_t t) {
    return probe_first_at(r, n, sizeof *r, offsetof(probe_req, t_ns), t);
}

int64_t probe_window(const probe_req *reqs, size_t n, int64_t a, int64_t b, int64_t *errors,
                     double *p99_ms) {
    size_t i = lower_bound(reqs, n, a), j = lower_bound(reqs, n, b);
    *errors = 0;
    *p99_ms = NAN;
    if (j <= i) return 0;
    double *lat = malloc(sizeof *lat * (j - i));
    for (size_t k = i; k < j; k++) {
        if (reqs[k].error) (*errors)++;
        if (lat) lat[k - i] = (double)reqs[k].latency_us / 1000.0;
    }
    if (lat) *p99_ms = probe_percentile(lat, j - i, 99);
    free(lat);
    return (int64_t)(j - i);
}

double probe_recovery_s(const probe_req *reqs, size_t n, int64_t from_ns, int64_t end_ns,
                        const probe_recovery_opts *o) {
    double base_err = isnan(o->base_error_rate) ? 0 : o->base_error_rate;
    double p99_limit = NAN;
    if (!isnan(o->base_p99_ms)) {
        p99_limit = o->p99_factor * o->base_p99_ms;
        if (o->base_p99_ms + o->p99_slack_ms > p99_limit)
            p99_limit = o->base_p99_ms + o->p99_slack_ms;
    }
    int64_t step = o->step_ns > 0 ? o->step_ns : 1;
    for (int64_t t = from_ns; t + o->window_ns <= end_ns; t += step) {
        int64_t errors;
        double p99;
        int64_t cnt = probe_window(reqs, n, t, t + o->window_ns, &errors, &p99);
        if (cnt == 0) continue;
        double rate = (double)errors / (double)cnt;
        if (rate > base_err + o->error_slack) continue;
        if (!isnan(p99_limit) && p99 > p99_limit) continue;
        return (double)(t - from_ns) / 1e9;
    }
    return -1;
}

double probe_drain_s(const double *t_s, const double *v, int n, double from_s, double level) {
    int last_above = -1, last_known = -1;
    for (int i = 0; i < n; i++) {
        if (t_s[i] < from_s || isnan(v[i])) continue;
        last_known = i;
        if (v[i] > level) last_above = i;
    }
    if (last_above < 0) return 0;
    if (last_above == last_known) return -1;
    for (int i = last_above + 1; i < n; i++)
        if (!isnan(v[i]) && t_s[i] >= from_s) return t_s[i] - from_s;
    return -1;
}
