package services

import (
	"fmt"
	"strings"

	"github.com/wsrouter/wsrouter/auth"
)

// connect checks authentication.connect.
func (v *validator) connect(c *Connect) {
	if c == nil {
		return
	}
	const p = "authentication.connect"
	if c.URL == "" {
		v.add(p+".url", "required when "+p+" is set")
	} else {
		v.url(p+".url", c.URL)
	}
	v.fieldList(p+".forward_headers", c.ForwardHeaders)
	for i, name := range c.ForwardHeaders {
		if name == "" {
			continue // fieldList said so
		}
		if err := checkHeaderName(name); err != nil {
			v.add(indexPath(p+".forward_headers", i), err.Error())
		}
	}
	v.fieldList(p+".auth_fields", c.AuthFields)
	for i, e := range c.TrustedProxies {
		if _, err := auth.ParseTrustedProxy(e); err != nil {
			v.add(indexPath(p+".trusted_proxies", i), strings.TrimPrefix(err.Error(), "auth: "))
		}
	}
}

// jwt checks authentication.jwt: one key source, and that it can be read.
func (v *validator) jwt(j *JWT) {
	if j == nil {
		return
	}
	const p = "authentication.jwt"
	var set []string
	for _, k := range []struct{ key, value string }{
		{"hmac_secret_file", j.HMACSecretFile}, {"public_key_file", j.PublicKeyFile}, {"jwks_url", j.JWKSURL},
	} {
		if k.value != "" {
			set = append(set, k.key)
		}
	}
	switch len(set) {
	case 0:
		v.add(p, "needs one of hmac_secret_file, public_key_file or jwks_url")
	case 1:
	default:
		v.add(p+"."+set[1], fmt.Sprintf("set only one of hmac_secret_file, public_key_file and jwks_url (%s are set)", strings.Join(set, " and ")),
			p+"."+set[0])
	}
	if j.HMACSecretFile != "" {
		if _, err := LoadHMACSecret(j.HMACSecretFile); err != nil {
			v.add(p+".hmac_secret_file", err.Error())
		}
	}
	if j.PublicKeyFile != "" {
		if _, err := LoadPublicKey(j.PublicKeyFile); err != nil {
			v.add(p+".public_key_file", err.Error())
		}
	}
	if j.JWKSURL != "" {
		v.url(p+".jwks_url", j.JWKSURL)
	}
	v.fieldList(p+".auth_fields", j.AuthFields)
}

// LoadHMACSecret reads authentication.jwt.hmac_secret_file. Its error
// never shows the secret.
func LoadHMACSecret(name string) ([]byte, error) {
	data, err := readSmallFile(name)
	if err != nil {
		return nil, err
	}
	secret, err := auth.ParseHMACSecret(data)
	if err != nil {
		return nil, fmt.Errorf("%q: %s", name, strings.TrimPrefix(err.Error(), "auth: "))
	}
	return secret, nil
}

// LoadPublicKey reads authentication.jwt.public_key_file.
func LoadPublicKey(name string) (any, error) {
	data, err := readSmallFile(name)
	if err != nil {
		return nil, err
	}
	key, err := auth.ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%q: %s", name, strings.TrimPrefix(err.Error(), "auth: "))
	}
	return key, nil
}
