package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestHostileRequests sends every endpoint malformed input: each answers
// its documented status with an error that names the field, and the API
// keeps serving.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	big := `{"subscription":"books.b1","data":"` + strings.Repeat("x", 2<<20) + `"}`
	var batch strings.Builder
	batch.WriteString(`{"messages":[`)
	for i := range 10001 {
		if i > 0 {
			batch.WriteByte(',')
		}
		batch.WriteString(`{"subscription":"books.b","data":1}`)
	}
	batch.WriteString(`]}`)
	manyNames := `{"subscriptions":[` + strings.TrimSuffix(strings.Repeat(`"books.x",`, 1001), ",") + `],"data":1}`

	tests := []struct {
		name, method, path, body string
		code                     int
		want                     string // in the error text
	}{
		// body shape, every endpoint
		{"publish not JSON", "POST", "/api/publish", `{"subscription":`, 400, "body: invalid JSON"},
		{"publish a list", "POST", "/api/publish", `[1,2]`, 400, "body: must be a JSON object, got a list"},
		{"publish a string", "POST", "/api/publish", `"hi"`, 400, "body: must be a JSON object, got a string"},
		{"publish empty body", "POST", "/api/publish", ``, 400, "body: must be a JSON object, got nothing"},
		{"publish trailing data", "POST", "/api/publish", `{"subscription":"books.b","data":1} {}`, 400, "body: invalid JSON"},
		{"publish 2 MiB", "POST", "/api/publish", big, 413, "body: larger than api.max_body_bytes (1048576 bytes)"},
		{"batch 2 MiB", "POST", "/api/publish_batch", `{"messages":[` + big + `]}`, 413, "larger than api.max_body_bytes"},
		{"disconnect not an object", "POST", "/api/disconnect", `null`, 400, "body: must be a JSON object, got null"},
		{"unsubscribe not JSON", "POST", "/api/unsubscribe", `{{`, 400, "body: invalid JSON"},

		// publish fields
		{"publish no name", "POST", "/api/publish", `{"data":1}`, 400, "subscription: required (or subscriptions, a list of names)"},
		{"publish no data", "POST", "/api/publish", `{"subscription":"books.b"}`, 400, "data: required (null counts)"},
		{"publish name a number", "POST", "/api/publish", `{"subscription":5,"data":1}`, 400, "subscription: must be a string, got a number"},
		{"publish name empty", "POST", "/api/publish", `{"subscription":"","data":1}`, 400, "subscription: must not be empty"},
		{"publish name without topic", "POST", "/api/publish", `{"subscription":"books.","data":1}`, 400, `invalid subscription name "books."`},
		{"publish name without dot", "POST", "/api/publish", `{"subscription":"books","data":1}`, 400, "must be SERVICE.TOPIC"},
		{"publish name bad service chars", "POST", "/api/publish", `{"subscription":"bo oks.x","data":1}`, 400, "a service name has only letters"},
		{"publish unknown service", "POST", "/api/publish", `{"subscription":"nosuch.x","data":1}`, 400, `subscription: unknown service "nosuch"`},
		{"publish reserved service", "POST", "/api/publish", `{"subscription":"_wsrouter.control","data":1,"op":"disconnect"}`, 400, "is reserved"},
		{"publish both name fields", "POST", "/api/publish", `{"subscription":"books.a","subscriptions":["books.b"],"data":1}`, 400, "subscriptions: give subscription or subscriptions, not both"},
		{"publish names not a list", "POST", "/api/publish", `{"subscriptions":"books.a","data":1}`, 400, "subscriptions: must be a list of strings, got a string"},
		{"publish names empty", "POST", "/api/publish", `{"subscriptions":[],"data":1}`, 400, "subscriptions: must not be empty"},
		{"publish names hold a number", "POST", "/api/publish", `{"subscriptions":["books.a",1],"data":1}`, 400, "subscriptions[1]: must be a string, got a number"},
		{"publish names repeat", "POST", "/api/publish", `{"subscriptions":["books.a","books.a"],"data":1}`, 400, `subscriptions[1]: "books.a" is also at index 0`},
		{"publish names unknown service", "POST", "/api/publish", `{"subscriptions":["books.a","x.y"],"data":1}`, 400, `subscriptions[1]: unknown service "x"`},
		{"publish 1001 names", "POST", "/api/publish", manyNames, 400, "subscriptions: at most 1000 names in one call, got 1001"},
		{"publish options a list", "POST", "/api/publish", `{"subscription":"books.a","data":1,"options":[1]}`, 400, "options: must be an object, got a list"},
		{"publish published_at a number", "POST", "/api/publish", `{"subscription":"books.a","data":1,"published_at":5}`, 400, "published_at: must be an ISO 8601 date-time string"},

		// publish_batch
		{"batch no messages", "POST", "/api/publish_batch", `{}`, 400, "messages: required"},
		{"batch messages an object", "POST", "/api/publish_batch", `{"messages":{}}`, 400, "messages: must be a list of publish objects, got an object"},
		{"batch empty", "POST", "/api/publish_batch", `{"messages":[]}`, 400, "messages: must not be empty"},
		{"batch unknown field", "POST", "/api/publish_batch", `{"messages":[{"subscription":"books.a","data":1}],"mesages":1}`, 400, "mesages: unknown field; expected messages"},
		{"batch item not an object", "POST", "/api/publish_batch", `{"messages":[{"subscription":"books.a","data":1},7]}`, 400, "messages[1]: must be a JSON object, got a number"},
		{"batch item no data", "POST", "/api/publish_batch", `{"messages":[{"subscription":"books.a","data":1},{"subscription":"books.a"}]}`, 400, "messages[1].data: required"},
		{"batch 10001 items", "POST", "/api/publish_batch", batch.String(), 400, "messages: at most 1000 messages in one call, got 10001"},

		// disconnect
		{"disconnect nothing", "POST", "/api/disconnect", `{}`, 400, "match: required: match (auth fields and their values) or session"},
		{"disconnect both", "POST", "/api/disconnect", `{"session":"a","match":{"u":1}}`, 400, "session: give match or session, not both"},
		{"disconnect match empty", "POST", "/api/disconnect", `{"match":{}}`, 400, "match: must name at least one auth field"},
		{"disconnect match a list", "POST", "/api/disconnect", `{"match":[1]}`, 400, "match: must be an object of auth fields and their values, got a list"},
		{"disconnect session a number", "POST", "/api/disconnect", `{"session":12}`, 400, "session: must be a string, got a number"},
		{"disconnect unknown field", "POST", "/api/disconnect", `{"user_id":1}`, 400, "user_id: unknown field; expected match, session"},

		// unsubscribe
		{"unsubscribe no name", "POST", "/api/unsubscribe", `{"session":"a"}`, 400, "subscription: required"},
		{"unsubscribe bad name", "POST", "/api/unsubscribe", `{"session":"a","subscription":"books"}`, 400, `invalid subscription name "books"`},
		{"unsubscribe unknown service", "POST", "/api/unsubscribe", `{"session":"a","subscription":"x.y"}`, 400, `unknown service "x"`},
		{"unsubscribe no selector", "POST", "/api/unsubscribe", `{"subscription":"books.a"}`, 400, "match: required"},
		{"unsubscribe name a list", "POST", "/api/unsubscribe", `{"session":"a","subscription":["books.a"]}`, 400, "subscription: must be a string, got a list"},

		// history and presence
		{"history no name", "GET", "/api/history", ``, 400, "subscription: required query parameter"},
		{"history unknown service", "GET", "/api/history?subscription=x.y", ``, 400, `unknown service "x"`},
		{"history bad limit", "GET", "/api/history?subscription=books.a&limit=abc", ``, 400, `limit: must be a whole number from 1 to 1000, got "abc"`},
		{"history limit too big", "GET", "/api/history?subscription=books.a&limit=1001", ``, 400, "limit: must be a whole number from 1 to 1000"},
		{"history unknown parameter", "GET", "/api/history?subscription=books.a&offset=1", ``, 400, "offset: unknown query parameter"},
		{"history repeated parameter", "GET", "/api/history?subscription=books.a&subscription=books.b", ``, 400, "subscription: given more than once"},
		{"history without history", "GET", "/api/history?subscription=books.a", ``, 400, `subscription: service "books" keeps no history`},
		{"presence without presence", "GET", "/api/presence?subscription=books.a", ``, 400, `subscription: service "books" has no presence`},
		{"history empty since", "GET", "/api/history?subscription=log.a&since=", ``, 400, "since: must not be empty"},
		{"history garbage since", "GET", "/api/history?subscription=log.a&since=abc", ``, 400, `since: "abc" is not an offset this router handed out`},
		{"publish offset to history", "POST", "/api/publish", `{"subscription":"log.a","data":1,"offset":"1:1"}`, 400, "offset: is set by the router"},
		{"presence bad name", "GET", "/api/presence?subscription=books", ``, 400, "must be SERVICE.TOPIC"},

		// routing
		{"unknown path", "GET", "/api/nothing", ``, 404, "no such endpoint: /api/nothing"},
		{"root", "GET", "/", ``, 404, "no such endpoint"},
		{"publish with GET", "GET", "/api/publish", ``, 405, "method GET not allowed; use POST"},
		{"info with POST", "POST", "/api/info", `{}`, 405, "use GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, ans := h.do(tt.method, tt.path, tt.body)
			if code != tt.code || ans["status"] != "error" {
				t.Fatalf("%s %s: %d %v, want %d", tt.method, tt.path, code, ans, tt.code)
			}
			if msg, _ := ans["error"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q, want it to contain %q", msg, tt.want)
			}
		})
	}
	t.Cleanup(func() {
		// Still serving.
		if code, ans := h.do("POST", "/api/publish", `{"subscription":"books.a","data":1}`); code != http.StatusOK {
			t.Errorf("publish after the hostile requests: %d %v", code, ans)
		}
	})
}

func TestKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	publish := func(path, auth string) (int, string) {
		code, ans := h.doWith("POST", path, bytes.NewReader([]byte(`{"subscription":"books.a","data":1}`)), auth)
		msg, _ := ans["error"].(string)
		return code, msg
	}
	tests := []struct {
		name, path, auth string
		code             int
		want             string
	}{
		{"right key", "/api/publish", "Bearer " + testKey, 200, ""},
		{"scheme in lower case", "/api/publish", "bearer " + testKey, 200, ""},
		{"no header", "/api/publish", "", 401, "missing Authorization: Bearer KEY header"},
		{"wrong key", "/api/publish", "Bearer " + testKey + "x", 401, "invalid API key"},
		{"prefix of the key", "/api/publish", "Bearer " + testKey[:10], 401, "invalid API key"},
		{"empty key", "/api/publish", "Bearer ", 401, "invalid API key"},
		{"basic scheme", "/api/publish", "Basic " + testKey, 401, "invalid API key"},
		{"bare key", "/api/publish", testKey, 401, "invalid API key"},
		{"key in the query string", "/api/publish?key=" + testKey, "", 401, "never in the URL"},
		{"token in the query string", "/api/publish?access_token=" + testKey, "", 401, "never in the URL"},
		{"unknown path without key", "/api/nothing", "", 401, "missing Authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, msg := publish(tt.path, tt.auth)
			if code != tt.code || !strings.Contains(msg, tt.want) {
				t.Errorf("%d %q, want %d %q", code, msg, tt.code, tt.want)
			}
			if strings.Contains(msg, testKey[:10]) {
				t.Errorf("the error %q shows the key", msg)
			}
		})
	}
}

func TestKeysReloadAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const newKey = "new-key-abcdefghijkl"
	cfg := *h.cfg
	cfg.API.Keys = []string{newKey}
	h.api.Apply(&cfg)
	for _, c := range []struct {
		key  string
		code int
	}{{testKey, 401}, {newKey, 200}} {
		code, ans := h.doWith("GET", "/api/info", nil, "Bearer "+c.key)
		if code != c.code {
			t.Errorf("key %s after reload: %d %v, want %d", c.key[:4], code, ans, c.code)
		}
	}
}

func TestRequestsMetric(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do("POST", "/api/publish", `{"subscription":"books.a","data":1}`)
	h.do("POST", "/api/publish", `{}`)
	h.doWith("GET", "/api/whatever?key="+testKey, nil, "")
	h.doWith("GET", "/api/info", nil, "Bearer wrong-key-0000000000")
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "wsrouter_api_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
				if strings.Contains(l.GetValue(), "key") {
					t.Errorf("label %s=%q", l.GetName(), l.GetValue())
				}
			}
			got[fmt.Sprintf("%s %s", labels["endpoint"], labels["code"])] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"publish 200": 1, "publish 400": 1, "unknown 401": 1, "info 401": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("wsrouter_api_requests_total = %v, want %v", got, want)
	}
}

// TestChunkedBodyOverLimit sends a body of unknown length: it is cut at
// api.max_body_bytes while read.
func TestChunkedBodyOverLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := `{"subscription":"books.a","data":"` + strings.Repeat("x", 1<<20) + `"}`
	code, ans := h.doWith("POST", "/api/publish", io.MultiReader(strings.NewReader(body)), "Bearer "+testKey)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(ans["error"].(string), "larger than api.max_body_bytes") {
		t.Errorf("chunked body over the limit: %d %v", code, ans)
	}
}
