#!/usr/bin/env bash
# Fetches the public clients' sources at the pinned commits into $CLIENTS_SRC (default
# build/clients/src, ignored by git). Needs network access to GitHub. A directory that already
# exists is kept (put a checkout there yourself to try another version).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SRC=${CLIENTS_SRC:-$PWD/build/clients/src}
mkdir -p "$SRC"

# name  repository  commit
PINS=(
    "airflow-provider-census sutrolabs/airflow-provider-census d2e25c46abc11cb4ac42062153d873dc6084b71f"
    "prefect-census PrefectHQ/prefect-census 3f49303675c8a62d592d5897104a3afa62e8f8fc"
    "blueconic-mcp blueconic/blueconic-mcp 5645d6b8465acd948cfcd4b5101894f8871c6817"
    "itwin-sample iTwin/synchronization-api-sample-app 96a896c76c0ee9c35f67fdaaeba96351a154e8bd"
    "itwin-cli iTwin/itwin-cli c1a6ebb988c44c55fdfc433bdeb2b8fb5ce2e9b6"
)

for pin in "${PINS[@]}"; do
    read -r name repo commit <<<"$pin"
    [[ -d $SRC/$name ]] && continue
    echo "fetching $repo@$commit"
    git init -q "$SRC/$name.tmp"
    git -C "$SRC/$name.tmp" fetch -q --depth 1 "https://github.com/$repo" "$commit"
    git -C "$SRC/$name.tmp" checkout -q FETCH_HEAD
    mv "$SRC/$name.tmp" "$SRC/$name"
done

# dagster-census lives in the dagster monorepo: a sparse, blob-less clone of its directory only.
if [[ ! -d $SRC/dagster-census ]]; then
    echo "fetching dagster-io/dagster (python_modules/libraries/dagster-census only)"
    git clone -q --depth 1 --filter=blob:none --sparse https://github.com/dagster-io/dagster "$SRC/dagster.tmp"
    git -C "$SRC/dagster.tmp" sparse-checkout set python_modules/libraries/dagster-census
    echo "dagster at $(git -C "$SRC/dagster.tmp" rev-parse HEAD)"
    mv "$SRC/dagster.tmp/python_modules/libraries/dagster-census" "$SRC/dagster-census"
    rm -rf "$SRC/dagster.tmp"
fi

# Node dependencies, from npm, into each client's own node_modules (no install scripts).
for name in blueconic-mcp itwin-cli; do
    if [[ ! -d $SRC/$name/node_modules ]]; then
        (cd "$SRC/$name" && npm ci --ignore-scripts --no-audit --no-fund)
    fi
done
[[ -x $SRC/blueconic-mcp/node_modules/.bin/tsx ]] ||
    (cd "$SRC/blueconic-mcp" && npm install --no-save --ignore-scripts --no-audit --no-fund tsx@4)
[[ -f $SRC/itwin-cli/dist/index.js ]] || (cd "$SRC/itwin-cli" && npx tsc -b)
echo "sources in $SRC"
