/* lifecycle.h — an event lifecycle per order: instead of one event per request, the deliveries of
 * a run are the events of many orders, each order going through the same steps, for example
 *   order.created, order.updated*2, order.paid:0.9|order.cancelled:0.1
 * (created, then two updates, then paid in 90 % of the orders and cancelled in the rest). The
 * open model's rate stays the rate of deliveries: delivery number seq is mapped to (order, step)
 * by arithmetic alone, so the engine keeps no state per order and a retry or duplicate (same seq)
 * is the same event. The orders are interleaved so that one order's events are due about
 * interval_ns apart; reorder_rate delivers that share of an order's event pairs swapped (the later
 * version first, one interval early), never before the order's first event. Every choice is a
 * hash of the order number: the same run plan gives the same events on every machine and in
 * every segment of a distributed run. */
#ifndef BRINK_LIFECYCLE_H
#define BRINK_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIFECYCLE_MAX_STEPS 16
#define LIFECYCLE_MAX_TYPES 8
#define LIFECYCLE_NAME_MAX  48 /* a type's name: at most 47 bytes */

/* The built-in lifecycle (what --events default means). */
#define LIFECYCLE_DEFAULT "order.created,order.updated*2,order.paid:0.9|order.cancelled:0.1"

typedef struct lifecycle_step {
    int nalt;                          /* 1: always type[0]; more: one by probability */
    uint8_t type[LIFECYCLE_MAX_TYPES]; /* indexes into lifecycle.types */
    double cum[LIFECYCLE_MAX_TYPES];   /* cumulative probabilities, the last one 1 */
} lifecycle_step;

typedef struct lifecycle {
    int nsteps, ntypes;
    char types[LIFECYCLE_MAX_TYPES][LIFECYCLE_NAME_MAX]; /* distinct types, in order of mention */
    uint8_t type_len[LIFECYCLE_MAX_TYPES];
    lifecycle_step step[LIFECYCLE_MAX_STEPS];
    int64_t interval_ns; /* the time between one order's consecutive events */
    double reorder_rate; /* 0..1: share of an order's event pairs delivered swapped */
    uint64_t width;      /* orders interleaved (lifecycle_plan): consecutive deliveries differ */
} lifecycle;

/* One delivery's event. */
typedef struct lifecycle_event {
    uint64_t order; /* the order's number (0-based, unique in the run) */
    int version;    /* its step + 1: 1 is the first event of the order */
    int type;       /* index into lifecycle.types */
} lifecycle_event;

/* Parses a spec: steps separated by commas; a step is a type name (letters, digits, '.', '_',
 * '-'), optionally repeated (name*K), or alternatives (a|b|c), each with an optional
 * probability (a:0.9|b:0.1: all or none; none means equal shares). "default" is
 * LIFECYCLE_DEFAULT. Sets interval 100 ms and no reordering. 0, or -1 with one line in err. */
int lifecycle_parse(const char *spec, lifecycle *lc, char *err, size_t errlen);
/* How many orders to interleave so that an order's events are interval_ns apart at this rate
 * (deliveries per second; <= 0: the closed model, one order per connection). */
void lifecycle_plan(lifecycle *lc, double rate, int connections);
/* The event delivery number seq carries (lifecycle_plan first). */
void lifecycle_at(const lifecycle *lc, uint64_t seq, lifecycle_event *ev);
/* The spec in its canonical form (probabilities spelled out), for reports. */
void lifecycle_describe(const lifecycle *lc, char *out, size_t outlen);

/* ---- the lifecycle options, shared by the commands that send webhooks ---- */

typedef struct lifecycle_args {
    const char *spec;
    int64_t interval;
    double reorder;
    bool interval_set, reorder_set;
    lifecycle lc;
} lifecycle_args;

/* The rows of core/cli.h's option table (a command includes core/cli.h). */
/* clang-format off */
#define LIFECYCLE_CLI_ROWS(a)                                                                      \
    {.name = "events", .kind = CLI_STR, .dest = &(a)->spec, .meta = "SPEC",                        \
     .help = "send each order's events instead of one request each: 'default' ("                   \
             LIFECYCLE_DEFAULT ") or steps like a,b*2,c:0.9|d:0.1; templates get {{order}}, "      \
             "{{event}}, {{version}}"},                                                            \
    {.name = "event-interval", .kind = CLI_DURATION, .dest = &(a)->interval, .min = 1,             \
     .def = "100ms", .given = &(a)->interval_set, .meta = "D",                                     \
     .help = "with --events: an order's events are due D apart"},                                  \
    {.name = "reorder-rate", .kind = CLI_DOUBLE, .dest = &(a)->reorder, .min = 0, .max = 1,        \
     .given = &(a)->reorder_set, .meta = "R",                                                      \
     .help = "with --events: deliver this share (0..1) of an order's neighbouring events "         \
             "swapped, the newer one first (never before the order's first event)"}
/* clang-format on */

/* Turns the options into a lifecycle: *out = &a->lc, or NULL when --events was not given. 0, or
 * -1 with a one-line reason. */
int lifecycle_args_check(lifecycle_args *a, const lifecycle **out, char *err, size_t errlen);

#endif
