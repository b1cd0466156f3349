package router

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Buffer sizes for a hijacked connection. net/http hands over 4 KiB for
// each direction; client frames and deliveries are small, and an idle
// connection should cost as little as possible. Larger frames still work:
// bufio reads and writes past a small buffer directly.
const (
	readBufferSize  = 512
	writeBufferSize = 1024
)

// smallBuffers wraps w so that hijacking it yields small bufio buffers.
func smallBuffers(w http.ResponseWriter) http.ResponseWriter {
	if _, ok := w.(http.Hijacker); !ok {
		return w
	}
	return smallBufferWriter{w}
}

type smallBufferWriter struct{ http.ResponseWriter }

// Hijack returns the connection with small buffers, keeping any bytes the
// server had already read past the upgrade request.
func (w smallBufferWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(conn, readBufferSize)
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes the client sent right behind its upgrade request must be
		// in the new reader's buffer: the WebSocket library re-reads
		// exactly what is buffered before it reads the socket again.
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(readBufferSize, n))
		if _, err := br.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, writeBufferSize)), nil
}

// originAllowed applies allowed_origins to a browser's Origin header.
// Requests without one (not a browser) are always allowed; an empty list
// allows the request's own host only; "*" allows any origin; an entry with
// a scheme is a full origin; anything else is a host pattern matched
// against the origin's host (with port, or without when the pattern has none).
func originAllowed(req *http.Request, allowed []string) bool {
	origin := req.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if len(allowed) == 0 {
		return strings.EqualFold(u.Host, req.Host)
	}
	for _, a := range allowed {
		if a == "*" {
			return true
		}
		if strings.Contains(a, "://") {
			if strings.EqualFold(strings.TrimRight(a, "/"), u.Scheme+"://"+u.Host) {
				return true
			}
			continue
		}
		pattern := strings.ToLower(a)
		host := strings.ToLower(u.Host)
		if !strings.Contains(pattern, ":") {
			host = strings.ToLower(u.Hostname())
		}
		if ok, _ := path.Match(pattern, host); ok {
			return true
		}
	}
	return false
}
