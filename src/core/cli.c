/* cli.c — the option parser every brink command shares (see cli.h for the rules).
 *
 * Our own scanner rather than getopt_long: getopt_long accepts any unambiguous prefix of a long
 * option, and brink refuses them (--vendor must not silently mean --vendors). One pass over argv
 * reads options and positionals in order; each value is converted and range-checked as it is
 * read, with the parse.h parsers, so the error names the option. After the pass, absent options
 * take their environment variable, then their default. --help is written from the same table,
 * wrapped to 80 columns, so the help and the parser cannot drift apart. */
#include "core/cli.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/parse.h"

#define HELP_WIDTH 80 /* the longest line cli_help writes */
#define HELP_COL   30 /* where option help starts at most; longer names put it on the next line */
#define MSG_MAX    400

/* ---- suggestions ------------------------------------------------------------------------- */

static int lower(char c) {
    return tolower((unsigned char)c);
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions), on at most 63
 * bytes of each word, ignoring case: enough for names, bounded for anything a user may type. */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strnlen(a, 63), lb = strnlen(b, 63);
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *candidates, size_t n) {
    size_t len = strlen(word);
    if (len == 0) return NULL;
    const char *completion = NULL, *best = NULL;
    size_t ncompletions = 0, limit = len <= 4 ? 1 : len <= 8 ? 2 : 3, best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i]) continue;
        if (len >= 2 && !strncmp(candidates[i], word, len)) {
            completion = candidates[i];
            ncompletions++;
        }
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d && d < len) {
            best_d = d;
            best = candidates[i];
        }
    }
    /* a unique completion first (--vendor: --vendors); a prefix of several is no typo */
    return ncompletions == 1 ? completion : best;
}

void cli_unknown(const char *what, const char *word, const char *const *candidates, size_t n,
                 char *err, size_t errlen) {
    const char *s = cli_suggest(word, candidates, n);
    if (s)
        snprintf(err, errlen, "unknown %s '%s'; did you mean '%s'?", what, word, s);
    else
        snprintf(err, errlen, "unknown %s '%s'", what, word);
}

/* ---- values ------------------------------------------------------------------------------ */

/* A duration bound for messages: the largest unit that divides it ("1ms", "2m"). */
static void dur_text(int64_t ns, char *buf, size_t len) {
    static const struct {
        int64_t ns;
        const char *unit;
    } units[] = {{3600 * NS_PER_S, "h"}, {60 * NS_PER_S, "m"}, {NS_PER_S, "s"},
                 {NS_PER_MS, "ms"},      {NS_PER_US, "us"},    {1, "ns"}};
    if (ns == 0) {
        snprintf(buf, len, "0");
        return;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (ns % units[i].ns == 0 || units[i].ns == 1) {
            snprintf(buf, len, "%lld%s", (long long)(ns / units[i].ns), units[i].unit);
            return;
        }
    }
}

static int check_duration(const cli_opt *o, const char *v, int64_t ns, char *msg, size_t len) {
    int64_t lo = (int64_t)o->min, hi = o->max > 0 ? (int64_t)o->max : INT64_MAX;
    if (ns >= lo && ns <= hi) return 0;
    char a[32], b[32];
    dur_text(lo, a, sizeof a);
    dur_text(hi, b, sizeof b);
    if (hi == INT64_MAX)
        snprintf(msg, len, "invalid duration '%s' (want %s%s)", v,
                 lo <= 1 ? "more than 0" : "at least ", lo <= 1 ? "" : a);
    else
        snprintf(msg, len, "invalid duration '%s' (want from %s to %s)", v, a, b);
    return -1;
}

static int check_range(const cli_opt *o, const char *what, const char *v, double x, char *msg,
                       size_t len) {
    if (x >= o->min && (o->max == 0 || x <= o->max)) return 0;
    if (o->max == 0)
        snprintf(msg, len, "invalid %s '%s' (want at least %g)", what, v, o->min);
    else
        snprintf(msg, len, "invalid %s '%s' (want from %g to %g)", what, v, o->min, o->max);
    return -1;
}

