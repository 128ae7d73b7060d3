/* load_cmd.c — `brink load [options] URL`: wrk-compatible options (plus wrk2's -R and brink's
 * stages, templates and signing, and the scale-out segments of load/segment.h), validated
 * completely before any traffic; then the wait for --start-at, the run, a live line per second on
 * a TTY, the terminal summary and the JSON result. */
#include "cmd/load_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/clock.h"
#include "core/exitcode.h"
#include "core/hdrlog.h"
#include "core/json.h"
#include "core/parse.h"
#include "core/secret.h"
#include "core/stopsig.h"
#include "load/engine.h"
#include "load/load_report.h"
#include "config/scenario_yaml.h"
#include "load/scenario_report.h"
#include "verdict/custom_th.h"

#define MAX_HEADERS 64
#define MAX_BODY    (64 * 1024 * 1024)

static const cli_cmd load_cli = {
    .name = "load",
    .args = "[options] URL\n-f SCENARIO [options] [URL]",
    .summary =
        "Sends HTTP requests to URL and measures throughput and latency.\n"
        "Closed model by default (each connection sends when its previous request is done); -R "
        "or --stages select the open model: requests are due on a schedule and latency is "
        "measured from each request's intended send time (corrected for coordinated omission, "
        "as wrk2 does), and separately from its actual send time.",
    .epilog = "Templates in the URL path, headers and body, rendered per request:\n"
              "  {{seq}} {{uuid}} {{rand:A-B}} {{now_s}} {{now_ms}} {{conn}} {{thread}} {{run}}\n"
              "\n"
              "A scenario (-f FILE, docs/scenarios.md) sends named requests mixed by weight and "
              "flows of steps that capture values from responses, checks every response (status, "
              "JSON paths) and reports by request name; URL, when given, overrides its target.\n"
              "\n"
              "Exit status: 0 done; 2 bad usage (nothing sent); 3 no response at all from the "
              "target; 99 a --threshold is red; 130 interrupted (partial result printed and "
              "written).",
    .missing = "missing URL",
    .min_args = 0,
    .max_args = 1,
};

/* -H, repeatable: the headers in order, and their names for the report. */
typedef struct header_list {
    engine_header h[MAX_HEADERS];
    const char *names[MAX_HEADERS];
    char name_buf[MAX_HEADERS][64];
    int n;
} header_list;

static int add_header(const char *value, void *dest, char *err, size_t errlen) {
    header_list *l = dest;
    if (l->n == MAX_HEADERS) {
        snprintf(err, errlen, "option '--header': too many headers (at most %d)", MAX_HEADERS);
        return -1;
    }
    l->h[l->n].text = value;
    snprintf(l->name_buf[l->n], sizeof l->name_buf[l->n], "%.*s", (int)strcspn(value, ":"), value);
    l->names[l->n] = l->name_buf[l->n];
    l->n++;
    return 0;
}

typedef struct stage_list {
    parse_stage *st;
    int n;
    const char *text;
} stage_list;

static int set_stages(const char *value, void *dest, char *err, size_t errlen) {
    stage_list *l = dest;
    char sub[256];
    free(l->st);
    l->st = NULL;
    if (parse_stages(value, &l->st, &l->n, sub, sizeof sub) < 0) {
        snprintf(err, errlen, "option '--stages': %s", sub);
        return -1;
    }
    l->text = value;
    return 0;
}

static int set_sign(const char *value, void *dest, char *err, size_t errlen) {
    if (sign_parse_scheme(value, dest) == 0) return 0;
    snprintf(err, errlen,
             "option '--sign': unknown signing scheme '%s' (want standard-webhooks, stripe or "
             "github)",
             value);
    return -1;
}

static int set_segment(const char *value, void *dest, char *err, size_t errlen) {
    engine_config *cfg = dest;
    if (segment_parse(value, &cfg->seg, err, errlen) < 0) return -1;
    cfg->timeline_hdr = true; /* per-second percentiles stay mergeable */
    return 0;
}

static char *read_body_file(const char *path, size_t *len, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read body file %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_BODY) {
        fclose(f);
        snprintf(err, errlen, "body file %s is not a regular file of at most 64 MiB", path);
        return NULL;
    }
    char *b = malloc((size_t)st.st_size + 1);
    size_t n = b ? fread(b, 1, (size_t)st.st_size, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!b || bad || n != (size_t)st.st_size) {
        free(b);
        snprintf(err, errlen, "cannot read body file %s", path);
        return NULL;
    }
    b[n] = '\0';
    *len = n;
    return b;
}

