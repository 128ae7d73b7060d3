/* test_cli.c — unit tests for src/core/cli.c, the option parser of every command: suggestions
 * (typos, transpositions, prefixes, nothing for what is far), refused prefixes of long options,
 * every kind of value in every spelling (--name value, --name=value, -x value, -xvalue,
 * clusters), range errors that name the option, environment fallback and bad environment
 * values, defaults, "--" and "-", missing values, flags given a value, positional counts, -h,
 * and the generated help: every line at most 80 columns, defaults and variables shown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"

#include "unit.h"

/* ---- a command with one option of every kind ------------------------------------------------ */

typedef struct vals {
    bool quiet, verbose, flag_env;
    int conns, mode;
    int64_t requests, dur;
    double ratio, rate;
    const char *out, *name;
    char headers[256];
    int nheaders;
    bool conns_given, dur_given;
} vals;

static int add_header(const char *value, void *dest, char *err, size_t errlen) {
    vals *v = dest;
    if (!strchr(value, ':')) {
        snprintf(err, errlen, "invalid header '%s' for -H (want \"Name: value\")", value);
        return -1;
    }
    size_t n = strlen(v->headers);
    snprintf(v->headers + n, sizeof v->headers - n, "%s%s", n ? "|" : "", value);
    v->nheaders++;
    return 0;
}

static const char *const modes[] = {"fast", "slow", "careful", NULL};
static vals V;
static const cli_opt opts[] = {
    {.name = "connections",
     .short_name = 'c',
     .kind = CLI_INT,
     .dest = &V.conns,
     .meta = "N",
     .help = "connections",
     .min = 1,
     .max = 1000,
     .def = "64",
     .given = &V.conns_given},
    {.name = "requests", .short_name = 'n', .kind = CLI_INT64, .dest = &V.requests, .min = 1},
    {.name = "duration",
     .short_name = 'd',
     .kind = CLI_DURATION,
     .dest = &V.dur,
     .min = 1,
     .def = "10s",
     .env = "BRINK_TEST_DURATION",
     .given = &V.dur_given},
    {.name = "ratio", .kind = CLI_DOUBLE, .dest = &V.ratio, .min = 0, .max = 1},
    {.name = "rate", .short_name = 'R', .kind = CLI_RATE, .dest = &V.rate},
    {.name = "mode", .kind = CLI_CHOICE, .dest = &V.mode, .choices = modes, .def = "slow"},
    {.name = "header", .short_name = 'H', .kind = CLI_FN, .dest = &V, .fn = add_header},
    {.name = "name", .kind = CLI_STR, .dest = &V.name, .env = "BRINK_TEST_NAME"},
    {.name = "flag-env", .kind = CLI_FLAG, .dest = &V.flag_env, .env = "BRINK_TEST_FLAG"},
    {.name = "verbose", .short_name = 'v', .kind = CLI_FLAG, .dest = &V.verbose},
    {.name = "vendors", .kind = CLI_INT, .dest = &V.conns, .min = 2, .max = 100},
    CLI_JSON(&V.out),
    CLI_QUIET(&V.quiet),
    CLI_HELP,
};
static const cli_cmd cmd = {.name = "t",
                            .args = "[options] URL [MORE]",
                            .min_args = 1,
                            .max_args = 2,
                            .missing = "missing URL"};

static const char *pos[4];
static int npos;
static char err[512];

/* parse(argv...): cli_parse on a NULL-terminated list (argv[0] = "t" added), with stdout sent to
 * /dev/null so that a help does not clutter the TAP output. */
#define parse(...) parse_v((const char *[]){"t", __VA_ARGS__, NULL})
static int parse_v(const char **list) {
    int argc = 0;
    while (list[argc]) argc++;
    memset(&V, 0, sizeof V);
    err[0] = '\0';
    fflush(stdout);
    int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    int rc =
        cli_parse(&cmd, opts, CLI_NOPTS(opts), argc, (char **)list, pos, 4, &npos, err, sizeof err);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(null);
    if (rc == CLI_ERROR) { /* every error: one line, ending with the pointer to --help */
        assert_null(strchr(err, '\n'));
        const char *tail = "(see brink t --help)";
        size_t n = strlen(err), t = strlen(tail);
        if (n < t || strcmp(err + n - t, tail)) fail_msg("error without the help pointer: %s", err);
    }
    return rc;
}

static void has(const char *needle) {
    if (!strstr(err, needle)) fail_msg("'%s' not in: %s", needle, err);
}

