// Package status owns the operators' status page: GET /status (an HTML
// page embedded in the binary, with no external assets) and
// GET /status.json (the same data), served on metrics.listen.
//
// The page is fed by the router's Prometheus collectors, read every few
// seconds into a small ring of samples (15 minutes at 5 s), so a delivery
// costs nothing more than the counter it already increments; by the
// current configuration and the log of recent reloads; by the readiness
// check; and, when the HTTP API is on, by the node records it keeps in
// Redis. It never imports the router: cmd/wsrouter wires it.
//
// Ownership: Run's loop is the only goroutine, started and ended by its
// caller. Nothing else runs unless someone asks for the page.
package status
