/* yml.c — the walker of brink's config files (see yml.h): line-numbered one-line errors, typed
 * scalar access, the one-document file loader (the file's size and nesting bounded before libyaml
 * builds the document: docs/config.md, "Limits"), and yml_walk, which checks a mapping against a
 * table of keys so that each loader (config/config.c, config/race_yaml.c, config/deps_yaml.c)
 * says what its keys are instead of looping over them. libyaml resolves no tags, so a scalar is a
 * string unless it is tagged otherwise or is a plain null (empty, ~, null); numbers, durations and
 * booleans are parsed here from the text, strictly. */
#include "core/yml.h"

#include "core/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/parse.h"

int yml_line(const yaml_node_t *n) {
    return n ? (int)n->start_mark.line + 1 : 1;
}

void yml_one_line(char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = ' ';
}

int yml_fail(const yml_ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char full[YML_KEY_MAX];
    if (c->prefix && c->prefix[0]) {
        if (key[0] == '(' || !key[0])
            snprintf(full, sizeof full, "%s", c->prefix);
        else
            yml_join(full, c->prefix, key);
        key = full;
    }
    err_set(c->err, c->errlen, "%s:%d: %s: %s", c->file, yml_line(n), key, msg);
    if (c->err && c->errlen) yml_one_line(c->err);
    return -1;
}

yaml_node_t *yml_node(const yml_ctx *c, int id) {
    return yaml_document_get_node(c->doc, id);
}

bool yml_is_null(const yaml_node_t *n) {
    if (!n) return true;
    if (n->type != YAML_SCALAR_NODE) return false;
    if (n->tag && !strcmp((const char *)n->tag, YAML_NULL_TAG)) return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

const char *yml_str(const yaml_node_t *n) {
    if (!n || n->type != YAML_SCALAR_NODE || yml_is_null(n)) return NULL;
    if (n->tag && strcmp((const char *)n->tag, YAML_STR_TAG)) return NULL;
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) != n->data.scalar.length) return NULL; /* holds a NUL byte */
    return v;
}

const char *yml_kind(const yaml_node_t *n) {
    if (yml_is_null(n)) return "nothing (null)";
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_SCALAR_NODE: return yml_str(n) ? "a string" : "a non-string scalar";
    default: return "nothing";
    }
}

const yaml_node_t *yml_where(const yaml_node_t *k, const yaml_node_t *v) {
    return yml_is_null(v) && k ? k : v;
}

void yml_join(char *out, const char *a, const char *b) {
    int n = a && *a ? snprintf(out, YML_KEY_MAX, "%s.%s", a, b ? b : "")
                    : snprintf(out, YML_KEY_MAX, "%s", b ? b : "");
    if (n >= YML_KEY_MAX) memcpy(out + YML_KEY_MAX - 4, "...", 4);
}

int yml_check_keys(const yml_ctx *c, const yaml_node_t *map, const char *key) {
    /* the scan below compares every pair of keys: bounded before it starts */
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (n > YML_MAX_KEYS)
        return yml_fail(c, map, key[0] ? key : "(top level)",
                        "%zu keys (a mapping holds at most %d)", n, YML_MAX_KEYS);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yml_node(c, p->key);
        const char *ks = yml_str(k);
        if (!ks)
            return yml_fail(c, k, key[0] ? key : "(top level)", "a key is %s, not a name",
                            yml_kind(k));
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *qk = yml_node(c, q->key);
            const char *qs = yml_str(qk);
            if (qs && !strcmp(qs, ks)) {
                char path[YML_KEY_MAX];
                yml_join(path, key, ks);
                return yml_fail(c, k, path, "duplicate key (first at line %d)", yml_line(qk));
            }
        }
    }
    return 0;
}

int yml_want_map(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                 const char *what) {
    if (!v || v->type != YAML_MAPPING_NODE)
        return yml_fail(c, yml_where(k, v), key[0] ? key : "(top level)",
                        "expected a mapping %s, found %s", what, yml_kind(v));
    return yml_check_keys(c, v, key);
}

/* ---- typed values ---------------------------------------------------------------------------- */

int yml_get_str(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                const char *what, char **out) {
    const char *s = yml_str(v);
    if (!s) return yml_fail(c, yml_where(k, v), key, "expected %s, found %s", what, yml_kind(v));
    free(*out);
    if (!(*out = strdup(s))) return yml_fail(c, v, key, "out of memory");
    return 0;
}

