/* merge.c — `brink merge`: one result document from the documents of the n segments of a
 * scaled-out test (load/segment.h), from files alone, exactly:
 *
 *   checks      every document is a segment (.config.segment) of the same count, each index
 *               1..n exactly once, of the same test, profile and target, with the same settings
 *               (.config without what differs per process: segment, connections, threads,
 *               run_id, service_pid, config_file, start_at_unix_ns), and with its histograms.
 *   latency     .latency.corrected and .latency.service decoded from their HdrHistogram
 *               encodings (.hdr) and added bucket by bucket (hdr_merge): the merged percentiles
 *               are those of one histogram of every sample, not averages of percentiles.
 *   counts      requests, errors (by class and by status), bytes, scheduled, ... summed; the
 *               error rate and availability recomputed from the sums; the largest send lag and
 *               the service's CPU and RSS (sampled by the segments that had its pid) the maxima.
 *   rates       rps = all requests / the aligned window (earliest start to the latest end of
 *               sending, on the wall clock); offered rates summed.
 *   timeline    aligned by wall-clock second: each segment's second t goes to second
 *               floor(t + its start - the earliest start) of the merged timeline (with a common
 *               --start-at the offsets are 0 and seconds match one for one); counts summed;
 *               p50/p99/max of each second from the merged per-second histograms (.hdr of each
 *               sample, written by segment runs), or null and marked not mergeable when a
 *               sample lacks its histogram — percentiles are never averaged.
 *   capacity    steps matched by index; a step every segment ran is merged like a run (counts
 *               summed, histograms merged) and judged again by the search's criteria
 *               (capacity_judge), steps only some segments ran are listed as incomplete; the
 *               breaking point and the knee follow from the merged steps.
 *   verdicts    every threshold of the segments judged again on the merged value, with the
 *               table's bounds (threshold.c) or the user's overridden ones the segments carry,
 *               and webhook's rps rule relative to the whole offered rate
 *               (threshold_rps_vs_offered).
 * The merged document is brink.result/1 with .config.merged_from and .merge (how it was made). */
#include "report/merge.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cli.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/hdr.h"
#include "core/exitcode.h"
#include "load/segment.h"
#include "report/html.h"
#include "report/junit.h"
#include "core/json.h"
#include "load/scenario_report.h"
#include "report/report_cmd.h"
#include "verdict/capacity.h"

#define MAX_SECONDS (10 * 24 * 3600) /* longest merged timeline: ten days */

typedef struct part {
    const json_t *doc;
    const char *name;
    int index;        /* 0-based segment index */
    int64_t start_ns; /* wall clock, ns */
    double offset_s;  /* start - the earliest start */
} part;

/* ---- small JSON helpers ---------------------------------------------------------------------- */

/* A short rendering of a JSON value for messages. */
static void show(const json_t *v, char *out, size_t len) {
    char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(out, len, "%.60s%s", s ? s : "nothing", s && strlen(s) > 60 ? "..." : "");
    free(s);
}

/* "2026-11-27T05:14:26.123Z" (started_at) to wall-clock ns; -1 when it does not parse. */
static int64_t parse_utc(const char *s) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int ms = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &used) != 6)
        return -1;
    const char *p = s + used;
    if (*p == '.') {
        int k = 0, scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++, k++) {
            if (k < 3) ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (strcmp(p, "Z")) return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    return (int64_t)t * NS_PER_S + (int64_t)ms * NS_PER_MS;
}

/* ns per recorded unit of a document's histograms (.latency.hdr_unit). */
static double unit_ns_of(const char *u) {
    if (!strcmp(u, "ns")) return 1;
    if (!strcmp(u, "ms")) return (double)NS_PER_MS;
    if (!strcmp(u, "s")) return (double)NS_PER_S;
    return (double)NS_PER_US; /* "us", brink's engine */
}

/* ---- checks ---------------------------------------------------------------------------------- */

/* json_equal, but numbers compare by value: 1 and 1.0 are the same setting (a document that went
 * through jq or another tool may have either). */
static bool same(const json_t *a, const json_t *b) {
    if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b)) return false;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            if (!same(v, json_object_get(b, k))) return false;
        }
        return true;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i))) return false;
        return true;
    }
    return a && b && json_equal(a, b);
}

static const char *const per_process[] = {
    "segment",     "connections", "threads",          "run_id",
    "service_pid", "config_file", "start_at_unix_ns", "merged_from",
};

/* The part of .config that must be equal across segments. */
static json_t *plan_of(const json_t *doc) {
    json_t *c = json_deep_copy(json_object_get(doc, "config"));
    if (!c) c = json_object();
    for (size_t i = 0; i < sizeof per_process / sizeof per_process[0]; i++)
        json_object_del(c, per_process[i]);
    return c;
}

static int same_plan(const part *a, const part *b, char *err, size_t errlen) {
    json_t *pa = plan_of(a->doc), *pb = plan_of(b->doc);
    int rc = 0;
    if (!same(pa, pb)) {
        const char *key = NULL;
        const json_t *v;
        json_object_foreach(pa, key, v) {
            if (!same(v, json_object_get(pb, key))) break;
        }
        if (!key) {
            json_object_foreach(pb, key, v) {
                if (!json_object_get(pa, key)) break;
            }
        }
        char va[80], vb[80];
        show(key ? json_object_get(pa, key) : NULL, va, sizeof va);
        show(key ? json_object_get(pb, key) : NULL, vb, sizeof vb);
        err_set(err, errlen, "%s and %s differ in .config.%s (%s vs %s): not segments of one test",
                a->name, b->name, key ? key : "?", va, vb);
        rc = -1;
    }
    json_decref(pa);
    json_decref(pb);
    return rc;
}

