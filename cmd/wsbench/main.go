// Command wsbench is the load tool for servers that speak the wsrouter client
// protocol. It opens many WebSocket clients, subscribes each to one topic,
// publishes timestamped messages through Redis PUBLISH and reports fan-out
// throughput (or, with -api, through the router's HTTP API), end-to-end latency, lost and duplicated deliveries and, given
// the server's PID, the server's memory per connection and CPU per delivery.
//
// With -summarize FILE it instead reads the JSON lines of earlier runs and
// prints a Markdown table of medians per scenario and server, and with
// -goals the performance targets against the reference server. With
// -callback-server ADDR it answers every HTTP request with {"status":"ok"},
// standing in for a service's callbacks, until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// config holds the parsed command line.
type config struct {
	url             string
	redisAddr       string
	redisCluster    bool
	prefix          string
	service         string
	label           string
	scenario        string
	clients         int
	topics          int
	messages        int
	rate            float64
	payload         int
	dialConcurrency int
	ramp            time.Duration
	pid             int
	timeout         time.Duration
	settle          time.Duration
	jsonOnly        bool
	allowRemote     bool
	summarize       string
	baseline        string
	only            string
	goals           bool
	scale           bool
	candidate       string
	timersLabel     string
	callbackAddr    string
	memberField     string
	drop            bool
	dropCfg         dropConfig
	apiURL          string
	apiBatch        int
	apiKey          string // from WSBENCH_API_KEY, so it stays out of process lists
	sourceAddrs     int
	compression     string
	subs            int
	records         bool
	auth            authConfig // sign-in and wildcard subscriptions (auth.go)
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("wsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "ws://127.0.0.1:9000/", "WebSocket URL of the server under test")
	fs.StringVar(&c.redisAddr, "redis", "127.0.0.1:6379", "Redis address (host:port) to PUBLISH to")
	fs.BoolVar(&c.redisCluster, "redis-cluster", false, "-redis is a node of a Redis Cluster: publish with SPUBLISH to each channel's master")
	fs.StringVar(&c.prefix, "prefix", "", "Redis channel prefix the server uses")
	fs.StringVar(&c.service, "service", "bench", "service part of the topic names <service>.t<i>")
	fs.StringVar(&c.label, "label", "server", "server label written to the results")
	fs.StringVar(&c.scenario, "scenario", "", "scenario label written to the results")
	fs.IntVar(&c.clients, "clients", 1000, "number of WebSocket clients")
	fs.IntVar(&c.topics, "topics", 1, "number of topics; client i subscribes to topic i%topics")
	fs.IntVar(&c.messages, "messages", 200, "messages to publish, round-robin over the topics")
	fs.Float64Var(&c.rate, "rate", 0, "messages per second; 0 publishes as fast as possible")
	fs.IntVar(&c.payload, "payload", 100, "bytes of each message's data object")
	fs.IntVar(&c.dialConcurrency, "dial-concurrency", 200, "clients connecting and subscribing at once")
	fs.DurationVar(&c.ramp, "ramp", 0, "spread the connection starts over this duration")
	fs.IntVar(&c.pid, "pid", 0, "server PID for RSS and CPU figures; 0 skips them")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Minute, "limit for the whole run")
	fs.DurationVar(&c.settle, "settle", 2*time.Second, "after publishing, stop waiting once no delivery arrived for this long")
	fs.BoolVar(&c.jsonOnly, "json-only", false, "print only the JSON line")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow non-loopback WebSocket and Redis targets")
	fs.StringVar(&c.summarize, "summarize", "", "read JSON result lines from this file and print a table of medians")
	fs.StringVar(&c.baseline, "baseline", "floor", "with -summarize: server label the ratios divide by")
	fs.StringVar(&c.only, "only", "", "with -summarize: comma-separated server labels to include (default all)")
	fs.BoolVar(&c.goals, "goals", false, "with -summarize: also print the performance targets, met or not")
	fs.BoolVar(&c.scale, "scale", false, "with -summarize: print one row per run with what it varied (clients, subs, payload, compression) instead")
	fs.StringVar(&c.candidate, "candidate", "wsrouter", "with -goals: server label measured against -baseline")
	fs.StringVar(&c.timersLabel, "timers-label", "wsrouter-timers", "with -goals: label of the candidate with timers configured")
	fs.StringVar(&c.memberField, "member-field", "", "send this extra field with each subscribe, \"c<i>\" for client i, so a presence service sees one member per client")
	fs.StringVar(&c.callbackAddr, "callback-server", "", "serve HTTP on this address answering every request {\"status\":\"ok\"} until interrupted")
	fs.BoolVar(&c.drop, "drop", false, "drop scenario: kill every client's socket every ~drop-every and reconnect after ~drop-for, publishing to one topic at -rate for -duration")
	fs.DurationVar(&c.dropCfg.dropEvery, "drop-every", 15*time.Second, "with -drop: mean time between a client's drops (jittered ±50%)")
	fs.DurationVar(&c.dropCfg.dropFor, "drop-for", 2*time.Second, "with -drop: mean time a dropped client stays away (jittered ±50%)")
	fs.DurationVar(&c.dropCfg.duration, "duration", 2*time.Minute, "with -drop: how long messages are published")
	fs.BoolVar(&c.dropCfg.history, "history", false, "with -drop: publish with the history script and resubscribe with since")
	fs.IntVar(&c.dropCfg.historySize, "history-size", 100, "with -drop -history: the service's history.size")
	fs.DurationVar(&c.dropCfg.historyTTL, "history-ttl", 10*time.Minute, "with -drop -history: the service's history.ttl")
	fs.StringVar(&c.apiURL, "api", "", "publish through the router's HTTP API at this base URL (e.g. http://127.0.0.1:9200) instead of Redis; the key is read from WSBENCH_API_KEY")
	fs.IntVar(&c.apiBatch, "api-batch", 1, "with -api: messages per request; 1 uses /api/publish, more /api/publish_batch")
	fs.IntVar(&c.sourceAddrs, "source-addrs", 0, "spread the clients over this many loopback source addresses 127.0.0.2, 127.0.0.3, …; 0: one per 20,000 clients above 20,000")
	fs.StringVar(&c.compression, "compression", "none", "permessage-deflate the clients offer: none, no_context_takeover or context_takeover")
	fs.BoolVar(&c.records, "records", false, "fill each message's data object with JSON records (ids, prices, words) rather than padding, for compression figures")
	fs.IntVar(&c.subs, "subs", 1, "subscriptions per client: its topic plus subs-1 that receive nothing")
	authFlags(fs, &c.auth)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.apiKey = os.Getenv("WSBENCH_API_KEY")
	if fs.NArg() > 0 {
		return c, fmt.Errorf("wsbench: unexpected arguments %q", fs.Args())
	}
	if c.summarize != "" || c.callbackAddr != "" {
		return c, nil
	}
	if err := c.auth.load(); err != nil {
		return c, err
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.clients < 1:
		return fmt.Errorf("wsbench: -clients %d must be at least 1", c.clients)
	case c.topics < 1 || c.topics > c.clients:
		return fmt.Errorf("wsbench: -topics %d must be between 1 and -clients %d", c.topics, c.clients)
	case c.messages < 1:
		return fmt.Errorf("wsbench: -messages %d must be at least 1", c.messages)
	case c.rate < 0:
		return fmt.Errorf("wsbench: -rate %g must not be negative", c.rate)
	case c.payload < 0:
		return fmt.Errorf("wsbench: -payload %d must not be negative", c.payload)
	case c.dialConcurrency < 1:
		return fmt.Errorf("wsbench: -dial-concurrency %d must be at least 1", c.dialConcurrency)
	case c.ramp < 0:
		return fmt.Errorf("wsbench: -ramp %s must not be negative", c.ramp)
	case c.timeout <= 0:
		return fmt.Errorf("wsbench: -timeout %s must be positive", c.timeout)
	case c.settle <= 0:
		return fmt.Errorf("wsbench: -settle %s must be positive", c.settle)
	case c.pid < 0:
		return fmt.Errorf("wsbench: -pid %d must not be negative", c.pid)
	case c.apiURL != "" && !strings.HasPrefix(c.apiURL, "http://") && !strings.HasPrefix(c.apiURL, "https://"):
		return fmt.Errorf("wsbench: -api %q must be an http or https URL", c.apiURL)
	case c.apiURL != "" && c.apiKey == "":
		return errors.New("wsbench: -api needs the API key in WSBENCH_API_KEY")
	case c.subs < 1:
		return fmt.Errorf("wsbench: -subs %d must be at least 1", c.subs)
	case compressionModes[c.compression] == 0 && c.compression != "none":
		return fmt.Errorf("wsbench: -compression %q must be none, no_context_takeover or context_takeover", c.compression)
	case c.auth.wildcard && c.redisCluster:
		return errors.New("wsbench: -wildcard needs a single Redis: a Redis Cluster has no pattern subscriptions (-redis-cluster)")
	case c.apiBatch < 1 || c.apiBatch > 1000:
		return fmt.Errorf("wsbench: -api-batch %d must be between 1 and 1000", c.apiBatch)
	}
	return nil
}

