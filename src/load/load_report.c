/* load_report.c — the report section of a load run. The result document (schema brink.result/1,
 * docs/results.md): headline numbers go to .stats with the unit in the key name, so `jq .stats`
 * reads the same for every test; details go to .latency, .status, .errors, .timeline and
 * .config. The terminal summary, in the spirit of wrk's: what was sent, what came back, how
 * fast, how it was distributed, and — plainly — what went wrong. And the live progress line that
 * a TTY gets once per second. */
#include "load/load_report.h"

#include <math.h>
#include <string.h>

#include <unistd.h>

#include "core/clock.h"
#include "core/json.h"

static double ms(int64_t us) {
    return (double)us / 1000.0;
}

/* ---- the result document --------------------------------------------------------------------- */

json_t *load_report_events_json(const engine_result *r) {
    const lifecycle *lc = &r->events;
    char spec[400];
    lifecycle_describe(lc, spec, sizeof spec);
    json_t *by = json_object();
    for (int t = 0; t < lc->ntypes; t++)
        json_object_set_new(by, lc->types[t],
                            json_pack("{s:I, s:I}", "requests", (json_int_t)r->events_sent[t],
                                      "acknowledged", (json_int_t)r->events_acked[t]));
    return json_pack("{s:s, s:i, s:f, s:f, s:I, s:o}", "lifecycle", spec, "events_per_order",
                     lc->nsteps, "interval_s", jx_round6(lc->interval_ns / 1e9), "reorder_rate",
                     lc->reorder_rate, "orders_interleaved", (json_int_t)lc->width, "by_type", by);
}