/* Checks the documents and fills parts[] in segment order. */
static int check_parts(json_t *const *docs, const char *const *names, int n, part *parts, char *err,
                       size_t errlen) {
    if (n < 1) {
        err_set(err, errlen, "no documents to merge");
        return -1;
    }
    int count = 0;
    const char *count_from = NULL;
    for (int i = 0; i < n; i++) {
        const json_t *seg = json_object_get(json_object_get(docs[i], "config"), "segment");
        if (!json_is_object(seg)) {
            err_set(err, errlen,
                    "%s is not a segment (no .config.segment): run each part with --segment I/N",
                    names[i]);
            return -1;
        }
        int64_t idx = jx_int(seg, "index"), cnt = jx_int(seg, "count");
        if (cnt < 1 || cnt > SEGMENT_MAX || idx < 1 || idx > cnt) {
            err_set(err, errlen, "%s: .config.segment is not a valid I/N", names[i]);
            return -1;
        }
        if (!count_from) {
            count = (int)cnt;
            count_from = names[i];
        } else if (cnt != count) {
            err_set(err, errlen, "%s is a segment of %lld but %s of %d: not one test", names[i],
                    (long long)cnt, count_from, count);
            return -1;
        }
    }
    for (int i = 0; i < n; i++) {
        const json_t *seg = json_object_get(json_object_get(docs[i], "config"), "segment");
        int idx = (int)jx_int(seg, "index") - 1;
        if (parts[idx].doc) {
            err_set(err, errlen, "%s and %s are both segment %d/%d", parts[idx].name, names[i],
                    idx + 1, count);
            return -1;
        }
        parts[idx].doc = docs[i];
        parts[idx].name = names[i];
        parts[idx].index = idx;
    }
    char missing[200] = "";
    size_t off = 0;
    int nmissing = 0;
    for (int k = 0; k < count; k++) {
        if (parts[k].doc) continue;
        if (nmissing < 8) {
            int w = snprintf(missing + off, sizeof missing - off, "%s%d/%d", nmissing ? ", " : "",
                             k + 1, count);
            if (w > 0 && (size_t)w < sizeof missing - off) off += (size_t)w;
        }
        nmissing++;
    }
    if (nmissing) {
        err_set(err, errlen, "segment%s %s%s %s missing: merge needs all %d segments",
                nmissing > 1 ? "s" : "", missing, nmissing > 8 ? ", ..." : "",
                nmissing > 1 ? "are" : "is", count);
        return -1;
    }
    const part *p0 = &parts[0];
    for (int k = 0; k < count; k++) {
        const part *p = &parts[k];
        if (strcmp(jx_str(p->doc, "test"), jx_str(p0->doc, "test"))) {
            err_set(err, errlen, "%s is a %s document but %s a %s one: not one test", p->name,
                    jx_str(p->doc, "test"), p0->name, jx_str(p0->doc, "test"));
            return -1;
        }
        const json_t *pa = json_object_get(p->doc, "profile"),
                     *pb = json_object_get(p0->doc, "profile");
        if ((pa || pb) && !same(pa, pb)) {
            err_set(err, errlen, "%s and %s ran different profiles: not one test", p0->name,
                    p->name);
            return -1;
        }
        if (strcmp(jx_str(p->doc, "target"), jx_str(p0->doc, "target"))) {
            err_set(err, errlen, "%s targets %s but %s targets %s: not one test", p->name,
                    jx_str(p->doc, "target"), p0->name, jx_str(p0->doc, "target"));
            return -1;
        }
        if (k && same_plan(p0, p, err, errlen) < 0) return -1;
        if (!json_object_get(p->doc, "capacity") &&
            !(json_object_get(p->doc, "latency") && json_object_get(p->doc, "timeline"))) {
            err_set(err, errlen,
                    "%s: brink merge adds up load, webhook and capacity documents, not %s ones",
                    p->name, jx_str(p->doc, "test"));
            return -1;
        }
        json_t *ns = json_object_get(json_object_get(p->doc, "config"), "start_at_unix_ns");
        parts[k].start_ns =
            json_is_integer(ns) ? json_integer_value(ns) : parse_utc(jx_str(p->doc, "started_at"));
        if (parts[k].start_ns < 0) {
            err_set(err, errlen, "%s: .started_at '%s' is not an RFC 3339 UTC time", p->name,
                    jx_str(p->doc, "started_at"));
            return -1;
        }
    }
    int64_t first = parts[0].start_ns;
    for (int k = 1; k < count; k++)
        if (parts[k].start_ns < first) first = parts[k].start_ns;
    for (int k = 0; k < count; k++)
        parts[k].offset_s = (double)(parts[k].start_ns - first) / NS_PER_S;
    return count;
}

/* Decodes an encoded histogram (base64 V2) at o.key, merging it into *acc (created like the
 * first). 0, or -1 with a reason naming the file and where. */
