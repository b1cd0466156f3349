package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/internal/redact"
)

// maxJWKSBytes bounds a JWKS document, so that a key server cannot make
// the router hold an arbitrary amount of memory.
const maxJWKSBytes = 1 << 20

// jwksRefreshInterval is the period of the background refresh, which
// picks up revoked keys even when no unknown kid asks for one.
const jwksRefreshInterval = time.Hour

// newJWKS builds the key set of o.JWKSURL and its refresh, which the
// returned cancel ends.
func newJWKS(o JWTOptions) (keyfunc.Keyfunc, context.CancelFunc, error) {
	timeout := o.FetchTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	client = &http.Client{
		Transport:     capBody{next: transportOf(client)},
		Timeout:       client.Timeout,
		CheckRedirect: client.CheckRedirect,
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	shown := redact.URL(o.JWKSURL)
	ctx, cancel := context.WithCancel(context.Background())
	noError := true // a key server down at start is logged, not fatal
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{o.JWKSURL}, keyfunc.Override{
		Client:                    client,
		HTTPTimeout:               timeout,
		NoErrorReturnFirstHTTPReq: &noError,
		RefreshInterval:           jwksRefreshInterval,
		// A refresh for an unknown kid waits for no one: when the last one
		// was less than a minute ago the token is refused at once. The
		// same deadline bounds the fetch itself.
		RateLimitWaitMax:  timeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(jwksRefreshEvery), 1),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				log.Warn("jwks fetch failed", "url", shown, "err", err)
			}
		},
	})
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("auth: jwks %s: %w", shown, err)
	}
	return kf, cancel, nil
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// capBody cuts response bodies at maxJWKSBytes.
type capBody struct{ next http.RoundTripper }

func (c capBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxJWKSBytes), resp.Body}
	return resp, nil
}
