package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/wsrouter/wsrouter/presence"
)

func TestHistoryThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	msgs := h.listen(h.prefix + "log.a")

	// Publishes to a history service get offsets; the message on the
	// channel carries its offset.
	var offsets []string
	for i := 1; i <= 7; i++ {
		code, ans := h.do("POST", "/api/publish", map[string]any{"subscription": "log.a", "data": i})
		if code != http.StatusOK {
			t.Fatalf("publish %d: %d %v", i, code, ans)
		}
		off, _ := ans["offsets"].(map[string]any)["log.a"].(string)
		if off == "" {
			t.Fatalf("publish %d: no offset in %v", i, ans)
		}
		offsets = append(offsets, off)
		var top map[string]any
		if err := json.Unmarshal([]byte(next(t, msgs).Payload), &top); err != nil || top["offset"] != off || top["data"] != float64(i) {
			t.Fatalf("published %v, want data %d with offset %s", top, i, off)
		}
	}
	code, ans := h.do("POST", "/api/publish_batch", `{"messages":[{"subscription":"news.x","data":0},{"subscription":"log.a","data":8}]}`)
	if code != http.StatusOK {
		t.Fatalf("batch: %d %v", code, ans)
	}
	list := ans["offsets"].([]any)
	if len(list[0].(map[string]any)) != 0 || list[1].(map[string]any)["log.a"] == "" {
		t.Errorf("batch offsets %v, want {} and one for log.a", list)
	}
	newest := list[1].(map[string]any)["log.a"].(string)
	offsets = append(offsets, newest)

	read := func(query string) map[string]any {
		t.Helper()
		code, ans := h.do("GET", "/api/history?subscription=log.a"+query, nil)
		if code != http.StatusOK || ans["offset"] != newest {
			t.Fatalf("history%s: %d %v, want offset %s", query, code, ans, newest)
		}
		return ans
	}
	data := func(ans map[string]any) string {
		var out []any
		for _, m := range ans["messages"].([]any) {
			out = append(out, m.(map[string]any)["data"])
		}
		return fmt.Sprint(out)
	}
	// Size 5: the newest five are kept.
	if got := read(""); data(got) != "[4 5 6 7 8]" || got["recovered"] != nil {
		t.Errorf("history: %v", got)
	}
	if got := read("&limit=2"); data(got) != "[7 8]" {
		t.Errorf("history limit 2: %v", got)
	}
	if got := read("&since=" + url.QueryEscape(offsets[4])); data(got) != "[6 7 8]" || got["recovered"] != true {
		t.Errorf("history since the 5th: %v", got)
	}
	if got := read("&since=" + url.QueryEscape(offsets[4]) + "&limit=1"); data(got) != "[6]" {
		t.Errorf("history since the 5th, limit 1: %v", got)
	}
	if got := read("&since=" + url.QueryEscape(offsets[0])); data(got) != "[]" || got["recovered"] != false {
		t.Errorf("history since a message no longer kept: %v", got)
	}
	if got := read("&since=" + url.QueryEscape(newest)); data(got) != "[]" || got["recovered"] != true {
		t.Errorf("history since the newest: %v", got)
	}
	if got := read("&since=1:1"); got["recovered"] != false {
		t.Errorf("history since another epoch: %v", got)
	}

	// An empty history has an offset too.
	code, ans = h.do("GET", "/api/history?subscription=log.empty", nil)
	if code != http.StatusOK || ans["offset"] == "" || len(ans["messages"].([]any)) != 0 {
		t.Errorf("empty history: %d %v", code, ans)
	}
}

func TestPresenceThroughTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tr, err := presence.New(presence.Options{Client: h.rdb, Prefix: h.prefix, NodeID: "other-node"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, m := range []string{`{"user_id":2}`, `{"user_id":1}`} {
		if err := tr.Add(ctx, "chat.room", m, false); err != nil {
			t.Fatal(err)
		}
	}
	code, ans := h.do("GET", "/api/presence?subscription=chat.room", nil)
	if code != http.StatusOK || !jsonEqualAny(ans["members"], []any{map[string]any{"user_id": 1}, map[string]any{"user_id": 2}}) {
		t.Errorf("presence: %d %v", code, ans)
	}
	code, ans = h.do("GET", "/api/presence?subscription=chat.empty", nil)
	if code != http.StatusOK || !jsonEqualAny(ans["members"], []any{}) {
		t.Errorf("presence of an empty room: %d %v", code, ans)
	}
}