static int merge_hist(hdr_hist **acc, const json_t *o, const char *key, const char *name,
                      const char *where, char *err, size_t errlen) {
    const char *b64 = json_string_value(json_object_get(o, key));
    if (!b64) {
        err_set(err, errlen, "%s: %s.%s is missing: cannot merge its latency exactly", name, where,
                key);
        return -1;
    }
    char sub[160];
    hdr_hist *h = hdr_decode_base64(b64, sub, sizeof sub);
    if (!h) {
        err_set(err, errlen, "%s: %s.%s is not an HdrHistogram: %s", name, where, key, sub);
        return -1;
    }
    if (!*acc && !(*acc = hdr_new_like(h))) {
        hdr_free(h);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    int64_t lost = hdr_merge(*acc, h);
    hdr_free(h);
    if (lost) {
        err_set(err, errlen, "%s: %s.%s has %lld values outside the merged range", name, where, key,
                (long long)lost);
        return -1;
    }
    return 0;
}

/* ---- shared pieces of a merged document ------------------------------------------------------ */

static void put_head(json_t *m, const part *p, int n) {
    const json_t *d0 = p[0].doc;
    int64_t first = p[0].start_ns;
    double end = 0;
    for (int k = 0; k < n; k++) {
        if (p[k].start_ns < first) first = p[k].start_ns;
        double e = p[k].offset_s + jx_num(p[k].doc, "duration_s");
        if (isfinite(e) && e > end) end = e;
    }
    char when[32];
    clock_format_utc(first, when);
    json_object_set_new(m, "schema", json_string(JX_SCHEMA));
    json_object_set(m, "test", json_object_get(d0, "test"));
    json_object_set(m, "profile", json_object_get(d0, "profile"));
    json_object_set_new(m, "started_at", json_string(when));
    json_object_set_new(m, "duration_s", jx_real3(end));
    json_object_set(m, "target", json_object_get(d0, "target"));
    json_t *cfg = json_deep_copy(json_object_get(d0, "config"));
    if (!cfg) cfg = json_object();
    for (size_t i = 0; i < sizeof per_process / sizeof per_process[0]; i++)
        json_object_del(cfg, per_process[i]);
    int64_t conns = 0, threads = 0;
    bool have_conns = false;
    json_t *from = json_array();
    for (int k = 0; k < n; k++) {
        const json_t *c = json_object_get(p[k].doc, "config");
        if (json_is_integer(json_object_get(c, "connections"))) {
            conns += jx_int(c, "connections");
            have_conns = true;
        }
        threads += jx_int(c, "threads");
        json_t *e = json_object();
        json_object_set_new(e, "file", json_string(p[k].name));
        json_object_set(e, "segment", json_object_get(c, "segment"));
        json_object_set(e, "started_at", json_object_get(p[k].doc, "started_at"));
        json_object_set_new(e, "offset_s", json_real(jx_round6(p[k].offset_s)));
        if (json_object_get(c, "run_id"))
            json_object_set(e, "run_id", json_object_get(c, "run_id"));
        if (json_is_integer(json_object_get(c, "service_pid")))
            json_object_set(e, "service_pid", json_object_get(c, "service_pid"));
        json_array_append_new(from, e);
    }
    json_object_set_new(cfg, "connections", have_conns ? json_integer(conns) : json_null());
    json_object_set_new(cfg, "threads", json_integer(threads));
    json_object_set_new(cfg, "merged_from", from);
    json_object_set_new(m, "config", cfg);
}

/* Whether the starts are whole seconds apart (within 1 ms): then seconds align one for one. */
static bool aligned(const part *p, int n) {
    for (int k = 0; k < n; k++) {
        double f = p[k].offset_s - floor(p[k].offset_s + 0.5);
        if (fabs(f) > 0.001) return false;
    }
    return true;
}

typedef struct bucket {
    bool used;
    int contributors;
    double length_s;
    const char *phase;
    bool has_offered;
    double offered;
    int64_t sent, completed, errors;
    hdr_hist *h;
    double cpu, rss; /* maxima; NAN: none */
} bucket;

static double max_nan(double a, double b) {
    if (isnan(a)) return b;
    if (isnan(b)) return a;
    return a > b ? a : b;
}

/* The merged timeline's second of a part's timeline entry e, or -1 when e has no time. */
static double second_of(const part *p, const json_t *e) {
    double t = jx_num(e, "t");
    if (!isfinite(t) || t < 0) return -1;
    return floor(p->offset_s + t + 1e-6);
}

/* The merged timeline (see the top of the file); sets *why when the per-second percentiles
 * cannot be merged. NULL with a reason in err on a broken histogram or out of memory. */
static json_t *merge_timeline(const part *p, int n, char *why, size_t whylen, char *err,
                              size_t errlen) {
    why[0] = '\0';
    int nb = 0;
    for (int k = 0; k < n; k++) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(p[k].doc, "timeline"), i, e) {
            double b = second_of(&p[k], e);
            if (b < 0) continue;
            if (b >= MAX_SECONDS) {
                err_set(err, errlen, "%s: the timeline is longer than %d s", p[k].name,
                        MAX_SECONDS);
                return NULL;
            }
            if ((int)b + 1 > nb) nb = (int)b + 1;
            if (!why[0] && !json_is_string(json_object_get(e, "hdr")))
                snprintf(why, whylen,
                         "not mergeable: %s's timeline has no per-second histograms (.hdr)",
                         p[k].name);
        }
    }
    bucket *bs = calloc((size_t)(nb ? nb : 1), sizeof *bs);
    json_t *tl = NULL;
    if (!bs) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    for (int b = 0; b < nb; b++) bs[b].cpu = bs[b].rss = NAN;
    for (int k = 0; k < n; k++) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(p[k].doc, "timeline"), i, e) {
            double sec = second_of(&p[k], e);
            if (sec < 0) continue;
            bucket *b = &bs[(int)sec];
            if (!b->used || jx_num(e, "length_s") > b->length_s)
                b->length_s = jx_num(e, "length_s");
            if (!b->phase) b->phase = json_string_value(json_object_get(e, "phase"));
            b->used = true;
            b->contributors++;
            if (json_is_number(json_object_get(e, "offered"))) {
                b->has_offered = true;
                b->offered += jx_num(e, "offered");
            }
            b->sent += jx_int(e, "sent");
            b->completed += jx_int(e, "completed");
            b->errors += jx_int(e, "errors");
            b->cpu = max_nan(b->cpu, jx_num(e, "service_cpu_pct"));
            b->rss = max_nan(b->rss, jx_num(e, "service_rss_mib"));
            if (!why[0]) {
                char where[48];
                snprintf(where, sizeof where, ".timeline[%zu]", i);
                if (merge_hist(&b->h, e, "hdr", p[k].name, where, err, errlen) < 0) goto out;
            }
        }
    }
    tl = json_array();
    for (int b = 0; b < nb; b++) {
        bucket *x = &bs[b];
        if (!x->used) continue;
        json_t *o = json_object();
        json_object_set_new(o, "t", json_integer(b));
        json_object_set_new(o, "length_s", jx_real3(x->length_s));
        json_object_set_new(o, "phase", json_string(x->phase ? x->phase : "load"));
        if (x->has_offered) json_object_set_new(o, "offered", jx_real3(x->offered));
        json_object_set_new(o, "sent", json_integer(x->sent));
        json_object_set_new(o, "completed", json_integer(x->completed));
        json_object_set_new(o, "errors", json_integer(x->errors));
        if (!why[0] && x->h) {
            json_object_set_new(o, "p50_ms",
                                json_real((double)hdr_value_at_percentile(x->h, 50) / 1000.0));
            json_object_set_new(o, "p99_ms",
                                json_real((double)hdr_value_at_percentile(x->h, 99) / 1000.0));
            json_object_set_new(o, "max_ms", json_real((double)hdr_max(x->h) / 1000.0));
            char *enc = hdr_encode_base64(x->h);
            if (enc) json_object_set_new(o, "hdr", json_string(enc));
            free(enc);
        } else {
            json_object_set_new(o, "p50_ms", json_null());
            json_object_set_new(o, "p99_ms", json_null());
            json_object_set_new(o, "max_ms", json_null());
        }
        if (!isnan(x->cpu)) json_object_set_new(o, "service_cpu_pct", jx_real3(x->cpu));
        if (!isnan(x->rss)) json_object_set_new(o, "service_rss_mib", jx_real3(x->rss));
        json_object_set_new(o, "segments", json_integer(x->contributors));
        json_array_append_new(tl, o);
    }
out:
    for (int b = 0; b < nb; b++) hdr_free(bs[b].h);
    free(bs);
    return tl;
}

/* ---- verdicts -------------------------------------------------------------------------------- */

/* The evidence of a merged verdict, in words and numbers. */
static void evidence(char *out, size_t len, const th_result *r, const json_t *st, int n,
                     double rate) {
    char v[64];
    threshold_format_value(v, sizeof v, r->value, r->def.unit, "-");
    long long req = (long long)jx_int(st, "requests");
    long long errors = (long long)jx_int(st, "errors");
    long long finished = req + (long long)jx_int(st, "transport_errors");
    const char *m = r->def.metric;
    if (!strcmp(m, "rps") && rate > 0) {
        threshold_rps_evidence(out, len, r->value, rate);
        size_t used = strlen(out);
        snprintf(out + used, len - used, " by %d segments together", n);
    } else if (!strcmp(r->def.unit, "ms") && json_is_integer(json_object_get(st, "requests")))
        snprintf(out, len,
                 "%s %s over %lld requests of %d segments (their histograms merged bucket by "
                 "bucket)",
                 m, v, req, n);
    else if (!strcmp(m, "error_rate") || !strcmp(m, "availability"))
        snprintf(out, len, "%lld of %lld requests failed across %d segments", errors, finished, n);
    else if (!strcmp(m, "timeouts"))
        snprintf(out, len, "%lld requests without an answer in time across %d segments",
                 (long long)jx_int(st, "timeouts"), n);
    else if (!strcmp(r->def.test, "resources"))
        snprintf(out, len, "%s %s: the highest any segment sampled", m, v);
    else
        snprintf(out, len, "%s %s, merged from %d segments", m, v, n);
}

