// Type declarations for wsrouter.js.

/** Connection states, in the order a connection normally goes through them. */
export declare const States: {
  readonly IDLE: 'idle';
  readonly CONNECTING: 'connecting';
  readonly CONNECTED: 'connected';
  readonly DISCONNECTED: 'disconnected';
  readonly CLOSED: 'closed';
};

/**
 * Close code of a client the server disconnected on purpose (4000): the
 * client does not reconnect and goes to "closed" with this code in the
 * state event's detail.
 */
export declare const CLOSE_DISCONNECTED: 4000;

/** One of the States values. */
export type State = (typeof States)[keyof typeof States];

/** Subscription states. */
export declare const SubscriptionStates: {
  /** Waiting for the router's ok (first time, or after a reconnect). */
  readonly PENDING: 'pending';
  /** The router has it on the current connection. */
  readonly ACTIVE: 'active';
  /** unsubscribe() sent, waiting for the answer. */
  readonly UNSUBSCRIBING: 'unsubscribing';
  /** Unsubscribed, refused, ended by the router, or the client closed. */
  readonly ENDED: 'ended';
};

/** One of the SubscriptionStates values. */
export type SubscriptionState = (typeof SubscriptionStates)[keyof typeof SubscriptionStates];

/** A frame received from the router; `D` is the type of its data. */
export interface Frame<D = unknown> {
  event: string;
  status?: 'ok' | 'error';
  error?: string;
  subscription?: string;
  data?: D;
  /** History services: a message's offset, or the newest one in a subscribe reply. */
  offset?: string;
  /** Subscribe replies to a subscribe with `since`: whether every missed message follows. */
  recovered?: boolean;
  [field: string]: unknown;
}

/** Detail of a "state" event. */
export interface StateDetail {
  /** Reconnect attempt number (connecting). */
  attempt?: number;
  /**
   * WebSocket close code (disconnected, when the socket closed; closed,
   * when the server disconnected the client with CLOSE_DISCONNECTED).
   */
  code?: number;
  /** Why the connection ended (disconnected; closed by the server). */
  reason?: string;
  /** Milliseconds until the next attempt (disconnected). */
  delay?: number;
}

/** Options of a Client. Times are in milliseconds. */
export interface ClientOptions {
  /**
   * Returns a fresh single-use ticket. Called on every (re)connect; without
   * it the client does not authenticate.
   */
  ticket?: () => Promise<string> | string;
  /**
   * Returns a JWT for the router's jwt method. Called on every (re)connect
   * and again before the token's exp (halfway through a short token's life,
   * 30 s before a long one's end), so subscriptions never lapse. Takes
   * precedence over ticket.
   */
  token?: () => Promise<string> | string;
  /** Send a ping event this often; 0 disables. Default 15000. */
  pingInterval?: number;
  /** Reconnect when a ping is not answered within this. Default 10000. */
  pingTimeout?: number;
  /** Reconnect when opening and authenticating take longer. Default 10000. */
  connectTimeout?: number;
  /** First reconnect delay ceiling (doubles per failed attempt). Default 500. */
  minReconnectDelay?: number;
  /** Largest reconnect delay ceiling. Default 30000. */
  maxReconnectDelay?: number;
  /** WebSocket constructor; default globalThis.WebSocket. */
  WebSocket?: new (url: string) => WebSocket;
  /** Random source in [0, 1) for jitter; default Math.random. */
  random?: () => number;
  /** Called with errors nobody listens to; default console.warn; null: ignore. */
  onUnhandledError?: ((prefix: string, err: unknown) => void) | null;
  /** Where "online" fires (reconnect at once); default globalThis; null: ignore. */
  window?: EventTarget | null;
  /** Where "visibilitychange" fires (reconnect when visible); default globalThis.document; null: ignore. */
  document?: (EventTarget & { readonly visibilityState: string }) | null;
}

/**
 * Handlers and extra fields of a subscription. `T` is the type of the
 * published messages' data, `S` that of before_subscribe's data.
 */
