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

// maxResetWait caps the wait a rate-limit reset header can ask for; the
// callback's own budget (see Client.resetLimit) usually caps it lower.
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
// 429 the first configured reset header present, within the call's budget.
func (a *attempt) backoff(_, _ time.Duration, _ int, resp *http.Response) time.Duration {
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		return resetWait(resp.Header, a.c.opts.RateLimitResetHeaders, a.c.opts.Wait, a.c.resetLimit(), time.Now())
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

// epochReset is the smallest reset value read as a Unix time rather than
// as seconds to wait: 2001-09-09, or a delay of 31 years, which no service
// means as one.
const epochReset = 1e9

// resetWait returns how long to wait after a 429: the value of the first of
// names present in h, as seconds to wait, or, from epochReset on, as the
// Unix time to wait until (now being the current time). The wait is at most
// limit; fallback when no header is present or the value is not a
// non-negative number.
func resetWait(h http.Header, names []string, fallback, limit time.Duration, now time.Time) time.Duration {
	for _, name := range names {
		values := h.Values(name)
		if len(values) == 0 {
			continue
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(values[0]), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(secs) || secs < 0 {
			return fallback
		}
		if secs >= epochReset && secs < math.MaxInt64/float64(time.Second) {
			secs = max(0, secs-float64(now.UnixNano())/float64(time.Second))
		}
		if secs >= limit.Seconds() {
			return limit
		}
		return time.Duration(secs * float64(time.Second))
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

// resetLimit is the longest a 429's reset header may make a call wait: the
// call's own budget, Timeout × Tries, and never more than maxResetWait. A
// service that asks for longer is unavailable for this call's purposes,
// and the caller (a client waiting on its subscribe, a close-queue slot)
// must not wait for it.
func (c *Client) resetLimit() time.Duration {
	if time.Duration(c.opts.Tries) >= maxResetWait/c.opts.Timeout {
		return maxResetWait
	}
	return c.opts.Timeout * time.Duration(c.opts.Tries)
}
