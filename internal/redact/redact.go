// Package redact removes credentials from URLs before they reach a log
// line or a message: one function, used by the configuration checks and
// the callback client alike, that never returns a password it was given,
// even in a URL that does not parse.
package redact

import (
	"net/url"
	"strings"
)

// URL returns raw with any user:password removed, for logs and messages.
//
// A URL that parses and names a user loses its user info. One that does
// not parse, or parses without a user but holds an '@' that could end a
// user info whose password has a '/', '?' or '#' in it, loses everything
// between "scheme://" and its last '@': a password must never show, so an
// '@' in a path or query may cost some of the URL. Without an '@', a URL
// is returned as it is.
func URL(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	scheme, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	if err == nil && !ambiguous(rest) {
		return raw // an '@' in the path or query of a URL without user info
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + rest
}

// ambiguous reports whether the part of a parsed URL after "scheme://"
// could hold a user info whose password has a '/', '?' or '#': a ':'
// comes before its last '@'.
func ambiguous(rest string) bool {
	at := strings.LastIndex(rest, "@")
	return at >= 0 && strings.Contains(rest[:at], ":")
}
