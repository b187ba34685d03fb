#!/usr/bin/env bash
# Load test of the release binary on 127.0.0.1, against a bare axum baseline. BENCHMARKS.md
# records the results and how to read them.
#
# 1. Builds the release binary (`cargo leptos build --release --precompress`) and the
#    baseline (`cargo build --release -p bench-baseline`).
# 2. Starts the local provider, the server (memory sessions, sign-in rate limit off) and the
#    baseline on free ports, and signs alice in with bench/sign-in.mjs.
# 3. Runs wrk for BENCH_SECONDS (default 10) at BENCH_CONNECTIONS (default 64) against:
#      a. the baseline's GET /api/messages,
#      b. GET /api/messages with a two-factor bearer token (200),
#      c. GET /api/messages with a one-factor bearer token (401 step-up challenge),
#      d. GET /profile (server-side rendering) with a two-factor session cookie,
#      e. GET / (server-side rendering) without a cookie,
#    and, to explain those, f. GET /healthz on the server, and g and h: d and e with
#    `Connection: close`,
#    for BENCH_ROUNDS rounds (default 3), in reverse order every other round, and prints the
#    medians and the ratios b/a, c/a and d/e.
# 4. Prints the first-load bytes of / and of /transfers (the files under /pkg/ that each
#    references, raw, gzip and brotli): / has no island, /transfers loads the wasm.
# 5. Restarts the server with the SQLite session store and prints its resident memory idle
#    and after BENCH_SESSIONS (default 10000) sign-in starts, each of which stores a session.
# 6. Writes the results, with the machine, the tool versions and the command line, into
#    BENCHMARKS.md between its "bench.sh results" markers (BENCH_WRITE=0 leaves it alone).
#
# Step 0, before the build, runs the criterion micro benchmarks (`cargo bench`, about 5
# minutes with their build); BENCH_MICRO=0 skips them. They go first because
# `cargo bench -p server` writes target/release/server too, without the LEPTOS_* settings
# that cargo-leptos passes, and the build in step 1 puts the right binary back.
# Set BENCH_SKIP_BUILD=1 to use target/release/server as it is (and skip step 0).
# Every server this script starts is stopped on exit.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

BENCH_SECONDS="${BENCH_SECONDS:-10}"
BENCH_CONNECTIONS="${BENCH_CONNECTIONS:-64}"
BENCH_THREADS="${BENCH_THREADS:-2}"
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"
BENCH_SESSIONS="${BENCH_SESSIONS:-10000}"
# How long a server may take to respond to /healthz. The server retries provider discovery
# for up to 60 s before it listens.
START_TIMEOUT_SECS=90

step() { printf '\n==> %s\n' "$*"; }

missing=()
for tool in cargo cargo-leptos node curl wrk awk; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "error: missing tools: ${missing[*]}" >&2
  echo "Run ./scripts/setup.sh for the Rust tools, and 'apt-get install -y wrk curl nodejs' for the rest." >&2
  exit 1
fi

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/stepup-bench.XXXXXX")"
mkdir "$work_dir/run" "$work_dir/fetch"
provider_pid=""
server_pid=""
baseline_pid=""

