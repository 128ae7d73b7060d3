/* scenario.c — a loaded scenario's lookups and its release (the loader is config/scenario_yaml.c).
 */
#include "load/scenario.h"

#include <stdlib.h>
#include <string.h>

static void request_free(scn_request *r) {
    free(r->method);
    free(r->url);
    free(r->origin);
    for (int i = 0; i < r->nheaders && i < SCN_MAX_HEADERS; i++) free(r->headers[i]);
    free(r->body);
    for (int i = 0; i < r->nchecks && i < SCN_MAX_CHECKS; i++) {
        free(r->checks[i].path);
        free(r->checks[i].text);
        if (r->checks[i].has_re) regfree(&r->checks[i].re);
    }
    for (int i = 0; i < r->ncaptures && i < SCN_MAX_CAPTURES; i++) free(r->captures[i].path);
}

void scenario_free(scenario *s) {
    if (!s) return;
    free(s->file);
    free(s->target);
    for (int i = 0; i < s->nreq && i < SCN_MAX_REQUESTS; i++) request_free(&s->req[i]);
    for (int i = 0; i < s->nvars && i < TMPL_VARS_MAX; i++) free(s->vars[i]);
    for (int i = 0; i < s->nthresholds && i < SCN_MAX_THRESHOLDS; i++) free(s->thresholds[i]);
    memset(s, 0, sizeof *s);
}

int scenario_request(const scenario *s, const char *name) {
    for (int i = 0; i < s->nreq; i++)
        if (!strcmp(s->req[i].name, name)) return i;
    return -1;
}

double scenario_total_weight(const scenario *s) {
    double w = 0;
    for (int i = 0; i < s->nreq; i++)
        if (s->req[i].weight > 0) w += s->req[i].weight;
    for (int i = 0; i < s->nflows; i++)
        if (s->flow[i].weight > 0) w += s->flow[i].weight;
    return w;
}
