/* race.c — the vendor race scenario (see race.h): set-up, the races, the audit, the verdicts.
 *
 * Set-up goes through the service's real front door. With generated ids (dispatchd, and a
 * race.yaml without id_from) the load engine sends the N creation requests — signed webhooks
 * whose bodies carry "race-RUN-{{seq}}" — and then one keep-alive client polls GET /orders/ID
 * until every order is visible, within the set-up timeout; the message names how many never
 * appeared. With ids chosen by the service (id_from), the creations go one by one over the
 * client and each id is read from its answer.
 *
 * The races run one order at a time, so that each one is a clean contest of exactly V claims
 * (race_release.c holds the connections and the release). Each claim's status, the winner named
 * in a "lost" answer, its latency and the first bytes of its body are kept per order; the
 * verdict waits for the audit, which reads the ground truth of every order after the last race
 * (GET per order, and a prepared SQL statement per order when a PostgreSQL URL is known), so
 * that a service that stores its winner late is judged on what it finally stored.
 *
 * Everything that is measured uses CLOCK_MONOTONIC; the wall clock only stamps the start. */
#include "race/race.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/jpath.h"
#include "core/rng.h"
#include "http/client.h"
#include "http/url.h"
#include "load/engine.h"
#include "core/exitcode.h"
#include "core/secret.h"

#define SETUP_CONNECTIONS 8
#define DEAD_ORDERS_MAX   3 /* this many orders in a row without a single answer: stop */
#define ID_MAX            512

/* One raced order, kept until the audit. */
typedef struct order_rec {
    char *id;
    int64_t start_ns; /* its release, relative to the start of the races */
    int64_t spread_ns, resolution_ns;
    int first; /* vendor whose last byte went out first */
    race_seen *seen;
    /* ground truth */
    bool http_known, sql_known, sql_multiple;
    char *http_winner, *sql_winner;
} order_rec;

typedef struct run {
    const race_opts *o;
    const race_spec *spec;
    race_result *res;
    stack *stk;
    const char *base; /* the service's base URL */
    char prefix[512]; /* the base URL's path, without a trailing / */
    char *secret;     /* signing secret of the creation requests, or NULL */
    size_t secret_len;
    const char *sql_url; /* for the SQL audit, or NULL */
    client *hc;          /* set-up and audit */
    char **vendor;       /* "vendor-1" ... */
    char **ids;          /* the created orders */
    int nids;
    order_rec *rec;
    int nrec;
    int64_t race_t0;
} run;

/* ---- helpers ------------------------------------------------------------------------------- */

static double ms_of(int64_t ns) {
    return (double)ns / NS_PER_MS;
}

static bool stopped(const run *r) {
    return r->o->stop && *r->o->stop;
}

/* The request's path under the base URL's path, with the placeholders replaced. */
static char *path_for(const run *r, const char *pattern, const char *id, const char *vendor) {
    char *p = race_subst(pattern, id, vendor, r->res->run_id);
    if (!p) return NULL;
    size_t n = strlen(r->prefix) + strlen(p) + 1;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s%s", r->prefix, p);
    free(p);
    return out;
}

/* "Name: value\r\n" lines of a request's headers, substituted. */
static char *headers_for(const run *r, const race_request *q, const char *id, const char *vendor) {
    size_t cap = 1, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = '\0';
    for (int i = 0; i < q->nheaders; i++) {
        char *h = race_subst(q->headers[i], id, vendor, r->res->run_id);
        if (!h) {
            free(out);
            return NULL;
        }
        size_t hl = strlen(h);
        char *grown = realloc(out, cap + hl + 2);
        if (!grown) {
            free(h);
            free(out);
            return NULL;
        }
        out = grown;
        cap += hl + 2;
        memcpy(out + n, h, hl);
        memcpy(out + n + hl, "\r\n", 3);
        n += hl + 2;
        free(h);
    }
    return out;
}

/* A complete request (for the race: held back by one byte) into a malloc'd buffer. */
static char *build_request(const run *r, const race_request *q, const char *id, const char *vendor,
                           size_t *len) {
    char *path = path_for(r, q->path, id, vendor);
    char *hdrs = headers_for(r, q, id, vendor);
    char *body = q->body ? race_subst(q->body, id, vendor, r->res->run_id) : NULL;
    char *out = NULL;
    if (path && hdrs && (body || !q->body)) {
        size_t bl = body ? strlen(body) : 0;
        size_t cap = strlen(q->method) + strlen(path) + strlen(hdrs) + bl + 300;
        out = malloc(cap);
        if (out) {
            int n = snprintf(out, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n%s", q->method, path,
                             client_host_header(r->hc), hdrs);
            if (body || !strcmp(q->method, "POST") || !strcmp(q->method, "PUT"))
                n += snprintf(out + n, cap - (size_t)n, "Content-Length: %zu\r\n", bl);
            n += snprintf(out + n, cap - (size_t)n, "\r\n");
            if (bl) memcpy(out + n, body, bl);
            *len = (size_t)n + bl;
        }
    }
    free(path);
    free(hdrs);
    free(body);
    return out;
}

