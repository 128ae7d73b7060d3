/* webhook.c — POST /webhooks/orders (see webhook.h).
 *
 * A request goes: verify (Standard Webhooks) → validate (jansson, the order.created schema) →
 * ingest → answer. The order is deliberate: nothing unauthenticated is parsed, and no answer
 * promises more than what has happened — 202 is sent only after Redis returned the XADD (or
 * PostgreSQL committed the inbox/orders INSERT), 200 only when the webhook-id was already
 * received, 503 only when neither Redis nor PostgreSQL could take the webhook.
 *
 * Verification follows the Standard Webhooks specification: the signed content is
 * "<webhook-id>.<webhook-timestamp>.<body>", the key is the base64-decoded part of the whsec_
 * secret, webhook-signature holds space-separated "v1,<base64>" entries (several during key
 * rotation; other versions are ignored), a timestamp more than --tolerance seconds away from now
 * is refused, and each entry is compared with CRYPTO_memcmp. Each thread keeps an HMAC context
 * with the key already set (EVP_MAC re-initialised per message), so verifying allocates nothing.
 *
 * Ingest, tuned: wh_begin says WH_ENQUEUE and http.c adds the stream entry (wh_entry) to its
 * event loop's Redis pipe (queue_pipe_add: XADD, then SET seen-key NX, pipelined; see queue.c);
 * wh_after_queue turns Redis's answer into 202 or 200. When Redis fails or the circuit is open
 * (queue_admit), the webhook goes into PostgreSQL's webhook_inbox instead (wh_store: INSERT ...
 * WHERE NOT EXISTS an order with that webhook_id, ON CONFLICT DO NOTHING: one row → 202, none →
 * 200), and the workers move it into orders; when the inbox cannot take it either, a blocking
 * XADD with a longer wait is the last resort (queue_add_wait). --redis-fallback off answers 503
 * instead; --ingest sync inserts the order inside the request (ON CONFLICT DO NOTHING: one row →
 * 202, none → 200, which then means this webhook-id or this order_id was already stored).
 * Answers are set with reply.h; this file does not know the HTTP layer. */
#include "webhook.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "reply.h"

#include "core/b64.h"
#include "core/clock.h"
#include "core/err.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define MAC_LEN      32
#define B64_MAC_LEN  44
#define MAX_SIGS     32
#define ORDER_ID_MAX WH_FIELD_MAX
#define ITEMS_MAX    1000

static const dcfg *cfg;
static dlog_limit db_limit;

/* ---- verification ------------------------------------------------------------------------- */

typedef struct hmac_tl {
    EVP_MAC_CTX *ctx;
    uint8_t key[DCFG_KEY_MAX];
    size_t key_len;
    struct hmac_tl *next;
} hmac_tl;

static __thread hmac_tl *tl_hmac;
static EVP_MAC *hmac_alg;
static pthread_once_t alg_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static hmac_tl *reg_head; /* every thread's context, freed by wh_cleanup */

