/* suite_cmd.c — `brink suite quick|full|stress [options]`: the profile's tests one after another,
 * then the reports. The decisions (profiles, command lines, verdicts, the summary) are in
 * suite.c; this file runs processes and writes files.
 *
 * Each test runs as a child process of this very binary (/proc/self/exe) with its own command
 * line: a test's crash or leak stays in its process, every test starts from a clean slate (its
 * own embedded stack), and every result is a file anyway. The children follow the project's
 * rules for child processes (stack/proc.c): their own process group, PR_SET_PDEATHSIG (SIGTERM:
 * if the suite dies, the test stops its stack and exits), reaped. They share the suite's
 * terminal, so their tables, progress lines and colours appear as when run alone; because they
 * are in their own process groups, Ctrl-C reaches only the suite, which passes it on to the
 * running test (it stops, writes its partial result and removes its stack), waits for it, and
 * still writes reports and summary.json for what ran; a second Ctrl-C kills the test's process
 * group (the stack's reaper still cleans up).
 *
 * Files: OUT/<UTC timestamp>/ holds <test>.json (written by each test), junit.xml and
 * report.html (report/junit.c and report/html.c, called directly on the documents), and
 * summary.json (brink.summary/1); each is written to a temporary name and renamed. OUT/latest is
 * a symbolic link to the newest run, replaced atomically (a new link renamed over it). */
#include "suite/suite_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "config/race_spec.h"
#include "core/cli.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/exitcode.h"
#include "report/html.h"
#include "report/junit.h"
#include "core/json.h"
#include "report/report_cmd.h"
#include "stack/proc.h"
#include "suite/suite.h"
#include "race/race.h"
#include "resilience/resil.h"
#include "verdict/custom_th.h"
#include "verdict/threshold.h"
#include "webhook/webhook.h"

#define GRACE_NS     (60 * NS_PER_S) /* a stopped test's time to write its result and clean up */
#define HEARTBEAT_NS (60 * NS_PER_S) /* "still running" lines when the output is not a terminal */

static volatile sig_atomic_t sig_count, last_sig;

static void on_signal(int sig) {
    last_sig = sig;
    sig_count = sig_count + 1;
}

/* ---- options --------------------------------------------------------------------------------- */

typedef struct cmd_opts {
    const suite_profile *profile;
    bool sel[SUITE_MAX_TESTS];
    const char *out_root, *json_path;
    const char *only, *skip; /* --only, --skip: the selection, made into sel by check_args */
    suite_opts pass;
} cmd_opts;

#define SUMMARY_MAX 8192

/* Appends to the summary being built in buf (used bytes in *n); the help is cut, never
 * overrun, if the profile table ever outgrows the buffer. */
static void summary_add(char *buf, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void summary_add(char *buf, size_t *n, const char *fmt, ...) {
    if (*n >= SUMMARY_MAX) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *n, SUMMARY_MAX - *n, fmt, ap);
    va_end(ap);
    *n += w < 0 ? 0 : (size_t)w;
}

/* What the suite does, and the table of profiles with every test's command line (suite.c),
 * so that --help and the profiles cannot drift apart. */
static void suite_summary(char *buf) {
    int np;
    const suite_profile *p = suite_profiles(&np);
    size_t n = 0;
    buf[0] = '\0';
    summary_add(buf, &n, "%s",
                "Runs brink's tests one after another, each judged by its thresholds, on the "
                "embedded stack (or your own with -f), and writes OUT/<UTC timestamp>/: one "
                "result document per test (<test>.json), summary.json, junit.xml and "
                "report.html, with OUT/latest linked to it. Prints each test's table, then a "
                "summary of all of them with the advice.\n"
                "\n"
                "Profiles (default quick):\n");
    for (int i = 0; i < np; i++) {
        summary_add(buf, &n, "  %-8s %s\n", p[i].name, p[i].what);
        for (int j = 0; j < p[i].n; j++) {
            summary_add(buf, &n, "             brink");
            for (int k = 0; p[i].entries[j].args[k]; k++)
                summary_add(buf, &n, " %s", p[i].entries[j].args[k]);
            summary_add(buf, &n, "\n");
        }
    }
}

