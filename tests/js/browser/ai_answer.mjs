// The AI-answer scenarios (tests/e2e_browser/ai_answer.rs): ai_answer.html, served from
// another origin, renders an answer that the Rust test publishes token by token (`ask
// produce`) on a topic with history. Half way through, the page is reloaded
// (`aiAnswerReload`) or its network drops (`aiAnswerNetworkDrop`). Either way the page
// must end showing the whole answer, in order, each token once: the page appends every
// token it gets and never looks at ids except to resume, so a token lost or sent twice by
// the broker shows. Each prints the figures it measured as `figure <name> <value>` lines.

import { connect, createServer } from 'node:net';

import { check, sentLastEventIds, servePage, sleep, until } from './harness.mjs';

/** How long the page may take to show the whole answer once the producer is going. */
const ANSWER_MS = 80_000;

/** How long the reloaded page's stream request is held back. */
const AWAY_MS = 1_000;

/**
 * Opens ai_answer.html on its own origin for the answer's topic, reaching the broker at
 * `app`; waits for stream-open. `sent` lists the `Last-Event-ID` of every stream request
 * the page sends, from the first.
 */
async function openAnswer(cfg, newPage, app = cfg.appUrl) {
  const server = await servePage(new URL('./ai_answer.html', import.meta.url));
  const { page } = await newPage();
  const sent = await sentLastEventIds(page);
  const fragment = new URLSearchParams({ app, token: cfg.token, topic: cfg.topics.shown });
  await page.goto(`${server.origin}/#${fragment}`);
  await page.waitForSelector('body[data-state="streaming"]');
  return { page, server, sent };
}

/** What the page shows and measured: its text, its counters, when tokens came. */
function shown(page) {
  return page.evaluate(() => ({
    text: document.getElementById('answer').textContent,
    state: document.body.dataset.state,
    status: document.getElementById('status').textContent,
    opens: Number(document.body.dataset.opens),
    errors: Number(document.body.dataset.errors),
    gaps: Number(document.body.dataset.gaps),
    restored: window.restored,
    openedAt: window.openedAt,
    shownAt: window.shownAt,
    openTimes: window.openTimes,
    keptId: JSON.parse(sessionStorage.getItem(`answer:${new URLSearchParams(location.hash.slice(1)).get('topic')}`) ?? '{}').lastId,
  }));
}

const tokensShown = (page) => page.evaluate(() => window.restored + window.shownAt.length);

/** Waits until the page shows at least `n` tokens. */
const untilShown = (page, n) => until(`${n} tokens on the page`, async () => await tokensShown(page) >= n, ANSWER_MS);

/** Waits for `[DONE]`; answers what the producer published and what the page shows. */
async function finished(page, ask) {
  await page.waitForSelector('body[data-state="done"]', { timeout: ANSWER_MS }).catch(async (e) => {
    const now = await shown(page);
    throw new Error(`${e.message}; the page shows ${now.restored + now.shownAt.length} tokens, ` +
      `status ${JSON.stringify(now.status)}`);
  });
  return { produced: JSON.parse(await ask('published')), now: await shown(page) };
}

/** Checks that the page shows exactly the producer's answer, with no gap event. */
function checkWholeAnswer({ produced, now }) {
  if (now.text !== produced.answer) {
    const want = produced.answer.split(' ');
    const got = now.text.split(' ');
    const at = want.findIndex((w, i) => got[i] !== w);
    const requests = produced.appRequests.map((r) =>
      `${r.method} ${r.target.replace(/auth=[^&]*/, 'auth=…')} at ${r.atMs - now.openedAt} ms`);
    throw new Error(`the page's answer differs from the published one at token ${at}: ` +
      `it shows ${JSON.stringify(got.slice(Math.max(0, at - 3), at + 4))}, ` +
      `published ${JSON.stringify(want.slice(Math.max(0, at - 3), at + 4))} ` +
      `(${got.length - 1} tokens shown, ${want.length - 1} published); the page kept ` +
      `${now.restored} tokens before its last load; token ${at} was published ` +
      `${produced.ackedMs[at] - now.openedAt} ms after the page's stream request, whose ` +
      `stream-open came after ${now.openTimes.map((t) => t - now.openedAt)} ms; app requests ` +
      `since the mark: ${requests.join('; ')}`);
  }
  check(now.gaps === 0, `the page got ${now.gaps} gap events`);
}

/**
 * The last token the page could only have got from history: the newest one whose publish
 * was answered before `at`, when the page's stream request reached the app (index into the
 * answer); and when the page first showed it.
 */
function lastMissed({ produced, now }, at, tokens) {
  let last = -1;
  for (let i = 0; i < tokens; i += 1) if (produced.ackedMs[i] <= at) last = i;
  const shownAt = now.shownAt.find(([, data]) => data === `t${last} `)?.[0];
  return { last, shownAt };
}

/**
 * Reload half way: the page shows the kept text and reopens with `lastEventId=<kept id>`;
 * the tokens published while it was away come from history, then live ones follow. The
 * reloaded page's stream request is held back for [`AWAY_MS`] (a slow reload), so that
 * tokens are published while the page is away whatever the machine's speed.
 */
