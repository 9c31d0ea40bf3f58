// End-to-end scenarios for the /mqtt endpoint with MQTT.js (npm `mqtt`), run against the
// real local stack (Pushpin + Viceroy) by tests/e2e_mqtt_js.rs, once with
// `protocolVersion: 5` and once with MQTT.js's default (3.1.1, protocol level 4).
//
// Input: the environment variable PUBSUB_MQTTJS, a JSON object
//   {
//     "mqttUrl": "ws://127.0.0.1:<port>/mqtt",
//     "appUrl": "http://127.0.0.1:<port>",
//     "protocolVersion": 5 | "default",
//     "token": "<may read and write every topic in `topics` but `theirs` and `readOnly`>",
//     "badTokens": { "<what>": "<token>", ... },
//     "topics": { "<key>": "<topic>", ... }
//   }
// Output: one line per scenario ("ok" / "FAIL" / "skip"), then a summary line. Exit code 0
// when every scenario passed, 1 when one failed, 2 on a usage error or when the whole run
// exceeded its time limit.

import mqtt from 'mqtt';
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mqttVersion = require('mqtt/package.json').version;
// MQTT.js's own packet encoder, to write a packet MQTT.js would not send by itself.
const mqttPacket = createRequire(require.resolve('mqtt'))('mqtt-packet');

const SCENARIO_MS = 10_000; // each scenario's own limit
const TOTAL_MS = 60_000; // the whole run's limit
const QUIET_MS = 600; // how long "nothing arrives" is watched for

const started = Date.now();
const totalTimer = setTimeout(() => {
  console.log(`FAIL the whole run took longer than ${TOTAL_MS} ms`);
  process.exit(2);
}, TOTAL_MS);

let cfg;
try {
  cfg = JSON.parse(process.env.PUBSUB_MQTTJS ?? '');
} catch (e) {
  console.error(`PUBSUB_MQTTJS must hold the JSON configuration (${e.message})`);
  process.exit(2);
}
const v5 = cfg.protocolVersion === 5;
const label = v5 ? 'MQTT 5' : 'MQTT 3.1.1 (MQTT.js default)';

/** A topic from the configuration; a missing key is a bug of the Rust side. */
function topic(key) {
  const t = cfg.topics?.[key];
  if (typeof t !== 'string') throw new Error(`no topic "${key}" in PUBSUB_MQTTJS.topics`);
  return t;
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

let clientSeq = 0;

/** Clients and streams opened by the running scenario, closed when it ends. */
let opened = [];

function fail(message) {
  throw new Error(message);
}

function eq(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts the WebSocket messages a client sends: builds the socket exactly as MQTT.js does in
 * Node (`new WebSocket(url, [subprotocol], wsOptions)`) and wraps its `send`.
 */
function countingWebsocket(counter) {
  return (url, protocols, opts) => {
    const socket = new WebSocket(url, protocols, opts.wsOptions);
    const send = socket.send.bind(socket);
    socket.send = (data, ...rest) => {
      counter.messages += 1;
      counter.sizes.push(data.length ?? data.byteLength);
      return send(data, ...rest);
    };
    return socket;
  };
}

/** MQTT.js options for this run; the protocol level is left at MQTT.js's default for 3.1.1. */
function options(extra = {}) {
  const opts = {
    clientId: `mqttjs-e2e-${process.pid}-${clientSeq++}`,
    username: 'anyone', // the broker reads only the password
    password: cfg.token,
    reconnectPeriod: 0,
    connectTimeout: 8_000,
    keepalive: 30,
    ...extra,
  };
  if (v5) opts.protocolVersion = 5;
  return opts;
}

/**
 * Connects and resolves with `{ client, connack, inbox }` once CONNACK accepted it;
 * rejects with MQTT.js's error (whose `code` is the CONNACK reason / return code).
 */
function connect(extra = {}) {
  return new Promise((resolve, reject) => {
    const client = newClient(options(extra));
    const box = inbox(client);
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('the connection closed before CONNACK'));
    };
    const onConnect = (connack) => {
      cleanup();
      resolve({ client, connack, inbox: box });
    };
    const cleanup = () => {
      client.off('error', onError);
      client.off('close', onClose);
      client.off('connect', onConnect);
    };
    client.on('error', onError);
    client.on('close', onClose);
    client.on('connect', onConnect);
  });
}

