/* suite.c — what `brink suite` decides, kept apart from the processes that suite_cmd.c runs, so
 * that it can be tested alone: the profile table, the selection, each test's command line, the
 * verdict of each test and of the run, the summary document and the terminal summary.
 *
 * The profiles are a table, not code: each row is one brink test command with its arguments, the
 * time it takes on the 2-core reference machine (the progress line's estimate) and a bound after
 * which the suite stops it. quick is what `make demo` runs (well under 2 minutes); full runs
 * every test and every fault mode with moderate phases (under 10 minutes); stress pushes each
 * test to its heavy settings, each still bounded.
 *
 * A test's verdict comes from two witnesses that normally agree: its exit status (0, 99, 2, 3,
 * 130) and its result document (the worst threshold status). When they disagree the worse wins,
 * so that a red document can never hide behind an exit status of 0. */
#include "suite/suite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/version.h"
#include "core/json.h"
#include "verdict/threshold.h"

/* ---- the profiles ---------------------------------------------------------------------------- */

/* A recovery phase must be long enough to see a recovery within the test's orange bound:
 * recovery_s is the start of the first 3 s back at the baseline, so the phase is at least the
 * bound + 3 s (redis 5 s → 8 s, db 10 s → 13 s); shorter, a recovery that the table calls green
 * would go unseen and be judged red. */
#define QUICK_PHASES(recovery)                                                                     \
    "--baseline", "3s", "--fault", "5s", "--recovery", recovery, "--drain-timeout", "15s"
#define FULL_PHASES(recovery)                                                                      \
    "--baseline", "5s", "--fault", "8s", "--recovery", recovery, "--drain-timeout", "20s"
#define STRESS_PHASES                                                                              \
    "-R", "400", "--baseline", "10s", "--fault", "20s", "--recovery", "20s", "--drain-timeout",    \
        "60s"

static const suite_entry quick[] = {
    {"webhook", {"webhook", "light", NULL}, 12, 180},
    {"race", {"race", "light", NULL}, 4, 180},
    {"redis-failure", {"redis-failure", "down", QUICK_PHASES("8s"), NULL}, 21, 240},
    {"db-restart", {"db-restart", "crash", QUICK_PHASES("13s"), NULL}, 27, 240},
};

static const suite_entry full[] = {
    {"webhook", {"webhook", "moderate", NULL}, 23, 180},
    {"capacity", {"capacity", "--max-time", "80s", NULL}, 75, 300},
    {"race", {"race", "moderate", NULL}, 6, 300},
    {"redis-failure", {"redis-failure", "all", FULL_PHASES("10s"), NULL}, 170, 720},
    {"db-restart", {"db-restart", "all", FULL_PHASES("13s"), NULL}, 124, 480},
};

static const suite_entry stress[] = {
    {"webhook", {"webhook", "heavy", NULL}, 35, 300},
    {"capacity", {"capacity", "--max-time", "3m", NULL}, 90, 480},
    {"race", {"race", "stress", NULL}, 25, 900},
    {"redis-failure", {"redis-failure", "all", STRESS_PHASES, NULL}, 360, 1500},
    {"db-restart", {"db-restart", "all", STRESS_PHASES, NULL}, 240, 1000},
};

#define N_OF(a) (int)(sizeof(a) / sizeof((a)[0]))

static const suite_profile profiles[] = {
    {"quick", "webhook light, race light, Redis down, PostgreSQL crash (~1 min)", quick,
     N_OF(quick)},
    {"full", "webhook moderate, capacity, race moderate, every fault mode (~7 min)", full,
     N_OF(full)},
    {"stress", "webhook heavy, capacity, race stress, every fault at 400/s (~13 min)", stress,
     N_OF(stress)},
};

static const char *const test_names[] = {"webhook", "capacity", "race", "redis-failure",
                                         "db-restart"};

const suite_profile *suite_profiles(int *n) {
    *n = N_OF(profiles);
    return profiles;
}

const suite_profile *suite_profile_find(const char *name) {
    for (int i = 0; i < N_OF(profiles); i++)
        if (!strcmp(profiles[i].name, name)) return &profiles[i];
    return NULL;
}

