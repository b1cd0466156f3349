package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MinHMACSecret is the shortest HMAC secret accepted, in bytes: RFC 7518
// section 3.2 asks for a key at least as long as the hash (HS256).
const MinHMACSecret = 32

// ParseHMACSecret reads an HMAC secret file's content: the bytes as they
// are, but for one trailing newline (an editor's). It must be at least
// MinHMACSecret bytes long.
func ParseHMACSecret(data []byte) ([]byte, error) {
	data = bytes.TrimSuffix(data, []byte("\n"))
	data = bytes.TrimSuffix(data, []byte("\r"))
	if len(data) < MinHMACSecret {
		return nil, fmt.Errorf("auth: an HMAC secret must be at least %d bytes, got %d", MinHMACSecret, len(data))
	}
	return data, nil
}

// ParsePublicKey reads a PEM public key: a PKIX "PUBLIC KEY", a PKCS #1
// "RSA PUBLIC KEY" or a "CERTIFICATE", holding an RSA (2048 bits or more),
// ECDSA (P-256, P-384, P-521) or Ed25519 key.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("auth: no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("auth: PEM block %q is not a public key (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: parsing the public key: %w", err)
	}
	if len(methodsFor(key)) == 0 {
		return nil, fmt.Errorf("auth: unsupported public key %T (want RSA of 2048 bits or more, ECDSA P-256/P-384/P-521 or Ed25519)", key)
	}
	return key, nil
}

// methodsFor pins the JWT algorithms a key may verify: HMAC only with a
// secret (and only hashes no longer than the secret), RSA only with an
// RSA key, ECDSA only with the curve its algorithm names, EdDSA only with
// an Ed25519 key. "none" never.
func methodsFor(key any) []string {
	switch k := key.(type) {
	case []byte:
		switch {
		case len(k) >= 64:
			return []string{"HS256", "HS384", "HS512"}
		case len(k) >= 48:
			return []string{"HS256", "HS384"}
		case len(k) >= MinHMACSecret:
			return []string{"HS256"}
		}
	case *rsa.PublicKey:
		if k.N.BitLen() >= 2048 {
			return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}
		case elliptic.P384():
			return []string{"ES384"}
		case elliptic.P521():
			return []string{"ES512"}
		}
	case ed25519.PublicKey:
		return []string{"EdDSA"}
	}
	return nil
}

// asymmetricMethods are the algorithms a JWKS key may verify; which one
// fits a given key is methodsFor's to say.
var asymmetricMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
