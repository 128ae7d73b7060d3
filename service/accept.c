/* accept.c — the vendor race and order reads (see accept.h).
 *
 * Atomic (tuned): one statement decides the winner —
 *   WITH upd AS (UPDATE orders SET status='accepted', vendor_id=$2, accepted_at=now()
 *                WHERE order_id=$1 AND status='open' RETURNING ...),
 *        ins AS (INSERT INTO order_assignments SELECT ... FROM upd)
 *   SELECT accepted_at FROM upd
 * A single statement is a single transaction: the row lock taken by the UPDATE makes concurrent
 * accepts queue behind the first, and when it commits they re-check status='open' (PostgreSQL's
 * READ COMMITTED re-evaluation), find it false and update nothing. The assignment row is written
 * in the same transaction, and its UNIQUE(order_id) would reject a second winner even if the
 * UPDATE's condition were ever wrong. The same statement also returns, for a request that updated
 * nothing, the order as the statement's snapshot saw it: an order accepted before is the common
 * loser's case (409 naming that winner, one round trip); no row is 404. Only when the snapshot
 * still saw it open — the winner committed while this UPDATE waited for its row lock — is the
 * order read again in a new statement (a fresh snapshot that sees the committed winner).
 *
 * Naive (--accept-mode naive, the untuned picture): read the status; if open, think
 * (--naive-think ms, the time an application spends between its read and its write), then UPDATE
 * unconditionally and upsert the assignment — each statement in its own transaction on whatever
 * pooled connection is free, as an ORM in autocommit mode would. Two vendors that both read
 * "open" both get 200, and the database keeps the last writer: the race brink's detector finds.
 *
 * A cancelled order (order.cancelled applied while it was open) is never accepted: the atomic
 * UPDATE's condition excludes it and the loser's answer is 409 "cancelled". A cancellation that
 * comes after the acceptance is recorded in the order's state; the acceptance stands.
 *
 * Both modes: the pool answers at once when PostgreSQL is down, so the 503 (with Retry-After)
 * comes within milliseconds; a winner's retry gets 409 naming itself. */
#include "accept.h"
#include "reply.h"
#include "db.h"
#include "log.h"
#include "metrics.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define VENDOR_MAX 200
#define ESC_MAX    (6 * 200 + 1)

static const dcfg *cfg;
static dlog_limit err_limit;

static const char BODY_DB_DOWN[] =
    "{\"error\":\"unavailable\",\"detail\":\"PostgreSQL is unavailable\"}\n";
static const char BODY_NOT_FOUND[] = "{\"error\":\"not_found\"}\n";
static const char BODY_INTERNAL[] = "{\"error\":\"internal\"}\n";

void acc_init(const dcfg *c) {
    cfg = c;
}

static void db_down(reply *rep) {
    reply_static(rep, 503, BODY_DB_DOWN);
    rep->retry_after = 1;
}

static void db_failed(const db_result *r, reply *rep) {
    if (r->rc == DB_UNAVAILABLE) {
        db_down(rep);
        return;
    }
    dlog_limited(&err_limit, 1000, DLOG_ERROR, "orders: statement failed: %s (SQLSTATE %s)", r->msg,
                 r->sqlstate);
    reply_static(rep, 500, BODY_INTERNAL);
}

/* Runs stmt with the configured pool wait and statement timeout; false (the reply set) when it
 * failed. */
static bool run(db_stmt stmt, int nparams, const char *const *params, db_result *r, reply *rep) {
    db_run(stmt, nparams, params, NULL, cfg->pg_acquire_ms, cfg->pg_timeout_ms, r);
    if (r->rc == DB_OK) return true;
    db_failed(r, rep);
    return false;
}

/* Whether the statement found the order; if not, the result is freed and the reply is 404. */
static bool found(const db_result *r, reply *rep) {
    if (PQntuples(r->res) > 0) return true;
    PQclear(r->res);
    reply_static(rep, 404, BODY_NOT_FOUND);
    return false;
}

