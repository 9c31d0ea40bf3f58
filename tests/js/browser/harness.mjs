// The pieces every browser scenario uses: the system's Chromium driven by playwright-core,
// a network guard that keeps pages on loopback, pages served from another origin, curl as
// the client outside the browser, polling with a bound, the Last-Event-ID a page sends, and
// the line protocol with the Rust test (tests/e2e_browser.rs).

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);

/** Chromium, headless. As root it must run without its sandbox (it refuses otherwise). */
export function launch(executablePath) {
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath, headless: true, args, timeout: 30_000 });
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Lets the context's pages reach loopback addresses only. A request for `mqttJsUrl` (the
 * pinned address the demo page loads MQTT.js from) is answered with the file of the same
 * version from tests/js/node_modules, so the browser checks the page's integrity hash
 * against the npm package. Every other request is aborted and recorded in `blocked`.
 */
export async function guardNetwork(context, mqttJsUrl) {
  const { version } = require('mqtt/package.json');
  if (!mqttJsUrl.includes(`/mqtt@${version}/`)) {
    throw new Error(`the demo page loads ${mqttJsUrl} but tests/js has MQTT.js ${version}: ` +
      'pin the same version in both');
  }
  const file = readFileSync(join(dirname(require.resolve('mqtt/package.json')), 'dist', 'mqtt.min.js'));
  const guard = { blocked: [], mqttJsServed: 0 };
  await context.route((url) => !LOOPBACK.has(url.hostname), (route) => {
    const url = route.request().url();
    if (url !== mqttJsUrl) {
      guard.blocked.push(url);
      return route.abort('blockedbyclient');
    }
    guard.mqttJsServed += 1;
    return route.fulfill({
      status: 200,
      contentType: 'text/javascript; charset=utf-8',
      headers: { 'access-control-allow-origin': '*' },
      body: file,
    });
  });
  return guard;
}

/**
 * Serves the file at `url` (a file: URL) as HTML on a free loopback port: a page on another
 * origin than the broker's. Resolves with its `origin` and `close()`.
 */
export async function servePage(url) {
  const html = readFileSync(url);
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** Polls `probe` every 50 ms until it returns a truthy value; fails after `ms`. */
export async function until(what, probe, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Runs curl with `args`; resolves with its exit code and output, killed after 15 s. */
export function curl(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--max-time', '15', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => reject(new Error(`cannot run curl: ${e.message}`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `curl -X POST` of `body` to `topic` with the token in `Authorization`; must be a 200. */
export async function curlPublish(appUrl, topic, token, body, query = '') {
  const url = `${appUrl}/events?topic=${encodeURIComponent(topic)}${query}`;
  const out = await curl(['-X', 'POST', '-w', '\n%{http_code}', '-H',
    `Authorization: Bearer ${token}`, '--data-binary', body, url]);
  const status = out.stdout.trim().split('\n').pop();
  check(out.code === 0 && status === '200',
    `curl publish to ${topic}: exit ${out.code}, ${out.stdout.trim()} ${out.stderr.trim()}`);
  return out.stdout;
}

/** `curl -N` on a subscribe URL, its output kept; stopped by `stop()` or after 60 s. */
export class CurlSubscriber {
  constructor(url) {
    this.output = '';
    this.child = spawn('curl', ['-sS', '-N', '--max-time', '60', url]);
    this.child.stdout.on('data', (d) => (this.output += d));
    this.child.stderr.on('data', (d) => (this.output += d));
  }

  waitFor(text, ms = 10_000) {
    return until(`curl to print ${JSON.stringify(text)} (it printed ${JSON.stringify(this.output)})`,
      () => this.output.includes(text), ms);
  }

  stop() {
    this.child.kill();
  }
}

/**
 * The `Last-Event-ID` of every subscribe request the page sends over the wire (`null`
 * when none), read from the headers Chromium reports as sent.
 */
export async function sentLastEventIds(page) {
  const cdp = await page.context().newCDPSession(page);
  const sent = [];
  cdp.on('Network.requestWillBeSentExtraInfo', ({ headers }) => {
    const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    if (h.accept === 'text/event-stream') sent.push(h['last-event-id'] ?? null);
  });
  await cdp.send('Network.enable');
  return sent;
}

/**
 * Talks to the Rust test: `say` prints a line; `ask` prints `ask <request>` and resolves
 * with the line the test answers on stdin.
 */
export function lineProtocol() {
  const lines = createInterface({ input: process.stdin });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  lines.on('close', () => waiting.splice(0).forEach((w) => w.reject(new Error('stdin closed'))));
  const say = (line) => console.log(line);
  const ask = (request) => new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    say(`ask ${request}`);
  });
  return { say, ask, close: () => lines.close() };
}