/* ---- suggestions ------------------------------------------------------------------------------
 */

static void test_suggest(void **state) {
    const char *const cmds[] = {"load",   "webhook", "capacity",      "race",       "suite",
                                "stack",  "proxy",   "redis-failure", "db-restart", "probe",
                                "report", "compare", "merge"};
    size_t n = sizeof cmds / sizeof cmds[0];
    assert_string_equal(cli_suggest("rase", cmds, n), "race");       /* a substitution */
    assert_string_equal(cli_suggest("laod", cmds, n), "load");       /* a transposition */
    assert_string_equal(cli_suggest("webhok", cmds, n), "webhook");  /* a deletion */
    assert_string_equal(cli_suggest("compaer", cmds, n), "compare"); /* transposition */
    assert_string_equal(cli_suggest("redis-faliure", cmds, n), "redis-failure");
    assert_string_equal(cli_suggest("cap", cmds, n), "capacity"); /* a prefix */
    assert_null(cli_suggest("re", cmds, n));         /* a prefix of several: no guess */
    assert_null(cli_suggest("frobnicate", cmds, n)); /* nothing close */
    assert_null(cli_suggest("xyz", cmds, n));
    assert_null(cli_suggest("", cmds, n));
    assert_null(cli_suggest("a", cmds, n)); /* one letter is not a likely typo of anything */
    const char *const o[] = {"duration", "dry-run", "vendors"};
    assert_string_equal(cli_suggest("duraton", o, 3), "duration");
    assert_string_equal(cli_suggest("druation", o, 3), "duration");
    assert_string_equal(cli_suggest("vendor", o, 3), "vendors");
    assert_string_equal(cli_suggest("dry-rn", o, 3), "dry-run");
    assert_null(cli_suggest("timeout", o, 3));
    /* the threshold grows with the word: 2 edits are fine for 8 letters, not for 4 */
    assert_string_equal(cli_suggest("durashon", o, 3), "duration");
    const char *const short4[] = {"race"};
    assert_null(cli_suggest("rxcx", short4, 1));
}

static void test_unknown_message(void **state) {
    const char *const cmds[] = {"load", "race"};
    char e[128];
    cli_unknown("command", "rase", cmds, 2, e, sizeof e);
    assert_string_equal(e, "unknown command 'rase'; did you mean 'race'?");
    cli_unknown("command", "frobnicate", cmds, 2, e, sizeof e);
    assert_string_equal(e, "unknown command 'frobnicate'");
}

/* ---- options ----------------------------------------------------------------------------------
 */

static void test_refused_prefix(void **state) {
    assert_int_equal(parse("--vendor", "3", "u"), CLI_ERROR);
    has("unknown option '--vendor'; did you mean '--vendors'?");
    assert_int_equal(V.conns, 0); /* nothing was taken as --vendors */
    assert_int_equal(parse("--conn=5", "u"), CLI_ERROR);
    has("unknown option '--conn'; did you mean '--connections'?"); /* the name, not the value */
    assert_int_equal(parse("u", "--durations", "1s"), CLI_ERROR);  /* longer than a name */
    has("did you mean '--duration'?");
    assert_int_equal(parse("--duraton", "1s", "u"), CLI_ERROR);
    has("unknown option '--duraton'; did you mean '--duration'?");
    assert_int_equal(parse("--frobnicate", "u"), CLI_ERROR);
    assert_string_equal(err, "unknown option '--frobnicate' (see brink t --help)");
    assert_int_equal(parse("-Z", "u"), CLI_ERROR);
    assert_string_equal(err, "unknown option '-Z' (see brink t --help)");
    assert_int_equal(parse("-vZ", "u"), CLI_ERROR); /* inside a cluster */
    has("unknown option '-Z'");
}

static void test_every_kind(void **state) {
    assert_int_equal(parse("-c", "12", "--requests=7", "-d250ms", "--ratio", "0.5", "-R", "2.5",
                           "--mode", "careful", "-H", "A: 1", "--header=B: 2", "-HC: 3", "--name",
                           "n1", "--json", "-", "-v", "u"),
                     CLI_OK);
    assert_int_equal(V.conns, 12);
    assert_int_equal(V.requests, 7);
    assert_int_equal(V.dur, 250000000LL);
    assert_true(V.ratio == 0.5);
    assert_true(V.rate == 2.5);
    assert_int_equal(V.mode, 2);
    assert_string_equal(V.headers, "A: 1|B: 2|C: 3"); /* repeated, in order */
    assert_int_equal(V.nheaders, 3);
    assert_string_equal(V.name, "n1");
    assert_string_equal(V.out, "-"); /* "-" as a value */
    assert_true(V.verbose);
    assert_false(V.quiet);
    assert_true(V.conns_given);
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "u");
    /* the last of a repeated scalar option wins */
    assert_int_equal(parse("-c", "1", "-c", "2", "u"), CLI_OK);
    assert_int_equal(V.conns, 2);
}

