/* config.c — dispatchd's flags and DISPATCHD_* environment variables (see config.h).
 *
 * One table describes every option: its flag, its kind (integer with bounds, string, choice),
 * where it lands in struct dcfg, its help line, and its value under the untuned profile. The
 * same table drives getopt_long, the environment lookup (DISPATCHD_ + the flag in upper case,
 * dashes as underscores), the profile and --help, so the four cannot drift apart.
 *
 * The webhook secret is the exception by design: it is never a flag value (argv is visible to
 * every user of the machine). --secret-file / DISPATCHD_SECRET_FILE name a file holding it;
 * DISPATCHD_SECRET may hold it directly. A "whsec_" secret is base64-decoded to the HMAC key, as
 * the Standard Webhooks specification says; any other secret is used as raw bytes (as brink's
 * signer does). The Redis password is kept off argv the same way: --redis-password-file /
 * DISPATCHD_REDIS_PASSWORD_FILE name a file holding it (its first line), as PGPASSFILE does for
 * PostgreSQL's. Error messages name the source, never the value. */
#include "config.h"
#include "log.h"

#include "core/b64.h"
#include "core/err.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define SECRET_MAX 4096

typedef enum okind { K_INT, K_STR, K_CHOICE, K_ONOFF } okind;

typedef struct opt {
    const char *name; /* flag without "--" */
    okind kind;
    size_t off;  /* field in dcfg */
    size_t size; /* K_STR: field size */
    long min, max;
    const char *const *choices; /* K_CHOICE: value = index */
    const char *meta;
    const char *help;
    const char *untuned; /* value under --profile untuned, NULL = same as tuned */
} opt;

static const char *const ingest_choices[] = {"queue", "sync", NULL};
static const char *const accept_choices[] = {"atomic", "naive", NULL};
static const char *const reconnect_choices[] = {"probe", "lazy", NULL};
static const char *const ordering_choices[] = {"version", "ignore", NULL};
static const char *const level_choices[] = {"debug", "info", "warn", "error", NULL};

#define F(field)      offsetof(dcfg, field)
#define S(field)      F(field), sizeof(((dcfg *)0)->field)
#define STR(field)    K_STR, S(field), 0, 0, NULL
#define INTF(f, l, h) K_INT, F(f), 0, l, h, NULL
#define CHF(f, list)  K_CHOICE, F(f), 0, 0, 0, list
#define ONF(f)        K_ONOFF, F(f), 0, 0, 0, NULL

