package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/wsrouter/wsrouter/internal/browsertest"
)

// TestDemoShowsReadersInBrowser opens the demo page in two tabs of
// headless Chromium: the second tab's reader appears in the first tab's
// "Reading now" list, and disappears when the second tab closes.
func TestDemoShowsReadersInBrowser(t *testing.T) {
	browserCtx := browsertest.Start(t, 1000, 900, 90*time.Second)
	d := startDemo(t)

	var console browsertest.Console
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", console.String())
		}
	}()
	openTab := func(name, user string) (context.Context, context.CancelFunc) {
		ctx, cancel := newTab(t, browserCtx, &console, name)
		openBook(t, ctx, d, name, user)
		return ctx, cancel
	}
	// readersAre brings tab to the front (a hidden page gets no animation
	// frames) and waits until its list of readers reads want.
	readersAre := func(name string, tab context.Context, want string) {
		t.Helper()
		step, cancel := context.WithTimeout(tab, 20*time.Second)
		defer cancel()
		if _, err := chromedp.Call(step, page.BringToFront, cdp.Empty{}); err != nil {
			t.Fatalf("%s: bring to front: %v", name, err)
		}
		js := fmt.Sprintf(`[...document.querySelectorAll('#readers li')].map((li) => li.textContent).join(', ') === %q`, want)
		if _, err := chromedp.Run(step, chromedp.Poll[bool](js, chromedp.WithPollingMutation())); err != nil {
			got, _ := chromedp.Run(tab, chromedp.TextContent(chromedp.ID("readers")))
			t.Fatalf("%s: readers never read %q (last %q): %v\n%s", name, want, got, err, pageReport(tab))
		}
	}

	tabA, _ := openTab("tab A", "alice")
	readersAre("tab A", tabA, "alice (you)")
	tabB, closeB := openTab("tab B", "bob")
	readersAre("tab B", tabB, "alice, bob (you)")
	readersAre("tab A", tabA, "alice (you), bob")
	closeB()
	readersAre("tab A", tabA, "alice (you)")
}
