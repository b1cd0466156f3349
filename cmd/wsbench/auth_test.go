package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestAuthEvents(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "s")
	secret := strings.Repeat("s", 32)
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := authConfig{}
	if ev, err := none.event(1); ev != nil || err != nil {
		t.Errorf("no method: %s %v", ev, err)
	}
	ticket := authConfig{method: "ticket"}
	if ev, _ := ticket.event(7); string(ev) != `{"event":"auth","ticket":"t7"}` {
		t.Errorf("ticket event = %s", ev)
	}
	j := authConfig{method: "jwt", secretFile: secretFile}
	if err := j.load(); err != nil {
		t.Fatal(err)
	}
	ev, err := j.event(3)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(ev, &m); err != nil || m["method"] != "jwt" {
		t.Fatalf("jwt event = %s", ev)
	}
	tok, err := jwt.Parse(m["token"], func(*jwt.Token) (any, error) { return []byte(secret), nil }, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil || tok.Claims.(jwt.MapClaims)["sub"] != "c3" {
		t.Fatalf("token: %v %v", err, tok)
	}
	for _, bad := range []authConfig{{method: "jwt"}, {method: "password"}} {
		if err := bad.load(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
