#!/usr/bin/env bash
# Runs every test of SppFunctions from a fresh clone:
#   installs the pinned Azurite (npm ci), starts it on free loopback ports with a throw-away account,
#   builds and runs all test projects against it (and the Bicep checks), stops Azurite, and prints
#   "N passed, N failed" as its last line. Extra arguments go to `dotnet test` (e.g. --filter Name~Webhook).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
root=$(repo_root)
cd "$root"
require_tools
ensure_azurite_installed

work=$(mktemp -d "${TMPDIR:-/tmp}/sppfunctions-test.XXXXXX")
cleanup() { stop_azurite; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# A throw-away storage account with a random key: no well-known key in the repository or the logs.
start_throwaway_azurite sppfunctionstest "$work"
export SPP_TEST_STORAGE="$THROWAWAY_STORAGE"
export SPP_TEST_AZURITE="$root/node_modules/.bin/azurite"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

results="$work/results"
set +e
dotnet test SppFunctions.sln -c Release --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" "$@"
status=$?
set -e

passed=0; failed=0; found=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  found=1
  counters=$(grep -o '<Counters [^>]*' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host failed before reporting results: count it, never report a clean run.
  failed=$((failed + 1)); echo "dotnet test exited with $status without a failing test result (build error or crashed test host)." >&2
fi
[ "$found" -eq 1 ] || echo "No test results were written." >&2
echo "$passed passed, $failed failed"
exit "$status"
