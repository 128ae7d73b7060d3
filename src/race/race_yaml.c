/* race_yaml.c — race.yaml: the vendor race against a user's own service (docs/race.md). The file
 * says how to create a resource, how a vendor claims it ({{id}}, {{vendor}}), which statuses mean
 * won and lost, where a loser is told the winner's name, and where the ground truth is (a request
 * and the JSON path of the stored winner, and/or a SQL query on a postgresql:// URL). It fills the
 * same race_spec as dispatchd's built-in protocol (race_spec.c).
 *
 * Parsing follows stack/deps.c: libyaml's document tree, every key known, every value typed,
 * duplicate keys and a second document refused, and each mistake one line "FILE:LINE: KEY:
 * reason". Placeholders are checked here too, so that a typo like {{vendr}} is reported with its
 * line instead of after the set-up. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/err.h"
#include "core/yml.h"
#include "http/url.h"
#include "race/race.h"

#define KEY_MAX YML_KEY_MAX

typedef yml_ctx pctx;

/* ---- values -------------------------------------------------------------------------------- */

static int parse_status(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                        race_status_set *out) {
    char e[200];
    memset(out, 0, sizeof *out);
    if (v && v->type == YAML_SEQUENCE_NODE) {
        if (v->data.sequence.items.top == v->data.sequence.items.start)
            return yml_fail(c, v, key, "an empty list of statuses");
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            const yaml_node_t *n = yml_node(c, *it);
            const char *s = n && n->type == YAML_SCALAR_NODE && !yml_is_null(n)
                                ? (const char *)n->data.scalar.value
                                : NULL;
            race_status_set one;
            if (!s)
                return yml_fail(c, yml_where(v, n), key, "expected a status, found %s",
                                yml_kind(n));
            if (race_status_parse(s, &one, e, sizeof e) < 0) return yml_fail(c, n, key, "%s", e);
            for (int i = 0; i < one.n; i++)
                if (race_status_add(out, one.lo[i], one.hi[i]) < 0)
                    return yml_fail(c, n, key, "too many statuses (at most %d ranges)",
                                    RACE_STATUS_RANGES);
        }
        return 0;
    }
    const char *s = v && v->type == YAML_SCALAR_NODE && !yml_is_null(v)
                        ? (const char *)v->data.scalar.value
                        : NULL;
    if (!s)
        return yml_fail(
            c, yml_where(k, v), key,
            "expected a status (409), a range (200-204), a class (2xx) or a list of them, "
            "found %s",
            yml_kind(v));
    if (race_status_parse(s, out, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
    return 0;
}

static int parse_path(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                      char **out) {
    if (yml_get_str(c, k, v, key, "a JSON path (e.g. winner, data.vendor_id, items[0].id)", out) <
        0)
        return -1;
    char e[200];
    if (race_path_check(*out, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
    return 0;
}

static bool token_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("!#$%&'*+-.^_`|~", ch);
}

static int add_header(const pctx *c, const yaml_node_t *n, const char *key, race_request *q,
                      const char *name, size_t name_len, const char *value) {
    if (name_len == 0) return yml_fail(c, n, key, "a header without a name");
    for (size_t i = 0; i < name_len; i++)
        if (!token_char(name[i]))
            return yml_fail(c, n, key, "header name '%.*s' holds a character not allowed in a name",
                            (int)name_len, name);
    if (strpbrk(value, "\r\n"))
        return yml_fail(c, n, key, "a header value may not hold a line break");
    if (q->nheaders == RACE_MAX_HEADERS)
        return yml_fail(c, n, key, "too many headers (at most %d)", RACE_MAX_HEADERS);
    size_t len = name_len + strlen(value) + 3;
    char *h = malloc(len);
    if (!h) return yml_fail(c, n, key, "out of memory");
    snprintf(h, len, "%.*s: %s", (int)name_len, name, value);
    q->headers[q->nheaders++] = h;
    return 0;
}

/* headers: a mapping {Name: value} or a list of "Name: value" strings. */
static int parse_headers(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                         race_request *q) {
    if (v && v->type == YAML_MAPPING_NODE) {
        if (yml_check_keys(c, v, key) < 0) return -1;
        for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top;
             p++) {
            const yaml_node_t *hk = yml_node(c, p->key), *hv = yml_node(c, p->value);
            const char *name = yml_str(hk);
            const char *val = hv && hv->type == YAML_SCALAR_NODE && !yml_is_null(hv)
                                  ? (const char *)hv->data.scalar.value
                                  : NULL;
            char path[KEY_MAX];
            yml_join(path, key, name);
            if (!val)
                return yml_fail(c, yml_where(hk, hv), path, "expected a value, found %s",
                                yml_kind(hv));
            if (add_header(c, hv, path, q, name, strlen(name), val) < 0) return -1;
        }
        return 0;
    }
    if (v && v->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            const yaml_node_t *n = yml_node(c, *it);
            const char *s = yml_str(n);
            if (!s || !strchr(s, ':'))
                return yml_fail(c, yml_where(v, n), key, "expected \"Name: value\", found %s",
                                s ? "a string without ':'" : yml_kind(n));
            size_t nl = strcspn(s, ":");
            const char *val = s + nl + 1;
            while (*val == ' ' || *val == '\t') val++;
            if (add_header(c, n, key, q, s, nl, val) < 0) return -1;
        }
        return 0;
    }
    return yml_fail(c, yml_where(k, v), key,
                    "expected a mapping (Name: value) or a list of \"Name: value\", found %s",
                    yml_kind(v));
}