static const opt opts[] = {
    {"listen", STR(listen), "HOST:PORT", "address to serve HTTP on (port 0: any free port)", NULL},
    {"port-file", STR(port_file), "PATH", "write the bound port to PATH once listening", NULL},
    {"threads", INTF(threads, 1, 256), "N",
     "HTTP event-loop threads, each with its own Redis pipeline (default: the number of CPUs)",
     NULL},
    {"executors", INTF(executors, 1, 256), "N",
     "threads for requests that wait for PostgreSQL (accept, orders, inbox fallback)", NULL},
    {"queue-timeout", INTF(queue_timeout_ms, 0, 600000), "MS",
     "a request that waits longer than MS for an executor is answered 503 (0: no limit)", NULL},
    {"max-connections", INTF(max_connections, 1, 100000), "N", "concurrent HTTP connections", NULL},
    {"max-connections-per-client", INTF(max_conns_per_client, 0, 100000), "N",
     "connections one client address may hold (0: three quarters of --max-connections, so that "
     "one address cannot take every slot)",
     NULL},
    {"idle-timeout", INTF(idle_timeout_s, 1, 3600), "S", "close connections idle for S seconds",
     NULL},
    {"request-timeout", INTF(request_timeout_ms, 10, 600000), "MS",
     "a request head must arrive within MS of its first byte, and its body within MS of the "
     "head: else 408 and the connection is closed",
     NULL},
    {"max-header-bytes", INTF(max_header_bytes, 4096, 1048576), "N",
     "memory for a request's head (larger: rejected)", NULL},
    {"tolerance", INTF(tolerance_s, 1, 86400), "S", "accepted webhook-timestamp skew, seconds",
     NULL},
    {"ingest", CHF(ingest, ingest_choices), "MODE",
     "queue: Redis stream + workers; sync: INSERT inside the request", "sync"},
    {"dedup-ttl", INTF(dedup_ttl_s, 1, 30 * 86400), "S",
     "how long Redis remembers a webhook-id (idempotency)", NULL},
    {"dedupe", ONF(dedupe), "on|off",
     "handle each order event's webhook-id once: a retry or duplicate of an event already handled "
     "is recorded and not handled again (off: every delivery is handled)",
     "off"},
    {"ordering", CHF(ordering, ordering_choices), "MODE",
     "version: an order event not newer than the stored version does not change the order; "
     "ignore: the last event handled wins",
     "ignore"},
    {"redis", STR(redis_url), "URL", "Redis, redis://[:PASSWORD@]HOST:PORT[/DB]", NULL},
    {"stream", STR(stream), "KEY", "Redis stream of received webhooks", NULL},
    {"group", STR(group), "NAME", "consumer group of the workers", NULL},
    {"redis-timeout", INTF(redis_timeout_ms, 0, 600000), "MS",
     "timeout of every Redis call on the request path (0: none)", "0"},
    {"redis-fallback", ONF(redis_fallback), "on|off",
     "circuit open: write webhooks to the PostgreSQL inbox (off: 503)", "off"},
    {"last-resort-timeout", INTF(last_resort_ms, 0, 600000), "MS",
     "circuit open and the PostgreSQL inbox down too: wait up to MS for Redis before answering "
     "503 (0: 503 at once)",
     NULL},
    {"breaker-failures", INTF(breaker_failures, 1, 1000000), "N",
     "consecutive Redis failures that open the circuit", NULL},
    {"breaker-open", INTF(breaker_open_ms, 10, 600000), "MS",
     "time the circuit stays open before a probe", NULL},
    {"workers", INTF(workers, 0, 64), "N", "worker threads moving webhooks into orders", NULL},
    {"batch", INTF(batch, 1, 10000), "N", "entries per XREADGROUP / multi-row INSERT", NULL},
    {"batch-wait", INTF(batch_wait_ms, 0, 1000), "MS",
     "after a batch that was not full, wait MS for more before the next read (group commit: "
     "fewer, larger transactions; 0: read again at once)",
     NULL},
    {"claim-idle", INTF(claim_idle_ms, 100, 86400000), "MS",
     "reclaim (XAUTOCLAIM) entries pending this long", NULL},
    {"pg", STR(pg_url), "URL", "PostgreSQL, a libpq connection URL", NULL},
    {"pg-pool", INTF(pg_pool, 1, 256), "N", "PostgreSQL connections (handlers and workers)", "1"},
    {"pg-reconnect", CHF(pg_reconnect, reconnect_choices), "MODE",
     "probe: background reconnect with backoff and health probe; lazy: when a request needs it",
     "lazy"},
    {"pg-timeout", INTF(pg_timeout_ms, 10, 600000), "MS",
     "statement_timeout, and a request's own deadline for a query", NULL},
    {"pg-acquire-timeout", INTF(pg_acquire_ms, 0, 600000), "MS",
     "longest wait for a pooled connection", NULL},
    {"pg-connect-timeout", INTF(pg_connect_timeout_ms, 10, 600000), "MS", "one connection attempt",
     NULL},
    {"pg-prepare", ONF(pg_prepare), "on|off",
     "on: named prepared statements and a per-session statement_timeout; off: every statement "
     "sent unnamed (parsed and planned each time) and no session state, as a transaction-mode "
     "pooler (PgBouncer before 1.21) needs",
     NULL},
    {"accept-mode", CHF(accept_mode, accept_choices), "MODE",
     "atomic: one conditional UPDATE; naive: read, think, then update", "naive"},
    {"naive-think", INTF(naive_think_ms, 0, 10000), "MS",
     "naive mode: think time between the read and the write", NULL},
    {"log-level", CHF(log_level, level_choices), "LEVEL", "debug, info, warn or error", NULL},
};
#define NOPTS (sizeof opts / sizeof opts[0])