/* A whole request over the set-up client. */
static int send_request(run *r, const race_request *q, const char *id, const char *extra_headers,
                        const char *body, size_t body_len, client_response *resp, char *err,
                        size_t errlen) {
    char *path = path_for(r, q->path, id, NULL);
    char *hdrs = headers_for(r, q, id, NULL);
    int rc = -1;
    if (!path || !hdrs) {
        err_set(err, errlen, "out of memory");
    } else {
        char *all = hdrs;
        char *joined = NULL;
        if (extra_headers) {
            size_t n = strlen(hdrs) + strlen(extra_headers) + 1;
            joined = malloc(n);
            if (joined) {
                snprintf(joined, n, "%s%s", hdrs, extra_headers);
                all = joined;
            }
        }
        client_err why;
        rc = client_request(r->hc, q->method, path, all, body, body_len, r->o->timeout_ns, resp,
                            &why, err, errlen);
        free(joined);
    }
    free(path);
    free(hdrs);
    return rc;
}

/* ---- set-up -------------------------------------------------------------------------------- */

/* The creation requests of generated ids, as the load engine sends them (and renders one again
 * for a resend). */
typedef struct creator {
    engine_config ec;
    char url[2048];
    char *path, *body;
    char *hdr_text[RACE_MAX_HEADERS];
    engine_header hdrs[RACE_MAX_HEADERS];
    int64_t ok;          /* answers in create_ok */
    int64_t status[600]; /* answers by status, resends included */
    int64_t no_answer;
    int resends; /* resend rounds */
} creator;

static void creator_free(creator *c) {
    for (int i = 0; i < RACE_MAX_HEADERS; i++) free(c->hdr_text[i]);
    free(c->path);
    free(c->body);
}

static int creator_init(run *r, creator *c, int n, char *err, size_t errlen) {
    const race_spec *s = r->spec;
    memset(c, 0, sizeof *c);
    char idt[64];
    snprintf(idt, sizeof idt, "race-%s-{{seq}}", r->res->run_id);
    c->path = path_for(r, s->create.path, idt, NULL);
    c->body = s->create.body ? race_subst(s->create.body, idt, NULL, r->res->run_id) : NULL;
    if (!c->path || (s->create.body && !c->body)) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    const char *b = r->base;
    const char *scheme_end = strstr(b, "://");
    size_t auth_end =
        scheme_end ? (size_t)(scheme_end + 3 - b) + strcspn(scheme_end + 3, "/?") : strlen(b);
    snprintf(c->url, sizeof c->url, "%.*s%s", (int)auth_end, b, c->path);
    for (int i = 0; i < s->create.nheaders; i++) {
        c->hdr_text[i] = race_subst(s->create.headers[i], idt, NULL, r->res->run_id);
        if (!c->hdr_text[i]) {
            err_set(err, errlen, "out of memory");
            return -1;
        }
        c->hdrs[i].text = c->hdr_text[i];
    }
    c->ec = (engine_config){
        .url = c->url,
        .method = s->create.method,
        .headers = c->hdrs,
        .nheaders = s->create.nheaders,
        .body = c->body,
        .body_len = c->body ? strlen(c->body) : 0,
        .sign = r->secret ? s->create_sign : SIGN_NONE,
        .secret = r->secret,
        .secret_len = r->secret_len,
        .connections = n < SETUP_CONNECTIONS ? n : SETUP_CONNECTIONS,
        .threads = 1,
        .duration_ns = r->o->setup_timeout_ns,
        .max_requests = n,
        .timeout_ns = r->o->timeout_ns,
        .insecure = r->o->insecure,
        .stop = r->o->stop,
    };
    char sub[400];
    if (engine_check(&c->ec, sub, sizeof sub) < 0) {
        err_set(err, errlen, "the creation request: %s", sub);
        return -2;
    }
    return 0;
}

static void creator_statuses(const creator *c, char *out, size_t outlen) {
    size_t off = 0;
    out[0] = '\0';
    for (int st = 0; st < 600 && off + 24 < outlen; st++)
        if (c->status[st])
            off += (size_t)snprintf(out + off, outlen - off, "%s%d: %lld", off ? ", " : "", st,
                                    (long long)c->status[st]);
    if (c->no_answer && off + 32 < outlen)
        snprintf(out + off, outlen - off, "%sno answer: %lld", off ? ", " : "",
                 (long long)c->no_answer);
}

/* All N creations through the load engine. */
static int create_with_engine(run *r, creator *c, int n, char *err, size_t errlen) {
    engine_result er;
    char sub[400];
    if (engine_run(&c->ec, &er, sub, sizeof sub) < 0) {
        err_set(err, errlen, "creating the orders: %s", sub);
        return -1;
    }
    for (int st = 0; st < 600; st++) {
        c->status[st] += er.status[st];
        if (status_set_has(&r->spec->create_ok, st)) c->ok += er.status[st];
    }
    c->no_answer += er.transport_errors;
    int rc = 0;
    if (er.responses == 0 && !er.interrupted) {
        const char *detail = "no response";
        for (int e = 0; e < ERR__COUNT; e++)
            if (er.first_error[e][0]) {
                detail = er.first_error[e];
                break;
            }
        err_set(err, errlen, "no answer to the %d creation requests (%s %s): %s", n,
                r->spec->create.method, c->url, detail);
        rc = -1;
    } else if (c->ok == 0 && !er.interrupted) {
        char st[200];
        creator_statuses(c, st, sizeof st);
        err_set(err, errlen, "set-up: none of the %d creation requests (%s %s) succeeded (%s)%s", n,
                r->spec->create.method, c->url, st,
                er.status[401] || er.status[403] ? " — is the signing secret the service's?" : "");
        rc = -1;
    }
    engine_result_free(&er);
    return rc;
}

