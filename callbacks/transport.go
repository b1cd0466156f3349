package callbacks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// tryTransport bounds each try: it waits for a free slot of the request's
// service (when gate is not nil), then runs the request, both within
// timeout. The slot is held and the try's context kept alive until the
// response body is closed, so a slot is never held during a pause between
// tries.
type tryTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	gate    *Gate // nil means no cap
}

// RoundTrip implements http.RoundTripper.
func (t *tryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	service := serviceOf(req.Context())
	if t.gate != nil {
		if err := t.gate.acquire(ctx, service); err != nil {
			err = t.timeoutErr(req.Context(), "waiting for a request slot", err)
			cancel()
			if req.Body != nil {
				_ = req.Body.Close()
			}
			return nil, err
		}
	}
	release := sync.OnceFunc(func() {
		cancel()
		if t.gate != nil {
			t.gate.release(service)
		}
	})
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		err = t.timeoutErr(req.Context(), "waiting for the answer", err)
		release()
		return nil, err
	}
	resp.Body = &tryBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// timeoutErr names the per-try timeout when it, rather than the caller's
// context, ended the try.
func (t *tryTransport) timeoutErr(parent context.Context, doing string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
		return fmt.Errorf("callbacks: try timed out after %s %s: %w", t.timeout, doing, err)
	}
	return err
}

// tryBody ends the try, freeing its slot, when the body is closed. Reads
// past the try's timeout fail with context.DeadlineExceeded.
type tryBody struct {
	io.ReadCloser
	release func()
}

// Close implements io.Closer; it is safe to call more than once.
func (b *tryBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