static bool has_content_type(const race_request *q) {
    for (int i = 0; i < q->nheaders; i++)
        if (!strncasecmp(q->headers[i], "content-type:", 13)) return true;
    return false;
}

/* ---- sections ------------------------------------------------------------------------------ */

/* A request field shared by every section: method, path, headers, body. 1 when field was one of
 * them (handled), 0 when not, -1 on error. */
static int request_field(const pctx *c, const yaml_node_t *fk, const yaml_node_t *fv,
                         const char *path, const char *field, race_request *q, const char *allowed,
                         bool engine) {
    if (!strcmp(field, "method")) {
        if (yml_get_str(c, fk, fv, path, "a method (GET, POST, ...)", &q->method) < 0) return -1;
        for (const char *m = q->method; *m; m++)
            if (*m < 'A' || *m > 'Z')
                return yml_fail(c, fv, path, "a method is upper-case letters (POST, PUT, ...)");
        if (!q->method[0]) return yml_fail(c, fv, path, "empty method");
        return 1;
    }
    if (!strcmp(field, "path")) {
        if (yml_get_str(c, fk, fv, path, "a path starting with /", &q->path) < 0) return -1;
        if (q->path[0] != '/') return yml_fail(c, fv, path, "the path must start with /");
        if (strpbrk(q->path, " \r\n\t")) return yml_fail(c, fv, path, "the path holds white space");
        if (yml_check_placeholders(c, fv, path, q->path, allowed, engine) < 0) return -1;
        return 1;
    }
    if (!strcmp(field, "headers")) {
        if (parse_headers(c, fk, fv, path, q) < 0) return -1;
        for (int i = 0; i < q->nheaders; i++)
            if (yml_check_placeholders(c, fv, path, q->headers[i], allowed, engine) < 0) return -1;
        return 1;
    }
    if (!strcmp(field, "body")) {
        if (yml_get_str(c, fk, fv, path, "a string (the body's text; quote JSON with '...')",
                        &q->body) < 0)
            return -1;
        if (yml_check_placeholders(c, fv, path, q->body, allowed, engine) < 0) return -1;
        return 1;
    }
    return 0;
}

static int finish_request(const pctx *c, const yaml_node_t *at, const char *key, race_request *q,
                          const char *method) {
    if (!q->path) {
        char p[KEY_MAX];
        yml_join(p, key, "path");
        return yml_fail(c, at, p, "missing: the request's path (e.g. /orders/{{id}})");
    }
    if (!q->method && !(q->method = strdup(method))) return yml_fail(c, at, key, "out of memory");
    if (q->body && !has_content_type(q)) {
        if (q->nheaders == RACE_MAX_HEADERS)
            return yml_fail(c, at, key, "too many headers (at most %d)", RACE_MAX_HEADERS);
        if (!(q->headers[q->nheaders] = strdup("Content-Type: application/json")))
            return yml_fail(c, at, key, "out of memory");
        q->nheaders++;
    }
    return 0;
}

static bool mentions(const race_request *q, const char *ph) {
    if (q->path && strstr(q->path, ph)) return true;
    if (q->body && strstr(q->body, ph)) return true;
    for (int i = 0; i < q->nheaders; i++)
        if (strstr(q->headers[i], ph)) return true;
    return false;
}

