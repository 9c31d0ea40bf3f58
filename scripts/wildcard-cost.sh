#!/usr/bin/env bash
# Measures what wildcard subscriptions cost a publish on the local stack (not part of the
# test command): items, bytes, Viceroy CPU and wall time per publish by topic depth, with
# `wildcard-max-levels` 0 (baseline), 6 (default) and 8, side by side; then the cost with
# 0, 10 and 1,000 open wildcard subscriptions. Pass --quick for a shorter run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
scripts/setup.sh
cargo build --bin edge-pubsub --release --target wasm32-wasip1
cargo run --release -p pubsub-measure --bin pubsub-wildcard-cost -- "$@"
