// Runs one browser scenario against the real local stack, in the system's Chromium; started
// by tests/e2e_browser.rs through devstack's NodeScript.
//
// Input: the environment variable PUBSUB_BROWSER, a JSON object
//   {
//     "scenario": "<a name exported by scenarios.mjs>",
//     "appUrl": "http://127.0.0.1:<port>",
//     "chromium": "/usr/bin/chromium",
//     "mqttJsUrl": "<the pinned address the demo page loads MQTT.js from>",
//     "artifacts": "<directory for screenshots>",
//     "limitMs": <the whole run's bound>,
//     ... what the scenario reads (tokens, topics)
//   }
// Output: lines for the Rust test (some scenarios ask it to do something and wait for its
// answer on stdin), then `ok <scenario>` and exit 0, or `FAIL <scenario>: <why>` and exit 1.

import { guardNetwork, launch, lineProtocol } from './harness.mjs';
import * as scenarios from './scenarios.mjs';

const cfg = JSON.parse(process.env.PUBSUB_BROWSER ?? '{}');
const lines = lineProtocol();
const name = cfg.scenario;
const run = Object.hasOwn(scenarios, name) ? scenarios[name] : null;
if (!run) {
  lines.say(`FAIL ${name}: no such scenario (known: ${Object.keys(scenarios).join(', ')})`);
  process.exit(1);
}

const browser = await launch(cfg.chromium);
const limit = setTimeout(() => finish(`FAIL ${name}: not done within ${cfg.limitMs} ms`), cfg.limitMs);
const pageErrors = [];
const guards = [];

/** A page in a new context: loopback only (see guardNetwork), 10 s per action. */
async function newPage({ width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const guard = await guardNetwork(context, cfg.mqttJsUrl);
  guards.push(guard);
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
  return { page, guard };
}

let finished = false;

async function finish(line) {
  if (finished) return;
  finished = true;
  clearTimeout(limit);
  lines.say(line);
  lines.close();
  await browser.close().catch(() => {});
  process.exit(line.startsWith('ok ') ? 0 : 1);
}

try {
  const started = Date.now();
  await run({ cfg, browser, newPage, say: lines.say, ask: lines.ask });
  if (pageErrors.length) throw new Error(`uncaught errors in the page: ${pageErrors.join('; ')}`);
  const blocked = guards.flatMap((g) => g.blocked);
  if (blocked.length) throw new Error(`requests off loopback (aborted): ${blocked.join(', ')}`);
  await finish(`ok ${name} (${Date.now() - started} ms)`);
} catch (e) {
  await finish(`FAIL ${name}: ${e.stack ?? e}`);
}