json_t *load_report_json(const engine_result *r, const load_report_info *info) {
    json_t *doc = json_object();
    char when[32];
    clock_format_utc(r->start_wall_ns, when);
    json_object_set_new(doc, "schema", json_string(JX_SCHEMA));
    json_object_set_new(doc, "test", json_string("load"));
    json_object_set_new(doc, "profile", json_null());
    json_object_set_new(doc, "started_at", json_string(when));
    json_object_set_new(doc, "duration_s", json_real(jx_round3(r->elapsed_s)));
    json_object_set_new(doc, "target", json_string(info->url));

    json_t *cfg = json_object();
    json_object_set_new(cfg, "url", json_string(info->url));
    json_object_set_new(cfg, "method", info->scenario ? json_null() : json_string(info->method));
    json_object_set_new(cfg, "scenario",
                        info->scenario ? json_string(info->scenario) : json_null());
    json_object_set_new(cfg, "model", json_string(r->open_model ? "open" : "closed"));
    json_object_set_new(cfg, "connections", json_integer(r->connections));
    json_object_set_new(cfg, "threads", json_integer(r->threads));
    json_object_set_new(cfg, "duration_s", json_real(info->duration_s));
    json_object_set_new(cfg, "max_requests", json_integer(info->max_requests));
    json_object_set_new(cfg, "timeout_s", json_real(info->timeout_s));
    json_object_set_new(cfg, "rate", info->rate > 0 ? json_real(info->rate) : json_null());
    json_object_set_new(cfg, "stages", info->stages ? json_string(info->stages) : json_null());
    json_t *hn = json_array();
    for (int i = 0; i < info->nheaders; i++)
        json_array_append_new(hn, json_string(info->header_names[i]));
    json_object_set_new(cfg, "header_names", hn);
    json_object_set_new(cfg, "body_bytes", json_integer((json_int_t)info->body_bytes));
    json_object_set_new(cfg, "sign", info->sign ? json_string(info->sign) : json_null());
    json_object_set_new(doc, "config", cfg);

    int64_t finished = r->responses + r->transport_errors;
    int64_t errors = r->http_errors + r->transport_errors;
    double window = r->send_window_s > 0 ? r->send_window_s : r->elapsed_s;
    json_t *st = json_object();
    json_object_set_new(st, "requests", json_integer(r->responses));
    json_object_set_new(st, "rps", json_real(jx_round3(window > 0 ? r->responses / window : 0)));
    json_object_set_new(st, "send_window_s", json_real(jx_round6(window)));
    json_object_set_new(st, "offered_rps",
                        r->open_model ? json_real(jx_round3(r->offered_rps)) : json_null());
    json_object_set_new(st, "sent", json_integer(r->sent));
    json_object_set_new(st, "errors", json_integer(errors));
    json_object_set_new(st, "error_rate",
                        json_real(finished ? (double)errors / (double)finished : 0));
    json_object_set_new(st, "http_errors", json_integer(r->http_errors));
    json_object_set_new(st, "transport_errors", json_integer(r->transport_errors));
    json_object_set_new(st, "timeouts",
                        json_integer(r->errors_by_class[ERR_REQUEST_TIMEOUT] +
                                     r->errors_by_class[ERR_CONNECT_TIMEOUT]));
    const hdr_hist *h = r->latency;
    json_object_set_new(st, "p50_ms", json_real(ms(hdr_value_at_percentile(h, 50))));
    json_object_set_new(st, "p95_ms", json_real(ms(hdr_value_at_percentile(h, 95))));
    json_object_set_new(st, "p99_ms", json_real(ms(hdr_value_at_percentile(h, 99))));
    json_object_set_new(st, "p999_ms", json_real(ms(hdr_value_at_percentile(h, 99.9))));
    json_object_set_new(st, "max_ms", json_real(ms(hdr_max(h))));
    json_object_set_new(st, "mean_ms", json_real(jx_round3(hdr_mean(h) / 1000.0)));
    json_object_set_new(st, "service_p50_ms",
                        json_real(ms(hdr_value_at_percentile(r->service, 50))));
    json_object_set_new(st, "service_p99_ms",
                        json_real(ms(hdr_value_at_percentile(r->service, 99))));
    if (r->open_model) {
        json_object_set_new(st, "scheduled", json_integer(r->scheduled));
        json_object_set_new(st, "late_sends", json_integer(r->late_sends));
        json_object_set_new(st, "max_send_lag_ms", json_real(ms(r->max_lag_us)));
        json_object_set_new(st, "unsent", json_integer(r->unsent));
    }
    json_object_set_new(st, "bytes_read", json_integer(r->bytes_read));
    json_object_set_new(st, "bytes_written", json_integer(r->bytes_written));
    json_object_set_new(st, "connects", json_integer(r->connects));
    json_object_set_new(st, "reconnect_backoffs", json_integer(r->reconnect_backoffs));
    json_object_set_new(st, "interrupted", json_boolean(r->interrupted));
    load_report_delivery_json(doc, st, r, info->delivery, info->delivery_drain_s);
    json_object_set_new(doc, "stats", st);

    json_t *lat = json_object();
    json_object_set_new(lat, "hdr_unit", json_string("us"));
    json_object_set_new(lat, "corrected", jx_hist(r->latency, NS_PER_US));
    json_object_set_new(lat, "service", jx_hist(r->service, NS_PER_US));
    json_object_set_new(doc, "latency", lat);

    json_t *status = json_object();
    for (int i = 0; i < 600; i++) {
        if (!r->status[i]) continue;
        char k[16];
        snprintf(k, sizeof k, "%d", i);
        json_object_set_new(status, k, json_integer(r->status[i]));
    }
    json_object_set_new(doc, "status", status);
    if (r->has_events) json_object_set_new(doc, "events", load_report_events_json(r));

    json_t *errs = json_object(), *details = json_object();
    for (int i = 0; i < ERR__COUNT; i++) {
        json_object_set_new(errs, engine_err_name((engine_err)i),
                            json_integer(r->errors_by_class[i]));
        if (r->first_error[i][0])
            json_object_set_new(details, engine_err_name((engine_err)i),
                                json_string(r->first_error[i]));
    }
    json_object_set_new(doc, "errors", errs);
    json_object_set_new(doc, "error_details", details);

    json_t *tl = json_array();
    for (int i = 0; i < r->nseconds; i++) {
        const engine_second *s = &r->timeline[i];
        json_t *e = json_object();
        json_object_set_new(e, "t", json_integer(s->index));
        json_object_set_new(e, "length_s", json_real(jx_round3(s->length_s)));
        json_object_set_new(e, "phase", json_string("load"));
        if (r->open_model) json_object_set_new(e, "offered", json_real(jx_round3(s->offered)));
        json_object_set_new(e, "sent", json_integer(s->sent));
        json_object_set_new(e, "completed", json_integer(s->completed));
        json_object_set_new(e, "errors", json_integer(s->errors));
        json_object_set_new(e, "p50_ms", json_real(ms(s->p50_us)));
        json_object_set_new(e, "p99_ms", json_real(ms(s->p99_us)));
        json_object_set_new(e, "max_ms", json_real(ms(s->max_us)));
        if (s->hdr) json_object_set_new(e, "hdr", json_string(s->hdr));
        json_array_append_new(tl, e);
    }
    json_object_set_new(doc, "timeline", tl);
    json_object_set_new(doc, "thresholds", json_array());
    json_object_set_new(doc, "advice", json_array());
    return doc;
}