/* The verdicts of every segment's .thresholds judged again on the merged .stats. */
static int rejudge(const part *p, int n, json_t *m, merge_verdicts *v, const char *message,
                   char *err, size_t errlen) {
    v->n = 0;
    const json_t *st = json_object_get(m, "stats");
    double rate = jx_num(json_object_get(m, "config"), "rate");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(p[0].doc, "thresholds"), i, t) {
        if (v->n >= MERGE_MAX_VERDICTS) break;
        const char *test = jx_str(t, "test"), *metric = jx_str(t, "metric");
        th_result *r = &v->r[v->n];
        double value = jx_num(st, metric);
        if (threshold_judge(r, test, metric, value, NULL) < 0) continue; /* unknown: dropped */
        bool over = json_is_true(json_object_get(t, "overridden"));
        if (over) { /* the user's bounds (brink.yaml), the same in every segment */
            for (int k = 1; k < n; k++) {
                size_t j;
                json_t *u;
                bool same = false;
                json_array_foreach(json_object_get(p[k].doc, "thresholds"), j, u) {
                    if (strcmp(jx_str(u, "test"), test) || strcmp(jx_str(u, "metric"), metric))
                        continue;
                    same = jx_num(u, "orange") == jx_num(t, "orange") &&
                           jx_num(u, "red") == jx_num(t, "red");
                    break;
                }
                if (!same) {
                    err_set(err, errlen,
                            "%s and %s were judged with different bounds for %s.%s (brink.yaml "
                            "thresholds): not one test",
                            p[0].name, p[k].name, test, metric);
                    return -1;
                }
            }
            r->def.orange = jx_num(t, "orange");
            r->def.red = jx_num(t, "red");
            r->overridden = true;
        }
        if (!strcmp(test, "webhook") && !strcmp(metric, "rps")) /* relative to the whole rate */
            threshold_rps_vs_offered(r, rate);
        else
            r->status = threshold_eval(&r->def, value);
        if (message && !strcmp(test, "capacity") && !strcmp(metric, "max_sustainable_rps"))
            snprintf(r->evidence, sizeof r->evidence, "%s", message);
        else
            evidence(r->evidence, sizeof r->evidence, r, st, n, rate);
        v->n++;
    }
    json_object_set_new(m, "thresholds", threshold_json(v->r, v->n));
    json_t *advice = threshold_advice_json(v->r, v->n);
    /* what the service's own metrics said (verdict/remedy.c), from the first segment that had it */
    json_array_foreach(advice, i, t) {
        for (int k = 0; k < n; k++) {
            size_t j;
            json_t *a, *found = NULL;
            json_array_foreach(json_object_get(p[k].doc, "advice"), j, a) {
                if (!strcmp(jx_str(a, "metric"), jx_str(t, "metric")) &&
                    json_object_get(a, "service_metrics"))
                    found = a;
            }
            if (!found) continue;
            json_object_set(t, "service_metrics", json_object_get(found, "service_metrics"));
            if (json_object_get(found, "service_remedy")) {
                json_object_set(t, "service_remedy", json_object_get(found, "service_remedy"));
                json_object_set(t, "remedy", json_object_get(found, "remedy"));
            }
            break;
        }
    }
    json_object_set_new(m, "advice", advice);
    return 0;
}

/* ---- load and webhook documents -------------------------------------------------------------- */

static const char *const summed[] = {
    "requests",           "sent",       "errors", "http_errors", "transport_errors", "timeouts",
    "scheduled",          "late_sends", "unsent", "bytes_read",  "bytes_written",    "connects",
    "reconnect_backoffs",
};

static bool is_summed(const char *k) {
    for (size_t i = 0; i < sizeof summed / sizeof summed[0]; i++)
        if (!strcmp(summed[i], k)) return true;
    return false;
}

static void sum_object(json_t *dst, const json_t *src) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        if (!json_is_integer(v)) continue;
        json_t *d = json_object_get(dst, k);
        json_object_set_new(dst, k, json_integer(json_integer_value(d) + json_integer_value(v)));
    }
}

/* The segments' .delivery: the same policy in every one (else -1), the counts added up into dl,
 * the delay histograms merged into *delay, the largest attempts_per_event_max into st. */
static int sum_delivery(const part *p, int n, json_t *dl, json_t *st, hdr_hist **delay, char *err,
                        size_t errlen) {
    static const char *const same[] = {"policy",         "retry_schedule_s",   "scale",
                                       "duplicate_rate", "duplicate_window_s", "honor_retry_after"};
    static const char *const counts[] = {"events",       "acknowledged_first",
                                         "acknowledged", "gave_up",
                                         "undelivered",  "retries",
                                         "duplicates",   "duplicates_acknowledged",
                                         "pending_max",  "retry_after_waits"};
    const json_t *d0 = json_object_get(p[0].doc, "delivery");
    for (int k = 0; k < n; k++) {
        const json_t *d = json_object_get(p[k].doc, "delivery");
        for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
            if (json_is_object(d) &&
                json_equal(json_object_get(d, same[i]), json_object_get(d0, same[i])))
                continue;
            err_set(err, errlen, "%s and %s were sent by different senders (.delivery.%s)",
                    p[0].name, p[k].name, same[i]);
            return -1;
        }
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) /* pending_max: a bound */
            json_object_set_new(dl, counts[i],
                                json_integer(jx_int(dl, counts[i]) + jx_int(d, counts[i])));
        if (merge_hist(delay, json_object_get(d, "delay"), "hdr", p[k].name, ".delivery.delay", err,
                       errlen) < 0)
            return -1;
        int64_t amax = jx_int(json_object_get(p[k].doc, "stats"), "attempts_per_event_max");
        if (amax > jx_int(st, "attempts_per_event_max"))
            json_object_set_new(st, "attempts_per_event_max", json_integer(amax));
    }
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        json_object_set(dl, same[i], json_object_get(d0, same[i]));
    json_object_set(dl, "drain_s", json_object_get(d0, "drain_s"));
    return 0;
}

