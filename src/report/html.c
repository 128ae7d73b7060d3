/* html.c — the HTML report: one file that opens anywhere, offline, years later. Everything is
 * inline (CSS, SVG from svg.c); there is no script at all, and a Content-Security-Policy meta
 * tag forbids scripts and network loads even if a string slipped through. Every string taken
 * from a document is escaped: targets, profiles, modes, phase names, evidence and probe names
 * may all be user input.
 *
 * The page reads only result documents (DESIGN.md), and draws a chart only where the document
 * holds its data, so a document of any test — or of a future one — renders:
 *   .timeline [{t, length_s, phase, offered|offered_rps, completed|achieved_rps|ok|accepts,
 *               errors, p99_ms}]              → rate and p99 over time, phases shaded
 *   .phases [{name, start_s, end_s}]          → the phase bands (else runs of .timeline phase)
 *   .latency.<name>.hdr (HdrHistogram V2)     → the percentile spectrum on a 1/(1-p) axis
 *   .backlog.samples [{t, phase, total, ...}] → backlog over time
 *   .latency.resolution.hdr                   → the race's resolution-time histogram
 *   .capacity.steps [{offered_rps, achieved_rps, p99_ms, verdict}] → capacity steps
 *   .storm.seconds [{t, attempts, retries, failed}] → a sender's attempts over time (the storm)
 * A document with .runs (a test's "all" mode) gets one subsection per run. */
#include "report/html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hdr.h"
#include "core/json.h"
#include "core/version.h"
#include "report/svg.h"
#include "report/xml.h"
#include "verdict/threshold.h"

typedef struct page {
    FILE *out;
    int chart_id;
} page;

/* The first of several keys that holds a number. */
static double jnum_any(const json_t *o, const char *const *keys) {
    for (int i = 0; keys[i]; i++) {
        double v = jx_num(o, keys[i]);
        if (!isnan(v)) return v;
    }
    return NAN;
}

/* ---- verdicts -------------------------------------------------------------------------------- */

enum { ST_GREEN, ST_ORANGE, ST_RED, ST_SKIPPED, ST_NONE };

static int status_of(const char *s) {
    if (!strcmp(s, "green")) return ST_GREEN;
    if (!strcmp(s, "orange")) return ST_ORANGE;
    if (!strcmp(s, "red")) return ST_RED;
    return ST_SKIPPED;
}

static const char *const st_names[] = {"green", "orange", "red", "skipped", "not judged"};

typedef struct tally {
    int n[4];
} tally;

static void tally_doc(const json_t *doc, tally *t) {
    size_t i;
    json_t *th;
    json_array_foreach(json_object_get(doc, "thresholds"), i, th)
        t->n[status_of(jx_str(th, "status"))]++;
}

static int worst(const tally *t) {
    if (t->n[ST_RED]) return ST_RED;
    if (t->n[ST_ORANGE]) return ST_ORANGE;
    if (t->n[ST_GREEN]) return ST_GREEN;
    if (t->n[ST_SKIPPED]) return ST_SKIPPED;
    return ST_NONE;
}

/* The 🟢🟠🔴 of the terminal, drawn by CSS (a coloured dot) so that it shows without an emoji
 * font, and always with the word, so that it reads without colour. */
static void status_cell(FILE *o, int st) {
    const char *cls = st == ST_NONE ? "none" : st_names[st];
    fprintf(o, "<span class=\"st st-%s\"><span class=\"dot\" aria-hidden=\"true\"></span>%s</span>",
            cls, st_names[st]);
}

/* ---- page frame ------------------------------------------------------------------------------ */

static const char css[] =
    ":root{color-scheme:light}"
    "body{font:15px/1.45 'DejaVu Sans',Verdana,system-ui,sans-serif;color:#1b1b1b;"
    "background:#f6f7f9;margin:0}"
    "header,main,footer{max-width:1120px;margin:0 auto;padding:0 24px}"
    "header{padding-top:18px}"
    "h1{font-size:26px;margin:8px 0}h2{font-size:21px;margin:0 0 4px}"
    "h3{font-size:16px;margin:18px 0 6px}h4{font-size:15px;margin:14px 0 4px}"
    "section.test{background:#fff;border:1px solid #dcdfe4;border-radius:8px;padding:16px 20px;"
    "margin:18px 0}"
    "section.run{border-top:1px solid #dcdfe4;margin-top:18px;padding-top:6px}"
    ".meta{color:#555;margin:0 0 8px;overflow-wrap:anywhere}"
    "table{border-collapse:collapse;width:100%;font-size:14px}"
    "th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e8eb;vertical-align:top}"
    "th{background:#eef0f3;font-weight:600}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.wrap{overflow-wrap:anywhere}"
    ".st{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;"
    "white-space:nowrap;border:1px solid transparent}"
    ".st-green{background:#e3f4ea;color:#14532d;border-color:#9fd4b3}"
    ".st-orange{background:#fff1dc;color:#7a4300;border-color:#f0c27a}"
    ".st-red{background:#fde2de;color:#8a1c0c;border-color:#efa293}"
    ".st-skipped,.st-none{background:#eef0f3;color:#444;border-color:#cfd3d8}"
    ".dot{display:inline-block;width:.72em;height:.72em;border-radius:50%;margin-right:.35em;"
    "vertical-align:-.04em;background:#9aa0a6}"
    ".st-green .dot{background:#1e9e4a}.st-orange .dot{background:#f08c00}"
    ".st-red .dot{background:#d62d20}.st-skipped .dot,.st-none .dot{background:#fff;"
    "border:1.5px solid #8a9096;box-sizing:border-box}"
    "td.when{white-space:nowrap}"
    ".verdict{font-size:18px;margin:10px 0}"
    "ul.advice{list-style:none;padding:0;margin:0}"
    "ul.advice li{border-left:4px solid #cfd3d8;padding:6px 10px;margin:6px 0;background:#fafbfc}"
    "ul.advice li.adv-red{border-color:#d55e00}ul.advice li.adv-orange{border-color:#e69f00}"
    ".remedy{margin-top:3px}.remedy::before{content:'remedy: ';font-weight:600}"
    "dl.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:2px 18px;"
    "margin:0;font-size:13.5px}"
    "dl.stats div{display:flex;justify-content:space-between;border-bottom:1px dotted #dcdfe4;"
    "gap:8px}"
    "dl.stats dt{color:#444;overflow-wrap:anywhere}"
    "dl.stats dd{margin:0;font-variant-numeric:tabular-nums;text-align:right;"
    "overflow-wrap:anywhere}"
    "figure{margin:14px 0}figcaption{color:#444;font-size:13.5px;margin-top:2px}"
    "svg.chart{width:100%;max-width:100%;height:auto;display:block;border:1px solid #e6e8eb;"
    "border-radius:4px}"
    "footer{color:#666;font-size:13px;padding-bottom:24px}"
    "a{color:#0a5a9c}";

