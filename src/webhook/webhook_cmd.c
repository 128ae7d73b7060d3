/* webhook_cmd.c — the command lines of `brink webhook PROFILE` and `brink capacity`: one option
 * table (core/cli.h; capacity hides -R and -d, which it refuses) into a webhook_opts (what -f
 * brink.yaml gives fills what the options left unset), checked completely before anything
 * starts — a bad value, an option that does not go with the profile, a secret given without a
 * target — each one line and exit 2; then webhook_run with SIGINT/SIGTERM turned into a stop flag
 * (partial result, exit 130). */
#include "webhook/webhook.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "core/stopsig.h"
#include "config/config.h"
#include "config/preflight.h"
#include "verdict/threshold.h"
#include "webhook/webhook_int.h"

/* The search's decimal parameters: range-checked with the message "--NAME: invalid value 'V'
 * (want a number from MIN to MAX)" that scripts and tests already know. */
typedef struct bounded {
    const char *name;
    double min, max;
    double *out;
} bounded;

static int set_bounded(const char *value, void *dest, char *err, size_t errlen) {
    const bounded *b = dest;
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (!*value || *end || errno || !isfinite(v) || v < b->min || v > b->max) {
        err_set(err, errlen, "%s: invalid value '%s' (want a number from %g to %g)", b->name, value,
                b->min, b->max);
        return -1;
    }
    *b->out = v;
    return 0;
}

/* --sign: a scheme of sign.h, or none (an unsigned target). */
static int set_sign(const char *value, void *dest, char *err, size_t errlen) {
    sign_scheme *s = dest;
    if (!strcmp(value, "none")) {
        *s = SIGN_NONE;
        return 0;
    }
    if (sign_parse_scheme(value, s) == 0) return 0;
    err_set(err, errlen,
            "--sign: unknown scheme '%s' (want standard-webhooks, stripe, github or none)", value);
    return -1;
}

/* The search options, whose rows set search[S_*] when given (they go with the search only). */
enum {
    S_START,
    S_FACTOR,
    S_MAX_RATE,
    S_STEP,
    S_PAUSE,
    S_WARMUP,
    S_MAX_TIME,
    S_MAX_STEPS,
    S_RESOLUTION,
    S_P99,
    S_ERRORS,
    S_ACHIEVED,
    S_N,
};

/* What was given, to check the combinations after parsing. */
typedef struct given {
    const char *rate, *duration, *stack, *secret, *pid, *config;
    const char *search; /* the name of a search option given, without "--" */
    bool target, sign, p99_limit, error_limit;
} given;

/* Set by the table's rows; turned into a given after parsing. */
typedef struct flags {
    bool duration, stack_profile, keep, sign;
    bool search[S_N];
} flags;

#define WHERE_TEXT                                                                                 \
    "Where: the embedded stack by default (started and removed by brink); a running service "      \
    "with --target URL (signed with --secret-file or --secret-env); or your own stack with -f "    \
    "brink.yaml.\n"

static const char webhook_exit[] =
    "Exit status: 0 nothing red; 99 a threshold is red; 2 bad usage; 3 the stack or the target "
    "failed (no response at all); 130 interrupted.";

static const char capacity_exit[] =
    "Exit status: 0 nothing red; 99 a threshold is red (also when the first step broke); 2 bad "
    "usage; 3 the stack or the target failed; 130 interrupted.";

/* brink webhook's summary: what it sends, its profiles, the search options of stress. */
static void webhook_summary(char *buf, size_t len) {
    int n;
    const webhook_profile *p = webhook_profiles(&n);
    size_t k = (size_t)snprintf(buf, len, "%s",
                                "Signed order webhooks (Standard Webhooks; dispatchd's "
                                "order.created with unique order ids) at a constant rate in the "
                                "open model, judged by the thresholds.\n\nProfiles:\n");
    for (int i = 0; i < n && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "  %-10s %s\n", p[i].name, p[i].what);
    if (k < len)
        snprintf(buf + k, len - k, "%s",
                 "\n" WHERE_TEXT "\nThe stress profile searches for the breaking point, as brink "
                 "capacity does (docs/webhook.md): the options from --start-rate to "
                 "--min-achieved go with it alone.");
}

