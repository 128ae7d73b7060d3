/* scenario.h — a load scenario: named requests mixed by weight, flows of steps per virtual user
 * with values captured from responses, and checks on every response (brink load -f FILE, or the
 * load: section of brink.yaml). The loader (config/scenario_yaml.c) reads and validates the YAML
 * — templates, JSON paths, patterns, which variable each step may use — so that the engine only
 * runs it. The format is documented in docs/scenarios.md:
 *
 *   target: http://127.0.0.1:8080          # optional: the URL on the command line wins
 *   requests:
 *     create:
 *       method: POST
 *       url: /orders                       # a path (joined to the target), or the target's URL
 *       headers: {Content-Type: application/json}
 *       body: '{"n": {{seq}}}'             # or body: "@file.json" (relative to the YAML file)
 *       sign: true                         # with the run's --sign scheme (default: signed when
 *                                          # the run signs)
 *       weight: 3                          # share of the mix (default 1 without flows, 0 with)
 *       expect:
 *         status: 2xx                      # 201, "2xx", "200-204", [200, 409]
 *         json:
 *           - {path: id, exists: true}
 *           - {path: state, equals: open}
 *           - {path: id, matches: '^ord-'}
 *           - {path: total, gt: 0}         # lt, le, gt, ge
 *       capture: {order_id: id}            # variables for the flow's later steps
 *     get: {url: '/orders/{{order_id}}'}
 *   flows:
 *     buy:
 *       weight: 1
 *       think: 100ms                       # default pause after each step
 *       steps: [create, {request: get, think: 0s}]
 *   thresholds: ['checks>=0.999', 'get.p99_ms<50']
 */
#ifndef BRINK_SCENARIO_H
#define BRINK_SCENARIO_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/tmpl.h"
#include "http/status_set.h"

#define SCN_MAX_REQUESTS   32
#define SCN_MAX_FLOWS      16
#define SCN_MAX_STEPS      32
#define SCN_MAX_CHECKS     16 /* JSON checks per request */
#define SCN_MAX_CAPTURES   8  /* per request */
#define SCN_MAX_HEADERS    32 /* per request */
#define SCN_MAX_THRESHOLDS 32
#define SCN_NAME_MAX       48 /* request and flow names: [A-Za-z0-9_-], at most this long */
#define SCN_BODY_MAX       (16u << 20) /* most bytes of a body read from a file (body: "@FILE") */

typedef enum scn_op {
    SCN_EXISTS,  /* the path has a value (not null) */
    SCN_ABSENT,  /* exists: false — the path has no value */
    SCN_EQUALS,  /* its text (jpath_scalar) equals */
    SCN_MATCHES, /* its text matches a POSIX extended regular expression */
    SCN_LT,
    SCN_LE,
    SCN_GT,
    SCN_GE, /* a number compared */
} scn_op;

typedef struct scn_check {
    char *path;
    scn_op op;
    char *text;  /* EQUALS: the value; MATCHES: the pattern */
    double num;  /* LT..GE; EQUALS when is_num */
    bool is_num; /* EQUALS: the value is a number (a JSON number is then compared as one) */
    regex_t re;  /* MATCHES, compiled (REG_EXTENDED | REG_NOSUB) */
    bool has_re;
    char label[128]; /* for reports: "id exists", "state == open", "total > 0" */
} scn_check;

typedef struct scn_capture {
    int var; /* index into scenario.vars */
    char *path;
} scn_capture;

typedef struct scn_request {
    char name[SCN_NAME_MAX + 1];
    char *method; /* default GET (POST when there is a body) */
    char *url;    /* the path template (with the query) to send, starting with '/' */
    char *origin; /* "scheme://host:port" when the YAML gave a full URL (checked against the
                   * scenario's target when it has one, else left to the command); else NULL */
    char *headers[SCN_MAX_HEADERS]; /* "Name: value" templates */
    int nheaders;
    char *body; /* template, body_len bytes; NULL: none */
    size_t body_len;
    int sign;      /* -1: as the run (signed when the run has --sign); 0: never; 1: always */
    double weight; /* of the mix; 0: only as a step of a flow */
    bool has_status;
    status_set status;     /* expected statuses (has_status); else any status < 400 passes */
    char status_label[80]; /* the status check's label: "status 2xx", "status 200,409" */
    scn_check checks[SCN_MAX_CHECKS];
    int nchecks;
    scn_capture captures[SCN_MAX_CAPTURES];
    int ncaptures;
    uint32_t uses_vars; /* bit i: a template of this request uses variable i */
} scn_request;

typedef struct scn_step {
    int req;          /* index into scenario.req */
    int64_t think_ns; /* pause after this step's response, before the next step */
} scn_step;

typedef struct scn_flow {
    char name[SCN_NAME_MAX + 1];
    double weight;
    scn_step steps[SCN_MAX_STEPS];
    int nsteps;
} scn_flow;

typedef struct scenario {
    char *file;   /* where it came from, for messages */
    char *target; /* NULL: none given */
    scn_request req[SCN_MAX_REQUESTS];
    int nreq;
    scn_flow flow[SCN_MAX_FLOWS];
    int nflows;
    char *vars[TMPL_VARS_MAX]; /* every captured variable's name */
    int nvars;
    char *thresholds[SCN_MAX_THRESHOLDS]; /* conditions as --threshold takes them */
    int nthresholds;
} scenario;

void scenario_free(scenario *s);

/* Index of a request by name, or -1. */
int scenario_request(const scenario *s, const char *name);
/* The total weight of the mix (requests and flows with weight > 0). */
double scenario_total_weight(const scenario *s);

#endif
