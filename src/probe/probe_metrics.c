/* probe_metrics.c — the service's Prometheus page, read (see probe_metrics.h). Two tables drive
 * it:
 *
 *   series   every series brink knows how to read (dispatchd's names: docs/dispatchd.md), with a
 *            short label and a kind — a counter is shown by its change over the run, a gauge by
 *            its values at the scrapes, a setting (the pool's size) by its value beside the others;
 *   knobs    dispatchd's settings that the remedies name, read from its command line, its
 *            environment and its profile's defaults.
 *
 * A scrape is one GET with the probes' HTTP client (probe_http_get) and one probe_prom_value per
 * series over the page; a series that is missing is NaN and never shown. dispatchd reports a gauge
 * it could not read as -1, which is read as missing too. Scrapes happen on the scenario's own
 * thread, before and after the load, never on a load path. Which series bear on which verdict,
 * and the remedies the changes point at, are the verdict layer's (verdict/remedy.c). */
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

/* ---- the series ------------------------------------------------------------------------------ */

static const probe_metrics_series series[PROBE_METRICS_S__COUNT] = {
    [PROBE_METRICS_S_POOL_SIZE] = {"dispatchd_pg_pool_size", "pg pool size", "setting"},
    [PROBE_METRICS_S_POOL_IN_USE] = {"dispatchd_pg_pool_in_use", "pg pool in use", "gauge"},
    [PROBE_METRICS_S_POOL_BROKEN] = {"dispatchd_pg_pool_broken", "pg pool broken", "gauge"},
    [PROBE_METRICS_S_POOL_WAITS] = {"dispatchd_pg_pool_waits_total", "pg pool waits", "counter"},
    [PROBE_METRICS_S_POOL_TIMEOUTS] = {"dispatchd_pg_pool_timeouts_total", "pg pool timeouts",
                                       "counter"},
    [PROBE_METRICS_S_PG_RECONNECTS] = {"dispatchd_pg_reconnects_total", "pg reconnects", "counter"},
    [PROBE_METRICS_S_PG_CONN_ERRORS] = {"dispatchd_pg_connection_errors_total",
                                        "pg connections broken", "counter"},
    [PROBE_METRICS_S_SHED] = {"dispatchd_requests_shed_total", "requests shed", "counter"},
    [PROBE_METRICS_S_WH_UNAVAILABLE] = {"dispatchd_webhooks_total{outcome=\"unavailable\"}",
                                        "webhooks unavailable", "counter"},
    [PROBE_METRICS_S_WH_INBOX] = {"dispatchd_webhooks_total{outcome=\"queued_inbox\"}",
                                  "webhooks to inbox", "counter"},
    [PROBE_METRICS_S_WH_REDIS] = {"dispatchd_webhooks_total{outcome=\"queued_redis\"}",
                                  "webhooks to Redis", "counter"},
    [PROBE_METRICS_S_WH_SYNC] = {"dispatchd_webhooks_total{outcome=\"stored_sync\"}",
                                 "webhooks stored in-request", "counter"},
    [PROBE_METRICS_S_LAST_RESORT] = {"dispatchd_webhooks_last_resort_total", "last-resort waits",
                                     "counter"},
    [PROBE_METRICS_S_CIRCUIT_OPENS] = {"dispatchd_redis_circuit_opens_total", "circuit opens",
                                       "counter"},
    [PROBE_METRICS_S_CIRCUIT_STATE] = {"dispatchd_redis_circuit_state", "circuit state", "gauge"},
    [PROBE_METRICS_S_REDIS_ERRORS] = {"dispatchd_redis_errors_total", "redis errors", "counter"},
    [PROBE_METRICS_S_STREAM_LAG] = {"dispatchd_stream_lag", "stream lag", "gauge"},
    [PROBE_METRICS_S_STREAM_PENDING] = {"dispatchd_stream_pending", "stream pending", "gauge"},
    [PROBE_METRICS_S_INBOX_DEPTH] = {"dispatchd_inbox_depth", "inbox depth", "gauge"},
    [PROBE_METRICS_S_INBOX_DRAINED] = {"dispatchd_inbox_drained_total", "inbox drained", "counter"},
    [PROBE_METRICS_S_CLAIMED] = {"dispatchd_worker_claimed_total", "entries reclaimed", "counter"},
    [PROBE_METRICS_S_POISON] = {"dispatchd_worker_poison_total", "poison entries", "counter"},
    [PROBE_METRICS_S_ORDERS_SKIPPED] = {"dispatchd_orders_skipped_total", "orders skipped",
                                        "counter"},
    [PROBE_METRICS_S_ACCEPTS_WON] = {"dispatchd_accepts_total{result=\"won\"}", "accepts won",
                                     "counter"},
    [PROBE_METRICS_S_ACCEPTS_LOST] = {"dispatchd_accepts_total{result=\"lost\"}", "accepts lost",
                                      "counter"},
    [PROBE_METRICS_S_WH_400] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"400\"}",
                                "webhook 400s", "counter"},
    [PROBE_METRICS_S_WH_401] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"401\"}",
                                "webhook 401s", "counter"},
    [PROBE_METRICS_S_WH_500] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"500\"}",
                                "webhook 500s", "counter"},
    [PROBE_METRICS_S_WH_503] = {"dispatchd_http_requests_total{route=\"webhook\",status=\"503\"}",
                                "webhook 503s", "counter"},
    [PROBE_METRICS_S_ACCEPT_503] =
        {"dispatchd_http_requests_total{route=\"accept\",status=\"503\"}", "accept 503s",
         "counter"},
};

