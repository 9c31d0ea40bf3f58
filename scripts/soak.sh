#!/usr/bin/env bash
# Soak, fan-out and reconnect runner on the real local stack (`pubsub-soak` in tools/measure):
#  1. soak: 2,000 SSE + 200 MQTT subscribers (up to about 9,900 in all on this machine:
#     see "Soak" in docs/performance.md) opened gradually on 5 topics, 1,000 messages
#     published through the app over HTTP and MQTT and raw to Pushpin (mixed); checks every
#     delivery (exit 1 if one is missing, doubled or of another topic), p50/p99/max
#     publish->deliver latency per subscriber protocol and publish path, the app
#     invocations per publish, peak RSS, CPU seconds and descriptors of every process;
#  2. fan-out: publish->deliver latency to 1, 100, 1,000 SSE and 100 MQTT subscribers,
#     through the app against a raw publish to Pushpin's endpoint, in the same run;
#  3. only with --churn: the reconnect soak, 1,000 subscribers (plain, durable and history
#     SSE, MQTT) disconnecting and reconnecting at random for --minutes (30) while
#     messages are published; exit 1 if a stream that can resume lost anything.
# Prints tables and writes <target dir>/soak/{soak,soak-requests,fanout,churn}.csv.
# Loopback only; stops everything it started. Not part of scripts/test.sh. About 5
# minutes (the churn: --minutes plus about 1).
#
# Options (passed on to pubsub-soak): --soak | --fanout | --churn (one part only), --sse N,
# --mqtt N, --topics N, --messages N, --rate R, --fanout-sse 1,100,1000, --fanout-mqtt N,
# --fanout-messages N, --threads N, --message-rate R (Pushpin's, 200000), --max-minutes M,
# --churn-conns N, --minutes M, --out DIR.
set -euo pipefail

SOAK_ARGS=("$@")
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# Every held connection costs two descriptors in Viceroy (the client's connection and its
# own to Pushpin, the handoff), one in condure and one in this process or node. Raise the
# hard limit if this process may (CAP_SYS_RESOURCE), then the soft one to it; children
# inherit both. Where the hard limit stays (here 20,000), Viceroy refuses connections
# beyond about half of it ("Could not connect to handoff target: Too many open files").
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
conns=2200
while [ $# -gt 0 ]; do
  case "$1" in
    --sse) conns=$((conns - 2000 + ${2:-0})) ;;
    --mqtt) conns=$((conns - 200 + ${2:-0})) ;;
  esac
  shift
done
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((2 * conns + 200)) ]; then
  echo "soak: ulimit -n is $(ulimit -n) and cannot be raised here; $conns connections need" \
    "about $((2 * conns + 200)) in Viceroy (expect refusals beyond $(( ($(ulimit -n) - 200) / 2 )))" >&2
fi

scripts/setup.sh
cargo build --bin edge-pubsub --release --target wasm32-wasip1
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then commit="$commit (plus uncommitted changes)"; fi
echo "soak: commit $commit, $(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), ulimit -n $(ulimit -n)" >&2
exec cargo run -q --release -p pubsub-measure --bin pubsub-soak -- "${SOAK_ARGS[@]}"