/** Incoming PUBLISH packets of a client, taken in order with a timeout. */
function inbox(client) {
  const items = [];
  const waiters = [];
  client.on('message', (topicName, payload, packet) => {
    const m = { topic: topicName, payload: Buffer.from(payload), packet };
    const w = waiters.shift();
    if (w) w(m);
    else items.push(m);
  });
  return {
    next(what, ms = 5_000) {
      if (items.length) return Promise.resolve(items.shift());
      return within(
        ms,
        new Promise((resolve) => waiters.push(resolve)),
        what,
      );
    },
    /**
     * Waits for `n` messages (at most `ms`) and returns those that came, in order; when
     * fewer came, waits a little longer for late ones so a failure shows lost vs. late.
     */
    async take(n, ms = 5_000) {
      const deadline = Date.now() + ms;
      while (items.length < n && Date.now() < deadline) await sleep(20);
      if (items.length < n) await sleep(QUIET_MS);
      return items.splice(0, items.length);
    },
    /** Fails if any message arrives within `ms`. */
    async none(what, ms = QUIET_MS) {
      await sleep(ms);
      if (items.length) {
        const m = items[0];
        fail(`${what}: got a message on ${JSON.stringify(m.topic)}: ${m.payload.toString()}`);
      }
    },
  };
}

/** Messages as `[topic, payload hex]` pairs, for comparisons that show what arrived. */
function describe(messages) {
  return messages.map((m) => [m.topic, Buffer.from(m.payload).toString('hex')]);
}

/** Sends one SUBSCRIBE; resolves with the SUBACK's reason codes and MQTT.js's error, if any. */
function subscribe(client, subs) {
  return new Promise((resolve) => {
    client.subscribe(subs, (err, _granted, suback) => {
      const packet = suback ?? err?.packet;
      resolve({ err, codes: packet?.granted });
    });
  });
}

/** Sends one UNSUBSCRIBE; resolves with the UNSUBACK packet. */
function unsubscribe(client, topics) {
  return new Promise((resolve, reject) => {
    client.unsubscribe(topics, (err, packet) => (err ? reject(err) : resolve(packet)));
  });
}

/** Publishes; resolves with `{ err, packet }` of the acknowledgement (QoS 1 PUBACK, QoS 2
 * PUBCOMP or a refusing PUBREC) or send (QoS 0). */
function publish(client, topicName, payload, qos) {
  return new Promise((resolve) => {
    client.publish(topicName, payload, { qos }, (err, packet) => resolve({ err, packet }));
  });
}

/** Creates an MQTT.js client that remembers when its connection closed. */
function newClient(opts) {
  const client = mqtt.connect(cfg.mqttUrl, opts);
  client.closedOnce = new Promise((resolve) => client.once('close', resolve));
  // Without a listener an 'error' event would end the whole script; keep them for the report.
  client.errors = [];
  client.on('error', (err) => client.errors.push(err));
  opened.push(client);
  return client;
}

/** Resolves when the client's connection closes. */
function closed(client) {
  return client.closedOnce;
}

function eventsUrl(topics, extra = '') {
  const q = topics.map((t) => `topic=${encodeURIComponent(t)}`).join('&');
  return `${cfg.appUrl}/events?${q}${extra}`;
}

/** HTTP publish (the original app's contract): POST /events?topic=T with a bearer token. */
async function httpPublish(topicName, body, extra = '') {
  const res = await fetch(eventsUrl([topicName], extra), {
    method: 'POST',
    headers: { authorization: `Bearer ${cfg.token}` },
    body,
  });
  const text = await res.text();
  if (res.status !== 200) fail(`HTTP publish to ${topicName}: ${res.status} ${text}`);
}

