/* delivery.h — a webhook sender's delivery policy: how the load engine re-sends an event that was
 * not acknowledged (retries on a schedule, with time compression so that a schedule of hours fits
 * a test) and how often it delivers an acknowledged event again (duplicates), as the senders our
 * users receive from do. The presets follow each provider's published rules; docs/webhook.md
 * ("Delivering like a real sender") cites them. An event is acknowledged by a 2xx answer; any
 * other status, or no answer at all (refused, reset, timed out), is a failed attempt. */
#ifndef BRINK_DELIVERY_H
#define BRINK_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DELIVERY_MAX_RETRIES 24

typedef struct delivery_policy {
    char name[32]; /* "standard-webhooks", "stripe", "shopify", "github", "none" or "custom" */
    int retries;   /* attempts after the first */
    /* the wait before retry i + 1, counted from the failure of attempt i + 1 (unscaled) */
    int64_t delay_ns[DELIVERY_MAX_RETRIES];
    double scale;                /* time compression of the delays (1: real time); > 0 */
    double duplicate_rate;       /* 0..1: share of acknowledged events delivered once more */
    int64_t duplicate_window_ns; /* a duplicate goes out within this long of the acknowledgement */
    /* a failed attempt answered with Retry-After (delta-seconds or an HTTP-date) is retried no
     * sooner than it says, in real time (not scaled): the schedule's wait when that is longer */
    bool honor_retry_after;
} delivery_policy;

/* The names delivery_preset() knows, for help texts and suggestions. */
extern const char *const delivery_presets[];

/* Fills p with a provider's schedule (scale 1, no duplicates): 0, or -1 with a reason. */
int delivery_preset(const char *name, delivery_policy *p, char *err, size_t errlen);
/* Replaces p's schedule with a list of waits, e.g. "0.5s,1s,2s,4s" (p becomes "custom"). */
int delivery_set_schedule(delivery_policy *p, const char *list, char *err, size_t errlen);
/* True when an answer with this status (0: no answer) acknowledges the event. */
static inline bool delivery_acked(int status) {
    return status >= 200 && status < 300;
}
/* The scaled wait before the retry that follows failed attempt n (1-based), or -1 when the
 * policy gives up after attempt n. */
int64_t delivery_retry_delay_ns(const delivery_policy *p, int n);
/* A Retry-After header's value — delta-seconds ("120") or an HTTP-date (RFC 9110, IMF-fixdate,
 * against now_wall_ns) — as a wait in ns, at most a day; -1 when it is neither. */
int64_t delivery_retry_after_ns(const char *value, int64_t now_wall_ns);
/* The scaled time from a first failure to the last retry: the sum of the scaled waits. */
int64_t delivery_span_ns(const delivery_policy *p);
/* The schedule in words, scaled ("5s, 5m, 30m, ... ×0.001 = 0.5s"), for the terminal. */
void delivery_describe(const delivery_policy *p, char *out, size_t outlen);

/* ---- the sender options, shared by the commands that send webhooks ---- */

/* What the options said; delivery_args_check() turns it into a policy. */
typedef struct delivery_args {
    const char *name, *schedule;
    double scale, dup_rate;
    int64_t dup_window, drain;
    bool scale_set, dup_set, drain_set, window_set;
    bool retry_after; /* --honor-retry-after */
    delivery_policy pol;
} delivery_args;

/* The rows of core/cli.h's option table (a command includes core/cli.h). */
#define DELIVERY_CLI_ROWS(d)                                                                       \
    {.name = "delivery",                                                                           \
     .kind = CLI_STR,                                                                              \
     .dest = &(d)->name,                                                                           \
     .meta = "SENDER",                                                                             \
     .help = "deliver like a real webhook sender, retrying failed events on its schedule: "        \
             "standard-webhooks, stripe, shopify, github or none (docs/webhook.md)"},              \
        {.name = "retry-schedule",                                                                 \
         .kind = CLI_STR,                                                                          \
         .dest = &(d)->schedule,                                                                   \
         .meta = "LIST",                                                                           \
         .help = "a sender retrying after these waits, e.g. 0.5s,1s,2s,4s"},                       \
        {.name = "retry-scale",                                                                    \
         .kind = CLI_DOUBLE,                                                                       \
         .dest = &(d)->scale,                                                                      \
         .min = 1e-9,                                                                              \
         .max = 1000,                                                                              \
         .given = &(d)->scale_set,                                                                 \
         .meta = "F",                                                                              \
         .help = "multiply the retry waits by F (default: a provider's schedule compressed into "  \
                 "the run's length; 1 for --retry-schedule)"},                                     \
        {.name = "duplicate-rate",                                                                 \
         .kind = CLI_DOUBLE,                                                                       \
         .dest = &(d)->dup_rate,                                                                   \
         .min = 0,                                                                                 \
         .max = 1,                                                                                 \
         .given = &(d)->dup_set,                                                                   \
         .meta = "R",                                                                              \
         .help = "deliver this share (0..1) of the acknowledged events once more"},                \
        {.name = "duplicate-window",                                                               \
         .kind = CLI_DURATION,                                                                     \
         .dest = &(d)->dup_window,                                                                 \
         .min = 1,                                                                                 \
         .def = "1s",                                                                              \
         .given = &(d)->window_set,                                                                \
         .meta = "D",                                                                              \
         .help = "a duplicate follows its acknowledgement within D"},                              \
        {.name = "honor-retry-after",                                                              \
         .kind = CLI_FLAG,                                                                         \
         .dest = &(d)->retry_after,                                                                \
         .help = "retry an attempt answered with Retry-After no sooner than it says (real time, "  \
                 "not scaled), as some senders do; the providers' presets do not"},                \
    {                                                                                              \
        .name = "delivery-drain", .kind = CLI_DURATION, .dest = &(d)->drain, .min = 0,             \
        .given = &(d)->drain_set, .meta = "D",                                                     \
        .help = "after the schedule, retries still go out for at most D (default: the whole "      \
                "retry schedule plus the timeout)"                                                 \
    }

/* Checks the sender options against the run (its length, 0 when unbounded; its timeout; whether
 * it is the open model) before anything is sent: *out = the policy (d->pol) and *drain_ns, or
 * *out = NULL when no sender option was given. 0, or -1 with a one-line reason. */
int delivery_args_check(delivery_args *d, int64_t run_ns, int64_t timeout_ns, bool open,
                        const delivery_policy **out, int64_t *drain_ns, char *err, size_t errlen);

#endif
