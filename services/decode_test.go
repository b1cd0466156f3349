package services

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// problemsOf parses src and returns its problems, failing the test when it
// parses cleanly or fails with another error type.
func problemsOf(t *testing.T, src string) Problems {
	t.Helper()
	c, err := Parse("c.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want problems\n%s", src)
	}
	if c != nil {
		t.Errorf("Parse returned a Config along with an error")
	}
	ps, ok := AsProblems(err)
	if !ok {
		t.Fatalf("Parse error is %T, want *Problems: %v", err, err)
	}
	return ps
}

// mustParse parses src and fails the test on any problem.
func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return c
}

// findProblem returns the problem at path, failing the test when there is
// none.
func findProblem(t *testing.T, ps Problems, path string) Problem {
	t.Helper()
	for _, p := range ps {
		if p.Path == path {
			return p
		}
	}
	t.Fatalf("no problem at %q in:\n%v", path, &ps)
	return Problem{}
}

// onlyProblem parses src, requires exactly one problem, at path, with a
// message containing want, and returns it.
func onlyProblem(t *testing.T, src, path, want string) Problem {
	t.Helper()
	ps := problemsOf(t, src)
	if len(ps) != 1 {
		t.Errorf("got %d problems, want 1:\n%v", len(ps), &ps)
	}
	p := findProblem(t, ps, path)
	if !strings.Contains(p.Message, want) {
		t.Errorf("problem at %s = %q, want it to contain %q", path, p.Message, want)
	}
	return p
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
	}{
		{"empty file", ""},
		{"only comments", "# nothing here\n"},
		{"null document", "~\n"},
		{"empty sections", "websocket: {}\nredis: {}\nhttp: {}\nmetrics: {}\nlog: {}\ntls: {}\n"},
		{"null sections", "websocket:\nredis:\nhttp:\nmetrics:\nlog:\ntls:\nservices:\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustParse(t, tt.src)
			if want := Default(); !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%q) =\n%+v\nwant the defaults\n%+v", tt.src, got, want)
			}
		})
	}
}

func TestDefaultValues(t *testing.T) {
	t.Parallel()
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:9000"},
		{"ping_interval", c.WebSocket.PingInterval.Std(), 15 * time.Second},
		{"ping_timeout", c.WebSocket.PingTimeout.Std(), 15 * time.Second},
		{"max_message_bytes", c.WebSocket.MaxMessageBytes, int64(65536)},
		{"send_queue", c.WebSocket.SendQueue, 1024},
		{"send_queue_bytes", c.WebSocket.SendQueueBytes, int64(8388608)},
		{"write_timeout", c.WebSocket.WriteTimeout.Std(), 10 * time.Second},
		{"max_subscriptions", c.WebSocket.MaxSubscriptions, 1000},
		{"max_subscription_bytes", c.WebSocket.MaxSubscriptionBytes, 256},
		{"events_per_second", c.WebSocket.EventsPerSecond, 100.0},
		{"events_burst", c.WebSocket.EventsBurst, 200},
		{"delivery_timestamps", c.WebSocket.DeliveryTimestamps, false},
		{"compression", c.WebSocket.Compression, "none"},
		{"compression_min_bytes", c.WebSocket.CompressionMinBytes, 256},
		{"redis.url", c.Redis.URL, "redis://127.0.0.1:6379/0"},
		{"redis.ping_interval", c.Redis.PingInterval.Std(), 10 * time.Second},
		{"redis.ping_timeout", c.Redis.PingTimeout.Std(), 5 * time.Second},
		{"redis_alt", c.RedisAlt, (*Redis)(nil)},
		{"http.timeout", c.HTTP.Timeout.Std(), 15 * time.Second},
		{"http.tries", c.HTTP.Tries, 3},
		{"http.wait", c.HTTP.Wait.Std(), 3 * time.Second},
		{"http.rate_limit_reset_headers", c.HTTP.RateLimitResetHeaders, []string{"X-Rate-Limit-Reset"}},
		{"http.max_concurrency", c.HTTP.MaxConcurrency, 64},
		{"http.close_callbacks_per_second", c.HTTP.CloseCallbacksPerSecond, 200.0},
		{"metrics.listen", c.Metrics.Listen, "127.0.0.1:9100"},
		{"log", c.Log, Log{Level: "info", Format: "json"}},
		{"shutdown_timeout", c.ShutdownTimeout.Std(), 30 * time.Second},
		{"authentication", c.Authentication, (*Authentication)(nil)},
		{"services", len(c.Services), 0},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	c := mustParse(t, `
listen: ":8000"
allowed_origins: ["*"]
websocket: {send_queue: 10, events_per_second: 2.5, delivery_timestamps: true}
redis: {url: "rediss://u:p@redis.internal:6380/2", channel_prefix: "x:"}
redis_alt: {url: embedded://127.0.0.1:7000}
http: {rate_limit_reset_headers: [Retry-After, X-Reset]}
authentication:
  ticket: {validation_url: "https://app/ws/ticket/", auth_fields: [user_id]}
services:
  books:
  news:
    require_authentication: false
    on_message: http://app/msg
`)
	if c.Listen != ":8000" || c.WebSocket.SendQueue != 10 || c.WebSocket.EventsPerSecond != 2.5 || !c.WebSocket.DeliveryTimestamps {
		t.Errorf("listen/websocket not decoded: %+v %+v", c.Listen, c.WebSocket)
	}
	if c.WebSocket.MaxSubscriptions != 1000 {
		t.Errorf("untouched websocket key lost its default: max_subscriptions = %d", c.WebSocket.MaxSubscriptions)
	}
	if c.Redis.ChannelPrefix != "x:" || c.Redis.PingInterval.Std() != 10*time.Second {
		t.Errorf("redis = %+v", c.Redis)
	}
	want := Redis{URL: "embedded://127.0.0.1:7000", PingInterval: Duration(10 * time.Second), PingTimeout: Duration(5 * time.Second)}
	if c.RedisAlt == nil || *c.RedisAlt != want {
		t.Errorf("redis_alt = %+v, want %+v", c.RedisAlt, want)
	}
	if !slices.Equal(c.HTTP.RateLimitResetHeaders, []string{"Retry-After", "X-Reset"}) {
		t.Errorf("rate_limit_reset_headers = %v", c.HTTP.RateLimitResetHeaders)
	}
	if c.Authentication == nil || c.Authentication.Ticket == nil || c.Authentication.Ticket.AuthFields[0] != "user_id" {
		t.Errorf("authentication = %+v", c.Authentication)
	}
	books, ok := c.Service("books")
	if !ok || books == nil || !books.RequiresAuthentication() || books.OnMessage != "" {
		t.Errorf("null service books = %+v, %v; want all defaults", books, ok)
	}
	news, ok := c.Service("news")
	if !ok || news.RequiresAuthentication() || news.OnMessage != "http://app/msg" {
		t.Errorf("news = %+v, %v", news, ok)
	}
	if _, ok := c.Service("missing"); ok {
		t.Errorf("Service(missing) found")
	}
}

