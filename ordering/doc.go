// Package ordering owns the "order" message option of a subscription: it
// reads order and order_key values from published options and remembers,
// per subscription, the highest order seen for each key so that a message
// whose order is lower than or equal to that is dropped.
//
// The memory per subscription is bounded. A Filter keeps at most maxKeys
// keys besides the default key (""); past that, the least recently updated
// key is forgotten, and a forgotten key accepts its next message as if it
// were new. Only an accepted order (or a Seed that raises it) counts as an
// update; a dropped message does not refresh its key. The default key is
// held outside the map, is never forgotten and costs no allocation.
package ordering
