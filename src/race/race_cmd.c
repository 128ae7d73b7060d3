/* race_cmd.c — `brink race [PROFILE] [options]`: options read against one table (core/cli.h) and
 * checked completely before anything starts (race_args_parse, race_args_spec, race_args_check),
 * then the run (race/race.c), the terminal summary with its thresholds, the result document, and
 * the exit status: 99 when a threshold is red, as every brink test does. */
#include "race/race_cmd.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/preflight.h"
#include "core/cli.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "core/json.h"
#include "core/stopsig.h"
#include "http/url.h"
#include "load/segment.h"
#include "race/race.h"
#include "verdict/custom_th.h"

static const struct {
    const char *name;
    int orders, vendors;
} profiles[] = {
    {"light", 50, 5},
    {"moderate", 200, 20},
    {"heavy", 500, 50},
    {"stress", 1000, 100},
};
#define NPROFILES       (int)(sizeof profiles / sizeof profiles[0])
#define DEFAULT_PROFILE 1 /* moderate */

static const cli_cmd race_cli = {
    .name = "race",
    .args = "[light|moderate|heavy|stress] [options]",
    .summary =
        "Creates N orders, then makes V vendors claim each one at the same instant (requests "
        "written up to their last byte on kept-alive connections, last bytes released together) "
        "and checks that exactly one vendor won: from the answers, from the winner named to the "
        "losers, and from what the service stored (HTTP read-back and SQL). Runs against the "
        "embedded stack (PostgreSQL, Redis, dispatchd) unless --target or -f.\n"
        "\n"
        "Profiles (orders x vendors): light 50x5, moderate 200x20 (default), heavy 500x50, "
        "stress 1000x100.",
    .epilog = "-f FILE races your own service: a brink.yaml (docs/config.md: its target, race: "
              "section, secret, audit database and threshold overrides) or a race.yaml "
              "(docs/race.md).\n"
              "\n"
              "The race is not split into segments (--segment, --start-at refused): an order's "
              "contention is its vendors racing from one process (docs/distributed.md).\n"
              "\n"
              "Thresholds: race_conditions > 0 red; win_rate < 95% red, < 100% orange; "
              "resolution_avg_ms > 100 orange, > 500 red; integrity < 100% red; "
              "race_error_rate.\n"
              "\n"
              "Exit status: 0 no red threshold; 99 a red threshold; 2 bad usage; 3 the stack or "
              "the target could not be started or reached; 130 interrupted.",
    .max_args = 1,
};

/* Everything the command line says, and what it loads: the run's options, the race protocol
 * (spec) and the brink.yaml it came from (cfg, which o points into). */
typedef struct race_args {
    race_opts o;
    int orders, vendors, stack_profile;
    bool quiet, stack_profile_set;
    const char *json_path, *config_path;
    race_spec spec;
    bool have_spec;
    config *cfg;
    custom_th_list th; /* --threshold */
} race_args;

static int set_release(const char *value, void *dest, char *err, size_t errlen) {
    if (race_release_parse(value, dest) == 0) return 0;
    snprintf(err, errlen, "option '--release': unknown mode '%s' (want loop or barrier)", value);
    return -1;
}

/* --segment and --start-at, refused: docs/distributed.md says why the race is not split. */
static const char race_no_segment[] =
    "brink race does not take --segment or --start-at: an order's contention is its vendors racing "
    "from one process, so more machines add orders, not contention; run it from one machine";

/* The profile named on the command line (or moderate): its orders and vendors, unless --orders
 * or --vendors say otherwise ("custom" then, when no profile was named). */
static int race_args_profile(race_args *a, const char *name, char *err, size_t errlen) {
    int pi = DEFAULT_PROFILE;
    if (name) {
        const char *names[NPROFILES];
        pi = -1;
        for (int i = 0; i < NPROFILES; i++) {
            names[i] = profiles[i].name;
            if (!strcmp(name, names[i])) pi = i;
        }
        if (pi < 0) {
            if (cli_suggest(name, names, NPROFILES))
                cli_unknown("profile", name, names, NPROFILES, err, errlen);
            else
                err_set(err, errlen, "unknown profile '%s' (light, moderate, heavy or stress)",
                        name);
            return CLI_ERROR;
        }
    }
    a->o.orders = a->orders ? a->orders : profiles[pi].orders;
    a->o.vendors = a->vendors ? a->vendors : profiles[pi].vendors;
    a->o.profile = name || !(a->orders || a->vendors) ? profiles[pi].name : "custom";
    return CLI_OK;
}

