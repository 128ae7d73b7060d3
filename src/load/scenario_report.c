/* scenario_report.c — a scenario's numbers by name and flow (scenario_report.h). */
#include "load/scenario_report.h"

#include <string.h>

#include "core/json.h"
#include "load/mix.h"

const char *const scenario_name_metrics[] = {
    "requests",         "sent",    "rps",    "errors",        "error_rate",     "unexpected",
    "transport_errors", "p50_ms",  "p90_ms", "p95_ms",        "p99_ms",         "p999_ms",
    "max_ms",           "mean_ms", "checks", "checks_failed", "capture_failed", NULL,
};

const char *const scenario_stat_names[] = {"checks", "checks_passed", "checks_failed", NULL};

static double pct_ms(const hdr_hist *h, double p) {
    return (double)hdr_value_at_percentile(h, p) / 1000.0;
}

/* A name's percentiles, max and mean in ms (null without responses). */
static void put_latency(json_t *o, const hdr_hist *h) {
    bool any = hdr_total(h) > 0;
    static const struct {
        const char *k;
        double p;
    } pts[] = {{"p50_ms", 50}, {"p90_ms", 90}, {"p95_ms", 95}, {"p99_ms", 99}, {"p999_ms", 99.9}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
        json_object_set_new(o, pts[i].k,
                            any ? json_real(jx_round3(pct_ms(h, pts[i].p))) : json_null());
    json_object_set_new(o, "max_ms",
                        any ? json_real(jx_round3((double)hdr_max(h) / 1000.0)) : json_null());
    json_object_set_new(o, "mean_ms",
                        any ? json_real(jx_round3(hdr_mean(h) / 1000.0)) : json_null());
}

/* passed / evaluated, or null without checks */
static json_t *rate(int64_t passed, int64_t evaluated) {
    return evaluated > 0 ? json_real(jx_round6((double)passed / (double)evaluated)) : json_null();
}

static json_t *name_json(const engine_name_result *n, const scn_request *sr, double window_s) {
    json_t *o = json_object();
    int64_t errors = n->unexpected + n->transport_errors,
            finished = n->responses + n->transport_errors;
    json_object_set_new(o, "requests", json_integer(n->responses));
    json_object_set_new(o, "sent", json_integer(n->sent));
    json_object_set_new(o, "rps", json_real(jx_round3(window_s > 0 ? n->responses / window_s : 0)));
    json_object_set_new(o, "errors", json_integer(errors));
    json_object_set_new(o, "error_rate",
                        json_real(finished ? jx_round6((double)errors / (double)finished) : 0));
    json_object_set_new(o, "unexpected", json_integer(n->unexpected));
    json_object_set_new(o, "transport_errors", json_integer(n->transport_errors));
    json_t *cls = json_object();
    for (int k = 0; k < ERR__COUNT; k++)
        if (n->errors_by_class[k])
            json_object_set_new(cls, engine_err_name((engine_err)k),
                                json_integer(n->errors_by_class[k]));
    json_object_set_new(o, "errors_by_class", cls);
    json_t *st = json_object();
    for (int k = 0; k < 600; k++) {
        if (!n->status[k]) continue;
        char code[12];
        snprintf(code, sizeof code, "%d", k);
        json_object_set_new(st, code, json_integer(n->status[k]));
    }
    json_object_set_new(o, "status", st);
    put_latency(o, n->latency);
    int64_t failed = 0;
    json_t *checks = json_array();
    for (int i = 0; i < n->nchecks; i++) {
        failed += n->check_fail[i];
        json_t *c = json_object();
        json_object_set_new(c, "check", json_string(mix_check_label(sr, i)));
        json_object_set_new(c, "evaluated", json_integer(n->check_evals));
        json_object_set_new(c, "failed", json_integer(n->check_fail[i]));
        json_array_append_new(checks, c);
    }
    int64_t evals = n->check_evals * n->nchecks;
    json_object_set_new(o, "checks", rate(evals - failed, evals));
    json_object_set_new(o, "checks_failed", json_integer(failed));
    json_object_set_new(o, "capture_failed", json_integer(n->capture_failed));
    json_object_set_new(o, "check", checks);
    json_object_set_new(o, "latency", jx_hist(n->latency, 1000.0));
    return o;
}

void scenario_report_json(json_t *doc, const engine_result *r, const scenario *sc,
                          double window_s) {
    if (!sc || !r->names) return;
    json_t *by = json_object();
    for (int i = 0; i < r->nnames; i++)
        json_object_set_new(by, r->names[i].name, name_json(&r->names[i], &sc->req[i], window_s));
    json_object_set_new(doc, "by_name", by);
    json_t *flows = json_object();
    for (int i = 0; i < r->nflows; i++) {
        const engine_flow_result *f = &r->flows[i];
        json_t *o = json_object();
        json_object_set_new(o, "started", json_integer(f->started));
        json_object_set_new(o, "completed", json_integer(f->completed));
        json_object_set_new(o, "aborted", json_integer(f->aborted));
        json_object_set_new(o, "unfinished", json_integer(f->started - f->completed - f->aborted));
        json_object_set_new(o, "dropped", json_integer(f->dropped));
        json_object_set_new(flows, f->name, o);
    }
    json_object_set_new(doc, "flows", flows);
    json_t *st = json_object_get(doc, "stats");
    int64_t evals = r->checks_passed + r->checks_failed;
    json_object_set_new(st, "checks", rate(r->checks_passed, evals));
    json_object_set_new(st, "checks_passed", json_integer(r->checks_passed));
    json_object_set_new(st, "checks_failed", json_integer(r->checks_failed));
}

void scenario_report_terminal(FILE *out, const engine_result *r, const scenario *sc) {
    if (!sc || !r->names) return;
    fprintf(out, "\n  %-24s %10s %9s %8s %9s %9s %9s\n", "by request", "requests", "errors",
            "p50 ms", "p99 ms", "max ms", "checks");
    for (int i = 0; i < r->nnames; i++) {
        const engine_name_result *n = &r->names[i];
        if (!n->sent) continue;
        char checks[16];
        int64_t failed = 0, evals = n->check_evals * n->nchecks;
        for (int k = 0; k < n->nchecks; k++) failed += n->check_fail[k];
        if (evals)
            snprintf(checks, sizeof checks, "%.2f%%",
                     100.0 * (double)(evals - failed) / (double)evals);
        else
            snprintf(checks, sizeof checks, "-");
        bool any = hdr_total(n->latency) > 0;
        fprintf(out, "  %-24s %10lld %9lld %8.2f %9.2f %9.2f %9s\n", n->name,
                (long long)n->responses, (long long)(n->unexpected + n->transport_errors),
                any ? pct_ms(n->latency, 50) : 0, any ? pct_ms(n->latency, 99) : 0,
                any ? (double)hdr_max(n->latency) / 1000.0 : 0, checks);
    }
    for (int i = 0; i < r->nnames; i++) {
        const engine_name_result *n = &r->names[i];
        for (int k = 0; k < n->nchecks; k++)
            if (n->check_fail[k])
                fprintf(out, "  FAILED %s: %s — %lld of %lld\n", n->name,
                        mix_check_label(&sc->req[i], k), (long long)n->check_fail[k],
                        (long long)n->check_evals);
        if (n->capture_failed)
            fprintf(out, "  FAILED %s: a capture found no value in %lld responses\n", n->name,
                    (long long)n->capture_failed);
    }
    for (int i = 0; i < r->nflows; i++) {
        const engine_flow_result *f = &r->flows[i];
        fprintf(out,
                "  flow %s: %lld started, %lld completed, %lld aborted (a step failed), %lld "
                "cut off by the end",
                f->name, (long long)f->started, (long long)f->completed, (long long)f->aborted,
                (long long)(f->started - f->completed - f->aborted));
        if (f->dropped)
            fprintf(out, ", %lld dropped (too many in progress)", (long long)f->dropped);
        fputc('\n', out);
    }
}

/* ---- brink merge ------------------------------------------------------------------------------
 */

/* The segments' by-name latency histograms merged into *acc. 0, or -1 with err. */
static int merge_name_hist(hdr_hist **acc, const json_t *o, const char *doc, const char *name,
                           char *err, size_t errlen) {
    const char *b64 = json_string_value(json_object_get(json_object_get(o, "latency"), "hdr"));
    char sub[160];
    hdr_hist *h = b64 ? hdr_decode_base64(b64, sub, sizeof sub) : NULL;
    if (!h) {
        snprintf(err, errlen, "%s: .by_name.%s.latency.hdr is missing or not an HdrHistogram", doc,
                 name);
        return -1;
    }
    if (!*acc) *acc = hdr_new_like(h);
    int64_t lost = *acc ? hdr_merge(*acc, h) : -1;
    hdr_free(h);
    if (lost) {
        snprintf(err, errlen, "%s: .by_name.%s.latency cannot be merged", doc, name);
        return -1;
    }
    return 0;
}

static void add_ints(json_t *dst, const json_t *src) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        if (json_is_integer(v))
            json_object_set_new(dst, k, json_integer(jx_int(dst, k) + json_integer_value(v)));
    }
}

