/* test_merge.c — unit tests for src/report/merge.c (`brink merge`) on synthetic segment
 * documents with known values, built the way the commands build them (load_report_json over an
 * engine_result, segment_doc, threshold_judge):
 *   - the merged latency histogram equals, bucket for bucket, one histogram of every sample, and
 *     the merged percentiles are that histogram's (not averages of the segments' percentiles);
 *   - counts, status codes and error classes are summed, rates taken over the aligned window;
 *   - timelines align by wall-clock second (offsets of whole seconds shift, others are marked
 *     not aligned), per-second percentiles come from merged per-second histograms, and a
 *     timeline without them is marked not mergeable instead of averaged;
 *   - verdicts are judged again: webhook's rps relative to the whole rate, a merged p99 that
 *     only one segment's tail makes red, overridden bounds kept;
 *   - capacity steps are merged and judged again; steps only some segments ran are incomplete;
 *   - every document that cannot be merged is refused with one line naming it;
 *   - merging one segment (1/1) gives back the segment's own numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/hdr.h"
#include "load/segment.h"
#include "report/merge.h"
#include "core/json.h"
#include "load/load_report.h"
#include "verdict/threshold.h"
#include "unit.h"

#define T0 (1767225600LL * NS_PER_S) /* a wall-clock start */

typedef struct synth {
    int index, count;   /* segment index (0-based) of count */
    int64_t start_ns;   /* wall clock */
    const int64_t *lat; /* latencies, µs: sample i falls in second i % seconds */
    int nlat;
    int seconds;
    int http_503; /* the first ones of the samples answered 503 */
    int refused;  /* transport errors besides */
    double rate;  /* the whole test's rate (config) */
    bool webhook; /* test webhook, judged as webhook.c does */
    int retries;  /* > 0: a retrying sender made this many retries, and gave the first event up
                   * in segment 0 */
    int retry_n;  /* the sender's retry count (its policy: 2 unless given) */
} synth;

static uint64_t lcg = 88172645463325252ULL;
static int64_t rnd(int64_t lo, int64_t hi) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (int64_t)((lcg >> 33) % (uint64_t)(hi - lo + 1));
}

static json_t *make_doc(const synth *s) {
    engine_result r;
    memset(&r, 0, sizeof r);
    r.start_wall_ns = s->start_ns;
    r.elapsed_s = s->seconds + 0.01;
    r.send_window_s = s->seconds;
    r.open_model = true;
    r.offered_rps = s->rate / s->count;
    r.scheduled = s->nlat + s->refused;
    r.sent = s->nlat + s->refused;
    r.responses = s->nlat;
    r.http_errors = s->http_503;
    r.transport_errors = s->refused;
    r.errors_by_class[ERR_CONNECT_REFUSED] = s->refused;
    if (s->refused) snprintf(r.first_error[ERR_CONNECT_REFUSED], 160, "Connection refused");
    r.status[200] = s->nlat - s->http_503;
    r.status[503] = s->http_503;
    r.bytes_read = 100LL * s->nlat;
    r.bytes_written = 50LL * s->nlat;
    r.connects = 2;
    r.threads = 1;
    r.connections = 2;
    r.seg = (segment){s->index, s->count};
    r.latency = hdr_new_default();
    r.service = hdr_new_default();
    r.nseconds = s->seconds;
    r.timeline = calloc((size_t)s->seconds, sizeof *r.timeline);
    hdr_hist **sec = calloc((size_t)s->seconds, sizeof *sec);
    assert_non_null(r.timeline);
    for (int k = 0; k < s->seconds; k++) sec[k] = hdr_new_default();
    for (int i = 0; i < s->nlat; i++) {
        int k = i % s->seconds;
        hdr_record(r.latency, s->lat[i]);
        hdr_record(r.service, s->lat[i] / 2 > 0 ? s->lat[i] / 2 : 1);
        hdr_record(sec[k], s->lat[i]);
        r.timeline[k].completed++;
        r.timeline[k].sent++;
        if (i < s->http_503) r.timeline[k].errors++;
    }
    for (int k = 0; k < s->seconds; k++) {
        engine_second *e = &r.timeline[k];
        e->index = k;
        e->length_s = 1;
        e->offered = s->rate / s->count;
        e->p50_us = hdr_value_at_percentile(sec[k], 50);
        e->p99_us = hdr_value_at_percentile(sec[k], 99);
        e->max_us = hdr_max(sec[k]);
        e->hdr = hdr_encode_base64(sec[k]);
        hdr_free(sec[k]);
    }
    free(sec);
    delivery_policy pol = {.name = "custom",
                           .retries = s->retry_n ? s->retry_n : 2,
                           .delay_ns = {100000000, 200000000, 400000000},
                           .scale = 1,
                           .duplicate_rate = 0.05,
                           .duplicate_window_ns = NS_PER_S};
    if (s->retries) { /* the events are the samples; segment 0 gave its first one up */
        int gave = s->index == 0;
        r.delivery = true;
        r.dl = (engine_delivery_counts){.events = s->nlat,
                                        .first_ok = s->nlat - s->http_503,
                                        .delivered = s->nlat - gave,
                                        .gave_up = gave,
                                        .retries = s->retries,
                                        .duplicates = 3,
                                        .duplicates_acked = 3,
                                        .attempts_max = 2 + s->index,
                                        .pending_max = 4};
        r.delivery_delay = hdr_new_default();
        for (int i = gave; i < s->nlat; i++) hdr_record(r.delivery_delay, s->lat[i]);
    }
    load_report_info info = {.url = "http://127.0.0.1:9/x",
                             .method = "POST",
                             .connections = 2,
                             .threads = 1,
                             .duration_s = s->seconds,
                             .timeout_s = 5,
                             .rate = s->rate,
                             .delivery = s->retries ? &pol : NULL,
                             .delivery_drain_s = 1};
    json_t *doc = load_report_json(&r, &info);
    segment_doc(doc, r.seg, s->start_ns);
    if (s->webhook) { /* as webhook.c judges a segment: its share of the rate */
        json_object_set_new(doc, "test", json_string("webhook"));
        json_object_set_new(doc, "profile", json_string("light"));
        json_t *st = json_object_get(doc, "stats");
        th_result v[3];
        double rps = json_number_value(json_object_get(st, "rps"));
        double share = s->rate / s->count;
        threshold_judge(&v[0], "webhook", "rps", rps, "");
        if (v[0].def.orange > 0.99 * share) v[0].def.orange = 0.99 * share;
        if (v[0].def.red > 0.97 * share) v[0].def.red = 0.97 * share;
        v[0].status = threshold_eval(&v[0].def, rps);
        threshold_judge(&v[1], "webhook", "p99_ms",
                        json_number_value(json_object_get(st, "p99_ms")), "");
        threshold_judge(&v[2], "webhook", "error_rate",
                        json_number_value(json_object_get(st, "error_rate")), "");
        json_object_set_new(doc, "thresholds", threshold_json(v, 3));
    }
    engine_result_free(&r);
    return doc;
}

