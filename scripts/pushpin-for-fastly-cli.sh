#!/usr/bin/env bash
# Runs Debian's Pushpin 1.36 for `fastly compute serve` (Fastly CLI 16).
#
# The CLI starts Pushpin as `<pushpin_path> --config=<file> --verbose`, with a config
# written for newer Pushpin releases, and waits for a line ending in "started" on stdout.
# Pushpin 1.36 cannot run that config as it is: it has no `connmgr`/`proxy`/`handler`
# services (they are `condure`, `pushpin-proxy`, `pushpin-handler` there) and it needs its
# own zurl, so the CLI would wait forever. Give this script to the CLI as `pushpin_path`
# (`[local_server.pushpin]` in fastly.toml, or `--pushpin-path`); it writes an adapted
# copy of the config into the CLI's Pushpin run directory and execs pushpin with it:
#
#   [runner]  services=condure,zurl,pushpin-proxy,pushpin-handler; the client port binds
#             127.0.0.1 only
#   [proxy]   zurl_out_specs / zurl_out_stream_specs / zurl_in_specs: ipc sockets in the
#             run directory, where the runner's own zurl binds them (Debian's defaults
#             point at a system zurl that is not running); updates_check=off (offline);
#             sig_iss / sig_key = what the app expects of `Grip-Sig` (see below)
#   [handler] the ZeroMQ publish/command sockets become ipc sockets in the run directory
#             (the CLI puts them on TCP ports publish_port+1..+3); the HTTP publish
#             endpoint binds 127.0.0.1 only
#
# Grip-Sig: the app verifies the `Grip-Sig` Pushpin signs with the Secret Store entry
# `grip-sig-key` and expects the issuer in Config Store key `grip-sig-iss` (default
# `pushpin`), while the CLI's config has its own `sig_key` and `sig_iss`. The key is taken
# from $PUBSUB_GRIP_SIG_KEY, else from `grip-sig-key` in ./fastly.toml (the CLI runs
# Pushpin in the project directory), else the CLI's value is kept; the issuer from
# $PUBSUB_GRIP_SIG_ISS, else `grip-sig-iss` in ./fastly.toml, else `pushpin`.
#
# Environment: PUBSUB_PUSHPIN_BIN (default: `pushpin` on PATH), PUBSUB_GRIP_SIG_KEY,
# PUBSUB_GRIP_SIG_ISS.
set -euo pipefail

log() { printf 'pushpin-for-fastly-cli: %s\n' "$*" >&2; }

pushpin_bin="${PUBSUB_PUSHPIN_BIN:-pushpin}"

config=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config=*) config="${1#--config=}" ;;
    --config) config="${2:-}"; shift ;;
    *) args+=("$1") ;;
  esac
  shift
done
if [ -z "$config" ] || [ ! -f "$config" ]; then
  log "expected --config=<file> from the Fastly CLI (got: ${config:-nothing})"
  exit 2
fi

# The run directory the CLI chose (it removes it when it stops).
rundir="$(sed -n 's/^[[:space:]]*rundir[[:space:]]*=[[:space:]]*//p' "$config" | head -n1)"
if [ -z "$rundir" ]; then
  log "no rundir in $config"
  exit 2
fi
mkdir -p "$rundir"

sig_key="${PUBSUB_GRIP_SIG_KEY:-}"
if [ -z "$sig_key" ] && [ -f fastly.toml ]; then
  # `{ key = "grip-sig-key", data = "..." }` in [local_server.secret_stores].
  sig_key="$(sed -n 's/.*key[[:space:]]*=[[:space:]]*"grip-sig-key"[[:space:]]*,[[:space:]]*data[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' fastly.toml | head -n1)"
fi
sig_iss="${PUBSUB_GRIP_SIG_ISS:-}"
if [ -z "$sig_iss" ] && [ -f fastly.toml ]; then
  # `"grip-sig-iss" = "..."` in the inline Config Store `config`.
  sig_iss="$(sed -n 's/^[[:space:]]*"\{0,1\}grip-sig-iss"\{0,1\}[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' fastly.toml | head -n1)"
fi
sig_iss="${sig_iss:-pushpin}"

adapted="$rundir/pushpin-1.36.conf"
awk -v sig_key="$sig_key" -v sig_iss="$sig_iss" '
  function flush_section(   ) {
    if (section == "proxy") {
      print "zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in"
      print "zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream"
      print "zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out"
      print "updates_check=off"
      if (sig_key != "") print "sig_key=" sig_key
      print "sig_iss=" sig_iss
    }
    if (section == "runner") {
      print "services=condure,zurl,pushpin-proxy,pushpin-handler"
      print "condure_bin=condure"
    }
  }
  /^[[:space:]]*\[/ {
    flush_section()
    section = $0
    gsub(/^[[:space:]]*\[|\][[:space:]]*$/, "", section)
    print
    next
  }
  {
    line = $0
    key = line
    sub(/[[:space:]]*=.*/, "", key)
    gsub(/^[[:space:]]+/, "", key)
    value = line
    sub(/^[^=]*=[[:space:]]*/, "", value)
    if (section == "runner" && (key == "services" || key == "condure_bin")) next
    if (section == "runner" && key == "http_port" && value ~ /^[0-9]+$/) {
      print "http_port=127.0.0.1:" value
      next
    }
    if (section == "proxy" && (key ~ /^zurl_(out|out_stream|in)_specs$/ || key == "updates_check")) next
    if (section == "proxy" && key == "sig_key" && sig_key != "") next
    if (section == "proxy" && key == "sig_iss") next
    if (section == "handler" && key == "push_in_spec") { print "push_in_spec=ipc://{rundir}/{ipc_prefix}push-in"; next }
    if (section == "handler" && key == "push_in_sub_specs") { print "push_in_sub_specs=ipc://{rundir}/{ipc_prefix}push-in-sub"; next }
    if (section == "handler" && key == "command_spec") { print "command_spec=ipc://{rundir}/{ipc_prefix}handler-command"; next }
    if (section == "handler" && key == "push_in_http_addr") { print "push_in_http_addr=127.0.0.1"; next }
    print
  }
  END { flush_section() }
' "$config" >"$adapted"

exec "$pushpin_bin" "--config=$adapted" ${args[@]+"${args[@]}"}