static void fetch_alg(void) {
    hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

/* The calling thread's HMAC context with key set (re-initialised for a new message); NULL on
 * failure. */
static EVP_MAC_CTX *hmac_ctx(const uint8_t *key, size_t key_len) {
    if (key_len > DCFG_KEY_MAX) return NULL;
    pthread_once(&alg_once, fetch_alg);
    if (hmac_alg == NULL) return NULL;
    hmac_tl *t = tl_hmac;
    if (t && t->key_len == key_len && memcmp(t->key, key, key_len) == 0) {
        if (!EVP_MAC_init(t->ctx, NULL, 0, NULL)) return NULL;
        return t->ctx;
    }
    if (t == NULL) {
        t = calloc(1, sizeof *t);
        if (t == NULL) return NULL;
        t->ctx = EVP_MAC_CTX_new(hmac_alg);
        if (t->ctx == NULL) {
            free(t);
            return NULL;
        }
        tl_hmac = t;
        pthread_mutex_lock(&reg_mu);
        t->next = reg_head;
        reg_head = t;
        pthread_mutex_unlock(&reg_mu);
    }
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    static const uint8_t empty[1];
    if (!EVP_MAC_init(t->ctx, key_len ? key : empty, key_len, params)) {
        t->key_len = (size_t)-1;
        return NULL;
    }
    memcpy(t->key, key, key_len);
    t->key_len = key_len;
    return t->ctx;
}

void wh_cleanup(void) {
    pthread_mutex_lock(&reg_mu);
    while (reg_head) {
        hmac_tl *t = reg_head;
        reg_head = t->next;
        EVP_MAC_CTX_free(t->ctx);
        OPENSSL_cleanse(t, sizeof *t);
        free(t);
    }
    pthread_mutex_unlock(&reg_mu);
    tl_hmac = NULL;
    EVP_MAC_free(hmac_alg);
    hmac_alg = NULL;
}

static bool parse_ts(const char *s, int64_t *out) {
    if (*s == '\0' || strlen(s) > 15) return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

wh_verdict wh_verify(const uint8_t *key, size_t key_len, const char *id, const char *ts,
                     const char *sig, const char *body, size_t body_len, int64_t now_s,
                     int tolerance_s) {
    if (id == NULL || *id == '\0') return WH_MISSING_ID;
    if (ts == NULL || *ts == '\0') return WH_MISSING_TIMESTAMP;
    if (sig == NULL || *sig == '\0') return WH_MISSING_SIGNATURE;
    int64_t t;
    if (!parse_ts(ts, &t)) return WH_BAD_TIMESTAMP;
    if (t < now_s - tolerance_s || t > now_s + tolerance_s) return WH_STALE;
    EVP_MAC_CTX *ctx = hmac_ctx(key, key_len);
    uint8_t mac[MAC_LEN];
    size_t mac_len = 0;
    if (ctx == NULL || !EVP_MAC_update(ctx, (const uint8_t *)id, strlen(id)) ||
        !EVP_MAC_update(ctx, (const uint8_t *)".", 1) ||
        !EVP_MAC_update(ctx, (const uint8_t *)ts, strlen(ts)) ||
        !EVP_MAC_update(ctx, (const uint8_t *)".", 1) ||
        (body_len && !EVP_MAC_update(ctx, (const uint8_t *)body, body_len)) ||
        !EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) || mac_len != MAC_LEN)
        return WH_NO_MATCH;
    bool ok = false;
    const char *p = sig;
    for (int n = 0; *p && n < MAX_SIGS; n++) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, " ");
        if (len == 0) break;
        /* "v1," + 44 base64 characters; anything else cannot be ours and is skipped */
        if (len == 3 + B64_MAC_LEN && memcmp(p, "v1,", 3) == 0) {
            uint8_t cand[B64_MAC_LEN];
            long k = b64_decode(p + 3, B64_MAC_LEN, cand, B64_STRICT);
            if (k == MAC_LEN && CRYPTO_memcmp(cand, mac, MAC_LEN) == 0) ok = true;
        }
        p += len;
    }
    OPENSSL_cleanse(mac, sizeof mac);
    return ok ? WH_VALID : WH_NO_MATCH;
}

const char *wh_verdict_text(wh_verdict v) {
    switch (v) {
    case WH_VALID: return "valid";
    case WH_MISSING_ID: return "missing webhook-id header";
    case WH_MISSING_TIMESTAMP: return "missing webhook-timestamp header";
    case WH_MISSING_SIGNATURE: return "missing webhook-signature header";
    case WH_BAD_TIMESTAMP: return "webhook-timestamp is not an integer";
    case WH_STALE: return "webhook-timestamp is outside the tolerance";
    case WH_NO_MATCH: return "no matching signature";
    }
    return "invalid";
}

