/* test_scenario.c — load scenarios (load/scenario.h): a complete file (a mix, a flow, checks,
 * captures, a body from a file, thresholds) and its defaults, the load: section of a bigger file,
 * freeing, and one line with the file, the line and the key for each kind of mistake (unknown
 * keys, names, steps, variables used before they are captured or by a request of the mix, checks,
 * patterns, JSON paths, statuses, body files, weights, thresholds, placeholders). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/scenario_yaml.h"
#include "unit.h"

static unit_tmp tmp; /* tmp.file: scenario.yaml */
static char body_file[300];

static int setup(void **state) {
    if (unit_tmp_make(&tmp, "scenario", "scenario.yaml") < 0) return -1;
    snprintf(body_file, sizeof body_file, "%s/body.json", tmp.dir);
    return 0;
}

static int teardown(void **state) {
    unlink(body_file);
    unit_tmp_remove(&tmp);
    return 0;
}

static int load(const char *text, scenario *s, char *err, size_t errlen) {
    unit_write_file(tmp.file, text);
    return scenario_load(tmp.file, s, err, errlen);
}

static const char FULL[] = "target: http://127.0.0.1:8080\n"
                           "requests:\n"
                           "  create:\n"
                           "    method: POST\n"
                           "    url: /orders\n"
                           "    headers: {Content-Type: application/json, X-N: 5}\n"
                           "    body: '@body.json'\n"
                           "    sign: true\n"
                           "    weight: 3\n"
                           "    expect:\n"
                           "      status: 2xx\n"
                           "      json:\n"
                           "        - {path: id, exists: true}\n"
                           "        - {path: error, exists: false}\n"
                           "        - {path: state, equals: open}\n"
                           "        - {path: n, equals: 3}\n"
                           "        - {path: ok, equals: true}\n"
                           "        - {path: id, matches: '^ord-'}\n"
                           "        - {path: total, gt: 0}\n"
                           "        - {path: 'items[0].qty', le: 5.5}\n"
                           "    capture: {order_id: id, token: data.token}\n"
                           "  get:\n"
                           "    url: 'http://127.0.0.1:8080/orders/{{order_id}}?t={{token}}'\n"
                           "    headers: {X-Order: '{{order_id}}'}\n"
                           "    expect: {status: [200, 404]}\n"
                           "  list: {url: '/orders?n={{rand:1-9}}', weight: 1, sign: false}\n"
                           "flows:\n"
                           "  buy:\n"
                           "    weight: 2\n"
                           "    think: 100ms\n"
                           "    steps: [create, {request: get, think: 0s}, get]\n"
                           "thresholds: ['checks>=0.999', 'get.p99_ms<50']\n";

