package main

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

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumNames are the browser binaries the browser test looks for.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

func findChromium() string {
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// consoleLog keeps a tab's console errors and exceptions for the test log.
type consoleLog struct {
	mu    sync.Mutex
	lines []string
}

// watch records the tab's console errors and warnings until the tab closes.
// It subscribes before it returns, so call it once the tab exists.
func (c *consoleLog) watch(ctx context.Context, tab string) {
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

func (c *consoleLog) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "\n")
}

// pageReport returns a tab's connection state, error line and live log,
// for failure messages.
func pageReport(tab context.Context) string {
	ctx, cancel := context.WithTimeout(tab, 5*time.Second)
	defer cancel()
	report, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[document.body.dataset.state, document.getElementById('title').textContent, document.getElementById('error').textContent, document.getElementById('log').innerText].join(' | ')`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return report
}

// TestDemoInBrowser opens the demo page in two tabs of headless Chromium:
// both connect and show the book, an edit in one appears in the other. A
// screenshot of the second tab is saved to $WSROUTER_ARTIFACTS.
func TestDemoInBrowser(t *testing.T) {
	chrome := findChromium()
	if chrome == "" {
		t.Skipf("no browser found (looked for %s on PATH); install Debian's chromium package to run this test", strings.Join(chromiumNames, ", "))
	}
	d := startDemo(t)

	// The whole browser session is bounded: the allocator's deadline stops
	// the browser.
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
		chromedp.WindowSize(1000, 900),
	)
	defer cancelAlloc()
	bounded, cancelBound := context.WithTimeout(allocCtx, 90*time.Second)
	defer cancelBound()
	browserCtx, cancelBrowser := chromedp.NewContext(bounded)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v", chrome, err)
	}

	var console consoleLog
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console.String())
		}
	}()
	// front makes a tab the active one: a hidden page gets no animation
	// frames, which clicks and polls wait for.
	front := func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, page.BringToFront, cdp.Empty{})
		return err
	}
	openTab := func(name, user string) context.Context {
		ctx, cancel := chromedp.NewContext(browserCtx)
		t.Cleanup(cancel)
		if err := chromedp.Do(ctx); err != nil { // opens the tab
			t.Fatalf("%s: open a tab: %v", name, err)
		}
		console.watch(ctx, name)
		step, cancelStep := context.WithTimeout(ctx, 30*time.Second)
		defer cancelStep()
		err := chromedp.Do(step,
			chromedp.Navigate(d.appURL+"/?book=book_1&user="+user),
			chromedp.WaitReady(chromedp.CSS(`body[data-state="connected"]`)),
		)
		if err != nil {
			t.Fatalf("%s: open the page: %v\n%s", name, err, pageReport(ctx))
		}
		if _, err := chromedp.Run(step, chromedp.Poll[bool](`document.getElementById('version').textContent === '0'`, chromedp.WithPollingMutation())); err != nil {
			t.Fatalf("%s: the book's state never showed: %v\n%s", name, err, pageReport(ctx))
		}
		return ctx
	}
	tabA := openTab("tab A", "alice")
	tabB := openTab("tab B", "bob")

	newTitle := fmt.Sprintf("Edited in tab A at %d", time.Now().UnixNano())
	stepA, cancelA := context.WithTimeout(tabA, 20*time.Second)
	defer cancelA()
	if err := front(stepA); err != nil {
		t.Fatalf("tab A: bring to front: %v", err)
	}
	err := chromedp.Do(stepA,
		chromedp.SetValue(chromedp.ID("edit-title"), newTitle),
		chromedp.Click(chromedp.ID("save")),
	)
	if err != nil {
		t.Fatalf("tab A: edit: %v\n%s", err, pageReport(tabA))
	}

	stepB, cancelB := context.WithTimeout(tabB, 20*time.Second)
	defer cancelB()
	if err := front(stepB); err != nil {
		t.Fatalf("tab B: bring to front: %v", err)
	}
	if _, err := chromedp.Run(stepB, chromedp.Poll[bool](
		fmt.Sprintf(`document.getElementById('title').textContent === %q`, newTitle),
		chromedp.WithPollingMutation(),
	)); err != nil {
		t.Fatalf("tab B never showed tab A's edit: %v\ntab A: %s\ntab B: %s", err, pageReport(tabA), pageReport(tabB))
	}
	for _, check := range []struct{ name, id, want string }{
		{"version", "version", "1"},
		{"editor", "edited-by", ", last edit by alice"},
		{"connection", "state", "connected"},
	} {
		got, err := chromedp.Run(stepB, chromedp.TextContent(chromedp.ID(check.id)))
		if err != nil {
			t.Fatalf("tab B: read #%s: %v", check.id, err)
		}
		if got != check.want {
			t.Errorf("tab B %s: #%s = %q, want %q", check.name, check.id, got, check.want)
		}
	}

	png, err := chromedp.Run(stepB, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("WSROUTER_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "books-demo.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of tab B: %s", path)
}