static const char capacity_summary[] =
    "Finds the breaking point: raises the offered rate of signed webhooks geometrically until a "
    "service level breaks, then bisects between the last good and the first bad rate. Reports "
    "the maximum sustainable rate, its resolution, and the knee (the highest good step whose "
    "p99 is at most twice the best step's).\n"
    "\n" WHERE_TEXT;

/* The first search option given, by its row's name (NULL: none). */
static const char *search_given(const cli_opt *opts, size_t n, const flags *f) {
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < S_N; k++)
            if (opts[i].given == &f->search[k] && f->search[k]) return opts[i].name;
    return NULL;
}

static int parse(int argc, char **argv, bool capacity, webhook_opts *o, given *g, char *err,
                 size_t errlen) {
    webhook_opts_init(o);
    memset(g, 0, sizeof *g);
    if (capacity) {
        o->test = "capacity";
        o->profile = NULL;
    }
    flags f = {0};
    int64_t step_ns = 0, pause_ns = 0, max_time_ns = 0;
    bounded factor = {"--factor", 1.01, 100, &o->cap.factor},
            resolution = {"--resolution", 0.001, 0.5, &o->cap.resolution},
            p99 = {"--p99-limit", 0.01, 3600000, &o->cap.p99_limit_ms},
            errors = {"--error-limit", 0, 0.999, &o->cap.error_limit},
            achieved = {"--min-achieved", 0.01, 1, &o->cap.min_achieved};
    char summary[2048];
    webhook_summary(summary, sizeof summary);
    const cli_cmd cmd = {
        .name = capacity ? "capacity" : "webhook",
        .args = capacity ? "[options]" : "[options] PROFILE",
        .summary = capacity ? capacity_summary : summary,
        .epilog = capacity ? capacity_exit : webhook_exit,
        .missing = "missing profile (light, moderate, heavy or stress)",
        .min_args = capacity ? 0 : 1,
        .max_args = capacity ? 0 : 1,
    };
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "rate", .short_name = 'R', .kind = CLI_RATE, .dest = &o->rate,
         .hidden = capacity, .meta = "RPS", .help = "override the profile's rate"},
        {.name = "duration", .short_name = 'd', .kind = CLI_DURATION, .dest = &o->duration_ns,
         .min = 100 * NS_PER_MS, .given = &f.duration, .hidden = capacity, .meta = "D",
         .help = "override the profile's duration"},
        /* the search */
        {.name = "start-rate", .kind = CLI_RATE, .dest = &o->cap.start_rps,
         .given = &f.search[S_START], .meta = "R", .help = "first step's rate (default 200/s)"},
        {.name = "factor", .kind = CLI_FN, .fn = set_bounded, .dest = &factor,
         .given = &f.search[S_FACTOR], .meta = "F",
         .help = "ramp multiplier per step (default 2)"},
        {.name = "max-rate", .kind = CLI_RATE, .dest = &o->cap.max_rps,
         .given = &f.search[S_MAX_RATE], .meta = "R",
         .help = "highest rate tried (default 100000/s)"},
        {.name = "step", .kind = CLI_DURATION, .dest = &step_ns, .min = NS_PER_S,
         .given = &f.search[S_STEP], .meta = "D", .help = "length of each step (default 5s)"},
        {.name = "pause", .kind = CLI_DURATION, .dest = &pause_ns, .given = &f.search[S_PAUSE],
         .meta = "D", .help = "pause after each step (default 1s; on the embedded stack also a "
                              "wait, at most 20 s, for dispatchd's backlog)"},
        CLI_WARMUP_AS(&o->warmup_ns, &f.search[S_WARMUP], "1s",
                      "warm-up at the start rate, not judged (0: none)"),
        {.name = "max-time", .kind = CLI_DURATION, .dest = &max_time_ns, .min = NS_PER_S,
         .given = &f.search[S_MAX_TIME], .meta = "D",
         .help = "bound of the whole search (default 3m)"},
        {.name = "max-steps", .kind = CLI_INT, .dest = &o->cap.max_steps, .min = 1,
         .max = CAPACITY_STEPS_MAX, .given = &f.search[S_MAX_STEPS], .meta = "N",
         .help = "bound of the number of steps (default 24)"},
        {.name = "resolution", .kind = CLI_FN, .fn = set_bounded, .dest = &resolution,
         .given = &f.search[S_RESOLUTION], .meta = "F",
         .help = "bisect until the interval < F x the rate (default 0.05)"},
        {.name = "p99-limit", .kind = CLI_FN, .fn = set_bounded, .dest = &p99,
         .given = &f.search[S_P99], .meta = "MS",
         .help = "a step breaks when p99 is above MS (default 500, the threshold table's "
                 "webhook p99 red bound, or -f's override)"},
        {.name = "error-limit", .kind = CLI_FN, .fn = set_bounded, .dest = &errors,
         .given = &f.search[S_ERRORS], .meta = "F",
         .help = "... or the error rate is above F (default 0.001)"},
        {.name = "min-achieved", .kind = CLI_FN, .fn = set_bounded, .dest = &achieved,
         .given = &f.search[S_ACHIEVED], .meta = "F",
         .help = "... or achieved < F x offered (default 0.97)"},
        /* the load */
        CLI_CONNECTIONS_AS(&o->connections, "connections (default: rate x 50 ms, 32..2000)"),
        CLI_THREADS_AS(&o->threads, "load threads (default: half the cores, 1..4)"),
        CLI_TIMEOUT(&o->timeout_ns),
        /* where */
        CLI_CONFIG_AS(&g->config,
                      "your own stack, described by a brink.yaml (docs/config.md): its target, "
                      "signing, secret, body, service pid and threshold overrides; the options "
                      "still win over the file"),
        CLI_STACK_PROFILE(&o->stack_profile, &f.stack_profile),
        CLI_KEEP(&o->keep, &f.keep),
        {.name = "target", .kind = CLI_STR, .dest = &o->target, .meta = "URL",
         .help = "a running service instead: its webhook URL (a bare http://HOST:PORT gets the "
                 "path /webhooks/orders)"},
        CLI_SECRET_FILE(&o->secret_file),
        CLI_SECRET_ENV(&o->secret_env),
        {.name = "sign", .kind = CLI_FN, .fn = set_sign, .dest = &o->sign, .given = &f.sign,
         .meta = "SCHEME", .help = "standard-webhooks (default), stripe, github or none"},
        {.name = "service-pid", .kind = CLI_INT, .dest = &o->service_pid, .min = 1,
         .max = 1 << 22, .meta = "PID",
         .help = "with --target: a local process to sample (CPU, RSS)"},
        /* scale-out */
        SEGMENT_CLI_ROW(segment_cli_parse, &o->seg,
            "with --target or -f: run segment I of N (docs/distributed.md): N brink processes "
            "(N machines) send the rate given here together, each every N-th request (and its "
            "share of -c); brink merge adds their --json up. A search then runs a fixed plan: "
            "steps at fixed times, ramp only, ending at this segment's first broken step"),
        SEGMENT_CLI_START_AT(&o->start_at_ns),
        /* the sender */
        DELIVERY_CLI_ROWS(&o->delivery),
        LIFECYCLE_CLI_ROWS(&o->events),
        {.name = "threshold", .kind = CLI_FN, .fn = custom_th_add, .dest = &o->thresholds,
         .meta = "COND",
         .help = "a condition of your own on the run's .stats, beside the built-in verdicts: "
                 "'p99_ms<100', 'rps>=450 orange>=490' (repeatable; fixed-rate profiles)"},
        /* output */
        CLI_JSON(&o->json_path),
        CLI_QUIET_AS(&o->quiet, "no progress lines"),
        CLI_HELP,
    };
    /* clang-format on */
    const char *pos[1];
    int npos;
    int rc = cli_parse(&cmd, opts, CLI_NOPTS(opts), argc, argv, pos, 1, &npos, err, errlen);
    if (rc != CLI_OK) return rc == CLI_EXIT_HELP ? 1 : -1;
    if (npos) o->profile = pos[0];
    if (f.search[S_STEP]) o->cap.step_s = (double)step_ns / NS_PER_S;
    if (f.search[S_PAUSE]) o->cap.pause_s = (double)pause_ns / NS_PER_S;
    if (f.search[S_MAX_TIME]) o->cap.max_time_s = (double)max_time_ns / NS_PER_S;
    g->rate = o->rate > 0 ? "--rate" : NULL; /* the capacity table hides -R and -d: refused */
    g->duration = f.duration ? "--duration" : NULL;
    g->search = search_given(opts, CLI_NOPTS(opts), &f);
    g->stack = f.stack_profile ? "--stack-profile" : f.keep ? "--keep" : NULL;
    g->secret = o->secret_file  ? "--secret-file"
                : o->secret_env ? "--secret-env"
                : f.sign        ? "--sign"
                                : NULL;
    g->pid = o->service_pid ? "--service-pid" : NULL;
    g->target = o->target != NULL;
    g->sign = f.sign;
    g->p99_limit = f.search[S_P99];
    g->error_limit = f.search[S_ERRORS];
    return 0;
}

