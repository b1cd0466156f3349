package auth

import "strings"

// Match reports whether name matches pattern, where '*' matches any run of
// bytes, even an empty one, and every other byte matches only itself ('?',
// '[' and '\' included). It runs in time linear in len(pattern)+len(name),
// whatever the pattern (a client picks the name, and `a*a*a*…b` must not
// make it backtrack), and allocates nothing: the text before the first
// star must begin the name and the text after the last star end it; each
// run between stars is taken at its leftmost place after the one before,
// which is never worse than a later one, so no choice is ever undone.
func Match(pattern, name string) bool {
	head, rest, found := strings.Cut(pattern, "*")
	if !found {
		return pattern == name
	}
	if !strings.HasPrefix(name, head) {
		return false
	}
	name = name[len(head):]
	middle, tail := "", rest
	if i := strings.LastIndexByte(rest, '*'); i >= 0 {
		middle, tail = rest[:i], rest[i+1:]
	}
	if !strings.HasSuffix(name, tail) {
		return false
	}
	name = name[:len(name)-len(tail)]
	for middle != "" {
		var seg string
		seg, middle, _ = strings.Cut(middle, "*")
		if seg == "" {
			continue
		}
		i := strings.Index(name, seg)
		if i < 0 {
			return false
		}
		name = name[i+len(seg):]
	}
	return true
}

// MatchAny reports whether name matches one of patterns.
func MatchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if Match(p, name) {
			return true
		}
	}
	return false
}

// RedisGlob returns pattern as a Redis PSUBSCRIBE glob that matches the
// same names: every glob character of Redis other than '*' ('?', '[', ']'
// and '\') is escaped with a backslash.
func RedisGlob(pattern string) string {
	if !strings.ContainsAny(pattern, `?[]\`) {
		return pattern
	}
	var b strings.Builder
	b.Grow(len(pattern) + 8)
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
