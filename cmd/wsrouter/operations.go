package main

import (
	"context"
	"net/http"

	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/router"
	"github.com/wsrouter/wsrouter/status"
)

// operationsHandler serves metrics.listen: /metrics, /healthz, /readyz and
// the profiler, and the status page beside them. It starts the status
// page's sampler; stop ends it.
func operationsHandler(m *metrics.Metrics, r *router.Router, opts status.Options) (h http.Handler, stop func()) {
	opts.Gatherer = m.Own()
	opts.Ready = r.Ready
	st := status.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); st.Run(ctx) }()

	mux := http.NewServeMux()
	mux.Handle("/", m.Handler(r.Ready))
	pages := st.Handler()
	for _, p := range []string{"/status", "/status.json", "/status/"} {
		mux.Handle(p, pages)
	}
	return mux, func() { cancel(); <-done }
}
