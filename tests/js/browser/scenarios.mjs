// The browser scenarios, one exported function each (run by main.mjs, named by
// tests/e2e_browser.rs). Each gets { cfg, newPage, say, ask } and throws when it fails.

import { join } from 'node:path';

import { check, curl, curlPublish, CurlSubscriber, sentLastEventIds, servePage, sleep, until } from './harness.mjs';
import { entries, openDemo, publish, subscribe, text, waitEntry } from './demo_page.mjs';

export { aiAnswerNetworkDrop, aiAnswerReload } from './ai_answer.mjs';

const enc = encodeURIComponent;
const stamp = () => `${Date.now()}`;

/** Chromium's EventSource waits 3 s before reconnecting; watch for longer than that. */
const RECONNECT_WATCH_MS = 4_500;

/**
 * The demo page shows a message published with curl and a file it published itself (as
 * bytes), and a message it publishes reaches a curl subscriber. The token comes in the URL
 * fragment, as scripts/run.sh prints it, and leaves the address bar.
 */
export async function demoPage({ cfg, newPage }) {
  const { appUrl, token, topics } = cfg;
  const { page } = await newPage();
  await openDemo(page, appUrl, token);
  check(await page.inputValue('#token') === token, 'the token from the fragment is in the form');
  check(new URL(page.url()).hash === '', `the fragment is still in the address: ${page.url()}`);

  await subscribe(page, [topics.shown]);
  const fromCurl = `hello from curl ${stamp()}`;
  await curlPublish(appUrl, topics.shown, token, fromCurl);
  await waitEntry(page, 'sub-log', 'message', fromCurl);

  const file = { name: 'bytes.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([255, 0, 1]) };
  const fileStatus = await publish(page, topics.shown, '', { file });
  check(fileStatus === '200: Published', `publishing a file: the page shows ${fileStatus}`);
  await waitEntry(page, 'sub-log', 'message-base64', '3 bytes: ff 00 01');

  const curlSub = new CurlSubscriber(`${appUrl}/events?topic=${enc(topics.fromPage)}&auth=${enc(token)}`);
  try {
    await curlSub.waitFor('event: stream-open');
    const fromPage = `hello from the page ${stamp()}`;
    const status = await publish(page, topics.fromPage, fromPage);
    check(status === '200: Published', `publishing from the page: it shows ${status}`);
    await curlSub.waitFor(`event: message\ndata: ${fromPage}\n`);
  } finally {
    curlSub.stop();
  }
}

/**
 * Screenshots of the page in use at desktop and phone widths (test artifacts); at phone
 * width nothing is wider than the screen; every form control has a label.
 */
export async function screenshots({ cfg, newPage, say }) {
  const { appUrl, token, topics } = cfg;
  const { page } = await newPage({ width: 1280, height: 800 });
  await openDemo(page, appUrl, token);
  await subscribe(page, [topics.shown], { durable: true });
  await publish(page, topics.shown, 'hello from the browser', { retain: true });
  await waitEntry(page, 'sub-log', 'message', 'hello from the browser');
  await page.click('#mqtt-connect');
  await waitEntry(page, 'mqtt-log', 'connack');
  await page.fill('#mqtt-topics', topics.shown);
  await page.click('#mqtt-subscribe');
  await waitEntry(page, 'mqtt-log', 'suback');
  await page.fill('#mqtt-pub-topic', topics.shown);
  await page.click('#mqtt-publish');
  await waitEntry(page, 'mqtt-log', 'puback');
  await waitEntry(page, 'sub-log', 'message', 'hello over MQTT');

  const unlabelled = await page.$$eval('input, select, textarea', (controls) =>
    controls.filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label')).map((c) => c.id));
  check(unlabelled.length === 0, `form controls without a label: ${unlabelled}`);
  for (const [name, width, height] of [['desktop', 1280, 800], ['phone', 390, 844]]) {
    await page.setViewportSize({ width, height });
    const [scrollWidth, innerWidth] = await page.evaluate(
      () => [document.documentElement.scrollWidth, window.innerWidth]);
    check(scrollWidth <= innerWidth, `${name}: the page is ${scrollWidth} px wide in ${innerWidth}`);
    const path = join(cfg.artifacts, `demo-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    say(`screenshot ${path}`);
  }
}

/**
 * A page on another origin (a second local port) subscribes with EventSource (token in
 * `auth`) and publishes with fetch and an Authorization header: the preflight passes.
 */
export async function crossOrigin({ cfg, newPage }) {
  const { appUrl, token, topics } = cfg;
  const server = await servePage(new URL('./other_origin.html', import.meta.url));
  try {
    const { page } = await newPage();
    const cdp = await page.context().newCDPSession(page);
    const preflights = [];
    cdp.on('Network.responseReceived', (e) => {
      if (e.type === 'Preflight') preflights.push(`${e.response.status} ${e.response.url}`);
    });
    await cdp.send('Network.enable');
    const message = `from another origin ${stamp()}`;
    const fragment = new URLSearchParams({ app: appUrl, token, topic: topics.shown, message });
    await page.goto(`${server.origin}/#${fragment}`);
    check(new URL(page.url()).origin !== appUrl, 'the page is on another origin');
    const shown = () => page.$$eval('#log li', (lis) => lis.map((li) => `${li.dataset.kind}: ${li.textContent}`));
    await until('the message published by the page', async () =>
      (await shown()).includes(`message: ${message}`)).catch(async (e) => {
      throw new Error(`${e.message}; the page shows ${JSON.stringify(await shown())}`);
    });
    check((await shown()).includes('publish: 200 Published'), `publish: ${await shown()}`);
    const expected = `204 ${appUrl}/events?topic=${enc(topics.shown)}`;
    check(preflights.includes(expected), `a preflight ${expected}; seen: ${preflights}`);
  } finally {
    server.close();
  }
}

/**
 * A stream-error (bad token; forbidden topic) reaches the demo page's handler, which closes
 * the EventSource: one request each, no reconnects. A control EventSource that ignores
 * stream-error reconnects, and the pages are watched for at least 4.5 s and one and a half
 * times the control's time to reconnect, so the count would catch a storm.
 */
export async function streamError({ cfg, newPage }) {
  const { appUrl, token, badToken, topics } = cfg;
  const countEvents = (page) => {
    const times = [];
    page.on('request', (r) => new URL(r.url()).pathname === '/events' && times.push(Date.now()));
    return times;
  };
  const cases = [
    { what: 'a bad token', token: badToken, topic: topics.shown, condition: 'unauthorized' },
    { what: 'a forbidden topic', token, topic: topics.forbidden, condition: 'forbidden' },
  ];
  for (const c of cases) {
    const { page } = await newPage();
    c.requests = countEvents(page);
    await openDemo(page, appUrl, c.token);
    await page.fill('#sub-topics', c.topic);
    await page.click('#sub-start');
    const error = await waitEntry(page, 'sub-log', 'stream-error');
    check(error.meta.condition === c.condition, `${c.what}: ${JSON.stringify(error)}`);
    const status = await text(page, '#sub-status');
    check(status.startsWith(`Closed by the broker: ${c.condition}`), `${c.what}: status ${status}`);
  }
  const errorsAt = Date.now();
  const { page: control } = await newPage();
  const controlRequests = countEvents(control);
  await control.goto(`${appUrl}/`);
  await control.evaluate((url) => {
    window.ignoring = new EventSource(url);
  }, `/events?topic=${enc(topics.shown)}&auth=${enc(badToken)}`);
  await until('the control EventSource, which ignores stream-error, to reconnect',
    () => controlRequests.length >= 2, 15_000);
  const reconnectMs = controlRequests[1] - controlRequests[0];
  const watchMs = Math.max(RECONNECT_WATCH_MS, 1.5 * reconnectMs);
  await until(`${watchMs} ms since the last stream-error`, () => Date.now() - errorsAt >= watchMs,
    watchMs + 1_000);
  for (const c of cases) {
    check(c.requests.length === 1, `${c.what}: ${c.requests.length} subscribe requests, not 1`);
  }
}

/** The protocol level of the first CONNECT in `bytes` (MQTT 5: 5, 3.1.1: 4). */
function connectLevel(bytes) {
  const at = bytes.indexOf(Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54])); // "MQTT"
  return at < 0 ? undefined : bytes[at + 6];
}

/**
 * MQTT.js in the demo page (MQTT 5 or 3.1.1, `cfg.protocolVersion`): loaded from its pinned
 * address (integrity checked), connects over the page's WebSocket, subscribes and gets an
 * HTTP publish, publishes QoS 1 and gets its PUBACK; the message reaches its own
 * subscription and a curl subscriber.
 */
export async function mqttJs({ cfg, newPage }) {
  const { appUrl, token, topics, protocolVersion } = cfg;
  const label = protocolVersion === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
  const { page, guard } = await newPage();
  const sockets = [];
  const sent = [];
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    ws.on('framesent', (f) => sent.push(Buffer.from(f.payload)));
  });
  await openDemo(page, appUrl, token);
  await page.selectOption('#mqtt-version', String(protocolVersion));
  await page.click('#mqtt-connect');
  await waitEntry(page, 'mqtt-log', 'connack').catch(async (e) => {
    throw new Error(`${e.message}; the page says: ${await text(page, '#mqtt-status')}`);
  });
  check(guard.mqttJsServed === 1, `MQTT.js loaded ${guard.mqttJsServed} times from its address`);
  check(await text(page, '#mqtt-status') === `Connected with ${label}.`, 'the status says so');
  check(sockets.join() === `${appUrl.replace('http:', 'ws:')}/mqtt`, `WebSockets: ${sockets}`);
  const level = connectLevel(Buffer.concat(sent));
  check(level === protocolVersion, `the CONNECT asked for protocol level ${level}`);

  await page.fill('#mqtt-topics', topics.shown);
  await page.click('#mqtt-subscribe');
  await waitEntry(page, 'mqtt-log', 'suback', `${topics.shown} → 0x00`);
  const viaHttp = `published with curl ${stamp()}`;
  await curlPublish(appUrl, topics.shown, token, viaHttp);
  const got = await waitEntry(page, 'mqtt-log', 'message', viaHttp);
  check(got.meta.topic === topics.shown, `the message names its topic: ${JSON.stringify(got)}`);

  const curlSub = new CurlSubscriber(`${appUrl}/events?topic=${enc(topics.shown)}&auth=${enc(token)}`);
  try {
    await curlSub.waitFor('event: stream-open');
    const viaMqtt = `published with MQTT.js ${stamp()}`;
    await page.fill('#mqtt-pub-topic', topics.shown);
    await page.fill('#mqtt-pub-text', viaMqtt);
    await page.selectOption('#mqtt-qos', '1');
    await page.click('#mqtt-publish');
    await waitEntry(page, 'mqtt-log', 'puback');
    await waitEntry(page, 'mqtt-log', 'message', viaMqtt);
    await curlSub.waitFor(`data: ${viaMqtt}\n`);
  } finally {
    curlSub.stop();
  }
  const errors = (await entries(page, 'mqtt-log')).filter((e) => e.kind === 'error');
  check(errors.length === 0, `MQTT errors: ${JSON.stringify(errors)}`);
}

