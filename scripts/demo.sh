#!/usr/bin/env bash
# Builds syncrun and serves it with demo data:
#   SYNCRUN_DB (default ./syncrun.db), SYNCRUN_LISTEN (default 127.0.0.1:8080).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
make -j2
exec build/syncrun serve --demo --db "${SYNCRUN_DB:-./syncrun.db}" --listen "${SYNCRUN_LISTEN:-127.0.0.1:8080}"
