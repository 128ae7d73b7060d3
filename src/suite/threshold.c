/* threshold.c — the default thresholds (the original suite's table, and more) and their
 * evaluation. The bounds come from the suite's targets: webhook > 500 rps, p99 < 500 ms, errors
 * < 0.1 %, no race, Redis-outage errors < 1 %, DB recovery < 10 s — red where the target is
 * missed, orange where it is met with little margin. The remedies name the knob to turn. */
#include "suite/threshold.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const th_def defaults[] = {
    /* webhook load */
    {"rps", "webhook", "rps", TH_BELOW, 1000, 500, "achieved webhooks per second",
     "raise the service's worker threads and connection pool; queue the work (ingest into Redis, "
     "persist asynchronously) instead of writing to the database inside the request"},
    {"p50_ms", "webhook", "ms", TH_ABOVE, 50, 200, "median webhook latency",
     "the typical request is slow: profile the handler; move synchronous database writes behind a "
     "queue; check connection-pool waits"},
    {"p95_ms", "webhook", "ms", TH_ABOVE, 200, 400, "95th percentile webhook latency",
     "look for lock waits and pool exhaustion (pool in-use = pool size in /metrics)"},
    {"p99_ms", "webhook", "ms", TH_ABOVE, 250, 500, "99th percentile webhook latency",
     "tail latency: find the stalls in the timeline (GC, fsync, pool waits); add a timeout to "
     "every "
     "dependency call so that one slow call cannot hold a request"},
    {"p999_ms", "webhook", "ms", TH_ABOVE, 500, 1000, "99.9th percentile webhook latency",
     "rare stalls: check checkpoints/fsync of the database and Redis AOF rewrites in the timeline"},
    {"error_rate", "webhook", "fraction", TH_ABOVE, 0.0001, 0.001,
     "failed webhooks / all webhooks (errors < 0.1 %)",
     "read .errors and .status: 5xx mean the service or a dependency failed, 4xx a signing or "
     "schema problem, transport errors a saturated listener (raise backlog and max connections)"},
    {"timeouts", "webhook", "count", TH_ABOVE, 0, 10, "requests without an answer in time",
     "a request hung: give every Redis and PostgreSQL call a timeout and a circuit breaker"},
    {"availability", "webhook", "fraction", TH_BELOW, 0.9999, 0.999,
     "answered without error / all requests",
     "same causes as error_rate; compare the timeline's errors with dependency events"},
    /* capacity */
    {"max_sustainable_rps", "capacity", "rps", TH_BELOW, 1000, 500,
     "highest rate held within the service levels",
     "scale the bottleneck named by the knee: CPU-bound handlers → more threads or instances, "
     "pool waits → a bigger pool or PgBouncer, Redis latency → pipelining"},
    {"knee_p99_ms", "capacity", "ms", TH_ABOVE, 250, 500, "p99 at the knee of the latency curve",
     "the service degrades sharply past the knee: cap concurrency (admission control) below it"},
    /* vendor race */
    {"race_conditions", "race", "count", TH_ABOVE, 0, 0,
     "orders with more or less than one valid winner",
     "accept with one atomic conditional UPDATE ... WHERE status='open' RETURNING (or SELECT ... "
     "FOR UPDATE) in the same transaction as the assignment insert, plus a UNIQUE(order_id) "
     "constraint on the assignments"},
    {"win_rate", "race", "fraction", TH_BELOW, 1.0, 0.95, "orders with exactly one valid winner",
     "every contested order must end with exactly one winner: check errors and lost responses "
     "in the violations list"},
    {"resolution_avg_ms", "race", "ms", TH_ABOVE, 100, 500,
     "first accept sent → last answer received, average",
     "contention is resolved by locks: keep the accept transaction short (one statement), index "
     "orders by id, and avoid read-then-write round trips"},
    {"resolution_p99_ms", "race", "ms", TH_ABOVE, 250, 1000, "race resolution time, p99",
     "losers wait for the winner's transaction: shorten it; check lock waits in pg_stat_activity"},
    {"integrity", "race", "fraction", TH_BELOW, 1.0, 1.0,
     "orders whose stored winner equals the one the service announced",
     "the service answered one winner and stored another: write and answer from the same "
     "statement's RETURNING row"},
    {"race_error_rate", "race", "fraction", TH_ABOVE, 0, 0.01,
     "accepts that failed (5xx, timeouts)",
     "accept failed under contention: check pool size and statement_timeout"},
    /* redis failure */
    {"outage_error_rate", "redis", "fraction", TH_ABOVE, 0.01, 0.20,
     "failed webhooks while Redis is broken",
     "do not fail the request when Redis fails: a timeout on every Redis call (50 ms), a circuit "
     "breaker, and a fallback path (write to a PostgreSQL inbox table and drain it later)"},
    {"outage_p99_ms", "redis", "ms", TH_ABOVE, 500, 2000, "p99 while Redis is broken",
     "requests wait for Redis: set a short command timeout and open the breaker after a few "
     "failures instead of waiting for TCP timeouts"},
    {"max_backlog", "redis", "count", TH_ABOVE, 100, 1000, "largest queue (stream + inbox) seen",
     "the workers fall behind: more workers, larger batches (one multi-row INSERT per batch)"},
    {"recovery_s", "redis", "s", TH_ABOVE, 5, 30,
     "Redis ready again → service back to baseline errors and latency",
     "reconnect actively: a half-open probe every second, and a connection pool that replaces "
     "broken connections instead of reusing them"},
    {"drain_s", "redis", "s", TH_ABOVE, 10, 60, "time to drain the backlog after the fault",
     "drain faster: bigger batches, more workers, XAUTOCLAIM of entries left by dead consumers"},
    {"lost", "redis", "count", TH_ABOVE, 0, 0, "acknowledged webhooks that were never stored",
     "answer 2xx only after the webhook is durable (XADD acknowledged with AOF, or the inbox "
     "INSERT committed); ack stream entries only after the database insert committed"},
    {"duplicated", "redis", "count", TH_ABOVE, 0, 0, "webhooks stored more than once",
     "make the insert idempotent: a UNIQUE key on the webhook id with ON CONFLICT DO NOTHING"},
    /* db restart */
    {"recovery_s", "db", "s", TH_ABOVE, 10, 30,
     "PostgreSQL ready again → service serving accepts again",
     "detect broken connections by SQLSTATE class 08/57P and reconnect with a short backoff; run "
     "a health probe while the database is down instead of waiting for requests to fail"},
    {"success_rate", "db", "fraction", TH_BELOW, 0.99, 0.95, "requests that succeeded over the run",
     "keep ingest independent of the database (queue in Redis) and answer 503 with Retry-After "
     "fast instead of hanging"},
    {"pool_recovery_s", "db", "s", TH_ABOVE, 1, 10,
     "PostgreSQL ready → first successful accept (connection-pool recovery)",
     "the pool reconnects lazily: probe the database and replace dead connections eagerly"},
    {"lost", "db", "count", TH_ABOVE, 0, 0, "acknowledged webhooks that were never stored",
     "acknowledge only durable work; PostgreSQL must run with fsync=on and full_page_writes=on"},
    {"duplicated", "db", "count", TH_ABOVE, 0, 0, "webhooks stored more than once",
     "idempotent inserts keyed by the webhook id"},
    {"integrity_violations", "db", "count", TH_ABOVE, 0, 0,
     "half-done transactions: accepted orders without an assignment, or the reverse",
     "write the order update and the assignment in one transaction"},
    /* resources */
    {"service_cpu_pct", "resources", "%", TH_ABOVE, 80, 95,
     "service CPU use under load (of one core x cores)",
     "the service is CPU-bound: profile it; more instances behind a load balancer"},
    {"service_rss_mib", "resources", "MiB", TH_ABOVE, 512, 1024, "service resident memory",
     "memory grows with load: bound queues and buffers; look for leaks"},
};

