package broker

import (
	"context"
	"testing"

	"github.com/wsrouter/wsrouter/internal/testredis"
)

// TestSlot: the slots Redis documents, and Redis's own CLUSTER KEYSLOT for
// names with and without hash tags.
func TestSlot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want int
	}{
		{"123456789", 12739}, // CRC-16/XMODEM check value 0x31C3
		{"foo", 12182},
		{"{user1000}.following", Slot("user1000")},
		{"foo{}{bar}", Slot("foo{}{bar}")},
		{"foo{{bar}}", Slot("{bar")},
		{"foo{bar}{zap}", Slot("bar")},
	}
	for _, tt := range tests {
		if got := Slot(tt.name); got != tt.want {
			t.Errorf("Slot(%q) = %d, want %d", tt.name, got, tt.want)
		}
	}
	rs := testredis.Start(t)
	if !rs.Real {
		return
	}
	// CLUSTER KEYSLOT answers on a server without cluster mode too.
	rdb := rs.Client(t)
	for _, name := range []string{"", "a", "books.b1", "p:books.{x}", "x{}y", "{a}{b}", "wsrouter:_wsrouter.control", "é"} {
		want, err := rdb.ClusterKeySlot(context.Background(), name).Result()
		if err != nil {
			t.Skipf("CLUSTER KEYSLOT: %v", err)
		}
		if got := Slot(name); int64(got) != want {
			t.Errorf("Slot(%q) = %d, Redis says %d", name, got, want)
		}
	}
}
