package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults", args: nil},
		{name: "short run", args: []string{"-duration", "30s", "-pid", "1", "-metrics", "http://127.0.0.1:9100/metrics"}},
		{name: "ipv6 loopback", args: []string{"-url", "ws://[::1]:9000/", "-redis", "[::1]:6379"}},
		{name: "localhost", args: []string{"-url", "wss://localhost:9000/x", "-redis", "localhost:6379"}},
		{name: "remote router", args: []string{"-url", "ws://10.0.0.1:9000/"}, wantErr: "not on loopback"},
		{name: "remote redis", args: []string{"-redis", "example.com:6379"}, wantErr: "not on loopback"},
		{name: "remote metrics", args: []string{"-metrics", "http://example.com/metrics"}, wantErr: "not a loopback URL"},
		{name: "http url", args: []string{"-url", "http://127.0.0.1:9000/"}, wantErr: "ws:// or wss://"},
		{name: "zero duration", args: []string{"-duration", "0s"}, wantErr: "-duration"},
		{name: "stays reversed", args: []string{"-min-stay", "5s", "-max-stay", "1s"}, wantErr: "-min-stay"},
		{name: "no clients", args: []string{"-clients", "0"}, wantErr: "-clients"},
		{name: "no rate", args: []string{"-rate", "0"}, wantErr: "-rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseFlags(tt.args, io.Discard)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("parseFlags(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	t.Parallel()
	good := func() *results {
		r := &results{memLabel: "rss", baseGoroutines: 20, finalGoroutines: 22, goroutinesBack: true, baseMem: 16 << 10, finalMem: 20 << 10, memBack: true}
		r.sent.Store(100)
		r.delivered.Store(300)
		return r
	}
	tests := []struct {
		name   string
		change func(*results)
		want   string // "" for a passing run
	}{
		{name: "clean run", change: func(*results) {}},
		{name: "lost", change: func(r *results) { r.lost.Store(2) }, want: "2 lost"},
		{name: "duplicated", change: func(r *results) { r.dups.Store(1) }, want: "1 duplicated"},
		{name: "reordered", change: func(r *results) { r.reorders.Store(3) }, want: "3 reordered"},
		{name: "client error", change: func(r *results) { r.errors.Store(1); r.firstError = "dial: refused" }, want: "first error: dial: refused"},
		{name: "nothing delivered", change: func(r *results) { r.delivered.Store(0) }, want: "nothing delivered"},
		{name: "goroutines kept", change: func(r *results) { r.goroutinesBack = false; r.finalGoroutines = 900 }, want: "goroutines 900"},
		{name: "rss kept", change: func(r *results) { r.memBack = false }, want: "rss 20.0MiB did not return"},
		{name: "no probes", change: func(r *results) { r.baseGoroutines, r.goroutinesBack, r.baseMem, r.memBack = -1, false, 0, false }},
		{name: "late deliveries only inform", change: func(r *results) { r.late.Store(4) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := good()
			tt.change(r)
			got := strings.Join(r.problems(), "; ")
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Fatalf("problems() = %q, want %q", got, tt.want)
			}
			summary := r.summary()
			if ok := strings.HasSuffix(summary, "result=ok"); ok != (tt.want == "") {
				t.Fatalf("summary %q disagrees with problems %q", summary, got)
			}
		})
	}
}
