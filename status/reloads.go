package status

import (
	"sync"
	"time"
)

// keptReloads is how many reloads the page lists.
const keptReloads = 10

// Reload is one configuration reload and its outcome.
type Reload struct {
	At time.Time `json:"at"`
	// Trigger is what asked for it: "SIGHUP" or "file changed".
	Trigger string `json:"trigger"`
	// Result is "ok" or "error".
	Result string `json:"result"`
	// Detail says what changed, or why the file was rejected.
	Detail string `json:"detail"`
}

// Reloads remembers the most recent reloads. The zero value is ready to
// use and safe for concurrent use.
type Reloads struct {
	mu   sync.Mutex
	list []Reload // newest last
}

// Record adds one reload, forgetting the oldest beyond the few it keeps.
func (r *Reloads) Record(rl Reload) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rl)
	if len(r.list) > keptReloads {
		r.list = append(r.list[:0], r.list[len(r.list)-keptReloads:]...)
	}
}

// Last returns the kept reloads, newest first.
func (r *Reloads) Last() []Reload {
	if r == nil {
		return []Reload{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Reload, len(r.list))
	for i, rl := range r.list {
		out[len(r.list)-1-i] = rl
	}
	return out
}
