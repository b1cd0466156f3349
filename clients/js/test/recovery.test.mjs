// Recovery against a real router with history: a client that was away gets
// what it missed, once and in order, or learns that it cannot.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { Client, States } from '../wsrouter.js';
import { Router, routerBinary, startRedis, tempDir, waitFor } from '../testing/harness.mjs';

const FAST = { minReconnectDelay: 50, maxReconnectDelay: 400, onUnhandledError: null };

let tmp;
let redis;
let router;

before(
  async () => {
    tmp = tempDir();
    redis = await startRedis();
    router = new Router({
      bin: routerBinary(tmp.dir),
      dir: tmp.dir,
      redisURL: redis.url,
      servicesYAML: 'services:\n  kept:\n    require_authentication: false\n    history: {size: 5, ttl: 1m}\n',
    });
    await router.start();
  },
  { timeout: 300000 },
);

after(async () => {
  await router?.stop();
  await redis?.stop();
  tmp?.cleanup();
});

/** Publishes {"data":{"n":n}} to name through the history, with `wsrouter publish`. */
function publishKept(name, n) {
  const r = spawnSync(router.bin, ['publish', '-config', router.configPath, name, JSON.stringify({ data: { n } })], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `wsrouter publish: ${r.stderr}`);
  return r.stdout.trim();
}

/** A subscription to name on a fresh client, with its deliveries and replies recorded. */
async function subscribed(t, name) {
  const client = new Client(router.url, FAST);
  t.after(() => client.close());
  client.connect();
  await waitFor(() => client.state === States.CONNECTED, 5000, 'connected');
  const seen = { ns: [], replies: [] };
  const sub = await client.subscribe(name, {
    onSubscribe: (data, reply) => seen.replies.push(reply),
    onMessage: (data) => seen.ns.push(data.n),
  });
  return { client, sub, seen };
}

describe('recovery', { timeout: 60000 }, () => {
  test('a client that was away gets every missed message once, in order', async (t) => {
    const { sub, seen } = await subscribed(t, 'kept.a');
    assert.equal(typeof seen.replies[0].offset, 'string', 'the first reply carries the newest offset');
    assert.equal(sub.recovered, undefined, 'no since, no recovered');
    publishKept('kept.a', 1);
    publishKept('kept.a', 2);
    await waitFor(() => seen.ns.length === 2, 5000, 'two deliveries');

    await router.stop();
    const last = [3, 4, 5].map((n) => publishKept('kept.a', n)).at(-1);
    await router.start();
    await waitFor(() => seen.replies.length === 2, 10000, 'restored');
    assert.equal(seen.replies[1].recovered, true);
    assert.equal(sub.recovered, true);
    await waitFor(() => seen.ns.length === 5, 5000, 'missed messages');
    assert.equal(sub.offset, last, 'the offset follows the deliveries');

    publishKept('kept.a', 6);
    await waitFor(() => seen.ns.length === 6, 5000, 'a live message');
    assert.deepEqual(seen.ns, [1, 2, 3, 4, 5, 6]);
  });

  test('a client whose missed messages are gone is told so', async (t) => {
    const { sub, seen } = await subscribed(t, 'kept.b');
    publishKept('kept.b', 1);
    await waitFor(() => seen.ns.length === 1, 5000, 'one delivery');

    await router.stop();
    for (let n = 2; n <= 8; n++) publishKept('kept.b', n); // size 5: 2 and 3 are trimmed
    await router.start();
    await waitFor(() => seen.replies.length === 2, 10000, 'restored');
    assert.equal(seen.replies[1].recovered, false);
    assert.equal(sub.recovered, false, 'the application should reload its state');
    assert.equal(sub.offset, seen.replies[1].offset, 'resumes from the reply offset');

    publishKept('kept.b', 9);
    await waitFor(() => seen.ns.length === 2, 5000, 'a live message');
    assert.deepEqual(seen.ns, [1, 9], 'nothing from the history, then live messages');
  });

  test('subscribe with a saved offset recovers from it', async (t) => {
    const first = publishKept('kept.c', 1);
    publishKept('kept.c', 2);
    publishKept('kept.c', 3);
    const client = new Client(router.url, FAST);
    t.after(() => client.close());
    client.connect();
    const ns = [];
    const sub = await client.subscribe('kept.c', { since: first, onMessage: (d) => ns.push(d.n) });
    assert.equal(sub.recovered, true);
    await waitFor(() => ns.length === 2, 5000, 'recovered messages');
    assert.deepEqual(ns, [2, 3]);
  });
});
