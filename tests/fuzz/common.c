/* common.c — the harnesses' shared helpers (see common.h): a scratch directory under /dev/shm
 * (tmpfs: writing an input costs no disk I/O) or $TMPDIR, removed with its files at exit. */
#include "common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void remove_dir(void) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

const char *fuzz_dir(void) {
    if (dir[0]) return dir;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/brink-fuzz.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_dir);
    return dir;
}

void fuzz_write(const char *name, const uint8_t *data, size_t len, char *out, size_t outlen) {
    snprintf(out, outlen, "%s/%s", fuzz_dir(), name);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror("fuzz: open");
        abort();
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n <= 0) {
            perror("fuzz: write");
            abort();
        }
        off += (size_t)n;
    }
    close(fd);
}

FILE *fuzz_devnull(void) {
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    if (!f) abort();
    return f;
}

void fuzz_quiet_stdout(void) {
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        close(fd);
    }
}

int fuzz_split(const uint8_t *data, size_t len, char **parts, size_t *lens, int max) {
    const size_t seplen = strlen(FUZZ_SEP);
    int n = 0;
    size_t start = 0;
    while (n < max) {
        size_t end = len;
        if (n < max - 1) {
            const uint8_t *hit = memmem(data + start, len - start, FUZZ_SEP, seplen);
            if (hit) end = (size_t)(hit - data);
        }
        char *p = malloc(end - start + 1);
        if (!p) abort();
        memcpy(p, data + start, end - start);
        p[end - start] = '\0';
        parts[n] = p;
        lens[n] = end - start;
        n++;
        if (end == len) break;
        start = end + seplen;
    }
    return n;
}

void fuzz_free_parts(char **parts, int n) {
    for (int i = 0; i < n; i++) free(parts[i]);
}

/* ---- the feeding transport ----------------------------------------------------------------- */

static struct {
    const uint8_t *data, *cuts;
    size_t len, off, ncuts, cut;
} feed;

void fuzz_feed_set(const uint8_t *data, size_t len, const uint8_t *cuts, size_t ncuts) {
    feed.data = data;
    feed.len = len;
    feed.off = 0;
    feed.cuts = cuts;
    feed.ncuts = ncuts;
    feed.cut = 0;
}

size_t fuzz_feed_left(void) {
    return feed.len - feed.off;
}

static int fz_handshake(transport_conn *tc, const char *sni, bool is_ip) {
    return 1;
}

static ssize_t fz_read(transport_conn *tc, char *buf, size_t len) {
    if (feed.off >= feed.len) return TRANSPORT_EOF;
    size_t n = feed.len - feed.off;
    if (feed.ncuts) {
        size_t want = (size_t)feed.cuts[feed.cut++ % feed.ncuts] + 1;
        if (want < n) n = want;
    }
    if (n > len) n = len;
    memcpy(buf, feed.data + feed.off, n);
    feed.off += n;
    return (ssize_t)n;
}

static ssize_t fz_write(transport_conn *tc, const char *buf, size_t len) {
    return (ssize_t)len;
}

static size_t fz_pending(transport_conn *tc) {
    return 0;
}

static void fz_close(transport_conn *tc) {
    tc->fd = -1;
}

const transport fuzz_feed_transport = {"fuzz",   fz_handshake, fz_read,
                                       fz_write, fz_pending,   fz_close};
