#!/usr/bin/env bash
# Builds syncrun and runs the whole suite, as `make check` does: the cmocka unit tests (make unit),
# the HTTP tests (make http: pytest against the real server), then the dashboard in a real browser
# (make browser: headless chromium). All always run; exits non-zero if any fails. Arguments are passed on to make, e.g. `scripts/test.sh SAN=1`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() {
    printf '\n==== %s ====\n' "$*"
}

section "dependencies"
bash scripts/deps.sh

section "build: make -j2 $*"
make -j2 "$@"

unit_log=$(mktemp)
trap 'rm -f "$unit_log"' EXIT

section "unit tests: make unit $*"
unit_rc=0
make --no-print-directory "$@" unit 2>&1 | tee "$unit_log" || unit_rc=$?

section "http tests: make http $*"
http_rc=0
make --no-print-directory "$@" http || http_rc=$?

section "browser tests: make browser $*"
browser_log=$(mktemp)
trap 'rm -f "$unit_log" "$browser_log"' EXIT
browser_rc=0
make --no-print-directory "$@" browser 2>&1 | tee "$browser_log" || browser_rc=$?

# Aggregate cmocka's per-binary summaries. Its lines may share a line with stderr output, hence -o.
count() {
    # no match is a count of 0, not a failure (set -e, pipefail)
    { grep -oE "$1" "$unit_log" || true; } | { grep -oE '[0-9]+' || true; } | awk '{ s += $1 } END { print s + 0 }'
}
binaries=$(grep -c '^== ' "$unit_log" || true)
finished=$({ grep -oE '\[==========\] [0-9]+ test\(s\) run\.' "$unit_log" || true; } | wc -l)
passed=$(count '\[  PASSED  \] [0-9]+ test')
failed=$(count '\[  FAILED  \] [0-9]+ test\(s\), listed below')

section "summary"
echo "unit tests: $passed passed, $failed failed (in $binaries test binaries)"
if [[ $finished -lt $binaries ]]; then
    echo "unit tests: $((binaries - finished)) test binaries stopped before their summary (crash or abort)"
fi
if [[ $unit_rc -ne 0 ]]; then
    echo "unit tests: FAILED (make unit exit $unit_rc)"
fi
if [[ $http_rc -eq 0 ]]; then
    echo "http tests: passed"
else
    echo "http tests: FAILED (make http exit $http_rc)"
fi
browser_summary=$(grep -oE 'browser tests: [0-9]+ passed, [0-9]+ failed' "$browser_log" | tail -n 1 || true)
echo "${browser_summary:-browser tests: no summary (the runner did not finish)}"
if [[ $browser_rc -ne 0 ]]; then
    echo "browser tests: FAILED (make browser exit $browser_rc)"
fi
if [[ $unit_rc -ne 0 || $http_rc -ne 0 || $browser_rc -ne 0 ]]; then
    exit 1
fi
echo "all tests passed"
