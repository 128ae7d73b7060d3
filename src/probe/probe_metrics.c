/* probe_metrics.c — the service's Prometheus page as evidence for the verdicts (see
 * probe_metrics.h). Three tables drive it:
 *
 *   series   every series brink knows how to read (dispatchd's names: docs/dispatchd.md), with a
 *            short label and a kind — a counter is shown by its change over the run, a gauge by
 *            its values at the scrapes, a setting (the pool's size) by its value beside the others;
 *   shown    for each (test, metric) of the threshold table, the series that bear on it: latency
 *            → the pool's waits and timeouts, a Redis outage → unavailable answers, the inbox and
 *            the circuit, recovery → reconnects and the circuit, the backlog → the stream and the
 *            inbox, and so on;
 *   remedies rules that read the changes and the service's configuration and, when they point at
 *            one knob, say so with the numbers ("enable the PostgreSQL inbox fallback …: it was
 *            off — 2,001 webhooks answered unavailable and none went to the inbox").
 *
 * A scrape is one GET with the probes' HTTP client (probe_http_get) and one probe_prom_value per
 * series over the page; a series that is missing is NaN and never shown. dispatchd reports a gauge
 * it could not read as -1, which is read as missing too. Scrapes happen on the scenario's own
 * thread, before and after the load, never on a load path. */
#include "probe/probe_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "probe/probe.h"
#include "stack/stack.h"

#define SCRAPE_TIMEOUT_NS (2 * NS_PER_S)
#define SHOWN_MAX         TH_SERVICE_MAX
#define HINTS_MAX         2

/* ---- the series ------------------------------------------------------------------------------ */

enum {
    S_POOL_SIZE,
    S_POOL_IN_USE,
    S_POOL_BROKEN,
    S_POOL_WAITS,
    S_POOL_TIMEOUTS,
    S_PG_RECONNECTS,
    S_PG_CONN_ERRORS,
    S_SHED,
    S_WH_UNAVAILABLE,
    S_WH_INBOX,
    S_WH_REDIS,
    S_WH_SYNC,
    S_LAST_RESORT,
    S_CIRCUIT_OPENS,
    S_CIRCUIT_STATE,
    S_REDIS_ERRORS,
    S_STREAM_LAG,
    S_STREAM_PENDING,
    S_INBOX_DEPTH,
    S_INBOX_DRAINED,
    S_CLAIMED,
    S_POISON,
    S_ORDERS_SKIPPED,
    S_ACCEPTS_WON,
    S_ACCEPTS_LOST,
    S_WH_400,
    S_WH_401,
    S_WH_500,
    S_WH_503,
    S_ACCEPT_503,
    S__COUNT,
    S_END = -1,
};