/* Sends the creation of order seq again, as the engine rendered it (a fresh signature). */
static void resend(run *r, creator *c, int seq) {
    char *req = NULL;
    size_t len;
    char e[200];
    if (engine_render(&c->ec, (uint64_t)seq, &req, &len, e, sizeof e) < 0) return;
    int64_t deadline = clock_now_ns() + r->o->timeout_ns;
    client_response resp;
    client_err why;
    if (client_connect(r->hc, deadline, &why, e, sizeof e) == 0) {
        client_response_begin(r->hc);
        if (client_write_all(r->hc, req, len, deadline, &why, e, sizeof e) == 0 &&
            client_response_wait(r->hc, deadline, &resp, &why, e, sizeof e) == 0) {
            if (resp.status < 600) c->status[resp.status]++;
            if (status_set_has(&r->spec->create_ok, resp.status)) c->ok++;
        } else {
            c->no_answer++;
        }
    }
    free(req);
}

/* Server-chosen ids: one creation at a time, the id read from each answer. */
static int create_one_by_one(run *r, int n, int64_t deadline, char *err, size_t errlen) {
    const race_spec *s = r->spec;
    sign_ctx *sc = NULL;
    if (r->secret && s->create_sign != SIGN_NONE) {
        sc = sign_new(s->create_sign, r->secret, r->secret_len, err, errlen);
        if (!sc) return -2;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (stopped(r) || clock_now_ns() > deadline) {
            err_set(err, errlen, "set-up: %d of %d resources created before the set-up timeout", i,
                    n);
            rc = -1;
            break;
        }
        char seq[24];
        snprintf(seq, sizeof seq, "%d", i);
        char *body = NULL;
        if (s->create.body) {
            char *t = race_subst(s->create.body, seq, NULL, r->res->run_id);
            /* {{seq}} too: the only engine placeholder that makes sense here */
            body = t ? malloc(strlen(t) * 2 + 32) : NULL;
            if (body) {
                size_t o = 0;
                for (const char *p = t; *p;)
                    if (!strncmp(p, "{{seq}}", 7)) {
                        o += (size_t)sprintf(body + o, "%s", seq);
                        p += 7;
                    } else {
                        body[o++] = *p++;
                    }
                body[o] = '\0';
            }
            free(t);
            if (!body) {
                err_set(err, errlen, "out of memory");
                rc = -1;
                break;
            }
        }
        size_t bl = body ? strlen(body) : 0;
        char sig[1024] = "";
        if (sc) {
            char mid[64];
            int ml = snprintf(mid, sizeof mid, "msg_race_%s_%d", r->res->run_id, i);
            int sl = sign_headers(sc, mid, (size_t)ml, clock_wall_ns() / NS_PER_S, body ? body : "",
                                  bl, sig, sizeof sig - 1);
            if (sl < 0) {
                err_set(err, errlen, "signing the creation request failed");
                free(body);
                rc = -1;
                break;
            }
            sig[sl] = '\0';
        }
        client_response resp;
        char sub[300];
        if (send_request(r, &s->create, seq, sig, body, bl, &resp, sub, sizeof sub) < 0) {
            err_set(err, errlen, "set-up: creating resource %d: %s", i + 1, sub);
            rc = -1;
        } else if (!status_set_has(&s->create_ok, resp.status)) {
            err_set(err, errlen, "set-up: creating resource %d: status %d: %.120s", i + 1,
                    resp.status, resp.body);
            rc = -1;
        } else {
            char id[ID_MAX];
            int g = jpath_get(resp.body, resp.body_len, s->create_id_path, id, sizeof id);
            if (g != 1) {
                err_set(err, errlen,
                        "set-up: the answer to creation %d has no id at '%s' (body: %.120s)", i + 1,
                        s->create_id_path, resp.body);
                rc = -1;
            } else if (!(r->ids[i] = strdup(id))) {
                err_set(err, errlen, "out of memory");
                rc = -1;
            } else {
                r->nids = i + 1;
            }
        }
        free(body);
    }
    sign_free(sc);
    return rc;
}

/* Polls until every id is visible, or the deadline. Orders whose creation was refused (the
 * engine counted failures) are created again, one by one, when a polling round makes no progress
 * — at most RESEND_ROUNDS times. */
