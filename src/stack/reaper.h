/* reaper.h — the stack's last line of defence against leaks: a small process, forked before any
 * server starts, that is told over a pipe which process groups and directories belong to the
 * stack (and in which directories its processes work). When the pipe reaches end-of-file without a
 * "forget" — its parent died, even by SIGKILL — it kills those groups and removes those
 * directories. */
#ifndef BRINK_REAPER_H
#define BRINK_REAPER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct reaper {
    pid_t pid; /* 0 when not running */
    int fd;    /* write end of the pipe */
} reaper;

/* Forks the reaper (it calls only async-signal-safe functions, so the caller may have threads).
 * 0, or -1 with a reason. */
int reaper_start(reaper *r, char *err, size_t errlen);
/* Tells the reaper about a process group to SIGKILL / that is gone. */
void reaper_add_group(reaper *r, pid_t pgid);
void reaper_del_group(reaper *r, pid_t pgid);
/* Tells the reaper about a directory to remove (absolute path, < 1 KiB). */
void reaper_add_dir(reaper *r, const char *dir);
void reaper_del_dir(reaper *r, const char *dir);
/* Tells the reaper to SIGKILL, too, every process of program exe (a resolved path) whose working
 * directory is below dir. */
void reaper_add_watch(reaper *r, const char *dir, const char *exe);
/* Normal end: the reaper forgets everything it was told, exits, and is waited for. */
void reaper_finish(reaper *r);

#endif
