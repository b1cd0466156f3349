package router

import (
	"testing"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/services"
)

func ticketConfig(t *testing.T, svc *wstest.Service) *services.Config {
	cfg := testConfig(t)
	cfg.Authentication = &services.Authentication{Ticket: &services.Ticket{
		ValidationURL: svc.URL("/ticket"),
		AuthFields:    []string{"user_id", "session_id"},
	}}
	return cfg
}

func TestAuth(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/ticket", func(body map[string]any) (int, any) {
		switch body["ticket"] {
		case "good":
			return 200, `{"status":"ok","user_id":7,"other":"x"}`
		case "denied":
			return 200, `{"status":"error","error":"Ticket expired."}`
		case "bare":
			return 200, `{"status":"error"}`
		case "down":
			return 503, `oops`
		case "with-data":
			return 200, `{"status":"ok","user_id":8,"data":{"z":1}}`
		case "denied-with-data":
			return 200, `{"status":"error","error":"No.","data":{"x":1}}`
		}
		return 200, `{"status":"ok"}`
	})
	h := newHarness(t, ticketConfig(t, svc))
	unsupported := `{"event":"auth","status":"error","error":"Authentication method unsupported."}`
	missing := `{"event":"auth","status":"error","error":"Must specify ticket."}`
	cases := []struct{ name, send, want string }{
		{"ok, method defaults to ticket", `{"event":"auth","ticket":"good"}`, `{"event":"auth","status":"ok"}`},
		{"ok, method ticket", `{"event":"auth","method":"ticket","ticket":"good"}`, `{"event":"auth","status":"ok"}`},
		{"empty method", `{"event":"auth","method":"","ticket":"good"}`, unsupported},
		{"null method", `{"event":"auth","method":null,"ticket":"good"}`, unsupported},
		{"ok answer's data is not passed on", `{"event":"auth","ticket":"with-data"}`, `{"event":"auth","status":"ok"}`},
		{"error answer's data is not passed on", `{"event":"auth","ticket":"denied-with-data"}`, `{"event":"auth","status":"error","error":"No."}`},
		{"other method", `{"event":"auth","method":"password","ticket":"good"}`, unsupported},
		{"method not a string", `{"event":"auth","method":1,"ticket":"good"}`, unsupported},
		{"no ticket", `{"event":"auth"}`, missing},
		{"empty ticket", `{"event":"auth","ticket":""}`, missing},
		{"ticket not a string", `{"event":"auth","ticket":5}`, missing},
		{"service error text", `{"event":"auth","ticket":"denied"}`, `{"event":"auth","status":"error","error":"Ticket expired."}`},
		{"service error without text", `{"event":"auth","ticket":"bare"}`, `{"event":"auth","status":"error","error":"Authentication failed."}`},
		{"service down", `{"event":"auth","ticket":"down"}`, `{"event":"auth","status":"error","error":"Service unavailable."}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := h.dial()
			c.Send(tc.send)
			c.Expect(tc.want)
		})
	}
}

func TestAuthWithoutAuthenticationConfigured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testConfig(t))
	c := h.dial()
	c.Send(`{"event":"auth","ticket":"good"}`)
	c.Expect(`{"event":"auth","status":"error","error":"Authentication method unsupported."}`)
}

// TestReauthKeepsFieldsOnFailure: a failed second auth keeps the fields of
// the first; a successful one replaces them. The fields are observed in
// the authorizer's request body.
func TestReauthKeepsFieldsOnFailure(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	svc.On("/ticket", func(body map[string]any) (int, any) {
		switch body["ticket"] {
		case "u1":
			return 200, `{"status":"ok","user_id":1,"session_id":"s1"}`
		case "u2":
			return 200, `{"status":"ok","user_id":2}`
		}
		return 200, `{"status":"error","error":"Bad ticket."}`
	})
	cfg := ticketConfig(t, svc)
	cfg.Services["books"] = &services.Service{Authorizer: svc.URL("/authorize")}
	h := newHarness(t, cfg)
	c := h.dial()
	c.Send(`{"event":"subscribe","subscription":"books.a"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.a","status":"error","error":"Authentication required."}`)
	c.Send(`{"event":"auth","ticket":"u1"}`)
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Send(`{"event":"auth","ticket":"nope"}`)
	c.Expect(`{"event":"auth","status":"error","error":"Bad ticket."}`)
	c.Send(`{"event":"subscribe","subscription":"books.a"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.a","status":"ok"}`)
	c.Send(`{"event":"auth","ticket":"u2"}`)
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"books.b"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.b","status":"ok"}`)
	calls := svc.Calls("/authorize")
	if len(calls) != 2 {
		t.Fatalf("authorizer calls = %d, want 2", len(calls))
	}
	if want := `{"session_id":"s1","subscription":"books.a","user_id":1}`; !control.JSONEqual([]byte(calls[0].Raw), []byte(want)) {
		t.Errorf("first body = %s, want %s", calls[0].Raw, want)
	}
	if want := `{"subscription":"books.b","user_id":2}`; !control.JSONEqual([]byte(calls[1].Raw), []byte(want)) {
		t.Errorf("second body = %s, want %s", calls[1].Raw, want)
	}
}

// TestAuthEmptyFieldsStillAuthenticates: an ok answer without any auth
// field still authenticates the session.
func TestAuthEmptyFieldsStillAuthenticates(t *testing.T) {
	t.Parallel()
	svc := wstest.NewService(t)
	h := newHarness(t, func() *services.Config {
		cfg := ticketConfig(t, svc)
		cfg.Services["books"] = &services.Service{}
		return cfg
	}())
	c := h.dial()
	c.Send(`{"event":"auth","ticket":"x"}`)
	c.Expect(`{"event":"auth","status":"ok"}`)
	c.Send(`{"event":"subscribe","subscription":"books.a"}`)
	c.Expect(`{"event":"subscribe","subscription":"books.a","status":"ok"}`)
	if got := svc.Calls("/ticket"); len(got) != 1 || got[0].Raw != `{"ticket":"x"}` {
		t.Fatalf("ticket calls = %+v", got)
	}
}
