package clock

import (
	"slices"
	"testing"
	"time"
)

func TestManual(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewManual(start)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, name+"@"+c.Now().Sub(start).String()) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, at("a"))
	stopped := c.AfterFunc(2*time.Second, at("stopped"))
	c.AfterFunc(time.Second, func() {
		at("b")()
		c.AfterFunc(time.Second, at("armed-by-b")) // due within the same Advance
	})
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	if d, ok := c.Next(); !ok || d != time.Second {
		t.Fatalf("Next = %s, %v; want 1s, true", d, ok)
	}
	c.Advance(2500 * time.Millisecond)
	want := []string{"a@1s", "b@1s", "armed-by-b@2s"}
	if !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if n := c.Pending(); n != 1 {
		t.Fatalf("Pending = %d, want 1", n)
	}
	if now := c.Now().Sub(start); now != 2500*time.Millisecond {
		t.Fatalf("clock reads %s after the advance, want 2.5s", now)
	}
	c.Advance(time.Second)
	if got[len(got)-1] != "c@3s" {
		t.Fatalf("last call %s, want c@3s", got[len(got)-1])
	}
	if _, ok := c.Next(); ok {
		t.Fatal("Next reports a call when none is armed")
	}
}
