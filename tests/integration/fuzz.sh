# fuzz.sh — the short form of `make fuzz` (docs/fuzzing.md), so that the libFuzzer harnesses of
# tests/fuzz/ cannot rot: builds them if needed (make fuzz-build: clang with ASan+UBSan, -O0, in
# build/fuzz-quick/, at the lowest priority; make test has built them already), then runs each
# one on a scratch copy of its seed corpus — every seed and regression input replayed first, then
# FUZZ_SHORT_SECONDS (1) of fuzzing — at the lowest priority too, one harness per core. A line per
# harness: "ok - fuzz NAME: N execs/s, E edges, 0 findings", or "not ok" with the finding's first
# stack frames (its input is kept in build/fuzz-quick/findings/NAME/). Nothing here touches the
# network.
. "$(dirname "$0")/lib.bash"
cd "$ROOT" || exit 1

if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
    not_ok "fuzz: ${FUZZ_CC:-clang} is not installed (scripts/install-deps installs Debian's clang)"
    exit 1
fi
start=$SECONDS
# (unoptimised, in a directory of its own: it compiles in a third of the time of make fuzz's
# build, which matters while every other test file shares the cores)
FB=build/fuzz-quick
if nice -n 19 make --no-print-directory fuzz-build FUZZ_OPT="-O0 -g1" FUZZ_BUILD=$FB >"$TMP/build.log" 2>&1; then
    ok "fuzz build: $FB/ up to date in $((SECONDS - start)) s"
else
    not_ok "fuzz build (make fuzz-build)"
    grep -E 'error|Error' "$TMP/build.log" | head -20 | sed 's/^/#   /'
    exit 1
fi
FUZZ_JOBS=$(nproc 2>/dev/null || echo 2) nice -n 19 tests/fuzz/run --tap \
    -t "${FUZZ_SHORT_SECONDS:-1}" "$FB"
