/* config.c — the brink.yaml loader (see config.h and docs/config.md). The file is read whole with
 * core/yml (one document, line-numbered syntax errors) and walked section by section; two sections
 * belong to other modules' parsers, which run on the sub-node: race: (race/race_yaml.c, the
 * same keys as a race.yaml) and dependencies: (stack/deps.c, the process hooks of `stack fault
 * --config`, plus the Toxiproxy API). Everything else is checked here: unknown keys, types,
 * literal secrets (refused: a secret is {file: PATH} or {env: VAR}), passwords in URLs (refused:
 * PGPASSWORD / PGPASSFILE / password_env or url_env), SQL templates without their parameter, and
 * threshold names against the metric table. Relative file names are relative to the YAML file.
 *
 * Nothing is read from the environment at load time (a variable named by url_env or secret.env
 * is read when the test needs it), so that one file serves commands that need different parts. */
#include "config/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/yml.h"
#include "http/url.h"
#include "core/secret.h"
#include "verdict/threshold.h"

typedef yml_ctx pctx;

#define TOP_KEYS "target, race, probes, audit, dependencies or thresholds"

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

static bool token_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("!#$%&'*+-.^_`|~", ch);
}

/* ---- target ------------------------------------------------------------------------------------
 */

/* secret: {file: PATH} or {env: VAR}; a plain string would be the secret itself: refused. */
static int parse_secret(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                        config *cfg) {
    if (v && v->type == YAML_SCALAR_NODE && !yml_is_null(v))
        return yml_fail(c, v, key,
                        "a literal secret is not allowed (it would sit in the file and in "
                        "version control): give {file: PATH} or {env: VARIABLE}");
    if (yml_want_map(c, k, v, key, "{file: PATH} or {env: VARIABLE}") < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[YML_KEY_MAX];
        yml_join(path, key, field);
        if (!strcmp(field, "file")) {
            char *f = NULL;
            if (yml_get_str(c, fk, fv, path, "a file name", &f) < 0) return -1;
            cfg->secret_file = deps_relative_to(c->file, f);
            free(f);
            if (!cfg->secret_file) return yml_fail(c, fv, path, "out of memory");
        } else if (!strcmp(field, "env")) {
            if (yml_get_str(c, fk, fv, path, "an environment variable's name", &cfg->secret_env) <
                0)
                return -1;
            if (!cfg->secret_env[0] || strchr(cfg->secret_env, '='))
                return yml_fail(c, fv, path, "not a variable's name");
        } else {
            return yml_fail(c, fk, path, "unknown key (want file or env)");
        }
    }
    if (cfg->secret_file && cfg->secret_env)
        return yml_fail(c, v, key, "give file or env, not both");
    if (!cfg->secret_file && !cfg->secret_env)
        return yml_fail(c, v, key, "empty: give {file: PATH} or {env: VARIABLE}");
    return 0;
}

static int parse_headers(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                         config *cfg) {
    if (yml_want_map(c, k, v, key, "Name: value") < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *hk = yml_node(c, p->key), *hv = yml_node(c, p->value);
        const char *name = yml_str(hk);
        char path[YML_KEY_MAX];
        yml_join(path, key, name);
        const char *val = yml_str(hv);
        if (!val)
            return yml_fail(c, yml_where(hk, hv), path, "expected a string, found %s",
                            yml_kind(hv));
        for (const char *n = name; *n; n++)
            if (!token_char(*n))
                return yml_fail(c, hk, path, "a header name holds a character not allowed in one");
        if (strpbrk(val, "\r\n")) return yml_fail(c, hv, path, "a header value holds a line break");
        if (!strcasecmp(name, "content-length") || !strcasecmp(name, "host"))
            return yml_fail(c, hk, path, "brink sets this header itself");
        if (yml_check_placeholders(c, hv, path, val, "webhook_id|run", true) < 0) return -1;
        if (cfg->nheaders == CONFIG_MAX_HEADERS)
            return yml_fail(c, hk, path, "too many headers (at most %d)", CONFIG_MAX_HEADERS);
        size_t len = strlen(name) + strlen(val) + 3;
        char *h = malloc(len);
        if (!h) return yml_fail(c, hk, path, "out of memory");
        snprintf(h, len, "%s: %s", name, val);
        cfg->headers[cfg->nheaders++] = h;
    }
    return 0;
}

