/* test_probe_metrics.c — reading the service's metrics (probe/probe_metrics.c) from canned
 * Prometheus pages: the series table, number formatting, each series' value at the scrapes, a
 * counter's change (from 0 when it appeared late; after a reset), whether a series moved, its
 * text, dispatchd's configuration from its command line and environment, a scrape that fails
 * without a trace, and one real scrape from a one-shot loopback server. Which series a verdict
 * shows and the remedies: test_remedy.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/probe_metrics.h"

#include "metrics_pages.h"
#include "unit.h"

static void test_table(void **state) {
    int n;
    const probe_metrics_series *s = probe_metrics_series_table(&n);
    assert_true(n >= 20 && n <= PROBE_METRICS_SERIES_MAX);
    for (int i = 0; i < n; i++) {
        assert_true(strncmp(s[i].selector, "dispatchd_", 10) == 0);
        assert_true(strlen(s[i].label) > 3 && strlen(s[i].label) < 40);
        assert_true(!strcmp(s[i].kind, "counter") || !strcmp(s[i].kind, "gauge") ||
                    !strcmp(s[i].kind, "setting"));
    }
}

static void test_format_number(void **state) {
    char b[32];
    probe_metrics_format_number(b, sizeof b, 0);
    assert_string_equal(b, "0");
    probe_metrics_format_number(b, sizeof b, 999);
    assert_string_equal(b, "999");
    probe_metrics_format_number(b, sizeof b, 1204);
    assert_string_equal(b, "1,204");
    probe_metrics_format_number(b, sizeof b, 1234567);
    assert_string_equal(b, "1,234,567");
    probe_metrics_format_number(b, sizeof b, -3000);
    assert_string_equal(b, "-3,000");
    probe_metrics_format_number(b, sizeof b, 0.25);
    assert_string_equal(b, "0.25");
    probe_metrics_format_number(b, sizeof b, NAN);
    assert_string_equal(b, "-");
}

/* Values, changes, movement and texts from the three scrapes of an untuned Redis outage. */
static void test_reading(void **state) {
    probe_metrics m;
    probe_metrics_init(&m, "x");
    assert_false(probe_metrics_compared(&m));
    probe_metrics_parse(&m, PROBE_METRICS_START, PAGE_START, strlen(PAGE_START));
    assert_false(probe_metrics_compared(&m)); /* only the start: nothing to compare */
    assert_true(isnan(probe_metrics_change(&m, PROBE_METRICS_S_WH_UNAVAILABLE)));
    probe_metrics_parse(&m, PROBE_METRICS_FAULT_END, PAGE_FAULT, strlen(PAGE_FAULT));
    probe_metrics_parse(&m, PROBE_METRICS_END, PAGE_END, strlen(PAGE_END));
    assert_true(probe_metrics_compared(&m));
    char t[160];

    /* a counter: its change over the run, shown with a sign */
    assert_true(probe_metrics_change(&m, PROBE_METRICS_S_WH_UNAVAILABLE) == 2001);
    assert_true(probe_metrics_value(&m, PROBE_METRICS_FAULT_END, PROBE_METRICS_S_WH_UNAVAILABLE) ==
                2000);
    assert_true(probe_metrics_moved(&m, PROBE_METRICS_S_WH_UNAVAILABLE));
    probe_metrics_item_text(&m, PROBE_METRICS_S_POOL_WAITS, t, sizeof t);
    assert_string_equal(t, "pg pool waits +1,204");
    /* absent from the first page: it started at 0 */
    assert_true(isnan(probe_metrics_value(&m, PROBE_METRICS_START, PROBE_METRICS_S_WH_503)));
    assert_true(probe_metrics_start(&m, PROBE_METRICS_S_WH_503) == 0);
    assert_true(probe_metrics_change(&m, PROBE_METRICS_S_WH_503) == 2001);
    /* a counter that did not move, one that no page had */
    assert_true(probe_metrics_change(&m, PROBE_METRICS_S_WH_INBOX) == 0);
    assert_false(probe_metrics_moved(&m, PROBE_METRICS_S_WH_INBOX));
    assert_true(isnan(probe_metrics_change(&m, PROBE_METRICS_S_POISON)));
    assert_false(probe_metrics_moved(&m, PROBE_METRICS_S_POISON));

    /* a gauge: its values at the three scrapes; -1 (dispatchd could not read it) is missing */
    assert_true(probe_metrics_moved(&m, PROBE_METRICS_S_INBOX_DEPTH));
    probe_metrics_item_text(&m, PROBE_METRICS_S_INBOX_DEPTH, t, sizeof t);
    assert_string_equal(t, "inbox depth 0 → 812 → 0");
    assert_false(probe_metrics_moved(&m, PROBE_METRICS_S_STREAM_LAG));
    assert_true(
        isnan(probe_metrics_value(&m, PROBE_METRICS_START, PROBE_METRICS_S_STREAM_PENDING)));
    assert_false(probe_metrics_moved(&m, PROBE_METRICS_S_STREAM_PENDING));

    /* a setting: its last value, never "moved" by itself */
    probe_metrics_item_text(&m, PROBE_METRICS_S_POOL_SIZE, t, sizeof t);
    assert_string_equal(t, "pg pool size 1");
    assert_false(probe_metrics_moved(&m, PROBE_METRICS_S_POOL_SIZE));

    /* no end scrape: the last value is the fault's end; a gauge shows two values */
    probe_metrics_init(&m, "x");
    probe_metrics_parse(&m, PROBE_METRICS_START, PAGE_START, strlen(PAGE_START));
    probe_metrics_parse(&m, PROBE_METRICS_FAULT_END, PAGE_FAULT, strlen(PAGE_FAULT));
    assert_true(probe_metrics_compared(&m));
    assert_true(probe_metrics_last(&m, PROBE_METRICS_S_POOL_WAITS) == 1000);
    probe_metrics_item_text(&m, PROBE_METRICS_S_INBOX_DEPTH, t, sizeof t);
    assert_string_equal(t, "inbox depth 0 → 812");

    /* a counter that went down was reset (the service restarted): its value is the change */
    static const char before[] = "dispatchd_pg_reconnects_total 40\n";
    static const char after[] = "dispatchd_pg_reconnects_total 3\n";
    probe_metrics_init(&m, "x");
    probe_metrics_parse(&m, PROBE_METRICS_START, before, strlen(before));
    probe_metrics_parse(&m, PROBE_METRICS_END, after, strlen(after));
    assert_true(probe_metrics_change(&m, PROBE_METRICS_S_PG_RECONNECTS) == 3);
}

