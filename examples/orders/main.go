// Command orders is a service behind wsrouter, in Go: the same endpoints
// as orders.py, so examples/orders/config.yaml serves both.
//
//	go run ./examples/orders                        # serves 127.0.0.1:8000
//	wsrouter -config examples/orders/config.yaml    # the router, on :9000
//
// Environment: LISTEN (127.0.0.1:8000), REDIS_ADDR (127.0.0.1:6379).
package main

import (
	"crypto/rand"
	"encoding/json"
	"log"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// order is what subscribers of orders.ID see.
type order struct {
	ID      string `json:"id"`
	Owner   string `json:"owner"`
	Status  string `json:"status"`
	Version int    `json:"version"`
}

// ticket is a single-use ticket issued to a user.
type ticket struct {
	user    string
	expires time.Time
}

// service holds the orders and tickets; one lock keeps it simple.
type service struct {
	mu      sync.Mutex
	orders  map[string]*order
	tickets map[string]ticket
	rdb     *redis.Client
}

func newService(rdb *redis.Client) *service {
	return &service{
		orders:  map[string]*order{"42": {ID: "42", Owner: "alice", Status: "open", Version: 1}},
		tickets: map[string]ticket{},
		rdb:     rdb,
	}
}

// body is a request from the page or the router.
type body struct {
	User         string `json:"user"`
	Ticket       string `json:"ticket"`
	Subscription string `json:"subscription"`
	UserID       string `json:"user_id"`
	ID           string `json:"id"`
}

type answer = map[string]any

// handler routes each POST to its function under the lock.
func (s *service) handler() http.Handler {
	routes := map[string]func(*http.Request, body) answer{
		"/ticket":                      s.ticket,
		"/ws/auth/ticket/":             s.validate,
		"/ws/orders/authorize/":        s.authorize,
		"/ws/orders/before_subscribe/": s.beforeSubscribe,
		"/orders/pay":                  s.pay,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b body
		route, ok := routes[r.URL.Path]
		w.Header().Set("Content-Type", "application/json")
		if !ok || r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&b) != nil {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(answer{"status": "error", "error": "Not found."})
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(route(r, b))
	})
}

// ticket: the page asks; a real app takes the user from its login session.
func (s *service) ticket(_ *http.Request, b body) answer {
	t := rand.Text()
	s.tickets[t] = ticket{user: b.User, expires: time.Now().Add(30 * time.Second)}
	return answer{"ticket": t}
}

// validate: the router, on the client's auth event; tickets are single-use.
func (s *service) validate(_ *http.Request, b body) answer {
	t, ok := s.tickets[b.Ticket]
	delete(s.tickets, b.Ticket)
	if !ok || time.Now().After(t.expires) {
		return answer{"status": "error", "error": "Invalid ticket."}
	}
	return answer{"status": "ok", "user_id": t.user}
}

// authorize: the router, before each subscribe and on every renewal.
func (s *service) authorize(_ *http.Request, b body) answer {
	_, id, _ := strings.Cut(b.Subscription, ".")
	if o := s.orders[id]; o == nil || o.Owner != b.UserID {
		return answer{"status": "error", "error": "Unauthorized."}
	}
	return answer{"status": "ok"}
}

// beforeSubscribe: the router, after the authorizer: the current state.
func (s *service) beforeSubscribe(_ *http.Request, b body) answer {
	_, id, _ := strings.Cut(b.Subscription, ".")
	o := s.orders[id]
	if o == nil {
		return answer{"status": "error", "error": "Not found."}
	}
	return answer{"status": "ok", "data": o, "options": answer{"order": o.Version}}
}

// pay: your application changes an order, then publishes it. The order
// option makes the router drop any state older than one a client has.
func (s *service) pay(r *http.Request, b body) answer {
	o := s.orders[b.ID]
	if o == nil {
		return answer{"status": "error", "error": "Not found."}
	}
	o.Status, o.Version = "paid", o.Version+1
	name := "orders." + o.ID
	msg, _ := json.Marshal(answer{"subscription": name, "data": o, "options": answer{"order": o.Version}})
	if err := s.rdb.Publish(r.Context(), name, msg).Err(); err != nil {
		return answer{"status": "error", "error": err.Error()}
	}
	return answer{"status": "ok", "data": o}
}

func main() {
	listen, redisAddr := os.Getenv("LISTEN"), os.Getenv("REDIS_ADDR")
	if listen == "" {
		listen = "127.0.0.1:8000"
	}
	if redisAddr == "" {
		redisAddr = "127.0.0.1:6379"
	}
	s := newService(redis.NewClient(&redis.Options{Addr: redisAddr}))
	log.Printf("orders: listening on http://%s/", listen)
	log.Fatal(http.ListenAndServe(listen, s.handler()))
}
