#!/usr/bin/env bash
# Counts the instructions the server spends per request, with valgrind's callgrind: a count
# that repeats from run to run whatever else the machine does, unlike req/s.
#
# It runs the release binary (target/release/server) and the baseline
# (target/release/bench-baseline) under callgrind. For each case it sends CALLGRIND_WARMUP
# requests, zeroes the counters (callgrind_control -z), and sends CALLGRIND_REQUESTS requests
# over one keep-alive connection with curl. Then it dumps the counters (callgrind_control -d)
# and prints the instructions per request. The dumps stay in CALLGRIND_OUT (default
# target/callgrind) for callgrind_annotate.
#
# Valgrind's CPU has no SHA extensions, so SHA-256 runs its portable code here and counts
# several times what it costs on a CPU with them.
#
# Build first: `cargo leptos build --release --precompress` and
# `cargo build --release -p bench-baseline` (scripts/bench.sh does both).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

REQUESTS="${CALLGRIND_REQUESTS:-500}"
WARMUP="${CALLGRIND_WARMUP:-50}"
OUT="${CALLGRIND_OUT:-$repo_root/target/callgrind}"
binary="$repo_root/target/release/server"
baseline_binary="$repo_root/target/release/bench-baseline"

for tool in valgrind callgrind_control curl node; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "error: $tool is missing (apt-get install -y valgrind curl nodejs)" >&2
    exit 1
  }
done
for file in "$binary" "$baseline_binary"; do
  [ -x "$file" ] || {
    echo "error: $file is missing; build it first (see the comment at the top)" >&2
    exit 1
  }
done

rm -rf "$OUT"
mkdir -p "$OUT"
work_dir="$(mktemp -d "${TMPDIR:-/tmp}/stepup-callgrind.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work_dir"
}
trap cleanup EXIT

free_port() {
  node -e '
    const server = require("node:net").createServer();
    server.listen(0, "127.0.0.1", () => {
      process.stdout.write(String(server.address().port));
      server.close();
    });'
}

# Waits up to 120 s (callgrind starts slowly) until $1 returns a 2xx status.
wait_for() {
  local deadline=$((SECONDS + 120))
  until curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "error: $1 did not respond within 120 s" >&2
      exit 1
    fi
    sleep 0.5
  done
}

op_port="$(free_port)"
app_port="$(free_port)"
baseline_port="$(free_port)"
op_origin="http://127.0.0.1:$op_port"
app_origin="http://127.0.0.1:$app_port"
baseline_origin="http://127.0.0.1:$baseline_port"

OP_PORT="$op_port" APP_ORIGIN="$app_origin" OP_CLIENT_SECRET="" OP_ACCESS_TOKEN_TTL=3600 \
  node end2end/provider/server.mjs >"$work_dir/provider.log" 2>&1 &
pids+=($!)
wait_for "$op_origin/.well-known/openid-configuration"

mkdir "$work_dir/run"
(
  cd "$work_dir/run"
  exec env -i RUST_LOG=warn STEPUP_ISSUER_URL="$op_origin" STEPUP_PUBLIC_URL="$app_origin" \
    STEPUP_LISTEN_ADDR="127.0.0.1:$app_port" STEPUP_LOGIN_RATE_LIMIT=0 \
    STEPUP_SESSION_STORE=memory \
    valgrind --tool=callgrind --callgrind-out-file="$OUT/server.%p.out" "$binary"
) >"$work_dir/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
valgrind --tool=callgrind --callgrind-out-file="$OUT/baseline.%p.out" \
  "$baseline_binary" "127.0.0.1:$baseline_port" >"$work_dir/baseline.log" 2>&1 &
baseline_pid=$!
pids+=("$baseline_pid")
wait_for "$app_origin/healthz"
wait_for "$baseline_origin/api/messages"

credentials="$(node bench/sign-in.mjs "$op_origin" "$app_origin")"
json_field() { node -e 'process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]])' "$credentials" "$1"; }
step_up_token="$(json_field stepUpToken)"
one_factor_token="$(json_field oneFactorToken)"
session_cookie="$(json_field sessionCookie)"

# Sends $1 requests to $2 over one connection, with header $3 when it is not empty.
send() {
  local count="$1" url="$2" header="$3" urls=()
  for _ in $(seq "$count"); do urls+=("$url"); done
  if [ -n "$header" ]; then
    curl -sS -H "$header" "${urls[@]}" >/dev/null
  else
    curl -sS "${urls[@]}" >/dev/null
  fi
}

# Prints the instructions per request of one case: name, pid, URL, header.
measure() {
  local name="$1" pid="$2" url="$3" header="$4"
  send "$WARMUP" "$url" "$header"
  callgrind_control -z "$pid" >/dev/null 2>&1
  send "$REQUESTS" "$url" "$header"
  callgrind_control -d "$name" "$pid" >/dev/null 2>&1
  local dump
  dump="$(ls -t "$OUT"/*.out.* | head -n 1)"
  mv "$dump" "$OUT/$name.out"
  local total
  total="$(awk '/^summary:/ { print $2 }' "$OUT/$name.out")"
  printf '%-18s %12s instructions per request\n' "$name" "$((total / REQUESTS))"
}

echo "callgrind, $REQUESTS requests per case after $WARMUP to warm up, one connection"
measure a_baseline "$baseline_pid" "$baseline_origin/api/messages" ""
measure b_api_ok "$server_pid" "$app_origin/api/messages" "Authorization: Bearer $step_up_token"
measure c_api_challenge "$server_pid" "$app_origin/api/messages" "Authorization: Bearer $one_factor_token"
measure d_ssr_profile "$server_pid" "$app_origin/profile" "Cookie: $session_cookie"
measure e_ssr_home "$server_pid" "$app_origin/" ""
measure f_healthz "$server_pid" "$app_origin/healthz" ""
echo "dumps: $OUT (callgrind_annotate --inclusive=yes FILE)"
