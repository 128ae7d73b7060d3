/* worker.c — the workers (see worker.h): at-least-once delivery from the Redis stream plus an
 * idempotent INSERT gives exactly one order per accepted webhook.
 *
 * Each worker is a thread with its own Redis connection and a consumer name unique to the process
 * ("<host>-<pid>-<n>"). Its loop:
 *   1. XREADGROUP GROUP <group> <consumer> COUNT <batch> BLOCK 100 STREAMS <stream> >
 *      (or id 0 — its own pending entries — after a failed store or a reclaim);
 *   2. one statement stores the whole batch: each entry already is its row as a JSON object
 *      {"w":id,"t":ms,"o":order_id,"c":customer_id,"n":total,"p":<body as received>} (built at
 *      ingest, from the validated body), so the batch is the entries joined with commas in
 *      brackets — no parsing, no re-encoding — and INSERT ... SELECT FROM json_to_recordset($1)
 *      ON CONFLICT DO NOTHING skips webhook_ids (redeliveries, duplicates) and order_ids already
 *      stored (tried first without ON CONFLICT, which is cheaper when there is no duplicate; see
 *      store());
 *   3. XACK of the batch — only after the INSERT committed. A crash between 2 and 3 redelivers
 *      the batch, and step 2 makes that harmless.
 * If the batch statement fails with a data error, the entries are stored one by one and an entry
 * that still fails is logged (by webhook-id), counted as poison and acknowledged, so that one bad
 * entry cannot block the stream. If PostgreSQL is unavailable, the worker keeps its batch
 * pending, backs off (50 ms to 1 s) and retries it; new entries wait in the stream (its lag).
 *
 * Every second a worker reclaims (XAUTOCLAIM) entries that have been pending longer than
 * --claim-idle in any consumer — a dead process's batch — and then reads them as its own. Worker 0
 * also trims the stream (XTRIM MINID = the oldest entry still pending or undelivered), so the
 * stream holds only the backlog, and removes consumers of dead processes that hold nothing.
 * Every worker also drains the PostgreSQL inbox (webhooks stored while the Redis circuit was open):
 * one statement moves up to a batch, oldest first, with FOR UPDATE SKIP LOCKED so that workers
 * (and instances) never wait for each other.
 *
 * Stopping: the stop flag is read between batches; XREADGROUP blocks at most 100 ms, so a worker
 * finishes and acknowledges the batch it holds and exits promptly. */
#include "worker.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "redis.h"
#include "webhook.h"

#include "core/clock.h"
#include "core/err.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK_MS           100
#define REDIS_TIMEOUT_MS   2000
#define CLAIM_EVERY_NS     NS_PER_S
#define CLAIM_ROUNDS       10
#define TRIM_EVERY_NS      NS_PER_S
#define CONSUMERS_EVERY_NS (30 * NS_PER_S)
#define DEAD_CONSUMER_MS   (10 * 60 * 1000)
#define INBOX_EVERY_NS     (200 * NS_PER_MS)
#define BACKOFF_MIN_NS     (50 * NS_PER_MS)
#define BACKOFF_MAX_NS     NS_PER_S
#define ACQUIRE_MS         250

typedef struct entry {
    const char *id; /* stream entry id */
    size_t id_len;
    const char *j; /* the row as JSON (webhook.c's wh_entry), NULL when absent */
    size_t j_len;
} entry;

typedef struct worker {
    int idx;
    pthread_t th;
    bool started;
    char consumer[160];
    redisContext *rc;
    int64_t redis_next_ns, redis_backoff_ns;
    int64_t pg_backoff_ns;
    bool own_pending; /* read id 0 (own pending entries) next */
    int64_t next_claim_ns, next_trim_ns, next_consumers_ns, next_inbox_ns;
    entry *entries;
    const char **argv;
    size_t *argl;
    char *json;
    size_t json_cap;
} worker;