static void on_second(void *ud, const engine_second *s) {
    load_progress_second(ud, stderr, s);
}

/* Everything the command line says: the engine's configuration and the command's own settings. */
typedef struct load_args {
    engine_config cfg;
    delivery_args dl;
    lifecycle_args ev;
    bool duration_set, latency, quiet, dry_run;
    const char *body_arg, *body_file, *secret_env, *secret_file, *json_path, *hdr_log_path;
    const char *scenario_path; /* -f */
    bool method_set;
    scenario sc;
    bool have_sc;
    int64_t start_at;
    header_list hl;
    stage_list stages;
    custom_th_list th;         /* --threshold */
    char *body_owned, *secret; /* freed by load_args_free */
} load_args;

/* Reads argv into a against the option table: CLI_OK, CLI_EXIT_HELP or CLI_ERROR. */
static int load_args_parse(load_args *a, int argc, char **argv, char *err, size_t errlen) {
    engine_config *cfg = &a->cfg;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->threads = cores > 0 ? (int)cores : 1; /* the other defaults are in the table */
    /* one option a row: the table reads as a table */
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "connections", .short_name = 'c', .kind = CLI_INT, .dest = &cfg->connections,
         .min = 1, .max = 1000000, .def = "64", .meta = "N", .help = "connections to keep open"},
        {.name = "threads", .short_name = 't', .kind = CLI_INT, .dest = &cfg->threads, .min = 1,
         .max = 1024, .meta = "N", .help = "threads (default: the number of cores)"},
        {.name = "duration", .short_name = 'd', .kind = CLI_DURATION, .dest = &cfg->duration_ns,
         .min = 1, .def = "10s", .given = &a->duration_set,
         .meta = "D", .help = "how long to send: 500ms, 10s, 2m, 1h"},
        {.name = "requests", .short_name = 'n', .kind = CLI_INT64, .dest = &cfg->max_requests,
         .min = 1, .max = (double)(INT64_MAX / 2),
         .meta = "N", .help = "stop after N requests (no time limit unless -d is given)"},
        CLI_RATE_AS(&cfg->rate, "open model at a constant rate of RPS requests per second"),
        {.name = "stages", .kind = CLI_FN, .fn = set_stages, .dest = &a->stages, .meta = "LIST",
         .help = "open model ramping linearly between targets, starting at -R (default 0): "
                 "e.g. 10s:100,30s:2000,10s:0"},
        {.name = "method", .short_name = 'm', .kind = CLI_STR, .dest = &cfg->method, .def = "GET",
         .given = &a->method_set, .meta = "M", .help = "request method"},
        {.name = "scenario", .short_name = 'f', .kind = CLI_STR, .dest = &a->scenario_path,
         .meta = "FILE", .help = "run the scenario in FILE: named requests mixed by weight, "
                                 "flows, checks, thresholds (docs/scenarios.md)"},
        {.name = "header", .short_name = 'H', .kind = CLI_FN, .fn = add_header, .dest = &a->hl,
         .meta = "\"K: V\"", .help = "add a header (repeatable)"},
        {.name = "body", .short_name = 'b', .kind = CLI_STR, .dest = &a->body_arg, .meta = "TEXT",
         .help = "request body; @FILE reads it from FILE, as curl does (for a body that starts "
                 "with @ itself, put it in a file)"},
        {.name = "body-file", .kind = CLI_STR, .dest = &a->body_file, .meta = "F",
         .help = "request body from file F (the same as -b @F)"},
        CLI_TIMEOUT(&cfg->timeout_ns),
        {.name = "reconnect-backoff", .kind = CLI_DURATION, .dest = &cfg->reconnect_backoff_ns,
         .min = 0, .def = "1s", .meta = "D",
         .help = "after a failed connect a connection waits 10 ms, doubling up to D, before it "
                 "connects again (0: at once)"},
        {.name = "insecure", .kind = CLI_FLAG, .dest = &cfg->insecure,
         .help = "do not verify TLS certificates"},
        {.name = "sign", .kind = CLI_FN, .fn = set_sign, .dest = &cfg->sign, .meta = "SCHEME",
         .help = "sign each request: standard-webhooks, stripe or github"},
        CLI_SECRET_ENV(&a->secret_env),
        CLI_SECRET_FILE(&a->secret_file),
        CLI_JSON(&a->json_path),
        {.name = "hdr-log", .kind = CLI_STR, .dest = &a->hdr_log_path, .meta = "FILE",
         .help = "write an HdrHistogram interval log, one interval a second"},
        {.name = "latency", .kind = CLI_FLAG, .dest = &a->latency,
         .help = "print the full latency percentile spectrum"},
        {.name = "dry-run", .kind = CLI_FLAG, .dest = &a->dry_run,
         .help = "print the first request as it would be sent; send nothing"},
        SEGMENT_CLI_ROW(set_segment, cfg,
            "run segment I of N of this load (N brink processes, e.g. on N machines, together "
            "send the load given here once: each takes every N-th request of the schedule, its "
            "share of -c and -n; {{seq}} values stay disjoint). brink merge adds their --json "
            "documents up (docs/distributed.md)"),
        SEGMENT_CLI_START_AT(&a->start_at),
        DELIVERY_CLI_ROWS(&a->dl),
        LIFECYCLE_CLI_ROWS(&a->ev),
        {.name = "threshold", .kind = CLI_FN, .fn = custom_th_add, .dest = &a->th, .meta = "COND",
         .help = "a condition the run must meet, judged on its .stats: 'p99_ms<500', "
                 "'error_rate<=0.001', 'rps>=450 orange>=490' (repeatable; red: exit 99)"},
        CLI_QUIET_AS(&a->quiet, "no live progress line"),
        CLI_HELP,
    };
    /* clang-format on */
    int npos;
    int rc =
        cli_parse(&load_cli, opts, CLI_NOPTS(opts), argc, argv, &cfg->url, 1, &npos, err, errlen);
    if (cfg->reconnect_backoff_ns == 0) cfg->reconnect_backoff_ns = -1; /* 0: reconnect at once */
    return rc;
}

