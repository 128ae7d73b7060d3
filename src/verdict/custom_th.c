/* custom_th.c — --threshold conditions on any run (custom_th.h). */
#include "verdict/custom_th.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"

static const char *const op_text[] = {"<", "<=", ">", ">="};

/* An operator at s: its length, or 0. */
static size_t read_op(const char *s, custom_op *op) {
    if (s[0] == '<')
        *op = s[1] == '=' ? CT_LE : CT_LT;
    else if (s[0] == '>')
        *op = s[1] == '=' ? CT_GE : CT_GT;
    else
        return 0;
    return s[1] == '=' ? 2 : 1;
}

/* A number at s (after blanks): where it ends, or NULL. */
static const char *read_number(const char *s, double *v) {
    while (*s == ' ') s++;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || errno || !isfinite(*v)) return NULL;
    return end;
}

static bool above(custom_op op) { /* the metric must stay under the bound */
    return op == CT_LT || op == CT_LE;
}

int custom_th_parse(const char *s, custom_th *t, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    snprintf(t->text, sizeof t->text, "%s", s);
    const char *p = s;
    while (*p == ' ') p++;
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '.') n++;
    if (n == 0 || n >= sizeof t->metric) {
        err_set(err, errlen,
                "--threshold '%s': want METRIC<VALUE, e.g. p99_ms<500 (operators < "
                "<= > >=; an orange bound after it: 'p99_ms<500 orange<250')",
                s);
        return -1;
    }
    memcpy(t->metric, p, n);
    p += n;
    while (*p == ' ') p++;
    size_t k = read_op(p, &t->op);
    if (!k || !(p = read_number(p + k, &t->red))) {
        err_set(err, errlen,
                "--threshold '%s': want METRIC<VALUE after the name (operators < <= > "
                ">=)",
                s);
        return -1;
    }
    while (*p == ' ') p++;
    if (!strncmp(p, "orange", 6)) {
        p += 6;
        while (*p == ' ') p++;
        if (!(k = read_op(p, &t->orange_op)) || !(p = read_number(p + k, &t->orange))) {
            err_set(err, errlen, "--threshold '%s': want 'orange<VALUE' after the condition", s);
            return -1;
        }
        if (above(t->orange_op) != above(t->op)) {
            err_set(err, errlen,
                    "--threshold '%s': the orange bound goes the same way as the "
                    "condition",
                    s);
            return -1;
        }
        if (above(t->op) ? t->orange > t->red : t->orange < t->red) {
            err_set(err, errlen,
                    "--threshold '%s': the orange bound must come before the red one "
                    "(%s %g, then %g)",
                    s, above(t->op) ? "below" : "above", t->orange, t->red);
            return -1;
        }
        t->has_orange = true;
        while (*p == ' ') p++;
    }
    if (*p) {
        err_set(err, errlen, "--threshold '%s': unexpected '%s'", s, p);
        return -1;
    }
    if (t->has_orange)
        snprintf(t->what, sizeof t->what, "your threshold: %s%s%g, orange unless %s%s%g", t->metric,
                 op_text[t->op], t->red, t->metric, op_text[t->orange_op], t->orange);
    else
        snprintf(t->what, sizeof t->what, "your threshold: %s%s%g", t->metric, op_text[t->op],
                 t->red);
    return 0;
}

int custom_th_add(const char *value, void *dest, char *err, size_t errlen) {
    custom_th_list *l = dest;
    if (l->n == CUSTOM_TH_MAX) {
        err_set(err, errlen, "too many --threshold options (at most %d)", CUSTOM_TH_MAX);
        return -1;
    }
    if (custom_th_parse(value, &l->t[l->n], err, errlen) < 0) return -1;
    l->n++;
    return 0;
}

/* names[0..n) as "a, b, c" in out (cut where it does not fit). */
static void join(char *out, size_t size, const char *const *names, int n) {
    size_t o = 0;
    out[0] = '\0';
    for (int k = 0; k < n && o + 2 < size; k++)
        o += (size_t)snprintf(out + o, size - o, "%s%s", k ? ", " : "", names[k]);
}

int custom_th_check(const custom_th_list *l, const char *const *names, int n, char *err,
                    size_t errlen) {
    for (int i = 0; i < l->n; i++) {
        bool known = false;
        for (int k = 0; k < n && !known; k++) known = !strcmp(names[k], l->t[i].metric);
        if (known) continue;
        char list[1536];
        join(list, sizeof list, names, n);
        err_set(err, errlen, "--threshold '%s': unknown metric '%s' (this run has: %s)",
                l->t[i].text, l->t[i].metric, list);
        return -1;
    }
    return 0;
}

static bool holds(custom_op op, double v, double bound) {
    switch (op) {
    case CT_LT: return v < bound;
    case CT_LE: return v <= bound;
    case CT_GT: return v > bound;
    default: return v >= bound;
    }
}

