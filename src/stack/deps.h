/* deps.h — a user's own stack: the dependencies (Redis, PostgreSQL, anything with a ready check)
 * that brink cannot start itself, each described by commands (start, stop, kill, pause, resume),
 * a ready check, a time limit and optionally a process id to signal, and the same process faults
 * as the embedded stack (stack_fault) carried out with them. The `dependencies:` YAML that
 * describes them is read by config/deps_yaml.h (docs/stack.md); the stack parses no YAML. */
#ifndef BRINK_DEPS_H
#define BRINK_DEPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/clock.h"
#include "stack/stack.h"

#define DEPS_TIMEOUT_DEFAULT_NS (10 * NS_PER_S) /* each command, readiness, going down */

typedef struct deps deps;

/* One dependency. Commands are NULL-terminated argv arrays, NULL when not given. */
typedef struct deps_dep {
    char *name;
    char **start_cmd, **stop_cmd, **kill_cmd, **pause_cmd, **resume_cmd;
    char *ready_check;
    int64_t timeout_ns;
    pid_t pid;        /* pid: a fixed process id, 0 when not given */
    char *pid_file;   /* pid_file: read at each fault (relative paths: to the YAML file) */
    int stop_signal;  /* for stop by signal; SIGTERM by default */
    char *toxi_api;   /* toxiproxy.api: http://HOST:PORT of a Toxiproxy-compatible API, or NULL */
    char *toxi_proxy; /* toxiproxy.proxy: the proxy in front of this dependency */
    int line;         /* of its name in the file */
} deps_dep;

/* An empty set of dependencies described in file; NULL when out of memory. */
deps *deps_new(const char *file);
/* Appends a dependency (all zero but its name and line); NULL when out of memory. The pointer
 * holds until the next deps_add. */
deps_dep *deps_add(deps *d, const char *name, int line);
void deps_free(deps *d); /* NULL is allowed */

const char *deps_file(const deps *d);
int deps_count(const deps *d);
const deps_dep *deps_at(const deps *d, int i);
const deps_dep *deps_find(const deps *d, const char *name); /* NULL when not defined */
/* The dependencies' names, ", "-separated, into out (for "want one of ..." messages). */
void deps_names(const deps *d, char *out, size_t outlen);

/* A process fault on dependency name, with stack_fault's semantics and timestamps:
 *   stop, kill    signal: the command starts; down: it returned (exit 0) and the ready check
 *                 then failed (it is polled up to the timeout)
 *   pause         signal: the command starts; down: it returned
 *   resume        signal: the command starts; ready: the first successful ready check after it
 *   start         an error if the ready check answers already; ready: the first successful check
 *                 after the command returned
 *   restart       stop, then start
 * A dependency with pid or pid_file and without the operation's command is signalled instead:
 * pause SIGSTOP, resume SIGCONT (then ready), stop its stop_signal and kill SIGKILL (then down);
 * start always needs start_cmd. pid_before is the signalled pid and pid_after the pid file's
 * after a start (0 with commands only: the processes are the user's). 0, or -1 with a reason:
 * unknown dependency, no command for the operation, the command failed (its exit status and
 * first output), it did not go down or become ready within the timeout. */
int deps_fault(const deps *d, const char *name, stack_fault_op op, stack_fault_times *t, char *err,
               size_t errlen);

/* The dependency's process id: pid, or the first number in pid_file; 0 when unknown. */
pid_t deps_pid(const deps_dep *dep);
#endif
