#!/usr/bin/env bash
# Builds the release binary, which embeds the compiled site, and checks a copy of it over HTTP.
#
# The copy runs from an empty temporary folder with only RUST_LOG and STEPUP_* variables set
# (no Cargo.toml, no target/site, no LEPTOS_* variables), with the SQLite session store,
# against the local OpenID Provider, both on free ports of 127.0.0.1. The script prints one line per check and a
# summary line, then the sizes of the binary and of the hydration files. It exits non-zero when
# a check fails, and stops both servers on exit.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
./scripts/setup.sh

if ! command -v curl >/dev/null 2>&1; then
  echo "error: curl is missing; install Debian's curl package" >&2
  exit 1
fi

step() { printf '\n==> %s\n' "$*"; }

# How long the server may take to respond to /healthz. It retries provider discovery for
# up to 60 s before it listens.
START_TIMEOUT_SECS=90

step "release build: cargo leptos build --release --precompress"
# `--precompress` also makes cargo-leptos build the front end before the server, so the
# server embeds the finished site (with its .br and .gz copies).
build_started=$SECONDS
cargo leptos build --release --precompress
build_secs=$((SECONDS - build_started))

work_dir="$(mktemp -d "${TMPDIR:-/tmp}/stepup-release-smoke.XXXXXX")"
run_dir="$work_dir/run"
fetch_dir="$work_dir/fetch"
mkdir "$run_dir" "$fetch_dir"
provider_log="$work_dir/provider.log"
server_log="$work_dir/server.log"
provider_pid=""
server_pid=""

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
  stop_process "$server_pid"
  stop_process "$provider_pid"
  if [ "$status" -ne 0 ]; then
    for log_file in "$server_log" "$provider_log"; do
      if [ -s "$log_file" ]; then
        printf '\n--- last lines of %s ---\n' "$(basename "$log_file")"
        tail -n 40 "$log_file"
      fi
    done
  fi
  rm -rf "$work_dir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints a TCP port of 127.0.0.1 that was free a moment ago.
free_port() {
  node -e '
    const server = require("node:net").createServer();
    server.listen(0, "127.0.0.1", () => {
      process.stdout.write(String(server.address().port));
      server.close();
    });'
}

op_port="$(free_port)"
app_port="$(free_port)"
while [ "$app_port" = "$op_port" ]; do
  app_port="$(free_port)"
done
op_origin="http://127.0.0.1:$op_port"
app_origin="http://127.0.0.1:$app_port"

step "start the provider on $op_origin and the copied binary on $app_origin"
cp target/release/server "$run_dir/server"
OP_PORT="$op_port" APP_ORIGIN="$app_origin" OP_CLIENT_SECRET="" \
  node end2end/provider/server.mjs >"$provider_log" 2>&1 &
provider_pid=$!
# `env -i`: the binary gets no variable from this shell, so a LEPTOS_* variable set here
# cannot hide one that a deployment would be missing.
(
  cd "$run_dir"
  exec env -i \
    RUST_LOG=info \
    STEPUP_LOG_FORMAT=json \
    STEPUP_SESSION_STORE=sqlite \
    STEPUP_DATA_DIR="$run_dir/data" \
    STEPUP_ISSUER_URL="$op_origin" \
    STEPUP_PUBLIC_URL="$app_origin" \
    STEPUP_LISTEN_ADDR="127.0.0.1:$app_port" \
    ./server
) >"$server_log" 2>&1 &
server_pid=$!

deadline=$((SECONDS + START_TIMEOUT_SECS))
until curl -fsS -o /dev/null --max-time 2 "$app_origin/healthz" 2>/dev/null; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "error: the server exited before responding to /healthz" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "error: the server did not respond to /healthz within $START_TIMEOUT_SECS s" >&2
    exit 1
  fi
  sleep 0.2
done

step "checks"
passed=0
failed=0
pass() {
  passed=$((passed + 1))
  printf 'ok    %s\n' "$1"
}
fail() {
  failed=$((failed + 1))
  printf 'FAIL  %s: %s\n' "$1" "$2"
}
# Passes check $1 when the condition in the remaining arguments holds, else fails it with
# the reason in $reason.
expect() {
  local name="$1"
  shift
  if "$@"; then pass "$name"; else fail "$name" "$reason"; fi
}

# GETs $1 (a path) with the extra curl arguments that follow. Sets `status`, and leaves the
# headers in $fetch_dir/headers and the body in $fetch_dir/body.
fetch() {
  local path="$1"
  shift
  status="$(curl -sS --max-time 10 -D "$fetch_dir/headers" -o "$fetch_dir/body" \
    -w '%{http_code}' "$@" "$app_origin$path")" || status="000"
}

# Prints the value of response header $1 of the last fetch, or nothing.
header() {
  { grep -i "^$1:" "$fetch_dir/headers" || true; } | tail -n 1 | cut -d: -f2- | sed 's/^ *//' \
    | tr -d '\r'
}

is() { [ "$1" = "$2" ]; }
contains() { [[ "$1" == *"$2"* ]]; }
starts_with() { [[ "$1" == "$2"* ]]; }
matches() { [[ "$1" =~ $2 ]]; }
not() { ! "$@"; }

fetch / -H 'Accept-Encoding: identity'
reason="status $status"
expect "GET / returns 200" is "$status" 200
content_type="$(header content-type)"
reason="Content-Type '$content_type'"
expect "GET / is HTML" starts_with "$content_type" "text/html"
mapfile -t pkg_paths < <(grep -oE '/pkg/[^"'"'"' <>]+' "$fetch_dir/body" | sort -u)