/* The combinations, after parsing. */
static int check(webhook_opts *o, const given *g, bool capacity, char *err, size_t errlen) {
    if (!capacity) {
        const webhook_profile *p = webhook_profile_find(o->profile);
        if (!p) {
            err_set(err, errlen, "unknown profile '%s' (want light, moderate, heavy or stress)",
                    o->profile);
            return -1;
        }
        if (p->rate == 0 && (g->rate || g->duration)) {
            err_set(err, errlen,
                    "%s does not go with stress (the search sets rates and steps: use "
                    "--start-rate, --step)",
                    g->rate ? g->rate : g->duration);
            return -1;
        }
        if (p->rate > 0 && g->search) {
            err_set(err, errlen,
                    "--%s goes with the search (brink webhook stress or brink capacity)",
                    g->search);
            return -1;
        }
    }
    if (capacity && (g->rate || g->duration)) {
        err_set(err, errlen, "%s does not go with brink capacity (use --start-rate, --step)",
                g->rate ? g->rate : g->duration);
        return -1;
    }
    if (o->target && g->stack) {
        err_set(err, errlen, "%s is for the embedded stack, not for %s", g->stack,
                g->config ? "-f (your own stack)" : "--target");
        return -1;
    }
    if (!o->target && g->secret) {
        err_set(err, errlen, "%s goes with --target (the embedded stack signs with its own secret)",
                g->secret);
        return -1;
    }
    if (!o->target && o->seg.count >= 1) {
        err_set(err, errlen,
                "--segment needs a shared target (--target URL or -f brink.yaml): each brink "
                "process would start its own embedded stack");
        return -1;
    }
    if (!o->target && g->pid) {
        err_set(err, errlen, "--service-pid goes with --target (the stack knows its service)");
        return -1;
    }
    if (o->secret_file && o->secret_env) {
        err_set(err, errlen, "give either --secret-file or --secret-env, not both");
        return -1;
    }
    if (o->target && o->sign == SIGN_NONE && (o->secret_file || o->secret_env)) {
        err_set(err, errlen, "a secret was given with --sign none");
        return -1;
    }
    bool search = capacity || !strcmp(o->profile, "stress");
    if (search && capacity_params_check(&o->cap, err, errlen) < 0) return -1;
    int nsearch;
    const char *const *search_stats = webhook_search_stat_names(&nsearch);
    if (search && custom_th_check(&o->thresholds, search_stats, nsearch, err, errlen) < 0) {
        return -1;
    }
    if (!search && webhook_threshold_check(&o->thresholds, err, errlen) < 0) return -1;
    const delivery_args *d = &o->delivery;
    const lifecycle_args *ev = &o->events;
    if (search && (d->name || d->schedule || d->scale_set || d->dup_set || d->drain_set ||
                   d->retry_after || ev->spec || ev->interval_set || ev->reorder_set)) {
        err_set(err, errlen,
                "the sender options (--delivery, --retry-*, --duplicate-*, "
                "--delivery-drain, --events, --event-interval, --reorder-rate) go with a "
                "fixed-rate profile (light, moderate, heavy), not with the search");
        return -1;
    }
    return 0;
}