static void test_defaults(void **state) {
    unsetenv("BRINK_TEST_DURATION");
    assert_int_equal(parse("u"), CLI_OK);
    assert_int_equal(V.conns, 64);          /* def "64" */
    assert_int_equal(V.dur, 10000000000LL); /* def "10s" */
    assert_int_equal(V.mode, 1);            /* def "slow" */
    assert_false(V.conns_given);            /* a default is not "given" */
    assert_false(V.dur_given);
    assert_null(V.name);
}

static void test_clusters(void **state) {
    assert_int_equal(parse("-qv", "u"), CLI_OK);
    assert_true(V.quiet && V.verbose);
    assert_int_equal(parse("-qvc", "9", "u"), CLI_OK); /* a value option ends the cluster */
    assert_true(V.quiet && V.verbose);
    assert_int_equal(V.conns, 9);
    assert_int_equal(parse("-vc33", "u"), CLI_OK); /* ... and takes the rest as its value */
    assert_int_equal(V.conns, 33);
}

/* Each value error names the option (by its long name, however it was typed) and the value. */
static void test_value_errors(void **state) {
    static const struct {
        const char *opt, *value, *want;
    } cases[] = {
        {"-c", "many",
         "option '--connections': invalid number 'many' (want an integer from 1 to 1000)"},
        {"-c", "0", "option '--connections': invalid number '0'"},
        {"-n", "-3", "option '--requests': invalid number '-3'"}, /* a value may start with '-' */
        {"-d", "10x", "option '--duration': invalid duration '10x'"},
        {"-d", "0", "option '--duration': invalid duration '0' (want more than 0)"},
        {"--ratio", "1.5", "option '--ratio': invalid number '1.5' (want from 0 to 1)"},
        {"--ratio", "half", "option '--ratio': invalid number 'half'"},
        {"-R", "fast", "option '--rate': invalid rate 'fast'"},
        {"-R", "-5", "option '--rate': invalid rate '-5'"},
        {"--mode", "quick", "option '--mode': invalid value 'quick' (want fast, slow or careful)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(parse(cases[i].opt, cases[i].value, "u"), CLI_ERROR);
        has(cases[i].want);
    }
    assert_int_equal(parse("-H", "nocolon", "u"), CLI_ERROR); /* a function's message, as is */
    assert_string_equal(err, "invalid header 'nocolon' for -H (want \"Name: value\") "
                             "(see brink t --help)");
}

static void test_missing_value(void **state) {
    assert_int_equal(parse("u", "--duration"), CLI_ERROR);
    assert_string_equal(err, "option '--duration' needs a value (see brink t --help)");
    assert_int_equal(parse("u", "-c"), CLI_ERROR);
    has("option '--connections' needs a value");
    assert_int_equal(parse("u", "-vc"), CLI_ERROR);
    has("option '--connections' needs a value");
    assert_int_equal(parse("u", "--name="), CLI_OK); /* an empty value is a value */
    assert_string_equal(V.name, "");
}

static void test_flag_with_value(void **state) {
    assert_int_equal(parse("--quiet=1", "u"), CLI_ERROR);
    assert_string_equal(err, "option '--quiet' takes no value (see brink t --help)");
    assert_int_equal(parse("--help=yes", "u"), CLI_ERROR);
    has("option '--help' takes no value");
}

static void test_double_dash_and_dash(void **state) {
    assert_int_equal(parse("-v", "--", "-q"), CLI_OK);
    assert_true(V.verbose);
    assert_false(V.quiet); /* after "--", "-q" is a positional */
    assert_int_equal(npos, 1);
    assert_string_equal(pos[0], "-q");
    assert_int_equal(parse("-", "-q"), CLI_OK); /* "-" is positional; options continue */
    assert_true(V.quiet);
    assert_string_equal(pos[0], "-");
    assert_int_equal(parse("--", "--", "x"), CLI_OK); /* the second "--" is a positional */
    assert_int_equal(npos, 2);
    assert_string_equal(pos[0], "--");
    assert_string_equal(pos[1], "x");
}

static void test_mixed_and_counts(void **state) {
    assert_int_equal(parse("a", "-q", "b", "-c", "3"), CLI_OK);
    assert_int_equal(npos, 2);
    assert_string_equal(pos[0], "a");
    assert_string_equal(pos[1], "b");
    assert_int_equal(V.conns, 3);
    assert_int_equal(parse("-q"), CLI_ERROR);
    assert_string_equal(err, "missing URL (see brink t --help)");
    assert_int_equal(parse("a", "b", "c"), CLI_ERROR);
    assert_string_equal(err, "unexpected argument 'c' (see brink t --help)");
    /* without a `missing` message, the usage line says what is wanted */
    const cli_cmd two = {.name = "t", .args = "BEFORE AFTER", .min_args = 2, .max_args = 2};
    const char *argv[] = {"t", "x", NULL};
    assert_int_equal(
        cli_parse(&two, opts, CLI_NOPTS(opts), 2, (char **)argv, pos, 4, &npos, err, sizeof err),
        CLI_ERROR);
    assert_string_equal(err,
                        "missing arguments (usage: brink t BEFORE AFTER) (see brink t --help)");
    /* any number, up to the caller's room */
    const cli_cmd many = {.name = "t", .args = "FILE...", .min_args = 1, .max_args = -1};
    const char *argv5[] = {"t", "1", "2", "3", "4", "5", NULL};
    assert_int_equal(
        cli_parse(&many, opts, CLI_NOPTS(opts), 5, (char **)argv5, pos, 4, &npos, err, sizeof err),
        CLI_OK);
    assert_int_equal(npos, 4);
    assert_int_equal(
        cli_parse(&many, opts, CLI_NOPTS(opts), 6, (char **)argv5, pos, 4, &npos, err, sizeof err),
        CLI_ERROR);
    assert_string_equal(err, "too many arguments (at most 4) (see brink t --help)");
}

static void test_help_exit(void **state) {
    assert_int_equal(parse("-h"), CLI_EXIT_HELP); /* without the required URL */
    assert_int_equal(parse("--help"), CLI_EXIT_HELP);
    assert_int_equal(parse("-qh"), CLI_EXIT_HELP);                         /* in a cluster */
    assert_int_equal(parse("u", "--help", "--frobnicate"), CLI_EXIT_HELP); /* first come */
    assert_int_equal(parse("--frobnicate", "--help"), CLI_ERROR);
    assert_int_equal(parse("--", "--help", "u"), CLI_OK); /* a positional after "--" */
    assert_string_equal(pos[0], "--help");
}

/* ---- environment ------------------------------------------------------------------------------
 */

static void test_env(void **state) {
    setenv("BRINK_TEST_DURATION", "2m", 1);
    setenv("BRINK_TEST_NAME", "from-env", 1);
    setenv("BRINK_TEST_FLAG", "yes", 1);
    assert_int_equal(parse("u"), CLI_OK);
    assert_int_equal(V.dur, 120000000000LL);
    assert_true(V.dur_given); /* an environment variable counts as given */
    assert_string_equal(V.name, "from-env");
    assert_true(V.flag_env);
    assert_int_equal(parse("-d", "3s", "--name", "arg", "u"), CLI_OK); /* the option wins */
    assert_int_equal(V.dur, 3000000000LL);
    assert_string_equal(V.name, "arg");
    setenv("BRINK_TEST_DURATION", "", 1); /* empty: unset, so the default */
    setenv("BRINK_TEST_FLAG", "0", 1);
    assert_int_equal(parse("u"), CLI_OK);
    assert_int_equal(V.dur, 10000000000LL);
    assert_false(V.dur_given);
    assert_false(V.flag_env);
    unsetenv("BRINK_TEST_NAME");
    unsetenv("BRINK_TEST_FLAG");
    unsetenv("BRINK_TEST_DURATION");
}

static void test_bad_env(void **state) {
    setenv("BRINK_TEST_DURATION", "soon", 1);
    assert_int_equal(parse("u"), CLI_ERROR);
    has("environment variable BRINK_TEST_DURATION (for --duration): invalid duration 'soon'");
    assert_int_equal(parse("-d", "1s", "u"), CLI_OK); /* not read when the option is given */
    unsetenv("BRINK_TEST_DURATION");
    setenv("BRINK_TEST_FLAG", "maybe", 1);
    assert_int_equal(parse("u"), CLI_ERROR);
    has("environment variable BRINK_TEST_FLAG (for --flag-env): invalid flag value 'maybe'");
    unsetenv("BRINK_TEST_FLAG");
}

/* ---- --help -----------------------------------------------------------------------------------
 */

static char *help_of(const cli_cmd *c, const cli_opt *o, size_t n) {
    unit_mem m;
    cli_help(unit_mem_open(&m), c, o, n);
    return unit_mem_close(&m);
}

/* Every line at most 80 columns (a UTF-8 code point is one column); returns the line count. */
static int check_width(const char *text) {
    int lines = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, "\n"), cols = 0;
        for (size_t i = 0; i < len; i++) cols += ((unsigned char)p[i] & 0xC0) != 0x80;
        if (cols > 80) fail_msg("line of %zu columns: %.*s", cols, (int)len, p);
        lines++;
        p += len;
        if (*p) p++;
    }
    return lines;
}

