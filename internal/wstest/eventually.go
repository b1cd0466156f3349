package wstest

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds, failing the test when it still
// does not after within. It polls often at first and then every 50ms, so
// a condition that costs a request is not asked too often.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	wait := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("wstest: timed out after %s waiting for %s", within, what)
		}
		time.Sleep(wait)
		wait = min(2*wait, 50*time.Millisecond)
	}
}
