/* preflight.c — the checks before a run on a user's stack (preflight.h). Each check is bounded (2 s
 * per connection) and says which key of which file is wrong. */
#include "config/preflight.h"

#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "core/yml.h"
#include "http/client.h"
#include "http/url.h"
#include "probe/probe.h"

#define TIMEOUT_NS     (2 * NS_PER_S)
#define OID_TEXT       25
#define OID_TEXT_ARRAY 1009

/* A message that says nothing answered (rather than that something answered "no"). */
static bool unreachable(const char *msg) {
    static const char *const words[] = {"refused",  "timed out",       "timeout",
                                        "No route", "unreachable",     "could not translate",
                                        "resolve",  "Name or service", "does not answer",
                                        "reset"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(msg, words[i])) return true;
    return false;
}

int preflight_json_path(const char *path, char *err, size_t errlen) {
    if (!path || !strcmp(path, "-")) return EXIT_OK;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        err_set(err, errlen, "--json %s: a directory (want a file name)", path);
        return EXIT_USAGE;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (access(dir, W_OK) != 0) {
        err_set(err, errlen, "--json %s: its directory %s is not writable (or does not exist)",
                path, dir);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* argv[0] of a command is an executable: a path, or a name on PATH. */
static bool executable(const char *cmd) {
    if (strchr(cmd, '/')) return access(cmd, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        char full[4096];
        snprintf(full, sizeof full, "%.*s/%s", (int)n, n ? p : ".", cmd);
        struct stat st;
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0) return true;
        p += n + (p[n] == ':');
    }
    return false;
}

static int commands_ok(const config *c, const deps_dep *d, char *err, size_t errlen) {
    static const char *const keys[] = {"start_cmd", "stop_cmd", "kill_cmd", "pause_cmd",
                                       "resume_cmd"};
    char **const cmds[] = {d->start_cmd, d->stop_cmd, d->kill_cmd, d->pause_cmd, d->resume_cmd};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!cmds[i] || !cmds[i][0] || executable(cmds[i][0])) continue;
        err_set(err, errlen, "%s: dependencies.%s.%s: '%s' is not an executable (on PATH)", c->file,
                d->name, keys[i], cmds[i][0]);
        return EXIT_USAGE;
    }
    if (d->pid_file && !d->pid && access(d->pid_file, R_OK) != 0) {
        err_set(err, errlen, "%s: dependencies.%s.pid_file: %s cannot be read (is it running?)",
                c->file, d->name, d->pid_file);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The proxy API answers and has the dependency's proxy. */
static int proxy_ok(const config *c, const deps_dep *d, char *err, size_t errlen) {
    client *cl = NULL;
    char e[300];
    if (client_new(d->toxi_api, false, &cl, e, sizeof e) < 0) {
        err_set(err, errlen, "%s: dependencies.%s.toxiproxy.api: %s", c->file, d->name, e);
        return EXIT_USAGE;
    }
    char path[300];
    snprintf(path, sizeof path, "/proxies/%s", d->toxi_proxy);
    client_response r;
    int rc = EXIT_OK;
    if (client_request(cl, "GET", path, NULL, NULL, 0, TIMEOUT_NS, &r, NULL, e, sizeof e) < 0) {
        err_set(err, errlen, "%s: dependencies.%s.toxiproxy.api: %s does not answer: %s", c->file,
                d->name, d->toxi_api, e);
        rc = EXIT_UNREACHABLE;
    } else if (r.status == 404) {
        char names[400] = "";
        if (client_request(cl, "GET", "/proxies", NULL, NULL, 0, TIMEOUT_NS, &r, NULL, e,
                           sizeof e) == 0 &&
            r.status == 200) { /* {"name": {...}, ...}: the names, for the message */
            json_t *all = json_loadb(r.body, r.body_len, 0, NULL);
            const char *k;
            json_t *v;
            size_t o = 0;
            json_object_foreach(all, k, v) {
                if (o + 70 >= sizeof names) break;
                o += (size_t)snprintf(names + o, sizeof names - o, "%s%.60s", o ? ", " : "", k);
            }
            json_decref(all);
        }
        err_set(err, errlen,
                "%s: dependencies.%s.toxiproxy.proxy: %s has no proxy '%s' (it has: %s)", c->file,
                d->name, d->toxi_api, d->toxi_proxy, names[0] ? names : "none");
        rc = EXIT_USAGE;
    } else if (r.status != 200) {
        err_set(err, errlen, "%s: dependencies.%s.toxiproxy: GET %s answered %d", c->file, d->name,
                path, r.status);
        rc = EXIT_USAGE;
    }
    client_free(cl);
    return rc;
}

/* The target accepts a TCP connection (no request is sent: a counting server sees nothing). */
static int target_ok(const char *target, char *err, size_t errlen) {
    url u;
    struct sockaddr_storage addr;
    socklen_t alen;
    char e[300];
    if (url_parse(target, &u, e, sizeof e) < 0) {
        err_set(err, errlen, "target %s: %s", target, e);
        return EXIT_USAGE;
    }
    int rc = EXIT_OK;
    if (url_resolve(&u, &addr, &alen, e, sizeof e) < 0) {
        err_set(err, errlen, "target %s: %s", target, e);
        rc = EXIT_UNREACHABLE;
    } else {
        int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int soerr = fd < 0 ? errno : 0;
        if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, alen) < 0) {
            soerr = errno;
            if (soerr == EINPROGRESS) {
                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                socklen_t sl = sizeof soerr;
                if (poll(&pfd, 1, (int)(TIMEOUT_NS / NS_PER_MS)) <= 0)
                    soerr = ETIMEDOUT;
                else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                    soerr = errno;
            }
        }
        if (fd >= 0) close(fd);
        if (soerr) {
            err_set(err, errlen, "target %s does not answer: %s", target, strerror(soerr));
            rc = EXIT_UNREACHABLE;
        }
    }
    url_free(&u);
    return rc;
}