static const dcfg *cfg;
static worker *workers;
static int nworkers;
static _Atomic bool stop_flag;
static rds_target target;
static dlog_limit redis_limit, pg_limit, poison_limit;

static void sleep_ns(int64_t ns) {
    struct timespec ts = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S};
    nanosleep(&ts, NULL);
}

/* Sleeps up to ns in slices, returning early when asked to stop. */
static void pause_ns(int64_t ns) {
    int64_t end = clock_now_ns() + ns;
    while (!atomic_load(&stop_flag)) {
        int64_t left = end - clock_now_ns();
        if (left <= 0) return;
        sleep_ns(left < 20 * NS_PER_MS ? left : 20 * NS_PER_MS);
    }
}

/* ---- Redis -------------------------------------------------------------------------------- */

static void redis_drop(worker *w, const char *why) {
    dlog_limited(&redis_limit, 1000, DLOG_WARN, "worker %d: redis: %s", w->idx, why);
    if (w->rc) redisFree(w->rc);
    w->rc = NULL;
    int64_t b = w->redis_backoff_ns ? w->redis_backoff_ns * 2 : BACKOFF_MIN_NS;
    w->redis_backoff_ns = b > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : b;
    w->redis_next_ns = clock_now_ns() + w->redis_backoff_ns;
}

/* A command; NULL (connection dropped) on I/O failure. Error replies are returned. */
static redisReply *cmd(worker *w, int argc, const char **argv, const size_t *lens) {
    redisReply *r = redisCommandArgv(w->rc, argc, argv, lens);
    if (r == NULL) redis_drop(w, w->rc->errstr[0] ? w->rc->errstr : "no reply");
    return r;
}

static void ensure_group(worker *w) {
    const char *argv[] = {"XGROUP", "CREATE", cfg->stream, cfg->group, "0", "MKSTREAM"};
    redisReply *r = cmd(w, 6, argv, NULL);
    if (r == NULL) return;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0)
        dlog(DLOG_WARN, "worker %d: XGROUP CREATE: %s", w->idx, r->str);
    freeReplyObject(r);
}

static bool redis_ready(worker *w) {
    if (w->rc) return true;
    if (clock_now_ns() < w->redis_next_ns) return false;
    char err[256];
    w->rc = rds_connect(&target, REDIS_TIMEOUT_MS, err, sizeof err);
    if (w->rc == NULL) {
        redis_drop(w, err);
        return false;
    }
    if (w->redis_backoff_ns) dlog(DLOG_INFO, "worker %d: redis: connected again", w->idx);
    w->redis_backoff_ns = 0;
    ensure_group(w);
    w->own_pending = true;
    return w->rc != NULL;
}

/* ---- storing ------------------------------------------------------------------------------ */

static bool reserve(worker *w, size_t need) {
    if (need <= w->json_cap) return true;
    size_t cap = w->json_cap ? w->json_cap : 65536;
    while (cap < need) cap *= 2;
    char *nj = realloc(w->json, cap);
    if (nj == NULL) return false;
    w->json = nj;
    w->json_cap = cap;
    return true;
}

#define ENTRY_PREFIX "{\"w\":\""

