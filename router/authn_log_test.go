package router

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/internal/testjwks"
	"github.com/wsrouter/wsrouter/services"
)

// TestJWTLogsNoToken: at debug level, neither an accepted token nor a
// refused one (bad signature, expired, malformed, too long) shows in the
// log, whole or in part; only the reason for a refusal does.
func TestJWTLogsNoToken(t *testing.T) {
	t.Parallel()
	k := newJWTKeys(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig(t)
	cfg.Authentication = &services.Authentication{JWT: &services.JWT{HMACSecretFile: k.secretFile, AuthFields: k.authFields}}
	h := newHarnessWith(t, cfg, Options{Logger: log})
	sign := func(secret []byte, claims jwt.MapClaims) string {
		return testjwks.SignWithKid(t, jwt.SigningMethodHS256, secret, "", claims)
	}
	good := sign(k.secret, jwt.MapClaims{"sub": "u1"})
	tokens := map[string]string{
		good: `{"event":"auth","status":"ok"}`,
		sign([]byte(strings.Repeat("w", 32)), jwt.MapClaims{"sub": "u2"}):                    errAuthFailedReply,
		sign(k.secret, jwt.MapClaims{"sub": "u3", "exp": time.Now().Add(-time.Hour).Unix()}): errAuthFailedReply,
		"eyJzZWNyZXQiOiJtYWxmb3JtZWQifQ.c2VjcmV0LXBheWxvYWQ.c2VjcmV0LXNpZw":                  errAuthFailedReply,
		sign(k.secret, jwt.MapClaims{"sub": "u4", "pad": strings.Repeat("p", 20000)}):        errAuthFailedReply,
	}
	c := h.dial()
	for tok, want := range tokens {
		c.Send(authJWT(tok))
		c.Expect(want)
	}
	lines := logs.lines()
	if !strings.Contains(strings.Join(lines, "\n"), "jwt refused") {
		t.Fatalf("no refusal logged:\n%s", strings.Join(lines, "\n"))
	}
	for tok := range tokens {
		for _, part := range strings.Split(tok, ".") {
			for _, line := range lines {
				if strings.Contains(line, part[:min(len(part), 16)]) {
					t.Errorf("log line shows part of a token (%.16s): %s", part, line)
				}
			}
		}
	}
}

const errAuthFailedReply = `{"event":"auth","status":"error","error":"Authentication failed."}`
