package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestAPIPublisherSendsPublishAndBatch(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer k" || !json.Valid(body) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, r.URL.Path+" "+string(body))
		mu.Unlock()
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	p := publisher{service: "bench", topics: 2, messages: 5, payload: 10, api: newAPIPublisher(srv.URL, "k", 2)}
	defer p.api.close()
	if _, _, err := p.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !strings.HasPrefix(got[0], `/api/publish_batch {"messages":[{"subscription":"bench.t0"`) ||
		!strings.HasPrefix(got[2], `/api/publish {"subscription":"bench.t0","data":{"seq":4`) {
		t.Errorf("requests:\n%s", strings.Join(got, "\n"))
	}

	got = nil
	p.api.batch, p.rate = 1, 1000
	if _, _, err := p.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || !strings.HasPrefix(got[1], `/api/publish {"subscription":"bench.t1","data":{"seq":1`) {
		t.Errorf("paced requests:\n%s", strings.Join(got, "\n"))
	}

	p.api.key = "wrong"
	if _, _, err := p.run(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong key: err = %v, want the 401", err)
	}
}

func TestAPIFlags(t *testing.T) {
	t.Setenv("WSBENCH_API_KEY", "")
	if _, err := parseFlags([]string{"-api", "http://127.0.0.1:9200"}, io.Discard); err == nil || !strings.Contains(err.Error(), "WSBENCH_API_KEY") {
		t.Errorf("-api without a key: %v", err)
	}
	t.Setenv("WSBENCH_API_KEY", "k")
	for _, args := range [][]string{{"-api", "ftp://x"}, {"-api", "http://127.0.0.1:1", "-api-batch", "0"}, {"-api-batch", "1001"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	c, err := parseFlags([]string{"-api", "http://127.0.0.1:9200", "-api-batch", "100"}, io.Discard)
	if err != nil || c.apiKey != "k" || c.apiBatch != 100 {
		t.Errorf("parseFlags = %+v, %v", c, err)
	}
}
