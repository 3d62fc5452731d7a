#!/usr/bin/env bash
# Drives `arclink emulator` with Microsoft's Python SDK (tests/sdk/flow.py) and the Azure CLI,
# as a user pointing them at the emulator would.
#
#   tests/sdk/run.sh [path/to/arclink]        (default: target/debug/arclink)
#
# Needs python3 (3.9+) and PyPI. Creates two virtual environments on first use (the CLI pins its
# own SDK versions): $ARCLINK_SDK_VENV (default target/sdk-venv) and $ARCLINK_CLI_VENV (default
# target/cli-venv); ARCLINK_SDK_SKIP_CLI=1 leaves the CLI out. Prints the time each part took.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arclink=${1:-$repo/target/debug/arclink}
sdk_venv=${ARCLINK_SDK_VENV:-$repo/target/sdk-venv}
cli_venv=${ARCLINK_CLI_VENV:-$repo/target/cli-venv}
work=$(mktemp -d)
emulator_pid=
cleanup() {
    if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

seconds() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f s", b - a }'; }

# A virtual environment with the packages of a requirements file; reused while they match.
venv() {
    local dir=$1 requirements=$2
    if ! cmp -s "$requirements" "$dir/.arclink-requirements" 2>/dev/null; then
        python3 -m venv "$dir"
        "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        cp "$requirements" "$dir/.arclink-requirements"
    fi
}

t=$(seconds)
venv "$sdk_venv" "$here/requirements-sdk.txt"
echo "timing: SDK virtual environment ready in $(took "$t")"
if [ "${ARCLINK_SDK_SKIP_CLI:-}" != 1 ]; then
    t=$(seconds)
    venv "$cli_venv" "$here/requirements-cli.txt"
    echo "timing: CLI virtual environment ready in $(took "$t")"
fi

port=$("$sdk_venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="https://127.0.0.1:$port"
"$arclink" emulator --bind "127.0.0.1:$port" --fixtures "$here/fixtures.yaml" --ca-out "$work/ca.pem" \
    --lro-duration 1s --retry-after 1 --page-size 2 >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do
    grep -q "listening" "$work/emulator.log" 2>/dev/null && [ -s "$work/ca.pem" ] && break
    sleep 0.1
done
grep -q "listening" "$work/emulator.log" || { cat "$work/emulator.log"; exit 1; }

# The emulator's CA for `requests` (the SDK and MSAL) and for the CLI.
export REQUESTS_CA_BUNDLE="$work/ca.pem" SSL_CERT_FILE="$work/ca.pem"
export ARM_ENDPOINT=$endpoint
export SUBSCRIPTION=11111111-2222-3333-4444-555555555555
export AZURE_TENANT_ID=99999999-8888-7777-6666-555555555555
export AZURE_CLIENT_ID=0a0a0a0a-1b1b-2c2c-3d3d-4e4e4e4e4e4e
export AZURE_CLIENT_SECRET=sdk-flow-secret
EMULATOR_ADMIN_TOKEN=$(sed -n 's/.*Authorization: Bearer //p' "$work/emulator.log")
export EMULATOR_ADMIN_TOKEN

t=$(seconds)
"$sdk_venv/bin/python" "$here/flow.py"
echo "timing: SDK flow in $(took "$t")"

if [ "${ARCLINK_SDK_SKIP_CLI:-}" != 1 ]; then
    t=$(seconds)
    export AZURE_CONFIG_DIR="$work/az" AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_ONLY_SHOW_ERRORS=true
    # MSAL would ask login.microsoftonline.com to vouch for the emulator's login endpoint.
    export AZURE_CORE_INSTANCE_DISCOVERY=false
    az() { "$cli_venv/bin/az" "$@"; }
    check() { echo "ok az $*"; }
    az cloud register --name ArclinkEmulator --endpoint-resource-manager "$endpoint" >/dev/null
    az cloud set --name ArclinkEmulator
    check cloud register
    az login --service-principal --username "$AZURE_CLIENT_ID" --password "$AZURE_CLIENT_SECRET" \
        --tenant "$AZURE_TENANT_ID" >/dev/null
    [ "$(az account show --query id -o tsv)" = "$SUBSCRIPTION" ]
    check login --service-principal
    [ "$(az group show --name net --query location -o tsv)" = westeurope ]
    check group show
    [ "$(az network vnet subnet show -g net --vnet-name vnet1 -n endpoints --query addressPrefix -o tsv)" = 10.0.1.0/24 ]
    check network vnet subnet show
    [ "$(az network private-dns zone create -g net -n cli.example --query provisioningState -o tsv)" = Succeeded ]
    check network private-dns zone create
    scope=$(az resource create -g rg1 -n cli-scope --resource-type Microsoft.HybridCompute/privateLinkScopes \
        --location westeurope --properties '{"publicNetworkAccess": "Disabled"}' --query id -o tsv)
    [ "$(az resource show --ids "$scope" --query properties.publicNetworkAccess -o tsv)" = Disabled ]
    check resource create
    az network private-dns zone delete -g net -n cli.example --yes
    az resource delete --ids "$scope"
    check deletes
    echo "timing: CLI flow in $(took "$t")"
fi
echo "sdk/cli flow passed"