static int parse_webhook(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, config *cfg) {
    const char *key = "target.webhook";
    if (yml_want_map(c, k, v, key, "path, sign, secret, headers, body") < 0) return -1;
    const yaml_node_t *secret_k = NULL, *sign_v = NULL;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[YML_KEY_MAX];
        yml_join(path, key, field);
        if (!strcmp(field, "path")) {
            if (yml_get_str(c, fk, fv, path, "a path starting with /", &cfg->webhook_path) < 0)
                return -1;
            if (cfg->webhook_path[0] != '/') return yml_fail(c, fv, path, "must start with /");
            if (strpbrk(cfg->webhook_path, " \t\r\n{}"))
                return yml_fail(c, fv, path, "holds white space or braces");
        } else if (!strcmp(field, "sign")) {
            char *name = NULL;
            if (yml_get_str(c, fk, fv, path, "a signing scheme", &name) < 0) return -1;
            int bad = 0;
            if (!strcmp(name, "none"))
                cfg->sign = SIGN_NONE;
            else
                bad = sign_parse_scheme(name, &cfg->sign);
            free(name);
            if (bad)
                return yml_fail(c, fv, path,
                                "unknown signing scheme (want standard-webhooks, stripe, github or "
                                "none)");
            sign_v = fv;
        } else if (!strcmp(field, "secret")) {
            if (parse_secret(c, fk, fv, path, cfg) < 0) return -1;
            secret_k = fk;
        } else if (!strcmp(field, "headers")) {
            if (parse_headers(c, fk, fv, path, cfg) < 0) return -1;
        } else if (!strcmp(field, "body")) {
            if (yml_get_str(c, fk, fv, path,
                            "a string (the body's template; quote JSON with '...')",
                            &cfg->body) < 0)
                return -1;
            if (yml_check_placeholders(c, fv, path, cfg->body, "webhook_id|run", true) < 0)
                return -1;
        } else {
            return yml_fail(c, fk, path, "unknown key (want path, sign, secret, headers or body)");
        }
    }
    if (cfg->sign == SIGN_NONE && secret_k)
        return yml_fail(c, secret_k, "target.webhook.secret", "a secret was given with sign: none");
    if (cfg->sign != SIGN_NONE && !secret_k)
        return yml_fail(c, sign_v ? sign_v : k, "target.webhook.secret",
                        "missing: the signing secret, {file: PATH} or {env: VARIABLE} (or sign: "
                        "none)");
    return 0;
}

static int parse_target(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, config *cfg) {
    const char *key = "target";
    if (yml_want_map(c, k, v, key, "url, webhook, metrics, service_pid") < 0) return -1;
    bool have_webhook = false;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[YML_KEY_MAX];
        yml_join(path, key, field);
        if (!strcmp(field, "url")) {
            if (yml_get_str(c, fk, fv, path, "the service's base URL (http://HOST:PORT)",
                            &cfg->url) < 0)
                return -1;
            url u;
            char e[300];
            if (url_parse(cfg->url, &u, e, sizeof e) < 0) return yml_fail(c, fv, path, "%s", e);
            bool query = strchr(u.path, '?') != NULL;
            url_free(&u);
            if (query) return yml_fail(c, fv, path, "a base URL has no query (?...)");
            size_t n = strlen(cfg->url);
            while (n && cfg->url[n - 1] == '/') cfg->url[--n] = '\0';
        } else if (!strcmp(field, "metrics")) {
            if (yml_get_str(c, fk, fv, path,
                            "the service's Prometheus page (http://HOST:PORT/metrics)",
                            &cfg->metrics_url) < 0)
                return -1;
            url u;
            char e[300];
            if (strncasecmp(cfg->metrics_url, "http://", 7))
                return yml_fail(c, fv, path,
                                "want an http:// URL (brink reads the page over plain HTTP)");
            if (url_parse(cfg->metrics_url, &u, e, sizeof e) < 0)
                return yml_fail(c, fv, path, "%s", e);
            url_free(&u); /* url_parse refuses credentials in the URL */
        } else if (!strcmp(field, "webhook")) {
            if (parse_webhook(c, fk, fv, cfg) < 0) return -1;
            have_webhook = true;
        } else if (!strcmp(field, "service_pid")) {
            int64_t pid;
            if (yml_get_int(c, fk, fv, path, 2, 1 << 22, &pid) < 0) return -1;
            cfg->service_pid = (pid_t)pid;
        } else if (!strcmp(field, "service_pid_file")) {
            char *f = NULL;
            if (yml_get_str(c, fk, fv, path, "a file holding the service's process id", &f) < 0)
                return -1;
            cfg->service_pid_file = deps_relative_to(c->file, f);
            free(f);
            if (!cfg->service_pid_file) return yml_fail(c, fv, path, "out of memory");
        } else {
            return yml_fail(c, fk, path,
                            "unknown key (want url, webhook, metrics, service_pid or "
                            "service_pid_file)");
        }
    }
    if (!cfg->url)
        return yml_fail(c, k, "target.url", "missing: the service's base URL (http://HOST:PORT)");
    if (cfg->service_pid && cfg->service_pid_file)
        return yml_fail(c, v, key, "give service_pid or service_pid_file, not both");
    if (!have_webhook)
        return yml_fail(
            c, k, "target.webhook",
            "missing: at least the signing secret (secret: {file: PATH}) or sign: none");
    return 0;
}

