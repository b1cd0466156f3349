package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/internal/testjwks"
)

var (
	testKeysOnce sync.Once
	testRSA      *rsa.PrivateKey
	testEC       *ecdsa.PrivateKey
	testEd       ed25519.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	testKeysOnce.Do(func() {
		var err error
		if testRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if testEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, testEd, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

var testSecret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes: HS256 only

func pemOf(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	keys(t)
	for _, pub := range []crypto.PublicKey{testRSA.Public(), testEC.Public(), testEd.Public()} {
		if _, err := ParsePublicKey(pemOf(t, pub)); err != nil {
			t.Errorf("%T: %v", pub, err)
		}
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := ParsePublicKey(pemOf(t, small.Public())); err == nil {
		t.Error("a 1024-bit RSA key was accepted")
	}
	der, _ := x509.MarshalPKCS8PrivateKey(testEC)
	if _, err := ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err == nil {
		t.Error("a private key was accepted as a public key")
	}
	if _, err := ParseHMACSecret([]byte("short\n")); err == nil {
		t.Error("a short secret was accepted")
	}
	if s, err := ParseHMACSecret(append(append([]byte{}, testSecret...), '\n')); err != nil || string(s) != string(testSecret) {
		t.Errorf("secret with a newline = %q, %v", s, err)
	}
}

// TestVerifyRefusesAttacks is the table of tokens a verifier must refuse,
// next to those it must accept, for each kind of key.
func TestVerifyRefusesAttacks(t *testing.T) {
	t.Parallel()
	keys(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "u1", "user_id": 7, "iss": "https://issuer", "aud": "wsrouter",
			"exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims { c := valid(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := valid(); delete(c, k); return c }
	rsaPEM := pemOf(t, testRSA.Public())
	hmacV := newTestVerifier(t, JWTOptions{HMACSecret: testSecret, Issuer: "https://issuer", Audience: "wsrouter", Now: clock, AuthFields: []string{"sub"}})
	rsaV := newTestVerifier(t, JWTOptions{PublicKey: testRSA.Public(), Issuer: "https://issuer", Audience: "wsrouter", Now: clock, AuthFields: []string{"sub"}})
	ecV := newTestVerifier(t, JWTOptions{PublicKey: testEC.Public(), Now: clock, AuthFields: []string{"sub"}})
	edV := newTestVerifier(t, JWTOptions{PublicKey: testEd.Public(), Now: clock, AuthFields: []string{"sub"}})
	none := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tamper := func(tok string) string {
		parts := strings.Split(tok, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"u1"`, `"u2"`, 1))
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		return strings.Join(parts, ".")
	}
	cases := []struct {
		name  string
		v     *Verifier
		token string
		ok    bool
	}{
		{"hmac valid", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, valid()), true},
		{"rsa valid", rsaV, testjwks.Sign(t, jwt.SigningMethodRS256, testRSA, valid()), true},
		{"rsa-pss valid", rsaV, testjwks.Sign(t, jwt.SigningMethodPS384, testRSA, valid()), true},
		{"ecdsa valid", ecV, testjwks.Sign(t, jwt.SigningMethodES256, testEC, valid()), true},
		{"ed25519 valid", edV, testjwks.Sign(t, jwt.SigningMethodEdDSA, testEd, valid()), true},
		{"no exp, no nbf", ecV, testjwks.Sign(t, jwt.SigningMethodES256, testEC, jwt.MapClaims{"sub": "u1"}), true},

		{"alg none", hmacV, none(valid()), false},
		{"alg none with a public key", rsaV, none(valid()), false},
		{"hmac signed with the public key's PEM", rsaV, testjwks.Sign(t, jwt.SigningMethodHS256, rsaPEM, valid()), false},
		{"hmac signed with the public key's DER", rsaV, testjwks.Sign(t, jwt.SigningMethodHS256, x509.MarshalPKCS1PublicKey(&testRSA.PublicKey), valid()), false},
		{"hmac hash longer than the secret", hmacV, testjwks.Sign(t, jwt.SigningMethodHS512, testSecret, valid()), false},
		{"rsa token for an ec key", ecV, testjwks.Sign(t, jwt.SigningMethodRS256, testRSA, valid()), false},
		{"ES384 for a P-256 key", ecV, testjwks.Sign(t, jwt.SigningMethodES384, mustEC(t, elliptic.P384()), valid()), false},
		{"another key", edV, testjwks.Sign(t, jwt.SigningMethodEdDSA, mustEd(t), valid()), false},
		{"expired", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, with("exp", now.Add(-time.Second).Unix())), false},
		{"exp not a number", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, with("exp", "tomorrow")), false},
		{"not yet valid", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, with("nbf", now.Add(time.Minute).Unix())), false},
		{"wrong issuer", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, with("iss", "https://evil")), false},
		{"no issuer", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, without("iss")), false},
		{"wrong audience", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, with("aud", "other")), false},
		{"audience list without ours", rsaV, testjwks.Sign(t, jwt.SigningMethodRS256, testRSA, with("aud", []string{"a", "b"})), false},
		{"audience list with ours", rsaV, testjwks.Sign(t, jwt.SigningMethodRS256, testRSA, with("aud", []string{"a", "wsrouter"})), true},
		{"no audience", hmacV, testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, without("aud")), false},
		{"tampered payload", hmacV, tamper(testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, valid())), false},
		{"tampered rsa payload", rsaV, tamper(testjwks.Sign(t, jwt.SigningMethodRS256, testRSA, valid())), false},
		{"garbage", hmacV, "not.a.token", false},
		{"empty", hmacV, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.v.Verify(context.Background(), tc.token)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if string(id.Fields["sub"]) != `"u1"` {
					t.Errorf("fields = %s", id.Fields)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestVerifyIdentity(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	v := newTestVerifier(t, JWTOptions{HMACSecret: testSecret, AuthFields: []string{"sub", "user_id", "org"}, Now: func() time.Time { return now }})
	exp := now.Add(90 * time.Second)
	tok := testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{
		"sub": "u1", "user_id": 9007199254740993, "other": 1, "exp": exp.Unix(),
		"allowed_subscriptions": []any{"chat.*", 5, "books.b1"},
	})
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Fields) != 2 || string(id.Fields["sub"]) != `"u1"` || string(id.Fields["user_id"]) != "9007199254740993" {
		t.Errorf("fields = %s", id.Fields)
	}
	if !id.Expires.Equal(exp) {
		t.Errorf("expires = %v, want %v", id.Expires, exp)
	}
	if strings.Join(id.Allowed, ",") != "chat.*,books.b1" {
		t.Errorf("allowed = %q", id.Allowed)
	}
}

// TestVerifyTokenLength: a token of MaxTokenBytes verifies; one byte
// more is refused with ErrTokenTooLong, though its signature is good.
func TestVerifyTokenLength(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, JWTOptions{HMACSecret: testSecret})
	sign := func(n int) string {
		return testjwks.Sign(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": "u1", "pad": strings.Repeat("x", n)})
	}
	n := (MaxTokenBytes - len(sign(0))) * 3 / 4
	for len(sign(n+1)) <= MaxTokenBytes {
		n++
	}
	for len(sign(n)) > MaxTokenBytes {
		n--
	}
	if _, err := v.Verify(context.Background(), sign(n)); err != nil {
		t.Fatalf("token of %d bytes refused: %v", len(sign(n)), err)
	}
	if _, err := v.Verify(context.Background(), sign(n+1)); !errors.Is(err, ErrTokenTooLong) {
		t.Fatalf("token of %d bytes: err = %v, want ErrTokenTooLong", len(sign(n+1)), err)
	}
}

func TestNewVerifierNeedsAKey(t *testing.T) {
	t.Parallel()
	if _, err := NewVerifier(JWTOptions{}); err == nil {
		t.Fatal("no key accepted")
	}
	_, err := NewVerifier(JWTOptions{HMACSecret: []byte("short")})
	if err == nil {
		t.Fatal("short secret accepted")
	}
}

func newTestVerifier(t testing.TB, o JWTOptions) *Verifier {
	t.Helper()
	v, err := NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

func mustEC(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustEd(t testing.TB) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