/* A retrying sender's numbers (load_report_delivery_json) merged into m's .delivery and st. */
static int merge_delivery(const part *p, int n, json_t *m, json_t *st, char *err, size_t errlen) {
    if (!json_is_object(json_object_get(p[0].doc, "delivery"))) return 0;
    hdr_hist *delay = NULL;
    json_t *dl = json_object();
    if (sum_delivery(p, n, dl, st, &delay, err, errlen) < 0) {
        json_decref(dl);
        hdr_free(delay);
        return -1;
    }
    json_object_set_new(dl, "delay", jx_hist(delay, NS_PER_US));
    int64_t events = jx_int(dl, "events"), retries = jx_int(dl, "retries");
    bool any = hdr_total(delay) > 0;
    json_object_set_new(st, "events", json_integer(events));
    json_object_set_new(st, "first_attempt_success_rate",
                        events ? jx_real6((double)jx_int(dl, "acknowledged_first") / events)
                               : json_null());
    json_object_set_new(st, "eventual_delivery_rate",
                        events ? jx_real6((double)jx_int(dl, "acknowledged") / events)
                               : json_null());
    json_object_set_new(st, "gave_up", json_integer(jx_int(dl, "gave_up")));
    json_object_set_new(st, "undelivered", json_integer(jx_int(dl, "undelivered")));
    json_object_set_new(st, "retries", json_integer(retries));
    json_object_set_new(st, "duplicates_sent", json_integer(jx_int(dl, "duplicates")));
    json_object_set_new(st, "attempts_per_event",
                        json_real(jx_round3(events ? (double)(events + retries) / events : 0)));
    json_object_set_new(st, "delivery_delay_p50_s",
                        any ? jx_real6(hdr_value_at_percentile(delay, 50) / 1e6) : json_null());
    json_object_set_new(st, "delivery_delay_p99_s",
                        any ? jx_real6(hdr_value_at_percentile(delay, 99) / 1e6) : json_null());
    json_object_set_new(st, "delivery_delay_max_s",
                        any ? jx_real6(hdr_max(delay) / 1e6) : json_null());
    json_object_set_new(m, "delivery", dl);
    hdr_free(delay);
    return 0;
}

/* A scenario's numbers by request name and flow (load/scenario_report.h). */
static int merge_scenario(const part *p, int n, json_t *m, json_t *st, double window, char *err,
                          size_t errlen) {
    const json_t **docs = malloc((size_t)n * sizeof *docs);
    const char **names = malloc((size_t)n * sizeof *names);
    int rc = -1;
    if (docs && names) {
        for (int k = 0; k < n; k++) {
            docs[k] = p[k].doc;
            names[k] = p[k].name;
        }
        rc = scenario_merge(m, st, docs, names, n, window, err, errlen);
    } else {
        err_set(err, errlen, "out of memory");
    }
    free(docs);
    free(names);
    return rc;
}

static json_t *merge_load(const part *p, int n, merge_verdicts *v, char *err, size_t errlen) {
    const char *unit = jx_str(json_object_get(p[0].doc, "latency"), "hdr_unit");
    for (int k = 1; k < n; k++) {
        if (strcmp(jx_str(json_object_get(p[k].doc, "latency"), "hdr_unit"), unit)) {
            err_set(err, errlen, "%s and %s record latency in different units (.latency.hdr_unit)",
                    p[0].name, p[k].name);
            return NULL;
        }
    }
    double unit_ns = unit_ns_of(unit);
    hdr_hist *lat = NULL, *svc = NULL;
    json_t *m = NULL, *tl = NULL;
    for (int k = 0; k < n; k++) {
        const json_t *l = json_object_get(p[k].doc, "latency");
        if (merge_hist(&lat, json_object_get(l, "corrected"), "hdr", p[k].name,
                       ".latency.corrected", err, errlen) < 0 ||
            merge_hist(&svc, json_object_get(l, "service"), "hdr", p[k].name, ".latency.service",
                       err, errlen) < 0)
            goto fail;
    }
    char why[200];
    tl = merge_timeline(p, n, why, sizeof why, err, errlen);
    if (!tl) goto fail;

    m = json_object();
    put_head(m, p, n);
    /* counts */
    const json_t *st0 = json_object_get(p[0].doc, "stats");
    json_t *st = json_object();
    double window = 0, offered = 0, lag = NAN, cpu = NAN, rss = NAN;
    bool interrupted = false, open = json_is_number(json_object_get(st0, "offered_rps"));
    for (int k = 0; k < n; k++) {
        const json_t *s = json_object_get(p[k].doc, "stats");
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)s, key, val) {
            if (!is_summed(key) || !json_is_integer(val)) continue;
            json_object_set_new(st, key, json_integer(jx_int(st, key) + json_integer_value(val)));
        }
        double w = jx_num(s, "send_window_s");
        if (!isfinite(w)) w = jx_num(p[k].doc, "duration_s");
        if (isfinite(w) && p[k].offset_s + w > window) window = p[k].offset_s + w;
        offered += isfinite(jx_num(s, "offered_rps")) ? jx_num(s, "offered_rps") : 0;
        lag = max_nan(lag, jx_num(s, "max_send_lag_ms"));
        cpu = max_nan(cpu, jx_num(s, "service_cpu_pct"));
        rss = max_nan(rss, jx_num(s, "service_rss_mib"));
        if (json_is_true(json_object_get(s, "interrupted"))) interrupted = true;
    }
    int64_t requests = jx_int(st, "requests"), terr = jx_int(st, "transport_errors");
    int64_t errors = jx_int(st, "errors"), finished = requests + terr;
    double per_ms = NS_PER_MS / unit_ns; /* divided, as load_report.c does: the same doubles */
    json_object_set_new(st, "rps", json_real(jx_round3(window > 0 ? requests / window : 0)));
    json_object_set_new(st, "send_window_s", json_real(jx_round6(window)));
    json_object_set_new(st, "offered_rps", open ? json_real(jx_round3(offered)) : json_null());
    json_object_set_new(st, "error_rate",
                        json_real(finished ? (double)errors / (double)finished : 0));
    static const struct {
        const char *k;
        double p;
    } pct[] = {{"p50_ms", 50}, {"p95_ms", 95}, {"p99_ms", 99}, {"p999_ms", 99.9}};
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++)
        json_object_set_new(st, pct[i].k,
                            json_real((double)hdr_value_at_percentile(lat, pct[i].p) / per_ms));
    json_object_set_new(st, "max_ms", json_real((double)hdr_max(lat) / per_ms));
    json_object_set_new(st, "mean_ms", json_real(jx_round3(hdr_mean(lat) / per_ms)));
    json_object_set_new(st, "service_p50_ms",
                        json_real((double)hdr_value_at_percentile(svc, 50) / per_ms));
    json_object_set_new(st, "service_p99_ms",
                        json_real((double)hdr_value_at_percentile(svc, 99) / per_ms));
    if (json_object_get(st0, "max_send_lag_ms"))
        json_object_set_new(st, "max_send_lag_ms", jx_real(lag));
    json_object_set_new(st, "interrupted", json_boolean(interrupted));
    if (json_object_get(st0, "availability"))
        json_object_set_new(st, "availability",
                            finished ? json_real(1.0 - (double)errors / (double)finished)
                                     : json_null());
    if (json_object_get(st0, "service_cpu_pct"))
        json_object_set_new(st, "service_cpu_pct", jx_real3(cpu));
    if (json_object_get(st0, "service_rss_mib"))
        json_object_set_new(st, "service_rss_mib", jx_real3(rss));
    if (merge_delivery(p, n, m, st, err, errlen) < 0 ||
        merge_scenario(p, n, m, st, window, err, errlen) < 0) {
        json_decref(st);
        goto fail;
    }
    if (json_object_get(m, "delivery") && !strcmp(jx_str(p[0].doc, "test"), "webhook")) {
        /* as webhook.c: the schedule's own deliveries over the schedule, not the retries and
         * duplicates nor the drain after it */
        int64_t own = requests - jx_int(st, "retries") - jx_int(st, "duplicates_sent");
        double d = jx_num(json_object_get(p[0].doc, "config"), "duration_s");
        double w = isfinite(d) && d > 0 && d < window ? d : window;
        json_object_set_new(st, "rps", json_real(jx_round3(w > 0 && own > 0 ? own / w : 0)));
    }
    /* keys of the segments this merge does not know how to add up: left out, and said so */
    json_t *dropped = json_array();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)st0, key, val) {
        if (!json_object_get(st, key)) json_array_append_new(dropped, json_string(key));
    }
    json_object_set_new(m, "stats", st);

    json_t *l = json_object();
    json_object_set_new(l, "hdr_unit", json_string(unit[0] ? unit : "us"));
    json_object_set_new(l, "corrected", jx_hist(lat, unit_ns));
    json_object_set_new(l, "service", jx_hist(svc, unit_ns));
    json_object_set_new(m, "latency", l);

    json_t *status = json_object(), *errs = json_object(), *details = json_object();
    for (int k = 0; k < n; k++) {
        sum_object(status, json_object_get(p[k].doc, "status"));
        sum_object(errs, json_object_get(p[k].doc, "errors"));
        const json_t *d = json_object_get(p[k].doc, "error_details");
        json_object_foreach((json_t *)d, key, val) {
            if (!json_object_get(details, key)) json_object_set(details, key, val);
        }
    }
    json_object_set_new(m, "status", status);
    json_object_set_new(m, "errors", errs);
    json_object_set_new(m, "error_details", details);
    json_object_set_new(m, "timeline", tl);
    tl = NULL;
    /* an event lifecycle (--events): planned for the whole test, the same in every segment;
     * requests and 2xx answers by type added up */
    const json_t *ev0 = json_object_get(p[0].doc, "events");
    if (json_is_object(ev0)) {
        json_t *ev = json_deep_copy(ev0), *by = json_object();
        for (int k = 0; k < n; k++) {
            const json_t *b = json_object_get(json_object_get(p[k].doc, "events"), "by_type");
            json_object_foreach((json_t *)b, key, val) {
                if (!json_object_get(by, key)) json_object_set_new(by, key, json_object());
                sum_object(json_object_get(by, key), val);
            }
        }
        json_object_set_new(ev, "by_type", by);
        json_object_set_new(m, "events", ev);
    }

    /* the service's resources: from the first segment that sampled it */
    const json_t *res = NULL;
    for (int k = 0; k < n && !res; k++) {
        const json_t *r = json_object_get(p[k].doc, "resources");
        if (json_is_integer(json_object_get(r, "pid"))) res = r;
    }
    if (!res) res = json_object_get(p[0].doc, "resources");
    if (res) json_object_set(m, "resources", (json_t *)res);

    json_t *mi = json_object();
    json_object_set_new(mi, "segments", json_integer(n));
    json_object_set_new(mi, "aligned", json_boolean(aligned(p, n)));
    json_object_set_new(mi, "timeline_percentiles", json_string(why[0] ? why : "merged"));
    json_object_set_new(mi, "dropped_stats", dropped);
    json_object_set_new(m, "merge", mi);
    if (rejudge(p, n, m, v, NULL, err, errlen) < 0) goto fail;
    hdr_free(lat);
    hdr_free(svc);
    return m;