/* The webhook-id at the start of an entry, for messages. */
static void entry_id(const entry *e, char *out, size_t cap) {
    const char *p = e->j + sizeof ENTRY_PREFIX - 1;
    size_t n = strcspn(p, "\"");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* es[0..n) joined into one JSON array in w->json; false when out of memory. */
static bool join(worker *w, const entry *es, int n) {
    size_t need = 3;
    for (int i = 0; i < n; i++) need += es[i].j_len + 1;
    if (!reserve(w, need)) return false;
    char *o = w->json;
    size_t len = 0;
    o[len++] = '[';
    for (int i = 0; i < n; i++) {
        if (i) o[len++] = ',';
        memcpy(o + len, es[i].j, es[i].j_len);
        len += es[i].j_len;
    }
    o[len++] = ']';
    o[len] = '\0';
    return true;
}

/* Stores es[0..n) with one statement — creations with orders_batch, other events (events) with
 * apply_order_events — : 1 stored (or skipped), 0 unavailable, -1 data error. *inserted: the
 * orders created. */
static int store(worker *w, const entry *es, int n, bool events, uint64_t *inserted) {
    if (!join(w, es, n)) return 0;
    const char *params[] = {w->json, cfg->dedupe ? "true" : "false",
                            cfg->ordering == DCFG_ORDERING_VERSION ? "true" : "false"};
    db_result r;
    if (events) {
        db_run(DB_EVENTS_APPLY, 3, params, NULL, ACQUIRE_MS, cfg->pg_timeout_ms, &r);
    } else {
        /* Optimistic: a plain INSERT checks each unique index once while inserting; ON CONFLICT
         * DO NOTHING first probes every unique index and then inserts (a third more work for
         * PostgreSQL). Duplicates are rare (redeliveries, retried webhooks): when the plain
         * INSERT meets one (23505), the batch is stored again with ON CONFLICT DO NOTHING. */
        db_run(DB_ORDERS_BATCH_PLAIN, 1, params, NULL, ACQUIRE_MS, cfg->pg_timeout_ms, &r);
        if (r.rc == DB_SQL_ERROR && strcmp(r.sqlstate, "23505") == 0)
            db_run(DB_ORDERS_BATCH, 1, params, NULL, ACQUIRE_MS, cfg->pg_timeout_ms, &r);
    }
    if (r.rc == DB_OK) {
        if (events) {
            met_add(MET_EVENTS_HANDLED, strtoull(PQgetvalue(r.res, 0, 0), NULL, 10));
            *inserted = strtoull(PQgetvalue(r.res, 0, 1), NULL, 10);
        } else {
            *inserted = strtoull(PQcmdTuples(r.res), NULL, 10);
        }
        PQclear(r.res);
        return 1;
    }
    if (r.rc == DB_UNAVAILABLE) {
        dlog_limited(&pg_limit, 1000, DLOG_WARN, "worker %d: postgres unavailable: %s", w->idx,
                     r.msg);
        return 0;
    }
    dlog(DLOG_WARN, "worker %d: batch of %d rejected (%s, SQLSTATE %s); storing one by one", w->idx,
         n, r.msg, r.sqlstate);
    return -1;
}

/* Stores a batch (all creations, or all other events), falling back to one by one on a data
 * error. true when every entry is stored, skipped or given up as poison (the batch may be
 * acknowledged). */
static bool store_batch(worker *w, const entry *es, int n, bool events) {
    if (n == 0) return true;
    uint64_t ins = 0;
    int rc = store(w, es, n, events, &ins);
    if (rc == 0) return false;
    if (rc < 0) {
        ins = 0;
        for (int i = 0; i < n; i++) {
            uint64_t one = 0;
            int r1 = store(w, &es[i], 1, events, &one);
            if (r1 == 0) return false;
            if (r1 < 0) {
                met_add(MET_WORKER_POISON, 1);
                char wid[WH_ID_MAX + 1];
                entry_id(&es[i], wid, sizeof wid);
                dlog_limited(&poison_limit, 1000, DLOG_ERROR,
                             "worker %d: webhook %s cannot be stored; acknowledged and dropped",
                             w->idx, wid);
            }
            ins += one;
        }
    }
    met_add(MET_ORDERS_INSERTED, ins);
    if (!events) met_add(MET_ORDERS_SKIPPED, (uint64_t)n - ins);
    met_add(MET_WORKER_BATCHES, 1);
    return true;
}

/* Whether an entry is an order event other than a creation (wh_entry put its type after the id). */
static bool entry_is_event(const entry *e) {
    const char *p = e->j + sizeof ENTRY_PREFIX - 1;
    const char *end = e->j + e->j_len;
    const char *q = memchr(p, '"', (size_t)(end - p));
    return q && (size_t)(end - q) > sizeof WH_ENTRY_EVENT &&
           memcmp(q + 1, "," WH_ENTRY_EVENT, sizeof WH_ENTRY_EVENT) == 0;
}

/* ---- the stream --------------------------------------------------------------------------- */

static redisReply *field(redisReply *kv, const char *name) {
    if (kv == NULL || kv->type != REDIS_REPLY_ARRAY) return NULL;
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        if (kv->element[i]->type == REDIS_REPLY_STRING && strcmp(kv->element[i]->str, name) == 0)
            return kv->element[i + 1];
    return NULL;
}

static bool str_ok(const redisReply *r) {
    return r && r->type == REDIS_REPLY_STRING && r->len > 0;
}

/* Acknowledges ids[0..n). */
static bool ack(worker *w, const entry *es, int n) {
    w->argv[0] = "XACK";
    w->argv[1] = cfg->stream;
    w->argv[2] = cfg->group;
    w->argl[0] = 4;
    w->argl[1] = strlen(cfg->stream);
    w->argl[2] = strlen(cfg->group);
    for (int i = 0; i < n; i++) {
        w->argv[3 + i] = es[i].id;
        w->argl[3 + i] = es[i].id_len;
    }
    redisReply *r = cmd(w, 3 + n, w->argv, w->argl);
    if (r == NULL) return false;
    freeReplyObject(r);
    return true;
}

/* One read-store-ack round; returns the number of entries handled (0: nothing to do). */
static int read_round(worker *w, bool may_block) {
    char count[16];
    snprintf(count, sizeof count, "%d", cfg->batch);
    const char *argv[] = {"XREADGROUP",
                          "GROUP",
                          cfg->group,
                          w->consumer,
                          "COUNT",
                          count,
                          "BLOCK",
                          "100",
                          "STREAMS",
                          cfg->stream,
                          w->own_pending ? "0" : ">"};
    int argc = 11;
    if (w->own_pending || !may_block) {
        argv[6] = "STREAMS";
        argv[7] = cfg->stream;
        argv[8] = w->own_pending ? "0" : ">";
        argc = 9;
    }
    redisReply *r = cmd(w, argc, argv, NULL);
    if (r == NULL) return 0;
    if (r->type == REDIS_REPLY_ERROR) {
        if (strncmp(r->str, "NOGROUP", 7) == 0)
            ensure_group(w); /* Redis lost its data, or the stream was deleted */
        else
            dlog_limited(&redis_limit, 1000, DLOG_WARN, "worker %d: XREADGROUP: %s", w->idx,
                         r->str);
        freeReplyObject(r);
        return 0;
    }
    redisReply *list = NULL;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2)
        list = r->element[0]->element[1];
    int n = 0, bad = 0;
    if (list && list->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < list->elements && n < cfg->batch; i++) {
            redisReply *e = list->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
            entry *x = &w->entries[n];
            x->id = e->element[0]->str;
            x->id_len = e->element[0]->len;
            redisReply *jv = field(e->element[1], "j");
            x->j = NULL;
            if (!str_ok(jv) || jv->len < sizeof ENTRY_PREFIX ||
                memcmp(jv->str, ENTRY_PREFIX, sizeof ENTRY_PREFIX - 1) != 0) {
                /* deleted (nil) or foreign entry: acknowledge it, store nothing */
                if (e->element[1]->type != REDIS_REPLY_NIL) bad++;
            } else {
                x->j = jv->str;
                x->j_len = jv->len;
            }
            n++;
        }
    }
    if (n == 0) {
        w->own_pending = false;
        freeReplyObject(r);
        return 0;
    }
    if (bad) {
        met_add(MET_WORKER_POISON, (uint64_t)bad);
        dlog_limited(&poison_limit, 1000, DLOG_ERROR,
                     "worker %d: %d stream entries without webhook fields; acknowledged", w->idx,
                     bad);
    }
    /* store the entries that have a payload, contiguously: creations first (one multi-row
     * INSERT), then the other events in stream order (apply_order_events) */
    int m = 0, k = 0;
    for (int i = 0; i < n; i++)
        if (w->entries[i].j && !entry_is_event(&w->entries[i])) w->entries[n + m++] = w->entries[i];
    for (int i = 0; i < n; i++)
        if (w->entries[i].j && entry_is_event(&w->entries[i]))
            w->entries[n + m + k++] = w->entries[i];
    bool stored =
        store_batch(w, w->entries + n, m, false) && store_batch(w, w->entries + n + m, k, true);
    if (stored) {
        w->pg_backoff_ns = 0;
        if (ack(w, w->entries, n) && w->own_pending && n < cfg->batch) w->own_pending = false;
    } else {
        w->own_pending = true; /* keep them pending; retry after a pause */
        int64_t b = w->pg_backoff_ns ? w->pg_backoff_ns * 2 : BACKOFF_MIN_NS;
        w->pg_backoff_ns = b > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : b;
        freeReplyObject(r);
        pause_ns(w->pg_backoff_ns);
        return 0;
    }
    freeReplyObject(r);
    return n;
}

