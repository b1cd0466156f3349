package router

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// originAllowed applies allowed_origins to a browser's Origin header.
// Requests without one (not a browser) are always allowed; an empty list
// allows the request's own host only; "*" allows any origin; an entry with
// a scheme is a full origin; anything else is a host pattern matched
// against the origin's host (with port, or without when the pattern has none).
func originAllowed(req *http.Request, allowed []string) bool {
	origin := req.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if len(allowed) == 0 {
		return strings.EqualFold(u.Host, req.Host)
	}
	for _, a := range allowed {
		if a == "*" {
			return true
		}
		if strings.Contains(a, "://") {
			if strings.EqualFold(strings.TrimRight(a, "/"), u.Scheme+"://"+u.Host) {
				return true
			}
			continue
		}
		pattern := strings.ToLower(a)
		host := strings.ToLower(u.Host)
		if !strings.Contains(pattern, ":") {
			host = strings.ToLower(u.Hostname())
		}
		if ok, _ := path.Match(pattern, host); ok {
			return true
		}
	}
	return false
}
