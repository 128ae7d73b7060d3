/* test_config.c — brink.yaml (config/config.c): a complete file with every section, the shipped
 * docs/brink.example.yaml, each kind of mistake as one line "FILE:LINE: KEY: reason" (unknown
 * keys, types, literal secrets, passwords in URLs, SQL without its parameter, bad probes, the race
 * and dependencies sections through their own parsers, unknown or disordered thresholds, YAML
 * syntax), the threshold overrides as every test sees them (threshold_judge), the templates'
 * {{webhook_id}}, the race.yaml sniffing of `brink race -f`, and the resilience modes' check of
 * the mechanisms a file configures. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resilience/resil_int.h"
#include "config/config.h"
#include "verdict/threshold.h"
#include "unit.h"

static unit_tmp tmp; /* tmp.file: brink.yaml */

static int setup(void **state) {
    return unit_tmp_make(&tmp, "config", "brink.yaml");
}

static int teardown(void **state) {
    unit_tmp_remove(&tmp);
    threshold_overrides_clear();
    return 0;
}

static int load(const char *text, config **c, char *err, size_t errlen) {
    unit_write_file(tmp.file, text);
    return config_load(tmp.file, c, err, errlen);
}

#define TARGET                                                                                     \
    "target:\n"                                                                                    \
    "  url: http://127.0.0.1:8080/\n"                                                              \
    "  webhook: {secret: {env: HOOK_SECRET}}\n"

static const char FULL[] =
    "target:\n"
    "  url: http://127.0.0.1:8080/api/\n"
    "  webhook:\n"
    "    path: /hooks\n"
    "    sign: stripe\n"
    "    secret: {file: whsec.txt}\n"
    "    headers: {X-Tenant: t1, X-Id: '{{webhook_id}}'}\n"
    "    body: '{\"id\":\"{{webhook_id}}\",\"run\":\"{{run}}\",\"n\":{{seq}}}'\n"
    "  service_pid: 4242\n"
    "race:\n"
    "  create: {path: /c, body: '{{id}}'}\n"
    "  claim: {path: '/o/{{id}}', body: '{{vendor}}'}\n"
    "  truth: {sql: {query: 'SELECT v FROM a WHERE id = $1'}}\n"
    "probes:\n"
    "  - name: queue\n"
    "    kind: redis\n"
    "    url: redis://127.0.0.1:6379\n"
    "    command: XLEN q\n"
    "  - name: inbox\n"
    "    kind: sql\n"
    "    url_env: INBOX_URL\n"
    "    query: SELECT count(*) FROM inbox\n"
    "    timeout: 250ms\n"
    "    backlog: false\n"
    "audit:\n"
    "  url: postgresql://app@127.0.0.1:5432/app\n"
    "  password_env: APP_PW\n"
    "  stored: SELECT id, count(*) FROM t WHERE id = ANY($1) GROUP BY id\n"
    "  queued: SELECT id FROM inbox WHERE id = ANY($1)\n"
    "  integrity:\n"
    "    half_done: SELECT count(*) FROM x\n"
    "dependencies:\n"
    "  redis:\n"
    "    kill_cmd: [kill-redis]\n"
    "    start_cmd: start-redis --now\n"
    "    ready_check: redis://127.0.0.1:6379\n"
    "    toxiproxy: {api: 'http://127.0.0.1:8474', proxy: redis}\n"
    "  postgres:\n"
    "    pid_file: pg.pid\n"
    "    stop_signal: SIGINT\n"
    "    start_cmd: [pg-start]\n"
    "    ready_check: tcp://127.0.0.1:5432\n"
    "thresholds:\n"
    "  p99_ms: {orange: 100, red: 200}\n"
    "  db.recovery_s: {red: 20}\n";