/* XAUTOCLAIM entries idle longer than --claim-idle into this consumer. */
static void claim(worker *w) {
    char idle[16], count[16], cursor[64] = "0-0";
    snprintf(idle, sizeof idle, "%d", cfg->claim_idle_ms);
    snprintf(count, sizeof count, "%d", cfg->batch);
    long long total = 0;
    for (int round = 0; round < CLAIM_ROUNDS; round++) {
        const char *argv[] = {"XAUTOCLAIM", cfg->stream, cfg->group, w->consumer, idle,
                              cursor,       "COUNT",     count,      "JUSTID"};
        redisReply *r = cmd(w, 9, argv, NULL);
        if (r == NULL) return;
        bool more = false;
        if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
            r->element[0]->type == REDIS_REPLY_STRING) {
            snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
            if (r->element[1]->type == REDIS_REPLY_ARRAY)
                total += (long long)r->element[1]->elements;
            more = strcmp(cursor, "0-0") != 0;
        }
        freeReplyObject(r);
        if (!more) break;
    }
    if (total > 0) {
        met_add(MET_WORKER_CLAIMED, (uint64_t)total);
        w->own_pending = true;
        dlog(DLOG_INFO, "worker %d: reclaimed %lld stream entries pending for more than %d ms",
             w->idx, total, cfg->claim_idle_ms);
    }
}