/* "unknown profile 'x'; did you mean 'y'?", or the profiles when none is close. */
static void unknown_profile(const char *name, char *err, size_t errlen) {
    int np;
    const suite_profile *p = suite_profiles(&np);
    const char *names[SUITE_MAX_TESTS];
    for (int i = 0; i < np && i < SUITE_MAX_TESTS; i++) names[i] = p[i].name;
    if (cli_suggest(name, names, (size_t)np))
        cli_unknown("profile", name, names, (size_t)np, err, errlen);
    else
        err_set(err, errlen, "unknown profile '%.60s': quick, full or stress", name);
}

/* Reads argv into o against the option table: CLI_OK, CLI_EXIT_HELP (help printed) or
 * CLI_ERROR with a reason. */
/* --threshold TEST:COND: a test of the suite, and a condition on a number its document has. */
static int add_threshold(const char *value, void *dest, char *err, size_t errlen) {
    suite_opts *o = dest;
    const char *colon = strchr(value, ':');
    char test[40];
    snprintf(test, sizeof test, "%.*s", colon ? (int)(colon - value) : 0, value);
    if (!colon || !suite_test_known(test)) {
        err_set(err, errlen,
                "--threshold '%s': want TEST:COND with TEST one of webhook, capacity, race, "
                "redis-failure, db-restart (e.g. 'webhook:p99_ms<200')",
                value);
        return -1;
    }
    if (o->nth == SUITE_MAX_THRESHOLDS) {
        err_set(err, errlen, "too many --threshold options (at most %d)", SUITE_MAX_THRESHOLDS);
        return -1;
    }
    custom_th_list one = {.n = 0};
    if (custom_th_add(colon + 1, &one, err, errlen) < 0) return -1;
    int n = 0;
    const char *const *names;
    int rc;
    if (!strcmp(test, "webhook")) {
        rc = webhook_threshold_check(&one, err, errlen);
    } else {
        names = !strcmp(test, "capacity") ? webhook_search_stat_names(&n)
                : !strcmp(test, "race")   ? race_stat_names(&n)
                                          : resil_report_stat_names(&n);
        rc = custom_th_check(&one, names, n, err, errlen);
    }
    if (rc < 0) return -1;
    snprintf(o->th_buf[o->nth], sizeof o->th_buf[o->nth], "%s", test);
    o->th_test[o->nth] = o->th_buf[o->nth];
    o->th_cond[o->nth] = colon + 1;
    o->nth++;
    return 0;
}

static int parse_args(int argc, char **argv, cmd_opts *o, char *err, size_t errlen) {
    static const char *const stack_profiles[] = {"tuned", "untuned", NULL};
    char summary[SUMMARY_MAX];
    suite_summary(summary);
    const cli_cmd suite_cli = {
        .name = "suite",
        .args = "[quick|full|stress] [options]",
        .summary = summary,
        .epilog = "Exit status: 0 nothing red; 99 a threshold is red; 130 interrupted "
                  "(summary.json still written for what ran); 2 bad usage (or a test found bad "
                  "configuration); 3 a stack or target could not be started or reached; 1 a "
                  "test failed otherwise (crashed, no result) or a file could not be written.",
        .max_args = 1,
    };
    int profile_i = 0;
    bool stack_profile_set = false;
    const char *name = "quick";
    memset(o, 0, sizeof *o);
    /* one option a row: the table reads as a table */
    /* clang-format off */
    const cli_opt opts[] = {
        {.name = "out", .kind = CLI_STR, .dest = &o->out_root, .def = "performance-results",
         .meta = "DIR", .help = "where the run directories go"},
        {.name = "stack-profile", .kind = CLI_CHOICE, .dest = &profile_i,
         .choices = stack_profiles, .given = &stack_profile_set, .meta = "P",
         .help = "dispatchd's configuration on the embedded stack, passed to every test (by "
                 "default each test's own: tuned)"},
        CLI_CONFIG(&o->pass.config),
        {.name = "only", .kind = CLI_STR, .dest = &o->only, .meta = "LIST",
         .help = "only these tests (comma-separated: webhook, capacity, race, redis-failure, "
                 "db-restart)"},
        {.name = "skip", .kind = CLI_STR, .dest = &o->skip, .meta = "LIST",
         .help = "all but these tests"},
        CLI_JSON_AS(&o->json_path, "also write the summary (brink.summary/1) to OUT; - for "
                                   "stdout (the terminal output then goes to stderr)"),
        {.name = "threshold", .kind = CLI_FN, .fn = add_threshold, .dest = &o->pass,
         .meta = "TEST:COND", .help = "a condition on one test's .stats, passed to it as its "
                                      "--threshold: 'webhook:p99_ms<200', "
                                      "'race:accept_p99_ms<100 orange<50' (repeatable)"},
        CLI_QUIET_AS(&o->pass.quiet, "the tests' verdicts and the summary only (no progress)"),
        CLI_HELP,
    };
    /* clang-format on */
    int npos;
    int rc = cli_parse(&suite_cli, opts, CLI_NOPTS(opts), argc, argv, &name, 1, &npos, err, errlen);
    if (rc != CLI_OK) return rc;
    if (stack_profile_set) o->pass.stack_profile = stack_profiles[profile_i];
    o->profile = suite_profile_find(name);
    if (!o->profile) {
        unknown_profile(name, err, errlen);
        return CLI_ERROR;
    }
    return CLI_OK;
}