/* The decoded histogram at doc.latency.corrected.hdr. */
static hdr_hist *decoded(const json_t *doc) {
    const char *b64 = json_string_value(
        json_object_get(json_object_get(json_object_get(doc, "latency"), "corrected"), "hdr"));
    assert_non_null(b64);
    char err[160];
    hdr_hist *h = hdr_decode_base64(b64, err, sizeof err);
    assert_non_null(h);
    return h;
}

static void assert_same_buckets(const hdr_hist *a, const hdr_hist *b) {
    assert_int_equal(a->counts_len, b->counts_len);
    assert_int_equal(hdr_total(a), hdr_total(b));
    for (int32_t i = 0; i < a->counts_len; i++)
        if (a->counts[i] != b->counts[i])
            fail_msg("bucket %d: %lld vs %lld", i, (long long)a->counts[i],
                     (long long)b->counts[i]);
}

static double stat(const json_t *doc, const char *k) {
    return json_number_value(json_object_get(json_object_get(doc, "stats"), k));
}

static json_t *merge(json_t **docs, int n, merge_verdicts *v, char *err, size_t errlen) {
    const char *names[8] = {"a.json", "b.json", "c.json", "d.json",
                            "e.json", "f.json", "g.json", "h.json"};
    return merge_docs(docs, names, n, v, err, errlen);
}

/* The merge of docs, which must succeed (v: NULL, or where the verdicts go). */
static json_t *merged(json_t **docs, int n, merge_verdicts *v) {
    char err[512] = "";
    json_t *m = merge(docs, n, v, err, sizeof err);
    if (!m) fail_msg("%s", err);
    return m;
}

/* The documents of segments a and b (into docs) and their merge, which must succeed. */
static json_t *merged_pair(const synth *a, const synth *b, json_t *docs[2]) {
    docs[0] = make_doc(a);
    docs[1] = make_doc(b);
    return merged(docs, 2, NULL);
}

/* n latencies drawn uniformly from lo..hi µs. */
static void fill(int64_t *lat, int n, int64_t lo, int64_t hi) {
    for (int i = 0; i < n; i++) lat[i] = rnd(lo, hi);
}

static void free_docs(json_t **docs, int n) {
    for (int i = 0; i < n; i++) json_decref(docs[i]);
}

/* ---- exactness ------------------------------------------------------------------------------- */

