/* toxic.h — the toxics of brink's fault proxy, as Toxiproxy defines them: their description
 * (toxic_spec, with names, parsing and validation), and the engine that applies them to one
 * direction ("flow") of a proxied connection.
 *
 * proxy.h includes this header: the types and the name functions below are part of the proxy's
 * public API. The engine part (toxic_list, toxic_flow and the toxic_flow_* functions) is what
 * proxy.c calls from its event-loop thread; it runs on that thread only and takes no locks.
 *
 * Directions follow Toxiproxy: "upstream" = client → server, "downstream" = server → client.
 * Toxicity is the probability (0..1) that a toxic applies to a given connection, drawn per
 * connection when the connection is made or the toxic is added. */
#ifndef BRINK_TOXIC_H
#define BRINK_TOXIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOXIC_NAME_MAX 64
/* What a proxy's or a toxic's name may be (toxic_name_ok), for messages after "invalid ... name
 * 'X': ". */
#define TOXIC_NAME_RULE "want 1 to 63 letters, digits, '_', '.' or '-' (not . or ..)"
#define TOXIC_LIST_MAX  32        /* toxics per proxy */
#define TOXIC_NEVER     INT64_MAX /* no deadline */

typedef enum toxic_type {
    TOXIC_LATENCY,    /* latency (ms), jitter (ms): each chunk is delayed latency ± jitter */
    TOXIC_BANDWIDTH,  /* rate (KB/s): bytes are released at most at this rate */
    TOXIC_SLOW_CLOSE, /* delay (ms): closing is propagated only after the delay */
    TOXIC_TIMEOUT, /* timeout (ms): no data passes; after timeout (if > 0) the connection closes */
    TOXIC_RESET_PEER, /* timeout (ms): after timeout, both sides are reset (RST) */
    TOXIC_SLICER, /* average_size, size_variation (bytes), delay (µs): data sliced into pieces */
    TOXIC_LIMIT_DATA, /* bytes: the connection closes after this many bytes passed */
    TOXIC__COUNT
} toxic_type;

typedef enum toxic_stream {
    STREAM_UPSTREAM,
    STREAM_DOWNSTREAM,
} toxic_stream;

typedef struct toxic_spec {
    char name[TOXIC_NAME_MAX]; /* default "<type>_<stream>" (the API fills it) */
    toxic_type type;
    toxic_stream stream;
    double toxicity; /* 0..1 */
    /* attributes: only those of the type are used; all are >= 0 */
    int64_t latency, jitter;              /* latency, ms */
    int64_t rate;                         /* bandwidth, KB/s (1 KB = 1000 bytes, as Toxiproxy) */
    int64_t delay;                        /* slow_close ms; slicer µs */
    int64_t timeout;                      /* timeout, reset_peer: ms */
    int64_t average_size, size_variation; /* slicer, bytes */
    int64_t bytes;                        /* limit_data */
} toxic_spec;

const char *toxic_type_name(toxic_type t);
int toxic_type_parse(const char *s, toxic_type *out); /* 0 or -1 */
const char *toxic_stream_name(toxic_stream s);
int toxic_stream_parse(const char *s, toxic_stream *out); /* 0 or -1 */

/* ---- validation and the list of a proxy --------------------------------------------------- */

/* A name the control API can address in its paths (/proxies/NAME, /proxies/P/toxics/NAME), for
 * proxies and toxics alike: 1 to TOXIC_NAME_MAX - 1 characters of [A-Za-z0-9_.-], not "." or
 * "..". A name with a '/', a '?' or a space could be created but never shown or deleted. */
bool toxic_name_ok(const char *name);

/* A new toxic: its name, type, stream, toxicity and the attributes of its type. 0, or -1 with a
 * one-line reason in err. */
int toxic_spec_check_new(const toxic_spec *t, char *err, size_t errlen);
/* An update of a toxic of type `type`: toxicity and the attributes of that type (t's own name,
 * type and stream are not looked at). 0 or -1 with err. */
int toxic_spec_check(toxic_type type, const toxic_spec *t, char *err, size_t errlen);
/* Whether the type delays data (latency, bandwidth, slicer): removing or updating such a toxic
 * releases what it holds. */
