/* db.c — the PostgreSQL pool and every SQL statement dispatchd runs (see db.h).
 *
 * Connections. Each is made with PQconnectStartParams/PQconnectPoll under our own deadline
 * (libpq's connect_timeout cannot go below 2 s), with TCP keepalives and tcp_user_timeout, and is
 * then set up: statement_timeout, the schema (once per process, see below) and every statement of
 * the table below prepared (unless --pg-prepare off, see "Statements"). Statements run in
 * non-blocking mode with a client-side deadline, so a database that stops answering (a network
 * partition, not just a crash) costs a request at most --pg-timeout, never a hung thread.
 *
 * Pool. A fixed array of connections, each idle, busy, broken or being (re)connected, under one
 * mutex. db_acquire() takes an idle connection; when all healthy ones are busy it waits (bounded
 * by --pg-acquire-timeout) on a condition variable; when none is healthy the database is down and
 * it returns NULL at once — that is what lets POST /orders/ID/accept answer 503 within a few
 * milliseconds during an outage. A failure is classified by SQLSTATE: class 08 (connection
 * exception) and 57P (operator intervention: admin shutdown, crash shutdown, cannot connect now),
 * or a dead socket, or the deadline, mark the connection broken.
 *
 * Reconnection, tuned ("probe"): a keeper thread owns broken connections. It reconnects each with
 * exponential backoff from 50 ms to 1 s; while any is broken it also probes every 100 ms, and when
 * a probe connects, every other broken connection is retried at once — so after the database
 * comes back the pool is whole within about 100 ms. Every 50 ms it also looks at the sockets of
 * idle connections (poll with zero timeout, PQconsumeInput): a restarted server closes them, and
 * finding that before a request does turns "first request after a restart fails" into "no request
 * fails". Untuned ("lazy"): no keeper; a broken connection stays broken until a request finds no
 * idle one, and then that request reconnects synchronously — a connect attempt inside a request.
 *
 * Statements. By default (--pg-prepare on) every statement of the table below is prepared once
 * per connection (named) and executed by name: parsed and planned once. A transaction-mode
 * pooler (PgBouncer before 1.21) hands each transaction to whichever server connection is free,
 * so a statement prepared on one is unknown on the next ("prepared statement does not exist",
 * or "already exists" when two of our connections prepare on the same server). --pg-prepare off
 * sends each statement unnamed with its parameters (Parse/Bind/Execute/Sync in one round trip,
 * PQsendQueryParams), which such a pooler passes through, at the price of parsing and planning
 * it every time; it also sets no session state, since a session setting would stick to one
 * server connection and miss the others — statement_timeout then belongs to the role or the
 * pooler, and the client-side deadline (--pg-timeout) still bounds every statement.
 *
 * Schema. The first connection a process makes applies the embedded schema (schema.c) in one
 * transaction that first takes a transaction-level advisory lock, so two instances starting at
 * once serialise instead of failing on CREATE TABLE IF NOT EXISTS races in the catalogue. */
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "schema.h"

#include "core/clock.h"
#include "core/err.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_NS  (50 * NS_PER_MS)
#define BACKOFF_MAX_NS  NS_PER_S
#define PROBE_NS        (100 * NS_PER_MS)
#define KEEPER_TICK_NS  (50 * NS_PER_MS)
#define SCHEMA_TIMEOUT  (30 * NS_PER_S)
#define SCHEMA_LOCK_KEY "7212745103442801" /* pg_advisory_xact_lock key: "dispatchd schema" */
#define TS_FMT          "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"
#define UTC(col)        "to_char(" col " AT TIME ZONE 'UTC', " TS_FMT ")"
/* An order's status as the vendors see it: open, accepted, or cancelled (an open order whose
 * order.cancelled was applied: it can no longer be accepted) */
#define STATUS(t)                                                                                  \
    "CASE WHEN " t ".status = 'open' AND " t ".state = 'cancelled' THEN 'cancelled' ELSE " t       \
    ".status END"

