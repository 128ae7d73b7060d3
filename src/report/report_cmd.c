/* report_cmd.c — `brink report FILE|DIR... [--html OUT] [--junit OUT] [--terminal]` and
 * `brink compare BEFORE AFTER [--tolerance T] [--json OUT]`: the reports again, from files alone
 * (DESIGN.md: reports read only the result document). A run writes its document once; these
 * commands turn any number of them into the terminal verdicts (threshold_print's table, emoji
 * on a terminal and words elsewhere), a browser page (html.c), a CI file (junit.c), or a
 * before/after table whose exit status fails a pipeline on a regression (compare.c).
 * Inputs are checked before anything is written: every file must be a JSON object whose schema
 * is brink.result/1, or the command stops with one line naming the file (exit 2). Outputs are
 * written to a temporary file and renamed, so a report is never half there. */
#include "report/report_cmd.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cli.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "report/compare.h"
#include "report/html.h"
#include "report/junit.h"
#include "core/json.h"
#include "verdict/threshold.h"

/* ---- loading --------------------------------------------------------------------------------- */

static int push(report_docs *d, const char *name, json_t *doc, char *err, size_t errlen) {
    char **names = realloc(d->names, sizeof *names * (size_t)(d->n + 1));
    if (names) d->names = names;
    json_t **docs = realloc(d->docs, sizeof *docs * (size_t)(d->n + 1));
    if (docs) d->docs = docs;
    char *copy = strdup(name);
    if (!names || !docs || !copy) {
        free(copy);
        json_decref(doc);
        err_set(err, errlen, "out of memory");
        return -1;
    }
    d->names[d->n] = copy;
    d->docs[d->n] = doc;
    d->n++;
    return 0;
}

static json_t *load_one(const char *path, char *err, size_t errlen) {
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        FILE *f = fopen(path, "r");
        if (!f) {
            err_set(err, errlen, "%s: %s", path, strerror(errno));
        } else {
            fclose(f);
            err_set(err, errlen, "%s: not valid JSON (line %d: %s)", path, je.line, je.text);
        }
        return NULL;
    }
    json_t *schema = json_is_object(doc) ? json_object_get(doc, "schema") : NULL;
    if (!json_is_string(schema)) {
        err_set(err, errlen, "%s: not a brink result document (no \"schema\": \"%s\")", path,
                JX_SCHEMA);
        json_decref(doc);
        return NULL;
    }
    if (strcmp(json_string_value(schema), JX_SCHEMA)) {
        err_set(err, errlen, "%s: schema \"%.60s\" is not supported (this brink reads \"%s\")",
                path, json_string_value(schema), JX_SCHEMA);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_result_name(const char *name) {
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json") &&
           strcmp(name, "summary.json");
}

static int load_dir(const char *dir, report_docs *out, char *err, size_t errlen) {
    DIR *d = opendir(dir);
    if (!d) {
        err_set(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    int n = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_result_name(e->d_name)) continue;
        char **nn = realloc(names, sizeof *nn * (size_t)(n + 1));
        char *s = strdup(e->d_name);
        if (!nn || !s) {
            free(s);
            if (nn) names = nn;
            err_set(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        names = nn;
        names[n++] = s;
    }
    closedir(d);
    if (rc == 0 && n == 0) {
        err_set(err, errlen, "%s: no result documents (*.json) in this directory", dir);
        rc = -1;
    }
    if (rc == 0) qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; rc == 0 && i < n; i++) {
        char path[4096];
        size_t l = strlen(dir);
        snprintf(path, sizeof path, "%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/", names[i]);
        json_t *doc = load_one(path, err, errlen);
        if (!doc || push(out, path, doc, err, errlen) < 0) rc = -1;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int report_docs_load(const char *path, report_docs *out, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) < 0) {
        err_set(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) return load_dir(path, out, err, errlen);
    json_t *doc = load_one(path, err, errlen);
    if (!doc) return -1;
    return push(out, path, doc, err, errlen);
}

void report_docs_free(report_docs *d) {
    for (int i = 0; i < d->n; i++) {
        free(d->names[i]);
        json_decref(d->docs[i]);
    }
    free(d->names);
    free(d->docs);
    memset(d, 0, sizeof *d);
}

/* ---- writing --------------------------------------------------------------------------------- */

static int write_html(FILE *out, const void *arg, char *err, size_t errlen) {
    const report_docs *d = arg;
    return html_write(out, d->docs, (const char *const *)d->names, d->n, err, errlen);
}

static int write_junit(FILE *out, const void *arg, char *err, size_t errlen) {
    const report_docs *d = arg;
    return junit_write(out, d->docs, d->n, err, errlen);
}

/* ---- the terminal ---------------------------------------------------------------------------- */

static th_status status_of(const char *s) {
    if (!strcmp(s, "green")) return TH_GREEN;
    if (!strcmp(s, "orange")) return TH_ORANGE;
    if (!strcmp(s, "red")) return TH_RED;
    return TH_SKIPPED;
}

/* The document's verdicts as th_results for threshold_print: the bounds and the status as the
 * document says (a config may have overridden the defaults), the evidence and remedy from its
 * advice. Strings point into doc. Returns the count (at most max). */
static int doc_results(const json_t *doc, th_result *rs, int max) {
    int n = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "thresholds"), i, t) {
        if (n >= max || !json_is_object(t)) continue;
        th_result *r = &rs[n++];
        memset(r, 0, sizeof *r);
        r->def.metric = jx_str(t, "metric");
        r->def.test = jx_str(t, "test");
        r->def.unit = jx_str(t, "unit");
        r->def.dir = !strcmp(jx_str(t, "direction"), "below") ? TH_BELOW : TH_ABOVE;
        r->def.orange = jx_num(t, "orange");
        r->def.red = jx_num(t, "red");
        const th_def *d = threshold_find(r->def.test, r->def.metric);
        r->def.what = d ? d->what : "";
        r->def.remedy = d ? d->remedy : "";
        r->value = jx_num(t, "value");
        r->status = status_of(jx_str(t, "status"));
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(doc, "advice"), j, a) {
            if (strcmp(jx_str(a, "metric"), r->def.metric)) continue;
            if (jx_str(t, "mode")[0] && strcmp(jx_str(a, "mode"), jx_str(t, "mode"))) continue;
            snprintf(r->evidence, sizeof r->evidence, "%s", jx_str(a, "evidence"));
            if (jx_str(a, "remedy")[0]) r->def.remedy = jx_str(a, "remedy");
            break;
        }
    }
    return n;
}

