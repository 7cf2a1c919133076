#!/usr/bin/env bash
# Runs the benchmarks of SppFunctions (tests/SppFunctions.Benchmarks) and writes docs/BENCHMARKS.md:
#   installs the pinned Azurite (npm ci), starts it on free loopback ports with a throw-away account (as test.sh does),
#   builds the benchmarks in Release, runs intake, processing, polling and memory against their floors, stops Azurite.
# With arguments (e.g. --only intake --quick) it runs just those and prints the results without touching
# docs/BENCHMARKS.md. A full run takes a few minutes on 2 cores.
set -euo pipefail
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
