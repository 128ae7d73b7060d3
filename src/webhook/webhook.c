/* webhook.c — `brink webhook light|moderate|heavy`: signed order webhooks at a constant rate in
 * the open model for the profile's duration, against the embedded stack or a target. One engine
 * run (engine_run, in this thread); once a second, on the engine's per-second callback, the
 * service's CPU and RSS are read from /proc. The result is brink load's document
 * (load_report_json) with test "webhook", the profile, the service's resources, and every
 * webhook metric judged by the threshold table (availability = 1 - error_rate); the exit status
 * follows the verdicts (99 when anything is red). `stress` and `brink capacity` go to the search
 * (webhook_stress.c); the command line is in webhook_cmd.c. */
#include "webhook/webhook_audit.h"
#include "webhook/webhook_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "probe/probe_metrics.h"
#include "core/json.h"
#include "load/load_report.h"
#include "verdict/delivery_verdict.h"
#include "verdict/remedy.h"
#include "verdict/threshold.h"

static const webhook_profile profiles[] = {
    {"light", 100, 10 * NS_PER_S, "100 webhooks/s for 10 s"},
    {"moderate", 500, 20 * NS_PER_S, "500 webhooks/s for 20 s"},
    {"heavy", 2000, 30 * NS_PER_S, "2,000 webhooks/s for 30 s"},
    {"stress", 0, 0, "the breaking-point search (as brink capacity)"},
};

const webhook_profile *webhook_profiles(int *n) {
    *n = (int)(sizeof profiles / sizeof profiles[0]);
    return profiles;
}

const webhook_profile *webhook_profile_find(const char *name) {
    for (size_t i = 0; name && i < sizeof profiles / sizeof profiles[0]; i++)
        if (!strcmp(profiles[i].name, name)) return &profiles[i];
    return NULL;
}

void webhook_opts_init(webhook_opts *o) {
    memset(o, 0, sizeof *o);
    o->test = "webhook";
    o->profile = "light";
    o->stack_profile = STACK_PROFILE_TUNED;
    o->sign = SIGN_STANDARD_WEBHOOKS;
    o->timeout_ns = 5 * NS_PER_S;
    o->warmup_ns = NS_PER_S;
    capacity_params_default(&o->cap);
    const th_def *d = threshold_find("webhook", "p99_ms");
    if (d) o->cap.p99_limit_ms = d->red;
    d = threshold_find("webhook", "error_rate");
    if (d) o->cap.error_limit = d->red;
}

int webhook_run(const webhook_opts *o, char *err, size_t errlen) {
    if (!strcmp(o->test ? o->test : "webhook", "capacity"))
        return webhook_run_stress(o, err, errlen);
    const webhook_profile *p = webhook_profile_find(o->profile);
    if (!p) {
        err_set(err, errlen, "unknown profile '%s' (want light, moderate, heavy or stress)",
                o->profile ? o->profile : "");
        return EXIT_USAGE;
    }
    if (p->rate == 0) return webhook_run_stress(o, err, errlen);
    return webhook_run_fixed(o, p, err, errlen);
}

/* ---- the fixed-rate run --------------------------------------------------------------------- */

typedef struct sample {
    int t;
    double cpu_pct, rss_mib;
} sample;

typedef struct fixed_run {
    load_progress progress;
    webhook_meter meter;
    sample *s;
    int n, cap;
} fixed_run;

static void on_second(void *ud, const engine_second *s) {
    fixed_run *f = ud;
    load_progress_second(&f->progress, stderr, s);
    if (f->meter.pid <= 0) return;
    double cpu, rss;
    if (webhook_meter_read(&f->meter, &cpu, &rss) < 0) return;
    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 64;
        sample *ns = realloc(f->s, (size_t)cap * sizeof *ns);
        if (!ns) return; /* a missing sample, not a failed run */
        f->s = ns;
        f->cap = cap;
    }
    f->s[f->n++] = (sample){s->index, cpu, rss};
}

