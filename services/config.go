// Package services owns the router's configuration: the YAML schema of
// SPEC section 2 (listener, WebSocket limits, Redis, callback HTTP client,
// authentication and the services with their callback URLs), its defaults,
// strict decoding and validation that reports every problem with its key
// path, and the comparison of two configurations for live reload.
package services

import (
	"slices"
	"strings"
	"time"
)

// Config is the whole configuration file. Use Default for a Config with
// every default applied, and Parse or Load to read one from YAML.
type Config struct {
	// Listen is the WebSocket address, HOST:PORT. Default "127.0.0.1:9000".
	Listen string `yaml:"listen"`
	// TLS makes the listener serve wss when both files are set.
	TLS TLS `yaml:"tls"`
	// AllowedOrigins is the browser Origin allow-list: full origins
	// ("https://app.example.com") or host patterns ("*.example.com").
	// Empty (the default) allows the same host only; ["*"] allows any.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// WebSocket holds the per-connection limits.
	WebSocket WebSocket `yaml:"websocket"`
	// Redis is the Redis the router subscribes to.
	Redis Redis `yaml:"redis"`
	// RedisAlt is an optional second Redis subscribed in parallel; nil when
	// absent or null. It has the defaults of Redis, except that its URL has
	// none and is required.
	RedisAlt *Redis `yaml:"redis_alt"`
	// HTTP configures the outgoing callback requests.
	HTTP HTTP `yaml:"http"`
	// Metrics configures the operations listener.
	Metrics Metrics `yaml:"metrics"`
	// Log configures the structured log.
	Log Log `yaml:"log"`
	// ShutdownTimeout limits the drain on SIGTERM/SIGINT. Default 30s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// Authentication lists the auth methods. Nil means none: every auth
	// event answers "Authentication method unsupported.".
	Authentication *Authentication `yaml:"authentication"`
	// PresenceTTL is how long a node's presence entries live in Redis
	// without a refresh; the node refreshes them every third of it, so a
	// dead node's members leave within PresenceTTL*4/3. Default 30s; at
	// most 45s (leave within 60 s). Needs a restart.
	PresenceTTL Duration `yaml:"presence_ttl"`
	// API is the HTTP API; off unless api.listen is set.
	API API `yaml:"api"`
	// Services maps a service name to its definition. A null value in the
	// YAML (`books:`) is a service with all defaults.
	Services map[string]*Service `yaml:"services"`
}

// TLS names the certificate and key files of the listener. Both set: serve
// wss; both empty (the default): serve plain ws. Relative paths are taken
// from the working directory.
type TLS struct {
	// CertFile is the PEM certificate chain file.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key file.
	KeyFile string `yaml:"key_file"`
}

// WebSocket holds the limits applied to each client connection.
type WebSocket struct {
	// PingInterval is the server ping period. Default 15s; zero disables.
	PingInterval Duration `yaml:"ping_interval"`
	// PingTimeout closes a connection whose pong is this late. Default 15s.
	PingTimeout Duration `yaml:"ping_timeout"`
	// MaxMessageBytes is the largest client frame; larger closes with
	// 1009. Default 65536.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// SendQueue is the number of queued outbound messages before a slow
	// client is dropped. Default 1024.
	SendQueue int `yaml:"send_queue"`
	// SendQueueBytes is the number of queued outbound bytes before a slow
	// client is dropped, whichever of it and SendQueue comes first; it
	// also bounds the replies to a client's own events. Default 8388608.
	SendQueueBytes int64 `yaml:"send_queue_bytes"`
	// WriteTimeout drops a client whose socket does not take a write
	// within it (a slow consumer). Default 10s.
	WriteTimeout Duration `yaml:"write_timeout"`
	// MaxSubscriptions is the subscription limit per connection. Default 1000.
	MaxSubscriptions int `yaml:"max_subscriptions"`
	// MaxSubscriptionBytes is the longest subscription name, and the
	// longest extra field value (as JSON), a client may send; longer is
	// "Invalid subscription format.". Default 256.
	MaxSubscriptionBytes int `yaml:"max_subscription_bytes"`
	// EventsPerSecond is the client event rate (token bucket). Default 100.
	EventsPerSecond float64 `yaml:"events_per_second"`
	// EventsBurst is the token bucket's burst. Default 200.
	EventsBurst int `yaml:"events_burst"`
	// DeliveryTimestamps adds received_at and sent_at to deliveries.
	// Default false.
	DeliveryTimestamps bool `yaml:"delivery_timestamps"`
	// Compression is the permessage-deflate the router agrees to when a
	// client offers it: CompressionNone (the default),
	// CompressionNoContextTakeover or CompressionContextTakeover.
	Compression string `yaml:"compression"`
	// CompressionMinBytes leaves messages shorter than it uncompressed on
	// a compressed connection. Default 256.
	CompressionMinBytes int `yaml:"compression_min_bytes"`
}

