/* db.h — dispatchd's PostgreSQL pool and every SQL statement it runs.
 * A fixed pool of libpq connections shared by request handlers and workers; each connection has
 * statement_timeout set and every statement below prepared. Acquisition waits at most a bounded
 * time and fails at once when no connection is healthy (the database is down), so handlers
 * answer 503 quickly instead of hanging. Queries run with a client-side deadline too. */
#ifndef DISPATCHD_DB_H
#define DISPATCHD_DB_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

typedef enum db_stmt {
    DB_ORDERS_BATCH,       /* $1 JSON array of {"w":webhook_id,"t":received ms,"o":order_id,
                              "c":customer_id,"n":total_cents,"p":payload} */
    DB_ORDERS_BATCH_PLAIN, /* the same without ON CONFLICT: fails (23505) on any duplicate */
    DB_ORDER_INSERT,       /* $1 webhook_id, $2 payload, $3 order_id, $4 customer_id, $5 total_cents
                              (--ingest sync) */
    DB_INBOX_INSERT,       /* the same parameters, $6 event type, $7 version (circuit open) */
    DB_INBOX_DRAIN,        /* creations: $1 batch size → (moved, orders created, 0) */
    DB_INBOX_DRAIN_EVENTS, /* other events: $1 batch size, $2 dedupe, $3 versioned → (moved,
                              orders created, events handled) */
    DB_EVENTS_APPLY,       /* $1 JSON array of rows as DB_ORDERS_BATCH's with "e":type,
                              "v":version, $2 dedupe, $3 versioned → (handled, orders created) */
    DB_ACCEPT,       /* $1 order_id, $2 vendor_id → (true, accepted_at, NULL) for the winner; else
                      * (false, status, vendor_id) as the statement's snapshot saw the order, or no row */
    DB_ORDER_STATUS, /* $1 order_id → status (open, accepted or cancelled), vendor_id */
    DB_ORDER_GET,    /* $1 order_id → order_id, status, vendor_id, created_at, accepted_at, state,
                      * version */
    DB_NAIVE_UPDATE, /* $1 order_id, $2 vendor_id → accepted_at (unconditional) */
    DB_NAIVE_ASSIGN, /* $1 order_id, $2 vendor_id (last writer wins) */
    DB_INBOX_DEPTH,  /* → count */
    DB_PING,         /* → 1 */
    DB_STMTS
} db_stmt;

typedef struct db_conn db_conn;

/* The outcome of a statement. */
typedef enum db_rc {
    DB_OK,          /* res holds the result */
    DB_UNAVAILABLE, /* no healthy connection, pool exhausted, connection lost or deadline */
    DB_SQL_ERROR,   /* the statement failed (constraint, data): sqlstate and msg say why */
} db_rc;

typedef struct db_result {
    db_rc rc;
    PGresult *res; /* DB_OK only; the caller PQclear()s it */
    char sqlstate[6];
    char msg[200]; /* first line of the error, never parameter values */
} db_result;

/* Creates the pool. In probe mode a keeper thread connects, watches idle connections and
 * reconnects broken ones (backoff 50 ms to 1 s, plus a probe every 100 ms while the database is
 * down); in lazy mode connections are made now (best effort) and remade only by the request that
 * finds one broken. Never fails because the database is down. */
int db_start(const dcfg *c, char *err, size_t errlen);
void db_stop(void);

/* A healthy connection, waiting at most wait_ms; NULL when none (database down or pool busy). */
db_conn *db_acquire(int wait_ms);
void db_release(db_conn *c);
/* Runs a prepared statement on c with a deadline of timeout_ms. A connection-class failure
 * (08xxx, 57Pxx, a dead socket, the deadline) marks c broken and gives DB_UNAVAILABLE. */
void db_exec(db_conn *c, db_stmt s, int nparams, const char *const *values, const int *lengths,
             int timeout_ms, db_result *out);
/* acquire + exec + release, with one retry on another connection when the first was lost
 * (probe mode only; every statement here is safe to repeat). */
void db_run(db_stmt s, int nparams, const char *const *values, const int *lengths, int wait_ms,
            int timeout_ms, db_result *out);

typedef struct db_stats {
    int size, in_use, idle, broken;
} db_stats;
void db_get_stats(db_stats *st);
/* Whether at least one connection is healthy (idle or in use). */
bool db_healthy(void);

#endif
