/* unit.h — small helpers that several unit test files share: a scratch directory with one file in
 * it, writing a text file, loading a JSON fixture, capturing what a writer prints into a string,
 * and counting occurrences. Header-only (static functions), included after <cmocka.h>; a test file
 * that uses none of them does not include it. */
#ifndef BRINK_TEST_UNIT_H
#define BRINK_TEST_UNIT_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A directory of its own under /tmp ("/tmp/brink-test-TAG-XXXXXX") and the path of one file in it,
 * for a test file's setup and teardown. */
typedef struct unit_tmp {
    char dir[128];
    char file[256];
} unit_tmp;

/* 0, or -1 when the directory cannot be made (a cmocka setup's return value). */
static inline int unit_tmp_make(unit_tmp *t, const char *tag, const char *leaf) {
    snprintf(t->dir, sizeof t->dir, "/tmp/brink-test-%s-XXXXXX", tag);
    if (!mkdtemp(t->dir)) return -1;
    snprintf(t->file, sizeof t->file, "%s/%s", t->dir, leaf);
    return 0;
}

/* Removes the file and the (then empty) directory. */
static inline void unit_tmp_remove(const unit_tmp *t) {
    unlink(t->file);
    rmdir(t->dir);
}

/* Writes text to path, replacing what was there. */
static inline void unit_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) fail_msg("cannot write %s", path);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* A JSON document from a file (a fixture); fails the test when it cannot be read. */
static inline json_t *unit_load_json(const char *path) {
    json_error_t je;
    json_t *d = json_load_file(path, 0, &je);
    if (!d) fail_msg("cannot load %s: %s", path, je.text);
    return d;
}

/* A stream whose text becomes a string: unit_mem_open, write to the stream, unit_mem_close (the
 * caller frees the string). */
typedef struct unit_mem {
    char *buf;
    size_t len;
    FILE *f;
} unit_mem;

static inline FILE *unit_mem_open(unit_mem *m) {
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    return m->f;
}

static inline char *unit_mem_close(unit_mem *m) {
    fclose(m->f);
    return m->buf;
}

/* How many times needle occurs in hay, without overlaps. */
static inline int unit_count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

#endif
