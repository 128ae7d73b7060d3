/* probe_proc.c — process CPU and memory from /proc (see probe_proc.h).
 *
 * CPU: /proc/PID/stat's utime + stime, in clock ticks (sysconf(_SC_CLK_TCK)), differenced per
 * process between reads, with the process identified by (pid, starttime) so that a pid reused by
 * a restarted server is a new process. A process that exits between two reads loses at most one
 * interval's CPU time (its final ticks are never seen); at 250 ms samples that is noise.
 * Memory: RSS from the same line for a single process; for a set (PostgreSQL's postmaster and
 * backends all map the same shared buffers), the sum of Pss from /proc/PID/smaps_rollup, which
 * counts each shared page once in total. */
#include "probe/probe_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses /proc/PID/stat: its state letter, utime + stime, starttime and RSS (bytes). 0 or -1. */
static int read_stat(pid_t pid, char *state, unsigned long long *ticks, unsigned long long *start,
                     long long *rss_bytes) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
    if (!rp || rp[1] != ' ') return -1;
    /* fields from 3 (state) on */
    unsigned long long ut, st, starttime, vsize;
    long long rss;
    int got = sscanf(rp + 2,
                     "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
                     "%*d %llu %llu %lld",
                     state, &ut, &st, &starttime, &vsize, &rss);
    if (got != 6) return -1;
    *ticks = ut + st;
    *start = starttime;
    *rss_bytes = rss * (long long)sysconf(_SC_PAGESIZE);
    return 0;
}

int probe_proc_stat(pid_t pid, unsigned long long *ticks, unsigned long long *start,
                    long long *rss_bytes) {
    char state;
    if (read_stat(pid, &state, ticks, start, rss_bytes) < 0 || state == 'Z' || state == 'X')
        return -1;
    return 0;
}

int probe_proc_ticks(pid_t pid, unsigned long long *ticks) {
    char state;
    unsigned long long start;
    long long rss;
    return read_stat(pid, &state, ticks, &start, &rss);
}

/* Pss of pid in bytes, or -1. */
static long long pss_bytes(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "Pss:", 4)) {
            kb = strtoll(line + 4, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

static probe_meter_entry *find(probe_meter *m, pid_t pid) {
    for (int i = 0; i < m->n; i++)
        if (m->e[i].pid == pid) return &m->e[i];
    return NULL;
}

void probe_meter_read(probe_meter *m, const pid_t *pids, int n, probe_usage *out) {
    memset(out, 0, sizeof *out);
    long tck = sysconf(_SC_CLK_TCK);
    if (tck <= 0) tck = 100;
    probe_meter next;
    next.n = 0;
    unsigned long long used = 0;
    long long rss = 0, pss = 0;
    bool pss_ok = true;
    for (int i = 0; i < n && next.n < PROBE_METER_PIDS; i++) {
        unsigned long long ticks, start;
        long long r;
        if (pids[i] <= 0 || probe_proc_stat(pids[i], &ticks, &start, &r) < 0) continue;
        out->nprocs++;
        rss += r;
        if (n > 1 && pss_ok) {
            long long p = pss_bytes(pids[i]);
            if (p < 0)
                pss_ok = false;
            else
                pss += p;
        }
        const probe_meter_entry *old = find(m, pids[i]);
        if (m->primed) {
            if (old && old->start == start)
                used += ticks >= old->ticks ? ticks - old->ticks : 0;
            else
                used += ticks; /* appeared since the previous read */
        }
        next.e[next.n++] = (probe_meter_entry){.pid = pids[i], .start = start, .ticks = ticks};
    }
    memcpy(m->e, next.e, sizeof next.e[0] * (size_t)next.n);
    m->n = next.n;
    m->primed = true;
    out->cpu_s = (double)used / (double)tck;
    out->rss_mib = (double)(n > 1 && pss_ok ? pss : rss) / (1024.0 * 1024.0);
}
