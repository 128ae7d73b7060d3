/* scenario_yaml.c — the loader of load scenarios (see load/scenario.h and docs/scenarios.md): named
 * requests mixed by weight, flows of steps, checks on the responses and values captured from
 * them, read with core/yml.h's tables and validated completely, so that the engine only runs it.
 *
 * The file is read in two passes. The tables' walk (the first) reads every key into the scenario
 * and remembers where each template and step was in the YAML (a loader beside the scenario),
 * since what the keys mean depends on one another and may be written in any order: the default
 * weight of a request depends on whether there are flows, a step names a request that may come
 * later, and a template may use a variable that any request captures. The root's finish (the
 * second) then gives the defaults, compiles every template against the variables of the whole
 * scenario (recording which variables each request uses), resolves the steps, and checks that a
 * step uses only what an earlier step of its flow captured and that a request of the mix uses no
 * variable at all. */
#include "config/scenario_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cli.h"
#include "config/race_spec.h"
#include "core/jpath.h"
#include "http/url.h"
#include "verdict/custom_th.h"

/* ---- the loader's state beside the scenario ---------------------------------------------------
 */

/* A request being read, and where its templates are for the second pass. */
typedef struct req_in {
    scenario *s;
    scn_request *r;
    const yaml_node_t *k;                    /* the request's name */
    const yaml_node_t *url, *body;           /* their values */
    const yaml_node_t *hdr[SCN_MAX_HEADERS]; /* each header's value */
    double weight;                           /* NAN: not given */
    char key[YML_KEY_MAX];                   /* "requests.NAME" */
} req_in;

/* A flow being read: its default think time and where each step's request name is. */
typedef struct flow_in {
    scn_flow *f;
    double weight;
    int64_t think_ns;
    const yaml_node_t *step[SCN_MAX_STEPS]; /* the step's item */
    const yaml_node_t *name[SCN_MAX_STEPS]; /* the node holding its request's name */
    bool has_think[SCN_MAX_STEPS];
    char key[YML_KEY_MAX]; /* "flows.NAME" */
} flow_in;

typedef struct loader {
    scenario *s;
    bool tls; /* the target's scheme, host and port, when it has one */
    char host[256];
    int port;
    req_in rq[SCN_MAX_REQUESTS];
    flow_in fl[SCN_MAX_FLOWS];
} loader;

/* ---- small values ---------------------------------------------------------------------------- */

/* The text of a non-null scalar (a status may be written 201 or '201'), NULL for anything else
 * (or a scalar holding a NUL byte). */
static const char *scalar(const yaml_node_t *n) {
    if (!n || n->type != YAML_SCALAR_NODE || yml_is_null(n)) return NULL;
    const char *v = (const char *)n->data.scalar.value;
    return strlen(v) == n->data.scalar.length ? v : NULL;
}

static bool name_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
}

/* A request's or a flow's name: [A-Za-z0-9_-], 1..SCN_NAME_MAX characters. */
static int check_name(const yml_ctx *c, const yml_val *x, const char *name, const char *what) {
    size_t n = strlen(name);
    bool ok = n > 0 && n <= SCN_NAME_MAX;
    for (size_t i = 0; ok && i < n; i++) ok = name_char(name[i]);
    if (!ok)
        return yml_fail(c, x->k, x->key,
                        "a %s's name is letters, digits, '_' and '-' (1 to %d of them)", what,
                        SCN_NAME_MAX);
    return 0;
}

/* A captured variable's name: [A-Za-z_][A-Za-z0-9_]*, at most SCN_NAME_MAX characters. */
static bool var_name_ok(const char *s) {
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_') || strlen(s) > SCN_NAME_MAX) return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return false;
    return true;
}

static int find_flow(const scenario *s, const char *name) {
    for (int i = 0; i < s->nflows; i++)
        if (!strcmp(s->flow[i].name, name)) return i;
    return -1;
}

static int find_var(const scenario *s, const char *name) {
    for (int i = 0; i < s->nvars; i++)
        if (!strcmp(s->vars[i], name)) return i;
    return -1;
}

/* The lowest variable of a mask (one that is set), or -1. */
static int first_var(uint32_t mask) {
    for (int i = 0; i < TMPL_VARS_MAX; i++)
        if (mask >> i & 1u) return i;
    return -1;
}

#define JSON_PATH "a JSON path (e.g. id, data.order_id, items[0].id)"

