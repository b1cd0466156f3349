package router

import (
	"strings"
	"testing"

	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

// TestNewValidatesTheConfiguration: a configuration built in Go goes
// through the same validation as a file, and a router is not built from
// one that fails it.
func TestNewValidatesTheConfiguration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(*services.Config)
		want   string // part of the error
	}{
		{"callback URL not absolute", func(c *services.Config) {
			c.Services["books"] = &services.Service{OnMessage: "/relative"}
		}, "services.books.on_message"},
		{"bad service name", func(c *services.Config) { c.Services["no spaces"] = open() }, "invalid service name"},
		{"heartbeat without on_heartbeat", func(c *services.Config) {
			c.Services["books"] = &services.Service{HeartbeatPeriod: services.Duration(1e9)}
		}, "heartbeat_period"},
		{"no tries", func(c *services.Config) { c.HTTP.Tries = 0 }, "http.tries"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			tc.change(cfg)
			r, err := New(cfg, Options{Logger: testLogger()})
			if err == nil {
				r.Shutdown(t.Context())
				t.Fatal("New accepted an invalid configuration")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

// TestServiceWithoutSettings: a service entry with no settings at all (a
// nil *Service, as `books:` alone in YAML gives) is a service with every
// default: subscribing, publishing, messaging and a reload all work.
func TestServiceWithoutSettings(t *testing.T) {
	t.Parallel()
	cfg := ticketConfig(t, wstest.NewService(t)) // any ticket is good
	cfg.Services["books"] = nil
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"error","error":"Authentication required."}`)
	c.Send(`{"event":"auth","ticket":"t"}`)
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	h.publish("books.b", `{"subscription":"books.b","data":1}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":1}`)
	c.Send(`{"event":"message","subscription":"books.b","data":2}`)

	next := cloneConfig(cfg)
	next.Services["books"] = open()
	if err := h.r.Reload(next); err != nil {
		t.Fatal(err)
	}
	if err := h.r.Reload(cfg); err != nil { // back to the entry without settings
		t.Fatal(err)
	}
	h.publish("books.b", `{"subscription":"books.b","data":3}`)
	c.Expect(`{"event":"message","subscription":"books.b","data":3}`)
	c.Send(`{"event":"unsubscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"unsubscribe","subscription":"books.b","status":"ok"}`)

	bad := cloneConfig(cfg)
	bad.HTTP.Tries = 0
	if err := h.r.Reload(bad); err == nil {
		t.Fatal("Reload accepted an invalid configuration")
	}
}
