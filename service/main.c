/* main.c — dispatchd, the reference order-dispatch service that brink's tests run against.
 *
 *   POST /webhooks/orders ──verify──► Redis stream (XADD) ──workers──► PostgreSQL orders
 *                           └─ circuit open ─► PostgreSQL webhook_inbox ──workers──┘
 *   POST /orders/ID/accept ──► one conditional UPDATE: exactly one vendor wins
 *
 * This file reads the configuration (config.c), starts the parts in dependency order — the
 * queue's Redis settings, the PostgreSQL pool (db.c), the workers (worker.c), then the HTTP
 * server (http.c) — writes the bound port to --port-file, and waits for SIGTERM or SIGINT, which
 * every thread has blocked so that only this thread takes them (sigtimedwait; meanwhile it gives
 * the memory malloc holds free back every 10 s). Stopping runs the other
 * way: stop accepting, let in-flight requests finish (at most 2 s), stop HTTP, let each worker
 * store and acknowledge the batch it holds, close the pool; then exit 0 (well within 5 s). A
 * SIGKILL loses nothing that was answered 202: that answer is only given after XADD returned or
 * the inbox INSERT committed. */
#include "accept.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "queue.h"
#include "schema.h"
#include "selftest.h"
#include "webhook.h"
#include "worker.h"

#include "core/err.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAIN_MS 2000
#define TRIM_S   10 /* malloc_trim every TRIM_S seconds */

static int write_port_file(const char *path, int port) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0) return -1;
    return rename(tmp, path);
}

int main(int argc, char **argv) {
    static dcfg cfg;
    char err[512];
    int action = dcfg_parse(&cfg, argc, argv, err, sizeof err);
    if (action < 0) {
        fprintf(stderr, "dispatchd: %s\n", err);
        return 2;
    }
    if (action == DCFG_HELP) {
        dcfg_usage(stdout);
        return 0;
    }
    if (action == DCFG_PRINT_SCHEMA) {
        fputs(schema_sql, stdout);
        return 0;
    }
    if (action == DCFG_SELFTEST) return selftest_run(stdout) ? 1 : 0;
    dlog_set_level((dlog_level)cfg.log_level);

    /* every thread created from here on inherits this mask; only sigwait below takes them */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    wh_init(&cfg);
    acc_init(&cfg);
    int rc = 1;
    bool db_up = false, workers_up = false, http_up = false;
    if (queue_start(&cfg, err, sizeof err)) goto out;
    if (db_start(&cfg, err, sizeof err)) goto out;
    db_up = true;
    if (worker_start(&cfg, err, sizeof err)) goto out;
    workers_up = true;
    if (httpd_start(&cfg, err, sizeof err)) goto out;
    http_up = true;
    if (cfg.port_file[0] && write_port_file(cfg.port_file, httpd_port())) {
        err_set(err, sizeof err, "--port-file %s: %s", cfg.port_file, strerror(errno));
        goto out;
    }
    char desc[512];
    dcfg_describe(&cfg, desc, sizeof desc);
    dlog(DLOG_INFO, "dispatchd listening on port %d (%s)", httpd_port(), desc);

    /* Every 10 s, the pages malloc holds free go back to the system: glibc keeps each thread
     * arena at its high-water mark, so the burst of connections and queued webhooks of one
     * outage would otherwise stay in the RSS for good, and a leak could not be told from it. */
    int sig;
    for (;;) {
        struct timespec tick = {TRIM_S, 0};
        sig = sigtimedwait(&sigs, NULL, &tick);
        if (sig > 0) break;
        if (errno == EAGAIN) malloc_trim(0);
    }
    dlog(DLOG_INFO, "received %s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    rc = 0;
out:
    if (rc) dlog(DLOG_ERROR, "dispatchd: %s", err);
    if (http_up) {
        httpd_quiesce();
        long left = httpd_drain(DRAIN_MS);
        if (left > 0) dlog(DLOG_WARN, "http: %ld requests still in flight at shutdown", left);
        httpd_stop(); /* what still waits for Redis completes (fallback or 503) first */
    }
    if (workers_up) worker_stop();
    if (db_up) db_stop();
    queue_stop();
    wh_cleanup();
    if (rc == 0) dlog(DLOG_INFO, "dispatchd stopped");
    return rc;
}