func run(args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if cfg.summarize != "" {
		return summarizeFile(cfg, stdout)
	}
	if cfg.callbackAddr != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serveCallbacks(ctx, cfg.callbackAddr, os.Stderr)
	}
	if err := raiseFileLimit(cfg.clients); err != nil {
		return err
	}
	if cfg.pid > 0 {
		if err := checkServerFileLimit(cfg.pid, cfg.clients); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	if !cfg.allowRemote {
		if err := checkTargets(ctx, cfg.url, cfg.redisAddr, defaultLookup); err != nil {
			return err
		}
		if cfg.apiURL != "" {
			if err := checkAPITarget(ctx, cfg.apiURL, defaultLookup); err != nil {
				return err
			}
		}
	}
	var rdb redis.UniversalClient = redis.NewClient(&redis.Options{Addr: cfg.redisAddr})
	if cfg.redisCluster {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{cfg.redisAddr}})
	}
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("wsbench: redis %s: %w", cfg.redisAddr, err)
	}
	if cfg.drop {
		if cfg.rate <= 0 {
			return fmt.Errorf("wsbench: -drop needs a -rate (messages per second), such as 2")
		}
		return runDrop(ctx, cfg, cfg.dropCfg, rdb, stdout)
	}
	res, err := measure(ctx, cfg, rdb)
	if err != nil {
		return err
	}
	return writeResult(stdout, res, cfg.jsonOnly)
}