static json_t *share(int64_t part, int64_t whole) { /* null without events */
    return jx_real6(whole > 0 ? (double)part / (double)whole : NAN);
}

void load_report_delivery_json(json_t *doc, json_t *st, const engine_result *r,
                               const delivery_policy *p, double drain_s) {
    if (!r->delivery || !p) return;
    const hdr_hist *d = r->delivery_delay;
    bool any = hdr_total(d) > 0;
    json_object_set_new(st, "events", json_integer(r->dl.events));
    json_object_set_new(st, "first_attempt_success_rate", share(r->dl.first_ok, r->dl.events));
    json_object_set_new(st, "eventual_delivery_rate", share(r->dl.delivered, r->dl.events));
    json_object_set_new(st, "gave_up", json_integer(r->dl.gave_up));
    json_object_set_new(st, "undelivered", json_integer(r->dl.undelivered));
    json_object_set_new(st, "retries", json_integer(r->dl.retries));
    json_object_set_new(st, "duplicates_sent", json_integer(r->dl.duplicates));
    json_object_set_new(
        st, "attempts_per_event",
        json_real(jx_round3(
            r->dl.events ? (double)(r->dl.events + r->dl.retries) / (double)r->dl.events : 0)));
    json_object_set_new(st, "attempts_per_event_max", json_integer(r->dl.attempts_max));
    json_object_set_new(st, "delivery_delay_p50_s",
                        any ? jx_real6(hdr_value_at_percentile(d, 50) / 1e6) : json_null());
    json_object_set_new(st, "delivery_delay_p99_s",
                        any ? jx_real6(hdr_value_at_percentile(d, 99) / 1e6) : json_null());
    json_object_set_new(st, "delivery_delay_max_s", any ? jx_real6(hdr_max(d) / 1e6) : json_null());

    json_t *dl = json_object(), *sched = json_array();
    json_object_set_new(dl, "policy", json_string(p->name));
    for (int n = 1; n <= p->retries; n++)
        json_array_append_new(sched, json_real(jx_round6(delivery_retry_delay_ns(p, n) / 1e9)));
    json_object_set_new(dl, "retry_schedule_s", sched);
    json_object_set_new(dl, "scale", json_real(p->scale));
    json_object_set_new(dl, "duplicate_rate", json_real(p->duplicate_rate));
    json_object_set_new(dl, "honor_retry_after", json_boolean(p->honor_retry_after));
    json_object_set_new(dl, "duplicate_window_s",
                        json_real(jx_round6(p->duplicate_window_ns / 1e9)));
    json_object_set_new(dl, "drain_s", json_real(jx_round6(drain_s)));
    const engine_delivery_counts *c = &r->dl;
    json_object_update_new(
        dl, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "events",
                      (json_int_t)c->events, "acknowledged_first", (json_int_t)c->first_ok,
                      "acknowledged", (json_int_t)c->delivered, "gave_up", (json_int_t)c->gave_up,
                      "undelivered", (json_int_t)c->undelivered, "retries", (json_int_t)c->retries,
                      "duplicates", (json_int_t)c->duplicates, "duplicates_acknowledged",
                      (json_int_t)c->duplicates_acked, "pending_max", (json_int_t)c->pending_max,
                      "retry_after_waits", (json_int_t)c->retry_after));
    json_object_set_new(dl, "delay", jx_hist(d, NS_PER_US));
    json_object_set_new(doc, "delivery", dl);
}

