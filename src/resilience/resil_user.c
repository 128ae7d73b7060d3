/* resil_user.c — the resilience scenarios on a user's own stack (brink redis-failure / db-restart
 * -f brink.yaml): what resil_run.c does with the embedded stack's proxies, processes and tables,
 * done with what the file describes (docs/config.md).
 *
 *   network modes   latency, timeout/blackhole, reset, down: the same toxics as the embedded
 *                   stack's, through a Toxiproxy-compatible HTTP API (dependencies.NAME.toxiproxy:
 *                   Toxiproxy itself, or `brink proxy`): POST /proxies/P/toxics, DELETE
 *                   /proxies/P/toxics/T, POST /proxies/P {"enabled": false|true};
 *   process modes   pause, kill, graceful, crash: deps_fault with the dependency's commands or
 *                   signals (pause_cmd/SIGSTOP + resume_cmd/SIGCONT; kill_cmd/SIGKILL or
 *                   stop_cmd/stop_signal, then start_cmd), timed by its ready check;
 *   the audit       audit.stored runs with $1 = the acknowledged webhook ids (text[], in batches
 *                   of CONFIG_AUDIT_BATCH) and $2 = the run's id prefix (text), and returns one
 *                   row per stored id — (id, count) or (id) once per stored copy; audit.queued the
 *                   same for ids still in a durable queue; each audit.integrity query one number
 *                   (violations) with $1 = the id prefix. probe_audit.c reconciles the rows. */
#include "resilience/resil_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/yml.h"
#include "http/client.h"

#define API_TIMEOUT_NS (5 * NS_PER_S)
#define OID_TEXT       25
#define OID_TEXT_ARRAY 1009

bool resil_network_mode(const resil_mode *m) {
    return m->action == RA_LATENCY || m->action == RA_BLACKHOLE || m->action == RA_RESET ||
           m->action == RA_DOWN;
}

const deps_dep *resil_user_dep(const config *c, const resil_mode *m) {
    return config_dep(c, m->test == RESIL_REDIS ? "redis" : "postgresql");
}

/* "postgresql" as the file names it (postgresql or postgres). */
static const char *dep_key(const config *c, const resil_mode *m) {
    if (m->test == RESIL_REDIS) return "redis";
    return c->deps && deps_find(c->deps, "postgres") ? "postgres" : "postgresql";
}

int resil_user_check(const config *c, const resil_mode *m, char *err, size_t errlen) {
    const char *test = resil_test_name(m->test), *name = dep_key(c, m);
    const deps_dep *d = resil_user_dep(c, m);
    bool sig = d && (d->pid || d->pid_file);
    const char *missing = NULL, *why = NULL;
    if (!d) {
        missing = "";
        why = "the dependency's fault hooks (docs/config.md)";
    } else if (resil_network_mode(m)) {
        if (!d->toxi_api) {
            missing = ".toxiproxy";
            why = "the Toxiproxy API (api, proxy) in front of it, for network faults";
        }
    } else if (m->action == RA_PAUSE) {
        if (!d->pause_cmd && !sig) {
            missing = ".pause_cmd";
            why = "pause_cmd and resume_cmd, or pid/pid_file (SIGSTOP, SIGCONT)";
        } else if (!d->resume_cmd && !sig) {
            missing = ".resume_cmd";
            why = "the command that resumes it (or pid/pid_file for SIGCONT)";
        }
    } else {
        bool kill = m->action == RA_KILL;
        if (kill && !d->kill_cmd && !sig) {
            missing = ".kill_cmd";
            why = "kill_cmd (or pid/pid_file for SIGKILL) and start_cmd";
        } else if (!kill && !d->stop_cmd && !sig) {
            missing = ".stop_cmd";
            why = "stop_cmd (or pid/pid_file with stop_signal) and start_cmd";
        } else if (!d->start_cmd) {
            missing = ".start_cmd";
            why = "the command that starts it again after the fault";
        }
    }
    if (missing) {
        err_set(err, errlen, "%s: dependencies.%s%s: missing: %s %s needs %s", c->file, name,
                missing, test, m->name, why);
        return -1;
    }
    if (!c->have_audit || !c->audit_stored) {
        err_set(err, errlen,
                "%s: audit%s: missing: %s proves zero loss with your database (audit.url and "
                "audit.stored, docs/config.md)",
                c->file, c->have_audit ? ".stored" : "", test);
        return -1;
    }
    /* the audit maps stored ids back to requests: the service must see each request's id */
    bool id_seen =
        c->sign == SIGN_STANDARD_WEBHOOKS || (c->body && strstr(c->body, CONFIG_WEBHOOK_ID));
    for (int i = 0; !id_seen && i < c->nheaders; i++)
        if (strstr(c->headers[i], CONFIG_WEBHOOK_ID)) id_seen = true;
    if (!id_seen) {
        err_set(err, errlen,
                "%s: target.webhook.body: the service never sees the webhook's id (%s signing "
                "sends no webhook-id): put {{webhook_id}} in the body or a header for the audit",
                c->file, c->sign == SIGN_NONE ? "unsigned" : sign_scheme_name(c->sign));
        return -1;
    }
    return 0;
}

