package callbacks

import (
	"net/url"
	"strings"
)

// Redact returns url with any user:password removed, for logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err == nil {
		u.User = nil
		return u.String()
	}
	// Unparsable: cut whatever sits between the scheme and an '@' in the
	// authority, so a password never reaches a log line.
	rest, scheme := rawURL, ""
	if i := strings.Index(rawURL, "://"); i >= 0 {
		scheme, rest = rawURL[:i+3], rawURL[i+3:]
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + rest
}
