/* deps.h — a user's own stack: the dependencies (Redis, PostgreSQL, anything with a ready check)
 * that brink cannot start itself, described by commands in a YAML `dependencies:` mapping, and the
 * same process faults as the embedded stack (stack_fault) carried out with those commands.
 *
 *   dependencies:
 *     redis:
 *       start_cmd: ["redis-server", "/etc/redis/redis.conf"]   # a list (argv) or a string
 *       stop_cmd: "redis-cli -p 6379 shutdown"
 *       kill_cmd: ["sh", "-c", "kill -9 $(cat /run/redis.pid)"]
 *       pause_cmd: ...          # optional, as is every command
 *       resume_cmd: ...
 *       ready_check: redis://127.0.0.1:6379   # tcp://, redis://, postgresql://, http(s)://
 *       timeout: 10s            # per command, for readiness and for going down; default 10s
 *       pid_file: /run/redis.pid   # or pid: N — signals instead of missing commands:
 *       stop_signal: SIGTERM    # pause SIGSTOP, resume SIGCONT, stop this, kill SIGKILL
 *       toxiproxy: {api: http://127.0.0.1:8474, proxy: redis}   # network faults (brink.yaml)
 *
 * ready_check is required once the dependency has a command or a pid (a dependency with only
 * toxiproxy needs none).
 * A string command is split into words as the embedded stack's service command is (quotes group
 * words, backslash escapes, no expansion); no shell runs unless the command says `sh -c`. Every
 * key is validated; each error is one line "FILE:LINE: dependencies.NAME.KEY: what is wrong".
 * See docs/stack.md. */
#ifndef BRINK_DEPS_H
#define BRINK_DEPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yaml.h>

#include "stack/stack.h"

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

/* Parses the value of a `dependencies:` key (node, of doc) for a bigger loader: file names the
 * source in errors and key is the path of node in them ("dependencies", or e.g. "stack.deps").
 * 0 with *out, or -1 with a one-line "FILE:LINE: KEY.NAME.FIELD: reason". */
int deps_parse(yaml_document_t *doc, yaml_node_t *node, const char *file, const char *key,
               deps **out, char *err, size_t errlen);
/* Loads a YAML file whose top level is a mapping with a `dependencies:` key (other top-level keys
 * belong to brink's main configuration and are left alone). 0 with *out, or -1 with one line. */
int deps_load(const char *path, deps **out, char *err, size_t errlen);
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
/* p relative to the directory of file (p itself when absolute); malloc'd, NULL on OOM. */
char *deps_relative_to(const char *file, const char *p);

#endif
