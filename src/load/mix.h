/* mix.h — what the load engine needs to run a scenario (load/scenario.h), kept out of its
 * per-connection state machine: the weighted pick of each arrival's request or flow, the
 * judgement of a response against its request's expectations (status, JSON checks) with the
 * captures it yields, and the pool of flow instances a thread has in progress. */
#ifndef BRINK_MIX_H
#define BRINK_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/scenario.h"

/* One member of the mix: a request (flow < 0) or a flow (req < 0). */
typedef struct mix_item {
    int req, flow;
    double cum; /* cumulative weight, up to and including this item */
} mix_item;

typedef struct mix {
    const scenario *sc;
    mix_item items[SCN_MAX_REQUESTS + SCN_MAX_FLOWS];
    int n;
    double total;
} mix;

void mix_init(mix *m, const scenario *sc);
/* The member that arrival seq runs: a pure function of seq (a hash of it against the weights),
 * so proportions hold across threads and segments and a run can be replayed. */
const mix_item *mix_pick(const mix *m, uint64_t seq);

/* The checks of request r in order: index 0 the status check (when r->has_status), then its JSON
 * checks. */
int mix_nchecks(const scn_request *r);
/* Label of check i ("status 2xx", "id exists", ...). */
const char *mix_check_label(const scn_request *r, int i);

typedef struct mix_verdict {
    bool expected;   /* the status is one the request expects (without expect.status: < 400) */
    bool captured;   /* every capture found a value (true without captures) */
    uint32_t failed; /* bit i: check i failed */
} mix_verdict;

/* True when the request needs the response body (JSON checks or captures). */
bool mix_needs_body(const scn_request *r);
/* Judges a response (status 0: none came) to request r: the checks, and the captures written to
 * vals (nvars slots of TMPL_VAR_MAX bytes) and lens. A body that is not JSON fails every JSON
 * check and capture; so does no response at all. */
void mix_judge(const scn_request *r, int status, const char *body, size_t len, char *vals,
               uint16_t *lens, mix_verdict *v);

/* Flow instances in progress on one thread (a virtual user's place in its flow and its
 * variables), addressed by index: indices stay valid while the pool grows. */
typedef struct mix_inst {
    uint64_t seq;       /* the arrival that started it: {{seq}} of every step */
    int16_t flow, step; /* the step in flight or due next */
    int32_t next_free;
} mix_inst;

typedef struct mix_pool {
    mix_inst *in;
    char *vals;     /* nvars * TMPL_VAR_MAX per instance */
    uint16_t *lens; /* nvars per instance */
    int nvars;
    int32_t cap, max, used, free_head;
} mix_pool;

/* max: most instances at once (the pool grows to it). 0, or -1 out of memory. */
int mix_pool_init(mix_pool *p, int nvars, int32_t max);
void mix_pool_free(mix_pool *p);
/* A free instance (its variables empty), or -1 when max are in use or memory ran out. */
int32_t mix_pool_get(mix_pool *p);
void mix_pool_put(mix_pool *p, int32_t i);
static inline char *mix_vals(mix_pool *p, int32_t i) {
    return p->vals + (size_t)i * (size_t)p->nvars * TMPL_VAR_MAX;
}
static inline uint16_t *mix_lens(mix_pool *p, int32_t i) {
    return p->lens + (size_t)i * (size_t)p->nvars;
}

#endif
