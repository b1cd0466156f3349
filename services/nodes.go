package services

import (
	"fmt"
	"math"
	"strconv"

	"gopkg.in/yaml.v3"
)

// pair is one key and value of a mapping.
type pair struct {
	key   string
	line  int
	value *yaml.Node
}

// pairs lists the keys of a mapping with merge keys (<<) applied: the
// mapping's own keys win over merged ones, and earlier merged mappings win
// over later ones. Duplicate and non-scalar keys are problems.
func (d *decoder) pairs(path string, n *yaml.Node, depth int) []pair {
	var own, merged []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if k == nil || !d.spend(n.Line) {
			return own
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(path, k.Line, "keys must be strings, got "+describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(path, val, depth+1)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(joinPath(path, k.Value), k.Line, fmt.Sprintf("duplicate key, first set on line %d", first))
			continue
		}
		seen[k.Value] = k.Line
		own = append(own, pair{key: k.Value, line: k.Line, value: val})
	}
	for _, p := range merged {
		if _, dup := seen[p.key]; !dup {
			seen[p.key] = p.line
			own = append(own, p)
		}
	}
	return own
}

// merge returns the pairs a merge key brings in.
func (d *decoder) merge(path string, n *yaml.Node, depth int) []pair {
	n = resolveAlias(n)
	if n == nil {
		return nil
	}
	if depth > maxDepth {
		d.fail(path, n.Line, fmt.Sprintf("merge keys (<<) nested deeper than %d", maxDepth))
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		return d.pairs(path, n, depth)
	case yaml.SequenceNode:
		var out []pair
		for _, item := range n.Content {
			item = resolveAlias(item)
			if item == nil || item.Kind != yaml.MappingNode {
				d.fail(path, n.Line, "a merge key (<<) takes a mapping or a list of mappings")
				continue
			}
			out = append(out, d.pairs(path, item, depth)...)
		}
		return out
	}
	d.fail(path, n.Line, "a merge key (<<) takes a mapping or a list of mappings, got "+describe(n))
	return nil
}

// resolveAlias follows aliases to the node they name.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i > maxDepth {
			return nil
		}
		n = n.Alias
	}
	return n
}

// isNull reports whether n is a YAML null (`~`, `null` or nothing).
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names a node's value for a message: a mapping, a list, or the
// scalar itself (quoted when it is a string).
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		v := n.Value
		if len(v) > 80 {
			v = v[:77] + "..."
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(v)
		}
		return v
	}
	return "an unsupported value"
}

// joinPath appends key to a dotted key path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// unknownKey is the message for an unknown key, suggesting the closest
// known one when it is a likely typo.
func unknownKey(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return "unknown key"
	}
	return fmt.Sprintf("unknown key (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
