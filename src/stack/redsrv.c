/* redsrv.c — what is particular to Redis in the embedded stack (see redsrv.h): the binary, the
 * configuration (appendonly yes with appendfsync everysec — Redis's usual durable setting, so a
 * SIGKILL may lose up to a second of writes, which the Redis failure test must account for —
 * and no RDB snapshots, so the append-only file is the only persistence), and the version.
 *
 * Loopback is not a boundary between the users of one machine: without a password any local
 * account could XADD a forged order into the service's stream. So the server has one
 * (requirepass, random, from stack.c), which it reads from its 0600 configuration file — never
 * from its command line, which every user can read in /proc — and every client AUTHs. */
#include "stack/redsrv.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "core/clock.h"
#include "core/err.h"
#include "stack/proc.h"

int redsrv_find(char *path, size_t len, char *err, size_t errlen) {
    return proc_find_server("BRINK_REDIS_SERVER", "redis-server", "/usr/bin/redis-server",
                            "redis-server", path, len, err, errlen);
}

int redsrv_configure(const redsrv_conf *c, char *err, size_t errlen) {
    char dir[2 * 4096 + 3], *w = dir; /* datadir as a double-quoted Redis configuration string */
    if (strlen(c->datadir) >= 4096 || strlen(c->password) > 128) {
        err_set(err, errlen, "cannot write %s: %s", c->path, strerror(ENAMETOOLONG));
        return -1;
    }
    bool plain = c->password[0] != '\0';
    for (const char *p = c->password; *p; p++) plain &= isalnum((unsigned char)*p) != 0;
    if (!plain) {
        err_set(err, errlen, "cannot write %s: the password must be letters and digits", c->path);
        return -1;
    }
    *w++ = '"';
    for (const char *s = c->datadir; *s; s++) {
        if (*s == '"' || *s == '\\') *w++ = '\\';
        *w++ = *s;
    }
    *w++ = '"';
    *w = '\0';
    char text[sizeof dir + 768];
    snprintf(text, sizeof text,
             "# brink stack: Redis on loopback, append-only file fsynced every second\n"
             "bind 127.0.0.1\n"
             "port %d\n"
             "protected-mode yes\n"
             "# loopback is shared by every account of the machine: every client must AUTH\n"
             "requirepass %s\n"
             "daemonize no\n"
             "supervised no\n"
             "logfile \"\"\n"
             "unixsocket \"\"\n"
             "dir %s\n"
             "appendonly yes\n"
             "appendfsync everysec\n"
             "save \"\"\n",
             c->port, c->password, dir);
    int rc = proc_write_file(c->path, text, PROC_FILE_SECRET | (c->chown_to ? PROC_FILE_CHOWN : 0),
                             c->uid, c->gid, err, errlen);
    memset(text, 0, sizeof text);
    return rc;
}

char **redsrv_argv(const char *exe, const char *conf) {
    return proc_argv(exe, conf, NULL);
}

void redsrv_version(int port, const char *password, int64_t timeout_ns, char *out, size_t outlen) {
    out[0] = '\0';
    struct timeval tv = {.tv_sec = timeout_ns / NS_PER_S,
                         .tv_usec = (timeout_ns % NS_PER_S) / 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return;
    }
    redisSetTimeout(c, tv);
    redisReply *r = NULL;
    if (password && *password) {
        r = redisCommand(c, "AUTH %s", password);
        bool authed = r && r->type == REDIS_REPLY_STATUS;
        if (r) freeReplyObject(r);
        r = NULL;
        if (!authed) {
            redisFree(c);
            return;
        }
    }
    r = redisCommand(c, "INFO server");
    if (r && (r->type == REDIS_REPLY_STRING) && r->str) {
        const char *v = strstr(r->str, "redis_version:");
        if (v) {
            v += strlen("redis_version:");
            size_t n = strcspn(v, "\r\n");
            snprintf(out, outlen, "%.*s", (int)n, v);
        }
    }
    if (r) freeReplyObject(r);
    redisFree(c);
}
