# style.sh — the sources are formatted with the repository's .clang-format, the build is
# warning-free under -Wall -Wextra -Werror (the build itself enforces that; this checks the format),
# and the layers are one-way (docs: the layout in DESIGN.md): the lower layers include no header of
# the layers above them, verdict/ and config/ none of the tests, suite or report, report/ reads
# result documents and includes no test, core/ only itself.
cd "$(dirname "$0")/../.." || exit 1
# one clang-format for all files (a process a file is slow on a busy machine); it names each
# file that is not formatted in its "FILE:LINE:COL: error: code should be clang-formatted" lines
files=()
for f in src/*.c src/*/*.c src/*/*.h service/*.c service/*.h tests/unit/*.c tests/unit/*.h tests/servers/*.c tests/servers/*.h tests/fuzz/*.c tests/fuzz/*.h; do
    [ -f "$f" ] && files+=("$f")
done
if clang-format --dry-run -Werror "${files[@]}" >/dev/null 2>/tmp/style.$$; then
    echo "ok - every C source is formatted with .clang-format"
else
    sed -n 's/^\([^ :]*\):[0-9]*:[0-9]*: error: .*/\1/p' /tmp/style.$$ | sort -u |
        sed 's/.*/not ok - clang-format: & is not formatted (run make format)/' | grep . ||
        echo "not ok - clang-format: $(head -1 /tmp/style.$$)"
fi
rm -f /tmp/style.$$

# Prints "FILE HEADER" for each #include "HEADER" of a file in src/DIR (for each DIR of $1) whose
# folder matches the extended regex $2 (anchored); with $3 = -v, whose folder does not match.
upward_includes() {
    local dir f
    for dir in $1; do
        for f in src/"$dir"/*.c src/"$dir"/*.h; do
            [ -f "$f" ] || continue
            sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"(\.\.\/)*([^"]+)".*/\2/p' "$f" |
                grep -E ${3:+"$3"} "^($2)/" | sed "s|^|$f |"
        done
    done
}
violations=$(
    {
        upward_includes "core http load stack fault probe" \
            "webhook|race|resilience|suite|report|verdict|config"
        upward_includes "report" "webhook|race|resilience"
        upward_includes "verdict config" "webhook|race|resilience|suite|report"
        upward_includes "core http load stack fault probe verdict config webhook race resilience suite report" "cmd"
        upward_includes "core" "core" -v
    } | sort -u
)
if [ -n "$violations" ]; then
    while read -r f inc; do echo "not ok - layers: $f includes $inc"; done <<<"$violations"
else
    echo "ok - layers: core, http, load, stack, fault and probe include nothing of the tests, suite," \
        "report, verdict or config; verdict and config nothing of the tests, suite or report;" \
        "report includes no test; core includes only core; only main.c includes cmd/"
fi
true
