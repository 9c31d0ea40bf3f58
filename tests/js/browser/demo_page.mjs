// Driving the demo page (handlers/src/demo/) the way a person does: fill its fields, press
// its buttons, read what it shows.

import { until } from './harness.mjs';

/** Opens the demo page, with the token in the URL fragment when one is given. */
export async function openDemo(page, appUrl, token) {
  await page.goto(token ? `${appUrl}/#token=${encodeURIComponent(token)}` : `${appUrl}/`);
  await page.waitForSelector('#sub-form');
}

/**
 * The entries of a log (`sub-log` or `mqtt-log`), oldest first: `{ kind, meta, data }`
 * where `meta` maps each label to its value.
 */
export function entries(page, logId) {
  return page.$$eval(`#${logId} > li`, (items) => items.reverse().map((li) => ({
    kind: li.dataset.kind,
    meta: Object.fromEntries(Array.from(li.querySelectorAll('.meta'), (m) =>
      [m.dataset.label, m.textContent.slice(m.dataset.label.length + 2)])),
    data: li.querySelector('.data')?.textContent,
  })));
}

/** Waits for an entry of `kind` (and `data`, when given) in a log and returns it. */
export async function waitEntry(page, logId, kind, data, ms = 10_000) {
  const what = `a ${kind} entry${data === undefined ? '' : ` ${JSON.stringify(data)}`} in #${logId}`;
  return until(what, async () => (await entries(page, logId))
    .find((e) => e.kind === kind && (data === undefined || e.data === data)), ms)
    .catch(async (e) => {
      throw new Error(`${e.message}; it shows ${JSON.stringify(await entries(page, logId))}`);
    });
}

export const text = (page, selector) => page.textContent(selector).then((t) => t.trim());

/** Subscribes with the page's EventSource form and waits for `stream-open`. */
export async function subscribe(page, topics, { durable = false } = {}) {
  await page.fill('#sub-topics', topics.join('\n'));
  await page.setChecked('#sub-durable', durable);
  await page.click('#sub-start');
  await waitEntry(page, 'sub-log', 'stream-open');
}

/** Publishes with the page's form; resolves with the status line it shows. */
export async function publish(page, topic, message, { retain = false, file } = {}) {
  await page.fill('#pub-topic', topic);
  await page.fill('#pub-text', message);
  await page.setInputFiles('#pub-file', file ?? []);
  await page.setChecked('#pub-retain', retain);
  await page.click('#pub-send');
  return until('the publish status', async () => {
    const status = await text(page, '#pub-status');
    return status !== '' && status !== 'Publishing…' && status;
  });
}