/* A path relative to the YAML file's directory. */
static char *relative_to(const char *file, const char *p) {
    if (p[0] == '/' || !strchr(file, '/')) return strdup(p);
    size_t dl = (size_t)(strrchr(file, '/') - file);
    size_t n = dl + strlen(p) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s/%s", (int)dl, file, p);
    return out;
}

static int parse_create(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, race_spec *s) {
    const char *key = "create";
    if (yml_want_map(c, k, v, key, "how one resource is created: path, body, ...") < 0) return -1;
    race_status_add(&s->create_ok, 200, 299);
    bool have_ok = false;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[KEY_MAX];
        yml_join(path, key, field);
        int r = request_field(c, fk, fv, path, field, &s->create, "id|run", true);
        if (r < 0) return -1;
        if (r) continue;
        if (!strcmp(field, "sign")) {
            char *name = NULL;
            if (yml_get_str(c, fk, fv, path, "a signing scheme", &name) < 0) return -1;
            int bad = sign_parse_scheme(name, &s->create_sign);
            free(name);
            if (bad)
                return yml_fail(
                    c, fv, path,
                    "unknown signing scheme (want standard-webhooks, stripe or github)");
        } else if (!strcmp(field, "secret_file")) {
            char *f = NULL;
            if (yml_get_str(c, fk, fv, path, "a file name", &f) < 0) return -1;
            s->secret_file = relative_to(c->file, f);
            free(f);
            if (!s->secret_file) return yml_fail(c, fv, path, "out of memory");
        } else if (!strcmp(field, "secret_env")) {
            if (yml_get_str(c, fk, fv, path, "an environment variable's name", &s->secret_env) < 0)
                return -1;
        } else if (!strcmp(field, "id_from")) {
            if (parse_path(c, fk, fv, path, &s->create_id_path) < 0) return -1;
        } else if (!strcmp(field, "success")) {
            if (parse_status(c, fk, fv, path, &s->create_ok) < 0) return -1;
            have_ok = true;
        } else {
            return yml_fail(c, fk, path,
                            "unknown key (want method, path, headers, body, sign, secret_file, "
                            "secret_env, id_from or success)");
        }
    }
    (void)have_ok;
    if (finish_request(c, k, key, &s->create, "POST") < 0) return -1;
    if (s->secret_file && s->secret_env)
        return yml_fail(c, v, key, "give secret_file or secret_env, not both");
    if ((s->secret_file || s->secret_env) && s->create_sign == SIGN_NONE)
        return yml_fail(c, v, "create.sign",
                        "missing: a secret was given without a signing scheme (standard-webhooks, "
                        "stripe or github)");
    if (s->create_id_path) {
        if (mentions(&s->create, "{{id}}"))
            return yml_fail(c, v, key,
                            "{{id}} is chosen by the service here (id_from): the creation request "
                            "cannot carry it");
    } else if (!mentions(&s->create, "{{id}}")) {
        return yml_fail(
            c, v, key,
            "the request never carries {{id}}: put it in the path, a header or the body "
            "(brink makes the ids), or give id_from (the service makes them)");
    }
    return 0;
}

static int parse_visible(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, race_spec *s) {
    const char *key = "visible";
    if (yml_want_map(c, k, v, key, "the request that shows a created resource: path, status") < 0)
        return -1;
    race_status_add(&s->visible_ok, 200, 299);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[KEY_MAX];
        yml_join(path, key, field);
        int r = request_field(c, fk, fv, path, field, &s->visible, "id|run", false);
        if (r < 0) return -1;
        if (r) continue;
        if (!strcmp(field, "status")) {
            if (parse_status(c, fk, fv, path, &s->visible_ok) < 0) return -1;
        } else {
            return yml_fail(c, fk, path,
                            "unknown key (want method, path, headers, body or status)");
        }
    }
    if (finish_request(c, k, key, &s->visible, "GET") < 0) return -1;
    if (!mentions(&s->visible, "{{id}}"))
        return yml_fail(c, v, key,
                        "the request never carries {{id}}: which resource would it show?");
    return 0;
}