/* The text of a plain scalar (numbers, booleans, durations are untagged plain scalars). */
static const char *plain(const yaml_node_t *v) {
    if (!v || v->type != YAML_SCALAR_NODE || yml_is_null(v)) return NULL;
    const char *s = (const char *)v->data.scalar.value;
    return strlen(s) == v->data.scalar.length ? s : NULL;
}

int yml_get_duration(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                     int64_t min_ns, int64_t *out) {
    const char *s = yml_str(v);
    if (!s)
        return yml_fail(c, yml_where(k, v), key, "expected a duration (e.g. 10s, 500ms), found %s",
                        yml_kind(v));
    char e[200];
    int64_t ns;
    if (parse_duration_ns(s, &ns, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
    if (ns < min_ns) {
        if (min_ns == 1) return yml_fail(c, v, key, "must be more than 0");
        if (min_ns > 1) return yml_fail(c, v, key, "must be at least %gs", (double)min_ns / 1e9);
        return yml_fail(c, v, key, "must not be negative");
    }
    *out = ns;
    return 0;
}

int yml_get_number(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                   double min, double max, double *out) {
    const char *s = plain(v);
    char *end = NULL;
    errno = 0;
    double d = s ? strtod(s, &end) : NAN;
    if (!s || !*s || *end || errno || !isfinite(d))
        return yml_fail(c, yml_where(k, v), key, "expected a number, found %s%s%s%s", yml_kind(v),
                        s ? " '" : "", s ? s : "", s ? "'" : "");
    if (d < min || d > max)
        return yml_fail(c, v, key, "%g is out of range (%g to %g)", d, min, max);
    *out = d;
    return 0;
}

int yml_get_int(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                int64_t min, int64_t max, int64_t *out) {
    const char *s = plain(v);
    if (!s)
        return yml_fail(c, yml_where(k, v), key, "expected a whole number, found %s", yml_kind(v));
    char e[200];
    if (parse_int(s, min, max, out, e, sizeof e) < 0) return yml_fail(c, v, key, "%s", e);
    return 0;
}

int yml_get_bool(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
                 bool *out) {
    const char *s = plain(v);
    if (s && (!strcmp(s, "true") || !strcmp(s, "false"))) {
        *out = s[0] == 't';
        return 0;
    }
    return yml_fail(c, yml_where(k, v), key, "expected true or false, found %s%s%s%s", yml_kind(v),
                    s ? " '" : "", s ? s : "", s ? "'" : "");
}

static bool token_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr("!#$%&'*+-.^_`|~", ch);
}

int yml_header(const yml_ctx *c, const yaml_node_t *at, const char *key, const char *name,
               size_t name_len, const char *value, char **out) {
    if (name_len == 0) return yml_fail(c, at, key, "a header without a name");
    for (size_t i = 0; i < name_len; i++)
        if (!token_char(name[i]))
            return yml_fail(c, at, key,
                            "header name '%.*s' holds a character not allowed in a name",
                            (int)name_len, name);
    if (strpbrk(value, "\r\n")) return yml_fail(c, at, key, "a header value holds a line break");
    size_t len = name_len + strlen(value) + 3;
    if (!(*out = malloc(len))) return yml_fail(c, at, key, "out of memory");
    snprintf(*out, len, "%.*s: %s", (int)name_len, name, value);
    return 0;
}

int yml_check_placeholders(const yml_ctx *c, const yaml_node_t *v, const char *key, const char *s,
                           const char *allowed, bool engine) {
    static const char *const engine_names[] = {"seq",  "uuid",   "now_s", "now_ms",
                                               "conn", "thread", "run"};
    for (const char *p = strstr(s, "{{"); p; p = strstr(p + 2, "{{")) {
        const char *e = strstr(p + 2, "}}");
        if (!e) return yml_fail(c, v, key, "'{{' without a closing '}}'");
        size_t n = (size_t)(e - p - 2);
        bool ok = false;
        for (const char *a = allowed; *a && !ok;) {
            size_t al = strcspn(a, "|");
            if (al == n && !strncmp(a, p + 2, n)) ok = true;
            a += al + (a[al] == '|');
        }
        for (size_t i = 0; engine && !ok && i < sizeof engine_names / sizeof *engine_names; i++)
            if (strlen(engine_names[i]) == n && !strncmp(engine_names[i], p + 2, n)) ok = true;
        if (engine && !ok && n > 5 && !strncmp(p + 2, "rand:", 5)) ok = true;
        if (!ok) {
            char list[200];
            size_t o = 0;
            list[0] = '\0';
            for (const char *a = allowed; *a && o + 16 < sizeof list;) {
                size_t al = strcspn(a, "|");
                o += (size_t)snprintf(list + o, sizeof list - o, "%s{{%.*s}}", o ? ", " : "",
                                      (int)al, a);
                a += al + (a[al] == '|');
            }
            return yml_fail(
                c, v, key, "unknown placeholder {{%.*s}} (here: %s%s)", (int)n, p + 2, list,
                engine ? " and the load engine's {{seq}}, {{uuid}}, {{rand:A-B}}, ..." : "");
        }
        p = e;
    }
    return 0;
}

/* ---- tables ----------------------------------------------------------------------------------
 */

char *yml_relative_to(const char *file, const char *p) {
    if (p[0] == '/' || !strchr(file, '/')) return strdup(p);
    size_t dl = (size_t)(strrchr(file, '/') - file);
    size_t n = dl + strlen(p) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s/%s", (int)dl, file, p);
    return out;
}

const yaml_node_t *yml_find(const yml_ctx *c, const yaml_node_t *map, const char *name,
                            const yaml_node_t **key_node) {
    if (key_node) *key_node = NULL;
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yml_node(c, p->key);
        const char *ks = yml_str(k);
        if (ks && !strcmp(ks, name)) {
            if (key_node) *key_node = k;
            return yml_node(c, p->value);
        }
    }
    return NULL;
}