/* m, with what the command line argv says of dispatchd's configuration. */
static void config_of(probe_metrics *m, char *const *argv) {
    probe_metrics_init(m, NULL);
    probe_metrics_set_dispatchd(m, argv);
}

static void test_config(void **state) {
    probe_metrics m;
    char *const a[] = {"dispatchd", "--pg-pool=4", "--pg-reconnect", "lazy", "--redis-timeout",
                       "0",         NULL};
    config_of(&m, a);
    assert_string_equal(m.cfg.profile, "tuned");
    assert_int_equal(m.cfg.pg_pool, 4);
    assert_int_equal(m.cfg.lazy_reconnect, 1);
    assert_int_equal(m.cfg.redis_timeout_ms, 0);
    assert_int_equal(m.cfg.fallback, 1);
    assert_int_equal(m.cfg.naive_accept, 0);
    char *const b[] = {"./dispatchd", "--profile", "untuned", NULL};
    config_of(&m, b);
    assert_string_equal(m.cfg.profile, "untuned");
    assert_int_equal(m.cfg.pg_pool, 1);
    assert_int_equal(m.cfg.sync_ingest, 1);
    assert_int_equal(m.cfg.naive_accept, 1);
    /* the environment, below the flags */
    setenv("DISPATCHD_REDIS_FALLBACK", "off", 1);
    setenv("DISPATCHD_PG_POOL", "16", 1);
    char *const c[] = {"dispatchd", "--pg-pool", "2", NULL};
    config_of(&m, c);
    unsetenv("DISPATCHD_REDIS_FALLBACK");
    unsetenv("DISPATCHD_PG_POOL");
    assert_int_equal(m.cfg.fallback, 0);
    assert_int_equal(m.cfg.pg_pool, 2);
}

/* No page, nothing listening, https: every scrape fails quietly and reads nothing. */
static void test_scrape_fails(void **state) {
    probe_metrics m;
    probe_metrics_init(&m, NULL);
    assert_int_equal(probe_metrics_scrape(&m, PROBE_METRICS_START), -1);
    assert_false(m.have[PROBE_METRICS_START]);
    /* nothing listens on port 1; https is not read; both fail quietly */
    probe_metrics_init(&m, "http://127.0.0.1:1/metrics");
    assert_int_equal(probe_metrics_scrape(&m, PROBE_METRICS_START), -1);
    assert_false(m.have[PROBE_METRICS_START]);
    probe_metrics_init(&m, "https://127.0.0.1:1/metrics");
    assert_int_equal(probe_metrics_scrape(&m, PROBE_METRICS_START), -1);
}

/* ---- a real scrape from a one-shot loopback server ------------------------------------------ */

typedef struct one_shot {
    int fd;
    int status;
} one_shot;

static void *serve_once(void *arg) {
    one_shot *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0) return NULL;
    char req[2048];
    ssize_t n = recv(c, req, sizeof req, 0);
    (void)n;
    char resp[4096];
    int len = snprintf(resp, sizeof resp,
                       "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                       "Connection: close\r\n\r\n%s",
                       s->status, strlen(PAGE_END), PAGE_END);
    ssize_t w = send(c, resp, (size_t)len, MSG_NOSIGNAL);
    (void)w;
    close(c);
    return NULL;
}

static int listen_loopback(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void scrape_from(int status, probe_metrics *m) {
    int port = 0;
    one_shot s = {.status = status};
    s.fd = listen_loopback(&port);
    assert_true(s.fd >= 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, serve_once, &s), 0);
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/metrics", port);
    probe_metrics_init(m, u);
    int rc = probe_metrics_scrape(m, PROBE_METRICS_END);
    pthread_join(th, NULL);
    close(s.fd);
    assert_int_equal(rc, status == 200 ? 0 : -1);
}

static void test_scrape(void **state) {
    probe_metrics m;
    scrape_from(200, &m);
    assert_true(m.have[PROBE_METRICS_END]);
    int n;
    const probe_metrics_series *s = probe_metrics_series_table(&n);
    bool seen = false;
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].selector, "dispatchd_pg_pool_waits_total")) {
            assert_true(m.v[PROBE_METRICS_END][i] == 1214);
            seen = true;
        }
    assert_true(seen);
    scrape_from(404, &m); /* a service without /metrics */
    assert_false(m.have[PROBE_METRICS_END]);
}

UNIT_MAIN(test_format_number, test_table, test_reading, test_config, test_scrape_fails, test_scrape)
