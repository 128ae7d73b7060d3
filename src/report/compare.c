/* compare.c — before and after, from result documents alone (DESIGN.md: reports read only the
 * document). Documents are paired by test (and mode), every numeric .stats key present on both
 * sides becomes a row (a run of an "all" document adds its own rows as "mode/key"), and a row
 * is a regression when it moved the wrong way by more than the tolerance, relative to before.
 * The wrong way is the threshold's: the document says it (.thresholds[].direction), and the
 * default table knows the rest; a metric nobody judges is shown but never flagged, so that
 * `brink compare` fails a CI job only for numbers that have a verdict. */
#include "report/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "verdict/threshold.h"

bool compare_is_regression(compare_dir dir, double before, double after, double tolerance) {
    if (!isfinite(before) || !isfinite(after) || !(tolerance >= 0)) return false;
    double slack = fabs(before) * tolerance;
    if (dir == COMPARE_ABOVE) return after > before + slack;
    if (dir == COMPARE_BELOW) return after < before - slack;
    return false;
}

/* The threshold table's name for a document's test. */
static const char *table_test(const char *test) {
    if (!strcmp(test, "redis-failure")) return "redis";
    if (!strcmp(test, "db-restart")) return "db";
    if (!strcmp(test, "load")) return "webhook";
    return test;
}

static compare_dir dir_of(th_dir d) {
    return d == TH_ABOVE ? COMPARE_ABOVE : COMPARE_BELOW;
}

compare_dir compare_direction(const json_t *doc, const char *metric) {
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "thresholds"), i, t) {
        if (strcmp(jx_str(t, "metric"), metric)) continue;
        const char *d = jx_str(t, "direction");
        if (!strcmp(d, "above")) return COMPARE_ABOVE;
        if (!strcmp(d, "below")) return COMPARE_BELOW;
    }
    const th_def *d = threshold_find(table_test(jx_str(doc, "test")), metric);
    if (d) return dir_of(d->dir);
    d = threshold_find("resources", metric);
    if (d) return dir_of(d->dir);
    int n;
    const th_def *all = threshold_defaults(&n);
    compare_dir found = COMPARE_UNKNOWN;
    for (int k = 0; k < n; k++) {
        if (strcmp(all[k].metric, metric)) continue;
        if (found != COMPARE_UNKNOWN && found != dir_of(all[k].dir)) return COMPARE_UNKNOWN;
        found = dir_of(all[k].dir);
    }
    return found;
}

void compare_doc_key(const json_t *doc, char *out, size_t outlen) {
    const char *t = jx_str(doc, "test"), *m = jx_str(doc, "mode");
    snprintf(out, outlen, "%s%s%s", t[0] ? t : "unknown", m[0] ? "/" : "", m);
}

static int add_row(compare_pair *p, int *cap, const json_t *dirdoc, const char *prefix,
                   const char *key, const json_t *bv, const json_t *av, double tol) {
    if (!json_is_number(bv) || !json_is_number(av)) return 0;
    if (p->nrows == *cap) {
        int ncap = *cap ? *cap * 2 : 32;
        compare_row *r = realloc(p->rows, sizeof *r * (size_t)ncap);
        if (!r) return -1;
        p->rows = r;
        *cap = ncap;
    }
    compare_row *r = &p->rows[p->nrows++];
    memset(r, 0, sizeof *r);
    snprintf(r->metric, sizeof r->metric, "%s%s%s", prefix ? prefix : "", prefix ? "/" : "", key);
    r->before = json_number_value(bv);
    r->after = json_number_value(av);
    r->ratio = r->before != 0 ? r->after / r->before : NAN;
    r->dir = compare_direction(dirdoc, key);
    r->regression = compare_is_regression(r->dir, r->before, r->after, tol);
    if (r->regression) p->regressions++;
    return 0;
}