func TestExplicitZeroVersusAbsent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		src   string
		check func(c *Config) bool
	}{
		{"ping_interval absent", "websocket: {}", func(c *Config) bool { return c.WebSocket.PingInterval.Std() == 15*time.Second }},
		{"ping_interval zero disables", "websocket: {ping_interval: 0}", func(c *Config) bool { return c.WebSocket.PingInterval == 0 }},
		{"metrics.listen absent", "metrics: {}", func(c *Config) bool { return c.Metrics.Listen == "127.0.0.1:9100" }},
		{"metrics.listen empty disables", `metrics: {listen: ""}`, func(c *Config) bool { return c.Metrics.Listen == "" }},
		{"delivery_timestamps false", "websocket: {delivery_timestamps: false}", func(c *Config) bool { return !c.WebSocket.DeliveryTimestamps }},
		{"reset headers absent", "http: {}", func(c *Config) bool { return len(c.HTTP.RateLimitResetHeaders) == 1 }},
		{"reset headers empty", "http: {rate_limit_reset_headers: []}", func(c *Config) bool { return len(c.HTTP.RateLimitResetHeaders) == 0 }},
		{"null scalar keeps default", "http: {tries: ~}", func(c *Config) bool { return c.HTTP.Tries == 3 }},
		{"redis_alt absent", "", func(c *Config) bool { return c.RedisAlt == nil }},
		{"redis_alt null", "redis_alt: null", func(c *Config) bool { return c.RedisAlt == nil }},
		{"authentication null", "authentication:", func(c *Config) bool { return c.Authentication == nil }},
		{"authentication without ticket", "authentication: {}", func(c *Config) bool {
			return c.Authentication != nil && c.Authentication.Ticket == nil
		}},
		{"require_authentication absent", "services: {s: {}}", func(c *Config) bool {
			return c.Services["s"].RequireAuthentication == nil && c.Services["s"].RequiresAuthentication()
		}},
		{"require_authentication false", "services: {s: {require_authentication: false}}", func(c *Config) bool {
			return !c.Services["s"].RequiresAuthentication()
		}},
		{"history absent", "services: {s: {}}", func(c *Config) bool { return c.Services["s"].History == nil }},
		{"history null", "services: {s: {history: ~}}", func(c *Config) bool { return c.Services["s"].History == nil }},
		{"history defaults", "services: {s: {history: {}}}", func(c *Config) bool {
			h := c.Services["s"].History
			return h != nil && h.Size == 100 && h.TTL.Std() == 10*time.Minute
		}},
		{"history set", "services: {s: {history: {size: 5, ttl: 0.5}}}", func(c *Config) bool {
			h := c.Services["s"].History
			return h != nil && h.Size == 5 && h.TTL.Std() == 500*time.Millisecond
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c := mustParse(t, tt.src); !tt.check(c) {
				t.Errorf("unexpected value after parsing %q: %+v", tt.src, c)
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		path string
		line int
		want string
	}{
		{"top level", "listen: 127.0.0.1:9000\nlistne: x\n", "listne", 2, `unknown key (did you mean "listen"?)`},
		{"top level far from any key", "zzzzzzzz: 1\n", "zzzzzzzz", 1, "unknown key"},
		{"nested", "websocket:\n  ping_intervall: 3\n", "websocket.ping_intervall", 2, `did you mean "ping_interval"?`},
		{"in a service", "services:\n  books:\n    on_subscrbe: http://a/\n", "services.books.on_subscrbe", 3, `did you mean "on_subscribe"?`},
		{"in redis_alt", "redis_alt:\n  url: redis://a\n  prefix: x\n", "redis_alt.prefix", 3, "unknown key"},
		{"in ticket", "authentication:\n  ticket:\n    url: http://a/\n", "authentication.ticket.url", 3, "unknown key"},
		{"unknown auth method", "authentication:\n  password: {}\n", "authentication.password", 2, "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps := problemsOf(t, tt.src)
			p := findProblem(t, ps, tt.path)
			if !strings.Contains(p.Message, tt.want) || p.Line != tt.line {
				t.Errorf("problem = %+v, want line %d and message containing %q", p, tt.line, tt.want)
			}
		})
	}
}

func TestWrongTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		path string
		want string
	}{
		{"string for integer", "websocket: {send_queue: lots}", "websocket.send_queue", `must be an integer, got "lots"`},
		{"float for integer", "http: {tries: 1.5}", "http.tries", "must be an integer, got 1.5"},
		{"string for number", "websocket: {events_per_second: fast}", "websocket.events_per_second", `must be a number, got "fast"`},
		{"infinite number", "websocket: {events_per_second: .inf}", "websocket.events_per_second", "must be a number"},
		{"string for bool", "websocket: {delivery_timestamps: yes}", "websocket.delivery_timestamps", `must be true or false, got "yes"`},
		{"list for map", "websocket: [1, 2]", "websocket", "must be a mapping, got a list"},
		{"scalar for map", "redis: embedded", "redis", `must be a mapping, got "embedded"`},
		{"map for string", "listen: {host: a}", "listen", "must be a string, got a mapping"},
		{"scalar for list", "allowed_origins: '*'", "allowed_origins", `must be a list of strings, got "*"`},
		{"map in list", "allowed_origins: [{a: b}]", "allowed_origins[0]", "must be a string, got a mapping"},
		{"null in list", "http: {rate_limit_reset_headers: [X-A, ~]}", "http.rate_limit_reset_headers[1]", "must be a string, got null"},
		{"list for services", "services: [books]", "services", "must be a mapping of service names, got a list"},
		{"list for a service", "services: {books: [x]}", "services.books", "must be a mapping, got a list"},
		{"string for redis_alt", "redis_alt: redis://a", "redis_alt", "must be a mapping"},
		{"string for bool pointer", "services: {b: {require_authentication: maybe}}", "services.b.require_authentication", `got "maybe"`},
		{"top level list", "- a\n- b\n", "", "the document must be a mapping of keys, got a list"},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", "listen", "duplicate key, first set on line 1"},
		{"non-scalar key", "{[a]: 1}", "", "keys must be strings, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			onlyProblem(t, tt.src, tt.path, tt.want)
		})
	}
}

