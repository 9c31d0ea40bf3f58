#!/bin/sh
# The linker of the wasm32-wasip1 target (.cargo/config.toml): links with the toolchain's
# own rust-lld, as rustc would, then runs Binaryen's `wasm-opt` over a release module in
# place. Every consumer of the module (scripts/test.sh and run.sh, the end-to-end tests,
# devstack, scripts/bench.sh, `fastly compute build` / `serve`) builds it with cargo, so
# every one of them gets the optimised module, and cargo's own freshness check covers it.
#
# Release modules only (the output lies under a `release` directory): debug builds keep
# their DWARF and link fast. PUBSUB_WASM_OPT=off skips the pass (to measure it).
# scripts/setup.sh installs wasm-opt (Debian package `binaryen`).
set -eu

# rustc puts its own tool directory first on PATH when it runs the linker.
rust-lld "$@"

out=""
prev=""
for arg in "$@"; do
  if [ "$prev" = "-o" ]; then
    out="$arg"
  fi
  prev="$arg"
done

case "$out" in
  */release/*.wasm) ;;
  *) exit 0 ;;
esac
if [ "${PUBSUB_WASM_OPT:-on}" = "off" ]; then
  exit 0
fi
if ! command -v wasm-opt >/dev/null 2>&1; then
  echo "wasm-link: wasm-opt not found; run scripts/setup.sh (Debian package binaryen)" >&2
  exit 1
fi

# The features rustc enables by default for wasm32-wasip1; wasm-opt must neither drop
# them nor use any other (Fastly Compute and Viceroy run exactly these).
wasm-opt -Os \
  --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
  "$out" -o "$out.opt"
# Written over the linker's file, so that it keeps its mode.
cat "$out.opt" >"$out"
rm -f "$out.opt"