export interface SubscribeOptions<T = unknown, S = T> {
  /** Extra fields sent with subscribe and unsubscribe (the service's extra_fields). */
  fields?: Record<string, unknown>;
  /** An offset saved earlier (a Subscription's `offset`): recover what was published after it. */
  since?: string;
  /** Each ok subscribe answer, the first and every one after a reconnect. */
  onSubscribe?: (this: Subscription<T, S>, data: S, reply: Frame<S>) => void;
  /** Each message published to the subscription. */
  onMessage?: (this: Subscription<T, S>, data: T, frame: Frame<T>) => void;
  /** The router ended the subscription (renewal or re-subscribe refused). */
  onUnsubscribe?: (this: Subscription<T, S>, error: string | null, frame: Frame | null) => void;
  /** Replies to this subscription's message events (errors, and answers with data). */
  onReply?: (this: Subscription<T, S>, reply: Frame) => void;
  /** Each change of the subscription's state. */
  onState?: (this: Subscription<T, S>, state: SubscriptionState) => void;
  /** A member joined (presence_events); never this subscription's own. */
  onJoin?: (this: Subscription<T, S>, member: Member, frame: Frame) => void;
  /** A member left (presence_events): its last subscription ended. */
  onLeave?: (this: Subscription<T, S>, member: Member, frame: Frame) => void;
}

/** A presence member: the presence_fields values of its subscriptions. */
export type Member = Record<string, unknown>;

/** The answer to Subscription.presence(). */
export interface PresenceList {
  /** The members, sorted by their JSON. */
  members: Member[];
  /** True when the router cut the list (at 1,000 members). */
  truncated: boolean;
}

/** An error answered by the router; `message` is its error string exactly. */
export declare class RouterError extends Error {
  readonly name: 'RouterError';
  /** The reply frame, or null when the client refused locally. */
  readonly reply: Frame | null;
  constructor(message: string, reply: Frame | null);
}

/**
 * One subscription of a Client: its state, its events and unsubscribe().
 * `T` is the type of the published messages' data, `S` that of
 * before_subscribe's data.
 */
export declare class Subscription<T = unknown, S = T> {
  readonly client: Client;
  /** "service.topic". */
  readonly name: string;
  /** Extra fields sent with the subscribe event. */
  readonly fields: Record<string, unknown>;
  /** `data` of the latest ok subscribe reply; undefined before the first. */
  readonly data: S | undefined;
  /** History services: the last offset received, sent as `since` on a restore; null before any. */
  readonly offset: string | null;
  /**
   * After a subscribe that sent `since`: true when every missed message was
   * delivered, false when some are gone (reload the state). Else undefined.
   */
  readonly recovered: boolean | undefined;
  /** Where the subscription is. */
  readonly state: SubscriptionState;
  /** True while the router has this subscription on the current connection. */
  readonly active: boolean;
  /** Why it ended (the router's error string), or null. */
  readonly error: string | null;
  on(event: 'subscribe', fn: (this: Subscription<T, S>, data: S, reply: Frame<S>) => void): () => void;
  on(event: 'message', fn: (this: Subscription<T, S>, data: T, frame: Frame<T>) => void): () => void;
  on(event: 'unsubscribe', fn: (this: Subscription<T, S>, error: string | null, frame: Frame | null) => void): () => void;
  on(event: 'reply', fn: (this: Subscription<T, S>, reply: Frame) => void): () => void;
  on(event: 'state', fn: (this: Subscription<T, S>, state: SubscriptionState) => void): () => void;
  on(event: 'join' | 'leave', fn: (this: Subscription<T, S>, member: Member, frame: Frame) => void): () => void;
  /** Sends a message event; false when not active on an open connection. */
  send(data: unknown): boolean;
  /** Who is subscribed, on a service with presence; rejects with RouterError. */
  presence(): Promise<PresenceList>;
  /** Ends it; resolves with before_unsubscribe's data, rejects with RouterError. */
  unsubscribe(): Promise<unknown>;
}

/** A wsrouter connection that reconnects and restores its subscriptions. */
export declare class Client {
  constructor(url: string, options?: ClientOptions);
  readonly url: string;
  readonly state: State;
  on(event: 'state', fn: (state: State, detail: StateDetail) => void): () => void;
  on(event: 'error', fn: (err: unknown) => void): () => void;
  on(event: 'reply', fn: (frame: Frame) => void): () => void;
  /** Opens the connection; kept open, reconnecting, until close(). */
  connect(): this;
  /** Closes for good; subscribes still waiting reject. */
  close(): void;
  /** Reconnects at once when disconnected (also done on "online" and when the page is shown). */
  reconnectNow(): void;
  /**
   * Resolves when the router answers ok; rejects with RouterError. `T` is
   * the type of published data, `S` that of before_subscribe's data;
   * both are inferred from the handlers.
   */
  subscribe<T = unknown, S = T>(name: string, options?: SubscribeOptions<T, S>): Promise<Subscription<T, S>>;
  /** The subscription named `name`, if any (also while it is pending). */
  subscription(name: string): Subscription | undefined;
}

/** Reconnect delay for attempt number `attempt` (0 first), with equal jitter. */
export declare function backoff(attempt: number, min: number, max: number, random?: () => number): number;
