#!/usr/bin/env bash
# Instructions per request of the native pipeline, per hot path, counted by callgrind
# (exact and repeatable, unlike time on a shared machine). Each case runs twice, with 1 and
# with 11 requests; the difference over 10 is one request's count without start-up.
#   scripts/request-cost.sh            every case
#   scripts/request-cost.sh CASE...    only these (examples/request_cost.rs lists them)
#   scripts/request-cost.sh --breakdown [CASE...]
#                                      where each case's instructions go instead (below)
# Prints each count against its committed baseline and budget (scripts/request-cost.budgets)
# and exits 1 when a path is over its budget. A benchmark, not part of scripts/test.sh.
# Needs valgrind (Debian package `valgrind`; installed here when missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v valgrind >/dev/null 2>&1; then
  sudo=(); [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind
fi

breakdown=0
if [ "${1:-}" = --breakdown ]; then breakdown=1; shift; fi
# The breakdown needs symbols and line tables: Cargo profile `profiling` is the release
# build with both (its totals agree with the release build's within 0.3 %).
profile=release
[ "$breakdown" = 1 ] && profile=profiling
cargo build --profile "$profile" --example request_cost >&2
bin="${CARGO_TARGET_DIR:-target}/$profile/examples/request_cost"
cases=("$@")
[ ${#cases[@]} -eq 0 ] && mapfile -t cases < <("$bin" --list)

if [ "$breakdown" = 1 ]; then
  exec scripts/request-cost-breakdown.sh "$bin" "${cases[@]}"
fi

count() { # CASE REPEATS -> instructions of the whole run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# The committed baseline and budget of CASE (scripts/request-cost.budgets), or "- -".
limits() { awk -v c="$1" '$1 == c { print $2, $3; found = 1 } END { if (!found) print "- -" }' \
  scripts/request-cost.budgets; }

over=0
printf '%-22s %12s %10s %7s %10s  %s\n' case instructions baseline ratio budget status
for c in "${cases[@]}"; do
  one=$(count "$c" 1); eleven=$(count "$c" 11)
  n=$(( (eleven - one) / 10 ))
  read -r base budget < <(limits "$c")
  ratio=-; status=-
  if [ "$base" != - ]; then ratio=$(awk -v n="$n" -v b="$base" 'BEGIN { printf "%.3f", n / b }'); fi
  if [ "$budget" != - ]; then
    if [ "$n" -le "$budget" ]; then status=ok; else status="over budget"; over=1; fi
  fi
  printf '%-22s %12d %10s %7s %10s  %s\n' "$c" "$n" "$base" "$ratio" "$budget" "$status"
done
exit "$over"
