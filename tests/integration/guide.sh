# guide.sh — docs/guide.md (the breaking-points reference) stays in sync with the threshold table.
# The table is read from the code itself: a small program compiled with src/verdict/threshold.c (the
# rest of libbrink from the build) prints threshold_defaults() — brink has no command that lists
# it, and a result document holds only its own test's metrics — so no parser of C has to follow
# the table's formatting. Then:
#   - every (test, metric) of the table has its section, "## metric" — or "## metric (test)" when
#     two tests share the name — and no such heading names a metric the table does not have;
#   - the guide's index table ("| [`metric`](#anchor) | test | unit | direction | orange | red |")
#     has one row per entry with the code's unit, direction and bounds, and an anchor that leads
#     to the entry's section;
#   - every in-page link of the guide leads to a heading; README.md and docs/reports.md link to it.
# The checker must fire: a copy of threshold.c with one more metric (compiled the same way), the
# guide without one section, with a section of an unknown metric, with a changed bound and with
# an ambiguous heading must each fail it, naming the metric; a link to no heading must fail too.
. "$(dirname "$0")/lib.bash"

GUIDE=$ROOT/docs/guide.md
SRC=$ROOT/src/verdict/threshold.c
CC=${CC:-cc}

# the build's library supplies what threshold.c uses (err_set, ...); an ASan build needs the same
# instrumentation to link
LIBBRINK=$BUILD/libbrink.a
SAN=()
nm -A "$LIBBRINK" 2>/dev/null | grep -q ' U __asan_' && SAN=('-fsanitize=address,undefined')
LDLIBS=(-lmicrohttpd -lpq -lhiredis -lssl -lcrypto -lz -lhttp_parser -ljansson -lyaml -lpthread -lm)

# table_of THRESHOLD_C OUT: "test<TAB>metric<TAB>unit<TAB>direction<TAB>orange<TAB>red" per entry
table_of() {
    local src=$1 out=$2 exe=$TMP/thdump.$RANDOM
    cat >"$TMP/thdump.c" <<'EOF'
#include <stdio.h>
#include "verdict/threshold.h"
int main(void) {
    int n;
    const th_def *d = threshold_defaults(&n);
    for (int i = 0; i < n; i++)
        printf("%s\t%s\t%s\t%s\t%g\t%g\n", d[i].test, d[i].metric, d[i].unit,
               d[i].dir == TH_ABOVE ? "above" : "below", d[i].orange, d[i].red);
    return 0;
}
EOF
    "$CC" -std=c11 -D_GNU_SOURCE "${SAN[@]}" -I"$ROOT/src" -o "$exe" "$TMP/thdump.c" "$src" \
        "$LIBBRINK" "${LDLIBS[@]}" >"$TMP/cc.err" 2>&1 && "$exe" >"$out"
}