static void page_head(FILE *o, json_t *const *docs, int n) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", o);
    fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">\n",
          o);
    fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n", o);
    fputs("<meta name=\"generator\" content=\"brink " BRINK_VERSION "\">\n<title>brink report", o);
    for (int i = 0; i < n && i < 6; i++) {
        fputs(i ? ", " : " — ", o);
        report_xml_escape(o, jx_str(docs[i], "test"), REPORT_XML_HTML);
    }
    if (n > 6) fputs(", …", o);
    fprintf(o, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
}

static void fmt_duration(char *out, size_t n, double s) {
    if (!isfinite(s))
        snprintf(out, n, "–");
    else if (s >= 120)
        snprintf(out, n, "%.0f min %.0f s", floor(s / 60), fmod(s, 60));
    else
        snprintf(out, n, "%.3g s", s);
}

static void page_header(FILE *o, json_t *const *docs, const char *const *names, int n) {
    tally all = {{0}};
    for (int i = 0; i < n; i++) tally_doc(docs[i], &all);
    int w = worst(&all);
    fputs("<header>\n<h1>brink report</h1>\n", o);
    fprintf(o, "<p class=\"verdict\">Overall verdict: ");
    status_cell(o, w);
    int nth = all.n[ST_RED] + all.n[ST_ORANGE] + all.n[ST_GREEN] + all.n[ST_SKIPPED];
    if (nth)
        fprintf(o, " — %d red, %d orange, %d green, %d skipped of %d threshold%s", all.n[ST_RED],
                all.n[ST_ORANGE], all.n[ST_GREEN], all.n[ST_SKIPPED], nth, nth == 1 ? "" : "s");
    else
        fprintf(o, " — no thresholds");
    fprintf(o, " in %d result document%s</p>\n", n, n == 1 ? "" : "s");
    fputs("<table class=\"docs\">\n<tr><th>test</th><th>when (UTC)</th><th>target</th>"
          "<th>profile</th><th>duration</th><th>verdict</th></tr>\n",
          o);
    for (int i = 0; i < n; i++) {
        const json_t *d = docs[i];
        tally t = {{0}};
        tally_doc(d, &t);
        char dur[32];
        fmt_duration(dur, sizeof dur, jx_num(d, "duration_s"));
        fprintf(o, "<tr><td><a href=\"#doc-%d\">", i + 1);
        report_xml_escape(o, jx_str(d, "test")[0] ? jx_str(d, "test") : "unknown", REPORT_XML_HTML);
        if (jx_str(d, "mode")[0]) {
            fputs(" ", o);
            report_xml_escape(o, jx_str(d, "mode"), REPORT_XML_HTML);
        }
        fputs("</a></td><td class=\"when\">", o);
        report_xml_escape(o, jx_str(d, "started_at")[0] ? jx_str(d, "started_at") : "–",
                          REPORT_XML_HTML);
        report_xml_wrap(o, "</td><td class=\"wrap\">",
                        jx_str(d, "target")[0] ? jx_str(d, "target") : "–", "</td><td>",
                        REPORT_XML_HTML);
        report_xml_escape(o, jx_str(d, "profile")[0] ? jx_str(d, "profile") : "–", REPORT_XML_HTML);
        fprintf(o, "</td><td class=\"num\">%s</td><td>", dur);
        status_cell(o, worst(&t));
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n</header>\n<main>\n", o);
    (void)names;
}

/* ---- tables ---------------------------------------------------------------------------------- */

static void bound_text(FILE *o, const json_t *th) {
    const char *unit = jx_str(th, "unit"), *dir = jx_str(th, "direction");
    const char *cmp = !strcmp(dir, "below") ? "&lt;" : !strcmp(dir, "above") ? "&gt;" : "past";
    char a[48], b[48];
    threshold_format_value(a, sizeof a, jx_num(th, "orange"), unit, "–");
    threshold_format_value(b, sizeof b, jx_num(th, "red"), unit, "–");
    fprintf(o, "orange %s ", cmp);
    report_xml_escape(o, a, REPORT_XML_HTML);
    fprintf(o, ", red %s ", cmp);
    report_xml_escape(o, b, REPORT_XML_HTML);
}

static void thresholds_table(FILE *o, const json_t *doc) {
    json_t *ths = json_object_get(doc, "thresholds");
    if (!json_array_size(ths)) {
        fputs("<p class=\"meta\">No thresholds: this test's numbers are not judged.</p>\n", o);
        return;
    }
    bool modes = false;
    size_t i;
    json_t *th;
    json_array_foreach(ths, i, th) if (jx_str(th, "mode")[0]) modes = true;
    fputs("<h3>Thresholds</h3>\n<table class=\"thresholds\">\n<tr>", o);
    if (modes) fputs("<th>mode</th>", o);
    fputs("<th>metric</th><th>value</th><th>bound</th><th>status</th></tr>\n", o);
    json_array_foreach(ths, i, th) {
        char v[64];
        threshold_format_value(v, sizeof v, jx_num(th, "value"), jx_str(th, "unit"), "–");
        fputs("<tr>", o);
        if (modes) {
            report_xml_wrap(o, "<td>", jx_str(th, "mode"), "</td>", REPORT_XML_HTML);
        }
        report_xml_wrap(o, "<td>", jx_str(th, "metric"), "</td><td class=\"num\">",
                        REPORT_XML_HTML);
        report_xml_escape(o, v, REPORT_XML_HTML);
        fputs("</td><td>", o);
        bound_text(o, th);
        fputs("</td><td>", o);
        status_cell(o, status_of(jx_str(th, "status")));
        fputs("</td></tr>\n", o);
    }
    fputs("</table>\n", o);
}

static void advice_list(FILE *o, const json_t *doc) {
    json_t *adv = json_object_get(doc, "advice");
    if (!json_array_size(adv)) return;
    fputs("<h3>Advice</h3>\n<ul class=\"advice\">\n", o);
    size_t i;
    json_t *a;
    json_array_foreach(adv, i, a) {
        int st = status_of(jx_str(a, "status"));
        fprintf(o, "<li class=\"adv-%s\">", st_names[st]);
        status_cell(o, st);
        fputs(" <b>", o);
        report_xml_escape(o, jx_str(a, "metric"), REPORT_XML_HTML);
        if (jx_str(a, "mode")[0]) {
            report_xml_wrap(o, " (", jx_str(a, "mode"), ")", REPORT_XML_HTML);
        }
        report_xml_wrap(o, "</b>: ", jx_str(a, "evidence"), "<div class=\"remedy\">",
                        REPORT_XML_HTML);
        report_xml_escape(o, jx_str(a, "remedy"), REPORT_XML_HTML);
        fputs("</div></li>\n", o);
    }
    fputs("</ul>\n", o);
}

static void stats_list(FILE *o, const json_t *doc) {
    json_t *st = json_object_get(doc, "stats");
    if (!json_object_size(st)) return;
    fputs(
        "<h3>Headline numbers <small class=\"meta\">(.stats)</small></h3>\n<dl class=\"stats\">\n",
        o);
    const char *k;
    json_t *v;
    json_object_foreach(st, k, v) {
        char buf[64];
        if (json_is_integer(v))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            snprintf(buf, sizeof buf, "%.6g", json_real_value(v));
        else if (json_is_boolean(v))
            snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "yes" : "no");
        else if (json_is_null(v))
            snprintf(buf, sizeof buf, "–");
        else if (!json_is_string(v))
            continue;
        report_xml_wrap(o, "<div><dt>", k, "</dt><dd>", REPORT_XML_HTML);
        report_xml_escape(o, json_is_string(v) ? json_string_value(v) : buf, REPORT_XML_HTML);
        fputs("</dd></div>\n", o);
    }
    fputs("</dl>\n", o);
}