#define MAX_ROWS 64

/* The keys a table wants (included tables' too, hidden rows left out); how many. */
static size_t row_names(const yml_field *rows, const char **out, size_t n) {
    for (const yml_field *f = rows; f->type != YML_END && n < MAX_ROWS; f++) {
        if (f->type == YML_INCLUDE)
            n = row_names(f->sub->rows, out, n);
        else if (!f->hidden)
            out[n++] = f->key;
    }
    return n;
}

/* The row of name (in an included table too, *obj then moved to its object), or NULL. */
static const yml_field *find_row(const yml_field *rows, const char *name, char **obj) {
    for (const yml_field *f = rows; f->type != YML_END; f++) {
        if (f->type == YML_INCLUDE) {
            char *o = *obj + f->off;
            const yml_field *r = find_row(f->sub->rows, name, &o);
            if (r) {
                *obj = o;
                return r;
            }
        } else if (!strcmp(f->key, name)) {
            return f;
        }
    }
    return NULL;
}

/* "unknown key (want a, b or c); did you mean 'b'?" */
static int unknown_key(const yml_ctx *c, const yaml_node_t *k, const char *key, const char *name,
                       const yml_field *rows) {
    const char *names[MAX_ROWS];
    size_t n = row_names(rows, names, 0);
    char list[400];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
                              i == 0       ? ""
                              : i + 1 == n ? " or "
                                           : ", ",
                              names[i]);
    const char *close = cli_suggest(name, names, n);
    if (close) return yml_fail(c, k, key, "unknown key (want %s); did you mean '%s'?", list, close);
    return yml_fail(c, k, key, "unknown key (want %s)", list);
}

/* A string into a fixed buffer of cap bytes: not empty, not cut. */
static int get_text(const yml_ctx *c, const yml_val *x, size_t cap) {
    char *s = NULL;
    if (yml_get_str(c, x->k, x->v, x->key, "a string", &s) < 0) return -1;
    size_t n = strlen(s);
    if (n < cap) memcpy(x->dst, s, n + 1);
    free(s);
    if (n >= cap) return yml_fail(c, x->v, x->key, "longer than %zu bytes", cap - 1);
    if (!n) return yml_fail(c, x->v, x->key, "empty");
    return 0;
}

static int get_file(const yml_ctx *c, const yml_val *x) {
    char *s = NULL, **dst = x->dst;
    if (yml_get_str(c, x->k, x->v, x->key, x->f->what, &s) < 0) return -1;
    free(*dst);
    *dst = yml_relative_to(c->file, s);
    free(s);
    return *dst ? 0 : yml_fail(c, x->v, x->key, "out of memory");
}