#define RESEND_ROUNDS 3
static int wait_visible(run *r, creator *c, int64_t deadline, char *err, size_t errlen) {
    const race_spec *s = r->spec;
    if (!s->visible.method) {
        r->res->created = r->nids;
        return 0;
    }
    int n = r->nids;
    bool *seen = calloc((size_t)n, sizeof *seen);
    if (!seen) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    int left = n, last_status = 0;
    int64_t last_progress = clock_now_ns();
    char last_err[200] = "";
    while (left > 0 && !stopped(r)) {
        int before = left;
        for (int i = 0; i < n && clock_now_ns() < deadline; i++) {
            if (seen[i]) continue;
            client_response resp;
            if (send_request(r, &s->visible, r->ids[i], NULL, NULL, 0, &resp, last_err,
                             sizeof last_err) == 0) {
                last_status = resp.status;
                if (status_set_has(&s->visible_ok, resp.status)) {
                    seen[i] = true;
                    left--;
                }
            }
        }
        if (left == 0 || clock_now_ns() >= deadline) break;
        if (left < before) last_progress = clock_now_ns();
        bool refused = c && c->ok < (int64_t)n; /* some creations were not answered 2xx */
        if (refused && c->resends < RESEND_ROUNDS &&
            clock_now_ns() - last_progress > 300 * NS_PER_MS) {
            c->resends++;
            for (int i = 0; i < n && clock_now_ns() < deadline; i++)
                if (!seen[i]) resend(r, c, i);
            last_progress = clock_now_ns();
        }
        if (left == before) {
            struct timespec ts = {0, 20 * NS_PER_MS};
            nanosleep(&ts, NULL);
        }
    }
    free(seen);
    r->res->created = n - left;
    if (left == 0) return 0;
    if (stopped(r)) return -1;
    char st[200] = "";
    if (c) creator_statuses(c, st, sizeof st);
    err_set(err, errlen,
            "set-up: %d of %d orders never became visible at %s %s within %.3g s (creation "
            "answers: %s%s; last read-back: %s%d%s%s) — is the service's worker running?",
            left, n, s->visible.method, s->visible.path, (double)r->o->setup_timeout_ns / NS_PER_S,
            st[0] ? st : "-", c && c->resends ? ", refused ones sent again" : "",
            last_status ? "status " : "", last_status, last_err[0] ? "; " : "", last_err);
    return -1;
}

static int setup(run *r, char *err, size_t errlen) {
    int n = r->o->orders;
    int64_t deadline = clock_now_ns() + r->o->setup_timeout_ns;
    r->ids = calloc((size_t)n, sizeof *r->ids);
    if (!r->ids) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    if (r->spec->create_id_path) {
        int rc = create_one_by_one(r, n, deadline, err, errlen);
        if (rc) return rc;
        if (stopped(r)) return -1;
        return wait_visible(r, NULL, deadline, err, errlen);
    }
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "race-%s-%d", r->res->run_id, i);
        if (!(r->ids[i] = strdup(id))) {
            err_set(err, errlen, "out of memory");
            return -1;
        }
        r->nids = i + 1;
    }
    creator c;
    int rc = creator_init(r, &c, n, err, errlen);
    if (rc == 0) rc = create_with_engine(r, &c, n, err, errlen);
    if (rc == 0 && !stopped(r)) rc = wait_visible(r, &c, deadline, err, errlen);
    if (rc == 0 && stopped(r)) rc = -1;
    creator_free(&c);
    return rc;
}

/* ---- the races ----------------------------------------------------------------------------- */

/* On a terminal a live line each second; elsewhere (a CI log) a line every 10 s. */
static void progress(run *r, int done, int total, int64_t *next) {
    if (!r->o->progress) return;
    int64_t now = clock_now_ns();
    bool tty = r->o->progress_tty;
    if (!*next) *next = now + (tty ? NS_PER_S : 10 * NS_PER_S);
    if (now < *next && !(tty && done == total)) return;
    *next = now + (tty ? NS_PER_S : 10 * NS_PER_S);
    if (tty)
        fprintf(r->o->progress, "\r  race %d/%d orders ", done, total);
    else
        fprintf(r->o->progress, "brink race: %d/%d orders raced, %d left\n", done, total,
                total - done);
    fflush(r->o->progress);
}

static void keep_answer(run *r, race_seen *v, const race_shot *s) {
    const race_spec *sp = r->spec;
    v->status = s->status;
    v->err = s->err;
    v->latency_us = s->sent_ns && s->done_ns > s->sent_ns ? (s->done_ns - s->sent_ns) / 1000 : 0;
    if (s->status) {
        size_t keep = s->body_len < RACE_BODY_KEEP ? s->body_len : RACE_BODY_KEEP;
        v->body = malloc(keep + 1);
        if (v->body) {
            memcpy(v->body, s->body, keep);
            v->body[keep] = '\0';
        }
        v->body_len = s->body_len;
        if (race_outcome_of(&sp->won, &sp->lost, s->status) == RACE_LOST && sp->loser_winner_path) {
            char name[ID_MAX];
            v->names = true;
            if (jpath_get(s->body, s->body_len, sp->loser_winner_path, name, sizeof name) == 1)
                v->named = strdup(name);
        }
    } else {
        v->detail = strdup(s->detail[0] ? s->detail : client_err_name(s->err));
    }
}