static const probe_metrics_series series[S__COUNT] = {
    [S_POOL_SIZE] = {"dispatchd_pg_pool_size", "pg pool size", "setting"},
    [S_POOL_IN_USE] = {"dispatchd_pg_pool_in_use", "pg pool in use", "gauge"},
    [S_POOL_BROKEN] = {"dispatchd_pg_pool_broken", "pg pool broken", "gauge"},
    [S_POOL_WAITS] = {"dispatchd_pg_pool_waits_total", "pg pool waits", "counter"},
    [S_POOL_TIMEOUTS] = {"dispatchd_pg_pool_timeouts_total", "pg pool timeouts", "counter"},
    [S_PG_RECONNECTS] = {"dispatchd_pg_reconnects_total", "pg reconnects", "counter"},
    [S_PG_CONN_ERRORS] = {"dispatchd_pg_connection_errors_total", "pg connections broken",
                          "counter"},
    [S_SHED] = {"dispatchd_requests_shed_total", "requests shed", "counter"},
    [S_WH_UNAVAILABLE] = {"dispatchd_webhooks_total{outcome=\"unavailable\"}",
                          "webhooks unavailable", "counter"},
    [S_WH_INBOX] = {"dispatchd_webhooks_total{outcome=\"queued_inbox\"}", "webhooks to inbox",
                    "counter"},
    [S_WH_REDIS] = {"dispatchd_webhooks_total{outcome=\"queued_redis\"}", "webhooks to Redis",
                    "counter"},
    [S_WH_SYNC] = {"dispatchd_webhooks_total{outcome=\"stored_sync\"}",
                   "webhooks stored in-request", "counter"},
    [S_LAST_RESORT] = {"dispatchd_webhooks_last_resort_total", "last-resort waits", "counter"},
    [S_CIRCUIT_OPENS] = {"dispatchd_redis_circuit_opens_total", "circuit opens", "counter"},
    [S_CIRCUIT_STATE] = {"dispatchd_redis_circuit_state", "circuit state", "gauge"},
    [S_REDIS_ERRORS] = {"dispatchd_redis_errors_total", "redis errors", "counter"},
    [S_STREAM_LAG] = {"dispatchd_stream_lag", "stream lag", "gauge"},
    [S_STREAM_PENDING] = {"dispatchd_stream_pending", "stream pending", "gauge"},
    [S_INBOX_DEPTH] = {"dispatchd_inbox_depth", "inbox depth", "gauge"},
    [S_INBOX_DRAINED] = {"dispatchd_inbox_drained_total", "inbox drained", "counter"},
    [S_CLAIMED] = {"dispatchd_worker_claimed_total", "entries reclaimed", "counter"},
    [S_POISON] = {"dispatchd_worker_poison_total", "poison entries", "counter"},
    [S_ORDERS_SKIPPED] = {"dispatchd_orders_skipped_total", "orders skipped", "counter"},
    [S_ACCEPTS_WON] = {"dispatchd_accepts_total{result=\"won\"}", "accepts won", "counter"},
    [S_ACCEPTS_LOST] = {"dispatchd_accepts_total{result=\"lost\"}", "accepts lost", "counter"},
    [S_WH_400] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"400\"}", "webhook 400s",
                  "counter"},
    [S_WH_401] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"401\"}", "webhook 401s",
                  "counter"},
    [S_WH_500] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"500\"}", "webhook 500s",
                  "counter"},
    [S_WH_503] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"503\"}", "webhook 503s",
                  "counter"},
    [S_ACCEPT_503] = {"dispatchd_http_requests_total{route=\"accept\",status=\"503\"}",
                      "accept 503s", "counter"},
};

_Static_assert(S__COUNT <= PROBE_METRICS_SERIES_MAX, "raise PROBE_METRICS_SERIES_MAX");

const probe_metrics_series *probe_metrics_series_table(int *n) {
    *n = S__COUNT;
    return series;
}

/* ---- what each verdict shows ----------------------------------------------------------------- */

typedef struct shown_row {
    const char *tests;   /* space-separated test names of the threshold table */
    const char *metrics; /* space-separated metrics */
    int series[SHOWN_MAX + 1];
} shown_row;

static const shown_row shown[] = {
    {"webhook",
     "rps p50_ms p95_ms p99_ms p999_ms",
     {S_POOL_WAITS, S_POOL_TIMEOUTS, S_POOL_IN_USE, S_SHED, S_WH_UNAVAILABLE, S_POOL_SIZE, S_END}},
    {"webhook",
     "error_rate availability timeouts",
     {S_SHED, S_WH_UNAVAILABLE, S_WH_503, S_WH_500, S_WH_401, S_WH_400, S_POOL_TIMEOUTS,
      S_REDIS_ERRORS}},
    {"race",
     "resolution_avg_ms resolution_p99_ms race_error_rate",
     {S_POOL_WAITS, S_POOL_TIMEOUTS, S_POOL_IN_USE, S_SHED, S_ACCEPT_503, S_POOL_SIZE, S_END}},
    {"race",
     "race_conditions win_rate integrity",
     {S_ACCEPTS_WON, S_ACCEPTS_LOST, S_ACCEPT_503, S_POOL_TIMEOUTS, S_END}},
    {"redis",
     "outage_error_rate outage_p99_ms",
     {S_WH_UNAVAILABLE, S_WH_INBOX, S_LAST_RESORT, S_CIRCUIT_OPENS, S_REDIS_ERRORS, S_SHED,
      S_WH_503, S_END}},
    {"redis",
     "recovery_s",
     {S_CIRCUIT_OPENS, S_CIRCUIT_STATE, S_REDIS_ERRORS, S_WH_UNAVAILABLE, S_WH_INBOX, S_END}},
    {"redis db",
     "max_backlog drain_s",
     {S_STREAM_LAG, S_STREAM_PENDING, S_INBOX_DEPTH, S_INBOX_DRAINED, S_CLAIMED, S_END}},
    {"db",
     "recovery_s pool_recovery_s success_rate",
     {S_PG_RECONNECTS, S_PG_CONN_ERRORS, S_POOL_BROKEN, S_POOL_TIMEOUTS, S_WH_UNAVAILABLE, S_SHED,
      S_ACCEPT_503, S_POOL_SIZE}},
    {"redis db",
     "lost duplicated integrity_violations",
     {S_POISON, S_ORDERS_SKIPPED, S_CLAIMED, S_WH_INBOX, S_INBOX_DRAINED, S_END}},
};

