/* race_yaml.c — race.yaml: the vendor race against a user's own service (docs/race.md), and the
 * race: section of brink.yaml (the same keys). The file says how to create a resource, how a
 * vendor claims it ({{id}}, {{vendor}}), which statuses mean won and lost, where a loser is told
 * the winner's name, and where the ground truth is (a request and the JSON path of the stored
 * winner, and/or a SQL query on a postgresql:// URL). It fills the same race_spec
 * (config/race_spec.h) as dispatchd's built-in protocol (race/race_spec.c).
 *
 * Each section is a table of core/yml.h (the request's method, path, headers and body are one
 * table included in every section); what a table cannot say — a section's placeholders, the
 * {{id}} and {{vendor}} every request needs, won and lost overlapping — is its finish. Placeholders
 * are checked here, so that a typo like {{vendr}} is reported with its line instead of after the
 * set-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/race_spec.h"
#include "core/err.h"
#include "core/jpath.h"
#include "core/yml.h"
#include "http/url.h"

/* ---- values -------------------------------------------------------------------------------- */

/* The text of a non-null scalar (a status may be written 409 or '409'). */
static const char *scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE && !yml_is_null(n) ? (const char *)n->data.scalar.value
                                                               : NULL;
}

int race_yaml_status(const yml_ctx *c, const yml_val *x, void *obj) {
    status_set *out = x->dst;
    char e[200];
    memset(out, 0, sizeof *out);
    const yaml_node_t *v = x->v;
    if (v && v->type == YAML_SEQUENCE_NODE) {
        if (v->data.sequence.items.top == v->data.sequence.items.start)
            return yml_fail(c, v, x->key, "an empty list of statuses");
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
             it++) {
            const yaml_node_t *n = yml_node(c, *it);
            const char *s = scalar(n);
            status_set one;
            if (!s)
                return yml_fail(c, yml_where(v, n), x->key, "expected a status, found %s",
                                yml_kind(n));
            if (status_set_parse(s, &one, e, sizeof e) < 0) return yml_fail(c, n, x->key, "%s", e);
            for (int i = 0; i < one.n; i++)
                if (status_set_add(out, one.lo[i], one.hi[i]) < 0)
                    return yml_fail(c, n, x->key, "too many statuses (at most %d ranges)",
                                    STATUS_SET_RANGES);
        }
        return 0;
    }
    const char *s = scalar(v);
    if (!s)
        return yml_fail(
            c, yml_where(x->k, v), x->key,
            "expected a status (409), a range (200-204), a class (2xx) or a list of them, "
            "found %s",
            yml_kind(v));
    if (status_set_parse(s, out, e, sizeof e) < 0) return yml_fail(c, v, x->key, "%s", e);
    return 0;
}

/* After a JSON path was stored: its syntax. */
static int check_json_path(const yml_ctx *c, const yml_val *x, void *obj) {
    char e[200];
    if (jpath_check(*(char **)x->dst, e, sizeof e) < 0) return yml_fail(c, x->v, x->key, "%s", e);
    return 0;
}

#define JSON_PATH "a JSON path (e.g. winner, data.vendor_id, items[0].id)"

static int add_header(const yml_ctx *c, const yaml_node_t *n, const char *key, race_request *q,
                      const char *name, size_t name_len, const char *value) {
    if (q->nheaders == RACE_MAX_HEADERS)
        return yml_fail(c, n, key, "too many headers (at most %d)", RACE_MAX_HEADERS);
    if (yml_header(c, n, key, name, name_len, value, &q->headers[q->nheaders]) < 0) return -1;
    q->nheaders++;
    return 0;
}

static int header_entry(const yml_ctx *c, const yml_val *x, void *obj) {
    const char *name = yml_str(x->k), *val = scalar(x->v);
    if (!val)
        return yml_fail(c, yml_where(x->k, x->v), x->key, "expected a value, found %s",
                        yml_kind(x->v));
    return add_header(c, x->v, x->key, obj, name, strlen(name), val);
}

