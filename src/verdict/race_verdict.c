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

race_outcome race_outcome_of(const status_set *won, const status_set *lost, int status) {
    if (status <= 0) return RACE_FAILED;
    if (status_set_has(won, status)) return RACE_WON;
    if (status_set_has(lost, status)) return RACE_LOST;
    return RACE_FAILED;
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
