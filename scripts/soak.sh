#!/usr/bin/env bash
# Soak and fan-out runner on the real local stack (`pubsub-soak` in tools/measure):
#  1. soak: 2,000 SSE + 200 MQTT subscribers opened gradually on 5 topics, 1,000 messages
#     published through the app over HTTP and MQTT (mixed); checks every delivery
#     (exit 1 if one is missing), p50/p99 publish->deliver latency, peak RSS and CPU
#     seconds of Viceroy and Pushpin's processes;
#  2. fan-out: publish->deliver latency to 1, 100, 1,000 SSE and 100 MQTT subscribers,
#     through the app against a raw publish to Pushpin's endpoint, in the same run.
# Prints tables and writes <target dir>/soak/{soak,fanout}.csv. Loopback only; stops
# everything it started. Not part of scripts/test.sh. About 5 minutes.
#
# Options (passed on to pubsub-soak): --soak | --fanout (one part only), --sse N,
# --mqtt N, --topics N, --messages N, --rate R, --fanout-sse 1,100,1000, --fanout-mqtt N,
# --fanout-messages N, --threads N, --message-rate R (Pushpin's, 200000), --max-minutes M,
# --out DIR.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# Every SSE stream costs a descriptor in this process and about three in Viceroy and
# Pushpin together: raise the soft limit to the hard one (children inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 8192 ]; then
  echo "soak: ulimit -n is $(ulimit -n); 2,000 SSE streams need about 8,192 (raise the hard limit)" >&2
fi

scripts/setup.sh
cargo build --bin edge-pubsub --release --target wasm32-wasip1
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then commit="$commit (plus uncommitted changes)"; fi
echo "soak: commit $commit, $(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $(ulimit -n)" >&2
exec cargo run -q --release -p pubsub-measure --bin pubsub-soak -- "$@"
