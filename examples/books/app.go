package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	jsclient "github.com/wsrouter/wsrouter/clients/js"
)

// appConfig is what newApp needs.
type appConfig struct {
	// WSURL is the router's public WebSocket URL, handed to the page.
	WSURL string
	// Publisher sends changes to subscribed clients.
	Publisher publisher
	// Logger receives one line per callback; nil discards.
	Logger *slog.Logger
	// Now is the clock of ticket expiry; nil means time.Now.
	Now func() time.Time
}

// app is the book service: its public page and API, and the endpoints
// the router calls.
type app struct {
	wsURL   string
	pub     publisher
	log     *slog.Logger
	tickets *ticketStore
	books   *bookStore
}

func newApp(cfg appConfig) *app {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &app{
		wsURL:   cfg.WSURL,
		pub:     cfg.Publisher,
		log:     cfg.Logger,
		tickets: newTicketStore(cfg.Now),
		books:   newBookStore(),
	}
}

// Handler routes the page, the public API and the router callbacks. In a
// real deployment the /ws/ callbacks would listen on an internal address
// that only the router can reach; here one address keeps the example small.
func (a *app) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static") // the directory is embedded: cannot fail
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /wsrouter.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		http.ServeContent(w, r, "wsrouter.js", time.Time{}, bytes.NewReader(jsclient.Module))
	})
	mux.HandleFunc("GET /config.json", a.handleConfig)
	mux.HandleFunc("GET /books", a.handleBooks)
	mux.HandleFunc("POST /ticket", a.handleTicket)

	mux.HandleFunc("POST /ws/auth/ticket/", a.handleValidateTicket)
	mux.HandleFunc("POST /ws/books/authorize/", a.handleAuthorize)
	mux.HandleFunc("POST /ws/books/before_subscribe/", a.handleBeforeSubscribe)
	mux.HandleFunc("POST /ws/books/on_message/", a.handleOnMessage)
	mux.HandleFunc("POST /ws/books/before_unsubscribe/", a.handleBeforeUnsubscribe)
	mux.HandleFunc("POST /ws/books/on_unsubscribe/", a.handleOnUnsubscribe)
	return mux
}

// userName is what the ticket endpoint accepts as a user name.
var userName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

// handleTicket issues a ticket: POST {"user":"alice"} → {"ticket":"…"}.
// A real application takes the user from its login session instead.
func (a *app) handleTicket(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User string `json:"user"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1024)).Decode(&req); err != nil || !userName.MatchString(req.User) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user must be 1 to 32 letters, digits, '.', '_' or '-'"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"ticket": a.tickets.Issue(req.User)})
}

// handleConfig tells the page where the router is.
func (a *app) handleConfig(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"ws_url": a.wsURL})
}

// handleBooks lists the books the page can open.
func (a *app) handleBooks(w http.ResponseWriter, _ *http.Request) {
	type entry struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	var out []entry
	for _, b := range a.books.List() {
		out = append(out, entry{ID: b.ID, Title: b.Title})
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
