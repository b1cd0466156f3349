package ordering

import (
	"encoding/json"
	"testing"
)

func TestParseOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		raw    string
		want   float64
		wantOK bool
	}{
		{name: "integer", raw: `12`, want: 12, wantOK: true},
		{name: "negative fraction", raw: `-3.5`, want: -3.5, wantOK: true},
		{name: "exponent", raw: `1.5e3`, want: 1500, wantOK: true},
		{name: "zero", raw: `0`, want: 0, wantOK: true},
		{name: "surrounding whitespace", raw: " \n7\t", want: 7, wantOK: true},
		{name: "numeric string", raw: `"12"`, want: 12, wantOK: true},
		{name: "negative fraction string", raw: `"-3.5"`, want: -3.5, wantOK: true},
		{name: "string with padding", raw: `" 42 "`, want: 42, wantOK: true},
		{name: "string with plus sign", raw: `"+2"`, want: 2, wantOK: true},
		{name: "escaped numeric string", raw: `"\u0031\u0032"`, want: 12, wantOK: true},
		{name: "absent", raw: ``},
		{name: "null", raw: `null`},
		{name: "true", raw: `true`},
		{name: "false", raw: `false`},
		{name: "word", raw: `"abc"`},
		{name: "empty string", raw: `""`},
		{name: "blank string", raw: `"  "`},
		{name: "number then text", raw: `"12abc"`},
		{name: "nan word", raw: `"NaN"`},
		{name: "inf word", raw: `"Infinity"`},
		{name: "short inf word", raw: `"inf"`},
		{name: "overflow number", raw: `1e400`},
		{name: "overflow string", raw: `"-1e400"`},
		{name: "hexadecimal", raw: `"0x10"`},
		{name: "underscores", raw: `"1_000"`},
		{name: "lone dot", raw: `"."`},
		{name: "object", raw: `{"a":1}`},
		{name: "array", raw: `[1]`},
		{name: "unterminated string", raw: `"12`},
		{name: "bad escape", raw: `"\x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseOrder(json.RawMessage(tc.raw))
			if ok != tc.wantOK || got != tc.want {
				t.Fatalf("ParseOrder(%q) = %v, %v; want %v, %v", tc.raw, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  json.RawMessage
		want string
	}{
		{name: "nil", raw: nil, want: ""},
		{name: "empty", raw: json.RawMessage{}, want: ""},
		{name: "null", raw: json.RawMessage(`null`), want: ""},
		{name: "padded null", raw: json.RawMessage(" null\n"), want: ""},
		{name: "string", raw: json.RawMessage(`"1"`), want: `"1"`},
		{name: "number", raw: json.RawMessage(`1`), want: `1`},
		{name: "boolean", raw: json.RawMessage(`false`), want: `false`},
		{name: "object compacted", raw: json.RawMessage("{ \"a\" : [1, 2],\n \"b\": \"x y\" }"), want: `{"a":[1,2],"b":"x y"}`},
		{name: "array compacted", raw: json.RawMessage("[ 1 ,\t2 ]"), want: `[1,2]`},
		{name: "padded string", raw: json.RawMessage(` "k" `), want: `"k"`},
		{name: "string keeps inner spaces", raw: json.RawMessage(`"a  b"`), want: `"a  b"`},
		{name: "invalid text kept", raw: json.RawMessage(` {bad json `), want: `{bad json`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Key(tc.raw); got != tc.want {
				t.Fatalf("Key(%q) = %q; want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestKeyDistinguishesTypes(t *testing.T) {
	t.Parallel()
	if Key(json.RawMessage(`"1"`)) == Key(json.RawMessage(`1`)) {
		t.Fatal(`Key("1") and Key(1) are equal; want different keys`)
	}
	if Key(nil) != Key(json.RawMessage(`null`)) {
		t.Fatal("absent and null order_key give different keys; want the same")
	}
	if Key(json.RawMessage(`{"a": 1}`)) != Key(json.RawMessage(`{"a":1}`)) {
		t.Fatal("whitespace in an object changes its key")
	}
}
