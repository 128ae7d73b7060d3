/* probe_extract.c — the pure half of the probes (see probe.h): numbers out of Prometheus text,
 * out of JSON documents by path, and the path syntax that Redis replies share with JSON.
 *
 * Nothing here does I/O, so tests/unit/test_probe.c drives every branch with literal inputs.
 * The Prometheus parser follows the text exposition format 0.0.4: one sample per line,
 * `name{label="value",...} value [timestamp]`, label values with \\, \" and \n escapes, and
 * comment lines starting with '#'. A selector sums every sample that carries its labels, so that
 * `http_requests_total{route="webhook"}` adds up the status codes. */
#include "probe/probe.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

#define LABELS_MAX 16
#define LABEL_LEN  128

int probe_parse_number(const char *s, size_t len, double *out) {
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (!len || len >= 64) return -1;
    char buf[64];
    memcpy(buf, s, len);
    buf[len] = '\0';
    const char *b = buf;
    double sign = 1;
    if (*b == '+' || *b == '-') {
        if (*b == '-') sign = -1;
        b++;
    }
    if (!strcasecmp(b, "nan")) {
        *out = NAN;
        return 0;
    }
    if (!strcasecmp(b, "inf") || !strcasecmp(b, "infinity")) {
        *out = sign * INFINITY;
        return 0;
    }
    char *end;
    double v = strtod(buf, &end);
    if (end == buf || *end) return -1;
    *out = v;
    return 0;
}

/* ---- Prometheus ---------------------------------------------------------------------------- */

typedef struct label {
    char name[LABEL_LEN];
    char value[LABEL_LEN];
} label;

static bool name_char(char c, bool first) {
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* Reads a metric or label name at *p (up to end); 0 and *p advanced, or -1. */
static int read_name(const char **p, const char *end, char *out, size_t cap) {
    const char *s = *p;
    size_t n = 0;
    while (s < end && name_char(*s, n == 0)) {
        if (n + 1 >= cap) return -1;
        out[n++] = *s++;
    }
    if (!n) return -1;
    out[n] = '\0';
    *p = s;
    return 0;
}

static void skip_blank(const char **p, const char *end) {
    while (*p < end && (**p == ' ' || **p == '\t')) (*p)++;
}

/* {name="value",...} at *p (which points at '{'); 0 with the labels, or -1. Values longer than
 * LABEL_LEN - 1 are truncated (they then match nothing a selector can name). */
static int read_labels(const char **p, const char *end, label *ls, int *n) {
    const char *s = *p + 1;
    *n = 0;
    for (;;) {
        skip_blank(&s, end);
        if (s < end && *s == '}') {
            *p = s + 1;
            return 0;
        }
        label tmp, *l = *n < LABELS_MAX ? &ls[*n] : &tmp;
        if (read_name(&s, end, l->name, sizeof l->name) < 0) return -1;
        skip_blank(&s, end);
        if (s >= end || *s != '=') return -1;
        s++;
        skip_blank(&s, end);
        if (s >= end || *s != '"') return -1;
        s++;
        size_t k = 0;
        for (;;) {
            if (s >= end || *s == '\n') return -1;
            char c = *s++;
            if (c == '"') break;
            if (c == '\\') {
                if (s >= end) return -1;
                c = *s++;
                if (c == 'n') c = '\n';
            }
            if (k + 1 < sizeof l->value) l->value[k++] = c;
        }
        l->value[k] = '\0';
        if (*n < LABELS_MAX) (*n)++;
        skip_blank(&s, end);
        if (s < end && *s == ',') {
            s++;
            continue;
        }
        if (s < end && *s == '}') {
            *p = s + 1;
            return 0;
        }
        return -1;
    }
}

int probe_prom_value(const char *text, size_t len, const char *selector, double *out, char *err,
                     size_t errlen) {
    char want[256];
    label want_l[LABELS_MAX];
    int want_n = 0;
    const char *sp = selector, *send = selector + strlen(selector);
    skip_blank(&sp, send);
    if (read_name(&sp, send, want, sizeof want) < 0) {
        err_set(err, errlen, "metric selector '%s': want a metric name, e.g. name{label=\"v\"}",
                selector);
        return -1;
    }
    if (sp < send && *sp == '{' && read_labels(&sp, send, want_l, &want_n) < 0) {
        err_set(err, errlen, "metric selector '%s': malformed labels", selector);
        return -1;
    }
    skip_blank(&sp, send);
    if (sp != send) {
        err_set(err, errlen, "metric selector '%s': unexpected text after the labels", selector);
        return -1;
    }
    double sum = 0;
    int found = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        const char *s = p;
        p = eol ? eol + 1 : end;
        skip_blank(&s, le);
        if (s >= le || *s == '#') continue;
        char name[256];
        if (read_name(&s, le, name, sizeof name) < 0 || strcmp(name, want) != 0) continue;
        label ls[LABELS_MAX];
        int n = 0;
        if (s < le && *s == '{' && read_labels(&s, le, ls, &n) < 0) continue;
        if (s >= le || (*s != ' ' && *s != '\t')) continue;
        skip_blank(&s, le);
        size_t vl = strcspn(s, " \t\r\n");
        if (s + vl > le) vl = (size_t)(le - s);
        double v;
        if (probe_parse_number(s, vl, &v) < 0) continue;
        bool match = true;
        for (int i = 0; i < want_n && match; i++) {
            bool has = false;
            for (int j = 0; j < n; j++)
                if (!strcmp(ls[j].name, want_l[i].name) && !strcmp(ls[j].value, want_l[i].value))
                    has = true;
            match = has;
        }
        if (!match) continue;
        sum += v;
        found++;
    }
    if (!found) {
        err_set(err, errlen, "no sample of %s in the metrics", selector);
        return -1;
    }
    *out = sum;
    return 0;
}