static void print_headline(FILE *out, const json_t *doc) {
    static const char *const keys[] = {"requests", "rps",    "offered_rps", "error_rate",
                                       "p50_ms",   "p99_ms", "max_ms",      NULL};
    const json_t *st = json_object_get(doc, "stats");
    int shown = 0;
    for (int i = 0; keys[i]; i++) {
        double v = jx_num(st, keys[i]);
        if (isnan(v)) continue;
        fprintf(out, "%s%s %.6g", shown ? ", " : "  ", keys[i], v);
        shown++;
    }
    if (shown) fputc('\n', out);
}

#define MAX_RESULTS 256

static void print_verdicts(FILE *out, const json_t *doc) {
    th_result *rs = calloc(MAX_RESULTS, sizeof *rs);
    if (!rs) return;
    int n = doc_results(doc, rs, MAX_RESULTS);
    if (n) {
        threshold_print(out, rs, n);
    } else {
        fprintf(out, "  no thresholds (this test's numbers are not judged)\n");
        print_headline(out, doc);
    }
    free(rs);
}

static void print_doc(FILE *out, const json_t *doc, const char *name) {
    fprintf(out, "%s", jx_str(doc, "test")[0] ? jx_str(doc, "test") : "unknown");
    if (jx_str(doc, "mode")[0]) fprintf(out, " %s", jx_str(doc, "mode"));
    if (jx_str(doc, "profile")[0]) fprintf(out, " (%s)", jx_str(doc, "profile"));
    if (jx_str(doc, "target")[0]) fprintf(out, " — %s", jx_str(doc, "target"));
    if (jx_str(doc, "started_at")[0]) fprintf(out, " — %s", jx_str(doc, "started_at"));
    fprintf(out, " — %s\n", name);
    json_t *runs = json_object_get(doc, "runs");
    if (json_array_size(runs)) {
        size_t i;
        json_t *r;
        json_array_foreach(runs, i, r) {
            fprintf(out, "\n  %s %s\n", jx_str(doc, "test"), jx_str(r, "mode"));
            print_verdicts(out, r);
        }
    } else {
        print_verdicts(out, doc);
    }
    fputc('\n', out);
}

/* ---- brink report ---------------------------------------------------------------------------- */

static const cli_cmd report_cli = {
    .name = "report",
    .args = "FILE|DIR... [--html OUT] [--junit OUT] [--terminal]",
    .summary = "Regenerates reports from result documents (--json of any test): a directory means "
               "every *.json in it except summary.json. Without --html or --junit, prints the "
               "verdicts. OUT may be - for stdout.",
    .epilog = "Exit status: 0 reports written; 2 bad usage or an input that is not a brink result "
              "document (brink.result/1); 1 an output could not be written.",
    .missing = "no result documents given: brink report FILE|DIR...",
    .min_args = 1,
    .max_args = -1,
};