/* One request name over every segment. */
static json_t *merge_name(const json_t *const *docs, const char *const *names, int n,
                          const char *name, double window_s, char *err, size_t errlen) {
    static const char *const counts[] = {
        "requests",         "sent",          "errors",        "unexpected",
        "transport_errors", "checks_failed", "capture_failed"};
    json_t *o = json_object(), *status = json_object(), *cls = json_object(), *checks = NULL;
    hdr_hist *lat = NULL;
    for (int k = 0; k < n; k++) {
        const json_t *x = json_object_get(json_object_get(docs[k], "by_name"), name);
        if (!json_is_object(x)) {
            snprintf(err, errlen, "%s has no request %s in .by_name (%s has): not one scenario",
                     names[k], name, names[0]);
            goto fail;
        }
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
            json_object_set_new(o, counts[i],
                                json_integer(jx_int(o, counts[i]) + jx_int(x, counts[i])));
        add_ints(status, json_object_get(x, "status"));
        add_ints(cls, json_object_get(x, "errors_by_class"));
        const json_t *c = json_object_get(x, "check");
        if (!checks) {
            checks = json_deep_copy(c);
        } else {
            for (size_t i = 0; i < json_array_size(checks); i++)
                add_ints(json_array_get(checks, i), json_array_get(c, i));
        }
        if (merge_name_hist(&lat, x, names[k], name, err, errlen) < 0) goto fail;
    }
    int64_t req = jx_int(o, "requests"), errs = jx_int(o, "errors");
    int64_t finished = req + jx_int(o, "transport_errors");
    json_object_set_new(o, "rps", json_real(jx_round3(window_s > 0 ? req / window_s : 0)));
    json_object_set_new(o, "error_rate",
                        json_real(finished ? jx_round6((double)errs / (double)finished) : 0));
    json_object_set_new(o, "errors_by_class", cls);
    json_object_set_new(o, "status", status);
    put_latency(o, lat);
    int64_t evals = 0;
    for (size_t i = 0; i < json_array_size(checks); i++)
        evals += jx_int(json_array_get(checks, i), "evaluated");
    json_object_set_new(o, "checks", rate(evals - jx_int(o, "checks_failed"), evals));
    json_object_set_new(o, "check", checks ? checks : json_array());
    json_object_set_new(o, "latency", jx_hist(lat, 1000.0));
    hdr_free(lat);
    return o;
fail:
    json_decref(o);
    json_decref(status);
    json_decref(cls);
    json_decref(checks);
    hdr_free(lat);
    return NULL;
}

