package auth

import (
	"context"
	"crypto"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/internal/testjwks"
)

// signKid makes a token with a kid header.
func signKid(t testing.TB, m jwt.SigningMethod, key any, kid string) string {
	t.Helper()
	return testjwks.SignWithKid(t, m, key, kid, jwt.MapClaims{"sub": "u1"})
}

// TestJWKSRotation: the set is fetched at start; a token with a new kid
// refreshes it once, after which the old key is gone; another unknown kid
// within the minute is refused without a fetch.
func TestJWKSRotation(t *testing.T) {
	t.Parallel()
	keys(t)
	k2 := mustEC(t, testEC.Curve)
	srv := testjwks.Start(t, map[string]crypto.PublicKey{"k1": testEC.Public()})
	v := newTestVerifier(t, JWTOptions{JWKSURL: srv.URL, AuthFields: []string{"sub"}})
	if srv.Fetches() != 1 {
		t.Fatalf("fetches at start = %d, want 1", srv.Fetches())
	}
	verify := func(tok string) error {
		_, err := v.Verify(context.Background(), tok)
		return err
	}
	if err := verify(signKid(t, jwt.SigningMethodES256, testEC, "k1")); err != nil {
		t.Fatalf("k1 refused: %v", err)
	}
	if err := verify(signKid(t, jwt.SigningMethodES256, testEC, "")); err != nil {
		t.Fatalf("token without kid refused: %v", err)
	}
	srv.Set(t, map[string]crypto.PublicKey{"k2": k2.Public()})
	if err := verify(signKid(t, jwt.SigningMethodES256, k2, "k2")); err != nil {
		t.Fatalf("k2 after rotation refused: %v", err)
	}
	if srv.Fetches() != 2 {
		t.Fatalf("fetches after rotation = %d, want 2", srv.Fetches())
	}
	if err := verify(signKid(t, jwt.SigningMethodES256, testEC, "k1")); err == nil {
		t.Fatal("k1 accepted after it was rotated out")
	}
	if err := verify(signKid(t, jwt.SigningMethodES256, k2, "k3")); err == nil {
		t.Fatal("unknown kid accepted")
	}
	if srv.Fetches() != 2 {
		t.Fatalf("fetches after unknown kids within a minute = %d, want 2", srv.Fetches())
	}
	// An HMAC token whose kid names an EC key is refused, as is an RSA one.
	if err := verify(signKid(t, jwt.SigningMethodHS256, testSecret, "k2")); err == nil {
		t.Fatal("HS256 accepted with a JWKS")
	}
	if err := verify(signKid(t, jwt.SigningMethodRS256, testRSA, "k2")); err == nil {
		t.Fatal("RS256 accepted for an EC key")
	}
}

// TestJWKSDownAtStart: a key server that is down at start does not fail
// the verifier; tokens are refused until it answers.
func TestJWKSDownAtStart(t *testing.T) {
	t.Parallel()
	keys(t)
	v := newTestVerifier(t, JWTOptions{JWKSURL: "http://127.0.0.1:1/jwks.json", AuthFields: []string{"sub"}})
	if _, err := v.Verify(context.Background(), signKid(t, jwt.SigningMethodES256, testEC, "k1")); err == nil {
		t.Fatal("accepted without keys")
	}
}
