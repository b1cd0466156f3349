package router

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// BenchmarkSocketWrite sends batches of deliveries over a real loopback
// WebSocket, one system call per frame or one per batch.
func BenchmarkSocketWrite(b *testing.B) {
	for _, coalesce := range []bool{false, true} {
		for _, batch := range []int{1, 16} {
			b.Run("coalesce="+strconv.FormatBool(coalesce)+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				benchSocketWrite(b, coalesce, batch)
			})
		}
	}
}

func benchSocketWrite(b *testing.B, coalesce bool, batch int) {
	frame := []byte(`{"event":"message","subscription":"bench.t","data":{"seq":1,"ts":1700000000000000000,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`)
	got := make(chan int, 1024)
	srvConn := make(chan *outbox, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := smallBuffers(w, 0)
		c, err := websocket.Accept(sw, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			b.Error(err)
			return
		}
		write := func(f []byte) error { return c.Write(context.Background(), websocket.MessageText, f) }
		o := newOutbox(1<<20, 1<<30, write, func() {}, func(error) {})
		if cw := coalescerOf(sw); coalesce && cw != nil {
			o.batch = cw
		}
		srvConn <- o
		_, _, _ = c.Read(context.Background()) // until the client goes
		o.close()
		c.CloseNow()
		o.wait()
	}))
	defer srv.Close()
	client, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer client.CloseNow()
	go func() {
		for {
			if _, _, err := client.Read(context.Background()); err != nil {
				close(got)
				return
			}
			got <- 1
		}
	}()
	o := <-srvConn
	b.SetBytes(int64(len(frame) * batch))
	b.ReportAllocs()
	for b.Loop() {
		for range batch {
			o.push(frame)
		}
		for range batch {
			<-got
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/frame")
}