static void has_all(const char *text, const char *const *list) {
    for (; *list; list++)
        if (!strstr(text, *list)) fail_msg("'%s' not in the help:\n%s", *list, text);
}

static void test_help_width(void **state) {
    static const char long_help[] =
        "a help line far longer than one terminal line, so that it must be wrapped: it goes on "
        "and on about what the option does, with a path like /a/very/long/path/that/has/no/"
        "spaces/in/it/at/all/and/keeps/going/well/past/the/right/margin/of/the/terminal/window "
        "and then — with a dash and an arrow → — some more words to finish the sentence";
    static const char *const kinds[] = {"alpha", "beta", NULL};
    static const cli_opt wide[] = {
        {.name = "short",
         .short_name = 's',
         .kind = CLI_INT,
         .meta = "N",
         .help = long_help,
         .def = "64",
         .env = "BRINK_SHORT"},
        {.name = "an-extremely-long-option-name-for-the-column",
         .kind = CLI_DURATION,
         .meta = "DURATION",
         .help = long_help,
         .def = "10s"},
        {.name = "kind", .kind = CLI_CHOICE, .choices = kinds, .help = "which"},
        {.name = "secret-thing", .kind = CLI_FLAG, .help = "never shown", .hidden = true},
        {.short_name = 'x', .kind = CLI_FLAG, .help = "short only"},
        CLI_HELP,
    };
    static const cli_cmd c = {
        .name = "wide",
        .args = "[options] URL\n--config FILE [options]",
        .summary =
            "A summary paragraph that is long enough to need wrapping at eighty columns, "
            "written as one line in the source, as the tables do.\n"
            "\n"
            "  an indented example line that is also too long to fit and keeps its indent "
            "when wrapped\n"
            "  {\"kind\":\"redis\",\"url\":\"redis://127.0.0.1:6379\",\"command\":\"XLEN s\"}\n"
            "  entry      a list entry whose description is too long for one line goes on "
            "under its text",
        .epilog = "Exit status: 0 ok; 2 bad usage; 3 unreachable; 130 interrupted, which is a "
                  "long enough line to wrap."};
    char *h = help_of(&c, wide, CLI_NOPTS(wide));
    int lines = check_width(h);
    assert_true(lines > 20);
    static const char *const want[] = {
        "Usage: brink wide [options] URL\n",
        "\n       brink wide --config FILE [options]\n",
        "  -s, --short N",
        "      --an-extremely-long-option-name-for-the-column DURATION\n",
        "(default 64; env",
        "BRINK_SHORT)",
        "(default 10s)",
        "(one of: alpha, beta)",
        "  -x ",
        "  -h, --help",
        "\n  an indented example",     /* indentation kept */
        "\n  when wrapped\n",          /* on the continuation too */
        "\n  entry      a list entry", /* a list entry: its continuation under its text */
        "\n             under its text",
        "→",
        "\nExit status: 0 ok;",
        NULL,
    };
    has_all(h, want);
    assert_null(strstr(h, "secret-thing")); /* hidden */
    free(h);
    /* the test command's own help: every option listed, with its default */
    h = help_of(&cmd, opts, CLI_NOPTS(opts));
    check_width(h);
    static const char *const own[] = {
        "  -c, --connections N", "(default 64)",  "(default 10s; env BRINK_TEST_DURATION)",
        "      --json OUT",      "  -q, --quiet", NULL,
    };
    has_all(h, own);
    free(h);
}

UNIT_MAIN(test_suggest, test_unknown_message, test_refused_prefix, test_every_kind, test_defaults,
          test_clusters, test_value_errors, test_missing_value, test_flag_with_value,
          test_double_dash_and_dash, test_mixed_and_counts, test_help_exit, test_env, test_bad_env,
          test_help_width)