func TestSyntaxError(t *testing.T) {
	t.Parallel()
	ps := problemsOf(t, "listen: [a\nb: c")
	if len(ps) != 1 || ps[0].Path != "" || ps[0].Line == 0 || !strings.HasPrefix(ps[0].Message, "YAML syntax: ") {
		t.Fatalf("problems = %+v, want one yaml syntax problem with its line", ps)
	}
	if got := (&ps).Error(); !regexp.MustCompile(`^c\.yaml:\d+: YAML syntax: `).MatchString(got) {
		t.Errorf("Error() = %q, want it to start with FILE:LINE then the yaml error", got)
	}
	ps = problemsOf(t, "listen: a:1\n---\nlisten: b:1\n")
	if len(ps) != 1 || !strings.Contains(ps[0].Message, "only one YAML document") {
		t.Errorf("problems = %+v, want one about the second document", ps)
	}
}

func TestAllProblemsReported(t *testing.T) {
	t.Parallel()
	src := `listen: nowhere
websocket:
  send_queue: 0
  bogus: 1
redis:
  url: "http://not-redis"
log: {level: loud}
services:
  books:
    authorizer: foo
    on_subscrbe: http://a/
    heartbeat_period: 30s
  "bad.name": {}
`
	_, err := Parse("config.yaml", []byte(src))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	wantLines := []string{
		`config.yaml:1: listen: must be HOST:PORT with a numeric port, got "nowhere"`,
		`config.yaml:3: websocket.send_queue: must be at least 1, got 0`,
		`config.yaml:4: websocket.bogus: unknown key`,
		`config.yaml:6: redis.url: must be "embedded", "embedded://HOST:PORT" or a redis://, rediss:// or unix:// URL, got "http://not-redis"`,
		`config.yaml:7: log.level: must be one of debug, info, warn, error, got "loud"`,
		`config.yaml:10: services.books.authorizer: must be an absolute http or https URL, got "foo"`,
		`config.yaml:11: services.books.on_subscrbe: unknown key (did you mean "on_subscribe"?)`,
		`config.yaml:12: services.books.heartbeat_period: needs services.books.on_heartbeat (heartbeat_period is 30s, on_heartbeat is not set)`,
		`config.yaml:13: services.bad.name: invalid service name "bad.name": use only letters, digits, '-' and '_'`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, wantLines) {
		t.Errorf("Error() =\n%s\nwant\n%s", err, strings.Join(wantLines, "\n"))
	}
}