/* ---- probes ------------------------------------------------------------------------------------
 */

static int probe_text(const pctx *c, const yaml_node_t *fk, const yaml_node_t *fv, const char *path,
                      char *dst, size_t cap) {
    char *s = NULL;
    if (yml_get_str(c, fk, fv, path, "a string", &s) < 0) return -1;
    size_t n = strlen(s);
    if (n < cap) memcpy(dst, s, n + 1);
    free(s);
    if (n >= cap) return yml_fail(c, fv, path, "longer than %zu bytes", cap - 1);
    if (!n) return yml_fail(c, fv, path, "empty");
    return 0;
}

static int parse_probe(const pctx *c, const yaml_node_t *v, const char *key, config_probe *pr) {
    if (!v || v->type != YAML_MAPPING_NODE)
        return yml_fail(c, v, key, "expected a mapping (name, kind, url, ...), found %s",
                        yml_kind(v));
    if (yml_check_keys(c, v, key) < 0) return -1;
    pr->backlog = true;
    pr->line = yml_line(v);
    probe_spec *s = &pr->spec;
    const yaml_node_t *kind_v = NULL, *url_v = NULL;
    bool have_kind = false;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[YML_KEY_MAX];
        yml_join(path, key, field);
        int rc = 0;
        if (!strcmp(field, "name")) {
            rc = probe_text(c, fk, fv, path, s->name, sizeof s->name);
            if (!rc && !snake_name(s->name))
                rc = yml_fail(c, fv, path, "a name is snake_case (letters, digits, _)");
        } else if (!strcmp(field, "kind")) {
            char k[16] = "";
            rc = probe_text(c, fk, fv, path, k, sizeof k);
            if (!rc && probe_kind_parse(k, &s->kind) < 0)
                rc = yml_fail(c, fv, path, "unknown kind '%s' (want redis, sql or http)", k);
            have_kind = true;
            kind_v = fv;
        } else if (!strcmp(field, "url")) {
            rc = probe_text(c, fk, fv, path, s->url, sizeof s->url);
            if (!rc && url_has_password(s->url))
                rc = yml_fail(c, fv, path,
                              "the URL carries a password: give url_env (a variable holding the "
                              "URL) or, for PostgreSQL, PGPASSWORD / PGPASSFILE");
            url_v = fv;
        } else if (!strcmp(field, "url_env")) {
            rc = probe_text(c, fk, fv, path, pr->url_env, sizeof pr->url_env);
            url_v = fv;
        } else if (!strcmp(field, "command")) {
            rc = probe_text(c, fk, fv, path, s->command, sizeof s->command);
        } else if (!strcmp(field, "query")) {
            rc = probe_text(c, fk, fv, path, s->query, sizeof s->query);
        } else if (!strcmp(field, "path")) {
            rc = probe_text(c, fk, fv, path, s->path, sizeof s->path);
            if (!rc) {
                probe_path_seg segs[PROBE_PATH_MAX];
                int n;
                char e[200];
                if (probe_path_parse(s->path, segs, &n, e, sizeof e) < 0)
                    rc = yml_fail(c, fv, path, "%s", e);
            }
        } else if (!strcmp(field, "metric")) {
            rc = probe_text(c, fk, fv, path, s->metric, sizeof s->metric);
        } else if (!strcmp(field, "timeout")) {
            rc = yml_get_duration(c, fk, fv, path, 1000000, &s->timeout_ns);
        } else if (!strcmp(field, "backlog")) {
            rc = yml_get_bool(c, fk, fv, path, &pr->backlog);
        } else {
            rc = yml_fail(c, fk, path,
                          "unknown key (want name, kind, url, url_env, command, query, path, "
                          "metric, timeout or backlog)");
        }
        if (rc < 0) return -1;
    }
    char path[YML_KEY_MAX];
    if (!s->name[0]) {
        yml_join(path, key, "name");
        return yml_fail(c, v, path, "missing: a name for reports (e.g. queue_depth)");
    }
    if (!have_kind) {
        yml_join(path, key, "kind");
        return yml_fail(c, v, path, "missing: redis, sql or http");
    }
    if (s->url[0] && pr->url_env[0])
        return yml_fail(c, url_v, key, "give url or url_env, not both");
    if (!s->url[0] && !pr->url_env[0]) {
        yml_join(path, key, "url");
        return yml_fail(c, v, path, "missing: where to read (or url_env)");
    }
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
        return yml_fail(c, kind_v ? kind_v : v, key, "%s probe: %s", probe_kind_name(s->kind), bad);
    return 0;
}

