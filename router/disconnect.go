package router

import "github.com/coder/websocket"

// disconnect is why the router closes a connection with a close handshake:
// the close code and the reason sent with it. Every such close names one
// of the values below, so one event has one code and one text.
type disconnect struct {
	code   websocket.StatusCode
	reason string // at most 123 bytes (a close frame's limit)
}

// The disconnects the router initiates. A connection dropped without a
// handshake (no pong within ping_timeout, a write past write_timeout, a
// shutdown past its deadline) sends no reason at all.
var (
	// disconnectShutdown: the router is shutting down (SPEC 5: 1001).
	disconnectShutdown = disconnect{websocket.StatusGoingAway, "server shutting down"}
	// disconnectRedisLost: Redis was lost; the client reconnects and
	// subscribes again (SPEC 5: 1011).
	disconnectRedisLost = disconnect{websocket.StatusInternalError, "redis unavailable"}
	// disconnectSlowConsumer: the client's send queue overflowed (SPEC 5: 1008).
	disconnectSlowConsumer = disconnect{websocket.StatusPolicyViolation, "slow consumer"}
	// disconnectEventBacklog: the client sent events faster than they could
	// be handled, past the bound on waiting events.
	disconnectEventBacklog = disconnect{websocket.StatusPolicyViolation, "too many pending events"}
	// disconnectByAPI: the HTTP API's disconnect command; the client
	// should not reconnect on its own.
	disconnectByAPI = disconnect{closeDisconnected, "disconnected"}
)
