/* svg.c — the HTML report's charts, written as SVG text by hand (no packaged library draws
 * charts in C). A chart is a plot area inside margins: data coordinates map linearly to the view
 * box, the x axis may be HdrHistogram's percentile axis (the caller passes u = log10(1/(1-p))
 * and the ticks read 90%, 99%, 99.9% ...). Series are told apart by dash pattern and marker
 * shape as well as by colour (Okabe-Ito palette), bands by hatch patterns and their labels, so
 * the charts survive a black-and-white printer. Numbers are written with one decimal: a chart
 * of 2000 points stays a few tens of kilobytes. Nothing here reads the result document; html.c
 * picks the data and calls these functions in order: begin, bands, axes, lines/bars, legend,
 * end. Every string is escaped (documents carry user input). */
#include "report/svg.h"
#include "report/xml.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *color, *dash;
    double width;
} styles[SVG__NSTYLES] = {
    [SVG_SOLID] = {"#0072B2", NULL, 2.2},      [SVG_DASHED] = {"#555555", "7 4", 1.8},
    [SVG_DOTTED] = {"#E69F00", "2 3", 2.2},    [SVG_DASHDOT] = {"#D55E00", "8 3 2 3", 1.8},
    [SVG_LONGDASH] = {"#009E73", "14 5", 1.8}, [SVG_THIN] = {"#CC79A7", NULL, 1.2},
};

void svg_chart_init(svg_chart *c, FILE *out, int id, const char *cls) {
    memset(c, 0, sizeof *c);
    c->out = out;
    c->id = id;
    c->cls = cls;
    c->w = 860;
    c->h = 340;
    c->ml = 66;
    c->mr = 66;
    c->mt = 52;
    c->mb = 50;
    c->x.max = c->y.max = c->y2.max = 1;
}

double svg_nice_step(double lo, double hi, int target) {
    double range = hi - lo;
    if (!(range > 0) || !isfinite(range) || target < 1) return 1;
    double raw = range / target;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return nice * mag;
}

void svg_axis_nice(double *lo, double *hi, bool from_zero) {
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
        return;
    }
    if (from_zero && *lo > 0) *lo = 0;
    if (*hi <= *lo) *hi = *lo + (*lo != 0 ? fabs(*lo) * 0.1 : 1);
    double step = svg_nice_step(*lo, *hi, 5);
    *lo = floor(*lo / step) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
    if (*hi <= *lo) *hi = *lo + step;
}