bool suite_test_known(const char *name) {
    for (int i = 0; i < N_OF(test_names); i++)
        if (!strcmp(test_names[i], name)) return true;
    return false;
}

/* ---- selection ------------------------------------------------------------------------------- */

static int entry_index(const suite_profile *p, const char *name, size_t len) {
    for (int i = 0; i < p->n; i++)
        if (strlen(p->entries[i].test) == len && !strncmp(p->entries[i].test, name, len)) return i;
    return -1;
}

/* Applies one comma list: marks (only) or clears (skip) the named entries. */
static int apply_list(const suite_profile *p, const char *opt, const char *list, bool only,
                      bool *sel, char *err, size_t errlen) {
    const char *s = list;
    if (!*s) {
        err_set(err, errlen,
                "%s needs test names (webhook, capacity, race, redis-failure, "
                "db-restart)",
                opt);
        return -1;
    }
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), s);
        if (!len || len > 63 || !suite_test_known(name)) {
            err_set(err, errlen,
                    "%s: unknown test '%.40s' (webhook, capacity, race, redis-failure, "
                    "db-restart)",
                    opt, name);
            return -1;
        }
        int i = entry_index(p, s, len);
        if (i < 0 && only) {
            err_set(err, errlen, "--only %s: the %s profile has no %s test", name, p->name, name);
            return -1;
        }
        if (i >= 0) sel[i] = only;
        if (!comma) break;
        s = comma + 1;
    }
    return 0;
}

int suite_select(const suite_profile *p, const char *only, const char *skip, bool *sel, char *err,
                 size_t errlen) {
    for (int i = 0; i < p->n; i++) sel[i] = only == NULL;
    if (only && apply_list(p, "--only", only, true, sel, err, errlen) < 0) return -1;
    if (skip && apply_list(p, "--skip", skip, false, sel, err, errlen) < 0) return -1;
    for (int i = 0; i < p->n; i++)
        if (sel[i]) return 0;
    err_set(err, errlen, "--only/--skip leave no test to run in the %s profile", p->name);
    return -1;
}

/* ---- the child's command line ------------------------------------------------------------------
 */

char **suite_argv(const suite_entry *e, const char *exe, const suite_opts *o,
                  const char *json_path) {
    char **argv = calloc(SUITE_MAX_ARGS + 10 + 2 * SUITE_MAX_THRESHOLDS, sizeof *argv);
    if (!argv) return NULL;
    int n = 0;
    argv[n++] = (char *)exe;
    for (int i = 0; i < SUITE_MAX_ARGS && e->args[i]; i++) argv[n++] = (char *)e->args[i];
    if (o->stack_profile) {
        argv[n++] = "--stack-profile";
        argv[n++] = (char *)o->stack_profile;
    }
    if (o->config) {
        argv[n++] = "-f";
        argv[n++] = (char *)o->config;
    }
    if (o->quiet) argv[n++] = "-q";
    for (int i = 0; i < o->nth; i++) {
        if (strcmp(o->th_test[i], e->test)) continue;
        argv[n++] = "--threshold";
        argv[n++] = (char *)o->th_cond[i];
    }
    argv[n++] = "--json";
    argv[n++] = (char *)json_path;
    argv[n] = NULL;
    return argv;
}

/* ---- verdicts -------------------------------------------------------------------------------- */

const char *suite_status_name(suite_status s) {
    switch (s) {
    case SUITE_GREEN: return "green";
    case SUITE_ORANGE: return "orange";
    case SUITE_RED: return "red";
    case SUITE_ERROR: return "error";
    default: return "interrupted";
    }
}

/* The numbers that say most about each test: the summary's .stats and the table's last column. */
typedef struct key_num {
    const char *key, *label, *unit;
} key_num;