static const struct {
    const char *name;
    const char *sql;
} stmts[DB_STMTS] = {
    [DB_ORDERS_BATCH] = {"orders_batch",
                         "INSERT INTO orders (webhook_id, order_id, customer_id, total_cents, "
                         "payload, received_at) "
                         "SELECT w, o, c, n, p, to_timestamp(t / 1000.0) "
                         "FROM json_to_recordset($1::json) "
                         "AS x(w text, t bigint, o text, c text, n bigint, p json) "
                         "ON CONFLICT DO NOTHING"},
    [DB_ORDERS_BATCH_PLAIN] = {"orders_batch_plain",
                               "INSERT INTO orders (webhook_id, order_id, customer_id, "
                               "total_cents, payload, received_at) "
                               "SELECT w, o, c, n, p, to_timestamp(t / 1000.0) "
                               "FROM json_to_recordset($1::json) "
                               "AS x(w text, t bigint, o text, c text, n bigint, p json)"},
    [DB_ORDER_INSERT] = {"order_insert",
                         "INSERT INTO orders (webhook_id, order_id, customer_id, total_cents, "
                         "payload, received_at) VALUES ($1, $3, $4, $5, $2::json, now()) "
                         "ON CONFLICT DO NOTHING"},
    [DB_INBOX_INSERT] = {"inbox_insert",
                         "INSERT INTO webhook_inbox (webhook_id, order_id, customer_id, "
                         "total_cents, payload, event_type, version) "
                         "SELECT $1::text, $3, $4, $5::bigint, $2::json, $6, $7::integer "
                         "WHERE NOT EXISTS (SELECT 1 FROM orders WHERE webhook_id = $1::text) "
                         "AND NOT EXISTS (SELECT 1 FROM webhook_receipts WHERE webhook_id = "
                         "$1::text) ON CONFLICT DO NOTHING"},
    [DB_INBOX_DRAIN] =
        {"inbox_drain",
         "WITH b AS (SELECT webhook_id FROM webhook_inbox "
         "WHERE event_type = 'order.created' AND version = 1 ORDER BY received_at LIMIT $1 "
         "FOR UPDATE SKIP LOCKED), "
         "m AS (DELETE FROM webhook_inbox i USING b WHERE i.webhook_id = b.webhook_id "
         "RETURNING i.*), "
         "ins AS (INSERT INTO orders (webhook_id, order_id, customer_id, total_cents, payload, "
         "received_at) "
         "SELECT webhook_id, order_id, customer_id, total_cents, payload, received_at FROM m "
         "ON CONFLICT DO NOTHING RETURNING 1) "
         "SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM ins), 0"},
    [DB_INBOX_DRAIN_EVENTS] =
        {"inbox_drain_events",
         "WITH b AS (SELECT webhook_id FROM webhook_inbox "
         "WHERE NOT (event_type = 'order.created' AND version = 1) ORDER BY received_at "
         "LIMIT $1 FOR UPDATE SKIP LOCKED), "
         "m AS (DELETE FROM webhook_inbox i USING b WHERE i.webhook_id = b.webhook_id "
         "RETURNING i.*) "
         "SELECT (SELECT count(*) FROM m), a.created, a.handled FROM apply_order_events("
         "(SELECT coalesce(json_agg(json_build_object('w', webhook_id, 't', "
         "(extract(epoch FROM received_at) * 1000)::bigint, 'o', order_id, 'c', customer_id, "
         "'n', total_cents, 'p', payload, 'e', event_type, 'v', version) ORDER BY received_at), "
         "'[]') FROM m), $2::boolean, $3::boolean) a"},
    [DB_EVENTS_APPLY] = {"events_apply",
                         "SELECT handled, created FROM apply_order_events($1::json, "
                         "$2::boolean, $3::boolean)"},
    [DB_ACCEPT] =
        {"accept",
         "WITH upd AS (UPDATE orders SET status = 'accepted', vendor_id = $2, "
         "accepted_at = now() WHERE order_id = $1 AND status = 'open' "
         "AND state <> 'cancelled' "
         "RETURNING order_id, vendor_id, accepted_at), "
         "ins AS (INSERT INTO order_assignments (order_id, vendor_id, accepted_at) "
         "SELECT order_id, vendor_id, accepted_at FROM upd) "
         "SELECT true, " UTC(
             "accepted_at") ", NULL FROM upd "
                            "UNION ALL SELECT false, " STATUS(
                                "o") ", o.vendor_id FROM orders o "
                                     "WHERE o.order_id = $1 AND NOT EXISTS (SELECT 1 FROM upd)"},
    [DB_ORDER_STATUS] = {"order_status",
                         "SELECT " STATUS("orders") ", vendor_id FROM orders WHERE order_id = $1"},
    [DB_ORDER_GET] = {"order_get", "SELECT order_id, " STATUS("orders") ", vendor_id, " UTC(
                                       "created_at") ", " UTC("accepted_at") ", state, version "
                                                                             "FROM orders WHERE "
                                                                             "order_id = $1"},
    [DB_NAIVE_UPDATE] = {"naive_update", "UPDATE orders SET status = 'accepted', vendor_id = $2, "
                                         "accepted_at = now() WHERE order_id = $1 "
                                         "RETURNING " UTC("accepted_at")},
    [DB_NAIVE_ASSIGN] = {"naive_assign",
                         "INSERT INTO order_assignments (order_id, vendor_id, accepted_at) "
                         "VALUES ($1, $2, now()) ON CONFLICT (order_id) DO UPDATE "
                         "SET vendor_id = EXCLUDED.vendor_id, accepted_at = EXCLUDED.accepted_at"},
    [DB_INBOX_DEPTH] = {"inbox_depth", "SELECT count(*) FROM webhook_inbox"},
    [DB_PING] = {"ping", "SELECT 1"},
};