static int add_stats(compare_pair *p, int *cap, const json_t *b, const json_t *a,
                     const char *prefix, double tol) {
    const json_t *bs = json_object_get(b, "stats"), *as = json_object_get(a, "stats");
    const char *key;
    json_t *bv;
    json_object_foreach((json_t *)bs, key, bv) {
        if (add_row(p, cap, a, prefix, key, bv, json_object_get(as, key), tol) < 0) return -1;
    }
    return 0;
}

/* Runs of "all" documents (.runs[], each a document with a mode) compared mode by mode. */
static int add_runs(compare_pair *p, int *cap, const json_t *b, const json_t *a, double tol) {
    size_t i, j;
    json_t *rb, *ra;
    json_array_foreach(json_object_get(b, "runs"), i, rb) {
        const char *mode = jx_str(rb, "mode");
        if (!mode[0]) continue;
        json_array_foreach(json_object_get(a, "runs"), j, ra) {
            if (strcmp(jx_str(ra, "mode"), mode)) continue;
            if (add_stats(p, cap, rb, ra, mode, tol) < 0) return -1;
            break;
        }
    }
    return 0;
}

/* The offered rate of a run: .stats.offered_rps, else a configured .config.rate; NaN (closed). */
static double offered(const json_t *doc) {
    double v = jx_num(json_object_get(doc, "stats"), "offered_rps");
    if (!isfinite(v)) v = jx_num(json_object_get(doc, "config"), "rate");
    return isfinite(v) && v > 0 ? v : NAN;
}

static bool apart(double x, double y) {
    return fabs(x - y) > 0.01 * fmax(fabs(x), fabs(y));
}

void compare_differences(const json_t *b, const json_t *a, char *out, size_t outlen) {
    size_t k = 0;
    out[0] = '\0';
#define DIFF(...)                                                                                  \
    do {                                                                                           \
        if (k < outlen) k += (size_t)snprintf(out + k, outlen - k, "%s", k ? "; " : "");           \
        if (k < outlen) k += (size_t)snprintf(out + k, outlen - k, __VA_ARGS__);                   \
    } while (0)
    const char *pb = jx_str(b, "profile"), *pa = jx_str(a, "profile");
    if (strcmp(pb, pa)) DIFF("profile %s vs %s", pb[0] ? pb : "none", pa[0] ? pa : "none");
    double rb = offered(b), ra = offered(a);
    if (isfinite(rb) && isfinite(ra) && apart(rb, ra))
        DIFF("offered rate %g/s vs %g/s", rb, ra);
    else if (isfinite(rb) != isfinite(ra))
        DIFF("%s model vs %s model", isfinite(rb) ? "open" : "closed",
             isfinite(ra) ? "open" : "closed");
    double db = jx_num(json_object_get(b, "config"), "duration_s"),
           da = jx_num(json_object_get(a, "config"), "duration_s");
    if (isfinite(db) && isfinite(da) && db > 0 && da > 0 && apart(db, da))
        DIFF("duration %g s vs %g s", db, da);
    bool ib = json_is_true(json_object_get(json_object_get(b, "stats"), "interrupted")),
         ia = json_is_true(json_object_get(json_object_get(a, "stats"), "interrupted"));
    if (ib || ia)
        DIFF("%s interrupted", ib && ia ? "both runs were" : ib ? "BEFORE was" : "AFTER was");
    const char *vb = jx_str(b, "brink_version"), *va = jx_str(a, "brink_version");
    if (vb[0] && va[0] && strcmp(vb, va)) DIFF("brink %s vs %s", vb, va);
#undef DIFF
}

static int pair_docs(compare_result *r, const json_t *b, const char *bname, const json_t *a,
                     const char *aname) {
    compare_pair *pp = realloc(r->pairs, sizeof *pp * (size_t)(r->npairs + 1));
    if (!pp) return -1;
    r->pairs = pp;
    compare_pair *p = &pp[r->npairs++];
    memset(p, 0, sizeof *p);
    compare_doc_key(a, p->key, sizeof p->key);
    p->before_name = bname;
    p->after_name = aname;
    compare_differences(b, a, p->differs, sizeof p->differs);
    int cap = 0;
    if (add_stats(p, &cap, b, a, NULL, r->tolerance) < 0) return -1;
    if (add_runs(p, &cap, b, a, r->tolerance) < 0) return -1;
    r->regressions += p->regressions;
    return 0;
}