static const struct {
    const char *test;
    key_num keys[6];
} key_table[] = {
    {"webhook",
     {{"rps", "", "rps"}, {"p99_ms", "p99", "ms"}, {"error_rate", "errors", "fraction"}}},
    {"capacity",
     {{"max_sustainable_rps", "max", "rps"},
      {"knee_rps", "knee", "rps"},
      {"knee_p99_ms", "knee p99", "ms"}}},
    {"race",
     {{"race_conditions", "race conditions", "count"},
      {"win_rate", "win rate", "fraction"},
      {"resolution_p99_ms", "resolution p99", "ms"}}},
    {"redis-failure",
     {{"outage_error_rate", "outage errors", "fraction"},
      {"recovery_s", "recovery", "s"},
      {"max_backlog", "backlog", "count"},
      {"lost", "lost", "count"},
      {"duplicated", "duplicated", "count"}}},
    {"db-restart",
     {{"outage_error_rate", "outage errors", "fraction"},
      {"recovery_s", "recovery", "s"},
      {"max_backlog", "backlog", "count"},
      {"lost", "lost", "count"},
      {"duplicated", "duplicated", "count"}}},
};

static const key_num *keys_of(const char *test) {
    for (int i = 0; i < N_OF(key_table); i++)
        if (!strcmp(key_table[i].test, test)) return key_table[i].keys;
    return NULL;
}

static int status_index(const char *s) {
    if (!strcmp(s, "green")) return 0;
    if (!strcmp(s, "orange")) return 1;
    if (!strcmp(s, "red")) return 2;
    return 3;
}

static const char *exit_meaning(int code) {
    switch (code) {
    case 2: return "bad usage or configuration";
    case 3: return "the stack or the target could not be started or reached";
    case 130: return "interrupted";
    default: return NULL;
    }
}

void suite_judge(suite_result *r, int exit_code, suite_stop stop, int limit_s, const json_t *doc,
                 const char *why) {
    r->exit_code = exit_code;
    memset(r->counts, 0, sizeof r->counts);
    json_decref(r->stats);
    r->stats = json_object();
    r->error[0] = '\0';
    if (doc) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(doc, "thresholds"), i, t) {
            r->counts[status_index(jx_str(t, "status"))]++;
        }
        const json_t *st = json_object_get(doc, "stats");
        const key_num *k = keys_of(r->test);
        for (int j = 0; k && j < 6 && k[j].key; j++) {
            json_t *v = json_object_get(st, k[j].key);
            if (v) json_object_set(r->stats, k[j].key, v);
        }
    }
    suite_status from_doc = r->counts[2] ? SUITE_RED : r->counts[1] ? SUITE_ORANGE : SUITE_GREEN;
    bool finished = exit_code == 0 || exit_code == 99;
    if (stop == SUITE_NOSTART) {
        r->status = SUITE_ERROR;
        err_set(r->error, sizeof r->error, "could not be started%s%s", why ? ": " : "",
                why ? why : "");
    } else if (stop == SUITE_LIMIT && !finished) {
        r->status = SUITE_ERROR;
        err_set(r->error, sizeof r->error, "stopped: ran longer than the suite's bound of %d s",
                limit_s);
    } else if (exit_code == 130 || (stop == SUITE_SIGNAL && !finished)) {
        r->status = SUITE_INTERRUPTED;
        err_set(r->error, sizeof r->error, "interrupted%s", doc ? " (partial result)" : "");
    } else if (!finished) {
        r->status = SUITE_ERROR;
        const char *m = exit_meaning(exit_code);
        if (exit_code > 128)
            err_set(r->error, sizeof r->error, "killed by signal %d (%s)", exit_code - 128,
                    strsignal(exit_code - 128));
        else
            err_set(r->error, sizeof r->error, "exit status %d%s%s", exit_code, m ? ": " : "",
                    m ? m : "");
    } else if (!doc) {
        r->status = SUITE_ERROR;
        err_set(r->error, sizeof r->error, "exit status %d but no readable result document%s%s",
                exit_code, why ? ": " : "", why ? why : "");
    } else {
        r->status = exit_code == 99 ? SUITE_RED : SUITE_GREEN;
        if (from_doc > r->status) r->status = from_doc;
    }
}

void suite_result_free(suite_result *r) {
    json_decref(r->args);
    json_decref(r->stats);
    r->args = r->stats = NULL;
}

