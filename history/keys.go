package history

import "strings"

// Keys returns the history list and meta keys of a Redis channel. Both
// carry the channel's hash tag, so they share its Redis Cluster slot: the
// channel's own {tag} when it has one, else the whole channel name in
// braces. (A channel that contains '}' but no tag cannot be given a key of
// its slot; on a single Redis that does not matter.)
func Keys(channel string) (list, meta string) {
	base := channel
	if !hasHashTag(channel) {
		base = "{" + channel + "}"
	}
	return base + ":history", base + ":history.meta"
}

// hasHashTag reports whether Redis Cluster hashes name by a {tag} in it:
// a '{' followed later by a '}' with something in between.
func hasHashTag(name string) bool {
	open := strings.IndexByte(name, '{')
	if open < 0 {
		return false
	}
	end := strings.IndexByte(name[open+1:], '}')
	return end > 0
}
