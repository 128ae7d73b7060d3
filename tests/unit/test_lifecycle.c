/* test_lifecycle.c — unit tests for src/load/lifecycle.c: the spec grammar and its refusals, the
 * mapping of deliveries to (order, version, type) — every order gets each version exactly once,
 * an order's events are `width` deliveries apart, reordering swaps neighbours after the first
 * event at the asked share — and the alternatives' shares. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load/lifecycle.h"
#include "unit.h"

static void parse_ok(const char *spec, lifecycle *lc) {
    char err[200];
    if (lifecycle_parse(spec, lc, err, sizeof err) < 0) fail_msg("%s: %s", spec, err);
}

static void parse_bad(const char *spec, const char *want) {
    lifecycle lc;
    char err[200] = "";
    assert_int_equal(lifecycle_parse(spec, &lc, err, sizeof err), -1);
    if (!strstr(err, want)) fail_msg("%s: got '%s', want '%s'", spec, err, want);
}

static void test_parse(void **state) {
    lifecycle lc;
    char d[300];
    parse_ok("default", &lc);
    assert_int_equal(lc.nsteps, 4);
    assert_int_equal(lc.ntypes, 4);
    assert_string_equal(lc.types[0], "order.created");
    assert_string_equal(lc.types[3], "order.cancelled");
    lifecycle_describe(&lc, d, sizeof d);
    assert_string_equal(d, LIFECYCLE_DEFAULT);
    parse_ok(" a , b*3 ,c|d ", &lc);
    assert_int_equal(lc.nsteps, 5);
    assert_int_equal(lc.step[4].nalt, 2);
    assert_true(fabs(lc.step[4].cum[0] - 0.5) < 1e-12 && lc.step[4].cum[1] == 1);
    lifecycle_describe(&lc, d, sizeof d);
    assert_string_equal(d, "a,b*3,c:0.5|d:0.5");
    parse_ok("x,y:0.25|z:0.75", &lc);
    assert_int_equal(lc.interval_ns, 100000000LL);
    assert_true(lc.reorder_rate == 0);

    parse_bad("", "no event types");
    parse_bad("a,,b", "an event type expected");
    parse_bad("a,b:0.5|c", "every alternative");
    parse_bad("a,b:0.5|c:0.6", "add up to 1.1");
    parse_bad("a,b:0", "a probability in (0, 1]");
    parse_bad("a:0.5", "always happens");
    parse_bad("a*0", "a repeat count 1..16");
    parse_bad("a*17", "a repeat count 1..16");
    parse_bad("a*10,b*7", "at most 16 events per order");
    parse_bad("a b", "unexpected 'b'");
    parse_bad("a|a", "'a' twice in one step");
    parse_bad("a,b,c,d,e,f,g,h,i", "at most 8 event types");
    char longname[80];
    memset(longname, 'x', 60);
    longname[60] = '\0';
    parse_bad(longname, "too long");
}

/* Every order's versions 1..E appear once each, and version v of an order always has the type
 * its step allows. */
static void check_complete(const lifecycle *lc, uint64_t orders) {
    uint64_t n = orders * (uint64_t)lc->nsteps;
    uint8_t *seen = calloc(n, 1);
    assert_non_null(seen);
    for (uint64_t seq = 0; seq < n; seq++) {
        lifecycle_event ev;
        lifecycle_at(lc, seq, &ev);
        assert_true(ev.order < orders);
        assert_true(ev.version >= 1 && ev.version <= lc->nsteps);
        const lifecycle_step *st = &lc->step[ev.version - 1];
        bool allowed = false;
        for (int a = 0; a < st->nalt; a++) allowed |= st->type[a] == ev.type;
        assert_true(allowed);
        uint8_t *s = &seen[ev.order * (uint64_t)lc->nsteps + (uint64_t)(ev.version - 1)];
        assert_int_equal(*s, 0);
        *s = 1;
    }
    free(seen);
}

static void test_mapping(void **state) {
    lifecycle lc;
    parse_ok("default", &lc);
    lifecycle_plan(&lc, 500, 8); /* 100 ms at 500/s: 50 orders interleaved */
    assert_int_equal(lc.width, 50);
    check_complete(&lc, 1000);
    /* order 7's events are deliveries 7, 57, 107, 157: 50 apart, versions in order */
    for (int v = 1; v <= 4; v++) {
        lifecycle_event ev;
        lifecycle_at(&lc, 7 + 50 * (uint64_t)(v - 1), &ev);
        assert_int_equal(ev.order, 7);
        assert_int_equal(ev.version, v);
    }
    lifecycle_event ev;
    lifecycle_at(&lc, 200, &ev); /* the second block starts with order 50's creation */
    assert_int_equal(ev.order, 50);
    assert_int_equal(ev.version, 1);
    assert_int_equal(ev.type, 0);
    lifecycle_plan(&lc, 0, 16); /* the closed model: one order per connection */
    assert_int_equal(lc.width, 16);
    lifecycle_plan(&lc, 2, 16); /* 0.2 orders: at least one */
    assert_int_equal(lc.width, 1);
    check_complete(&lc, 100);
}

static void test_shares(void **state) {
    lifecycle lc;
    parse_ok("created,done:0.9|cancelled:0.1", &lc);
    lifecycle_plan(&lc, 1000, 1);
    int64_t cancelled = 0, orders = 20000;
    for (uint64_t seq = 0; seq < (uint64_t)orders * 2; seq++) {
        lifecycle_event ev;
        lifecycle_at(&lc, seq, &ev);
        if (ev.version == 2 && ev.type == 2) cancelled++;
    }
    /* 10 % of 20,000: 2,000, binomial sd ~42 */
    assert_true(cancelled > 1800 && cancelled < 2200);
}

static void test_reorder(void **state) {
    lifecycle lc;
    parse_ok("a,b*4,c", &lc); /* 6 steps */
    lc.reorder_rate = 0.3;
    lifecycle_plan(&lc, 1000, 1);
    check_complete(&lc, 2000);
    int64_t orders = 5000, swapped = 0, pairs = 0;
    for (uint64_t o = 0; o < (uint64_t)orders; o++) {
        int seen_at[7] = {0};
        for (int pos = 0; pos < 6; pos++) {
            /* order o (in block o / width) at position pos */
            uint64_t seq = (o / lc.width) * lc.width * 6 + (uint64_t)pos * lc.width + o % lc.width;
            lifecycle_event ev;
            lifecycle_at(&lc, seq, &ev);
            assert_int_equal(ev.order, o);
            seen_at[ev.version] = pos;
            if (pos == 0) assert_int_equal(ev.version, 1); /* the first event stays first */
            if (abs(ev.version - 1 - pos) > 1) fail_msg("moved more than one place");
        }
        for (int v = 2; v < 6; v++) {
            pairs++;
            if (seen_at[v + 1] < seen_at[v]) swapped++;
        }
    }
    /* each of the 4 pairs (2,3)..(5,6) is swapped with p 0.3 unless its neighbour was: about a
     * fifth of the pairs end up swapped; what matters is that some are and most are not */
    double share = (double)swapped / (double)pairs;
    assert_true(share > 0.15 && share < 0.3);
    lc.reorder_rate = 0;
    for (uint64_t seq = 0; seq < 6000; seq++) {
        lifecycle_event ev;
        lifecycle_at(&lc, seq, &ev);
        assert_int_equal(ev.version, (int)((seq % (lc.width * 6)) / lc.width) + 1);
    }
}

UNIT_MAIN(test_parse, test_mapping, test_shares, test_reorder)