bool toxic_delays(toxic_type t);

/* A proxy's toxics, in the order data goes through them. */
typedef struct toxic_list {
    int n;
    toxic_spec t[TOXIC_LIST_MAX];
} toxic_list;

/* Index of the toxic named name, or -1. */
int toxic_list_find(const toxic_list *l, const char *name);
/* Removes toxic k (the others keep their order). */
void toxic_list_remove(toxic_list *l, int k);

/* ---- the engine: toxics on one flow of a connection ---------------------------------------- */

/* Per connection, per toxic: what Toxiproxy keeps in a ToxicStub. */
typedef struct toxic_state {
    bool applies;     /* drawn against toxicity */
    int64_t next;     /* bandwidth, slicer: when the toxic is free for the next piece */
    int64_t count;    /* limit_data: bytes passed */
    int64_t deadline; /* timeout: close at; reset_peer: reset at (TOXIC_NEVER = not armed) */
} toxic_state;

/* When a part of the flow's gated bytes may be written (monotonic ns). */
typedef struct toxic_segment {
    int64_t release;
    uint32_t len;
} toxic_segment;

/* The toxic side of a flow (one direction of a connection). The flags are what the relay loop
 * reads; the segments are the release schedule of the bytes behind the flow's ungated ones, in
 * the order of the bytes: a ring of seg_cap entries (a power of two), seg_n of them from
 * seg_head. A flow that no toxic applies to has no segments and never calls the engine. */
typedef struct toxic_flow {
    bool on;        /* any toxic applies */
    bool split;     /* slicer: write segment by segment */
    bool hold;      /* timeout: nothing is written */
    bool dropping;  /* timeout, reset_peer: data read is swallowed */
    bool limit_hit; /* limit_data reached: close the connection once written */
    toxic_segment *seg;
    size_t seg_head, seg_n, seg_cap;
    int64_t last_release;           /* release time of the newest segment (order is kept) */
    toxic_state st[TOXIC_LIST_MAX]; /* indexed like the list; only this stream's are used */
} toxic_flow;

/* The loop thread's generator (xorshift64*) for toxicity draws, jitter and slice sizes. */
void toxic_rng_seed(uint64_t *rng);
/* (Re)starts toxic x's state on a connection: draws whether it applies, arms a timeout. */
void toxic_state_init(toxic_state *s, const toxic_spec *x, int64_t now, uint64_t *rng);
/* Recomputes the flags of flow d (UPSTREAM or DOWNSTREAM) from the toxics that apply to it. */
void toxic_flow_derive(toxic_flow *f, const toxic_list *l, int d);
/* Drops the schedule: every gated byte may be written from now on. */
void toxic_flow_release(toxic_flow *f, int64_t now);
/* *n bytes were read into flow d at time now: limit_data cuts *n to what may pass (setting
 * limit_hit), then the chain of toxics schedules those bytes. 0, or -1 out of memory. */
int toxic_flow_take(toxic_flow *f, const toxic_list *l, int d, size_t *n, int64_t now,
                    uint64_t *rng);
/* Data or EOF seen by the swallowing toxics (timeout, reset_peer) of flow d. */
void toxic_flow_swallow(toxic_flow *f, const toxic_list *l, int d, int64_t now);
/* When an EOF read at time now may be propagated: after the last scheduled byte, plus the
 * slow_close delays. */
int64_t toxic_flow_fin_at(const toxic_flow *f, const toxic_list *l, int d, int64_t now);
/* The earliest deadline of flow d's timeout and reset_peer toxics (TOXIC_NEVER: none). */
int64_t toxic_flow_deadline(const toxic_flow *f, const toxic_list *l, int d);

typedef enum toxic_action { TOXIC_PASS, TOXIC_CLOSE, TOXIC_RESET } toxic_action;
/* What a due deadline of flow d asks for at time now: close (timeout), reset both sides
 * (reset_peer), or nothing. */
toxic_action toxic_flow_due(const toxic_flow *f, const toxic_list *l, int d, int64_t now);
/* Toxic k was removed from a list of n: the states after it move down. */
void toxic_flow_remove(toxic_flow *f, int k, int n);
void toxic_flow_free(toxic_flow *f);

#endif
