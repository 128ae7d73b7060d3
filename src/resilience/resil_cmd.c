/* resil_cmd.c — the command line of the resilience tests (`brink redis-failure MODE`, `brink
 * db-restart MODE`): options (-f brink.yaml: the user's stack, each mode checked against what the
 * file configures before anything starts), the loop over modes for `all` (one fresh embedded
 * stack per mode, so that a mode never inherits another's damage; a user's stack is shared), the
 * terminal output, the result document (one mode: the mode's document; all: a document whose .runs
 * holds each mode's, with the worst numbers in .stats) and the exit status. */
#include "resilience/resil.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cli.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "core/json.h"
#include "core/stopsig.h"
#include "resilience/resil_int.h"
#include "config/config.h"
#include "config/preflight.h"

#define MAX_MODES 8

/* The summary of --help: what the test breaks, its modes, how a run goes. */
static void summary_text(resil_test t, char *buf, size_t len) {
    int n;
    const resil_mode *m = resil_modes(t, &n);
    bool redis = t == RESIL_REDIS;
    size_t k = (size_t)snprintf(
        buf, len, "%s\n\nModes:\n",
        redis ? "Breaks Redis under a constant webhook load and checks that the service keeps "
                "answering, recovers, drains its backlog and loses nothing."
              : "Restarts or degrades PostgreSQL under a constant webhook load (and accepts on "
                "existing orders) and checks recovery, connection-pool recovery, and that "
                "nothing acknowledged was lost or half-written.");
    for (int i = 0; i < n && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "  %-10s %s\n", m[i].name, m[i].what);
    if (k < len)
        snprintf(buf + k, len - k,
                 "  %-10s each of the above in turn, each on a fresh stack\n"
                 "\n"
                 "Each run: a fresh embedded stack (docs/stack.md), warm-up, baseline, fault, "
                 "recovery under an open-model load of signed webhooks (standard-webhooks, the "
                 "stack's secret), then a bounded wait for the backlog to drain and the audit by "
                 "SQL.\n"
                 "\n"
                 "With a sender option (--delivery, --retry-schedule, ...) the webhooks are "
                 "retried like a real sender's: the run also reports eventual delivery, the delay "
                 "of the events due during the fault and the retry storm after it "
                 "(docs/resilience.md).\n"
                 "\n"
                 "With -f brink.yaml the same runs go to your own stack (docs/config.md): the "
                 "webhooks to target.url, %s broken through dependencies.%s (network modes: its "
                 "toxiproxy API; process modes: its commands or pid), the backlog from probes:, "
                 "the audit from audit:, CPU and memory from target.service_pid; no accepts.",
                 "all", redis ? "Redis" : "PostgreSQL", redis ? "redis" : "postgresql");
}

/* --probe, repeatable: one more backlog probe (dest: the resil_opts). */
static int add_probe(const char *value, void *dest, char *err, size_t errlen) {
    resil_opts *o = dest;
    char why[256];
    if (o->nextra == RESIL_MAX_EXTRA) {
        snprintf(err, errlen, "too many --probe options (at most %d)", RESIL_MAX_EXTRA);
        return -1;
    }
    if (probe_spec_parse(value, &o->extra[o->nextra], why, sizeof why) < 0) {
        snprintf(err, errlen, "option '--probe': %s", why);
        return -1;
    }
    o->nextra++;
    return 0;
}

