package main

import (
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, "-version")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !regexp.MustCompile(`^wsrouter \S+\n$`).MatchString(stdout) {
		t.Fatalf("stdout %q, want \"wsrouter VERSION\"", stdout)
	}
}

func TestCheckFlag(t *testing.T) {
	t.Parallel()
	valid := baseConfig(t, "redis://127.0.0.1:1/0")
	valid.services()["books"] = map[string]any{"before_subscribe": "http://127.0.0.1:1/bs", "history": map[string]any{"size": 10}}

	invalid := valid.clone()
	books := invalid.services()["books"].(map[string]any)
	books["authoriser"] = "http://127.0.0.1:1/a"           // unknown key (typo)
	books["on_subscribe"] = "ftp://127.0.0.1/x"            // not http(s)
	books["heartbeat_period"] = "30s"                      // without on_heartbeat
	invalid.section("websocket")["ping_interval"] = "soon" // not a duration
	books["history"] = map[string]any{"size": 0}           // out of range

	tests := []struct {
		name     string
		cfg      config
		raw      string // file content instead of cfg; "-" for no file
		wantCode int
		wantOut  []string // in stdout for 0, stderr for 1
	}{
		{name: "valid", cfg: valid, wantCode: 0, wantOut: []string{"valid"}},
		{name: "every problem", cfg: invalid, wantCode: 1, wantOut: []string{
			"services.books.authoriser",
			"services.books.on_subscribe",
			"services.books.heartbeat_period",
			"websocket.ping_interval",
			"services.books.history.size",
		}},
		{name: "yaml syntax", raw: "listen: [127.0.0.1:9000\n", wantCode: 1, wantOut: []string{"wsrouter.yaml"}},
		{name: "missing file", raw: "-", wantCode: 1, wantOut: []string{"wsrouter.yaml"}},
		// -check agrees with a reload, which refuses an empty file.
		{name: "empty file", raw: "\n", wantCode: 1, wantOut: []string{"the file is empty"}},
		{name: "tab", raw: "services:\n\tbooks: {}\n", wantCode: 1, wantOut: []string{"wsrouter.yaml:2: a tab character", "not tabs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "wsrouter.yaml")
			switch tc.raw {
			case "":
				writeFile(t, path, marshal(t, tc.cfg))
			case "-":
			default:
				writeFile(t, path, []byte(tc.raw))
			}
			code, stdout, stderr := runCLI(t, "-check", "-config", path)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.wantCode, stdout, stderr)
			}
			out := stdout
			if tc.wantCode != 0 {
				out = stderr
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if tc.wantCode != 0 && !strings.Contains(out, path) {
				t.Errorf("problems do not name the file %s:\n%s", path, out)
			}
		})
	}
}

func TestListenerCannotBind(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() })
	tests := []struct {
		name string
		set  func(config)
	}{
		{name: "listen", set: func(c config) { c["listen"] = taken.Addr().String() }},
		{name: "metrics.listen", set: func(c config) { c.section("metrics")["listen"] = taken.Addr().String() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig(t, "redis://127.0.0.1:1/0")
			tc.set(cfg)
			path := filepath.Join(t.TempDir(), "wsrouter.yaml")
			writeFile(t, path, marshal(t, cfg))
			code, _, stderr := runCLI(t, "-config", path)
			if code != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tc.name) || !strings.Contains(stderr, taken.Addr().String()) {
				t.Errorf("stderr does not say which listener failed:\n%s", stderr)
			}
		})
	}
}
