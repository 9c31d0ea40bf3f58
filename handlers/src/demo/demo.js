// Edge Pub/Sub demo page: subscribe with EventSource, publish with fetch, and connect with
// MQTT.js over WebSocket. No dependencies; MQTT.js is loaded only when MQTT is used, from a
// pinned address, and the browser checks it against its subresource-integrity hash.
"use strict";

const MQTT_JS = {
  src: "https://cdn.jsdelivr.net/npm/mqtt@5.16.0/dist/mqtt.min.js",
  integrity: "sha384-9WWboT9UtuPFRlOLq4FygQkcJxzYcpz8SXGkNyCEXM+44n14xzjNlrRKYZwuF/A6",
};
const MAX_LOG_ENTRIES = 200;

const $ = (id) => document.getElementById(id);
const token = () => $("token").value.trim();
// Topics are one per line: a topic name cannot hold a line break.
const topicsOf = (text) => text.split("\n").map((t) => t.trim()).filter((t) => t !== "");

function setStatus(id, text, tone = "") {
  const el = $(id);
  el.textContent = text;
  el.className = `status ${tone}`;
}

// Adds an entry at the top of a log: its kind, then `meta` pairs, then `data` if any.
function addEntry(logId, kind, meta = [], data) {
  const li = document.createElement("li");
  li.dataset.kind = kind;
  const head = document.createElement("div");
  head.className = "head";
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  const name = document.createElement("span");
  name.className = "kind";
  name.textContent = kind;
  head.append(time, name);
  for (const [label, value] of meta) {
    const span = document.createElement("span");
    span.className = "meta";
    span.dataset.label = label;
    span.textContent = `${label}: ${value}`;
    head.append(span);
  }
  li.append(head);
  if (data !== undefined) {
    const pre = document.createElement("pre");
    pre.className = "data";
    pre.textContent = data;
    li.append(pre);
  }
  const log = $(logId);
  log.prepend(li);
  while (log.children.length > MAX_LOG_ENTRIES) log.lastElementChild.remove();
}

// UTF-8 text if the bytes are UTF-8, else their size and hex.
function describeBytes(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const hex = Array.from(bytes.slice(0, 64), (b) => b.toString(16).padStart(2, "0"));
    return `${bytes.length} bytes: ${hex.join(" ")}${bytes.length > 64 ? " …" : ""}`;
  }
}