/* "ms-seq" + 1 → out. */
static void next_id(const char *id, char *out, size_t outlen) {
    unsigned long long ms = 0, seq = 0;
    if (sscanf(id, "%llu-%llu", &ms, &seq) != 2) {
        snprintf(out, outlen, "0-0");
        return;
    }
    snprintf(out, outlen, "%llu-%llu", ms, seq + 1);
}

/* Worker 0: XTRIM MINID to the oldest entry that is still pending or not yet delivered. Only
 * when our group is the stream's only group (another group may still need old entries). */
static void trim(worker *w) {
    const char *a1[] = {"XINFO", "GROUPS", cfg->stream};
    redisReply *r = cmd(w, 3, a1, NULL);
    if (r == NULL) return;
    char minid[64] = "";
    long long pending = -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
        redisReply *name = field(r->element[0], "name");
        redisReply *last = field(r->element[0], "last-delivered-id");
        redisReply *pend = field(r->element[0], "pending");
        if (name && name->type == REDIS_REPLY_STRING && strcmp(name->str, cfg->group) == 0 &&
            last && last->type == REDIS_REPLY_STRING && pend && pend->type == REDIS_REPLY_INTEGER) {
            next_id(last->str, minid, sizeof minid);
            pending = pend->integer;
        }
    }
    freeReplyObject(r);
    if (!minid[0]) return;
    if (pending > 0) { /* the oldest pending entry is older than anything undelivered */
        const char *a2[] = {"XPENDING", cfg->stream, cfg->group};
        r = cmd(w, 3, a2, NULL);
        if (r == NULL) return;
        bool ok = r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
                  r->element[1]->type == REDIS_REPLY_STRING;
        if (ok) snprintf(minid, sizeof minid, "%s", r->element[1]->str);
        freeReplyObject(r);
        if (!ok) return;
    }
    const char *a3[] = {"XTRIM", cfg->stream, "MINID", minid};
    r = cmd(w, 4, a3, NULL);
    if (r) freeReplyObject(r);
}

