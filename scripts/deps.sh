#!/usr/bin/env bash
# Installs the build and test dependencies of syncrun on Debian 12 (bookworm), only those missing.
set -euo pipefail

packages=(
    build-essential
    pkg-config
    libh2o-evloop-dev
    libjansson-dev
    libsqlite3-dev
    libssl-dev
    libcurl4-openssl-dev
    libcmocka-dev
    python3
    python3-pytest
    python3-jsonschema
    python3-yaml
    clang-format
    clang
    libclang-rt-14-dev
    clang-tidy
    cppcheck
    curl
    openssl
    prometheus
    tzdata
    nodejs
    chromium
)

missing=()
# npm comes with NodeSource's nodejs, or as Debian's own package beside Debian's nodejs.
if ! command -v npm >/dev/null 2>&1; then
    missing+=(npm)
fi
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

# The dashboard's npm packages (uPlot, embedded by the build; playwright-core, for the browser tests).
web_deps() {
    bash "$(dirname "${BASH_SOURCE[0]}")/web-deps.sh"
}

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "deps: all ${#packages[@]} packages already installed"
    web_deps
    exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "deps: missing packages (${missing[*]}) and not root, and sudo is not available" >&2
        exit 1
    fi
    sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
web_deps
