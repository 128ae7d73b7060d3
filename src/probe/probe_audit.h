/* probe_audit.h — the zero-loss audit's bookkeeping: brink knows which requests were
 * acknowledged (a 2xx), the system's ground truth (rows read back by SQL after the backlog has
 * drained) says what was stored, and the difference is what was lost or stored twice.
 *
 * Requests are numbered (their {{seq}}) and carry an id made of a prefix and that number (for
 * example webhook-id "msg_r1a2b_w1234"), so a stored row maps back to its request without any
 * table of ids. The reconciliation is pure; the scenario feeds it the rows. */
#ifndef BRINK_PROBE_AUDIT_H
#define BRINK_PROBE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum probe_where {
    PROBE_STORED, /* in the final table (orders) */
    PROBE_QUEUED, /* still in a durable queue (the inbox table) */
} probe_where;

typedef struct probe_audit_counts {
    int64_t acknowledged;   /* requests that got a 2xx */
    int64_t stored;         /* distinct requests found in the final table */
    int64_t lost;           /* acknowledged, and neither stored nor queued */
    int64_t queued;         /* acknowledged, not stored, still queued (not drained) */
    int64_t duplicated;     /* requests stored more than once (two rows, or stored and queued) */
    int64_t unacked_stored; /* stored although the client saw a failure (harmless: at-least-once) */
    int64_t foreign;        /* rows with the prefix whose id does not parse as prefix + number */
    int64_t first_lost;     /* the seq of the first lost request, -1 if none */
    int64_t first_duplicated;
} probe_audit_counts;

typedef struct probe_audit probe_audit;

/* acked[seq] != 0 for each acknowledged request, seq < nseq; prefix: the id's prefix. NULL when
 * out of memory. */
probe_audit *probe_audit_new(const uint8_t *acked, size_t nseq, const char *prefix);
/* One row read back: its id (rows without the prefix are ignored). */
void probe_audit_add(probe_audit *a, const char *id, probe_where where);
void probe_audit_counts_get(const probe_audit *a, probe_audit_counts *out);
void probe_audit_free(probe_audit *a);

/* Parses id as prefix + decimal number; 0 with *seq, or -1. */
int probe_audit_seq(const char *id, const char *prefix, uint64_t *seq);

#endif
