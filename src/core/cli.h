/* cli.h — the one command-line parser of brink: every command describes its options in a table
 * (long name, short name, kind and range, help line, environment variable, default) and
 * cli_parse reads argv against it, writes --help from it, and refuses what it does not know.
 *
 * Rules, the same for every command:
 *   - long options are matched exactly: a prefix (--vendor for --vendors) is an error, not a
 *     guess; an unknown option names the closest known one ("did you mean '--duration'?");
 *   - "--name value", "--name=value", "-x value", "-xvalue" and clustered flags ("-qh");
 *     options and positional arguments may be mixed; "--" ends the options; "-" is positional;
 *     a value is always the next argument, even when it starts with '-' ("-R -5");
 *   - a flag takes no value ("--quiet=1" is an error); an option with a value needs one;
 *   - a value is parsed and range-checked where it is read (durations, rates, integers,
 *     choices), so an error names the option and the value;
 *   - an option that is absent takes its environment variable when the row names one (an empty
 *     variable counts as unset), else its default (def) when the row has one;
 *   - -h/--help prints the generated help (at most 80 columns) to stdout.
 * Errors are one line without a trailing period that ends with "(see brink NAME --help)"; the
 * caller returns EXIT_USAGE with it. */
#ifndef BRINK_CLI_H
#define BRINK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_kind {
    CLI_FLAG,     /* no value: *(bool *)dest = true; from env: 1/true/yes/on or 0/false/no/off */
    CLI_INT,      /* *(int *)dest, an integer in [min, max] */
    CLI_INT64,    /* *(int64_t *)dest, an integer in [min, max] */
    CLI_DOUBLE,   /* *(double *)dest, a decimal number in [min, max] */
    CLI_DURATION, /* *(int64_t *)dest nanoseconds ("250ms", "10s", "2m"; bare = seconds), in
                   * [min, max] nanoseconds */
    CLI_RATE,     /* *(double *)dest, a positive rate per second (parse_rate), in [min, max] */
    CLI_STR,      /* *(const char **)dest = the argument itself (not copied) */
    CLI_CHOICE,   /* *(int *)dest = index of the value in choices (NULL-terminated) */
    CLI_FN,       /* fn(value, dest, err, errlen) does the work: repeated options (-H), values
                   * with their own grammar (--segment); it may be called more than once. Its
                   * error is used as it is: it names the option itself ("--segment '4': ...") */
    CLI_USAGE,    /* no value: print the help to stdout, cli_parse returns CLI_EXIT_HELP */
} cli_kind;

typedef int (*cli_fn)(const char *value, void *dest, char *err, size_t errlen);

typedef struct cli_opt {
    const char *name; /* long name without "--"; NULL for a short-only option */
    char short_name;  /* 0: none */
    cli_kind kind;
    void *dest;       /* where the value goes (see cli_kind); NULL: parsed and dropped */
    const char *meta; /* the value's placeholder in --help ("N", "DUR", "PATH"); NULL for a
                       * flag, or "VALUE" when NULL for an option with a value */
    const char *help; /* one or two sentences; cli_help wraps them */
    double min, max;  /* numeric kinds: the inclusive range; max 0 means no upper bound (so
                       * both 0: any non-negative value) */
    const char *const *choices; /* CLI_CHOICE: the accepted values, NULL-terminated */
    cli_fn fn;                  /* CLI_FN */
    const char *env;            /* environment variable read when the option is absent */
    const char *def; /* default: parsed into dest like a value when neither the option nor its
                      * env was given, and shown in --help ("64", "10s"); NULL: dest keeps what
                      * the caller put there (say so in help when it matters) */
    bool *given;     /* set to true when the option (or its env) was given */
    bool hidden;     /* parsed but not listed in --help */
} cli_opt;