/* -f FILE: the brink.yaml's target, signing, secret, body, headers and pid fill what the command
 * line left unset; its threshold overrides apply (without -f: the defaults). */
static int apply_config(webhook_opts *o, const given *g, bool search, config **cfg, char *target,
                        size_t targetlen, char *err, size_t errlen) {
    *cfg = NULL;
    if (!g->config) return config_apply_thresholds(NULL, err, errlen);
    if (config_load(g->config, cfg, err, errlen) < 0) return -1;
    const config *c = *cfg;
    if (config_apply_thresholds(c, err, errlen) < 0) return -1;
    o->config_file = c->file;
    if (!g->target) {
        config_webhook_url(c, target, targetlen);
        o->target = target;
    }
    if (!g->secret) { /* --sign, --secret-file and --secret-env replace the file's signing */
        o->sign = c->sign;
        o->secret_file = c->secret_file;
        o->secret_env = c->secret_env;
    }
    if (!g->pid) o->service_pid = config_service_pid(c);
    o->metrics_url = c->metrics_url;
    if (c->have_audit) {
        o->audit_url = c->audit_url;
        o->audit_password = config_audit_password(c);
        o->audit_handled = c->audit_ev_handled;
        o->audit_orders = c->audit_ev_orders;
        o->audit_pending = c->audit_ev_pending;
    }
    if (!search) config_sender_args(c, &o->delivery, &o->events);
    o->body = c->body;
    o->headers = (const char *const *)c->headers;
    o->nheaders = c->nheaders;
    /* the search's service levels follow overridden webhook thresholds */
    const th_def *d = threshold_effective("webhook", "p99_ms");
    if (!g->p99_limit && d) o->cap.p99_limit_ms = d->red;
    d = threshold_effective("webhook", "error_rate");
    if (!g->error_limit && d) o->cap.error_limit = d->red;
    return 0;
}

