package services

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wsrouter/wsrouter/internal/redact"
)

// Validate checks every section of c and returns a *Problems listing all
// that is wrong, or nil. Parse and Load call it; call it on a Config built
// in Go.
func (c *Config) Validate() error {
	v := &validator{}
	c.validate(v)
	if len(v.problems) == 0 {
		return nil
	}
	ps := Problems(v.problems)
	return &ps
}

// validator collects the problems of one validation pass.
type validator struct {
	problems []Problem
	// failed holds the key paths whose YAML value could not be decoded;
	// checks that involve them are skipped, as their value is not the
	// user's.
	failed map[string]bool
}

// add records msg against path, unless path or one of the related key
// paths failed to decode.
func (v *validator) add(path, msg string, related ...string) {
	for _, p := range append([]string{path}, related...) {
		if v.hasFailed(p) {
			return
		}
	}
	v.problems = append(v.problems, Problem{Path: path, Message: msg})
}

// hasFailed reports whether path or one of its ancestors failed to decode.
func (v *validator) hasFailed(path string) bool {
	for len(v.failed) > 0 {
		if v.failed[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return false
		}
		path = path[:i]
	}
	return false
}

// validate runs one validator per section.
func (c *Config) validate(v *validator) {
	v.listeners(c.Listen, c.Metrics.Listen)
	v.tls("tls", c.TLS)
	v.origins(c.AllowedOrigins)
	v.websocket(c.WebSocket)
	v.redis("redis", c.Redis, false)
	if c.RedisAlt != nil {
		v.redis("redis_alt", *c.RedisAlt, true)
		v.redisPair(c.Redis, *c.RedisAlt)
	}
	v.http(c.HTTP)
	v.log(c.Log)
	v.positive("shutdown_timeout", c.ShutdownTimeout)
	v.authentication(c.Authentication)
	v.presenceTTL(c.PresenceTTL)
	v.api(c.API, c.Listen, c.Metrics.Listen)
	names := make([]string, 0, len(c.Services))
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v.service(name, c.Services[name])
		v.wildcardNeedsSingleRedis(name, c.Services[name], c)
	}
}

// wildcardNeedsSingleRedis: wildcard subscriptions are Redis patterns,
// which sharded pub/sub on a Redis Cluster does not have (SPEC section 11).
func (v *validator) wildcardNeedsSingleRedis(name string, s *Service, c *Config) {
	if s == nil || !s.WildcardSubscriptions {
		return
	}
	for _, r := range []struct {
		section string
		redis   *Redis
	}{{"redis", &c.Redis}, {"redis_alt", c.RedisAlt}} {
		if r.redis != nil && r.redis.Cluster != nil {
			v.add("services."+name+".wildcard_subscriptions",
				fmt.Sprintf("needs a single Redis, but %s.cluster is set (a Redis Cluster has no pattern subscriptions for sharded pub/sub)", r.section),
				r.section+".cluster")
			return
		}
	}
}

// listeners checks listen and metrics.listen.
func (v *validator) listeners(listen, metrics string) {
	if err := checkHostPort(listen); err != nil {
		v.add("listen", err.Error())
	}
	if metrics == "" {
		return
	}
	if err := checkHostPort(metrics); err != nil {
		v.add("metrics.listen", err.Error())
		return
	}
	if metrics == listen && !strings.HasSuffix(listen, ":0") {
		v.add("metrics.listen", fmt.Sprintf("must differ from listen, both are %q", listen), "listen")
	}
}

// tls checks a tls section (at key path section): both files or neither
// are set, and they hold a key pair.
func (v *validator) tls(section string, t TLS) {
	certKey, keyKey := section+".cert_file", section+".key_file"
	switch {
	case t.CertFile == "" && t.KeyFile == "":
		return
	case t.KeyFile == "":
		v.add(keyKey, fmt.Sprintf("must be set when %s is set (cert_file %q, key_file \"\")", certKey, t.CertFile), certKey)
		return
	case t.CertFile == "":
		v.add(certKey, fmt.Sprintf("must be set when %s is set (cert_file \"\", key_file %q)", keyKey, t.KeyFile), keyKey)
		return
	}
	cert, certErr := readSmallFile(t.CertFile)
	if certErr != nil {
		v.add(certKey, certErr.Error())
	}
	key, keyErr := readSmallFile(t.KeyFile)
	if keyErr != nil {
		v.add(keyKey, keyErr.Error())
	}
	if certErr == nil && keyErr == nil {
		if err := checkKeyPair(cert, key); err != nil {
			v.add(certKey, fmt.Sprintf("%s %q and %s %q are not a certificate and its key: %v",
				certKey, t.CertFile, keyKey, t.KeyFile, err), keyKey)
		}
	}
}

