/* capacity.c — the breaking-point search, pure: no clock, no I/O, no engine. It asks a runner to
 * measure steps and decides, from their numbers alone, which rate comes next:
 *
 *   ramp    start, start × factor, ... until a step breaks a service level (p99 above its limit,
 *           error rate above its limit, or achieved below min_achieved × offered) or max_rps held;
 *   bisect  the midpoint (rounded to a whole rate) of the last good and the first bad rate, until
 *           first_bad - last_good < resolution × last_good.
 *
 * Bounds: max_steps steps, and max_time_s — a step is not started when the time used so far plus
 * the expected length of the next step (max(step + pause, the last step's real length)) would
 * pass it. The result is the highest good rate with the interval it is known to (resolution_rps),
 * and the knee: the highest-rate good step whose p99 is at most knee_factor × base, where base is
 * the best (lowest) p99 of the good steps, at least knee_floor_ms — the best rather than the
 * first step's, so that a cold first step does not move the knee. The unit
 * tests drive it with synthetic services (tests/unit/test_capacity.c); webhook_stress.c drives it
 * with engine runs. A step's JSON (capacity_step_json) is written here too, so that the search's
 * document and brink merge's (report/merge.c) carry the same fields. */
#include "verdict/capacity.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"

void capacity_params_default(capacity_params *p) {
    memset(p, 0, sizeof *p);
    p->start_rps = 200;
    p->factor = 2;
    p->max_rps = 100000;
    p->resolution = 0.05;
    p->max_steps = 24;
    p->max_time_s = 180;
    p->step_s = 5;
    p->pause_s = 1;
    p->p99_limit_ms = 500;
    p->error_limit = 0.001;
    p->min_achieved = 0.97;
    p->knee_factor = 2;
    p->knee_floor_ms = 1;
}

int capacity_params_check(const capacity_params *p, char *err, size_t errlen) {
    if (!(p->start_rps >= 1)) {
        err_set(err, errlen, "--start-rate must be at least 1/s");
        return -1;
    }
    if (!(p->max_rps >= p->start_rps)) {
        err_set(err, errlen, "--max-rate (%.0f/s) must be at least --start-rate (%.0f/s)",
                p->max_rps, p->start_rps);
        return -1;
    }
    if (!(p->factor > 1.0 && p->factor <= 100)) {
        err_set(err, errlen, "--factor must be more than 1 and at most 100");
        return -1;
    }
    if (!(p->resolution > 0 && p->resolution < 1)) {
        err_set(err, errlen, "--resolution must be a fraction between 0 and 1 (e.g. 0.05)");
        return -1;
    }
    if (p->max_steps < 1 || p->max_steps > CAPACITY_STEPS_MAX) {
        err_set(err, errlen, "--max-steps must be from 1 to %d", CAPACITY_STEPS_MAX);
        return -1;
    }
    if (!(p->step_s > 0) || !(p->pause_s >= 0)) {
        err_set(err, errlen, "--step must be more than 0 and --pause at least 0");
        return -1;
    }
    if (!(p->max_time_s >= p->step_s + p->pause_s)) {
        err_set(err, errlen,
                "--max-time (%.3gs) must leave room for one step and its pause (%.3gs)",
                p->max_time_s, p->step_s + p->pause_s);
        return -1;
    }
    if (!(p->p99_limit_ms > 0)) {
        err_set(err, errlen, "--p99-limit must be more than 0 ms");
        return -1;
    }
    if (!(p->error_limit >= 0 && p->error_limit < 1)) {
        err_set(err, errlen, "--error-limit must be a fraction from 0 to below 1 (e.g. 0.001)");
        return -1;
    }
    if (!(p->min_achieved > 0 && p->min_achieved <= 1)) {
        err_set(err, errlen, "--min-achieved must be a fraction above 0 and at most 1");
        return -1;
    }
    if (!(p->knee_factor > 1) || !(p->knee_floor_ms >= 0)) {
        err_set(err, errlen, "the knee factor must be more than 1 and its floor at least 0 ms");
        return -1;
    }
    return 0;
}

