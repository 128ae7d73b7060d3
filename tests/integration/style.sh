# style.sh — the sources are formatted with the repository's .clang-format, and the build is
# warning-free under -Wall -Wextra -Werror (the build itself enforces that; this checks the format).
cd "$(dirname "$0")/../.." || exit 1
bad=0
for f in src/*.c src/*/*.c src/*/*.h service/*.c service/*.h tests/unit/*.c tests/servers/*.c; do
    [ -f "$f" ] || continue
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "not ok - clang-format: $f is not formatted (run make format)"
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "ok - every C source is formatted with .clang-format"
true