static int parse_probes(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, config *cfg) {
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return yml_fail(c, yml_where(k, v), "probes",
                        "expected a list of probes (- {name, kind, url, ...}), found %s",
                        yml_kind(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        char key[32];
        snprintf(key, sizeof key, "probes[%d]", cfg->nprobes);
        const yaml_node_t *n = yml_node(c, *it);
        if (cfg->nprobes == CONFIG_MAX_PROBES)
            return yml_fail(c, n, key, "too many probes (at most %d)", CONFIG_MAX_PROBES);
        config_probe *pr = &cfg->probes[cfg->nprobes];
        if (parse_probe(c, n, key, pr) < 0) return -1;
        for (int i = 0; i < cfg->nprobes; i++)
            if (!strcmp(cfg->probes[i].spec.name, pr->spec.name))
                return yml_fail(c, n, key, "a second probe named %s (the first at line %d)",
                                pr->spec.name, cfg->probes[i].line);
        cfg->nprobes++;
    }
    return 0;
}

/* ---- audit -------------------------------------------------------------------------------------
 */

static int parse_sql(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                     const char *need, const char *why, char **out) {
    if (yml_get_str(c, k, v, key, "a SQL query", out) < 0) return -1;
    if (need && !strstr(*out, need)) return yml_fail(c, v, key, "%s", why);
    return 0;
}

static int parse_checks(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, config *cfg) {
    const char *key = "audit.integrity";
    if (yml_want_map(c, k, v, key, "NAME: SELECT count(*) FROM ... (the violations)") < 0)
        return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *name = yml_str(fk);
        char path[YML_KEY_MAX];
        yml_join(path, key, name);
        if (!snake_name(name))
            return yml_fail(c, fk, path, "a check's name is snake_case (letters, digits, _)");
        if (cfg->nchecks == CONFIG_MAX_CHECKS)
            return yml_fail(c, fk, path, "too many checks (at most %d)", CONFIG_MAX_CHECKS);
        config_check *ch = &cfg->checks[cfg->nchecks];
        ch->line = yml_line(fk);
        if (!(ch->name = strdup(name))) return yml_fail(c, fk, path, "out of memory");
        cfg->nchecks++;
        if (parse_sql(c, fk, fv, path, NULL, NULL, &ch->query) < 0) return -1;
        if (strstr(ch->query, "$2"))
            return yml_fail(c, fv, path,
                            "an integrity query has one parameter, $1 (the id prefix)");
    }
    return 0;
}

