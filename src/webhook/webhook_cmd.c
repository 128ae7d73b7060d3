/* webhook_cmd.c — the command lines of `brink webhook PROFILE` and `brink capacity`: options into
 * a webhook_opts (what -f brink.yaml gives fills what the options left unset), checked completely
 * before anything
 * starts — a bad value, an option that does not go with the profile, a secret given without a
 * target — each one line and exit 2; then webhook_run with SIGINT/SIGTERM turned into a stop flag
 * (partial result, exit 130). */
#include "webhook/webhook.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/parse.h"
#include "core/exitcode.h"
#include "config/config.h"
#include "verdict/threshold.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void usage_common(void) {
    printf("Load:\n"
           "  -c, --connections N     connections (default: rate x 50 ms, 32..2000)\n"
           "  -t, --threads N         load threads (default: half the cores, 1..4)\n"
           "      --timeout D         per-request timeout (default 5s)\n"
           "\n"
           "Where (default: the embedded stack, started and removed by brink):\n"
           "  -f, --config FILE       your own stack, described by a brink.yaml\n"
           "                          (docs/config.md): its target, signing, secret, body,\n"
           "                          service pid and threshold overrides; the options below\n"
           "                          still win over the file\n"
           "      --stack-profile P   tuned (default) or untuned dispatchd\n"
           "      --keep              keep the stack's directory (data, logs)\n"
           "      --target URL        a running service instead: its webhook URL (a bare\n"
           "                          http://HOST:PORT gets the path /webhooks/orders)\n"
           "      --secret-file F     the target's signing secret, from a file\n"
           "      --secret-env VAR    ... or from an environment variable (never a value)\n"
           "      --sign SCHEME       standard-webhooks (default), stripe, github or none\n"
           "      --service-pid PID   with --target: a local process to sample (CPU, RSS)\n"
           "\n"
           "Scale-out (docs/distributed.md; with --target or -f):\n"
           "      --segment I/N       run segment I of N: N brink processes (N machines) send\n"
           "                          the rate given here together, each every N-th request\n"
           "                          (and its share of -c); brink merge adds their --json up.\n"
           "                          A search then runs a fixed plan: steps at fixed times,\n"
           "                          ramp only, ending at this segment's first broken step\n"
           "      --start-at T        wait until UNIX time T (seconds), then start (time 0)\n"
           "\n"
           "Output:\n"
           "      --json FILE         write the result document (- for stdout)\n"
           "  -q, --quiet             no progress lines\n"
           "  -h, --help              this help\n");
}

static void usage_search(void) {
    printf("Search (the breaking point; see docs/webhook.md):\n"
           "      --start-rate R      first step's rate (default 200/s)\n"
           "      --factor F          ramp multiplier per step (default 2)\n"
           "      --max-rate R        highest rate tried (default 100000/s)\n"
           "      --step D            length of each step (default 5s)\n"
           "      --pause D           pause after each step (default 1s; on the embedded stack\n"
           "                          also a wait, at most 20 s, for dispatchd's backlog)\n"
           "      --warmup D          warm-up at the start rate, not judged (default 1s; 0: none)\n"
           "      --max-time D        bound of the whole search (default 3m)\n"
           "      --max-steps N       bound of the number of steps (default 24, at most 64)\n"
           "      --resolution F      bisect until the interval < F x the rate (default 0.05)\n"
           "      --p99-limit MS      a step breaks when p99 is above (default 500, the\n"
           "                          threshold table's webhook p99 red bound)\n"
           "      --error-limit F     ... or the error rate is above (default 0.001)\n"
           "      --min-achieved F    ... or achieved < F x offered (default 0.97)\n"
           "\n");
}

static void usage_webhook(void) {
    int n;
    const webhook_profile *p = webhook_profiles(&n);
    printf("Usage: brink webhook PROFILE [options]\n"
           "\n"
           "Signed order webhooks (Standard Webhooks; dispatchd's order.created with unique\n"
           "order ids) at a constant rate in the open model, judged by the thresholds.\n"
           "\n"
           "Profiles:\n");
    for (int i = 0; i < n; i++) printf("  %-10s %s\n", p[i].name, p[i].what);
    printf("\n"
           "  -R, --rate RPS          override the profile's rate\n"
           "  -d, --duration D        override the profile's duration\n");
    usage_common();
    printf("\n");
    usage_search();
    printf("Exit status: 0 nothing red; 99 a threshold is red; 2 bad usage; 3 the stack or the\n"
           "target failed (no response at all); 130 interrupted.\n");
}

