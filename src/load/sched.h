/* sched.h — open-model arrival schedules. The schedule maps the global request index j (0, 1, 2,
 * ...) to its intended send time, measured from the start of the run, so that every thread can
 * compute its own requests' times (thread i takes j = i, i + T, i + 2T, ...) without sharing any
 * state, and so that latency can be measured from the intended time (coordinated omission).
 *   constant: rate R for duration D: t(j) = j / R.
 *   stages:   piecewise-linear rate, starting at start_rps and ramping linearly to each stage's
 *             target over the stage's duration (k6's ramping-arrival-rate). */
#ifndef BRINK_SCHED_H
#define BRINK_SCHED_H

#include <stdint.h>
#include "core/parse.h"

#define SCHED_MAX_STAGES 64

typedef struct sched {
    int nseg;
    int64_t total_ns;
    struct {
        int64_t start_ns, dur_ns;
        double r0, r1;   /* rate at start and end of the segment (per second) */
        double n_before; /* requests due before the segment */
    } seg[SCHED_MAX_STAGES];
    double total_requests; /* requests due over the whole schedule */
} sched;

void sched_constant(sched *s, double rps, int64_t duration_ns);
/* Returns 0, or -1 when there are no stages or more than SCHED_MAX_STAGES, when a stage's
 * duration is not positive, or when the total duration does not fit in int64 ns. */
int sched_stages(sched *s, double start_rps, const parse_stage *stages, int n);
/* Intended send time (ns since start) of request j, or -1 when j is beyond the schedule. */
int64_t sched_time_of(const sched *s, uint64_t j);
/* The offered rate at time t (ns since start). */
double sched_rate_at(const sched *s, int64_t t_ns);
/* Requests due in [0, t_ns): used for offered counts per second. */
double sched_due_before(const sched *s, int64_t t_ns);

#endif