/* -f FILE: the scenario, its target (unless a URL was given), its thresholds after the command
 * line's; the options it replaces are refused. */
static int load_scenario(load_args *a, char *err, size_t errlen) {
    engine_config *cfg = &a->cfg;
    if (a->body_arg || a->body_file || a->method_set) {
        snprintf(err, errlen,
                 "-f %s: the scenario's requests have their own method and body (drop "
                 "%s)",
                 a->scenario_path, a->method_set ? "-m" : "-b/--body-file");
        return -1;
    }
    if (scenario_load(a->scenario_path, &a->sc, err, errlen) < 0) return -1;
    a->have_sc = true;
    if (!cfg->url) cfg->url = a->sc.target;
    if (!cfg->url) {
        snprintf(err, errlen, "-f %s: the scenario has no target: give the URL", a->scenario_path);
        return -1;
    }
    url u;
    if (url_parse(cfg->url, &u, err, errlen) < 0) return -1;
    char origin[320];
    snprintf(origin, sizeof origin, "%s://%s", u.tls ? "https" : "http", u.host_header);
    url_free(&u);
    for (int i = 0; i < a->sc.nreq; i++) {
        const char *o = a->sc.req[i].origin;
        if (o && strcmp(o, origin)) {
            snprintf(err, errlen,
                     "-f %s: request %s goes to %s, not to the target %s (one target a run)",
                     a->scenario_path, a->sc.req[i].name, o, origin);
            return -1;
        }
    }
    for (int i = 0; i < a->sc.nthresholds; i++)
        if (custom_th_add(a->sc.thresholds[i], &a->th, err, errlen) < 0) return -1;
    cfg->scenario = &a->sc;
    return 0;
}

/* What the table cannot say alone: options that exclude or need each other, the body and the
 * secret read from their files, and the engine's own check of the whole configuration. */