static int race_all(run *r, char *err, size_t errlen) {
    int V = r->o->vendors;
    race_release *rel = NULL;
    if (race_release_new(r->base, V, r->o->release, r->o->insecure, r->o->settle_ns, &rel, err,
                         errlen) < 0)
        return -1;
    char **reqs = calloc((size_t)V, sizeof *reqs);
    size_t *lens = calloc((size_t)V, sizeof *lens);
    race_shot *shots = calloc((size_t)V, sizeof *shots);
    r->rec = calloc((size_t)r->nids, sizeof *r->rec);
    int rc = -1;
    if (!reqs || !lens || !shots || !r->rec) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    race_result *res = r->res;
    int dead = 0;
    int64_t next_progress = 0;
    r->race_t0 = clock_now_ns();
    for (int k = 0; k < r->nids; k++) {
        if (stopped(r)) {
            res->interrupted = true;
            break;
        }
        for (int i = 0; i < V; i++) {
            reqs[i] = build_request(r, &r->spec->claim, r->ids[k], r->vendor[i], &lens[i]);
            if (!reqs[i] || lens[i] < 2) {
                err_set(err, errlen, "out of memory");
                goto out;
            }
        }
        race_times t;
        int first = k % V;
        race_release_fire(rel, reqs, lens, first, r->o->timeout_ns, shots, &t);
        for (int i = 0; i < V; i++) {
            free(reqs[i]);
            reqs[i] = NULL;
        }
        order_rec *o = &r->rec[k];
        r->nrec = k + 1;
        o->id = r->ids[k];
        o->start_ns = (t.release_ns ? t.release_ns : clock_now_ns()) - r->race_t0;
        o->spread_ns = t.sent > 1 ? t.last_sent_ns - t.first_sent_ns : 0;
        o->resolution_ns = t.sent ? t.last_done_ns - t.release_ns : 0;
        o->first = first;
        int64_t best = INT64_MAX;
        for (int i = 0; i < V; i++)
            if (shots[i].sent_ns && shots[i].sent_ns < best) {
                best = shots[i].sent_ns;
                o->first = i;
            }
        o->seen = calloc((size_t)V, sizeof *o->seen);
        if (!o->seen) {
            err_set(err, errlen, "out of memory");
            goto out;
        }
        int answered = 0;
        for (int i = 0; i < V; i++) {
            keep_answer(r, &o->seen[i], &shots[i]);
            if (shots[i].status) {
                answered++;
                hdr_record(res->latency, o->seen[i].latency_us > 0 ? o->seen[i].latency_us : 1);
            }
        }
        if (t.sent) {
            hdr_record(res->resolution, o->resolution_ns / 1000 > 0 ? o->resolution_ns / 1000 : 1);
            res->resolution_sum_ms += ms_of(o->resolution_ns);
        }
        if (t.sent > 1) hdr_record(res->spread, o->spread_ns > 0 ? o->spread_ns : 1);
        if (t.prefix_wait_ns > res->prefix_wait_max_ns) res->prefix_wait_max_ns = t.prefix_wait_ns;
        res->raced = k + 1;
        dead = answered ? 0 : dead + 1;
        if (dead >= DEAD_ORDERS_MAX) {
            snprintf(res->note, sizeof res->note,
                     "stopped after %d of %d orders: %d orders in a row got no answer at all "
                     "(first failure: %s)",
                     k + 1, r->nids, DEAD_ORDERS_MAX,
                     o->seen[0].detail ? o->seen[0].detail : "none");
            break;
        }
        progress(r, k + 1, r->nids, &next_progress);
    }
    if (r->o->progress && r->o->progress_tty) fprintf(r->o->progress, "\r%40s\r", "");
    rc = 0;
out:
    if (reqs)
        for (int i = 0; i < V; i++) free(reqs[i]);
    free(reqs);
    free(lens);
    free(shots);
    race_release_free(rel);
    return rc;
}

/* ---- the audit ----------------------------------------------------------------------------- */

static void audit_http(run *r) {
    const race_spec *s = r->spec;
    if (!s->truth.method) return;
    r->res->http_audit = true;
    for (int k = 0; k < r->nrec && !stopped(r); k++) {
        order_rec *o = &r->rec[k];
        client_response resp;
        char e[200];
        if (send_request(r, &s->truth, o->id, NULL, NULL, 0, &resp, e, sizeof e) < 0) {
            r->res->audit_failures++;
            if (!r->res->audit_error[0])
                snprintf(r->res->audit_error, sizeof r->res->audit_error, "HTTP read-back: %s", e);
            continue;
        }
        char w[ID_MAX];
        int g = resp.status >= 200 && resp.status < 300
                    ? jpath_get(resp.body, resp.body_len, s->truth_winner_path, w, sizeof w)
                    : -1;
        if (g < 0) {
            r->res->audit_failures++;
            if (!r->res->audit_error[0])
                snprintf(r->res->audit_error, sizeof r->res->audit_error,
                         "HTTP read-back of %s: status %d: %.100s", o->id, resp.status, resp.body);
            continue;
        }
        o->http_known = true;
        o->http_winner = g == 1 ? strdup(w) : NULL;
        r->res->http_audited++;
    }
}