int scenario_merge(json_t *m, json_t *st, const json_t *const *docs, const char *const *names,
                   int n, double window_s, char *err, size_t errlen) {
    const json_t *by0 = json_object_get(docs[0], "by_name");
    if (!json_is_object(by0)) return 0;
    json_t *by = json_object(), *flows = json_object();
    const char *name;
    json_t *val;
    json_object_foreach((json_t *)by0, name, val) {
        json_t *o = merge_name(docs, names, n, name, window_s, err, errlen);
        if (!o) {
            json_decref(by);
            json_decref(flows);
            return -1;
        }
        json_object_set_new(by, name, o);
    }
    int64_t passed = 0, failed = 0;
    for (int k = 0; k < n; k++) {
        json_object_foreach((json_t *)json_object_get(docs[k], "flows"), name, val) {
            if (!json_object_get(flows, name)) json_object_set_new(flows, name, json_object());
            add_ints(json_object_get(flows, name), val);
        }
        const json_t *s = json_object_get(docs[k], "stats");
        passed += jx_int(s, "checks_passed");
        failed += jx_int(s, "checks_failed");
    }
    json_object_set_new(m, "by_name", by);
    json_object_set_new(m, "flows", flows);
    json_object_set_new(st, "checks", rate(passed, passed + failed));
    json_object_set_new(st, "checks_passed", json_integer(passed));
    json_object_set_new(st, "checks_failed", json_integer(failed));
    return 0;
}
