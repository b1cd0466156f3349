// wsrouter client: one WebSocket to a wsrouter (or SocketShark) server,
// ticket authentication, subscriptions with promise replies, liveness
// pings, and reconnection that restores every subscription in order.
// Dependency-free ES module for browsers and Node (22+, or 20 with
// --experimental-websocket).

/** Connection states, in the order a connection normally goes through them. */
export const States = Object.freeze({
  IDLE: 'idle', // created, connect() not called yet
  CONNECTING: 'connecting', // opening the socket and authenticating
  CONNECTED: 'connected', // authenticated; subscriptions (re)sent
  DISCONNECTED: 'disconnected', // lost; a reconnect is scheduled
  CLOSED: 'closed', // close() was called; nothing more happens
});

const DEFAULTS = Object.freeze({
  pingInterval: 15000,
  pingTimeout: 10000,
  connectTimeout: 10000,
  minReconnectDelay: 500,
  maxReconnectDelay: 30000,
});

/**
 * An error answered by the router (or a service behind it). `message` is the
 * router's error string exactly, e.g. "Unauthorized."; `reply` is the frame.
 */
export class RouterError extends Error {
  constructor(message, reply) {
    super(message);
    this.name = 'RouterError';
    this.reply = reply ?? null;
  }
}

/**
 * Delay before reconnect attempt number `attempt` (0 for the first):
 * exponential from `min` up to `max`, with "equal jitter" (a random point in
 * the upper half) so that clients dropped together do not return together.
 */
