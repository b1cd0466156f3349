package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Defaults of Options.
const (
	defaultQueue   = 4096
	defaultTimeout = 10 * time.Second
	readLimit      = 1 << 20
	writeTimeout   = 10 * time.Second
)

// Options tune a Client; the zero value is the usual client.
type Options struct {
	// Dial is handed to websocket.Dial: headers such as Origin, an HTTP
	// client for TLS. Nil means none.
	Dial *websocket.DialOptions
	// Origin, when set, is sent as the Origin header, as a page's script
	// does; it is added to the headers of Dial.
	Origin string
	// Queue is how many received frames wait for the test to read them;
	// zero means 4096. When it is full the reader stops reading, and the
	// router sees a client that does not keep up.
	Queue int
	// Timeout is how long Next, Read and Expect wait for a frame, and
	// Closed for the end of the connection; zero means 10s.
	Timeout time.Duration
}

// Client is a WebSocket client whose reader runs from Dial until the
// connection ends and queues every frame it receives. Its methods that
// take no error fail the test instead, and must be called from the test's
// goroutine; WriteText may be called from any goroutine.
type Client struct {
	t       testing.TB
	timeout time.Duration
	*stream
}

// stream is a connection and its reader, shared by a Client and the
// clients For makes of it.
type stream struct {
	conn    *websocket.Conn
	frames  chan []byte
	done    chan struct{}
	closing chan struct{} // closed when the test closes the connection
	close   func()        // closes closing, once
	err     error         // the read error that ended the reader; set before done closes
	endedAt time.Time     // when the reader saw the connection end; set before done closes
}

// Dial connects to url with the usual options; the connection is closed,
// and its reader has ended, when the test ends.
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	return DialWith(t, url, Options{})
}

// DialWith is Dial with options.
func DialWith(t testing.TB, url string, o Options) *Client {
	t.Helper()
	if o.Origin != "" {
		d := websocket.DialOptions{}
		if o.Dial != nil {
			d = *o.Dial
		}
		d.HTTPHeader = d.HTTPHeader.Clone()
		if d.HTTPHeader == nil {
			d.HTTPHeader = http.Header{}
		}
		d.HTTPHeader.Set("Origin", o.Origin)
		o.Dial = &d
	}
	conn, err := DialConn(context.Background(), url, o.Dial)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, conn, o)
}

// DialConn dials url within 10s (or ctx's deadline) and returns the
// connection with no reader, for a test that reads it itself or never
// does; the caller closes it. Its read limit is 1 MiB.
func DialConn(ctx context.Context, url string, opts *websocket.DialOptions) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, opts)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("wstest: dial %s: %w", url, err)
	}
	conn.SetReadLimit(readLimit)
	return conn, nil
}

// DialStatus tries an upgrade of url with header and returns the HTTP
// status of the answer (101 when the upgrade succeeded, and the connection
// is then closed), or 0 when no HTTP answer came.
func DialStatus(url string, header map[string][]string) int {
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
	if err == nil {
		conn.CloseNow()
	}
	if resp == nil {
		return 0
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	return resp.StatusCode
}

func newClient(t testing.TB, conn *websocket.Conn, o Options) *Client {
	if o.Queue <= 0 {
		o.Queue = defaultQueue
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	st := &stream{conn: conn, frames: make(chan []byte, o.Queue), done: make(chan struct{}), closing: make(chan struct{})}
	st.close = sync.OnceFunc(func() { close(st.closing) })
	c := &Client{t: t, timeout: o.Timeout, stream: st}
	go st.read()
	t.Cleanup(c.CloseNow)
	return c
}

// read queues frames until the connection ends. A frame that finds the
// queue full waits for room, or is dropped once the test closes the
// connection.
func (s *stream) read() {
	defer close(s.done)
	for {
		_, b, err := s.conn.Read(context.Background())
		if err != nil {
			s.err, s.endedAt = err, time.Now()
			return
		}
		select {
		case s.frames <- b:
		case <-s.closing:
		}
	}
}

// For returns a client of the same connection that fails t instead, for a
// subtest that goes on with its parent's connection.
func (c *Client) For(t testing.TB) *Client {
	return &Client{t: t, timeout: c.timeout, stream: c.stream}
}

// Conn is the underlying connection, for what the client does not offer
// (CloseNow to drop it without a close frame, a raw Write).
func (c *Client) Conn() *websocket.Conn { return c.conn }

// Frames is the queue of received frames, for a test that selects on it
// together with something else; Next is the usual way to read.
func (c *Client) Frames() <-chan []byte { return c.frames }

// Done is closed when the connection has ended and the reader stopped.
func (c *Client) Done() <-chan struct{} { return c.done }

// Ended returns when the reader saw the connection end and the error that
// ended it; it may be called only after Done is closed.
func (c *Client) Ended() (time.Time, error) { return c.endedAt, c.err }

// WriteText writes b as one text frame within 10s. Unlike Send it fails
// no test, so it may be called from any goroutine.
func (c *Client) WriteText(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("wstest: write: %w", err)
	}
	return nil
}

// Send writes v as one text frame: a string or []byte as it is, anything
// else as JSON.
func (c *Client) Send(v any) {
	c.t.Helper()
	b, err := encode(v)
	if err != nil {
		c.t.Fatalf("wstest: send: %v", err)
	}
	if err := c.WriteText(b); err != nil {
		c.t.Fatalf("wstest: send %.200s: %v", b, err)
	}
}

// Next returns the next frame, failing the test when none comes within
// the client's timeout.
func (c *Client) Next() []byte {
	c.t.Helper()
	return c.NextWithin(c.timeout)
}

// NextWithin returns the next frame, failing the test when none comes
// within d or the connection ends first.
func (c *Client) NextWithin(d time.Duration) []byte {
	c.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case b := <-c.frames:
		return b
	case <-c.done:
		select {
		case b := <-c.frames: // queued before the end
			return b
		default:
		}
		c.t.Fatalf("wstest: connection ended while a frame was expected: %v", c.err)
	case <-timer.C:
		c.t.Fatalf("wstest: no frame within %s", d)
	}
	return nil
}