/* ---- paths ----------------------------------------------------------------------------------- */

static int seg_copy(char *dst, size_t cap, const char *s, size_t n) {
    if (n == 0 || n >= cap) return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

int probe_path_parse(const char *path, probe_path_seg *segs, int *n, char *err, size_t errlen) {
    *n = 0;
    const char *p = path;
    if (!strcmp(p, ".")) return 0;
    bool first = true;
    while (*p) {
        if (*n == PROBE_PATH_MAX) {
            err_set(err, errlen, "path '%s': more than %d segments", path, PROBE_PATH_MAX);
            return -1;
        }
        probe_path_seg *g = &segs[*n];
        memset(g, 0, sizeof *g);
        if (*p == '[') {
            const char *rb = strchr(p, ']');
            if (!rb) goto bad;
            const char *in = p + 1;
            size_t len = (size_t)(rb - in);
            const char *eq = memchr(in, '=', len);
            if (eq) {
                g->type = PROBE_SEG_MATCH;
                if (seg_copy(g->key, sizeof g->key, in, (size_t)(eq - in)) < 0) goto bad;
                size_t vl = (size_t)(rb - eq - 1);
                if (vl >= sizeof g->value) goto bad;
                memcpy(g->value, eq + 1, vl);
                g->value[vl] = '\0';
            } else {
                g->type = PROBE_SEG_INDEX;
                if (!len || len > 9) goto bad;
                for (size_t i = 0; i < len; i++)
                    if (!isdigit((unsigned char)in[i])) goto bad;
                g->index = strtol(in, NULL, 10);
            }
            p = rb + 1;
        } else {
            if (*p == '.') {
                p++;
            } else if (!first) {
                goto bad;
            }
            size_t len = strcspn(p, ".[");
            g->type = PROBE_SEG_KEY;
            if (seg_copy(g->key, sizeof g->key, p, len) < 0) goto bad;
            p += len;
        }
        (*n)++;
        first = false;
    }
    return 0;
bad:
    err_set(err, errlen,
            "path '%s': want segments like .key, [0] or [key=value] (e.g. [name=group].lag)", path);
    return -1;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static bool json_matches(json_t *v, const char *want) {
    if (json_is_string(v)) return !strcmp(json_string_value(v), want);
    if (json_is_number(v)) {
        double w;
        return probe_parse_number(want, strlen(want), &w) == 0 && json_number_value(v) == w;
    }
    return false;
}

int probe_json_value(const char *text, size_t len, const char *path, double *out, char *err,
                     size_t errlen) {
    probe_path_seg segs[PROBE_PATH_MAX];
    int n;
    if (probe_path_parse(path, segs, &n, err, errlen) < 0) return -1;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY, &je);
    if (!root) {
        err_set(err, errlen, "not JSON: %s (line %d)", je.text, je.line);
        return -1;
    }
    json_t *v = root;
    int rc = -1;
    for (int i = 0; i < n && v; i++) {
        probe_path_seg *g = &segs[i];
        if (g->type == PROBE_SEG_KEY) {
            v = json_is_object(v) ? json_object_get(v, g->key) : NULL;
        } else if (g->type == PROBE_SEG_INDEX) {
            v = json_is_array(v) ? json_array_get(v, (size_t)g->index) : NULL;
        } else {
            json_t *hit = NULL, *el;
            size_t k;
            if (json_is_array(v)) {
                json_array_foreach(v, k, el) {
                    if (json_is_object(el) && json_matches(json_object_get(el, g->key), g->value)) {
                        hit = el;
                        break;
                    }
                }
            }
            v = hit;
        }
        if (!v) err_set(err, errlen, "path '%s' matches nothing (at segment %d)", path, i + 1);
    }
    if (v) {
        if (json_is_number(v)) {
            *out = json_number_value(v);
            rc = 0;
        } else if (json_is_boolean(v)) {
            *out = json_is_true(v) ? 1 : 0;
            rc = 0;
        } else if (json_is_string(v) &&
                   probe_parse_number(json_string_value(v), json_string_length(v), out) == 0) {
            rc = 0;
        } else {
            err_set(err, errlen, "path '%s' is not a number", path);
        }
    }
    json_decref(root);
    return rc;
}
