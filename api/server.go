// Package api is the HTTP API of SPEC section 10: publish, disconnect,
// unsubscribe and inspect the whole deployment from any backend. It acts
// only through Redis (publishes, the control channel, node records,
// history and presence), never on the router's sessions directly, so a
// command reaches this node's sessions the same way it reaches every
// other node's.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/services"
)

// redisTimeout bounds the Redis work of one request.
const redisTimeout = 5 * time.Second

// Options are the API's collaborators.
type Options struct {
	// Redis is the deployment's Redis (redis.url). Required.
	Redis redis.UniversalClient
	// Ready reports nil while Redis is connected; otherwise requests that
	// need Redis answer 503. Nil means always ready.
	Ready func() error
	// History appends to and reads the history of services that keep one;
	// nil means no service has history.
	History History
	// Presence reads the members of services with presence; nil means no
	// service has presence.
	Presence Presence
	// Logger receives the log lines; nil means slog.Default().
	Logger *slog.Logger
	// Registerer gets wsrouter_api_requests_total; nil registers nothing.
	Registerer prometheus.Registerer
}

// Server answers the API's requests. It is an http.Handler; build it with
// New and give it new configurations with Apply.
type Server struct {
	opts     Options
	log      *slog.Logger
	state    atomic.Pointer[state]
	requests *prometheus.CounterVec
	routes   map[string]route
}

// state is what a reload replaces as a whole.
type state struct {
	cfg  *services.Config
	keys keyring
}

// route is one endpoint.
type route struct {
	name   string // the endpoint label of the metric
	method string
	handle func(s *Server, c *call) (any, error)
}

// call is one request being handled.
type call struct {
	ctx context.Context // ends at redisTimeout
	st  *state
	req *http.Request
	w   http.ResponseWriter
}

// body reads the request's JSON object, within api.max_body_bytes.
func (c *call) body() (object, error) {
	return readObject(c.w, c.req, c.st.cfg.API.MaxBodyBytes)
}

// New builds the API for cfg.
func New(cfg *services.Config, opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsrouter_api_requests_total", Help: "HTTP API requests, by endpoint and status code.",
	}, []string{"endpoint", "code"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.requests)
	}
	s.routes = map[string]route{
		"/api/publish":       {"publish", http.MethodPost, (*Server).publish},
		"/api/publish_batch": {"publish_batch", http.MethodPost, (*Server).publishBatch},
		"/api/disconnect":    {"disconnect", http.MethodPost, (*Server).disconnect},
		"/api/unsubscribe":   {"unsubscribe", http.MethodPost, (*Server).unsubscribe},
		"/api/info":          {"info", http.MethodGet, (*Server).info},
		"/api/history":       {"history", http.MethodGet, (*Server).history},
		"/api/presence":      {"presence", http.MethodGet, (*Server).presence},
	}
	s.Apply(cfg)
	return s
}

// Apply makes cfg the configuration of the next requests: its keys,
// services and body limit take effect at once.
func (s *Server) Apply(cfg *services.Config) {
	s.state.Store(&state{cfg: cfg, keys: newKeyring(cfg.API.Keys)})
}

// ServeHTTP authenticates the request, routes it and writes its answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	st := s.state.Load()
	rt, known := s.routes[req.URL.Path]
	endpoint := rt.name
	if !known {
		endpoint = "unknown"
	}
	var body any
	var err error
	switch {
	case !st.keys.allows(req.Header.Get("Authorization")):
		err = unauthorized(req)
	case !known:
		err = &Error{Status: http.StatusNotFound, Text: "no such endpoint: " + req.URL.Path}
	case req.Method != rt.method:
		w.Header().Set("Allow", rt.method)
		err = &Error{Status: http.StatusMethodNotAllowed, Text: "method " + req.Method + " not allowed; use " + rt.method}
	default:
		ctx, cancel := context.WithTimeout(req.Context(), redisTimeout)
		body, err = rt.handle(s, &call{ctx: ctx, st: st, req: req, w: w})
		cancel()
	}
	status := http.StatusOK
	if err != nil {
		status, body = s.failure(endpoint, err)
	}
	s.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsrouter"`)
	}
	out, merr := json.Marshal(body)
	if merr != nil {
		status, out = http.StatusInternalServerError, []byte(`{"status":"error","error":"api: cannot encode the answer"}`)
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(out, '\n'))
}

// failure turns err into a status and an error answer, logging what the
// caller cannot fix. The request's URL and headers are never logged: the
// query string may hold a key sent by mistake.
func (s *Server) failure(endpoint string, err error) (int, any) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Status: http.StatusInternalServerError, Text: "internal error"}
		s.log.Error("api: request failed", "endpoint", endpoint, "err", err)
	} else if e.Status >= 500 {
		s.log.Warn("api: request failed", "endpoint", endpoint, "status", e.Status, "err", e.Text)
	}
	return e.Status, errorBody{Status: "error", Error: e.Text}
}

// errorBody is every error answer.
type errorBody struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

// Error is a request's failure: its HTTP status and the text of the
// error answer.
type Error struct {
	Status int
	Text   string
}

func (e *Error) Error() string { return "api: " + e.Text }

// badRequest is a 400 naming the field at fault and what was expected.
func badRequest(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Text: field + ": " + msg}
}

// unavailable is the 503 for a Redis that cannot be reached.
func unavailable(err error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Text: "redis is not connected: " + err.Error()}
}

// needRedis answers 503 when the node's Redis is down, before a request
// waits on it.
func (s *Server) needRedis() error {
	if s.opts.Ready == nil {
		return nil
	}
	if err := s.opts.Ready(); err != nil {
		return unavailable(err)
	}
	return nil
}
