package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"user and password", "http://user:secret@app.internal:8080/ws/ticket/?a=1", "http://app.internal:8080/ws/ticket/?a=1"},
		{"user only", "https://user@app.internal/cb", "https://app.internal/cb"},
		{"no credentials", "http://app.internal/cb", "http://app.internal/cb"},
		{"at sign in the path kept", "http://app.internal/a@b", "http://app.internal/a@b"},
		{"at sign in the query kept", "http://app.internal/cb?mail=a@b.c", "http://app.internal/cb?mail=a@b.c"},
		{"empty", "", ""},
		{"not a URL", "not-a-url", "not-a-url"},
		{"redis password", "redis://:s3cret@host:6392/0", "redis://host:6392/0"},
		{"redis user and password", "redis://u:s3cret@host:6392/0", "redis://host:6392/0"},
		// URLs that url.Parse rejects, or reads without a user.
		{"bad escape in the password", "redis://:p%ss-PW1@host:6392/0", "redis://host:6392/0"},
		{"bad escape with a user", "http://user:se%zzcret@app.internal/cb", "http://app.internal/cb"},
		{"percent ZZ", "http://u:PW%ZZ1@app.internal/cb", "http://app.internal/cb"},
		{"slash in the password", "redis://:p/ss-PW1@host:6392/0", "redis://host:6392/0"},
		{"slash after digits", "redis://:123/PW1@host:6392/0", "redis://host:6392/0"},
		{"question mark", "redis://:p?ss-PW1@host:6392/0", "redis://host:6392/0"},
		{"hash", "redis://:p#ss-PW1@host:6392/0", "redis://host:6392/0"},
		{"space", "redis://:p ss-PW1@host:6392/0", "redis://host:6392/0"},
		{"at sign in the password", "redis://:p@ss-PW1@host:6392/0", "redis://host:6392/0"},
		{"no scheme", "user:PW1@host:6392", "host:6392"},
		{"unparsable without credentials", "http://app.internal/%zz", "http://app.internal/%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := URL(tt.in); got != tt.want {
				t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzURL builds URLs with a password of any bytes, most of which do not
// parse, and checks that the password never shows in the redacted text.
func FuzzURL(f *testing.F) {
	for _, seed := range []struct{ scheme, user, password, host, path string }{
		{"redis", "", "p%ss-PW1", "host:6392", "/0"},
		{"redis", "", "p/ss-PW1", "host:6392", "/0"},
		{"redis", "", "p?ss-PW1", "host:6392", "/0"},
		{"redis", "", "p ss-PW1", "host:6392", "/0"},
		{"http", "hook", "PW%ZZ1", "app.internal", "/cb"},
		{"http", "hook", "123/PW", "app.internal:80", "/cb?mail=a@b"},
		{"http", "", "PW", "app.internal", "/a@b"},
		{"rediss", "u", "p#PW@rd", "[::1]:6379", ""},
		{"", "u", "secretPW", "host", ""},
	} {
		f.Add(seed.scheme, seed.user, seed.password, seed.host, seed.path)
	}
	f.Fuzz(func(t *testing.T, scheme, user, password, host, path string) {
		prefix := ""
		if scheme != "" {
			prefix = scheme + "://"
		}
		// The password is marked by "PW", and nothing else may hold a P or
		// a W (escaping and lower-casing never make one), so any "PW" in
		// the result is the password showing.
		if !strings.Contains(password, "PW") || strings.ContainsAny(strings.ToUpper(prefix+user+host+path), "PW") ||
			strings.ContainsAny(user, ":@/?#") || strings.Contains(scheme, ":") {
			return
		}
		raw := prefix + user + ":" + password + "@" + host + path
		if got := URL(raw); strings.Contains(got, "PW") {
			t.Fatalf("URL(%q) = %q shows the password %q", raw, got, password)
		}
	})
}