static int parse_bool(const char *v, bool *out) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i])) return *out = true, 0;
        if (!strcasecmp(v, no[i])) return *out = false, 0;
    }
    return -1;
}

/* Converts v into o's destination. On error, msg holds the reason (for CLI_FN, the function's
 * own message, which names the option). */
static int set_value(const cli_opt *o, const char *v, char *msg, size_t len) {
    int64_t i64;
    double d;
    char *end;
    switch (o->kind) {
    case CLI_FLAG: {
        bool b;
        if (parse_bool(v, &b) < 0) {
            snprintf(msg, len, "invalid flag value '%s' (want 1 or 0, true or false)", v);
            return -1;
        }
        if (o->dest) *(bool *)o->dest = b;
        return 0;
    }
    case CLI_INT:
    case CLI_INT64: {
        int64_t cap = o->kind == CLI_INT ? INT_MAX : INT64_MAX;
        int64_t hi = o->max > 0 && o->max < (double)cap ? (int64_t)o->max : cap;
        if (parse_int(v, (int64_t)o->min, hi, &i64, msg, len) < 0) return -1;
        if (!o->dest) return 0;
        if (o->kind == CLI_INT)
            *(int *)o->dest = (int)i64;
        else
            *(int64_t *)o->dest = i64;
        return 0;
    }
    case CLI_DOUBLE:
        errno = 0;
        d = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(d)) {
            snprintf(msg, len, "invalid number '%s' (want a decimal number)", v);
            return -1;
        }
        if (check_range(o, "number", v, d, msg, len) < 0) return -1;
        if (o->dest) *(double *)o->dest = d;
        return 0;
    case CLI_DURATION:
        if (parse_duration_ns(v, &i64, msg, len) < 0 || check_duration(o, v, i64, msg, len) < 0)
            return -1;
        if (o->dest) *(int64_t *)o->dest = i64;
        return 0;
    case CLI_RATE:
        if (parse_rate(v, &d, msg, len) < 0 || check_range(o, "rate", v, d, msg, len) < 0)
            return -1;
        if (o->dest) *(double *)o->dest = d;
        return 0;
    case CLI_STR:
        if (o->dest) *(const char **)o->dest = v;
        return 0;
    case CLI_CHOICE:
        for (int k = 0; o->choices && o->choices[k]; k++) {
            if (!strcmp(o->choices[k], v)) {
                if (o->dest) *(int *)o->dest = k;
                return 0;
            }
        }
        size_t n = (size_t)snprintf(msg, len, "invalid value '%s' (want", v);
        for (int k = 0; o->choices && o->choices[k] && n < len; k++)
            n += (size_t)snprintf(msg + n, len - n, "%s%s",
                                  k == 0              ? " "
                                  : o->choices[k + 1] ? ", "
                                                      : " or ",
                                  o->choices[k]);
        if (n < len) snprintf(msg + n, len - n, ")");
        return -1;
    case CLI_FN: return o->fn(v, o->dest, msg, len) < 0 ? -1 : 0;
    case CLI_USAGE: return 0;
    }
    return -1;
}

/* ---- the scanner ------------------------------------------------------------------------- */

typedef struct scan {
    const cli_cmd *cmd;
    const cli_opt *opts;
    size_t nopts;
    bool *seen;
    char *err;
    size_t errlen;
} scan;