void svg_tick_label(double v, char *out, size_t outlen) {
    double a = fabs(v);
    if (a < 1e-12)
        snprintf(out, outlen, "0");
    else if (a >= 1e7)
        snprintf(out, outlen, "%.4gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(out, outlen, "%.4gk", v / 1e3);
    else
        snprintf(out, outlen, "%.4g", v);
}

void svg_pct_label(double u, char *out, size_t outlen) {
    int k = (int)lround(u);
    if (k <= 0) {
        snprintf(out, outlen, "0%%");
        return;
    }
    if (k > 12) k = 12;
    /* 100 * (1 - 10^-k) printed with k - 2 decimals: 90%, 99%, 99.9%, 99.99% ... */
    snprintf(out, outlen, "%.*f%%", k > 2 ? k - 2 : 0, 100.0 * (1.0 - pow(10, -k)));
}

static double px(const svg_chart *c, double x) {
    double span = c->x.max - c->x.min;
    double f = span > 0 ? (x - c->x.min) / span : 0;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    return c->ml + f * (c->w - c->ml - c->mr);
}

static double py_axis(const svg_chart *c, const svg_axis *a, double y) {
    double span = a->max - a->min;
    double f = span > 0 ? (y - a->min) / span : 0;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    return c->h - c->mb - f * (c->h - c->mt - c->mb);
}

static void pattern_defs(svg_chart *c) {
    FILE *o = c->out;
    int id = c->id;
    fprintf(o, "<defs>");
    fprintf(o,
            "<pattern id=\"c%d-fault\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
            "patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#fbe3dc\"/>"
            "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#D55E00\" stroke-width=\"2\" "
            "stroke-opacity=\"0.45\"/></pattern>",
            id);
    fprintf(o,
            "<pattern id=\"c%d-recovery\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
            "patternTransform=\"rotate(-45)\"><rect width=\"8\" height=\"8\" fill=\"#e2f3ec\"/>"
            "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#009E73\" stroke-width=\"1\" "
            "stroke-opacity=\"0.5\"/></pattern>",
            id);
    fprintf(o,
            "<pattern id=\"c%d-drain\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\">"
            "<rect width=\"8\" height=\"8\" fill=\"#e3eef8\"/><line x1=\"0\" y1=\"4\" x2=\"8\" "
            "y2=\"4\" stroke=\"#0072B2\" stroke-width=\"1\" stroke-opacity=\"0.4\"/></pattern>",
            id);
    fprintf(o,
            "<pattern id=\"c%d-grey\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
            "<rect width=\"6\" height=\"6\" fill=\"#f3f3f3\"/><circle cx=\"3\" cy=\"3\" r=\"0.9\" "
            "fill=\"#999\"/></pattern>",
            id);
    for (int s = 0; s < SVG__NSTYLES; s++)
        fprintf(
            o,
            "<pattern id=\"c%d-bar%d\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
            "patternTransform=\"rotate(%d)\"><rect width=\"6\" height=\"6\" fill=\"%s\" "
            "fill-opacity=\"0.25\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"%s\" "
            "stroke-width=\"1.5\"/></pattern>",
            id, s, s % 2 ? -45 : 45, styles[s].color, styles[s].color);
    fprintf(o, "</defs>\n");
}

void svg_begin(svg_chart *c, const char *title) {
    FILE *o = c->out;
    /* inline in HTML: the parser puts <svg> in the SVG namespace, no xmlns needed */
    fprintf(o, "<svg class=\"chart ");
    report_xml_escape(o, c->cls, REPORT_XML_HTML);
    fprintf(o,
            "\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
            "aria-label=\"",
            c->w, c->h, c->w, c->h);
    report_xml_escape(o, title, REPORT_XML_HTML);
    fprintf(o, "\" font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"12\">\n<title>");
    report_xml_escape(o, title, REPORT_XML_HTML);
    fprintf(o, "</title>\n");
    pattern_defs(c);
    fprintf(o, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", c->w,
            c->h);
    c->legend_x = c->ml;
}

void svg_band(svg_chart *c, double x0, double x1, const char *label, svg_fill fill) {
    if (!isfinite(x0) || !isfinite(x1) || x1 < x0) return;
    FILE *o = c->out;
    double a = px(c, x0), b = px(c, x1);
    double top = c->mt, bottom = c->h - c->mb;
    static const char *const ids[] = {NULL, "grey", "fault", "recovery", "drain"};
    if (fill != SVG_FILL_NONE && b > a)
        fprintf(o,
                "<rect class=\"band\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"url(#c%d-%s)\"/>\n",
                a, top, b - a, bottom - top, c->id, ids[fill]);
    fprintf(o,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
            "stroke-dasharray=\"3 3\"/>\n",
            a, top, a, bottom);
    if (!label || !label[0]) return;
    double width = b - a, need = 6.5 * (double)strlen(label) + 6;
    if (width >= need) { /* above the plot, under the legend: no line runs through it */
        fprintf(o,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
                "fill=\"#333\">",
                (a + b) / 2, top - 5);
    } else {
        fprintf(o,
                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#333\" "
                "transform=\"rotate(90 %.1f %.1f)\">",
                a + 3, top + 4, a + 3, top + 4);
    }
    report_xml_escape(o, label, REPORT_XML_HTML);
    fprintf(o, "</text>\n");
}

static void axis_ticks(svg_chart *c, const svg_axis *a, bool horizontal, bool right) {
    FILE *o = c->out;
    char lab[48];
    double lo = a->min, hi = a->max;
    double step = a->kind == SVG_AXIS_PCT ? 1 : svg_nice_step(lo, hi, horizontal ? 8 : 5);
    double first = a->kind == SVG_AXIS_PCT ? ceil(lo - 1e-9) : ceil(lo / step - 1e-9) * step;
    for (int i = 0; i < 60; i++) {
        double v = first + i * step;
        if (v > hi + step * 1e-6) break;
        if (fabs(v) < step * 1e-9) v = 0;
        if (a->kind == SVG_AXIS_PCT)
            svg_pct_label(v, lab, sizeof lab);
        else
            svg_tick_label(v, lab, sizeof lab);
        if (horizontal) {
            double x = px(c, v), y = c->h - c->mb;
            fprintf(o,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                    x, c->mt, x, y, x, y, x, y + 5, x, y + 18, lab);
        } else {
            double y = py_axis(c, a, v);
            double x = right ? c->w - c->mr : c->ml;
            if (!right)
                fprintf(o,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#e4e4e4\"/>",
                        c->ml, y, c->w - c->mr, y);
            fprintf(o,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n",
                    x, y, right ? x + 5 : x - 5, y, right ? x + 8 : x - 8, y + 4,
                    right ? "start" : "end", lab);
        }
    }
}

void svg_axes(svg_chart *c) {
    FILE *o = c->out;
    double l = c->ml, r = c->w - c->mr, t = c->mt, b = c->h - c->mb;
    axis_ticks(c, &c->x, true, false);
    axis_ticks(c, &c->y, false, false);
    if (c->has_y2) axis_ticks(c, &c->y2, false, true);
    fprintf(o, "<path d=\"M%.1f %.1fV%.1fH%.1f", l, t, b, r);
    if (c->has_y2) fprintf(o, "V%.1f", t);
    fprintf(o, "\" fill=\"none\" stroke=\"#333\"/>\n");
    if (c->x.label) {
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis-label\">",
                (l + r) / 2, c->h - 10);
        report_xml_escape(o, c->x.label, REPORT_XML_HTML);
        fprintf(o, "</text>\n");
    }
    if (c->y.label) {
        fprintf(o,
                "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis-label\" "
                "transform=\"rotate(-90 14 %.1f)\">",
                (t + b) / 2, (t + b) / 2);
        report_xml_escape(o, c->y.label, REPORT_XML_HTML);
        fprintf(o, "</text>\n");
    }
    if (c->has_y2 && c->y2.label) {
        double x = c->w - 12;
        fprintf(o,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis-label\" "
                "transform=\"rotate(90 %.1f %.1f)\">",
                x, (t + b) / 2, x, (t + b) / 2);
        report_xml_escape(o, c->y2.label, REPORT_XML_HTML);
        fprintf(o, "</text>\n");
    }
}

static void marker(FILE *o, svg_style s, double x, double y) {
    switch (s) {
    case SVG_SOLID: fprintf(o, "M%.1f %.1fa3 3 0 1 0 6 0a3 3 0 1 0-6 0", x - 3, y); break;
    case SVG_DOTTED: fprintf(o, "M%.1f %.1fh6v6h-6z", x - 3, y - 3); break;
    case SVG_DASHDOT: fprintf(o, "M%.1f %.1fl3.5 6h-7z", x, y - 3.5); break;
    case SVG_LONGDASH: fprintf(o, "M%.1f %.1fl4 4-4 4-4-4z", x, y - 4); break;
    case SVG_THIN: fprintf(o, "M%.1f %.1fl6 6m0-6l-6 6", x - 3, y - 3); break;
    default: break;
    }
}

static void ring(FILE *o, double x, double y) {
    fprintf(o, "M%.1f %.1fa7 7 0 1 0 14 0a7 7 0 1 0-14 0", x - 7, y);
}

static void stroke_attrs(FILE *o, svg_style s, double width) {
    fprintf(o, " stroke=\"%s\" stroke-width=\"%.1f\"", styles[s].color, width);
    if (styles[s].dash) fprintf(o, " stroke-dasharray=\"%s\"", styles[s].dash);
}

void svg_line(svg_chart *c, const double *xs, const double *ys, int n, svg_style s, bool right) {
    FILE *o = c->out;
    const svg_axis *a = right && c->has_y2 ? &c->y2 : &c->y;
    int valid = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(xs[i]) && isfinite(ys[i])) valid++;
    if (!valid) return;
    fprintf(o, "<path class=\"series\" fill=\"none\" stroke-linejoin=\"round\"");
    stroke_attrs(o, s, styles[s].width);
    fprintf(o, " d=\"");
    bool pen = false;
    for (int i = 0; i < n; i++) {
        if (!isfinite(xs[i]) || !isfinite(ys[i])) {
            pen = false;
            continue;
        }
        double x = px(c, xs[i]), y = py_axis(c, a, ys[i]);
        /* a lone point still shows: a zero-length segment with round caps is invisible, so
         * the markers below carry it */
        fprintf(o, "%s%.1f %.1f", pen ? "L" : "M", x, y);
        pen = true;
    }
    fprintf(o, "\"/>\n");
    if (s == SVG_DASHED) return;
    int every = valid > 24 ? valid / 24 : 1, k = 0;
    fprintf(o, "<path class=\"markers\" fill=\"%s\" stroke=\"%s\" stroke-width=\"1\" d=\"",
            s == SVG_THIN ? "none" : styles[s].color, styles[s].color);
    for (int i = 0; i < n; i++) {
        if (!isfinite(xs[i]) || !isfinite(ys[i])) continue;
        if (k++ % every) continue;
        marker(o, s, px(c, xs[i]), py_axis(c, a, ys[i]));
    }
    fprintf(o, "\"/>\n");
}

