/* resil_cmd.c — the command line of the resilience tests (`brink redis-failure MODE`, `brink
 * db-restart MODE`): options (-f brink.yaml: the user's stack, each mode checked against what the
 * file configures before anything starts), the loop over modes for `all` (one fresh embedded
 * stack per mode, so that a mode never inherits another's damage; a user's stack is shared), the
 * terminal output, the result document (one mode: the mode's document; all: a document whose .runs
 * holds each mode's, with the worst numbers in .stats) and the exit status. */
#include "resilience/resil.h"

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
#include "core/json.h"
#include "resilience/resil_int.h"
#include "config/config.h"

#define MAX_MODES 8

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static void usage(resil_test t) {
    int n;
    const resil_mode *m = resil_modes(t, &n);
    printf("Usage: brink %s MODE [options]\n\n", resil_test_name(t));
    if (t == RESIL_REDIS)
        printf("Breaks Redis under a constant webhook load and checks that the service keeps\n"
               "answering, recovers, drains its backlog and loses nothing.\n\n");
    else
        printf("Restarts or degrades PostgreSQL under a constant webhook load (and accepts on\n"
               "existing orders) and checks recovery, connection-pool recovery, and that nothing\n"
               "acknowledged was lost or half-written.\n\n");
    printf("Modes:\n");
    for (int i = 0; i < n; i++) printf("  %-10s %s\n", m[i].name, m[i].what);
    printf("  %-10s each of the above in turn, each on a fresh stack\n", "all");
    printf(
        "\n"
        "Each run: a fresh embedded stack (docs/stack.md), warm-up, baseline, fault, recovery\n"
        "under an open-model load of signed webhooks (standard-webhooks, the stack's secret),\n"
        "then a bounded wait for the backlog to drain and the audit by SQL.\n"
        "\n"
        "With -f brink.yaml the same runs go to your own stack (docs/config.md): the webhooks\n"
        "to target.url, %s broken through dependencies.%s (network modes: its\n"
        "toxiproxy API; process modes: its commands or pid), the backlog from probes:, the\n"
        "audit from audit:, CPU and memory from target.service_pid; no accepts.\n"
        "\n"
        "Options:\n"
        "  -f, --config FILE       your own stack, described by a brink.yaml\n"
        "  -R, --rate RPS          webhooks per second (default 200)\n"
        "      --accept-rate RPS   accepts per second on orders seeded before the run\n"
        "                          (default %s; 0: none)\n"
        "      --warmup D          warm-up (default 2s)\n"
        "      --baseline D        baseline before the fault (default 5s)\n"
        "      --fault D           how long the fault lasts (default 10s)\n"
        "      --recovery D        after the dependency is back (default 15s, at least 3s)\n"
        "      --timeout D         client timeout of each request (default 5s)\n"
        "      --drain-timeout D   longest wait for the backlog to drain (default 30s)\n"
        "      --latency-ms N      the latency mode's added delay (default 200)\n"
        "      --stack-profile P   tuned (default) or untuned: dispatchd --untuned%s\n"
        "  -c, --connections N     load connections (default rate x (timeout + 1 s), >= 32)\n"
        "  -t, --threads N         webhook load threads (default 2)\n"
        "      --probe JSON        another probe, sampled every 250 ms beside the backlog\n"
        "                          (repeatable): {\"kind\":\"redis|sql|http\",...} (brink probe\n"
        "                          --help); {service_url}, {redis_url}, {pg_url} in its url\n"
        "                          name this run's stack\n"
        "      --json FILE         write the result document (- for stdout)\n"
        "      --keep              keep each stack's directory (data, logs)\n"
        "  -q, --quiet             only the verdicts\n"
        "  -h, --help              this help\n"
        "\n"
        "Exit status: 0 nothing red; 99 a threshold is red (any lost or duplicated webhook\n"
        "is); 2 bad usage; 3 the stack or the service failed; 130 interrupted.\n",
        t == RESIL_REDIS ? "Redis" : "PostgreSQL", t == RESIL_REDIS ? "redis" : "postgresql",
        t == RESIL_REDIS ? "0" : "20",
        t == RESIL_REDIS ? "\n                          (with --ingest queue, so Redis is on "
                           "the request path)"
                         : "");
}