/* "12 × 401, 3 × connect_refused" — the largest error kinds first, at most three. */
static void error_summary(const engine_result *r, char *out, size_t len) {
    out[0] = '\0';
    bool used_status[600] = {false}, used_class[ERR__COUNT] = {false};
    size_t off = 0;
    for (int k = 0; k < 3; k++) {
        long long best = 0;
        int bs = -1, bc = -1;
        for (int i = 400; i < 600; i++)
            if (!used_status[i] && r->status[i] > best) best = r->status[i], bs = i, bc = -1;
        for (int i = 0; i < ERR__COUNT; i++)
            if (!used_class[i] && r->errors_by_class[i] > best)
                best = r->errors_by_class[i], bc = i, bs = -1;
        if (!best) break;
        int w;
        if (bc >= 0) {
            used_class[bc] = true;
            w = snprintf(out + off, len - off, "%s%lld × %s", off ? ", " : "", best,
                         engine_err_name((engine_err)bc));
        } else {
            used_status[bs] = true;
            w = snprintf(out + off, len - off, "%s%lld × %d", off ? ", " : "", best, bs);
        }
        if (w < 0 || (size_t)w >= len - off) break;
        off += (size_t)w;
    }
}

typedef struct verdicts {
    th_result r[24 + CUSTOM_TH_MAX];
    int n;
} verdicts;

static void judge(verdicts *v, const char *test, const char *metric, double value,
                  const char *evidence) {
    if (v->n < (int)(sizeof v->r / sizeof v->r[0]) &&
        threshold_judge(&v->r[v->n], test, metric, value, evidence) == 0)
        v->n++;
}

static void judge_fixed(verdicts *v, const engine_result *r, double rate, double duration_s,
                        double cpu_mean, double cpu_max, double rss_max, pid_t pid) {
    char ev[256], errs[160];
    double window = r->send_window_s > 0 ? r->send_window_s : r->elapsed_s;
    int64_t answered = r->responses;
    if (r->delivery) { /* the schedule's own deliveries over the schedule: not the retries and
                        * duplicates, nor the drain after it */
        answered -= r->dl.retries + r->dl.duplicates;
        if (answered < 0) answered = 0;
        if (duration_s > 0 && duration_s < window) window = duration_s;
    }
    double rps = window > 0 ? answered / window : 0;
    int64_t finished = r->responses + r->transport_errors;
    int64_t errors = r->http_errors + r->transport_errors;
    double error_rate = finished ? (double)errors / (double)finished : 0;
    int64_t timeouts =
        r->errors_by_class[ERR_REQUEST_TIMEOUT] + r->errors_by_class[ERR_CONNECT_TIMEOUT];

    /* rps: at an offered rate below the table's bounds, whether the service keeps up with it */
    threshold_rps_evidence(ev, sizeof ev, rps, rate);
    judge(v, "webhook", "rps", rps, ev);
    threshold_rps_vs_offered(&v->r[v->n - 1], rate);

    static const struct {
        const char *metric;
        double pct;
    } lat[] = {{"p50_ms", 50}, {"p95_ms", 95}, {"p99_ms", 99}, {"p999_ms", 99.9}};
    for (size_t i = 0; i < sizeof lat / sizeof lat[0]; i++) {
        double x = (double)hdr_value_at_percentile(r->latency, lat[i].pct) / 1000.0;
        snprintf(ev, sizeof ev,
                 "p%g %.2f ms over %lld webhooks at %.0f/s (from the intended send time; service "
                 "time p%g %.2f ms)",
                 lat[i].pct, x, (long long)r->responses, rate, lat[i].pct,
                 (double)hdr_value_at_percentile(r->service, lat[i].pct) / 1000.0);
        judge(v, "webhook", lat[i].metric, hdr_total(r->latency) ? x : NAN, ev);
    }
    error_summary(r, errs, sizeof errs);
    snprintf(ev, sizeof ev, "%lld of %lld webhooks failed%s%s", (long long)errors,
             (long long)finished, errs[0] ? ": " : "", errs);
    judge(v, "webhook", "error_rate", error_rate, ev);
    snprintf(ev, sizeof ev, "%lld requests without an answer in time", (long long)timeouts);
    judge(v, "webhook", "timeouts", (double)timeouts, ev);
    snprintf(ev, sizeof ev, "%lld of %lld webhooks answered without error",
             (long long)(finished - errors), (long long)finished);
    judge(v, "webhook", "availability", 1.0 - error_rate, ev);
    snprintf(ev, sizeof ev, "service (pid %d) CPU %.1f%% of one core on average, at most %.1f%%",
             (int)pid, cpu_mean, cpu_max);
    judge(v, "resources", "service_cpu_pct", cpu_mean, ev);
    snprintf(ev, sizeof ev, "service (pid %d) resident memory up to %.1f MiB", (int)pid, rss_max);
    judge(v, "resources", "service_rss_mib", rss_max, ev);
}