static const char *base(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int count_key(json_t *const *docs, int n, const char *key) {
    int c = 0;
    char k[160];
    for (int i = 0; i < n; i++) {
        compare_doc_key(docs[i], k, sizeof k);
        if (!strcmp(k, key)) c++;
    }
    return c;
}

int compare_sets(json_t *const *before, const char *const *bnames, int nb, json_t *const *after,
                 const char *const *anames, int na, double tolerance, bool force,
                 compare_result *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->tolerance = tolerance;
    bool *bused = calloc((size_t)nb + 1, sizeof *bused);
    bool *aused = calloc((size_t)na + 1, sizeof *aused);
    out->only_before = calloc((size_t)nb + 1, sizeof *out->only_before);
    out->only_after = calloc((size_t)na + 1, sizeof *out->only_after);
    int rc = -1;
    if (!bused || !aused || !out->only_before || !out->only_after) {
        err_set(err, errlen, "out of memory");
        goto done;
    }
    char kb[160], ka[160];
    /* a single document on each side: compare them when their keys agree */
    for (int i = 0; i < nb; i++) {
        compare_doc_key(before[i], kb, sizeof kb);
        int nbk = count_key(before, nb, kb), nak = count_key(after, na, kb);
        for (int j = 0; j < na; j++) {
            if (aused[j]) continue;
            compare_doc_key(after[j], ka, sizeof ka);
            if (strcmp(ka, kb)) continue;
            /* a key held by several documents pairs by file name */
            if ((nbk > 1 || nak > 1) && strcmp(base(bnames[i]), base(anames[j]))) continue;
            if (pair_docs(out, before[i], bnames[i], after[j], anames[j]) < 0) {
                err_set(err, errlen, "out of memory");
                goto done;
            }
            bused[i] = aused[j] = true;
            break;
        }
    }
    for (int i = 0; i < nb; i++)
        if (!bused[i]) out->only_before[out->nonly_before++] = bnames[i];
    for (int j = 0; j < na; j++)
        if (!aused[j]) out->only_after[out->nonly_after++] = anames[j];
    if (!out->npairs) {
        if (nb == 1 && na == 1) {
            compare_doc_key(before[0], kb, sizeof kb);
            compare_doc_key(after[0], ka, sizeof ka);
            err_set(err, errlen, "%s is a %s result and %s a %s result: nothing to compare",
                    bnames[0], kb, anames[0], ka);
        } else {
            err_set(err, errlen,
                    "no test in BEFORE matches a test in AFTER (matched by test "
                    "name and mode)");
        }
        goto done;
    }
    for (int i = 0; i < out->npairs && !force; i++) {
        const compare_pair *p = &out->pairs[i];
        if (!p->differs[0]) continue;
        err_set(err, errlen,
                "%s and %s are not comparable runs of %s: %s (--force compares them "
                "anyway)",
                p->before_name, p->after_name, p->key, p->differs);
        goto done;
    }
    rc = 0;
done:
    free(bused);
    free(aused);
    if (rc < 0) compare_free(out);
    return rc;
}

void compare_free(compare_result *r) {
    for (int i = 0; i < r->npairs; i++) free(r->pairs[i].rows);
    free(r->pairs);
    free(r->only_before);
    free(r->only_after);
    memset(r, 0, sizeof *r);
}

static const char *dir_name(compare_dir d) {
    return d == COMPARE_ABOVE ? "above" : d == COMPARE_BELOW ? "below" : NULL;
}

json_t *compare_json(const compare_result *r) {
    json_t *o = json_object();
    json_object_set_new(o, "schema", json_string("brink.compare/1"));
    json_object_set_new(o, "tolerance", json_real(r->tolerance));
    json_object_set_new(o, "regressions", json_integer(r->regressions));
    json_t *tests = json_array();
    for (int i = 0; i < r->npairs; i++) {
        const compare_pair *p = &r->pairs[i];
        json_t *t = json_object();
        json_object_set_new(t, "test", json_string(p->key));
        json_object_set_new(t, "before", json_string(p->before_name));
        json_object_set_new(t, "after", json_string(p->after_name));
        json_object_set_new(t, "regressions", json_integer(p->regressions));
        json_object_set_new(t, "not_comparable",
                            p->differs[0] ? json_string(p->differs) : json_null());
        json_t *rows = json_array();
        for (int k = 0; k < p->nrows; k++) {
            const compare_row *w = &p->rows[k];
            json_t *e = json_object();
            json_object_set_new(e, "metric", json_string(w->metric));
            json_object_set_new(e, "before", jx_real(w->before));
            json_object_set_new(e, "after", jx_real(w->after));
            json_object_set_new(e, "ratio", jx_real(w->ratio));
            const char *d = dir_name(w->dir);
            json_object_set_new(e, "direction", d ? json_string(d) : json_null());
            json_object_set_new(e, "regression", json_boolean(w->regression));
            json_array_append_new(rows, e);
        }
        json_object_set_new(t, "metrics", rows);
        json_array_append_new(tests, t);
    }
    json_object_set_new(o, "tests", tests);
    json_t *ob = json_array(), *oa = json_array();
    for (int i = 0; i < r->nonly_before; i++)
        json_array_append_new(ob, json_string(r->only_before[i]));
    for (int i = 0; i < r->nonly_after; i++)
        json_array_append_new(oa, json_string(r->only_after[i]));
    json_object_set_new(o, "only_before", ob);
    json_object_set_new(o, "only_after", oa);
    return o;
}

static void fmt_num(char *out, size_t n, double v) {
    if (!isfinite(v))
        snprintf(out, n, "-");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(out, n, "%.0f", v);
    else
        snprintf(out, n, "%.6g", v);
}

void compare_print(FILE *out, const compare_result *r) {
    for (int i = 0; i < r->npairs; i++) {
        const compare_pair *p = &r->pairs[i];
        fprintf(out, "%s: %s → %s\n", p->key, p->before_name, p->after_name);
        if (p->differs[0]) fprintf(out, "  NOT COMPARABLE (--force): %s\n", p->differs);
        fprintf(out, "  %-34s %14s %14s %9s  %s\n", "metric", "before", "after", "ratio",
                "verdict");
        for (int k = 0; k < p->nrows; k++) {
            const compare_row *w = &p->rows[k];
            char b[32], a[32], q[32];
            fmt_num(b, sizeof b, w->before);
            fmt_num(a, sizeof a, w->after);
            if (isfinite(w->ratio))
                snprintf(q, sizeof q, "%.3fx", w->ratio);
            else
                snprintf(q, sizeof q, "%s", w->after == w->before ? "=" : "new");
            const char *worse = w->dir == COMPARE_ABOVE   ? "(higher is worse)"
                                : w->dir == COMPARE_BELOW ? "(lower is worse)"
                                                          : "";
            const char *v = w->regression ? "REGRESSION " : worse[0] ? "ok " : "";
            fprintf(out, "  %-34s %14s %14s %9s  %s%s\n", w->metric, b, a, q, v, worse);
        }
        fprintf(out, "  %d regression%s beyond %.4g%%\n\n", p->regressions,
                p->regressions == 1 ? "" : "s", r->tolerance * 100);
    }
    for (int i = 0; i < r->nonly_before; i++)
        fprintf(out, "only in BEFORE: %s (no matching test in AFTER)\n", r->only_before[i]);
    for (int i = 0; i < r->nonly_after; i++)
        fprintf(out, "only in AFTER: %s (no matching test in BEFORE)\n", r->only_after[i]);
    fprintf(out, "%s: %d regression%s in %d test%s (tolerance %.4g%%)\n",
            r->regressions ? "REGRESSED" : "OK", r->regressions, r->regressions == 1 ? "" : "s",
            r->npairs, r->npairs == 1 ? "" : "s", r->tolerance * 100);
}