static void test_histograms_exact(void **state) {
    enum { N = 3, PER = 2000 };
    int64_t *vals[N];
    hdr_hist *all = hdr_new_default(), *sum = hdr_new_default();
    json_t *docs[N];
    for (int i = 0; i < N; i++) {
        vals[i] = malloc(PER * sizeof **vals);
        /* different distributions per segment: 1 ms..20 ms, 5..9 ms, 100 µs..3 s */
        for (int k = 0; k < PER; k++)
            vals[i][k] = i == 0 ? rnd(1000, 20000) : i == 1 ? rnd(5000, 9000) : rnd(100, 3000000);
        for (int k = 0; k < PER; k++) hdr_record(all, vals[i][k]);
        synth s = {i, N, T0, vals[i], PER, 4, 0, 0, 600, false, 0, 0};
        docs[(i + 1) % N] = make_doc(&s); /* any order */
    }
    for (int i = 0; i < N; i++) {
        hdr_hist *h = decoded(docs[i]);
        hdr_merge(sum, h);
        hdr_free(h);
    }
    merge_verdicts v;
    json_t *m = merged(docs, N, &v);
    hdr_hist *got = decoded(m);
    assert_same_buckets(got, all); /* one histogram of every sample */
    assert_same_buckets(got, sum); /* the sum of the segments' decoded histograms */
    static const struct {
        const char *k;
        double p;
    } pct[] = {{"p50_ms", 50}, {"p95_ms", 95}, {"p99_ms", 99}, {"p999_ms", 99.9}};
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++)
        assert_true(stat(m, pct[i].k) == (double)hdr_value_at_percentile(all, pct[i].p) / 1000.0);
    assert_true(stat(m, "max_ms") == (double)hdr_max(all) / 1000.0);
    assert_int_equal((int64_t)stat(m, "requests"), N * PER);
    hdr_free(got);
    hdr_free(all);
    hdr_free(sum);
    json_decref(m);
    free_docs(docs, N);
    for (int i = 0; i < N; i++) free(vals[i]);
}

/* A tail that only one segment saw decides the merged p99; averaging would hide it. */
static void test_percentiles_not_averaged(void **state) {
    int64_t fast[990], slow[10];
    for (int i = 0; i < 990; i++) fast[i] = 100;
    for (int i = 0; i < 10; i++) slow[i] = 800000; /* 800 ms */
    synth a = {0, 2, T0, fast, 990, 1, 0, 0, 400, true, 0, 0};
    synth b = {1, 2, T0, slow, 10, 1, 0, 0, 400, true, 0, 0};
    json_t *docs[2] = {make_doc(&a), make_doc(&b)};
    merge_verdicts v;
    json_t *m = merged(docs, 2, &v);
    /* rank ceil(0.99 * 1000) = 990 is the last fast sample; 99.9 % is slow */
    assert_true(stat(m, "p99_ms") == 0.1);
    assert_true(fabs(stat(m, "p999_ms") - 800.0) < 800 * 0.001);
    /* and the segments' own p99 averaged would be about 400 ms */
    double avg = (stat(docs[0], "p99_ms") + stat(docs[1], "p99_ms")) / 2;
    assert_true(avg > 300);
    json_decref(m);
    free_docs(docs, 2);
}

/* ---- counts, rates, timeline ----------------------------------------------------------------- */

static void test_counts_and_rates(void **state) {
    int64_t l1[300], l2[500];
    fill(l1, 300, 500, 5000);
    fill(l2, 500, 500, 5000);
    synth a = {0, 2, T0, l1, 300, 3, 7, 2, 250, false, 0, 0};
    synth b = {1, 2, T0, l2, 500, 3, 11, 5, 250, false, 0, 0};
    json_t *docs[2], *m = merged_pair(&a, &b, docs);
    assert_int_equal((int64_t)stat(m, "requests"), 800);
    assert_int_equal((int64_t)stat(m, "http_errors"), 18);
    assert_int_equal((int64_t)stat(m, "transport_errors"), 7);
    assert_int_equal((int64_t)stat(m, "errors"), 25);
    assert_true(fabs(stat(m, "error_rate") - 25.0 / 807.0) < 1e-12);
    assert_int_equal((int64_t)stat(m, "sent"), 807);
    assert_int_equal((int64_t)stat(m, "bytes_read"), 80000);
    /* both sent for 3 s from the same start: 800 over 3 s; offered rates add up */
    assert_true(fabs(stat(m, "rps") - 800.0 / 3) < 0.001);
    assert_true(stat(m, "offered_rps") == 250);
    const json_t *st = json_object_get(m, "status");
    assert_int_equal(json_integer_value(json_object_get(st, "200")), 800 - 18);
    assert_int_equal(json_integer_value(json_object_get(st, "503")), 18);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(m, "errors"), "connect_refused")), 7);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(m, "error_details"), "connect_refused")),
        "Connection refused");
    const json_t *cfg = json_object_get(m, "config");
    assert_null(json_object_get(cfg, "segment"));
    assert_int_equal(json_array_size(json_object_get(cfg, "merged_from")), 2);
    assert_int_equal(json_integer_value(json_object_get(cfg, "connections")), 4);
    assert_string_equal(json_string_value(json_object_get(m, "schema")), "brink.result/1");
    json_decref(m);
    free_docs(docs, 2);
}