/* ---- the Toxiproxy API
 * --------------------------------------------------------------------------- */

/* One request to the API; 0 when it answered with a status in [ok_lo, ok_hi], else -1. *status
 * receives the status (0: no answer). */
static int api(const deps_dep *d, const char *method, const char *path, const char *body,
               int *status, char *err, size_t errlen) {
    client *c = NULL;
    *status = 0;
    if (client_new(d->toxi_api, false, &c, err, errlen) < 0) return -1;
    client_response r;
    char e[300];
    int rc = client_request(c, method, path, body ? "Content-Type: application/json\r\n" : NULL,
                            body, body ? strlen(body) : 0, API_TIMEOUT_NS, &r, NULL, e, sizeof e);
    if (rc < 0) {
        err_set(err, errlen, "Toxiproxy API %s: %s %s: %s", d->toxi_api, method, path, e);
    } else {
        *status = r.status;
        if (r.status < 200 || r.status > 299) {
            err_set(err, errlen, "Toxiproxy API %s: %s %s answered %d: %.*s", d->toxi_api, method,
                    path, r.status, (int)(r.body_len > 160 ? 160 : r.body_len), r.body);
            yml_one_line(err);
            rc = -1;
        }
    }
    client_free(c);
    return rc;
}

static int toxic_add(const deps_dep *d, const char *name, const char *type, const char *stream,
                     const char *attrs, char *err, size_t errlen) {
    char path[256], body[512];
    snprintf(path, sizeof path, "/proxies/%s/toxics", d->toxi_proxy);
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"type\":\"%s\",\"stream\":\"%s\",\"toxicity\":1.0,"
             "\"attributes\":{%s}}",
             name, type, stream, attrs);
    int st;
    if (api(d, "POST", path, body, &st, err, errlen) == 0) return 0;
    if (st != 409) return -1;
    /* a toxic of that name is left from an interrupted run: replace it */
    char del[320];
    snprintf(del, sizeof del, "%s/%s", path, name);
    if (api(d, "DELETE", del, NULL, &st, err, errlen) < 0) return -1;
    return api(d, "POST", path, body, &st, err, errlen);
}

static int toxic_remove(const deps_dep *d, const char *name, char *err, size_t errlen) {
    char path[256];
    int st;
    snprintf(path, sizeof path, "/proxies/%s/toxics/%s", d->toxi_proxy, name);
    if (api(d, "DELETE", path, NULL, &st, err, errlen) == 0 || st == 404) return 0;
    return -1;
}

static int proxy_enable(const deps_dep *d, bool on, char *err, size_t errlen) {
    char path[256];
    int st;
    snprintf(path, sizeof path, "/proxies/%s", d->toxi_proxy);
    return api(d, "POST", path, on ? "{\"enabled\":true}" : "{\"enabled\":false}", &st, err,
               errlen);
}

