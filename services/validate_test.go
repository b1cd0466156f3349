package services

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeKeyPair writes a self-signed certificate and its key as PEM files
// and returns their paths.
func writeKeyPair(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IsCA:         true,
		KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestValidationRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeKeyPair(t, dir, "a")
	_, otherKey := writeKeyPair(t, dir, "b")
	garbage := filepath.Join(dir, "garbage.pem")
	writeFile(t, garbage, []byte("not pem"))
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name string
		src  string
		path string
		want string
	}{
		// listen and metrics
		{"listen without port", "listen: localhost", "listen", `must be HOST:PORT with a numeric port, got "localhost"`},
		{"listen empty", `listen: ""`, "listen", `got ""`},
		{"listen port out of range", "listen: a:70000", "listen", `got "a:70000"`},
		{"listen named port", "listen: a:http", "listen", `got "a:http"`},
		{"metrics listen bad", "metrics: {listen: x}", "metrics.listen", `must be HOST:PORT with a numeric port, got "x"`},
		{"metrics same as listen", "listen: a:1\nmetrics: {listen: a:1}", "metrics.listen", `must differ from listen, both are "a:1"`},

		// tls
		{"tls cert without key", "tls: {cert_file: " + cert + "}", "tls.key_file", "must be set when tls.cert_file is set"},
		{"tls key without cert", "tls: {key_file: " + key + "}", "tls.cert_file", "must be set when tls.key_file is set"},
		{"tls cert missing", "tls: {cert_file: " + missing + ", key_file: " + key + "}", "tls.cert_file", `cannot read "` + missing + `"`},
		{"tls key missing", "tls: {cert_file: " + cert + ", key_file: " + missing + "}", "tls.key_file", `cannot read "` + missing + `"`},
		{"tls key is a directory", "tls: {cert_file: " + cert + ", key_file: " + dir + "}", "tls.key_file", "not a regular file"},
		{"tls mismatched pair", "tls: {cert_file: " + cert + ", key_file: " + otherKey + "}", "tls.cert_file",
			`tls.cert_file "` + cert + `" and tls.key_file "` + otherKey + `" are not a certificate and its key`},

		// allowed_origins
		{"origin with path", `allowed_origins: ["https://app.example.com/x"]`, "allowed_origins[0]", `got "https://app.example.com/x"`},
		{"origin with trailing slash", `allowed_origins: ["https://a.com/"]`, "allowed_origins[0]", `must be "*", an origin`},
		{"origin empty", `allowed_origins: ["*", ""]`, "allowed_origins[1]", `got ""`},
		{"origin with space", `allowed_origins: ["app example.com"]`, "allowed_origins[0]", `got "app example.com"`},
		{"origin inner wildcard", `allowed_origins: ["app.*.com"]`, "allowed_origins[0]", `got "app.*.com"`},
		{"origin without host", `allowed_origins: ["https://"]`, "allowed_origins[0]", `got "https://"`},

		// websocket
		{"ping timeout zero", "websocket: {ping_timeout: 0}", "websocket.ping_timeout",
			"must be positive when websocket.ping_interval is set (ping_interval 15s, ping_timeout 0s)"},
		{"max message bytes", "websocket: {max_message_bytes: 0}", "websocket.max_message_bytes", "must be at least 1, got 0"},
		{"send queue", "websocket: {send_queue: -1}", "websocket.send_queue", "must be at least 1, got -1"},
		{"send queue bytes", "websocket: {send_queue_bytes: 0}", "websocket.send_queue_bytes", "must be at least 1, got 0"},
		{"write timeout zero", "websocket: {write_timeout: 0}", "websocket.write_timeout", "must be positive, got 0s"},
		{"max subscriptions", "websocket: {max_subscriptions: 0}", "websocket.max_subscriptions", "must be at least 1, got 0"},
		{"max subscription bytes", "websocket: {max_subscription_bytes: 0}", "websocket.max_subscription_bytes", "must be at least 1, got 0"},
		{"events per second", "websocket: {events_per_second: 0}", "websocket.events_per_second", "must be positive, got 0"},
		{"events burst", "websocket: {events_burst: 0}", "websocket.events_burst", "must be at least 1, got 0"},
		{"compression name", "websocket: {compression: deflate}", "websocket.compression",
			`must be none, no_context_takeover or context_takeover, got "deflate"`},
		{"compression empty", `websocket: {compression: ""}`, "websocket.compression",
			`must be none, no_context_takeover or context_takeover, got ""`},
		{"compression min bytes", "websocket: {compression_min_bytes: -1}", "websocket.compression_min_bytes", "must not be negative, got -1"},

		// redis
		{"redis url scheme", "redis: {url: 'http://x'}", "redis.url", `unix:// URL, got "http://x"`},
		{"redis url empty", "redis: {url: ''}", "redis.url", `got ""`},
		{"redis url bad db", "redis: {url: 'redis://h/x'}", "redis.url", `redis: invalid database number: "x"`},
		{"redis url password hidden", "redis: {url: 'redis://u:secret@h:1/x'}", "redis.url", `got "redis://h:1/x" (the reason is left out: it would show the password)`},
		{"redis embedded bad addr", "redis: {url: 'embedded://nowhere'}", "redis.url", `must be embedded://HOST:PORT with a numeric port, got "embedded://nowhere"`},
		{"redis ping interval", "redis: {ping_interval: 0}", "redis.ping_interval", "must be positive, got 0s"},
		{"redis ping timeout", "redis: {ping_timeout: 0}", "redis.ping_timeout", "must be positive, got 0s"},
		{"redis_alt url required", "redis_alt: {channel_prefix: x}", "redis_alt.url", "required when redis_alt is set"},
		{"redis_alt url bad", "redis_alt: {url: 'mysql://x'}", "redis_alt.url", `got "mysql://x"`},
		{"redis_alt ping timeout", "redis_alt: {url: 'redis://b', ping_timeout: 0}", "redis_alt.ping_timeout", "must be positive, got 0s"},
		{"redis_alt same as redis", "redis: {url: 'redis://a'}\nredis_alt: {url: 'redis://a'}", "redis_alt",
			`must differ from redis in url or channel_prefix, both have url "redis://a" and channel_prefix ""`},
		{"redis cluster and url", "redis: {url: 'redis://a', cluster: {addrs: ['h:1']}}", "redis.cluster",
			`must not be set together with redis.url ("redis://a"): set exactly one of them`},
		{"redis cluster no addrs", "redis: {cluster: {addrs: []}}", "redis.cluster.addrs", "must list at least one HOST:PORT"},
		{"redis cluster bad addr", "redis: {cluster: {addrs: ['h:1', 'nowhere']}}", "redis.cluster.addrs[1]", `got "nowhere"`},
		{"redis cluster no host", "redis: {cluster: {addrs: [':7000']}}", "redis.cluster.addrs[0]", "with a host"},
		{"redis cluster password not shown", "redis: {cluster: {addrs: ['h:1'], password: [secret]}}", "redis.cluster.password", "(the value is not shown: it is a secret)"},
		{"redis_alt cluster same as redis", "redis: {cluster: {addrs: ['h:1']}}\nredis_alt: {cluster: {addrs: ['h:1']}}", "redis_alt",
			`must differ from redis in cluster.addrs or channel_prefix`},
		{"wildcard on a cluster", "redis: {cluster: {addrs: ['h:1']}}\nservices: {chat: {wildcard_subscriptions: true}}", "services.chat.wildcard_subscriptions",
			"needs a single Redis, but redis.cluster is set"},
		{"redis_alt same embedded server", "redis: {url: embedded}\nredis_alt: {url: 'embedded://127.0.0.1:6379', channel_prefix: x}", "redis_alt.url",
			`starts a second embedded server on 127.0.0.1:6379, where redis.url "embedded" already starts one`},

		// http
		{"http timeout", "http: {timeout: 0}", "http.timeout", "must be positive, got 0s"},
		{"http tries", "http: {tries: 0}", "http.tries", "must be at least 1, got 0"},
		{"http ca file missing", "http: {ca_file: " + missing + "}", "http.ca_file", `cannot read "` + missing + `"`},
		{"http ca file not pem", "http: {ca_file: " + garbage + "}", "http.ca_file", `no PEM certificate found in "` + garbage + `"`},
		{"http reset header empty", "http: {rate_limit_reset_headers: ['']}", "http.rate_limit_reset_headers[0]", "header name must not be empty"},
		{"http reset header invalid", "http: {rate_limit_reset_headers: [ok, 'X Reset:']}", "http.rate_limit_reset_headers[1]",
			`must be an HTTP header name, got "X Reset:"`},
		{"http max concurrency", "http: {max_concurrency: 0}", "http.max_concurrency", "must be at least 1, got 0"},
		{"http close callbacks", "http: {close_callbacks_per_second: 0}", "http.close_callbacks_per_second", "must be positive, got 0"},

		// log and shutdown
		{"log level", "log: {level: trace}", "log.level", `must be one of debug, info, warn, error, got "trace"`},
		{"log format", "log: {format: xml}", "log.format", `must be json or text, got "xml"`},
		{"shutdown timeout", "shutdown_timeout: 0", "shutdown_timeout", "must be positive, got 0s"},

		// authentication
		{"ticket without url", "authentication: {ticket: {}}", "authentication.ticket.validation_url", "required when authentication.ticket is set"},
		{"ticket null", "authentication: {ticket: ~}", "", ""},
		{"ticket relative url", "authentication: {ticket: {validation_url: /ws/ticket/}}", "authentication.ticket.validation_url",
			`must be an absolute http or https URL, got "/ws/ticket/"`},
		{"ticket empty field", "authentication: {ticket: {validation_url: 'http://a/', auth_fields: [a, '']}}", "authentication.ticket.auth_fields[1]",
			"field name must not be empty"},
		{"ticket duplicate field", "authentication: {ticket: {validation_url: 'http://a/', auth_fields: [a, b, a]}}", "authentication.ticket.auth_fields[2]",
			`duplicate field "a", also at authentication.ticket.auth_fields[0]`},

		// services
		{"service name with dot", "services: {a.b: {}}", "services.a.b", `invalid service name "a.b": use only letters, digits, '-' and '_'`},
		{"service name with space", "services: {'a b': }", "services.a b", `invalid service name "a b"`},
		{"service url not absolute", "services: {s: {authorizer: foo}}", "services.s.authorizer", `must be an absolute http or https URL, got "foo"`},
		{"service url ftp", "services: {s: {on_message: 'ftp://a/'}}", "services.s.on_message", `got "ftp://a/"`},
		{"service url no host", "services: {s: {on_subscribe: 'http:///x'}}", "services.s.on_subscribe", `got "http:///x"`},
		{"service url password hidden", "services: {s: {before_subscribe: 'htps://u:pw@h/'}}", "services.s.before_subscribe", `got "htps://h/"`},
		{"service url each callback", "services: {s: {on_authorization_change: x}}", "services.s.on_authorization_change", `got "x"`},
		{"service before_unsubscribe", "services: {s: {before_unsubscribe: x}}", "services.s.before_unsubscribe", `got "x"`},
		{"service on_unsubscribe", "services: {s: {on_unsubscribe: x}}", "services.s.on_unsubscribe", `got "x"`},
		{"heartbeat without callback", "services: {s: {heartbeat_period: 30}}", "services.s.heartbeat_period",
			"needs services.s.on_heartbeat (heartbeat_period is 30s, on_heartbeat is not set)"},
		{"callback without heartbeat", "services: {s: {on_heartbeat: 'http://a/hb'}}", "services.s.on_heartbeat",
			`needs services.s.heartbeat_period (on_heartbeat is "http://a/hb", heartbeat_period is not set)`},
		{"renewal without authorizer", "services: {s: {authorization_renewal_period: 300s}}", "services.s.authorization_renewal_period",
			"needs services.s.authorizer (authorization_renewal_period is 5m0s, authorizer is not set)"},
		{"jitter without period", "services: {s: {authorizer: 'http://a/', authorization_renewal_jitter: 30s}}", "services.s.authorization_renewal_jitter",
			"needs services.s.authorization_renewal_period (authorization_renewal_jitter is 30s, authorization_renewal_period is not set)"},
		{"jitter equal to period", "services: {s: {authorizer: 'http://a/', authorization_renewal_period: 30, authorization_renewal_jitter: 30s}}",
			"services.s.authorization_renewal_jitter",
			"must be less than services.s.authorization_renewal_period (authorization_renewal_jitter is 30s, authorization_renewal_period is 30s)"},
		{"extra field empty", "services: {s: {extra_fields: ['']}}", "services.s.extra_fields[0]", "field name must not be empty"},
		{"filter field duplicate", "services: {s: {filter_fields: [user_id, user_id]}}", "services.s.filter_fields[1]",
			`duplicate field "user_id", also at services.s.filter_fields[0]`},
		{"authorizer field duplicate", "services: {s: {authorizer_fields: [a, a]}}", "services.s.authorizer_fields[1]", `duplicate field "a"`},
		{"extra field reserved", "services: {s: {extra_fields: [a, offset]}}", "services.s.extra_fields[1]", `"offset" is reserved for the router's own use`},
		{"filter field reserved", "services: {s: {filter_fields: [since]}}", "services.s.filter_fields[0]", `"since" is reserved`},
		{"history size zero", "services: {s: {history: {size: 0}}}", "services.s.history.size", "must be from 1 to 100000, got 0"},
		{"history size too big", "services: {s: {history: {size: 100001}}}", "services.s.history.size", "must be from 1 to 100000, got 100001"},
		{"history ttl zero", "services: {s: {history: {ttl: 0}}}", "services.s.history.ttl", "must be at least 1ms, got 0s"},
		{"history ttl negative", "services: {s: {history: {ttl: -5s}}}", "services.s.history.ttl", "must not be negative"},
		{"history not a mapping", "services: {s: {history: 100}}", "services.s.history", "must be a mapping"},
		{"history unknown key", "services: {s: {history: {length: 5}}}", "services.s.history.length", "unknown key"},

		// presence
		{"presence without fields", "services: {s: {presence: true}}", "services.s.presence_fields",
			"required when services.s.presence is true (presence_fields is empty)"},
		{"presence fields without presence", "services: {s: {presence_fields: [user_id]}}", "services.s.presence_fields",
			"needs services.s.presence: true (presence_fields is set, presence is false)"},
		{"presence events without presence", "services: {s: {presence_events: true}}", "services.s.presence_events",
			"needs services.s.presence: true (presence_events is true, presence is false)"},
		{"presence not a bool", "services: {s: {presence: yes please}}", "services.s.presence", "must be true or false"},
		{"presence field duplicate", "services: {s: {presence: true, presence_fields: [a, a]}}", "services.s.presence_fields[1]", `duplicate field "a"`},
		{"presence field reserved", "services: {s: {presence: true, presence_fields: [user_id, member]}}", "services.s.presence_fields[1]",
			`"member" is reserved for the router's own use`},
		{"presence ttl too long", "presence_ttl: 50s", "presence_ttl", "must be between 1s and 45s, got 50s"},
		{"presence ttl too short", "presence_ttl: 0.5", "presence_ttl", "must be between 1s and 45s, got 500ms"},
		{"presence valid", "presence_ttl: 2s\nservices: {s: {presence: true, presence_fields: [user_id], presence_events: true}}", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.path == "" {
				mustParse(t, tt.src)
				return
			}
			p := onlyProblem(t, tt.src, tt.path, tt.want)
			if line := "c.yaml:"; !strings.HasPrefix(p.String(), line) || !strings.Contains(p.String(), ": "+tt.path+": ") {
				t.Errorf("String() = %q, want the file, line and key path", p.String())
			}
		})
	}
}