/* A scenario's numbers by request name (.by_name), its failed checks and its flows. */
static void by_name_table(FILE *o, const json_t *doc) {
    const json_t *by = json_object_get(doc, "by_name");
    if (!json_object_size(by)) return;
    fputs("<h3>By request <small class=\"meta\">(.by_name)</small></h3>\n<table>\n<tr><th>request"
          "</th><th>requests</th><th>rps</th><th>errors</th><th>p50 ms</th><th>p99 ms</th>"
          "<th>max ms</th><th>checks</th></tr>\n",
          o);
    const char *name;
    json_t *x;
    json_object_foreach((json_t *)by, name, x) {
        report_xml_wrap(o, "<tr><td>", name, "</td>", REPORT_XML_HTML);
        fprintf(o,
                "<td class=\"num\">%lld</td><td class=\"num\">%.1f</td><td class=\"num\">%lld</td>",
                (long long)jx_int(x, "requests"), jx_num(x, "rps"), (long long)jx_int(x, "errors"));
        static const char *const ms[] = {"p50_ms", "p99_ms", "max_ms"};
        for (size_t i = 0; i < 3; i++) {
            double v = jx_num(x, ms[i]);
            if (isfinite(v))
                fprintf(o, "<td class=\"num\">%.2f</td>", v);
            else
                fputs("<td class=\"num\">–</td>", o);
        }
        double c = jx_num(x, "checks");
        if (isfinite(c))
            fprintf(o, "<td class=\"num\">%.2f%%</td></tr>\n", 100 * c);
        else
            fputs("<td class=\"num\">–</td></tr>\n", o);
    }
    fputs("</table>\n", o);
    json_object_foreach((json_t *)by, name, x) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(x, "check"), i, c) {
            if (jx_int(c, "failed") <= 0) continue;
            report_xml_wrap(o, "<p><span class=\"st st-red\">check failed</span> ", name, ": ",
                            REPORT_XML_HTML);
            report_xml_escape(o, jx_str(c, "check"), REPORT_XML_HTML);
            fprintf(o, " — %lld of %lld</p>\n", (long long)jx_int(c, "failed"),
                    (long long)jx_int(c, "evaluated"));
        }
    }
    json_object_foreach(json_object_get(doc, "flows"), name, x) {
        report_xml_wrap(o, "<p>flow ", name, ": ", REPORT_XML_HTML);
        fprintf(o, "%lld started, %lld completed, %lld aborted, %lld unfinished</p>\n",
                (long long)jx_int(x, "started"), (long long)jx_int(x, "completed"),
                (long long)jx_int(x, "aborted"), (long long)jx_int(x, "unfinished"));
    }
}

/* ---- phases ---------------------------------------------------------------------------------- */

#define MAX_BANDS 32

typedef struct band {
    double a, b;
    const char *name;
} band;

static svg_fill fill_of(const char *phase) {
    if (!strcmp(phase, "fault") || !strcmp(phase, "outage")) return SVG_FILL_FAULT;
    if (!strcmp(phase, "recovery")) return SVG_FILL_RECOVERY;
    if (!strcmp(phase, "drain")) return SVG_FILL_DRAIN;
    if (!strcmp(phase, "warmup") || !strcmp(phase, "setup") || !strcmp(phase, "audit") ||
        !strcmp(phase, "cooldown"))
        return SVG_FILL_GREY;
    return SVG_FILL_NONE;
}

/* Bands from .phases [{name, start_s, end_s}], else from runs of equal phase names in a series
 * of samples (t, length). Returns the count; 0 when there is only one phase. */
static int phase_bands(const json_t *doc, const json_t *samples, band *out) {
    int n = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "phases"), i, p) {
        double a = jx_num(p, "start_s"), b = jx_num(p, "end_s");
        if (n < MAX_BANDS && isfinite(a) && isfinite(b) && b >= a && jx_str(p, "name")[0])
            out[n++] = (band){a, b, jx_str(p, "name")};
    }
    if (n == 0) {
        json_array_foreach(samples, i, p) {
            double t = jx_num(p, "t"), len = jx_num(p, "length_s");
            const char *ph = jx_str(p, "phase");
            if (!isfinite(t) || !ph[0]) continue;
            if (!isfinite(len) || len <= 0) len = 0;
            if (n && !strcmp(out[n - 1].name, ph)) {
                out[n - 1].b = t + len;
            } else if (n < MAX_BANDS) {
                if (n && out[n - 1].b < t) out[n - 1].b = t;
                out[n++] = (band){t, t + len, ph};
            }
        }
    }
    return n >= 2 ? n : 0;
}

static void draw_bands(svg_chart *c, const band *b, int n) {
    for (int i = 0; i < n; i++) svg_band(c, b[i].a, b[i].b, b[i].name, fill_of(b[i].name));
}

/* ---- series helpers -------------------------------------------------------------------------- */

static double max_of(const double *v, int n, double m) {
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]) && (!isfinite(m) || v[i] > m)) m = v[i];
    return m;
}

static bool any_finite(const double *v, int n) {
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) return true;
    return false;
}

/* Shrinks nser parallel series of n points to at most HTML_MAX_POINTS: x from each bucket's
 * first point, series[k] by mean (take_max[k] false) or maximum. Returns the new length. */
