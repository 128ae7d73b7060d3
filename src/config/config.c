/* config.c — the brink.yaml loader (see config.h and docs/config.md). The file is read whole with
 * core/yml (one document, line-numbered syntax errors) and walked with one table of keys per
 * section; two sections have parsers of their own, which run on the sub-node: race:
 * (config/race_yaml.c, the same keys as a race.yaml) and dependencies: (config/deps_yaml.c, the
 * process hooks of `stack fault --config`, plus the Toxiproxy API). What a table cannot say is a
 * check on a row or a section's finish: literal secrets (refused: a secret is {file: PATH} or
 * {env: VAR}), passwords in URLs (refused: PGPASSWORD / PGPASSFILE / password_env or url_env),
 * SQL templates without their parameter, a probe's keys for its kind, and threshold names
 * against the metric table. Relative file names are relative to the YAML file.
 *
 * Nothing is read from the environment at load time (a variable named by url_env or secret.env
 * is read when the test needs it), so that one file serves commands that need different parts. */
#include "config/config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/deps_yaml.h"
#include "config/scenario_yaml.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/secret.h"
#include "core/yml.h"
#include "http/url.h"
#include "load/delivery.h"
#include "load/lifecycle.h"
#include "stack/proc.h"
#include "verdict/threshold.h"

_Static_assert(sizeof(pid_t) == sizeof(int), "YML_INT stores an int");

#define TOP_KEYS "target, race, probes, audit, dependencies, thresholds, delivery, load or stack"

/* ---- small checks ------------------------------------------------------------------------------
 */