/* Reads argv into a against the option table and the profile: CLI_OK, CLI_EXIT_HELP or
 * CLI_ERROR. */
static int race_args_parse(race_args *a, int argc, char **argv, char *err, size_t errlen) {
    race_opts *o = &a->o;
    /* one option a row: the table reads as a table */
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "orders", .kind = CLI_INT, .dest = &a->orders, .min = 1, .max = 1000000,
         .meta = "N", .help = "orders to race (overrides the profile)"},
        {.name = "vendors", .kind = CLI_INT, .dest = &a->vendors, .min = 2, .max = 1000,
         .meta = "V", .help = "vendors claiming each order (a race needs at least 2)"},
        CLI_STACK_PROFILE_AS(&a->stack_profile, &a->stack_profile_set,
                             "dispatchd's configuration on the embedded stack; untuned has the "
                             "naive check-then-act accept"),
        {.name = "keep-stack", .kind = CLI_FLAG, .dest = &o->keep_stack,
         .help = "keep the embedded stack's directory (logs, data)"},
        {.name = "target", .kind = CLI_STR, .dest = &o->target, .meta = "URL",
         .help = "race an already running service instead of the embedded stack"},
        CLI_SECRET_FILE_AS(&o->secret_file, "signing secret of the creation webhooks, from file F "
                                            "(with --target; without a secret they are sent unsigned)"),
        CLI_SECRET_ENV_AS(&o->secret_env, "the same secret, from environment variable VAR"),
        {.name = "pg", .kind = CLI_STR, .dest = &o->pg_url, .meta = "URL",
         .help = "PostgreSQL of the target, for the SQL audit (password in PGPASSWORD or "
                 "PGPASSFILE, never in the URL)"},
        CLI_CONFIG(&a->config_path),
        {.name = "release", .kind = CLI_FN, .fn = set_release, .dest = &o->release, .def = "loop",
         .meta = "MODE", .help = "loop (one thread writes every last byte) or barrier (one "
                                 "thread per vendor behind a pthread barrier)"},
        {.name = "settle", .kind = CLI_DURATION, .dest = &o->settle_ns, .max = NS_PER_S,
         .def = "1ms", .meta = "D",
         .help = "pause between the prefixes reaching the server and the release"},
        {.name = "timeout", .kind = CLI_DURATION, .dest = &o->timeout_ns, .min = NS_PER_MS,
         .def = "10s", .meta = "D", .help = "limit of each claim"},
        {.name = "setup-timeout", .kind = CLI_DURATION, .dest = &o->setup_timeout_ns,
         .min = NS_PER_MS, .def = "60s", .meta = "D",
         .help = "limit of creating the orders until they are visible"},
        {.name = "insecure", .kind = CLI_FLAG, .dest = &o->insecure,
         .help = "do not verify TLS certificates"},
        CLI_JSON(&a->json_path),
        {.name = "threshold", .kind = CLI_FN, .fn = custom_th_add, .dest = &a->th, .meta = "COND",
         .help = "a condition the race must meet, judged on its .stats: 'race_conditions<1', "
                 "'accept_p99_ms<200 orange<100' (repeatable; red: exit 99)"},
        SEGMENT_CLI_REFUSED((void *)race_no_segment),
        CLI_QUIET_AS(&a->quiet, "no progress line"),
        CLI_HELP,
    };
    /* clang-format on */
    const char *profile = NULL;
    int npos;
    int rc =
        cli_parse(&race_cli, opts, CLI_NOPTS(opts), argc, argv, &profile, 1, &npos, err, errlen);
    int nstat;
    const char *const *stat = race_stat_names(&nstat);
    if (rc == CLI_OK && custom_th_check(&a->th, stat, nstat, err, errlen) < 0) return CLI_ERROR;
    if (rc != CLI_OK) return rc;
    o->stack_profile = a->stack_profile ? STACK_PROFILE_UNTUNED : STACK_PROFILE_TUNED;
    return race_args_profile(a, npos ? profile : NULL, err, errlen);
}

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

/* The target and its protocol: a race.yaml, a brink.yaml (with its thresholds), or dispatchd's
 * protocol on the embedded stack. Returns EXIT_OK, or EXIT_USAGE/EXIT_FAILURE_ with a reason. */