int resil_user_prepare(const resil_run *run, char *err, size_t errlen) {
    const resil_mode *m = run->mode;
    if (!resil_network_mode(m)) return 0;
    const deps_dep *d = resil_user_dep(run->opts->cfg, m);
    char path[256];
    int st;
    snprintf(path, sizeof path, "/proxies/%s", d->toxi_proxy);
    if (api(d, "GET", path, NULL, &st, err, errlen) < 0) return -1;
    return 0;
}

/* ---- faults -------------------------------------------------------------------------------------
 */

int resil_user_apply(resil_run *run, char *err, size_t errlen) {
    const resil_mode *m = run->mode;
    const config *c = run->opts->cfg;
    const deps_dep *d = resil_user_dep(c, m);
    int rc = 0;
    char attrs[64];
    switch (m->action) {
    case RA_LATENCY:
        snprintf(attrs, sizeof attrs, "\"latency\":%lld,\"jitter\":0",
                 (long long)run->opts->latency_ms);
        rc = toxic_add(d, "brink_latency", "latency", "downstream", attrs, err, errlen);
        break;
    case RA_BLACKHOLE:
        rc =
            toxic_add(d, "brink_blackhole_up", "timeout", "upstream", "\"timeout\":0", err, errlen);
        if (rc == 0)
            rc = toxic_add(d, "brink_blackhole_down", "timeout", "downstream", "\"timeout\":0", err,
                           errlen);
        break;
    case RA_RESET:
        rc = toxic_add(d, "brink_reset", "reset_peer", "upstream", "\"timeout\":0", err, errlen);
        /* open connections are closed too: the proxy off and on again */
        if (rc == 0) rc = proxy_enable(d, false, err, errlen);
        if (rc == 0) rc = proxy_enable(d, true, err, errlen);
        break;
    case RA_DOWN: rc = proxy_enable(d, false, err, errlen); break;
    case RA_PAUSE:
    case RA_KILL:
    case RA_STOP:
        run->process_fault = true;
        rc = deps_fault(c->deps, d->name, resil_process_op(m, true), &run->down_t, err, errlen);
        break;
    }
    return rc;
}

int resil_user_remove(resil_run *run, char *err, size_t errlen) {
    const resil_mode *m = run->mode;
    const config *c = run->opts->cfg;
    const deps_dep *d = resil_user_dep(c, m);
    int rc = 0;
    char e2[256] = "";
    switch (m->action) {
    case RA_LATENCY: rc = toxic_remove(d, "brink_latency", err, errlen); break;
    case RA_BLACKHOLE:
        rc = toxic_remove(d, "brink_blackhole_up", err, errlen);
        if (toxic_remove(d, "brink_blackhole_down", e2, sizeof e2) < 0 && rc == 0) {
            err_set(err, errlen, "%s", e2);
            rc = -1;
        }
        break;
    case RA_RESET: rc = toxic_remove(d, "brink_reset", err, errlen); break;
    case RA_DOWN: rc = proxy_enable(d, true, err, errlen); break;
    case RA_PAUSE:
    case RA_KILL:
    case RA_STOP:
        rc = deps_fault(c->deps, d->name, resil_process_op(m, false), &run->up_t, err, errlen);
        break;
    }
    return rc;
}

/* ---- the audit
 * ------------------------------------------------------------------------------------ */

