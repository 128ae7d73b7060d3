/* resil_int.h — shared insides of the resilience scenarios (redis-failure, db-restart): the
 * modes, the options, and the raw record of one run that resil_run.c fills and resil_report.c
 * turns into the result document. Not a public header: only src/resilience/resil*.c include it. */
#ifndef BRINK_RESIL_INT_H
#define BRINK_RESIL_INT_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "load/delivery.h"
#include "load/engine.h"
#include "probe/probe.h"
#include "probe/probe_audit.h"
#include "probe/probe_metrics.h"
#include "resilience/resil.h"
#include "probe/probe_proc.h"
#include "stack/stack.h"
#include "config/config.h"
#include "verdict/custom_th.h"
#include "verdict/threshold.h"

#define RESIL_MAX_PROBES  12
#define RESIL_MAX_EXTRA   8
#define RESIL_SAMPLE_NS   (250 * 1000000LL)
#define RESIL_NPROC       3 /* service, redis, postgres */
#define RESIL_MAX_RESULTS 24

typedef enum resil_test { RESIL_REDIS, RESIL_DB } resil_test;

/* How a mode breaks the dependency, and how it ends the break. */
typedef enum resil_action {
    RA_LATENCY,   /* latency toxic (downstream), removed */
    RA_BLACKHOLE, /* timeout toxic 0 on both streams: connections held, nothing passes */
    RA_RESET,     /* reset_peer toxic, existing connections closed; removed */
    RA_DOWN,      /* proxy disabled (refused), enabled again */
    RA_PAUSE,     /* SIGSTOP, SIGCONT (stack_fault PAUSE, RESUME) */
    RA_KILL,      /* SIGKILL, start again (AOF replay / WAL recovery) */
    RA_STOP,      /* graceful stop (fast shutdown), start again */
} resil_action;

typedef struct resil_mode {
    const char *name;
    resil_test test;
    resil_action action;
    const char *target; /* "redis" or "postgres" (stack member and proxy name) */
    const char *what;   /* one line for the terminal and .config.fault */
} resil_mode;

/* The modes of a test, in the order `all` runs them. */
const resil_mode *resil_modes(resil_test t, int *n);
const resil_mode *resil_mode_find(resil_test t, const char *name);
const char *resil_test_name(resil_test t); /* "redis-failure", "db-restart" */

typedef struct resil_opts {
    resil_test test;
    int64_t warmup_ns, baseline_ns, fault_ns, recovery_ns;
    int64_t timeout_ns;       /* client timeout of each request */
    int64_t drain_timeout_ns; /* longest wait for the backlog to drain before the audit */
    int64_t latency_ms;       /* latency mode's added delay */
    double rate, accept_rate;
    int connections, threads; /* 0: computed */
    stack_profile profile;
    bool keep;
    bool quiet;
    probe_spec extra[RESIL_MAX_EXTRA]; /* --probe: more backlog probes */
    int nextra;
    /* a sender that retries (--delivery, brink.yaml delivery:): checked before the run */
    delivery_args delivery;
    const delivery_policy *sender; /* NULL: each webhook is sent once */
    custom_th_list thresholds;     /* --threshold: conditions on each mode's .stats */
    int64_t sender_drain_ns;
    const config *cfg;           /* -f brink.yaml: the user's stack instead of the embedded one */
    volatile sig_atomic_t *stop; /* SIGINT */
} resil_opts;

/* One request's outcome, indexed by its {{seq}}: its first attempt's (a sender's retries and
 * duplicates have the same seq), and whether and when an attempt was acknowledged. */
typedef struct resil_rec {
    int64_t intended_ns, done_ns;
    int64_t ack_ns; /* the first 2xx answer's time (acked) */
    int16_t status; /* HTTP status; 0 no response */
    int8_t err;     /* engine_err when status == 0 */
    uint8_t ended;  /* an outcome was recorded */
    uint8_t acked;  /* some attempt was answered 2xx */
    uint8_t attempts;
} resil_rec;

/* The attempts of one stream due in one second (by their own due time), as one engine thread saw
 * them: with a sender, the retry storm's evidence (verdict/storm.h). */
typedef struct resil_sec {
    int64_t attempts, retries, duplicates, failed;
    hdr_hist *latency; /* µs from each attempt's due time; made at the second's first attempt */
} resil_sec;

/* One load stream: the webhooks, or the accepts. */
typedef struct resil_stream {
    const char *name;
    resil_rec *recs;
    size_t cap;
    engine_config cfg;
    engine_result res;
    bool have_res;
    int rc;
    char err[256];
    double rate;
    /* with a sender: secs[thread * nsec + second], seconds from origin_ns */
    resil_sec *secs;
    int nsec, nthr;
    int64_t origin_ns;
} resil_stream;

typedef struct resil_sample {
    int64_t t_ns;
    double v[RESIL_MAX_PROBES]; /* NaN: unknown (the read failed) */
    probe_usage use[RESIL_NPROC];
    bool have_use[RESIL_NPROC];
} resil_sample;

/* Where the probes' values go in the backlog. */
typedef enum resil_probe_role {
    RP_STREAM_LENGTH,
    RP_STREAM_PENDING,
    RP_STREAM_LAG,
    RP_INBOX,
    RP_BACKLOG, /* a brink.yaml probe counted in the backlog */
    RP_EXTRA,   /* --probe, or a brink.yaml probe with backlog: false: recorded beside it */
} resil_probe_role;

