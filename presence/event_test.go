package presence

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	payload := encodeEvent(Leave, `chat."1"`, `{"user_id":1}`, "n1", 7)
	if want := `{"event":"leave","subscription":"chat.\"1\"","member":{"user_id":1},"node":"n1","seq":7}`; string(payload) != want {
		t.Fatalf("payload = %s, want %s", payload, want)
	}
	e, ok := ParseEvent(payload)
	if !ok || e.Kind != Leave || e.Name != `chat."1"` || string(e.Member) != `{"user_id":1}` || e.Node != "n1" || e.Seq != 7 {
		t.Fatalf("ParseEvent = %+v, %v", e, ok)
	}
	e, ok = ParseEvent(encodeEvent(Join, "a.b", `{}`, "", 0))
	if !ok || e.Node != "" || e.Seq != 0 {
		t.Fatalf("ParseEvent without node = %+v, %v", e, ok)
	}
}

func TestParseEventRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, payload string }{
		{"service publication", `{"subscription":"chat.1","data":{}}`},
		{"event with data", `{"event":"join","subscription":"chat.1","member":{},"data":1}`},
		{"other event", `{"event":"message","subscription":"chat.1","member":{}}`},
		{"member not an object", `{"event":"join","subscription":"chat.1","member":1}`},
		{"no member", `{"event":"join","subscription":"chat.1"}`},
		{"no subscription", `{"event":"join","member":{}}`},
		{"not JSON", `{"event":"join",`},
		{"event later", `{"subscription":"chat.1","event":"join","member":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if e, ok := ParseEvent([]byte(tt.payload)); ok {
				t.Fatalf("ParseEvent(%s) = %+v, want not an event", tt.payload, e)
			}
		})
	}
}

func TestMember(t *testing.T) {
	t.Parallel()
	values := map[string]json.RawMessage{
		"user_id": json.RawMessage(`1`),
		"name":    json.RawMessage(` "Ann" `),
		"obj":     json.RawMessage("{\"b\": 1,\n \"a\": [1, 2]}"),
	}
	lookup := func(f string) (json.RawMessage, bool) { v, ok := values[f]; return v, ok }
	tests := []struct {
		name   string
		fields []string
		want   string
	}{
		{"sorted keys", []string{"user_id", "name"}, `{"name":"Ann","user_id":1}`},
		{"absent field left out", []string{"user_id", "missing"}, `{"user_id":1}`},
		{"none present", []string{"missing"}, `{}`},
		{"no fields", nil, `{}`},
		{"repeated field once", []string{"name", "name"}, `{"name":"Ann"}`},
		{"values compacted", []string{"obj"}, `{"obj":{"b":1,"a":[1,2]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Member(tt.fields, lookup)
			if err != nil || got != tt.want {
				t.Fatalf("Member = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	bad := func(string) (json.RawMessage, bool) { return json.RawMessage(`{`), true }
	if _, err := Member([]string{"x"}, bad); err == nil {
		t.Fatal("Member of invalid JSON succeeded")
	}
}

func TestKeysShareOneSlot(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"chat.1", "a.b.c", "x.{y}"} {
		ks := keys("p:", name)
		tag := func(k string) string {
			i := strings.IndexByte(k, '{')
			j := strings.IndexByte(k[i+1:], '}')
			return k[i+1 : i+1+j]
		}
		for _, k := range ks[1:] {
			if tag(k) != tag(ks[0]) {
				t.Fatalf("keys %q have different hash tags", ks)
			}
		}
	}
}
