package presence

import "strings"

// keys returns the holders, members and counts keys of a name. The name is
// the hash tag, so the three share one Redis Cluster slot.
func keys(prefix, name string) []string {
	base := prefix + "_wsrouter.presence.{" + name + "}."
	return []string{base + "h", base + "m", base + "c"}
}

// holder is the entry a node keeps for one member of a name. Node ids and
// compact JSON never contain a raw newline, so the first one separates
// them.
func holder(node, member string) string {
	return node + "\n" + member
}

// holderMember returns the member of a holder entry.
func holderMember(h string) string {
	_, member, _ := strings.Cut(h, "\n")
	return member
}