export async function aiAnswerReload({ cfg, newPage, say, ask }) {
  const { page, server } = await openAnswer(cfg, newPage);
  try {
    check(await ask('produce') === 'producing', 'the producer started');
    await untilShown(page, cfg.tokens / 2);
    await ask('mark');
    await page.route((url) => url.pathname === '/events', async (route) => {
      await sleep(AWAY_MS);
      await route.continue();
    }, { times: 1 });
    const reloadAt = Date.now();
    await page.reload();
    await page.waitForSelector('body[data-state="streaming"], body[data-state="done"]');
    const result = await finished(page, ask);
    const { produced, now } = result;
    const subscribedAt = subscribeAt(produced.appRequests);
    const { last, shownAt } = lastMissed(result, subscribedAt, cfg.tokens);
    say(`figure producer-rate-per-s ${produced.rate.toFixed(0)}`);
    say(`figure tokens-kept-before-reload ${now.restored}`);
    say(`figure tokens-published-while-away ${last - now.restored + 1}`);
    say(`figure reload-to-last-missed-shown-ms ${shownAt - reloadAt}`);
    say(`figure subscribe-at-app-to-stream-open-ms ${now.openTimes[0] - subscribedAt}`);
    say(`figure subscribe-at-app-to-last-missed-shown-ms ${shownAt - subscribedAt}`);
    sayRequests(say, produced.appRequests, shownAt);
    checkWholeAnswer(result);
    check(now.restored > 0 && now.restored < cfg.tokens, `restored ${now.restored} tokens`);
    check(now.opens === 1, `the reloaded page opened ${now.opens} streams`);
    check(last >= now.restored, `no token was published while the page was away (${last}, ${now.restored})`);
  } finally {
    server.close();
  }
}

/** When the page's (new) subscribe reached the app: its first `GET /events` since the mark. */
function subscribeAt(requests) {
  return requests.find((r) => new URL(r.target, 'http://app').pathname === '/events')?.atMs;
}

/**
 * A TCP relay on loopback to the broker at `appUrl`, which the network drop goes through:
 * `cut()` resets every connection through it and every new one until `restore()`.
 * (Chromium's offline emulation does not end a response already streaming.)
 */
async function dropRelay(appUrl) {
  const app = new URL(appUrl);
  const open = new Set();
  const relay = { down: false, connections: 0 };
  const server = createServer((client) => {
    client.on('error', () => {});
    if (relay.down) return client.resetAndDestroy();
    relay.connections += 1;
    const upstream = connect(Number(app.port), app.hostname);
    upstream.on('error', () => client.destroy());
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${server.address().port}`;
  relay.cut = () => {
    relay.down = true;
    for (const socket of open) socket.resetAndDestroy();
  };
  relay.restore = () => {
    relay.down = false;
  };
  relay.close = () => {
    relay.cut();
    server.close();
  };
  return relay;
}

/**
 * Network drop half way: the page's connection to the broker is reset and every new one
 * refused for a second (no token arrives), then the network is back; the page's
 * EventSource reconnects by itself with the `Last-Event-ID` of the last token it got (the
 * request's URL still says `lastEventId=earliest`) and goes on without a loss or a repeat.
 */
export async function aiAnswerNetworkDrop({ cfg, newPage, say, ask }) {
  const relay = await dropRelay(cfg.appUrl);
  const { page, server, sent } = await openAnswer(cfg, newPage, relay.url);
  try {
    check(await ask('produce') === 'producing', 'the producer started');
    await untilShown(page, cfg.tokens / 2);
    await ask('mark');
    relay.cut();
    const offlineAt = Date.now();
    const cutAt = await tokensShown(page);
    await sleep(1_000);
    const stillAt = await tokensShown(page);
    const during = await shown(page);
    check(during.errors > 0, 'the page saw no error while its connection was down');
    check(stillAt === cutAt, `tokens kept coming while the connection was down (${cutAt}, then ` +
      `${stillAt})`);
    relay.restore();
    const onlineAt = Date.now();
    const result = await finished(page, ask);
    const { produced, now } = result;
    const subscribedAt = subscribeAt(produced.appRequests);
    const { last, shownAt } = lastMissed(result, subscribedAt, cfg.tokens);
    say(`figure producer-rate-per-s ${produced.rate.toFixed(0)}`);
    say(`figure tokens-before-the-drop ${cutAt}`);
    say(`figure tokens-published-while-down ${last - cutAt + 1}`);
    say(`figure down-ms ${onlineAt - offlineAt}`);
    say(`figure back-to-stream-open-ms ${now.openTimes[1] - onlineAt}`);
    say(`figure back-to-last-missed-shown-ms ${shownAt - onlineAt}`);
    say(`figure subscribe-at-app-to-last-missed-shown-ms ${shownAt - subscribedAt}`);
    say(`figure connections-through-the-relay ${relay.connections}`);
    sayRequests(say, produced.appRequests, shownAt);
    checkWholeAnswer(result);
    check(now.opens === 2, `stream-open ${now.opens} times in the page's life, not twice`);
    check(sent[0] === null && sent.length >= 2 && sent.slice(1).every((id) => id === during.keptId),
      `Last-Event-ID of the stream requests on the wire: ${JSON.stringify(sent)}, ` +
      `the last token's id ${during.keptId}`);
  } finally {
    server.close();
    relay.close();
  }
}

/**
 * The app requests of the answer's topic since the mark, one line each; then how many of
 * them the resume took (from the page's new stream request, `GET /events`, until the last
 * missed token was shown) and how many came after it, while the stream was live. Requests
 * before the new stream request are the old page's.
 */
function sayRequests(say, requests, caughtUpAt) {
  const start = requests.find((r) => new URL(r.target, 'http://app').pathname === '/events');
  for (const r of requests) {
    const url = new URL(r.target, 'http://app');
    const kind = url.searchParams.has('replay') ? 'replay page' : url.pathname.replace(/link\/.*/, 'link/…');
    say(`app-request ${r.method} ${kind} at ${r.atMs - (start?.atMs ?? 0)} ms`);
  }
  const mine = requests.filter((r) => start && r.atMs >= start.atMs);
  const resume = mine.filter((r) => r.atMs <= caughtUpAt).length;
  say(`figure app-requests-signed-for-the-resume ${resume}`);
  say(`figure app-requests-signed-after-it-while-live ${mine.length - resume}`);
}
