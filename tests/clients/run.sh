#!/usr/bin/env bash
# Runs the public clients of the four vendor APIs against a fresh `syncrun serve --demo`, each from
# its public source with its HTTP layer unchanged (see README "Public clients against syncrun").
# Needs: build/syncrun (make), the sources (tests/clients/fetch.sh, which needs GitHub), python3
# with requests, aiohttp, httpx and pydantic (Debian: python3-requests python3-aiohttp
# python3-httpx python3-pydantic), node >= 20 and openssl.
#
# usage: tests/clients/run.sh [client...]   clients: airflow-census dagster-census prefect-census
#                                                    itwin-sample itwin-cli blueconic-mcp (default: all)
# Every request and syncrun's answer is logged to $WORK/requests.jsonl by a recording proxy.
# Exits non-zero when any client step failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
HERE=$ROOT/tests/clients
SRC=${CLIENTS_SRC:-$ROOT/build/clients/src}
BIN=${SYNCRUN_BIN:-$ROOT/build/syncrun}
PY=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d /tmp/syncrun-clients.XXXXXX)
CLIENTS=("$@")
[[ ${#CLIENTS[@]} -gt 0 ]] || CLIENTS=(airflow-census dagster-census prefect-census itwin-sample itwin-cli blueconic-mcp)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}

# syncrun over HTTP, and behind the recording proxy
PORT=$(free_port)
"$BIN" serve --demo --listen "127.0.0.1:$PORT" --db "$WORK/http.db" >"$WORK/serve.log" 2>&1 &
PIDS+=($!)
wait_port "$PORT" || exit 1
TOKEN=$(grep -o 'sr_[A-Za-z0-9_-]*' "$WORK/serve.log" | head -1)
RPORT=$(free_port)
"$PY" "$HERE/recorder.py" "$RPORT" "http://127.0.0.1:$PORT" "$WORK/requests.jsonl" &
PIDS+=($!)
wait_port "$RPORT" || exit 1
URL=http://127.0.0.1:$RPORT

# A connection whose runs end by themselves (the demo's connections have no command).
CONN=$(curl -sf -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "http://127.0.0.1:$PORT/v1/connections" \
    -d '{"name":"public client check","source":"pg.public.users","destination":"crm","overlap":"skip","command":["sh","-c","sleep 2; echo synced"]}')
CONN_ID=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$CONN")
CONN_UUID=$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["uuid"])' "$CONN")
IMODEL=$(curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/synchronization/imodels/storageconnections/$CONN_UUID" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["connection"]["iModelId"])')
echo "syncrun at http://127.0.0.1:$PORT (recorded through $URL); connection $CONN_ID ($CONN_UUID); work dir $WORK"

api() { # METHOD PATH [JSON BODY]: a native API call to syncrun, straight (not recorded)
    curl -sf -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "http://127.0.0.1:$PORT$2"
}
json() { "$PY" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

declare -A RESULT
ORDER=()
run_client() {
    local name=$1
    shift
    echo
    echo "==== $name"
    echo "$name" >"$WORK/requests.jsonl.label"
    ORDER+=("$name")
    if "$@"; then RESULT[$name]=ok; else RESULT[$name]=FAILED; fi
}

for c in "${CLIENTS[@]}"; do
    case $c in
    airflow-census)
        run_client "$c" "$PY" "$HERE/run_airflow_census.py" "$SRC/airflow-provider-census" "$URL" "$TOKEN" "$CONN_ID" ;;
    dagster-census)
        run_client "$c" "$PY" "$HERE/run_dagster_census.py" "$SRC/dagster-census" "$URL" "$TOKEN" "$CONN_ID" ;;
    prefect-census)
        run_client "$c" "$PY" "$HERE/run_prefect_census.py" "$SRC/prefect-census" "$URL" "$TOKEN" "$CONN_ID" ;;
    itwin-sample)
        run_client "$c" "$SRC/blueconic-mcp/node_modules/.bin/tsx" "$HERE/run_itwin_sample.mts" \
            "$SRC/itwin-sample" "$URL" "$TOKEN" "$IMODEL" "$CONN_UUID"
        # Again on a connection without a command that has one finished run: the run the app starts
        # stays queued, as it does while a runner is busy (the case the first pass hits only by timing).
        Q=$(api POST /v1/connections '{"name":"waits for a runner","overlap":"queue"}' | json id)
        QUUID=$(api GET "/v1/connections/$Q" | json uuid)
        QRUN=$(api POST "/v1/connections/$Q/runs" '{}' | json id)
        api PATCH "/v1/runs/$QRUN" '{"state":"working"}' >/dev/null
        api POST "/v1/runs/$QRUN/finish" '{"result":"success"}' >/dev/null
        run_client "$c (queued run)" "$SRC/blueconic-mcp/node_modules/.bin/tsx" "$HERE/run_itwin_sample.mts" \
            "$SRC/itwin-sample" "$URL" "$TOKEN" "$IMODEL" "$QUUID" --no-wait ;;
    itwin-cli)
        run_client "$c" bash "$HERE/run_itwin_cli.sh" "$SRC/itwin-cli" "$URL" "$TOKEN" "$IMODEL" "$CONN_UUID" ;;
    blueconic-mcp)
        # It insists on https: a second syncrun with a certificate made here, its CA given to Node.
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.crt" -days 1 \
            -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
        TPORT=$(free_port)
        "$BIN" serve --demo --listen "127.0.0.1:$TPORT" --db "$WORK/tls.db" --tls-cert "$WORK/tls.crt" \
            --tls-key "$WORK/tls.key" >"$WORK/serve-tls.log" 2>&1 &
        PIDS+=($!)
        wait_port "$TPORT" || exit 1
        TTOKEN=$(grep -o 'sr_[A-Za-z0-9_-]*' "$WORK/serve-tls.log" | head -1)
        # The OAuth client is the demo's key: client_id syncrun-key-<key id>, secret its token.
        KEY_ID=$("$BIN" key list --db "$WORK/tls.db" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
        BC_CONN=$(curl -sf --cacert "$WORK/tls.crt" -H "Authorization: Bearer $TTOKEN" "https://127.0.0.1:$TPORT/v1/connections" |
            "$PY" -c 'import json,sys; print(json.load(sys.stdin)["data"][-1]["uuid"])')
        run_client "$c" env NODE_EXTRA_CA_CERTS="$WORK/tls.crt" node "$HERE/run_blueconic_mcp.mjs" "$SRC/blueconic-mcp" \
            "https://127.0.0.1:$TPORT" "syncrun-key-$KEY_ID" "$TTOKEN" "$BC_CONN" ;;
    *) echo "unknown client $c" >&2; exit 2 ;;
    esac
done

echo
echo "==== requests the clients made (status, method, path)"
"$PY" - "$WORK/requests.jsonl" <<'PYEOF'
import json, sys
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for l in lines:
    e = json.loads(l)
    print(f"{e['client']:15} {e['status']} {e['method']:5} {e['path']}")
PYEOF
echo
echo "==== summary"
rc=0
for c in "${ORDER[@]}"; do
    echo "$c: ${RESULT[$c]}"
    [[ ${RESULT[$c]} == ok ]] || rc=1
done
exit $rc
