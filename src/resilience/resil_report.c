/* resil_report.c — what a resilience run means: from the raw record of resil_run.c (each
 * request's outcome by its number, the 250 ms probe samples, the fault's timestamps, the audit's
 * counts) to the headline numbers, the verdicts, the result document (brink.result/1 with
 * .phases, .fault, .timeline, .timeline_250ms, .backlog, .audit, .resources, .accept; see
 * docs/resilience.md) and the terminal summary.
 *
 * Requests are placed by the time they were due, not the time they ended: the "fault" phase holds
 * the requests that arrived while the dependency was broken, whatever became of them, and a
 * timeout that fires after the dependency is back still counts against the fault. A request that
 * was due but has no outcome (never sent before the end, or cut off) counts as an error of class
 * no_outcome with the time it waited until the load ended. Latency percentiles include failed
 * requests (a request that timed out waited that long), so the p99 of a hanging outage shows
 * the client's timeout. */
#include "resilience/resil_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "load/load_report.h"
#include "load/sched.h"
#include "probe/probe_series.h"
#include "verdict/delivery_verdict.h"
#include "verdict/remedy.h"
#include "verdict/storm.h"

enum { PH_SETUP, PH_WARMUP, PH_BASELINE, PH_FAULT, PH_RECOVERY, PH_DRAIN, PH__COUNT };
static const char *const phase_names[PH__COUNT] = {"setup", "warmup",   "baseline",
                                                   "fault", "recovery", "drain"};

/* error classes of the timeline: HTTP 4xx, 5xx, the engine's transport classes, no outcome */
#define CL_4XX    0
#define CL_5XX    1
#define CL_ENGINE 2
#define CL_NONE   (CL_ENGINE + ERR__COUNT)
#define CL__COUNT (CL_NONE + 1)

typedef struct req {
    int64_t t_ns, latency_us, done_ns;
    int status; /* 0: none */
    int cls;    /* error class, -1 for success */
} req;

typedef struct phase_stat {
    int64_t a, b;
    int64_t n, errors, timeouts;
    int64_t cls[CL__COUNT];
    double p50, p99, rate;
    int64_t acc_n, acc_errors;
    double acc_rate;
    /* resources: per process, CPU seconds and max memory */
    double cpu_s[RESIL_NPROC], rss[RESIL_NPROC];
    bool have_res[RESIL_NPROC];
} phase_stat;

typedef struct summary {
    req *hooks, *acc;
    size_t nh, na;
    probe_req *all;
    size_t nall;
    int64_t bounds[PH__COUNT + 1]; /* phase starts; bounds[PH__COUNT] = end */
    phase_stat ph[PH__COUNT];
    phase_stat total; /* warm-up to the end of the recovery */
    double downtime_s, recovery_s, drain_s, pool_recovery_s;
    double max_backlog, max_backlog_at_s, backlog_level;
    bool recovered, drained;
    double cpu_pct_max, rss_max;
    double *bt, *bv; /* backlog series: t (s from t0), total */
    int nb;
    /* with a retrying sender: every attempt by its due second (threads merged), the storm */
    bool sender;
    storm_second *ss;
    hdr_hist **sh;
    int64_t *sretries, *sdups;
    int nss;
    storm_result storm;
    int64_t owed_at_fault_end; /* events due before the fault's end, not acknowledged by it */
    int64_t outage_events, outage_delivered;
    double outage_delay_p99_s; /* events first due during the fault: first due → first 2xx */
} summary;

static const char *const proc_names[RESIL_NPROC] = {"service", "redis", "postgres"};

static double secs(int64_t ns) {
    return (double)ns / NS_PER_S;
}

static int class_of(int status, int err) {
    if (status >= 500) return CL_5XX;
    if (status >= 400) return CL_4XX;
    if (status > 0) return -1;
    return CL_ENGINE + err;
}

static const char *class_name(int c) {
    if (c == CL_4XX) return "http_4xx";
    if (c == CL_5XX) return "http_5xx";
    if (c == CL_NONE) return "no_outcome";
    return engine_err_name((engine_err)(c - CL_ENGINE));
}

/* The requests of a stream that were due during the run, in seq (= due) order. */
static req *stream_reqs(const resil_run *run, const resil_stream *s, size_t *n) {
    *n = 0;
    if (!s->recs || !s->have_res) return NULL;
    size_t due = (size_t)s->res.scheduled;
    if (due > s->cap) due = s->cap;
    req *r = calloc(due ? due : 1, sizeof *r);
    if (!r) return NULL;
    sched sc;
    sched_constant(&sc, s->rate, s->cfg.duration_ns);
    for (size_t i = 0; i < due; i++) {
        const resil_rec *x = &s->recs[i];
        if (x->ended) {
            r[i].t_ns = x->intended_ns;
            r[i].done_ns = x->done_ns;
            r[i].status = x->status;
            r[i].cls = class_of(x->status, x->err);
        } else {
            int64_t t = sched_time_of(&sc, i);
            r[i].t_ns = s->res.start_ns + (t < 0 ? 0 : t);
            r[i].done_ns = run->load_end;
            r[i].cls = CL_NONE;
        }
        r[i].latency_us = (r[i].done_ns - r[i].t_ns) / NS_PER_US;
        if (r[i].latency_us < 0) r[i].latency_us = 0;
    }
    *n = due;
    return r;
}

static int phase_at(const summary *s, int64_t t) {
    for (int p = PH__COUNT - 1; p >= 0; p--)
        if (t >= s->bounds[p]) return p;
    return PH_SETUP;
}

/* p50/p99 of the requests r[i..j). */
static void pcts(const req *r, size_t i, size_t j, double *p50, double *p99) {
    *p50 = *p99 = NAN;
    if (j <= i) return;
    double *v = malloc(sizeof *v * (j - i));
    if (!v) return;
    for (size_t k = i; k < j; k++) v[k - i] = (double)r[k].latency_us / 1000.0;
    *p99 = probe_percentile(v, j - i, 99); /* sorts v */
    *p50 = v[(size_t)ceil(0.5 * (double)(j - i)) - 1];
    free(v);
}

/* First index of r[0..n) with t_ns >= t. */
static size_t first_at(const req *r, size_t n, int64_t t) {
    return probe_first_at(r, n, sizeof *r, offsetof(req, t_ns), t);
}

static void stat_range(const req *r, size_t n, int64_t a, int64_t b, phase_stat *ps) {
    size_t i = first_at(r, n, a), j = first_at(r, n, b);
    ps->n = (int64_t)(j - i);
    for (size_t k = i; k < j; k++) {
        if (r[k].cls < 0) continue;
        ps->errors++;
        ps->cls[r[k].cls]++;
        if (r[k].cls == CL_ENGINE + ERR_REQUEST_TIMEOUT ||
            r[k].cls == CL_ENGINE + ERR_CONNECT_TIMEOUT)
            ps->timeouts++;
    }
    ps->rate = ps->n ? (double)ps->errors / (double)ps->n : NAN;
    pcts(r, i, j, &ps->p50, &ps->p99);
}

