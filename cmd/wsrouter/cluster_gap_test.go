package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/internal/testcluster"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// TestClusterFailoverGap measures, for docs/BENCHMARKS.md, the failover
// gap: the time from a kill -9 of a master to the first delivery of a
// message published after the kill on a history name of that master, and
// to /readyz answering 200 again. It only runs with WSROUTER_FAILOVER_GAP=1
// (it measures; it asserts no time) and logs one line per run.
func TestClusterFailoverGap(t *testing.T) {
	if os.Getenv("WSROUTER_FAILOVER_GAP") != "1" {
		t.Skip("a measurement: set WSROUTER_FAILOVER_GAP=1 to run it")
	}
	for run := range 3 {
		t.Run(fmt.Sprint(run), func(t *testing.T) { measureGap(t) })
	}
}

func measureGap(t *testing.T) {
	rc := testcluster.Start(t)
	cfg := clusterConfig(t, rc)
	cfg.section("redis")["ping_interval"] = "200ms"
	cfg.section("redis")["ping_timeout"] = "1s"
	p := startRouter(t, cfg)
	rdb := rc.Client(t)
	ctx := context.Background()
	name := "hist.gap"
	owner, err := rdb.MasterForKey(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	c := wstest.DialWith(t, p.url(), wstest.Options{Queue: 100000})
	c.Subscribe(name, nil)

	type stamped struct {
		seq int
		at  time.Time
	}
	sent := make(chan stamped, 100000)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // one publish every 5ms, retried until taken
		defer close(done)
		for seq := 1; ; seq++ {
			for apiPublish(cfg, name, numbered(seq)) != nil {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
			sent <- stamped{seq, time.Now()}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	time.Sleep(time.Second)
	killed := time.Now()
	rc.Kill(t, owner.Options().Addr)

	// The first message taken after the kill, and when it is delivered.
	var first int
	for first == 0 {
		select {
		case s := <-sent:
			if s.at.After(killed) {
				first = s.seq
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no publish taken within 30s of the kill")
		}
	}
	var delivered time.Time
	for delivered.IsZero() {
		var m map[string]any
		if err := json.Unmarshal(c.NextWithin(30*time.Second), &m); err != nil {
			t.Fatal(err)
		}
		if seq, ok := seqOf(m); ok && seq >= first {
			delivered = time.Now()
		}
	}
	var ready time.Time
	for ready.IsZero() {
		if p.readyStatus() == 200 {
			ready = time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	<-done
	t.Logf("failover gap: first delivery of a message published after the kill %s after it; /readyz 200 again %s after it (cluster-node-timeout 2s)",
		delivered.Sub(killed).Round(10*time.Millisecond), ready.Sub(killed).Round(10*time.Millisecond))
}
