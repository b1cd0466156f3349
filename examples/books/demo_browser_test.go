package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/internal/browsertest"
)

// newTab opens a tab watched by console; it closes when the test ends or
// cancel is called.
func newTab(t *testing.T, browserCtx context.Context, console *browsertest.Console, name string) (tab context.Context, cancel context.CancelFunc) {
	t.Helper()
	tab, cancel = chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // opens the tab
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	console.Watch(tab, name)
	return tab, cancel
}

// openBook loads the demo's page of book_1 for user in tab and waits
// until it is connected.
func openBook(t *testing.T, tab context.Context, d demo, name, user string) {
	t.Helper()
	step, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	err := chromedp.Do(step,
		chromedp.Navigate(d.appURL+"/?book=book_1&user="+user),
		chromedp.WaitReady(chromedp.CSS(`body[data-state="connected"]`)),
	)
	if err != nil {
		t.Fatalf("%s: open the page: %v\n%s", name, err, pageReport(tab))
	}
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

// readmePublish returns the channel and message of the README's
// `redis-cli PUBLISH` example, so the test publishes what readers will.
func readmePublish(t *testing.T) (channel, payload string) {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+redis-cli PUBLISH (\S+) '([^']+)'$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no redis-cli PUBLISH example")
	}
	return string(m[1]), string(m[2])
}

