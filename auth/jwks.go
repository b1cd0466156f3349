package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/internal/redact"
)

// maxJWKSBytes bounds a JWKS document, so that a key server cannot make
// the router hold an arbitrary amount of memory.
const maxJWKSBytes = 1 << 20

// jwksRefreshInterval is the default period of the background refresh,
// which picks up revoked keys even when no unknown kid asks for one.
const jwksRefreshInterval = time.Hour

// jwks is a key set fetched from a URL: once when it is built, again by
// the verifying goroutine when a token names a kid the set lacks (at most
// once a minute), and every refresh interval by the one goroutine it
// owns, which close ends and waits for.
type jwks struct {
	kf     keyfunc.Keyfunc
	keys   jwkset.Storage // the keys the last good fetch gave
	url    string
	opts   jwkset.HTTPClientStorageOptions
	client *http.Client
	log    *slog.Logger
	shown  string // url without credentials, for the log

	cancel    context.CancelFunc
	done      chan struct{} // closed when the refresh goroutine ends
	closeOnce sync.Once
}

// newJWKS fetches the key set of o.JWKSURL and starts its refresh; close
// ends it. A failed first fetch is logged, not returned.
func newJWKS(o JWTOptions) (*jwks, error) {
	timeout := o.FetchTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	every := o.RefreshInterval
	if every <= 0 {
		every = jwksRefreshInterval
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	j := &jwks{
		url: o.JWKSURL,
		client: &http.Client{
			Transport:     capBody{next: transportOf(client)},
			Timeout:       client.Timeout,
			CheckRedirect: client.CheckRedirect,
		},
		log:   o.Logger,
		shown: redact.URL(o.JWKSURL),
		done:  make(chan struct{}),
	}
	if j.log == nil {
		j.log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	// RefreshInterval is left zero: jwkset would start a goroutine of its
	// own that nothing waits for. The periodic refresh is refreshLoop's.
	j.opts = jwkset.HTTPClientStorageOptions{
		Client:                    j.client,
		Ctx:                       ctx,
		HTTPTimeout:               timeout,
		NoErrorReturnFirstHTTPReq: true, // a key server down at start is logged, not fatal
		RefreshErrorHandler:       j.logFailure,
	}
	keys, err := jwkset.NewStorageFromHTTP(o.JWKSURL, j.opts)
	if err != nil {
		return nil, j.fail(fmt.Errorf("auth: jwks %s: %w", j.shown, err))
	}
	j.keys = keys
	storage, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs: map[string]jwkset.Storage{o.JWKSURL: keys},
		// A refresh for an unknown kid runs on the verifying goroutine and
		// waits for no one: when the last one was less than a minute ago
		// the token is refused at once. The same deadline bounds the fetch.
		RateLimitWaitMax:  timeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(jwksRefreshEvery), 1),
	})
	if err != nil {
		return nil, j.fail(fmt.Errorf("auth: jwks %s: %w", j.shown, err))
	}
	if j.kf, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: storage}); err != nil {
		return nil, j.fail(fmt.Errorf("auth: jwks %s: %w", j.shown, err))
	}
	go j.refreshLoop(ctx, every)
	return j, nil
}

// fail undoes a newJWKS that did not get as far as its goroutine.
func (j *jwks) fail(err error) error {
	j.cancel()
	close(j.done)
	j.client.CloseIdleConnections()
	return err
}

// refreshLoop fetches the set every period until ctx ends.
func (j *jwks) refreshLoop(ctx context.Context, every time.Duration) {
	defer close(j.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			j.refresh(ctx)
		}
	}
}

// refresh fetches the set and, when that worked, makes its keys the ones
// tokens are checked against; a failed fetch keeps the keys there are.
func (j *jwks) refresh(ctx context.Context) {
	o := j.opts
	o.Ctx, o.NoErrorReturnFirstHTTPReq, o.RefreshErrorHandler = ctx, false, nil
	fresh, err := jwkset.NewStorageFromHTTP(j.url, o)
	if err == nil {
		var keys []jwkset.JWK
		if keys, err = fresh.KeyReadAll(ctx); err == nil {
			err = j.keys.KeyReplaceAll(ctx, keys)
		}
	}
	if err != nil {
		j.logFailure(ctx, err)
	}
}

// logFailure logs a failed fetch, unless the one who wanted it is gone.
func (j *jwks) logFailure(ctx context.Context, err error) {
	if ctx.Err() == nil {
		j.log.Warn("jwks fetch failed", "url", j.shown, "err", err)
	}
}

// close ends the refresh goroutine, waits for it, and closes the idle
// connections to the key server. It is safe to call more than once.
func (j *jwks) close() {
	j.closeOnce.Do(func() {
		j.cancel()
		<-j.done
		j.client.CloseIdleConnections()
	})
}

// transportOf is c's transport; c is never a client that shares
// http.DefaultTransport, whose idle connections close would end.
func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport.(*http.Transport).Clone()
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

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport under the cap.
func (c capBody) CloseIdleConnections() {
	if t, ok := c.next.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}
