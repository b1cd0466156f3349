// Package presence keeps who is subscribed to a subscription name, across
// every router node, in Redis (SPEC section 13).
//
// A member is the canonical JSON object of a subscription's presence
// fields. Each node records, per name, one holder entry for every member it
// has at least one local subscription of, with an expiry time that the node
// pushes forward every third of the TTL. A member held by two nodes is one
// member: it joins when its first holder appears and leaves when its last
// one goes, decided inside one Lua step so that exactly one node publishes
// each join and leave. The holders of a dead node stop being refreshed; the
// next refresh of any live node holding the same name sweeps them out and
// publishes their leave events.
//
// The three keys of a name share one hash tag, so a name's presence lives in
// one Redis Cluster slot:
//
//	PREFIX_wsrouter.presence.{NAME}.h  sorted set: NODE "\n" MEMBER -> expiry (Unix ms)
//	PREFIX_wsrouter.presence.{NAME}.m  sorted set: MEMBER -> 0 (read in byte order)
//	PREFIX_wsrouter.presence.{NAME}.c  hash: MEMBER -> number of holders
//
// Every write also sets the keys to expire after twice the TTL, so a name no
// live node holds any more disappears from Redis by itself.
package presence
