package services

import (
	"reflect"
	"slices"
)

// Changes is what a reload changes, by key (SPEC section 8).
type Changes struct {
	// ServicesAdded, ServicesRemoved and ServicesChanged name services,
	// sorted.
	ServicesAdded, ServicesRemoved, ServicesChanged []string
	// RestartRequired names the changed keys that take effect only after a
	// restart, among listen, tls, metrics.listen, redis, redis_alt,
	// log.format, presence_ttl, api.listen and api.tls, in that order.
	RestartRequired []string
	// Other names the other changed keys, among allowed_origins, websocket,
	// http, log.level, shutdown_timeout, authentication, api.keys and
	// api.max_body_bytes, in that order.
	Other []string
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.ServicesAdded) == 0 && len(c.ServicesRemoved) == 0 && len(c.ServicesChanged) == 0 &&
		len(c.RestartRequired) == 0 && len(c.Other) == 0
}

// Diff compares two configurations. Values that mean the same are equal:
// an empty list and no list, require_authentication absent and true. A nil
// Config counts as Default().
func Diff(prev, next *Config) Changes {
	if prev == nil {
		prev = Default()
	}
	if next == nil {
		next = Default()
	}
	var c Changes
	restart := func(key string, changed bool) {
		if changed {
			c.RestartRequired = append(c.RestartRequired, key)
		}
	}
	other := func(key string, changed bool) {
		if changed {
			c.Other = append(c.Other, key)
		}
	}
	restart("listen", prev.Listen != next.Listen)
	restart("tls", prev.TLS != next.TLS)
	restart("metrics.listen", prev.Metrics.Listen != next.Metrics.Listen)
	restart("redis", !prev.Redis.Equal(next.Redis))
	restart("redis_alt", !equalPtr(prev.RedisAlt, next.RedisAlt, func(a, b *Redis) bool { return a.Equal(*b) }))
	restart("log.format", prev.Log.Format != next.Log.Format)
	restart("presence_ttl", prev.PresenceTTL != next.PresenceTTL)
	restart("api.listen", prev.API.Listen != next.API.Listen)
	restart("api.tls", prev.API.TLS != next.API.TLS)

	other("allowed_origins", !slices.Equal(prev.AllowedOrigins, next.AllowedOrigins))
	other("websocket", prev.WebSocket != next.WebSocket)
	other("http", !equalHTTP(prev.HTTP, next.HTTP))
	other("log.level", prev.Log.Level != next.Log.Level)
	other("shutdown_timeout", prev.ShutdownTimeout != next.ShutdownTimeout)
	other("authentication", !equalPtr(prev.Authentication, next.Authentication, equalAuthentication))
	other("api.keys", !slices.Equal(prev.API.Keys, next.API.Keys))
	other("api.max_body_bytes", prev.API.MaxBodyBytes != next.API.MaxBodyBytes)

	for name, s := range next.Services {
		o, ok := prev.Services[name]
		switch {
		case !ok:
			c.ServicesAdded = append(c.ServicesAdded, name)
		case !equalService(o, s):
			c.ServicesChanged = append(c.ServicesChanged, name)
		}
	}
	for name := range prev.Services {
		if _, ok := next.Services[name]; !ok {
			c.ServicesRemoved = append(c.ServicesRemoved, name)
		}
	}
	slices.Sort(c.ServicesAdded)
	slices.Sort(c.ServicesRemoved)
	slices.Sort(c.ServicesChanged)
	return c
}

// equalPtr compares two optional values: both nil, or both set and equal.
func equalPtr[T any](a, b *T, equal func(a, b *T) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return equal(a, b)
}

// equalHTTP compares two http sections.
func equalHTTP(a, b HTTP) bool {
	if !slices.Equal(a.RateLimitResetHeaders, b.RateLimitResetHeaders) {
		return false
	}
	a.RateLimitResetHeaders, b.RateLimitResetHeaders = nil, nil
	return reflect.DeepEqual(a, b)
}

// equalAuthentication compares two authentication sections.
func equalAuthentication(a, b *Authentication) bool {
	return equalPtr(a.Ticket, b.Ticket, func(a, b *Ticket) bool {
		return a.ValidationURL == b.ValidationURL && slices.Equal(a.AuthFields, b.AuthFields)
	}) && equalPtr(a.Connect, b.Connect, func(a, b *Connect) bool {
		return a.URL == b.URL && a.IsRequired() == b.IsRequired() && slices.Equal(a.ForwardHeaders, b.ForwardHeaders) &&
			slices.Equal(a.AuthFields, b.AuthFields) && slices.Equal(a.TrustedProxies, b.TrustedProxies)
	}) && equalPtr(a.JWT, b.JWT, func(a, b *JWT) bool {
		return a.HMACSecretFile == b.HMACSecretFile && a.PublicKeyFile == b.PublicKeyFile && a.JWKSURL == b.JWKSURL &&
			a.Issuer == b.Issuer && a.Audience == b.Audience && slices.Equal(a.AuthFields, b.AuthFields)
	})
}

// equalService compares two services; nil has all defaults.
func equalService(a, b *Service) bool {
	if a == nil {
		a = &Service{}
	}
	if b == nil {
		b = &Service{}
	}
	if a.RequiresAuthentication() != b.RequiresAuthentication() ||
		!slices.Equal(a.AuthorizerFields, b.AuthorizerFields) ||
		!slices.Equal(a.ExtraFields, b.ExtraFields) ||
		!slices.Equal(a.FilterFields, b.FilterFields) ||
		!slices.Equal(a.PresenceFields, b.PresenceFields) {
		return false
	}
	x, y := *a, *b
	x.RequireAuthentication, y.RequireAuthentication = nil, nil
	x.AuthorizerFields, y.AuthorizerFields = nil, nil
	x.ExtraFields, y.ExtraFields = nil, nil
	x.FilterFields, y.FilterFields = nil, nil
	x.PresenceFields, y.PresenceFields = nil, nil
	return reflect.DeepEqual(x, y)
}