/** An SSE subscription read with fetch; resolves once `stream-open` arrived. */
async function sse(topics) {
  const abort = new AbortController();
  const res = await fetch(eventsUrl(topics, `&auth=${encodeURIComponent(cfg.token)}`), {
    signal: abort.signal,
    headers: { accept: 'text/event-stream' },
  });
  if (res.status !== 200) fail(`SSE subscribe: ${res.status} ${await res.text()}`);
  const stream = { close: () => abort.abort() };
  opened.push(stream);
  const events = [];
  const waiters = [];
  const deliver = (ev) => {
    const w = waiters.shift();
    if (w) w(ev);
    else events.push(ev);
  };
  (async () => {
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const ev = { event: 'message', data: [] };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const i = line.indexOf(':');
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (field === 'event') ev.event = value;
            else if (field === 'data') ev.data.push(value);
          }
          if (ev.event !== 'keep-alive') deliver({ event: ev.event, data: ev.data.join('\n') });
        }
      }
    } catch {
      // aborted at the end of the scenario
    }
  })();
  const next = (what, ms = 5_000) =>
    events.length
      ? Promise.resolve(events.shift())
      : within(ms, new Promise((resolve) => waiters.push(resolve)), what);
  const first = await next('the SSE stream-open event');
  eq(first.event, 'stream-open', 'first SSE event');
  return { next };
}

// Reason codes as MQTT.js reports them (v5 reason code / v3.1.1 return code).
const NOT_AUTHORIZED_CONNACK = v5 ? 0x87 : 0x05;
const SUBACK_NOT_AUTHORIZED = v5 ? 0x87 : 0x80;
const SUBACK_WILDCARDS_NOT_SUPPORTED = v5 ? 0xa2 : 0x80;

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

const scenarios = [];
const scenario = (name, fn, { v5Only = false } = {}) => scenarios.push({ name, fn, v5Only });

scenario('a good token in the password connects (any user name)', async () => {
  const { connack } = await connect();
  eq(connack.cmd, 'connack', 'packet');
  eq(connack.sessionPresent, false, 'Session Present');
  if (v5) {
    eq(connack.reasonCode, 0, 'CONNACK reason code');
    const p = connack.properties ?? {};
    eq(p.maximumQoS, undefined, 'Maximum QoS (absent: QoS 2 is accepted)');
    eq(p.receiveMaximum, 64, 'Receive Maximum');
    // Retain Available is left to the durability tests: it turns true with retained messages.
    eq(p.wildcardSubscriptionAvailable, undefined, 'Wildcard Subscription Available (absent: available)');
    eq(p.sharedSubscriptionAvailable, false, 'Shared Subscription Available');
    eq(p.topicAliasMaximum ?? 0, 0, 'Topic Alias Maximum');
    if (!(p.maximumPacketSize > 0)) fail(`Maximum Packet Size missing: ${JSON.stringify(p)}`);
  } else {
    eq(connack.returnCode, 0, 'CONNACK return code');
  }
  // An empty client id is accepted; MQTT 5 assigns one.
  const anon = await connect({ clientId: '' });
  if (v5) {
    const assigned = anon.connack.properties?.assignedClientIdentifier;
    if (!assigned) fail('no Assigned Client Identifier for an empty client id');
  }
});

scenario('a bad or missing token gets CONNACK "not authorized" and a close', async () => {
  const cases = { ...cfg.badTokens, 'no password': undefined };
  for (const [what, password] of Object.entries(cases)) {
    const opts = options();
    if (password === undefined) delete opts.password;
    else opts.password = password;
    let client;
    const err = await within(
      SCENARIO_MS / 2,
      new Promise((resolve, reject) => {
        client = newClient(opts);
        client.on('error', resolve);
        client.on('connect', () => reject(new Error(`${what}: connected`)));
      }),
      `${what}: CONNACK refusal`,
    );
    eq(err.code, NOT_AUTHORIZED_CONNACK, `${what}: CONNACK code (${err.message})`);
    await within(3_000, closed(client), `${what}: the close after the refusal`);
  }
});