enum {
    O_ACCEPT = 1000,
    O_WARMUP,
    O_BASELINE,
    O_FAULT,
    O_RECOVERY,
    O_TIMEOUT,
    O_DRAIN,
    O_LATENCY,
    O_PROFILE,
    O_PROBE,
    O_JSON,
    O_KEEP,
    O_SEGMENT,
};

static const struct option long_opts[] = {
    {"rate", required_argument, 0, 'R'},
    {"accept-rate", required_argument, 0, O_ACCEPT},
    {"warmup", required_argument, 0, O_WARMUP},
    {"baseline", required_argument, 0, O_BASELINE},
    {"fault", required_argument, 0, O_FAULT},
    {"recovery", required_argument, 0, O_RECOVERY},
    {"timeout", required_argument, 0, O_TIMEOUT},
    {"drain-timeout", required_argument, 0, O_DRAIN},
    {"latency-ms", required_argument, 0, O_LATENCY},
    {"stack-profile", required_argument, 0, O_PROFILE},
    {"connections", required_argument, 0, 'c'},
    {"threads", required_argument, 0, 't'},
    {"probe", required_argument, 0, O_PROBE},
    {"json", required_argument, 0, O_JSON},
    {"keep", no_argument, 0, O_KEEP},
    {"segment", required_argument, 0, O_SEGMENT},
    {"start-at", required_argument, 0, O_SEGMENT},
    {"config", required_argument, 0, 'f'},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int duration(const char *s, int64_t min, int64_t *out, const char *name, char *err,
                    size_t errlen) {
    char sub[200];
    if (parse_duration_ns(s, out, sub, sizeof sub) < 0) {
        snprintf(err, errlen, "%s: %s", name, sub);
        return -1;
    }
    if (*out < min) {
        snprintf(err, errlen, "%s must be at least %.3gs", name, (double)min / NS_PER_S);
        return -1;
    }
    return 0;
}

/* Options and modes; EXIT_OK to run, or another status. */
static int parse(resil_test t, int argc, char **argv, resil_opts *o, const resil_mode **modes,
                 int *nmodes, const char **json_path, const char **config_path, char *err,
                 size_t errlen) {
    const char *stack_opt = NULL;
    bool accept_given = false;
    memset(o, 0, sizeof *o);
    o->test = t;
    o->rate = 200;
    o->accept_rate = t == RESIL_DB ? 20 : 0;
    o->warmup_ns = 2 * NS_PER_S;
    o->baseline_ns = 5 * NS_PER_S;
    o->fault_ns = 10 * NS_PER_S;
    o->recovery_ns = 15 * NS_PER_S;
    o->timeout_ns = 5 * NS_PER_S;
    o->drain_timeout_ns = 30 * NS_PER_S;
    o->latency_ms = 200;
    o->profile = STACK_PROFILE_TUNED;
    char sub[256];
    int64_t v;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":R:c:t:f:qh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'R':
            if (parse_rate(optarg, &o->rate, sub, sizeof sub) < 0) goto sub;
            break;
        case O_ACCEPT:
            accept_given = true;
            if (!strcmp(optarg, "0")) {
                o->accept_rate = 0;
            } else if (parse_rate(optarg, &o->accept_rate, sub, sizeof sub) < 0) {
                goto sub;
            }
            break;
        case O_WARMUP:
            if (duration(optarg, 0, &o->warmup_ns, "--warmup", err, errlen) < 0) return EXIT_USAGE;
            break;
        case O_BASELINE:
            if (duration(optarg, NS_PER_S, &o->baseline_ns, "--baseline", err, errlen) < 0)
                return EXIT_USAGE;
            break;
        case O_FAULT:
            if (duration(optarg, 250 * NS_PER_MS, &o->fault_ns, "--fault", err, errlen) < 0)
                return EXIT_USAGE;
            break;
        case O_RECOVERY:
            if (duration(optarg, 3 * NS_PER_S, &o->recovery_ns, "--recovery", err, errlen) < 0)
                return EXIT_USAGE;
            break;
        case O_TIMEOUT:
            if (duration(optarg, 10 * NS_PER_MS, &o->timeout_ns, "--timeout", err, errlen) < 0)
                return EXIT_USAGE;
            break;
        case O_DRAIN:
            if (duration(optarg, 0, &o->drain_timeout_ns, "--drain-timeout", err, errlen) < 0)
                return EXIT_USAGE;
            break;
        case O_LATENCY:
            if (parse_int(optarg, 1, 600000, &o->latency_ms, sub, sizeof sub) < 0) goto sub;
            break;
        case O_PROFILE:
            if (!strcmp(optarg, "tuned")) {
                o->profile = STACK_PROFILE_TUNED;
            } else if (!strcmp(optarg, "untuned")) {
                o->profile = STACK_PROFILE_UNTUNED;
            } else {
                snprintf(err, errlen, "--stack-profile: want tuned or untuned, not '%s'", optarg);
                return EXIT_USAGE;
            }
            stack_opt = "--stack-profile";
            break;
        case 'c':
            if (parse_int(optarg, 1, 100000, &v, sub, sizeof sub) < 0) goto sub;
            o->connections = (int)v;
            break;
        case 't':
            if (parse_int(optarg, 1, 256, &v, sub, sizeof sub) < 0) goto sub;
            o->threads = (int)v;
            break;
        case O_PROBE:
            if (o->nextra == RESIL_MAX_EXTRA) {
                snprintf(err, errlen, "too many --probe options (at most %d)", RESIL_MAX_EXTRA);
                return EXIT_USAGE;
            }
            if (probe_spec_parse(optarg, &o->extra[o->nextra], err, errlen) < 0) return EXIT_USAGE;
            o->nextra++;
            break;
        case O_JSON: *json_path = optarg; break;
        case O_KEEP:
            o->keep = true;
            stack_opt = "--keep";
            break;
        case 'f': *config_path = optarg; break;
        case O_SEGMENT: /* docs/distributed.md: why a resilience test is not split */
            snprintf(err, errlen,
                     "brink %s does not take --segment or --start-at: the fault, its phases and "
                     "the loss audit belong to one process that sees every request; run it from "
                     "one machine",
                     resil_test_name(t));
            return EXIT_USAGE;
        case 'q': o->quiet = true; break;
        case 'h': usage(t); return -1;
        case ':':
            snprintf(err, errlen, "option '%s' needs a value (see brink %s --help)",
                     argv[optind - 1], resil_test_name(t));
            return EXIT_USAGE;
        default:
            snprintf(err, errlen, "unknown option '%s' (see brink %s --help)", argv[optind - 1],
                     resil_test_name(t));
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        snprintf(err, errlen, "missing MODE (see brink %s --help)", resil_test_name(t));
        return EXIT_USAGE;
    }
    if (optind + 1 < argc) {
        snprintf(err, errlen, "unexpected argument '%s' after the mode", argv[optind + 1]);
        return EXIT_USAGE;
    }
    const char *name = argv[optind];
    if (!strcmp(name, "all")) {
        int n;
        const resil_mode *all = resil_modes(t, &n);
        for (int i = 0; i < n && i < MAX_MODES; i++) modes[i] = &all[i];
        *nmodes = n;
    } else {
        const resil_mode *m = resil_mode_find(t, name);
        if (!m) {
            int n;
            const resil_mode *all = resil_modes(t, &n);
            char list[256] = "";
            for (int i = 0; i < n; i++) {
                strncat(list, all[i].name, sizeof list - strlen(list) - 1);
                strncat(list, "|", sizeof list - strlen(list) - 1);
            }
            snprintf(err, errlen, "unknown mode '%s' (want %sall)", name, list);
            return EXIT_USAGE;
        }
        modes[0] = m;
        *nmodes = 1;
    }
    if (*config_path) {
        if (stack_opt) {
            snprintf(err, errlen, "%s is for the embedded stack, not for -f (your own stack)",
                     stack_opt);
            return EXIT_USAGE;
        }
        if (accept_given && o->accept_rate > 0) {
            snprintf(err, errlen,
                     "--accept-rate needs dispatchd's accept protocol: it does not go with -f "
                     "(your own stack)");
            return EXIT_USAGE;
        }
        o->accept_rate = 0;
    }
    if (o->rate *
            (double)(o->warmup_ns + o->baseline_ns + o->fault_ns + o->recovery_ns +
                     120 * NS_PER_S) /
            NS_PER_S >
        50e6) {
        snprintf(err, errlen, "the run is too long for its rate (at most 50 million requests)");
        return EXIT_USAGE;
    }
    return EXIT_OK;
sub:
    snprintf(err, errlen, "%s", sub);
    return EXIT_USAGE;
}