typedef struct resil_audit {
    bool done;
    char error[256];
    probe_audit_counts webhooks;
    int64_t accepts_acknowledged, accepts_applied, accepts_lost;
    int64_t accepted_without_assignment, assignment_without_accept, vendor_mismatch;
    int64_t integrity_violations;
    char first_lost[128], first_duplicated[128];
    /* on a user's stack: brink.yaml's audit queries */
    bool user;
    int attempts; /* audits run until nothing was lost or the drain time was over */
    int nchecks;
    int64_t check_count[CONFIG_MAX_CHECKS];
} resil_audit;

/* Everything one run of one mode recorded. Times are CLOCK_MONOTONIC ns. */
typedef struct resil_run {
    const resil_mode *mode;
    const resil_opts *opts;
    char run_id[16];
    char service_url[128];
    char service_command[1024];
    int64_t started_wall_ns;
    /* phases */
    int64_t t0, baseline_start, fault_start, fault_end, recovery_end, load_end, drain_end;
    const char *sign; /* the webhooks' signing scheme's name, or NULL (unsigned) */
    bool fault_applied, fault_removed;
    stack_fault_times down_t, up_t; /* process faults: the signal and the start/resume */
    bool process_fault;
    char fault_error[256];
    /* drain wait */
    bool drained;
    double drain_wait_s;
    /* load */
    resil_stream hooks, accepts;
    int64_t seeds_acknowledged, seeds_stored;
    /* probes */
    int nprobes;
    char probe_name[RESIL_MAX_PROBES][PROBE_NAME_MAX];
    char probe_desc[RESIL_MAX_PROBES][256];
    resil_probe_role probe_role[RESIL_MAX_PROBES];
    bool probe_ever_ok[RESIL_MAX_PROBES];
    char probe_error[RESIL_MAX_PROBES][256]; /* the first failure of each */
    resil_sample *samples;
    int nsamples;
    /* audit */
    resil_audit audit;
    /* the service's /metrics at the start, the fault's end and the load's end (the advice's
     * evidence) */
    probe_metrics metrics;
} resil_run;

/* Runs one mode end to end: a fresh stack, the load, the fault, the drain and the audit; fills
 * run (free with resil_run_free). 0 when the run happened (whatever it found); -1 with a reason
 * when it could not (the stack did not start, nothing answered: exit 3). */
int resil_run_mode(const resil_opts *o, const resil_mode *m, resil_run *run, char *err,
                   size_t errlen);
void resil_run_free(resil_run *run);
/* The backlog of one sample: the stream's undelivered + pending entries (XLEN when the lag is
 * unknown), plus the inbox and any --probe; NaN when nothing answered. *complete (may be NULL):
 * every probe that ever answered answered in this sample. */
double resil_backlog_total(const resil_run *run, const resil_sample *s, bool *complete);

/* ---- a user's stack (resil_user.c)
 * --------------------------------------------------------------- The mechanisms behind each mode
 * on a brink.yaml's stack: network faults through the Toxiproxy API of dependencies.NAME.toxiproxy,
 * process faults through the dependency's hooks (deps.h), and the audit through audit.stored /
 * audit.queued / audit.integrity. */

/* Whether mode m is a network fault (applied through the proxy API). */
bool resil_network_mode(const resil_mode *m);
/* The dependency a mode breaks ("redis" or "postgresql" in brink.yaml). */
const deps_dep *resil_user_dep(const config *c, const resil_mode *m);
/* Whether c configures what mode m needs (and the audit); -1 with one line naming the missing
 * key otherwise (a usage error: exit 2). */
int resil_user_check(const config *c, const resil_mode *m, char *err, size_t errlen);
/* Before the load: the Toxiproxy API answers and knows the proxy (network modes). 0 or -1. */
int resil_user_prepare(const resil_run *run, char *err, size_t errlen);
/* Applies and removes the mode's fault on the user's stack, filling down_t / up_t for process
 * faults (resil_run.c sets run->fault_start / fault_end, as for the embedded stack). 0 or -1. */
int resil_user_apply(resil_run *run, char *err, size_t errlen);
int resil_user_remove(resil_run *run, char *err, size_t errlen);
/* The zero-loss audit with the user's SQL (fills run->audit). */
void resil_user_audit(resil_run *run);

/* The result document of one run (new reference), and its verdicts (results[0..*n)). */
json_t *resil_report_json(const resil_run *run, th_result *results, int *n);
/* The terminal summary of one run with its verdicts. */
void resil_report_terminal(FILE *out, const resil_run *run, const th_result *results, int n);

/* The audit's start (resil_run.c): acknowledged webhooks and their ledger; see there. */
probe_audit *resil_audit_start(const resil_run *run, uint8_t **acked, char *prefix,
                               size_t prefix_len);
/* The audit's webhook counts from the ledger, and the first lost and duplicated ids. */
void resil_audit_counts(const probe_audit *pa, const char *prefix, resil_audit *a);
/* The stack fault operation that applies (apply) or removes the mode's process fault. */
stack_fault_op resil_process_op(const resil_mode *m, bool apply);

#endif
