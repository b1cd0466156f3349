package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/wsrouter/wsrouter/api"
	"github.com/wsrouter/wsrouter/broker"
	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/services"
)

// publishUsage is printed for a publish command line that is not right.
const publishUsage = `usage: wsrouter publish [-config config.yaml] [-timeout 5s] SUBSCRIPTION JSON

JSON is the object a service publishes, {"data":...} with optional
"options" and filter fields; "subscription" may be left out. JSON "-"
reads it from standard input. For a service with history the message is
kept and its offset printed.
`

// runPublish is `wsrouter publish`: it publishes one message to the Redis
// of the configuration, as a service would, and exits 0 once Redis took it.
func runPublish(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsrouter publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, publishUsage); fs.PrintDefaults() }
	configPath := fs.String("config", "config.yaml", "path to the YAML configuration file")
	timeout := fs.Duration("timeout", 5*time.Second, "give up when Redis has not answered within this")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	name, obj := fs.Arg(0), []byte(fs.Arg(1))
	if fs.Arg(1) == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
		if err != nil {
			fmt.Fprintln(stderr, "wsrouter publish: read standard input:", err)
			return 1
		}
		obj = b
	}
	cfg, err := services.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	off, kept, err := publish(cfg, name, obj, *timeout)
	if err != nil {
		fmt.Fprintln(stderr, "wsrouter publish:", err)
		return 1
	}
	if kept {
		fmt.Fprintln(stdout, off)
	}
	return 0
}

// publish sends obj to the configuration's Redis (the embedded server's
// address for "embedded").
func publish(cfg *services.Config, name string, obj []byte, timeout time.Duration) (history.Offset, bool, error) {
	rdb, err := api.NewRedis(cfg.Redis)
	if err != nil {
		return history.Offset{}, false, err
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return history.NewPublisher(rdb, cfg.Redis.ChannelPrefix, history.Options{Sharded: broker.IsCluster(rdb)}).Publish(ctx, cfg, name, obj)
}
