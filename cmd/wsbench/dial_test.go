package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestSourceAddrs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string
		clients int
		n       int
		want    []string
		wantErr bool
	}{
		{name: "few clients: the kernel chooses", url: "ws://127.0.0.1:9000/", clients: 20000},
		{name: "auto: one per 20,000", url: "ws://127.0.0.1:9000/", clients: 100000,
			want: []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"}},
		{name: "auto rounds up", url: "ws://127.0.0.1:9000/", clients: 20001, want: []string{"127.0.0.2", "127.0.0.3"}},
		{name: "auto leaves a named host alone", url: "ws://localhost:9000/", clients: 100000},
		{name: "explicit", url: "ws://127.0.0.1:9000/", clients: 10, n: 1, want: []string{"127.0.0.2"}},
		{name: "explicit needs IPv4 loopback", url: "ws://[::1]:9000/", clients: 10, n: 2, wantErr: true},
		{name: "too many", url: "ws://127.0.0.1:9000/", clients: 10, n: 251, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := sourceAddrs(tc.url, tc.clients, tc.n)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			var s []string
			for _, ip := range got {
				s = append(s, ip.String())
			}
			if strings.Join(s, ",") != strings.Join(tc.want, ",") {
				t.Errorf("addresses = %v, want %v", s, tc.want)
			}
		})
	}
}

// TestDialOptionsSpreadAndCount dials a loopback server through two source
// addresses and checks that the server sees both and that the bytes read
// are counted.
func TestDialOptionsSpreadAndCount(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		mu.Lock()
		seen[host] = true
		mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_ = c.Write(r.Context(), websocket.MessageText, []byte(strings.Repeat("x", 1000)))
		_, _, _ = c.Read(r.Context())
	}))
	defer srv.Close()
	addrs, err := sourceAddrs("ws://127.0.0.1:1/", 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wire atomic.Int64
	opts := dialOptions(addrs, websocket.CompressionDisabled, &wire)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 4 {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), opts[i%len(opts)])
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if _, b, err := c.Read(ctx); err != nil || len(b) != 1000 {
			t.Fatalf("read %d: %d bytes, %v", i, len(b), err)
		}
		c.CloseNow()
	}
	mu.Lock()
	defer mu.Unlock()
	if !seen["127.0.0.2"] || !seen["127.0.0.3"] || len(seen) != 2 {
		t.Errorf("server saw clients from %v, want 127.0.0.2 and 127.0.0.3", seen)
	}
	if n := wire.Load(); n < 4*1000 {
		t.Errorf("counted %d bytes read, want at least the 4000 of the messages", n)
	}
}

func TestParseOpenFiles(t *testing.T) {
	for _, tc := range []struct {
		name, limits string
		want         uint64
		ok           bool
	}{
		{"limited", "Max processes 10 10 processes\nMax open files            20000                20000                files     \n", 20000, true},
		{"unlimited", "Max open files unlimited unlimited files\n", 0, false},
		{"missing", "Max processes 10 10 processes\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseOpenFiles([]byte(tc.limits))
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseOpenFiles = %d, %v; want %d, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestFileLimitAdvice(t *testing.T) {
	err := raiseFileLimit(1 << 40)
	if err == nil {
		t.Fatal("raiseFileLimit accepted 2^40 clients")
	}
	for _, want := range []string{"ulimit -Hn", "LimitNOFILE=", "fs.nr_open"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
