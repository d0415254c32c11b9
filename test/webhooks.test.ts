import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { DELIVERY_HEADER, postToWebhooks } from '../src/monitor/webhooks.js';

interface Received {
  delivery: string | undefined;
  body: unknown;
}

/** A receiver that answers each POST with the next status of `statuses` (the last one from then on). */
async function receiver(statuses: number[]) {
  const received: Received[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    let text = '';
    for await (const chunk of request) text += chunk;
    received.push({ delivery: request.headers[DELIVERY_HEADER] as string | undefined, body: JSON.parse(text) });
    response.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)];
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function recordingLog() {
  const warnings: { object: Record<string, unknown>; message: string }[] = [];
  return { warnings, warn: (object: Record<string, unknown>, message: string) => warnings.push({ object, message }) };
}

const quick = { timeoutMs: 2000, backoff: { baseMs: 1, maxMs: 5 } };

test('a webhook busy or failing (503, 429) is tried again with the same delivery id until it takes the notification', async () => {
  const hook = await receiver([503, 429, 204]);
  const log = recordingLog();
  try {
    await postToWebhooks([hook.url], { event: 'job.finished', job: { id: 'j1' } }, { ...quick, attempts: 3 }, log, { job: 'j1' });
    assert.equal(hook.received.length, 3);
    assert.ok(hook.received[0].delivery !== undefined && hook.received[0].delivery.length > 0);
    assert.ok(hook.received.every((call) => call.delivery === hook.received[0].delivery), 'one notification, one delivery id');
    assert.deepEqual(hook.received[2].body, { event: 'job.finished', job: { id: 'j1' } });
    assert.deepEqual(log.warnings, [], 'delivered in the end: nothing to warn about');
  } finally {
    await hook.close();
  }
});

test('a webhook that refuses the notification (400) is not tried again; one that keeps failing is given up after its attempts and logged', async () => {
  const refusing = await receiver([400]);
  const failing = await receiver([500]);
  const log = recordingLog();
  try {
    await postToWebhooks([refusing.url, failing.url], { event: 'alert' }, { ...quick, attempts: 4 }, log, { rule: 'r' });
    assert.equal(refusing.received.length, 1);
    assert.equal(failing.received.length, 4);
    const byStatus = log.warnings.map((w) => [w.object.url, w.object.status, w.object.attempts, w.object.rule]).sort((a, b) => Number(a[1]) - Number(b[1]));
    assert.deepEqual(byStatus, [
      [refusing.url, 400, 1, 'r'],
      [failing.url, 500, 4, 'r'],
    ]);
  } finally {
    await Promise.all([refusing.close(), failing.close()]);
  }
});

test('a webhook nobody listens on is tried its attempts and logged as unreachable', async () => {
  const gone = await receiver([200]);
  await gone.close();
  const log = recordingLog();
  await postToWebhooks([gone.url], { event: 'alert' }, { ...quick, attempts: 2 }, log, {});
  assert.equal(log.warnings.length, 1);
  assert.equal(log.warnings[0].message, 'webhook unreachable');
  assert.equal(log.warnings[0].object.attempts, 2);
});
