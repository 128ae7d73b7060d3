/* remedy.c — the service's metrics as evidence for the verdicts, and the remedies they point at
 * (see remedy.h). Two tables drive it:
 *
 *   shown    for each (test, metric) of the threshold table, the series that bear on it: latency
 *            → the pool's waits and timeouts, a Redis outage → unavailable answers, the inbox and
 *            the circuit, recovery → reconnects and the circuit, the backlog → the stream and the
 *            inbox, and so on;
 *   remedies rules that read the changes and the service's configuration and, when they point at
 *            one knob, say so with the numbers ("enable the PostgreSQL inbox fallback …: it was
 *            off — 2,001 webhooks answered unavailable and none went to the inbox").
 *
 * The numbers come from probe/probe_metrics.c (the scrapes, each series' change, its text); this
 * file only decides what a verdict shows and which remedy applies. */
#include "verdict/remedy.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define SHOWN_MAX TH_SERVICE_MAX
#define HINTS_MAX 2
#define SHOWN_END (-1) /* ends a row of shown before SHOWN_MAX */

/* ---- what each verdict shows ----------------------------------------------------------------- */

typedef struct shown_row {
    const char *tests;   /* space-separated test names of the threshold table */
    const char *metrics; /* space-separated metrics */
    int series[SHOWN_MAX + 1];
} shown_row;

