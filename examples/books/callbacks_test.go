package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsrouter/wsrouter/history"
	"github.com/wsrouter/wsrouter/internal/testredis"
)

// recordingPublisher keeps what would have been published.
type recordingPublisher struct {
	mu   sync.Mutex
	msgs []string
	err  error
}

func (p *recordingPublisher) Publish(_ context.Context, subscription string, msg []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, subscription+" "+string(msg))
	return p.err
}

// post sends a callback body and returns the decoded JSON answer.
func post(t *testing.T, srv *httptest.Server, path, body string) (int, map[string]any) {
	t.Helper()
	res, err := srv.Client().Post(srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s answered %q: %v", path, raw, err)
	}
	return res.StatusCode, out
}

func TestCallbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		path, body  string
		publishErr  error
		wantStatus  int
		want        string // the answer, as JSON
		wantPublish []string
	}{
		{name: "authorize reader", path: "/ws/books/authorize/", body: `{"subscription":"books.book_1","user_id":"alice"}`,
			want: `{"status":"ok","can_edit":true}`},
		{name: "authorize guest", path: "/ws/books/authorize/", body: `{"subscription":"books.book_1","user_id":"guest-7"}`,
			want: `{"status":"ok","can_edit":false}`},
		{name: "authorize unknown book", path: "/ws/books/authorize/", body: `{"subscription":"books.nope","user_id":"alice"}`,
			want: `{"status":"error","error":"No such book."}`},
		{name: "before_subscribe answers state and order", path: "/ws/books/before_subscribe/", body: `{"subscription":"books.book_2","user_id":"alice"}`,
			want: `{"status":"ok","data":{"book":{"id":"book_2","title":"Invisible Cities","author":"Italo Calvino","notes":"Marco Polo describes cities to Kublai Khan.","version":0}},"options":{"order":0}}`},
		{name: "before_subscribe unknown book", path: "/ws/books/before_subscribe/", body: `{"subscription":"books.nope"}`,
			want: `{"status":"error","error":"No such book."}`},
		{name: "edit publishes with the new version as order", path: "/ws/books/on_message/",
			body:        `{"subscription":"books.book_3","user_id":"alice","can_edit":true,"data":{"title":"Il sistema periodico"}}`,
			want:        `{"status":"ok"}`,
			wantPublish: []string{`books.book_3 {"subscription":"books.book_3","data":{"book":{"id":"book_3","title":"Il sistema periodico","author":"Primo Levi","notes":"Twenty-one elements, twenty-one stories.","version":1,"edited_by":"alice"}},"options":{"order":1}}`}},
		{name: "guest may not edit", path: "/ws/books/on_message/", body: `{"subscription":"books.book_1","user_id":"guest","can_edit":false,"data":{"title":"x"}}`,
			want: `{"status":"error","error":"Guests can read but not edit."}`},
		{name: "edit with unknown field", path: "/ws/books/on_message/", body: `{"subscription":"books.book_1","user_id":"a","can_edit":true,"data":{"author":"x"}}`,
			want: `{"status":"error","error":"An edit is an object with title and/or notes."}`},
		{name: "edit without data", path: "/ws/books/on_message/", body: `{"subscription":"books.book_1","user_id":"a","can_edit":true,"data":null}`,
			want: `{"status":"error","error":"Nothing to change."}`},
		{name: "empty title", path: "/ws/books/on_message/", body: `{"subscription":"books.book_1","user_id":"a","can_edit":true,"data":{"title":""}}`,
			want: `{"status":"error","error":"The title must have 1 to 200 characters."}`},
		{name: "edit of unknown book", path: "/ws/books/on_message/", body: `{"subscription":"books.nope","user_id":"a","can_edit":true,"data":{"notes":"n"}}`,
			want: `{"status":"error","error":"No such book."}`},
		{name: "publish failure is reported", path: "/ws/books/on_message/", publishErr: io.ErrClosedPipe,
			body:        `{"subscription":"books.book_1","user_id":"a","can_edit":true,"data":{"notes":"n"}}`,
			want:        `{"status":"error","error":"Saved, but the change could not be sent to readers."}`,
			wantPublish: []string{`books.book_1 {"subscription":"books.book_1","data":{"book":{"id":"book_1","title":"The Left Hand of Darkness","author":"Ursula K. Le Guin","notes":"n","version":1,"edited_by":"a"}},"options":{"order":1}}`}},
		{name: "before_unsubscribe", path: "/ws/books/before_unsubscribe/", body: `{"subscription":"books.book_1"}`, want: `{"status":"ok"}`},
		{name: "on_unsubscribe", path: "/ws/books/on_unsubscribe/", body: `{"subscription":"books.book_1"}`, want: `{"status":"ok"}`},
		{name: "not JSON", path: "/ws/books/authorize/", body: `nope`, wantStatus: 400, want: `{"status":"error","error":"Bad request."}`},
		{name: "ticket unknown", path: "/ws/auth/ticket/", body: `{"ticket":"forged"}`, want: `{"status":"error","error":"Invalid or expired ticket."}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub := &recordingPublisher{err: tt.publishErr}
			srv := httptest.NewServer(newApp(appConfig{Publisher: pub}).Handler())
			t.Cleanup(srv.Close)
			status, got := post(t, srv, tt.path, tt.body)
			if want := max(tt.wantStatus, 200); status != want {
				t.Errorf("status %d, want %d", status, want)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("answer\n got %s\nwant %s", gotJSON, wantJSON)
			}
			if strings.Join(pub.msgs, "\n") != strings.Join(tt.wantPublish, "\n") {
				t.Errorf("published\n got %q\nwant %q", pub.msgs, tt.wantPublish)
			}
		})
	}
}

// TestTicketRoundTrip issues a ticket on the public endpoint and redeems it
// on the validation endpoint the router calls, once.
func TestTicketRoundTrip(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newApp(appConfig{}).Handler())
	t.Cleanup(srv.Close)
	_, issued := post(t, srv, "/ticket", `{"user":"carol"}`)
	body, _ := json.Marshal(map[string]any{"ticket": issued["ticket"]})
	tests := []struct{ name, want string }{
		{"first use", `{"status":"ok","user_id":"carol"}`},
		{"second use", `{"status":"error","error":"Invalid or expired ticket."}`},
	}
	for _, tt := range tests { // in order: the ticket is single-use
		_, got := post(t, srv, "/ws/auth/ticket/", string(body))
		gotJSON, _ := json.Marshal(got)
		var want map[string]any
		_ = json.Unmarshal([]byte(tt.want), &want)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s: got %s, want %s", tt.name, gotJSON, wantJSON)
		}
	}
}

// TestEditsPublishToRedis checks real publishes through the history: one
// per edit, on the subscription's channel (with the prefix), with
// increasing order and the offset of the history's newest message.
func TestEditsPublishToRedis(t *testing.T) {
	t.Parallel()
	r := testredis.Start(t)
	rdb := r.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps := rdb.Subscribe(ctx, "pfx:books.book_1")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newApp(appConfig{Publisher: newHistoryPublisher(rdb, "pfx:")}).Handler())
	t.Cleanup(srv.Close)

	for i, notes := range []string{"one", "two", "three"} {
		body := `{"subscription":"books.book_1","user_id":"dan","can_edit":true,"data":{"notes":"` + notes + `"}}`
		if _, got := post(t, srv, "/ws/books/on_message/", body); got["status"] != "ok" {
			t.Fatalf("edit %d: %v", i, got)
		}
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Subscription string `json:"subscription"`
			Data         struct {
				Book Book `json:"book"`
			} `json:"data"`
			Options struct {
				Order int64 `json:"order"`
			} `json:"options"`
			Offset string `json:"offset"`
		}
		if err := json.Unmarshal([]byte(msg.Payload), &p); err != nil {
			t.Fatal(err)
		}
		off, ok := history.ParseOffset(p.Offset)
		if p.Subscription != "books.book_1" || p.Options.Order != int64(i+1) || p.Data.Book.Version != int64(i+1) || p.Data.Book.Notes != notes || !ok || off.Seq != uint64(i+1) {
			t.Fatalf("edit %d published %s", i, msg.Payload)
		}
	}
}

// TestRoutesRefuseWrongMethods keeps the callbacks POST-only.
func TestRoutesRefuseWrongMethods(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newApp(appConfig{}).Handler())
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/ws/books/on_message/", nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PUT answered %d, want 405", res.StatusCode)
	}
}
