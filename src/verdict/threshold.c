/* threshold.c — the default thresholds (the original suite's table, and more) and their
 * evaluation. The bounds come from the suite's targets: webhook > 500 rps, p99 < 500 ms, errors
 * < 0.1 %, no race, Redis-outage errors < 1 %, DB recovery < 10 s. Most are red where the target
 * is missed and orange where it is met with little margin; two keep the original suite's own red
 * bound and make the target the orange one: outage_error_rate (target 1 %, red 20 %) and the db
 * recovery_s (target 10 s, red 30 s). The remedies name the knob to turn. */
#include "verdict/threshold.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/json.h"

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
     "same causes as error_rate; find the seconds in the timeline where the errors are and "
     "compare them with the service's logs and /metrics (pool waits, circuit state)"},
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
     "decide the winner in one atomic step: a conditional update that succeeds only while the "
     "order is open (or a row lock taken before the check), in the same transaction as the "
     "assignment, plus a unique constraint on the assignment (dispatchd: UPDATE orders ... WHERE "
     "status='open' RETURNING, UNIQUE(order_id) on order_assignments)"},
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
     "the backlog waits for the workers: if Redis was reachable, they fall behind — more workers, "
     "larger batches (one multi-row INSERT per batch); if it was not (black hole, pause), the "
     "stream waits for Redis by design — keep the fault short or drain the inbox faster"},
    {"recovery_s", "redis", "s", TH_ABOVE, 5, 30,
     "Redis ready again → service back to baseline errors and latency",
     "reconnect actively: a half-open probe every second, and a connection pool that replaces "
     "broken connections instead of reusing them"},
    {"drain_s", "redis", "s", TH_ABOVE, 10, 60, "time to drain the backlog after the fault",
     "drain faster: more consumers, bigger batches, and take over the work a dead consumer held "
     "(dispatchd: XAUTOCLAIM of stream entries left pending)"},
    {"lost", "redis", "count", TH_ABOVE, 0, 0, "acknowledged webhooks that were never stored",
     "answer 2xx only after the webhook is durable, and take it off the queue only after it is "
     "stored (dispatchd: XADD with AOF, or the inbox INSERT committed; stream entries acked after "
     "the INSERT committed)"},
    {"duplicated", "redis", "count", TH_ABOVE, 0, 0, "webhooks stored more than once",
     "make the store idempotent: a unique key on the webhook id, a repeated one ignored "
     "(dispatchd: UNIQUE(webhook_id) with ON CONFLICT DO NOTHING)"},
    /* db restart */
    {"recovery_s", "db", "s", TH_ABOVE, 10, 30,
     "PostgreSQL ready again → service back to baseline errors and latency (all traffic)",
     "detect broken connections by SQLSTATE class 08/57P and reconnect with a short backoff; run "
     "a health probe while the database is down instead of waiting for requests to fail"},
    {"success_rate", "db", "fraction", TH_BELOW, 0.99, 0.95, "webhooks that succeeded over the run",
     "keep ingest independent of the database (queue in Redis) and answer 503 with Retry-After "
     "fast instead of hanging"},
    {"pool_recovery_s", "db", "s", TH_ABOVE, 1, 10,
     "PostgreSQL ready → first successful accept (connection-pool recovery)",
     "accepts fail after the database is back: broken pooled connections are reused or replaced "
     "only slowly — detect them by SQLSTATE (08xxx, 57Pxx), replace them with a short backoff, and "
     "probe the database while it is down"},
    {"lost", "db", "count", TH_ABOVE, 0, 0, "acknowledged webhooks that were never stored",
     "acknowledge only durable work; PostgreSQL must run with fsync=on and full_page_writes=on"},
    {"duplicated", "db", "count", TH_ABOVE, 0, 0, "webhooks stored more than once",
     "idempotent inserts keyed by the webhook id"},
    {"integrity_violations", "redis", "count", TH_ABOVE, 0, 0,
     "half-done transactions: rows the integrity queries find inconsistent",
     "write the rows that belong together in one transaction (dispatchd: the order's update and "
     "its assignment)"},
    {"integrity_violations", "db", "count", TH_ABOVE, 0, 0,
     "half-done transactions: rows the integrity queries find inconsistent",
     "write the rows that belong together in one transaction (dispatchd: the order's update and "
     "its assignment)"},
    /* a sender that retries (--delivery, --retry-schedule) */
    {"eventual_delivery_rate", "delivery", "fraction", TH_BELOW, 1.0, 0.999,
     "events acknowledged (2xx) in the end, at any attempt",
     "events the sender could not get acknowledged are lost on the sender's side: answer 2xx as "
     "soon as the event is durably queued, answer 5xx (or 429 with Retry-After) only when a "
     "retry will succeed, and never a 4xx for an event that is valid"},
    {"gave_up", "delivery", "count", TH_ABOVE, 0, 0, "events whose every attempt failed",
     "the sender ran out of retries: the service failed the same event on every attempt — look "
     "at the statuses of the last attempts; a deterministic failure (a bug, a 4xx, a poison "
     "event) needs a fix, a long outage a fallback that still takes webhooks"},
    {"delivery_delay_p99_s", "delivery", "s", TH_ABOVE, 1, 10,
     "an event's first due time → its first 2xx, p99 (retries' waits included)",
     "events wait for retries: fewer failed first attempts (the error_rate's causes) shorten it "
     "more than anything the sender does"},
    /* the retry storm after a fault (redis-failure, db-restart with a retrying sender) */
    {"storm_error_rate", "storm", "fraction", TH_ABOVE, 0.01, 0.05,
     "failed attempts while the retries owed from the outage came on top of the live traffic",
     "after an outage every sender retries at once: keep headroom for the burst (storm_peak_ratio "
     "x the usual rate), take webhooks into a durable queue first so that a burst costs queue "
     "depth rather than errors, and when full shed with 429 and Retry-After rather than 503"},
    {"storm_p99_ms", "storm", "ms", TH_ABOVE, 500, 2000,
     "p99 of the attempts during the retry storm, each from its own due time",
     "the burst of retries queues up in the service: more workers or connections for the peak, "
     "a short request path (queue first, process later), and a bound on in-flight requests that "
     "sheds rather than letting every request wait"},
    {"storm_relapse_s", "storm", "s", TH_ABOVE, 0, 2,
     "seconds in which the service, back after the fault, failed again (>= 10% of attempts) "
     "under the retries",
     "the service came back and was knocked over again by the senders' retries: the backlog of "
     "retries must not exhaust what the outage already strained (connection pools, worker queues, "
     "a circuit breaker closing on the first success) — admit the burst gradually and shed the "
     "excess with 429 and Retry-After"},
    /* the exactly-once audit of an event lifecycle (--events) */
    {"applied_twice", "events", "count", TH_ABOVE, 0, 0,
     "events whose effect was applied more than once (the same webhook-id handled twice)",
     "senders deliver at least once: record each webhook-id in the same transaction as its "
     "effect (a unique key) and skip one that is already recorded"},
    {"stale_overwrites", "events", "count", TH_ABOVE, 0, 0,
     "events that wrote an older version of an order over a newer one",
     "senders do not promise order: carry a version (or the event's timestamp) and apply an "
     "event only when it is newer than what is stored (UPDATE ... WHERE version < $new)"},
    {"lost_after_ack", "events", "count", TH_ABOVE, 0, 0,
     "acknowledged events that left no trace in the database",
     "answer 2xx only after the event is durably stored or queued; a sender never re-delivers "
     "an event it saw acknowledged"},
    {"missing_events", "events", "count", TH_ABOVE, 0, 0,
     "orders whose stored state is older than the newest event acknowledged for them",
     "the newest acknowledged event is not what the order shows: an event lost after its "
     "acknowledgement, or overwritten by an older one — see lost_after_ack and stale_overwrites"},
    /* resources */
    {"service_cpu_pct", "resources", "%", TH_ABOVE, 80, 95,
     "service CPU use under load, % of one core (100 = one core busy; N cores allow N x 100)",
     "the service is near the CPU of one core: a single-threaded service is saturated — profile "
     "it, add threads or instances behind a load balancer; a multi-threaded one may raise this "
     "bound to its cores x 80 (thresholds: in brink.yaml)"},
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