void load_report_delivery_terminal(FILE *out, const engine_result *r, const delivery_policy *p) {
    if (!r->delivery || !p) return;
    char desc[400];
    delivery_describe(p, desc, sizeof desc);
    fprintf(out, "  sender        %s\n", desc);
    if (p->duplicate_rate > 0)
        fprintf(out, "                duplicates: %.2f%% of acknowledged events, within %.3g s\n",
                100 * p->duplicate_rate, p->duplicate_window_ns / 1e9);
    double ev = r->dl.events > 0 ? (double)r->dl.events : 1;
    fprintf(out,
            "  delivery      %lld events: %.2f%% acknowledged at once, %.2f%% in the end; "
            "%lld gave up, %lld still owed\n",
            (long long)r->dl.events, 100 * r->dl.first_ok / ev, 100 * r->dl.delivered / ev,
            (long long)r->dl.gave_up, (long long)r->dl.undelivered);
    fprintf(
        out,
        "                %lld retries (%.3f attempts an event, at most %lld), %lld duplicates\n",
        (long long)r->dl.retries, r->dl.events ? (double)(r->dl.events + r->dl.retries) / ev : 0.0,
        (long long)r->dl.attempts_max, (long long)r->dl.duplicates);
    if (p->honor_retry_after)
        fprintf(out, "                %lld retries waited for the service's Retry-After\n",
                (long long)r->dl.retry_after);
    const hdr_hist *d = r->delivery_delay;
    if (hdr_total(d))
        fprintf(out, "  delivery delay p50 %.3f  p99 %.3f  max %.3f s (first due to first 2xx)\n",
                hdr_value_at_percentile(d, 50) / 1e6, hdr_value_at_percentile(d, 99) / 1e6,
                hdr_max(d) / 1e6);
}

/* ---- the terminal ---------------------------------------------------------------------------- */

static void human_bytes(double b, char *out, size_t n) {
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
}

static void print_percentiles(FILE *out, const char *label, const hdr_hist *h) {
    fprintf(
        out,
        "  %-13s p50 %.3f  p75 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  p99.99 %.3f ms\n",
        label, ms(hdr_value_at_percentile(h, 50)), ms(hdr_value_at_percentile(h, 75)),
        ms(hdr_value_at_percentile(h, 90)), ms(hdr_value_at_percentile(h, 95)),
        ms(hdr_value_at_percentile(h, 99)), ms(hdr_value_at_percentile(h, 99.9)),
        ms(hdr_value_at_percentile(h, 99.99)));
}

static void print_spectrum(FILE *out, const char *label, const hdr_hist *h) {
    fprintf(out, "\n  %s — percentile spectrum\n", label);
    fprintf(out, "  %12s %12s %12s %14s\n", "value (ms)", "percentile", "count", "1/(1-p)");
    hdr_pct_iter it;
    hdr_pct_iter_init(&it, h, 5);
    while (hdr_pct_iter_next(&it)) {
        double p = it.percentile / 100.0;
        if (p < 1.0)
            fprintf(out, "  %12.3f %12.6f %12lld %14.2f\n", ms(it.value), p,
                    (long long)it.total_to_here, 1.0 / (1.0 - p));
        else
            fprintf(out, "  %12.3f %12.6f %12lld %14s\n", ms(it.value), p,
                    (long long)it.total_to_here, "inf");
    }
    fprintf(out, "  mean %.3f ms, stdev %.3f ms, max %.3f ms, total count %lld\n",
            hdr_mean(h) / 1000.0, hdr_stdev(h) / 1000.0, ms(hdr_max(h)), (long long)hdr_total(h));
}

