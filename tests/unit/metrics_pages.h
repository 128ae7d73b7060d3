/* metrics_pages.h — canned Prometheus pages of dispatchd for the unit tests of the service's
 * metrics (test_probe_metrics.c reads them, test_remedy.c judges by them). */
#ifndef BRINK_TEST_METRICS_PAGES_H
#define BRINK_TEST_METRICS_PAGES_H

/* dispatchd's page at the start of an untuned Redis outage, at the fault's end and at the end. */
static const char PAGE_START[] = "# HELP dispatchd_webhooks_total Webhooks by outcome.\n"
                                 "# TYPE dispatchd_webhooks_total counter\n"
                                 "dispatchd_webhooks_total{outcome=\"queued_redis\"} 100\n"
                                 "dispatchd_webhooks_total{outcome=\"queued_inbox\"} 0\n"
                                 "dispatchd_webhooks_total{outcome=\"unavailable\"} 0\n"
                                 "dispatchd_redis_circuit_opens_total 0\n"
                                 "dispatchd_redis_circuit_state 0\n"
                                 "dispatchd_redis_errors_total 0\n"
                                 "dispatchd_inbox_depth 0\n"
                                 "dispatchd_stream_lag 0\n"
                                 "dispatchd_stream_pending -1\n"
                                 "dispatchd_pg_pool_size 1\n"
                                 "dispatchd_pg_pool_waits_total 10\n"
                                 "dispatchd_pg_pool_timeouts_total 0\n";
static const char PAGE_FAULT[] =
    "dispatchd_webhooks_total{outcome=\"queued_redis\"} 700\n"
    "dispatchd_webhooks_total{outcome=\"queued_inbox\"} 0\n"
    "dispatchd_webhooks_total{outcome=\"unavailable\"} 2000\n"
    "dispatchd_http_requests_total{route=\"webhook\",status=\"503\"} 2000\n"
    "dispatchd_redis_circuit_opens_total 1\n"
    "dispatchd_redis_circuit_state 1\n"
    "dispatchd_redis_errors_total 9\n"
    "dispatchd_inbox_depth 812\n"
    "dispatchd_stream_lag 0\n"
    "dispatchd_pg_pool_size 1\n"
    "dispatchd_pg_pool_waits_total 1000\n"
    "dispatchd_pg_pool_timeouts_total 3\n";
static const char PAGE_END[] =
    "dispatchd_webhooks_total{outcome=\"queued_redis\"} 1500\n"
    "dispatchd_webhooks_total{outcome=\"queued_inbox\"} 0\n"
    "dispatchd_webhooks_total{outcome=\"unavailable\"} 2001\n"
    "dispatchd_http_requests_total{route=\"webhook\",status=\"503\"} 2001\n"
    "dispatchd_redis_circuit_opens_total 1\n"
    "dispatchd_redis_circuit_state 0\n"
    "dispatchd_redis_errors_total 9\n"
    "dispatchd_inbox_depth 0\n"
    "dispatchd_stream_lag 0\n"
    "dispatchd_pg_pool_size 1\n"
    "dispatchd_pg_pool_waits_total 1214\n"
    "dispatchd_pg_pool_timeouts_total 3\n";

#endif
