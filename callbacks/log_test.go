package callbacks

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestCallLogs(t *testing.T) {
	t.Parallel()
	const ticket = "TICKET-7c1f"
	tests := []struct {
		name  string
		reply reply
		want  []string // "LEVEL message" per line, in order
	}{
		{"unavailable", reply{status: 503}, []string{
			"DEBUG callback try failed", "DEBUG callback try failed", "WARN callback service unavailable",
		}},
		{"final 4xx", reply{status: 403, body: `{"error":"Denied."}`}, []string{
			"DEBUG callback answered with a final status",
		}},
		{"ok", reply{body: `{"status":"ok","data":{"ticket":"` + ticket + `"}}`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, &script{replies: []reply{tt.reply}})
			var buf bytes.Buffer
			o := testOptions()
			o.Tries = 2
			o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := newClient(t, o)
			url := strings.Replace(srv.URL, "http://", "http://alice:pw-9d2e@", 1)

			c.Call(context.Background(), "ticket", url, map[string]string{"ticket": ticket})

			out := buf.String()
			if strings.Contains(out, ticket) || strings.Contains(out, "pw-9d2e") || strings.Contains(out, "alice") {
				t.Errorf("log leaks the body or credentials:\n%s", out)
			}
			var got []string
			for line := range strings.Lines(out) {
				var rec struct {
					Level, Msg, Callback, URL string
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if rec.Callback != "ticket" || rec.URL != srv.URL {
					t.Errorf("log line %q lacks callback=ticket url=%s", line, srv.URL)
				}
				got = append(got, rec.Level+" "+rec.Msg)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("log lines = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWithLogAttrsTagsEveryLine(t *testing.T) {
	t.Parallel()
	srv := serve(t, &script{replies: []reply{{status: 503}}})
	var buf bytes.Buffer
	o := testOptions()
	o.Tries = 2
	o.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, o)
	ctx := WithLogAttrs(context.Background(), "session", "s-1")
	if a := c.Call(ctx, "authorizer", srv.URL, map[string]string{}); !a.Unavailable() {
		t.Fatalf("answer = %+v", a)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a line per failed try and one for the call, got %q", lines)
	}
	for _, l := range lines {
		if !strings.Contains(l, `"session":"s-1"`) {
			t.Errorf("line without the session: %s", l)
		}
	}
}
