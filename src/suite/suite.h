/* suite.h — the logic of `brink suite` without any process: the profile table (which tests run,
 * with which arguments, in quick, full and stress), the selection (--only, --skip), the command
 * line of each test's child process, the verdict of a test from its exit status and its result
 * document, the overall verdict and exit status, the summary document (schema brink.summary/1,
 * docs/results.md) and the terminal summary. suite_cmd.c runs the children and writes the files. */
#ifndef BRINK_SUITE_H
#define BRINK_SUITE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SUITE_SCHEMA    "brink.summary/1"
#define SUITE_MAX_TESTS 8
#define SUITE_MAX_ARGS  24

/* One test of a profile: what runs, how long it should take, and the suite's bound on it. */
typedef struct suite_entry {
    const char *test;                 /* its name: --only/--skip, the result file's stem */
    const char *args[SUITE_MAX_ARGS]; /* the brink command and its arguments, NULL-terminated */
    int expect_s;                     /* expected duration on a 2-core machine (progress) */
    int limit_s;                      /* the suite stops the test after this long */
} suite_entry;

typedef struct suite_profile {
    const char *name; /* "quick", "full", "stress" */
    const char *what; /* one line for --help and the docs */
    const suite_entry *entries;
    int n;
} suite_profile;

/* The profiles, in order (quick, full, stress); n receives the count. */
const suite_profile *suite_profiles(int *n);
/* The profile named name, or NULL. */
const suite_profile *suite_profile_find(const char *name);
/* Whether name is one of the suite's tests (webhook, capacity, race, redis-failure, db-restart). */
bool suite_test_known(const char *name);

/* Which entries of p run: sel[i] for entry i. only and skip are comma-separated test names (NULL:
 * not given). 0, or -1 with a one-line reason (an unknown name, a name not in the profile given
 * to --only, nothing left to run). */
int suite_select(const suite_profile *p, const char *only, const char *skip, bool *sel, char *err,
                 size_t errlen);

#define SUITE_MAX_THRESHOLDS 16

/* What the suite passes on to every test. */
typedef struct suite_opts {
    const char *stack_profile; /* --stack-profile, NULL: not passed (the tests' default) */
    const char *config;        /* -f FILE, NULL: not passed */
    bool quiet;                /* -q */
    /* --threshold TEST:COND: COND passed as --threshold to each run of TEST */
    const char *th_test[SUITE_MAX_THRESHOLDS], *th_cond[SUITE_MAX_THRESHOLDS];
    char th_buf[SUITE_MAX_THRESHOLDS][40];
    int nth;
} suite_opts;

/* The child's argv: exe, the entry's args, then --stack-profile P, -f FILE, -q (when set),
 * --threshold COND for each of the test's, and --json json_path; NULL-terminated. The array is
 * malloc'd (free it alone: its strings belong to the table, o and the caller). NULL when out of
 * memory. */
char **suite_argv(const suite_entry *e, const char *exe, const suite_opts *o,
                  const char *json_path);

/* A test's outcome, worst last. */
typedef enum suite_status {
    SUITE_GREEN,
    SUITE_ORANGE,
    SUITE_RED,
    SUITE_ERROR,       /* it could not run, crashed, or left no readable result */
    SUITE_INTERRUPTED, /* stopped by SIGINT/SIGTERM */
} suite_status;

const char *suite_status_name(suite_status s); /* "green", ..., "interrupted" */

/* Why the suite stopped a test, if it did. */
typedef enum suite_stop {
    SUITE_RAN,     /* not stopped */
    SUITE_SIGNAL,  /* the suite was interrupted and passed the signal on */
    SUITE_LIMIT,   /* the test ran past its entry's limit_s */
    SUITE_NOSTART, /* it could not be started at all (exit_code -1) */
} suite_stop;

typedef struct suite_result {
    const char *test; /* the entry's name */
    json_t *args;     /* the command line after "brink", strings */
    char file[64];    /* the result document's name in the run directory, "" when none */
    int exit_code;    /* the child's exit status; 128 + N after signal N; -1 never started */
    suite_status status;
    double duration_s;
    int counts[4];   /* thresholds by status: green, orange, red, skipped */
    json_t *stats;   /* the test's key numbers, copied from the document's .stats */
    char error[320]; /* for error and interrupted: why, in words; "" otherwise */
} suite_result;

/* Fills r's status, counts, stats and error from the exit status, what the suite did, and the
 * document (NULL when the test wrote none or it could not be read: why, may be NULL, says so).
 * limit_s is the entry's bound (for the message). r->test must be set. */
void suite_judge(suite_result *r, int exit_code, suite_stop stop, int limit_s, const json_t *doc,
                 const char *why);
void suite_result_free(suite_result *r);

/* The overall verdict: the worst status, and the exit status — 130 when interrupted (the suite,
 * or any test); else 2 when a test found bad usage or configuration, 3 when a stack or target
 * could not be started or reached, 1 when a test failed otherwise (crashed, no result); else 99
 * when anything is red; else 0. */
typedef struct suite_overall {
    suite_status status;
    int exit_code;
    int n[5]; /* tests by status */
} suite_overall;

void suite_overall_of(const suite_result *rs, int n, bool interrupted, suite_overall *o);

/* What the summary says about the run as a whole. */
typedef struct suite_run {
    const char *profile;
    const char *stack_profile; /* as passed, or "tuned" (the default); NULL with -f */
    const char *config;        /* -f FILE or NULL */
    const char *dir;           /* the run directory */
    int64_t started_wall_ns;
    double duration_s;
    const char *const *planned; /* the selected tests, in order */
    int nplanned;
    bool interrupted;
} suite_run;

/* The summary document (brink.summary/1, see docs/results.md). New reference. */
json_t *suite_summary_json(const suite_run *run, const suite_result *rs, int n);

/* A stand-in result document for a test that left none (it could not run, or was interrupted
 * before writing it), so that junit.xml and report.html show it: one red threshold
 * "exit_status" with the reason as evidence. New reference. */
json_t *suite_placeholder_doc(const suite_result *r, const char *profile, const char *started_at);

/* The key numbers of r, in words ("100.1 rps, p99 5.2 ms, errors 0%"), or its error. */
void suite_key_numbers(const suite_result *r, char *out, size_t outlen);

/* The terminal summary: one row per test (test, status, duration, key numbers) and the overall
 * row; then the advice of every document (docs[i] may be NULL) and of every test that could not
 * run. plain: words instead of emoji (threshold_want_plain). */
void suite_print_summary(FILE *out, const suite_run *run, const suite_result *rs,
                         json_t *const *docs, int n, bool plain);

#endif
