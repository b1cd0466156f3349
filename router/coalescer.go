package router

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Buffer sizes for a hijacked connection. net/http hands over 4 KiB for
// each direction; client frames are small, deliveries are gathered by the
// coalescer underneath the write buffer, and an idle connection should cost
// as little as possible. Larger frames still work: bufio reads and writes
// past a small buffer directly. 128 bytes hold any control frame whole.
const (
	readBufferSize  = 128
	writeBufferSize = 128
)

// smallBuffers wraps w so that hijacking it yields small bufio buffers, with
// a coalescer (see coalescerOf) under the write buffer whose socket writes
// have writeTimeout as their deadline.
func smallBuffers(w http.ResponseWriter, writeTimeout time.Duration) http.ResponseWriter {
	if _, ok := w.(http.Hijacker); !ok {
		return w
	}
	return &smallBufferWriter{ResponseWriter: w, timeout: writeTimeout}
}

type smallBufferWriter struct {
	http.ResponseWriter
	timeout time.Duration
	out     *coalescer // set by Hijack
}

// coalescerOf returns the write side of a connection hijacked through w,
// or nil when w did not come from smallBuffers or was not hijacked.
func coalescerOf(w http.ResponseWriter) *coalescer {
	if sw, ok := w.(*smallBufferWriter); ok {
		return sw.out
	}
	return nil
}

// Hijack returns the connection with small buffers, keeping any bytes the
// server had already read past the upgrade request.
func (w *smallBufferWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
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
	// net/http keeps pointers to the buffers it handed over for as long as
	// the handler runs; they are ours now, so drop their memory.
	*brw.Reader, *brw.Writer = bufio.Reader{}, bufio.Writer{}
	w.out = &coalescer{conn: conn, timeout: w.timeout}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(w.out, writeBufferSize)), nil
}

// maxHeld is how many bytes a coalescer holds back before it writes them
// out anyway, so that one system call never carries more than this.
const maxHeld = 32 << 10

// heldPool recycles the buffers of held bytes: an idle connection has none.
var heldPool = sync.Pool{New: func() any { b := make([]byte, 0, maxHeld); return &b }}

// coalescer is the writer under a connection's bufio.Writer. Every frame the
// WebSocket library writes passes through it. While the outbox writes a
// batch of frames, it holds them back and flush sends them in one system
// call: a client that fell behind gets its backlog in few writes.
//
// Its lock is held across socket writes: it orders the bytes of the
// connection's own writers (the outbox's writer, the library's control
// frames), which the library already serialises; the fan-out never takes it.
//
// Every socket write it makes has a deadline of timeout (none when zero):
// a client whose socket takes no bytes for that long fails the write.
type coalescer struct {
	conn    net.Conn
	timeout time.Duration
	mu      sync.Mutex
	hold    bool
	buf     *[]byte // held bytes; nil while nothing is held
}

// writeConn writes p to the socket within the write timeout; c.mu is held.
func (c *coalescer) writeConn(p []byte) (int, error) {
	if c.timeout > 0 {
		if err := c.conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
			return 0, err
		}
	}
	return c.conn.Write(p)
}

// Write sends p, or holds it back while a batch is being written.
func (c *coalescer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hold && len(p) < maxHeld {
		if c.buf == nil {
			c.buf = heldPool.Get().(*[]byte)
		}
		if len(*c.buf)+len(p) > maxHeld {
			if err := c.writeHeld(); err != nil {
				return 0, err
			}
			c.buf = heldPool.Get().(*[]byte)
		}
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	if err := c.writeHeld(); err != nil {
		return 0, err
	}
	return c.writeConn(p)
}

// holdBack makes Write hold frames back until flush.
func (c *coalescer) holdBack() {
	c.mu.Lock()
	c.hold = true
	c.mu.Unlock()
}

// flush ends holding back and writes out what was held.
func (c *coalescer) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hold = false
	return c.writeHeld()
}

// writeHeld writes the held bytes and returns their buffer; c.mu is held.
func (c *coalescer) writeHeld() error {
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	var err error
	if len(*b) > 0 {
		_, err = c.writeConn(*b)
	}
	*b = (*b)[:0]
	heldPool.Put(b)
	return err
}
