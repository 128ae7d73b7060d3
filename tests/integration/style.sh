# style.sh — the sources are formatted with the repository's .clang-format, and the build is
# warning-free under -Wall -Wextra -Werror (the build itself enforces that; this checks the format).
cd "$(dirname "$0")/../.." || exit 1
# one clang-format for all files (a process a file is slow on a busy machine); it names each
# file that is not formatted in its "FILE:LINE:COL: error: code should be clang-formatted" lines
files=()
for f in src/*.c src/*/*.c src/*/*.h service/*.c service/*.h tests/unit/*.c tests/servers/*.c; do
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
true
