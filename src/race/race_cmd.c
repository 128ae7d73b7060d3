/* race_cmd.c — `brink race [PROFILE] [options]`: options checked completely before anything
 * starts, then the run (race/race.c), the terminal summary with its thresholds, the result
 * document, and the exit status: 99 when a threshold is red, as every brink test does. */
#include "race/race_cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/parse.h"
#include "http/url.h"
#include "core/exitcode.h"
#include "core/json.h"
#include "race/race.h"
#include "config/config.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

static const struct {
    const char *name;
    int orders, vendors;
} profiles[] = {
    {"light", 50, 5},
    {"moderate", 200, 20},
    {"heavy", 500, 50},
    {"stress", 1000, 100},
};
#define NPROFILES (int)(sizeof profiles / sizeof profiles[0])

void race_cmd_usage(void) {
    printf("Usage: brink race [light|moderate|heavy|stress] [options]\n"
           "\n"
           "Creates N orders, then makes V vendors claim each one at the same instant (requests\n"
           "written up to their last byte on kept-alive connections, last bytes released\n"
           "together) and checks that exactly one vendor won: from the answers, from the winner\n"
           "named to the losers, and from what the service stored (HTTP read-back and SQL).\n"
           "Runs against the embedded stack (PostgreSQL, Redis, dispatchd) unless --target.\n"
           "\n"
           "Profiles (orders x vendors): light 50x5, moderate 200x20 (default), heavy 500x50,\n"
           "stress 1000x100.\n"
           "\n"
           "Options:\n"
           "      --orders N           orders to race (overrides the profile)\n"
           "      --vendors V          vendors claiming each order, at least 2\n"
           "      --stack-profile P    tuned (default) or untuned: dispatchd's untuned\n"
           "                           configuration (naive check-then-act accept)\n"
           "      --keep-stack         keep the embedded stack's directory (logs, data)\n"
           "      --target URL         race an already running service instead of the stack\n"
           "      --secret-file F      signing secret of the creation webhooks (with --target;\n"
           "      --secret-env VAR     without one they are sent unsigned)\n"
           "      --pg URL             PostgreSQL of the target, for the SQL audit (password in\n"
           "                           PGPASSWORD or PGPASSFILE, never in the URL)\n"
           "  -f, --config FILE        race your own service: a brink.yaml (docs/config.md:\n"
           "                           its target, race: section, secret, audit database and\n"
           "                           threshold overrides) or a race.yaml (docs/race.md)\n"
           "      --release MODE       loop (default: one thread writes every last byte) or\n"
           "                           barrier (one thread per vendor behind a pthread barrier)\n"
           "      --settle D           pause between the prefixes reaching the server and the\n"
           "                           release (default 1ms)\n"
           "      --timeout D          limit of each claim (default 10s)\n"
           "      --setup-timeout D    limit of creating the orders until visible (default 60s)\n"
           "      --insecure           do not verify TLS certificates\n"
           "      --json FILE          write the result document (- for stdout)\n"
           "  -q, --quiet              no progress line\n"
           "  -h, --help               this help\n"
           "\n"
           "Thresholds: race_conditions > 0 red; win_rate < 95%% red, < 100%% orange;\n"
           "resolution_avg_ms > 100 orange, > 500 red; integrity < 100%% red; race_error_rate.\n"
           "Exit status: 0 no red threshold; 99 a red threshold; 2 bad usage; 3 the stack or the\n"
           "target could not be started or reached; 130 interrupted.\n");
}

enum {
    OPT_ORDERS = 1000,
    OPT_VENDORS,
    OPT_STACK_PROFILE,
    OPT_KEEP_STACK,
    OPT_TARGET,
    OPT_SECRET_FILE,
    OPT_SECRET_ENV,
    OPT_PG,
    OPT_RELEASE,
    OPT_SETTLE,
    OPT_TIMEOUT,
    OPT_SETUP_TIMEOUT,
    OPT_INSECURE,
    OPT_JSON,
    OPT_SEGMENT,
};

