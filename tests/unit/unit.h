/* unit.h — small helpers that several unit test files share: a scratch directory with one file in
 * it, writing a text file, loading a JSON fixture, capturing what a writer prints into a string,
 * counting occurrences, and UNIT_MAIN, every test file's main(). Header-only (static functions
 * and macros), included after <cmocka.h> by every test file. */
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

/* ---- one main() for every test file ----------------------------------------------------------
 * UNIT_MAIN(test_a, test_b, ...) is the file's main(): it runs the named tests in that order with
 * cmocka (which prints each function's name). UNIT_MAIN_WITH(setup, teardown, ...) gives the group
 * a setup and a teardown (cmocka_run_group_tests); UNIT_MAIN_EACH(setup, teardown, ...) runs them
 * around every test (cmocka_unit_test_setup_teardown). At most 64 tests a file: a 65th fails the
 * static assertion, and more do not compile. */

/* How many arguments (1 to 65). */
#define UNIT_NARGS_(...)                                                                           \
    UNIT_NARGS_N_(__VA_ARGS__, 65, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, \
                  48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29,  \
                  28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9,   \
                  8, 7, 6, 5, 4, 3, 2, 1, 0)
#define UNIT_NARGS_N_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17,  \
                      _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32,   \
                      _33, _34, _35, _36, _37, _38, _39, _40, _41, _42, _43, _44, _45, _46, _47,   \
                      _48, _49, _50, _51, _52, _53, _54, _55, _56, _57, _58, _59, _60, _61, _62,   \
                      _63, _64, _65, N, ...)                                                       \
    N
#define UNIT_CAT_(a, b)  UNIT_CAT2_(a, b)
#define UNIT_CAT2_(a, b) a##b