static void test_full(void **state) {
    scenario s;
    char err[400];
    unit_write_file(body_file, "{\"n\": {{seq}}}\n");
    if (load(FULL, &s, err, sizeof err) < 0) fail_msg("%s", err);
    assert_string_equal(s.file, tmp.file);
    assert_string_equal(s.target, "http://127.0.0.1:8080");
    assert_int_equal(s.nreq, 3);
    assert_int_equal(s.nvars, 2);
    assert_string_equal(s.vars[0], "order_id");
    assert_string_equal(s.vars[1], "token");

    const scn_request *c = &s.req[0];
    assert_string_equal(c->name, "create");
    assert_string_equal(c->method, "POST");
    assert_string_equal(c->url, "/orders");
    assert_null(c->origin);
    assert_int_equal(c->nheaders, 2);
    assert_string_equal(c->headers[0], "Content-Type: application/json");
    assert_string_equal(c->headers[1], "X-N: 5");
    assert_int_equal(c->body_len, strlen("{\"n\": {{seq}}}\n"));
    assert_memory_equal(c->body, "{\"n\": {{seq}}}\n", c->body_len);
    assert_int_equal(c->sign, 1);
    assert_true(c->weight == 3);
    assert_true(c->has_status);
    assert_true(status_set_has(&c->status, 201));
    assert_false(status_set_has(&c->status, 302));
    assert_string_equal(c->status_label, "status 2xx");
    assert_int_equal(c->nchecks, 8);
    assert_int_equal(c->checks[0].op, SCN_EXISTS);
    assert_string_equal(c->checks[0].label, "id exists");
    assert_int_equal(c->checks[1].op, SCN_ABSENT);
    assert_string_equal(c->checks[1].label, "error absent");
    assert_int_equal(c->checks[2].op, SCN_EQUALS);
    assert_string_equal(c->checks[2].text, "open");
    assert_string_equal(c->checks[2].label, "state == open");
    assert_string_equal(c->checks[3].text, "3");
    assert_string_equal(c->checks[4].text, "true");
    assert_int_equal(c->checks[5].op, SCN_MATCHES);
    assert_true(c->checks[5].has_re);
    assert_int_equal(regexec(&c->checks[5].re, "ord-17", 0, NULL, 0), 0);
    assert_int_not_equal(regexec(&c->checks[5].re, "xord-17", 0, NULL, 0), 0);
    assert_string_equal(c->checks[5].label, "id ~ ^ord-");
    assert_int_equal(c->checks[6].op, SCN_GT);
    assert_true(c->checks[6].num == 0);
    assert_string_equal(c->checks[6].label, "total > 0");
    assert_int_equal(c->checks[7].op, SCN_LE);
    assert_string_equal(c->checks[7].path, "items[0].qty");
    assert_string_equal(c->checks[7].label, "items[0].qty <= 5.5");
    assert_int_equal(c->ncaptures, 2);
    assert_int_equal(c->captures[0].var, 0);
    assert_string_equal(c->captures[0].path, "id");
    assert_int_equal(c->captures[1].var, 1);
    assert_string_equal(c->captures[1].path, "data.token");
    assert_int_equal(c->uses_vars, 0);

    const scn_request *g = &s.req[1];
    assert_string_equal(g->name, "get");
    assert_string_equal(g->method, "GET");
    assert_string_equal(g->url, "/orders/{{order_id}}?t={{token}}");
    assert_string_equal(g->origin, "http://127.0.0.1:8080");
    assert_string_equal(g->headers[0], "X-Order: {{order_id}}");
    assert_null(g->body);
    assert_int_equal(g->sign, -1);
    assert_true(g->weight == 0); /* the scenario has flows */
    assert_true(status_set_has(&g->status, 404));
    assert_false(status_set_has(&g->status, 201));
    assert_string_equal(g->status_label, "status 200,404");
    assert_int_equal(g->nchecks, 0);
    assert_int_equal(g->uses_vars, 3);

    const scn_request *l = &s.req[2];
    assert_true(l->weight == 1);
    assert_int_equal(l->sign, 0);
    assert_false(l->has_status);
    assert_int_equal(l->uses_vars, 0);

    assert_int_equal(s.nflows, 1);
    const scn_flow *f = &s.flow[0];
    assert_string_equal(f->name, "buy");
    assert_true(f->weight == 2);
    assert_int_equal(f->nsteps, 3);
    assert_int_equal(f->steps[0].req, 0);
    assert_int_equal(f->steps[0].think_ns, 100000000);
    assert_int_equal(f->steps[1].req, 1);
    assert_int_equal(f->steps[1].think_ns, 0);
    assert_int_equal(f->steps[2].req, 1);
    assert_int_equal(f->steps[2].think_ns, 100000000);

    assert_int_equal(s.nthresholds, 2);
    assert_string_equal(s.thresholds[0], "checks>=0.999");
    assert_string_equal(s.thresholds[1], "get.p99_ms<50");

    assert_int_equal(scenario_request(&s, "get"), 1);
    assert_int_equal(scenario_request(&s, "buy"), -1);
    assert_true(scenario_total_weight(&s) == 6);
    scenario_free(&s);
    scenario_free(&s); /* twice: zeroed by the first */
    assert_null(s.file);
    assert_int_equal(s.nreq, 0);
}

