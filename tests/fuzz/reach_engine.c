/* reach_engine.c — the load engine (src/load/engine.c, compiled whole) and a way into its response
 * handling for fuzz_engine.c (see reach.h). The engine is prepared as engine_run prepares it, but
 * its one worker runs no thread and no epoll loop: the harness starts each request itself
 * (conn_start), the transport hands over the input as the server's bytes, and conn_read does the
 * rest exactly as in a run — libhttp-parser with the engine's callbacks (Retry-After, bodies kept
 * for checks and captures), conn_response (histograms, status counts, the scenario's checks and
 * captures, the sender's retries), conn_fail, keep-alive or close. The worker is "stopping", so
 * that conn_next never opens a connection. */
#include "../../src/load/engine.c"

#include "common.h"
#include "reach.h"

struct fuzz_engine {
    engine *e;
    uint64_t seq;
};

#define FZ_FD 1000000 /* a descriptor number nothing has: epoll_ctl on it fails, harmlessly */

fuzz_engine *fuzz_engine_new(const engine_config *cfg, char *err, size_t errlen) {
    fuzz_engine *fe = calloc(1, sizeof *fe);
    engine *e = fe ? calloc(1, sizeof *e) : NULL;
    if (!e) {
        free(fe);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fe->e = e;
    e->settings =
        cfg->delivery && cfg->delivery->honor_retry_after ? parser_settings_ra : parser_settings;
    if (engine_prepare(e, cfg, err, errlen) < 0) goto fail;
    for (int i = 0; i < e->nrq; i++)
        if (e->rq[i].needs_body) e->settings.on_body = on_body;
    e->tp = &fuzz_feed_transport;
    e->T = 1;
    e->timeout_ns = 5 * NS_PER_S;
    e->max_requests = cfg->max_requests;
    e->open = cfg->rate > 0;
    if (e->open) sched_constant(&e->sch, cfg->rate, 10 * NS_PER_S);
    e->start_ns = clock_now_ns();
    e->end_ns = INT64_MAX;
    e->w = calloc(1, sizeof *e->w);
    if (!e->w) goto fail;
    e->w[0].epfd = -1;
    if (worker_init(e, &e->w[0], 0, 1, 0, err, errlen) < 0) goto fail;
    e->w[0].stopping = true;
    return fe;
fail:
    fuzz_engine_free(fe);
    return NULL;
}

void fuzz_engine_free(fuzz_engine *fe) {
    if (!fe) return;
    engine *e = fe->e;
    if (e->w) {
        worker_free(&e->w[0]);
        free(e->w);
    }
    engine_free_templates(e);
    url_free(&e->u);
    free(e);
    free(fe);
}

int64_t fuzz_engine_feed(fuzz_engine *fe, int pick, int max, const uint8_t *data, size_t len,
                         const uint8_t *cuts, size_t ncuts) {
    engine *e = fe->e;
    worker *w = &e->w[0];
    conn *c = &w->conns[0];
    fuzz_feed_set(data, len, cuts, ncuts);
    int64_t before = w->responses;
    for (int k = 0; k < max && (k == 0 || fuzz_feed_left() > 0); k++) {
        int64_t now = clock_now_ns();
        /* the connection taken off the idle list (what dispatch_idle does), "connected" */
        w->nidle = 0;
        w->ncooling = 0;
        w->nheap = 0;
        if (c->st == CS_CLOSED) {
            c->tc.fd = FZ_FD;
            c->st = CS_IDLE;
        }
        c->fi = -1;
        c->ri = (int16_t)((unsigned)(pick + k) % (unsigned)e->nrq);
        c->attempt = 1;
        c->dup = false;
        c->first_due = now;
        conn_start(c, now, fe->seq++, now);
        while (c->busy && c->st == CS_READING) conn_read(c, now);
        if (c->busy) abort(); /* a request neither answered nor failed */
    }
    conn_close(c);
    w->nidle = 0;
    w->ncooling = 0;
    w->nheap = 0;
    return w->responses - before;
}
