package services

import (
	"reflect"
	"strings"
	"testing"
)

func TestAPIValidation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := writeKeyPair(t, dir, "api")
	const k1, k2 = "0123456789abcdef", "fedcba9876543210"
	tests := []struct {
		name string
		src  string
		path string // "" means valid
		want string
	}{
		{"off by default", "", "", ""},
		{"keys without listen", "api: {keys: [short]}", "", ""},
		{"on", "api: {listen: '127.0.0.1:9200', keys: [" + k1 + ", " + k2 + "]}", "", ""},
		{"with tls", "api: {listen: ':9200', keys: [" + k1 + "], tls: {cert_file: " + cert + ", key_file: " + key + "}}", "", ""},
		{"listen bad", "api: {listen: nowhere, keys: [" + k1 + "]}", "api.listen", `must be HOST:PORT with a numeric port, got "nowhere"`},
		{"listen same as websocket", "listen: 'a:1'\napi: {listen: 'a:1', keys: [" + k1 + "]}", "api.listen", `must differ from listen, both are "a:1"`},
		{"listen same as metrics", "metrics: {listen: 'a:2'}\napi: {listen: 'a:2', keys: [" + k1 + "]}", "api.listen", `must differ from metrics.listen, both are "a:2"`},
		{"keys missing", "api: {listen: 'a:3'}", "api.keys", "at least one key is required when api.listen is set"},
		{"key short", "api: {listen: 'a:3', keys: [" + k1 + ", tooshort]}", "api.keys[1]", "must be at least 16 characters, got 8"},
		{"key with space", "api: {listen: 'a:3', keys: ['0123456789 abcdef']}", "api.keys[0]", "must be printable ASCII without spaces"},
		{"key duplicate", "api: {listen: 'a:3', keys: [" + k1 + ", " + k1 + "]}", "api.keys[1]", "duplicate key, also at api.keys[0]"},
		{"body limit", "api: {max_body_bytes: 0}", "api.max_body_bytes", "must be at least 1, got 0"},
		{"tls half", "api: {listen: 'a:3', keys: [" + k1 + "], tls: {cert_file: " + cert + "}}", "api.tls.key_file", "must be set when api.tls.cert_file is set"},
		{"keys wrong type", "api: {listen: 'a:3', keys: " + k1 + "}", "api.keys", "must be a list of strings"},
		{"unknown key", "api: {listen: 'a:3', key: [" + k1 + "]}", "api.key", `unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.path == "" {
				mustParse(t, tt.src)
				return
			}
			ps := problemsOf(t, tt.src)
			p := findProblem(t, ps, tt.path)
			if !strings.Contains(p.Message, tt.want) {
				t.Errorf("problem at %s = %q, want it to contain %q", tt.path, p.Message, tt.want)
			}
			for _, p := range ps {
				if strings.Contains(p.String(), k1) || strings.Contains(p.String(), k2) {
					t.Errorf("problem %q shows a key", p.String())
				}
			}
		})
	}
}

func TestAPIDefaults(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "")
	want := API{MaxBodyBytes: 1 << 20}
	if !reflect.DeepEqual(c.API, want) || c.API.Enabled() {
		t.Errorf("API = %+v (enabled %v), want %+v, disabled", c.API, c.API.Enabled(), want)
	}
}

func TestAPIDiff(t *testing.T) {
	t.Parallel()
	prev := Default()
	next := Default()
	next.API.Listen = "127.0.0.1:9200"
	next.API.TLS.CertFile = "c"
	next.API.Keys = []string{"k"}
	next.API.MaxBodyBytes = 10
	got := Diff(prev, next)
	want := Changes{RestartRequired: []string{"api.listen", "api.tls"}, Other: []string{"api.keys", "api.max_body_bytes"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff = %+v, want %+v", got, want)
	}
}