static void audit_sql(run *r) {
    if (!r->sql_url || !r->spec->sql_query) return;
    r->res->sql_audit = true;
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "password", NULL};
    const char *vals[] = {r->sql_url, "5", "brink-race", r->o->pg_password, NULL};
    if (!r->o->pg_password) keys[3] = NULL; /* libpq: PGPASSWORD, PGPASSFILE */
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        char m[200];
        snprintf(m, sizeof m, "%s", PQerrorMessage(pg));
        m[strcspn(m, "\n")] = '\0';
        snprintf(r->res->audit_error, sizeof r->res->audit_error, "SQL audit: cannot connect: %s",
                 m);
        r->res->audit_failures += r->nrec;
        PQfinish(pg);
        return;
    }
    PGresult *pr = PQprepare(pg, "race_truth", r->spec->sql_query, 1, NULL);
    if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
        char m[200];
        snprintf(m, sizeof m, "%s", PQresultErrorMessage(pr));
        m[strcspn(m, "\n")] = '\0';
        snprintf(r->res->audit_error, sizeof r->res->audit_error, "SQL audit: %s", m);
        r->res->audit_failures += r->nrec;
        PQclear(pr);
        PQfinish(pg);
        return;
    }
    PQclear(pr);
    for (int k = 0; k < r->nrec && !stopped(r); k++) {
        order_rec *o = &r->rec[k];
        const char *params[] = {o->id};
        PGresult *q = PQexecPrepared(pg, "race_truth", 1, params, NULL, NULL, 0);
        if (PQresultStatus(q) != PGRES_TUPLES_OK || PQnfields(q) < 1) {
            r->res->audit_failures++;
            if (!r->res->audit_error[0]) {
                char m[200];
                snprintf(m, sizeof m, "%s",
                         PQresultStatus(q) == PGRES_TUPLES_OK ? "the query returns no column"
                                                              : PQresultErrorMessage(q));
                m[strcspn(m, "\n")] = '\0';
                snprintf(r->res->audit_error, sizeof r->res->audit_error, "SQL audit: %s", m);
            }
            PQclear(q);
            continue;
        }
        int rows = PQntuples(q);
        o->sql_known = true;
        o->sql_multiple = rows > 1;
        if (rows >= 1 && !PQgetisnull(q, 0, 0)) o->sql_winner = strdup(PQgetvalue(q, 0, 0));
        r->res->sql_audited++;
        PQclear(q);
    }
    PQfinish(pg);
}

/* ---- verdicts and numbers ------------------------------------------------------------------ */

static char *dup_or_null(const char *s) {
    return s ? strdup(s) : NULL;
}

static void keep_violation(run *r, const order_rec *o, const race_verdict *v) {
    race_result *res = r->res;
    res->viol_total++;
    if (res->nviol >= RACE_VIOL_KEEP) return;
    race_violation *x = &res->viol[res->nviol];
    x->seen = calloc((size_t)r->o->vendors, sizeof *x->seen);
    if (!x->seen) return;
    res->nviol++;
    x->id = strdup(o->id);
    x->classes = v->classes;
    x->won = v->won;
    x->lost = v->lost;
    x->failed = v->failed;
    x->announced = dup_or_null(v->announced);
    x->http_known = o->http_known;
    x->sql_known = o->sql_known;
    x->sql_multiple = o->sql_multiple;
    x->http_winner = dup_or_null(o->http_winner);
    x->sql_winner = dup_or_null(o->sql_winner);
    x->spread_ms = ms_of(o->spread_ns);
    x->resolution_ms = ms_of(o->resolution_ns);
    x->first = o->first;
    for (int i = 0; i < r->o->vendors; i++) {
        const race_seen *a = &o->seen[i];
        race_seen *b = &x->seen[i];
        *b = *a;
        b->named = dup_or_null(a->named);
        b->body = dup_or_null(a->body);
        b->detail = dup_or_null(a->detail);
    }
}

static void add_second(race_result *res, int s, const order_rec *o, unsigned classes, int V) {
    if (s >= res->nseconds) {
        race_second *g = realloc(res->timeline, sizeof *g * (size_t)(s + 1));
        if (!g) return;
        res->timeline = g;
        for (int i = res->nseconds; i <= s; i++)
            res->timeline[i] = (race_second){.index = i, .length_s = 1, .phase = "race"};
        res->nseconds = s + 1;
    }
    race_second *sec = &res->timeline[s];
    sec->orders++;
    if (classes & RACE_CONDITION_MASK) sec->violations++;
    for (int i = 0; i < V; i++) {
        sec->accepts++;
        if (!o->seen[i].status) sec->errors++;
    }
}