static int downsample(double *x, double **series, const bool *take_max, int nser, int n) {
    if (n <= HTML_MAX_POINTS) return n;
    int per = (n + HTML_MAX_POINTS - 1) / HTML_MAX_POINTS, m = 0;
    for (int i = 0; i < n; i += per, m++) {
        int j = i + per < n ? i + per : n;
        x[m] = x[i];
        for (int k = 0; k < nser; k++) {
            double acc = NAN;
            int cnt = 0;
            for (int q = i; q < j; q++) {
                double v = series[k][q];
                if (!isfinite(v)) continue;
                if (take_max[k])
                    acc = isnan(acc) || v > acc ? v : acc;
                else
                    acc = (isnan(acc) ? 0 : acc) + v;
                cnt++;
            }
            series[k][m] = !take_max[k] && cnt ? acc / cnt : acc;
        }
    }
    return m;
}

static void figure_open(FILE *o, const char *kind) {
    fprintf(o, "<figure class=\"fig-%s\">\n", kind);
}

static void figure_close(FILE *o, const char *caption) {
    report_xml_wrap(o, "<figcaption>", caption, "</figcaption>\n</figure>\n", REPORT_XML_HTML);
}

/* ---- rate and p99 over time ------------------------------------------------------------------ */

static void chart_timeline(page *pg, const json_t *doc) {
    json_t *tl = json_object_get(doc, "timeline");
    int n = (int)json_array_size(tl);
    if (n < 2) return;
    double *buf = calloc((size_t)n * 5, sizeof *buf);
    if (!buf) return;
    double *x = buf, *off = buf + n, *ach = buf + 2 * n, *errs = buf + 3 * n, *p99 = buf + 4 * n;
    static const char *const k_off[] = {"offered_rps", NULL};
    static const char *const k_ach[] = {"achieved_rps", NULL};
    static const char *const k_cnt[] = {"completed", "ok", "accepts", NULL};
    int m = 0;
    double end = NAN, longest = 0;
    size_t i;
    json_t *e;
    json_array_foreach(tl, i, e) {
        double len = jx_num(e, "length_s");
        if (isfinite(len) && len > longest) longest = len;
    }
    json_array_foreach(tl, i, e) {
        double t = jx_num(e, "t"), len = jx_num(e, "length_s");
        if (!isfinite(t)) continue;
        if (!isfinite(len) || len <= 0) len = 1;
        end = t + len;
        /* a sliver of a second at the end (1 request in 1 ms = "1000 rps") would set the
         * scale: buckets much shorter than the others are left out */
        if (len < 0.25 * longest) continue;
        x[m] = t + len / 2;
        off[m] = jnum_any(e, k_off);
        if (isnan(off[m]) && !isnan(jx_num(e, "offered"))) off[m] = jx_num(e, "offered") / len;
        ach[m] = jnum_any(e, k_ach);
        if (isnan(ach[m]) && !isnan(jnum_any(e, k_cnt))) ach[m] = jnum_any(e, k_cnt) / len;
        errs[m] = isnan(jx_num(e, "errors")) ? NAN : jx_num(e, "errors") / len;
        p99[m] = jx_num(e, "p99_ms");
        m++;
    }
    double *series[] = {off, ach, errs, p99};
    static const bool take_max[] = {false, false, false, true};
    m = downsample(x, series, take_max, 4, m);
    bool has_rate = any_finite(off, m) || any_finite(ach, m), has_p99 = any_finite(p99, m);
    if (m < 2 || (!has_rate && !has_p99)) {
        free(buf);
        return;
    }
    band bands[MAX_BANDS];
    int nb = phase_bands(doc, tl, bands);
    svg_chart c;
    svg_chart_init(&c, pg->out, ++pg->chart_id, "chart-timeline");
    c.x = (svg_axis){json_number_value(json_object_get(json_array_get(tl, 0), "t")), end,
                     "time since the start (s)", SVG_AXIS_LINEAR};
    if (!isfinite(c.x.min)) c.x.min = 0;
    c.y = (svg_axis){0, max_of(errs, m, max_of(ach, m, max_of(off, m, NAN))), "requests per second",
                     SVG_AXIS_LINEAR};
    c.y.max *= 1.04; /* headroom: the top line stays off the frame */
    svg_axis_nice(&c.y.min, &c.y.max, true);
    c.has_y2 = has_p99;
    c.y2 = (svg_axis){0, max_of(p99, m, NAN), "p99 latency (ms)", SVG_AXIS_LINEAR};
    c.y2.max *= 1.04;
    svg_axis_nice(&c.y2.min, &c.y2.max, true);
    figure_open(pg->out, "timeline");
    svg_begin(&c, "Offered and achieved rate, errors and p99 latency over time");
    draw_bands(&c, bands, nb);
    svg_axes(&c);
    /* offered is drawn over achieved: where they agree, its dashes still show */
    if (any_finite(ach, m)) {
        svg_line(&c, x, ach, m, SVG_SOLID, false);
        svg_legend(&c, "achieved (rps)", SVG_SOLID, false);
    }
    if (any_finite(off, m)) {
        svg_line(&c, x, off, m, SVG_DASHED, false);
        svg_legend(&c, "offered (rps)", SVG_DASHED, false);
    }
    if (any_finite(errs, m) && max_of(errs, m, NAN) > 0) {
        svg_line(&c, x, errs, m, SVG_DASHDOT, false);
        svg_legend(&c, "errors (per s)", SVG_DASHDOT, false);
    }
    if (has_p99) {
        svg_line(&c, x, p99, m, SVG_DOTTED, true);
        svg_legend(&c, "p99 (ms, right axis)", SVG_DOTTED, false);
    }
    double ready = jx_num(json_object_get(doc, "fault"), "ready_s");
    if (isfinite(ready) && ready <= end) svg_vline(&c, ready, "dependency ready");
    svg_end(&c);
    char cap[200];
    snprintf(cap, sizeof cap,
             "Rate and p99 latency over time%s%s. Left axis: requests per second%s.",
             nb ? "; test phases shaded and labelled" : "",
             n > HTML_MAX_POINTS ? " (downsampled: mean rates, worst p99)" : "",
             has_p99 ? "; right axis: p99 in ms" : "");
    figure_close(pg->out, cap);
    free(buf);
}

/* ---- latency percentile spectrum ------------------------------------------------------------- */

#define MAX_SPECTRA 4

static double unit_to_ms(const char *unit) {
    if (!strcmp(unit, "ns")) return 1e-6;
    if (!strcmp(unit, "ms")) return 1;
    if (!strcmp(unit, "s")) return 1000;
    return 1e-3; /* "us", the default */
}