/* Worker 0: forget consumers of dead processes that hold no pending entries. */
static void forget_consumers(worker *w) {
    const char *a1[] = {"XINFO", "CONSUMERS", cfg->stream, cfg->group};
    redisReply *r = cmd(w, 4, a1, NULL);
    if (r == NULL) return;
    char prefix[160]; /* "<host>-<pid>-": this process's consumers */
    snprintf(prefix, sizeof prefix, "%.*s", (int)(strrchr(w->consumer, '-') - w->consumer + 1),
             w->consumer);
    if (r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *name = field(r->element[i], "name");
            redisReply *pend = field(r->element[i], "pending");
            redisReply *idle = field(r->element[i], "idle");
            if (!name || name->type != REDIS_REPLY_STRING || !pend || !idle ||
                pend->type != REDIS_REPLY_INTEGER || idle->type != REDIS_REPLY_INTEGER)
                continue;
            if (pend->integer != 0 || idle->integer < DEAD_CONSUMER_MS ||
                strncmp(name->str, prefix, strlen(prefix)) == 0)
                continue;
            const char *a2[] = {"XGROUP", "DELCONSUMER", cfg->stream, cfg->group, name->str};
            redisReply *d = cmd(w, 5, a2, NULL);
            if (d == NULL) break;
            freeReplyObject(d);
            dlog(DLOG_INFO, "worker %d: removed idle consumer %s", w->idx, name->str);
        }
    }
    freeReplyObject(r);
}

/* ---- the inbox ---------------------------------------------------------------------------- */

/* Moves up to a batch of the inbox's creations (a multi-row INSERT), then of its other events
 * (apply_order_events), oldest first; how many it moved. */
