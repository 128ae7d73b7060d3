/* race_verdict.h — the verdict on one raced order, from three sources: the answers (who was told
 * "won"), what the losers were told (the winner named in each "lost" answer), and the ground truth
 * (the stored winner, read back over HTTP and/or SQL). Pure functions, no I/O: the scenario
 * (race.c) collects the evidence, this module classifies it.
 *
 * Valid: exactly one "won", every other answer "lost" naming that vendor, and every source of
 * ground truth storing that vendor. Otherwise the order gets one or more classes:
 *   double_win          more than one vendor was told "won"
 *   no_winner           nobody was told "won"
 *   phantom_winner      the stored winner is not the announced one (or none is stored, or the
 *                       sources of ground truth disagree, or one holds several winners)
 *   inconsistent_loser  a "lost" answer names someone other than the winner (with several
 *                       winners: not one of them, or not the one the other losers name)
 *   error               an answer that is neither "won" nor "lost" (5xx, timeout, reset, ...)
 * The first four are race conditions; an error alone is not, but it makes the order invalid. */
#ifndef BRINK_RACE_VERDICT_H
#define BRINK_RACE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "http/status_set.h"

typedef enum race_class {
    RACE_DOUBLE_WIN,
    RACE_NO_WINNER,
    RACE_PHANTOM_WINNER,
    RACE_INCONSISTENT_LOSER,
    RACE_ERROR,
    RACE_NCLASS
} race_class;

#define RACE_BIT(c) (1u << (c))
/* the classes that make an order a race condition (all but error) */
#define RACE_CONDITION_MASK                                                                        \
    (RACE_BIT(RACE_DOUBLE_WIN) | RACE_BIT(RACE_NO_WINNER) | RACE_BIT(RACE_PHANTOM_WINNER) |        \
     RACE_BIT(RACE_INCONSISTENT_LOSER))

const char *race_class_name(race_class c); /* "double_win", ... */

/* ---- status classes ("won" and "lost" answers) ---------------------------------------------- */

/* ---- the verdict ---------------------------------------------------------------------------- */

typedef enum race_outcome {
    RACE_WON,
    RACE_LOST,
    RACE_FAILED, /* neither: a status of another class, or no response at all */
} race_outcome;

/* What an answer with this HTTP status says: won (a "won" status, also when the sets overlap),
 * lost, or failed (a status of neither class, or 0: no response at all). */
race_outcome race_outcome_of(const status_set *won, const status_set *lost, int status);

typedef struct race_answer {
    const char *vendor;
    race_outcome outcome;
    bool names;         /* a lost answer that was read for the winner's name */
    const char *winner; /* the name it gave; NULL when it named no one (null or absent) */
} race_answer;

typedef struct race_truth {
    const char *source; /* "http", "sql" */
    bool known;         /* the source answered for this order */
    bool multiple;      /* it holds more than one winner (e.g. several rows) */
    const char *winner; /* NULL: no winner stored */
} race_truth;

typedef struct race_verdict {
    unsigned classes; /* RACE_BIT()s; 0 = valid */
    int won, lost, failed;
    const char *announced; /* the single vendor told "won", or NULL */
} race_verdict;

void race_judge(const race_answer *a, int n, const race_truth *t, int nt, race_verdict *v);

#endif
