/* delivery_verdict.c — a retrying sender's verdicts (delivery_verdict.h). */
#include "verdict/delivery_verdict.h"

#include <math.h>
#include <stdio.h>

int delivery_verdicts(th_result *rs, int max, const engine_result *r, const delivery_policy *p) {
    char ev[256], sched[200];
    int n = 0;
    snprintf(ev, sizeof ev,
             "%lld of %lld events acknowledged in the end (%lld at the first attempt); %lld "
             "gave up, %lld still owed when the run ended",
             (long long)r->dl.delivered, (long long)r->dl.events, (long long)r->dl.first_ok,
             (long long)r->dl.gave_up, (long long)r->dl.undelivered);
    if (n < max &&
        threshold_judge(&rs[n], "delivery", "eventual_delivery_rate",
                        r->dl.events ? (double)r->dl.delivered / (double)r->dl.events : NAN,
                        ev) == 0)
        n++;
    delivery_describe(p, sched, sizeof sched);
    snprintf(ev, sizeof ev, "%lld events failed every attempt (%s)", (long long)r->dl.gave_up,
             sched);
    if (n < max && threshold_judge(&rs[n], "delivery", "gave_up", (double)r->dl.gave_up, ev) == 0)
        n++;
    const hdr_hist *d = r->delivery_delay;
    snprintf(ev, sizeof ev,
             "p99 %.3f s, max %.3f s from an event's first due time to its first 2xx, over %lld "
             "delivered events",
             hdr_value_at_percentile(d, 99) / 1e6, hdr_max(d) / 1e6, (long long)hdr_total(d));
    if (n < max &&
        threshold_judge(&rs[n], "delivery", "delivery_delay_p99_s",
                        hdr_total(d) ? hdr_value_at_percentile(d, 99) / 1e6 : NAN, ev) == 0)
        n++;
    return n;
}
