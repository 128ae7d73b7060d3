/* webhook_stress.c — `brink capacity` and `brink webhook stress`: the breaking-point search
 * (capacity.c) with real steps. Each step is one engine run of signed webhooks at the step's
 * rate in the open model (fresh order ids per step), then a pause and, on the embedded stack, a
 * bounded wait until dispatchd's stream backlog is low, so that a step does not inherit the
 * previous step's queue. Before the first step a short warm-up at the start rate (not judged)
 * opens connections and warms the service; when nothing at all answers it, the target is
 * unreachable (exit 3). The search's steps become a table on the terminal as they finish, and
 * the result document's .capacity (steps, criteria, the answer) and .stats
 * (max_sustainable_rps, knee_rps, knee_p99_ms, resolution_rps), judged under test "capacity".
 *
 * A scale-out segment (--segment i/n, docs/distributed.md) runs a fixed plan instead, so that the
 * n segments' steps coincide without talking to each other: the warm-up at the common start
 * (--start-at, or now), step k at a fixed wall-clock time (the warm-up, then k - 1 slots of a
 * step and a gap of max(pause, timeout + 0.5 s), which any step's drain fits in), the ramp only
 * (capacity_params.ramp_only), each step at the whole test's rate of which the engine sends this
 * segment's share. The segment judges its steps on its own view (achieved x n against the whole
 * rate) and ends at its first broken step; each step's document entry also carries its own
 * numbers and latency histogram, from which brink merge judges the merged steps. */
#include "webhook/webhook_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "core/json.h"
#include "load/load_report.h"
#include "verdict/custom_th.h"
#include "verdict/threshold.h"

#define DRAIN_LIMIT   100             /* backlog entries that count as drained */
#define DRAIN_TIMEOUT (20 * NS_PER_S) /* the longest wait for the backlog after a step */

typedef struct stress {
    const webhook_opts *o;
    webhook_target *t;
    FILE *out;
    load_progress progress; /* of the warm-up or the step under way */
    char progress_name[64];
    int tag;
    int64_t t0; /* the search's start (CLOCK_MONOTONIC) */
    bool any_response;
    json_t *timeline;
    int connections_max;
    /* a scale-out segment's fixed plan (o->seg given) */
    bool plan;
    int64_t plan_t0;    /* wall clock: the warm-up's start (--start-at, or now) */
    int64_t first_step; /* wall clock: step 1's start */
    int64_t slot_ns;    /* step k starts at first_step + (k - 1) x slot_ns */
    struct seg_step {
        double offered, achieved; /* this segment's share and what it achieved */
        int64_t transport_errors;
        int connections;
        char *hdr; /* the step's latency histogram (base64 V2) */
    } seg[CAPACITY_STEPS_MAX];
} stress;

static void on_second(void *ud, const engine_second *s) {
    stress *x = ud;
    load_progress_second(&x->progress, stderr, s);
}

/* Sleeps ns in short slices; false when interrupted. */
static bool pause_for(const webhook_opts *o, int64_t ns) {
    int64_t end = clock_now_ns() + ns;
    for (;;) {
        if (o->stop && *o->stop) return false;
        int64_t now = clock_now_ns();
        if (now >= end) return true;
        int64_t d = end - now < 50 * NS_PER_MS ? end - now : 50 * NS_PER_MS;
        struct timespec ts = {.tv_sec = d / NS_PER_S, .tv_nsec = d % NS_PER_S};
        nanosleep(&ts, NULL);
    }
}

/* "connect_refused: connection refused" — the first transport error, for "no response". */
static void first_error(const engine_result *r, char *out, size_t len) {
    snprintf(out, len, "nothing was sent");
    for (int i = 0; i < ERR__COUNT; i++)
        if (r->errors_by_class[i]) {
            snprintf(out, len, "%s: %s", engine_err_name((engine_err)i), r->first_error[i]);
            return;
        }
}

