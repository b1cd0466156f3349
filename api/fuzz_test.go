package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/wsrouter/wsrouter/services"
)

// FuzzPublish feeds publish and publish_batch bodies to the validation:
// every body is either refused with a 400 that names a field, or turns
// into messages a router accepts (an object with the name and data).
func FuzzPublish(f *testing.F) {
	for _, seed := range []string{
		`{"subscription":"books.a","data":1}`,
		`{"subscriptions":["books.a","news.b"],"data":{"x":[1]},"options":{"order":1},"user_id":"u"}`,
		`{"subscription":"books.a"}`, `{"subscription":5,"data":1}`, `[]`, `{"subscriptions":[],"data":1}`,
		`{"messages":[{"subscription":"books.a","data":1},{"subscription":"x.y","data":1}]}`,
		`{"subscription":"_wsrouter.control","data":1}`, `{"subscription":"books.a\u0000","data":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	cfg := services.Default()
	cfg.Services["books"] = nil
	cfg.Services["news"] = &services.Service{}
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := parseObject("body", body)
		if err != nil {
			checkBadRequest(t, err)
			return
		}
		var groups [][]outgoing
		if raw, ok := o["messages"]; ok {
			var items []json.RawMessage
			if json.Unmarshal(raw, &items) != nil {
				return
			}
			for _, item := range items {
				io, err := parseObject("m", item)
				if err != nil {
					checkBadRequest(t, err)
					return
				}
				g, err := preparePublish(cfg, "m.", io, maxNames)
				if err != nil {
					checkBadRequest(t, err)
					return
				}
				groups = append(groups, g)
			}
		} else {
			g, err := preparePublish(cfg, "", o, maxNames)
			if err != nil {
				checkBadRequest(t, err)
				return
			}
			groups = append(groups, g)
		}
		for _, g := range groups {
			for _, m := range g {
				var top map[string]json.RawMessage
				if err := json.Unmarshal(m.payload, &top); err != nil {
					t.Fatalf("payload %s is not an object: %v", m.payload, err)
				}
				var name string
				if json.Unmarshal(top["subscription"], &name) != nil || name != m.name {
					t.Fatalf("payload %s does not carry its name %q", m.payload, m.name)
				}
				if _, ok := top["data"]; !ok {
					t.Fatalf("payload %s has no data", m.payload)
				}
				if _, ok := top["subscriptions"]; ok {
					t.Fatalf("payload %s keeps subscriptions", m.payload)
				}
			}
		}
	})
}

func checkBadRequest(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Text == "" {
		t.Fatalf("err = %v, want a 400 with a text", err)
	}
}