fail:
    json_decref(m);
    json_decref(tl);
    hdr_free(lat);
    hdr_free(svc);
    return NULL;
}

/* ---- capacity documents ---------------------------------------------------------------------- */

static json_t *step_at(const part *p, int i) {
    return json_array_get(json_object_get(json_object_get(p->doc, "capacity"), "steps"), (size_t)i);
}

static int nsteps(const part *p) {
    return (int)json_array_size(json_object_get(json_object_get(p->doc, "capacity"), "steps"));
}

/* A merged step: the search's encoding (capacity_step_json) and its merged histogram. */
static json_t *merged_step_json(const capacity_step *s, const hdr_hist *h) {
    json_t *o = capacity_step_json(s);
    char *enc = hdr_encode_base64(h);
    json_object_set_new(o, "latency_hdr", enc ? json_string(enc) : json_null());
    free(enc);
    return o;
}

/* Merges step i (0-based) of every segment into *s; 0 or -1. */
static int merge_step(const part *p, int n, int i, capacity_step *s, hdr_hist **h, char *err,
                      size_t errlen) {
    memset(s, 0, sizeof *s);
    s->cpu_pct = s->rss_mib = s->backlog = s->drain_s = NAN;
    int64_t terr = 0;
    for (int k = 0; k < n; k++) {
        const json_t *x = step_at(&p[k], i);
        char where[48];
        snprintf(where, sizeof where, ".capacity.steps[%d]", i);
        double total = jx_num(x, "total_rps");
        if (!isfinite(total) || !json_is_integer(json_object_get(x, "transport_errors"))) {
            err_set(err, errlen,
                    "%s: %s has no total_rps or transport_errors (not a --segment run)", p[k].name,
                    where);
            return -1;
        }
        if (k == 0) {
            s->index = (int)jx_int(x, "index");
            s->rate = total;
            s->started_s = jx_num(x, "started_s");
            s->elapsed_s = jx_num(x, "elapsed_s");
        } else if (total != s->rate) {
            err_set(err, errlen,
                    "%s ran step %d at %.0f/s but %s at %.0f/s: the segments' searches differ",
                    p[0].name, i + 1, s->rate, p[k].name, total);
            return -1;
        }
        if (merge_hist(h, x, "latency_hdr", p[k].name, where, err, errlen) < 0) return -1;
        s->achieved_rps += jx_num(x, "achieved_rps");
        s->requests += jx_int(x, "requests");
        s->errors += jx_int(x, "errors");
        s->timeouts += jx_int(x, "timeouts");
        s->connections += (int)jx_int(x, "connections");
        terr += jx_int(x, "transport_errors");
        s->cpu_pct = max_nan(s->cpu_pct, jx_num(x, "service_cpu_pct"));
        s->rss_mib = max_nan(s->rss_mib, jx_num(x, "service_rss_mib"));
    }
    int64_t finished = s->requests + terr;
    s->error_rate = finished ? (double)s->errors / (double)finished : 0;
    s->p50_ms = (double)hdr_value_at_percentile(*h, 50) / 1000.0;
    s->p99_ms = (double)hdr_value_at_percentile(*h, 99) / 1000.0;
    s->max_ms = (double)hdr_max(*h) / 1000.0;
    return 0;
}