int custom_th_check_named(const custom_th_list *l, const char *const *names, int n,
                          const char *const *reqs, int nreq, const char *const *req_metrics,
                          char *err, size_t errlen) {
    custom_th_list plain; /* the conditions without a dot */
    plain.n = 0;
    for (int i = 0; i < l->n; i++) {
        const custom_th *t = &l->t[i];
        const char *dot = strchr(t->metric, '.');
        if (!dot) {
            plain.t[plain.n++] = *t;
            continue;
        }
        char name[sizeof t->metric];
        snprintf(name, sizeof name, "%.*s", (int)(dot - t->metric), t->metric);
        bool known = false;
        for (int k = 0; k < nreq && !known; k++) known = !strcmp(reqs[k], name);
        if (!known) {
            if (!nreq) {
                err_set(err, errlen, "--threshold '%s': NAME.metric needs a scenario (-f FILE)",
                        t->text);
                return -1;
            }
            char list[1024];
            join(list, sizeof list, reqs, nreq);
            err_set(err, errlen,
                    "--threshold '%s': no request of the scenario is called %s (its requests: %s)",
                    t->text, name, list);
            return -1;
        }
        int nm = 0;
        while (req_metrics[nm]) nm++;
        for (int k = 0; k < nm && known; k++) known = strcmp(req_metrics[k], dot + 1) != 0;
        if (known) { /* not among them */
            char list[1024];
            join(list, sizeof list, req_metrics, nm);
            err_set(err, errlen, "--threshold '%s': unknown metric '%s' of request %s (want %s)",
                    t->text, dot + 1, name, list);
            return -1;
        }
    }
    return custom_th_check(&plain, names, n, err, errlen);
}

th_status custom_th_apply(const custom_th_list *l, json_t *doc, th_result *rs, int *nrs, int max) {
    th_status worst = TH_GREEN;
    if (!l || !l->n) return worst;
    json_t *th = json_object_get(doc, "thresholds"), *adv = json_object_get(doc, "advice");
    if (!json_is_array(th)) json_object_set_new(doc, "thresholds", th = json_array());
    if (!json_is_array(adv)) json_object_set_new(doc, "advice", adv = json_array());
    const json_t *stats = json_object_get(doc, "stats");
    for (int i = 0; i < l->n; i++) {
        const custom_th *t = &l->t[i];
        th_result r;
        memset(&r, 0, sizeof r);
        r.def = (th_def){.metric = t->metric,
                         .test = "custom",
                         .unit = "",
                         .dir = above(t->op) ? TH_ABOVE : TH_BELOW,
                         .orange = t->has_orange ? t->orange : t->red,
                         .red = t->red,
                         .what = t->what,
                         .remedy = "the run did not meet the threshold you set on it"};
        r.overridden = true;
        const json_t *v = json_object_get(stats, t->metric);
        const char *dot = strchr(t->metric, '.');
        if (!v && dot) { /* NAME.metric: a scenario's request NAME, in .by_name */
            char name[sizeof t->metric];
            snprintf(name, sizeof name, "%.*s", (int)(dot - t->metric), t->metric);
            v = json_object_get(json_object_get(json_object_get(doc, "by_name"), name), dot + 1);
        }
        r.value = json_is_number(v) ? json_number_value(v) : NAN;
        if (isnan(r.value))
            r.status = TH_SKIPPED;
        else if (!holds(t->op, r.value, t->red))
            r.status = TH_RED;
        else if (t->has_orange && !holds(t->orange_op, r.value, t->orange))
            r.status = TH_ORANGE;
        else
            r.status = TH_GREEN;
        if (isnan(r.value))
            snprintf(r.evidence, sizeof r.evidence, "%s: the run has no value for %s", t->text,
                     t->metric);
        else
            snprintf(r.evidence, sizeof r.evidence, "%s = %g (%s)", t->metric, r.value, t->text);
        if (r.status != TH_SKIPPED && r.status > worst) worst = r.status;
        json_t *one = threshold_json(&r, 1), *a = threshold_advice_json(&r, 1);
        json_array_extend(th, one);
        json_array_extend(adv, a);
        json_decref(one);
        json_decref(a);
        if (rs && nrs && *nrs < max) rs[(*nrs)++] = r;
    }
    return worst;
}

th_status custom_th_report(const custom_th_list *l, json_t *doc, FILE *out) {
    th_result rs[CUSTOM_TH_MAX];
    int nrs = 0;
    th_status worst = custom_th_apply(l, doc, rs, &nrs, CUSTOM_TH_MAX);
    if (nrs) {
        fprintf(out, "\n  thresholds (--threshold)\n");
        threshold_print(out, rs, nrs);
    }
    return worst;
}
