/* storm.h — the retry storm after a fault: once the dependency is back, the retries a sender owes
 * for the events that failed during the outage arrive on top of the live traffic. From a
 * per-second timeline of attempts (every request sent: first deliveries, retries, duplicates), it
 * finds how high the attempts rose over the baseline rate, how long until they were back near it,
 * the errors and p99 while they were high, and whether the service, having come back, fell over
 * again. Pure: the resilience report gives it the load engine's timeline; tests give it numbers. */
#ifndef BRINK_STORM_H
#define BRINK_STORM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hdr.h"

/* One second of the timeline, each attempt placed at its own due time (so that a request that
 * timed out during the fault stays in the fault): the attempts due in it, those that ended (with
 * any answer, or none), the failures among them (status >= 400, or no answer), and their latency
 * from the due time. */
typedef struct storm_second {
    int64_t attempts, completed, errors;
    double p99_ms;           /* NaN: nothing ended */
    const hdr_hist *latency; /* the second's latency histogram (µs), or NULL (then p99_ms) */
} storm_second;

/* The attempts are back near the baseline when at most STORM_SUBSIDED x its rate. */
#define STORM_SUBSIDED 1.1
/* A second counts as failing (a relapse after the service was back) with this share of errors */
#define STORM_RELAPSE_SHARE 0.10

typedef struct storm_input {
    const storm_second *sec;
    int n;
    int baseline_from, baseline_to; /* seconds [from, to): the baseline's whole seconds */
    int fault_end;                  /* the second in which the fault ended */
    int until;                      /* the storm is looked for in [fault_end, until) */
} storm_input;

typedef struct storm_result {
    bool valid;           /* a baseline rate and at least one second after the fault */
    double baseline_rate; /* attempts/s over the baseline */
    double peak_rate;     /* the most attempts in one second after the fault ended */
    double peak_ratio;    /* peak_rate / baseline_rate */
    double peak_at_s;     /* seconds from the fault end's second to the peak's */
    double duration_s;    /* from the fault end's second to the first second back near the
                           * baseline rate (0: the attempts never rose above it) */
    bool subsided;        /* the attempts came back near the baseline before `until` */
    int64_t attempts, completed, errors; /* within the storm (at least the fault end's second) */
    int64_t excess;                      /* attempts above the baseline rate over the storm */
    double error_rate; /* errors / completed within the storm; NaN without answers */
    double p99_ms;     /* latency p99 within the storm (merged histograms, else the largest
                        * per-second p99); NaN without answers */
    int back_at;       /* the first second after the fault with answers and < 1% errors, or
                        * -1: the service never came back within [fault_end, until) */
    int relapse_s;     /* seconds after back_at with >= STORM_RELAPSE_SHARE errors */
} storm_result;

/* Fills r (r->valid false when the timeline has no baseline or nothing after the fault). */
void storm_analyze(const storm_input *in, storm_result *r);

#endif