/* One query prepares: its tables and columns exist, its parameters have the run's types. where:
 * "FILE: KEY" for the message. */
static int prepare_ok(PGconn *pg, const char *where, const char *sql, int nparams, const Oid *types,
                      char *err, size_t errlen) {
    if (!sql) return EXIT_OK;
    PGresult *r = PQprepare(pg, "", sql, nparams, types);
    int rc = EXIT_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *m = PQresultErrorMessage(r);
        err_set(err, errlen, "%s: %.*s", where, (int)strcspn(m, "\n"), m);
        rc = EXIT_USAGE;
    }
    PQclear(r);
    return rc;
}

/* A connection to url (with pw, or libpq's PGPASSWORD / PGPASSFILE); NULL with *rc and err (where:
 * what names the URL, "brink.yaml: audit.url" or "--pg"). */
static PGconn *pg_open(const char *dsn, const char *pw, const char *where, int *rc, char *err,
                       size_t errlen) {
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "password", NULL};
    const char *vals[] = {dsn, "2", "brink-preflight", pw, NULL};
    if (!pw) keys[3] = NULL;
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) == CONNECTION_OK) return pg;
    const char *m = PQerrorMessage(pg);
    char line[400];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(m, "\n"), m);
    bool nopw = strstr(m, "no password supplied") || strstr(m, "password authentication");
    err_set(err, errlen, "%s: %s%s", where, line,
            nopw ? " (give the password in PGPASSWORD, a PGPASSFILE, or audit.password_env)" : "");
    *rc = unreachable(m) && !nopw ? EXIT_UNREACHABLE : EXIT_USAGE;
    PQfinish(pg);
    return NULL;
}

/* A query of the audit, with its parameters' types (on: the run uses it). */
typedef struct audit_query {
    bool on;
    const char *key, *sql;
    int n;
    const Oid *types;
} audit_query;

