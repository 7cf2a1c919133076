# Shared helpers for scripts/test.sh and scripts/run-local.sh. Source it; do not run it.

# The repository root.
repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

die() { echo "error: $*" >&2; exit 1; }

# Checks the tools every script needs and says how to get a missing one.
require_tools() {
  command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK is required (https://dot.net); 'dotnet' is not on PATH."
  command -v node >/dev/null 2>&1 || die "Node.js 20 or later is required for Azurite; 'node' is not on PATH."
  command -v npm >/dev/null 2>&1 || die "npm is required for Azurite; 'npm' is not on PATH."
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or later is required (found $(node --version))."
}

# Installs the pinned Azurite from package-lock.json when node_modules is missing or older than the lock file.
ensure_azurite_installed() {
  local root; root=$(repo_root)
  if [ ! -x "$root/node_modules/.bin/azurite" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    echo "Installing the pinned Azurite (npm ci)..."
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed: cannot install Azurite."
  fi
}

# Prints N free TCP ports on 127.0.0.1, one per line.
free_ports() {
  node -e '
    const net = require("net");
    const n = Number(process.argv[1]);
    const servers = [];
    let done = 0;
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      s.listen(0, "127.0.0.1", () => { if (++done === n) { servers.forEach(x => console.log(x.address().port)); servers.forEach(x => x.close()); } });
    }' "$1"
}

# Waits until 127.0.0.1:$1 accepts connections (up to $2 seconds).
wait_for_port() {
  local port=$1 seconds=${2:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Starts Azurite in the background.
#   start_azurite <data dir> <blob port> <queue port> <table port> [log file]
# Sets AZURITE_PID. Uses AZURITE_ACCOUNTS from the environment when set.
start_azurite() {
  local root dir=$1 blob=$2 queue=$3 table=$4 log=${5:-/dev/null}
  root=$(repo_root)
  mkdir -p "$dir"
  "$root/node_modules/.bin/azurite" --silent --disableTelemetry --skipApiVersionCheck --loose \
    --location "$dir" \
    --blobHost 127.0.0.1 --blobPort "$blob" \
    --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" >"$log" 2>&1 &
  AZURITE_PID=$!
  for port in "$blob" "$queue" "$table"; do
    if ! wait_for_port "$port" 30; then
      kill "$AZURITE_PID" 2>/dev/null || true
      cat "$log" >&2 2>/dev/null || true
      die "Azurite did not start listening on 127.0.0.1:$port."
    fi
  done
}

# Stops the Azurite started by start_azurite.
stop_azurite() {
  if [ -n "${AZURITE_PID:-}" ] && kill -0 "$AZURITE_PID" 2>/dev/null; then
    kill "$AZURITE_PID" 2>/dev/null || true
    wait "$AZURITE_PID" 2>/dev/null || true
  fi
  AZURITE_PID=
}

# Starts a throw-away Azurite for tests or benchmarks: free loopback ports, a storage account <name> with a random key
# (no well-known key anywhere), data under <work dir>. Sets AZURITE_PID and THROWAWAY_STORAGE (its connection string).
#   start_throwaway_azurite <account name> <work dir>
start_throwaway_azurite() {
  local account=$1 dir=$2 key ports
  key=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
  mapfile -t ports < <(free_ports 3)
  AZURITE_ACCOUNTS="$account:$key" start_azurite "$dir/azurite" "${ports[0]}" "${ports[1]}" "${ports[2]}" "$dir/azurite.log"
  echo "Azurite $("$(repo_root)/node_modules/.bin/azurite" --version) on 127.0.0.1:${ports[0]}/${ports[1]}/${ports[2]}"
  THROWAWAY_STORAGE="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=http://127.0.0.1:${ports[0]}/$account;QueueEndpoint=http://127.0.0.1:${ports[1]}/$account;TableEndpoint=http://127.0.0.1:${ports[2]}/$account;"
}
