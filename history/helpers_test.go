package history

import (
	"context"
	"testing"
	"time"
)

// testContext is a context for one test's Redis calls, cancelled when it
// ends.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