/* Whether word is one of the space-separated words of list. */
static bool in_list(const char *list, const char *word) {
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, " ");
        if (l == wl && !strncmp(p, word, l)) return true;
        p += l;
        while (*p == ' ') p++;
    }
    return false;
}

int probe_metrics_series_for(const char *test, const char *metric, int *idx, int max) {
    int n = 0;
    for (size_t r = 0; r < sizeof shown / sizeof shown[0]; r++) {
        if (!in_list(shown[r].tests, test) || !in_list(shown[r].metrics, metric)) continue;
        for (int k = 0; k < SHOWN_MAX && shown[r].series[k] != S_END && n < max; k++)
            idx[n++] = shown[r].series[k];
        break;
    }
    return n;
}

/* ---- scrapes --------------------------------------------------------------------------------- */

void probe_metrics_init(probe_metrics *m, const char *url) {
    memset(m, 0, sizeof *m);
    if (url) snprintf(m->url, sizeof m->url, "%s", url);
    m->timeout_ns = SCRAPE_TIMEOUT_NS;
    for (int a = 0; a < PROBE_METRICS__AT; a++)
        for (int i = 0; i < PROBE_METRICS_SERIES_MAX; i++) m->v[a][i] = NAN;
    m->cfg.fallback = m->cfg.redis_timeout_ms = m->cfg.pg_pool = -1;
    m->cfg.lazy_reconnect = m->cfg.sync_ingest = m->cfg.naive_accept = -1;
}

void probe_metrics_parse(probe_metrics *m, probe_metrics_at at, const char *text, size_t len) {
    char err[160];
    for (int i = 0; i < S__COUNT; i++) {
        double x;
        if (probe_prom_value(text, len, series[i].selector, &x, err, sizeof err) < 0 || isnan(x) ||
            (strcmp(series[i].kind, "counter") && x < 0)) /* dispatchd's "unknown" gauge: -1 */
            x = NAN;
        m->v[at][i] = x;
    }
    m->have[at] = true;
}

int probe_metrics_scrape(probe_metrics *m, probe_metrics_at at) {
    if (!m->url[0] || at < 0 || at >= PROBE_METRICS__AT) return -1;
    char *body = NULL, err[256];
    size_t len = 0;
    if (probe_http_get(m->url, m->timeout_ns, &body, &len, err, sizeof err) < 0) return -1;
    probe_metrics_parse(m, at, body, len);
    free(body);
    return 0;
}

/* ---- dispatchd's configuration --------------------------------------------------------------- */

/* The knobs the remedies name, with their tuned and untuned values (service/config.c). */
typedef struct knob {
    const char *flag; /* without the dashes */
    const char *env;
    const char *tuned, *untuned;
} knob;

enum { K_FALLBACK, K_REDIS_TIMEOUT, K_PG_POOL, K_RECONNECT, K_INGEST, K_ACCEPT, K__COUNT };

static const knob knobs[K__COUNT] = {
    [K_FALLBACK] = {"redis-fallback", "DISPATCHD_REDIS_FALLBACK", "on", "off"},
    [K_REDIS_TIMEOUT] = {"redis-timeout", "DISPATCHD_REDIS_TIMEOUT", "50", "0"},
    [K_PG_POOL] = {"pg-pool", "DISPATCHD_PG_POOL", "8", "1"},
    [K_RECONNECT] = {"pg-reconnect", "DISPATCHD_PG_RECONNECT", "probe", "lazy"},
    [K_INGEST] = {"ingest", "DISPATCHD_INGEST", "queue", "sync"},
    [K_ACCEPT] = {"accept-mode", "DISPATCHD_ACCEPT_MODE", "atomic", "naive"},
};

/* The value of --flag V or --flag=V in argv (the last one wins), or NULL. */
static const char *flag_value(char *const *argv, const char *flag) {
    const char *v = NULL;
    size_t fl = strlen(flag);
    for (int i = 1; argv[i]; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) || strncmp(a + 2, flag, fl)) continue;
        if (a[2 + fl] == '=')
            v = a + 3 + fl;
        else if (!a[2 + fl] && argv[i + 1])
            v = argv[++i];
    }
    return v;
}

