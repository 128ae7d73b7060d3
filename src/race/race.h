/* race.h — the vendor race scenario: N orders, each claimed by V vendors at the same instant, and
 * a verdict per order from what the vendors were told and what the service stored. It finds the
 * check-then-act bugs of an accept endpoint (two winners, a winner nobody was told of, losers told
 * a wrong name) and measures how fast contention is resolved.
 *
 *   setup    the orders are created through the real path (signed webhooks sent by the load
 *            engine, or the requests of a race.yaml), then polled until each is visible;
 *   race     for each order in turn, V kept-alive connections carry their claim up to the last
 *            byte and the last bytes are released together (race_release.h);
 *   audit    the ground truth: GET of each order (the stored winner) and, with a PostgreSQL URL,
 *            a SQL query per order;
 *   verdict  race_verdict.h, per order; then metrics, thresholds and the result document.
 *
 * The protocol (dispatchd's by default) is a race_spec (config/race_spec.h); race_spec_load reads
 * one from a YAML file for users' own services. See docs/race.md. */
#ifndef BRINK_RACE_H
#define BRINK_RACE_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

#include "config/race_spec.h"
#include "core/hdr.h"
#include "probe/probe_metrics.h"
#include "race/race_release.h"
#include "verdict/race_verdict.h"
#include "stack/stack.h"
#include "verdict/threshold.h"

/* ---- the protocol (config/race_spec.h) -------------------------------------------------------
 */

/* dispatchd's protocol: signed webhooks at /webhooks/orders, GET /orders/{{id}}, POST
 * /orders/{{id}}/accept {"vendor_id"}, 2xx won, 409 lost naming "winner", stored "vendor_id",
 * and order_assignments for SQL. */
int race_spec_default(race_spec *s, char *err, size_t errlen);
/* Replaces {{id}}, {{vendor}}, {{run}} (others are left for the engine); malloc'd, NULL on OOM. */
char *race_subst(const char *tmpl, const char *id, const char *vendor, const char *run);

/* ---- a run ------------------------------------------------------------------------------------
 */

typedef struct race_opts {
    const char *profile; /* "light", "moderate", "heavy", "stress", "custom" */
    int orders, vendors;
    bool use_stack;
    stack_profile stack_profile;
    bool keep_stack;
    const char *target;      /* --target (no stack) */
    const char *secret_file; /* or secret_env; neither: unsigned creation requests */
    const char *secret_env;
    const char *pg_url;      /* --pg, for the SQL audit against a target */
    const char *pg_password; /* its password (brink.yaml's audit.password_env), or NULL */
    const char *metrics_url; /* --target: its Prometheus page (target.metrics), or NULL */
    const race_spec *spec;
    race_release_mode release;
    int64_t timeout_ns;       /* each claim */
    int64_t setup_timeout_ns; /* creating the orders and waiting until they are visible */
    int64_t settle_ns;
    bool insecure;
    FILE *progress; /* progress: a live line per second (progress_tty), or a line every 10 s
                     * (a CI log); NULL: none */
    bool progress_tty;
    volatile sig_atomic_t *stop;
} race_opts;

#define RACE_BODY_KEEP 240 /* bytes of each answer kept for the violations list */
#define RACE_VIOL_KEEP 100 /* violating orders listed in the result */

typedef struct race_seen {
    int status; /* 0: no answer */
    int err;    /* client_err */
    int64_t latency_us;
    char *named; /* the winner named by a lost answer (NULL: none) */
    bool names;
    char *body; /* the first RACE_BODY_KEEP bytes */
    size_t body_len;
    char *detail; /* the failure, when no answer */
} race_seen;

typedef struct race_violation {
    char *id;
    unsigned classes;
    int won, lost, failed;
    char *announced;
    bool http_known, sql_known, sql_multiple;
    char *http_winner, *sql_winner;
    double spread_ms, resolution_ms;
    int first;       /* the vendor whose last byte went out first */
    race_seen *seen; /* [vendors] */
} race_violation;

typedef struct race_second {
    int index;
    double length_s;
    const char *phase;
    int64_t orders, violations, accepts, errors;
    int64_t p50_us, p99_us, max_us;
} race_second;

typedef struct race_result {
    /* what was asked */
    const char *profile;
    int orders, vendors;
    char target[512];
    bool on_stack;
    const char *stack_profile; /* "tuned"/"untuned", or NULL without a stack */
    const char *release;
    double timeout_s, setup_timeout_s, settle_ms;
    const char *spec_file;
    char run_id[16];
    /* timing */
    int64_t start_wall_ns;
    double duration_s, stack_s, setup_s, race_s, audit_s;
    /* counts */
    int64_t created; /* orders visible after set-up */
    int64_t raced;   /* orders raced (fewer when interrupted or aborted) */
    int64_t valid;
    int64_t race_conditions;
    int64_t classes[RACE_NCLASS];
    int64_t accepts, failed_accepts, won_answers, lost_answers;
    int64_t status[600];
    int64_t err_by_class[8];   /* client_err */
    int64_t first_sender_wins; /* orders won by the vendor released first (fairness) */
    int64_t integrity_checked, integrity_ok;
    int64_t http_audited, sql_audited, audit_failures;
    char audit_error[256];
    bool sql_audit, http_audit;
    /* distributions */
    hdr_hist *latency;    /* each claim: its last byte → its answer, µs */
    hdr_hist *resolution; /* each order: first last byte → last answer, µs */
    hdr_hist *spread;     /* each order: first → last final-byte write, ns */
    double resolution_sum_ms;
    int64_t prefix_wait_max_ns;
    /* violations */
    race_violation *viol;
    int nviol;
    int64_t viol_total;
    race_second *timeline;
    int nseconds;
    bool interrupted;
    char note[256]; /* why the race stopped early, if it did */
    /* the service's /metrics before and after the races (race_thresholds' evidence) */
    probe_metrics metrics;
} race_result;

/* Runs the scenario. Returns an exit status (EXIT_OK with the result filled; EXIT_USAGE,
 * EXIT_UNREACHABLE or EXIT_FAILURE_ with a one-line reason in err). EXIT_INTERRUPTED still fills
 * the result. The caller judges the result (race_thresholds) and frees it. */
int race_run(const race_opts *o, race_result *res, char *err, size_t errlen);
void race_result_free(race_result *res);

/* ---- report -----------------------------------------------------------------------------------
 */

#define RACE_NTHRESHOLDS 6
/* Judges the result against the race thresholds; returns how many results were written. */
int race_thresholds(const race_result *r, th_result *out);
json_t *race_json(const race_result *r, const th_result *th, int nth);
/* The numbers race_json puts in .stats: the metrics a --threshold may name. */
const char *const *race_stat_names(int *n);
void race_print(FILE *out, const race_result *r, const th_result *th, int nth);

#endif