/* Without flows every request is in the mix; methods, signing and the order of keys. */
static void test_defaults(void **state) {
    scenario s;
    char err[400];
    /* flows before requests, the step's request defined later */
    if (load("flows: {f: {steps: [b]}}\n"
             "requests:\n"
             "  b: {url: /b, body: '{\"x\": 1}'}\n",
             &s, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_true(s.req[0].weight == 0);
    assert_true(s.flow[0].weight == 1);
    assert_int_equal(s.flow[0].steps[0].req, 0);
    assert_int_equal(s.flow[0].steps[0].think_ns, 0);
    assert_string_equal(s.req[0].method, "POST"); /* a body */
    scenario_free(&s);

    if (load("requests:\n"
             "  a: {url: '/a/{{seq}}'}\n"
             "  b: {url: /b, method: PUT, weight: 0.5, body: ''}\n",
             &s, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_null(s.target);
    assert_int_equal(s.nflows, 0);
    assert_int_equal(s.nvars, 0);
    assert_int_equal(s.nthresholds, 0);
    assert_string_equal(s.req[0].method, "GET");
    assert_true(s.req[0].weight == 1);
    assert_int_equal(s.req[0].sign, -1);
    assert_null(s.req[0].body);
    assert_string_equal(s.req[1].method, "PUT");
    assert_non_null(s.req[1].body);
    assert_int_equal(s.req[1].body_len, 0);
    assert_true(scenario_total_weight(&s) == 1.5);
    scenario_free(&s);

    /* a full URL without a target: only its path is kept, the origin for the command */
    if (load("requests: {a: {url: 'https://[::1]/x?y=1'}}\n", &s, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_string_equal(s.req[0].url, "/x?y=1");
    assert_string_equal(s.req[0].origin, "https://[::1]:443");
    scenario_free(&s);

    scenario z;
    memset(&z, 0, sizeof z);
    scenario_free(&z); /* a zeroed scenario */
    scenario_free(NULL);
}

/* brink.yaml's load: section: keys named under it, body files relative to the file. */
static void test_from_node(void **state) {
    unit_write_file(body_file, "{\"id\": \"{{uuid}}\"}");
    unit_write_file(tmp.file, "stack: {}\n"
                              "load:\n"
                              "  requests:\n"
                              "    a: {url: /a, body: '@body.json'}\n"
                              "    b: {url: '/b/{{nope}}'}\n");
    yaml_document_t doc;
    char err[400];
    if (yml_load_file(tmp.file, &doc, err, sizeof err) < 0) fail_msg("%s", err);
    yml_ctx c = {.doc = &doc, .file = tmp.file, .err = err, .errlen = sizeof err};
    const yaml_node_t *k, *v = yml_find(&c, yaml_document_get_root_node(&doc), "load", &k);
    assert_non_null(v);
    scenario s;
    assert_int_equal(scenario_from_node(&c, k, v, "load", &s), -1);
    char want[400];
    snprintf(want, sizeof want, "%s:5: load.requests.b.url: unknown placeholder {{nope}}",
             tmp.file);
    if (strncmp(err, want, strlen(want))) fail_msg("got %s", err);
    scenario_free(&s);
    yaml_document_delete(&doc);

    unit_write_file(tmp.file, "load:\n"
                              "  requests:\n"
                              "    a: {url: /a, body: '@body.json'}\n");
    if (yml_load_file(tmp.file, &doc, err, sizeof err) < 0) fail_msg("%s", err);
    v = yml_find(&c, yaml_document_get_root_node(&doc), "load", &k);
    if (scenario_from_node(&c, k, v, "load", &s) < 0) fail_msg("%s", err);
    assert_string_equal(s.file, tmp.file);
    assert_int_equal(s.req[0].body_len, strlen("{\"id\": \"{{uuid}}\"}"));
    assert_string_equal(s.req[0].method, "POST");
    scenario_free(&s);
    yaml_document_delete(&doc);

    unit_write_file(tmp.file, "load:\n");
    if (yml_load_file(tmp.file, &doc, err, sizeof err) < 0) fail_msg("%s", err);
    v = yml_find(&c, yaml_document_get_root_node(&doc), "load", &k);
    assert_int_equal(scenario_from_node(&c, k, v, "load", &s), -1);
    assert_non_null(strstr(err, ":1: load: expected a mapping"));
    scenario_free(&s);
    yaml_document_delete(&doc);
}

/* expect_error TEXT LINE KEY WORDS: the file fails with "FILE:LINE: KEY: ...WORDS..." */
static void expect_error(const char *text, int line, const char *key, const char *words) {
    scenario s;
    char err[600], want[400];
    assert_int_equal(load(text, &s, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:%d: %s: ", tmp.file, line, key);
    if (strncmp(err, want, strlen(want)) || !strstr(err, words)) {
        print_error("got:  %s\nwant: %s...%s\n", err, want, words);
        fail();
    }
    assert_null(strchr(err, '\n'));
    assert_int_equal(s.nreq, 0); /* freed on failure */
    assert_null(s.file);
    scenario_free(&s);
}

#define REQ_A "requests:\n  a: {url: /a}\n"
#define CAPTURE                                                                                    \
    "requests:\n"                                                                                  \
    "  create: {url: /orders, body: '{}', capture: {order_id: id}}\n"                              \
    "  get: {url: '/orders/{{order_id}}'}\n"

static void test_errors(void **state) {
    /* the file and the top level */
    expect_error("", 1, "(top level)", "empty");
    expect_error("- a\n", 1, "(top level)", "expected a mapping");
    expect_error(REQ_A "flow: {}\n", 3, "flow", "did you mean 'flows'?");
    expect_error("target: http://x\n", 1, "requests", "missing");
    expect_error("requests: {}\n", 1, "requests", "empty");
    expect_error("requests: [a]\n", 1, "requests", "expected a mapping");
    expect_error(REQ_A "target: 'ftp://x'\n", 3, "target", "http:// or https://");
    expect_error(REQ_A "requests: {}\n", 3, "requests", "duplicate key (first at line 1)");

    /* names */
    expect_error("requests:\n  'a b': {url: /}\n", 2, "requests.a b", "letters, digits");
    char long_name[SCN_NAME_MAX + 2], text[200], key[100];
    memset(long_name, 'x', SCN_NAME_MAX + 1);
    long_name[SCN_NAME_MAX + 1] = '\0';
    snprintf(text, sizeof text, "requests:\n  a: {url: /}\n  %s: {url: /}\n", long_name);
    snprintf(key, sizeof key, "requests.%s", long_name);
    expect_error(text, 3, key, "1 to 48");
    text[strlen(text) - strlen("x: {url: /}\n")] = '\0'; /* SCN_NAME_MAX of them: fine */
    strcat(text, ": {url: /}\n");
    scenario ok;
    char err[400];
    if (load(text, &ok, err, sizeof err) < 0) fail_msg("%s", err);
    assert_int_equal(strlen(ok.req[1].name), SCN_NAME_MAX);
    scenario_free(&ok);
    expect_error(REQ_A "flows:\n  a: {steps: [a]}\n", 4, "flows.a", "a request has this name");
    expect_error("flows:\n  a: {steps: [a]}\n" REQ_A, 4, "requests.a", "a flow has this name");

    /* a request's keys */
    expect_error("requests:\n  a: {url: /a, wieght: 2}\n", 2, "requests.a.wieght",
                 "did you mean 'weight'?");
    expect_error("requests:\n  a: {method: GET}\n", 2, "requests.a.url", "missing");
    expect_error("requests:\n  a: {url: a}\n", 2, "requests.a.url", "starting with /");
    expect_error("requests:\n  a: {url: '/a b'}\n", 2, "requests.a.url", "white space");
    expect_error("requests:\n  a: {url: /a, method: post}\n", 2, "requests.a.method", "upper-case");
    expect_error("requests:\n  a: {url: /a, weight: -1}\n", 2, "requests.a.weight", "out of range");
    expect_error("requests:\n  a: {url: /a, sign: yes}\n", 2, "requests.a.sign",
                 "expected true or false");
    expect_error("requests:\n  a: {url: /a, headers: {'Bad Name': x}}\n", 2,
                 "requests.a.headers.Bad Name", "not allowed in a name");
    expect_error("target: http://127.0.0.1:8080\n"
                 "requests:\n  a: {url: 'http://127.0.0.1:9090/a'}\n",
                 3, "requests.a.url", "not on the target http://127.0.0.1:8080");
    expect_error("requests:\n  a: {url: /a}\n"
                 "  b:\n    url: /b\n    body: '@nope.json'\n",
                 5, "requests.b.body", "cannot read the body file");
    expect_error("requests:\n  a: {url: /a, body: [1]}\n", 2, "requests.a.body", "found a list");

    /* templates */
    expect_error("requests:\n  a: {url: '/a/{{x}}'}\n", 2, "requests.a.url",
                 "unknown placeholder {{x}}");
    expect_error(CAPTURE "  c: {url: /c, headers: {X-Id: '{{order}}-{{ordr_id}}'}}\n", 4,
                 "requests.c.headers.X-Id",
                 "unknown placeholder {{ordr_id}} (neither a built-in "
                 "one nor a captured variable: order_id)");
    expect_error("requests:\n  a: {url: /a, body: '{{rand:9-1}}'}\n", 2, "requests.a.body",
                 "bad range");

    /* checks */
    expect_error("requests:\n"
                 "  a:\n"
                 "    url: /a\n"
                 "    expect:\n"
                 "      json:\n"
                 "        - {path: n, equals: 3, gt: 2}\n",
                 6, "requests.a.expect.json[0].gt", "one condition per check");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      json:\n"
                 "        - {path: id, matches: '(ord'}\n",
                 6, "requests.a.expect.json[0].matches", "bad regular expression");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      json:\n"
                 "        - {path: id}\n        - {path: 'a..b', exists: true}\n",
                 6, "requests.a.expect.json[0]", "missing: a condition");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      json:\n"
                 "        - {path: 'a..b', exists: true}\n",
                 6, "requests.a.expect.json[0].path", "empty key");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      json:\n"
                 "        - {exists: true}\n",
                 6, "requests.a.expect.json[0].path", "missing");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      json:\n"
                 "        - {path: n, lt: many}\n",
                 6, "requests.a.expect.json[0].lt", "expected a number");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      json:\n"
                 "        - {path: n, equals: [1]}\n",
                 6, "requests.a.expect.json[0].equals", "expected a string, a number");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      status: 6xx\n", 5,
                 "requests.a.expect.status", "invalid status class");
    expect_error("requests:\n  a:\n    url: /a\n    expect:\n      status: [200, {}]\n", 5,
                 "requests.a.expect.status", "expected a status");
    expect_error("requests:\n  a:\n    url: /a\n    expect: {stauts: 200}\n", 4,
                 "requests.a.expect.stauts", "did you mean 'status'?");

    /* captures */
    expect_error("requests:\n  a:\n    url: /a\n    capture:\n      seq: id\n", 5,
                 "requests.a.capture.seq", "built-in placeholder");
    expect_error("requests:\n  a:\n    url: /a\n    capture:\n      1x: id\n", 5,
                 "requests.a.capture.1x", "a variable's name");
    expect_error("requests:\n  a:\n    url: /a\n    capture:\n      x: 'a[z]'\n", 5,
                 "requests.a.capture.x", "want [N]");

    /* flows and variables */
    expect_error("requests:\n  create: {url: /c}\n"
                 "flows:\n  buy: {steps: [create, creat]}\n",
                 4, "flows.buy.steps[1]",
                 "unknown request 'creat' (requests: create); did you "
                 "mean 'create'?");
    expect_error(CAPTURE "flows:\n"
                         "  buy:\n"
                         "    steps:\n"
                         "      - create\n"
                         "      - get\n"
                         "  bad:\n"
                         "    steps:\n"
                         "      - get\n"
                         "      - create\n",
                 11, "flows.bad.steps[0]",
                 "request get uses {{order_id}}, which no earlier step of the flow captures");
    expect_error("requests:\n"
                 "  create: {url: /orders, capture: {order_id: id}}\n"
                 "  get: {url: '/orders/{{order_id}}', weight: 1}\n"
                 "flows:\n  buy: {steps: [create, get]}\n",
                 3, "requests.get",
                 "uses {{order_id}} but has a weight: a request that needs a captured value can "
                 "only be a step of a flow (weight: 0)");
    expect_error(CAPTURE, 3, "requests.get", "but has a weight"); /* weight 1 without flows */
    expect_error(REQ_A "flows:\n  f: {steps: []}\n", 4, "flows.f.steps", "empty");
    expect_error(REQ_A "flows:\n  f: {weight: 1}\n", 4, "flows.f.steps", "missing");
    expect_error(REQ_A "flows:\n  f: {steps: [a], think: -1s}\n", 4, "flows.f.think",
                 "invalid duration");
    expect_error(REQ_A "flows:\n  f: {steps: [{request: a, thnk: 1s}]}\n", 4,
                 "flows.f.steps[0].thnk", "did you mean 'think'?");
    expect_error(REQ_A "flows:\n  f: {steps: [[a]]}\n", 4, "flows.f.steps[0]",
                 "expected a request's name or {request: NAME");
    expect_error("requests:\n  a: {url: /a}\nflows:\n  f: {steps: [a], weight: 0}\n", 1,
                 "(top level)", "nothing to send: every request and flow has weight 0");

    /* thresholds */
    expect_error(REQ_A "thresholds: ['p99_ms<<5']\n", 3, "thresholds[0]", "'p99_ms<<5': want");
    expect_error(REQ_A "thresholds: 'p99_ms<5'\n", 3, "thresholds", "expected a list");

    /* the file itself */
    scenario s;
    assert_int_equal(load("requests:\n  a: {url: /a\n", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "YAML syntax error"));
    scenario_free(&s);
    assert_int_equal(scenario_load("/nonexistent/s.yaml", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/s.yaml"));
    scenario_free(&s);
}

/* The limits: checks, captures, variables, steps. */
static void test_limits(void **state) {
    char text[8192];
    size_t o = (size_t)snprintf(text, sizeof text,
                                "requests:\n  a:\n    url: /a\n    expect:\n"
                                "      json:\n");
    for (int i = 0; i <= SCN_MAX_CHECKS; i++)
        o +=
            (size_t)snprintf(text + o, sizeof text - o, "        - {path: x%d, exists: true}\n", i);
    expect_error(text, 6 + SCN_MAX_CHECKS, "requests.a.expect.json[16]", "too many checks");

    o = (size_t)snprintf(text, sizeof text, "requests:\n");
    for (int r = 0; r < 3; r++) {
        o += (size_t)snprintf(text + o, sizeof text - o, "  r%d:\n    url: /a\n    capture:\n", r);
        for (int i = 0; i < 6; i++)
            o += (size_t)snprintf(text + o, sizeof text - o, "      v%d_%d: id\n", r, i);
    }
    /* 16 variables fit; the 17th (r2's fifth) does not */
    expect_error(text, 27, "requests.r2.capture.v2_4", "too many variables");

    o = (size_t)snprintf(text, sizeof text, REQ_A "flows:\n  f:\n    steps:\n");
    for (int i = 0; i <= SCN_MAX_STEPS; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "      - a\n");
    expect_error(text, 6, "flows.f.steps", "too many steps");
}

UNIT_MAIN_WITH(setup, teardown, test_full, test_defaults, test_from_node, test_errors, test_limits)