typedef enum cstate { C_IDLE, C_BUSY, C_BROKEN, C_CONNECTING } cstate;

struct db_conn {
    PGconn *pg;
    cstate state;
    bool lost; /* set by db_exec, read by db_release */
    int64_t next_ns, backoff_ns;
    int idx;
};

static struct {
    const dcfg *cfg;
    db_conn *conns;
    int n;
    pthread_mutex_t mu;
    pthread_cond_t idle_cv;
    pthread_cond_t keeper_cv;
    bool stop;
    bool keeper_started;
    pthread_t keeper;
    int64_t last_probe_ns;
    bool was_down;
    pthread_mutex_t schema_mu;
    bool schema_done;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .schema_mu = PTHREAD_MUTEX_INITIALIZER};

static dlog_limit connect_limit, lost_limit, pooler_limit;

/* The hint for the errors a transaction-mode pooler causes to named prepared statements:
 * 26000 (does not exist) and 42P05 (already exists). */
#define POOLER_HINT "is a transaction-mode pooler (PgBouncer) in between? run with --pg-prepare off"
static bool pooler_state(const char *sqlstate) {
    return sqlstate && (strcmp(sqlstate, "26000") == 0 || strcmp(sqlstate, "42P05") == 0);
}

/* ---- libpq with deadlines ----------------------------------------------------------------- */

/* Waits for events on fd until deadline: revents, 0 on timeout, -1 on error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    if (fd < 0) return -1;
    for (;;) {
        int64_t left = deadline - clock_now_ns();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)((left + NS_PER_MS - 1) / NS_PER_MS));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) continue; /* re-check the deadline */
        return p.revents;
    }
}

static int flush_all(PGconn *pg, int64_t deadline) {
    for (;;) {
        int r = PQflush(pg);
        if (r == 0) return 0;
        if (r < 0) return -1;
        int ev = wait_fd(PQsocket(pg), POLLOUT | POLLIN, deadline);
        if (ev <= 0) return -1;
        if ((ev & POLLIN) && !PQconsumeInput(pg)) return -1;
    }
}

/* Collects every result of the command in flight; returns the first error result, else the
 * first result (the others are cleared); NULL when the connection failed or the deadline passed
 * (*timed_out says which). */
static PGresult *collect(PGconn *pg, int64_t deadline, bool *timed_out) {
    PGresult *keep = NULL;
    *timed_out = false;
    for (;;) {
        while (PQisBusy(pg)) {
            int ev = wait_fd(PQsocket(pg), POLLIN, deadline);
            if (ev == 0) *timed_out = true;
            if (ev <= 0 || !PQconsumeInput(pg)) {
                PQclear(keep);
                return NULL;
            }
        }
        PGresult *r = PQgetResult(pg);
        if (r == NULL) break;
        ExecStatusType st = PQresultStatus(r);
        bool r_err = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
        if (keep == NULL) {
            keep = r;
        } else if (r_err && (PQresultStatus(keep) == PGRES_COMMAND_OK ||
                             PQresultStatus(keep) == PGRES_TUPLES_OK)) {
            PQclear(keep);
            keep = r;
        } else {
            PQclear(r);
        }
    }
    return keep;
}

/* First line of a libpq message, into out. */
static void first_line(const char *msg, char *out, size_t outlen) {
    if (msg == NULL) msg = "unknown error";
    size_t n = strcspn(msg, "\n");
    if (n >= outlen) n = outlen - 1;
    memcpy(out, msg, n);
    out[n] = '\0';
}

