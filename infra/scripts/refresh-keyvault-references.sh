#!/usr/bin/env bash
# Asks App Service to fetch the Function App's Key Vault references again, shows each one's status, and waits until all
# are resolved (role assignments take minutes to apply after a first deployment; until then the app would get the
# reference text instead of the secret, and it refuses to start). If one was unresolved, it restarts the app once all
# are, so the worker starts with the secrets. It changes no setting: safe to run again at any time.
#
# azd runs it after every provision (azure.yaml, postprovision). By hand:
#   infra/scripts/refresh-keyvault-references.sh [-g RESOURCE_GROUP] [-n FUNCTION_APP] [-s SUBSCRIPTION]
#                                                [--wait SECONDS] [--interval SECONDS]
# Needs the Azure CLI (2.60 or later), signed in with `az login`.
set -euo pipefail

readonly api_version=2022-03-01
# One row per reference: setting, status, details (no secret: App Service reports names and states only).
readonly status_query="value[].[name, properties.status, properties.details || '']"

usage() {
  cat <<USAGE
Usage: $(basename "$0") [-g RESOURCE_GROUP] [-n FUNCTION_APP] [-s SUBSCRIPTION] [--wait SECONDS] [--interval SECONDS]

Refreshes the Key Vault references of the Function App's settings, shows each one's status and waits until all are
resolved; restarts the app if one was not. Defaults come from the azd environment: AZURE_RESOURCE_GROUP,
AZURE_FUNCTION_APP_NAME, AZURE_SUBSCRIPTION_ID (else the Azure CLI's current subscription).

  --wait SECONDS      How long to wait for unresolved references (default 300).
  --interval SECONDS  Time between checks (default 15).
USAGE
}

resource_group=${AZURE_RESOURCE_GROUP:-}
app=${AZURE_FUNCTION_APP_NAME:-}
subscription=${AZURE_SUBSCRIPTION_ID:-}
wait_seconds=300
interval=15

while (($# > 0)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -g | --resource-group) resource_group=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    -n | --name) app=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    -s | --subscription) subscription=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --wait) wait_seconds=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --interval) interval=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    *) echo "error: unknown argument '$1'." >&2; usage >&2; exit 2 ;;
  esac
done

if [[ ! $wait_seconds =~ ^[0-9]+$ || ! $interval =~ ^[0-9]+$ ]]; then
  echo "error: --wait and --interval take a number of seconds." >&2
  exit 2
fi
if [[ -z $resource_group || -z $app ]]; then
  echo "error: name the app: -g <resource group> -n <function app> (azd sets AZURE_RESOURCE_GROUP and AZURE_FUNCTION_APP_NAME;" \
    "see 'azd env get-values')." >&2
  exit 2
fi
if ! command -v az >/dev/null 2>&1; then
  echo "error: the Azure CLI ('az') is not on PATH. Install it (2.60 or later), run 'az login', then run" \
    "infra/scripts/refresh-keyvault-references.sh again. The app refuses to start while a Key Vault reference is unresolved." >&2
  exit 1
fi
if [[ -z $subscription ]]; then
  if ! subscription=$(az account show --query id --output tsv) || [[ -z $subscription ]]; then
    echo "error: the Azure CLI is not signed in: run 'az login' (and 'az account set -s <subscription>'), then run this again." >&2
    exit 1
  fi
fi

site="/subscriptions/$subscription/resourceGroups/$resource_group/providers/Microsoft.Web/sites/$app"
references="https://management.azure.com$site/config/configreferences/appsettings"
deadline=$((SECONDS + wait_seconds))
check=0
was_unresolved=false

while true; do
  check=$((check + 1))
  if ! az rest --method post --url "$references/refresh?api-version=$api_version" --output none; then
    echo "error: App Service did not take the refresh of $app's Key Vault references (see the Azure CLI's message above)." >&2
    exit 1
  fi
  if ! rows=$(az rest --method get --url "$references?api-version=$api_version" --query "$status_query" --output tsv); then
    echo "error: could not read the status of $app's Key Vault references (see the Azure CLI's message above)." >&2
    exit 1
  fi

  total=0
  unresolved=0
  echo "Key Vault references of $app (check $check):"
  while IFS=$'\t' read -r name status details; do
    [[ -n $name ]] || continue
    total=$((total + 1))
    [[ $status == Resolved ]] || unresolved=$((unresolved + 1))
    printf '  %-32s %-24s %s\n' "${name##*/}" "$status" "$details"
  done <<<"$rows"

  if ((total == 0)); then
    echo "  (none: no app setting of $app is a Key Vault reference)"
    exit 0
  fi
  if ((unresolved == 0)); then
    break
  fi
  was_unresolved=true
  if ((SECONDS + interval >= deadline)); then
    echo "error: $unresolved of $total Key Vault references of $app are still unresolved after ${wait_seconds}s." >&2
    echo "The app refuses to start until they are. AccessToKeyVaultDenied right after a first deployment means the role" \
      "assignment has not applied yet: wait a few minutes and run infra/scripts/refresh-keyvault-references.sh again." \
      "Other states: see \"When Azure is slow\" in infra/README.md." >&2
    exit 1
  fi
  echo "$unresolved of $total not resolved yet; checking again in ${interval}s (until ${wait_seconds}s have passed)."
  sleep "$interval"
done

if [[ $was_unresolved == true ]]; then
  echo "Restarting $app so it starts with the secrets..."
  if ! az functionapp restart --resource-group "$resource_group" --name "$app" --subscription "$subscription" --output none; then
    echo "error: the restart failed (see the Azure CLI's message above); restart $app from the portal or with" \
      "'az functionapp restart -g $resource_group -n $app'." >&2
    exit 1
  fi
fi
echo "All $total Key Vault references of $app are resolved."