static void chart_spectrum(page *pg, const json_t *doc) {
    json_t *lat = json_object_get(doc, "latency");
    if (!json_is_object(lat)) return;
    const char *deflt = jx_str(lat, "hdr_unit")[0] ? jx_str(lat, "hdr_unit") : "us";
    hdr_hist *h[MAX_SPECTRA];
    const char *name[MAX_SPECTRA], *enc[MAX_SPECTRA];
    char label[MAX_SPECTRA][96];
    double scale[MAX_SPECTRA];
    int nh = 0;
    const char *k;
    json_t *v;
    json_object_foreach(lat, k, v) {
        const char *b64 = jx_str(v, "hdr");
        if (nh >= MAX_SPECTRA || !b64[0]) continue;
        bool dup = false;
        for (int i = 0; i < nh; i++)
            if (!strcmp(enc[i], b64)) { /* the closed model's two histograms are one */
                size_t l = strlen(label[i]);
                snprintf(label[i] + l, sizeof label[i] - l, " = %.40s", k);
                dup = true;
            }
        if (dup) continue;
        char e[128];
        hdr_hist *d = hdr_decode_base64(b64, e, sizeof e);
        if (!d) continue;
        if (!hdr_total(d)) {
            hdr_free(d);
            continue;
        }
        h[nh] = d;
        name[nh] = k;
        enc[nh] = b64;
        snprintf(label[nh], sizeof label[nh], "%.40s", k);
        const char *u = jx_str(v, "hdr_unit")[0] ? jx_str(v, "hdr_unit") : deflt;
        scale[nh] = unit_to_ms(u);
        nh++;
    }
    if (!nh) return;
    enum { MAXP = 600 };
    double *xs = calloc((size_t)nh * MAXP, sizeof *xs), *ys = calloc((size_t)nh * MAXP, sizeof *ys);
    int np[MAX_SPECTRA] = {0};
    double umax = 2, ymax = 0;
    for (int s = 0; xs && ys && s < nh; s++) {
        hdr_pct_iter it;
        hdr_pct_iter_init(&it, h[s], 5);
        while (np[s] < MAXP && hdr_pct_iter_next(&it)) {
            double p = it.percentile / 100.0;
            double u = p < 1 ? log10(1.0 / (1.0 - p)) : INFINITY;
            xs[s * MAXP + np[s]] = u;
            ys[s * MAXP + np[s]] = (double)it.value * scale[s];
            if (isfinite(u) && u > umax) umax = u;
            if (ys[s * MAXP + np[s]] > ymax) ymax = ys[s * MAXP + np[s]];
            np[s]++;
        }
    }
    /* a histogram whose largest value is under 2% of the chart's would be a flat line on the
     * axis (the race's send spread, in microseconds, beside its claims, in milliseconds) */
    char omitted[256] = "";
    for (int s = 0; s < nh; s++) {
        double top = (double)hdr_max(h[s]) * scale[s];
        if (nh > 1 && top < ymax * 0.02) {
            size_t l = strlen(omitted);
            snprintf(omitted + l, sizeof omitted - l, "%s%.40s (max %.3g ms)", l ? ", " : "",
                     label[s], top);
            np[s] = 0;
        }
    }
    umax = ceil(umax - 1e-9);
    if (umax > 9) umax = 9;
    if (xs && ys) {
        for (int s = 0; s < nh; s++)
            for (int i = 0; i < np[s]; i++)
                if (!isfinite(xs[s * MAXP + i]) || xs[s * MAXP + i] > umax) xs[s * MAXP + i] = umax;
        svg_chart c;
        svg_chart_init(&c, pg->out, ++pg->chart_id, "chart-spectrum");
        c.mr = 24;
        c.x = (svg_axis){0, umax, "percentile (log scale of 1/(1-p))", SVG_AXIS_PCT};
        c.y = (svg_axis){0, ymax, "latency (ms)", SVG_AXIS_LINEAR};
        c.y.max *= 1.04; /* headroom: the top line stays off the frame */
        svg_axis_nice(&c.y.min, &c.y.max, true);
        figure_open(pg->out, "spectrum");
        svg_begin(&c, "Latency by percentile");
        svg_axes(&c);
        static const svg_style order[] = {SVG_SOLID, SVG_DASHDOT, SVG_DOTTED, SVG_LONGDASH};
        for (int s = 0; s < nh; s++) {
            if (!np[s]) continue;
            svg_line(&c, xs + s * MAXP, ys + s * MAXP, np[s], order[s], false);
            char lab[160];
            snprintf(lab, sizeof lab, "%.100s (n=%lld)", label[s], (long long)hdr_total(h[s]));
            svg_legend(&c, lab, order[s], false);
        }
        svg_end(&c);
        char cap[512];
        snprintf(cap, sizeof cap,
                 "Latency percentile spectrum from the recorded HDR histograms (.latency.*.hdr), "
                 "plotted like HdrHistogram's plotter: the x axis stretches the tail, each tick is "
                 "ten times rarer than the one before.%s%s%s",
                 omitted[0] ? " Not drawn, too small for this scale: " : "", omitted,
                 omitted[0] ? "." : "");
        figure_close(pg->out, cap);
    }
    (void)name;
    free(xs);
    free(ys);
    for (int s = 0; s < nh; s++) hdr_free(h[s]);
}

/* ---- backlog --------------------------------------------------------------------------------- */

#define MAX_PROBES 5

