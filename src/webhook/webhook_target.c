/* webhook_target.c — where the webhook test's load goes and what it looks like: the embedded
 * stack (stack_up with the default service, dispatchd, in the tuned or untuned profile; the
 * stack's own secret) or a running service (--target URL with --secret-file/--secret-env, or a
 * brink.yaml's target). Every request is dispatchd's order.created webhook (or the user's body
 * and headers, with {{webhook_id}} and {{run}} filled in), signed, with an order id
 * and a webhook-id that are unique across runs ("<run>-<tag>-<seq>": a random run id, a tag per
 * engine run, the engine's {{seq}}), so that a search's many steps never collide with each other
 * or with an earlier run's orders.
 *
 * Also here, small and robust on purpose: the service's CPU and memory from /proc/PID/stat and
 * /proc/PID/statm (utime + stime deltas over wall time, resident pages), and the backlog of
 * dispatchd's Redis stream (XINFO GROUPS: pending + lag), which the search lets drain between
 * steps so that one step's queue is not the next step's load. */
#include "webhook/webhook_int.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "http/url.h"
#include "probe/probe_proc.h"
#include "core/secret.h"
#include "config/config.h"

#define STREAM "dispatchd:webhooks"
#define GROUP  "dispatchd"

static const char ORDER_BODY[] =
    "{\"type\":\"order.created\",\"data\":{\"order_id\":\"%s-%d-{{seq}}\",\"customer_id\":"
    "\"c-{{rand:1-5000}}\",\"items\":[{\"sku\":\"sku-{{rand:1-200}}\",\"qty\":{{rand:1-5}},"
    "\"price_cents\":1250}],\"total_cents\":1250}}";

/* The same order as an event of its lifecycle (--events): the type and version vary, the order's
 * fields stay (senders like Stripe send the whole object with every event). */
static const char EVENT_BODY[] =
    "{\"type\":\"{{event}}\",\"data\":{\"order_id\":\"%s-%d-{{order}}\",\"version\":{{version}},"
    "\"customer_id\":\"c-{{rand:1-5000}}\",\"items\":[{\"sku\":\"sku-{{rand:1-200}}\",\"qty\":"
    "{{rand:1-5}},\"price_cents\":1250}],\"total_cents\":1250}}";

static void run_id(char out[16]) {
    uint8_t rnd[4] = {0};
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        int64_t t = clock_now_ns() ^ (int64_t)getpid();
        memcpy(rnd, &t, sizeof rnd);
    }
    snprintf(out, 16, "w%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
}

static int open_url(const webhook_opts *o, webhook_target *t, bool *usage, char *err,
                    size_t errlen) {
    url u;
    char sub[256];
    if (url_parse(o->target, &u, sub, sizeof sub) < 0) {
        err_set(err, errlen, "--target: %s", sub);
        *usage = true;
        return -1;
    }
    bool bare = !strcmp(u.path, "/");
    url_free(&u);
    size_t n = strlen(o->target);
    if (n + sizeof WEBHOOK_PATH >= sizeof t->url) {
        err_set(err, errlen, "--target: URL too long (at most %zu bytes)",
                sizeof t->url - sizeof WEBHOOK_PATH);
        *usage = true;
        return -1;
    }
    if (bare) {
        while (n && o->target[n - 1] == '/') n--;
        snprintf(t->url, sizeof t->url, "%.*s%s", (int)n, o->target, WEBHOOK_PATH);
    } else {
        snprintf(t->url, sizeof t->url, "%s", o->target);
    }
    t->sign = o->sign;
    if (t->sign != SIGN_NONE) {
        if (!o->secret_file && !o->secret_env) {
            err_set(err, errlen,
                    "--target needs the signing secret: --secret-file F or --secret-env VAR "
                    "(or --sign none)");
            *usage = true;
            return -1;
        }
        t->secret = secret_read(o->secret_env, o->secret_env ? NULL : o->secret_file,
                                &t->secret_len, err, errlen);
        if (!t->secret) {
            *usage = true;
            return -1;
        }
    }
    t->pid = o->service_pid;
    snprintf(t->label, sizeof t->label, "%.150s", t->url);
    snprintf(t->service, sizeof t->service, "target");
    return 0;
}

