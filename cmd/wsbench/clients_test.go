package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// scriptedServer speaks the subscribe part of the protocol and, after the
// ok, sends the deliveries that plan returns for the subscribed topic.
func scriptedServer(t *testing.T, refuse bool, plan func(topic int) []int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		_, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		var ev struct{ Event, Subscription string }
		if json.Unmarshal(b, &ev) != nil {
			return
		}
		status := `"status":"ok"`
		if refuse {
			status = `"status":"error","error":"Unauthorized."`
		}
		// An unrelated frame first: the client must skip it.
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"event":"pong","data":null}`))
		reply := fmt.Sprintf(`{"event":"subscribe","subscription":%q,%s}`, ev.Subscription, status)
		if c.Write(ctx, websocket.MessageText, []byte(reply)) != nil || refuse {
			return
		}
		topic, _ := strconv.Atoi(ev.Subscription[strings.LastIndex(ev.Subscription, ".t")+2:])
		for _, seq := range plan(topic) {
			msg := encodeMessage(nil, ev.Subscription, int(seq), time.Now().UnixNano(), 50)
			msg = append([]byte(`{"event":"message",`), msg[1:]...)
			if c.Write(ctx, websocket.MessageText, msg) != nil {
				return
			}
		}
		_, _, _ = c.Read(ctx) // hold the connection until the client closes it
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFleet(t *testing.T) {
	t.Parallel()
	const clients, topics, messages = 6, 3, 9 // each topic expects 3 seqs
	tests := []struct {
		name           string
		refuse         bool
		plan           func(topic int) []int64
		wantErr        bool
		wantComplete   bool
		wantDelivered  int64
		wantLost       int64
		wantDuplicated int64
		wantUnexpected int64
	}{
		{
			name:         "every message once",
			plan:         func(k int) []int64 { return []int64{int64(k), int64(k + 3), int64(k + 6)} },
			wantComplete: true, wantDelivered: 18,
		},
		{
			name: "one lost, one duplicated, one stray per client",
			plan: func(k int) []int64 {
				return []int64{int64(k), int64(k), int64((k + 1) % 3), int64(k + 6)}
			},
			wantDelivered: 12, wantLost: 6, wantDuplicated: 6, wantUnexpected: 6,
		},
		{name: "subscribe refused", refuse: true, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := scriptedServer(t, tc.refuse, tc.plan)
			cfg := config{
				url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/", service: "bench",
				clients: clients, topics: topics, messages: messages, payload: 50,
				dialConcurrency: 2,
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			f, err := newFleet(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer f.shutdown()
			err = f.connect()
			if (err != nil) != tc.wantErr {
				t.Fatalf("connect: err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if err := f.waitDelivered(ctx, 200*time.Millisecond); err != nil {
				t.Fatalf("waitDelivered: %v", err)
			}
			select {
			case <-f.complete:
				if !tc.wantComplete {
					t.Error("fleet reported complete with messages missing")
				}
			default:
				if tc.wantComplete {
					t.Error("fleet not complete after all deliveries")
				}
			}
			f.shutdown()
			tl := f.tally()
			if tl.expected != clients*messages/topics || tl.delivered != tc.wantDelivered || tl.lost != tc.wantLost ||
				tl.duplicated != tc.wantDuplicated || tl.unexpected != tc.wantUnexpected || tl.dropped != 0 {
				t.Errorf("tally = %+v", tl)
			}
			if int64(len(tl.latencies)) != tl.delivered {
				t.Errorf("%d latency samples for %d deliveries", len(tl.latencies), tl.delivered)
			}
		})
	}
}
