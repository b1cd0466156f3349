package callbacks

import (
	"context"
	"log/slog"
)

type logAttrsKey struct{}

// WithLogAttrs returns a context whose callbacks add attrs (slog key-value
// pairs, such as a session id) to every log line they write.
func WithLogAttrs(ctx context.Context, attrs ...any) context.Context {
	prev, _ := ctx.Value(logAttrsKey{}).([]any)
	return context.WithValue(ctx, logAttrsKey{}, append(append([]any(nil), prev...), attrs...))
}

// logger returns the client's logger with the attributes of ctx.
func (c *Client) logger(ctx context.Context) *slog.Logger {
	if attrs, ok := ctx.Value(logAttrsKey{}).([]any); ok && len(attrs) > 0 {
		return c.log.With(attrs...)
	}
	return c.log
}