static bool snake_name(const char *s) {
    if (!*s || !((*s >= 'a' && *s <= 'z') || *s == '_')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

/* A URL's authority holds a password (user:PASS@), or a libpq password= parameter. */
static bool url_has_password(const char *u) {
    const char *p = strstr(u, "://");
    if (!p) return strstr(u, "password=") != NULL;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *c = p; c < p + auth; c++)
        if (*c == '@') at = c;
    if (at && memchr(p, ':', (size_t)(at - p))) return true;
    return strstr(p, "password=") != NULL;
}

static bool is_pg_url(const char *u) {
    return !strncmp(u, "postgresql://", 13) || !strncmp(u, "postgres://", 11);
}

/* The string a STR row just stored. */
static const char *stored(const yml_val *x) {
    return *(char **)x->dst;
}

static int check_var_name(const yml_ctx *c, const yml_val *x, void *obj) {
    if (!stored(x)[0] || strchr(stored(x), '='))
        return yml_fail(c, x->v, x->key, "not a variable's name");
    return 0;
}

#define VAR_NAME "an environment variable's name"

/* ---- target ------------------------------------------------------------------------------------
 */

static int finish_secret(const yml_ctx *c, const yml_val *x, void *obj) {
    const config *cfg = obj;
    if (cfg->secret_file && cfg->secret_env)
        return yml_fail(c, x->v, x->key, "give file or env, not both");
    if (!cfg->secret_file && !cfg->secret_env)
        return yml_fail(c, x->v, x->key, "empty: give {file: PATH} or {env: VARIABLE}");
    return 0;
}

static const yml_field secret_rows[] = {
    {"file", YML_FILE, offsetof(config, secret_file), .what = "a file name"},
    {"env", YML_STR, offsetof(config, secret_env), VAR_NAME, .fn = check_var_name},
    {0},
};
static const yml_table secret_table = {"({file: PATH} or {env: VARIABLE})", secret_rows,
                                       finish_secret};

/* secret: {file: PATH} or {env: VAR}; a plain string would be the secret itself: refused. */
static int parse_secret(const yml_ctx *c, const yml_val *x, void *obj) {
    if (x->v && x->v->type == YAML_SCALAR_NODE && !yml_is_null(x->v))
        return yml_fail(c, x->v, x->key,
                        "a literal secret is not allowed (it would sit in the file and in "
                        "version control): give {file: PATH} or {env: VARIABLE}");
    return yml_walk(c, x->k, x->v, x->key, &secret_table, obj);
}

static int parse_header(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    const char *name = yml_str(x->k), *val = yml_str(x->v);
    if (!val)
        return yml_fail(c, yml_where(x->k, x->v), x->key, "expected a string, found %s",
                        yml_kind(x->v));
    if (!strcasecmp(name, "content-length") || !strcasecmp(name, "host"))
        return yml_fail(c, x->k, x->key, "brink sets this header itself");
    if (yml_check_placeholders(c, x->v, x->key, val, "webhook_id|run", true) < 0) return -1;
    if (cfg->nheaders == CONFIG_MAX_HEADERS)
        return yml_fail(c, x->k, x->key, "too many headers (at most %d)", CONFIG_MAX_HEADERS);
    if (yml_header(c, x->k, x->key, name, strlen(name), val, &cfg->headers[cfg->nheaders]) < 0)
        return -1;
    cfg->nheaders++;
    return 0;
}

static int check_webhook_path(const yml_ctx *c, const yml_val *x, void *obj) {
    if (stored(x)[0] != '/') return yml_fail(c, x->v, x->key, "must start with /");
    if (strpbrk(stored(x), " \t\r\n{}"))
        return yml_fail(c, x->v, x->key, "holds white space or braces");
    return 0;
}

static int parse_sign(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    char *name = NULL;
    if (yml_get_str(c, x->k, x->v, x->key, "a signing scheme", &name) < 0) return -1;
    int bad = 0;
    if (!strcmp(name, "none"))
        cfg->sign = SIGN_NONE;
    else
        bad = sign_parse_scheme(name, &cfg->sign);
    free(name);
    if (bad)
        return yml_fail(c, x->v, x->key,
                        "unknown signing scheme (want standard-webhooks, stripe, github or none)");
    return 0;
}

static int check_body(const yml_ctx *c, const yml_val *x, void *obj) {
    /* an event's placeholders are checked against events in finish_webhook_events */
    return yml_check_placeholders(c, x->v, x->key, stored(x),
                                  "webhook_id|run|order_id|order|event|version", true);
}

static int check_events(const yml_ctx *c, const yml_val *x, void *obj) {
    lifecycle lc;
    char e[200];
    if (lifecycle_parse(stored(x), &lc, e, sizeof e) < 0) return yml_fail(c, x->v, x->key, "%s", e);
    return 0;
}

static int finish_webhook_events(const yml_ctx *c, const yml_val *x, const config *cfg) {
    const yaml_node_t *k;
    const char *alone = yml_find(c, x->v, "event_interval", &k) ? "event_interval"
                        : yml_find(c, x->v, "reorder_rate", &k) ? "reorder_rate"
                                                                : NULL;
    if (alone && !cfg->events)
        return yml_fail(c, k, "target.webhook", "%s goes with events", alone);
    static const char *const of_event[] = {"{{order_id}}", "{{order}}", "{{event}}", "{{version}}"};
    for (size_t i = 0; cfg->body && !cfg->events && i < sizeof of_event / sizeof *of_event; i++) {
        if (!strstr(cfg->body, of_event[i])) continue;
        const yaml_node_t *bv = yml_find(c, x->v, "body", NULL);
        return yml_fail(c, bv ? bv : x->v, "target.webhook.body",
                        "%s is an event's: it goes with events (an event lifecycle per order)",
                        of_event[i]);
    }
    lifecycle lc;
    char e[200];
    if (cfg->events && cfg->reorder_rate > 0 &&
        lifecycle_parse(cfg->events, &lc, e, sizeof e) == 0 && lc.nsteps < 3) {
        yml_find(c, x->v, "reorder_rate", &k);
        return yml_fail(c, k ? k : x->v, "target.webhook.reorder_rate",
                        "needs at least three events per order (the first one never moves)");
    }
    return 0;
}

static int finish_webhook(const yml_ctx *c, const yml_val *x, void *obj) {
    const config *cfg = obj;
    const yaml_node_t *secret_k, *sign_v = yml_find(c, x->v, "sign", NULL);
    yml_find(c, x->v, "secret", &secret_k);
    if (cfg->sign == SIGN_NONE && secret_k)
        return yml_fail(c, secret_k, "target.webhook.secret", "a secret was given with sign: none");
    if (cfg->sign != SIGN_NONE && !secret_k)
        return yml_fail(c, sign_v ? sign_v : x->k, "target.webhook.secret",
                        "missing: the signing secret, {file: PATH} or {env: VARIABLE} (or sign: "
                        "none)");
    return finish_webhook_events(c, x, cfg);
}

static const yml_field webhook_rows[] = {
    {"path", YML_STR, offsetof(config, webhook_path), "a path starting with /",
     .fn = check_webhook_path},
    {"sign", YML_CUSTOM, 0, .fn = parse_sign},
    {"secret", YML_CUSTOM, 0, .fn = parse_secret},
    {"headers", YML_EACH, 0, "(Name: value)", .fn = parse_header},
    {"body", YML_STR, offsetof(config, body),
     "a string (the body's template; quote JSON with '...')", .fn = check_body},
    {"events", YML_STR, offsetof(config, events),
     "an event lifecycle: default, or steps like order.created,order.updated*2",
     .fn = check_events},
    {"event_interval", YML_DURATION, offsetof(config, event_interval), .min = 1},
    {"reorder_rate", YML_NUMBER, offsetof(config, reorder_rate), .min = 0, .max = 1},
    {0},
};
static const yml_table webhook_table = {
    "(path, sign, secret, headers, body, events, event_interval, reorder_rate)", webhook_rows,
    finish_webhook};

static int check_url(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    url u;
    char e[300];
    if (url_parse(cfg->url, &u, e, sizeof e) < 0) return yml_fail(c, x->v, x->key, "%s", e);
    bool query = strchr(u.path, '?') != NULL;
    url_free(&u);
    if (query) return yml_fail(c, x->v, x->key, "a base URL has no query (?...)");
    size_t n = strlen(cfg->url);
    while (n && cfg->url[n - 1] == '/') cfg->url[--n] = '\0';
    return 0;
}

static int check_metrics(const yml_ctx *c, const yml_val *x, void *obj) {
    url u;
    char e[300];
    if (strncasecmp(stored(x), "http://", 7))
        return yml_fail(c, x->v, x->key,
                        "want an http:// URL (brink reads the page over plain HTTP)");
    if (url_parse(stored(x), &u, e, sizeof e) < 0) return yml_fail(c, x->v, x->key, "%s", e);
    url_free(&u); /* url_parse refuses credentials in the URL */
    return 0;
}

static int finish_target(const yml_ctx *c, const yml_val *x, void *obj) {
    const config *cfg = obj;
    if (cfg->service_pid && cfg->service_pid_file)
        return yml_fail(c, x->v, x->key, "give service_pid or service_pid_file, not both");
    return 0;
}

static const yml_field target_rows[] = {
    {"url", YML_STR, offsetof(config, url), "the service's base URL (http://HOST:PORT)",
     .fn = check_url, .missing = "the service's base URL (http://HOST:PORT)"},
    {"webhook", YML_MAP, .sub = &webhook_table,
     .missing = "at least the signing secret (secret: {file: PATH}) or sign: none"},
    {"metrics", YML_STR, offsetof(config, metrics_url),
     "the service's Prometheus page (http://HOST:PORT/metrics)", .fn = check_metrics},
    {"service_pid", YML_INT, offsetof(config, service_pid), .min = 2, .max = 1 << 22},
    {"service_pid_file", YML_FILE, offsetof(config, service_pid_file),
     .what = "a file holding the service's process id"},
    {0},
};
static const yml_table target_table = {"(url, webhook, metrics, service_pid)", target_rows,
                                       finish_target};

/* ---- probes ------------------------------------------------------------------------------------
 */

static int check_probe_name(const yml_ctx *c, const yml_val *x, void *obj) {
    if (!snake_name(x->dst))
        return yml_fail(c, x->v, x->key, "a name is snake_case (letters, digits, _)");
    return 0;
}

static int parse_kind(const yml_ctx *c, const yml_val *x, void *obj) {
    char *k = NULL;
    if (yml_get_str(c, x->k, x->v, x->key, "a string", &k) < 0) return -1;
    int bad = probe_kind_parse(k, &((config_probe *)obj)->spec.kind);
    if (bad) yml_fail(c, x->v, x->key, "unknown kind '%s' (want redis, sql or http)", k);
    free(k);
    return bad ? -1 : 0;
}

static int check_probe_url(const yml_ctx *c, const yml_val *x, void *obj) {
    if (url_has_password(x->dst))
        return yml_fail(c, x->v, x->key,
                        "the URL carries a password: give url_env (a variable holding the URL) or, "
                        "for PostgreSQL, PGPASSWORD / PGPASSFILE");
    return 0;
}

static int check_probe_path(const yml_ctx *c, const yml_val *x, void *obj) {
    probe_path_seg segs[PROBE_PATH_MAX];
    int n;
    char e[200];
    if (probe_path_parse(x->dst, segs, &n, e, sizeof e) < 0)
        return yml_fail(c, x->v, x->key, "%s", e);
    return 0;
}

/* What a probe of its kind must have and must not. */
static int finish_probe(const yml_ctx *c, const yml_val *x, void *obj) {
    config_probe *pr = obj;
    const probe_spec *s = &pr->spec;
    const yaml_node_t *url_v = yml_find(c, x->v, "url_env", NULL);
    if (s->url[0] && pr->url_env[0])
        return yml_fail(c, url_v, x->key, "give url or url_env, not both");
    if (!s->url[0] && !pr->url_env[0]) {
        char path[YML_KEY_MAX];
        yml_join(path, x->key, "url");
        return yml_fail(c, x->v, path, "missing: where to read (or url_env)");
    }
    if (!pr->spec.timeout_ns) pr->spec.timeout_ns = PROBE_TIMEOUT_DEFAULT_NS;
    const char *bad = NULL;
    switch (s->kind) {
    case PROBE_REDIS:
        if (s->url[0] && strncasecmp(s->url, "redis://", 8))
            bad = "url: want a redis:// URL";
        else if (!s->command[0])
            bad = "command: missing (e.g. XLEN orders)";
        else if (s->query[0] || s->metric[0])
            bad = "a redis probe has command and path only";
        break;
    case PROBE_SQL:
        if (s->url[0] && !is_pg_url(s->url))
            bad = "url: want a postgresql:// URL";
        else if (!s->query[0])
            bad = "query: missing (e.g. SELECT count(*) FROM inbox)";
        else if (s->command[0] || s->path[0] || s->metric[0])
            bad = "an sql probe has query only";
        break;
    case PROBE_HTTP:
        if (s->url[0] && strncasecmp(s->url, "http://", 7))
            bad = "url: want an http:// URL";
        else if (!s->path[0] && !s->metric[0])
            bad = "missing a JSON path (path) or a Prometheus metric (metric)";
        else if (s->path[0] && s->metric[0])
            bad = "give path or metric, not both";
        else if (s->command[0] || s->query[0])
            bad = "an http probe has path or metric only";
        break;
    }
    if (bad)
        return yml_fail(c, yml_find(c, x->v, "kind", NULL), x->key, "%s probe: %s",
                        probe_kind_name(s->kind), bad);
    return 0;
}

#define PROBE_TEXT(name, field, check)                                                             \
    {                                                                                              \
        name, YML_TEXT, offsetof(config_probe, spec.field),                                        \
            .max = sizeof(((probe_spec *)0)->field), .fn = check                                   \
    }

static const yml_field probe_rows[] = {
    {"name", YML_TEXT, offsetof(config_probe, spec.name), .max = PROBE_NAME_MAX,
     .fn = check_probe_name, .missing = "a name for reports (e.g. queue_depth)"},
    {"kind", YML_CUSTOM, 0, .fn = parse_kind, .missing = "redis, sql or http"},
    PROBE_TEXT("url", url, check_probe_url),
    {"url_env", YML_TEXT, offsetof(config_probe, url_env),
     .max = sizeof(((config_probe *)0)->url_env)},
    PROBE_TEXT("command", command, NULL),
    PROBE_TEXT("query", query, NULL),
    PROBE_TEXT("path", path, check_probe_path),
    PROBE_TEXT("metric", metric, NULL),
    {"timeout", YML_DURATION, offsetof(config_probe, spec.timeout_ns), .min = 1000000},
    {"backlog", YML_BOOL, offsetof(config_probe, backlog), .what = "true or false"},
    {0},
};
static const yml_table probe_table = {"(name, kind, url, ...)", probe_rows, finish_probe};

static int parse_probe(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    if (cfg->nprobes == CONFIG_MAX_PROBES)
        return yml_fail(c, x->v, x->key, "too many probes (at most %d)", CONFIG_MAX_PROBES);
    config_probe *pr = &cfg->probes[cfg->nprobes];
    pr->backlog = true;
    pr->line = yml_line(x->v);
    if (yml_walk(c, NULL, x->v, x->key, &probe_table, pr) < 0) return -1;
    for (int i = 0; i < cfg->nprobes; i++)
        if (!strcmp(cfg->probes[i].spec.name, pr->spec.name))
            return yml_fail(c, x->v, x->key, "a second probe named %s (the first at line %d)",
                            pr->spec.name, cfg->probes[i].line);
    cfg->nprobes++;
    return 0;
}

/* ---- audit -------------------------------------------------------------------------------------
 */

static int check_audit_url(const yml_ctx *c, const yml_val *x, void *obj) {
    if (!is_pg_url(stored(x))) return yml_fail(c, x->v, x->key, "want a postgresql:// URL");
    if (url_has_password(stored(x)))
        return yml_fail(c, x->v, x->key,
                        "the URL carries a password: put it in PGPASSWORD or PGPASSFILE, or name a "
                        "variable with password_env");
    return 0;
}

/* audit.stored and audit.queued: $1 is the acknowledged ids. */
static int check_ids_param(const yml_ctx *c, const yml_val *x, void *obj) {
    if (strstr(stored(x), "$1")) return 0;
    return yml_fail(c, x->v, x->key,
                    "the query must use $1, the acknowledged webhook ids (text[]), and return %s",
                    strcmp(x->f->key, "stored") ? "the ids still queued"
                                                : "one row per stored id: (id, count) or (id)");
}

static int parse_check(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    const char *name = yml_str(x->k);
    if (!snake_name(name))
        return yml_fail(c, x->k, x->key, "a check's name is snake_case (letters, digits, _)");
    if (cfg->nchecks == CONFIG_MAX_CHECKS)
        return yml_fail(c, x->k, x->key, "too many checks (at most %d)", CONFIG_MAX_CHECKS);
    config_check *ch = &cfg->checks[cfg->nchecks];
    ch->line = yml_line(x->k);
    if (!(ch->name = strdup(name))) return yml_fail(c, x->k, x->key, "out of memory");
    cfg->nchecks++;
    if (yml_get_str(c, x->k, x->v, x->key, "a SQL query", &ch->query) < 0) return -1;
    if (strstr(ch->query, "$2"))
        return yml_fail(c, x->v, x->key,
                        "an integrity query has one parameter, $1 (the id prefix)");
    return 0;
}

/* audit.events: $1 is the run's order ids as a LIKE pattern */
static int check_like_param(const yml_ctx *c, const yml_val *x, void *obj) {
    if (strstr(stored(x), "$1")) return 0;
    return yml_fail(c, x->v, x->key,
                    "the query must use $1, the run's order ids as a LIKE pattern (WHERE order_id "
                    "LIKE $1), and return %s",
                    !strcmp(x->f->key, "handled")
                        ? "(webhook_id, handlings[, stale overwrites]) per handled event"
                        : "(order_id, version) per stored order");
}

static const yml_field audit_events_rows[] = {
    {"handled", YML_STR, offsetof(config, audit_ev_handled), "a SQL query", .fn = check_like_param,
     .missing = "SELECT webhook_id, count(*) FROM ... WHERE order_id LIKE $1 GROUP BY webhook_id"},
    {"orders", YML_STR, offsetof(config, audit_ev_orders), "a SQL query", .fn = check_like_param,
     .missing = "SELECT order_id, version FROM ... WHERE order_id LIKE $1"},
    {"pending", YML_STR, offsetof(config, audit_ev_pending), .what = "a SQL query"},
    {0},
};
static const yml_table audit_events_table = {"(handled, orders, pending)", audit_events_rows, NULL};

static int finish_audit(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    if (!cfg->audit_url) /* (stack: gives one) */
        return yml_fail(c, x->k ? x->k : x->v, "audit.url",
                        "missing: the database's postgresql:// URL (or stack: brink's stack)");
    if (!cfg->audit_stored && !cfg->audit_ev_handled)
        return yml_fail(c, x->k ? x->k : x->v, x->key,
                        "missing: stored (SELECT id, count(*) FROM ... WHERE id = ANY($1) GROUP BY "
                        "id), or events (the exactly-once audit's queries)");
    cfg->have_audit = true;
    return 0;
}

static const yml_field audit_rows[] = {
    {"url", YML_STR, offsetof(config, audit_url), "a postgresql:// URL", .fn = check_audit_url},
    {"password_env", YML_STR, offsetof(config, audit_password_env), VAR_NAME, .fn = check_var_name},
    {"stored", YML_STR, offsetof(config, audit_stored), "a SQL query", .fn = check_ids_param},
    {"queued", YML_STR, offsetof(config, audit_queued), "a SQL query", .fn = check_ids_param},
    {"integrity", YML_EACH, 0, "(NAME: SELECT count(*) FROM ... (the violations))",
     .fn = parse_check},
    {"events", YML_MAP, .sub = &audit_events_table},
    {0},
};
static const yml_table audit_table = {"(url, stored, queued, integrity, events)", audit_rows,
                                      finish_audit};

/* ---- race, dependencies, thresholds ---------------------------------------------------------
 */

static int parse_race(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    int rc = race_spec_parse(c->doc, x->v, c->file, "race", &cfg->race, c->err, c->errlen);
    cfg->have_race = rc == 0;
    return rc;
}

static int parse_dependencies(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    if (yml_is_null(x->v))
        return yml_fail(c, x->k, "dependencies",
                        "expected a mapping with one entry per dependency (redis, postgresql), "
                        "found nothing (null)");
    if (deps_parse(c->doc, x->v, c->file, "dependencies", &cfg->deps, c->err, c->errlen) < 0)
        return -1;
    const deps_dep *a = deps_find(cfg->deps, "postgresql"), *b = deps_find(cfg->deps, "postgres");
    if (a && b)
        return yml_fail(c, x->v, "dependencies",
                        "postgresql (line %d) and postgres (line %d) name the same dependency: "
                        "keep one",
                        a->line, b->line);
    return 0;
}

static const yml_field bound_rows[] = {
    {"orange", YML_NUMBER, offsetof(config_threshold, orange), .min = -1e15, .max = 1e15},
    {"red", YML_NUMBER, offsetof(config_threshold, red), .min = -1e15, .max = 1e15},
    {0},
};
static const yml_table bound_table = {"(orange: X, red: Y)", bound_rows, NULL};

static int parse_threshold(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    const char *name = yml_str(x->k);
    config_threshold *t = realloc(cfg->thresholds, (size_t)(cfg->nthresholds + 1) * sizeof *t);
    if (!t) return yml_fail(c, x->k, x->key, "out of memory");
    cfg->thresholds = t;
    t += cfg->nthresholds;
    *t = (config_threshold){.orange = NAN, .red = NAN, .line = yml_line(x->k)};
    if (!(t->name = strdup(name))) return yml_fail(c, x->k, x->key, "out of memory");
    cfg->nthresholds++;
    char e[400];
    /* the name first: an unknown metric is the likelier mistake */
    if (threshold_override_check(name, 0, 0, e, sizeof e) < 0 && strstr(e, "unknown metric"))
        return yml_fail(c, x->k, x->key, "%s", e);
    if (yml_walk(c, x->k, x->v, x->key, &bound_table, t) < 0) return -1;
    if (threshold_override_check(name, t->orange, t->red, e, sizeof e) < 0)
        return yml_fail(c, x->v, x->key, "%s", e);
    return 0;
}

/* ---- delivery ------------------------------------------------------------------------------- */

static int check_sender(const yml_ctx *c, const yml_val *x, void *obj) {
    delivery_policy p;
    char e[200];
    if (delivery_preset(stored(x), &p, e, sizeof e) < 0) return yml_fail(c, x->v, x->key, "%s", e);
    return 0;
}

static int check_schedule(const yml_ctx *c, const yml_val *x, void *obj) {
    delivery_policy p = {0};
    char e[200];
    if (delivery_set_schedule(&p, stored(x), e, sizeof e) < 0)
        return yml_fail(c, x->v, x->key, "%s", e);
    return 0;
}

static int finish_delivery(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    const yaml_node_t *k;
    if (cfg->delivery_sender && cfg->delivery_schedule && yml_find(c, x->v, "retry_schedule", &k))
        return yml_fail(c, k, "delivery", "give either sender or retry_schedule, not both");
    cfg->duplicate_rate_set = yml_find(c, x->v, "duplicate_rate", NULL) != NULL;
    cfg->drain_set = yml_find(c, x->v, "drain", NULL) != NULL;
    cfg->have_delivery = true;
    return 0;
}

static const yml_field delivery_rows[] = {
    {"sender", YML_STR, offsetof(config, delivery_sender),
     "standard-webhooks, stripe, shopify, github or none", .fn = check_sender},
    {"retry_schedule", YML_STR, offsetof(config, delivery_schedule), "waits like 0.5s,1s,2s,4s",
     .fn = check_schedule},
    {"retry_scale", YML_NUMBER, offsetof(config, delivery_scale), .min = 1e-9, .max = 1000},
    {"duplicate_rate", YML_NUMBER, offsetof(config, duplicate_rate), .min = 0, .max = 1},
    {"duplicate_window", YML_DURATION, offsetof(config, duplicate_window), .min = 1},
    {"drain", YML_DURATION, offsetof(config, delivery_drain), .min = 0},
    {"honor_retry_after", YML_BOOL, offsetof(config, honor_retry_after), .what = "true or false"},
    {0},
};
static const yml_table delivery_table = {
    "(sender, retry_schedule, retry_scale, duplicate_rate, duplicate_window, drain, "
    "honor_retry_after)",
    delivery_rows, finish_delivery};

/* ---- the file ----------------------------------------------------------------------------------
 */

static int misplaced_race_key(const yml_ctx *c, const yml_val *x, void *obj) {
    return yml_fail(c, x->k, x->key,
                    "unknown key at the top level of a brink.yaml: a race's create, visible, claim "
                    "and truth go under race:");
}

/* load: a scenario for brink load -f brink.yaml, checked with the rest of the file */
static int parse_load(const yml_ctx *c, const yml_val *x, void *obj) {
    scenario s;
    int rc = scenario_from_node(c, x->k, x->v, x->key, &s);
    scenario_free(&s);
    return rc;
}

/* ---- stack: brink's embedded PostgreSQL and Redis under your own service ------------------------
 */

/* read before the walk (load_stack): nothing left to do */
static int stack_seen(const yml_ctx *c, const yml_val *x, void *obj) {
    return 0;
}

typedef struct stack_ports {
    int pg_port, redis_port;
    char api[256];
    char redis_url[256]; /* with the password: the redis dependency's ready check */
} stack_ports;

/* stack: PATH (the state file, or the directory holding stack.json) read into cfg: the audit's
 * URL and password (the file's audit.url, password_env override them), and what stack_deps
 * needs. Before the walk, so that audit: may leave its url out. */
static int load_stack(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, config *cfg,
                      stack_ports *si) {
    const char *given = yml_str(v);
    if (!given || !*given)
        return yml_fail(c, yml_where(k, v), "stack",
                        "expected the state file (stack.json) or directory of brink stack up");
    char *rel = yml_relative_to(c->file, given);
    if (!rel) return yml_fail(c, v, "stack", "out of memory");
    char path[4096];
    struct stat st;
    if (stat(rel, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(path, sizeof path, "%s/stack.json", rel);
    else
        snprintf(path, sizeof path, "%s", rel);
    free(rel);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return yml_fail(c, v, "stack",
                        "cannot read %s (%s): is the stack up? (brink stack up --service none)",
                        path, je.text);
    int rc = 0;
    const json_t *pg = json_object_get(j, "postgres"), *rd = json_object_get(j, "redis");
    si->pg_port = (int)jx_int(pg, "port");
    si->redis_port = (int)jx_int(rd, "port");
    snprintf(si->api, sizeof si->api, "%s", jx_str(json_object_get(j, "proxies"), "api"));
    snprintf(si->redis_url, sizeof si->redis_url, "%s", jx_str(rd, "url"));
    if (strcmp(jx_str(j, "schema"), "brink.stack/1") || si->pg_port <= 0 || si->redis_port <= 0 ||
        !si->api[0]) {
        rc = yml_fail(c, v, "stack", "%s is not the state file of brink stack up", path);
    } else {
        char dsn[128];
        snprintf(dsn, sizeof dsn, "postgresql://%s@127.0.0.1:%d/%s", jx_str(pg, "user"),
                 si->pg_port, jx_str(pg, "database"));
        size_t len;
        char e[200];
        char *pw = secret_read(NULL, jx_str(pg, "password_file"), &len, e, sizeof e);
        if (!(cfg->stack_file = realpath(path, NULL)) || !(cfg->audit_url = strdup(dsn)))
            rc = yml_fail(c, v, "stack", "out of memory");
        else if (!pw)
            rc = yml_fail(c, v, "stack", "the stack's PostgreSQL password: %s", e);
        cfg->audit_password = pw;
    }
    json_decref(j);
    return rc;
}

/* argv: BRINK stack fault WHO OP --state FILE */
static char **fault_cmd(const config *cfg, const char *who, const char *op) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = '\0';
    const char *words[] = {exe, "stack", "fault", who, op, "--state", cfg->stack_file};
    char **argv = calloc(8, sizeof *argv);
    for (int i = 0; argv && i < 7; i++) {
        if (!(argv[i] = strdup(words[i]))) {
            proc_argv_free(argv);
            return NULL;
        }
    }
    return argv;
}

/* The dependencies the file does not describe, from the stack: faults through brink stack fault,
 * network faults through the stack's proxies, ready when they answer. */
static int stack_deps(const yml_ctx *c, config *cfg, const stack_ports *si) {
    if (!cfg->deps && !(cfg->deps = deps_new(c->file))) return -1;
    static const struct {
        const char *name, *who, *ready, *proxy;
        int64_t timeout_s;
    } all[] = {{"redis", "redis", "redis", "redis", 30},
               {"postgresql", "postgres", "tcp", "postgres", 60}};
    for (size_t i = 0; i < 2; i++) {
        if (config_dep(cfg, all[i].name)) continue; /* the file's own */
        deps_dep *d = deps_add(cfg->deps, all[i].name, 1);
        if (!d) return -1;
        char ready[256];
        snprintf(ready, sizeof ready, "%s://127.0.0.1:%d", all[i].ready,
                 i == 0 ? si->redis_port : si->pg_port);
        if (i == 0 && !strncmp(si->redis_url, "redis://", 8)) /* its password: Redis has one */
            snprintf(ready, sizeof ready, "%s", si->redis_url);
        d->start_cmd = fault_cmd(cfg, all[i].who, "start");
        d->stop_cmd = fault_cmd(cfg, all[i].who, "stop");
        d->kill_cmd = fault_cmd(cfg, all[i].who, "kill");
        d->pause_cmd = fault_cmd(cfg, all[i].who, "pause");
        d->resume_cmd = fault_cmd(cfg, all[i].who, "resume");
        d->ready_check = strdup(ready);
        d->timeout_ns = all[i].timeout_s * NS_PER_S;
        d->toxi_api = strdup(si->api);
        d->toxi_proxy = strdup(all[i].proxy);
        if (!d->start_cmd || !d->stop_cmd || !d->kill_cmd || !d->pause_cmd || !d->resume_cmd ||
            !d->ready_check || !d->toxi_api || !d->toxi_proxy)
            return -1;
    }
    return 0;
}

static int finish_root(const yml_ctx *c, const yml_val *x, void *obj) {
    config *cfg = obj;
    if (!cfg->webhook_path && !(cfg->webhook_path = strdup(CONFIG_DEFAULT_PATH)))
        return yml_fail(c, x->v, "target", "out of memory");
    return 0;
}

static const yml_field root_rows[] = {
    {"target", YML_MAP, .sub = &target_table, .missing = "the service under test (url, webhook)"},
    {"race", YML_CUSTOM, 0, .fn = parse_race},
    {"probes", YML_LIST, 0, "of probes (- {name, kind, url, ...})", .fn = parse_probe},
    {"audit", YML_MAP, .sub = &audit_table},
    {"dependencies", YML_CUSTOM, 0, .fn = parse_dependencies},
    {"thresholds", YML_EACH, 0, "(METRIC: {orange: X, red: Y})", .fn = parse_threshold},
    {"stack", YML_CUSTOM, 0, .fn = stack_seen},
    {"delivery", YML_MAP, .sub = &delivery_table},
    {"load", YML_CUSTOM, 0, .fn = parse_load},
    {"create", YML_CUSTOM, 0, .fn = misplaced_race_key, .hidden = true},
    {"visible", YML_CUSTOM, 0, .fn = misplaced_race_key, .hidden = true},
    {"claim", YML_CUSTOM, 0, .fn = misplaced_race_key, .hidden = true},
    {"truth", YML_CUSTOM, 0, .fn = misplaced_race_key, .hidden = true},
    {0},
};
static const yml_table root_table = {"(" TOP_KEYS ")", root_rows, finish_root};

int config_load(const char *path, config **out, char *err, size_t errlen) {
    *out = NULL;
    config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->file = strdup(path))) {
        free(cfg);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    cfg->sign = SIGN_STANDARD_WEBHOOKS;
    yaml_document_t doc;
    if (yml_load_file(path, &doc, err, errlen) < 0) {
        config_free(cfg);
        return -1;
    }
    yml_ctx c = {.doc = &doc, .file = path, .err = err, .errlen = errlen};
    const yaml_node_t *root = yaml_document_get_root_node(&doc), *sk, *sv;
    stack_ports si = {0};
    sv = root ? yml_find(&c, root, "stack", &sk) : NULL;
    int rc = root ? 0 : yml_fail(&c, NULL, "target", "missing (the file is empty)");
    if (rc == 0 && sv) rc = load_stack(&c, sk, sv, cfg, &si);
    if (rc == 0) rc = yml_walk(&c, NULL, root, "", &root_table, cfg);
    if (rc == 0 && sv && stack_deps(&c, cfg, &si) < 0)
        rc = yml_fail(&c, sv, "stack", "out of memory");
    yaml_document_delete(&doc);
    if (rc < 0) {
        config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

void config_free(config *c) {
    if (!c) return;
    if (c->audit_password) {
        memset(c->audit_password, 0, strlen(c->audit_password));
        free(c->audit_password);
    }
    free(c->stack_file);
    char *owned[] = {c->file,
                     c->url,
                     c->metrics_url,
                     c->webhook_path,
                     c->secret_file,
                     c->secret_env,
                     c->body,
                     c->events,
                     c->delivery_sender,
                     c->delivery_schedule,
                     c->service_pid_file,
                     c->audit_url,
                     c->audit_password_env,
                     c->audit_stored,
                     c->audit_queued,
                     c->audit_ev_handled,
                     c->audit_ev_orders,
                     c->audit_ev_pending};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) free(owned[i]);
    for (int i = 0; i < c->nheaders; i++) free(c->headers[i]);
    if (c->have_race) race_spec_free(&c->race);
    for (int i = 0; i < c->nchecks; i++) {
        free(c->checks[i].name);
        free(c->checks[i].query);
    }
    deps_free(c->deps);
    for (int i = 0; i < c->nthresholds; i++) free(c->thresholds[i].name);
    free(c->thresholds);
    free(c);
}

int config_is_race_yaml(const char *path, bool *race_yaml, char *err, size_t errlen) {
    *race_yaml = false;
    yaml_document_t doc;
    if (yml_load_file(path, &doc, err, errlen) < 0) return -1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE) {
        yml_ctx c = {.doc = &doc, .file = path};
        for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
             p++) {
            const char *k = yml_str(yml_node(&c, p->key));
            if (k && (!strcmp(k, "create") || !strcmp(k, "claim") || !strcmp(k, "truth")))
                *race_yaml = true;
        }
    }
    yaml_document_delete(&doc);
    return 0;
}