void capacity_judge(const capacity_params *p, capacity_step *s) {
    s->good = false;
    if (s->requests <= 0) {
        snprintf(s->reason, sizeof s->reason, "no response at all");
    } else if (s->error_rate > p->error_limit) {
        snprintf(s->reason, sizeof s->reason, "error rate %.3g%% > %.3g%% (%lld errors)",
                 s->error_rate * 100, p->error_limit * 100, (long long)s->errors);
    } else if (s->p99_ms > p->p99_limit_ms) {
        snprintf(s->reason, sizeof s->reason, "p99 %.1f ms > %.4g ms", s->p99_ms, p->p99_limit_ms);
    } else if (s->achieved_rps < p->min_achieved * s->rate) {
        snprintf(s->reason, sizeof s->reason, "achieved %.0f/s = %.1f%% of %.0f/s < %.4g%%",
                 s->achieved_rps, 100 * s->achieved_rps / s->rate, s->rate, p->min_achieved * 100);
    } else {
        s->good = true;
        s->reason[0] = '\0';
    }
}

void capacity_knee(const capacity_params *p, capacity_result *out) {
    out->knee_rps = 0;
    out->knee_p99_ms = NAN;
    out->knee_base_p99_ms = NAN;
    double best = NAN;
    for (int i = 0; i < out->nsteps; i++)
        if (out->steps[i].good && (isnan(best) || out->steps[i].p99_ms < best))
            best = out->steps[i].p99_ms;
    if (isnan(best)) return;
    double base = best > p->knee_floor_ms ? best : p->knee_floor_ms;
    out->knee_base_p99_ms = base;
    for (int i = 0; i < out->nsteps; i++) {
        const capacity_step *s = &out->steps[i];
        if (s->good && s->p99_ms <= p->knee_factor * base && s->rate > out->knee_rps) {
            out->knee_rps = s->rate;
            out->knee_p99_ms = s->p99_ms;
        }
    }
}

json_t *capacity_step_json(const capacity_step *s) {
    json_t *o = json_object();
    json_object_set_new(o, "index", json_integer(s->index));
    json_object_set_new(o, "phase", json_string(capacity_phase_name(s->phase)));
    json_object_set_new(o, "started_s", jx_real3(s->started_s));
    json_object_set_new(o, "offered_rps", jx_real3(s->rate));
    json_object_set_new(o, "achieved_rps", jx_real3(s->achieved_rps));
    json_object_set_new(o, "requests", json_integer(s->requests));
    json_object_set_new(o, "errors", json_integer(s->errors));
    json_object_set_new(o, "error_rate", jx_real3(s->error_rate));
    json_object_set_new(o, "timeouts", json_integer(s->timeouts));
    json_object_set_new(o, "p50_ms", jx_real3(s->p50_ms));
    json_object_set_new(o, "p99_ms", jx_real3(s->p99_ms));
    json_object_set_new(o, "max_ms", jx_real3(s->max_ms));
    json_object_set_new(o, "connections", json_integer(s->connections));
    json_object_set_new(o, "service_cpu_pct", jx_real3(s->cpu_pct));
    json_object_set_new(o, "service_rss_mib", jx_real3(s->rss_mib));
    json_object_set_new(o, "backlog_after", jx_real3(s->backlog));
    json_object_set_new(o, "drain_s", jx_real3(s->drain_s));
    json_object_set_new(o, "elapsed_s", jx_real3(s->elapsed_s));
    json_object_set_new(o, "verdict", json_string(s->good ? "good" : "bad"));
    json_object_set_new(o, "reason", s->good ? json_null() : json_string(s->reason));
    return o;
}