/* A simple-protocol command (possibly several statements) under a deadline; 0 or -1. */
static int simple(PGconn *pg, const char *sql, int64_t deadline, char *err, size_t errlen) {
    if (!PQsendQuery(pg, sql) || flush_all(pg, deadline)) {
        first_line(PQerrorMessage(pg), err, errlen);
        return -1;
    }
    bool to;
    PGresult *r = collect(pg, deadline, &to);
    if (r == NULL) {
        if (to)
            err_set(err, errlen, "timed out");
        else
            first_line(PQerrorMessage(pg), err, errlen);
        return -1;
    }
    ExecStatusType st = PQresultStatus(r);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        first_line(PQresultErrorMessage(r), err, errlen);
        rc = -1;
    }
    PQclear(r);
    return rc;
}

static void quiet_notice(void *arg, const char *msg) {
    (void)arg;
    (void)msg;
}

static int apply_schema(PGconn *pg, char *err, size_t errlen) {
    pthread_mutex_lock(&P.schema_mu);
    int rc = 0;
    if (!P.schema_done) {
        size_t n = strlen(schema_sql) + 256;
        char *sql = malloc(n);
        if (sql == NULL) {
            err_set(err, errlen, "out of memory");
            rc = -1;
        } else {
            snprintf(sql, n, "BEGIN; SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_KEY "); %s; COMMIT",
                     schema_sql);
            char e[200];
            rc = simple(pg, sql, clock_now_ns() + SCHEMA_TIMEOUT, e, sizeof e);
            free(sql);
            if (rc == 0) {
                P.schema_done = true;
                dlog(DLOG_INFO, "postgres: schema applied");
            } else {
                err_set(err, errlen, "applying the schema: %s", e);
            }
        }
    }
    pthread_mutex_unlock(&P.schema_mu);
    return rc;
}

/* A new connection, set up (statement_timeout, schema, prepared statements); NULL with err. */
static PGconn *connect_one(char *err, size_t errlen) {
    const dcfg *c = P.cfg;
    char ct[16], st[64];
    int ct_s = (c->pg_connect_timeout_ms + 999) / 1000;
    snprintf(ct, sizeof ct, "%d", ct_s < 2 ? 2 : ct_s);
    const char *kw[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        "application_name",    "dbname",           NULL};
    const char *vals[] = {ct, "1", "5", "2", "3", "5000", "dispatchd", c->pg_url, NULL};
    int64_t deadline = clock_now_ns() + (int64_t)c->pg_connect_timeout_ms * NS_PER_MS;
    PGconn *pg = PQconnectStartParams(kw, vals, 1);
    if (pg == NULL) {
        err_set(err, errlen, "out of memory");
        return NULL;
    }
    /* Before the first byte is read: libpq's default prints server notices (and a FATAL that
     * reaches an idle connection, as at a server shutdown) to stderr, outside the log format. */
    PQsetNoticeProcessor(pg, quiet_notice, NULL);
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    if (PQstatus(pg) == CONNECTION_BAD) ps = PGRES_POLLING_FAILED;
    while (ps != PGRES_POLLING_OK) {
        if (ps == PGRES_POLLING_FAILED) {
            first_line(PQerrorMessage(pg), err, errlen);
            goto fail;
        }
        int ev = wait_fd(PQsocket(pg), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (ev <= 0) {
            err_set(err, errlen, "connection attempt timed out after %d ms",
                    c->pg_connect_timeout_ms);
            goto fail;
        }
        ps = PQconnectPoll(pg);
    }
    if (PQsetnonblocking(pg, 1)) {
        first_line(PQerrorMessage(pg), err, errlen);
        goto fail;
    }
    deadline = clock_now_ns() + (int64_t)c->pg_connect_timeout_ms * NS_PER_MS;
    char e[200];
    if (c->pg_prepare) { /* session state: only where the session is ours */
        snprintf(st, sizeof st, "SET statement_timeout = %d", c->pg_timeout_ms);
        if (simple(pg, st, deadline, e, sizeof e)) {
            err_set(err, errlen, "setting statement_timeout: %s", e);
            goto fail;
        }
    }
    if (apply_schema(pg, err, errlen)) goto fail;
    for (int i = 0; c->pg_prepare && i < DB_STMTS; i++) {
        bool to;
        PGresult *r = NULL;
        if (PQsendPrepare(pg, stmts[i].name, stmts[i].sql, 0, NULL) && flush_all(pg, deadline) == 0)
            r = collect(pg, deadline, &to);
        if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK) {
            const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
            first_line(r ? PQresultErrorMessage(r) : PQerrorMessage(pg), e, sizeof e);
            err_set(err, errlen, "preparing %s: %s%s", stmts[i].name, e,
                    pooler_state(state) ? " (" POOLER_HINT ")" : "");
            PQclear(r);
            goto fail;
        }
        PQclear(r);
    }
    return pg;
fail:
    PQfinish(pg);
    return NULL;
}

