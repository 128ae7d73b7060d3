/* webhook_audit.c — the exactly-once audit of an event-lifecycle run (--events) on the embedded
 * stack: brink knows which events were acknowledged (a 2xx at some attempt), dispatchd's tables
 * are the ground truth, read back once its stream and inbox have drained:
 *   order_events — one row per handling of an event after the creation (or of any event that came
 *                  through the inbox or sync ingest), with applied and prev_version;
 *   orders       — one row per order, with the version of the newest event applied.
 * From them: applied_twice (webhook-ids handled more than once), stale_overwrites (handlings that
 * wrote an older version over a newer one), lost_after_ack (acknowledged events with no trace:
 * a creation whose order does not exist, any other event never handled) and missing_events
 * (orders whose stored version is below the newest version acknowledged for them). Ids map back
 * to numbers without a table: webhook-id "msg_<run>_<tag>_<seq>", order id "<run>-<tag>-<order>".
 * On a user's schema brink.yaml's audit.events queries stand for the two tables (and, optionally,
 * for the count of events taken but not yet handled); without a third column of stale overwrites
 * in `handled`, stale_overwrites is not known (missing_events still shows what they leave behind).
 */
#include "webhook/webhook_audit.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"

#define DRAIN_TIMEOUT_NS (30 * NS_PER_S)

/* The number after prefix in id, or -1. */
static int64_t number_after(const char *id, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(id, prefix, n) != 0 || !id[n]) return -1;
    char *end;
    long long v = strtoll(id + n, &end, 10);
    return *end || v < 0 ? -1 : v;
}

static const webhook_audit_sql dispatchd_sql = {
    .handled = "SELECT webhook_id, count(*), count(*) FILTER (WHERE applied AND prev_version > "
               "version) FROM order_events WHERE order_id LIKE $1 GROUP BY webhook_id",
    .orders = "SELECT order_id, version FROM orders WHERE order_id LIKE $1",
    .pending = "SELECT count(*) FROM webhook_inbox",
};