static void add_timeline(stress *x, const engine_result *r, const capacity_step *s, double offset) {
    for (int i = 0; i < r->nseconds; i++) {
        const engine_second *e = &r->timeline[i];
        json_t *o = json_object();
        char phase[32];
        snprintf(phase, sizeof phase, "step %d", s->index);
        json_object_set_new(o, "t", jx_real3(offset + e->index));
        json_object_set_new(o, "length_s", jx_real3(e->length_s));
        json_object_set_new(o, "phase", json_string(phase));
        json_object_set_new(o, "offered", jx_real3(e->offered));
        json_object_set_new(o, "sent", json_integer(e->sent));
        json_object_set_new(o, "completed", json_integer(e->completed));
        json_object_set_new(o, "errors", json_integer(e->errors));
        json_object_set_new(o, "p50_ms", jx_real3((double)e->p50_us / 1000.0));
        json_object_set_new(o, "p99_ms", jx_real3((double)e->p99_us / 1000.0));
        json_object_set_new(o, "max_ms", jx_real3((double)e->max_us / 1000.0));
        if (e->hdr) json_object_set_new(o, "hdr", json_string(e->hdr));
        json_array_append_new(x->timeline, o);
    }
}

static int run_step(void *ud, capacity_step *s, char *err, size_t errlen) {
    stress *x = ud;
    const webhook_opts *o = x->o;
    if (o->stop && *o->stop) return 1;
    int64_t planned = 0; /* a segment's step starts at its planned wall-clock time */
    if (x->plan) {
        planned = x->first_step + (int64_t)(s->index - 1) * x->slot_ns;
        if (segment_wait(planned, 100 * NS_PER_MS, o->stop) < 0) return 1;
    }
    int64_t start = clock_now_ns();
    engine_config c;
    if (webhook_target_config(x->t, o, ++x->tag, s->rate, (int64_t)(o->cap.step_s * NS_PER_S), &c) <
        0) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    c.on_second = on_second;
    c.ud = x;
    c.start_wall_ns = planned;
    snprintf(x->progress_name, sizeof x->progress_name, "brink %s step %d at %.0f/s",
             o->test ? o->test : "webhook", s->index, s->rate);
    load_progress_init(&x->progress, x->progress_name, stderr, o->quiet, true, o->cap.step_s);
    s->connections = c.connections;
    if (c.connections > x->connections_max) x->connections_max = c.connections;
    webhook_meter m;
    webhook_meter_start(&m, x->t->pid);
    engine_result r;
    int rc = engine_run(&c, &r, err, errlen);
    load_progress_end(&x->progress, stderr);
    if (rc < 0) return -1;
    if (r.interrupted) {
        engine_result_free(&r);
        return 1;
    }
    if (!x->any_response && r.responses == 0) {
        char fe[200];
        first_error(&r, fe, sizeof fe);
        err_set(err, errlen, "no response from %s (%s)", x->t->url, fe);
        engine_result_free(&r);
        return -1;
    }
    if (r.responses) x->any_response = true;
    double window = r.send_window_s > 0 ? r.send_window_s : r.elapsed_s;
    int64_t finished = r.responses + r.transport_errors;
    s->achieved_rps = window > 0 ? r.responses / window : 0;
    s->requests = r.responses;
    s->errors = r.http_errors + r.transport_errors;
    s->error_rate = finished ? (double)s->errors / (double)finished : 0;
    s->timeouts = r.errors_by_class[ERR_REQUEST_TIMEOUT] + r.errors_by_class[ERR_CONNECT_TIMEOUT];
    s->p50_ms = (double)hdr_value_at_percentile(r.latency, 50) / 1000.0;
    s->p99_ms = (double)hdr_value_at_percentile(r.latency, 99) / 1000.0;
    s->max_ms = (double)hdr_max(r.latency) / 1000.0;
    webhook_meter_read(&m, &s->cpu_pct, &s->rss_mib);
    if (x->plan) {
        struct seg_step *g = &x->seg[s->index - 1];
        int n = o->seg.count > 1 ? o->seg.count : 1;
        g->offered = s->rate / n;
        g->achieved = s->achieved_rps;
        g->transport_errors = r.transport_errors;
        g->connections = r.connections;
        free(g->hdr);
        g->hdr = hdr_encode_base64(r.latency);
        s->achieved_rps *= n; /* this segment's view of the whole, for the search's verdict */
        add_timeline(x, &r, s, (double)(planned - x->first_step) / NS_PER_S);
        engine_result_free(&r);
        s->elapsed_s = (double)x->slot_ns / NS_PER_S; /* the plan's, the same in every segment */
        return 0;
    }
    add_timeline(x, &r, s, (double)(start - x->t0) / NS_PER_S);
    engine_result_free(&r);

    if (!pause_for(o, (int64_t)(o->cap.pause_s * NS_PER_S))) return 1;
    if (x->t->redis_port) {
        long long last;
        s->drain_s = webhook_target_drain(x->t, DRAIN_LIMIT, DRAIN_TIMEOUT, &last);
        s->backlog = last >= 0 ? (double)last : NAN;
    }
    s->elapsed_s = (double)(clock_now_ns() - start) / NS_PER_S;
    return 0;
}