/* ---- overrides --------------------------------------------------------------------------------
 */

#define N_DEFAULTS (sizeof defaults / sizeof defaults[0])

static th_def effective[N_DEFAULTS];
static bool overridden[N_DEFAULTS];
static bool effective_ready;

static void effective_init(void) {
    if (effective_ready) return;
    memcpy(effective, defaults, sizeof defaults);
    memset(overridden, 0, sizeof overridden);
    effective_ready = true;
}

void threshold_overrides_clear(void) {
    effective_ready = false;
    effective_init();
}

/* The table's indexes that name matches ("metric" or "test.metric"); returns how many. */
static int matches(const char *name, int *idx) {
    const char *dot = strchr(name, '.');
    int n = 0;
    for (size_t i = 0; i < N_DEFAULTS; i++) {
        const th_def *d = &defaults[i];
        bool m =
            dot ? (strlen(d->test) == (size_t)(dot - name) &&
                   !strncmp(d->test, name, (size_t)(dot - name)) && !strcmp(d->metric, dot + 1))
                : !strcmp(d->metric, name);
        if (m) idx[n++] = (int)i;
    }
    return n;
}

static bool out_of_order(th_dir dir, double orange, double red) {
    return dir == TH_ABOVE ? orange > red : orange < red;
}

static int check(const char *name, double orange, double red, int *idx, int *n, char *err,
                 size_t errlen) {
    *n = matches(name, idx);
    if (*n == 0) {
        err_set(err, errlen,
                "unknown metric '%s' (see the threshold table in docs/config.md; a metric of one "
                "test only: TEST.METRIC, e.g. db.recovery_s)",
                name);
        return -1;
    }
    if (isnan(orange) && isnan(red)) {
        err_set(err, errlen, "%s: give orange, red or both", name);
        return -1;
    }
    effective_init();
    for (int k = 0; k < *n; k++) {
        const th_def *d = &effective[idx[k]];
        double o = isnan(orange) ? d->orange : orange, r = isnan(red) ? d->red : red;
        if (out_of_order(d->dir, o, r)) {
            const char *word = d->dir == TH_ABOVE ? "above" : "below";
            err_set(err, errlen,
                    "%s: orange %g is %s red %g (%s.%s is bad %s its bounds: orange comes "
                    "first%s)",
                    name, o, word, r, d->test, d->metric, word,
                    isnan(orange) || isnan(red) ? "; give both bounds" : "");
            return -1;
        }
    }
    return 0;
}