static int run(int argc, char **argv, bool capacity, char *err, size_t errlen) {
    webhook_opts o;
    given g;
    int rc = parse(argc, argv, capacity, &o, &g, err, errlen);
    if (rc > 0) return EXIT_OK;
    if (rc < 0) return EXIT_USAGE;
    config *cfg = NULL;
    char target_buf[1024];
    bool search = capacity || (o.profile && !strcmp(o.profile, "stress"));
    if (apply_config(&o, &g, search, &cfg, target_buf, sizeof target_buf, err, errlen) < 0 ||
        check(&o, &g, capacity, err, errlen) < 0) {
        config_free(cfg);
        return EXIT_USAGE;
    }
    /* your own target: what the run will need is tried first (seconds, no load), once the
     * target's own settings (URL, secret) are known to be right */
    if (o.target) {
        webhook_target t;
        bool usage;
        int pre = EXIT_OK;
        if (webhook_target_open(&o, &t, &usage, err, errlen) < 0) {
            pre = usage ? EXIT_USAGE : EXIT_UNREACHABLE;
        } else {
            preflight pf = {.cfg = cfg,
                            .target_url = t.url,
                            .json_path = o.json_path,
                            .audit_events = cfg && cfg->have_audit && o.events.spec};
            pre = preflight_run(&pf, err, errlen);
            webhook_target_close(&t);
        }
        if (pre != EXIT_OK) {
            config_free(cfg);
            return pre;
        }
    }

    stopsig sig;
    o.stop = stopsig_catch(&sig);
    int status = webhook_run(&o, err, errlen);
    stopsig_release(&sig);
    if (status == EXIT_INTERRUPTED && !err[0]) err_set(err, errlen, "interrupted");
    config_free(cfg);
    return status;
}

int webhook_main(int argc, char **argv, char *err, size_t errlen) {
    return run(argc, argv, false, err, errlen);
}

int webhook_capacity_main(int argc, char **argv, char *err, size_t errlen) {
    return run(argc, argv, true, err, errlen);
}
