#!/usr/bin/env bash
# Installs what Edge Pub/Sub needs to build, run and test locally on a Debian machine.
# Idempotent: every step checks first and does nothing when the tool is already there.
#   - Rust target wasm32-wasip1 (the Compute app), and rustfmt and clippy (scripts/test.sh
#     checks formatting and lints before the tests)
#   - Pushpin 1.36 (Debian package `pushpin`; Fanout's open-source twin)
#   - wasm-opt (Debian package `binaryen`): scripts/wasm-link.sh runs it over the release wasm
#   - Viceroy 0.22.0 (Fastly's local Compute server, built with cargo: ~10 minutes)
#   - the Fastly CLI (npm package @fastly/cli under tools/fastly-cli)
#   - the npm packages of the MQTT.js and browser end-to-end tests (tests/js)
#   - Chromium (Debian package `chromium`) and curl for the browser tests, jq for the
#     documentation's examples (tests/docs_examples.rs)
# Runs as root, or uses sudo for apt-get when it is available.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# apt_install PACKAGE: installs a Debian package, as root or through sudo.
apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      log "$1 is missing and installing it needs root (apt-get install $1)"
      exit 1
    fi
  fi
  log "installing $1 with apt-get"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$1"
}

VICEROY_VERSION=0.22.0

# Cargo's bin directory holds viceroy; make sure this script (and its callers) see it.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v cargo >/dev/null 2>&1; then
  log "cargo not found: install Rust with rustup (https://rustup.rs) first"
  exit 1
fi

# 1. wasm target
if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx 'wasm32-wasip1'; then
    log "adding Rust target wasm32-wasip1"
    rustup target add wasm32-wasip1
  fi
else
  log "rustup not found; make sure the wasm32-wasip1 target is installed"
fi

# 1b. rustfmt and clippy (`cargo fmt`, `cargo clippy`)
for component in rustfmt clippy; do
  subcommand="${component#rust}"
  if ! cargo "$subcommand" --version >/dev/null 2>&1; then
    if ! command -v rustup >/dev/null 2>&1; then
      log "cargo $subcommand is missing and rustup is not found: install the $component component"
      exit 1
    fi
    log "adding Rust component $component"
    rustup component add "$component"
  fi
done

# 2. Pushpin
if ! command -v pushpin >/dev/null 2>&1; then
  apt_install pushpin
fi

# 2b. wasm-opt, which the wasm32-wasip1 linker (scripts/wasm-link.sh, set in
#     .cargo/config.toml) runs over every release module
if ! command -v wasm-opt >/dev/null 2>&1; then
  apt_install binaryen
fi

# 3. Viceroy
installed_viceroy="$(viceroy --version 2>/dev/null || true)"
case "$installed_viceroy" in
  *" $VICEROY_VERSION"*) ;;
  *)
    log "installing viceroy $VICEROY_VERSION with cargo (found: ${installed_viceroy:-none});" \
      "this takes about 10 minutes"
    cargo install viceroy --version "$VICEROY_VERSION" --locked
    ;;
esac

log "ok: $(pushpin --version 2>/dev/null | head -n1), $(viceroy --version), $(wasm-opt --version), wasm32-wasip1, $(cargo fmt --version), $(cargo clippy --version)"

# 4. Fastly CLI
#    The npm package @fastly/cli, pinned by tools/fastly-cli/package.json and its lockfile,
#    for `fastly compute serve` / `pack` / `validate` and tests/e2e_fastly_cli.rs (see
#    "Running locally with the Fastly CLI" in README.md). npm puts the CLI's native binary
#    in tools/fastly-cli/node_modules/@fastly/cli-<os>-<arch>/fastly; run that one, not the
#    Node wrapper in node_modules/.bin, so stopping it stops its children.
fastly_cli_dir=tools/fastly-cli
fastly_cli_want="$(sed -n 's/.*"@fastly\/cli": *"\([^"]*\)".*/\1/p' "$fastly_cli_dir/package.json")"
fastly_cli_bin="$(ls "$fastly_cli_dir"/node_modules/@fastly/cli-*/fastly 2>/dev/null | head -n1 || true)"
fastly_cli_have="$([ -n "$fastly_cli_bin" ] && "$fastly_cli_bin" version 2>/dev/null | head -n1 || true)"
case "$fastly_cli_have" in
  *" v$fastly_cli_want "*) ;;
  *)
    if ! command -v npm >/dev/null 2>&1; then
      apt_install npm
    fi
    # `npm install`, not `npm ci`: @fastly/cli 16.1.0 names optional per-platform packages
    # that were never published for some platforms, which `npm ci` reports as a lockfile
    # mismatch. The lockfile still pins the versions and integrity hashes.
    log "installing the Fastly CLI $fastly_cli_want (npm install in $fastly_cli_dir)"
    (cd "$fastly_cli_dir" && npm install --no-audit --no-fund)
    fastly_cli_bin="$(ls "$fastly_cli_dir"/node_modules/@fastly/cli-*/fastly | head -n1)"
    ;;
esac
log "ok: $("$fastly_cli_bin" version | head -n1) at $fastly_cli_bin"

# 5. MQTT.js and browser end-to-end test dependencies
#    tests/e2e_mqtt_js.rs runs `node tests/js/mqtt_scenarios.mjs` and tests/e2e_browser.rs
#    `node tests/js/browser/main.mjs` (playwright-core, which drives the system's Chromium
#    and downloads no browser); they need the npm packages pinned by
#    tests/js/package-lock.json. `npm ci` runs only when
#    tests/js/node_modules is missing or the lockfile changed since the last install (the
#    lockfile's hash is kept in node_modules after a successful install).
js_dir=tests/js
js_stamp="$js_dir/node_modules/.edge-pubsub-lockfile.sha256"
js_lock_hash="$(sha256sum "$js_dir/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$js_dir/node_modules" ] || [ "$(cat "$js_stamp" 2>/dev/null || true)" != "$js_lock_hash" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    apt_install npm
  fi
  log "installing the MQTT.js and browser test dependencies (npm ci --prefix $js_dir)"
  npm ci --prefix "$js_dir" --no-audit --no-fund
  printf '%s\n' "$js_lock_hash" >"$js_stamp"
fi
log "ok: MQTT.js $(node -p "require('./$js_dir/node_modules/mqtt/package.json').version") in $js_dir"

# 6. Chromium and curl for the browser tests
#    tests/e2e_browser.rs drives Debian's Chromium (/usr/bin/chromium, headless) and uses
#    curl as the client outside the browser.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
if ! command -v curl >/dev/null 2>&1; then
  apt_install curl
fi
# jq and openssl for the API reference's admin examples,
# run by tests/docs_examples.rs.
if ! command -v jq >/dev/null 2>&1; then
  apt_install jq
fi
if ! command -v openssl >/dev/null 2>&1; then
  apt_install openssl
fi
log "ok: $(/usr/bin/chromium --version 2>/dev/null | head -n1), $(curl --version | head -n1 | cut -d' ' -f1-2), $(jq --version)"
