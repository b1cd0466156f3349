package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/testcluster"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// stream publishes numbered messages to each name without pause, one
// publisher per name, through the API of a router node (history names,
// which get offsets) or with SPUBLISH (plain names). A publish that fails
// (its master is down) is retried until it is taken, so the names on
// other masters keep flowing meanwhile. It records the last number taken
// for each name.
type stream struct {
	mu   sync.Mutex
	last map[string]int
	stop chan struct{}
	wg   sync.WaitGroup
}

func startStream(t *testing.T, rc *testcluster.Cluster, api config, hist, plain []string) *stream {
	st := &stream{last: map[string]int{}, stop: make(chan struct{})}
	rdb := rc.Client(t)
	publish := func(name string, seq int) error {
		if contains(hist, name) {
			return apiPublish(api, name, numbered(seq))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return spublish(ctx, rdb, name, numbered(seq))
	}
	for _, name := range append(append([]string{}, hist...), plain...) {
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			for seq := 1; ; seq++ {
				for publish(name, seq) != nil {
					select {
					case <-st.stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
				st.mu.Lock()
				st.last[name] = seq
				st.mu.Unlock()
				select {
				case <-st.stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
	}
	return st
}

// end stops the stream and returns the last number taken per name.
func (st *stream) end() map[string]int {
	close(st.stop)
	st.wg.Wait()
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.last
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestClusterFailover runs a steady stream on names spread over every
// master while one master hands over to its replica (CLUSTER FAILOVER),
// then another is killed (kill -9) and replaced by its replica, then the
// slots of one master's names move to another master (resharding). Clients on
// two router nodes: those subscribed to history names get every message
// exactly once and in order and stay connected; those subscribed to plain
// names either got every message or were closed with 1011. The routers
// are not restarted, and readiness dips while a master is dead and
// recovers.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	rc := testcluster.Start(t)
	cfgA := clusterConfig(t, rc)
	cfgB := secondNode(t, cfgA)
	a, b := startRouter(t, cfgA), startRouter(t, cfgB)
	rdb := rc.Client(t)
	ctx := context.Background()

	// Names on every master: three history names and three plain ones each.
	masters := rc.Masters(t)
	var hist, plain []string
	perMaster := map[string][2]int{}
	for i := 0; len(hist)+len(plain) < 6*len(masters); i++ {
		for _, svc := range []string{"hist", "books"} {
			name := fmt.Sprintf("%s.f%d", svc, i)
			c, err := rdb.MasterForKey(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			m := c.Options().Addr
			k := perMaster[m]
			switch {
			case svc == "hist" && k[0] < 3:
				hist = append(hist, name)
				k[0]++
			case svc == "books" && k[1] < 3:
				plain = append(plain, name)
				k[1]++
			}
			perMaster[m] = k
		}
	}

	// On each node: one client for the history names, and one client per
	// plain name (so that a closed one takes no other name with it).
	type watcher struct {
		c     *wstest.Client
		names []string
	}
	var watchers []watcher
	for _, p := range []*routerProc{a, b} {
		c := wstest.DialWith(t, p.url(), wstest.Options{Queue: 100000})
		subscribeAll(t, c, hist)
		watchers = append(watchers, watcher{c, hist})
		for _, name := range plain {
			c := wstest.DialWith(t, p.url(), wstest.Options{Queue: 100000})
			subscribeAll(t, c, []string{name})
			watchers = append(watchers, watcher{c, []string{name}})
		}
	}

	dipped := make(chan struct{})
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() { // readiness must dip while a master is dead
		defer close(watchDone)
		once := sync.Once{}
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if a.readyStatus() == 503 {
				once.Do(func() { close(dipped) })
			}
		}
	}()

	st := startStream(t, rc, cfgA, hist, plain)
	time.Sleep(500 * time.Millisecond)

	// 1. A planned handover on the master of the first history name.
	first, err := rdb.MasterForKey(ctx, hist[0])
	if err != nil {
		t.Fatal(err)
	}
	old := first.Options().Addr
	if err := rc.Node(t, masters[old]).ClusterFailover(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	waitMaster(t, rc, masters[old], 15*time.Second)
	time.Sleep(time.Second)

	// 2. A crash of another master, replaced by its replica.
	var victim string
	for m := range rc.Masters(t) {
		if m != masters[old] {
			victim = m
			break
		}
	}
	rc.Kill(t, victim)
	select {
	case <-dipped:
	case <-time.After(15 * time.Second):
		t.Error("readiness did not dip while a master was dead")
	}
	rc.WaitOK(t, 30*time.Second)
	a.waitReady(30 * time.Second)
	b.waitReady(30 * time.Second)
	time.Sleep(time.Second)

	// 3. A resharding: the slots of the names of the master promoted in
	// step 1 move, with their history keys, to another master, slot by
	// slot as redis-cli --cluster reshard moves them. The plain names of
	// the master that none of the steps touch keep their clients.
	from, to := masters[old], ""
	for m := range rc.Masters(t) {
		if m != from {
			to = m
		}
	}
	moved := 0
	for _, name := range append(append([]string{}, hist...), plain...) {
		slot, err := rdb.ClusterKeySlot(ctx, name).Result()
		if err != nil {
			t.Fatal(err)
		}
		if rc.Owner(t, int(slot)) != from {
			continue
		}
		rc.MoveSlot(t, int(slot), to)
		moved++
	}
	if moved == 0 {
		t.Fatalf("no name on %s to move", from)
	}
	time.Sleep(2 * time.Second)
	last := st.end()
	close(stopWatch)
	<-watchDone

	for i, w := range watchers {
		got := map[string][]int{}
		closed := websocket.StatusCode(0)
		deadline := time.After(15 * time.Second)
	read:
		for {
			complete := true
			for _, n := range w.names {
				if s := got[n]; len(s) == 0 || s[len(s)-1] < last[n] {
					complete = false
				}
			}
			if complete {
				break
			}
			var f []byte
			select {
			case f = <-w.c.Frames():
			case <-w.c.Done():
				select {
				case f = <-w.c.Frames(): // queued before the end
				default:
					closed = w.c.Closed()
					break read
				}
			case <-deadline:
				break read
			}
			var m map[string]any
			if err := json.Unmarshal(f, &m); err != nil {
				t.Fatalf("frame %s: %v", f, err)
			}
			if seq, ok := seqOf(m); ok && m["event"] == "message" {
				name := m["subscription"].(string)
				got[name] = append(got[name], seq)
			}
		}
		isHist := contains(hist, w.names[0])
		t.Logf("watcher %d %v: closed %d, %d names, first name %d of %d messages", i, len(w.names) > 1, closed, len(got), len(got[w.names[0]]), last[w.names[0]])
		if isHist && closed == 0 {
			select {
			case <-w.c.Done():
				t.Errorf("watcher %d (history names) was closed: %d", i, w.c.Closed())
			case <-time.After(100 * time.Millisecond):
			}
		}
		if closed != 0 {
			if isHist {
				t.Errorf("watcher %d (history names) was closed with %d; it must stay connected", i, closed)
			} else if closed != websocket.StatusInternalError {
				t.Errorf("watcher %d (%v) closed with %d, want 1011", i, w.names, closed)
			}
			continue
		}
		for _, n := range w.names {
			s := got[n]
			for j, seq := range s {
				if seq != j+1 {
					t.Errorf("watcher %d, %s: message %d is number %d (got %v)", i, n, j+1, seq, s)
					break
				}
			}
			if len(s) != last[n] {
				t.Errorf("watcher %d, %s: %d messages, %d were published", i, n, len(s), last[n])
			}
		}
	}
	for _, p := range []*routerProc{a, b} {
		if p.exited() {
			t.Error("a router exited")
		}
		for _, l := range p.logs.entries() {
			if msg := l.str("msg"); strings.Contains(msg, "interrupted") || strings.Contains(msg, "resumed") {
				t.Logf("router: %s", l.raw)
			}
		}
	}
}

// waitMaster waits until addr is a master that owns slots.
func waitMaster(t *testing.T, rc *testcluster.Cluster, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, ok := rc.Masters(t)[addr]; ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not become a master within %s", addr, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// apiPublish is POST /api/publish that returns its failure rather than
// failing the test, for publishers that retry.
func apiPublish(cfg config, name string, data any) error {
	b, err := json.Marshal(map[string]any{"subscription": name, "data": data})
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", "http://"+cfg.section("api")["listen"].(string)+"/api/publish", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("api publish: %s", resp.Status)
	}
	return nil
}