static int parse_audit(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, config *cfg) {
    const char *key = "audit";
    if (yml_want_map(c, k, v, key, "url, stored, queued, integrity") < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[YML_KEY_MAX];
        yml_join(path, key, field);
        if (!strcmp(field, "url")) {
            if (yml_get_str(c, fk, fv, path, "a postgresql:// URL", &cfg->audit_url) < 0) return -1;
            if (!is_pg_url(cfg->audit_url))
                return yml_fail(c, fv, path, "want a postgresql:// URL");
            if (url_has_password(cfg->audit_url))
                return yml_fail(c, fv, path,
                                "the URL carries a password: put it in PGPASSWORD or PGPASSFILE, "
                                "or name a variable with password_env");
        } else if (!strcmp(field, "password_env")) {
            if (yml_get_str(c, fk, fv, path, "an environment variable's name",
                            &cfg->audit_password_env) < 0)
                return -1;
            if (!cfg->audit_password_env[0] || strchr(cfg->audit_password_env, '='))
                return yml_fail(c, fv, path, "not a variable's name");
        } else if (!strcmp(field, "stored")) {
            if (parse_sql(c, fk, fv, path, "$1",
                          "the query must use $1, the acknowledged webhook ids (text[]), and "
                          "return one row per stored id: (id, count) or (id)",
                          &cfg->audit_stored) < 0)
                return -1;
        } else if (!strcmp(field, "queued")) {
            if (parse_sql(c, fk, fv, path, "$1",
                          "the query must use $1, the acknowledged webhook ids (text[]), and "
                          "return the ids still queued",
                          &cfg->audit_queued) < 0)
                return -1;
        } else if (!strcmp(field, "integrity")) {
            if (parse_checks(c, fk, fv, cfg) < 0) return -1;
        } else {
            return yml_fail(c, fk, path,
                            "unknown key (want url, password_env, stored, queued or integrity)");
        }
    }
    if (!cfg->audit_url)
        return yml_fail(c, k, "audit.url", "missing: the database's postgresql:// URL");
    if (!cfg->audit_stored)
        return yml_fail(c, k, "audit.stored",
                        "missing: SELECT id, count(*) FROM ... WHERE id = ANY($1) GROUP BY id");
    cfg->have_audit = true;
    return 0;
}

/* ---- dependencies, thresholds -----------------------------------------------------------------
 */

static int parse_dependencies(const pctx *c, const yaml_node_t *k, yaml_node_t *v, config *cfg) {
    if (yml_is_null(v))
        return yml_fail(c, k, "dependencies",
                        "expected a mapping with one entry per dependency (redis, postgresql), "
                        "found nothing (null)");
    if (deps_parse(c->doc, v, c->file, "dependencies", &cfg->deps, c->err, c->errlen) < 0)
        return -1;
    const deps_dep *a = deps_find(cfg->deps, "postgresql"), *b = deps_find(cfg->deps, "postgres");
    if (a && b)
        return yml_fail(c, v, "dependencies",
                        "postgresql (line %d) and postgres (line %d) name the same dependency: "
                        "keep one",
                        a->line, b->line);
    return 0;
}

static int parse_bound(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                       double *out) {
    return yml_get_number(c, k, v, key, -1e15, 1e15, out);
}

static int parse_thresholds(const pctx *c, const yaml_node_t *k, const yaml_node_t *v,
                            config *cfg) {
    const char *key = "thresholds";
    if (yml_want_map(c, k, v, key, "METRIC: {orange: X, red: Y}") < 0) return -1;
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    cfg->thresholds = calloc(n ? n : 1, sizeof *cfg->thresholds);
    if (!cfg->thresholds) return yml_fail(c, v, key, "out of memory");
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *mk = yml_node(c, p->key), *mv = yml_node(c, p->value);
        const char *name = yml_str(mk);
        char path[YML_KEY_MAX];
        yml_join(path, key, name);
        config_threshold *t = &cfg->thresholds[cfg->nthresholds];
        t->orange = t->red = NAN;
        t->line = yml_line(mk);
        if (!(t->name = strdup(name))) return yml_fail(c, mk, path, "out of memory");
        cfg->nthresholds++;
        char e[400];
        /* the name first: an unknown metric is the likelier mistake */
        if (threshold_override_check(name, 0, 0, e, sizeof e) < 0 && strstr(e, "unknown metric"))
            return yml_fail(c, mk, path, "%s", e);
        if (yml_want_map(c, mk, mv, path, "orange: X, red: Y") < 0) return -1;
        for (yaml_node_pair_t *q = mv->data.mapping.pairs.start; q < mv->data.mapping.pairs.top;
             q++) {
            const yaml_node_t *fk = yml_node(c, q->key), *fv = yml_node(c, q->value);
            const char *field = yml_str(fk);
            char fpath[YML_KEY_MAX];
            yml_join(fpath, path, field);
            if (!strcmp(field, "orange")) {
                if (parse_bound(c, fk, fv, fpath, &t->orange) < 0) return -1;
            } else if (!strcmp(field, "red")) {
                if (parse_bound(c, fk, fv, fpath, &t->red) < 0) return -1;
            } else {
                return yml_fail(c, fk, fpath, "unknown key (want orange or red)");
            }
        }
        if (threshold_override_check(name, t->orange, t->red, e, sizeof e) < 0)
            return yml_fail(c, mv, path, "%s", e);
    }
    return 0;
}