scenario('one SUBSCRIBE with two topics is granted [0,0] and receives on both', async () => {
  const [a, b] = [topic('twoA'), topic('twoB')];
  const rx = await connect();
  let subscribePackets = 0;
  rx.client.on('packetsend', (p) => {
    if (p.cmd === 'subscribe') {
      subscribePackets += 1;
      eq(p.subscriptions.length, 2, 'filters in the SUBSCRIBE');
    }
  });
  const { err, codes } = await subscribe(rx.client, { [a]: { qos: 0 }, [b]: { qos: 0 } });
  if (err) fail(`subscribe failed: ${err.message}`);
  eq(codes, [0, 0], 'SUBACK');
  eq(subscribePackets, 1, 'SUBSCRIBE packets sent');
  // One message over HTTP, one from another MQTT client.
  await httpPublish(a, 'to a over HTTP');
  const tx = await connect();
  const sent = await publish(tx.client, b, 'to b over MQTT', 0);
  if (sent.err) fail(`publish: ${sent.err.message}`);
  const got = new Map();
  for (let i = 0; i < 2; i++) {
    const m = await rx.inbox.next(`message ${i + 1} of 2`);
    got.set(m.topic, m.payload.toString());
  }
  eq(
    Object.fromEntries([...got].sort()),
    Object.fromEntries([[a, 'to a over HTTP'], [b, 'to b over MQTT']].sort()),
    'messages received',
  );
});

scenario('HTTP publish reaches an MQTT subscriber (binary and UTF-8)', async () => {
  const t = topic('http2mqtt');
  const rx = await connect();
  const { codes } = await subscribe(rx.client, t);
  eq(codes, [0], 'SUBACK');
  const binary = Buffer.from([0x00, 0xff, 0x80, 0x7f, 0x0a, 0x0d, 0xc3]);
  const text = Buffer.from('héllo wörld');
  await httpPublish(t, binary);
  await httpPublish(t, text);
  const got = await rx.inbox.take(2);
  eq(describe(got), describe([{ topic: t, payload: binary }, { topic: t, payload: text }]), 'messages (topic, payload hex), in order');
  eq(got.map((m) => m.packet.qos), [0, 0], 'delivery QoS');
});

scenario('MQTT publish reaches an SSE subscriber (message and message-base64)', async () => {
  const t = topic('mqtt2sse');
  const stream = await sse([t]);
  const { client } = await connect();
  const text = await publish(client, t, 'from MQTT.js ✓', 0);
  if (text.err) fail(`publish: ${text.err.message}`);
  const bin = await publish(client, t, Buffer.from([0xff, 0x00, 0x80]), 1);
  if (bin.err) fail(`QoS 1 publish: ${bin.err.message}`);
  const e1 = await stream.next('the UTF-8 SSE event');
  eq([e1.event, e1.data], ['message', 'from MQTT.js ✓'], 'UTF-8 event');
  const e2 = await stream.next('the binary SSE event');
  eq([e2.event, e2.data], ['message-base64', Buffer.from([0xff, 0x00, 0x80]).toString('base64')], 'binary event');
});

scenario('QoS 1 publish is acknowledged with PUBACK', async () => {
  const t = topic('qos1');
  const rx = await connect();
  eq((await subscribe(rx.client, t)).codes, [0], 'SUBACK');
  const tx = await connect();
  let pubacks = 0;
  tx.client.on('packetreceive', (p) => {
    if (p.cmd === 'puback') pubacks += 1;
  });
  for (const n of [1, 2, 3]) {
    const { err, packet } = await publish(tx.client, t, `qos1 #${n}`, 1);
    if (err) fail(`publish #${n}: ${err.message} (code ${err.code})`);
    if (v5 && packet?.reasonCode) fail(`PUBACK reason ${packet.reasonCode}`);
  }
  eq(pubacks, 3, 'PUBACK packets');
  const got = await rx.inbox.take(3);
  eq(got.map((m) => m.payload.toString()), ['qos1 #1', 'qos1 #2', 'qos1 #3'], 'messages, in order');
  eq(got.map((m) => m.packet.qos), [0, 0, 0], 'delivery QoS (the broker delivers at QoS 0)');
});

/** Counts the QoS 2 packets a client sends and receives, by type. */
function qos2Counter(client) {
  const n = { pubrec: 0, pubrel: 0, pubcomp: 0 };
  client.on('packetreceive', (p) => {
    if (p.cmd === 'pubrec' || p.cmd === 'pubcomp') n[p.cmd] += 1;
  });
  client.on('packetsend', (p) => {
    if (p.cmd === 'pubrel') n.pubrel += 1;
  });
  return n;
}