void load_report_events_terminal(FILE *out, const engine_result *r) {
    if (!r->has_events) return;
    const lifecycle *lc = &r->events;
    char spec[400];
    lifecycle_describe(lc, spec, sizeof spec);
    fprintf(out, "  events        %s; %lld orders interleaved, %.3g s apart", spec,
            (long long)lc->width, lc->interval_ns / 1e9);
    if (lc->reorder_rate > 0) fprintf(out, ", %.3g reordered", lc->reorder_rate);
    fprintf(out, "\n               ");
    for (int t = 0; t < lc->ntypes; t++)
        fprintf(out, "%s%s %lld (%lld 2xx)", t ? ", " : "", lc->types[t],
                (long long)r->events_sent[t], (long long)r->events_acked[t]);
    fprintf(out, "\n");
}

void load_report_terminal(FILE *out, const engine_result *r, const load_report_info *info,
                          bool full_latency) {
    char rd[32], wr[32];
    human_bytes((double)r->bytes_read, rd, sizeof rd);
    human_bytes((double)r->bytes_written, wr, sizeof wr);
    double window = r->send_window_s > 0 ? r->send_window_s : r->elapsed_s;
    fprintf(out, "brink load %s%s %s — %s model, %d connection%s, %d thread%s\n",
            info->scenario ? "-f " : "", info->scenario ? info->scenario : info->method, info->url,
            r->open_model ? "open" : "closed", r->connections, r->connections == 1 ? "" : "s",
            r->threads, r->threads == 1 ? "" : "s");
    if (r->open_model)
        fprintf(out, "  schedule      offered %.1f rps over %.2f s (%lld %s due)\n", r->offered_rps,
                window, (long long)r->scheduled,
                r->nflows ? "arrivals (requests, or flows' first steps: their later steps come on "
                            "top)"
                          : "requests");
    fprintf(out, "  requests      %lld responses in %.2f s: %.1f rps; %s read, %s written\n",
            (long long)r->responses, window, window > 0 ? r->responses / window : 0.0, rd, wr);
    const hdr_hist *h = r->latency;
    if (hdr_total(h)) {
        fprintf(out, "  latency       min %.3f  mean %.3f  stdev %.3f  max %.3f ms%s\n",
                ms(hdr_min(h)), hdr_mean(h) / 1000.0, hdr_stdev(h) / 1000.0, ms(hdr_max(h)),
                r->open_model ? " (from intended send time)" : "");
        print_percentiles(out, "percentiles", h);
        if (r->open_model) print_percentiles(out, "service time", r->service);
    }
    fprintf(out, "  status       ");
    int shown = 0;
    for (int i = 0; i < 600; i++) {
        if (!r->status[i]) continue;
        fprintf(out, " %d: %lld", i, (long long)r->status[i]);
        shown++;
    }
    fprintf(out, "%s\n", shown ? "" : " (no responses)");
    if (r->transport_errors) {
        fprintf(out, "  errors        %lld without a response:\n", (long long)r->transport_errors);
        for (int i = 0; i < ERR__COUNT; i++) {
            if (!r->errors_by_class[i]) continue;
            fprintf(out, "    %-16s %lld%s%s%s\n", engine_err_name((engine_err)i),
                    (long long)r->errors_by_class[i], r->first_error[i][0] ? " (first: " : "",
                    r->first_error[i], r->first_error[i][0] ? ")" : "");
        }
    } else {
        fprintf(out, "  errors        none without a response\n");
    }
    if (r->http_errors)
        fprintf(out, "  http errors   %lld responses with status >= 400\n",
                (long long)r->http_errors);
    if (r->open_model) {
        double achieved = window > 0 ? r->sent / window : 0;
        fprintf(out, "  send lag      %lld late sends (> 1 ms behind schedule), max lag %.3f ms\n",
                (long long)r->late_sends, ms(r->max_lag_us));
        if (r->unsent)
            fprintf(out,
                    "  WARNING       %lld due requests were never sent: every connection was busy "
                    "(raise -c) or the run ended\n",
                    (long long)r->unsent);
        if (r->offered_rps > 0 && achieved < 0.99 * r->offered_rps)
            fprintf(out,
                    "  WARNING       brink sent %.1f rps of %.1f offered: the generator or the "
                    "connections could not keep up (more -c or -t)\n",
                    achieved, r->offered_rps);
    }
    load_report_events_terminal(out, r);
    load_report_delivery_terminal(out, r, info->delivery);
    if (r->timeline_dropped)
        fprintf(out,
                "  note          %lld thread-seconds are missing from the timeline (the "
                "machine was overloaded)\n",
                (long long)r->timeline_dropped);
    if (r->interrupted) fprintf(out, "  interrupted   stopped early by a signal; partial result\n");
    if (r->responses == 0)
        fprintf(out, "  RESULT        nothing succeeded: no HTTP response was received from %s\n",
                info->url);
    if (full_latency && hdr_total(h)) {
        print_spectrum(out, r->open_model ? "latency (corrected)" : "latency", h);
        if (r->open_model) print_spectrum(out, "service time", r->service);
    }
}