void suite_overall_of(const suite_result *rs, int n, bool interrupted, suite_overall *o) {
    memset(o, 0, sizeof *o);
    o->status = SUITE_GREEN;
    bool usage = false, unreachable = false;
    for (int i = 0; i < n; i++) {
        o->n[rs[i].status]++;
        if (rs[i].status > o->status) o->status = rs[i].status;
        if (rs[i].status == SUITE_ERROR && rs[i].exit_code == 2) usage = true;
        if (rs[i].status == SUITE_ERROR && rs[i].exit_code == 3) unreachable = true;
    }
    if (interrupted) o->status = SUITE_INTERRUPTED;
    if (o->status == SUITE_INTERRUPTED)
        o->exit_code = 130;
    else if (o->n[SUITE_ERROR])
        o->exit_code = usage ? 2 : unreachable ? 3 : 1;
    else if (o->n[SUITE_RED])
        o->exit_code = 99;
    else
        o->exit_code = 0;
}

/* ---- the summary document -------------------------------------------------------------------- */

static json_t *str_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

json_t *suite_summary_json(const suite_run *run, const suite_result *rs, int n) {
    suite_overall ov;
    suite_overall_of(rs, n, run->interrupted, &ov);
    char when[32];
    clock_format_utc(run->started_wall_ns, when);
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string(SUITE_SCHEMA));
    json_object_set_new(doc, "brink_version", json_string(BRINK_VERSION));
    json_object_set_new(doc, "profile", json_string(run->profile));
    json_object_set_new(doc, "stack_profile", str_or_null(run->stack_profile));
    json_object_set_new(doc, "config_file", str_or_null(run->config));
    json_object_set_new(doc, "dir", str_or_null(run->dir));
    json_object_set_new(doc, "started_at", json_string(when));
    json_object_set_new(doc, "duration_s", json_real(jx_round3(run->duration_s)));
    json_t *planned = json_array();
    for (int i = 0; i < run->nplanned; i++)
        json_array_append_new(planned, json_string(run->planned[i]));
    json_object_set_new(doc, "planned", planned);
    json_t *tests = json_array();
    int totals[4] = {0};
    for (int i = 0; i < n; i++) {
        const suite_result *r = &rs[i];
        json_t *t = json_object();
        json_object_set_new(t, "test", json_string(r->test));
        json_object_set_new(t, "args", r->args ? json_incref(r->args) : json_array());
        json_object_set_new(t, "file", r->file[0] ? json_string(r->file) : json_null());
        json_object_set_new(t, "exit_code", json_integer(r->exit_code));
        json_object_set_new(t, "status", json_string(suite_status_name(r->status)));
        json_object_set_new(t, "duration_s", json_real(jx_round3(r->duration_s)));
        json_t *c = json_object();
        static const char *const names[] = {"green", "orange", "red", "skipped"};
        for (int k = 0; k < 4; k++) {
            json_object_set_new(c, names[k], json_integer(r->counts[k]));
            totals[k] += r->counts[k];
        }
        json_object_set_new(t, "thresholds", c);
        json_object_set_new(t, "stats", r->stats ? json_incref(r->stats) : json_object());
        json_object_set_new(t, "error", r->error[0] ? json_string(r->error) : json_null());
        json_array_append_new(tests, t);
    }
    json_object_set_new(doc, "tests", tests);
    json_t *c = json_object();
    static const char *const names[] = {"green", "orange", "red", "skipped"};
    for (int k = 0; k < 4; k++) json_object_set_new(c, names[k], json_integer(totals[k]));
    json_object_set_new(doc, "thresholds", c);
    json_t *counts = json_object();
    for (int s = SUITE_GREEN; s <= SUITE_INTERRUPTED; s++)
        json_object_set_new(counts, suite_status_name((suite_status)s), json_integer(ov.n[s]));
    json_object_set_new(doc, "counts", counts);
    json_object_set_new(doc, "interrupted", json_boolean(run->interrupted));
    json_object_set_new(doc, "status", json_string(suite_status_name(ov.status)));
    json_object_set_new(doc, "exit_code", json_integer(ov.exit_code));
    json_t *reports = json_object();
    json_object_set_new(reports, "junit", json_string("junit.xml"));
    json_object_set_new(reports, "html", json_string("report.html"));
    json_object_set_new(doc, "reports", reports);
    return doc;
}

