// Package router owns wsrouter's live state: WebSocket sessions, the client
// event protocol, subscriptions with their filters and timers, and the Redis
// receivers that fan published messages out to subscribed sessions.
//
// Ownership, in one place:
//   - Each session has a reader (started by ServeHTTP, ending when the
//     socket does), an event processor and a writer. The processor and the
//     writer run only while they have work and end when their queue is empty
//     or the session is closed; the reader waits for both before it returns.
//     Router.Shutdown waits for every reader.
//   - Each Redis has a broker (package broker) whose pub/sub connections
//     are read by one goroutine each; the hub hands each message to a
//     per-channel ordered worker and never blocks on a client. The hub owns
//     the broker's run and the workers; Router.Shutdown ends them.
//   - Subscription timers (renewal, heartbeat, throttle) and the keepalive
//     ping are timers on the router's clock (Options.Clock): no goroutine
//     waits for them, and ending the subscription or session stops them.
package router
