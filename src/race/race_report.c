/* race_report.c — what a vendor race tells people and programs: the thresholds it is judged by
 * (verdict/threshold.h: race_conditions, win_rate, resolution_avg_ms, resolution_p99_ms, integrity,
 * race_error_rate), the result document (brink.result/1, test "race"; docs/results.md) and the
 * terminal summary. Reads only the race_result; never the network. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "http/client.h"
#include "core/json.h"
#include "race/race.h"
#include "verdict/remedy.h"

static double ratio(int64_t a, int64_t b) {
    return b > 0 ? (double)a / (double)b : NAN;
}

static double us_ms(int64_t us) {
    return (double)us / 1000.0;
}

static double ns_ms(int64_t ns) {
    return jx_round6((double)ns / NS_PER_MS);
}

static double resolution_avg(const race_result *r) {
    int64_t n = hdr_total(r->resolution);
    return n ? r->resolution_sum_ms / (double)n : NAN;
}

/* ---- thresholds ---------------------------------------------------------------------------- */

int race_thresholds(const race_result *r, th_result *out) {
    int n = 0;
    char ev[256];
    snprintf(ev, sizeof ev,
             "%lld of %lld orders: double_win %lld, no_winner %lld, phantom_winner %lld, "
             "inconsistent_loser %lld",
             (long long)r->race_conditions, (long long)r->raced,
             (long long)r->classes[RACE_DOUBLE_WIN], (long long)r->classes[RACE_NO_WINNER],
             (long long)r->classes[RACE_PHANTOM_WINNER],
             (long long)r->classes[RACE_INCONSISTENT_LOSER]);
    if (threshold_judge(&out[n], "race", "race_conditions",
                        r->raced ? (double)r->race_conditions : NAN, ev) == 0)
        n++;
    snprintf(ev, sizeof ev, "%lld of %lld orders ended with exactly one valid winner",
             (long long)r->valid, (long long)r->raced);
    if (threshold_judge(&out[n], "race", "win_rate", ratio(r->valid, r->raced), ev) == 0) n++;
    snprintf(ev, sizeof ev, "first claim sent → last answer: avg %.3f ms, p99 %.3f ms, max %.3f ms",
             resolution_avg(r), us_ms(hdr_value_at_percentile(r->resolution, 99)),
             us_ms(hdr_max(r->resolution)));
    if (threshold_judge(&out[n], "race", "resolution_avg_ms", resolution_avg(r), ev) == 0) n++;
    double p99 = hdr_total(r->resolution) ? us_ms(hdr_value_at_percentile(r->resolution, 99)) : NAN;
    if (threshold_judge(&out[n], "race", "resolution_p99_ms", p99, ev) == 0) n++;
    snprintf(ev, sizeof ev,
             "the stored winner differs from the announced one in %lld of %lld audited orders",
             (long long)(r->integrity_checked - r->integrity_ok), (long long)r->integrity_checked);
    if (threshold_judge(&out[n], "race", "integrity", ratio(r->integrity_ok, r->integrity_checked),
                        ev) == 0)
        n++;
    char st[160] = "";
    size_t off = 0;
    for (int c = 0; c < 600 && off < sizeof st - 24; c++)
        if (r->status[c] && c >= 500)
            off += (size_t)snprintf(st + off, sizeof st - off, ", %d: %lld", c,
                                    (long long)r->status[c]);
    for (int e = 1; e < 8 && off < sizeof st - 24; e++)
        if (r->err_by_class[e])
            off += (size_t)snprintf(st + off, sizeof st - off, ", %s: %lld",
                                    client_err_name((client_err)e), (long long)r->err_by_class[e]);
    snprintf(ev, sizeof ev, "%lld of %lld claims got neither a won nor a lost answer%s",
             (long long)r->failed_accepts, (long long)r->accepts, st);
    if (threshold_judge(&out[n], "race", "race_error_rate", ratio(r->failed_accepts, r->accepts),
                        ev) == 0)
        n++;
    remedy_annotate(&r->metrics, out, n);
    return n;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

/* A string that may not be UTF-8 (an answer's body): invalid bytes become '?'. */
static json_t *safe_string(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    char *c = strdup(s);
    if (!c) return json_null();
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    j = json_string(c);
    free(c);
    return j ? j : json_null();
}

static json_t *classes_json(unsigned classes) {
    json_t *a = json_array();
    for (int c = 0; c < RACE_NCLASS; c++)
        if (classes & RACE_BIT(c)) json_array_append_new(a, json_string(race_class_name(c)));
    return a;
}

static json_t *violation_json(const race_result *r, const race_violation *x) {
    json_t *o = json_object();
    json_object_set_new(o, "order_id", safe_string(x->id));
    json_object_set_new(o, "classes", classes_json(x->classes));
    json_object_set_new(o, "won", json_integer(x->won));
    json_object_set_new(o, "lost", json_integer(x->lost));
    json_object_set_new(o, "failed", json_integer(x->failed));
    json_object_set_new(o, "announced_winner", str_or_null(x->announced));
    json_t *st = json_object();
    if (x->http_known) json_object_set_new(st, "http", str_or_null(x->http_winner));
    if (x->sql_known) json_object_set_new(st, "sql", str_or_null(x->sql_winner));
    if (x->sql_multiple) json_object_set_new(st, "sql_multiple", json_true());
    json_object_set_new(o, "stored_winner", st);
    json_object_set_new(o, "send_spread_ms", json_real(jx_round6(x->spread_ms)));
    json_object_set_new(o, "resolution_ms", json_real(jx_round6(x->resolution_ms)));
    char first[32];
    snprintf(first, sizeof first, "vendor-%d", x->first + 1);
    json_object_set_new(o, "first_sent", json_string(first));
    json_t *a = json_array();
    for (int i = 0; i < r->vendors; i++) {
        const race_seen *s = &x->seen[i];
        json_t *v = json_object();
        char name[32];
        snprintf(name, sizeof name, "vendor-%d", i + 1);
        json_object_set_new(v, "vendor", json_string(name));
        json_object_set_new(v, "status", s->status ? json_integer(s->status) : json_null());
        json_object_set_new(v, "latency_ms", json_real(us_ms(s->latency_us)));
        if (s->names) json_object_set_new(v, "named_winner", str_or_null(s->named));
        if (s->status) {
            json_object_set_new(v, "body", s->body ? safe_string(s->body) : json_string(""));
            if (s->body_len > RACE_BODY_KEEP) json_object_set_new(v, "body_truncated", json_true());
        } else {
            json_object_set_new(v, "error", json_string(client_err_name((client_err)s->err)));
            json_object_set_new(v, "detail", s->detail ? safe_string(s->detail) : json_null());
        }
        json_array_append_new(a, v);
    }
    json_object_set_new(o, "answers", a);
    return o;
}

/* KEY_p50_ms, KEY_p99_ms and KEY_max_ms of h in milliseconds (to_ms), null when h is empty. */
static void put_pcts(json_t *st, const char *key, const hdr_hist *h, double (*to_ms)(int64_t)) {
    static const char *const names[] = {"p50", "p99", "max"};
    bool any = hdr_total(h) > 0;
    for (int i = 0; i < 3; i++) {
        char k[64];
        snprintf(k, sizeof k, "%s_%s_ms", key, names[i]);
        if (!any) {
            json_object_set_new(st, k, json_null());
            continue;
        }
        int64_t v = i == 2 ? hdr_max(h) : hdr_value_at_percentile(h, i == 0 ? 50 : 99);
        json_object_set_new(st, k, json_real(to_ms(v)));
    }
}

/* The numbers race_json puts in .stats (--threshold's metric names). */
static const char *const stat_names[] = {"orders",
                                         "vendors",
                                         "race_conditions",
                                         "race_conditions_pct",
                                         "win_rate",
                                         "valid_orders",
                                         "double_win",
                                         "no_winner",
                                         "phantom_winner",
                                         "inconsistent_loser",
                                         "error",
                                         "resolution_avg_ms",
                                         "resolution_p50_ms",
                                         "resolution_p99_ms",
                                         "resolution_max_ms",
                                         "send_spread_p50_ms",
                                         "send_spread_p99_ms",
                                         "send_spread_max_ms",
                                         "accepts",
                                         "accept_p50_ms",
                                         "accept_p99_ms",
                                         "accept_max_ms",
                                         "won_answers",
                                         "lost_answers",
                                         "errors",
                                         "race_error_rate",
                                         "integrity",
                                         "audited_orders",
                                         "first_sender_win_rate",
                                         "setup_s",
                                         "race_s",
                                         "audit_s"};

const char *const *race_stat_names(int *n) {
    *n = (int)(sizeof stat_names / sizeof stat_names[0]);
    return stat_names;
}

json_t *race_json(const race_result *r, const th_result *th, int nth) {
    json_t *doc = json_object();
    char when[32];
    clock_format_utc(r->start_wall_ns, when);
    json_object_set_new(doc, "schema", json_string(JX_SCHEMA));
    json_object_set_new(doc, "test", json_string("race"));
    json_object_set_new(doc, "profile", str_or_null(r->profile));
    json_object_set_new(doc, "started_at", json_string(when));
    json_object_set_new(doc, "duration_s", json_real(jx_round6(r->duration_s)));
    json_object_set_new(doc, "target", json_string(r->target));

    json_t *cfg = json_object();
    json_object_set_new(cfg, "orders", json_integer(r->orders));
    json_object_set_new(cfg, "vendors", json_integer(r->vendors));
    json_object_set_new(cfg, "stack", json_boolean(r->on_stack));
    json_object_set_new(cfg, "stack_profile", str_or_null(r->stack_profile));
    json_object_set_new(cfg, "release", json_string(r->release));
    json_object_set_new(cfg, "settle_ms", json_real(jx_round6(r->settle_ms)));
    json_object_set_new(cfg, "timeout_s", json_real(r->timeout_s));
    json_object_set_new(cfg, "setup_timeout_s", json_real(r->setup_timeout_s));
    json_object_set_new(cfg, "config_file", str_or_null(r->spec_file));
    json_object_set_new(cfg, "run_id", json_string(r->run_id));
    json_object_set_new(cfg, "audit_http", json_boolean(r->http_audit));
    json_object_set_new(cfg, "audit_sql", json_boolean(r->sql_audit));
    json_object_set_new(doc, "config", cfg);

    json_t *st = json_object();
    json_object_set_new(st, "orders", json_integer(r->raced));
    json_object_set_new(st, "vendors", json_integer(r->vendors));
    json_object_set_new(st, "race_conditions", json_integer(r->race_conditions));
    json_object_set_new(st, "race_conditions_pct",
                        jx_real6(100.0 * ratio(r->race_conditions, r->raced)));
    json_object_set_new(st, "win_rate", jx_real6(ratio(r->valid, r->raced)));
    json_object_set_new(st, "valid_orders", json_integer(r->valid));
    for (int c = 0; c < RACE_NCLASS; c++)
        json_object_set_new(st, race_class_name(c), json_integer(r->classes[c]));
    json_object_set_new(st, "resolution_avg_ms", jx_real6(resolution_avg(r)));
    put_pcts(st, "resolution", r->resolution, us_ms);
    put_pcts(st, "send_spread", r->spread, ns_ms);
    json_object_set_new(st, "accepts", json_integer(r->accepts));
    put_pcts(st, "accept", r->latency, us_ms);
    json_object_set_new(st, "won_answers", json_integer(r->won_answers));
    json_object_set_new(st, "lost_answers", json_integer(r->lost_answers));
    json_object_set_new(st, "errors", json_integer(r->failed_accepts));
    json_object_set_new(st, "race_error_rate", jx_real6(ratio(r->failed_accepts, r->accepts)));
    json_object_set_new(st, "integrity", jx_real6(ratio(r->integrity_ok, r->integrity_checked)));
    json_object_set_new(st, "audited_orders", json_integer(r->integrity_checked));
    json_object_set_new(
        st, "first_sender_win_rate",
        jx_real6(ratio(r->first_sender_wins,
                       r->raced - r->classes[RACE_DOUBLE_WIN] - r->classes[RACE_NO_WINNER])));
    json_object_set_new(st, "setup_s", json_real(jx_round6(r->setup_s)));
    json_object_set_new(st, "race_s", json_real(jx_round6(r->race_s)));
    json_object_set_new(st, "audit_s", json_real(jx_round6(r->audit_s)));
    json_object_set_new(st, "interrupted", json_boolean(r->interrupted));
    json_object_set_new(doc, "stats", st);

    json_object_set_new(doc, "thresholds", threshold_json(th, nth));
    json_object_set_new(doc, "advice", threshold_advice_json(th, nth));

    json_t *tl = json_array();
    for (int i = 0; i < r->nseconds; i++) {
        const race_second *s = &r->timeline[i];
        json_t *e = json_object();
        json_object_set_new(e, "t", json_integer(s->index));
        json_object_set_new(e, "length_s", json_real(jx_round6(s->length_s)));
        json_object_set_new(e, "phase", json_string(s->phase));
        json_object_set_new(e, "orders", json_integer(s->orders));
        json_object_set_new(e, "race_conditions", json_integer(s->violations));
        json_object_set_new(e, "accepts", json_integer(s->accepts));
        json_object_set_new(e, "errors", json_integer(s->errors));
        json_object_set_new(e, "p50_ms", json_real(us_ms(s->p50_us)));
        json_object_set_new(e, "p99_ms", json_real(us_ms(s->p99_us)));
        json_object_set_new(e, "max_ms", json_real(us_ms(s->max_us)));
        json_array_append_new(tl, e);
    }
    json_object_set_new(doc, "timeline", tl);

    json_t *lat = json_object();
    json_object_set_new(lat, "hdr_unit", json_string("us"));
    json_object_set_new(lat, "accept", jx_hist(r->latency, NS_PER_US));
    json_object_set_new(lat, "resolution", jx_hist(r->resolution, NS_PER_US));
    json_t *spread = jx_hist(r->spread, 1);
    json_object_set_new(spread, "hdr_unit", json_string("ns"));
    json_object_set_new(lat, "send_spread", spread);
    json_object_set_new(doc, "latency", lat);

    json_t *stj = json_object();
    for (int c = 0; c < 600; c++)
        if (r->status[c]) {
            char k[16];
            snprintf(k, sizeof k, "%d", c);
            json_object_set_new(stj, k, json_integer(r->status[c]));
        }
    json_object_set_new(doc, "status", stj);
    json_t *ej = json_object();
    for (int e = 1; e < 8; e++)
        if (r->err_by_class[e])
            json_object_set_new(ej, client_err_name((client_err)e),
                                json_integer(r->err_by_class[e]));
    json_object_set_new(doc, "errors", ej);

    json_t *race = json_object();
    json_t *vc = json_object();
    for (int c = 0; c < RACE_NCLASS; c++)
        json_object_set_new(vc, race_class_name(c), json_integer(r->classes[c]));
    json_object_set_new(race, "violations", vc);
    json_object_set_new(race, "violating_orders_total", json_integer(r->viol_total));
    json_object_set_new(race, "violating_orders_listed", json_integer(r->nviol));
    json_t *va = json_array();
    for (int i = 0; i < r->nviol; i++) json_array_append_new(va, violation_json(r, &r->viol[i]));
    json_object_set_new(race, "violating_orders", va);
    json_t *au = json_object();
    json_object_set_new(au, "http_orders", json_integer(r->http_audited));
    json_object_set_new(au, "sql_orders", json_integer(r->sql_audited));
    json_object_set_new(au, "failures", json_integer(r->audit_failures));
    json_object_set_new(au, "error", r->audit_error[0] ? json_string(r->audit_error) : json_null());
    json_object_set_new(race, "audit", au);
    json_object_set_new(race, "note", r->note[0] ? json_string(r->note) : json_null());
    json_object_set_new(doc, "race", race);
    return doc;
}

/* ---- terminal ------------------------------------------------------------------------------ */

static void print_example(FILE *out, const race_result *r, const race_violation *x) {
    fprintf(out, "    %s:", x->id);
    for (int c = 0; c < RACE_NCLASS; c++)
        if (x->classes & RACE_BIT(c)) fprintf(out, " %s", race_class_name(c));
    fprintf(out, " —");
    int shown = 0;
    for (int i = 0; i < r->vendors && shown < 6; i++) {
        const race_seen *s = &x->seen[i];
        if (s->status >= 200 && s->status < 300) {
            fprintf(out, " vendor-%d %d,", i + 1, s->status);
            shown++;
        } else if (!s->status || s->status >= 500 || (s->names && s->named)) {
            if (s->status)
                fprintf(out, " vendor-%d %d%s%s,", i + 1, s->status, s->named ? "→" : "",
                        s->named ? s->named : "");
            else
                fprintf(out, " vendor-%d %s,", i + 1, client_err_name((client_err)s->err));
            shown++;
        }
    }
    fprintf(out, " stored");
    if (x->http_known) fprintf(out, " http:%s", x->http_winner ? x->http_winner : "none");
    if (x->sql_known)
        fprintf(out, " sql:%s%s", x->sql_winner ? x->sql_winner : "none",
                x->sql_multiple ? "(+more)" : "");
    if (!x->http_known && !x->sql_known) fprintf(out, " unknown");
    fputc('\n', out);
}

void race_print(FILE *out, const race_result *r, const th_result *th, int nth) {
    fprintf(out, "brink race %s — %d orders × %d vendors against %s", r->profile, r->orders,
            r->vendors, r->target);
    if (r->on_stack) fprintf(out, " (embedded stack, %s)", r->stack_profile);
    fputc('\n', out);
    fprintf(out, "  set-up        %lld orders created and visible in %.2f s\n",
            (long long)r->created, r->setup_s);
    if (hdr_total(r->spread))
        fprintf(out,
                "  release       %s, settle %.3g ms: send spread p50 %.3f  p99 %.3f  max %.3f ms "
                "(first to last final byte)\n",
                r->release, r->settle_ms, ns_ms(hdr_value_at_percentile(r->spread, 50)),
                ns_ms(hdr_value_at_percentile(r->spread, 99)), ns_ms(hdr_max(r->spread)));
    fprintf(out, "  claims        %lld in %.2f s:", (long long)r->accepts, r->race_s);
    for (int c = 0; c < 600; c++)
        if (r->status[c]) fprintf(out, " %d: %lld", c, (long long)r->status[c]);
    for (int e = 1; e < 8; e++)
        if (r->err_by_class[e])
            fprintf(out, " %s: %lld", client_err_name((client_err)e),
                    (long long)r->err_by_class[e]);
    fputc('\n', out);
    if (hdr_total(r->latency))
        fprintf(out, "  latency       claim p50 %.3f  p99 %.3f  max %.3f ms\n",
                us_ms(hdr_value_at_percentile(r->latency, 50)),
                us_ms(hdr_value_at_percentile(r->latency, 99)), us_ms(hdr_max(r->latency)));
    if (hdr_total(r->resolution))
        fprintf(out, "  resolution    avg %.3f  p50 %.3f  p99 %.3f  max %.3f ms\n",
                resolution_avg(r), us_ms(hdr_value_at_percentile(r->resolution, 50)),
                us_ms(hdr_value_at_percentile(r->resolution, 99)), us_ms(hdr_max(r->resolution)));
    fprintf(out,
            "  outcome       %lld of %lld orders with exactly one valid winner; %lld race "
            "conditions (%.2f%%)\n",
            (long long)r->valid, (long long)r->raced, (long long)r->race_conditions,
            r->raced ? 100.0 * (double)r->race_conditions / (double)r->raced : 0.0);
    fprintf(out, "  violations   ");
    for (int c = 0; c < RACE_NCLASS; c++)
        fprintf(out, " %s %lld%s", race_class_name(c), (long long)r->classes[c],
                c + 1 < RACE_NCLASS ? "," : "\n");
    fprintf(out, "  audit        ");
    if (r->http_audit) fprintf(out, " HTTP read-back of %lld orders;", (long long)r->http_audited);
    if (r->sql_audit) fprintf(out, " SQL of %lld orders;", (long long)r->sql_audited);
    if (!r->http_audit && !r->sql_audit) fprintf(out, " none (no ground truth configured);");
    fprintf(out, " %lld failed\n", (long long)r->audit_failures);
    if (r->audit_error[0]) fprintf(out, "                %s\n", r->audit_error);
    if (r->note[0]) fprintf(out, "  note          %s\n", r->note);
    if (r->interrupted) fprintf(out, "  interrupted   the result is partial\n");
    if (r->nviol) {
        int show = r->nviol < 5 ? r->nviol : 5;
        fprintf(out, "  examples      %d of %lld violating orders (all listed orders in --json):\n",
                show, (long long)r->viol_total);
        for (int i = 0; i < show; i++) print_example(out, r, &r->viol[i]);
    }
    fprintf(out, "\n");
    threshold_print(out, th, nth);
}
