#!/usr/bin/env bash
# Installs what is missing, then runs every test: the unit and router tests of the three
# crates, the provider's self-test, and the Playwright flows against the real server and
# the local provider in headless Chromium.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
./scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }

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

step "build the site"
cargo leptos build
step "Playwright end-to-end flows"
(cd end2end && npx playwright test)