/* A retrying sender's counts add up, its delay histograms merge exactly, the webhook rps is the
 * schedule's own deliveries (as webhook.c), and segments of different senders are refused. */
static void test_delivery(void **state) {
    int64_t l[2][500];
    synth sg[2];
    const int n[2] = {300, 500}, retries[2] = {20, 30}, e503[2] = {7, 11};
    for (int k = 0; k < 2; k++) { /* segment 1 is slower: the merged tail is its */
        fill(l[k], n[k], k ? 20000 : 500, k ? 90000 : 5000);
        sg[k] = (synth){k, 2, T0, l[k], n[k], 3, e503[k], 0, 250, true, retries[k], 0};
    }
    json_t *docs[2], *m = merged_pair(&sg[0], &sg[1], docs);
    assert_int_equal((int64_t)stat(m, "events"), 800);
    assert_true(fabs(stat(m, "eventual_delivery_rate") - 799.0 / 800) < 1e-6);
    assert_true(fabs(stat(m, "first_attempt_success_rate") - 782.0 / 800) < 1e-6);
    assert_int_equal((int64_t)stat(m, "gave_up"), 1);
    assert_int_equal((int64_t)stat(m, "retries"), 50);
    assert_int_equal((int64_t)stat(m, "duplicates_sent"), 6);
    assert_int_equal((int64_t)stat(m, "attempts_per_event_max"), 3);
    assert_true(fabs(stat(m, "attempts_per_event") - 850.0 / 800) < 0.001);
    /* the delay's p99: one histogram of every delivered event's delay (segment 0's without its
     * first) */
    hdr_hist *all = hdr_new_default();
    for (int i = 1; i < 300; i++) hdr_record(all, l[0][i]);
    for (int i = 0; i < 500; i++) hdr_record(all, l[1][i]);
    assert_true(fabs(stat(m, "delivery_delay_p99_s") - hdr_value_at_percentile(all, 99) / 1e6) <
                1e-6);
    assert_true(fabs(stat(m, "delivery_delay_max_s") - hdr_max(all) / 1e6) < 1e-6);
    hdr_free(all);
    const json_t *dl = json_object_get(m, "delivery");
    assert_string_equal(json_string_value(json_object_get(dl, "policy")), "custom");
    assert_int_equal(json_integer_value(json_object_get(dl, "acknowledged")), 799);
    assert_int_equal(json_integer_value(json_object_get(dl, "duplicates_acknowledged")), 6);
    /* 800 answers less 50 retries and 6 duplicates, over the 3 s schedule */
    assert_true(fabs(stat(m, "rps") - 744.0 / 3) < 0.001);
    const json_t *dropped = json_object_get(json_object_get(m, "merge"), "dropped_stats");
    size_t i;
    json_t *k;
    json_array_foreach(dropped, i, k) {
        if (strstr(json_string_value(k), "deliver") || strstr(json_string_value(k), "retr"))
            fail_msg("dropped: %s", json_string_value(k));
    }
    json_decref(m);
    free_docs(docs, 2);
    /* another sender in one segment: not one test */
    sg[1].retry_n = 3;
    docs[0] = make_doc(&sg[0]);
    docs[1] = make_doc(&sg[1]);
    char err[512] = "";
    assert_null(merge(docs, 2, NULL, err, sizeof err));
    if (!strstr(err, "b.json were sent by different senders (.delivery.retry_schedule_s)"))
        fail_msg("got: %s", err);
    free_docs(docs, 2);
}

static void test_timeline_aligned(void **state) {
    int64_t l1[400], l2[400];
    fill(l1, 400, 100, 1000);
    fill(l2, 400, 20000, 90000);
    /* b started one second after a: its second 0 is a's second 1 */
    synth a = {0, 2, T0, l1, 400, 4, 0, 0, 200, false, 0, 0};
    synth b = {1, 2, T0 + NS_PER_S, l2, 400, 4, 0, 0, 200, false, 0, 0};
    json_t *docs[2], *m = merged_pair(&a, &b, docs);
    assert_true(json_is_true(json_object_get(json_object_get(m, "merge"), "aligned")));
    json_t *tl = json_object_get(m, "timeline");
    assert_int_equal(json_array_size(tl), 5);
    int64_t expect[5] = {100, 200, 200, 200, 100};
    for (int s = 0; s < 5; s++) {
        json_t *e = json_array_get(tl, (size_t)s);
        assert_int_equal(json_integer_value(json_object_get(e, "t")), s);
        assert_int_equal(json_integer_value(json_object_get(e, "completed")), expect[s]);
        /* this second's percentiles: one histogram of both segments' samples in it */
        hdr_hist *h = hdr_new_default();
        for (int i = 0; i < 400; i++) {
            if (i % 4 == s) hdr_record(h, l1[i]);
            if (i % 4 + 1 == s) hdr_record(h, l2[i]);
        }
        assert_true(json_number_value(json_object_get(e, "p99_ms")) ==
                    (double)hdr_value_at_percentile(h, 99) / 1000.0);
        assert_true(json_number_value(json_object_get(e, "p50_ms")) ==
                    (double)hdr_value_at_percentile(h, 50) / 1000.0);
        hdr_free(h);
    }
    /* the window: a's start to b's end of sending, 5 s */
    assert_true(fabs(stat(m, "rps") - 800.0 / 5) < 0.001);
    json_decref(m);
    free_docs(docs, 2);
}

