package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCallbackServer(t *testing.T) {
	t.Parallel()
	cs := &callbackServer{}
	srv := httptest.NewServer(cs)
	defer srv.Close()
	tests := []struct {
		name string
		path string
	}{
		{"authorizer", "/authorize"},
		{"heartbeat", "/heartbeat"},
		{"authorizer again", "/authorize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+tc.path, "application/json", strings.NewReader(`{"subscription":"bench.t0"}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != okAnswer {
				t.Errorf("answer %d %q, want 200 %q", resp.StatusCode, body, okAnswer)
			}
		})
	}
	if got, want := cs.counts(), "/authorize=2 /heartbeat=1"; got != want {
		t.Errorf("counts %q, want %q", got, want)
	}
}