function base64Bytes(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

// What a token claims, read without verifying it (the broker verifies).
function describeToken() {
  const about = $("token-about");
  const parts = token().split(".");
  if (token() === "") return;
  try {
    const claims = JSON.parse(new TextDecoder().decode(
      base64Bytes(parts[1].replace(/-/g, "+").replace(/_/g, "/"))));
    const list = (v) => (Array.isArray(v) && v.length ? v.join(", ") : "nothing");
    const exp = claims.exp ? `, expires ${new Date(claims.exp * 1000).toLocaleString()}` : "";
    about.textContent = `This token may read ${list(claims["x-fastly-read"])} and write ` +
      `${list(claims["x-fastly-write"])}${exp}.`;
  } catch {
    about.textContent = "This does not look like a JWT; the broker will say what is wrong.";
  }
}

// ---- Subscribe with EventSource ----------------------------------------------------------

let source = null;

function closeSource(text, tone) {
  if (source) source.close();
  source = null;
  $("sub-stop").disabled = true;
  if (text) setStatus("sub-status", text, tone);
}

function subscribe(event) {
  event.preventDefault();
  closeSource();
  const topics = topicsOf($("sub-topics").value);
  if (topics.length === 0) return setStatus("sub-status", "Name at least one topic.", "error");
  const query = new URLSearchParams();
  for (const topic of topics) query.append("topic", topic);
  if ($("sub-durable").checked) query.set("durable", "true");
  if ($("sub-rewind").checked) query.set("rewind", "10");
  // EventSource cannot send headers: the token goes in `auth`.
  if (token()) query.set("auth", token());
  const es = new EventSource(`/events?${query}`);
  source = es;
  $("sub-stop").disabled = false;
  setStatus("sub-status", "Connecting…");
  // An event without `id:` keeps the last id (what a reconnect sends as Last-Event-ID), so
  // an id is shown only when it changes.
  let lastId = "";
  const show = (kind, data) => (e) => {
    const meta = e.lastEventId !== lastId ? [["id", e.lastEventId]] : [];
    lastId = e.lastEventId;
    addEntry("sub-log", kind, meta, data ? data(e.data) : undefined);
  };
  es.addEventListener("stream-open", (e) => {
    show("stream-open")(e);
    setStatus("sub-status", `Subscribed to ${topics.join(", ")}.`, "ok");
  });
  es.addEventListener("message", show("message", (d) => d));
  es.addEventListener("message-base64", show("message-base64", (d) => describeBytes(base64Bytes(d))));
  es.addEventListener("keep-alive", show("keep-alive"));
  // History lost messages the stream asked for: say which and where the replay starts.
  es.addEventListener("gap", show("gap", (d) => d));
  es.addEventListener("stream-error", (e) => {
    let why;
    try {
      why = JSON.parse(e.data);
    } catch {
      why = { condition: "unknown", text: e.data };
    }
    addEntry("sub-log", "stream-error", [["condition", why.condition]], why.text);
    // The stream ends after a stream-error: close, or the browser reconnects for ever.
    closeSource(`Closed by the broker: ${why.condition}: ${why.text}`, "error");
  });
  es.addEventListener("error", () => {
    if (source !== es) return;
    if (es.readyState === EventSource.CLOSED) {
      closeSource("The broker refused the stream (not a 200 text/event-stream answer).", "error");
    } else {
      setStatus("sub-status", "Connection lost; the browser reconnects by itself…", "error");
    }
  });
}

// ---- Publish with fetch --------------------------------------------------------------------

async function publish(event) {
  event.preventDefault();
  const query = new URLSearchParams({ topic: $("pub-topic").value.trim() });
  if ($("pub-retain").checked) {
    query.set("retain", "true");
    const ttl = $("pub-ttl").value.trim();
    if (ttl) query.set("ttl", ttl);
  }
  const file = $("pub-file").files[0];
  const headers = token() ? { Authorization: `Bearer ${token()}` } : {};
  setStatus("pub-status", "Publishing…");
  try {
    const res = await fetch(`/events?${query}`, {
      method: "POST",
      headers,
      body: file ?? $("pub-text").value,
    });
    const text = (await res.text()).trim();
    const version = res.headers.get("Pubsub-Version");
    const tail = version ? ` (retained as version ${version})` : "";
    setStatus("pub-status", `${res.status}: ${text}${tail}`, res.ok ? "ok" : "error");
  } catch (e) {
    setStatus("pub-status", `Could not reach the broker: ${e.message}`, "error");
  }
}

// ---- MQTT over WebSocket with MQTT.js -------------------------------------------------------

let mqttClient = null;
let mqttLoading = null;

function loadMqttJs() {
  if (window.mqtt) return Promise.resolve(window.mqtt);
  mqttLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = MQTT_JS.src;
    script.integrity = MQTT_JS.integrity;
    script.crossOrigin = "anonymous";
    script.onload = () => resolve(window.mqtt);
    script.onerror = () => {
      mqttLoading = null;
      script.remove();
      reject(new Error(`MQTT.js could not be loaded from ${MQTT_JS.src} ` +
        "(offline, blocked, or not the file its integrity hash names)"));
    };
    document.head.append(script);
  });
  return mqttLoading;
}

function setMqttButtons(connected) {
  $("mqtt-disconnect").disabled = !connected;
  $("mqtt-subscribe").disabled = !connected;
  $("mqtt-publish").disabled = !connected;
}

function mqttDisconnect() {
  const client = mqttClient;
  mqttClient = null;
  setMqttButtons(false);
  if (client) client.end(true);
}

