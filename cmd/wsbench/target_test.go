package main

import (
	"context"
	"errors"
	"net"
	"testing"
)

func fakeLookup(table map[string][]string) lookupFunc {
	return func(_ context.Context, host string) ([]net.IPAddr, error) {
		ips, ok := table[host]
		if !ok {
			return nil, errors.New("no such host")
		}
		var out []net.IPAddr
		for _, s := range ips {
			out = append(out, net.IPAddr{IP: net.ParseIP(s)})
		}
		return out, nil
	}
}

func TestCheckTargets(t *testing.T) {
	t.Parallel()
	lookup := fakeLookup(map[string][]string{
		"localhost": {"127.0.0.1", "::1"},
		"mixed":     {"127.0.0.1", "10.1.2.3"},
		"remote":    {"192.0.2.7"},
		"empty":     {},
	})
	tests := []struct {
		name    string
		url     string
		redis   string
		wantErr bool
	}{
		{"ipv4 loopback", "ws://127.0.0.1:9000/", "127.0.0.1:6379", false},
		{"other 127 address", "ws://127.0.0.2:9000/", "127.0.0.1:6379", false},
		{"ipv6 loopback", "ws://[::1]:9000/", "[::1]:6379", false},
		{"name resolving to loopback", "wss://localhost:9000/x", "localhost:6379", false},
		{"remote ws ip", "ws://10.0.0.1:9000/", "127.0.0.1:6379", true},
		{"remote redis ip", "ws://127.0.0.1:9000/", "192.0.2.1:6379", true},
		{"name with one remote address", "ws://mixed:9000/", "127.0.0.1:6379", true},
		{"remote redis name", "ws://127.0.0.1:9000/", "remote:6379", true},
		{"unresolvable", "ws://nowhere:9000/", "127.0.0.1:6379", true},
		{"resolves to nothing", "ws://empty:9000/", "127.0.0.1:6379", true},
		{"unspecified address", "ws://0.0.0.0:9000/", "127.0.0.1:6379", true},
		{"http scheme", "http://127.0.0.1:9000/", "127.0.0.1:6379", true},
		{"no host", "ws:///x", "127.0.0.1:6379", true},
		{"redis without port", "ws://127.0.0.1:9000/", "127.0.0.1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkTargets(context.Background(), tc.url, tc.redis, lookup)
			if (err != nil) != tc.wantErr {
				t.Errorf("checkTargets(%q, %q) = %v, wantErr %v", tc.url, tc.redis, err, tc.wantErr)
			}
		})
	}
}