// origins checks each allowed_origins entry.
func (v *validator) origins(origins []string) {
	for i, o := range origins {
		if !validOrigin(o) {
			v.add(indexPath("allowed_origins", i), fmt.Sprintf(
				`must be "*", an origin (scheme://host[:port]) or a host pattern (app.example.com, *.example.com, localhost:3000), got %q`, o))
		}
	}
}

// websocket checks the connection limits.
func (v *validator) websocket(w WebSocket) {
	v.nonNegative("websocket.ping_interval", w.PingInterval)
	if w.PingInterval > 0 && w.PingTimeout <= 0 {
		v.add("websocket.ping_timeout", fmt.Sprintf("must be positive when websocket.ping_interval is set (ping_interval %s, ping_timeout %s)",
			w.PingInterval, w.PingTimeout), "websocket.ping_interval")
	} else {
		v.nonNegative("websocket.ping_timeout", w.PingTimeout)
	}
	v.atLeastOne("websocket.max_message_bytes", w.MaxMessageBytes)
	v.atLeastOne("websocket.send_queue", int64(w.SendQueue))
	v.atLeastOne("websocket.send_queue_bytes", w.SendQueueBytes)
	v.positive("websocket.write_timeout", w.WriteTimeout)
	v.atLeastOne("websocket.max_subscriptions", int64(w.MaxSubscriptions))
	v.atLeastOne("websocket.max_subscription_bytes", int64(w.MaxSubscriptionBytes))
	v.positiveRate("websocket.events_per_second", w.EventsPerSecond)
	v.atLeastOne("websocket.events_burst", int64(w.EventsBurst))
	switch w.Compression {
	case CompressionNone, CompressionNoContextTakeover, CompressionContextTakeover:
	default:
		v.add("websocket.compression", fmt.Sprintf("must be none, no_context_takeover or context_takeover, got %q", w.Compression))
	}
	if w.CompressionMinBytes < 0 {
		v.add("websocket.compression_min_bytes", fmt.Sprintf("must not be negative, got %d", w.CompressionMinBytes))
	}
}

// redis checks one Redis section; alt is true for redis_alt, whose url is
// required.
func (v *validator) redis(section string, r Redis, alt bool) {
	if r.Cluster != nil {
		if r.URL != "" {
			v.add(section+".cluster", fmt.Sprintf("must not be set together with %s.url (%q): set exactly one of them",
				section, redact.URL(r.URL)), section+".url")
		}
		v.cluster(section+".cluster", *r.Cluster)
	} else if r.URL == "" && alt {
		v.add(section+".url", "required when "+section+" is set")
	} else if err := checkRedisURL(r.URL); err != nil {
		v.add(section+".url", err.Error())
	}
	v.positive(section+".ping_interval", r.PingInterval)
	v.positive(section+".ping_timeout", r.PingTimeout)
}

// cluster checks a redis.cluster section.
func (v *validator) cluster(path string, c RedisCluster) {
	if len(c.Addrs) == 0 {
		v.add(path+".addrs", "must list at least one HOST:PORT of a cluster node")
	}
	for i, a := range c.Addrs {
		if err := checkHostPort(a); err != nil {
			v.add(fmt.Sprintf("%s.addrs[%d]", path, i), err.Error())
		} else if host, _, _ := net.SplitHostPort(a); host == "" {
			v.add(fmt.Sprintf("%s.addrs[%d]", path, i), fmt.Sprintf("must be HOST:PORT with a host, got %q", a))
		}
	}
}