// The websocket.compression values.
const (
	// CompressionNone negotiates no compression.
	CompressionNone = "none"
	// CompressionNoContextTakeover compresses each message on its own:
	// no per-connection compressor state between messages.
	CompressionNoContextTakeover = "no_context_takeover"
	// CompressionContextTakeover compresses each message with the window
	// of the connection's earlier messages: better ratios, and a
	// compressor kept per connection.
	CompressionContextTakeover = "context_takeover"
)

// Redis configures one Redis connection.
type Redis struct {
	// URL is a redis://, rediss:// or unix:// URL, or "embedded" or
	// "embedded://HOST:PORT" for the in-process server. Default
	// "redis://127.0.0.1:6379/0" (none for redis_alt, and none when the
	// file sets cluster).
	URL string `yaml:"url"`
	// Cluster is a Redis Cluster to use instead of URL (SPEC section 11);
	// nil for a single Redis. Exactly one of URL and Cluster is set.
	Cluster *RedisCluster `yaml:"cluster"`
	// ChannelPrefix is put before every subscription name to form the
	// Redis channel. Default "".
	ChannelPrefix string `yaml:"channel_prefix"`
	// PingInterval is the period of the delivery probe. Default 10s.
	PingInterval Duration `yaml:"ping_interval"`
	// PingTimeout is how long the probe may take. Default 5s.
	PingTimeout Duration `yaml:"ping_timeout"`
}

// RedisCluster is a Redis Cluster, whose pub/sub the router shards over
// its masters.
type RedisCluster struct {
	// Addrs are HOST:PORT of some of the cluster's nodes; the others are
	// discovered from them. At least one is required.
	Addrs []string `yaml:"addrs"`
	// Username is the ACL user; "" for none.
	Username string `yaml:"username"`
	// Password is the password; "" for none. It is never logged.
	Password string `yaml:"password"`
}

// Equal reports whether r and o configure the same Redis.
func (r Redis) Equal(o Redis) bool {
	if r.Cluster == nil || o.Cluster == nil {
		rc, oc := r.Cluster, o.Cluster
		r.Cluster, o.Cluster = nil, nil
		return rc == oc && r == o
	}
	rc, oc := *r.Cluster, *o.Cluster
	r.Cluster, o.Cluster = nil, nil
	return r == o && rc.Username == oc.Username && rc.Password == oc.Password && slices.Equal(rc.Addrs, oc.Addrs)
}

// embeddedURL is the Redis URL that asks for the in-process server.
const embeddedURL = "embedded"

// embeddedScheme prefixes an embedded server URL with an explicit address.
const embeddedScheme = "embedded://"

// defaultEmbeddedAddr is where "embedded" listens.
const defaultEmbeddedAddr = "127.0.0.1:6379"

// Embedded reports whether the URL asks for the in-process Redis server and
// the address it listens on: "embedded" is 127.0.0.1:6379 and
// "embedded://HOST:PORT" is HOST:PORT.
func (r Redis) Embedded() (addr string, ok bool) {
	if r.URL == embeddedURL {
		return defaultEmbeddedAddr, true
	}
	if rest, found := strings.CutPrefix(r.URL, embeddedScheme); found {
		return rest, true
	}
	return "", false
}

// HTTP configures the outgoing callback requests.
type HTTP struct {
	// Timeout limits one try. Default 15s.
	Timeout Duration `yaml:"timeout"`
	// Tries is the number of tries in all. Default 3.
	Tries int `yaml:"tries"`
	// Wait is the pause between tries. Default 3s.
	Wait Duration `yaml:"wait"`
	// CAFile is a PEM file of extra trusted roots, relative to the working
	// directory. Default "": system roots.
	CAFile string `yaml:"ca_file"`
	// RateLimitResetHeaders are the headers of a 429 answer that say how
	// many seconds to wait; the first present wins. Default
	// ["X-Rate-Limit-Reset"].
	RateLimitResetHeaders []string `yaml:"rate_limit_reset_headers"`
	// MaxConcurrency caps the callback requests in flight. Default 64.
	MaxConcurrency int `yaml:"max_concurrency"`
	// CloseCallbacksPerSecond paces the unsubscribe callbacks of closed
	// connections. Default 200.
	CloseCallbacksPerSecond float64 `yaml:"close_callbacks_per_second"`
}

// Metrics configures the /metrics, /healthz and /readyz listener.
type Metrics struct {
	// Listen is HOST:PORT. Default "127.0.0.1:9100"; an explicit "" disables.
	Listen string `yaml:"listen"`
}

// Log configures the structured log.
type Log struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is json or text. Default json.
	Format string `yaml:"format"`
}

