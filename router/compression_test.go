package router

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsrouter/wsrouter/control"
	"github.com/wsrouter/wsrouter/services"
)

// compressionCases are the websocket.compression modes with what a client
// offering each sees negotiated.
var compressionCases = []struct {
	mode   string
	client websocket.CompressionMode
	ext    string // Sec-WebSocket-Extensions answered; "" none
}{
	{services.CompressionNone, websocket.CompressionContextTakeover, ""},
	{services.CompressionNoContextTakeover, websocket.CompressionNoContextTakeover,
		"permessage-deflate; client_no_context_takeover; server_no_context_takeover"},
	{services.CompressionContextTakeover, websocket.CompressionContextTakeover, "permessage-deflate"},
}

// deliveries are messages of several sizes, each published twice so that
// a context-takeover stream refers back to earlier messages.
func deliveries() []string {
	var out []string
	for i, n := range []int{10, 300, 5000, 70000, 300, 10, 5000} {
		data := fmt.Sprintf(`{"n":%d,"text":%q}`, i, strings.Repeat("abcdefgh", n/8))
		out = append(out, fmt.Sprintf(`{"subscription":"books.z","data":%s}`, data))
	}
	return out
}

// TestCompressionDeliversEveryMessage: a client offering permessage-deflate
// gets the extension the configuration allows and every delivery intact,
// small and large, in each mode.
func TestCompressionDeliversEveryMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range compressionCases {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.WebSocket.Compression = tc.mode
			cfg.WebSocket.CompressionMinBytes = 64
			cfg.Services["books"] = open()
			h := newHarness(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/",
				&websocket.DialOptions{CompressionMode: tc.client})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			conn.SetReadLimit(1 << 20)
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != tc.ext {
				t.Errorf("extensions = %q, want %q", got, tc.ext)
			}
			// A client frame compressed the same way is read too (the
			// pong carries the first 128 characters).
			ping := strings.Repeat("p", 600)
			if err := conn.Write(ctx, websocket.MessageText, []byte(`{"event":"ping","data":"`+ping+`"}`)); err != nil {
				t.Fatal(err)
			}
			if _, b, err := conn.Read(ctx); err != nil || !control.JSONEqual(b, []byte(`{"event":"pong","data":"`+ping[:128]+`"}`)) {
				t.Fatalf("pong: %.80s, %v", b, err)
			}
			if err := conn.Write(ctx, websocket.MessageText, []byte(`{"event":"subscribe","subscription":"books.z"}`)); err != nil {
				t.Fatal(err)
			}
			if _, b, err := conn.Read(ctx); err != nil || !control.JSONEqual(b, []byte(`{"event":"subscribe","subscription":"books.z","status":"ok"}`)) {
				t.Fatalf("subscribe: %s, %v", b, err)
			}
			want := deliveries()
			for _, m := range want {
				h.publish("books.z", m)
			}
			for i, m := range want {
				_, b, err := conn.Read(ctx)
				if err != nil {
					t.Fatalf("delivery %d: %v", i, err)
				}
				if w := `{"event":"message",` + m[1:]; !control.JSONEqual(b, []byte(w)) {
					t.Fatalf("delivery %d: got %d bytes %.80s…, want %.80s…", i, len(b), b, w)
				}
			}
		})
	}
}

// TestCompressedMessageBoundAfterInflating: websocket.max_message_bytes
// bounds a client's message once inflated, so a deflated MiB that is a
// few KiB on the wire closes the connection with 1009 like a large frame.
func TestCompressedMessageBoundAfterInflating(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.WebSocket.Compression = services.CompressionContextTakeover
	cfg.WebSocket.MaxMessageBytes = 64 << 10
	h := newHarness(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http"), &websocket.DialOptions{
		CompressionMode: websocket.CompressionContextTakeover, CompressionThreshold: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("extensions = %q, want permessage-deflate", ext)
	}
	bomb := `{"event":"ping","data":"` + strings.Repeat("x", 1<<20) + `"}`
	_ = conn.Write(ctx, websocket.MessageText, []byte(bomb)) // the router may close first
	if _, _, err := conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("read after the deflated MiB: %v, want close 1009", err)
	}
}

