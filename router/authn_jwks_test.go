package router

import (
	"crypto"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/internal/testjwks"
	"github.com/wsrouter/wsrouter/services"
)

// TestJWKSTrustsCAFile: the JWKS is fetched with the callbacks' TLS
// settings, so a key server whose certificate only http.ca_file vouches
// for signs sessions in, and without ca_file it does not.
func TestJWKSTrustsCAFile(t *testing.T) {
	t.Parallel()
	k := newJWTKeys(t)
	srv := testjwks.StartTLS(t, map[string]crypto.PublicKey{"k1": k.ec.Public()})
	tok := testjwks.SignWithKid(t, jwt.SigningMethodES256, k.ec, "k1", jwt.MapClaims{"sub": "u1"})
	cases := []struct {
		name   string
		caFile string
		want   string
	}{
		{"trusted through ca_file", srv.CAFile, `{"event":"auth","status":"ok"}`},
		{"unknown authority without it", "", `{"event":"auth","status":"error","error":"Authentication failed."}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.HTTP.CAFile = tc.caFile
			cfg.Authentication = &services.Authentication{JWT: &services.JWT{JWKSURL: srv.URL}}
			h := newHarness(t, cfg)
			c := h.dial()
			c.Send(authJWT(tok))
			c.Expect(tc.want)
		})
	}
}