/* ---- use ---------------------------------------------------------------------------------------
 */

int config_apply_thresholds(const config *c, char *err, size_t errlen) {
    threshold_overrides_clear();
    for (int i = 0; c && i < c->nthresholds; i++) {
        const config_threshold *t = &c->thresholds[i];
        char e[400];
        if (threshold_override(t->name, t->orange, t->red, e, sizeof e) < 0) {
            err_set(err, errlen, "%s:%d: thresholds.%s: %s", c->file, t->line, t->name, e);
            threshold_overrides_clear();
            return -1;
        }
    }
    return 0;
}

void config_webhook_url(const config *c, char *out, size_t outlen) {
    snprintf(out, outlen, "%s%s", c->url, c->webhook_path);
}

char *config_read_secret(const config *c, size_t *len, char *err, size_t errlen) {
    *len = 0;
    if (c->sign == SIGN_NONE) return NULL;
    char e[300];
    char *s = secret_read(c->secret_env, c->secret_env ? NULL : c->secret_file, len, e, sizeof e);
    const char *why = strncmp(e, "secret: ", 8) ? e : e + 8;
    if (!s) err_set(err, errlen, "%s: target.webhook.secret: %s", c->file, why);
    return s;
}

pid_t config_service_pid(const config *c) {
    if (c->service_pid) return c->service_pid;
    if (!c->service_pid_file) return 0;
    deps_dep d = {.pid_file = c->service_pid_file};
    return deps_pid(&d);
}