static int fail(scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(scan *s, const char *fmt, ...) {
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(s->err, s->errlen, "%s (see brink %s --help)", msg, s->cmd->name);
    return CLI_ERROR;
}

static bool takes_value(const cli_opt *o) {
    return o->kind != CLI_FLAG && o->kind != CLI_USAGE;
}

/* "--name" when the option has a long name, else "-x". */
static const char *display(const cli_opt *o, char *buf, size_t len) {
    if (o->name)
        snprintf(buf, len, "--%s", o->name);
    else
        snprintf(buf, len, "-%c", o->short_name);
    return buf;
}

/* The option o was given (with value v, NULL for a flag): set it, or fail naming it. */
static int give(scan *s, const cli_opt *o, const char *v) {
    s->seen[o - s->opts] = true;
    if (o->given) *o->given = true;
    if (!v) {
        if (o->kind == CLI_FLAG && o->dest) *(bool *)o->dest = true;
        return CLI_OK;
    }
    char msg[MSG_MAX], name[80];
    if (set_value(o, v, msg, sizeof msg) == 0) return CLI_OK;
    if (o->kind == CLI_FN) return fail(s, "%s", msg);
    return fail(s, "option '%s': %s", display(o, name, sizeof name), msg);
}

static int unknown_long(scan *s, const char *word, size_t len) {
    const char *cands[s->nopts + 1];
    size_t n = 0;
    for (size_t i = 0; i < s->nopts; i++)
        if (s->opts[i].name && !s->opts[i].hidden) cands[n++] = s->opts[i].name;
    char w[80];
    snprintf(w, sizeof w, "%.*s", (int)(len < 64 ? len : 64), word);
    const char *hint = cli_suggest(w, cands, n);
    if (hint) return fail(s, "unknown option '--%s'; did you mean '--%s'?", w, hint);
    return fail(s, "unknown option '--%s'", w);
}

/* One "--name", "--name=value" or "--name value" at argv[*i]. */
static int long_option(scan *s, int argc, char **argv, int *i) {
    const char *name = argv[*i] + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const cli_opt *o = NULL;
    for (size_t k = 0; k < s->nopts && !o; k++)
        if (s->opts[k].name && strlen(s->opts[k].name) == len &&
            !strncmp(s->opts[k].name, name, len))
            o = &s->opts[k];
    if (!o) return unknown_long(s, name, len);
    if (!takes_value(o)) {
        if (eq) return fail(s, "option '--%s' takes no value", o->name);
        if (o->kind == CLI_USAGE) return CLI_EXIT_HELP;
        return give(s, o, NULL);
    }
    if (eq) return give(s, o, eq + 1);
    if (*i + 1 >= argc) return fail(s, "option '--%s' needs a value", o->name);
    return give(s, o, argv[++*i]);
}

/* One cluster "-qh", "-c10" or "-c 10" at argv[*i]. */
static int short_options(scan *s, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    for (size_t j = 1; a[j]; j++) {
        const cli_opt *o = NULL;
        for (size_t k = 0; k < s->nopts && !o; k++)
            if (s->opts[k].short_name == a[j]) o = &s->opts[k];
        if (!o) return fail(s, "unknown option '-%c'", a[j]);
        if (o->kind == CLI_USAGE) return CLI_EXIT_HELP;
        if (!takes_value(o)) {
            int rc = give(s, o, NULL);
            if (rc != CLI_OK) return rc;
            continue;
        }
        if (a[j + 1]) return give(s, o, a + j + 1);
        if (*i + 1 >= argc) {
            char name[80];
            return fail(s, "option '%s' needs a value", display(o, name, sizeof name));
        }
        return give(s, o, argv[++*i]);
    }
    return CLI_OK;
}

/* After the scan: an absent option takes its environment variable, else its default. */
static int fallbacks(scan *s) {
    for (size_t k = 0; k < s->nopts; k++) {
        const cli_opt *o = &s->opts[k];
        if (s->seen[k]) continue;
        const char *v = o->env ? getenv(o->env) : NULL;
        char msg[MSG_MAX], name[80];
        if (v && *v) {
            if (o->given) *o->given = true;
            if (set_value(o, v, msg, sizeof msg) < 0)
                return fail(s, "environment variable %s (for %s): %s", o->env,
                            display(o, name, sizeof name), msg);
        } else if (o->def && takes_value(o) && set_value(o, o->def, msg, sizeof msg) < 0) {
            return fail(s, "default of %s: %s", display(o, name, sizeof name), msg);
        }
    }
    return CLI_OK;
}

int cli_parse(const cli_cmd *cmd, const cli_opt *opts, size_t nopts, int argc, char **argv,
              const char **pos, int maxpos, int *npos, char *err, size_t errlen) {
    bool seen[nopts + 1];
    memset(seen, 0, sizeof seen);
    scan s = {.cmd = cmd, .opts = opts, .nopts = nopts, .seen = seen, .err = err, .errlen = errlen};
    int np = 0, rc = CLI_OK;
    bool options = true;
    *npos = 0;
    for (int i = 1; i < argc && rc == CLI_OK; i++) {
        const char *a = argv[i];
        if (options && a[0] == '-' && a[1] == '-' && !a[2]) {
            options = false;
        } else if (options && a[0] == '-' && a[1] == '-') {
            rc = long_option(&s, argc, argv, &i);
        } else if (options && a[0] == '-' && a[1]) {
            rc = short_options(&s, argc, argv, &i);
        } else if (cmd->max_args >= 0 && np >= cmd->max_args) {
            rc = fail(&s, "unexpected argument '%s'", a);
        } else if (np >= maxpos) {
            rc = fail(&s, "too many arguments (at most %d)", maxpos);
        } else {
            pos[np++] = a;
        }
    }
    if (rc == CLI_EXIT_HELP) {
        cli_help(stdout, cmd, opts, nopts);
        fflush(stdout);
        return CLI_EXIT_HELP;
    }
    if (rc == CLI_OK) rc = fallbacks(&s);
    if (rc == CLI_OK && np < cmd->min_args) {
        if (cmd->missing)
            rc = fail(&s, "%s", cmd->missing);
        else
            rc = fail(&s, "missing arguments (usage: brink %s %s)", cmd->name,
                      cmd->args ? cmd->args : "");
    }
    *npos = np;
    return rc;
}

/* ---- --help ------------------------------------------------------------------------------ */

/* Columns of UTF-8 text: one per code point ("—" and "→" are one column). */
static size_t columns(const char *s, size_t len) {
    size_t c = 0;
    for (size_t i = 0; i < len; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Bytes of the first `cols` columns of s (not splitting a code point). */
static size_t bytes_for(const char *s, size_t len, size_t cols) {
    size_t i = 0, c = 0;
    while (i < len && (c < cols || ((unsigned char)s[i] & 0xC0) == 0x80)) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == cols) break;
            c++;
        }
        i++;
    }
    return i;
}

