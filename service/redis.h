/* redis.h — Redis connection helpers shared by the request path (queue.c) and the workers:
 * the redis:// URL, connecting with timeouts (connect and every call), AUTH and SELECT. */
#ifndef DISPATCHD_REDIS_H
#define DISPATCHD_REDIS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

typedef struct rds_target {
    char host[256];
    int port;
    char password[256]; /* from the URL; never logged */
    int db;
} rds_target;

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] → t. 0, or -1 with a message (no password). */
int rds_parse_url(const char *url, rds_target *t, char *err, size_t errlen);
/* rds_parse_url, then password (from --redis-password-file; "" or NULL: the URL's, if any). */
int rds_target_of(const char *url, const char *password, rds_target *t, char *err, size_t errlen);
/* A connected context whose calls time out after timeout_ms (0: never); NULL with err. */
redisContext *rds_connect(const rds_target *t, int timeout_ms, char *err, size_t errlen);
/* A reply is an error reply (or missing): writes its text to err. */
int rds_reply_error(redisContext *c, const redisReply *r, char *err, size_t errlen);

#endif
