/* config.h — brink.yaml: one file that points every brink test at a user's own stack
 * (docs/config.md has the reference and docs/brink.example.yaml a complete example):
 *
 *   target        the service: base url; webhook path, signing scheme, secret ({file} or {env},
 *                 never a value), extra headers, body template; service_pid(_file) for /proc;
 *                 metrics, its Prometheus page (evidence for the advice: probe/probe_metrics.h)
 *   race          race.yaml's create / visible / claim / truth (config/race_yaml.c parses it)
 *   probes        named probes {kind: redis|sql|http, ...} sampled as the backlog
 *   audit         PostgreSQL url (no password in it) and SQL templates: the stored count per
 *                 acknowledged webhook id ($1 text[]), optional queued ids, integrity checks;
 *                 events: the exactly-once audit's handled / orders / pending on your schema
 *   dependencies  redis and postgresql: process hooks (config/deps_yaml.c; stack/deps.c runs
 *                 them) and a Toxiproxy API
 *   thresholds    {metric: {orange: X, red: Y}} over the threshold table (verdict/threshold.h)
 *   delivery      a sender that retries and duplicates (load/delivery.h): sender or
 *                 retry_schedule, retry_scale, duplicate_rate, duplicate_window, drain
 * and target.webhook.events / event_interval / reorder_rate: an event lifecycle per order
 * (load/lifecycle.h).
 *
 * Every key is known and typed (the tables of core/yml.h); each mistake is one line
 * "FILE:LINE: KEY: reason".
 * With -f, webhook, capacity, race, redis-failure and db-restart test the user's stack instead of
 * starting the embedded one; options given on the command line still win. */
#ifndef BRINK_CONFIG_H
#define BRINK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "http/sign.h"
#include "load/delivery.h"
#include "load/lifecycle.h"
#include "probe/probe.h"
#include "config/race_spec.h"
#include "stack/deps.h"

#define CONFIG_MAX_PROBES   8
#define CONFIG_MAX_CHECKS   8
#define CONFIG_MAX_HEADERS  16
#define CONFIG_DEFAULT_PATH "/webhooks/orders"
#define CONFIG_AUDIT_BATCH  10000 /* acknowledged ids per execution of audit.stored */
#define CONFIG_WEBHOOK_ID   "{{webhook_id}}"

typedef struct config_probe {
    probe_spec spec;   /* url empty when url_env names it */
    char url_env[128]; /* an environment variable holding the URL (read when the probe opens) */
    bool backlog;      /* counted in the backlog (default), or only recorded beside it */
    int line;
} config_probe;

typedef struct config_check {
    char *name;  /* snake_case, the key under audit.integrity */
    char *query; /* one row, one column: the number of violations; $1 = the run's id prefix */
    int line;
} config_check;

typedef struct config_threshold {
    char *name;         /* "metric" or "test.metric" */
    double orange, red; /* NAN: keep the default */
    int line;
} config_threshold;

typedef struct config {
    char *file;
    /* target */
    char *url;                         /* base URL without a trailing slash */
    char *webhook_path;                /* CONFIG_DEFAULT_PATH unless given */
    sign_scheme sign;                  /* SIGN_NONE with sign: none */
    char *secret_file, *secret_env;    /* exactly one unless sign is none */
    char *headers[CONFIG_MAX_HEADERS]; /* "Name: value" templates */
    int nheaders;
    char *body;             /* template, or NULL for dispatchd's order.created */
    char *metrics_url;      /* the service's Prometheus page (target.metrics), or NULL */
    char *events;           /* target.webhook.events: a lifecycle spec (checked), or NULL */
    int64_t event_interval; /* 0: the default */
    double reorder_rate;
    pid_t service_pid;
    char *service_pid_file;
    /* race */
    bool have_race;
    race_spec race;
    /* probes */
    config_probe probes[CONFIG_MAX_PROBES];
    int nprobes;
    /* audit */
    bool have_audit;
    char *audit_url;          /* postgresql://, no password */
    char *audit_password_env; /* NULL: libpq's PGPASSWORD / PGPASSFILE */
    char *audit_password;     /* from stack: (the embedded PostgreSQL's), when no password_env */
    char *audit_stored;       /* rows (id[, count]) for the ids in $1 (text[]), $2 = id prefix */
    char *audit_queued;       /* ids still queued (not lost, not yet stored), or NULL */
    /* audit.events: the exactly-once audit of --events on your schema ($1: the run's order ids
     * as a LIKE pattern); NULL: dispatchd's tables */
    char *audit_ev_handled; /* (webhook_id, handlings[, stale overwrites]) per handled event */
    char *audit_ev_orders;  /* (order_id, version) per stored order */
    char *audit_ev_pending; /* one number: events taken but not yet handled (the drain waits) */
    config_check checks[CONFIG_MAX_CHECKS];
    int nchecks;
    /* dependencies */
    deps *deps; /* NULL without the section */
    /* stack: the state file of `brink stack up --service none` (absolute), or NULL; its
     * PostgreSQL and Redis fill in audit.url and the dependencies the file does not give */
    char *stack_file;
    /* thresholds */
    config_threshold *thresholds;
    int nthresholds;
    /* delivery (the sender options' values; unset ones 0 / NULL / false) */
    bool have_delivery;
    char *delivery_sender, *delivery_schedule;
    double delivery_scale, duplicate_rate; /* scale 0: not given */
    int64_t duplicate_window, delivery_drain;
    bool honor_retry_after;
    bool duplicate_rate_set, drain_set;
} config;

/* Reads and checks a brink.yaml. 0 with *out (config_free it), or -1 with one line. */
int config_load(const char *path, config **out, char *err, size_t errlen);
void config_free(config *c); /* NULL is allowed */

/* Whether path is a legacy race.yaml (create/claim/truth at the top level) rather than a
 * brink.yaml, for `brink race -f`. 0, or -1 when it cannot be read or parsed (one line). */
int config_is_race_yaml(const char *path, bool *race_yaml, char *err, size_t errlen);

/* Replaces the threshold overrides in force with c's (c NULL: back to the defaults). */
int config_apply_thresholds(const config *c, char *err, size_t errlen);

/* The webhook URL: url + webhook path. */
void config_webhook_url(const config *c, char *out, size_t outlen);
/* The file's delivery: section (and, with e, target.webhook.events) fill the sender and lifecycle
 * options the command line left unset; the command line wins option by option. */
void config_sender_args(const config *c, delivery_args *d, lifecycle_args *e);
/* The signing secret from its file or variable (malloc'd; NULL with a reason that never holds
 * the secret); NULL without a reason (*len 0) when sign is none. */
char *config_read_secret(const config *c, size_t *len, char *err, size_t errlen);
/* target.service_pid, or the number in service_pid_file; 0 when neither (or unreadable). */
pid_t config_service_pid(const config *c);
/* dependencies.redis; dependencies.postgresql (or .postgres); NULL when not given. */
const deps_dep *config_dep(const config *c, const char *which); /* "redis" or "postgresql" */
/* A probe's spec with its URL read from url_env when it has one. 0, or -1 with a reason. */
int config_probe_spec(const config_probe *p, probe_spec *out, char *err, size_t errlen);
/* tmpl with {{webhook_id}} replaced by id (a template itself, e.g. "msg_r1_w{{seq}}") and {{run}}
 * by run; the engine's placeholders are left. malloc'd, NULL when out of memory. */
char *config_render(const char *tmpl, const char *id, const char *run);
/* The audit's password from audit.password_env, or NULL (libpq then uses PGPASSWORD/PGPASSFILE). */
const char *config_audit_password(const config *c);

#endif
