package ordering

// DefaultMaxKeys is the number of keys a Filter keeps when New is given
// maxKeys <= 0.
const DefaultMaxKeys = 1024

// none marks the end of the recency list.
const none = -1

// Filter remembers the highest order seen per key for one subscription.
// Keys other than the default key live in a map of slot indexes; the slots
// form a doubly linked list from the most to the least recently updated,
// so updating and forgetting a key cost no allocation.
//
// A Filter is not safe for concurrent use; the caller serialises calls.
type Filter struct {
	maxKeys int

	hasDefault   bool
	defaultOrder float64

	index map[string]int
	slots []slot
	head  int // most recently updated slot, or none
	tail  int // least recently updated slot, or none
}

// slot is one remembered key and its place in the recency list.
type slot struct {
	key   string
	order float64
	prev  int
	next  int
}

// New returns a Filter that keeps at most maxKeys keys besides the default
// key. maxKeys <= 0 means DefaultMaxKeys.
func New(maxKeys int) *Filter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Filter{maxKeys: maxKeys, head: none, tail: none}
}

// Allow reports whether a message with this order passes: true when order
// is greater than the highest seen for key, or key is new, and then records
// it as the highest. An equal or lower order returns false and changes
// nothing. A NaN order never passes.
func (f *Filter) Allow(key string, order float64) bool {
	if order != order { // NaN
		return false
	}
	if key == "" {
		if f.hasDefault && order <= f.defaultOrder {
			return false
		}
		f.hasDefault = true
		f.defaultOrder = order
		return true
	}
	if i, ok := f.index[key]; ok {
		s := &f.slots[i]
		if order <= s.order {
			return false
		}
		s.order = order
		f.moveToFront(i)
		return true
	}
	f.insert(key, order)
	return true
}

// Seed records order as the highest seen for key, as if a message with
// that order had passed; it never lowers what is already recorded. It is
// used for the options.order of a before_subscribe answer.
func (f *Filter) Seed(key string, order float64) {
	f.Allow(key, order)
}

// Len returns the number of keys remembered, the default key included.
func (f *Filter) Len() int {
	n := len(f.index)
	if f.hasDefault {
		n++
	}
	return n
}

// insert records a new key, forgetting the least recently updated one
// when the filter is full.
func (f *Filter) insert(key string, order float64) {
	if f.index == nil {
		f.index = make(map[string]int)
	}
	var i int
	if len(f.index) < f.maxKeys {
		i = len(f.slots)
		f.slots = append(f.slots, slot{prev: none, next: none})
	} else {
		i = f.tail
		f.unlink(i)
		delete(f.index, f.slots[i].key)
	}
	f.slots[i].key = key
	f.slots[i].order = order
	f.index[key] = i
	f.pushFront(i)
}

// moveToFront marks slot i as the most recently updated.
func (f *Filter) moveToFront(i int) {
	if f.head == i {
		return
	}
	f.unlink(i)
	f.pushFront(i)
}

func (f *Filter) unlink(i int) {
	s := &f.slots[i]
	if s.prev != none {
		f.slots[s.prev].next = s.next
	} else {
		f.head = s.next
	}
	if s.next != none {
		f.slots[s.next].prev = s.prev
	} else {
		f.tail = s.prev
	}
	s.prev, s.next = none, none
}

func (f *Filter) pushFront(i int) {
	s := &f.slots[i]
	s.prev = none
	s.next = f.head
	if f.head != none {
		f.slots[f.head].prev = i
	}
	f.head = i
	if f.tail == none {
		f.tail = i
	}
}