scenario('QoS 2 publish completes PUBREC / PUBREL / PUBCOMP; each message arrives once', async () => {
  const t = topic('qos1');
  const rx = await connect();
  eq((await subscribe(rx.client, { [t]: { qos: 2 } })).codes, [0], 'SUBACK (the broker grants QoS 0)');
  const tx = await connect();
  const n = qos2Counter(tx.client);
  const sent = [];
  for (const i of [1, 2, 3]) {
    const { err } = await publish(tx.client, t, `qos2 #${i}`, 2);
    if (err) fail(`publish #${i}: ${err.message} (code ${err.code})`);
    eq(n.pubcomp, i, `PUBCOMPs when publish #${i} resolved`);
    sent.push(`qos2 #${i}`);
  }
  // A few at once: each its own packet identifier, all in flight together.
  const burst = [4, 5, 6, 7, 8].map((i) => `qos2 #${i}`);
  const results = await Promise.all(burst.map((m) => publish(tx.client, t, m, 2)));
  for (const { err } of results) if (err) fail(`burst publish: ${err.message} (code ${err.code})`);
  sent.push(...burst);
  eq(n, { pubrec: 8, pubrel: 8, pubcomp: 8 }, 'QoS 2 packets');
  const got = await rx.inbox.take(8);
  eq(got.map((m) => m.payload.toString()).sort(), [...sent].sort(), 'messages, each once');
  eq([...new Set(got.map((m) => m.packet.qos))], [0], 'delivery QoS (the broker delivers at QoS 0)');
  await rx.inbox.none('after the eight messages');
});

scenario('a QoS 2 PUBLISH re-sent (DUP) before PUBREL gets PUBREC again and arrives once', async () => {
  const t = topic('qos1');
  const rx = await connect();
  eq((await subscribe(rx.client, t)).codes, [0], 'SUBACK');
  const tx = await connect();
  const n = qos2Counter(tx.client);
  // Right after MQTT.js writes the PUBLISH, write it again with DUP, as a client that did
  // not see the PUBREC would; the PUBREL can only follow the first PUBREC.
  tx.client.once('packetsend', (p) => {
    const dup = mqttPacket.generate({ ...p, dup: true }, tx.client.options);
    setImmediate(() => tx.client.stream.write(dup));
  });
  const { err } = await publish(tx.client, t, 'exactly once', 2);
  if (err) fail(`publish: ${err.message} (code ${err.code})`);
  const got = await rx.inbox.take(1);
  eq(got.map((m) => m.payload.toString()), ['exactly once'], 'messages');
  await rx.inbox.none('a second copy');
  if (n.pubrec < 2) fail(`expected a PUBREC for each copy, got ${JSON.stringify(n)}`);
});

scenario(
  v5
    ? 'unauthorized QoS 2 publish gets PUBREC 0x87 and the connection stays'
    : 'unauthorized QoS 2 publish closes the connection (3.1.1 has no negative PUBREC)',
  async () => {
    const t = topic('readOnly');
    const stream = await sse([t]);
    const { client } = await connect();
    if (v5) {
      const { err, packet } = await within(5_000, publish(client, t, 'nope', 2), 'the PUBREC');
      if (!err) fail('the publish succeeded');
      eq([packet?.cmd, err.code], ['pubrec', 0x87], `refusal (${err.message})`);
      const ok = await publish(client, topic('mine'), 'allowed', 2);
      if (ok.err) fail(`a later authorized publish failed: ${ok.err.message}`);
    } else {
      let acked = false;
      client.publish(t, 'nope', { qos: 2 }, (err) => {
        if (!err) acked = true;
      });
      await within(5_000, closed(client), 'the close');
      if (acked) fail('the refused publish was acknowledged');
    }
    const leaked = await stream.next('nothing', QUIET_MS).catch(() => null);
    if (leaked) fail(`the refused message was delivered: ${JSON.stringify(leaked)}`);
  },
);

scenario('unauthorized SUBSCRIBE filter gets its own "not authorized" code', async () => {
  const [mine, theirs] = [topic('mine'), topic('theirs')];
  const rx = await connect();
  const { err, codes } = await subscribe(rx.client, { [mine]: { qos: 0 }, [theirs]: { qos: 0 } });
  eq(codes, [0, SUBACK_NOT_AUTHORIZED], 'SUBACK');
  // MQTT.js reports a refused filter as an error of the subscribe call.
  if (!/Subscribe error/.test(err?.message ?? '')) fail(`no subscribe error: ${err?.message}`);
  // The granted filter works and the connection stays.
  await httpPublish(mine, 'still subscribed');
  eq((await rx.inbox.next('a message on the granted topic')).payload.toString(), 'still subscribed', 'payload');
});