static int race_args_spec(race_args *a, char *err, size_t errlen) {
    race_opts *o = &a->o;
    bool race_yaml = false;
    if (a->config_path && config_is_race_yaml(a->config_path, &race_yaml, err, errlen) < 0)
        return EXIT_USAGE;
    if (a->config_path && !race_yaml) {
        if (config_load(a->config_path, &a->cfg, err, errlen) < 0 ||
            config_apply_thresholds(a->cfg, err, errlen) < 0 ||
            brink_yaml_spec(a->cfg, &a->spec, o, err, errlen) < 0)
            return EXIT_USAGE;
    } else {
        if (config_apply_thresholds(NULL, err, errlen) < 0) return EXIT_USAGE;
        if (a->config_path) {
            if (race_spec_load(a->config_path, &a->spec, err, errlen) < 0) return EXIT_USAGE;
        } else if (race_spec_default(&a->spec, err, errlen) < 0) {
            return EXIT_FAILURE_;
        }
    }
    a->have_spec = true;
    o->spec = &a->spec;
    if (a->cfg) {
        if (!o->target) o->target = a->cfg->url;
        o->metrics_url = a->cfg->metrics_url;
    }
    o->use_stack = !o->target && !a->spec.target;
    return EXIT_OK;
}

/* --pg: a postgresql:// URL without a password in it; then the audit database's password when
 * the SQL truth runs on the brink.yaml's audit database. */
static int race_args_pg(race_args *a, char *err, size_t errlen) {
    race_opts *o = &a->o;
    const config *cfg = a->cfg;
    const race_spec *spec = &a->spec;
    bool pg_from_cfg = cfg && !o->pg_url && spec->sql_query && !spec->sql_url && cfg->audit_url;
    if (o->pg_url) {
        if (strncmp(o->pg_url, "postgresql://", 13) && strncmp(o->pg_url, "postgres://", 11)) {
            err_set(err, errlen, "--pg %s: want a postgresql:// URL", o->pg_url);
            return -1;
        }
        if (url_has_password(o->pg_url)) {
            err_set(err, errlen,
                    "--pg: the URL carries a password; put it in PGPASSWORD or "
                    "PGPASSFILE instead of on the command line");
            return -1;
        }
    }
    if (pg_from_cfg) { /* truth.sql without a url: the audit's database */
        o->pg_url = cfg->audit_url;
        o->pg_password = config_audit_password(cfg);
    } else if (cfg && !o->pg_url && spec->sql_url && cfg->audit_url &&
               !strcmp(spec->sql_url, cfg->audit_url)) {
        o->pg_password = config_audit_password(cfg);
    }
    if (o->pg_url && !spec->sql_query) {
        err_set(err, errlen, "--pg: %s has no truth.sql query to run there", spec->file);
        return -1;
    }
    return 0;
}

/* The --json file's directory must be writable before the run, not after it. */
static int race_args_json(const char *json_path, char *err, size_t errlen) {
    return preflight_json_path(json_path, err, errlen) == EXIT_OK ? 0 : -1;
}

/* What the table cannot say alone: options that exclude or need each other, given the target
 * and its protocol. 0, or -1 with a reason (bad usage). */
static int race_args_check(race_args *a, char *err, size_t errlen) {
    race_opts *o = &a->o;
    const race_spec *spec = &a->spec;
    if (o->secret_file && o->secret_env) {
        err_set(err, errlen, "give either --secret-file or --secret-env, not both");
        return -1;
    }
    if (o->use_stack && (o->secret_file || o->secret_env || o->pg_url)) {
        err_set(err, errlen,
                "--secret-file, --secret-env and --pg go with --target (the embedded stack "
                "brings its own)");
        return -1;
    }
    if (!o->use_stack && (a->stack_profile_set || o->keep_stack)) {
        err_set(err, errlen,
                "--stack-profile and --keep-stack are for the embedded stack: drop "
                "them with %s",
                a->cfg ? "-f (your own stack)" : "--target");
        return -1;
    }
    if (race_args_pg(a, err, errlen) < 0) return -1;
    if (spec->file && spec->sql_query && !spec->sql_url && !o->use_stack && !o->pg_url) {
        err_set(err, errlen,
                "%s: truth.sql has no url (give it there or with --pg; only the embedded stack "
                "brings its own)",
                spec->file);
        return -1;
    }
    if (spec->file && spec->create_sign != SIGN_NONE && !o->use_stack && !o->secret_file &&
        !o->secret_env && !spec->secret_file && !spec->secret_env) {
        err_set(err, errlen,
                "%s: create.sign needs a secret: secret_file or secret_env there, or "
                "--secret-file/--secret-env",
                spec->file);
        return -1;
    }
    if (!o->use_stack) {
        url u;
        char sub[400];
        if (url_parse(o->target ? o->target : spec->target, &u, sub, sizeof sub) < 0) {
            err_set(err, errlen, "--target: %s", sub);
            return -1;
        }
        url_free(&u);
    }
    return race_args_json(a->json_path, err, errlen);
}