static void print_row(FILE *out, const capacity_step *s) {
    char cpu[16] = "-";
    if (!isnan(s->cpu_pct)) snprintf(cpu, sizeof cpu, "%.0f", s->cpu_pct);
    fprintf(out, "  %4d  %-6s %9.0f %9.1f %9.2f %9.2f %8lld %5s  %s%s\n", s->index,
            capacity_phase_name(s->phase), s->rate, s->achieved_rps, s->p50_ms, s->p99_ms,
            (long long)s->errors, cpu, s->good ? "ok" : "broke: ", s->good ? "" : s->reason);
    fflush(out);
}

static void on_step(void *ud, const capacity_step *s) {
    stress *x = ud;
    print_row(x->out, s);
}

static json_t *build_doc(const webhook_opts *o, const webhook_target *t, const capacity_result *r,
                         const th_result *v, int nv, int64_t wall0, double elapsed, json_t *tl,
                         int threads, const char *profile) {
    const capacity_params *p = &o->cap;
    json_t *doc = json_object();
    char when[32];
    clock_format_utc(wall0, when);
    json_object_set_new(doc, "schema", json_string(JX_SCHEMA));
    json_object_set_new(doc, "test", json_string(o->test ? o->test : "webhook"));
    json_object_set_new(doc, "profile", profile ? json_string(profile) : json_null());
    json_object_set_new(doc, "started_at", json_string(when));
    json_object_set_new(doc, "duration_s", jx_real3(elapsed));

    json_t *cfg = json_object();
    json_object_set_new(cfg, "url", json_string(t->url));
    json_object_set_new(cfg, "method", json_string("POST"));
    json_object_set_new(cfg, "model", json_string("open"));
    json_object_set_new(cfg, "connections",
                        o->connections > 0 ? json_integer(o->connections) : json_null());
    json_object_set_new(cfg, "threads", json_integer(threads));
    json_object_set_new(
        cfg, "timeout_s",
        jx_real3((double)(o->timeout_ns > 0 ? o->timeout_ns : 5 * NS_PER_S) / NS_PER_S));
    json_t *hn = json_array();
    json_array_append_new(hn, json_string("Content-Type"));
    json_object_set_new(cfg, "header_names", hn);
    json_t *search = json_object();
    json_object_set_new(search, "start_rps", jx_real3(p->start_rps));
    json_object_set_new(search, "factor", jx_real3(p->factor));
    json_object_set_new(search, "max_rps", jx_real3(p->max_rps));
    json_object_set_new(search, "resolution", jx_real3(p->resolution));
    json_object_set_new(search, "max_steps", json_integer(p->max_steps));
    json_object_set_new(search, "max_time_s", jx_real3(p->max_time_s));
    json_object_set_new(search, "step_s", jx_real3(p->step_s));
    json_object_set_new(search, "pause_s", jx_real3(p->pause_s));
    json_object_set_new(search, "warmup_s", jx_real3((double)o->warmup_ns / NS_PER_S));
    json_object_set_new(cfg, "search", search);
    json_object_set_new(doc, "config", cfg);
    webhook_doc_target(doc, t, o);

    json_object_set_new(doc, "stats", capacity_stats_json(r, r->stop == CAPACITY_INTERRUPTED));
    json_object_set_new(doc, "thresholds", threshold_json(v, nv));
    json_object_set_new(doc, "advice", threshold_advice_json(v, nv));
    json_object_set_new(doc, "timeline", json_incref(tl));

    json_t *cap = json_object();
    json_t *crit = json_object();
    json_object_set_new(crit, "p99_limit_ms", jx_real3(p->p99_limit_ms));
    json_object_set_new(crit, "error_limit", jx_real3(p->error_limit));
    json_object_set_new(crit, "min_achieved", jx_real3(p->min_achieved));
    json_object_set_new(cap, "criteria", crit);
    json_t *steps = json_array();
    for (int i = 0; i < r->nsteps; i++)
        json_array_append_new(steps, capacity_step_json(&r->steps[i]));
    json_object_set_new(cap, "steps", steps);
    json_t *knee = json_object();
    capacity_results_json(cap, r, knee); /* knee: rps, p99_ms, base_p99_ms, then these */
    json_object_set_new(knee, "factor", jx_real3(p->knee_factor));
    json_object_set_new(knee, "rule",
                        json_string("the highest-rate good step with p99 <= factor x base; base: "
                                    "the lowest p99 of the good steps, at least 1 ms"));
    json_object_set_new(cap, "stop", json_string(capacity_stop_name(r->stop)));
    json_object_set_new(cap, "message", json_string(r->message));
    json_object_set_new(doc, "capacity", cap);
    return doc;
}