// Authentication lists the configured auth methods.
type Authentication struct {
	// Ticket is the ticket method; nil means it is not configured.
	Ticket *Ticket `yaml:"ticket"`
	// Connect checks every upgrade request with the application before
	// the connection opens; nil means it is not configured.
	Connect *Connect `yaml:"connect"`
	// JWT is the jwt method of the auth event; nil means it is not
	// configured.
	JWT *JWT `yaml:"jwt"`
}

// Connect configures the connect-time check (SPEC section 12).
type Connect struct {
	// URL is POSTed {"headers":{...},"remote_addr":IP,"query":{...}}
	// before the upgrade. Required.
	URL string `yaml:"url"`
	// ForwardHeaders are the request headers sent, those present.
	// Default none.
	ForwardHeaders []string `yaml:"forward_headers"`
	// AuthFields are taken from the ok answer and kept for the session.
	AuthFields []string `yaml:"auth_fields"`
	// Required: nil means true, a refused or failed check refuses the
	// upgrade (403, 503); false opens the connection unauthenticated.
	Required *bool `yaml:"required"`
	// TrustedProxies are the addresses (IP or CIDR) of proxies whose
	// X-Forwarded-For header names the client. Default none: the peer's
	// address is the client's.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// IsRequired reports whether a refused connect check refuses the upgrade.
func (c *Connect) IsRequired() bool { return c.Required == nil || *c.Required }

// JWT configures the jwt auth method. Exactly one of HMACSecretFile,
// PublicKeyFile and JWKSURL is set.
type JWT struct {
	// HMACSecretFile holds the HMAC secret (HS256; HS384 and HS512 with a
	// secret as long as their hash); at least 32 bytes. Read at start and
	// on every reload.
	HMACSecretFile string `yaml:"hmac_secret_file"`
	// PublicKeyFile is a PEM public key or certificate (RSA, ECDSA or
	// Ed25519). Read at start and on every reload.
	PublicKeyFile string `yaml:"public_key_file"`
	// JWKSURL is a JWK Set fetched at start, again when a token names an
	// unknown kid (at most once a minute), and every hour.
	JWKSURL string `yaml:"jwks_url"`
	// Issuer, when set, must be the token's iss.
	Issuer string `yaml:"issuer"`
	// Audience, when set, must be one of the token's aud.
	Audience string `yaml:"audience"`
	// AuthFields are the claims kept as auth fields.
	AuthFields []string `yaml:"auth_fields"`
}

// Ticket configures the ticket auth method.
type Ticket struct {
	// ValidationURL is POSTed {"ticket":T}. Required.
	ValidationURL string `yaml:"validation_url"`
	// AuthFields are taken from the validation answer and kept for the
	// session.
	AuthFields []string `yaml:"auth_fields"`
}

// Service is one service: its subscription rules and callback URLs. Every
// URL is optional; an empty string means the callback is not called.
type Service struct {
	// RequireAuthentication: nil means true.
	RequireAuthentication *bool `yaml:"require_authentication"`
	// Authorizer is asked before each subscribe and on each renewal.
	Authorizer string `yaml:"authorizer"`
	// AuthorizerFields are kept from the authorizer's ok answer.
	AuthorizerFields []string `yaml:"authorizer_fields"`
	// AuthorizationRenewalPeriod asks the authorizer again periodically.
	// Zero (the default) never does. Needs Authorizer.
	AuthorizationRenewalPeriod Duration `yaml:"authorization_renewal_period"`
	// AuthorizationRenewalJitter is the random part taken off each period.
	// It must be less than the period.
	AuthorizationRenewalJitter Duration `yaml:"authorization_renewal_jitter"`
	// ExtraFields are taken from the subscribe event and echoed in every
	// message about the subscription.
	ExtraFields []string `yaml:"extra_fields"`
	// FilterFields restrict delivery of published messages.
	FilterFields []string `yaml:"filter_fields"`
	// BeforeSubscribe may refuse a subscribe.
	BeforeSubscribe string `yaml:"before_subscribe"`
	// OnSubscribe is told of a subscribe; its answer is ignored.
	OnSubscribe string `yaml:"on_subscribe"`
	// OnMessage gets the client's message events.
	OnMessage string `yaml:"on_message"`
	// BeforeUnsubscribe may refuse a client's unsubscribe.
	BeforeUnsubscribe string `yaml:"before_unsubscribe"`
	// OnUnsubscribe is told of an unsubscribe; its answer is ignored.
	OnUnsubscribe string `yaml:"on_unsubscribe"`
	// OnAuthorizationChange is called when a renewal changes the
	// authorizer fields.
	OnAuthorizationChange string `yaml:"on_authorization_change"`
	// HeartbeatPeriod calls OnHeartbeat periodically. Zero (the default)
	// never does. Needs OnHeartbeat, and the reverse.
	HeartbeatPeriod Duration `yaml:"heartbeat_period"`
	// OnHeartbeat is called every HeartbeatPeriod.
	OnHeartbeat string `yaml:"on_heartbeat"`
	// Presence tracks the service's subscribers as members (SPEC section
	// 13). Default false. Needs PresenceFields.
	Presence bool `yaml:"presence"`
	// PresenceFields are the fields, looked up as FilterFields are, whose
	// values make up a member.
	PresenceFields []string `yaml:"presence_fields"`
	// PresenceEvents sends join and leave events to subscribers. Default
	// false. Needs Presence.
	PresenceEvents bool `yaml:"presence_events"`
	// RequireAllowedSubscription accepts a subscribe only when its name
	// matches one of the session's allowed_subscriptions patterns.
	// Default false.
	RequireAllowedSubscription bool `yaml:"require_allowed_subscription"`
	// WildcardSubscriptions makes a subscription name whose topic holds
	// '*' receive every message published to a matching name of the
	// service (a Redis pattern subscription). Default false: '*' is an
	// ordinary character.
	WildcardSubscriptions bool `yaml:"wildcard_subscriptions"`
	// History keeps each subscription name's newest messages in Redis so
	// that clients can recover what they missed. Nil (the default) keeps
	// none.
	History *History `yaml:"history"`
}

// History is a service's message history (SPEC section 9).
type History struct {
	// Size is how many of a subscription name's newest messages are kept,
	// 1 to MaxHistorySize. Default 100.
	Size int `yaml:"size"`
	// TTL is how long a name's history is kept after its last message.
	// Default 10m.
	TTL Duration `yaml:"ttl"`
}

// MaxHistorySize is the largest history.size.
const MaxHistorySize = 100000

// defaultHistory returns the history defaults, which `history: {}` gets.
func defaultHistory() History {
	return History{Size: 100, TTL: Duration(10 * time.Minute)}
}

// IsWildcard reports whether name (service.topic) of service s is a
// wildcard subscription: the service has wildcard_subscriptions and the
// topic holds '*'. A nil Service has all defaults.
func (s *Service) IsWildcard(name string) bool {
	if s == nil || !s.WildcardSubscriptions {
		return false
	}
	_, topic, _ := strings.Cut(name, ".")
	return strings.Contains(topic, "*")
}

// RequiresAuthentication reports whether subscribing needs an authenticated
// session; true unless require_authentication is false. A nil Service has
// all defaults.
func (s *Service) RequiresAuthentication() bool {
	return s == nil || s.RequireAuthentication == nil || *s.RequireAuthentication
}

// Service returns the named service. A nil entry counts as a service with
// all defaults.
func (c *Config) Service(name string) (*Service, bool) {
	s, ok := c.Services[name]
	if !ok {
		return nil, false
	}
	if s == nil {
		s = &Service{}
	}
	return s, true
}

// Default returns a Config with every default applied and no services.
func Default() *Config {
	return &Config{
		Listen: "127.0.0.1:9000",
		WebSocket: WebSocket{
			PingInterval:         Duration(15 * time.Second),
			PingTimeout:          Duration(15 * time.Second),
			MaxMessageBytes:      65536,
			SendQueue:            1024,
			SendQueueBytes:       8 << 20,
			WriteTimeout:         Duration(10 * time.Second),
			MaxSubscriptions:     1000,
			MaxSubscriptionBytes: 256,
			EventsPerSecond:      100,
			EventsBurst:          200,
			Compression:          CompressionNone,
			CompressionMinBytes:  256,
		},
		Redis: defaultRedis("redis://127.0.0.1:6379/0"),
		HTTP: HTTP{
			Timeout:                 Duration(15 * time.Second),
			Tries:                   3,
			Wait:                    Duration(3 * time.Second),
			RateLimitResetHeaders:   []string{"X-Rate-Limit-Reset"},
			MaxConcurrency:          64,
			CloseCallbacksPerSecond: 200,
		},
		Metrics:         Metrics{Listen: "127.0.0.1:9100"},
		Log:             Log{Level: "info", Format: "json"},
		ShutdownTimeout: Duration(30 * time.Second),
		PresenceTTL:     Duration(30 * time.Second),
		API:             API{MaxBodyBytes: defaultAPIMaxBodyBytes},
		Services:        map[string]*Service{},
	}
}

// defaultRedis returns the Redis defaults with the given URL; redis_alt
// starts from defaultRedis("").
func defaultRedis(url string) Redis {
	return Redis{
		URL:          url,
		PingInterval: Duration(10 * time.Second),
		PingTimeout:  Duration(5 * time.Second),
	}
}