int report_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    const char *html = NULL, *junit = NULL;
    bool terminal = false;
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "html", .kind = CLI_STR, .dest = &html, .meta = "OUT",
         .help = "one self-contained HTML page (inline SVG charts, no scripts)"},
        {.name = "junit", .kind = CLI_STR, .dest = &junit, .meta = "OUT",
         .help = "JUnit XML: a test suite per document, a test case per threshold"},
        {.name = "terminal", .kind = CLI_FLAG, .dest = &terminal,
         .help = "the threshold tables and advice (the default without outputs; words instead of "
                 "emoji when stdout is not a terminal or NO_COLOR is set)"},
        CLI_HELP,
    };
    /* clang-format on */
    const char *files[argc > 0 ? argc : 1];
    int nfiles;
    int prc = cli_parse(&report_cli, opts, CLI_NOPTS(opts), argc, argv, files, argc, &nfiles, err,
                        errlen);
    if (prc != CLI_OK) return prc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    if (html && junit && !strcmp(html, "-") && !strcmp(junit, "-")) {
        err_set(err, errlen, "--html and --junit cannot both write to stdout");
        return EXIT_USAGE;
    }
    if (!html && !junit) terminal = true;
    report_docs d = {0};
    for (int i = 0; i < nfiles; i++) {
        if (report_docs_load(files[i], &d, err, errlen) < 0) {
            report_docs_free(&d);
            return EXIT_USAGE;
        }
    }
    int rc = EXIT_OK;
    bool to_stdout = (html && !strcmp(html, "-")) || (junit && !strcmp(junit, "-"));
    if (terminal) {
        FILE *out = to_stdout ? stderr : stdout;
        threshold_set_plain(threshold_want_plain(out));
        for (int i = 0; i < d.n; i++) print_doc(out, d.docs[i], d.names[i]);
        fflush(out);
    }
    if (html && jx_write_file(html, write_html, &d, err, errlen) < 0) rc = EXIT_FAILURE_;
    if (rc == EXIT_OK && junit && jx_write_file(junit, write_junit, &d, err, errlen) < 0)
        rc = EXIT_FAILURE_;
    if (rc == EXIT_OK && !to_stdout) {
        if (html) printf("html report: %s\n", html);
        if (junit) printf("junit report: %s\n", junit);
    }
    report_docs_free(&d);
    return rc;
}

/* ---- brink compare --------------------------------------------------------------------------- */

static const cli_cmd compare_cli = {
    .name = "compare",
    .args = "BEFORE AFTER [--tolerance T] [--force] [--json OUT]",
    .summary = "Compares the headline numbers (.stats) of two result documents, or of two "
               "directories of them (matched by test and mode): before, after, ratio, and whether "
               "a number moved the wrong way by more than the tolerance. The wrong way is the "
               "threshold's: latency and errors regress when they grow, rates when they shrink; "
               "numbers without a threshold are shown but never flagged. Runs that differ in "
               "profile, offered rate, duration or brink version, or that were interrupted, are "
               "not compared unless --force.",
    .epilog = "Exit status: 0 no regression; 1 a regression; 2 bad usage or inputs.",
    .missing = "expected BEFORE and AFTER (files or directories of result documents)",
    .min_args = 2,
    .max_args = 2,
};

static int parse_tolerance(const char *s, void *dest, char *err, size_t errlen) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s && *end == '%' && end[1] == '\0') {
        v /= 100;
        end++;
    }
    if (end == s || *end || errno || !isfinite(v) || v < 0 || v > 1000) {
        err_set(err, errlen, "--tolerance '%s' is not a fraction >= 0 (0.1 allows a 10%% change)",
                s);
        return -1;
    }
    *(double *)dest = v;
    return 0;
}

int report_cmd_compare_main(int argc, char **argv, char *err, size_t errlen) {
    double tol = 0.1;
    bool force = false;
    const char *json_out = NULL;
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "tolerance", .kind = CLI_FN, .fn = parse_tolerance, .dest = &tol, .def = "0.1",
         .meta = "T", .help = "allowed change, a fraction of before (10% also works)"},
        {.name = "force", .kind = CLI_FLAG, .dest = &force,
         .help = "compare runs that differ in profile, offered rate, duration, brink version, or "
                 "that were interrupted (refused otherwise, exit 2)"},
        CLI_JSON_AS(&json_out, "the comparison as JSON (brink.compare/1); - for stdout"),
        CLI_HELP,
    };
    /* clang-format on */
    const char *paths[2];
    int npaths;
    int prc =
        cli_parse(&compare_cli, opts, CLI_NOPTS(opts), argc, argv, paths, 2, &npaths, err, errlen);
    if (prc != CLI_OK) return prc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    report_docs b = {0}, a = {0};
    compare_result r;
    int rc = EXIT_USAGE;
    if (report_docs_load(paths[0], &b, err, errlen) < 0 ||
        report_docs_load(paths[1], &a, err, errlen) < 0)
        goto done;
    if (compare_sets(b.docs, (const char *const *)b.names, b.n, a.docs,
                     (const char *const *)a.names, a.n, tol, force, &r, err, errlen) < 0)
        goto done;
    bool json_stdout = json_out && !strcmp(json_out, "-");
    compare_print(json_stdout ? stderr : stdout, &r);
    rc = r.regressions ? EXIT_FAILURE_ : EXIT_OK;
    if (json_out) {
        json_t *j = compare_json(&r);
        if (jx_write_file(json_out, jx_json_writer, j, err, errlen) < 0) rc = EXIT_USAGE;
        json_decref(j);
    }
    compare_free(&r);
done:
    report_docs_free(&b);
    report_docs_free(&a);
    return rc;
}