/* -f FILE, read once before anything starts, as the selected tests will read it: a mistake in it
 * is one line "FILE:LINE: KEY: ..." and exit 2 with no run directory, not the same error from
 * every test. A race.yaml (brink race -f) does for a selection of race tests only; for any other
 * test the file is a brink.yaml. 0, or -1 with the reason. */
static int check_config(const cmd_opts *o, char *err, size_t errlen) {
    bool race_only = true, race_yaml = false;
    for (int i = 0; i < o->profile->n; i++)
        if (o->sel[i] && strcmp(o->profile->entries[i].test, "race")) race_only = false;
    if (config_is_race_yaml(o->pass.config, &race_yaml, err, errlen) < 0) return -1;
    if (race_yaml && race_only) {
        race_spec spec;
        if (race_spec_load(o->pass.config, &spec, err, errlen) < 0) return -1;
        race_spec_free(&spec);
        return 0;
    }
    config *cfg = NULL;
    if (config_load(o->pass.config, &cfg, err, errlen) < 0) return -1;
    config_free(cfg);
    return 0;
}

/* What the table cannot say alone, the selection of the profile's tests, and the -f file: 0, or
 * -1 with a reason (bad usage). */
static int check_args(cmd_opts *o, char *err, size_t errlen) {
    if (!o->out_root[0]) {
        err_set(err, errlen, "--out needs a directory");
        return -1;
    }
    if (o->pass.config && o->pass.stack_profile) {
        err_set(err, errlen,
                "--stack-profile is for the embedded stack, not with -f (your "
                "service is as you configured it)");
        return -1;
    }
    if (o->pass.config && access(o->pass.config, R_OK) < 0) {
        err_set(err, errlen, "-f %.200s: %s", o->pass.config, strerror(errno));
        return -1;
    }
    if (suite_select(o->profile, o->only, o->skip, o->sel, err, errlen) < 0) return -1;
    return o->pass.config ? check_config(o, err, errlen) : 0;
}

/* ---- files ----------------------------------------------------------------------------------- */

/* mkdir -p */
static int make_dirs(const char *path, char *err, size_t errlen) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        err_set(err, errlen, "--out: path too long");
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p) continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
            err_set(err, errlen, "cannot create %s: %s", buf, strerror(errno));
            return -1;
        }
        *p = saved;
        if (!saved) break;
    }
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        err_set(err, errlen, "--out %s: not a directory", path);
        return -1;
    }
    return 0;
}