static int audit_ok(const preflight *p, char *err, size_t errlen) {
    const config *c = p->cfg;
    char where[600];
    snprintf(where, sizeof where, "%s: audit.url", c->file);
    int rc = EXIT_OK;
    PGconn *pg = pg_open(c->audit_url, config_audit_password(c), where, &rc, err, errlen);
    if (!pg) return rc;
    const Oid ids[2] = {OID_TEXT_ARRAY, OID_TEXT}, text[1] = {OID_TEXT};
    audit_query q[4 + CONFIG_MAX_CHECKS] = {
        {p->audit, "audit.stored", c->audit_stored, 2, ids},
        {p->audit, "audit.queued", c->audit_queued, 2, ids},
        {p->audit_events, "audit.events.handled", c->audit_ev_handled, 1, text},
        {p->audit_events, "audit.events.orders", c->audit_ev_orders, 1, text},
    };
    int nq = 4;
    char keys[CONFIG_MAX_CHECKS][160];
    for (int i = 0; i < c->nchecks; i++) {
        snprintf(keys[i], sizeof keys[i], "audit.integrity.%s", c->checks[i].name);
        q[nq++] = (audit_query){p->audit, keys[i], c->checks[i].query, 1, text};
    }
    for (int i = 0; !rc && i < nq; i++) {
        if (!q[i].on) continue;
        snprintf(where, sizeof where, "%s: %s", c->file, q[i].key);
        rc = prepare_ok(pg, where, q[i].sql, q[i].n, q[i].types, err, errlen);
    }
    if (!rc && p->audit_events) {
        snprintf(where, sizeof where, "%s: audit.events.pending", c->file);
        rc = prepare_ok(pg, where, c->audit_ev_pending, 0, NULL, err, errlen);
    }
    PQfinish(pg);
    return rc;
}

/* A database the run reads besides the audit (the race's SQL truth): it connects, its query
 * prepares. */
static int sql_ok(const preflight *p, char *err, size_t errlen) {
    int rc = EXIT_OK;
    PGconn *pg = pg_open(p->sql_url, p->sql_password, p->sql_where, &rc, err, errlen);
    if (!pg) return rc;
    rc = prepare_ok(pg, p->sql_where, p->sql_query, 1, NULL, err, errlen);
    PQfinish(pg);
    return rc;
}

static int probes_ok(const config *c, char *err, size_t errlen) {
    for (int i = 0; i < c->nprobes; i++) {
        const config_probe *cp = &c->probes[i];
        probe_spec s;
        probe *pr = NULL;
        double v;
        char e[300];
        int rc = EXIT_OK;
        if (config_probe_spec(cp, &s, e, sizeof e) < 0) {
            rc = EXIT_USAGE;
        } else if (probe_open(&s, &pr, e, sizeof e) < 0) {
            rc = unreachable(e) ? EXIT_UNREACHABLE : EXIT_USAGE;
        } else if (probe_read(pr, &v, e, sizeof e) < 0) {
            rc = unreachable(e) ? EXIT_UNREACHABLE : EXIT_USAGE;
        }
        probe_close(pr);
        if (rc != EXIT_OK) {
            err_set(err, errlen, "%s:%d: probes[%d] (%s): %s", c->file, cp->line, i, cp->spec.name,
                    e);
            yml_one_line(err);
            return rc;
        }
    }
    return EXIT_OK;
}

int preflight_run(const preflight *p, char *err, size_t errlen) {
    int rc = preflight_json_path(p->json_path, err, errlen);
    const config *c = p->cfg;
    for (int i = 0; !rc && c && c->deps && i < 2; i++) {
        const deps_dep *d = p->deps[i] ? deps_find(c->deps, p->deps[i]) : NULL;
        if (!d) continue;
        rc = commands_ok(c, d, err, errlen);
        if (!rc && p->proxy[i] && d->toxi_api) rc = proxy_ok(c, d, err, errlen);
    }
    if (!rc && p->target_url) rc = target_ok(p->target_url, err, errlen);
    if (!rc && c && (p->audit || p->audit_events) && c->have_audit && c->audit_url)
        rc = audit_ok(p, err, errlen);
    if (!rc && c && p->probes) rc = probes_ok(c, err, errlen);
    if (!rc && p->sql_url) rc = sql_ok(p, err, errlen);
    return rc;
}
