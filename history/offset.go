package history

import (
	"strconv"
	"strings"
)

// maxEpochLen bounds an epoch accepted from a client.
const maxEpochLen = 32

// Offset is the position of a message in a name's history: the history's
// epoch and the message's sequence number in it. Its text form,
// "EPOCH:SEQ", is opaque to clients.
type Offset struct {
	// Epoch names one life of a history; a history that expired and
	// started again has a new epoch.
	Epoch string
	// Seq counts the messages of the epoch, from 1; 0 stands for "nothing
	// yet".
	Seq uint64
}

// String returns the offset's text form.
func (o Offset) String() string {
	return o.Epoch + ":" + strconv.FormatUint(o.Seq, 10)
}

// ParseOffset reads an offset's text form. It accepts only what String
// returns for an epoch the scripts make (digits), so garbage and overlong
// input are refused rather than looked up.
func ParseOffset(s string) (Offset, bool) {
	epoch, seq, ok := strings.Cut(s, ":")
	if !ok || !digits(epoch, maxEpochLen) || !digits(seq, 20) {
		return Offset{}, false
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return Offset{}, false
	}
	return Offset{Epoch: epoch, Seq: n}, true
}

// After reports whether o comes after other in the same epoch.
func (o Offset) After(other Offset) bool {
	return o.Epoch == other.Epoch && o.Seq > other.Seq
}

func digits(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
