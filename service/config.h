/* config.h — dispatchd's configuration: flags, the matching DISPATCHD_* environment variables,
 * and the two profiles. Defaults are the tuned architecture; --profile untuned (or --untuned)
 * switches every knob to its untuned value, and explicit flags or variables override either.
 * Precedence: built-in default < profile < environment < flag. */
#ifndef DISPATCHD_CONFIG_H
#define DISPATCHD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DCFG_BODY_MAX (64 * 1024) /* request body limit (413 above) */
#define DCFG_KEY_MAX  256         /* webhook key bytes */

typedef enum dcfg_ingest { DCFG_INGEST_QUEUE, DCFG_INGEST_SYNC } dcfg_ingest;
typedef enum dcfg_accept { DCFG_ACCEPT_ATOMIC, DCFG_ACCEPT_NAIVE } dcfg_accept;
typedef enum dcfg_reconnect { DCFG_RECONNECT_PROBE, DCFG_RECONNECT_LAZY } dcfg_reconnect;
typedef enum dcfg_ordering { DCFG_ORDERING_VERSION, DCFG_ORDERING_IGNORE } dcfg_ordering;

typedef struct dcfg {
    /* HTTP */
    char listen[256];      /* HOST:PORT as given */
    char listen_host[256]; /* parsed */
    int listen_port;
    char port_file[1024]; /* write the bound port here once listening ("" = no) */
    int threads;          /* event-loop threads (one libmicrohttpd daemon and Redis pipe each) */
    int executors;        /* threads for requests that wait for PostgreSQL */
    int queue_timeout_ms; /* longest wait for an executor before 503 */
    int max_connections;
    int max_conns_per_client; /* per client address; 0: 3/4 of max_connections */
    int idle_timeout_s;       /* a connection idle this long is closed */
    int request_timeout_ms;   /* a request (head to complete body) must take less: 408 */
    int max_header_bytes;     /* per-connection memory for the request head (431/413 above) */
    /* webhook */
    uint8_t key[DCFG_KEY_MAX]; /* HMAC key (whsec_ secret decoded); never logged */
    size_t key_len;
    int tolerance_s; /* webhook-timestamp tolerance */
    dcfg_ingest ingest;
    int dedup_ttl_s;        /* how long Redis remembers a webhook-id */
    bool dedupe;            /* an order event's webhook-id is handled once (off: every delivery) */
    dcfg_ordering ordering; /* version: older events do not overwrite; ignore: last write wins */
    /* Redis */
    char redis_url[1024];
    char redis_password[256]; /* --redis-password-file's ("": the URL's, if any); never logged */
    char stream[128];
    char group[128];
    int redis_timeout_ms; /* 0: no timeout (untuned) */
    bool redis_fallback;  /* circuit open → PostgreSQL inbox; off → 503 */
    int last_resort_ms;   /* circuit open + inbox down: wait this long for Redis */
    int breaker_failures;
    int breaker_open_ms;
    /* workers */
    int workers;
    int batch;
    int batch_wait_ms; /* group commit: pause after a batch that was not full */
    int claim_idle_ms; /* XAUTOCLAIM entries idle this long (dead consumers) */
    /* PostgreSQL */
    char pg_url[1024];
    int pg_pool;
    dcfg_reconnect pg_reconnect;
    int pg_timeout_ms;         /* statement_timeout and the client-side deadline of a request */
    int pg_acquire_ms;         /* bounded wait for a pooled connection */
    int pg_connect_timeout_ms; /* one connection attempt */
    bool pg_prepare; /* named prepared statements and session settings; off: unnamed statements
                        and no session state (for transaction-mode poolers such as PgBouncer) */
    /* accept */
    dcfg_accept accept_mode;
    int naive_think_ms;
    /* misc */
    int log_level; /* dlog_level */
    const char *profile;
} dcfg;

enum dcfg_action { DCFG_RUN, DCFG_HELP, DCFG_SELFTEST, DCFG_PRINT_SCHEMA };

/* Parses the environment and argv into *c. Returns the action, or -1 with a one-line message in
 * err (which never contains a secret). The secret is read here (file or DISPATCHD_SECRET), and
 * the Redis password from --redis-password-file, unless the action needs none. */
int dcfg_parse(dcfg *c, int argc, char **argv, char *err, size_t errlen);
/* Writes the --help text (options with their environment variables and defaults). */
void dcfg_usage(FILE *out);
/* One line describing the effective configuration (no secret). */
void dcfg_describe(const dcfg *c, char *out, size_t outlen);

#endif