int webhook_run_stress(const webhook_opts *o, char *err, size_t errlen) {
    if (capacity_params_check(&o->cap, err, errlen) < 0) return EXIT_USAGE;
    webhook_target t;
    bool usage;
    if (webhook_target_open(o, &t, &usage, err, errlen) < 0)
        return usage ? EXIT_USAGE : EXIT_UNREACHABLE;
    bool json_stdout = o->json_path && !strcmp(o->json_path, "-");
    stress x = {
        .o = o,
        .t = &t,
        .out = json_stdout ? stderr : stdout,
        .timeline = json_array(),
    };
    int status = EXIT_UNREACHABLE;
    json_t *doc = NULL;
    const char *test = o->test ? o->test : "webhook";
    const char *profile = !strcmp(test, "webhook") ? "stress" : NULL;
    engine_config c;
    if (webhook_target_config(&t, o, 0, o->cap.start_rps, o->warmup_ns, &c) < 0) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    if (engine_check(&c, err, errlen) < 0) {
        status = EXIT_USAGE;
        goto out;
    }
    int threads = c.threads;
    capacity_params cp = o->cap;
    if (o->seg.count >= 1) { /* a scale-out segment: the fixed plan (see the top) */
        double timeout_s = (double)c.timeout_ns / NS_PER_S;
        double gap = cp.pause_s > timeout_s + 0.5 ? cp.pause_s : timeout_s + 0.5;
        int64_t gap_ns = (int64_t)(gap * NS_PER_S);
        x.plan = true;
        x.plan_t0 = o->start_at_ns ? o->start_at_ns : clock_wall_ns() + 100 * NS_PER_MS;
        x.first_step = x.plan_t0 + (o->warmup_ns > 0 ? o->warmup_ns + gap_ns : 0);
        x.slot_ns = (int64_t)(cp.step_s * NS_PER_S) + gap_ns;
        cp.ramp_only = true;
        cp.pause_s = gap; /* the search's time estimate: a step and its gap */
        if (capacity_params_check(&cp, err, errlen) < 0) {
            status = EXIT_USAGE;
            goto out;
        }
    }

    FILE *out = x.out;
    fprintf(out, "brink %s — breaking-point search, %s\n", profile ? "webhook stress" : "capacity",
            t.label);
    fprintf(out,
            "  service levels: p99 <= %.4g ms, errors <= %.3g%%, achieved >= %.4g%% of offered\n"
            "  search: %.0f/s x %.3g per step up to %.0f/s, then bisect to %.3g%%; steps of %.3g "
            "s; at most %d steps, %.0f s\n\n",
            o->cap.p99_limit_ms, o->cap.error_limit * 100, o->cap.min_achieved * 100,
            o->cap.start_rps, o->cap.factor, o->cap.max_rps, o->cap.resolution * 100, o->cap.step_s,
            o->cap.max_steps, o->cap.max_time_s);
    if (x.plan)
        fprintf(out,
                "  segment %d/%d: a fixed plan (a step every %.3g s, ramp only, ends at this "
                "segment's first broken step);\n  rates are the whole test's, of which this "
                "segment sends 1/%d (achieved: its own x %d); brink merge judges the whole\n\n",
                o->seg.index + 1, o->seg.count, (double)x.slot_ns / NS_PER_S, o->seg.count,
                o->seg.count);

    int64_t wall0 = x.plan ? x.plan_t0 : clock_wall_ns();
    x.t0 = clock_now_ns();
    if (x.plan && o->start_at_ns && !o->quiet) {
        char when[32];
        clock_format_utc(x.plan_t0, when);
        fprintf(stderr, "brink: waiting until %s (--start-at)\n", when);
    }
    if (x.plan && segment_wait(x.plan_t0, 100 * NS_PER_MS, o->stop) < 0) {
        status = EXIT_INTERRUPTED;
        err_set(err, errlen, "interrupted while waiting for --start-at (nothing sent)");
        goto out;
    }
    if (o->warmup_ns > 0) {
        c.on_second = on_second;
        c.ud = &x;
        c.start_wall_ns = x.plan ? x.plan_t0 : 0;
        snprintf(x.progress_name, sizeof x.progress_name, "brink %s warm-up",
                 o->test ? o->test : "webhook");
        load_progress_init(&x.progress, x.progress_name, stderr, o->quiet, true,
                           (double)o->warmup_ns / NS_PER_S);
        engine_result r;
        if (engine_run(&c, &r, err, errlen) < 0) goto out;
        load_progress_end(&x.progress, stderr);
        bool interrupted = r.interrupted;
        if (!interrupted && r.responses == 0) {
            char fe[200];
            first_error(&r, fe, sizeof fe);
            err_set(err, errlen, "no response from %s (%s)", t.url, fe);
            engine_result_free(&r);
            goto out;
        }
        x.any_response = r.responses > 0;
        engine_result_free(&r);
        if (interrupted) {
            status = EXIT_INTERRUPTED;
            goto out;
        }
        if (!x.plan && !pause_for(o, (int64_t)(o->cap.pause_s * NS_PER_S))) {
            status = EXIT_INTERRUPTED;
            goto out;
        }
    }
    fprintf(out, "  %4s  %-6s %9s %9s %9s %9s %8s %5s  %s\n", "step", "phase", "offered",
            "achieved", "p50 ms", "p99 ms", "errors", "cpu%", "verdict");
    capacity_result *res = calloc(1, sizeof *res);
    if (!res) {
        err_set(err, errlen, "out of memory");
        status = EXIT_FAILURE_;
        goto out;
    }
    x.t0 = clock_now_ns();
    int rc = capacity_search(&cp, run_step, on_step, &x, res, err, errlen);
    double elapsed = (double)(clock_now_ns() - x.t0) / NS_PER_S;
    if (rc < 0) {
        free(res);
        status = x.any_response ? EXIT_FAILURE_ : EXIT_UNREACHABLE;
        goto out;
    }

    th_result v[3];
    int nv = 0;
    char ev[400];
    snprintf(ev, sizeof ev, "%s", res->message);
    if (threshold_judge(&v[nv], "capacity", "max_sustainable_rps", res->max_sustainable_rps, ev) ==
        0)
        nv++;
    if (!isnan(res->knee_p99_ms))
        snprintf(ev, sizeof ev, "p99 %.2f ms at the knee, %.0f/s (base p99 %.2f ms)",
                 res->knee_p99_ms, res->knee_rps, res->knee_base_p99_ms);
    else
        snprintf(ev, sizeof ev, "no good step: no knee");
    if (threshold_judge(&v[nv], "capacity", "knee_p99_ms", res->knee_p99_ms, ev) == 0) nv++;

    fprintf(out, "\n");
    if (res->max_sustainable_rps > 0 && !isnan(res->first_bad_rps))
        fprintf(out, "  max sustainable  %.0f/s (it breaks at %.0f/s: resolution %.0f/s)\n",
                res->max_sustainable_rps, res->first_bad_rps, res->resolution_rps);
    else
        fprintf(out, "  max sustainable  %.0f/s\n", res->max_sustainable_rps);
    if (res->knee_rps > 0)
        fprintf(out,
                "  knee             %.0f/s at p99 %.2f ms (the highest good step with p99 <= "
                "%.3g x the best, %.2f ms)\n",
                res->knee_rps, res->knee_p99_ms, o->cap.knee_factor, res->knee_base_p99_ms);
    else
        fprintf(out, "  knee             none (no good step)\n");
    fprintf(out, "  %s\n\n  thresholds\n", res->message);
    threshold_print(out, v, nv);

    doc = build_doc(o, &t, res, v, nv, wall0, elapsed, x.timeline, threads, profile);
    if (x.plan) { /* each step's own numbers, for brink merge */
        segment_doc(doc, o->seg, o->start_at_ns);
        json_t *steps = json_object_get(json_object_get(doc, "capacity"), "steps");
        for (int i = 0; i < res->nsteps; i++) {
            json_t *e = json_array_get(steps, (size_t)i);
            const struct seg_step *g = &x.seg[res->steps[i].index - 1];
            json_object_set_new(e, "total_rps", jx_real3(res->steps[i].rate));
            json_object_set_new(e, "offered_rps", jx_real3(g->offered));
            json_object_set_new(e, "achieved_rps", jx_real3(g->achieved));
            json_object_set_new(e, "transport_errors", json_integer(g->transport_errors));
            json_object_set_new(e, "connections", json_integer(g->connections));
            json_object_set_new(e, "latency_hdr", g->hdr ? json_string(g->hdr) : json_null());
        }
    }
    th_status worst = threshold_worst(v, nv);
    th_status w = custom_th_report(&o->thresholds, doc, out); /* --threshold */
    if (w > worst) worst = w;
    if (res->stop == CAPACITY_INTERRUPTED)
        status = EXIT_INTERRUPTED;
    else
        status = worst == TH_RED ? EXIT_THRESHOLDS : EXIT_OK;
    if (status == EXIT_THRESHOLDS)
        err_set(err, errlen, "%s",
                res->stop == CAPACITY_FIRST_STEP ? res->message : "a threshold is red");
    free(res);
    if (o->json_path && jx_write_json(doc, o->json_path, err, errlen) < 0) status = EXIT_FAILURE_;

out:
    for (int i = 0; i < CAPACITY_STEPS_MAX; i++) free(x.seg[i].hdr);
    json_decref(doc);
    json_decref(x.timeline);
    webhook_target_close(&t);
    return status;
}