/* m(c, x) for every x, in order. */
#define UNIT_FOR_EACH(m, c, ...) UNIT_CAT_(UNIT_FE_, UNIT_NARGS_(__VA_ARGS__))(m, c, __VA_ARGS__)
#define UNIT_FE_65(m, c, ...)    /* refused by the static assertion in UNIT_RUN_ */
#define UNIT_FE_1(m, c, x)       m(c, x)
#define UNIT_FE_2(m, c, x, ...)  m(c, x) UNIT_FE_1(m, c, __VA_ARGS__)
#define UNIT_FE_3(m, c, x, ...)  m(c, x) UNIT_FE_2(m, c, __VA_ARGS__)
#define UNIT_FE_4(m, c, x, ...)  m(c, x) UNIT_FE_3(m, c, __VA_ARGS__)
#define UNIT_FE_5(m, c, x, ...)  m(c, x) UNIT_FE_4(m, c, __VA_ARGS__)
#define UNIT_FE_6(m, c, x, ...)  m(c, x) UNIT_FE_5(m, c, __VA_ARGS__)
#define UNIT_FE_7(m, c, x, ...)  m(c, x) UNIT_FE_6(m, c, __VA_ARGS__)
#define UNIT_FE_8(m, c, x, ...)  m(c, x) UNIT_FE_7(m, c, __VA_ARGS__)
#define UNIT_FE_9(m, c, x, ...)  m(c, x) UNIT_FE_8(m, c, __VA_ARGS__)
#define UNIT_FE_10(m, c, x, ...) m(c, x) UNIT_FE_9(m, c, __VA_ARGS__)
#define UNIT_FE_11(m, c, x, ...) m(c, x) UNIT_FE_10(m, c, __VA_ARGS__)
#define UNIT_FE_12(m, c, x, ...) m(c, x) UNIT_FE_11(m, c, __VA_ARGS__)
#define UNIT_FE_13(m, c, x, ...) m(c, x) UNIT_FE_12(m, c, __VA_ARGS__)
#define UNIT_FE_14(m, c, x, ...) m(c, x) UNIT_FE_13(m, c, __VA_ARGS__)
#define UNIT_FE_15(m, c, x, ...) m(c, x) UNIT_FE_14(m, c, __VA_ARGS__)
#define UNIT_FE_16(m, c, x, ...) m(c, x) UNIT_FE_15(m, c, __VA_ARGS__)
#define UNIT_FE_17(m, c, x, ...) m(c, x) UNIT_FE_16(m, c, __VA_ARGS__)
#define UNIT_FE_18(m, c, x, ...) m(c, x) UNIT_FE_17(m, c, __VA_ARGS__)
#define UNIT_FE_19(m, c, x, ...) m(c, x) UNIT_FE_18(m, c, __VA_ARGS__)
#define UNIT_FE_20(m, c, x, ...) m(c, x) UNIT_FE_19(m, c, __VA_ARGS__)
#define UNIT_FE_21(m, c, x, ...) m(c, x) UNIT_FE_20(m, c, __VA_ARGS__)
#define UNIT_FE_22(m, c, x, ...) m(c, x) UNIT_FE_21(m, c, __VA_ARGS__)
#define UNIT_FE_23(m, c, x, ...) m(c, x) UNIT_FE_22(m, c, __VA_ARGS__)
#define UNIT_FE_24(m, c, x, ...) m(c, x) UNIT_FE_23(m, c, __VA_ARGS__)
#define UNIT_FE_25(m, c, x, ...) m(c, x) UNIT_FE_24(m, c, __VA_ARGS__)
#define UNIT_FE_26(m, c, x, ...) m(c, x) UNIT_FE_25(m, c, __VA_ARGS__)
#define UNIT_FE_27(m, c, x, ...) m(c, x) UNIT_FE_26(m, c, __VA_ARGS__)
#define UNIT_FE_28(m, c, x, ...) m(c, x) UNIT_FE_27(m, c, __VA_ARGS__)
#define UNIT_FE_29(m, c, x, ...) m(c, x) UNIT_FE_28(m, c, __VA_ARGS__)
#define UNIT_FE_30(m, c, x, ...) m(c, x) UNIT_FE_29(m, c, __VA_ARGS__)
#define UNIT_FE_31(m, c, x, ...) m(c, x) UNIT_FE_30(m, c, __VA_ARGS__)
#define UNIT_FE_32(m, c, x, ...) m(c, x) UNIT_FE_31(m, c, __VA_ARGS__)
#define UNIT_FE_33(m, c, x, ...) m(c, x) UNIT_FE_32(m, c, __VA_ARGS__)
#define UNIT_FE_34(m, c, x, ...) m(c, x) UNIT_FE_33(m, c, __VA_ARGS__)
#define UNIT_FE_35(m, c, x, ...) m(c, x) UNIT_FE_34(m, c, __VA_ARGS__)
#define UNIT_FE_36(m, c, x, ...) m(c, x) UNIT_FE_35(m, c, __VA_ARGS__)
#define UNIT_FE_37(m, c, x, ...) m(c, x) UNIT_FE_36(m, c, __VA_ARGS__)
#define UNIT_FE_38(m, c, x, ...) m(c, x) UNIT_FE_37(m, c, __VA_ARGS__)
#define UNIT_FE_39(m, c, x, ...) m(c, x) UNIT_FE_38(m, c, __VA_ARGS__)
#define UNIT_FE_40(m, c, x, ...) m(c, x) UNIT_FE_39(m, c, __VA_ARGS__)
#define UNIT_FE_41(m, c, x, ...) m(c, x) UNIT_FE_40(m, c, __VA_ARGS__)
#define UNIT_FE_42(m, c, x, ...) m(c, x) UNIT_FE_41(m, c, __VA_ARGS__)
#define UNIT_FE_43(m, c, x, ...) m(c, x) UNIT_FE_42(m, c, __VA_ARGS__)
#define UNIT_FE_44(m, c, x, ...) m(c, x) UNIT_FE_43(m, c, __VA_ARGS__)
#define UNIT_FE_45(m, c, x, ...) m(c, x) UNIT_FE_44(m, c, __VA_ARGS__)
#define UNIT_FE_46(m, c, x, ...) m(c, x) UNIT_FE_45(m, c, __VA_ARGS__)
#define UNIT_FE_47(m, c, x, ...) m(c, x) UNIT_FE_46(m, c, __VA_ARGS__)
#define UNIT_FE_48(m, c, x, ...) m(c, x) UNIT_FE_47(m, c, __VA_ARGS__)
#define UNIT_FE_49(m, c, x, ...) m(c, x) UNIT_FE_48(m, c, __VA_ARGS__)
#define UNIT_FE_50(m, c, x, ...) m(c, x) UNIT_FE_49(m, c, __VA_ARGS__)
#define UNIT_FE_51(m, c, x, ...) m(c, x) UNIT_FE_50(m, c, __VA_ARGS__)
#define UNIT_FE_52(m, c, x, ...) m(c, x) UNIT_FE_51(m, c, __VA_ARGS__)
#define UNIT_FE_53(m, c, x, ...) m(c, x) UNIT_FE_52(m, c, __VA_ARGS__)
#define UNIT_FE_54(m, c, x, ...) m(c, x) UNIT_FE_53(m, c, __VA_ARGS__)
#define UNIT_FE_55(m, c, x, ...) m(c, x) UNIT_FE_54(m, c, __VA_ARGS__)
#define UNIT_FE_56(m, c, x, ...) m(c, x) UNIT_FE_55(m, c, __VA_ARGS__)
#define UNIT_FE_57(m, c, x, ...) m(c, x) UNIT_FE_56(m, c, __VA_ARGS__)
#define UNIT_FE_58(m, c, x, ...) m(c, x) UNIT_FE_57(m, c, __VA_ARGS__)
#define UNIT_FE_59(m, c, x, ...) m(c, x) UNIT_FE_58(m, c, __VA_ARGS__)
#define UNIT_FE_60(m, c, x, ...) m(c, x) UNIT_FE_59(m, c, __VA_ARGS__)
#define UNIT_FE_61(m, c, x, ...) m(c, x) UNIT_FE_60(m, c, __VA_ARGS__)
#define UNIT_FE_62(m, c, x, ...) m(c, x) UNIT_FE_61(m, c, __VA_ARGS__)
#define UNIT_FE_63(m, c, x, ...) m(c, x) UNIT_FE_62(m, c, __VA_ARGS__)
#define UNIT_FE_64(m, c, x, ...) m(c, x) UNIT_FE_63(m, c, __VA_ARGS__)

