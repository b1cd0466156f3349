package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// clientsPerSource is how many client sockets wsbench puts on one loopback
// source address when it spreads them itself: below the 28,232 ports of
// Linux's default ephemeral range (32768–60999), with room for Redis and
// the server's own connections.
const clientsPerSource = 20000

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (missing from
// package syscall): bind the source address but choose the port at
// connect time, so a port is unique per destination rather than per
// source address.
const ipBindAddressNoPort = 24

// sourceAddrs returns the loopback source addresses to spread clients
// over: n of them (127.0.0.2, 127.0.0.3, …), or, for n == 0, one per
// clientsPerSource clients when there are more than that and the target
// is an IPv4 loopback address; none means the kernel chooses.
func sourceAddrs(target string, clients, n int) ([]net.IP, error) {
	if n < 0 || n > 250 {
		return nil, fmt.Errorf("wsbench: -source-addrs %d must be between 0 and 250", n)
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("wsbench: -url %q: %w", target, err)
	}
	ip := net.ParseIP(u.Hostname())
	loop4 := ip != nil && ip.To4() != nil && ip.IsLoopback()
	if n == 0 {
		if clients <= clientsPerSource || !loop4 {
			return nil, nil
		}
		n = (clients + clientsPerSource - 1) / clientsPerSource
	}
	if !loop4 {
		return nil, fmt.Errorf("wsbench: -source-addrs needs an IPv4 loopback -url such as ws://127.0.0.1:9000/, not %q", target)
	}
	out := make([]net.IP, n)
	for i := range out {
		out[i] = net.IPv4(127, 0, 0, byte(2+i))
	}
	return out, nil
}

// compressionModes maps the -compression values, the router's
// websocket.compression names, to what the client offers.
var compressionModes = map[string]websocket.CompressionMode{
	"none":                websocket.CompressionDisabled,
	"no_context_takeover": websocket.CompressionNoContextTakeover,
	"context_takeover":    websocket.CompressionContextTakeover,
}

// dialOptions returns one set of WebSocket dial options per source address
// (one set binding none when there are none); client i uses
// opts[i%len(opts)]. Every socket they open counts the bytes it reads
// into wire.
func dialOptions(addrs []net.IP, mode websocket.CompressionMode, wire *atomic.Int64) []*websocket.DialOptions {
	if len(addrs) == 0 {
		addrs = []net.IP{nil}
	}
	out := make([]*websocket.DialOptions, len(addrs))
	for i, ip := range addrs {
		d := &net.Dialer{Timeout: handshakeTimeout}
		if ip != nil {
			d.LocalAddr, d.Control = &net.TCPAddr{IP: ip}, bindAddressNoPort
		}
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countingConn{Conn: c, n: wire}, nil
		}
		out[i] = &websocket.DialOptions{
			CompressionMode: mode,
			HTTPClient: &http.Client{Transport: &http.Transport{
				DialContext:         dial,
				MaxIdleConnsPerHost: -1, // a WebSocket never returns to the pool
				IdleConnTimeout:     time.Second,
			}},
		}
	}
	return out
}

// countingConn adds the bytes read from its connection to n: the bytes on
// the wire, compressed or not, WebSocket framing included.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	k, err := c.Conn.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// bindAddressNoPort sets IP_BIND_ADDRESS_NO_PORT on a socket about to be
// bound to a source address; without it bind(2) would reserve a port per
// source address and run out of them at the same count as no binding.
func bindAddressNoPort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	}); err != nil {
		return fmt.Errorf("source address: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("source address: IP_BIND_ADDRESS_NO_PORT: %w", serr)
	}
	return nil
}
