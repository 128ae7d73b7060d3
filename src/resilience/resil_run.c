/* resil_run.c — one run of a resilience scenario (brink redis-failure, brink db-restart): a
 * fresh embedded stack, a constant-rate signed-webhook load (plus, optionally, vendors accepting
 * orders), a fault between a baseline and a recovery, the drain of the backlog, and the zero-loss
 * audit. resil_report.c turns what this file records into the result document.
 *
 * Threads. The scenario's own thread owns the stack (stack.h: a stack is used from the thread
 * that started it) and drives the phases — warm-up, baseline, fault, recovery — by the clock,
 * applying and removing the fault. The load runs in its own threads, one per stream (engine_run
 * blocks): the webhooks and the accepts. A sampler thread reads the backlog probes (Redis
 * directly, not through the proxy: XLEN, XPENDING, XINFO GROUPS; the inbox table by SQL,
 * directly) and the processes' CPU and memory from /proc every 250 ms; it never touches the
 * stack — the scenario thread hands it the current pids after each process fault.
 *
 * Requests are numbered: webhook {{seq}} carries webhook-id msg_<run>_w<seq> and order id
 * <run>-w<seq>, so that the engine's outcome hook can record each request's status and times in
 * a slot indexed by seq (no locks: each seq ends once, on one thread) and the audit can map each
 * stored row back to its request. Accepts go to orders seeded before the run (<run>-s<seq>,
 * one accept per order, vendor v<seq>), so every accept should win.
 *
 * Faults: latency, blackhole (timeout toxic 0 on both streams) and reset (reset_peer, after
 * which the proxy is switched off and on so that open connections are closed too) are toxics on
 * the dependency's proxy; down disables the proxy; pause, kill and stop are process faults
 * (stack_fault), ended by resume or start, which return when the server is ready again. The
 * fault phase lasts from the fault until the dependency is back (ready, or the toxic removed);
 * the recovery phase follows for the configured time.
 *
 * A user's stack (-f brink.yaml, opts->cfg): no stack is started; the load goes to the file's
 * target with its signing, body and headers, the sampler reads the file's probes, and the faults
 * and the audit are resil_user.c's (Toxiproxy API, dependency hooks, the file's SQL). */
#include "resilience/resil_int.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/secret.h"
#include "load/load_report.h"
#include "stack/proc.h"

#define STREAM_KEY   "dispatchd:webhooks"
#define STREAM_GROUP "dispatchd"
#define SEED_WAIT_NS (30 * NS_PER_S)
#define PG_PIDS_MAX  256
#define POLL_NS      (20 * NS_PER_MS)

static const resil_mode redis_modes[] = {
    {"latency", RESIL_REDIS, RA_LATENCY, "redis",
     "latency added to every Redis reply (latency toxic on the proxy)"},
    {"timeout", RESIL_REDIS, RA_BLACKHOLE, "redis",
     "Redis black-holed: connections held, nothing passes (timeout toxic 0)"},
    {"reset", RESIL_REDIS, RA_RESET, "redis",
     "every Redis connection reset (reset_peer toxic; open connections closed)"},
    {"down", RESIL_REDIS, RA_DOWN, "redis", "Redis proxy disabled: connections refused"},
    {"pause", RESIL_REDIS, RA_PAUSE, "redis", "redis-server stopped (SIGSTOP), then continued"},
    {"kill", RESIL_REDIS, RA_KILL, "redis",
     "redis-server SIGKILLed, started again from its append-only file"},
};

static const resil_mode db_modes[] = {
    {"graceful", RESIL_DB, RA_STOP, "postgres", "PostgreSQL fast shutdown, then started again"},
    {"crash", RESIL_DB, RA_KILL, "postgres",
     "postmaster SIGKILLed, then started again (WAL crash recovery)"},
    {"latency", RESIL_DB, RA_LATENCY, "postgres",
     "latency added to every PostgreSQL reply (latency toxic on the proxy)"},
    {"blackhole", RESIL_DB, RA_BLACKHOLE, "postgres",
     "PostgreSQL black-holed: connections held, nothing passes (timeout toxic 0)"},
};

const resil_mode *resil_modes(resil_test t, int *n) {
    if (t == RESIL_REDIS) {
        *n = (int)(sizeof redis_modes / sizeof redis_modes[0]);
        return redis_modes;
    }
    *n = (int)(sizeof db_modes / sizeof db_modes[0]);
    return db_modes;
}

const resil_mode *resil_mode_find(resil_test t, const char *name) {
    int n;
    const resil_mode *m = resil_modes(t, &n);
    for (int i = 0; i < n; i++)
        if (!strcmp(m[i].name, name)) return &m[i];
    return NULL;
}

const char *resil_test_name(resil_test t) {
    return t == RESIL_REDIS ? "redis-failure" : "db-restart";
}

/* ---- the sampler ----------------------------------------------------------------------------- */

typedef struct sampler {
    resil_run *run;
    probe *probes[RESIL_MAX_PROBES];
    pthread_t th;
    bool started;
    pthread_mutex_t mu; /* run->samples, run->nsamples */
    int cap;
    _Atomic bool stop;
    _Atomic int pid[RESIL_NPROC]; /* service, redis, postgres (user's stack; the embedded
                                     stack's postgres is every process in pg_dir) */
    char pg_dir[PATH_MAX], pg_exe[PATH_MAX];
    probe_meter meter[RESIL_NPROC];
} sampler;

static void sleep_ns(int64_t ns) {
    if (ns <= 0) return;
    struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
    nanosleep(&ts, NULL);
}

