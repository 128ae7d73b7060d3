/* delivery_verdict.h — a retrying sender's verdicts (test "delivery" of the threshold table): did
 * every event get through in the end, how many were given up, how late were they. Shared by the
 * webhook test and the resilience tests. */
#ifndef BRINK_DELIVERY_VERDICT_H
#define BRINK_DELIVERY_VERDICT_H

#include "load/engine.h"
#include "verdict/threshold.h"

/* Judges eventual_delivery_rate, gave_up and delivery_delay_p99_s of a run with a delivery
 * policy into rs[0..max); returns how many were written. */
int delivery_verdicts(th_result *rs, int max, const engine_result *r, const delivery_policy *p);

#endif
