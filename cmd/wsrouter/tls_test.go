package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/internal/testredis"
	"github.com/wsrouter/wsrouter/internal/wstest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// and returns their paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wsrouter test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS serves wss with the configured certificate: a client trusting
// it subscribes and receives a published message.
func TestTLS(t *testing.T) {
	t.Parallel()
	rs := testredis.Start(t)
	certFile, keyFile, pool := selfSigned(t)
	cfg := baseConfig(t, rs.URL())
	cfg["tls"] = map[string]any{"cert_file": certFile, "key_file": keyFile}
	cfg.services()["books"] = map[string]any{"require_authentication": false}
	p := startRouter(t, cfg)
	url := "wss://" + p.ws + "/"
	p.logs.wait(t, time.Second, "listening on wss", func(l logLine) bool {
		return l.msg() == "wsrouter listening" && strings.HasPrefix(l.str("url"), "wss://")
	})

	// Plain ws on the TLS port does not upgrade.
	if conn, err := wstest.DialConn(context.Background(), p.url(), nil); err == nil {
		conn.CloseNow()
		t.Fatal("a plain ws:// upgrade succeeded on the TLS listener")
	}
	// Nor does wss with a client that does not trust the certificate.
	if conn, err := wstest.DialConn(context.Background(), url, nil); err == nil {
		conn.CloseNow()
		t.Fatal("wss:// succeeded without trusting the self-signed certificate")
	}

	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	t.Cleanup(transport.CloseIdleConnections)
	c := wstest.DialWith(t, url, wstest.Options{Dial: &websocket.DialOptions{HTTPClient: &http.Client{Transport: transport}}})
	c.Subscribe("books.tls", nil)
	if n := newPublisher(t, rs).publish("books.tls", "over tls"); n == 0 {
		t.Fatal("nobody subscribed to books.tls in Redis")
	}
	c.ExpectMessage("books.tls", "over tls")
}
