package main

import (
	"syscall"
	"testing"
	"time"
)

// TestReloadRemovesServiceDuringSubscribe: a subscribe still waiting for
// before_subscribe when its service is removed must not leave a live
// subscription to the removed service behind.
func TestReloadRemovesServiceDuringSubscribe(t *testing.T) {
	t.Parallel()
	f := newReloadFixture(t, nil)
	withNews := f.cfg.clone()
	withNews.services()["news"] = callbacksAt(f.svc, "before_subscribe")
	f.p.writeConfig(withNews)
	f.p.waitReloads(1, "")

	release := f.svc.Block("/before_subscribe")
	f.client.Send(subscribeEvent("news.race"))
	f.svc.WaitCalls("/before_subscribe", 1, 5*time.Second) // the subscribe is in step 3

	f.p.writeConfig(f.cfg) // news removed
	f.p.signal(syscall.SIGHUP)
	f.p.waitReloads(1, "SIGHUP")
	release()

	// Whatever the client is told, the router must not stay subscribed to
	// the removed service's channel.
	first := f.client.ReadWithin(5 * time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for f.pub.publish("news.race", "ghost") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("subscribe answered %v, and 3s after the reload that removed news the router "+
				"is still subscribed to news.race in Redis (the client receives its messages: %v)",
				first, f.client.ReadWithin(time.Second))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if first["status"] == "ok" {
		for {
			m := f.client.ReadWithin(5 * time.Second)
			if m["event"] == "unsubscribe" {
				if m["error"] != "Service removed." {
					t.Errorf("forced unsubscribe %v", m)
				}
				break
			}
		}
	}
	f.checkKeepReceiving()
}
