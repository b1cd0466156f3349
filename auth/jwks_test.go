package auth

import (
	"bytes"
	"context"
	"crypto"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/internal/leakcheck"
	"github.com/wsrouter/wsrouter/internal/testjwks"
	"github.com/wsrouter/wsrouter/internal/wstest"
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

// TestJWKSPeriodicRefresh: a key removed from the set stops verifying
// once the periodic refresh ran, though no unknown kid asked for one.
func TestJWKSPeriodicRefresh(t *testing.T) {
	t.Parallel()
	keys(t)
	k2 := mustEC(t, testEC.Curve)
	srv := testjwks.Start(t, map[string]crypto.PublicKey{"k1": testEC.Public()})
	v := newTestVerifier(t, JWTOptions{JWKSURL: srv.URL, RefreshInterval: 10 * time.Millisecond})
	tok := signKid(t, jwt.SigningMethodES256, testEC, "k1")
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("k1 refused: %v", err)
	}
	srv.Set(t, map[string]crypto.PublicKey{"k2": k2.Public()})
	wstest.Eventually(t, 10*time.Second, "k1 to be refused after the refresh", func() bool {
		_, err := v.Verify(context.Background(), tok)
		return err != nil
	})
}

// TestJWKSCloseWaitsForRefresh: Close returns only once the refresh
// goroutine has ended, even with a fetch under way, and the cancelled
// fetch is not logged as a failure. Not parallel: it counts the
// package's goroutines.
func TestJWKSCloseWaitsForRefresh(t *testing.T) {
	var fetches atomic.Int64
	started := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fetches.Add(1) == 2 {
			close(started)
			<-r.Context().Done() // hangs until the verifier gives up on it
			return
		}
		_, _ = io.WriteString(w, `{"keys":[]}`)
	}))
	t.Cleanup(srv.Close)
	var logged bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logged, mu: &mu}, nil))
	v, err := NewVerifier(JWTOptions{JWKSURL: srv.URL, RefreshInterval: time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	v.Close()
	if leaked := leakcheck.Leaked(0, "auth.(*jwks)", "MicahParks/"); leaked != "" {
		t.Fatalf("goroutines left after Close:\n%s", leaked)
	}
	v.Close() // a second Close is harmless
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logged.String(), "jwks fetch failed") {
		t.Fatalf("the fetch Close cancelled was logged as a failure:\n%s", logged.String())
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
