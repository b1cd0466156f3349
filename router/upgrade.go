package router

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/wsrouter/wsrouter/auth"
	"github.com/wsrouter/wsrouter/callbacks"
	"github.com/wsrouter/wsrouter/metrics"
)

// ServeHTTP upgrades any request to a WebSocket session.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if err := r.Ready(); err != nil {
		// Why (a Redis address, its error) is for /readyz on the metrics
		// listener, not for anyone who can reach this one.
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return
	}
	cfg := r.cfg.Load()
	if !originAllowed(req, cfg.AllowedOrigins) {
		r.strangers.log(r.log, slog.LevelInfo, "upgrade refused: origin not allowed",
			"origin", clip(req.Header.Get("Origin")), "host", clip(req.Host), "remote", req.RemoteAddr)
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	var ident *auth.Identity
	if st := r.auth.Load(); st.connect != nil && isUpgrade(req) {
		var proceed bool
		if ident, proceed = r.checkConnect(w, req, st); !proceed {
			return
		}
	}
	ws := cfg.WebSocket
	sw := smallBuffers(w, ws.WriteTimeout.Std())
	conn, err := websocket.Accept(sw, req, &websocket.AcceptOptions{
		InsecureSkipVerify:   true, // origins are checked above
		CompressionMode:      compressionMode(ws.Compression),
		CompressionThreshold: max(ws.CompressionMinBytes, 1), // the library reads 0 as its own default
	})
	if err != nil {
		r.strangers.log(r.log, slog.LevelDebug, "upgrade failed", "err", clipErr(err), "remote", req.RemoteAddr)
		return
	}
	id := newSessionID()
	ctx, cancel := context.WithCancel(callbacks.WithLogAttrs(context.Background(), "session", id))
	s := &session{
		id:      id,
		log:     r.log.With("session", id),
		r:       r,
		conn:    conn,
		ctx:     ctx,
		cancel:  cancel,
		limit:   rate.NewLimiter(rate.Limit(ws.EventsPerSecond), ws.EventsBurst),
		maxSubs: ws.MaxSubscriptions,
		stamps:  ws.DeliveryTimestamps,
		subs:    map[string]*subscription{},
	}
	s.out = newOutbox(ws.SendQueue, ws.SendQueueBytes, s.writeFrame, s.slowConsumer, s.writeFailed)
	if c := coalescerOf(sw); c != nil {
		s.out.batch, s.raw = c, c.conn // the socket's writes have the deadline; closing raw ends a close handshake
	} else {
		s.writeTimeout = ws.WriteTimeout.Std()
	}
	if !r.addSession(s) {
		conn.Close(disconnectShutdown.code, disconnectShutdown.reason)
		cancel()
		return
	}
	if ident != nil {
		s.setIdentity(*ident) // before the first frame
	}
	r.strangers.log(s.logger(), slog.LevelDebug, "connected", "remote", req.RemoteAddr)
	// The reader gets a goroutine of its own, so that net/http's goroutine
	// returns and its stack, connection state and request are freed.
	go s.serve()
}

// writeFrame writes one frame to the socket. Over a hijacked connection
// the coalescer puts write_timeout on every socket write; otherwise the
// write gets a context with that timeout, which closes the socket when it
// runs out.
func (s *session) writeFrame(frame []byte) error {
	if s.writeTimeout <= 0 {
		return s.conn.Write(context.Background(), websocket.MessageText, frame)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, frame)
}

// writeFailed is the outbox's callback for a failed write. A write that
// ran out of write_timeout is a slow consumer: counted, and the socket is
// dropped without a close handshake.
func (s *session) writeFailed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		s.r.metrics.Dropped.WithLabelValues(metrics.DropSlowConsumer).Inc()
		s.r.strangers.log(s.logger(), slog.LevelWarn, "write timed out; dropping slow consumer", "write_timeout", s.r.cfg.Load().WebSocket.WriteTimeout)
	} else {
		s.r.strangers.log(s.logger(), slog.LevelDebug, "write failed; dropping connection", "err", clipErr(err))
	}
	s.drop()
}