/* 409 naming the winner (column col of the order's row); frees the result. */
static void answer_taken(reply *rep, const db_result *r, int col) {
    char v[ESC_MAX];
    reply_json_escape(PQgetvalue(r->res, 0, col), v, sizeof v);
    PQclear(r->res);
    reply_fmt(rep, 409, "{\"error\":\"already_accepted\",\"winner\":\"%s\"}\n", v);
    met_add(MET_ACCEPT_LOST, 1);
}

/* {"vendor_id": "..."} → vendor (NUL-terminated copy); 0, or -1 with a 400 reply set. */
static int parse_vendor(const char *body, size_t len, char *vendor, size_t cap, reply *rep) {
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        char detail[200];
        reply_json_escape(je.text, detail, sizeof detail);
        reply_fmt(rep, 400, "{\"error\":\"invalid_json\",\"field\":\"body\",\"detail\":\"%s\"}\n",
                  detail);
        return -1;
    }
    json_t *v = json_is_object(root) ? json_object_get(root, "vendor_id") : NULL;
    int rc = 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > VENDOR_MAX ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        reply_static(rep, 400,
                     "{\"error\":\"invalid_schema\",\"field\":\"vendor_id\",\"detail\":"
                     "\"must be a non-empty string of at most 200 characters\"}\n");
        rc = -1;
    } else {
        snprintf(vendor, cap, "%s", json_string_value(v));
    }
    json_decref(root);
    return rc;
}

static void answer_won(reply *rep, const char *order_id, const char *vendor,
                       const char *accepted_at) {
    char o[ESC_MAX], v[ESC_MAX];
    reply_json_escape(order_id, o, sizeof o);
    reply_json_escape(vendor, v, sizeof v);
    reply_fmt(rep, 200, "{\"order_id\":\"%s\",\"vendor_id\":\"%s\",\"accepted_at\":\"%s\"}\n", o, v,
              accepted_at);
    met_add(MET_ACCEPT_WON, 1);
}

/* 409: the order was cancelled before any vendor accepted it; frees the result. */
static void answer_cancelled(reply *rep, const db_result *r) {
    PQclear(r->res);
    reply_static(rep, 409, "{\"error\":\"cancelled\",\"detail\":\"the order was cancelled\"}\n");
    met_add(MET_ACCEPT_LOST, 1);
}

/* The order's status after this request did not win: 409 with the winner, 409 cancelled, or
 * 404. */
static void answer_lost(reply *rep, const char *order_id) {
    const char *params[] = {order_id};
    db_result r;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (!run(DB_ORDER_STATUS, 1, params, &r, rep) || !found(&r, rep)) return;
        if (strcmp(PQgetvalue(r.res, 0, 0), "accepted") == 0) {
            answer_taken(rep, &r, 1);
            return;
        }
        if (strcmp(PQgetvalue(r.res, 0, 0), "cancelled") == 0) {
            answer_cancelled(rep, &r);
            return;
        }
        PQclear(r.res); /* still open: the conditional UPDATE lost to nothing? read again */
    }
    reply_static(rep, 500, BODY_INTERNAL);
}

static void accept_atomic(const char *order_id, const char *vendor, reply *rep) {
    const char *params[] = {order_id, vendor};
    db_result r;
    db_run(DB_ACCEPT, 2, params, NULL, cfg->pg_acquire_ms, cfg->pg_timeout_ms, &r);
    if (r.rc != DB_OK) {
        if (strcmp(r.sqlstate, "23505") == 0) { /* the assignment's UNIQUE caught a 2nd winner */
            answer_lost(rep, order_id);
            return;
        }
        db_failed(&r, rep);
        return;
    }
    if (!found(&r, rep)) return; /* not in the statement's snapshot: not in the UPDATE's either */
    if (strcmp(PQgetvalue(r.res, 0, 0), "t") == 0) {
        answer_won(rep, order_id, vendor, PQgetvalue(r.res, 0, 1));
        PQclear(r.res);
        return;
    }
    if (strcmp(PQgetvalue(r.res, 0, 1), "accepted") == 0) { /* accepted before we looked */
        answer_taken(rep, &r, 2);
        return;
    }
    if (strcmp(PQgetvalue(r.res, 0, 1), "cancelled") == 0) {
        answer_cancelled(rep, &r);
        return;
    }
    PQclear(r.res); /* "open" in our snapshot: the winner committed while we waited for its lock */
    answer_lost(rep, order_id);
}