static PGresult *query(PGconn *c, const char *sql, const char *param, webhook_eo_audit *a) {
    const char *params[] = {param};
    PGresult *r = PQexecParams(c, sql, strstr(sql, "$1") ? 1 : 0, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorMessage(r);
        err_set(a->error, sizeof a->error, "audit: %.*s", (int)strcspn(m, "\n"), m);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Waits (within the deadline) until dispatchd has handled what it took: on the embedded stack its
 * stream and then its inbox are empty; on a running service (whose queue brink cannot see) the
 * inbox is empty and the run's rows stopped changing for a second. */
/* What the queries see now: the events taken but not handled (pending; 0 without the query) and
 * the handlings and orders of the run (rows). false on a query error. */
static bool progress(PGconn *c, const webhook_audit_sql *q, const char *like, long long *pending,
                     long long *rows, webhook_eo_audit *a) {
    *pending = *rows = 0;
    PGresult *r = q->pending ? query(c, q->pending, like, a) : NULL;
    if (q->pending && !r) return false;
    if (r) *pending = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    if (!(r = query(c, q->handled, like, a))) return false;
    for (int i = 0; i < PQntuples(r); i++) *rows += atoll(PQgetvalue(r, i, 1));
    PQclear(r);
    if (!(r = query(c, q->orders, like, a))) return false;
    *rows += PQntuples(r);
    PQclear(r);
    return true;
}

static bool drain(const webhook_target *t, PGconn *c, const webhook_audit_sql *q, const char *like,
                  webhook_eo_audit *a) {
    int64_t t0 = clock_now_ns(), stable_since = 0;
    long long last = -1, before = -1;
    if (t->st) webhook_target_drain(t, 0, DRAIN_TIMEOUT_NS, &last);
    for (;;) {
        long long inbox, rows;
        if (!progress(c, q, like, &inbox, &rows, a)) return false;
        int64_t now = clock_now_ns();
        a->drain_wait_s = (double)(now - t0) / NS_PER_S;
        if (rows != before) stable_since = now;
        before = rows;
        if (inbox == 0 && (t->st ? last <= 0 : now - stable_since >= NS_PER_S)) return true;
        if (now - t0 > DRAIN_TIMEOUT_NS) {
            if (t->st)
                err_set(a->error, sizeof a->error,
                        "audit: the service did not drain within %d s (%lld in the stream, %lld in "
                        "the inbox)",
                        (int)(DRAIN_TIMEOUT_NS / NS_PER_S), last, inbox);
            else
                err_set(a->error, sizeof a->error,
                        "audit: the service did not drain within %d s (%lld pending, the run's "
                        "rows still changing)",
                        (int)(DRAIN_TIMEOUT_NS / NS_PER_S), inbox);
            return false;
        }
        struct timespec ts = {.tv_nsec = 100 * NS_PER_MS};
        nanosleep(&ts, NULL);
        if (t->st) last = webhook_target_backlog(t);
    }
}

void webhook_audit_events(const char *pg_url, const char *password, const webhook_audit_sql *q,
                          const webhook_target *t, int tag, const lifecycle *lc,
                          const uint8_t *acked, uint64_t nseq, webhook_eo_audit *a) {
    memset(a, 0, sizeof *a);
    a->user = q != NULL;
    if (!q) q = &dispatchd_sql;
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "password", NULL};
    const char *vals[] = {pg_url, "10", "brink-audit", password, NULL};
    if (!password) keys[3] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    PGresult *ev = NULL, *ord = NULL;
    uint8_t *handled = calloc(nseq ? nseq : 1, 1);
    uint64_t norders = 0;
    for (uint64_t s = 0; s < nseq; s++) {
        lifecycle_event e;
        lifecycle_at(lc, s, &e);
        if (e.order + 1 > norders) norders = e.order + 1;
    }
    int *stored = calloc(norders ? norders : 1, sizeof *stored); /* version, 0: no order */
    int *newest = calloc(norders ? norders : 1, sizeof *newest); /* newest acknowledged */
    if (!handled || !stored || !newest) {
        err_set(a->error, sizeof a->error, "audit: out of memory");
        goto out;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        const char *m = PQerrorMessage(c);
        err_set(a->error, sizeof a->error, "audit: cannot connect to PostgreSQL: %.*s",
                (int)strcspn(m, "\n"), m);
        goto out;
    }
    char orders_like[96], id_prefix[64], order_prefix[64];
    snprintf(order_prefix, sizeof order_prefix, "%s-%d-", t->run_id, tag);
    snprintf(orders_like, sizeof orders_like, "%s%%", order_prefix);
    if (!drain(t, c, q, orders_like, a)) goto out;
    snprintf(id_prefix, sizeof id_prefix, "msg_%s_%d_", t->run_id, tag);
    if (!(ev = query(c, q->handled, orders_like, a))) goto out;
    if (!(ord = query(c, q->orders, orders_like, a))) goto out;
    if (PQnfields(ev) < 2 || PQnfields(ord) < 2) {
        err_set(a->error, sizeof a->error, "audit: %s returned %d columns (want %s)",
                PQnfields(ev) < 2 ? "audit.events.handled" : "audit.events.orders",
                PQnfields(ev) < 2 ? PQnfields(ev) : PQnfields(ord),
                PQnfields(ev) < 2 ? "webhook_id, handlings[, stale overwrites]"
                                  : "order_id, version");
        goto out;
    }
    a->stale_known = PQnfields(ev) >= 3;
    for (int i = 0; i < PQntuples(ev); i++) {
        int64_t s = number_after(PQgetvalue(ev, i, 0), id_prefix);
        long long times = atoll(PQgetvalue(ev, i, 1));
        a->handled_rows += times;
        if (times > 1) a->applied_twice++;
        if (a->stale_known) a->stale_overwrites += atoll(PQgetvalue(ev, i, 2));
        if (s >= 0 && (uint64_t)s < nseq) handled[s] = 1;
    }
    for (int i = 0; i < PQntuples(ord); i++) {
        int64_t o = number_after(PQgetvalue(ord, i, 0), order_prefix);
        a->orders++;
        if (o >= 0 && (uint64_t)o < norders) stored[o] = atoi(PQgetvalue(ord, i, 1));
    }
    for (uint64_t s = 0; s < nseq; s++) {
        if (!acked[s]) continue;
        lifecycle_event e;
        lifecycle_at(lc, s, &e);
        a->acknowledged++;
        if (e.version > newest[e.order]) newest[e.order] = e.version;
        bool creation = e.version == 1 && !strcmp(lc->types[e.type], "order.created");
        if (creation ? stored[e.order] == 0 : !handled[s]) a->lost_after_ack++;
    }
    for (uint64_t o = 0; o < norders; o++)
        if (newest[o] > 0 && stored[o] < newest[o]) a->missing_events++;
    a->done = true;
out:
    PQclear(ev);
    PQclear(ord);
    PQfinish(c);
    free(handled);
    free(stored);
    free(newest);
}

json_t *webhook_audit_json(const webhook_eo_audit *a) {
    return json_pack("{s:b, s:s?, s:s, s:f, s:I, s:I, s:I, s:b}", "done", a->done, "error",
                     a->done ? NULL : a->error, "source", a->user ? "config" : "dispatchd",
                     "drain_wait_s", a->drain_wait_s, "events_acknowledged",
                     (json_int_t)a->acknowledged, "handlings", (json_int_t)a->handled_rows,
                     "orders", (json_int_t)a->orders, "stale_known", a->stale_known);
}
