/* supervisor.h — the process that keeps a stack started by `brink stack up` alive.
 *
 * `stack up` (stack_cmd.c) runs brink again with supervisor_spawn, as its own sibling; that
 * process finds itself asked to supervise (supervisor_requested) and calls supervisor_run, which
 * starts the stack in DIR, reports "O STATE_PATH\n" or "E REASON\n" on the report pipe, and then
 * keeps the stack running until a signal (SIGTERM, SIGINT, SIGHUP), the removal of DIR, or the
 * failure of a poll ends it. While it runs it answers fault requests on DIR/control.sock; the
 * other commands of stack_cmd.c reach it through supervisor_fault_request, supervisor_alive and
 * supervisor_keep. */
#ifndef BRINK_SUPERVISOR_H
#define BRINK_SUPERVISOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stack/stack.h"

#define SUPERVISOR_NAME "brink-stack"    /* its process name (comm) */
#define SUPERVISOR_LOG  "supervisor.log" /* its output, in the stack's directory */

/* Starts the supervisor: this program again (/proc/self/exe) with argv (the same `stack up`
 * command line, so that it reads the same options), told in its environment to supervise dir
 * and to report on repfd. It is made a sibling of the caller (clone with CLONE_PARENT): a child
 * of whoever ran `brink stack up` — a shell, which collects it the moment it exits — rather than
 * an orphan of PID 1, which may take seconds or never; so that when `stack down` returns no
 * process of the stack is left, not even a zombie. 0 with *pid, or -1 with a reason. */
int supervisor_spawn(char *const argv[], int repfd, const char *dir, pid_t *pid, char *err,
                     size_t errlen);
/* In the program supervisor_spawn ran: true, with the report pipe and the directory (the
 * variable is then removed from the environment, so the stack's processes do not see it). */
bool supervisor_requested(int *repfd, char *dir, size_t dirlen);
/* The supervisor process: starts the stack described by o in dir (already created), reports on
 * repfd (closed here) and supervises until the stack is asked to stop, then stops it. Returns the
 * process's exit status: 0, or 3 when the stack could not be started (already reported; err is
 * left empty). */
int supervisor_run(const stack_opts *o, const char *dir, int repfd, char *err, size_t errlen);

/* Whether pid is a live supervisor (by its process name). */
bool supervisor_alive(pid_t pid);
/* Asks the supervisor of the stack in dir to keep the directory when it stops (`down --keep`). */
void supervisor_keep(const char *dir);

/* The JSON answer to a fault: the supervisor's reply, also printed by `fault --config`
 * ({"ok", "target", "op", "error"?, "pid_before", "pid_after", "signal_ns", "signal_at", ...,
 * "downtime_s"}). */
json_t *supervisor_fault_reply(const char *target, const char *opname, int rc, const char *err,
                               const stack_fault_times *t);
/* Sends "fault TARGET OP" to the control socket at path control (NULL: the stack has none) and
 * reads the answer (one JSON line, NUL-terminated; empty when none came in time) into reply.
 * 0, or -1 with a reason when the supervisor cannot be reached. */
int supervisor_fault_request(const char *control, const char *target, const char *op, char *reply,
                             size_t replylen, char *err, size_t errlen);

#endif
