package auth

import "strings"

// Match reports whether name matches pattern, where '*' matches any run of
// bytes, even an empty one, and every other byte matches only itself ('?',
// '[' and '\' included). It runs in O(len(pattern)·len(name)) at worst and
// allocates nothing.
func Match(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			// Let the last '*' take one more byte and try again from there.
			mark++
			p, n = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
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