scenario(
  v5
    ? 'unauthorized QoS 1 publish gets PUBACK 0x87 and the connection stays'
    : 'unauthorized QoS 1 publish closes the connection (3.1.1 has no negative PUBACK)',
  async () => {
    const t = topic('readOnly'); // readable, not writable
    const mine = topic('mine');
    const stream = await sse([t]);
    const { client } = await connect();
    if (v5) {
      const { err } = await within(5_000, publish(client, t, 'nope', 1), 'the PUBACK');
      if (!err) fail('the publish succeeded');
      eq(err.code, 0x87, `PUBACK reason (${err.message})`);
      const ok = await publish(client, mine, 'allowed', 1);
      if (ok.err) fail(`a later authorized publish failed: ${ok.err.message}`);
      if (!client.connected) fail('the connection closed');
    } else {
      let acked = false;
      client.publish(t, 'nope', { qos: 1 }, (err) => {
        if (!err) acked = true;
      });
      await within(5_000, closed(client), 'the close');
      if (acked) fail('the refused publish was acknowledged');
    }
    // Nothing reached the topic's subscribers.
    const leaked = await stream.next('nothing', QUIET_MS).catch(() => null);
    if (leaked) fail(`the refused message was delivered: ${JSON.stringify(leaked)}`);
  },
);

scenario(
  v5
    ? 'unauthorized QoS 0 publish gets DISCONNECT 0x87'
    : 'unauthorized QoS 0 publish closes the connection',
  async () => {
    const { client } = await connect();
    const disconnect = new Promise((resolve) => client.once('disconnect', resolve));
    const { err } = await publish(client, topic('readOnly'), 'nope', 0);
    if (err) fail(`MQTT.js refused to send: ${err.message}`);
    if (v5) {
      const packet = await within(5_000, disconnect, 'DISCONNECT');
      eq(packet.reasonCode, 0x87, 'DISCONNECT reason');
    }
    await within(5_000, closed(client), 'the close');
  },
);

scenario('UNSUBSCRIBE stops delivery; the other subscription stays', async () => {
  const [gone, kept] = [topic('unsubGone'), topic('unsubKept')];
  const rx = await connect();
  const unsubacks = [];
  rx.client.on('packetreceive', (p) => {
    if (p.cmd === 'unsuback') unsubacks.push(p);
  });
  eq((await subscribe(rx.client, { [gone]: { qos: 0 }, [kept]: { qos: 0 } })).codes, [0, 0], 'SUBACK');
  const packet = await unsubscribe(rx.client, [gone, topic('neverSubscribed')]);
  eq(packet?.cmd, 'unsuback', 'acknowledgement packet');
  eq(unsubacks.length, 1, 'UNSUBACK packets');
  if (v5) eq(packet.granted, [0x00, 0x11], 'UNSUBACK reason codes (success, no subscription existed)');
  await httpPublish(gone, 'after unsubscribe');
  await httpPublish(kept, 'still subscribed');
  const m = await rx.inbox.next('the message on the kept topic');
  eq([m.topic, m.payload.toString()], [kept, 'still subscribed'], 'message');
  await rx.inbox.none('after UNSUBSCRIBE');
});

scenario('a 20 KB payload round-trips (MQTT→MQTT, HTTP→MQTT, MQTT→SSE)', async () => {
  const t = topic('big');
  const payload = randomBytes(20 * 1024);
  const stream = await sse([t]);
  const rx = await connect();
  eq((await subscribe(rx.client, t)).codes, [0], 'SUBACK');
  const counter = { messages: 0, sizes: [] };
  const tx = await connect({ createWebsocket: countingWebsocket(counter) });
  const connectMessages = counter.messages;
  counter.messages = 0;
  counter.sizes = [];
  const { err } = await publish(tx.client, t, payload, 1);
  if (err) fail(`publish: ${err.message} (code ${err.code})`);
  const m = await rx.inbox.next('the 20 KB message from MQTT');
  eq(m.payload.length, payload.length, 'payload length');
  if (!m.payload.equals(payload)) fail('the 20 KB payload differs');
  const ev = await stream.next('the 20 KB SSE event');
  eq(ev.event, 'message-base64', 'SSE event');
  if (ev.data !== payload.toString('base64')) fail('the SSE payload differs');
  const other = randomBytes(20 * 1024);
  await httpPublish(t, other);
  const h = await rx.inbox.next('the 20 KB message from HTTP');
  if (!h.payload.equals(other)) fail('the 20 KB HTTP payload differs');
  return (
    `CONNECT sent in ${connectMessages} WebSocket messages, ` +
    `the 20 KB PUBLISH in ${counter.messages} (${counter.sizes.join('+')} bytes)`
  );
});

