/* svg.h — charts drawn as inline SVG text, for the HTML report: axes with nice ticks (linear,
 * or HdrHistogram's percentile axis 1/(1-p) on a log scale), lines that break at missing values,
 * bars, shaded and labelled bands (test phases), vertical markers and a legend. Every series
 * differs by dash pattern and marker as well as by colour, so a chart reads in black and white.
 * Pure output: no allocation that outlives a call, nothing read from the document. */
#ifndef BRINK_SVG_H
#define BRINK_SVG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum svg_axis_kind {
    SVG_AXIS_LINEAR,
    SVG_AXIS_PCT, /* values are log10(1/(1-p)); ticks labelled 0%, 90%, 99%, 99.9% ... */
} svg_axis_kind;

typedef struct svg_axis {
    double min, max;
    const char *label; /* "time (s)" */
    svg_axis_kind kind;
} svg_axis;

/* Series styles: each has its own colour, dash pattern and marker. */
typedef enum svg_style {
    SVG_SOLID,    /* dark blue, solid, circles */
    SVG_DASHED,   /* grey, dashed, no marker */
    SVG_DOTTED,   /* orange, dotted, squares */
    SVG_DASHDOT,  /* red, dash-dot, triangles */
    SVG_LONGDASH, /* green, long dashes, diamonds */
    SVG_THIN,     /* purple, thin solid, crosses */
    SVG__NSTYLES,
} svg_style;

/* Band (phase) fills: a hatch or dot pattern and a label, so no colour is needed. */
typedef enum svg_fill {
    SVG_FILL_NONE, /* label only */
    SVG_FILL_GREY, /* light dots */
    SVG_FILL_FAULT,
    SVG_FILL_RECOVERY,
    SVG_FILL_DRAIN,
} svg_fill;

typedef struct svg_chart {
    FILE *out;
    int id;          /* unique in the page: prefixes pattern ids */
    const char *cls; /* CSS class of the <svg>, e.g. "chart-timeline" */
    double w, h;     /* view box size */
    double ml, mr, mt, mb;
    svg_axis x, y, y2;
    bool has_y2;
    double legend_x; /* where the next legend entry goes */
} svg_chart;

/* Sets defaults (860 x 340, margins for two y axes); the caller fills the axes. */
void svg_chart_init(svg_chart *c, FILE *out, int id, const char *cls);
/* Widens [*lo, *hi] to nice round bounds (from 0 when from_zero and the data are positive). */
void svg_axis_nice(double *lo, double *hi, bool from_zero);
/* The tick step for [lo, hi] aiming at about target ticks: 1, 2 or 5 times a power of ten. */
double svg_nice_step(double lo, double hi, int target);
/* A tick label: "%g"-like with at most 4 significant digits, thousands as "12k". */
void svg_tick_label(double v, char *out, size_t outlen);
/* The label of a percentile-axis tick at u = log10(1/(1-p)): "0%", "90%", "99.9%". */
void svg_pct_label(double u, char *out, size_t outlen);

/* <svg> with the title (for screen readers too) and the pattern definitions. */
void svg_begin(svg_chart *c, const char *title);
/* A vertical band [x0, x1] in data units, filled and labelled at its top. */
void svg_band(svg_chart *c, double x0, double x1, const char *label, svg_fill fill);
/* Grid, ticks, tick labels and axis labels. */
void svg_axes(svg_chart *c);
/* A polyline over (xs[i], ys[i]); a NaN or infinite value breaks the line. */
void svg_line(svg_chart *c, const double *xs, const double *ys, int n, svg_style s, bool right);
/* Markers only (no line) at every finite point. */
void svg_points(svg_chart *c, const double *xs, const double *ys, int n, svg_style s, bool right);
/* Bars [x0[i], x1[i]] x [0, ys[i]], hatched in the style's colour. */
void svg_bars(svg_chart *c, const double *x0, const double *x1, const double *ys, int n,
              svg_style s);
/* A vertical marker line at x with a label. */
void svg_vline(svg_chart *c, double x, const char *label);
/* A free text at data coordinates (escaped). */
void svg_note(svg_chart *c, double x, double y, const char *text);
/* One legend entry (line sample, marker, label), laid out left to right above the plot. */
void svg_legend(svg_chart *c, const char *label, svg_style s, bool bars);
/* A legend entry for svg_points: the marker alone. */
void svg_legend_points(svg_chart *c, const char *label, svg_style s);
void svg_end(svg_chart *c);

#endif
