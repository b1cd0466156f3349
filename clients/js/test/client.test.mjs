// Integration tests of the client against a real router process and a real
// Redis. Run with: node --experimental-websocket --test clients/js/test/
// (Node 22+ needs no flag). WSROUTER_BIN names a prebuilt router binary.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import vm from 'node:vm';

import { CLOSE_DISCONNECTED, Client, RouterError, States, SubscriptionStates } from '../wsrouter.js';
import { globalPath } from '../build.mjs';
import { Router, freePort, publish, routerBinary, startRedis, startService, tempDir, waitFor } from '../testing/harness.mjs';

const FAST = { minReconnectDelay: 50, maxReconnectDelay: 400, onUnhandledError: null };

let tmp;
let redis;
let service;
let router;
let issued = 0;
let apiPort;
const API_KEY = 'js-client-test-api-key';
const tickets = new Map(); // ticket -> user, deleted when used

function servicesYAML(base) {
  return `
api:
  listen: 127.0.0.1:${apiPort}
  keys: [${API_KEY}]
authentication:
  ticket:
    validation_url: ${base}/auth/
    auth_fields: [user_id]
services:
  books:
    authorizer: ${base}/books/authorize/
    authorizer_fields: [can_edit]
    extra_fields: [edition]
    before_subscribe: ${base}/books/before_subscribe/
    on_message: ${base}/books/on_message/
    before_unsubscribe: ${base}/books/before_unsubscribe/
    on_unsubscribe: ${base}/books/on_unsubscribe/
  revoked:
    authorizer: ${base}/revoked/authorize/
    authorization_renewal_period: 300ms
  room:
    presence: true
    presence_fields: [user_id]
    presence_events: true
`;
}

/** A fresh single-use ticket for `user`, as an application's endpoint would issue. */
async function issueTicket(user = 'alice') {
  const t = `ticket-${++issued}`;
  tickets.set(t, user);
  return t;
}

const revokedSeen = new Set();

const routes = {
  '/auth/': ({ ticket }) => {
    const user = tickets.get(ticket);
    if (!user) return { status: 'error', error: 'Invalid ticket.' };
    tickets.delete(ticket);
    return { status: 'ok', user_id: user };
  },
  '/books/authorize/': ({ subscription }) =>
    subscription === 'books.forbidden' ? { status: 'error', error: 'No such book.' } : { status: 'ok', can_edit: true },
  '/books/before_subscribe/': ({ subscription, user_id }) => ({
    status: 'ok',
    data: { book: subscription, reader: user_id, calls: service.calls.length },
  }),
  '/books/on_message/': ({ data }) => {
    if (data?.bad) return { status: 'error', error: 'Bad edit.' };
    if (data?.echo) return { status: 'ok', data: { echoed: data.echo } };
    return { status: 'ok' };
  },
  '/books/before_unsubscribe/': ({ subscription }) =>
    subscription === 'books.sticky' ? { status: 'error', error: 'Stay a while.' } : { status: 'ok', data: { bye: true } },
  '/books/on_unsubscribe/': () => ({ status: 'ok' }),
  '/revoked/authorize/': ({ subscription }) => {
    if (revokedSeen.has(subscription)) return { status: 'error', error: 'Access revoked.' };
    revokedSeen.add(subscription);
    return { status: 'ok' };
  },
};

// Building the router can take a while on a cold cache.
before(
  async () => {
    tmp = tempDir();
    redis = await startRedis();
    service = await startService(routes);
    apiPort = await freePort();
    router = new Router({ bin: routerBinary(tmp.dir), dir: tmp.dir, redisURL: redis.url, servicesYAML: servicesYAML(service.base) });
    await router.start();
  },
  { timeout: 300000 },
);

after(async () => {
  await router?.stop();
  await service?.stop();
  await redis?.stop();
  tmp?.cleanup();
});

