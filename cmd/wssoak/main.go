// Command wssoak is the router's soak test: for a set time, clients churn
// (connect, subscribe to one to three of many topics, stay a random while,
// sometimes unsubscribe, disconnect) while a publisher sends
// sequence-numbered messages to every topic at a steady rate. Each client
// checks that every message of each subscription arrives once and in
// order, from the first one published after its subscribe ok until it
// leaves. At the end the router's goroutines (go_goroutines on its
// /metrics) and RSS (/proc/PID/status) must be back near their values
// before the run. It prints one summary line and exits 1 when anything
// was lost, duplicated or reordered, a client saw an error, or the
// resources did not come back.
//
//	wssoak -url ws://127.0.0.1:9000/ -redis 127.0.0.1:6379 \
//	    -metrics http://127.0.0.1:9100/metrics -pid PID -duration 10m
//
// The router must have a service (-service, default soak) without
// authentication or callbacks. scripts/soak.sh starts a private Redis and
// router and runs wssoak against them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// errFailed marks a run that was carried out and found problems.
var errFailed = errors.New("wssoak: soak failed")

func run(args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Hard bound on the whole run: churn, the last drains and the settle.
	ctx, cancel := context.WithTimeout(ctx, opts.duration+opts.settle+time.Minute)
	defer cancel()
	res, err := soak(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.summary())
	if len(res.problems()) > 0 {
		return errFailed
	}
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var slackMiB uint64
	fs := flag.NewFlagSet("wssoak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.url, "url", "ws://127.0.0.1:9000/", "WebSocket URL of the router (loopback only)")
	fs.StringVar(&o.redisAddr, "redis", "127.0.0.1:6379", "address of the router's Redis, to PUBLISH to (loopback only)")
	fs.StringVar(&o.prefix, "prefix", "", "the router's redis.channel_prefix")
	fs.StringVar(&o.service, "service", "soak", "a service without authentication or callbacks")
	fs.StringVar(&o.metricsURL, "metrics", "", "the router's /metrics URL, for go_goroutines; empty skips the goroutine check")
	fs.IntVar(&o.pid, "pid", 0, "the router's PID, for RSS; 0 skips the RSS check")
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "how long clients churn")
	fs.IntVar(&o.clients, "clients", 200, "clients connected at any time")
	fs.IntVar(&o.topics, "topics", 50, "topics; each client subscribes to 1-3 of them")
	fs.Float64Var(&o.rate, "rate", 200, "messages per second, round-robin over the topics")
	fs.DurationVar(&o.minStay, "min-stay", time.Second, "shortest time a client stays")
	fs.DurationVar(&o.maxStay, "max-stay", 20*time.Second, "longest time a client stays")
	fs.DurationVar(&o.settle, "settle", time.Minute, "how long goroutines and RSS may take to return near the baseline")
	fs.IntVar(&o.goroutineSlack, "goroutine-slack", 10, "final goroutines may exceed the baseline by this many")
	fs.Uint64Var(&slackMiB, "rss-slack", 32, "final RSS may exceed the baseline by this many MiB")
	fs.Uint64Var(&o.seed, "seed", uint64(time.Now().UnixNano()), "random seed of the clients")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.memSlackKiB = slackMiB * 1024
	return o, o.validate()
}

// validate checks the options, including that every target is on loopback.
func (o options) validate() error {
	switch {
	case o.duration <= 0:
		return errors.New("wssoak: -duration must be positive")
	case o.clients <= 0 || o.clients > 5000:
		return fmt.Errorf("wssoak: -clients %d must be between 1 and 5000", o.clients)
	case o.topics <= 0 || o.topics > 100000:
		return fmt.Errorf("wssoak: -topics %d must be between 1 and 100000", o.topics)
	case o.rate <= 0 || o.rate > 100000:
		return fmt.Errorf("wssoak: -rate %g must be between 0 and 100000", o.rate)
	case o.minStay <= 0 || o.maxStay < o.minStay:
		return fmt.Errorf("wssoak: -min-stay %s and -max-stay %s: need 0 < min-stay <= max-stay", o.minStay, o.maxStay)
	case o.settle < 0 || o.goroutineSlack < 0:
		return errors.New("wssoak: -settle and -goroutine-slack must not be negative")
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return fmt.Errorf("wssoak: -url %q must be a ws:// or wss:// URL", o.url)
	}
	if !loopback(u.Host) {
		return fmt.Errorf("wssoak: -url %q is not on loopback", o.url)
	}
	if !loopback(o.redisAddr) {
		return fmt.Errorf("wssoak: -redis %q is not on loopback", o.redisAddr)
	}
	if o.metricsURL != "" {
		m, err := url.Parse(o.metricsURL)
		if err != nil || !loopback(m.Host) {
			return fmt.Errorf("wssoak: -metrics %q is not a loopback URL", o.metricsURL)
		}
	}
	return nil
}

// loopback reports whether hostport names a loopback address.
func loopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