static void pg_fail(resil_audit *a, const char *what, const char *msg) {
    err_set(a->error, sizeof a->error, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
}

/* Runs a stored/queued query over the acknowledged ids, batch by batch, feeding the rows to pa. */
static int id_query(PGconn *pg, const char *sql, const char *what, const resil_stream *h,
                    const uint8_t *acked, const char *prefix, probe_audit *pa, probe_where where,
                    resil_audit *a) {
    size_t cap = (size_t)CONFIG_AUDIT_BATCH * (strlen(prefix) + 24) + 16;
    char *arr = malloc(cap);
    if (!arr) {
        err_set(a->error, sizeof a->error, "audit: out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < h->cap && rc == 0;) {
        size_t n = 0, len = 0;
        arr[len++] = '{';
        for (; i < h->cap && n < CONFIG_AUDIT_BATCH; i++) {
            if (!acked[i]) continue;
            len += (size_t)snprintf(arr + len, cap - len, "%s%s%zu", n ? "," : "", prefix, i);
            n++;
        }
        arr[len++] = '}';
        arr[len] = '\0';
        if (n == 0) break;
        const Oid types[2] = {OID_TEXT_ARRAY, OID_TEXT};
        const char *params[2] = {arr, prefix};
        PGresult *r = PQexecParams(pg, sql, 2, types, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            pg_fail(a, what, PQresultErrorMessage(r));
            rc = -1;
        } else if (PQnfields(r) < 1 || PQnfields(r) > 2) {
            err_set(a->error, sizeof a->error,
                    "%s: want rows of (id, count) or (id), got %d columns", what, PQnfields(r));
            rc = -1;
        } else {
            for (int row = 0; row < PQntuples(r); row++) {
                if (PQgetisnull(r, row, 0)) continue;
                long long times = 1;
                if (PQnfields(r) == 2)
                    times = PQgetisnull(r, row, 1) ? 0 : strtoll(PQgetvalue(r, row, 1), NULL, 10);
                if (times > 255) times = 255;
                for (long long k = 0; k < times; k++)
                    probe_audit_add(pa, PQgetvalue(r, row, 0), where);
            }
        }
        PQclear(r);
    }
    free(arr);
    return rc;
}

void resil_user_audit(resil_run *run) {
    const config *c = run->opts->cfg;
    resil_audit *a = &run->audit;
    int attempts = a->attempts;
    memset(a, 0, sizeof *a);
    a->user = true;
    a->attempts = attempts + 1;
    const char *pw = config_audit_password(c);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "password", NULL};
    const char *vals[] = {c->audit_url, "10", "brink-audit", pw, NULL};
    if (!pw) keys[3] = NULL;
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    uint8_t *acked = NULL;
    probe_audit *pa = NULL;
    if (PQstatus(pg) != CONNECTION_OK) {
        pg_fail(a, "audit: cannot connect to audit.url", PQerrorMessage(pg));
        goto out;
    }
    const resil_stream *h = &run->hooks;
    char prefix[64];
    pa = resil_audit_start(run, &acked, prefix, sizeof prefix);
    if (!pa) {
        err_set(a->error, sizeof a->error, "audit: out of memory");
        goto out;
    }
    if (id_query(pg, c->audit_stored, "audit.stored", h, acked, prefix, pa, PROBE_STORED, a) < 0)
        goto out;
    if (c->audit_queued &&
        id_query(pg, c->audit_queued, "audit.queued", h, acked, prefix, pa, PROBE_QUEUED, a) < 0)
        goto out;
    resil_audit_counts(pa, prefix, a);
    for (int i = 0; i < c->nchecks; i++) {
        const Oid types[1] = {OID_TEXT};
        const char *params[1] = {prefix};
        PGresult *r = PQexecParams(pg, c->checks[i].query, 1, types, params, NULL, NULL, 0);
        char what[96];
        snprintf(what, sizeof what, "audit.integrity.%s", c->checks[i].name);
        bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok) {
            pg_fail(a, what, PQresultErrorMessage(r));
        } else if (PQntuples(r) != 1 || PQnfields(r) != 1) {
            err_set(a->error, sizeof a->error, "%s: want one row with one number, got %d x %d",
                    what, PQntuples(r), PQnfields(r));
            ok = false;
        } else {
            char *end;
            const char *v = PQgetvalue(r, 0, 0);
            long long n = PQgetisnull(r, 0, 0) ? 0 : strtoll(v, &end, 10);
            if (!PQgetisnull(r, 0, 0) && (*end || !*v)) {
                err_set(a->error, sizeof a->error, "%s: '%.40s' is not a whole number", what, v);
                ok = false;
            }
            a->check_count[i] = n;
            a->integrity_violations += n;
        }
        PQclear(r);
        if (!ok) goto out;
        a->nchecks = i + 1;
    }
    a->done = true;
out:
    probe_audit_free(pa);
    free(acked);
    PQfinish(pg);
}
