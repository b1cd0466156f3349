package router

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/wsrouter/wsrouter/auth"
	"github.com/wsrouter/wsrouter/callbacks"
	"github.com/wsrouter/wsrouter/services"
)

// authState is what the configured authentication methods need at run
// time, built once per configuration: the connect check's options with
// its parsed proxies, and the JWT verifier with its keys.
type authState struct {
	connect  *auth.ConnectOptions // nil: no connect check
	required bool                 // a refused connect check refuses the upgrade
	jwt      *auth.Verifier       // nil: no jwt method
}

// buildAuth returns the auth state for cfg. The JWT verifier of prev is
// kept when the jwt section is unchanged and takes its keys from a JWKS
// (so a reload does not fetch it again); key files are read again, so
// that a reload picks up a rotated key.
func (r *Router) buildAuth(cfg, old *services.Config, prev *authState) (*authState, error) {
	st := &authState{}
	a := cfg.Authentication
	if a == nil {
		return st, nil
	}
	if c := a.Connect; c != nil {
		proxies, err := auth.ParseTrustedProxies(c.TrustedProxies)
		if err != nil {
			return nil, err
		}
		st.connect = &auth.ConnectOptions{URL: c.URL, ForwardHeaders: c.ForwardHeaders, AuthFields: c.AuthFields, TrustedProxies: proxies}
		st.required = c.IsRequired()
	}
	j := a.JWT
	if j == nil {
		return st, nil
	}
	if j.JWKSURL != "" && prev != nil && prev.jwt != nil && old != nil && old.Authentication != nil &&
		reflect.DeepEqual(old.Authentication.JWT, j) && reflect.DeepEqual(old.HTTP, cfg.HTTP) {
		st.jwt = prev.jwt
		return st, nil
	}
	o := auth.JWTOptions{
		JWKSURL: j.JWKSURL, Issuer: j.Issuer, Audience: j.Audience, AuthFields: j.AuthFields,
		FetchTimeout: cfg.HTTP.Timeout.Std(), Now: r.clock.Now, Logger: r.log,
	}
	var err error
	switch {
	case j.JWKSURL != "":
		// The key server is reached as the callbacks are: http.ca_file.
		o.HTTPClient, err = callbacks.NewHTTPClient(cfg.HTTP.CAFile, cfg.HTTP.Timeout.Std())
	case j.HMACSecretFile != "":
		o.HMACSecret, err = services.LoadHMACSecret(j.HMACSecretFile)
	case j.PublicKeyFile != "":
		o.PublicKey, err = services.LoadPublicKey(j.PublicKeyFile)
	}
	if err != nil {
		return nil, err
	}
	if st.jwt, err = auth.NewVerifier(o); err != nil {
		return nil, err
	}
	return st, nil
}

// closeAuth ends what prev owns that next does not share.
func closeAuth(prev, next *authState) {
	if prev != nil && prev.jwt != nil && (next == nil || next.jwt != prev.jwt) {
		prev.jwt.Close()
	}
}

// checkConnect runs the connect-time check on an upgrade request. It
// reports false when it answered the request itself (403, 503); id is
// nil when the connection opens unauthenticated.
func (r *Router) checkConnect(w http.ResponseWriter, req *http.Request, st *authState) (id *auth.Identity, proceed bool) {
	ident, out, text := auth.Connect(req.Context(), r.cb.Load(), *st.connect, req)
	r.metrics.ConnectAuth.WithLabelValues(out.String()).Inc()
	switch out {
	case auth.Accepted:
		r.warnDropped(r.log, "connect", ident)
		return &ident, true
	case auth.Refused:
		if text == "" {
			text = errAuthFailed
		}
		r.strangers.log(r.log, slog.LevelInfo, "connect check refused", "required", st.required, "remote", req.RemoteAddr)
		if st.required {
			refuse(w, http.StatusForbidden, text)
			return nil, false
		}
	default:
		r.strangers.log(r.log, slog.LevelWarn, "connect check unavailable", "required", st.required, "remote", req.RemoteAddr)
		if st.required {
			refuse(w, http.StatusServiceUnavailable, errUnavailable)
			return nil, false
		}
	}
	return nil, true
}