// measure runs the connect, publish and delivery phases and returns the
// numbers of one run.
func measure(ctx context.Context, cfg config, rdb redis.UniversalClient) (result, error) {
	var srv *serverProbe
	if cfg.pid > 0 {
		srv = &serverProbe{pid: cfg.pid}
		if err := srv.sampleRSS(&srv.rssBefore); err != nil {
			return result{}, err
		}
	}

	f, err := newFleet(ctx, cfg)
	if err != nil {
		return result{}, err
	}
	defer f.shutdown()
	connectStart := time.Now()
	if err := f.connect(); err != nil {
		return result{}, err
	}
	connectTime := time.Since(connectStart)
	if srv != nil {
		if err := srv.sampleRSS(&srv.rssAfter); err != nil {
			return result{}, err
		}
		if err := srv.sampleCPU(&srv.cpuBefore); err != nil {
			return result{}, err
		}
	}

	pub := publisher{
		rdb: rdb, prefix: cfg.prefix, service: cfg.service,
		topics: cfg.topics, messages: cfg.messages, payload: cfg.payload, rate: cfg.rate,
		records: cfg.records,
	}
	if cfg.apiURL != "" {
		pub.api = newAPIPublisher(strings.TrimSuffix(cfg.apiURL, "/"), cfg.apiKey, cfg.apiBatch)
		defer pub.api.close()
	}
	wireBefore := f.wire.Load()
	first, last, err := pub.run(ctx)
	if err != nil {
		return result{}, err
	}
	if err := f.waitDelivered(ctx, cfg.settle); err != nil {
		return result{}, err
	}
	if srv != nil {
		if err := srv.sampleCPU(&srv.cpuAfter); err != nil {
			return result{}, err
		}
		if err := srv.sampleRSS(&srv.rssEnd); err != nil {
			return result{}, err
		}
	}
	wire := f.wire.Load() - wireBefore
	f.shutdown()

	tally := f.tally()
	res := newResult(cfg, tally, connectTime, first, last)
	if tally.delivered > 0 {
		res.WireBytesPerDelivery = float64(wire) / float64(tally.delivered)
	}
	if srv != nil {
		res.setServerCost(srv, cfg.clients, tally.delivered)
	}
	return res, nil
}