static int open_stack(const webhook_opts *o, webhook_target *t, char *err, size_t errlen) {
    stack_opts so = {
        .profile = o->stack_profile, .keep = o->keep, .ready_timeout_ns = 20 * NS_PER_S};
    if (!o->quiet)
        fprintf(stderr, "brink: starting the embedded stack (PostgreSQL, Redis, dispatchd %s)\n",
                o->stack_profile == STACK_PROFILE_UNTUNED ? "untuned" : "tuned");
    if (stack_up(&so, &t->st, err, errlen) < 0) {
        t->st = NULL;
        return -1;
    }
    const stack_info *i = stack_get_info(t->st);
    if (!i->service_url) {
        err_set(err, errlen, "the embedded stack has no service");
        return -1;
    }
    snprintf(t->url, sizeof t->url, "%s%s", i->service_url, WEBHOOK_PATH);
    t->sign = SIGN_STANDARD_WEBHOOKS;
    t->secret = secret_read(NULL, i->secret_file, &t->secret_len, err, errlen);
    if (!t->secret) return -1;
    stack_process ps[8];
    int n = stack_processes(t->st, ps, 8);
    for (int k = 0; k < n; k++)
        if (!strcmp(ps[k].name, "service")) t->pid = ps[k].pid;
    t->redis_port = i->redis_port;
    snprintf(t->redis_password, sizeof t->redis_password, "%s", i->redis_password);
    snprintf(t->label, sizeof t->label, "embedded stack: dispatchd (%s) at %s", i->profile,
             i->service_url);
    snprintf(t->service, sizeof t->service, "dispatchd");
    return 0;
}

int webhook_target_open(const webhook_opts *o, webhook_target *t, bool *usage, char *err,
                        size_t errlen) {
    memset(t, 0, sizeof *t);
    *usage = false;
    run_id(t->run_id);
    t->body_tmpl = o->body;
    if (o->nheaders > WEBHOOK_MAX_HEADERS) {
        err_set(err, errlen, "too many headers (at most %d)", WEBHOOK_MAX_HEADERS);
        *usage = true;
        return -1;
    }
    /* the user's headers; Content-Type: application/json unless they give one */
    bool have_ct = false;
    for (int i = 0; i < o->nheaders; i++) {
        size_t n = strcspn(o->headers[i], ":");
        snprintf(t->header_name_buf[i], sizeof t->header_name_buf[i], "%.*s", (int)n,
                 o->headers[i]);
        if (!strcasecmp(t->header_name_buf[i], "content-type")) have_ct = true;
    }
    if (!have_ct) {
        t->hdr[t->nhdr].text = "Content-Type: application/json";
        t->header_names[t->nhdr++] = "Content-Type";
    }
    for (int i = 0; i < o->nheaders; i++) {
        t->hdr[t->nhdr].text = o->headers[i]; /* rendered in webhook_target_config */
        t->header_names[t->nhdr++] = t->header_name_buf[i];
    }
    int rc = o->target ? open_url(o, t, usage, err, errlen) : open_stack(o, t, err, errlen);
    if (rc < 0) webhook_target_close(t);
    return rc;
}

void webhook_target_close(webhook_target *t) {
    free(t->user_body);
    t->user_body = NULL;
    for (int i = 0; i < WEBHOOK_MAX_HEADERS; i++) {
        free(t->user_hdr[i]);
        t->user_hdr[i] = NULL;
    }
    if (t->secret) {
        memset(t->secret, 0, t->secret_len);
        free(t->secret);
        t->secret = NULL;
    }
    memset(t->redis_password, 0, sizeof t->redis_password);
    if (t->st) stack_down(t->st);
    t->st = NULL;
}