/* ---- `all`: one document over every mode ------------------------------------------------------
 */

static void agg_max(json_t *agg, json_t *st, const char *key) {
    json_t *v = json_object_get(st, key), *cur = json_object_get(agg, key);
    if (!v) return;
    if (json_is_null(v)) { /* not recovered / not drained: the worst */
        json_object_set_new(agg, key, json_null());
        return;
    }
    if (!cur || (json_is_number(cur) && json_number_value(v) > json_number_value(cur)))
        json_object_set(agg, key, v);
}

static void agg_sum(json_t *agg, json_t *st, const char *key) {
    json_t *v = json_object_get(st, key), *cur = json_object_get(agg, key);
    if (!v) return;
    if (json_is_null(v) || (cur && json_is_null(cur))) {
        json_object_set_new(agg, key, json_null());
        return;
    }
    json_int_t s = (cur ? json_integer_value(cur) : 0) + json_integer_value(v);
    json_object_set_new(agg, key, json_integer(s));
}

static json_t *all_doc(resil_test t, const resil_opts *o, json_t *runs, int64_t start_wall,
                       double duration_s) {
    json_t *doc = json_object();
    char when[32];
    clock_format_utc(start_wall, when);
    json_object_set_new(doc, "schema", json_string(JX_SCHEMA));
    json_object_set_new(doc, "test", json_string(resil_test_name(t)));
    json_object_set_new(doc, "mode", json_string("all"));
    json_object_set_new(
        doc, "profile",
        o->cfg ? json_null()
               : json_string(o->profile == STACK_PROFILE_UNTUNED ? "untuned" : "tuned"));
    json_object_set_new(doc, "started_at", json_string(when));
    json_object_set_new(doc, "duration_s", json_real(jx_round3(duration_s)));
    json_object_set_new(doc, "target", json_null());
    json_t *cfg = json_object();
    json_t *names = json_array();
    json_t *stats = json_object();
    json_t *th = json_array(), *adv = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(runs, i, r) {
        const char *mode = json_string_value(json_object_get(r, "mode"));
        json_array_append_new(names, json_string(mode ? mode : "?"));
        json_t *st = json_object_get(r, "stats");
        if (!st) continue;
        static const char *const maxes[] = {"outage_error_rate", "outage_p99_ms", "max_backlog",
                                            "drain_s",           "downtime_s",    "recovery_s",
                                            "pool_recovery_s",   "error_rate",    "service_cpu_pct",
                                            "service_rss_mib"};
        static const char *const sums[] = {"requests", "errors",     "accepted",
                                           "lost",     "duplicated", "integrity_violations"};
        for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++) agg_max(stats, st, maxes[k]);
        for (size_t k = 0; k < sizeof sums / sizeof sums[0]; k++) agg_sum(stats, st, sums[k]);
        const char *arrs[] = {"thresholds", "advice"};
        json_t *dst[] = {th, adv};
        for (int k = 0; k < 2; k++) {
            size_t j;
            json_t *e;
            json_array_foreach(json_object_get(r, arrs[k]), j, e) {
                json_t *c = json_deep_copy(e);
                json_object_set_new(c, "mode", json_string(mode ? mode : "?"));
                json_array_append_new(dst[k], c);
            }
        }
    }
    json_object_set_new(cfg, "modes", names);
    json_object_set_new(cfg, "rate", json_real(o->rate));
    json_object_set_new(cfg, "accept_rate", json_real(o->accept_rate));
    json_object_set_new(doc, "config", cfg);
    json_object_set_new(doc, "stats", stats);
    json_object_set_new(doc, "thresholds", th);
    json_object_set_new(doc, "advice", adv);
    json_object_set_new(doc, "timeline", json_array());
    json_object_set_new(doc, "runs", json_incref(runs));
    return doc;
}