/* Your own service: the target takes a connection, the SQL truth's database connects and its
 * query prepares, the --json path is writable — in seconds, before any order is created. */
static int race_preflight(const race_args *a, char *err, size_t errlen) {
    const race_opts *o = &a->o;
    const race_spec *spec = &a->spec;
    const char *sql = o->pg_url ? o->pg_url : spec->sql_url;
    char where[300]; /* what named the database */
    if (a->cfg && o->pg_url && o->pg_url == a->cfg->audit_url)
        snprintf(where, sizeof where, "%s: audit.url (the SQL truth)", a->cfg->file);
    else if (o->pg_url)
        snprintf(where, sizeof where, "--pg");
    else
        snprintf(where, sizeof where, "%s: truth.sql.url", spec->file ? spec->file : "race");
    preflight pf = {.target_url = o->target ? o->target : spec->target, /* --json: checked */
                    .sql_url = spec->sql_query ? sql : NULL,
                    .sql_password = o->pg_password,
                    .sql_query = spec->sql_query,
                    .sql_where = where};
    return preflight_run(&pf, err, errlen);
}

static void race_args_free(race_args *a) {
    if (a->have_spec) race_spec_free(&a->spec);
    config_free(a->cfg);
}

/* The race itself; SIGINT and SIGTERM stop it with a partial result. Returns race_run's status;
 * res is filled whatever it is (race_result_free it). */
static int race_cmd_run(race_args *a, race_result *res, char *err, size_t errlen) {
    stopsig sig;
    a->o.stop = stopsig_catch(&sig);
    a->o.progress = a->quiet ? NULL : stderr;
    a->o.progress_tty = isatty(STDERR_FILENO);
    int status = race_run(&a->o, res, err, errlen);
    stopsig_release(&sig);
    return status;
}

/* The verdict of a finished (or interrupted) race: the terminal table with its thresholds and
 * the result document. Returns the exit status: EXIT_THRESHOLDS when a threshold is red. */
static int race_cmd_report(const race_args *a, race_result *res, int status, char *err,
                           size_t errlen) {
    bool json_stdout = a->json_path && !strcmp(a->json_path, "-");
    th_result th[RACE_NTHRESHOLDS];
    int nth = race_thresholds(res, th);
    FILE *out = json_stdout ? stderr : stdout;
    race_print(out, res, th, nth);
    th_status worst = threshold_worst(th, nth);
    if (a->json_path || a->th.n) {
        json_t *doc = race_json(res, th, nth);
        th_status mine = custom_th_report(&a->th, doc, out);
        if (mine > worst) worst = mine;
        if (a->json_path && jx_write_json(doc, a->json_path, err, errlen) < 0)
            status = EXIT_FAILURE_;
        json_decref(doc);
    }
    if (status == EXIT_OK && worst == TH_RED) status = EXIT_THRESHOLDS;
    if (status == EXIT_INTERRUPTED) err_set(err, errlen, "interrupted: the result is partial");
    return status;
}

int race_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    race_args args = {.o.profile = NULL}, *a = &args;
    int prc = race_args_parse(a, argc, argv, err, errlen);
    if (prc != CLI_OK) return prc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    int status = race_args_spec(a, err, errlen);
    if (status == EXIT_OK && race_args_check(a, err, errlen) < 0) status = EXIT_USAGE;
    if (status == EXIT_OK && !a->o.use_stack) status = race_preflight(a, err, errlen);
    if (status == EXIT_OK) {
        race_result res;
        status = race_cmd_run(a, &res, err, errlen);
        if (status == EXIT_OK || status == EXIT_INTERRUPTED)
            status = race_cmd_report(a, &res, status, err, errlen);
        race_result_free(&res);
    }
    race_args_free(a);
    return status;
}