# Stops a process and waits for it, forcing it after 5 seconds.
stop_process() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  stop_process "$baseline_pid"
  stop_process "$server_pid"
  stop_process "$provider_pid"
  if [ "$status" -ne 0 ]; then
    for log_file in "$work_dir"/*.log; do
      if [ -s "$log_file" ]; then
        printf '\n--- last lines of %s ---\n' "$(basename "$log_file")"
        tail -n 30 "$log_file"
      fi
    done
  fi
  rm -rf "$work_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The Markdown that step 6 writes into BENCHMARKS.md; `report` appends its arguments.
report_file="$work_dir/report.md"
report() { printf '%s\n' "$@" >>"$report_file"; }

# Names the setting $1 with its value, for the command line in the report.
setting() { printf '%s=%s ' "$1" "${!1}"; }

# Prints the first line that command $@ writes (wrk --version exits with 1), or "not found".
first_line() {
  local output
  output="$("$@" 2>&1 | head -n 1)" || true
  printf '%s' "${output:-not found}"
}

cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)"
cpu_sha="$(grep -qw sha_ni /proc/cpuinfo 2>/dev/null && echo "with SHA extensions (sha_ni)" || echo "without SHA extensions")"
memory_gib="$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo 2>/dev/null)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
# BENCHMARKS.md itself does not count: this script rewrites it.
git diff --quiet HEAD -- . ':!BENCHMARKS.md' 2>/dev/null || commit="$commit with uncommitted changes"
report "Run of $(date -u +%Y-%m-%d) at commit \`$commit\`, written by \`scripts/bench.sh\`:" "" \
  "\`\`\`sh" \
  "$(setting BENCH_ROUNDS)$(setting BENCH_SECONDS)$(setting BENCH_CONNECTIONS)$(setting BENCH_THREADS)$(setting BENCH_SESSIONS)./scripts/bench.sh" \
  "\`\`\`" "" \
  "| What | Value |" "| --- | --- |" \
  "| CPU | ${cpu_model:-unknown}, $(nproc) cores, $cpu_sha |" \
  "| Memory, kernel | ${memory_gib:-?} GiB, Linux $(uname -r) |" \
  "| Rust | $(first_line rustc --version), $(first_line cargo leptos --version), wasm-opt $(first_line wasm-opt --version | awk '{ print $3 }') |" \
  "| Load generator | $(first_line wrk --version | awk '{ print $1, $2 }'), $(first_line curl --version | awk '{ print $1, $2 }') |" \
  "| Node.js | $(first_line node --version) |" ""

# --- 0. Micro benchmarks ----------------------------------------------------------------------

# Prints the median estimate of criterion benchmark $1 (group/name) in a readable unit.
criterion_median() {
  node -e '
    const file = `target/criterion/${process.argv[1]}/new/estimates.json`;
    const ns = JSON.parse(require("node:fs").readFileSync(file, "utf8")).median.point_estimate;
    const text = ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
    process.stdout.write(`${text} | ${Math.round(1e9 / ns).toLocaleString("en-US")}`);
  ' "$1"
}

if [ "${BENCH_MICRO:-1}" = 1 ] && [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  criterion_args=(--warm-up-time 1 --measurement-time 3)
  step "micro benchmarks: cargo bench -- ${criterion_args[*]}"
  cargo bench -p stepup --bench challenge_codec -- "${criterion_args[@]}"
  cargo bench -p server --bench token_verification -- "${criterion_args[@]}"
  report "### Micro benchmarks" "" \
    "criterion, \`${criterion_args[*]}\`, median estimates." "" \
    "| Benchmark | Time | Per second, one core |" "| --- | ---: | ---: |"
  for bench in access_token/verify_rs256 access_token/verify_rs256_and_decide \
    access_token/verify_cached access_token/verify_cached_and_decide access_token/decide_only \
    challenge/parse_step_up challenge/parse_after_basic challenge/format_step_up; do
    report "| \`$bench\` | $(criterion_median "$bench") |"
  done
  report ""
fi

# --- 1. Build ---------------------------------------------------------------------------------

binary=target/release/server
# Cargo skips what is fresh, so this is quick when nothing changed. It is never skipped on a
# timestamp check: `cargo bench -p server` writes target/release/server too, without the
# LEPTOS_* environment that cargo-leptos sets, and possibly before the site it embeds was built.
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ] && [ -x "$binary" ]; then
  step "using $binary as it is (BENCH_SKIP_BUILD=1)"
else
  step "release build: cargo leptos build --release --precompress"
  cargo leptos build --release --precompress
fi
step "baseline build: cargo build --release -p bench-baseline"
cargo build --release -p bench-baseline
baseline_binary=target/release/bench-baseline

# --- 2. Servers and credentials ---------------------------------------------------------------


# Prints a TCP port of 127.0.0.1 that was free a moment ago.
free_port() {
  node -e '
    const server = require("node:net").createServer();
    server.listen(0, "127.0.0.1", () => {
      process.stdout.write(String(server.address().port));
      server.close();
    });'
}

# Waits until $1 (a URL) returns a 2xx status, while process $2 runs.
wait_for() {
  local url="$1" pid="$2"
  local deadline=$((SECONDS + START_TIMEOUT_SECS))
  until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: the process behind $url exited before it responded" >&2
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "error: $url did not respond within $START_TIMEOUT_SECS s" >&2
      exit 1
    fi
    sleep 0.2
  done
}

op_port="$(free_port)"
app_port="$(free_port)"
baseline_port="$(free_port)"
op_origin="http://127.0.0.1:$op_port"
app_origin="http://127.0.0.1:$app_port"
baseline_origin="http://127.0.0.1:$baseline_port"

# Starts the release binary from an empty folder with only the STEPUP_* settings given as
# arguments (NAME=VALUE), as a deployment would run it. Logs at `warn`, so the audit event of
# every API decision (info) is not written during the load test.
start_server() {
  (
    cd "$work_dir/run"
    exec env -i RUST_LOG=warn STEPUP_LOG_FORMAT=json \
      STEPUP_ISSUER_URL="$op_origin" STEPUP_PUBLIC_URL="$app_origin" \
      STEPUP_LISTEN_ADDR="127.0.0.1:$app_port" STEPUP_LOGIN_RATE_LIMIT=0 \
      "$@" "$repo_root/$binary"
  ) >>"$work_dir/server.log" 2>&1 &
  server_pid=$!
  wait_for "$app_origin/healthz" "$server_pid"
}

step "start the provider on $op_origin, the server on $app_origin, the baseline on $baseline_origin"
# Tokens live for an hour so none expires during the runs.
OP_PORT="$op_port" APP_ORIGIN="$app_origin" OP_CLIENT_SECRET="" OP_ACCESS_TOKEN_TTL=3600 \
  node end2end/provider/server.mjs >"$work_dir/provider.log" 2>&1 &
provider_pid=$!
wait_for "$op_origin/.well-known/openid-configuration" "$provider_pid"
start_server STEPUP_SESSION_STORE=memory
"$baseline_binary" "127.0.0.1:$baseline_port" >"$work_dir/baseline.log" 2>&1 &
baseline_pid=$!
wait_for "$baseline_origin/api/messages" "$baseline_pid"

step "sign alice in (bench/sign-in.mjs)"
credentials="$(node bench/sign-in.mjs "$op_origin" "$app_origin")"
json_field() { node -e 'process.stdout.write(JSON.parse(process.argv[1])[process.argv[2]])' "$credentials" "$1"; }
step_up_token="$(json_field stepUpToken)"
one_factor_token="$(json_field oneFactorToken)"
session_cookie="$(json_field sessionCookie)"

# Each case: name, URL, and the extra request headers, one per line ("" for none). Cases f to h
# only explain the others and have no target: f is the real server's router and middleware
# without a token, and g and h are d and e on a new connection per request.
case_names=(a_baseline b_api_ok c_api_challenge d_ssr_profile e_ssr_home
  f_healthz g_profile_close h_home_close)
declare -A case_url=(
  [a_baseline]="$baseline_origin/api/messages"
  [b_api_ok]="$app_origin/api/messages"
  [c_api_challenge]="$app_origin/api/messages"
  [d_ssr_profile]="$app_origin/profile"
  [e_ssr_home]="$app_origin/"
  [f_healthz]="$app_origin/healthz"
  [g_profile_close]="$app_origin/profile"
  [h_home_close]="$app_origin/"
)
declare -A case_header=(
  [a_baseline]=""
  [b_api_ok]="Authorization: Bearer $step_up_token"
  [c_api_challenge]="Authorization: Bearer $one_factor_token"
  [d_ssr_profile]="Cookie: $session_cookie"
  [e_ssr_home]=""
  [f_healthz]=""
  [g_profile_close]="Cookie: $session_cookie"$'\n'"Connection: close"
  [h_home_close]="Connection: close"
)
declare -A case_status=(
  [a_baseline]=200 [b_api_ok]=200 [c_api_challenge]=401 [d_ssr_profile]=200 [e_ssr_home]=200
  [f_healthz]=200 [g_profile_close]=200 [h_home_close]=200
)

# Sets header_args to curl or wrk arguments for the headers of case $1.
set_header_args() {
  header_args=()
  local line
  while IFS= read -r line; do
    [ -z "$line" ] || header_args+=(-H "$line")
  done <<<"${case_header[$1]}"
}

# Sends one request of case $1 and fails when its status, or for the challenge case its
# WWW-Authenticate header, is not the expected one. wrk counts 3xx as success, so a session
# that stopped working (a redirect to sign-in) shows only here.
check_case() {
  local name="$1" status header_args
  set_header_args "$name"
  status="$(curl -sS -o "$work_dir/fetch/body" -D "$work_dir/fetch/headers" -w '%{http_code}' \
    --max-time 10 "${header_args[@]}" "${case_url[$name]}")"
  if [ "$status" != "${case_status[$name]}" ]; then
    echo "error: $name: GET ${case_url[$name]} returned $status, expected ${case_status[$name]}" >&2
    grep -i '^location:' "$work_dir/fetch/headers" >&2 || true
    exit 1
  fi
  if [ "$name" = c_api_challenge ] &&
    ! grep -qi '^www-authenticate: Bearer error="insufficient_user_authentication"' "$work_dir/fetch/headers"; then
    echo "error: $name: the 401 carries no insufficient_user_authentication challenge" >&2
    exit 1
  fi
}

step "check that each case returns its expected status"
for name in "${case_names[@]}"; do
  check_case "$name"
  printf '%-16s %s %s (%d bytes)\n' "$name" "${case_status[$name]}" "${case_url[$name]}" \
    "$(wc -c <"$work_dir/fetch/body")"
done

# --- 3. Load ----------------------------------------------------------------------------------

# Converts a wrk latency such as 1.23ms, 870.00us or 1.02s to milliseconds.
to_ms() {
  awk -v value="$1" 'BEGIN {
    number = value + 0
    if (value ~ /us$/) number /= 1000
    else if (value ~ /ms$/) number *= 1
    else if (value ~ /s$/) number *= 1000
    printf "%.3f", number
  }'
}

# Runs wrk on case $1 and appends "name rps p50_ms p99_ms unexpected_responses" to results.
results="$work_dir/results.txt"
run_case() {
  local name="$1" output header_args
  set_header_args "$name"
  output="$(wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${BENCH_SECONDS}s" --latency \
    "${header_args[@]}" "${case_url[$name]}")"
  local rps p50 p99 non_2xx errors
  rps="$(awk '/^Requests\/sec:/ { print $2 }' <<<"$output")"
  p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$output")")"
  p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$output")")"
  non_2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$output")"
  errors="$(awk '/Socket errors:/ { sum = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) sum += $i; print sum }' <<<"$output")"
  # Every response of the challenge case is a 401 by design, and other cases should have none.
  local unexpected=$((${errors:-0}))
  [ "$name" = c_api_challenge ] || unexpected=$((unexpected + ${non_2xx:-0}))
  printf '%-16s %10s req/s  p50 %8s ms  p99 %8s ms  unexpected %s\n' "$name" "$rps" "$p50" "$p99" "$unexpected"
  echo "$name $rps $p50 $p99 $unexpected" >>"$results"
  check_case "$name"
}

step "load: wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s --latency, $BENCH_ROUNDS rounds"
for round in $(seq "$BENCH_ROUNDS"); do
  order=("${case_names[@]}")
  if [ $((round % 2)) -eq 0 ]; then
    order=()
    for ((index = ${#case_names[@]} - 1; index >= 0; index--)); do
      order+=("${case_names[$index]}")
    done
  fi
  echo "round $round: ${order[*]}"
  for name in "${order[@]}"; do
    run_case "$name"
  done
done

step "medians of $BENCH_ROUNDS rounds"
# Prints the median of column $2 for case $1.
median() {
  awk -v name="$1" -v column="$2" '$1 == name { print $column }' "$results" | sort -g |
    awk '{ values[NR] = $1 } END {
      if (NR % 2) printf "%.2f", values[(NR + 1) / 2]
      else printf "%.2f", (values[NR / 2] + values[NR / 2 + 1]) / 2
    }'
}
declare -A median_rps
for name in "${case_names[@]}"; do
  median_rps[$name]="$(median "$name" 2)"
done
report "### Load" "" \
  "wrk \`-t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s --latency\` on 127.0.0.1, medians of $BENCH_ROUNDS rounds." ""
{
  printf '| case | req/s | p50 ms | p99 ms | unexpected responses (sum) |\n| --- | ---: | ---: | ---: | ---: |\n'
  for name in "${case_names[@]}"; do
    unexpected="$(awk -v name="$name" '$1 == name { sum += $5 } END { print sum + 0 }' "$results")"
    printf '| %s | %s | %s | %s | %s |\n' "$name" "${median_rps[$name]}" "$(median "$name" 3)" \
      "$(median "$name" 4)" "$unexpected"
  done
} | tee -a "$report_file"
ratio() {
  awk -v top="$1" -v bottom="$2" -v target="$3" -v label="$4" 'BEGIN {
    value = top / bottom
    printf "| %s | %.2f | %.2f | %s |\n", label, value, target, (value >= target ? "met" : "not met")
  }'
}
{
  printf '\n| ratio of median req/s | measured | target | result |\n| --- | ---: | ---: | --- |\n'
  ratio "${median_rps[b_api_ok]}" "${median_rps[a_baseline]}" 0.85 "b/a: API 200 / baseline"
  ratio "${median_rps[c_api_challenge]}" "${median_rps[a_baseline]}" 0.85 "c/a: API 401 challenge / baseline"
  ratio "${median_rps[d_ssr_profile]}" "${median_rps[e_ssr_home]}" 0.5 "d/e: SSR /profile signed in / SSR /"
  awk -v rps="${median_rps[b_api_ok]}" 'BEGIN {
    printf "| b / 3,500 req/s (the NestJS + @okta/jwt-verifier reference, not measured here) | %.1f | 10 | %s |\n",
      rps / 3500, (rps / 3500 >= 10 ? "met" : "not met")
  }'
  echo
} | tee -a "$report_file"

# --- 4. First-load bytes ----------------------------------------------------------------------

# Prints the bytes of $1 (a path) as sent with Accept-Encoding $2.
transfer_bytes() {
  curl -fsS --max-time 10 -o /dev/null -H "Accept-Encoding: $2" -w '%{size_download}' "$app_origin$1"
}

# Prints the files under /pkg/ that page $1 references, as sent raw, with gzip and with
# brotli, and their totals against the budget. $2 is a Cookie header value, or empty.
first_load() {
  local page="$1" cookie="$2" cookie_args=()
  [ -z "$cookie" ] || cookie_args=(-H "Cookie: $cookie")
  curl -fsS --max-time 10 "${cookie_args[@]}" -o "$work_dir/fetch/page.html" "$app_origin$page"
  mapfile -t pkg_paths < <(grep -oE '/pkg/[^"'"'"' <>]+' "$work_dir/fetch/page.html" | sort -u)
  if [ "${#pkg_paths[@]}" -eq 0 ]; then
    echo "error: $page references no file under /pkg/" >&2
    exit 1
  fi
  printf '%-40s %10s %10s %10s\n' "file ($page)" raw gzip brotli
  local total_raw=0 total_gzip=0 total_brotli=0 path raw gzip_size brotli_size
  for path in "${pkg_paths[@]}"; do
    raw="$(transfer_bytes "$path" identity)"
    gzip_size="$(transfer_bytes "$path" gzip)"
    brotli_size="$(transfer_bytes "$path" br)"
    printf '%-40s %10d %10d %10d\n' "$path" "$raw" "$gzip_size" "$brotli_size"
    report "| \`$page\` | \`${path##*/}\` | $raw | $gzip_size | $brotli_size |"
    total_raw=$((total_raw + raw))
    total_gzip=$((total_gzip + gzip_size))
    total_brotli=$((total_brotli + brotli_size))
  done
  printf '%-40s %10d %10d %10d\n' "total" "$total_raw" "$total_gzip" "$total_brotli"
  local verdict
  verdict="$(awk -v page="$page" -v bytes="$total_brotli" 'BEGIN {
    printf "%.1f KiB brotli, budget 112 KiB: %s", bytes / 1024, (bytes <= 112 * 1024 ? "met" : "not met")
  }')"
  printf '%s: %s\n\n' "$page" "$verdict"
  report "| \`$page\` | total ($verdict) | $total_raw | $total_gzip | $total_brotli |"
}

# `/` has no island and loads only the stylesheet. The transfers page is the largest page
# with islands: it loads the wasm and its JavaScript too (the messages page loads the same
# files).
step "first-load bytes (files under /pkg/ that each page references)"
report "### First load" "" \
  "Files under \`/pkg/\` that each page references, in bytes as sent with \`Accept-Encoding\` \`identity\`, \`gzip\` and \`br\`." "" \
  "| Page | File | Raw | gzip | brotli |" "| --- | --- | ---: | ---: | ---: |"
first_load / ""
first_load /transfers "$session_cookie"

# --- 5. Memory with SQLite sessions -----------------------------------------------------------

# Prints the resident set size of process $1 in KiB.
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

step "resident memory with the SQLite session store"
stop_process "$baseline_pid"
baseline_pid=""
stop_process "$server_pid"
server_pid=""
start_server STEPUP_SESSION_STORE=sqlite STEPUP_DATA_DIR="$work_dir/run/data"
sleep 2
idle_kib="$(rss_kib "$server_pid")"
# One curl process sends every request in parallel without a cookie jar, so each sign-in
# start gets a new session. `/auth/login` stores the PKCE verifier, state and nonce in it.
login_config="$work_dir/login-urls.txt"
for _ in $(seq "$BENCH_SESSIONS"); do
  echo "url = \"$app_origin/auth/login?return_to=/\""
  echo "output = \"/dev/null\""
done >"$login_config"
statuses="$(curl --silent --show-error --parallel --parallel-max 16 --max-time 60 \
  -K "$login_config" -w '%{http_code}\n' 2>"$work_dir/curl-errors.log" |
  sort | uniq -c | awk '{ printf "%s%s x %s", (NR > 1 ? ", " : ""), $2, $1 }')"
sleep 2
loaded_kib="$(rss_kib "$server_pid")"
stored_sessions="?"
if command -v sqlite3 >/dev/null 2>&1; then
  database="$(find "$work_dir/run/data" -name '*.sqlite3' -print -quit)"
  table="$(sqlite3 "$database" "select name from sqlite_master where type = 'table' limit 1")"
  stored_sessions="$(sqlite3 "$database" "select count(*) from \"$table\"")"
fi
echo "sign-in starts: $BENCH_SESSIONS (statuses: $statuses); sessions stored: $stored_sessions"
if grep -q '"level":"ERROR"' "$work_dir/server.log"; then
  echo "server errors logged (first 3):"
  grep '"level":"ERROR"' "$work_dir/server.log" | head -n 3
fi
printf 'RSS idle: %d KiB; after the sign-in starts: %d KiB (+%d KiB)\n' \
  "$idle_kib" "$loaded_kib" $((loaded_kib - idle_kib))
report "" "### Memory" "" \
  "Resident set size of the server with the SQLite session store: $((idle_kib / 1024)) MiB idle, $((loaded_kib / 1024)) MiB after $BENCH_SESSIONS sign-in starts (statuses: $statuses; sessions stored: $stored_sessions)."

# --- 6. BENCHMARKS.md ---------------------------------------------------------------------------

if [ "${BENCH_WRITE:-1}" = 1 ]; then
  step "write the results into BENCHMARKS.md"
  node - "$report_file" BENCHMARKS.md <<'NODE'
const fs = require("node:fs");
const [reportFile, target] = process.argv.slice(2);
const begin = "<!-- bench.sh results: begin -->";
const end = "<!-- bench.sh results: end -->";
const text = fs.readFileSync(target, "utf8");
const report = fs.readFileSync(reportFile, "utf8").trimEnd();
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from < 0 || to < from) {
  console.error(`error: ${target} has no "${begin}" ... "${end}" block to replace; add the two lines, or paste this report:\n`);
  console.error(report);
  process.exit(1);
}
fs.writeFileSync(target, `${text.slice(0, from + begin.length)}\n${report}\n${text.slice(to)}`);
NODE
  echo "BENCHMARKS.md: the block between the bench.sh markers now holds this run"
fi