int threshold_override_check(const char *name, double orange, double red, char *err,
                             size_t errlen) {
    int idx[N_DEFAULTS], n;
    return check(name, orange, red, idx, &n, err, errlen);
}

int threshold_override(const char *name, double orange, double red, char *err, size_t errlen) {
    int idx[N_DEFAULTS], n;
    if (check(name, orange, red, idx, &n, err, errlen) < 0) return -1;
    for (int k = 0; k < n; k++) {
        th_def *d = &effective[idx[k]];
        if (!isnan(orange)) d->orange = orange;
        if (!isnan(red)) d->red = red;
        overridden[idx[k]] = true;
    }
    return 0;
}

static int effective_index(const char *test, const char *metric) {
    for (size_t i = 0; i < N_DEFAULTS; i++)
        if (!strcmp(defaults[i].test, test) && !strcmp(defaults[i].metric, metric)) return (int)i;
    return -1;
}

const th_def *threshold_effective(const char *test, const char *metric) {
    int i = effective_index(test, metric);
    if (i < 0) return NULL;
    effective_init();
    return &effective[i];
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
    int i = effective_index(test, metric);
    if (i < 0) return -1;
    effective_init();
    const th_def *d = &effective[i];
    memset(r, 0, sizeof *r);
    r->def = *d;
    r->overridden = overridden[i];
    r->value = value;
    r->status = threshold_eval(d, value);
    snprintf(r->evidence, sizeof r->evidence, "%s", evidence ? evidence : "");
    return 0;
}