// redisPair checks that redis_alt is not the same subscription as redis.
func (v *validator) redisPair(main, alt Redis) {
	if main.Cluster != nil && alt.Cluster != nil && main.ChannelPrefix == alt.ChannelPrefix &&
		slices.Equal(main.Cluster.Addrs, alt.Cluster.Addrs) {
		v.add("redis_alt", fmt.Sprintf("must differ from redis in cluster.addrs or channel_prefix, both have addrs %q and channel_prefix %q",
			alt.Cluster.Addrs, alt.ChannelPrefix), "redis")
	}
	if alt.URL == "" {
		return
	}
	mainAddr, mainEmbedded := main.Embedded()
	altAddr, altEmbedded := alt.Embedded()
	switch {
	case mainEmbedded && altEmbedded && mainAddr == altAddr:
		v.add("redis_alt.url", fmt.Sprintf("starts a second embedded server on %s, where redis.url %q already starts one",
			altAddr, main.URL), "redis.url")
	case main.URL == alt.URL && main.ChannelPrefix == alt.ChannelPrefix:
		v.add("redis_alt", fmt.Sprintf("must differ from redis in url or channel_prefix, both have url %q and channel_prefix %q",
			redact.URL(alt.URL), alt.ChannelPrefix), "redis")
	}
}

// http checks the callback client settings.
func (v *validator) http(h HTTP) {
	v.positive("http.timeout", h.Timeout)
	v.atLeastOne("http.tries", int64(h.Tries))
	v.nonNegative("http.wait", h.Wait)
	if h.CAFile != "" {
		if err := checkCAFile(h.CAFile); err != nil {
			v.add("http.ca_file", err.Error())
		}
	}
	for i, name := range h.RateLimitResetHeaders {
		if err := checkHeaderName(name); err != nil {
			v.add(indexPath("http.rate_limit_reset_headers", i), err.Error())
		}
	}
	v.atLeastOne("http.max_concurrency", int64(h.MaxConcurrency))
	v.positiveRate("http.close_callbacks_per_second", h.CloseCallbacksPerSecond)
}

// log checks the level and format names.
func (v *validator) log(l Log) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		v.add("log.level", fmt.Sprintf("must be one of debug, info, warn, error, got %q", l.Level))
	}
	switch l.Format {
	case "json", "text":
	default:
		v.add("log.format", fmt.Sprintf("must be json or text, got %q", l.Format))
	}
}

// authentication checks the auth methods.
func (v *validator) authentication(a *Authentication) {
	if a == nil {
		return
	}
	v.connect(a.Connect)
	v.jwt(a.JWT)
	if a.Ticket == nil {
		return
	}
	if a.Ticket.ValidationURL == "" {
		v.add("authentication.ticket.validation_url", "required when authentication.ticket is set")
	} else {
		v.url("authentication.ticket.validation_url", a.Ticket.ValidationURL)
	}
	v.fieldList("authentication.ticket.auth_fields", a.Ticket.AuthFields)
}

