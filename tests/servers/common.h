/* common.h — what the small test servers and clients of tests/servers share (header-only: each
 * of them is one .c file linked alone). */
#ifndef BRINK_TEST_SERVERS_COMMON_H
#define BRINK_TEST_SERVERS_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Sends all n bytes of p on a blocking socket (again after EINTR, no SIGPIPE); false when the
 * peer is gone or the socket fails. */
static inline bool srv_send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

#endif