static void test_full(void **state) {
    config *c;
    char err[512] = "";
    if (load(FULL, &c, err, sizeof err) < 0) fail_msg("%s", err);
    assert_string_equal(c->url, "http://127.0.0.1:8080/api");
    assert_string_equal(c->webhook_path, "/hooks");
    char hook[256];
    config_webhook_url(c, hook, sizeof hook);
    assert_string_equal(hook, "http://127.0.0.1:8080/api/hooks");
    assert_int_equal(c->sign, SIGN_STRIPE);
    char want[300];
    snprintf(want, sizeof want, "%s/whsec.txt", tmp.dir); /* relative to the file */
    assert_string_equal(c->secret_file, want);
    assert_null(c->secret_env);
    assert_int_equal(c->nheaders, 2);
    assert_string_equal(c->headers[0], "X-Tenant: t1");
    assert_string_equal(c->headers[1], "X-Id: {{webhook_id}}");
    assert_int_equal(config_service_pid(c), 4242);
    assert_true(c->have_race);
    assert_string_equal(c->race.claim.path, "/o/{{id}}");
    assert_null(c->race.target);
    assert_int_equal(c->nprobes, 2);
    assert_string_equal(c->probes[0].spec.name, "queue");
    assert_int_equal(c->probes[0].spec.kind, PROBE_REDIS);
    assert_true(c->probes[0].backlog);
    assert_false(c->probes[1].backlog);
    assert_int_equal(c->probes[1].spec.timeout_ns, 250 * 1000000LL);
    assert_int_equal(c->probes[0].spec.timeout_ns, PROBE_TIMEOUT_DEFAULT_NS); /* as --probe's */
    probe_spec ps;
    unsetenv("INBOX_URL");
    assert_int_equal(config_probe_spec(&c->probes[1], &ps, err, sizeof err), -1);
    assert_non_null(strstr(err, "INBOX_URL"));
    setenv("INBOX_URL", "postgresql://app@127.0.0.1/app", 1);
    assert_int_equal(config_probe_spec(&c->probes[1], &ps, err, sizeof err), 0);
    assert_string_equal(ps.url, "postgresql://app@127.0.0.1/app");
    assert_true(c->have_audit);
    assert_string_equal(c->audit_url, "postgresql://app@127.0.0.1:5432/app");
    setenv("APP_PW", "s3cret", 1);
    assert_string_equal(config_audit_password(c), "s3cret");
    assert_int_equal(c->nchecks, 1);
    assert_string_equal(c->checks[0].name, "half_done");
    const deps_dep *r = config_dep(c, "redis"), *pg = config_dep(c, "postgresql");
    assert_non_null(r);
    assert_non_null(pg); /* postgres is accepted for postgresql */
    assert_string_equal(r->toxi_api, "http://127.0.0.1:8474");
    assert_string_equal(r->toxi_proxy, "redis");
    snprintf(want, sizeof want, "%s/pg.pid", tmp.dir);
    assert_string_equal(pg->pid_file, want);
    assert_int_equal(c->nthresholds, 2);
    config_free(c);
}

static void test_example(void **state) {
    config *c;
    char err[512] = "";
    if (config_load("docs/brink.example.yaml", &c, err, sizeof err) < 0) fail_msg("%s", err);
    assert_true(c->have_race);
    assert_true(c->have_audit);
    assert_true(c->nprobes >= 3);
    assert_non_null(config_dep(c, "redis"));
    assert_non_null(config_dep(c, "postgresql"));
    assert_true(c->nthresholds >= 1);
    assert_string_equal(c->metrics_url, "http://127.0.0.1:8080/metrics");
    assert_int_equal(config_apply_thresholds(c, err, sizeof err), 0);
    threshold_overrides_clear();
    config_free(c);
}

/* expect_error TEXT LINE KEY WORDS: the file fails with "FILE:LINE: KEY: ...WORDS..." on one line
 */
static void expect_error(const char *text, int line, const char *key, const char *words) {
    config *c = (config *)1;
    char err[512], want[300];
    assert_int_equal(load(text, &c, err, sizeof err), -1);
    assert_null(c);
    snprintf(want, sizeof want, "%s:%d: %s: ", tmp.file, line, key);
    if (strncmp(err, want, strlen(want)) || !strstr(err, words)) {
        print_error("got:  %s\nwant: %s...%s\n", err, want, words);
        fail();
    }
    assert_null(strchr(err, '\n'));
}

