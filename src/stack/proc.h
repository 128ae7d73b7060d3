/* proc.h — child processes for the embedded stack and for users' own stack commands: spawned
 * without a shell in their own process group, with PR_SET_PDEATHSIG, optionally as another
 * (unprivileged) account; waited for with time limits; process groups found and emptied through
 * /proc. Everything that runs in a forked child, and the directory removal, is async-signal-safe
 * (no malloc), so these functions may be called from multi-threaded processes and from the
 * stack's reaper. */
#ifndef BRINK_PROC_H
#define BRINK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct proc_spec {
    char *const *argv; /* argv[0] is the path executed (no PATH search; see proc_find_exe) */
    char *const *envp; /* NULL: the current environment */
    const char *cwd;   /* NULL: unchanged */
    int stdin_fd;      /* -1: /dev/null */
    int out_fd;        /* the child's stdout and stderr; -1: /dev/null */
    bool as_user;      /* run as uid/gid (the caller is root): setgroups, setgid, setuid; the
                          program is opened before, so the account needs only its execute bit */
    uid_t uid;
    gid_t gid;
    int pdeathsig; /* signal sent to the child when the calling thread dies; 0: none */
} proc_spec;

/* Forks and execs sp->argv in a new process group (its pgid is its pid), with every signal
 * disposition at its default and no signal blocked, and no file descriptor but 0, 1 and 2.
 * Failures of exec (or of the identity change) are reported here, not as an exit status. */
int proc_spawn(const proc_spec *sp, pid_t *pid, char *err, size_t errlen);

/* Waits for our child pid to exit for at most timeout_ns (< 0: forever). Returns 0 with the
 * wait status in *status (may be NULL), 1 on timeout, -1 when pid is not our child. */
int proc_wait(pid_t pid, int64_t timeout_ns, int *status);
/* Describes a wait status: "exit status 1", "signal 9 (Killed)". */
void proc_describe_status(int status, char *out, size_t outlen);

/* Whether pid exists and is not a zombie (zombies are dead: their parent may never reap them). */
bool proc_alive(pid_t pid);
/* The number of live (non-zombie) processes in process group pgid; reaps those that are our
 * children (or orphans handed to us as a child subreaper). */
int proc_group_alive(pid_t pgid);
/* Sends sig to the group, then waits up to timeout_ns until it has no live process; SIGKILLs
 * whatever is left at the end and waits one more second. Returns 0 when the group is gone. */
int proc_group_end(pid_t pgid, int sig, int64_t timeout_ns);
/* The number of live processes (other than the caller) whose working directory is dir or below
 * it and, when exe is not NULL, whose program is exe (a resolved path: /proc/PID/exe), after
 * sending sig (0: none) to each. PostgreSQL's backends each call setsid(), so they escape the
 * postmaster's process group — but every one of them is the postgres program working in the data
 * directory (and a user's shell that happens to be there is not). */
int proc_signal_cwd_under(const char *dir, const char *exe, int sig);
/* The same processes, listed (at most max); returns how many were written. */
int proc_list_cwd_under(const char *dir, const char *exe, pid_t *out, int max);
/* Waits up to timeout_ns for those processes to exit (sending sig first, 0: none), then SIGKILLs
 * the rest and waits one more second. 0 when none is left. */
int proc_end_cwd_under(const char *dir, const char *exe, int sig, int64_t timeout_ns);
/* The command name of pid (/proc/PID/comm), "" when unknown. */
void proc_comm(pid_t pid, char *out, size_t outlen);
/* The single-letter state of pid (/proc/PID/stat: R, S, T, Z, ...), 0 when gone. */
char proc_state(pid_t pid);

/* Removes path and everything below it (without following symbolic links). 0, or -1 with errno
 * set; a path that does not exist counts as removed. */
int proc_rmtree(const char *path);

/* Splits a command line into words on white space, honouring '...', "..." (with \" and \\)
 * and backslash escapes outside quotes; no expansion of any kind. *argv is NULL-terminated and
 * malloc'd (free with proc_argv_free). Returns the word count, or -1 with a reason in err. */
int proc_split(const char *cmd, char ***argv, char *err, size_t errlen);
void proc_argv_free(char **argv);
/* A malloc'd copy of the NULL-ended list of words (free with proc_argv_free); NULL when out of
 * memory. */
char **proc_argv(const char *arg0, ...) __attribute__((sentinel));

/* Resolves a program name as execvp would (PATH, or the name itself when it holds a '/') to an
 * executable regular file. 0, or -1 (out is left empty). */
int proc_find_exe(const char *name, char *out, size_t outlen);
/* Finds a server program of the embedded stack: the one the environment variable env names (it
 * must be executable), else name on PATH, else fallback (an absolute path). 0, or -1 with a
 * reason that names the Debian package. */
int proc_find_server(const char *env, const char *name, const char *fallback, const char *package,
                     char *out, size_t outlen, char *err, size_t errlen);

/* Runs argv (argv[0] resolved with proc_find_exe) without a shell, in its own process group,
 * capturing up to outlen - 1 bytes of its combined stdout and stderr into out (may be NULL). On
 * timeout the whole group is killed. Returns 0 when it ran to the end (wait status in *status),
 * -1 with a reason (cannot start, timed out). */
int proc_run(char *const argv[], int64_t timeout_ns, int *status, char *out, size_t outlen,
             char *err, size_t errlen);

/* Looks an account up: uid and primary gid. 0, or -1 with a reason. */
int proc_lookup_user(const char *name, uid_t *uid, gid_t *gid, char *err, size_t errlen);
/* Whether the account uid/gid may access path with mode (R_OK, W_OK, X_OK), tested in a forked
 * child that takes that identity. */
bool proc_access_as(const char *path, int mode, uid_t uid, gid_t gid);

/* Writes text to path, replacing the file (or appending to it: PROC_FILE_APPEND); created with
 * mode 0666 less the umask, or 0600 (PROC_FILE_SECRET, which also refuses a symbolic link and
 * makes an existing file 0600), owned by uid/gid with PROC_FILE_CHOWN. 0, or -1 with a reason. */
enum { PROC_FILE_APPEND = 1, PROC_FILE_SECRET = 2, PROC_FILE_CHOWN = 4 };
int proc_write_file(const char *path, const char *text, int flags, uid_t uid, gid_t gid, char *err,
                    size_t errlen);

/* The last nlines lines of a log file (at most the last 4 KiB), joined by " | ", control
 * characters replaced; "" when the file is empty or unreadable. */
void proc_log_tail(const char *path, int nlines, char *out, size_t outlen);

#endif