static const struct option long_opts[] = {
    {"orders", required_argument, 0, OPT_ORDERS},
    {"vendors", required_argument, 0, OPT_VENDORS},
    {"stack-profile", required_argument, 0, OPT_STACK_PROFILE},
    {"keep-stack", no_argument, 0, OPT_KEEP_STACK},
    {"target", required_argument, 0, OPT_TARGET},
    {"secret-file", required_argument, 0, OPT_SECRET_FILE},
    {"secret-env", required_argument, 0, OPT_SECRET_ENV},
    {"pg", required_argument, 0, OPT_PG},
    {"config", required_argument, 0, 'f'},
    {"release", required_argument, 0, OPT_RELEASE},
    {"settle", required_argument, 0, OPT_SETTLE},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"setup-timeout", required_argument, 0, OPT_SETUP_TIMEOUT},
    {"insecure", no_argument, 0, OPT_INSECURE},
    {"json", required_argument, 0, OPT_JSON},
    {"segment", required_argument, 0, OPT_SEGMENT},
    {"start-at", required_argument, 0, OPT_SEGMENT},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* A postgresql:// URL with a password in it would put a secret on the command line. */
static bool url_has_password(const char *u) {
    const char *p = strstr(u, "://");
    if (!p) return strstr(u, "password=") != NULL;
    p += 3;
    size_t auth = strcspn(p, "/?");
    const char *at = memchr(p, '@', auth);
    if (at && memchr(p, ':', (size_t)(at - p))) return true;
    return strstr(p, "password=") != NULL;
}

/* A brink.yaml's race: its race: section (moved out of c), or dispatchd's protocol at the file's
 * webhook path and signing scheme. The creation requests are signed with the file's webhook
 * secret when the race gives none of its own (--secret-file/--secret-env still win). */
static int brink_yaml_spec(config *c, race_spec *spec, race_opts *o, char *err, size_t errlen) {
    if (c->have_race) {
        *spec = c->race;
        memset(&c->race, 0, sizeof c->race);
        c->have_race = false;
    } else {
        if (race_spec_default(spec, err, errlen) < 0) return -1;
        char *p = strdup(c->webhook_path);
        if (!p) {
            race_spec_free(spec);
            err_set(err, errlen, "out of memory");
            return -1;
        }
        free(spec->create.path);
        spec->create.path = p;
        spec->create_sign = c->sign;
        if (!c->audit_url) { /* dispatchd's SQL truth needs a database: the audit's, or none */
            free(spec->sql_query);
            spec->sql_query = NULL;
        }
        if (!(spec->file = strdup(c->file))) {
            race_spec_free(spec);
            err_set(err, errlen, "out of memory");
            return -1;
        }
    }
    bool own_secret = o->secret_file || o->secret_env || spec->secret_file || spec->secret_env;
    if (!own_secret && spec->create_sign != SIGN_NONE && c->sign != SIGN_NONE) {
        o->secret_file = c->secret_file;
        o->secret_env = c->secret_env;
    }
    return 0;
}

