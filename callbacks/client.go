package callbacks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/wsrouter/wsrouter/internal/redact"
)

// Options configure a Client. New rejects values out of range; it applies
// no defaults (the configuration does).
type Options struct {
	Timeout               time.Duration                                           // per try, including the wait for a request slot; must be > 0
	Tries                 int                                                     // tries in all (>=1)
	Wait                  time.Duration                                           // pause between tries; zero means none
	CAFile                string                                                  // extra CA bundle (PEM) trusted for https callbacks; "" = system roots
	RateLimitResetHeaders []string                                                // 429: wait for the first of these headers present (seconds, or a Unix time from 1e9 on; at most Timeout × Tries and 3600 s), else Wait
	MaxConcurrency        int                                                     // requests in flight at once for this Client, half of them at most for one service; the rest wait their turn (bounded by their own timeout); zero means no cap; ignored when Gate is set
	Gate                  *Gate                                                   // caps requests in flight, shared with other Clients; nil means a Gate of MaxConcurrency of this Client's own
	Logger                *slog.Logger                                            // nil = slog.Default()
	Observe               func(service, callback, result string, d time.Duration) // optional metrics hook, called once per Call with the service ("" for Call), the callback name, result "ok"|"error"|"unavailable", and total duration
}

// Client makes callback requests. It is safe for concurrent use; build a
// new one when the options change and call CloseIdleConnections on the old.
type Client struct {
	opts      Options
	log       *slog.Logger
	http      *http.Client
	transport *http.Transport
}

// New returns a Client for o, or an error when o is out of range or the
// CA file cannot be used.
func New(o Options) (*Client, error) {
	switch {
	case o.Timeout <= 0:
		return nil, fmt.Errorf("callbacks: timeout must be positive, got %s", o.Timeout)
	case o.Tries < 1:
		return nil, fmt.Errorf("callbacks: tries must be at least 1, got %d", o.Tries)
	case o.Wait < 0:
		return nil, fmt.Errorf("callbacks: wait must not be negative, got %s", o.Wait)
	case o.MaxConcurrency < 0 && o.Gate == nil:
		return nil, fmt.Errorf("callbacks: max_concurrency must not be negative, got %d", o.MaxConcurrency)
	}
	base, err := newTransport(o.CAFile)
	if err != nil {
		return nil, err
	}
	gate := o.Gate
	if gate == nil && o.MaxConcurrency > 0 {
		gate = NewGate(o.MaxConcurrency, ServiceShare(o.MaxConcurrency))
	}
	base.MaxIdleConnsPerHost = 100
	if gate != nil {
		limit, _ := gate.Limits()
		base.MaxIdleConnsPerHost = limit
	}
	// tryTransport has no CloseIdleConnections on purpose: go-retryablehttp
	// calls it after every failed call, which would drop the keep-alive
	// connections other calls are using. CloseIdleConnections below does it.
	rt := &tryTransport{base: base, timeout: o.Timeout, gate: gate}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	o.RateLimitResetHeaders = append([]string(nil), o.RateLimitResetHeaders...)
	return &Client{
		opts: o,
		log:  log,
		http: &http.Client{
			Transport: rt,
			// A callback URL is configured, so a redirect is a mistake:
			// following it would turn the POST into a GET or send the body
			// (which can hold a ticket) to another host. The 3xx is final.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		transport: base,
	}, nil
}

// NewHTTPClient returns a plain HTTP client with the TLS settings of the
// callbacks (the system roots plus caFile, TLS 1.2 or later) and timeout,
// for the router's requests that are not callbacks: the JWKS fetch. It
// neither retries nor counts against max_concurrency.
func NewHTTPClient(caFile string, timeout time.Duration) (*http.Client, error) {
	t, err := newTransport(caFile)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, Timeout: timeout}, nil
}

// newTransport is a transport of its own that trusts the system roots
// plus the certificates of caFile ("" for none).
func newTransport(caFile string) (*http.Transport, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		roots, err := loadRoots(caFile)
		if err != nil {
			return nil, err
		}
		base.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return base, nil
}

// loadRoots returns the system roots plus the certificates in the PEM file.
func loadRoots(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("callbacks: reading ca_file: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("callbacks: ca_file %s holds no PEM certificate", file)
	}
	return roots, nil
}

// Call POSTs body as JSON to url and returns the service's answer; it never returns nil.
// name is the callback's name for logs and metrics ("authorizer", "before_subscribe", "ticket", ...).
// Call returns once ctx ends, with the Unavailable answer. Its requests
// count against the share of the service named "" (CallService names one).
func (c *Client) Call(ctx context.Context, name, url string, body any) *Answer {
	return c.CallService(ctx, "", name, url, body)
}

// CallService is Call for a callback of service: its requests count
// against that service's share of the concurrency cap, so that a service
// that hangs does not hold every slot.
func (c *Client) CallService(ctx context.Context, service, name, url string, body any) *Answer {
	ctx = context.WithValue(ctx, serviceKey{}, service)
	start := time.Now()
	answer := c.call(ctx, name, url, body)
	if c.opts.Observe != nil {
		result := "error"
		switch {
		case answer.OK():
			result = "ok"
		case answer.Unavailable():
			result = "unavailable"
		}
		c.opts.Observe(service, name, result, time.Since(start))
	}
	return answer
}

// call does the work of Call.
func (c *Client) call(ctx context.Context, name, url string, body any) *Answer {
	log := c.logger(ctx)
	a := &attempt{c: c, log: log, name: name, url: redact.URL(url)}
	payload, err := json.Marshal(body)
	if err != nil {
		log.Error("callback body cannot be encoded", "callback", name, "url", a.url, "error", err)
		return &Answer{Status: StatusError}
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, url, payload)
	if err != nil {
		log.Error("callback request cannot be built", "callback", name, "url", a.url, "error", unwrapURLError(err))
		return &Answer{Status: StatusError}
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetResponseHandler(a.readAnswer)
	rc := &retryablehttp.Client{
		HTTPClient: c.http,
		RetryMax:   c.opts.Tries - 1,
		CheckRetry: a.checkRetry,
		Backoff:    a.backoff,
		// Logger stays nil: the library logs nothing, this package does.
	}
	resp, err := rc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			log.Debug("callback canceled", "callback", name, "url", a.url, "failed_tries", a.failed, "error", context.Cause(ctx))
		} else {
			log.Warn("callback service unavailable", "callback", name, "url", a.url, "tries", a.failed, "error", a.lastErr)
		}
		return unavailable()
	}
	_ = resp.Body.Close() // already read and closed by readAnswer
	if a.answer == nil {  // not expected: a successful Do has run readAnswer
		return unavailable()
	}
	return a.answer
}

// CloseIdleConnections closes the Client's idle keep-alive connections,
// for a Client that is being replaced.
func (c *Client) CloseIdleConnections() {
	c.transport.CloseIdleConnections()
}

// ServiceShare is the part of a concurrency cap of limit that one service
// may hold: half, rounded up, so that a service that hangs leaves the
// other half to the rest.
func ServiceShare(limit int) int { return (limit + 1) / 2 }

type serviceKey struct{}

// serviceOf returns the service a request is for, "" when none was named.
func serviceOf(ctx context.Context) string {
	s, _ := ctx.Value(serviceKey{}).(string)
	return s
}