reason="the page references: ${pkg_paths[*]:-nothing under /pkg/}"
has_pkg() {
  local extension="$1" path
  for path in "${pkg_paths[@]}"; do
    [[ "$path" == *".$extension" ]] && return 0
  done
  return 1
}
expect "/ references a .css file under /pkg/" has_pkg css
# `/` has no island, so it loads no JavaScript or wasm.
for extension in js wasm; do
  expect "/ references no .$extension file" not has_pkg "$extension"
done
# The pages with islands need a session, so the files they load are checked by path: the
# JavaScript and the wasm sit beside the stylesheet, under the same content version.
css_path="$(printf '%s\n' "${pkg_paths[@]}" | grep -E '\.css$' | head -n 1 || true)"
if [ -n "$css_path" ]; then
  output_name="$(basename "$css_path" .css)"
  pkg_paths+=("${css_path%/*}/$output_name.js" "${css_path%/*}/$output_name.wasm")
fi

expected_type() {
  case "$1" in
    *.js) echo "text/javascript" ;;
    *.wasm) echo "application/wasm" ;;
    *.css) echo "text/css" ;;
    *) echo "unknown" ;;
  esac
}

brotli_decode() {
  node -e 'process.stdout.write(require("node:zlib").brotliDecompressSync(require("node:fs").readFileSync(process.argv[1])))' "$1"
}

declare -A raw_bytes gzip_bytes brotli_bytes
for path in "${pkg_paths[@]}"; do
  name="${path##*/}"

  reason="a content-hash folder is expected, such as /pkg/0123456789ab/$name"
  expect "$path is under a content version" matches "$path" '^/pkg/[0-9a-f]{12}/[^/]+$'

  fetch "$path" -H 'Accept-Encoding: identity'
  reason="status $status"
  expect "$path returns 200" is "$status" 200
  cache_control="$(header cache-control)"
  reason="Cache-Control '$cache_control'"
  expect "$path is cached as immutable" contains "$cache_control" immutable
  content_type="$(header content-type)"
  reason="Content-Type '$content_type'"
  expect "$path has Content-Type $(expected_type "$name")" \
    starts_with "$content_type" "$(expected_type "$name")"
  reason="the served file differs from target/site/pkg/$name"
  expect "$path is the file this build wrote" cmp -s "$fetch_dir/body" "target/site/pkg/$name"
  cp "$fetch_dir/body" "$fetch_dir/identity"
  raw_bytes[$name]="$(wc -c <"$fetch_dir/identity")"

  fetch "$path" -H 'Accept-Encoding: br'
  encoding="$(header content-encoding)"
  reason="status $status, Content-Encoding '$encoding'"
  expect "$path with Accept-Encoding br returns 200 br" is "$status $encoding" "200 br"
  brotli_bytes[$name]="$(wc -c <"$fetch_dir/body")"
  reason="the decoded body differs from the identity body"
  expect "$path br body decodes to the file" \
    cmp -s "$fetch_dir/identity" <(brotli_decode "$fetch_dir/body" 2>/dev/null)

  fetch "$path" -H 'Accept-Encoding: gzip'
  encoding="$(header content-encoding)"
  reason="status $status, Content-Encoding '$encoding'"
  expect "$path with Accept-Encoding gzip returns 200 gzip" is "$status $encoding" "200 gzip"
  gzip_bytes[$name]="$(wc -c <"$fetch_dir/body")"
  reason="the decoded body differs from the identity body"
  expect "$path gzip body decodes to the file" \
    cmp -s "$fetch_dir/identity" <(gzip -dc "$fetch_dir/body" 2>/dev/null)
done

fetch /favicon.svg
content_type="$(header content-type)"
reason="status $status, Content-Type '$content_type'"
expect "GET /favicon.svg returns 200 image/svg+xml" \
  is "$status $content_type" "200 image/svg+xml"

fetch /readyz
reason="status $status, body $(head -c 200 "$fetch_dir/body")"
expect "GET /readyz returns 200" is "$status" 200

fetch /no-such-page
reason="status $status"
expect "GET /no-such-page returns 404" is "$status" 404

fetch /api/messages
challenge="$(header www-authenticate)"
reason="status $status, WWW-Authenticate '$challenge'"
expect "GET /api/messages without credentials returns 401 Bearer" \
  starts_with "$status $challenge" "401 Bearer"

reason="$(grep -m 3 '"level":"ERROR"' "$server_log" || true)"
expect "the server logged no errors" not grep -q '"level":"ERROR"' "$server_log"

printf '\n%d passed, %d failed\n' "$passed" "$failed"

step "sizes (informational)"
printf 'release build:  %d s (cargo leptos build --release --precompress)\n' "$build_secs"
printf 'release binary: %d bytes\n' "$(wc -c <target/release/server)"
printf '%-28s %10s %10s %10s\n' "hydration file" raw gzip brotli
total_raw=0
total_gzip=0
total_brotli=0
for name in "${!raw_bytes[@]}"; do
  printf '%-28s %10d %10d %10d\n' "$name" "${raw_bytes[$name]}" "${gzip_bytes[$name]:-0}" \
    "${brotli_bytes[$name]:-0}"
  total_raw=$((total_raw + ${raw_bytes[$name]}))
  total_gzip=$((total_gzip + ${gzip_bytes[$name]:-0}))
  total_brotli=$((total_brotli + ${brotli_bytes[$name]:-0}))
done
printf '%-28s %10d %10d %10d\n' "total for /" "$total_raw" "$total_gzip" "$total_brotli"

[ "$failed" -eq 0 ]