int webhook_connections(const webhook_opts *o, double rate) {
    if (o->connections > 0) return o->connections;
    double c = ceil(rate * 0.05);
    if (c < 32) c = 32;
    if (c > 2000) c = 2000;
    if (c < o->seg.count) c = o->seg.count; /* at least one for each scale-out segment */
    return (int)c;
}

int webhook_threads(const webhook_opts *o) {
    if (o->threads > 0) return o->threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cores / 2;
    if (n < 1) n = 1;
    if (n > 4) n = 4;
    return (int)n;
}

int webhook_target_config(webhook_target *t, const webhook_opts *o, int tag, double rate,
                          int64_t duration_ns, engine_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(t->sign_id, sizeof t->sign_id, "msg_%s_%d_{{seq}}", t->run_id, tag);
    if (t->body_tmpl) {
        free(t->user_body);
        if (!(t->user_body = config_render(t->body_tmpl, t->sign_id, t->run_id))) return -1;
        c->body = t->user_body;
    } else {
        snprintf(t->body, sizeof t->body, o->events.spec ? EVENT_BODY : ORDER_BODY, t->run_id, tag);
        c->body = t->body;
    }
    /* the user's headers, after the default Content-Type when there is one */
    int first = t->nhdr - o->nheaders;
    for (int i = 0; i < o->nheaders; i++) {
        free(t->user_hdr[i]);
        if (!(t->user_hdr[i] = config_render(o->headers[i], t->sign_id, t->run_id))) return -1;
        t->hdr[first + i].text = t->user_hdr[i];
    }
    c->body_len = strlen(c->body);
    c->url = t->url;
    c->method = "POST";
    c->headers = t->hdr;
    c->nheaders = t->nhdr;
    c->sign = t->sign;
    c->secret = t->secret;
    c->secret_len = t->secret_len;
    c->sign_id = t->sign != SIGN_NONE ? t->sign_id : NULL;
    c->rate = rate;
    c->duration_ns = duration_ns;
    c->connections = webhook_connections(o, rate);
    c->threads = webhook_threads(o);
    c->timeout_ns = o->timeout_ns > 0 ? o->timeout_ns : 5 * NS_PER_S;
    c->stop = o->stop;
    c->seg = o->seg; /* a scale-out segment takes its share of the rate and connections */
    c->timeline_hdr = o->seg.count >= 1;
    return 0;
}

/* ---- the backlog of dispatchd's stream ------------------------------------------------------ */

static long long group_field(const redisReply *g, const char *name) {
    if (!g || g->type != REDIS_REPLY_ARRAY) return -1;
    for (size_t i = 0; i + 1 < g->elements; i += 2) {
        const redisReply *k = g->element[i], *v = g->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && !strcmp(k->str, name))
            return v->type == REDIS_REPLY_INTEGER ? v->integer : -1;
    }
    return -1;
}

long long webhook_target_backlog(const webhook_target *t) {
    if (!t->redis_port) return -1;
    struct timeval tv = {.tv_sec = 1};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", t->redis_port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return -1;
    }
    redisSetTimeout(c, tv);
    long long backlog = -1;
    redisReply *r = NULL;
    if (t->redis_password[0]) {
        r = redisCommand(c, "AUTH %s", t->redis_password);
        bool authed = r && r->type == REDIS_REPLY_STATUS;
        if (r) freeReplyObject(r);
        if (!authed) {
            redisFree(c);
            return -1;
        }
    }
    r = redisCommand(c, "XINFO GROUPS %s", STREAM);
    if (r && r->type == REDIS_REPLY_ERROR) {
        backlog = 0; /* no stream: nothing queued (dispatchd --ingest sync) */
    } else if (r && r->type == REDIS_REPLY_ARRAY) {
        backlog = 0;
        for (size_t i = 0; i < r->elements; i++) {
            const redisReply *g = r->element[i];
            if (g->type != REDIS_REPLY_ARRAY) continue;
            bool ours = false;
            for (size_t k = 0; k + 1 < g->elements; k += 2)
                if (g->element[k]->type == REDIS_REPLY_STRING &&
                    !strcmp(g->element[k]->str, "name") &&
                    g->element[k + 1]->type == REDIS_REPLY_STRING &&
                    !strcmp(g->element[k + 1]->str, GROUP))
                    ours = true;
            if (!ours) continue;
            long long pending = group_field(g, "pending"), lag = group_field(g, "lag");
            backlog = (pending > 0 ? pending : 0) + (lag > 0 ? lag : 0);
        }
    }
    if (r) freeReplyObject(r);
    redisFree(c);
    return backlog;
}

