/* probe_proc.h — CPU and memory of processes, from /proc, for the resources section of a
 * scenario's result: a meter follows a set of processes (one server, or a postmaster and its
 * backends, whose members come and go) and turns their cumulative CPU times into CPU seconds used
 * between two reads. */
#ifndef BRINK_PROBE_PROC_H
#define BRINK_PROBE_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROBE_METER_PIDS 256

typedef struct probe_meter_entry {
    pid_t pid;
    unsigned long long start; /* starttime (field 22): tells a reused pid from the old one */
    unsigned long long ticks; /* utime + stime at the last read */
} probe_meter_entry;

typedef struct probe_meter {
    bool primed; /* a first read happened */
    int n;
    probe_meter_entry e[PROBE_METER_PIDS];
} probe_meter;

typedef struct probe_usage {
    int nprocs;     /* processes found alive */
    double cpu_s;   /* CPU seconds (user + system) used since the previous read */
    double rss_mib; /* one process: its RSS; several: the sum of their PSS (shared memory, such as
                       PostgreSQL's shared buffers, counted once), or of their RSS when PSS is not
                       readable */
} probe_usage;

/* Reads the processes pids[0..n) (dead ones are skipped). The first read of a meter only
 * primes it (cpu_s = 0); later reads count the CPU time each process used since the previous
 * read, and all of a process's CPU time when it appeared since then. */
void probe_meter_read(probe_meter *m, const pid_t *pids, int n, probe_usage *out);

/* One process's cumulative utime + stime (clock ticks), start time and RSS (bytes) from
 * /proc/PID/stat. 0, or -1 when it is gone. */
int probe_proc_stat(pid_t pid, unsigned long long *ticks, unsigned long long *start,
                    long long *rss_bytes);

/* One process's cumulative utime + stime (clock ticks), a zombie's too (its last); 0, or -1 when
 * /proc/PID/stat is gone or unreadable. */
int probe_proc_ticks(pid_t pid, unsigned long long *ticks);

#endif