func TestValidConfigs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeKeyPair(t, dir, "a")
	tests := []struct {
		name string
		src  string
	}{
		{"tls pair", "tls: {cert_file: " + cert + ", key_file: " + key + "}"},
		{"ca file", "http: {ca_file: " + cert + "}"},
		{"listen all interfaces", `listen: ":9000"`},
		{"listen ipv6", `listen: "[::1]:9000"`},
		{"metrics disabled", `metrics: {listen: ""}`},
		{"listen and metrics on port 0", `{listen: "127.0.0.1:0", metrics: {listen: "127.0.0.1:0"}}`},
		{"ping disabled with zero timeout", "websocket: {ping_interval: 0, ping_timeout: 0}"},
		{"compression without context takeover", "websocket: {compression: no_context_takeover, compression_min_bytes: 0}"},
		{"compression with context takeover", "websocket: {compression: context_takeover, compression_min_bytes: 1024}"},
		{"origins", `allowed_origins: ["https://app.example.com", "http://localhost:3000", "app.example.com", "*.example.com", "localhost:3000", "https://*.example.com", "[::1]:8080"]`},
		{"any origin", `allowed_origins: ["*"]`},
		{"redis urls", "redis: {url: 'rediss://u:p@h:6380/1'}\nredis_alt: {url: 'unix:///tmp/redis.sock'}"},
		{"redis_alt same server other prefix", "redis: {url: 'redis://a'}\nredis_alt: {url: 'redis://a', channel_prefix: new.}"},
		{"embedded", "redis: {url: embedded}\nredis_alt: {url: 'embedded://127.0.0.1:6380'}"},
		{"http wait zero", "http: {wait: 0}"},
		{"no reset headers", "http: {rate_limit_reset_headers: []}"},
		{"authentication without methods", "authentication: {}"},
		{"service names", "services: {books: , Book-2_x: {require_authentication: false}}"},
		{"full service", `services:
  s:
    authorizer: https://app/auth
    authorizer_fields: [caps]
    authorization_renewal_period: 300
    authorization_renewal_jitter: 299.9
    extra_fields: [org]
    filter_fields: [user_id, org]
    heartbeat_period: 30s
    on_heartbeat: http://app:8080/hb?x=1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mustParse(t, tt.src)
		})
	}
}

func TestValidateGoConfig(t *testing.T) {
	t.Parallel()
	c := Default()
	c.WebSocket.PingInterval = -1
	c.Services["ok"] = nil
	c.Services["s"] = &Service{AuthorizationRenewalPeriod: Duration(time.Minute)}
	err := c.Validate()
	ps, ok := AsProblems(err)
	if !ok || len(ps) != 2 {
		t.Fatalf("Validate() = %v, want 2 problems", err)
	}
	want := "websocket.ping_interval: must not be negative, got -1ns\n" +
		"services.s.authorization_renewal_period: needs services.s.authorizer (authorization_renewal_period is 1m0s, authorizer is not set)"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

func TestEmbedded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url      string
		wantAddr string
		wantOK   bool
	}{
		{"embedded", "127.0.0.1:6379", true},
		{"embedded://0.0.0.0:7000", "0.0.0.0:7000", true},
		{"redis://127.0.0.1:6379/0", "", false},
		{"embeddedx", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			addr, ok := Redis{URL: tt.url}.Embedded()
			if addr != tt.wantAddr || ok != tt.wantOK {
				t.Errorf("Embedded() = %q, %v; want %q, %v", addr, ok, tt.wantAddr, tt.wantOK)
			}
		})
	}
}

// TestRedisCluster: a file that sets redis.cluster and no url is valid and
// has no url (the default is for a single Redis); redis_alt may be a
// cluster too; a reload that changes the cluster needs a restart.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("c.yaml", []byte("redis:\n  cluster: {addrs: ['10.0.0.1:6379', '10.0.0.2:6379'], username: u, password: p}\n"+
		"redis_alt: {cluster: {addrs: ['10.0.1.1:6379']}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Redis.URL != "" || cfg.Redis.Cluster == nil || len(cfg.Redis.Cluster.Addrs) != 2 || cfg.Redis.Cluster.Password != "p" {
		t.Fatalf("redis = %+v, cluster %+v", cfg.Redis, cfg.Redis.Cluster)
	}
	if cfg.RedisAlt == nil || cfg.RedisAlt.Cluster == nil || cfg.RedisAlt.URL != "" {
		t.Fatalf("redis_alt = %+v", cfg.RedisAlt)
	}
	same, err := Parse("c.yaml", []byte("redis:\n  cluster: {addrs: ['10.0.0.1:6379', '10.0.0.2:6379'], username: u, password: p}\n"+
		"redis_alt: {cluster: {addrs: ['10.0.1.1:6379']}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Redis.Equal(same.Redis) || !cfg.RedisAlt.Equal(*same.RedisAlt) {
		t.Fatal("equal configurations compare unequal")
	}
	moved := *same.Redis.Cluster
	moved.Addrs = []string{"10.0.0.3:6379"}
	same.Redis.Cluster = &moved
	if cfg.Redis.Equal(same.Redis) || cfg.Redis.Equal(Default().Redis) {
		t.Fatal("different clusters compare equal")
	}
}
