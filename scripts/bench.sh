#!/usr/bin/env bash
# Runs the benchmarks of SppFunctions (tests/SppFunctions.Benchmarks) and writes docs/BENCHMARKS.md:
#   installs the pinned Azurite (npm ci), starts it on free loopback ports with a throw-away account (as test.sh does),
#   builds the benchmarks in Release, runs intake, processing, polling and memory against their floors, stops Azurite.
# With arguments (e.g. --only intake --quick) it runs just those and prints the results without touching
# docs/BENCHMARKS.md. A full run takes a few minutes on 2 cores. --help prints the usage and starts nothing.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: ./scripts/bench.sh [--only PARTS] [--quick] [--profile]

Measures intake, processing, polling and memory against their floors on loopback (Azurite, started on free ports
with a throw-away account, and the fake SPP server), then prints one line saying which goals are met and which are not.
Without arguments it runs everything (a few minutes on 2 cores) and writes docs/BENCHMARKS.md.

  --only PARTS   run only these, comma-separated: intake, processing, polling, memory (prints, writes nothing)
  --quick        a fifth of the iterations, for trying a change (prints, writes nothing)
  --profile      with --only processing: an allocation profile of the hot path instead of measuring
  -h, --help     print this and exit
USAGE
}

# Arguments are checked before anything starts.
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    -h|--help) usage; exit 0 ;;
    --quick|--profile) ;;
    --only)
      parts=${args[i + 1]:-}
      [ -n "$parts" ] || { echo "error: --only needs a list, e.g. --only intake,processing" >&2; usage >&2; exit 2; }
      IFS=, read -ra names <<<"$parts"
      for name in "${names[@]}"; do
        case "$name" in
          intake|processing|polling|memory) ;;
          *) echo "error: --only: unknown part '$name' (intake, processing, polling, memory)" >&2; usage >&2; exit 2 ;;
        esac
      done
      i=$((i + 1)) ;;
    *) echo "error: unknown argument '${args[i]}'" >&2; usage >&2; exit 2 ;;
  esac
done

source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
root=$(repo_root)
cd "$root"
require_tools
ensure_azurite_installed

work=$(mktemp -d "${TMPDIR:-/tmp}/sppfunctions-bench.XXXXXX")
cleanup() { stop_azurite; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start_throwaway_azurite sppfunctionsbench "$work"
export SPP_BENCH_STORAGE="$THROWAWAY_STORAGE"
export SPP_BENCH_AZURITE_VERSION="$(node_modules/.bin/azurite --version)"
export SPP_BENCH_NODE_VERSION="$(node --version)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

project=tests/SppFunctions.Benchmarks/SppFunctions.Benchmarks.csproj
dotnet build "$project" -c Release --nologo -v quiet
dll=tests/SppFunctions.Benchmarks/bin/Release/net10.0/SppFunctions.Benchmarks.dll
if [ "$#" -eq 0 ]; then
  dotnet "$dll" --out docs/BENCHMARKS.md --notes docs/benchmarks-notes.md
else
  dotnet "$dll" "$@"
fi
