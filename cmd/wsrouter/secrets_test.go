package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// leakyURLs are URLs whose password ("PW1" marks it) stops url.Parse, or
// makes it read the URL without a user: each is refused by the checks, and
// the password must not show in what they print.
var leakyURLs = []struct {
	name, key, url string
}{
	{"redis bad escape", "redis.url", "redis://:p%ss-PW1@host:6392/0"},
	{"redis slash", "redis.url", "redis://:p/ss-PW1@host:6392/0"},
	{"redis slash after digits", "redis.url", "redis://:123/ss-PW1@host:6392/0"},
	{"redis question mark", "redis.url", "redis://:p?ss-PW1@host:6392/0"},
	{"redis space", "redis.url", "redis://:p ss-PW1@host:6392/0"},
	{"callback percent ZZ", "services.books.before_subscribe", "http://hook:s%ZZ-PW1@app.internal/cb"},
	{"callback hash", "services.books.before_subscribe", "ftp://hook:s#-PW1@app.internal/cb"},
}

// withURL returns a copy of cfg with key (redis.url or
// services.books.before_subscribe) set to url.
func withURL(cfg config, key, url string) config {
	c := cfg.clone()
	if key == "redis.url" {
		c.section("redis")["url"] = url
	} else {
		c.services()["books"] = map[string]any{"require_authentication": false, "before_subscribe": url}
	}
	return c
}

func TestCheckHidesPasswords(t *testing.T) {
	t.Parallel()
	base := baseConfig(t, "redis://127.0.0.1:1/0")
	for _, tc := range leakyURLs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "wsrouter.yaml")
			writeFile(t, path, marshal(t, withURL(base, tc.key, tc.url)))
			code, stdout, stderr := runCLI(t, "-check", "-config", path)
			if code != 1 || !strings.Contains(stderr, tc.key) {
				t.Fatalf("exit %d, want 1 with a problem at %s; stderr %q", code, tc.key, stderr)
			}
			if strings.Contains(stdout+stderr, "PW1") {
				t.Errorf("-check prints the password:\n%s%s", stdout, stderr)
			}
		})
	}
}

func TestRejectedReloadHidesPasswords(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	for i, tc := range leakyURLs {
		f.p.writeConfig(withURL(f.cfg, tc.key, tc.url))
		f.p.logs.waitN(t, 5*time.Second, i+1, "rejected reload "+tc.name, func(l logLine) bool {
			return strings.HasPrefix(l.msg(), "config reload rejected")
		})
		if !strings.Contains(f.p.logs.text(), tc.key) {
			t.Errorf("%s: no rejected reload names %s", tc.name, tc.key)
		}
	}
	if text := f.p.logs.text(); strings.Contains(text, "PW1") {
		t.Errorf("the log shows a password:\n%s", grepLines(text, "PW1"))
	}
	f.checkKeepReceiving()
}
