/* json.c — the result document of a load run (schema brink.result/1, docs/results.md). Headline
 * numbers go to .stats with the unit in the key name, so `jq .stats` reads the same for every
 * test; details go to .latency, .status, .errors, .timeline and .config. */
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/clock.h"

static double ms(int64_t us) {
    return (double)us / 1000.0;
}

static double round6(double v) {
    return round(v * 1e6) / 1e6;
}

static double round3(double v) {
    return (double)(long long)(v * 1000.0 + (v >= 0 ? 0.5 : -0.5)) / 1000.0;
}

json_t *report_hist_json(const hdr_hist *h, double unit_ns) {
    double k = unit_ns / NS_PER_MS; /* recorded units → ms */
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer(hdr_total(h)));
    json_object_set_new(o, "min_ms", json_real(round6((double)hdr_min(h) * k)));
    json_object_set_new(o, "mean_ms", json_real(round6(hdr_mean(h) * k)));
    json_object_set_new(o, "stdev_ms", json_real(round6(hdr_stdev(h) * k)));
    json_object_set_new(o, "max_ms", json_real(round6((double)hdr_max(h) * k)));
    json_t *p = json_object();
    static const struct {
        const char *k;
        double p;
    } pts[] = {{"50", 50}, {"75", 75},     {"90", 90},       {"95", 95},
               {"99", 99}, {"99.9", 99.9}, {"99.99", 99.99}, {"100", 100}};
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
        json_object_set_new(p, pts[i].k,
                            json_real(round6((double)hdr_value_at_percentile(h, pts[i].p) * k)));
    json_object_set_new(o, "percentiles_ms", p);
    char *enc = hdr_encode_base64(h);
    json_object_set_new(o, "hdr", enc ? json_string(enc) : json_null());
    free(enc);
    return o;
}

json_t *report_load_json(const engine_result *r, const report_load_info *info) {
    json_t *doc = json_object();
    char when[32];
    clock_format_utc(r->start_wall_ns, when);
    json_object_set_new(doc, "schema", json_string(REPORT_SCHEMA));
    json_object_set_new(doc, "test", json_string("load"));
    json_object_set_new(doc, "profile", json_null());
    json_object_set_new(doc, "started_at", json_string(when));
    json_object_set_new(doc, "duration_s", json_real(round3(r->elapsed_s)));
    json_object_set_new(doc, "target", json_string(info->url));

    json_t *cfg = json_object();
    json_object_set_new(cfg, "url", json_string(info->url));
    json_object_set_new(cfg, "method", json_string(info->method));
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
    json_object_set_new(st, "rps", json_real(round3(window > 0 ? r->responses / window : 0)));
    json_object_set_new(st, "send_window_s", json_real(round6(window)));
    json_object_set_new(st, "offered_rps",
                        r->open_model ? json_real(round3(r->offered_rps)) : json_null());
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
    json_object_set_new(st, "mean_ms", json_real(round3(hdr_mean(h) / 1000.0)));
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
    json_object_set_new(st, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(doc, "stats", st);

    json_t *lat = json_object();
    json_object_set_new(lat, "hdr_unit", json_string("us"));
    json_object_set_new(lat, "corrected", report_hist_json(r->latency, NS_PER_US));
    json_object_set_new(lat, "service", report_hist_json(r->service, NS_PER_US));
    json_object_set_new(doc, "latency", lat);

    json_t *status = json_object();
    for (int i = 0; i < 600; i++) {
        if (!r->status[i]) continue;
        char k[16];
        snprintf(k, sizeof k, "%d", i);
        json_object_set_new(status, k, json_integer(r->status[i]));
    }
    json_object_set_new(doc, "status", status);

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
        json_object_set_new(e, "length_s", json_real(round3(s->length_s)));
        json_object_set_new(e, "phase", json_string("load"));
        if (r->open_model) json_object_set_new(e, "offered", json_real(round3(s->offered)));
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

int report_write_file(const char *path, report_writer fn, const void *arg, char *err,
                      size_t errlen) {
    if (!strcmp(path, "-")) {
        int rc = fn(stdout, arg, err, errlen);
        fflush(stdout);
        return rc;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    char sub[256] = "";
    int rc = fn(f, arg, sub, sizeof sub);
    if (fclose(f) != 0) rc = -1;
    if (rc < 0 || rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, sub[0] ? sub : strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int report_json_writer(FILE *out, const void *doc, char *err, size_t errlen) {
    if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) < 0 ||
        fputc('\n', out) == EOF) {
        snprintf(err, errlen, "cannot write the JSON");
        return -1;
    }
    return 0;
}

int report_write_json(const json_t *doc, const char *path, char *err, size_t errlen) {
    return report_write_file(path, report_json_writer, doc, err, errlen);
}