static void block_signals(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void sample_once(sampler *sp) {
    resil_run *run = sp->run;
    resil_sample s;
    memset(&s, 0, sizeof s);
    s.t_ns = clock_now_ns();
    bool ok[RESIL_MAX_PROBES];
    char why[RESIL_MAX_PROBES][256];
    for (int i = 0; i < run->nprobes; i++) {
        ok[i] = probe_read(sp->probes[i], &s.v[i], why[i], sizeof why[i]) == 0;
        if (!ok[i]) s.v[i] = NAN;
    }
    for (int k = 0; k < RESIL_NPROC; k++) {
        if (k == 2 && sp->pg_dir[0]) break;
        pid_t pid = atomic_load(&sp->pid[k]);
        if (pid > 0) {
            probe_meter_read(&sp->meter[k], &pid, 1, &s.use[k]);
            s.have_use[k] = s.use[k].nprocs > 0;
        }
    }
    if (sp->pg_dir[0]) {
        pid_t pids[PG_PIDS_MAX];
        int n = proc_list_cwd_under(sp->pg_dir, sp->pg_exe, pids, PG_PIDS_MAX);
        probe_meter_read(&sp->meter[2], pids, n, &s.use[2]);
        s.have_use[2] = s.use[2].nprocs > 0;
    }
    pthread_mutex_lock(&sp->mu); /* the scenario thread reads these during the drain wait */
    for (int i = 0; i < run->nprobes; i++) {
        if (ok[i])
            run->probe_ever_ok[i] = true;
        else if (!run->probe_error[i][0])
            snprintf(run->probe_error[i], sizeof run->probe_error[i], "%s", why[i]);
    }
    if (run->nsamples == sp->cap) {
        int cap = sp->cap ? sp->cap * 2 : 512;
        resil_sample *g = realloc(run->samples, sizeof *g * (size_t)cap);
        if (g) {
            run->samples = g;
            sp->cap = cap;
        }
    }
    if (run->nsamples < sp->cap) run->samples[run->nsamples++] = s;
    pthread_mutex_unlock(&sp->mu);
}

static void *sampler_main(void *arg) {
    sampler *sp = arg;
    block_signals();
    int64_t next = clock_now_ns();
    while (!atomic_load(&sp->stop)) {
        sample_once(sp);
        next += RESIL_SAMPLE_NS;
        int64_t now = clock_now_ns();
        if (next < now) next = now; /* a slow read (a paused server): skip, do not burst */
        while (!atomic_load(&sp->stop) && (now = clock_now_ns()) < next)
            sleep_ns(next - now < POLL_NS ? next - now : POLL_NS);
    }
    return NULL;
}

static void sampler_set_pids(sampler *sp, stack *st, const config *cfg) {
    if (cfg) { /* the user's: target.service_pid(_file), the dependencies' pid(_file) */
        const deps_dep *r = config_dep(cfg, "redis"), *pg = config_dep(cfg, "postgresql");
        atomic_store(&sp->pid[0], config_service_pid(cfg));
        atomic_store(&sp->pid[1], r ? deps_pid(r) : 0);
        atomic_store(&sp->pid[2], pg ? deps_pid(pg) : 0);
        return;
    }
    stack_process ps[8];
    int n = stack_processes(st, ps, 8);
    int svc = 0, red = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(ps[i].name, "service")) svc = ps[i].pid;
        if (!strcmp(ps[i].name, "redis")) red = ps[i].pid;
    }
    atomic_store(&sp->pid[0], svc);
    atomic_store(&sp->pid[1], red);
}

static int add_probe(sampler *sp, const probe_spec *spec, resil_probe_role role, char *err,
                     size_t errlen) {
    resil_run *run = sp->run;
    if (run->nprobes == RESIL_MAX_PROBES) {
        err_set(err, errlen, "too many probes (at most %d)", RESIL_MAX_PROBES);
        return -1;
    }
    int i = run->nprobes;
    if (probe_open(spec, &sp->probes[i], err, errlen) < 0) return -1;
    snprintf(run->probe_name[i], sizeof run->probe_name[i], "%s", spec->name);
    probe_describe(spec, run->probe_desc[i], sizeof run->probe_desc[i]);
    run->probe_role[i] = role;
    run->nprobes++;
    return 0;
}

/* --probe options: {service_url}, {redis_url} and {pg_url} in their URLs name this run's parts
 * (on a user's stack: target.url and audit.url; there is no {redis_url}). */
static int add_extra_probes(sampler *sp, const resil_opts *o, const stack_var *vars, int nvars,
                            char *err, size_t errlen) {
    for (int i = 0; i < o->nextra; i++) {
        probe_spec x = o->extra[i];
        char *u = NULL, why[256];
        if (stack_template(x.url, vars, nvars, &u, why, sizeof why) < 0 ||
            strlen(u) >= sizeof x.url) {
            err_set(err, errlen, "--probe %s: %s", x.name, u ? "URL too long" : why);
            free(u);
            return -1;
        }
        snprintf(x.url, sizeof x.url, "%s", u);
        free(u);
        if (add_probe(sp, &x, RP_EXTRA, err, errlen) < 0) return -1;
    }
    return 0;
}

/* A user's stack: brink.yaml's probes (the backlog, or beside it with backlog: false). */
static int sampler_setup_user(sampler *sp, const resil_opts *o, char *err, size_t errlen) {
    const config *c = o->cfg;
    for (int i = 0; i < c->nprobes; i++) {
        probe_spec x;
        if (config_probe_spec(&c->probes[i], &x, err, errlen) < 0) return -1;
        if (add_probe(sp, &x, c->probes[i].backlog ? RP_BACKLOG : RP_EXTRA, err, errlen) < 0)
            return -1;
    }
    stack_var vars[] = {{"service_url", c->url}, {"pg_url", c->audit_url ? c->audit_url : ""}};
    return add_extra_probes(sp, o, vars, 2, err, errlen);
}

