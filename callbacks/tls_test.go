package callbacks

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestCAFile(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case fails the handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(good, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		caFile  string
		newErr  string
		wantOK  bool
		wantErr string
	}{
		{name: "trusted through the ca file", caFile: good, wantOK: true},
		{name: "unknown authority without it", caFile: "", wantErr: UnavailableError},
		{name: "file without certificates", caFile: junk, newErr: "callbacks: ca_file " + junk + " holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions()
			o.Tries = 1
			o.CAFile = tt.caFile
			c, err := New(o)
			if tt.newErr != "" {
				if err == nil || err.Error() != tt.newErr {
					t.Fatalf("New error = %v, want %q", err, tt.newErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			t.Cleanup(c.CloseIdleConnections)

			a := c.Call(context.Background(), "ticket", srv.URL, map[string]string{"ticket": "T"})

			if a.OK() != tt.wantOK || a.Error != tt.wantErr {
				t.Errorf("answer = %+v, want ok=%v error %q", a, tt.wantOK, tt.wantErr)
			}
		})
	}
}