export function backoff(attempt, min, max, random = Math.random) {
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** One subscription of a Client; obtained from Client.subscribe. */
export class Subscription {
  constructor(client, name, options) {
    this.client = client;
    /** Subscription name, "service.topic". */
    this.name = name;
    /** Extra fields sent with the subscribe event. */
    this.fields = { ...(options.fields ?? {}) };
    /** `data` of the latest ok subscribe reply (before_subscribe's answer). */
    this.data = undefined;
    /** True while the router has this subscription on the current connection. */
    this.active = false;
    this._handlers = options;
    this._settled = false;
    this._resolve = null;
    this._reject = null;
    this._unsubscribing = null;
  }

  /**
   * Sends a message event for this subscription. Returns false (and sends
   * nothing) when the subscription is not active on an open connection.
   * The router answers only errors and answers with data: they reach the
   * onReply handler (errors go to the client's "error" event without one).
   */
  send(data) {
    if (!this.active || this.client.state !== States.CONNECTED) return false;
    return this.client._send({ event: 'message', subscription: this.name, data });
  }

  /**
   * Ends the subscription. Resolves with before_unsubscribe's data (or
   * null); rejects with a RouterError when the service refuses, in which
   * case the subscription stays.
   */
  unsubscribe() {
    return this.client._unsubscribe(this);
  }

  _call(name, ...args) {
    const fn = this._handlers[name];
    if (typeof fn !== 'function') return false;
    try {
      fn.apply(this, args);
    } catch (err) {
      this.client._emit('error', err);
    }
    return true;
  }
}

/** A wsrouter connection. */
export class Client {
  /**
   * @param {string} url WebSocket URL of the router, e.g. "wss://ws.example.com/".
   * @param {object} [options] see wsrouter.d.ts.
   */
  constructor(url, options = {}) {
    this.url = url;
    this.options = { ...DEFAULTS, ...options };
    this.state = States.IDLE;
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this._WebSocket !== 'function') {
      throw new Error('wsrouter: no WebSocket implementation; pass options.WebSocket');
    }
    this._random = options.random ?? Math.random;
    this._subs = new Map(); // insertion order is restore order
    this._pending = []; // requests on the current socket awaiting their reply
    this._listeners = new Map();
    this._ws = null;
    this._attempt = 0;
    this._generation = 0;
    this._timers = new Set();
    this._pingTimer = null;
    this._pongTimer = null;
    this._pingSeq = 0;
  }

  /**
   * Listens to "state" (state, detail), "error" (err) or "reply" (frame, for
   * replies nothing else claimed). Returns a function that stops listening.
   */
  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return () => this._listeners.get(event)?.delete(fn);
  }

  /** Opens the connection; it is kept open (reconnecting) until close(). */
  connect() {
    if (this.state === States.IDLE || this.state === States.CLOSED) {
      this._attempt = 0;
      this._open();
    }
    return this;
  }

  /** Closes the connection for good; subscribes still waiting reject. */
  close() {
    if (this.state === States.CLOSED) return;
    this._teardown();
    for (const t of this._timers) clearTimeout(t);
    this._timers.clear();
    for (const sub of this._subs.values()) {
      sub.active = false;
      if (!sub._settled) this._settle(sub, new Error('wsrouter: client closed'));
      sub._unsubscribing?.resolve(null); // closing ends it too
    }
    this._subs.clear();
    this._setState(States.CLOSED);
  }

  /**
   * Subscribes to `name` ("service.topic"). Resolves with the Subscription
   * when the router answers ok, rejects with a RouterError carrying the
   * router's error string otherwise. Works before connect() and while
   * disconnected: the subscribe is sent once the connection is up, and again
   * after every reconnect (the onSubscribe handler sees each ok answer).
   */
  subscribe(name, options = {}) {
    if (this.state === States.CLOSED) {
      return Promise.reject(new Error('wsrouter: client closed'));
    }
    if (this._subs.has(name)) {
      return Promise.reject(new RouterError('Already subscribed.', null));
    }
    const sub = new Subscription(this, name, options);
    const promise = new Promise((resolve, reject) => {
      sub._resolve = resolve;
      sub._reject = reject;
    });
    this._subs.set(name, sub);
    if (this.state === States.CONNECTED) this._sendSubscribe(sub);
    return promise;
  }

  /** The subscription named `name`, if any. */
  subscription(name) {
    return this._subs.get(name);
  }

  // --- connection ---------------------------------------------------------

  _open() {
    const gen = ++this._generation;
    this._setState(States.CONNECTING, { attempt: this._attempt });
    let ws;
    try {
      ws = new this._WebSocket(this.url);
    } catch (err) {
      this._emit('error', err);
      this._lost(gen, { reason: String(err?.message ?? err) });
      return;
    }
    this._ws = ws;
    this._later(this.options.connectTimeout, () => {
      if (gen === this._generation && this.state === States.CONNECTING) {
        this._lost(gen, { reason: 'connect timeout' });
      }
    });
    ws.onopen = () => {
      if (gen === this._generation) this._authenticate(gen);
    };
    ws.onmessage = (ev) => {
      if (gen === this._generation) this._receive(ev.data);
    };
    ws.onclose = (ev) => {
      if (gen === this._generation) this._lost(gen, { code: ev.code, reason: ev.reason });
    };
    ws.onerror = () => {}; // a close event always follows
  }

  async _authenticate(gen) {
    const getTicket = this.options.ticket;
    if (getTicket) {
      let ticket;
      try {
        ticket = await getTicket();
      } catch (err) {
        if (gen !== this._generation) return;
        this._emit('error', err);
        this._lost(gen, { reason: 'ticket: ' + (err?.message ?? err) });
        return;
      }
      if (gen !== this._generation) return;
      try {
        await this._request({ event: 'auth', method: 'ticket', ticket });
      } catch (err) {
        if (gen !== this._generation) return;
        this._emit('error', err);
        this._lost(gen, { reason: 'auth: ' + err.message });
        return;
      }
      if (gen !== this._generation) return;
    }
    this._attempt = 0;
    this._setState(States.CONNECTED);
    this._startPing(gen);
    for (const sub of this._subs.values()) {
      if (!sub._unsubscribing) this._sendSubscribe(sub);
    }
  }

  // _lost handles the end of connection `gen` once: drop the socket, forget
  // its requests, and schedule the next attempt.
  _lost(gen, detail) {
    if (gen !== this._generation || this.state === States.CLOSED) return;
    this._teardown();
    for (const sub of [...this._subs.values()]) {
      sub.active = false;
      if (sub._unsubscribing) {
        // The router ends a closed connection's subscriptions itself.
        this._subs.delete(sub.name);
        sub._unsubscribing.resolve(null);
      }
    }
    const delay = backoff(this._attempt++, this.options.minReconnectDelay, this.options.maxReconnectDelay, this._random);
    this._setState(States.DISCONNECTED, { ...detail, delay });
    this._later(delay, () => {
      if (this.state === States.DISCONNECTED) this._open();
    });
  }

  // _teardown drops the socket and its requests; late events of the old
  // socket and callbacks of its requests see a new generation and stop.
  _teardown() {
    this._generation++;
    clearTimeout(this._pingTimer);
    clearTimeout(this._pongTimer);
    this._pingTimer = this._pongTimer = null;
    for (const p of this._pending) p.reject(new Error('wsrouter: connection lost'));
    this._pending = [];
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close();
      } catch {
        // already closed
      }
    }
  }

  _startPing(gen) {
    const { pingInterval, pingTimeout } = this.options;
    if (!(pingInterval > 0)) return;
    const tick = () => {
      if (gen !== this._generation) return;
      this._send({ event: 'ping', data: String(++this._pingSeq) });
      if (!this._pongTimer) {
        this._pongTimer = setTimeout(() => this._lost(gen, { reason: 'ping timeout' }), pingTimeout);
      }
      this._pingTimer = setTimeout(tick, pingInterval);
    };
    this._pingTimer = setTimeout(tick, pingInterval);
  }

  // --- frames ---------------------------------------------------------------

  _send(frame) {
    const ws = this._ws;
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  // _request sends a frame and resolves with its ok reply or rejects with a
  // RouterError. The router answers a connection's events in order, so the
  // first pending request of the same event and subscription is the one.
  _request(frame) {
    return new Promise((resolve, reject) => {
      if (!this._send(frame)) {
        reject(new Error('wsrouter: not connected'));
        return;
      }
      this._pending.push({ event: frame.event, subscription: frame.subscription, resolve, reject });
    });
  }

  _sendSubscribe(sub) {
    const gen = this._generation;
    this._request({ ...sub.fields, event: 'subscribe', subscription: sub.name }).then(
      (reply) => {
        if (gen !== this._generation || this._subs.get(sub.name) !== sub) return;
        sub.active = true;
        sub.data = reply.data;
        sub._call('onSubscribe', reply.data, reply);
        if (!sub._settled) this._settle(sub, null);
      },
      (err) => {
        if (!(err instanceof RouterError) || this._subs.get(sub.name) !== sub) return;
        this._subs.delete(sub.name);
        sub.active = false;
        if (!sub._settled) {
          this._settle(sub, err);
        } else {
          // A restore was refused: the subscription is over.
          sub._call('onUnsubscribe', err.message, err.reply);
        }
      },
    );
  }

  _settle(sub, err) {
    sub._settled = true;
    if (err) sub._reject(err);
    else sub._resolve(sub);
  }

  _unsubscribe(sub) {
    if (this._subs.get(sub.name) !== sub) return Promise.resolve(null);
    if (sub._unsubscribing) return sub._unsubscribing.promise;
    if (this.state !== States.CONNECTED || !sub.active) {
      this._subs.delete(sub.name);
      sub.active = false;
      if (!sub._settled) this._settle(sub, new Error('wsrouter: unsubscribed'));
      return Promise.resolve(null);
    }
    const u = {};
    u.promise = new Promise((resolve, reject) => {
      u.resolve = resolve;
      u.reject = reject;
    });
    sub._unsubscribing = u;
    this._request({ ...sub.fields, event: 'unsubscribe', subscription: sub.name }).then(
      (reply) => {
        sub._unsubscribing = null;
        sub.active = false;
        if (this._subs.get(sub.name) === sub) this._subs.delete(sub.name);
        u.resolve(reply.data ?? null);
      },
      (err) => {
        if (sub._unsubscribing !== u) return; // settled by a connection loss
        sub._unsubscribing = null;
        if (err instanceof RouterError) u.reject(err);
        // else: the connection was lost; _lost resolves it
      },
    );
    return u.promise;
  }

  _receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      this._emit('error', new Error('wsrouter: frame is not JSON'));
      return;
    }
    // Any frame shows the peer is alive, not only the pong.
    clearTimeout(this._pongTimer);
    this._pongTimer = null;
    if (frame === null || typeof frame !== 'object') return;
    // A pong, or the error of a server without the ping event.
    if (frame.event === 'pong' || frame.event === 'ping') return;
    if ('status' in frame) {
      this._reply(frame);
      return;
    }
    const sub = this._subs.get(frame.subscription);
    if (frame.event === 'message') {
      if (sub) sub._call('onMessage', frame.data, frame);
      return;
    }
    if (frame.event === 'unsubscribe' && sub) {
      // Forced: the router ended the subscription (renewal refused).
      this._subs.delete(sub.name);
      sub.active = false;
      sub._call('onUnsubscribe', frame.error ?? null, frame);
    }
  }

  _reply(frame) {
    const hasSub = typeof frame.subscription === 'string';
    const i = this._pending.findIndex(
      (p) => p.event === frame.event && (!hasSub || p.subscription === frame.subscription),
    );
    if (i >= 0) {
      const [p] = this._pending.splice(i, 1);
      if (frame.status === 'ok') p.resolve(frame);
      else p.reject(new RouterError(frame.error ?? 'Unknown error.', frame));
      return;
    }
    if (frame.event === 'message') {
      const sub = this._subs.get(frame.subscription);
      if (sub && sub._call('onReply', frame)) return;
    }
    if (frame.status === 'error') {
      this._emit('error', new RouterError(frame.error ?? 'Unknown error.', frame));
    } else {
      this._emit('reply', frame);
    }
  }

  // --- plumbing ---------------------------------------------------------------

  _setState(state, detail = {}) {
    this.state = state;
    this._emit('state', state, detail);
  }

  _emit(event, ...args) {
    const set = this._listeners.get(event);
    if (!set || set.size === 0) {
      if (event === 'error' && this.options.onUnhandledError !== null) {
        (this.options.onUnhandledError ?? console.warn)('wsrouter:', args[0]);
      }
      return;
    }
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (err) {
        if (event !== 'error') this._emit('error', err);
      }
    }
  }

  _later(ms, fn) {
    const t = setTimeout(() => {
      this._timers.delete(t);
      fn();
    }, ms);
    this._timers.add(t);
  }
}