static const char *const stat_names[] = {
    "requests",
    "rps",
    "send_window_s",
    "offered_rps",
    "sent",
    "errors",
    "error_rate",
    "http_errors",
    "transport_errors",
    "timeouts",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "mean_ms",
    "service_p50_ms",
    "service_p99_ms",
    "scheduled",
    "late_sends",
    "max_send_lag_ms",
    "unsent",
    "bytes_read",
    "bytes_written",
    "connects",
    "reconnect_backoffs",
    /* a sender's (load_report_delivery_json) */
    "events",
    "first_attempt_success_rate",
    "eventual_delivery_rate",
    "gave_up",
    "undelivered",
    "retries",
    "duplicates_sent",
    "attempts_per_event",
    "attempts_per_event_max",
    "delivery_delay_p50_s",
    "delivery_delay_p99_s",
    "delivery_delay_max_s",
};
#define N_PLAIN_STATS 26

const char *const *load_report_stat_names(bool delivery, int *n) {
    *n = delivery ? (int)(sizeof stat_names / sizeof stat_names[0]) : N_PLAIN_STATS;
    return stat_names;
}

#define PROGRESS_EVERY_S 10 /* a line this often where there is no terminal */

void load_progress_init(load_progress *p, const char *name, FILE *out, bool quiet, bool open_model,
                        double total_s) {
    memset(p, 0, sizeof *p);
    p->name = name;
    p->quiet = quiet;
    p->tty = !quiet && isatty(fileno(out));
    p->open_model = open_model;
    p->total_s = total_s;
}

/* "12s/60s ETA 48s" or "12s" without a known total */
static void progress_time(const load_progress *p, int elapsed, char *out, size_t n) {
    if (p->total_s > 0) {
        int left = (int)(p->total_s + 0.5) - elapsed;
        snprintf(out, n, "%ds/%.0fs ETA %ds", elapsed, p->total_s, left > 0 ? left : 0);
    } else {
        snprintf(out, n, "%ds", elapsed);
    }
}

void load_progress_second(load_progress *p, FILE *out, const engine_second *s) {
    if (s->length_s < 0.999) return; /* the last, partial second: the summary follows */
    p->requests += s->completed;
    p->errors += s->errors;
    if (p->quiet) return;
    int elapsed = s->index + 1;
    char when[64];
    progress_time(p, elapsed, when, sizeof when);
    if (p->tty) {
        if (p->open_model)
            fprintf(out, "\r[%s] offered %7.0f  done %7.0f rps  p99 %8.3f ms  errors %-7lld", when,
                    s->offered, (double)s->completed, ms(s->p99_us), (long long)s->errors);
        else
            fprintf(out, "\r[%s] %7.0f rps  p99 %8.3f ms  errors %-7lld", when,
                    (double)s->completed, ms(s->p99_us), (long long)s->errors);
        fflush(out);
        return;
    }
    if (elapsed % PROGRESS_EVERY_S) return;
    fprintf(out, "%s: %s: %lld responses (%.0f/s), %lld errors; this second p99 %.3f ms\n", p->name,
            when, (long long)p->requests, (double)p->requests / elapsed, (long long)p->errors,
            ms(s->p99_us));
    fflush(out);
}

void load_progress_end(load_progress *p, FILE *out) {
    if (!p->tty) return;
    fprintf(out, "\r%100s\r", "");
    fflush(out);
}