/* Options outside the table (ids after the table's indices). */
enum {
    O_SECRET_FILE = 1000,
    O_REDIS_PASSWORD_FILE,
    O_PROFILE,
    O_UNTUNED,
    O_HELP,
    O_SELFTEST,
    O_PRINT_SCHEMA,
};

static void defaults(dcfg *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "127.0.0.1:8080");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c->threads = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
    c->executors = 8;
    c->queue_timeout_ms = 1000;
    c->max_connections = 4096;
    c->idle_timeout_s = 30;
    c->request_timeout_ms = 10000;
    c->max_header_bytes = 8192;
    c->tolerance_s = 300;
    c->ingest = DCFG_INGEST_QUEUE;
    c->dedup_ttl_s = 86400;
    c->dedupe = true;
    c->ordering = DCFG_ORDERING_VERSION;
    snprintf(c->redis_url, sizeof c->redis_url, "redis://127.0.0.1:6379");
    snprintf(c->stream, sizeof c->stream, "dispatchd:webhooks");
    snprintf(c->group, sizeof c->group, "dispatchd");
    c->redis_timeout_ms = 50;
    c->redis_fallback = true;
    c->last_resort_ms = 1000;
    c->breaker_failures = 5;
    c->breaker_open_ms = 1000;
    c->workers = 2;
    c->batch = 500;
    c->batch_wait_ms = 5;
    c->claim_idle_ms = 5000;
    snprintf(c->pg_url, sizeof c->pg_url, "postgresql://postgres@127.0.0.1:5432/postgres");
    c->pg_pool = 8;
    c->pg_reconnect = DCFG_RECONNECT_PROBE;
    c->pg_timeout_ms = 2000;
    c->pg_acquire_ms = 250; /* a burst the pool serves within the p99 objective is not shed */
    c->pg_connect_timeout_ms = 1000;
    c->pg_prepare = true;
    c->accept_mode = DCFG_ACCEPT_ATOMIC;
    c->naive_think_ms = 2;
    c->log_level = DLOG_INFO;
    c->profile = "tuned";
}

static void env_name(const char *flag, char *out, size_t outlen) {
    size_t n = (size_t)snprintf(out, outlen, "DISPATCHD_");
    for (const char *p = flag; *p && n + 1 < outlen; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

/* Sets one option from text; src names where the text came from (for messages). */
static int set_opt(dcfg *c, const opt *o, const char *val, const char *src, char *err,
                   size_t errlen) {
    char *field = (char *)c + o->off;
    switch (o->kind) {
    case K_INT: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end || v < o->min || v > o->max) {
            err_set(err, errlen, "%s: '%s' is not an integer in %ld..%ld", src, val, o->min,
                    o->max);
            return -1;
        }
        *(int *)field = (int)v;
        return 0;
    }
    case K_STR:
        if (strlen(val) >= o->size) {
            err_set(err, errlen, "%s: value too long (at most %zu bytes)", src, o->size - 1);
            return -1;
        }
        memcpy(field, val, strlen(val) + 1);
        return 0;
    case K_CHOICE:
        for (int i = 0; o->choices[i]; i++) {
            if (strcmp(val, o->choices[i]) == 0) {
                *(int *)field = i;
                return 0;
            }
        }
        err_set(err, errlen, "%s: '%s' is not one of the choices (see --help)", src, val);
        return -1;
    case K_ONOFF:
        if (strcmp(val, "on") == 0 || strcmp(val, "1") == 0 || strcmp(val, "true") == 0) {
            *(bool *)field = true;
        } else if (strcmp(val, "off") == 0 || strcmp(val, "0") == 0 || strcmp(val, "false") == 0) {
            *(bool *)field = false;
        } else {
            err_set(err, errlen, "%s: '%s' is neither on nor off", src, val);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int set_profile(dcfg *c, const char *name, const char *src, char *err, size_t errlen) {
    if (strcmp(name, "tuned") == 0) {
        c->profile = "tuned";
        return 0;
    }
    if (strcmp(name, "untuned") != 0) {
        err_set(err, errlen, "%s: unknown profile '%s' (tuned or untuned)", src, name);
        return -1;
    }
    c->profile = "untuned";
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].untuned && set_opt(c, &opts[i], opts[i].untuned, "profile", err, errlen))
            return -1;
    return 0;
}

/* HOST:PORT, [V6]:PORT → listen_host, listen_port. */
static int parse_listen(dcfg *c, char *err, size_t errlen) {
    const char *s = c->listen, *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':') goto bad;
        hl = (size_t)(rb - s - 1);
        memcpy(c->listen_host, s + 1, hl);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) goto bad;
        hl = (size_t)(colon - s);
        memcpy(c->listen_host, s, hl);
    }
    c->listen_host[hl] = '\0';
    if (hl == 0) snprintf(c->listen_host, sizeof c->listen_host, "0.0.0.0");
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 0 || p > 65535) goto bad;
    c->listen_port = (int)p;
    return 0;