static void judge_all(run *r) {
    race_result *res = r->res;
    int V = r->o->vendors;
    const race_spec *sp = r->spec;
    race_answer *ans = calloc((size_t)V, sizeof *ans);
    res->viol = calloc(RACE_VIOL_KEEP, sizeof *res->viol);
    hdr_hist *sec = hdr_new_like(res->latency);
    if (!ans || !res->viol || !sec) {
        free(ans);
        hdr_free(sec);
        return;
    }
    int cur = -1;
    for (int k = 0; k < r->nrec; k++) {
        order_rec *o = &r->rec[k];
        for (int i = 0; i < V; i++) {
            const race_seen *a = &o->seen[i];
            ans[i].vendor = r->vendor[i];
            ans[i].names = a->names;
            ans[i].winner = a->named;
            ans[i].outcome = race_outcome_of(&sp->won, &sp->lost, a->status);
            res->accepts++;
            if (a->status) res->status[a->status < 600 ? a->status : 599]++;
            if (!a->status && a->err >= 0 && a->err < 8) res->err_by_class[a->err]++;
            if (ans[i].outcome == RACE_WON) res->won_answers++;
            if (ans[i].outcome == RACE_LOST) res->lost_answers++;
            if (ans[i].outcome == RACE_FAILED) res->failed_accepts++;
        }
        race_truth t[2] = {
            {.source = "http", .known = o->http_known, .winner = o->http_winner},
            {.source = "sql",
             .known = o->sql_known,
             .multiple = o->sql_multiple,
             .winner = o->sql_winner},
        };
        race_verdict v;
        race_judge(ans, V, t, 2, &v);
        for (int c = 0; c < RACE_NCLASS; c++)
            if (v.classes & RACE_BIT(c)) res->classes[c]++;
        if (v.classes & RACE_CONDITION_MASK) res->race_conditions++;
        if (!v.classes) res->valid++;
        if (o->http_known || o->sql_known) {
            res->integrity_checked++;
            if (!(v.classes & RACE_BIT(RACE_PHANTOM_WINNER))) res->integrity_ok++;
        }
        if (v.won == 1 && v.announced == r->vendor[o->first]) res->first_sender_wins++;
        if (v.classes) keep_violation(r, o, &v);

        /* the timeline: one entry per second of the races */
        int s = (int)(o->start_ns / NS_PER_S);
        if (s != cur) {
            if (cur >= 0 && cur < res->nseconds) {
                res->timeline[cur].p50_us = hdr_value_at_percentile(sec, 50);
                res->timeline[cur].p99_us = hdr_value_at_percentile(sec, 99);
                res->timeline[cur].max_us = hdr_max(sec);
            }
            hdr_reset(sec);
            cur = s;
        }
        add_second(res, s, o, v.classes, V);
        for (int i = 0; i < V; i++)
            if (o->seen[i].status)
                hdr_record(sec, o->seen[i].latency_us > 0 ? o->seen[i].latency_us : 1);
    }
    if (cur >= 0 && cur < res->nseconds) {
        res->timeline[cur].p50_us = hdr_value_at_percentile(sec, 50);
        res->timeline[cur].p99_us = hdr_value_at_percentile(sec, 99);
        res->timeline[cur].max_us = hdr_max(sec);
    }
    if (res->nseconds > 0) {
        double last = (double)r->rec[r->nrec - 1].start_ns / NS_PER_S;
        res->timeline[res->nseconds - 1].length_s =
            last - (res->nseconds - 1) > 0 ? last - (res->nseconds - 1) : 0.001;
        if (res->timeline[res->nseconds - 1].length_s > 1)
            res->timeline[res->nseconds - 1].length_s = 1;
    }
    hdr_free(sec);
    free(ans);
}

/* ---- the whole run ------------------------------------------------------------------------- */

static void free_run(run *r) {
    if (r->rec)
        for (int k = 0; k < r->nrec; k++) {
            order_rec *o = &r->rec[k];
            if (o->seen)
                for (int i = 0; i < r->o->vendors; i++) {
                    free(o->seen[i].named);
                    free(o->seen[i].body);
                    free(o->seen[i].detail);
                }
            free(o->seen);
            free(o->http_winner);
            free(o->sql_winner);
        }
    free(r->rec);
    if (r->ids)
        for (int i = 0; i < r->o->orders; i++) free(r->ids[i]);
    free(r->ids);
    if (r->vendor)
        for (int i = 0; i < r->o->vendors; i++) free(r->vendor[i]);
    free(r->vendor);
    client_free(r->hc);
    if (r->secret) {
        memset(r->secret, 0, r->secret_len);
        free(r->secret);
    }
    stack_down(r->stk);
}

static int init_result(const race_opts *o, race_result *res, char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    res->profile = o->profile;
    res->orders = o->orders;
    res->vendors = o->vendors;
    res->release = race_release_name(o->release);
    res->timeout_s = (double)o->timeout_ns / NS_PER_S;
    res->setup_timeout_s = (double)o->setup_timeout_ns / NS_PER_S;
    res->settle_ms = ms_of(o->settle_ns);
    res->spec_file = o->spec ? o->spec->file : NULL;
    res->latency = hdr_new_default();
    res->resolution = hdr_new_default();
    res->spread = hdr_new(1, 3600LL * NS_PER_S, 3);
    if (!res->latency || !res->resolution || !res->spread) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    rng g;
    rng_seed(&g);
    snprintf(res->run_id, sizeof res->run_id, "%08llx",
             (unsigned long long)(rng_next(&g) & 0xffffffffULL));
    return 0;
}

