package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wsrouter/wsrouter/embedredis"
	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/router"
	"github.com/wsrouter/wsrouter/services"
	"github.com/wsrouter/wsrouter/status"
)

// serve runs the router until SIGTERM or SIGINT, then drains it. It
// returns an error only for start-up failures (exit 1).
// maxUpgradeHeaderBytes bounds an upgrade request's line and headers
// (net/http's default is 1 MiB). Anyone can open a handshake, and the
// connect check POSTs the forwarded headers and the query to the app, so
// each handshake could otherwise hold and send a MiB; a browser's
// cookies and tokens fit many times over.
const maxUpgradeHeaderBytes = 64 << 10

func serve(path string, cfg *services.Config, stderr io.Writer) error {
	level := new(slog.LevelVar)
	level.Set(parseLevel(cfg.Log.Level))
	log := newLogger(cfg.Log.Format, level, stderr)
	slog.SetDefault(log)

	// From here on a signal is handled, not fatal: one that arrives while
	// starting up is acted on once the router serves.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(signals)

	for _, rc := range redisList(cfg) {
		if addr, ok := rc.Embedded(); ok {
			srv, err := embedredis.Start(addr)
			if err != nil {
				return err
			}
			defer srv.Close()
			log.Info("embedded redis listening (for trying wsrouter out; use a real Redis in production)", "addr", srv.Addr())
		}
	}

	m := metrics.New()
	nodeID := newNodeID()
	r, err := router.New(cfg, router.Options{Logger: log, Metrics: m, NodeID: nodeID})
	if err != nil {
		return err
	}
	m.ObserveReadiness(r.Ready)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	var metricsLn net.Listener
	if cfg.Metrics.Listen != "" {
		if metricsLn, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
			ln.Close()
			return fmt.Errorf("metrics.listen %s: %w", cfg.Metrics.Listen, err)
		}
	}
	if cfg.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	nodeAPI, err := listenAPI(cfg, r, m, log)
	if err != nil {
		ln.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
		return err
	}

	r.Start()
	nodeAPI.start()
	wsServer := &http.Server{
		Handler: r, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxUpgradeHeaderBytes,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := wsServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("websocket listener stopped", "err", err)
		}
	}()
	reloads := new(status.Reloads)
	reloader := newReloader(path, cfg, r, m, reloads, level, log, nodeAPI.apply)
	defer reloader.stop()
	var metricsServer *http.Server
	if metricsLn != nil {
		ops, stopStatus := operationsHandler(m, r, status.Options{
			Config:  reloader.current,
			Reloads: reloads,
			Nodes:   nodeAPI.lister(),
			NodeID:  nodeID,
			Version: buildVersion(),
		})
		defer stopStatus()
		metricsServer = &http.Server{Handler: ops, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := metricsServer.Serve(metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener stopped", "err", err)
			}
		}()
	}
	scheme := "ws"
	if cfg.TLS.CertFile != "" {
		scheme = "wss"
	}
	log.Info("wsrouter listening", "url", scheme+"://"+ln.Addr().String()+"/", "metrics", cfg.Metrics.Listen, "services", len(cfg.Services),
		"max_open_files", openFileLimit(), "version", buildVersion())

	for sig := range signals {
		if sig == syscall.SIGHUP {
			reloader.reload("SIGHUP")
			continue
		}
		log.Info("shutting down", "signal", sig.String(), "shutdown_timeout", reloader.current().ShutdownTimeout.Std().String())
		break
	}
	go func() {
		for sig := range signals {
			if sig != syscall.SIGHUP {
				// Exit 1 is kept for configuration and listener errors
				// (SPEC section 5); this is a drain cut short, like one
				// that runs out of shutdown_timeout.
				log.Warn("second signal; exiting at once", "signal", sig.String())
				os.Exit(0)
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), reloader.current().ShutdownTimeout.Std())
	defer cancel()
	_ = wsServer.Shutdown(ctx) // closes the listener; hijacked sockets are the router's
	// The API and the node record stop alongside the drain, not before it,
	// so they take nothing from its time.
	apiStopped := make(chan struct{})
	go func() { defer close(apiStopped); nodeAPI.stop(ctx) }()
	left := r.Shutdown(ctx)
	<-apiStopped
	if metricsServer != nil {
		_ = metricsServer.Close()
	}
	log.Info("stopped", "unsubscribe_callbacks_left", left)
	return nil
}

// newNodeID names this process in the probe channel and on the status
// page: the host name and a random suffix, so two processes on one host
// differ.
func newNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "wsrouter"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

func redisList(cfg *services.Config) []services.Redis {
	out := []services.Redis{cfg.Redis}
	if cfg.RedisAlt != nil {
		out = append(out, *cfg.RedisAlt)
	}
	return out
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func newLogger(format string, level slog.Leveler, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openFileLimit is the process's open-file limit, which bounds the
// connections it can hold (one file each); Go raises the soft limit to
// the hard one at start. 0 when unknown.
func openFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return lim.Cur
}
