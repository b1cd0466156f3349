package router

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Log lines that anyone who can reach the listener can cause (a refused
// upgrade, a client closed for what it sent) pass at strangerLogRate a
// second after a burst of strangerLogBurst; the next line that passes
// says how many were held back.
const (
	strangerLogRate  = 5
	strangerLogBurst = 20
)

// maxLoggedValue is how many characters of a value a client chose (an
// Origin header, an error that quotes a header) a log line carries.
const maxLoggedValue = 128

// strangerLog rate-limits the log lines strangers can cause, so that they
// cannot flood the log.
type strangerLog struct {
	limit      *rate.Limiter
	suppressed atomic.Int64
	now        func() time.Time
}

func newStrangerLog() *strangerLog {
	return &strangerLog{limit: rate.NewLimiter(strangerLogRate, strangerLogBurst), now: time.Now}
}

// log writes the line at level unless too many such lines were written
// lately; lines of a disabled level cost nothing.
func (l *strangerLog) log(lg *slog.Logger, level slog.Level, msg string, args ...any) {
	ctx := context.Background()
	if !lg.Enabled(ctx, level) {
		return
	}
	if l == nil { // a Router built without New, in tests
		lg.Log(ctx, level, msg, args...)
		return
	}
	if !l.limit.AllowN(l.now(), 1) {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	lg.Log(ctx, level, msg, args...)
}

// clip cuts a client-chosen value to maxLoggedValue characters for a log
// line, saying how long it was.
func clip(s string) string {
	cut := truncateRunes(s, maxLoggedValue)
	if len(cut) == len(s) {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", cut, len(s))
}

// clipErr is clip for an error's text; nil stays nil.
func clipErr(err error) any {
	if err == nil {
		return nil
	}
	return clip(err.Error())
}