static const char *mark(th_status s) {
    return s == TH_RED ? "🔴" : s == TH_ORANGE ? "🟠" : "🟢";
}

static void cell(char *out, size_t n, double v, const char *fmt, double scale) {
    if (isnan(v))
        snprintf(out, n, "-");
    else if (isinf(v))
        snprintf(out, n, "never");
    else
        snprintf(out, n, fmt, v * scale);
}

static double stat(json_t *doc, const char *key) {
    json_t *v = json_object_get(json_object_get(doc, "stats"), key);
    if (!v) return NAN;
    if (json_is_null(v)) return INFINITY;
    return json_number_value(v);
}

/* ---- main ------------------------------------------------------------------------------------ */

static int run_modes(resil_test t, resil_opts *opts, const resil_mode *const *modes, int nmodes,
                     const char *json_path, char *err, size_t errlen);

static int resil_main(resil_test t, int argc, char **argv, char *err, size_t errlen) {
    resil_opts o;
    const resil_mode *modes[MAX_MODES];
    int nmodes = 0;
    const char *json_path = NULL, *config_path = NULL;
    int st = parse(t, argc, argv, &o, modes, &nmodes, &json_path, &config_path, err, errlen);
    if (st == -1) return EXIT_OK;
    if (st != EXIT_OK) return st;
    /* -f: the user's stack; every mode asked for must have its mechanism in the file */
    config *cfg = NULL;
    if (config_path && config_load(config_path, &cfg, err, errlen) < 0) return EXIT_USAGE;
    for (int i = 0; cfg && i < nmodes; i++) {
        if (resil_user_check(cfg, modes[i], err, errlen) < 0) {
            config_free(cfg);
            return EXIT_USAGE;
        }
    }
    if (cfg && cfg->sign != SIGN_NONE) { /* a secret that cannot be read is the user's mistake */
        size_t len;
        char *secret = config_read_secret(cfg, &len, err, errlen);
        if (!secret) {
            config_free(cfg);
            return EXIT_USAGE;
        }
        memset(secret, 0, len);
        free(secret);
    }
    if (config_apply_thresholds(cfg, err, errlen) < 0) {
        config_free(cfg);
        return EXIT_USAGE;
    }
    o.cfg = cfg;
    st = run_modes(t, &o, modes, nmodes, json_path, err, errlen);
    config_free(cfg);
    return st;
}

