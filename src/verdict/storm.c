/* storm.c — the retry storm after a fault (storm.h). */
#include "verdict/storm.h"

#include <math.h>
#include <string.h>

void storm_analyze(const storm_input *in, storm_result *r) {
    memset(r, 0, sizeof *r);
    r->error_rate = r->p99_ms = r->baseline_rate = r->peak_ratio = NAN;
    r->back_at = -1;
    int until = in->until < in->n ? in->until : in->n;
    int from = in->baseline_from < 0 ? 0 : in->baseline_from;
    int to = in->baseline_to < until ? in->baseline_to : until;
    int fe = in->fault_end;
    if (to <= from || fe < 0 || fe >= until) return;
    int64_t base = 0;
    for (int i = from; i < to; i++) base += in->sec[i].attempts;
    r->baseline_rate = (double)base / (to - from);
    if (r->baseline_rate <= 0) return;
    r->valid = true;

    /* the peak, and the first second after the fault's back near the baseline rate */
    double limit = STORM_SUBSIDED * r->baseline_rate;
    int end = -1;
    for (int i = fe; i < until; i++) {
        double a = (double)in->sec[i].attempts;
        if (a > r->peak_rate) {
            r->peak_rate = a;
            r->peak_at_s = i - fe;
        }
        if (end < 0 && i > fe && a <= limit) end = i;
    }
    r->peak_ratio = r->peak_rate / r->baseline_rate;
    r->subsided = end >= 0;
    if (r->peak_rate <= limit) end = fe + 1; /* no storm: the fault end's second alone */
    if (end < 0) end = until;
    r->duration_s = r->peak_rate <= limit ? 0 : end - fe;

    /* within the storm: attempts, answers, errors, p99 */
    bool hists = true;
    for (int i = fe; i < end; i++) {
        const storm_second *s = &in->sec[i];
        r->attempts += s->attempts;
        r->completed += s->completed;
        r->errors += s->errors;
        double over = (double)s->attempts - r->baseline_rate;
        if (over > 0) r->excess += (int64_t)llround(over);
        if (!s->latency) hists = false;
        if (!isnan(s->p99_ms) && (isnan(r->p99_ms) || s->p99_ms > r->p99_ms)) r->p99_ms = s->p99_ms;
    }
    if (r->completed > 0) r->error_rate = (double)r->errors / (double)r->completed;
    if (hists && end > fe) {
        hdr_hist *m = hdr_new_like(in->sec[fe].latency);
        if (m) {
            for (int i = fe; i < end; i++) hdr_merge(m, in->sec[i].latency);
            r->p99_ms = hdr_total(m) ? hdr_value_at_percentile(m, 99) / 1000.0 : NAN;
            hdr_free(m);
        }
    }

    /* back, and falling over again */
    for (int i = fe; i < until; i++) {
        const storm_second *s = &in->sec[i];
        if (s->completed <= 0) continue;
        double share = (double)s->errors / (double)s->completed;
        if (r->back_at < 0) {
            if (share < 0.01) r->back_at = i;
        } else if (share >= STORM_RELAPSE_SHARE) {
            r->relapse_s++;
        }
    }
}
