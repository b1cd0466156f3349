package control

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cmd  Command
	}{
		{"disconnect by session", Command{Op: Disconnect, Session: "abc"}},
		{"disconnect by match", Command{Op: Disconnect, Match: map[string]json.RawMessage{"user_id": json.RawMessage(`1`)}}},
		{"unsubscribe", Command{Op: Unsubscribe, Subscription: "books.b1", Session: "abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := tt.cmd.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			if got.Op != tt.cmd.Op || got.Session != tt.cmd.Session || got.Subscription != tt.cmd.Subscription || len(got.Match) != len(tt.cmd.Match) {
				t.Errorf("Decode(Encode()) = %+v, want %+v", got, tt.cmd)
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	for _, payload := range []string{
		``, `[]`, `{}`, `{"op":"explode","session":"a"}`,
		`{"op":"disconnect"}`, `{"op":"disconnect","match":{}}`,
		`{"op":"disconnect","session":"a","match":{"u":1}}`,
		`{"op":"unsubscribe","session":"a"}`, `{"op":"disconnect","session":7}`,
	} {
		if _, err := Decode([]byte(payload)); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q) err = %v, want ErrInvalid", payload, err)
		}
	}
	if _, err := (Command{Op: Disconnect}).Encode(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Encode of a command selecting nothing: err = %v, want ErrInvalid", err)
	}
}

func TestSelects(t *testing.T) {
	t.Parallel()
	auth := map[string]json.RawMessage{"user_id": json.RawMessage(`1`), "org": json.RawMessage(`{"a":1,"b":[2]}`)}
	m := func(s string) map[string]json.RawMessage {
		var out map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name string
		cmd  Command
		want bool
	}{
		{"session id", Command{Session: "s1"}, true},
		{"other session id", Command{Session: "s2"}, false},
		{"one field", Command{Match: m(`{"user_id":1}`)}, true},
		{"number spelled differently", Command{Match: m(`{"user_id":1.0}`)}, true},
		{"string is not number", Command{Match: m(`{"user_id":"1"}`)}, false},
		{"object any order", Command{Match: m(`{"org":{"b":[2],"a":1}}`)}, true},
		{"every field must match", Command{Match: m(`{"user_id":1,"org":null}`)}, false},
		{"absent field", Command{Match: m(`{"team":1}`)}, false},
		{"null does not match absent", Command{Match: m(`{"team":null}`)}, false},
		{"empty match selects nobody", Command{Match: m(`{}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cmd.Selects("s1", auth); got != tt.want {
				t.Errorf("Selects = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJSONEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same bytes", `{"a":1}`, `{"a":1}`, true},
		{"number spelled differently", `1`, `1.0`, true},
		{"string is not number", `"1"`, `1`, false},
		{"object members in any order", `{"a":1,"b":[2]}`, `{"b":[2],"a":1}`, true},
		{"array order counts", `[1,2]`, `[2,1]`, false},
		{"white space", ` { "a" : null } `, `{"a":null}`, true},
		{"invalid JSON", `{`, `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := JSONEqual(json.RawMessage(tt.a), json.RawMessage(tt.b)); got != tt.want {
				t.Errorf("JSONEqual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