void svg_points(svg_chart *c, const double *xs, const double *ys, int n, svg_style s, bool right) {
    FILE *o = c->out;
    const svg_axis *a = right && c->has_y2 ? &c->y2 : &c->y;
    /* a ring around the point: it marks a point of another series without hiding it */
    fprintf(o, "<path class=\"points\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"",
            styles[s].color);
    for (int i = 0; i < n; i++)
        if (isfinite(xs[i]) && isfinite(ys[i])) ring(o, px(c, xs[i]), py_axis(c, a, ys[i]));
    fprintf(o, "\"/>\n");
}

void svg_bars(svg_chart *c, const double *x0, const double *x1, const double *ys, int n,
              svg_style s) {
    FILE *o = c->out;
    fprintf(o, "<g class=\"bars\" fill=\"url(#c%d-bar%d)\" stroke=\"%s\" stroke-width=\"1\">",
            c->id, (int)s, styles[s].color);
    for (int i = 0; i < n; i++) {
        if (!isfinite(x0[i]) || !isfinite(x1[i]) || !isfinite(ys[i]) || ys[i] <= 0) continue;
        double a = px(c, x0[i]), b = px(c, x1[i]), y = py_axis(c, &c->y, ys[i]);
        double base = c->h - c->mb;
        if (b - a > 2) { /* a hair of space between neighbours */
            a += 0.5;
            b -= 0.5;
        }
        fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", a, y,
                b - a > 0.5 ? b - a : 0.5, base - y);
    }
    fprintf(o, "</g>\n");
}