/* OUT/<UTC timestamp>[-N], created. name receives the last component. */
static int make_run_dir(const char *root, int64_t wall_ns, char *dir, size_t dirlen, char *name,
                        size_t namelen, char *err, size_t errlen) {
    if (make_dirs(root, err, errlen) < 0) return -1;
    time_t secs = (time_t)(wall_ns / NS_PER_S);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    for (int i = 0; i < 100; i++) {
        if (i == 0)
            snprintf(name, namelen, "%s", ts);
        else
            snprintf(name, namelen, "%s-%d", ts, i);
        size_t l = strlen(root);
        snprintf(dir, dirlen, "%s%s%s", root, l && root[l - 1] == '/' ? "" : "/", name);
        if (mkdir(dir, 0755) == 0) return 0;
        if (errno != EEXIST) break;
    }
    err_set(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    return -1;
}

/* OUT/latest -> name, replaced atomically: a new link under a temporary name renamed over it. */
static int link_latest(const char *root, const char *name, char *err, size_t errlen) {
    char tmp[4200], dst[4200];
    size_t l = strlen(root);
    const char *sep = l && root[l - 1] == '/' ? "" : "/";
    snprintf(tmp, sizeof tmp, "%s%s.latest.%ld.tmp", root, sep, (long)getpid());
    snprintf(dst, sizeof dst, "%s%slatest", root, sep);
    unlink(tmp);
    if (symlink(name, tmp) < 0 || rename(tmp, dst) < 0) {
        err_set(err, errlen, "cannot link %s to %s: %s", dst, name, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct doc_set {
    json_t **docs;
    const char **names;
    int n;
} doc_set;

static int write_junit(FILE *f, const void *arg, char *err, size_t errlen) {
    const doc_set *s = arg;
    return junit_write(f, s->docs, s->n, err, errlen);
}

static int write_html(FILE *f, const void *arg, char *err, size_t errlen) {
    const doc_set *s = arg;
    return html_write(f, s->docs, s->names, s->n, err, errlen);
}

/* Keeps the first failure's message in first. */
static void keep_first(int rc, const char *msg, char *first, size_t n) {
    if (rc < 0 && !first[0]) snprintf(first, n, "%s", msg);
}

/* ---- running one test ------------------------------------------------------------------------ */

typedef struct run_ctx {
    FILE *out;
    bool tty, quiet;
    const char *exe, *dir;
    const suite_opts *pass;
    int64_t t0;
} run_ctx;

static void fmt_clock(char *out, size_t n, double s) {
    int v = s < 0 ? 0 : (int)(s + 0.5);
    snprintf(out, n, "%d:%02d", v / 60, v % 60);
}

static int status_code(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 1;
}

/* Waits for the test, passing on the suite's signals and enforcing the entry's bound. Returns
 * the exit code (128 + N after signal N); *stop says what the suite did. */
static int wait_child(const run_ctx *c, const suite_entry *e, pid_t pid, suite_stop *stop) {
    int64_t start = clock_now_ns(), deadline = start + (int64_t)e->limit_s * NS_PER_S;
    int64_t stopped_at = 0, next_beat = start + HEARTBEAT_NS;
    bool killed = false;
    int seen = 0, code = 1;
    for (;;) {
        int st;
        int w = proc_wait(pid, 250 * NS_PER_MS, &st);
        if (w == 0) {
            code = status_code(st);
            break;
        }
        if (w < 0) break; /* not our child any more: nothing to wait for */
        int64_t now = clock_now_ns();
        int sc = sig_count;
        if (sc > seen) {
            seen = sc;
            if (!stopped_at) {
                *stop = SUITE_SIGNAL;
                stopped_at = now;
                fprintf(c->out,
                        "\nbrink suite: interrupted — stopping brink %s (it keeps its "
                        "partial result); again to kill it\n",
                        e->test);
                fflush(c->out);
                kill(-pid, last_sig == SIGTERM ? SIGTERM : SIGINT);
            } else if (!killed) {
                *stop = SUITE_SIGNAL;
                killed = true;
                kill(-pid, SIGKILL);
            }
        }
        if (!stopped_at && now >= deadline) {
            *stop = SUITE_LIMIT;
            stopped_at = now;
            fprintf(c->out, "\nbrink suite: brink %s ran longer than %d s — stopping it\n", e->test,
                    e->limit_s);
            fflush(c->out);
            kill(-pid, SIGINT);
        }
        if (stopped_at && !killed && now - stopped_at > GRACE_NS) {
            killed = true;
            kill(-pid, SIGKILL);
        }
        if (!c->tty && !c->quiet && !stopped_at && now >= next_beat) {
            char el[16];
            fmt_clock(el, sizeof el, (double)(now - c->t0) / NS_PER_S);
            fprintf(c->out, "  … brink %s running for %d s (suite %s)\n", e->test,
                    (int)((now - start) / NS_PER_S), el);
            fflush(c->out);
            next_beat += HEARTBEAT_NS;
        }
    }
    proc_group_end(pid, SIGKILL, NS_PER_S); /* anything the test left in its group */
    return code;
}

/* Runs entry e: spawn, wait, judge, load its document (appended to docs when readable).
 * *doc_index receives its index in docs, or -1. */
static void run_test(const run_ctx *c, const suite_entry *e, suite_result *r, report_docs *docs,
                     int *doc_index) {
    char json_path[4400];
    if (snprintf(json_path, sizeof json_path, "%s/%s.json", c->dir, e->test) >=
        (int)sizeof json_path)
        json_path[0] = '\0'; /* cannot happen: the run directory's path is shorter */
    remove(json_path);
    char **argv = suite_argv(e, c->exe, c->pass, json_path);
    r->test = e->test;
    r->args = json_array();
    for (int i = 1; argv && argv[i]; i++) json_array_append_new(r->args, json_string(argv[i]));
    *doc_index = -1;
    int64_t start = clock_now_ns();
    char why[512] = "";
    pid_t pid = 0;
    suite_stop stop = SUITE_RAN;
    int code = -1;
    proc_spec sp = {
        .argv = argv,
        .stdin_fd = -1,
        .out_fd = fileno(c->out),
        .pdeathsig = SIGTERM,
    };
    fflush(c->out);
    if (!argv) {
        snprintf(why, sizeof why, "out of memory");
        stop = SUITE_NOSTART;
    } else if (proc_spawn(&sp, &pid, why, sizeof why) < 0) {
        stop = SUITE_NOSTART;
    } else {
        code = wait_child(c, e, pid, &stop);
    }
    free(argv);
    r->duration_s = (double)(clock_now_ns() - start) / NS_PER_S;
    const json_t *doc = NULL;
    if (stop != SUITE_NOSTART && access(json_path, F_OK) == 0) {
        int before = docs->n;
        if (report_docs_load(json_path, docs, why, sizeof why) == 0 && docs->n > before) {
            *doc_index = before;
            doc = docs->docs[before];
            snprintf(r->file, sizeof r->file, "%s.json", e->test);
        }
    }
    suite_judge(r, code, stop, e->limit_s, doc, why[0] ? why : NULL);
}

/* ---- the command ----------------------------------------------------------------------------- */

static void resolve_exe(char *exe, size_t n) {
    ssize_t l = readlink("/proc/self/exe", exe, n - 1);
    exe[l > 0 ? l : 0] = '\0';
    /* a rebuilt binary leaves "… (deleted)": the running one is still /proc/self/exe */
    if (l <= 0 || strstr(exe, " (deleted)") || access(exe, X_OK) < 0)
        snprintf(exe, n, "/proc/self/exe");
}

int suite_cmd_main(int argc, char **argv, char *err, size_t errlen) {
    cmd_opts o;
    int prc = parse_args(argc, argv, &o, err, errlen);
    if (prc != CLI_OK) return prc == CLI_EXIT_HELP ? EXIT_OK : EXIT_USAGE;
    if (check_args(&o, err, errlen) < 0) return EXIT_USAGE;
    bool json_stdout = o.json_path && !strcmp(o.json_path, "-");
    FILE *out = json_stdout ? stderr : stdout;
    bool plain = threshold_want_plain(out);

    int64_t wall0 = clock_wall_ns(), t0 = clock_now_ns();
    char dir[4200], name[64];
    if (make_run_dir(o.out_root, wall0, dir, sizeof dir, name, sizeof name, err, errlen) < 0)
        return EXIT_FAILURE_;
    char why[512];
    if (link_latest(o.out_root, name, why, sizeof why) < 0)
        fprintf(stderr, "brink suite: %s (the run goes on)\n", why);
    char exe[4096];
    resolve_exe(exe, sizeof exe);

    const suite_profile *p = o.profile;
    const char *planned[SUITE_MAX_TESTS];
    const suite_entry *entries[SUITE_MAX_TESTS];
    int nplanned = 0, expect_total = 0;
    for (int i = 0; i < p->n; i++) {
        if (!o.sel[i]) continue;
        entries[nplanned] = &p->entries[i];
        planned[nplanned++] = p->entries[i].test;
        expect_total += p->entries[i].expect_s;
    }

    sig_count = 0;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    run_ctx c = {out, isatty(fileno(out)), o.pass.quiet, exe, dir, &o.pass, t0};
    fprintf(out, "brink suite %s — %d test%s, about %d:%02d, results in %s/\n", p->name, nplanned,
            nplanned == 1 ? "" : "s", expect_total / 60, expect_total % 60, dir);
    suite_result rs[SUITE_MAX_TESTS];
    memset(rs, 0, sizeof rs);
    int doc_of[SUITE_MAX_TESTS] = {0}, n = 0, expect_done = 0;
    report_docs docs = {0};
    for (int i = 0; i < nplanned && !sig_count; i++) {
        const suite_entry *e = entries[i];
        char el[16], left[16];
        fmt_clock(el, sizeof el, (double)(clock_now_ns() - t0) / NS_PER_S);
        fmt_clock(left, sizeof left, expect_total - expect_done);
        fprintf(out, "\n== [%d/%d] brink", i + 1, nplanned);
        for (int k = 0; e->args[k]; k++) fprintf(out, " %s", e->args[k]);
        if (o.pass.stack_profile) fprintf(out, " --stack-profile %s", o.pass.stack_profile);
        fprintf(out, " — %s elapsed, about %s left\n", el, left);
        run_test(&c, e, &rs[i], &docs, &doc_of[i]);
        n++;
        expect_done += e->expect_s;
    }
    /* a signal from here on is noted and ignored: the reports and the summary are written */
    bool interrupted = sig_count > 0;

    /* the reports: every document, and a stand-in for each test that left none */
    char when[32];
    clock_format_utc(wall0, when);
    json_t *all[SUITE_MAX_TESTS], *per_test[SUITE_MAX_TESTS];
    const char *names[SUITE_MAX_TESTS];
    char file_names[SUITE_MAX_TESTS][64];
    for (int i = 0; i < n; i++) {
        per_test[i] = doc_of[i] >= 0 ? docs.docs[doc_of[i]] : NULL;
        if (per_test[i]) {
            all[i] = json_incref(per_test[i]);
            snprintf(file_names[i], sizeof file_names[i], "%s", rs[i].file);
        } else {
            all[i] = suite_placeholder_doc(&rs[i], p->name, when);
            snprintf(file_names[i], sizeof file_names[i], "(no result document)");
        }
        names[i] = file_names[i];
    }
    doc_set set = {all, names, n};
    char path[4300], ferr[512] = "";
    snprintf(path, sizeof path, "%s/junit.xml", dir);
    keep_first(jx_write_file(path, write_junit, &set, why, sizeof why), why, ferr, sizeof ferr);
    snprintf(path, sizeof path, "%s/report.html", dir);
    keep_first(jx_write_file(path, write_html, &set, why, sizeof why), why, ferr, sizeof ferr);
    for (int i = 0; i < n; i++) json_decref(all[i]);

    suite_run run = {
        .profile = p->name,
        .stack_profile = o.pass.config          ? NULL
                         : o.pass.stack_profile ? o.pass.stack_profile
                                                : "tuned",
        .config = o.pass.config,
        .dir = dir,
        .started_wall_ns = wall0,
        .duration_s = (double)(clock_now_ns() - t0) / NS_PER_S,
        .planned = planned,
        .nplanned = nplanned,
        .interrupted = interrupted,
    };
    json_t *summary = suite_summary_json(&run, rs, n);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    keep_first(jx_write_file(path, jx_json_writer, summary, why, sizeof why), why, ferr,
               sizeof ferr);
    if (o.json_path && !json_stdout)
        keep_first(jx_write_file(o.json_path, jx_json_writer, summary, why, sizeof why), why, ferr,
                   sizeof ferr);

    suite_print_summary(out, &run, rs, per_test, n, plain);
    fprintf(out, "\n  results  %s/  (jq '.stats' %s/latest/*.json)\n", dir, o.out_root);
    fprintf(out, "  summary  %s/summary.json\n  report   %s/report.html\n  CI       %s/junit.xml\n",
            dir, dir, dir);
    fflush(out);
    if (json_stdout)
        keep_first(jx_write_file("-", jx_json_writer, summary, why, sizeof why), why, ferr,
                   sizeof ferr);
    json_decref(summary);

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    suite_overall ov;
    suite_overall_of(rs, n, interrupted, &ov);
    for (int i = 0; i < n; i++) suite_result_free(&rs[i]);
    report_docs_free(&docs);
    if (ferr[0]) {
        err_set(err, errlen, "%s", ferr);
        return ov.exit_code ? ov.exit_code : EXIT_FAILURE_;
    }
    if (ov.exit_code == 130)
        err_set(err, errlen, "interrupted; the summary of what ran is in %s/summary.json", dir);
    else if (ov.exit_code != 0 && ov.exit_code != 99)
        err_set(err, errlen, "%d of %d tests could not run or failed (see the summary above)",
                ov.n[SUITE_ERROR], n);
    return ov.exit_code;
}
