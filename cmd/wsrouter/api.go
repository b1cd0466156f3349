package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsrouter/wsrouter/api"
	"github.com/wsrouter/wsrouter/metrics"
	"github.com/wsrouter/wsrouter/router"
	"github.com/wsrouter/wsrouter/services"
	"github.com/wsrouter/wsrouter/status"
)

// nodeAPI is this node's record in Redis, always kept, and the HTTP API
// when api.listen is set.
type nodeAPI struct {
	log       *slog.Logger
	rdb       redis.UniversalClient
	prefix    string // redis.channel_prefix
	announcer *api.Announcer
	srv       *api.Server  // nil without api.listen
	http      *http.Server // nil without api.listen
	ln        net.Listener
	scheme    string // http or https
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// listenAPI binds the API's listener, so that a taken address fails the
// start like the other listeners do; start serves it.
func listenAPI(cfg *services.Config, r *router.Router, m *metrics.Metrics, log *slog.Logger) (*nodeAPI, error) {
	rdb, err := api.NewRedis(cfg.Redis)
	if err != nil {
		return nil, err
	}
	n := &nodeAPI{log: log, rdb: rdb, prefix: cfg.Redis.ChannelPrefix}
	n.announcer = api.NewAnnouncer(api.AnnouncerOptions{
		Redis: rdb, ChannelPrefix: cfg.Redis.ChannelPrefix, ID: r.NodeID(), Version: buildVersion(),
		Started: time.Now(), Interval: cfg.Redis.PingInterval.Std(), Logger: log,
		Stats: func() api.NodeStats {
			c, s := r.Stats()
			return api.NodeStats{Connections: c, Subscriptions: s}
		},
	})
	if !cfg.API.Enabled() {
		return n, nil
	}
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		rdb.Close()
		return nil, fmt.Errorf("api.listen %s: %w", cfg.API.Listen, err)
	}
	if cfg.API.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.API.TLS.CertFile, cfg.API.TLS.KeyFile)
		if err != nil {
			ln.Close()
			rdb.Close()
			return nil, fmt.Errorf("api.tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	n.ln, n.scheme = ln, "http"
	if cfg.API.TLS.CertFile != "" {
		n.scheme = "https"
	}
	pres, err := api.NewPresence(rdb, cfg.Redis.ChannelPrefix, r.NodeID())
	if err != nil {
		ln.Close()
		rdb.Close()
		return nil, err
	}
	n.srv = api.New(cfg, api.Options{Redis: rdb, Ready: r.Ready, Logger: log, Registerer: m.Registry,
		History: api.NewHistory(rdb, cfg.Redis.ChannelPrefix), Presence: pres})
	n.http = api.HTTPServer(n.srv, log)
	return n, nil
}

// Nodes lists the deployment's live nodes for the status page, from the
// same records as GET /api/info.
func (n *nodeAPI) Nodes(ctx context.Context) ([]status.Node, error) {
	list, err := api.Nodes(ctx, n.rdb, n.prefix, time.Now())
	if err != nil {
		return nil, err
	}
	out := make([]status.Node, len(list))
	for i, v := range list {
		out[i] = status.Node{ID: v.ID, Connections: int64(v.Connections), Subscriptions: int64(v.Subscriptions),
			UptimeS: v.UptimeS, Version: v.Version}
	}
	return out, nil
}

// lister is the status page's node list: nil without the API, which the
// page shows as such.
func (n *nodeAPI) lister() status.NodeLister {
	if n.srv == nil {
		return nil
	}
	return n
}

// start keeps the node record fresh and serves the API.
func (n *nodeAPI) start() {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.announcer.Run(ctx)
	}()
	if n.http == nil {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		if err := n.http.Serve(n.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("api listener stopped", "err", err)
		}
	}()
	n.log.Info("api listening", "url", n.scheme+"://"+n.ln.Addr().String()+"/api/")
}

// apply gives a reloaded configuration to the API: keys, services and the
// body limit take effect at once.
func (n *nodeAPI) apply(cfg *services.Config) {
	if n.srv != nil {
		n.srv.Apply(cfg)
	}
}

// stop ends the API (requests in flight finish within ctx) and removes the
// node record, so that info stops listing this node.
func (n *nodeAPI) stop(ctx context.Context) {
	if n.http != nil {
		_ = n.http.Shutdown(ctx)
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	_ = n.rdb.Close()
}