json_t *suite_placeholder_doc(const suite_result *r, const char *profile, const char *started_at) {
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string(JX_SCHEMA));
    json_object_set_new(doc, "test", json_string(r->test));
    json_object_set_new(doc, "profile", str_or_null(profile));
    json_object_set_new(doc, "started_at", str_or_null(started_at));
    json_object_set_new(doc, "duration_s", json_real(jx_round3(r->duration_s)));
    json_object_set_new(doc, "target", json_null());
    json_object_set_new(doc, "config", json_object());
    json_object_set_new(doc, "stats", json_object());
    json_t *th = json_object();
    json_object_set_new(th, "metric", json_string("exit_status"));
    json_object_set_new(th, "test", json_string(r->test));
    json_object_set_new(th, "value", json_integer(r->exit_code));
    json_object_set_new(th, "unit", json_string(""));
    json_object_set_new(th, "direction", json_string("above"));
    json_object_set_new(th, "orange", json_integer(0));
    json_object_set_new(th, "red", json_integer(0));
    json_object_set_new(th, "status", json_string("red"));
    json_t *ths = json_array();
    json_array_append_new(ths, th);
    json_object_set_new(doc, "thresholds", ths);
    json_t *a = json_object();
    char evidence[512];
    snprintf(evidence, sizeof evidence, "brink %s left no result document: %s", r->test, r->error);
    json_object_set_new(a, "metric", json_string("exit_status"));
    json_object_set_new(a, "status", json_string("red"));
    json_object_set_new(a, "evidence", json_string(evidence));
    json_object_set_new(
        a, "remedy",
        json_string("read the test's own message in the suite's output, or run the test alone "
                    "with the arguments in summary.json"));
    json_t *adv = json_array();
    json_array_append_new(adv, a);
    json_object_set_new(doc, "advice", adv);
    json_object_set_new(doc, "timeline", json_array());
    return doc;
}

/* ---- the terminal ---------------------------------------------------------------------------- */

void suite_key_numbers(const suite_result *r, char *out, size_t outlen) {
    out[0] = '\0';
    const key_num *k = keys_of(r->test);
    size_t len = 0;
    for (int j = 0; k && r->stats && j < 6 && k[j].key; j++) {
        json_t *v = json_object_get(r->stats, k[j].key);
        if (!v) continue;
        char val[48];
        if (json_is_null(v))
            snprintf(val, sizeof val, "never");
        else if (json_is_number(v) && fabs(json_number_value(v)) >= 1e4 &&
                 strcmp(k[j].unit, "fraction"))
            snprintf(val, sizeof val, "%.0f%s%s", json_number_value(v),
                     strcmp(k[j].unit, "count") ? " " : "",
                     strcmp(k[j].unit, "count") ? k[j].unit : ""); /* 12800 rps, not 1.28e+04 */
        else if (json_is_number(v))
            threshold_format_value(val, sizeof val, json_number_value(v), k[j].unit, "-");
        else
            continue;
        int w = snprintf(out + len, outlen - len, "%s%s%s%s", len ? ", " : "", k[j].label,
                         k[j].label[0] ? " " : "", val);
        if (w < 0 || (size_t)w >= outlen - len) break;
        len += (size_t)w;
    }
    if (r->error[0]) snprintf(out + len, outlen - len, "%s%s", len ? "; " : "", r->error);
}

static const char *mark(suite_status s) {
    switch (s) {
    case SUITE_GREEN: return "🟢";
    case SUITE_ORANGE: return "🟠";
    case SUITE_RED: return "🔴";
    case SUITE_ERROR: return "❌";
    default: return "⛔";
    }
}

static void status_cell(FILE *out, suite_status s, bool plain) {
    if (plain)
        fprintf(out, "%-12s", suite_status_name(s));
    else
        fprintf(out, "%s %-11s", mark(s), suite_status_name(s));
}