/**
 * Refuses the page's subscribe requests until `release()`: the browser sees a network
 * error, as when the broker cannot be reached, and keeps retrying.
 */
async function holdDown(page) {
  const held = { refused: 0 };
  const events = (url) => url.pathname === '/events';
  const refuse = (route) => {
    held.refused += 1;
    return route.abort('connectionrefused');
  };
  await page.route(events, refuse);
  held.release = () => page.unroute(events, refuse);
  return held;
}

/** Asks the Rust test to restart `what` while the page cannot reconnect; then `publish`. */
async function restartWhileAway(page, ask, what, publish = async () => {}) {
  const held = await holdDown(page);
  check(await ask(`restart ${what}`) === 'restarted', `the Rust test restarted ${what}`);
  await until('the page to try to reconnect', () => held.refused > 0, 15_000);
  await publish();
  await held.release();
}

/**
 * A durable EventSource in the demo page survives a restart of Pushpin and Viceroy: it
 * reconnects by itself, sends Last-Event-ID, and receives the retained message published
 * while it was away. While the Rust test restarts the stack (`ask restart ...`), the page's
 * subscribe requests are refused, so the message is published before the page can be back.
 * Viceroy's stores are in memory: the message retained before that restart is gone with
 * it. A second restart, of Pushpin only, keeps the store: the page resumes from the id it
 * has and gets nothing twice, then the next message.
 */