static int load_args_check(load_args *a, char *err, size_t errlen) {
    engine_config *cfg = &a->cfg;
    if (a->scenario_path && load_scenario(a, err, errlen) < 0) return -1;
    if (!cfg->url) {
        snprintf(err, errlen, "missing URL (or a scenario with a target: -f FILE)");
        return -1;
    }
    int nstat; /* a sender's numbers only with a sender */
    bool sender = a->dl.name || a->dl.schedule || a->dl.dup_set || a->dl.retry_after;
    const char *const *stat = load_report_stat_names(sender, &nstat);
    const char *names[80], *reqs[SCN_MAX_REQUESTS];
    int n = 0, nreq = a->have_sc ? a->sc.nreq : 0;
    for (int i = 0; i < nstat && n < 70; i++) names[n++] = stat[i];
    for (int i = 0; a->have_sc && scenario_stat_names[i]; i++) names[n++] = scenario_stat_names[i];
    for (int i = 0; i < nreq; i++) reqs[i] = a->sc.req[i].name;
    if (custom_th_check_named(&a->th, names, n, reqs, nreq, scenario_name_metrics, err, errlen) < 0)
        return -1;
    if (cfg->max_requests && !a->duration_set) cfg->duration_ns = 0;
    if (a->stages.text) {
        cfg->stages = a->stages.st;
        cfg->nstages = a->stages.n;
        if (a->duration_set) {
            snprintf(err, errlen, "--stages sets the duration itself: drop -d");
            return -1;
        }
    }
    const char *body_file = a->body_file;
    if (a->body_arg && a->body_arg[0] == '@') { /* -b @FILE, as curl's -d @FILE */
        if (body_file) {
            snprintf(err, errlen, "give either -b @FILE or --body-file, not both");
            return -1;
        }
        body_file = a->body_arg + 1;
    } else if (a->body_arg) {
        cfg->body = a->body_arg;
        cfg->body_len = strlen(a->body_arg);
    }
    if (body_file) {
        if (cfg->body) {
            snprintf(err, errlen, "give either --body or --body-file, not both");
            return -1;
        }
        a->body_owned = read_body_file(body_file, &cfg->body_len, err, errlen);
        if (!a->body_owned) return -1;
        cfg->body = a->body_owned;
    }
    if (a->secret_env && a->secret_file) {
        snprintf(err, errlen, "give either --secret-env or --secret-file, not both");
        return -1;
    }
    if ((a->secret_env || a->secret_file) && cfg->sign == SIGN_NONE) {
        snprintf(err, errlen, "a secret was given without --sign SCHEME");
        return -1;
    }
    if (cfg->sign != SIGN_NONE) {
        if (!a->secret_env && !a->secret_file) {
            snprintf(err, errlen, "--sign %s needs --secret-env VAR or --secret-file F",
                     sign_scheme_name(cfg->sign));
            return -1;
        }
        a->secret = secret_read(a->secret_env, a->secret_file, &cfg->secret_len, err, errlen);
        if (!a->secret) return -1;
        cfg->secret = a->secret;
    }
    cfg->headers = a->hl.h;
    cfg->nheaders = a->hl.n;
    int64_t run_ns = cfg->nstages ? 0 : cfg->duration_ns;
    for (int i = 0; i < cfg->nstages; i++) run_ns += cfg->stages[i].duration_ns;
    if (run_ns == 0 && cfg->max_requests && cfg->rate > 0) /* -n at a rate: as the engine runs */
        run_ns = (int64_t)((double)cfg->max_requests / cfg->rate * NS_PER_S) + NS_PER_S;
    if (delivery_args_check(&a->dl, run_ns, cfg->timeout_ns, cfg->rate > 0 || cfg->nstages > 0,
                            &cfg->delivery, &cfg->delivery_drain_ns, err, errlen) < 0)
        return -1;
    if (lifecycle_args_check(&a->ev, &cfg->events, err, errlen) < 0) return -1;
    return engine_check(cfg, err, errlen);
}

static void load_args_free(load_args *a) {
    scenario_free(&a->sc);
    free(a->stages.st);
    free(a->body_owned);
    if (a->secret) {
        memset(a->secret, 0, a->cfg.secret_len);
        free(a->secret);
    }
}

