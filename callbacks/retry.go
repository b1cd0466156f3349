package callbacks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBodyBytes caps the response body read; a larger 2xx body is a failed try.
const maxBodyBytes = 1 << 20

// maxResetWait caps the wait a rate-limit reset header can ask for.
const maxResetWait = time.Hour

// attempt is the state of one Call across its tries. The retry policy
// (checkRetry), the pause (backoff) and the answer reader (readAnswer) are
// its methods, so each Call decides on its own tries.
type attempt struct {
	c       *Client
	log     *slog.Logger // the client's logger with the caller's attributes
	name    string
	url     string // redacted
	answer  *Answer
	failed  int    // tries that failed so far
	lastErr string // why the latest try failed
}

// checkRetry is the go-retryablehttp CheckRetry policy of SPEC section 4:
// transport errors (including timeouts and unreadable or invalid 2xx
// answers), 5xx and 429 are retried; 2xx goes on to readAnswer; every
// other status is final. The caller's context ending stops everything.
func (a *attempt) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, context.Cause(ctx)
	}
	switch {
	case err != nil:
		a.fail(unwrapURLError(err).Error(), resp)
		return true, nil
	case retryable(resp.StatusCode):
		a.fail("status "+strconv.Itoa(resp.StatusCode), resp)
		return true, nil
	default:
		return false, nil
	}
}

// retryable reports whether a reply with this status is a failed try.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// fail records and logs one failed try.
func (a *attempt) fail(reason string, resp *http.Response) {
	a.failed++
	a.lastErr = reason
	args := []any{"callback", a.name, "url", a.url, "try", a.failed, "tries", a.c.opts.Tries, "error", reason}
	if resp != nil {
		args = append(args, "status", resp.StatusCode)
	}
	a.log.Debug("callback try failed", args...)
}

// backoff is the go-retryablehttp Backoff: the configured wait, or for a
// 429 the first configured reset header present.
func (a *attempt) backoff(_, _ time.Duration, _ int, resp *http.Response) time.Duration {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		return resetWait(resp.Header, a.c.opts.RateLimitResetHeaders, a.c.opts.Wait)
	}
	return a.c.opts.Wait
}

// readAnswer is the response handler: it reads the body (capped) and
// closes it. A 2xx must hold a valid answer, else the try failed and
// the returned error makes checkRetry retry it; any other status that
// reaches it is final and becomes an error answer.
func (a *attempt) readAnswer(resp *http.Response) error {
	body, err := readBody(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if err != nil {
			return err
		}
		answer, err := parseAnswer(body)
		if err != nil {
			return err
		}
		a.answer = answer
		return nil
	}
	if retryable(resp.StatusCode) {
		// Reached only when the caller's context ended: the call is over.
		return nil
	}
	if err != nil {
		body = nil
	}
	a.answer = parseFinal(body)
	a.log.Debug("callback answered with a final status",
		"callback", a.name, "url", a.url, "status", resp.StatusCode, "error", a.answer.Error)
	return nil
}

// readBody reads at most maxBodyBytes of body and closes it.
func readBody(body io.ReadCloser) ([]byte, error) {
	defer func() { _ = body.Close() }()
	b, err := io.ReadAll(io.LimitReader(body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("callbacks: reading answer: %w", err)
	}
	if len(b) > maxBodyBytes {
		return nil, errTooLarge
	}
	return b, nil
}

// resetWait returns how long to wait after a 429: the value, in seconds,
// of the first of names present in h, capped at an hour; fallback when
// none is present or the value is not a non-negative number.
func resetWait(h http.Header, names []string, fallback time.Duration) time.Duration {
	for _, name := range names {
		values := h.Values(name)
		if len(values) == 0 {
			continue
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(values[0]), 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(secs), secs < 0:
			return fallback
		case secs >= maxResetWait.Seconds():
			return maxResetWait
		default:
			return time.Duration(secs * float64(time.Second))
		}
	}
	return fallback
}

// unwrapURLError drops the *url.Error wrapper net/http adds, since its text
// carries the URL with the user name; the URL is logged redacted instead.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