static void usage_capacity(void) {
    printf("Usage: brink capacity [options]\n"
           "\n"
           "Finds the breaking point: raises the offered rate of signed webhooks geometrically\n"
           "until a service level breaks, then bisects between the last good and the first bad\n"
           "rate. Reports the maximum sustainable rate, its resolution, and the knee (the\n"
           "highest good step whose p99 is at most twice the best step's).\n"
           "\n");
    usage_search();
    usage_common();
    printf("\n"
           "Exit status: 0 nothing red; 99 a threshold is red (also when the first step broke);\n"
           "2 bad usage; 3 the stack or the target failed; 130 interrupted.\n");
}

enum {
    O_TIMEOUT = 1000,
    O_PROFILE,
    O_KEEP,
    O_TARGET,
    O_SECRET_FILE,
    O_SECRET_ENV,
    O_SIGN,
    O_PID,
    O_JSON,
    O_START,
    O_FACTOR,
    O_MAX_RATE,
    O_STEP,
    O_PAUSE,
    O_WARMUP,
    O_MAX_TIME,
    O_MAX_STEPS,
    O_RESOLUTION,
    O_P99,
    O_ERRORS,
    O_ACHIEVED,
    O_SEGMENT,
    O_START_AT,
};

static const struct option long_opts[] = {
    {"rate", required_argument, 0, 'R'},
    {"duration", required_argument, 0, 'd'},
    {"connections", required_argument, 0, 'c'},
    {"threads", required_argument, 0, 't'},
    {"timeout", required_argument, 0, O_TIMEOUT},
    {"stack-profile", required_argument, 0, O_PROFILE},
    {"keep", no_argument, 0, O_KEEP},
    {"target", required_argument, 0, O_TARGET},
    {"secret-file", required_argument, 0, O_SECRET_FILE},
    {"secret-env", required_argument, 0, O_SECRET_ENV},
    {"sign", required_argument, 0, O_SIGN},
    {"service-pid", required_argument, 0, O_PID},
    {"json", required_argument, 0, O_JSON},
    {"start-rate", required_argument, 0, O_START},
    {"factor", required_argument, 0, O_FACTOR},
    {"max-rate", required_argument, 0, O_MAX_RATE},
    {"step", required_argument, 0, O_STEP},
    {"pause", required_argument, 0, O_PAUSE},
    {"warmup", required_argument, 0, O_WARMUP},
    {"max-time", required_argument, 0, O_MAX_TIME},
    {"max-steps", required_argument, 0, O_MAX_STEPS},
    {"resolution", required_argument, 0, O_RESOLUTION},
    {"p99-limit", required_argument, 0, O_P99},
    {"error-limit", required_argument, 0, O_ERRORS},
    {"min-achieved", required_argument, 0, O_ACHIEVED},
    {"segment", required_argument, 0, O_SEGMENT},
    {"start-at", required_argument, 0, O_START_AT},
    {"config", required_argument, 0, 'f'},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* A plain decimal number in [min, max]. */
static int number(const char *s, const char *name, double min, double max, double *out, char *err,
                  size_t errlen) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < min || v > max) {
        err_set(err, errlen, "%s: invalid value '%s' (want a number from %g to %g)", name, s, min,
                max);
        return -1;
    }
    *out = v;
    return 0;
}

static int duration(const char *s, const char *name, int64_t min, int64_t *out, char *err,
                    size_t errlen) {
    char sub[200];
    if (parse_duration_ns(s, out, sub, sizeof sub) < 0) {
        err_set(err, errlen, "%s: %s", name, sub);
        return -1;
    }
    if (*out < min) {
        err_set(err, errlen, "%s: '%s' is too short (at least %gs)", name, s,
                (double)min / NS_PER_S);
        return -1;
    }
    return 0;
}

/* What was given, to check the combinations after parsing. */
typedef struct given {
    const char *rate, *duration, *search, *stack, *secret, *pid, *config;
    bool target, sign, p99_limit, error_limit;
} given;