/* ---- statements --------------------------------------------------------------------------- */

/* Connection-class SQLSTATEs: the connection is unusable. */
static bool conn_class(const char *s) {
    return strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0;
}
/* Transient SQLSTATEs: the statement may succeed later, the connection is fine (query canceled
 * by statement_timeout, insufficient resources, serialization/deadlock, lock not available). */
static bool transient_class(const char *s) {
    return strcmp(s, "57014") == 0 || strncmp(s, "53", 2) == 0 || strncmp(s, "40", 2) == 0 ||
           strcmp(s, "55P03") == 0;
}

void db_exec(db_conn *c, db_stmt s, int nparams, const char *const *values, const int *lengths,
             int timeout_ms, db_result *out) {
    (void)lengths; /* text parameters are NUL-terminated */
    out->rc = DB_OK;
    out->res = NULL;
    out->sqlstate[0] = '\0';
    out->msg[0] = '\0';
    int64_t deadline = clock_now_ns() + (int64_t)timeout_ms * NS_PER_MS;
    PGconn *pg = c->pg;
    bool to = false;
    PGresult *r = NULL;
    int sent = P.cfg->pg_prepare
                   ? PQsendQueryPrepared(pg, stmts[s].name, nparams, values, NULL, NULL, 0)
                   : PQsendQueryParams(pg, stmts[s].sql, nparams, NULL, values, NULL, NULL, 0);
    if (sent && flush_all(pg, deadline) == 0) r = collect(pg, deadline, &to);
    if (r == NULL) {
        if (to)
            err_set(out->msg, sizeof out->msg, "%s: no answer within %d ms", stmts[s].name,
                    timeout_ms);
        else
            first_line(PQerrorMessage(pg), out->msg, sizeof out->msg);
        goto lost;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        out->res = r;
        return;
    }
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(out->sqlstate, sizeof out->sqlstate, "%s", state ? state : "");
    first_line(primary ? primary : PQresultErrorMessage(r), out->msg, sizeof out->msg);
    bool no_state = state == NULL;
    PQclear(r); /* state and primary pointed into r: use the copies from here on */
    if (pooler_state(out->sqlstate))
        dlog_limited(&pooler_limit, 10000, DLOG_ERROR, "postgres: %s: %s (" POOLER_HINT ")",
                     stmts[s].name, out->msg);
    if (no_state || conn_class(out->sqlstate) || PQstatus(pg) == CONNECTION_BAD) goto lost;
    out->rc = transient_class(out->sqlstate) ? DB_UNAVAILABLE : DB_SQL_ERROR;
    return;
lost:
    c->lost = true;
    out->rc = DB_UNAVAILABLE;
    met_add(MET_PG_CONN_ERRORS, 1);
    dlog_limited(&lost_limit, 1000, DLOG_WARN, "postgres: connection %d lost (%s)", c->idx,
                 out->msg);
}

/* ---- pool --------------------------------------------------------------------------------- */

static void lazy_connect(db_conn *c) {
    if (c->pg) PQfinish(c->pg);
    char err[256];
    c->pg = connect_one(err, sizeof err);
    if (c->pg) {
        met_add(MET_PG_RECONNECTS, 1);
        dlog(DLOG_INFO, "postgres: connection %d established", c->idx);
    } else {
        dlog_limited(&connect_limit, 1000, DLOG_WARN, "postgres: cannot connect: %s", err);
    }
}