/* headers: a mapping {Name: value} or a list of "Name: value" strings. */
static int parse_headers(const yml_ctx *c, const yml_val *x, void *obj) {
    race_request *q = obj;
    const yaml_node_t *v = x->v;
    if (v && v->type == YAML_MAPPING_NODE)
        return yml_each(c, x->k, v, x->key, "(Name: value)", header_entry, q);
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return yml_fail(c, yml_where(x->k, v), x->key,
                        "expected a mapping (Name: value) or a list of \"Name: value\", found %s",
                        yml_kind(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *n = yml_node(c, *it);
        const char *s = yml_str(n);
        if (!s || !strchr(s, ':'))
            return yml_fail(c, yml_where(v, n), x->key, "expected \"Name: value\", found %s",
                            s ? "a string without ':'" : yml_kind(n));
        size_t nl = strcspn(s, ":");
        const char *val = s + nl + 1;
        while (*val == ' ' || *val == '\t') val++;
        if (add_header(c, n, x->key, q, s, nl, val) < 0) return -1;
    }
    return 0;
}

static int check_method(const yml_ctx *c, const yml_val *x, void *obj) {
    const char *m = ((race_request *)obj)->method;
    for (const char *p = m; *p; p++)
        if (*p < 'A' || *p > 'Z')
            return yml_fail(c, x->v, x->key, "a method is upper-case letters (POST, PUT, ...)");
    if (!m[0]) return yml_fail(c, x->v, x->key, "empty method");
    return 0;
}

static int check_req_path(const yml_ctx *c, const yml_val *x, void *obj) {
    const char *p = ((race_request *)obj)->path;
    if (p[0] != '/') return yml_fail(c, x->v, x->key, "the path must start with /");
    if (strpbrk(p, " \r\n\t")) return yml_fail(c, x->v, x->key, "the path holds white space");
    return 0;
}

/* The request of every section; its placeholders are checked by the section's finish. */
static const yml_field request_rows[] = {
    {"method", YML_STR, offsetof(race_request, method), "a method (GET, POST, ...)",
     .fn = check_method},
    {"path", YML_STR, offsetof(race_request, path), "a path starting with /", .fn = check_req_path,
     .missing = "the request's path (e.g. /orders/{{id}})"},
    {"headers", YML_CUSTOM, 0, .fn = parse_headers},
    {"body", YML_STR, offsetof(race_request, body),
     .what = "a string (the body's text; quote JSON with '...')"},
    {0},
};
static const yml_table request_table = {.rows = request_rows};

#define REQUEST(field)                                                                             \
    { .type = YML_INCLUDE, .off = offsetof(race_spec, field), .sub = &request_table }

/* ---- a section's finish --------------------------------------------------------------------- */

static bool mentions(const race_request *q, const char *ph) {
    if (q->path && strstr(q->path, ph)) return true;
    if (q->body && strstr(q->body, ph)) return true;
    for (int i = 0; i < q->nheaders; i++)
        if (strstr(q->headers[i], ph)) return true;
    return false;
}

/* The request of the section x: its placeholders (allowed, and with engine the load engine's),
 * the default method, and a Content-Type for a body. */
static int finish_request(const yml_ctx *c, const yml_val *x, race_request *q, const char *method,
                          const char *allowed, bool engine) {
    char path[YML_KEY_MAX];
    const char *texts[] = {q->path, q->body};
    const char *names[] = {"path", "body"};
    for (int i = 0; i < 2; i++) {
        yml_join(path, x->key, names[i]);
        if (texts[i] && yml_check_placeholders(c, yml_find(c, x->v, names[i], NULL), path, texts[i],
                                               allowed, engine) < 0)
            return -1;
    }
    yml_join(path, x->key, "headers");
    for (int i = 0; i < q->nheaders; i++)
        if (yml_check_placeholders(c, yml_find(c, x->v, "headers", NULL), path, q->headers[i],
                                   allowed, engine) < 0)
            return -1;
    if (!q->method && !(q->method = strdup(method)))
        return yml_fail(c, x->k, x->key, "out of memory");
    if (q->body) {
        for (int i = 0; i < q->nheaders; i++)
            if (!strncasecmp(q->headers[i], "content-type:", 13)) return 0;
        if (q->nheaders == RACE_MAX_HEADERS)
            return yml_fail(c, x->k, x->key, "too many headers (at most %d)", RACE_MAX_HEADERS);
        if (!(q->headers[q->nheaders] = strdup("Content-Type: application/json")))
            return yml_fail(c, x->k, x->key, "out of memory");
        q->nheaders++;
    }
    return 0;
}

static int finish_create(const yml_ctx *c, const yml_val *x, void *obj) {
    race_spec *s = obj;
    if (finish_request(c, x, &s->create, "POST", "id|run", true) < 0) return -1;
    if (s->secret_file && s->secret_env)
        return yml_fail(c, x->v, x->key, "give secret_file or secret_env, not both");
    if ((s->secret_file || s->secret_env) && s->create_sign == SIGN_NONE)
        return yml_fail(c, x->v, "create.sign",
                        "missing: a secret was given without a signing scheme (standard-webhooks, "
                        "stripe or github)");
    if (s->create_id_path) {
        if (mentions(&s->create, "{{id}}"))
            return yml_fail(c, x->v, x->key,
                            "{{id}} is chosen by the service here (id_from): the creation request "
                            "cannot carry it");
    } else if (!mentions(&s->create, "{{id}}")) {
        return yml_fail(
            c, x->v, x->key,
            "the request never carries {{id}}: put it in the path, a header or the body "
            "(brink makes the ids), or give id_from (the service makes them)");
    }
    return 0;
}

/* A section's request must carry placeholder ph, or fail with why. */
static int must_carry(const yml_ctx *c, const yml_val *x, const race_request *q, const char *ph,
                      const char *why) {
    return mentions(q, ph) ? 0 : yml_fail(c, x->v, x->key, "%s", why);
}

static int finish_visible(const yml_ctx *c, const yml_val *x, void *obj) {
    race_spec *s = obj;
    if (finish_request(c, x, &s->visible, "GET", "id|run", false) < 0) return -1;
    return must_carry(c, x, &s->visible, "{{id}}",
                      "the request never carries {{id}}: which resource would it show?");
}

static int finish_claim(const yml_ctx *c, const yml_val *x, void *obj) {
    race_spec *s = obj;
    if (finish_request(c, x, &s->claim, "POST", "id|vendor|run", false) < 0 ||
        must_carry(c, x, &s->claim, "{{id}}",
                   "the claim never carries {{id}}: which resource would it claim?") < 0 ||
        must_carry(c, x, &s->claim, "{{vendor}}",
                   "the claim never carries {{vendor}}: who claims? (e.g. body: "
                   "'{\"vendor_id\":\"{{vendor}}\"}' or a header)") < 0)
        return -1;
    for (int i = 0; i < s->won.n; i++)
        for (int st = s->won.lo[i]; st <= s->won.hi[i]; st++)
            if (status_set_has(&s->lost, st))
                return yml_fail(c, x->v, "claim.lost", "status %d means both won and lost", st);
    return 0;
}

static int finish_truth_http(const yml_ctx *c, const yml_val *x, void *obj) {
    race_spec *s = obj;
    if (finish_request(c, x, &s->truth, "GET", "id|run", false) < 0) return -1;
    return must_carry(c, x, &s->truth, "{{id}}", "the request never carries {{id}}");
}

static int finish_truth(const yml_ctx *c, const yml_val *x, void *obj) {
    race_spec *s = obj;
    if (!s->truth.method && !s->sql_query)
        return yml_fail(c, x->v, x->key, "empty: give http (path, winner) and/or sql (url, query)");
    return 0;
}

/* ---- the tables ------------------------------------------------------------------------------ */

static int parse_sign(const yml_ctx *c, const yml_val *x, void *obj) {
    char *name = NULL;
    if (yml_get_str(c, x->k, x->v, x->key, "a signing scheme", &name) < 0) return -1;
    int bad = sign_parse_scheme(name, &((race_spec *)obj)->create_sign);
    free(name);
    if (bad)
        return yml_fail(c, x->v, x->key,
                        "unknown signing scheme (want standard-webhooks, stripe or github)");
    return 0;
}

static const yml_field create_rows[] = {
    REQUEST(create),
    {"sign", YML_CUSTOM, 0, .fn = parse_sign},
    {"secret_file", YML_FILE, offsetof(race_spec, secret_file), .what = "a file name"},
    {"secret_env", YML_STR, offsetof(race_spec, secret_env),
     .what = "an environment variable's name"},
    {"id_from", YML_STR, offsetof(race_spec, create_id_path), JSON_PATH, .fn = check_json_path},
    {"success", YML_CUSTOM, offsetof(race_spec, create_ok), .fn = race_yaml_status},
    {0},
};

static const yml_field visible_rows[] = {
    REQUEST(visible),
    {"status", YML_CUSTOM, offsetof(race_spec, visible_ok), .fn = race_yaml_status},
    {0},
};

static const yml_field claim_rows[] = {
    REQUEST(claim),
    {"won", YML_CUSTOM, offsetof(race_spec, won), .fn = race_yaml_status},
    {"lost", YML_CUSTOM, offsetof(race_spec, lost), .fn = race_yaml_status},
    {"loser_winner", YML_STR, offsetof(race_spec, loser_winner_path), JSON_PATH,
     .fn = check_json_path},
    {0},
};

static const yml_field truth_http_rows[] = {
    REQUEST(truth),
    {"winner", YML_STR, offsetof(race_spec, truth_winner_path), JSON_PATH, .fn = check_json_path,
     .missing = "the JSON path of the stored winner in the answer (e.g. vendor_id)"},
    {0},
};

static int check_sql_url(const yml_ctx *c, const yml_val *x, void *obj) {
    const char *u = ((race_spec *)obj)->sql_url;
    if (strncmp(u, "postgresql://", 13) && strncmp(u, "postgres://", 11))
        return yml_fail(c, x->v, x->key, "want a postgresql:// URL");
    return 0;
}

static int check_sql_query(const yml_ctx *c, const yml_val *x, void *obj) {
    if (!strstr(((race_spec *)obj)->sql_query, "$1"))
        return yml_fail(c, x->v, x->key,
                        "the query must use $1 (the resource's id) and return the stored winner in "
                        "its first column");
    return 0;
}

static const yml_field truth_sql_rows[] = {
    {"url", YML_STR, offsetof(race_spec, sql_url), "a postgresql:// URL", .fn = check_sql_url},
    {"query", YML_STR, offsetof(race_spec, sql_query), "a SQL query", .fn = check_sql_query,
     .missing = "SELECT winner FROM ... WHERE id = $1 (one row per stored winner)"},
    {0},
};

static const yml_table truth_http = {"(path and winner)", truth_http_rows, finish_truth_http};
static const yml_table truth_sql = {"(url and query)", truth_sql_rows, NULL};

static const yml_field truth_rows[] = {
    {"http", YML_MAP, .sub = &truth_http},
    {"sql", YML_MAP, .sub = &truth_sql},
    {0},
};

/* target: the service's URL in a race.yaml; in brink.yaml's race: section it is target.url. */
static int parse_target(const yml_ctx *c, const yml_val *x, void *obj) {
    race_spec *s = obj;
    if (c->prefix && c->prefix[0])
        return yml_fail(c, x->k, "target",
                        "unknown key here: the service's URL is target.url at the top level");
    if (yml_get_str(c, x->k, x->v, "target", "the service's base URL (http://HOST:PORT)",
                    &s->target) < 0)
        return -1;
    url u;
    char e[200];
    if (url_parse(s->target, &u, e, sizeof e) < 0) return yml_fail(c, x->v, "target", "%s", e);
    url_free(&u);
    s->line_target = yml_line(x->v);
    return 0;
}

static const yml_table create = {"(how one resource is created: path, body, ...)", create_rows,
                                 finish_create};
static const yml_table visible = {"(the request that shows a created resource: path, status)",
                                  visible_rows, finish_visible};
static const yml_table claim = {"(the vendors' claim: path, body, won, lost)", claim_rows,
                                finish_claim};
static const yml_table truth = {"(where the stored winner is: http and/or sql)", truth_rows,
                                finish_truth};

static const yml_field root_rows[] = {
    {"target", YML_CUSTOM, 0, .fn = parse_target},
    {"create", YML_MAP, .sub = &create, .missing = "how one resource is created (path, body, ...)"},
    {"visible", YML_MAP, .sub = &visible},
    {"claim", YML_MAP, .sub = &claim, .missing = "the vendors' claim (path, body, ...)"},
    {"truth", YML_MAP, .sub = &truth,
     .missing = "where the stored winner is (http: path + winner, or sql: url + query)"},
    {0},
};
static const yml_table root = {"with create, claim and truth", root_rows, NULL};

/* ---- loading ------------------------------------------------------------------------------- */

int race_spec_parse(yaml_document_t *doc, const yaml_node_t *node, const char *file,
                    const char *prefix, race_spec *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    yml_ctx c = {.doc = doc, .file = file, .err = err, .errlen = errlen, .prefix = prefix};
    /* the defaults a section's own key replaces */
    status_set_add(&s->create_ok, 200, 299);
    status_set_add(&s->visible_ok, 200, 299);
    status_set_add(&s->won, 200, 299);
    status_set_add(&s->lost, 409, 409);
    int rc = node ? yml_walk(&c, NULL, node, "", &root, s)
                  : yml_fail(&c, NULL, "(top level)", "the file is empty");
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

static void request_free(race_request *r) {
    free(r->method);
    free(r->path);
    for (int i = 0; i < r->nheaders; i++) free(r->headers[i]);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void race_spec_free(race_spec *s) {
    if (!s) return;
    free(s->file);
    free(s->target);
    request_free(&s->create);
    free(s->secret_file);
    free(s->secret_env);
    free(s->create_id_path);
    request_free(&s->visible);
    request_free(&s->claim);
    free(s->loser_winner_path);
    request_free(&s->truth);
    free(s->truth_winner_path);
    free(s->sql_url);
    free(s->sql_query);
    memset(s, 0, sizeof *s);
}
