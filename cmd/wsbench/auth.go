package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/wsrouter/wsrouter/auth"
)

// authConfig is how each client signs in before it subscribes, and
// whether it subscribes to a wildcard name.
type authConfig struct {
	method     string // "", "ticket" or "jwt"
	secretFile string // with jwt: the router's authentication.jwt.hmac_secret_file
	secret     []byte
	wildcard   bool
}

// authFlags registers the sign-in and wildcard flags.
func authFlags(fs *flag.FlagSet, a *authConfig) {
	fs.StringVar(&a.method, "auth", "", `sign each client in before it subscribes: "ticket" (the ticket "t<i>") or "jwt" (an HS256 token signed with -jwt-secret-file); "" sends no auth event (a connect check needs none)`)
	fs.StringVar(&a.secretFile, "jwt-secret-file", "", "with -auth jwt: the HMAC secret the router verifies with")
	fs.BoolVar(&a.wildcard, "wildcard", false, `every client subscribes to "<service>.*" (a service with wildcard_subscriptions) and expects every message`)
}

// load checks the flags and reads the secret as the router reads its
// hmac_secret_file, so that a file the router accepts signs tokens it
// accepts (a CRLF ending included).
func (a *authConfig) load() error {
	switch a.method {
	case "", "ticket":
		if a.secretFile != "" {
			return fmt.Errorf("wsbench: -jwt-secret-file needs -auth jwt, got -auth %q", a.method)
		}
		return nil
	case "jwt":
		if a.secretFile == "" {
			return fmt.Errorf("wsbench: -auth jwt needs -jwt-secret-file")
		}
		b, err := os.ReadFile(a.secretFile)
		if err != nil {
			return fmt.Errorf("wsbench: -jwt-secret-file: %w", err)
		}
		if a.secret, err = auth.ParseHMACSecret(b); err != nil {
			return fmt.Errorf("wsbench: -jwt-secret-file %s: %w", a.secretFile, err)
		}
		return nil
	}
	return fmt.Errorf("wsbench: -auth %q must be ticket or jwt", a.method)
}

// event is client i's auth event, or nil when it sends none.
func (a authConfig) event(i int) ([]byte, error) {
	switch a.method {
	case "ticket":
		return json.Marshal(map[string]string{"event": "auth", "ticket": fmt.Sprintf("t%d", i)})
	case "jwt":
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": fmt.Sprintf("c%d", i), "exp": time.Now().Add(time.Hour).Unix(),
		}).SignedString(a.secret)
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"event": "auth", "method": "jwt", "token": tok})
	}
	return nil, nil
}

// authenticate sends client i's auth event, if any, and waits for its ok.
func (a authConfig) authenticate(ctx context.Context, conn *websocket.Conn, i int) error {
	ev, err := a.event(i)
	if err != nil || ev == nil {
		return err
	}
	if err := conn.Write(ctx, websocket.MessageText, ev); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	for range maxHandshakeFrames {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("auth: %w", err)
		}
		var rep struct{ Event, Status, Error string }
		if json.Unmarshal(b, &rep) != nil || rep.Event != "auth" {
			continue
		}
		if rep.Status != "ok" {
			return fmt.Errorf("auth: server answered %q", rep.Error)
		}
		return nil
	}
	return fmt.Errorf("auth: no reply within %d frames", maxHandshakeFrames)
}
