package services

import (
	"fmt"
	"strings"
)

// API configures the HTTP API of SPEC section 10. It is off unless Listen
// is set.
type API struct {
	// Listen is the API address, HOST:PORT. Default "": no API.
	Listen string `yaml:"listen"`
	// Keys are the accepted bearer keys; several allow rotation. Required
	// when Listen is set. A reload applies a changed list at once.
	Keys []string `yaml:"keys"`
	// MaxBodyBytes is the largest request body; larger answers 413.
	// Default 1048576.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TLS makes the API serve https when both files are set.
	TLS TLS `yaml:"tls"`
}

// Enabled reports whether the API is to be served.
func (a API) Enabled() bool { return a.Listen != "" }

// minAPIKeyLength is the shortest accepted API key, so that a key cannot
// be guessed in a few requests.
const minAPIKeyLength = 16

// secretPath reports whether the value at a key path is a secret that a
// problem must not show.
func secretPath(path string) bool {
	return path == "api.keys" || strings.HasPrefix(path, "api.keys[") ||
		path == "redis.cluster.password" || path == "redis_alt.cluster.password"
}

// defaultAPIMaxBodyBytes is api.max_body_bytes when not set.
const defaultAPIMaxBodyBytes = 1 << 20

// api checks the api section. Key values are never put in a problem: they
// are secrets, and problems are logged.
func (v *validator) api(a API, listen, metrics string) {
	v.atLeastOne("api.max_body_bytes", a.MaxBodyBytes)
	if !a.Enabled() {
		return
	}
	if err := checkHostPort(a.Listen); err != nil {
		v.add("api.listen", err.Error())
	} else if !strings.HasSuffix(a.Listen, ":0") {
		for _, other := range []struct{ key, addr string }{{"listen", listen}, {"metrics.listen", metrics}} {
			if a.Listen == other.addr {
				v.add("api.listen", fmt.Sprintf("must differ from %s, both are %q", other.key, a.Listen), other.key)
			}
		}
	}
	v.tls("api.tls", a.TLS)
	if len(a.Keys) == 0 {
		v.add("api.keys", "at least one key is required when api.listen is set")
	}
	first := map[string]int{}
	for i, k := range a.Keys {
		p := indexPath("api.keys", i)
		switch j, dup := first[k]; {
		case len(k) < minAPIKeyLength:
			v.add(p, fmt.Sprintf("must be at least %d characters, got %d", minAPIKeyLength, len(k)))
		case strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r >= 0x7f }):
			v.add(p, "must be printable ASCII without spaces (it is sent in an Authorization header)")
		case dup:
			v.add(p, "duplicate key, also at "+indexPath("api.keys", j))
		default:
			first[k] = i
		}
	}
}