static int sampler_setup(sampler *sp, const stack_info *info, const resil_opts *o, char *err,
                         size_t errlen) {
    struct {
        const char *name, *command, *path;
        resil_probe_role role;
    } rp[] = {
        {"stream_length", "XLEN " STREAM_KEY, "", RP_STREAM_LENGTH},
        {"stream_pending", "XPENDING " STREAM_KEY " " STREAM_GROUP, "[0]", RP_STREAM_PENDING},
        {"stream_lag", "XINFO GROUPS " STREAM_KEY, "[name=" STREAM_GROUP "].lag", RP_STREAM_LAG},
    };
    for (size_t i = 0; i < sizeof rp / sizeof rp[0]; i++) {
        probe_spec s = {.kind = PROBE_REDIS, .timeout_ns = 200 * NS_PER_MS};
        snprintf(s.name, sizeof s.name, "%s", rp[i].name);
        snprintf(s.url, sizeof s.url, "%s", info->redis_url);
        snprintf(s.command, sizeof s.command, "%s", rp[i].command);
        snprintf(s.path, sizeof s.path, "%s", rp[i].path);
        if (add_probe(sp, &s, rp[i].role, err, errlen) < 0) return -1;
    }
    probe_spec q = {.kind = PROBE_SQL, .timeout_ns = 500 * NS_PER_MS};
    snprintf(q.name, sizeof q.name, "inbox");
    snprintf(q.url, sizeof q.url, "%s", info->pg_url);
    snprintf(q.query, sizeof q.query, "SELECT count(*) FROM webhook_inbox");
    if (add_probe(sp, &q, RP_INBOX, err, errlen) < 0) return -1;
    stack_var vars[] = {{"service_url", info->service_url ? info->service_url : ""},
                        {"redis_url", info->redis_url},
                        {"pg_url", info->pg_url}};
    if (add_extra_probes(sp, o, vars, 3, err, errlen) < 0) return -1;
    if (info->pg_data_dir && info->pg_bindir) {
        char exe[PATH_MAX];
        snprintf(exe, sizeof exe, "%s/postgres", info->pg_bindir);
        if (!realpath(exe, sp->pg_exe)) snprintf(sp->pg_exe, sizeof sp->pg_exe, "%s", exe);
        if (!realpath(info->pg_data_dir, sp->pg_dir))
            snprintf(sp->pg_dir, sizeof sp->pg_dir, "%s", info->pg_data_dir);
    }
    return 0;
}

static void sampler_stop(sampler *sp) {
    if (sp->started) {
        atomic_store(&sp->stop, true);
        pthread_join(sp->th, NULL);
        sp->started = false;
    }
    for (int i = 0; i < RESIL_MAX_PROBES; i++) {
        probe_close(sp->probes[i]);
        sp->probes[i] = NULL;
    }
}

double resil_backlog_total(const resil_run *run, const resil_sample *s, bool *complete) {
    double len = NAN, pend = NAN, lag = NAN, sum = 0;
    bool any = false, all = true;
    for (int i = 0; i < run->nprobes; i++) {
        double v = s->v[i];
        switch (run->probe_role[i]) {
        case RP_STREAM_LENGTH: len = v; break;
        case RP_STREAM_PENDING: pend = v; break;
        case RP_STREAM_LAG: lag = v; break;
        case RP_EXTRA: break; /* recorded beside the backlog, not part of it */
        case RP_BACKLOG:
        case RP_INBOX:
            if (!isnan(v)) {
                sum += v;
                any = true;
            } else if (run->probe_ever_ok[i]) {
                all = false;
            }
            break;
        }
    }
    /* the group's undelivered (lag) + delivered-but-unacknowledged (pending) entries; XLEN when
     * the lag is unknown (the stream is trimmed to the backlog every second) */
    double stream = !isnan(lag) && !isnan(pend) ? lag + pend : len;
    if (!isnan(stream)) {
        sum += stream;
        any = true;
    } else {
        for (int i = 0; i < run->nprobes; i++)
            if (run->probe_role[i] <= RP_STREAM_LAG && run->probe_ever_ok[i]) all = false;
    }
    if (complete) *complete = all && any;
    return any ? sum : NAN;
}

/* ---- load streams ------------------------------------------------------------------------- */

/* An attempt into its due second (the worker thread's own row: no locks). */
static void record_second(resil_stream *s, const engine_outcome *o, bool ok) {
    int64_t d = o->intended_ns - s->origin_ns;
    int64_t i = d < 0 ? 0 : d / NS_PER_S;
    if (i >= s->nsec || o->thread < 0 || o->thread >= s->nthr) return;
    resil_sec *x = &s->secs[(size_t)o->thread * (size_t)s->nsec + (size_t)i];
    x->attempts++;
    if (o->duplicate)
        x->duplicates++;
    else if (o->attempt > 1)
        x->retries++;
    if (!ok && (o->status == 0 || o->status >= 400)) x->failed++;
    if (!x->latency) x->latency = hdr_new(1, 3600LL * 1000000, 2);
    if (x->latency) {
        int64_t us = (o->done_ns - o->intended_ns) / NS_PER_US;
        hdr_record(x->latency, us < 1 ? 1 : us);
    }
}

static void on_outcome(void *ud, const engine_outcome *o) {
    resil_stream *s = ud;
    if (o->seq >= s->cap) return;
    bool ok = o->status >= 200 && o->status < 300;
    if (s->secs) record_second(s, o, ok);
    if (o->duplicate) return;
    resil_rec *r = &s->recs[o->seq];
    if (o->attempt <= 1) {
        r->intended_ns = o->intended_ns;
        r->done_ns = o->done_ns;
        r->status = (int16_t)o->status;
        r->err = (int8_t)o->err;
        r->ended = 1;
    }
    if (r->attempts < UINT8_MAX) r->attempts++;
    if (ok && !r->acked) {
        r->acked = 1;
        r->ack_ns = o->done_ns;
    }
}

static void hooks_second(void *ud, const engine_second *s) {
    load_progress_second(ud, stderr, s);
}

static void *load_main(void *arg) {
    resil_stream *s = arg;
    block_signals();
    s->rc = engine_run(&s->cfg, &s->res, s->err, sizeof s->err);
    s->have_res = s->rc == 0;
    return NULL;
}

/* Strings the engines point at for the whole run. */
typedef struct texts {
    char hook_url[256], hook_body[512], hook_id[96];
    char seed_body[512], seed_id[96];
    char accept_url[256];
    engine_header hdr[1 + CONFIG_MAX_HEADERS];
    int nhdr;
    char *user_body, *user_hdr[CONFIG_MAX_HEADERS]; /* brink.yaml's templates, rendered */
    sign_scheme sign;
    char *secret;
    size_t secret_len;
} texts;

static const char ORDER_BODY[] =
    "{\"type\":\"order.created\",\"data\":{\"order_id\":\"%s-%c{{seq}}\",\"customer_id\":"
    "\"c-{{seq}}\",\"items\":[{\"sku\":\"sku-1\",\"qty\":1,\"price_cents\":1250}],"
    "\"total_cents\":1250}}";

