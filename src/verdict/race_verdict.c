/* race_verdict.c — classification of one raced order (see race_verdict.h), the status classes
 * that say what an answer means, and the small JSON paths that find the winner's name in an
 * answer or a read-back. Kept free of I/O so that every rule is unit-tested on its own
 * (tests/unit/test_race_verdict.c): a detector that cannot fire is a defect.
 *
 * The reference for "who won" is the single vendor told so. With none, the losers are held
 * against the stored winner (or, with no ground truth, against each other); with several, a
 * loser or a stored winner must at least be one of them, and the losers must agree on which —
 * the order is already a double win, and what else went wrong is reported on top, never
 * instead. */
#include "verdict/race_verdict.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

const char *race_class_name(race_class c) {
    switch (c) {
    case RACE_DOUBLE_WIN: return "double_win";
    case RACE_NO_WINNER: return "no_winner";
    case RACE_PHANTOM_WINNER: return "phantom_winner";
    case RACE_INCONSISTENT_LOSER: return "inconsistent_loser";
    case RACE_ERROR: return "error";
    default: return "unknown";
    }
}

/* ---- status classes ------------------------------------------------------------------------ */

int race_status_add(race_status_set *s, int lo, int hi) {
    if (lo < 100 || hi > 599 || lo > hi || s->n == RACE_STATUS_RANGES) return -1;
    s->lo[s->n] = lo;
    s->hi[s->n] = hi;
    s->n++;
    return 0;
}

/* One item: "2xx", "409", "200-204". */
static int parse_item(const char *s, size_t len, int *lo, int *hi) {
    if (len == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
        (s[2] == 'x' || s[2] == 'X')) {
        *lo = (s[0] - '0') * 100;
        *hi = *lo + 99;
        return 0;
    }
    char buf[16];
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    long a = strtol(buf, &end, 10), b = a;
    if (end == buf || !isdigit((unsigned char)buf[0])) return -1;
    if (*end == '-') {
        char *e2;
        if (!isdigit((unsigned char)end[1])) return -1;
        b = strtol(end + 1, &e2, 10);
        end = e2;
    }
    if (*end || a < 100 || b > 599 || a > b) return -1;
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

int race_status_parse(const char *text, race_status_set *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *p = text;
    for (;;) {
        while (*p == ' ') p++;
        size_t len = strcspn(p, ",");
        size_t trim = len;
        while (trim && p[trim - 1] == ' ') trim--;
        int lo, hi;
        if (parse_item(p, trim, &lo, &hi) < 0) {
            err_set(err, errlen,
                    "invalid status class '%.*s' (want a code like 409, a range like 200-204 or a "
                    "class like 2xx)",
                    (int)trim, p);
            return -1;
        }
        if (race_status_add(out, lo, hi) < 0) {
            err_set(err, errlen, "too many status classes (at most %d)", RACE_STATUS_RANGES);
            return -1;
        }
        if (!p[len]) break;
        p += len + 1;
    }
    return 0;
}

bool race_status_has(const race_status_set *s, int status) {
    for (int i = 0; i < s->n; i++)
        if (status >= s->lo[i] && status <= s->hi[i]) return true;
    return false;
}

race_outcome race_outcome_of(const race_status_set *won, const race_status_set *lost, int status) {
    if (status <= 0) return RACE_FAILED;
    if (race_status_has(won, status)) return RACE_WON;
    if (race_status_has(lost, status)) return RACE_LOST;
    return RACE_FAILED;
}

void race_status_format(const race_status_set *s, char *out, size_t outlen) {
    size_t off = 0;
    if (outlen) out[0] = '\0';
    for (int i = 0; i < s->n && off < outlen; i++) {
        const char *sep = i ? "," : "";
        int n;
        if (s->lo[i] % 100 == 0 && s->hi[i] == s->lo[i] + 99)
            n = snprintf(out + off, outlen - off, "%s%dxx", sep, s->lo[i] / 100);
        else if (s->lo[i] == s->hi[i])
            n = snprintf(out + off, outlen - off, "%s%d", sep, s->lo[i]);
        else
            n = snprintf(out + off, outlen - off, "%s%d-%d", sep, s->lo[i], s->hi[i]);
        if (n < 0) break;
        off += (size_t)n;
    }
}

/* ---- JSON paths ---------------------------------------------------------------------------- */

/* Walks path over root; *out the value (may be NULL when absent). 0, or -1 when malformed. */
static int walk(json_t *root, const char *path, json_t **out, char *err, size_t errlen) {
    const char *p = path;
    if (p[0] == '$') {
        p++;
        if (*p == '.') p++;
        if (!*p) {
            *out = root;
            return 0;
        }
    }
    if (!*p) {
        err_set(err, errlen, "empty JSON path");
        return -1;
    }
    json_t *cur = root;
    bool first = true;
    while (*p) {
        if (*p == '[') {
            char *end;
            long idx = strtol(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || idx < 0) {
                err_set(err, errlen, "JSON path '%s': want [N] with N a non-negative index", path);
                return -1;
            }
            cur = json_is_array(cur) ? json_array_get(cur, (size_t)idx) : NULL;
            p = end + 1;
        } else {
            if (!first) {
                if (*p != '.') {
                    err_set(err, errlen, "JSON path '%s': expected '.' or '[' at '%s'", path, p);
                    return -1;
                }
                p++;
            }
            size_t len = strcspn(p, ".[");
            if (len == 0) {
                err_set(err, errlen, "JSON path '%s': empty key", path);
                return -1;
            }
            char key[256];
            if (len >= sizeof key) {
                err_set(err, errlen, "JSON path '%s': key too long", path);
                return -1;
            }
            memcpy(key, p, len);
            key[len] = '\0';
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            p += len;
        }
        first = false;
    }
    *out = cur;
    return 0;
}

int race_path_check(const char *path, char *err, size_t errlen) {
    json_t *dummy = json_object(), *v;
    int rc = walk(dummy, path, &v, err, errlen);
    json_decref(dummy);
    return rc;
}

int race_path_get(const char *body, size_t len, const char *path, char *out, size_t outlen) {
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &je);
    if (!root) return -1;
    json_t *v = NULL;
    int rc = 0;
    if (walk(root, path, &v, NULL, 0) < 0 || !v || json_is_null(v)) {
        rc = 0;
    } else if (json_is_string(v)) {
        snprintf(out, outlen, "%s", json_string_value(v));
        rc = 1;
    } else if (json_is_integer(v)) {
        snprintf(out, outlen, "%lld", (long long)json_integer_value(v));
        rc = 1;
    } else if (json_is_real(v)) {
        snprintf(out, outlen, "%.17g", json_real_value(v));
        rc = 1;
    } else if (json_is_boolean(v)) {
        snprintf(out, outlen, "%s", json_is_true(v) ? "true" : "false");
        rc = 1;
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(out, outlen, "%s", s ? s : "");
        free(s);
        rc = 1;
    }
    json_decref(root);
    return rc;
}