static int on_off(const char *v, const char *on, const char *off) {
    if (!v) return -1;
    if (!strcasecmp(v, on)) return 1;
    if (!strcasecmp(v, off)) return 0;
    return -1;
}

static int int_of(const char *v) {
    if (!v || !*v) return -1;
    char *end;
    long x = strtol(v, &end, 10);
    return *end || x < 0 || x > 1000000000 ? -1 : (int)x;
}

void probe_metrics_set_dispatchd(probe_metrics *m, char *const *argv) {
    probe_metrics_config *c = &m->cfg;
    if (!argv || !argv[0]) return;
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strncmp(base, "dispatchd", 9)) return;
    const char *profile = getenv("DISPATCHD_PROFILE");
    const char *p = flag_value(argv, "profile");
    if (p) profile = p;
    for (int i = 1; argv[i]; i++)
        if (!strcmp(argv[i], "--untuned")) profile = "untuned";
    bool untuned = profile && !strcmp(profile, "untuned");
    snprintf(c->profile, sizeof c->profile, "%s", untuned ? "untuned" : "tuned");
    const char *v[K__COUNT];
    for (int k = 0; k < K__COUNT; k++) {
        v[k] = flag_value(argv, knobs[k].flag);
        if (!v[k]) v[k] = getenv(knobs[k].env);
        if (!v[k] || !*v[k]) v[k] = untuned ? knobs[k].untuned : knobs[k].tuned;
    }
    c->fallback = on_off(v[K_FALLBACK], "on", "off");
    c->redis_timeout_ms = int_of(v[K_REDIS_TIMEOUT]);
    c->pg_pool = int_of(v[K_PG_POOL]);
    c->lazy_reconnect = on_off(v[K_RECONNECT], "lazy", "probe");
    c->sync_ingest = on_off(v[K_INGEST], "sync", "queue");
    c->naive_accept = on_off(v[K_ACCEPT], "naive", "atomic");
    c->known = true;
}

void probe_metrics_for_stack(probe_metrics *m, const struct stack_info *si) {
    char page[512];
    snprintf(page, sizeof page, "%s/metrics", si && si->service_url ? si->service_url : "");
    probe_metrics_init(m, si && si->service_url ? page : NULL);
    if (si) probe_metrics_set_dispatchd(m, si->service_argv);
}

/* ---- formatting ------------------------------------------------------------------------------ */