json_t *capacity_stats_json(const capacity_result *r, bool interrupted) {
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:b}", "max_sustainable_rps",
                     jx_real3(r->max_sustainable_rps), "knee_rps", jx_real3(r->knee_rps),
                     "knee_p99_ms", jx_real3(r->knee_p99_ms), "resolution_rps",
                     jx_real3(r->resolution_rps), "first_bad_rps", jx_real3(r->first_bad_rps),
                     "steps", (json_int_t)r->nsteps, "interrupted", (int)interrupted);
}

void capacity_results_json(json_t *cap, const capacity_result *r, json_t *knee) {
    json_object_set_new(cap, "max_sustainable_rps", jx_real3(r->max_sustainable_rps));
    json_object_set_new(cap, "first_bad_rps", jx_real3(r->first_bad_rps));
    json_object_set_new(cap, "resolution_rps", jx_real3(r->resolution_rps));
    json_t *k = json_pack("{s:o, s:o, s:o}", "rps", jx_real3(r->knee_rps), "p99_ms",
                          jx_real3(r->knee_p99_ms), "base_p99_ms", jx_real3(r->knee_base_p99_ms));
    json_object_update(knee, k); /* in place where knee has them already, else in this order */
    json_decref(k);
    json_object_set_new(cap, "knee", knee);
}

const char *capacity_stop_name(capacity_stop s) {
    switch (s) {
    case CAPACITY_RESOLVED: return "resolved";
    case CAPACITY_FIRST_STEP: return "first_step";
    case CAPACITY_MAX_RATE: return "max_rate";
    case CAPACITY_MAX_STEPS: return "max_steps";
    case CAPACITY_MAX_TIME: return "max_time";
    default: return "interrupted";
    }
}

const char *capacity_phase_name(capacity_phase ph) {
    return ph == CAPACITY_RAMP ? "ramp" : "bisect";
}

/* The step that set first_bad (for the message). */
static const capacity_step *bad_step(const capacity_result *out) {
    for (int i = 0; i < out->nsteps; i++)
        if (!out->steps[i].good && out->steps[i].rate == out->first_bad_rps) return &out->steps[i];
    return NULL;
}

static void describe(const capacity_params *p, capacity_result *out) {
    char *m = out->message;
    size_t ml = sizeof out->message;
    const capacity_step *b = bad_step(out);
    const char *why = b ? b->reason : "";
    const char *bound = out->stop == CAPACITY_MAX_STEPS  ? "--max-steps"
                        : out->stop == CAPACITY_MAX_TIME ? "--max-time"
                                                         : "an interruption";
    switch (out->stop) {
    case CAPACITY_FIRST_STEP:
        snprintf(m, ml,
                 "the service broke at the first step, %.0f/s (%s): no sustainable rate found; "
                 "try a lower --start-rate",
                 out->first_bad_rps, why);
        break;
    case CAPACITY_MAX_RATE:
        snprintf(m, ml,
                 "held every service level up to --max-rate %.0f/s: the breaking point is higher "
                 "(raise --max-rate)",
                 out->max_sustainable_rps);
        break;
    case CAPACITY_RESOLVED:
        snprintf(m, ml, "sustains %.0f/s; breaks at %.0f/s (%s); resolution %.0f/s",
                 out->max_sustainable_rps, out->first_bad_rps, why, out->resolution_rps);
        break;
    default:
        if (out->nsteps == 0)
            snprintf(m, ml, "stopped by %s before any step was measured", bound);
        else if (isnan(out->first_bad_rps) && out->max_sustainable_rps > 0)
            snprintf(m, ml, "stopped by %s before the service broke: it sustains at least %.0f/s",
                     bound, out->max_sustainable_rps);
        else if (out->max_sustainable_rps == 0)
            snprintf(m, ml,
                     "stopped by %s: the service broke at %.0f/s (%s), no sustainable rate found",
                     bound, out->first_bad_rps, why);
        else
            snprintf(m, ml,
                     "stopped by %s: sustains %.0f/s, breaks at %.0f/s (%s); resolution %.0f/s, "
                     "coarser than the %.3g%% asked",
                     bound, out->max_sustainable_rps, out->first_bad_rps, why, out->resolution_rps,
                     p->resolution * 100);
        break;
    }
}

