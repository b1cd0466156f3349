package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testrouter"
)

// runExample is `make run` (scripts/run-example.sh) on free ports, in its
// own process group as a shell would start it.
type runExample struct {
	cmd   *exec.Cmd
	out   *testrouter.Buffer
	addrs []string // every address it listens on
	done  chan struct{}
}

// startRunExample starts the script, building into bin, and waits for
// its "open http://" line.
func startRunExample(t *testing.T, bin string) *runExample {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found; skipping the make run test")
	}
	app, ws, metrics, redis := testrouter.FreeAddr(t), testrouter.FreeAddr(t), testrouter.FreeAddr(t), testrouter.FreeAddr(t)
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(example)
	for _, r := range []struct{ old, new string }{
		{"listen: 127.0.0.1:9000", "listen: " + ws},
		{"listen: 127.0.0.1:9100", "listen: " + metrics},
		{`allowed_origins: ["127.0.0.1:8080", "localhost:8080"]`, `allowed_origins: ["` + app + `"]`},
	} {
		if !strings.Contains(cfg, r.old) {
			t.Fatalf("config.example.yaml no longer contains %q; update the test", r.old)
		}
		cfg = strings.Replace(cfg, r.old, r.new, 1)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "run-example.sh"))
	cmd.Env = append(os.Environ(), "BIN="+bin, "CONFIG="+config,
		"APP_LISTEN="+app, "WS_URL=ws://"+ws+"/", "REDIS_ADDR="+redis)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &testrouter.Buffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = io.MultiWriter(out, pw), out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &runExample{cmd: cmd, out: out, addrs: []string{app, ws, metrics, redis}, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); pw.Close(); close(r.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
		if t.Failed() {
			t.Logf("make run output:\n%s", out.String())
		}
	})
	opened := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			if !found && strings.HasPrefix(sc.Text(), "open http://"+app+"/") {
				found = true
				opened <- true
			}
		}
		if !found {
			opened <- false
		}
	}()
	select {
	case ok := <-opened:
		if !ok {
			t.Fatalf("make run ended without printing the URL:\n%s", out.String())
		}
	case <-time.After(3 * time.Minute): // two builds on a busy machine
		t.Fatalf("make run printed no URL in 3 minutes:\n%s", out.String())
	}
	return r
}

// signalGroup sends sig to the script's process group, as a terminal's
// Ctrl-C or a supervisor's group kill does, and returns the exit code.
func (r *runExample) signalGroup(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := syscall.Kill(-r.cmd.Process.Pid, sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run still running 30s after %v", sig)
	}
	return r.cmd.ProcessState.ExitCode()
}

// TestRunExampleStopsEverything: `make run` ends its app and router on
// Ctrl-C (exit 0) and on SIGTERM to its process group, twice over, so
// nothing is left holding a port for the next `make run`.
func TestRunExampleStopsEverything(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		signals  []syscall.Signal
		wantCode int
	}{
		{"Ctrl-C", []syscall.Signal{syscall.SIGINT}, 0},
		{"SIGTERM twice", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}, 143},
	}
	bin := filepath.Join(t.TempDir(), "bin") // shared: the second build is a cache hit
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := startRunExample(t, bin)
			for _, sig := range tc.signals[1:] {
				// The first signal(s) arrive back to back, as make's forwarded SIGTERM does.
				_ = syscall.Kill(-r.cmd.Process.Pid, sig)
			}
			if code := r.signalGroup(t, tc.signals[0]); code != tc.wantCode {
				t.Errorf("exit code %d, want %d", code, tc.wantCode)
			}
			for _, addr := range r.addrs {
				if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
					conn.Close()
					t.Errorf("%s still accepts connections after make run exited", addr)
				}
			}
		})
	}
}

// TestRunExampleChecksPortsFirst: a taken Redis port is reported before
// anything is built, with what to do about it.
func TestRunExampleChecksPortsFirst(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found; skipping the make run test")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	bin := filepath.Join(t.TempDir(), "bin")
	root, _ := filepath.Abs("../..")
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "run-example.sh"))
	cmd.Env = append(os.Environ(), "BIN="+bin, "REDIS_ADDR="+taken.Addr().String(), "GO=false")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d (%v), want 1:\n%s", code, err, out)
	}
	for _, want := range []string{taken.Addr().String() + " is in use", "REDIS_ADDR="} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(bin); err == nil {
		t.Errorf("%s exists: the script built before checking the ports", bin)
	}
}
