#!/usr/bin/env bash
# Runs Bentley's iTwin CLI (iTwin/itwin-cli, built from its source: dist/, bin/run.js) against
# syncrun: `itp imodel connection list`, `connection info`, `connection run create`,
# `connection run list`, `connection run info` until the run completes.
#
# Pointed at syncrun the CLI's own way: ITP_API_URL=<syncrun URL>. Its login needs Bentley's
# OpenID issuer, which syncrun is not, so the syncrun token is put in the CLI's token store
# (token.json in its cache directory, the file `itp auth login` writes) as a Service token.
#
# usage: run_itwin_cli.sh ITWIN_CLI_SRC URL TOKEN IMODEL_ID CONNECTION_UUID
set -uo pipefail
src=$1 url=$2 token=$3 imodel=$4 conn=$5
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export XDG_CACHE_HOME=$home/cache XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data
export ITP_API_URL=$url
mkdir -p "$XDG_CACHE_HOME/itp"
cat >"$XDG_CACHE_HOME/itp/token.json" <<JSON
{"apiUrl":"$url","issuerUrl":"https://ims.bentley.com","clientId":"syncrun","authToken":"Bearer $token",
 "authenticationType":"Service","expirationDate":"2099-01-01T00:00:00.000Z"}
JSON
failed=0
itp() {
    local name="itp $*" out
    if out=$(node "$src/bin/run.js" "$@" 2>&1); then
        echo "ok    $name: $(tr -s ' \n' ' ' <<<"$out" | cut -c1-400)"
        LAST=$out
        return 0
    fi
    echo "FAIL  $name: $(tr -s ' \n' ' ' <<<"$out" | cut -c1-600)"
    failed=$((failed + 1))
    LAST=
    return 1
}
itp imodel connection list --imodel-id "$imodel"
itp imodel connection info --connection-id "$conn"
itp imodel connection run create --connection-id "$conn"
if itp imodel connection run list --connection-id "$conn" --top 5; then
    run=$(node -e 'const r = JSON.parse(process.argv[1]); const runs = r.runs ?? r; console.log(runs[0].id)' "$LAST")
    for _ in $(seq 60); do
        itp imodel connection run info --connection-id "$conn" --connection-run-id "$run" >/dev/null || break
        state=$(node -e 'console.log(JSON.parse(process.argv[1]).state)' "$LAST")
        [[ $state == Completed ]] && break
        sleep 1
    done
    itp imodel connection run info --connection-id "$conn" --connection-run-id "$run"
    [[ ${state:-} == Completed ]] || { echo "FAIL  run $run did not reach Completed (last state ${state:-none})"; failed=$((failed + 1)); }
fi
exit $((failed > 0))
