package services

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/internal/redact"
)

// The checks below return errors whose text is a Problem message: it says
// what the value must be and names the bad value.

// checkHostPort checks a listen address, HOST:PORT with a numeric port; the
// host may be empty (all interfaces).
func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
			err = errors.New("bad port")
		}
	}
	if err != nil {
		return fmt.Errorf("must be HOST:PORT with a numeric port, got %q", s)
	}
	return nil
}

// checkHTTPURL checks a callback URL: absolute, http or https, with a host.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", redact.URL(s))
	}
	return nil
}

// checkRedisURL checks a Redis URL: "embedded", "embedded://HOST:PORT", or
// a URL go-redis accepts.
func checkRedisURL(s string) error {
	if addr, ok := (Redis{URL: s}).Embedded(); ok {
		if checkHostPort(addr) != nil {
			return fmt.Errorf("must be embedded://HOST:PORT with a numeric port, got %q", redact.URL(s))
		}
		return nil
	}
	if _, err := redis.ParseURL(s); err != nil {
		const want = `must be "embedded", "embedded://HOST:PORT" or a redis://, rediss:// or unix:// URL`
		shown := redact.URL(s)
		if shown != s {
			// The parser's reason quotes parts of the URL, password included.
			return fmt.Errorf("%s, got %q (the reason is left out: it would show the password)", want, shown)
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // its text repeats the URL
		}
		if strings.Contains(err.Error(), "invalid URL scheme") {
			return fmt.Errorf("%s, got %q", want, s) // the reason would only repeat the scheme
		}
		return fmt.Errorf("%s, got %q: %v", want, s, err)
	}
	return nil
}

// headerName is an HTTP header name (an RFC 9110 token).
var headerName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// checkHeaderName checks an HTTP header name.
func checkHeaderName(s string) error {
	if s == "" {
		return errors.New("header name must not be empty")
	}
	if !headerName.MatchString(s) {
		return fmt.Errorf("must be an HTTP header name, got %q", s)
	}
	return nil
}

// hostPattern is a host name, optionally starting with "*." and ending with
// a port.
var hostPattern = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$`)

// ipv6Host is a bracketed IPv6 address, optionally with a port.
var ipv6Host = regexp.MustCompile(`^\[([0-9A-Fa-f:.]+)\](:[0-9]{1,5})?$`)

// validOrigin reports whether s is an allowed_origins entry: "*", a full
// origin (scheme://host[:port], the host possibly a pattern) or a host
// pattern.
func validOrigin(s string) bool {
	if s == "*" {
		return true
	}
	host := s
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != strings.ToLower(scheme) || u.Opaque != "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(rest, "#") {
			return false
		}
		host = rest
	}
	if m := ipv6Host.FindStringSubmatch(host); m != nil {
		return net.ParseIP(m[1]) != nil
	}
	return hostPattern.MatchString(host)
}

// maxFileBytes bounds the files the configuration names (certificates,
// keys, CA bundles).
const maxFileBytes = 1 << 20

// readSmallFile reads a regular file of at most maxFileBytes. Devices and
// pipes are refused so that checking a configuration never blocks.
func readSmallFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %v", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cannot read %q: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %v", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %v", name, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("cannot read %q: larger than %d bytes", name, maxFileBytes)
	}
	return data, nil
}

// checkKeyPair checks that cert and key are PEM data of a certificate and
// its private key.
func checkKeyPair(cert, key []byte) error {
	_, err := tls.X509KeyPair(cert, key)
	return err
}

// checkCAFile checks that name is a readable PEM file with at least one
// certificate.
func checkCAFile(name string) error {
	data, err := readSmallFile(name)
	if err != nil {
		return err
	}
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return fmt.Errorf("no PEM certificate found in %q", name)
	}
	return nil
}