static int parse(int argc, char **argv, bool capacity, webhook_opts *o, given *g, char *err,
                 size_t errlen) {
    webhook_opts_init(o);
    memset(g, 0, sizeof *g);
    if (capacity) {
        o->test = "capacity";
        o->profile = NULL;
    }
    char sub[256];
    int64_t v, ns;
    double d;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":R:d:c:t:f:qh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'R':
            if (parse_rate(optarg, &o->rate, sub, sizeof sub) < 0) goto sub;
            g->rate = "--rate";
            break;
        case 'd':
            if (duration(optarg, "--duration", NS_PER_MS * 100, &o->duration_ns, err, errlen) < 0)
                return -1;
            g->duration = "--duration";
            break;
        case 'c':
            if (parse_int(optarg, 1, 100000, &v, sub, sizeof sub) < 0) goto sub;
            o->connections = (int)v;
            break;
        case 't':
            if (parse_int(optarg, 1, 256, &v, sub, sizeof sub) < 0) goto sub;
            o->threads = (int)v;
            break;
        case O_TIMEOUT:
            if (duration(optarg, "--timeout", NS_PER_MS, &o->timeout_ns, err, errlen) < 0)
                return -1;
            break;
        case O_PROFILE:
            if (!strcmp(optarg, "tuned")) {
                o->stack_profile = STACK_PROFILE_TUNED;
            } else if (!strcmp(optarg, "untuned")) {
                o->stack_profile = STACK_PROFILE_UNTUNED;
            } else {
                err_set(err, errlen, "--stack-profile: want tuned or untuned, not '%s'", optarg);
                return -1;
            }
            g->stack = "--stack-profile";
            break;
        case O_KEEP:
            o->keep = true;
            g->stack = "--keep";
            break;
        case O_TARGET:
            o->target = optarg;
            g->target = true;
            break;
        case 'f': g->config = optarg; break;
        case O_SECRET_FILE:
            o->secret_file = optarg;
            g->secret = "--secret-file";
            break;
        case O_SECRET_ENV:
            o->secret_env = optarg;
            g->secret = "--secret-env";
            break;
        case O_SIGN:
            if (!strcmp(optarg, "none")) {
                o->sign = SIGN_NONE;
            } else if (sign_parse_scheme(optarg, &o->sign) < 0) {
                err_set(err, errlen,
                        "--sign: unknown scheme '%s' (want standard-webhooks, stripe, github or "
                        "none)",
                        optarg);
                return -1;
            }
            g->secret = g->secret ? g->secret : "--sign";
            g->sign = true;
            break;
        case O_PID:
            if (parse_int(optarg, 1, 1 << 22, &v, sub, sizeof sub) < 0) goto sub;
            o->service_pid = (pid_t)v;
            g->pid = "--service-pid";
            break;
        case O_JSON: o->json_path = optarg; break;
        case O_START:
            if (parse_rate(optarg, &o->cap.start_rps, sub, sizeof sub) < 0) goto sub;
            g->search = "--start-rate";
            break;
        case O_FACTOR:
            if (number(optarg, "--factor", 1.01, 100, &o->cap.factor, err, errlen) < 0) return -1;
            g->search = "--factor";
            break;
        case O_MAX_RATE:
            if (parse_rate(optarg, &o->cap.max_rps, sub, sizeof sub) < 0) goto sub;
            g->search = "--max-rate";
            break;
        case O_STEP:
            if (duration(optarg, "--step", NS_PER_S, &ns, err, errlen) < 0) return -1;
            o->cap.step_s = (double)ns / NS_PER_S;
            g->search = "--step";
            break;
        case O_PAUSE:
            if (duration(optarg, "--pause", 0, &ns, err, errlen) < 0) return -1;
            o->cap.pause_s = (double)ns / NS_PER_S;
            g->search = "--pause";
            break;
        case O_WARMUP:
            if (duration(optarg, "--warmup", 0, &o->warmup_ns, err, errlen) < 0) return -1;
            g->search = "--warmup";
            break;
        case O_MAX_TIME:
            if (duration(optarg, "--max-time", NS_PER_S, &ns, err, errlen) < 0) return -1;
            o->cap.max_time_s = (double)ns / NS_PER_S;
            g->search = "--max-time";
            break;
        case O_MAX_STEPS:
            if (parse_int(optarg, 1, CAPACITY_STEPS_MAX, &v, sub, sizeof sub) < 0) goto sub;
            o->cap.max_steps = (int)v;
            g->search = "--max-steps";
            break;
        case O_RESOLUTION:
            if (number(optarg, "--resolution", 0.001, 0.5, &o->cap.resolution, err, errlen) < 0)
                return -1;
            g->search = "--resolution";
            break;
        case O_P99:
            if (number(optarg, "--p99-limit", 0.01, 3600000, &d, err, errlen) < 0) return -1;
            o->cap.p99_limit_ms = d;
            g->search = "--p99-limit";
            g->p99_limit = true;
            break;
        case O_ERRORS:
            if (number(optarg, "--error-limit", 0, 0.999, &o->cap.error_limit, err, errlen) < 0)
                return -1;
            g->search = "--error-limit";
            g->error_limit = true;
            break;
        case O_ACHIEVED:
            if (number(optarg, "--min-achieved", 0.01, 1, &o->cap.min_achieved, err, errlen) < 0)
                return -1;
            g->search = "--min-achieved";
            break;
        case O_SEGMENT:
            if (segment_parse(optarg, &o->seg, err, errlen) < 0) return -1;
            break;
        case O_START_AT:
            if (segment_parse_start_at(optarg, clock_wall_ns(), &o->start_at_ns, err, errlen) < 0)
                return -1;
            break;
        case 'q': o->quiet = true; break;
        case 'h': return 1;
        case ':':
            err_set(err, errlen, "option '%s' needs a value (see brink %s --help)",
                    argv[optind - 1], capacity ? "capacity" : "webhook");
            return -1;
        default:
            if (optopt)
                err_set(err, errlen, "unknown option '-%c' (see brink %s --help)", optopt,
                        capacity ? "capacity" : "webhook");
            else
                err_set(err, errlen, "unknown option '%s' (see brink %s --help)", argv[optind - 1],
                        capacity ? "capacity" : "webhook");
            return -1;
        }
    }
    return 0;