scenario(
  'No Local: a {nl: true} subscriber gets others\' messages, not its own',
  async () => {
    const t = topic('noLocal');
    const me = await connect();
    const other = await connect();
    eq((await subscribe(me.client, { [t]: { qos: 0, nl: true } })).codes, [0], 'SUBACK (nl)');
    eq((await subscribe(other.client, t)).codes, [0], 'SUBACK');
    const own = await publish(me.client, t, 'from me', 1);
    if (own.err) fail(`publish: ${own.err.message}`);
    eq((await other.inbox.next('my message at the other client')).payload.toString(), 'from me', 'payload');
    await me.inbox.none('own message with No Local');
    const theirs = await publish(other.client, t, 'from the other', 1);
    if (theirs.err) fail(`publish: ${theirs.err.message}`);
    eq((await me.inbox.next("the other client's message")).payload.toString(), 'from the other', 'payload');
    await httpPublish(t, 'from HTTP');
    eq((await me.inbox.next('the HTTP message')).payload.toString(), 'from HTTP', 'payload');
  },
  { v5Only: true },
);

// A malformed filter (`a+`) is refused by MQTT.js itself before it is sent; the raw-packet
// corpus (tests/e2e_bad_input.rs) covers the broker's 0x8F / 0x80 for it.
scenario('wildcard filters get a reason code each: granted, too deep, not covered', async () => {
  const base = topic('wild');
  const rx = await connect();
  const { codes } = await subscribe(rx.client, {
    [`${base}/+`]: { qos: 0 },
    [`${base}/1/2/3/4/5/#`]: { qos: 0 },
    ['#']: { qos: 0 },
  });
  eq(codes, [0, SUBACK_WILDCARDS_NOT_SUPPORTED, SUBACK_NOT_AUTHORIZED], 'SUBACK');
  if (!rx.client.connected) fail('the connection closed');
});

scenario('a wildcard subscription receives HTTP and MQTT publishes, one copy per matching filter', async () => {
  const base = `${topic('wild')}/live`;
  const rx = await connect();
  const { codes } = await subscribe(rx.client, { [`${base}/+/temp`]: { qos: 0 }, [`${base}/#`]: { qos: 0 } });
  eq(codes, [0, 0], 'SUBACK');
  const tx = await connect();
  const sent = await publish(tx.client, `${base}/1/temp`, 'mqtt 21.5', 1);
  if (sent.err) fail(`publish: ${sent.err.message}`);
  eq(describe(await rx.inbox.take(2)), describe([
    { topic: `${base}/1/temp`, payload: Buffer.from('mqtt 21.5') },
    { topic: `${base}/1/temp`, payload: Buffer.from('mqtt 21.5') },
  ]), 'two copies: a/+/temp and a/#');
  await httpPublish(`${base}/2/hum`, 'http 40');
  eq(describe(await rx.inbox.take(1)), describe([{ topic: `${base}/2/hum`, payload: Buffer.from('http 40') }]), 'only a/#');
  await httpPublish(`${base}/3/temp`, 'retained 19', '&retain=true');
  const retained = await rx.inbox.take(2);
  eq(retained.map((m) => m.payload.toString()), ['retained 19', 'retained 19'], 'a retained publish, live');
  await rx.inbox.none('nothing else');
});

