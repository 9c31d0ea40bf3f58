// Idle MQTT.js connections for the idle-cost measurement (`pubsub-idle-cost` in tools/measure,
// scripts/idle-cost.sh). Not a test: it opens the connections, subscribes each to its
// topic, then leaves them idle with MQTT.js's defaults (keepalive 60 s, automatic
// reconnect) and reports what happens.
//
// Input: the environment variable PUBSUB_IDLE, a JSON object
//   {
//     "mqttUrl": "ws://127.0.0.1:<port>/mqtt",
//     "limitSecs": <hard limit of the whole run>,
//     "clients": [{ "id": "<client id = topic>", "protocolVersion": 5 | 4, "token": "..." }]
//   }
// Output, one line per event: `ready <id>` (CONNACK accepted and SUBACK received),
// `all-ready`, `send <id> <packet>` / `recv <id> <packet>` (every MQTT packet after
// all-ready, e.g. pingreq / pingresp), `reconnect <id>`, `close <id>`, `offline <id>`,
// `disconnect <id> <reason>` (a server DISCONNECT), `error <id> <message>`.
// Runs until its stdin ends (the parent stops or dies) or `limitSecs` pass (exit 3).

import mqtt from 'mqtt';

let cfg;
try {
  cfg = JSON.parse(process.env.PUBSUB_IDLE ?? '');
} catch (e) {
  console.error(`PUBSUB_IDLE must hold the JSON configuration (${e.message})`);
  process.exit(2);
}

const say = (line) => process.stdout.write(`${line}\n`);
let allReady = false;
const clients = [];

setTimeout(() => {
  say(`error - the run exceeded its limit of ${cfg.limitSecs} s`);
  process.exit(3);
}, cfg.limitSecs * 1000).unref();

function open({ id, protocolVersion, token }) {
  return new Promise((resolve) => {
    const client = mqtt.connect(cfg.mqttUrl, {
      protocolVersion,
      clientId: id,
      username: 'idle', // the broker reads only the password
      password: token,
    });
    clients.push(client);
    let subscribed = false;
    client.on('connect', () => {
      if (subscribed) return; // a reconnect: MQTT.js resubscribes by itself
      client.subscribe(id, { qos: 0 }, (err) => {
        if (err) {
          say(`error ${id} subscribe: ${err.message}`);
          return;
        }
        subscribed = true;
        say(`ready ${id}`);
        resolve();
      });
    });
    client.on('packetsend', (p) => allReady && say(`send ${id} ${p.cmd}`));
    client.on('packetreceive', (p) => allReady && say(`recv ${id} ${p.cmd}`));
    client.on('reconnect', () => say(`reconnect ${id}`));
    client.on('close', () => say(`close ${id}`));
    client.on('offline', () => say(`offline ${id}`));
    client.on('disconnect', (p) => say(`disconnect ${id} ${p.reasonCode}`));
    client.on('error', (err) => say(`error ${id} ${err.message}`));
  });
}

// One at a time, so that a slow start-up never looks like a burst.
for (const c of cfg.clients) {
  await open(c);
}
allReady = true;
say('all-ready');

process.stdin.resume();
process.stdin.on('end', () => {
  for (const client of clients) client.end(true);
  process.exit(0);
});