/* Static 401 bodies, one per verdict (reused response objects). */
static const char *verdict_body(wh_verdict v) {
    switch (v) {
    case WH_MISSING_ID:
        return "{\"error\":\"unauthorized\",\"detail\":\"missing webhook-id header\"}\n";
    case WH_MISSING_TIMESTAMP:
        return "{\"error\":\"unauthorized\",\"detail\":\"missing webhook-timestamp header\"}\n";
    case WH_MISSING_SIGNATURE:
        return "{\"error\":\"unauthorized\",\"detail\":\"missing webhook-signature header\"}\n";
    case WH_BAD_TIMESTAMP:
        return "{\"error\":\"unauthorized\",\"detail\":\"webhook-timestamp is not an "
               "integer\"}\n";
    case WH_STALE:
        return "{\"error\":\"unauthorized\",\"detail\":\"webhook-timestamp is outside the "
               "tolerance\"}\n";
    default: return "{\"error\":\"unauthorized\",\"detail\":\"no matching signature\"}\n";
    }
}

int wh_id_ok(const char *id) {
    size_t n = 0;
    for (; id[n]; n++) {
        unsigned char ch = (unsigned char)id[n];
        if (ch <= 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') return 0;
        if (n >= WH_ID_MAX) return 0;
    }
    return n > 0;
}

/* ---- schema ------------------------------------------------------------------------------- */

static int schema_fail(wh_invalid *out, const char *field, const char *detail) {
    out->kind = 2;
    snprintf(out->field, sizeof out->field, "%s", field);
    snprintf(out->detail, sizeof out->detail, "%s", detail);
    return -1;
}

static bool good_string(json_t *v, size_t max) {
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= max;
}

static int check_items(json_t *items, wh_invalid *out) {
    if (items == NULL) return schema_fail(out, "data.items", "is required");
    if (!json_is_array(items) || json_array_size(items) == 0 || json_array_size(items) > ITEMS_MAX)
        return schema_fail(out, "data.items", "must be an array of 1 to 1000 items");
    size_t i;
    json_t *it;
    char f[128];
    json_array_foreach(items, i, it) {
        if (!json_is_object(it)) {
            snprintf(f, sizeof f, "data.items[%zu]", i);
            return schema_fail(out, f, "must be an object");
        }
        json_t *sku = json_object_get(it, "sku");
        json_t *qty = json_object_get(it, "qty");
        json_t *price = json_object_get(it, "price_cents");
        if (!good_string(sku, ORDER_ID_MAX)) {
            snprintf(f, sizeof f, "data.items[%zu].sku", i);
            return schema_fail(out, f, "must be a non-empty string of at most 200 characters");
        }
        if (!json_is_integer(qty) || json_integer_value(qty) <= 0) {
            snprintf(f, sizeof f, "data.items[%zu].qty", i);
            return schema_fail(out, f, "must be an integer > 0");
        }
        if (!json_is_integer(price) || json_integer_value(price) < 0) {
            snprintf(f, sizeof f, "data.items[%zu].price_cents", i);
            return schema_fail(out, f, "must be an integer >= 0");
        }
    }
    return 0;
}

static const char *const event_types[] = {"order.created", "order.updated", "order.paid",
                                          "order.cancelled"};

/* The index of an event type in event_types, or -1. */
static int event_type(const char *t) {
    for (size_t i = 0; i < sizeof event_types / sizeof event_types[0]; i++)
        if (!strcmp(t, event_types[i])) return (int)i;
    return -1;
}

bool wh_is_creation(const wh_order *o) {
    return !strcmp(o->type, "order.created") && !strcmp(o->version, "1");
}

int wh_validate(const char *body, size_t body_len, wh_invalid *out, wh_order *fields) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        out->kind = 1;
        snprintf(out->field, sizeof out->field, "body");
        err_set(out->detail, sizeof out->detail, "%s (line %d, column %d)", je.text, je.line,
                je.column);
        return -1;
    }
    int rc = 0;
    json_t *type, *data;
    if (!json_is_object(root)) {
        rc = schema_fail(out, "body", "must be a JSON object");
    } else if ((type = json_object_get(root, "type")) == NULL) {
        rc = schema_fail(out, "type", "is required");
    } else if (!json_is_string(type) || event_type(json_string_value(type)) < 0) {
        rc = schema_fail(out, "type",
                         "must be \"order.created\", \"order.updated\", \"order.paid\" or "
                         "\"order.cancelled\"");
    } else if ((data = json_object_get(root, "data")) == NULL) {
        rc = schema_fail(out, "data", "is required");
    } else if (!json_is_object(data)) {
        rc = schema_fail(out, "data", "must be an object");
    } else {
        json_t *order = json_object_get(data, "order_id");
        json_t *cust = json_object_get(data, "customer_id");
        json_t *total = json_object_get(data, "total_cents");
        json_t *version = json_object_get(data, "version");
        if (!good_string(order, ORDER_ID_MAX))
            rc = schema_fail(out, "data.order_id",
                             "must be a non-empty string of at most 200 characters");
        else if (!good_string(cust, ORDER_ID_MAX))
            rc = schema_fail(out, "data.customer_id",
                             "must be a non-empty string of at most 200 characters");
        else if (check_items(json_object_get(data, "items"), out))
            rc = -1;
        else if (!json_is_integer(total) || json_integer_value(total) < 0)
            rc = schema_fail(out, "data.total_cents", "must be an integer >= 0");
        else if (version && (!json_is_integer(version) || json_integer_value(version) < 1 ||
                             json_integer_value(version) > INT32_MAX))
            rc = schema_fail(out, "data.version", "must be an integer from 1 to 2147483647");
        else if (fields) {
            snprintf(fields->order_id, sizeof fields->order_id, "%s", json_string_value(order));
            snprintf(fields->customer_id, sizeof fields->customer_id, "%s",
                     json_string_value(cust));
            snprintf(fields->total_cents, sizeof fields->total_cents, "%lld",
                     (long long)json_integer_value(total));
            snprintf(fields->type, sizeof fields->type, "%s", json_string_value(type));
            snprintf(fields->version, sizeof fields->version, "%lld",
                     version ? (long long)json_integer_value(version) : 1LL);
        }
    }
    json_decref(root);
    return rc;
}