bad:
    err_set(err, errlen, "--listen: '%s' is not HOST:PORT", c->listen);
    return -1;
}

static bool is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* Secret text → HMAC key. */
static int secret_to_key(dcfg *c, char *s, size_t n, const char *src, char *err, size_t errlen) {
    while (n > 0 && is_space(s[n - 1])) n--;
    size_t i = 0;
    while (i < n && is_space(s[i])) i++;
    s += i;
    n -= i;
    if (n == 0) {
        err_set(err, errlen, "%s: the webhook secret is empty", src);
        return -1;
    }
    if (n > 6 && memcmp(s, "whsec_", 6) == 0) {
        if (b64_decoded_max(n - 6) > sizeof c->key) {
            err_set(err, errlen, "%s: the webhook secret is too long", src);
            return -1;
        }
        long k = b64_decode(s + 6, n - 6, c->key, B64_UNPADDED);
        if (k <= 0) {
            err_set(err, errlen, "%s: the whsec_ secret is not valid base64", src);
            return -1;
        }
        c->key_len = (size_t)k;
    } else {
        if (n > sizeof c->key) {
            err_set(err, errlen, "%s: the webhook secret is too long", src);
            return -1;
        }
        memcpy(c->key, s, n);
        c->key_len = n;
    }
    return 0;
}

