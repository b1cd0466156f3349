package services

import (
	"reflect"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	base := func() *Config {
		c := Default()
		c.Services["books"] = &Service{OnMessage: "http://a/m", FilterFields: []string{"user_id"}}
		c.Services["news"] = &Service{}
		return c
	}
	no := false
	yes := true
	tests := []struct {
		name   string
		change func(c *Config)
		want   Changes
	}{
		{"nothing", func(*Config) {}, Changes{}},
		{"service added", func(c *Config) { c.Services["chat"] = &Service{} }, Changes{ServicesAdded: []string{"chat"}}},
		{"services removed", func(c *Config) { delete(c.Services, "books"); delete(c.Services, "news") },
			Changes{ServicesRemoved: []string{"books", "news"}}},
		{"service callback changed", func(c *Config) { c.Services["books"].OnMessage = "http://b/m" },
			Changes{ServicesChanged: []string{"books"}}},
		{"service history added", func(c *Config) { c.Services["books"].History = &History{Size: 10, TTL: Duration(time.Minute)} },
			Changes{ServicesChanged: []string{"books"}}},
		{"service filter changed", func(c *Config) { c.Services["books"].FilterFields = []string{"org"} },
			Changes{ServicesChanged: []string{"books"}}},
		{"service period changed", func(c *Config) { c.Services["news"].HeartbeatPeriod = Duration(time.Second) },
			Changes{ServicesChanged: []string{"news"}}},
		{"require_authentication made explicit", func(c *Config) { c.Services["news"].RequireAuthentication = &yes }, Changes{}},
		{"require_authentication turned off", func(c *Config) { c.Services["news"].RequireAuthentication = &no },
			Changes{ServicesChanged: []string{"news"}}},
		{"empty list same as none", func(c *Config) { c.Services["news"].ExtraFields = []string{} }, Changes{}},
		{"null service same as empty", func(c *Config) { c.Services["news"] = nil }, Changes{}},
		{"restart keys", func(c *Config) {
			c.Listen = "127.0.0.1:1"
			c.TLS.CertFile = "x"
			c.Metrics.Listen = ""
			c.Redis.ChannelPrefix = "p"
			c.RedisAlt = &Redis{URL: "redis://b"}
			c.Log.Format = "text"
			c.PresenceTTL = Duration(time.Second)
		}, Changes{RestartRequired: []string{"listen", "tls", "metrics.listen", "redis", "redis_alt", "log.format", "presence_ttl"}}},
		{"presence turned on", func(c *Config) {
			c.Services["news"].Presence = true
			c.Services["news"].PresenceFields = []string{"user_id"}
		}, Changes{ServicesChanged: []string{"news"}}},
		{"presence events turned on", func(c *Config) { c.Services["news"].PresenceEvents = true },
			Changes{ServicesChanged: []string{"news"}}},
		{"empty presence list same as none", func(c *Config) { c.Services["news"].PresenceFields = []string{} }, Changes{}},
		{"live keys", func(c *Config) {
			c.AllowedOrigins = []string{"*"}
			c.WebSocket.SendQueue = 1
			c.HTTP.RateLimitResetHeaders = []string{"Retry-After"}
			c.Log.Level = "debug"
			c.ShutdownTimeout = Duration(time.Second)
			c.Authentication = &Authentication{}
		}, Changes{Other: []string{"allowed_origins", "websocket", "http", "log.level", "shutdown_timeout", "authentication"}}},
		{"http scalar", func(c *Config) { c.HTTP.Tries = 9 }, Changes{Other: []string{"http"}}},
		{"mixed", func(c *Config) {
			c.Services["zz"] = &Service{}
			c.Services["aa"] = &Service{}
			delete(c.Services, "news")
			c.Services["books"].ExtraFields = []string{"x"}
			c.Redis.URL = "embedded"
			c.Log.Level = "warn"
		}, Changes{
			ServicesAdded:   []string{"aa", "zz"},
			ServicesRemoved: []string{"news"},
			ServicesChanged: []string{"books"},
			RestartRequired: []string{"redis"},
			Other:           []string{"log.level"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prev, next := base(), base()
			tt.change(next)
			got := Diff(prev, next)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff =\n%+v\nwant\n%+v", got, tt.want)
			}
			if got.Empty() != reflect.DeepEqual(tt.want, Changes{}) {
				t.Errorf("Empty() = %v for %+v", got.Empty(), got)
			}
		})
	}
}

func TestDiffAuthentication(t *testing.T) {
	t.Parallel()
	ticket := func(url string, fields ...string) *Config {
		c := Default()
		c.Authentication = &Authentication{Ticket: &Ticket{ValidationURL: url, AuthFields: fields}}
		return c
	}
	tests := []struct {
		name       string
		prev, next *Config
		changed    bool
	}{
		{"same", ticket("http://a/", "u"), ticket("http://a/", "u"), false},
		{"url", ticket("http://a/", "u"), ticket("http://b/", "u"), true},
		{"fields", ticket("http://a/", "u"), ticket("http://a/", "u", "s"), true},
		{"removed", ticket("http://a/"), Default(), true},
		{"ticket removed", ticket("http://a/"), &Config{Authentication: &Authentication{}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Diff(tt.prev, tt.next)
			changed := false
			for _, k := range got.Other {
				changed = changed || k == "authentication"
			}
			if changed != tt.changed {
				t.Errorf("authentication changed = %v, want %v (%+v)", changed, tt.changed, got)
			}
		})
	}
}

func TestDiffParsedFilesTwice(t *testing.T) {
	t.Parallel()
	src := "services: {books: {extra_fields: [], on_message: 'http://a/'}, news: }\nhttp: {rate_limit_reset_headers: [A]}\n"
	if got := Diff(mustParse(t, src), mustParse(t, src)); !got.Empty() {
		t.Errorf("Diff of the same file = %+v, want empty", got)
	}
}