/* ---- the handler -------------------------------------------------------------------------- */

static const char BODY_QUEUED[] = "{\"status\":\"queued\"}\n";
static const char BODY_DUPLICATE[] = "{\"status\":\"duplicate\"}\n";
static const char BODY_UNAVAILABLE[] = "{\"error\":\"unavailable\",\"detail\":\"neither Redis nor "
                                       "PostgreSQL can take the webhook\"}\n";
static const char BODY_REDIS_DOWN[] =
    "{\"error\":\"unavailable\",\"detail\":\"Redis is unavailable\"}\n";
static const char BODY_PG_DOWN[] =
    "{\"error\":\"unavailable\",\"detail\":\"PostgreSQL is unavailable\"}\n";
static const char BODY_INTERNAL[] = "{\"error\":\"internal\"}\n";
static const char BODY_BAD_ID[] =
    "{\"error\":\"invalid_header\",\"field\":\"webhook-id\",\"detail\":\"must be 1 to 256 "
    "printable ASCII characters without quotes or backslashes\"}\n";

void wh_init(const dcfg *c) {
    cfg = c;
    pthread_once(&alg_once, fetch_alg);
}

/* Stores through PostgreSQL — the inbox, the orders (an order.created, --ingest sync) or
 * apply_order_events (another event, --ingest sync) — and sets the answer: 202 for a new row or
 * an event handled, 200 for none (already received); false (no answer set) when PostgreSQL is
 * unavailable. */
