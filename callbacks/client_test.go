package callbacks

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCallAnswers(t *testing.T) {
	t.Parallel()
	ok := reply{body: `{"status":"ok"}`}
	big := `{"status":"ok","data":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	tests := []struct {
		name     string
		replies  []reply
		tries    int           // 0 means 3
		timeout  time.Duration // 0 means 2s
		status   string
		err      string
		data     string // "" means the key is absent
		fields   map[string]string
		requests int
	}{
		{
			name:     "ok with data and extra fields",
			replies:  []reply{{body: `{"status":"ok","data":{"a":[1,2]},"user_id":7,"name":"x"}`}},
			status:   "ok",
			data:     `{"a":[1,2]}`,
			fields:   map[string]string{"user_id": `7`, "name": `"x"`, "status": `"ok"`},
			requests: 1,
		},
		{
			name:     "ok with null data",
			replies:  []reply{{body: `{"status":"ok","data":null}`}},
			status:   "ok",
			data:     `null`,
			requests: 1,
		},
		{
			name:     "ok on 201",
			replies:  []reply{{status: 201, body: `{"status":"ok"}`}},
			status:   "ok",
			requests: 1,
		},
		{
			name:     "error with error text",
			replies:  []reply{{body: `{"status":"error","error":"Nope.","data":{"why":1}}`}},
			status:   "error",
			err:      "Nope.",
			data:     `{"why":1}`,
			requests: 1,
		},
		{
			name:     "error without error text",
			replies:  []reply{{body: `{"status":"error"}`}},
			status:   "error",
			requests: 1,
		},
		{
			name:     "error with non-string error",
			replies:  []reply{{body: `{"status":"error","error":5}`}},
			status:   "error",
			requests: 1,
		},
		{
			name:     "4xx with json error body is final",
			replies:  []reply{{status: 403, body: `{"error":"Forbidden.","data":{"x":1}}`}, ok},
			status:   "error",
			err:      "Forbidden.",
			data:     `{"x":1}`,
			requests: 1,
		},
		{
			name:     "4xx with ok status in body is still an error",
			replies:  []reply{{status: 400, body: `{"status":"ok","error":"Bad."}`}, ok},
			status:   "error",
			err:      "Bad.",
			requests: 1,
		},
		{
			name:     "4xx with html body is final",
			replies:  []reply{{status: 404, body: `<html>not found</html>`}, ok},
			status:   "error",
			requests: 1,
		},
		{
			name:     "4xx with json array body is final",
			replies:  []reply{{status: 422, body: `["Nope."]`}, ok},
			status:   "error",
			requests: 1,
		},
		{
			name:     "redirect is final and not followed",
			replies:  []reply{{status: 307, header: map[string]string{"Location": "/elsewhere"}}, ok},
			status:   "error",
			requests: 1,
		},
		{
			name:     "500 then ok",
			replies:  []reply{{status: 500, body: `{"status":"error","error":"Boom."}`}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "429 without header then ok",
			replies:  []reply{{status: 429}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "html 200 is a failed try",
			replies:  []reply{{body: `<html>hi</html>`}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "json array 200 is a failed try",
			replies:  []reply{{body: `[{"status":"ok"}]`}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "json null 200 is a failed try",
			replies:  []reply{{body: `null`}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "missing status is a failed try",
			replies:  []reply{{body: `{"data":1}`}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "unknown status is a failed try",
			replies:  []reply{{body: `{"status":"maybe"}`}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "non-string status is a failed try",
			replies:  []reply{{body: `{"status":true}`}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "body over the cap is a failed try",
			replies:  []reply{{body: big}, ok},
			status:   "ok",
			requests: 2,
		},
		{
			name:     "hang past timeout is a failed try",
			replies:  []reply{{hang: true}, ok},
			timeout:  100 * time.Millisecond,
			status:   "ok",
			requests: 2,
		},
		{
			name:     "body stalled past timeout is a failed try",
			replies:  []reply{{stall: true}, ok},
			timeout:  100 * time.Millisecond,
			status:   "ok",
			requests: 2,
		},
		{
			name:     "tries exhausted",
			replies:  []reply{{status: 503}},
			status:   "error",
			err:      UnavailableError,
			requests: 3,
		},
		{
			name:     "one try only",
			replies:  []reply{{status: 502}, ok},
			tries:    1,
			status:   "error",
			err:      UnavailableError,
			requests: 1,
		},
		{
			name:     "tries exhausted by timeouts",
			replies:  []reply{{hang: true}},
			timeout:  50 * time.Millisecond,
			tries:    2,
			status:   "error",
			err:      UnavailableError,
			requests: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{replies: tt.replies}
			srv := serve(t, s)
			o := testOptions()
			if tt.tries > 0 {
				o.Tries = tt.tries
			}
			if tt.timeout > 0 {
				o.Timeout = tt.timeout
			}
			c := newClient(t, o)

			a := c.Call(context.Background(), "test", srv.URL, map[string]any{"subscription": "s.t"})

			if a.Status != tt.status || a.Error != tt.err {
				t.Errorf("answer = %q %q, want %q %q", a.Status, a.Error, tt.status, tt.err)
			}
			switch {
			case tt.data == "" && a.Data != nil:
				t.Errorf("data = %s, want absent", a.Data)
			case tt.data != "" && string(a.Data) != tt.data:
				t.Errorf("data = %s, want %s", a.Data, tt.data)
			}
			for k, want := range tt.fields {
				if got := string(a.Fields[k]); got != want {
					t.Errorf("fields[%q] = %s, want %s", k, got, want)
				}
			}
			if got := s.requests(); got != tt.requests {
				t.Errorf("requests = %d, want %d", got, tt.requests)
			}
			if a.OK() != (tt.status == "ok") {
				t.Errorf("OK() = %v for status %q", a.OK(), a.Status)
			}
			if a.Unavailable() != (tt.err == UnavailableError) {
				t.Errorf("Unavailable() = %v for error %q", a.Unavailable(), a.Error)
			}
		})
	}
}

func TestCallSendsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body any
		want string
	}{
		{"map", map[string]any{"subscription": "books.b1", "user_id": 7, "data": nil}, `{"data":null,"subscription":"books.b1","user_id":7}`},
		{"raw message", json.RawMessage(`{"ticket":"T"}`), `{"ticket":"T"}`},
		{"struct", struct {
			Ticket string `json:"ticket"`
		}{"abc"}, `{"ticket":"abc"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &script{replies: []reply{{status: 500}, {body: `{"status":"ok"}`}}}
			srv := serve(t, s)
			c := newClient(t, testOptions())

			if a := c.Call(context.Background(), "test", srv.URL, tt.body); !a.OK() {
				t.Fatalf("answer = %+v, want ok", a)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			for i := range s.bodies { // the retried try sends the same body
				if want := "POST " + tt.want; s.bodies[i] != want {
					t.Errorf("try %d received %q, want %q", i+1, s.bodies[i], want)
				}
				if s.ctypes[i] != "application/json" {
					t.Errorf("try %d Content-Type = %q, want application/json", i+1, s.ctypes[i])
				}
			}
		})
	}
}

