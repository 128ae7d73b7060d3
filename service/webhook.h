/* webhook.h — POST /webhooks/orders: Standard Webhooks verification, the order.created schema,
 * and ingest (Redis stream; PostgreSQL inbox while the circuit is open; or --ingest sync). */
#ifndef DISPATCHD_WEBHOOK_H
#define DISPATCHD_WEBHOOK_H

#include "config.h"
#include "reply.h"
#include "queue.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WH_ID_MAX 256 /* webhook-id length limit */

typedef enum wh_verdict {
    WH_VALID,
    WH_MISSING_ID,
    WH_MISSING_TIMESTAMP,
    WH_MISSING_SIGNATURE,
    WH_BAD_TIMESTAMP, /* not an integer */
    WH_STALE,         /* outside now ± tolerance */
    WH_NO_MATCH,      /* no v1 signature matches */
} wh_verdict;

/* Verifies a Standard Webhooks request: HMAC-SHA256(key, id "." ts "." body), base64, compared
 * in constant time with each space-separated "v1,<base64>" entry of sig. Pure apart from a
 * per-thread HMAC context: now_s is passed in (tests use the specification's fixed time). */
wh_verdict wh_verify(const uint8_t *key, size_t key_len, const char *id, const char *ts,
                     const char *sig, const char *body, size_t body_len, int64_t now_s,
                     int tolerance_s);
const char *wh_verdict_text(wh_verdict v);

/* The outcome of checking a body against the order.created schema. */
typedef struct wh_invalid {
    int kind;        /* 0 valid, 1 invalid JSON, 2 schema */
    char field[128]; /* the offending field, e.g. "data.items[2].qty" */
    char detail[160];
} wh_invalid;
#define WH_FIELD_MAX 200 /* order_id, customer_id, sku: bytes */

/* The fields dispatchd stores in columns (the whole body goes into payload). */
typedef struct wh_order {
    char order_id[WH_FIELD_MAX + 1];
    char customer_id[WH_FIELD_MAX + 1];
    char total_cents[24];
    char type[24];    /* order.created, order.updated, order.paid or order.cancelled */
    char version[12]; /* data.version, 1 when absent */
} wh_order;

/* True for an order.created of version 1: the workers' fast path (orders_batch); every other
 * event goes through apply_order_events. */
bool wh_is_creation(const wh_order *o);

/* In a stream entry of any other event, right after the webhook-id: "e":"<type>","v":<version> */
#define WH_ENTRY_EVENT "\"e\":\""

/* Parses and checks body (body_len bytes); returns 0 when valid, with the fields in *order (which
 * may be NULL). */
int wh_validate(const char *body, size_t body_len, wh_invalid *out, wh_order *order);

/* Whether a webhook-id is acceptable: 1..WH_ID_MAX printable ASCII, no quote or backslash. */
int wh_id_ok(const char *id);

void wh_init(const dcfg *c);

typedef enum wh_step {
    WH_REPLIED, /* rep holds the answer */
    WH_ENQUEUE, /* verified and valid: hand it to the queue (queue_admit said yes) */
    WH_STORE,   /* verified and valid: store it with wh_store (--ingest sync, or circuit open) */
} wh_step;
/* First part of a request (headers may be NULL when missing; body is NUL-terminated): verify,
 * validate, decide where it goes. *probe is queue_admit's. Never blocks. */
wh_step wh_begin(const char *id, const char *ts, const char *sig, const char *body, size_t body_len,
                 wh_order *order, bool *probe, reply *rep);
/* With the queue's verdict: true and rep set (202, 200, or 503 without the fallback), or false
 * when the webhook must go through wh_store (the PostgreSQL inbox). Never blocks. */
bool wh_after_queue(queue_rc rc, reply *rep);
/* Stores the webhook through PostgreSQL — the orders table with --ingest sync, else the inbox —
 * and sets the answer (202 new, 200 seen, 503). Blocks (bounded): run it off the event loop. */
void wh_store(const char *id, const char *body, const wh_order *order, reply *rep);
/* The stream entry for a webhook: the JSON object the workers insert as one row,
 * {"w":id,"t":received_ms,"o":order_id,"c":customer_id,"n":total_cents,"p":<body>}. out must
 * hold wh_entry_max(body_len) bytes; returns the length written (no NUL). */
size_t wh_entry_max(size_t body_len);
size_t wh_entry(char *out, const char *id, const char *body, size_t body_len, const wh_order *o,
                int64_t received_ms);

/* Frees every thread's HMAC context; call when no thread verifies any more. */
void wh_cleanup(void);

#endif
