// MQTT.js side of the soak / fan-out runner (`pubsub-soak` in tools/measure, scripts/soak.sh).
// Not a test: it opens MQTT 5 subscribers (gradually, in batches) and one publisher,
// reports every delivery with its latency, and publishes on request.
//
// Input: the environment variable PUBSUB_SOAK, a JSON object, or `{ "file": "<path>" }`
// naming a file that holds it (thousands of clients do not fit in a variable):
//   {
//     "mqttUrl": "ws://127.0.0.1:<port>/mqtt",
//     "limitSecs": <hard limit of the whole run>,
//     "batch": <clients opened at once>, "pauseMs": <pause between batches>,
//     "clients": [{ "id": "<client id>", "topic": "<topic>", "token": "..." }],
//     "publisher": { "id": "...", "token": "..." } | null,
//     "churn": null | { "lifeMs": [min, max], "gapMs": [min, max],
//                       "churnEndMs": <epoch ms>, "endMs": <epoch ms> }
//   }
// With `churn`, every client disconnects after a random lifetime and reconnects (a new
// MQTT.js client with the same id) after a random gap, until `churnEndMs`; then it holds
// one last connection until `endMs`. It prints `session <id> <connect µs> <SUBACK µs or
// -> <close µs> <how it ended>` per connection, and `note <id> <what>` for errors.
// Payloads are text `soak <seq> <send time, µs since the Unix epoch>`.
// Stdin, one command a line: `pub <topic> <seq> <qos>` publishes such a payload, stamped
// just before MQTT.js sends it. Output, one line each: `ready <n>` after each batch,
// `all-ready`, `d <client id> <seq> <latency µs>` per delivery, `puback <seq>`,
// `error <id> <message>`, `reconnect <id>`, `close <id>`.
// Runs until its stdin ends or `limitSecs` pass (exit 3).

import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import readline from 'node:readline';

let cfg;
try {
  cfg = JSON.parse(process.env.PUBSUB_SOAK ?? '');
  if (cfg.file) cfg = JSON.parse(readFileSync(cfg.file, 'utf8'));
} catch (e) {
  console.error(`PUBSUB_SOAK must hold the JSON configuration (${e.message})`);
  process.exit(2);
}

const out = [];
const say = (line) => out.push(line);
setInterval(() => {
  if (out.length) process.stdout.write(out.splice(0).join('\n') + '\n');
}, 20);
// The system clock (ms), as the Rust side stamps with: `performance.timeOrigin + now()`
// follows a monotonic clock and was seen 0.1 s off the system clock in a long run.
const nowUs = () => Date.now() * 1000;
const clients = [];

setTimeout(() => {
  process.stdout.write(`error - the run exceeded its limit of ${cfg.limitSecs} s\n`);
  process.exit(3);
}, cfg.limitSecs * 1000).unref();

function open({ id, topic, token }) {
  return new Promise((resolve) => {
    const client = mqtt.connect(cfg.mqttUrl, {
      protocolVersion: 5,
      clientId: id,
      username: 'soak',
      password: token,
      reconnectPeriod: 1000,
      connectTimeout: 30000,
    });
    clients.push(client);
    let subscribed = false;
    client.on('connect', () => {
      if (subscribed || !topic) {
        resolve(client);
        return;
      }
      client.subscribe(topic, { qos: 0 }, (err) => {
        if (err) say(`error ${id} subscribe: ${err.message}`);
        subscribed = true;
        resolve(client);
      });
    });
    client.on('message', (_topic, payload) => {
      const at = nowUs();
      const [word, seq, sent] = payload.toString().split(' ');
      if (word === 'soak') say(`d ${id} ${seq} ${at - Number(sent)}`);
    });
    client.on('reconnect', () => say(`reconnect ${id}`));
    client.on('close', () => say(`close ${id}`));
    client.on('error', (err) => say(`error ${id} ${err.message}`));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const between = ([min, max]) => min + Math.random() * (max - min);

// One connection of a churning client: subscribed, held until `until` (epoch ms), closed.
// Its `session` line ends with how it ended: `timer` (this script closed it), `server`
// (the connection closed first), or `server-<reason code>` (a DISCONNECT came first).
function churnSession({ id, topic, token }, until) {
  return new Promise((resolve) => {
    const connectUs = nowUs();
    let upUs = '-';
    let ended = null;
    const client = mqtt.connect(cfg.mqttUrl, {
      protocolVersion: 5, clientId: id, username: 'soak', password: token,
      reconnectPeriod: 0, connectTimeout: 20000,
    });
    const finish = (how) => {
      if (ended) return;
      ended = how;
      client.end(true);
      say(`session ${id} ${connectUs} ${upUs} ${nowUs()} ${how}`);
      resolve();
    };
    const timer = setTimeout(() => finish('timer'), Math.max(0, until - Date.now()));
    client.on('connect', () => {
      client.subscribe(topic, { qos: 0 }, (err) => {
        if (!err) upUs = nowUs();
        else if (!ended) say(`note ${id} subscribe: ${err.message}`);
      });
    });
    client.on('message', (_topic, payload) => {
      const at = nowUs();
      const [word, seq, sent] = payload.toString().split(' ');
      if (word === 'soak') say(`d ${id} ${seq} ${at - Number(sent)}`);
    });
    client.on('disconnect', (packet) => {
      clearTimeout(timer);
      finish(`server-${packet.reasonCode ?? 0}`);
    });
    client.on('error', (err) => say(`note ${id} ${err.message}`));
    client.on('close', () => {
      clearTimeout(timer);
      finish('server');
    });
  });
}

async function churn(client) {
  const c = cfg.churn;
  while (Date.now() < c.churnEndMs) {
    await churnSession(client, Math.min(Date.now() + between(c.lifeMs), c.endMs));
    if (Date.now() < c.churnEndMs) await sleep(between(c.gapMs));
  }
  if (Date.now() < c.endMs) await churnSession(client, c.endMs);
}

if (cfg.churn) {
  say('all-ready');
  await Promise.all(cfg.clients.map(async (client, i) => {
    await sleep((i * 1000) / Math.max(1, cfg.batch));
    await churn(client);
  }));
  say('churn-done');
}

let publisher = null;
if (cfg.publisher) publisher = await open({ ...cfg.publisher, topic: null });
for (let i = 0; !cfg.churn && i < cfg.clients.length; i += cfg.batch) {
  await Promise.all(cfg.clients.slice(i, i + cfg.batch).map(open));
  say(`ready ${Math.min(i + cfg.batch, cfg.clients.length)}`);
  await new Promise((r) => setTimeout(r, cfg.pauseMs));
}
if (!cfg.churn) say('all-ready');

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, topic, seq, qos] = line.split(' ');
  if (cmd !== 'pub' || !publisher) return;
  publisher.publish(topic, `soak ${seq} ${nowUs()}`, { qos: Number(qos) }, (err) => {
    if (err) say(`error publisher ${seq}: ${err.message}`);
    else say(`puback ${seq}`);
  });
});
rl.on('close', () => {
  for (const client of clients) client.end(true);
  process.stdout.write(out.splice(0).join('\n') + '\n');
  process.exit(0);
});