const th_def *threshold_defaults(int *n) {
    *n = (int)(sizeof defaults / sizeof defaults[0]);
    return defaults;
}

const th_def *threshold_find(const char *test, const char *metric) {
    int n;
    const th_def *d = threshold_defaults(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(d[i].test, test) && !strcmp(d[i].metric, metric)) return &d[i];
    return NULL;
}

th_status threshold_eval(const th_def *d, double v) {
    if (isnan(v)) return TH_SKIPPED;
    if (d->dir == TH_ABOVE) {
        if (v > d->red) return TH_RED;
        if (v > d->orange) return TH_ORANGE;
    } else {
        if (v < d->red) return TH_RED;
        if (v < d->orange) return TH_ORANGE;
    }
    return TH_GREEN;
}

const char *threshold_status_name(th_status s) {
    switch (s) {
    case TH_GREEN: return "green";
    case TH_ORANGE: return "orange";
    case TH_RED: return "red";
    default: return "skipped";
    }
}

int threshold_judge(th_result *r, const char *test, const char *metric, double value,
                    const char *evidence) {
    const th_def *d = threshold_find(test, metric);
    if (!d) return -1;
    memset(r, 0, sizeof *r);
    r->def = *d;
    r->value = value;
    r->status = threshold_eval(d, value);
    snprintf(r->evidence, sizeof r->evidence, "%s", evidence ? evidence : "");
    return 0;
}

