#!/usr/bin/env bash
# Runs SppFunctions locally on Azurite:
#   checks the tools (Azure Functions Core Tools v4 is needed to host the app) before starting anything, creates
#   local.settings.json from local.settings.sample.json when it is missing (asking nothing), installs the pinned
#   Azurite, starts it with its data in .azurite/ (kept between runs), builds the app and starts the Functions host
#   (`func host start`). Ctrl-C stops everything it started: the host with its worker, the sandbox, and Azurite.
#
# SPP: while neither Spp__BaseUrl nor Spp__ApiKey is filled in (local.settings.json or the environment), the app runs
# against the SPP sandbox (`sppfn sandbox`: seeded sample data on 127.0.0.1): the script starts it and hands the app its
# URL, key and a webhook token through the environment (which wins over local.settings.json), and the walk-through's
# rules (rules.sandbox.json) while rules.json is empty. With SPP settings filled in, the app uses that workspace.
#
# Azurite listens on 127.0.0.1:10000 (blob), 10001 (queue) and 10002 (table), what UseDevelopmentStorage=true expects.
# SPPFN_AZURITE_BLOB_PORT / SPPFN_AZURITE_QUEUE_PORT / SPPFN_AZURITE_TABLE_PORT move them (the tests do, as those ports
# may be busy); then point AzureWebJobsStorage at them with an explicit connection string. SPPFN_SANDBOX_PORT moves the
# sandbox from 127.0.0.1:7072.
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
sandbox_port=${SPPFN_SANDBOX_PORT:-7072}

created_settings=0
if [ ! -f local.settings.json ]; then
  cp local.settings.sample.json local.settings.json
  created_settings=1
fi

