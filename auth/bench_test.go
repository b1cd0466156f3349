package auth

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/internal/testjwks"
)

// BenchmarkVerify is the router's CPU cost of one JWT sign-in, per kind
// of key.
func BenchmarkVerify(b *testing.B) {
	keys(b)
	claims := jwt.MapClaims{"sub": "u1", "user_id": 7, "exp": time.Now().Add(time.Hour).Unix()}
	for _, bc := range []struct {
		name string
		o    JWTOptions
		m    jwt.SigningMethod
		key  any
	}{
		{"HS256", JWTOptions{HMACSecret: testSecret}, jwt.SigningMethodHS256, testSecret},
		{"ES256", JWTOptions{PublicKey: testEC.Public()}, jwt.SigningMethodES256, testEC},
		{"EdDSA", JWTOptions{PublicKey: testEd.Public()}, jwt.SigningMethodEdDSA, testEd},
		{"RS256", JWTOptions{PublicKey: testRSA.Public()}, jwt.SigningMethodRS256, testRSA},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.o.AuthFields = []string{"sub", "user_id"}
			v := newTestVerifier(b, bc.o)
			tok := testjwks.Sign(b, bc.m, bc.key, claims)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMatch is one allowed-subscription check against a pattern
// with a star.
func BenchmarkMatch(b *testing.B) {
	for b.Loop() {
		Match("chat.customer_*_room", "chat.customer_12345_room")
	}
}
