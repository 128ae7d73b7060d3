/* remedy.h — what the service's own metrics say about brink's verdicts. With scrapes of the
 * service's Prometheus page (probe/probe_metrics.h) at the start and after the run, each non-green
 * verdict gets the series that a table names for its metric — counters by how much they changed,
 * gauges by their values, only those that exist and moved — appended to its evidence ("…
 * (service metrics: pg pool waits +1,204, webhooks to inbox +812)") and listed in the advice's
 * service_metrics; and, where the series or the service's known configuration (dispatchd's
 * command line on the embedded stack) point at one knob, a remedy that names them ("enable the
 * PostgreSQL inbox fallback (dispatchd --redis-fallback on): …").
 *
 * Nothing here is required: without scrapes the verdicts stay as they were. Pure: no I/O. */
#ifndef BRINK_REMEDY_H
#define BRINK_REMEDY_H

#include "probe/probe_metrics.h"
#include "verdict/threshold.h"

/* Adds the service's metrics and, where one applies, the service remedy to every orange and red
 * result in rs[0..n). Does nothing without a scrape at the start and at least one after it. */
void remedy_annotate(const probe_metrics *m, th_result *rs, int n);

/* The series shown for (test, metric) as probe_metrics_ids, at most max; returns how many (0:
 * none for that metric). Exposed for tests and docs. */
int remedy_series_for(const char *test, const char *metric, int *idx, int max);

#endif