static long drain_inbox(worker *w) {
    char lim[16];
    snprintf(lim, sizeof lim, "%d", cfg->batch);
    const char *params[] = {lim, cfg->dedupe ? "true" : "false",
                            cfg->ordering == DCFG_ORDERING_VERSION ? "true" : "false"};
    long moved = 0;
    for (int k = 0; k < 2; k++) {
        db_result r;
        db_run(k ? DB_INBOX_DRAIN_EVENTS : DB_INBOX_DRAIN, k ? 3 : 1, params, NULL, ACQUIRE_MS,
               cfg->pg_timeout_ms, &r);
        if (r.rc != DB_OK) {
            if (r.rc == DB_SQL_ERROR)
                dlog_limited(&pg_limit, 1000, DLOG_ERROR, "worker %d: draining the inbox: %s",
                             w->idx, r.msg);
            return moved;
        }
        long m = 0, ins = 0, handled = 0;
        if (PQntuples(r.res) == 1) {
            m = atol(PQgetvalue(r.res, 0, 0));
            ins = atol(PQgetvalue(r.res, 0, 1));
            handled = atol(PQgetvalue(r.res, 0, 2));
        }
        PQclear(r.res);
        if (m > 0) {
            met_add(MET_INBOX_DRAINED, (uint64_t)m);
            met_add(MET_ORDERS_INSERTED, (uint64_t)ins);
            if (!k) met_add(MET_ORDERS_SKIPPED, (uint64_t)(m - ins));
            met_add(MET_EVENTS_HANDLED, (uint64_t)handled);
            dlog(DLOG_DEBUG, "worker %d: moved %ld webhooks from the inbox", w->idx, m);
        }
        moved += m;
    }
    return moved;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void *worker_main(void *arg) {
    worker *w = arg;
    bool queue = cfg->ingest == DCFG_INGEST_QUEUE;
    while (!atomic_load(&stop_flag)) {
        int64_t now = clock_now_ns();
        bool busy = false;
        if (now >= w->next_inbox_ns) {
            long moved = drain_inbox(w);
            busy = moved >= cfg->batch;
            w->next_inbox_ns = busy ? now : now + INBOX_EVERY_NS;
        }
        if (!queue) {
            if (!busy) pause_ns(INBOX_EVERY_NS);
            continue;
        }
        if (!redis_ready(w)) {
            pause_ns(busy ? 0 : 50 * NS_PER_MS);
            continue;
        }
        if (now >= w->next_claim_ns) {
            claim(w);
            w->next_claim_ns = now + CLAIM_EVERY_NS;
        }
        if (w->idx == 0 && w->rc && now >= w->next_trim_ns) {
            trim(w);
            w->next_trim_ns = now + TRIM_EVERY_NS;
        }
        if (w->idx == 0 && w->rc && now >= w->next_consumers_ns) {
            forget_consumers(w);
            w->next_consumers_ns = now + CONSUMERS_EVERY_NS;
        }
        if (w->rc) {
            int n = read_round(w, !busy);
            /* Group commit: a batch that was not full means the stream is drained; waiting a few
             * ms lets the next batch gather more entries, so PostgreSQL commits (and fsyncs)
             * once for many webhooks instead of once for a handful. The answer to the client
             * does not wait for this (it is sent after XADD); only the order's visibility does. */
            if (n > 0 && n < cfg->batch && cfg->batch_wait_ms > 0 && !w->own_pending)
                pause_ns((int64_t)cfg->batch_wait_ms * NS_PER_MS);
        }
    }
    return NULL;
}

int worker_start(const dcfg *c, char *err, size_t errlen) {
    cfg = c;
    nworkers = c->workers;
    if (nworkers == 0) return 0;
    if (c->ingest == DCFG_INGEST_QUEUE &&
        rds_target_of(c->redis_url, c->redis_password, &target, err, errlen))
        return -1;
    workers = calloc((size_t)nworkers, sizeof *workers);
    if (workers == NULL) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    char host[64] = "host";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    for (int i = 0; i < nworkers; i++) {
        worker *w = &workers[i];
        w->idx = i;
        snprintf(w->consumer, sizeof w->consumer, "%s-%d-%d", host, (int)getpid(), i);
        w->entries = calloc((size_t)c->batch * 2, sizeof *w->entries);
        w->argv = calloc((size_t)c->batch + 3, sizeof *w->argv);
        w->argl = calloc((size_t)c->batch + 3, sizeof *w->argl);
        if (!w->entries || !w->argv || !w->argl) {
            err_set(err, errlen, "out of memory");
            return -1;
        }
        w->next_inbox_ns = clock_now_ns() + (int64_t)i * INBOX_EVERY_NS / nworkers;
    }
    for (int i = 0; i < nworkers; i++) {
        if (pthread_create(&workers[i].th, NULL, worker_main, &workers[i])) {
            err_set(err, errlen, "cannot start worker threads");
            return -1;
        }
        workers[i].started = true;
    }
    return 0;
}

void worker_stop(void) {
    atomic_store(&stop_flag, true);
    for (int i = 0; i < nworkers; i++) {
        worker *w = &workers[i];
        if (w->started) pthread_join(w->th, NULL);
        if (w->rc) redisFree(w->rc);
        free(w->entries);
        free(w->argv);
        free(w->argl);
        free(w->json);
    }
    free(workers);
    workers = NULL;
    nworkers = 0;
}