static void chart_backlog(page *pg, const json_t *doc) {
    json_t *bk = json_object_get(doc, "backlog");
    json_t *samples = json_is_array(bk) ? bk : json_object_get(bk, "samples");
    int n = (int)json_array_size(samples);
    if (n < 2) return;
    /* the series: total, and each probe by name */
    const char *names[MAX_PROBES];
    int np = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(bk, "probes"), i, p) {
        if (np < MAX_PROBES && jx_str(p, "name")[0] && strcmp(jx_str(p, "name"), "total"))
            names[np++] = jx_str(p, "name");
    }
    if (!np) {
        const char *k;
        json_t *v;
        json_object_foreach(json_array_get(samples, 0), k, v) {
            if (np < MAX_PROBES && json_is_number(v) && strcmp(k, "t") && strcmp(k, "total"))
                names[np++] = k;
        }
    }
    int nser = np + 1;
    double *buf = calloc((size_t)n * (size_t)(nser + 1), sizeof *buf);
    if (!buf) return;
    double *x = buf, *ser[MAX_PROBES + 1];
    bool take_max[MAX_PROBES + 1];
    for (int s = 0; s < nser; s++) {
        ser[s] = buf + (size_t)n * (size_t)(s + 1);
        take_max[s] = true; /* a backlog's peaks matter */
    }
    int m = 0;
    double end = NAN;
    json_array_foreach(samples, i, p) {
        double t = jx_num(p, "t");
        if (!isfinite(t)) continue;
        x[m] = t;
        end = t;
        ser[0][m] = jx_num(p, "total");
        for (int s = 0; s < np; s++) ser[s + 1][m] = jx_num(p, names[s]);
        m++;
    }
    m = downsample(x, ser, take_max, nser, m);
    double ymax = NAN;
    for (int s = 0; s < nser; s++) ymax = max_of(ser[s], m, ymax);
    if (m < 2 || !isfinite(ymax)) {
        free(buf);
        return;
    }
    band bands[MAX_BANDS];
    int nb = phase_bands(doc, samples, bands);
    svg_chart c;
    svg_chart_init(&c, pg->out, ++pg->chart_id, "chart-backlog");
    c.mr = 24;
    c.x = (svg_axis){x[0] < 0 ? x[0] : 0, end, "time since the start (s)", SVG_AXIS_LINEAR};
    for (int b = 0; b < nb; b++)
        if (bands[b].b > c.x.max) c.x.max = bands[b].b;
    c.y = (svg_axis){0, ymax, "backlog (entries)", SVG_AXIS_LINEAR};
    c.y.max *= 1.04; /* headroom: the top line stays off the frame */
    svg_axis_nice(&c.y.min, &c.y.max, true);
    figure_open(pg->out, "backlog");
    svg_begin(&c, "Backlog over time");
    draw_bands(&c, bands, nb);
    svg_axes(&c);
    static const svg_style order[] = {SVG_SOLID,   SVG_DASHED,   SVG_DOTTED,
                                      SVG_DASHDOT, SVG_LONGDASH, SVG_THIN};
    if (any_finite(ser[0], m)) {
        svg_line(&c, x, ser[0], m, SVG_SOLID, false);
        svg_legend(&c, "total", SVG_SOLID, false);
    }
    for (int s = 0; s < np; s++) {
        if (!any_finite(ser[s + 1], m)) continue;
        svg_line(&c, x, ser[s + 1], m, order[s + 1], false);
        svg_legend(&c, names[s], order[s + 1], false);
    }
    double at = jx_num(bk, "max_at_s"), mx = jx_num(bk, "max");
    if (isfinite(at) && isfinite(mx)) {
        char lab[64];
        snprintf(lab, sizeof lab, "max %.0f", mx);
        svg_vline(&c, at, lab);
    }
    svg_end(&c);
    figure_close(pg->out, n > HTML_MAX_POINTS
                              ? "Backlog (queued work) over time, by probe (downsampled: peaks)."
                              : "Backlog (queued work) over time, by probe.");
    free(buf);
}

/* ---- a retrying sender's attempts: the retry storm --------------------------------------------
 */

static void chart_storm(page *pg, const json_t *doc) {
    json_t *st = json_object_get(doc, "storm");
    json_t *secs = json_object_get(st, "seconds");
    int n = (int)json_array_size(secs);
    if (n < 2) return;
    double *buf = calloc((size_t)n * 4, sizeof *buf);
    if (!buf) return;
    double *x = buf, *ser[3] = {buf + n, buf + 2 * (size_t)n, buf + 3 * (size_t)n};
    static const char *const keys[3] = {"attempts", "retries", "failed"};
    static const char *const labels[3] = {"attempts/s", "retries/s", "failed/s"};
    static const svg_style styles[3] = {SVG_SOLID, SVG_DASHED, SVG_DOTTED};
    bool take_max[3] = {true, true, true}; /* the storm is a peak */
    int m = 0;
    size_t i;
    json_t *p;
    json_array_foreach(secs, i, p) {
        double t = jx_num(p, "t");
        if (!isfinite(t)) continue;
        x[m] = t;
        for (int k = 0; k < 3; k++) ser[k][m] = jx_num(p, keys[k]);
        m++;
    }
    m = downsample(x, ser, take_max, 3, m);
    double ymax = NAN;
    for (int k = 0; k < 3; k++) ymax = max_of(ser[k], m, ymax);
    if (m < 2 || !isfinite(ymax) || ymax <= 0) {
        free(buf);
        return;
    }
    band bands[MAX_BANDS];
    int nb = phase_bands(doc, json_object_get(doc, "timeline"), bands);
    svg_chart c;
    svg_chart_init(&c, pg->out, ++pg->chart_id, "chart-storm");
    c.mr = 24;
    c.x = (svg_axis){0, x[m - 1] + 1, "time since the start (s), by due time", SVG_AXIS_LINEAR};
    c.y = (svg_axis){0, ymax * 1.04, "attempts per second", SVG_AXIS_LINEAR};
    svg_axis_nice(&c.y.min, &c.y.max, true);
    figure_open(pg->out, "storm");
    svg_begin(&c, "A retrying sender's attempts over time");
    draw_bands(&c, bands, nb);
    svg_axes(&c);
    for (int k = 0; k < 3; k++) {
        if (!any_finite(ser[k], m)) continue;
        svg_line(&c, x, ser[k], m, styles[k], false);
        svg_legend(&c, labels[k], styles[k], false);
    }
    double fe = jx_num(st, "fault_end_second"), pr = jx_num(st, "peak_ratio");
    if (isfinite(fe)) {
        char lab[64];
        if (isfinite(pr))
            snprintf(lab, sizeof lab, "fault ends; peak %.1fx", pr);
        else
            snprintf(lab, sizeof lab, "fault ends");
        svg_vline(&c, fe, lab);
    }
    svg_end(&c);
    figure_close(pg->out,
                 "Every attempt of the sender by its due second: first deliveries and retries; "
                 "after the fault the retries owed come on top of the live traffic (the retry "
                 "storm).");
    free(buf);
}

/* ---- race resolution histogram --------------------------------------------------------------- */

#define RACE_BINS 30