/* A JSON path from the string v into *out (strdup'd). */
static int get_json_path(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v,
                         const char *key, char **out) {
    if (yml_get_str(c, k, v, key, JSON_PATH, out) < 0) return -1;
    char e[200];
    if (jpath_check(*out, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
    return 0;
}

/* ---- a request ------------------------------------------------------------------------------- */

static int parse_method(const yml_ctx *c, const yml_val *x, void *obj) {
    scn_request *r = ((req_in *)obj)->r;
    if (yml_get_str(c, x->k, x->v, x->key, "a method (GET, POST, ...)", &r->method) < 0) return -1;
    const char *m = r->method;
    bool ok = m[0] >= 'A' && m[0] <= 'Z';
    for (const char *p = m; ok && *p; p++)
        ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';
    if (!ok)
        return yml_fail(c, x->v, x->key, "a method is an upper-case word (GET, POST, PUT, ...)");
    return 0;
}

/* url: a path starting with '/', or a full http(s):// URL, of which the path (with the query) is
 * kept and the origin remembered (compared with the target's in the second pass). */
static int parse_url(const yml_ctx *c, const yml_val *x, void *obj) {
    req_in *R = obj;
    scn_request *r = R->r;
    char *u = NULL;
    if (yml_get_str(c, x->k, x->v, x->key, "a path starting with / (or the target's URL)", &u) < 0)
        return -1;
    R->url = x->v;
    free(r->url);
    free(r->origin);
    r->url = r->origin = NULL;
    if (!strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8)) {
        url p;
        char e[300];
        int rc = url_parse(u, &p, e, sizeof e);
        free(u);
        if (rc < 0) return yml_fail(c, x->v, x->key, "%s", e);
        bool v6 = strchr(p.host, ':') != NULL;
        char origin[300];
        snprintf(origin, sizeof origin, v6 ? "%s://[%s]:%d" : "%s://%s:%d",
                 p.tls ? "https" : "http", p.host, p.port);
        r->url = p.path; /* taken over */
        if (!(r->origin = strdup(origin))) return yml_fail(c, x->v, x->key, "out of memory");
        return 0;
    }
    r->url = u;
    if (u[0] != '/')
        return yml_fail(c, x->v, x->key,
                        "want a path starting with / (joined to the target), or the target's "
                        "http(s):// URL");
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return yml_fail(c, x->v, x->key, "the path holds white space or control characters");
    return 0;
}

static int header_entry(const yml_ctx *c, const yml_val *x, void *obj) {
    req_in *R = obj;
    scn_request *r = R->r;
    const char *name = yml_str(x->k), *val = scalar(x->v);
    if (!val)
        return yml_fail(c, yml_where(x->k, x->v), x->key, "expected a value, found %s",
                        yml_kind(x->v));
    if (r->nheaders == SCN_MAX_HEADERS)
        return yml_fail(c, x->k, x->key, "too many headers (at most %d)", SCN_MAX_HEADERS);
    if (yml_header(c, x->v, x->key, name, strlen(name), val, &r->headers[r->nheaders]) < 0)
        return -1;
    R->hdr[r->nheaders++] = x->v;
    return 0;
}

/* The body file name (after '@'), relative to the YAML file, into r->body. */
static int read_body(const yml_ctx *c, const yml_val *x, const char *name, scn_request *r) {
    if (!*name) return yml_fail(c, x->v, x->key, "a file name after '@' (body: \"@body.json\")");
    char *path = yml_relative_to(c->file, name);
    if (!path) return yml_fail(c, x->v, x->key, "out of memory");
    int rc = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = yml_fail(c, x->v, x->key, "cannot read the body file %s: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap > SCN_BODY_MAX) break;
            char *more = realloc(buf, cap * 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (!buf)
        rc = yml_fail(c, x->v, x->key, "out of memory");
    else if (ferror(f))
        rc = yml_fail(c, x->v, x->key, "cannot read the body file %s: %s", path, strerror(errno));
    else if (n > SCN_BODY_MAX)
        rc = yml_fail(c, x->v, x->key, "the body file %s is larger than %u MiB", path,
                      SCN_BODY_MAX >> 20);
    fclose(f);
    free(path);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    r->body = buf;
    r->body_len = n;
    return 0;
}

/* body: the text, or "@FILE" (relative to the YAML file) for a file's content. */
static int parse_body(const yml_ctx *c, const yml_val *x, void *obj) {
    req_in *R = obj;
    scn_request *r = R->r;
    const char *s = yml_str(x->v);
    if (!s)
        return yml_fail(c, yml_where(x->k, x->v), x->key,
                        "expected a string (the body's text, or \"@FILE\"), found %s",
                        yml_kind(x->v));
    R->body = x->v;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    if (s[0] == '@') return read_body(c, x, s + 1, r);
    if (!(r->body = strdup(s))) return yml_fail(c, x->v, x->key, "out of memory");
    r->body_len = strlen(s);
    return 0;
}

static int parse_sign(const yml_ctx *c, const yml_val *x, void *obj) {
    bool b;
    if (yml_get_bool(c, x->k, x->v, x->key, &b) < 0) return -1;
    ((req_in *)obj)->r->sign = b ? 1 : 0;
    return 0;
}

/* A status set: 201, "2xx", "200-204", "200,409", or a list of them (as race.yaml's). */
static int parse_status(const yml_ctx *c, const yml_val *x, void *obj) {
    scn_request *r = ((req_in *)obj)->r;
    yml_val y = *x;
    y.dst = &r->status;
    if (race_yaml_status(c, &y, obj) < 0) return -1;
    char text[64];
    status_set_format(&r->status, text, sizeof text);
    snprintf(r->status_label, sizeof r->status_label, "status %s", text);
    r->has_status = true;
    return 0;
}

/* ---- a JSON check ---------------------------------------------------------------------------- */

typedef struct check_in {
    scn_check *ck;
    const char *op; /* the condition's key once given */
} check_in;

static int check_path(const yml_ctx *c, const yml_val *x, void *obj) {
    scn_check *ck = ((check_in *)obj)->ck;
    return get_json_path(c, x->k, x->v, x->key, &ck->path);
}

/* exists, equals, matches, lt, le, gt or ge (the row's key says which): one per check. */
static int check_op(const yml_ctx *c, const yml_val *x, void *obj) {
    check_in *in = obj;
    scn_check *ck = in->ck;
    const char *op = x->f->key;
    if (in->op)
        return yml_fail(c, x->k, x->key,
                        "one condition per check, and this one has %s already (give two checks "
                        "on the same path)",
                        in->op);
    in->op = op;
    if (!strcmp(op, "exists")) {
        bool b;
        if (yml_get_bool(c, x->k, x->v, x->key, &b) < 0) return -1;
        ck->op = b ? SCN_EXISTS : SCN_ABSENT;
        return 0;
    }
    if (!strcmp(op, "equals")) {
        const char *s = scalar(x->v);
        if (!s)
            return yml_fail(c, yml_where(x->k, x->v), x->key,
                            "expected a string, a number or true/false, found %s", yml_kind(x->v));
        ck->op = SCN_EQUALS;
        if (!(ck->text = strdup(s))) return yml_fail(c, x->v, x->key, "out of memory");
        /* a plain number (equals: 3, not '3') also matches a JSON number of the same value
         * written another way (3.0, 3e0) */
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        ck->is_num = x->v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && end != s && !*end &&
                     !errno && isfinite(d);
        if (ck->is_num) ck->num = d;
        return 0;
    }
    if (!strcmp(op, "matches")) {
        if (yml_get_str(c, x->k, x->v, x->key, "a regular expression (POSIX extended)", &ck->text) <
            0)
            return -1;
        ck->op = SCN_MATCHES;
        int rc = regcomp(&ck->re, ck->text, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char e[200];
            regerror(rc, &ck->re, e, sizeof e); /* a failed regcomp holds nothing to free */
            return yml_fail(c, x->v, x->key, "bad regular expression '%s': %s", ck->text, e);
        }
        ck->has_re = true;
        return 0;
    }
    static const struct {
        const char *key;
        scn_op op;
    } cmp[] = {{"lt", SCN_LT}, {"le", SCN_LE}, {"gt", SCN_GT}, {"ge", SCN_GE}};
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp; i++)
        if (!strcmp(op, cmp[i].key)) {
            ck->op = cmp[i].op;
            return yml_get_number(c, x->k, x->v, x->key, -DBL_MAX, DBL_MAX, &ck->num);
        }
    return yml_fail(c, x->k, x->key, "a condition without a parser (a bug)");
}

/* A check needs its condition; then its label for the reports. */
static int finish_check(const yml_ctx *c, const yml_val *x, void *obj) {
    check_in *in = obj;
    scn_check *ck = in->ck;
    if (!in->op)
        return yml_fail(c, x->v, x->key,
                        "missing: a condition (exists, equals, matches, lt, le, gt or ge)");
    switch (ck->op) {
    case SCN_EXISTS: snprintf(ck->label, sizeof ck->label, "%s exists", ck->path); break;
    case SCN_ABSENT: snprintf(ck->label, sizeof ck->label, "%s absent", ck->path); break;
    case SCN_EQUALS: snprintf(ck->label, sizeof ck->label, "%s == %s", ck->path, ck->text); break;
    case SCN_MATCHES: snprintf(ck->label, sizeof ck->label, "%s ~ %s", ck->path, ck->text); break;
    case SCN_LT: snprintf(ck->label, sizeof ck->label, "%s < %g", ck->path, ck->num); break;
    case SCN_LE: snprintf(ck->label, sizeof ck->label, "%s <= %g", ck->path, ck->num); break;
    case SCN_GT: snprintf(ck->label, sizeof ck->label, "%s > %g", ck->path, ck->num); break;
    case SCN_GE: snprintf(ck->label, sizeof ck->label, "%s >= %g", ck->path, ck->num); break;
    }
    return 0;
}

static const yml_field check_rows[] = {
    {"path", YML_CUSTOM, 0, .fn = check_path, .missing = "the JSON path checked (e.g. path: id)"},
    {"exists", YML_CUSTOM, 0, .fn = check_op},
    {"equals", YML_CUSTOM, 0, .fn = check_op},
    {"matches", YML_CUSTOM, 0, .fn = check_op},
    {"lt", YML_CUSTOM, 0, .fn = check_op},
    {"le", YML_CUSTOM, 0, .fn = check_op},
    {"gt", YML_CUSTOM, 0, .fn = check_op},
    {"ge", YML_CUSTOM, 0, .fn = check_op},
    {0},
};
static const yml_table check_table = {"(path and one of exists, equals, matches, lt, le, gt, ge)",
                                      check_rows, finish_check};

static int parse_check(const yml_ctx *c, const yml_val *x, void *obj) {
    scn_request *r = ((req_in *)obj)->r;
    if (r->nchecks == SCN_MAX_CHECKS)
        return yml_fail(c, x->v, x->key, "too many checks (at most %d a request)", SCN_MAX_CHECKS);
    check_in in = {.ck = &r->checks[r->nchecks++]};
    return yml_walk(c, NULL, x->v, x->key, &check_table, &in);
}

static const yml_field expect_rows[] = {
    {"status", YML_CUSTOM, 0, .fn = parse_status},
    {"json", YML_LIST, 0, .what = "of checks (- {path: id, exists: true})", .fn = parse_check},
    {0},
};
static const yml_table expect_table = {"(status, json)", expect_rows, NULL};

/* ---- captures -------------------------------------------------------------------------------- */

static int parse_capture(const yml_ctx *c, const yml_val *x, void *obj) {
    req_in *R = obj;
    scenario *s = R->s;
    scn_request *r = R->r;
    const char *name = yml_str(x->k);
    if (!var_name_ok(name))
        return yml_fail(c, x->k, x->key,
                        "a variable's name is a letter or '_', then letters, digits and '_' (at "
                        "most %d)",
                        SCN_NAME_MAX);
    if (tmpl_is_builtin(name))
        return yml_fail(c, x->k, x->key,
                        "{{%s}} is a built-in placeholder: give the variable another name", name);
    if (r->ncaptures == SCN_MAX_CAPTURES)
        return yml_fail(c, x->k, x->key, "too many captures (at most %d a request)",
                        SCN_MAX_CAPTURES);
    scn_capture *cap = &r->captures[r->ncaptures++];
    cap->var = -1;
    if (get_json_path(c, x->k, x->v, x->key, &cap->path) < 0) return -1;
    int i = find_var(s, name);
    if (i < 0) {
        if (s->nvars == TMPL_VARS_MAX)
            return yml_fail(c, x->k, x->key, "too many variables (at most %d in a scenario)",
                            TMPL_VARS_MAX);
        if (!(s->vars[s->nvars] = strdup(name))) return yml_fail(c, x->k, x->key, "out of memory");
        i = s->nvars++;
    }
    cap->var = i;
    return 0;
}

/* ---- the request's table --------------------------------------------------------------------- */

static int finish_request(const yml_ctx *c, const yml_val *x, void *obj) {
    scn_request *r = ((req_in *)obj)->r;
    if (!r->method && !(r->method = strdup(r->body ? "POST" : "GET")))
        return yml_fail(c, x->k, x->key, "out of memory");
    return 0;
}

static const yml_field request_rows[] = {
    {"method", YML_CUSTOM, 0, .fn = parse_method},
    {"url", YML_CUSTOM, 0, .fn = parse_url,
     .missing = "the request's URL (a path like /orders/{{order_id}}, or the target's URL)"},
    {"headers", YML_EACH, 0, .what = "(Name: value)", .fn = header_entry},
    {"body", YML_CUSTOM, 0, .fn = parse_body},
    {"sign", YML_CUSTOM, 0, .fn = parse_sign},
    {"weight", YML_NUMBER, offsetof(req_in, weight), .min = 0, .max = 1e6},
    {"expect", YML_MAP, 0, .sub = &expect_table},
    {"capture", YML_EACH, 0, .what = "(VARIABLE: JSON path)", .fn = parse_capture},
    {0},
};
static const yml_table request_table = {
    "(url, and method, headers, body, sign, weight, expect, capture)", request_rows,
    finish_request};

static int parse_request(const yml_ctx *c, const yml_val *x, void *obj) {
    loader *L = obj;
    scenario *s = L->s;
    const char *name = yml_str(x->k);
    if (check_name(c, x, name, "request") < 0) return -1;
    if (find_flow(s, name) >= 0)
        return yml_fail(c, x->k, x->key,
                        "a flow has this name too: give requests and flows different names");
    if (s->nreq == SCN_MAX_REQUESTS)
        return yml_fail(c, x->k, x->key, "too many requests (at most %d)", SCN_MAX_REQUESTS);
    req_in *R = &L->rq[s->nreq];
    scn_request *r = &s->req[s->nreq++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->sign = -1;
    *R = (req_in){.s = s, .r = r, .k = x->k, .weight = NAN};
    snprintf(R->key, sizeof R->key, "%s", x->key);
    return yml_walk(c, x->k, x->v, x->key, &request_table, R);
}

/* ---- flows ----------------------------------------------------------------------------------- */

typedef struct step_in {
    const yaml_node_t *name;
    int64_t think_ns;
    bool has_think;
} step_in;

static int step_request(const yml_ctx *c, const yml_val *x, void *obj) {
    if (!yml_str(x->v))
        return yml_fail(c, yml_where(x->k, x->v), x->key, "expected a request's name, found %s",
                        yml_kind(x->v));
    ((step_in *)obj)->name = x->v;
    return 0;
}

static int step_think(const yml_ctx *c, const yml_val *x, void *obj) {
    ((step_in *)obj)->has_think = true;
    return 0;
}

static const yml_field step_rows[] = {
    {"request", YML_CUSTOM, 0, .fn = step_request, .missing = "the name of the step's request"},
    {"think", YML_DURATION, offsetof(step_in, think_ns), .min = 0, .fn = step_think},
    {0},
};
static const yml_table step_table = {"(request, think)", step_rows, NULL};

/* A step: a request's name, or {request: NAME, think: DURATION}; resolved in the second pass. */
static int parse_step(const yml_ctx *c, const yml_val *x, void *obj) {
    flow_in *F = obj;
    scn_flow *f = F->f;
    int j = f->nsteps++; /* the count was checked by parse_steps */
    F->step[j] = x->v;
    f->steps[j].req = -1;
    if (yml_str(x->v)) {
        F->name[j] = x->v;
        return 0;
    }
    if (!x->v || x->v->type != YAML_MAPPING_NODE)
        return yml_fail(c, x->v, x->key,
                        "expected a request's name or {request: NAME, think: DURATION}, found %s",
                        yml_kind(x->v));
    step_in st = {0};
    if (yml_walk(c, NULL, x->v, x->key, &step_table, &st) < 0) return -1;
    F->name[j] = st.name;
    F->has_think[j] = st.has_think;
    f->steps[j].think_ns = st.think_ns;
    return 0;
}

static int parse_steps(const yml_ctx *c, const yml_val *x, void *obj) {
    const yaml_node_t *v = x->v;
    if (v && v->type == YAML_SEQUENCE_NODE) {
        ptrdiff_t n = v->data.sequence.items.top - v->data.sequence.items.start;
        if (n == 0) return yml_fail(c, v, x->key, "empty: give at least one step");
        if (n > SCN_MAX_STEPS)
            return yml_fail(c, v, x->key, "too many steps (at most %d)", SCN_MAX_STEPS);
    }
    return yml_items(c, x->k, v, x->key, "of steps (- REQUEST or - {request: NAME, think: 1s})",
                     parse_step, obj);
}

/* The flow's think time is the default of its steps; its weight is copied. */
static int finish_flow(const yml_ctx *c, const yml_val *x, void *obj) {
    flow_in *F = obj;
    F->f->weight = F->weight;
    for (int j = 0; j < F->f->nsteps; j++)
        if (!F->has_think[j]) F->f->steps[j].think_ns = F->think_ns;
    return 0;
}

static const yml_field flow_rows[] = {
    {"weight", YML_NUMBER, offsetof(flow_in, weight), .min = 0, .max = 1e6},
    {"think", YML_DURATION, offsetof(flow_in, think_ns), .min = 0},
    {"steps", YML_CUSTOM, 0, .fn = parse_steps,
     .missing = "the flow's steps (a list of request names)"},
    {0},
};
static const yml_table flow_table = {"(steps, and weight, think)", flow_rows, finish_flow};

static int parse_flow(const yml_ctx *c, const yml_val *x, void *obj) {
    loader *L = obj;
    scenario *s = L->s;
    const char *name = yml_str(x->k);
    if (check_name(c, x, name, "flow") < 0) return -1;
    if (scenario_request(s, name) >= 0)
        return yml_fail(c, x->k, x->key,
                        "a request has this name too: give requests and flows different names");
    if (s->nflows == SCN_MAX_FLOWS)
        return yml_fail(c, x->k, x->key, "too many flows (at most %d)", SCN_MAX_FLOWS);
    flow_in *F = &L->fl[s->nflows];
    scn_flow *f = &s->flow[s->nflows++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->weight = 1;
    *F = (flow_in){.f = f, .weight = 1};
    snprintf(F->key, sizeof F->key, "%s", x->key);
    return yml_walk(c, x->k, x->v, x->key, &flow_table, F);
}

/* ---- target and thresholds ------------------------------------------------------------------- */

static int parse_target(const yml_ctx *c, const yml_val *x, void *obj) {
    loader *L = obj;
    scenario *s = L->s;
    if (yml_get_str(c, x->k, x->v, x->key, "the service's base URL (http://HOST:PORT)",
                    &s->target) < 0)
        return -1;
    url u;
    char e[300];
    if (url_parse(s->target, &u, e, sizeof e) < 0) return yml_fail(c, x->v, x->key, "%s", e);
    L->tls = u.tls;
    snprintf(L->host, sizeof L->host, "%s", u.host);
    L->port = u.port;
    url_free(&u);
    return 0;
}

static int parse_threshold(const yml_ctx *c, const yml_val *x, void *obj) {
    scenario *s = ((loader *)obj)->s;
    char *t = NULL;
    if (yml_get_str(c, x->k, x->v, x->key, "a condition (e.g. 'get.p99_ms<50')", &t) < 0) return -1;
    custom_th th;
    char e[400];
    if (custom_th_parse(t, &th, e, sizeof e) < 0) {
        free(t);
        const char *m = strncmp(e, "--threshold ", 12) ? e : e + 12;
        return yml_fail(c, x->v, x->key, "%s", m);
    }
    if (s->nthresholds == SCN_MAX_THRESHOLDS) {
        free(t);
        return yml_fail(c, x->v, x->key, "too many thresholds (at most %d)", SCN_MAX_THRESHOLDS);
    }
    s->thresholds[s->nthresholds++] = t;
    return 0;
}

/* ---- the second pass ------------------------------------------------------------------------- */

/* Compiles one template against the scenario's variables: the variables it uses into *uses. */
static int check_template(const yml_ctx *c, const scenario *s, const yaml_node_t *at,
                          const char *key, const char *text, size_t len, uint32_t *uses) {
    char e[300];
    tmpl *t = tmpl_compile_vars(text, len, (const char *const *)s->vars, s->nvars, e, sizeof e);
    if (!t) {
        if (strncmp(e, "unknown placeholder", 19)) return yml_fail(c, at, key, "%s", e);
        char list[200];
        size_t o = 0;
        list[0] = '\0';
        for (int i = 0; i < s->nvars && o < sizeof list; i++) {
            int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", s->vars[i]);
            o += w > 0 ? (size_t)w : 0;
        }
        if (s->nvars)
            return yml_fail(c, at, key, "%s (neither a built-in one nor a captured variable: %s)",
                            e, list);
        return yml_fail(c, at, key, "%s (not a built-in one, and no request captures a variable)",
                        e);
    }
    for (int i = 0; i < s->nvars; i++)
        if (tmpl_uses_var(t, i)) *uses |= 1u << i;
    tmpl_free(t);
    return 0;
}

static int check_templates(const yml_ctx *c, const scenario *s, req_in *R) {
    scn_request *r = R->r;
    char key[YML_KEY_MAX];
    yml_join(key, R->key, "url");
    if (check_template(c, s, R->url, key, r->url, strlen(r->url), &r->uses_vars) < 0) return -1;
    for (int j = 0; j < r->nheaders; j++) {
        char name[YML_KEY_MAX];
        snprintf(name, sizeof name, "headers.%.*s", (int)strcspn(r->headers[j], ":"),
                 r->headers[j]);
        yml_join(key, R->key, name);
        if (check_template(c, s, R->hdr[j], key, r->headers[j], strlen(r->headers[j]),
                           &r->uses_vars) < 0)
            return -1;
    }
    yml_join(key, R->key, "body");
    if (r->body && check_template(c, s, R->body, key, r->body, r->body_len, &r->uses_vars) < 0)
        return -1;
    return 0;
}

static uint32_t captured(const scn_request *r) {
    uint32_t m = 0;
    for (int i = 0; i < r->ncaptures; i++)
        if (r->captures[i].var >= 0) m |= 1u << r->captures[i].var;
    return m;
}

/* A flow's steps: each names a request, which uses only what earlier steps captured. */
static int check_flow(const yml_ctx *c, const scenario *s, flow_in *F) {
    scn_flow *f = F->f;
    uint32_t have = 0;
    for (int j = 0; j < f->nsteps; j++) {
        char key[YML_KEY_MAX];
        snprintf(key, sizeof key, "%.*s.steps[%d]", YML_KEY_MAX - 32, F->key, j);
        const char *name = yml_str(F->name[j]);
        int i = scenario_request(s, name);
        if (i < 0) {
            const char *names[SCN_MAX_REQUESTS];
            char list[400];
            size_t o = 0;
            list[0] = '\0';
            for (int q = 0; q < s->nreq; q++) {
                names[q] = s->req[q].name;
                if (o < sizeof list) {
                    int w = snprintf(list + o, sizeof list - o, "%s%s", q ? ", " : "", names[q]);
                    o += w > 0 ? (size_t)w : 0;
                }
            }
            const char *close = cli_suggest(name, names, (size_t)s->nreq);
            if (close)
                return yml_fail(c, F->name[j], key,
                                "unknown request '%s' (requests: %s); did you mean '%s'?", name,
                                list, close);
            return yml_fail(c, F->name[j], key, "unknown request '%s' (requests: %s)", name, list);
        }
        f->steps[j].req = i;
        const scn_request *r = &s->req[i];
        int missing = first_var(r->uses_vars & ~have);
        if (missing >= 0)
            return yml_fail(c, F->step[j], key,
                            "request %s uses {{%s}}, which no earlier step of the flow captures",
                            r->name, s->vars[missing]);
        have |= captured(r);
    }
    return 0;
}

/* The origin of a request's URL ("scheme://host:port") is the target's. */
static bool same_origin(const char *origin, const loader *L) {
    url u;
    char e[300];
    if (url_parse(origin, &u, e, sizeof e) < 0) return false;
    bool same = u.tls == L->tls && !strcasecmp(u.host, L->host) && u.port == L->port;
    url_free(&u);
    return same;
}

static int finish_root(const yml_ctx *c, const yml_val *x, void *obj) {
    loader *L = obj;
    scenario *s = L->s;
    const char *top = x->key && x->key[0] ? x->key : "(top level)";
    if (s->nreq == 0) {
        const yaml_node_t *k, *v = yml_find(c, x->v, "requests", &k);
        char key[YML_KEY_MAX];
        yml_join(key, x->key, "requests");
        return yml_fail(c, yml_where(k, v), key, "empty: give at least one request");
    }
    for (int i = 0; i < s->nreq; i++) {
        req_in *R = &L->rq[i];
        scn_request *r = R->r;
        r->weight = isnan(R->weight) ? (s->nflows ? 0 : 1) : R->weight;
        if (r->origin && s->target && !same_origin(r->origin, L)) {
            char key[YML_KEY_MAX];
            yml_join(key, R->key, "url");
            return yml_fail(c, R->url, key,
                            "the URL is on %s, not on the target %s: give a path (joined to the "
                            "target) or a URL on the target",
                            r->origin, s->target);
        }
    }
    for (int i = 0; i < s->nreq; i++)
        if (check_templates(c, s, &L->rq[i]) < 0) return -1;
    for (int i = 0; i < s->nreq; i++) {
        const scn_request *r = &s->req[i];
        int v = first_var(r->uses_vars);
        if (r->weight > 0 && v >= 0)
            return yml_fail(c, L->rq[i].k, L->rq[i].key,
                            "uses {{%s}} but has a weight: a request that needs a captured value "
                            "can only be a step of a flow (weight: 0)",
                            s->vars[v]);
    }
    for (int i = 0; i < s->nflows; i++)
        if (check_flow(c, s, &L->fl[i]) < 0) return -1;
    if (!(scenario_total_weight(s) > 0))
        return yml_fail(c, x->v, top, "nothing to send: every request and flow has weight 0");
    return 0;
}

/* ---- the tables and loading ------------------------------------------------------------------ */

static const yml_field root_rows[] = {
    {"target", YML_CUSTOM, 0, .fn = parse_target},
    {"requests", YML_EACH, 0, .what = "(NAME: {url: ..., method: ..., ...})", .fn = parse_request,
     .missing = "the requests (NAME: {url: /path, ...})"},
    {"flows", YML_EACH, 0, .what = "(NAME: {steps: [REQUEST, ...]})", .fn = parse_flow},
    {"thresholds", YML_LIST, 0, .what = "of conditions (- 'get.p99_ms<50')", .fn = parse_threshold},
    {0},
};
static const yml_table root_table = {"with requests (and target, flows, thresholds)", root_rows,
                                     finish_root};

int scenario_from_node(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v,
                       const char *key, scenario *s) {
    memset(s, 0, sizeof *s);
    if (!key) key = "";
    if (!(s->file = strdup(c->file)))
        return yml_fail(c, yml_where(k, v), key[0] ? key : "(top level)", "out of memory");
    loader *L = calloc(1, sizeof *L);
    if (!L) {
        scenario_free(s);
        return yml_fail(c, yml_where(k, v), key[0] ? key : "(top level)", "out of memory");
    }
    L->s = s;
    int rc = yml_walk(c, k, v, key, &root_table, L);
    free(L);
    if (rc < 0) scenario_free(s);
    return rc;
}

int scenario_load(const char *path, scenario *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    yaml_document_t doc;
    if (yml_load_file(path, &doc, err, errlen) < 0) return -1;
    yml_ctx c = {.doc = &doc, .file = path, .err = err, .errlen = errlen};
    const yaml_node_t *root = yaml_document_get_root_node(&doc), *lk = NULL, *lv = NULL;
    if (root && root->type == YAML_MAPPING_NODE && !yml_find(&c, root, "requests", NULL))
        lv = yml_find(&c, root, "load", &lk); /* brink.yaml: its load: section */
    int rc;
    if (!root) {
        rc = yml_fail(&c, NULL, "(top level)", "the file is empty");
    } else if (lv) {
        rc = scenario_from_node(&c, lk, lv, "load", s);
        /* without a target of its own, the section takes brink.yaml's (target.url) */
        const char *u = yml_str(yml_find(&c, yml_find(&c, root, "target", NULL), "url", NULL));
        if (rc == 0 && !s->target && u && !(s->target = strdup(u)))
            rc = yml_fail(&c, lk, "load", "out of memory");
    } else {
        rc = scenario_from_node(&c, NULL, root, "", s);
    }
    yaml_document_delete(&doc);
    if (rc < 0) scenario_free(s);
    return rc;
}