static void acc_range(const req *r, size_t n, int64_t a, int64_t b, phase_stat *ps) {
    size_t i = first_at(r, n, a), j = first_at(r, n, b);
    ps->acc_n = (int64_t)(j - i);
    for (size_t k = i; k < j; k++)
        if (r[k].cls >= 0) ps->acc_errors++;
    ps->acc_rate = ps->acc_n ? (double)ps->acc_errors / (double)ps->acc_n : NAN;
}

static int cmp_probe_req(const void *a, const void *b) {
    const probe_req *x = a, *y = b;
    return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

static int64_t whole_second(const resil_run *run, int64_t t, bool up) {
    int64_t d = t - run->t0;
    if (d < 0) return 0;
    return up ? (d + NS_PER_S - 1) / NS_PER_S : d / NS_PER_S;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A retrying sender: the threads' seconds merged, the storm after the fault, the events owed at
 * the fault's end and the delivery delay of those first due during it. */
static void analyze_sender(const resil_run *run, summary *s) {
    const resil_stream *h = &run->hooks;
    int n = h->nsec;
    s->sender = true;
    s->outage_delay_p99_s = NAN;
    s->ss = calloc((size_t)n + 1, sizeof *s->ss);
    s->sh = calloc((size_t)n + 1, sizeof *s->sh);
    s->sretries = calloc((size_t)n + 1, sizeof *s->sretries);
    s->sdups = calloc((size_t)n + 1, sizeof *s->sdups);
    if (!s->ss || !s->sh || !s->sretries || !s->sdups) return;
    s->nss = n;
    for (int i = 0; i < n; i++) {
        storm_second *x = &s->ss[i];
        for (int t = 0; t < h->nthr; t++) {
            const resil_sec *y = &h->secs[(size_t)t * (size_t)n + (size_t)i];
            x->attempts += y->attempts;
            x->errors += y->failed;
            s->sretries[i] += y->retries;
            s->sdups[i] += y->duplicates;
            if (!y->latency) continue;
            if (!s->sh[i]) s->sh[i] = hdr_new_like(y->latency);
            if (s->sh[i]) hdr_merge(s->sh[i], y->latency);
        }
        x->completed = x->attempts; /* placed by due time: every counted attempt has ended */
        x->latency = s->sh[i];
        x->p99_ms =
            s->sh[i] && hdr_total(s->sh[i]) ? hdr_value_at_percentile(s->sh[i], 99) / 1000.0 : NAN;
    }
    /* a second without attempts has no histogram: the storm then takes the per-second p99s */
    storm_input in = {.sec = s->ss,
                      .n = n,
                      .baseline_from = (int)whole_second(run, run->baseline_start, true),
                      .baseline_to = (int)whole_second(run, run->fault_start, false),
                      .fault_end =
                          run->fault_removed ? (int)whole_second(run, run->fault_end, false) : -1,
                      .until = (int)whole_second(run, run->recovery_end, false)};
    storm_analyze(&in, &s->storm);

    size_t due = h->have_res ? (size_t)h->res.scheduled : 0;
    if (due > h->cap) due = h->cap;
    double *d = calloc(due + 1, sizeof *d);
    size_t nd = 0;
    for (size_t i = 0; i < due; i++) {
        const resil_rec *x = &h->recs[i];
        if (!x->ended) continue;
        if (run->fault_removed && x->intended_ns < run->fault_end &&
            (!x->acked || x->ack_ns > run->fault_end))
            s->owed_at_fault_end++;
        if (x->intended_ns < run->fault_start || x->intended_ns >= run->fault_end) continue;
        s->outage_events++;
        if (x->acked) s->outage_delivered++;
        if (d) d[nd++] = x->acked ? secs(x->ack_ns - x->intended_ns) : INFINITY;
    }
    if (d && nd) {
        qsort(d, nd, sizeof *d, cmp_double);
        size_t k = (size_t)ceil(0.99 * (double)nd);
        s->outage_delay_p99_s = d[(k ? k : 1) - 1];
    }
    free(d);
}

static void analyze(const resil_run *run, summary *s) {
    memset(s, 0, sizeof *s);
    s->hooks = stream_reqs(run, &run->hooks, &s->nh);
    s->acc = stream_reqs(run, &run->accepts, &s->na);
    s->bounds[PH_SETUP] = INT64_MIN;
    s->bounds[PH_WARMUP] = run->t0;
    s->bounds[PH_BASELINE] = run->baseline_start;
    s->bounds[PH_FAULT] = run->fault_start;
    s->bounds[PH_RECOVERY] = run->fault_end;
    s->bounds[PH_DRAIN] = run->recovery_end;
    s->bounds[PH__COUNT] = run->drain_end > run->recovery_end ? run->drain_end : run->load_end;
    for (int p = PH_WARMUP; p <= PH_RECOVERY; p++) {
        phase_stat *ps = &s->ph[p];
        ps->a = s->bounds[p];
        ps->b = s->bounds[p + 1];
        stat_range(s->hooks, s->nh, ps->a, ps->b, ps);
        acc_range(s->acc, s->na, ps->a, ps->b, ps);
    }
    /* the whole run: every request from the start on, one due just at the recovery's end
     * included, so that requests >= accepted (the audit's acknowledged) */
    s->total.a = run->t0;
    s->total.b = INT64_MAX;
    stat_range(s->hooks, s->nh, s->total.a, s->total.b, &s->total);
    acc_range(s->acc, s->na, s->total.a, s->total.b, &s->total);

    /* all traffic (webhooks and accepts), for recovery */
    s->all = calloc(s->nh + s->na + 1, sizeof *s->all);
    if (s->all) {
        for (size_t i = 0; i < s->nh; i++)
            s->all[s->nall++] =
                (probe_req){s->hooks[i].t_ns, s->hooks[i].latency_us, s->hooks[i].cls >= 0};
        for (size_t i = 0; i < s->na; i++)
            s->all[s->nall++] =
                (probe_req){s->acc[i].t_ns, s->acc[i].latency_us, s->acc[i].cls >= 0};
        qsort(s->all, s->nall, sizeof *s->all, cmp_probe_req);
    }
    int64_t be;
    double bp99;
    int64_t bn = probe_window(s->all, s->nall, run->baseline_start, run->fault_start, &be, &bp99);
    probe_recovery_opts ro = {.step_ns = RESIL_SAMPLE_NS,
                              .window_ns = 3 * NS_PER_S,
                              .base_error_rate = bn ? (double)be / (double)bn : 0,
                              .base_p99_ms = bp99,
                              .error_slack = 0.002,
                              .p99_factor = 2,
                              .p99_slack_ms = 10};
    double rec = run->fault_removed
                     ? probe_recovery_s(s->all, s->nall, run->fault_end, run->recovery_end, &ro)
                     : -1;
    s->recovered = rec >= 0;
    s->recovery_s = rec >= 0 ? rec : INFINITY;

    /* dependency downtime */
    if (run->process_fault) {
        int64_t down = run->down_t.down_ns ? run->down_t.down_ns : run->down_t.signal_ns;
        s->downtime_s = run->up_t.ready_ns && down ? secs(run->up_t.ready_ns - down) : NAN;
    } else {
        s->downtime_s = run->fault_removed ? secs(run->fault_end - run->fault_start) : NAN;
    }

    /* pool recovery: the first accept that succeeded after the dependency was back */
    s->pool_recovery_s = NAN;
    if (s->na) {
        s->pool_recovery_s = INFINITY;
        int64_t best = INT64_MAX;
        for (size_t i = 0; i < s->na; i++)
            if (s->acc[i].cls < 0 && s->acc[i].status >= 200 && s->acc[i].status < 300 &&
                s->acc[i].done_ns >= run->fault_end && s->acc[i].done_ns < best)
                best = s->acc[i].done_ns;
        if (best != INT64_MAX) s->pool_recovery_s = secs(best - run->fault_end);
    }

    /* backlog and resources from the samples */
    s->bt = calloc((size_t)run->nsamples + 1, sizeof *s->bt);
    s->bv = calloc((size_t)run->nsamples + 1, sizeof *s->bv);
    s->max_backlog = NAN;
    s->backlog_level = 0;
    for (int i = 0; run->samples && s->bt && s->bv && i < run->nsamples; i++) {
        const resil_sample *x = &run->samples[i];
        double v = resil_backlog_total(run, x, NULL);
        s->bt[s->nb] = secs(x->t_ns - run->t0);
        s->bv[s->nb++] = v;
        int p = phase_at(s, x->t_ns);
        if (p == PH_BASELINE && !isnan(v) && v > s->backlog_level) s->backlog_level = v;
        if (x->t_ns >= run->fault_start && !isnan(v) &&
            (isnan(s->max_backlog) || v > s->max_backlog)) {
            s->max_backlog = v;
            s->max_backlog_at_s = secs(x->t_ns - run->t0);
        }
        if (p < PH_WARMUP || p > PH_RECOVERY) continue;
        for (int k = 0; k < RESIL_NPROC; k++) {
            if (!x->have_use[k]) continue;
            s->ph[p].have_res[k] = true;
            s->ph[p].cpu_s[k] += x->use[k].cpu_s;
            if (x->use[k].rss_mib > s->ph[p].rss[k]) s->ph[p].rss[k] = x->use[k].rss_mib;
        }
    }
    double d = run->fault_removed ? probe_drain_s(s->bt, s->bv, s->nb,
                                                  secs(run->fault_end - run->t0), s->backlog_level)
                                  : -1;
    s->drained = d >= 0;
    s->drain_s = d >= 0 ? d : INFINITY;
    if (run->opts->sender && run->hooks.secs) analyze_sender(run, s);
    s->cpu_pct_max = NAN;
    s->rss_max = NAN;
    for (int p = PH_BASELINE; p <= PH_RECOVERY; p++) {
        double len = secs(s->ph[p].b - s->ph[p].a);
        if (!s->ph[p].have_res[0] || len <= 0) continue;
        double pct = s->ph[p].cpu_s[0] / len * 100.0;
        if (isnan(s->cpu_pct_max) || pct > s->cpu_pct_max) s->cpu_pct_max = pct;
        if (isnan(s->rss_max) || s->ph[p].rss[0] > s->rss_max) s->rss_max = s->ph[p].rss[0];
    }
}

static void summary_free(summary *s) {
    free(s->hooks);
    free(s->acc);
    free(s->all);
    free(s->bt);
    free(s->bv);
    for (int i = 0; s->sh && i < s->nss; i++) hdr_free(s->sh[i]);
    free(s->sh);
    free(s->ss);
    free(s->sretries);
    free(s->sdups);
}

/* "503: 12, request_timeout: 3" — the error classes of a phase. */
static void classes_text(const phase_stat *ps, char *out, size_t outlen) {
    size_t n = 0;
    out[0] = '\0';
    for (int c = 0; c < CL__COUNT && n + 1 < outlen; c++) {
        if (!ps->cls[c]) continue;
        int w = snprintf(out + n, outlen - n, "%s%s %lld", n ? ", " : "", class_name(c),
                         (long long)ps->cls[c]);
        if (w < 0) break;
        n += (size_t)w;
    }
}

static const char *dep_name(const resil_run *run) {
    return !strcmp(run->mode->target, "redis") ? "Redis" : "PostgreSQL";
}

/* ---- verdicts -------------------------------------------------------------------------------- */

static int judge(th_result *rs, int n, const char *test, const char *metric, double v,
                 const char *evidence) {
    if (n >= RESIL_MAX_RESULTS) return n;
    if (threshold_judge(&rs[n], test, metric, v, evidence) < 0) return n;
    return n + 1;
}

/* The retry storm's verdicts: errors and p99 while the owed retries came in, and a relapse. */
static int storm_verdicts(const resil_run *run, const summary *s, th_result *rs, int n) {
    const storm_result *r = &s->storm;
    char ev[256];
    if (!r->valid) return n;
    const char *dep = dep_name(run);
    err_set(ev, sizeof ev,
            "%lld of %lld attempts failed in the %.0f s after %s was back (peak %.0f attempts/s, "
            "%.1fx the baseline's %.0f/s; %lld events owed at the fault's end)",
            (long long)r->errors, (long long)r->attempts, r->duration_s > 0 ? r->duration_s : 1,
            dep, r->peak_rate, r->peak_ratio, r->baseline_rate, (long long)s->owed_at_fault_end);
    n = judge(rs, n, "storm", "storm_error_rate", r->error_rate, ev);
    err_set(ev, sizeof ev, "p99 %.1f ms over the storm's attempts vs %.1f ms at baseline",
            r->p99_ms, s->ph[PH_BASELINE].p99);
    n = judge(rs, n, "storm", "storm_p99_ms", r->p99_ms, ev);
    if (r->back_at < 0)
        err_set(ev, sizeof ev,
                "the service did not come back (< 1%% errors in a second) before "
                "the recovery phase ended");
    else if (r->relapse_s > 0)
        err_set(ev, sizeof ev,
                "back %d s after the fault's end, then %d s with >= 10%% of attempts failing",
                r->back_at - (int)whole_second(run, run->fault_end, false), r->relapse_s);
    else
        err_set(ev, sizeof ev,
                "back %d s after the fault's end and no second with >= 10%% errors after that",
                r->back_at - (int)whole_second(run, run->fault_end, false));
    n = judge(rs, n, "storm", "storm_relapse_s", r->back_at < 0 ? NAN : (double)r->relapse_s, ev);
    return n;
}

static int verdicts(const resil_run *run, const summary *s, th_result *rs) {
    int n = 0;
    char ev[256], cls[160];
    const char *dep = dep_name(run);
    const resil_audit *a = &run->audit;
    const phase_stat *f = &s->ph[PH_FAULT];
    classes_text(f, cls, sizeof cls);
    bool redis = run->mode->test == RESIL_REDIS;
    const char *t = redis ? "redis" : "db";
    if (redis) {
        err_set(ev, sizeof ev, "%lld of %lld webhooks due while %s was broken failed%s%s",
                (long long)f->errors, (long long)f->n, dep, cls[0] ? ": " : "", cls);
        n = judge(rs, n, t, "outage_error_rate", f->rate, ev);
        err_set(ev, sizeof ev, "p99 %.1f ms during the fault vs %.1f ms at baseline", f->p99,
                s->ph[PH_BASELINE].p99);
        n = judge(rs, n, t, "outage_p99_ms", f->p99, ev);
        err_set(ev, sizeof ev, "the backlog (stream + inbox) peaked at %.0f, %.1f s into the run",
                s->max_backlog, s->max_backlog_at_s);
        n = judge(rs, n, t, "max_backlog", s->max_backlog, ev);
    }
    if (s->recovered)
        err_set(ev, sizeof ev,
                "%s back after %.2f s of downtime; errors and p99 at baseline %.2f s later", dep,
                s->downtime_s, s->recovery_s);
    else
        err_set(ev, sizeof ev,
                "not back at baseline (errors, p99 within 2x) for 3 s in the %.0f s after %s "
                "was back",
                secs(run->recovery_end - run->fault_end), dep);
    const phase_stat *b = &s->ph[PH_BASELINE];
    if (b->n && b->rate > 0.01) { /* "back at baseline" means little when the baseline failed */
        size_t used = strlen(ev);
        err_set(ev + used, sizeof ev - used,
                " (the baseline itself failed %.1f%% of webhooks: lower --rate)", b->rate * 100);
    }
    n = judge(rs, n, t, "recovery_s", s->recovery_s, ev);
    if (redis) {
        if (s->drained)
            err_set(ev, sizeof ev, "backlog back to %.0f %.2f s after the fault ended",
                    s->backlog_level, s->drain_s);
        else
            err_set(ev, sizeof ev, "the backlog had not drained %.1f s after the load ended",
                    run->drain_wait_s);
        n = judge(rs, n, t, "drain_s", s->drain_s, ev);
    } else {
        double sr = s->total.n ? 1.0 - s->total.rate : NAN;
        err_set(ev, sizeof ev, "%lld of %lld webhooks failed over the run (%lld during the fault)",
                (long long)s->total.errors, (long long)s->total.n, (long long)f->errors);
        n = judge(rs, n, t, "success_rate", sr, ev);
        if (!isnan(s->pool_recovery_s)) {
            if (isinf(s->pool_recovery_s))
                err_set(ev, sizeof ev, "no accept succeeded after %s was back", dep);
            else
                err_set(ev, sizeof ev, "first successful accept %.2f s after %s was ready",
                        s->pool_recovery_s, dep);
            n = judge(rs, n, t, "pool_recovery_s", s->pool_recovery_s, ev);
        }
    }
    double lost = a->done ? (double)a->webhooks.lost : NAN;
    double dup = a->done ? (double)a->webhooks.duplicated : NAN;
    double integ = a->done ? (double)a->integrity_violations : NAN;
    if (a->done)
        err_set(ev, sizeof ev, "%lld acknowledged webhooks never stored%s%s",
                (long long)a->webhooks.lost, a->first_lost[0] ? ", e.g. " : "", a->first_lost);
    else
        err_set(ev, sizeof ev, "the audit could not run: %s", a->error);
    int il = n;
    n = judge(rs, n, t, "lost", lost, ev);
    if (a->done)
        err_set(ev, sizeof ev, "%lld webhooks stored more than once%s%s",
                (long long)a->webhooks.duplicated, a->first_duplicated[0] ? ", e.g. " : "",
                a->first_duplicated);
    int id = n;
    n = judge(rs, n, t, "duplicated", dup, ev);
    if (a->done && a->user) {
        size_t used = 0;
        const config *c = run->opts->cfg;
        err_set(ev, sizeof ev, "%s", c->nchecks ? "" : "no integrity checks in audit.integrity");
        for (int i = 0; i < a->nchecks && used < sizeof ev; i++) {
            err_set(ev + used, sizeof ev - used, "%s%s: %lld", i ? ", " : "", c->checks[i].name,
                    (long long)a->check_count[i]);
            used = strlen(ev);
        }
    } else if (a->done)
        err_set(ev, sizeof ev,
                "%lld accepted orders without an assignment, %lld assignments without an "
                "accepted order, %lld vendor mismatches, %lld acknowledged accepts not stored",
                (long long)a->accepted_without_assignment, (long long)a->assignment_without_accept,
                (long long)a->vendor_mismatch, (long long)a->accepts_lost);
    int ii = n;
    n = judge(rs, n, t, "integrity_violations", integ, ev);
    if (!a->done && ii < n) /* no proof of zero loss: red, whatever else happened */
        rs[il].status = rs[id].status = rs[ii].status = TH_RED;
    if (s->sender && run->hooks.have_res) {
        n += delivery_verdicts(rs + n, RESIL_MAX_RESULTS - n, &run->hooks.res, run->opts->sender);
        n = storm_verdicts(run, s, rs, n);
    }
    err_set(ev, sizeof ev, "service CPU, busiest phase (100%% = one core)");
    n = judge(rs, n, "resources", "service_cpu_pct", s->cpu_pct_max, ev);
    err_set(ev, sizeof ev, "service resident memory, largest sample");
    n = judge(rs, n, "resources", "service_rss_mib", s->rss_max, ev);
    return n;
}

/* ---- the document ---------------------------------------------------------------------------- */

static json_t *classes_json(const int64_t *cls) {
    json_t *o = json_object();
    for (int c = 0; c < CL__COUNT; c++)
        if (cls[c]) json_object_set_new(o, class_name(c), json_integer(cls[c]));
    return o;
}

static json_t *phases_json(const resil_run *run, const summary *s) {
    json_t *a = json_array();
    for (int p = PH_WARMUP; p <= PH_RECOVERY; p++) {
        const phase_stat *ps = &s->ph[p];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(phase_names[p]));
        json_object_set_new(o, "start_s", jx_real3(secs(ps->a - run->t0)));
        json_object_set_new(o, "end_s", jx_real3(secs(ps->b - run->t0)));
        json_object_set_new(o, "duration_s", jx_real3(secs(ps->b - ps->a)));
        json_object_set_new(o, "requests", json_integer(ps->n));
        json_object_set_new(o, "errors", json_integer(ps->errors));
        json_object_set_new(o, "error_rate", jx_real6(ps->rate));
        json_object_set_new(o, "timeouts", json_integer(ps->timeouts));
        json_object_set_new(o, "errors_by_class", classes_json(ps->cls));
        json_object_set_new(o, "p50_ms", jx_real3(ps->p50));
        json_object_set_new(o, "p99_ms", jx_real3(ps->p99));
        if (s->na) {
            json_object_set_new(o, "accept_requests", json_integer(ps->acc_n));
            json_object_set_new(o, "accept_errors", json_integer(ps->acc_errors));
            json_object_set_new(o, "accept_error_rate", jx_real6(ps->acc_rate));
        }
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *timeline_json(const resil_run *run, const summary *s, int64_t step, bool fine) {
    json_t *a = json_array();
    int64_t end = run->recovery_end;
    int nb = (int)((end - run->t0 + step - 1) / step);
    /* 2xx completions per bucket (achieved rate), by the time they ended */
    int64_t *done = calloc((size_t)nb + 1, sizeof *done);
    for (size_t i = 0; done && i < s->nh; i++) {
        if (s->hooks[i].cls >= 0 || s->hooks[i].status >= 300) continue;
        int64_t b = (s->hooks[i].done_ns - run->t0) / step;
        if (b >= 0 && b < nb) done[b]++;
    }
    for (int b = 0; b < nb; b++) {
        int64_t lo = run->t0 + (int64_t)b * step, hi = lo + step > end ? end : lo + step;
        double len = secs(hi - lo);
        phase_stat ps;
        memset(&ps, 0, sizeof ps);
        stat_range(s->hooks, s->nh, lo, hi, &ps);
        json_t *o = json_object();
        json_object_set_new(o, "t", fine ? jx_real3(secs(lo - run->t0)) : json_integer(b));
        json_object_set_new(o, "length_s", jx_real3(len));
        json_object_set_new(o, "phase", json_string(phase_names[phase_at(s, lo)]));
        json_object_set_new(o, "offered", json_integer(ps.n));
        if (!fine) {
            json_object_set_new(o, "offered_rps", jx_real3(len > 0 ? (double)ps.n / len : NAN));
            json_object_set_new(o, "achieved_rps",
                                jx_real3(len > 0 && done ? (double)done[b] / len : NAN));
        }
        json_object_set_new(o, "ok", json_integer(ps.n - ps.errors));
        json_object_set_new(o, "errors", json_integer(ps.errors));
        if (!fine) json_object_set_new(o, "errors_by_class", classes_json(ps.cls));
        if (!fine) json_object_set_new(o, "p50_ms", jx_real3(ps.p50));
        json_object_set_new(o, "p99_ms", jx_real3(ps.p99));
        if (s->na) {
            acc_range(s->acc, s->na, lo, hi, &ps);
            json_object_set_new(o, "accept_offered", json_integer(ps.acc_n));
            json_object_set_new(o, "accept_errors", json_integer(ps.acc_errors));
        }
        json_array_append_new(a, o);
    }
    free(done);
    return a;
}

static json_t *backlog_json(const resil_run *run, const summary *s) {
    json_t *o = json_object();
    json_t *probes = json_array();
    for (int i = 0; i < run->nprobes; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "name", json_string(run->probe_name[i]));
        json_object_set_new(p, "probe", json_string(run->probe_desc[i]));
        json_object_set_new(p, "answered", json_boolean(run->probe_ever_ok[i]));
        json_object_set_new(p, "first_error",
                            run->probe_error[i][0] ? json_string(run->probe_error[i])
                                                   : json_null());
        json_array_append_new(probes, p);
    }
    json_object_set_new(o, "probes", probes);
    json_object_set_new(o, "max", jx_real3(s->max_backlog));
    json_object_set_new(o, "max_at_s",
                        isnan(s->max_backlog) ? json_null() : jx_real3(s->max_backlog_at_s));
    json_object_set_new(o, "baseline_level", jx_real3(s->backlog_level));
    json_object_set_new(o, "drained", json_boolean(s->drained));
    json_object_set_new(o, "drain_s", jx_real3(s->drain_s));
    json_object_set_new(o, "drain_wait_s", jx_real3(run->drain_wait_s));
    json_t *samples = json_array();
    for (int i = 0; i < run->nsamples; i++) {
        const resil_sample *x = &run->samples[i];
        json_t *p = json_object();
        json_object_set_new(p, "t", jx_real3(secs(x->t_ns - run->t0)));
        json_object_set_new(p, "phase", json_string(phase_names[phase_at(s, x->t_ns)]));
        json_object_set_new(p, "total", jx_real3(s->bv[i]));
        for (int k = 0; k < run->nprobes; k++)
            json_object_set_new(p, run->probe_name[k], jx_real3(x->v[k]));
        json_array_append_new(samples, p);
    }
    json_object_set_new(o, "samples", samples);
    return o;
}

static json_t *audit_json(const resil_run *run) {
    const resil_audit *a = &run->audit;
    json_t *o = json_object();
    json_object_set_new(o, "done", json_boolean(a->done));
    json_object_set_new(o, "error", a->done ? json_null() : json_string(a->error));
    json_object_set_new(o, "drained_before_audit", json_boolean(run->drained));
    json_object_set_new(o, "drain_wait_s", jx_real3(run->drain_wait_s));
    json_t *w = json_object();
    json_object_set_new(w, "id_prefix", json_sprintf("msg_%s_w", run->run_id));
    json_object_set_new(w, "acknowledged", json_integer(a->webhooks.acknowledged));
    json_object_set_new(w, "stored", json_integer(a->webhooks.stored));
    json_object_set_new(w, "lost", json_integer(a->webhooks.lost));
    json_object_set_new(w, "duplicated", json_integer(a->webhooks.duplicated));
    json_object_set_new(w, "still_queued", json_integer(a->webhooks.queued));
    json_object_set_new(w, "stored_unacknowledged", json_integer(a->webhooks.unacked_stored));
    json_object_set_new(w, "foreign_ids", json_integer(a->webhooks.foreign));
    json_object_set_new(w, "first_lost",
                        a->first_lost[0] ? json_string(a->first_lost) : json_null());
    json_object_set_new(w, "first_duplicated",
                        a->first_duplicated[0] ? json_string(a->first_duplicated) : json_null());
    json_object_set_new(o, "webhooks", w);
    json_t *ac = json_object();
    json_object_set_new(ac, "seeded", json_integer(run->seeds_stored));
    json_object_set_new(ac, "acknowledged", json_integer(a->accepts_acknowledged));
    json_object_set_new(ac, "applied", json_integer(a->accepts_applied));
    json_object_set_new(ac, "lost", json_integer(a->accepts_lost));
    json_object_set_new(o, "accepts", ac);
    json_object_set_new(o, "source", json_string(a->user ? "config" : "embedded"));
    if (a->user) { /* brink.yaml's queries, as they ran */
        const config *c = run->opts->cfg;
        json_object_set_new(o, "attempts", json_integer(a->attempts));
        json_t *q = json_object();
        json_object_set_new(q, "url", json_string(c->audit_url));
        json_object_set_new(q, "stored", json_string(c->audit_stored));
        json_object_set_new(q, "queued",
                            c->audit_queued ? json_string(c->audit_queued) : json_null());
        json_object_set_new(o, "queries", q);
        json_t *in = json_object(), *checks = json_array();
        for (int i = 0; i < c->nchecks; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "name", json_string(c->checks[i].name));
            json_object_set_new(e, "query", json_string(c->checks[i].query));
            json_object_set_new(e, "violations",
                                i < a->nchecks ? json_integer(a->check_count[i]) : json_null());
            json_array_append_new(checks, e);
        }
        json_object_set_new(in, "checks", checks);
        json_object_set_new(in, "violations", json_integer(a->integrity_violations));
        json_object_set_new(o, "integrity", in);
        return o;
    }
    json_t *in = json_object();
    json_object_set_new(in, "accepted_without_assignment",
                        json_integer(a->accepted_without_assignment));
    json_object_set_new(in, "assignment_without_accept",
                        json_integer(a->assignment_without_accept));
    json_object_set_new(in, "vendor_mismatch", json_integer(a->vendor_mismatch));
    json_object_set_new(in, "accepts_lost", json_integer(a->accepts_lost));
    json_object_set_new(in, "violations", json_integer(a->integrity_violations));
    json_object_set_new(o, "integrity", in);
    return o;
}

static json_t *resources_json(const resil_run *run, const summary *s) {
    json_t *o = json_object();
    json_object_set_new(o, "sample_interval_s", jx_real3(secs(RESIL_SAMPLE_NS)));
    json_t *a = json_array();
    for (int p = PH_WARMUP; p <= PH_RECOVERY; p++) {
        const phase_stat *ps = &s->ph[p];
        double len = secs(ps->b - ps->a);
        json_t *e = json_object();
        json_object_set_new(e, "phase", json_string(phase_names[p]));
        for (int k = 0; k < RESIL_NPROC; k++) {
            json_t *u = json_object();
            json_object_set_new(u, "cpu_pct",
                                ps->have_res[k] && len > 0 ? jx_real3(ps->cpu_s[k] / len * 100.0)
                                                           : json_null());
            json_object_set_new(u, "rss_mib", ps->have_res[k] ? jx_real3(ps->rss[k]) : json_null());
            json_object_set_new(e, proc_names[k], u);
        }
        json_array_append_new(a, e);
    }
    json_object_set_new(o, "phases", a);
    (void)run;
    return o;
}

static json_t *fault_json(const resil_run *run, const summary *s) {
    json_t *o = json_object();
    const resil_mode *m = run->mode;
    static const char *const actions[] = {"latency", "blackhole", "reset", "down",
                                          "pause",   "kill",      "stop"};
    json_object_set_new(o, "mode", json_string(m->name));
    json_object_set_new(o, "target", json_string(m->target));
    json_object_set_new(o, "action", json_string(actions[m->action]));
    json_object_set_new(o, "description", json_string(m->what));
    if (m->action == RA_LATENCY)
        json_object_set_new(o, "latency_ms", json_integer(run->opts->latency_ms));
    json_object_set_new(o, "applied_s", jx_real3(secs(run->fault_start - run->t0)));
    json_object_set_new(o, "removed_s",
                        run->fault_removed ? jx_real3(secs(run->fault_end - run->t0))
                                           : json_null());
    if (run->process_fault) {
        const stack_fault_times *d = &run->down_t, *u = &run->up_t;
        json_object_set_new(o, "signal_s",
                            d->signal_ns ? jx_real3(secs(d->signal_ns - run->t0)) : json_null());
        json_object_set_new(o, "down_s",
                            d->down_ns ? jx_real3(secs(d->down_ns - run->t0)) : json_null());
        json_object_set_new(o, "ready_s",
                            u->ready_ns ? jx_real3(secs(u->ready_ns - run->t0)) : json_null());
        json_object_set_new(o, "pid_before",
                            d->pid_before ? json_integer(d->pid_before) : json_null());
        json_object_set_new(o, "pid_after",
                            u->pid_after ? json_integer(u->pid_after) : json_null());
    }
    json_object_set_new(o, "downtime_s", jx_real3(s->downtime_s));
    json_object_set_new(o, "error",
                        run->fault_error[0] ? json_string(run->fault_error) : json_null());
    return o;
}

/* .storm: the retry storm, and every attempt by its due second (first deliveries, retries,
 * duplicates) over the run. */
static json_t *storm_json(const resil_run *run, const summary *s) {
    const storm_result *r = &s->storm;
    json_t *o = json_object();
    int fe = (int)whole_second(run, run->fault_end, false);
    json_object_set_new(o, "valid", json_boolean(r->valid));
    json_object_set_new(o, "baseline_rps", jx_real3(r->baseline_rate));
    json_object_set_new(o, "peak_rps", jx_real3(r->valid ? r->peak_rate : NAN));
    json_object_set_new(o, "peak_ratio", jx_real3(r->peak_ratio));
    json_object_set_new(o, "peak_at_s", r->valid ? jx_real3(r->peak_at_s) : json_null());
    json_object_set_new(o, "duration_s", r->valid ? jx_real3(r->duration_s) : json_null());
    json_object_set_new(o, "subsided", json_boolean(r->subsided));
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    json_object_set_new(o, "excess_attempts", json_integer(r->excess));
    json_object_set_new(o, "errors", json_integer(r->errors));
    json_object_set_new(o, "error_rate", jx_real6(r->error_rate));
    json_object_set_new(o, "p99_ms", jx_real3(r->p99_ms));
    json_object_set_new(o, "back_s", r->back_at >= 0 ? json_integer(r->back_at - fe) : json_null());
    json_object_set_new(o, "relapse_s", r->back_at >= 0 ? json_integer(r->relapse_s) : json_null());
    json_object_set_new(o, "owed_at_fault_end", json_integer(s->owed_at_fault_end));
    json_object_set_new(o, "fault_end_second", json_integer(fe));
    json_t *a = json_array();
    int last = s->nss - 1;
    while (last >= 0 && s->ss[last].attempts == 0) last--;
    for (int i = 0; i <= last; i++) {
        const storm_second *x = &s->ss[i];
        json_array_append_new(a, json_pack("{s:i, s:I, s:I, s:I, s:I, s:o}", "t", i, "attempts",
                                           (json_int_t)x->attempts, "retries",
                                           (json_int_t)s->sretries[i], "duplicates",
                                           (json_int_t)s->sdups[i], "failed", (json_int_t)x->errors,
                                           "p99_ms", jx_real3(x->p99_ms)));
    }
    json_object_set_new(o, "seconds", a);
    return o;
}

static const char *const stat_names[] = {
    "outage_error_rate", "outage_p99_ms", "outage_requests", "outage_timeouts",
    "baseline_error_rate", "baseline_p99_ms", "requests", "errors", "error_rate", "success_rate",
    "timeouts", "p50_ms", "p99_ms", "rps", "offered_rps", "max_backlog", "drain_s", "downtime_s",
    "recovery_s", "pool_recovery_s", "accepted", "lost", "duplicated", "integrity_violations",
    "accept_requests", "accept_error_rate", "accept_outage_error_rate", "service_cpu_pct",
    "service_rss_mib",
    /* with a sender */
    "outage_events", "outage_events_delivered", "outage_delivery_delay_p99_s", "storm_peak_ratio",
    "storm_s", "storm_error_rate", "storm_p99_ms", "storm_relapse_s", "owed_at_fault_end", "events",
    "first_attempt_success_rate", "eventual_delivery_rate", "gave_up", "undelivered", "retries",
    "duplicates_sent", "attempts_per_event", "attempts_per_event_max", "delivery_delay_p50_s",
    "delivery_delay_p99_s", "delivery_delay_max_s"};

const char *const *resil_report_stat_names(int *n) {
    *n = (int)(sizeof stat_names / sizeof stat_names[0]);
    return stat_names;
}

json_t *resil_report_json(const resil_run *run, th_result *rs, int *nrs) {
    summary s;
    analyze(run, &s);
    *nrs = verdicts(run, &s, rs);
    remedy_annotate(&run->metrics, rs, *nrs);
    const resil_opts *o = run->opts;
    json_t *doc = json_object();
    char when[32];
    clock_format_utc(run->started_wall_ns, when);
    json_object_set_new(doc, "schema", json_string("brink.result/1"));
    json_object_set_new(doc, "test", json_string(resil_test_name(run->mode->test)));
    json_object_set_new(doc, "mode", json_string(run->mode->name));
    const char *profile = o->profile == STACK_PROFILE_UNTUNED ? "untuned" : "tuned";
    json_object_set_new(doc, "profile", o->cfg ? json_null() : json_string(profile));
    json_object_set_new(doc, "started_at", json_string(when));
    json_object_set_new(doc, "duration_s", jx_real3(secs(s.bounds[PH__COUNT] - run->t0)));
    json_object_set_new(doc, "target", json_string(run->service_url));

    json_t *c = json_object();
    json_object_set_new(c, "mode", json_string(run->mode->name));
    json_object_set_new(c, "rate", jx_real3(o->rate));
    json_object_set_new(c, "accept_rate", jx_real3(o->accept_rate));
    json_object_set_new(c, "warmup_s", jx_real3(secs(o->warmup_ns)));
    json_object_set_new(c, "baseline_s", jx_real3(secs(o->baseline_ns)));
    json_object_set_new(c, "fault_s", jx_real3(secs(o->fault_ns)));
    json_object_set_new(c, "recovery_s", jx_real3(secs(o->recovery_ns)));
    json_object_set_new(c, "timeout_s", jx_real3(secs(o->timeout_ns)));
    json_object_set_new(c, "drain_timeout_s", jx_real3(secs(o->drain_timeout_ns)));
    json_object_set_new(c, "connections", json_integer(run->hooks.cfg.connections));
    json_object_set_new(c, "threads", json_integer(run->hooks.cfg.threads));
    json_object_set_new(c, "stack", json_string(o->cfg ? "user" : "embedded"));
    json_object_set_new(c, "config_file", o->cfg ? json_string(o->cfg->file) : json_null());
    json_object_set_new(c, "stack_profile", o->cfg ? json_null() : json_string(profile));
    json_object_set_new(c, "service_command",
                        o->cfg ? json_null() : json_string(run->service_command));
    json_object_set_new(c, "sign", run->sign ? json_string(run->sign) : json_null());
    json_object_set_new(c, "run_id", json_string(run->run_id));
    json_object_set_new(doc, "config", c);

    const phase_stat *f = &s.ph[PH_FAULT], *b = &s.ph[PH_BASELINE];
    const resil_audit *a = &run->audit;
    json_t *st = json_object();
    json_object_set_new(st, "outage_error_rate", jx_real6(f->rate));
    json_object_set_new(st, "outage_p99_ms", jx_real3(f->p99));
    json_object_set_new(st, "outage_requests", json_integer(f->n));
    json_object_set_new(st, "outage_timeouts", json_integer(f->timeouts));
    json_object_set_new(st, "baseline_error_rate", jx_real6(b->rate));
    json_object_set_new(st, "baseline_p99_ms", jx_real3(b->p99));
    json_object_set_new(st, "requests", json_integer(s.total.n));
    json_object_set_new(st, "errors", json_integer(s.total.errors));
    json_object_set_new(st, "error_rate", jx_real6(s.total.rate));
    json_object_set_new(st, "success_rate", jx_real6(s.total.n ? 1 - s.total.rate : NAN));
    json_object_set_new(st, "timeouts", json_integer(s.total.timeouts));
    json_object_set_new(st, "p50_ms", jx_real3(s.total.p50));
    json_object_set_new(st, "p99_ms", jx_real3(s.total.p99));
    json_object_set_new(
        st, "rps",
        jx_real3(run->hooks.have_res && run->hooks.res.send_window_s > 0
                     ? (double)run->hooks.res.responses / run->hooks.res.send_window_s
                     : NAN));
    json_object_set_new(st, "offered_rps", jx_real3(o->rate));
    json_object_set_new(st, "max_backlog", jx_real3(s.max_backlog));
    json_object_set_new(st, "drain_s", jx_real3(s.drain_s));
    json_object_set_new(st, "drained", json_boolean(s.drained));
    json_object_set_new(st, "downtime_s", jx_real3(s.downtime_s));
    json_object_set_new(st, "recovery_s", jx_real3(s.recovery_s));
    json_object_set_new(st, "recovered", json_boolean(s.recovered));
    json_object_set_new(st, "pool_recovery_s", jx_real3(s.pool_recovery_s));
    json_object_set_new(st, "accepted", json_integer(a->webhooks.acknowledged));
    json_object_set_new(st, "lost", a->done ? json_integer(a->webhooks.lost) : json_null());
    json_object_set_new(st, "duplicated",
                        a->done ? json_integer(a->webhooks.duplicated) : json_null());
    json_object_set_new(st, "integrity_violations",
                        a->done ? json_integer(a->integrity_violations) : json_null());
    if (s.na) {
        json_object_set_new(st, "accept_requests", json_integer(s.total.acc_n));
        json_object_set_new(st, "accept_error_rate", jx_real6(s.total.acc_rate));
        json_object_set_new(st, "accept_outage_error_rate", jx_real6(f->acc_rate));
    }
    json_object_set_new(st, "service_cpu_pct", jx_real3(s.cpu_pct_max));
    json_object_set_new(st, "service_rss_mib", jx_real3(s.rss_max));
    if (s.sender && run->hooks.have_res) {
        load_report_delivery_json(doc, st, &run->hooks.res, o->sender, secs(o->sender_drain_ns));
        json_object_set_new(st, "outage_events", json_integer(s.outage_events));
        json_object_set_new(st, "outage_events_delivered", json_integer(s.outage_delivered));
        json_object_set_new(st, "outage_delivery_delay_p99_s",
                            isinf(s.outage_delay_p99_s) ? json_null()
                                                        : jx_real3(s.outage_delay_p99_s));
        const storm_result *r = &s.storm;
        json_object_set_new(st, "storm_peak_ratio", jx_real3(r->peak_ratio));
        json_object_set_new(st, "storm_s", r->valid ? jx_real3(r->duration_s) : json_null());
        json_object_set_new(st, "storm_error_rate", jx_real6(r->error_rate));
        json_object_set_new(st, "storm_p99_ms", jx_real3(r->p99_ms));
        json_object_set_new(st, "storm_relapse_s",
                            r->valid && r->back_at >= 0 ? json_integer(r->relapse_s) : json_null());
        json_object_set_new(st, "owed_at_fault_end", json_integer(s.owed_at_fault_end));
        json_object_set_new(doc, "storm", storm_json(run, &s));
    }
    json_object_set_new(doc, "stats", st);
    json_object_set_new(doc, "thresholds", threshold_json(rs, *nrs));
    json_object_set_new(doc, "advice", threshold_advice_json(rs, *nrs));
    json_object_set_new(doc, "timeline", timeline_json(run, &s, NS_PER_S, false));
    json_object_set_new(doc, "timeline_250ms", timeline_json(run, &s, RESIL_SAMPLE_NS, true));
    json_object_set_new(doc, "phases", phases_json(run, &s));
    json_object_set_new(doc, "fault", fault_json(run, &s));
    json_object_set_new(doc, "backlog", backlog_json(run, &s));
    json_object_set_new(doc, "audit", audit_json(run));
    json_object_set_new(doc, "resources", resources_json(run, &s));
    summary_free(&s);
    return doc;
}

/* ---- the terminal ---------------------------------------------------------------------------- */

static void fmt_rate(char *out, size_t n, double v) {
    if (isnan(v))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%.2f%%", v * 100);
}

/* The sender's lines: its delivery, the events due during the fault, the retry storm. */
static void terminal_sender(FILE *out, const resil_run *run, const summary *s) {
    load_report_delivery_terminal(out, &run->hooks.res, run->opts->sender);
    if (s->outage_events) {
        fprintf(out, "  during fault  %lld events due, %lld delivered in the end; ",
                (long long)s->outage_events, (long long)s->outage_delivered);
        if (isinf(s->outage_delay_p99_s))
            fprintf(out, "delivery delay p99: not delivered\n");
        else
            fprintf(out, "delivery delay p99 %.2f s\n", s->outage_delay_p99_s);
    }
    const storm_result *r = &s->storm;
    if (!r->valid) return;
    fprintf(out,
            "  retry storm   %lld event%s owed at the fault's end; peak %.0f attempts/s (%.1fx the "
            "baseline's %.0f/s) %.0f s after it\n",
            (long long)s->owed_at_fault_end, s->owed_at_fault_end == 1 ? "" : "s", r->peak_rate,
            r->peak_ratio, r->baseline_rate, r->peak_at_s);
    char er[32];
    fmt_rate(er, sizeof er, r->error_rate);
    fprintf(out, "                ");
    if (r->duration_s > 0)
        fprintf(out, "%s near the baseline rate after %.0f s; ", r->subsided ? "back" : "NOT back",
                r->duration_s);
    else
        fprintf(out, "no burst above the baseline rate; ");
    fprintf(out, "errors %s, p99 %.1f ms; ", er, r->p99_ms);
    if (r->back_at < 0)
        fprintf(out, "the service did not come back\n");
    else if (r->relapse_s > 0)
        fprintf(out, "FELL OVER AGAIN for %d s\n", r->relapse_s);
    else
        fprintf(out, "no relapse\n");
}

void resil_report_terminal(FILE *out, const resil_run *run, const th_result *rs, int nrs) {
    summary s;
    analyze(run, &s);
    const resil_opts *o = run->opts;
    if (o->cfg)
        fprintf(out, "brink %s %s — your stack at %s (%s), %.0f webhooks/s",
                resil_test_name(run->mode->test), run->mode->name, run->service_url, o->cfg->file,
                o->rate);
    else
        fprintf(out, "brink %s %s — %s dispatchd, %.0f webhooks/s",
                resil_test_name(run->mode->test), run->mode->name,
                o->profile == STACK_PROFILE_UNTUNED ? "untuned" : "tuned", o->rate);
    if (s.na) fprintf(out, " + %.0f accepts/s", o->accept_rate);
    fprintf(out, "\n  fault         %s", run->mode->what);
    if (run->mode->action == RA_LATENCY) fprintf(out, " (%lld ms)", (long long)o->latency_ms);
    fprintf(out, "\n");
    for (int p = PH_WARMUP; p <= PH_RECOVERY; p++) {
        const phase_stat *ps = &s.ph[p];
        char r[32], cls[160];
        fmt_rate(r, sizeof r, ps->rate);
        classes_text(ps, cls, sizeof cls);
        fprintf(out, "  %-12s  %5.1f s  %6lld webhooks  errors %-7s p50 %7.1f  p99 %7.1f ms",
                phase_names[p], secs(ps->b - ps->a), (long long)ps->n, r, ps->p50, ps->p99);
        if (s.na) {
            fmt_rate(r, sizeof r, ps->acc_rate);
            fprintf(out, "  accepts %lld, errors %s", (long long)ps->acc_n, r);
        }
        if (cls[0]) fprintf(out, "  (%s)", cls);
        fprintf(out, "\n");
    }
    fprintf(out, "  downtime      %s down %.2f s", dep_name(run), s.downtime_s);
    if (s.recovered)
        fprintf(out, "; service at baseline %.2f s after it was back\n", s.recovery_s);
    else
        fprintf(out, "; service NOT back at baseline before the end of the recovery phase\n");
    if (!isnan(s.pool_recovery_s))
        fprintf(out, "  pool          first successful accept %.2f s after %s was back\n",
                s.pool_recovery_s, dep_name(run));
    if (!isnan(s.max_backlog)) {
        /* the fault's peak against the baseline's level, then how it came back down, then the
         * wait for zero before the audit (which may have run its whole --drain-timeout) */
        if (s.max_backlog > s.backlog_level)
            fprintf(out, "  backlog       max %.0f at %.1f s (baseline level %.0f)", s.max_backlog,
                    s.max_backlog_at_s, s.backlog_level);
        else
            fprintf(out, "  backlog       never above its baseline level (%.0f)", s.backlog_level);
        if (s.drained && s.max_backlog > s.backlog_level)
            fprintf(out, "; back to %.0f %.2f s after the fault ended", s.backlog_level, s.drain_s);
        else if (!s.drained)
            fprintf(out, "; NOT back to its baseline level");
        fprintf(out, "\n");
        double last = run->nsamples > 0
                          ? resil_backlog_total(run, &run->samples[run->nsamples - 1], NULL)
                          : NAN;
        if (!run->drained && run->drain_wait_s > 0 && !isnan(last)) {
            fprintf(
                out,
                "                before the audit: stuck at %.0f, waited the full drain timeout "
                "(%.0f s)\n",
                last, run->drain_wait_s);
        }
    }
    if (s.sender && run->hooks.have_res) terminal_sender(out, run, &s);
    const resil_audit *a = &run->audit;
    if (a->done)
        fprintf(out,
                "  audit         %lld acknowledged, %lld stored: %lld lost, %lld duplicated, %lld "
                "integrity violations\n",
                (long long)a->webhooks.acknowledged, (long long)a->webhooks.stored,
                (long long)a->webhooks.lost, (long long)a->webhooks.duplicated,
                (long long)a->integrity_violations);
    else
        fprintf(out, "  audit         could not run: %s\n", a->error);
    for (int p = PH_BASELINE; p <= PH_RECOVERY; p++) {
        const phase_stat *ps = &s.ph[p];
        double len = secs(ps->b - ps->a);
        fprintf(out, "  %-12s ", p == PH_BASELINE ? "resources" : "");
        fprintf(out, " %-9s", phase_names[p]);
        for (int k = 0; k < RESIL_NPROC; k++) {
            if (!ps->have_res[k] || len <= 0) continue;
            fprintf(out, "  %s %.0f%% %.0f MiB", proc_names[k], ps->cpu_s[k] / len * 100.0,
                    ps->rss[k]);
        }
        fprintf(out, "\n");
    }
    fprintf(out, "\n");
    threshold_print(out, rs, nrs);
    summary_free(&s);
}
