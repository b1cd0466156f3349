package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// keyring holds the digests of the accepted keys. Comparing digests of
// equal length in constant time, against every key, tells an attacker
// neither a key's length nor how much of it matched, nor which key it was.
type keyring [][sha256.Size]byte

func newKeyring(keys []string) keyring {
	k := make(keyring, len(keys))
	for i, key := range keys {
		k[i] = sha256.Sum256([]byte(key))
	}
	return k
}

// allows reports whether an Authorization header carries one of the keys.
func (k keyring) allows(header string) bool {
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(key)))
	match := 0
	for _, want := range k {
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// keyParams are query parameters that carry a key in other APIs; a key
// there is refused with a hint, because URLs end up in logs.
var keyParams = []string{"key", "api_key", "apikey", "token", "access_token", "auth"}

// unauthorized is the 401 for a request without a valid key.
func unauthorized(req *http.Request) *Error {
	q := req.URL.Query()
	for _, p := range keyParams {
		if q.Has(p) {
			return &Error{Status: http.StatusUnauthorized,
				Text: "the API key must be sent as Authorization: Bearer KEY, never in the URL (URLs are logged)"}
		}
	}
	if req.Header.Get("Authorization") == "" {
		return &Error{Status: http.StatusUnauthorized, Text: "missing Authorization: Bearer KEY header"}
	}
	return &Error{Status: http.StatusUnauthorized, Text: "invalid API key"}
}
