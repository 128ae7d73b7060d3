/* cli.h — the one command-line parser of brink: every command describes its options in a table
 * (long name, short name, kind and range, help line, environment variable, default) and
 * cli_parse reads argv against it, writes --help from it, and refuses what it does not know.
 *
 * Rules, the same for every command:
 *   - long options are matched exactly: a prefix (--vendor for --vendors) is an error, not a
 *     guess; an unknown option names the closest known one ("did you mean --duration?");
 *   - "--name value", "--name=value", "-x value", "-xvalue" and clustered flags ("-qh");
 *     options and positional arguments may be mixed; "--" ends the options; "-" is positional;
 *   - a value is parsed and range-checked where it is read (durations, rates, integers,
 *     choices), so an error names the option and the value;
 *   - an option that is absent takes its environment variable when the row names one;
 *   - -h/--help prints the generated help (at most 80 columns) to stdout.
 * Errors are one line without a trailing period; the caller returns EXIT_USAGE with it. */
#ifndef BRINK_CLI_H
#define BRINK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum cli_kind {
    CLI_FLAG,     /* no value: *(bool *)dest = true */
    CLI_INT,      /* *(int *)dest, an integer in [min, max] */
    CLI_INT64,    /* *(int64_t *)dest, an integer in [min, max] */
    CLI_DOUBLE,   /* *(double *)dest, a decimal number in [min, max] */
    CLI_DURATION, /* *(int64_t *)dest nanoseconds ("250ms", "10s", "2m"; bare = seconds), in
                   * [min, max] nanoseconds (max 0: no upper bound) */
    CLI_RATE,     /* *(double *)dest, a positive rate per second */
    CLI_STR,      /* *(const char **)dest = the argument itself (not copied) */
    CLI_CHOICE,   /* *(int *)dest = index of the value in choices (NULL-terminated) */
    CLI_FN,       /* fn(value, dest, err, errlen) does the work: repeated options (-H), values
                   * with their own grammar (--segment); it may be called more than once */
} cli_kind;

typedef int (*cli_fn)(const char *value, void *dest, char *err, size_t errlen);

typedef struct cli_opt {
    const char *name; /* long name without "--"; NULL for a short-only option */
    char short_name;  /* 0: none */
    cli_kind kind;
    void *dest;       /* where the value goes (see cli_kind); NULL: parsed and dropped */
    const char *meta; /* the value's placeholder in --help ("N", "DUR", "PATH"); NULL for a
                       * flag, or "VALUE" when NULL for an option with a value */
    const char *help; /* one sentence; cli_help wraps it */
    double min, max;  /* numeric kinds: the inclusive range (both 0: any non-negative) */
    const char *const *choices; /* CLI_CHOICE */
    cli_fn fn;                  /* CLI_FN */
    const char *env;            /* environment variable read when the option is absent */
    const char *def;            /* default shown in --help ("64", "10s"), or NULL */
    bool *given;                /* set to true when the option (or its env) was given */
    bool hidden;                /* parsed but not listed in --help */
} cli_opt;

typedef struct cli_cmd {
    const char *name;    /* as typed after "brink": "load", "stack up" */
    const char *args;    /* the positional part of the usage line: "[options] URL" */
    const char *summary; /* a paragraph: what the command does (wrapped) */
    const char *epilog;  /* printed as is after the options: examples, notes; or NULL */
    int min_args;        /* positional arguments: at least */
    int max_args;        /* at most; -1 = any number */
} cli_cmd;

/* The shared rows: the same option means the same thing in every command. */
#define CLI_HELP                                                                                   \
    { .name = "help", .short_name = 'h', .kind = CLI_FLAG, .help = "print this help and exit" }
#define CLI_QUIET(dest)                                                                            \
    {                                                                                              \
        .name = "quiet", .short_name = 'q', .kind = CLI_FLAG, .dest = (dest),                      \
        .help = "no progress line and no terminal report: only errors (and --json -)"              \
    }
#define CLI_JSON(dest)                                                                             \
    {                                                                                              \
        .name = "json", .kind = CLI_STR, .dest = (dest), .meta = "PATH",                           \
        .help = "write the result document (brink.result/1) to PATH; - for stdout"                 \
    }
#define CLI_CONFIG(dest)                                                                           \
    {                                                                                              \
        .name = "config", .short_name = 'f', .kind = CLI_STR, .dest = (dest), .meta = "FILE",      \
        .env = "BRINK_CONFIG",                                                                     \
        .help = "brink.yaml: point the test at your own stack (see docs/config.md)"                \
    }

/* Outcome of cli_parse. */
enum { CLI_OK = 0, CLI_EXIT_HELP = 1, CLI_ERROR = -1 };

/* Parses argv[1..argc-1] (argv[0] is the command's name) against opts. Positional arguments
 * are stored in order in pos (room for maxpos; *npos set) after the count was checked against
 * cmd's min_args/max_args. Returns CLI_OK; CLI_EXIT_HELP after printing the help to stdout
 * (the caller returns 0); CLI_ERROR with a one-line reason in err that names the option and
 * ends with "(see brink NAME --help)". */
int cli_parse(const cli_cmd *cmd, const cli_opt *opts, size_t nopts, int argc, char **argv,
              const char **pos, int maxpos, int *npos, char *err, size_t errlen);

/* Writes the help generated from the table: usage line, summary, options (each with its
 * default and environment variable), epilog; no line longer than 80 columns. */
void cli_help(FILE *out, const cli_cmd *cmd, const cli_opt *opts, size_t nopts);

/* The candidate closest to word by edit distance, when it is close enough to be a likely typo
 * (or word is a prefix of it); NULL otherwise. For unknown options, commands and subcommands. */
const char *cli_suggest(const char *word, const char *const *candidates, size_t n);

/* "unknown WHAT 'word'; did you mean 'x'?" or "unknown WHAT 'word'" into err. */
void cli_unknown(const char *what, const char *word, const char *const *candidates, size_t n,
                 char *err, size_t errlen);

#define CLI_NOPTS(table) (sizeof(table) / sizeof((table)[0]))

#endif