# What the settings say, the environment winning as in the host: "sandbox" or "workspace"; whether the webhook token is
# filled in; the settings still holding the sample's placeholders.
mapfile -t facts < <(node -e '
  const values = (JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Values) || {};
  const placeholder = v => typeof v === "string" && /^\s*FILL-IN|YOUR-WORKSPACE/i.test(v);
  const value = k => (process.env[k] ?? "") !== "" ? process.env[k] : values[k];
  const unfilled = k => typeof value(k) !== "string" || value(k).trim() === "" || placeholder(value(k));
  console.log(unfilled("Spp__BaseUrl") && unfilled("Spp__ApiKey") ? "sandbox" : "workspace");
  console.log(unfilled("Spp__WebhookTokens__0") ? "no-token" : "token");
  console.log(Object.keys(values).filter(k => placeholder(values[k]) && (process.env[k] ?? "") === "").join(" "));
' local.settings.json) || die "local.settings.json is not valid JSON; fix it or delete it to start again from the sample."
spp_mode=${facts[0]}
token_state=${facts[1]}
unfilled=${facts[2]:-}

if [ "$spp_mode" = sandbox ]; then
  cat <<'MSG'
==> SANDBOX: no SPP settings are filled in, so the app runs against a local SPP sandbox: sample clients, orders,
    invoices, tickets and messages on 127.0.0.1, and nothing reaches a real SPP workspace.
    To use your workspace instead, fill in local.settings.json and run this script again:
      Spp__BaseUrl            your workspace API root, e.g. https://acme.spp.co/api/
      Spp__ApiKey             SPP admin → Modules → API → Settings
      Spp__WebhookTokens__0   the token SPP shows for your webhook (Modules → Webhooks)
MSG
  [ "$created_settings" = 0 ] || echo "Created local.settings.json from local.settings.sample.json (ignored by git; keep your secrets there)."
else
  if [ "$created_settings" = 1 ]; then
    cat <<'MSG'
Created local.settings.json from local.settings.sample.json. Fill these in: the app refuses to start until you do.
  Spp__BaseUrl            your workspace API root, e.g. https://acme.spp.co/api/
  Spp__ApiKey             SPP admin → Modules → API → Settings
  Spp__WebhookTokens__0   the token SPP shows for your webhook (Modules → Webhooks)
local.settings.json is ignored by git; keep your secrets there.
MSG
  elif [ -n "$unfilled" ]; then
    # The app refuses to start on the sample's placeholders, so say which.
    echo "note: local.settings.json still has placeholder values (the app will refuse to start) for: $unfilled"
  fi
fi

ensure_azurite_installed

started_azurite=0
FUNC_PID=
SANDBOX_PID=
sandbox_state="$root/.sandbox/sandbox.json"
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
  if [ -n "$SANDBOX_PID" ]; then
    if kill -0 "$SANDBOX_PID" 2>/dev/null; then
      echo "Stopping the SPP sandbox..."
      kill -TERM "$SANDBOX_PID" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do kill -0 "$SANDBOX_PID" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$SANDBOX_PID" 2>/dev/null || true
    fi
    wait "$SANDBOX_PID" 2>/dev/null || true
    rm -f "$sandbox_state"
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

if [ "$spp_mode" = sandbox ]; then
  echo "Building sppfn, which runs the sandbox..."
  dotnet build src/SppFunctions.Cli -c Debug --nologo -v quiet
  # Its lines are prefixed; sed ignores Ctrl-C so the sandbox's last lines still get through while it stops.
  dotnet src/SppFunctions.Cli/bin/Debug/net10.0/sppfn.dll sandbox --port "$sandbox_port" \
    > >(trap '' INT; exec sed -u 's/^/[sandbox] /') 2>&1 &
  SANDBOX_PID=$!
  # Started once its state file names it (it writes the file after it listens).
  for ((i = 0; i < 600; i++)); do
    kill -0 "$SANDBOX_PID" 2>/dev/null || die "the SPP sandbox did not start (its lines above say why)."
    if [ -f "$sandbox_state" ] &&
      node -e 'process.exit(require(process.argv[1]).ProcessId == process.argv[2] ? 0 : 1)' "$sandbox_state" "$SANDBOX_PID" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  [ -f "$sandbox_state" ] || die "the SPP sandbox did not start within a minute."
  mapfile -t sandbox_values < <(node -e '
    const v = require(process.argv[1]).Values;
    console.log(v.Spp__BaseUrl); console.log(v.Spp__ApiKey); console.log(v.Spp__WebhookTokens__0);' "$sandbox_state")
  export Spp__BaseUrl="${sandbox_values[0]}" Spp__ApiKey="${sandbox_values[1]}"
  [ "$token_state" = token ] || export Spp__WebhookTokens__0="${sandbox_values[2]}"
  echo "SPP sandbox on ${sandbox_values[0]}: the app gets its URL, key and webhook token (also in .sandbox/sandbox.json for sppfn)."
  rules_empty=$(node -e '
    try {
      const text = require("fs").readFileSync(process.argv[1], "utf8").replace(/^\s*\/\/.*$/gm, "");
      const file = JSON.parse(text);
      const rules = Array.isArray(file) ? file : file && file.rules;
      console.log(Array.isArray(rules) && rules.length === 0 ? "yes" : "no");
    } catch { console.log("no"); }' src/SppFunctions/rules.json)
  rules_path=${Rules__Path:-$(node -e '
    console.log((JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Values || {}).Rules__Path || "")' local.settings.json)}
  if [ -z "$rules_path" ] && [ "$rules_empty" = yes ]; then
    export Rules__Path=rules.sandbox.json
    echo "Rules: src/SppFunctions/rules.sandbox.json (thank new orders, answer client messages), as rules.json is empty."
  fi
  echo "Try it from another terminal (README, \"Try it in five minutes\"):"
  echo "  dotnet run --project src/SppFunctions.Cli -- send --event order.created"
  echo "  dotnet run --project src/SppFunctions.Cli -- messages list 666AF315"
fi

out=src/SppFunctions/bin/Debug/net10.0
cp local.settings.json "$out/local.settings.json"
cd "$out"
echo "Starting the Functions host (func host start). Ctrl-C stops it$([ -n "$SANDBOX_PID" ] && echo ", the sandbox") and Azurite."
set -m # the host and its worker get a process group of their own, which cleanup stops as a whole
func host start &
FUNC_PID=$!
set +m
status=0
wait "$FUNC_PID" || status=$?
exit "$status"