static void test_timeline_unaligned_and_unmergeable(void **state) {
    int64_t l[200];
    fill(l, 200, 100, 1000);
    synth a = {0, 2, T0, l, 200, 2, 0, 0, 200, false, 0, 0};
    synth b = {1, 2, T0 + NS_PER_S / 2, l, 200, 2, 0, 0, 200, false, 0, 0};
    json_t *docs[2], *m = merged_pair(&a, &b, docs);
    assert_true(json_is_false(json_object_get(json_object_get(m, "merge"), "aligned")));
    int64_t total = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(m, "timeline"), i, e) total +=
        json_integer_value(json_object_get(e, "completed"));
    assert_int_equal(total, 400); /* totals stay exact */
    json_decref(m);
    /* a sample without its histogram: percentiles null, marked, never averaged */
    json_object_del(json_array_get(json_object_get(docs[1], "timeline"), 1), "hdr");
    m = merged(docs, 2, NULL);
    const char *tp =
        json_string_value(json_object_get(json_object_get(m, "merge"), "timeline_percentiles"));
    assert_non_null(strstr(tp, "not mergeable"));
    assert_non_null(strstr(tp, "b.json"));
    json_array_foreach(json_object_get(m, "timeline"), i, e) {
        assert_true(json_is_null(json_object_get(e, "p99_ms")));
        assert_true(json_is_null(json_object_get(e, "p50_ms")));
    }
    json_decref(m);
    free_docs(docs, 2);
}

/* ---- verdicts -------------------------------------------------------------------------------- */

static const json_t *verdict(const json_t *m, const char *metric) {
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(m, "thresholds"), i, t) {
        if (!strcmp(json_string_value(json_object_get(t, "metric")), metric)) return t;
    }
    fail_msg("no verdict for %s", metric);
    return NULL;
}

static const char *status_of(const json_t *m, const char *metric) {
    return json_string_value(json_object_get(verdict(m, metric), "status"));
}

static void test_rejudge_webhook(void **state) {
    int64_t fast[600], slow[600];
    fill(fast, 600, 1000, 3000);
    for (int i = 0; i < 600; i++) slow[i] = i < 30 ? 700000 : rnd(1000, 3000); /* 5 % at 700 ms */
    synth a = {0, 2, T0, fast, 600, 3, 0, 0, 400, true, 0, 0};
    synth b = {1, 2, T0, slow, 600, 3, 0, 0, 400, true, 0, 0};
    json_t *docs[2] = {make_doc(&a), make_doc(&b)};
    assert_string_equal(status_of(docs[0], "p99_ms"), "green");
    assert_string_equal(status_of(docs[1], "p99_ms"), "red");
    char err[512] = "";
    merge_verdicts v;
    json_t *m = merged(docs, 2, &v);
    /* 2.5 % of all samples at 700 ms: the merged p99 is red */
    assert_string_equal(status_of(m, "p99_ms"), "red");
    assert_int_equal(threshold_worst(v.r, v.n), TH_RED);
    assert_int_equal(v.n, 3);
    /* rps is judged against the whole rate (400/s), not a segment's 200/s */
    const json_t *rps = verdict(m, "rps");
    assert_true(fabs(json_number_value(json_object_get(rps, "orange")) - 396) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(rps, "red")) - 388) < 1e-9);
    assert_string_equal(status_of(m, "rps"), "green"); /* 1200 over 3 s */
    int seen = 0;
    for (int i = 0; i < v.n; i++)
        if (!strcmp(v.r[i].def.metric, "rps") && ++seen)
            assert_string_equal(v.r[i].evidence,
                                "achieved 400.0/s of 400.0/s offered (100.0%) by 2 segments "
                                "together");
    assert_int_equal(seen, 1);
    /* advice for the red verdict, with merged evidence */
    json_t *adv = json_array_get(json_object_get(m, "advice"), 0);
    assert_non_null(adv);
    assert_non_null(strstr(json_string_value(json_object_get(adv, "evidence")), "2 segments"));
    json_decref(m);

    /* overridden bounds (brink.yaml) stay the user's */
    for (int k = 0; k < 2; k++) {
        json_t *t = (json_t *)verdict(docs[k], "p99_ms");
        json_object_set_new(t, "overridden", json_true());
        json_object_set_new(t, "orange", json_real(600));
        json_object_set_new(t, "red", json_real(900));
    }
    m = merged(docs, 2, &v);
    assert_string_equal(status_of(m, "p99_ms"), "orange");
    assert_true(json_is_true(json_object_get(verdict(m, "p99_ms"), "overridden")));
    json_decref(m);
    /* ... which must be the same in every segment */
    json_object_set_new((json_t *)verdict(docs[1], "p99_ms"), "red", json_real(950));
    m = merge(docs, 2, &v, err, sizeof err);
    assert_null(m);
    assert_non_null(strstr(err, "different bounds for webhook.p99_ms"));
    free_docs(docs, 2);
}