db_conn *db_acquire(int wait_ms) {
    int64_t deadline = clock_now_ns() + (int64_t)wait_ms * NS_PER_MS;
    struct timespec ts = {.tv_sec = deadline / NS_PER_S, .tv_nsec = deadline % NS_PER_S};
    bool lazy = P.cfg->pg_reconnect == DCFG_RECONNECT_LAZY, waited = false;
    pthread_mutex_lock(&P.mu);
    while (!P.stop) {
        int busy = 0;
        db_conn *broken = NULL;
        for (int i = 0; i < P.n; i++) {
            db_conn *c = &P.conns[i];
            if (c->state == C_IDLE) {
                c->state = C_BUSY;
                pthread_mutex_unlock(&P.mu);
                return c;
            }
            if (c->state == C_BUSY) busy++;
            if (c->state == C_BROKEN && broken == NULL) broken = c;
        }
        if (lazy && broken) {
            broken->state = C_CONNECTING;
            pthread_mutex_unlock(&P.mu);
            lazy_connect(broken);
            pthread_mutex_lock(&P.mu);
            broken->state = broken->pg ? C_BUSY : C_BROKEN;
            pthread_mutex_unlock(&P.mu);
            if (broken->pg) return broken;
            met_add(MET_PG_TIMEOUTS, 1);
            return NULL;
        }
        if (busy == 0) break; /* nothing healthy: the database is down, do not wait */
        if (!waited) {
            waited = true;
            met_add(MET_PG_WAITS, 1);
        }
        if (pthread_cond_timedwait(&P.idle_cv, &P.mu, &ts) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&P.mu);
    met_add(MET_PG_TIMEOUTS, 1);
    return NULL;
}

void db_release(db_conn *c) {
    bool broken =
        c->lost || PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE;
    pthread_mutex_lock(&P.mu);
    c->lost = false;
    if (broken) {
        c->state = C_BROKEN;
        c->next_ns = 0;
        pthread_cond_signal(&P.keeper_cv);
    } else {
        c->state = C_IDLE;
        pthread_cond_signal(&P.idle_cv);
    }
    pthread_mutex_unlock(&P.mu);
}

void db_run(db_stmt s, int nparams, const char *const *values, const int *lengths, int wait_ms,
            int timeout_ms, db_result *out) {
    for (int attempt = 0; attempt < 2; attempt++) {
        db_conn *c = db_acquire(wait_ms);
        if (c == NULL) {
            out->rc = DB_UNAVAILABLE;
            out->res = NULL;
            out->sqlstate[0] = '\0';
            snprintf(out->msg, sizeof out->msg, "no PostgreSQL connection available");
            return;
        }
        db_exec(c, s, nparams, values, lengths, timeout_ms, out);
        bool lost = c->lost;
        db_release(c);
        if (!(lost && P.cfg->pg_reconnect == DCFG_RECONNECT_PROBE)) return;
    }
}

/* Whether an idle connection's socket says the server closed it. */
static bool idle_dead(PGconn *pg) {
    struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
    if (p.fd < 0) return true;
    if (poll(&p, 1, 0) <= 0) return false;
    return !PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK;
}

static void *keeper_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&P.mu);
    while (!P.stop) {
        int64_t now = clock_now_ns();
        int broken_left = 0;
        for (int i = 0; i < P.n && !P.stop; i++) {
            db_conn *c = &P.conns[i];
            if (c->state != C_BROKEN) continue;
            bool probe = now - P.last_probe_ns >= PROBE_NS;
            if (now < c->next_ns && !probe) {
                broken_left++;
                continue;
            }
            if (probe) P.last_probe_ns = now;
            c->state = C_CONNECTING;
            PGconn *old = c->pg;
            c->pg = NULL;
            pthread_mutex_unlock(&P.mu);
            if (old) PQfinish(old);
            char err[256];
            PGconn *pg = connect_one(err, sizeof err);
            pthread_mutex_lock(&P.mu);
            now = clock_now_ns();
            if (pg) {
                c->pg = pg;
                c->state = C_IDLE;
                c->backoff_ns = BACKOFF_MIN_NS;
                met_add(MET_PG_RECONNECTS, 1);
                for (int j = 0; j < P.n; j++) P.conns[j].next_ns = now; /* it is back: all now */
                pthread_cond_broadcast(&P.idle_cv);
                if (P.was_down) dlog(DLOG_INFO, "postgres: connection %d re-established", i);
            } else {
                c->state = C_BROKEN;
                c->backoff_ns = c->backoff_ns ? c->backoff_ns * 2 : BACKOFF_MIN_NS;
                if (c->backoff_ns > BACKOFF_MAX_NS) c->backoff_ns = BACKOFF_MAX_NS;
                c->next_ns = now + c->backoff_ns;
                P.was_down = true;
                broken_left++;
                dlog_limited(&connect_limit, 1000, DLOG_WARN, "postgres: cannot connect: %s", err);
            }
        }
        if (broken_left == 0 && P.was_down) {
            P.was_down = false;
            dlog(DLOG_INFO, "postgres: pool complete (%d connections)", P.n);
        }
        for (int i = 0; i < P.n && !P.stop; i++) {
            db_conn *c = &P.conns[i];
            if (c->state != C_IDLE) continue;
            c->state = C_BUSY;
            pthread_mutex_unlock(&P.mu);
            bool dead = idle_dead(c->pg);
            pthread_mutex_lock(&P.mu);
            if (dead) {
                c->state = C_BROKEN;
                c->next_ns = 0;
                P.was_down = true;
                met_add(MET_PG_CONN_ERRORS, 1);
                dlog(DLOG_WARN, "postgres: idle connection %d closed by the server", i);
            } else {
                c->state = C_IDLE;
                pthread_cond_signal(&P.idle_cv);
            }
        }
        int64_t wake = clock_now_ns() + KEEPER_TICK_NS;
        struct timespec ts = {.tv_sec = wake / NS_PER_S, .tv_nsec = wake % NS_PER_S};
        pthread_cond_timedwait(&P.keeper_cv, &P.mu, &ts);
    }
    pthread_mutex_unlock(&P.mu);
    return NULL;
}