const deps_dep *config_dep(const config *c, const char *which) {
    if (!c->deps) return NULL;
    const deps_dep *d = deps_find(c->deps, which);
    if (!d && !strcmp(which, "postgresql")) d = deps_find(c->deps, "postgres");
    return d;
}

int config_probe_spec(const config_probe *p, probe_spec *out, char *err, size_t errlen) {
    *out = p->spec;
    if (!p->url_env[0]) return 0;
    const char *u = getenv(p->url_env);
    if (!u || !*u || strlen(u) >= sizeof out->url) {
        err_set(err, errlen, "probe %s: environment variable %s is not set (or too long)",
                p->spec.name, p->url_env);
        return -1;
    }
    snprintf(out->url, sizeof out->url, "%s", u);
    return 0;
}

/* Appends s[0..n) to the growing buffer *b (length *len, capacity *cap); -1 when out of memory. */
static int append(char **b, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t nc = (*len + n + 1) * 2;
        char *g = realloc(*b, nc);
        if (!g) return -1;
        *b = g;
        *cap = nc;
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = '\0';
    return 0;
}

char *config_render(const char *pattern, const char *id, const char *run) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    if (append(&b, &len, &cap, "", 0) < 0) return NULL;
    for (const char *p = pattern; *p;) {
        const char *ph = strstr(p, "{{");
        if (!ph) {
            if (append(&b, &len, &cap, p, strlen(p)) < 0) goto oom;
            break;
        }
        const char *val = NULL;
        size_t skip = 0;
        char order_id[96];
        if (!strncmp(ph, "{{order_id}}", 12)) { /* the exactly-once audit's order ids */
            snprintf(order_id, sizeof order_id, "%s-0-{{order}}", run);
            val = order_id;
            skip = 12;
        } else if (!strncmp(ph, CONFIG_WEBHOOK_ID, sizeof CONFIG_WEBHOOK_ID - 1)) {
            val = id;
            skip = sizeof CONFIG_WEBHOOK_ID - 1;
        } else if (!strncmp(ph, "{{run}}", 7)) {
            val = run;
            skip = 7;
        }
        if (val) {
            if (append(&b, &len, &cap, p, (size_t)(ph - p)) < 0 ||
                append(&b, &len, &cap, val, strlen(val)) < 0)
                goto oom;
            p = ph + skip;
        } else {
            if (append(&b, &len, &cap, p, (size_t)(ph - p) + 2) < 0) goto oom;
            p = ph + 2;
        }
    }
    return b;
