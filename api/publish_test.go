package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/wsrouter/wsrouter/control"
)

func TestPublishSendsWhatAServiceWould(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	msgs := h.listen(h.prefix+"books.b1", h.prefix+"news.n1")

	code, ans := h.do("POST", "/api/publish", `{"subscription":"books.b1","data":{"x":[1,2.50,"3"]},"options":{"order":3},"user_id":7}`)
	if code != http.StatusOK || ans["status"] != "ok" || !jsonEqualAny(ans["offsets"], map[string]any{}) {
		t.Fatalf("publish: %d %v", code, ans)
	}
	m := next(t, msgs)
	if m.Channel != h.prefix+"books.b1" {
		t.Fatalf("published on %s", m.Channel)
	}
	assertJSON(t, m.Payload, `{"subscription":"books.b1","data":{"x":[1,2.50,"3"]},"options":{"order":3},"user_id":7}`)

	code, ans = h.do("POST", "/api/publish", `{"subscriptions":["news.n1","books.b1"],"data":null}`)
	if code != http.StatusOK {
		t.Fatalf("publish to two names: %d %v", code, ans)
	}
	first, second := next(t, msgs), next(t, msgs)
	if first.Channel != h.prefix+"news.n1" || second.Channel != h.prefix+"books.b1" {
		t.Fatalf("published on %s then %s, want the order of the list", first.Channel, second.Channel)
	}
	assertJSON(t, first.Payload, `{"subscription":"news.n1","data":null}`)
	assertJSON(t, second.Payload, `{"subscription":"books.b1","data":null}`)
}

func TestPublishBatchIsAllOrNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	msgs := h.listen(h.prefix+"books.b1", h.prefix+"news.n1")

	code, ans := h.do("POST", "/api/publish_batch", map[string]any{"messages": []any{
		map[string]any{"subscription": "books.b1", "data": 1},
		map[string]any{"subscriptions": []string{"news.n1", "books.b1"}, "data": 2},
		map[string]any{"subscription": "news.n1", "data": 3},
	}})
	if code != http.StatusOK || !jsonEqualAny(ans["offsets"], []any{map[string]any{}, map[string]any{}, map[string]any{}}) {
		t.Fatalf("batch: %d %v", code, ans)
	}
	for _, want := range []string{
		`{"subscription":"books.b1","data":1}`, `{"subscription":"news.n1","data":2}`,
		`{"subscription":"books.b1","data":2}`, `{"subscription":"news.n1","data":3}`,
	} {
		assertJSON(t, next(t, msgs).Payload, want)
	}

	code, ans = h.do("POST", "/api/publish_batch", map[string]any{"messages": []any{
		map[string]any{"subscription": "books.b1", "data": "not sent"},
		map[string]any{"subscription": "nosuch.x", "data": "bad"},
	}})
	if code != http.StatusBadRequest || !strings.Contains(ans["error"].(string), "messages[1].subscription") {
		t.Fatalf("batch with a bad message: %d %v", code, ans)
	}
	// A later publish arrives first: nothing of the refused batch was sent.
	if code, _ := h.do("POST", "/api/publish", `{"subscription":"books.b1","data":"after"}`); code != http.StatusOK {
		t.Fatal(code)
	}
	assertJSON(t, next(t, msgs).Payload, `{"subscription":"books.b1","data":"after"}`)
	none(t, msgs)
}

func TestPublishWhileRedisIsDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ready = func() error { return errDown }
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/publish", `{"subscription":"books.b1","data":1}`},
		{"POST", "/api/publish_batch", `{"messages":[{"subscription":"books.b1","data":1}]}`},
		{"POST", "/api/disconnect", `{"session":"s1"}`},
		{"POST", "/api/unsubscribe", `{"session":"s1","subscription":"books.b1"}`},
		{"GET", "/api/info", ``},
	} {
		code, ans := h.do(c.method, c.path, c.body)
		if code != http.StatusServiceUnavailable || ans["status"] != "error" || !strings.Contains(ans["error"].(string), "redis is not connected") {
			t.Errorf("%s %s with Redis down: %d %v", c.method, c.path, code, ans)
		}
	}
	// Bad input is still a 400: the caller's mistake is named first.
	if code, _ := h.do("POST", "/api/publish", `{"subscription":"books.b1"}`); code != http.StatusBadRequest {
		t.Errorf("bad publish with Redis down: %d, want 400", code)
	}
}

// assertJSON compares a JSON text with the wanted one by meaning.
func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	if !control.JSONEqual(json.RawMessage(got), json.RawMessage(want)) {
		t.Errorf("got %s, want %s", got, want)
	}
}

// jsonEqualAny compares decoded JSON values.
func jsonEqualAny(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && control.JSONEqual(x, y)
}