func TestDecodeFailureSuppressesDependentChecks(t *testing.T) {
	t.Parallel()
	ps := problemsOf(t, "services:\n  s:\n    heartbeat_period: soon\n    on_heartbeat: http://a/\n")
	if len(ps) != 1 || ps[0].Path != "services.s.heartbeat_period" {
		t.Errorf("problems = %v, want only the bad duration", &ps)
	}
}

func TestMergeKeys(t *testing.T) {
	t.Parallel()
	c := mustParse(t, `
services:
  a: &common
    on_message: http://app/msg
    on_subscribe: http://app/sub
  b:
    <<: *common
    on_subscribe: http://app/b-sub
  c: *common
`)
	b, c2 := c.Services["b"], c.Services["c"]
	if b.OnMessage != "http://app/msg" || b.OnSubscribe != "http://app/b-sub" {
		t.Errorf("b = %+v, want on_message merged and its own on_subscribe", b)
	}
	if c2.OnMessage != "http://app/msg" || c2.OnSubscribe != "http://app/sub" {
		t.Errorf("c = %+v, want the aliased service", c2)
	}
	ps := problemsOf(t, "services:\n  a: &a\n    typo: 1\n  b:\n    <<: *a\n")
	p := findProblem(t, ps, "services.b.typo")
	if p.Line != 3 {
		t.Errorf("merged unknown key reported at line %d, want 3 (where it is written)", p.Line)
	}
	ps = problemsOf(t, "services: {a: {<<: 5}}")
	findProblem(t, ps, "services.a")
}

func TestAliasExpansionIsBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("services:\n  s0: &s0 {on_message: http://a/}\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "  s%d: &s%d {<<: [*s%d, *s%d]}\n", i, i, i-1, i-1)
	}
	ps := problemsOf(t, b.String())
	if !strings.Contains((&ps).Error(), "merge keys (<<) nested deeper than") && !strings.Contains((&ps).Error(), "expands to more than") {
		t.Errorf("problems = %v, want the expansion to be cut off", &ps)
	}
	ps = problemsOf(t, "websocket: &w {<<: *w}\n")
	if len(ps) == 0 {
		t.Errorf("a self-merging mapping parsed cleanly")
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("listen: 127.0.0.1:1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(good)
	if err != nil || c.Listen != "127.0.0.1:1234" {
		t.Errorf("Load(good) = %+v, %v", c, err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	_, err = Load(missing)
	ps, ok := AsProblems(err)
	if !ok || len(ps) != 1 || !strings.HasPrefix(err.Error(), missing+": cannot read the file: ") {
		t.Errorf("Load(missing) error = %v, want one problem naming the file", err)
	}
}