/* One value by its row; obj is the object the row's offset is into. */
static int field(const yml_ctx *c, const yml_field *f, yml_val *x, char *obj) {
    x->dst = obj + f->off;
    x->f = f;
    int64_t i;
    int rc;
    switch (f->type) {
    case YML_STR: rc = yml_get_str(c, x->k, x->v, x->key, f->what, (char **)x->dst); break;
    case YML_FILE: rc = get_file(c, x); break;
    case YML_TEXT: rc = get_text(c, x, (size_t)f->max); break;
    case YML_DURATION:
        rc = yml_get_duration(c, x->k, x->v, x->key, (int64_t)f->min, (int64_t *)x->dst);
        break;
    case YML_NUMBER: rc = yml_get_number(c, x->k, x->v, x->key, f->min, f->max, x->dst); break;
    case YML_INT:
        rc = yml_get_int(c, x->k, x->v, x->key, (int64_t)f->min, (int64_t)f->max, &i);
        if (rc == 0) *(int *)x->dst = (int)i;
        break;
    case YML_BOOL: rc = yml_get_bool(c, x->k, x->v, x->key, (bool *)x->dst); break;
    case YML_MAP: return yml_walk(c, x->k, x->v, x->key, f->sub, x->dst);
    case YML_EACH: return yml_each(c, x->k, x->v, x->key, f->what, f->fn, x->dst);
    case YML_LIST: return yml_items(c, x->k, x->v, x->key, f->what, f->fn, x->dst);
    case YML_CUSTOM: return f->fn(c, x, obj);
    default: return yml_fail(c, x->k, x->key, "a table row without a kind (a bug)");
    }
    if (rc == 0 && f->fn) rc = f->fn(c, x, obj);
    return rc;
}

/* The first required key of rows that map lacks: "missing: ...". */
static int check_required(const yml_ctx *c, const yaml_node_t *at, const yaml_node_t *map,
                          const char *key, const yml_field *rows) {
    for (const yml_field *f = rows; f->type != YML_END; f++) {
        if (f->type == YML_INCLUDE) {
            if (check_required(c, at, map, key, f->sub->rows) < 0) return -1;
        } else if (f->missing && !yml_find(c, map, f->key, NULL)) {
            char path[YML_KEY_MAX];
            yml_join(path, key, f->key);
            return yml_fail(c, at, path, "missing: %s", f->missing);
        }
    }
    return 0;
}

int yml_walk(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
             const yml_table *t, void *obj) {
    if (yml_want_map(c, k, v, key, t->what) < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yml_val x = {.k = yml_node(c, p->key), .v = yml_node(c, p->value)};
        const char *name = yml_str(x.k);
        char path[YML_KEY_MAX];
        yml_join(path, key, name);
        x.key = path;
        char *o = obj;
        const yml_field *f = find_row(t->rows, name, &o);
        if (!f) return unknown_key(c, x.k, path, name, t->rows);
        if (field(c, f, &x, o) < 0) return -1;
    }
    if (check_required(c, k ? k : v, v, key, t->rows) < 0) return -1;
    if (!t->finish) return 0;
    yml_val self = {.k = k, .v = v, .key = key, .dst = obj};
    return t->finish(c, &self, obj);
}

int yml_each(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
             const char *what, yml_fn fn, void *obj) {
    if (yml_want_map(c, k, v, key, what) < 0) return -1;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yml_val x = {.k = yml_node(c, p->key), .v = yml_node(c, p->value), .dst = obj};
        char path[YML_KEY_MAX];
        yml_join(path, key, yml_str(x.k));
        x.key = path;
        if (fn(c, &x, obj) < 0) return -1;
    }
    return 0;
}

int yml_items(const yml_ctx *c, const yaml_node_t *k, const yaml_node_t *v, const char *key,
              const char *what, yml_fn fn, void *obj) {
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return yml_fail(c, yml_where(k, v), key, "expected a list %s, found %s", what, yml_kind(v));
    int i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        char path[YML_KEY_MAX];
        snprintf(path, sizeof path, "%s[%d]", key, i++);
        yml_val x = {.v = yml_node(c, *it), .key = path, .dst = obj};
        if (fn(c, &x, obj) < 0) return -1;
    }
    return 0;
}

/* ---- loading -----------------------------------------------------------------------------------
 */

/* The line of byte offset off in text (libyaml's reader errors give only an offset). */
static int line_at_offset(const char *text, size_t len, size_t off) {
    int line = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (text[i] == '\n') line++;
    return line;
}

static void syntax_error(const char *file, const char *text, size_t len, const yaml_parser_t *p,
                         char *err, size_t errlen) {
    const char *problem = p->problem ? p->problem : "unknown error";
    if (p->error == YAML_MEMORY_ERROR) {
        err_set(err, errlen, "%s: out of memory while reading it", file);
    } else if (p->error == YAML_READER_ERROR) {
        err_set(err, errlen, "%s:%d: not valid YAML text: %s (byte %zu)", file,
                line_at_offset(text, len, p->problem_offset), problem, p->problem_offset);
    } else if (p->context) {
        err_set(err, errlen, "%s:%d: YAML syntax error: %s (%s at line %d)", file,
                (int)p->problem_mark.line + 1, problem, p->context, (int)p->context_mark.line + 1);
    } else {
        err_set(err, errlen, "%s:%d: YAML syntax error: %s", file, (int)p->problem_mark.line + 1,
                problem);
    }
    if (err && errlen) yml_one_line(err);
}