/* One segment of one (1/1): the merge gives back its numbers and verdicts. */
static void test_single_segment_identity(void **state) {
    int64_t l[777];
    fill(l, 777, 200, 90000);
    synth a = {0, 1, T0, l, 777, 3, 5, 1, 300, true, 0, 0};
    json_t *doc = make_doc(&a);
    json_t *m = merged(&doc, 1, NULL);
    const char *k;
    json_t *val;
    json_object_foreach(json_object_get(doc, "stats"), k, val) {
        if (!json_equal(val, json_object_get(json_object_get(m, "stats"), k)))
            fail_msg("stats.%s differs", k);
    }
    assert_true(json_equal(json_object_get(doc, "latency"), json_object_get(m, "latency")));
    assert_true(json_equal(json_object_get(doc, "status"), json_object_get(m, "status")));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "thresholds"), i, t) {
        const char *metric = json_string_value(json_object_get(t, "metric"));
        assert_string_equal(json_string_value(json_object_get(t, "status")), status_of(m, metric));
    }
    json_decref(m);
    json_decref(doc);
}

/* ---- refusals -------------------------------------------------------------------------------- */

static void refused(json_t **docs, int n, const char *want) {
    char err[512] = "";
    json_t *m = merge(docs, n, NULL, err, sizeof err);
    if (m) {
        json_decref(m);
        fail_msg("merged, want a refusal with '%s'", want);
    }
    if (!strstr(err, want)) fail_msg("error '%s' lacks '%s'", err, want);
    assert_null(strchr(err, '\n'));
}

static void test_refusals(void **state) {
    int64_t l[50];
    fill(l, 50, 100, 1000);
    json_t *d[4];
    synth s[4];
    for (int i = 0; i < 4; i++) s[i] = (synth){i, 3, T0, l, 50, 1, 0, 0, 90, false, 0, 0};
    for (int i = 0; i < 3; i++) d[i] = make_doc(&s[i]);
    refused(d, 0, "no documents");
    json_t *two[2] = {d[0], d[2]};
    refused(two, 2, "segment 2/3 is missing");
    refused(d, 1, "segments 2/3, 3/3 are missing");
    json_t *dup[3] = {d[0], d[1], d[1]};
    refused(dup, 3, "b.json and c.json are both segment 2/3");
    /* a different count */
    synth o = {1, 4, T0, l, 50, 1, 0, 0, 90, false, 0, 0};
    d[3] = make_doc(&o);
    json_t *cnt[2] = {d[0], d[3]};
    refused(cnt, 2, "b.json is a segment of 4 but a.json of 3");
    json_decref(d[3]);
    /* not a segment */
    d[3] = json_deep_copy(d[2]);
    json_object_del(json_object_get(d[3], "config"), "segment");
    json_t *ns[3] = {d[0], d[1], d[3]};
    refused(ns, 3, "c.json is not a segment");
    json_decref(d[3]);
    /* a different test, target, or setting */
    d[3] = json_deep_copy(d[2]);
    json_object_set_new(d[3], "test", json_string("webhook"));
    json_t *x[3] = {d[0], d[1], d[3]};
    refused(x, 3, "not one test");
    json_object_set_new(d[3], "test", json_string("load"));
    json_object_set_new(d[3], "target", json_string("http://elsewhere/"));
    refused(x, 3, "c.json targets http://elsewhere/");
    json_object_set(d[3], "target", json_object_get(d[2], "target"));
    json_object_set_new(json_object_get(d[3], "config"), "rate", json_real(91));
    refused(x, 3, ".config.rate (90.0 vs 91.0)");
    json_object_set_new(json_object_get(d[3], "config"), "rate", json_real(90));
    /* per-process settings may differ */
    json_object_set_new(json_object_get(d[3], "config"), "connections", json_integer(7));
    json_object_set_new(json_object_get(d[3], "config"), "threads", json_integer(3));
    /* a number is the same setting written 5 or 5.0 (documents that went through jq) */
    json_object_set_new(json_object_get(d[3], "config"), "timeout_s", json_integer(5));
    json_t *m = merged(x, 3, NULL);
    json_decref(m);
    /* histograms missing or broken */
    json_t *cor = json_object_get(json_object_get(d[3], "latency"), "corrected");
    json_object_del(cor, "hdr");
    refused(x, 3, "c.json: .latency.corrected.hdr is missing");
    json_object_set_new(cor, "hdr", json_string("HISTFAAAAnotahistogram"));
    refused(x, 3, "c.json: .latency.corrected.hdr is not an HdrHistogram");
    json_decref(d[3]);
    /* a test merge does not add up */
    d[3] = json_pack("{s:s, s:s, s:{s:{s:i, s:i}}}", "schema", "brink.result/1", "test", "race",
                     "config", "segment", "index", 1, "count", 1);
    refused(&d[3], 1, "not race ones");
    json_decref(d[3]);
    free_docs(d, 3);
}

