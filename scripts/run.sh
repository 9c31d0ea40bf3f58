#!/usr/bin/env bash
# Builds the Compute app and runs it locally (Viceroy + Pushpin) in the foreground until
# Ctrl-C, after printing a link to the demo page (a dev token in its fragment), the URLs
# and example commands. Ports: app 7676, publish 5561, Pushpin HTTP 7999
# (PUBSUB_APP_PORT, PUBSUB_PUBLISH_PORT, PUBSUB_PROXY_PORT override them). Every topic keeps
# history (Config Store key `history` = `# 1000 1h`, set by pubsub-dev).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

scripts/setup.sh
cargo build --bin edge-pubsub --release --target wasm32-wasip1
exec cargo run -q -p pubsub-devstack --bin pubsub-dev
