#!/usr/bin/env bash
# Installs what building and testing the project needs, skipping what is already there:
# a C toolchain and perl, chromium, redis-server and curl from Debian, the wasm32 target,
# cargo-leptos, wasm-bindgen-cli (the version Cargo.lock pins), wasm-opt, and the npm
# packages of end2end/.
# Every tool comes from a package registry; nothing downloads a prebuilt browser or binary.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

CARGO_LEPTOS_VERSION="0.3.10"
BINARYEN_VERSION="132.0.0"

log() { printf '==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages, first because the cargo installs below compile C: a C toolchain and
# perl (cargo-leptos vendors OpenSSL; aws-lc-sys and SQLite build C code), chromium for
# Playwright, redis-server for the Redis session-store tests, curl for the release smoke.
apt_packages=()
if ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  apt_packages+=(build-essential)
fi
if ! perl -MIPC::Cmd -e 1 >/dev/null 2>&1; then
  apt_packages+=(perl)
fi
if ! command -v curl >/dev/null 2>&1; then
  apt_packages+=(curl)
fi
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium_path" ]; then
  apt_packages+=(chromium)
fi
if ! command -v redis-server >/dev/null 2>&1; then
  apt_packages+=(redis-server)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  log "installing Debian's ${apt_packages[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${apt_packages[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos $CARGO_LEPTOS_VERSION"; then
  # 0.3.11 needs Rust 1.96. `no_downloads` turns any attempt to fetch a tool into an error.
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 11 minutes)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

wasm_bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
if [ -z "$wasm_bindgen_version" ]; then
  echo "error: Cargo.lock names no wasm-bindgen version" >&2
  exit 1
fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wasm_bindgen_version"; then
  # Not --locked: the CLI's own lockfile pins a crate version the registry no longer serves.
  log "installing wasm-bindgen-cli $wasm_bindgen_version (about 2 minutes)"
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version"
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  # Debian's binaryen 108 builds release bundles that fail to hydrate; npm has a current one.
  log "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
  as_root npm install --global "binaryen@$BINARYEN_VERSION"
fi


if [ ! -d end2end/node_modules/oidc-provider ] || [ ! -d end2end/node_modules/@playwright/test ] \
  || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  log "installing the npm packages of end2end/"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

log "tools ready"
