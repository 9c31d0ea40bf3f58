// Runs one JavaScript example of the documentation in a Chromium page on the broker's own
// origin, for tests/docs_examples.rs (started through devstack's NodeScript).
//
// Input: the environment variable PUBSUB_DOCS_JS, a JSON object
//   { "chromium": "/usr/bin/chromium", "appUrl": "http://127.0.0.1:<port>",
//     "mqttJsUrl": "<the demo page's pinned MQTT.js address>", "code": "<the example>",
//     "limitMs": <bound on the whole run> }
// Output: every console message of the page as one line, an uncaught error as
// `pageerror: <message>`. Runs until its stdin closes (or the bound passes), then closes
// the browser.

import { guardNetwork, launch } from './browser/harness.mjs';

const cfg = JSON.parse(process.env.PUBSUB_DOCS_JS ?? '{}');
const browser = await launch(cfg.chromium);

async function finish(code) {
  await browser.close().catch(() => {});
  process.exit(code);
}

setTimeout(() => finish(1), cfg.limitMs ?? 60_000);
process.stdin.on('end', () => finish(0));
process.stdin.resume();

// The example is added as a module script to a page of the app's origin (a 404 page, which
// has no Content-Security-Policy of its own to bypass; bypassCSP covers any that comes).
const context = await browser.newContext({ bypassCSP: true });
await guardNetwork(context, cfg.mqttJsUrl);
const page = await context.newPage();
page.on('console', (m) => console.log(m.text()));
page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
await page.goto(`${cfg.appUrl}/docs-example`);
await page.addScriptTag({ content: cfg.code, type: 'module' });