static int load_secret(dcfg *c, const char *file, char *err, size_t errlen) {
    char buf[SECRET_MAX];
    int rc;
    if (file != NULL) {
        FILE *f = fopen(file, "r");
        if (f == NULL) {
            err_set(err, errlen, "--secret-file %s: %s", file, strerror(errno));
            return -1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        int bad = ferror(f) || n == sizeof buf;
        fclose(f);
        if (bad) {
            err_set(err, errlen, "--secret-file %s: unreadable or larger than %d bytes", file,
                    SECRET_MAX - 1);
            OPENSSL_cleanse(buf, sizeof buf);
            return -1;
        }
        rc = secret_to_key(c, buf, n, "--secret-file", err, errlen);
    } else {
        const char *env = getenv("DISPATCHD_SECRET");
        if (env == NULL) {
            err_set(err, errlen,
                    "no webhook secret: give --secret-file PATH (or DISPATCHD_SECRET_FILE), or "
                    "set DISPATCHD_SECRET");
            return -1;
        }
        size_t n = strlen(env);
        if (n >= sizeof buf) {
            err_set(err, errlen, "DISPATCHD_SECRET: the webhook secret is too long");
            return -1;
        }
        memcpy(buf, env, n);
        rc = secret_to_key(c, buf, n, "DISPATCHD_SECRET", err, errlen);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

/* The first line of file (without its line end) → c->redis_password; the --redis URL must not
 * carry one too. */
static int load_redis_password(dcfg *c, const char *file, char *err, size_t errlen) {
    const char *p = c->redis_url + 8; /* after redis:// (checked) */
    const char *at = strchr(p, '@'), *slash = strchr(p, '/');
    if (at && (!slash || at < slash)) {
        err_set(err, errlen,
                "--redis-password-file: the --redis URL holds a password too (give one of them)");
        return -1;
    }
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        err_set(err, errlen, "--redis-password-file %s: %s", file, strerror(errno));
        return -1;
    }
    char buf[sizeof c->redis_password + 2];
    bool got = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    size_t n = got ? strcspn(buf, "\r\n") : 0;
    int rc = 0;
    if (n == 0 || n >= sizeof c->redis_password) {
        err_set(err, errlen, "--redis-password-file %s: %s", file,
                n ? "the password is longer than 255 bytes" : "no password on its first line");
        rc = -1;
    } else {
        memcpy(c->redis_password, buf, n);
        c->redis_password[n] = '\0';
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

int dcfg_parse(dcfg *c, int argc, char **argv, char *err, size_t errlen) {
    defaults(c);
    /* 1. profile: environment, then argv (before anything else, so that flags override it) */
    const char *prof = getenv("DISPATCHD_PROFILE");
    if (prof && set_profile(c, prof, "DISPATCHD_PROFILE", err, errlen)) return -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--untuned") == 0 &&
            set_profile(c, "untuned", "--untuned", err, errlen))
            return -1;
        if (strcmp(argv[i], "--profile") == 0 && i + 1 < argc &&
            set_profile(c, argv[i + 1], "--profile", err, errlen))
            return -1;
        if (strncmp(argv[i], "--profile=", 10) == 0 &&
            set_profile(c, argv[i] + 10, "--profile", err, errlen))
            return -1;
    }
    /* 2. environment */
    for (size_t i = 0; i < NOPTS; i++) {
        char name[64];
        env_name(opts[i].name, name, sizeof name);
        const char *v = getenv(name);
        if (v && set_opt(c, &opts[i], v, name, err, errlen)) return -1;
    }
    const char *secret_file = getenv("DISPATCHD_SECRET_FILE");
    const char *redis_pw_file = getenv("DISPATCHD_REDIS_PASSWORD_FILE");
    /* 3. flags */
    static struct option lo[NOPTS + 9];
    for (size_t i = 0; i < NOPTS; i++)
        lo[i] = (struct option){opts[i].name, required_argument, NULL, (int)i};
    size_t k = NOPTS;
    lo[k++] = (struct option){"secret-file", required_argument, NULL, O_SECRET_FILE};
    lo[k++] =
        (struct option){"redis-password-file", required_argument, NULL, O_REDIS_PASSWORD_FILE};
    lo[k++] = (struct option){"profile", required_argument, NULL, O_PROFILE};
    lo[k++] = (struct option){"untuned", no_argument, NULL, O_UNTUNED};
    lo[k++] = (struct option){"help", no_argument, NULL, O_HELP};
    lo[k++] = (struct option){"selftest", no_argument, NULL, O_SELFTEST};
    lo[k++] = (struct option){"print-schema", no_argument, NULL, O_PRINT_SCHEMA};
    lo[k] = (struct option){NULL, 0, NULL, 0};
    int action = DCFG_RUN;
    optind = 1;
    opterr = 0;
    for (;;) {
        int prev = optind;
        int ch = getopt_long(argc, argv, ":h", lo, NULL);
        if (ch == -1) break;
        if (ch >= 0 && (size_t)ch < NOPTS) {
            char src[80];
            snprintf(src, sizeof src, "--%s", opts[ch].name);
            if (set_opt(c, &opts[ch], optarg, src, err, errlen)) return -1;
            continue;
        }
        switch (ch) {
        case O_SECRET_FILE: secret_file = optarg; break;
        case O_REDIS_PASSWORD_FILE: redis_pw_file = optarg; break;
        case O_PROFILE:
        case O_UNTUNED: break; /* applied in step 1 */
        case 'h':
        case O_HELP: action = DCFG_HELP; break;
        case O_SELFTEST: action = DCFG_SELFTEST; break;
        case O_PRINT_SCHEMA: action = DCFG_PRINT_SCHEMA; break;
        case ':': err_set(err, errlen, "%s needs a value (see --help)", argv[prev]); return -1;
        default: err_set(err, errlen, "unknown option %s (see --help)", argv[prev]); return -1;
        }
    }
    if (optind < argc) {
        err_set(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return -1;
    }
    if (action != DCFG_RUN) return action;
    if (parse_listen(c, err, errlen)) return -1;
    if (strncmp(c->redis_url, "redis://", 8) != 0) {
        err_set(err, errlen, "--redis: the URL must start with redis://");
        return -1;
    }
    if (redis_pw_file && *redis_pw_file && load_redis_password(c, redis_pw_file, err, errlen))
        return -1;
    if (load_secret(c, secret_file, err, errlen)) return -1;
    unsetenv("DISPATCHD_SECRET");
    return DCFG_RUN;
}

static void value_text(const dcfg *c, const opt *o, char *out, size_t outlen) {
    const char *field = (const char *)c + o->off;
    switch (o->kind) {
    case K_INT: snprintf(out, outlen, "%d", *(const int *)field); break;
    case K_STR: snprintf(out, outlen, "%s", *field ? field : "none"); break;
    case K_CHOICE: snprintf(out, outlen, "%s", o->choices[*(const int *)field]); break;
    case K_ONOFF: snprintf(out, outlen, "%s", *(const bool *)field ? "on" : "off"); break;
    }
}

void dcfg_usage(FILE *out) {
    dcfg d;
    defaults(&d);
    fprintf(out,
            "Usage: dispatchd [options]\n\n"
            "The reference order-dispatch service: Standard Webhooks in (POST /webhooks/orders),\n"
            "queued in a Redis stream, stored in PostgreSQL by workers; vendors race to accept\n"
            "orders (POST /orders/ID/accept) and exactly one wins. Also GET /orders/ID, /healthz,\n"
            "/readyz, /metrics. Defaults are the tuned architecture; --profile untuned switches\n"
            "every knob marked [untuned: ...] at once (flags and variables still override it).\n\n"
            "Each option can also be set with the environment variable shown (flags win).\n\n");
    fprintf(out, "  --secret-file PATH  (DISPATCHD_SECRET_FILE)\n"
                 "        file holding the webhook secret (whsec_...); or put the secret itself\n"
                 "        in DISPATCHD_SECRET. Never given as a flag value.\n");
    fprintf(out, "  --redis-password-file PATH  (DISPATCHD_REDIS_PASSWORD_FILE)\n"
                 "        file whose first line is the Redis password (AUTH), instead of a\n"
                 "        password in the --redis URL, which every user can read on argv.\n");
    fprintf(out, "  --profile tuned|untuned, --untuned  (DISPATCHD_PROFILE)\n"
                 "        [default: tuned]\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char env[64], def[1100];
        env_name(opts[i].name, env, sizeof env);
        value_text(&d, &opts[i], def, sizeof def);
        fprintf(out, "  --%s %s  (%s)\n        %s [default: %s", opts[i].name, opts[i].meta, env,
                opts[i].help, def);
        if (opts[i].untuned) fprintf(out, "; untuned: %s", opts[i].untuned);
        fprintf(out, "]\n");
    }
    fprintf(out, "  -h, --help\n        this text\n\n"
                 "Signals: SIGTERM/SIGINT stop accepting, finish in-flight requests and batches,\n"
                 "exit 0. Logs: one line per event on stderr.\n");
}

void dcfg_describe(const dcfg *c, char *out, size_t outlen) {
    snprintf(out, outlen,
             "profile=%s listen=%s threads=%d executors=%d workers=%d batch=%d ingest=%s accept=%s "
             "dedupe=%s ordering=%s redis-timeout=%dms redis-fallback=%s pg-pool=%d "
             "pg-reconnect=%s pg-timeout=%dms pg-prepare=%s",
             c->profile, c->listen, c->threads, c->executors, c->workers, c->batch,
             ingest_choices[c->ingest], accept_choices[c->accept_mode], c->dedupe ? "on" : "off",
             ordering_choices[c->ordering], c->redis_timeout_ms, c->redis_fallback ? "on" : "off",
             c->pg_pool, reconnect_choices[c->pg_reconnect], c->pg_timeout_ms,
             c->pg_prepare ? "on" : "off");
}
