package main

import (
	"fmt"
	"testing"

	"github.com/wsrouter/wsrouter/internal/testrouter"
)

// startRouter runs the router on listen with the example's services at
// appURL and Redis at redisURL, and waits until it is ready. The router is
// stopped, and its log shown on failure, when the test ends. It compresses
// (permessage-deflate, which browsers offer by themselves), so the browser
// tests show the page working over compressed frames.
func startRouter(t *testing.T, listen, appURL, redisURL string) *testrouter.Router {
	t.Helper()
	return testrouter.Start(t, listen, fmt.Sprintf(`allowed_origins: [%[1]q]
redis: {url: %[2]q}
http: {timeout: 5s, tries: 1}
websocket: {compression: no_context_takeover, compression_min_bytes: 64}
log: {level: info, format: text}
shutdown_timeout: 5s
authentication:
  ticket:
    validation_url: %[1]s/ws/auth/ticket/
    auth_fields: [user_id]
services:
  books:
    authorizer: %[1]s/ws/books/authorize/
    authorizer_fields: [can_edit]
    before_subscribe: %[1]s/ws/books/before_subscribe/
    on_message: %[1]s/ws/books/on_message/
    before_unsubscribe: %[1]s/ws/books/before_unsubscribe/
    on_unsubscribe: %[1]s/ws/books/on_unsubscribe/
    presence: true
    presence_fields: [user_id]
    presence_events: true
    history: {size: 100, ttl: 10m}
`, appURL, redisURL))
}