func TestCallUnencodableBody(t *testing.T) {
	t.Parallel()
	s := &script{replies: []reply{{body: `{"status":"ok"}`}}}
	srv := serve(t, s)
	c := newClient(t, testOptions())

	a := c.Call(context.Background(), "test", srv.URL, map[string]any{"f": func() {}})

	if a.Status != "error" || a.Error != "" {
		t.Errorf("answer = %+v, want error without text", a)
	}
	if n := s.requests(); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestCallObserve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reply  reply
		result string
	}{
		{"ok", reply{body: `{"status":"ok"}`}, "ok"},
		{"error answer", reply{body: `{"status":"error"}`}, "error"},
		{"final 4xx", reply{status: 404}, "error"},
		{"unavailable", reply{status: 503}, "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, &script{replies: []reply{tt.reply}})
			type observation struct {
				service, callback, result string
				d                         time.Duration
			}
			var seen []observation
			o := testOptions()
			o.Observe = func(service, callback, result string, d time.Duration) {
				seen = append(seen, observation{service, callback, result, d})
			}
			c := newClient(t, o)

			c.CallService(context.Background(), "books", "before_subscribe", srv.URL, nil)

			if len(seen) != 1 {
				t.Fatalf("Observe called %d times, want 1", len(seen))
			}
			if seen[0].service != "books" || seen[0].callback != "before_subscribe" || seen[0].result != tt.result || seen[0].d <= 0 {
				t.Errorf("Observe got %+v, want books' before_subscribe %s and a duration", seen[0], tt.result)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Options)
		want   string
	}{
		{"zero timeout", func(o *Options) { o.Timeout = 0 }, "callbacks: timeout must be positive, got 0s"},
		{"zero tries", func(o *Options) { o.Tries = 0 }, "callbacks: tries must be at least 1, got 0"},
		{"negative wait", func(o *Options) { o.Wait = -time.Second }, "callbacks: wait must not be negative, got -1s"},
		{"negative concurrency", func(o *Options) { o.MaxConcurrency = -1 }, "callbacks: max_concurrency must not be negative, got -1"},
		{"missing ca file", func(o *Options) { o.CAFile = "/nonexistent/ca.pem" }, "callbacks: reading ca_file: open /nonexistent/ca.pem: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			tt.modify(&o)
			c, err := New(o)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New error = %v, want %q", err, tt.want)
			}
			if c != nil {
				t.Errorf("New returned a client with an error")
			}
		})
	}
}