/* ---- the verdict --------------------------------------------------------------------------- */

static bool same(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return !strcmp(a, b);
}

/* vendor is one of the answers told "won" */
static bool among_winners(const race_answer *a, int n, const char *vendor) {
    if (!vendor) return false;
    for (int i = 0; i < n; i++)
        if (a[i].outcome == RACE_WON && same(a[i].vendor, vendor)) return true;
    return false;
}

void race_judge(const race_answer *a, int n, const race_truth *t, int nt, race_verdict *v) {
    memset(v, 0, sizeof *v);
    for (int i = 0; i < n; i++) {
        if (a[i].outcome == RACE_WON) {
            v->won++;
            if (!v->announced) v->announced = a[i].vendor;
        } else if (a[i].outcome == RACE_LOST) {
            v->lost++;
        } else {
            v->failed++;
        }
    }
    if (v->won != 1) v->announced = NULL;
    if (v->won > 1) v->classes |= RACE_BIT(RACE_DOUBLE_WIN);
    if (v->won == 0) v->classes |= RACE_BIT(RACE_NO_WINNER);
    if (v->failed > 0) v->classes |= RACE_BIT(RACE_ERROR);

    /* the ground truth against what was announced, and the sources against each other */
    const race_truth *ref_truth = NULL;
    for (int i = 0; i < nt; i++) {
        if (!t[i].known) continue;
        bool bad;
        if (t[i].multiple)
            bad = true;
        else if (v->won == 1)
            bad = !same(t[i].winner, v->announced);
        else if (v->won == 0)
            bad = t[i].winner != NULL;
        else
            bad = !among_winners(a, n, t[i].winner);
        if (ref_truth && !same(ref_truth->winner, t[i].winner)) bad = true;
        if (!ref_truth) ref_truth = &t[i];
        if (bad) v->classes |= RACE_BIT(RACE_PHANTOM_WINNER);
    }

    /* what the losers were told */
    const char *ref = NULL;
    bool have_ref = false;
    if (v->won == 1) {
        ref = v->announced;
        have_ref = true;
    } else if (v->won == 0 && ref_truth) {
        ref = ref_truth->winner;
        have_ref = true;
    }
    for (int i = 0; i < n; i++) {
        if (a[i].outcome != RACE_LOST || !a[i].names) continue;
        bool bad;
        if (v->won > 1) { /* one of the winners, and the same one for every loser */
            bad = !among_winners(a, n, a[i].winner) || (have_ref && !same(a[i].winner, ref));
            if (!have_ref) {
                ref = a[i].winner;
                have_ref = true;
            }
        } else if (have_ref) {
            bad = !same(a[i].winner, ref);
        } else { /* no winner and no ground truth: the losers must at least agree */
            ref = a[i].winner;
            have_ref = true;
            bad = false;
        }
        if (bad) v->classes |= RACE_BIT(RACE_INCONSISTENT_LOSER);
    }
}