static void chart_race(page *pg, const json_t *doc) {
    json_t *lat = json_object_get(doc, "latency");
    json_t *res = json_object_get(lat, "resolution");
    const char *b64 = jx_str(res, "hdr");
    if (!b64[0]) return;
    char e[128];
    hdr_hist *h = hdr_decode_base64(b64, e, sizeof e);
    if (!h) return;
    if (!hdr_total(h)) {
        hdr_free(h);
        return;
    }
    const char *unit = jx_str(res, "hdr_unit")[0]   ? jx_str(res, "hdr_unit")
                       : jx_str(lat, "hdr_unit")[0] ? jx_str(lat, "hdr_unit")
                                                    : "us";
    double k = unit_to_ms(unit);
    double hi = (double)hdr_value_at_percentile(h, 99.9) * k, mx = (double)hdr_max(h) * k;
    if (mx <= hi * 1.25) hi = mx;
    double lo = (double)hdr_min(h) * k;
    svg_axis_nice(&lo, &hi, false);
    double w = (hi - lo) / RACE_BINS;
    double x0[RACE_BINS], x1[RACE_BINS], cnt[RACE_BINS] = {0};
    for (int b = 0; b < RACE_BINS; b++) {
        x0[b] = lo + b * w;
        x1[b] = x0[b] + w;
    }
    long long over = 0;
    hdr_iter it;
    hdr_iter_init(&it, h);
    while (hdr_iter_next(&it)) {
        double v = (double)it.value_lowest * k;
        if (v >= hi) {
            over += it.count;
            continue;
        }
        int b = w > 0 ? (int)((v - lo) / w) : 0;
        if (b < 0) b = 0;
        if (b >= RACE_BINS) b = RACE_BINS - 1;
        cnt[b] += (double)it.count;
    }
    svg_chart c;
    svg_chart_init(&c, pg->out, ++pg->chart_id, "chart-race");
    c.mr = 24;
    c.x =
        (svg_axis){lo, hi, "resolution time: first claim sent → last answer (ms)", SVG_AXIS_LINEAR};
    c.y = (svg_axis){0, max_of(cnt, RACE_BINS, NAN), "orders", SVG_AXIS_LINEAR};
    c.y.max *= 1.04; /* headroom: the top line stays off the frame */
    svg_axis_nice(&c.y.min, &c.y.max, true);
    figure_open(pg->out, "race");
    svg_begin(&c, "Race resolution time histogram");
    svg_axes(&c);
    svg_bars(&c, x0, x1, cnt, RACE_BINS, SVG_SOLID);
    svg_legend(&c, "orders per bin", SVG_SOLID, true);
    double p99 = jx_num(json_object_get(doc, "stats"), "resolution_p99_ms");
    if (isfinite(p99) && p99 <= hi) svg_vline(&c, p99, "p99");
    svg_end(&c);
    char cap[256];
    if (over)
        snprintf(cap, sizeof cap,
                 "How long each contested order took to resolve (%lld orders, bins of %.3g ms); "
                 "%lld beyond %.4g ms, up to %.4g ms.",
                 (long long)hdr_total(h), w, over, hi, mx);
    else
        snprintf(cap, sizeof cap,
                 "How long each contested order took to resolve (%lld orders, bins of %.3g ms).",
                 (long long)hdr_total(h), w);
    figure_close(pg->out, cap);
    hdr_free(h);
}

/* ---- capacity steps -------------------------------------------------------------------------- */

static json_t *capacity_steps(const json_t *doc) {
    json_t *cap = json_object_get(doc, "capacity");
    if (json_is_array(cap)) return cap;
    json_t *s = json_object_get(cap, "steps");
    if (json_is_array(s)) return s;
    s = json_object_get(doc, "steps");
    return json_is_array(s) ? s : NULL;
}

typedef struct cap_pt {
    double x, ach, p99;
    int good; /* 1 good, 0 broke a service level, -1 unknown */
} cap_pt;

static int cmp_cap(const void *a, const void *b) {
    const cap_pt *p = a, *q = b;
    return p->x < q->x ? -1 : p->x > q->x;
}

static void chart_capacity(page *pg, const json_t *doc) {
    json_t *steps = capacity_steps(doc);
    int n = (int)json_array_size(steps);
    if (n < 1) return;
    static const char *const k_off[] = {"offered_rps", "target_rps", "rate", "offered", NULL};
    static const char *const k_ach[] = {"achieved_rps", "rps", "achieved", NULL};
    cap_pt *pt = calloc((size_t)n, sizeof *pt);
    double *buf = calloc((size_t)n * 5, sizeof *buf);
    if (!pt || !buf) {
        free(pt);
        free(buf);
        return;
    }
    int m = 0;
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        double o = jnum_any(s, k_off);
        if (!isfinite(o)) continue;
        /* good: a boolean "good", or "verdict": "good" / "bad" */
        json_t *g = json_object_get(s, "good");
        const char *v = jx_str(s, "verdict");
        int good = json_is_boolean(g)   ? json_is_true(g)
                   : !strcmp(v, "good") ? 1
                   : !strcmp(v, "bad")  ? 0
                                        : -1;
        pt[m++] = (cap_pt){o, jnum_any(s, k_ach), jx_num(s, "p99_ms"), good};
    }
    /* a search bisects: steps are run out of order, the chart reads by rate */
    qsort(pt, (size_t)m, sizeof *pt, cmp_cap);
    double *x = buf, *ach = buf + n, *p99 = buf + 2 * n, *bx = buf + 3 * n, *by = buf + 4 * n;
    int nbad = 0;
    for (int k = 0; k < m; k++) {
        x[k] = pt[k].x;
        ach[k] = pt[k].ach;
        p99[k] = pt[k].p99;
        if (pt[k].good == 0 && isfinite(pt[k].ach)) {
            bx[nbad] = pt[k].x;
            by[nbad++] = pt[k].ach;
        }
    }
    free(pt);
    if (!m || (!any_finite(ach, m) && !any_finite(p99, m))) {
        free(buf);
        return;
    }
    const json_t *st = json_object_get(doc, "stats"), *cj = json_object_get(doc, "capacity");
    double knee = jx_num(st, "knee_rps"), sus = jx_num(st, "max_sustainable_rps");
    if (isnan(knee)) knee = jx_num(json_object_get(cj, "knee"), "rps");
    if (isnan(knee)) knee = jx_num(cj, "knee_rps");
    if (isnan(sus)) sus = jx_num(cj, "max_sustainable_rps");
    double xmax = max_of(x, m, NAN);
    svg_chart c;
    svg_chart_init(&c, pg->out, ++pg->chart_id, "chart-capacity");
    c.x = (svg_axis){0, xmax, "offered rate (rps)", SVG_AXIS_LINEAR};
    svg_axis_nice(&c.x.min, &c.x.max, true);
    c.y = (svg_axis){0, max_of(ach, m, xmax), "achieved rate (rps)", SVG_AXIS_LINEAR};
    c.y.max *= 1.04; /* headroom: the top line stays off the frame */
    svg_axis_nice(&c.y.min, &c.y.max, true);
    c.has_y2 = any_finite(p99, m);
    c.y2 = (svg_axis){0, max_of(p99, m, NAN), "p99 latency (ms)", SVG_AXIS_LINEAR};
    c.y2.max *= 1.04;
    svg_axis_nice(&c.y2.min, &c.y2.max, true);
    figure_open(pg->out, "capacity");
    svg_begin(&c, "Capacity steps: achieved rate and p99 against the offered rate");
    svg_axes(&c);
    double ix[2] = {0, c.x.max < c.y.max ? c.x.max : c.y.max}, iy[2] = {0, ix[1]};
    svg_line(&c, ix, iy, 2, SVG_DASHED, false);
    svg_legend(&c, "achieved = offered", SVG_DASHED, false);
    if (any_finite(ach, m)) {
        svg_line(&c, x, ach, m, SVG_SOLID, false);
        svg_legend(&c, "achieved (rps)", SVG_SOLID, false);
    }
    if (c.has_y2) {
        svg_line(&c, x, p99, m, SVG_DOTTED, true);
        svg_legend(&c, "p99 (ms, right axis)", SVG_DOTTED, false);
    }
    if (nbad) {
        svg_points(&c, bx, by, nbad, SVG_DASHDOT, false);
        svg_legend_points(&c, "step broke a service level", SVG_DASHDOT);
    }
    if (isfinite(knee) && knee > 0) svg_vline(&c, knee, "knee");
    if (isfinite(sus) && sus > 0 &&
        (!isfinite(knee) || fabs(sus - knee) > (c.x.max - c.x.min) * 0.04))
        svg_vline(&c, sus, "max sustainable");
    svg_end(&c);
    figure_close(pg->out, "Each step holds one offered rate (sorted by rate): where achieved "
                          "leaves the diagonal or p99 turns up, the service is past its capacity.");
    free(buf);
}

