/* webhook_int.h — what the webhook test's files share (not a public interface): the target (the
 * embedded stack or a running service) with its request texts, the /proc meter of the service,
 * the backlog drain between steps, and the two runs (fixed rate, breaking-point search). */
#ifndef BRINK_WEBHOOK_INT_H
#define BRINK_WEBHOOK_INT_H

#include <jansson.h>

#include "load/engine.h"
#include "webhook/webhook.h"

#define WEBHOOK_PATH        "/webhooks/orders"
#define WEBHOOK_MAX_HEADERS 16

typedef struct webhook_target {
    stack *st;        /* the embedded stack, or NULL with a target URL */
    char url[1024];   /* the webhook URL */
    char label[160];  /* for people: "embedded stack: dispatchd (tuned)" or the URL */
    char service[32]; /* "dispatchd" or "target" */
    char *secret;     /* the signing secret (never printed), or NULL when unsigned */
    size_t secret_len;
    sign_scheme sign;
    pid_t pid;               /* the service's process for the meter, 0: none */
    int redis_port;          /* the stack's Redis (direct), 0: no backlog to watch */
    char redis_password[65]; /* its password (AUTH); never printed */
    char run_id[16];         /* random, in every order id and webhook-id of this run */
    const char *body_tmpl;   /* the user's body template, or NULL */
    char body[1024];         /* the rendered-per-step body template (dispatchd's order.created) */
    char *user_body;         /* the user's template with {{webhook_id}} and {{run}} filled in */
    char sign_id[96];        /* webhook-id template */
    engine_header hdr[1 + WEBHOOK_MAX_HEADERS];
    char *user_hdr[WEBHOOK_MAX_HEADERS]; /* the user's headers, rendered like user_body */
    int nhdr;
    const char *header_names[1 + WEBHOOK_MAX_HEADERS];
    char header_name_buf[WEBHOOK_MAX_HEADERS][64];
} webhook_target;

/* Starts the stack (o->target NULL) or checks the target URL and reads its secret. 0, or -1
 * with a one-line reason (*usage set when the reason is the user's input, not a failure). */
int webhook_target_open(const webhook_opts *o, webhook_target *t, bool *usage, char *err,
                        size_t errlen);
void webhook_target_close(webhook_target *t);
/* Fills c with one run's request: POST of the body with a unique order id and webhook-id per
 * request (tag tells runs of one target apart), signed; open model at rate. 0, or -1 when out of
 * memory (rendering the user's templates). */
int webhook_target_config(webhook_target *t, const webhook_opts *o, int tag, double rate,
                          int64_t duration_ns, engine_config *c);
/* Default connections and threads (see webhook_opts). */
int webhook_connections(const webhook_opts *o, double rate);
int webhook_threads(const webhook_opts *o);

/* The service's queue (dispatchd's stream: pending + undelivered), -1 when unknown. */
long long webhook_target_backlog(const webhook_target *t);
/* Waits (at most timeout_ns, polling every 100 ms) until the backlog is at most limit; returns
 * the seconds waited and the last backlog seen in *last (-1 unknown). */
double webhook_target_drain(const webhook_target *t, long long limit, int64_t timeout_ns,
                            long long *last);

/* CPU and memory of one process from /proc/PID/stat and /proc/PID/statm. */
typedef struct webhook_meter {
    pid_t pid;
    bool primed;
    unsigned long long ticks;
    int64_t at_ns;
} webhook_meter;
void webhook_meter_start(webhook_meter *m, pid_t pid);
/* CPU % of one core since the previous read (or start) and RSS now; 0, or -1 when the process
 * is gone or pid is 0 (both NAN then). */
int webhook_meter_read(webhook_meter *m, double *cpu_pct, double *rss_mib);

/* The result document's keys that every webhook document shares (config.stack / target). */
void webhook_doc_target(json_t *doc, const webhook_target *t, const webhook_opts *o);

int webhook_run_fixed(const webhook_opts *o, const webhook_profile *p, char *err, size_t errlen);
int webhook_run_stress(const webhook_opts *o, char *err, size_t errlen);

#endif