sub:
    err_set(err, errlen, "%s", sub);
    return -1;
}

/* The combinations, after parsing. */
static int check(webhook_opts *o, const given *g, int argc, char **argv, bool capacity, char *err,
                 size_t errlen) {
    if (capacity) {
        if (optind < argc) {
            err_set(err, errlen, "unexpected argument '%s' (brink capacity takes options only)",
                    argv[optind]);
            return -1;
        }
    } else {
        if (optind >= argc) {
            err_set(err, errlen, "missing profile (light, moderate, heavy or stress)");
            return -1;
        }
        if (optind + 1 < argc) {
            err_set(err, errlen, "unexpected argument '%s' after the profile", argv[optind + 1]);
            return -1;
        }
        o->profile = argv[optind];
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
            err_set(err, errlen, "%s goes with the search (brink webhook stress or brink capacity)",
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
    return 0;
}

/* -f FILE: the brink.yaml's target, signing, secret, body, headers and pid fill what the command
 * line left unset; its threshold overrides apply (without -f: the defaults). */
static int apply_config(webhook_opts *o, const given *g, config **cfg, char *url, size_t urllen,
                        char *err, size_t errlen) {
    *cfg = NULL;
    if (!g->config) return config_apply_thresholds(NULL, err, errlen);
    if (config_load(g->config, cfg, err, errlen) < 0) return -1;
    const config *c = *cfg;
    if (config_apply_thresholds(c, err, errlen) < 0) return -1;
    o->config_file = c->file;
    if (!g->target) {
        config_webhook_url(c, url, urllen);
        o->target = url;
    }
    if (!g->secret) { /* --sign, --secret-file and --secret-env replace the file's signing */
        o->sign = c->sign;
        o->secret_file = c->secret_file;
        o->secret_env = c->secret_env;
    }
    if (!g->pid) o->service_pid = config_service_pid(c);
    o->metrics_url = c->metrics_url;
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
    if (rc > 0) {
        if (capacity)
            usage_capacity();
        else
            usage_webhook();
        return EXIT_OK;
    }
    if (rc < 0) return EXIT_USAGE;
    config *cfg = NULL;
    char url[1024];
    if (apply_config(&o, &g, &cfg, url, sizeof url, err, errlen) < 0 ||
        check(&o, &g, argc, argv, capacity, err, errlen) < 0) {
        config_free(cfg);
        return EXIT_USAGE;
    }

    stop_flag = 0;
    o.stop = &stop_flag;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int status = webhook_run(&o, err, errlen);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
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
