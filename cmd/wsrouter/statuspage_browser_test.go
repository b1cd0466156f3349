package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/browsertest"
	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
	"github.com/wsrouter/wsrouter/status"
)

// updateDocs makes the status page's browser test replace the screenshot
// the documentation shows (docs/status-page.png).
var updateDocs = flag.Bool("update-docs", false, "rewrite docs/status-page.png from the status page test")

// statusJSON fetches and decodes /status.json.
func (p *routerProc) statusJSON() status.Snapshot {
	p.t.Helper()
	code, body, err := p.get("/status.json")
	if err != nil || code != 200 {
		p.t.Fatalf("/status.json: %d %v", code, err)
	}
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		p.t.Fatalf("/status.json: %v\n%s", err, body)
	}
	return snap
}

// traffic keeps clients connected and a publisher publishing until stop.
type traffic struct {
	stop chan struct{}
	wg   sync.WaitGroup
}

// reader is a client that reads and discards every frame until its
// connection closes.
func reader(t *testing.T, url string, subs ...string) *websocket.Conn {
	t.Helper()
	conn, err := wstest.DialConn(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range subs {
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"`+s+`"}`)); err != nil {
			t.Fatal(err)
		}
		if _, b, err := conn.Read(ctx); err != nil || !strings.Contains(string(b), `"status":"ok"`) {
			t.Fatalf("subscribe %s: %s %v", s, b, err)
		}
	}
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	return conn
}

// TestStatusPageInBrowser runs the router with clients, callbacks, a slow
// consumer and a steady publisher, opens /status in headless Chromium,
// waits for the charts to draw, and checks that the numbers on the page
// are those of /status.json and /metrics. It saves a screenshot to
// $WSROUTER_ARTIFACTS (and, with -update-docs, to docs/status-page.png)
// and fails on any console error.
func TestStatusPageInBrowser(t *testing.T) {
	browser := browsertest.Start(t, 1280, 1000, 3*time.Minute)
	rs := testredis.Start(t)
	svc := wstest.NewService(t)
	svc.On("/authorizer", func(map[string]any) (int, any) {
		time.Sleep(3 * time.Millisecond) // a latency worth a percentile
		return 200, map[string]any{"status": "ok"}
	})
	cfg := baseConfig(t, rs.URL())
	cfg["log"] = map[string]any{"level": "info", "format": "json"}
	// A client's queue overflows past 1 MiB; the readers only ever get
	// small messages, so only the client that never reads overflows.
	cfg["websocket"] = map[string]any{"send_queue_bytes": 1 << 20}
	cfg.services()["books"] = callbacksAt(svc, "authorizer", "before_subscribe", "on_unsubscribe")
	cfg.services()["chat"] = map[string]any{"require_authentication": false}
	p := startRouter(t, cfg)
	p.signal(syscall.SIGHUP)
	p.waitReloads(1, "SIGHUP")

	const books, chatters = 6, 3
	for i := range books {
		subs := []string{fmt.Sprintf("books.b%d", i)}
		if i < chatters {
			subs = append(subs, "chat.room")
		}
		reader(t, p.url(), subs...)
	}
	// A client that never reads: its queue fills and it is dropped as a
	// slow consumer.
	slow, err := wstest.DialConn(context.Background(), p.url(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := slow.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"chat.lobby"}`)); err != nil {
		t.Fatal(err)
	}

	// Publish for three samples' worth of time (the page samples every 5 s).
	pub := newPublisher(t, rs)
	big := strings.Repeat("x", 256<<10)
	var slowDropped atomic.Int64
	tr := &traffic{stop: make(chan struct{})}
	tr.wg.Add(1)
	go func() {
		defer tr.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			pub.publish(fmt.Sprintf("books.b%d", i%books), map[string]any{"seq": i})
			pub.publish("chat.room", map[string]any{"seq": i})
			if slowDropped.Load() == 0 {
				pub.publish("chat.lobby", big) // until the socket's buffers and the queue are full
			}
		}
	}()
	stopTraffic := sync.OnceFunc(func() { close(tr.stop); tr.wg.Wait() })
	defer stopTraffic()
	wstest.Eventually(t, 30*time.Second, "the slow consumer dropped", func() bool {
		n := p.metric("wsrouter_dropped_total", "reason=slow_consumer")
		slowDropped.Store(int64(n))
		return n == 1
	})
	wstest.Eventually(t, 30*time.Second, "three samples with deliveries", func() bool {
		n := 0
		for _, r := range p.statusJSON().Series.DeliveriesPerS {
			if r > 0 {
				n++
			}
		}
		return n >= 3
	})
	stopTraffic()

	// Once a sample is taken after the traffic stopped, /status.json and
	// /metrics agree and stay put.
	var snap status.Snapshot
	wstest.Eventually(t, 20*time.Second, "a sample after the traffic stopped", func() bool {
		snap = p.statusJSON()
		return snap.Current.Deliveries == p.metric("wsrouter_deliveries_total") && snap.Current.DeliveriesPerS == 0
	})
	metricChecks := []struct {
		what       string
		page, json float64
		metric     string
		labels     []string
	}{
		{"connections", 0, snap.Current.Connections, "wsrouter_connections", nil},
		{"deliveries", 0, snap.Current.Deliveries, "wsrouter_deliveries_total", nil},
		{"slow consumer drops", 0, snap.Current.Dropped["slow_consumer"], "wsrouter_dropped_total", []string{"reason=slow_consumer"}},
		{"books subscriptions", 0, snap.Current.ByService["books"], "wsrouter_subscriptions", []string{"service=books"}},
		{"chat subscriptions", 0, snap.Current.ByService["chat"], "wsrouter_subscriptions", []string{"service=chat"}},
	}
	for _, c := range metricChecks {
		if got := p.metric(c.metric, c.labels...); got != c.json {
			t.Errorf("%s: /status.json says %v, /metrics %v", c.what, c.json, got)
		}
	}
	if snap.Current.Connections != books || snap.Current.ByService["books"] != books || snap.Current.ByService["chat"] != chatters {
		t.Errorf("/status.json current = %+v, want %d connections, %d books and %d chat subscriptions", snap.Current, books, books, chatters)
	}

	var console browsertest.Console
	tab, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	console.Watch(tab, "status")
	step, cancelStep := context.WithTimeout(tab, 60*time.Second)
	defer cancelStep()
	if err := chromedp.Do(step,
		chromedp.Navigate("http://"+p.metrics+"/status"),
		chromedp.WaitReady(chromedp.CSS(`body[data-state="ok"]`)),
	); err != nil {
		t.Fatalf("open /status: %v\nconsole:\n%s", err, console.String())
	}
	// The page refreshes every 5 s; wait until it shows the sample checked
	// above, with every chart drawn.
	sampledAt := snap.Current.SampledAt.Format(time.RFC3339Nano)
	if _, err := chromedp.Run(step, chromedp.Poll[bool](fmt.Sprintf(
		`new Date(document.body.dataset.sampledAt).getTime() >= %d &&
		 ['connections','subscriptions','deliveries','drops'].every(n => Number(document.getElementById('chart-'+n).dataset.points) > 0 &&
		   document.querySelector('#chart-'+n+' path.line') !== null)`, snap.Current.SampledAt.UnixMilli()))); err != nil {
		t.Fatalf("the page never showed the sample of %s with its charts drawn: %v\nconsole:\n%s", sampledAt, err, console.String())
	}
	page, err := chromedp.Run(step, chromedp.Evaluate[map[string]string](`(() => {
		const out = {};
		for (const id of ['connections','subscriptions','deliveries-total','drops-total','deliveries-rate','redis-summary','ready'])
			out[id] = document.getElementById(id).textContent;
		out.sampledAt = document.body.dataset.sampledAt;
		out.subscriptionLines = [...document.querySelectorAll('#chart-subscriptions path.line')].map(p => p.dataset.series).join(',');
		out.dropLines = [...document.querySelectorAll('#chart-drops path.line')].map(p => p.dataset.series).join(',');
		out.callbacks = [...document.querySelectorAll('#callbacks tbody tr')].map(r => [...r.cells].map(c => c.textContent).join('|')).join('\n');
		out.services = [...document.querySelectorAll('#services tbody tr')].map(r => r.cells[0].textContent + '=' + r.cells[1].textContent).join(',');
		out.reloads = [...document.querySelectorAll('#reloads tbody tr')].map(r => r.cells[1].textContent + ':' + r.cells[2].textContent).join(',');
		out.nodes = document.querySelector('#nodes tbody').textContent;
		return out;
	})()`))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	// The page may have moved to a newer sample; with no traffic its
	// numbers are the same.
	latest := p.statusJSON()
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	checks := []struct{ what, got, want string }{
		{"connections", page["connections"], num(latest.Current.Connections)},
		{"subscriptions", page["subscriptions"], num(latest.Current.Subscriptions)},
		{"deliveries total", strings.ReplaceAll(page["deliveries-total"], ",", ""), num(snap.Current.Deliveries)},
		{"drops total", page["drops-total"], num(latest.Current.DroppedAllTotal)},
		{"deliveries per second", page["deliveries-rate"], "0"},
		{"redis", page["redis-summary"], "1 / 1 up"},
		{"readiness", page["ready"], "ready"},
		{"subscription chart lines", page["subscriptionLines"], "books,chat"},
		{"services table", page["services"], fmt.Sprintf("books=%d,chat=%d", books, chatters)},
		{"reloads table", page["reloads"], "SIGHUP:ok"},
		{"nodes table", page["nodes"], "The HTTP API is off (api.listen): no node records to list."},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("page %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if !strings.Contains(page["dropLines"], "slow_consumer") {
		t.Errorf("drops chart lines %q, want slow_consumer among them", page["dropLines"])
	}
	authz := p.metric("wsrouter_service_callback_duration_seconds_count", "service=books", "callback=authorizer", "result=ok")
	if want := fmt.Sprintf("books|authorizer|%v|0|0|", authz); !strings.Contains(page["callbacks"], want) || authz != books {
		t.Errorf("callbacks table:\n%s\nwant a row starting %q (/metrics counts %v authorizer calls, the test made %d)", page["callbacks"], want, authz, books)
	}

	png, err := chromedp.Run(step, chromedp.FullScreenshot(100)) // 100: PNG; below it, JPEG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot of the status page: %s", browsertest.Artifact(t, "status-page.png", png))
	if *updateDocs {
		path := filepath.Join("..", "..", "docs", "status-page.png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the status page: %s", path)
	}
	if lines := console.Lines(); len(lines) > 0 {
		t.Errorf("browser console:\n%s", strings.Join(lines, "\n"))
	}
}