#define UNIT_TEST_(c, f)          cmocka_unit_test(f),
#define UNIT_TEST_EACH_(st, f)    UNIT_TEST_EACH2_(f, UNIT_UNPAREN_ st)
#define UNIT_TEST_EACH2_(f, ...)  UNIT_TEST_EACH3_(f, __VA_ARGS__)
#define UNIT_TEST_EACH3_(f, s, t) cmocka_unit_test_setup_teardown(f, s, t),
#define UNIT_UNPAREN_(...)        __VA_ARGS__

#define UNIT_RUN_(entries, n, setup, teardown)                                                     \
    int main(void) {                                                                               \
        _Static_assert(n <= 64, "UNIT_MAIN takes at most 64 tests");                               \
        const struct CMUnitTest tests[] = {entries};                                               \
        return cmocka_run_group_tests(tests, setup, teardown);                                     \
    }

#define UNIT_MAIN_WITH(setup, teardown, ...)                                                       \
    UNIT_RUN_(UNIT_FOR_EACH(UNIT_TEST_, _, __VA_ARGS__), UNIT_NARGS_(__VA_ARGS__), setup, teardown)
#define UNIT_MAIN(...) UNIT_MAIN_WITH(NULL, NULL, __VA_ARGS__)
#define UNIT_MAIN_EACH(setup, teardown, ...)                                                       \
    UNIT_RUN_(UNIT_FOR_EACH(UNIT_TEST_EACH_, (setup, teardown), __VA_ARGS__),                      \
              UNIT_NARGS_(__VA_ARGS__), NULL, NULL)

#endif