/* Which events were acknowledged: acked[seq] (engine_config.on_outcome, on the worker threads:
 * each seq's attempts end on one thread). */
typedef struct ack_set {
    uint8_t *acked;
    uint64_t n;
} ack_set;

static void on_outcome_ack(void *ud, const engine_outcome *oc) {
    ack_set *a = ud;
    if (oc->seq < a->n && oc->status >= 200 && oc->status < 300) a->acked[oc->seq] = 1;
}

static void judge_events(verdicts *v, const webhook_eo_audit *a) {
    char ev[256];
    snprintf(ev, sizeof ev,
             "%lld webhook-ids handled more than once (%s: %lld handlings of %lld acknowledged "
             "events)",
             (long long)a->applied_twice, a->user ? "audit.events.handled" : "order_events",
             (long long)a->handled_rows, (long long)a->acknowledged);
    judge(v, "events", "applied_twice", (double)a->applied_twice, ev);
    if (a->stale_known)
        snprintf(ev, sizeof ev, "%lld events wrote an older version over a newer one",
                 (long long)a->stale_overwrites);
    else
        snprintf(ev, sizeof ev,
                 "not known: audit.events.handled has no third column (the stale "
                 "overwrites); missing_events shows what they leave behind");
    judge(v, "events", "stale_overwrites", a->stale_known ? (double)a->stale_overwrites : NAN, ev);
    snprintf(ev, sizeof ev, "%lld of %lld acknowledged events left no trace in the database",
             (long long)a->lost_after_ack, (long long)a->acknowledged);
    judge(v, "events", "lost_after_ack", (double)a->lost_after_ack, ev);
    snprintf(ev, sizeof ev,
             "%lld of %lld orders are stored below the newest version acknowledged for them",
             (long long)a->missing_events, (long long)a->orders);
    judge(v, "events", "missing_events", (double)a->missing_events, ev);
}

const char *const *webhook_search_stat_names(int *n) {
    static const char *const names[] = {"max_sustainable_rps", "knee_rps",      "knee_p99_ms",
                                        "resolution_rps",      "first_bad_rps", "steps"};
    *n = (int)(sizeof names / sizeof names[0]);
    return names;
}

int webhook_threshold_check(const custom_th_list *l, char *err, size_t errlen) {
    /* the numbers of a fixed-rate run: the load engine's and the webhook test's own */
    static const char *const own[] = {"availability",  "service_cpu_pct",  "service_rss_mib",
                                      "applied_twice", "stale_overwrites", "lost_after_ack",
                                      "missing_events"};
    int n;
    const char *const *load = load_report_stat_names(true, &n);
    const char *names[64];
    int k = 0;
    for (int i = 0; i < n && k < 64; i++) names[k++] = load[i];
    for (size_t i = 0; i < sizeof own / sizeof own[0] && k < 64; i++) names[k++] = own[i];
    return custom_th_check(l, names, k, err, errlen);
}