int load_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    load_args args = {.start_at = 0}, *a = &args;
    engine_config *cfg = &a->cfg;
    int status = EXIT_USAGE;
    FILE *hdr_file = NULL;
    json_t *doc = NULL;
    engine_result res;
    bool have_res = false;
    int prc = load_args_parse(a, argc, argv, err, errlen);
    if (prc == CLI_EXIT_HELP) status = EXIT_OK;
    if (prc != CLI_OK || load_args_check(a, err, errlen) < 0) goto out;
    if (a->dry_run) {
        char *req;
        size_t len;
        if (engine_render(cfg, segment_seq(cfg->seg, 0), &req, &len, err, errlen) < 0) goto out;
        fwrite(req, 1, len, stdout);
        if (len && req[len - 1] != '\n') fputc('\n', stdout);
        free(req);
        status = EXIT_OK;
        goto out;
    }

    hdrlog log;
    if (a->hdr_log_path) {
        hdr_file = fopen(a->hdr_log_path, "w");
        int64_t t0 = a->start_at ? a->start_at : clock_wall_ns();
        if (!hdr_file || hdrlog_open(&log, hdr_file, (double)t0 / NS_PER_S,
                                     "brink load latency (us recorded; max column in ms)") < 0) {
            snprintf(err, errlen, "cannot write --hdr-log %s: %s", a->hdr_log_path,
                     strerror(errno));
            goto out;
        }
        cfg->hdr_log = &log;
    }

    /* from here on, traffic: signals stop the run and still produce a result */
    stopsig sig;
    volatile sig_atomic_t *stop = stopsig_catch(&sig);
    int64_t planned = cfg->nstages ? 0 : cfg->duration_ns;
    for (int i = 0; i < cfg->nstages; i++) planned += cfg->stages[i].duration_ns;
    load_progress pr;
    load_progress_init(&pr, "brink load", stderr, a->quiet, cfg->rate > 0 || cfg->nstages,
                       (double)planned / NS_PER_S);
    cfg->on_second = on_second;
    cfg->ud = &pr;
    cfg->stop = stop;
    int rc = 0;
    if (a->start_at) { /* a common start: wait (interruptibly) until just before it */
        if (!a->quiet) {
            char when[32];
            clock_format_utc(a->start_at, when);
            fprintf(stderr, "brink load: waiting until %s (--start-at)\n", when);
        }
        if (segment_wait(a->start_at, 100 * NS_PER_MS, stop) < 0) {
            snprintf(err, errlen, "interrupted while waiting for --start-at (nothing sent)");
            rc = -2;
        }
        cfg->start_wall_ns = a->start_at;
    }
    if (rc == 0) rc = engine_run(cfg, &res, err, errlen);
    stopsig_release(&sig);
    load_progress_end(&pr, stderr);
    if (rc < 0) {
        status = rc == -2 ? EXIT_INTERRUPTED : EXIT_UNREACHABLE;
        goto out;
    }
    have_res = true;

    load_report_info info = {
        .url = cfg->url,
        .method = cfg->method,
        .scenario = a->have_sc ? a->scenario_path : NULL,
        .header_names = a->hl.names,
        .nheaders = a->hl.n,
        .body_bytes = cfg->body_len,
        .sign = cfg->sign != SIGN_NONE ? sign_scheme_name(cfg->sign) : NULL,
        .connections = cfg->connections,
        .threads = cfg->threads,
        .duration_s = (double)cfg->duration_ns / NS_PER_S,
        .max_requests = cfg->max_requests,
        .timeout_s = (double)cfg->timeout_ns / NS_PER_S,
        .rate = cfg->rate,
        .stages = a->stages.text,
        .delivery = cfg->delivery,
        .delivery_drain_s = (double)cfg->delivery_drain_ns / NS_PER_S,
    };
    bool json_stdout = a->json_path && !strcmp(a->json_path, "-");
    if (cfg->seg.count >= 1)
        fprintf(json_stdout ? stderr : stdout,
                "segment %d/%d: the numbers below are this process's share of the load; brink "
                "merge adds the segments up\n",
                cfg->seg.index + 1, cfg->seg.count);
    load_report_terminal(json_stdout ? stderr : stdout, &res, &info, a->latency);
    scenario_report_terminal(json_stdout ? stderr : stdout, &res, cfg->scenario);
    status = res.interrupted ? EXIT_INTERRUPTED : res.responses == 0 ? EXIT_UNREACHABLE : EXIT_OK;
    th_status worst = TH_GREEN;
    if (a->json_path || a->th.n) {
        doc = load_report_json(&res, &info);
        scenario_report_json(doc, &res, cfg->scenario,
                             jx_num(json_object_get(doc, "stats"), "send_window_s"));
        segment_doc(doc, res.seg, a->start_at);
        worst = custom_th_report(&a->th, doc, json_stdout ? stderr : stdout);
        if (a->json_path && jx_write_json(doc, a->json_path, err, errlen) < 0)
            status = EXIT_FAILURE_;
    }
    if (status == EXIT_UNREACHABLE) snprintf(err, errlen, "no response from %s", cfg->url);
    if (status == EXIT_OK && worst == TH_RED) {
        snprintf(err, errlen, "a --threshold is red (see the table above)");
        status = EXIT_THRESHOLDS;
    }

out:
    json_decref(doc);
    if (hdr_file) fclose(hdr_file);
    if (have_res) engine_result_free(&res);
    load_args_free(a);
    return status;
}