/* Whether another step fits; sets out->stop when it does not. */
static bool may_run(const capacity_params *p, capacity_result *out) {
    if (out->nsteps >= p->max_steps) {
        out->stop = CAPACITY_MAX_STEPS;
        return false;
    }
    double next = p->step_s + p->pause_s;
    if (out->nsteps > 0 && out->steps[out->nsteps - 1].elapsed_s > next)
        next = out->steps[out->nsteps - 1].elapsed_s;
    if (out->nsteps > 0 && out->elapsed_s + next > p->max_time_s) {
        out->stop = CAPACITY_MAX_TIME;
        return false;
    }
    return true;
}

/* Runs one step; 0 measured, 1 interrupted, -1 failed. */
static int step(const capacity_params *p, capacity_run_fn run, capacity_step_fn on_step, void *ud,
                capacity_result *out, capacity_phase phase, double rate, char *err, size_t errlen) {
    capacity_step *s = &out->steps[out->nsteps];
    memset(s, 0, sizeof *s);
    s->index = out->nsteps + 1;
    s->phase = phase;
    s->rate = rate;
    s->started_s = out->elapsed_s;
    s->cpu_pct = s->rss_mib = s->backlog = s->drain_s = NAN;
    int rc = run(ud, s, err, errlen);
    if (rc != 0) return rc;
    capacity_judge(p, s);
    out->nsteps++;
    out->elapsed_s += s->elapsed_s;
    if (s->good) {
        if (rate > out->max_sustainable_rps) out->max_sustainable_rps = rate;
    } else if (isnan(out->first_bad_rps) || rate < out->first_bad_rps) {
        out->first_bad_rps = rate;
    }
    if (on_step) on_step(ud, s);
    return 0;
}

int capacity_search(const capacity_params *p, capacity_run_fn run, capacity_step_fn on_step,
                    void *ud, capacity_result *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->first_bad_rps = NAN;
    out->resolution_rps = NAN;
    if (capacity_params_check(p, err, errlen) < 0) return -1;
    int rc = 0;
    bool ended = false;

    /* ramp */
    double rate = p->start_rps;
    while (!ended) {
        if (!may_run(p, out)) {
            ended = true;
            break;
        }
        rc = step(p, run, on_step, ud, out, CAPACITY_RAMP, rate, err, errlen);
        if (rc != 0) break;
        if (!out->steps[out->nsteps - 1].good) break;
        if (rate >= p->max_rps) {
            out->stop = CAPACITY_MAX_RATE;
            ended = true;
            break;
        }
        rate = rate * p->factor < p->max_rps ? rate * p->factor : p->max_rps;
    }
    if (rc == 0 && !ended && out->max_sustainable_rps == 0) {
        out->stop = CAPACITY_FIRST_STEP;
        ended = true;
    }
    if (rc == 0 && !ended && p->ramp_only) { /* resolved to the ramp's factor */
        out->stop = CAPACITY_RESOLVED;
        ended = true;
    }

    /* bisect */
    while (rc == 0 && !ended) {
        double good = out->max_sustainable_rps, bad = out->first_bad_rps;
        double mid = floor((good + bad) / 2 + 0.5);
        if (bad - good < p->resolution * good || mid <= good || mid >= bad) {
            out->stop = CAPACITY_RESOLVED;
            break;
        }
        if (!may_run(p, out)) break;
        rc = step(p, run, on_step, ud, out, CAPACITY_BISECT, mid, err, errlen);
    }

    if (rc > 0) out->stop = CAPACITY_INTERRUPTED;
    if (!isnan(out->first_bad_rps))
        out->resolution_rps = out->first_bad_rps - out->max_sustainable_rps;
    capacity_knee(p, out);
    describe(p, out);
    return rc < 0 ? -1 : 0;
}