# guide_check TABLE GUIDE: prints one line per problem; succeeds when there is none
guide_check() {
    awk -F'\t' '
    function slug(s) { s = tolower(s); gsub(/[^a-z0-9 _-]/, "", s); gsub(/ /, "-", s); return s }
    function trim(s) { gsub(/^[ \t`]+|[ \t`]+$/, "", s); return s }
    FNR == NR {
        key = $1 SUBSEP $2; entry[key] = 1; order[++n] = key
        unit[key] = $3; dir[key] = $4; orange[key] = $5; red[key] = $6; uses[$2]++
        next
    }
    { sub(/[ \t\r]+$/, "") }
    /^## [a-z][a-z0-9_]*( \([a-z]+\))?$/ {
        h = substr($0, 4)
        if (h in seen) { print "heading \"## " h "\" appears twice (line " FNR ")"; bad = 1 }
        seen[h] = FNR
        m = h; t = ""
        if (index(h, " (")) { m = substr(h, 1, index(h, " (") - 1); t = substr(h, index(h, " (") + 2); sub(/\)$/, "", t) }
        if (!(m in uses)) { print "\"## " h "\" (line " FNR "): no metric " m " in the threshold table"; bad = 1 }
        else if (t != "" && !((t SUBSEP m) in entry)) { print "\"## " h "\" (line " FNR "): test " t " has no metric " m; bad = 1 }
        else if (t == "" && uses[m] > 1) { print "\"## " h "\" (line " FNR "): " m " belongs to " uses[m] " tests: name the test, \"## " m " (TEST)\""; bad = 1 }
        next
    }
    /^\| \[`[a-z0-9_]+`\]\(#/ {
        split($0, c, "|")
        m = c[2]; sub(/^ *\[`/, "", m); a = m; sub(/`.*/, "", m); sub(/^[^(]*\(#/, "", a); sub(/\).*/, "", a)
        key = trim(c[3]) SUBSEP m
        if (!(key in entry)) { print "index row (line " FNR "): no metric " m " in test " trim(c[3]); bad = 1; next }
        rows[key]++; anchor[key] = a
        got = trim(c[4]) " " trim(c[5]) " " trim(c[6]) " " trim(c[7])
        want = unit[key] " " dir[key] " " orange[key] " " red[key]
        if (got != want) { print "index row of " m " (" trim(c[3]) ", line " FNR "): \"" got "\", the code says \"" want "\" (unit direction orange red)"; bad = 1 }
    }
    END {
        for (i = 1; i <= n; i++) {
            key = order[i]; split(key, k, SUBSEP); t = k[1]; m = k[2]
            h = uses[m] > 1 ? m " (" t ")" : m
            if (!(h in seen) && !((m " (" t ")") in seen)) { print "no section \"## " h "\" for metric " m " of test " t; bad = 1 }
            else if (!(h in seen)) h = m " (" t ")"
            if (rows[key] != 1) { print "metric " m " of test " t ": " (rows[key] + 0) " rows in the index table (want 1)"; bad = 1 }
            else if (anchor[key] != slug(h)) { print "index row of " m " (" t "): anchor #" anchor[key] ", the section is #" slug(h); bad = 1 }
        }
        exit bad
    }' "$1" "$2"
}

# anchors_check GUIDE: every in-page link (](#anchor)) leads to a heading (GitHub's slugs)
anchors_check() {
    awk '
    function slug(s) { s = tolower(s); gsub(/[^a-z0-9 _-]/, "", s); gsub(/ /, "-", s); return s }
    /^```/ { code = !code; next }
    code { next }
    /^#+ / { h = $0; sub(/^#+ +/, "", h); sub(/[ \t\r]+$/, "", h); have[slug(h)] = 1 }
    {
        line = $0
        while (match(line, /\]\(#[^)]*\)/)) {
            a = substr(line, RSTART + 3, RLENGTH - 4); want[a] = FNR
            line = substr(line, RSTART + RLENGTH)
        }
    }
    END { for (a in want) if (!(a in have)) { print "link to #" a " (line " want[a] ") leads to no heading"; bad = 1 }
          exit bad }' "$1"
}

# fires NAME TABLE GUIDE PATTERN: ok when guide_check fails and its report matches PATTERN
fires() {
    local name=$1 out
    if out=$(guide_check "$2" "$3"); then
        not_ok "$name: the check passed"
    elif grep -q -- "$4" <<<"$out"; then
        ok "$name"
    else
        not_ok "$name: the report does not name $4"
        sed 's/^/#   /' <<<"$out" | head -5
    fi
}

# ---- the table, from the code ------------------------------------------------------------------
if [ ! -f "$LIBBRINK" ]; then
    not_ok "threshold table: $LIBBRINK is not built (make, or make asan)"
    exit 0
fi
if ! table_of "$SRC" "$TMP/table.tsv"; then
    not_ok "threshold table: could not compile and run a program with $SRC"
    sed 's/^/#   /' "$TMP/cc.err" | head -10
    exit 0
fi
n=$(wc -l <"$TMP/table.tsv")
check "threshold table read from the code ($n entries)" [ "$n" -gt 0 ]
check "docs/guide.md exists" [ -s "$GUIDE" ]

# ---- the guide against it ----------------------------------------------------------------------
if out=$(guide_check "$TMP/table.tsv" "$GUIDE"); then
    ok "guide: a section and an index row (unit, direction, bounds, anchor) for each of the $n metrics, none unknown"
else
    not_ok "guide: out of sync with src/verdict/threshold.c"
    sed 's/^/#   /' <<<"$out"
fi

if out=$(anchors_check "$GUIDE"); then
    ok "guide: every in-page link leads to a heading"
else
    not_ok "guide: broken in-page links"
    sed 's/^/#   /' <<<"$out"
fi
check "README.md and docs/reports.md link to the guide" \
    all grep -q '(docs/guide.md)' "$ROOT/README.md" -- grep -q '(guide.md)' "$ROOT/docs/reports.md"

# ---- the check fires ---------------------------------------------------------------------------
# a metric added to the code without documentation
sed '/^static const th_def defaults\[\] = {/a\
    {"made_up_metric", "webhook", "ms", TH_ABOVE, 1, 2, "a metric nobody documented", "none"},' \
    "$SRC" >"$TMP/threshold_plus.c"
if [ "$(grep -c made_up_metric "$TMP/threshold_plus.c")" -ne 1 ]; then
    not_ok "fires: could not add a metric to a copy of threshold.c (is the table still 'static const th_def defaults[] = {'?)"
elif ! table_of "$TMP/threshold_plus.c" "$TMP/table_plus.tsv"; then
    not_ok "fires: the copy of threshold.c with one more metric does not compile"
    sed 's/^/#   /' "$TMP/cc.err" | head -10
else
    fires "fires: a metric added to threshold.c without a section" "$TMP/table_plus.tsv" "$GUIDE" \
        'no section "## made_up_metric"'
fi

# a section removed: the first metric heading of the guide
first=$(grep -m1 -E '^## [a-z][a-z0-9_]*( \([a-z]+\))?$' "$GUIDE" | cut -c4-)
if [ -n "$first" ]; then
    grep -vxF "## $first" "$GUIDE" >"$TMP/guide_minus.md"
    fires "fires: the guide without its section \"## $first\"" "$TMP/table.tsv" "$TMP/guide_minus.md" \
        "no section \"## $first\""
else
    not_ok "fires: the guide has no metric section to remove"
fi

# a section of a metric that does not exist
{ cat "$GUIDE"; printf '\n## no_such_metric\n\nNot in the table.\n'; } >"$TMP/guide_extra.md"
fires "fires: a section of a metric the table does not have" "$TMP/table.tsv" "$TMP/guide_extra.md" \
    'no metric no_such_metric'

# a bound in the index that the code does not have (the first row's red bound + 1)
awk 'done != 1 && /^\| \[`[a-z0-9_]+`\]\(#/ {
        n = split($0, c, "|"); c[7] = " " (c[7] + 1) " "; s = c[1]
        for (i = 2; i < n; i++) s = s "|" c[i]
        $0 = s "|"; done = 1 }
     { print }' "$GUIDE" >"$TMP/guide_bound.md"
fires "fires: an index row whose red bound differs from the code" "$TMP/table.tsv" \
    "$TMP/guide_bound.md" 'the code says'

# a name two tests share, without the test
shared=$(cut -f2 "$TMP/table.tsv" | sort | uniq -d | head -1)
if [ -n "$shared" ]; then
    { cat "$GUIDE"; printf '\n## %s\n' "$shared"; } >"$TMP/guide_ambiguous.md"
    fires "fires: \"## $shared\" without its test" "$TMP/table.tsv" "$TMP/guide_ambiguous.md" \
        "name the test"
else
    ok "no metric name is shared by two tests (nothing ambiguous to check) # SKIP"
fi

# an in-page link to a heading that does not exist
{ cat "$GUIDE"; printf '\nSee [nothing](#no-such-heading).\n'; } >"$TMP/guide_link.md"
if out=$(anchors_check "$TMP/guide_link.md"); then
    not_ok "fires: a link to a missing heading: the check passed"
elif grep -q 'no-such-heading' <<<"$out"; then
    ok "fires: a link to a missing heading"
else
    not_ok "fires: a link to a missing heading: the report does not name it"
fi