static bool store_pg(db_stmt s, const char *id, const char *body, const wh_order *o, reply *rep,
                     met_counter added) {
    const char *params[] = {id,      body,      o->order_id, o->customer_id, o->total_cents,
                            o->type, o->version};
    int nparams = s == DB_INBOX_INSERT ? 7 : 5;
    char *batch = NULL;
    if (s == DB_EVENTS_APPLY) { /* [the stream entry]: one event for apply_order_events */
        size_t len = strlen(body);
        batch = malloc(wh_entry_max(len) + 2);
        if (batch == NULL) return false;
        batch[0] = '[';
        size_t n = 1 + wh_entry(batch + 1, id, body, len, o, clock_wall_ns() / NS_PER_MS);
        batch[n++] = ']';
        batch[n] = '\0';
        params[0] = batch;
        params[1] = cfg->dedupe ? "true" : "false";
        params[2] = cfg->ordering == DCFG_ORDERING_VERSION ? "true" : "false";
        nparams = 3;
    }
    db_result r;
    db_run(s, nparams, params, NULL, cfg->pg_acquire_ms, cfg->pg_timeout_ms, &r);
    free(batch);
    if (r.rc == DB_OK) {
        bool inserted = s == DB_EVENTS_APPLY ? strcmp(PQgetvalue(r.res, 0, 0), "1") == 0
                                             : strcmp(PQcmdTuples(r.res), "1") == 0;
        if (s == DB_ORDER_INSERT && inserted) met_add(MET_ORDERS_INSERTED, 1);
        if (s == DB_EVENTS_APPLY) {
            met_add(MET_EVENTS_HANDLED, inserted);
            met_add(MET_ORDERS_INSERTED, strtoull(PQgetvalue(r.res, 0, 1), NULL, 10));
        }
        PQclear(r.res);
        if (inserted) {
            met_add(added, 1);
            reply_static(rep, 202, BODY_QUEUED);
        } else {
            met_add(MET_WH_DUPLICATE, 1);
            reply_static(rep, 200, BODY_DUPLICATE);
        }
        return true;
    }
    if (r.rc == DB_UNAVAILABLE) return false;
    dlog_limited(&db_limit, 1000, DLOG_ERROR, "webhook: storing failed: %s (SQLSTATE %s)", r.msg,
                 r.sqlstate);
    reply_static(rep, 500, BODY_INTERNAL);
    return true;
}

wh_step wh_begin(const char *id, const char *ts, const char *sig, const char *body, size_t body_len,
                 wh_order *order, bool *probe, reply *rep) {
    int64_t now_s = clock_wall_ns() / NS_PER_S;
    wh_verdict v =
        wh_verify(cfg->key, cfg->key_len, id, ts, sig, body, body_len, now_s, cfg->tolerance_s);
    if (v != WH_VALID) {
        reply_static(rep, 401, verdict_body(v));
        return WH_REPLIED;
    }
    if (!wh_id_ok(id)) {
        reply_static(rep, 400, BODY_BAD_ID);
        return WH_REPLIED;
    }
    wh_invalid inv;
    if (wh_validate(body, body_len, &inv, order)) {
        char field[160], detail[200];
        reply_json_escape(inv.field, field, sizeof field);
        reply_json_escape(inv.detail, detail, sizeof detail);
        reply_fmt(rep, 400, "{\"error\":\"%s\",\"field\":\"%s\",\"detail\":\"%s\"}\n",
                  inv.kind == 1 ? "invalid_json" : "invalid_schema", field, detail);
        return WH_REPLIED;
    }
    if (cfg->ingest == DCFG_INGEST_SYNC) return WH_STORE;
    if (queue_admit(probe)) return WH_ENQUEUE;
    return wh_after_queue(QUEUE_UNAVAILABLE, rep) ? WH_REPLIED : WH_STORE; /* circuit open */
}

size_t wh_entry_max(size_t body_len) {
    return WH_ID_MAX + 12 * WH_FIELD_MAX + 24 + 24 + body_len + 128; /* 128: e, v, punctuation */
}

static size_t put(char *o, const char *s) {
    size_t n = strlen(s);
    memcpy(o, s, n);
    return n;
}