/* Writes the words of text[0..len) from column col (already written) on, continuing on new
 * lines indented by indent, no line longer than HELP_WIDTH; ends with a newline. Spaces between
 * words on one line are kept as written (aligned examples stay aligned); a word longer than a
 * whole line is cut. */
static void put_wrapped(FILE *out, const char *text, size_t len, size_t col, size_t indent) {
    size_t room = HELP_WIDTH > indent ? HELP_WIDTH - indent : 1;
    size_t i = 0, gap = 0;
    while (i < len && text[i] == ' ') i++;
    bool first = true;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != ' ') e++;
        size_t wlen = e - i, wcols = columns(text + i, wlen);
        if (wcols > room) { /* cut to what fits on a line of its own */
            wlen = bytes_for(text + i, wlen, room);
            wcols = room;
            e = i + wlen;
        }
        if (!first && col + gap + wcols <= HELP_WIDTH) {
            fprintf(out, "%*s", (int)gap, "");
            col += gap;
        } else if (!first || col + wcols > HELP_WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
        }
        fwrite(text + i, 1, wlen, out);
        col += wcols;
        first = false;
        for (gap = 0, i = e; i < len && text[i] == ' '; i++) gap++;
    }
    fputc('\n', out);
}

/* Where the continuation of an indented line of a block goes: under its text when the line is a
 * list entry ("  NAME    what it is": a word, then two spaces or more), else under its start. */
static size_t hang(const char *line, size_t len, size_t ind) {
    if (ind == 0) return ind;
    size_t w = ind + strcspn(line + ind, " \n"), gap = strspn(line + w, " ");
    if (gap < 2 || w + gap >= len) return ind;
    size_t col = columns(line, w + gap);
    return col <= HELP_WIDTH / 2 ? col : ind;
}

