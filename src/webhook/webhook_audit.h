/* webhook_audit.h — the exactly-once audit of an event-lifecycle run: dispatchd's order_events
 * and orders (the embedded stack, or a running dispatchd), or a user's own tables through
 * brink.yaml's audit.events queries, against the events brink got acknowledged; see
 * webhook_audit.c. */
#ifndef BRINK_WEBHOOK_AUDIT_H
#define BRINK_WEBHOOK_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "load/lifecycle.h"
#include "webhook/webhook_int.h"

typedef struct webhook_eo_audit {
    bool done; /* false: error says why (no verdicts then) */
    char error[240];
    double drain_wait_s;      /* waited for dispatchd's stream and inbox to empty */
    int64_t acknowledged;     /* events acknowledged (2xx at some attempt) */
    int64_t handled_rows;     /* rows in order_events for this run */
    int64_t orders;           /* orders stored for this run */
    int64_t applied_twice;    /* webhook-ids handled more than once */
    int64_t stale_overwrites; /* handlings that wrote an older version over a newer one */
    bool stale_known;         /* the handled query reports them (dispatchd's does) */
    bool user;                /* audited with brink.yaml's audit.events queries */
    int64_t lost_after_ack;   /* acknowledged events with no trace in the database */
    int64_t missing_events;   /* orders stored below the newest version acknowledged for them */
} webhook_eo_audit;

/* A user's queries (brink.yaml audit.events), each with $1 = the run's order ids as a LIKE
 * pattern: handled returns (webhook_id, handlings[, stale overwrites]) per handled event, orders
 * (order_id, version) per stored order, pending (optional) one number, the events taken but not
 * yet handled. */
typedef struct webhook_audit_sql {
    const char *handled, *orders, *pending;
} webhook_audit_sql;

/* Audits the run whose requests were tagged tag in the database at pg_url (password: NULL for
 * libpq's own) with q (NULL: dispatchd's tables); acked[seq] != 0 for the events acknowledged,
 * seq < nseq. Waits up to 30 s for the service to drain first. */
void webhook_audit_events(const char *pg_url, const char *password, const webhook_audit_sql *q,
                          const webhook_target *t, int tag, const lifecycle *lc,
                          const uint8_t *acked, uint64_t nseq, webhook_eo_audit *a);
/* The document's "audit" section (new reference). */
json_t *webhook_audit_json(const webhook_eo_audit *a);

#endif
