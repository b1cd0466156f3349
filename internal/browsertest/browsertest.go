// Package browsertest starts headless Chromium for browser tests, collects
// a tab's console errors and saves what the tests show, such as
// screenshots, where CI keeps it. A test without a browser on PATH skips,
// saying what to install.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumNames are the browser binaries looked for on PATH.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// find returns the path of the first browser on PATH, "" when none.
func find() string {
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start launches headless Chromium with a window of width x height for at
// most limit, and returns the browser's context (tabs are opened from it
// with chromedp.NewContext). It skips the test when no browser is
// installed; the browser stops when the test ends or limit runs out.
func Start(t testing.TB, width, height int, limit time.Duration) context.Context {
	t.Helper()
	chrome := find()
	if chrome == "" {
		t.Skipf("no browser found (looked for %s on PATH); install Debian's chromium package to run this test", strings.Join(chromiumNames, ", "))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	bounded, cancelBound := context.WithTimeout(allocCtx, limit)
	browserCtx, cancelBrowser := chromedp.NewContext(bounded)
	t.Cleanup(func() { cancelBrowser(); cancelBound(); cancelAlloc() })
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}
	return browserCtx
}

// Console keeps a tab's console errors, exceptions and warnings.
type Console struct {
	mu    sync.Mutex
	lines []string
}

// Watch records the tab's console errors and warnings until the tab
// closes. It subscribes before it returns, so call it once the tab exists.
func (c *Console) Watch(ctx context.Context, tab string) {
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
				c.mu.Lock()
				c.lines = append(c.lines, fmt.Sprintf("%s: %s: %s", tab, m.Type, m.Text))
				c.mu.Unlock()
			}
		}
	}()
}

// Lines returns what was recorded so far.
func (c *Console) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// String returns the recorded lines, one per line.
func (c *Console) String() string { return strings.Join(c.Lines(), "\n") }

// Artifact writes b to the file name in $WSROUTER_ARTIFACTS, which CI
// keeps (in the test's temporary directory when it is unset), and returns
// its path.
func Artifact(t testing.TB, name string, b []byte) string {
	t.Helper()
	dir := os.Getenv("WSROUTER_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return path
}
