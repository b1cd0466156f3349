package docs

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/auth"
)

// markedBlock finds the code block after an HTML comment naming it.
func markedBlock(t *testing.T, page, mark string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, page))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?ms)^<!-- " + regexp.QuoteMeta(mark) + " -->\\n```[a-z]*\\n(.*?)^```$").FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("%s has no block marked %q", page, mark)
	}
	return strings.TrimSuffix(m[1], "\n")
}

// TestJWTExampleVerifies checks that the JWT example of AUTHENTICATION.md
// verifies with its secret and gives the fields the page says.
func TestJWTExampleVerifies(t *testing.T) {
	t.Parallel()
	secret, err := auth.ParseHMACSecret([]byte(markedBlock(t, "docs/AUTHENTICATION.md", "jwt-secret") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.JWTOptions{
		HMACSecret: secret, Issuer: "https://app.example.com", AuthFields: []string{"sub", "user_id"},
		Now: func() time.Time { return time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	id, err := v.Verify(context.Background(), markedBlock(t, "docs/AUTHENTICATION.md", "jwt-token"))
	if err != nil {
		t.Fatalf("the example token does not verify: %v", err)
	}
	if string(id.Fields["sub"]) != `"user-42"` || string(id.Fields["user_id"]) != "42" || strings.Join(id.Allowed, ",") != "chat.*" {
		t.Errorf("identity = %+v", id)
	}
}