int webhook_run_fixed(const webhook_opts *o, const webhook_profile *p, char *err, size_t errlen) {
    double rate = o->rate > 0 ? o->rate : p->rate;
    int64_t duration = o->duration_ns > 0 ? o->duration_ns : p->duration_ns;
    delivery_args dl = o->delivery; /* the sender, checked before any stack starts */
    const delivery_policy *pol;
    int64_t drain_ns;
    if (delivery_args_check(&dl, duration, o->timeout_ns > 0 ? o->timeout_ns : 5 * NS_PER_S, true,
                            &pol, &drain_ns, err, errlen) < 0)
        return EXIT_USAGE;
    lifecycle_args ev = o->events;
    const lifecycle *lc;
    if (lifecycle_args_check(&ev, &lc, err, errlen) < 0) return EXIT_USAGE;
    webhook_target t;
    bool usage;
    if (webhook_target_open(o, &t, &usage, err, errlen) < 0)
        return usage ? EXIT_USAGE : EXIT_UNREACHABLE;

    int status = EXIT_UNREACHABLE;
    json_t *doc = NULL;
    engine_result res;
    bool have_res = false;
    ack_set acks = {0};
    webhook_eo_audit eo = {0};
    fixed_run f = {0};
    char pname[64];
    snprintf(pname, sizeof pname, "brink webhook %s", p->name);
    load_progress_init(&f.progress, pname, stderr, o->quiet, true, (double)duration / NS_PER_S);
    engine_config c;
    if (webhook_target_config(&t, o, 0, rate, duration, &c) < 0) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    c.delivery = pol;
    c.delivery_drain_ns = drain_ns;
    c.events = lc;
    /* the exactly-once audit: an event lifecycle on the embedded stack, one segment */
    const char *audit_url = t.st ? stack_get_info(t.st)->pg_url : o->audit_url;
    bool audit = lc && audit_url && o->seg.count <= 1;
    if (lc && !audit)
        snprintf(eo.error, sizeof eo.error, "%s",
                 o->seg.count > 1 ? "a segment of a distributed run is not audited"
                                  : "no database to read: brink.yaml's audit.url names the "
                                    "service's (dispatchd's schema, or yours with audit.events)");
    if (audit) {
        acks.n = (uint64_t)(rate * ((double)duration / NS_PER_S)) + 2;
        if (!(acks.acked = calloc(acks.n, 1))) {
            err_set(err, errlen, "out of memory");
            goto out;
        }
        c.on_outcome = on_outcome_ack;
        c.outcome_ud = &acks;
    }
    if (engine_check(&c, err, errlen) < 0) {
        status = EXIT_USAGE;
        goto out;
    }
    c.on_second = on_second;
    c.ud = &f;
    if (o->start_at_ns) { /* a common start (--start-at): wait until just before it */
        char when[32];
        clock_format_utc(o->start_at_ns, when);
        if (!o->quiet) fprintf(stderr, "brink webhook: waiting until %s (--start-at)\n", when);
        if (segment_wait(o->start_at_ns, 100 * NS_PER_MS, o->stop) < 0) {
            err_set(err, errlen, "interrupted while waiting for --start-at (nothing sent)");
            status = EXIT_INTERRUPTED;
            goto out;
        }
        c.start_wall_ns = o->start_at_ns;
    }
    probe_metrics pm; /* the service's /metrics before and after: evidence for the advice */
    if (t.st)
        probe_metrics_for_stack(&pm, stack_get_info(t.st));
    else
        probe_metrics_init(&pm, o->metrics_url);
    probe_metrics_scrape(&pm, PROBE_METRICS_START);
    webhook_meter whole;
    webhook_meter_start(&f.meter, t.pid);
    webhook_meter_start(&whole, t.pid);
    int rc = engine_run(&c, &res, err, errlen);
    load_progress_end(&f.progress, stderr);
    if (rc < 0) goto out;
    have_res = true;
    /* the mean over the whole run (the drain included), the maxima of the seconds */
    double cpu_mean, rss_now, cpu_max = NAN, rss_max = NAN;
    webhook_meter_read(&whole, &cpu_mean, &rss_now);
    for (int i = 0; i < f.n; i++) {
        if (!isnan(f.s[i].cpu_pct) && (isnan(cpu_max) || f.s[i].cpu_pct > cpu_max))
            cpu_max = f.s[i].cpu_pct;
        if (!isnan(f.s[i].rss_mib) && (isnan(rss_max) || f.s[i].rss_mib > rss_max))
            rss_max = f.s[i].rss_mib;
    }
    if (!isnan(rss_now) && (isnan(rss_max) || rss_now > rss_max)) rss_max = rss_now;
    if (isnan(cpu_max)) cpu_max = cpu_mean;
    probe_metrics_scrape(&pm, PROBE_METRICS_END);
    int64_t finished = res.responses + res.transport_errors;
    double availability =
        finished ? 1.0 - (double)(res.http_errors + res.transport_errors) / (double)finished : NAN;

    verdicts v = {.n = 0};
    /* a segment judges its own share of the rate; brink merge judges the whole */
    double seg_rate = o->seg.count > 1 ? rate / o->seg.count : rate;
    judge_fixed(&v, &res, seg_rate, (double)duration / NS_PER_S, cpu_mean, cpu_max, rss_max, t.pid);
    if (res.delivery)
        v.n += delivery_verdicts(v.r + v.n, (int)(sizeof v.r / sizeof v.r[0]) - v.n, &res, pol);
    if (audit) {
        if (!o->quiet) fprintf(stderr, "brink webhook: auditing the events against PostgreSQL\n");
        webhook_audit_sql user = {o->audit_handled, o->audit_orders, o->audit_pending};
        webhook_audit_events(audit_url, t.st ? NULL : o->audit_password,
                             !t.st && user.handled ? &user : NULL, &t, 0, &res.events, acks.acked,
                             acks.n, &eo); /* the lifecycle as run (planned) */
        if (eo.done) judge_events(&v, &eo);
    }
    remedy_annotate(&pm, v.r, v.n);

    load_report_info info = {
        .url = t.url,
        .method = "POST",
        .header_names = t.header_names,
        .nheaders = 1,
        .body_bytes = c.body_len,
        .sign = t.sign != SIGN_NONE ? sign_scheme_name(t.sign) : NULL,
        .connections = c.connections,
        .threads = c.threads,
        .duration_s = (double)duration / NS_PER_S,
        .timeout_s = (double)c.timeout_ns / NS_PER_S,
        .rate = rate,
        .delivery = pol,
        .delivery_drain_s = (double)drain_ns / NS_PER_S,
    };
    doc = load_report_json(&res, &info);
    segment_doc(doc, o->seg, o->start_at_ns);
    json_object_set_new(doc, "test", json_string("webhook"));
    json_object_set_new(doc, "profile", json_string(p->name));
    webhook_doc_target(doc, &t, o);
    json_t *st = json_object_get(doc, "stats");
    json_object_set_new(st, "availability", jx_real3(availability));
    json_object_set_new(st, "service_cpu_pct", jx_real3(cpu_mean));
    json_object_set_new(st, "service_rss_mib", jx_real3(rss_max));
    if (lc) {
        json_object_update_new(
            st,
            json_pack("{s:o, s:o, s:o, s:o}", "applied_twice",
                      eo.done ? json_integer(eo.applied_twice) : json_null(), "stale_overwrites",
                      eo.done && eo.stale_known ? json_integer(eo.stale_overwrites) : json_null(),
                      "lost_after_ack", eo.done ? json_integer(eo.lost_after_ack) : json_null(),
                      "missing_events", eo.done ? json_integer(eo.missing_events) : json_null()));
        json_object_set_new(doc, "audit", webhook_audit_json(&eo));
    }
    json_object_set_new(doc, "thresholds", threshold_json(v.r, v.n));
    json_object_set_new(doc, "advice", threshold_advice_json(v.r, v.n));
    custom_th_apply(&o->thresholds, doc, v.r, &v.n, (int)(sizeof v.r / sizeof v.r[0]));
    json_t *rs = json_object();
    json_object_set_new(rs, "pid", t.pid > 0 ? json_integer(t.pid) : json_null());
    json_object_set_new(rs, "cpu_basis", json_string("percent of one core"));
    json_object_set_new(rs, "cpu_pct_mean", jx_real3(cpu_mean));
    json_object_set_new(rs, "cpu_pct_max", jx_real3(cpu_max));
    json_object_set_new(rs, "rss_mib_max", jx_real3(rss_max));
    json_t *samples = json_array();
    json_t *tl = json_object_get(doc, "timeline");
    for (int i = 0; i < f.n; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "t", json_integer(f.s[i].t));
        json_object_set_new(e, "cpu_pct", jx_real3(f.s[i].cpu_pct));
        json_object_set_new(e, "rss_mib", jx_real3(f.s[i].rss_mib));
        json_array_append_new(samples, e);
        json_t *te = json_array_get(tl, (size_t)f.s[i].t);
        if (te && json_integer_value(json_object_get(te, "t")) == f.s[i].t) {
            json_object_set_new(te, "service_cpu_pct", jx_real3(f.s[i].cpu_pct));
            json_object_set_new(te, "service_rss_mib", jx_real3(f.s[i].rss_mib));
        }
    }
    json_object_set_new(rs, "samples", samples);
    json_object_set_new(doc, "resources", rs);

    bool json_stdout = o->json_path && !strcmp(o->json_path, "-");
    FILE *out = json_stdout ? stderr : stdout;
    fprintf(out, "brink webhook %s — %.0f signed webhooks/s for %.3g s, %s\n", p->name, rate,
            (double)duration / NS_PER_S, t.label);
    if (o->seg.count >= 1)
        fprintf(out, "  segment %d/%d: %.4g/s of the %.0f/s (brink merge judges the whole)\n",
                o->seg.index + 1, o->seg.count, seg_rate, rate);
    load_report_terminal(out, &res, &info, false);
    if (t.pid > 0)
        fprintf(out, "  service       pid %d: CPU %.1f%% of one core (max %.1f%%), RSS %.1f MiB\n",
                (int)t.pid, cpu_mean, cpu_max, rss_max);
    if (lc && eo.done) {
        char stale[32] = "?";
        if (eo.stale_known) snprintf(stale, sizeof stale, "%lld", (long long)eo.stale_overwrites);
        fprintf(out,
                "  exactly once  %lld applied twice, %s stale overwrites, %lld lost after ack, "
                "%lld orders missing an event (%lld events acknowledged, %lld orders; "
                "PostgreSQL read after %.1f s of drain%s)\n",
                (long long)eo.applied_twice, stale, (long long)eo.lost_after_ack,
                (long long)eo.missing_events, (long long)eo.acknowledged, (long long)eo.orders,
                eo.drain_wait_s, eo.user ? ", audit.events' queries" : "");
    } else if (lc)
        fprintf(out, "  exactly once  not audited: %s\n", eo.error);
    fprintf(out, "\n  thresholds\n");
    threshold_print(out, v.r, v.n);

    if (res.interrupted)
        status = EXIT_INTERRUPTED;
    else if (res.responses == 0)
        status = EXIT_UNREACHABLE;
    else
        status = threshold_worst(v.r, v.n) == TH_RED ? EXIT_THRESHOLDS : EXIT_OK;
    if (o->json_path && jx_write_json(doc, o->json_path, err, errlen) < 0) {
        status = EXIT_FAILURE_;
        goto out;
    }
    if (status == EXIT_UNREACHABLE) {
        char errs[160];
        error_summary(&res, errs, sizeof errs);
        err_set(err, errlen, "no response from %s (%s)", t.url, errs[0] ? errs : "nothing sent");
    } else if (status == EXIT_THRESHOLDS) {
        char names[200] = "";
        size_t off = 0;
        int red = 0;
        for (int i = 0; i < v.n; i++) {
            if (v.r[i].status != TH_RED) continue;
            int w = snprintf(names + off, sizeof names - off, "%s%s", red ? ", " : "",
                             v.r[i].def.metric);
            if (w > 0 && (size_t)w < sizeof names - off) off += (size_t)w;
            red++;
        }
        err_set(err, errlen, "%d threshold%s red: %s (see the advice above)", red,
                red == 1 ? "" : "s", names);
    }

out:
    json_decref(doc);
    if (have_res) engine_result_free(&res);
    free(acks.acked);
    free(f.s);
    webhook_target_close(&t);
    return status;
}