static void webhook_cfg(engine_config *c, texts *tx, bool seed, const resil_opts *o) {
    memset(c, 0, sizeof *c);
    c->url = tx->hook_url;
    c->method = "POST";
    c->headers = tx->hdr;
    c->nheaders = tx->nhdr;
    c->body = seed ? tx->seed_body : tx->user_body ? tx->user_body : tx->hook_body;
    c->body_len = strlen(c->body);
    c->sign = tx->sign;
    c->secret = tx->secret;
    c->secret_len = tx->secret_len;
    c->sign_id = seed ? tx->seed_id : tx->hook_id;
    c->timeout_ns = o->timeout_ns;
    c->stop = o->stop;
}

static int stream_alloc(resil_stream *s, const char *name, double rate, int64_t span_ns, char *err,
                        size_t errlen) {
    s->name = name;
    s->rate = rate;
    s->cap = (size_t)(rate * (double)span_ns / NS_PER_S) + 16;
    s->recs = calloc(s->cap, sizeof *s->recs);
    if (!s->recs) {
        err_set(err, errlen, "out of memory for %zu request records", s->cap);
        return -1;
    }
    return 0;
}

static void count_seed(void *ud, const engine_outcome *o) {
    if (o->status >= 200 && o->status < 300) atomic_fetch_add((_Atomic int64_t *)ud, 1);
}

/* Creates n orders <run>-s0 .. -s(n-1) through the service and waits until they are stored. */
static int seed_orders(resil_run *run, texts *tx, const stack_info *info, int64_t n, char *err,
                       size_t errlen) {
    _Atomic int64_t acked = 0;
    engine_config c;
    webhook_cfg(&c, tx, true, run->opts);
    c.connections = 16;
    c.threads = 1;
    c.max_requests = n;
    c.duration_ns = 60 * NS_PER_S;
    c.on_outcome = count_seed;
    c.outcome_ud = (void *)&acked;
    engine_result r;
    if (engine_run(&c, &r, err, errlen) < 0) return -1;
    engine_result_free(&r);
    run->seeds_acknowledged = atomic_load(&acked);
    probe_spec q = {.kind = PROBE_SQL, .timeout_ns = 2 * NS_PER_S};
    snprintf(q.name, sizeof q.name, "seeds");
    snprintf(q.url, sizeof q.url, "%s", info->pg_url);
    snprintf(q.query, sizeof q.query,
             "SELECT count(*) FROM orders WHERE starts_with(order_id, '%s-s')", run->run_id);
    probe *p;
    if (probe_open(&q, &p, err, errlen) < 0) return -1;
    int64_t deadline = clock_now_ns() + SEED_WAIT_NS;
    double v = 0;
    while (clock_now_ns() < deadline && !*run->opts->stop) {
        if (probe_read(p, &v, NULL, 0) == 0 && v >= (double)run->seeds_acknowledged) break;
        sleep_ns(100 * NS_PER_MS);
    }
    probe_close(p);
    run->seeds_stored = (int64_t)v;
    return 0;
}

/* ---- faults ---------------------------------------------------------------------------------- */

static int toxic(proxy_server *px, const char *proxy, const char *name, toxic_type type,
                 toxic_stream dir, int64_t ms, char *err, size_t errlen) {
    toxic_spec t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s", name);
    t.type = type;
    t.stream = dir;
    t.toxicity = 1.0;
    if (type == TOXIC_LATENCY)
        t.latency = ms;
    else
        t.timeout = ms;
    char why[256] = "";
    if (proxy_toxic_add(px, proxy, &t, why, sizeof why) != PROXY_OK) {
        err_set(err, errlen, "cannot add the %s toxic to proxy %s: %s", toxic_type_name(type),
                proxy, why);
        return -1;
    }
    return 0;
}

static int proxy_enable(proxy_server *px, const char *proxy, int on, char *err, size_t errlen) {
    char why[256] = "";
    if (proxy_update(px, proxy, NULL, NULL, on, NULL, why, sizeof why) != PROXY_OK) {
        err_set(err, errlen, "cannot %s proxy %s: %s", on ? "enable" : "disable", proxy, why);
        return -1;
    }
    return 0;
}

stack_fault_op resil_process_op(const resil_mode *m, bool apply) {
    if (!apply) return m->action == RA_PAUSE ? STACK_FAULT_RESUME : STACK_FAULT_START;
    return m->action == RA_PAUSE  ? STACK_FAULT_PAUSE
           : m->action == RA_KILL ? STACK_FAULT_KILL
                                  : STACK_FAULT_STOP;
}

static int apply_embedded(stack *st, resil_run *run, char *err, size_t errlen) {
    const resil_mode *m = run->mode;
    proxy_server *px = stack_proxies(st);
    int rc = 0;
    switch (m->action) {
    case RA_LATENCY:
        rc = toxic(px, m->target, "brink_latency", TOXIC_LATENCY, STREAM_DOWNSTREAM,
                   run->opts->latency_ms, err, errlen);
        break;
    case RA_BLACKHOLE:
        rc = toxic(px, m->target, "brink_blackhole_up", TOXIC_TIMEOUT, STREAM_UPSTREAM, 0, err,
                   errlen);
        if (rc == 0)
            rc = toxic(px, m->target, "brink_blackhole_down", TOXIC_TIMEOUT, STREAM_DOWNSTREAM, 0,
                       err, errlen);
        break;
    case RA_RESET:
        rc = toxic(px, m->target, "brink_reset", TOXIC_RESET_PEER, STREAM_UPSTREAM, 0, err, errlen);
        if (rc == 0) rc = proxy_enable(px, m->target, 0, err, errlen);
        if (rc == 0) rc = proxy_enable(px, m->target, 1, err, errlen);
        break;
    case RA_DOWN: rc = proxy_enable(px, m->target, 0, err, errlen); break;
    case RA_PAUSE:
    case RA_KILL:
    case RA_STOP:
        run->process_fault = true;
        rc = stack_fault(st, m->target, resil_process_op(m, true), &run->down_t, err, errlen);
        break;
    }
    return rc;
}

/* Applies the fault on the embedded stack or the user's; a process fault starts with its signal. */
static int apply_fault(stack *st, resil_run *run, char *err, size_t errlen) {
    int64_t now = clock_now_ns();
    int rc =
        run->opts->cfg ? resil_user_apply(run, err, errlen) : apply_embedded(st, run, err, errlen);
    if (run->process_fault && run->down_t.signal_ns) now = run->down_t.signal_ns;
    run->fault_start = now;
    run->fault_applied = rc == 0 || run->process_fault;
    return rc;
}