void probe_metrics_format_number(char *out, size_t n, double v) {
    if (!isfinite(v)) {
        snprintf(out, n, "-");
        return;
    }
    if (v != floor(v) || fabs(v) >= 1e15) {
        snprintf(out, n, "%.3g", v);
        return;
    }
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t len = strlen(digits), k = 0;
    char buf[48];
    if (v < 0) buf[k++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    snprintf(out, n, "%s", buf);
}

/* ---- reading the scrapes --------------------------------------------------------------------- */

/* The values of series i at the start, the fault's end and the end (NaN: not read). The end is
 * the last scrape after the start that has it. */
static double at(const probe_metrics *m, probe_metrics_at a, int i) {
    return m->have[a] ? m->v[a][i] : NAN;
}

static double last(const probe_metrics *m, int i) {
    double e = at(m, PROBE_METRICS_END, i);
    return isnan(e) ? at(m, PROBE_METRICS_FAULT_END, i) : e;
}

/* The value at the start; a counter that the first page did not have but a later one has was 0
 * (labelled series appear with their first event: dispatchd lists no status code before it
 * answered one). */
static double start_of(const probe_metrics *m, int i) {
    double s = at(m, PROBE_METRICS_START, i);
    if (isnan(s) && m->have[PROBE_METRICS_START] && !strcmp(series[i].kind, "counter") &&
        !isnan(last(m, i)))
        s = 0;
    return s;
}

/* A counter's change from the start to the last scrape (a counter that went down was reset: the
 * service restarted, and its value is the change since); NaN when unknown. */
static double change(const probe_metrics *m, int i) {
    double s = start_of(m, i), e = last(m, i);
    if (isnan(s) || isnan(e)) return NAN;
    return e >= s ? e - s : e;
}

/* Whether series i is shown: a counter that changed, a gauge whose values differ. */
static bool moved(const probe_metrics *m, int i) {
    if (!strcmp(series[i].kind, "counter")) {
        double d = change(m, i);
        return !isnan(d) && d != 0;
    }
    if (!strcmp(series[i].kind, "gauge")) {
        double s = at(m, PROBE_METRICS_START, i);
        double f = at(m, PROBE_METRICS_FAULT_END, i), e = at(m, PROBE_METRICS_END, i);
        if (isnan(s)) return false;
        return (!isnan(f) && f != s) || (!isnan(e) && e != s);
    }
    return false;
}

/* "pg pool waits +1,204", "inbox depth 0 → 812 → 0", "pg pool size 1". */
static void item_text(const probe_metrics *m, int i, char *out, size_t n) {
    char a[40], b[40], c[40];
    if (!strcmp(series[i].kind, "counter")) {
        probe_metrics_format_number(a, sizeof a, change(m, i));
        snprintf(out, n, "%s +%s", series[i].label, a);
    } else if (!strcmp(series[i].kind, "gauge")) {
        double f = at(m, PROBE_METRICS_FAULT_END, i), e = at(m, PROBE_METRICS_END, i);
        probe_metrics_format_number(a, sizeof a, at(m, PROBE_METRICS_START, i));
        probe_metrics_format_number(b, sizeof b, f);
        probe_metrics_format_number(c, sizeof c, e);
        if (!isnan(f) && !isnan(e))
            snprintf(out, n, "%s %s → %s → %s", series[i].label, a, b, c);
        else
            snprintf(out, n, "%s %s → %s", series[i].label, a, isnan(e) ? b : c);
    } else {
        probe_metrics_format_number(a, sizeof a, last(m, i));
        snprintf(out, n, "%s %s", series[i].label, a);
    }
}

/* ---- remedies -------------------------------------------------------------------------------- */

/* A rule: when it applies to a verdict, it writes one remedy naming what it read, and returns 1. */
typedef int (*rule_fn)(const probe_metrics *m, const th_result *r, char *out, size_t n);

static bool known(const probe_metrics *m) {
    return m->cfg.known;
}

/* The verdict's value for a remedy: "14 s", "83%", "never" (a time that never came). */
static void value_text(const th_result *r, char *out, size_t n) {
    if (isinf(r->value))
        snprintf(out, n, "never reached");
    else
        threshold_format_value(out, n, r->value, r->def.unit, "-");
}

static void count_text(const probe_metrics *m, int i, char *out, size_t n) {
    probe_metrics_format_number(out, n, change(m, i));
}

/* 503s during a Redis outage and nothing to the inbox: the fallback is off (or missing). */
static int rule_fallback(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    double un = change(m, S_WH_UNAVAILABLE), inbox = change(m, S_WH_INBOX);
    if (!(un > 0) || isnan(inbox) || inbox > 0) return 0;
    char u[40];
    count_text(m, S_WH_UNAVAILABLE, u, sizeof u);
    if (known(m) && m->cfg.fallback == 0)
        snprintf(out, n,
                 "enable the PostgreSQL inbox fallback (dispatchd --redis-fallback on): it was "
                 "off — %s webhooks were answered unavailable and none went to the inbox",
                 u);
    else if (known(m))
        return 0; /* the fallback is on: the inbox itself failed — the table's remedy stands */
    else
        snprintf(out, n,
                 "add a fallback for when Redis fails (write the webhook to a PostgreSQL inbox): "
                 "%s webhooks were answered unavailable and none went to the inbox",
                 u);
    return 1;
}

/* Requests that waited for Redis: no timeout on Redis calls, a circuit that never opened. */
static int rule_redis_timeout(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    double opens = change(m, S_CIRCUIT_OPENS);
    char v[48];
    value_text(r, v, sizeof v);
    /* errors the service answered itself (503s) are the fallback's business, not a timeout's */
    if (!strcmp(r->def.metric, "outage_error_rate") && !(change(m, S_WH_UNAVAILABLE) == 0))
        return 0;
    if (known(m) && m->cfg.redis_timeout_ms == 0) {
        snprintf(out, n,
                 "give every Redis call a timeout (dispatchd --redis-timeout 50): it ran without "
                 "one, so requests waited as long as Redis did (%s %s%s)",
                 r->def.metric, v, opens == 0 ? "; circuit opens +0" : "");
        return 1;
    }
    double errs = change(m, S_REDIS_ERRORS);
    if (!known(m) && opens == 0 && errs > 0) {
        char e[40];
        count_text(m, S_REDIS_ERRORS, e, sizeof e);
        snprintf(out, n,
                 "open the circuit breaker after a few failures: it never opened although %s "
                 "Redis calls failed",
                 e);
        return 1;
    }
    return 0;
}

/* A slow recovery with lazy reconnects: the health probe replaces broken connections early. */
static int rule_reconnect(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    if (!known(m) || m->cfg.lazy_reconnect != 1) return 0;
    char v[48], rc[64] = "";
    value_text(r, v, sizeof v);
    if (change(m, S_PG_RECONNECTS) >= 0) {
        char c[40];
        count_text(m, S_PG_RECONNECTS, c, sizeof c);
        snprintf(rc, sizeof rc, ", pg reconnects +%s", c);
    }
    snprintf(out, n,
             "enable the health probe (dispatchd --pg-reconnect probe): %s %s with lazy reconnect "
             "— broken connections were replaced only when a request tripped over them%s",
             r->def.metric, v, rc);
    return 1;
}

/* Pool waits behind latency, pool timeouts behind errors: the pool is too small for the load. */
static int pool_text(const probe_metrics *m, bool need_timeouts, char *out, size_t n) {
    double w = change(m, S_POOL_WAITS), t = change(m, S_POOL_TIMEOUTS);
    if ((need_timeouts && !(t > 0)) || (!(w > 0) && !(t > 0))) return 0;
    char ws[40], ts[40], size[64] = "", what[160];
    count_text(m, S_POOL_WAITS, ws, sizeof ws);
    count_text(m, S_POOL_TIMEOUTS, ts, sizeof ts);
    if (w > 0 && t > 0)
        snprintf(what, sizeof what, "%s acquisitions waited for a connection and %s gave up", ws,
                 ts);
    else if (w > 0)
        snprintf(what, sizeof what, "%s acquisitions waited for a connection", ws);
    else
        snprintf(what, sizeof what, "%s acquisitions gave up waiting for a connection", ts);
    double sz = last(m, S_POOL_SIZE);
    if (isnan(sz) && known(m) && m->cfg.pg_pool > 0) sz = m->cfg.pg_pool;
    if (!isnan(sz)) snprintf(size, sizeof size, ", %.0f connection%s now", sz, sz == 1 ? "" : "s");
    snprintf(out, n, "raise the PostgreSQL pool (%s%s): %s",
             known(m) ? "dispatchd --pg-pool" : "the service's pool size", size, what);
    return 1;
}

static int rule_pool(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    return pool_text(m, false, out, n);
}

static int rule_pool_timeouts(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    return pool_text(m, true, out, n);
}

/* Synchronous ingest: every webhook waits for PostgreSQL inside the request. */
static int rule_ingest(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    if (!known(m) || m->cfg.sync_ingest != 1) return 0;
    char stored[96] = "";
    if (change(m, S_WH_SYNC) > 0) {
        char c[40];
        count_text(m, S_WH_SYNC, c, sizeof c);
        snprintf(stored, sizeof stored, " (%s webhooks stored inside the request)", c);
    }
    snprintf(out, n,
             "queue the webhooks in Redis instead of inserting them inside the request "
             "(dispatchd --ingest queue): it ran with --ingest sync%s",
             stored);
    return 1;
}

/* Read-then-update accepts: two winners. */
static int rule_accept(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    if (!known(m) || m->cfg.naive_accept != 1) return 0;
    char won[96] = "";
    if (change(m, S_ACCEPTS_WON) > 0) {
        char c[40];
        count_text(m, S_ACCEPTS_WON, c, sizeof c);
        snprintf(won, sizeof won, " (accepts won +%s)", c);
    }
    snprintf(out, n,
             "accept with one conditional UPDATE (dispatchd --accept-mode atomic): it ran with "
             "--accept-mode naive, which reads, waits, then updates%s",
             won);
    return 1;
}

/* Requests shed after waiting for an executor. */
static int rule_shed(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    if (!(change(m, S_SHED) > 0)) return 0;
    char c[40];
    count_text(m, S_SHED, c, sizeof c);
    snprintf(out, n,
             "%s requests were shed after waiting for an executor: add executors%s or relieve the "
             "database they wait for",
             c, known(m) ? " (dispatchd --executors)" : "");
    return 1;
}

typedef struct remedy_row {
    const char *tests, *metrics;
    rule_fn fn;
} remedy_row;

/* In order of preference; at most HINTS_MAX apply to one verdict. */
static const remedy_row remedies[] = {
    {"redis", "outage_error_rate", rule_fallback},
    {"redis", "outage_p99_ms outage_error_rate recovery_s", rule_redis_timeout},
    {"db", "recovery_s pool_recovery_s", rule_reconnect},
    {"db", "success_rate", rule_ingest},
    {"webhook race",
     "rps p50_ms p95_ms p99_ms p999_ms resolution_avg_ms resolution_p99_ms "
     "race_error_rate",
     rule_pool},
    {"webhook", "rps p50_ms p95_ms p99_ms p999_ms", rule_ingest},
    {"race", "race_conditions win_rate integrity", rule_accept},
    {"webhook race db", "error_rate availability timeouts race_error_rate success_rate", rule_shed},
    {"webhook", "error_rate availability timeouts", rule_pool_timeouts},
    {"webhook", "error_rate availability timeouts", rule_ingest},
};

/* ---- annotating the verdicts ----------------------------------------------------------------- */

/* Appends " (service metrics: a, b, …)" to r's evidence, as many items as fit. */
static void append_evidence(th_result *r, const probe_metrics *m, const int *idx, int n) {
    size_t used = strlen(r->evidence), cap = sizeof r->evidence;
    const char *open = used ? " (service metrics: " : "service metrics: ";
    const char *close = used ? ")" : "";
    char text[sizeof r->evidence];
    size_t tl = 0;
    text[0] = '\0';
    for (int k = 0; k < n; k++) {
        char item[160];
        item_text(m, idx[k], item, sizeof item);
        size_t need = strlen(item) + (tl ? 2 : strlen(open)) + strlen(close);
        if (used + tl + need >= cap) break;
        tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s%s", tl ? ", " : open, item);
    }
    if (tl) snprintf(r->evidence + used, cap - used, "%s%s", text, close);
}

void probe_metrics_annotate(const probe_metrics *m, th_result *rs, int n) {
    if (!m->have[PROBE_METRICS_START] ||
        (!m->have[PROBE_METRICS_END] && !m->have[PROBE_METRICS_FAULT_END]))
        return;
    for (int i = 0; i < n; i++) {
        th_result *r = &rs[i];
        if (r->status != TH_ORANGE && r->status != TH_RED) continue;
        int idx[SHOWN_MAX],
            ni = probe_metrics_series_for(r->def.test, r->def.metric, idx, SHOWN_MAX);
        int show[SHOWN_MAX], ns = 0;
        for (int k = 0; k < ni; k++)
            if (moved(m, idx[k])) show[ns++] = idx[k];
        if (ns) { /* settings only beside series that moved */
            for (int k = 0; k < ni; k++)
                if (!strcmp(series[idx[k]].kind, "setting") && !isnan(last(m, idx[k])))
                    show[ns++] = idx[k];
            append_evidence(r, m, show, ns);
            r->nservice = 0;
            for (int k = 0; k < ns && r->nservice < TH_SERVICE_MAX; k++) {
                th_service_metric *s = &r->service[r->nservice++];
                const probe_metrics_series *d = &series[show[k]];
                snprintf(s->series, sizeof s->series, "%s", d->selector);
                snprintf(s->label, sizeof s->label, "%s", d->label);
                s->kind = d->kind;
                s->start = start_of(m, show[k]);
                s->fault_end = at(m, PROBE_METRICS_FAULT_END, show[k]);
                s->end = last(m, show[k]);
            }
        }
        int hints = 0;
        size_t used = 0;
        r->service_remedy[0] = '\0';
        for (size_t k = 0; k < sizeof remedies / sizeof remedies[0] && hints < HINTS_MAX; k++) {
            if (!in_list(remedies[k].tests, r->def.test) ||
                !in_list(remedies[k].metrics, r->def.metric))
                continue;
            char h[sizeof r->service_remedy];
            if (!remedies[k].fn(m, r, h, sizeof h)) continue;
            if (used + strlen(h) + 3 >= sizeof r->service_remedy) break;
            used += (size_t)snprintf(r->service_remedy + used, sizeof r->service_remedy - used,
                                     "%s%s", hints ? "; " : "", h);
            hints++;
        }
    }
}
