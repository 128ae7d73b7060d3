/* redsrv.c — what is particular to Redis in the embedded stack (see redsrv.h): the binary, the
 * configuration (appendonly yes with appendfsync everysec — Redis's usual durable setting, so a
 * SIGKILL may lose up to a second of writes, which the Redis failure test must account for —
 * and no RDB snapshots, so the append-only file is the only persistence), and the version. */
#include "stack/redsrv.h"

#include <errno.h>
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

int redsrv_configure(const char *conf, const char *datadir, int port, char *err, size_t errlen) {
    char dir[2 * 4096 + 3], *w = dir; /* datadir as a double-quoted Redis configuration string */
    if (strlen(datadir) >= 4096) {
        err_set(err, errlen, "cannot write %s: %s", conf, strerror(ENAMETOOLONG));
        return -1;
    }
    *w++ = '"';
    for (const char *s = datadir; *s; s++) {
        if (*s == '"' || *s == '\\') *w++ = '\\';
        *w++ = *s;
    }
    *w++ = '"';
    *w = '\0';
    char text[sizeof dir + 512];
    snprintf(text, sizeof text,
             "# brink stack: Redis on loopback, append-only file fsynced every second\n"
             "bind 127.0.0.1\n"
             "port %d\n"
             "protected-mode yes\n"
             "daemonize no\n"
             "supervised no\n"
             "logfile \"\"\n"
             "unixsocket \"\"\n"
             "dir %s\n"
             "appendonly yes\n"
             "appendfsync everysec\n"
             "save \"\"\n",
             port, dir);
    return proc_write_file(conf, text, 0, 0, 0, err, errlen);
}

char **redsrv_argv(const char *exe, const char *conf) {
    return proc_argv(exe, conf, NULL);
}

void redsrv_version(int port, int64_t timeout_ns, char *out, size_t outlen) {
    out[0] = '\0';
    struct timeval tv = {.tv_sec = timeout_ns / NS_PER_S,
                         .tv_usec = (timeout_ns % NS_PER_S) / 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return;
    }
    redisSetTimeout(c, tv);
    redisReply *r = redisCommand(c, "INFO server");
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
