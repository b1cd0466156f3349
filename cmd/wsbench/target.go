package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
)

// lookupFunc resolves a host name to its addresses.
type lookupFunc func(ctx context.Context, host string) ([]net.IPAddr, error)

var defaultLookup lookupFunc = net.DefaultResolver.LookupIPAddr

// checkTargets refuses a WebSocket URL or Redis address whose host does not
// resolve to loopback addresses only.
func checkTargets(ctx context.Context, wsURL, redisAddr string, lookup lookupFunc) error {
	u, err := url.Parse(wsURL)
	if err != nil {
		return fmt.Errorf("wsbench: -url %q: %w", wsURL, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return fmt.Errorf("wsbench: -url %q: scheme must be ws or wss", wsURL)
	}
	if err := checkLoopback(ctx, u.Hostname(), lookup); err != nil {
		return fmt.Errorf("wsbench: -url %q: %w", wsURL, err)
	}
	host, _, err := net.SplitHostPort(redisAddr)
	if err != nil {
		return fmt.Errorf("wsbench: -redis %q: %w", redisAddr, err)
	}
	if err := checkLoopback(ctx, host, lookup); err != nil {
		return fmt.Errorf("wsbench: -redis %q: %w", redisAddr, err)
	}
	return nil
}

// checkLoopback accepts host when it is, or resolves only to, loopback
// addresses.
func checkLoopback(ctx context.Context, host string, lookup lookupFunc) error {
	if host == "" {
		return errors.New("empty host")
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s is not a loopback address (use -allow-remote)", host)
		}
		return nil
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%s resolves to no address", host)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return fmt.Errorf("%s resolves to non-loopback %s (use -allow-remote)", host, a.IP)
		}
	}
	return nil
}

// checkAPITarget refuses an -api URL whose host is not loopback.
func checkAPITarget(ctx context.Context, apiURL string, lookup lookupFunc) error {
	u, err := url.Parse(apiURL)
	if err != nil {
		return fmt.Errorf("wsbench: -api %q: %w", apiURL, err)
	}
	if err := checkLoopback(ctx, u.Hostname(), lookup); err != nil {
		return fmt.Errorf("wsbench: -api %q: %w", apiURL, err)
	}
	return nil
}
