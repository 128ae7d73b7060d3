/* sched.c — the arrival schedule of the open model (see sched.h): closed-form times for constant
 * and linearly ramping rates, so that no thread ever waits on another to know when to send. */
#include "load/sched.h"

#include <math.h>
#include <string.h>

#include "core/clock.h"

void sched_constant(sched *s, double rps, int64_t duration_ns) {
    memset(s, 0, sizeof *s);
    s->nseg = 1;
    s->total_ns = duration_ns;
    s->seg[0].start_ns = 0;
    s->seg[0].dur_ns = duration_ns;
    s->seg[0].r0 = s->seg[0].r1 = rps;
    s->total_requests = rps * (double)duration_ns / NS_PER_S;
}

int sched_stages(sched *s, double start_rps, const parse_stage *stages, int n) {
    if (n < 1 || n > SCHED_MAX_STAGES) return -1;
    memset(s, 0, sizeof *s);
    double prev = start_rps, due = 0;
    int64_t t = 0;
    for (int i = 0; i < n; i++) {
        if (stages[i].duration_ns <= 0 || stages[i].duration_ns > INT64_MAX - t) return -1;
        s->seg[i].start_ns = t;
        s->seg[i].dur_ns = stages[i].duration_ns;
        s->seg[i].r0 = prev;
        s->seg[i].r1 = stages[i].target_rps;
        s->seg[i].n_before = due;
        double d = (double)stages[i].duration_ns / NS_PER_S;
        due += (prev + stages[i].target_rps) * d / 2;
        prev = stages[i].target_rps;
        t += stages[i].duration_ns;
    }
    s->nseg = n;
    s->total_ns = t;
    s->total_requests = due;
    return 0;
}

/* Requests due within a segment after tau seconds into it. */
static double seg_count(double r0, double r1, double dur, double tau) {
    return r0 * tau + (r1 - r0) * tau * tau / (2 * dur);
}

int64_t sched_time_of(const sched *s, uint64_t j) {
    double m = (double)j;
    if (m + 1e-9 >= s->total_requests) return -1;
    int k = 0;
    while (k + 1 < s->nseg && s->seg[k + 1].n_before <= m) k++;
    double r0 = s->seg[k].r0, r1 = s->seg[k].r1;
    double dur = (double)s->seg[k].dur_ns / NS_PER_S;
    double x = m - s->seg[k].n_before; /* requests into this segment */
    /* tau in ns, scaling x before the one division: x * 1e9 / R is then correctly rounded, so a
     * time that is a whole number of ns comes out exact (1001 / 1000 * 1e9 would give
     * 1000999999.9999999, truncated to 1 ns early) and the floor below is the true floor. */
    double tau_ns;
    if (fabs(r1 - r0) < 1e-12) {
        if (r0 <= 0) return -1;
        tau_ns = x * NS_PER_S / r0;
    } else {
        double a = (r1 - r0) / (2 * dur), disc = r0 * r0 + 4 * a * x;
        if (disc < 0) disc = 0;
        double den = r0 + sqrt(disc);
        tau_ns = den > 0 ? 2 * x * NS_PER_S / den : 0;
    }
    if (tau_ns > (double)s->seg[k].dur_ns) tau_ns = (double)s->seg[k].dur_ns;
    int64_t t = s->seg[k].start_ns + (int64_t)tau_ns;
    return t >= s->total_ns ? -1 : t;
}

double sched_rate_at(const sched *s, int64_t t_ns) {
    for (int k = 0; k < s->nseg; k++) {
        if (t_ns < s->seg[k].start_ns + s->seg[k].dur_ns) {
            double f = (double)(t_ns - s->seg[k].start_ns) / (double)s->seg[k].dur_ns;
            return s->seg[k].r0 + (s->seg[k].r1 - s->seg[k].r0) * (f < 0 ? 0 : f);
        }
    }
    return 0;
}

double sched_due_before(const sched *s, int64_t t_ns) {
    if (t_ns <= 0) return 0;
    if (t_ns >= s->total_ns) return s->total_requests;
    for (int k = 0; k < s->nseg; k++) {
        if (t_ns < s->seg[k].start_ns + s->seg[k].dur_ns) {
            double dur = (double)s->seg[k].dur_ns / NS_PER_S;
            double tau = (double)(t_ns - s->seg[k].start_ns) / NS_PER_S;
            return s->seg[k].n_before + seg_count(s->seg[k].r0, s->seg[k].r1, dur, tau);
        }
    }
    return s->total_requests;
}
