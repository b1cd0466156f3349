package wstest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// post sends body to url and returns the status, the body and the
// Content-Type of the answer.
func post(ctx context.Context, url, body string) (int, string, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header, err
}

func TestServiceAnswers(t *testing.T) {
	t.Parallel()
	s := NewService(t)
	s.Answer("/text", http.StatusTeapot, `{"status":"error","error":"No."}`)
	s.Answer("/value", http.StatusOK, map[string]any{"status": "ok", "data": []int{1}})
	s.On("/echo", func(body map[string]any) (int, any) {
		return http.StatusOK, map[string]any{"status": "ok", "data": body["x"]}
	})
	s.SetHeader("X-Test", "yes")
	tests := []struct {
		path, body string
		status     int
		want       string
	}{
		{"/unscripted", `{}`, http.StatusOK, `{"status":"ok"}`},
		{"/text", `{}`, http.StatusTeapot, `{"status":"error","error":"No."}`},
		{"/value", `{}`, http.StatusOK, `{"status":"ok","data":[1]}`},
		{"/echo", `{"x":{"y":2}}`, http.StatusOK, `{"status":"ok","data":{"y":2}}`},
		{"/echo", `not JSON`, http.StatusOK, `{"status":"ok","data":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, body, header, err := post(t.Context(), s.URL(tt.path), tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.status || !SameJSON(raw(body), raw(tt.want)) {
				t.Errorf("answer %d %s, want %d %s", status, body, tt.status, tt.want)
			}
			if header.Get("X-Test") != "yes" || header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", header)
			}
		})
	}
	if got := strings.Join(s.Paths(), " "); got != "/unscripted /text /value /echo /echo" {
		t.Errorf("Paths = %s", got)
	}
	calls := s.Calls("/echo")
	if len(calls) != 2 || calls[0].Path != "/echo" || calls[0].Raw != `{"x":{"y":2}}` ||
		!SameJSON(calls[0].Body, raw(`{"x":{"y":2}}`)) || calls[1].Body != nil || calls[1].Raw != "not JSON" {
		t.Errorf("Calls(/echo) = %+v", calls)
	}
}

func TestServiceHangAndBlock(t *testing.T) {
	t.Parallel()
	s := NewService(t)
	s.Hang("/hang")
	release := s.Block("/block")

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, _, _, err := post(ctx, s.URL("/hang"), `{}`); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hanging path answered: %v", err)
	}

	answered := make(chan int)
	go func() {
		status, _, _, _ := post(context.Background(), s.URL("/block"), `{}`)
		answered <- status
	}()
	if calls := s.WaitCalls("/block", 1, 10*time.Second); len(calls) != 1 {
		t.Fatalf("WaitCalls = %v", calls)
	}
	select {
	case status := <-answered:
		t.Fatalf("a blocked path answered %d before release", status)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	release() // harmless
	if status := <-answered; status != http.StatusOK {
		t.Errorf("released answer %d", status)
	}
}

func TestServiceWaitCallsTimesOut(t *testing.T) {
	t.Parallel()
	s := NewService(t)
	r := &recorder{TB: t}
	s.t = r
	if msg := r.failure(func() { s.WaitCalls("/never", 1, 20*time.Millisecond) }); !strings.Contains(msg, "/never had 0 calls") {
		t.Errorf("WaitCalls failed with %q", msg)
	}
}

func TestServiceOpenConns(t *testing.T) {
	t.Parallel()
	s := NewService(t)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Post(s.URL("/"), "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if n := s.OpenConns(); n != 1 {
		t.Errorf("OpenConns with a kept-alive connection = %d, want 1", n)
	}
	tr.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for s.OpenConns() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("OpenConns = %d after the client closed its connections", s.OpenConns())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
