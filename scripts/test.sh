#!/usr/bin/env bash
# Checks and builds the Compute app and runs every test of the workspace: formatting
# (`cargo fmt --check`) and lints (`cargo clippy -D warnings`, natively and for the wasm)
# first, then the release wasm, then `cargo test --workspace`, whose summary ends the
# output. The end-to-end tests start their own Viceroy + Pushpin stacks (on free ports)
# against the release wasm built here.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

scripts/setup.sh
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --bin edge-pubsub --target wasm32-wasip1 -- -D warnings
cargo build --bin edge-pubsub --release --target wasm32-wasip1
cargo test --workspace
