#!/usr/bin/env bash
# Installs what is missing, then runs every test: the unit and router tests of the three
# crates, the provider's self-test, and the Playwright flows against the real server and
# the local provider in headless Chromium. Last, it builds the release binary and checks a
# copy of it over HTTP.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
./scripts/setup.sh

# Incremental caches only help rebuilds, and they took gigabytes: a fresh machine has
# none to reuse, and a disk that fills ends the run. Set CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Each step prints the free space beside the build folder, so the log of a run that stops
# for lack of disk shows the step where it stopped.
step() {
  local free
  free="$(df -h --output=avail "$repo_root" 2>/dev/null | tail -n 1 | tr -d ' ')"
  printf '\n==> %s (disk free: %s)\n' "$*" "${free:-unknown}"
}

# Each crate is tested on its own: `cargo test --workspace` would build `app` with both
# the `ssr` and `hydrate` features.
step "core crate (native)"
cargo test -p stepup
step "core crate builds for wasm32"
cargo build -p stepup --target wasm32-unknown-unknown
step "app crate (ssr)"
cargo test -p app --features ssr
step "server: unit and router tests"
cargo test -p server

step "local OpenID Provider self-test"
node end2end/provider/selftest.mjs

# The debug build must come right before Playwright: `cargo test` rebuilds
# target/debug/server without the build-time settings cargo-leptos passes (LEPTOS_OUTPUT_NAME).
step "build the site"
cargo leptos build
step "Playwright end-to-end flows"
(cd end2end && npx playwright test)

step "release build, run from an empty folder"
./scripts/release-smoke.sh

step "all tests passed"