oom:
    free(b);
    return NULL;
}

const char *config_audit_password(const config *c) {
    if (!c->audit_password_env) return c->audit_password; /* the stack's, or NULL */
    const char *v = getenv(c->audit_password_env);
    return v && *v ? v : NULL;
}

void config_sender_args(const config *c, delivery_args *d, lifecycle_args *e) {
    if (!c) return;
    if (c->have_delivery) {
        if (!d->name && !d->schedule) {
            d->name = c->delivery_sender;
            d->schedule = c->delivery_schedule;
        }
        if (!d->scale_set && c->delivery_scale > 0) {
            d->scale = c->delivery_scale;
            d->scale_set = true;
        }
        if (!d->dup_set && c->duplicate_rate_set) {
            d->dup_rate = c->duplicate_rate;
            d->dup_set = true;
        }
        if (!d->window_set && c->duplicate_window > 0) d->dup_window = c->duplicate_window;
        if (!d->drain_set && c->drain_set) {
            d->drain = c->delivery_drain;
            d->drain_set = true;
        }
        if (c->honor_retry_after) d->retry_after = true;
    }
    if (e && c->events && !e->spec) {
        e->spec = c->events;
        if (!e->interval_set && c->event_interval > 0) {
            e->interval = c->event_interval;
            e->interval_set = true;
        }
        if (!e->reorder_set && c->reorder_rate > 0) {
            e->reorder = c->reorder_rate;
            e->reorder_set = true;
        }
    }
}
