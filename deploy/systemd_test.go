package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/services"
)

// unitFile maps "Section.Key" to every value it has in a systemd unit.
func unitFile(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: %q is not KEY=VALUE", path, line)
			}
			out[section+"."+k] = append(out[section+"."+k], v)
		}
	}
	return out
}

// TestSystemdUnit: the unit reloads with SIGHUP after a check, stops
// within a TimeoutStopSec above the default shutdown_timeout, carries the
// hardening options, and passes systemd-analyze verify (no warning) and
// scores at most 2.0 on systemd-analyze security when systemd-analyze is
// installed.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	const file = "wsrouter.service"
	u := unitFile(t, file)
	want := map[string]string{
		"Service.ExecReload":              "/bin/kill -HUP $MAINPID",
		"Service.KillSignal":              "SIGTERM",
		"Service.User":                    "wsrouter",
		"Service.NoNewPrivileges":         "yes",
		"Service.ProtectSystem":           "strict",
		"Service.ProtectHome":             "yes",
		"Service.PrivateTmp":              "yes",
		"Service.CapabilityBoundingSet":   "",
		"Service.RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Install.WantedBy":                "multi-user.target",
	}
	for key, v := range want {
		found := false
		for _, got := range u[key] {
			found = found || got == v
		}
		if !found {
			t.Errorf("%s: %s = %q, want %q among them", file, key, u[key], v)
		}
	}
	stop, err := time.ParseDuration(strings.Join(u["Service.TimeoutStopSec"], ""))
	if def := services.Default().ShutdownTimeout.Std(); err != nil || stop <= def {
		t.Errorf("%s: TimeoutStopSec %q must exceed the default shutdown_timeout %s", file, u["Service.TimeoutStopSec"], def)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not on PATH: the unit was checked by this test only")
		return
	}
	// verify wants the executables to exist: point the unit at the binary
	// the Dockerfile's build step makes from this checkout.
	dir := t.TempDir()
	bin := dockerBuild(t)
	unit, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, file)
	if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/wsrouter", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify exits 0 on unknown keys and bad values; it only prints them.
	out, err := exec.Command(analyze, "verify", local).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(analyze, "security", "--offline=yes", "--threshold=20", local).CombinedOutput()
	if err != nil && strings.Contains(string(out), "--offline") {
		t.Logf("this systemd-analyze cannot rate a unit offline (systemd 250 or later can): %s", out)
	} else if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v):\n%s", err, out)
	}
}