export async function durableRestart({ cfg, newPage, ask }) {
  const { appUrl, token, topics } = cfg;
  const { page } = await newPage();
  const sent = await sentLastEventIds(page);
  await openDemo(page, appUrl, token);
  await subscribe(page, [topics.shown], { durable: true });
  const publish = (message) => curlPublish(appUrl, topics.shown, token, message, '&retain=true');
  const before = `retained before the restart ${stamp()}`;
  await publish(before);
  const first = await waitEntry(page, 'sub-log', 'message', before);
  check(first.meta.id, `a retained message shows its id: ${JSON.stringify(first)}`);

  const missed = `retained while the page was away ${stamp()}`;
  await restartWhileAway(page, ask, 'pushpin viceroy', () => publish(missed));
  const resumed = await waitEntry(page, 'sub-log', 'message', missed, 15_000);
  check(resumed.meta.id && resumed.meta.id !== first.meta.id, `a new id: ${JSON.stringify(resumed)}`);
  check(JSON.stringify(sent) === JSON.stringify([null, first.meta.id]),
    `Last-Event-ID of the subscribes on the wire: ${JSON.stringify(sent)}`);

  await restartWhileAway(page, ask, 'pushpin');
  await until('the third stream-open', async () =>
    (await entries(page, 'sub-log')).filter((e) => e.kind === 'stream-open').length === 3, 15_000);
  const after = `retained after the second restart ${stamp()}`;
  await publish(after);
  await waitEntry(page, 'sub-log', 'message', after);
  check(JSON.stringify(sent) === JSON.stringify([null, first.meta.id, resumed.meta.id]),
    `Last-Event-ID of the subscribes on the wire: ${JSON.stringify(sent)}`);
  const messages = (await entries(page, 'sub-log')).filter((e) => e.kind === 'message');
  check(JSON.stringify(messages.map((e) => e.data)) === JSON.stringify([before, missed, after]),
    `each message once, in order: ${JSON.stringify(messages)}`);
  check(await text(page, '#sub-status') === `Subscribed to ${topics.shown}.`, 'subscribed again');
}