/* The whole file into a malloc'd buffer (*len bytes), or NULL with a reason: it cannot be read,
 * or it holds more than YML_MAX_BYTES (refused before anything parses it). */
static char *read_text(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    long long size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size : -1;
    /* a buffer the size of the file (one byte more shows a file that grew), else 64 KiB that
     * doubles as a pipe's text comes, up to the limit and one byte */
    size_t cap = size >= 0 && size < YML_MAX_BYTES ? (size_t)size + 2 : 65536, n = 0;
    char *buf = malloc(cap);
    int read_errno = 0;
    while (buf && n <= YML_MAX_BYTES) {
        if (n == cap) {
            size_t nc = cap * 2 > YML_MAX_BYTES + 1 ? YML_MAX_BYTES + 1 : cap * 2;
            char *nb = realloc(buf, nc); /* (here cap <= the limit, so nc > cap) */
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            read_errno = ferror(f) ? errno : 0;
            break;
        }
    }
    fclose(f);
    if (!buf) {
        err_set(err, errlen, "%s: out of memory while reading it", path);
    } else if (read_errno) {
        err_set(err, errlen, "cannot read %s: %s", path, strerror(read_errno));
    } else if (n > YML_MAX_BYTES) {
        if (size > YML_MAX_BYTES)
            err_set(err, errlen, "%s: too big (%lld bytes; a config file holds at most 1 MiB)",
                    path, size);
        else
            err_set(err, errlen,
                    "%s: too big (more than %d bytes; a config file holds at most 1 MiB)", path,
                    YML_MAX_BYTES);
    } else {
        *len = n;
        return buf;
    }
    free(buf);
    return NULL;
}

/* The anchor (&name) an event defines, or NULL. */
static const yaml_char_t *anchor_of(const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT: return ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT: return ev->data.mapping_start.anchor;
    default: return NULL;
    }
}

/* The first pass, over events only, refuses before libyaml builds the document what would make it
 * slow: a nesting deeper than YML_MAX_DEPTH (its scanner's work at each token grows with the
 * depth) and more than YML_MAX_ANCHORS anchors (it compares each anchor, and each alias, with
 * every anchor before it); syntax errors are found too. 0, or -1 with one line. */
static int check_shape(const char *path, const char *text, size_t len, char *err, size_t errlen) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        err_set(err, errlen, "%s: out of memory while reading it", path);
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int depth = 0, anchors = 0, rc = 0;
    for (bool end = false; !end && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(path, text, len, &p, err, errlen);
            rc = -1;
            break;
        }
        if (anchor_of(&ev) && ++anchors > YML_MAX_ANCHORS) {
            err_set(err, errlen, "%s:%d: more than %d anchors (&%.60s)", path,
                    (int)ev.start_mark.line + 1, YML_MAX_ANCHORS, (const char *)anchor_of(&ev));
            rc = -1;
        }
        switch (ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > YML_MAX_DEPTH && rc == 0) {
                err_set(err, errlen, "%s:%d: nested more than %d levels deep", path,
                        (int)ev.start_mark.line + 1, YML_MAX_DEPTH);
                rc = -1;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: depth--; break;
        case YAML_STREAM_END_EVENT: end = true; break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

int yml_load_file(const char *path, yaml_document_t *doc, char *err, size_t errlen) {
    size_t len = 0;
    char *text = read_text(path, &len, err, errlen);
    if (!text) return -1;
    if (check_shape(path, text, len, err, errlen) < 0) {
        free(text);
        return -1;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        free(text);
        err_set(err, errlen, "%s: out of memory while reading it", path);
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int rc = -1;
    if (!yaml_parser_load(&p, doc)) {
        syntax_error(path, text, len, &p, err, errlen);
    } else { /* one document only: a second one would be silently ignored */
        yaml_document_t more;
        if (!yaml_parser_load(&p, &more)) {
            syntax_error(path, text, len, &p, err, errlen);
        } else {
            yaml_node_t *r = yaml_document_get_root_node(&more);
            if (r)
                err_set(err, errlen,
                        "%s:%d: a second YAML document (put everything in the first one)", path,
                        yml_line(r));
            else
                rc = 0;
            yaml_document_delete(&more);
        }
        if (rc < 0) yaml_document_delete(doc);
    }
    yaml_parser_delete(&p);
    free(text);
    return rc;
}