// isUpgrade reports whether req asks for a WebSocket. Other requests (a
// load balancer's health check on this port, a crawler) are refused by the
// WebSocket library as before and cost the app no connect check.
func isUpgrade(req *http.Request) bool {
	if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, v := range req.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// warnDropped says when an auth answer or token granted patterns past
// the bounds of allowed_subscriptions, which were left out.
func (r *Router) warnDropped(log *slog.Logger, method string, id auth.Identity) {
	if id.Dropped > 0 {
		r.strangers.log(log, slog.LevelWarn, "allowed_subscriptions over the bounds; patterns ignored",
			"method", method, "ignored", id.Dropped, "max_patterns", auth.MaxAllowed, "max_pattern_bytes", auth.MaxPatternBytes)
	}
}

// refuse answers an upgrade request with {"status":"error","error":text}.
func refuse(w http.ResponseWriter, code int, text string) {
	body, _ := json.Marshal(map[string]string{"status": "error", "error": text})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// handleAuth runs the auth event's method: ticket (the default) or jwt.
func (s *session) handleAuth(cfg *services.Config, ev *clientEvent) bool {
	fail := func(msg string) bool {
		s.reply(reply{event: "auth", err: msg}.encode())
		return false
	}
	method := "ticket" // only when the key is absent: null, "" or a number is no method
	if raw := ev.field("method"); raw != nil {
		m, ok := ev.str("method")
		if !ok {
			return fail(errAuthUnsupported)
		}
		method = m
	}
	a := cfg.Authentication
	var id auth.Identity
	switch {
	case method == "ticket" && a != nil && a.Ticket != nil:
		ticket, ok := ev.str("ticket")
		if !ok || ticket == "" {
			return fail(errTicketMissing)
		}
		ans := s.r.cb.Load().Call(s.ctx, "ticket", a.Ticket.ValidationURL, map[string]string{"ticket": ticket})
		if !ans.OK() {
			return fail(errorText(ans, errAuthFailed))
		}
		id = auth.FromAnswer(ans.Fields, a.Ticket.AuthFields)
	case method == "jwt" && a != nil && a.JWT != nil:
		v := s.r.auth.Load().jwt
		if v == nil { // a reload removed the method since cfg was read
			return fail(errAuthUnsupported)
		}
		token, _ := ev.str("token")
		var err error
		if id, err = v.Verify(s.ctx, token); err != nil {
			s.r.strangers.log(s.logger(), slog.LevelInfo, "jwt refused", "err", clipErr(err))
			return fail(errAuthFailed)
		}
	default:
		return fail(errAuthUnsupported)
	}
	s.setIdentity(id)
	s.r.warnDropped(s.logger(), method, id)
	s.logger().Debug("authenticated", "method", method, "fields", len(id.Fields), "allowed", len(id.Allowed))
	s.reply(reply{event: "auth"}.encode())
	return true
}

// setIdentity authenticates the session with id, replacing what an
// earlier auth gave it, and arms the expiry of id (or disarms that of the
// identity it replaces). It runs on the processor, or before the reader
// starts.
func (s *session) setIdentity(id auth.Identity) {
	fields := id.Fields
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	s.authenticated = true
	s.authFields = fields
	s.authSnap.Store(&fields)
	s.allowed = id.Allowed
	s.authGen++
	gen := s.authGen
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.authTimer != nil {
		s.authTimer.Stop()
		s.authTimer = nil
	}
	if id.Expires.IsZero() || s.bgClosed {
		return
	}
	s.authTimer = s.r.clock.AfterFunc(id.Expires.Sub(s.r.clock.Now()), func() {
		s.enqueueEvent(sessionEvent{run: func() { s.expire(gen) }})
	})
}

// expire ends the identity of generation gen, unless a newer auth came
// first: the session is unauthenticated again and its subscriptions of
// services that require authentication end with "Authentication expired.".
func (s *session) expire(gen uint64) {
	if gen != s.authGen || !s.authenticated {
		return
	}
	s.authGen++
	s.authenticated = false
	s.authFields = nil
	none := map[string]json.RawMessage{}
	s.authSnap.Store(&none)
	s.allowed = nil
	s.logger().Info("authentication expired")
	s.subsMu.Lock()
	var ending []*subscription
	for _, sub := range s.subs {
		if sub.currentService().RequiresAuthentication() {
			ending = append(ending, sub)
		}
	}
	s.subsMu.Unlock()
	for _, sub := range ending {
		s.forceUnsubscribe(sub, errAuthExpired, false)
	}
}

// allowedSubscription reports whether the session may subscribe to name
// on a service with require_allowed_subscription.
func (s *session) allowedSubscription(name string) bool {
	return auth.MatchAny(s.allowed, name)
}