static int remove_embedded(stack *st, resil_run *run, char *err, size_t errlen) {
    const resil_mode *m = run->mode;
    proxy_server *px = stack_proxies(st);
    int rc = 0;
    switch (m->action) {
    case RA_LATENCY: proxy_toxic_remove(px, m->target, "brink_latency"); break;
    case RA_BLACKHOLE:
        proxy_toxic_remove(px, m->target, "brink_blackhole_up");
        proxy_toxic_remove(px, m->target, "brink_blackhole_down");
        break;
    case RA_RESET: proxy_toxic_remove(px, m->target, "brink_reset"); break;
    case RA_DOWN: rc = proxy_enable(px, m->target, 1, err, errlen); break;
    case RA_PAUSE:
    case RA_KILL:
    case RA_STOP:
        rc = stack_fault(st, m->target, resil_process_op(m, false), &run->up_t, err, errlen);
        break;
    }
    return rc;
}

/* Removes the fault; a process fault ends when its target is ready again. */
static int remove_fault(stack *st, resil_run *run, char *err, size_t errlen) {
    int rc = run->opts->cfg ? resil_user_remove(run, err, errlen)
                            : remove_embedded(st, run, err, errlen);
    run->fault_end = run->process_fault && run->up_t.ready_ns ? run->up_t.ready_ns : clock_now_ns();
    run->fault_removed = true;
    return rc;
}

/* ---- the audit ------------------------------------------------------------------------------- */

/* Runs one query with one text parameter; the result or NULL with a reason. */
static PGresult *query(PGconn *c, const char *sql, const char *param, char *err, size_t errlen) {
    const char *params[1] = {param};
    PGresult *r = PQexecParams(c, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorMessage(r);
        err_set(err, errlen, "audit query failed: %.*s", (int)strcspn(m, "\n"), m);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int64_t int_at(PGresult *r, int row, int col) {
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}
/* The audit's start, the same on every stack: which webhooks of the stream were acknowledged
 * (*acked, one byte per sequence number, malloc'd: 2xx answers) and the ledger keyed by the run's
 * webhook-id prefix (written to prefix). NULL when out of memory. */
probe_audit *resil_audit_start(const resil_run *run, uint8_t **acked, char *prefix,
                               size_t prefix_len) {
    const resil_stream *h = &run->hooks;
    *acked = calloc(h->cap ? h->cap : 1, 1);
    for (size_t i = 0; *acked && i < h->cap; i++) (*acked)[i] = h->recs[i].acked;
    snprintf(prefix, prefix_len, "msg_%s_w", run->run_id);
    return *acked ? probe_audit_new(*acked, h->cap, prefix) : NULL;
}

void resil_audit_counts(const probe_audit *pa, const char *prefix, resil_audit *a) {
    probe_audit_counts_get(pa, &a->webhooks);
    if (a->webhooks.first_lost >= 0)
        snprintf(a->first_lost, sizeof a->first_lost, "%s%lld", prefix,
                 (long long)a->webhooks.first_lost);
    if (a->webhooks.first_duplicated >= 0)
        snprintf(a->first_duplicated, sizeof a->first_duplicated, "%s%lld", prefix,
                 (long long)a->webhooks.first_duplicated);
}

static void run_audit(resil_run *run, const stack_info *info) {
    resil_audit *a = &run->audit;
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {info->pg_url, "10", "brink-audit", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    uint8_t *acked = NULL;
    probe_audit *pa = NULL;
    PGresult *r = NULL;
    if (PQstatus(c) != CONNECTION_OK) {
        const char *m = PQerrorMessage(c);
        err_set(a->error, sizeof a->error, "audit: cannot connect to PostgreSQL: %.*s",
                (int)strcspn(m, "\n"), m);
        goto out;
    }
    /* webhooks: acknowledged vs stored (orders) and still queued (inbox) */
    char prefix[64];
    pa = resil_audit_start(run, &acked, prefix, sizeof prefix);
    if (!pa) {
        err_set(a->error, sizeof a->error, "audit: out of memory");
        goto out;
    }
    if (!(r = query(c, "SELECT webhook_id FROM orders WHERE starts_with(webhook_id, $1)", prefix,
                    a->error, sizeof a->error)))
        goto out;
    for (int i = 0; i < PQntuples(r); i++) probe_audit_add(pa, PQgetvalue(r, i, 0), PROBE_STORED);
    PQclear(r);
    r = NULL;
    if (!(r = query(c, "SELECT webhook_id FROM webhook_inbox WHERE starts_with(webhook_id, $1)",
                    prefix, a->error, sizeof a->error)))
        goto out;
    for (int i = 0; i < PQntuples(r); i++) probe_audit_add(pa, PQgetvalue(r, i, 0), PROBE_QUEUED);
    PQclear(r);
    r = NULL;
    resil_audit_counts(pa, prefix, a);
    /* integrity of the whole database (a fresh stack: only this run wrote to it) */
    if (!(r = query(c,
                    "SELECT (SELECT count(*) FROM orders o WHERE o.status = 'accepted' AND NOT "
                    "EXISTS (SELECT 1 FROM order_assignments a WHERE a.order_id = o.order_id)),"
                    " (SELECT count(*) FROM order_assignments a WHERE NOT EXISTS (SELECT 1 FROM "
                    "orders o WHERE o.order_id = a.order_id AND o.status = 'accepted')),"
                    " (SELECT count(*) FROM orders o JOIN order_assignments a USING (order_id) "
                    "WHERE o.vendor_id IS DISTINCT FROM a.vendor_id)",
                    NULL, a->error, sizeof a->error)))
        goto out;
    a->accepted_without_assignment = int_at(r, 0, 0);
    a->assignment_without_accept = int_at(r, 0, 1);
    a->vendor_mismatch = int_at(r, 0, 2);
    PQclear(r);
    r = NULL;
    /* accepts: every acknowledged accept must be in the database, with its vendor */
    const resil_stream *ac = &run->accepts;
    if (ac->recs) {
        char oprefix[64];
        snprintf(oprefix, sizeof oprefix, "%s-s", run->run_id);
        if (!(r = query(c,
                        "SELECT order_id, status, coalesce(vendor_id, '') FROM orders WHERE "
                        "starts_with(order_id, $1)",
                        oprefix, a->error, sizeof a->error)))
            goto out;
        uint8_t *ok = calloc(ac->cap ? ac->cap : 1, 1);
        for (int i = 0; ok && i < PQntuples(r); i++) {
            uint64_t seq;
            char want[32];
            if (probe_audit_seq(PQgetvalue(r, i, 0), oprefix, &seq) < 0 || seq >= ac->cap) continue;
            snprintf(want, sizeof want, "v%llu", (unsigned long long)seq);
            ok[seq] =
                !strcmp(PQgetvalue(r, i, 1), "accepted") && !strcmp(PQgetvalue(r, i, 2), want);
        }
        PQclear(r);
        r = NULL;
        for (size_t i = 0; ok && i < ac->cap; i++) {
            const resil_rec *x = &ac->recs[i];
            if (!x->acked) continue;
            a->accepts_acknowledged++;
            if (ok[i])
                a->accepts_applied++;
            else
                a->accepts_lost++;
        }
        free(ok);
    }
    a->integrity_violations = a->accepted_without_assignment + a->assignment_without_accept +
                              a->vendor_mismatch + a->accepts_lost;
    a->done = true;
out:
    if (r) PQclear(r);
    probe_audit_free(pa);
    free(acked);
    PQfinish(c);
}

/* ---- the run --------------------------------------------------------------------------------- */

/* dispatchd as the stack would find it: next to this executable, or the repository's bin/. */
static int find_dispatchd(char *out, size_t outlen, char *err, size_t errlen) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        err_set(err, errlen, "cannot find the brink executable's directory");
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    char cand[PATH_MAX + 32];
    snprintf(cand, sizeof cand, "%s/dispatchd", self);
    if (proc_find_exe(cand, out, outlen) == 0) return 0;
    snprintf(cand, sizeof cand, "%s/../../bin/dispatchd", self);
    if (proc_find_exe(cand, out, outlen) == 0) return 0;
    err_set(err, errlen, "the reference service dispatchd is not built next to %s (run make)",
            self);
    return -1;
}

/* The engine configurations stay in the run for the report (rates, connections, durations);
 * what they pointed at (texts, the secret, the flags) lives only as long as the run. */
static void forget_pointers(resil_stream *s) {
    s->cfg.url = s->cfg.body = s->cfg.secret = s->cfg.sign_id = NULL;
    s->cfg.headers = NULL;
    s->cfg.stop = s->cfg.finish = NULL;
    s->cfg.on_outcome = NULL;
    s->cfg.outcome_ud = NULL;
    s->cfg.on_second = NULL;
    s->cfg.ud = NULL;
}

/* Sleeps until t (or an interrupt). false when interrupted. */
static bool wait_until(const resil_opts *o, int64_t t) {
    for (;;) {
        if (*o->stop) return false;
        int64_t now = clock_now_ns();
        if (now >= t) return true;
        sleep_ns(t - now < POLL_NS ? t - now : POLL_NS);
    }
}

/* Waits (bounded) until every backlog probe that ever answered reads 0. */
static void drain_wait(resil_run *run, sampler *sp) {
    int64_t start = clock_now_ns(), deadline = start + run->opts->drain_timeout_ns;
    int zero_streak = 0;
    while (clock_now_ns() < deadline && !*run->opts->stop) {
        sleep_ns(RESIL_SAMPLE_NS);
        pthread_mutex_lock(&sp->mu);
        bool complete = false;
        double total = run->nsamples
                           ? resil_backlog_total(run, &run->samples[run->nsamples - 1], &complete)
                           : NAN;
        pthread_mutex_unlock(&sp->mu);
        zero_streak = complete && total == 0 ? zero_streak + 1 : 0;
        if (zero_streak >= 2) {
            run->drained = true;
            break;
        }
    }
    run->drain_end = clock_now_ns();
    run->drain_wait_s = (double)(run->drain_end - start) / NS_PER_S;
}

static void join_argv(char *const *argv, char *out, size_t outlen) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; argv && argv[i] && n + 1 < outlen; i++) {
        int w = snprintf(out + n, outlen - n, "%s%s", i ? " " : "", argv[i]);
        if (w < 0) break;
        n += (size_t)w;
    }
}

