// Command books is the wsrouter example application: a small book service
// that implements every HTTP endpoint the router calls (ticket validation,
// authorizer, before_subscribe, on_message, before and on unsubscribe),
// publishes each edit through its history in Redis, and serves a browser page that uses the
// JavaScript client. Run it with `make run`, which also starts the router
// with config.example.yaml.
//
//	books -listen 127.0.0.1:8080 -redis 127.0.0.1:6379 -ws ws://127.0.0.1:9000/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "books:", err)
		os.Exit(1)
	}
}

// run serves the example until SIGINT or SIGTERM.
func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("books", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "HTTP address of the page, the ticket endpoint and the router callbacks")
	redisAddr := fs.String("redis", "127.0.0.1:6379", "Redis address (host:port) to PUBLISH changes to; the router's embedded Redis by default")
	wsURL := fs.String("ws", "ws://127.0.0.1:9000/", "public WebSocket URL of the router, for the page")
	prefix := fs.String("prefix", "", "the router's redis.channel_prefix")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
	defer rdb.Close()
	app := newApp(appConfig{
		WSURL:     *wsURL,
		Publisher: newHistoryPublisher(rdb, *prefix),
		Logger:    log,
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	srv := &http.Server{Handler: app.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("books example listening", "url", "http://"+ln.Addr().String()+"/", "router", *wsURL, "redis", *redisAddr)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
