// Package testjwks is a JWKS server for tests: it serves the public keys
// it is given, can rotate them, and counts the fetches; and it signs the
// tests' tokens.
package testjwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Server serves a JWK Set at URL.
type Server struct {
	// URL is the set's address.
	URL string
	// CAFile is, for a server of StartTLS, a PEM file of its certificate
	// (to trust as http.ca_file); "" otherwise.
	CAFile string

	mu      sync.Mutex
	body    []byte
	fetches atomic.Int64
}

// Start serves keys (kid to public key) over HTTP until the test ends.
func Start(t testing.TB, keys map[string]crypto.PublicKey) *Server {
	t.Helper()
	return start(t, keys, false)
}

// StartTLS is Start over HTTPS, with a certificate no system root trusts.
func StartTLS(t testing.TB, keys map[string]crypto.PublicKey) *Server {
	t.Helper()
	return start(t, keys, true)
}

func start(t testing.TB, keys map[string]crypto.PublicKey, useTLS bool) *Server {
	t.Helper()
	s := &Server{}
	s.Set(t, keys)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body := s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	if useTLS {
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a client that does not trust it fails the handshake
		srv.StartTLS()
		s.CAFile = filepath.Join(t.TempDir(), "ca.pem")
		cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		if err := os.WriteFile(s.CAFile, cert, 0o600); err != nil {
			t.Fatalf("testjwks: %v", err)
		}
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/.well-known/jwks.json"
	return s
}

// Set replaces the served keys (a rotation).
func (s *Server) Set(t testing.TB, keys map[string]crypto.PublicKey) {
	t.Helper()
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	for kid, k := range keys {
		jwk := jwkOf(k)
		if jwk == nil {
			t.Fatalf("testjwks: unsupported key %T", k)
		}
		jwk["kid"] = kid
		set.Keys = append(set.Keys, jwk)
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatalf("testjwks: %v", err)
	}
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

// Fetches is how many times the set was fetched.
func (s *Server) Fetches() int64 { return s.fetches.Load() }

// jwkOf is the JWK (RFC 7517, 7518, 8037) of a public key.
func jwkOf(k crypto.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		raw, err := k.Bytes() // 0x04 || X || Y
		if err != nil {
			return nil
		}
		return map[string]string{"kty": "EC", "crv": k.Curve.Params().Name, "x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(k)}
	}
	return nil
}

// Sign makes a token of claims, signed with method and key.
func Sign(t testing.TB, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	return SignWithKid(t, m, key, "", claims)
}

// SignWithKid is Sign with a kid header naming the key ("" for none).
func SignWithKid(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("testjwks: sign: %v", err)
	}
	return s
}