_Static_assert(PROBE_METRICS_S__COUNT <= PROBE_METRICS_SERIES_MAX,
               "raise PROBE_METRICS_SERIES_MAX");

const probe_metrics_series *probe_metrics_series_table(int *n) {
    *n = PROBE_METRICS_S__COUNT;
    return series;
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
    for (int i = 0; i < PROBE_METRICS_S__COUNT; i++) {
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

bool probe_metrics_compared(const probe_metrics *m) {
    return m->have[PROBE_METRICS_START] &&
           (m->have[PROBE_METRICS_END] || m->have[PROBE_METRICS_FAULT_END]);
}

double probe_metrics_value(const probe_metrics *m, probe_metrics_at a, int i) {
    return m->have[a] ? m->v[a][i] : NAN;
}

double probe_metrics_last(const probe_metrics *m, int i) {
    double e = probe_metrics_value(m, PROBE_METRICS_END, i);
    return isnan(e) ? probe_metrics_value(m, PROBE_METRICS_FAULT_END, i) : e;
}

/* dispatchd lists no status code before it answered one: an absent counter at the start was 0 */
double probe_metrics_start(const probe_metrics *m, int i) {
    double s = probe_metrics_value(m, PROBE_METRICS_START, i);
    if (isnan(s) && m->have[PROBE_METRICS_START] && !strcmp(series[i].kind, "counter") &&
        !isnan(probe_metrics_last(m, i)))
        s = 0;
    return s;
}

double probe_metrics_change(const probe_metrics *m, int i) {
    double s = probe_metrics_start(m, i), e = probe_metrics_last(m, i);
    if (isnan(s) || isnan(e)) return NAN;
    return e >= s ? e - s : e;
}

bool probe_metrics_moved(const probe_metrics *m, int i) {
    if (!strcmp(series[i].kind, "counter")) {
        double d = probe_metrics_change(m, i);
        return !isnan(d) && d != 0;
    }
    if (!strcmp(series[i].kind, "gauge")) {
        double s = probe_metrics_value(m, PROBE_METRICS_START, i);
        double f = probe_metrics_value(m, PROBE_METRICS_FAULT_END, i);
        double e = probe_metrics_value(m, PROBE_METRICS_END, i);
        if (isnan(s)) return false;
        return (!isnan(f) && f != s) || (!isnan(e) && e != s);
    }
    return false;
}

void probe_metrics_item_text(const probe_metrics *m, int i, char *out, size_t n) {
    char a[40], b[40], c[40];
    if (!strcmp(series[i].kind, "counter")) {
        probe_metrics_format_number(a, sizeof a, probe_metrics_change(m, i));
        snprintf(out, n, "%s +%s", series[i].label, a);
    } else if (!strcmp(series[i].kind, "gauge")) {
        double f = probe_metrics_value(m, PROBE_METRICS_FAULT_END, i);
        double e = probe_metrics_value(m, PROBE_METRICS_END, i);
        probe_metrics_format_number(a, sizeof a, probe_metrics_value(m, PROBE_METRICS_START, i));
        probe_metrics_format_number(b, sizeof b, f);
        probe_metrics_format_number(c, sizeof c, e);
        if (!isnan(f) && !isnan(e))
            snprintf(out, n, "%s %s → %s → %s", series[i].label, a, b, c);
        else
            snprintf(out, n, "%s %s → %s", series[i].label, a, isnan(e) ? b : c);
    } else {
        probe_metrics_format_number(a, sizeof a, probe_metrics_last(m, i));
        snprintf(out, n, "%s %s", series[i].label, a);
    }
}