typedef struct cli_cmd {
    const char *name;    /* as typed after "brink": "load", "stack up" */
    const char *args;    /* the usage line after the name: "[options] URL"; several forms
                          * separated by '\n' give several usage lines */
    const char *summary; /* what the command does: each '\n'-separated line is wrapped at 80
                          * columns keeping its indentation; an empty line separates paragraphs */
    const char *epilog;  /* after the options, wrapped the same way: notes, exit status; or NULL */
    const char *missing; /* the error when fewer than min_args positionals were given ("missing
                          * URL"); NULL: "missing arguments (usage: brink NAME ARGS)" */
    int min_args;        /* positional arguments: at least */
    int max_args;        /* at most; -1 = any number (up to the caller's maxpos) */
} cli_cmd;

/* The shared rows: the same option means the same thing in every command. The _AS forms keep
 * the name, letter and placeholder and let a command say precisely what it does with them. */
#define CLI_HELP                                                                                   \
    { .name = "help", .short_name = 'h', .kind = CLI_USAGE, .help = "print this help and exit" }
#define CLI_QUIET_AS(dest_, help_)                                                                 \
    { .name = "quiet", .short_name = 'q', .kind = CLI_FLAG, .dest = (dest_), .help = (help_) }
#define CLI_QUIET(dest_) CLI_QUIET_AS(dest_, "no progress output on the terminal")
#define CLI_JSON_AS(dest_, help_)                                                                  \
    { .name = "json", .kind = CLI_STR, .dest = (dest_), .meta = "OUT", .help = (help_) }
#define CLI_JSON(dest_)                                                                            \
    CLI_JSON_AS(dest_, "write the result document (brink.result/1) to OUT; - for stdout")
#define CLI_CONFIG_AS(dest_, help_)                                                                \
    {                                                                                              \
        .name = "config", .short_name = 'f', .kind = CLI_STR, .dest = (dest_), .meta = "FILE",     \
        .env = "BRINK_CONFIG", .help = (help_)                                                     \
    }
#define CLI_CONFIG(dest_)                                                                          \
    CLI_CONFIG_AS(dest_, "brink.yaml: point the test at your own stack (see docs/config.md)")

/* The load a test sends: -R its rate and --timeout of each request (default 5 s, at least 1 ms),
 * as in brink load; -c connections (1..100000) and -t threads (1..256) of the tests (webhook,
 * capacity, redis-failure, db-restart; load has wrk's wider ranges). The command's help says what
 * a value of its own means (a default it computes). */
#define CLI_RATE_AS(dest_, help_)                                                                  \
    {                                                                                              \
        .name = "rate", .short_name = 'R', .kind = CLI_RATE, .dest = (dest_), .meta = "RPS",       \
        .help = (help_)                                                                            \
    }
#define CLI_CONNECTIONS_AS(dest_, help_)                                                           \
    {                                                                                              \
        .name = "connections", .short_name = 'c', .kind = CLI_INT, .dest = (dest_), .min = 1,      \
        .max = 100000, .meta = "N", .help = (help_)                                                \
    }
#define CLI_THREADS_AS(dest_, help_)                                                               \
    {                                                                                              \
        .name = "threads", .short_name = 't', .kind = CLI_INT, .dest = (dest_), .min = 1,          \
        .max = 256, .meta = "N", .help = (help_)                                                   \
    }
#define CLI_TIMEOUT_AS(dest_, help_)                                                               \
    {                                                                                              \
        .name = "timeout", .kind = CLI_DURATION, .dest = (dest_), .min = 1e6 /* 1 ms */,           \
        .def = "5s", .meta = "D", .help = (help_)                                                  \
    }
#define CLI_TIMEOUT(dest_) CLI_TIMEOUT_AS(dest_, "per-request timeout")
/* --warmup: load before what is measured, not judged (0: none); def_ is the command's default,
 * given_ (or NULL) set when the option was given. */
#define CLI_WARMUP_AS(dest_, given_, def_, help_)                                                  \
    {                                                                                              \
        .name = "warmup", .kind = CLI_DURATION, .dest = (dest_), .def = (def_), .given = (given_), \
        .meta = "D", .help = (help_)                                                               \
    }