// TestCompressionMinBytes reads the frames off the socket: with
// compression on, a delivery shorter than compression_min_bytes has RSV1
// clear and its JSON in the clear, a longer one has RSV1 set and inflates
// to the delivery; with compression none nothing is compressed although
// the client offered it.
func TestCompressionMinBytes(t *testing.T) {
	t.Parallel()
	const minBytes = 200
	small := `{"subscription":"books.m","data":"` + strings.Repeat("s", 50) + `"}`
	large := `{"subscription":"books.m","data":"` + strings.Repeat("l", 400) + `"}`
	for _, tc := range compressionCases {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.WebSocket.Compression = tc.mode
			cfg.WebSocket.CompressionMinBytes = minBytes
			cfg.Services["books"] = open()
			h := newHarness(t, cfg)
			rc := dialRaw(t, h, "permessage-deflate; client_no_context_takeover; server_no_context_takeover")
			if (rc.ext != "") != (tc.mode != services.CompressionNone) {
				t.Fatalf("extensions answered %q with compression %s", rc.ext, tc.mode)
			}
			rc.send(`{"event":"subscribe","subscription":"books.m"}`)
			if _, b := rc.frame(); !bytes.Contains(b, []byte(`"status":"ok"`)) {
				t.Fatalf("subscribe reply %s", b)
			}
			for _, m := range []string{small, large, small, large} {
				h.publish("books.m", m)
				rsv1, b := rc.frame()
				long := len(m)+len(`"event":"message",`) >= minBytes
				if wantRSV1 := long && tc.mode != services.CompressionNone; rsv1 != wantRSV1 {
					t.Fatalf("%d-byte delivery: RSV1 %v, want %v", len(m), rsv1, wantRSV1)
				}
				if rsv1 {
					b = inflate(t, b)
				}
				if w := `{"event":"message",` + m[1:]; !control.JSONEqual(b, []byte(w)) {
					t.Fatalf("got %s, want %s", b, w)
				}
			}
		})
	}
}

// rawClient speaks WebSocket over a plain TCP connection, to see the
// frame bits a library client hides.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	ext  string // the Sec-WebSocket-Extensions the server answered
}

func dialRaw(t *testing.T, h *harness, offer string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: " + offer + "\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return &rawClient{t: t, conn: conn, br: br, ext: resp.Header.Get("Sec-WebSocket-Extensions")}
}

// send writes one masked, uncompressed text frame.
func (c *rawClient) send(s string) {
	c.t.Helper()
	mask := []byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(s))}
	if len(s) > 125 {
		c.t.Fatal("rawClient.send: frames up to 125 bytes only")
	}
	frame = append(frame, mask...)
	for i := range len(s) {
		frame = append(frame, s[i]^mask[i%4])
	}
	if _, err := c.conn.Write(frame); err != nil {
		c.t.Fatal(err)
	}
}

// frame reads the next text frame, which must be whole (FIN set), and
// returns its RSV1 bit and payload.
func (c *rawClient) frame() (rsv1 bool, payload []byte) {
	c.t.Helper()
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(c.br, hdr); err != nil {
		c.t.Fatal(err)
	}
	if hdr[0]&0x80 == 0 || hdr[0]&0x0f != 1 {
		c.t.Fatalf("frame header %08b: want a whole text frame", hdr[0])
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			c.t.Fatal(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			c.t.Fatal(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		c.t.Fatal(err)
	}
	return hdr[0]&0x40 != 0, payload
}

// inflate decompresses one permessage-deflate message without context
// takeover (RFC 7692 7.2.2: the sender removed the trailing 00 00 ff ff).
func inflate(t *testing.T, b []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(b), strings.NewReader("\x00\x00\xff\xff")))
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("inflate: %v", err)
	}
	return out
}
