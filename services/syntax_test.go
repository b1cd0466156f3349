package services

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLoadFileProblems covers problems with the file as a whole: each is
// printed as FILE[:LINE]: message, and says what to do.
func TestLoadFileProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    string // the whole first line of the error, after the directory
		notWant string
	}{
		{"tab in the indentation", "redis:\n  url: embedded\nservices:\n\tbooks:\n    authorizer: http://a/\n",
			"c.yaml:4: a tab character at column 1: YAML indents with spaces, not tabs (YAML syntax: found character that cannot start any token)", ""},
		{"tab after spaces", "services:\n  books:\n  \tauthorizer: http://a/\n",
			"c.yaml:3: a tab character at column 3", ""},
		{"other syntax error", "listen: [127.0.0.1:9000\nredis: {}\n", "YAML syntax: did not find expected ',' or ']'", "yaml: line"},
		{"empty", "", "c.yaml: the file is empty (a save in progress?); a configuration needs at least one key", ""},
		{"only blank lines", "\n  \n\t\n", "c.yaml: the file is empty", ""},
		{"redis url scheme", "redis: {url: 'ftp://x'}\n",
			`c.yaml:1: redis.url: must be "embedded", "embedded://HOST:PORT" or a redis://, rediss:// or unix:// URL, got "ftp://x"`, "scheme"},
		{"redis url without a scheme", "redis: {url: 'redis//x'}\n", `got "redis//x"`, "scheme"},
		{"redis url with a bad database", "redis: {url: 'redis://h:6379/x'}\n", `got "redis://h:6379/x": `, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "c.yaml")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil {
				t.Fatal("Load accepted the file")
			}
			got := strings.TrimPrefix(strings.SplitN(err.Error(), "\n", 2)[0], dir+string(filepath.Separator))
			if !strings.Contains(got, tc.want) {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
			if tc.data != "" && strings.TrimSpace(tc.data) != "" && !regexp.MustCompile(`^c\.yaml:\d+: `).MatchString(got) {
				t.Errorf("error %q is not in the FILE:LINE: form", got)
			}
			if tc.notWant != "" && strings.Contains(got, tc.notWant) {
				t.Errorf("error %q contains %q", got, tc.notWant)
			}
		})
	}
}