/**
 * The Mercure hub with Chromium's own EventSource: a page whose origin holds the
 * `mercureAuthorization` cookie (a 0.x token that may receive the topic's private
 * updates) and an anonymous page subscribe to the same topic; curl publishes a public
 * update (with an id and a type) and a private one, as in Mercure's docs. The cookie page
 * gets both, the anonymous one only the public one; each event keeps its id.
 */
export async function mercure({ cfg, newPage }) {
  const { appUrl, topics, mercurePublisher, mercureReader } = cfg;
  const topic = `https://example.com/${topics.shown}`;
  const listen = async (cookie) => {
    const { page } = await newPage();
    if (cookie) {
      await page.context().addCookies([{ name: 'mercureAuthorization', value: cookie, url: appUrl }]);
    }
    await page.goto(`${appUrl}/`);
    await page.evaluate((url) => {
      window.seen = [];
      window.opened = false;
      const source = new EventSource(url, { withCredentials: true });
      source.onopen = () => { window.opened = true; };
      const keep = (e) => window.seen.push(`${e.type} ${e.lastEventId} ${e.data}`);
      source.onmessage = keep;
      source.addEventListener('book', keep);
    }, `/.well-known/mercure?topic=${enc(topic)}`);
    await until('the EventSource to open', () => page.evaluate(() => window.opened));
    return page;
  };
  const reader = await listen(mercureReader);
  const anonymous = await listen(null);
  const post = async (fields) => {
    const args = ['-w', '\n%{http_code}', '-H', `Authorization: Bearer ${mercurePublisher}`];
    for (const [name, value] of fields) args.push('--data-urlencode', `${name}=${value}`);
    const out = await curl([...args, `${appUrl}/.well-known/mercure`]);
    const [id, status] = out.stdout.trim().split('\n');
    check(out.code === 0 && status === '200', `mercure publish: ${out.stdout} ${out.stderr}`);
    return id;
  };
  await post([['topic', topic], ['data', 'public'], ['id', 'pub-1'], ['type', 'book']]);
  const secret = await post([['topic', topic], ['data', 'private'], ['private', 'on']]);
  const seen = (page) => page.evaluate(() => window.seen);
  const both = ['book pub-1 public', `message ${secret} private`];
  await until('both updates on the cookie page', async () => (await seen(reader)).length >= 2)
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await seen(reader))}`); });
  check(JSON.stringify(await seen(reader)) === JSON.stringify(both),
    `the cookie page saw ${JSON.stringify(await seen(reader))}`);
  await sleep(700);
  check(JSON.stringify(await seen(anonymous)) === JSON.stringify(both.slice(0, 1)),
    `the anonymous page saw ${JSON.stringify(await seen(anonymous))}`);
}
