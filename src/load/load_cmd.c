/* load_cmd.c — `brink load [options] URL`: wrk-compatible options (plus wrk2's -R and brink's
 * stages, templates and signing, and the scale-out segments of load/segment.h), validated
 * completely before any traffic; then the wait for --start-at, the run, a live line per second on
 * a TTY, the terminal summary and the JSON result. */
#include "core/exitcode.h"
#include "core/secret.h"
#include "load/load_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hdrlog.h"
#include "core/parse.h"
#include "load/engine.h"
#include "core/json.h"
#include "load/load_report.h"

#define MAX_HEADERS 64
#define MAX_BODY    (64 * 1024 * 1024)

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

void load_cmd_usage(void) {
    printf("Usage: brink load [options] URL\n"
           "\n"
           "Sends HTTP requests to URL and measures throughput and latency.\n"
           "Closed model by default (each connection sends when its previous request is done);\n"
           "-R or --stages select the open model: requests are due on a schedule and latency\n"
           "is measured from each request's intended send time (corrected for coordinated\n"
           "omission, as wrk2 does), and separately from its actual send time.\n"
           "\n"
           "Options:\n"
           "  -c, --connections N    connections to keep open (default 64)\n"
           "  -t, --threads N        threads (default: number of cores)\n"
           "  -d, --duration D       how long to send: 500ms, 10s, 2m, 1h (default 10s)\n"
           "  -n, --requests N       stop after N requests (no time limit unless -d is given)\n"
           "  -R, --rate RPS         open model at a constant rate of RPS requests per second\n"
           "      --stages LIST      open model ramping linearly between targets, starting at\n"
           "                         -R (default 0): e.g. 10s:100,30s:2000,10s:0\n"
           "  -m, --method M         request method (default GET)\n"
           "  -H, --header \"K: V\"    add a header (repeatable)\n"
           "  -b, --body TEXT        request body\n"
           "      --body-file F      request body from a file\n"
           "      --timeout D        per-request timeout (default 5s)\n"
           "      --insecure         do not verify TLS certificates\n"
           "      --sign SCHEME      sign each request: standard-webhooks, stripe or github\n"
           "      --secret-env VAR   the signing secret, from environment variable VAR\n"
           "      --secret-file F    the signing secret, from file F (never on the command line)\n"
           "      --json FILE        write the result document (- for stdout)\n"
           "      --hdr-log FILE     write an HdrHistogram interval log, one interval a second\n"
           "      --latency          print the full latency percentile spectrum\n"
           "      --dry-run          print the first request as it would be sent; send nothing\n"
           "      --segment I/N      run segment I of N of this load (N brink processes, e.g. on\n"
           "                         N machines, together send the load given here once: each\n"
           "                         takes every N-th request of the schedule, its share of -c\n"
           "                         and -n; {{seq}} values stay disjoint). brink merge adds\n"
           "                         their --json documents up (docs/distributed.md)\n"
           "      --start-at T       wait until UNIX time T (seconds, may have a fraction), then\n"
           "                         start: T is time 0 of the run, so that segments align\n"
           "  -q, --quiet            no live progress line\n"
           "  -h, --help             this help\n"
           "\n"
           "Templates in the URL path, headers and body, rendered per request:\n"
           "  {{seq}} {{uuid}} {{rand:A-B}} {{now_s}} {{now_ms}} {{conn}} {{thread}}\n"
           "\n"
           "Exit status: 0 done; 2 bad usage (nothing sent); 3 no response at all from the\n"
           "target; 130 interrupted (partial result printed and written).\n");
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

typedef struct progress {
    bool tty;
    bool open;
} progress;

static void on_second(void *ud, const engine_second *s) {
    progress *p = ud;
    if (p->tty && s->length_s >= 0.999) load_report_progress_line(stderr, s, p->open);
}

enum {
    OPT_STAGES = 1000,
    OPT_BODY_FILE,
    OPT_TIMEOUT,
    OPT_INSECURE,
    OPT_SIGN,
    OPT_SECRET_ENV,
    OPT_SECRET_FILE,
    OPT_JSON,
    OPT_HDR_LOG,
    OPT_LATENCY,
    OPT_DRY_RUN,
    OPT_SEGMENT,
    OPT_START_AT,
};

static const struct option long_opts[] = {
    {"connections", required_argument, 0, 'c'},
    {"threads", required_argument, 0, 't'},
    {"duration", required_argument, 0, 'd'},
    {"requests", required_argument, 0, 'n'},
    {"rate", required_argument, 0, 'R'},
    {"stages", required_argument, 0, OPT_STAGES},
    {"method", required_argument, 0, 'm'},
    {"header", required_argument, 0, 'H'},
    {"body", required_argument, 0, 'b'},
    {"body-file", required_argument, 0, OPT_BODY_FILE},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"insecure", no_argument, 0, OPT_INSECURE},
    {"sign", required_argument, 0, OPT_SIGN},
    {"secret-env", required_argument, 0, OPT_SECRET_ENV},
    {"secret-file", required_argument, 0, OPT_SECRET_FILE},
    {"json", required_argument, 0, OPT_JSON},
    {"hdr-log", required_argument, 0, OPT_HDR_LOG},
    {"latency", no_argument, 0, OPT_LATENCY},
    {"dry-run", no_argument, 0, OPT_DRY_RUN},
    {"segment", required_argument, 0, OPT_SEGMENT},
    {"start-at", required_argument, 0, OPT_START_AT},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int load_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    engine_config cfg = {.method = "GET", .connections = 64, .timeout_ns = 5 * NS_PER_S};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.threads = cores > 0 ? (int)cores : 1;
    cfg.duration_ns = 10 * NS_PER_S;
    bool duration_set = false, latency = false, quiet = false, dry_run = false;
    const char *body_file = NULL, *secret_env = NULL, *secret_file = NULL, *json_path = NULL;
    const char *hdr_log_path = NULL, *stages_text = NULL, *sign_name = NULL;
    int64_t start_at = 0;
    engine_header headers[MAX_HEADERS];
    const char *header_names[MAX_HEADERS];
    char name_buf[MAX_HEADERS][64];
    int nheaders = 0;
    parse_stage *stages = NULL;
    char *body_owned = NULL, *secret = NULL;
    int status = EXIT_USAGE;
    FILE *hdr_file = NULL;
    json_t *doc = NULL;
    engine_result res;
    bool have_res = false;
    char sub[256];
    int64_t v;

    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":c:t:d:n:R:m:H:b:qh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            if (parse_int(optarg, 1, 1000000, &v, sub, sizeof sub) < 0) goto usage_sub;
            cfg.connections = (int)v;
            break;
        case 't':
            if (parse_int(optarg, 1, 1024, &v, sub, sizeof sub) < 0) goto usage_sub;
            cfg.threads = (int)v;
            break;
        case 'd':
            if (parse_duration_ns(optarg, &cfg.duration_ns, sub, sizeof sub) < 0) goto usage_sub;
            if (cfg.duration_ns <= 0) {
                snprintf(err, errlen, "invalid duration '%s' (must be more than 0)", optarg);
                goto out;
            }
            duration_set = true;
            break;
        case 'n':
            if (parse_int(optarg, 1, INT64_MAX / 2, &v, sub, sizeof sub) < 0) goto usage_sub;
            cfg.max_requests = v;
            break;
        case 'R':
            if (parse_rate(optarg, &cfg.rate, sub, sizeof sub) < 0) goto usage_sub;
            break;
        case OPT_STAGES: stages_text = optarg; break;
        case 'm': cfg.method = optarg; break;
        case 'H':
            if (nheaders == MAX_HEADERS) {
                snprintf(err, errlen, "too many headers (at most %d)", MAX_HEADERS);
                goto out;
            }
            headers[nheaders].text = optarg;
            snprintf(name_buf[nheaders], sizeof name_buf[nheaders], "%.*s",
                     (int)strcspn(optarg, ":"), optarg);
            header_names[nheaders] = name_buf[nheaders];
            nheaders++;
            break;
        case 'b':
            cfg.body = optarg;
            cfg.body_len = strlen(optarg);
            break;
        case OPT_BODY_FILE: body_file = optarg; break;
        case OPT_TIMEOUT:
            if (parse_duration_ns(optarg, &cfg.timeout_ns, sub, sizeof sub) < 0) goto usage_sub;
            if (cfg.timeout_ns < NS_PER_MS) {
                snprintf(err, errlen, "invalid timeout '%s' (at least 1ms)", optarg);
                goto out;
            }
            break;
        case OPT_INSECURE: cfg.insecure = true; break;
        case OPT_SIGN:
            sign_name = optarg;
            if (sign_parse_scheme(optarg, &cfg.sign) < 0) {
                snprintf(err, errlen,
                         "unknown signing scheme '%s' (want standard-webhooks, stripe or github)",
                         optarg);
                goto out;
            }
            break;
        case OPT_SECRET_ENV: secret_env = optarg; break;
        case OPT_SECRET_FILE: secret_file = optarg; break;
        case OPT_JSON: json_path = optarg; break;
        case OPT_HDR_LOG: hdr_log_path = optarg; break;
        case OPT_LATENCY: latency = true; break;
        case OPT_DRY_RUN: dry_run = true; break;
        case OPT_SEGMENT:
            if (segment_parse(optarg, &cfg.seg, err, errlen) < 0) goto out;
            cfg.timeline_hdr = true; /* per-second percentiles stay mergeable */
            break;
        case OPT_START_AT:
            if (segment_parse_start_at(optarg, clock_wall_ns(), &start_at, err, errlen) < 0)
                goto out;
            break;
        case 'q': quiet = true; break;
        case 'h': load_cmd_usage(); return EXIT_OK;
        case ':':
            snprintf(err, errlen, "option '%s' needs a value (see brink load --help)",
                     argv[optind - 1]);
            goto out;
        default:
            if (optopt)
                snprintf(err, errlen, "unknown option '-%c' (see brink load --help)", optopt);
            else
                snprintf(err, errlen, "unknown option '%s' (see brink load --help)",
                         argv[optind - 1]);
            goto out;
        }
    }
    if (optind >= argc) {
        snprintf(err, errlen, "missing URL (usage: brink load [options] URL)");
        goto out;
    }
    if (optind + 1 < argc) {
        snprintf(err, errlen, "unexpected argument '%s' after the URL", argv[optind + 1]);
        goto out;
    }
    cfg.url = argv[optind];
    if (cfg.max_requests && !duration_set) cfg.duration_ns = 0;
    if (stages_text) {
        if (parse_stages(stages_text, &stages, &cfg.nstages, sub, sizeof sub) < 0) goto usage_sub;
        cfg.stages = stages;
        if (duration_set) {
            snprintf(err, errlen, "--stages sets the duration itself: drop -d");
            goto out;
        }
    }
    if (body_file) {
        if (cfg.body) {
            snprintf(err, errlen, "give either --body or --body-file, not both");
            goto out;
        }
        body_owned = read_body_file(body_file, &cfg.body_len, err, errlen);
        if (!body_owned) goto out;
        cfg.body = body_owned;
    }
    if (secret_env && secret_file) {
        snprintf(err, errlen, "give either --secret-env or --secret-file, not both");
        goto out;
    }
    if ((secret_env || secret_file) && cfg.sign == SIGN_NONE) {
        snprintf(err, errlen, "a secret was given without --sign SCHEME");
        goto out;
    }
    if (cfg.sign != SIGN_NONE) {
        if (!secret_env && !secret_file) {
            snprintf(err, errlen, "--sign %s needs --secret-env VAR or --secret-file F", sign_name);
            goto out;
        }
        secret = secret_read(secret_env, secret_file, &cfg.secret_len, err, errlen);
        if (!secret) goto out;
        cfg.secret = secret;
    }
    cfg.headers = headers;
    cfg.nheaders = nheaders;
    if (engine_check(&cfg, err, errlen) < 0) goto out;
    if (dry_run) {
        char *req;
        size_t len;
        if (engine_render(&cfg, segment_seq(cfg.seg, 0), &req, &len, err, errlen) < 0) goto out;
        fwrite(req, 1, len, stdout);
        if (len && req[len - 1] != '\n') fputc('\n', stdout);
        free(req);
        status = EXIT_OK;
        goto out;
    }

    hdrlog log;
    if (hdr_log_path) {
        hdr_file = fopen(hdr_log_path, "w");
        int64_t t0 = start_at ? start_at : clock_wall_ns();
        if (!hdr_file || hdrlog_open(&log, hdr_file, (double)t0 / NS_PER_S,
                                     "brink load latency (us recorded; max column in ms)") < 0) {
            snprintf(err, errlen, "cannot write --hdr-log %s: %s", hdr_log_path, strerror(errno));
            goto out;
        }
        cfg.hdr_log = &log;
    }

    /* from here on, traffic: signals stop the run and still produce a result */
    stop_flag = 0;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    progress pr = {.tty = !quiet && isatty(STDERR_FILENO), .open = cfg.rate > 0 || cfg.nstages};
    cfg.on_second = on_second;
    cfg.ud = &pr;
    cfg.stop = &stop_flag;
    int rc = 0;
    if (start_at) { /* a common start: wait (interruptibly) until just before it */
        if (!quiet) {
            char when[32];
            clock_format_utc(start_at, when);
            fprintf(stderr, "brink load: waiting until %s (--start-at)\n", when);
        }
        if (segment_wait(start_at, 100 * NS_PER_MS, &stop_flag) < 0) {
            snprintf(err, errlen, "interrupted while waiting for --start-at (nothing sent)");
            rc = -2;
        }
        cfg.start_wall_ns = start_at;
    }
    if (rc == 0) rc = engine_run(&cfg, &res, err, errlen);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (pr.tty) load_report_progress_clear(stderr);
    if (rc < 0) {
        status = rc == -2 ? EXIT_INTERRUPTED : EXIT_UNREACHABLE;
        goto out;
    }
    have_res = true;

    load_report_info info = {
        .url = cfg.url,
        .method = cfg.method,
        .header_names = header_names,
        .nheaders = nheaders,
        .body_bytes = cfg.body_len,
        .sign = cfg.sign != SIGN_NONE ? sign_scheme_name(cfg.sign) : NULL,
        .connections = cfg.connections,
        .threads = cfg.threads,
        .duration_s = (double)cfg.duration_ns / NS_PER_S,
        .max_requests = cfg.max_requests,
        .timeout_s = (double)cfg.timeout_ns / NS_PER_S,
        .rate = cfg.rate,
        .stages = stages_text,
    };
    bool json_stdout = json_path && !strcmp(json_path, "-");
    if (cfg.seg.count >= 1)
        fprintf(json_stdout ? stderr : stdout,
                "segment %d/%d: the numbers below are this process's share of the load; brink "
                "merge adds the segments up\n",
                cfg.seg.index + 1, cfg.seg.count);
    load_report_terminal(json_stdout ? stderr : stdout, &res, &info, latency);
    status = res.interrupted ? EXIT_INTERRUPTED : res.responses == 0 ? EXIT_UNREACHABLE : EXIT_OK;
    if (json_path) {
        doc = load_report_json(&res, &info);
        segment_doc(doc, res.seg, start_at);
        if (jx_write_json(doc, json_path, err, errlen) < 0) status = EXIT_FAILURE_;
    }
    if (status == EXIT_UNREACHABLE) snprintf(err, errlen, "no response from %s", cfg.url);
    goto out;

usage_sub:
    snprintf(err, errlen, "%s", sub);
out:
    json_decref(doc);
    if (hdr_file) fclose(hdr_file);
    if (have_res) engine_result_free(&res);
    free(stages);
    free(body_owned);
    if (secret) {
        memset(secret, 0, cfg.secret_len);
        free(secret);
    }
    return status;
}
