#!/usr/bin/env bash
# Runs SppFunctions locally on Azurite:
#   checks the tools (Azure Functions Core Tools v4 is needed to host the app) before starting anything, installs the
#   pinned Azurite, creates local.settings.json from local.settings.sample.json when it is missing (asking nothing),
#   starts Azurite with its data in .azurite/ (kept between runs), builds the app and starts the Functions host
#   (`func host start`). Ctrl-C stops everything it started: the host with its worker, and Azurite.
#
# Azurite listens on 127.0.0.1:10000 (blob), 10001 (queue) and 10002 (table), what UseDevelopmentStorage=true expects.
# SPPFN_AZURITE_BLOB_PORT / SPPFN_AZURITE_QUEUE_PORT / SPPFN_AZURITE_TABLE_PORT move them (the tests do, as those ports
# may be busy); then point AzureWebJobsStorage at them with an explicit connection string.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
root=$(repo_root)
cd "$root"
require_tools

if ! command -v func >/dev/null 2>&1; then
  cat >&2 <<'MSG'
error: Azure Functions Core Tools v4 ('func') is not on PATH; it hosts the app locally.
Install it, then run this script again:
  npm install -g azure-functions-core-tools@4 --unsafe-perm true
  (or see https://learn.microsoft.com/azure/azure-functions/functions-run-local#install-the-azure-functions-core-tools)
Nothing was started.
MSG
  exit 127
fi

blob_port=${SPPFN_AZURITE_BLOB_PORT:-10000}
queue_port=${SPPFN_AZURITE_QUEUE_PORT:-10001}
table_port=${SPPFN_AZURITE_TABLE_PORT:-10002}

ensure_azurite_installed

created_settings=0
if [ ! -f local.settings.json ]; then
  cp local.settings.sample.json local.settings.json
  created_settings=1
  cat <<'MSG'
Created local.settings.json from local.settings.sample.json. Fill these in: the app refuses to start until you do.
  Spp__BaseUrl            your workspace API root, e.g. https://acme.spp.co/api/
  Spp__ApiKey             SPP admin → Modules → API → Settings
  Spp__WebhookTokens__0   the token SPP shows for your webhook (Modules → Webhooks)
local.settings.json is ignored by git; keep your secrets there.
MSG
fi
# Values still holding the sample's placeholders: the app refuses to start on them, so say which.
unfilled=$(node -e '
  const values = (JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Values) || {};
  console.log(Object.entries(values).filter(([, v]) => typeof v === "string" && /^FILL-IN|YOUR-WORKSPACE/i.test(v)).map(([k]) => k).join(" "));
' local.settings.json) || die "local.settings.json is not valid JSON; fix it or delete it to start again from the sample."
if [ -n "$unfilled" ] && [ "$created_settings" = 0 ]; then
  echo "note: local.settings.json still has placeholder values (the app will refuse to start) for: $unfilled"
fi

started_azurite=0
FUNC_PID=
cleanup() {
  trap - INT TERM
  # The host runs in a process group of its own (led by FUNC_PID): stop it with its worker, forcibly if it lingers.
  if [ -n "$FUNC_PID" ] && kill -0 -- "-$FUNC_PID" 2>/dev/null; then
    echo "Stopping the Functions host..."
    kill -TERM -- "-$FUNC_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 -- "-$FUNC_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$FUNC_PID" 2>/dev/null || true
    wait "$FUNC_PID" 2>/dev/null || true
  fi
  if [ "$started_azurite" = 1 ]; then
    echo "Stopping Azurite..."
    stop_azurite
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if (exec 3<>"/dev/tcp/127.0.0.1/$queue_port") 2>/dev/null; then
  echo "A storage emulator already listens on 127.0.0.1:$queue_port; using it (it is left running)."
else
  start_azurite "$root/.azurite" "$blob_port" "$queue_port" "$table_port" "$root/.azurite/azurite.log"
  started_azurite=1
  echo "Azurite started on 127.0.0.1:$blob_port/$queue_port/$table_port (data in .azurite/, log in .azurite/azurite.log)."
fi

echo "Building the app..."
dotnet build src/SppFunctions -c Debug --nologo -v quiet
out=src/SppFunctions/bin/Debug/net10.0
cp local.settings.json "$out/local.settings.json"
cd "$out"
echo "Starting the Functions host (func host start). Ctrl-C stops it and Azurite."
set -m # the host and its worker get a process group of their own, which cleanup stops as a whole
func host start &
FUNC_PID=$!
set +m
status=0
wait "$FUNC_PID" || status=$?
exit "$status"
