/* scenario_report.h — a scenario run's numbers by request name and by flow: in the result
 * document (.by_name, .flows, and .stats.checks), in the terminal summary, and the metric names a
 * threshold may use on them ("get_order.p99_ms", "checks"). */
#ifndef BRINK_SCENARIO_REPORT_H
#define BRINK_SCENARIO_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "load/engine.h"

/* Adds .by_name, .flows and .stats' checks, checks_passed, checks_failed to doc (a load
 * document); window_s: the send window that rates are over. Nothing without a scenario. */
void scenario_report_json(json_t *doc, const engine_result *r, const scenario *sc, double window_s);
/* The table by name, the failed checks and the flows. */
void scenario_report_terminal(FILE *out, const engine_result *r, const scenario *sc);

/* The metrics of one request name in .by_name (NULL-terminated list). */
extern const char *const scenario_name_metrics[];
/* The whole-run metrics a scenario adds to .stats (NULL-terminated). */
extern const char *const scenario_stat_names[];

/* brink merge: the segments' .by_name (counts added, latency histograms merged, rates and
 * percentiles recomputed over window_s), .flows and .stats' checks into m and st. 0 (also
 * without a scenario), or -1 with a line naming the document. */
int scenario_merge(json_t *m, json_t *st, const json_t *const *docs, const char *const *names,
                   int n, double window_s, char *err, size_t errlen);

#endif