static int conns_for(const resil_opts *o, double rate) {
    if (o->connections > 0) return o->connections;
    double c = rate * ((double)o->timeout_ns / NS_PER_S + 1.0);
    if (c < 32) c = 32;
    if (c > 4000) c = 4000;
    return (int)c;
}

/* A user's stack: the drain wait when brink.yaml has backlog probes (none: nothing to wait on),
 * then the audit — again every second while it finds acknowledged webhooks missing and the drain
 * time is not over, since without a backlog probe brink cannot tell "lost" from "not yet
 * processed". */
static void user_drain_and_audit(resil_run *run, sampler *sp) {
    const resil_opts *o = run->opts;
    bool backlog = false;
    for (int i = 0; i < run->nprobes; i++)
        if (run->probe_role[i] == RP_BACKLOG) backlog = true;
    int64_t deadline = clock_now_ns() + o->drain_timeout_ns;
    if (backlog) {
        drain_wait(run, sp);
    } else {
        run->drain_end = clock_now_ns();
        run->drain_wait_s = 0;
    }
    sampler_stop(sp);
    for (;;) {
        resil_user_audit(run);
        if (!run->audit.done || run->audit.webhooks.lost == 0 || *o->stop) break;
        if (clock_now_ns() + NS_PER_S > deadline) break;
        sleep_ns(NS_PER_S);
    }
}

/* A user's stack: the target, its signing and secret from brink.yaml; the Toxiproxy API checked. */
static int user_setup(resil_run *run, texts *tx, char *err, size_t errlen) {
    const config *c = run->opts->cfg;
    snprintf(run->service_url, sizeof run->service_url, "%s", c->url);
    if (strlen(c->url) + strlen(c->webhook_path) >= sizeof tx->hook_url) {
        err_set(err, errlen, "%s: target: the webhook URL is too long (at most %zu bytes)", c->file,
                sizeof tx->hook_url - 1);
        return -1;
    }
    config_webhook_url(c, tx->hook_url, sizeof tx->hook_url);
    tx->sign = c->sign;
    run->sign = c->sign != SIGN_NONE ? sign_scheme_name(c->sign) : NULL;
    if (c->sign != SIGN_NONE && !(tx->secret = config_read_secret(c, &tx->secret_len, err, errlen)))
        return -1;
    return resil_user_prepare(run, err, errlen);
}

