#!/usr/bin/env bash
# Measures the CPU time per request of the app against a baseline revision, side by side
# in one run on the real local stack: builds the release wasm of the working tree and of
# the baseline (in a temporary git worktree with its own target dir, cached by commit),
# starts each on its own Viceroy + Pushpin, sends alternating batches of requests of each
# kind (no-op, subscribe hand-off, signed and durable subscribes, HTTP and retained
# publish, MQTT CONNECT / SUBSCRIBE / PUBLISH batches), and reads Viceroy's CPU time from
# /proc/<pid>/stat. Prints one table and writes <target dir>/bench/bench.csv.
# Not part of scripts/test.sh. About 3 minutes (--quick: under a minute), plus the builds.
#
# Options (passed on to pubsub-bench): --baseline REV (125a015), --current REV (the
# working tree), --requests N per batch (500), --rounds R (5), --warmup N (20), --quick
# (100 requests, 3 rounds), --max-minutes M (10), --out CSV, --show, --current-config
# KEY=VALUE (a Config Store entry for the current module only, e.g. to switch a layer on).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

scripts/setup.sh
echo "bench: $(date -u +%Y-%m-%d), $(nproc) CPUs" >&2
exec cargo run -q --release -p pubsub-measure --bin pubsub-bench -- "$@"
