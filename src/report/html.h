/* html.h — the browser report: one self-contained HTML file (inline CSS and SVG, no script, no
 * network, no external font or image) from one or more result documents: a header with the
 * overall verdict, then per test its threshold table, advice, headline numbers and the charts
 * its data allows (rate and p99 over time with the phases shaded, the latency percentile
 * spectrum, backlog over time, race resolution histogram, capacity steps). */
#ifndef BRINK_HTML_H
#define BRINK_HTML_H

#include <jansson.h>
#include <stdio.h>

/* Timelines longer than this are downsampled (per bucket: mean rates, worst p99). */
#define HTML_MAX_POINTS 2000

/* Writes the page for docs[0..n); names[i] (may be NULL) labels document i (its file). 0, or
 * -1 with a one-line reason (write error). */
int html_write(FILE *out, json_t *const *docs, const char *const *names, int n, char *err,
               size_t errlen);

#endif