size_t wh_entry(char *out, const char *id, const char *body, size_t body_len, const wh_order *o,
                int64_t received_ms) {
    char esc[6 * WH_FIELD_MAX + 1], ms[24];
    size_t n = put(out, "{\"w\":\"");
    n += put(out + n, id);    /* wh_id_ok: nothing to escape */
    if (!wh_is_creation(o)) { /* right after the id: where the workers look for it */
        n += put(out + n, "\"," WH_ENTRY_EVENT);
        n += put(out + n, o->type); /* validated: one of event_types */
        n += put(out + n, "\",\"v\":");
        n += put(out + n, o->version);
    } else {
        out[n++] = '"';
    }
    snprintf(ms, sizeof ms, "%lld", (long long)received_ms);
    n += put(out + n, ",\"t\":");
    n += put(out + n, ms);
    reply_json_escape(o->order_id, esc, sizeof esc);
    n += put(out + n, ",\"o\":\"");
    n += put(out + n, esc);
    reply_json_escape(o->customer_id, esc, sizeof esc);
    n += put(out + n, "\",\"c\":\"");
    n += put(out + n, esc);
    n += put(out + n, "\",\"n\":");
    n += put(out + n, o->total_cents);
    n += put(out + n, ",\"p\":");
    memcpy(out + n, body, body_len);
    n += body_len;
    out[n++] = '}';
    return n;
}

bool wh_after_queue(queue_rc rc, reply *rep) {
    switch (rc) {
    case QUEUE_ADDED:
        met_add(MET_WH_QUEUED_REDIS, 1);
        reply_static(rep, 202, BODY_QUEUED);
        return true;
    case QUEUE_DUPLICATE:
        met_add(MET_WH_DUPLICATE, 1);
        reply_static(rep, 200, BODY_DUPLICATE);
        return true;
    case QUEUE_UNAVAILABLE: break;
    }
    if (cfg->redis_fallback) return false;
    met_add(MET_WH_UNAVAILABLE, 1);
    reply_static(rep, 503, BODY_REDIS_DOWN);
    rep->retry_after = 1;
    return true;
}

/* The circuit is open and the inbox cannot take the webhook: Redis, waited for longer than the
 * request path's --redis-timeout, is the last place it can go (a Redis that is slow, not down,
 * opens the circuit too — e.g. while PostgreSQL's shutdown checkpoint keeps the disk busy). */
static bool store_last_resort(const char *id, const char *body, const wh_order *o, reply *rep) {
    if (cfg->last_resort_ms <= 0) return false;
    size_t len = strlen(body);
    char *ent = malloc(wh_entry_max(len)); /* a rare path: both dependencies failing */
    if (ent == NULL) return false;
    size_t elen = wh_entry(ent, id, body, len, o, clock_wall_ns() / NS_PER_MS);
    queue_rc rc = queue_add_wait(id, strlen(id), ent, elen, cfg->last_resort_ms);
    free(ent);
    if (rc == QUEUE_UNAVAILABLE) return false;
    met_add(MET_WH_LAST_RESORT, 1);
    return wh_after_queue(rc, rep);
}

void wh_store(const char *id, const char *body, const wh_order *order, reply *rep) {
    bool sync = cfg->ingest == DCFG_INGEST_SYNC;
    db_stmt direct = wh_is_creation(order) ? DB_ORDER_INSERT : DB_EVENTS_APPLY;
    if (sync ? store_pg(direct, id, body, order, rep, MET_WH_STORED_SYNC)
             : store_pg(DB_INBOX_INSERT, id, body, order, rep, MET_WH_QUEUED_INBOX) ||
                   store_last_resort(id, body, order, rep))
        return;
    met_add(MET_WH_UNAVAILABLE, 1);
    reply_static(rep, 503, sync ? BODY_PG_DOWN : BODY_UNAVAILABLE);
    rep->retry_after = 1;
}