void svg_vline(svg_chart *c, double x, const char *label) {
    if (!isfinite(x)) return;
    FILE *o = c->out;
    double a = px(c, x);
    fprintf(o,
            "<line class=\"marker-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "stroke=\"#000\" stroke-width=\"1.2\" stroke-dasharray=\"1 3\"/>\n",
            a, c->mt, a, c->h - c->mb);
    if (!label || !label[0]) return;
    bool left = a > c->w - c->mr - 120; /* keep the label inside the plot */
    fprintf(o,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%s\" "
            "paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">",
            left ? a - 4 : a + 4, c->mt + 28, left ? "end" : "start");
    report_xml_escape(o, label, REPORT_XML_HTML);
    fprintf(o, "</text>\n");
}

void svg_note(svg_chart *c, double x, double y, const char *text) {
    if (!isfinite(x) || !isfinite(y)) return;
    FILE *o = c->out;
    fprintf(o,
            "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" "
            "paint-order=\"stroke\" stroke=\"#fff\" stroke-width=\"3\">",
            px(c, x), py_axis(c, &c->y, y));
    report_xml_escape(o, text, REPORT_XML_HTML);
    fprintf(o, "</text>\n");
}

void svg_legend(svg_chart *c, const char *label, svg_style s, bool bars) {
    FILE *o = c->out;
    double x = c->legend_x, y = 18;
    if (bars) {
        fprintf(o,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"11\" fill=\"url(#c%d-bar%d)\" "
                "stroke=\"%s\"/>",
                x, y - 6, c->id, (int)s, styles[s].color);
    } else {
        fprintf(o, "<path fill=\"none\"");
        stroke_attrs(o, s, styles[s].width);
        fprintf(o, " d=\"M%.1f %.1fh28\"/>", x, y);
        if (s != SVG_DASHED) {
            fprintf(o, "<path fill=\"%s\" stroke=\"%s\" d=\"",
                    s == SVG_THIN ? "none" : styles[s].color, styles[s].color);
            marker(o, s, x + 14, y);
            fprintf(o, "\"/>");
        }
    }
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">", x + 34, y + 4);
    report_xml_escape(o, label, REPORT_XML_HTML);
    fprintf(o, "</text>\n");
    c->legend_x = x + 34 + 7.0 * (double)strlen(label) + 22;
}

void svg_legend_points(svg_chart *c, const char *label, svg_style s) {
    FILE *o = c->out;
    double x = c->legend_x, y = 18;
    fprintf(o, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", styles[s].color);
    ring(o, x + 14, y);
    fprintf(o, "\"/><text x=\"%.1f\" y=\"%.1f\">", x + 34, y + 4);
    report_xml_escape(o, label, REPORT_XML_HTML);
    fprintf(o, "</text>\n");
    c->legend_x = x + 34 + 7.0 * (double)strlen(label) + 22;
}

void svg_end(svg_chart *c) {
    fprintf(c->out, "</svg>\n");
}
