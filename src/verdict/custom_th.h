/* custom_th.h — thresholds given on the command line (--threshold) for any run, as k6's are: a
 * condition on a number of the result document's .stats that must hold, with an optional orange
 * bound, e.g.
 *     p99_ms<500              red when p99_ms >= 500
 *     p99_ms<500 orange<250   orange when p99_ms >= 250, red when >= 500
 *     error_rate<=0.001       red when error_rate > 0.001
 *     rps>=450 orange>=490    red below 450, orange below 490
 *     get_order.p99_ms<50     a scenario's request get_order (.by_name.get_order.p99_ms)
 * Each becomes one verdict (test "custom") in .thresholds and .advice, the terminal table and
 * the JUnit report; a red one ends the run with exit 99. */
#ifndef BRINK_CUSTOM_TH_H
#define BRINK_CUSTOM_TH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "verdict/threshold.h"

#define CUSTOM_TH_MAX 32

typedef enum custom_op { CT_LT, CT_LE, CT_GT, CT_GE } custom_op;

typedef struct custom_th {
    char text[160];  /* as given, for the evidence */
    char metric[64]; /* a .stats key */
    char what[200];  /* "your threshold p99_ms<500 orange<250" */
    custom_op op;    /* the condition that must hold */
    double red;      /* its bound */
    bool has_orange;
    custom_op orange_op; /* the same direction as op */
    double orange;
} custom_th;

typedef struct custom_th_list {
    custom_th t[CUSTOM_TH_MAX];
    int n;
} custom_th_list;

/* Parses one condition ("p99_ms<500 orange<250") into t: 0, or -1 with a one-line reason. */
int custom_th_parse(const char *s, custom_th *t, char *err, size_t errlen);
/* Adds one parsed condition to l (core/cli.h's CLI_FN: dest is the list). */
int custom_th_add(const char *value, void *dest, char *err, size_t errlen);
/* Refuses (-1, one line listing the names) a condition on a metric not in names[0..n). */
int custom_th_check(const custom_th_list *l, const char *const *names, int n, char *err,
                    size_t errlen);
/* The same for a run with named requests (a scenario's): a NAME.metric condition needs NAME among
 * reqs[0..nreq) and metric among req_metrics (NULL-terminated); the others are checked against
 * names as custom_th_check does. */
int custom_th_check_named(const custom_th_list *l, const char *const *names, int n,
                          const char *const *reqs, int nreq, const char *const *req_metrics,
                          char *err, size_t errlen);
/* Judges every condition against the document's .stats, appends the verdicts to its
 * .thresholds and .advice (creating them), and to rs[*nrs..max) when rs is given. Returns the
 * worst status (TH_GREEN without conditions); a metric the document lacks is skipped. */
th_status custom_th_apply(const custom_th_list *l, json_t *doc, th_result *rs, int *nrs, int max);
/* custom_th_apply, then the verdicts' table on out under "thresholds (--threshold)" (nothing
 * without conditions). Returns the worst status. */
th_status custom_th_report(const custom_th_list *l, json_t *doc, FILE *out);

#endif