static int parse_claim(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, race_spec *s) {
    const char *key = "claim";
    if (yml_want_map(c, k, v, key, "the vendors' claim: path, body, won, lost") < 0) return -1;
    race_status_add(&s->won, 200, 299);
    race_status_add(&s->lost, 409, 409);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *fk = yml_node(c, p->key), *fv = yml_node(c, p->value);
        const char *field = yml_str(fk);
        char path[KEY_MAX];
        yml_join(path, key, field);
        int r = request_field(c, fk, fv, path, field, &s->claim, "id|vendor|run", false);
        if (r < 0) return -1;
        if (r) continue;
        if (!strcmp(field, "won")) {
            if (parse_status(c, fk, fv, path, &s->won) < 0) return -1;
        } else if (!strcmp(field, "lost")) {
            if (parse_status(c, fk, fv, path, &s->lost) < 0) return -1;
        } else if (!strcmp(field, "loser_winner")) {
            if (parse_path(c, fk, fv, path, &s->loser_winner_path) < 0) return -1;
        } else {
            return yml_fail(c, fk, path,
                            "unknown key (want method, path, headers, body, won, lost or "
                            "loser_winner)");
        }
    }
    if (finish_request(c, k, key, &s->claim, "POST") < 0) return -1;
    if (!mentions(&s->claim, "{{id}}"))
        return yml_fail(c, v, key,
                        "the claim never carries {{id}}: which resource would it claim?");
    if (!mentions(&s->claim, "{{vendor}}"))
        return yml_fail(c, v, key,
                        "the claim never carries {{vendor}}: who claims? (e.g. body: "
                        "'{\"vendor_id\":\"{{vendor}}\"}' or a header)");
    for (int i = 0; i < s->won.n; i++)
        for (int st = s->won.lo[i]; st <= s->won.hi[i]; st++)
            if (race_status_has(&s->lost, st))
                return yml_fail(c, v, "claim.lost", "status %d means both won and lost", st);
    return 0;
}

static int parse_truth(const pctx *c, const yaml_node_t *k, const yaml_node_t *v, race_spec *s) {
    const char *key = "truth";
    if (yml_want_map(c, k, v, key, "where the stored winner is: http and/or sql") < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *sk = yml_node(c, p->key), *sv = yml_node(c, p->value);
        const char *sect = yml_str(sk);
        char skey[KEY_MAX];
        yml_join(skey, key, sect);
        if (!strcmp(sect, "http")) {
            if (yml_want_map(c, sk, sv, skey, "path and winner") < 0) return -1;
            for (yaml_node_pair_t *q = sv->data.mapping.pairs.start; q < sv->data.mapping.pairs.top;
                 q++) {
                const yaml_node_t *fk = yml_node(c, q->key), *fv = yml_node(c, q->value);
                const char *field = yml_str(fk);
                char path[KEY_MAX];
                yml_join(path, skey, field);
                int r = request_field(c, fk, fv, path, field, &s->truth, "id|run", false);
                if (r < 0) return -1;
                if (r) continue;
                if (!strcmp(field, "winner")) {
                    if (parse_path(c, fk, fv, path, &s->truth_winner_path) < 0) return -1;
                } else {
                    return yml_fail(c, fk, path,
                                    "unknown key (want method, path, headers, body or winner)");
                }
            }
            if (finish_request(c, sk, skey, &s->truth, "GET") < 0) return -1;
            if (!s->truth_winner_path) {
                char path[KEY_MAX];
                yml_join(path, skey, "winner");
                return yml_fail(c, sk, path,
                                "missing: the JSON path of the stored winner in the answer (e.g. "
                                "vendor_id)");
            }
            if (!mentions(&s->truth, "{{id}}"))
                return yml_fail(c, sv, skey, "the request never carries {{id}}");
        } else if (!strcmp(sect, "sql")) {
            if (yml_want_map(c, sk, sv, skey, "url and query") < 0) return -1;
            for (yaml_node_pair_t *q = sv->data.mapping.pairs.start; q < sv->data.mapping.pairs.top;
                 q++) {
                const yaml_node_t *fk = yml_node(c, q->key), *fv = yml_node(c, q->value);
                const char *field = yml_str(fk);
                char path[KEY_MAX];
                yml_join(path, skey, field);
                if (!strcmp(field, "url")) {
                    if (yml_get_str(c, fk, fv, path, "a postgresql:// URL", &s->sql_url) < 0)
                        return -1;
                    if (strncmp(s->sql_url, "postgresql://", 13) &&
                        strncmp(s->sql_url, "postgres://", 11))
                        return yml_fail(c, fv, path, "want a postgresql:// URL");
                } else if (!strcmp(field, "query")) {
                    if (yml_get_str(c, fk, fv, path, "a SQL query", &s->sql_query) < 0) return -1;
                    if (!strstr(s->sql_query, "$1"))
                        return yml_fail(c, fv, path,
                                        "the query must use $1 (the resource's id) and return the "
                                        "stored winner in its first column");
                } else {
                    return yml_fail(c, fk, path, "unknown key (want url or query)");
                }
            }
            if (!s->sql_query) {
                char path[KEY_MAX];
                yml_join(path, skey, "query");
                return yml_fail(c, sk, path,
                                "missing: SELECT winner FROM ... WHERE id = $1 (one row per stored "
                                "winner)");
            }
        } else {
            return yml_fail(c, sk, skey, "unknown key (want http or sql)");
        }
    }
    if (!s->truth.method && !s->sql_query)
        return yml_fail(c, v, key, "empty: give http (path, winner) and/or sql (url, query)");
    return 0;
}