/* The signing secret of the requests: from a file or an environment variable, never a value on
 * the command line (the command says which of the two wins, and refuses both). */
#define CLI_SECRET_FILE_AS(dest_, help_)                                                           \
    { .name = "secret-file", .kind = CLI_STR, .dest = (dest_), .meta = "F", .help = (help_) }
#define CLI_SECRET_FILE(dest_)                                                                     \
    CLI_SECRET_FILE_AS(dest_, "the signing secret, from file F (never on the command line)")
#define CLI_SECRET_ENV_AS(dest_, help_)                                                            \
    { .name = "secret-env", .kind = CLI_STR, .dest = (dest_), .meta = "VAR", .help = (help_) }
#define CLI_SECRET_ENV(dest_)                                                                      \
    CLI_SECRET_ENV_AS(dest_, "the signing secret, from environment variable VAR")

/* The embedded stack that a test starts and removes itself (docs/stack.md). --stack-profile
 * writes an int (or an enum) in stack_profile's order: 0 tuned, 1 untuned. given_ (or NULL) is
 * set when the option was given: a command refuses it for a user's stack (--target, -f). */
#define CLI_STACK_PROFILE_AS(dest_, given_, help_)                                                 \
    {                                                                                              \
        .name = "stack-profile", .kind = CLI_CHOICE, .dest = (dest_),                              \
        .choices = (const char *const[]){"tuned", "untuned", NULL}, .def = "tuned",                \
        .given = (given_), .meta = "P", .help = (help_)                                            \
    }
#define CLI_STACK_PROFILE(dest_, given_)                                                           \
    CLI_STACK_PROFILE_AS(dest_, given_,                                                            \
                         "which dispatchd the embedded stack runs: untuned is dispatchd "          \
                         "--untuned (docs/dispatchd.md#tuned-and-untuned)")
#define CLI_KEEP_AS(dest_, given_, help_)                                                          \
    { .name = "keep", .kind = CLI_FLAG, .dest = (dest_), .given = (given_), .help = (help_) }
#define CLI_KEEP(dest_, given_)                                                                    \
    CLI_KEEP_AS(dest_, given_, "keep the embedded stack's directory (data, logs) after the run")

/* Outcome of cli_parse. */
enum { CLI_OK = 0, CLI_EXIT_HELP = 1, CLI_ERROR = -1 };

/* Parses argv[1..argc-1] (argv[0] is the command's name) against opts. Positional arguments
 * are stored in order in pos (room for maxpos; *npos set) and their count checked against
 * cmd's min_args/max_args. Returns CLI_OK; CLI_EXIT_HELP after printing the help to stdout
 * (the caller returns 0); CLI_ERROR with a one-line reason in err that names the option and
 * ends with "(see brink NAME --help)". */
int cli_parse(const cli_cmd *cmd, const cli_opt *opts, size_t nopts, int argc, char **argv,
              const char **pos, int maxpos, int *npos, char *err, size_t errlen);

/* Writes the help generated from the table: usage lines, summary, options (each with its
 * default and environment variable), epilog; no line longer than 80 columns. */
void cli_help(FILE *out, const cli_cmd *cmd, const cli_opt *opts, size_t nopts);

/* The candidate closest to word: the shortest one that word is a prefix of, else the nearest
 * by edit distance (optimal string alignment) when it is close enough to be a likely typo (1
 * edit for words of up to 4 characters, 2 up to 8, 3 beyond); NULL otherwise. For unknown
 * options, commands and subcommands. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);

/* "unknown WHAT 'word'; did you mean 'x'?" or "unknown WHAT 'word'" into err. */
void cli_unknown(const char *what, const char *word, const char *const *candidates, size_t n,
                 char *err, size_t errlen);

#define CLI_NOPTS(table) (sizeof(table) / sizeof((table)[0]))

#endif
