package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf(t *testing.T) {
	t.Parallel()
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		ok      bool
		want    string
	}{
		{"stamped by make build", "v1.2.0-3-gabc1234", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, true, "v1.2.0-3-gabc1234"},
		{"go install @latest", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, true, "v1.2.0"},
		{"go build in a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202053446-a3b355a1b2c3+dirty"}}, true, "v0.0.0-20261202053446-a3b355a1b2c3+dirty"},
		{"devel with a commit", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("a3b355a1b2c3d4e5f6", "false")}, true, "devel-a3b355a1b2c3"},
		{"devel with a modified tree", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("a3b355a", "true")}, true, "devel-a3b355a-dirty"},
		{"devel without a commit", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "dev"},
		{"no build information", "", nil, false, "dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := versionOf(tc.stamped, tc.info, tc.ok); got != tc.want {
				t.Errorf("versionOf = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestMakeBuildStampsVersion builds the binary the way users are told to
// (make build) and checks -version prints what git describe says.
func TestMakeBuildStampsVersion(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"make", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found; skipping the make build check", tool)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	describe, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v); skipping the make build check", err)
	}
	bin := t.TempDir()
	build := exec.Command("make", "-s", "-C", root, "build", "BIN="+bin)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "wsrouter"), "-version").Output()
	if err != nil {
		t.Fatalf("wsrouter -version: %v", err)
	}
	want := "wsrouter " + strings.TrimSpace(string(describe)) + "\n"
	if string(out) != want || strings.Contains(string(out), " dev") {
		t.Errorf("-version of the make-built binary = %q, want %q", out, want)
	}
}