async function mqttConnect(event) {
  event.preventDefault();
  mqttDisconnect();
  const version = Number($("mqtt-version").value);
  const label = version === 5 ? "MQTT 5" : "MQTT 3.1.1";
  setStatus("mqtt-status", "Loading MQTT.js…");
  let mqtt;
  try {
    mqtt = await loadMqttJs();
  } catch (e) {
    return setStatus("mqtt-status", e.message, "error");
  }
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/mqtt`;
  setStatus("mqtt-status", `Connecting with ${label}…`);
  // The broker reads the token from the password; the user name is not used.
  const client = mqtt.connect(url, {
    protocolVersion: version, username: "demo", password: token(), reconnectPeriod: 0,
  });
  mqttClient = client;
  const current = () => mqttClient === client;
  client.on("connect", () => {
    if (!current()) return;
    addEntry("mqtt-log", "connack", [["protocol", label]]);
    setStatus("mqtt-status", `Connected with ${label}.`, "ok");
    setMqttButtons(true);
  });
  client.on("message", (topic, payload, packet) => {
    const meta = [["topic", topic]];
    if (packet.retain) meta.push(["retain", "yes"]);
    addEntry("mqtt-log", "message", meta, describeBytes(payload));
  });
  client.on("disconnect", (packet) => {
    addEntry("mqtt-log", "disconnect", [["reason code", packet.reasonCode ?? "none"]]);
  });
  client.on("error", (err) => {
    addEntry("mqtt-log", "error", [], err.message);
    if (current()) setStatus("mqtt-status", `Error: ${err.message}`, "error");
  });
  client.on("close", () => {
    if (!current()) return;
    mqttClient = null;
    setMqttButtons(false);
    setStatus("mqtt-status", "Disconnected.", "error");
  });
}

function mqttSubscribe(event) {
  event.preventDefault();
  const topics = topicsOf($("mqtt-topics").value);
  if (!mqttClient || topics.length === 0) return;
  mqttClient.subscribe(topics, { qos: 0 }, (err, granted) => {
    if (err) return addEntry("mqtt-log", "error", [], `SUBSCRIBE failed: ${err.message}`);
    // The granted QoS, or the reason code (0x80 and above) when a filter was refused.
    const codes = granted.map((g) => `${g.topic} → 0x${g.qos.toString(16).padStart(2, "0")}`);
    addEntry("mqtt-log", "suback", [], codes.join("\n"));
  });
}

function mqttPublish(event) {
  event.preventDefault();
  if (!mqttClient) return;
  const topic = $("mqtt-pub-topic").value.trim();
  const qos = Number($("mqtt-qos").value);
  const options = { qos, retain: $("mqtt-retain").checked };
  mqttClient.publish(topic, $("mqtt-pub-text").value, options, (err) => {
    if (err) return addEntry("mqtt-log", "error", [["topic", topic]], `PUBLISH: ${err.message}`);
    const ack = ["sent (QoS 0: no acknowledgement)", "PUBACK", "PUBCOMP"][qos];
    addEntry("mqtt-log", qos === 0 ? "published" : ack.toLowerCase(), [["topic", topic]]);
  });
}

// ---- Start ------------------------------------------------------------------------------------

function start() {
  $("origin").textContent = location.origin;
  // `#token=...` (as scripts/run.sh prints it): take the token, then drop it from the address bar.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("token")) {
    $("token").value = fragment.get("token");
    history.replaceState(null, "", location.pathname + location.search);
  }
  describeToken();
  $("token").addEventListener("input", describeToken);
  $("sub-form").addEventListener("submit", subscribe);
  $("sub-stop").addEventListener("click", () => closeSource("Closed."));
  $("pub-form").addEventListener("submit", publish);
  $("pub-retain").addEventListener("change", (e) => ($("pub-ttl").disabled = !e.target.checked));
  $("pub-file-clear").addEventListener("click", () => ($("pub-file").value = ""));
  $("mqtt-form").addEventListener("submit", mqttConnect);
  $("mqtt-disconnect").addEventListener("click", () => {
    mqttDisconnect();
    setStatus("mqtt-status", "Disconnected.");
  });
  $("mqtt-sub-form").addEventListener("submit", mqttSubscribe);
  $("mqtt-pub-form").addEventListener("submit", mqttPublish);
}

start();