typedef struct error_case {
    const char *text;
    int line;
    const char *key;
    const char *words;
} error_case;

static void expect_errors(const error_case *c, size_t n) {
    for (size_t i = 0; i < n; i++) expect_error(c[i].text, c[i].line, c[i].key, c[i].words);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_errors_top(void **state) {
    static const error_case cases[] = {
        {"", 1, "target", "empty"},
        {"- a\n", 1, "(top level)", "expected a mapping"},
        {TARGET "targets: {}\n", 4, "targets", "unknown key (want target, race"},
        {TARGET "claim: {}\n", 4, "claim", "go under race:"},
        {"probes: []\n", 1, "target", "missing"},
        {TARGET "target: {}\n", 4, "target", "duplicate key (first at line 1)"},
        {TARGET "probes: [\n", 5, "YAML syntax error", ""},
    };
    expect_errors(cases, COUNT(cases));
    config *c;
    char err[512];
    assert_int_equal(load(TARGET "---\nx: 1\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "brink.yaml:5: a second YAML document"));
    assert_int_equal(config_load("/nonexistent/brink.yaml", &c, err, sizeof err), -1);
    assert_string_equal(err, "cannot read /nonexistent/brink.yaml: No such file or directory");
}

static void test_errors_target(void **state) {
    static const error_case cases[] = {
        {"target:\n  webhook: {sign: none}\n", 1, "target.url", "missing"},
        {"target:\n  url: ftp://x\n  webhook: {sign: none}\n", 2, "target.url", ""},
        {"target:\n  url: http://x:1\n", 1, "target.webhook", "missing"},
        {"target:\n  url: http://x:1\n  webhook: {sign: none}\n  pid: 3\n", 4, "target.pid",
         "unknown key (want url, webhook, metrics, service_pid or service_pid_file)"},
        /* target.metrics: a plain http:// page without a password */
        {"target:\n  url: http://x:1\n  webhook: {sign: none}\n  metrics: https://x:1/m\n", 4,
         "target.metrics", "want an http:// URL"},
        {"target:\n  url: http://x:1\n  webhook: {sign: none}\n  metrics: http://\n", 4,
         "target.metrics", ""},
        {"target:\n  url: http://x:1\n  webhook: {sign: none}\n  metrics: "
         "http://u:pw@x:1/m\n",
         4, "target.metrics", "credentials in URLs are not supported"},
        {"target:\n  url: http://x:1\n  webhook: {sign: none}\n  metrics: [a]\n", 4,
         "target.metrics", ""},
        /* a literal secret is refused, whatever it looks like */
        {"target:\n  url: http://x:1\n  webhook:\n    secret: whsec_abc\n", 4,
         "target.webhook.secret", "a literal secret is not allowed"},
        {"target:\n  url: http://x:1\n  webhook:\n    secret: {value: abc}\n", 4,
         "target.webhook.secret.value", "unknown key (want file or env)"},
        {"target:\n  url: http://x:1\n  webhook:\n    secret: {file: a, env: B}\n", 4,
         "target.webhook.secret", "not both"},
        {"target:\n  url: http://x:1\n  webhook: {sign: hmac}\n", 3, "target.webhook.sign",
         "unknown signing scheme"},
        {"target:\n  url: http://x:1\n  webhook: {sign: github}\n", 3, "target.webhook.secret",
         "missing"},
        {"target:\n  url: http://x:1\n  webhook: {sign: none, secret: {env: X}}\n", 3,
         "target.webhook.secret", "with sign: none"},
        {"target:\n  url: http://x:1\n  webhook: {sign: none, path: hooks}\n", 3,
         "target.webhook.path", "must start with /"},
        {"target:\n  url: http://x:1\n  webhook:\n    sign: none\n    body: '{{webhok_id}}'\n", 5,
         "target.webhook.body", "unknown placeholder {{webhok_id}}"},
        {"target:\n  url: http://x:1\n  webhook:\n    sign: none\n    body: "
         "'{\"v\":{{version}}}'\n",
         5, "target.webhook.body", "{{version}} is an event's: it goes with events"},
        {"target:\n  url: http://x:1\n  webhook:\n    sign: none\n    headers: {Host: x}\n", 5,
         "target.webhook.headers.Host", "brink sets this header"},
        {"target:\n  url: http://x:1\n  webhook: {sign: none}\n  service_pid: abc\n", 4,
         "target.service_pid", ""},
    };
    expect_errors(cases, COUNT(cases));
}

static void test_errors_sections(void **state) {
    static const error_case cases[] = {
        /* load: a scenario, checked with the rest of the file */
        {TARGET "load:\n  requests:\n    a: {url: /x, wieght: 1}\n", 6, "load.requests.a.wieght",
         "did you mean 'weight'"},
        {TARGET "load: {}\n", 4, "load.requests", "missing"},
        /* probes */
        {TARGET "probes: {a: 1}\n", 4, "probes", "expected a list"},
        {TARGET "probes:\n  - {name: q, url: 'redis://h', command: XLEN q}\n", 5, "probes[0].kind",
         "missing"},
        {TARGET "probes:\n  - {name: q, kind: kafka, url: x}\n", 5, "probes[0].kind",
         "unknown kind 'kafka'"},
        {TARGET "probes:\n  - {name: q, kind: redis, url: 'redis://h'}\n", 5, "probes[0]",
         "command: missing"},
        {TARGET "probes:\n  - {name: q, kind: sql, url: 'postgresql://u:pw@h/d', "
                "query: 'SELECT 1'}\n",
         5, "probes[0].url", "carries a password"},
        {TARGET "probes:\n"
                "  - {name: q, kind: redis, url: 'redis://h', command: XLEN q}\n"
                "  - {name: q, kind: redis, url: 'redis://h', command: XLEN r}\n",
         6, "probes[1]", "a second probe named q"},
        {TARGET "probes:\n  - {name: q, kind: redis, url: 'redis://h', command: X, "
                "backlog: maybe}\n",
         5, "probes[0].backlog", "expected true or false"},
        {TARGET "probes:\n  - {name: q, kind: redis, url: 'redis://h', command: X, "
                "timout: 1s}\n",
         5, "probes[0].timout",
         "unknown key (want name, kind, url, url_env, command, "
         "query, path, metric, timeout or backlog); did you mean 'timeout'?"},
        /* audit */
        {TARGET "audit:\n  url: 'postgresql://app:pw@h/app'\n  stored: x $1\n", 5, "audit.url",
         "carries a password"},
        {TARGET "audit:\n  url: 'postgresql://app@h/app'\n  stored: SELECT 1\n", 6, "audit.stored",
         "must use $1"},
        {TARGET "audit:\n  url: 'postgresql://app@h/app'\n", 4, "audit", "missing: stored"},
        {TARGET "audit:\n  url: 'postgresql://app@h/app'\n  events: {handled: x $1}\n", 6,
         "audit.events.orders", "missing"},
        {TARGET "audit:\n  url: 'postgresql://app@h/app'\n  events: {handled: x, orders: y $1}\n",
         6, "audit.events.handled", "must use $1, the run's order ids as a LIKE pattern"},
        {TARGET "audit:\n  url: 'postgresql://app@h/app'\n  events: {handled: x $1, ordrs: y}\n", 6,
         "audit.events.ordrs", "did you mean 'orders'?"},
        {TARGET "audit:\n  url: 'postgresql://app@h/app'\n  stored: x $1\n"
                "  integrity: {Bad-Name: SELECT 1}\n",
         7, "audit.integrity.Bad-Name", "snake_case"},
        {TARGET "audit:\n  url: 'mysql://h'\n", 5, "audit.url", "postgresql://"},
        /* race: race.yaml's parser on the sub-node, keys prefixed */
        {TARGET "race:\n  create: {path: /c, body: '{{id}}'}\n"
                "  claim: {path: '/o/{{id}}', body: '{{vendr}}'}\n"
                "  truth: {http: {path: '/o/{{id}}', winner: v}}\n",
         6, "race.claim.body", "unknown placeholder {{vendr}}"},
        {TARGET "race:\n  target: http://x\n", 5, "race.target", "target.url"},
        {TARGET "race:\n  claim: {path: '/o/{{id}}', body: '{{vendor}}'}\n"
                "  truth: {http: {path: '/o/{{id}}', winner: v}}\n",
         5, "race.create", "missing"},
        /* dependencies: deps.c's parser, and toxiproxy */
        {TARGET "dependencies:\n  redis:\n    stop_cmd: {a: 1}\n", 6, "dependencies.redis.stop_cmd",
         "expected a string or a list of strings"},
        {TARGET "dependencies:\n  redis:\n    toxiproxy: {api: 'http://h:1'}\n", 6,
         "dependencies.redis.toxiproxy.proxy", "missing"},
        /* a proxy's name, as brink proxy's API takes it (64 characters: one too many) */
        {TARGET "dependencies:\n  redis:\n    toxiproxy: {api: 'http://h:1', proxy: a/b}\n", 6,
         "dependencies.redis.toxiproxy.proxy", "invalid proxy name 'a/b': want 1 to 63 letters"},
        {TARGET "dependencies:\n  redis:\n    toxiproxy: {api: 'http://h:1', proxy: "
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
         6, "dependencies.redis.toxiproxy.proxy", "want 1 to 63 letters, digits, '_', '.' or '-'"},
        {TARGET "dependencies:\n  redis:\n    pid: 12\n    stop_signal: SIGFOO\n", 7,
         "dependencies.redis.stop_signal", "expected a signal"},
        {TARGET "dependencies:\n  postgres: {pid: 3, ready_check: 'tcp://h:1'}\n"
                "  postgresql: {pid: 4, ready_check: 'tcp://h:1'}\n",
         5, "dependencies", "name the same dependency"},
        /* thresholds */
        {TARGET "thresholds:\n  p99_msec: {red: 1}\n", 5, "thresholds.p99_msec",
         "unknown metric 'p99_msec'"},
        {TARGET "thresholds:\n  nosuch.p99_ms: {red: 1}\n", 5, "thresholds.nosuch.p99_ms",
         "unknown metric"},
        {TARGET "thresholds:\n  p99_ms: {orange: 300, red: 100}\n", 5, "thresholds.p99_ms",
         "orange 300 is above red 100"},
        {TARGET "thresholds:\n  p99_ms: {red: 100}\n", 5, "thresholds.p99_ms", "give both bounds"},
        {TARGET "thresholds:\n  rps: {orange: 100, red: 200}\n", 5, "thresholds.rps", "below red"},
        {TARGET "thresholds:\n  p99_ms: {yellow: 1}\n", 5, "thresholds.p99_ms.yellow",
         "unknown key (want orange or red)"},
        {TARGET "thresholds:\n  p99_ms: {red: fast}\n", 5, "thresholds.p99_ms.red",
         "expected a number"},
        {TARGET "thresholds:\n  p99_ms: 5\n", 5, "thresholds.p99_ms", "expected a mapping"},
    };
    expect_errors(cases, COUNT(cases));
}

/* target.webhook.events and the delivery: section: read, checked, each mistake one line */
static void test_sender(void **state) {
    config *c;
    char err[512] = "";
    static const char text[] = "target:\n"
                               "  url: http://127.0.0.1:8080/\n"
                               "  webhook:\n"
                               "    secret: {env: HOOK_SECRET}\n"
                               "    events: default\n"
                               "    event_interval: 50ms\n"
                               "    reorder_rate: 0.3\n"
                               "delivery:\n"
                               "  sender: stripe\n"
                               "  retry_scale: 0.001\n"
                               "  duplicate_rate: 0.05\n"
                               "  duplicate_window: 200ms\n"
                               "  drain: 5s\n";
    if (load(text, &c, err, sizeof err) < 0) fail_msg("%s", err);
    assert_string_equal(c->events, "default");
    assert_int_equal(c->event_interval, 50000000);
    assert_true(c->reorder_rate == 0.3);
    assert_true(c->have_delivery && c->duplicate_rate_set && c->drain_set);
    assert_string_equal(c->delivery_sender, "stripe");
    assert_null(c->delivery_schedule);
    assert_true(c->delivery_scale == 0.001 && c->duplicate_rate == 0.05);
    assert_int_equal(c->duplicate_window, 200000000);
    assert_int_equal(c->delivery_drain, 5000000000LL);
    config_free(c);

#define W "target:\n  url: http://x:1\n  webhook:\n    sign: none\n"
    static const error_case cases[] = {
        {W "    events: 'a,b:0.5'\n", 5, "target.webhook.events", "always happens"},
        {W "    events: ''\n", 5, "target.webhook.events", ""},
        {W "    event_interval: 1s\n", 5, "target.webhook", "event_interval goes with events"},
        {W "    events: 'a,b'\n    reorder_rate: 0.2\n", 6, "target.webhook.reorder_rate",
         "at least three events"},
        {W "    events: 'a,b'\n    reorder_rate: 0.2\n    event_interval: 1s\n", 6,
         "target.webhook.reorder_rate", "at least three events"},
        {W "    reorder_rate: 2\n", 5, "target.webhook.reorder_rate", ""},
        {TARGET "delivery: {sender: stripes}\n", 4, "delivery.sender", "did you mean 'stripe'"},
        {TARGET "delivery: {retry_schedule: '1s,x'}\n", 4, "delivery.retry_schedule",
         "retry wait 'x'"},
        {TARGET "delivery: {sender: stripe, retry_schedule: 1s}\n", 4, "delivery", "not both"},
        {TARGET "delivery: {duplicate_rate: 1.5}\n", 4, "delivery.duplicate_rate", ""},
        {TARGET "delivery: {senders: x}\n", 4, "delivery.senders", "unknown key (want sender"},
    };
#undef W
    expect_errors(cases, COUNT(cases));
}

static void test_overrides(void **state) {
    config *c;
    char err[512] = "";
    if (load(TARGET "thresholds:\n"
                    "  p99_ms: {orange: 1, red: 2}\n"
                    "  redis.recovery_s: {orange: 1, red: 2}\n"
                    "  lost: {red: 0}\n",
             &c, err, sizeof err) < 0)
        fail_msg("%s", err);
    th_result r;
    /* before: the defaults */
    assert_int_equal(threshold_judge(&r, "webhook", "p99_ms", 100, NULL), 0);
    assert_int_equal(r.status, TH_GREEN);
    assert_false(r.overridden);
    assert_int_equal(config_apply_thresholds(c, err, sizeof err), 0);
    /* a green value turns red under the override */
    assert_int_equal(threshold_judge(&r, "webhook", "p99_ms", 100, NULL), 0);
    assert_int_equal(r.status, TH_RED);
    assert_true(r.overridden);
    assert_true(r.def.orange == 1 && r.def.red == 2);
    json_t *j = threshold_json(&r, 1);
    assert_true(json_is_true(json_object_get(json_array_get(j, 0), "overridden")));
    assert_true(json_number_value(json_object_get(json_array_get(j, 0), "red")) == 2);
    json_decref(j);
    /* test.metric: redis's recovery_s only, db's keeps its default */
    assert_int_equal(threshold_judge(&r, "redis", "recovery_s", 3, NULL), 0);
    assert_int_equal(r.status, TH_RED);
    assert_int_equal(threshold_judge(&r, "db", "recovery_s", 3, NULL), 0);
    assert_int_equal(r.status, TH_GREEN);
    assert_false(r.overridden);
    /* a bare metric: every test that has it */
    assert_int_equal(threshold_judge(&r, "db", "lost", 0, NULL), 0);
    assert_true(r.overridden);
    assert_int_equal(threshold_effective("webhook", "p99_ms")->red, 2);
    /* the defaults themselves never change */
    assert_true(threshold_find("webhook", "p99_ms")->red == 500);
    /* without a config: back to the defaults */
    assert_int_equal(config_apply_thresholds(NULL, err, sizeof err), 0);
    assert_int_equal(threshold_judge(&r, "webhook", "p99_ms", 100, NULL), 0);
    assert_int_equal(r.status, TH_GREEN);
    assert_false(r.overridden);
    config_free(c);
    /* the API's own checks */
    assert_int_equal(threshold_override("nope", 1, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown metric 'nope'"));
    assert_int_equal(threshold_override("p99_ms", NAN, NAN, err, sizeof err), -1);
    threshold_overrides_clear();
}

static void test_render(void **state) {
    char *s = config_render("{\"id\":\"{{webhook_id}}\",\"r\":\"{{run}}\",\"n\":{{seq}},\"x\":{{",
                            "msg_r1_w{{seq}}", "r1");
    assert_string_equal(s, "{\"id\":\"msg_r1_w{{seq}}\",\"r\":\"r1\",\"n\":{{seq}},\"x\":{{");
    free(s);
    s = config_render("{\"order_id\":\"{{order_id}}\",\"v\":{{version}}}", "x", "w1a2b3c4d");
    assert_string_equal(s, "{\"order_id\":\"w1a2b3c4d-0-{{order}}\",\"v\":{{version}}}");
    free(s);
    s = config_render("", "a", "b");
    assert_string_equal(s, "");
    free(s);
}

static void test_race_yaml_sniff(void **state) {
    bool race_yaml;
    char err[512];
    unit_write_file(tmp.file, "create: {path: /c, body: '{{id}}'}\nclaim: {path: /x}\n");
    assert_int_equal(config_is_race_yaml(tmp.file, &race_yaml, err, sizeof err), 0);
    assert_true(race_yaml);
    unit_write_file(tmp.file, TARGET);
    assert_int_equal(config_is_race_yaml(tmp.file, &race_yaml, err, sizeof err), 0);
    assert_false(race_yaml);
    assert_int_equal(config_is_race_yaml("/nonexistent.yaml", &race_yaml, err, sizeof err), -1);
}

/* Each resilience mode names the key it misses. */
static void expect_mode(config *c, resil_test t, const char *mode, const char *words) {
    char err[512] = "";
    int rc = resil_user_check(c, resil_mode_find(t, mode), err, sizeof err);
    if (!words) {
        if (rc != 0) fail_msg("%s: %s", mode, err);
        return;
    }
    assert_int_equal(rc, -1);
    if (!strstr(err, words)) fail_msg("%s: got %s, want ...%s", mode, err, words);
    assert_null(strchr(err, '\n'));
}

static void test_modes(void **state) {
    config *c;
    char err[512] = "";
    if (load(TARGET "audit: {url: 'postgresql://a@h/d', stored: 'SELECT $1'}\n"
                    "dependencies:\n"
                    "  redis:\n"
                    "    kill_cmd: [k]\n"
                    "    start_cmd: [s]\n"
                    "    ready_check: tcp://127.0.0.1:1\n",
             &c, err, sizeof err) < 0)
        fail_msg("%s", err);
    expect_mode(c, RESIL_REDIS, "kill", NULL);
    expect_mode(c, RESIL_REDIS, "down", "dependencies.redis.toxiproxy: missing");
    expect_mode(c, RESIL_REDIS, "pause", "dependencies.redis.pause_cmd: missing");
    expect_mode(c, RESIL_DB, "crash", "dependencies.postgresql: missing");
    config_free(c);
    if (load(TARGET "dependencies:\n"
                    "  redis: {pid: 5, ready_check: 'tcp://h:1', toxiproxy: {api: 'http://h:1', "
                    "proxy: r}}\n",
             &c, err, sizeof err) < 0)
        fail_msg("%s", err);
    expect_mode(c, RESIL_REDIS, "kill", "dependencies.redis.start_cmd: missing");
    expect_mode(c, RESIL_REDIS, "pause", "audit: missing"); /* pid: SIGSTOP; then the audit */
    config_free(c);
    if (load("target:\n  url: http://h:1\n  webhook: {sign: none}\n"
             "audit: {url: 'postgresql://a@h/d', stored: 'SELECT $1'}\n"
             "dependencies:\n  redis: {pid: 5, ready_check: 'tcp://h:1'}\n",
             &c, err, sizeof err) < 0)
        fail_msg("%s", err);
    expect_mode(c, RESIL_REDIS, "pause", "{{webhook_id}}"); /* unsigned: the id must be sent */
    config_free(c);
    /* an audit for --events only (audit.events, no stored): loaded; a resilience test wants
     * stored */
    if (load(TARGET "audit:\n  url: 'postgresql://a@h/d'\n  events:\n    handled: 'SELECT $1'\n"
                    "    orders: 'SELECT o, v FROM t WHERE o LIKE $1'\n"
                    "dependencies:\n  redis: {pid: 5, ready_check: 'tcp://h:1'}\n",
             &c, err, sizeof err) < 0)
        fail_msg("%s", err);
    assert_true(c->have_audit);
    assert_null(c->audit_stored);
    assert_string_equal(c->audit_ev_handled, "SELECT $1");
    assert_string_equal(c->audit_ev_orders, "SELECT o, v FROM t WHERE o LIKE $1");
    assert_null(c->audit_ev_pending);
    expect_mode(c, RESIL_REDIS, "pause", "audit.stored: missing");
    config_free(c);
}

/* path: head, then line (a printf format of one %d) n times with 0..n-1, then tail. */
static void write_lines(const char *head, const char *line, int n, const char *tail) {
    FILE *f = fopen(tmp.file, "w");
    assert_non_null(f);
    fputs(head, f);
    for (int i = 0; i < n; i++) fprintf(f, line, i);
    fputs(tail, f);
    assert_int_equal(fclose(f), 0);
}

/* Big and deep files (security review, issue 15: 80k keys took 53 s to reach "too many headers",
 * 100k '[' 10 s to reach a syntax error): refused before the parse or the duplicate-key scan,
 * one line naming the file. The time is checked by tests/integration/cli.sh (timeout 10). */
static void test_limits(void **state) {
    config *c = (config *)1;
    char err[512], want[600];
    static const char HEAD[] = "target:\n  url: http://127.0.0.1:1/\n  webhook:\n"
                               "    sign: none\n    headers:\n";
    write_lines(HEAD, "      X-H%05d: v\n", 80000, ""); /* 1.4 MB */
    assert_int_equal(config_load(tmp.file, &c, err, sizeof err), -1);
    assert_null(c);
    snprintf(want, sizeof want, "%s: too big (", tmp.file);
    assert_true(!strncmp(err, want, strlen(want)) && strstr(err, "at most 1 MiB)"));
    write_lines(HEAD, "      X-H%05d: v\n", 50000, ""); /* 850 kB */
    assert_int_equal(config_load(tmp.file, &c, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s:6: target.webhook.headers: 50000 keys (a mapping holds at most 1000)", tmp.file);
    assert_string_equal(err, want);
    write_lines(TARGET "load: ", "[", 100000, "\n");
    assert_int_equal(config_load(tmp.file, &c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:4: nested more than 64 levels deep", tmp.file);
    assert_string_equal(err, want);
}

UNIT_MAIN_WITH(setup, teardown, test_full, test_example, test_errors_top, test_errors_target,
               test_errors_sections, test_sender, test_overrides, test_render, test_race_yaml_sniff,
               test_modes, test_limits)