scenario('a wildcard subscribe receives the retained messages of the topics it matches', async () => {
  const base = `${topic('wild')}/kept`;
  await httpPublish(`${base}/a`, 'kept a', '&retain=true');
  await httpPublish(`${base}/b`, 'kept b', '&retain=true');
  await httpPublish(`${base}/b/deeper`, 'not matched', '&retain=true');
  const rx = await connect();
  const { codes } = await subscribe(rx.client, { [`${base}/+`]: { qos: 0 } });
  eq(codes, [0], 'SUBACK');
  const got = await rx.inbox.take(2);
  eq(describe(got), describe([
    { topic: `${base}/a`, payload: Buffer.from('kept a') },
    { topic: `${base}/b`, payload: Buffer.from('kept b') },
  ]), 'retained messages');
  eq(got.map((m) => m.packet.retain), [true, true], 'RETAIN flags');
  await rx.inbox.none('no other retained message');
});

scenario(
  'a shared subscription is refused with 0x9E (shared subscriptions not supported)',
  async () => {
    const rx = await connect();
    const { codes } = await subscribe(rx.client, `$share/group/${topic('mine')}`);
    eq(codes, [0x9e], 'SUBACK');
  },
  { v5Only: true },
);

scenario('PINGREQ gets PINGRESP', async () => {
  const { client } = await connect({ keepalive: 1 });
  // MQTT 5: the CONNACK's Server Keep Alive (300 s) replaces the client's 1 s, and
  // MQTT.js honours it; so the ping is sent by hand there.
  if (v5) {
    eq(client.serverProperties?.serverKeepAlive, 300, 'Server Keep Alive');
    eq(client.keepalive, 300, 'the keep alive MQTT.js uses');
    client.sendPing();
  }
  await within(
    5_000,
    new Promise((resolve) => client.on('packetreceive', (p) => p.cmd === 'pingresp' && resolve())),
    'PINGRESP',
  );
  if (!client.connected) fail('the connection closed');
});

scenario('a Will is published when the connection is lost, not after DISCONNECT', async () => {
  const { client: watcher, inbox } = await connect();
  const sub = await subscribe(watcher, { [topic('will')]: { qos: 0 } });
  eq(sub.codes, [0], 'SUBACK');
  const will = { topic: topic('will'), payload: Buffer.from('gone'), qos: 0, retain: false };
  // A normal DISCONNECT discards the Will.
  const polite = await connect({ will });
  await polite.client.endAsync();
  await inbox.none('after a normal DISCONNECT');
  // A lost connection (the socket torn down, no DISCONNECT) publishes it.
  const rude = await connect({ will });
  rude.client.stream.destroy();
  const m = await inbox.next('the Will');
  eq(m.payload.toString(), 'gone', 'Will payload');
});

scenario('DISCONNECT ends the session cleanly', async () => {
  const { client } = await connect();
  const close = closed(client);
  await client.endAsync();
  await within(3_000, close, 'the close');
});

// ---------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------

async function closeOpened() {
  const items = opened;
  opened = [];
  for (const item of items) {
    try {
      if (typeof item.end === 'function') item.end(true);
      else item.close();
    } catch {
      // already closed
    }
  }
}

console.log(`MQTT.js ${mqttVersion} against ${cfg.mqttUrl}, ${label}`);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const s of scenarios) {
  if (s.v5Only && !v5) {
    skipped += 1;
    console.log(`skip ${s.name} (MQTT 5 only)`);
    continue;
  }
  const t0 = Date.now();
  try {
    const note = await within(SCENARIO_MS, Promise.resolve().then(s.fn), s.name);
    passed += 1;
    console.log(`ok   ${s.name} (${Date.now() - t0} ms)${note ? ` — ${note}` : ''}`);
  } catch (e) {
    failed += 1;
    const clientErrors = opened
      .flatMap((c) => c.errors ?? [])
      .map((err) => `${err.message}${err.code === undefined ? '' : ` (code ${err.code})`}`);
    const seen = clientErrors.length ? ` [MQTT.js errors: ${clientErrors.join('; ')}]` : '';
    console.log(`FAIL ${s.name} (${Date.now() - t0} ms): ${e?.message ?? e}${seen}`);
  } finally {
    await closeOpened();
  }
}
console.log(
  `${label}: ${passed} of ${passed + failed} scenarios passed` +
    `${skipped ? `, ${skipped} not applicable` : ''} in ${Date.now() - started} ms`,
);
clearTimeout(totalTimer);
process.exit(failed ? 1 : 0);
