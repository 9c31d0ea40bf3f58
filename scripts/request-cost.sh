#!/usr/bin/env bash
# Instructions per request of the native pipeline, per hot path, counted by callgrind
# (exact and repeatable, unlike time on a shared machine). Each case runs twice, with 1 and
# with 11 requests; the difference over 10 is one request's count without start-up.
#   scripts/request-cost.sh            every case
#   scripts/request-cost.sh CASE...    only these (examples/request_cost.rs lists them)
# Needs valgrind (Debian package `valgrind`; installed here when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v valgrind >/dev/null 2>&1; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind
fi

cargo build --release --example request_cost >&2
bin="${CARGO_TARGET_DIR:-target}/release/examples/request_cost"
cases=("$@")
[ ${#cases[@]} -eq 0 ] && mapfile -t cases < <("$bin" --list)

count() { # CASE REPEATS -> instructions of the whole run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-22s %12s\n' case instructions/request
for c in "${cases[@]}"; do
  one=$(count "$c" 1); eleven=$(count "$c" 11)
  printf '%-22s %12d\n' "$c" $(( (eleven - one) / 10 ))
done