/* ---- capacity -------------------------------------------------------------------------------- */

typedef struct cstep {
    double total;   /* the step's whole rate */
    int64_t lo, hi; /* latencies, µs, uniform */
    int n;          /* samples */
    int errors;
} cstep;

/* A capacity segment document as webhook_stress.c writes one in a plan. */
static json_t *cap_doc(int index, int count, const cstep *steps, int nsteps, const char *stop) {
    json_t *doc = json_pack("{s:s, s:s, s:n, s:s, s:f, s:s}", "schema", "brink.result/1", "test",
                            "capacity", "profile", "started_at", "2026-01-01T00:00:00.000Z",
                            "duration_s", 30.0, "target", "http://127.0.0.1:9/webhooks/orders");
    json_t *cfg = json_pack("{s:s, s:{s:f, s:f, s:f}, s:s}", "url",
                            "http://127.0.0.1:9/webhooks/orders", "search", "start_rps", 100.0,
                            "factor", 2.0, "max_rps", 1600.0, "run_id", index ? "wbbbb" : "waaaa");
    json_object_set_new(doc, "config", cfg);
    segment_doc(doc, (segment){index, count}, T0);
    json_t *arr = json_array(), *tl = json_array();
    for (int i = 0; i < nsteps; i++) {
        hdr_hist *h = hdr_new_default();
        for (int k = 0; k < steps[i].n; k++) hdr_record(h, rnd(steps[i].lo, steps[i].hi));
        char *enc = hdr_encode_base64(h);
        json_t *s = json_pack(
            "{s:i, s:s, s:f, s:f, s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:f, s:s, s:s}", "index",
            i + 1, "phase", "ramp", "started_s", 6.0 * i, "total_rps", steps[i].total,
            "offered_rps", steps[i].total / count, "achieved_rps", (double)steps[i].n / 5,
            "requests", steps[i].n, "errors", steps[i].errors, "transport_errors", 0, "timeouts", 0,
            "connections", 16, "elapsed_s", 6.0, "verdict", "good", "latency_hdr", enc);
        json_array_append_new(arr, s);
        json_t *e = json_pack("{s:f, s:f, s:s, s:i, s:i, s:i, s:s}", "t", 6.0 * i, "length_s", 1.0,
                              "phase", "step", "sent", steps[i].n, "completed", steps[i].n,
                              "errors", steps[i].errors, "hdr", enc);
        json_array_append_new(tl, e);
        free(enc);
        hdr_free(h);
    }
    json_t *cap = json_pack("{s:{s:f, s:f, s:f}, s:o, s:{s:f}, s:s}", "criteria", "p99_limit_ms",
                            500.0, "error_limit", 0.001, "min_achieved", 0.97, "steps", arr, "knee",
                            "factor", 2.0, "stop", stop);
    json_object_set_new(doc, "capacity", cap);
    json_object_set_new(doc, "timeline", tl);
    th_result v;
    threshold_judge(&v, "capacity", "max_sustainable_rps", 0, "");
    json_object_set_new(doc, "thresholds", threshold_json(&v, 1));
    json_object_set_new(doc, "stats", json_pack("{s:b}", "interrupted", 0));
    return doc;
}

static const json_t *cap_step(const json_t *m, int i) {
    return json_array_get(json_object_get(json_object_get(m, "capacity"), "steps"), (size_t)i);
}

