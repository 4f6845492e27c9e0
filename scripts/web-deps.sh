#!/usr/bin/env bash
# Installs the npm packages of the dashboard, only when missing or when a lockfile changed:
#   web/            uPlot, the chart library the binary embeds (the build needs it)
#   tests/browser/  playwright-core, which drives Debian's chromium in the browser tests
# `npm ci` installs exactly what each package-lock.json records; node_modules is never committed.
# Usage: scripts/web-deps.sh [web|browser]... (default: both)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v npm >/dev/null 2>&1; then
    echo "web-deps: npm is missing: install Node.js and npm (scripts/deps.sh does, or: apt-get install nodejs npm)" >&2
    exit 1
fi

install() {
    local dir=$1 stamp="$1/node_modules/.syncrun-lock"
    # The lockfile's copy in node_modules says what is installed; a changed lockfile reinstalls.
    if [[ -f "$stamp" ]] && cmp -s "$dir/package-lock.json" "$stamp"; then
        echo "web-deps: $dir is up to date"
        return
    fi
    echo "web-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(web browser)
for t in "${targets[@]}"; do
    case $t in
    web) install web ;;
    browser) install tests/browser ;;
    *)
        echo "web-deps: unknown target '$t' (web or browser)" >&2
        exit 2
        ;;
    esac
done
