// JWT authentication against a real router: the token option signs the
// client in, and a fresh token is sent before the old one expires, so the
// router never ends the subscriptions; without a refresh it does.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client, States, SubscriptionStates } from '../wsrouter.js';
import { Router, publish, routerBinary, startRedis, tempDir, waitFor } from '../testing/harness.mjs';

const FAST = { minReconnectDelay: 50, maxReconnectDelay: 400, onUnhandledError: null };
const SECRET = 'a-test-secret-of-at-least-32-bytes!';

let tmp;
let redis;
let router;

/** An HS256 token for user that expires in `seconds`. */
function sign(user, seconds) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, exp: Math.floor(Date.now() / 1000) + seconds })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

before(
  async () => {
    tmp = tempDir();
    redis = await startRedis();
    const secretFile = path.join(tmp.dir, 'jwt-secret');
    writeFileSync(secretFile, SECRET);
    router = new Router({
      bin: routerBinary(tmp.dir),
      dir: tmp.dir,
      redisURL: redis.url,
      servicesYAML: `authentication:\n  jwt: {hmac_secret_file: "${secretFile}", auth_fields: [sub]}\nservices:\n  feed: {}\n`,
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

describe('token option', { timeout: 30000 }, () => {
  test('refreshes the token before it expires; the subscription outlives the first token', async (t) => {
    let calls = 0;
    let firstExpiry = 0;
    const token = () => {
      if (calls++ === 0) firstExpiry = (Math.floor(Date.now() / 1000) + 2) * 1000;
      return sign('alice', 2);
    };
    const client = new Client(router.url, { ...FAST, token });
    t.after(() => client.close());
    client.connect();
    await waitFor(() => client.state === States.CONNECTED, 5000, 'connected');
    const seen = [];
    const sub = await client.subscribe('feed.a', { onMessage: (data) => seen.push(data) });
    await waitFor(() => Date.now() > firstExpiry + 500, 8000, 'the first token expired');
    assert.ok(calls >= 2, `token called ${calls} times`);
    assert.equal(sub.state, SubscriptionStates.ACTIVE, 'still subscribed after the first token expired');
    await publish(redis.addr, 'feed.a', { subscription: 'feed.a', data: 'still here' });
    await waitFor(() => seen.length === 1, 5000, 'a delivery');
    assert.equal(seen[0], 'still here');
  });

  test('without a fresh token the router ends the subscription', async (t) => {
    const old = sign('bob', 1);
    const client = new Client(router.url, { ...FAST, token: () => old });
    t.after(() => client.close());
    client.connect();
    await waitFor(() => client.state === States.CONNECTED, 5000, 'connected');
    let ended = null;
    const sub = await client.subscribe('feed.b', { onUnsubscribe: (error) => (ended = error) });
    await waitFor(() => ended !== null, 8000, 'forced unsubscribe');
    assert.equal(ended, 'Authentication expired.');
    assert.equal(sub.state, SubscriptionStates.ENDED);
  });

  test('a refused token fails the connection attempt', async (t) => {
    const errors = [];
    const client = new Client(router.url, { ...FAST, token: () => 'not-a-token' });
    client.on('error', (err) => errors.push(err));
    t.after(() => client.close());
    client.connect();
    await waitFor(() => errors.length > 0, 5000, 'an auth error');
    assert.equal(errors[0].message, 'Authentication failed.');
  });
});