static int parse_root(const pctx *c, const yaml_node_t *root, bool allow_target, race_spec *s) {
    if (!root) return yml_fail(c, NULL, "(top level)", "the file is empty");
    if (root->type != YAML_MAPPING_NODE)
        return yml_fail(c, root, "(top level)",
                        "expected a mapping with create, claim and truth, found %s",
                        yml_kind(root));
    if (yml_check_keys(c, root, "") < 0) return -1;
    const yaml_node_t *claim_k = NULL, *create_k = NULL, *truth_k = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yml_node(c, p->key), *v = yml_node(c, p->value);
        const char *field = yml_str(k);
        int rc;
        if (!strcmp(field, "target") && !allow_target) {
            rc = yml_fail(c, k, field,
                          "unknown key here: the service's URL is target.url at the top level");
        } else if (!strcmp(field, "target")) {
            rc = yml_get_str(c, k, v, "target", "the service's base URL (http://HOST:PORT)",
                             &s->target);
            if (rc == 0) {
                url u;
                char e[200];
                if (url_parse(s->target, &u, e, sizeof e) < 0)
                    return yml_fail(c, v, "target", "%s", e);
                url_free(&u);
                s->line_target = yml_line(v);
            }
        } else if (!strcmp(field, "create")) {
            rc = parse_create(c, k, v, s);
            create_k = k;
        } else if (!strcmp(field, "visible")) {
            rc = parse_visible(c, k, v, s);
        } else if (!strcmp(field, "claim")) {
            rc = parse_claim(c, k, v, s);
            claim_k = k;
        } else if (!strcmp(field, "truth")) {
            rc = parse_truth(c, k, v, s);
            truth_k = k;
        } else {
            rc =
                yml_fail(c, k, field, "unknown key (want target, create, visible, claim or truth)");
        }
        if (rc < 0) return -1;
    }
    if (!create_k)
        return yml_fail(c, root, "create",
                        "missing: how one resource is created (path, body, ...)");
    if (!claim_k)
        return yml_fail(c, root, "claim", "missing: the vendors' claim (path, body, ...)");
    if (!truth_k)
        return yml_fail(c, root, "truth",
                        "missing: where the stored winner is (http: path + winner, or sql: url + "
                        "query)");
    return 0;
}

/* ---- loading ------------------------------------------------------------------------------- */

int race_spec_parse(yaml_document_t *doc, yaml_node_t *node, const char *file, const char *prefix,
                    race_spec *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    pctx c = {.doc = doc, .file = file, .err = err, .errlen = errlen, .prefix = prefix};
    bool own = !prefix || !prefix[0];
    int rc = parse_root(&c, node, own, s);
    if (rc == 0 && !(s->file = strdup(file)))
        rc = yml_fail(&c, node, "(top level)", "out of memory");
    if (rc < 0) race_spec_free(s);
    return rc;
}

int race_spec_load(const char *path, race_spec *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    yaml_document_t doc;
    if (yml_load_file(path, &doc, err, errlen) < 0) return -1;
    int rc = race_spec_parse(&doc, yaml_document_get_root_node(&doc), path, NULL, s, err, errlen);
    yaml_document_delete(&doc);
    return rc;
}