static void accept_naive(const char *order_id, const char *vendor, reply *rep) {
    const char *p1[] = {order_id};
    db_result r;
    if (!run(DB_ORDER_STATUS, 1, p1, &r, rep)) return;
    if (PQntuples(r.res) == 0 || strcmp(PQgetvalue(r.res, 0, 0), "open") != 0) {
        PQclear(r.res);
        answer_lost(rep, order_id);
        return;
    }
    PQclear(r.res);
    if (cfg->naive_think_ms > 0) {
        struct timespec ts = {.tv_sec = cfg->naive_think_ms / 1000,
                              .tv_nsec = (long)(cfg->naive_think_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    const char *p2[] = {order_id, vendor};
    db_run(DB_NAIVE_UPDATE, 2, p2, NULL, cfg->pg_acquire_ms, cfg->pg_timeout_ms, &r);
    if (r.rc != DB_OK || PQntuples(r.res) != 1) {
        if (r.rc == DB_OK) PQclear(r.res);
        db_failed(&r, rep);
        return;
    }
    char at[64];
    snprintf(at, sizeof at, "%s", PQgetvalue(r.res, 0, 0));
    PQclear(r.res);
    if (!run(DB_NAIVE_ASSIGN, 2, p2, &r, rep)) return;
    PQclear(r.res);
    answer_won(rep, order_id, vendor, at);
}

void acc_accept(const char *order_id, const char *body, size_t body_len, reply *rep) {
    char vendor[VENDOR_MAX * 4 + 1];
    if (parse_vendor(body, body_len, vendor, sizeof vendor, rep)) return;
    if (cfg->accept_mode == DCFG_ACCEPT_NAIVE)
        accept_naive(order_id, vendor, rep);
    else
        accept_atomic(order_id, vendor, rep);
}

void acc_get(const char *order_id, reply *rep) {
    const char *params[] = {order_id};
    db_result r;
    if (!run(DB_ORDER_GET, 1, params, &r, rep) || !found(&r, rep)) return;
    char o[ESC_MAX], v[ESC_MAX + 2], vq[ESC_MAX + 2], created[64], accepted[64];
    reply_json_escape(PQgetvalue(r.res, 0, 0), o, sizeof o);
    if (PQgetisnull(r.res, 0, 2)) {
        snprintf(vq, sizeof vq, "null");
    } else {
        reply_json_escape(PQgetvalue(r.res, 0, 2), v, sizeof v);
        snprintf(vq, sizeof vq, "\"%.*s\"", ESC_MAX - 1, v);
    }
    snprintf(created, sizeof created, "\"%s\"", PQgetvalue(r.res, 0, 3));
    if (PQgetisnull(r.res, 0, 4))
        snprintf(accepted, sizeof accepted, "null");
    else
        snprintf(accepted, sizeof accepted, "\"%s\"", PQgetvalue(r.res, 0, 4));
    reply_fmt(rep, 200,
              "{\"order_id\":\"%s\",\"status\":\"%s\",\"vendor_id\":%s,\"created_at\":%s,"
              "\"accepted_at\":%s,\"state\":\"%s\",\"version\":%s}\n",
              o, PQgetvalue(r.res, 0, 1), vq, created, accepted, PQgetvalue(r.res, 0, 5),
              PQgetvalue(r.res, 0, 6));
    PQclear(r.res);
}
