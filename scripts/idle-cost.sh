#!/usr/bin/env bash
# Measures the app's invocations per idle connection-hour on the real local stack: starts
# Viceroy + Pushpin with a counting relay between them, opens idle connections of each
# kind (plain SSE, durable SSE, MQTT 5 and MQTT 3.1.1 with MQTT.js's defaults), counts the
# requests Pushpin makes to the app while they idle, prints a table and writes CSV files.
# Not part of scripts/test.sh. Takes the idle time plus about a minute.
#
# Options (passed on to pubsub-idle-cost): --minutes M (3), --connections N per kind (2),
# --settle-secs S (5), --out DIR (<target dir>/idle-cost).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

scripts/setup.sh
cargo build --bin edge-pubsub --release --target wasm32-wasip1
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then commit="$commit (plus uncommitted changes)"; fi
echo "idle-cost: measuring commit $commit on $(date -u +%Y-%m-%d)" >&2
exec cargo run -q --release -p pubsub-measure --bin pubsub-idle-cost -- "$@"