int race_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    race_opts o = {
        .release = RACE_RELEASE_LOOP,
        .timeout_ns = 10 * NS_PER_S,
        .setup_timeout_ns = 60 * NS_PER_S,
        .settle_ns = 1 * NS_PER_MS,
        .stack_profile = STACK_PROFILE_TUNED,
    };
    int64_t orders = 0, vendors = 0, v;
    bool quiet = false, stack_profile_set = false;
    const char *json_path = NULL, *config_path = NULL;
    char sub[400];
    race_spec spec;
    bool have_spec = false;
    config *cfg = NULL;
    bool pg_from_cfg = false;
    int status = EXIT_USAGE;
    race_result res;
    bool have_res = false;
    json_t *doc = NULL;

    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":f:qh", long_opts, NULL)) != -1) {
        switch (opt) {
        case OPT_ORDERS:
            if (parse_int(optarg, 1, 1000000, &v, sub, sizeof sub) < 0) goto usage_sub;
            orders = v;
            break;
        case OPT_VENDORS:
            if (parse_int(optarg, 0, 1000, &v, sub, sizeof sub) < 0) goto usage_sub;
            if (v < 2) {
                err_set(err, errlen, "--vendors %s: a race needs at least 2 vendors", optarg);
                goto out;
            }
            vendors = v;
            break;
        case OPT_STACK_PROFILE:
            if (!strcmp(optarg, "tuned"))
                o.stack_profile = STACK_PROFILE_TUNED;
            else if (!strcmp(optarg, "untuned"))
                o.stack_profile = STACK_PROFILE_UNTUNED;
            else {
                err_set(err, errlen, "unknown --stack-profile '%s' (tuned or untuned)", optarg);
                goto out;
            }
            stack_profile_set = true;
            break;
        case OPT_KEEP_STACK: o.keep_stack = true; break;
        case OPT_TARGET: o.target = optarg; break;
        case OPT_SECRET_FILE: o.secret_file = optarg; break;
        case OPT_SECRET_ENV: o.secret_env = optarg; break;
        case OPT_PG: o.pg_url = optarg; break;
        case 'f': config_path = optarg; break;
        case OPT_RELEASE:
            if (race_release_parse(optarg, &o.release) < 0) {
                err_set(err, errlen, "unknown --release '%s' (loop or barrier)", optarg);
                goto out;
            }
            break;
        case OPT_SETTLE:
            if (parse_duration_ns(optarg, &o.settle_ns, sub, sizeof sub) < 0) goto usage_sub;
            if (o.settle_ns > NS_PER_S) {
                err_set(err, errlen, "--settle %s: at most 1s", optarg);
                goto out;
            }
            break;
        case OPT_TIMEOUT:
        case OPT_SETUP_TIMEOUT: {
            int64_t d;
            if (parse_duration_ns(optarg, &d, sub, sizeof sub) < 0) goto usage_sub;
            if (d < NS_PER_MS) {
                err_set(err, errlen, "invalid %s '%s' (at least 1ms)",
                        opt == OPT_TIMEOUT ? "--timeout" : "--setup-timeout", optarg);
                goto out;
            }
            if (opt == OPT_TIMEOUT)
                o.timeout_ns = d;
            else
                o.setup_timeout_ns = d;
            break;
        }
        case OPT_INSECURE: o.insecure = true; break;
        case OPT_JSON: json_path = optarg; break;
        case OPT_SEGMENT: /* docs/distributed.md: why the race is not split */
            err_set(err, errlen,
                    "brink race does not take --segment or --start-at: an order's contention is "
                    "its vendors racing from one process, so more machines add orders, not "
                    "contention; run it from one machine");
            goto out;
        case 'q': quiet = true; break;
        case 'h': race_cmd_usage(); return EXIT_OK;
        case ':':
            err_set(err, errlen, "option '%s' needs a value (see brink race --help)",
                    argv[optind - 1]);
            goto out;
        default:
            if (optopt)
                err_set(err, errlen, "unknown option '-%c' (see brink race --help)", optopt);
            else
                err_set(err, errlen, "unknown option '%s' (see brink race --help)",
                        argv[optind - 1]);
            goto out;
        }
    }

    /* the profile */
    o.profile = NULL;
    int pi = 1; /* moderate */
    if (optind < argc) {
        pi = -1;
        for (int i = 0; i < NPROFILES; i++)
            if (!strcmp(argv[optind], profiles[i].name)) pi = i;
        if (pi < 0) {
            err_set(err, errlen, "unknown profile '%s' (light, moderate, heavy or stress)",
                    argv[optind]);
            goto out;
        }
        o.profile = profiles[pi].name;
        if (optind + 1 < argc) {
            err_set(err, errlen, "unexpected argument '%s' after the profile", argv[optind + 1]);
            goto out;
        }
    }
    o.orders = orders ? (int)orders : profiles[pi].orders;
    o.vendors = vendors ? (int)vendors : profiles[pi].vendors;
    if (!o.profile) o.profile = orders || vendors ? "custom" : profiles[pi].name;

    /* the target and its protocol: a race.yaml, a brink.yaml, or dispatchd's on the stack */
    bool race_yaml = false;
    if (config_path && config_is_race_yaml(config_path, &race_yaml, err, errlen) < 0) goto out;
    if (config_path && !race_yaml) {
        if (config_load(config_path, &cfg, err, errlen) < 0) goto out;
        if (config_apply_thresholds(cfg, err, errlen) < 0) goto out;
        if (brink_yaml_spec(cfg, &spec, &o, err, errlen) < 0) goto out;
        pg_from_cfg = !o.pg_url && spec.sql_query && !spec.sql_url && cfg->audit_url;
    } else {
        if (config_apply_thresholds(NULL, err, errlen) < 0) goto out;
        if (config_path) {
            if (race_spec_load(config_path, &spec, err, errlen) < 0) goto out;
        } else if (race_spec_default(&spec, err, errlen) < 0) {
            status = EXIT_FAILURE_;
            goto out;
        }
    }
    have_spec = true;
    o.spec = &spec;
    if (cfg && !o.target) o.target = cfg->url;
    if (cfg) o.metrics_url = cfg->metrics_url;
    o.use_stack = !o.target && !spec.target;
    if (o.secret_file && o.secret_env) {
        err_set(err, errlen, "give either --secret-file or --secret-env, not both");
        goto out;
    }
    if (o.use_stack && (o.secret_file || o.secret_env || o.pg_url)) {
        err_set(err, errlen,
                "--secret-file, --secret-env and --pg go with --target (the embedded stack "
                "brings its own)");
        goto out;
    }
    if (!o.use_stack && (stack_profile_set || o.keep_stack)) {
        err_set(err, errlen,
                "--stack-profile and --keep-stack are for the embedded stack: drop "
                "them with %s",
                cfg ? "-f (your own stack)" : "--target");
        goto out;
    }
    if (o.pg_url) {
        if (strncmp(o.pg_url, "postgresql://", 13) && strncmp(o.pg_url, "postgres://", 11)) {
            err_set(err, errlen, "--pg %s: want a postgresql:// URL", o.pg_url);
            goto out;
        }
        if (url_has_password(o.pg_url)) {
            err_set(err, errlen,
                    "--pg: the URL carries a password; put it in PGPASSWORD or "
                    "PGPASSFILE instead of on the command line");
            goto out;
        }
    }
    if (pg_from_cfg) { /* truth.sql without a url: the audit's database */
        o.pg_url = cfg->audit_url;
        o.pg_password = config_audit_password(cfg);
    } else if (cfg && o.pg_url == NULL && spec.sql_url && cfg->audit_url &&
               !strcmp(spec.sql_url, cfg->audit_url)) {
        o.pg_password = config_audit_password(cfg);
    }
    if (o.pg_url && !spec.sql_query) {
        err_set(err, errlen, "--pg: %s has no truth.sql query to run there", spec.file);
        goto out;
    }
    if (spec.file && spec.sql_query && !spec.sql_url && !o.use_stack && !o.pg_url) {
        err_set(err, errlen,
                "%s: truth.sql has no url (give it there or with --pg; only the embedded stack "
                "brings its own)",
                spec.file);
        goto out;
    }
    if (spec.file && spec.create_sign != SIGN_NONE && !o.use_stack && !o.secret_file &&
        !o.secret_env && !spec.secret_file && !spec.secret_env) {
        err_set(err, errlen,
                "%s: create.sign needs a secret: secret_file or secret_env there, or "
                "--secret-file/--secret-env",
                spec.file);
        goto out;
    }
    if (!o.use_stack) {
        url u;
        const char *t = o.target ? o.target : spec.target;
        if (url_parse(t, &u, sub, sizeof sub) < 0) {
            err_set(err, errlen, "--target: %s", sub);
            goto out;
        }
        url_free(&u);
    }
    if (json_path && strcmp(json_path, "-")) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", json_path);
        char *slash = strrchr(dir, '/');
        if (slash) slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
        if (access(slash ? dir : ".", W_OK) < 0) {
            err_set(err, errlen, "cannot write --json %s: its directory is not writable",
                    json_path);
            goto out;
        }
    }

    bool json_stdout = json_path && !strcmp(json_path, "-");
    FILE *term = json_stdout ? stderr : stdout;
    stop_flag = 0;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    o.stop = &stop_flag;
    o.progress = !quiet && isatty(STDERR_FILENO) ? stderr : NULL;
    status = race_run(&o, &res, err, errlen);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    have_res = true;
    if (status != EXIT_OK && status != EXIT_INTERRUPTED) goto out;

    th_result th[RACE_NTHRESHOLDS];
    int nth = race_thresholds(&res, th);
    race_print(term, &res, th, nth);
    if (status == EXIT_OK && threshold_worst(th, nth) == TH_RED) status = EXIT_THRESHOLDS;
    if (json_path) {
        doc = race_json(&res, th, nth);
        if (jx_write_json(doc, json_path, err, errlen) < 0) status = EXIT_FAILURE_;
    }
    if (status == EXIT_INTERRUPTED) err_set(err, errlen, "interrupted: the result is partial");
    goto out;

usage_sub:
    err_set(err, errlen, "%s", sub);
out:
    json_decref(doc);
    if (have_res) race_result_free(&res);
    if (have_spec) race_spec_free(&spec);
    config_free(cfg);
    return status;
}
