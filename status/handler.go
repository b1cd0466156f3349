package status

import (
	"embed"
	"net/http"
)

//go:embed page
var page embed.FS

// csp keeps the page to its own script and style: it has no inline code
// and loads nothing from elsewhere, so it works offline.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves GET /status (the page), /status.json (its data) and the
// page's script and style under /status/. Mount it on those paths.
func (s *Status) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, "page/status.html", "text/html; charset=utf-8")
	})
	mux.HandleFunc("GET /status/app.js", func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, "page/app.js", "text/javascript; charset=utf-8")
	})
	mux.HandleFunc("GET /status/app.css", func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, "page/app.css", "text/css; charset=utf-8")
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		body, err := s.Snapshot(r.Context()).encode()
		if err != nil {
			http.Error(w, "status: encoding the snapshot: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	})
	return mux
}

func serveFile(w http.ResponseWriter, _ *http.Request, name, contentType string) {
	body, err := page.ReadFile(name)
	if err != nil {
		http.Error(w, "status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}
