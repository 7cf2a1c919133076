#!/usr/bin/env bash
# Runs SppFunctions locally on Azurite:
#   checks the tools (Azure Functions Core Tools v4 is needed to host the app), installs the pinned Azurite,
#   creates local.settings.json from local.settings.sample.json when it is missing, starts Azurite with its data in
#   .azurite/ (kept between runs), builds the app and starts the Functions host. Ctrl-C stops everything it started.
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

ensure_azurite_installed

if [ ! -f local.settings.json ]; then
  cp local.settings.sample.json local.settings.json
  cat <<'MSG'
Created local.settings.json from local.settings.sample.json. Fill in before SPP calls can work:
  Spp__BaseUrl            your workspace API root, e.g. https://acme.spp.co/api/
  Spp__ApiKey             SPP admin → Modules → API → Settings
  Spp__WebhookTokens__0   the token SPP shows for your webhook (Modules → Webhooks)
local.settings.json is ignored by git; keep your secrets there.
MSG
fi

started_azurite=0
cleanup() {
  [ -n "${FUNC_PID:-}" ] && kill "$FUNC_PID" 2>/dev/null || true
  [ "$started_azurite" = 1 ] && stop_azurite
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if (exec 3<>/dev/tcp/127.0.0.1/10001) 2>/dev/null; then
  echo "A storage emulator already listens on 127.0.0.1:10001; using it."
else
  start_azurite "$root/.azurite" 10000 10001 10002 "$root/.azurite/azurite.log"
  started_azurite=1
  echo "Azurite started (data in .azurite/, log in .azurite/azurite.log)."
fi

dotnet build src/SppFunctions -c Debug --nologo -v quiet
cd src/SppFunctions/bin/Debug/net10.0
func host start &
FUNC_PID=$!
wait "$FUNC_PID"
