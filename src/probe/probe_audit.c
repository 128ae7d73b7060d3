/* probe_audit.c — reconciliation of acknowledged requests against stored rows (see
 * probe_audit.h). One byte of counts per request number: how many times it was found in the
 * final table (saturating) and whether it is still queued; the counts come from one pass at the
 * end. Memory is two bytes per request of the run. */
#include "probe/probe_audit.h"

#include <stdlib.h>
#include <string.h>

struct probe_audit {
    const uint8_t *acked;
    size_t nseq;
    char *prefix;
    uint8_t *stored; /* times found in the final table, saturating at 255 */
    uint8_t *queued;
    int64_t foreign;
};

int probe_audit_seq(const char *id, const char *prefix, uint64_t *seq) {
    size_t pl = strlen(prefix);
    if (strncmp(id, prefix, pl) != 0) return -1;
    const char *d = id + pl;
    if (!*d || strlen(d) > 19) return -1;
    uint64_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9') return -1;
        v = v * 10 + (uint64_t)(*d - '0');
    }
    if (id[pl] == '0' && id[pl + 1]) return -1; /* no leading zeros: one id per number */
    *seq = v;
    return 0;
}

probe_audit *probe_audit_new(const uint8_t *acked, size_t nseq, const char *prefix) {
    probe_audit *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->acked = acked;
    a->nseq = nseq;
    a->prefix = strdup(prefix);
    a->stored = calloc(nseq ? nseq : 1, 1);
    a->queued = calloc(nseq ? nseq : 1, 1);
    if (!a->prefix || !a->stored || !a->queued) {
        probe_audit_free(a);
        return NULL;
    }
    return a;
}

void probe_audit_add(probe_audit *a, const char *id, probe_where where) {
    if (strncmp(id, a->prefix, strlen(a->prefix)) != 0) return;
    uint64_t seq;
    if (probe_audit_seq(id, a->prefix, &seq) < 0 || seq >= a->nseq) {
        a->foreign++;
        return;
    }
    uint8_t *c = where == PROBE_STORED ? &a->stored[seq] : &a->queued[seq];
    if (*c < 255) (*c)++;
}

void probe_audit_counts_get(const probe_audit *a, probe_audit_counts *out) {
    memset(out, 0, sizeof *out);
    out->first_lost = out->first_duplicated = -1;
    out->foreign = a->foreign;
    for (size_t i = 0; i < a->nseq; i++) {
        bool ack = a->acked[i] != 0;
        int s = a->stored[i], q = a->queued[i];
        if (ack) out->acknowledged++;
        if (s) out->stored++;
        if (s + q > 1) {
            out->duplicated++;
            if (out->first_duplicated < 0) out->first_duplicated = (int64_t)i;
        }
        if (s && !ack) out->unacked_stored++;
        if (ack && !s) {
            if (q) {
                out->queued++;
            } else {
                out->lost++;
                if (out->first_lost < 0) out->first_lost = (int64_t)i;
            }
        }
    }
}

void probe_audit_free(probe_audit *a) {
    if (!a) return;
    free(a->prefix);
    free(a->stored);
    free(a->queued);
    free(a);
}