double webhook_target_drain(const webhook_target *t, long long limit, int64_t timeout_ns,
                            long long *last) {
    int64_t t0 = clock_now_ns();
    *last = webhook_target_backlog(t);
    while (*last > limit && clock_now_ns() - t0 < timeout_ns) {
        struct timespec ts = {.tv_nsec = 100 * NS_PER_MS};
        nanosleep(&ts, NULL);
        *last = webhook_target_backlog(t);
    }
    return (double)(clock_now_ns() - t0) / NS_PER_S;
}

/* ---- /proc --------------------------------------------------------------------------------- */

/* Resident set in MiB from /proc/PID/statm (second field, pages); 0 or -1. */
static int proc_rss(pid_t pid, double *mib) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    unsigned long long size, res;
    int k = fscanf(f, "%llu %llu", &size, &res);
    fclose(f);
    if (k != 2) return -1;
    long page = sysconf(_SC_PAGESIZE);
    *mib = (double)res * (double)(page > 0 ? page : 4096) / (1024.0 * 1024.0);
    return 0;
}

void webhook_meter_start(webhook_meter *m, pid_t pid) {
    memset(m, 0, sizeof *m);
    m->pid = pid;
    if (pid > 0 && probe_proc_ticks(pid, &m->ticks) == 0) {
        m->primed = true;
        m->at_ns = clock_now_ns();
    }
}

int webhook_meter_read(webhook_meter *m, double *cpu_pct, double *rss_mib) {
    *cpu_pct = *rss_mib = NAN;
    unsigned long long ticks;
    if (m->pid <= 0 || probe_proc_ticks(m->pid, &ticks) < 0) return -1;
    int64_t now = clock_now_ns();
    if (m->primed && now > m->at_ns && ticks >= m->ticks) {
        long hz = sysconf(_SC_CLK_TCK);
        double s = (double)(now - m->at_ns) / NS_PER_S;
        *cpu_pct = (double)(ticks - m->ticks) / (double)(hz > 0 ? hz : 100) / s * 100.0;
    }
    m->ticks = ticks;
    m->at_ns = now;
    m->primed = true;
    if (proc_rss(m->pid, rss_mib) < 0) return -1;
    return 0;
}

void webhook_doc_target(json_t *doc, const webhook_target *t, const webhook_opts *o) {
    json_object_set_new(doc, "target", json_string(t->url));
    json_t *cfg = json_object_get(doc, "config");
    if (!cfg) {
        cfg = json_object();
        json_object_set_new(doc, "config", cfg);
    }
    if (t->st) {
        const stack_info *i = stack_get_info(t->st);
        json_t *s = json_object();
        json_object_set_new(s, "profile", json_string(i->profile));
        json_object_set_new(s, "service", json_string(t->service));
        json_object_set_new(cfg, "stack", s);
    } else {
        json_object_set_new(cfg, "stack", json_null());
    }
    json_object_set_new(
        cfg, "sign", t->sign != SIGN_NONE ? json_string(sign_scheme_name(t->sign)) : json_null());
    json_object_set_new(cfg, "body", json_string(t->body_tmpl ? "custom" : "order.created"));
    json_object_set_new(cfg, "run_id", json_string(t->run_id));
    json_object_set_new(cfg, "service_pid", t->pid > 0 ? json_integer(t->pid) : json_null());
    json_object_set_new(cfg, "config_file",
                        o->config_file ? json_string(o->config_file) : json_null());
}
