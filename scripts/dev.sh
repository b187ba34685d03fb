#!/usr/bin/env bash
# Installs what is missing, starts the local OpenID Provider on 127.0.0.1:4000 and runs the
# app with `cargo leptos watch` on http://127.0.0.1:3000. Ctrl-C stops both.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
./scripts/setup.sh

OP_PORT="${OP_PORT:-4000}"
export STEPUP_ISSUER_URL="${STEPUP_ISSUER_URL:-http://127.0.0.1:$OP_PORT}"
export STEPUP_PUBLIC_URL="${STEPUP_PUBLIC_URL:-http://127.0.0.1:3000}"

OP_PORT="$OP_PORT" APP_ORIGIN="$STEPUP_PUBLIC_URL" node end2end/provider/server.mjs &
provider_pid=$!
trap 'kill "$provider_pid" 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  App:       $STEPUP_PUBLIC_URL  (ready once cargo-leptos prints "listening on")
  Provider:  $STEPUP_ISSUER_URL
  Demo users: alice / alice-password (one-time code in this terminal, or at
              $STEPUP_ISSUER_URL/dev/mailbox/alice), bob / bob-password (no second factor)

MSG
cargo leptos watch
