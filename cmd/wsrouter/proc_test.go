package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// config is a router configuration as the YAML file holds it.
type config map[string]any

// section returns the nested map at key, creating it.
func (c config) section(key string) map[string]any {
	if m, ok := c[key].(map[string]any); ok {
		return m
	}
	m := map[string]any{}
	c[key] = m
	return m
}

// services returns the services section, creating it.
func (c config) services() map[string]any { return c.section("services") }

// clone returns a deep copy of c, so a test can derive a second file.
func (c config) clone() config {
	b, err := yaml.Marshal(map[string]any(c))
	if err != nil {
		panic(err)
	}
	var out map[string]any // not config: yaml.v3 would give nested maps that type too
	if err := yaml.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return config(out)
}

// baseConfig is a configuration with free loopback ports for the WebSocket
// and metrics listeners, debug JSON logs and short timeouts.
func baseConfig(t testing.TB, redisURL string) config {
	return config{
		"listen":  freeAddr(t),
		"metrics": map[string]any{"listen": freeAddr(t)},
		"redis": map[string]any{
			"url":           redisURL,
			"ping_interval": "200ms",
			"ping_timeout":  "3s", // a busy CI machine must not look like a Redis loss
		},
		"http":             map[string]any{"timeout": "2s", "tries": 1, "wait": "10ms"},
		"log":              map[string]any{"level": "debug", "format": "json"},
		"shutdown_timeout": "5s",
		"services":         map[string]any{},
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeFile writes data to path in place (truncate and write).
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func marshal(t testing.TB, cfg config) []byte {
	t.Helper()
	b, err := yaml.Marshal(map[string]any(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// routerProc is one running wsrouter process.
type routerProc struct {
	t       testing.TB
	path    string // the configuration file
	ws      string // WebSocket listener address
	metrics string // metrics listener address
	logs    *logSink
	cmd     *exec.Cmd
	done    chan struct{}
	state   *os.ProcessState
}

// launch writes cfg to a file of its own directory and starts the router
// on it, without waiting for readiness. The process is killed when the
// test ends.
func launch(t testing.TB, cfg config) *routerProc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wsrouter.yaml")
	writeFile(t, path, marshal(t, cfg))
	return launchPath(t, path, cfg)
}

// launchPath starts the router on the configuration file at path, which
// holds cfg.
func launchPath(t testing.TB, path string, cfg config) *routerProc {
	t.Helper()
	p := &routerProc{
		t:    t,
		path: path,
		logs: newLogSink(),
		done: make(chan struct{}),
	}
	p.ws, _ = cfg["listen"].(string)
	p.metrics, _ = cfg.section("metrics")["listen"].(string)
	p.cmd = exec.Command(routerBin, "-config", p.path)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if strings.Contains(p.logs.text(), "WARNING: DATA RACE") {
			t.Errorf("the router reported a data race:\n%s", p.logs.text())
		} else if t.Failed() {
			t.Logf("router log (last lines):\n%s", p.logs.tail(60))
		}
	})
	return p
}

// startRouter launches the router and waits until /readyz answers 200.
func startRouter(t testing.TB, cfg config) *routerProc {
	t.Helper()
	p := launch(t, cfg)
	p.waitReady(15 * time.Second)
	return p
}

// url is the router's WebSocket URL.
func (p *routerProc) url() string { return "ws://" + p.ws + "/" }

// probeClient makes plain HTTP requests without keeping connections.
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// get returns the status and body of GET http://METRICS/path, or an error
// when the request fails.
func (p *routerProc) get(path string) (int, string, error) {
	resp, err := probeClient.Get("http://" + p.metrics + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// readyStatus returns /readyz's status code, 0 when unreachable.
func (p *routerProc) readyStatus() int {
	code, _, _ := p.get("/readyz")
	return code
}

// waitReadyz polls /readyz until it answers want.
func (p *routerProc) waitReadyz(want int, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		code, body, err := p.get("/readyz")
		if code == want {
			return
		}
		if p.exited() {
			p.t.Fatalf("router exited (%v) while waiting for /readyz %d", p.state, want)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("/readyz did not answer %d within %s: last %d %q %v", want, timeout, code, body, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitReady waits until /readyz answers 200.
func (p *routerProc) waitReady(timeout time.Duration) {
	p.t.Helper()
	p.waitReadyz(http.StatusOK, timeout)
}

// writeConfig rewrites the configuration file in place.
func (p *routerProc) writeConfig(cfg config) {
	p.t.Helper()
	writeFile(p.t, p.path, marshal(p.t, cfg))
}

// replaceConfig writes cfg to a temporary file in the same directory and
// renames it over the configuration, as editors do.
func (p *routerProc) replaceConfig(cfg config) {
	p.t.Helper()
	tmp := filepath.Join(filepath.Dir(p.path), ".wsrouter.yaml.swp")
	writeFile(p.t, tmp, marshal(p.t, cfg))
	if err := os.Rename(tmp, p.path); err != nil {
		p.t.Fatal(err)
	}
}

// signal sends sig to the router.
func (p *routerProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %s: %v", sig, err)
	}
}

func (p *routerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitExit waits for the process to end and returns its exit code.
func (p *routerProc) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.state.ExitCode()
	case <-time.After(timeout):
		p.t.Fatalf("router still running %s later", timeout)
		return -1
	}
}

// reloads is how many successful reloads with trigger ("" for any) the
// log reports so far.
func (p *routerProc) reloads(trigger string) int {
	return p.logs.count(func(l logLine) bool {
		return l.msg() == "config reloaded" && (trigger == "" || l.str("trigger") == trigger)
	})
}

// waitReloads waits until n reloads with trigger ("" for any) succeeded.
func (p *routerProc) waitReloads(n int, trigger string) {
	p.t.Helper()
	p.logs.waitN(p.t, 5*time.Second, n, "config reloaded "+trigger, func(l logLine) bool {
		return l.msg() == "config reloaded" && (trigger == "" || l.str("trigger") == trigger)
	})
}

// runCLI runs the binary to completion and returns its exit code, stdout
// and stderr.
func runCLI(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(routerBin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("wsrouter %v did not exit; stderr:\n%s", args, stderr.String())
		return -1, "", ""
	}
}