static void cap_params(const json_t *doc, capacity_params *cp) {
    capacity_params_default(cp);
    const json_t *cap = json_object_get(doc, "capacity");
    const json_t *crit = json_object_get(cap, "criteria");
    if (isfinite(jx_num(crit, "p99_limit_ms"))) cp->p99_limit_ms = jx_num(crit, "p99_limit_ms");
    if (isfinite(jx_num(crit, "error_limit"))) cp->error_limit = jx_num(crit, "error_limit");
    if (isfinite(jx_num(crit, "min_achieved"))) cp->min_achieved = jx_num(crit, "min_achieved");
    double f = jx_num(json_object_get(cap, "knee"), "factor");
    if (isfinite(f)) cp->knee_factor = f;
}

static json_t *merge_capacity(const part *p, int n, merge_verdicts *v, char *err, size_t errlen) {
    capacity_params cp;
    cap_params(p[0].doc, &cp);
    int common = nsteps(&p[0]), most = common;
    for (int k = 1; k < n; k++) {
        if (nsteps(&p[k]) < common) common = nsteps(&p[k]);
        if (nsteps(&p[k]) > most) most = nsteps(&p[k]);
    }
    if (common > CAPACITY_STEPS_MAX) common = CAPACITY_STEPS_MAX;
    capacity_result *r = calloc(1, sizeof *r);
    json_t *m = NULL, *steps = json_array(), *tl = NULL;
    if (!r) {
        err_set(err, errlen, "out of memory");
        goto fail;
    }
    r->first_bad_rps = r->resolution_rps = NAN;
    int first_bad = -1;
    for (int i = 0; i < common; i++) {
        capacity_step *s = &r->steps[i];
        hdr_hist *h = NULL;
        if (merge_step(p, n, i, s, &h, err, errlen) < 0) {
            hdr_free(h);
            goto fail;
        }
        capacity_judge(&cp, s);
        json_array_append_new(steps, merged_step_json(s, h));
        hdr_free(h);
        r->nsteps++;
        if (!s->good && first_bad < 0) first_bad = i;
    }
    /* steps only some segments ran: listed, not judged */
    for (int i = common; i < most; i++) {
        json_t *o = json_object(), *who = json_array();
        double rate = NAN;
        for (int k = 0; k < n; k++) {
            if (i >= nsteps(&p[k])) continue;
            json_array_append_new(who, json_integer(p[k].index + 1));
            if (isnan(rate)) rate = jx_num(step_at(&p[k], i), "total_rps");
        }
        json_object_set_new(o, "index", json_integer(i + 1));
        json_object_set_new(o, "offered_rps", jx_real3(rate));
        json_object_set_new(o, "verdict", json_string("incomplete"));
        json_object_set_new(o, "reason", json_string("not run by every segment: not judged"));
        json_object_set_new(o, "segments", who);
        json_array_append_new(steps, o);
    }
    /* the answer: the ramp rises, so the first bad merged step is the breaking point */
    const char *stop;
    char msg[400];
    for (int i = 0; i < r->nsteps && (first_bad < 0 || i < first_bad); i++)
        if (r->steps[i].good && r->steps[i].rate > r->max_sustainable_rps)
            r->max_sustainable_rps = r->steps[i].rate;
    if (first_bad >= 0) {
        r->first_bad_rps = r->steps[first_bad].rate;
        r->resolution_rps = r->first_bad_rps - r->max_sustainable_rps;
        if (first_bad == 0) {
            stop = capacity_stop_name(CAPACITY_FIRST_STEP);
            snprintf(msg, sizeof msg,
                     "the service broke at the first step, %.0f/s (%s): no sustainable rate found "
                     "by the %d segments together",
                     r->first_bad_rps, r->steps[0].reason, n);
        } else {
            stop = capacity_stop_name(CAPACITY_RESOLVED);
            snprintf(msg, sizeof msg,
                     "%d segments together sustain %.0f/s; break at %.0f/s (%s); resolution %.0f/s",
                     n, r->max_sustainable_rps, r->first_bad_rps, r->steps[first_bad].reason,
                     r->resolution_rps);
        }
    } else {
        const char *s0 = jx_str(json_object_get(p[0].doc, "capacity"), "stop");
        bool agree = common == most;
        for (int k = 1; k < n; k++)
            if (strcmp(jx_str(json_object_get(p[k].doc, "capacity"), "stop"), s0)) agree = false;
        stop = agree ? s0 : "segments_diverged";
        if (r->nsteps == 0)
            snprintf(msg, sizeof msg, "no step was run by every segment: nothing to judge");
        else if (agree)
            snprintf(msg, sizeof msg,
                     "%d segments together held every service level up to %.0f/s (stopped: %s)", n,
                     r->max_sustainable_rps, s0);
        else if (most == common + 1)
            snprintf(msg, sizeof msg,
                     "%d segments together sustain at least %.0f/s, but some segment stopped "
                     "there on its own view: step %d is incomplete (try a lower --factor)",
                     n, r->max_sustainable_rps, most);
        else
            snprintf(msg, sizeof msg,
                     "%d segments together sustain at least %.0f/s, but some segment stopped "
                     "there on its own view: steps %d to %d are incomplete (try a lower --factor)",
                     n, r->max_sustainable_rps, common + 1, most);
    }
    capacity_knee(&cp, r);

    char why[200];
    tl = merge_timeline(p, n, why, sizeof why, err, errlen);
    if (!tl) goto fail;
    m = json_object();
    put_head(m, p, n);
    bool interrupted = false;
    for (int k = 0; k < n; k++)
        if (json_is_true(json_object_get(json_object_get(p[k].doc, "stats"), "interrupted")))
            interrupted = true;
    json_object_set_new(m, "stats", capacity_stats_json(r, interrupted));
    json_object_set_new(m, "timeline", tl);
    tl = NULL;

    json_t *cap = json_object();
    json_object_set(cap, "criteria",
                    json_object_get(json_object_get(p[0].doc, "capacity"), "criteria"));
    json_object_set_new(cap, "steps", steps);
    steps = NULL;
    json_t *knee = json_deep_copy(json_object_get(json_object_get(p[0].doc, "capacity"), "knee"));
    capacity_results_json(cap, r, knee ? knee : json_object());
    json_object_set_new(cap, "stop", json_string(stop));
    json_object_set_new(cap, "message", json_string(msg));
    json_object_set_new(m, "capacity", cap);

    json_t *mi = json_object();
    json_object_set_new(mi, "segments", json_integer(n));
    json_object_set_new(mi, "aligned", json_boolean(aligned(p, n)));
    json_object_set_new(mi, "complete_steps", json_integer(common));
    json_object_set_new(mi, "timeline_percentiles", json_string(why[0] ? why : "merged"));
    json_object_set_new(m, "merge", mi);
    if (rejudge(p, n, m, v, msg, err, errlen) < 0) goto fail;
    free(r);
    return m;
fail:
    free(r);
    json_decref(steps);
    json_decref(tl);
    json_decref(m);
    return NULL;
}