static int run_modes(resil_test t, resil_opts *opts, const resil_mode *const *modes, int nmodes,
                     const char *json_path, char *err, size_t errlen) {
    resil_opts o = *opts;
    bool json_stdout = json_path && !strcmp(json_path, "-");
    FILE *out = json_stdout ? stderr : stdout;

    stop_flag = 0;
    o.stop = &stop_flag;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    int64_t start_wall = clock_wall_ns(), start = clock_now_ns();
    json_t *runs = json_array();
    th_status worst = TH_GREEN;
    int failures = 0;
    bool interrupted = false;
    char first_err[512] = "";
    struct row {
        const char *mode;
        double err_rate, p99, backlog, recovery, lost, dup;
        th_status verdict;
        bool failed;
    } rows[MAX_MODES];
    for (int i = 0; i < nmodes && !stop_flag; i++) {
        const resil_mode *m = modes[i];
        if (!o.quiet && nmodes > 1)
            fprintf(out, "── %s %s (%d/%d) ──\n", resil_test_name(t), m->name, i + 1, nmodes);
        resil_run run;
        char why[512] = "";
        rows[i] = (struct row){.mode = m->name};
        if (resil_run_mode(&o, m, &run, why, sizeof why) < 0) {
            resil_run_free(&run);
            if (stop_flag) {
                interrupted = true;
                break;
            }
            failures++;
            rows[i].failed = true;
            if (!first_err[0]) err_set(first_err, sizeof first_err, "%s: %s", m->name, why);
            fprintf(stderr, "brink %s %s: %s\n", resil_test_name(t), m->name, why);
            json_t *e = json_object();
            json_object_set_new(e, "mode", json_string(m->name));
            json_object_set_new(e, "error", json_string(why));
            json_array_append_new(runs, e);
            continue;
        }
        th_result rs[RESIL_MAX_RESULTS];
        int nrs = 0;
        json_t *doc = resil_report_json(&run, rs, &nrs);
        if (o.quiet)
            threshold_print(out, rs, nrs);
        else
            resil_report_terminal(out, &run, rs, nrs);
        if (nmodes > 1) fprintf(out, "\n");
        th_status w = threshold_worst(rs, nrs);
        if (w > worst) worst = w;
        rows[i] = (struct row){m->name,
                               stat(doc, "outage_error_rate"),
                               stat(doc, "outage_p99_ms"),
                               stat(doc, "max_backlog"),
                               stat(doc, "recovery_s"),
                               stat(doc, "lost"),
                               stat(doc, "duplicated"),
                               w,
                               false};
        json_array_append_new(runs, doc);
        resil_run_free(&run);
    }
    if (stop_flag) interrupted = true;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    int done = (int)json_array_size(runs);
    if (nmodes > 1 && done > 0) {
        fprintf(out, "%-10s %12s %12s %12s %12s %6s %6s  verdict\n", "mode", "outage err",
                "outage p99", "max backlog", "recovery", "lost", "dup");
        for (int i = 0; i < done && i < nmodes; i++) {
            struct row *r = &rows[i];
            if (r->failed) {
                fprintf(out, "%-10s failed\n", r->mode);
                continue;
            }
            char a[32], b[32], c[32], d[32], e[32], f[32];
            cell(a, sizeof a, r->err_rate, "%.2f%%", 100);
            cell(b, sizeof b, r->p99, "%.1f ms", 1);
            cell(c, sizeof c, r->backlog, "%.0f", 1);
            cell(d, sizeof d, r->recovery, "%.2f s", 1);
            cell(e, sizeof e, r->lost, "%.0f", 1);
            cell(f, sizeof f, r->dup, "%.0f", 1);
            fprintf(out, "%-10s %12s %12s %12s %12s %6s %6s  %s\n", r->mode, a, b, c, d, e, f,
                    mark(r->verdict));
        }
    }
    int status = EXIT_OK;
    if (json_path && done > 0 && !(nmodes == 1 && failures)) {
        json_t *doc = nmodes == 1 ? json_incref(json_array_get(runs, 0))
                                  : all_doc(t, &o, runs, start_wall,
                                            (double)(clock_now_ns() - start) / NS_PER_S);
        if (jx_write_json(doc, json_path, err, errlen) < 0) status = EXIT_FAILURE_;
        json_decref(doc);
    }
    json_decref(runs);
    if (status != EXIT_OK) return status;
    if (interrupted) {
        snprintf(err, errlen, "interrupted");
        return EXIT_INTERRUPTED;
    }
    if (failures) {
        snprintf(err, errlen, "%s", first_err);
        return EXIT_UNREACHABLE;
    }
    if (worst == TH_RED) {
        snprintf(err, errlen, "a threshold is red (see the verdicts above)");
        return EXIT_THRESHOLDS;
    }
    return EXIT_OK;
}

int resil_redis_main(int argc, char **argv, char *err, size_t errlen) {
    return resil_main(RESIL_REDIS, argc, argv, err, errlen);
}

int resil_db_main(int argc, char **argv, char *err, size_t errlen) {
    return resil_main(RESIL_DB, argc, argv, err, errlen);
}
