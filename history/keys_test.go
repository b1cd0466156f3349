package history

import "testing"

// slot is the Redis Cluster hash slot of a key or channel: CRC16 (XMODEM)
// of its hash tag, or of the whole name without one, modulo 16384.
func slot(name string) uint16 {
	if hasHashTag(name) {
		open := 0
		for name[open] != '{' {
			open++
		}
		end := open + 1
		for name[end] != '}' {
			end++
		}
		name = name[open+1 : end]
	}
	var crc uint16
	for i := 0; i < len(name); i++ {
		crc ^= uint16(name[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

func TestKeysShareTheChannelSlot(t *testing.T) {
	t.Parallel()
	if got := slot("123456789"); got != 0x31C3%16384 {
		t.Fatalf("crc16 check value %#x", got)
	}
	for _, channel := range []string{
		"books.b1",
		"app:books.b1",
		"{app}:books.b1",
		"books.{b1}",
		"books.{a{b}",
		"books.b1{",
	} {
		list, meta := Keys(channel)
		if list == meta {
			t.Fatalf("%s: list and meta are both %q", channel, list)
		}
		if slot(list) != slot(channel) || slot(meta) != slot(channel) {
			t.Errorf("%s (slot %d): keys %s (%d), %s (%d)", channel, slot(channel), list, slot(list), meta, slot(meta))
		}
	}
}
