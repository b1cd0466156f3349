package broker

import (
	"strconv"
	"strings"
)

// hashSlots is the number of Redis Cluster hash slots.
const hashSlots = 16384

// crcTable is CRC-16/XMODEM (polynomial 0x1021), the checksum Redis
// Cluster hashes keys and shard channels with.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc16(s string) uint16 {
	var c uint16
	for i := 0; i < len(s); i++ {
		c = c<<8 ^ crcTable[byte(c>>8)^s[i]]
	}
	return c
}

// Slot returns the hash slot of a key or shard channel: that of its {tag}
// when it has a non-empty one, else of the whole name.
func Slot(name string) int {
	if open := strings.IndexByte(name, '{'); open >= 0 {
		if end := strings.IndexByte(name[open+1:], '}'); end > 0 {
			name = name[open+1 : open+1+end]
		}
	}
	return int(crc16(name)) % hashSlots
}

// tagFor returns a "{tag}" suffix whose slot owned reports true for, so
// that a channel of a fixed name lives on a chosen master; "" when none of
// the first 100,000 tags lands there.
func tagFor(owned func(slot int) bool) string {
	for i := range 100_000 {
		tag := strconv.Itoa(i)
		if owned(int(crc16(tag)) % hashSlots) {
			return "{" + tag + "}"
		}
	}
	return ""
}