static const shown_row shown[] = {
    {"webhook",
     "rps p50_ms p95_ms p99_ms p999_ms",
     {PROBE_METRICS_S_POOL_WAITS, PROBE_METRICS_S_POOL_TIMEOUTS, PROBE_METRICS_S_POOL_IN_USE,
      PROBE_METRICS_S_SHED, PROBE_METRICS_S_WH_UNAVAILABLE, PROBE_METRICS_S_POOL_SIZE, SHOWN_END}},
    {"webhook",
     "error_rate availability timeouts",
     {PROBE_METRICS_S_SHED, PROBE_METRICS_S_WH_UNAVAILABLE, PROBE_METRICS_S_WH_503,
      PROBE_METRICS_S_WH_500, PROBE_METRICS_S_WH_401, PROBE_METRICS_S_WH_400,
      PROBE_METRICS_S_POOL_TIMEOUTS, PROBE_METRICS_S_REDIS_ERRORS}},
    {"race",
     "resolution_avg_ms resolution_p99_ms race_error_rate",
     {PROBE_METRICS_S_POOL_WAITS, PROBE_METRICS_S_POOL_TIMEOUTS, PROBE_METRICS_S_POOL_IN_USE,
      PROBE_METRICS_S_SHED, PROBE_METRICS_S_ACCEPT_503, PROBE_METRICS_S_POOL_SIZE, SHOWN_END}},
    {"race",
     "race_conditions win_rate integrity",
     {PROBE_METRICS_S_ACCEPTS_WON, PROBE_METRICS_S_ACCEPTS_LOST, PROBE_METRICS_S_ACCEPT_503,
      PROBE_METRICS_S_POOL_TIMEOUTS, SHOWN_END}},
    {"redis",
     "outage_error_rate outage_p99_ms",
     {PROBE_METRICS_S_WH_UNAVAILABLE, PROBE_METRICS_S_WH_INBOX, PROBE_METRICS_S_LAST_RESORT,
      PROBE_METRICS_S_CIRCUIT_OPENS, PROBE_METRICS_S_REDIS_ERRORS, PROBE_METRICS_S_SHED,
      PROBE_METRICS_S_WH_503, SHOWN_END}},
    {"redis",
     "recovery_s",
     {PROBE_METRICS_S_CIRCUIT_OPENS, PROBE_METRICS_S_CIRCUIT_STATE, PROBE_METRICS_S_REDIS_ERRORS,
      PROBE_METRICS_S_WH_UNAVAILABLE, PROBE_METRICS_S_WH_INBOX, SHOWN_END}},
    {"redis db",
     "max_backlog drain_s",
     {PROBE_METRICS_S_STREAM_LAG, PROBE_METRICS_S_STREAM_PENDING, PROBE_METRICS_S_INBOX_DEPTH,
      PROBE_METRICS_S_INBOX_DRAINED, PROBE_METRICS_S_CLAIMED, SHOWN_END}},
    {"db",
     "recovery_s pool_recovery_s success_rate",
     {PROBE_METRICS_S_PG_RECONNECTS, PROBE_METRICS_S_PG_CONN_ERRORS, PROBE_METRICS_S_POOL_BROKEN,
      PROBE_METRICS_S_POOL_TIMEOUTS, PROBE_METRICS_S_WH_UNAVAILABLE, PROBE_METRICS_S_SHED,
      PROBE_METRICS_S_ACCEPT_503, PROBE_METRICS_S_POOL_SIZE}},
    {"redis db",
     "lost duplicated integrity_violations",
     {PROBE_METRICS_S_POISON, PROBE_METRICS_S_ORDERS_SKIPPED, PROBE_METRICS_S_CLAIMED,
      PROBE_METRICS_S_WH_INBOX, PROBE_METRICS_S_INBOX_DRAINED, SHOWN_END}},
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

int remedy_series_for(const char *test, const char *metric, int *idx, int max) {
    int n = 0;
    for (size_t r = 0; r < sizeof shown / sizeof shown[0]; r++) {
        if (!in_list(shown[r].tests, test) || !in_list(shown[r].metrics, metric)) continue;
        for (int k = 0; k < SHOWN_MAX && shown[r].series[k] != SHOWN_END && n < max; k++)
            idx[n++] = shown[r].series[k];
        break;
    }
    return n;
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
    probe_metrics_format_number(out, n, probe_metrics_change(m, i));
}

/* " (<before><count><after>)" when counter i rose over the run, else "". */
static void rise_note(const probe_metrics *m, int i, const char *before, const char *after,
                      char *out, size_t n) {
    out[0] = '\0';
    if (!(probe_metrics_change(m, i) > 0)) return;
    char c[40];
    count_text(m, i, c, sizeof c);
    snprintf(out, n, " (%s%s%s)", before, c, after);
}

/* 503s during a Redis outage and nothing to the inbox: the fallback is off (or missing). */
static int rule_fallback(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    double un = probe_metrics_change(m, PROBE_METRICS_S_WH_UNAVAILABLE),
           inbox = probe_metrics_change(m, PROBE_METRICS_S_WH_INBOX);
    if (!(un > 0) || isnan(inbox) || inbox > 0) return 0;
    char u[40];
    count_text(m, PROBE_METRICS_S_WH_UNAVAILABLE, u, sizeof u);
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
    double opens = probe_metrics_change(m, PROBE_METRICS_S_CIRCUIT_OPENS);
    char v[48];
    value_text(r, v, sizeof v);
    /* errors the service answered itself (503s) are the fallback's business, not a timeout's */
    if (!strcmp(r->def.metric, "outage_error_rate") &&
        !(probe_metrics_change(m, PROBE_METRICS_S_WH_UNAVAILABLE) == 0))
        return 0;
    if (known(m) && m->cfg.redis_timeout_ms == 0) {
        snprintf(out, n,
                 "give every Redis call a timeout (dispatchd --redis-timeout 50): it ran without "
                 "one, so requests waited as long as Redis did (%s %s%s)",
                 r->def.metric, v, opens == 0 ? "; circuit opens +0" : "");
        return 1;
    }
    double errs = probe_metrics_change(m, PROBE_METRICS_S_REDIS_ERRORS);
    if (!known(m) && opens == 0 && errs > 0) {
        char e[40];
        count_text(m, PROBE_METRICS_S_REDIS_ERRORS, e, sizeof e);
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
    if (probe_metrics_change(m, PROBE_METRICS_S_PG_RECONNECTS) >= 0) {
        char c[40];
        count_text(m, PROBE_METRICS_S_PG_RECONNECTS, c, sizeof c);
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
    double w = probe_metrics_change(m, PROBE_METRICS_S_POOL_WAITS),
           t = probe_metrics_change(m, PROBE_METRICS_S_POOL_TIMEOUTS);
    if ((need_timeouts && !(t > 0)) || (!(w > 0) && !(t > 0))) return 0;
    char ws[40], ts[40], size[64] = "", what[160];
    count_text(m, PROBE_METRICS_S_POOL_WAITS, ws, sizeof ws);
    count_text(m, PROBE_METRICS_S_POOL_TIMEOUTS, ts, sizeof ts);
    if (w > 0 && t > 0)
        snprintf(what, sizeof what, "%s acquisitions waited for a connection and %s gave up", ws,
                 ts);
    else if (w > 0)
        snprintf(what, sizeof what, "%s acquisitions waited for a connection", ws);
    else
        snprintf(what, sizeof what, "%s acquisitions gave up waiting for a connection", ts);
    double sz = probe_metrics_last(m, PROBE_METRICS_S_POOL_SIZE);
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

/* A setting the service reported that a remedy undoes: it applies when cfg.<flag> is 1; its
 * advice ends with a note on counter `series` (between `before` and `after`) when it rose. */
typedef struct flag_rule {
    size_t flag; /* offset of the int in probe_metrics_config */
    int series;
    const char *before, *after, *advice;
} flag_rule;

/* Synchronous ingest: every webhook waits for PostgreSQL inside the request. */
static const flag_rule flag_ingest = {
    offsetof(probe_metrics_config, sync_ingest), PROBE_METRICS_S_WH_SYNC, "",
    " webhooks stored inside the request",
    "queue the webhooks in Redis instead of inserting them inside the request "
    "(dispatchd --ingest queue): it ran with --ingest sync"};

/* Read-then-update accepts: two winners. */
static const flag_rule flag_accept = {
    offsetof(probe_metrics_config, naive_accept), PROBE_METRICS_S_ACCEPTS_WON, "accepts won +", "",
    "accept with one conditional UPDATE (dispatchd --accept-mode atomic): it ran with "
    "--accept-mode naive, which reads, waits, then updates"};

static int flag_advice(const flag_rule *f, const probe_metrics *m, char *out, size_t n) {
    if (!known(m) || *(const int *)((const char *)&m->cfg + f->flag) != 1) return 0;
    char note[96];
    rise_note(m, f->series, f->before, f->after, note, sizeof note);
    snprintf(out, n, "%s%s", f->advice, note);
    return 1;
}

/* Requests shed after waiting for an executor. */
static int rule_shed(const probe_metrics *m, const th_result *r, char *out, size_t n) {
    if (!(probe_metrics_change(m, PROBE_METRICS_S_SHED) > 0)) return 0;
    char c[40];
    count_text(m, PROBE_METRICS_S_SHED, c, sizeof c);
    snprintf(out, n,
             "%s requests were shed after waiting for an executor: add executors%s or relieve the "
             "database they wait for",
             c, known(m) ? " (dispatchd --executors)" : "");
    return 1;
}

typedef struct remedy_row {
    const char *tests, *metrics;
    rule_fn fn;            /* the rule; NULL: */
    const flag_rule *flag; /* the setting it undoes */
} remedy_row;

/* In order of preference; at most HINTS_MAX apply to one verdict. */
static const remedy_row remedies[] = {
    {"redis", "outage_error_rate", rule_fallback, NULL},
    {"redis", "outage_p99_ms outage_error_rate recovery_s", rule_redis_timeout, NULL},
    {"db", "recovery_s pool_recovery_s", rule_reconnect, NULL},
    {"db", "success_rate", NULL, &flag_ingest},
    {"webhook race",
     "rps p50_ms p95_ms p99_ms p999_ms resolution_avg_ms resolution_p99_ms "
     "race_error_rate",
     rule_pool, NULL},
    {"webhook", "rps p50_ms p95_ms p99_ms p999_ms", NULL, &flag_ingest},
    {"race", "race_conditions win_rate integrity", NULL, &flag_accept},
    {"webhook race db", "error_rate availability timeouts race_error_rate success_rate", rule_shed,
     NULL},
    {"webhook", "error_rate availability timeouts", rule_pool_timeouts, NULL},
    {"webhook", "error_rate availability timeouts", NULL, &flag_ingest},
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
        probe_metrics_item_text(m, idx[k], item, sizeof item);
        size_t need = strlen(item) + (tl ? 2 : strlen(open)) + strlen(close);
        if (used + tl + need >= cap) break;
        tl += (size_t)snprintf(text + tl, sizeof text - tl, "%s%s", tl ? ", " : open, item);
    }
    if (tl) snprintf(r->evidence + used, cap - used, "%s%s", text, close);
}

void remedy_annotate(const probe_metrics *m, th_result *rs, int n) {
    if (!probe_metrics_compared(m)) return;
    int nseries;
    const probe_metrics_series *series = probe_metrics_series_table(&nseries);
    for (int i = 0; i < n; i++) {
        th_result *r = &rs[i];
        if (r->status != TH_ORANGE && r->status != TH_RED) continue;
        int idx[SHOWN_MAX], ni = remedy_series_for(r->def.test, r->def.metric, idx, SHOWN_MAX);
        int show[SHOWN_MAX], ns = 0;
        for (int k = 0; k < ni; k++)
            if (probe_metrics_moved(m, idx[k])) show[ns++] = idx[k];
        if (ns) { /* settings only beside series that moved */
            for (int k = 0; k < ni; k++)
                if (!strcmp(series[idx[k]].kind, "setting") &&
                    !isnan(probe_metrics_last(m, idx[k])))
                    show[ns++] = idx[k];
            append_evidence(r, m, show, ns);
            r->nservice = 0;
            for (int k = 0; k < ns && r->nservice < TH_SERVICE_MAX; k++) {
                th_service_metric *s = &r->service[r->nservice++];
                const probe_metrics_series *d = &series[show[k]];
                snprintf(s->series, sizeof s->series, "%s", d->selector);
                snprintf(s->label, sizeof s->label, "%s", d->label);
                s->kind = d->kind;
                s->start = probe_metrics_start(m, show[k]);
                s->fault_end = probe_metrics_value(m, PROBE_METRICS_FAULT_END, show[k]);
                s->end = probe_metrics_last(m, show[k]);
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
            const remedy_row *row = &remedies[k];
            if (!(row->fn ? row->fn(m, r, h, sizeof h) : flag_advice(row->flag, m, h, sizeof h)))
                continue;
            if (used + strlen(h) + 3 >= sizeof r->service_remedy) break;
            used += (size_t)snprintf(r->service_remedy + used, sizeof r->service_remedy - used,
                                     "%s%s", hints ? "; " : "", h);
            hints++;
        }
    }
}
