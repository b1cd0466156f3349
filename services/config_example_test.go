package services

import (
	"os"
	"strings"
	"testing"
	"time"
)

const exampleFile = "../config.example.yaml"

func TestConfigExampleIsValid(t *testing.T) {
	t.Parallel()
	c, err := Load(exampleFile)
	if err != nil {
		t.Fatalf("Load(%s):\n%v", exampleFile, err)
	}
	if addr, ok := c.Redis.Embedded(); !ok || addr != "127.0.0.1:6379" {
		t.Errorf("redis.url = %q, want embedded", c.Redis.URL)
	}
	if c.Listen != "127.0.0.1:9000" || c.Metrics.Listen != "127.0.0.1:9100" || c.Log.Format != "text" {
		t.Errorf("listen %q, metrics.listen %q, log.format %q", c.Listen, c.Metrics.Listen, c.Log.Format)
	}
	if c.Authentication == nil || c.Authentication.Ticket == nil ||
		c.Authentication.Ticket.ValidationURL != "http://127.0.0.1:8080/ws/auth/ticket/" {
		t.Errorf("authentication = %+v", c.Authentication)
	}
	books, ok := c.Service("books")
	if !ok {
		t.Fatal("no books service")
	}
	if books.Authorizer != "http://127.0.0.1:8080/ws/books/authorize/" ||
		books.AuthorizationRenewalPeriod.Std() != 300*time.Second ||
		books.AuthorizationRenewalJitter.Std() != 30*time.Second ||
		books.HeartbeatPeriod != 0 || books.OnHeartbeat != "" ||
		books.History == nil || books.History.Size != 100 || books.History.TTL.Std() != 10*time.Minute {
		t.Errorf("books = %+v", books)
	}
	if len(c.Services) != 1 {
		t.Errorf("services = %v, want only books", c.Services)
	}
}

// TestConfigExampleNamesEveryKey checks that the example shows every key of
// the schema, so that it stays the reference for users.
func TestConfigExampleNamesEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, key := range []string{
		"listen:", "tls:", "cert_file:", "key_file:", "allowed_origins:", "websocket:", "ping_interval:",
		"ping_timeout:", "max_message_bytes:", "send_queue:", "send_queue_bytes:", "write_timeout:", "max_subscriptions:", "max_subscription_bytes:", "events_per_second:",
		"events_burst:", "delivery_timestamps:", "compression:", "compression_min_bytes:", "redis:", "url:", "channel_prefix:", "redis_alt:", "http:",
		"timeout:", "tries:", "wait:", "ca_file:", "rate_limit_reset_headers:", "max_concurrency:",
		"close_callbacks_per_second:", "metrics:", "log:", "level:", "format:", "shutdown_timeout:",
		"authentication:", "ticket:", "validation_url:", "auth_fields:", "services:", "require_authentication:",
		"authorizer:", "authorizer_fields:", "authorization_renewal_period:", "authorization_renewal_jitter:",
		"extra_fields:", "filter_fields:", "before_subscribe:", "on_subscribe:", "on_message:",
		"before_unsubscribe:", "on_unsubscribe:", "on_authorization_change:", "# heartbeat_period:", "# on_heartbeat:",
		"history:", "size:", "ttl:",
		"presence_ttl:", "presence: true", "presence_fields:", "presence_events:",
		"api:", "keys:", "max_body_bytes:",
	} {
		if !strings.Contains(text, key) {
			t.Errorf("%s does not show %q", exampleFile, key)
		}
	}
}
