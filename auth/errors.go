package auth

import "errors"

// Reasons a token is refused. They are logged, never sent to a client,
// which only learns "Authentication failed.".
var (
	// ErrNoToken is returned for an empty token.
	ErrNoToken = errors.New("auth: no token")
	// ErrAlgorithm is returned when a token's alg does not fit the key
	// that would verify it (HMAC with a public key, RSA with an EC key,
	// "none").
	ErrAlgorithm = errors.New("auth: algorithm not allowed for the key")
	// ErrTokenTooLong is returned for a token longer than MaxTokenBytes,
	// before any of it is decoded.
	ErrTokenTooLong = errors.New("auth: token longer than the limit")
	// ErrNoKey is returned when no configured key verifies the token
	// (an unknown kid after the JWKS was refreshed).
	ErrNoKey = errors.New("auth: no key for the token")
)