/* ---- the file ----------------------------------------------------------------------------------
 */

static int parse_root(const pctx *c, yaml_node_t *root, config *cfg) {
    if (!root) return yml_fail(c, NULL, "target", "missing (the file is empty)");
    if (root->type != YAML_MAPPING_NODE)
        return yml_fail(c, root, "(top level)", "expected a mapping (%s), found %s", TOP_KEYS,
                        yml_kind(root));
    if (yml_check_keys(c, root, "") < 0) return -1;
    bool have_target = false;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yml_node(c, p->key), *v = yml_node(c, p->value);
        const char *field = yml_str(k);
        int rc;
        if (!strcmp(field, "target")) {
            rc = parse_target(c, k, v, cfg);
            have_target = true;
        } else if (!strcmp(field, "race")) {
            rc = race_spec_parse(c->doc, v, c->file, "race", &cfg->race, c->err, c->errlen);
            cfg->have_race = rc == 0;
        } else if (!strcmp(field, "probes")) {
            rc = parse_probes(c, k, v, cfg);
        } else if (!strcmp(field, "audit")) {
            rc = parse_audit(c, k, v, cfg);
        } else if (!strcmp(field, "dependencies")) {
            rc = parse_dependencies(c, k, v, cfg);
        } else if (!strcmp(field, "thresholds")) {
            rc = parse_thresholds(c, k, v, cfg);
        } else if (!strcmp(field, "create") || !strcmp(field, "claim") || !strcmp(field, "truth") ||
                   !strcmp(field, "visible")) {
            rc = yml_fail(c, k, field,
                          "unknown key at the top level of a brink.yaml: a race's create, "
                          "visible, claim and truth go under race:");
        } else {
            rc = yml_fail(c, k, field, "unknown key (want " TOP_KEYS ")");
        }
        if (rc < 0) return -1;
    }
    if (!have_target)
        return yml_fail(c, root, "target", "missing: the service under test (url, webhook)");
    if (!cfg->webhook_path && !(cfg->webhook_path = strdup(CONFIG_DEFAULT_PATH)))
        return yml_fail(c, root, "target", "out of memory");
    return 0;
}

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
    pctx c = {.doc = &doc, .file = path, .err = err, .errlen = errlen};
    int rc = parse_root(&c, yaml_document_get_root_node(&doc), cfg);
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
    free(c->file);
    free(c->url);
    free(c->metrics_url);
    free(c->webhook_path);
    free(c->secret_file);
    free(c->secret_env);
    for (int i = 0; i < c->nheaders; i++) free(c->headers[i]);
    free(c->body);
    free(c->service_pid_file);
    if (c->have_race) race_spec_free(&c->race);
    free(c->audit_url);
    free(c->audit_password_env);
    free(c->audit_stored);
    free(c->audit_queued);
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
        pctx c = {.doc = &doc, .file = path};
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

char *config_render(const char *tmpl, const char *id, const char *run) {
    char *b = NULL;
    size_t len = 0, cap = 0;
    if (append(&b, &len, &cap, "", 0) < 0) return NULL;
    for (const char *p = tmpl; *p;) {
        const char *ph = strstr(p, "{{");
        if (!ph) {
            if (append(&b, &len, &cap, p, strlen(p)) < 0) goto oom;
            break;
        }
        const char *val = NULL;
        size_t skip = 0;
        if (!strncmp(ph, CONFIG_WEBHOOK_ID, sizeof CONFIG_WEBHOOK_ID - 1)) {
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
    if (!c->audit_password_env) return NULL;
    const char *v = getenv(c->audit_password_env);
    return v && *v ? v : NULL;
}
