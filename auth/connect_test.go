package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wsrouter/wsrouter/callbacks"
)

func TestRemoteIP(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8", "192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, xff string
		trusted         []netip.Prefix
		want            string
	}{
		{"no proxies: the header is ignored", "203.0.113.9:5000", "1.2.3.4", nil, "203.0.113.9"},
		{"untrusted peer: the header is ignored", "203.0.113.9:5000", "1.2.3.4", trusted, "203.0.113.9"},
		{"trusted peer", "10.1.2.3:5000", "1.2.3.4", trusted, "1.2.3.4"},
		{"client-written hops left of the real one", "10.1.2.3:5000", "6.6.6.6, 1.2.3.4", trusted, "1.2.3.4"},
		{"two trusted proxies", "10.1.2.3:5000", "1.2.3.4, 192.168.1.1", trusted, "1.2.3.4"},
		{"only trusted hops", "10.1.2.3:5000", "10.9.9.9", trusted, "10.9.9.9"},
		{"no header", "10.1.2.3:5000", "", trusted, "10.1.2.3"},
		{"unreadable hop", "10.1.2.3:5000", "1.2.3.4, junk", trusted, "10.1.2.3"},
		{"ipv6 peer", "[2001:db8::1]:5000", "", nil, "2001:db8::1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/ws", nil)
			req.RemoteAddr = tc.peer
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := RemoteIP(req, tc.trusted); got != tc.want {
				t.Errorf("RemoteIP = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ParseTrustedProxy("10.0.0.0/33"); err == nil {
		t.Error("bad prefix accepted")
	}
	if _, err := ParseTrustedProxy("proxy.local"); err == nil {
		t.Error("host name accepted")
	}
}

type fakeCaller struct {
	body any
	ans  *callbacks.Answer
}

func (f *fakeCaller) Call(_ context.Context, name, _ string, body any) *callbacks.Answer {
	f.body = body
	return f.ans
}

func TestConnect(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodGet, "/ws?room=a&room=b&x=1", nil)
	req.RemoteAddr = "203.0.113.9:5000"
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "b=2")
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("X-Other", "no")
	o := ConnectOptions{URL: "http://app/connect", ForwardHeaders: []string{"Cookie", "Authorization", "X-Absent"}, AuthFields: []string{"user_id"}}
	f := &fakeCaller{ans: &callbacks.Answer{Status: "ok", Fields: map[string]json.RawMessage{
		"status": json.RawMessage(`"ok"`), "user_id": json.RawMessage(`7`), "x": json.RawMessage(`1`),
		"allowed_subscriptions": json.RawMessage(`["chat.*"]`),
	}}}
	id, out, _ := Connect(context.Background(), f, o, req)
	if out != Accepted || string(id.Fields["user_id"]) != "7" || len(id.Fields) != 1 || len(id.Allowed) != 1 {
		t.Fatalf("connect = %+v, %v", id, out)
	}
	got, _ := json.Marshal(f.body)
	want := `{"headers":{"Authorization":"Bearer t","Cookie":"a=1; b=2"},"remote_addr":"203.0.113.9","query":{"room":"a","x":"1"}}`
	if string(got) != want {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
	f.ans = &callbacks.Answer{Status: "error", Error: "Nope."}
	if _, out, text := Connect(context.Background(), f, o, req); out != Refused || text != "Nope." {
		t.Errorf("refused = %v %q", out, text)
	}
	f.ans = &callbacks.Answer{Status: "error", Error: callbacks.UnavailableError}
	if _, out, _ := Connect(context.Background(), f, o, req); out != Unavailable {
		t.Errorf("unavailable = %v", out)
	}
}

func TestParseAllowed(t *testing.T) {
	t.Parallel()
	cases := map[string]int{``: 0, `null`: 0, `"chat.*"`: 0, `{}`: 0, `[]`: 0, `["a","b"]`: 2, `["a",1,null,"b"]`: 2}
	for in, want := range cases {
		if got, dropped := ParseAllowed(json.RawMessage(in)); len(got) != want || dropped != 0 {
			t.Errorf("ParseAllowed(%s) = %q, %d dropped, want %d", in, got, dropped, want)
		}
	}
}

// TestParseAllowedBounds: past MaxAllowed patterns, and patterns longer
// than MaxPatternBytes, are left out and counted.
func TestParseAllowedBounds(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxPatternBytes)
	cases := []struct {
		name          string
		items         []string
		kept, dropped int
	}{
		{"longest pattern kept", []string{long}, 1, 0},
		{"longer pattern dropped", []string{long + "x", "a"}, 1, 1},
		{"most patterns kept", slices.Repeat([]string{"a"}, MaxAllowed), MaxAllowed, 0},
		{"patterns past the most dropped", slices.Repeat([]string{"a"}, MaxAllowed+5), MaxAllowed, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw, err := json.Marshal(tc.items)
			if err != nil {
				t.Fatal(err)
			}
			got, dropped := ParseAllowed(raw)
			if len(got) != tc.kept || dropped != tc.dropped {
				t.Fatalf("kept %d, dropped %d; want %d, %d", len(got), dropped, tc.kept, tc.dropped)
			}
		})
	}
}
