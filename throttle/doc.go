// Package throttle owns the "throttle" message option of a subscription:
// it reads throttle periods from published options and paces one
// subscription's messages per throttle_key. Per key, the first message
// goes out at once; within the period only the newest is kept, and it goes
// out when the period since the last send has elapsed. A stream longer than
// many periods sends one message per period and then the last one.
//
// A Throttle starts no goroutines: it arms at most one clock timer per key
// with a pending message, plus one shared sweep timer that releases the
// state of keys whose period has elapsed with nothing pending, so memory
// follows the keys active in the last period. Stop cancels everything; a
// pending message never outlives its subscription.
//
// The memory per subscription is bounded: a Throttle keeps at most
// DefaultMaxKeys keys (NewLimited sets another bound). Past that, the key
// that sent least recently is forgotten; its pending message, if any, goes
// out at once, and its next message goes out at once, as if new, so no
// message is lost to the bound.
package throttle
