#!/usr/bin/env bash
# Where one request's instructions go, per case: `scripts/request-cost.sh --breakdown`
# runs this with the `profiling` build of examples/request_cost (symbols, line tables).
#   request-cost-breakdown.sh BIN CASE...
# Each case runs under callgrind with 1 and 11 requests, as for the plain counts, and every
# figure is the difference over 10: one request without the process's start-up.
#
# Two views per case:
# - stages: the inclusive cost of the functions that do one job each (verifying Grip-Sig,
#   verifying the token, building the route tables, loading the configuration), callees
#   included; a stage inlined into its caller prints as 0;
# - by source: every instruction's own (self) cost, grouped by the source file it was
#   compiled from (line tables see through inlining), into the groups below. The groups
#   are disjoint and add up to the whole request (groups under 500 are not printed).
set -euo pipefail
bin=$1; shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Stage name and the function whose inclusive cost it is (callgrind collects only while
# it runs: --toggle-collect).
stages=(
  'Grip-Sig verification|pubsub_core::grip_sig::check'
  'token verification (KV lookup, JWT, claims)|pubsub_core::tokens::verify_with'
  'route tables built|pubsub_middleware::router::Router::route'
  'SSE subscribe handler|pubsub_handlers::sse::subscribe'
  'HTTP publish handler|pubsub_handlers::publish::publish'
  'MQTT handler|pubsub_handlers::mqtt::websocket'
)

# Source group and the patterns of the instructions it takes (awk regexes, tried in order).
# An instruction is named by its source file, except code inlined from the standard
# library (`/rustc/...` files), which is named `fn:<the function it was inlined into>`, so
# that e.g. the iterator code of rendering counts as rendering. `@` is this workspace
# (callgrind names its files relative to it, or absolute).
groups=(
  'allocator (malloc, free, Rust alloc)|/malloc/|^fn:(__rust_|alloc::alloc::|alloc::raw_vec::|<alloc::raw_vec::)'
  'crypto (SHA-256, HMAC, P-256)|/(sha2|hmac|digest|p256|primeorder|ecdsa|elliptic-curve|crypto-bigint|subtle|signature)-[0-9]|^fn:<?(sha2|hmac|digest|p256|primeorder|ecdsa|elliptic_curve|crypto_bigint|subtle)::'
  'JSON (serde_json, core/src/json.rs)|/(serde_json|serde_core|serde)-[0-9]|^@core/src/json\.rs|^fn:<?(serde_json|serde_core|serde|pubsub_core::json)::'
  'base64|/base64-[0-9]|^fn:<?base64::'
  'route tables (matchit, router, src/lib.rs)|/matchit-[0-9]|^@middleware/src/router\.rs|^@src/lib\.rs|^fn:.*(matchit::|pubsub_middleware::router::|edge_pubsub::routes)'
  'configuration (config/, load_config)|^@config/src/|^@middleware/src/load_config\.rs|^fn:<?pubsub_config::'
  'Grip-Sig (grip_sig, verify_grip)|^@core/src/grip_sig\.rs|^@middleware/src/verify_grip\.rs|^fn:<?pubsub_core::grip_sig::'
  'token, claims, keys, grants, ACL|^@core/src/(tokens|jwt|grant|principal)\.rs|^@core/src/(claims|keys)/|^@middleware/src/(acl|extract_auth)\.rs|^fn:<?pubsub_(core::(tokens|jwt|grant|principal|claims|keys)|middleware::(acl|extract_auth))::'
  'rendering (SSE events, GRIP items, holds)|^@core/src/(render|grip)/|^@handlers/src/sse/|^fn:<?pubsub_(core::(render|grip)|handlers::sse)::'
  'publish use case|^@core/src/publish/|^@handlers/src/publish|^fn:<?pubsub_(core|handlers)::publish::'
  'MQTT (codec, protocol, sessions)|^@codec/src/|^@handlers/src/mqtt/|^@core/src/mqtt_session|^fn:<?pubsub_(codec|handlers::mqtt|core::mqtt_session)'
  'in-memory ports and the benchmark driver|^@core/src/ports/|^@examples/|^fn:<?(pubsub_core::ports::|request_cost::)'
  'the layers (wrap, guard, CORS, log, ...)|^@middleware/src/|^fn:<?pubsub_middleware::'
  'other app code (handlers, core)|^@(src|core|middleware|handlers|codec|config)/|^fn:<?(pubsub_|edge_pubsub)'
  'http crate (headers, URI)|/http-[0-9]|^fn:<?http::'
  'memcpy, memset, memcmp (libc)|/string/|mem(cpy|move|set|cmp)'
  'standard library, other|^fn:'
)

annotate() { # FILE [--inclusive=yes] -> "cost<TAB>file<TAB>function" per line
  callgrind_annotate --auto=no --threshold=100 "$@" 2>/dev/null | awk '
    /^ *[0-9,]+ .*:/ {
      ir = $1; gsub(",", "", ir); line = $0
      sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", line); sub(/ \[\/[^]]*\]$/, "", line)
      i = index(line, ":"); print ir "\t" substr(line, 1, i - 1) "\t" substr(line, i + 1)
    }'
}

collected() { # CASE REPEATS FUNCTION -> instructions spent inside FUNCTION
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --collect-atstart=no \
    --toggle-collect="$3" "$bin" "$1" "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

for c in "$@"; do
  for n in 1 11; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$c.$n" "$bin" "$c" "$n" >/dev/null 2>&1
    annotate "$out/$c.$n" >"$out/$c.$n.self"
    annotate "$out/$c.$n" --inclusive=yes >"$out/$c.$n.incl"
  done
  echo "== $c"
  for stage in "${stages[@]}"; do
    fn=${stage#*|}
    one=$(collected "$c" 1 "$fn"); eleven=$(collected "$c" 11 "$fn")
    n=$(( (eleven - one) / 10 ))
    [ "$n" -gt 0 ] && printf '  stage   %10d  %s\n' "$n" "${stage%%|*}"
  done
  printf '%s\n' "${groups[@]}" | awk -F'|' -v root="$PWD" -v one="$out/$c.1.self" -v eleven="$out/$c.11.self" '
    { name[NR] = $1; pat[NR] = substr($0, index($0, "|") + 1); gsub("@", "(" root "/)?", pat[NR]); n = NR }
    function group(file, fn,   i, key) {
      key = (file ~ /^\/rustc\// || file == "???") ? "fn:" fn : file
      for (i = 1; i <= n; i++) if (key ~ pat[i]) break
      # BREAKDOWN_DEBUG=<group name>: what that group took, on stderr.
      if (ENVIRON["BREAKDOWN_DEBUG"] == name[i]) print key " :: " fn > "/dev/stderr"
      if (i <= n) return i
      return n + 1
    }
    END {
      name[n + 1] = "other (libc, unresolved)"
      while ((getline l < one) > 0) { split(l, f, "\t"); cost[group(f[2], f[3])] -= f[1] }
      while ((getline l < eleven) > 0) { split(l, f, "\t"); cost[group(f[2], f[3])] += f[1] }
      for (i = 1; i <= n + 1; i++) { total += cost[i] }
      for (i = 1; i <= n + 1; i++) if (cost[i] / 10 >= 500)
        printf "  source  %10d  %5.1f %%  %s\n", cost[i] / 10, 100 * cost[i] / total, name[i]
      printf "  total   %10d\n", total / 10
    }'
done
