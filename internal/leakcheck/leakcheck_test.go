package leakcheck

import (
	"strings"
	"testing"
	"time"
)

// parkedForLeakTest is a goroutine body the test can find by name.
func parkedForLeakTest(started chan<- struct{}, release <-chan struct{}, done chan<- struct{}) {
	close(started)
	<-release
	close(done)
}

func TestLeaked(t *testing.T) {
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go parkedForLeakTest(started, release, done)
	<-started // a goroutine not yet run does not show its function
	const mark = "leakcheck.parkedForLeakTest"
	if got := Leaked(50*time.Millisecond, mark); !strings.Contains(got, mark) {
		t.Fatalf("a running goroutine was not reported:\n%s", got)
	}
	if got := Leaked(50*time.Millisecond, "no such function"); got != "" {
		t.Fatalf("reported goroutines that match no mark:\n%s", got)
	}
	close(release)
	<-done
	if got := Leaked(time.Second, mark); got != "" {
		t.Fatalf("an ended goroutine was reported:\n%s", got)
	}
	if Check(3, mark) != 3 {
		t.Fatal("Check changed the code of failed tests")
	}
}