/* the shares of the offered rate a fixed-rate run must achieve (threshold.h) */
#define KEEP_UP_ORANGE 0.99
#define KEEP_UP_RED    0.97

void threshold_rps_vs_offered(th_result *r, double offered) {
    if (!r->overridden && offered > 0) {
        if (r->def.orange > KEEP_UP_ORANGE * offered) r->def.orange = KEEP_UP_ORANGE * offered;
        if (r->def.red > KEEP_UP_RED * offered) r->def.red = KEEP_UP_RED * offered;
    }
    r->status = threshold_eval(&r->def, r->value);
}

void threshold_rps_evidence(char *out, size_t n, double achieved, double offered) {
    snprintf(out, n, "achieved %.1f/s of %.1f/s offered (%.1f%%)", achieved, offered,
             offered > 0 ? 100 * achieved / offered : 0);
}

json_t *threshold_json(const th_result *rs, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "metric", json_string(rs[i].def.metric));
        json_object_set_new(o, "test", json_string(rs[i].def.test));
        json_object_set_new(o, "value", jx_real(rs[i].value));
        json_object_set_new(o, "unit", json_string(rs[i].def.unit));
        json_object_set_new(o, "direction",
                            json_string(rs[i].def.dir == TH_ABOVE ? "above" : "below"));
        json_object_set_new(o, "orange", jx_real(rs[i].def.orange));
        json_object_set_new(o, "red", jx_real(rs[i].def.red));
        json_object_set_new(o, "status", json_string(threshold_status_name(rs[i].status)));
        if (rs[i].overridden) json_object_set_new(o, "overridden", json_true());
        json_array_append_new(a, o);
    }
    return a;
}

/* {series: {label, kind, start, fault_end, end, change}}: change is a counter's end - start. */
static json_t *service_json(const th_result *r) {
    json_t *o = json_object();
    for (int k = 0; k < r->nservice && k < TH_SERVICE_MAX; k++) {
        const th_service_metric *m = &r->service[k];
        json_t *e = json_object();
        json_object_set_new(e, "label", json_string(m->label));
        json_object_set_new(e, "kind", json_string(m->kind ? m->kind : "gauge"));
        json_object_set_new(e, "start", jx_real(m->start));
        if (!isnan(m->fault_end)) json_object_set_new(e, "fault_end", jx_real(m->fault_end));
        json_object_set_new(e, "end", jx_real(m->end));
        if (m->kind && !strcmp(m->kind, "counter"))
            json_object_set_new(e, "change", jx_real(m->end - m->start));
        json_object_set_new(o, m->series, e);
    }
    return o;
}

json_t *threshold_advice_json(const th_result *rs, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        if (rs[i].status != TH_ORANGE && rs[i].status != TH_RED) continue;
        json_t *o = json_object();
        json_object_set_new(o, "metric", json_string(rs[i].def.metric));
        json_object_set_new(o, "status", json_string(threshold_status_name(rs[i].status)));
        json_object_set_new(o, "evidence", json_string(rs[i].evidence));
        if (rs[i].service_remedy[0]) {
            size_t len = strlen(rs[i].service_remedy) + strlen(rs[i].def.remedy) + 32;
            char *both = malloc(len);
            if (both)
                snprintf(both, len, "%s. In general: %s", rs[i].service_remedy, rs[i].def.remedy);
            json_object_set_new(o, "remedy", json_string(both ? both : rs[i].def.remedy));
            free(both);
            json_object_set_new(o, "service_remedy", json_string(rs[i].service_remedy));
        } else {
            json_object_set_new(o, "remedy", json_string(rs[i].def.remedy));
        }
        if (rs[i].nservice > 0) json_object_set_new(o, "service_metrics", service_json(&rs[i]));
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
        if (rs[i].service_remedy[0]) fprintf(out, "     → %s\n", rs[i].service_remedy);
        fprintf(out, "     → %s\n", rs[i].def.remedy);
    }
}

th_status threshold_worst(const th_result *rs, int n) {
    th_status w = TH_GREEN;
    for (int i = 0; i < n; i++)
        if (rs[i].status != TH_SKIPPED && rs[i].status > w) w = rs[i].status;
    return w;
}