/* Options and modes; EXIT_OK to run, or another status. */
static int parse(resil_test t, int argc, char **argv, resil_opts *o, const resil_mode **modes,
                 int *nmodes, const char **json_path, const char **config_path, char *err,
                 size_t errlen) {
    bool redis = t == RESIL_REDIS, accept_given = false, profile_given = false, keep_given = false;
    memset(o, 0, sizeof *o);
    o->test = t;
    o->rate = 200; /* the other defaults are in the table */
    char summary[2560], why[320];
    summary_text(t, summary, sizeof summary);
    /* docs/distributed.md: why a resilience test is not split */
    snprintf(why, sizeof why,
             "brink %s does not take --segment or --start-at: the fault, its phases and the loss "
             "audit belong to one process that sees every request; run it from one machine",
             resil_test_name(t));
    const cli_cmd cmd = {
        .name = resil_test_name(t),
        .args = "[options] MODE",
        .summary = summary,
        .epilog = "Exit status: 0 nothing red; 99 a threshold is red (any lost or duplicated "
                  "webhook is); 2 bad usage; 3 the stack or the service failed; 130 interrupted.",
        .missing = "missing MODE",
        .min_args = 1,
        .max_args = 1,
    };
    /* clang-format off */
    const cli_opt opts[] = {
        CLI_CONFIG_AS(config_path, "your own stack, described by a brink.yaml"),
        CLI_RATE_AS(&o->rate, "webhooks per second (default 200)"),
        {.name = "accept-rate", .kind = CLI_DOUBLE, .dest = &o->accept_rate, .max = 1e8,
         .def = redis ? "0" : "20", .given = &accept_given, .meta = "RPS",
         .help = "accepts per second on orders seeded before the run (0: none)"},
        CLI_WARMUP_AS(&o->warmup_ns, NULL, "2s", "warm-up, not judged"),
        {.name = "baseline", .kind = CLI_DURATION, .dest = &o->baseline_ns, .min = NS_PER_S,
         .def = "5s", .meta = "D", .help = "baseline before the fault"},
        {.name = "fault", .kind = CLI_DURATION, .dest = &o->fault_ns, .min = 250 * NS_PER_MS,
         .def = "10s", .meta = "D", .help = "how long the fault lasts"},
        {.name = "recovery", .kind = CLI_DURATION, .dest = &o->recovery_ns, .min = 3 * NS_PER_S,
         .def = "15s", .meta = "D", .help = "after the dependency is back (at least 3s)"},
        CLI_TIMEOUT_AS(&o->timeout_ns, "client timeout of each request"),
        {.name = "drain-timeout", .kind = CLI_DURATION, .dest = &o->drain_timeout_ns,
         .def = "30s", .meta = "D", .help = "longest wait for the backlog to drain"},
        {.name = "latency-ms", .kind = CLI_INT64, .dest = &o->latency_ms, .min = 1,
         .max = 600000, .def = "200", .meta = "N", .help = "the latency mode's added delay"},
        CLI_STACK_PROFILE_AS(&o->profile, &profile_given,
                             redis ? "untuned is dispatchd --untuned with --ingest queue "
                                     "(so that Redis is on the request path)"
                                   : "untuned is dispatchd --untuned"),
        CLI_CONNECTIONS_AS(&o->connections,
                           "load connections (default rate x (timeout + 1 s), at least 32)"),
        CLI_THREADS_AS(&o->threads, "webhook load threads (default 2)"),
        {.name = "probe", .kind = CLI_FN, .fn = add_probe, .dest = o, .meta = "JSON",
         .help = "another probe, sampled every 250 ms beside the backlog (repeatable): "
                 "{\"kind\":\"redis|sql|http\",...} (brink probe --help); {service_url}, "
                 "{redis_url}, {pg_url} in its url name this run's stack"},
        DELIVERY_CLI_ROWS(&o->delivery),
        {.name = "threshold", .kind = CLI_FN, .fn = custom_th_add, .dest = &o->thresholds,
         .meta = "COND",
         .help = "a condition of your own on each mode's .stats, beside the built-in verdicts: "
                 "'recovery_s<=3', 'storm_peak_ratio<5' (repeatable; red: exit 99)"},
        CLI_JSON(json_path),
        CLI_KEEP_AS(&o->keep, &keep_given, "keep each stack's directory (data, logs)"),
        SEGMENT_CLI_REFUSED(why),
        CLI_QUIET_AS(&o->quiet, "only the verdicts"),
        CLI_HELP,
    };
    /* clang-format on */
    const char *name;
    int npos;
    int rc = cli_parse(&cmd, opts, CLI_NOPTS(opts), argc, argv, &name, 1, &npos, err, errlen);
    if (rc != CLI_OK) return rc == CLI_EXIT_HELP ? -1 : EXIT_USAGE;
    const char *stack_opt = profile_given ? "--stack-profile" : keep_given ? "--keep" : NULL;
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

static void agg_min(json_t *agg, json_t *st, const char *key) {
    json_t *v = json_object_get(st, key), *cur = json_object_get(agg, key);
    if (!v || json_is_null(v)) return;
    if (!cur || (json_is_number(cur) && json_number_value(v) < json_number_value(cur)))
        json_object_set(agg, key, v);
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
        /* with a sender: the worst mode's delivery and storm */
        static const char *const sender_maxes[] = {
            "delivery_delay_p99_s", "outage_delivery_delay_p99_s",
            "storm_peak_ratio",     "storm_error_rate",
            "storm_p99_ms",         "storm_relapse_s"};
        for (size_t k = 0; k < sizeof maxes / sizeof maxes[0]; k++) agg_max(stats, st, maxes[k]);
        for (size_t k = 0; k < sizeof sums / sizeof sums[0]; k++) agg_sum(stats, st, sums[k]);
        if (o->sender) {
            for (size_t k = 0; k < sizeof sender_maxes / sizeof sender_maxes[0]; k++)
                agg_max(stats, st, sender_maxes[k]);
            agg_sum(stats, st, "gave_up");
            agg_min(stats, st, "eventual_delivery_rate");
        }
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
    int nstat;
    const char *const *stat = resil_report_stat_names(&nstat);
    if (custom_th_check(&o.thresholds, stat, nstat, err, errlen) < 0) {
        config_free(cfg);
        return EXIT_USAGE;
    }
    /* the sender: the command line, then brink.yaml's delivery:; refused before anything starts */
    config_sender_args(cfg, &o.delivery, NULL);
    int64_t planned = o.warmup_ns + o.baseline_ns + o.fault_ns + o.recovery_ns;
    if (delivery_args_check(&o.delivery, planned, o.timeout_ns, true, &o.sender, &o.sender_drain_ns,
                            err, errlen) < 0) {
        config_free(cfg);
        return EXIT_USAGE;
    }
    /* your own stack: what the run will need is tried first (seconds, no load): a mistake in
     * brink's configuration is not reported after a whole run as a verdict on the service */
    preflight pf = {.cfg = cfg, .json_path = json_path, .audit = true, .probes = true};
    char target[1024];
    if (cfg) {
        config_webhook_url(cfg, target, sizeof target);
        pf.target_url = target;
        const deps_dep *d = resil_user_dep(cfg, modes[0]);
        pf.deps[0] = d ? d->name : NULL;
        for (int i = 0; i < nmodes; i++) pf.proxy[0] |= resil_network_mode(modes[i]);
    }
    st = preflight_run(&pf, err, errlen);
    if (st != EXIT_OK) {
        config_free(cfg);
        return st;
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

    stopsig sig;
    volatile sig_atomic_t *stop = o.stop = stopsig_catch(&sig);

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
    for (int i = 0; i < nmodes && !*stop; i++) {
        const resil_mode *m = modes[i];
        if (!o.quiet && nmodes > 1)
            fprintf(out, "── %s %s (%d/%d) ──\n", resil_test_name(t), m->name, i + 1, nmodes);
        resil_run run;
        char why[512] = "";
        rows[i] = (struct row){.mode = m->name};
        if (resil_run_mode(&o, m, &run, why, sizeof why) < 0) {
            resil_run_free(&run);
            if (*stop) {
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
        th_result rs[RESIL_MAX_RESULTS + CUSTOM_TH_MAX];
        int nrs = 0;
        json_t *doc = resil_report_json(&run, rs, &nrs);
        custom_th_apply(&o.thresholds, doc, rs, &nrs, (int)(sizeof rs / sizeof rs[0]));
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
    if (*stop) interrupted = true;
    stopsig_release(&sig);

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