/* A block of text (summary, epilog): each line wrapped on its own, keeping its indentation (a
 * list entry's, see hang). */
static void put_block(FILE *out, const char *text) {
    while (*text) {
        size_t len = strcspn(text, "\n"), ind = strspn(text, " ");
        if (ind > len) ind = len;
        if (ind >= HELP_WIDTH / 2) ind = HELP_WIDTH / 2;
        if (len == ind) {
            fputc('\n', out);
        } else {
            fprintf(out, "%*s", (int)ind, "");
            put_wrapped(out, text + ind, len - ind, ind, hang(text, len, ind));
        }
        text += len;
        if (*text == '\n') text++;
    }
}

/* "  -c, --connections N" */
static size_t left_part(const cli_opt *o, char *buf, size_t len) {
    const char *meta = takes_value(o) ? (o->meta ? o->meta : "VALUE") : NULL;
    int n;
    if (o->name && o->short_name)
        n = snprintf(buf, len, "  -%c, --%s%s%s", o->short_name, o->name, meta ? " " : "",
                     meta ? meta : "");
    else if (o->name)
        n = snprintf(buf, len, "      --%s%s%s", o->name, meta ? " " : "", meta ? meta : "");
    else
        n = snprintf(buf, len, "  -%c%s%s", o->short_name, meta ? " " : "", meta ? meta : "");
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* The help text of o with its choices, default and environment variable. */
static void help_text(const cli_opt *o, char *buf, size_t len) {
    size_t n = (size_t)snprintf(buf, len, "%s", o->help ? o->help : "");
    if (o->kind == CLI_CHOICE && o->choices && n < len) {
        n += (size_t)snprintf(buf + n, len - n, " (one of:");
        for (int k = 0; o->choices[k] && n < len; k++)
            n += (size_t)snprintf(buf + n, len - n, "%s %s", k ? "," : "", o->choices[k]);
        if (n < len) n += (size_t)snprintf(buf + n, len - n, ")");
    }
    bool def = o->def && takes_value(o);
    if ((def || o->env) && n < len)
        snprintf(buf + n, len - n, " (%s%s%s%s%s)", def ? "default " : "", def ? o->def : "",
                 def && o->env ? "; " : "", o->env ? "env " : "", o->env ? o->env : "");
}

void cli_help(FILE *out, const cli_cmd *cmd, const cli_opt *opts, size_t nopts) {
    const char *args = cmd->args ? cmd->args : "[options]";
    for (bool first = true; *args || first; first = false) {
        size_t len = strcspn(args, "\n");
        char line[512];
        int n = snprintf(line, sizeof line, "brink %s%s%.*s", cmd->name, len ? " " : "", (int)len,
                         args);
        fputs(first ? "Usage: " : "       ", out);
        put_wrapped(out, line, n < 0 ? 0 : strlen(line), 7, 8);
        args += len;
        if (*args == '\n') args++;
    }
    if (cmd->summary) {
        fputc('\n', out);
        put_block(out, cmd->summary);
    }
    size_t col = 0;
    for (size_t k = 0; k < nopts; k++) {
        if (opts[k].hidden) continue;
        char left[160];
        size_t n = left_part(&opts[k], left, sizeof left), w = columns(left, n);
        if (w + 2 > col && w + 2 <= HELP_COL) col = w + 2;
    }
    fprintf(out, "\nOptions:\n");
    for (size_t k = 0; k < nopts; k++) {
        if (opts[k].hidden) continue;
        char left[160], text[1024];
        size_t n = left_part(&opts[k], left, sizeof left), w = columns(left, n);
        help_text(&opts[k], text, sizeof text);
        fputs(left, out);
        if (w + 2 > col) { /* too long for the column: the help on the next line */
            fprintf(out, "\n%*s", (int)col, "");
        } else {
            fprintf(out, "%*s", (int)(col - w), "");
        }
        put_wrapped(out, text, strlen(text), col, col);
    }
    if (cmd->epilog) {
        fputc('\n', out);
        put_block(out, cmd->epilog);
    }
}