/* brink.yaml's body and headers with this run's {{webhook_id}} (the id the audit looks for). */
static int user_templates(const config *c, const resil_run *run, texts *tx, char *err,
                          size_t errlen) {
    bool have_ct = false;
    for (int i = 0; i < c->nheaders; i++)
        if (!strncasecmp(c->headers[i], "content-type:", 13)) have_ct = true;
    if (!have_ct) tx->hdr[tx->nhdr++].text = "Content-Type: application/json";
    for (int i = 0; i < c->nheaders; i++) {
        if (!(tx->user_hdr[i] = config_render(c->headers[i], tx->hook_id, run->run_id))) break;
        tx->hdr[tx->nhdr++].text = tx->user_hdr[i];
    }
    if (tx->nhdr < c->nheaders + !have_ct ||
        (c->body && !(tx->user_body = config_render(c->body, tx->hook_id, run->run_id)))) {
        err_set(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int resil_run_mode(const resil_opts *o, const resil_mode *m, resil_run *run, char *err,
                   size_t errlen) {
    memset(run, 0, sizeof *run);
    run->mode = m;
    run->opts = o;
    run->started_wall_ns = clock_wall_ns();
    uint8_t rnd[4] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        int64_t t = clock_now_ns();
        memcpy(rnd, &t, sizeof rnd);
    }
    snprintf(run->run_id, sizeof run->run_id, "r%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);

    texts tx;
    memset(&tx, 0, sizeof tx);
    sampler sp;
    memset(&sp, 0, sizeof sp);
    sp.run = run;
    pthread_mutex_init(&sp.mu, NULL);
    pthread_t th_hooks, th_accepts;
    bool hooks_started = false, accepts_started = false;
    volatile sig_atomic_t finish = 0;
    int rc = -1;

    stack *st = NULL;
    const stack_info *info = NULL;
    if (o->cfg) {
        if (user_setup(run, &tx, err, errlen) < 0) goto out;
        probe_metrics_init(&run->metrics, o->cfg->metrics_url);
    } else {
        char svc[PATH_MAX + 256];
        stack_opts so = {.profile = o->profile, .keep = o->keep, .ready_timeout_ns = 20 * NS_PER_S};
        if (m->test == RESIL_REDIS && o->profile == STACK_PROFILE_UNTUNED) {
            /* --untuned ingests synchronously into PostgreSQL, where Redis is never on the
             * request path; the Redis test measures the untuned Redis client (no timeout, no
             * fallback) on the queue path instead */
            char exe[PATH_MAX];
            if (find_dispatchd(exe, sizeof exe, err, errlen) < 0) goto out;
            snprintf(svc, sizeof svc,
                     "'%s' --listen {listen} --pg {pg_url} --redis {redis_url} --secret-file "
                     "{secret_file} --untuned --ingest queue",
                     exe);
            so.service = svc;
        }
        if (stack_up(&so, &st, err, errlen) < 0) goto out;
        info = stack_get_info(st);
        if (!info->service_url) {
            err_set(err, errlen, "the stack has no service");
            goto out_stack;
        }
        snprintf(run->service_url, sizeof run->service_url, "%s", info->service_url);
        join_argv(info->service_argv, run->service_command, sizeof run->service_command);
        probe_metrics_for_stack(&run->metrics, info);
        tx.secret = secret_read(NULL, info->secret_file, &tx.secret_len, err, errlen);
        if (!tx.secret) goto out_stack;
        tx.sign = SIGN_STANDARD_WEBHOOKS;
        run->sign = sign_scheme_name(tx.sign);
        snprintf(tx.hook_url, sizeof tx.hook_url, "%s/webhooks/orders", info->service_url);
        tx.hdr[tx.nhdr++].text = "Content-Type: application/json";
    }
    snprintf(tx.hook_body, sizeof tx.hook_body, ORDER_BODY, run->run_id, 'w');
    snprintf(tx.hook_id, sizeof tx.hook_id, "msg_%s_w{{seq}}", run->run_id);
    snprintf(tx.seed_body, sizeof tx.seed_body, ORDER_BODY, run->run_id, 's');
    snprintf(tx.seed_id, sizeof tx.seed_id, "msg_%s_s{{seq}}", run->run_id);
    snprintf(tx.accept_url, sizeof tx.accept_url, "%s/orders/%s-s{{seq}}/accept", run->service_url,
             run->run_id);
    if (o->cfg && user_templates(o->cfg, run, &tx, err, errlen) < 0) goto out_stack;

    int64_t planned = o->warmup_ns + o->baseline_ns + o->fault_ns + o->recovery_ns;
    int64_t span = planned + 120 * NS_PER_S; /* room for slow starts and ready waits */

    if (o->cfg ? sampler_setup_user(&sp, o, err, errlen) < 0
               : sampler_setup(&sp, info, o, err, errlen) < 0)
        goto out_stack;
    sampler_set_pids(&sp, st, o->cfg);

    if (o->accept_rate > 0) {
        int64_t nseed = (int64_t)(o->accept_rate * (double)(planned + 30 * NS_PER_S) / NS_PER_S);
        if (seed_orders(run, &tx, info, nseed, err, errlen) < 0) goto out_stack;
        if (stream_alloc(&run->accepts, "accepts", o->accept_rate,
                         (int64_t)((double)nseed / o->accept_rate * NS_PER_S), err, errlen) < 0)
            goto out_stack;
        engine_config *c = &run->accepts.cfg;
        c->url = tx.accept_url;
        c->method = "POST";
        c->headers = tx.hdr;
        c->nheaders = 1;
        c->body = "{\"vendor_id\":\"v{{seq}}\"}";
        c->body_len = strlen(c->body);
        c->rate = o->accept_rate;
        c->max_requests = nseed;
        c->duration_ns = span;
        c->connections = conns_for(o, o->accept_rate);
        c->threads = 1;
        c->timeout_ns = o->timeout_ns;
        c->stop = o->stop;
        c->finish = &finish;
        c->on_outcome = on_outcome;
        c->outcome_ud = &run->accepts;
    }
    if (stream_alloc(&run->hooks, "webhooks", o->rate, span, err, errlen) < 0) goto out_stack;
    engine_config *hc = &run->hooks.cfg;
    webhook_cfg(hc, &tx, false, o);
    hc->rate = o->rate;
    hc->max_requests = (int64_t)run->hooks.cap - 16;
    hc->duration_ns = span;
    hc->connections = conns_for(o, o->rate);
    hc->threads = o->threads > 0 ? o->threads : 2;
    hc->finish = &finish;
    hc->on_outcome = on_outcome;
    hc->outcome_ud = &run->hooks;
    char pname[64];
    snprintf(pname, sizeof pname, "brink %s %s", resil_test_name(m->test), m->name);
    load_progress progress;
    load_progress_init(&progress, pname, stderr, o->quiet, true, (double)planned / NS_PER_S);
    hc->on_second = hooks_second;
    hc->ud = &progress;
    if (o->sender) { /* retries and duplicates, each attempt into its due second */
        hc->delivery = o->sender;
        hc->delivery_drain_ns = o->sender_drain_ns;
        resil_stream *h = &run->hooks;
        h->nthr = hc->threads;
        h->nsec = (int)((span + o->sender_drain_ns) / NS_PER_S) + 2;
        h->secs = calloc((size_t)h->nthr * (size_t)h->nsec, sizeof *h->secs);
        if (!h->secs) {
            err_set(err, errlen, "out of memory for the per-second attempts");
            goto out_stack;
        }
    }
    if (engine_check(hc, err, errlen) < 0) goto out_stack;

    if (pthread_create(&sp.th, NULL, sampler_main, &sp) != 0) {
        err_set(err, errlen, "cannot start the sampler thread");
        goto out_stack;
    }
    sp.started = true;
    sleep_ns(300 * NS_PER_MS); /* a sample or so before the load */
    probe_metrics_scrape(&run->metrics, PROBE_METRICS_START);

    run->t0 = run->hooks.origin_ns = clock_now_ns();
    if (pthread_create(&th_hooks, NULL, load_main, &run->hooks) != 0) {
        err_set(err, errlen, "cannot start the load thread");
        goto out_load;
    }
    hooks_started = true;
    if (run->accepts.recs) {
        if (pthread_create(&th_accepts, NULL, load_main, &run->accepts) != 0) {
            err_set(err, errlen, "cannot start the accept load thread");
            goto out_load;
        }
        accepts_started = true;
    }
    bool ok = wait_until(o, run->t0 + o->warmup_ns);
    run->baseline_start = clock_now_ns();
    if (ok) ok = wait_until(o, run->baseline_start + o->baseline_ns);
    if (ok) {
        if (apply_fault(st, run, run->fault_error, sizeof run->fault_error) < 0) {
            snprintf(err, errlen, "%s fault: %s", m->name, run->fault_error);
            ok = false;
        }
        sampler_set_pids(&sp, st, o->cfg);
    }
    if (ok) ok = wait_until(o, run->fault_start + o->fault_ns);
    if (run->fault_applied) {
        char why[256] = "";
        if (remove_fault(st, run, why, sizeof why) < 0 && !run->fault_error[0]) {
            snprintf(run->fault_error, sizeof run->fault_error, "%s", why);
            snprintf(err, errlen, "ending the %s fault: %s", m->name, why);
            ok = false;
        }
        sampler_set_pids(&sp, st, o->cfg);
        probe_metrics_scrape(&run->metrics, PROBE_METRICS_FAULT_END); /* in the recovery's time */
    }
    if (ok) ok = wait_until(o, run->fault_end + o->recovery_ns);
    run->recovery_end = clock_now_ns();
    finish = 1;
    if (hooks_started) pthread_join(th_hooks, NULL);
    if (accepts_started) pthread_join(th_accepts, NULL);
    hooks_started = accepts_started = false;
    load_progress_end(&progress, stderr);
    run->load_end = clock_now_ns();
    probe_metrics_scrape(&run->metrics, PROBE_METRICS_END);
    if (*o->stop) {
        err_set(err, errlen, "interrupted");
        goto out_load;
    }
    if (!ok) goto out_load;
    if (!run->hooks.have_res) {
        err_set(err, errlen, "load: %s", run->hooks.err);
        goto out_load;
    }
    if (run->hooks.res.responses == 0) {
        err_set(err, errlen, "no response at all from the service at %s", run->service_url);
        goto out_load;
    }
    if (o->cfg) {
        user_drain_and_audit(run, &sp);
    } else {
        drain_wait(run, &sp);
        sampler_stop(&sp);
        run_audit(run, info);
    }
    rc = 0;
out_load:
    finish = 1;
    if (hooks_started) pthread_join(th_hooks, NULL);
    if (accepts_started) pthread_join(th_accepts, NULL);
    if (!run->load_end) run->load_end = clock_now_ns();
out_stack:
    sampler_stop(&sp);
    if (rc < 0 && run->fault_applied && !run->fault_removed) {
        char why[256];
        remove_fault(st, run, why, sizeof why);
    }
    stack_down(st);
out:
    pthread_mutex_destroy(&sp.mu);
    forget_pointers(&run->hooks);
    forget_pointers(&run->accepts);
    if (tx.secret) {
        memset(tx.secret, 0, tx.secret_len);
        free(tx.secret);
    }
    free(tx.user_body);
    for (int i = 0; i < CONFIG_MAX_HEADERS; i++) free(tx.user_hdr[i]);
    return rc;
}

void resil_run_free(resil_run *run) {
    for (int k = 0; k < 2; k++) {
        resil_stream *s = k ? &run->accepts : &run->hooks;
        if (s->have_res) engine_result_free(&s->res);
        free(s->recs);
        s->recs = NULL;
        s->have_res = false;
        for (int i = 0; s->secs && i < s->nthr * s->nsec; i++) hdr_free(s->secs[i].latency);
        free(s->secs);
        s->secs = NULL;
    }
    free(run->samples);
    run->samples = NULL;
    run->nsamples = 0;
}