// Read returns the next frame decoded; it must be a JSON object.
func (c *Client) Read() map[string]any {
	c.t.Helper()
	return c.ReadWithin(c.timeout)
}

// ReadWithin is Read waiting at most d.
func (c *Client) ReadWithin(d time.Duration) map[string]any {
	c.t.Helper()
	b := c.NextWithin(d)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("wstest: frame %.200q is not a JSON object: %v", b, err)
	}
	return m
}

// Request sends v and returns the next frame, which must be its reply.
func (c *Client) Request(v any) map[string]any {
	c.t.Helper()
	c.Send(v)
	return c.Read()
}

// Expect reads the next frame, which must mean the same JSON as want
// (members in any order), and returns it decoded.
func (c *Client) Expect(want string) map[string]any {
	c.t.Helper()
	got := c.Next()
	if !SameJSON(json.RawMessage(got), json.RawMessage(want)) {
		c.t.Fatalf("wstest: frame mismatch\n got: %s\nwant: %s", got, want)
	}
	var m map[string]any
	_ = json.Unmarshal(got, &m)
	return m
}

// ExpectAnyOrder reads len(want) frames, which must mean the same JSON as
// the members of want in some order.
func (c *Client) ExpectAnyOrder(want ...string) {
	c.t.Helper()
	left := append([]string(nil), want...)
	for range want {
		got := c.Next()
		i := slices.IndexFunc(left, func(w string) bool { return SameJSON(json.RawMessage(got), json.RawMessage(w)) })
		if i < 0 {
			c.t.Fatalf("wstest: unexpected frame %s; still expecting %v", got, left)
		}
		left = slices.Delete(left, i, i+1)
	}
}

// ExpectFields reads the next frame, a JSON object, whose members named in
// want must mean the same JSON as want's values; it may have others. It
// returns the frame decoded.
func (c *Client) ExpectFields(want map[string]any) map[string]any {
	c.t.Helper()
	got := c.Read()
	for k, v := range want {
		if have, ok := got[k]; !ok || !SameJSON(have, v) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			c.t.Fatalf("wstest: frame mismatch in %q\n got: %s\nwant fields: %s", k, g, w)
		}
	}
	return got
}

// Subscribe subscribes to name, with extra members in the event, and
// requires the ok reply, which it returns.
func (c *Client) Subscribe(name string, extra map[string]any) map[string]any {
	c.t.Helper()
	ev := map[string]any{"event": "subscribe", "subscription": name}
	for k, v := range extra {
		ev[k] = v
	}
	reply := c.Request(ev)
	if reply["event"] != "subscribe" || reply["status"] != "ok" || reply["subscription"] != name {
		c.t.Fatalf("wstest: subscribe %s: reply %v", name, reply)
	}
	return reply
}

// ExpectMessage requires the next frame to be a delivery on sub with data
// (other members, such as an offset, may be present) and returns it.
func (c *Client) ExpectMessage(sub string, data any) map[string]any {
	c.t.Helper()
	return c.ExpectFields(map[string]any{"event": "message", "subscription": sub, "data": data})
}

// Quiet requires that no frame arrives within d.
func (c *Client) Quiet(d time.Duration) {
	c.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case b := <-c.frames:
		c.t.Fatalf("wstest: unexpected frame: %s", b)
	case <-timer.C:
	}
}

// Closed waits, within the client's timeout, for the connection to end
// and returns its close status (-1 when it ended without a close frame).
// Frames still queued stay readable.
func (c *Client) Closed() websocket.StatusCode {
	c.t.Helper()
	return c.ClosedWithin(c.timeout)
}

// ClosedWithin is Closed waiting at most d.
func (c *Client) ClosedWithin(d time.Duration) websocket.StatusCode {
	c.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-c.done:
		return websocket.CloseStatus(c.err)
	case <-timer.C:
		c.t.Fatalf("wstest: connection still open after %s", d)
	}
	return 0
}

// Discard drops the frames queued so far and returns how many there were.
func (c *Client) Discard() int {
	n := 0
	for {
		select {
		case <-c.frames:
			n++
		default:
			return n
		}
	}
}

// CloseNow drops the connection without a close handshake, as a client
// that goes away does, and waits for the reader to end.
func (c *Client) CloseNow() {
	c.close()
	c.conn.CloseNow()
	<-c.done
}

// Close closes the connection with a normal close handshake and waits for
// the reader to end.
func (c *Client) Close() {
	c.close()
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.done
}