int race_run(const race_opts *o, race_result *res, char *err, size_t errlen) {
    run r = {.o = o, .spec = o->spec, .res = res};
    int status = EXIT_UNREACHABLE;
    if (init_result(o, res, err, errlen) < 0) return EXIT_FAILURE_;
    int64_t t0 = clock_now_ns();
    res->start_wall_ns = clock_wall_ns();

    r.vendor = calloc((size_t)o->vendors, sizeof *r.vendor);
    if (!r.vendor) {
        err_set(err, errlen, "out of memory");
        return EXIT_FAILURE_;
    }
    for (int i = 0; i < o->vendors; i++) {
        char v[32];
        snprintf(v, sizeof v, "vendor-%d", i + 1);
        if (!(r.vendor[i] = strdup(v))) {
            err_set(err, errlen, "out of memory");
            status = EXIT_FAILURE_;
            goto out;
        }
    }

    /* the target: the embedded stack, or a running service */
    const char *secret_file = o->secret_file, *secret_env = o->secret_env;
    if (!secret_file && !secret_env && o->spec->secret_file) secret_file = o->spec->secret_file;
    if (!secret_file && !secret_env && o->spec->secret_env) secret_env = o->spec->secret_env;
    if (o->use_stack) {
        stack_opts so = {.profile = o->stack_profile, .keep = o->keep_stack};
        char sub[400];
        if (stack_up(&so, &r.stk, sub, sizeof sub) < 0) {
            err_set(err, errlen, "embedded stack: %s", sub);
            goto out;
        }
        const stack_info *si = stack_get_info(r.stk);
        r.base = si->service_url;
        if (!secret_file && !secret_env) secret_file = si->secret_file;
        r.sql_url = o->spec->sql_url ? o->spec->sql_url : si->pg_url;
        res->on_stack = true;
        res->stack_profile = o->stack_profile == STACK_PROFILE_UNTUNED ? "untuned" : "tuned";
        snprintf(res->target, sizeof res->target, "%s", si->service_url);
        probe_metrics_for_stack(&res->metrics, si);
    } else {
        r.base = o->target ? o->target : o->spec->target;
        r.sql_url = o->pg_url ? o->pg_url : o->spec->sql_url;
        snprintf(res->target, sizeof res->target, "%s", r.base);
        probe_metrics_init(&res->metrics, o->metrics_url);
    }
    res->stack_s = (double)(clock_now_ns() - t0) / NS_PER_S;
    if (secret_file || secret_env) {
        r.secret =
            secret_read(secret_env, secret_env ? NULL : secret_file, &r.secret_len, err, errlen);
        if (!r.secret) {
            status = EXIT_USAGE;
            goto out;
        }
    }
    if (client_new(r.base, o->insecure, &r.hc, err, errlen) < 0) goto out;
    {
        url u;
        char sub[200];
        if (url_parse(r.base, &u, sub, sizeof sub) == 0) {
            size_t pl = strcspn(u.path, "?");
            while (pl > 0 && u.path[pl - 1] == '/') pl--;
            snprintf(r.prefix, sizeof r.prefix, "%.*s", (int)pl, u.path);
            url_free(&u);
        }
    }
    /* reachable at all? any HTTP answer will do */
    {
        client_response resp;
        client_err why;
        char sub[300];
        char path[600];
        snprintf(path, sizeof path, "%s/", r.prefix);
        if (client_request(r.hc, "GET", path, NULL, NULL, 0, o->timeout_ns, &resp, &why, sub,
                           sizeof sub) < 0) {
            err_set(err, errlen, "the service at %s does not answer: %s", r.base, sub);
            goto out;
        }
    }

    int64_t ts = clock_now_ns();
    int rc = setup(&r, err, errlen);
    res->setup_s = (double)(clock_now_ns() - ts) / NS_PER_S;
    if (rc == -2) {
        status = EXIT_USAGE;
        goto out;
    }
    if (rc < 0) {
        if (stopped(&r)) {
            res->interrupted = true;
            status = EXIT_INTERRUPTED;
            err_set(err, errlen, "interrupted during set-up");
        }
        goto out;
    }

    probe_metrics_scrape(&res->metrics, PROBE_METRICS_START);
    int64_t tr = clock_now_ns();
    if (race_all(&r, err, errlen) < 0) {
        status = EXIT_FAILURE_;
        goto out;
    }
    res->race_s = (double)(clock_now_ns() - tr) / NS_PER_S;
    probe_metrics_scrape(&res->metrics, PROBE_METRICS_END);
    int64_t ta = clock_now_ns();
    audit_http(&r);
    audit_sql(&r);
    res->audit_s = (double)(clock_now_ns() - ta) / NS_PER_S;
    judge_all(&r);
    status = res->interrupted ? EXIT_INTERRUPTED : EXIT_OK;
out:
    free_run(&r);
    res->duration_s = (double)(clock_now_ns() - t0) / NS_PER_S;
    return status;
}

void race_result_free(race_result *res) {
    hdr_free(res->latency);
    hdr_free(res->resolution);
    hdr_free(res->spread);
    for (int i = 0; i < res->nviol; i++) {
        race_violation *x = &res->viol[i];
        free(x->id);
        free(x->announced);
        free(x->http_winner);
        free(x->sql_winner);
        if (x->seen)
            for (int k = 0; k < res->vendors; k++) {
                free(x->seen[k].named);
                free(x->seen[k].body);
                free(x->seen[k].detail);
            }
        free(x->seen);
    }
    free(res->viol);
    free(res->timeline);
    memset(res, 0, sizeof *res);
}