static void fmt_duration(char *out, size_t n, double s) {
    if (s < 60)
        snprintf(out, n, "%.1f s", s);
    else
        snprintf(out, n, "%dm%02ds", (int)s / 60, (int)s % 60);
}

static void print_advice(FILE *out, const suite_result *rs, json_t *const *docs, int n,
                         bool plain) {
    bool any = false;
    for (int i = 0; i < n; i++) {
        const json_t *doc = docs ? docs[i] : NULL;
        if (rs[i].status == SUITE_ERROR) {
            if (!any) fprintf(out, "\n  advice\n");
            any = true;
            fprintf(out, "  %s %s: %s\n", plain ? "error" : mark(SUITE_ERROR), rs[i].test,
                    rs[i].error);
            fprintf(out, "     → %s\n",
                    rs[i].exit_code == 2
                        ? "the test's own message above names the option or setting"
                    : rs[i].exit_code == 3
                        ? "the test's own message above says which part did not start or "
                          "answer (brink stack up shows the embedded stack alone)"
                        : "the test's own output above says what happened; run it alone "
                          "with the arguments in summary.json");
        }
        if (!doc) continue;
        size_t j;
        json_t *a;
        json_array_foreach(json_object_get(doc, "advice"), j, a) {
            const char *st = jx_str(a, "status");
            if (strcmp(st, "red") && strcmp(st, "orange")) continue;
            if (!any) fprintf(out, "\n  advice\n");
            any = true;
            const char *mode = jx_str(a, "mode");
            fprintf(out, "  %s %s%s%s%s %s: %s\n",
                    plain ? st : mark(!strcmp(st, "red") ? SUITE_RED : SUITE_ORANGE), rs[i].test,
                    mode[0] ? " (" : "", mode, mode[0] ? ")" : "", jx_str(a, "metric"),
                    jx_str(a, "evidence"));
            if (jx_str(a, "remedy")[0]) fprintf(out, "     → %s\n", jx_str(a, "remedy"));
        }
    }
}

void suite_print_summary(FILE *out, const suite_run *run, const suite_result *rs,
                         json_t *const *docs, int n, bool plain) {
    suite_overall ov;
    suite_overall_of(rs, n, run->interrupted, &ov);
    char dur[32];
    fmt_duration(dur, sizeof dur, run->duration_s);
    fprintf(out, "\nbrink suite %s — %d of %d test%s in %s%s%s%s\n", run->profile, n, run->nplanned,
            run->nplanned == 1 ? "" : "s", dur, run->stack_profile ? ", stack profile " : "",
            run->stack_profile ? run->stack_profile : "", run->interrupted ? " (interrupted)" : "");
    fprintf(out, "  %-14s %-*s %8s  %s\n", "test", plain ? 12 : 14, "status", "time",
            "key numbers");
    for (int i = 0; i < n; i++) {
        char keys[512];
        suite_key_numbers(&rs[i], keys, sizeof keys);
        fmt_duration(dur, sizeof dur, rs[i].duration_s);
        fprintf(out, "  %-14s ", rs[i].test);
        status_cell(out, rs[i].status, plain);
        fprintf(out, " %8s  %s\n", dur, keys);
    }
    for (int i = n; i < run->nplanned; i++) {
        fprintf(out, "  %-14s %-*s %8s  %s\n", run->planned[i], plain ? 12 : 14, "not run", "-",
                "the suite was interrupted before it");
    }
    fmt_duration(dur, sizeof dur, run->duration_s);
    fprintf(out, "  %-14s ", "overall");
    status_cell(out, ov.status, plain);
    fprintf(out, " %8s  ", dur);
    bool first = true;
    for (int s = SUITE_INTERRUPTED; s >= SUITE_GREEN; s--) {
        if (!ov.n[s]) continue;
        fprintf(out, "%s%d %s", first ? "" : ", ", ov.n[s], suite_status_name((suite_status)s));
        first = false;
    }
    fprintf(out, "%sexit %d\n", first ? "" : " — ", ov.exit_code);
    print_advice(out, rs, docs, n, plain);
}
