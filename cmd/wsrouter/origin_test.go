package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestAllowedOrigins checks the upgrade's Origin against allowed_origins:
// 403 for a browser origin not allowed, 101 otherwise.
func TestAllowedOrigins(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	const same = "SAME" // replaced by http://LISTEN
	tests := []struct {
		name    string
		allowed []string
		origins map[string]int // Origin header ("" = none) -> HTTP status
	}{
		{name: "same host only", allowed: []string{}, origins: map[string]int{
			"":                    http.StatusSwitchingProtocols,
			same:                  http.StatusSwitchingProtocols,
			"http://evil.example": http.StatusForbidden,
			"http://127.0.0.1:1":  http.StatusForbidden,
			"null":                http.StatusForbidden,
		}},
		{name: "host pattern", allowed: []string{"*.example.com"}, origins: map[string]int{
			"":                                http.StatusSwitchingProtocols,
			"https://app.example.com":         http.StatusSwitchingProtocols,
			"http://a.b.example.com:8080":     http.StatusSwitchingProtocols,
			"https://example.com":             http.StatusForbidden,
			"https://evilexample.com":         http.StatusForbidden,
			"https://app.example.com.evil.io": http.StatusForbidden,
			same:                              http.StatusForbidden,
		}},
		{name: "full origin", allowed: []string{"https://app.example.com"}, origins: map[string]int{
			"":                             http.StatusSwitchingProtocols,
			"https://app.example.com":      http.StatusSwitchingProtocols,
			"http://app.example.com":       http.StatusForbidden,
			"https://app.example.com:8443": http.StatusForbidden,
			"https://other.example.com":    http.StatusForbidden,
		}},
		{name: "any", allowed: []string{"*"}, origins: map[string]int{
			"http://evil.example": http.StatusSwitchingProtocols,
			same:                  http.StatusSwitchingProtocols,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig(t, rs.URL())
			cfg["allowed_origins"] = tc.allowed
			p := startRouter(t, cfg)
			for origin, want := range tc.origins {
				header := http.Header{}
				if origin == same {
					origin = "http://" + p.ws
				}
				if origin != "" {
					header.Set("Origin", origin)
				}
				if got := wstest.DialStatus(p.url(), header); got != want {
					t.Errorf("Origin %q: HTTP %d, want %d", origin, got, want)
				}
			}
			if !strings.Contains(p.logs.text(), "origin not allowed") && hasForbidden(tc.origins) {
				t.Error("refused upgrades are not logged")
			}
		})
	}
}

func hasForbidden(origins map[string]int) bool {
	for _, code := range origins {
		if code == http.StatusForbidden {
			return true
		}
	}
	return false
}

// TestUpgradeHeaderBound: an upgrade whose headers fit in
// maxUpgradeHeaderBytes is taken; one with a larger cookie gets 431
// before the router, and so its connect check, sees it.
func TestUpgradeHeaderBound(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	p := startRouter(t, baseConfig(t, rs.URL()))
	for _, tc := range []struct {
		cookie int
		want   int
	}{
		{maxUpgradeHeaderBytes - 4096, http.StatusSwitchingProtocols},
		{maxUpgradeHeaderBytes + 8192, http.StatusRequestHeaderFieldsTooLarge},
	} {
		header := http.Header{"Cookie": {"s=" + strings.Repeat("c", tc.cookie)}}
		if got := wstest.DialStatus(p.url(), header); got != tc.want {
			t.Errorf("cookie of %d bytes: HTTP %d, want %d", tc.cookie, got, tc.want)
		}
	}
}