static json_t *num(double v) {
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

json_t *threshold_json(const th_result *rs, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "metric", json_string(rs[i].def.metric));
        json_object_set_new(o, "test", json_string(rs[i].def.test));
        json_object_set_new(o, "value", num(rs[i].value));
        json_object_set_new(o, "unit", json_string(rs[i].def.unit));
        json_object_set_new(o, "direction",
                            json_string(rs[i].def.dir == TH_ABOVE ? "above" : "below"));
        json_object_set_new(o, "orange", num(rs[i].def.orange));
        json_object_set_new(o, "red", num(rs[i].def.red));
        json_object_set_new(o, "status", json_string(threshold_status_name(rs[i].status)));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *threshold_advice_json(const th_result *rs, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        if (rs[i].status != TH_ORANGE && rs[i].status != TH_RED) continue;
        json_t *o = json_object();
        json_object_set_new(o, "metric", json_string(rs[i].def.metric));
        json_object_set_new(o, "status", json_string(threshold_status_name(rs[i].status)));
        json_object_set_new(o, "evidence", json_string(rs[i].evidence));
        json_object_set_new(o, "remedy", json_string(rs[i].def.remedy));
        json_array_append_new(a, o);
    }
    return a;
}

static bool plain_marks;

void threshold_set_plain(bool plain) {
    plain_marks = plain;
}

bool threshold_want_plain(FILE *out) {
    const char *nc = getenv("NO_COLOR");
    return (nc && nc[0]) || !isatty(fileno(out));
}

static const char *mark(th_status s) {
    if (plain_marks) {
        switch (s) {
        case TH_GREEN: return "GREEN ";
        case TH_ORANGE: return "ORANGE";
        case TH_RED: return "RED   ";
        default: return "SKIP  ";
        }
    }
    switch (s) {
    case TH_GREEN: return "🟢";
    case TH_ORANGE: return "🟠";
    case TH_RED: return "🔴";
    default: return "⚪";
    }
}

void threshold_format_value(char *out, size_t n, double v, const char *unit, const char *missing) {
    if (!isfinite(v))
        snprintf(out, n, "%s", missing);
    else if (!strcmp(unit, "fraction"))
        snprintf(out, n, "%.4g%%", v * 100);
    else if (!strcmp(unit, "count"))
        snprintf(out, n, "%.0f", v);
    else if (unit[0])
        snprintf(out, n, "%.4g %s", v, unit);
    else
        snprintf(out, n, "%.4g", v);
}

void threshold_print(FILE *out, const th_result *rs, int n) {
    for (int i = 0; i < n; i++) {
        const th_def *d = &rs[i].def;
        char v[48], o[48], r[48];
        threshold_format_value(v, sizeof v, rs[i].value, d->unit, "-");
        threshold_format_value(o, sizeof o, d->orange, d->unit, "-");
        threshold_format_value(r, sizeof r, d->red, d->unit, "-");
        const char *cmp = d->dir == TH_ABOVE ? ">" : "<";
        fprintf(out, "  %s %-22s %-14s (orange %s %s, red %s %s)\n", mark(rs[i].status), d->metric,
                v, cmp, o, cmp, r);
    }
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (rs[i].status != TH_ORANGE && rs[i].status != TH_RED) continue;
        if (!any) fprintf(out, "\n  advice\n");
        any = true;
        fprintf(out, "  %s %s: %s\n", mark(rs[i].status), rs[i].def.metric,
                rs[i].evidence[0] ? rs[i].evidence : rs[i].def.what);
        fprintf(out, "     → %s\n", rs[i].def.remedy);
    }
}

th_status threshold_worst(const th_result *rs, int n) {
    th_status w = TH_GREEN;
    for (int i = 0; i < n; i++)
        if (rs[i].status != TH_SKIPPED && rs[i].status > w) w = rs[i].status;
    return w;
}
