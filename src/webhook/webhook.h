/* webhook.h — the webhook load test (`brink webhook light|moderate|heavy`) and the breaking-point
 * search (`brink webhook stress`, `brink capacity`): signed order webhooks at a constant rate in
 * the open model against the embedded stack (dispatchd by default) or a running service, judged
 * by the threshold table. A config loader fills a webhook_opts and calls webhook_run; the
 * command-line front ends do the same from argv. See docs/webhook.md. */
#ifndef BRINK_WEBHOOK_H
#define BRINK_WEBHOOK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/sign.h"
#include "load/delivery.h"
#include "load/lifecycle.h"
#include "load/segment.h"
#include "verdict/capacity.h"
#include "verdict/custom_th.h"
#include "stack/stack.h"

/* A profile: a constant rate for a duration, or (rate 0) the breaking-point search. */
typedef struct webhook_profile {
    const char *name; /* "light", "moderate", "heavy", "stress" */
    double rate;      /* webhooks per second; 0 for stress */
    int64_t duration_ns;
    const char *what;
} webhook_profile;

/* The profiles in order (n receives their number), and one by name (NULL when unknown). */
const webhook_profile *webhook_profiles(int *n);
const webhook_profile *webhook_profile_find(const char *name);

typedef struct webhook_opts {
    const char *test;    /* the document's "test": "webhook" (default) or "capacity" */
    const char *profile; /* a profile name; NULL with test "capacity" (the search) */
    double rate;         /* fixed-rate profiles: 0 = the profile's */
    int64_t duration_ns; /* fixed-rate profiles: 0 = the profile's */
    int connections;     /* 0: rate × 50 ms, at least 32, at most 2000 (per step in a search) */
    int threads;         /* 0: half the cores, 1..4 */
    int64_t timeout_ns;  /* per request; 0: 5 s */
    /* the embedded stack (when target is NULL) */
    stack_profile stack_profile;
    bool keep;
    /* a running service instead: its webhook URL (a bare http://host:port gets the path
     * /webhooks/orders), the signing scheme and its secret (a file or an environment variable:
     * never a value) */
    const char *target;
    sign_scheme sign; /* with target; default standard-webhooks; SIGN_NONE: unsigned */
    const char *secret_file, *secret_env;
    pid_t service_pid; /* with target: a local process whose CPU and memory to sample (0: none) */
    /* body and extra header templates ("Name: value"); besides the engine's placeholders they may
     * hold {{webhook_id}} (the request's unique id, also its webhook-id with standard-webhooks)
     * and {{run}}. NULL body: dispatchd's order.created with unique order ids */
    const char *body;
    const char *const *headers;
    int nheaders;
    const char *config_file; /* -f FILE (brink.yaml) the target came from, for the document */
    const char *metrics_url; /* with target: its Prometheus page (target.metrics), or NULL */
    /* the search (profile stress, test capacity) */
    capacity_params cap;
    int64_t warmup_ns; /* before the first step, at the start rate, not judged (default 1 s) */
    /* scale-out (load/segment.h, docs/distributed.md): run segment seg of the test ({0, 0}:
     * the whole test), starting at the wall-clock time start_at_ns (0: now); a segment needs a
     * shared target (o->target), and a search then runs a fixed plan (webhook_stress.c) */
    segment seg;
    int64_t start_at_ns;
    /* the sender (fixed-rate profiles): retries and duplicates as the options gave them
     * (load/delivery.h); checked against the profile's duration before anything starts */
    delivery_args delivery;
    /* an event lifecycle per order (load/lifecycle.h): --events, --event-interval,
     * --reorder-rate; fixed-rate profiles only */
    lifecycle_args events;
    /* --threshold: conditions on the run's .stats (fixed-rate profiles) */
    custom_th_list thresholds;
    /* with --events on a running service: its database for the exactly-once audit (brink.yaml
     * audit.url and the password from audit.password_env; NULL: not audited), and audit.events'
     * queries on the user's schema (NULL: dispatchd's tables) */
    const char *audit_url, *audit_password;
    const char *audit_handled, *audit_orders, *audit_pending;
    /* output */
    const char *json_path;       /* NULL: none; "-": stdout */
    bool quiet;                  /* no live progress */
    volatile sig_atomic_t *stop; /* set to stop (SIGINT): partial result, exit 130 */
} webhook_opts;

/* Defaults: test "webhook", profile "light", tuned stack, the capacity defaults with the p99 and
 * error-rate limits taken from the threshold table's webhook red bounds. */
void webhook_opts_init(webhook_opts *o);

/* Runs what o asks for, prints the terminal report (stdout; stderr when the JSON goes to
 * stdout), writes the JSON document. Returns the exit status: 0 nothing red, 99 a threshold is
 * red, 3 the stack or the target failed (reason in err), 130 interrupted, 2 bad options. */
int webhook_run(const webhook_opts *o, char *err, size_t errlen);

/* `brink webhook PROFILE [options]` and `brink capacity [options]` (argv[0] is the command). */
int webhook_main(int argc, char **argv, char *err, size_t errlen);
int webhook_capacity_main(int argc, char **argv, char *err, size_t errlen);

/* Refuses a --threshold on a number a fixed-rate run does not write (one line naming them). */
int webhook_threshold_check(const custom_th_list *l, char *err, size_t errlen);
/* The numbers of a search's document (capacity, webhook stress): its --threshold metrics. */
const char *const *webhook_search_stat_names(int *n);

#endif