static void test_capacity(void **state) {
    /* step 3 breaks in segment 1's view only (its tail); segment 2 went on to step 4 */
    cstep a[3] = {
        {100, 1000, 5000, 250, 0}, {200, 1000, 5000, 500, 0}, {400, 1000, 900000, 1000, 0}};
    cstep b[4] = {{100, 1000, 5000, 250, 0},
                  {200, 1000, 5000, 500, 0},
                  {400, 1000, 5000, 1000, 0},
                  {800, 1000, 5000, 2000, 0}};
    json_t *docs[2] = {cap_doc(0, 2, a, 3, "resolved"), cap_doc(1, 2, b, 4, "max_steps")};
    merge_verdicts v;
    json_t *m = merged(docs, 2, &v);
    /* step 3 merged: half of the samples up to 900 ms, p99 far above 500 ms: bad */
    assert_string_equal(json_string_value(json_object_get(cap_step(m, 2), "verdict")), "bad");
    assert_int_equal(json_integer_value(json_object_get(cap_step(m, 2), "requests")), 2000);
    assert_true(json_number_value(json_object_get(cap_step(m, 2), "offered_rps")) == 400);
    /* the search's own step encoding (capacity_step_json), with what segments cannot know: a
     * segment does not wait for the backlog, so backlog_after and drain_s are null, not absent */
    for (int i = 0; i < 3; i++) {
        assert_true(json_is_null(json_object_get(cap_step(m, i), "backlog_after")));
        assert_true(json_is_null(json_object_get(cap_step(m, i), "drain_s")));
        assert_true(json_is_string(json_object_get(cap_step(m, i), "latency_hdr")));
    }
    assert_string_equal(json_string_value(json_object_get(cap_step(m, 3), "verdict")),
                        "incomplete");
    assert_true(stat(m, "max_sustainable_rps") == 200);
    assert_true(stat(m, "first_bad_rps") == 400);
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "capacity"), "stop")),
                        "resolved");
    assert_int_equal(v.n, 1);
    assert_string_equal(status_of(m, "max_sustainable_rps"), "red"); /* 200/s < 500/s */
    /* the merged step's p99 is that of one histogram of both segments' samples */
    hdr_hist *h = NULL;
    for (int k = 0; k < 2; k++) {
        char e2[160];
        hdr_hist *x = hdr_decode_base64(
            json_string_value(json_object_get(
                json_array_get(json_object_get(json_object_get(docs[k], "capacity"), "steps"), 2),
                "latency_hdr")),
            e2, sizeof e2);
        assert_non_null(x);
        if (!h) h = hdr_new_like(x);
        hdr_merge(h, x);
        hdr_free(x);
    }
    assert_true(fabs(json_number_value(json_object_get(cap_step(m, 2), "p99_ms")) -
                     (double)hdr_value_at_percentile(h, 99) / 1000.0) < 0.0011);
    hdr_free(h);
    json_decref(m);
    free_docs(docs, 2);

    /* segment 1 stopped at step 2 on its own view, but merged the step holds: diverged */
    cstep c[2] = {{100, 1000, 5000, 250, 0}, {200, 1000, 5000, 500, 1}};
    cstep d[3] = {
        {100, 1000, 5000, 250, 0}, {200, 1000, 5000, 5000, 0}, {400, 1000, 5000, 1000, 0}};
    json_t *docs2[2] = {cap_doc(0, 2, c, 2, "resolved"), cap_doc(1, 2, d, 3, "max_steps")};
    m = merged(docs2, 2, &v);
    assert_string_equal(json_string_value(json_object_get(cap_step(m, 1), "verdict")), "good");
    assert_string_equal(json_string_value(json_object_get(json_object_get(m, "capacity"), "stop")),
                        "segments_diverged");
    assert_true(stat(m, "max_sustainable_rps") == 200);
    assert_true(json_is_null(json_object_get(json_object_get(m, "stats"), "first_bad_rps")));
    json_decref(m);
    /* steps at different rates are not one search */
    json_object_set_new((json_t *)json_array_get(
                            json_object_get(json_object_get(docs2[1], "capacity"), "steps"), 1),
                        "total_rps", json_real(300));
    refused(docs2, 2, "ran step 2 at 200/s but b.json at 300/s");
    json_object_del((json_t *)json_array_get(
                        json_object_get(json_object_get(docs2[1], "capacity"), "steps"), 0),
                    "latency_hdr");
    refused(docs2, 2, "b.json: .capacity.steps[0].latency_hdr is missing");
    free_docs(docs2, 2);
}

/* --threshold's list of load metrics (load_report_stat_names) is what load_report_json writes:
 * every number of a document with a sender is on the list, and every name on the plain part is
 * in a document without one. */
static void test_stat_names(void **state) {
    int64_t l[100];
    fill(l, 100, 100, 1000);
    for (int sender = 0; sender < 2; sender++) {
        synth s = {0, 1, T0, l, 100, 2, 0, 0, 100, false, sender ? 5 : 0, 0};
        json_t *doc = make_doc(&s);
        int n;
        const char *const *names = load_report_stat_names(sender, &n);
        const json_t *st = json_object_get(doc, "stats");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)st, k, v) {
            if (!json_is_number(v) && !json_is_null(v)) continue;
            bool listed = false;
            for (int i = 0; i < n && !listed; i++) listed = !strcmp(names[i], k);
            if (!listed) fail_msg(".stats.%s is not in load_report_stat_names", k);
        }
        for (int i = 0; i < n; i++)
            if (!json_object_get(st, names[i])) fail_msg("%s is listed but not written", names[i]);
        json_decref(doc);
    }
}

UNIT_MAIN(test_histograms_exact, test_percentiles_not_averaged, test_counts_and_rates,
          test_delivery, test_timeline_aligned, test_timeline_unaligned_and_unmergeable,
          test_rejudge_webhook, test_single_segment_identity, test_refusals, test_capacity,
          test_stat_names)