// recoveries returns wsrouter_history_recoveries_total{result="recovered"}
// of the router whose metrics listen on addr.
func recoveries(t *testing.T, addr string) float64 {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("read metrics: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read metrics: %v", err)
	}
	m := regexp.MustCompile(`(?m)^wsrouter_history_recoveries_total\{result="recovered"\} (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	return n
}

// waitText waits until the element with id shows want.
func waitText(t *testing.T, ctx context.Context, tab, id, want string, report func(context.Context) string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		fmt.Sprintf(`document.getElementById(%q).textContent === %q`, id, want),
		chromedp.WithPollingMutation(),
	)); err != nil {
		t.Fatalf("%s: #%s never showed %q: %v\n%s", tab, id, want, err, report(ctx))
	}
}

// TestDemoInBrowser opens the demo page in two tabs of headless Chromium:
// both connect and show the book, an edit in one appears in the other.
// Then the router stops, the app takes an edit while it is down (it
// publishes through the history in Redis, which stays up), and the router
// starts again on the same port: both tabs reconnect, resubscribe with
// "since" and show the edit. A screenshot of the second tab is saved to
// $WSROUTER_ARTIFACTS.
func TestDemoInBrowser(t *testing.T) {
	browserCtx := browsertest.Start(t, 1000, 900, 90*time.Second)
	d := startDemo(t)
	var negotiated extensionLog
	watchExtensions := func(ctx context.Context, name string) {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			t.Fatalf("%s: enable network events: %v", name, err)
		}
		err := chromedp.Listen(ctx, func(ev any) {
			if e, ok := ev.(*network.EventWebSocketHandshakeResponseReceived); ok && e.Response != nil {
				for k, v := range e.Response.Headers {
					if strings.EqualFold(k, "Sec-WebSocket-Extensions") {
						negotiated.set(name, fmt.Sprint(v))
					}
				}
			}
		})
		if err != nil {
			t.Fatalf("%s: listen for the WebSocket handshake: %v", name, err)
		}
	}

	var console browsertest.Console
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
		ctx, _ := newTab(t, browserCtx, &console, name)
		watchExtensions(ctx, name)
		openBook(t, ctx, d, name, user)
		step, cancelStep := context.WithTimeout(ctx, 30*time.Second)
		defer cancelStep()
		if _, err := chromedp.Run(step, chromedp.Poll[bool](`document.getElementById('version').textContent === '0'`, chromedp.WithPollingMutation())); err != nil {
			t.Fatalf("%s: the book's state never showed: %v\n%s", name, err, pageReport(ctx))
		}
		return ctx
	}
	tabA := openTab("tab A", "alice")
	tabB := openTab("tab B", "bob")
	for _, tab := range []string{"tab A", "tab B"} {
		if ext := negotiated.get(tab); !strings.HasPrefix(ext, "permessage-deflate") {
			t.Errorf("%s: the router answered Sec-WebSocket-Extensions %q, want permessage-deflate", tab, ext)
		}
	}

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

	// The README's redis-cli PUBLISH updates both tabs, and edits go on
	// working after it; a message of another shape is shown, not thrown.
	channel, payload := readmePublish(t)
	if err := d.rdb.Publish(stepB, channel, payload).Err(); err != nil {
		t.Fatalf("publish the README's message: %v", err)
	}
	waitText(t, stepB, "tab B", "title", "Edited from Redis", pageReport)
	if err := d.rdb.Publish(stepB, "books.book_1", `{"subscription":"books.book_1","data":{"title":"Not a book"}}`).Err(); err != nil {
		t.Fatalf("publish a wrong-shaped message: %v", err)
	}
	if _, err := chromedp.Run(stepB, chromedp.Poll[bool](
		`document.getElementById('error').textContent.startsWith('Ignored a message that is not a book')`,
		chromedp.WithPollingMutation(),
	)); err != nil {
		t.Fatalf("tab B shows no message for a wrong-shaped publish: %v\n%s\nconsole:\n%s", err, pageReport(tabB), console.String())
	}
	afterRedis := fmt.Sprintf("Edited in tab B at %d", time.Now().UnixNano())
	if err := chromedp.Do(stepB,
		chromedp.SetValue(chromedp.ID("edit-title"), afterRedis),
		chromedp.Click(chromedp.ID("save")),
	); err != nil {
		t.Fatalf("tab B: edit after the redis-cli message: %v\n%s", err, pageReport(tabB))
	}
	waitText(t, stepB, "tab B", "title", afterRedis, pageReport)
	if err := front(stepA); err != nil {
		t.Fatalf("tab A: bring to front: %v", err)
	}
	waitText(t, stepA, "tab A (an edit after the redis-cli message)", "title", afterRedis, pageReport)
	waitText(t, stepA, "tab A", "version", "2", pageReport)
	if err := front(stepB); err != nil {
		t.Fatalf("tab B: bring to front: %v", err)
	}

	// A router restart loses no edit: the edit made while it is down is
	// in the book's history, and the tabs recover it when they reconnect.
	d.router.Stop()
	whileDown := fmt.Sprintf("Edited while the router was down at %d", time.Now().UnixNano())
	edit := fmt.Sprintf(`{"subscription":"books.book_1","user_id":"alice","can_edit":true,"data":{"title":%q}}`, whileDown)
	res, err := http.Post(d.appURL+"/ws/books/on_message/", "application/json", strings.NewReader(edit))
	if err != nil {
		t.Fatalf("edit while the router is down: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("edit while the router is down: %s", body)
	}
	list, _ := history.Keys("books.book_1")
	kept, err := d.rdb.LRange(stepB, list, 0, -1).Result()
	if err != nil || !strings.Contains(strings.Join(kept, "\n"), whileDown) {
		t.Fatalf("the edit made while the router was down is not in the book's history (%v): %q", err, kept)
	}
	restarted := startRouter(t, d.listen, d.appURL, d.redis)
	stepR, cancelR := context.WithTimeout(tabB, 45*time.Second)
	defer cancelR()
	waitText(t, stepR, "tab B (after the restart)", "title", whileDown, pageReport)
	waitText(t, stepR, "tab B (after the restart)", "version", "3", pageReport)
	waitText(t, stepR, "tab B (after the restart)", "state", "connected", pageReport)
	if err := front(stepA); err != nil {
		t.Fatalf("tab A: bring to front: %v", err)
	}
	waitText(t, stepR, "tab A (after the restart)", "title", whileDown, pageReport)
	if err := front(stepB); err != nil {
		t.Fatalf("tab B: bring to front: %v", err)
	}
	if n := recoveries(t, restarted.MetricsListen); n < 1 {
		t.Errorf("the restarted router recovered %v subscriptions from the history, want at least 1\n%s", n, restarted.Log())
	}

	png, err := chromedp.Run(stepB, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot of tab B: %s", browsertest.Artifact(t, "books-demo.png", png))
}

// extensionLog keeps the Sec-WebSocket-Extensions each tab's last
// handshake was answered with; the browser's events arrive on its own
// goroutine.
type extensionLog struct {
	mu  sync.Mutex
	ext map[string]string
}

func (l *extensionLog) set(tab, ext string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ext == nil {
		l.ext = map[string]string{}
	}
	l.ext[tab] = ext
}

func (l *extensionLog) get(tab string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ext[tab]
}