int db_start(const dcfg *c, char *err, size_t errlen) {
    P.cfg = c;
    P.n = c->pg_pool;
    P.conns = calloc((size_t)P.n, sizeof *P.conns);
    if (P.conns == NULL) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&P.idle_cv, &ca);
    pthread_cond_init(&P.keeper_cv, &ca);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < P.n; i++) {
        P.conns[i].idx = i;
        P.conns[i].state = C_BROKEN;
    }
    if (!c->pg_prepare)
        dlog(DLOG_INFO, "postgres: --pg-prepare off: statements are sent unnamed and no session "
                        "setting is made (set statement_timeout on the role or in the pooler); "
                        "--pg-timeout still bounds every statement here");
    if (c->pg_reconnect == DCFG_RECONNECT_LAZY) {
        for (int i = 0; i < P.n; i++) {
            lazy_connect(&P.conns[i]);
            if (P.conns[i].pg) P.conns[i].state = C_IDLE;
        }
        return 0;
    }
    if (pthread_create(&P.keeper, NULL, keeper_main, NULL)) {
        err_set(err, errlen, "cannot start the PostgreSQL keeper thread");
        return -1;
    }
    P.keeper_started = true;
    /* give the keeper one connection attempt before the workers and handlers start, so that a
     * normal start does not begin with "unavailable"; a database that is down does not stop us */
    int64_t until = clock_now_ns() + (int64_t)c->pg_connect_timeout_ms * NS_PER_MS + NS_PER_S;
    struct timespec ts = {.tv_sec = until / NS_PER_S, .tv_nsec = until % NS_PER_S};
    pthread_mutex_lock(&P.mu);
    for (;;) {
        bool any = false;
        for (int i = 0; i < P.n; i++) any |= P.conns[i].state == C_IDLE;
        if (any || P.was_down) break;
        if (pthread_cond_timedwait(&P.idle_cv, &P.mu, &ts) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&P.mu);
    return 0;
}

void db_stop(void) {
    if (P.conns == NULL) return;
    pthread_mutex_lock(&P.mu);
    P.stop = true;
    pthread_cond_broadcast(&P.keeper_cv);
    pthread_cond_broadcast(&P.idle_cv);
    pthread_mutex_unlock(&P.mu);
    if (P.keeper_started) pthread_join(P.keeper, NULL);
    for (int i = 0; i < P.n; i++)
        if (P.conns[i].pg) PQfinish(P.conns[i].pg);
    free(P.conns);
    P.conns = NULL;
    pthread_cond_destroy(&P.idle_cv);
    pthread_cond_destroy(&P.keeper_cv);
}

void db_get_stats(db_stats *st) {
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&P.mu);
    st->size = P.n;
    for (int i = 0; i < P.n; i++) {
        switch (P.conns[i].state) {
        case C_IDLE: st->idle++; break;
        case C_BUSY: st->in_use++; break;
        default: st->broken++; break;
        }
    }
    pthread_mutex_unlock(&P.mu);
}

bool db_healthy(void) {
    db_stats st;
    db_get_stats(&st);
    return st.idle + st.in_use > 0;
}
