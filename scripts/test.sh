#!/usr/bin/env bash
# Builds the Compute app and runs every test of the workspace. The end-to-end tests start
# their own Viceroy + Pushpin stacks (on free ports) against the release wasm built here.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

scripts/setup.sh
cargo build --bin edge-pubsub --release --target wasm32-wasip1
cargo test --workspace