// serviceName is what a service may be called: the part of a subscription
// name before the first dot.
var serviceName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// service checks one service's URLs, field lists and timer pairs.
func (v *validator) service(name string, s *Service) {
	p := "services." + name
	if !serviceName.MatchString(name) {
		v.add(p, fmt.Sprintf("invalid service name %q: use only letters, digits, '-' and '_'", name))
	}
	if s == nil {
		return
	}
	for _, cb := range []struct{ key, url string }{
		{"authorizer", s.Authorizer},
		{"before_subscribe", s.BeforeSubscribe},
		{"on_subscribe", s.OnSubscribe},
		{"on_message", s.OnMessage},
		{"before_unsubscribe", s.BeforeUnsubscribe},
		{"on_unsubscribe", s.OnUnsubscribe},
		{"on_authorization_change", s.OnAuthorizationChange},
		{"on_heartbeat", s.OnHeartbeat},
	} {
		if cb.url != "" {
			v.url(p+"."+cb.key, cb.url)
		}
	}
	v.fieldList(p+".authorizer_fields", s.AuthorizerFields)
	v.fieldList(p+".extra_fields", s.ExtraFields)
	v.fieldList(p+".filter_fields", s.FilterFields)
	v.reservedFields(p+".extra_fields", s.ExtraFields)
	v.reservedFields(p+".filter_fields", s.FilterFields)
	if h := s.History; h != nil {
		if h.Size < 1 || h.Size > MaxHistorySize {
			v.add(p+".history.size", fmt.Sprintf("must be from 1 to %d, got %d", MaxHistorySize, h.Size))
		}
		if h.TTL < Duration(time.Millisecond) {
			v.add(p+".history.ttl", "must be at least 1ms, got "+h.TTL.String())
		}
	}
	v.presence(p, s)

	period, jitter, heartbeat := p+".authorization_renewal_period", p+".authorization_renewal_jitter", p+".heartbeat_period"
	v.nonNegative(period, s.AuthorizationRenewalPeriod)
	v.nonNegative(jitter, s.AuthorizationRenewalJitter)
	v.nonNegative(heartbeat, s.HeartbeatPeriod)
	switch {
	case s.HeartbeatPeriod > 0 && s.OnHeartbeat == "":
		v.add(heartbeat, fmt.Sprintf("needs %s.on_heartbeat (heartbeat_period is %s, on_heartbeat is not set)", p, s.HeartbeatPeriod), p+".on_heartbeat")
	case s.HeartbeatPeriod <= 0 && s.OnHeartbeat != "":
		v.add(p+".on_heartbeat", fmt.Sprintf("needs %s (on_heartbeat is %q, heartbeat_period is not set)", heartbeat, redact.URL(s.OnHeartbeat)), heartbeat)
	}
	if s.AuthorizationRenewalPeriod > 0 && s.Authorizer == "" {
		v.add(period, fmt.Sprintf("needs %s.authorizer (authorization_renewal_period is %s, authorizer is not set)",
			p, s.AuthorizationRenewalPeriod), p+".authorizer")
	}
	switch {
	case s.AuthorizationRenewalJitter > 0 && s.AuthorizationRenewalPeriod <= 0:
		v.add(jitter, fmt.Sprintf("needs %s (authorization_renewal_jitter is %s, authorization_renewal_period is not set)",
			period, s.AuthorizationRenewalJitter), period)
	case s.AuthorizationRenewalJitter > 0 && s.AuthorizationRenewalJitter >= s.AuthorizationRenewalPeriod:
		v.add(jitter, fmt.Sprintf("must be less than %s (authorization_renewal_jitter is %s, authorization_renewal_period is %s)",
			period, s.AuthorizationRenewalJitter, s.AuthorizationRenewalPeriod), period)
	}
}

// url checks an HTTP callback URL.
func (v *validator) url(path, raw string) {
	if err := checkHTTPURL(raw); err != nil {
		v.add(path, err.Error())
	}
}

// fieldList checks that a list of field names has no empty or repeated
// name.
func (v *validator) fieldList(path string, fields []string) {
	first := map[string]int{}
	for i, f := range fields {
		switch j, dup := first[f]; {
		case f == "":
			v.add(indexPath(path, i), "field name must not be empty")
		case dup:
			v.add(indexPath(path, i), fmt.Sprintf("duplicate field %q, also at %s", f, indexPath(path, j)))
		default:
			first[f] = i
		}
	}
}

// reservedNames are the keys the router itself puts in replies and
// deliveries; a service may not use them as field names.
var reservedNames = []string{"since", "offset", "recovered", "channel", "members", "member"}

// reservedFields checks that a field list names no reserved key.
func (v *validator) reservedFields(path string, fields []string) {
	for i, f := range fields {
		if slices.Contains(reservedNames, f) {
			v.add(indexPath(path, i), fmt.Sprintf("%q is reserved for the router's own use (reserved: %s)", f, strings.Join(reservedNames, ", ")))
		}
	}
}

// positive checks a duration that must be more than zero.
func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.add(path, "must be positive, got "+d.String())
	}
}

// nonNegative checks a duration that may be zero.
func (v *validator) nonNegative(path string, d Duration) {
	if d < 0 {
		v.add(path, "must not be negative, got "+d.String())
	}
}

// atLeastOne checks a count.
func (v *validator) atLeastOne(path string, n int64) {
	if n < 1 {
		v.add(path, fmt.Sprintf("must be at least 1, got %d", n))
	}
}

// positiveRate checks a rate per second.
func (v *validator) positiveRate(path string, r float64) {
	if !(r > 0) {
		v.add(path, fmt.Sprintf("must be positive, got %g", r))
	}
}

// indexPath is the key path of a list item.
func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
