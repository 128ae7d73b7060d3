/* capacity.h — the breaking-point search of `brink capacity` and `brink webhook stress`, as a pure
 * function over a step runner: raise the offered rate geometrically until a service level breaks,
 * then bisect between the last good and the first bad rate until the interval is narrow enough.
 * The runner measures one step (a real engine run, or a synthetic service in the unit tests); the
 * search decides which rate to try next, judges each step, and stops within its step, time and
 * rate bounds. See docs/webhook.md for the definitions (breaking, resolution, knee). */
#ifndef BRINK_CAPACITY_H
#define BRINK_CAPACITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPACITY_STEPS_MAX 64 /* hard bound of capacity_params.max_steps */

typedef enum capacity_phase {
    CAPACITY_RAMP,   /* geometric: start, start × factor, ... */
    CAPACITY_BISECT, /* the midpoint of the last good and the first bad rate */
} capacity_phase;

/* Why the search ended. */
typedef enum capacity_stop {
    CAPACITY_RESOLVED,    /* the interval (last good, first bad) is below the resolution */
    CAPACITY_FIRST_STEP,  /* the first step already broke: no sustainable rate was found */
    CAPACITY_MAX_RATE,    /* held at max_rps: the service did not break within the bound */
    CAPACITY_MAX_STEPS,   /* max_steps were run */
    CAPACITY_MAX_TIME,    /* the next step would not have ended within max_time_s */
    CAPACITY_INTERRUPTED, /* the runner reported an interruption (SIGINT) */
} capacity_stop;

typedef struct capacity_params {
    double start_rps;    /* first offered rate (default 200) */
    double factor;       /* ramp multiplier, > 1 (default 2) */
    double max_rps;      /* highest rate tried (default 100000) */
    double resolution;   /* bisect until (first bad - last good) < resolution × last good (0.05) */
    int max_steps;       /* at most this many steps, 1..CAPACITY_STEPS_MAX (default 24) */
    double max_time_s;   /* the whole search, drains included (default 180) */
    double step_s;       /* length of a step, for the time estimate (default 5) */
    double pause_s;      /* pause after a step, for the time estimate (default 1) */
    double p99_limit_ms; /* a step breaks when p99 > this (default: webhook p99_ms red, 500) */
    double error_limit;  /* ... or error rate > this (default: webhook error_rate red, 0.001) */
    double min_achieved; /* ... or achieved < this × offered (default 0.97) */
    double knee_factor;  /* the knee: last step before p99 > knee_factor × base (default 2) */
    double knee_floor_ms; /* base = max(p99 of the lowest step, this) (default 1) */
    bool ramp_only;       /* no bisection: the ramp's first break ends the search (scale-out
                           * segments, whose steps must not depend on what one segment saw) */
} capacity_params;

typedef struct capacity_step {
    /* set by the search before the runner is called */
    int index;            /* 1, 2, ... in the order run */
    capacity_phase phase; /* why this rate was chosen */
    double rate;          /* the offered rate asked for */
    /* set by the runner */
    double achieved_rps; /* responses / sending window */
    double p50_ms, p99_ms, max_ms;
    int64_t requests; /* responses (any status) */
    int64_t errors;   /* responses >= 400 + requests without a response */
    int64_t timeouts;
    double error_rate; /* errors / (responses + transport errors) */
    double elapsed_s;  /* the step's wall time, its drain and pause included */
    /* optional runner extras (reported, not judged): NAN/0 when unknown */
    double started_s; /* since the search started */
    double cpu_pct;   /* the service's CPU (100 = one core) over the step */
    double rss_mib;   /* the service's RSS at the end of the step */
    double backlog;   /* the service's queue after the step (stream pending + lag) */
    double drain_s;   /* time spent waiting for that queue to drain */
    int connections;  /* load connections used */
    /* set by the search after the runner returned */
    bool good;
    char reason[160]; /* bad: which service level broke, with the numbers */
} capacity_step;

typedef struct capacity_result {
    capacity_step steps[CAPACITY_STEPS_MAX];
    int nsteps;
    double max_sustainable_rps; /* highest good rate (0 when the first step broke) */
    double first_bad_rps;       /* lowest bad rate above it; NAN when nothing broke */
    double resolution_rps;      /* first_bad - max_sustainable; NAN when nothing broke */
    double knee_rps;            /* 0 when there is no good step */
    double knee_p99_ms;         /* NAN when there is no good step */
    double knee_base_p99_ms;    /* the base the knee rule compares with; NAN without good steps */
    capacity_stop stop;
    char message[320]; /* one line: what was found, or why nothing was */
    double elapsed_s;  /* sum of the steps' elapsed_s */
} capacity_result;

/* Measures one step at `rate` for about step_s, fills the runner's fields of step. Returns 0
 * (measured), 1 (interrupted: the step is discarded and the search ends) or -1 with a one-line
 * reason (the search fails). */
typedef int (*capacity_run_fn)(void *ud, capacity_step *step, char *err, size_t errlen);
/* Called after each judged step (may be NULL), e.g. to print its row. */
typedef void (*capacity_step_fn)(void *ud, const capacity_step *step);

/* The defaults listed above. */
void capacity_params_default(capacity_params *p);
/* 0, or -1 with a one-line reason naming the bad parameter. */
int capacity_params_check(const capacity_params *p, char *err, size_t errlen);

/* Judges a measured step against the service levels: sets good and reason. */
void capacity_judge(const capacity_params *p, capacity_step *s);
/* Finds the knee among out->steps (see capacity_params.knee_factor): sets knee_*. */
void capacity_knee(const capacity_params *p, capacity_result *out);

/* Runs the search. 0 with *out filled (also when stopped by a bound or an interruption: see
 * out->stop and out->message), or -1 when the runner failed (out holds the steps so far). */
int capacity_search(const capacity_params *p, capacity_run_fn run, capacity_step_fn on_step,
                    void *ud, capacity_result *out, char *err, size_t errlen);

/* One step of the result document's .capacity.steps[] (docs/webhook.md): index, phase,
 * started_s, offered_rps, achieved_rps, requests, errors, error_rate, timeouts, p50_ms, p99_ms,
 * max_ms, connections, service_cpu_pct, service_rss_mib, backlog_after, drain_s, elapsed_s,
 * verdict ("good"/"bad") and reason (null when good); numbers rounded to 3 decimals, null when
 * unknown (NaN). The one encoder of brink capacity / webhook stress and of brink merge. */
json_t *capacity_step_json(const capacity_step *s);

/* The result document's .stats of a capacity search: max_sustainable_rps, knee_rps, knee_p99_ms,
 * resolution_rps, first_bad_rps, steps and interrupted. */
json_t *capacity_stats_json(const capacity_result *r, bool interrupted);
/* Sets the search's results in .capacity (max_sustainable_rps, first_bad_rps, resolution_rps)
 * and, in knee, rps, p99_ms and base_p99_ms; then knee becomes .capacity.knee. */
void capacity_results_json(json_t *cap, const capacity_result *r, json_t *knee);

const char *capacity_stop_name(capacity_stop s);   /* "resolved", "first_step", ... */
const char *capacity_phase_name(capacity_phase p); /* "ramp", "bisect" */

#endif