/** A connected client that closes when the test ends. */
async function connected(t, options = {}) {
  const client = new Client(router.url, { ticket: () => issueTicket(), ...FAST, ...options });
  t.after(() => client.close());
  client.connect();
  await waitFor(() => client.state === States.CONNECTED, 5000, 'connected');
  return client;
}

/** Collects calls of a handler and waits for them. */
function recorder() {
  const seen = [];
  const fn = (...args) => seen.push(args);
  fn.seen = seen;
  fn.waitCount = (n, what) => waitFor(() => seen.length >= n, 5000, what);
  return fn;
}

describe('wsrouter client', { timeout: 60000 }, () => {
  test('subscribes, gets the before_subscribe data, receives publications', async (t) => {
    const client = await connected(t);
    const onMessage = recorder();
    const onSubscribe = recorder();
    const sub = await client.subscribe('books.b1', { fields: { edition: 2 }, onMessage, onSubscribe });
    assert.equal(sub.active, true);
    assert.deepEqual({ book: sub.data.book, reader: sub.data.reader }, { book: 'books.b1', reader: 'alice' });
    assert.equal(onSubscribe.seen.length, 1);

    for (let i = 1; i <= 3; i++) {
      await publish(redis.addr, 'books.b1', { subscription: 'books.b1', data: { n: i } });
    }
    await onMessage.waitCount(3, 'three deliveries');
    assert.deepEqual(onMessage.seen.map(([data]) => data), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.equal(onMessage.seen[0][1].edition, 2, 'extra field echoed in the delivery');

    const byeData = await sub.unsubscribe();
    assert.deepEqual(byeData, { bye: true });
    assert.equal(client.subscription('books.b1'), undefined);
  });

  test('errors surface as rejected promises', async (t) => {
    const client = await connected(t);
    await client.subscribe('books.dup');
    const sticky = await client.subscribe('books.sticky');
    const cases = [
      { name: 'bad format', run: () => client.subscribe('nodot'), error: 'Invalid subscription format.' },
      { name: 'unknown service', run: () => client.subscribe('nope.x'), error: 'Invalid service.' },
      { name: 'authorizer refuses', run: () => client.subscribe('books.forbidden'), error: 'No such book.' },
      { name: 'already subscribed', run: () => client.subscribe('books.dup'), error: 'Already subscribed.' },
      { name: 'before_unsubscribe refuses', run: () => sticky.unsubscribe(), error: 'Stay a while.' },
    ];
    for (const c of cases) {
      await t.test(c.name, async () => {
        await assert.rejects(c.run(), (err) => {
          assert.ok(err instanceof RouterError, `${err} is a RouterError`);
          assert.equal(err.message, c.error);
          return true;
        });
      });
    }
    assert.equal(client.subscription('books.sticky').active, true, 'a refused unsubscribe keeps the subscription');
    assert.equal(client.subscription('books.forbidden'), undefined, 'a refused subscribe is forgotten');
  });

  test('authentication failures surface as error events and reconnects', async (t) => {
    const cases = [
      { name: 'no ticket function', options: { ticket: undefined }, subscribeError: 'Authentication required.' },
      { name: 'unknown ticket', options: { ticket: async () => 'forged' }, authError: 'Invalid ticket.' },
    ];
    for (const c of cases) {
      await t.test(c.name, async (t) => {
        const client = new Client(router.url, { ...FAST, ...c.options });
        t.after(() => client.close());
        const errors = recorder();
        client.on('error', errors);
        client.connect();
        if (c.subscribeError) {
          await assert.rejects(client.subscribe('books.anon'), { message: c.subscribeError });
        } else {
          await errors.waitCount(2, 'an auth error on two attempts');
          assert.ok(errors.seen[0][0] instanceof RouterError);
          assert.equal(errors.seen[0][0].message, c.authError);
          assert.notEqual(client.state, States.CONNECTED);
        }
      });
    }
  });

  test('message replies reach onReply', async (t) => {
    const client = await connected(t);
    const onReply = recorder();
    const sub = await client.subscribe('books.m1', { onReply });
    assert.equal(sub.send({ plain: true }), true);
    assert.equal(sub.send({ bad: true }), true);
    assert.equal(sub.send({ echo: 'hi' }), true);
    await onReply.waitCount(2, 'two replies');
    const replies = onReply.seen.map(([r]) => ({ status: r.status, error: r.error, data: r.data }));
    assert.deepEqual(replies, [
      { status: 'error', error: 'Bad edit.', data: undefined },
      { status: 'ok', error: undefined, data: { echoed: 'hi' } },
    ]);
  });

  test('forced unsubscribes reach onUnsubscribe', async (t) => {
    const client = await connected(t);
    const onUnsubscribe = recorder();
    await client.subscribe('revoked.r1', { onUnsubscribe });
    await onUnsubscribe.waitCount(1, 'forced unsubscribe');
    assert.equal(onUnsubscribe.seen[0][0], 'Access revoked.');
    assert.equal(client.subscription('revoked.r1'), undefined);
  });

  test('a refused connection backs off and retries instead of waiting for the connect timeout', async (t) => {
    const port = await freePort(); // nothing listens there
    // With a connect timeout of a minute, only the socket's own error
    // events can end each attempt within the test's deadline.
    const client = new Client(`ws://127.0.0.1:${port}/`, { ...FAST, connectTimeout: 60000 });
    t.after(() => client.close());
    const lost = [];
    client.on('state', (s, d) => s === States.DISCONNECTED && lost.push(d));
    client.connect();
    await waitFor(() => lost.length >= 3, 10000, 'three failed attempts');
    for (const d of lost) {
      assert.ok(d.reason === 'connection error' || d.code === 1006, `lost with ${JSON.stringify(d)}`);
      assert.ok(d.delay <= FAST.maxReconnectDelay, `delay ${d.delay}`);
    }
  });

  test('reconnects after the router restarts and resubscribes in order', async (t) => {
    let ticketCalls = 0;
    const client = await connected(t, {
      connectTimeout: 60000, // attempts against the stopped router must fail by themselves
      ticket: () => {
        ticketCalls++;
        return issueTicket('bob');
      },
    });
    const states = [];
    client.on('state', (s) => states.push(s));
    const names = ['books.first', 'books.second', 'books.third'];
    const handlers = Object.fromEntries(names.map((n) => [n, { onSubscribe: recorder(), onMessage: recorder() }]));
    for (const n of names) await client.subscribe(n, handlers[n]);

    const mark = service.calls.length;
    await router.stop();
    // Two refused attempts while the router is down: the reconnect loop
    // keeps going on its own before the router comes back.
    await waitFor(() => states.filter((s) => s === States.DISCONNECTED).length >= 3, 10000, 'refused reconnects');
    await router.start();
    await waitFor(() => names.every((n) => handlers[n].onSubscribe.seen.length === 2), 10000, 'resubscribed');

    assert.equal(client.state, States.CONNECTED);
    assert.ok(ticketCalls >= 2, `a fresh ticket per connection (ticket called ${ticketCalls} times)`);
    assert.ok(states.includes(States.DISCONNECTED) && states.at(-1) === States.CONNECTED, `states ${states}`);
    const resubscribed = service.calls
      .slice(mark)
      .filter((c) => c.path === '/books/before_subscribe/')
      .map((c) => c.body.subscription);
    assert.deepEqual(resubscribed, names, 'subscriptions restored in order');

    for (const n of names) await publish(redis.addr, n, { subscription: n, data: { after: n } });
    for (const n of names) {
      await handlers[n].onMessage.waitCount(1, `delivery to ${n}`);
      assert.deepEqual(handlers[n].onMessage.seen[0][0], { after: n });
    }
  });

  test('pings detect a peer that stopped answering', async (t) => {
    const client = await connected(t, { pingInterval: 100, pingTimeout: 300, connectTimeout: 500 });
    const onSubscribe = recorder();
    await client.subscribe('books.ping', { onSubscribe });
    const states = [];
    client.on('state', (s, d) => states.push([s, d.reason]));
    router.freeze(true);
    try {
      await waitFor(() => states.some(([s, r]) => s === States.DISCONNECTED && r === 'ping timeout'), 5000, 'ping timeout');
    } finally {
      router.freeze(false);
    }
    await onSubscribe.waitCount(2, 'resubscribed after the peer woke up');
    assert.equal(client.state, States.CONNECTED);
  });

  test('a subscription handle reports its state and events and unsubscribes', async (t) => {
    const client = await connected(t);
    const promise = client.subscribe('books.handle');
    const handle = client.subscription('books.handle');
    assert.equal(handle.state, SubscriptionStates.PENDING, 'a handle exists before the ok');
    const states = [];
    handle.on('state', (s) => states.push(s));
    const subscribed = recorder();
    handle.on('subscribe', subscribed);
    assert.equal(await promise, handle);
    assert.equal(handle.state, SubscriptionStates.ACTIVE);
    assert.equal(handle.active, true);
    assert.equal(subscribed.seen.length, 1);

    const messages = recorder();
    const stop = handle.on('message', messages);
    await publish(redis.addr, 'books.handle', { subscription: 'books.handle', data: { n: 1 } });
    await messages.waitCount(1, 'a delivery to the listener');
    stop();
    const replies = recorder();
    handle.on('reply', replies);
    handle.send({ bad: true });
    await replies.waitCount(1, 'the error reply to the listener');
    assert.equal(replies.seen[0][0].error, 'Bad edit.');

    assert.deepEqual(await handle.unsubscribe(), { bye: true });
    assert.equal(handle.state, SubscriptionStates.ENDED);
    assert.deepEqual(states, [SubscriptionStates.ACTIVE, SubscriptionStates.UNSUBSCRIBING, SubscriptionStates.ENDED]);
    await publish(redis.addr, 'books.handle', { subscription: 'books.handle', data: { n: 2 } });
    assert.equal(messages.seen.length, 1, 'a removed listener hears nothing more');
  });

  test('presence lists the members and join and leave reach their handlers', async (t) => {
    const alice = await connected(t);
    const bob = await connected(t, { ticket: () => issueTicket('bob') });
    const onJoin = recorder();
    const onLeave = recorder();
    const mine = await alice.subscribe('room.r1', { onJoin, onLeave });
    const theirs = await bob.subscribe('room.r1');
    await onJoin.waitCount(1, 'the join of bob');
    assert.deepEqual(onJoin.seen[0][0], { user_id: 'bob' });
    assert.deepEqual(await theirs.presence(), { members: [{ user_id: 'alice' }, { user_id: 'bob' }], truncated: false });
    await theirs.unsubscribe();
    await onLeave.waitCount(1, 'the leave of bob');
    assert.deepEqual(onLeave.seen[0][0], { user_id: 'bob' });
    assert.deepEqual((await mine.presence()).members, [{ user_id: 'alice' }]);
    const other = await alice.subscribe('books.b9');
    await assert.rejects(other.presence(), (err) => err instanceof RouterError && err.message === 'Presence is not enabled.');
    assert.equal(onJoin.seen.length, 1, 'no join of its own');
  });

  test('a refused re-subscribe ends the handle with the error', async (t) => {
    const client = await connected(t);
    const sub = await client.subscribe('revoked.r2');
    const ended = recorder();
    sub.on('unsubscribe', ended);
    await ended.waitCount(1, 'forced unsubscribe');
    assert.equal(sub.state, SubscriptionStates.ENDED);
    assert.equal(sub.error, 'Access revoked.');
  });

  test('online and visible pages reconnect at once instead of waiting for the backoff', async (t) => {
    const cases = [
      { name: 'online', fire: (win) => win.dispatchEvent(new Event('online')) },
      {
        name: 'visibilitychange to visible',
        fire: (win, doc, client) => {
          doc.visibilityState = 'hidden';
          doc.dispatchEvent(new Event('visibilitychange'));
          assert.equal(client.state, States.DISCONNECTED, 'a hidden page waits for the backoff');
          doc.visibilityState = 'visible';
          doc.dispatchEvent(new Event('visibilitychange'));
        },
      },
    ];
    for (const c of cases) {
      await t.test(c.name, async (t) => {
        // A WebSocket that refuses while `down`, like a network that is gone.
        let down = true;
        let opened = 0;
        class FlakyWebSocket extends WebSocket {
          constructor(url) {
            if (down) throw new Error('network down');
            super(url);
            opened++;
          }
        }
        const win = new EventTarget();
        const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
        // Backoff of at least 30 s: only the wake-up can reconnect in time.
        const client = new Client(router.url, {
          ...FAST,
          ticket: () => issueTicket(),
          WebSocket: FlakyWebSocket,
          minReconnectDelay: 60000,
          maxReconnectDelay: 60000,
          window: win,
          document: doc,
        });
        t.after(() => client.close());
        client.connect();
        assert.equal(client.state, States.DISCONNECTED);
        down = false;
        c.fire(win, doc, client);
        await waitFor(() => client.state === States.CONNECTED, 5000, 'connected after the wake-up');
        assert.equal(opened, 1, 'one socket, opened by the wake-up');
      });
    }
  });

  test('the classic <script> build works like the module', async (t) => {
    const context = vm.createContext({ WebSocket, setTimeout, clearTimeout, console, Event, EventTarget });
    vm.runInContext(readFileSync(globalPath, 'utf8'), context, { filename: 'wsrouter.global.js' });
    const lib = context.wsrouter;
    assert.deepEqual(Object.keys(lib).sort(), ['CLOSE_DISCONNECTED', 'Client', 'RouterError', 'States', 'Subscription', 'SubscriptionStates', 'backoff']);
    const client = new lib.Client(router.url, { ...FAST, ticket: () => issueTicket() });
    t.after(() => client.close());
    client.connect();
    const onMessage = recorder();
    const sub = await client.subscribe('books.global', { onMessage });
    assert.equal(sub.state, 'active');
    await publish(redis.addr, 'books.global', { subscription: 'books.global', data: { via: 'script' } });
    await onMessage.waitCount(1, 'a delivery through the classic build');
    assert.equal(onMessage.seen[0][0].via, 'script');
  });

  test('a disconnect by the server (4000) closes the client for good and tells the application', async (t) => {
    const client = await connected(t, { ticket: () => issueTicket('mallory') });
    const other = await connected(t);
    const sub = await client.subscribe('books.signed-out');
    const states = [];
    client.on('state', (state, detail) => states.push([state, detail]));

    const res = await fetch(`http://127.0.0.1:${apiPort}/api/disconnect`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ match: { user_id: 'mallory' } }),
    });
    assert.equal(res.status, 200, await res.text());
    await waitFor(() => client.state === States.CLOSED, 5000, 'closed by the server');
    assert.deepEqual(states, [[States.CLOSED, { code: CLOSE_DISCONNECTED, reason: 'disconnected' }]]);
    assert.equal(sub.state, SubscriptionStates.ENDED);
    await assert.rejects(client.subscribe('books.after'), { message: 'wsrouter: client closed' });

    // No reconnect: nothing happens for several times the longest backoff
    // (maxReconnectDelay is 400 ms here); absence can only be waited out.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(states.map(([s]) => s), [States.CLOSED]);
    assert.equal(other.state, States.CONNECTED, "another user's client stays");
  });

  test('close rejects waiting subscribes and stops reconnecting', async () => {
    const client = new Client('ws://127.0.0.1:1/', { ...FAST });
    client.connect();
    const pending = client.subscribe('books.never');
    client.close();
    await assert.rejects(pending, { message: 'wsrouter: client closed' });
    assert.equal(client.state, States.CLOSED);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(client.state, States.CLOSED);
  });
});