/* ---- sections -------------------------------------------------------------------------------- */

static void charts(page *pg, const json_t *doc) {
    chart_timeline(pg, doc);
    chart_capacity(pg, doc);
    chart_backlog(pg, doc);
    chart_storm(pg, doc);
    chart_spectrum(pg, doc);
    chart_race(pg, doc);
}

static void meta_line(FILE *o, const json_t *doc, const char *file) {
    char dur[32];
    fmt_duration(dur, sizeof dur, jx_num(doc, "duration_s"));
    fputs("<p class=\"meta\">", o);
    if (jx_str(doc, "started_at")[0]) {
        report_xml_wrap(o, "started ", jx_str(doc, "started_at"), " · ", REPORT_XML_HTML);
    }
    fprintf(o, "duration %s", dur);
    if (jx_str(doc, "target")[0]) {
        report_xml_wrap(o, " · target <code>", jx_str(doc, "target"), "</code>", REPORT_XML_HTML);
    }
    if (jx_str(doc, "profile")[0]) {
        fputs(" · profile ", o);
        report_xml_escape(o, jx_str(doc, "profile"), REPORT_XML_HTML);
    }
    const json_t *fault = json_object_get(doc, "fault");
    if (jx_str(fault, "description")[0]) {
        fputs(" · fault: ", o);
        report_xml_escape(o, jx_str(fault, "description"), REPORT_XML_HTML);
    }
    if (file) {
        fputs(" · file ", o);
        report_xml_escape(o, file, REPORT_XML_HTML);
    }
    fputs("</p>\n", o);
    /* which brink, command and machine wrote it (documents of brink 0.1.0 and later) */
    const json_t *host = json_object_get(doc, "host");
    if (!jx_str(doc, "brink_version")[0]) return;
    report_xml_wrap(o, "<p class=\"meta\">brink ", jx_str(doc, "brink_version"), "",
                    REPORT_XML_HTML);
    if (jx_str(host, "name")[0]) {
        report_xml_wrap(o, " on ", jx_str(host, "name"), "", REPORT_XML_HTML);
        fprintf(o, " (%lld cores", (long long)jx_int(host, "cores"));
        report_xml_wrap(o, ", Linux ", jx_str(host, "kernel"), ")", REPORT_XML_HTML);
    }
    if (jx_str(doc, "command")[0])
        report_xml_wrap(o, " · <code>", jx_str(doc, "command"), "</code>", REPORT_XML_HTML);
    fputs("</p>\n", o);
}

static void doc_section(page *pg, const json_t *doc, const char *file, int index) {
    FILE *o = pg->out;
    tally t = {{0}};
    tally_doc(doc, &t);
    fprintf(o, "<section class=\"test\" id=\"doc-%d\">\n<h2>", index);
    report_xml_escape(o, jx_str(doc, "test")[0] ? jx_str(doc, "test") : "unknown", REPORT_XML_HTML);
    if (jx_str(doc, "mode")[0]) {
        report_xml_wrap(o, " <small>", jx_str(doc, "mode"), "</small>", REPORT_XML_HTML);
    }
    fputs(" ", o);
    status_cell(o, worst(&t));
    fputs("</h2>\n", o);
    meta_line(o, doc, file);
    thresholds_table(o, doc);
    advice_list(o, doc);
    stats_list(o, doc);
    by_name_table(o, doc);
    charts(pg, doc);
    size_t i;
    json_t *run;
    json_array_foreach(json_object_get(doc, "runs"), i, run) {
        if (!json_is_object(run)) continue;
        report_xml_wrap(o, "<section class=\"run\">\n<h3>", jx_str(doc, "test"), " ",
                        REPORT_XML_HTML);
        report_xml_escape(o, jx_str(run, "mode")[0] ? jx_str(run, "mode") : "run", REPORT_XML_HTML);
        tally rt = {{0}};
        tally_doc(run, &rt);
        fputs(" ", o);
        status_cell(o, worst(&rt));
        fputs("</h3>\n", o);
        meta_line(o, run, NULL);
        stats_list(o, run);
        charts(pg, run);
        fputs("</section>\n", o);
    }
    fputs("</section>\n", o);
}

int html_write(FILE *out, json_t *const *docs, const char *const *names, int n, char *err,
               size_t errlen) {
    page pg = {out, 0};
    page_head(out, docs, n);
    page_header(out, docs, names, n);
    for (int i = 0; i < n; i++) doc_section(&pg, docs[i], names ? names[i] : NULL, i + 1);
    fputs("</main>\n<footer>Generated by brink " BRINK_VERSION " from ", out);
    fprintf(out,
            "%d result document%s (schema brink.result/1). Self-contained: no scripts, no "
            "network.</footer>\n</body>\n</html>\n",
            n, n == 1 ? "" : "s");
    if (ferror(out)) {
        err_set(err, errlen, "cannot write the HTML report");
        return -1;
    }
    return 0;
}