/* ---- entry points ---------------------------------------------------------------------------- */

json_t *merge_docs(json_t *const *docs, const char *const *names, int n, merge_verdicts *v,
                   char *err, size_t errlen) {
    merge_verdicts local;
    if (!v) v = &local;
    v->n = 0;
    int count = 1; /* check_parts accepts one count, at most SEGMENT_MAX */
    for (int i = 0; i < n; i++) {
        const json_t *seg = json_object_get(json_object_get(docs[i], "config"), "segment");
        int64_t c = jx_int(seg, "count");
        if (c > count && c <= SEGMENT_MAX) count = (int)c;
    }
    part *parts = calloc((size_t)count, sizeof *parts);
    if (!parts) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    json_t *m = NULL;
    int np = check_parts(docs, names, n, parts, err, errlen);
    if (np > 0) {
        const json_t *d0 = parts[0].doc;
        if (json_object_get(d0, "capacity"))
            m = merge_capacity(parts, np, v, err, errlen);
        else
            m = merge_load(parts, np, v, err, errlen);
    }
    free(parts);
    return m;
}

static const cli_cmd merge_cli = {
    .name = "merge",
    .args = "FILE|DIR... [--json OUT] [--html OUT] [--junit OUT]",
    .summary =
        "Merges the result documents of the N segments of one test (each run with --segment I/N, "
        "usually on N machines and with a common --start-at) into one result document, exactly: "
        "latency histograms added bucket by bucket from their HdrHistogram encodings, counts "
        "summed, rates over the aligned window, timelines aligned by wall-clock second, and every "
        "threshold judged again on the merged numbers. A directory means every *.json in it. "
        "Works for brink load, brink webhook and brink capacity documents; see "
        "docs/distributed.md.\n"
        "\n"
        "Refused (exit 2, one line): a document that is not a segment, segments of different "
        "tests, targets or settings, a segment given twice or missing, a missing histogram.",
    .epilog = "Exit status: 0 merged, nothing red; 99 a merged threshold is red; 2 bad usage or "
              "documents that cannot be merged; 1 an output could not be written.",
    .missing = "no result documents given: brink merge FILE|DIR...",
    .min_args = 1,
    .max_args = -1,
};

static int write_html(FILE *out, const void *arg, char *err, size_t errlen) {
    json_t *const *doc = arg;
    const char *name = "merged";
    return html_write(out, doc, &name, 1, err, errlen);
}

static int write_junit(FILE *out, const void *arg, char *err, size_t errlen) {
    json_t *const *doc = arg;
    return junit_write(out, doc, 1, err, errlen);
}

static void print_summary(FILE *out, const json_t *m, const merge_verdicts *v) {
    const json_t *cfg = json_object_get(m, "config"), *st = json_object_get(m, "stats");
    size_t n = json_array_size(json_object_get(cfg, "merged_from"));
    fprintf(out, "brink merge — %s%s%s, %zu segments, %s\n", jx_str(m, "test"),
            jx_str(m, "profile")[0] ? " " : "", jx_str(m, "profile"), n, jx_str(m, "target"));
    if (json_object_get(m, "capacity")) {
        fprintf(out, "  %s\n", jx_str(json_object_get(m, "capacity"), "message"));
    } else {
        fprintf(out,
                "  requests %lld, %.1f/s over %.3f s; errors %lld (%.3g%%); latency p50 %.3f ms, "
                "p99 %.3f ms, max %.3f ms\n",
                (long long)jx_int(st, "requests"), jx_num(st, "rps"), jx_num(st, "send_window_s"),
                (long long)jx_int(st, "errors"), 100 * jx_num(st, "error_rate"),
                jx_num(st, "p50_ms"), jx_num(st, "p99_ms"), jx_num(st, "max_ms"));
    }
    const json_t *mi = json_object_get(m, "merge");
    if (!json_is_true(json_object_get(mi, "aligned")))
        fprintf(out, "  note: the segments did not start whole seconds apart (no common "
                     "--start-at): per-second values are approximate, totals are exact\n");
    const char *tp = jx_str(mi, "timeline_percentiles");
    if (tp[0] && strcmp(tp, "merged")) fprintf(out, "  note: per-second percentiles %s\n", tp);
    if (v->n) {
        fprintf(out, "\n  thresholds\n");
        threshold_print(out, v->r, v->n);
    }
}

int merge_main(int argc, char **argv, char *err, size_t errlen) {
    const char *json_out = NULL, *html = NULL, *junit = NULL;
    bool quiet = false;
    /* clang-format off */
    const cli_opt opts[] = {
        CLI_JSON_AS(&json_out, "write the merged document (brink.result/1, - for stdout)"),
        {.name = "html", .kind = CLI_STR, .dest = &html, .meta = "OUT",
         .help = "the HTML report of the merged document"},
        {.name = "junit", .kind = CLI_STR, .dest = &junit, .meta = "OUT",
         .help = "JUnit XML of the merged verdicts"},
        CLI_QUIET_AS(&quiet, "no terminal summary"),
        CLI_HELP,
    };
    /* clang-format on */
    const char *files[argc > 0 ? argc : 1];
    int nfiles;
    int prc =
        cli_parse(&merge_cli, opts, CLI_NOPTS(opts), argc, argv, files, argc, &nfiles, err, errlen);
    if (prc != CLI_OK) return prc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    int to_stdout = (json_out && !strcmp(json_out, "-")) + (html && !strcmp(html, "-")) +
                    (junit && !strcmp(junit, "-"));
    if (to_stdout > 1) {
        err_set(err, errlen, "only one of --json, --html and --junit can write to stdout");
        return EXIT_USAGE;
    }
    report_docs d = {0};
    for (int i = 0; i < nfiles; i++) {
        if (report_docs_load(files[i], &d, err, errlen) < 0) {
            report_docs_free(&d);
            return EXIT_USAGE;
        }
    }
    merge_verdicts *v = calloc(1, sizeof *v);
    json_t *m = v ? merge_docs(d.docs, (const char *const *)d.names, d.n, v, err, errlen) : NULL;
    if (!v) err_set(err, errlen, "out of memory");
    int rc = EXIT_USAGE;
    if (m) {
        if (!quiet) {
            FILE *out = to_stdout ? stderr : stdout;
            print_summary(out, m, v);
            fflush(out);
        }
        rc = threshold_worst(v->r, v->n) == TH_RED ? EXIT_THRESHOLDS : EXIT_OK;
        if ((json_out && jx_write_json(m, json_out, err, errlen) < 0) ||
            (html && jx_write_file(html, write_html, &m, err, errlen) < 0) ||
            (junit && jx_write_file(junit, write_junit, &m, err, errlen) < 0))
            rc = EXIT_FAILURE_;
        else if (rc == EXIT_THRESHOLDS)
            err_set(err, errlen, "a merged threshold is red");
    }
    json_decref(m);
    free(v);
    report_docs_free(&d);
    return rc;
}
